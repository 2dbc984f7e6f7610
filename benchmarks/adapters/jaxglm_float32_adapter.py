"""jaxglm ``fit`` in float32: float32 arrays in, float32 arithmetic (held to ~1e-2 SE)."""

from __future__ import annotations

import numpy as np

from benchmarks.adapters.jaxglm_adapter import JaxglmData, available, fit, prepare_as
from benchmarks.problems import Problem
from benchmarks.rule import ladder

__all__ = ["available", "fit", "prepare"]

NAME = "jaxglm float32"
SETTINGS = "jaxglm.fit(solver=None: the default by size), float32, with bse"
DEFAULT_TOL = 1e-8  # jaxglm's (floored at 10 float32 epsilons) default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float32"
USES_JAX = True
ON_JAX_DEVICE = True
PEER = False


def prepare(problem: Problem) -> JaxglmData:
    """The arrays cast to float32 on JAX's default device."""
    return prepare_as(problem, np.float32)
