"""Numerically safe elementwise maths.

Every function here is elementwise, works in float32 and float64, and has NaN-free
gradients where the value is finite. Where a branch could produce NaN or inf in the
branch that is *not* taken, the input of that branch is first replaced by a harmless
value (the "double where" trick): ``jnp.where`` alone still differentiates both branches
and ``0 * inf`` in the unused gradient poisons the result.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy import special


def safe_where(cond: jax.Array, x: jax.Array, safe_value: float) -> jax.Array:
    """``x`` where ``cond``, else ``safe_value``: the inner half of a double ``where``."""
    return jnp.where(cond, x, jnp.asarray(safe_value, dtype=jnp.result_type(x)))


def log1mexp(x: jax.Array) -> jax.Array:
    """``log(1 - exp(x))`` for ``x < 0``, accurate for x near 0 and for very negative x.

    Mächler (2012): use ``log(-expm1(x))`` for ``x > -log 2`` and ``log1p(-exp(x))``
    otherwise.
    """
    return jnp.where(x > -jnp.log(2.0), jnp.log(-jnp.expm1(x)), jnp.log1p(-jnp.exp(x)))


def logit(p: jax.Array) -> jax.Array:
    """``log(p / (1 - p))``."""
    return jnp.log(p) - jnp.log1p(-p)


def log_binomial_coefficient(n: jax.Array, k: jax.Array) -> jax.Array:
    """``log C(n, k)`` through ``gammaln``, valid for real ``0 <= k <= n``."""
    return special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)
