"""Autodiff identities: every family's mean, variance, deviance and log-likelihood, derived
from its log-partition function, equal the textbook closed forms; the Newton system built
from row derivatives equals the dense ``jax.hessian`` oracle for every family x link."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jaxglm as jg
from jaxglm import _linalg
from jaxglm import model as M

MU = np.array([0.2, 0.7, 1.0, 2.5, 6.0])
Y = np.array([0.0, 1.0, 2.0, 3.0, 7.0])
Y_POS = np.array([0.3, 1.0, 2.2, 3.1, 7.5])
ALPHA = 0.7

# family, closed-form variance V(mu), closed-form unit deviance d(y, mu), y, mu
CLOSED_FORMS = [
    (jg.Gaussian(), lambda m: np.ones_like(m), lambda y, m: (y - m) ** 2, Y_POS, MU),
    (
        jg.Bernoulli(),
        lambda m: m * (1 - m),
        lambda y, m: -2 * (y * np.log(m) + (1 - y) * np.log1p(-m)),
        np.array([0.0, 1.0, 1.0, 0.0, 1.0]),
        np.array([0.1, 0.3, 0.5, 0.8, 0.95]),
    ),
    (
        jg.Binomial(),
        lambda m: m * (1 - m),
        lambda y, m: 2 * (_xlogx(y) - y * np.log(m) + _xlogx(1 - y) - (1 - y) * np.log1p(-m)),
        np.array([0.0, 0.25, 0.5, 0.75, 1.0]),
        np.array([0.1, 0.3, 0.5, 0.8, 0.95]),
    ),
    (
        jg.Poisson(),
        lambda m: m,
        lambda y, m: 2 * (_xlogx(y) - y * np.log(m) - (y - m)),
        Y,
        MU,
    ),
    (
        jg.Gamma(),
        lambda m: m**2,
        lambda y, m: 2 * (-np.log(y / m) + (y - m) / m),
        Y_POS,
        MU,
    ),
    (
        jg.InverseGaussian(),
        lambda m: m**3,
        lambda y, m: (y - m) ** 2 / (m**2 * y),
        Y_POS,
        MU,
    ),
    (
        jg.NegativeBinomial(alpha=ALPHA),
        lambda m: m + ALPHA * m**2,
        lambda y, m: (
            2
            * (
                _xlogx(y)
                - y * np.log(m)
                - (y + 1 / ALPHA) * np.log((1 + ALPHA * y) / (1 + ALPHA * m))
            )
        ),
        Y,
        MU,
    ),
]
for _p in (0.0, 1.0, 1.5, 2.0, 3.0, 2.5):
    CLOSED_FORMS.append(
        (
            jg.Tweedie(power=_p),
            lambda m, p=_p: m**p,
            lambda y, m, p=_p: _tweedie_deviance(y, m, p),
            Y if 1 <= _p < 2 else Y_POS,
            MU,
        )
    )


def _xlogx(x):
    x = np.asarray(x, float)
    return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)


def _tweedie_deviance(y, m, p):
    if p == 0:
        return (y - m) ** 2
    if p == 1:
        return 2 * (_xlogx(y) - y * np.log(m) - (y - m))
    if p == 2:
        return 2 * (-np.log(y / m) + (y - m) / m)
    return 2 * (
        np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
        - y * m ** (1 - p) / (1 - p)
        + m ** (2 - p) / (2 - p)
    )


IDS = [fam.name for fam, *_ in CLOSED_FORMS]


@pytest.mark.parametrize(("family", "variance", "deviance", "y", "mu"), CLOSED_FORMS, ids=IDS)
def test_mean_and_variance_from_autodiff(family, variance, deviance, y, mu):
    theta = family.theta_from_mean(jnp.asarray(mu))
    np.testing.assert_allclose(family.mean(theta), mu, rtol=1e-12)
    np.testing.assert_allclose(family.variance(jnp.asarray(mu)), variance(mu), rtol=1e-12)


@pytest.mark.parametrize(("family", "variance", "deviance", "y", "mu"), CLOSED_FORMS, ids=IDS)
def test_unit_deviance_matches_closed_form(family, variance, deviance, y, mu):
    got = family.unit_deviance(jnp.asarray(y), jnp.asarray(mu))
    np.testing.assert_allclose(got, deviance(y, mu), rtol=1e-11, atol=1e-13)
    binary = isinstance(family, jg.Bernoulli | jg.Binomial)
    interior = y[(y > 0) & ((y < 1) | (not binary))]
    at_mean = family.unit_deviance(jnp.asarray(interior), jnp.asarray(interior))
    np.testing.assert_allclose(at_mean, 0.0, atol=1e-12)


PHI, W = 0.8, np.array([1.0, 2.0, 0.5, 1.0, 3.0])


def _scipy_loglik(family, y, mu):
    """R's row log-likelihood: the log-density times the prior weight (phi where free)."""
    if isinstance(family, jg.Gaussian):
        return stats.norm.logpdf(y, mu, np.sqrt(PHI / W))
    if isinstance(family, jg.Poisson):
        return W * stats.poisson.logpmf(y, mu)
    if isinstance(family, jg.Gamma):
        return W * stats.gamma.logpdf(y, 1 / PHI, scale=mu * PHI)
    if isinstance(family, jg.InverseGaussian):
        return W * stats.invgauss.logpdf(y, mu * PHI, scale=1 / PHI)
    if isinstance(family, jg.NegativeBinomial):
        k = 1 / ALPHA
        return W * stats.nbinom.logpmf(y, k, k / (k + mu))
    raise AssertionError(family)


