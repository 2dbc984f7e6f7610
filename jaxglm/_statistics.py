"""Statistics at the solution: deviance, Pearson chi2, llf / AIC / BIC, the covariance,
R's null model and its deviance, and the separation status of binomial-type fits.

A family with an m-vector ``theta`` (:class:`jaxglm.Multinomial`) shares the deviance,
the log-likelihood (:func:`loglik`), the null model and the covariance (the inverse
expected information of ``params.ravel()``); its result is a
:class:`jaxglm.MultinomialResult` with ``llnull`` in place of the null deviance, the scale
fixed at 1 and no Pearson statistic (:func:`_vector_result`).

Two levels (``statistics``, :data:`jaxglm._spec.STATISTICS`): ``"full"`` computes all of
them; ``"minimal"`` (for sweeps that want the coefficients, :func:`jaxglm.fit_many`)
computes the deviance, ``nobs`` and the degrees of freedom, and leaves NaN the statistics
that need their own passes over the rows or a ``(p+1) x (p+1)`` solve: the null deviance
(``llnull``), which needs R's null model (an intercept-only Newton iteration when there
is an offset), ``llf``/``aic``/``bic`` (the likelihood's constants: ``gammaln`` per row for
counts), the Pearson chi2 (and with it an estimated ``scale``) and the covariance. The
iterations and the status are the same: the separation check runs at both levels.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxglm import _implicit, _linalg, inference
from jaxglm import model as M
from jaxglm._batching import cond_any
from jaxglm._status import Status
from jaxglm.results import GLMResult, MultinomialResult
from jaxglm.solvers import Newton
from jaxglm.solvers._line_search import backtrack
from jaxglm.solvers._stopping import floored_tol, within


class Covariance(NamedTuple):
    """How ``_result`` computes the covariance and the scale (static and traced parts)."""

    kind: str  # "model", "robust" or "none"
    groups: jax.Array
    code: jax.Array
    scale_code: jax.Array  # index into jaxglm._spec.SCALE_TYPES (traced: one program)
    scale_value: jax.Array


def separation_status(
    problem: M.Problem, params: jax.Array, eta: jax.Array, status: jax.Array
) -> jax.Array:
    """``SEPARATION`` when a positive-weight row has ``mu`` within ``10 eps`` of 0 or 1 and
    a Fisher scoring step from the solution would still move such a row's ``eta`` outward
    (toward its extreme) by more than ``sqrt(eps) (1 + |eta|)``.

    R's ``glm.fit`` test ("fitted probabilities numerically 0 or 1 occurred", with
    ``eps = 10 * .Machine$double.eps``; here the working dtype's eps), confirmed by the
    step: at a separated design the likelihood increases toward a limit as coefficients
    diverge, so the iteration "converges" on the deviance while such rows appear, and a
    further step still pushes them out (by about 1 with the logit link: the objective
    decays exponentially along the diverging direction). At a finite MLE the step is
    rounding, and fitted probabilities of 1e-6 are part of the answer: in float32, whose
    ``10 eps`` is 1.2e-6, the mean rule alone flagged such fits. A step that cannot be
    solved (the information numerically singular, as it becomes when the diverging rows'
    weights vanish) confirms too. NONFINITE keeps its code, and so does RANK_DEFICIENT
    unless the design itself has full rank (the information turned singular because the
    diverging rows' weights vanished: the solver may stop on that before the mean rule
    applies; one more Gram, only when that happens). A ridge
    penalty on every coefficient makes the optimum finite and unique, and fitted
    probabilities near 0 or 1 are then part of it (wide ridge logistic fits have them):
    such fits are not flagged.
    """
    eps = jnp.finfo(eta.dtype).eps
    mu = M.mean_from_eta(problem.family, problem.link, eta)
    extreme = (problem.w > 0) & ((mu <= 10 * eps) | (mu >= 1 - 10 * eps))
    # a decision, not differentiated (cond_any's batching rule has no linearization)
    operand = lax.stop_gradient((problem, params, eta, mu, extreme))
    separated = cond_any(jnp.any(extreme), _diverging, _false, operand)
    if problem.penalty.shape[0] > 1:
        separated = separated & ~jnp.all(M.penalized(problem)[1:])
    # As the diverging rows' weights vanish the information turns singular, and the solver
    # may stop on that first: RANK_DEFICIENT is separation when the design has full rank.
    singular = separated & (status == Status.RANK_DEFICIENT)
    full_rank = cond_any(singular, _full_rank, _false, lax.stop_gradient(problem))
    replace = separated & ((status == Status.CONVERGED) | (status == Status.MAX_ITER)
                           | (status == Status.LINE_SEARCH_FAILED) | full_rank)  # fmt: skip
    return jnp.where(replace, Status.SEPARATION, status).astype(status.dtype)


def _diverging(operand) -> jax.Array:
    """Whether a Fisher scoring step from the solution moves an extreme row's ``eta``
    outward (:func:`separation_status`), or cannot be solved."""
    problem, params, eta, mu, extreme = operand
    eps = jnp.finfo(eta.dtype).eps
    g, h = M.row_derivatives(problem, eta, fisher=True)
    H, grad = _linalg.pin_intercept(
        M.hessian(problem, h), M.gradient(problem, params, g), problem.fit_intercept
    )
    factors, ok = _linalg.factor(H)
    move = -M.direction(problem, _linalg.solve(factors, grad)) * jnp.sign(mu - 0.5)
    return ~ok | jnp.any(extreme & (move > jnp.sqrt(eps) * (1.0 + jnp.abs(eta))))


def _false(operand) -> jax.Array:
    """The branch not taken: False (not diverging; not of full rank)."""
    return jnp.asarray(False)


def _full_rank(problem: M.Problem) -> jax.Array:
    """Whether the prior-weighted Gram ``[1 X]^T diag(w) [1 X]`` (plus the penalty)
    factors: the design's own rank, whatever the fitted weights."""
    H = M.hessian(problem, jnp.ones_like(problem.w))
    H, _ = _linalg.pin_intercept(H, jnp.zeros_like(H[0]), problem.fit_intercept)
    return _linalg.factor(H)[1]


