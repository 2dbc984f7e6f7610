"""Inference of a design fit whose Newton solve eliminated a categorical block: its
covariance kept in block form (:class:`jaxglm._linalg.DiagonalPlusLowRank`, no (p+1)^2
array) gives what the dense covariance gives (standard errors, tests, intervals,
prediction standard errors), and ``cov_params()`` forms the inverse of the one-hot
design's information. (The fit itself equals the one-hot fit: ``tests/test_designs.py``.)

One small shape (a 12-level block eliminated, a 3-level one and two dense columns, Poisson
with prior weights; no offset, whose null model is a program of its own), each program
compiled once: the dense way is the same result with its covariance formed (no second
fit)."""

import dataclasses
import functools
import warnings

import jax
import numpy as np

import jaxglm as jg
from jaxglm import _linalg

N, LEVELS = 90, 12


@functools.cache
def data():
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(N, 2))
    a, b = rng.integers(0, LEVELS, N), rng.integers(0, 3, N)
    eta = 0.2 + dense @ [0.3, -0.2] + rng.normal(scale=0.3, size=LEVELS)[a] + 0.2 * b
    y = rng.poisson(np.exp(eta)).astype(float)
    X = jg.design(dense, [jg.categorical(a, name="a"), jg.categorical(b, name="b")],
                  eliminate="a")  # fmt: skip
    one_hot = np.column_stack([dense, np.eye(LEVELS)[a][:, 1:], np.eye(3)[b][:, 1:]])
    kwargs = dict(family=jg.Poisson(), weights=rng.uniform(0.5, 2.0, N))
    return X, one_hot, y, kwargs


@functools.cache
def fit(cov_type: str = "nonrobust"):
    X, _, y, kwargs = data()
    return jg.fit(X, y, cov_type=cov_type, **kwargs)


close = functools.partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-13)


def square_leaves(res, k: int) -> list:
    return [leaf.shape for leaf in jax.tree.leaves(res) if tuple(leaf.shape[-2:]) == (k, k)]


def test_block_covariance_gives_the_dense_inference():
    res = fit()
    X, one_hot, _, kwargs = data()
    k = one_hot.shape[1] + 1
    assert res.converged and isinstance(res.cov, _linalg.DiagonalPlusLowRank)
    assert square_leaves(res, k) == []  # nothing (p+1) x (p+1) held
    X1 = np.column_stack([np.ones(N), one_hot])
    mu = np.asarray(res.fittedvalues)
    close(res.cov_params(), np.linalg.inv(X1.T @ ((kwargs["weights"] * mu)[:, None] * X1)))
    ref = dataclasses.replace(res, cov=res.cov_params())  # the dense way
    for key in ("params", "bse", "tvalues", "pvalues"):
        close(getattr(res, key), getattr(ref, key), err_msg=key)
    close(res.conf_int(0.1), ref.conf_int(0.1))
    frame = res.summary(0.1).as_frame()
    assert list(frame.index[3:5]) == ["a[1]", "a[2]"]
    close(frame.to_numpy()[:, 1:4], np.column_stack([ref.bse, ref.tvalues, ref.pvalues]))
    names = res.param_names
    R = np.eye(k)[[names.index("x1"), names.index("a[3]"), names.index("b[2]")]]
    got, exp = res.t_test(R), ref.t_test(R)
    close(got.se, exp.se)
    close(got.pvalue, exp.pvalue)
    close(res.wald_test(R[1:]).statistic, ref.wald_test(R[1:]).statistic)
    exposure = np.linspace(0.5, 2.0, N)
    got, exp = res.get_prediction(X, exposure=exposure), ref.get_prediction(X, exposure=exposure)
    for key in ("linear_se", "mean_se", "mean_ci_lower", "mean_ci_upper"):
        close(getattr(got, key), getattr(exp, key), err_msg=key)


def test_no_covariance_holds_no_square_matrix():
    """``cov_type="none"``: the result's arrays, as the fit program returns them (traced,
    not compiled: ``jax.eval_shape``), have no (p+1, p+1) one; its NaN covariance forms
    the all-NaN matrix when asked for."""
    X, one_hot, y, kwargs = data()
    k = one_hot.shape[1] + 1
    res = jax.eval_shape(lambda y: jg.fit(X, y, cov_type="none", **kwargs), y)
    assert res.cov_type == "none" and square_leaves(res, k) == []
    assert sum(np.prod(leaf.shape) for leaf in jax.tree.leaves(res.cov)) == 2 * k + 1
    nan = dataclasses.replace(fit(), cov=_linalg.nan_covariance(X, k, np.float64))
    assert np.isnan(nan.bse).all() and np.isnan(nan.cov_params()).all()
    assert nan.cov_params().shape == (k, k)


