r"""Exponential families, each defined by its log-partition function.

A family is a frozen dataclass pytree that writes only

* ``log_partition(theta)`` — :math:`a(\theta)`,
* ``theta_from_mean(mu)`` — the canonical link :math:`(a')^{-1}`,
* ``log_base_measure(y, phi, w)`` — the row's :math:`\log b` term as it enters the
  log-likelihood (with the dispersion and prior weight where they enter),
* ``in_support(y)`` — the support of ``y`` (host-side validation, and per member inside jit),
* ``mustart(y, w)`` — R's ``family$initialize`` starting mean,

and any family parameter as an array field. The mean :math:`a'(\theta)`, the variance
function :math:`V(\mu) = a''(\theta(\mu))`, the unit deviance and the log-likelihood are
derived here by autodiff, never written per family. The row log-likelihood is

.. math:: \ell_i = w_i (y_i \theta_i - a(\theta_i)) / \phi + \log b(y_i, \phi, w_i).

Example:
    >>> import jax.numpy as jnp
    >>> import jaxglm as jg
    >>> fam = jg.Poisson()
    >>> float(fam.mean(jnp.log(3.0))), float(fam.variance(jnp.asarray(3.0)))
    (3.0, 3.0)
"""

from __future__ import annotations

import abc
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import special

from jaxglm import _numerics as num
from jaxglm import links as L
from jaxglm._pytree import pytree_dataclass

__all__ = [
    "Bernoulli",
    "Binomial",
    "Family",
    "Gamma",
    "Gaussian",
    "InverseGaussian",
    "NegativeBinomial",
    "Poisson",
    "Tweedie",
]


class Family(abc.ABC):
    """Abstract exponential family; see the module docstring for the contract.

    Class attributes:
        canonical: ``(LinkType, c)`` when the R-named link ``LinkType`` is canonical with
            ``theta = c * eta`` (Logit for Bernoulli, Inverse with ``c = -1`` for Gamma), so
            the model can use the exact, overflow-free ``theta = c * eta``; ``None`` when no
            fixed link is canonical (its canonical link depends on a parameter).
        support: the support of ``y`` in words, for error messages.
    """

    canonical: ClassVar[tuple[type[L.Link], float] | None] = None
    support: ClassVar[str] = "real numbers"

    @abc.abstractmethod
    def log_partition(self, theta: jax.Array) -> jax.Array:
        """:math:`a(\\theta)`, elementwise."""

    @abc.abstractmethod
    def theta_from_mean(self, mu: jax.Array) -> jax.Array:
        """The canonical parameter of mean ``mu``, :math:`(a')^{-1}(\\mu)`."""

    @abc.abstractmethod
    def log_base_measure(self, y: jax.Array, phi: jax.Array, w: jax.Array) -> jax.Array:
        """Row term :math:`\\log b(y, \\phi, w)` of the log-likelihood (R's conventions)."""

    @abc.abstractmethod
    def in_support(self, y: np.ndarray) -> np.ndarray:
        """A boolean mask of the entries of ``y`` inside the support: NumPy for host
        validation, JAX for the per-member check inside the compiled fit."""

    @abc.abstractmethod
    def mustart(self, y: jax.Array, w: jax.Array) -> jax.Array:
        """R's starting mean (``family$initialize``)."""

    def dispersion_params(self) -> jax.Array | float:
        """Number of dispersion parameters counted by AIC/BIC (1 where R counts one)."""
        return 0.0

    def llf_scale(self, deviance: jax.Array, nobs: jax.Array, sum_w: jax.Array) -> jax.Array:
        """The dispersion R's ``logLik`` plugs into the density (1 for fixed-scale families)."""
        return jnp.ones_like(deviance)

    @property
    def estimates_scale(self) -> bool:
        """Whether ``phi`` is estimated (Pearson chi2 / df_resid) rather than fixed at 1."""
        return False

    @property
    def name(self) -> str:
        """The family's name as printed in summaries."""
        return type(self).__name__

    # ---- derived by autodiff -------------------------------------------------------------

    def mean(self, theta: jax.Array) -> jax.Array:
        """:math:`\\mu = a'(\\theta)`, by ``jax.grad`` of :meth:`log_partition`."""
        return jnp.vectorize(jax.grad(self.log_partition))(theta)

    def variance_theta(self, theta: jax.Array) -> jax.Array:
        """:math:`a''(\\theta)`, by ``jax.hessian`` of :meth:`log_partition`."""
        return jnp.vectorize(jax.hessian(self.log_partition))(theta)

    def variance(self, mu: jax.Array) -> jax.Array:
        """The variance function :math:`V(\\mu) = a''(\\theta(\\mu))`."""
        return self.variance_theta(self.theta_from_mean(mu))

    def natural_loglik(self, y: jax.Array, theta: jax.Array) -> jax.Array:
        """:math:`y \\theta - a(\\theta)`, the part of the log-likelihood that involves theta."""
        return y * theta - self.log_partition(theta)

    def saturated_loglik(self, y: jax.Array) -> jax.Array:
        """:math:`\\sup_\\theta (y\\theta - a(\\theta)) = y\\theta(y) - a(\\theta(y))`.

        At a boundary of the mean space (``y = 0`` for counts, ``y`` in {0, 1} for
        Bernoulli, ``y = 0`` for Tweedie with 1 < power < 2) ``theta(y)`` is infinite and
        the supremum is its limit, 0 for every family here.
        """
        theta = self.theta_from_mean(y)
        finite = jnp.isfinite(theta)
        safe_theta = num.safe_where(finite, theta, 0.0)
        return jnp.where(finite, self.natural_loglik(y, safe_theta), 0.0)

    def unit_deviance(self, y: jax.Array, mu: jax.Array) -> jax.Array:
        """The unit deviance, twice the saturated minus the fitted natural log-likelihood.

        :math:`d(y, \\mu) = 2 [\\sup_t (y t - a(t)) - (y\\theta(\\mu) - a(\\theta(\\mu)))]`.
        """
        return 2.0 * (self.saturated_loglik(y) - self.natural_loglik(y, self.theta_from_mean(mu)))

    def default_link(self) -> L.Link:
        """R's default link: the canonical one where it is a fixed link, else Log."""
        return self.canonical[0]() if self.canonical is not None else L.Log()


