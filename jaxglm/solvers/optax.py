"""Optax training loops on the GLM objective: L-BFGS by default, any optimizer, mini-batches.

The solver minimizes exactly the core objective (:func:`jaxglm.model.objective`,
``deviance / (2 sum w) + ridge``) over the ``(p+1,)`` parameters with an Optax
``GradientTransformation``, inside the one ``while_loop`` driver. It never forms a
``p x p`` matrix while iterating: each objective-and-gradient evaluation is one ``X @ beta``
and one ``r @ X`` (the core's data path, handed to Optax through a custom JVP so that its
line searches differentiate the same numbers), which makes it the solver for wide problems
where a Newton step (``n p^2`` for the Gram, ``p^3`` for the solve) is too dear.

Step. Full batch (``batch_size=None``): one optimizer update; with the default
``optax.lbfgs()`` that is an L-BFGS direction (memory 10) and a zoom line search for the
strong Wolfe conditions, whose objective and gradient at the accepted point are reused
(``optax.value_and_grad_from_state``'s convention), so an iteration costs about two passes
over ``X``. Mini-batch (``batch_size=b``): one epoch — the rows shuffled by
``jax.random.permutation(fold_in(key(seed), epoch))``, cut into ``ceil(n / b)`` batches of
``b`` rows under ``lax.scan`` (the last batch is filled with repeated rows at zero weight,
so shapes stay static), one optimizer update per batch on the unbiased batch estimate of
the objective; then the full objective and gradient.

Preconditioning (``precondition=``). The optimizer works in coordinates ``z`` with
``params = A z``, fixed at the start from the expected (Fisher) information ``I`` at the
starting point:

- ``"information"`` (default): ``"centered"``'s scaling, then the Cholesky factor of the
  information in those coordinates (equilibrated, :func:`jaxglm._linalg.factor`):
  ``A^T I A = 1`` at the start, so L-BFGS sees a problem whose curvature is the identity
  there and changes only as the weights do. One Gram product and a ``p x p`` factor at the
  start, and a triangular solve per evaluation: used for full-batch steps when ``p <=
  FACTOR_MAX_P`` (256) with a scalar ``theta`` (where the factor fails the rank test, that
  of the information with a small multiple of its diagonal added:
  :func:`_preconditioner_factor`; where that fails too, the scaling alone). Above
  ``FACTOR_MAX_P`` (scalar ``theta``, full batch) the full Gram product would cost more
  than the iterations: the fit starts in ``"centered"`` coordinates, in a
  loop of its own, for at most :data:`SWITCH_ITERATIONS` (30) iterations — enough on a
  well-conditioned design, which pays for no ``p x p`` matrix — and if it has not
  converged by then (on ``benchmarks/problems.py``'s design with cond(X) ~ 1e3,
  ``"centered"`` L-BFGS had not converged after 1,000 iterations at p = 500), it factors
  the information of every ``k``-th row, :data:`ROWS_PER_PARAM` ``(p+1)`` of them, at the
  point reached (``8 (p+1)^3 + (p+1)^3/3`` flops: a subsample of ``m`` rows gives the
  information's eigenvalues up to factors ``(1 +- sqrt(p/m))^2``, whatever the
  conditioning of ``X``), and restarts L-BFGS there in those coordinates; the tolerance
  stays relative to the starting gradient (pulled back into the new coordinates).
  Under ``jax.vmap`` the choice to restart is a select: every member then pays for the
  one subsampled Gram product. Otherwise (mini-batches, an m-vector ``theta``)
  ``"centered"``: mini-batch optimizers such as Adam keep the coordinates their learning
  rates were tuned in.
- ``"centered"``: each column is centered at its information-weighted mean, which moves
  the intercept's correlation with the columns into ``A``, then scaled by the inverse
  square root of the diagonal of the centered information (Jacobi scaling of the Schur
  complement of the intercept). Three passes over ``X``, no ``p x p`` matrix.
- ``"diagonal"``: Jacobi scaling only, ``z_j = sqrt(I_jj) params_j``.
- ``None``: the raw parameters.

Measured on the 25 reference fits of ``tests/references`` (real data sets, float64,
``tol=1e-10``), iterations to convergence: median 16 (``"centered"``), 25.5
(``"diagonal"``), 50 (``None``); on statsmodels' longley (Gaussian, cond(X) ~ 5e9) 45,
128 and 292; on star98 (Binomial, 20 columns on scales 1e-2 to 1e3) about 2,000-2,600 with
``"centered"`` (1e-7 relative error) while the other two had not converged after 2,000;
without preconditioning the first step of Gamma-inverse on scotland leaves the link's
range and the line search fails. With ``"information"`` at the defaults (``tol=1e-8``)
star98 converges in 9 iterations (14 with the cloglog link), longley in 2 and scotland
in 8, each within 6e-8 of Newton's params. Newton solves all of them in under 10
iterations: prefer it when ``p`` is small (:func:`jaxglm.solvers.default_solver`).

Stopping rule (``tol`` is on the gradient norm relative to the starting one): converged
when ``|grad_z| <= tol |grad_z(start)|``, with ``grad_z`` the objective's gradient in the
optimizer's coordinates (with preconditioning, invariant to rescaling the columns of
``X``). ``tol`` (default 1e-8) is floored at 100 machine epsilons of the working dtype:
1.2e-5 in float32, where rounding of the objective stops L-BFGS around a relative
gradient of 1e-6 to 1e-7 (measured on a logistic fit). The default is Newton's so that
the default fit's digits do not depend on which solver :func:`jaxglm.solvers.default_solver`
picks: at n = 100,000, p = 2,000 (logistic) L-BFGS at tol 1e-8 is 3.7e-8 standard errors
from the exact estimate after 11 iterations, at 1e-6 2.6e-6 after 9, at 1e-5 7.6e-5 after 7
(``benchmarks/RESULTS.md``, 2026-12-07 12:08 and 12:41): a looser tolerance is ``tol=``
away where those digits are not needed. The objective's change is the
failure test: with a line search (an optimizer whose state stores ``value`` and
``grad``, as ``optax.lbfgs`` does), 10 iterations in a row without a decrease of the
objective mean that it is at its rounding floor or the line search cannot progress.

Status codes: CONVERGED; MAX_ITER (``max_iter`` iterations, or epochs in mini-batch
mode); NONFINITE (objective or gradient not finite); LINE_SEARCH_FAILED (no decrease in 10
iterations, line-search optimizers only).

A family with an m-vector ``theta`` (:class:`jaxglm.Multinomial`) runs on its (p+1, m)
parameters; the preconditioner's column scales are then shared by the classes (from the
mean diagonal of the rows' (m, m) information blocks).

Designs (:class:`jaxglm.Design`): full-batch steps run on them, every product from the
design's blocks (the centering's column sums and squares too); a mini-batch gathers its
rows from every block (a design with a sparse block is refused: a TypeError). The factored
information of ``"information"`` is the dense
``(p+1) x (p+1)`` matrix (a categorical block's diagonal Gram block assembled: the
centering couples it with the intercept), so on a wide design (``p > FACTOR_MAX_P``) the
restart after :data:`SWITCH_ITERATIONS` costs ``(p+1)^2`` memory and ``(p+1)^3 / 3``
flops; ``precondition="centered"`` never forms it.

Penalties: the ridge is part of the objective. L1 / elastic net (``l1_ratio != 0``) is not
a smooth objective and is not supported here: ``fit`` refuses it; it needs ProxNewton.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.linalg import solve_triangular

from jaxglm import _linalg
from jaxglm import model as M
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm._status import Status
from jaxglm.solvers._driver import AbstractSolver, iterate
from jaxglm.solvers.subsampled import row_stride, subsample_rows

if TYPE_CHECKING:
    import optax

# ``optax`` is imported where an Optax fit is traced, not with the package: it adds about
# 5% to ``import jaxglm`` (issue 18, benchmarks/RESULTS.md) for fits that never use it.

__all__ = ["FACTOR_MAX_P", "INFORMATION_MAX_P", "ROWS_PER_PARAM", "SWITCH_ITERATIONS", "Optax"]

INFORMATION_MAX_P = 2000
"""Largest ``p`` for which :meth:`Optax.information` builds the expected information."""

FACTOR_MAX_P = 256
"""Largest ``p`` for which ``precondition="information"`` factors the information of all
rows at the start (one Gram product, about a Newton step: up to half an L-BFGS fit's time at
this ``p``); above it the iteration starts in ``"centered"`` coordinates and factors a
subsampled information only if it has not converged after :data:`SWITCH_ITERATIONS`."""

SWITCH_ITERATIONS = 30
"""Iterations in ``"centered"`` coordinates after which ``precondition="information"``
with ``p > FACTOR_MAX_P`` factors the information of a row subsample and restarts."""

ROWS_PER_PARAM = 8
"""Rows per parameter (every ``k``-th row, ``ROWS_PER_PARAM (p + 1)`` of them) of the
subsampled information of ``precondition="information"`` with ``p > FACTOR_MAX_P``."""

_PRECONDITIONERS = ("information", "centered", "diagonal", None)
_HIGHEST = lax.Precision.HIGHEST
_STALL_ITERATIONS = 10  # iterations without a decrease of f before a line search gives up
_TOL_EPS = 100  # tol is floored at this many machine epsilons of the working dtype


class _Scaling(NamedTuple):
    """The optimizer's coordinates ``z``: ``params = A z`` with ``A = C diag(d) L^-T``.

    ``C`` maps ``u`` to ``beta = s_b u_b``, ``intercept = s_0 u_0 - m.beta`` (unit-triangular
    up to the diagonal ``s``; ``m``, the column centers, is zero unless a preconditioner
    centers); ``L`` is the Cholesky factor of the equilibrated information in ``u``, scaled
    by ``d``, for ``"information"``. Without a factor (``factor`` and ``equilibration``
    None: the other preconditioners) ``A = C``: no ``(p+1)^2`` matrix is stored and no
    triangular solve runs (at p = 2,500 the two solves with an identity factor took 14x
    the time of the objective and its gradient: benchmarks/RESULTS.md, issue 19).
    """

    scale: jax.Array  # (p+1,)
    center: jax.Array  # (p,)
    factor: jax.Array | None = None  # (p+1, p+1) lower triangular
    equilibration: jax.Array | None = None  # (p+1,)

    def params(self, z: jax.Array) -> jax.Array:
        u = z
        if self.factor is not None:
            u = M.per_row(self.equilibration, z) * solve_triangular(self.factor.T, z, lower=False)
        beta = M.per_row(self.scale[1:], u) * u[1:]
        intercept = self.scale[0] * u[0] - jnp.dot(self.center, beta)
        return jnp.concatenate([intercept[None], beta])

    def coordinates(self, params: jax.Array) -> jax.Array:
        beta = params[1:]
        u0 = (params[0] + jnp.dot(self.center, beta)) / self.scale[0]
        u = jnp.concatenate([u0[None], beta / M.per_row(self.scale[1:], beta)])
        if self.factor is None:
            return u
        return jnp.matmul(self.factor.T, u / M.per_row(self.equilibration, u), precision=_HIGHEST)

    def pullback(self, grad: jax.Array) -> jax.Array:
        """``A^T grad``: the gradient in ``z`` of a function with gradient ``grad``."""
        center = M.per_row(self.center, grad)
        gu = M.per_row(self.scale, grad) * jnp.concatenate([grad[:1], grad[1:] - center * grad[0]])
        if self.factor is None:
            return gu
        # L x = v solved as (L^T)^T x = v: LAPACK reads the row-major L^T as its column-major
        # L with no copy, where passing L copies it into that layout at every solve (7x
        # slower at p = 2,500; benchmarks/RESULTS.md, issue 19).
        v = M.per_row(self.equilibration, gu) * gu
        return solve_triangular(self.factor.T, v, lower=False, trans=1)

    def with_factor(self) -> _Scaling:
        """The same coordinates with an explicit identity factor (the state's structure of a
        factored scaling)."""
        if self.factor is not None:
            return self
        size = self.scale.shape[0]
        eye, ones = jnp.eye(size, dtype=self.scale.dtype), jnp.ones(size, self.scale.dtype)
        return self._replace(factor=eye, equilibration=ones)


class _OptaxState(NamedTuple):
    params: jax.Array  # (p+1,), intercept first: A z (see Optax.step: exact once done)
    eta: jax.Array  # (n,) linear predictor of params (see Optax.step: exact once done)
    f: jax.Array  # objective at z
    z: jax.Array  # (p+1,) the optimizer's coordinates, params = A z
    grad: jax.Array  # (p+1,) gradient of the objective in z
    grad_norm0: jax.Array  # |grad| at the start
    stalled: jax.Array  # consecutive iterations without a decrease of f
    scaling: _Scaling
    opt_state: Any  # the Optax state: lives only inside the loop
    n_iter: jax.Array
    status: jax.Array


def _evaluate(
    problem: M.Problem, scaling: _Scaling, z: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """``params``, ``eta``, the objective and its gradient in ``z``, via the core."""
    params = scaling.params(z)
    eta = _linalg.linear_predictor(problem.X, params, problem.offset)
    f, grad = _objective_and_gradient(problem, params, eta)
    return params, eta, f, scaling.pullback(grad)


def _objective_and_gradient(
    problem: M.Problem, params: jax.Array, eta: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The objective and its gradient in ``params`` from their ``eta`` (one pass over
    ``X``)."""
    f = M.objective(problem, params, eta)
    # Rows are independent: the gradient of the summed row losses is the per-row derivative
    # (M.row_derivatives' g without its second derivative, which would only be traced).
    g_rows = jax.grad(lambda e: jnp.sum(M.row_nll(problem, e)))(eta)
    grad = M.gradient(problem, params, g_rows)
    if not problem.fit_intercept:
        grad = grad.at[0].set(0.0)  # the intercept stays pinned at 0
    return f, grad


