"""Host arrays that JAX's CPU client takes without copying them.

On the CPU, JAX adopts a C-ordered NumPy array as a device buffer, without a copy, when
its data start on a :data:`ALIGNMENT`-byte boundary; any other array it copies (0.48-0.54 s
for an n = 10^6, p = 100 float64 design on this project's CPU, ``jnp.asarray`` twice that;
``benchmarks/RESULTS.md``, 2026-12-07 12:41-13:38). NumPy starts large arrays 16 bytes past
such a boundary, so a caller's design is usually copied. :func:`aligned` makes the copy
itself, into aligned memory, at NumPy's speed (0.14 s there), converting the dtype in the
same pass, and hands an array that is aligned already through untouched; :func:`empty`
allocates aligned memory for arrays built on the host (padded rows), which are then
adopted with no copy at all. Other backends copy to their device whatever the alignment:
there :func:`aligned` only converts the dtype, as ``np.asarray`` does.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

ALIGNMENT = 64
"""Bytes: XLA:CPU's buffer alignment (a host array aligned to it is adopted, not copied)."""


def empty(shape: int | tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialized C-ordered NumPy array whose data start on an :data:`ALIGNMENT`-byte
    boundary.

    Example:
        >>> import numpy as np
        >>> a = empty((3, 2), np.float64)
        >>> a.shape, a.ctypes.data % ALIGNMENT
        ((3, 2), 0)
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(size + ALIGNMENT, np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    return buffer[start : start + size].view(dtype).reshape(shape)


def is_aligned(a: np.ndarray) -> bool:
    """Whether JAX's CPU client can adopt ``a`` as it is (C order, aligned data)."""
    return a.flags.c_contiguous and a.ctypes.data % ALIGNMENT == 0


def aligned(a: Any, dtype: Any = None) -> np.ndarray:
    """``a`` as a NumPy array of ``dtype`` (default: its own) that a CPU backend takes
    without a copy: ``a`` itself where it already is one, else one copy (module docs).

    On other backends (the default backend's platform is not ``"cpu"``): ``np.asarray(a,
    dtype)``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(6.0).reshape(3, 2)
        >>> y = aligned(x[:, ::-1], np.float32)
        >>> y.dtype.name, y.tolist()
        ('float32', [[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])
        >>> aligned(y) is y or jax.default_backend() != "cpu"
        True
    """
    arr = np.asarray(a)
    dtype = arr.dtype if dtype is None else np.dtype(dtype)
    if jax.default_backend() != "cpu":
        return arr.astype(dtype, copy=False)
    if arr.dtype == dtype and is_aligned(arr):
        return arr
    out = empty(arr.shape, dtype)
    np.copyto(out, arr, casting="unsafe")
    return out


def for_jit(a: Any) -> Any:
    """A NumPy argument of a jitted function as :func:`aligned` in JAX's dtype for it
    (float64 is float32 without x64), so that the call adopts it; anything else as given.

    Example:
        >>> import numpy as np
        >>> for_jit(np.ones(3)).dtype == jax.dtypes.canonicalize_dtype(np.float64)
        True
    """
    if not isinstance(a, np.ndarray):
        return a
    return aligned(a, jax.dtypes.canonicalize_dtype(a.dtype))


def to_device(a: Any, dtype: Any = None) -> jax.Array:
    """``a`` as a ``jax.Array`` of ``dtype`` on the default device: a NumPy array through
    :func:`aligned` (on the CPU no second copy), a ``jax.Array`` as ``jnp.asarray`` would.

    Example:
        >>> import numpy as np
        >>> to_device(np.ones((2, 2)), np.float32).dtype.name
        'float32'
    """
    if isinstance(a, jax.Array):
        return a if dtype is None else a.astype(dtype)
    arr = np.asarray(a)
    target = arr.dtype if dtype is None else dtype
    return jax.device_put(aligned(arr, jax.dtypes.canonicalize_dtype(target)))
