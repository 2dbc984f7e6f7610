"""The Newton-decrement stopping rule, shared by every Newton-type solver.

``tol`` is on the Newton decrement ``lambda^2 = -g.d`` relative to the objective (R's
``glm.control(epsilon)`` is on the relative change of the deviance): a decrement is
*within* ``tol`` when ``lambda^2 / 2 <= tol * (f + 0.05 / sum(w))`` (the ``0.05 / sum(w)``
is R's ``|dev| + 0.1`` in the objective's units). After a Newton step from a point within
``tol`` the point is accurate to about ``tol^2`` (quadratic convergence), so solvers stop
there, or where the next decrement is within ``tol^2``. ``tol`` is floored at
:data:`TOL_EPS` machine epsilons of the working dtype: a decrement below rounding cannot be
certified, and asking for it only makes the iteration wander on noise until ``max_iter``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

TOL_EPS = 10
"""``tol`` is floored at this many machine epsilons of the working dtype."""


def floored_tol(tol: jax.Array | float, dtype: jnp.dtype) -> jax.Array:
    """``max(tol, TOL_EPS * eps(dtype))`` (module docs)."""
    return jnp.maximum(tol, TOL_EPS * jnp.finfo(dtype).eps)


def within(
    decrement: jax.Array, f: jax.Array, tol: jax.Array, total_weight: jax.Array
) -> jax.Array:
    """Whether the Newton decrement is within ``tol`` of the objective ``f`` (module docs).

    Example:
        >>> import jax.numpy as jnp
        >>> bool(within(jnp.asarray(1e-9), jnp.asarray(1.0), 1e-8, jnp.asarray(100.0)))
        True
    """
    return decrement / 2 <= tol * (f + 0.05 / total_weight)
