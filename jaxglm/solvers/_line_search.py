"""Armijo backtracking along a direction, shared by the Newton-type solvers.

Trials ``t = t0, t0/2, t0/4, ...`` (``t0 = 1`` by default; at most 31 of them) until
``f(t) <= f(0) + 1e-4 t slope + 16 ulp of f(0)`` (rounding near the optimum does not count
as failure). Each trial is one call of ``f_at``, which the solvers make O(n) by moving
``eta`` along a precomputed ``X d``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    t0: jax.Array | float = 1.0,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The first accepted step length along a descent direction.

    Args:
        f_at: the objective at step length ``t``.
        f0: the objective at ``t = 0``.
        slope: the predicted change of the objective per unit ``t`` (negative).
        trust: accept any finite ``f(t)`` (Newton within tolerance: the quadratic model is
            trusted over ``f``, whose rounding can exceed the predicted decrease).
        t0: the first trial (e.g. a 1-D Newton step on ``t``); halved from there.

    Returns:
        ``(t, f(t), found)``; ``t = 0`` and ``f(0)`` when no trial was accepted.
    """
    t, f, _, found = backtrack_with_rows(lambda t: (f_at(t), ()), f0, slope, trust, t0)
    return t, f, found


def backtrack_with_rows(
    f_rows_at: Callable[[jax.Array], tuple[jax.Array, Any]],
    f0: jax.Array,
    slope: jax.Array,
    trust: jax.Array | bool = False,
    t0: jax.Array | float = 1.0,
) -> tuple[jax.Array, jax.Array, Any, jax.Array]:
    """:func:`backtrack` where each trial also returns per-row quantities (e.g. the rows'
    derivatives, computed with the objective in one elementwise pass): ``(t, f(t), rows,
    found)`` with the rows of the accepted trial (of the last one when none is accepted)."""
    slack = 16 * jnp.finfo(f0.dtype).eps * jnp.abs(f0)

    def accepted(t, f_t):
        return (f_t <= f0 + ARMIJO * t * slope + slack) | (trust & jnp.isfinite(f_t))

    def halve(carry):
        t, _, _, k = carry
        t = t / 2
        f_t, rows = f_rows_at(t)
        return t, f_t, rows, k + 1

    def searching(carry):
        t, f_t, _, k = carry
        return ~accepted(t, f_t) & (k <= MAX_HALVINGS)

    first = jnp.asarray(t0, f0.dtype)
    t, f, rows, _ = lax.while_loop(searching, halve, (first, *f_rows_at(first), 1))
    found = accepted(t, f)
    return jnp.where(found, t, 0.0), jnp.where(found, f, f0), rows, found
