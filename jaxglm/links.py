"""Link functions ``eta = g(mu)``.

A link is a frozen dataclass pytree that defines only ``link(mu)`` and ``inverse(eta)``;
the derivative ``dmu/deta`` comes from forward-mode autodiff
(:func:`jaxglm.model.mean_derivative`, which also covers ``Canonical()``).
``Canonical()`` is special: it means ``theta = eta`` for whichever family it is paired with
(see :mod:`jaxglm.model`). Every function is elementwise.

Example:
    >>> import jax.numpy as jnp
    >>> import jaxglm as jg
    >>> float(jg.Logit().inverse(jnp.asarray(0.0)))
    0.5
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import jax
import jax.numpy as jnp
from jax.scipy import special

from jaxglm import _numerics as num
from jaxglm._pytree import pytree_dataclass

__all__ = [
    "CLogLog",
    "Canonical",
    "Cauchit",
    "Identity",
    "Inverse",
    "InverseSquared",
    "Link",
    "Log",
    "LogLog",
    "Logit",
    "Power",
    "Probit",
    "Sqrt",
]


class Link(abc.ABC):
    """Abstract link ``eta = link(mu)``, ``mu = inverse(eta)``.

    ``mean_range`` is the closed hull ``(lo, hi)`` of the means ``inverse`` reaches
    (validation refuses a ``y`` outside it, e.g. ``Gamma`` with ``Logit`` and ``y > 1``).
    """

    mean_range: ClassVar[tuple[float, float]] = (-math.inf, math.inf)

    @abc.abstractmethod
    def link(self, mu: jax.Array) -> jax.Array:
        """``eta = g(mu)``."""

    @abc.abstractmethod
    def inverse(self, eta: jax.Array) -> jax.Array:
        """``mu = g^{-1}(eta)``."""

    @property
    def name(self) -> str:
        """The link's name as printed in summaries."""
        return type(self).__name__


@pytree_dataclass
class Canonical(Link):
    """``theta = eta``: the family's canonical parameter is the linear predictor.

    Its maps need the family, so :mod:`jaxglm.model` resolves them; calling
    :meth:`link` or :meth:`inverse` on the bare object raises. For Gamma this is
    ``eta = -1/mu`` (R's ``inverse`` link with the sign flipped), for InverseGaussian
    ``eta = -1/(2 mu^2)``; the default link of those families is R's, not this one.
    """

    def link(self, mu: jax.Array) -> jax.Array:
        raise TypeError("Canonical() needs a family; use jaxglm.model.eta_from_mean")

    def inverse(self, eta: jax.Array) -> jax.Array:
        raise TypeError("Canonical() needs a family; use jaxglm.model.mean_from_eta")


@pytree_dataclass
class Identity(Link):
    """``eta = mu``."""

    def link(self, mu):
        return mu

    def inverse(self, eta):
        return eta


@pytree_dataclass
class Log(Link):
    """``eta = log(mu)``, ``mu = exp(eta)``; mean range (0, inf)."""

    mean_range = (0.0, math.inf)

    def link(self, mu):
        return jnp.log(mu)

    def inverse(self, eta):
        return jnp.exp(eta)


@pytree_dataclass
class Logit(Link):
    """``eta = log(mu / (1 - mu))``, ``mu = sigmoid(eta)``; mean range (0, 1)."""

    mean_range = (0.0, 1.0)

    def link(self, mu):
        return num.logit(mu)

    def inverse(self, eta):
        return jax.nn.sigmoid(eta)


@pytree_dataclass
class Probit(Link):
    """``eta = Phi^{-1}(mu)``, the standard normal quantile; mean range (0, 1)."""

    mean_range = (0.0, 1.0)

    def link(self, mu):
        return special.ndtri(mu)

    def inverse(self, eta):
        return special.ndtr(eta)


@pytree_dataclass
class CLogLog(Link):
    """Complementary log-log, ``eta = log(-log(1 - mu))``; mean range (0, 1)."""

    mean_range = (0.0, 1.0)

    def link(self, mu):
        return jnp.log(-jnp.log1p(-mu))

    def inverse(self, eta):
        return -jnp.expm1(-jnp.exp(eta))


@pytree_dataclass
class LogLog(Link):
    """Log-log, ``eta = -log(-log(mu))``; mean range (0, 1)."""

    mean_range = (0.0, 1.0)

    def link(self, mu):
        return -jnp.log(-jnp.log(mu))

    def inverse(self, eta):
        return jnp.exp(-jnp.exp(-eta))


@pytree_dataclass
class Cauchit(Link):
    """``eta = tan(pi (mu - 1/2))``, the Cauchy quantile; mean range (0, 1)."""

    mean_range = (0.0, 1.0)

    def link(self, mu):
        return jnp.tan(jnp.pi * (mu - 0.5))

    def inverse(self, eta):
        return 0.5 + jnp.arctan(eta) / jnp.pi


@pytree_dataclass
class Inverse(Link):
    """``eta = 1 / mu`` (R's ``inverse``, Gamma's default)."""

    def link(self, mu):
        return 1.0 / mu

    def inverse(self, eta):
        return 1.0 / eta


@pytree_dataclass
class InverseSquared(Link):
    """``eta = 1 / mu^2`` (R's ``1/mu^2``, InverseGaussian's default); mean range (0, inf)."""

    mean_range = (0.0, math.inf)

    def link(self, mu):
        return 1.0 / (mu * mu)

    def inverse(self, eta):
        return 1.0 / jnp.sqrt(eta)


@pytree_dataclass
class Sqrt(Link):
    """``eta = sqrt(mu)``, ``mu = eta^2``; mean range [0, inf).

    A negative ``eta`` has no mean (NaN; R's ``valideta`` for ``sqrt``): ``eta^2`` would
    fold it onto the positive branch, and a fit could converge to the mirror image of the
    coefficients (measured: an InverseGaussian one-way fit did).
    """

    mean_range = (0.0, math.inf)

    def link(self, mu):
        return jnp.sqrt(mu)

    def inverse(self, eta):
        return jnp.where(eta >= 0, eta * eta, jnp.nan)


@pytree_dataclass
class Power(Link):
    """``eta = mu^power`` for ``power != 0`` (``power`` is an array field, so it can be traced).

    ``Power(1)`` is Identity, ``Power(0.5)`` Sqrt, ``Power(-1)`` Inverse; for
    ``power = 0`` (R's ``power(0)``) use :class:`Log`. A negative ``eta`` has a mean only
    where ``1 / power`` is an odd integer (the power is then a bijection of the reals:
    Identity, Inverse, cube roots); elsewhere it is NaN (R's ``valideta``), as for
    :class:`Sqrt`.
    """

    power: jax.Array | float = 1.0

    def link(self, mu):
        return mu**self.power

    def inverse(self, eta):
        # exp(log(eta) / power) for eta > 0, not eta ** (1 / power): XLA rewrites
        # log(pow(a, b)) as b log|a|, which made log-partition families (Poisson, NB) finite
        # at a negative eta, whose mean does not exist (Newton then accepted such a point).
        positive = eta > 0
        root = jnp.exp(jnp.log(jnp.where(positive, eta, 1.0)) / self.power)
        inv = 1.0 / self.power
        odd = (inv == jnp.round(inv)) & (jnp.round(inv) % 2 == 1)
        negative = jnp.where(odd, eta**inv, jnp.nan)
        return jnp.where(positive, root, jnp.where(eta == 0, eta**inv, negative))

    @property
    def name(self) -> str:
        try:
            return f"Power({float(self.power):g})"
        except (TypeError, jax.errors.ConcretizationTypeError):
            return "Power"
