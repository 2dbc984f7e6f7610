"""scikit-learn ``solver="lbfgs"``: Logistic-, Poisson- and GammaRegressor."""

from __future__ import annotations

from benchmarks.adapters import FitOutput, _sklearn
from benchmarks.adapters._sklearn import SklearnData, available, prepare
from benchmarks.rule import ladder

__all__ = ["available", "fit", "prepare"]

NAME = "sklearn lbfgs"
SETTINGS = "solver='lbfgs', no penalty, max_iter=1000; tol = scipy's gtol"
DEFAULT_TOL = 1e-4  # scikit-learn's tol default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = False
ON_JAX_DEVICE = False
PEER = True
#: 10x scikit-learn's default: L-BFGS needs thousands of iterations when cond(X) ~ 1e3.
MAX_ITER = 1000


def fit(data: SklearnData, tol: float | None) -> FitOutput:
    """L-BFGS-B through ``scipy.optimize.minimize`` (scikit-learn's ``lbfgs`` solver)."""
    return _sklearn.fit(data, tol, solver="lbfgs", max_iter=MAX_ITER)
