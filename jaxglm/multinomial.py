r"""Multinomial (softmax) regression: the public names of the family and its result.

:class:`Multinomial` is a family with an m-vector natural parameter
(:mod:`jaxglm.families`), run by the core like every other family: :func:`jaxglm.fit`
resolves and validates it (:mod:`jaxglm._spec`), the model gives (n, m) row derivatives and
(n, m, m) blocks by ``jax.hessian`` of the log-partition (:mod:`jaxglm.model`), the
Newton matrix is the block Gram of :func:`jaxglm._linalg.block_gram`, the default solver
is that of :func:`jaxglm.solvers.default_vector_solver` (:class:`jaxglm.Newton`, or
:class:`jaxglm.SubsampledNewton` for many rows) in the one driver loop, and the statistics
come from :mod:`jaxglm._statistics` as a :class:`MultinomialResult`
(:mod:`jaxglm.results`). This module keeps the names importable from their old place and
:func:`fit_multinomial`.

Example:
    >>> import numpy as np, jaxglm as jg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = rng.integers(0, 3, size=300)
    >>> res = jg.fit(X, y, family=jg.Multinomial(3))
    >>> res.params.shape, res.predict(X[:4]).shape
    ((3, 2), (4, 3))
"""

from __future__ import annotations

import dataclasses

from jax.typing import ArrayLike

from jaxglm._fit import fit
from jaxglm.families import Multinomial
from jaxglm.results import MultinomialResult

__all__ = ["Multinomial", "MultinomialResult", "fit_multinomial"]


def fit_multinomial(
    X: ArrayLike,
    y: ArrayLike,
    family: Multinomial,
    *,
    weights: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    alpha: ArrayLike = 0.0,
    penalty_factor: ArrayLike | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    feature_names: tuple[str, ...] | None = None,
) -> MultinomialResult:
    """:func:`jaxglm.fit` with a :class:`Multinomial` family (its former entry point).

    Args:
        X, y, family, weights, offset, alpha, penalty_factor, tol, max_iter: as
            :func:`jaxglm.fit`.
        feature_names: names for ``summary()`` (a data frame's columns otherwise).

    Returns:
        A :class:`MultinomialResult`.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> X = np.random.default_rng(2).normal(size=(300, 2))
        >>> fit_multinomial(X, np.arange(300) % 3, jg.Multinomial(3)).bse.shape
        (3, 2)
    """
    res = fit(
        X, y, family, weights=weights, offset=offset, alpha=alpha,
        penalty_factor=penalty_factor, tol=tol, max_iter=max_iter,
    )  # fmt: skip
    if feature_names is not None:
        res = dataclasses.replace(res, feature_names=tuple(feature_names))
    return res
