"""Fits over row chunks, for data larger than memory: :func:`fit_stream`.

The Newton iteration of :class:`jaxglm.Newton` needs the data only through sums over
rows: the objective ``sum w nll``, the score ``[1 X]^T (w g)`` and the matrix
``[1 X]^T diag(w h) [1 X]``. :func:`fit_stream` forms them chunk by chunk (one pass over
the chunks per objective evaluation), with one compiled kernel per chunk shape: every
chunk is cut or padded (rows of weight 0, as the size buckets of :func:`jaxglm.fit`) to the
rows of the first. JAX dispatches a kernel without waiting for it, so the host reads and
copies the next chunk to the device while the current one is computed; at most two chunks
are on the device at a time. The chunks' sums are added pairwise (a binary tree over the
chunks), so their rounding error grows like the log of the number of chunks.

Passes: one for R's start (one weighted least-squares step from the family's ``mustart``,
as ``glm.fit``; it also counts the rows and the weights), one per Newton step (more when
the Armijo line search backtracks), and one for the statistics at the solution (Pearson
chi2, log-likelihood, null deviance, the information matrix, the robust meats). The
intercept-only (null) model is fitted alongside the Newton passes when there is an offset
(with no offset it is closed-form). Stopping rule and step: :class:`jaxglm.Newton`'s (the
Newton decrement relative to the objective, ``tol``; a step from a decrement within
``tol`` is taken in full), so the result is the in-memory fit's optimum.

Chunks of a :class:`jaxglm.Design` (dense and categorical blocks) run the same passes on
the design's products; with an eliminated categorical block the Gram is a
:class:`jaxglm._linalg.BlockGram`, whose three leaves are summed over the chunks as the
dense Gram is, and the step and covariance come from its block factor and inverse.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxglm import _host, _linalg, _padding, _progress, designs
from jaxglm import _statistics as S
from jaxglm import families as F
from jaxglm import links as L
from jaxglm import model as M
from jaxglm._spec import resolve_spec, validate
from jaxglm._status import ConvergenceWarning, Status
from jaxglm.results import GLMResult
from jaxglm.solvers import AbstractSolver, Newton

__all__ = ["PassInfo", "fit_stream", "memmap_chunks", "parquet_chunks"]

_MAX_HALVINGS = 30
_ARMIJO = 1e-4


class PassInfo(NamedTuple):
    """What the ``progress`` hook of :func:`fit_stream` receives after each pass.

    Attributes:
        index: passes so far (1 for the first).
        kind: ``"start"``, ``"newton"`` (the objective at a new Newton point), ``"line
            search"`` (a backtracking trial), ``"null"`` (a step of the null model alone)
            or ``"statistics"``.
        rows: rows read in the pass (padding not counted).
        seconds: wall time of the pass.
        objective: the objective at the pass's point (NaN for the other kinds).
    """

    index: int
    kind: str
    rows: int
    seconds: float
    objective: float


def _show_pass(bar: Any, info: PassInfo) -> None:
    """``fit_stream(progress=True)``'s hook: one step of the bar per pass."""
    bar.set_postfix_str(f"{info.kind}, objective {info.objective:.8g}", refresh=False)
    bar.update(1)


