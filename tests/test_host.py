"""Host arrays handed to JAX without its copy (jaxglm._host): the alignment that lets the
CPU client adopt a NumPy buffer, and the entry points that build their arrays that way."""

import jax
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import _host, _padding

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU adoption only")


def _misaligned(shape, offset=16):
    """A C-ordered float64 array whose data start ``offset`` bytes past a 64-byte boundary."""
    size = int(np.prod(shape)) * 8
    buffer = np.empty(size + 128, np.uint8)
    start = (-buffer.ctypes.data % 64) + offset
    out = buffer[start : start + size].view(np.float64).reshape(shape)
    out[...] = np.arange(out.size, dtype=float).reshape(shape) / 7.0
    return out


@cpu_only
def test_aligned_copies_only_what_jax_would_copy():
    x = _misaligned((50, 3))
    assert x.ctypes.data % 64 == 16
    a = _host.aligned(x)
    assert a is not x and a.ctypes.data % 64 == 0 and a.flags.c_contiguous
    np.testing.assert_array_equal(a, x)
    assert _host.aligned(a) is a  # aligned already: handed through
    f = np.asfortranarray(x)  # F order: a C-ordered copy, same values
    np.testing.assert_array_equal(_host.aligned(f), x)
    c = _host.aligned(x, np.float32)  # the dtype converted in the same copy
    assert c.dtype == np.float32 and c.ctypes.data % 64 == 0
    np.testing.assert_array_equal(c, x.astype(np.float32))
    ints = _host.aligned(np.arange(6).reshape(2, 3), np.float64)
    np.testing.assert_array_equal(ints, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert _host.empty((0, 4), np.float64).shape == (0, 4)


@cpu_only
def test_the_cpu_client_adopts_aligned_arrays():
    """The premise of jaxglm._host: an aligned array becomes a device buffer without a copy
    (a JAX release that stops adopting it makes this fail, and the module's reason with it),
    a misaligned one is copied."""
    a = _host.aligned(_misaligned((64, 4)))
    assert jax.device_put(a).unsafe_buffer_pointer() == a.ctypes.data
    x = _misaligned((64, 4))
    assert jax.device_put(x).unsafe_buffer_pointer() != x.ctypes.data
    d = _host.to_device(x)
    assert isinstance(d, jax.Array)
    np.testing.assert_array_equal(np.asarray(d), x)


@cpu_only
def test_padded_rows_are_aligned():
    padded = _padding.pad_rows(_misaligned((5, 3)), 8, 0.0)
    assert padded.ctypes.data % 64 == 0 and padded.shape == (8, 3)
    np.testing.assert_array_equal(padded[5:], 0.0)


def test_fits_from_misaligned_numpy_equal_fits_from_device_arrays():
    """fit, fit_many (chunked members taken on the host), path and predict on a misaligned
    NumPy X give what they give on the same X as a jax.Array."""
    rng = np.random.default_rng(3)
    X = _misaligned((120, 3))
    X[...] = rng.normal(size=(120, 3))
    y = rng.poisson(np.exp(0.2 + X @ np.array([0.3, -0.2, 0.1]))).astype(float)
    Xd = jax.device_put(np.array(X))
    res, ref = jg.fit(X, y, jg.Poisson()), jg.fit(Xd, y, jg.Poisson())
    np.testing.assert_allclose(res.params, ref.params, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.predict(X), ref.predict(Xd), rtol=1e-14)
    Y = np.stack([y, y[::-1]])
    many = jg.fit_many(X, Y, jg.Poisson(), batch_size=1, method="vmap")
    np.testing.assert_allclose(many.params[0], ref.params, rtol=0, atol=1e-12)
    path, path_ref = (jg.path(A, y, jg.Poisson(), n_alphas=3) for A in (X, Xd))
    np.testing.assert_allclose(path.coef, path_ref.coef, rtol=0, atol=1e-14)
