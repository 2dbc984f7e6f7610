"""Designs (:mod:`jaxglm.designs`) through ``path``, ``cv``, ProxNewton, Optax and
SubsampledNewton, against the same computations on the one-hot dense matrix.

One design for every fit: a dense block, a categorical block of ``ELIMINATE_MIN_LEVELS``
columns (so Newton eliminates it and ProxNewton assembles its Gram from the blocks) and a
small categorical; a Poisson response with prior weights and an exposure. Each program is
compiled once: ``l1_ratio`` and the penalty factors are arrays, so the lasso and the
elastic net share the cv program, and the cv's full-data member is the path (fits compile
for seconds: the suite's budget; a sparse block adds a third to every design program, so
the products the new solvers use are checked on one with a sparse block directly).
"""

import functools

import jax
import numpy as np
import pytest
import scipy.sparse as sp

import jaxglm as jg
from jaxglm import _linalg, designs
from jaxglm.solvers import prox_newton

N = 300
LEVELS = designs.ELIMINATE_MIN_LEVELS + 1  # its block: one column per level but the first
SETTINGS = dict(n_alphas=5, alpha_min_ratio=1e-2, tol=1e-11)
# Per block and per column; a categorical block and a dense column unpenalized.
FACTORS = {"g": 2.0, "x2": 0.5, "b": 0.0, "x1": 0.0}