def fit_stream(
    chunks: Iterable[tuple] | Callable[[], Iterator[tuple]],
    family: F.Family | None = None,
    link: L.Link | None = None,
    *,
    fit_intercept: bool = True,
    alpha: float = 0.0,
    penalty_factor: ArrayLike | None = None,
    solver: AbstractSolver | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
    cov_type: str = "nonrobust",
    scale: float | str | None = None,
    use_t: bool | None = None,
    dtype: Any = None,
    progress: Callable[[PassInfo], None] | bool | None = None,
    precision: str | None = None,
) -> GLMResult:
    """Fit a GLM to rows read in chunks (data larger than memory), by Newton's method.

    The same model, objective, solver rules and statistics as :func:`jaxglm.fit` (module
    docs: how the passes go); only the rows arrive in chunks, so the answer is the
    in-memory fit's (to about ``tol^2`` relative, 1e-10 in the tests).

    Args:
        chunks: a re-iterable (a list, :func:`memmap_chunks`, :func:`parquet_chunks`) or a
            zero-argument callable returning a fresh iterator, of row blocks
            ``(X, y)``, ``(X, y, weights)``, ``(X, y, weights, offset)`` or
            ``(X, y, weights, offset, groups)`` (NumPy arrays; ``None`` for an absent
            one). It is iterated once per pass. Every chunk is validated as the data of a
            fit (in the first pass) and padded, or cut, to the rows of the first chunk.
            ``X`` may be a :class:`jaxglm.Design` of dense and categorical blocks (no sparse
            block), the same blocks, levels and columns in every chunk (categoricals built
            with ``jaxglm.categorical(..., levels=...)``): the kernels run the design's
            products, a Gram with an eliminated categorical block is summed over the chunks
            in its block form and solved and inverted in it, as :func:`jaxglm.fit`'s.
        family, link, fit_intercept, alpha, penalty_factor, tol, max_iter, scale, use_t:
            as :func:`jaxglm.fit` (ridge only: no L1).
        solver: None or a :class:`jaxglm.Newton` (``fisher=True`` for Fisher scoring).
        cov_type: ``"nonrobust"``, ``"HC0"``, ``"HC1"``, ``"cluster"`` (labels as the fifth
            element of each chunk, any integers; dense ``X`` only) or ``"none"``. HC2/HC3
            need each row's leverage under the final bread: not offered.
        dtype: the working dtype (default JAX's: float64 with ``jax_enable_x64``, else
            float32). Chunks are copied to the device as stored (float32 on disk stays
            float32 in the copy) and converted on the device.
        progress: called with a :class:`PassInfo` after every pass (off by default);
            ``True`` shows a tqdm bar of the passes with the last objective (``pip install
            "jaxglm[progress]"``), updated on the host between passes.
        precision: None or ``"mixed"`` (needs x64 on; ``dtype`` then None or float64), as
            :func:`jaxglm.fit`: each chunk's ``X`` in float32 on the device (float32 on disk
            is copied as it is), its Gram from float32 products summed in float64, ``X @
            beta`` and the score read the float32 ``X`` and add in float64; the sums over
            chunks, the step and the statistics in float64. The answer is the float64 fit
            of the float32 data.

    Returns:
        A :class:`jaxglm.GLMResult` (``feature_names`` the design's columns for design
        chunks, else None). A :class:`jaxglm.ConvergenceWarning` is issued when the fit did
        not converge.

    Raises:
        ValueError: an option the stream does not offer, invalid data (the messages of
            :func:`jaxglm.fit`, for the chunk's rows), or a design chunk whose blocks,
            levels or columns are not the first chunk's.
        TypeError: design chunks with a sparse block, with ``cov_type="cluster"`` or with
            ``precision="mixed"``.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(500, 2))
        >>> y = rng.poisson(np.exp(0.5 + X @ np.array([0.3, -0.2]))).astype(float)
        >>> chunks = [(X[i : i + 300], y[i : i + 300]) for i in range(0, 500, 300)]
        >>> res = jg.fit_stream(chunks, jg.Poisson())
        >>> bool(np.allclose(res.params, jg.fit(X, y, jg.Poisson()).params))
        True
    """
    if not callable(chunks) and iter(chunks) is chunks:
        raise ValueError(
            "fit_stream reads the chunks once per pass: pass a re-iterable (a list, "
            "jaxglm.memmap_chunks, jaxglm.parquet_chunks) or a function returning a fresh "
            "iterator, not an iterator or generator"
        )
    open_chunks = chunks if callable(chunks) else lambda: iter(chunks)
    first = next(open_chunks(), None)
    if first is None:
        raise ValueError("fit_stream: the stream has no chunks")
    cluster = isinstance(cov_type, str) and cov_type.lower() == "cluster"
    X0 = first[0] if isinstance(first, tuple | list) and first else None
    if isinstance(X0, designs.Design):
        X0 = _host_design(X0.for_model(fit_intercept))
        _check_design(X0, cluster)
    else:
        X0 = np.asarray(X0)
    if X0.ndim != 2 or X0.shape[0] == 0:
        raise ValueError(f"fit_stream: X chunks must be (rows, p) with rows >= 1, got {X0.shape}")
    if cluster and jax.process_count() > 1:
        raise ValueError(
            "fit_stream: cov_type='cluster' is not offered in a multi-process run (the "
            "clusters' score sums are formed on each host)"
        )
    spec = resolve_spec(
        family, link, solver if solver is not None else Newton(), X0.shape,
        fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, cov_type=cov_type,
        groups=() if cluster else None, scale=scale, use_t=use_t, precision=precision,
        design=isinstance(X0, designs.Design),
    )  # fmt: skip
    _check_options(spec, solver)
    dtype = jax.dtypes.canonicalize_dtype(jnp.result_type(float) if dtype is None else dtype)
    x_dtype = dtype
    if spec.precision == "mixed":
        if dtype != jnp.float64:
            raise ValueError(
                f"fit_stream: precision='mixed' works in float64 (X in float32), got dtype={dtype}"
            )
        x_dtype = jnp.dtype(jnp.float32)
    with _progress.bar(progress is True, None, "passes") as bar:
        hook = functools.partial(_show_pass, bar) if progress is True else progress or None
        stream = _Stream(open_chunks, spec, X0, dtype, x_dtype, cluster, hook)
        stream.options = dict(
            alpha=alpha, penalty_factor=designs.penalty_factors(X0, penalty_factor)
        )
        res = _newton(stream, spec)
    if int(res.status) != Status.CONVERGED:
        warnings.warn(
            f"{spec.family.name} fit did not converge: {res.status_message}",
            ConvergenceWarning,
            stacklevel=2,
        )
    return res


def _check_options(spec, solver) -> None:
    """The options the stream refuses: a ValueError naming each."""
    if solver is not None and solver.name not in ("Newton", "Newton(fisher)"):
        raise ValueError(f"fit_stream runs Newton (or Newton(fisher=True)), got {solver.name}")
    if spec.family.event_ndim:
        raise ValueError(f"fit_stream does not support {spec.family.name}")
    if spec.estimate_alpha:
        raise ValueError(
            "fit_stream needs a fixed NegativeBinomial alpha (NegativeBinomial(alpha=...))"
        )
    if spec.cov_type in ("HC2", "HC3"):
        raise ValueError(
            f"fit_stream does not offer cov_type={spec.cov_type!r} (a leverage per row under "
            "the final bread): use 'HC0', 'HC1', 'cluster', 'nonrobust' or 'none'"
        )


# ---- the chunks, on the host and on the device ---------------------------------------------


def _check_design(X: designs.Design, cluster: bool) -> None:
    """What the stream refuses of a design chunk: a TypeError naming it."""
    if X.sparse is not None:
        raise TypeError(
            "fit_stream: a jaxglm.Design with a sparse block does not stream (its entries "
            "are stored by row, a number per chunk): pass its dense and categorical blocks"
        )
    if cluster:
        raise TypeError(
            "fit_stream: cov_type='cluster' needs dense X chunks (each row's score is summed "
            "per cluster on the host), not a jaxglm.Design: use 'HC0', 'HC1' or 'nonrobust'"
        )


