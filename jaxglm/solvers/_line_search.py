"""Armijo backtracking along a direction, shared by the Newton-type solvers.

Trials ``t = 1, 1/2, 1/4, ...`` (at most 31 of them, down to ``2^-30``) until
``f(t) <= f(0) + 1e-4 t slope + 16 ulp of f(0)`` (rounding near the optimum does not count
as failure). Each trial is one call of ``f_at``, which the solvers make O(n) by moving
``eta`` along a precomputed ``X d``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

ARMIJO = 1e-4
MAX_HALVINGS = 30


def backtrack(
    f_at: Callable[[jax.Array], jax.Array],
    f0: jax.Array,
    slope: jax.Array,
    trust: jax.Array | bool = False,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The first accepted step length along a descent direction.

    Args:
        f_at: the objective at step length ``t``.
        f0: the objective at ``t = 0``.
        slope: the predicted change of the objective per unit ``t`` (negative).
        trust: accept any finite ``f(t)`` (Newton within tolerance: the quadratic model is
            trusted over ``f``, whose rounding can exceed the predicted decrease).

    Returns:
        ``(t, f(t), found)``; ``t = 0`` and ``f(0)`` when no trial was accepted.
    """
    slack = 16 * jnp.finfo(f0.dtype).eps * jnp.abs(f0)

    def accepted(t, f_t):
        return (f_t <= f0 + ARMIJO * t * slope + slack) | (trust & jnp.isfinite(f_t))

    def halve(carry):
        t, _, k = carry
        t = t / 2
        return t, f_at(t), k + 1

    def searching(carry):
        t, f_t, k = carry
        return (k == 0) | (~accepted(t, f_t) & (k <= MAX_HALVINGS))

    two = jnp.asarray(2.0, f0.dtype)
    t, f, _ = lax.while_loop(searching, halve, (two, jnp.asarray(jnp.inf, f0.dtype), 0))
    found = accepted(t, f)
    return jnp.where(found, t, 0.0), jnp.where(found, f, f0), found
