"""Where a warm float64, float32 and ``precision="mixed"`` fit spends its time, by phase.

The default fit of one problem of :mod:`benchmarks.problems` (logistic well-conditioned,
n = 1,000,000, p = 100 by default: the solver is SubsampledNewton) is taken apart into the
compiled pieces that ``jaxglm.fit`` runs, each jitted on its own and timed on the same data
in the three settings of :mod:`benchmarks.precision` (float64 on the float32-rounded data,
float32, mixed). Every piece is called once (compiling), then the settings take turns
``--repeats`` times and each keeps its fastest call. The pieces:

- ``fit``: ``jaxglm.fit`` as the user calls it; ``fit under jit``: the same traced inside
  ``jax.jit`` (no host validation or report); ``fit, cov_type="none"``: no covariance;
- ``centre X``: float32 only, the fit's copy ``X - column means``;
- ``init``: the solver's ``init`` (``start`` + ``preconditioner`` + one pass each way);
  ``start``: exact Newton on every k-th row; ``preconditioner``: the subsampled information,
  factored;
- ``X @ v``, ``r @ X``: one pass each way; ``row derivatives``: the rows' ``g, h``;
  ``objective``: one evaluation (O(n), what each line-search trial costs);
- ``step``: one iteration from the state after ``init``; ``iterations``: the whole loop;
- ``statistics``: deviance, Pearson, llf, null deviance, no covariance; ``separation``: the
  logistic fits' separation check; ``covariance``: the full information, factored and
  inverted; ``full Gram``: its Gram product alone.

The pieces overlap (``init`` holds ``start``), and the fit adds dispatch, the while loops'
conditions and host steps: the table is for finding fixed costs, not a sum.

Usage::

    python -m benchmarks.precision_phases                    # logistic_well, n = 1,000,000
    python -m benchmarks.precision_phases --only poisson_well --n 200000
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.problems import N_FULL, ProblemSpec, load_problem
from benchmarks.rule import load_note, load_per_core

SETTINGS = ("float64", "float32", "mixed")


def seconds(fn, args) -> float:
    """Seconds of one call of ``fn(*args)``, waited for."""
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def setting_arrays(X, y, centre):
    """``(X, y, prior)`` as the fit holds them for the user's ``(X, y)`` (float32's ``X``
    centred by ``centre``; mixed's ``X`` float32, the rest float64)."""
    prior = jnp.ones(y.shape, y.dtype)
    if X.dtype == y.dtype == jnp.float32:
        return centre(X, prior), y, prior
    return X, y, prior


def pieces(family, X, y, prior, fit_args) -> dict:
    """``{phase: (jitted function, args)}`` for one setting (module docs); ``fit_args``: the
    ``(X, y)`` the user passes (float32's ``X`` not centred)."""
    import jaxglm as jg
    from jaxglm import _linalg, _statistics
    from jaxglm import model as M
    from jaxglm.links import Canonical
    from jaxglm.solvers import Newton, SubsampledNewton, default_solver
    from jaxglm.solvers._driver import iterate
    from jaxglm.solvers.subsampled import subsample_rows

    n, p = X.shape
    solver = default_solver(n, p)
    assert isinstance(solver, SubsampledNewton), solver
    problem = M.Problem(
        X=X, y=y, w=prior, offset=jnp.zeros_like(y), saturated=family.saturated_loglik(y),
        total_weight=_linalg.row_sum(prior), penalty=jnp.zeros(p + 1, y.dtype),
        family=family, link=Canonical(),
    )  # fmt: skip
    mu_start = family.mustart(y, prior)
    params0 = M.null_params(problem)
    start_stride, hessian_stride = solver._strides(problem)

    def start(problem, params, mu_start):
        sub = subsample_rows(problem, start_stride)
        newton = Newton(tol=1e-6)
        return iterate(newton, sub, newton.init(sub, params, mu_start[::start_stride])).params

    params = jax.jit(start)(problem, params0, mu_start)
    state = jax.jit(solver.init)(problem, params0, mu_start)
    eta, g = state.eta, state.curvature
    none = _statistics.Covariance(
        "none", None, jnp.int32(0), jnp.int32(0), jnp.asarray(1.0, y.dtype)
    )

    def statistics(problem, state):
        return _statistics.result(problem, solver, state, prior, prior, False, none)

    def covariance(problem, eta):
        factors, _ = _linalg.factor(M.expected_information(problem, eta))
        return _linalg.inverse(factors)

    out = {
        "fit": (lambda X, y: jg.fit(X, y, family, precision=_precision(X, y)), fit_args),
        "fit under jit": (jax.jit(lambda X, y: jg.fit(X, y, family, precision=_precision(X, y))),
                          fit_args),
        'fit, cov_type="none"': (
            lambda X, y: jg.fit(X, y, family, cov_type="none", precision=_precision(X, y)),
            fit_args,
        ),
        "init": (jax.jit(solver.init), (problem, params0, mu_start)),
        "start": (jax.jit(start), (problem, params0, mu_start)),
        "preconditioner": (jax.jit(lambda pr, b: solver._preconditioner(pr, hessian_stride, b)),
                           (problem, params)),
        "X @ v": (jax.jit(M.linear_predictor), (problem, params)),
        "r @ X": (jax.jit(M.data_gradient), (problem, g)),
        "row derivatives": (jax.jit(lambda pr, e: M.row_derivatives(pr, e, False)), (problem, eta)),
        "objective": (jax.jit(M.objective), (problem, params, eta)),
        "step": (jax.jit(solver.step), (problem, state)),
        "iterations": (jax.jit(lambda pr, s: iterate(solver, pr, s)), (problem, state)),
        "statistics": (jax.jit(lambda pr, st: statistics(pr, st)), (problem, state)),
        "covariance": (jax.jit(covariance), (problem, eta)),
        "full Gram": (jax.jit(M.data_hessian), (problem, g)),
    }  # fmt: skip
    if isinstance(family, jg.Bernoulli):
        out["separation"] = (jax.jit(_statistics.separation_status),
                             (problem, state.params, eta, state.status))  # fmt: skip
    return out


