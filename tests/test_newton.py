"""Newton's Gram products: one per quadratic model it builds, none at a point that the
step taken to it already certified, and no Fisher fallback a batch does not need.

The products are counted by a debug callback around :func:`jaxglm._linalg.gram` on the
Newton loop alone (:func:`jaxglm.solvers.iterate`), ``vmap``-ed over three members: small
programs of this file's own (n = 80, p = 3).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import simulate

import jaxglm as jg
from jaxglm import _linalg
from jaxglm import model as M
from jaxglm.solvers import iterate


@pytest.fixture
def grams(monkeypatch):
    """The number of Gram products run since the last reset (``grams[0]``): one per member
    of a batched product."""
    count = [0]
    gram = _linalg.gram

    def counted(X, h):
        def add(h):
            count[0] += h.shape[0] if h.ndim > 1 else 1

        jax.debug.callback(add, h)
        return gram(X, h)

    monkeypatch.setattr(_linalg, "gram", counted)
    return count


def _problem(family, link, X, y):
    w = jnp.ones(y.shape[0])
    return M.Problem(
        X=X, y=y, w=w, offset=jnp.zeros_like(y), saturated=family.saturated_loglik(y),
        total_weight=jnp.sum(w), penalty=jnp.zeros(X.shape[1] + 1), family=family, link=link,
    )  # fmt: skip


def _newton(family, link):
    """The Newton loop from R's start; returns the problem and the final state."""

    def run(X, y):
        problem = _problem(family, link, X, y)
        solver = jg.Newton()
        mu_start = family.mustart(y, problem.w)
        return problem, iterate(
            solver, problem, solver.init(problem, M.null_params(problem), mu_start)
        )

    return run


def _members(family, seeds=(1, 2, 3)):
    data = [simulate(family, seed=s) for s in seeds]
    return jnp.asarray(np.stack([d[0] for d in data])), jnp.asarray(np.stack([d[1] for d in data]))


def test_no_model_is_built_at_a_certified_solution(grams):
    """Poisson: fits that end on a step from within tol form n_iter Gram products under
    vmap (the models at R's start and after each step but the last; the batch runs its
    slowest member's steps); the information at the solution is then one product more,
    and it is the expected information there."""
    X, Y = _members(jg.Poisson())
    problems, states = jax.jit(jax.vmap(_newton(jg.Poisson(), jg.Log())))(X, Y)
    jax.block_until_ready(states)
    assert np.all(np.asarray(states.status) == jg.Status.CONVERGED)
    assert not np.isfinite(np.asarray(states.decrement)).any()  # no model at the solution
    assert grams[0] == 3 * int(np.max(states.n_iter))

    grams[0] = 0
    info = jax.jit(jax.vmap(jg.Newton().information))(problems, states)
    jax.block_until_ready(info)
    assert grams[0] == 3
    expected = jax.vmap(M.expected_information)(problems, states.eta)
    np.testing.assert_allclose(info, expected, rtol=1e-13, atol=1e-15)


def test_batched_non_canonical_fits_skip_the_unneeded_fisher_matrix(grams):
    """Gamma with the log link (not canonical): where every member's observed Hessian
    factors, a batched step forms one Gram product per member (lax.cond would form the
    Fisher fallback's too)."""
    X, Y = _members(jg.Gamma())
    _, states = jax.jit(jax.vmap(_newton(jg.Gamma(), jg.Log())))(X, Y)
    jax.block_until_ready(states)
    assert np.all(np.asarray(states.status) == jg.Status.CONVERGED)
    assert grams[0] <= 3 * (int(np.max(states.n_iter)) + 1)
