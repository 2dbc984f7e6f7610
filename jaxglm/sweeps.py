"""Many fits as one compiled program: :func:`fit_many` and :func:`bootstrap`.

Both are thin layers over ``jax.vmap(jaxglm.fit)`` (shared/DESIGN.md: batch by closing over
what is shared). Arguments that are the same for every member (``X`` of shape (n, p), a
weight vector of shape (n,)) enter the program once, unmapped; per-member arguments carry
the batch axis first (``Y`` is (m, n)). Every member has its own ``n_iter``, ``converged``
and ``status``; a member that fails (NaN, divergence) does not change the others: under
``vmap`` the solver loop runs until every member is done, and a finished member's state is
left as it is (``lax.while_loop``'s batching rule selects it).

Host work (validation, row padding to size buckets, one ``ConvergenceWarning`` for the
batch) is done once for the batch when the inputs are concrete, as :func:`jaxglm.fit` does
for one fit.

How the batch is run (``method``, ``batch_size``):

* ``method="vmap"``: ``jax.jit(jax.vmap(fit))``, in chunks of ``batch_size`` members
  (default: all), the chunks one after another from Python. Every chunk has the same size
  (the last one is filled up by repeating a member, whose copies are dropped), so all
  chunks run one compiled program. It is jitted as a whole: an un-jitted ``jax.vmap`` of
  the jitted fit traces the batch again on every call and broadcasts the shared arguments
  eagerly, one small dispatched program each (measured: benchmarks/RESULTS.md, issue 19).
  Memory grows with the chunk: each member holds a few (n,) vectors, and with a shared
  ``X`` the Gram product materializes an (members, n, p) array. A chunk iterates until its
  slowest member is done (finished members are frozen but still computed).
* ``method="map"``: ``jax.lax.map(fit)`` inside one ``jit``: one member after another in a
  compiled loop, each with its own iterations; memory of one member. With ``batch_size=b``
  it is ``lax.map(batch_size=b)``: ``vmap`` over ``b`` members per step.
* ``method=None`` (default): ``"vmap"`` on an accelerator. On the CPU ``"vmap"`` when the
  members share one design whose Newton matrices :func:`jaxglm._linalg.gram` forms in one
  product for the whole batch (``p + 1 <= m``, small ``n p^2``: on the first problem below
  one ``vmap`` then took 0.77 s against 1.59 s for ``lax.map``, re-measured at 12:47);
  else ``"map"`` when one fit has ``n (p + 1) >= MAP_MIN_SIZE`` (4,096) entries in its
  design, else ``"vmap"``.

The CPU rule is measured (``python -m benchmarks.batched``, float64, 2 cores shared with
other jobs, load average ~4.5; seconds for the whole batch, fastest of three runs, compile
excluded; benchmarks/RESULTS.md, 2026-11-22 09:54):

==========================================  ========  ==============  ========  =======
problem                                     one vmap  vmap chunks 32  lax.map   loop
==========================================  ========  ==============  ========  =======
1,000 Poisson, shared X, n=2,000, p=20      2.78      2.50            2.49      4.25
1,000 logistic, own X, n=1,000, p=10        1.24      0.92            1.03      2.35
10,000 Poisson, own X, n=200, p=5           1.39      1.56            1.37      14.4
==========================================  ========  ==============  ========  =======

("loop": a Python loop of :func:`jaxglm.fit`, re-measured at 10:09 after its host path
moved to NumPy.) Memory, first problem, peak resident size of a fresh process including
the compile (228 MB before the fit): one ``vmap`` 1,204 MB, ``vmap`` chunks of 32 559 MB,
``lax.map`` 472 MB.

An earlier run (single runs, same load) ranked them the same way with larger gaps: 4.56 /
2.90 / 2.63 s, 1.90 / 1.60 / 1.04 s and 1.72 / 2.95 / 1.99 s. So ``lax.map`` is never
slower than one ``vmap`` by more than the noise for mid-size fits, and is up to 1.8x
faster, with the memory of one member; for tiny fits ``vmap`` was as fast or up to 15%
faster, and it is the accelerator path.

Progress (``progress=True``, tqdm): the bar counts members (fits or replicates) done,
updated on the host after each compiled chunk has finished, never from inside a compiled
program (a host callback there would keep the program out of JAX's persistent compilation
cache). With ``method="vmap"`` the chunks are those of ``batch_size`` (one chunk, one
update, without it); with ``method="map"`` the members run in about ``PROGRESS_CHUNKS``
(100) calls of the compiled ``lax.map``, the last filled up by repeats (under 1% more
work). Every member's fit is the same computation either way: the results do not change.

On the CPU a batched step is not cheaper per member than a single one for mid-size fits (the
batched Gram reads an (m, n, p) temporary; XLA's CPU kernels gain little from the batch
axis), while every member pays for the slowest one's iterations; only for tiny fits does
the per-step overhead that ``vmap`` shares dominate. On an accelerator the batch axis is
what fills the device: use ``vmap`` with the largest chunk that fits in memory.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxglm import _fit, _frames, _host, _linalg, _padding, _progress, designs
from jaxglm import families as F
from jaxglm import links as L
from jaxglm._spec import MEMBER_NDIM, FitSpec, column_names, is_concrete, resolve_spec, validate
from jaxglm._status import ConvergenceWarning, Status
from jaxglm.results import GLMResult
from jaxglm.solvers import AbstractSolver

__all__ = ["BootstrapResult", "bootstrap", "fit_many"]


def fit_many(
    X: ArrayLike,
    Y: ArrayLike,
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
    statistics: str = "full",
    precision: str | None = None,
    batch_size: int | None = None,
    method: str | None = None,
    progress: bool = False,
) -> GLMResult:
    """Fit one GLM per row of ``Y`` (many responses), as one compiled program.

    Equivalent to ``jax.vmap(lambda y: jaxglm.fit(X, y, ...))(Y)`` (module docs), with the
    host work done once for the batch. The batch axis is first: ``Y`` is (m, n), member
    ``i`` is the fit of ``Y[i]``. Any of ``X`` ((m, n, p)), ``weights``, ``freq_weights``,
    ``offset``, ``exposure`` ((m, n)) and ``alpha`` ((m,)) may also be given per member; with
    their single-fit shape they are shared by all members (and not copied per member).
    For :class:`jaxglm.Multinomial` ``Y`` is (m, n) labels or (m, n, k) rows, and a
    per-member offset (m, n, m_theta).

    Args:
        X: (n, p) shared design, or (m, n, p) one per member.
        Y: (m, n) responses, one row per member.
        family, link, fit_intercept, l1_ratio, penalty_factor, solver, tol, max_iter,
            start_params, cov_type, groups, scale, use_t: as :func:`jaxglm.fit`, shared
            by all members (``NegativeBinomial(alpha=None)`` estimates each member's
            alpha).
        weights, freq_weights, offset, exposure: (n,) shared or (m, n) per member.
        alpha: ridge strength, scalar shared or (m,) per member.
        statistics: ``"full"`` (default): every statistic of :func:`jaxglm.fit`.
            ``"minimal"``: what a sweep that wants the coefficients needs — ``params``,
            ``deviance``, ``nobs``, ``df_model``, ``df_resid``, ``n_iter`` and ``status``
            (the same iterations, parameters and status, separation included, as with
            ``"full"``) — without the passes over the rows and the solves that the others
            cost: ``null_deviance``, ``llf``, ``aic``, ``bic`` and ``pearson_chi2`` are NaN,
            and so are ``scale`` where it is estimated from the Pearson chi2 and the
            covariance (``cov_type`` reads ``"none"``: ``bse``, tests and intervals NaN).
            Refit a member with :func:`jaxglm.fit` for its full statistics.
        precision: as :func:`jaxglm.fit` (``"mixed"``: float32 ``X`` and products, float64
            sums, solves and statistics).
        batch_size: members per ``vmap`` (module docs); ``None``: all of them with
            ``method="vmap"``, one at a time with ``"map"``. Bounds memory.
        method: ``"vmap"``, ``"map"`` or ``None`` (the measured rule of the module docs).
        progress: show a tqdm bar of the members done (module docs: "Progress"; needs
            ``pip install "jaxglm[progress]"``). The results do not change.

    Returns:
        A batched :class:`jaxglm.GLMResult`: every field has the batch axis first; ``res[i]``
        is member ``i``. One :class:`jaxglm.ConvergenceWarning` says how many members did
        not converge (concrete inputs only).

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 2))
        >>> Y = rng.poisson(np.exp(0.2 + X @ [0.3, -0.1]), size=(2, 100)).astype(float)
        >>> res = jg.fit_many(X, Y, family=jg.Poisson())
        >>> res.params.shape, bool(res.converged.all())
        ((2, 3), True)
        >>> lean = jg.fit_many(X, Y, family=jg.Poisson(), statistics="minimal")
        >>> bool(np.allclose(lean.params, res.params, rtol=1e-6)), bool(np.isnan(lean.llf).all())
        (True, True)
    """
    X, penalty_factor = designs.for_fit(X, fit_intercept, penalty_factor)
    spec = resolve_spec(
        family, link, solver, np.shape(X), fit_intercept=fit_intercept, l1_ratio=l1_ratio,
        tol=tol, max_iter=max_iter, cov_type=cov_type, groups=groups, scale=scale, use_t=use_t,
        y=Y, batched=True, statistics=statistics, precision=precision,
        design=isinstance(X, designs.Design),
    )  # fmt: skip
    arrays = dict(
        X=X, y=Y, weights=weights, freq_weights=freq_weights, offset=offset,
        exposure=exposure, alpha=alpha,
    )  # fmt: skip
    shared = dict(penalty_factor=penalty_factor, start_params=start_params, groups=groups)
    res = _run_batch(spec, arrays, shared, batch_size, method, sample=None, progress=progress)
    _warn_failed(res, spec.family.name, "fits")
    return dataclasses.replace(res, feature_names=column_names(X))


def _batched_names(arrays: dict[str, Any], family: F.Family, y_batched: bool) -> tuple[str, ...]:
    """The arguments given per member (one more dimension than one fit's). For an m-vector
    ``theta`` (Multinomial) ``y`` (labels or rows) is per member exactly in
    :func:`fit_many` (``y_batched``), and the offset when it is (members, n, m)."""

    def per_member(k, v):
        if family.event_ndim and k == "y":
            return y_batched
        if family.event_ndim and k == "offset":
            return np.ndim(v) == 3
        return np.ndim(v) == MEMBER_NDIM[k] + 1

    return tuple(k for k, v in arrays.items() if v is not None and per_member(k, v))


def _batch_size_of(arrays: dict[str, Any], batched: tuple[str, ...]) -> int:
    sizes = {k: np.shape(arrays[k])[0] for k in batched}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"per-member arguments disagree on the batch size: {sizes}")
    return next(iter(sizes.values()))


def _run_batch(
    spec: FitSpec,
    arrays: dict[str, Any],
    shared: dict[str, Any],
    batch_size: int | None,
    method: str | None,
    sample: _Sample | None,
    progress: bool = False,
) -> GLMResult:
    """Validate and pad on the host (concrete inputs), then map the compiled fit over the
    members (:func:`jaxglm._fit.run` under ``jax.jit(jax.vmap(...))`` or ``lax.map``).

    ``arrays`` holds the per-row arguments and ``alpha`` (each shared or per member);
    ``shared`` the arguments every member shares (``penalty_factor``, ``start_params``,
    ``groups``). With ``sample`` (:func:`bootstrap`, whose data :func:`jaxglm.fit` has
    validated) each member is a replicate whose frequency weights are drawn, per chunk,
    by a small compiled function.
    """
    # Frames and series as NumPy arrays, as fit's: the rows' (and the cluster labels')
    # index checked against X's; penalty factors and start values are not rows.
    arrays, groups = _frames.to_host(arrays, shared["groups"])
    others, _ = _frames.to_host({k: v for k, v in shared.items() if k != "groups"})
    shared = dict(others, groups=groups)
    batched = _batched_names(arrays, spec.family, y_batched=sample is None)
    if sample is None and "y" not in batched:
        raise ValueError(
            f"y must be 2-D (m, n), members first (one response per row), got "
            f"{np.shape(arrays['y'])}"
        )
    m = sample.n_boot if sample is not None else _batch_size_of(arrays, batched)
    if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    n, p = np.shape(arrays["X"])[-2:]
    if method is None:
        method = default_method(n, p, m, np.ndim(arrays["X"]) == 2)
    if method not in ("vmap", "map"):
        raise ValueError(f"method must be 'vmap', 'map' or None, got {method!r}")
    groups = shared["groups"]
    if is_concrete(arrays, shared, spec):
        if sample is None:
            validate(spec, **arrays, **shared, members=m)
        arrays, groups = _fit.prepare(spec, arrays, groups, batched)
    arrays = dict(arrays, **shared)
    arrays["groups"] = groups
    names = (*batched, "freq_weights") if sample is not None else batched
    common = tuple(None if k in names else _host.for_jit(v) for k, v in arrays.items())
    static = dict(keys=tuple(arrays), names=names)

    progress = progress and is_concrete(arrays)
    if method == "map":  # one compiled loop over all members: no chunks from Python
        size, run = m, functools.partial(_map_jit, batch_size=batch_size, **static)
        if progress:
            size = _progress_chunk(m, batch_size)
    else:
        size = m if batch_size is None else min(batch_size, m)
        run = functools.partial(_vmap_jit, **static)
    with (
        _progress.bar(progress, m, "replicates" if sample is not None else "fits") as bar,
        _progress.lagging(bar) as count,
    ):
        parts = _run_chunks(arrays, batched, sample, m, size, run, common, spec, count)
    return parts[0] if len(parts) == 1 else _concatenate(parts, m)


PROGRESS_CHUNKS = 100
"""``method="map"`` with ``progress=True`` runs the members in about this many chunks."""


def _progress_chunk(m: int, batch_size: int | None) -> int:
    """Members per chunk of a ``"map"`` batch with a progress bar: ``m / PROGRESS_CHUNKS``
    rounded up (to a multiple of ``batch_size`` when given). The last chunk is filled up
    with repeats, so the work grows by less than one chunk: under 1/PROGRESS_CHUNKS."""
    size = -(-m // PROGRESS_CHUNKS)
    if batch_size is not None:
        size = -(-size // batch_size) * batch_size
    return min(size, m)


def _run_chunks(arrays, batched, sample, m, size, run, common, spec, count) -> list[GLMResult]:
    """Run the members in chunks of ``size`` (one compiled program for all), each counted
    by ``count`` (:func:`jaxglm._progress.lagging`) once dispatched."""
    parts = []
    for start in range(0, m, size):
        idx = np.minimum(np.arange(start, start + size), m - 1)
        member = tuple(_take(arrays[k], idx, size == m) for k in batched)
        if sample is not None:
            n_rows = np.shape(arrays["X"])[-2]
            probs, rows = sample.probs, sample.rows
            if probs is not None:
                probs = _padding.pad_rows(probs, n_rows, 0.0)
            if rows is not None:  # the padding rows (never drawn) as themselves
                rows = np.concatenate([rows, np.setdiff1d(np.arange(n_rows), rows)])
            counts = _draw_counts(
                sample.key, jnp.asarray(idx), probs, rows, n_draws=sample.n_draws, n_rows=n_rows
            )
            member = (*member, counts)
        parts.append(run(member, common, spec))
        count(parts[-1], min(size, m - start))
    return parts


def _warn_failed(res: GLMResult, name: str, what: str) -> None:
    """One ConvergenceWarning for a batch, pointing at the caller of the entry point."""
    if not is_concrete(res.status):
        return
    status = np.asarray(res.status)
    failed = int(np.sum(status != Status.CONVERGED))
    if failed:
        warnings.warn(
            f"{failed} of {status.size} {name} {what} did not converge: see res.status / "
            "res.status_message per member",
            ConvergenceWarning,
            stacklevel=3,
        )


MAP_MIN_SIZE = 4096
"""On the CPU, ``method=None`` maps one fit at a time from ``n (p + 1)`` of this size."""


def default_method(n: int, p: int, members: int = 1, shared_design: bool = False) -> str:
    """``method=None``'s choice (module docs: measured).

    ``"vmap"`` on accelerators, for tiny fits on the CPU, and on the CPU for ``members``
    fits sharing one design when :func:`jaxglm._linalg.gram` forms all their Newton
    matrices in one product (``p + 1 <= members`` and ``n (p + 1) (p + 2) / 2 <= 2^24``);
    otherwise ``"map"`` on the CPU when ``n (p + 1) >= MAP_MIN_SIZE``.

    Example:
        >>> import jax
        >>> default_method(2000, 20) == ("map" if jax.default_backend() == "cpu" else "vmap")
        True
        >>> default_method(2000, 20, members=1000, shared_design=True)
        'vmap'
    """
    one_product = shared_design and _linalg.batched_gram_in_one_product(n, p, members)
    if jax.default_backend() == "cpu" and n * (p + 1) >= MAP_MIN_SIZE and not one_product:
        return "map"
    return "vmap"


def _member_fit(member, common, spec, keys, names):
    kw = dict(zip(keys, common, strict=True))
    kw.update(zip(names, member, strict=True))
    return _fit.run(spec, kw, kw.pop("groups"))


@functools.partial(jax.jit, static_argnames=("keys", "names"))
def _vmap_jit(members, common, spec, *, keys, names):
    """``jax.vmap`` of the compiled fit over the members, in one compiled program (module
    docs: jitted as a whole)."""

    def one(*member):
        return _member_fit(member, common, spec, keys, names)

    return jax.vmap(one)(*members)


@functools.partial(jax.jit, static_argnames=("keys", "names", "batch_size"))
def _map_jit(members, common, spec, *, keys, names, batch_size) -> GLMResult:
    """``lax.map`` of the compiled fit over the members, in one compiled program."""

    def one(member):
        return _member_fit(member, common, spec, keys, names)

    return lax.map(one, members, batch_size=batch_size)


def _take(a: Any, idx: np.ndarray, whole: bool) -> Any:
    """Members ``idx`` of a per-member argument (NumPy when concrete: no compile)."""
    if whole:
        return _host.for_jit(a)
    if isinstance(a, jax.core.Tracer):
        return jnp.take(a, jnp.asarray(idx), axis=0)
    arr = np.asarray(a)  # aligned: the call adopts it (jaxglm._host)
    return np.take(arr, idx, axis=0, out=_host.empty((len(idx), *arr.shape[1:]), arr.dtype))


def _concatenate(parts: list[GLMResult], m: int) -> GLMResult:
    """The chunks' results as one batch of ``m`` members (the fill-up repeats dropped)."""
    if is_concrete(parts):
        return jax.tree.map(
            lambda *xs: jnp.asarray(np.concatenate([np.asarray(x) for x in xs])[:m]), *parts
        )
    return jax.tree.map(lambda *xs: jnp.concatenate(xs)[:m], *parts)


@dataclasses.dataclass(frozen=True)
class _Sample:
    """What :func:`bootstrap` adds to a batch: the key, replicates and draws per replicate,
    drawn over the caller's rows in their order (the rows of all processes, in process
    order) and placed at their padded rows."""

    key: jax.Array
    n_boot: int
    n_draws: int
    probs: np.ndarray | None  # (n,) row probabilities; None: uniform over the n_draws rows
    rows: np.ndarray | None  # (n,) padded row of each caller's row; None: the first n rows


# ---- bootstrap ------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("n_draws", "n_rows"))
def _draw_counts(key, replicates, probs, rows, *, n_draws, n_rows):
    """The replicates' frequency weights, (len(replicates), n_rows): resampling counts.

    Replicate ``b`` draws ``n_draws`` rows with replacement with the key
    ``fold_in(key, b)``: uniformly over the first ``n_draws`` (the caller's) rows when
    ``probs`` is None, else row ``i`` with probability ``probs[i]``; then row ``i`` of
    that order is counted at ``rows[i]``, its place among the padded rows (None: ``i``).
    Padded rows are never drawn. The counts are a multinomial sample, drawn as ``n_draws``
    categorical indices and counted (O(n), where ``jax.random.multinomial`` loops over the
    categories).
    """

    def counts(b):
        k = jax.random.fold_in(key, b)
        if probs is None:
            idx = jax.random.randint(k, (n_draws,), 0, n_draws)
        else:
            idx = jax.random.choice(k, n_rows, (n_draws,), p=probs)
        if rows is not None:
            idx = rows[idx]
        return jnp.zeros(n_rows, jnp.result_type(float)).at[idx].add(1.0)

    return jax.vmap(counts)(replicates)


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """The result of :func:`bootstrap`.

    Attributes:
        fit: the fit to the data (a :class:`jaxglm.GLMResult`, or a
            :class:`jaxglm.MultinomialResult` whose ``params`` are (p+1, m): ``k`` below
            then stands for ``(p+1, m)``).
        params: (n_boot, k) the replicates' ``params`` (NaN for replicates that failed).
        bse: (k,) bootstrap standard errors: the standard deviation (``ddof=1``) of the
            successful replicates (NaN, as ``conf_int``, when fewer than two succeeded).
        conf_int: (k, 2) percentile intervals of level ``1 - ci_alpha``.
        status: (n_boot,) every replicate's :class:`jaxglm.Status` code.
        n_failed: replicates that did not converge (left out of ``bse`` and ``conf_int``).
        replicates: the batched :class:`jaxglm.GLMResult` of all replicates.
    """

    fit: GLMResult
    params: np.ndarray
    bse: np.ndarray
    conf_int: np.ndarray
    status: np.ndarray
    n_failed: int
    replicates: GLMResult


def _caller_values(a: Any, rows: np.ndarray | None) -> np.ndarray:
    """A per-row argument's values at the caller's rows, in their order, on the host
    (``rows``: :func:`jaxglm._padding.caller_rows`; an array spread over processes is
    gathered to every process first)."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        from jax.experimental import multihost_utils

        a = multihost_utils.process_allgather(a, tiled=True)
    values = np.asarray(a, dtype=float)
    return values if rows is None else values[rows]


def bootstrap(
    X: ArrayLike,
    y: ArrayLike,
    family: F.Family | None = None,
    link: L.Link | None = None,
    *,
    n_boot: int = 1000,
    key: jax.Array | int = 0,
    ci_alpha: float = 0.05,
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
    statistics: str = "full",
    precision: str | None = None,
    batch_size: int | None = None,
    method: str | None = None,
    progress: bool = False,
) -> BootstrapResult:
    """Nonparametric (case-resampling) bootstrap of the parameters, as one compiled program.

    Replicate ``b`` resamples the ``n`` rows with replacement: row ``i`` drawn ``c_i``
    times, ``c ~ Multinomial(n, 1/n, ..., 1/n)``. Fitting the resampled rows is exactly
    fitting the original rows with frequency weights ``c`` (a row repeated ``c`` times
    and a row of frequency weight ``c`` give the same estimating equations, ``nobs`` and
    degrees of freedom; rows with ``c = 0`` are dropped). So every replicate has the data's
    shapes and all run in one ``vmap``ped program. With ``freq_weights`` the data stand for
    ``N = sum(freq_weights)`` observations (integers): ``N`` draws, row ``i`` with
    probability ``freq_weights[i] / N``. Prior ``weights``, the offset and the exposure
    go with their rows.

    Replicate ``b``'s draw uses ``jax.random.fold_in(key, b)``: the same replicates
    whatever ``n_boot``, ``batch_size`` or ``method``, and for rows from
    :func:`jaxglm.shard_rows` (over devices or processes) those of the same rows
    unsharded: the rows are drawn in the caller's order (all processes' rows in process
    order) and counted at their padded rows. A host-side function (its summaries
    are NumPy arrays): its inputs must be concrete. Inside ``jit``, map :func:`jaxglm.fit`
    over frequency weights yourself.

    Args:
        X, y, family, link, weights, freq_weights, offset, exposure, fit_intercept, alpha,
            l1_ratio, penalty_factor, solver, tol, max_iter, start_params, cov_type, groups,
            scale, use_t: as :func:`jaxglm.fit` (one dataset); ``cov_type``, ``scale`` and
            ``use_t`` shape ``res.fit``'s inference (and each replicate's).
        statistics, precision: as :func:`fit_many`, for ``res.fit`` and the replicates
            (the bootstrap's own summaries need only the replicates' ``params``).
        n_boot: number of replicates.
        key: a ``jax.random`` key or an int seed.
        ci_alpha: the percentile intervals have level ``1 - ci_alpha``.
        batch_size, method, progress: as :func:`jaxglm.fit_many` (module docs).

    Returns:
        A :class:`BootstrapResult`. Replicates that do not converge (e.g. separation in a
        logistic resample) are counted in ``n_failed`` and left out of ``bse`` and
        ``conf_int``; one :class:`jaxglm.ConvergenceWarning` gives their count.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 1))
        >>> y = rng.poisson(np.exp(0.3 + 0.4 * X[:, 0])).astype(float)
        >>> boot = jg.bootstrap(X, y, family=jg.Poisson(), n_boot=50, key=1)
        >>> boot.params.shape, boot.conf_int.shape, boot.n_failed
        ((50, 2), (2, 2), 0)
    """
    if not (isinstance(n_boot, int) and n_boot >= 1):
        raise ValueError(f"n_boot must be a positive int, got {n_boot!r}")
    X, penalty_factor = designs.for_fit(X, fit_intercept, penalty_factor)
    spec = resolve_spec(
        family, link, solver, np.shape(X), fit_intercept=fit_intercept, l1_ratio=l1_ratio,
        tol=tol, max_iter=max_iter, cov_type=cov_type, groups=groups, scale=scale, use_t=use_t,
        y=y, statistics=statistics, precision=precision, design=isinstance(X, designs.Design),
    )  # fmt: skip
    data = dict(
        X=X, y=y, weights=weights, freq_weights=freq_weights, offset=offset, exposure=exposure,
        alpha=alpha, penalty_factor=penalty_factor, start_params=start_params,
    )  # fmt: skip
    full = _fit.fit_spec(spec, data, groups)  # validates the data, as a single fit
    key = jax.random.key(key) if isinstance(key, int) else key
    arrays = dict(
        X=X, y=y, weights=weights, freq_weights=None, offset=offset, exposure=exposure,
        alpha=alpha,
    )  # fmt: skip
    rows = _padding.caller_rows(X)
    n = np.shape(X)[0] if rows is None else len(rows)
    sample = _Sample(key, n_boot, n, None, rows)
    if freq_weights is not None:
        fw = _caller_values(freq_weights, rows)
        if not np.array_equal(fw, np.round(fw)):
            raise ValueError("bootstrap needs integer freq_weights (counts of observations)")
        sample = _Sample(key, n_boot, int(fw.sum()), fw / fw.sum(), rows)
    shared = dict(penalty_factor=penalty_factor, start_params=start_params, groups=groups)
    reps = _run_batch(spec, arrays, shared, batch_size, method, sample, progress)
    _warn_failed(reps, spec.family.name, "bootstrap replicates")
    status = np.asarray(reps.status)
    ok = status == Status.CONVERGED
    params = np.asarray(reps.params)
    params = np.where(ok.reshape(-1, *(1,) * (params.ndim - 1)), params, np.nan)
    k = params.shape[1:]
    bse, lo, hi = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
    if ok.sum() >= 2:  # a standard deviation needs two successful replicates
        bse = np.nanstd(params, axis=0, ddof=1)
        lo, hi = np.nanquantile(params, [ci_alpha / 2, 1 - ci_alpha / 2], axis=0)
    return BootstrapResult(
        fit=full, params=params, bse=bse, conf_int=np.stack([lo, hi], axis=-1), status=status,
        n_failed=int((~ok).sum()), replicates=reps,
    )  # fmt: skip