def test_singular_fit_names_the_empty_level():
    """A level whose rows all have weight 0 leaves the Newton system singular: the warning
    names it (the fit's own compiled program: only the weights' values differ)."""
    X, _, y, kwargs = data()
    weights = np.where(np.asarray(X.categoricals[0].codes) == 5, 0.0, kwargs["weights"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = jg.fit(X, y, family=jg.Poisson(), weights=weights)
    assert res.status == jg.Status.RANK_DEFICIENT
    named = [str(w.message) for w in caught if "levels without rows" in str(w.message)]
    assert len(named) == 1 and "a[5]" in named[0] and "a[4]" not in named[0]


def test_hc3_covariance_in_block_form():
    """HC3 of a design fit with the block eliminated (leverages from the block inverse,
    the sandwich kept in block form) against the sandwich of the one-hot design."""
    res = fit("HC3")
    _, one_hot, y, kwargs = data()
    assert isinstance(res.cov, _linalg.DiagonalPlusLowRank)
    X1, pw = np.column_stack([np.ones(N), one_hot]), kwargs["weights"]
    mu = np.asarray(res.fittedvalues)
    inv = np.linalg.inv(X1.T @ ((pw * mu)[:, None] * X1))
    leverage = pw * mu * np.einsum("ij,jk,ik->i", X1, inv, X1)
    meat = X1.T @ (((pw * (y - mu)) ** 2 / (1 - leverage) ** 2)[:, None] * X1)
    close(res.bse, np.sqrt(np.diag(inv @ meat @ inv)))
    close(res.cov_params(), inv @ meat @ inv)


def gram_with_diagonal_block(rng, k, lo, L):
    """A positive definite (k, k) matrix whose columns ``[lo, lo + L)`` are a diagonal block."""
    Z = rng.normal(size=(40, k))
    G = Z.T @ Z + np.diag(rng.uniform(1.0, 3.0, k))
    G[lo : lo + L, lo : lo + L] = np.diag(np.diag(G)[lo : lo + L])
    return G


def blocks(M, lo, L):
    other = np.r_[0:lo, lo + L : M.shape[0]]
    A, B = M[np.ix_(other, other)], M[np.ix_(other, range(lo, lo + L))]
    return A, B, np.diag(M)[lo : lo + L]


@functools.partial(jax.jit, static_argnames="lo")
def block_products(H, M, keep, R, X, S, lo):
    factors, ok = _linalg.factor(_linalg.BlockGram(*H, lo))
    V = _linalg.inverse(factors) * 2.0
    return ok, V, dict(
        dense=V.dense(), diagonal=_linalg.diagonal(V), tail=_linalg.tail(V).dense(),
        mask=_linalg.mask(V, keep).dense(), congruence=_linalg.congruence(V, R),
        quadratic=_linalg.row_quadratic(X, V), times=V.matmul(S),
        sandwich=_linalg.sandwich(V, _linalg.BlockGram(*M, lo)).dense(),
    )  # fmt: skip


def test_block_inverse_and_its_products():
    """:func:`jaxglm._linalg.inverse` of a factored :class:`BlockGram` (a diagonal block
    inside the matrix) against the dense inverse; the block form's diagonal, tail, mask,
    congruence, row quadratic forms, product and sandwich with a second :class:`BlockGram`
    (an HC meat) against the dense matrices' (no fit)."""
    rng = np.random.default_rng(0)
    q, L, lo = 5, 7, 3
    H, M = gram_with_diagonal_block(rng, q + L, lo, L), gram_with_diagonal_block(rng, q + L, lo, L)
    keep = np.r_[0.0, np.ones(q + L - 1)]
    R, X, S = (
        rng.normal(size=(2, q + L)),
        rng.normal(size=(6, q + L - 1)),
        rng.normal(size=(q + L, 3)),
    )
    ok, V, got = block_products(blocks(H, lo, L), blocks(M, lo, L), keep, R, X, S, lo)
    dense = 2.0 * np.linalg.inv(H)
    assert bool(ok) and isinstance(V, _linalg.DiagonalPlusLowRank)
    X1 = np.column_stack([np.ones(6), X])
    want = dict(
        dense=dense, diagonal=np.diag(dense), tail=dense[1:, 1:],
        mask=dense * np.outer(keep, keep), congruence=R @ dense @ R.T,
        quadratic=np.einsum("ij,jk,ik->i", X1, dense, X1), times=dense @ S,
        sandwich=dense @ M @ dense,
    )  # fmt: skip
    for key, value in want.items():
        close(got[key], value, err_msg=key)
