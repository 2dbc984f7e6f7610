"""``fit()``: validation at the boundary, starting values, the solver, the statistics."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxglm import _linalg, _padding, inference
from jaxglm import families as F
from jaxglm import links as L
from jaxglm import model as M
from jaxglm.multinomial import Multinomial, MultinomialResult, fit_multinomial
from jaxglm.results import ConvergenceWarning, GLMResult, PerfectSeparationWarning, Status
from jaxglm.solvers import (
    AbstractSolver,
    Newton,
    Optax,
    ProxNewton,
    SubsampledNewton,
    default_solver,
    iterate,
)

__all__ = ["fit"]


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
    penalty_factor: ArrayLike | None = None,
    solver: AbstractSolver | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    start_params: ArrayLike | None = None,
    cov_type: str = "nonrobust",
    groups: ArrayLike | None = None,
    scale: float | str | None = None,
    use_t: bool | None = None,
    drop_collinear: bool = False,
) -> GLMResult | MultinomialResult:
    """Fit a generalized linear model by (penalized) maximum likelihood.

    The model is ``g(E[y]) = eta = offset + intercept + X @ beta`` with ``y`` from
    ``family`` and ``Var(y_i) = phi V(mu_i) / weights_i``. The solver minimizes
    ``deviance / (2 sum(w)) + alpha / 2 * sum_j penalty_factor_j beta_j^2`` (``w`` = prior
    x frequency weights; the intercept is never penalized).

    Args:
        X: (n, p) design, without an intercept column. A pandas DataFrame's column names
            label the summary.
        y: (n,) response. For ``Binomial`` the proportion of successes, with the trial
            counts as ``weights``; for ``Bernoulli`` 0/1.
        family: a :class:`jaxglm.Family`; default ``Gaussian()``.
        link: a :class:`jaxglm.Link`; default the family's (R's) default link.
        weights: (n,) prior weights as R's ``glm(weights=)``; rows with weight 0 are
            dropped (not counted in ``nobs`` or the degrees of freedom).
        freq_weights: (n,) frequency weights: row ``i`` stands for ``freq_weights[i]``
            identical rows (``nobs``, ``df_resid``, ``scale`` and BIC count them).
        offset: (n,) known part of ``eta``.
        exposure: (n,) positive exposure; ``log(exposure)`` is added to the offset.
        fit_intercept: include an (unpenalized) intercept.
        alpha: ridge penalty strength (traceable, so it can be vmapped).
        l1_ratio: elastic-net mixing in [0, 1]: the penalty is ``alpha * sum_j f_j
            (l1_ratio |beta_j| + (1 - l1_ratio) / 2 beta_j^2)`` (glmnet's and glum's form).
            A number > 0 selects :class:`jaxglm.ProxNewton` (``bse``, ``aic`` and ``bic``
            are then NaN and ``res.kkt_violation`` reports the optimality); a traced value
            (vmap over it) needs ``solver=jaxglm.ProxNewton()``.
        penalty_factor: (p,) per-feature penalty factors ``f_j >= 0`` (default 1).
        solver: a solver object (default :func:`jaxglm.solvers.default_solver`: Newton
            for p up to about 1,500, else L-BFGS).
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
            with a positive-weight row count).
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

    Compilation: one program per (family, link, solver, ``p``, dtype, size bucket of ``n``).
    Concrete inputs are padded on the host with rows of weight 0 up to the next size bucket
    (``n <= 32`` -> 32, else the next multiple of ``2 ** (floor(log2 n) - 3)``: less than
    12.5% extra rows), so e.g. every ``n`` from 1,000 to 1,024 runs one program. The padded
    rows change no result (``nobs``, degrees of freedom and all statistics mask zero
    weights) and nothing of them is returned. Not padded: traced inputs (under
    ``jit``/``vmap``: pad before), ``jax.Array`` inputs (data the caller already put on a
    device: padding would copy it, about 0.5 s for 800 MB here), mini-batch
    :class:`jaxglm.Optax` and :class:`jaxglm.SubsampledNewton` (their row batches and
    subsamples depend on ``n``).

    Returns:
        A :class:`jaxglm.GLMResult`. Failure is a value: check ``res.converged`` /
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
    """
    family = F.Gaussian() if family is None else family
    if not isinstance(family, F.Family):
        raise TypeError(f"family must be a jaxglm Family, got {family!r}")
    if isinstance(family, Multinomial):
        return _fit_multinomial(locals())
    estimate_alpha = isinstance(family, F.NegativeBinomial) and family.alpha is None
    if estimate_alpha:  # the ML loop starts from alpha = 1 (MASS starts from Poisson)
        family = dataclasses.replace(family, alpha=1.0)
    link = family.default_link() if link is None else link
    if not isinstance(link, L.Link):
        raise TypeError(f"link must be a jaxglm Link, got {link!r}")
    l1_number = isinstance(l1_ratio, int | float)
    if l1_number and not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    if not l1_number or l1_ratio > 0:
        if solver is None and l1_number:
            solver = ProxNewton()
        elif not isinstance(solver, ProxNewton):
            raise ValueError(
                "an L1 / elastic-net penalty (l1_ratio > 0, or a traced l1_ratio) needs "
                f"solver=jaxglm.ProxNewton(), got solver={solver!r}"
            )
    if solver is None:  # a non-2-D X gets Newton here and its ValueError from _validate
        solver = default_solver(*np.shape(X)) if np.ndim(X) == 2 else Newton()
    if not isinstance(solver, AbstractSolver):
        raise TypeError(f"solver must be a jaxglm solver, got {solver!r}")
    if tol is not None:
        solver = dataclasses.replace(solver, tol=tol)
    if max_iter is not None:
        solver = dataclasses.replace(solver, max_iter=max_iter)
    scale_type, scale_value = _scale_option(scale, family)
    if use_t is None:
        use_t = scale_type in ("X2", "dev")
    elif not isinstance(use_t, bool):
        raise TypeError(f"use_t must be True, False or None, got {use_t!r}")
    if cov_type not in inference.COV_TYPES:
        raise ValueError(f"cov_type must be one of {inference.COV_TYPES}, got {cov_type!r}")
    if (cov_type == "cluster") != (groups is not None):
        raise ValueError("groups= is required with cov_type='cluster', and only used there")
    feature_names = _column_names(X)
    arrays = dict(
        X=X, y=y, weights=weights, freq_weights=freq_weights, offset=offset,
        exposure=exposure, alpha=alpha, penalty_factor=penalty_factor, start_params=start_params,
    )  # fmt: skip
    concrete = _is_concrete(arrays, family, link, solver, groups, scale_value)
    X_in = X
    if concrete:
        _validate(family, link, fit_intercept, **arrays)
        if groups is not None:
            _check_groups(groups, np.shape(X)[0])
        # R's aliasing rule is a host QR of X (as dear as a Gram product): run it up front
        # only when asked to drop columns, else only to name them after a singular fit.
        aliased = _aliased(X, weights, freq_weights, alpha, fit_intercept) if drop_collinear else ()
        if aliased:
            if estimate_alpha:
                family = F.NegativeBinomial(alpha=None)
            return _fit_dropping(aliased, feature_names, locals())
        if _pads(solver) and _padding.can_pad(*(arrays[k] for k in _padding.ROW_ARGS), groups):
            n_to = _padding.bucket_size(np.shape(X)[0])
            arrays = _padding.pad_fit_arrays(arrays, n_to)
            if groups is not None:
                groups = _padding.pad_labels(groups, n_to)
    elif drop_collinear:
        raise ValueError("drop_collinear=True needs concrete inputs (not under jit/vmap)")
    # Concrete host inputs are prepared with NumPy and handed to the jitted function as
    # they are (one transfer each); eager jnp calls would each dispatch a small program.
    xp = np if concrete and not _any_jax_array(arrays) else jnp
    X = xp.asarray(arrays["X"])
    if not jnp.issubdtype(X.dtype, jnp.floating):
        X = X.astype(jnp.result_type(float))
    dtype = jax.dtypes.canonicalize_dtype(X.dtype)
    X = X.astype(dtype, copy=False) if xp is np else X
    n, p = X.shape
    cast = {k: None if v is None else xp.asarray(v, dtype) for k, v in arrays.items() if k != "X"}
    # Absent arrays become their neutral values here, so that fits with and without them
    # share one compiled program.
    ones = xp.ones(n, dtype)
    off = xp.zeros(n, dtype) if cast["offset"] is None else cast["offset"]
    if cast["exposure"] is not None:
        off = off + xp.log(cast["exposure"])
    robust = cov_type not in ("nonrobust", "none")
    covariance = "robust" if robust else "none" if cov_type == "none" else "model"
    groups = xp.arange(n) if groups is None else xp.asarray(groups)
    code = inference.robust_code(cov_type) if robust else 0
    res = _fit_jit(
        X, cast["y"],
        ones if cast["weights"] is None else cast["weights"],
        ones if cast["freq_weights"] is None else cast["freq_weights"],
        off, cast["alpha"], np.asarray(l1_ratio, dtype) if l1_number else l1_ratio,
        xp.ones(p, dtype) if cast["penalty_factor"] is None else cast["penalty_factor"],
        cast["start_params"], groups, np.int32(code), np.int32(_SCALE_TYPES.index(scale_type)),
        jnp.asarray(scale_value, dtype),
        family=family, link=link, solver=solver, fit_intercept=fit_intercept,
        has_offset=offset is not None or exposure is not None, covariance=covariance,
        estimate_alpha=estimate_alpha,
    )  # fmt: skip
    res = dataclasses.replace(
        res, feature_names=feature_names, solver_name=solver.name, cov_type=cov_type,
        scale_type=scale_type, use_t=use_t,
    )  # fmt: skip
    # Inside an outer jit the inputs may be concrete (closed over) while the result is not.
    result_concrete = _is_concrete(res.status)
    if concrete and result_concrete and int(res.status) == Status.RANK_DEFICIENT:
        aliased = _aliased(X_in, weights, freq_weights, alpha, fit_intercept)
        if aliased:
            warnings.warn(
                f"columns {_names(aliased, feature_names)} of X are collinear with the "
                "earlier columns (or constant, with the intercept): the coefficients are "
                "not identified; pass drop_collinear=True for R's NA coefficients",
                ConvergenceWarning,
                stacklevel=2,
            )
    if result_concrete and int(res.status) == Status.SEPARATION:
        warnings.warn(
            f"{family.name} fit: {res.status_message}; diverging columns: "
            f"{_names(_separating_columns(np.asarray(X), res), feature_names)}",
            PerfectSeparationWarning,
            stacklevel=2,
        )
    elif result_concrete and int(res.status) != Status.CONVERGED:
        warnings.warn(
            f"{family.name} fit did not converge: {res.status_message}",
            ConvergenceWarning,
            stacklevel=2,
        )
    return res


# ---- aliased columns and separation (host side, concrete inputs only) --------------------

_ALIAS_TOL = 1e-7  # R's qr() / lm tolerance


def _fit_multinomial(args: dict[str, Any]) -> MultinomialResult:
    """``fit`` for :class:`jaxglm.Multinomial` (:mod:`jaxglm.multinomial`): the arguments it
    supports, a ValueError for the others."""
    unsupported = {
        "link": None, "freq_weights": None, "exposure": None, "fit_intercept": True,
        "l1_ratio": 0.0, "solver": None, "start_params": None, "cov_type": "nonrobust",
        "groups": None, "scale": None, "use_t": None, "drop_collinear": False,
    }  # fmt: skip
    for name, default in unsupported.items():
        value = args[name]
        if not (value is default or (isinstance(value, float | int) and value == default)):
            raise ValueError(f"Multinomial fits do not support {name}={value!r}")
    return fit_multinomial(
        args["X"], args["y"], args["family"], weights=args["weights"], offset=args["offset"],
        alpha=args["alpha"], penalty_factor=args["penalty_factor"], tol=args["tol"],
        max_iter=args["max_iter"], feature_names=_column_names(args["X"]),
    )  # fmt: skip


def _aliased(X, weights, freq_weights, alpha, fit_intercept) -> tuple[int, ...]:
    """:func:`_aliased_columns` of the rows with positive weight; none under a ridge penalty
    (which identifies every coefficient)."""
    if np.any(np.asarray(alpha, float) > 0):
        return ()
    w = np.ones(np.shape(X)[0])
    for v in (weights, freq_weights):
        w = w if v is None else w * np.asarray(v, float)
    return _aliased_columns(np.asarray(X, float), w > 0, fit_intercept)


def _aliased_columns(X: np.ndarray, rows: np.ndarray, fit_intercept: bool) -> tuple[int, ...]:
    """Indices of the columns of ``X`` aliased with earlier columns of ``[1, X]`` (R's rule).

    Sequential Gram-Schmidt in column order (what R's ``dqrdc2`` limited pivoting decides):
    column ``j`` is aliased when the norm of its residual on the kept earlier columns is
    below ``1e-7`` times its own norm; an all-zero column is aliased.
    """
    Xr = X[rows]
    # Fast path (one LAPACK call): with no tiny diagonal in an unpivoted QR nothing is aliased.
    A = np.column_stack([np.ones(len(Xr)), Xr]) if fit_intercept else Xr
    if A.shape[0] >= A.shape[1]:
        diag = np.abs(np.diagonal(np.linalg.qr(A, mode="r")))
        if np.all(diag > _ALIAS_TOL * np.linalg.norm(A, axis=0)):
            return ()
    basis = [np.ones(len(Xr)) / np.sqrt(len(Xr))] if fit_intercept else []
    out = []
    for j in range(Xr.shape[1]):
        col = Xr[:, j]
        norm = np.linalg.norm(col)
        r = col.copy()
        for _ in range(2):  # twice is enough (Kahan-Parlett re-orthogonalization)
            for q in basis:
                r = r - (q @ r) * q
        rn = np.linalg.norm(r)
        if norm == 0 or rn <= _ALIAS_TOL * norm:
            out.append(j)
        else:
            basis.append(r / rn)
    return tuple(out)


def _names(cols: tuple[int, ...], feature_names: tuple[str, ...] | None) -> list:
    return [feature_names[j] for j in cols] if feature_names else list(cols)


def _separating_columns(X: np.ndarray, res: GLMResult) -> tuple[int, ...]:
    """Columns whose standardized coefficient ``|beta_j| sd(x_j)`` diverges.

    Those at least a tenth of the largest and above 5 (odds ratio e^5 per standard
    deviation): at a separated fit the diverging direction dominates the coefficients.
    """
    z = np.abs(np.asarray(res.coef)) * np.std(X, axis=0)
    z = np.where(np.isfinite(z), z, 0.0)
    if z.size == 0:
        return ()
    return tuple(int(j) for j in np.flatnonzero((z >= 0.1 * z.max()) & (z > 5.0)))


def _fit_dropping(aliased: tuple[int, ...], names: Any, args: dict) -> GLMResult:
    """Fit on the kept columns and re-expand: aliased coefficients NaN (R's NA)."""
    p = np.shape(args["X"])[1]
    keep = np.array([j for j in range(p) if j not in aliased], dtype=int)
    X = np.asarray(args["X"])[:, keep]
    pf = args["penalty_factor"]
    sp = args["start_params"]
    if sp is not None:
        sp = np.asarray(sp)
        sp = np.concatenate([sp[:1], sp[1:][keep]]) if args["fit_intercept"] else sp[keep]
    kw = {
        k: args[k]
        for k in (
            "family link weights freq_weights offset exposure fit_intercept alpha l1_ratio "
            "solver tol max_iter cov_type groups scale use_t"
        ).split()
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # re-issued below for this call
        sub = fit(
            X, args["y"], **kw, start_params=sp,
            penalty_factor=None if pf is None else np.asarray(pf)[keep],
        )  # fmt: skip
    dtype = sub.coef.dtype
    coef = jnp.full(p, jnp.nan, dtype).at[keep].set(sub.coef)
    idx = jnp.concatenate([jnp.zeros(1, int), jnp.asarray(keep) + 1])
    cov = jnp.full((p + 1, p + 1), jnp.nan, dtype).at[idx[:, None], idx[None, :]].set(sub.cov)
    if int(sub.status) != Status.CONVERGED:
        warnings.warn(
            f"fit did not converge: {sub.status_message}", ConvergenceWarning, stacklevel=3
        )
    return dataclasses.replace(sub, coef=coef, cov=cov, aliased=tuple(aliased), feature_names=names)


_SCALE_TYPES = ("X2", "dev", "fixed")  # traced as an index: all share one compiled program


def _scale_option(scale: Any, family: F.Family) -> tuple[str, Any]:
    """``scale=`` -> (static kind ``"X2" | "dev" | "fixed"``, fixed value)."""
    if scale is None:
        return ("X2", 1.0) if family.estimates_scale else ("fixed", 1.0)
    if isinstance(scale, str):
        kind = {"x2": "X2", "dev": "dev"}.get(scale.lower())
        if kind is None:
            raise ValueError(f"scale must be None, 'X2', 'dev' or a number, got {scale!r}")
        return kind, 1.0
    if not isinstance(scale, jax.core.Tracer):
        value = np.asarray(scale, dtype=float)
        if value.shape != () or not (np.isfinite(value) and value > 0):
            raise ValueError(f"a fixed scale must be a finite number > 0, got {scale!r}")
    return "fixed", scale


def _check_groups(groups: Any, n: int) -> None:
    arr = np.asarray(groups)
    if arr.shape != (n,):
        raise ValueError(f"groups must have shape ({n},) to match X, got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
        raise ValueError(f"groups must be integer cluster labels, got dtype {arr.dtype}")


def _pads(solver: AbstractSolver) -> bool:
    """Whether padding leaves the solver's path unchanged: not for mini-batch Optax, whose
    row shuffling and batches depend on ``n``, nor for SubsampledNewton, whose row
    subsamples do (and whose large ``n`` makes the copy dearer than a compile)."""
    if isinstance(solver, SubsampledNewton):
        return False
    return not (isinstance(solver, Optax) and solver.batch_size is not None)


def _column_names(X: Any) -> tuple[str, ...] | None:
    columns = getattr(X, "columns", None)
    return None if columns is None else tuple(str(c) for c in columns)


def _any_jax_array(arrays: dict[str, Any]) -> bool:
    return any(isinstance(v, jax.Array) for v in arrays.values())


def _is_concrete(*trees: Any) -> bool:
    leaves = jax.tree.leaves(trees)
    return not any(isinstance(x, jax.core.Tracer) for x in leaves)


# ---- validation (host side, concrete inputs only) ------------------------------------------


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(~mask)[0])


def _as_float(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _check_vector(name: str, value: Any, n: int) -> np.ndarray:
    arr = _as_float(name, value)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match X, got {arr.shape}")
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(f"{name} has a non-finite value at index {_first_bad(finite)}")
    return arr


def _validate(
    family: F.Family,
    link: L.Link,
    fit_intercept: bool,
    *,
    X: Any,
    y: Any,
    weights: Any,
    freq_weights: Any,
    offset: Any,
    exposure: Any,
    alpha: Any,
    penalty_factor: Any,
    start_params: Any,
) -> None:
    """Raise a ValueError naming the argument and the first bad index."""
    n, p = _check_X(X)
    ya = _as_float("y", y)
    if ya.ndim != 1:
        raise ValueError(f"y must be 1-D (n,), got shape {ya.shape}")
    ya = _check_vector("y", ya, n)
    w = np.ones(n)
    for name, value in (("weights", weights), ("freq_weights", freq_weights)):
        if value is not None:
            arr = _check_vector(name, value, n)
            if (arr < 0).any():
                raise ValueError(f"{name} has a negative value at index {_first_bad(arr >= 0)}")
            w = w * arr
    if not (w > 0).any():
        raise ValueError("all weights are zero: no observation to fit")
    if offset is not None:
        _check_vector("offset", offset, n)
    if exposure is not None:
        arr = _check_vector("exposure", exposure, n)
        if (arr <= 0).any():
            raise ValueError(f"exposure must be > 0; bad value at index {_first_bad(arr > 0)}")
    _check_family(family, link)
    inside = family.in_support(ya)
    if not inside.all():
        i = _first_bad(inside)
        raise ValueError(
            f"y[{i}] = {ya[i]:g} is outside the support of {family.name} ({family.support})"
        )
    a = np.asarray(alpha, dtype=float)
    if a.shape != () or not np.isfinite(a) or a < 0:
        raise ValueError(f"alpha must be a finite scalar >= 0, got {alpha!r}")
    if penalty_factor is not None:
        pf = _as_float("penalty_factor", penalty_factor)
        if pf.shape != (p,) or not (np.isfinite(pf).all() and (pf >= 0).all()):
            raise ValueError(f"penalty_factor must be ({p},) finite and >= 0, got {pf.shape}")
    if start_params is not None:
        k = p + int(fit_intercept)
        sp = _as_float("start_params", start_params)
        if sp.shape != (k,) or not np.isfinite(sp).all():
            raise ValueError(f"start_params must be ({k},) and finite, got shape {sp.shape}")


def _check_X(X: Any) -> tuple[int, int]:
    """Shape, dtype and finiteness of ``X`` without copying it (it may be large, or on a GPU)."""
    Xa = X if isinstance(X, jax.Array) else np.asarray(X)
    if Xa.dtype == object or not (
        jnp.issubdtype(Xa.dtype, jnp.number) or jnp.issubdtype(Xa.dtype, jnp.bool_)
    ):
        raise ValueError(f"X must be numeric, got dtype {Xa.dtype}")
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (n, p), got shape {Xa.shape}")
    if Xa.shape[0] == 0:
        raise ValueError("X has no rows: cannot fit empty data")
    if jnp.issubdtype(Xa.dtype, jnp.inexact):
        finite = bool(_all_finite(Xa)) if isinstance(Xa, jax.Array) else np.isfinite(Xa).all()
        if not finite:
            row, col = np.argwhere(~np.isfinite(np.asarray(Xa)))[0]
            raise ValueError(f"X has a non-finite value at row {row}, column {col}")
    return Xa.shape


@jax.jit
def _all_finite(X: jax.Array) -> jax.Array:
    return jnp.all(jnp.isfinite(X))


def _check_family(family: F.Family, link: L.Link) -> None:
    if isinstance(family, F.NegativeBinomial) and not float(family.alpha) > 0:
        raise ValueError(f"NegativeBinomial alpha must be > 0, got {family.alpha}")
    if isinstance(family, F.Tweedie):
        power = float(family.power)
        if not (power == 0 or power >= 1):
            raise ValueError(f"Tweedie power must be 0 or >= 1, got {power}")
    if isinstance(link, L.Power) and float(link.power) == 0:
        raise ValueError("Power(0) is not a link: use Log()")


# ---- the compiled fit ----------------------------------------------------------------------


@jax.jit(static_argnames=("fit_intercept", "has_offset", "covariance", "estimate_alpha"))
def _fit_jit(
    X, y, prior, freq, offset, alpha, l1_ratio, penalty_factor, start_params, groups, code,
    scale_code, scale_value, *, family, link, solver, fit_intercept, has_offset, covariance,
    estimate_alpha=False,
) -> GLMResult:  # fmt: skip
    dtype = X.dtype
    prox = isinstance(solver, ProxNewton)
    ridge, l1 = M.penalty_weights(alpha, l1_ratio, penalty_factor)  # l1_ratio is 0 unless prox
    l1 = l1 if prox else None
    w = prior * freq

    def make_problem(fam):
        return M.Problem(
            X=X, y=y, w=w, offset=offset, saturated=fam.saturated_loglik(y),
            total_weight=jnp.sum(w), penalty=ridge, family=fam, link=link,
            fit_intercept=fit_intercept, l1=l1,
        )  # fmt: skip

    problem = make_problem(family)
    mu_start = None
    if start_params is None:
        params0 = null_params(problem)
        mu_start = family.mustart(y, w)
    elif fit_intercept:
        params0 = start_params
    else:
        params0 = jnp.concatenate([jnp.zeros(1, dtype), start_params])
    state = iterate(solver, problem, solver.init(problem, params0, mu_start))
    alpha_bse = None
    if estimate_alpha:
        problem, state, alpha_bse = _nb_alpha_loop(make_problem, solver, problem, state, w)
    if isinstance(family, F._Binomial):
        state = state._replace(status=_separation_status(problem, state.eta, state.status))
    cov = _Covariance(covariance, groups, code, scale_code, scale_value)
    res = _result(problem, solver, state, prior, freq, has_offset, cov)
    kkt = state.kkt if prox else jnp.asarray(jnp.nan, dtype)
    res = dataclasses.replace(res, kkt_violation=kkt)
    if estimate_alpha:  # alpha is a parameter of the likelihood: AIC/BIC count it (MASS)
        return dataclasses.replace(
            res, aic=res.aic + 2.0, bic=res.bic + jnp.log(res.nobs), alpha_bse=alpha_bse
        )
    return dataclasses.replace(res, alpha_bse=jnp.asarray(jnp.nan, dtype))


_NB_MAX_OUTER = 50
_NB_TOL = 1e-10  # on |change of log(alpha)| between outer iterations


def _nb_loglik(log_alpha, y, mu, w):
    """NB2 log-likelihood in ``log(alpha)`` at fixed ``mu`` (weighted, rows with w > 0)."""
    a = jnp.exp(log_alpha)
    k = 1.0 / a
    rows = (
        jax.scipy.special.gammaln(y + k) - jax.scipy.special.gammaln(k)
        - jax.scipy.special.gammaln(y + 1.0)
        + y * (jnp.log(a * mu) - jnp.log1p(a * mu)) - k * jnp.log1p(a * mu)
    )  # fmt: skip
    return jnp.sum(jnp.where(w > 0, w * rows, 0.0))


def _alpha_newton(log_alpha, y, mu, w):
    """Maximize the profile log-likelihood in ``log(alpha)`` by Newton (MASS's theta.ml)."""
    grad = jax.grad(_nb_loglik)
    hess = jax.grad(grad)

    def body(c):
        la, _, k = c
        g, h = grad(la, y, mu, w), hess(la, y, mu, w)
        step = jnp.where(h < 0, -g / h, jnp.sign(g))  # ascent; a unit step where not concave
        step = jnp.clip(step, -2.0, 2.0)
        return la + step, step, k + 1

    def cond(c):
        return (jnp.abs(c[1]) > _NB_TOL) & (c[2] < 100) & jnp.isfinite(c[0])

    la, _, _ = lax.while_loop(cond, body, (log_alpha, jnp.asarray(jnp.inf, y.dtype), 0))
    return la


def _nb_alpha_loop(make_problem, solver, problem, state, w):
    """Alternate a GLM fit at fixed alpha and an ML step for alpha (MASS ``glm.nb``).

    Starts from the fit at the initial alpha; each outer iteration maximizes the profile
    likelihood in ``log(alpha)`` at the current ``mu`` (Newton), then refits ``beta`` from
    the current ``beta``; stops when ``log(alpha)`` moves less than 1e-10 and the GLM fit
    converged, or after 50 outer iterations (status ``MAX_ITER``). Returns the final
    problem (its family holds the estimate), the solver state and the standard error of
    alpha, ``1 / sqrt(-d^2 l / d alpha^2)`` at fixed ``beta`` (MASS's ``SE.theta``,
    transformed to alpha).
    """
    y = problem.y
    fam0 = problem.family
    link = problem.link

    def outer(c):
        la, st, _, k = c
        mu = M.mean_from_eta(dataclasses.replace(fam0, alpha=jnp.exp(la)), link, st.eta)
        la_new = _alpha_newton(la, y, mu, w)
        prob = make_problem(dataclasses.replace(fam0, alpha=jnp.exp(la_new)))
        st_new = iterate(solver, prob, solver.init(prob, st.params))
        return la_new, st_new, jnp.abs(la_new - la), k + 1

    def cond(c):
        la, st, change, k = c
        ok = (st.status == Status.CONVERGED) | (st.status == Status.MAX_ITER)
        return (change > _NB_TOL) & (k < _NB_MAX_OUTER) & ok & jnp.isfinite(la)

    la0 = jnp.log(jnp.asarray(fam0.alpha, y.dtype))
    inf = jnp.asarray(jnp.inf, y.dtype)
    la, state, change, _ = lax.while_loop(cond, outer, (la0, state, inf, 0))
    status = jnp.where(
        (state.status == Status.CONVERGED) & ~(change <= _NB_TOL),
        Status.MAX_ITER,
        state.status,
    )
    state = state._replace(status=status.astype(state.status.dtype))
    problem = make_problem(dataclasses.replace(fam0, alpha=jnp.exp(la)))
    mu = M.mean_from_eta(problem.family, link, state.eta)
    a = jnp.exp(la)
    d2 = jax.grad(jax.grad(lambda a_: _nb_loglik(jnp.log(a_), y, mu, w)))(a)
    return problem, state, 1.0 / jnp.sqrt(-d2)


class _Covariance(NamedTuple):
    """How ``_result`` computes the covariance and the scale (static and traced parts)."""

    kind: str  # "model", "robust" or "none"
    groups: jax.Array
    code: jax.Array
    scale_code: jax.Array  # index into _SCALE_TYPES
    scale_value: jax.Array


def _separation_status(problem: M.Problem, eta: jax.Array, status: jax.Array) -> jax.Array:
    """``SEPARATION`` when a positive-weight row has ``mu`` within ``10 eps`` of 0 or 1.

    R's ``glm.fit`` test ("fitted probabilities numerically 0 or 1 occurred", with
    ``eps = 10 * .Machine$double.eps``; here the working dtype's eps). At a separated
    design the likelihood increases toward a limit as coefficients diverge, so the
    iteration "converges" on the deviance while such rows appear. NONFINITE and
    RANK_DEFICIENT keep their codes. A ridge penalty on every coefficient makes the optimum
    finite and unique, and fitted probabilities near 0 or 1 are then part of it (wide
    ridge logistic fits have them): such fits are not flagged.
    """
    mu = M.mean_from_eta(problem.family, problem.link, eta)
    eps = 10 * jnp.finfo(eta.dtype).eps
    extreme = jnp.any((problem.w > 0) & ((mu <= eps) | (mu >= 1 - eps)))
    if problem.penalty.shape[0] > 1:
        extreme = extreme & ~jnp.all(M.penalized(problem)[1:])
    replace = extreme & ((status == Status.CONVERGED) | (status == Status.MAX_ITER)
                         | (status == Status.LINE_SEARCH_FAILED))  # fmt: skip
    return jnp.where(replace, Status.SEPARATION, status).astype(status.dtype)


def null_params(problem: M.Problem) -> jax.Array:
    """The intercept-only point ``link(weighted mean of y) - weighted mean of offset``."""
    p = problem.X.shape[1]
    params = jnp.zeros(p + 1, problem.y.dtype)
    if not problem.fit_intercept:
        return params
    fam, link = problem.family, problem.link
    ybar = jnp.sum(problem.w * problem.y) / problem.total_weight
    offbar = jnp.sum(problem.w * problem.offset) / problem.total_weight
    return params.at[0].set(M.eta_from_mean(fam, link, ybar) - offbar)


def _result(problem, solver, state, prior, freq, has_offset, spec) -> GLMResult:
    """Statistics at the solution."""
    fam, link = problem.family, problem.link
    p = problem.X.shape[1]
    dtype = problem.y.dtype
    eta = state.eta
    valid = problem.w > 0
    deviance = deviance_at(problem, eta)
    mu = M.mean_from_eta(fam, link, eta)
    pearson = jnp.sum(jnp.where(valid, problem.w * (problem.y - mu) ** 2 / fam.variance(mu), 0.0))
    nobs = jnp.sum(jnp.where(valid, freq, 0.0))
    rank = p + int(problem.fit_intercept)
    df_resid = nobs - rank
    scale = jnp.stack([pearson / df_resid, deviance / df_resid, spec.scale_value])[spec.scale_code]

    # Log-likelihood with R's dispersion convention (families.Family.llf_scale).
    phi = fam.llf_scale(deviance, nobs, problem.total_weight)
    theta = M.theta_from_eta(fam, link, eta)
    rows = prior * fam.natural_loglik(problem.y, theta) / phi + fam.log_base_measure(
        problem.y, phi, prior
    )
    llf = jnp.sum(jnp.where(valid, freq * rows, 0.0))
    k = rank + fam.dispersion_params()
    penalized = jnp.any(M.penalized(problem))
    aic = jnp.where(penalized, jnp.nan, -2.0 * llf + 2.0 * k)
    bic = jnp.where(penalized, jnp.nan, -2.0 * llf + jnp.log(nobs) * k)

    # Covariance: scale x inverse expected information (R's summary.glm), or a sandwich.
    info = None if spec.kind == "none" else solver.information(problem, state)
    n_groups = jnp.asarray(jnp.nan, dtype)
    if info is None:
        cov = jnp.full((p + 1, p + 1), jnp.nan, dtype)
    elif spec.kind == "robust":
        cov, ok, groups = inference.sandwich_cov(
            problem, eta, prior, freq, spec.groups, spec.code, nobs
        )
        cov = jnp.where(penalized | ~ok, jnp.nan, cov)
        n_groups = jnp.where(spec.code == inference.robust_code("cluster"), groups, jnp.nan)
    else:
        factors, ok = _linalg.factor(info)
        inv = _linalg.solve(factors, jnp.eye(p + 1, dtype=dtype)) / problem.total_weight
        cov = jnp.where(penalized | ~ok, jnp.nan, scale * inv)

    return GLMResult(
        coef=state.params[1:], intercept=state.params[0], cov=cov,
        scale=jnp.asarray(scale, dtype), deviance=deviance,
        null_deviance=_null_deviance(problem, has_offset),
        llf=llf, aic=aic, bic=bic, pearson_chi2=pearson, nobs=nobs,
        df_model=jnp.asarray(p, dtype), df_resid=df_resid,
        n_iter=state.n_iter, status=state.status, family=fam, link=link,
        fit_intercept=problem.fit_intercept, n_groups=n_groups,
    )  # fmt: skip


def deviance_at(problem: M.Problem, eta: jax.Array, w: jax.Array | None = None) -> jax.Array:
    """``2 sum_i w_i nll_i(eta)`` over the rows with positive ``w`` (default the problem's)."""
    w = problem.w if w is None else w
    nll = M.row_nll(problem, eta)
    return 2.0 * jnp.sum(jnp.where(w > 0, w * nll, 0.0))


def null_eta(problem: M.Problem) -> jax.Array:
    """The linear predictor of R's null model: the intercept-only fit with the offset (by
    Newton, whatever solver fitted the model: exact and cheap), or the offset alone
    without an intercept."""
    if not problem.fit_intercept:
        return problem.offset
    null_problem = dataclasses.replace(
        problem, X=problem.X[:, :0], XT=None, penalty=problem.penalty[:1], l1=None
    )
    newton = Newton()
    return iterate(newton, null_problem, newton.init(null_problem, null_params(null_problem))).eta


def _null_deviance(problem: M.Problem, has_offset: bool) -> jax.Array:
    """R's null deviance: the deviance at :func:`null_eta`, in closed form without an
    offset (the link of the weighted mean)."""
    if problem.fit_intercept and not has_offset:
        ybar = jnp.sum(problem.w * problem.y) / problem.total_weight
        eta = M.eta_from_mean(problem.family, problem.link, ybar)
        return deviance_at(problem, jnp.full_like(problem.y, eta))
    return deviance_at(problem, null_eta(problem))
