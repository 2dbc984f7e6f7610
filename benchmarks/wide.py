"""Wide ridge logistic regression: jaxglm's L-BFGS next to scikit-learn's, and the crossover.

Two Markdown tables, printed (paste them into RESULTS.md):

1. **wide**: n = 20,000 rows, p = 10,000 dense standard-normal features, ridge
   ``alpha = 1/n`` in jaxglm's convention (``deviance / (2n) + alpha/2 |beta|^2``), which is
   scikit-learn's ``C = 1 / (alpha n) = 1``; float32 and float64. jaxglm ``Optax()``
   (full-batch L-BFGS, zoom line search, centered diagonal preconditioning) against
   ``LogisticRegression(solver="lbfgs", C=1)``, each over its tolerance ladder
   (:mod:`benchmarks.rule`: from 100x looser than its default, half-decade steps); each
   run's accuracy is the max error of ``(intercept, coef)`` relative to the largest
   reference value, the reference being jaxglm's float64 L-BFGS ``fit`` at ``tol=1e-12``
   (scikit-learn's lbfgs does not get within ~6e-7 of any solution here, so no independent
   reference of that accuracy exists in this script; its tightest runs' errors are in the
   table). jaxglm is timed through ``fit`` itself (host-side checks included; for
   p > 2,000 a NaN covariance). The summary gives, per tool and target, the fastest
   measured run that reaches it (no interpolation), and the time ratio.
2. **crossover**: Newton vs L-BFGS ``fit`` time for an unpenalized float64 logistic model,
   n = 20,000, p = 100 ... 4,000, both at their default tolerances, the L-BFGS solution
   checked against Newton's.

Every run: jaxglm's ``fit`` called once to compile (reported as compile time = first
call - second call) and timed on its second call; scikit-learn timed on one ``fit`` (it has
nothing to compile). One timed run per setting for every tool: on a shared machine the load
average in the header matters more than the repeat spread.

Usage::

    python -m benchmarks.wide                  # full sizes (tens of minutes on 2 cores)
    python -m benchmarks.wide --quick          # n = 5,000, p = 2,500; crossover p <= 1,000
    python -m benchmarks.wide --only crossover # one of the two tables
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import jaxglm as jg
from benchmarks.machine import describe_machine
from benchmarks.rule import ladder

# benchmarks.rule: each ladder from 100x looser than the library's default, half-decades.
JAXGLM_TOLS = {"float64": ladder(1e-8), "float32": ladder(1e-8)}  # jg.Optax's default tol
SKLEARN_TOLS = ladder(1e-4)  # scikit-learn's default tol
TARGETS = {"float64": (1e-4, 1e-6), "float32": (1e-3,)}
REFERENCE_TOL = 1e-12
FIT = "jaxglm L-BFGS (fit)"
SKLEARN = "scikit-learn lbfgs"


class Run(NamedTuple):
    """One timed fit."""

    tool: str
    dtype: str
    tol: float | None
    n_iter: int
    status: str
    compile_s: float | None
    run_s: float
    error: float


def make_wide(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal ``X`` (float64) and ``y ~ Bernoulli(sigmoid(-0.3 + X beta))``, sd(eta) 1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = rng.standard_normal(p) / np.sqrt(p)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(0.3 - X @ beta))).astype(np.float64)
    return X, y


def rel_error(params: np.ndarray, ref: np.ndarray) -> float:
    """``max |params - ref| / max |ref|`` over intercept and coefficients."""
    return float(np.max(np.abs(params - ref)) / np.max(np.abs(ref)))


def time_jaxglm(
    X: jax.Array, y: jax.Array, solver: jg.solvers.AbstractSolver, alpha: float
) -> tuple[jg.GLMResult, float, float]:
    """``jaxglm.fit`` itself (host-side checks included): a first call, then a timed second
    one: ``(result, compile_s, run_s)`` with compile = first - second."""

    def fit():
        res = jg.fit(X, y, family=jg.Bernoulli(), alpha=alpha, solver=solver)
        return jax.block_until_ready(res)

    t0 = time.perf_counter()
    fit()
    t1 = time.perf_counter()
    res = fit()
    t2 = time.perf_counter()
    return res, max((t1 - t0) - (t2 - t1), 0.0), t2 - t1


def time_sklearn(X: np.ndarray, y: np.ndarray, tol: float) -> tuple[np.ndarray, int, float]:
    """``LogisticRegression(solver="lbfgs", C=1)``: ``(params, n_iter, run_s)``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(solver="lbfgs", C=1.0, tol=tol, max_iter=10_000)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    run_s = time.perf_counter() - t0
    params = np.concatenate([model.intercept_, model.coef_[0]]).astype(np.float64)
    return params, int(model.n_iter_[0]), run_s


