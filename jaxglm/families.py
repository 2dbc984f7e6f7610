r"""Exponential families, each defined by its log-partition function.

A family is a frozen dataclass pytree that writes only

* ``log_partition(theta)`` — :math:`a(\theta)`,
* ``theta_from_mean(mu)`` — the canonical link :math:`(a')^{-1}`,
* ``log_base_measure(y, phi, w)`` — the row's :math:`\log b` term as it enters the
  log-likelihood (with the dispersion and prior weight where they enter),
* ``in_support(y)`` — the support of ``y`` (host-side validation, and per member inside jit),
* ``mustart(y, w)`` — the starting mean: R's ``family$initialize`` (Poisson's:
  statsmodels' and glmax's),

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
import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import special

from jaxglm import _numerics as num
from jaxglm import links as L
from jaxglm._pytree import pytree_dataclass, static_field

__all__ = [
    "Bernoulli",
    "Binomial",
    "Family",
    "Gamma",
    "Gaussian",
    "InverseGaussian",
    "Multinomial",
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
        event_ndim: the number of axes of one row's natural parameter: 0 (a scalar
            ``theta``), or 1 for :class:`Multinomial` (an m-vector ``theta``; ``y``,
            ``eta`` and ``mu`` are then (n, m), the row derivatives (n, m) and (n, m, m)).
    """

    canonical: ClassVar[tuple[type[L.Link], float] | None] = None
    support: ClassVar[str] = "real numbers"
    event_ndim: ClassVar[int] = 0

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
        """The starting mean: R's (``family$initialize``) unless the family says otherwise."""

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
        """:math:`\\mu = a'(\\theta)`, by ``jax.grad`` of :meth:`log_partition` (per row's
        m-vector when ``event_ndim`` is 1)."""
        signature = "(m)->(m)" if self.event_ndim else None
        return jnp.vectorize(jax.grad(self.log_partition), signature=signature)(theta)

    def variance_theta(self, theta: jax.Array) -> jax.Array:
        """:math:`a''(\\theta)`, by ``jax.hessian`` of :meth:`log_partition` (an (m, m)
        block per row when ``event_ndim`` is 1)."""
        signature = "(m)->(m,m)" if self.event_ndim else None
        return jnp.vectorize(jax.hessian(self.log_partition), signature=signature)(theta)

    def variance(self, mu: jax.Array) -> jax.Array:
        """The variance function :math:`V(\\mu) = a''(\\theta(\\mu))`."""
        return self.variance_theta(self.theta_from_mean(mu))

    def natural_loglik(self, y: jax.Array, theta: jax.Array) -> jax.Array:
        """:math:`y \\theta - a(\\theta)`, the part of the log-likelihood that involves theta
        (:math:`y \\cdot \\theta - a(\\theta)` per row when ``event_ndim`` is 1)."""
        if self.event_ndim:
            return jnp.sum(y * theta, axis=-1) - self.log_partition(theta)
        return y * theta - self.log_partition(theta)

    def saturated_loglik(self, y: jax.Array) -> jax.Array:
        """:math:`\\sup_\\theta (y\\theta - a(\\theta)) = y\\theta(y) - a(\\theta(y))`.

        At a boundary of the mean space (``y = 0`` for counts, ``y`` in {0, 1} for
        Bernoulli, ``y = 0`` for Tweedie with 1 < power < 2) ``theta(y)`` is infinite and
        the supremum is its limit, 0 for every family here. Its derivative in ``y`` there
        (the one-sided limit is infinite) is taken as 0: the boundary's ``theta`` is
        computed at ``y = 0.5``, inside the mean space of every family here (the double
        ``where``: an infinite partial derivative times a zero cotangent would make every
        reverse-mode derivative in ``y`` NaN).
        """
        finite = jnp.isfinite(self.theta_from_mean(y))
        safe_theta = self.theta_from_mean(num.safe_where(finite, y, 0.5))
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
        """Halfway between each count and the weighted mean count, ``(y + ybar) / 2``
        (statsmodels' and glmax's start; R's is ``y + 0.1``): the rows' means start nearer
        the fitted ones, and Newton's batched sweeps took one step fewer from it
        (benchmarks/RESULTS.md, issue 19). ``y + 0.1`` where the weighted mean is not
        positive (every count 0). The mean is over the rows given (a chunk's in
        :func:`jaxglm.fit_stream`); rows of weight 0 (the padding) do not count."""
        total = jnp.sum(w * jnp.ones_like(y))
        ybar = jnp.sum(w * y) / jnp.where(total > 0, total, 1.0)
        return jnp.where(ybar > 0, (y + ybar) / 2, y + 0.1)


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


