"""The fit specification, resolved once, and the one validation of the data.

Every entry point (:func:`jaxglm.fit`, :func:`jaxglm.fit_many`, :func:`jaxglm.bootstrap`,
:func:`jaxglm.path`, :func:`jaxglm.cv`) turns its arguments into a :class:`FitSpec` with
:func:`resolve_spec` and checks its data with :func:`validate`, so that defaults, solver
choice and error messages are the same everywhere (shared/DESIGN.md, "One pipeline").

Batches put the members first: an argument given per member has one more leading axis
than in a single fit (``y`` (m, n), ``X`` (m, n, p), ``alpha`` (m,)). The messages name
the argument and the first bad place: ``index i`` in a single fit, ``member k, index i``
in a batch.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxglm import families as F
from jaxglm import inference, solvers
from jaxglm import links as L
from jaxglm._linalg import AbstractDesign
from jaxglm._pytree import pytree_dataclass, static_field

__all__ = [
    "MEMBER_NDIM",
    "FitSpec",
    "check_folds",
    "column_names",
    "is_concrete",
    "resolve_spec",
    "validate",
]

SCALE_TYPES = ("X2", "dev", "fixed")
"""``scale=`` kinds; traced as an index into this tuple, so all share one program."""

STATISTICS = ("full", "minimal")
"""The statistics levels (:mod:`jaxglm._statistics`): all of them, or those a sweep that
wants the coefficients needs (no covariance, null deviance, likelihood or Pearson chi2)."""

MEMBER_NDIM = {
    "X": 2, "y": 1, "weights": 1, "freq_weights": 1, "offset": 1, "exposure": 1, "alpha": 0,
}  # fmt: skip
"""The number of dimensions of one fit's argument; one more means one per batch member."""


@pytree_dataclass
class FitSpec:
    """What to fit and how, resolved from the user's arguments by :func:`resolve_spec`.

    A pytree: the settings that pick the compiled program are static, the numbers
    (``l1_ratio``, ``scale_value``, the family's and solver's parameters) are leaves.

    Attributes:
        family: the family (``NegativeBinomial(alpha=None)`` becomes its starting
            ``alpha = 1`` with ``estimate_alpha``).
        link: the link (the family's default when none was given).
        solver: the solver, from :func:`jaxglm.solvers.resolve`, with ``tol``/``max_iter``.
        fit_intercept: whether the model has an intercept.
        l1_ratio: the elastic-net mixing (a number, or a traced value).
        estimate_alpha: NegativeBinomial's ``alpha`` is estimated (MASS's ``glm.nb``).
        cov_type: one of :data:`jaxglm.inference.COV_TYPES`.
        scale_type: ``"X2"``, ``"dev"`` or ``"fixed"``; scale_value: the fixed scale.
        use_t: Student's t (and F) for the tests and intervals.
        statistics: ``"full"`` or ``"minimal"`` (:data:`STATISTICS`: the minimal
            level has no covariance, null deviance, likelihood or Pearson
            statistic).
        precision: None (every array in the design's dtype) or ``"mixed"`` (the design in
            float32, the Gram's products in float32, everything else in float64:
            :func:`jaxglm.fit`).
    """

    family: F.Family
    link: L.Link
    solver: solvers.AbstractSolver
    fit_intercept: bool = static_field()
    l1_ratio: Any = 0.0
    estimate_alpha: bool = static_field(default=False)
    cov_type: str = static_field(default="nonrobust")
    scale_type: str = static_field(default="fixed")
    scale_value: Any = 1.0
    use_t: bool = static_field(default=False)
    statistics: str = static_field(default="full")
    precision: str | None = static_field(default=None)

    @property
    def covariance(self) -> str:
        """How the compiled fit computes the covariance: "model", "robust" or "none"."""
        if self.cov_type == "none" or self.statistics == "minimal":
            return "none"
        return "model" if self.cov_type == "nonrobust" else "robust"

    @property
    def robust_code(self) -> int:
        """The traced code of a robust ``cov_type`` (0 for the others)."""
        return 0 if self.covariance != "robust" else inference.robust_code(self.cov_type)

    @property
    def scale_code(self) -> int:
        """The index of ``scale_type`` in :data:`SCALE_TYPES`."""
        return SCALE_TYPES.index(self.scale_type)


