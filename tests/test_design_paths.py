"""Designs (:mod:`jaxglm.designs`) through ``path``, ``cv``, ProxNewton, Optax and
SubsampledNewton, against the same computations on the one-hot dense matrix.

One design for every test: a dense block, a categorical block of ``ELIMINATE_MIN_LEVELS``
levels (so Newton eliminates it and ProxNewton assembles its Gram from the blocks), a
small categorical and a sparse block; a Poisson response with prior weights and an
exposure. Each program is compiled once: ``l1_ratio`` and the penalty factors are arrays,
so the lasso and the elastic net share the cv program, and the cv's full-data member is
the path (fits compile for seconds: the suite's budget).
"""

import functools

import numpy as np
import pytest
import scipy.sparse as sp

import jaxglm as jg
from jaxglm import designs
from jaxglm.solvers import prox_newton

N = 300
LEVELS = designs.ELIMINATE_MIN_LEVELS + 1  # its block: one column per level but the first
SETTINGS = dict(n_alphas=5, alpha_min_ratio=1e-2, tol=1e-11)
FACTORS = {"g": 2.0, "x1": 0.5}  # per block and per column, none 0
FREE = {"b": 0.0, "x1": 0.0}  # a categorical block and a dense column unpenalized


@functools.cache
def data():
    """The design, its one-hot equivalent (R's treatment contrasts), ``y`` and the fit's
    keywords. Every level of ``g`` appears in the even rows (SubsampledNewton's row
    subsample below), with a mean count of about 5 per row."""
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(N, 2))
    g = np.empty(N, int)
    g[0::2] = rng.permutation(np.arange(N // 2) % LEVELS)
    g[1::2] = rng.integers(0, LEVELS, N // 2)
    b = rng.integers(0, 3, N)
    S = sp.random(N, 2, density=0.3, random_state=4, format="csr")
    eta = 1.5 + dense @ [0.3, -0.2] + rng.normal(scale=0.3, size=LEVELS)[g] + 0.2 * b
    eta = eta + S @ np.array([0.4, -0.3])
    weights, exposure = rng.uniform(0.5, 2.0, N), rng.uniform(0.5, 2.0, N)
    y = rng.poisson(exposure * np.exp(eta)).astype(float)
    X = jg.design(dense, [jg.categorical(g, name="g"), jg.categorical(b, name="b")], sparse=S)
    one_hot = np.column_stack([dense, np.eye(LEVELS)[g][:, 1:], np.eye(3)[b][:, 1:], S.toarray()])
    return X, one_hot, y, dict(family=jg.Poisson(), weights=weights, exposure=exposure)


def expanded(factors):
    """The (p,) per-column factors of the one-hot matrix."""
    return data()[0].for_model(True).penalty_factor(factors)


close = functools.partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-10)


@functools.cache
def cvs(l1_ratio):
    X, one_hot, y, kwargs = data()
    kwargs = dict(kwargs, l1_ratio=l1_ratio, n_folds=3, **SETTINGS)
    return (
        jg.cv(X, y, penalty_factor=FACTORS, **kwargs),
        jg.cv(one_hot, y, penalty_factor=expanded(FACTORS), **kwargs),
    )


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_cv_and_its_path_match_one_hot(l1_ratio):
    """Lasso and elastic net, per-block penalty factors: the design's cv (its full-data
    path, every fold's held-out deviance, the refit by ProxNewton) equals the one-hot's."""
    res, ref = cvs(l1_ratio)
    assert data()[0].for_model(True).eliminated is not None  # its Gram is a BlockGram
    assert (np.asarray(res.path.status) == 0).all() and bool(res.refit.converged)
    assert res.path.feature_names == data()[0].for_model(True).columns
    for field in ("alphas", "coef", "intercept", "deviance", "dev_ratio"):
        close(getattr(res.path, field), getattr(ref.path, field), err_msg=field)
    close(res.fold_deviance, ref.fold_deviance)
    close(res.refit.params, ref.refit.params)
    close(res.refit.deviance, ref.refit.deviance)
    assert res.refit.solver_name == "ProxNewton"
    assert 0 < int(res.path.n_nonzero[-1]) < res.path.coef.shape[1]  # some exact zeros


def test_path_with_unpenalized_columns_starts_at_their_fit():
    """A categorical block and a dense column with factor 0: the design's path equals the
    one-hot's, and its first alpha follows glmnet's rule, checked here in NumPy: at the
    first fit the unpenalized coefficients are optimal, every other one is 0, and
    ``alpha_max = max_j |g_j| / (l1_ratio f_j)`` over the penalized columns."""
    X, one_hot, y, kwargs = data()
    pf = expanded(FREE)
    res = jg.path(X, y, penalty_factor=FREE, l1_ratio=0.5, **kwargs, **SETTINGS)
    ref = jg.path(one_hot, y, penalty_factor=pf, l1_ratio=0.5, **kwargs, **SETTINGS)
    assert (np.asarray(res.status) == 0).all()
    for field in ("alphas", "coef", "intercept", "deviance"):
        close(getattr(res, field), getattr(ref, field), err_msg=field)
    coef, free = np.asarray(res.coef[0]), pf == 0
    assert (coef[~free] == 0).all() and (coef[free] != 0).all()
    w, exposure = kwargs["weights"], kwargs["exposure"]
    mu = exposure * np.exp(float(res.intercept[0]) + one_hot @ coef)
    grad = np.column_stack([np.ones(N), one_hot]).T @ (w * (mu - y)) / w.sum()
    assert np.abs(grad[np.r_[True, free]]).max() < 1e-9
    alpha_max = np.max(np.abs(grad[1:][~free]) / (0.5 * pf[~free]))
    np.testing.assert_allclose(res.alphas[0], alpha_max, rtol=1e-9)


@functools.cache
def newton_fit():
    X, _, y, kwargs = data()
    return jg.fit(X, y, **kwargs)


@pytest.mark.parametrize(
    "solver", [jg.Optax(), jg.SubsampledNewton(start_rows=N // 2, hessian_rows=N // 2)]
)
def test_optax_and_subsampled_newton_match_newton(solver):
    """Full-batch Optax (L-BFGS in the information's coordinates) and SubsampledNewton (its
    start and preconditioner on every second row of each block) on the design converge to
    Newton's design fit, each to its own stopping rule: Optax's gradient within 1e-8 of
    its start's in whitened coordinates, i.e. about 1e-8 of the start's distance to the
    optimum, a hundred level effects away from the null model's 0 (measured 4.7e-7 SE);
    SubsampledNewton's preconditioned decrement within 1e-8^2 of the objective (measured
    2.2e-8 SE). Asserted: every coefficient within 1e-5 of its standard error, the bse
    (from the information at each point) within 1e-5 relative."""
    X, _, y, kwargs = data()
    ref = newton_fit()
    res = jg.fit(X, y, solver=solver, **kwargs)
    assert res.converged and ref.converged and res.solver_name == solver.name
    bse = np.asarray(ref.bse)
    assert (np.abs(np.asarray(res.params) - ref.params) <= 1e-5 * bse).all()
    np.testing.assert_allclose(res.bse, bse, rtol=1e-5)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-10)


def test_refusals_and_penalty_factor_names():
    X, one_hot, y, kwargs = data()
    with pytest.raises(TypeError, match="scalar theta"):
        jg.path(X, (y > 5).astype(int), family=jg.Multinomial(n_classes=3))
    with pytest.raises(TypeError, match=r"Optax\(mini-batch\) does not run on a jaxglm\.Design"):
        jg.fit(X, y, family=jg.Poisson(), solver=jg.Optax(batch_size=50))
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
    assert levels[2 + 2] == 0.0 and levels[-4:-2].tolist() == [3.0, 4.0] and levels.sum() > 90
