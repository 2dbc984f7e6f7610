"""``fit(precision="mixed")`` and the blocked, pairwise sums over rows (issue 20).

The mixed fit keeps ``X`` in float32, forms the Gram from float32 products over row blocks
and does the rest in float64: it must reach the float64 fit of the same float32 data
(``tol=1e-12``) to 1e-6 relative, elementwise, as the issue asks — here on a synthetic
n = 20,000 logistic fit whose score and Gram run over several row blocks (the Gram's
float32 products centred); tests/test_references.py checks the ill-conditioned reference
designs (longley, star98), ``tests/scripts/float32_errors.py`` prints every case.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import _linalg
from jaxglm.solvers import optax as optax_solver
from tests.test_references import rel_err, rounded_fits


def test_mixed_on_many_row_blocks():
    """n = 20,000 (padded to 20,480 rows: the score over 160 blocks of 128 rows, the Gram
    over 5 blocks of 4,096), uncentred columns on scales 0.1 to 100."""
    rng = np.random.default_rng(3)
    n, p = 20_000, 8
    scales = np.logspace(-1, 2, p)
    X = 3.0 + rng.normal(size=(n, p)) * scales
    eta = 0.2 + (X - 3.0) @ (rng.normal(size=p) * 0.4 / scales)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(np.float32)
    mixed, exact = rounded_fits(X, y, jg.Bernoulli())
    assert bool(mixed.converged), mixed.status_message
    assert rel_err(mixed.params, exact.params) < 1e-6
    assert rel_err(mixed.bse, exact.bse) < 1e-6


def test_precision_option_is_checked():
    X, y = np.ones((4, 1), np.float32), np.ones(4, np.float32)
    with pytest.raises(ValueError, match="precision must be None or 'mixed'"):
        jg.fit(X, y, precision="double")


def test_row_sums_are_accurate():
    """float32 sums of 2^18 values, one of them 2^24 (a sequential float32 sum drops every 1
    added to it): the blocked pairwise sums of the objective and of the score are within
    (block length + log2 blocks) eps of the exact sum."""
    n = 2**18
    r = np.ones(n, np.float32)
    r[0] = 2.0**24
    exact = 2.0**24 + n - 1
    eps = np.finfo(np.float32).eps
    assert abs(float(jax.jit(_linalg.row_sum)(r)) / exact - 1) < (1024 + 11) * eps
    X = np.stack([np.ones(n, np.float32), np.full(n, 0.5, np.float32)], axis=1)
    score = np.asarray(jax.jit(_linalg.score)(X, r), np.float64)
    want = np.array([exact, exact, exact / 2])
    assert np.max(np.abs(score / want - 1)) < (128 + 11) * eps


@pytest.mark.parametrize("loop", [True, False], ids=["cpu-loop", "batched"])
def test_mixed_gram_counts_a_remainder_block(loop, monkeypatch):
    """A mixed-precision Gram of n = 2^14 + 7 rows (no block count divides n), centred (the
    columns' means are 5): the last rows are a block of their own (leaving out its 3 rows
    would move the matrix by 2e-4), and the matrix is the float64 Gram of the float32 rows
    to float32 products' rounding, both as the CPU's loop over row blocks and as the
    batched product of the other backends."""
    if not loop:
        monkeypatch.setattr(_linalg, "_gram_in_a_loop", lambda n: False)
    assert _linalg._gram_in_a_loop(2**14 + 7) is loop
    rng = np.random.default_rng(1)
    n = 2**14 + 7
    X = (5.0 + rng.normal(size=(n, 2))).astype(np.float32)
    h = rng.uniform(0.5, 1.5, n)
    X1 = np.concatenate([np.ones((n, 1)), X.astype(np.float64)], axis=1)
    want = (X1 * h[:, None]).T @ X1
    got = np.asarray(jax.jit(lambda X, h: _linalg.gram(X, h))(X, h))  # traced anew
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-6


def test_gram_loop_over_row_blocks_equals_the_batched_product(monkeypatch):
    """On one CPU device the Gram of one dtype and at least 2 x 4,096 rows is a loop over
    row blocks (made 1,000 rows here: eight and a last one of 197), Kahan-summed: equal to
    the batched product it replaced and to NumPy's float64 cross product to rounding, in
    float32 within a few block products' rounding of it; reverse-mode derivatives pass
    through the loop (d/dh_i of sum(W * G) is x_i^T W x_i)."""
    rng = np.random.default_rng(2)
    n, p = 8197, 3
    X = 2.0 + rng.normal(size=(n, p))
    h = rng.uniform(0.5, 1.5, n)
    monkeypatch.setattr(_linalg, "GRAM_LOOP_ELEMENTS", 3000)
    monkeypatch.setattr(_linalg, "MIN_GRAM_LOOP_ROWS", 1000)
    assert _linalg._gram_in_a_loop(n)
    X1 = np.concatenate([np.ones((n, 1)), X], axis=1)
    want = (X1 * h[:, None]).T @ X1
    gram = jax.jit(_linalg.gram)
    got = np.asarray(gram(X, h))
    batched = jax.jit(_linalg._blocked, static_argnums=(0, 2, 3))(
        _linalg._gram_blocks, (h, X), np.dtype(np.float64), _linalg.GRAM_BLOCK_ROWS
    )
    assert np.max(np.abs(got - want) / np.abs(want)) < 1e-14
    assert np.max(np.abs(got - np.asarray(batched)) / np.abs(want)) < 1e-14
    got32 = np.asarray(gram(X.astype(np.float32), h.astype(np.float32)), np.float64)
    X32 = np.concatenate([np.ones((n, 1)), X.astype(np.float32)], axis=1).astype(np.float64)
    want32 = (X32 * h.astype(np.float32)[:, None]).T @ X32
    assert np.max(np.abs(got32 - want32) / np.abs(want32)) < 2e-6
    W = rng.normal(size=(p + 1, p + 1))
    dh = jax.jit(jax.grad(lambda h: jnp.sum(W * _linalg.gram(X, h))))(h)
    want_dh = np.einsum("ij,jk,ik->i", X1, W, X1)
    np.testing.assert_allclose(dh, want_dh, rtol=1e-12, atol=1e-12 * np.abs(want_dh).max())


def test_mixed_reaches_every_entry_point_through_the_spec(poisson_data):
    """fit_many's and bootstrap's members run the mixed program of fit: a member equals
    the single mixed fit of its data, and a bootstrap's full-data fit is that fit."""
    X, y = poisson_data
    Y = np.stack([y, y[::-1]])
    one = [jg.fit(X, yi, jg.Poisson(), precision="mixed") for yi in Y]
    many = jg.fit_many(X, Y, jg.Poisson(), precision="mixed")
    boot = jg.bootstrap(X, y, jg.Poisson(), n_boot=3, key=0, precision="mixed")
    assert one[0].params.dtype == np.float64 and many.params.dtype == np.float64
    for i in range(2):
        np.testing.assert_allclose(many[i].params, one[i].params, rtol=1e-10)
        np.testing.assert_allclose(many[i].bse, one[i].bse, rtol=1e-10)
    np.testing.assert_allclose(boot.fit.params, one[0].params, rtol=1e-12)
    assert boot.params.shape == (3, 4) and np.isfinite(boot.params).all()
    with pytest.raises(ValueError, match="precision must be None or 'mixed'"):
        jg.fit_many(X, Y, jg.Poisson(), precision="double")
    with pytest.raises(ValueError, match="precision must be None or 'mixed'"):
        jg.bootstrap(X, y, jg.Poisson(), precision="double")


