"""glmax ``fit`` (a JAX GLM library; default ``IRLSFitter``), run on the CPU.

glmax has no intercept option: ``prepare`` prepends a constant column. Importing glmax turns
``jax_enable_x64`` on for the whole process (glmax does this in its ``__init__``); the runner
turns it on anyway for the float64 rows.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from benchmarks.adapters import FitOutput
from benchmarks.problems import Problem
from benchmarks.rule import ladder

NAME = "glmax IRLS"
SETTINGS = "glmax.fit(fitter=IRLSFitter(Cholesky)), on CPU; tol on the change of the summed NLL"
DEFAULT_TOL = 1e-3  # glmax IRLSFitter's default
TOLS: tuple[float | None, ...] = ladder(DEFAULT_TOL)  # benchmarks.rule
DTYPE = "float64"
USES_JAX = True
ON_JAX_DEVICE = False
PEER = True


class GlmaxData(NamedTuple):
    """``[1, X]`` and ``y`` on the CPU device, and the glmax family."""

    X1: jax.Array
    y: jax.Array
    family: object


def available() -> bool:
    """Whether glmax imports."""
    try:
        import glmax  # noqa: F401
    except ImportError:
        return False
    return True


def prepare(problem: Problem) -> GlmaxData:
    """Prepend the constant column and put the arrays on the CPU device."""
    import glmax

    families = {
        "logistic": glmax.Binomial,
        "poisson": glmax.Poisson,
        "gamma_log": lambda: glmax.Gamma(glmax.LogLink()),
    }
    cpu = jax.devices("cpu")[0]
    X1 = np.column_stack([np.ones(len(problem.y)), problem.X])
    return GlmaxData(
        jax.device_put(X1, cpu), jax.device_put(problem.y, cpu), families[problem.family]()
    )


def fit(data: GlmaxData, tol: float | None) -> FitOutput:
    """IRLS to glmax's tolerance (default 1e-3), blocking until the result is ready."""
    import glmax

    fitter = glmax.IRLSFitter() if tol is None else glmax.IRLSFitter(tol=tol)
    result = jax.block_until_ready(glmax.fit(data.family, data.X1, data.y, fitter=fitter).result)
    params = np.asarray(result.params.beta)
    return FitOutput(params[1:], float(params[0]), int(result.num_iters))
