"""Derivatives of fitted models (issue 21): the implicit function theorem at the solution.

Each check is one compiled program (:func:`directional`): for every input, the forward
derivative along a random direction against a central finite difference (float64,
relative 1e-6; the step 1e-5 gives a truncation error ~1e-10 and a rounding error ~1e-11
relative for these O(1) inputs), and reverse mode against forward mode by the
dot-product identity ``u . (J d) = (J^T u) . d``. Shapes: n = 40, p = 3.
"""

import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import simulate

import jaxglm as jg

N, P = 40, 3
H = 1e-5
RTOL = 1e-6
TOL = 1e-10  # the fits' own tolerance: solver noise / H stays far below RTOL


def directional(F, theta, names, seed=0, masks=None, reverse=True):
    """Forward tangents, finite differences and the reverse-mode dot products of ``F``
    (pytree -> vector) along one random direction per input in ``names``, in one program.

    Returns ``{name: (tangent, finite difference, u.(J d), (J^T u).d)}`` (the last NaN
    without ``reverse``)."""
    rng = np.random.default_rng(seed)
    masks = masks or {}

    def direction(name):
        return {
            k: (
                rng.normal(size=np.shape(v)) * masks.get(k, 1.0)
                if k == name
                else np.zeros(np.shape(v))
            )
            for k, v in theta.items()
        }

    dirs = jax.tree.map(lambda *a: jnp.stack(a), *[direction(k) for k in names])
    u = rng.normal(size=jax.eval_shape(F, theta).shape)

    @jax.jit
    def program(theta, dirs, u):
        if reverse:
            (ct,) = jax.vjp(F, theta)[1](u)
            dot = jax.vmap(lambda d: sum(map(jnp.vdot, jax.tree.leaves(ct), jax.tree.leaves(d))))
        else:
            dot = jax.vmap(lambda d: jnp.nan)

        # One batch of forward passes: the tangents at theta and the values at theta +- H d.
        def at(s, d):
            return jax.jvp(F, (jax.tree.map(lambda t, e: t + s * e, theta, d),), (d,))

        k = len(names)
        steps = jnp.repeat(jnp.array([0.0, H, -H]), k)
        values, tangents = jax.vmap(at)(
            steps, jax.tree.map(lambda a: jnp.tile(a, (3,) + (1,) * (a.ndim - 1)), dirs)
        )
        fd = (values[k : 2 * k] - values[2 * k :]) / (2 * H)
        return tangents[:k], fd, tangents[:k] @ u, dot(dirs)

    tangents, fd, forward, reverse = jax.device_get(program(theta, dirs, u))
    return {k: (tangents[i], fd[i], forward[i], reverse[i]) for i, k in enumerate(names)}


def assert_derivatives(checks, zero=()):
    for name, (tangent, fd, forward, reverse) in checks.items():
        assert np.all(np.isfinite(tangent)), name
        if name in zero:
            assert np.all(tangent == 0), name
            assert np.max(np.abs(fd)) < 1e-6, name
            continue
        err = np.max(np.abs(tangent - fd)) / np.max(np.abs(fd))
        assert err < RTOL, (name, err)
        if not np.isnan(reverse):
            assert abs(forward - reverse) <= 1e-10 * max(abs(forward), 1e-3), name


def stats(res, X_new):
    """A fit's differentiable outputs (but bse) as one vector."""
    scalars = jnp.stack([res.deviance, res.llf, res.null_deviance, res.pearson_chi2, res.scale])
    return jnp.concatenate([res.params, scalars, res.predict(X_new)])


def positive(y, lo=0.0, hi=None):
    """1 where ``y`` is strictly inside the support (moving it there stays valid)."""
    inside = y > lo if hi is None else (y > lo) & (y < hi)
    return inside.astype(float)


RNG = np.random.default_rng(1)
W = RNG.uniform(0.5, 2.0, N)
FW = RNG.integers(1, 4, N).astype(float)
OFF = RNG.normal(scale=0.1, size=N)
EXPO = RNG.uniform(0.5, 2.0, N)
X_NEW = RNG.normal(size=(5, P))


