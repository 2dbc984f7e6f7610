"""scikit-learn ``solver="newton-cholesky"`` on float32 arrays: the float32 peer row, held to
the float32 accuracy target as jaxglm's float32 row (ratios compare rows of one dtype)."""

from __future__ import annotations

import numpy as np

from benchmarks.adapters import FitOutput, _sklearn
from benchmarks.adapters._sklearn import SklearnData, available
from benchmarks.problems import Problem
from benchmarks.rule import ladder

__all__ = ["available", "fit", "prepare"]

NAME = "sklearn newton-cholesky float32"
SETTINGS = "solver='newton-cholesky' on float32 arrays, no penalty, max_iter=100; tol"
DEFAULT_TOL = 1e-4  # scikit-learn's tol default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float32"
USES_JAX = False
ON_JAX_DEVICE = False
PEER = True
MAX_ITER = 100


def prepare(problem: Problem) -> SklearnData:
    """The arrays cast to float32 (outside the timer, as jaxglm's float32 row)."""
    return SklearnData(problem.X.astype(np.float32), problem.y.astype(np.float32), problem.family)


def fit(data: SklearnData, tol: float | None) -> FitOutput:
    """Newton-Cholesky on the float32 arrays."""
    return _sklearn.fit(data, tol, solver="newton-cholesky", max_iter=MAX_ITER)
