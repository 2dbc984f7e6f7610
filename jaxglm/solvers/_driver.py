"""The one loop: a bounded ``lax.while_loop`` over a solver's pure step function.

A solver is ``init(problem, params) -> state``, ``step(problem, state) -> state`` and
``terminate(problem, state) -> bool``; its state carries ``n_iter`` and ``status``
(:class:`jaxglm.Status`). Under ``jax.vmap`` the loop runs until every member has
terminated, and JAX's batching rule for ``while_loop`` keeps finished members unchanged,
so each member's result is exactly its own.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm._status import Status
from jaxglm.model import Problem


class AbstractSolver(abc.ABC):
    """Interface of a solver: three pure functions, its own defaults, its final information.

    Its state is a NamedTuple with at least ``params`` ((p+1,), intercept first), ``eta``,
    ``n_iter`` and ``status``.
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
    uses_mustart: ClassVar[bool] = False
    """Whether ``init`` builds its first model from ``mu_start`` (R's start) itself; for the
    others the pipeline starts them from R's start when the intercept-only point is
    outside the link's mean range (:func:`jaxglm.model.start_params`)."""

    @property
    def pads_rows(self) -> bool:
        """Whether rows of weight 0 appended to the data leave its iterations unchanged (the
        pipeline then pads ``n`` to size buckets and shares compiled programs)."""
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
    def terminate(self, problem: Problem, state: Any) -> jax.Array:
        """Whether to stop (converged or failed); the driver adds the ``max_iter`` bound."""

    @abc.abstractmethod
    def information(self, problem: Problem, state: Any) -> jax.Array | None:
        """The (p+1, p+1) expected information per unit weight at the final state.

        That is :func:`jaxglm.model.expected_information` at the solution; a solver may
        return a matrix it already holds when that is the same one, or None when it does
        not compute it (the covariance is then NaN, and no p x p work is done).
        """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The solver's name as printed in summaries."""


def iterate(solver: AbstractSolver, problem: Problem, state: Any) -> Any:
    """Run ``solver.step`` until ``terminate`` or ``max_iter`` steps; mark ``MAX_ITER``."""

    def cond(s):
        return (~solver.terminate(problem, s)) & (s.n_iter < solver.max_iter)

    state = lax.while_loop(cond, lambda s: solver.step(problem, s), state)
    status = jnp.where(state.status == Status.RUNNING, Status.MAX_ITER, state.status)
    return state._replace(status=status.astype(state.status.dtype))