def resolve_spec(
    family: F.Family | None,
    link: L.Link | None,
    solver: solvers.AbstractSolver | None,
    x_shape: tuple[int, ...],
    *,
    fit_intercept: bool = True,
    l1_ratio: Any = 0.0,
    tol: Any = None,
    max_iter: Any = None,
    cov_type: str = "nonrobust",
    groups: Any = None,
    scale: Any = None,
    use_t: bool | None = None,
    path: bool = False,
    y: Any = None,
    batched: bool = False,
    statistics: str = "full",
    precision: str | None = None,
    design: bool = False,
) -> FitSpec:
    """The :class:`FitSpec` of an entry point's arguments (the one place defaults live).

    Args:
        family, link, solver, fit_intercept, l1_ratio, tol, max_iter, cov_type, groups,
            scale, use_t: as :func:`jaxglm.fit` (``groups`` only to check it goes with
            ``cov_type="cluster"``).
        x_shape: the shape of ``X`` (its last two axes are one fit's ``(n, p)``).
        path: the fits run along a path (:func:`jaxglm.path`, :func:`jaxglm.cv`): the
            solver must warm-start, and NegativeBinomial's ``alpha`` must be given.
        y, batched: the response (members first when ``batched``), from which
            ``Multinomial(n_classes=None)`` infers its number of classes.
        statistics: the statistics level, as :func:`jaxglm.fit_many`.
        precision: None or ``"mixed"`` (:func:`jaxglm.fit`); ``"mixed"`` needs x64 on.
        design: ``X`` is a :class:`jaxglm.Design` (categorical or sparse blocks): the
            default solver is then ``Newton()`` (``ProxNewton()`` for an L1 penalty or a
            path), and what designs do not run (mixed precision, solvers
            without ``supports_designs``, more columns than the solver's
            ``max_design_columns``) is refused.

    Returns:
        The specification.

    Raises:
        TypeError: a family, link or solver of the wrong type.
        ValueError: an option out of its range, or a combination that cannot work.

    Example:
        >>> import jaxglm as jg
        >>> spec = resolve_spec(jg.NegativeBinomial(alpha=None), None, None, (100, 3))
        >>> spec.link.name, spec.estimate_alpha, spec.solver.name, spec.cov_type
        ('Log', True, 'Newton', 'nonrobust')
    """
    family = F.Gaussian() if family is None else family
    if not isinstance(family, F.Family):
        raise TypeError(f"family must be a jaxglm Family, got {family!r}")
    estimate_alpha = isinstance(family, F.NegativeBinomial) and family.alpha is None
    if estimate_alpha:
        if path:
            raise ValueError(
                "paths need a fixed NegativeBinomial alpha: estimate it with fit() first "
                "and pass NegativeBinomial(alpha=res.family.alpha)"
            )
        family = dataclasses.replace(family, alpha=1.0)  # the ML loop's start (MASS: Poisson)
    if isinstance(family, F.Multinomial):
        _check_vector_options(link, scale, use_t)
        family = family.resolve(y, batched)
    link = family.default_link() if link is None else link
    if not isinstance(link, L.Link):
        raise TypeError(f"link must be a jaxglm Link, got {link!r}")
    traced_l1 = isinstance(l1_ratio, jax.core.Tracer)
    if not traced_l1:
        ratios = np.asarray(l1_ratio, dtype=float)
        if ratios.ndim != 0:
            raise ValueError(f"l1_ratio must be a number in [0, 1], got shape {ratios.shape}")
        if not 0.0 <= float(ratios) <= 1.0:
            raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
        l1_ratio = float(ratios)
    if traced_l1 and solver is None:
        raise ValueError(
            "a traced l1_ratio (vmap over it) needs solver=jaxglm.ProxNewton() given "
            "explicitly: its fits have no standard errors, even where l1_ratio is 0"
        )
    n, p = tuple(x_shape[-2:]) if len(x_shape) >= 2 else (0, 0)
    if design:
        _check_design_options(precision)
        if solver is None and not (traced_l1 or l1_ratio > 0 or path):
            solver = solvers.Newton()
    solver = solvers.resolve(
        solver, n, p, l1=traced_l1 or l1_ratio > 0, warm_starts=path,
        vector_theta=bool(family.event_ndim), tol=tol, max_iter=max_iter,
    )  # fmt: skip
    if design:
        _check_design_solver(solver, p)
    cov_type = _cov_type(cov_type)
    if (cov_type == "cluster") != (groups is not None):
        raise ValueError("groups= is required with cov_type='cluster', and only used there")
    scale_type, scale_value = _scale_option(scale, family)
    if use_t is None:
        use_t = scale_type in ("X2", "dev")
    elif not isinstance(use_t, bool):
        raise TypeError(f"use_t must be True, False or None, got {use_t!r}")
    if not isinstance(fit_intercept, bool):
        raise TypeError(f"fit_intercept must be True or False, got {fit_intercept!r}")
    _check_precision(precision)
    if statistics not in STATISTICS:
        raise ValueError(f"statistics must be one of {STATISTICS}, got {statistics!r}")
    return FitSpec(
        family, link, solver, fit_intercept, l1_ratio, estimate_alpha, cov_type, scale_type,
        scale_value, use_t, statistics, precision,
    )  # fmt: skip


