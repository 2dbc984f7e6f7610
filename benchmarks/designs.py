"""Categorical designs (issue 22): jaxglm's :class:`jaxglm.Design` against glum (tabmat).

The problem: ``n`` rows (default 10^6), 20 dense columns, one categorical of 10,000 levels
and one of 100, Poisson with an exposure, float64 on the CPU. Its one-hot design would be
n x 10,119 dense (80 GB at n = 10^6): out of reach for every dense library.

Run from the repository root::

    python -m benchmarks.designs --n 100000          # reduced size first
    python -m benchmarks.designs                     # the issue's size
    python -m benchmarks.designs --crossover         # dense Newton solve vs elimination

The rule (:mod:`benchmarks.rule`): each tool runs down its own tolerance ladder (glum's
``gradient_tol`` from 1e-2, jaxglm's Newton ``tol`` from 1e-6) and the loosest rung whose
dense slopes are within :data:`TARGET` of the reference is kept; the reference is glum's
tight fit (``gradient_tol=1e-10``). Each tool's runs happen in a fresh process of their
own (one per rung), so that its peak resident memory (``ru_maxrss``, data generation
included: the same for both) is its own; the time is the median of ``--repeats`` fits after
a first (compiling) fit, with jaxglm's first fit reported apart. jaxglm's ladder fits with
``cov_type="none"``; at its kept rung it is run again with the default covariance
(standard errors of every level, kept in block form: no (p+1) x (p+1) matrix either; README,
"Categorical and sparse designs"). The load average is recorded before and after. Prints a
Markdown section for ``benchmarks/RESULTS.md``.

``--crossover``: one categorical block of ``L`` levels and 20 dense columns, n = 100,000:
the warm fit time with the Gram formed whole (``eliminate=None``) and with the block
eliminated (its Schur complement factored), for ``L`` from 100 to 3,000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from benchmarks import rule

TARGET = 1e-4
"""Largest absolute difference of the dense slopes from the reference."""

DENSE, LEVELS = 20, (10_000, 100)


def problem(n: int, levels: tuple[int, ...] = LEVELS, dense: int = DENSE, seed: int = 0):
    """The seeded problem: ``(X dense (n, d), codes per categorical, y, exposure)``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dense)) * 0.5
    codes = [rng.integers(0, L, n).astype(np.int32) for L in levels]
    exposure = rng.uniform(0.5, 2.0, n)
    eta = 0.2 + X @ np.linspace(-0.3, 0.3, dense) + np.log(exposure)
    for c, L in zip(codes, levels, strict=True):
        eta += rng.normal(scale=0.3, size=L)[c]
    y = rng.poisson(np.exp(eta)).astype(float)
    return X, codes, y, exposure


def fit_jaxglm(
    n: int, tol: float, repeats: int, eliminate: str | None, levels=LEVELS, cov_type="none"
):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jaxglm as jg

    X, codes, y, exposure = problem(n, levels)
    names = [f"c{j}" for j in range(len(codes))]
    design = jg.design(
        X, [jg.categorical(c, levels=[str(i) for i in range(L)], name=nm)
            for c, L, nm in zip(codes, levels, names, strict=True)],
        eliminate=eliminate,
    )  # fmt: skip

    def once():
        res = jg.fit(design, y, family=jg.Poisson(), exposure=exposure, tol=tol, cov_type=cov_type)
        return jax.block_until_ready(res)

    start = time.perf_counter()
    res = once()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        res = once()
        times.append(time.perf_counter() - start)
    return dict(
        time=statistics.median(times), first=first, n_iter=int(res.n_iter),
        converged=bool(res.converged), slopes=np.asarray(res.coef[:DENSE]).tolist(),
        finite_bse=bool(np.isfinite(np.asarray(res.bse)).all()),
    )  # fmt: skip


def fit_glum(n: int, tol: float, repeats: int):
    import pandas as pd
    from glum import GeneralizedLinearRegressor

    X, codes, y, exposure = problem(n)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for j, (c, L) in enumerate(zip(codes, LEVELS, strict=True)):
        frame[f"c{j}"] = pd.Categorical.from_codes(c, categories=[str(i) for i in range(L)])

    def once():
        model = GeneralizedLinearRegressor(
            family="poisson", alpha=0, gradient_tol=tol, drop_first=True, max_iter=1000
        )
        return model.fit(frame, y, offset=np.log(exposure))

    times = []
    model = once()
    for _ in range(repeats):
        start = time.perf_counter()
        model = once()
        times.append(time.perf_counter() - start)
    return dict(
        time=statistics.median(times) if times else float("nan"), n_iter=int(model.n_iter_),
        slopes=np.asarray(model.coef_[:DENSE]).tolist(),
    )  # fmt: skip