def _start_predictor(problem: M.Problem, params: jax.Array) -> jax.Array:
    """The linear predictor of the starting ``params``: ``offset + intercept`` without a
    pass over ``X`` when the slopes are all 0 (the intercept-only start of
    :func:`jaxglm.model.null_params`, R's start where that is valid), else
    :func:`jaxglm._linalg.linear_predictor`. Equal either way for a finite ``X``
    (``X @ 0`` is 0); a non-finite entry of ``X`` still makes the first gradient
    non-finite."""
    return lax.cond(
        jnp.all(params[1:] == 0),
        lambda: jnp.broadcast_to(problem.offset + params[0], problem.offset.shape),
        lambda: _linalg.linear_predictor(problem.X, params, problem.offset),
    )


def _value_fn(problem: M.Problem, scaling: _Scaling) -> Callable[[jax.Array], jax.Array]:
    """The objective in ``z`` for Optax, its derivative given by the core's gradient."""

    @jax.custom_jvp
    def value(z):
        params = scaling.params(z)
        eta = _linalg.linear_predictor(problem.X, params, problem.offset)
        return M.objective(problem, params, eta)

    @value.defjvp
    def value_jvp(primals, tangents):
        (z,), (dz,) = primals, tangents
        _, _, f, grad = _evaluate(problem, scaling, z)
        return f, jnp.dot(grad, dz) if grad.ndim == 1 else jnp.sum(grad * dz)

    return value