def _precision(X, y) -> str | None:
    return "mixed" if X.dtype != y.dtype else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=N_FULL, help=f"rows (default {N_FULL:,})")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="logistic_well", help="e.g. poisson_ill")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)  # a script, not the library: float64 exists
    warnings.simplefilter("ignore")
    import jaxglm as jg

    family_name, conditioning = args.only.rsplit("_", 1)
    data = load_problem(ProblemSpec(family_name, conditioning, args.n))
    family = jg.Bernoulli() if family_name == "logistic" else jg.Poisson()
    X32 = jnp.asarray(data.X, np.float32)
    y32 = jnp.asarray(data.y, np.float32)
    del data
    from jaxglm import _linalg

    centre = jax.jit(lambda X, w: X - _linalg.column_means(X, w))
    ones32 = jnp.ones(y32.shape, jnp.float32)
    fit_args = {"float64": (X32.astype(jnp.float64), y32.astype(jnp.float64)),
                "float32": (X32, y32), "mixed": (X32, y32.astype(jnp.float64))}  # fmt: skip
    runs = {s: pieces(family, *setting_arrays(*fit_args[s], centre), fit_args[s]) for s in SETTINGS}
    runs["float32"] = {"centre X": (centre, (X32, ones32)), **runs["float32"]}
    before = load_per_core()
    times = {}
    for phase in runs["float32"]:
        here = [s for s in SETTINGS if phase in runs[s]]
        for s in here:  # first calls (compiles)
            jax.block_until_ready(runs[s][phase][0](*runs[s][phase][1]))
        for _ in range(args.repeats):  # the settings in turn
            for s in here:
                fn, fn_args = runs[s][phase]
                times.setdefault(phase, {}).setdefault(s, []).append(seconds(fn, fn_args))
    after = load_per_core()
    cmd = " ".join(["python -m benchmarks.precision_phases", shlex.join(sys.argv[1:])]).strip()
    print(f"`{cmd}` ({args.only}, n = {args.n:,}); {load_note(before, after)}")
    print()
    print("| phase | float64 s | float32 s | mixed s | float32 / float64 | mixed / float64 |")
    print("|---|---:|---:|---:|---:|---:|")
    for phase, row in times.items():
        best = {s: min(row[s]) if s in row else None for s in SETTINGS}
        cells = [f"{best[s]:.4f}" if best[s] is not None else "-" for s in SETTINGS]
        base = best["float64"]
        ratios = [f"{best[s] / base:.2f}" if base and best[s] else "-" for s in SETTINGS[1:]]
        print(f"| {phase} | {' | '.join(cells)} | {' | '.join(ratios)} |")


if __name__ == "__main__":
    main()