def loglik(problem: M.Problem, eta: jax.Array, prior, freq, phi: jax.Array) -> jax.Array:
    """The log-likelihood at ``eta`` with dispersion ``phi``: ``sum_i fw_i (w_i (y_i theta_i
    - a(theta_i)) / phi + log b(y_i, phi, w_i))`` over the rows with positive weight."""
    fam = problem.family
    theta = M.theta_from_eta(fam, problem.link, eta)
    rows = prior * fam.natural_loglik(problem.y, theta) / phi + fam.log_base_measure(
        problem.y, phi, prior
    )
    return _linalg.row_sum(jnp.where(problem.w > 0, freq * rows, 0.0))


def _covariance(problem, solver, state, prior, freq, spec, nobs, scale, penalized):
    """``(cov, n_groups)``: ``scale`` x the inverse expected information, a sandwich
    (``spec.kind == "robust"``), or NaN (``"none"``, or a solver without the information).

    The inverse of a :class:`jaxglm._linalg.BlockGram` information (a design with an
    eliminated categorical block) is kept as a :class:`jaxglm._linalg.DiagonalPlusLowRank`,
    and so is a design's NaN covariance: no (p+1, p+1) matrix (:func:`jaxglm._linalg.inverse`).
    """
    dtype = problem.y.dtype
    k = state.params.size
    info = None if spec.kind == "none" else solver.information(problem, state)
    n_groups = jnp.asarray(jnp.nan, dtype)
    if info is None:
        cov = _linalg.nan_covariance(problem.X, k, dtype)
    elif spec.kind == "robust":
        cov, ok, groups = inference.sandwich_cov(
            problem, state.eta, prior, freq, spec.groups, spec.code, nobs
        )
        cov = _linalg.nan_where(penalized | ~ok, cov)
        n_groups = jnp.where(spec.code == inference.robust_code("cluster"), groups, jnp.nan)
    else:
        factors, ok = _linalg.factor(info)
        inv = _linalg.inverse(factors) / problem.total_weight
        cov = _linalg.nan_where(penalized | ~ok, inv * scale)
    return cov, n_groups


