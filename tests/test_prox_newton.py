"""ProxNewton: elastic-net fits against glum (same objective), KKT, zeros, invariants.

References: tests/references/enet_references.json, made by
tests/references/make_enet_references.py (glum, gradient_tol 1e-12).
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import _linalg, paths
from jaxglm.solvers import prox_newton
from jaxglm.solvers._line_search import backtrack_with_rows
from tests.test_references import rel_err

REFS = json.loads(
    (pathlib.Path(__file__).parent / "references" / "enet_references.json").read_text()
)
TOL = 1e-10


@pytest.fixture(scope="module")
def cancer():
    ref = REFS["breast_cancer"]
    return np.array(ref["X"]), np.array(ref["y"]), ref


def enet(X, y, family=None, **kw):
    return jg.fit(X, y, family=family or jg.Bernoulli(), tol=TOL, **kw)


# case: (column, its penalty factor; the others 1)
PENALTY_FACTORS = {"enet": None, "enet_pf": (0, 0.0), "enet_pf2": (1, 2.0)}


@pytest.mark.parametrize("case", PENALTY_FACTORS)
def test_matches_glum_with_identical_zeros(cancer, case):
    X, y, ref = cancer
    pf = None
    if PENALTY_FACTORS[case] is not None:
        column, factor = PENALTY_FACTORS[case]
        pf = np.ones(10)
        pf[column] = factor
    res = enet(X, y, alpha=0.01, l1_ratio=0.5, penalty_factor=pf)
    want = ref[case]
    assert bool(res.converged) and res.solver_name == "ProxNewton"
    assert rel_err(res.coef, want["coef"]) < 1e-6
    assert abs(float(res.intercept) - want["intercept"]) < 1e-8
    np.testing.assert_array_equal(np.asarray(res.coef) == 0, np.asarray(want["coef"]) == 0)
    assert (np.asarray(res.coef) == 0).any()  # the case has exact zeros
    assert float(res.kkt_violation) <= TOL
    assert np.isnan(np.asarray(res.bse)).all() and np.isnan(float(res.aic))


def test_coordinate_descent_inner_solver_reaches_the_same_optimum(cancer):
    X, y, ref = cancer
    solver = jg.ProxNewton(tol=TOL, inner="cd")
    res = jg.fit(X, y, jg.Bernoulli(), alpha=0.01, l1_ratio=0.5, solver=solver)
    assert bool(res.converged) and float(res.kkt_violation) <= TOL
    assert rel_err(res.coef, ref["enet"]["coef"]) < 1e-6
    np.testing.assert_array_equal(np.asarray(res.coef) == 0, np.asarray(ref["enet"]["coef"]) == 0)


def test_matches_sklearn_elastic_net_logistic(cancer):
    """scikit-learn's saga at C = 1 / (alpha n): the same optimum, the same zeros."""
    X, y, ref = cancer
    res = enet(X, y, alpha=0.01, l1_ratio=0.5)
    want = ref["sklearn_enet"]
    assert rel_err(res.coef, want["coef"]) < 1e-6
    np.testing.assert_array_equal(np.asarray(res.coef) == 0, np.asarray(want["coef"]) == 0)


@pytest.mark.parametrize("alpha", [0.01, 0.1])
def test_ridge_logistic_matches_sklearn(cancer, alpha):
    """LogisticRegression(C = 1 / (alpha n)): ProxNewton with l1_ratio 0 and Newton."""
    X, y, ref = cancer
    want = ref["sklearn_ridge"][str(alpha)]
    for solver in (jg.ProxNewton(tol=TOL), jg.Newton(tol=1e-12)):
        res = jg.fit(X, y, jg.Bernoulli(), alpha=alpha, l1_ratio=0.0, solver=solver)
        assert rel_err(res.coef, want["coef"]) < 1e-6, solver.name
        assert abs(float(res.intercept) - want["intercept"]) < 1e-8, solver.name


