"""float32, ``precision="mixed"`` and float64 Newton fits of the same data, side by side.

For each problem of :mod:`benchmarks.problems` (logistic and Poisson, well- and
ill-conditioned; n = 1,000,000 and p = 100 by default) the design is rounded to float32
once, and three fits of that same data are timed in one process:

- ``float64``: ``jg.fit`` of the rounded design held in float64 (the baseline);
- ``float32``: the float32 design and response (float32 arithmetic throughout);
- ``mixed``: the float32 design with ``precision="mixed"`` (float32 products, float64 sums,
  solve and statistics).

Each is called once (its first call in this process: tracing, compiling and fitting),
then the three are called in turn ``--repeats`` times (interleaved, so that the shared
machine's changing load falls on all three alike; the warm time is each one's fastest).
The arrays are put on the device once beforehand (``jax.Array`` inputs are not padded to
size buckets, so no host copy is timed). Accuracy is against the float64 fit of the same
rounded data at ``tol=1e-12``: the elementwise relative error of ``params`` and ``bse``
(|ref| floored at 1e-8 of the vector's largest, as tests/test_references.py), and of
``params`` normwise (the largest error over the largest entry: the elementwise error of a
coefficient near 0 says little). The load
per core is printed before and after each problem's timed calls.

Usage::

    python -m benchmarks.precision                 # n = 1,000,000 (about 10 GB, minutes)
    python -m benchmarks.precision --quick         # n = 100,000
    python -m benchmarks.precision --only logistic_well
    python -m benchmarks.precision --passes        # the mixed passes' block size, by p

``--passes`` times the two passes over ``X`` alone (``X @ v`` and ``[sum(r), r @ X]``, as
:mod:`jaxglm._linalg` runs them) on a random float32 ``X`` of 10^8 entries for p = 10, 30,
100 and 1,000: float64 (a float64 copy of ``X``), float32, and mixed with blocks of 4,096
rows (the size before 2026-12-07) or of ``2^k`` entries (``WIDENED_BLOCK_ELEMENTS``), each
compiled on its own and timed in interleaved rounds (the fastest of ``--repeats``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

import jax
import numpy as np

from benchmarks.problems import CONDITIONINGS, N_FULL, N_QUICK, ProblemSpec, load_problem
from benchmarks.rule import load_note, load_per_core

FAMILIES = ("logistic", "poisson")
SETTINGS = ("float64", "float32", "mixed")


def rel_err(got, ref) -> float:
    """Elementwise relative error, |ref| floored at 1e-8 of its largest entry."""
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    floor = 1e-8 * np.max(np.abs(ref))
    return float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), floor)))


def seconds(fit):
    """``(result, seconds)`` of one call, waited for."""
    start = time.perf_counter()
    res = jax.block_until_ready(fit())
    return res, time.perf_counter() - start


def norm_err(got, ref) -> float:
    """``max |got - ref| / max |ref|``: the error relative to the largest entry."""
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def timed(fits: dict, repeats: int) -> dict:
    """``{name: (result, first call s, fastest repeat s)}``: the first calls in turn, then
    ``repeats`` rounds calling every fit once each (interleaved, so that a change of the
    machine's load falls on all settings alike)."""
    first = {name: seconds(fit) for name, fit in fits.items()}
    warm = {name: [] for name in fits}
    for _ in range(repeats):
        for name, fit in fits.items():
            warm[name].append(seconds(fit)[1])
    return {name: (first[name][0], first[name][1], min(warm[name])) for name in fits}


def run_problem(spec: ProblemSpec, repeats: int) -> list[str]:
    """The table rows of one problem."""
    import jax.numpy as jnp

    import jaxglm as jg

    problem = load_problem(spec)
    family = jg.Bernoulli() if spec.family == "logistic" else jg.Poisson()
    X32 = jnp.asarray(problem.X, np.float32)
    y32 = jnp.asarray(problem.y, np.float32)
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    fits = {
        "float64": lambda: jg.fit(X64, y64, family),
        "float32": lambda: jg.fit(X32, y32, family),
        "mixed": lambda: jg.fit(X32, y64, family, precision="mixed"),
    }
    before = load_per_core()
    runs = timed(fits, repeats)
    after = load_per_core()
    ref = jg.fit(X64, y64, family, tol=1e-12)
    base = runs["float64"][2]
    rows = []
    for name in SETTINGS:
        res, first, warm = runs[name]
        rows.append(
            f"| {spec.name} | {name} | {first:.2f} | {warm:.2f} | {warm / base:.2f} | "
            f"{int(res.n_iter)} | {res.status.name} | {rel_err(res.params, ref.params):.1e} | "
            f"{norm_err(res.params, ref.params):.1e} | {rel_err(res.bse, ref.bse):.1e} |"
        )
    rows.append(f"| {spec.name} | load | {load_note(before, after)} | | | | | | | |")
    return rows


PASS_PS = (10, 30, 100, 1000)
PASS_ELEMENTS = 10**8


def run_passes(repeats: int) -> list[str]:
    """The table rows of ``--passes`` (module docs): milliseconds per pass."""
    import jax.numpy as jnp

    from jaxglm import _linalg

    settings = ["float64", "float32", "mixed 4,096 rows"] + [f"mixed 2^{k}" for k in (18, 20, 22)]
    rows = [
        "| p | n | pass | " + " | ".join(settings) + " |",
        "|---:|---:|---|" + "---:|" * len(settings),
    ]
    default = _linalg.WIDENED_BLOCK_ELEMENTS
    for p in PASS_PS:
        n = PASS_ELEMENTS // p
        rng = np.random.default_rng(p)
        X32 = jnp.asarray(rng.standard_normal((n, p), dtype=np.float32))
        X64 = X32.astype(jnp.float64)
        v, r = jnp.asarray(rng.standard_normal(p)), jnp.asarray(rng.standard_normal(n))
        calls = {}
        for setting in settings:
            X, dtype = (X64, None) if setting == "float64" else (X32, None)
            if setting == "float32":
                dtype = jnp.float32
            elements = 4096 * p if "4,096" in setting else default
            if "^" in setting:
                elements = 2 ** int(setting.split("^")[1])
            _linalg.WIDENED_BLOCK_ELEMENTS = elements  # read when the pass is traced
            for name, fn, arg in (("X @ v", _linalg.times, v), ("r @ X", _linalg.score, r)):
                arg = arg if dtype is None else arg.astype(dtype)
                compiled = jax.jit(lambda X, a, fn=fn: fn(X, a)).lower(X, arg).compile()
                calls[(name, setting)] = (compiled, X, arg)
        _linalg.WIDENED_BLOCK_ELEMENTS = default
        best = dict.fromkeys(calls, float("inf"))
        for _ in range(repeats):
            for key, (compiled, X, arg) in calls.items():
                start = time.perf_counter()
                jax.block_until_ready(compiled(X, arg))
                best[key] = min(best[key], time.perf_counter() - start)
        for name in ("X @ v", "r @ X"):
            cells = " | ".join(f"{1e3 * best[(name, s)]:.1f}" for s in settings)
            rows.append(f"| {p:,} | {n:,} | {name} | {cells} |")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"n = {N_QUICK:,}")
    parser.add_argument("--n", type=int, default=None, help=f"rows (default {N_FULL:,})")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="e.g. logistic_well")
    parser.add_argument("--passes", action="store_true", help="the mixed passes' block size")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)  # a script, not the library: float64 exists
    warnings.simplefilter("ignore")  # a failed fit shows in its status column
    n = args.n or (N_QUICK if args.quick else N_FULL)
    print(f"`{' '.join(['python -m benchmarks.precision', shlex.join(sys.argv[1:])]).strip()}`")
    print()
    if args.passes:
        before = load_per_core()
        for row in run_passes(args.repeats):
            print(row, flush=True)
        print(f"\n{load_note(before, load_per_core())}")
        return
    print("| problem | setting | first call s | warm s | / float64 | iterations | status "
          "| params err | params err (normwise) | bse err |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for conditioning in CONDITIONINGS:
        for family in FAMILIES:
            if args.only and f"{family}_{conditioning}" not in args.only:
                continue
            for row in run_problem(ProblemSpec(family, conditioning, n), args.repeats):
                print(row, flush=True)


if __name__ == "__main__":
    main()