def _host_design(X: designs.Design) -> designs.Design:
    """The design's blocks as NumPy arrays (codes int32), sliced and padded on the host."""
    cats = tuple(
        dataclasses.replace(c, codes=np.asarray(c.codes, np.int32)) for c in X.categoricals
    )
    return dataclasses.replace(X, dense=np.asarray(X.dense), categoricals=cats)


class _Stream:
    """The chunks of one fit: read, validated (first pass), padded, copied, reduced."""

    def __init__(self, open_chunks, spec, template, dtype, x_dtype, cluster, progress):
        self.open_chunks, self.spec, self.template = open_chunks, spec, template
        self.rows, self.p = template.shape
        self.dtype, self.cluster, self.progress = dtype, cluster, progress
        self.x_dtype = x_dtype  # X's on the device: float32 for precision="mixed", else dtype
        self.validated = False
        self.options: dict[str, Any] = {}
        self.has_offset = False
        self.passes = 0

    def blocks(self) -> Iterator[tuple[dict[str, np.ndarray], int]]:
        """The padded chunks of one pass, with their count of real rows."""
        for chunk in self.open_chunks():
            arrays = _chunk_arrays(chunk, self.template, self.spec.fit_intercept, self.cluster)
            if not self.validated:
                self._validate(arrays)
            n = arrays["X"].shape[0]
            for start in range(0, n, self.rows):
                part = {k: _row_slice(v, start, start + self.rows) for k, v in arrays.items()}
                yield _pad_chunk(part, self.rows), part["X"].shape[0]
        self.validated = True

    def _validate(self, arrays) -> None:
        w = arrays["weights"]
        positive = w is None or bool(np.any(np.asarray(w) > 0))
        validate(
            self.spec, arrays["X"], arrays["y"], weights=w if positive else None,
            offset=arrays["offset"], groups=arrays["groups"], **self.options,
        )  # fmt: skip
        if w is not None and not positive:  # a chunk may have no weight; the data must
            validate(self.spec, arrays["X"], arrays["y"], weights=np.abs(w) + 1.0)
        self.has_offset |= arrays["offset"] is not None

    def reduce(self, kernel, kind, *args, host_rows=None) -> dict[str, Any]:
        """One pass: ``kernel(chunk, *args)`` per chunk, its sums added pairwise over the
        chunks (and over the processes of a multi-process run); ``host_rows(chunk, out)``
        receives each chunk's per-row output on the host."""
        start = time.perf_counter()
        total, pending, rows = _PairwiseSum(), None, 0
        for block, n in self.blocks():
            on_device = jax.tree.map(_host.to_device, block)  # _host: no second copy
            out = kernel(on_device, *args)  # dispatched: the next chunk is read meanwhile
            if pending is not None:
                total.add(self._finish(pending, host_rows))
            pending, rows = (block, out), rows + n
        total.add(self._finish(pending, host_rows))
        sums = _sum_over_processes(total.result())
        self.passes += 1
        self.last_pass = (kind, rows, time.perf_counter() - start)
        return sums

    def report(self, objective: float = np.nan) -> None:
        """Call the progress hook with the last pass (and the objective found there)."""
        if self.progress is not None:
            kind, rows, seconds = self.last_pass
            self.progress(PassInfo(self.passes, kind, rows, seconds, float(objective)))

    @staticmethod
    def _finish(pending, host_rows):
        """The previous chunk's sums, once computed: waiting for them (while the chunk
        just dispatched computes) keeps at most two chunks on the device."""
        block, out = pending
        jax.block_until_ready(out)
        if host_rows is None:
            return out
        sums, per_row = out
        host_rows(block, np.asarray(per_row))
        return sums


def _chunk_arrays(chunk: Any, template: Any, fit_intercept: bool, cluster: bool) -> dict[str, Any]:
    """A chunk tuple as the named arrays of a fit (NumPy, or a design of NumPy blocks with
    the first chunk's blocks, levels and columns; None where absent)."""
    if not isinstance(chunk, tuple | list) or not 2 <= len(chunk) <= 5:
        raise ValueError(
            "fit_stream: each chunk must be a tuple (X, y[, weights[, offset[, groups]]]), "
            f"got {type(chunk).__name__}"
        )
    names = ("X", "y", "weights", "offset", "groups")
    arrays = dict(itertools.zip_longest(names, chunk))
    X = arrays.pop("X")
    arrays = {k: None if v is None else np.asarray(v) for k, v in arrays.items()}
    arrays["X"] = X = _chunk_design(X, template, fit_intercept)
    p = template.shape[1]
    if X.ndim != 2 or X.shape[1] != p:
        raise ValueError(f"fit_stream: every X chunk must be (rows, {p}), got {X.shape}")
    if cluster and arrays["groups"] is None:
        raise ValueError("cov_type='cluster' needs groups as the fifth element of every chunk")
    if not cluster and arrays["groups"] is not None:
        raise ValueError("chunks carry groups: they are only used with cov_type='cluster'")
    return arrays


