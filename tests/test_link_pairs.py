"""Every family/link pair the README's table marks "·" (supported, no stored reference fit):
its Newton system against ``jax.hessian``, its Fisher weights against the expected second
derivative, and one fit against a closed form.

The closed form: in a one-way layout (an intercept and indicators of groups 1 and 2) the
model is saturated in the groups, so for any family and link the MLE has ``mu_g`` equal to
the group's weighted mean of ``y``: the intercept is ``g(ybar_0)``, the slopes
``g(ybar_j) - g(ybar_0)``. The deviance is the sum of the unit deviances at those means
(written out below, independently of jaxglm's ``a(theta)``); the standard errors come from
the expected information of the group means, ``sum_g w_i mu'(eta_g)^2 / V(mu_g) / phi``,
with ``phi`` the Pearson dispersion for the families with a free scale.
"""

import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import xlogy

import jaxglm as jg
from jaxglm import model as M
from tests.test_families import (
    assert_fisher_weights_are_expected,
    assert_newton_system_is_the_dense_hessian,
)

ROOT = Path(__file__).parents[1]
POWER = jg.Power(power=1.5)
LINKS = {
    "Identity": jg.Identity(), "Log": jg.Log(), "Logit": jg.Logit(), "Probit": jg.Probit(),
    "CLogLog": jg.CLogLog(), "LogLog": jg.LogLog(), "Cauchit": jg.Cauchit(),
    "Inverse": jg.Inverse(), "InverseSquared": jg.InverseSquared(), "Sqrt": jg.Sqrt(),
    "Power(p)": POWER,
}  # fmt: skip
FAMILIES = {
    "Gaussian": jg.Gaussian(), "Bernoulli": jg.Bernoulli(), "Binomial": jg.Binomial(),
    "Poisson": jg.Poisson(), "Gamma": jg.Gamma(), "InverseGaussian": jg.InverseGaussian(),
    "NegativeBinomial": jg.NegativeBinomial(alpha=0.5), "Tweedie": jg.Tweedie(power=1.5),
}  # fmt: skip


def readme_pairs(mark: str = "·") -> list[tuple[str, str]]:
    """The (family, link) cells of the README's table holding ``mark``."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, s in enumerate(lines) if s.startswith("| family | `a(theta)`"))
    links = [c.strip().strip("`") for c in lines[start].split("|")[3:-1]]
    pairs = []
    for row in lines[start + 2 :]:
        if not row.startswith("|"):
            break
        cells = [c.strip() for c in row.split("|")[1:-1]]
        family = re.match(r"\w+", cells[0]).group(0)
        pairs += [(family, link) for link, c in zip(links, cells[2:], strict=True) if c == mark]
    return pairs


PAIRS = readme_pairs()
IDS = [f"{f}-{k}" for f, k in PAIRS]
GROUP_MEANS = {  # inside every link's mean range for the family
    "Bernoulli": (0.3, 0.5, 0.7), "Binomial": (0.3, 0.5, 0.7), "Gaussian": (1.0, 1.6, 2.5),
}  # fmt: skip


def one_way(family_name: str, n_per: int = 20, seed: int = 0):
    """(X, y, w, groups): three groups of ``n_per`` rows, X the indicators of groups 1, 2."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(3), n_per)
    X = (groups[:, None] == np.array([1, 2])).astype(float)
    means = np.asarray(GROUP_MEANS.get(family_name, (1.5, 3.0, 5.0)))[groups]
    w = rng.uniform(0.5, 2.0, size=3 * n_per)
    if family_name == "Bernoulli":  # exactly 6, 10, 14 ones of 20 per group
        y = (np.tile(np.arange(n_per), 3) < means * n_per).astype(float)
    elif family_name == "Binomial":  # proportions of integer trials (the weights)
        w = rng.integers(1, 8, size=3 * n_per).astype(float)
        y = rng.binomial(w.astype(int), means) / w
    elif family_name == "Gaussian":
        y = means + 0.3 * rng.normal(size=3 * n_per)
    elif family_name in ("Poisson", "NegativeBinomial"):
        y = rng.poisson(means).astype(float)
    elif family_name == "Tweedie":
        y = rng.poisson(means) * rng.gamma(2.0, 0.5, size=3 * n_per)
    else:
        y = rng.gamma(4.0, means / 4.0)
    return X, y, w, groups


def variance(name: str, mu):
    return {
        "Gaussian": np.ones_like(mu), "Bernoulli": mu * (1 - mu), "Binomial": mu * (1 - mu),
        "Poisson": mu, "Gamma": mu**2, "InverseGaussian": mu**3,
        "NegativeBinomial": mu + 0.5 * mu**2, "Tweedie": mu**1.5,
    }[name]  # fmt: skip