def _scaling(
    problem: M.Problem, params: jax.Array, eta: jax.Array, kind: str | None, stride: int = 1
) -> _Scaling:
    """The preconditioner from the expected information at ``params`` (whose linear
    predictor is ``eta``; module docs); for an
    m-vector ``theta`` one scale per column of ``[1 X]``, shared by the classes, from the
    mean diagonal of the rows' (m, m) blocks, and no ``"information"`` factor. With
    ``kind="information"`` the factored matrix is the information of every ``stride``-th
    row (the centering and the scales come from all rows)."""
    p = problem.X.shape[1]
    dtype = params.dtype
    ones = jnp.ones(p + 1, dtype)
    if kind is None:
        return _Scaling(ones, jnp.zeros(p, dtype))
    _, h = M.row_derivatives(problem, eta, fisher=True)
    full = kind == "information" and h.ndim == 1
    if h.ndim == 3:
        h = jnp.mean(jnp.diagonal(h, axis1=1, axis2=2), axis=1)
    wh = jnp.where(problem.w > 0, problem.w * h, 0.0) / problem.total_weight
    h0 = jnp.sum(wh)
    center = jnp.zeros(p, dtype)
    if kind != "diagonal" and problem.fit_intercept:
        mean = _linalg.column_sums(problem.X, wh)
        center = jnp.where(h0 > 0, mean / jnp.where(h0 > 0, h0, 1.0), 0.0)
    # sum_i wh_i (x_ij - m_j)^2, as one fused reduction (no n x p temporary).
    diag = _linalg.square_sums(problem.X, wh) - h0 * center * center
    diag = jnp.concatenate([h0[None], diag]) + problem.penalty
    ok = jnp.isfinite(diag) & (diag > 0)
    scale = jnp.where(ok, lax.rsqrt(jnp.where(ok, diag, 1.0)), 1.0)
    if not full:
        return _Scaling(scale, center)
    # The information in u (params = C u): C^T H C, one Gram product, equilibrated and
    # factored; where it is not positive definite, the Jacobi scaling alone.
    if stride == 1:
        H = M.hessian(problem, h)
    else:
        H = M.hessian(subsample_rows(problem, stride), h[::stride])
    # A design's eliminated block assembled: the centering mixes it with the intercept.
    H, _ = _linalg.pin_intercept(_linalg.as_dense(H), ones, problem.fit_intercept)
    (L, d), factored = _preconditioner_factor(_centered_information(H, center, scale))
    eye = jnp.eye(p + 1, dtype=dtype)
    return _Scaling(scale, center, jnp.where(factored, L, eye), jnp.where(factored, d, ones))