@pytest.mark.parametrize(
    ("family", "y"),
    [
        (jg.Gaussian(), Y_POS),
        (jg.Poisson(), Y),
        (jg.Gamma(), Y_POS),
        (jg.InverseGaussian(), Y_POS),
        (jg.NegativeBinomial(alpha=ALPHA), Y),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_log_likelihood_matches_scipy_density(family, y):
    y, mu, w = jnp.asarray(y), jnp.asarray(MU), jnp.asarray(W)
    phi = jnp.asarray(PHI if family.estimates_scale else 1.0)
    theta = family.theta_from_mean(mu)
    got = w * family.natural_loglik(y, theta) / phi + family.log_base_measure(y, phi, w)
    np.testing.assert_allclose(got, _scipy_loglik(family, np.asarray(y), MU), rtol=1e-11)


def test_binomial_log_likelihood_counts_trials():
    trials, successes = np.array([5.0, 10.0, 1.0]), np.array([2.0, 10.0, 0.0])
    mu = np.array([0.3, 0.9, 0.4])
    fam = jg.Binomial()
    y, w = jnp.asarray(successes / trials), jnp.asarray(trials)
    got = w * fam.natural_loglik(y, fam.theta_from_mean(jnp.asarray(mu))) + fam.log_base_measure(
        y, 1.0, w
    )
    np.testing.assert_allclose(got, stats.binom.logpmf(successes, trials, mu), rtol=1e-12)


def test_poisson_start_is_halfway_to_the_weighted_mean_count():
    """statsmodels' and glmax's start, (y + ybar) / 2, the mean weighted (a padding row of
    weight 0 does not count); R's y + 0.1 where every count is 0."""
    fam = jg.Poisson()
    y, w = jnp.array([0.0, 2.0, 4.0, 9.0]), jnp.array([1.0, 1.0, 2.0, 0.0])
    np.testing.assert_allclose(fam.mustart(y, w), (np.asarray(y) + 2.5) / 2, rtol=1e-15)
    zeros = jnp.zeros(3)
    np.testing.assert_allclose(fam.mustart(zeros, jnp.ones(3)), 0.1, rtol=1e-15)


@pytest.mark.parametrize("power", [0.0, 1.0, 2.0, 3.0])
def test_tweedie_special_powers_are_the_named_families(power):
    named = {0.0: jg.Gaussian(), 1.0: jg.Poisson(), 2.0: jg.Gamma(), 3.0: jg.InverseGaussian()}
    tw, fam = jg.Tweedie(power=power), named[power]
    y, mu = jnp.asarray(Y_POS), jnp.asarray(MU)
    np.testing.assert_allclose(tw.unit_deviance(y, mu), fam.unit_deviance(y, mu), rtol=1e-12)
    np.testing.assert_allclose(
        tw.log_base_measure(y, 0.8, 2.0), fam.log_base_measure(y, 0.8, 2.0), rtol=1e-12
    )
    assert np.isnan(np.asarray(jg.Tweedie(power=1.5).log_base_measure(y, 0.8, 1.0))).all()


# --- the Newton system equals the dense jax.hessian oracle, every family x link -----------

PAIRS = [
    (jg.Gaussian(), jg.Identity()),
    (jg.Gaussian(), jg.Log()),
    (jg.Bernoulli(), jg.Logit()),
    (jg.Bernoulli(), jg.Probit()),
    (jg.Bernoulli(), jg.CLogLog()),
    (jg.Bernoulli(), jg.LogLog()),
    (jg.Bernoulli(), jg.Cauchit()),
    (jg.Poisson(), jg.Log()),
    (jg.Poisson(), jg.Sqrt()),
    (jg.Poisson(), jg.Identity()),
    (jg.Gamma(), jg.Inverse()),
    (jg.Gamma(), jg.Log()),
    (jg.Gamma(), jg.Identity()),
    (jg.InverseGaussian(), jg.InverseSquared()),
    (jg.InverseGaussian(), jg.Log()),
    (jg.NegativeBinomial(alpha=0.5), jg.Log()),
    (jg.NegativeBinomial(alpha=0.5), jg.Sqrt()),
    (jg.Tweedie(power=1.5), jg.Log()),
    (jg.Tweedie(power=1.5), jg.Power(power=0.5)),
    (jg.Poisson(), jg.Canonical()),
    (jg.Gamma(), jg.Canonical()),
]


def _small_problem(family, link, n=25, p=3):
    rng = np.random.default_rng(1)
    X = rng.uniform(0.1, 1.0, size=(n, p))
    params = jnp.asarray([0.6, 0.3, -0.2, 0.25])
    if isinstance(link, jg.Canonical) and isinstance(family, jg.Gamma):
        params = -params  # theta = -1/mu < 0
    eta = np.asarray(_linalg.linear_predictor(jnp.asarray(X), params, jnp.zeros(n)))
    mu = np.asarray(M.mean_from_eta(family, link, jnp.asarray(eta)))
    if isinstance(family, jg.Bernoulli):
        y = (rng.uniform(size=n) < mu).astype(float)
    elif isinstance(family, jg.Poisson | jg.NegativeBinomial | jg.Tweedie):
        y = rng.poisson(mu).astype(float)
    else:
        y = mu * rng.uniform(0.5, 1.5, size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    problem = M.Problem(
        X=jnp.asarray(X), y=jnp.asarray(y), w=jnp.asarray(w), offset=jnp.zeros(n),
        saturated=family.saturated_loglik(jnp.asarray(y)), total_weight=jnp.sum(w),
        penalty=jnp.zeros(p + 1), family=family, link=link,
    )  # fmt: skip
    return problem, params


def assert_newton_system_is_the_dense_hessian(problem, params, rtol=1e-10, atol=1e-13):
    """The model's gradient and Newton matrix equal ``jax.grad`` / ``jax.hessian`` of the
    objective at ``params``."""

    def total(b):
        return M.objective(problem, b, _linalg.linear_predictor(problem.X, b, problem.offset))

    eta = _linalg.linear_predictor(problem.X, params, problem.offset)
    g, h = M.row_derivatives(problem, eta, fisher=False)
    np.testing.assert_allclose(
        M.gradient(problem, params, g), jax.grad(total)(params), rtol=rtol, atol=atol
    )
    np.testing.assert_allclose(M.hessian(problem, h), jax.hessian(total)(params), rtol=rtol)


def assert_fisher_weights_are_expected(problem, params, rtol=1e-10):
    """E[h_observed] = (dmu/deta)^2 / V(mu): the observed weight at y = mu is the expected one."""
    eta = _linalg.linear_predictor(problem.X, params, problem.offset)
    mu = M.mean_from_eta(problem.family, problem.link, eta)
    at_mean = problem.__class__(**{**problem.__dict__, "y": mu})
    _, h_obs = M.row_derivatives(at_mean, eta, fisher=False)
    _, h_exp = M.row_derivatives(problem, eta, fisher=True)
    np.testing.assert_allclose(h_obs, h_exp, rtol=rtol)


@pytest.mark.parametrize(("family", "link"), PAIRS, ids=[f"{f.name}-{k.name}" for f, k in PAIRS])
def test_newton_system_equals_dense_hessian(family, link):
    assert_newton_system_is_the_dense_hessian(*_small_problem(family, link))


@pytest.mark.parametrize(
    ("family", "link"), PAIRS[:8], ids=[f"{f.name}-{k.name}" for f, k in PAIRS[:8]]
)
def test_fisher_weights_are_expected_second_derivative(family, link):
    assert_fisher_weights_are_expected(*_small_problem(family, link))