def _correlated_columns(n, p, cond, seed):
    """``Z A`` with ``A``'s singular values log-spaced from 1 to ``1/cond``, unit columns
    (benchmarks/problems.py's ill-conditioned design), and a logistic response."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((p, p)))
    A = np.logspace(0, -np.log10(cond), p)[:, None] * q * np.sign(np.diag(r))
    A /= np.linalg.norm(A, axis=0)
    X = rng.standard_normal((n, p)) @ A
    beta = rng.standard_normal(p)
    beta /= np.sqrt(beta @ A.T @ A @ beta)
    y = rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + X @ beta)))
    return X.astype(np.float32), y.astype(np.float32)


def test_float32_ill_conditioned_design_is_not_singular():
    """cond(X) = 3,000, p = 30: the centred float32 Gram's smallest squared pivot is about
    180 eps, which the former rule (``10 (p+1) eps`` = 310 eps) declared RANK_DEFICIENT.
    The fit converges near the float64 fit of the same data (measured 3e-4 SE for params,
    1.4% for bse: a float32 inverse of a Gram with cond ~ 1e7)."""
    X, y = _correlated_columns(4_000, 30, 3_000.0, 1)
    assert _linalg.rank_tolerance(np.float32, 30) < 180 * np.finfo(np.float32).eps
    got = jg.fit(X, y, jg.Bernoulli())
    ref = jg.fit(X.astype(np.float64), y.astype(np.float64), jg.Bernoulli(), tol=1e-12)
    assert bool(got.converged), got.status_message
    bse = np.asarray(ref.bse)
    assert np.max(np.abs(np.asarray(got.params, float) - ref.params) / bse) < 1e-2
    assert np.max(np.abs(np.asarray(got.bse, float) / bse - 1)) < 0.1


def test_float32_aliased_columns_are_singular():
    """``[z, 0.7 z] + 0.7`` in float32 (R's rule: the second column aliased): its squared
    pivot is rounding noise (tens of eps at p = 2), under the rule's floor of 100 eps."""
    z = np.random.default_rng(0).normal(size=5_000).astype(np.float32)
    X = np.column_stack([z, np.float32(0.7) * z]) + np.float32(0.7)
    y = (z + np.sin(7 * z) > 0).astype(np.float32)
    with pytest.warns(jg.ConvergenceWarning) as record:
        res = jg.fit(X, y, jg.Bernoulli())
    assert res.status == jg.Status.RANK_DEFICIENT
    assert any("columns [1] of X are collinear" in str(w.message) for w in record)


def test_optax_float32_information_below_the_rank_rule_still_preconditions():
    """cond(X) = 5,000, p = 30, float32: the information's smallest squared pivot (about 50
    eps) is under the rank rule's 100 eps. Optax's preconditioner factored it as singular and
    fell back to the Jacobi scaling (a row subsample's information at the restart of wide
    designs, the same function): L-BFGS ran to MAX_ITER, 99% of an SE off. The shifted
    factor converges (measured 52 iterations, 1.8e-3 SE)."""
    X, y = _correlated_columns(4_000, 30, 5_000.0, 0)
    got = jg.fit(X, y, jg.Bernoulli(), solver=jg.Optax(), cov_type="none")
    ref = jg.fit(X.astype(np.float64), y.astype(np.float64), jg.Bernoulli(), tol=1e-12)
    assert bool(got.converged), got.status_message
    bse = np.asarray(ref.bse)
    assert np.max(np.abs(np.asarray(got.params, float) - ref.params) / bse) < 1e-2
    S = np.array([[1.0, 1.0 - 1e-6], [1.0 - 1e-6, 1.0]], np.float32)
    assert not bool(_linalg.factor(S)[1])
    (L, _), ok = optax_solver._preconditioner_factor(S)
    assert bool(ok) and np.isfinite(np.asarray(L)).all()


def test_mixed_fit_holds_no_float64_copy_of_x():
    """The compiled mixed fit's loops carry the float32 ``X`` only: XLA hoisted the
    loop-invariant ``convert(X)`` of the float64 passes out of the Newton loop, a float64
    copy of ``X`` held for the whole fit (0.2 s of 1.6 s at n = 100,000, p = 100, and twice
    the memory mixed precision saves)."""
    n, p = 1_000, 7
    X = np.random.default_rng(0).normal(size=(n, p)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float64)
    program = jax.jit(lambda X, y: jg.fit(X, y, jg.Bernoulli(), precision="mixed").params)
    text = program.lower(X, y).compile().as_text()
    loops = [line for line in text.splitlines() if " while(" in line]
    assert loops and not any(f"f64[{n},{p}]" in line for line in loops)
    assert any(f"f32[{n},{p}]" in line for line in loops)


def test_mixed_passes_over_blocks_and_a_remainder():
    """The mixed passes over two blocks of ``widened_rows(p)`` rows and 3 more (a
    remainder summed apart): ``X @ v`` ((p,) and (p, m) ``v``) and ``[sum(r), r @ X]`` are
    the float64 products of the float32 data, to float64 rounding."""
    rng = np.random.default_rng(2)
    p = 4
    n = 2 * _linalg.widened_rows(p) + 3
    X = (3.0 + rng.normal(size=(n, p))).astype(np.float32)
    X64 = X.astype(np.float64)
    v, V, r = rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=n)
    for coefs in (v, V):
        got = jax.jit(_linalg.times)(X, coefs)
        assert got.dtype == np.float64 and got.shape == (n, *coefs.shape[1:])
        np.testing.assert_allclose(got, X64 @ coefs, rtol=1e-12, atol=1e-12)
    want = np.concatenate([[r.sum()], r @ X64])
    np.testing.assert_allclose(jax.jit(_linalg.score)(X, r), want, rtol=1e-12)


def test_float32_fit_centres_only_columns_far_from_zero():
    """A concrete float32 fit copies ``X`` minus its column means only where a column's mean
    is more than its standard deviation from 0 (longley-like); a fit under ``jit`` always
    does. The uncentred fit is the centred one's answer to float32 rounding."""
    from jaxglm import _fit
    from jaxglm._spec import resolve_spec

    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    y = (rng.uniform(size=400) < 1 / (1 + np.exp(-X @ [0.5, -0.3, 0.2]))).astype(np.float32)
    spec = resolve_spec(jg.Bernoulli(), None, None, X.shape, y=y)
    assert _fit._centring(spec, X, np.dtype(np.float32), None)[1] is False
    assert _fit._centring(spec, X + np.float32(3.0), np.dtype(np.float32), None)[1] is True
    uncentred = jg.fit(X, y, jg.Bernoulli())
    centred = jax.jit(lambda X, y: jg.fit(X, y, jg.Bernoulli()))(X, y)
    np.testing.assert_allclose(uncentred.params, centred.params, rtol=1e-4, atol=1e-5)
