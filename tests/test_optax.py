"""The Optax solver: L-BFGS reaches the reference fits of every family; mini-batch Adam
reaches Newton's solution; vmap over the learning rate; the optimizer state stays inside.

Compiles dominate the cost here (one per family, link and static setting), so the file
uses one small case per family and one simulated problem for the rest.
"""

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import statsmodels.api as sm
from conftest import simulate

import jaxglm as jg
from jaxglm import model as M
from jaxglm.solvers import default_solver
from jaxglm.solvers import optax as optax_solver
from tests.references.cases import CASES, FAMILIES
from tests.test_references import REFS, make_model, rel_err

# One small real-data case per family; longley (cond(X) ~ 5e9) needs the preconditioning,
# star98 (20 columns on scales 1e-2 to 1e3) and scotland (Gamma inverse) the information's
# Cholesky factor (before it, at the defaults, star98 stopped at max_iter 1000).
FAMILY_CASES = [
    "gaussian_identity_longley",
    "binomial_logit_star98",
    "gamma_inverse_scotland",
    "bernoulli_logit_lbw",
    "binomial_log_china_smoking",
    "poisson_log_cpunish",
    "gamma_log_cancer",
    "inverse_gaussian_log_medpar",
    "negative_binomial_log_committee",
    "tweedie_p2_power_cancer",
]
LBFGS = jg.Optax()  # the defaults

# Mini-batch Adam on a well-conditioned simulated logistic problem: 1000 rows in batches of
# 96 (11 batches, the last one masked), the rate decaying by 0.6 every 10 epochs, stopped
# at a relative gradient of 1e-2 (about 70-100 epochs). Stated tolerance: max |params -
# Newton's| within 1e-2 of max |Newton's params|; the noise of 96-row batches keeps Adam a
# few 1e-3 away.
ADAM_TOL = 1e-2


def decaying_adam(learning_rate):
    return optax.adam(optax.exponential_decay(learning_rate, 110, 0.6))


def adam(learning_rate):
    return jg.Optax(
        decaying_adam, learning_rate=learning_rate, batch_size=96, seed=3, tol=1e-2,
        max_iter=100,
    )  # fmt: skip


@pytest.fixture(scope="module")
def logistic():
    """The simulated problem and its Newton (IRLS) solution, from statsmodels: no compile."""
    X, y = simulate(jg.Bernoulli(), n=1000, p=4, seed=1)
    newton = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial()).fit(tol=1e-12)
    return X, y, newton.params


def fit_case(name, solver):
    data = CASES[name].load()
    family, link = make_model(CASES[name])
    extra = {k: data[k] for k in ("weights", "offset") if k in data}
    return jg.fit(data["X"], data["y"], family=family, link=link, solver=solver, **extra)


def test_family_cases_cover_every_family():
    assert {REFS[name]["family"] for name in FAMILY_CASES} == set(FAMILIES)


@pytest.mark.parametrize("name", FAMILY_CASES)
def test_lbfgs_reaches_reference(name):
    res = fit_case(name, LBFGS)
    assert bool(res.converged), res.status_message
    assert res.solver_name == "Optax(L-BFGS)"
    assert rel_err(res.params, REFS[name]["params"]) < 1e-6
    assert rel_err(res.bse, REFS[name]["bse"]) < 1e-6


def test_max_iter_is_reported_and_warns():
    with pytest.warns(jg.ConvergenceWarning, match="max_iter"):
        res = fit_case("poisson_log_cpunish", jg.Optax(tol=1e-10, max_iter=2))
    assert int(res.status) == jg.Status.MAX_ITER and int(res.n_iter) == 2


def test_equal_solvers_share_one_program():
    """The optimizer is static: the default (None, resolved inside) and a factory function
    compare equal across instances, and the learning rate is a leaf, not part of the key."""
    assert jax.tree.structure(jg.Optax()) == jax.tree.structure(jg.Optax(tol=1e-3))
    assert hash(jax.tree.structure(jg.Optax())) == hash(jax.tree.structure(jg.Optax()))
    a = jg.Optax(optax.adam, learning_rate=0.1, batch_size=8)
    b = jg.Optax(optax.adam, learning_rate=0.2, batch_size=8)
    assert jax.tree.structure(a) == jax.tree.structure(b)


def test_minibatch_adam_and_vmap_over_learning_rate(logistic):
    X, y, newton = logistic
    rates = jnp.array([0.02, 0.05])
    batch = jax.vmap(lambda lr: jg.fit(X, y, family=jg.Bernoulli(), solver=adam(lr)))(rates)
    for i, rate in enumerate(rates):
        single = jg.fit(X, y, family=jg.Bernoulli(), solver=adam(rate))
        assert bool(single.converged), single.status_message
        assert single.solver_name == "Optax(mini-batch)"
        np.testing.assert_allclose(batch[i].params, single.params, rtol=1e-10, atol=1e-12)
        assert int(batch[i].n_iter) == int(single.n_iter)
        error = np.max(np.abs(single.params - newton)) / np.max(np.abs(newton))
        assert error < ADAM_TOL