@functools.cache
def data():
    """The design, its one-hot equivalent (R's treatment contrasts), ``y``, the fit's
    keywords and a sparse block. Every level of ``g`` appears in the even rows
    (SubsampledNewton's row subsample below) and in the odd ones, with a positive count
    among the even rows (every maximum-likelihood estimate is finite)."""
    rng = np.random.default_rng(6)
    dense = rng.normal(size=(N, 2))
    g = np.empty(N, int)
    g[0::2] = rng.permutation(np.arange(N // 2) % LEVELS)
    g[1::2] = rng.permutation(np.arange(N // 2) % LEVELS)
    b = rng.integers(0, 3, N)
    S = sp.random(N, 2, density=0.3, random_state=4, format="csr")
    eta = 2.0 + dense @ [0.3, -0.2] + rng.normal(scale=0.3, size=LEVELS)[g] + 0.2 * b
    weights, exposure = rng.uniform(0.5, 2.0, N), rng.uniform(0.5, 2.0, N)
    y = rng.poisson(exposure * np.exp(eta)).astype(float)
    assert (np.bincount(g[0::2], y[0::2]) > 0).all()
    X = jg.design(dense, [jg.categorical(g, name="g"), jg.categorical(b, name="b")])
    one_hot = np.column_stack([dense, np.eye(LEVELS)[g][:, 1:], np.eye(3)[b][:, 1:]])
    return X, one_hot, y, dict(family=jg.Poisson(), weights=weights, exposure=exposure), S


def expanded(factors):
    """The (p,) per-column factors of the one-hot matrix."""
    return data()[0].for_model(True).penalty_factor(factors)


close = functools.partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-10)


@functools.cache
def cvs(l1_ratio):
    X, one_hot, y, kwargs, _ = data()
    kwargs = dict(kwargs, l1_ratio=l1_ratio, n_folds=3, **SETTINGS)
    return (
        jg.cv(X, y, penalty_factor=FACTORS, **kwargs),
        jg.cv(one_hot, y, penalty_factor=expanded(FACTORS), **kwargs),
    )


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_cv_and_its_path_match_one_hot(l1_ratio):
    """Lasso and elastic net, per-block penalty factors with a categorical block and a
    dense column unpenalized: the design's cv (its full-data path, every fold's held-out
    deviance, the refit by ProxNewton) equals the one-hot's. The path's first alpha is
    glmnet's, checked in NumPy: at the first fit the unpenalized coefficients are optimal,
    every other one is 0, and ``alpha_max = max_j |g_j| / (l1_ratio f_j)`` over the
    penalized columns."""
    res, ref = cvs(l1_ratio)
    X, one_hot, y, kwargs, _ = data()
    assert X.for_model(True).eliminated is not None  # its Gram is a BlockGram
    assert (np.asarray(res.path.status) == 0).all() and bool(res.refit.converged)
    assert res.path.feature_names == X.for_model(True).columns
    for field in ("alphas", "coef", "intercept", "deviance", "dev_ratio"):
        close(getattr(res.path, field), getattr(ref.path, field), err_msg=field)
    close(res.fold_deviance, ref.fold_deviance)
    close(res.refit.params, ref.refit.params)
    close(res.refit.deviance, ref.refit.deviance)
    assert res.refit.solver_name == "ProxNewton"
    assert 0 < int(res.path.n_nonzero[-1]) < res.path.coef.shape[1]  # some exact zeros
    pf = expanded(FACTORS)
    coef, free = np.asarray(res.path.coef[0]), pf == 0
    assert (coef[~free] == 0).all() and (coef[free] != 0).all()
    w, exposure = kwargs["weights"], kwargs["exposure"]
    mu = exposure * np.exp(float(res.path.intercept[0]) + one_hot @ coef)
    grad = np.column_stack([np.ones(N), one_hot]).T @ (w * (mu - y)) / w.sum()
    assert np.abs(grad[np.r_[True, free]]).max() < 1e-9
    alpha_max = np.max(np.abs(grad[1:][~free]) / (l1_ratio * pf[~free]))
    np.testing.assert_allclose(res.path.alphas[0], alpha_max, rtol=1e-9)


def test_path_is_the_cvs_full_data_path():
    X, _, y, kwargs, _ = data()
    res = jg.path(X, y, penalty_factor=FACTORS, l1_ratio=0.5, **kwargs, **SETTINGS)
    ref = cvs(0.5)[0].path
    for field in ("alphas", "coef", "intercept", "deviance", "n_iter"):
        close(getattr(res, field), getattr(ref, field), err_msg=field)


@functools.cache
def newton_fit():
    X, _, y, kwargs, _ = data()
    return jg.fit(X, y, **kwargs)


@pytest.mark.parametrize(
    "solver", [jg.Optax(), jg.SubsampledNewton(start_rows=N // 2, hessian_rows=N // 2)]
)
def test_optax_and_subsampled_newton_match_newton(solver):
    """Full-batch Optax (L-BFGS in the information's coordinates) and SubsampledNewton (its
    start and preconditioner on every second row of each block) on the design converge to
    Newton's design fit, each to its own stopping rule: Optax's gradient within 1e-8 of
    its start's in whitened coordinates, i.e. about 1e-8 of the start's distance to the
    optimum, a hundred level effects away from the null model's 0 (measured 9e-8 SE);
    SubsampledNewton's preconditioned decrement within 1e-8^2 of the objective (measured
    1.5e-8 SE). Asserted: every coefficient within 1e-5 of its standard error, the bse
    (from the information at each point) within 1e-5 relative."""
    X, _, y, kwargs, _ = data()
    ref = newton_fit()
    res = jg.fit(X, y, solver=solver, **kwargs)
    assert res.converged and ref.converged and res.solver_name == solver.name
    bse = np.asarray(ref.bse)
    assert (np.abs(np.asarray(res.params) - ref.params) <= 1e-5 * bse).all()
    np.testing.assert_allclose(res.bse, bse, rtol=1e-5)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-10)


@jax.jit
def subsample_products(X, h):
    """The Gram of every second row, ``h @ (X * X)`` and ``h @ X``, in one program."""
    gram = _linalg.as_dense(_linalg.gram(_linalg.every_row(X, 2), h[::2]))
    return gram, _linalg.square_sums(X, h), _linalg.column_sums(X, h)


def test_row_subsample_and_square_sums_of_every_block():
    """What SubsampledNewton and Optax ask of a design beyond Newton's products, with a
    sparse block too: every second row of each block (the sparse block keeps its entries,
    the other rows' at value 0), and ``r @ (X * X)``, against the one-hot matrix."""
    X, one_hot, _, _, S = data()
    X = jg.design(np.asarray(X.dense), list(X.categoricals), sparse=S).for_model(True)
    dense = np.column_stack([one_hot, S.toarray()])
    h = np.random.default_rng(5).uniform(0.1, 2.0, N)
    assert _linalg.every_row(X, 2).shape == (N // 2, dense.shape[1])
    gram, squares, sums = subsample_products(X, h)
    X1 = np.column_stack([np.ones(N // 2), dense[::2]])
    np.testing.assert_allclose(gram, X1.T @ (h[::2, None] * X1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(squares, h @ (dense * dense), rtol=1e-12)
    np.testing.assert_allclose(sums, h @ dense, rtol=1e-12)


def test_mini_batch_optax_gathers_rows_of_every_block():
    """A mini-batch gathers its rows from the dense and the categorical blocks: Adam's
    epochs on the design (the same shuffled batches) are those on the one-hot matrix, to
    rounding (the products sum in another order); both stop at max_iter (a warning)."""
    import optax

    X, one_hot, y, kwargs, _ = data()
    solver = jg.Optax(optax.adam, learning_rate=0.05, batch_size=64, max_iter=5)
    with pytest.warns(jg.ConvergenceWarning):
        res = jg.fit(X, y, solver=solver, cov_type="none", **kwargs)
    with pytest.warns(jg.ConvergenceWarning):
        ref = jg.fit(one_hot, y, solver=solver, cov_type="none", **kwargs)
    assert res.solver_name == "Optax(mini-batch)" and int(res.n_iter) == 5
    assert np.abs(np.asarray(res.params) - np.asarray(ref.params)).max() > 0  # it moved
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-9, atol=1e-9)


def test_refusals_and_penalty_factor_names():
    X, one_hot, y, kwargs, _ = data()
    wide = jg.design(categoricals=[jg.categorical(np.arange(N) % 2, levels=range(2100))])
    with pytest.raises(ValueError, match=f"at most {prox_newton.DESIGN_MAX_P:,} columns"):
        jg.path(wide, y, family=jg.Poisson())
    with pytest.raises(ValueError, match=r"neither a categorical block .* nor a column"):
        jg.path(X, y, penalty_factor={"h": 0.0}, **kwargs)
    with pytest.raises(ValueError, match=r"penalty_factor\['b'\] must be a number or 2 values"):
        jg.fit(X, y, alpha=0.1, penalty_factor={"b": [1.0, 2.0, 3.0]}, **kwargs)
    with pytest.raises(TypeError, match=r"needs X to be a jaxglm\.Design"):
        jg.fit(one_hot, y, alpha=0.1, penalty_factor={"x1": 0.0}, **kwargs)
    levels = expanded({"g[3]": 0.0, "b": [3.0, 4.0]})
    assert levels[2 + 2] == 0.0 and levels[-2:].tolist() == [3.0, 4.0] and levels.sum() > 90