def _chunk_design(X: Any, template: Any, fit_intercept: bool) -> Any:
    """A chunk's ``X``: NumPy for an array ``template`` (the first chunk's), else a design
    of NumPy blocks whose blocks, levels and columns are the template's (a ValueError
    otherwise)."""
    if not isinstance(template, designs.Design):
        if isinstance(X, designs.Design):
            raise ValueError("fit_stream: the first chunk's X is an array, a later one a Design")
        return np.asarray(X)
    if not isinstance(X, designs.Design):
        raise ValueError(
            f"fit_stream: the first chunk's X is a jaxglm.Design, a later one a "
            f"{type(X).__name__}: every chunk's X must be a design of the same blocks"
        )
    X = _host_design(X.for_model(fit_intercept))
    same = jax.tree.structure(X) == jax.tree.structure(template)
    if not (same and X.shape[1] == template.shape[1] and X.columns == template.columns):
        raise ValueError(
            "fit_stream: every chunk's design must have the first chunk's blocks, levels and "
            f"columns (categorical levels from jaxglm.categorical(..., levels=...)): got "
            f"{_blocks(X)}, the first chunk's {_blocks(template)}"
        )
    return X


def _blocks(X: designs.Design) -> str:
    """A design's blocks in words (for the error of a chunk that differs)."""
    cats = ", ".join(f"{c.name} {list(c.levels)}" for c in X.categoricals)
    sparse = "" if X.sparse is None else f", sparse {X.sparse.shape[1]}"
    return f"dense {X.dense.shape[1]} {list(X.dense_names)}, categorical [{cats}]{sparse}"


def _row_slice(a: Any, start: int, stop: int) -> Any:
    """Rows ``[start, stop)`` of a chunk's array or design (None as it is)."""
    if a is None:
        return None
    if isinstance(a, designs.Design):
        stop = min(stop, a.shape[0])
        return a if (start, stop) == (0, a.shape[0]) else a.take_rows(np.arange(start, stop))
    return a[start:stop]


def _pad_chunk(arrays: dict[str, Any], rows: int) -> dict[str, np.ndarray]:
    """The chunk padded to ``rows`` rows of weight 0 (:mod:`jaxglm._padding`), with every
    array present (weights 1, offset 0, groups 0 where absent)."""
    n = arrays["X"].shape[0]
    X = arrays["X"] if np.issubdtype(arrays["X"].dtype, np.floating) else arrays["X"].astype(float)
    full = dict(
        X=X, y=arrays["y"], freq_weights=None, exposure=None,
        weights=np.ones(n, X.dtype) if arrays["weights"] is None else arrays["weights"],
        offset=np.zeros(n, X.dtype) if arrays["offset"] is None else arrays["offset"],
    )  # fmt: skip
    padded = _padding.pad_fit_arrays(full, rows)
    if isinstance(padded["X"], designs.Design):  # names stay out of the compiled program
        padded["X"] = dataclasses.replace(padded["X"], dense_names=(), sparse_names=())
    groups = np.zeros(n, np.int64) if arrays["groups"] is None else arrays["groups"]
    return dict(
        X=padded["X"], y=padded["y"], weights=padded["weights"], offset=padded["offset"],
        groups=_padding.pad_labels(groups, rows),
    )  # fmt: skip


class _PairwiseSum:
    """Sums of pytrees added as a binary tree over the terms (error ~ log of their number)."""

    def __init__(self):
        self.levels: list[Any] = []  # levels[k]: a sum of 2**k terms, or None

    def add(self, tree) -> None:
        for k in itertools.count():
            if k == len(self.levels):
                self.levels.append(tree)
                return
            if self.levels[k] is None:
                self.levels[k] = tree
                return
            tree, self.levels[k] = _add(self.levels[k], tree), None

    def result(self):
        terms = [t for t in self.levels if t is not None]
        total = terms[0]
        for t in terms[1:]:
            total = _add(total, t)
        return total


@jax.jit
def _add(a, b):
    return jax.tree.map(jnp.add, a, b)


def _sum_over_processes(tree):
    """The sums of every process, as NumPy arrays: in a multi-process run (each process
    streams its own chunks) one all-reduce per leaf, over a global array whose first
    row on each process is that process's sums (the other rows 0)."""
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, tree)
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("all",))
    local = len(jax.local_devices())

    def stacked(leaf):
        leaf = np.asarray(leaf)
        rows = np.zeros((local, *leaf.shape), leaf.dtype)
        rows[0] = leaf
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("all"))
        return jax.make_array_from_process_local_data(
            sharding, rows, (local * jax.process_count(), *leaf.shape)
        )

    return jax.tree.map(np.asarray, _sum_rows(jax.tree.map(stacked, tree)))


@jax.jit
def _sum_rows(tree):
    return jax.tree.map(lambda a: jnp.sum(a, axis=0), tree)


# ---- the kernels: one program per chunk shape and pass kind ---------------------------------


def _problem(chunk, family, link, fit_intercept, dtype, x_dtype) -> M.Problem:
    X = chunk["X"].astype(x_dtype)  # float32 for precision="mixed", else dtype
    y = chunk["y"].astype(dtype)
    w = chunk["weights"].astype(dtype)
    return M.Problem(
        X=X, y=y, w=w, offset=chunk["offset"].astype(dtype), saturated=family.saturated_loglik(y),
        total_weight=jnp.ones((), dtype), penalty=jnp.zeros(X.shape[1] + 1, dtype),
        family=family, link=link, fit_intercept=fit_intercept,
    )  # fmt: skip


@jax.jit(static_argnames=("fit_intercept", "dtype", "x_dtype"))
def _start_kernel(chunk, family, link, *, fit_intercept, dtype, x_dtype):
    """R's start (one weighted least-squares step from ``mustart``) and the data's totals."""
    problem = _problem(chunk, family, link, fit_intercept, dtype, x_dtype)
    fam, w = problem.family, problem.w
    mu = fam.mustart(problem.y, w)
    eta0 = M.eta_from_mean(fam, link, mu)
    dmu = M.mean_derivative(fam, link, eta0)
    h = dmu * dmu / fam.variance(mu)
    z = eta0 - problem.offset + (problem.y - mu) / dmu
    ok = (w > 0) & jnp.isfinite(h) & jnp.isfinite(z)
    valid = w > 0
    return dict(
        gram=M.data_hessian(problem, jnp.where(ok, h, 0.0)),
        rhs=M.data_gradient(problem, jnp.where(ok, h * z, 0.0)),
        weight=jnp.sum(w), wy=jnp.sum(jnp.where(valid, w * problem.y, 0.0)),
        woffset=jnp.sum(jnp.where(valid, w * problem.offset, 0.0)),
        nobs=jnp.sum(valid.astype(dtype)),
    )  # fmt: skip