@pytree_dataclass
class Multinomial(Family):
    r"""Categorical / multinomial response with ``n_classes`` classes (softmax regression).

    The natural parameter of a row is an m-vector (``event_ndim = 1``):
    :math:`a(\theta) = \log(1 + \sum_j e^{\theta_j})` over the ``m = k - 1`` non-reference
    classes (class 0 the reference, statsmodels' ``MNLogit``), or
    :math:`\log \sum_j e^{\theta_j}` over all ``m = k`` with ``symmetric=True``
    (scikit-learn's multinomial ``LogisticRegression``; identifiable only with a ridge
    penalty, its intercepts pinned to sum to 0). :math:`\mu = \nabla a`,
    :math:`V = \nabla^2 a = \mathrm{diag}(\mu) - \mu\mu^T` by autodiff; canonical link only.

    ``y`` as given to :func:`jaxglm.fit`: integer labels ``0..k-1`` (n,), one-hot rows
    (n, k), or rows of proportions (n, k) with the trials as prior weights (count rows
    ``c`` are passed as ``c / c.sum(1)`` with ``weights=c.sum(1)``, as R's binomial). Inside
    the fit (:meth:`encode`) ``y`` is the (n, m) proportions of the classes of ``theta``.

    Args:
        n_classes: the number of classes ``k >= 2``; None (the default): the fit infers
            it, ``max(y) + 1`` for concrete integer labels (a class above the largest
            label cannot be inferred: pass ``n_classes``), ``y.shape[1]`` for rows. Traced
            labels (``y`` under ``jit`` / ``vmap``) need it given.
        symmetric: one coefficient vector per class (needs a ridge penalty, ``alpha > 0``).

    Example:
        >>> import jax.numpy as jnp, jaxglm as jg
        >>> fam = jg.Multinomial(3)
        >>> [round(float(v), 4) for v in fam.mean(jnp.array([0.0, 1.0]))]
        [0.2119, 0.5761]
    """

    n_classes: int | None = static_field(default=None)
    symmetric: bool = static_field(default=False)
    canonical: ClassVar = (L.Canonical, 1.0)
    support: ClassVar[str] = "class labels 0..k-1, or rows of class proportions"
    event_ndim: ClassVar[int] = 1

    @property
    def n_natural(self) -> int:
        """Length ``m`` of a row's natural parameter: ``k - 1``, or ``k`` when symmetric."""
        if self.n_classes is None:
            raise ValueError("Multinomial(n_classes=None): the number of classes is set by the fit")
        return self.n_classes if self.symmetric else self.n_classes - 1

    def log_partition(self, theta: jax.Array) -> jax.Array:
        """:math:`a(\\theta)` of one row's (m,) natural parameter (safe log-sum-exp)."""
        if self.symmetric:
            return jax.nn.logsumexp(theta, axis=-1)
        zero = jnp.zeros((*theta.shape[:-1], 1), theta.dtype)
        return jax.nn.logsumexp(jnp.concatenate([zero, theta], axis=-1), axis=-1)

    def theta_from_mean(self, mu: jax.Array) -> jax.Array:
        """:math:`\\theta_j = \\log \\mu_j - \\log \\mu_0` (the reference class's probability
        ``1 - sum(mu)``; symmetric: ``log mu``, defined up to a constant)."""
        if self.symmetric:
            return jnp.log(mu)
        return jnp.log(mu) - jnp.log1p(-jnp.sum(mu, axis=-1, keepdims=True))

    def _all_classes(self, y: jax.Array) -> jax.Array:
        """(n, k) proportions of every class from the (n, m) of ``theta``'s classes."""
        if self.symmetric:
            return y
        return jnp.concatenate([1.0 - jnp.sum(y, axis=-1, keepdims=True), y], axis=-1)

    def log_base_measure(self, y: jax.Array, phi: jax.Array, w: jax.Array) -> jax.Array:
        """``log(w! / prod_j (w y_j)!)`` for proportions of ``w`` trials; 0 for labels."""
        counts = w[..., None] * self._all_classes(y)
        gammaln = special.gammaln
        return gammaln(w + 1.0) - jnp.sum(gammaln(counts + 1.0), axis=-1)

    def saturated_loglik(self, y: jax.Array) -> jax.Array:
        """:math:`\\sup_\\theta (y \\cdot \\theta - a(\\theta)) = \\sum_j y_j \\log y_j` over
        all k classes (``0 log 0 = 0``): 0 for labels and one-hot rows."""
        return jnp.sum(special.xlogy(*(2 * (self._all_classes(y),))), axis=-1)

    def in_support(self, y):
        """Rows of ``theta``'s (n, m) class proportions: in [0, 1], summing to 1 with the
        reference class's share."""
        xp = _xp(y)
        total = xp.sum(y, axis=-1)
        sums = xp.abs(total - 1.0) < 1e-8 if self.symmetric else total <= 1.0 + 1e-8
        return xp.all((y >= 0) & (y <= 1), axis=-1) & sums

    def mustart(self, y: jax.Array, w: jax.Array) -> jax.Array:
        """``(w y + 1/k) / (w + 1)``: R's binomial start, per class."""
        return (w[:, None] * y + 1.0 / self.n_classes) / (w[:, None] + 1.0)

    def encode(self, y):
        """One fit's ``y`` as given (labels (n,) or rows (n, k)) -> the (n, m) proportions of
        ``theta``'s classes, with NumPy for host arrays (labels and rows then share one
        compiled fit) and ``jax.numpy`` for JAX or traced ones. A label that is not an
        integer in ``0..k-1`` gives a row of NaN (outside :meth:`in_support`: under
        ``jit`` / ``vmap``, status NONFINITE)."""
        xp = _xp(y)
        if y.ndim == 1:
            labels = xp.where(xp.isfinite(y), y, -1).astype(xp.int32)
            valid = (labels == y) & (labels >= 0) & (labels < self.n_classes)
            onehot = xp.arange(self.n_classes) == labels[:, None]
            y = xp.where(valid[:, None], onehot.astype(y.dtype), xp.nan).astype(y.dtype)
        return y if self.symmetric else y[..., 1:]

    def resolve(self, y, batched: bool = False) -> Multinomial:
        """This family with ``n_classes`` set: inferred from concrete ``y`` when None
        (``max(y) + 1`` for labels, the number of columns for rows; ``batched``: ``y``
        carries a members axis first).

        Raises:
            ValueError: ``n_classes`` below 2, labels that are not integers, an inferred
                class count below 2 or above the number of labels, or traced labels with
                ``n_classes=None``.
        """
        k = self.n_classes
        if not (k is None or (isinstance(k, int) and k >= 2)):
            raise ValueError(f"Multinomial needs n_classes >= 2, got {k!r}")
        if k is not None:
            return self
        if isinstance(y, jax.core.Tracer):
            raise ValueError(
                "Multinomial(n_classes=None) infers the classes from concrete labels; y is "
                "traced (under jit or vmap): pass n_classes"
            )
        if np.ndim(y) > 1 + int(batched):
            return dataclasses.replace(self, n_classes=int(np.shape(y)[-1]))
        labels = _labels(y)
        k = int(labels.max(initial=-1)) + 1
        if k < 2:
            raise ValueError(
                f"Multinomial(n_classes=None) infers max(y) + 1 = {k} classes; it needs 2 or more"
            )
        if k > labels.size:  # before an (n, k) one-hot: some class is surely empty
            j = int(np.setdiff1d(np.arange(labels.size + 1), labels)[0])
            raise ValueError(
                f"class {j} has no rows: Multinomial(n_classes=None) inferred max(y) + 1 = {k} "
                f"classes from {labels.size} labels"
            )
        return dataclasses.replace(self, n_classes=k)

    def check_response(self, y, w: np.ndarray, batched: bool) -> None:
        """Host validation of ``y`` as given (labels or rows; members first when
        ``batched``) against the prior x frequency weights ``w`` (n,) or (members, n).

        Raises:
            ValueError: labels that are not integers in ``0..k-1``, rows not of ``k``
                class proportions, or a class without a row of positive weight (its
                intercept's MLE is at minus infinity).
        """
        k, n = self.n_classes, np.shape(w)[-1]
        label_ndim = 1 + int(batched)
        if np.ndim(y) < label_ndim or np.shape(y)[label_ndim - 1] != n:
            raise ValueError(
                f"y must be (n,) labels or (n, {k}) rows for n = {n}, got {np.shape(y)}"
            )
        if np.ndim(y) == label_ndim:
            labels = _labels(y)
            valid = (labels >= 0) & (labels < k)
            if not np.all(valid):
                bad = tuple(int(i) for i in np.argwhere(~valid)[0])
                value = labels[bad].item()
                raise ValueError(
                    f"y[{', '.join(map(str, bad))}] = {value!r} is not a class label in 0..{k - 1}"
                )
            Y = np.eye(k)[labels.astype(int)]
        elif np.ndim(y) == label_ndim + 1 and np.shape(y)[-1] == k:
            Y = np.asarray(y, dtype=float)
            bad = ~(np.all((Y >= 0) & (Y <= 1), axis=-1) & (np.abs(Y.sum(-1) - 1.0) < 1e-8))
            if bad.any():
                i = ", ".join(map(str, np.argwhere(bad)[0]))
                raise ValueError(f"y[{i}] is not a row of class proportions summing to 1")
        else:
            raise ValueError(
                f"y must be (n,) labels or (n, {k}) rows for n = {n}, got {np.shape(y)}"
            )
        counts = np.sum(np.where(np.asarray(w)[..., None] > 0, Y, 0.0), axis=-2)
        if np.any(counts <= 0):
            j = int(np.argwhere(counts <= 0)[0][-1])
            raise ValueError(
                f"class {j} has no rows (with positive weight): its intercept would diverge to "
                "-inf; drop the class (relabel the others 0..k-2, or drop its column of y)"
            )


def _labels(y) -> np.ndarray:
    """Concrete class labels as an array, checked to be integers (any numeric dtype)."""
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise ValueError(
            f"Multinomial y must be integer class labels 0..k-1, got dtype {labels.dtype}"
        )
    integer = np.isfinite(labels) & (labels == np.round(labels))
    if not np.all(integer):
        bad = tuple(int(i) for i in np.argwhere(~integer)[0])
        raise ValueError(
            "Multinomial y must be integer class labels 0..k-1: "
            f"y[{', '.join(map(str, bad))}] = {labels[bad].item()!r}"
        )
    return labels
