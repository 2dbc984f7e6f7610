"""jaxglm ``fit`` in float64 with exact Newton on all rows (``solver=jaxglm.Newton()``).

The default for small ``n``; on large ``n`` it shows what :class:`jaxglm.SubsampledNewton`
(the default there) saves: one Gram product over all rows per iteration.
"""

from __future__ import annotations

from benchmarks.adapters import FitOutput
from benchmarks.adapters.jaxglm_adapter import JaxglmData, available, fit_with, prepare
from benchmarks.rule import ladder

__all__ = ["available", "fit", "prepare"]

NAME = "jaxglm Newton"
SETTINGS = "jaxglm.fit(solver=Newton()), float64, with bse; tol on the Newton decrement"
DEFAULT_TOL = 1e-8  # jaxglm.Newton's default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = True
ON_JAX_DEVICE = True
PEER = False


def fit(data: JaxglmData, tol: float | None) -> FitOutput:
    """``jaxglm.fit(..., solver=jaxglm.Newton())``."""
    import jaxglm

    return fit_with(data, tol, solver=jaxglm.Newton())
