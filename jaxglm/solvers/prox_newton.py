r"""Proximal Newton for L1 / elastic-net penalties (glmnet's and glum's method).

The objective is the core's smooth part plus an L1 term,

.. math:: F(\beta) = \sum_i w_i\, \mathrm{nll}_i / \sum_i w_i
          + \tfrac12 \sum_j r_j \beta_j^2 + \sum_j l_j |\beta_j|,

with ``r = alpha (1 - l1_ratio) f`` and ``l = alpha l1_ratio f`` (0 at the intercept).

Step: at ``beta`` the smooth part is replaced by its quadratic model (the exact gradient
``g`` and a model ``H`` of the Hessian: a Fisher-weighted Gram product, positive
semidefinite for any link, kept up to date by BFGS, plus the ridge), and the model plus
the L1 term is minimized over ``z`` by FISTA (accelerated proximal gradient, the default)
or cyclic coordinate descent with glmnet's covariance updates: either inner loop touches
only the (p+1) x (p+1) matrix ``H``, never ``X`` (``O(p^2)`` per iteration), and
soft-thresholding gives exact zeros. The inner loop stops when no coordinate moves by more
than ``max(tol / 10, kkt / 100)`` of its scale (inexact early, exact near the end; or after
``inner_max_iter`` iterations). Then a backtracking line search on ``F`` along
``d = z - beta`` with the proximal decrease
``Delta = g.d + sum_j l_j (|beta_j + d_j| - |beta_j|) < 0`` (Armijo:
``F(beta + t d) <= F(beta) + 1e-4 t Delta``; Lee, Sun & Saunders 2014); each trial computes
the objective and the rows' derivatives in one elementwise pass, so the accepted trial's
rows give the new gradient with one pass over ``X``. A step costs two passes over ``X``
(``X d``, then ``X^T r``) and ``O(n + p^2)`` besides. On a path (with its row-major copy
of ``X.T``) a step that moves at most a quarter of the slopes (an L1 path's early alphas:
few columns in use) forms ``X d`` from those columns alone
(:func:`jaxglm._linalg.sparse_direction_rows`; measured in benchmarks/RESULTS.md,
2026-12-07, issue 19 target 5).

The Hessian model. A Gram product costs ``n p^2`` (30 passes' worth at p = 200), so it is
formed rarely: once at a fit's start (on a path, once for the whole path: each alpha
starts from the previous alpha's model, point, linear predictor and gradient, with no pass
over ``X``), and again only when a step cut the KKT violation less than 4x or its direction
failed the line search (only a failed line search from a fresh Gram is a failure).
Between refreshes every step updates the model by BFGS with the secant pair ``s`` (the
step) and ``y`` (the change of the data gradient, already computed), skipped unless
``s.y > 0``: the model tracks the Hessian as the point moves. Measured on the elastic-net
logistic path of ``benchmarks/enet_path.py`` (n = 100,000, p = 200, 100 alphas, KKT
tolerance 1e-6, one process, the code otherwise the same): 318 steps and 11.5 s without the
update, 234 steps, 4 Grams and 10.2 s with it. With the rest of this module's choices
(FISTA's backtracking, the inexact inner solve) the path takes 256 steps and 1 Gram. FISTA
runs in Jacobi-scaled coordinates (``u = sqrt(diag H) z``: the model's curvature has a unit
diagonal), so a column in large units does not dictate one tiny step for all (unscaled, an
identity-link fit on statsmodels' cpunish with INCOME in dollars beside a 0/1 column stopped
at MAX_ITER far from the optimum); its step ``1 / L`` backtracks (``L`` doubles when a move
shows more curvature than ``L``) from the largest eigenvalue of the scaled model at the
last Gram, so the updated model needs no eigendecomposition.

Under ``jax.vmap`` (CV folds) the refresh decision is taken for all members at once (a
custom batching rule): a ``lax.cond`` with a batched predicate would run both branches, and
so form every member's Gram at every step.

Stopping rule: the largest violation of the KKT conditions of ``F`` at the current point,
``|g_j + r_j beta_j + l_j sign(beta_j)|`` for a non-zero ``beta_j`` and
``max(|g_j + r_j beta_j| - l_j, 0)`` for a zero one, at most ``tol`` (the gradient is the
objective's, per unit weight). The state keeps it (``kkt``), reported as
``res.kkt_violation``.

A family with an m-vector ``theta`` (:class:`jaxglm.Multinomial`) runs the same steps on
``params.ravel()`` ((p+1, m) parameters, each feature's weights ``r_j``, ``l_j`` on all its
``m`` entries: the elementwise elastic net of glmnet's ungrouped multinomial): the model's
matrix is the block Gram (:func:`jaxglm.model.data_hessian`) plus the smooth penalty's
Hessian (:func:`jaxglm.model.penalty_hessian`, with a symmetric Multinomial's centering).

Designs (:class:`jaxglm.Design`). The steps touch ``X`` only through the core's products
(``X d``, ``X^T r``, the Gram), so a design's blocks give them without a one-hot matrix:
its Gram comes from segment sums over the codes (:mod:`jaxglm.designs`), assembled as a
dense ``(p+1) x (p+1)`` model, because the inner solvers, the BFGS update and the
eigenvalue of FISTA's first step need the whole matrix (a BFGS update fills the diagonal
block of a categorical that Newton's solve eliminates). Its cost, ``(p+1)^2`` memory and
``(p+1)^3`` flops per Gram refresh (the eigenvalues), grows with the levels: designs of
more than :data:`DESIGN_MAX_P` columns (levels counted) are refused with a ValueError
(a ridge penalty runs on Newton, which eliminates a large categorical block).

Status codes: CONVERGED, MAX_ITER, NONFINITE, LINE_SEARCH_FAILED. Standard errors are not
computed (:meth:`information` is None): with an L1 penalty they are not defined by the
usual asymptotics, and ``bse`` is NaN.

Measured choice of the inner solver (CPU, 2 cores, elastic-net logistic path of 100
alphas, n = 10,000, p = 50, `/tmp` script over :func:`jaxglm.path`, one machine load, before
the BFGS update): the same 437 outer steps and answers (6e-8 apart) took 3.87 s with
coordinate descent and 2.41 s with FISTA. On the CPU a coordinate-descent sweep is
``p + 1`` dependent scalar updates inside a ``fori_loop`` (each a small dispatched kernel),
a FISTA iteration one dense ``(p+1) x (p+1)`` matrix-vector product, so FISTA is the
default; coordinate descent stays available (``inner="cd"``) and needs fewer,
cheaper-in-flops passes on badly conditioned models.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import _linalg
from jaxglm import model as M
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm._status import Status
from jaxglm.solvers._driver import AbstractSolver
from jaxglm.solvers._line_search import backtrack_with_rows
from jaxglm.solvers._stopping import floored_tol

INNER_FRACTION = 0.01

DESIGN_MAX_P = 2048
"""The most columns ``p`` of a :class:`jaxglm.Design` that :class:`ProxNewton` runs: its
model is a dense ``(p+1) x (p+1)`` matrix (33 MB in float64 at this size), whose
eigenvalues each Gram refresh computes (module docs)."""


class _ProxState(NamedTuple):
    params: jax.Array
    eta: jax.Array
    grad: jax.Array  # gradient of the data part at params (no penalty), params' shape
    f: jax.Array  # full objective F
    kkt: jax.Array  # max KKT violation at params
    gram: jax.Array  # (k, k) data Hessian model of params.ravel(): the last Fisher Gram,
    # BFGS-updated since
    lmax: jax.Array  # estimate of the Jacobi-scaled gram's top eigenvalue (FISTA's first L)
    refresh: jax.Array  # whether the next step recomputes gram at its point
    n_iter: jax.Array
    status: jax.Array


class PathCarry(NamedTuple):
    """A converged fit's quantities that the next fit on a path reuses (at its params)."""

    eta: jax.Array
    score: jax.Array
    gram: jax.Array
    lmax: jax.Array


