"""Conditionals under ``jax.vmap`` that skip a branch no member of the batch needs.

``lax.cond`` with a batched predicate turns into a ``select`` of both branches, so that
every member of a batch pays for a branch only some (or none) of them take: a Gram product
and a factorization per member for :func:`jaxglm._statistics.separation_status`'s Fisher
step, or for a Newton step's model (:class:`jaxglm.Newton`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax


def cond_any(pred: jax.Array, true_fn, false_fn, operand: Any) -> Any:
    """``lax.cond(pred, true_fn, false_fn, operand)`` whose batched form (under ``jax.vmap``
    with a batched ``pred``) runs ``true_fn`` for the members only when some member's
    ``pred`` holds (module docs); ``false_fn`` runs for every member. The members' results
    are theirs either way. ``true_fn`` and ``false_fn`` must not close over traced values;
    it has no derivative rule: pass operands under ``lax.stop_gradient``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = lambda x: cond_any(x > 0, jnp.sqrt, lambda x: -x, x)
        >>> jax.vmap(f)(jnp.array([4.0, -1.0])).tolist()
        [2.0, 1.0]
    """

    @jax.custom_batching.custom_vmap
    def run(pred, operand):
        return lax.cond(pred, true_fn, false_fn, operand)

    @run.def_vmap
    def run_batched(axis_size, in_batched, pred, operand):
        pred_batched, operand_batched = in_batched
        axes = jax.tree.map(lambda b: 0 if b else None, operand_batched)

        def each(fn):
            return lambda ops: jax.vmap(fn, in_axes=(axes,), axis_size=axis_size)(ops)

        def batched(out):  # every output carries the batch axis
            return out, jax.tree.map(lambda _: True, out)

        if not pred_batched:
            return batched(each(lambda ops: lax.cond(pred, true_fn, false_fn, ops))(operand))

        def mixed(ops):
            taken, other = each(true_fn)(ops), each(false_fn)(ops)
            return jax.tree.map(
                lambda a, b: jnp.where(pred.reshape(pred.shape + (1,) * (a.ndim - 1)), a, b),
                taken, other,
            )  # fmt: skip

        return batched(lax.cond(jnp.any(pred), mixed, each(false_fn), operand))

    return run(pred, operand)