def worker(args) -> None:
    """One tool at one tolerance, in this process: print its JSON line."""
    if args.worker == "glum":
        out = fit_glum(args.n, args.tol, args.repeats)
    else:
        levels = LEVELS if args.levels is None else (args.levels,)
        eliminate = None if args.worker == "jaxglm-dense-solve" else "c0"
        out = fit_jaxglm(args.n, args.tol, args.repeats, eliminate, levels, args.cov_type)
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(out))


def run_worker(
    tool: str, n: int, tol: float, repeats: int, levels: int | None = None, cov_type: str = "none"
) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.designs", "--worker", tool, "--n", str(n),
           "--tol", repr(tol), "--repeats", str(repeats), "--cov-type", cov_type]  # fmt: skip
    if levels is not None:
        cmd += ["--levels", str(levels)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> float:
    return os.getloadavg()[0]


def headline(n: int, repeats: int) -> str:
    load_before = load()
    reference = run_worker("glum", n, 1e-10, 0)
    ref = np.asarray(reference["slopes"])
    rows = []
    for tool, default in (("jaxglm", 1e-8), ("glum", 1e-4)):
        for tol in rule.ladder(default, decades=4):
            out = run_worker(tool, n, tol, repeats)
            err = float(np.max(np.abs(np.asarray(out["slopes"]) - ref)))
            if err <= TARGET:
                rows.append((tool, tol, out, err))
                break
        else:
            rows.append((tool, tol, out, err))
        if tool == "jaxglm":  # the kept rung with standard errors of every level
            out = run_worker(tool, n, tol, repeats, cov_type="nonrobust")
            err = float(np.max(np.abs(np.asarray(out["slopes"]) - ref)))
            rows.append(("jaxglm, cov_type='nonrobust'", tol, out, err))
    load_after = load()
    lines = [
        f"### Categorical design (issue 22): n = {n:,}, {DENSE} dense + {LEVELS[0]:,} + "
        f"{LEVELS[1]} levels, Poisson with exposure, float64, CPU",
        "",
        f"Command: `python -m benchmarks.designs --n {n}`; load {load_before:.1f} before, "
        f"{load_after:.1f} after ({os.cpu_count()} cores). Target: dense slopes within "
        f"{TARGET:g} of glum's `gradient_tol=1e-10` fit; loosest rung of each ladder.",
        "",
        "| tool | tol | fit (s, median) | first fit (s) | iterations | max slope error | "
        "peak RSS (GB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for tool, tol, out, err in rows:
        first = f"{out['first']:.2f}" if "first" in out else "-"
        lines.append(
            f"| {tool} | {tol:g} | {out['time']:.2f} | {first} | {out['n_iter']} | {err:.1e} | "
            f"{out['peak_rss_gb']:.2f} |"
        )
    gigabytes = n * (DENSE + sum(LEVELS) - len(LEVELS)) * 8 / 1e9
    lines += [
        f"| dense one-hot (any dense library) | - | out of reach: X alone is {gigabytes:.0f} GB "
        "| | | | |",
        "",
    ]
    return "\n".join(lines)


def crossover(repeats: int, n: int = 100_000) -> str:
    load_before = load()
    lines = [
        f"### Dense Newton solve vs elimination of a categorical block: n = {n:,}, {DENSE} "
        "dense columns + one block of L levels, Poisson, float64, CPU",
        "",
        f"Command: `python -m benchmarks.designs --crossover`; warm fit, median of {repeats}.",
        "",
        "| L | whole Gram (s) | eliminated (s) | iterations |",
        "|---|---|---|---|",
    ]
    for L in (100, 300, 1000, 3000):
        whole = run_worker("jaxglm-dense-solve", n, 1e-8, repeats, L)
        elim = run_worker("jaxglm", n, 1e-8, repeats, L)
        lines.append(f"| {L:,} | {whole['time']:.3f} | {elim['time']:.3f} | {elim['n_iter']} |")
    lines += [
        "",
        f"Load {load_before:.1f} before, {load():.1f} after ({os.cpu_count()} cores).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tol", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--levels", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cov-type", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    elif args.crossover:
        print(crossover(args.repeats))
    else:
        print(headline(args.n, args.repeats))


if __name__ == "__main__":
    main()
