"""NegativeBinomial with alpha estimated: MASS's ``glm.nb`` alternation around any solver.

The NB2 dispersion ``alpha`` is not a GLM parameter (the family changes with it), so it is
estimated by alternation: fit ``beta`` at fixed ``alpha`` with the chosen solver, then
maximize the profile log-likelihood in ``log(alpha)`` at the fitted ``mu`` by Newton
(MASS's ``theta.ml``), until ``log(alpha)`` moves less than 1e-10.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import model as M
from jaxglm._status import Status
from jaxglm.solvers._driver import iterate

_NB_MAX_OUTER = 50
_NB_TOL = 1e-10  # on |change of log(alpha)| between outer iterations (and Newton steps)
_NB_TOL_EPS = 10  # ... floored at this many machine epsilons of the working dtype


def _tol(dtype: jnp.dtype) -> jax.Array:
    """``max(1e-10, 10 eps)``: in float32 ``log(alpha)`` rounds at ~1e-7, and a change
    below that is never certified (the loop ran its 50 outer fits, then said MAX_ITER)."""
    return jnp.maximum(_NB_TOL, _NB_TOL_EPS * jnp.finfo(dtype).eps)


def _nb_loglik(log_alpha, y, mu, w):
    """NB2 log-likelihood in ``log(alpha)`` at fixed ``mu`` (weighted, rows with w > 0)."""
    a = jnp.exp(log_alpha)
    k = 1.0 / a
    rows = (
        jax.scipy.special.gammaln(y + k) - jax.scipy.special.gammaln(k)
        - jax.scipy.special.gammaln(y + 1.0)
        + y * (jnp.log(a * mu) - jnp.log1p(a * mu)) - k * jnp.log1p(a * mu)
    )  # fmt: skip
    return jnp.sum(jnp.where(w > 0, w * rows, 0.0))


def _alpha_newton(log_alpha, y, mu, w):
    """Maximize the profile log-likelihood in ``log(alpha)`` by Newton (MASS's theta.ml)."""
    grad = jax.grad(_nb_loglik)
    hess = jax.grad(grad)

    def body(c):
        la, _, k = c
        g, h = grad(la, y, mu, w), hess(la, y, mu, w)
        step = jnp.where(h < 0, -g / h, jnp.sign(g))  # ascent; a unit step where not concave
        step = jnp.clip(step, -2.0, 2.0)
        return la + step, step, k + 1

    def cond(c):
        return (jnp.abs(c[1]) > _tol(y.dtype)) & (c[2] < 100) & jnp.isfinite(c[0])

    la, _, _ = lax.while_loop(cond, body, (log_alpha, jnp.asarray(jnp.inf, y.dtype), 0))
    return la


def alpha_loop(make_problem, solver, problem, state, w):
    """Alternate a GLM fit at fixed alpha and an ML step for alpha (MASS ``glm.nb``).

    Starts from the fit at the initial alpha; each outer iteration maximizes the profile
    likelihood in ``log(alpha)`` at the current ``mu`` (Newton), then refits ``beta`` from
    the current ``beta``; stops when ``log(alpha)`` moves less than 1e-10 (10 machine
    epsilons in float32) and the GLM fit converged, or after 50 outer iterations (status
    ``MAX_ITER``). Returns the final
    problem (its family holds the estimate), the solver state and the standard error of
    alpha, ``1 / sqrt(-d^2 l / d alpha^2)`` at fixed ``beta`` (MASS's ``SE.theta``,
    transformed to alpha).
    """
    y = problem.y
    fam0 = problem.family
    link = problem.link

    def outer(c):
        la, st, _, k = c
        mu = M.mean_from_eta(dataclasses.replace(fam0, alpha=jnp.exp(la)), link, st.eta)
        la_new = _alpha_newton(la, y, mu, w)
        prob = make_problem(dataclasses.replace(fam0, alpha=jnp.exp(la_new)))
        st_new = iterate(solver, prob, solver.init(prob, st.params))
        return la_new, st_new, jnp.abs(la_new - la), k + 1

    def cond(c):
        la, st, change, k = c
        ok = (st.status == Status.CONVERGED) | (st.status == Status.MAX_ITER)
        return (change > _tol(y.dtype)) & (k < _NB_MAX_OUTER) & ok & jnp.isfinite(la)

    la0 = jnp.log(jnp.asarray(fam0.alpha, y.dtype))
    inf = jnp.asarray(jnp.inf, y.dtype)
    la, state, change, _ = lax.while_loop(cond, outer, (la0, state, inf, 0))
    status = jnp.where(
        (state.status == Status.CONVERGED) & ~(change <= _tol(y.dtype)),
        Status.MAX_ITER,
        state.status,
    )
    state = state._replace(status=status.astype(state.status.dtype))
    problem = make_problem(dataclasses.replace(fam0, alpha=jnp.exp(la)))
    mu = M.mean_from_eta(problem.family, link, state.eta)
    a = jnp.exp(la)
    d2 = jax.grad(jax.grad(lambda a_: _nb_loglik(jnp.log(a_), y, mu, w)))(a)
    return problem, state, 1.0 / jnp.sqrt(-d2)
