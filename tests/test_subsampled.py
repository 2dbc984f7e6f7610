"""SubsampledNewton: the exact estimate from a subsampled Hessian, and its fallbacks.

The subsamples are forced small (``start_rows``, ``hessian_rows``) so that real data sets
of a few hundred or thousand rows exercise the large-n path. Each case is one compile.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import simulate

import jaxglm as jg
from jaxglm import model as M
from jaxglm.solvers import default_solver
from tests.references.cases import CASES
from tests.test_references import REFS, make_model, rel_err

# name -> (start_rows, hessian_rows): weights, an offset, a non-canonical link, p = 20.
SUBSAMPLED_CASES = {
    "binomial_logit_star98": (100, 150),
    "poisson_log_heart_offset": (20, 35),
    "inverse_gaussian_identity_medpar": (300, 1000),
    "tweedie_p155_log_fair_weights": (300, 1500),
}


def fit_case(name, solver):
    data = CASES[name].load()
    family, link = make_model(CASES[name])
    extra = {k: data[k] for k in ("weights", "offset") if k in data}
    return jg.fit(data["X"], data["y"], family=family, link=link, solver=solver, **extra)


@pytest.mark.parametrize("name", SUBSAMPLED_CASES)
def test_reaches_reference(name):
    start_rows, hessian_rows = SUBSAMPLED_CASES[name]
    res = fit_case(name, jg.SubsampledNewton(start_rows=start_rows, hessian_rows=hessian_rows))
    ref = REFS[name]
    assert bool(res.converged), res.status_message
    assert res.solver_name == "SubsampledNewton"
    assert rel_err(res.params, ref["params"]) < 1e-6
    assert rel_err(res.bse, ref["bse"]) < 1e-6
    assert rel_err(res.deviance, ref["deviance"]) < 1e-8


@pytest.fixture(scope="module")
def separable_start():
    """Logistic data whose every 10th row is separable by column 0; the rest is not."""
    X, y = simulate(jg.Bernoulli(), n=400, p=2, seed=4)
    y = y.copy()
    y[::10] = (X[::10, 0] > 0).astype(y.dtype)
    return X, y


def test_failed_start_falls_back(separable_start):
    X, y = separable_start
    sub = jg.fit(X, y, jg.Bernoulli(), solver=jg.SubsampledNewton(start_rows=40, hessian_rows=40))
    ref = jg.fit(X, y, jg.Bernoulli(), solver=jg.Newton(tol=1e-10))
    assert bool(sub.converged), sub.status_message
    np.testing.assert_allclose(sub.params, ref.params, rtol=1e-7)


def test_rank_deficient_preconditioner_falls_back(separable_start):
    """A dummy column that is zero on every subsampled row: the full information is used."""
    X, y = separable_start
    X = np.column_stack([X, np.zeros(len(y))])
    X[1::10, 2] = 1.0  # never in the rows 0, 10, 20, ... of either subsample
    sub = jg.fit(X, y, jg.Bernoulli(), solver=jg.SubsampledNewton(start_rows=40, hessian_rows=40))
    ref = jg.fit(X, y, jg.Bernoulli(), solver=jg.Newton(tol=1e-10))
    assert bool(sub.converged), sub.status_message
    np.testing.assert_allclose(sub.params, ref.params, rtol=1e-7)
    np.testing.assert_allclose(sub.bse, ref.bse, rtol=1e-7)


def test_first_stall_rebuilds_from_the_subsample(separable_start):
    """An iteration that cuts the decrement less than 4x rebuilds the preconditioner from
    the subsample at its point; a second such stall from all rows (exact Newton)."""
    X, y = separable_start
    family = jg.Bernoulli()
    w = jnp.ones(len(y))
    problem = M.Problem(
        X=jnp.asarray(X), y=jnp.asarray(y), w=w, offset=jnp.zeros(len(y)),
        saturated=family.saturated_loglik(jnp.asarray(y)), total_weight=jnp.sum(w),
        penalty=jnp.zeros(X.shape[1] + 1), family=family, link=family.default_link(),
    )  # fmt: skip
    solver = jg.SubsampledNewton(start_rows=40, hessian_rows=40)
    _, stride = solver._strides(problem)

    @jax.jit  # one compile for the steps and both preconditioners
    def steps(problem):
        state = solver.init(problem, M.null_params(problem), family.mustart(problem.y, w))
        state = state._replace(decrement=state.decrement * 1e-9)  # any step now "stalls"
        first = solver.step(problem, state)
        second = solver.step(problem, state._replace(stalled=jnp.asarray(True)))
        sub, _ = solver._preconditioner(problem, stride, first.params)
        full, _ = solver._preconditioner(problem, 1, first.params)
        return first, second, sub, full

    first, second, sub, full = steps(problem)
    assert bool(first.stalled) and not bool(first.exact) and bool(second.exact)
    np.testing.assert_allclose(first.factors[0], sub[0], rtol=1e-12)
    np.testing.assert_allclose(second.factors[0], full[0], rtol=1e-12)
    assert not np.allclose(sub[0], full[0], rtol=1e-3)


def test_default_solver_by_size():
    assert default_solver(1_000_000, 100).name == "SubsampledNewton"
    assert default_solver(20_000, 100).name == "Newton"
    assert default_solver(1_000, 5).name == "Newton"
    assert default_solver(20_000, 4_000).name == "Optax(L-BFGS)"


def test_cov_type_none_skips_the_covariance(separable_start):
    X, y = separable_start
    solver = jg.SubsampledNewton(start_rows=40, hessian_rows=40)
    res = jg.fit(X, y, jg.Bernoulli(), solver=solver, cov_type="none")
    full = jg.fit(X, y, jg.Bernoulli(), solver=solver)
    np.testing.assert_array_equal(res.params, full.params)
    assert np.isnan(np.asarray(res.bse)).all() and np.isfinite(np.asarray(full.bse)).all()
    assert res.cov_type == "none"