def _centered_information(H: jax.Array, center: jax.Array, scale: jax.Array) -> jax.Array:
    """``C^T H C`` for ``C = diag(s)`` with ``C[0, 1:] = -m s_b`` (:class:`_Scaling`), in
    ``O(p^2)``: with ``H = [[h00, h0b], [hb0, Hbb]]`` the centered blocks are ``h00``,
    ``h0b - h00 m``, ``hb0 - h00 m`` and ``Hbb - m h0b - hb0 m^T + h00 m m^T``, scaled by
    ``s`` on both sides. (As two dense products, ``2 (p+1)^3`` flops: at n = 5,000, p =
    2,500 as many as the Gram product itself; benchmarks/RESULTS.md, issue 19.)"""
    h00, h0b, hb0, Hbb = H[0, 0], H[0, 1:], H[1:, 0], H[1:, 1:]
    Hbb = Hbb - jnp.outer(center, h0b) - jnp.outer(hb0, center)
    Hbb = Hbb + h00 * jnp.outer(center, center)
    top = jnp.concatenate([h00[None], h0b - h00 * center])
    left = (hb0 - h00 * center)[:, None]
    info = jnp.concatenate([top[None], jnp.concatenate([left, Hbb], axis=1)])
    return scale[:, None] * info * scale[None, :]


