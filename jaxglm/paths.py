"""Regularization paths and cross-validation, each one compiled program (glmnet-style).

:func:`path` fits the penalized model at a decreasing grid of ``alpha`` (objective of
shared/DESIGN.md) with :class:`jaxglm.ProxNewton`, each fit warm-started from the previous
one inside one ``lax.scan`` (or, with ``independent=True``, all alphas from the null model
under ``jax.vmap``). :func:`cv` runs that path on every fold at once: the folds are zero
weights (every fold has the data's shapes), ``jax.vmap`` maps the scanned path over them
and over the full data (one more member), and the held-out deviance of each (fold, alpha)
is computed inside the scan, so memory stays a few copies of ``X`` and the (folds, alphas,
p) coefficients. Both pass over a row-major copy of ``X.T`` besides ``X`` (made once per
call; ``X^T r`` reads rows, 2.5x faster on XLA:CPU), so they hold two copies of the data.

The grid (glmnet's): ``alpha_max`` is the smallest alpha at which every penalized
coefficient is 0, ``max_j |g_j| / (l1_ratio f_j)`` over the columns of factor ``f_j > 0``,
with ``g`` the gradient of the objective's smooth part at the intercept-only fit, or, when
some factor is 0, at the fit of the intercept and those unpenalized columns (the path's
solution at ``alpha_max``, where it starts; ``l1_ratio`` floored at 1e-3 for a ridge
path, as glmnet); then ``n_alphas`` values log-spaced down to ``alpha_min_ratio * alpha_max``
(default 1e-4 when ``n > p``, else 1e-2).

Example:
    >>> import numpy as np, jaxglm as jg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4))
    >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(float)
    >>> p = jg.path(X, y, jg.Bernoulli(), l1_ratio=1.0, n_alphas=10)
    >>> p.coef.shape, [int(k) for k in p.n_nonzero[:2]]
    ((10, 4), [0, 1])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxglm import _frames, _padding, _progress, designs
from jaxglm import families as F
from jaxglm import links as L
from jaxglm import model as M
from jaxglm._fit import dense_design, fit
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm._spec import FitSpec, check_folds, column_names, is_concrete, resolve_spec, validate
from jaxglm._statistics import null_eta
from jaxglm.model import deviance_at, null_params
from jaxglm.results import GLMResult
from jaxglm.solvers import AbstractSolver, iterate

__all__ = ["CVResult", "PathResult", "cv", "path"]


@pytree_dataclass
class PathResult:
    """A regularization path; every field has the alphas first.

    Attributes:
        alphas: (A,) penalty strengths, decreasing.
        coef: (A, p) coefficients; intercept: (A,) ((A, p, m) and (A, m) for
            :class:`jaxglm.Multinomial`).
        deviance: (A,) deviance of the fitted rows; dev_ratio: (A,) ``1 - deviance /
            null deviance`` (glmnet's ``dev.ratio``).
        n_nonzero: (A,) number of features in use (a non-zero coefficient, in any class).
        n_iter, status, kkt_violation: (A,) per fit (:class:`jaxglm.Status`).
        feature_names: the columns' names (a frame's, a formula's terms), else None.
    """

    alphas: jax.Array
    coef: jax.Array
    intercept: jax.Array
    deviance: jax.Array
    dev_ratio: jax.Array
    n_nonzero: jax.Array
    n_iter: jax.Array
    status: jax.Array
    kkt_violation: jax.Array
    feature_names: tuple[str, ...] | None = static_field(default=None)


@pytree_dataclass
class CVResult:
    """k-fold cross-validation over a path.

    Attributes:
        path: the :class:`PathResult` on all the data.
        fold_deviance: (folds, A) held-out mean deviance (per unit weight) of each fold.
        mean, se: (A,) their mean over the folds and its standard error (glmnet's
            ``cvm``, ``cvsd``).
        alpha_min: the alpha of the smallest mean; alpha_1se: the largest alpha whose mean
            is within one SE of that minimum (glmnet's ``lambda.1se``).
        refit: the full-data :func:`jaxglm.fit` at ``alpha_min`` (or ``alpha_1se``).
    """

    path: PathResult
    fold_deviance: jax.Array
    mean: jax.Array
    se: jax.Array
    alpha_min: jax.Array
    alpha_1se: jax.Array
    refit: GLMResult


def _problem(X, XT, y, w, offset, penalty_factor, family, link, fit_intercept, alpha, l1_ratio):
    ridge, l1 = M.penalty_weights(alpha, l1_ratio, penalty_factor)
    return M.Problem(
        X=X, y=y, w=w, offset=offset, saturated=family.saturated_loglik(y),
        total_weight=jnp.sum(w), penalty=ridge, family=family, link=link,
        fit_intercept=fit_intercept, l1=l1, XT=XT,
    )  # fmt: skip


def _alpha_max(problem: M.Problem, eta: jax.Array, l1_ratio, penalty_factor) -> jax.Array:
    """glmnet's alpha_max from the linear predictor ``eta`` of the path's first point (the
    null model, or the unpenalized columns' fit: module docs)."""
    g_rows, _ = M.row_derivatives(problem, eta, fisher=True)
    grad = M.data_gradient(problem, g_rows)[1:]  # (p,) or (p, m): every class's
    ratio = jnp.maximum(l1_ratio, 1e-3)
    free = M.per_row(penalty_factor > 0, grad)
    factor = M.per_row(penalty_factor, grad)
    scaled = jnp.where(free, jnp.abs(grad) / jnp.where(free, factor, 1.0), 0.0)
    return jnp.max(scaled) / ratio


def _path_start(
    problem, l1_ratio, penalty_factor, alpha_min_ratio, solver, alphas, n_alphas, unpenalized
):  # fmt: skip
    """The grid (``alphas``, or glmnet's when None), R's null model's linear predictor and
    the first fit's start: the null model whose gradient gave ``alpha_max`` (from the
    closed-form start, which ignores the offset, the first fit took steps and kept
    coefficients of ~1e-9), where the first fit is already optimal with coefficients
    exactly 0; with ``unpenalized`` (some factor may be 0) the fit of the columns of
    factor 0 beside it (:func:`_unpenalized_fit`), whose gradient gives ``alpha_max``."""
    eta_null = null_eta(problem)
    start = null_params(problem)  # slopes 0
    if problem.fit_intercept:
        start = start.at[0].set(M.weighted_mean(problem, eta_null - problem.offset))
    carry = solver.first_carry(problem, start)
    eta_first = eta_null
    if unpenalized:
        start, carry = _unpenalized_fit(problem, penalty_factor, solver, start, carry)
        eta_first = carry.eta
    if alphas is None:
        alphas = _grid(problem, eta_first, l1_ratio, penalty_factor, alpha_min_ratio, n_alphas)
    return alphas, eta_null, (start, carry)


def _unpenalized_fit(problem, penalty_factor, solver, start, carry):
    """glmnet's first fit when a penalty factor is 0: the intercept and the columns of
    factor 0 fitted, every other coefficient held at exactly 0 by an L1 weight that no
    gradient reaches (the square root of the dtype's largest number). That is the solution
    at ``alpha_max`` and above; its gradient gives ``alpha_max`` (module docs). With no
    factor 0 it is the start itself (the solver stops before its first step)."""
    dtype = start.dtype
    big = jnp.sqrt(jnp.finfo(dtype).max).astype(dtype)
    l1 = jnp.concatenate([jnp.zeros(1, dtype), jnp.where(penalty_factor > 0, big, 0.0)])
    prob = dataclasses.replace(problem, penalty=jnp.zeros_like(problem.penalty), l1=l1)
    state = iterate(solver, prob, solver.init(prob, start, carry=carry))
    return state.params, solver.carry(state)


def _path_steps(problem, alphas, carry, l1_ratio, penalty_factor, solver, test_w, independent):
    """Fits at ``alphas`` from ``carry`` (warm starts in a scan, or every alpha from
    ``carry`` under vmap), the carry after the last, and per alpha ``(params, n_iter,
    status, kkt, deviance, held-out deviance of test_w's rows)``."""

    def one(carry, alpha):
        params0, previous = carry
        ridge, l1 = M.penalty_weights(alpha, l1_ratio, penalty_factor)
        prob = dataclasses.replace(problem, penalty=ridge, l1=l1)
        state = iterate(solver, prob, solver.init(prob, params0, carry=previous))
        out = (
            state.params, state.n_iter, state.status, state.kkt,
            deviance_at(prob, state.eta), deviance_at(prob, state.eta, test_w),
        )  # fmt: skip
        return (state.params, solver.carry(state)), out

    if independent:
        return carry, jax.vmap(lambda a: one(carry, a)[1])(alphas)
    return lax.scan(one, carry, alphas)


def _path_result(problem, alphas, eta_null, steps, test_w):
    """The :class:`PathResult` of :func:`_path_steps`' outputs over all ``alphas``, and the
    held-out mean deviance of ``test_w``'s rows at every alpha."""
    params, n_iter, status, kkt, dev, dev_test = steps
    null_dev = deviance_at(problem, eta_null)
    coef = params[:, 1:]
    in_use = coef != 0 if coef.ndim == 2 else jnp.any(coef != 0, axis=-1)  # any class's
    result = PathResult(
        alphas=alphas, coef=coef, intercept=params[:, 0], deviance=dev,
        dev_ratio=1.0 - dev / null_dev, n_nonzero=jnp.sum(in_use, axis=1),
        n_iter=n_iter, status=status, kkt_violation=kkt,
    )  # fmt: skip
    return result, dev_test / jnp.sum(test_w)


def _grid(problem, eta, l1_ratio, penalty_factor, alpha_min_ratio, n_alphas):
    """glmnet's grid: ``n_alphas`` log-spaced from alpha_max (at ``eta``, the path's first
    point) to ``alpha_min_ratio`` of it."""
    top = _alpha_max(problem, eta, l1_ratio, penalty_factor)
    dtype = eta.dtype  # the working dtype (float64 with a float32 X: "mixed")
    return top * jnp.logspace(0.0, jnp.log10(alpha_min_ratio), n_alphas, dtype=dtype)


def _path_program(
    X, XT, y, w, offset, penalty_factor, l1_ratio, alphas, alpha_min_ratio, solver, test_w,
    family, link, fit_intercept, n_alphas, independent, unpenalized,
):  # fmt: skip
    """The path (and the held-out mean deviance of ``test_w``'s rows at every alpha)."""
    problem = _problem(
        X, XT, y, w, offset, penalty_factor, family, link, fit_intercept, 1.0, l1_ratio
    )
    alphas, eta_null, carry = _path_start(
        problem, l1_ratio, penalty_factor, alpha_min_ratio, solver, alphas, n_alphas, unpenalized
    )
    _, steps = _path_steps(
        problem, alphas, carry, l1_ratio, penalty_factor, solver, test_w, independent
    )
    return _path_result(problem, alphas, eta_null, steps, test_w)


_path_jit = jax.jit(
    _path_program, static_argnames=("fit_intercept", "n_alphas", "independent", "unpenalized")
)


@jax.jit(static_argnames=("fit_intercept", "n_alphas", "unpenalized"))
def _cv_jit(
    X, XT, y, w, offset, penalty_factor, l1_ratio, alphas, alpha_min_ratio, solver, test,
    family, link, fit_intercept, n_alphas, unpenalized,
):  # fmt: skip
    """The full-data path and every fold's, as the members of one ``vmap``: member 0 has
    no held-out rows, member ``k + 1`` holds out ``test[k]``. The full path rides along
    nearly free (the members' passes over the shared ``X`` are one matrix product)."""
    if alphas is None:
        problem = _problem(
            X, XT, y, w, offset, penalty_factor, family, link, fit_intercept, 1.0, l1_ratio
        )
        alphas = _path_start(
            problem, l1_ratio, penalty_factor, alpha_min_ratio, solver, None, n_alphas,
            unpenalized,
        )[0]  # fmt: skip

    def member(t):
        return _path_program(
            X, XT, y, w * (1.0 - t), offset, penalty_factor, l1_ratio, alphas, None, solver,
            w * t, family, link, fit_intercept, n_alphas, False, unpenalized,
        )  # fmt: skip

    held_out = jnp.concatenate([jnp.zeros((1, X.shape[0]), test.dtype), test])
    paths, deviance = jax.vmap(member)(held_out)
    return jax.tree.map(lambda a: a[0], paths), deviance[1:]


PROGRESS_ALPHAS = 10
"""Alphas per compiled chunk of :func:`path` and :func:`cv` with ``progress=True``."""


def _stage_problem(data, t, l1_ratio, family, link, fit_intercept):
    """The problem of one member of a staged path and its held-out weights: ``t`` None (the
    path's data) or a fold's held-out indicator (:func:`_cv_jit`'s members)."""
    X, XT, y, w, offset, pf = data
    fit_w, test_w = (w, jnp.zeros_like(w)) if t is None else (w * (1.0 - t), w * t)
    problem = _problem(X, XT, y, fit_w, offset, pf, family, link, fit_intercept, 1.0, l1_ratio)
    return problem, test_w


@jax.jit(static_argnames=("fit_intercept", "n_alphas", "unpenalized"))
def _start_jit(
    data, held_out, l1_ratio, alphas, alpha_min_ratio, solver, family, link, *, fit_intercept,
    n_alphas, unpenalized,
):  # fmt: skip
    """:func:`_path_start` of the path (``held_out`` None) or of every member of a CV, on
    the full data's grid."""

    def start(t, grid):
        problem, _ = _stage_problem(data, t, l1_ratio, family, link, fit_intercept)
        return _path_start(
            problem, l1_ratio, data[5], alpha_min_ratio, solver, grid, n_alphas, unpenalized
        )

    if held_out is None:
        return start(None, alphas)
    if alphas is None:  # the full data's grid, as _cv_jit's
        alphas = start(None, None)[0]
    eta_null, carry = jax.vmap(lambda t: start(t, alphas)[1:])(held_out)
    return alphas, eta_null, carry


@jax.jit(static_argnames=("fit_intercept", "independent"))
def _steps_jit(
    data, held_out, l1_ratio, alphas, carry, solver, family, link, *, fit_intercept, independent
):  # fmt: skip
    """:func:`_path_steps` at a chunk of ``alphas`` (of every member of a CV)."""

    def steps(t, carry):
        problem, test_w = _stage_problem(data, t, l1_ratio, family, link, fit_intercept)
        return _path_steps(problem, alphas, carry, l1_ratio, data[5], solver, test_w, independent)

    return steps(None, carry) if held_out is None else jax.vmap(steps)(held_out, carry)


@jax.jit(static_argnames=("fit_intercept",))
def _result_jit(data, held_out, l1_ratio, alphas, eta_null, steps, family, link, *, fit_intercept):
    """:func:`_path_result` of the chunks' outputs (of every member of a CV)."""

    def result(t, eta_null, steps):
        problem, test_w = _stage_problem(data, t, l1_ratio, family, link, fit_intercept)
        return _path_result(problem, alphas, eta_null, steps, test_w)

    if held_out is None:
        return result(None, eta_null, steps)
    return jax.vmap(result)(held_out, eta_null, steps)


def _staged(
    data, held_out, l1_ratio, alphas, alpha_min_ratio, solver, family, link, fit_intercept,
    n_alphas, independent, unpenalized,
):  # fmt: skip
    """The path (``held_out`` None) or the CV members' paths of :func:`_path_jit` /
    :func:`_cv_jit` as compiled chunks of :data:`PROGRESS_ALPHAS` alphas, the solver's
    carry handed from one chunk to the next (the same fits), with a tqdm bar of the alphas
    done updated between chunks (module docs of :mod:`jaxglm._progress`). The last chunk is
    filled up with repeats of the last alpha, whose fits are cut off."""
    alphas, eta_null, carry = _start_jit(
        data, held_out, l1_ratio, alphas, alpha_min_ratio, solver, family, link,
        fit_intercept=fit_intercept, n_alphas=n_alphas, unpenalized=unpenalized,
    )  # fmt: skip
    grid = np.asarray(alphas)
    a, size = len(grid), min(PROGRESS_ALPHAS, len(grid))
    parts = []
    with _progress.bar(True, a, "alphas") as bar, _progress.lagging(bar) as count:
        for i in range(0, a, size):
            chunk = np.concatenate([grid[i : i + size], np.repeat(grid[-1:], max(0, i + size - a))])
            carry, out = _steps_jit(
                data, held_out, l1_ratio, jnp.asarray(chunk, alphas.dtype), carry, solver,
                family, link, fit_intercept=fit_intercept, independent=independent,
            )  # fmt: skip
            parts.append(out)
            count(out, min(size, a - i))
    axis = 0 if held_out is None else 1
    steps = jax.tree.map(
        lambda *x: lax.slice_in_dim(jnp.concatenate(x, axis=axis), 0, a, axis=axis), *parts
    )
    return _result_jit(
        data, held_out, l1_ratio, alphas, eta_null, steps, family, link,
        fit_intercept=fit_intercept,
    )  # fmt: skip


def _some_unpenalized(penalty_factor: jax.Array) -> bool:
    """Whether a penalty factor may be 0 (traced factors: assumed so), so that the path
    starts from the fit of those columns (:func:`_unpenalized_fit`; a static choice: the
    paths without them compile no more)."""
    if not is_concrete(penalty_factor):
        return True
    return bool(np.any(np.asarray(penalty_factor) == 0))


def _min_ratio(shape: tuple[int, int], alpha_min_ratio: float | None) -> float:
    """glmnet's default ``lambda.min.ratio``: 1e-4 when n > p, else 1e-2."""
    if alpha_min_ratio is not None:
        return alpha_min_ratio
    n, p = shape
    return 1e-4 if n > p else 1e-2


def _rows_of_transpose(X: jax.Array | designs.Design, dtype: jnp.dtype) -> jax.Array | None:
    """``X.T`` as its own row-major (p, n) array (``M.Problem.XT``): transposed eagerly, since
    inside ``jit`` XLA folds a transpose into the products that read it. None for a
    :class:`jaxglm.Design` (its blocks give the products) and for mixed precision (a
    float32 ``X``, float64 ``dtype``): its passes read ``X`` itself, one fused
    multiply-and-sum over its rows for ``X @ v`` and for ``r @ X`` (:mod:`jaxglm._linalg`),
    where a product with a float32 ``X.T`` would first convert it to float64 (6x slower at
    n = 200,000, p = 100 here); no second copy of the data either."""
    if isinstance(X, designs.Design) or X.dtype != dtype:
        return None
    return jnp.transpose(X)


def _prepare(
    X, y, family, link, solver, tol, max_iter, fit_intercept, l1_ratio, weights, freq_weights,
    offset, exposure, penalty_factor, alphas, precision,
) -> tuple[FitSpec, tuple, dict]:  # fmt: skip
    """Resolve and validate as :func:`jaxglm.fit` does, then the arrays of the compiled path:
    ``(X, y, w, offset, penalty_factor, grid)`` with ``w`` = prior x frequency weights and
    the exposure's log in the offset (``X`` in float32 and the rest in float64 for
    ``precision="mixed"``), and the caller's arrays with frames as NumPy arrays (the
    design's column names under ``"names"``)."""
    X, penalty_factor = designs.for_fit(X, fit_intercept, penalty_factor)
    names = column_names(X)
    given, _ = _frames.to_host(dict(
        X=X, y=y, weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
        penalty_factor=penalty_factor,
    ))  # fmt: skip
    X, y, weights, freq_weights = given["X"], given["y"], given["weights"], given["freq_weights"]
    offset, exposure, penalty_factor = given["offset"], given["exposure"], given["penalty_factor"]
    spec = resolve_spec(
        family, link, solver, np.shape(X), fit_intercept=fit_intercept, l1_ratio=l1_ratio,
        tol=tol, max_iter=max_iter, path=True, precision=precision,
        design=isinstance(X, designs.Design), y=y,
    )  # fmt: skip
    arrays = dict(
        weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
        penalty_factor=penalty_factor,
    )  # fmt: skip
    if is_concrete(X, y, arrays, alphas):
        validate(spec, X, y, **arrays)
        if alphas is not None:
            grid = np.asarray(alphas, dtype=float)
            if grid.ndim != 1 or not (np.isfinite(grid).all() and (grid >= 0).all()):
                raise ValueError(f"alphas must be a 1-D grid of finite values >= 0, got {alphas!r}")
    if isinstance(X, designs.Design):  # its names stay out of the compiled program
        X = dataclasses.replace(X, dense_names=(), sparse_names=())
        X = X.astype(jax.dtypes.canonicalize_dtype(X.dtype))
        dtype = X.dtype
    else:
        X, dtype = dense_design(X, spec.precision, on_host=False)
    n, p = X.shape
    w = jnp.ones(n, dtype)
    for value in (weights, freq_weights):
        w = w if value is None else w * jnp.asarray(value, dtype)
    off = jnp.zeros(n, dtype) if offset is None else jnp.asarray(offset, dtype)
    if exposure is not None:
        off = off + jnp.log(jnp.asarray(exposure, dtype))
    pf = jnp.ones(p, dtype) if penalty_factor is None else jnp.asarray(penalty_factor, dtype)
    grid = None if alphas is None else jnp.asarray(alphas, dtype)
    y = jnp.asarray(y, dtype)
    if spec.family.event_ndim:  # labels or rows of k classes -> (n, m); offsets per class
        y = spec.family.encode(y)
        off = jnp.broadcast_to(off if off.ndim == 2 else off[:, None], y.shape)
    return spec, (X, y, w, off, pf, grid), dict(given, names=names)


def path(
    X: ArrayLike,
    y: ArrayLike,
    family: F.Family | None = None,
    link: L.Link | None = None,
    *,
    weights: ArrayLike | None = None,
    freq_weights: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    exposure: ArrayLike | None = None,
    fit_intercept: bool = True,
    l1_ratio: float = 1.0,
    penalty_factor: ArrayLike | Mapping[str, ArrayLike] | None = None,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    alphas: ArrayLike | None = None,
    solver: AbstractSolver | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    independent: bool = False,
    progress: bool = False,
    precision: str | None = None,
) -> PathResult:
    """The regularization path of a penalized GLM, as one compiled program (module docs).

    Args:
        X, y, family, link, weights, freq_weights, offset, exposure, fit_intercept,
            penalty_factor: as :func:`jaxglm.fit` (validated the same way;
            ``NegativeBinomial`` needs a fixed ``alpha``). ``X`` may be a
            :class:`jaxglm.Design` (no one-hot matrix is formed: :mod:`jaxglm.designs`;
            at most :data:`jaxglm.solvers.prox_newton.DESIGN_MAX_P` columns), with
            ``penalty_factor`` as ``{name: factor}`` per block or column
            (:meth:`jaxglm.Design.penalty_factor`).
        l1_ratio: elastic-net mixing (1: lasso, 0: ridge).
        n_alphas: grid size when ``alphas`` is None.
        alpha_min_ratio: smallest alpha over ``alpha_max`` (default 1e-4 if n > p else 1e-2).
        alphas: an explicit decreasing grid (then ``n_alphas``, ``alpha_min_ratio`` unused).
        solver: a solver with warm starts (default :class:`jaxglm.ProxNewton`, the only
            one).
        tol, max_iter: override the solver's KKT tolerance and steps per alpha (default:
            its own, ``ProxNewton``'s 1e-8 and 100).
        independent: fit every alpha from the null model under ``vmap`` instead of
            warm-starting along the grid (same answers; for accelerators).
        progress: show a tqdm bar of the alphas done (``pip install "jaxglm[progress]"``):
            the path then runs as compiled chunks of :data:`PROGRESS_ALPHAS` alphas (three
            more programs to compile; the same fits). Ignored under ``jit``/``vmap``.
        precision: None or ``"mixed"`` (needs x64 on), as :func:`jaxglm.fit`: ``X`` in
            float32, the Gram of the Hessian model from float32 products summed in float64,
            ``X @ d`` and the score read the float32 ``X`` and add in float64; the grid, the
            fits and the deviances in float64. The path is then the float64 path of the
            float32 data (the KKT conditions are checked on the float64 score).

    Returns:
        A :class:`PathResult`.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> X = np.random.default_rng(1).normal(size=(200, 2))
        >>> y = np.random.default_rng(2).poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
        >>> res = jg.path(X, y, jg.Poisson(), n_alphas=5, l1_ratio=0.5)
        >>> res.coef.shape, bool(res.dev_ratio[-1] > res.dev_ratio[0])
        ((5, 2), True)
    """
    spec, (X, y, w, off, pf, grid), given = _prepare(
        X, y, family, link, solver, tol, max_iter, fit_intercept, l1_ratio, weights,
        freq_weights, offset, exposure, penalty_factor, alphas, precision,
    )  # fmt: skip
    ratio = _min_ratio(X.shape, alpha_min_ratio)
    XT = _rows_of_transpose(X, w.dtype)
    unpenalized = _some_unpenalized(pf)
    l1, top = jnp.asarray(l1_ratio, w.dtype), jnp.asarray(ratio, w.dtype)
    size = n_alphas if grid is None else len(grid)
    if progress and is_concrete(X, y, w, off, pf, grid, l1):
        res, _ = _staged(
            (X, XT, y, w, off, pf), None, l1, grid, top, spec.solver, spec.family, spec.link,
            spec.fit_intercept, size, independent, unpenalized,
        )  # fmt: skip
    else:
        res, _ = _path_jit(
            X, XT, y, w, off, pf, l1, grid, top, spec.solver, jnp.zeros_like(w),
            family=spec.family, link=spec.link, fit_intercept=spec.fit_intercept,
            n_alphas=size, independent=independent, unpenalized=unpenalized,
        )  # fmt: skip
    return dataclasses.replace(res, feature_names=given["names"])


def fold_ids(n: int, n_folds: int, seed: int) -> np.ndarray:
    """Balanced random fold labels ``0..n_folds-1`` (deterministic given ``seed``)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % n_folds)


def _fold_labels(
    n: int, rows: np.ndarray | None, n_folds: int, foldid: ArrayLike | None, seed: int
) -> np.ndarray:
    """The (n,) fold labels of the rows of the path: ``foldid``, or ``n_folds`` drawn
    (:func:`fold_ids`), over the caller's rows. Rows from :func:`jaxglm.shard_rows` carry
    padding (``rows``: where the caller's rows lie): the labels are drawn in the caller's
    row order, as for the unsharded rows, and placed at their padded rows; a padding row
    gets the first row's fold, where its weight 0 changes no fit and no held-out deviance."""
    n_rows = n if rows is None else len(rows)
    check_folds(n_folds, foldid, n_rows)
    ids = fold_ids(n_rows, n_folds, seed) if foldid is None else np.asarray(foldid).astype(int)
    if rows is None:
        return ids
    padded = np.full(n, ids[0])
    padded[rows] = ids
    return padded


def cv(
    X: ArrayLike,
    y: ArrayLike,
    family: F.Family | None = None,
    link: L.Link | None = None,
    *,
    weights: ArrayLike | None = None,
    freq_weights: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    exposure: ArrayLike | None = None,
    fit_intercept: bool = True,
    l1_ratio: float = 1.0,
    penalty_factor: ArrayLike | Mapping[str, ArrayLike] | None = None,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    alphas: ArrayLike | None = None,
    n_folds: int = 5,
    foldid: ArrayLike | None = None,
    seed: int = 0,
    refit: str = "min",
    solver: AbstractSolver | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    progress: bool = False,
    precision: str | None = None,
) -> CVResult:
    """k-fold cross-validation of the path: folds x alphas in one compiled program.

    The grid is the full data's (:func:`path`); each fold fits the warm-started path with
    its held-out rows at weight 0 (folds under ``jax.vmap``), and the held-out mean deviance
    ``sum_test w d_i / sum_test w`` is computed for every alpha inside the scan.

    Args:
        X, y, family, link, weights, freq_weights, offset, exposure, fit_intercept,
            l1_ratio, penalty_factor, n_alphas, alpha_min_ratio, alphas, solver, tol,
            max_iter, precision: as :func:`path` (the refit with the same ``precision``).
        n_folds: number of folds when ``foldid`` is None (2 to ``n``).
        foldid: (n,) integer fold labels ``0..K-1`` (overrides ``n_folds``, ``seed``). For
            rows from :func:`jaxglm.shard_rows`, one label per row of the caller's (all
            processes' rows in process order, padding excluded).
        seed: seed of the random fold assignment: over the caller's rows, so that rows from
            :func:`jaxglm.shard_rows` (over devices or processes) get the folds of the
            same rows unsharded.
        refit: ``"min"`` or ``"1se"``: the alpha of ``res.refit``.
        progress: show a tqdm bar of the alphas done by every fold (as :func:`path`).

    Traceable: ``jax.grad`` of ``res.mean`` (the held-out deviance) in ``alphas``,
    ``penalty_factor`` or the data works (derivatives of fits: :func:`jaxglm.fit`); the
    chosen alphas are then traced values and the refit is the traced fit at them.

    Returns:
        A :class:`CVResult`.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> y = rng.poisson(np.exp(0.5 * X[:, 0]))
        >>> res = jg.cv(X, y, jg.Poisson(), n_alphas=5, n_folds=3)
        >>> res.fold_deviance.shape, bool(res.alpha_1se >= res.alpha_min)
        ((3, 5), True)
    """
    if refit not in ("min", "1se"):
        raise ValueError(f"refit must be 'min' or '1se', got {refit!r}")
    rows = _padding.caller_rows(X)
    spec, (X, y_rows, w, off, pf, grid), given = _prepare(
        X, y, family, link, solver, tol, max_iter, fit_intercept, l1_ratio, weights,
        freq_weights, offset, exposure, penalty_factor, alphas, precision,
    )  # fmt: skip
    n, dtype = X.shape[0], w.dtype
    ids = _fold_labels(n, rows, n_folds, foldid, seed)
    folds = np.unique(ids)
    test = jnp.asarray(ids[None, :] == folds[:, None], dtype)  # (K, n)
    ratio = _min_ratio(X.shape, alpha_min_ratio)
    l1, top = jnp.asarray(l1_ratio, dtype), jnp.asarray(ratio, dtype)
    size = n_alphas if grid is None else len(grid)
    if progress and is_concrete(X, y_rows, w, off, pf, grid, l1):
        held_out = jnp.concatenate([jnp.zeros((1, n), dtype), test])
        paths, deviance = _staged(
            (X, _rows_of_transpose(X, dtype), y_rows, w, off, pf), held_out, l1, grid, top,
            spec.solver, spec.family, spec.link, spec.fit_intercept, size, False,
            _some_unpenalized(pf),
        )  # fmt: skip
        full, fold_dev = jax.tree.map(lambda a: a[0], paths), deviance[1:]
    else:
        full, fold_dev = _cv_jit(
            X, _rows_of_transpose(X, dtype), y_rows, w, off, pf, l1, grid, top, spec.solver, test,
            family=spec.family, link=spec.link, fit_intercept=spec.fit_intercept,
            n_alphas=size, unpenalized=_some_unpenalized(pf),
        )  # fmt: skip
    mean = jnp.mean(fold_dev, axis=0)
    se = jnp.std(fold_dev, axis=0, ddof=1) / np.sqrt(len(folds))
    # Array operations, not host ones, so that cv is traceable (derivatives of the
    # held-out deviance in the data, the grid or the penalty factors).
    best = jnp.argmin(mean)
    first_within = jnp.argmax(mean <= mean[best] + se[best])
    alpha_min, alpha_1se = full.alphas[best], full.alphas[first_within]
    index = best if refit == "min" else first_within
    start = full.coef[index]  # the path's fit at that alpha: the refit starts converged
    if spec.fit_intercept:
        start = jnp.concatenate([full.intercept[index][None], start])
    res = fit(
        X, given["y"], spec.family, spec.link, weights=given["weights"],
        freq_weights=given["freq_weights"], offset=given["offset"], exposure=given["exposure"],
        fit_intercept=spec.fit_intercept, alpha=full.alphas[index], l1_ratio=l1_ratio,
        penalty_factor=given["penalty_factor"], solver=spec.solver, start_params=start,
        precision=spec.precision,
    )  # fmt: skip
    names = given["names"]
    full = dataclasses.replace(full, feature_names=names)
    res = dataclasses.replace(res, feature_names=names)
    return CVResult(full, fold_dev, mean, se, alpha_min, alpha_1se, res)
