"""The one registry of string names for families and links.

The scikit-learn estimators (:mod:`jaxglm.sklearn`), the formula front end
(:func:`jaxglm.glm`) and the command line read names here, so that a name means the same
everywhere and a typo lists the valid names.
"""

from __future__ import annotations

from typing import Any

from jaxglm import families as F
from jaxglm import links as L

__all__ = ["FAMILIES", "LINKS", "family_from_name", "link_from_name"]

FAMILIES: dict[str, type[F.Family]] = {
    "gaussian": F.Gaussian,
    "normal": F.Gaussian,
    "bernoulli": F.Bernoulli,
    "binomial": F.Binomial,
    "poisson": F.Poisson,
    "gamma": F.Gamma,
    "inverse_gaussian": F.InverseGaussian,
    "negative_binomial": F.NegativeBinomial,
    "tweedie": F.Tweedie,
    "multinomial": F.Multinomial,
}
"""Family names (lower case, ``_`` between words) -> family classes."""

LINKS: dict[str, type[L.Link]] = {
    "identity": L.Identity,
    "log": L.Log,
    "logit": L.Logit,
    "probit": L.Probit,
    "cloglog": L.CLogLog,
    "loglog": L.LogLog,
    "cauchit": L.Cauchit,
    "inverse": L.Inverse,
    "inverse_squared": L.InverseSquared,
    "sqrt": L.Sqrt,
    "canonical": L.Canonical,
}
"""Link names -> link classes (``Power`` takes a number: pass ``jaxglm.Power(p)``)."""


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def family_from_name(family: str | F.Family | None, **params: Any) -> F.Family | None:
    """A family from its name (``params`` go to its constructor); instances and None pass.

    Raises:
        ValueError: an unknown name; the message lists the valid ones.

    Example:
        >>> from jaxglm._names import family_from_name
        >>> family_from_name("tweedie", power=1.5).name
        'Tweedie(power=1.5)'
        >>> family_from_name("poison")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: unknown family 'poison'; valid names: bernoulli, ..., poisson, tweedie
    """
    if family is None or isinstance(family, F.Family):
        return family
    cls = FAMILIES.get(_key(family)) if isinstance(family, str) else None
    if cls is None:
        raise ValueError(f"unknown family {family!r}; valid names: {', '.join(sorted(FAMILIES))}")
    return cls(**params)


def link_from_name(link: str | L.Link | None) -> L.Link | None:
    """A link from its name; instances and None (the family's default) pass through.

    Raises:
        ValueError: an unknown name; the message lists the valid ones.

    Example:
        >>> from jaxglm._names import link_from_name
        >>> link_from_name("log").name
        'Log'
    """
    if link is None or isinstance(link, L.Link):
        return link
    cls = LINKS.get(_key(link)) if isinstance(link, str) else None
    if cls is None:
        raise ValueError(f"unknown link {link!r}; valid names: {', '.join(sorted(LINKS))}")
    return cls()
