"""Elastic-net path and CV timing (issue 6): ``python -m benchmarks.enet_path [--quick]``.

Logistic regression, n = 100,000, p = 200 Gaussian features (seeded, 20 non-zero true
coefficients), l1_ratio = 0.5, 100 alphas from alpha_max down to 1e-3 of it (glmnet's
grid, computed by jaxglm and handed to glum, so both fit the same alphas), float64. Tools:
glum's ``GeneralizedLinearRegressor(alpha_search=True, alphas=...)`` at its default
tolerance (warm-started path; same objective), jaxglm ``path`` (warm starts in one
``lax.scan``) at KKT tolerances 5e-6 (its error is then at most glum's: equal accuracy),
1e-6 and 1e-7 (the default), and jaxglm ``cv`` with 5 folds (the folds and the full-data
path as one vmap, and the refit, as a user calls it) at 5e-6 and 1e-7.

Accuracy: the largest ``|beta_j - beta*_j|`` over all alphas and coefficients against glum
at ``gradient_tol=1e-10``. Timing: after a warm-up call (its excess over the fastest run
is reported as compile time; the tolerance is traced, so the second tolerance reuses the
first one's program), the tools take turns for ``--rounds`` rounds and each keeps
its fastest round (robust to a shared machine's load drifting; :mod:`benchmarks.interleaved`).
Beside it, every tool's first call in a fresh process (import, conversion, compile, fit;
:mod:`benchmarks.first_call`), with and without JAX's persistent compilation cache, and
the load before and after (:mod:`benchmarks.rule`). ``--cores 0,1`` pins every tool
(:func:`benchmarks.rule.pin`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

import numpy as np

from benchmarks.first_call import measure_script
from benchmarks.rule import (
    add_first_call_option,
    load_note,
    load_per_core,
    parse_pinned,
)

L1_RATIO = 0.5


def make_data(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:20] = rng.standard_normal(20) * 0.5
    y = (X @ beta + rng.logistic(size=n) > 0).astype(float)
    return X, y


def glum_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float | None) -> np.ndarray:
    """glum's warm-started path over ``alphas`` (its default tolerance when ``tol`` is None):
    the coefficients, (alphas, p)."""
    from glum import GeneralizedLinearRegressor

    kw = {} if tol is None else {"gradient_tol": tol}
    model = GeneralizedLinearRegressor(
        family="binomial", l1_ratio=L1_RATIO, alpha_search=True, alphas=alphas, **kw
    )
    return model.fit(X, y).coef_path_


def jaxglm_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float | None) -> object:
    """``jaxglm.path`` over ``alphas`` (NumPy arrays in, as a user calls it): the coefficients."""
    import jax

    import jaxglm as jg

    fam = jg.Bernoulli()
    return jax.block_until_ready(jg.path(X, y, fam, l1_ratio=L1_RATIO, alphas=alphas, tol=tol).coef)


def jaxglm_cv(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float | None) -> object:
    """``jaxglm.cv`` with 5 folds over ``alphas``: the folds' deviances."""
    import jax

    import jaxglm as jg

    res = jg.cv(X, y, jg.Bernoulli(), l1_ratio=L1_RATIO, alphas=alphas, n_folds=5, tol=tol)
    return jax.block_until_ready(res.fold_deviance)


#: The fits a tool calls, by kind (also what ``first_call`` runs in a fresh process).
FITS = {"glum path": glum_path, "jaxglm path": jaxglm_path, "jaxglm cv": jaxglm_cv}


def first_call(tool: str, data: dict[str, np.ndarray], options: dict) -> None:
    """One tool's fit, for :func:`benchmarks.first_call.measure_script` (in a fresh process)."""
    FITS[tool](data["X"], data["y"], data["alphas"], options["tol"])


