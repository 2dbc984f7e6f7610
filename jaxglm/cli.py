"""The ``jaxglm`` command. ``jaxglm demo`` fits three models on built-in synthetic data.

Run it as ``make demo`` (which sets ``JAX_ENABLE_X64=1`` for float64) or
``JAX_ENABLE_X64=1 jaxglm demo``; without x64, JAX computes in float32 and the demo says so.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import jax
import numpy as np

import jaxglm as jg


def _synthetic(n: int, seed: int = 0):
    """Design with 4 features: 3 standard normal and one binary, plus true coefficients."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)])
    return rng, X


def _demo_models(n: int):
    rng, X = _synthetic(n)
    beta = np.array([0.5, -0.25, 0.1, 0.3])
    logistic_y = rng.binomial(1, 1.0 / (1.0 + np.exp(-(-0.5 + X @ beta))))
    exposure = rng.uniform(0.5, 2.0, size=n)
    poisson_y = rng.poisson(exposure * np.exp(0.2 + X @ (0.5 * beta)))
    shape = 2.0
    gamma_mu = np.exp(1.0 + X @ (0.4 * beta))
    gamma_y = rng.gamma(shape, gamma_mu / shape)
    return [
        ("Logistic regression", X, logistic_y, jg.Bernoulli(), None, {}, -0.5, beta),
        ("Poisson with exposure", X, poisson_y, jg.Poisson(), None, {"exposure": exposure},
         0.2, 0.5 * beta),
        ("Gamma with log link", X, gamma_y, jg.Gamma(), jg.Log(), {}, 1.0, 0.4 * beta),
    ]  # fmt: skip


def demo(n: int = 200_000) -> None:
    """Fit a logistic, a Poisson-with-exposure and a Gamma-log model; print what happened."""
    dtype = "float64" if jax.config.jax_enable_x64 else "float32 (set JAX_ENABLE_X64=1)"
    print(f"jaxglm {jg.__version__} demo: n={n:,}, p=4, on {jax.default_backend()}, {dtype}\n")
    for title, X, y, family, link, extra, b0, beta in _demo_models(n):
        t0 = time.perf_counter()
        res = jg.fit(X, y, family=family, link=link, **extra)
        jax.block_until_ready(res)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(jg.fit(X, y, family=family, link=link, **extra))
        run = time.perf_counter() - t0
        print(f"== {title} ==")
        print(res.summary())
        truth = np.concatenate([[b0], beta])
        print(f"{'':<10}{'true':>10}{'fitted':>10}{'|diff|/se':>11}")
        for name, t, f, s in zip(
            ["Intercept", "x1", "x2", "x3", "x4"],
            truth,
            np.asarray(res.params),
            np.asarray(res.bse),
            strict=True,
        ):
            print(f"{name:<10}{t:>10.4f}{f:>10.4f}{abs(f - t) / s:>11.2f}")
        print(f"time: compile + first fit {first:.2f} s, second fit (compiled) {run:.3f} s, "
              f"{int(res.n_iter)} iterations of {res.solver_name}\n")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxglm`` console script."""
    parser = argparse.ArgumentParser(prog="jaxglm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="fit three GLMs on built-in synthetic data")
    p_demo.add_argument("--n", type=int, default=200_000, help="rows per model")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
