"""jaxglm ``fit`` on NumPy arrays: the host-to-device transfer (and the padding of the rows to
their size bucket) inside the timer, as a user with NumPy data sees it; the ``jaxglm`` row
passes arrays already on the device."""

from __future__ import annotations

import numpy as np

from benchmarks.adapters.jaxglm_adapter import JaxglmData, available, fit, model
from benchmarks.problems import Problem
from benchmarks.rule import ladder

NAME = "jaxglm NumPy in"
SETTINGS = "jaxglm.fit(solver=None) on NumPy float64 arrays (transfer timed), with bse"
DEFAULT_TOL = 1e-8  # jaxglm's default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = True
ON_JAX_DEVICE = True
PEER = False

__all__ = ["available", "fit", "prepare"]


def prepare(problem: Problem) -> JaxglmData:
    """The float64 NumPy arrays (on the host) with jaxglm's family and link."""
    family, link = model(problem)
    return JaxglmData(np.asarray(problem.X, np.float64), np.asarray(problem.y, np.float64),
                      family, link)  # fmt: skip
