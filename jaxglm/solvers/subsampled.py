"""Subsampled-Hessian Newton for many rows: exact gradients, few passes over ``X``.

A Newton step costs one Gram product ``[1 X]^T diag(w h) [1 X]``, ``n p^2`` flops — at
``n = 10^6, p = 100`` about as much as 13 passes over ``X`` on this project's CPU — and
exact Newton needs 5-6 of them. This solver does one Gram product on a subsample instead,
and converges to the exact maximum-likelihood estimate because every gradient it uses is
exact (all rows, the working dtype):

1. **Start.** Exact Newton (:class:`jaxglm.Newton`, R's start, ``tol=1e-6``) on every
   ``k``-th row, ``start_rows`` of them (default ``50 (p+1)``). Its solution lies within
   about ``sqrt(n / start_rows)`` standard errors of the full estimate.
2. **Preconditioner.** The Fisher information of every ``k'``-th row, ``hessian_rows`` of
   them (default ``max(200 (p+1), n / 10)``), at that point, factored once by the
   equilibrated Cholesky of :mod:`jaxglm._linalg`. A row subsample of size ``m`` gives
   the full information up to a relative error of about ``sqrt(p / m)``: 3% for
   ``n = 10^6, p = 100``.
3. **Iterations.** Nonlinear conjugate gradients (Polak-Ribiere+) preconditioned by it.
   An iteration is one ``X @ s`` (the direction in ``eta``), a line search along
   ``eta + t X s`` — a one-dimensional Newton step on ``t`` from the rows' curvature,
   ``O(n)`` and no pass over ``X``, safeguarded by Armijo backtracking — and one
   ``r @ X`` (the exact gradient). Near the optimum the objective is almost quadratic
   and this is preconditioned CG: the error falls by about the CG factor of a system of
   condition number ``(1 + e) / (1 - e)``, ``e`` the preconditioner's relative error —
   measured here 10-50x per iteration at ``n = 10^6, p = 100``, whatever the conditioning
   of ``X``. While the decrement is large (far from the optimum, e.g. when the start on
   the subsample failed and the iteration runs from the intercept-only point), and when
   an iteration reduces it by less than 4x, the preconditioner is rebuilt from the
   subsample at the current point and CG restarts; from a second such stall on it is
   rebuilt from all rows (exact Newton: the subsample misrepresents the information).
   A first stall is common after a good start (logistic, n = 100,000, p = 100: the
   second iteration cut the decrement 3.3x), and the subsample's rebuild there costs
   a quarter of the full one's Gram (benchmarks/RESULTS.md, issue 19).

Stopping rule (as :class:`jaxglm.Newton`'s second criterion): converged when the
decrement ``g^T P^-1 g`` (exact gradient ``g``, preconditioner ``P``) satisfies
``decrement / 2 <= tol^2 (f + 0.05 / sum w)``; ``P`` is within a few percent of the
Hessian, so the point is then accurate to about ``tol^2`` in the objective, as a
converged Newton fit. ``tol`` is floored at 10 machine epsilons of the working dtype. At
the rounding floor of ``f`` (float32 on an ill-conditioned design) that can be out of
reach: a step from a decrement within ``tol`` that lowers ``f`` by no more than 16 ulp and
no longer cuts the decrement 4x also ends the fit (converged: the objective and the
gradient are then within rounding of their optimum).

Fallbacks, so that subsampling never costs correctness: if the start fails (a subsample
can be separable or miss a rare category), the iteration starts from the given starting
point; if the subsample's information is rank deficient, the preconditioner is the full
information (one full Gram product). ``n_iter`` counts the iterations on all rows (two
passes over ``X`` each); the start's iterations on the subsample are not counted.

Under ``jax.vmap`` the choices between keeping and rebuilding the preconditioner become
selects, so every branch runs every iteration, the full information included: batch many
small fits with :class:`jaxglm.Newton`, not with this solver.

A family with an m-vector ``theta`` (:class:`jaxglm.Multinomial`) runs the same iteration
on its (p+1, m) parameters: the start is :class:`jaxglm.Newton` on the subsample, the
preconditioner the subsample's block information (:func:`jaxglm._linalg.block_gram`,
``(p+1) m`` square), solved on ``params.ravel()``, and the line search's curvature
``ds_i^T h_i ds_i`` from one forward-mode derivative of each row's gradient along ``ds_i``
(:func:`jaxglm.model.curvature_along`; the (n, m, m) blocks by ``jax.hessian`` cost m of
them, and were most of an iteration's time at n = 100,000, p = 50, m = 9). The row
counts stay per column of ``[1 X]`` (``50 (p+1)`` and ``200 (p+1)``): every class's
parameters see all the subsample's rows.

Status codes: CONVERGED; MAX_ITER; NONFINITE (objective or gradient not finite);
RANK_DEFICIENT (the full information is rank deficient too); LINE_SEARCH_FAILED.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import _linalg
from jaxglm import model as M
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm._status import Status
from jaxglm.solvers._driver import AbstractSolver, iterate
from jaxglm.solvers._line_search import backtrack
from jaxglm.solvers._stopping import floored_tol, within
from jaxglm.solvers.newton import Newton, _dot

_RESTART_RATIO = 0.25  # rebuild the preconditioner when the decrement falls by less than 4x
_FAR = 1e-4  # ... or while the predicted decrease (nats per unit weight) exceeds this


class _State(NamedTuple):
    params: jax.Array  # (p+1,), or (p+1, m) for an m-vector theta
    eta: jax.Array  # (n,) or (n, m)
    f: jax.Array  # objective at params
    grad: jax.Array  # exact gradient at params (params' shape)
    curvature: jax.Array | None  # (n,): second derivatives of each row's nll at eta (None
    # for an m-vector theta: the line search takes them along its direction, M.curvature_along)
    pgrad: jax.Array  # P^-1 grad
    direction: jax.Array  # search direction (params' shape)
    factors: tuple[jax.Array, jax.Array]  # the preconditioner's Cholesky factor
    decrement: jax.Array  # grad . P^-1 grad
    exact: jax.Array  # whether the preconditioner is rebuilt from all rows from now on
    stalled: jax.Array  # whether an iteration has stalled before (the next stall: exact)
    n_iter: jax.Array
    status: jax.Array


def row_stride(n: int, rows: int) -> int:
    """The stride that takes about ``rows`` of ``n`` rows (every ``stride``-th; 1: all)."""
    return max(1, n // max(rows, 1))


def subsample_rows(problem: M.Problem, stride: int) -> M.Problem:
    """Every ``stride``-th row of ``problem`` (the objective's normalization is its own; a
    :class:`jaxglm.Design`'s rows of every block)."""
    if stride == 1:
        return problem
    w = problem.w[::stride]
    return dataclasses.replace(
        problem, X=_linalg.every_row(problem.X, stride), XT=None, y=problem.y[::stride], w=w,
        offset=problem.offset[::stride], saturated=problem.saturated[::stride],
        total_weight=jnp.sum(w),
    )  # fmt: skip


def _solve(factors: tuple[jax.Array, jax.Array], grad: jax.Array) -> jax.Array:
    """``P^-1 grad`` with the factored preconditioner, on ``grad.ravel()`` ((p+1, m)
    parameters: the order of the block information)."""
    return _linalg.solve(factors, grad.reshape(-1)).reshape(grad.shape)


@pytree_dataclass
class SubsampledNewton(AbstractSolver):
    """Newton with the Hessian from a row subsample and exact gradients, for large ``n``.

    Converges to the same estimate as :class:`jaxglm.Newton` (module docs for the method
    and the stopping rule) with one Gram product on ``hessian_rows`` rows instead of one
    on all rows per iteration. :func:`jaxglm.solvers.default_solver` picks it when ``n`` is
    large next to ``p``. The standard errors still come from the full expected information
    at the solution (one Gram product over all rows).

    Args:
        start_rows: rows (every ``k``-th) of the exact-Newton start; default ``50 (p+1)``.
        hessian_rows: rows (every ``k``-th) of the preconditioner; default
            ``max(200 (p+1), n // 10)``.
            Both are capped at ``n``; with ``hessian_rows >= n`` the preconditioner is the
            full information at the start.
        tol: tolerance (module docs), floored at 10 machine epsilons of the working dtype.
        max_iter: maximum number of iterations over all rows.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(20_000, 3))
        >>> y = rng.poisson(np.exp(0.2 + X @ np.array([0.3, -0.2, 0.1])))
        >>> sub = jg.fit(X, y, jg.Poisson(), solver=jg.SubsampledNewton(start_rows=1_000))
        >>> ref = jg.fit(X, y, jg.Poisson(), solver=jg.Newton())
        >>> bool(np.allclose(sub.params, ref.params, rtol=1e-5, atol=0))  # float32 too
        True
    """

    start_rows: int | None = static_field(default=None)
    hessian_rows: int | None = static_field(default=None)
    tol: jax.Array | float = 1e-8
    max_iter: jax.Array | int = 100

    uses_mustart = True
    supports_vector_theta = True
    supports_designs = True

    @property
    def pads_rows(self) -> bool:
        """False: its row subsamples depend on ``n`` (and at its large ``n`` a padded copy
        costs more than a compile)."""
        return False

    def _strides(self, problem: M.Problem) -> tuple[int, int]:
        n, p = problem.X.shape
        start = 50 * (p + 1) if self.start_rows is None else self.start_rows
        hessian = max(200 * (p + 1), n // 10) if self.hessian_rows is None else self.hessian_rows
        return row_stride(n, start), row_stride(n, hessian)

    def _preconditioner(self, problem: M.Problem, stride: int, params: jax.Array):
        """The factored Fisher information of every ``stride``-th row at ``params``."""
        sub = subsample_rows(problem, stride)
        eta = _linalg.linear_predictor(sub.X, params, sub.offset)
        factors, ok = _linalg.factor(M.expected_information(sub, eta))
        if stride == 1:
            return factors, ok

        def full(_):
            eta_full = _linalg.linear_predictor(problem.X, params, problem.offset)
            return _linalg.factor(M.expected_information(problem, eta_full))

        return lax.cond(ok, lambda _: (factors, ok), full, operand=None)

    def _gradient(self, problem: M.Problem, params: jax.Array, eta: jax.Array):
        """The exact gradient at ``params`` and the rows' curvature (for the line search;
        None for an m-vector theta, whose (n, m, m) blocks are never formed: the line search
        takes the curvature along its direction, :func:`jaxglm.model.curvature_along`)."""
        if problem.family.event_ndim:
            g, h = M.row_gradient(problem, eta), None
        else:
            g, h = M.row_derivatives(problem, eta, fisher=False)
        grad = M.gradient(problem, params, g)
        return (grad if problem.fit_intercept else grad.at[0].set(0.0)), h

    def init(
        self, problem: M.Problem, params: jax.Array, mu_start: jax.Array | None = None
    ) -> _State:
        start_stride, hessian_stride = self._strides(problem)
        if start_stride > 1:
            sub = subsample_rows(problem, start_stride)
            newton = Newton(tol=1e-6)
            mu_sub = None if mu_start is None else mu_start[::start_stride]
            started = iterate(newton, sub, newton.init(sub, params, mu_sub))
            params = jnp.where(started.status == Status.CONVERGED, started.params, params)
        factors, ok = self._preconditioner(problem, hessian_stride, params)
        eta = _linalg.linear_predictor(problem.X, params, problem.offset)
        f = M.objective(problem, params, eta)
        grad, curvature = self._gradient(problem, params, eta)
        pgrad = _solve(factors, grad)
        status = jnp.where(ok, Status.RUNNING, Status.RANK_DEFICIENT)
        return _State(
            params, eta, f, grad, curvature, pgrad, -pgrad, factors, _dot(grad, pgrad),
            jnp.asarray(hessian_stride == 1), jnp.asarray(False), jnp.asarray(0, jnp.int32),
            status.astype(jnp.int32),
        )  # fmt: skip

    def _line_search(self, problem: M.Problem, state: _State, ds: jax.Array):
        """Step length along ``params + t s``: one 1-D Newton step on ``t`` from 0, then Armijo.

        ``f(t)``'s second derivative at 0 comes from the rows' curvature kept in the state,
        so the first trial costs one objective evaluation (O(n), no pass over ``X``).
        """
        s = state.direction
        w = jnp.where(problem.w > 0, problem.w, 0.0) / problem.total_weight
        slope0 = _dot(state.grad, s)
        if state.curvature is None:  # ds_i^T h_i ds_i: one derivative along ds per row
            quadratic = M.curvature_along(problem, state.eta, ds)
        else:
            quadratic = state.curvature * ds * ds
        curv0 = jnp.sum(jnp.where(w > 0, w * quadratic, 0.0))
        curv0 = curv0 + _dot(M.penalty_gradient(problem, s), s)
        t = -slope0 / curv0
        t = jnp.where(jnp.isfinite(t) & (curv0 > 0) & (t > 0), t, 1.0).astype(state.f.dtype)

        def objective(t):
            return M.objective(problem, state.params + t * s, state.eta + t * ds)

        return backtrack(objective, state.f, slope0, t0=t)

    def step(self, problem: M.Problem, state: _State) -> _State:
        _, hessian_stride = self._strides(problem)
        ds = _linalg.direction(problem.X, state.direction)
        t, f, found = self._line_search(problem, state, ds)
        params = state.params + t * state.direction
        eta = state.eta + t * ds
        grad, curvature = self._gradient(problem, params, eta)
        pgrad = _solve(state.factors, grad)
        decrement = _dot(grad, pgrad)

        # Far from the optimum, or slow progress: rebuild the preconditioner here and restart
        # CG from -P^-1 g (a subsampled Newton step). Slow progress a second time (the
        # subsample misrepresents the information): from then on rebuild it from all rows
        # (exact Newton).
        stalled = decrement > _RESTART_RATIO * state.decrement
        far = decrement / 2 > _FAR
        exact = state.exact | (stalled & state.stalled)
        choice = jnp.where(stalled | far, jnp.where(exact, 2, 1), 0)

        def keep(_):
            return state.factors, jnp.asarray(True), pgrad, decrement

        def rebuild(stride):
            def branch(_):
                factors, ok = self._preconditioner(problem, stride, params)
                pg = _solve(factors, grad)
                return factors, ok, pg, _dot(grad, pg)

            return branch

        factors, ok, pgrad, decrement = lax.switch(
            choice, [keep, rebuild(hessian_stride), rebuild(1)], None
        )
        restart = choice > 0
        beta = _dot(grad, pgrad - state.pgrad) / state.decrement
        beta = jnp.where(restart | ~jnp.isfinite(beta), 0.0, jnp.maximum(beta, 0.0))
        direction = -pgrad + beta * state.direction
        direction = jnp.where(_dot(direction, grad) < 0, direction, -pgrad)

        tol = floored_tol(self.tol, f.dtype)
        # At the rounding floor (float32) the decrement of a noisy gradient cannot reach
        # tol^2: a step from a decrement within tol that lowers f by no more than rounding
        # AND no longer cuts the decrement 4x ends the fit too. f alone stalls too early at
        # large n (a 1e-2 SE error changes f by ~1e-4 / n, below float32's resolution;
        # measured on an H100: gamma-log, n = 10^6, stopped at 3.6e-2 SE), the gradient
        # keeps improving until its own rounding.
        stagnant = (f >= state.f - 16 * jnp.finfo(f.dtype).eps * jnp.abs(state.f)) & (
            decrement > state.decrement / 4
        )
        converged = within(decrement, f, tol**2, problem.total_weight) | (
            stagnant & within(state.decrement, state.f, tol, problem.total_weight)
        )
        status = jnp.select(
            [~ok, converged, ~found],
            [Status.RANK_DEFICIENT, Status.CONVERGED, Status.LINE_SEARCH_FAILED],
            Status.RUNNING,
        )
        return _State(
            params, eta, f, grad, curvature, pgrad, direction, factors, decrement, exact,
            state.stalled | stalled, state.n_iter + 1, status.astype(jnp.int32),
        )  # fmt: skip

    def information(self, problem: M.Problem, state: _State) -> jax.Array:
        return M.expected_information(problem, state.eta)

    def curvature(self, problem: M.Problem, state: _State) -> tuple[jax.Array, jax.Array]:
        """The preconditioner's factor (subsampled information: CG for the derivative)."""
        return state.factors

    @property
    def name(self) -> str:
        return "SubsampledNewton"