def test_one_epoch_of_batch_gradients_is_their_unbiased_sum():
    """Plain SGD with a tiny rate for one epoch: ``params1 = params0 - lr sum_b grad_b``
    (to ``O(lr^2)``), each batch gradient its rows' mean of ``g_i [1, x_i]`` (the batch
    estimate of the full gradient); the last batch (2 real rows and 2 masked repeats of
    10 rows in batches of 4) must count only its real rows."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 2))
    y = rng.poisson(1.5, size=10).astype(float)
    start = np.array([0.2, 0.1, -0.3])
    lr = 1e-7
    solver = jg.Optax(optax.sgd, learning_rate=lr, batch_size=4, precondition=None, max_iter=1)
    with pytest.warns(jg.ConvergenceWarning):  # one epoch: MAX_ITER
        res = jg.fit(X, y, jg.Poisson(), solver=solver, start_params=start)
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(jax.random.key(0), 0), 10))
    design = np.column_stack([np.ones(10), X])
    g = np.exp(design @ start) - y  # Poisson/log: nll'(eta) = mu - y
    batches = (perm[:4], perm[4:8], perm[8:])
    total = sum(np.mean(g[b, None] * design[b], axis=0) for b in batches)
    np.testing.assert_allclose((start - np.asarray(res.params)) / lr, total, rtol=1e-5)


def test_optimizer_state_stays_inside_the_jit(logistic):
    """The result's leaves are exactly GLMResult's array fields: no optimizer state."""
    X, y, _ = logistic
    res = jg.fit(X, y, family=jg.Bernoulli(), solver=adam(0.05))
    # a single fit keeps its rows for the residuals: the linear predictor, y, the weights
    assert {leaf.shape for leaf in jax.tree.leaves(res.fitted_rows)} == {y.shape}
    res = dataclasses.replace(res, fitted_rows=None)
    fields = [f.name for f in dataclasses.fields(res) if not f.metadata.get("static", False)]
    arrays = [name for name in fields if name not in ("family", "link", "fitted_rows")]
    leaves = jax.tree_util.tree_flatten_with_path(res)[0]
    assert [path[0].name for path, _ in leaves] == arrays  # Bernoulli and Logit have none
    p = X.shape[1]
    shapes = {name: leaf.shape for (path, leaf) in leaves for name in [path[0].name]}
    assert shapes.pop("coef") == (p,) and shapes.pop("cov") == (p + 1, p + 1)
    assert set(shapes.values()) == {()}


def test_fit_intercept_false(logistic):
    X, y, _ = logistic
    res = jg.fit(X, y, family=jg.Bernoulli(), fit_intercept=False, solver=LBFGS)
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-12)
    assert bool(res.converged), res.status_message
    assert float(res.intercept) == 0.0 and res.params.shape == (4,)
    assert rel_err(res.params, ref.params) < 1e-6
    assert rel_err(res.bse, ref.bse) < 1e-6


def test_information_is_nan_above_the_threshold():
    """Wide fits skip the information (fit() then reports NaN inference, never a wrong
    number) without building the Gram."""
    p = optax_solver.INFORMATION_MAX_P + 1
    fam, y = jg.Bernoulli(), jnp.array([0.0, 1.0, 1.0])
    problem = M.Problem(
        X=jnp.ones((3, p)), y=y, w=jnp.ones(3), offset=jnp.zeros(3),
        saturated=fam.saturated_loglik(y), total_weight=jnp.asarray(3.0),
        penalty=jnp.zeros(p + 1), family=fam, link=jg.Logit(),
    )  # fmt: skip
    state = SimpleNamespace(params=jnp.zeros(p + 1), eta=jnp.zeros(3))  # what it reads
    info = jg.Optax().information(problem, state)
    assert info is None


def test_default_solver_switches_to_lbfgs_for_wide_designs():
    assert isinstance(default_solver(20_000, 250), jg.Newton)
    assert isinstance(default_solver(20_000, 300), jg.Optax)
    assert isinstance(default_solver(100_000, 1_000), jg.Optax)
    assert isinstance(default_solver(300, 250), jg.Optax)  # the p^3 of the solve counts


@pytest.fixture(scope="module")
def wide_designs():
    """Logistic, n = 4,200, p = 260 (above FACTOR_MAX_P; the subsampled information takes
    every 2nd row), with prior weights and an offset: i.i.d. normal columns, and the same
    mixed by diag(logspace(0, -3)) Q (cond(X) ~ 1e3, as benchmarks/problems.py)."""
    rng = np.random.default_rng(7)
    n, p = 4_200, optax_solver.FACTOR_MAX_P + 4
    Z = rng.standard_normal((n, p))
    q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    mixing = np.logspace(0, -3, p)[:, None] * q
    weights, offset = rng.uniform(0.5, 2.0, n), 0.3 * rng.standard_normal(n)
    designs = {}
    for name, X in [("well", Z), ("ill", Z @ (mixing / np.linalg.norm(mixing, axis=0)))]:
        beta = rng.standard_normal(p)
        eta = offset - 0.3 + X @ (beta / np.std(X @ beta))
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        designs[name] = (X, y)
    return designs, weights, offset


def numpy_newton(X, y, weights, offset):
    """Weighted logistic maximum likelihood by plain Newton in NumPy (no compile): params
    (intercept first) and their standard errors from the inverse information."""
    X1 = np.column_stack([np.ones(len(y)), X])
    params = np.zeros(X1.shape[1])
    for _ in range(50):
        mu = 1.0 / (1.0 + np.exp(-(offset + X1 @ params)))
        information = (X1 * (weights * mu * (1.0 - mu))[:, None]).T @ X1
        step = np.linalg.solve(information, X1.T @ (weights * (y - mu)))
        params = params + step
        if np.max(np.abs(step)) <= 1e-14 * np.max(np.abs(params)):
            break
    return params, np.sqrt(np.diag(np.linalg.inv(information)))


@pytest.mark.parametrize("conditioning", ["well", "ill"])
def test_wide_lbfgs_reaches_newton_on_well_and_ill_designs(wide_designs, conditioning):
    """Above FACTOR_MAX_P the iteration starts centered and, where that is slow (the
    ill-conditioned design: more than SWITCH_ITERATIONS iterations), restarts in the
    coordinates of a subsampled information; both reach Newton's params to 1e-8."""
    designs, weights, offset = wide_designs
    X, y = designs[conditioning]
    res = jg.fit(X, y, jg.Bernoulli(), weights=weights, offset=offset, solver=LBFGS)
    params, bse = numpy_newton(X, y, weights, offset)
    assert bool(res.converged), res.status_message
    switched = int(res.n_iter) > optax_solver.SWITCH_ITERATIONS
    assert switched == (conditioning == "ill"), int(res.n_iter)
    assert np.max(np.abs(res.params - params)) < 1e-8 * np.max(np.abs(params))
    np.testing.assert_allclose(res.bse, bse, rtol=1e-6)