def _xp(*values):
    """``jax.numpy`` when any value is a JAX array (or traced), else NumPy."""
    return jnp if any(isinstance(v, jax.Array) for v in values) else np


def _weighted_gaussian_log_b(y, phi, w):
    return -w * y * y / (2.0 * phi) - 0.5 * jnp.log(2.0 * jnp.pi * phi / w)


def _gamma_log_b(y, phi, w):
    k = 1.0 / phi
    return w * (k * jnp.log(k * y) - jnp.log(y) - special.gammaln(k))


def _inverse_gaussian_log_b(y, phi, w):
    return w * (-1.0 / (2.0 * phi * y) - 0.5 * jnp.log(2.0 * jnp.pi * phi * y**3))


@pytree_dataclass
class Gaussian(Family):
    """Normal: :math:`a(\\theta) = \\theta^2/2`, :math:`\\theta = \\mu`, :math:`V(\\mu) = 1`.

    ``y`` real. With prior weights the row variance is ``phi / w``; the log-likelihood is
    the weighted normal density at ``phi = deviance / nobs`` (R's ``logLik``).
    """

    canonical: ClassVar = (L.Identity, 1.0)

    def log_partition(self, theta):
        return 0.5 * theta * theta

    def theta_from_mean(self, mu):
        return mu

    def log_base_measure(self, y, phi, w):
        return _weighted_gaussian_log_b(y, phi, w)

    def in_support(self, y):
        return _xp(y).isfinite(y)

    def mustart(self, y, w):
        return y

    def dispersion_params(self):
        return 1.0

    def llf_scale(self, deviance, nobs, sum_w):
        return deviance / nobs

    @property
    def estimates_scale(self):
        return True


class _Binomial(Family):
    """Shared log-partition of Bernoulli and Binomial: :math:`a(\\theta) = \\log(1 + e^\\theta)`,
    :math:`\\theta = \\mathrm{logit}(\\mu)`, :math:`V(\\mu) = \\mu(1-\\mu)`."""

    canonical: ClassVar = (L.Logit, 1.0)

    def log_partition(self, theta):
        return jax.nn.softplus(theta)

    def theta_from_mean(self, mu):
        return num.logit(mu)

    def mustart(self, y, w):
        return (w * y + 0.5) / (w + 1.0)


@pytree_dataclass
class Bernoulli(_Binomial):
    """Binary ``y`` in {0, 1}: :math:`a(\\theta) = \\log(1 + e^\\theta)`,
    :math:`\\theta = \\mathrm{logit}(\\mu)`, :math:`V(\\mu) = \\mu(1-\\mu)`.

    Prior weights multiply the log-likelihood (R's binomial with 0/1 ``y``).
    """

    support: ClassVar[str] = "{0, 1}"

    def log_base_measure(self, y, phi, w):
        return jnp.zeros_like(y)

    def in_support(self, y):
        return (y == 0) | (y == 1)