def result(
    problem, solver, state, prior, freq, has_offset, spec, statistics: str = "full"
) -> GLMResult:
    """Statistics at the solution, all of them or the ``"minimal"`` level (module docs)."""
    if problem.family.event_ndim:
        return _vector_result(problem, solver, state, prior, freq, has_offset, spec, statistics)
    fam, link = problem.family, problem.link
    p = problem.X.shape[1]
    dtype = problem.y.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    full = statistics == "full"
    eta = state.eta
    valid = problem.w > 0
    deviance = M.deviance_at(problem, eta)
    nobs = _linalg.row_sum(jnp.where(valid, freq, 0.0))
    rank = p + int(problem.fit_intercept)
    df_resid = nobs - rank
    penalized = jnp.any(M.penalized(problem))
    pearson, llf, aic, bic, null_dev = nan, nan, nan, nan, nan
    if full:
        mu = M.mean_from_eta(fam, link, eta)
        pearson_rows = problem.w * (problem.y - mu) ** 2 / fam.variance(mu)
        pearson = _linalg.row_sum(jnp.where(valid, pearson_rows, 0.0))
        # Log-likelihood with R's dispersion convention (families.Family.llf_scale).
        phi = fam.llf_scale(deviance, nobs, problem.total_weight)
        llf = loglik(problem, eta, prior, freq, phi)
        k = rank + fam.dispersion_params()
        aic = jnp.where(penalized, jnp.nan, -2.0 * llf + 2.0 * k)
        bic = jnp.where(penalized, jnp.nan, -2.0 * llf + jnp.log(nobs) * k)
        null_dev = null_deviance(problem, has_offset)
    scale = jnp.stack([pearson / df_resid, deviance / df_resid, spec.scale_value])[spec.scale_code]

    # Covariance: scale x inverse expected information (R's summary.glm), a sandwich, or
    # none (kind "none": cov_type="none" or the minimal level).
    cov, n_groups = _covariance(problem, solver, state, prior, freq, spec, nobs, scale, penalized)

    return GLMResult(
        coef=state.params[1:], intercept=state.params[0], cov=cov,
        scale=jnp.asarray(scale, dtype), deviance=deviance, null_deviance=null_dev,
        llf=llf, aic=aic, bic=bic, pearson_chi2=pearson, nobs=nobs,
        df_model=jnp.asarray(p, dtype), df_resid=df_resid,
        n_iter=state.n_iter, status_code=state.status, family=fam, link=link,
        fit_intercept=problem.fit_intercept, n_groups=n_groups,
    )  # fmt: skip


def _vector_result(
    problem, solver, state, prior, freq, has_offset, spec, statistics
) -> MultinomialResult:
    """The statistics of an m-vector ``theta`` fit (scale 1): ``K = (p+1) m`` parameters
    (``p m`` without an intercept) for AIC/BIC and ``df_resid``; ``llnull`` at R's null
    model (:func:`null_predictor`)."""
    p = problem.X.shape[1]
    m = state.params.shape[1]
    dtype = problem.y.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    nobs = _linalg.row_sum(jnp.where(problem.w > 0, freq, 0.0))
    k = (p + int(problem.fit_intercept)) * m
    one = jnp.ones((), dtype)
    penalized = jnp.any(M.penalized(problem))
    llf, llnull, aic, bic = nan, nan, nan, nan
    if statistics == "full":
        llf = loglik(problem, state.eta, prior, freq, one)
        llnull = loglik(problem, null_predictor(problem, has_offset), prior, freq, one)
        aic = jnp.where(penalized, jnp.nan, -2.0 * llf + 2.0 * k)
        bic = jnp.where(penalized, jnp.nan, -2.0 * llf + jnp.log(nobs) * k)
    cov, n_groups = _covariance(problem, solver, state, prior, freq, spec, nobs, one, penalized)
    return MultinomialResult(
        params=state.params, cov=cov, llf=llf, llnull=llnull,
        deviance=M.deviance_at(problem, state.eta), aic=aic, bic=bic,
        nobs=nobs, df_model=jnp.asarray(p * m, dtype), df_resid=nobs - k,
        n_iter=state.n_iter, status_code=state.status, family=problem.family,
        fit_intercept=problem.fit_intercept, n_groups=n_groups,
    )  # fmt: skip


def null_eta(problem: M.Problem) -> jax.Array:
    """The linear predictor of R's null model: the offset plus the intercept-only fit's
    intercept (:func:`_null_intercept`), or the offset alone without an intercept."""
    if not problem.fit_intercept:
        return problem.offset
    null = dataclasses.replace(
        problem, X=_linalg.no_columns(problem.X), XT=None, penalty=problem.penalty[:1], l1=None
    )
    params, eta, hess, converged = _null_intercept(lax.stop_gradient(null))
    params = _implicit.root(
        _implicit.glm_residual, _null_preconditioner, null, params, (hess, converged)
    )
    return _implicit.reuse(M.linear_predictor, eta, null, params)


