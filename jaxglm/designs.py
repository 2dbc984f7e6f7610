"""Designs beyond dense arrays: categorical and sparse columns without one-hot encoding.

A :class:`Design` is ``X`` as blocks of columns, in this order: a dense block (n, d), any
number of :class:`Categorical` blocks (integer codes of n rows, one column per level), and
an optional sparse block (a ``jax.experimental.sparse.BCOO`` (n, s)). It is a pytree
(its arrays are leaves; the numbers of levels and the names are static), so it crosses
``jit`` as ``X`` does, and :mod:`jaxglm._linalg` hands every product the solvers ask for
to it: the solvers do not know what a design is.

Its products never form the one-hot matrix:

* ``X @ b``: the dense product, plus for each categorical block a gather of its level
  coefficients at the codes, plus the sparse product;
* ``r @ X``: for a categorical block the segment sum of ``r`` over its codes;
* the weighted Gram ``[1 X]^T diag(h) [1 X]``: ``[1, dense]`` as a dense Gram; a
  categorical block with itself is diagonal (the segment sum of ``h``); with the dense
  columns, the segment sums of ``h * [1, dense]``; two categorical blocks, the
  co-occurrence table of their codes (one segment sum over combined codes); sparse blocks
  by segment sums over their non-zeros;
* row quadratic forms ``x_i^T A x_i`` (leverages, prediction variances) by gathers of
  ``A``'s entries at the codes; cluster score sums by segment sums over combined codes.

The Newton solve. A categorical block's own Gram block is diagonal, so when one block is
large the Newton matrix is kept as a :class:`jaxglm._linalg.BlockGram` (the other columns'
(q, q) block, the (q, L) cross block and the (L,) diagonal) and the block is eliminated:
only the (q, q) Schur complement is factored (``q^2 L + q^3 / 3`` flops, ``q L`` memory,
in place of ``(q + L)^3 / 3`` and ``(q + L)^2`` for the whole matrix), equilibrated and
rank-checked as the whole matrix would be. ``eliminate="auto"`` (default) eliminates the
categorical block of most columns when it has at least :data:`ELIMINATE_MIN_LEVELS`
(measured: ``python -m benchmarks.designs --crossover``, ``benchmarks/RESULTS.md``).
Standard errors of every coefficient, levels included, come from the block inverse, kept
in block form (:func:`jaxglm._linalg.inverse`: ``diag + W W^T`` with ``W`` (p+1, q),
``q^2 L`` flops): ``bse``, ``tvalues``, ``pvalues``, ``conf_int``, ``summary``,
``t_test``/``wald_test`` and ``get_prediction`` read it as it is, and so do the HC
covariances (their leverages and sandwich in block form, of rank ``2 q``); only
``cov_params()`` forms the (p+1, p+1) matrix (``(p+1)^2`` memory, ``(p+1)^2 q`` flops), and
the cluster covariance is formed dense (``(p+1)^2`` memory, ``(p+1)^2 G`` flops for ``G``
clusters). With ``cov_type="none"`` a design fit holds nothing of size ``(p+1)^2``.
A Multinomial fit (m classes of ``theta``) takes ``X @ B`` for (p, m) ``B`` and the score
per class from the same products; its Newton matrix, the ((p+1) m)^2 block Gram, has one
(p+1, p+1) block per class pair: :meth:`Design.whole_gram` with that pair's weights (no
block eliminated).

A categorical block drops its reference level (level 0) when the model has an intercept
and keeps it without one (``drop_first=None``, decided by the fit), so the columns are
those of ``pandas.get_dummies(drop_first=...)`` and of R's treatment contrasts; its
columns are named ``name[level]``. Construction: :func:`categorical` (integer codes, a
pandas or polars categorical or any sequence of labels) and :func:`design` (a dense array
or a pandas or polars data frame, categorical blocks, a ``scipy.sparse`` matrix or a
``BCOO``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxglm import _linalg
from jaxglm._pytree import pytree_dataclass, static_field

if TYPE_CHECKING:
    from jax.experimental import sparse as jsparse

# ``jax.experimental.sparse`` (and with it ``scipy.sparse``) is imported where a sparse block
# is built or multiplied, not with the package: it adds about 10% to ``import jaxglm``
# (issue 18, benchmarks/RESULTS.md) for designs that have none.

__all__ = [
    "Categorical",
    "Design",
    "SparseBlock",
    "categorical",
    "design",
    "for_fit",
    "for_model",
    "penalty_factors",
]

_HIGHEST = jax.lax.Precision.HIGHEST

ELIMINATE_MIN_LEVELS = 100
"""The fewest columns of a categorical block that ``eliminate="auto"`` eliminates from
the Newton solve: the crossover measured at n = 100,000 with 20 dense columns (warm fits
equal at 100 levels, elimination 6x faster at 300 and 70x at 3,000;
``benchmarks/RESULTS.md``)."""


@pytree_dataclass
class Categorical:
    """One categorical block: integer codes and the names of their levels.

    Attributes:
        codes: (n,) integer codes in ``[0, len(levels))``.
        levels: the level names (static); level 0 is the reference.
        name: the block's name; its columns are named ``name[level]``.
        drop_first: whether the reference level has no column (``True``: a model with an
            intercept, R's treatment contrasts), ``False`` (one column per level), or
            None: decided by the fit (:meth:`Design.for_model`).
    """

    codes: jax.Array
    levels: tuple[str, ...] = static_field()
    name: str = static_field(default="c")
    drop_first: bool | None = static_field(default=None)

    @property
    def n_levels(self) -> int:
        """The number of levels."""
        return len(self.levels)

    @property
    def dropped(self) -> int:
        """1 when the reference level has no column, else 0."""
        return int(self.drop_first is not False)

    @property
    def n_columns(self) -> int:
        """The block's number of columns (levels less the dropped reference)."""
        return self.n_levels - self.dropped

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names ``name[level]``."""
        return tuple(f"{self.name}[{level}]" for level in self.levels[self.dropped :])

    def full(self, coef: jax.Array) -> jax.Array:
        """The (levels, ...) coefficients of every level: the reference's 0 when dropped."""
        if not self.dropped:
            return coef
        return jnp.concatenate([jnp.zeros((1, *coef.shape[1:]), coef.dtype), coef])

    def level_sums(self, r: jax.Array) -> jax.Array:
        """``sum_{i: code_i = l} r_i`` for every level ``l`` ((levels, ...) for (n, ...) ``r``)."""
        return jax.ops.segment_sum(r, self.codes, num_segments=self.n_levels)


def categorical(
    values: Any,
    levels: Sequence[Any] | None = None,
    name: str | None = None,
    drop_first: bool | None = None,
) -> Categorical:
    """A :class:`Categorical` block from integer codes, a pandas or polars categorical or
    labels.

    Args:
        values: (n,) integer codes in ``[0, len(levels))``; or a pandas Series or
            Categorical, or a polars Series of dtype ``Enum`` (its categories, in order, are
            the levels; a series' name is the block's); or any (n,) sequence of labels,
            a polars ``Categorical`` or ``String`` series included (the sorted distinct
            labels are the levels: a polars ``Categorical`` has no fixed category order).
        levels: the levels. For codes, their names (default ``"0", "1", ...`` up to the
            largest code). For labels or a pandas or polars categorical, the levels to map them to,
            in order (e.g. a fit's, to predict): a value that is not among them raises a
            ValueError naming it (an unseen level has no coefficient).
        name: the block's name (default a series' name, else ``"c"``).
        drop_first: see :class:`Categorical` (default None: decided by the fit).

    Returns:
        The block, its codes int32 on the host.

    Raises:
        ValueError: a missing value, a code outside ``[0, len(levels))``, or a label that
            is not a level.

    Example:
        >>> import jaxglm as jg
        >>> c = jg.categorical(["b", "a", "b", "c"], name="g")
        >>> c.levels, c.codes.tolist()
        (('a', 'b', 'c'), [1, 0, 1, 2])
        >>> import polars as pl
        >>> e = jg.categorical(pl.Series("g", ["b", "a", "b"], dtype=pl.Enum(["b", "a"])))
        >>> e.levels, e.codes.tolist()
        (('b', 'a'), [0, 1, 0])
        >>> jg.categorical(["b", "z"], levels=c.levels)
        Traceback (most recent call last):
        ...
        ValueError: categorical 'c': level 'z' (row 1) is not among the levels ('a', 'b', 'c')
    """
    series_name = getattr(values, "name", None)
    name = name if name is not None else (str(series_name) if series_name is not None else "c")
    polars = type(values).__module__.split(".")[0] == "polars"
    if polars:  # a polars Enum's categories are its levels; other series are labels
        missing = np.asarray(values.is_null())
        if missing.any():
            raise ValueError(
                f"categorical {name!r} has a missing value at row {int(np.argmax(missing))}"
            )
        if type(values.dtype).__name__ == "Enum" and levels is None:
            own = tuple(str(v) for v in values.dtype.categories)
            codes = np.asarray(values.to_physical().to_numpy(), np.int32)
            return Categorical(codes, own, name, drop_first)
    cat = None if polars else getattr(values, "cat", None)  # a pandas Series of dtype category
    if cat is not None or type(values).__name__ == "Categorical":
        raw = values if cat is None else values.array
        if np.any(np.asarray(raw.isna())):
            row = int(np.argmax(np.asarray(raw.isna())))
            raise ValueError(f"categorical {name!r} has a missing value at row {row}")
        own = [str(v) for v in raw.categories]
        values = np.asarray(raw.categories)[np.asarray(raw.codes)]
        if levels is None:
            return Categorical(np.asarray(raw.codes, np.int32), tuple(own), name, drop_first)
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if arr.ndim != 1:
        raise ValueError(f"categorical {name!r} must be one (n,) column, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer) and levels is None:
        top = int(arr.max()) + 1 if arr.size else 0
        return _from_codes(arr, tuple(str(i) for i in range(top)), name, drop_first)
    if np.issubdtype(arr.dtype, np.integer) and not _labels_given(levels, arr):
        return _from_codes(arr, tuple(str(v) for v in levels), name, drop_first)
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in arr])
    if missing.any():
        raise ValueError(f"categorical {name!r} has a missing value at row {np.argmax(missing)}")
    if levels is None:
        uniques, codes = np.unique(arr, return_inverse=True)
        return Categorical(codes.astype(np.int32), tuple(str(v) for v in uniques), name, drop_first)
    index = {str(v): i for i, v in enumerate(levels)}
    labels = [str(v) for v in arr]
    unseen = next((i for i, v in enumerate(labels) if v not in index), None)
    if unseen is not None:
        raise ValueError(
            f"categorical {name!r}: level {labels[unseen]!r} (row {unseen}) is not among the "
            f"levels {tuple(index)}"
        )
    codes = np.fromiter((index[v] for v in labels), np.int32, len(labels))
    return Categorical(codes, tuple(index), name, drop_first)