@jax.jit(static_argnames=("fit_intercept", "fisher", "dtype", "x_dtype"))
def _newton_kernel(
    chunk, params, null_intercept, family, link, *, fit_intercept, fisher, dtype, x_dtype
):
    """At ``params``: the objective's sum, the score, the Newton matrix (observed or
    expected ``h``); at the null model's intercept its score and expected information."""
    problem = _problem(chunk, family, link, fit_intercept, dtype, x_dtype)
    eta = M.linear_predictor(problem, params)
    nll = M.row_nll(problem, eta)
    g, h = M.row_derivatives(problem, eta, fisher)
    eta0 = problem.offset + null_intercept
    g0, h0 = M.row_derivatives(problem, eta0, fisher=True)
    w = jnp.where(problem.w > 0, problem.w, 0.0)
    return dict(
        loss=jnp.sum(jnp.where(problem.w > 0, problem.w * nll, 0.0)),
        score=M.data_gradient(problem, g), gram=M.data_hessian(problem, h),
        null_score=jnp.sum(w * jnp.where(w > 0, g0, 0.0)),
        null_info=jnp.sum(w * jnp.where(w > 0, h0, 0.0)),
    )  # fmt: skip


@jax.jit(static_argnames=("fit_intercept", "cluster", "dtype", "x_dtype"))
def _stats_kernel(
    chunk, params, null_intercept, phi, family, link, *, fit_intercept, cluster, dtype, x_dtype
):
    """At the solution: the statistics' sums (:func:`jaxglm._statistics.result`'s), the
    expected information, the sandwich's bread and HC0 meat; with ``cluster`` also each
    row's score ``w g [1, x]`` (summed per cluster on the host)."""
    problem = _problem(chunk, family, link, fit_intercept, dtype, x_dtype)
    fam, w = problem.family, problem.w
    valid = w > 0
    eta = M.linear_predictor(problem, params)
    mu = M.mean_from_eta(fam, link, eta)
    eta_null = problem.offset + (null_intercept if fit_intercept else 0.0)
    g, h = M.row_derivatives(problem, eta, fisher=False)
    _, h_expected = M.row_derivatives(problem, eta, fisher=True)
    eps = 10 * jnp.finfo(dtype).eps
    sums = dict(
        deviance=M.deviance_at(problem, eta),
        null_deviance=M.deviance_at(problem, eta_null),
        pearson=jnp.sum(jnp.where(valid, w * (problem.y - mu) ** 2 / fam.variance(mu), 0.0)),
        llf=S.loglik(problem, eta, w, jnp.ones_like(w), phi),
        information=M.data_hessian(problem, h_expected),
        bread=M.data_hessian(problem, h),
        meat=M.data_hessian(problem, jnp.where(valid, w * g * g, 0.0)),
        extreme=jnp.sum((valid & ((mu <= eps) | (mu >= 1 - eps))).astype(dtype)),
    )
    if not cluster:
        return sums
    scores = jnp.where(valid, w * g, 0.0)
    return sums, jnp.concatenate([scores[:, None], problem.X * scores[:, None]], axis=1)


@jax.jit(static_argnames=("fit_intercept",))
def _direction(hess, grad, *, fit_intercept):
    """The Newton step ``-H^-1 g`` (intercept pinned without one) and whether ``H``
    factored."""
    hess, flat = _linalg.pin_intercept(hess, grad, fit_intercept)
    factors, ok = _linalg.factor(hess)
    return -_linalg.solve(factors, flat), ok


@jax.jit(static_argnames=("fit_intercept",))
def _inverse(matrix, *, fit_intercept):
    """``matrix^-1`` (the intercept's row and column 0 without one) and whether it
    factored: (k, k), or block form for a :class:`jaxglm._linalg.BlockGram`
    (:func:`jaxglm._linalg.inverse`)."""
    k = matrix.shape[0]
    matrix, _ = _linalg.pin_intercept(matrix, jnp.zeros(k, matrix.dtype), fit_intercept)
    factors, ok = _linalg.factor(matrix)
    keep = jnp.ones(k, matrix.dtype).at[0].set(float(fit_intercept))
    return _linalg.mask(_linalg.inverse(factors), keep), ok


def _plus_diagonal(H: Any, v: np.ndarray) -> Any:
    """``H + diag(v)`` on the host, for a (k, k) ``H`` or a :class:`jaxglm._linalg.BlockGram`
    (a design's Gram with an eliminated categorical block: its leaves are summed over the
    chunks as the dense Gram is)."""
    if isinstance(H, _linalg.BlockGram):
        return jax.tree.map(np.asarray, H.plus_diagonal(v))
    return H + np.diag(v)


# ---- Newton over passes ---------------------------------------------------------------------


@dataclasses.dataclass
class _Point:
    """An evaluated point: ``params`` and the objective's value, gradient and Hessian."""

    params: np.ndarray
    f: float
    grad: np.ndarray
    hess: np.ndarray | _linalg.BlockGram
    null_score: float
    null_info: float