def _jacobi(matrix: jax.Array) -> jax.Array:
    """``sqrt(diag)`` of a (p+1) x (p+1) curvature matrix (1 where the diagonal is not
    positive): the scales of FISTA's coordinates."""
    diag = jnp.diagonal(matrix)
    return jnp.sqrt(jnp.where(diag > 0, diag, 1.0))


def _largest_eigenvalue(gram: jax.Array) -> jax.Array:
    """The top eigenvalue of the Jacobi-scaled ``D^-1 gram D^-1`` (``D`` = :func:`_jacobi`):
    FISTA's first ``L``, in its scaled coordinates."""
    d = _jacobi(gram)
    return jnp.linalg.eigvalsh(gram / jnp.outer(d, d))[-1]


def _fisher_gram(problem: M.Problem, eta: jax.Array) -> jax.Array:
    """``[1 X]^T diag(w h) [1 X] / sum w`` with Fisher weights (no penalty), as one dense
    matrix (a design's blocks assembled: module docs)."""
    _, h_rows = M.row_derivatives(problem, eta, fisher=True)
    return _linalg.as_dense(M.data_hessian(problem, h_rows))


@jax.custom_batching.custom_vmap
def _refreshed(refresh, problem, eta, gram, lmax):
    """``(gram, lmax)`` recomputed at ``eta`` when ``refresh``, else as given.

    Under ``jax.vmap`` (CV folds, independent alphas) a ``lax.cond`` with a batched
    predicate becomes a select that runs both branches, so every member would form its Gram
    at every step; the batching rule instead skips when no member refreshes and otherwise
    maps over the members with one ``cond`` each.
    """

    def fresh():
        new = _fisher_gram(problem, eta)
        return new, _largest_eigenvalue(new)

    return lax.cond(refresh, fresh, lambda: (gram, lmax))


