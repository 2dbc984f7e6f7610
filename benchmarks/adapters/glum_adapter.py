"""glum ``GeneralizedLinearRegressor`` (default solver: IRLS with a least-squares inner solve)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from benchmarks.adapters import FitOutput
from benchmarks.problems import Problem
from benchmarks.rule import ladder

NAME = "glum"
SETTINGS = "GeneralizedLinearRegressor(alpha=0, solver='auto' = irls-ls); tol = gradient_tol"
DEFAULT_TOL = 1e-4  # glum's gradient_tol default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = False
ON_JAX_DEVICE = False
PEER = True
_FAMILY_LINK = {"logistic": ("binomial", "logit"), "poisson": ("poisson", "log")}


class GlumData(NamedTuple):
    """The problem's arrays, family and link, as glum takes them."""

    X: np.ndarray
    y: np.ndarray
    family: str
    link: str


def available() -> bool:
    """Whether glum imports."""
    try:
        import glum  # noqa: F401
    except ImportError:
        return False
    return True


def prepare(problem: Problem) -> GlumData:
    """The arrays as they are, with glum's family and link names."""
    family, link = _FAMILY_LINK.get(problem.family, ("gamma", "log"))
    return GlumData(problem.X, problem.y, family, link)


def fit(data: GlumData, tol: float | None) -> FitOutput:
    """Unpenalized fit; ``gradient_tol`` default 1e-4 (max |gradient| of the mean objective)."""
    from glum import GeneralizedLinearRegressor

    model = GeneralizedLinearRegressor(
        family=data.family, link=data.link, alpha=0.0, gradient_tol=tol
    )
    model.fit(data.X, data.y)
    return FitOutput(np.asarray(model.coef_), float(model.intercept_), int(model.n_iter_))
