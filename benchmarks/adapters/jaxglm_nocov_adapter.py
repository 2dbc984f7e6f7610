"""jaxglm ``fit`` in float64 without the covariance (``cov_type="none"``).

The peers that are fast on large ``n`` (scikit-learn, glum) compute no standard errors; this
row does the same work as they do. For a :class:`jaxglm.SubsampledNewton` fit the
covariance is one Gram product over all rows, the largest single cost of the fit.
"""

from __future__ import annotations

from benchmarks.adapters import FitOutput
from benchmarks.adapters.jaxglm_adapter import JaxglmData, available, fit_with, prepare
from benchmarks.rule import ladder

__all__ = ["available", "fit", "prepare"]

NAME = "jaxglm no-cov"
SETTINGS = "jaxglm.fit(solver=None, cov_type='none'), float64"
DEFAULT_TOL = 1e-8  # jaxglm's default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = True
ON_JAX_DEVICE = True
PEER = False


def fit(data: JaxglmData, tol: float | None) -> FitOutput:
    """``jaxglm.fit(..., cov_type="none")`` with the default solver."""
    return fit_with(data, tol, cov_type="none")