@_refreshed.def_vmap
def _refreshed_vmap(axis_size, in_batched, *args):
    leaves, tree = jax.tree.flatten(args)
    flags = jax.tree.leaves(in_batched)

    def member(mapped):
        it = iter(mapped)
        full = [next(it) if b else leaf for leaf, b in zip(leaves, flags, strict=True)]
        return _refreshed.fun(*jax.tree.unflatten(tree, full))

    mapped = [leaf for leaf, b in zip(leaves, flags, strict=True) if b]
    refresh, _, _, gram, lmax = args
    _, _, _, gram_batched, lmax_batched = in_batched

    def kept():
        def stacked(a, batched):
            return a if batched else jnp.broadcast_to(a, (axis_size, *a.shape))

        return stacked(gram, gram_batched), stacked(lmax, lmax_batched)

    # One decision for all members first: most steps refresh none.
    out = lax.cond(jnp.any(refresh), lambda: lax.map(member, mapped), kept)
    return out, (True, True)


def _bfgs_update(gram: jax.Array, s: jax.Array, y: jax.Array) -> jax.Array:
    """The BFGS update of the Hessian model ``gram`` with the step ``s`` and the change
    ``y`` of the data gradient, skipped unless the curvature ``s.y`` is positive."""
    bs = gram @ s
    sbs, sy = jnp.dot(s, bs), jnp.dot(s, y)
    ok = (sbs > 0) & (sy > 1e-10 * sbs)
    new = (
        gram
        - jnp.outer(bs, bs) / jnp.where(ok, sbs, 1.0)
        + jnp.outer(y, y) / jnp.where(ok, sy, 1.0)
    )
    return jnp.where(ok, new, gram)


def _soft_threshold(u: jax.Array, level: jax.Array) -> jax.Array:
    """``sign(u) max(|u| - level, 0)``: the proximal map of ``level |.|``; exact zeros."""
    return jnp.sign(u) * jnp.maximum(jnp.abs(u) - level, 0.0)


def l1_term(problem: M.Problem, params: jax.Array) -> jax.Array:
    """``sum_j l_j |params_j|`` (0 without an L1 penalty; a row's weight for each of its
    ``m`` entries with (p+1, m) parameters)."""
    if problem.l1 is None:
        return jnp.zeros((), params.dtype)
    return jnp.sum(M.per_row(problem.l1, params) * jnp.abs(params))


