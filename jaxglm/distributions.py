"""Reference distributions in JAX (traceable, no SciPy): normal, Student t, chi2, F.

Two-sided normal and Student t tails and quantiles, chi-squared and F upper tails. The t
distribution function is the regularized incomplete beta function; its quantile is found by
bisection (64 halvings of a bracket in ``u = t / (1 + t)``, full precision in float64).
A leaf module: inference and results use it; it imports nothing from jaxglm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy import special

__all__ = ["chi2_sf", "f_sf", "normal_isf2", "normal_sf2", "t_isf2", "t_sf2"]


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


@jax.jit
def chi2_sf(x: jax.Array, df: jax.Array) -> jax.Array:
    """Upper tail ``P(X > x)`` of the chi-squared distribution with ``df`` degrees.

    Example:
        >>> from jaxglm.distributions import chi2_sf
        >>> round(float(chi2_sf(3.841459, 1.0)), 4)
        0.05
    """
    return special.gammaincc(0.5 * df, 0.5 * jnp.maximum(x, 0.0))


@jax.jit
def f_sf(x: jax.Array, df_num: jax.Array, df_denom: jax.Array) -> jax.Array:
    """Upper tail ``P(F > x)`` of the F distribution with ``(df_num, df_denom)`` degrees.

    Example:
        >>> from jaxglm.distributions import f_sf
        >>> round(float(f_sf(3.2849, 2.0, 30.0)), 4)
        0.0513
    """
    x = jnp.maximum(x, 0.0)
    return special.betainc(0.5 * df_denom, 0.5 * df_num, df_denom / (df_denom + df_num * x))
