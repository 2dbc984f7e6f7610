"""Reference distributions for Wald inference: normal and Student t, in JAX.

p-values and interval quantiles use the normal for fixed-scale families and Student's t
with ``df_resid`` degrees of freedom where the scale is estimated (R's ``summary.glm``).
The t distribution function is the regularized incomplete beta function; its quantile is
found by bisection (64 halvings of a bracket in ``u = t / (1 + t)``, full precision in
float64), so everything works under ``jit`` and ``vmap`` without SciPy.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy import special


@jax.jit
def t_sf2(t: jax.Array, df: jax.Array) -> jax.Array:
    """Two-sided tail probability ``P(|T| > |t|)`` of Student's t with ``df`` degrees."""
    x = df / (df + t * t)
    return special.betainc(0.5 * df, 0.5, x)


@jax.jit
def normal_sf2(z: jax.Array) -> jax.Array:
    """Two-sided tail probability ``P(|Z| > |z|)`` of the standard normal."""
    return 2.0 * special.ndtr(-jnp.abs(z))


@jax.jit
def t_isf2(q: jax.Array, df: jax.Array) -> jax.Array:
    """The ``t > 0`` with ``P(|T| > t) = q`` for Student's t with ``df`` degrees."""
    q, df = jnp.broadcast_arrays(jnp.asarray(q, float), jnp.asarray(df, float))

    def body(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        t = mid / (1.0 - mid)
        too_small = t_sf2(t, df) > q
        return jnp.where(too_small, mid, lo), jnp.where(too_small, hi, mid)

    lo, hi = lax.fori_loop(0, 64, body, (jnp.zeros_like(q), jnp.ones_like(q)))
    mid = 0.5 * (lo + hi)
    return mid / (1.0 - mid)


@jax.jit
def normal_isf2(q: jax.Array) -> jax.Array:
    """The ``z > 0`` with ``P(|Z| > z) = q``."""
    return -special.ndtri(0.5 * jnp.asarray(q))
