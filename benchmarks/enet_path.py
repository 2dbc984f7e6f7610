"""Elastic-net path and CV timing (issue 6): ``python -m benchmarks.enet_path [--quick]``.

Logistic regression, n = 100,000, p = 200 Gaussian features (seeded, 20 non-zero true
coefficients), l1_ratio = 0.5, 100 alphas from alpha_max down to 1e-3 of it (glmnet's
grid, computed by jaxglm and handed to glum, so both fit the same alphas). Tools: jaxglm
``path`` (warm starts in one ``lax.scan``; compile reported apart), glum's
``GeneralizedLinearRegressor(alpha_search=True, alphas=...)`` (warm-started path; same
objective), and jaxglm ``cv`` with 5 folds (folds under vmap). Accuracy: the largest
``max_j |beta_j - beta*_j|`` over the alphas, against glum at ``gradient_tol=1e-10``.
Median of ``--repeats`` runs (one fewer for CV) after a warm-up.
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


def timed(fn, repeats: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.enet_path")
    parser.add_argument("--quick", action="store_true", help="n = 10,000, p = 50")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median)")
    parser.add_argument("--no-cv", action="store_true", help="time the paths only")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    from glum import GeneralizedLinearRegressor

    import jaxglm as jg

    n, p = (10_000, 50) if args.quick else (100_000, 200)
    X, y = make_data(n, p)
    fam, ratio = jg.Bernoulli(), 0.5

    def ours():
        res = jg.path(X, y, fam, l1_ratio=ratio, n_alphas=100, alpha_min_ratio=1e-3)
        return jax.block_until_ready(res)

    start = time.perf_counter()
    ours()
    first_s = time.perf_counter() - start
    run_s, res = timed(ours, args.repeats)
    alphas = np.asarray(res.alphas)

    def glum(tol=None):
        kw = {} if tol is None else {"gradient_tol": tol}
        m = GeneralizedLinearRegressor(
            family="binomial", l1_ratio=ratio, alpha_search=True, alphas=alphas, **kw
        )
        return m.fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = glum(1e-10)
        glum_s, g = timed(glum, args.repeats)

        def folds():
            return jax.block_until_ready(
                jg.cv(X, y, fam, l1_ratio=ratio, alphas=alphas, n_folds=5).fold_deviance
            )

        cv_first = cv_s = float("nan")
        if not args.no_cv:
            start = time.perf_counter()
            folds()
            cv_first = time.perf_counter() - start
            cv_s, _ = timed(folds, max(1, args.repeats - 1))

    ref_coef = np.asarray(ref.coef_path_)  # (alphas, p); intercepts in intercept_path_

    def err(coef):
        return float(np.max(np.abs(np.asarray(coef) - ref_coef)))

    print(f"n = {n:,}, p = {p}, 100 alphas down to 1e-3 alpha_max, l1_ratio = {ratio}, float64")
    print("\n| tool | fit (s) | compile (s) | x glum path | max abs error vs glum tight |")
    print("|---|---:|---:|---:|---:|")
    print(f"| jaxglm path | {run_s:.3g} | {first_s - run_s:.2f} | {run_s / glum_s:.2f} | "
          f"{err(res.coef):.1e} |")  # fmt: skip
    print(f"| glum path (alpha_search) | {glum_s:.3g} | - | 1.00 | "
          f"{err(g.coef_path_):.1e} |")  # fmt: skip
    print(f"| jaxglm cv, 5 folds | {cv_s:.3g} | {cv_first - cv_s:.2f} | {cv_s / glum_s:.2f} | - |")
    statuses = sorted(set(np.asarray(res.status).tolist()))
    print(f"\njaxglm path: non-zeros at the last alpha {int(res.n_nonzero[-1])}, iterations "
          f"{int(np.sum(res.n_iter))} in all, statuses {statuses}")  # fmt: skip


if __name__ == "__main__":
    main()
