"""Newton / Fisher scoring with an Armijo line search: IRLS in its exact form.

Start (R's): the first quadratic model is expanded at ``eta0 = link(mu_start)`` with
``mu_start`` the family's ``mustart`` — one weighted least-squares solve, IRLS's first
iteration — from the intercept-only point; if that lands higher than the intercept-only
point, the line search backtracks toward it, and if no point on the way is lower, the
iteration goes on with a Newton step from the intercept-only point.

Step: solve ``H d = -g`` by the equilibrated Cholesky of :mod:`jaxglm._linalg`, where ``H``
is the Hessian of the objective (one Gram product ``[1 X]^T diag(w h) [1 X]``) and ``g`` its
gradient; then backtrack ``t = 1, 1/2, 1/4, ...`` (at most 30 halvings) until the Armijo
condition ``f(beta + t d) <= f(beta) + 1e-4 t g.d`` holds (up to 16 ulp of ``f``, so that
rounding near the optimum does not count as failure). Each trial costs O(n): ``eta`` moves
along the precomputed ``X d``. A point where the mean leaves its range (``f = inf``) is
rejected like any other, which keeps e.g. Binomial-log and Gamma-identity fits valid.

Exact Newton uses the observed second derivative. With a non-canonical link it need not be
positive definite far from the optimum; at such a point the iteration takes a Fisher
scoring step (expected information, always positive semidefinite) — the standard
modified-Newton globalization, not a change of method: near the optimum the observed
Hessian is positive definite and the convergence is quadratic. ``fisher=True`` uses the
expected information throughout (R's and statsmodels' IRLS). With a canonical link the two
are identical.

Stopping rule (``tol`` is on the Newton decrement relative to the objective, as R's
``glm.control(epsilon)`` is on the relative change of the deviance): with the decrement
``lambda^2 = -g.d`` and ``s = f + 0.05 / sum(w)`` (R's ``|dev| + 0.1`` in the objective's
units), the fit has converged when the step just taken started from a point with
``lambda^2 / 2 <= tol * s`` — after that step the point is accurate to about ``tol^2``
(quadratic convergence) — or when the next step would have ``lambda^2 / 2 <= tol^2 * s``.
Such a last step is taken in full whenever ``f`` stays finite: the quadratic model is
trusted over ``f``, whose rounding error can exceed the predicted decrease. No model is
built at the point it reaches (it would serve only the stopping check): a fit forms one
Gram product per model, ``n_iter`` of them when it ends this way (the model at R's start,
then one after each step but the last), ``n_iter + 1`` when it ends on the next
decrement. After the first kind of end, the expected information at the solution (the
covariance) is one product more, formed only when the statistics ask for it
(:meth:`Newton.information`); after the second, the last model's matrix is that
information (a canonical link, or ``fisher=True``). Under ``jax.vmap`` a batch builds a
model while any member still running needs one (:func:`jaxglm._batching.cond_any`), and
forms the Fisher scoring matrix of a non-canonical link (above) only when some member's
observed Hessian does not factor.

The same iteration runs a family with an m-vector ``theta`` (:class:`jaxglm.Multinomial`):
the parameters are (p+1, m), the matrix is the block Gram of the rows' (m, m) Hessians
(:func:`jaxglm.model.hessian`), and the solve is on ``params.ravel()``.

Status codes: CONVERGED; MAX_ITER; NONFINITE (objective or gradient not finite);
RANK_DEFICIENT (the Cholesky factorization failed or a squared pivot fell below
:func:`jaxglm._linalg.rank_tolerance`);
LINE_SEARCH_FAILED (no decrease along a descent direction that was not already below
``tol``).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import _implicit, _linalg
from jaxglm import model as M
from jaxglm._batching import cond_any
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm._status import Status
from jaxglm.solvers._driver import AbstractSolver
from jaxglm.solvers._line_search import backtrack
from jaxglm.solvers._stopping import floored_tol, within


class _NewtonState(NamedTuple):
    params: jax.Array  # (p+1,), intercept first
    eta: jax.Array  # (n,) linear predictor of params
    expansion: jax.Array  # (n,) where the next quadratic model is expanded (eta but at start)
    f: jax.Array  # objective at params
    # The quadratic model at params; where decrement is inf, the model at R's start or,
    # after the step that ended the fit, the previous point's grad and hess with a zero step.
    grad: jax.Array  # (p+1,) gradient of the quadratic model at params
    hess: Any  # (p+1, p+1) the matrix the step was solved with, or a _linalg.BlockGram
    step: jax.Array  # (p+1,) minimizer of the quadratic model minus params
    decrement: jax.Array  # -grad . step, inf when the model is not expanded at params
    n_iter: jax.Array  # steps taken; -1 until the first model is built
    status: jax.Array


@pytree_dataclass
class Newton(AbstractSolver):
    """Newton's method (IRLS) with an Armijo line search; the default solver.

    Args:
        fisher: use the expected information (Fisher scoring, R's IRLS) instead of the
            observed one. Identical for canonical links. With a non-canonical link Fisher
            scoring converges linearly, so its final accuracy is about ``tol`` rather than
            ``tol^2``.
        tol: tolerance on the Newton decrement relative to the objective (module docs),
            floored at 10 machine epsilons of the working dtype (1.2e-6 in float32): a
            decrement below rounding cannot be certified, and asking for it only makes
            the iteration wander on noise until ``max_iter``.
        max_iter: maximum number of Newton steps.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> X = np.linspace(-1, 1, 40).reshape(-1, 1).astype("float32")
        >>> y = (X[:, 0] + np.sin(9 * X[:, 0]) > 0).astype("float32")
        >>> res = jg.fit(X, y, family=jg.Bernoulli(), solver=jg.Newton(fisher=True, tol=1e-6))
        >>> bool(res.converged)
        True
    """

    fisher: bool = static_field(default=False)
    tol: jax.Array | float = 1e-8
    max_iter: jax.Array | int = 100

    supports_designs = True

    uses_mustart = True
    supports_vector_theta = True

    def init(
        self, problem: M.Problem, params: jax.Array, mu_start: jax.Array | None = None
    ) -> _NewtonState:
        eta = _linalg.linear_predictor(problem.X, params, problem.offset)
        expansion = eta
        if mu_start is not None:
            eta0 = M.eta_from_mean(problem.family, problem.link, mu_start)
            w = M.per_row(problem.w, eta0)
            usable = jnp.all(jnp.isfinite(eta0) | (w == 0))
            expansion = jnp.where(usable & (w > 0), eta0, eta)
        f = M.objective(problem, params, eta)
        k = params.size
        zero = jnp.zeros_like(params)
        return _NewtonState(
            params, eta, expansion, f, zero, _linalg.zero_gram(problem.X, k, params.dtype), zero,
            jnp.asarray(jnp.inf, f.dtype), jnp.asarray(-1, jnp.int32),
            jnp.asarray(Status.RUNNING, jnp.int32),
        )  # fmt: skip

    def step(self, problem: M.Problem, state: _NewtonState) -> _NewtonState:
        d = state.step
        d_eta = _linalg.direction(problem.X, d)
        exact = jnp.isfinite(state.decrement)  # the model was expanded at params
        slope = jnp.where(exact, _dot(state.grad, d), 0.0)
        tol = floored_tol(self.tol, state.f.dtype)
        # (decrement and f are inf at the start: never "small" there)
        small_step = exact & within(state.decrement, state.f, tol, problem.total_weight)

        # Within tolerance the quadratic model is trusted over f: the full step is taken
        # if f stays finite.
        t, f, searched = backtrack(
            lambda t: M.objective(problem, state.params + t * d, state.eta + t * d_eta),
            state.f, slope, small_step,
        )  # fmt: skip
        params = state.params + t * d
        eta = state.eta + t * d_eta

        expansion = jnp.where(state.n_iter < 0, state.expansion, eta)
        virtual = jnp.any(expansion != eta)
        # A step from within tol has converged: the model at the new point would serve only
        # the stopping check, so it is not built (nor, under vmap, while every member still
        # running has taken such a step; finished members are frozen and need none).
        needed = ~small_step & (state.status == Status.RUNNING)
        operand = lax.stop_gradient((problem, params, eta, expansion, virtual, state))
        grad, hess, step, decrement, ok = cond_any(
            needed, functools.partial(_built_model, self.fisher), _kept_model, operand
        )
        converged = small_step | (~virtual & within(decrement, f, tol**2, problem.total_weight))
        # A rejected first step (from the mustart model) is no failure: the next step is a
        # Newton step from the intercept-only point. (NONFINITE is the driver's decision;
        # the first model is built at R's start whatever the objective at the starting
        # point: the driver exempts the step from n_iter -1.)
        status = jnp.select(
            [~ok, converged, ~searched & exact],
            [Status.RANK_DEFICIENT, Status.CONVERGED, Status.LINE_SEARCH_FAILED],
            Status.RUNNING,
        )
        return _NewtonState(
            params, eta, expansion, f, grad, hess, step, decrement, state.n_iter + 1,
            status.astype(jnp.int32),
        )  # fmt: skip

    def information(self, problem: M.Problem, state: _NewtonState) -> jax.Array:
        if self.fisher or problem.canonical:
            # the matrix of the model at the last point is the expected information there
            # (recomputed only when differentiated); after a last step from within tol no
            # model was built at the solution: one Gram product there
            operand = lax.stop_gradient((problem, state.eta, state.hess))
            info = cond_any(~jnp.isfinite(state.decrement), _information, _held, operand)
            return _implicit.reuse(M.expected_information, info, problem, state.eta)
        return M.expected_information(problem, state.eta)

    def curvature(self, problem: M.Problem, state: _NewtonState) -> tuple[jax.Array, jax.Array]:
        """The factor of the last Newton matrix (observed Hessian, or Fisher's)."""
        return _linalg.factor(state.hess)[0]

    @property
    def name(self) -> str:
        return "Newton(fisher)" if self.fisher else "Newton"


def _built_model(fisher: bool, operand):
    """The quadratic model of the objective expanded at ``at``: its gradient at ``eta``
    ``[1 X]^T w (g + h (eta - at)) / sum w`` (the plain gradient when ``at = eta``), its
    Hessian the Gram ``[1 X]^T diag(w h) [1 X]`` (Fisher's where the observed one does not
    factor), the step to its minimizer from ``params``, the decrement (inf when the model is
    expanded elsewhere than at ``params``) and whether the matrix factored."""
    problem, params, eta, at, virtual, _ = operand
    g_rows, h_rows = M.row_derivatives(problem, at, fisher)
    grad = M.gradient(problem, params, M.model_rows(g_rows, h_rows, eta - at))
    hess, flat = _linalg.pin_intercept(
        M.hessian(problem, h_rows), grad.reshape(-1), problem.fit_intercept,
        M.intercept_width(params),
    )  # fmt: skip
    factors, ok = _linalg.factor(hess)
    if not (fisher or problem.canonical):
        hess, factors, ok = cond_any(
            ~ok, _fisher_matrix, _observed_matrix, (problem, at, hess, factors, ok)
        )
    step = -_linalg.solve(factors, flat).reshape(params.shape)
    grad = flat.reshape(params.shape)
    decrement = jnp.where(virtual, jnp.inf, -_dot(grad, step))
    return grad, hess, step, decrement, ok


def _kept_model(operand):
    """No new model: the last one's gradient and matrix, a zero step (a frozen member's
    line search accepts it at once) and an infinite decrement (not expanded at ``params``)."""
    _, params, _, _, _, state = operand
    inf = jnp.asarray(jnp.inf, state.f.dtype)
    return state.grad, state.hess, jnp.zeros_like(params), inf, jnp.asarray(True)


def _fisher_matrix(operand):
    """The expected information at ``at`` and its factor (the observed Hessian did not
    factor: a non-canonical link away from the optimum)."""
    problem, at, _, _, _ = operand
    hess = M.expected_information(problem, at)
    factors, ok = _linalg.factor(hess)
    return hess, factors, ok


def _observed_matrix(operand):
    _, _, hess, factors, ok = operand
    return hess, factors, ok


def _information(operand):
    problem, eta, _ = operand
    return M.expected_information(problem, eta)


def _held(operand):
    return operand[2]


def _dot(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a . b`` of two parameter arrays ((p+1,) or (p+1, m))."""
    return jnp.dot(a, b) if a.ndim == 1 else jnp.sum(a * b)