def test_poisson_matches_glum_and_ridge_matches_sklearn():
    ref = REFS["randhie"]
    X, y = np.array(ref["X"]), np.array(ref["y"])
    cases = (("enet", 0.05, None), ("enet_pf", 0.05, np.linspace(0.5, 2.0, 9)),
             ("enet_sparse", 0.2, None))  # fmt: skip
    for case, alpha, pf in cases:
        res = enet(X, y, jg.Poisson(), alpha=alpha, l1_ratio=0.7, penalty_factor=pf)
        assert bool(res.converged)
        assert rel_err(res.coef, ref[case]["coef"]) < 1e-6, case
        assert abs(float(res.intercept) - ref[case]["intercept"]) < 1e-8, case
        np.testing.assert_array_equal(np.asarray(res.coef) == 0, np.asarray(ref[case]["coef"]) == 0)
    assert (np.asarray(ref["enet_sparse"]["coef"]) == 0).sum() == 5  # the zeros are compared
    for solver in (jg.ProxNewton(tol=TOL), jg.Newton(tol=1e-12)):  # PoissonRegressor(alpha)
        ridge = jg.fit(X, y, jg.Poisson(), alpha=0.05, l1_ratio=0.0, solver=solver)
        assert rel_err(ridge.coef, ref["sklearn_ridge"]["coef"]) < 1e-6, solver.name
        assert abs(float(ridge.intercept) - ref["sklearn_ridge"]["intercept"]) < 1e-8


def test_alpha_max_is_the_smallest_alpha_with_all_zeros(cancer):
    """alpha_max = max_j |gradient_j at the intercept-only fit| / l1_ratio (glmnet)."""
    X, y, _ = cancer
    ybar = y.mean()
    grad = X.T @ (ybar - y) / len(y)  # Bernoulli-logit gradient at the null model
    alpha_max = np.max(np.abs(grad)) / 0.5
    at_max = enet(X, y, alpha=alpha_max * (1 + 1e-9), l1_ratio=0.5)
    assert bool(at_max.converged) and np.all(np.asarray(at_max.coef) == 0)
    np.testing.assert_allclose(at_max.intercept, np.log(ybar / (1 - ybar)), rtol=1e-10)
    below = enet(X, y, alpha=alpha_max * 0.99, l1_ratio=0.5)
    assert np.count_nonzero(np.asarray(below.coef)) == 1


def test_unpenalized_feature_is_not_shrunk(cancer):
    """penalty_factor 0: at an alpha that zeroes every other column, column 0's coefficient
    is the unpenalized one-column fit."""
    X, y, _ = cancer
    pf = np.zeros(10)
    pf[1:] = 1.0
    res = enet(X, y, alpha=10.0, l1_ratio=0.5, penalty_factor=pf)
    assert np.all(np.asarray(res.coef[1:]) == 0) and float(res.coef[0]) != 0
    alone = jg.fit(X[:, :1], y, family=jg.Bernoulli(), tol=1e-12)
    np.testing.assert_allclose(res.coef[0], alone.coef[0], rtol=1e-8)
    np.testing.assert_allclose(res.intercept, alone.intercept, rtol=1e-8)


def test_ridge_by_prox_newton_equals_newton(cancer):
    X, y, _ = cancer
    prox = enet(X, y, alpha=0.05, l1_ratio=0.0, solver=jg.ProxNewton())
    newton = jg.fit(X, y, family=jg.Bernoulli(), alpha=0.05, tol=1e-12)
    np.testing.assert_allclose(prox.params, newton.params, rtol=1e-8)


def test_vmap_over_l1_ratio_equals_loop(cancer):
    X, y, _ = cancer
    ratios = np.array([0.2, 0.5, 1.0])
    batched = jax.vmap(
        lambda r: jg.fit(
            X, y, jg.Bernoulli(), alpha=0.01, l1_ratio=r, solver=jg.ProxNewton(tol=TOL)
        )
    )(ratios)
    for i, r in enumerate(ratios):
        single = enet(X, y, alpha=0.01, l1_ratio=float(r))
        np.testing.assert_allclose(batched.params[i], single.params, rtol=1e-9, atol=1e-12)
        assert int(batched.status[i]) == jg.Status.CONVERGED


