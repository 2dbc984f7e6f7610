"""The floor: what one Newton iteration must cost on the data, with no algorithm around it.

One iteration of an exact Newton/IRLS fit touches the data at least three times: the Gram
matrix ``X^T diag(h) X``, the linear predictor ``X @ beta`` and the score ``v @ X``. The floor
is the time of these three products, measured with NumPy's BLAS (``(X * sqrt(h))`` then a
product with its own transpose, which NumPy hands to ``syrk``) and with XLA (``jax.jit``, data
on JAX's default device, in float64 and in float32). A fit that takes ``k`` Newton
iterations cannot be faster than about ``k`` floors.

Example:
    >>> import numpy as np
    >>> floors = measure_floors(np.random.default_rng(0).standard_normal((1000, 10)), repeats=3)
    >>> sorted(floors)
    ['numpy_float64', 'xla_float32', 'xla_float64']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np


class Floor(NamedTuple):
    """Seconds (fastest of the repeats) of the three products of one Newton iteration."""

    gram: float
    matvec: float
    vecmat: float

    @property
    def total(self) -> float:
        """Seconds of one iteration's three products together."""
        return self.gram + self.matvec + self.vecmat


def algorithm_seconds(
    floor: Floor, solver: str, n_iter: int, n: int, p: int, covariance: bool
) -> float:
    """The floor of one jaxglm fit: the products over all rows its solver needs, priced.

    - ``Newton`` (and any other solver): ``n_iter`` x (Gram + ``X @ beta`` + ``v @ X``).
    - ``SubsampledNewton`` (default row counts): the start's ``X @ beta`` and ``v @ X``, its
      preconditioner (a Gram product on ``max(200 (p+1), n / 10)`` rows), ``n_iter`` x
      (``X @ s`` + ``v @ X``), and with the covariance one more full Gram product. The exact
      Newton start on ``50 (p+1)`` rows is left out (a lower bound).

    Example:
        >>> f = Floor(gram=1.0, matvec=0.1, vecmat=0.1)
        >>> round(algorithm_seconds(f, "SubsampledNewton", 4, 10**6, 99, True), 3)
        2.1
    """
    if solver != "SubsampledNewton":
        return n_iter * floor.total
    passes = floor.matvec + floor.vecmat
    preconditioner = floor.gram * min(1.0, max(200 * (p + 1) / n, 0.1))
    return (n_iter + 1) * passes + preconditioner + floor.gram * covariance


def measure_floors(X: np.ndarray, repeats: int) -> dict[str, Floor]:
    """Time the three products on ``X`` with NumPy (float64) and XLA (float64, float32).

    JAX must run with ``jax_enable_x64`` on for the float64 XLA floor to be float64.

    Args:
        X: design matrix, shape (n, p), float64.
        repeats: timed runs per product (after one warm-up); the fastest is kept: a floor is
            the cost the hardware can reach, not a typical one.

    Returns:
        ``{"numpy_float64": Floor, "xla_float64": Floor, "xla_float32": Floor}``.
    """
    rng = np.random.default_rng(0)
    n, p = X.shape
    h = rng.uniform(0.1, 1.0, n)
    beta = rng.standard_normal(p)
    v = rng.standard_normal(n)
    floors = {
        "numpy_float64": Floor(
            gram=_min_seconds(lambda: _numpy_gram(X, h), repeats),
            matvec=_min_seconds(lambda: X @ beta, repeats),
            vecmat=_min_seconds(lambda: v @ X, repeats),
        )
    }
    for dtype in (np.float64, np.float32):
        floors[f"xla_{np.dtype(dtype).name}"] = _xla_floor(X, h, beta, v, dtype, repeats)
    return floors


def _xla_floor(
    X: np.ndarray,
    h: np.ndarray,
    beta: np.ndarray,
    v: np.ndarray,
    dtype: type[np.floating],
    repeats: int,
) -> Floor:
    """The three products with ``jax.jit`` on JAX's default device, in ``dtype``."""
    Xd, hd, betad, vd = (jax.device_put(a.astype(dtype)) for a in (X, h, beta, v))
    return Floor(
        gram=_min_seconds(lambda: _xla_gram(Xd, hd), repeats),
        matvec=_min_seconds(lambda: _xla_matvec(Xd, betad), repeats),
        vecmat=_min_seconds(lambda: _xla_vecmat(vd, Xd), repeats),
    )


def _numpy_gram(X: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``X^T diag(h) X`` as ``Xs^T Xs``, ``Xs = X * sqrt(h)``: NumPy calls BLAS ``syrk``."""
    Xs = X * np.sqrt(h)[:, None]
    return Xs.T @ Xs


@jax.jit
def _xla_gram(X: jax.Array, h: jax.Array) -> jax.Array:
    # (X * h)^T X: XLA fuses the scaling and makes no transposed copy of X.
    return (X * h[:, None]).T @ X


@jax.jit
def _xla_matvec(X: jax.Array, beta: jax.Array) -> jax.Array:
    return X @ beta


@jax.jit
def _xla_vecmat(v: jax.Array, X: jax.Array) -> jax.Array:
    # Data on the right: XLA:CPU copies X for X.T @ v (DESIGN.md, measured facts).
    return v @ X


def _min_seconds(func: Callable[[], object], repeats: int) -> float:
    """Fastest wall time of ``func`` over ``repeats`` runs after one warm-up run."""
    jax.block_until_ready(func())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(func())
        times.append(time.perf_counter() - start)
    return min(times)