def _newton(stream: _Stream, spec) -> GLMResult:
    """Newton with an Armijo line search over passes (module docs), then the statistics."""
    family, link, solver = spec.family, spec.link, spec.solver
    fit_intercept, dtype = spec.fit_intercept, stream.dtype
    statics = dict(fit_intercept=fit_intercept, dtype=dtype, x_dtype=stream.x_dtype)

    totals = stream.reduce(lambda c: _start_kernel(c, family, link, **statics), "start")
    stream.report()
    factors = stream.options["penalty_factor"]  # validated with the chunks in that pass
    factors = np.ones(stream.p) if factors is None else np.asarray(factors, float)
    pen = np.concatenate([[0.0], float(stream.options["alpha"]) * factors]).astype(dtype)
    W = float(totals["weight"])
    k = stream.p + 1
    hess0 = _plus_diagonal(totals["gram"] / W, pen)
    step, ok = _direction(hess0, jnp.asarray(-totals["rhs"] / W), **_only(statics))
    start = np.asarray(step) if bool(ok) else np.zeros(k, dtype)
    ybar, offbar = totals["wy"] / W, totals["woffset"] / W
    null_b = float(M.eta_from_mean(family, link, jnp.asarray(ybar, dtype))) - offbar
    null_start = np.zeros(k, dtype)
    null_start[0] = null_b if fit_intercept else 0.0

    def evaluate(params, null_intercept, kind, fisher=solver.fisher):
        sums = stream.reduce(
            lambda c: _newton_kernel(
                c, params, null_intercept, family, link, fisher=fisher, **statics
            ),
            kind,
        )
        f = sums["loss"] / W + 0.5 * float(np.sum(pen * params * params))
        point = _Point(
            params, f if np.isfinite(f) else np.inf, sums["score"] / W + pen * params,
            _plus_diagonal(sums["gram"] / W, pen), float(sums["null_score"]),
            float(sums["null_info"]),
        )  # fmt: skip
        stream.report(point.f)
        return point

    tol = float(solver.tol)
    tol = max(tol, 10 * float(jnp.finfo(dtype).eps))
    max_iter = int(solver.max_iter)
    null_intercept = np.asarray(null_b, dtype)
    point = evaluate(start.astype(dtype), null_intercept, "newton")
    if not np.isfinite(point.f):  # R's start outside the mean range: the intercept-only point
        point = evaluate(null_start, null_intercept, "newton")
    null_intercept = _null_step(null_intercept, point, stream.has_offset)
    status, n_iter = Status.MAX_ITER, 0
    s_scale = 0.05 / W
    while n_iter < max_iter:
        if not (np.isfinite(point.f) and np.all(np.isfinite(point.grad))):
            status = Status.NONFINITE
            break
        d, ok = _direction(point.hess, jnp.asarray(point.grad), **_only(statics))
        if not (bool(ok) or solver.fisher or M.canonical_scale(family, link) is not None):
            # As Newton's: where the observed Hessian is not positive definite (far from
            # the optimum, a non-canonical link), a Fisher scoring step (one more pass).
            expected = evaluate(point.params, null_intercept, "newton", fisher=True)
            point = dataclasses.replace(point, hess=expected.hess)
            d, ok = _direction(point.hess, jnp.asarray(point.grad), **_only(statics))
        if not bool(ok):
            status = Status.RANK_DEFICIENT
            break
        d = np.asarray(d)
        decrement = -float(point.grad @ d)
        s = abs(point.f) + s_scale
        if decrement / 2 <= tol**2 * s:
            status = Status.CONVERGED
            break
        small = decrement / 2 <= tol * s
        t, accepted = 1.0, None
        for _ in range(_MAX_HALVINGS + 1):
            trial = evaluate(
                point.params + t * d, null_intercept, "line search" if t < 1 else "newton"
            )
            null_intercept = _null_step(null_intercept, trial, stream.has_offset)
            ulp = 16 * np.finfo(dtype).eps * abs(point.f)
            if np.isfinite(trial.f) and (
                small or trial.f <= point.f - _ARMIJO * t * decrement + ulp
            ):
                accepted = trial
                break
            t /= 2
        n_iter += 1
        if accepted is None:
            status = Status.LINE_SEARCH_FAILED
            break
        point = accepted
        if small:
            status = Status.CONVERGED
            break
    for _ in range(max_iter if stream.has_offset and fit_intercept else 0):
        if _null_decrement(point) / W <= tol**2 * (abs(point.f) + s_scale):
            break  # the null model's step from the last pass is within tol^2 (module docs)
        point = dataclasses.replace(
            point, **_null_only(stream, family, link, null_intercept, statics)
        )
        null_intercept = _null_step(null_intercept, point, True)
    return _statistics(
        stream, spec, point, pen, W, float(totals["nobs"]), status, n_iter, null_intercept
    )