def _labels_given(levels: Sequence[Any], arr: np.ndarray) -> bool:
    """Whether integer ``arr`` are labels among ``levels`` rather than codes into them."""
    return all(isinstance(v, (int, np.integer)) for v in levels)


def _from_codes(arr: np.ndarray, levels: tuple[str, ...], name: str, drop_first: Any):
    if arr.size and (arr.min() < 0 or arr.max() >= len(levels)):
        bad = int(np.argmax((arr < 0) | (arr >= len(levels))))
        raise ValueError(
            f"categorical {name!r}: code {int(arr[bad])} at row {bad} is outside [0, {len(levels)})"
        )
    return Categorical(arr.astype(np.int32), levels, name, drop_first)


@pytree_dataclass
class SparseBlock:
    """An (n, s) sparse block: the COO entries of a ``BCOO`` without batch or dense
    dimensions, as a pytree of its own (a ``BCOO`` rebuilt from a tree of batching flags
    is not a tree of the same structure).

    Attributes:
        data: (nse,) values.
        indices: (nse, 2) row and column of each value.
        shape: ``(n, s)`` (static).
    """

    data: jax.Array
    indices: jax.Array
    shape: tuple[int, int] = static_field()

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    def bcoo(self) -> jsparse.BCOO:
        """The block as a ``BCOO``."""
        from jax.experimental import sparse as jsparse

        return jsparse.BCOO((self.data, self.indices), shape=self.shape)