@pytree_dataclass
class Binomial(_Binomial):
    """Binomial proportions: ``y`` in [0, 1] is the share of successes in ``w`` trials,
    the trial counts passed as prior ``weights`` (R's convention).

    Same :math:`a(\\theta)` as Bernoulli; :math:`\\log b = \\log C(w, w y)`.
    """

    support: ClassVar[str] = "[0, 1] (proportions; trial counts go in weights)"

    def log_base_measure(self, y, phi, w):
        return num.log_binomial_coefficient(w, w * y)

    def in_support(self, y):
        return (y >= 0) & (y <= 1)


@pytree_dataclass
class Poisson(Family):
    """Counts: :math:`a(\\theta) = e^\\theta`, :math:`\\theta = \\log\\mu`, :math:`V(\\mu) = \\mu`.

    ``y >= 0`` (non-integer ``y`` is fitted as quasi-Poisson; its llf uses ``gammaln``).
    """

    canonical: ClassVar = (L.Log, 1.0)
    support: ClassVar[str] = "y >= 0"

    def log_partition(self, theta):
        return jnp.exp(theta)

    def theta_from_mean(self, mu):
        return jnp.log(mu)

    def log_base_measure(self, y, phi, w):
        return -w * special.gammaln(y + 1.0)

    def in_support(self, y):
        return y >= 0

    def mustart(self, y, w):
        return y + 0.1


@pytree_dataclass
class Gamma(Family):
    """Positive ``y``: :math:`a(\\theta) = -\\log(-\\theta)`, :math:`\\theta = -1/\\mu`,
    :math:`V(\\mu) = \\mu^2`. Default link R's ``inverse`` (``eta = 1/mu = -theta``).

    The log-likelihood is R's: the Gamma density with shape ``1/phi`` at
    ``phi = deviance / sum(w)``, multiplied by the prior weights.
    """

    canonical: ClassVar = (L.Inverse, -1.0)
    support: ClassVar[str] = "y > 0"

    def log_partition(self, theta):
        return -jnp.log(-theta)

    def theta_from_mean(self, mu):
        return -1.0 / mu

    def log_base_measure(self, y, phi, w):
        return _gamma_log_b(y, phi, w)

    def in_support(self, y):
        return y > 0

    def mustart(self, y, w):
        return y

    def dispersion_params(self):
        return 1.0

    def llf_scale(self, deviance, nobs, sum_w):
        return deviance / sum_w

    @property
    def estimates_scale(self):
        return True


@pytree_dataclass
class InverseGaussian(Family):
    """Positive ``y``: :math:`a(\\theta) = -\\sqrt{-2\\theta}`,
    :math:`\\theta = -1/(2\\mu^2)`, :math:`V(\\mu) = \\mu^3`. Default link R's ``1/mu^2``.

    The log-likelihood is R's, with ``phi = deviance / sum(w)``.
    """

    canonical: ClassVar = (L.InverseSquared, -0.5)
    support: ClassVar[str] = "y > 0"

    def log_partition(self, theta):
        return -jnp.sqrt(-2.0 * theta)

    def theta_from_mean(self, mu):
        return -0.5 / (mu * mu)

    def log_base_measure(self, y, phi, w):
        return _inverse_gaussian_log_b(y, phi, w)

    def in_support(self, y):
        return y > 0

    def mustart(self, y, w):
        return y

    def dispersion_params(self):
        return 1.0

    def llf_scale(self, deviance, nobs, sum_w):
        return deviance / sum_w

    @property
    def estimates_scale(self):
        return True


@pytree_dataclass
class NegativeBinomial(Family):
    """NB2 counts (``Var = mu + alpha mu^2``; R's ``theta = 1/alpha``).

    :math:`a(\\theta) = -\\log(1 - e^\\theta)/\\alpha`,
    :math:`\\theta = \\log(\\alpha\\mu / (1 + \\alpha\\mu))`. Default link Log.
    ``alpha`` is an array field (vmappable, differentiable) when given: a fixed dispersion.

    ``NegativeBinomial()`` (``alpha=None``, the default: R's ``glm.nb``) estimates alpha by
    maximum likelihood jointly with ``beta`` inside the compiled fit, alternating as MASS's
    ``glm.nb``: an ML step for ``log(alpha)`` by Newton on the profile log-likelihood at the
    current ``mu``, then the GLM fit at that alpha from the current ``beta``, until
    ``log(alpha)`` moves less than 1e-10 (10 machine epsilons in float32; at most 50
    rounds). The result's ``family.alpha`` holds the estimate and
    ``res.alpha_bse`` its standard error (MASS's ``SE.theta`` mapped to alpha, at fixed
    ``beta``); AIC/BIC count alpha as a parameter.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(400, 1))
        >>> y = rng.negative_binomial(2.0, 2.0 / (2.0 + np.exp(1 + 0.5 * X[:, 0])))
        >>> res = jg.fit(X, y, family=jg.NegativeBinomial(alpha=None))
        >>> bool(res.converged), bool(0.2 < float(res.family.alpha) < 1.0)
        (True, True)
    """

    alpha: jax.Array | float | None = None
    support: ClassVar[str] = "y >= 0"

    def log_partition(self, theta):
        return -num.log1mexp(theta) / self.alpha

    def theta_from_mean(self, mu):
        am = self.alpha * mu
        return jnp.log(am) - jnp.log1p(am)

    def log_base_measure(self, y, phi, w):
        k = 1.0 / self.alpha
        return w * (special.gammaln(y + k) - special.gammaln(y + 1.0) - special.gammaln(k))

    def in_support(self, y):
        return y >= 0

    def mustart(self, y, w):
        return y + (y == 0) / 6.0

    @property
    def name(self) -> str:
        if self.alpha is None:
            return "NegativeBinomial(alpha=ML)"
        return f"NegativeBinomial(alpha={_fmt(self.alpha)})"


