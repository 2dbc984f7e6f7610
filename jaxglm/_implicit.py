r"""Derivatives of a fitted model: the implicit function theorem at the solution.

A fit's parameters ``x*`` solve ``r(x, theta) = 0``, the optimality conditions of the
objective (its gradient in ``params``) at the data and hyperparameters ``theta`` (``X``,
``y``, the weights, the offset, the penalty, the family's parameters: the leaves of the
:class:`jaxglm.model.Problem`). The solver's iterations are not differentiated: the loop
runs on ``lax.stop_gradient`` of its inputs (:func:`jaxglm.solvers.iterate`), and
:func:`root` gives ``x*`` the derivative of the solution,

.. math:: \dot x = -J^{-1} \, \partial_\theta r(x^*, \theta) \, \dot\theta,
          \qquad J = \partial_x r(x^*, \theta),

``J`` the Hessian of the objective at the optimum. :func:`root` is a ``jax.custom_jvp``
whose tangent is that linear solve, written with ``lax.custom_linear_solve``, so that JAX
transposes it: forward mode (``jvp``, ``jacfwd``), reverse mode (``grad``, ``vjp``,
``jacrev``) and their compositions (``jax.hessian``: the rule calls :func:`root` for its
own value and is itself differentiable) all work, under ``jit`` and ``vmap``.

The linear solve is conjugate gradients with the exact Hessian-vector product (one
``X v`` and one ``r @ X``, from the core's row derivatives by forward mode), preconditioned
by the factored matrix the solver already holds (``solver.curvature``: Newton's last
Hessian, SubsampledNewton's subsampled information), or else by the factored observed
Hessian at the solution (one Gram product, only when differentiating). With an exact
factorization it stops after one step; it stops when the residual is below ``100 eps`` of
the right-hand side or after :data:`TANGENT_MAX_ITER` steps.

Constrained coordinates are fixed (zero derivative): the intercept without
``fit_intercept``, and with an L1 penalty the zero coefficients (the active-set
derivative: exact where the KKT conditions hold strictly, ``|g_j| < l_j``; where a
coefficient is at a kink, ``|g_j| = l_j``, the solution is not differentiable and the
derivative given is the one-sided one that keeps the active set). On the active
coordinates the L1 term adds ``l_j sign(beta_j)`` to the optimality conditions, so the
derivative in the penalty is exact there.

A fit whose status is not CONVERGED has NaN derivatives (:func:`nan_unless`). Rows of
weight 0 are masked out of the objective and of every statistic, so the derivative in such
a row's weight is 0 (not the one-sided derivative of bringing the row in). Derivatives skip
the inputs that are not differentiated (symbolic zero tangents): a gradient in ``y`` or
``alpha`` makes no pass over an undifferentiated ``X``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero
from jax.flatten_util import ravel_pytree

from jaxglm import _linalg
from jaxglm import model as M
from jaxglm._status import Status

TANGENT_MAX_ITER = 20
"""Most conjugate-gradient steps of one tangent solve."""

_TANGENT_TOL_EPS = 100  # the tangent solve stops at this many machine epsilons (relative)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def reuse(fn: Callable[..., Any], value: Any, *args: Any) -> Any:
    """``value``, known to equal ``fn(*args)``, with the derivative of ``fn(*args)``.

    For what a solver already computed inside its loop (the linear predictor, the
    information matrix): nothing is recomputed unless it is differentiated. ``fn`` must be a
    module-level function (no closure over traced values).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> float(jax.grad(lambda x: reuse(jnp.sin, jnp.asarray(0.0), x))(0.0))
        1.0
    """
    return value


def _reuse_jvp(fn, primals, tangents):
    value, *args = primals
    _, *dargs = tangents
    return reuse(fn, value, *args), _jvp_where_nonzero(fn, tuple(args), tuple(dargs))


reuse.defjvp(_reuse_jvp, symbolic_zeros=True)


def _jvp_where_nonzero(fn: Callable[..., Any], primals: tuple, tangents: tuple) -> Any:
    """The tangent of ``fn(*primals)`` along ``tangents`` (a rule's, with symbolic zeros),
    differentiated in the leaves with a non-zero tangent only: a ``jax.jvp`` with
    instantiated zeros would pass over an undifferentiated ``X`` (``0 @ params``: XLA keeps
    a float product with 0), a pass in the forward and in the reverse program."""
    leaves, tree = jax.tree.flatten(primals)
    dleaves = jax.tree.leaves(tangents, is_leaf=lambda t: isinstance(t, SymbolicZero))
    live = [i for i, d in enumerate(dleaves) if not isinstance(d, SymbolicZero)]

    def on_live(*xs):
        full = list(leaves)
        for i, x in zip(live, xs, strict=True):
            full[i] = x
        return fn(*jax.tree.unflatten(tree, full))

    if not live:
        return jax.tree.map(jnp.zeros_like, fn(*primals))
    return jax.jvp(on_live, [leaves[i] for i in live], [dleaves[i] for i in live])[1]


@jax.custom_jvp
def _nan_unless(ok: jax.Array, x: jax.Array) -> jax.Array:
    return x


@_nan_unless.defjvp
def _nan_unless_jvp(primals, tangents):
    ok, x = primals
    _, dx = tangents
    # A product, not a select: the cotangent of a select drops the NaN in reverse mode.
    return _nan_unless(ok, x), dx * jnp.where(ok, 1.0, jnp.nan).astype(dx.dtype)


def nan_unless(ok: jax.Array, tree: Any) -> Any:
    """``tree`` unchanged, with NaN derivatives (every floating leaf) unless ``ok``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> float(jax.grad(lambda x: nan_unless(jnp.asarray(False), x * x))(3.0))
        nan
    """

    def gate(x):
        if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jnp.inexact):
            return _nan_unless(ok, x)
        return x

    return jax.tree.map(gate, tree)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def root(
    residual: Callable[[Any, Any], Any],
    preconditioner: Callable[[Any, Any, Any], tuple[Callable, jax.Array]],
    theta: Any,
    x: Any,
    aux: Any,
) -> Any:
    """``x``, a root of ``residual(theta, .)`` found by a solver, differentiable in ``theta``.

    Args:
        residual: ``residual(theta, x)``, a module-level function with a symmetric Jacobian
            in ``x`` (the gradient of an objective).
        preconditioner: ``preconditioner(theta, x, aux) -> (solve, ok)``: ``solve`` maps a
            flat right-hand side to an approximation of ``J^-1 b`` (no derivative taken
            through it), ``ok`` whether the solution is valid (else NaN derivatives).
        theta: the pytree the derivatives are taken in.
        x: the solution (a pytree), found without derivatives.
        aux: what the preconditioner needs (the solver and its final state); not
            differentiated.

    Returns:
        ``x`` (module docs: its derivative).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> def residual(theta, x):
        ...     return x * x - theta
        >>> def preconditioner(theta, x, aux):
        ...     return (lambda b: b / (2 * x)), jnp.asarray(True)
        >>> def sqrt(t):
        ...     return root(residual, preconditioner, t, jnp.sqrt(t), None)
        >>> float(jax.grad(sqrt)(4.0)), float(jax.grad(jax.grad(sqrt))(4.0))
        (0.25, -0.03125)
    """
    return x


def _root_jvp(residual, preconditioner, primals, tangents):
    theta, x, aux = primals
    dtheta = tangents[0]
    x = root(residual, preconditioner, theta, x, aux)
    _, unravel = ravel_pytree(x)
    rhs, _ = ravel_pytree(_jvp_where_nonzero(lambda t: residual(t, x), (theta,), (dtheta,)))
    solve, ok = preconditioner(theta, x, aux)

    def matvec(v):
        return ravel_pytree(jax.jvp(lambda z: residual(theta, z), (x,), (unravel(v),))[1])[0]

    def pcg(matvec, b):
        return _conjugate_gradients(matvec, b, solve)

    dx = -lax.custom_linear_solve(matvec, rhs, pcg, symmetric=True)
    dx = dx * jnp.where(ok, 1.0, jnp.nan).astype(dx.dtype)
    return x, unravel(dx)


root.defjvp(_root_jvp, symbolic_zeros=True)


def _conjugate_gradients(
    matvec: Callable[[jax.Array], jax.Array], b: jax.Array, solve: Callable
) -> jax.Array:
    """Preconditioned conjugate gradients for ``J x = b`` from ``x = solve(b)`` (module docs)."""
    tol = _TANGENT_TOL_EPS * jnp.finfo(b.dtype).eps * jnp.linalg.norm(b)
    x = solve(b)
    r = b - matvec(x)
    z = solve(r)
    rz = jnp.dot(r, z)

    def cond(c):
        _, r, _, _, _, k = c
        return (jnp.linalg.norm(r) > tol) & (k < TANGENT_MAX_ITER)

    def body(c):
        x, r, d, z, rz, k = c
        jd = matvec(d)
        step = rz / jnp.dot(d, jd)
        x, r = x + step * d, r - step * jd
        z = solve(r)
        rz_new = jnp.dot(r, z)
        return x, r, z + (rz_new / rz) * d, z, rz_new, k + 1

    return lax.while_loop(cond, body, (x, r, z, z, rz, 0))[0]


# ---- the GLM's optimality conditions -------------------------------------------------------


def _inert(problem: M.Problem, params: jax.Array) -> jax.Array:
    """Where ``params`` are fixed: the intercept without one, L1-penalized zeros."""
    inert = jnp.zeros(params.shape, bool)
    if not problem.fit_intercept:
        inert = inert.at[0].set(True)
    if problem.l1 is not None:
        inert = inert | ((M.per_row(problem.l1, params) > 0) & (params == 0))
    return inert


def free(problem: M.Problem, params: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(inert, params)`` with no derivative through the inert coordinates, so that the
    Jacobian of :func:`glm_residual` is symmetric (identity on them)."""
    inert = _inert(problem, params)
    return inert, jnp.where(inert, lax.stop_gradient(params), params)


def glm_residual(problem: M.Problem, params: jax.Array) -> jax.Array:
    """The optimality conditions of a fit: the objective's gradient in ``params`` plus
    ``l1 sign(params)`` on the free coordinates; ``params`` itself on the inert ones."""
    inert, free_params = free(problem, params)
    eta = M.linear_predictor(problem, free_params)
    g, _ = M.row_derivatives(problem, eta, fisher=True)
    grad = M.gradient(problem, free_params, g)
    if problem.l1 is not None:
        grad = grad + M.per_row(problem.l1, free_params) * jnp.sign(free_params)
    return jnp.where(inert, params, grad)


def observed_hessian(problem: M.Problem, params: jax.Array) -> jax.Array:
    """The Jacobian of :func:`glm_residual` at ``params`` as a matrix (in the order of
    ``params.ravel()``): the observed Hessian on the free coordinates (one Gram product),
    identity on the inert ones."""
    eta = M.linear_predictor(problem, params)
    _, h = M.row_derivatives(problem, eta, fisher=False)
    H = M.hessian(problem, h)
    inert = _inert(problem, params).ravel()
    fixed = inert[:, None] | inert[None, :]
    return jnp.where(fixed, 0.0, H) + jnp.diag(inert.astype(H.dtype))


def glm_preconditioner(problem: M.Problem, params: jax.Array, aux: Any):
    """The solver's factored curvature (``solver.curvature``) or :func:`observed_hessian`'s
    factor; valid when the fit converged."""
    solver, state = aux
    problem, params = lax.stop_gradient((problem, params))
    factors = solver.curvature(problem, state)
    ok = state.status == Status.CONVERGED
    if factors is None:
        factors, factored = _linalg.factor(observed_hessian(problem, params))
        ok = ok & factored
    return functools.partial(_linalg.solve, factors), ok


def at_solution(solver: Any, problem: M.Problem, state: Any) -> Any:
    """The solver's final ``state`` with ``params`` and ``eta`` differentiable in
    ``problem`` (module docs)."""
    params = root(glm_residual, glm_preconditioner, problem, state.params, (solver, state))
    eta = reuse(M.linear_predictor, state.eta, problem, params)
    return state._replace(params=params, eta=eta)