PRECONDITIONER_SHIFT = 10.0
"""Multiple of :func:`jaxglm._linalg.rank_tolerance` added to the equilibrated information's
unit diagonal when its own factor fails the rank test (:func:`_preconditioner_factor`)."""


def _preconditioner_factor(info: jax.Array) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
    """:func:`jaxglm._linalg.factor` of the information, or where that fails its rank test,
    of the information plus ``delta diag(info)`` with ``delta`` = :data:`PRECONDITIONER_SHIFT`
    rank tolerances; ``ok`` False only where that fails too (no weight in a column, a
    non-finite matrix).

    The preconditioner needs a well-defined positive definite matrix, not an exact one: the
    objective and its gradient are unchanged, only the coordinates move. A float32
    information of an ill-conditioned design has squared pivots of tens of eps (53 eps for
    the benchmarks' design at cond(X) = 5,000, p = 260: a row subsample's information at
    the restart), which the rank test calls singular; before the shift the iteration then
    fell back to ``"centered"`` coordinates and ran to ``max_iter`` (1,000) 100% off the
    optimum. The shift lifts the eigenvalues below ``delta`` (2e-4 of the diagonal in
    float32, 2.7e-13 in float64) to about ``delta``."""
    factors, ok = _linalg.factor(info)

    def shifted():
        delta = PRECONDITIONER_SHIFT * _linalg.rank_tolerance(info.dtype, info.shape[0] - 1)
        return _linalg.factor(info + delta * jnp.diag(jnp.diagonal(info)))

    return lax.cond(ok, lambda: (factors, ok), shifted)


