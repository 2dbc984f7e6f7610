"""``precision="mixed"`` on :func:`jaxglm.cv` (and so :func:`jaxglm.path`) and on
:func:`jaxglm.fit_stream` (issue 20): float32 ``X``, the Gram from float32 products over
row blocks summed in float64, the passes and everything else in float64. Each must give
the float64 answer of the same float32 data. The data have 10,240 rows in uncentred columns
on scales 0.1 to 10, so that the Gram runs over several float32 blocks (rows centred);
tests/test_x64_off.py checks the refusal with x64 off.

The bound for the path: both paths stop at a KKT violation of at most ``tol`` (1e-10 here),
so their coefficients differ by at most about ``tol / lambda_min`` of the active set's
Hessian, far below 1e-6 of the path's largest coefficient (the test's bound, relative to
it: the coefficients entering the path are near 0).
"""

import numpy as np

import jaxglm as jg
from jaxglm import _linalg
from tests.test_references import rel_err


def _data(n=10_240, p=5, seed=4):
    rng = np.random.default_rng(seed)
    scales = np.logspace(-1, 1, p)
    X = (2.0 + rng.normal(size=(n, p)) * scales).astype(np.float32)
    eta = 0.3 + (X - 2.0) @ (rng.normal(size=p) * 0.5 / scales)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.float64)
    return X, y


def test_mixed_cv_is_the_float64_cv_of_the_float32_data():
    """The full-data path (coefficients at every alpha, zeros in the same places), the
    held-out deviances, the chosen alphas and the refit."""
    X, y = _data()
    kw = dict(n_alphas=8, n_folds=3, l1_ratio=0.5, tol=1e-10)
    mixed = jg.cv(X, y, jg.Bernoulli(), precision="mixed", **kw)
    exact = jg.cv(X.astype(np.float64), y, jg.Bernoulli(), **kw)
    path, ref = mixed.path, exact.path
    assert path.coef.dtype == np.float64 and mixed.refit.params.dtype == np.float64
    assert np.all(np.asarray(path.status) == jg.Status.CONVERGED)
    np.testing.assert_allclose(path.alphas, ref.alphas, rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(path.coef) == 0, np.asarray(ref.coef) == 0)
    top = np.max(np.abs(ref.coef))
    assert np.max(np.abs(np.asarray(path.coef) - ref.coef)) < 1e-6 * top
    assert rel_err(path.intercept, ref.intercept) < 1e-6
    assert rel_err(mixed.mean, exact.mean) < 1e-10
    for chosen in ("alpha_min", "alpha_1se"):  # the same grid point (grids 1e-16 apart)
        at = [np.flatnonzero(r.path.alphas == getattr(r, chosen)) for r in (mixed, exact)]
        np.testing.assert_array_equal(*at)
    assert rel_err(mixed.refit.params, exact.refit.params) < 1e-6


def test_mixed_stream_is_the_float64_fit_of_the_float32_data():
    """Two chunks of 8,192 rows (the second padded; each chunk's Gram over two float32
    blocks): params and bse of the float64 fit of the same float32 rows (``tol=1e-12``) to
    1e-6, the deviance to 1e-10."""
    X, y = _data()
    chunks = [(X[i : i + 8192], y[i : i + 8192]) for i in range(0, len(y), 8192)]
    mixed = jg.fit_stream(chunks, jg.Bernoulli(), precision="mixed")
    exact = jg.fit(X.astype(np.float64), y, jg.Bernoulli(), tol=1e-12)
    assert mixed.params.dtype == np.float64 and bool(mixed.converged)
    assert rel_err(mixed.params, exact.params) < 1e-6
    assert rel_err(mixed.bse, exact.bse) < 1e-6
    assert abs(float(mixed.deviance) / float(exact.deviance) - 1) < 1e-10


def test_mixed_product_with_class_coefficients():
    """``X @ beta`` of a float32 ``X`` with float64 (p, m) coefficients (a mixed Multinomial
    fit's: a broadcasting TypeError before) is the float64 product of the float32 data."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    beta = rng.normal(size=(3, 2))
    got = _linalg.times(X, beta)
    assert got.dtype == np.float64 and got.shape == (50, 2)
    np.testing.assert_allclose(got, X.astype(np.float64) @ beta, rtol=1e-14)