def seconds(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.enet_path")
    parser.add_argument("--quick", action="store_true", help="n = 10,000, p = 50")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds")
    parser.add_argument("--no-cv", action="store_true", help="time the paths only")
    add_first_call_option(parser)
    args = parse_pinned(parser, argv)
    import jax

    from benchmarks.machine import describe_machine

    jax.config.update("jax_enable_x64", True)
    import jaxglm as jg

    machine = describe_machine()
    n, p = (10_000, 50) if args.quick else (100_000, 200)
    X, y = make_data(n, p)
    alphas = np.asarray(
        jg.path(X, y, jg.Bernoulli(), l1_ratio=L1_RATIO, n_alphas=100, alpha_min_ratio=1e-3).alphas
    )
    glum_default = "glum path (alpha_search, default tol)"
    tools = {  # name -> (kind, tol)
        glum_default: ("glum path", None),
        "jaxglm path, tol 5e-6": ("jaxglm path", 5e-6),
        "jaxglm path, tol 1e-6": ("jaxglm path", 1e-6),
        "jaxglm path, tol 1e-7": ("jaxglm path", 1e-7),
    }
    if not args.no_cv:
        tools["jaxglm cv, 5 folds, tol 5e-6"] = ("jaxglm cv", 5e-6)
        tools["jaxglm cv, 5 folds, tol 1e-7"] = ("jaxglm cv", 1e-7)
    load_before = load_per_core()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glum_tight_s, ref = seconds(lambda: glum_path(X, y, alphas, 1e-10))
        first, outs, times = {}, {}, {name: [] for name in tools}
        for name, (kind, tol) in tools.items():
            first[name], outs[name] = seconds(lambda k=kind, t=tol: FITS[k](X, y, alphas, t))
        for _ in range(args.rounds):
            for name, (kind, tol) in tools.items():
                times[name].append(seconds(lambda k=kind, t=tol: FITS[k](X, y, alphas, t))[0])
    fresh = {}
    if args.first_call:
        data = {"X": X, "y": y, "alphas": alphas}
        for name, (kind, tol) in tools.items():
            uses_jax = kind.startswith("jaxglm")
            fresh[name] = measure_script("benchmarks.enet_path", kind, data, {"tol": tol}, uses_jax)
            print(
                f"[{time.strftime('%H:%M:%S')}] {name}: first call {fresh[name]}", file=sys.stderr
            )
    load_after = load_per_core()

    base = min(times[glum_default])
    base_first = fresh[glum_default][0] if fresh else None
    command = shlex.join(["python", "-m", "benchmarks.enet_path", *argv])
    print(f"Command: `{command}`\n")
    print("\n".join(machine) + "\n")
    print(f"n = {n:,}, p = {p}, 100 alphas down to 1e-3 alpha_max, l1_ratio = {L1_RATIO}, "
          f"float64; fastest of {args.rounds} interleaved rounds; first call: import, "
          "conversion, compile and fit in a fresh process (benchmarks.first_call), 'cached' "
          "with JAX's persistent compilation cache filled by an earlier process")  # fmt: skip
    print(f"\n{load_note(load_before, load_after)}")
    print("\n| tool | fit (s) | compile (s) | x glum path | first call (s) | cached (s) "
          "| first x glum's | max abs error vs glum tight |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (kind, _) in tools.items():
        best = min(times[name])
        compile_s = "-" if kind == "glum path" else f"{max(first[name] - best, 0.0):.1f}"
        err = "-" if kind == "jaxglm cv" else f"{np.max(np.abs(np.asarray(outs[name]) - ref)):.1e}"
        one, cached = fresh.get(name, (None, None))
        print(f"| {name} | {best:.3g} | {compile_s} | {best / base:.2f} | {_s(one)} | "
              f"{_s(cached)} | {_ratio(one, base_first)} | {err} |")  # fmt: skip
    print(f"| glum path, gradient_tol 1e-10 (the reference) | {glum_tight_s:.3g} | - | "
          f"{glum_tight_s / base:.2f} | - | - | - | 0 |")  # fmt: skip


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or base is None else f"{value / base:.2f}"


if __name__ == "__main__":
    main()