def _covariance(stream, spec, sums, cluster_sums, pen, W, scale, nobs, rank, penalized):
    """``(cov, n_groups)`` as :func:`jaxglm._statistics._covariance` and
    :func:`jaxglm.inference.sandwich_cov`, from the statistics pass's sums: (k, k), or for
    a design with an eliminated categorical block a
    :class:`jaxglm._linalg.DiagonalPlusLowRank` (no (k, k) matrix), as ``fit``'s."""
    k = pen.shape[0]
    fit_intercept = spec.fit_intercept
    if spec.covariance == "none":
        return _linalg.nan_covariance(stream.template, k, stream.dtype), np.nan
    if spec.covariance == "model":
        info = _plus_diagonal(sums["information"], W * pen)
        inv, ok = _inverse(info, fit_intercept=fit_intercept)
        bad = jnp.asarray(penalized or not bool(ok))
        return _linalg.nan_where(bad, scale * inv), np.nan
    inv, ok = _inverse(sums["bread"], fit_intercept=fit_intercept)
    bad = jnp.asarray(penalized or not bool(ok))
    n_groups = np.nan
    if spec.cov_type == "cluster":
        scores = np.array(list(cluster_sums.values()))
        n_groups = float(len(cluster_sums))
        correction = n_groups / (n_groups - 1.0) * (nobs - 1.0) / (nobs - rank)
        meat = correction * scores.T @ scores
    else:
        meat = sums["meat"] * (nobs / (nobs - rank) if spec.cov_type == "HC1" else 1.0)
    keep = np.ones(k)
    keep[0] = float(fit_intercept)
    meat = _linalg.mask(meat, keep)
    if isinstance(inv, _linalg.DiagonalPlusLowRank):  # an HC meat in the Gram's block form
        return _linalg.nan_where(bad, _linalg.sandwich(inv, meat)), n_groups
    inv = np.asarray(inv)
    cov = inv @ np.asarray(meat) @ inv
    return _linalg.nan_where(bad, 0.5 * (cov + cov.T)), n_groups


def _only(statics: dict) -> dict:
    return dict(fit_intercept=statics["fit_intercept"])


def _null_step(null_intercept, point: _Point, has_offset: bool) -> np.ndarray:
    """One Newton (Fisher scoring) step of the intercept-only model with an offset."""
    if not has_offset or point.null_info <= 0:
        return null_intercept
    return np.asarray(null_intercept - point.null_score / point.null_info, null_intercept.dtype)


def _null_decrement(point: _Point) -> float:
    return point.null_score**2 / point.null_info if point.null_info > 0 else 0.0


def _null_only(stream, family, link, null_intercept, statics) -> dict:
    """A pass for the null model only (when it needs more steps than the fit)."""
    params = np.zeros(stream.p + 1, stream.dtype)
    sums = stream.reduce(
        lambda c: _newton_kernel(c, params, null_intercept, family, link, fisher=True, **statics),
        "null",
    )
    stream.report()
    return dict(null_score=float(sums["null_score"]), null_info=float(sums["null_info"]))


def _statistics(stream, spec, point, pen, W, nobs, status, n_iter, null_intercept) -> GLMResult:
    """The statistics pass and the result (:func:`jaxglm._statistics.result`'s formulas)."""
    family, link, dtype = spec.family, spec.link, stream.dtype
    p = stream.p
    rank = p + int(spec.fit_intercept)
    deviance_now = 2.0 * (point.f - 0.5 * float(np.sum(pen * point.params**2))) * W
    cluster_sums: dict[int, np.ndarray] = {}

    def per_row(block, scores):
        valid = block["weights"] > 0
        labels, inverse = np.unique(block["groups"][valid], return_inverse=True)
        part = np.zeros((len(labels), scores.shape[1]))
        np.add.at(part, inverse, scores[valid])
        for label, row in zip(labels.tolist(), part, strict=True):
            cluster_sums[label] = cluster_sums.get(label, 0.0) + row

    phi = float(family.llf_scale(jnp.asarray(deviance_now, dtype), nobs, W))
    sums = stream.reduce(
        lambda c: _stats_kernel(
            c, point.params, np.asarray(null_intercept, dtype), np.asarray(phi, dtype), family,
            link, fit_intercept=spec.fit_intercept, cluster=stream.cluster, dtype=dtype,
            x_dtype=stream.x_dtype,
        ),
        "statistics",
        host_rows=per_row if stream.cluster else None,
    )  # fmt: skip
    stream.report()
    deviance, pearson, llf = (float(sums[k]) for k in ("deviance", "pearson", "llf"))
    df_resid = nobs - rank
    scale = [pearson / df_resid, deviance / df_resid, float(spec.scale_value)][spec.scale_code]
    penalized = bool(np.any(pen > 0))
    k_params = rank + float(family.dispersion_params())
    aic = np.nan if penalized else -2.0 * llf + 2.0 * k_params
    bic = np.nan if penalized else -2.0 * llf + np.log(nobs) * k_params
    cov, n_groups = _covariance(
        stream, spec, sums, cluster_sums, pen, W, scale, nobs, rank, penalized
    )
    if (
        isinstance(family, F._Binomial)
        and sums["extreme"] > 0
        and not (p > 0 and np.all(pen[1:] > 0))
    ):
        if status in (Status.CONVERGED, Status.MAX_ITER, Status.LINE_SEARCH_FAILED):
            status = Status.SEPARATION
    as_array = lambda v: jnp.asarray(v, dtype)  # noqa: E731
    res = GLMResult(
        coef=as_array(point.params[1:]), intercept=as_array(point.params[0]),
        cov=jax.tree.map(as_array, cov),
        scale=as_array(scale), deviance=as_array(deviance),
        null_deviance=as_array(sums["null_deviance"]), llf=as_array(llf), aic=as_array(aic),
        bic=as_array(bic), pearson_chi2=as_array(pearson), nobs=as_array(nobs),
        df_model=as_array(p), df_resid=as_array(df_resid),
        n_iter=jnp.asarray(n_iter, jnp.int32), status_code=jnp.asarray(int(status), jnp.int32),
        family=family, link=link, fit_intercept=spec.fit_intercept, n_groups=as_array(n_groups),
        kkt_violation=as_array(np.nan), alpha_bse=as_array(np.nan),
    )  # fmt: skip
    return dataclasses.replace(
        res, solver_name=spec.solver.name, cov_type=spec.cov_type, scale_type=spec.scale_type,
        use_t=spec.use_t, feature_names=getattr(stream.template, "columns", None),
    )  # fmt: skip


