"""One adapter per GLM library, all with the same small interface.

An adapter is a module with:

- ``NAME``: the tool's name in the tables (``--only`` matches substrings of it);
- ``SETTINGS``: the fixed settings it uses (the runner adds the tolerance);
- ``TOLS``: the tolerances to try, loosest first; ``None`` means the library's default.
  The runner takes the first one that reaches the accuracy target;
- ``DTYPE``: ``"float64"`` or ``"float32"`` (sets the accuracy target);
- ``USES_JAX``: it compiles with JAX (the runner reports compile time apart);
- ``ON_JAX_DEVICE``: it runs on JAX's default device (a GPU when there is one);
  peers that do not stay on the CPU;
- ``PEER``: it is a peer library (``False`` for jaxglm itself); ratios are to the fastest peer;
- ``available() -> bool``: whether the library imports;
- ``prepare(problem) -> data``: untimed conversion of a :class:`~benchmarks.problems.Problem`
  to what the library takes (intercept column, dtype, device transfer);
- ``fit(data, tol) -> FitOutput``: the timed fit, blocking until the result is ready.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np

from benchmarks.problems import Problem


class FitOutput(NamedTuple):
    """What every adapter's ``fit`` returns."""

    coef: np.ndarray
    intercept: float
    n_iter: int
    solver: str | None = None  # jaxglm's solver (its floor depends on it); None for peers
    covariance: bool = False  # whether the fit computed the covariance of the estimate


class Adapter(Protocol):
    """The interface of an adapter module (see the module docstring)."""

    NAME: str
    SETTINGS: str
    TOLS: tuple[float | None, ...]
    DTYPE: str
    USES_JAX: bool
    ON_JAX_DEVICE: bool
    PEER: bool

    def available(self) -> bool:
        """Whether the library imports."""
        ...

    def prepare(self, problem: Problem) -> Any:
        """Untimed conversion of ``problem`` to the library's input."""
        ...

    def fit(self, data: Any, tol: float | None) -> FitOutput:
        """The timed fit."""
        ...


def all_adapters() -> list[Adapter]:
    """Every adapter module, peers first, in table order."""
    from benchmarks.adapters import (
        glmax_adapter,
        glum_adapter,
        jaxglm_adapter,
        jaxglm_float32_adapter,
        jaxglm_newton_adapter,
        jaxglm_nocov_adapter,
        jaxglm_numpy_adapter,
        sklearn_float32,
        sklearn_lbfgs,
        sklearn_newton,
        statsmodels_glm,
    )

    return [
        statsmodels_glm,
        sklearn_newton,
        sklearn_lbfgs,
        sklearn_float32,
        glum_adapter,
        glmax_adapter,
        jaxglm_adapter,
        jaxglm_numpy_adapter,
        jaxglm_nocov_adapter,
        jaxglm_newton_adapter,
        jaxglm_float32_adapter,
    ]
