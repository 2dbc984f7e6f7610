"""Row padding to size buckets, so that fits of different ``n`` share one compiled program.

``jit`` compiles one program per input shape. :func:`jaxglm.fit` therefore pads the rows of
concrete inputs on the host (NumPy, before anything reaches JAX) up to :func:`bucket_size`
with rows of prior weight 0, which every statistic ignores (``nobs``, the degrees of
freedom, the deviance, the log-likelihood, Pearson's chi2, the null deviance: they all mask
``w > 0``, as for the caller's own zero-weight rows). Padding with ``jnp`` instead
(``.at[].set``, ``jnp.pad``) would itself compile once per ``n``.

The bucket rule: ``n <= 32`` pads to 32; otherwise to the next multiple of
``2 ** (floor(log2 n) - 3)``, i.e. eight buckets per power of two, so the padding is less
than 1/8 (12.5%) of ``n`` (at most ``g - 1`` rows with ``g <= n / 8``). For example
1,000..1,024 -> 1,024; 1,025 -> 1,152; 100,000 -> 106,496; 1,000,000 -> 1,048,576.

The padded rows are: ``X`` zero, ``y`` the first row's ``y`` (validation has checked that every
``y`` is in the family's support), prior weight 0, frequency weight 0,
offset 0, exposure 1.
"""

from __future__ import annotations

import weakref
from typing import Any

import jax
import numpy as np

from jaxglm import _host
from jaxglm._linalg import AbstractDesign

MIN_BUCKET = 32
"""Smallest bucket: every ``n <= MIN_BUCKET`` is padded to it."""

BUCKETS_PER_OCTAVE_LOG2 = 3
"""``2 ** 3 = 8`` buckets per power of two: the padding is below ``1/8`` of ``n``."""


def bucket_size(n: int) -> int:
    """The number of rows ``n`` is padded to (module docs: 8 buckets per power of two).

    Example:
        >>> [bucket_size(n) for n in (10, 80, 1000, 1010, 1025)]
        [32, 80, 1024, 1024, 1152]
    """
    if n <= MIN_BUCKET:
        return MIN_BUCKET
    granularity = 1 << max(int(n).bit_length() - 1 - BUCKETS_PER_OCTAVE_LOG2, 0)
    return -(-n // granularity) * granularity


ROW_ARGS = ("X", "y", "weights", "freq_weights", "offset", "exposure")
"""The arguments of :func:`jaxglm.fit` with one row per observation."""


def can_pad(*arrays: Any) -> bool:
    """Whether host padding applies: none of ``arrays`` is a ``jax.Array`` or a design
    whose blocks are sharded over devices (:func:`jaxglm.shard_rows`).

    A ``jax.Array`` is data the caller already put on a device (or sharded over several):
    padding it would copy it (0.5 s for 800 MB on this CPU, and a round trip through the
    host from an accelerator), more than the compile it saves. Such inputs are passed as
    they are.
    """
    return not any(
        isinstance(a, jax.Array) or any(is_sharded(leaf) for leaf in jax.tree.leaves(a))
        for a in arrays
    )


def is_sharded(a: Any) -> bool:
    """Whether ``a`` is a concrete ``jax.Array`` spread over more than one device."""
    concrete = isinstance(a, jax.Array) and not isinstance(a, jax.core.Tracer)
    return concrete and len(a.sharding.device_set) > 1


_ROWS: dict[int, np.ndarray] = {}
"""The caller's rows among the padded rows of each design :func:`jaxglm.shard_rows`
returned, by the array's ``id`` (each entry dropped when its array is collected)."""


def _rows_leaf(X: Any) -> Any:
    """The array that stands for ``X``'s rows: ``X``, or a design's first block (kept as
    it is when the design's options are set: :meth:`jaxglm.Design.for_model`)."""
    return jax.tree.leaves(X)[0] if isinstance(X, AbstractDesign) else X


def record_rows(X: jax.Array | AbstractDesign, rows: np.ndarray) -> None:
    """Record where the caller's rows lie in the padded global rows of ``X``.

    ``rows[i]`` is the padded row of the caller's row ``i``, counted in the global order of
    the unpadded rows (process 0's rows, then process 1's, ...); the rows not listed are
    padding. :func:`jaxglm.cv` and :func:`jaxglm.bootstrap` read it to draw their folds
    and replicates over the caller's rows.
    """
    leaf = _rows_leaf(X)
    key = id(leaf)
    _ROWS[key] = rows
    weakref.finalize(leaf, _ROWS.pop, key, None)


def caller_rows(X: Any) -> np.ndarray | None:
    """The padded rows of the caller's rows in a design from :func:`jaxglm.shard_rows`
    (:func:`record_rows`), or None for any other design (its rows are all the caller's)."""
    leaf = _rows_leaf(X)
    return _ROWS.get(id(leaf)) if isinstance(leaf, jax.Array) else None


def pad_labels(labels: Any, n_to: int) -> np.ndarray:
    """Integer ``labels`` (e.g. cluster ids) extended to ``n_to`` rows by repeating the first.

    Padded rows have weight 0, so the label they carry is never counted.
    """
    arr = np.asarray(labels)
    return np.concatenate([arr, np.full(n_to - arr.shape[0], arr[0], arr.dtype)])


def pad_rows(a: Any, n_to: int, value: float = 0.0, axis: int = 0) -> np.ndarray:
    """``a`` with rows of ``value`` appended along ``axis`` up to ``n_to`` (NumPy)."""
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.complexfloating)):
        arr = arr.astype(np.result_type(float))
    n = arr.shape[axis]
    if n == n_to:
        return arr
    shape = list(arr.shape)
    shape[axis] = n_to
    out = _host.empty(tuple(shape), arr.dtype)  # aligned: JAX's CPU client adopts it
    index = [slice(None)] * arr.ndim
    index[axis] = slice(0, n)
    out[tuple(index)] = arr
    index[axis] = slice(n, None)
    out[tuple(index)] = value
    return out


def pad_fit_arrays(
    arrays: dict[str, Any], n_to: int, members: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Pad the (n,)/(n, p) arguments of :func:`jaxglm.fit` to ``n_to`` rows (module docs).

    ``arrays`` has the keys ``X, y, weights, freq_weights, offset, exposure`` (others are
    passed through); the inputs must already be validated. The arrays named in
    ``members`` carry a batch axis first (their rows are axis 1). Returns a new dict.
    """
    n = np.shape(arrays["X"])[-2]
    out = dict(arrays)
    if n_to == n:
        return out

    def pad(name, value):
        return pad_rows(arrays[name], n_to, value, axis=int(name in members))

    # Each fit's first y: validated to be in the family's support (all of y is). Rows are
    # axis 0 (axis 1 per member); a Multinomial's y may carry a class axis after them.
    y = np.asarray(arrays["y"])
    axis = int("y" in members)
    out["y"] = pad_rows(y, n_to, 0.0, axis=axis)
    rows = (slice(None),) * axis
    out["y"][(*rows, slice(n, None))] = y[(*rows, slice(0, 1))]
    X = arrays["X"]
    out["X"] = X.pad_rows(n_to) if isinstance(X, AbstractDesign) else pad("X", 0.0)
    if arrays["weights"] is None:
        out["weights"] = pad_rows(np.ones(n), n_to, 0.0)
    else:
        out["weights"] = pad("weights", 0.0)
    for name, value in (("freq_weights", 0.0), ("offset", 0.0), ("exposure", 1.0)):
        if arrays[name] is not None:
            out[name] = pad(name, value)
    return out
