"""jaxglm ``fit`` in float64 (needs ``jax_enable_x64``, which the runner turns on).

Written against the documented API (``/work/shared/DESIGN.md``): ``jaxglm.fit(X, y,
family=..., link=..., tol=..., max_iter=...)`` returning ``res.coef``, ``res.intercept``,
``res.n_iter``. Runs on JAX's default device; the data are put there by ``prepare``, outside
the timer.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from benchmarks.adapters import FitOutput
from benchmarks.problems import Problem
from benchmarks.rule import ladder

NAME = "jaxglm"
SETTINGS = "jaxglm.fit(solver=None: the default by size), float64, with bse"
DEFAULT_TOL = 1e-8  # jaxglm's Newton and SubsampledNewton default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = True
ON_JAX_DEVICE = True
PEER = False


class JaxglmData(NamedTuple):
    """``X`` and ``y`` on JAX's default device, and the jaxglm family and link."""

    X: jax.Array
    y: jax.Array
    family: Any
    link: Any


def available() -> bool:
    """Whether jaxglm imports."""
    try:
        import jaxglm  # noqa: F401
    except ImportError:
        return False
    return True


def model(problem: Problem) -> tuple[Any, Any]:
    """jaxglm's family and link of ``problem``."""
    import jaxglm

    return {
        "logistic": (jaxglm.Bernoulli(), None),
        "poisson": (jaxglm.Poisson(), None),
        "gamma_log": (jaxglm.Gamma(), jaxglm.Log()),
    }[problem.family]


def prepare_as(problem: Problem, dtype: type[np.floating]) -> JaxglmData:
    """The arrays cast to ``dtype`` on JAX's default device, with jaxglm's family and link."""
    family, link = model(problem)
    X = jax.device_put(problem.X.astype(dtype))
    y = jax.device_put(problem.y.astype(dtype))
    return JaxglmData(X, y, family, link)


def prepare(problem: Problem) -> JaxglmData:
    """The float64 arrays on JAX's default device."""
    return prepare_as(problem, np.float64)


def fit(data: JaxglmData, tol: float | None) -> FitOutput:
    """``jaxglm.fit`` with its default solver, blocking until the result is ready."""
    return fit_with(data, tol)


def fit_with(
    data: JaxglmData, tol: float | None, solver: Any = None, cov_type: str = "nonrobust"
) -> FitOutput:
    """``jaxglm.fit`` with ``solver`` and ``cov_type``, blocking until every output is ready."""
    import jaxglm

    res = jaxglm.fit(
        data.X, data.y, family=data.family, link=data.link, tol=tol, solver=solver,
        cov_type=cov_type,
    )  # fmt: skip
    coef, intercept, n_iter, _ = jax.block_until_ready(
        (res.coef, res.intercept, res.n_iter, res.cov)
    )
    return FitOutput(
        np.asarray(coef, dtype=np.float64), float(intercept), int(n_iter), res.solver_name,
        cov_type != "none",
    )  # fmt: skip
