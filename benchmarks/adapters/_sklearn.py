"""Shared code of the two scikit-learn adapters (Newton-Cholesky and L-BFGS)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from benchmarks.adapters import FitOutput
from benchmarks.problems import Problem


class SklearnData(NamedTuple):
    """The problem's arrays and family, as the scikit-learn estimators take them."""

    X: np.ndarray
    y: np.ndarray
    family: str


def available() -> bool:
    """Whether scikit-learn imports."""
    try:
        import sklearn.linear_model  # noqa: F401
    except ImportError:
        return False
    return True


def prepare(problem: Problem) -> SklearnData:
    """The arrays as they are: scikit-learn takes C-contiguous float64 without a copy."""
    return SklearnData(problem.X, problem.y, problem.family)


def fit(data: SklearnData, tol: float | None, solver: str, max_iter: int) -> FitOutput:
    """Unpenalized fit with ``solver``; the tolerance is scikit-learn's ``tol`` (default 1e-4).

    ``LogisticRegression`` (``HalfBinomialLoss``) is unpenalized with ``C=inf`` (its
    ``penalty=None`` is deprecated since scikit-learn 1.8); ``PoissonRegressor`` and
    ``GammaRegressor`` (log link) with ``alpha=0``.
    """
    from sklearn.linear_model import GammaRegressor, LogisticRegression, PoissonRegressor

    kwargs: dict[str, object] = {"solver": solver, "max_iter": max_iter}
    if tol is not None:
        kwargs["tol"] = tol
    if data.family == "logistic":
        model = LogisticRegression(C=np.inf, **kwargs)
    elif data.family == "poisson":
        model = PoissonRegressor(alpha=0.0, **kwargs)
    else:
        model = GammaRegressor(alpha=0.0, **kwargs)
    model.fit(data.X, data.y)
    n_iter = int(np.max(model.n_iter_))
    return FitOutput(np.ravel(model.coef_), float(np.ravel(model.intercept_)[0]), n_iter)
