"""Invariances a correct GLM fit must satisfy, whatever the data."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import fit_programs, simulate

import jaxglm as jg

STATS = ("deviance", "null_deviance", "llf", "aic", "bic", "pearson_chi2", "scale", "nobs")


def assert_same_fit(a, b, rtol=1e-10, keys=("params", "bse", *STATS)):
    for key in keys:
        np.testing.assert_allclose(getattr(a, key), getattr(b, key), rtol=rtol, err_msg=key)


@pytest.mark.parametrize("family", [jg.Poisson(), jg.Gamma()], ids=lambda f: f.name)
def test_duplicated_rows_equal_frequency_weight_two(family):
    X, y = simulate(family, n=40)
    dup = jg.fit(np.vstack([X, X[:10]]), np.concatenate([y, y[:10]]), family=family)
    fw = np.ones(40)
    fw[:10] = 2.0
    weighted = jg.fit(X, y, family=family, freq_weights=fw)
    assert_same_fit(dup, weighted)
    np.testing.assert_allclose(dup.df_resid, weighted.df_resid)


def test_duplicated_rows_equal_prior_weight_two_for_the_mean_model():
    """Prior weight 2 gives the same estimates and, with a fixed scale, the same bse; it is
    one observation (nobs, df) while the duplicate is two."""
    X, y = simulate(jg.Poisson(), n=40)
    dup = jg.fit(np.vstack([X, X[:10]]), np.concatenate([y, y[:10]]), family=jg.Poisson())
    w = np.ones(40)
    w[:10] = 2.0
    weighted = jg.fit(X, y, family=jg.Poisson(), weights=w)
    assert_same_fit(dup, weighted, keys=("params", "bse", "deviance", "llf", "pearson_chi2"))
    assert float(weighted.nobs) == 40 and float(dup.nobs) == 50


def test_zero_weight_rows_are_dropped(gamma_data):
    X, y = gamma_data
    w = np.ones(len(y))
    w[::7] = 0.0
    keep = w > 0
    dropped = jg.fit(X[keep], y[keep], family=jg.Gamma(), link=jg.Log())
    zeroed = jg.fit(X, y, family=jg.Gamma(), link=jg.Log(), weights=w)
    assert_same_fit(dropped, zeroed)
    np.testing.assert_allclose(dropped.df_resid, zeroed.df_resid)


def test_offset_equals_log_exposure(poisson_data):
    X, y = poisson_data
    exposure = np.linspace(0.5, 3.0, len(y))
    a = jg.fit(X, y, family=jg.Poisson(), offset=np.log(exposure))
    b = jg.fit(X, y, family=jg.Poisson(), exposure=exposure)
    assert_same_fit(a, b, rtol=1e-12)
    # ... and the offset moves only the intercept when it is a constant
    c = jg.fit(X, y, family=jg.Poisson(), offset=np.full(len(y), 0.7))
    base = jg.fit(X, y, family=jg.Poisson())
    np.testing.assert_allclose(c.coef, base.coef, rtol=1e-10)
    np.testing.assert_allclose(c.intercept, base.intercept - 0.7, rtol=1e-10)


def test_rescaled_columns_rescale_coefficients(gamma_data):
    X, y = gamma_data
    s = np.array([1e-3, 10.0, 250.0])
    a = jg.fit(X, y, family=jg.Gamma(), link=jg.Log())
    b = jg.fit(X * s, y, family=jg.Gamma(), link=jg.Log())
    np.testing.assert_allclose(b.coef * s, a.coef, rtol=1e-9)
    np.testing.assert_allclose(b.bse[1:] * s, a.bse[1:], rtol=1e-9)
    np.testing.assert_allclose(b.deviance, a.deviance, rtol=1e-12)


def test_jit_equals_eager(poisson_data):
    X, y = poisson_data
    jitted = jax.jit(lambda X, y: jg.fit(X, y, family=jg.Poisson()))(X, y)
    with jax.disable_jit():
        eager = jg.fit(X, y, family=jg.Poisson())
    assert_same_fit(jitted, eager, rtol=1e-9)
    assert int(jitted.n_iter) == int(eager.n_iter)


def test_vmap_over_responses_equals_loop(poisson_data):
    X, y = poisson_data
    rng = np.random.default_rng(3)
    Y = np.stack([y, rng.poisson(np.exp(0.2 + X @ [0.3, 0.1, 0.0])), rng.poisson(2.0, len(y))])
    batched = jax.vmap(lambda yy: jg.fit(X, yy, family=jg.Poisson()))(jnp.asarray(Y, float))
    assert batched.params.shape == (3, 4)
    for i in range(3):
        single = jg.fit(X, Y[i].astype(float), family=jg.Poisson())
        assert_same_fit(batched[i], single, rtol=1e-10)
        assert int(batched[i].n_iter) == int(single.n_iter)


def test_second_call_with_same_shapes_does_not_retrace(poisson_data):
    X, y = poisson_data
    jg.fit(X, y, family=jg.Poisson())
    before = fit_programs()
    jg.fit(X + 0.01, y, family=jg.Poisson(), max_iter=50)
    jg.fit(X, y + 1.0, family=jg.Poisson(), tol=1e-9)
    assert fit_programs() == before


def test_traced_family_parameter_does_not_retrace(poisson_data):
    X, y = poisson_data

    @chex.assert_max_traces(n=1)
    def fit_alpha(alpha):
        return jg.fit(X, y, family=jg.NegativeBinomial(alpha=alpha)).params

    a, b = fit_alpha(jnp.asarray(0.5)), fit_alpha(jnp.asarray(1.5))
    np.testing.assert_allclose(a, jg.fit(X, y, family=jg.NegativeBinomial(alpha=0.5)).params)
    assert not np.allclose(a, b)


def test_start_params_at_the_solution_converge_at_once(gamma_data):
    X, y = gamma_data
    res = jg.fit(X, y, family=jg.Gamma())
    again = jg.fit(X, y, family=jg.Gamma(), start_params=np.asarray(res.params))
    np.testing.assert_allclose(again.params, res.params, rtol=1e-7)
    assert int(again.n_iter) <= 1


def test_no_intercept_matches_reference_formula(poisson_data):
    """Without an intercept the score equations X^T (y - mu) = 0 hold (the objective's
    gradient, the score over n, to 1e-8) and params has p entries."""
    X, y = poisson_data
    res = jg.fit(X, y, family=jg.Poisson(), fit_intercept=False)
    assert res.params.shape == (3,) and res.bse.shape == (3,)
    mu = np.exp(X @ np.asarray(res.coef))
    np.testing.assert_allclose(X.T @ (y - mu) / len(y), 0.0, atol=1e-8)
    assert float(res.intercept) == 0.0
    assert float(res.df_resid) == len(y) - 3
    # R's null deviance without an intercept is the deviance at eta = offset = 0
    np.testing.assert_allclose(
        res.null_deviance, 2 * np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y + 1)
    )


def test_every_family_and_link_has_its_own_tree_structure():
    """jit keys its cache on the tree structure: two classes must never share one, or a fit
    could run the other model's compiled program."""
    objects = [
        jg.Gaussian(), jg.Bernoulli(), jg.Binomial(), jg.Poisson(), jg.Gamma(),
        jg.InverseGaussian(), jg.Identity(), jg.Log(), jg.Logit(), jg.Probit(), jg.CLogLog(),
        jg.LogLog(), jg.Cauchit(), jg.Inverse(), jg.InverseSquared(), jg.Sqrt(), jg.Canonical(),
        jg.Newton(), jg.Newton(fisher=True),
    ]  # fmt: skip
    structures = [jax.tree.structure(o) for o in objects]
    for i, a in enumerate(structures):
        for j, b in enumerate(structures):
            assert (a == b) == (i == j), (objects[i], objects[j])
