"""The one loop: a bounded ``lax.while_loop`` over a solver's pure step function.

A solver is ``init(problem, params) -> state`` and ``step(problem, state) -> state``; its
state is a NamedTuple carrying at least ``params``, ``eta``, ``f`` (the objective),
``grad`` (a gradient whose finiteness stands for the point's), ``n_iter`` and ``status``
(:class:`jaxglm.Status`). The driver owns the decisions every solver shares:

* it steps while ``status`` is RUNNING and ``n_iter < max_iter``;
* after each step, a non-finite ``f`` or ``grad`` is NONFINITE, except for a step from
  ``n_iter = -1``: a solver that builds its first model at R's start (``mu_start``) takes
  that step whatever the objective at the starting point (e.g. ``beta = 0`` outside an
  identity link's mean range without an intercept);
* a member still RUNNING after ``max_iter`` steps is MAX_ITER;
* the iterations are not differentiated: the loop runs on ``lax.stop_gradient`` of the
  problem and the starting state, and the final ``params`` and ``eta`` carry the
  derivative of the solution (the implicit function theorem, :mod:`jaxglm._implicit`).

Under ``jax.vmap`` the loop runs until every member has finished, and JAX's batching rule
for ``while_loop`` keeps finished members unchanged, so each member's result is exactly its
own.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import _implicit
from jaxglm._status import Status
from jaxglm.model import Problem


class AbstractSolver(abc.ABC):
    """Interface of a solver: two pure functions, its own defaults, its final information.

    Its state is a NamedTuple with at least ``params`` ((p+1,), intercept first), ``eta``,
    ``f``, ``grad``, ``n_iter`` and ``status`` (module docs).
    """

    tol: Any
    max_iter: Any

    # Capabilities: what the pipeline may ask of the solver (read there, never tested by
    # the solver's class outside solvers/).
    supports_l1: ClassVar[bool] = False
    """Whether it minimizes an L1 / elastic-net penalty (``problem.l1``, exact zeros)."""
    warm_starts: ClassVar[bool] = False
    """Whether it continues along a path: ``carry(state)``, ``first_carry(problem, params)``
    and ``init(..., carry=)`` reuse the previous fit's quantities."""
    supports_vector_theta: ClassVar[bool] = False
    """Whether it runs a family with an m-vector ``theta`` ((p+1, m) parameters, the
    (n, m, m) row blocks of :func:`jaxglm.model.row_derivatives`)."""
    supports_designs: ClassVar[bool] = False
    """Whether it runs on a :class:`jaxglm.Design` (categorical and sparse blocks): it
    touches ``X`` only through :mod:`jaxglm._linalg`'s products."""
    max_design_columns: ClassVar[int | None] = None
    """The most columns ``p`` of a :class:`jaxglm.Design` it runs (a solver that forms a
    dense ``(p+1) x (p+1)`` matrix), or None: no limit."""
    uses_mustart: ClassVar[bool] = False
    """Whether ``init`` builds its first model from ``mu_start`` (R's start) itself; for the
    others the pipeline starts them from R's start when the intercept-only point is
    outside the link's mean range (:func:`jaxglm.model.start_params`)."""

    @property
    def pads_rows(self) -> bool:
        """Whether rows of weight 0 appended to the data leave its iterations unchanged (the
        pipeline then pads ``n`` to size buckets and shares compiled programs)."""
        return True

    @property
    def shards_rows(self) -> bool:
        """Whether it runs on rows sharded over devices (:func:`jaxglm.shard_rows`): its
        reductions over rows are sums, which XLA turns into all-reduces."""
        return True

    @abc.abstractmethod
    def init(self, problem: Problem, params: jax.Array, mu_start: jax.Array | None = None) -> Any:
        """The state at the starting ``params`` (intercept first).

        ``mu_start`` is an optional (n,) starting mean (R's ``mustart``) that a solver may
        use to build its first model; others ignore it.
        """

    @abc.abstractmethod
    def step(self, problem: Problem, state: Any) -> Any:
        """One iteration."""

    @abc.abstractmethod
    def information(self, problem: Problem, state: Any) -> jax.Array | None:
        """The (p+1, p+1) expected information per unit weight at the final state.

        That is :func:`jaxglm.model.expected_information` at the solution; a solver may
        return a matrix it already holds when that is the same one, or None when it does
        not compute it (the covariance is then NaN, and no p x p work is done).
        """

    @abc.abstractmethod
    def curvature(self, problem: Problem, state: Any) -> tuple[jax.Array, jax.Array] | None:
        """A factored (:func:`jaxglm._linalg.factor`) approximation of the objective's
        Hessian at the final state that the solver already holds, or None.

        It preconditions the linear solve of a derivative (:mod:`jaxglm._implicit`), which
        is exact whatever the approximation; None: the derivative factors the observed
        Hessian at the solution (one Gram product, only when differentiated).
        """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The solver's name as printed in summaries."""


def iterate(solver: AbstractSolver, problem: Problem, state: Any) -> Any:
    """Run ``solver.step`` while RUNNING, at most ``max_iter`` steps (module docs: the
    NONFINITE and MAX_ITER decisions, the derivative of the solution)."""
    fixed = lax.stop_gradient(problem)

    def cond(s):
        return (s.status == Status.RUNNING) & (s.n_iter < solver.max_iter)

    def body(s):
        new = solver.step(fixed, s)
        finite = (jnp.isfinite(new.f) | (s.n_iter < 0)) & jnp.all(jnp.isfinite(new.grad))
        status = jnp.where(finite, new.status, Status.NONFINITE)
        return new._replace(status=status.astype(new.status.dtype))

    state = lax.while_loop(cond, body, lax.stop_gradient(state))
    status = jnp.where(state.status == Status.RUNNING, Status.MAX_ITER, state.status)
    state = state._replace(status=status.astype(state.status.dtype))
    return _implicit.at_solution(solver, problem, state)
