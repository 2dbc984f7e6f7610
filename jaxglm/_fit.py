"""``fit()``: the short pipeline every entry point shares (shared/DESIGN.md).

resolve (:func:`jaxglm._spec.resolve_spec`) -> validate (:func:`jaxglm._spec.validate`)
-> prepare (:func:`prepare`: row padding, dtype, neutral values for absent arrays) -> the
compiled fit (:func:`run`, one program per specification and shape) -> report
(:func:`report`: warnings from the status codes, names from the design).
:func:`jaxglm.fit_many`, :func:`jaxglm.bootstrap` and the paths use the same steps.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxglm import _aliasing, _frames, _host, _implicit, _linalg, _padding, designs
from jaxglm import _statistics as S
from jaxglm import families as F
from jaxglm import links as L
from jaxglm import model as M
from jaxglm._spec import (
    FitSpec,
    check_finite_design,
    column_names,
    is_concrete,
    resolve_spec,
    validate,
)
from jaxglm._status import ConvergenceWarning, PerfectSeparationWarning, Status
from jaxglm.inference import ClusterCodes, FittedRows
from jaxglm.results import GLMResult, MultinomialResult
from jaxglm.solvers import AbstractSolver, iterate, nb_alpha

__all__ = ["fit", "prepare", "report", "run"]


def fit(
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
    alpha: ArrayLike = 0.0,
    l1_ratio: float = 0.0,
    penalty_factor: ArrayLike | Mapping[str, ArrayLike] | None = None,
    solver: AbstractSolver | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    start_params: ArrayLike | None = None,
    cov_type: str = "nonrobust",
    groups: ArrayLike | None = None,
    scale: float | str | None = None,
    use_t: bool | None = None,
    drop_collinear: bool = False,
    precision: str | None = None,
    statistics: str = "full",
) -> GLMResult | MultinomialResult:
    """Fit a generalized linear model by (penalized) maximum likelihood.

    The model is ``g(E[y]) = eta = offset + intercept + X @ beta`` with ``y`` from
    ``family`` and ``Var(y_i) = phi V(mu_i) / weights_i``. The solver minimizes
    ``deviance / (2 sum(w)) + alpha / 2 * sum_j penalty_factor_j beta_j^2`` (``w`` = prior
    x frequency weights; the intercept is never penalized).

    Args:
        X: (n, p) design, without an intercept column. A pandas DataFrame's column names
            label the summary. A :class:`jaxglm.Design` (:func:`jaxglm.design`: dense,
            categorical and sparse blocks) is fitted without one-hot encoding by every
            built-in solver (``Newton()`` the default for it; README: designs).
        y: (n,) response. For ``Binomial`` the proportion of successes, with the trial
            counts as ``weights``; for ``Bernoulli`` 0/1; for :class:`jaxglm.Multinomial`
            integer labels ``0..k-1`` (n,) or (n, k) rows of class proportions.
        family: a :class:`jaxglm.Family`; default ``Gaussian()``.
        link: a :class:`jaxglm.Link`; default the family's (R's) default link.
        weights: (n,) prior weights as R's ``glm(weights=)``; rows with weight 0 are
            dropped (not counted in ``nobs`` or the degrees of freedom).
        freq_weights: (n,) frequency weights: row ``i`` stands for ``freq_weights[i]``
            identical rows (``nobs``, ``df_resid``, ``scale`` and BIC count them).
        offset: (n,) known part of ``eta``; for Multinomial also (n, m), one column per
            class of ``theta`` (an (n,) offset is added to every class).
        exposure: (n,) positive exposure; ``log(exposure)`` is added to the offset.
        fit_intercept: include an (unpenalized) intercept.
        alpha: ridge penalty strength (traceable, so it can be vmapped).
        l1_ratio: elastic-net mixing in [0, 1]: the penalty is ``alpha * sum_j f_j
            (l1_ratio |beta_j| + (1 - l1_ratio) / 2 beta_j^2)`` (glmnet's and glum's form).
            A number > 0 selects :class:`jaxglm.ProxNewton` (``bse``, ``aic`` and ``bic``
            are then NaN and ``res.kkt_violation`` reports the optimality); a traced value
            (vmap over it) needs ``solver=jaxglm.ProxNewton()``.
        penalty_factor: (p,) per-feature penalty factors ``f_j >= 0`` (default 1); with a
            :class:`jaxglm.Design`, also ``{name: factor}`` per categorical block or
            column (:meth:`jaxglm.Design.penalty_factor`; unnamed columns 1).
        solver: a solver object (default :func:`jaxglm.solvers.default_solver`: Newton,
            or SubsampledNewton from 100,000 rows and 500 per parameter, for p up to about
            250; else L-BFGS).
        tol, max_iter: override the solver's own defaults when given.
        start_params: starting ``params`` (intercept first when ``fit_intercept``);
            default R's start (one IRLS step from the family's ``mustart``).
        cov_type: the covariance of ``params`` (:func:`jaxglm.inference.sandwich_cov`):
            ``"nonrobust"`` (default: ``scale`` x inverse expected information, R's
            ``summary.glm``); ``"HC0"``, ``"HC1"``, ``"HC2"``, ``"HC3"``
            (heteroscedasticity robust sandwich); ``"cluster"`` (cluster robust, with
            ``groups``; correction ``G/(G-1) (n-1)/(n-k)``, statsmodels' default). The
            sandwich's bread is the observed Hessian, as statsmodels' GLM; it does not
            depend on ``scale``. ``"none"``: no covariance (``bse``, tests and intervals
            NaN), which skips the ``(p+1) x (p+1)`` information at the solution — for a
            :class:`jaxglm.SubsampledNewton` fit a Gram product over all rows, the largest
            single cost of a large fit.
        groups: (n,) integer cluster labels for ``cov_type="cluster"`` (any integers;
            traceable: the clusters are counted inside the compiled fit, only clusters
            with a positive-weight row count), or :class:`jaxglm.inference.ClusterCodes`
            (codes ``0..G-1`` with their number: what :func:`jaxglm.shard_rows` returns).
        scale: the dispersion used by ``bse`` and the tests: None (the family's: Pearson
            chi2 / ``df_resid`` where the family has a free dispersion, else 1),
            ``"X2"`` (Pearson chi2 / ``df_resid``, e.g. quasi-Poisson), ``"dev"``
            (deviance / ``df_resid``) or a positive number (fixed). It does not change
            ``llf``/``aic``/``bic`` (the family's likelihood, as R's).
        use_t: use Student's t (with ``df_resid``; with ``G - 1`` for ``"cluster"``) for
            p-values, intervals and tests (F for Wald tests). Default (None): R's rule,
            t exactly when the scale is estimated (``scale`` None with a free-dispersion
            family, ``"X2"`` or ``"dev"``). statsmodels' GLM defaults to the normal
            (``use_t=False``); pass ``use_t=False`` to get its p-values.
        drop_collinear: R's behaviour for an aliased (collinear or constant) column: the
            columns of ``[1, X]`` (rows with positive weight) are taken in order and a
            column is aliased when its residual norm after projection on the kept earlier
            columns is below ``1e-7`` times its own norm (R's ``qr(tol = 1e-7)``, limited
            pivoting); the model is fitted on the kept columns and the aliased ones get
            NaN ``coef``, ``bse`` and covariance (``res.aliased`` lists their indices).
            Needs concrete inputs. With False (default) an aliased column is reported by
            a :class:`ConvergenceWarning` naming it and, as a rule, status
            ``RANK_DEFICIENT``.
        precision: None (default): every array in the dtype of ``X`` (float32 data, float32
            arithmetic). ``"mixed"`` (needs x64 on): ``X`` held in float32 (a float64 ``X``
            is rounded to it); the Gram ``X^T W X`` formed from float32 products over
            blocks of rows, the blocks summed in float64; ``X @ beta`` and the score
            ``r @ X`` read the float32 ``X`` and multiply and add in float64; the row
            vectors (``eta``, ``mu``, weights), the ``(p+1) x (p+1)`` solve and the
            statistics in float64. Its params are those of a float64 fit of the float32
            data; its ``bse`` carry the float32 Gram's rounding on designs of 8,192 rows
            or more (README, "float32 and float64"). The result is float64.
        statistics: ``"full"`` (default) or ``"minimal"``: params, deviance, nobs, degrees
            of freedom, iterations and status only; the null deviance, ``llf``/``aic``/
            ``bic``, the Pearson chi2 and the covariance read NaN (as
            :func:`jaxglm.fit_many`'s).

    Compilation: one program per (family, link, solver, ``p``, dtype, size bucket of ``n``).
    Concrete inputs are padded on the host with rows of weight 0 up to the next size bucket
    (``n <= 32`` -> 32, else the next multiple of ``2 ** (floor(log2 n) - 3)``: less than
    12.5% extra rows), so e.g. every ``n`` from 1,000 to 1,024 runs one program. The padded
    rows change no result (``nobs``, degrees of freedom and all statistics mask zero
    weights) and nothing of them is returned. Not padded: traced inputs (under
    ``jit``/``vmap``: pad before), ``jax.Array`` inputs (data the caller already put on a
    device: padding would copy it, about 0.5 s for 800 MB here), mini-batch
    :class:`jaxglm.Optax` and :class:`jaxglm.SubsampledNewton` (their row batches and
    subsamples depend on ``n``). On the CPU, the program of a small design (at most
    ``2**17`` elements, padded rows x columns) compiles with XLA options that make the
    compile several times faster and the fit, a matter of milliseconds at that size, slower
    (optimization level 0 and the older kernel emitters, for that program only; README,
    "Small fits compile quickly"); larger designs, accelerators and a fit inside the
    caller's ``jit``/``vmap`` compile with XLA's defaults.

    Derivatives: ``fit`` is differentiable in ``X``, ``y``, ``weights``, ``freq_weights``,
    ``offset``, ``exposure``, ``alpha``, ``penalty_factor`` and the family's parameters
    (forward and reverse mode, ``jax.hessian``, under ``jit`` and ``vmap``); the derivative
    is that of the solution, by the implicit function theorem (:mod:`jaxglm._implicit`),
    not of the iterations; ``start_params`` have derivative 0; a fit whose status is not
    CONVERGED has NaN derivatives.

    Returns:
        A :class:`jaxglm.GLMResult` (a :class:`jaxglm.MultinomialResult` for Multinomial,
        whose ``params`` are (p+1, m)). Failure is a value: check ``res.converged`` /
        ``res.status``. When the inputs are concrete (not traced by ``jit``/``vmap``) the
        inputs are validated (``ValueError`` naming the argument and the first bad index)
        and a :class:`ConvergenceWarning` is issued if the fit did not converge, a
        :class:`PerfectSeparationWarning` naming the columns for status ``SEPARATION``.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(500, 2))
        >>> y = rng.poisson(np.exp(0.5 + X @ np.array([0.3, -0.2])))
        >>> res = jg.fit(X, y, family=jg.Poisson())
        >>> res.params.shape, bool(res.converged)
        ((3,), True)
        >>> import jax
        >>> dparams_dy = jax.jacrev(lambda y: jg.fit(X, y, family=jg.Poisson()).params)(y * 1.0)
        >>> dparams_dy.shape
        (3, 500)
    """
    X, penalty_factor = designs.for_fit(X, fit_intercept, penalty_factor)
    spec = resolve_spec(
        family, link, solver, np.shape(X), fit_intercept=fit_intercept, l1_ratio=l1_ratio,
        tol=tol, max_iter=max_iter, cov_type=cov_type, groups=groups, scale=scale, use_t=use_t,
        y=y, precision=precision, statistics=statistics, design=isinstance(X, designs.Design),
    )  # fmt: skip
    arrays = dict(
        X=X, y=y, weights=weights, freq_weights=freq_weights, offset=offset,
        exposure=exposure, alpha=alpha, penalty_factor=penalty_factor, start_params=start_params,
    )  # fmt: skip
    return fit_spec(spec, arrays, groups, drop_collinear)


def fit_spec(
    spec: FitSpec, arrays: dict[str, Any], groups: Any = None, drop_collinear: bool = False
) -> GLMResult | MultinomialResult:
    """:func:`fit` after its arguments are resolved: validate, prepare, run, report (the
    warnings point at the caller of the public entry point that called this)."""
    names = column_names(arrays["X"])
    arrays, groups = _frames.to_host(arrays, groups)
    X = arrays["X"]
    concrete = is_concrete(arrays, groups, spec)
    if drop_collinear and spec.family.event_ndim:
        raise ValueError(f"drop_collinear=True is not supported for {spec.family.name}")
    if drop_collinear and isinstance(X, designs.Design):
        raise ValueError("drop_collinear=True needs a dense X, not a jaxglm.Design")
    if not concrete:
        if drop_collinear:
            raise ValueError("drop_collinear=True needs concrete inputs (not under jit/vmap)")
        return run(spec, arrays, groups, names)
    # A dense X's finiteness is read off the fit when it can be (_check_finite_after):
    # the pass of validate's check is then saved.
    after = not (drop_collinear or spec.family.event_ndim or isinstance(X, designs.Design))
    validate(spec, **arrays, groups=groups, finite_X=not after)
    dropped = ()
    if drop_collinear:  # R's rule is a host QR of X (as dear as a Gram): only when asked
        dropped = _aliasing.aliased(
            X, arrays["weights"], arrays["freq_weights"], arrays["alpha"], spec.fit_intercept
        )
    kept = _drop_columns(arrays, dropped, spec.fit_intercept)
    prepared, groups = prepare(spec, kept, groups)
    res = run(spec, prepared, groups, None if dropped else names, keep_rows=True)
    if after:
        _check_finite_after(X, res)
    if dropped:
        res = _expand(res, dropped, np.shape(X)[1], names)
    if isinstance(res, GLMResult) and res.fitted_rows is not None:  # its rows, not padding
        n = np.shape(X)[0]  # sliced on the host: an eager slice would compile per n
        rows = jax.tree.map(lambda a: a if a.shape[0] == n else np.asarray(a)[:n], res.fitted_rows)
        res = dataclasses.replace(res, fitted_rows=rows)
    report(spec, res, arrays, names, stacklevel=4)
    return res


def _check_finite_after(X: Any, res: GLMResult) -> None:
    """:func:`jaxglm._spec.check_finite_design` of a dense ``X`` after its fit, unless the
    fit shows every entry finite: status CONVERGED (its last gradient, a column sum over
    all rows, was finite) with a finite linear predictor in every row (a non-finite entry
    makes its row's ``X @ params`` non-finite, whatever ``params``). The check's pass over
    ``X`` then runs only on that rare path; where it finds every entry finite (the fit's
    sums overflowed, or a float64 ``X`` rounded to float32 by ``precision="mixed"`` did),
    the result stands as the fit gave it, with its status and warning, as before. (``eta``
    is tested on the host, no program to compile; rows sharded over processes, which the
    host cannot gather, where they are.) Under an outer ``jax.jit`` with ``X`` closed over
    (concrete data, a traced fit) the fit shows nothing yet: ``X`` is checked as before."""
    eta = res.fitted_rows.eta
    if isinstance(eta, jax.core.Tracer) or isinstance(res.status, jax.core.Tracer):
        check_finite_design(X)
        return
    if getattr(eta, "is_fully_addressable", True):
        finite = np.isfinite(eta).all()
    else:
        finite = jnp.all(jnp.isfinite(eta))
    if int(res.status) == Status.CONVERGED and bool(finite):
        return
    check_finite_design(X)


def prepare(
    spec: FitSpec, arrays: dict[str, Any], groups: Any, members: tuple[str, ...] = ()
) -> tuple[dict[str, Any], Any]:
    """Pad the rows of validated, concrete host arrays to their size bucket (when the
    solver allows it and no array is already on a device); ``members`` names the arrays
    given per batch member (their rows are axis 1)."""
    row_arrays = [arrays.get(k) for k in _padding.ROW_ARGS]
    if not spec.solver.shards_rows and any(_padding.is_sharded(a) for a in row_arrays):
        raise ValueError(
            f"{spec.solver.name} does not run on rows sharded over devices (its mini-batches "
            "are slices of rows): use full-batch Optax (batch_size=None), Newton or "
            "SubsampledNewton, or jaxglm.fit_stream for data larger than one device"
        )
    if not (spec.solver.pads_rows and _padding.can_pad(*row_arrays, *jax.tree.leaves(groups))):
        return arrays, groups
    n_to = _padding.bucket_size(np.shape(arrays["X"])[-2])
    arrays = _padding.pad_fit_arrays(arrays, n_to, members)
    groups = jax.tree.map(lambda labels: _padding.pad_labels(labels, n_to), groups)
    return arrays, groups


def run(
    spec: FitSpec,
    arrays: dict[str, Any],
    groups: Any,
    names: tuple[str, ...] | None = None,
    keep_rows: bool = False,
) -> GLMResult | MultinomialResult:
    """The compiled fit of one model: cast to the design's dtype, absent arrays as their
    neutral values (so that fits with and without them share one program), then
    ``_fit_jit`` (``_fit_jit_quick`` where :func:`quick_compile` says so). Traceable: the
    members of :func:`jaxglm.fit_many` call it under vmap. ``keep_rows``: the result keeps
    the fit's linear predictor, response and prior weights (``fitted_rows``, for
    residuals; a single fit's, n long; batches do not keep them)."""
    # Concrete host inputs are prepared with NumPy and handed to the jitted function as
    # they are (one transfer each); eager jnp calls would each dispatch a small program.
    on_host = is_concrete(arrays, groups) and not any(
        isinstance(v, jax.Array) for v in arrays.values()
    )
    xp = np if on_host else jnp
    X = arrays["X"]
    if isinstance(X, designs.Design):  # its names stay out of the compiled program
        dtype = jax.dtypes.canonicalize_dtype(X.dtype)
        X = dataclasses.replace(X, dense_names=(), sparse_names=()).astype(dtype)
    else:
        X, dtype = dense_design(X, spec.precision, on_host=xp is np)
    n, p = X.shape
    cast = {
        k: None if v is None else _host.aligned(v, dtype) if xp is np else xp.asarray(v, dtype)
        for k, v in arrays.items()
        if k != "X"
    }
    # Neutral row arrays: placed like y's rows when those are sharded (no n-sized array
    # is built on one device and spread from there).
    rows = {} if xp is np or not _padding.is_sharded(cast["y"]) else dict(device=cast["y"].sharding)
    ones = xp.ones(n, dtype, **rows)
    off = xp.zeros(n, dtype, **rows) if cast["offset"] is None else cast["offset"]
    if cast["exposure"] is not None:
        log_exposure = xp.log(cast["exposure"])
        off = off + log_exposure.reshape(log_exposure.shape + (1,) * (np.ndim(off) - 1))
    if spec.family.event_ndim:  # labels or rows of k classes -> (n, m)
        cast["y"] = spec.family.encode(cast["y"])
    l1_ratio = spec.l1_ratio
    _check_fits_device(X)
    X, centre = _centring(spec, X, dtype, cast["weights"])
    quick = _top_level() and quick_compile(X.shape, _platform(X))
    try:
        res = (_fit_jit_quick if quick else _fit_jit)(
            X, cast["y"],
            ones if cast["weights"] is None else cast["weights"],
            ones if cast["freq_weights"] is None else cast["freq_weights"],
            off, cast["alpha"], np.asarray(l1_ratio, dtype) if is_concrete(l1_ratio) else l1_ratio,
            xp.ones(p, dtype) if cast["penalty_factor"] is None else cast["penalty_factor"],
            cast["start_params"], _labels(groups, xp),
            np.int32(spec.robust_code), np.int32(spec.scale_code),
            jnp.asarray(spec.scale_value, dtype),
            family=spec.family, link=spec.link, solver=spec.solver,
            fit_intercept=spec.fit_intercept,
            has_offset=arrays["offset"] is not None or arrays["exposure"] is not None,
            covariance=spec.covariance, estimate_alpha=spec.estimate_alpha,
            keep_rows=keep_rows, statistics=spec.statistics, centre=centre,
        )  # fmt: skip
    except jax.errors.JaxRuntimeError as e:
        if "RESOURCE_EXHAUSTED" not in str(e) and "out of memory" not in str(e).lower():
            raise
        raise MemoryError(_too_large(X, "ran out of memory in the compiled fit")) from e
    scale = {} if spec.family.event_ndim else dict(scale_type=spec.scale_type, use_t=spec.use_t)
    cov_type = "none" if spec.covariance == "none" else spec.cov_type
    return dataclasses.replace(
        res, feature_names=names, solver_name=spec.solver.name, cov_type=cov_type, **scale
    )


def dense_design(X: Any, precision: str | None, on_host: bool) -> tuple[Any, jnp.dtype]:
    """``(X, dtype)``: a dense ``X`` in its storage dtype, and the fit's working dtype.

    Both are ``X``'s floating dtype (float for integers and booleans) as JAX canonicalizes
    it; with ``precision="mixed"`` float32 storage and products, float64 for the rest. A
    NumPy ``X`` is copied at most once (:mod:`jaxglm._host`): kept on the host with
    ``on_host`` (the compiled call adopts it), else put on the default device; a
    ``jax.Array`` or a tracer is cast."""
    if not isinstance(X, jax.Array | jax.core.Tracer):
        X = np.asarray(X)
    if precision == "mixed":
        storage, dtype = np.dtype(np.float32), jnp.dtype(jnp.float64)
    else:
        floating = jnp.issubdtype(X.dtype, jnp.floating)
        dtype = jax.dtypes.canonicalize_dtype(X.dtype if floating else jnp.result_type(float))
        storage = dtype
    if isinstance(X, np.ndarray):
        return (_host.aligned(X, storage) if on_host else _host.to_device(X, storage)), dtype
    return X.astype(storage), dtype


DEVICE_MEMORY_SHARE = 0.5
"""A design above this share of its device's memory (where the device reports it) is
refused before the fit: the fit's temporaries (a weighted copy for the Gram product, the
row vectors) need the rest."""


def _too_large(X: Any, what: str) -> str:
    device = X.sharding if isinstance(X, jax.Array) else jax.local_devices()[0]
    return (
        f"the fit's data are too large for the device: X ({X.shape[0]:,} x {X.shape[1]:,} "
        f"{X.dtype}, {X.nbytes / 2**30:.2f} GiB) on {device} {what}. Shard the rows over "
        "several devices or processes (jaxglm.shard_rows, jaxglm.distributed), or stream "
        "them in chunks (jaxglm.fit_stream: data larger than memory)"
    )


def _check_fits_device(X: Any) -> None:
    """A MemoryError naming the ways out when ``X`` exceeds DEVICE_MEMORY_SHARE of its
    device's memory (devices that report their memory: GPUs, TPUs)."""
    if not is_concrete(X):
        return
    if isinstance(X, jax.Array):  # this process's first shard and its device
        shard = X.addressable_shards[0]
        device, per_device = shard.device, shard.data.nbytes
    else:
        device, per_device = jax.local_devices()[0], X.nbytes
    stats = device.memory_stats()
    if not stats or "bytes_limit" not in stats:
        return
    if per_device > DEVICE_MEMORY_SHARE * stats["bytes_limit"]:
        limit = stats["bytes_limit"] / 2**30
        raise MemoryError(_too_large(X, f"exceeds half of its {limit:.1f} GiB"))


def report(
    spec: FitSpec,
    res: GLMResult | MultinomialResult,
    arrays: dict[str, Any],
    names: tuple[str, ...] | None,
    stacklevel: int = 2,
) -> None:
    """Warn about a concrete single fit that did not converge: a ConvergenceWarning (naming
    R's aliased columns for a singular system), a PerfectSeparationWarning naming the
    diverging columns; ``stacklevel`` points at the caller of the entry point."""
    X, weights, freq_weights = arrays["X"], arrays["weights"], arrays["freq_weights"]
    alpha = arrays["alpha"]
    if not is_concrete(res.status):  # inside an outer jit the result may be traced
        return
    status = int(res.status)
    if isinstance(X, designs.Design):  # R's aliasing and the diverging columns read X densely
        if status == Status.RANK_DEFICIENT:
            _warn_empty_levels(X.for_model(spec.fit_intercept), weights, freq_weights, stacklevel)
        X = names = None
    if status == Status.RANK_DEFICIENT and not res.aliased and X is not None:
        dropped = _aliasing.aliased(X, weights, freq_weights, alpha, spec.fit_intercept)
        if dropped:
            warnings.warn(
                f"columns {_aliasing.names(dropped, names)} of X are collinear with the "
                "earlier columns (or constant, with the intercept): the coefficients are "
                "not identified; pass drop_collinear=True for R's NA coefficients",
                ConvergenceWarning,
                stacklevel=stacklevel,
            )
    if status == Status.SEPARATION:
        columns = () if X is None else _aliasing.separating_columns(np.asarray(X, float), res)
        diverging = "" if X is None else f"; diverging columns: {_aliasing.names(columns, names)}"
        warnings.warn(
            f"{spec.family.name} fit: {res.status_message}{diverging}",
            PerfectSeparationWarning,
            stacklevel=stacklevel,
        )
    elif status != Status.CONVERGED:
        warnings.warn(
            f"{spec.family.name} fit did not converge: {res.status_message}",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def _warn_empty_levels(X: designs.Design, weights: Any, freq_weights: Any, stacklevel: int):
    """A ConvergenceWarning naming the levels of a singular design fit that no row of
    positive weight falls in (the usual cause: a level without data)."""
    n = X.shape[0]
    w = np.ones(n) if weights is None else np.broadcast_to(np.asarray(weights, float), (n,))
    if freq_weights is not None:
        w = w * np.asarray(freq_weights, float)
    empty = X.empty_columns(w)
    if empty:
        shown = ", ".join(empty[:10]) + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
        warnings.warn(
            f"levels without rows of positive weight: {shown}; their coefficients are not "
            "identified: leave them out of the categorical's levels",
            ConvergenceWarning,
            stacklevel=stacklevel + 1,
        )


def _labels(groups: Any, xp: Any) -> Any:
    """The cluster labels as the compiled fit takes them: None (an HC type or no robust
    covariance), :class:`jaxglm.inference.ClusterCodes` as they are, else an array."""
    if groups is None or isinstance(groups, ClusterCodes):
        return groups
    return xp.asarray(groups)


def _drop_columns(arrays: dict[str, Any], dropped: tuple[int, ...], fit_intercept: bool):
    """The arrays of the fit on the kept columns (R's NA for the aliased ones)."""
    if not dropped:
        return arrays
    p = np.shape(arrays["X"])[1]
    keep = np.array([j for j in range(p) if j not in dropped], dtype=int)
    out = dict(arrays, X=np.asarray(arrays["X"])[:, keep])
    if arrays["penalty_factor"] is not None:
        out["penalty_factor"] = np.asarray(arrays["penalty_factor"])[keep]
    sp = arrays["start_params"]
    if sp is not None:
        sp = np.asarray(sp)
        out["start_params"] = np.concatenate([sp[:1], sp[1:][keep]]) if fit_intercept else sp[keep]
    return out


def _expand(sub: GLMResult, dropped: tuple[int, ...], p: int, names: Any) -> GLMResult:
    """The fit on the kept columns re-expanded to all ``p``: aliased coefficients NaN."""
    keep = np.array([j for j in range(p) if j not in dropped], dtype=int)
    dtype = sub.coef.dtype
    coef = jnp.full(p, jnp.nan, dtype).at[keep].set(sub.coef)
    idx = jnp.concatenate([jnp.zeros(1, int), jnp.asarray(keep) + 1])
    cov = jnp.full((p + 1, p + 1), jnp.nan, dtype).at[idx[:, None], idx[None, :]].set(sub.cov)
    return dataclasses.replace(sub, coef=coef, cov=cov, aliased=tuple(dropped), feature_names=names)


# ---- the compiled fit ----------------------------------------------------------------------


QUICK_COMPILE_OPTIONS = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}
"""XLA:CPU options of the fit program of a small design (:func:`quick_compile`): code
generation without LLVM's optimizations and with the older kernel emitters (each fusion's
LLVM IR written directly, not through MLIR). A fit program compiles in a fraction of the
default time and runs slower; below :data:`QUICK_COMPILE_MAX_ELEMENTS` the fit takes
milliseconds, so the compile is what a user waits for (benchmarks/RESULTS.md, issue 18)."""

QUICK_COMPILE_MAX_ELEMENTS = 2**17
"""Designs of at most this many elements (padded rows x columns) compile with
:data:`QUICK_COMPILE_OPTIONS` on the CPU."""

_QUICK_COMPILE_JAXLIB = jax.lib.__version__.startswith("0.10.")
"""The options were measured on jaxlib 0.10; XLA refuses an option it does not know, and a
later release may drop the older emitters: other releases compile with XLA's defaults."""


def quick_compile(shape: tuple[int, ...], platform: str) -> bool:
    """Whether the fit program of a design of ``shape`` on ``platform`` compiles with
    :data:`QUICK_COMPILE_OPTIONS`: on the CPU, for at most
    :data:`QUICK_COMPILE_MAX_ELEMENTS` elements of ``X`` (rows as padded to their size
    bucket, so each bucket keeps one program). Accelerators, larger designs and jaxlib
    releases other than 0.10 keep XLA's defaults. Only a top-level call (not traced by
    ``jit``/``vmap``/``grad``) applies it: JAX takes compiler options on an outer ``jit``
    only, and a fit inside a user's ``jit`` is part of that program.

    Example:
        >>> quick_compile((1024, 10), "cpu") == _QUICK_COMPILE_JAXLIB
        True
        >>> quick_compile((1_048_576, 10), "cpu"), quick_compile((1024, 10), "gpu")
        (False, False)
    """
    n, p = shape[-2:]
    return _QUICK_COMPILE_JAXLIB and platform == "cpu" and n * p <= QUICK_COMPILE_MAX_ELEMENTS


def _platform(X: Any) -> str:
    """The platform a fit of ``X`` runs on: its devices' for a ``jax.Array``, else the
    default backend's."""
    if isinstance(X, jax.Array):
        return next(iter(X.devices())).platform
    return jax.default_backend()


def _top_level() -> bool:
    """Whether no JAX transformation traces this call (JAX raises on compiler options of a
    ``jit`` nested in another trace). JAX's public API has no such test: this reads
    ``jax._src.core.trace_state_clean`` and says False where a release lacks it (the fit
    then compiles with XLA's defaults)."""
    from jax._src import core

    clean = getattr(core, "trace_state_clean", None)
    return clean is not None and bool(clean())


def _fit_program(
    X, y, prior, freq, offset, alpha, l1_ratio, penalty_factor, start_params, groups, code,
    scale_code, scale_value, *, family, link, solver, fit_intercept, has_offset, covariance,
    estimate_alpha=False, keep_rows=False, statistics="full", centre=True,
) -> GLMResult | MultinomialResult:  # fmt: skip
    dtype = prior.dtype  # the working dtype (X's, or float64 with X in float32: "mixed")
    if family.event_ndim:  # an (n,) offset is added to every class of theta
        offset = jnp.broadcast_to(offset if offset.ndim == 2 else offset[:, None], y.shape)
    ridge, l1 = M.penalty_weights(alpha, l1_ratio, penalty_factor)  # l1_ratio 0 without L1
    l1 = l1 if solver.supports_l1 else None
    w = prior * freq
    center = _center(X, prior, fit_intercept, family) if centre else None
    if center is not None:  # rounded to X's dtype (X stays in it), exact in uncenter
        center = center.astype(X.dtype)
        X = X - center
        center = center.astype(dtype)

    problem = M.Problem(
        X=X, y=y, w=w, offset=offset, saturated=family.saturated_loglik(y),
        total_weight=_linalg.row_sum(w), penalty=ridge, family=family, link=link,
        fit_intercept=fit_intercept, l1=l1,
    )  # fmt: skip
    mu_start = None
    if start_params is None:
        # An m-vector theta starts at the intercept-only point (the class shares, that
        # model's MLE without offset) with its first model built there, not at an IRLS
        # step from mustart: on anes96 the 4th Newton step is then accurate to 6e-11
        # (elementwise, relative) against 8e-7 from mustart.
        mu_start = None if family.event_ndim else family.mustart(y, w)
        params0 = M.null_params(problem)
        if not (solver.uses_mustart or family.event_ndim):  # class shares: inside the range
            params0 = _r_start(problem, params0, mu_start)
    elif fit_intercept:
        params0 = start_params
        if center is not None:
            params0 = params0.at[0].add(jnp.dot(center, params0[1:]))
    else:
        params0 = jnp.concatenate([jnp.zeros((1, *start_params.shape[1:]), dtype), start_params])
    start = solver.init(problem, params0, mu_start)
    alpha_bse = None
    if estimate_alpha:  # the alternation runs the solver's fits, the first from start
        problem, state, alpha_bse = nb_alpha.alpha_loop(solver, problem, start)
    else:
        state = iterate(solver, problem, start)
    # Under jit/vmap nothing was validated on the host: a member with y outside the support
    # is NONFINITE (the likelihood is not defined there), whatever its iterations gave.
    in_support = jnp.all(jnp.where(w > 0, problem.family.in_support(y), True))
    status = jnp.where(in_support, state.status, Status.NONFINITE)
    state = state._replace(status=status.astype(state.status.dtype))
    cov = S.Covariance(covariance, groups, code, scale_code, scale_value)
    kkt = state.kkt if solver.supports_l1 else jnp.asarray(jnp.nan, dtype)
    if family.event_ndim:
        res = S.result(problem, solver, state, prior, freq, has_offset, cov, statistics)
        res = dataclasses.replace(res, kkt_violation=kkt)
        return _implicit.nan_unless(res.status_code == Status.CONVERGED, res)
    if isinstance(family, F._Binomial):
        state = state._replace(
            status=S.separation_status(problem, state.params, state.eta, state.status)
        )
    res = S.result(problem, solver, state, prior, freq, has_offset, cov, statistics)
    res = dataclasses.replace(res, kkt_violation=kkt)
    if center is not None:
        params, cov = _linalg.uncenter(res.params, res.cov, center)
        res = dataclasses.replace(res, intercept=params[0], cov=cov)
    if estimate_alpha:  # alpha is a parameter of the likelihood: AIC/BIC count it (MASS)
        res = dataclasses.replace(
            res, aic=res.aic + 2.0, bic=res.bic + jnp.log(res.nobs), alpha_bse=alpha_bse
        )
    else:
        res = dataclasses.replace(res, alpha_bse=jnp.asarray(jnp.nan, dtype))
    if keep_rows:  # the solution's linear predictor: already computed, no pass over X
        res = dataclasses.replace(res, fitted_rows=FittedRows(state.eta, problem.y, prior))
    # Derivatives of a fit that did not converge (the statuses set after the solver's:
    # separation, y outside the support, alpha's loop) are NaN, as the solver's are.
    return _implicit.nan_unless(res.status_code == Status.CONVERGED, res)


_FIT_STATIC = (
    "fit_intercept", "has_offset", "covariance", "estimate_alpha", "keep_rows", "statistics",
    "centre",
)  # fmt: skip
_fit_jit = jax.jit(_fit_program, static_argnames=_FIT_STATIC)
_fit_jit_quick = jax.jit(
    _fit_program, static_argnames=_FIT_STATIC, compiler_options=QUICK_COMPILE_OPTIONS
)


def _center(X, prior, fit_intercept: bool, family: F.Family) -> jax.Array | None:
    """The column means a fit in a dtype narrower than float64 subtracts from ``X``
    (:func:`jaxglm._linalg.column_means` weighted by the prior weights, 0 on padding rows;
    with a scalar ``theta`` and an intercept), else None. They depend on ``X`` and the prior
    weights only, so the members of :func:`jaxglm.bootstrap` (frequency weights) and of
    :func:`jaxglm.fit_many` over responses share one centered ``X`` (the frequency weights
    in them would give each member its own copy). float64 keeps ``X``, and so does mixed
    precision (a float32 ``X`` with float64 weights): its passes over ``X`` are exact in
    float64 for ``X`` as given, which a rounded centred copy would not be, and its Gram
    centres its own float32 products (:func:`jaxglm._linalg.gram`)."""
    if not _centred(X, prior.dtype, fit_intercept, family):
        return None
    return _linalg.column_means(X, prior)


def _centred(X: Any, dtype: jnp.dtype, fit_intercept: bool, family: F.Family) -> bool:
    """Whether a fit of ``X`` in the working ``dtype`` may subtract its column means
    (:func:`_center`): a narrower dtype than float64 (not float64, not mixed precision,
    whose Gram centres its own float32 products), an intercept, a scalar ``theta`` and a
    dense ``X`` (a design's blocks are not shifted: README, designs)."""
    return (
        jnp.finfo(dtype).bits < 64
        and fit_intercept
        and not family.event_ndim
        and not isinstance(X, designs.Design)
    )


def _centring(spec: FitSpec, X: Any, dtype: jnp.dtype, weights: Any) -> tuple[Any, bool]:
    """``(X, centre)``: whether the compiled fit subtracts the column means from a float32
    ``X`` (:func:`_center`), and ``X`` (moved to its device where that was decided by
    reading it: the compiled fit then takes that array, one transfer).

    The subtraction is a float32 copy of ``X``, one of the costs a float32 fit has and a
    float64 one has not (benchmarks/RESULTS.md, issue 20). Concrete data whose columns'
    weighted means are all within their standard deviations of 0
    (:func:`jaxglm._linalg.far_from_zero`, one pass over ``X``) are fitted as they are: the
    Gram and the passes of such columns lose less than a factor 2 of float32's precision to
    their means. Traced data (under ``jit`` or ``vmap``: :func:`jaxglm.fit_many`,
    :func:`jaxglm.bootstrap`) are centred whatever their columns."""
    if not _centred(X, dtype, spec.fit_intercept, spec.family):
        return X, False
    if not is_concrete(X, weights):
        return X, True
    X = _host.to_device(X)
    w = jnp.ones(X.shape[0], dtype) if weights is None else weights
    return X, bool(_linalg.far_from_zero(X, w))


def _r_start(problem: M.Problem, params0: jax.Array, mu_start: jax.Array) -> jax.Array:
    """``params0`` (the intercept-only point) where its objective is finite, else R's start:
    for solvers that do not build their first model from ``mu_start`` themselves (an
    identity link without an intercept starts at ``beta = 0``, outside the mean range).
    ``params0``'s slopes are 0, so its linear predictor needs no pass over ``X``."""
    eta0 = problem.offset + params0[0]
    valid = jnp.isfinite(M.objective(problem, params0, eta0))
    return lax.cond(valid, lambda: params0, lambda: M.start_params(problem, mu_start))