def test_l1_needs_prox_newton(cancer):
    X, y, _ = cancer
    with pytest.raises(ValueError, match="ProxNewton"):
        jg.fit(X, y, jg.Bernoulli(), alpha=0.01, l1_ratio=0.5, solver=jg.Newton())
    with pytest.raises(ValueError, match="ProxNewton"):
        jax.vmap(lambda r: jg.fit(X, y, jg.Bernoulli(), alpha=0.01, l1_ratio=r))(np.ones(2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        jg.fit(X, y, jg.Bernoulli(), alpha=0.01, l1_ratio=1.5)


def test_bfgs_update_meets_the_secant_equation_and_skips_negative_curvature():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 5))
    B = A @ A.T + np.eye(5)
    s, y = rng.normal(size=5), rng.normal(size=5)
    y = y if s @ y > 0 else -y
    new = np.asarray(prox_newton._bfgs_update(B, s, y))
    np.testing.assert_allclose(new @ s, y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(new, new.T, atol=1e-12)
    assert np.linalg.eigvalsh(new).min() > 0
    np.testing.assert_array_equal(prox_newton._bfgs_update(B, s, -y), B)


def test_refresh_under_vmap_equals_a_loop(cancer):
    # The batching rule (one decision for all members, then a cond per member) against
    # the unbatched function member by member; members 0 and 2 refresh, 1 keeps its model.
    X, y, _ = cancer
    n, p = X.shape
    problem = paths._problem(
        jnp.asarray(X), None, jnp.asarray(y), jnp.ones(n), jnp.zeros(n), jnp.ones(p),
        jg.Bernoulli(), jg.Logit(), True, 0.01, 0.5,
    )  # fmt: skip
    rng = np.random.default_rng(1)
    eta = rng.normal(scale=0.5, size=(3, len(y)))
    gram = np.stack([np.eye(11) * (k + 1) for k in range(3)])
    lmax = np.arange(1.0, 4.0)
    refresh = np.array([True, False, True])
    batched = jax.vmap(prox_newton._refreshed, in_axes=(0, None, 0, 0, 0))(
        refresh, problem, eta, gram, lmax
    )
    for k in range(3):
        single = prox_newton._refreshed(refresh[k], problem, eta[k], gram[k], lmax[k])
        np.testing.assert_allclose(batched[0][k], single[0], rtol=1e-12)
        np.testing.assert_allclose(batched[1][k], single[1], rtol=1e-12)
    np.testing.assert_array_equal(batched[0][1], gram[1])
    assert not np.allclose(batched[0][0], gram[0])


def test_passes_over_the_transpose_equal_those_over_x():
    rng = np.random.default_rng(2)
    X, r = rng.normal(size=(40, 3)), rng.normal(size=(4, 40))
    step = rng.normal(size=4)
    XT = np.ascontiguousarray(X.T)
    np.testing.assert_allclose(
        _linalg.direction_rows(XT, step), _linalg.direction(X, step), rtol=1e-12
    )
    looped = np.stack([_linalg.score(X, row) for row in r])
    np.testing.assert_allclose(_linalg.score_rows(XT, r[0]), looped[0], rtol=1e-12)
    batched = jax.vmap(_linalg.score_rows, in_axes=(None, 0))(XT, r)
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


def test_sparse_direction_reads_only_the_moved_rows_and_equals_the_dense_product():
    rng = np.random.default_rng(3)
    XT = rng.normal(size=(40, 30))  # p = 40: the rows one by one up to 10 moved slopes
    few = np.zeros(41)
    few[[0, 4, 18, 40]] = rng.normal(size=4)
    many, intercept = rng.normal(size=41), np.eye(41)[0] * 0.7
    steps = np.stack([few, many, intercept])
    for step in steps:
        np.testing.assert_allclose(
            _linalg.sparse_direction_rows(XT, step), _linalg.direction_rows(XT, step),
            rtol=1e-12, atol=1e-12,
        )  # fmt: skip
    # A row that the step does not move is not read (the dense product gives 0 * nan).
    poisoned = XT.copy()
    poisoned[5] = np.nan
    assert np.all(np.isfinite(_linalg.sparse_direction_rows(poisoned, few)))
    assert not np.all(np.isfinite(_linalg.direction_rows(poisoned, few)))
    batched = jax.vmap(_linalg.sparse_direction_rows, in_axes=(None, 0))(XT, steps)
    np.testing.assert_allclose(batched, steps[:, :1] + steps[:, 1:] @ XT, rtol=1e-12, atol=1e-12)


def test_line_search_returns_the_rows_of_the_accepted_trial():
    # f(t) = (t - 0.3)^2 from f(0) = 0.09 with slope -0.6: t = 1 fails Armijo, t = 1/2 passes.
    t, f, rows, found = backtrack_with_rows(
        lambda t: ((t - 0.3) ** 2, t * np.ones(3)), np.float64(0.09), -0.6
    )
    assert bool(found) and float(t) == 0.5 and np.isclose(float(f), 0.04)
    np.testing.assert_allclose(rows, 0.5 * np.ones(3))
    t, f, rows, found = backtrack_with_rows(
        lambda t: (np.inf * t, t * np.ones(3)), np.float64(0.09), -0.6
    )
    assert not bool(found) and float(t) == 0.0 and float(f) == 0.09
    np.testing.assert_array_equal(rows, 2.0**-30 * np.ones(3))  # the last trial's
