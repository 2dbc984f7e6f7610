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
"""

from __future__ import annotations

import argparse
import time
import warnings

import jax
import numpy as np


def make_data(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:20] = rng.standard_normal(20) * 0.5
    y = (X @ beta + rng.logistic(size=n) > 0).astype(float)
    return X, y


def seconds(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.enet_path")
    parser.add_argument("--quick", action="store_true", help="n = 10,000, p = 50")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds")
    parser.add_argument("--no-cv", action="store_true", help="time the paths only")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    from glum import GeneralizedLinearRegressor

    import jaxglm as jg

    n, p = (10_000, 50) if args.quick else (100_000, 200)
    X, y = make_data(n, p)
    fam, ratio = jg.Bernoulli(), 0.5
    alphas = np.asarray(
        jg.path(X, y, fam, l1_ratio=ratio, n_alphas=100, alpha_min_ratio=1e-3).alphas
    )

    def glum(tol=None):
        kw = {} if tol is None else {"gradient_tol": tol}
        m = GeneralizedLinearRegressor(
            family="binomial", l1_ratio=ratio, alpha_search=True, alphas=alphas, **kw
        )
        return m.fit(X, y).coef_path_

    def path(tol):
        return lambda: jax.block_until_ready(
            jg.path(X, y, fam, l1_ratio=ratio, alphas=alphas, tol=tol).coef
        )

    def folds(tol):
        return lambda: jax.block_until_ready(
            jg.cv(X, y, fam, l1_ratio=ratio, alphas=alphas, n_folds=5, tol=tol).fold_deviance
        )

    tools = {
        "glum path (alpha_search, default tol)": glum,
        "jaxglm path, tol 5e-6": path(5e-6),
        "jaxglm path, tol 1e-6": path(1e-6),
        "jaxglm path, tol 1e-7": path(1e-7),
    }
    if not args.no_cv:
        tools["jaxglm cv, 5 folds, tol 5e-6"] = folds(5e-6)
        tools["jaxglm cv, 5 folds, tol 1e-7"] = folds(1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glum_tight_s, ref = seconds(lambda: glum(1e-10))
        first, outs, times = {}, {}, {name: [] for name in tools}
        for name, fn in tools.items():
            first[name], outs[name] = seconds(fn)
        for _ in range(args.rounds):
            for name, fn in tools.items():
                times[name].append(seconds(fn)[0])

    base = min(times["glum path (alpha_search, default tol)"])
    print(f"n = {n:,}, p = {p}, 100 alphas down to 1e-3 alpha_max, l1_ratio = {ratio}, float64;"
          f" fastest of {args.rounds} interleaved rounds")  # fmt: skip
    print("\n| tool | fit (s) | compile (s) | x glum path | max abs error vs glum tight |")
    print("|---|---:|---:|---:|---:|")
    for name in tools:
        best = min(times[name])
        compile_s = "-" if name.startswith("glum") else f"{max(first[name] - best, 0.0):.1f}"
        err = "-" if "cv" in name else f"{np.max(np.abs(np.asarray(outs[name]) - ref)):.1e}"
        print(f"| {name} | {best:.3g} | {compile_s} | {best / base:.2f} | {err} |")
    print(f"| glum path, gradient_tol 1e-10 (the reference) | {glum_tight_s:.3g} | - | "
          f"{glum_tight_s / base:.2f} | 0 |")  # fmt: skip


if __name__ == "__main__":
    main()