@pytree_dataclass
class Tweedie(Family):
    """Tweedie with variance :math:`V(\\mu) = \\mu^p`, ``p = power`` in {0} or [1, inf).

    :math:`\\theta = \\mu^{1-p}/(1-p)` (:math:`\\log\\mu` at p = 1),
    :math:`a(\\theta) = ((1-p)\\theta)^{(2-p)/(1-p)}/(2-p)` (:math:`e^\\theta` at p = 1,
    :math:`-\\log(-\\theta)` at p = 2). Power 0, 1, 2, 3 are the Gaussian, Poisson, Gamma
    and inverse Gaussian. Default link Log. The dispersion is always estimated.

    Fitted by its deviance (a quasi-likelihood). ``llf`` (and so ``aic``, ``bic``) is the
    matching family's for power 0, 1, 2, 3 and NaN otherwise: the density of a compound
    Poisson-gamma has no closed form and the series evaluation is not implemented, so no
    number is reported rather than a wrong one.
    """

    power: jax.Array | float = 1.5
    support: ClassVar[str] = "y >= 0 for 1 <= power < 2, y > 0 for power >= 2, real for 0"

    def log_partition(self, theta):
        # Double where: each branch sees a harmless input where it is not selected, so
        # that its (unused) gradient is finite.
        p = jnp.asarray(self.power)
        is1, is2 = p == 1.0, p == 2.0
        q = jnp.where(is1 | is2, 1.5, p)
        th = num.safe_where(~(is1 | is2), theta, -1.0)
        general = ((1.0 - q) * th) ** ((2.0 - q) / (1.0 - q)) / (2.0 - q)
        gamma = -jnp.log(-num.safe_where(is2, theta, -1.0))
        poisson = jnp.exp(num.safe_where(is1, theta, 0.0))
        return jnp.where(is1, poisson, jnp.where(is2, gamma, general))

    def theta_from_mean(self, mu):
        p = jnp.asarray(self.power)
        is1 = p == 1.0
        q = jnp.where(is1, 1.5, p)
        return jnp.where(is1, jnp.log(num.safe_where(is1, mu, 1.0)), mu ** (1.0 - q) / (1.0 - q))

    def log_base_measure(self, y, phi, w):
        p = jnp.asarray(self.power)
        y_pos = num.safe_where(y > 0, y, 1.0)
        return jnp.select(
            [p == 0.0, p == 1.0, p == 2.0, p == 3.0],
            [
                _weighted_gaussian_log_b(y, phi, w),
                -w * special.gammaln(y + 1.0),
                _gamma_log_b(y_pos, phi, w),
                _inverse_gaussian_log_b(y_pos, phi, w),
            ],
            jnp.nan,
        )

    def in_support(self, y):
        xp = _xp(y, self.power)
        p = xp.asarray(self.power)
        return xp.where(p == 0, xp.isfinite(y), xp.where(p < 2, y >= 0, y > 0))

    def mustart(self, y, w):
        return y + 0.1 * (y == 0)

    def dispersion_params(self):
        p = jnp.asarray(self.power)
        return jnp.where((p == 0.0) | (p == 2.0) | (p == 3.0), 1.0, 0.0)

    def llf_scale(self, deviance, nobs, sum_w):
        p = jnp.asarray(self.power)
        return jnp.where(p == 0.0, deviance / nobs, jnp.where(p == 1.0, 1.0, deviance / sum_w))

    @property
    def estimates_scale(self):
        return True

    @property
    def name(self) -> str:
        return f"Tweedie(power={_fmt(self.power)})"


def _fmt(x) -> str:
    try:
        return f"{float(x):g}"
    except (TypeError, jax.errors.ConcretizationTypeError):
        return "traced"
