"""Wide ridge logistic regression: jaxglm's L-BFGS next to scikit-learn's, and the crossover.

Two Markdown tables, printed (paste them into RESULTS.md):

1. **wide**: n = 20,000 rows, p = 10,000 dense standard-normal features, ridge
   ``alpha = 1/n`` in jaxglm's convention (``deviance / (2n) + alpha/2 |beta|^2``), which is
   scikit-learn's ``C = 1 / (alpha n) = 1``; float32 and float64. jaxglm ``Optax()``
   (full-batch L-BFGS, zoom line search, centered diagonal preconditioning) against
   ``LogisticRegression(solver="lbfgs", C=1)``, each over its tolerance ladder
   (:mod:`benchmarks.rule`: from 100x looser than its default, half-decade steps); each
   run's accuracy is the max error of ``(intercept, coef)`` relative to the largest
   reference value. The reference is computed by neither tool: SciPy's Newton-CG
   (``minimize(method="trust-ncg")``, exact gradient and Hessian-vector products in
   NumPy float64), checked by its own gradient: the table states its gradient norm, the
   smallest Hessian eigenvalue at the solution (Lanczos, SciPy) and their ratio, which
   bounds its distance to the exact optimum. jaxglm is timed through ``fit`` itself
   (host-side checks included; for p > 2,000 a NaN covariance). The summary gives, per
   tool and target, the measured run at the loosest rung that reaches it (the rule's
   choice; no interpolation: measured runs only), its time ratio, and each kept run's
   first call in a fresh process (import, conversion, compile and fit;
   :mod:`benchmarks.first_call`), with and without JAX's persistent compilation cache.
2. **crossover**: Newton vs L-BFGS ``fit`` time for an unpenalized float64 logistic model,
   n = 20,000, p = 100 ... 4,000, both at their default tolerances, the L-BFGS solution
   checked against Newton's.

Every run: jaxglm's ``fit`` called once to compile (reported as compile time = first
call - second call) and timed on its second call; scikit-learn timed on one ``fit`` (it has
nothing to compile). One timed run per setting for every tool: on a shared machine the load
(before and after each table, :mod:`benchmarks.rule`) matters more than the repeat spread.
``--cores 0,1`` pins every tool and its first calls (:func:`benchmarks.rule.pin`).

Usage::

    python -m benchmarks.wide                  # full sizes (tens of minutes on 2 cores)
    python -m benchmarks.wide --quick          # n = 5,000, p = 2,500; crossover p <= 1,000
    python -m benchmarks.wide --only crossover # one of the two tables
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from benchmarks.first_call import measure_script
from benchmarks.rule import (
    add_first_call_option,
    ladder,
    load_note,
    load_per_core,
    parse_pinned,
)

if TYPE_CHECKING:
    import jax

    import jaxglm as jg

# benchmarks.rule: each ladder from 100x looser than the library's default, half-decades.
JAXGLM_TOLS = {"float64": ladder(1e-8), "float32": ladder(1e-8)}  # jg.Optax's default tol
SKLEARN_TOLS = ladder(1e-4)  # scikit-learn's default tol
TARGETS = {"float64": (1e-4, 1e-6), "float32": (1e-3,)}
REFERENCE_GTOL = 1e-9  # the reference's gradient norm, summed objective (see reference_fit)
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


class Reference(NamedTuple):
    """The float64 reference and its own check."""

    params: np.ndarray
    n_iter: int
    seconds: float
    grad_norm: float  # of the summed objective, at params
    min_eigenvalue: float  # of its Hessian, at params

    @property
    def error_bound(self) -> float:
        """``|grad| / lambda_min``, relative to ``max |params|``: the reference's own
        distance to the exact optimum (to first order; the objective is strongly convex)."""
        return self.grad_norm / self.min_eigenvalue / float(np.max(np.abs(self.params)))


def reference_fit(X: np.ndarray, y: np.ndarray, alpha: float) -> Reference:
    """The ridge logistic optimum by SciPy's trust-region Newton-CG in NumPy float64.

    Minimizes the objective times n, ``sum_i (log(1 + exp(eta_i)) - y_i eta_i) +
    (alpha n / 2) |beta|^2`` with ``eta = b0 + X beta`` (the same optimum as jaxglm's
    ``deviance / (2n) + alpha/2 |beta|^2``), the gradient and Hessian-vector products
    written out, until the gradient's norm is below :data:`REFERENCE_GTOL` or float64 no
    longer predicts a decrease; then the smallest eigenvalue of the Hessian (Lanczos on the
    same products). Whether that is tight enough is :attr:`Reference.error_bound`'s to say
    (the table marks a bound above a tenth of the tightest target).
    """
    from scipy.optimize import minimize
    from scipy.sparse.linalg import LinearOperator, eigsh
    from scipy.special import expit

    n, p = X.shape
    lam = alpha * n

    def parts(w):
        eta = w[0] + X @ w[1:]
        return eta, expit(eta)

    def objective(w):
        eta, mu = parts(w)
        grad = np.concatenate([[np.sum(mu - y)], X.T @ (mu - y) + lam * w[1:]])
        value = np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * lam * w[1:] @ w[1:]
        return value, grad

    def hessp_at(w):
        _, mu = parts(w)
        h = mu * (1.0 - mu)

        def hessp(v):
            u = h * (v[0] + X @ v[1:])
            return np.concatenate([[np.sum(u)], X.T @ u + lam * v[1:]])

        return hessp

    start = time.perf_counter()
    res = minimize(
        objective, np.zeros(p + 1), jac=True, method="trust-ncg",
        hessp=lambda w, v: hessp_at(w)(v), options={"gtol": REFERENCE_GTOL, "maxiter": 200},
    )  # fmt: skip
    seconds = time.perf_counter() - start
    grad_norm = float(np.linalg.norm(objective(res.x)[1]))
    hessian = LinearOperator((p + 1, p + 1), matvec=hessp_at(res.x), dtype=np.float64)
    smallest = eigsh(hessian, k=1, which="SA", return_eigenvectors=False, tol=1e-3)
    return Reference(res.x, int(res.nit), seconds, grad_norm, float(smallest[0]))


def jaxglm_fit(X: object, y: object, alpha: float, tol: float | None) -> jg.GLMResult:
    """``jaxglm.fit`` with ``Optax(tol=tol)`` (full-batch L-BFGS), blocked on its result."""
    import jax

    import jaxglm as jg

    solver = jg.Optax(tol=tol, max_iter=20_000)
    return jax.block_until_ready(jg.fit(X, y, family=jg.Bernoulli(), alpha=alpha, solver=solver))


def first_call(tool: str, data: dict[str, np.ndarray], options: dict) -> None:
    """One tool's fit at ``options["tol"]``, for :func:`benchmarks.first_call.measure_script`
    (in a fresh process; the arrays keep their dtype)."""
    if tool == FIT:
        jaxglm_fit(data["X"], data["y"], options["alpha"], options["tol"])
    else:
        time_sklearn(data["X"], data["y"], options["tol"])


def time_jaxglm(
    X: jax.Array, y: jax.Array, solver: jg.solvers.AbstractSolver, alpha: float
) -> tuple[jg.GLMResult, float, float]:
    """``jaxglm.fit`` itself (host-side checks included): a first call, then a timed second
    one: ``(result, compile_s, run_s)`` with compile = first - second."""
    import jax

    import jaxglm as jg

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


def wide(n: int, p: int, log: Callable[[str], None], first_calls: bool = True) -> list[str]:
    """The wide table and its summary, as Markdown lines."""
    import jax.numpy as jnp

    import jaxglm as jg

    X64, y64 = make_wide(n, p)
    alpha = 1.0 / n
    load_before = load_per_core()
    log(f"wide: reference, SciPy trust-ncg in float64, gradient norm {REFERENCE_GTOL:g}")
    reference = reference_fit(X64, y64, alpha)
    ref = reference.params
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
    first = {}
    if first_calls:
        data = {dtype: {"X": X64.astype(dtype), "y": y64.astype(dtype)} for dtype in TARGETS}
        for dtype, targets in TARGETS.items():
            for target in targets:
                for tool in (FIT, SKLEARN):
                    kept = _kept(runs, tool, dtype, target)
                    if kept is not None and (tool, dtype, kept.tol) not in first:
                        log(f"wide: first call {tool} {dtype} tol={kept.tol:g}")
                        options = {"tol": kept.tol, "alpha": alpha}
                        first[tool, dtype, kept.tol] = measure_script(
                            "benchmarks.wide", tool, data[dtype], options, tool == FIT
                        )
    note = load_note(load_before, load_per_core())
    tightest = min(t for targets in TARGETS.values() for t in targets)
    loose = (
        " (NOT within a tenth of the tightest target)"
        if reference.error_bound > tightest / 10
        else ""
    )
    lines = [
        f"### Wide ridge logistic: n = {n:,}, p = {p:,}, alpha = 1/n (scikit-learn C = 1)",
        "",
        f"Reference (neither tool): SciPy trust-ncg in NumPy float64, {reference.n_iter} "
        f"iterations, {reference.seconds:.1f} s; its gradient norm {reference.grad_norm:.1e}, "
        f"the Hessian's smallest eigenvalue {reference.min_eigenvalue:.3g}: distance to the "
        f"optimum at most ~{reference.error_bound:.1e} of max |ref|{loose}. Error = "
        "max |params - ref| / max |ref| over intercept and coefficients.",
        "",
        note,
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
    return [*lines, "", *summary(runs, first)]


def summary(
    runs: Sequence[Run], first: dict[tuple[str, str, float], tuple[float, float | None]]
) -> list[str]:
    """Time to reach each accuracy target, per tool, and the ratio, as Markdown lines: the
    measured run at the loosest rung of the tool's ladder whose error is within the target
    (no interpolation between runs), and the first calls at that run's tolerance (``first``:
    ``(tool, dtype, tol) -> (first, cached)``)."""
    lines = [
        "| dtype | target error | jaxglm fit (s) | scikit-learn (s) | jaxglm / scikit-learn "
        "| jaxglm first call (s) | cached (s) | scikit-learn first call (s) "
        "| first-call ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dtype, targets in TARGETS.items():
        for target in targets:
            ours, theirs = (_kept(runs, tool, dtype, target) for tool in (FIT, SKLEARN))
            ratio = "-" if ours is None or theirs is None else f"{ours.run_s / theirs.run_s:.2f}x"
            (f_ours, cached), (f_theirs, _) = (
                first.get((r.tool, dtype, r.tol), (None, None)) if r else (None, None)
                for r in (ours, theirs)
            )
            f_ratio = "-" if f_ours is None or f_theirs is None else f"{f_ours / f_theirs:.2f}x"
            lines.append(
                f"| {dtype} | {target:g} | {_seconds(ours)} | {_seconds(theirs)} | {ratio} "
                f"| {_first(f_ours)} | {_first(cached)} | {_first(f_theirs)} | {f_ratio} |"
            )
    return lines


def crossover(n: int, ps: Sequence[int], log: Callable[[str], None]) -> list[str]:
    """Newton vs L-BFGS fit time by ``p``, as Markdown lines."""
    import jax.numpy as jnp

    import jaxglm as jg

    load_before = load_per_core()
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
    return [*lines, "", load_note(load_before, load_per_core())]


def _kept(runs: Sequence[Run], tool: str, dtype: str, target: float) -> Run | None:
    """The run at the loosest rung of ``tool``'s ladder whose error is <= ``target`` (None if
    none is): benchmarks.rule's choice, not the fastest of the qualifying runs (a minimum
    over noisy single runs)."""
    met = [r for r in runs if (r.tool, r.dtype) == (tool, dtype) and r.error <= target]
    return max(met, key=lambda r: r.tol, default=None)


def _status(code: jax.Array) -> str:
    import jaxglm as jg

    return jg.Status(int(code)).name.lower()


def _seconds(run: Run | None) -> str:
    return "not reached" if run is None else f"{run.run_s:.2f}"


def _first(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its Markdown tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wide", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", choices=("wide", "crossover"), help="run one table")
    add_first_call_option(parser)
    args = parse_pinned(parser, sys.argv[1:] if argv is None else argv)
    import jax

    from benchmarks.machine import describe_machine

    jax.config.update("jax_enable_x64", True)  # the script's choice, before any array exists
    n, p = (5_000, 2_500) if args.quick else (20_000, 10_000)
    ps = (100, 400, 1_000) if args.quick else (100, 400, 1_000, 2_000, 4_000)
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)

    command = shlex.join(
        ["python", "-m", "benchmarks.wide", *(sys.argv[1:] if argv is None else argv)]
    )
    lines = [f"## `{command}`", "", *describe_machine(), ""]
    if args.only in (None, "wide"):
        lines += [*wide(n, p, log, args.first_call), ""]
    if args.only in (None, "crossover"):
        lines += [*crossover(20_000 if not args.quick else 5_000, ps, log), ""]
    lines.append(f"Total wall time: {time.perf_counter() - start:.0f} s.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