@pytree_dataclass
class Optax(AbstractSolver):
    """Any Optax optimizer on the GLM objective; full-batch L-BFGS by default.

    Module docs (:mod:`jaxglm.solvers.optax`) give the step, the preconditioners with
    their measured effect, the stopping rule and the status codes.

    Args:
        optimizer: an ``optax.GradientTransformation`` (default ``optax.lbfgs()``, built
            inside the compiled program). It is a static field: the program is compiled
            once per optimizer object, so reuse the object across fits. With
            ``learning_rate`` it is instead a function of the learning rate returning one,
            such as ``optax.adam`` (or ``lambda lr: optax.adam(optax.cosine_decay_schedule
            (lr, 1000))`` for a schedule; a schedule counts optimizer updates, i.e.
            batches).
        learning_rate: a traced learning rate for ``optimizer(learning_rate)``, so that
            one program serves every rate and ``jax.vmap`` maps over rates.
        batch_size: rows per mini-batch; ``None`` for full-batch steps. One iteration is
            then one epoch.
        precondition: ``"information"`` (default), ``"centered"``, ``"diagonal"`` or
            ``None`` (module docs).
        seed: seed of the row shuffling in mini-batch mode (traced, so it can be vmapped).
        tol: tolerance on the gradient norm relative to the starting one, floored at 100
            machine epsilons of the working dtype (1.2e-5 in float32, 2.2e-14 in float64).
        max_iter: maximum number of iterations (epochs in mini-batch mode).

    The optimizer's state lives only inside the compiled loop; the result is the same
    :class:`jaxglm.GLMResult` as Newton's. Its ``bse`` (and everything derived) come from
    the expected information at the solution when ``p <= INFORMATION_MAX_P`` (2,000: one
    ``n p^2`` Gram product, the price of a single Newton step) and are NaN above, where
    that product and the ``p x p`` inverse would dominate the fit; NaN, never a number
    from the optimizer's curvature estimate, which is not the information.

    Example:
        >>> import numpy as np, optax, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(500, 3)).astype("float32")
        >>> y = rng.poisson(np.exp(0.3 + X @ np.array([0.2, -0.1, 0.1]))).astype("float32")
        >>> res = jg.fit(X, y, family=jg.Poisson(), solver=jg.Optax())
        >>> bool(res.converged), res.solver_name
        (True, 'Optax(L-BFGS)')
        >>> adam = jg.Optax(optax.adam, learning_rate=0.01, batch_size=100, max_iter=100)
        >>> res = jg.fit(X, y, family=jg.Poisson(), solver=adam, tol=3e-2)
        >>> bool(res.converged), res.solver_name
        (True, 'Optax(mini-batch)')
    """

    optimizer: Any = static_field(default=None)
    learning_rate: jax.Array | float | None = None
    batch_size: int | None = static_field(default=None)
    precondition: str | None = static_field(default="information")
    seed: jax.Array | int = 0
    tol: jax.Array | float = 1e-8
    max_iter: jax.Array | int = 1000

    supports_vector_theta = True

    supports_designs = True

    @property
    def pads_rows(self) -> bool:
        """Full batch only: mini-batches shuffle and cut the rows by ``n``."""
        return self.batch_size is None

    @property
    def shards_rows(self) -> bool:
        """Full batch only: a mini-batch is a slice of rows that sharded rows cannot give
        without moving them between devices."""
        return self.batch_size is None

    def __post_init__(self) -> None:
        # Static fields only: the array fields may hold tracers or placeholders here.
        if self.precondition not in _PRECONDITIONERS:
            raise ValueError(
                f"precondition must be one of {_PRECONDITIONERS}, got {self.precondition!r}"
            )
        size = self.batch_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {size!r}")

    def _transformation(self) -> optax.GradientTransformationExtraArgs:
        """The optimizer, built at trace time (the learning rate may be traced)."""
        import optax

        if self.learning_rate is None:
            if self.optimizer is None:
                return optax.lbfgs()
            if not isinstance(self.optimizer, optax.GradientTransformation):
                raise TypeError(
                    "optimizer must be an optax GradientTransformation (or, with learning_rate, "
                    f"a function of the learning rate such as optax.adam), got {self.optimizer!r}"
                )
            return optax.with_extra_args_support(self.optimizer)
        if not callable(self.optimizer) or isinstance(self.optimizer, optax.GradientTransformation):
            raise TypeError(
                "with learning_rate, optimizer must be a function of the learning rate that "
                f"returns an optax GradientTransformation (e.g. optax.adam), got {self.optimizer!r}"
            )
        return optax.with_extra_args_support(self.optimizer(self.learning_rate))

    def _tol(self, dtype: jnp.dtype) -> jax.Array:
        return jnp.maximum(self.tol, _TOL_EPS * jnp.finfo(dtype).eps)

    def init(
        self, problem: M.Problem, params: jax.Array, mu_start: jax.Array | None = None
    ) -> _OptaxState:
        kind = self.precondition
        if kind == "information" and self.batch_size is not None:
            kind = "centered"  # Adam-type steps on batches: tuned in those coordinates
        n, p = problem.X.shape
        # One eta, shared by the preconditioner's weights and the first objective; no pass
        # over X from the intercept-only start.
        eta = _start_predictor(problem, params)
        start = _objective_and_gradient(problem, params, eta)
        if kind == "information" and p > FACTOR_MAX_P and not problem.family.event_ndim:
            stride = row_stride(n, ROWS_PER_PARAM * (p + 1))
            return self._two_phase(problem, params, eta, start, stride)
        return self._start(problem, params, eta, start, _scaling(problem, params, eta, kind))

    def _start(
        self,
        problem: M.Problem,
        params: jax.Array,
        eta: jax.Array,
        start: tuple[jax.Array, jax.Array],
        scaling: _Scaling,
        n_iter: jax.Array = 0,
    ) -> _OptaxState:
        """The state at ``params`` (linear predictor ``eta``, objective and gradient
        ``start``) in the coordinates of ``scaling``, ``n_iter`` taken."""
        f, grad = start
        z = scaling.coordinates(params)
        grad = scaling.pullback(grad)
        gnorm = jnp.linalg.norm(grad)
        status = jnp.select(
            [~(jnp.isfinite(f) & jnp.isfinite(gnorm)), gnorm == 0],
            [Status.NONFINITE, Status.CONVERGED],
            Status.RUNNING,
        )
        return _OptaxState(
            params, eta, f, z, grad, gnorm, jnp.asarray(0, jnp.int32), scaling,
            self._transformation().init(z), jnp.asarray(n_iter, jnp.int32),
            status.astype(jnp.int32),
        )  # fmt: skip

    def _two_phase(
        self,
        problem: M.Problem,
        params: jax.Array,
        eta: jax.Array,
        start: tuple[jax.Array, jax.Array],
        stride: int,
    ) -> _OptaxState:
        """``"information"`` for wide designs: at most :data:`SWITCH_ITERATIONS` iterations
        in ``"centered"`` coordinates (their own loop); if they have not converged, the
        information of every ``stride``-th row at the point reached, factored, and a fresh
        L-BFGS from there in its coordinates (module docs). The relative stopping rule
        stays relative to the starting gradient, pulled back into the new coordinates."""
        centered = dataclasses.replace(
            self, precondition="centered", max_iter=jnp.minimum(self.max_iter, SWITCH_ITERATIONS)
        )
        scaling = _scaling(problem, params, eta, "centered")
        first = iterate(centered, problem, centered._start(problem, params, eta, start, scaling))

        def restart(state: _OptaxState) -> _OptaxState:
            # The loop leaves params and eta exact at its last point (Optax.step) and f
            # there; only the gradient in the original coordinates is recomputed.
            scaling = _scaling(problem, state.params, state.eta, "information", stride)
            here = _objective_and_gradient(problem, state.params, state.eta)
            new = self._start(problem, state.params, state.eta, here, scaling, state.n_iter)
            norm0 = jnp.linalg.norm(scaling.pullback(start[1]))
            return new._replace(grad_norm0=norm0)

        def keep(state: _OptaxState) -> _OptaxState:
            return state._replace(scaling=state.scaling.with_factor())

        slow = (first.status == Status.MAX_ITER) | (first.status == Status.LINE_SEARCH_FAILED)
        return lax.cond(slow & (first.n_iter < self.max_iter), restart, keep, first)

    def step(self, problem: M.Problem, state: _OptaxState) -> _OptaxState:
        import optax

        opt = self._transformation()
        line_search = False
        if self.batch_size is None:
            value_fn = _value_fn(problem, state.scaling)
            updates, opt_state = opt.update(
                state.grad, state.opt_state, state.z,
                value=state.f, grad=state.grad, value_fn=value_fn,
            )  # fmt: skip
            z = optax.apply_updates(state.z, updates)
            f, grad = optax.tree.get(opt_state, "value"), optax.tree.get(opt_state, "grad")
            line_search = f is not None and grad is not None
        else:
            z, opt_state = self._epoch(problem, state, opt)
        if not problem.fit_intercept:
            z = z.at[0].set(0.0)  # whatever the optimizer adds, the intercept stays 0
        if line_search:
            params, eta = state.params, state.eta
        else:
            params, eta, f, grad = _evaluate(problem, state.scaling, z)

        gnorm = jnp.linalg.norm(grad)
        finite = jnp.isfinite(f) & jnp.isfinite(gnorm)
        converged = gnorm <= self._tol(f.dtype) * state.grad_norm0
        stalled = jnp.where(f < state.f, 0, state.stalled + 1)
        failed = line_search & (stalled >= _STALL_ITERATIONS)
        status = jnp.select(  # NONFINITE is the driver's decision (f, grad)
            [converged, failed],
            [Status.CONVERGED, Status.LINE_SEARCH_FAILED],
            Status.RUNNING,
        ).astype(jnp.int32)
        n_iter = state.n_iter + 1
        if line_search:
            # The line search has evaluated f and grad at z already; params and eta are
            # needed only by the caller, once the loop is over: one pass over X (and with a
            # factored preconditioner one triangular solve) saved per iteration.
            last = (status != Status.RUNNING) | ~finite | (n_iter >= self.max_iter)

            def final() -> tuple[jax.Array, jax.Array]:
                new = state.scaling.params(z)
                return new, _linalg.linear_predictor(problem.X, new, problem.offset)

            params, eta = lax.cond(last, final, lambda: (params, eta))
        return _OptaxState(
            params, eta, f, z, grad, state.grad_norm0, stalled, state.scaling, opt_state,
            n_iter, status,
        )  # fmt: skip

    def _epoch(self, problem: M.Problem, state: _OptaxState, opt) -> tuple[jax.Array, Any]:
        """One pass over shuffled row batches (``lax.scan``); the last batch is masked."""
        import optax

        n = problem.X.shape[0]
        size = min(self.batch_size, n)
        n_batches = math.ceil(n / size)
        pad = n_batches * size - n
        key = jax.random.fold_in(jax.random.key(self.seed), state.n_iter)
        perm = jax.random.permutation(key, n)
        rows = jnp.concatenate([perm, perm[:pad]]).reshape(n_batches, size)
        real = jnp.concatenate([jnp.ones(n, bool), jnp.zeros(pad, bool)]).reshape(n_batches, size)

        def body(carry, batch):
            z, opt_state = carry
            i, m = batch
            count = jnp.sum(m).astype(problem.y.dtype)
            # The batch objective is an unbiased estimate of the full one: its rows are
            # normalized by the full sum of weights scaled by (batch rows / n).
            sub = dataclasses.replace(
                problem, X=_linalg.take_rows(problem.X, i), XT=None, y=problem.y[i],
                w=jnp.where(m, problem.w[i], 0.0),
                offset=problem.offset[i], saturated=problem.saturated[i],
                total_weight=problem.total_weight * count / n,
            )  # fmt: skip
            value_fn = _value_fn(sub, state.scaling)
            value, grad = jax.value_and_grad(value_fn)(z)
            updates, opt_state = opt.update(
                grad, opt_state, z, value=value, grad=grad, value_fn=value_fn
            )
            return (optax.apply_updates(z, updates), opt_state), None

        (z, opt_state), _ = lax.scan(body, (state.z, state.opt_state), (rows, real))
        return z, opt_state

    def information(self, problem: M.Problem, state: _OptaxState) -> jax.Array | None:
        if problem.X.shape[1] > INFORMATION_MAX_P:
            return None
        return M.expected_information(problem, state.eta)

    def curvature(self, problem: M.Problem, state: _OptaxState) -> None:
        """None: no matrix is formed while iterating."""
        return None

    @property
    def name(self) -> str:
        if self.batch_size is not None:
            return "Optax(mini-batch)"
        return "Optax(L-BFGS)" if self.optimizer is None else "Optax"