# ---- chunk sources --------------------------------------------------------------------------


class _Chunks:
    """A re-iterable of chunks: each ``iter()`` starts a fresh pass over the source."""

    def __init__(self, make: Callable[[], Iterator[tuple]], description: str):
        self._make, self._description = make, description

    def __iter__(self) -> Iterator[tuple]:
        return self._make()

    def __repr__(self) -> str:
        return self._description


def memmap_chunks(
    X: Any,
    y: Any,
    weights: Any = None,
    offset: Any = None,
    groups: Any = None,
    *,
    chunk_rows: int = 65536,
) -> Iterable[tuple]:
    """Row chunks of arrays too large for memory: NumPy memory maps, for :func:`fit_stream`.

    Each argument is an array with one row per observation (a ``np.memmap``, a
    ``np.load(path, mmap_mode="r")``, or any array), or the path of a ``.npy`` file, opened
    as a read-only memory map. A chunk is a copy of ``chunk_rows`` consecutive rows (the
    pages are read when the chunk is copied, and the page cache may keep them: the process
    maps the file, it does not hold it).

    Args:
        X: (n, p) design; y: (n,) response; weights, offset, groups: (n,) or None.
        chunk_rows: rows per chunk (the last one may be shorter; :func:`fit_stream` pads it).

    Returns:
        A re-iterable of ``(X, y, weights, offset, groups)`` tuples of NumPy arrays.

    Example:
        >>> import numpy as np, tempfile, os, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(500, 2)).astype(np.float32)
        >>> y = rng.poisson(np.exp(0.3 + X @ [0.2, -0.1])).astype(np.float32)
        >>> folder = tempfile.mkdtemp()
        >>> np.save(os.path.join(folder, "X.npy"), X); np.save(os.path.join(folder, "y.npy"), y)
        >>> chunks = jg.memmap_chunks(os.path.join(folder, "X.npy"),
        ...                           os.path.join(folder, "y.npy"), chunk_rows=128)
        >>> [c[0].shape for c in chunks]
        [(128, 2), (128, 2), (128, 2), (116, 2)]
    """
    if not (isinstance(chunk_rows, int) and chunk_rows >= 1):
        raise ValueError(f"chunk_rows must be a positive int, got {chunk_rows!r}")
    arrays = [_open_rows(a) for a in (X, y, weights, offset, groups)]
    n = arrays[0].shape[0]
    for name, a in zip(("y", "weights", "offset", "groups"), arrays[1:], strict=True):
        if a is not None and a.shape[0] != n:
            raise ValueError(f"{name} has {a.shape[0]} rows, X has {n}")

    def make():
        for start in range(0, n, chunk_rows):
            yield tuple(
                None if a is None else np.ascontiguousarray(a[start : start + chunk_rows])
                for a in arrays
            )

    return _Chunks(make, f"memmap_chunks({n} rows, chunk_rows={chunk_rows})")


def _open_rows(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, str | Path):
        return np.load(a, mmap_mode="r")
    return a


def parquet_chunks(
    path: str | Path,
    x_columns: list[str],
    y_column: str,
    weights_column: str | None = None,
    offset_column: str | None = None,
    groups_column: str | None = None,
    *,
    chunk_rows: int = 65536,
) -> Iterable[tuple]:
    """Row chunks of a Parquet file, or of every ``*.parquet`` file under a directory (in
    sorted order), for :func:`fit_stream`. Needs pyarrow (``pip install jaxglm[parquet]``).

    Only the named columns are read, ``chunk_rows`` rows at a time (pyarrow's
    ``ParquetFile.iter_batches``); ``X``'s columns keep their stored dtype (float32 stays
    float32).

    Args:
        path: a ``.parquet`` file or a directory of them.
        x_columns: the design's columns, in order; y_column: the response's.
        weights_column, offset_column, groups_column: optional columns.
        chunk_rows: rows per chunk (at most; a file's last chunk may be shorter).

    Returns:
        A re-iterable of ``(X, y, weights, offset, groups)`` tuples of NumPy arrays.

    Example:
        >>> import numpy as np, tempfile, os, jaxglm as jg
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> rng = np.random.default_rng(0)
        >>> table = pa.table({"a": rng.normal(size=300), "y": rng.poisson(1.0, 300) * 1.0})
        >>> file = os.path.join(tempfile.mkdtemp(), "data.parquet")
        >>> pq.write_table(table, file)
        >>> res = jg.fit_stream(jg.parquet_chunks(file, ["a"], "y", chunk_rows=128), jg.Poisson())
        >>> int(res.nobs)
        300
    """
    parquet = _pyarrow_parquet()
    root = Path(path)
    files = sorted(root.rglob("*.parquet")) if root.is_dir() else [root]
    if not files:
        raise ValueError(f"no .parquet files under {root}")
    optional = (weights_column, offset_column, groups_column)
    columns = [*x_columns, y_column, *(c for c in optional if c is not None)]

    def make():
        for file in files:
            for batch in parquet.ParquetFile(file).iter_batches(chunk_rows, columns=columns):
                cols = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in columns}
                X = np.stack([cols[c] for c in x_columns], axis=1)
                yield (X, cols[y_column], *(None if c is None else cols[c] for c in optional))

    return _Chunks(make, f"parquet_chunks({root}, {len(files)} file(s), chunk_rows={chunk_rows})")


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet
    except ImportError as e:
        raise ImportError(
            "parquet_chunks needs pyarrow, an optional dependency: pip install 'jaxglm[parquet]' "
            "(or pip install pyarrow)"
        ) from e
    return pyarrow.parquet