def unit_deviance(name: str, y, mu):
    if name == "Gaussian":
        return (y - mu) ** 2
    if name in ("Bernoulli", "Binomial"):
        return 2 * (xlogy(y, y / mu) + xlogy(1 - y, (1 - y) / (1 - mu)))
    if name == "Poisson":
        return 2 * (xlogy(y, y / mu) - (y - mu))
    if name == "Gamma":
        return 2 * (-np.log(y / mu) + (y - mu) / mu)
    if name == "InverseGaussian":
        return (y - mu) ** 2 / (mu**2 * y)
    if name == "NegativeBinomial":
        a = 0.5
        return 2 * (xlogy(y, y / mu) - (y + 1 / a) * np.log((1 + a * y) / (1 + a * mu)))
    p = 1.5  # Tweedie
    return 2 * (y ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p)
                + mu ** (2 - p) / (2 - p))  # fmt: skip


def test_the_table_marks_32_pairs_and_every_name_is_known():
    assert len(PAIRS) == 32
    assert {f for f, _ in PAIRS} <= set(FAMILIES) and {k for _, k in PAIRS} <= set(LINKS)


@pytest.mark.parametrize(("family", "link"), PAIRS, ids=IDS)
def test_newton_system_and_fisher_weights(family, link):
    fam, lnk = FAMILIES[family], LINKS[link]
    X, y, w, groups = one_way(family, n_per=5, seed=1)
    means = np.array([np.average(y[groups == g], weights=w[groups == g]) for g in range(3)])
    eta_g = np.asarray(lnk.link(jnp.asarray(means * np.array([1.05, 0.97, 1.02]))))
    params = jnp.asarray([eta_g[0], eta_g[1] - eta_g[0], eta_g[2] - eta_g[0]])
    problem = M.Problem(
        X=jnp.asarray(X), y=jnp.asarray(y), w=jnp.asarray(w), offset=jnp.zeros(len(y)),
        saturated=fam.saturated_loglik(jnp.asarray(y)), total_weight=jnp.sum(w),
        penalty=jnp.zeros(3), family=fam, link=lnk,
    )  # fmt: skip
    assert_newton_system_is_the_dense_hessian(problem, params, rtol=1e-9, atol=1e-12)
    assert_fisher_weights_are_expected(problem, params, rtol=1e-9)


@pytest.mark.parametrize(("family", "link"), PAIRS, ids=IDS)
def test_one_way_fit_has_the_closed_form(family, link):
    fam, lnk = FAMILIES[family], LINKS[link]
    X, y, w, groups = one_way(family)
    res = jg.fit(X, y, fam, lnk, weights=w, tol=1e-12)
    assert res.status == jg.Status.CONVERGED, res.status_message
    means = np.array([np.average(y[groups == g], weights=w[groups == g]) for g in range(3)])
    eta = np.asarray(lnk.link(jnp.asarray(means)))
    expected = np.array([eta[0], eta[1] - eta[0], eta[2] - eta[0]])
    np.testing.assert_allclose(res.params, expected, rtol=1e-8, atol=1e-10)
    mu = means[groups]
    deviance = np.sum(w * unit_deviance(family, y, mu))
    np.testing.assert_allclose(res.deviance, deviance, rtol=1e-9)
    dmu = np.asarray(jax.vmap(jax.grad(lnk.inverse))(jnp.asarray(eta)))
    free_scale = family in ("Gaussian", "Gamma", "InverseGaussian", "Tweedie")
    pearson = np.sum(w * (y - mu) ** 2 / variance(family, mu))
    phi = pearson / (len(y) - 3) if free_scale else 1.0
    info = np.array([np.sum(w[groups == g]) for g in range(3)]) * dmu**2
    var_eta = phi * variance(family, means) / info
    bse = np.sqrt([var_eta[0], var_eta[1] + var_eta[0], var_eta[2] + var_eta[0]])
    np.testing.assert_allclose(res.bse, bse, rtol=1e-7)


def test_power_link_mean_does_not_exist_at_a_negative_eta_under_jit():
    """XLA rewrites ``log(pow(a, b))`` as ``b log|a|``: with ``Power.inverse`` written as a
    pow, a Poisson objective was finite at a negative eta under ``jit`` (not eagerly), and
    Newton accepted such a point (the one-way Poisson-Power(1.5) fit ended NONFINITE)."""
    eta = jnp.asarray([-2.0, -0.5, 0.5, 4.0])
    for power in (1.5, 2.0, 3.0):
        link = jg.Power(power=power)

        def nll(e, link=link):
            return -jg.Poisson().natural_loglik(1.0, M.theta_from_eta(jg.Poisson(), link, e))

        got = np.asarray(jax.jit(nll)(eta))
        assert np.isnan(got[:2]).all() and np.isfinite(got[2:]).all(), power
        np.testing.assert_allclose(link.inverse(eta[2:]), np.asarray(eta[2:]) ** (1 / power))