def wide(n: int, p: int, log: Callable[[str], None]) -> list[str]:
    """The wide table and its summary, as Markdown lines."""
    X64, y64 = make_wide(n, p)
    alpha = 1.0 / n
    log(f"wide: reference, jaxglm float64 L-BFGS fit, tol={REFERENCE_TOL:g}")
    reference = jg.Optax(tol=REFERENCE_TOL, max_iter=20_000)
    ref_res, _, ref_s = time_jaxglm(jnp.asarray(X64), jnp.asarray(y64), reference, alpha)
    ref = np.asarray(ref_res.params, np.float64)
    ref_iter, ref_status = ref_res.n_iter, ref_res.status
    runs: list[Run] = []
    for dtype in ("float64", "float32"):
        X, y = X64.astype(dtype, copy=False), y64.astype(dtype, copy=False)
        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        for tol in JAXGLM_TOLS[dtype]:
            log(f"wide: jaxglm fit {dtype} tol={tol:g}")
            solver = jg.Optax(tol=tol, max_iter=20_000)
            res, compile_s, run_s = time_jaxglm(Xj, yj, solver, alpha)
            error = rel_error(np.asarray(res.params, np.float64), ref)
            runs.append(
                Run(FIT, dtype, tol, int(res.n_iter), _status(res.status), compile_s, run_s, error)
            )
        del Xj, yj, res
        for tol in SKLEARN_TOLS:
            log(f"wide: scikit-learn {dtype} tol={tol:g}")
            params, n_iter, run_s = time_sklearn(X, y, tol)
            runs.append(Run(SKLEARN, dtype, tol, n_iter, "-", None, run_s, rel_error(params, ref)))
    lines = [
        f"### Wide ridge logistic: n = {n:,}, p = {p:,}, alpha = 1/n (scikit-learn C = 1)",
        "",
        f"Reference: jaxglm float64 L-BFGS fit at tol = {REFERENCE_TOL:g} "
        f"({_status(ref_status)}, {int(ref_iter)} iterations, {ref_s:.1f} s). Error = "
        "max |params - ref| / max |ref| over intercept and coefficients.",
        "",
        "| tool | dtype | tol | iterations | status | compile (s) | run (s) | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        compile_s = "-" if r.compile_s is None else f"{r.compile_s:.2f}"
        lines.append(
            f"| {r.tool} | {r.dtype} | {r.tol:g} | {r.n_iter} | {r.status} | {compile_s} "
            f"| {r.run_s:.2f} | {r.error:.1e} |"
        )
    return [*lines, "", *summary(runs)]


def summary(runs: Sequence[Run]) -> list[str]:
    """Time to reach each accuracy target, per tool, and the ratio, as Markdown lines: the
    fastest measured run of the tool's ladder whose error is within the target (no
    interpolation between runs)."""
    lines = [
        "| dtype | target error | jaxglm fit (s) | scikit-learn (s) | jaxglm / scikit-learn |",
        "|---|---|---|---|---|",
    ]
    for dtype, targets in TARGETS.items():
        for target in targets:
            ours, theirs = (_time_at(runs, tool, dtype, target) for tool in (FIT, SKLEARN))
            ratio = "-" if ours is None or theirs is None else f"{ours / theirs:.2f}x"
            lines.append(
                f"| {dtype} | {target:g} | {_seconds(ours)} | {_seconds(theirs)} | {ratio} |"
            )
    return lines


def crossover(n: int, ps: Sequence[int], log: Callable[[str], None]) -> list[str]:
    """Newton vs L-BFGS fit time by ``p``, as Markdown lines."""
    lines = [
        f"### Newton vs L-BFGS: unpenalized logistic, float64, n = {n:,}, default tolerances",
        "",
        "| p | Newton compile (s) | Newton run (s) | Newton iterations "
        "| L-BFGS compile (s) | L-BFGS run (s) | L-BFGS iterations | L-BFGS error "
        "| L-BFGS / Newton run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in ps:
        X, y = make_wide(n, p, seed=p)
        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        log(f"crossover: p={p} Newton")
        newton, nc, nr = time_jaxglm(Xj, yj, jg.Newton(), 0.0)
        log(f"crossover: p={p} L-BFGS")
        lbfgs, lc, lr = time_jaxglm(Xj, yj, jg.Optax(), 0.0)
        error = rel_error(np.asarray(lbfgs.params), np.asarray(newton.params))
        lines.append(
            f"| {p:,} | {nc:.2f} | {nr:.2f} | {int(newton.n_iter)} | {lc:.2f} | {lr:.2f} "
            f"| {int(lbfgs.n_iter)} | {error:.1e} | {lr / nr:.2f} |"
        )
    return lines


def _time_at(runs: Sequence[Run], tool: str, dtype: str, target: float) -> float | None:
    """The fastest measured run of ``tool`` with error <= ``target`` (None if none is)."""
    times = [r.run_s for r in runs if (r.tool, r.dtype) == (tool, dtype) and r.error <= target]
    return min(times, default=None)


def _status(code: jax.Array) -> str:
    return jg.Status(int(code)).name.lower()


def _seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its Markdown tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wide", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", choices=("wide", "crossover"), help="run one table")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)  # the script's choice, before any array exists
    n, p = (5_000, 2_500) if args.quick else (20_000, 10_000)
    ps = (100, 400, 1_000) if args.quick else (100, 400, 1_000, 2_000, 4_000)
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)

    command = "python -m benchmarks.wide" + (" --quick" if args.quick else "")
    command += f" --only {args.only}" if args.only else ""
    lines = [f"## `{command}`", "", *describe_machine(), ""]
    if args.only in (None, "wide"):
        lines += [*wide(n, p, log), ""]
    if args.only in (None, "crossover"):
        lines += [*crossover(20_000 if not args.quick else 5_000, ps, log), ""]
    lines.append(f"Total wall time: {time.perf_counter() - start:.0f} s.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