def _null_intercept(null: M.Problem):
    """Newton's method on the intercept alone (``null``: the problem without columns), from
    the closed-form point of :func:`jaxglm.model.null_params`: ``(params, eta, hess,
    converged)``.

    A scalar problem (``m`` intercepts for an m-vector ``theta``): the gradient and the
    curvature are weighted sums over the rows, the step their quotient (an ``m x m`` solve),
    so there is no Gram product and no factorization of a design. The curvature is the
    observed one where it is positive, else the expected one (Fisher's, as
    :class:`jaxglm.Newton` falls back); Armijo backtracking as Newton's, and its stopping
    rule: the step from a point whose decrement is within ``tol`` is the last one.
    """
    newton = Newton()
    params = M.null_params(null)
    k = M.intercept_width(params)
    tol = floored_tol(newton.tol, null.y.dtype)

    def model(params, eta):
        g, h = M.row_derivatives(null, eta, fisher=False)
        grad = M.gradient(null, params, g).reshape(k)
        hess = _weighted_sum(null, h).reshape(k, k) / null.total_weight
        if not null.canonical:
            _, h_expected = M.row_derivatives(null, eta, fisher=True)
            expected = _weighted_sum(null, h_expected).reshape(k, k) / null.total_weight
            hess = jnp.where(hess > 0, hess, expected)
        hess = hess + M.penalty_hessian(null, k)
        if k == 1:
            step = -grad / hess[0]
        else:
            factors, _ = _linalg.factor(hess)
            step = -_linalg.solve(factors, grad)
        return grad, hess, jnp.where(jnp.isfinite(step), step, 0.0)

    def body(state):
        params, eta, f, _, _, _, n_iter = state
        grad, hess, step = model(params, eta)
        decrement = -jnp.dot(grad, step)
        small = within(decrement, f, tol, null.total_weight)
        t, f, found = backtrack(
            lambda t: M.objective(null, params + t * step.reshape(params.shape),
                                  eta + t * step),
            f, -decrement, small,
        )  # fmt: skip
        params = params + t * step.reshape(params.shape)
        return params, eta + t * step, f, hess, small & found, small | ~found, n_iter + 1

    def running(state):
        return ~state[5] & (state[6] < newton.max_iter)

    eta = M.linear_predictor(null, params)
    no = jnp.asarray(False)
    start = (params, eta, M.objective(null, params, eta), jnp.eye(k, dtype=eta.dtype), no, no, 0)
    params, eta, _, hess, converged, _, _ = lax.while_loop(running, body, start)
    return params, eta, hess, converged


def _weighted_sum(problem: M.Problem, r: jax.Array) -> jax.Array:
    """``sum_i w_i r_i`` over the rows with positive weight (``r`` (n,) or (n, m, m))."""
    w = M.per_row(problem.w, r)
    return _linalg.row_sum(jnp.where(w > 0, w * r, 0.0))


def _null_preconditioner(null: M.Problem, params: jax.Array, aux):
    """The null model's last curvature as the derivative's solve (:func:`jaxglm._implicit.root`);
    valid when its iteration converged."""
    hess, converged = lax.stop_gradient(aux)
    factors, ok = _linalg.factor(hess)
    return functools.partial(_linalg.solve, factors), converged & ok


def null_predictor(problem: M.Problem, has_offset: bool) -> jax.Array:
    """The linear predictor of R's null model: :func:`null_eta`, in closed form without an
    offset (the link of the weighted mean, per class for an m-vector ``theta``)."""
    if problem.fit_intercept and not has_offset:
        ybar = M.weighted_mean(problem, problem.y)
        eta = M.eta_from_mean(problem.family, problem.link, ybar)
        return jnp.broadcast_to(eta, problem.y.shape)
    return null_eta(problem)


def null_deviance(problem: M.Problem, has_offset: bool) -> jax.Array:
    """R's null deviance: the deviance at :func:`null_predictor`."""
    return M.deviance_at(problem, null_predictor(problem, has_offset))
