"""GLMResult: summary, prediction, intervals, penalties, warnings (float32: test_references)."""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from conftest import simulate
from scipy import stats

import jaxglm as jg
from jaxglm import inference
from tests.test_references import fitted


def test_t_and_normal_quantiles_match_scipy():
    for df in (1.0, 3.0, 17.0, 250.0):
        for q in (0.2, 0.05, 1e-4):
            np.testing.assert_allclose(inference.t_isf2(q, df), stats.t.isf(q / 2, df), rtol=1e-10)
            t = stats.t.isf(q / 2, df)
            np.testing.assert_allclose(inference.t_sf2(t, df), q, rtol=1e-10)
    np.testing.assert_allclose(inference.normal_isf2(0.05), stats.norm.isf(0.025), rtol=1e-12)


def test_summary_names_and_statistics():
    res, data = fitted("gamma_inverse_scotland")
    frame = pd.DataFrame(data["X"], columns=data["names"])
    res = jg.fit(frame, data["y"], family=jg.Gamma())
    text = res.summary()
    for expected in ["Gamma", "Inverse", "converged", "Intercept", *data["names"][:3], "P>|t|"]:
        assert expected[:13] in text, expected
    assert f"{float(res.deviance):.6g}" in text
    assert f"{float(res.aic):.6g}" in text
    assert "P>|z|" in fitted("poisson_log_cpunish")[0].summary()


def test_predict_mean_and_linear(poisson_data):
    X, y = poisson_data
    res = jg.fit(X, y, family=jg.Poisson())
    eta = np.asarray(res.intercept) + X @ np.asarray(res.coef)
    np.testing.assert_allclose(res.predict(X, which="linear"), eta, rtol=1e-12)
    np.testing.assert_allclose(res.predict(X), np.exp(eta), rtol=1e-12)
    np.testing.assert_allclose(res.predict(X, offset=np.ones(len(y))), np.exp(eta + 1), rtol=1e-12)
    with pytest.raises(ValueError, match="which"):
        res.predict(X, which="probability")


def test_ridge_logistic_matches_scikit_learn():
    """fit(alpha) minimizes deviance/(2n) + alpha/2 |beta|^2 = sklearn's C = 1/(alpha n)."""
    from sklearn.linear_model import LogisticRegression

    X, y = simulate(jg.Bernoulli(), n=200, p=3)
    alpha = 0.05
    res = jg.fit(X, y, family=jg.Bernoulli(), alpha=alpha, tol=1e-12)
    sk = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(res.coef, sk.coef_[0], rtol=1e-6)
    np.testing.assert_allclose(res.intercept, sk.intercept_[0], rtol=1e-6)
    assert np.isnan(np.asarray(res.bse)).all() and np.isnan(float(res.aic))
    # deviance = 2 n x scikit-learn's mean log loss at its solution; llf = -deviance / 2
    from sklearn.metrics import log_loss

    loss = log_loss(y, sk.predict_proba(X)[:, 1])
    np.testing.assert_allclose(res.deviance, 2 * len(y) * loss, rtol=1e-9)
    np.testing.assert_allclose(res.llf, -len(y) * loss, rtol=1e-9)


def test_penalty_factor_zero_leaves_a_feature_unpenalized():
    X, y = simulate(jg.Poisson(), n=200, p=3)
    free = jg.fit(X, y, family=jg.Poisson())
    pf = np.array([0.0, 1.0, 1.0])
    strong = jg.fit(X, y, family=jg.Poisson(), alpha=1e6, penalty_factor=pf)
    np.testing.assert_allclose(strong.coef[1:], 0.0, atol=1e-5)
    single = jg.fit(X[:, :1], y, family=jg.Poisson())
    np.testing.assert_allclose(strong.coef[0], single.coef[0], rtol=1e-5)
    assert not np.allclose(free.coef[0], strong.coef[0])


def test_not_converged_warns_and_reports_status(gamma_data):
    X, y = gamma_data
    with pytest.warns(jg.ConvergenceWarning, match="max_iter"):
        res = jg.fit(X, y, family=jg.Gamma(), max_iter=1)
    assert int(res.status) == jg.Status.MAX_ITER and not bool(res.converged)
    assert "max_iter" in res.status_message
    assert "Warning:" in res.summary()


def test_rank_deficient_design_is_reported(poisson_data):
    X, y = poisson_data
    collinear = np.column_stack([X, X[:, 0] + X[:, 1]])
    with pytest.warns(jg.ConvergenceWarning, match=r"columns \[3\] of X are collinear"):
        with pytest.warns(jg.ConvergenceWarning, match="singular"):
            res = jg.fit(collinear, y, family=jg.Poisson())
    assert int(res.status) == jg.Status.RANK_DEFICIENT


def test_batched_result_indexing_and_messages(poisson_data):
    import jax

    X, y = poisson_data
    Y = jnp.stack([jnp.asarray(y), jnp.asarray(y[::-1])])
    res = jax.vmap(lambda yy: jg.fit(X, yy, family=jg.Poisson()))(Y)
    assert res.status_message == ["converged", "converged"]
    assert res.conf_int().shape == (2, 4, 2)
    with pytest.raises(ValueError, match="index the batch"):
        res.summary()
    assert "Poisson" in res[1].summary()


def test_a_boundary_mle_ends_in_line_search_failed():
    """Poisson with the identity link whose MLE has mu = 0 at x = 0 (on the boundary of the
    mean range): no step along the Newton direction stays inside, the documented
    LINE_SEARCH_FAILED, with its warning."""
    X = np.arange(5.0)[:, None]
    y = np.array([0.0, 0.0, 1.0, 6.0, 12.0])
    with pytest.warns(jg.ConvergenceWarning, match="line search found no decrease") as rec:
        res = jg.fit(X, y, jg.Poisson(), jg.Identity())
    assert len(rec) == 1
    assert res.status == jg.Status.LINE_SEARCH_FAILED and not bool(res.converged)
    assert 0.0 < float(res.intercept) < 1e-6  # pushed against the boundary mu(0) = 0


def test_tol_is_floored_at_ten_epsilons():
    """A tol below rounding is the floor (10 eps): the same iterations and answer."""
    X, y = simulate(jg.Gamma(), n=80, p=3)
    floor = jg.fit(X, y, jg.Gamma(), jg.Log(), tol=10 * np.finfo(float).eps)
    tiny = jg.fit(X, y, jg.Gamma(), jg.Log(), tol=1e-300)
    assert bool(tiny.converged) and int(tiny.n_iter) == int(floor.n_iter)
    np.testing.assert_array_equal(tiny.params, floor.params)


def test_influence_expected_leverages_are_r_hatvalues():
    """``influence(observed=False)``: R's ``hatvalues`` (Fisher-weighted), against the
    leverages written out: ``w_i (dmu/deta)^2 / V(mu_i) x_i^T (X^T W X)^-1 x_i``."""
    X, y = simulate(jg.Gamma(), n=40, p=2)
    res = jg.fit(X, y, jg.Gamma(), jg.Log())
    W = np.ones(len(y))  # log link: dmu/deta = mu; Gamma: V(mu) = mu^2; so W = 1
    Z = np.column_stack([np.ones(len(y)), X])
    H = Z @ np.linalg.solve(Z.T @ (W[:, None] * Z), (W[:, None] * Z).T)
    got = res.influence(X, y, observed=False).hat_matrix_diag
    np.testing.assert_allclose(got, np.diag(H), rtol=1e-10)
    observed = res.influence(X, y).hat_matrix_diag  # statsmodels' default: differs here
    assert not np.allclose(observed, got, rtol=1e-3)