@pytree_dataclass
class Design(_linalg.AbstractDesign):
    """``X`` as a dense block, categorical blocks and a sparse block, in that order.

    Build it with :func:`design`. ``shape`` is ``(n, p)`` with ``p`` the total number of
    columns, ``columns`` their names; ``jaxglm.fit`` and ``predict`` take it as ``X``.

    Attributes:
        dense: (n, d) dense columns (d may be 0).
        categoricals: the categorical blocks.
        sparse: an (n, s) :class:`SparseBlock`, or None.
        dense_names, sparse_names: the names of the dense and sparse columns.
        eliminate: the name of the categorical block whose (diagonal) Gram block the
            Newton solve eliminates, ``"auto"`` (the largest categorical block when it has
            at least :data:`ELIMINATE_MIN_LEVELS` columns) or None (never): module docs.
    """

    dense: jax.Array
    categoricals: tuple[Categorical, ...] = ()
    sparse: SparseBlock | None = None
    dense_names: tuple[str, ...] = static_field(default=())
    sparse_names: tuple[str, ...] = static_field(default=())
    eliminate: str | None = static_field(default="auto")

    # ---- shape and names ---------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, p)``: rows and columns (levels counted as columns)."""
        s = 0 if self.sparse is None else self.sparse.shape[1]
        return self.dense.shape[0], self.dense.shape[1] + sum(
            c.n_columns for c in self.categoricals
        ) + s

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the dense (and sparse) values."""
        return self.dense.dtype

    @property
    def nbytes(self) -> int:
        """Bytes held by the blocks."""
        return sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in jax.tree.leaves(self))

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of the ``p`` columns: dense, ``name[level]``, sparse."""
        cats = tuple(name for c in self.categoricals for name in c.columns)
        return (*self.dense_names, *cats, *self.sparse_names)

    def _offsets(self) -> list[int]:
        """The first column of each categorical block and of the sparse block (in ``beta``)."""
        starts, at = [], self.dense.shape[1]
        for c in self.categoricals:
            starts.append(at)
            at += c.n_columns
        return [*starts, at]

    def for_model(self, fit_intercept: bool) -> Design:
        """The design with every undecided ``drop_first`` set by the model, as R's
        treatment contrasts: the reference level dropped with an intercept; without one,
        the first categorical block keeps every level (its columns span the constant)
        and the later ones drop theirs."""
        spans_constant = fit_intercept
        cats = []
        for c in self.categoricals:
            if c.drop_first is None:
                c = dataclasses.replace(c, drop_first=spans_constant)
            spans_constant = spans_constant or not c.drop_first
            cats.append(c)
        return dataclasses.replace(self, categoricals=tuple(cats))

    def astype(self, dtype: Any) -> Design:
        """The design with its dense and sparse values in ``dtype`` (codes as they are)."""
        sparse = self.sparse
        if sparse is not None and sparse.dtype != dtype:
            sparse = SparseBlock(sparse.data.astype(dtype), sparse.indices, sparse.shape)
        return dataclasses.replace(self, dense=self.dense.astype(dtype), sparse=sparse)

    def squares(self) -> Design:
        """The design of the squared entries, ``X * X``: the dense and sparse values
        squared, the categorical blocks as they are (a one-hot entry is its square)."""
        sparse = self.sparse
        if sparse is not None:
            sparse = SparseBlock(sparse.data**2, sparse.indices, sparse.shape)
        return dataclasses.replace(self, dense=self.dense**2, sparse=sparse)

    def pad_rows(self, n_to: int) -> Design:
        """The design with rows appended up to ``n_to`` (NumPy, on the host): dense 0, code
        0, no sparse entry (their weight is 0: :mod:`jaxglm._padding`)."""
        n = self.shape[0]
        dense = np.concatenate([np.asarray(self.dense), np.zeros((n_to - n, self.dense.shape[1]),
                                                                  self.dense.dtype)])  # fmt: skip
        cats = tuple(
            dataclasses.replace(c, codes=np.concatenate([np.asarray(c.codes),
                                                         np.zeros(n_to - n, np.int32)]))
            for c in self.categoricals
        )  # fmt: skip
        sparse = self.sparse
        if sparse is not None:
            sparse = SparseBlock(sparse.data, sparse.indices, (n_to, sparse.shape[1]))
        return dataclasses.replace(self, dense=dense, categoricals=cats, sparse=sparse)

    def take_rows(self, rows: jax.Array) -> Design:
        """The rows at the (b,) integer indices ``rows`` of every block (a mini-batch of
        :class:`jaxglm.Optax`; traceable). A sparse block is refused: a TypeError (its
        entries are stored by row index, and a gather of rows would change their number)."""
        if self.sparse is not None:
            raise TypeError(
                "Optax(mini-batch) gathers rows of X: a jaxglm.Design with a sparse block "
                "does not run on it (full-batch Optax, Newton and SubsampledNewton do)"
            )
        cats = tuple(dataclasses.replace(c, codes=c.codes[rows]) for c in self.categoricals)
        return dataclasses.replace(self, dense=self.dense[rows], categoricals=cats)

    def every_row(self, stride: int) -> Design:
        """Rows ``0, stride, 2 stride, ...`` of every block (a row subsample of
        :class:`jaxglm.SubsampledNewton` and :class:`jaxglm.Optax`; traceable). The sparse
        block keeps its number of entries (static shapes): those of the other rows get the
        value 0."""
        if stride == 1:
            return self
        rows = -(-self.shape[0] // stride)
        cats = tuple(dataclasses.replace(c, codes=c.codes[::stride]) for c in self.categoricals)
        sparse = self.sparse
        if sparse is not None:
            data, at, cols, s = self._sparse_parts()
            kept = at % stride == 0
            indices = jnp.stack([jnp.where(kept, at // stride, 0), cols], axis=1)
            sparse = SparseBlock(jnp.where(kept, data, 0.0), indices, (rows, s))
        return dataclasses.replace(
            self, dense=self.dense[::stride], categoricals=cats, sparse=sparse
        )

    def penalty_factor(self, factors: Mapping[str, Any]) -> np.ndarray:
        """The (p,) per-column penalty factors (``penalty_factor=`` of :func:`jaxglm.fit`,
        :func:`jaxglm.path`, :func:`jaxglm.cv`) from factors per block or column.

        Args:
            factors: ``{name: factor}``: a categorical block's name sets every column of
                the block (a number, or one value per column), a column's name (a dense
                or sparse column, or a level ``name[level]``) sets that column; columns
                not named keep 1. A factor 0 leaves the columns unpenalized (glmnet's
                ``penalty.factor``; glum's ``P1``/``P2`` given per name).

        Returns:
            The (p,) factors, in the order of :attr:`columns`, with the reference levels
            set as in the fit (call it on ``X.for_model(fit_intercept)``; the entry points
            expand a mapping themselves).

        Raises:
            ValueError: a name that is neither a categorical block nor a column, or values
                that do not match the block's columns.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = jg.design(np.ones((4, 2)), [jg.categorical([0, 2, 1, 2], name="g")])
            >>> X.for_model(True).penalty_factor({"x1": 0.0, "g": 2.0}).tolist()
            [0.0, 1.0, 2.0, 2.0]
        """
        out = np.ones(self.shape[1])
        starts = self._offsets()[:-1]
        blocks = {
            c.name: (a, a + c.n_columns) for c, a in zip(self.categoricals, starts, strict=True)
        }
        columns = {name: j for j, name in enumerate(self.columns)}
        for name, value in factors.items():
            if name in blocks:
                lo, hi = blocks[name]
            elif name in columns:
                lo, hi = columns[name], columns[name] + 1
            else:
                raise ValueError(
                    f"penalty_factor names {name!r}, which is neither a categorical block "
                    f"{tuple(blocks)} nor a column of the design"
                )
            value = np.asarray(value, dtype=float)
            if value.ndim > 1 or value.size not in (1, hi - lo):
                raise ValueError(
                    f"penalty_factor[{name!r}] must be a number or {hi - lo} values, got shape "
                    f"{value.shape}"
                )
            out[lo:hi] = value
        return out

    def empty_columns(self, w: Any) -> tuple[str, ...]:
        """The names of the categorical columns (levels) that no row of positive weight
        ``w`` ((n,), host side) falls in: their coefficients are not identified (the
        Newton system is singular: ``RANK_DEFICIENT``)."""
        positive = (np.asarray(w) > 0).astype(float)
        empty = []
        for c in self.categoricals:
            weight = np.bincount(np.asarray(c.codes), weights=positive, minlength=c.n_levels)
            empty += [name for name, wt in zip(c.columns, weight[c.dropped :], strict=True)
                      if wt == 0]  # fmt: skip
        return tuple(empty)

    def check(self) -> None:
        """Raise a ValueError for rows that do not match, codes out of range, or a
        non-finite dense or sparse value (host side, concrete designs)."""
        n = self.dense.shape[0]
        if n == 0:
            raise ValueError("X has no rows: cannot fit empty data")
        dense = np.asarray(self.dense)
        if not np.isfinite(dense).all():
            r, c = np.argwhere(~np.isfinite(dense))[0]
            raise ValueError(f"X's dense block has a non-finite value at row {r}, column {c}")
        for c in self.categoricals:
            codes = np.asarray(c.codes)
            if codes.shape != (n,):
                raise ValueError(f"categorical {c.name!r} has shape {codes.shape}, X has {n} rows")
            _from_codes(codes, c.levels, c.name, c.drop_first)
        if self.sparse is not None:
            if self.sparse.shape[0] != n:
                raise ValueError(f"the sparse block has {self.sparse.shape[0]} rows, X has {n}")
            if not np.isfinite(np.asarray(self.sparse.data)).all():
                raise ValueError("X's sparse block has a non-finite value")

    # ---- the products (:mod:`jaxglm._linalg` dispatches here) ---------------------------

    def _sparse_parts(self) -> tuple[jax.Array, jax.Array, jax.Array, int]:
        S = self.sparse
        return S.data, S.indices[:, 0], S.indices[:, 1], S.shape[1]

    def _split(self, beta: jax.Array) -> tuple[jax.Array, list[jax.Array], jax.Array]:
        """``beta`` (p, ...) as its dense, per-categorical and sparse parts."""
        starts = self._offsets()
        d = self.dense.shape[1]
        cats = [beta[a:b] for a, b in itertools.pairwise(starts)]
        return beta[:d], cats, beta[starts[-1] :]

    def matvec(self, beta: jax.Array) -> jax.Array:
        """``X @ beta`` ((n,) for (p,) ``beta``, (n, m) for (p, m))."""
        b_dense, b_cats, b_sparse = self._split(beta)
        out = _linalg.times(self.dense, b_dense)
        for c, b in zip(self.categoricals, b_cats, strict=True):
            out = out + jnp.take(c.full(b), c.codes, axis=0)
        if self.sparse is not None:
            data, rows, cols, _ = self._sparse_parts()
            vals = data.reshape(-1, *(1,) * (beta.ndim - 1)) * b_sparse[cols]
            out = out + jax.ops.segment_sum(vals, rows, num_segments=out.shape[0])
        return out

    def score(self, r: jax.Array) -> jax.Array:
        """``[sum(r), r @ X]`` ((p+1,))."""
        parts = [_linalg.score(self.dense, r)]
        for c in self.categoricals:
            parts.append(c.level_sums(r)[c.dropped :])
        if self.sparse is not None:
            data, rows, cols, s = self._sparse_parts()
            parts.append(jax.ops.segment_sum(data * r[rows], cols, num_segments=s))
        return jnp.concatenate(parts)

    def _head(self, h: jax.Array) -> jax.Array:
        """``h * [1, dense]`` (n, 1+d)."""
        return jnp.concatenate([h[:, None], h[:, None] * self.dense.astype(h.dtype)], axis=1)

    @property
    def eliminated(self) -> int | None:
        """The index of the categorical block :meth:`gram` keeps as a diagonal block (the
        Newton solve eliminates it: :class:`jaxglm._linalg.BlockGram`), or None: the block
        named by ``eliminate``; with ``"auto"`` the categorical block of most columns if
        it has at least :data:`ELIMINATE_MIN_LEVELS` (module docs)."""
        if self.eliminate is None or not self.categoricals:
            return None
        if self.eliminate != "auto":
            return [c.name for c in self.categoricals].index(self.eliminate)
        widths = [c.n_columns for c in self.categoricals]
        largest = int(np.argmax(widths))
        return largest if widths[largest] >= ELIMINATE_MIN_LEVELS else None

    def _widths(self) -> list[int]:
        """The column counts of the blocks ``[1, dense]``, each categorical, sparse."""
        s = [] if self.sparse is None else [self.sparse.shape[1]]
        return [self.dense.shape[1] + 1, *(c.n_columns for c in self.categoricals), *s]

    def _cross(self, i: int, j: int, h: jax.Array, hx: jax.Array) -> jax.Array:
        """Block ``(i, j)``, ``i <= j``, of the Gram (blocks as in :meth:`_widths`; ``hx`` =
        ``h * [1, dense]``)."""
        cats = self.categoricals
        sparse_block = len(cats) + 1
        if i == 0 and j == 0:
            return _linalg.gram(self.dense, h)
        if j == sparse_block:
            data, rows, cols, s = self._sparse_parts()
            if i == 0:
                return jax.ops.segment_sum(data[:, None] * hx[rows], cols, num_segments=s).T
            if i < sparse_block:
                c = cats[i - 1]
                table = jax.ops.segment_sum(
                    data * h[rows], c.codes[rows] * s + cols, num_segments=c.n_levels * s
                )
                return table.reshape(c.n_levels, s)[c.dropped :]
            from jax.experimental import sparse as jsparse

            weighted = jsparse.BCOO((data * h[rows], self.sparse.indices), shape=self.sparse.shape)
            ss = jsparse.bcoo_dot_general(
                self.sparse.bcoo(), weighted, dimension_numbers=(((0,), (0,)), ((), ()))
            )
            return ss.todense()
        c = cats[j - 1]
        if i == 0:
            return c.level_sums(hx)[c.dropped :].T
        if i == j:
            return jnp.diag(c.level_sums(h)[c.dropped :])
        return self._cooccurrence(cats[i - 1], c, h)

    def gram(self, h: jax.Array) -> jax.Array | _linalg.BlockGram:
        """``[1 X]^T diag(h) [1 X]`` from the blocks' products (module docs): (p+1, p+1), or
        a :class:`jaxglm._linalg.BlockGram` whose diagonal block is the
        :attr:`eliminated` categorical block's (no (p+1, p+1) matrix)."""
        widths = self._widths()
        hx = self._head(h) if len(widths) > 1 else None
        cache: dict[tuple[int, int], jax.Array] = {}

        def block(i, j):
            if (min(i, j), max(i, j)) not in cache:
                cache[min(i, j), max(i, j)] = self._cross(min(i, j), max(i, j), h, hx)
            return cache[min(i, j), max(i, j)] if i <= j else cache[j, i].T

        e = self.eliminated
        if e is None:
            ids = range(len(widths))
            return jnp.concatenate([jnp.concatenate([block(i, j) for j in ids], 1) for i in ids])
        e += 1  # block 0 is [1, dense]
        others = [i for i in range(len(widths)) if i != e]
        A = jnp.concatenate([jnp.concatenate([block(i, j) for j in others], 1) for i in others])
        B = jnp.concatenate([block(i, e) for i in others])
        c = self.categoricals[e - 1]
        return _linalg.BlockGram(A, B, c.level_sums(h)[c.dropped :], sum(widths[:e]))

    def whole_gram(self, h: jax.Array) -> jax.Array:
        """:meth:`gram` as one (p+1, p+1) array, no block eliminated (a Multinomial fit's
        class-pair blocks)."""
        return dataclasses.replace(self, eliminate=None).gram(h)

    def zero_gram(self, dtype: Any) -> jax.Array | _linalg.BlockGram:
        """A zero matrix of :meth:`gram`'s structure."""
        widths = self._widths()
        k = sum(widths)
        e = self.eliminated
        if e is None:
            return jnp.zeros((k, k), dtype)
        L = widths[e + 1]
        zeros = jnp.zeros
        return _linalg.BlockGram(
            zeros((k - L, k - L), dtype), zeros((k - L, L), dtype), zeros(L, dtype),
            sum(widths[: e + 1]),
        )  # fmt: skip

    @staticmethod
    def _cooccurrence(a: Categorical, b: Categorical, h: jax.Array) -> jax.Array:
        """``sum_i h_i [code_a = l][code_b = m]``: the (columns_a, columns_b) table."""
        combined = a.codes * b.n_levels + b.codes
        table = jax.ops.segment_sum(h, combined, num_segments=a.n_levels * b.n_levels)
        return table.reshape(a.n_levels, b.n_levels)[a.dropped :, b.dropped :]

    def row_quadratic(self, A: jax.Array) -> jax.Array:
        """``diag([1 X] A [1 X]^T)`` ((n,)) for a symmetric (p+1, p+1) ``A``, by gathers of
        ``A``'s blocks at the codes (no (n, p) product)."""
        d1 = self.dense.shape[1] + 1
        starts = [s + 1 for s in self._offsets()]
        out = _linalg.row_quadratic(self.dense, A[:d1, :d1])
        X1 = jnp.concatenate([jnp.ones((self.shape[0], 1), A.dtype), self.dense.astype(A.dtype)], 1)
        cats = self.categoricals

        def full_rows(c, block):  # (levels, ...) rows of A's block, 0 for the reference
            return c.full(block)

        for a, c in enumerate(cats):
            lo, hi = starts[a], starts[a + 1]
            head = jnp.take(full_rows(c, A[lo:hi, :d1]), c.codes, axis=0)  # (n, 1+d)
            out = out + 2.0 * jnp.sum(head * X1, axis=1)
            diag = full_rows(c, jnp.diagonal(A[lo:hi, lo:hi]))
            out = out + jnp.take(diag, c.codes)
            for b in range(a + 1, len(cats)):
                cb = cats[b]
                block = full_rows(cb, full_rows(c, A[lo:hi, starts[b] : starts[b + 1]]).T).T
                out = out + 2.0 * block[c.codes, cb.codes]
        if self.sparse is not None:
            data, rows, cols, _ = self._sparse_parts()
            lo = starts[-1]
            n = self.shape[0]
            head = jnp.sum(X1[rows] * A[lo:, :d1][cols], axis=1)
            terms = 2.0 * data * head
            for a, c in enumerate(cats):
                block = full_rows(c, A[starts[a] : starts[a + 1], lo:])  # (levels, s)
                terms = terms + 2.0 * data * block[c.codes[rows], cols]
            # the sparse x sparse part: (S @ A_ss)[i, j] read at the row's own non-zeros
            from jax.experimental import sparse as jsparse

            SA = jsparse.bcoo_dot_general(
                self.sparse.bcoo(), A[lo:, lo:], dimension_numbers=(((1,), (0,)), ((), ()))
            )
            terms = terms + data * SA[rows, cols]
            out = out + jax.ops.segment_sum(terms, rows, num_segments=n)
        return out

    def group_sums(self, r: jax.Array, ids: jax.Array, n_groups: int) -> jax.Array:
        """``s_g = sum_{i in g} r_i [1, x_i]``: the (n_groups, p+1) cluster score sums."""
        parts = [jax.ops.segment_sum(self._head(r), ids, num_segments=n_groups)]
        for c in self.categoricals:
            sums = jax.ops.segment_sum(
                r, ids * c.n_levels + c.codes, num_segments=n_groups * c.n_levels
            )
            parts.append(sums.reshape(n_groups, c.n_levels)[:, c.dropped :])
        if self.sparse is not None:
            data, rows, cols, s = self._sparse_parts()
            sums = jax.ops.segment_sum(data * r[rows], ids[rows] * s + cols, n_groups * s)
            parts.append(sums.reshape(n_groups, s))
        return jnp.concatenate(parts, axis=1)

    def no_columns(self) -> jax.Array:
        """An (n, 0) dense array: the null model's design."""
        return self.dense[:, :0]


def design(
    dense: Any = None,
    categoricals: Sequence[Categorical] = (),
    sparse: Any = None,
    *,
    dense_names: Sequence[str] | None = None,
    sparse_names: Sequence[str] | None = None,
    eliminate: str | None = "auto",
) -> Design:
    """A :class:`Design` from its blocks.

    Args:
        dense: (n, d) dense columns: an array or a pandas or polars DataFrame (its column
            names are kept; a frame's categorical, enum or text columns become categorical
            blocks (:func:`categorical`), placed before those in ``categoricals``); None for
            none.
        categoricals: :class:`Categorical` blocks (:func:`categorical`).
        sparse: an (n, s) ``scipy.sparse`` matrix or array, or a
            ``jax.experimental.sparse.BCOO``; None for none.
        dense_names, sparse_names: column names (default ``x1, x2, ...`` and ``s1, s2,
            ...``).
        eliminate: which categorical block the Newton solve eliminates (:class:`Design`).

    Returns:
        The design (the dense block float, codes int32).

    Raises:
        ValueError: blocks whose numbers of rows differ, or no block at all.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> X = jg.design(np.ones((4, 1)), [jg.categorical([0, 2, 1, 2], name="g")])
        >>> X.shape, X.columns
        ((4, 3), ('x1', 'g[1]', 'g[2]'))
    """
    cats = list(categoricals)
    if dense is not None and type(dense).__module__.split(".")[0] in ("pandas", "polars"):
        from jaxglm import _frames  # frames at the boundary only

        numeric = [c for c in dense.columns if _frames.numeric_kind(dense[c]) is not None]
        cats = [
            categorical(dense[c], name=str(c)) for c in dense.columns if c not in numeric
        ] + cats
        dense_names = [str(c) for c in numeric] if dense_names is None else dense_names
        dense = _frames.to_numpy("X", dense[numeric]) if numeric else np.empty((len(dense), 0))
    n = _rows_of(dense, cats, sparse)
    dense = np.empty((n, 0)) if dense is None else dense
    if not isinstance(dense, jax.Array):
        dense = np.asarray(dense)
        dense = dense if np.issubdtype(dense.dtype, np.floating) else dense.astype(float)
    if dense.ndim != 2:
        raise ValueError(f"the dense block must be (n, d), got shape {dense.shape}")
    if sparse is not None:
        from jax.experimental import sparse as jsparse

        if not isinstance(sparse, jsparse.BCOO):
            sparse = jsparse.BCOO.from_scipy_sparse(sparse.tocoo())
        if sparse.n_batch or sparse.n_dense:
            raise ValueError("the sparse block must be a BCOO without batch or dense dimensions")
        data = (
            sparse.data if jnp.issubdtype(sparse.dtype, jnp.floating) else sparse.data.astype(float)
        )
        sparse = SparseBlock(data, sparse.indices, tuple(sparse.shape))
    d = dense.shape[1]
    s = 0 if sparse is None else sparse.shape[1]
    dense_names = tuple(f"x{j + 1}" for j in range(d)) if dense_names is None else dense_names
    sparse_names = tuple(f"s{j + 1}" for j in range(s)) if sparse_names is None else sparse_names
    if len(dense_names) != d or len(sparse_names) != s:
        raise ValueError(f"{d} dense and {s} sparse column names expected")
    for c in cats:
        if not isinstance(c, Categorical):
            raise TypeError(f"categorical blocks must be jaxglm.categorical(...), got {c!r}")
    if eliminate not in ("auto", None, *(c.name for c in cats)):
        raise ValueError(f"eliminate must be 'auto', None or a categorical block's name, got "
                         f"{eliminate!r}")  # fmt: skip
    return Design(dense, tuple(cats), sparse, tuple(map(str, dense_names)),
                  tuple(map(str, sparse_names)), eliminate)  # fmt: skip


def _rows_of(dense: Any, cats: list[Categorical], sparse: Any) -> int:
    counts = [np.shape(dense)[0]] if dense is not None else []
    counts += [np.shape(c.codes)[0] for c in cats]
    counts += [sparse.shape[0]] if sparse is not None else []
    if not counts:
        raise ValueError("a design needs at least one block")
    if len(set(counts)) > 1:
        raise ValueError(f"the blocks of a design must have the same rows, got {counts}")
    return counts[0]


def for_fit(X: Any, fit_intercept: bool, penalty_factor: Any) -> tuple[Any, Any]:
    """``(X, penalty_factor)`` as every entry point takes them first: ``X`` with its
    reference levels set by the model (:func:`for_model`) and ``penalty_factor`` expanded
    on its columns (:func:`penalty_factors`)."""
    X = for_model(X, fit_intercept)
    return X, penalty_factors(X, penalty_factor)


def penalty_factors(X: Any, penalty_factor: Any) -> Any:
    """``penalty_factor`` as the entry points take it: a mapping of names to factors
    expanded by :meth:`Design.penalty_factor` (``X`` a design with its reference levels
    set), anything else as it is.

    Raises:
        TypeError: a mapping with an ``X`` that is not a :class:`Design`.
    """
    if not isinstance(penalty_factor, Mapping):
        return penalty_factor
    if not isinstance(X, Design):
        raise TypeError(
            "penalty_factor as {name: factor} needs X to be a jaxglm.Design (its blocks and "
            "columns are named); pass a (p,) vector for an array X"
        )
    return X.penalty_factor(penalty_factor)


def for_model(X: Any, fit_intercept: bool) -> Any:
    """``X`` with its categorical blocks' undecided ``drop_first`` set by the model
    (:meth:`Design.for_model`); anything that is not a :class:`Design` as it is."""
    return X.for_model(fit_intercept) if isinstance(X, Design) else X