def test_coordinates_centered_information_and_pullback_are_consistent():
    """The preconditioner's pieces (issue 19: no dense (p+1)^3 products, no copied factor):
    the O(p^2) centered information equals ``C^T H C``, and the pullback is the transpose
    of ``params(z)`` with a factor and without one (no factor: no (p+1)^2 matrix at all)."""
    rng = np.random.default_rng(3)
    p = 6
    A = rng.normal(size=(40, p + 1))
    H, center, scale = A.T @ A, rng.normal(size=p), rng.uniform(0.5, 2.0, p + 1)
    z, g = rng.normal(size=p + 1), rng.normal(size=p + 1)

    @jax.jit
    def pieces(H, center, scale, z, g):
        info = optax_solver._centered_information(H, center, scale)
        plain = optax_solver._Scaling(scale, center)
        factor = jnp.linalg.cholesky(info / jnp.outer(scale, scale))
        out = []
        for scaling in (plain, plain._replace(factor=factor, equilibration=scale)):
            out.append((
                jnp.dot(g, scaling.params(z)), jnp.dot(scaling.pullback(g), z),
                scaling.params(scaling.coordinates(z)),
            ))  # fmt: skip
        return info, plain.factor, out

    info, no_factor, checks = pieces(H, center, scale, z, g)
    C = np.diag(scale)
    C[0, 1:] = -center * scale[1:]
    np.testing.assert_allclose(info, C.T @ H @ C, rtol=1e-12, atol=1e-12)
    assert no_factor is None
    for lhs, rhs, back in checks:
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
        np.testing.assert_allclose(back, z, rtol=1e-10)


def test_start_predictor_needs_no_pass_from_the_intercept_only_point():
    """Issue 19: the first ``eta`` from zero slopes (the intercept-only start) is
    ``offset + intercept`` without ``X @ params``, equal to it for a finite ``X``, and the
    product itself for other starting points."""
    rng = np.random.default_rng(4)
    n, p = 64, 5
    X = jnp.asarray(rng.normal(size=(n, p)))
    problem = SimpleNamespace(X=X, offset=jnp.asarray(rng.normal(size=n)))
    predictor = jax.jit(lambda params: optax_solver._start_predictor(problem, params))
    for params in (jnp.asarray([-0.4, 0, 0, 0, 0, 0.0]), jnp.asarray(rng.normal(size=p + 1))):
        expected = problem.offset + params[0] + X @ params[1:]
        np.testing.assert_allclose(predictor(params), expected, rtol=1e-14, atol=1e-15)
    with_nan = SimpleNamespace(X=X.at[3, 2].set(jnp.nan), offset=problem.offset)
    eta = optax_solver._start_predictor(with_nan, jnp.asarray([0.5, 0, 0, 0, 0, 0.0]))
    assert bool(jnp.all(jnp.isfinite(eta)))  # no pass over X: its NaN is the gradient's