def kkt_violation(problem: M.Problem, params: jax.Array, grad: jax.Array) -> jax.Array:
    """Largest violation of the KKT conditions of the penalized objective.

    ``grad`` is the gradient of the smooth part (ridge included), in ``params``' shape;
    the intercepts are free (or pinned at 0 without them).
    """
    l1 = jnp.zeros(params.shape[0], params.dtype) if problem.l1 is None else problem.l1
    l1 = M.per_row(l1, params)
    active = jnp.abs(grad + l1 * jnp.sign(params))
    inactive = jnp.maximum(jnp.abs(grad) - l1, 0.0)
    v = jnp.where(params != 0, active, inactive)
    if not problem.fit_intercept:
        v = v.at[0].set(0.0)
    return jnp.max(v)


@pytree_dataclass
class ProxNewton(AbstractSolver):
    """Proximal Newton: FISTA or coordinate descent on the quadratic model (module docs).

    Args:
        tol: tolerance on the largest KKT violation (objective per unit weight), floored at
            10 machine epsilons of the working dtype (1.2e-6 in float32, where the
            gradient's own rounding is about 1e-7: a smaller violation cannot be certified
            and the iteration would stop at ``max_iter``).
        max_iter: maximum outer (Newton) steps.
        inner_max_iter: maximum coordinate-descent sweeps (FISTA iterations) per outer step.
        inner: ``"fista"`` (accelerated proximal gradient with adaptive restart, step
            ``1 / lambda_max(H)``; the default) or ``"cd"`` (cyclic coordinate descent) for
            the quadratic model (module docs: measured).

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 5))
        >>> y = (X[:, 0] - X[:, 1] + rng.normal(size=200) > 0).astype(float)
        >>> res = jg.fit(X, y, family=jg.Bernoulli(), alpha=0.05, l1_ratio=1.0)
        >>> res.solver_name, int((np.asarray(res.coef) == 0).sum()) >= 1
        ('ProxNewton', True)
    """

    tol: jax.Array | float = 1e-8
    max_iter: jax.Array | int = 100
    inner_max_iter: jax.Array | int = 1000
    inner: str = static_field(default="fista")

    supports_l1 = True
    warm_starts = True
    supports_vector_theta = True
    supports_designs = True
    max_design_columns = DESIGN_MAX_P

    def _score(self, problem: M.Problem, eta: jax.Array) -> jax.Array:
        """The data part's gradient (no penalty): one pass over ``X``."""
        g_rows, _ = M.row_derivatives(problem, eta, fisher=True)
        return M.data_gradient(problem, g_rows)

    def _direction(self, problem: M.Problem, d: jax.Array) -> jax.Array:
        """``X d`` for a step ``d``: over the rows of ``X.T`` that it moves when few
        (:func:`jaxglm._linalg.sparse_direction_rows`; scalar ``theta`` with a row-major
        ``X.T``), else the core's product."""
        if d.ndim != 1 or problem.XT is None:
            return M.direction(problem, d)
        return _linalg.sparse_direction_rows(problem.XT, d)

    def _full_objective(self, problem: M.Problem, params: jax.Array, eta: jax.Array):
        return M.objective(problem, params, eta) + l1_term(problem, params)

    def init(
        self,
        problem: M.Problem,
        params: jax.Array,
        mu_start=None,
        carry: PathCarry | None = None,
    ) -> _ProxState:
        """The state at ``params``; ``carry`` (the previous fit's on a path, at ``params``)
        supplies the linear predictor, the data gradient and the Gram, so the state costs
        no pass over ``X``."""
        if carry is None:
            eta = _linalg.linear_predictor(problem.X, params, problem.offset)
            score = self._score(problem, eta)
            k = params.size
            gram, lmax = jnp.zeros((k, k), params.dtype), jnp.zeros((), params.dtype)
            refresh = jnp.asarray(True)
        else:
            eta, score, gram, lmax = carry.eta, carry.score, carry.gram, carry.lmax
            refresh = jnp.asarray(False)
        kkt = kkt_violation(problem, params, score + M.penalty_gradient(problem, params))
        tol = floored_tol(self.tol, params.dtype)
        status = jnp.where(kkt <= tol, Status.CONVERGED, Status.RUNNING)
        return _ProxState(
            params, eta, score, self._full_objective(problem, params, eta), kkt, gram, lmax,
            refresh, jnp.asarray(0, jnp.int32), status.astype(jnp.int32),
        )  # fmt: skip

    def carry(self, state: _ProxState) -> PathCarry:
        """What the next fit on a path starts from (:meth:`init`)."""
        return PathCarry(state.eta, state.grad, state.gram, state.lmax)

    def first_carry(self, problem: M.Problem, params: jax.Array) -> PathCarry:
        """A :class:`PathCarry` at ``params`` with a fresh Gram (a path's first fit)."""
        eta = _linalg.linear_predictor(problem.X, params, problem.offset)
        gram = _fisher_gram(problem, eta)
        return PathCarry(eta, self._score(problem, eta), gram, _largest_eigenvalue(gram))

    def _coordinate_descent(self, params, grad, hess, l1, tol):
        """Minimize ``g.(z - b) + (z - b)^T H (z - b) / 2 + sum l |z|`` over flat ``z``."""
        k = params.shape[0]
        diag = jnp.diagonal(hess)
        safe = jnp.where(diag > 0, diag, 1.0)
        scale = jnp.sqrt(safe)  # moves compared in units of the coordinate's curvature

        def coordinate(j, carry):
            z, r, moved = carry  # r = H (z - params)
            c = grad[j] + r[j]  # model gradient at z in coordinate j
            u = diag[j] * z[j] - c
            zj = _soft_threshold(u, l1[j]) / safe[j]
            zj = jnp.where(diag[j] > 0, zj, z[j])
            delta = zj - z[j]
            return (
                z.at[j].set(zj),
                r + delta * hess[:, j],
                jnp.maximum(moved, jnp.abs(delta) * scale[j]),
            )

        def sweep(carry):
            z, r, _, it = carry
            z, r, moved = lax.fori_loop(0, k, coordinate, (z, r, jnp.zeros((), z.dtype)))
            return z, r, moved, it + 1

        def going(carry):
            _, _, moved, it = carry
            return (moved > tol) & (it < self.inner_max_iter)

        init = (params, jnp.zeros_like(params), jnp.asarray(jnp.inf, params.dtype), 0)
        z, _, _, _ = lax.while_loop(going, sweep, init)
        return z

    def _fista(self, params, grad, hess, l1, lipschitz, tol):
        """The same model minimized by FISTA with gradient-based restart (O'Donoghue and
        Candes 2015) and Beck and Teboulle's backtracking on the step ``1 / L``, in the
        Jacobi-scaled coordinates ``u = D z`` (``D = sqrt(diag H)``: the model's curvature is
        ``D^-1 H D^-1``, with unit diagonal, and the L1 weights become ``l / D``), so that a
        column in large units does not set one step for all: one (p+1) x (p+1)
        matrix-vector product per iteration. ``lipschitz`` is the first ``L`` (scaled); an
        iteration whose move ``du`` has ``du' Hs du > L |du|^2`` is rejected and ``L``
        raised. Returns ``(z, L)``."""
        d = _jacobi(hess)
        hess = hess / jnp.outer(d, d)
        level = l1 / d
        offset = grad / d - hess @ (d * params)  # the model's gradient at u is offset + Hs u
        u0 = d * params

        def body(carry):
            z, y, hz, hy, t, L, _, it = carry
            z_new = _soft_threshold(y - (offset + hy) / L, level / L)
            hz_new = hess @ z_new
            dz = z_new - y
            dd = jnp.dot(dz, dz)
            curvature = jnp.dot(dz, hz_new - hy)
            fits = curvature <= L * dd * (1.0 + 1e-12)
            restart = jnp.dot(y - z_new, z_new - z) > 0
            t1 = jnp.where(restart, 1.0, t)
            t_new = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t1 * t1))
            beta = (t1 - 1.0) / t_new
            moved = jnp.max(jnp.abs(z_new - z))
            accepted = (
                z_new, z_new + beta * (z_new - z), hz_new, hz_new + beta * (hz_new - hz),
                t_new, L, moved, it + 1,
            )  # fmt: skip
            larger = jnp.maximum(2.0 * L, 1.5 * curvature / jnp.where(dd > 0, dd, 1.0))
            rejected = (z, y, hz, hy, t, larger, jnp.asarray(jnp.inf, L.dtype), it + 1)
            return jax.tree.map(lambda a, r: jnp.where(fits, a, r), accepted, rejected)

        def going(carry):
            return (carry[6] > tol) & (carry[7] < self.inner_max_iter)

        one = jnp.ones((), params.dtype)
        hp = hess @ u0
        L = jnp.where(lipschitz > 0, lipschitz, 1.0).astype(params.dtype)
        init = (u0, u0, hp, hp, one, L, jnp.asarray(jnp.inf, params.dtype), 0)
        out = lax.while_loop(going, body, init)
        return out[0] / d, out[5]

    def step(self, problem: M.Problem, state: _ProxState) -> _ProxState:
        # The model is on params.ravel() ((p+1) m entries for (p+1, m) parameters).
        shape, width = state.params.shape, M.intercept_width(state.params)
        b = state.params.reshape(-1)
        grad = (state.grad + M.penalty_gradient(problem, state.params)).reshape(-1)
        gram, lmax = _refreshed(state.refresh, problem, state.eta, state.gram, state.lmax)
        ridge = M.penalty_hessian(problem, width)
        hess = gram + ridge
        # Weyl, in FISTA's scaled coordinates: the ridge adds a diagonal of at most
        # max(penalty / diag H) (and shrinks the gram's scaled entries); pinning the
        # intercept adds the eigenvalue 1. (A symmetric Multinomial's centering term adds
        # more: FISTA's backtracking raises L when a move shows it.)
        ridge_scaled = jnp.max(jnp.diagonal(ridge) / _jacobi(hess) ** 2)
        lipschitz = lmax + ridge_scaled
        if not problem.fit_intercept:  # the intercepts stay at 0
            hess, grad = _linalg.pin_intercept(hess, grad, False, width)
            lipschitz = jnp.maximum(lipschitz, 1.0)
        l1 = M.l1_weights(problem, state.params)
        tol = floored_tol(self.tol, b.dtype)
        inner_tol = jnp.maximum(0.1 * tol, INNER_FRACTION * state.kkt)
        if self.inner == "cd":
            z = self._coordinate_descent(b, grad, hess, l1, inner_tol)
        else:
            z, lipschitz = self._fista(b, grad, hess, l1, lipschitz, inner_tol)
            lmax = lipschitz - ridge_scaled
        d = (z - b).reshape(shape)
        d_eta = self._direction(problem, d)
        decrease = jnp.dot(grad, z - b) + jnp.sum(l1 * (jnp.abs(z) - jnp.abs(b)))

        def objective_and_rows(t):
            params_t = state.params + t * d
            f, g = M.objective_and_rows(problem, params_t, state.eta + t * d_eta)
            return f + l1_term(problem, params_t), g

        t, f, g_rows, found = backtrack_with_rows(
            objective_and_rows, state.f, jnp.minimum(decrease, 0.0)
        )
        params = state.params + t * d
        eta = state.eta + t * d_eta
        # The accepted trial's rows give the new data gradient (one pass); none accepted:
        # the point has not moved.
        score = jnp.where(found, M.data_gradient(problem, g_rows), state.grad)
        gram = _bfgs_update(gram, (t * d).reshape(-1), (score - state.grad).reshape(-1))
        kkt = kkt_violation(problem, params, score + M.penalty_gradient(problem, params))
        # A stale model (an earlier point's Gram) that cut the KKT violation less than 4x,
        # or whose direction failed the line search, is rebuilt at the next step.
        refresh = (kkt > 0.25 * state.kkt) | ~found
        status = jnp.select(  # NONFINITE is the driver's decision (f, grad)
            [kkt <= tol, ~found & state.refresh],
            [Status.CONVERGED, Status.LINE_SEARCH_FAILED],
            Status.RUNNING,
        )
        return _ProxState(
            params, eta, score, f, kkt, gram, lmax, refresh, state.n_iter + 1,
            status.astype(jnp.int32),
        )  # fmt: skip

    def information(self, problem: M.Problem, state: _ProxState) -> None:
        return None

    def curvature(self, problem: M.Problem, state: _ProxState) -> None:
        """None: its Hessian model is BFGS-updated; the derivative factors the observed
        Hessian on the active set."""
        return None

    @property
    def name(self) -> str:
        return "ProxNewton"