def _check_design_solver(solver: solvers.AbstractSolver, p: int) -> None:
    """TypeError for a solver that does not run on a :class:`jaxglm.Design`, ValueError
    for a design wider than the dense matrix the solver forms allows."""
    if not solver.supports_designs:
        raise TypeError(
            f"{solver.name} does not run on a jaxglm.Design (its steps read rows or columns "
            "of X directly): use Newton (the default for designs), SubsampledNewton, "
            "ProxNewton or full-batch Optax (batch_size=None)"
        )
    top = solver.max_design_columns
    if top is not None and p > top:
        raise ValueError(
            f"{solver.name} forms a dense (p+1) x (p+1) matrix: it runs on designs of at most "
            f"{top:,} columns, this one has {p:,} (levels counted). Fit a ridge penalty with "
            "Newton (l1_ratio=0), whose solve eliminates a large categorical block, or merge "
            "rare levels"
        )


def _check_design_options(precision: Any) -> None:
    """TypeError for what a :class:`jaxglm.Design` does not run."""
    if precision is not None:
        raise TypeError("precision='mixed' needs a dense X; a jaxglm.Design keeps one dtype")


PRECISIONS = (None, "mixed")
"""The values of ``precision=`` (:func:`jaxglm.fit`)."""


def _check_precision(precision: Any) -> None:
    """``precision`` one of :data:`PRECISIONS`; ``"mixed"`` only where float64 exists."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be None or 'mixed', got {precision!r}")
    if precision == "mixed" and jax.dtypes.canonicalize_dtype(jnp.float64) != jnp.float64:
        raise ValueError(
            "precision='mixed' sums and solves in float64, which needs x64: run with "
            "JAX_ENABLE_X64=1 or inside `with jax.enable_x64(True):`"
        )


def _check_vector_options(link: Any, scale: Any, use_t: Any):
    """The options a Multinomial fit does not have: a ValueError naming each."""
    if link is not None and not isinstance(link, L.Canonical):
        raise ValueError(f"Multinomial has only its canonical link (link=None), got {link!r}")
    if scale is not None or use_t:
        raise ValueError(
            f"Multinomial has a fixed scale (1) and normal tests: scale={scale!r} and "
            f"use_t={use_t!r} are not supported"
        )


def _cov_type(cov_type: Any) -> str:
    """``cov_type`` in any letter case -> its entry of :data:`COV_TYPES`."""
    if isinstance(cov_type, str):
        for name in inference.COV_TYPES:
            if cov_type.lower() == name.lower():
                return name
    raise ValueError(f"cov_type must be one of {inference.COV_TYPES} (any case), got {cov_type!r}")


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


def is_concrete(*trees: Any) -> bool:
    """Whether no leaf of ``trees`` is traced (host-side steps run only then)."""
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(trees))


def column_names(X: Any) -> tuple[str, ...] | None:
    """A data frame's or a :class:`jaxglm.Design`'s column names (the last axis of ``X``),
    else None."""
    columns = getattr(X, "columns", None)
    return None if columns is None else tuple(str(c) for c in columns)


# ---- validation (host side, concrete inputs only) ------------------------------------------


def _where(index: tuple[int, ...], batched: bool, axes: tuple[str, ...] = ("index",)) -> str:
    """``index 3`` / ``member 2, index 3`` (``row r, column c`` for a design)."""
    names = (("member",) if batched else ()) + axes
    return ", ".join(f"{a} {int(i)}" for a, i in zip(names, index, strict=True))


def _first_bad(ok: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~ok)[0])


def _numeric(name: str, value: Any) -> np.ndarray:
    if type(value).__module__.startswith("scipy.sparse"):
        raise ValueError(
            f"{name} is a scipy sparse matrix: pass jaxglm.design(sparse={name}) (a design "
            f"with a sparse block) or a dense array ({name}.toarray())"
        )
    arr = value if isinstance(value, jax.Array) else np.asarray(value)
    if arr.dtype == object or not (
        jnp.issubdtype(arr.dtype, jnp.number) or jnp.issubdtype(arr.dtype, jnp.bool_)
    ):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr


@jax.jit
def _all_finite(X: jax.Array) -> jax.Array:
    """Whether every entry of ``X`` is finite: the sum of ``X * 0`` is 0, or NaN where an
    entry is infinite or NaN (a float sum, which XLA:CPU runs 2.4x faster than the boolean
    ``all(isfinite(X))``: 23 against 55 ms at n = 10^6, p = 100 in float32)."""
    return jnp.isfinite(jnp.sum(X * 0))


def _check_design(X: Any, batched: bool, finite: bool = True) -> tuple[int, int]:
    """Shape, dtype and (with ``finite``) finiteness of ``X`` without copying it (it may be
    large, or on a GPU)."""
    Xa = _numeric("X", X)
    want = 3 if batched else 2
    if Xa.ndim != want:
        shape = "(m, n, p) or (n, p)" if batched else "(n, p)"
        raise ValueError(f"X must be {want}-D {shape}, got shape {Xa.shape}")
    if Xa.shape[-2] == 0:
        raise ValueError("X has no rows: cannot fit empty data")
    if finite:
        check_finite_design(Xa, batched)
    return Xa.shape[-2], Xa.shape[-1]


def check_finite_design(X: Any, batched: bool = False) -> None:
    """A ValueError naming the first non-finite entry of a dense numeric ``X`` (row and
    column; the member first with ``batched``), if it has one: one pass over ``X``, and a
    host copy to find the entry only when there is one.

    :func:`jaxglm.fit` runs it after the compiled fit, and only when that fit cannot have
    seen every entry finite (:func:`validate`'s ``finite_X``): a non-finite entry makes its
    row's linear predictor non-finite (``X @ params``: ``inf * 0`` is NaN) and every
    gradient's column sum, so a fit that converged with every ``eta`` finite read a finite
    ``X``, and the pass is saved.

    Example:
        >>> import numpy as np
        >>> check_finite_design(np.array([[1.0, 2.0], [np.inf, 0.0]]))
        Traceback (most recent call last):
        ...
        ValueError: X has a non-finite value at row 1, column 0
    """
    Xa = X if isinstance(X, jax.Array) else np.asarray(X)
    if not jnp.issubdtype(Xa.dtype, jnp.inexact):
        return
    finite = bool(_all_finite(Xa)) if isinstance(Xa, jax.Array) else np.isfinite(Xa).all()
    if not finite:
        where = _first_bad(np.isfinite(np.asarray(Xa)))
        place = _where(where, batched and Xa.ndim == 3, ("row", "column"))
        raise ValueError(f"X has a non-finite value at {place}")


def _local_rows(arr: Any) -> np.ndarray:
    """``arr`` on the host; for an array spread over several processes (rows sharded by
    :func:`jaxglm.shard_rows` under ``jax.distributed``), this process's rows only: each
    process validates its own rows, none gathers the others'."""
    if not isinstance(arr, jax.Array) or arr.is_fully_addressable:
        return np.asarray(arr)
    shards = sorted(arr.addressable_shards, key=lambda s: s.index[0].start or 0)
    blocks, seen = [], set()
    for shard in shards:  # replicas of a block are skipped
        start = shard.index[0].start or 0
        if start not in seen:
            seen.add(start)
            blocks.append(np.asarray(shard.data))
    return np.concatenate(blocks)


def _rows(name: str, value: Any, n: int, m: int | None) -> np.ndarray:
    """A per-row argument as float64: shape (n,), or (m, n) per member; finite (this
    process's rows of an array spread over processes: :func:`_local_rows`)."""
    arr = _numeric(name, value)
    shapes = [(n,)] if m is None else [(n,), (m, n)]
    if arr.shape not in shapes:
        want = " or ".join(str(s) for s in shapes)
        raise ValueError(f"{name} must have shape {want} to match X, got {arr.shape}")
    arr = np.asarray(_local_rows(arr), dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        place = _where(_first_bad(finite), arr.ndim == 2)
        raise ValueError(f"{name} has a non-finite value at {place}")
    return arr


def validate(
    spec: FitSpec,
    X: Any,
    y: Any,
    *,
    weights: Any = None,
    freq_weights: Any = None,
    offset: Any = None,
    exposure: Any = None,
    alpha: Any = 0.0,
    penalty_factor: Any = None,
    start_params: Any = None,
    groups: Any = None,
    members: int | None = None,
    finite_X: bool = True,
) -> None:
    """Check the data of a fit (or of ``members`` fits, members first); raise a ValueError.

    Each message names the argument and the first bad place (module docs). Checked: ``X``
    numeric, 2-D (3-D per member), finite; every per-row array's shape and finiteness;
    ``weights``/``freq_weights`` >= 0 with a positive one in every fit; ``exposure`` > 0;
    ``y`` inside the family's support and the link's mean range; the family's parameters
    (NegativeBinomial ``alpha`` > 0, Tweedie ``power``), ``Power(0)``; ``alpha`` >= 0 and
    finite; ``penalty_factor`` (p,) finite and >= 0; ``start_params`` (k,) finite;
    ``groups`` (n,) integer labels.

    Args:
        spec: the resolved specification.
        X, y, weights, freq_weights, offset, exposure, alpha, penalty_factor, start_params,
            groups: as :func:`jaxglm.fit`; in a batch (``members`` given) each may carry
            the members axis first (``y`` must).
        members: the number of batch members, or None for a single fit.
        finite_X: check that a dense ``X`` is finite (one pass over it). False leaves that
            to the caller (:func:`check_finite_design`: :func:`jaxglm.fit` runs it after
            the fit, only where the fit did not show it).

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> spec = resolve_spec(jg.Poisson(), None, None, (3, 1))
        >>> validate(spec, np.ones((3, 1)), [1.0, -1.0, 2.0])
        Traceback (most recent call last):
        ...
        ValueError: y[1] = -1 is outside the support of Poisson (y >= 0)
    """
    batched = members is not None
    if isinstance(X, AbstractDesign):
        X.check()
        n, p = X.shape
    else:
        n, p = _check_design(X, batched and np.ndim(X) == 3, finite_X)
    if batched and np.ndim(X) == 3 and np.shape(X)[0] != members:
        raise ValueError(f"X must have shape ({members}, n, p) per member, got {np.shape(X)}")
    if spec.family.event_ndim:
        ya = None
    else:
        ya = _check_y_shape(y, n, members)
    w = np.ones(n if ya is None else ya.shape[-1])
    for name, value in (("weights", weights), ("freq_weights", freq_weights)):
        if value is not None:
            arr = _rows(name, value, n, members)
            if (arr < 0).any():
                raise ValueError(
                    f"{name} has a negative value at {_where(_first_bad(arr >= 0), arr.ndim == 2)}"
                )
            w = w * arr
    empty = ~(w > 0).any(axis=-1)
    if np.any(empty):
        member = f" (member {int(np.argmax(empty))})" if np.ndim(empty) else ""
        raise ValueError(f"all weights are zero: no observation to fit{member}")
    if offset is not None:
        _check_offset(spec.family, offset, n, members)
    if exposure is not None:
        arr = _rows("exposure", exposure, n, members)
        if (arr <= 0).any():
            place = _where(_first_bad(arr > 0), arr.ndim == 2)
            raise ValueError(f"exposure must be > 0; bad value at {place}")
    _check_family(spec.family, spec.link)
    if spec.family.event_ndim:
        spec.family.check_response(y, w, batched)
    else:
        _check_response(spec, ya)
    a = np.asarray(alpha, dtype=float)
    shapes = ((), (members,)) if batched else ((),)
    if a.shape not in shapes or not (np.isfinite(a).all() and (a >= 0).all()):
        per_member = f" (or ({members},) per member)" if batched else ""
        raise ValueError(f"alpha must be a finite scalar >= 0{per_member}, got {alpha!r}")
    if penalty_factor is not None:
        pf = np.asarray(_numeric("penalty_factor", penalty_factor), dtype=float)
        if pf.shape != (p,) or not (np.isfinite(pf).all() and (pf >= 0).all()):
            raise ValueError(f"penalty_factor must be ({p},) finite and >= 0, got {pf.shape}")
    if start_params is not None:
        shape = (p + int(spec.fit_intercept), *_event_shape(spec.family))
        sp = np.asarray(_numeric("start_params", start_params), dtype=float)
        if sp.shape != shape or not np.isfinite(sp).all():
            raise ValueError(f"start_params must be {shape} and finite, got shape {sp.shape}")
    if groups is not None:
        arr = groups.codes if isinstance(groups, inference.ClusterCodes) else groups
        arr = arr if isinstance(arr, jax.Array) else np.asarray(arr)
        if arr.shape != (n,):
            raise ValueError(f"groups must have shape ({n},) to match X, got {arr.shape}")
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
            raise ValueError(f"groups must be integer cluster labels, got dtype {arr.dtype}")
        if isinstance(groups, inference.ClusterCodes):
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi >= groups.n_clusters:
                raise ValueError(
                    f"ClusterCodes must be in [0, {groups.n_clusters}), got [{lo}, {hi}]"
                )


def _event_shape(family: F.Family) -> tuple[int, ...]:
    """The shape of one row's natural parameter: (), or (m,) for an m-vector ``theta``."""
    return (family.n_natural,) if family.event_ndim else ()


def _check_offset(family: F.Family, offset: Any, n: int, members: int | None) -> None:
    """The offset: (n,) (or (members, n) per member); for an m-vector ``theta`` (n,) or
    (n, m) shared, or (members, n, m) per member (one column per class of ``theta``)."""
    if not family.event_ndim:
        _rows("offset", offset, n, members)
        return
    m = family.n_natural
    arr = _numeric("offset", offset)
    shapes = [(n,), (n, m)] if members is None else [(n,), (n, m), (members, n, m)]
    if arr.shape not in shapes:
        want = " or ".join(str(s) for s in shapes)
        raise ValueError(f"offset must have shape {want} to match X, got {arr.shape}")
    arr = np.asarray(_local_rows(arr), dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(f"offset has a non-finite value at index {_first_bad(finite)}")


def _check_y_shape(y: Any, n: int, members: int | None) -> np.ndarray:
    """A scalar family's ``y``: numeric, (n,) or (members, n), finite; as float64."""
    batched = members is not None
    ya = _numeric("y", y)
    if batched and np.ndim(ya) != 2:
        raise ValueError(
            f"y must be 2-D (m, n), members first (one response per row), got {np.shape(ya)}"
        )
    if not batched and np.ndim(ya) != 1:
        raise ValueError(f"y must be 1-D (n,), got shape {np.shape(ya)}")
    if batched and np.shape(ya)[1] != n and np.shape(ya)[0] == n:
        raise ValueError(
            f"y has shape {np.shape(ya)}: the members go first, (m, n) = (m, {n}); pass its "
            "transpose"
        )
    if batched and np.shape(ya)[0] != members:
        raise ValueError(f"y must have shape ({members}, {n}), got {np.shape(ya)}")
    return _rows("y", ya, n, members)


def _check_response(spec: FitSpec, y: np.ndarray) -> None:
    """``y`` inside the family's support and the closed hull of the link's mean range."""
    family, link = spec.family, spec.link
    inside = family.in_support(y)
    if not inside.all():
        i = _first_bad(inside)
        raise ValueError(
            f"y[{', '.join(map(str, i))}] = {y[i]:g} is outside the support of {family.name} "
            f"({family.support})"
        )
    lo, hi = link.mean_range
    reach = (y >= lo) & (y <= hi)
    if not reach.all():
        i = _first_bad(reach)
        raise ValueError(
            f"y[{', '.join(map(str, i))}] = {y[i]:g} is outside the mean range [{lo:g}, "
            f"{hi:g}] of the {link.name} link: no {family.name} fit with this link reaches it"
        )


def _check_family(family: F.Family, link: L.Link) -> None:
    if isinstance(family, F.NegativeBinomial) and not float(family.alpha) > 0:
        raise ValueError(f"NegativeBinomial alpha must be > 0, got {family.alpha}")
    if isinstance(family, F.Tweedie):
        power = float(family.power)
        if not (power == 0 or power >= 1):
            raise ValueError(f"Tweedie power must be 0 or >= 1, got {power}")
    if isinstance(link, L.Power) and float(link.power) == 0:
        raise ValueError("Power(0) is not a link: use Log()")


def check_folds(n_folds: Any, foldid: Any, n: int) -> None:
    """Cross-validation folds: ``2 <= n_folds <= n``, or ``foldid`` (n,) integer labels
    ``>= 0`` with at least two folds."""
    if foldid is None:
        if not (isinstance(n_folds, int | np.integer) and 2 <= n_folds <= n):
            raise ValueError(f"n_folds must be an integer in [2, n] = [2, {n}], got {n_folds!r}")
        return
    ids = np.asarray(foldid)
    if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"foldid must be ({n},) integer fold labels, got {ids.dtype} {ids.shape}")
    if ids.min() < 0 or len(np.unique(ids)) < 2:
        raise ValueError("foldid must be labels >= 0 of at least two folds")
