"""statsmodels ``GLM.fit(method="IRLS")``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from benchmarks.adapters import FitOutput
from benchmarks.problems import Problem
from benchmarks.rule import ladder

if TYPE_CHECKING:
    from statsmodels.genmod.generalized_linear_model import GLM

NAME = "statsmodels IRLS"
SETTINGS = "GLM.fit(method='IRLS'), wls_method='lstsq', maxiter=100; tol on the deviance change"
DEFAULT_TOL = 1e-8  # statsmodels GLM.fit's tol default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = False
ON_JAX_DEVICE = False
PEER = True


def available() -> bool:
    """Whether statsmodels imports."""
    try:
        import statsmodels.api  # noqa: F401
    except ImportError:
        return False
    return True


def prepare(problem: Problem) -> GLM:
    """An unfitted ``GLM`` with a constant column prepended to ``X``."""
    import statsmodels.api as sm

    families = {
        "logistic": sm.families.Binomial(),
        "poisson": sm.families.Poisson(),
        "gamma_log": sm.families.Gamma(sm.families.links.Log()),
    }
    return sm.GLM(problem.y, sm.add_constant(problem.X), family=families[problem.family])


def fit(data: GLM, tol: float | None) -> FitOutput:
    """IRLS from statsmodels' default start (tol default 1e-8)."""
    res = data.fit(method="IRLS", **({} if tol is None else {"tol": tol}))
    params = np.asarray(res.params)
    return FitOutput(params[1:], float(params[0]), int(res.fit_history["iteration"]))
