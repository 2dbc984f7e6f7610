"""scikit-learn ``solver="newton-cholesky"``: Logistic-, Poisson- and GammaRegressor."""

from __future__ import annotations

from benchmarks.adapters import FitOutput, _sklearn
from benchmarks.adapters._sklearn import SklearnData, available, prepare
from benchmarks.rule import ladder

__all__ = ["available", "fit", "prepare"]

NAME = "sklearn newton-cholesky"
SETTINGS = "solver='newton-cholesky', no penalty, max_iter=100; tol on the max abs gradient"
DEFAULT_TOL = 1e-4  # scikit-learn's tol default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = False
ON_JAX_DEVICE = False
PEER = True
MAX_ITER = 100


def fit(data: SklearnData, tol: float | None) -> FitOutput:
    """Newton-Cholesky with line search (scikit-learn's ``NewtonCholeskySolver``)."""
    return _sklearn.fit(data, tol, solver="newton-cholesky", max_iter=MAX_ITER)