@pytest.mark.parametrize("family, link", [(jg.Poisson(), None), (jg.Gamma(), jg.Log())])
def test_every_data_input_canonical_and_not(family, link):
    """params, deviance, llf, null deviance, Pearson chi2, scale and predictions in X, y,
    weights, freq_weights, offset, exposure (start_params: exactly 0); Poisson with a
    ridge penalty, also in alpha and the penalty factors; Gamma unpenalized, also bse."""
    X, y = simulate(family, N, P)
    theta = dict(X=X, y=y, weights=W, freq_weights=FW, offset=OFF, exposure=EXPO,
                 start_params=np.full(P + 1, 0.1))  # fmt: skip
    ridge = isinstance(family, jg.Poisson)
    if ridge:  # (bse are NaN with a penalty)
        theta.update(alpha=np.asarray(0.05), penalty_factor=np.array([1.0, 2.0, 0.5]))

    def F(t):
        res = jg.fit(
            t["X"], t["y"], family, link, weights=t["weights"], freq_weights=t["freq_weights"],
            offset=t["offset"], exposure=t["exposure"], start_params=t["start_params"],
            alpha=t.get("alpha", 0.0), penalty_factor=t.get("penalty_factor"), tol=TOL,
        )  # fmt: skip
        out = stats(res, X_NEW)
        return out if ridge else jnp.concatenate([out, res.bse])

    checks = directional(F, theta, list(theta), masks=dict(y=positive(y)))
    assert_derivatives(checks, zero=("start_params",))


def _family_case(name):
    """(family factory of its parameter, link, X, y, weights, family parameter or None)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(N, P))
    eta = 0.3 + X @ np.array([0.2, -0.15, 0.1])
    if name == "binomial-probit":
        trials = rng.integers(2, 6, N).astype(float)
        y = rng.binomial(trials.astype(int), 0.5 + 0.3 * np.tanh(eta - 0.3)) / trials
        return (lambda _: jg.Binomial()), jg.Probit(), X, y, trials, None
    if name == "gaussian-identity":
        return (lambda _: jg.Gaussian()), None, X, eta + rng.normal(size=N), W, None
    if name == "poisson-sqrt":
        return (
            (lambda _: jg.Poisson()),
            jg.Sqrt(),
            X,
            rng.poisson(np.exp(eta)).astype(float),
            W,
            None,
        )
    if name == "gamma-inverse":
        return (
            (lambda _: jg.Gamma()),
            None,
            X,
            rng.gamma(4.0, np.exp(-0.3 * X[:, 0]) / 4.0),
            W,
            None,
        )
    if name == "inverse_gaussian-log":
        y = rng.wald(np.exp(eta), 4.0)
        return (lambda _: jg.InverseGaussian()), jg.Log(), X, y, W, None
    if name == "negative_binomial-log":
        y = rng.poisson(rng.gamma(2.0, np.exp(eta) / 2.0)).astype(float)
        return (lambda a: jg.NegativeBinomial(alpha=a)), None, X, y, W, np.asarray(0.5)
    y = rng.poisson(np.exp(eta)) * rng.gamma(2.0, 0.5, size=N)
    return (lambda pw: jg.Tweedie(power=pw)), jg.Log(), X, y, W, np.asarray(1.5)


@pytest.mark.parametrize(
    "name",
    ["gaussian-identity", "binomial-probit", "poisson-sqrt", "gamma-inverse",
     "inverse_gaussian-log", "negative_binomial-log", "tweedie-log"],
)  # fmt: skip
def test_each_family_in_X_y_weights_and_its_parameter(name):
    """Every family (canonical and not), and the family's own parameter when it is given
    (NegativeBinomial alpha, Tweedie power)."""
    family, link, X, y, w, param = _family_case(name)
    theta = dict(X=X, y=y, weights=w)
    if param is not None:
        theta["param"] = param

    def F(t):
        res = jg.fit(t["X"], t["y"], family(t.get("param")), link, weights=t["weights"], tol=TOL)
        scalars = jnp.stack([res.deviance, res.pearson_chi2, res.scale])
        return jnp.concatenate([res.params, res.bse, scalars])

    lo, hi = (0.0, 1.0) if name.startswith("binomial") else (0.0, None)
    mask = np.ones(N) if name.startswith("gaussian") else positive(y, lo, hi)
    # Reverse mode (a compile half as dear again) where the family adds something to
    # transpose: its parameter, a non-canonical binomial; the other families share its rules.
    reverse = name in ("binomial-probit", "negative_binomial-log")
    assert_derivatives(directional(F, theta, list(theta), masks=dict(y=mask), reverse=reverse))


def test_elastic_net_on_the_active_set():
    """ProxNewton: the derivative in alpha, the penalty factors, y and X; zero coefficients
    (where the KKT conditions hold strictly) have derivative exactly 0."""
    X, y = simulate(jg.Poisson(), N, P)
    theta = dict(alpha=np.asarray(0.08), penalty_factor=np.array([1.0, 4.0, 0.5]), y=y, X=X)

    def F(t):
        res = jg.fit(t["X"], t["y"], jg.Poisson(), alpha=t["alpha"], l1_ratio=0.5,
                     penalty_factor=t["penalty_factor"], tol=TOL)  # fmt: skip
        return jnp.concatenate([res.params, res.deviance[None]])

    params = np.asarray(F(theta))[:-1]
    assert np.sum(params == 0) >= 1 and np.sum(params != 0) >= 3
    checks = directional(F, theta, list(theta), masks=dict(y=positive(y)))
    assert_derivatives(checks)
    for tangent, *_ in checks.values():
        assert np.all(tangent[:-1][params == 0] == 0)


def test_negative_binomial_alpha_estimated_joint_solution():
    """alpha estimated: params, alpha, llf and bse move with the joint solution in
    (params, log alpha)."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, P))
    y = rng.poisson(rng.gamma(2.0, np.exp(0.5 + X @ np.array([0.3, -0.2, 0.1])) / 2.0))
    theta = dict(X=X, y=y.astype(float))

    def F(t):
        res = jg.fit(t["X"], t["y"], jg.NegativeBinomial(alpha=None), tol=TOL)
        return jnp.concatenate([res.params, res.family.alpha[None], res.llf[None], res.bse])

    assert_derivatives(directional(F, theta, list(theta), masks=dict(y=positive(y))))


