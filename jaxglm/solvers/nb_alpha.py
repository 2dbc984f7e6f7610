"""NegativeBinomial with alpha estimated: MASS's ``glm.nb`` alternation around any solver.

The NB2 dispersion ``alpha`` is not a GLM parameter (the family changes with it), so it is
estimated by alternation: fit ``beta`` at fixed ``alpha`` with the chosen solver, then
maximize the profile log-likelihood in ``log(alpha)`` at the fitted ``mu`` by Newton
(MASS's ``theta.ml``), until ``log(alpha)`` moves less than 1e-10. The last fit of ``beta``
is at the alpha before the last step (within that tolerance of the estimate).

The alternation is not differentiated: its result is the joint solution of the optimality
conditions in ``(params, log(alpha))`` (the objective's gradient in ``params``, the score of
``log(alpha)``), and its derivative is that of the joint solution, by the implicit function
theorem (:func:`jaxglm._implicit.root`), preconditioned by the solver's curvature and the
second derivative in ``log(alpha)``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import _implicit
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


def with_alpha(problem: M.Problem, log_alpha: jax.Array) -> M.Problem:
    """``problem`` with the NegativeBinomial's ``alpha = exp(log_alpha)``."""
    family = dataclasses.replace(problem.family, alpha=jnp.exp(log_alpha))
    return dataclasses.replace(problem, family=family, saturated=family.saturated_loglik(problem.y))


def _joint_residual(problem: M.Problem, x: tuple[jax.Array, jax.Array]):
    """The optimality conditions in ``(params, log(alpha))``: the objective's gradient and
    the score of ``log(alpha)`` over ``-sum(w)`` (the Hessian of ``-loglik / sum(w)``, a
    symmetric Jacobian)."""
    params, log_alpha = x
    prob = with_alpha(problem, log_alpha)
    r_params = _implicit.glm_residual(prob, params)
    _, free = _implicit.free(prob, params)
    mu = M.mean_from_eta(prob.family, prob.link, M.linear_predictor(prob, free))
    r_alpha = -jax.grad(_nb_loglik)(log_alpha, prob.y, mu, prob.w) / prob.total_weight
    return r_params, r_alpha


def _joint_preconditioner(problem: M.Problem, x: tuple[jax.Array, jax.Array], aux):
    """Block diagonal: the solver's curvature, the second derivative in ``log(alpha)``."""
    params, log_alpha = lax.stop_gradient(x)
    prob = with_alpha(lax.stop_gradient(problem), log_alpha)
    solve_params, ok = _implicit.glm_preconditioner(prob, params, aux)
    mu = M.mean_from_eta(prob.family, prob.link, M.linear_predictor(prob, params))
    d2 = -jax.grad(jax.grad(_nb_loglik))(log_alpha, prob.y, mu, prob.w) / prob.total_weight

    def solve(b):
        return jnp.concatenate([solve_params(b[:-1]), b[-1:] / d2])

    return solve, ok & (d2 > 0)


def alpha_loop(solver, problem, start):
    """Alternate a GLM fit at fixed alpha and an ML step for alpha (MASS ``glm.nb``).

    ``start`` is the solver's starting state (``solver.init``) at the initial alpha
    (``problem.family.alpha``). Each outer iteration fits ``beta`` at the current alpha
    (the first from ``start``, the others from the current ``beta``), then maximizes the
    profile likelihood in ``log(alpha)`` at the fitted ``mu`` (Newton); it stops when
    ``log(alpha)`` moves less than 1e-10 (10 machine epsilons in float32) and the GLM fit
    converged, or after 50 outer iterations (status ``MAX_ITER``). The solver's loop is
    written once in the program, inside the alternation. Returns the final problem (its
    family holds the estimate), the solver state (``params``, ``eta`` and the estimate carry
    the derivative of the joint solution: module docs) and the standard error of alpha,
    ``1 / sqrt(-d^2 l / d alpha^2)`` at fixed ``beta`` (MASS's ``SE.theta``, transformed to
    alpha).
    """
    fixed = lax.stop_gradient(problem)
    first = lax.stop_gradient(start)
    y, w = fixed.y, fixed.w
    fam0 = fixed.family
    link = fixed.link

    def outer(c):
        la, st, _, k = c
        prob = with_alpha(fixed, la)
        warm = solver.init(prob, st.params)
        begin = jax.tree.map(lambda a, b: jnp.where(k == 0, a, b), first, warm)
        st_new = iterate(solver, prob, begin)
        mu = M.mean_from_eta(prob.family, link, st_new.eta)
        la_new = _alpha_newton(la, y, mu, w)
        return la_new, st_new, jnp.abs(la_new - la), k + 1

    def cond(c):
        la, st, change, k = c
        ok = (st.status == Status.CONVERGED) | (st.status == Status.MAX_ITER) | (k == 0)
        return (change > _tol(y.dtype)) & (k < _NB_MAX_OUTER) & ok & jnp.isfinite(la)

    la0 = jnp.log(jnp.asarray(fam0.alpha, y.dtype))
    inf = jnp.asarray(jnp.inf, y.dtype)
    la, state, change, _ = lax.while_loop(cond, outer, (la0, first, inf, 0))
    status = jnp.where(
        (state.status == Status.CONVERGED) & ~(change <= _tol(y.dtype)),
        Status.MAX_ITER,
        state.status,
    )
    state = state._replace(status=status.astype(state.status.dtype))
    params, la = _implicit.root(
        _joint_residual, _joint_preconditioner, problem, (state.params, la), (solver, state)
    )
    problem = with_alpha(problem, la)
    eta = _implicit.reuse(M.linear_predictor, state.eta, problem, params)
    state = state._replace(params=params, eta=eta)
    mu = M.mean_from_eta(problem.family, link, eta)
    a = jnp.exp(la)
    d2 = jax.grad(jax.grad(lambda a_: _nb_loglik(jnp.log(a_), problem.y, mu, problem.w)))(a)
    return problem, state, 1.0 / jnp.sqrt(-d2)