@pytest.mark.parametrize(
    "solver",
    [jg.SubsampledNewton(start_rows=20, hessian_rows=25), jg.Optax(), jg.Newton(fisher=True)],
    ids=["SubsampledNewton", "Optax", "Newton-fisher"],
)
def test_other_solvers(solver):
    """The same derivative from every solver, on a non-canonical model (Gamma, log link):
    conjugate gradients on SubsampledNewton's preconditioner and on Fisher scoring's
    expected information (not the Hessian), the observed Hessian for Optax (no matrix of
    its own); bse from the information at the solution."""
    X, y = simulate(jg.Gamma(), N, P)
    theta = dict(y=y, weights=W)

    def F(t):
        res = jg.fit(X, t["y"], jg.Gamma(), jg.Log(), weights=t["weights"], solver=solver,
                     tol=1e-12)  # fmt: skip
        return jnp.concatenate([res.params, res.bse, res.deviance[None]])

    assert_derivatives(directional(F, theta, list(theta)))


def test_multinomial():
    """A family with an m-vector theta: (p+1, m) params and their bse in X and the weights."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(N, 2))
    labels = (X[:, 0] + rng.logistic(size=N) > 0).astype(int) + (rng.uniform(size=N) > 0.6)
    theta = dict(X=X, weights=W)

    def F(t):
        res = jg.fit(t["X"], labels, jg.Multinomial(n_classes=3), weights=t["weights"], tol=TOL)
        return jnp.concatenate([res.params.ravel(), res.bse.ravel(), res.llf[None]])

    assert_derivatives(directional(F, theta, list(theta)))


def test_hessian_and_both_jacobians_under_jit():
    """``jax.hessian`` (forward over reverse) of a deviance in (alpha, y) against central
    differences of ``jax.grad``; ``jacfwd == jacrev``; all in one compiled program."""
    X, y = simulate(jg.Poisson(), N, P)
    d_y = positive(y) * np.random.default_rng(2).normal(size=N)

    def deviance(alpha, y):
        return jg.fit(X, y, jg.Poisson(), alpha=alpha, tol=TOL).deviance

    def params(y):
        return jg.fit(X, y, jg.Poisson(), alpha=0.1, tol=TOL).params

    @jax.jit
    def program(alpha, y):
        grad = jax.grad(deviance, argnums=(0, 1))
        hess = jax.hessian(deviance, argnums=(0, 1))(alpha, y)
        plus, minus = grad(alpha + H, y + H * d_y), grad(alpha - H, y - H * d_y)
        fd = [(a - b) / (2 * H) for a, b in zip(plus, minus, strict=True)]
        return hess, fd, jax.jacfwd(params)(y), jax.jacrev(params)(y)

    (haa, hay), (hya, hyy) = program(0.1, y)[0]
    _, fd, fwd, rev = program(0.1, y)
    hd = [haa * 1.0 + hay @ d_y, hya * 1.0 + hyy @ d_y]
    for a, b in zip(hd, fd, strict=True):
        assert np.max(np.abs(a - b)) < RTOL * np.max(np.abs(b))
    np.testing.assert_allclose(hay, hya, rtol=1e-10)
    np.testing.assert_allclose(hyy, hyy.T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fwd, rev, rtol=1e-12, atol=1e-15)


def test_vmap_of_grad_equals_the_loop_and_a_failed_member_is_nan():
    """``vmap(grad)`` member by member equals ``grad``; a member that does not converge
    (all-zero counts: NONFINITE) has NaN derivatives and leaves the others unchanged."""
    X, y = simulate(jg.Poisson(), N, P)
    Y = np.stack([y, y[::-1], np.zeros(N)])

    def loss(y):
        res = jg.fit(X, y, jg.Poisson(), tol=TOL)
        return jnp.sum(res.params**2) + res.deviance + jnp.sum(res.bse)

    grad = jax.jit(jax.grad(loss))
    batch = jax.jit(jax.vmap(jax.grad(loss)))(Y)
    for i in range(2):
        np.testing.assert_allclose(batch[i], grad(Y[i]), rtol=1e-12, atol=1e-15)
        assert np.all(np.isfinite(batch[i]))
    assert np.all(np.isnan(batch[2])) and np.all(np.isnan(grad(Y[2])))


def test_failed_fits_have_nan_derivatives():
    """MAX_ITER (the solver's status) and SEPARATION (set after it): NaN, not numbers."""
    X, y = simulate(jg.Poisson(), N, P)
    stopped = jax.grad(lambda y: jg.fit(X, y, jg.Poisson(), max_iter=1).deviance)(y)
    assert np.all(np.isnan(stopped))
    x = np.linspace(-1.0, 1.0, N)[:, None]
    separated = (x[:, 0] > 0).astype(float)
    with pytest.warns(jg.PerfectSeparationWarning):
        assert int(jg.fit(x, separated, jg.Bernoulli()).status) == jg.Status.SEPARATION

    def intercept(w):
        return jg.fit(x, separated, jg.Bernoulli(), weights=w).params[0]

    assert np.all(np.isnan(jax.jit(jax.grad(intercept))(np.ones(N))))


def test_weight_sensitivity_is_statsmodels_d_params_times_one_minus_leverage():
    """``jacrev`` of params in the prior weights is ``H^-1 s_i`` (the influence of row i);
    statsmodels' ``GLMInfluence.d_params`` (one-step deletion) divides it by ``1 - h_ii``.
    Poisson (scale 1) on statsmodels' cpunish data."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.cpunish.load_pandas()
    X = data.exog.to_numpy(float).copy()
    X[:, 0] = np.log(X[:, 0])
    y = data.endog.to_numpy(float)
    infl = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit().get_influence()
    J = jax.jacrev(lambda w: jg.fit(X, y, jg.Poisson(), weights=w, tol=TOL).params)(np.ones(len(y)))
    expected = np.asarray(infl.d_params) * (1.0 - np.asarray(infl.hat_matrix_diag))[:, None]
    np.testing.assert_allclose(J.T, expected, rtol=1e-6, atol=1e-9 * np.max(np.abs(expected)))


def test_path_fit_many_and_cv():
    """The path's coefficients in y (forward mode; warm starts in a scan, the grid moving
    with y), ``fit_many``'s params in its responses (forward and reverse), and cv's
    held-out deviance in the penalty factors (reverse), against central differences."""
    X, y = simulate(jg.Poisson(), N, P)
    rng = np.random.default_rng(4)
    d_y = positive(y) * rng.normal(size=N)
    d_pf = rng.normal(size=P)
    Y = np.stack([y, y[::-1]])

    def path(y):
        res = jg.path(X, y, jg.Poisson(), l1_ratio=0.5, n_alphas=4, alpha_min_ratio=0.05, tol=TOL)
        return jnp.concatenate([res.coef.ravel(), res.intercept])

    def many(Y):
        return jg.fit_many(X, Y, jg.Poisson(), tol=TOL).params

    def cv(pf):
        grid = np.array([0.1, 0.03, 0.01])
        res = jg.cv(X, y, jg.Poisson(), l1_ratio=0.5, alphas=grid, penalty_factor=pf,
                    n_folds=3, tol=TOL)  # fmt: skip
        return jnp.sum(res.mean)

    @jax.jit
    def program(y, Y, pf):
        def central(f, x, d):
            return (f(x + H * d) - f(x - H * d)) / (2 * H), jax.jvp(f, (x,), (d,))[1]

        fd_cv = (cv(pf + H * d_pf) - cv(pf - H * d_pf)) / (2 * H)
        grad_many = jax.grad(lambda Y: jnp.sum(many(Y)))(Y)
        return (central(path, y, d_y), central(many, Y, np.stack([d_y, d_y[::-1]])),
                (fd_cv, jax.grad(cv)(pf) @ d_pf), grad_many)  # fmt: skip

    *pairs, grad_many = program(y, Y, np.ones(P))
    for fd, tangent in pairs:
        assert np.max(np.abs(tangent - fd)) < RTOL * np.max(np.abs(fd))
    one = jax.grad(lambda y: jnp.sum(jg.fit(X, y, jg.Poisson(), tol=TOL).params))(Y[1])
    np.testing.assert_allclose(grad_many[1], one, rtol=1e-10, atol=1e-14)


def test_readme_examples_run():
    """The README's "Derivatives of fits" examples, as printed there (their own asserts:
    the tuned held-out deviance decreases; jacrev in the weights == central differences
    == statsmodels' d_params x (1 - h_ii))."""
    text = (Path(__file__).parents[1] / "README.md").read_text()
    section = text[text.index("## Derivatives of fits") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
