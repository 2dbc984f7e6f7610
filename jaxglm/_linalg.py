"""The data path: the only places the solvers touch ``X``.

Three products — ``X @ beta``, ``r @ X`` and ``X^T diag(h) X`` — and the equilibrated
Cholesky solve of the Newton system. The intercept is an implicit column of ones (never
materialized), always parameter 0; with ``fit_intercept=False`` that parameter is pinned
at 0 by :func:`pin_intercept`. Products are written with the data on the right (``r @ X``)
because XLA:CPU copies a transposed operand, and use ``Precision.HIGHEST`` so that float32
matmuls on GPUs/TPUs are not silently done in TF32/bfloat16.

Mixed precision: with ``X`` in float32 and float64 vectors (``fit(precision="mixed")``)
the Gram is formed from float32 products over blocks of rows, the blocks' matrices summed
in float64; the passes ``X @ v`` and ``r @ X`` read the float32 ``X`` and multiply and add
in float64, over blocks of :data:`WIDENED_BLOCK_ELEMENTS` entries each converted to float64
inside the loop that reads it (no float64 copy of ``X``; the last ``n mod b`` rows in one fused
reduction, behind an optimization barrier that keeps XLA from hoisting their conversion out
of the fit's loops). The
passes decide where the iteration stops (the score) and where it stands (``eta``), so they
are exact in float64 for the float32 data; the Gram only steers the steps. (With float32
products in the passes too, the mixed fit of the benchmarks' ill-conditioned logistic
problem at n = 20,000, p = 100 was 6.6e-3 off the float64 fit of the same data,
elementwise: as far as rounding ``X`` to float32 moves it.) With one dtype throughout
nothing is converted. Sums over rows (:func:`row_sum`, and the blocks of
:func:`score` and :func:`gram`) are blocked and pairwise, so that their rounding error
grows like the block length plus ``log2`` of the number of blocks, not like ``n``.
"""

from __future__ import annotations

import abc
import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.scipy.linalg import cho_solve, solve_triangular

from jaxglm._pytree import pytree_dataclass, static_field

_HIGHEST = lax.Precision.HIGHEST


@pytree_dataclass
class BlockGram:
    """A symmetric (k, k) matrix whose columns ``[lo, lo + L)`` are a diagonal block: the
    Newton matrix of a design with a large categorical block (its levels never share a
    row, so its own Gram block is diagonal), kept in three parts, never as (k, k).

    Attributes:
        A: (q, q) the other columns' block (``q = k - L``), in their order.
        B: (q, L) the other columns against the diagonal block.
        d: (L,) the diagonal block.
        lo: the first column of the diagonal block (static).

    :func:`factor` eliminates the diagonal block (the Schur complement
    ``A - B diag(d)^-1 B^T``, (q, q), is the only matrix factored) and :func:`solve`
    solves with it: ``q^2 L + q^3 / 3`` flops and ``q L`` memory in place of ``k^3 / 3`` and
    ``k^2``.
    """

    A: jax.Array
    B: jax.Array
    d: jax.Array
    lo: int = static_field()

    @property
    def shape(self) -> tuple[int, int]:
        k = self.A.shape[0] + self.d.shape[0]
        return k, k

    @property
    def dtype(self) -> jnp.dtype:
        return self.A.dtype

    def other(self, v: jax.Array) -> jax.Array:
        """The entries of ``v`` (along axis 0) outside the diagonal block."""
        return jnp.concatenate([v[: self.lo], v[self.lo + self.d.shape[0] :]])

    def inside(self, v: jax.Array) -> jax.Array:
        """The entries of ``v`` (along axis 0) of the diagonal block."""
        return v[self.lo : self.lo + self.d.shape[0]]

    def __truediv__(self, c: jax.Array) -> BlockGram:
        return BlockGram(self.A / c, self.B / c, self.d / c, self.lo)

    def __mul__(self, c: jax.Array) -> BlockGram:
        return BlockGram(self.A * c, self.B * c, self.d * c, self.lo)

    __rmul__ = __mul__

    def plus_diagonal(self, v: jax.Array) -> BlockGram:
        """The matrix plus ``diag(v)`` ((k,) ``v``)."""
        return BlockGram(self.A + jnp.diag(self.other(v)), self.B, self.d + self.inside(v), self.lo)

    def diagonal(self) -> jax.Array:
        """The (k,) diagonal."""
        a = jnp.diagonal(self.A)
        return jnp.concatenate([a[: self.lo], self.d, a[self.lo :]])

    def matmul(self, V: jax.Array) -> jax.Array:
        """The matrix times a (k, r) ``V``: (k, r), without forming the matrix."""
        V_other, V_inside = self.other(V), self.inside(V)
        top = jnp.matmul(self.A, V_other, precision=_HIGHEST)
        top = top + jnp.matmul(self.B, V_inside, precision=_HIGHEST)
        mid = jnp.matmul(self.B.T, V_other, precision=_HIGHEST) + self.d[:, None] * V_inside
        return jnp.concatenate([top[: self.lo], mid, top[self.lo :]])

    def dense(self) -> jax.Array:
        """The (k, k) matrix (for tests and small designs)."""
        lo = self.lo
        top = jnp.concatenate([self.A[:lo, :lo], self.B[:lo], self.A[:lo, lo:]], axis=1)
        mid = jnp.concatenate([self.B[:lo].T, jnp.diag(self.d), self.B[lo:].T], axis=1)
        low = jnp.concatenate([self.A[lo:, :lo], self.B[lo:], self.A[lo:, lo:]], axis=1)
        return jnp.concatenate([top, mid, low], axis=0)


@pytree_dataclass
class BlockFactors:
    """:func:`factor` of a :class:`BlockGram` (equilibrated as the dense one: module docs of
    :func:`factor`): the Cholesky factor of the Schur complement of the scaled matrix, the
    scalings and the scaled cross block."""

    L: jax.Array
    d_other: jax.Array
    d_inside: jax.Array
    B: jax.Array
    lo: int = static_field()


@pytree_dataclass
class DiagonalPlusLowRank:
    """A symmetric (k, k) matrix ``diag(diag) + W K W^T``, never formed as (k, k): the
    covariance of a fit whose Newton matrix is a :class:`BlockGram` (:func:`inverse`).

    Attributes:
        diag: (k,) the diagonal part (non-zero only on the eliminated block's columns).
        W: (k, r) the low-rank factor (``r`` the number of columns outside the block).
        K: (r, r) symmetric middle factor.

    Every field may carry leading batch axes (``jax.vmap``). Its diagonal costs ``k r^2``
    flops, ``R V R^T`` for ``m`` rows ``m k r``, a row quadratic form ``r`` per non-zero of
    the row (:func:`row_quadratic`); :meth:`dense` forms the (k, k) matrix: ``k^2`` memory
    and ``k^2 r`` flops.

    Example:
        >>> import jax.numpy as jnp
        >>> V = DiagonalPlusLowRank(jnp.array([0.0, 2.0]), jnp.ones((2, 1)), jnp.eye(1))
        >>> V.dense().tolist(), V.diagonal().tolist()
        ([[1.0, 1.0], [1.0, 3.0]], [1.0, 3.0])
    """

    diag: jax.Array
    W: jax.Array
    K: jax.Array

    @property
    def shape(self) -> tuple[int, ...]:
        k = self.diag.shape[-1]
        return (*self.diag.shape[:-1], k, k)

    @property
    def dtype(self) -> jnp.dtype:
        return self.diag.dtype

    def __mul__(self, c: jax.Array) -> DiagonalPlusLowRank:
        c = jnp.asarray(c)
        return DiagonalPlusLowRank(self.diag * c[..., None], self.W, self.K * c[..., None, None])

    __rmul__ = __mul__

    def __truediv__(self, c: jax.Array) -> DiagonalPlusLowRank:
        c = jnp.asarray(c)
        return DiagonalPlusLowRank(self.diag / c[..., None], self.W, self.K / c[..., None, None])

    def diagonal(self) -> jax.Array:
        """The (k,) diagonal."""
        WK = jnp.matmul(self.W, self.K, precision=_HIGHEST)
        return self.diag + jnp.sum(WK * self.W, axis=-1)

    def dense(self) -> jax.Array:
        """The (k, k) matrix (``k^2`` memory)."""
        WK = jnp.matmul(self.W, self.K, precision=_HIGHEST)
        low = jnp.matmul(WK, jnp.swapaxes(self.W, -1, -2), precision=_HIGHEST)
        k = self.diag.shape[-1]
        return low + self.diag[..., None, :] * jnp.eye(k, dtype=self.dtype)

    def matmul(self, S: jax.Array) -> jax.Array:
        """The matrix times a (k, m) ``S``: (k, m)."""
        WtS = jnp.matmul(self.W.T, S, precision=_HIGHEST)
        low = jnp.matmul(self.W, jnp.matmul(self.K, WtS, precision=_HIGHEST), precision=_HIGHEST)
        return self.diag[:, None] * S + low

    def congruence(self, R: jax.Array) -> jax.Array:
        """``R V R^T`` ((m, m)) for an (m, k) ``R``."""
        RW = jnp.matmul(R, self.W, precision=_HIGHEST)
        low = jnp.matmul(jnp.matmul(RW, self.K, precision=_HIGHEST), RW.T, precision=_HIGHEST)
        return low + jnp.matmul(R * self.diag, R.T, precision=_HIGHEST)

    def rows(self, keep: jax.Array) -> DiagonalPlusLowRank:
        """``diag(keep) V diag(keep)``: rows and columns scaled by ``keep`` ((k,))."""
        return DiagonalPlusLowRank(self.diag * keep * keep, self.W * keep[:, None], self.K)

    def tail(self) -> DiagonalPlusLowRank:
        """The matrix without its first row and column (``V[1:, 1:]``)."""
        return DiagonalPlusLowRank(self.diag[..., 1:], self.W[..., 1:, :], self.K)


def nan_covariance(X: jax.Array | AbstractDesign, k: int, dtype: jnp.dtype):
    """A (k, k) NaN covariance (none asked for): for a design a :class:`DiagonalPlusLowRank`
    of rank 1 (``2 k + 1`` numbers; every entry of its :meth:`~DiagonalPlusLowRank.dense`
    is NaN), for a dense ``X`` a (k, k) array (small beside ``X``)."""
    if isinstance(X, AbstractDesign):
        nan = jnp.full((1, 1), jnp.nan, dtype)
        return DiagonalPlusLowRank(jnp.full(k, jnp.nan, dtype), jnp.ones((k, 1), dtype), nan)
    return jnp.full((k, k), jnp.nan, dtype)


def nan_where(bad: jax.Array, C: jax.Array | DiagonalPlusLowRank):
    """``C`` with every entry NaN where ``bad`` (a scalar)."""
    if isinstance(C, DiagonalPlusLowRank):
        return DiagonalPlusLowRank(
            jnp.where(bad, jnp.nan, C.diag), C.W, jnp.where(bad, jnp.nan, C.K)
        )
    return jnp.where(bad, jnp.nan, C)


def diagonal(C: jax.Array | DiagonalPlusLowRank) -> jax.Array:
    """The diagonal of a (batch of) covariance(s), dense or :class:`DiagonalPlusLowRank`."""
    if isinstance(C, DiagonalPlusLowRank):
        return C.diagonal()
    return jnp.diagonal(C, axis1=-2, axis2=-1)


def congruence(C: jax.Array | DiagonalPlusLowRank, R: jax.Array) -> jax.Array:
    """``R C R^T`` for an (m, k) ``R``: tests of a few restrictions without forming ``C``."""
    if isinstance(C, DiagonalPlusLowRank):
        return C.congruence(R)
    return jnp.matmul(jnp.matmul(R, C, precision=_HIGHEST), R.T, precision=_HIGHEST)


def mask(C: jax.Array | DiagonalPlusLowRank | BlockGram, keep: jax.Array):
    """``diag(keep) C diag(keep)`` ((k,) ``keep``)."""
    if isinstance(C, DiagonalPlusLowRank):
        return C.rows(keep)
    if isinstance(C, BlockGram):
        out, ins = C.other(keep), C.inside(keep)
        return BlockGram(C.A * out[:, None] * out[None, :], C.B * out[:, None], C.d * ins * ins,
                         C.lo)  # fmt: skip
    return C * keep[:, None] * keep[None, :]


def sandwich(
    inv: jax.Array | DiagonalPlusLowRank, meat: jax.Array | BlockGram
) -> jax.Array | DiagonalPlusLowRank:
    """``inv @ meat @ inv`` (symmetric ``inv`` and ``meat``), symmetrized.

    With ``inv = diag(e) + F K F^T`` in block form (:func:`inverse`, ``e`` non-zero only on
    the eliminated block) and the meat a :class:`BlockGram` of the same blocks (its
    eliminated block diagonal: an HC meat), the result stays in block form, of twice the
    rank: ``diag(e^2 m) + [F, U] [[K C K, K], [K, 0]] [F, U]^T`` with ``m`` the meat's
    diagonal, ``U = diag(e) M F`` and ``C = F^T M F`` (``q^2 L`` flops, ``2 q k`` memory).
    """
    if isinstance(inv, DiagonalPlusLowRank):
        F, K, e = inv.W, inv.K, inv.diag
        MF = meat.matmul(F)
        C = jnp.matmul(F.T, MF, precision=_HIGHEST)
        KCK = jnp.matmul(jnp.matmul(K, 0.5 * (C + C.T), precision=_HIGHEST), K, precision=_HIGHEST)
        middle = jnp.block([[KCK, K], [K, jnp.zeros_like(K)]])
        W = jnp.concatenate([F, e[:, None] * MF], axis=1)
        return DiagonalPlusLowRank(e * e * meat.diagonal(), W, middle)
    cov = inv @ as_dense(meat) @ inv
    return 0.5 * (cov + cov.T)


def tail(C: jax.Array | DiagonalPlusLowRank):
    """``C[..., 1:, 1:]``: the covariance without the intercept's row and column."""
    if isinstance(C, DiagonalPlusLowRank):
        return C.tail()
    return C[..., 1:, 1:]


class AbstractDesign(abc.ABC):
    """A design that is not one dense array (:class:`jaxglm.designs.Design`): it gives the
    products itself, and the functions of this module hand them to it, so that the solvers
    run on it unchanged. ``shape`` is ``(n, p)``."""

    shape: tuple[int, int]

    @abc.abstractmethod
    def matvec(self, beta: jax.Array) -> jax.Array:
        """``X @ beta``."""

    @abc.abstractmethod
    def score(self, r: jax.Array) -> jax.Array:
        """``[sum(r), r @ X]``."""

    @abc.abstractmethod
    def gram(self, h: jax.Array) -> jax.Array:
        """``[1 X]^T diag(h) [1 X]``."""

    @abc.abstractmethod
    def whole_gram(self, h: jax.Array) -> jax.Array:
        """:meth:`gram` as one (p+1, p+1) array, no block eliminated (the class-pair
        blocks of :func:`block_gram`)."""

    @abc.abstractmethod
    def row_quadratic(self, A: jax.Array) -> jax.Array:
        """``diag([1 X] A [1 X]^T)``."""

    @abc.abstractmethod
    def group_sums(self, r: jax.Array, ids: jax.Array, n_groups: int) -> jax.Array:
        """``sum_{i in g} r_i [1, x_i]`` per group ``g``."""

    @abc.abstractmethod
    def squares(self) -> AbstractDesign:
        """The design of the squared entries (``X * X``)."""

    @abc.abstractmethod
    def zero_gram(self, dtype: jnp.dtype) -> jax.Array | BlockGram:
        """A zero matrix of the structure of :meth:`gram`."""

    @abc.abstractmethod
    def no_columns(self) -> jax.Array:
        """An (n, 0) dense array (the null model's design)."""

    @abc.abstractmethod
    def pad_rows(self, n_to: int) -> AbstractDesign:
        """The design with rows of zeros appended up to ``n_to`` (on the host)."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise a ValueError for invalid values (host side)."""

    @abc.abstractmethod
    def every_row(self, stride: int) -> AbstractDesign:
        """Rows ``0, stride, 2 stride, ...`` (traceable)."""

    @abc.abstractmethod
    def take_rows(self, rows: jax.Array) -> AbstractDesign:
        """The rows at the (b,) integer indices ``rows`` (traceable)."""


def as_dense(H: jax.Array | BlockGram | DiagonalPlusLowRank) -> jax.Array:
    """``H`` as a (k, k) array (a :class:`BlockGram` or :class:`DiagonalPlusLowRank`
    assembled: ``k^2`` memory)."""
    return H.dense() if isinstance(H, BlockGram | DiagonalPlusLowRank) else H


def zero_gram(X: jax.Array | AbstractDesign, k: int, dtype: jnp.dtype) -> jax.Array | BlockGram:
    """A zero Newton matrix of the structure :func:`gram` gives for ``X`` ((k, k), or a
    :class:`BlockGram`): the start of a loop that carries one."""
    if isinstance(X, AbstractDesign) and k == X.shape[1] + 1:
        return X.zero_gram(dtype)
    return jnp.zeros((k, k), dtype)


def no_columns(X: jax.Array | AbstractDesign) -> jax.Array:
    """``X[:, :0]``: the (n, 0) design of the intercept-only model."""
    return X.no_columns() if isinstance(X, AbstractDesign) else X[:, :0]


def every_row(X: jax.Array | AbstractDesign, stride: int) -> jax.Array | AbstractDesign:
    """``X[::stride]``: a row subsample (a design's from its blocks)."""
    return X.every_row(stride) if isinstance(X, AbstractDesign) else X[::stride]


def take_rows(X: jax.Array | AbstractDesign, rows: jax.Array) -> jax.Array | AbstractDesign:
    """``X[rows]`` for (b,) integer indices: a mini-batch (a design's from its blocks)."""
    return X.take_rows(rows) if isinstance(X, AbstractDesign) else X[rows]


def column_sums(X: jax.Array | AbstractDesign, r: jax.Array) -> jax.Array:
    """``r @ X`` ((p,)), one pass: :func:`score`'s blocked product (a design's from its
    blocks); the plain ``jnp.matmul(r, X)`` took about twice as long at n = 100,000, p =
    1,000 (float64; benchmarks/RESULTS.md, issue 19)."""
    return score(X, r)[1:]


def square_sums(X: jax.Array | AbstractDesign, r: jax.Array) -> jax.Array:
    """``r @ (X * X)`` ((p,)), one fused reduction without an (n, p) temporary (a design's:
    the column sums of its squared blocks, :meth:`~jaxglm.designs.Design.squares`)."""
    if isinstance(X, AbstractDesign):
        return column_sums(X.squares(), r)
    return jnp.sum(r[:, None] * X * X, axis=0)


def times(X: jax.Array, v: jax.Array) -> jax.Array:
    """``X @ v`` for a (p,) or (p, m) ``v``, in ``v``'s dtype (a float32 ``X`` read and
    multiplied in float64 for a float64 ``v``: module docs)."""
    if isinstance(X, AbstractDesign):
        return X.matvec(v)
    if X.dtype == v.dtype:
        return jnp.matmul(X, v, precision=_HIGHEST)

    def rest(head):
        Xt, vt = _widened_in_place(X[head:], v)
        return jnp.sum(Xt[:, :, None] * vt, 1) if v.ndim == 2 else jnp.sum(Xt * vt, 1)

    parts = _widened_parts(X, v.dtype, lambda i, Xb: jnp.matmul(Xb, v, precision=_HIGHEST), rest)
    return jnp.concatenate([part.reshape(-1, *v.shape[1:]) for part in parts])


WIDENED_BLOCK_ELEMENTS = 2**20
"""Entries per block of the mixed-precision passes (:func:`times`, :func:`score`): blocks of
:func:`widened_rows` rows, 8 MB each in float64. A fixed 4,096 rows made blocks of 33 MB at
p = 1,000 (the passes 2x slower than at 1,048 rows) and of 0.3 MB at p = 10 (1.5x: the
loop's cost per block showed): ``python -m benchmarks.precision --passes``,
benchmarks/RESULTS.md."""


def widened_rows(p: int) -> int:
    """Rows per block of the mixed-precision passes over an (n, p) ``X``:
    :data:`WIDENED_BLOCK_ELEMENTS` entries (at least one row).

    Example:
        >>> widened_rows(100), widened_rows(10**7)
        (10485, 1)
    """
    return max(1, WIDENED_BLOCK_ELEMENTS // max(p, 1))


def _widened_parts(
    X: jax.Array,
    dtype: jnp.dtype,
    block: Callable[[jax.Array, jax.Array], jax.Array],
    rest: Callable[[int], jax.Array],
) -> list[jax.Array]:
    """The parts of a mixed-precision pass over a float32 ``X`` (:func:`times`,
    :func:`score`): ``block(i, Xb)`` for every whole block ``i`` of
    :func:`widened_rows` rows, ``Xb`` in ``dtype`` (:func:`_widened_block`; one
    ``lax.map``, stacked on a leading axis), then ``rest(head)`` for the last ``n mod b``
    rows from row ``head`` (one fused reduction), each where there are such rows."""
    n, p = X.shape
    b = widened_rows(p)
    head = n - n % b
    parts = []
    if head:
        blocks = jnp.arange(head // b)
        parts.append(lax.map(lambda i: block(i, _widened_block(X, i, b, dtype)), blocks))
    if head < n:
        parts.append(rest(head))
    return parts


def _widened_block(X: jax.Array, i: jax.Array, b: int, dtype: jnp.dtype) -> jax.Array:
    """Rows ``[i b, (i + 1) b)`` of ``X`` in ``dtype``: one block's float64 copy (8 MB),
    made inside the loop over blocks that reads it, so that no float64 copy of the whole
    ``X`` exists."""
    return lax.dynamic_slice_in_dim(X, i * b, b).astype(dtype)


def _widened_in_place(X: jax.Array, v: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(X, v)`` through an optimization barrier, so that the conversion of a float32 ``X``
    to ``v``'s float64 stays fused into the product that reads it. Inside the fit's loops
    ``X`` is loop-invariant, and XLA otherwise hoists ``convert(X)`` out of the loop: a
    float64 copy of ``X`` held for the whole fit (twice the memory ``precision="mixed"``
    saves, and the passes then read 8 bytes per entry, not 4). Tied to the loop-variant
    ``v``, the barrier's ``X`` is no longer invariant; the barrier copies nothing."""
    return lax.optimization_barrier((X, v))


def linear_predictor(X: jax.Array, params: jax.Array, offset: jax.Array) -> jax.Array:
    """``eta = offset + params[0] + X @ params[1:]``."""
    return offset + params[0] + times(X, params[1:])


def direction(X: jax.Array, step: jax.Array) -> jax.Array:
    """The change of ``eta`` along ``step``: ``step[0] + X @ step[1:]``."""
    return step[0] + times(X, step[1:])


def direction_rows(XT: jax.Array, step: jax.Array) -> jax.Array:
    """:func:`direction` from a row-major ``XT = X.T`` (p, n): ``step[0] + step[1:] @ XT``
    ((n, m) for a (p+1, m) ``step``)."""
    if step.ndim == 2:
        return step[0] + jnp.matmul(step[1:].T, XT, precision=_HIGHEST).T
    return step[0] + jnp.matmul(step[1:], XT, precision=_HIGHEST)


SPARSE_SHARE = 0.25
"""The largest share of ``X``'s columns that a step may move for
:func:`sparse_direction_rows` to add up their rows one by one rather than take the dense
product: a row read on its own cost 1.2-1.4 times its share of the dense product on
XLA:CPU here (n = 100,000, p = 200), so a quarter leaves a margin (RESULTS.md, 2026-12-07,
issue 19 target 5)."""


@jax.custom_batching.custom_vmap
def sparse_direction_rows(XT: jax.Array, step: jax.Array) -> jax.Array:
    """:func:`direction_rows` for a (p+1,) ``step`` that moves few slopes: when at most
    :data:`SPARSE_SHARE` of them are non-zero, ``step[0] + sum_j step[j+1] XT[j]`` over
    those rows only (an L1 path's step moves its active columns; the other rows of ``XT``
    are not read), else the dense product. The same sum in another order (equal up to
    rounding).

    Under ``jax.vmap`` (CV folds) the dense product of all members at once: the members
    share one pass over ``XT``, and a batched choice would run both branches.

    Example:
        >>> import jax.numpy as jnp
        >>> XT = jnp.arange(12.0).reshape(4, 3)
        >>> sparse_direction_rows(XT, jnp.array([1.0, 0.0, 2.0, 0.0, 0.0])).tolist()
        [7.0, 9.0, 11.0]
    """
    slopes = step[1:]
    moved = jnp.sum(slopes != 0)
    order = jnp.argsort(-jnp.abs(slopes))  # the non-zero slopes first

    def few() -> jax.Array:
        def add(k, acc):
            j = order[k]
            return acc + slopes[j] * lax.dynamic_index_in_dim(XT, j, 0, keepdims=False)

        return lax.fori_loop(0, moved, add, jnp.full(XT.shape[1], step[0], XT.dtype))

    return lax.cond(moved <= SPARSE_SHARE * XT.shape[0], few, lambda: direction_rows(XT, step))


@sparse_direction_rows.def_vmap
def _sparse_direction_rows_vmap(axis_size, in_batched, XT, step):
    axes = tuple(0 if b else None for b in in_batched)
    return jax.vmap(direction_rows, in_axes=axes, axis_size=axis_size)(XT, step), True


def _differentiable(plain: Callable[..., jax.Array]):
    """Decorate a function that calls a ``custom_vmap`` function with derivatives: JAX
    cannot linearize a ``custom_vmap`` call (reverse mode fails), so the tangent is the JVP
    of ``plain``, the same product without the batching rule (linear in the tangents, so
    transposable), and the value keeps the batching rule."""

    def decorate(f):
        f = jax.custom_jvp(f)

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(*primals), jax.jvp(plain, primals, tangents)[1]

        return f

    return decorate


@jax.custom_batching.custom_vmap
def _score_rows(XT: jax.Array, r: jax.Array) -> jax.Array:
    return jnp.concatenate([jnp.sum(r)[None], jnp.matmul(XT, r, precision=_HIGHEST)])


@_score_rows.def_vmap
def _score_rows_vmap(axis_size: int, in_batched: list[bool], XT: jax.Array, r: jax.Array):
    XT_batched, r_batched = in_batched
    if XT_batched or not r_batched:
        in_axes = (0 if XT_batched else None, 0 if r_batched else None)
        return jax.vmap(_score_rows.fun, in_axes=in_axes, axis_size=axis_size)(XT, r), True
    # The barrier keeps XLA from folding the small transpose into the product's layout,
    # which brings the slow kernel back.
    rx = lax.optimization_barrier(jnp.matmul(XT, r.T, precision=_HIGHEST))
    return jnp.concatenate([jnp.sum(r, axis=1)[:, None], rx.T], axis=1), True


@_differentiable(_score_rows.fun)
def score_rows(XT: jax.Array, r: jax.Array) -> jax.Array:
    """:func:`score` from a row-major ``XT = X.T`` (p, n): ``[sum(r), XT @ r]``.

    Under ``jax.vmap`` over ``r`` with ``XT`` shared (CV folds), one product ``XT @ R.T``:
    the default batching rule contracts ``R`` (m, n) with ``XT`` over both minor axes,
    which XLA:CPU ran 6x slower (78 ms against 12 ms for five rows at n = 100,000, p = 200).
    """
    return _score_rows(XT, r)


_MAX_BLOCKS = 2048
_MIN_BLOCK_ROWS = 128


def _row_blocks(n: int, min_rows: int = _MIN_BLOCK_ROWS) -> int:
    """The number of row blocks of :func:`score`: the largest divisor of ``n`` that is at
    most 2,048 and leaves at least ``min_rows`` rows per block (1 when there is none)."""
    top = min(_MAX_BLOCKS, n // min_rows)
    return next((b for b in range(top, 1, -1) if n % b == 0), 1)


def pairwise_sum(a: jax.Array) -> jax.Array:
    """The sum over the leading axis of ``a``, pairwise: zero-padded to a power of two and
    halved, so that the rounding error grows like ``log2`` of its length.

    For the few partial sums of row blocks (at most a few thousand): each halving is one
    small operation.

    Example:
        >>> import jax.numpy as jnp
        >>> pairwise_sum(jnp.arange(5.0)).tolist()
        10.0
    """
    size = 1 << max(a.shape[0] - 1, 0).bit_length()
    a = jnp.concatenate([a, jnp.zeros((size - a.shape[0], *a.shape[1:]), a.dtype)])
    while a.shape[0] > 1:
        half = a.shape[0] // 2
        a = a[:half] + a[half:]
    return a[0]


def _blocked(
    f: Callable[..., jax.Array], rows: tuple[jax.Array, ...], dtype: jnp.dtype, min_rows: int
) -> jax.Array:
    """``sum_i f(rows_i)`` over row blocks: ``f`` maps blocks (b, k, ...) of every array in
    ``rows`` to their (b, ...) sums in the products' dtype; these are summed in ``dtype``
    by :func:`pairwise_sum`. The blocks are a free reshape when a block count divides
    ``n`` (:func:`_row_blocks`). When none does, the rows are one block, except where the
    sums are wider than the products (mixed precision): then the last ``n mod b`` rows
    are a block of their own (slicing copies the rows, the price of float64 sums)."""
    n = rows[0].shape[0]
    blocks = _row_blocks(n, min_rows)
    wider = any(a.dtype != dtype for a in rows)
    if blocks == 1 and n >= 2 * min_rows and wider:
        blocks = min(_MAX_BLOCKS, n // min_rows)
    head = n - n % blocks

    def sums(parts, b):
        return f(*(a.reshape(b, a.shape[0] // b, *a.shape[1:]) for a in parts)).astype(dtype)

    out = sums([a[:head] for a in rows] if head < n else rows, blocks)
    if head < n:
        out = jnp.concatenate([out, sums([a[head:] for a in rows], 1)])
    return pairwise_sum(out)


SUM_BLOCK_ROWS = 1024
"""The fewest rows per block of :func:`row_sum` (fewer than twice as many: one plain sum)."""


def row_sum(r: jax.Array) -> jax.Array:
    """``sum_i r_i`` over the rows (the leading axis), blocked and pairwise (module docs):
    the sums of the objective, the deviance and the statistics.

    Example:
        >>> import jax.numpy as jnp
        >>> row_sum(jnp.ones((1000, 2))).tolist()
        [1000.0, 1000.0]
    """
    return _blocked(lambda rb: jnp.sum(rb, axis=1), (r,), r.dtype, SUM_BLOCK_ROWS)


def score(X: jax.Array, r: jax.Array) -> jax.Array:
    """``[sum(r), r @ X]``: the (p+1,) gradient for row derivatives ``r`` (in ``r``'s dtype).

    ``r @ X`` is summed over row blocks (a free reshape when the block count divides
    ``n``): XLA:CPU runs the one long reduction of a plain ``r @ X`` on one thread, 2.6x
    slower than ``X @ beta`` at n = 10^6, p = 100 (104 ms against 40 ms for the blocked
    form, measured in float64 on this project's 2-core CPU); the blocks are summed
    pairwise. A float32 ``X`` with a float64 ``r`` (mixed precision, module docs) is read
    and multiplied in float64 block by block (:func:`_widened_score`): 0.07 s at n = 10^6,
    p = 100 against 0.20 s for the one fused reduction ``sum(X * r[:, None], 0)`` it
    replaced, and 2.0 s for that over row blocks (XLA:CPU's reduction over the middle axis)
    or 2.1 s for ``r @ X.astype(float64)`` (a float64 copy of ``X``), measured on this
    project's loaded 2-core CPU (benchmarks/RESULTS.md, issue 20).
    """
    if isinstance(X, AbstractDesign):
        return X.score(r)
    if X.dtype != r.dtype:
        rx = _widened_score(X, r)
    else:
        rx = _blocked(
            lambda rb, Xb: jnp.einsum("bk,bkp->bp", rb, Xb, precision=_HIGHEST), (r, X),
            r.dtype, _MIN_BLOCK_ROWS,
        )  # fmt: skip
    return jnp.concatenate([row_sum(r)[None], rx])


def _widened_score(X: jax.Array, r: jax.Array) -> jax.Array:
    """``r @ X`` for a float32 ``X`` and a float64 ``r``: blocks of :func:`widened_rows` rows
    (:func:`_widened_block`), their sums added pairwise; the last ``n mod b`` rows in one
    fused reduction (:func:`_widened_parts`)."""

    def block(i, Xb):
        rb = lax.dynamic_slice_in_dim(r, i * Xb.shape[0], Xb.shape[0])
        return jnp.matmul(rb, Xb, precision=_HIGHEST)

    def rest(head):
        Xt, rt = _widened_in_place(X[head:], r[head:])
        return jnp.sum(Xt * rt[:, None], axis=0)[None]

    return pairwise_sum(jnp.concatenate(_widened_parts(X, r.dtype, block, rest)))


_MAX_OUTER_ELEMENTS = 2**24


def batched_gram_in_one_product(n: int, p: int, members: int) -> bool:
    """Whether :func:`gram` vmapped over ``members`` weight vectors of one shared (n, p)
    design forms all the matrices in one product: ``p + 1 <= members`` and the rows' outer
    products ``n (p + 1) (p + 2) / 2`` have at most 2^24 elements."""
    k = p + 1
    return k <= members and n * k * (k + 1) // 2 <= _MAX_OUTER_ELEMENTS


GRAM_BLOCK_ROWS = 4096
"""The fewest rows per block of :func:`gram`'s blocked product (designs of fewer than twice
as many rows are one block)."""


def _gram_blocks(hb: jax.Array, Xb: jax.Array, column_product: bool = False) -> jax.Array:
    """The (b, p+1, p+1) Grams of blocks ``Xb`` (b, k, p) with weights ``hb`` (b, k).

    The column sums ``hb @ Xb`` are a reduction of the weighted copy ``xh`` over its middle
    axis, or with ``column_product`` a product of their own: for the many small blocks of a
    batch's members (:func:`_gram_vmap`) XLA:CPU ran that reduction slowly and formed ``xh``
    a second time for it; for the large blocks of one fit the product was not measured
    faster, and one fit keeps the reduction (benchmarks/RESULTS.md, issue 19)."""
    xh = Xb * hb[..., None]
    xtx = lax.dot_general(xh, Xb, (((1,), (1,)), ((0,), (0,))), precision=_HIGHEST)
    if column_product:
        col = jnp.einsum("bk,bkp->bp", hb, Xb, precision=_HIGHEST)
    else:
        col = jnp.sum(xh, axis=1)
    top = jnp.concatenate([jnp.sum(hb, axis=1)[:, None], col], axis=1)
    return jnp.concatenate([top[:, None, :], jnp.concatenate([col[..., None], xtx], 2)], 1)


GRAM_LOOP_ELEMENTS = 2**18
"""Entries of ``X`` per block of :func:`gram`'s loop over rows (a block of
``GRAM_LOOP_ELEMENTS // p`` rows, at least :data:`MIN_GRAM_LOOP_ROWS`): 2 MB in float64,
so that the block and its weighted copy stay in cache while they are multiplied."""

MIN_GRAM_LOOP_ROWS = 1024
"""The fewest rows of a block of :func:`gram`'s loop over rows: at p = 500 blocks of 262
and 524 rows ran slower than blocks of 1,048 (``benchmarks/RESULTS.md``)."""


def _gram_in_a_loop(n: int) -> bool:
    """Whether :func:`gram` loops over blocks of rows: at least ``2 * GRAM_BLOCK_ROWS`` rows
    and a CPU backend of one device (on several devices the rows may be sharded, and a loop
    over them would gather them; on accelerators the batched product is not measured
    slower)."""
    return n >= 2 * GRAM_BLOCK_ROWS and jax.default_backend() == "cpu" and jax.device_count() == 1


def _looped_gram(X: jax.Array, h: jax.Array, shift: jax.Array | None = None) -> jax.Array:
    """:func:`gram` as a ``lax.fori_loop`` over blocks of :data:`GRAM_LOOP_ELEMENTS` entries
    (the last ``n mod b`` rows a product of their own), the blocks' matrices added in
    ``h``'s dtype with Kahan's compensation: the sum's rounding is that of one block's
    product plus a few ulp, whatever the number of blocks. XLA:CPU ran it faster than the
    batched product of :func:`_gram_blocks` over all rows, whose weighted copy of ``X``
    (``n p``) goes through memory (``python -m benchmarks.gram_forms``,
    ``benchmarks/RESULTS.md``). The products are in ``X``'s dtype, of the rows minus
    ``shift`` where it is given (mixed precision: :func:`_gram`)."""
    n, p = X.shape
    size = min(n, max(MIN_GRAM_LOOP_ROWS, GRAM_LOOP_ELEMENTS // max(p, 1)))

    def product(hb: jax.Array, Xb: jax.Array) -> jax.Array:
        Xb = Xb if shift is None else Xb - shift
        return _gram_blocks(hb[None].astype(X.dtype), Xb[None])[0].astype(h.dtype)

    return _compensated_blocks(product, (h, X), size, jnp.zeros((p + 1, p + 1), h.dtype))


def _compensated_blocks(
    product: Callable[..., jax.Array], rows: tuple[jax.Array, ...], size: int, zero: jax.Array
) -> jax.Array:
    """``sum_b product(*rows_b)`` over blocks of ``size`` rows of every array in ``rows`` (a
    ``lax.fori_loop`` of dynamic slices; the last ``n mod size`` rows a block of their own),
    added to ``zero`` with Kahan's compensation: the sum's rounding is that of one block's
    product plus a few ulp, whatever the number of blocks (:func:`_looped_gram`,
    :func:`_pair_grams`)."""
    n = rows[0].shape[0]
    whole = n // size

    def add(i: jax.Array, carry: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        total, compensation = carry
        y = product(*(lax.dynamic_slice_in_dim(a, i * size, size) for a in rows)) - compensation
        new = total + y
        return new, (new - total) - y

    total, compensation = lax.fori_loop(0, whole, add, (zero, zero))
    if whole * size < n:
        total = total + (product(*(a[whole * size :] for a in rows)) - compensation)
    return total


@jax.custom_batching.custom_vmap
def _gram(X: jax.Array, h: jax.Array) -> jax.Array:
    n, p = X.shape
    loop = _gram_in_a_loop(n)
    if loop and X.dtype == h.dtype:
        return _looped_gram(X, h)
    if n < 2 * GRAM_BLOCK_ROWS or X.dtype == h.dtype:
        # One block: the products in h's dtype (for mixed precision a float64 copy of those
        # few rows, which makes the steps and the covariance float64's).
        dtype = X.dtype if n >= 2 * GRAM_BLOCK_ROWS else h.dtype
        return _blocked(
            lambda hb, Xb: _gram_blocks(hb.astype(dtype), Xb.astype(dtype)), (h, X), h.dtype,
            GRAM_BLOCK_ROWS,
        )  # fmt: skip
    # Mixed precision: float32 products of the rows centred at the first block's column
    # means c (columns far from 0 would leave float32 nothing of their spread), mapped back
    # in float64: [1, X] = [1, X - c] T with T = [[1, c^T], [0, I]]. The centred rows are
    # a copy of X (0.9 s of 2.8 s at n = 10^6, p = 100 here): made only when a column's
    # mean is more than its standard deviation from 0 (else its spread loses less than a
    # factor 2 of float32's precision). The means and deviations are those of the block's
    # rows that are not all zero: padding rows (a stream's last chunk, size buckets) would
    # pull c towards 0 (a stream's half-padded chunk gave bse 1e-5 off, 1e-7 with this).
    first = X[:GRAM_BLOCK_ROWS]
    real = jnp.any(first != 0, axis=1, keepdims=True).astype(X.dtype)
    count = jnp.maximum(jnp.sum(real), 1.0)
    c = jnp.sum(first * real, axis=0) / count
    spread = jnp.sqrt(jnp.sum(real * (first - c) ** 2, axis=0) / count)

    def blocks(shift):
        def f(hb, Xb):
            return _gram_blocks(hb.astype(X.dtype), Xb if shift is None else Xb - shift)

        return _blocked(f, (h, X), h.dtype, GRAM_BLOCK_ROWS)

    far = jnp.any(jnp.abs(c) > spread)
    c = jnp.where(far, c, 0.0)
    if loop:  # a block's centred rows are a copy of the block only: no choice to make
        centred = _looped_gram(X, h, c)
    else:
        centred = lax.cond(far, blocks, lambda _: blocks(None), c)
    T = jnp.eye(p + 1, dtype=h.dtype).at[0, 1:].set(c.astype(h.dtype))
    return jnp.matmul(jnp.matmul(T.T, centred, precision=_HIGHEST), T, precision=_HIGHEST)


@_gram.def_vmap
def _gram_vmap(axis_size: int, in_batched: list[bool], X: jax.Array, h: jax.Array):
    X_batched, h_batched = in_batched
    n, p = X.shape[-2:]
    k = p + 1
    if X_batched and h_batched and X.dtype == h.dtype and n < 2 * GRAM_BLOCK_ROWS:
        # every member's rows one block (as _gram's), the members the blocks
        return _gram_blocks(h, X, column_product=True), True
    if X_batched or not h_batched or not batched_gram_in_one_product(n, p, axis_size):
        in_axes = (0 if X_batched else None, 0 if h_batched else None)
        return jax.vmap(_gram.fun, in_axes=in_axes, axis_size=axis_size)(X, h), True
    X1 = jnp.concatenate([jnp.ones((n, 1), X.dtype), X], axis=1)
    rows, cols = jnp.triu_indices(k)
    Z = X1[:, rows] * X1[:, cols]
    upper = jnp.matmul(h, Z, precision=_HIGHEST)
    G = jnp.zeros((axis_size, k, k), upper.dtype).at[:, rows, cols].set(upper)
    return G + jnp.swapaxes(jnp.triu(G, 1), 1, 2), True


@_differentiable(_gram.fun)
def gram(X: jax.Array, h: jax.Array) -> jax.Array:
    """``[1, X]^T diag(h) [1, X]`` as a (p+1, p+1) matrix, with ONE n x p x p product
    (batched over row blocks of at least :data:`GRAM_BLOCK_ROWS` rows, in ``X``'s dtype;
    the blocks' matrices are summed pairwise in ``h``'s dtype: module docs). On a CPU
    backend of one device, with ``X`` and ``h`` of one dtype, the blocks are a loop
    instead (:func:`_looped_gram`: :data:`GRAM_LOOP_ELEMENTS` entries a block, Kahan's
    compensated sum), which XLA:CPU ran faster at p = 100. A design of
    fewer than ``2 * GRAM_BLOCK_ROWS`` rows is one block, in ``h``'s dtype. Mixed
    precision with more rows: the float32 products are of the rows minus the first
    block's column means, the matrix mapped back in float64 (exact: only the float32
    rounding of the centred rows remains).

    Under ``jax.vmap`` over ``h`` with ``X`` shared (many responses, bootstrap weights),
    every member's matrix comes from one product ``H @ Z`` of the (m, n) weights with the
    rows' outer products ``Z_i = upper(x_i x_i^T)`` ((n, (p+1)(p+2)/2), formed once), when
    ``p + 1 <= m`` and ``Z`` has at most 2^24 elements; otherwise member by member.
    Differentiable (forward and reverse); the derivative of a batched call is formed
    member by member. A :class:`AbstractDesign` forms it from its blocks.
    """
    if isinstance(X, AbstractDesign):
        return X.gram(h)
    return _gram(X, h)


BLOCK_GRAM_ELEMENTS = 2**18
"""The most entries of the rows' outer products that :func:`block_gram` holds at a time (a
block of ``BLOCK_GRAM_ELEMENTS // ((p+1)(p+2)/2)`` rows, at least
:data:`MIN_BLOCK_GRAM_ROWS`). Smaller blocks stay in cache and ran faster
(``python -m benchmarks.block_gram``, ``benchmarks/RESULTS.md``)."""

MIN_BLOCK_GRAM_ROWS = 64
"""The fewest rows of a block of :func:`block_gram` (a wide ``X``: fewer would make its
products too thin to run at speed)."""


def block_gram(X: jax.Array, H: jax.Array) -> jax.Array:
    """``sum_i kron([1 x_i][1 x_i]^T, H_i)``: the ((p+1) m, (p+1) m) Gram of (m, m) row
    blocks ``H`` (n, m, m), symmetric, in the order of a (p+1, m) ``params.ravel()``.

    Formed without any per-row Kronecker product, from the ``m (m+1) / 2`` class pairs
    ``(a, b)``, each the Gram of ``[1 X]`` with the weights ``H[:, a, b]``. For a dense
    ``X`` of ``H``'s dtype, all pairs come from one product per block of rows,
    ``W_b^T Z_b``: the rows' class-pair weights ``W`` (rows, pairs) against the upper
    triangles of the rows' outer products ``z_i = upper([1 x_i][1 x_i]^T)`` ((p+1)(p+2)/2
    entries; about :data:`BLOCK_GRAM_ELEMENTS` of them held at a time), the blocks'
    matrices added with Kahan's compensation. That is ``n m(m+1)/2 (p+1)(p+2)/2``
    multiply-adds, half of one :func:`gram` per pair (the symmetry), in one well-shaped
    product instead of ``m(m+1)/2`` long thin ones (measured at n = 100,000, p = 50, m = 9
    by ``python -m benchmarks.block_gram``, in ``benchmarks/RESULTS.md``). A
    :class:`AbstractDesign` or mixed precision (a float32 ``X`` with float64 ``H``) forms
    one :func:`gram` per pair (all in one product when :func:`batched_gram_in_one_product`
    allows, else one after another). Memory: the result, ``H``, ``X`` and one block's
    outer products; nothing of size ``n p m``.

    Example:
        >>> import jax.numpy as jnp
        >>> X, H = jnp.array([[1.0], [2.0]]), jnp.broadcast_to(jnp.eye(2), (2, 2, 2))
        >>> block_gram(X, H)[:, 0].tolist()
        [2.0, 0.0, 3.0, 0.0]
    """
    n, p = X.shape
    m = H.shape[-1]
    rows, cols = np.triu_indices(m)
    weights = H[:, rows, cols]  # (n, pairs)
    if isinstance(X, AbstractDesign) or X.dtype != H.dtype:
        pair_gram = X.whole_gram if isinstance(X, AbstractDesign) else functools.partial(gram, X)
        if batched_gram_in_one_product(n, p, len(rows)):
            pair_grams = jax.vmap(pair_gram)(weights.T)
        else:
            pair_grams = lax.map(pair_gram, weights.T)
    else:
        pair_grams = _pair_grams(X, weights)
    blocks = jnp.zeros((m, m, p + 1, p + 1), pair_grams.dtype).at[rows, cols].set(pair_grams)
    blocks = blocks.at[cols, rows].set(jnp.swapaxes(pair_grams, -1, -2))
    return jnp.transpose(blocks, (2, 0, 3, 1)).reshape((p + 1) * m, (p + 1) * m)


def _pair_grams(X: jax.Array, W: jax.Array) -> jax.Array:
    """The (pairs, p+1, p+1) Grams ``[1 X]^T diag(W[:, c]) [1 X]`` of a dense ``X`` for every
    column ``c`` of ``W`` (n, pairs), from one product ``W_b^T Z_b`` per block of rows
    (:func:`block_gram`), the blocks' matrices added with Kahan's compensation: the sum's
    rounding is that of each block's product (its rows) plus a few ulp, whatever the number
    of blocks, and it holds one block's outer products, not one matrix per block."""
    n, p = X.shape
    k = p + 1
    upper_rows, upper_cols = np.triu_indices(k)
    size = max(MIN_BLOCK_GRAM_ROWS, BLOCK_GRAM_ELEMENTS // len(upper_rows))
    size = min(n, size)

    def products(Xb: jax.Array, Wb: jax.Array) -> jax.Array:
        X1 = jnp.concatenate([jnp.ones((Xb.shape[0], 1), Xb.dtype), Xb], axis=1)
        Z = X1[:, upper_rows] * X1[:, upper_cols]
        return lax.dot_general(Wb, Z, (((0,), (0,)), ((), ())), precision=_HIGHEST)

    zero = jnp.zeros((W.shape[1], len(upper_rows)), jnp.result_type(X, W))
    upper = _compensated_blocks(products, (X, W), size, zero)
    G = jnp.zeros((W.shape[1], k, k), upper.dtype).at[:, upper_rows, upper_cols].set(upper)
    return G + jnp.swapaxes(jnp.triu(G, 1), 1, 2)


def pin_intercept(
    H: jax.Array, g: jax.Array, fit_intercept: bool, width: int = 1
) -> tuple[jax.Array, jax.Array]:
    """Without an intercept, make the ``width`` intercept parameters (the first entries of
    the flat parameters: 1, or ``m`` for (p+1, m) ones) inert: unit diagonal, zero
    rows/columns/gradient."""
    if fit_intercept:
        return H, g
    if isinstance(H, BlockGram):  # the intercept is column 0, outside the diagonal block
        e0 = jnp.zeros(H.A.shape[0], H.dtype).at[0].set(1.0)
        A = H.A * (1.0 - e0)[:, None] * (1.0 - e0)[None, :] + jnp.diag(e0)
        return BlockGram(A, H.B * (1.0 - e0)[:, None], H.d, H.lo), g.at[0].set(0.0)
    e0 = jnp.zeros(H.shape[0], H.dtype).at[:width].set(1.0)
    H = H * (1.0 - e0)[:, None] * (1.0 - e0)[None, :] + jnp.diag(e0)
    return H, g * (1.0 - e0)


def column_means(X: jax.Array, w: jax.Array) -> jax.Array:
    """The (p,) weighted column means ``w @ X / sum(w)`` (0 where ``sum(w)`` is 0), summed
    over row blocks as :func:`score`.

    A float32 fit subtracts them from ``X`` (:func:`uncenter` maps the solution back): with
    the intercept that is an exact reparametrization, and it keeps the Gram of a design
    whose columns sit far from 0 (statsmodels' longley: years near 1950, spread 5) within
    float32's reach. Its condition number is then that of the centered design.

    Example:
        >>> import jax.numpy as jnp
        >>> column_means(jnp.array([[1.0], [3.0]]), jnp.array([1.0, 3.0])).tolist()
        [2.5]
    """
    total = jnp.sum(w)
    return score(X, w)[1:] / jnp.where(total > 0, total, 1.0)


@jax.jit
def far_from_zero(X: jax.Array, w: jax.Array) -> jax.Array:
    """Whether some column's ``w``-weighted mean is farther from 0 than its weighted
    standard deviation (one pass over ``X``, summed as :func:`score`): where a float32 fit
    centres ``X`` (:func:`column_means`).

    Example:
        >>> import jax.numpy as jnp
        >>> X = jnp.array([[1.0, 9.0], [-1.0, 11.0]])
        >>> bool(far_from_zero(X, jnp.ones(2))), bool(far_from_zero(X[:, :1], jnp.ones(2)))
        (True, False)
    """
    mean = column_means(X, w)
    total = jnp.sum(w)
    variance = square_sums(X, w) / jnp.where(total > 0, total, 1.0) - mean * mean
    return jnp.any(mean * mean > variance)


def uncenter(params: jax.Array, cov: jax.Array, center: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``params`` and ``cov`` of a fit on ``X - center`` (intercept first) in the
    coordinates of ``X``: the intercept ``b0 - center . b``, the covariance ``A cov A^T``
    with ``A = [[1, -center^T], [0, I]]``.

    Example:
        >>> import jax.numpy as jnp
        >>> b, _ = uncenter(jnp.array([1.0, 2.0]), jnp.eye(2), jnp.array([0.5]))
        >>> b.tolist()
        [0.0, 2.0]
    """
    intercept = params[0] - jnp.dot(center, params[1:], precision=_HIGHEST)
    A = jnp.eye(params.shape[0], dtype=cov.dtype).at[0, 1:].set(-center)
    return (
        params.at[0].set(intercept),
        jnp.matmul(jnp.matmul(A, cov, precision=_HIGHEST), A.T, precision=_HIGHEST),
    )


def rank_tolerance(dtype: jnp.dtype, p: int) -> float:
    """Pivot threshold of :func:`factor`: ``max(100, 10 sqrt(p + 1)) * eps`` of the working
    dtype.

    A squared pivot of the unit-diagonal Gram below it is rounding noise, not information.
    On float32 designs that R's rule (:mod:`jaxglm._aliasing`) calls aliased (duplicated,
    scaled and summed columns, n = 50 to 50,000, centred) the computed squared pivots
    reached 49 eps at p = 1 or 2 and about 1 eps at p = 100 to 300: the floor of 100 eps
    has twice that room. The Cholesky's own rounding grows like ``sqrt(p)`` in
    probabilistic analysis (Higham and Mary, SIAM J. Sci. Comput. 2019): the
    ``10 sqrt(p + 1)`` term. In float64 the floor, 2.2e-14, is R's ``qr()`` tolerance 1e-7
    on a column's residual norm, squared. The former ``10 (p + 1) eps`` (1,010 eps at
    p = 100) called usable float32 designs singular: with cond(X) ~ 1e3 the squared pivots
    come near 930 eps.
    """
    return max(100.0, 10.0 * math.sqrt(p + 1)) * float(jnp.finfo(dtype).eps)


def factor(H: jax.Array) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
    """Equilibrated Cholesky factor of a symmetric positive definite ``H``.

    ``H`` is scaled to unit diagonal (``D H D`` with ``D = diag(H)^-1/2``) before the
    factorization, so that badly scaled designs (statsmodels' longley, cond(X) ~ 5e9)
    factor in float64. Returns the factor and ``ok``: False when the factorization failed
    or a squared pivot of the scaled matrix is below :func:`rank_tolerance` (numerically
    rank deficient, or not positive definite).

    A :class:`BlockGram` is scaled the same way; its unit diagonal block is eliminated and
    the Schur complement ``A' - B' B'^T`` of the scaled matrix factored: its pivots are
    those of the whole scaled matrix after the block's (1), so the rank test is the
    dense one's; a level without weight (``d = 0``) fails it.
    """
    if isinstance(H, BlockGram):
        return _factor_blocks(H)
    d = _inverse_sqrt(jnp.diagonal(H))
    L, ok = _checked_cholesky(H * d[:, None] * d[None, :], H.shape[0])
    return (L, d), ok


def _inverse_sqrt(diag: jax.Array) -> jax.Array:
    """``diag^-1/2``, NaN where ``diag <= 0`` (a column without weight: the factor fails)."""
    return jnp.where(diag > 0, lax.rsqrt(jnp.where(diag > 0, diag, 1.0)), jnp.nan)


def _checked_cholesky(S: jax.Array, k: int) -> tuple[jax.Array, jax.Array]:
    """The Cholesky factor of the scaled ``S`` and whether it is usable: finite, every
    squared pivot above :func:`rank_tolerance` for a ``k x k`` system."""
    L = cholesky(S)
    ok = jnp.all(jnp.isfinite(L)) & (jnp.min(jnp.diagonal(L) ** 2) > rank_tolerance(S.dtype, k - 1))
    return L, ok


UNROLLED_ORDER = 8
"""Under ``jax.vmap``, :func:`cholesky` and :func:`cholesky_solve` of matrices of at most
this order run as unrolled elementwise code over the members, not one LAPACK call per
member (XLA:CPU; measured faster for many small fits: benchmarks/RESULTS.md, issue 19)."""


def _unrolled_cholesky(S: jax.Array) -> jax.Array:
    """The lower Cholesky factor of every (k, k) matrix of ``S`` (..., k, k), written out
    entry by entry (each entry an array over the leading axes); NaN from a pivot that is
    not positive on, as LAPACK's failed factor is NaN."""
    k = S.shape[-1]
    S = (S + jnp.swapaxes(S, -1, -2)) / 2  # as jnp.linalg.cholesky symmetrizes its input
    L = [[None] * k for _ in range(k)]
    for j in range(k):
        pivot = S[..., j, j]
        for i in range(j):
            pivot = pivot - L[j][i] * L[j][i]
        L[j][j] = jnp.sqrt(pivot)
        for r in range(j + 1, k):
            entry = S[..., r, j]
            for i in range(j):
                entry = entry - L[r][i] * L[j][i]
            L[r][j] = entry / L[j][j]
    zero = jnp.zeros_like(S[..., 0, 0])
    return jnp.stack(
        [jnp.stack([L[r][c] if c <= r else zero for c in range(k)], -1) for r in range(k)], -2
    )


def _unrolled_cholesky_solve(L: jax.Array, b: jax.Array) -> jax.Array:
    """``(L L^T)^-1 b`` for factors ``L`` (..., k, k) and ``b`` (..., k) or (..., k, r): the
    two triangular substitutions written out row by row."""
    k = L.shape[-1]
    vector = b.ndim == L.ndim - 1
    B = b[..., None] if vector else b
    y = []
    for r in range(k):
        row = B[..., r, :]
        for i in range(r):
            row = row - L[..., r, i, None] * y[i]
        y.append(row / L[..., r, r, None])
    x = [None] * k
    for r in reversed(range(k)):
        row = y[r]
        for i in range(r + 1, k):
            row = row - L[..., i, r, None] * x[i]
        x[r] = row / L[..., r, r, None]
    out = jnp.stack(x, -2)
    return out[..., 0] if vector else out


def _plain_cholesky_solve(L: jax.Array, b: jax.Array) -> jax.Array:
    return cho_solve((L, True), b)


@jax.custom_batching.custom_vmap
def _cholesky(S: jax.Array) -> jax.Array:
    return jnp.linalg.cholesky(S)


@_cholesky.def_vmap
def _cholesky_vmap(axis_size: int, in_batched: list[bool], S: jax.Array):
    if S.shape[-1] > UNROLLED_ORDER:
        return jnp.linalg.cholesky(S), True
    return _unrolled_cholesky(S), True


@_differentiable(jnp.linalg.cholesky)
def cholesky(S: jax.Array) -> jax.Array:
    """``jnp.linalg.cholesky(S)`` of a (k, k) ``S``; under ``jax.vmap``, for
    ``k <= UNROLLED_ORDER``, unrolled elementwise code over the members (equal to
    rounding). Differentiable (forward and reverse).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> S = jnp.array([[[4.0, 2.0], [2.0, 5.0]], [[1.0, 0.0], [0.0, 9.0]]])
        >>> jax.vmap(cholesky)(S).tolist()
        [[[2.0, 0.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 3.0]]]
    """
    return _cholesky(S)


@jax.custom_batching.custom_vmap
def _cholesky_solve(L: jax.Array, b: jax.Array) -> jax.Array:
    return _plain_cholesky_solve(L, b)


@_cholesky_solve.def_vmap
def _cholesky_solve_vmap(axis_size: int, in_batched: list[bool], L: jax.Array, b: jax.Array):
    L_batched, b_batched = in_batched
    if not L_batched or L.shape[-1] > UNROLLED_ORDER:
        in_axes = (0 if L_batched else None, 0 if b_batched else None)
        return jax.vmap(_plain_cholesky_solve, in_axes, axis_size=axis_size)(L, b), True
    if not b_batched:
        b = jnp.broadcast_to(b, (axis_size, *b.shape))
    return _unrolled_cholesky_solve(L, b), True


@_differentiable(_plain_cholesky_solve)
def cholesky_solve(L: jax.Array, b: jax.Array) -> jax.Array:
    """``cho_solve((L, True), b)``: ``(L L^T)^-1 b`` for a lower factor ``L`` (k, k) and
    ``b`` (k,) or (k, r); under ``jax.vmap`` with ``L`` batched and ``k <= UNROLLED_ORDER``,
    unrolled substitutions over the members (equal to rounding). Differentiable.

    Example:
        >>> import jax.numpy as jnp
        >>> cholesky_solve(jnp.array([[2.0, 0.0], [1.0, 2.0]]), jnp.array([4.0, 5.0])).tolist()
        [0.625, 0.75]
    """
    return _cholesky_solve(L, b)


def _factor_blocks(H: BlockGram) -> tuple[BlockFactors, jax.Array]:
    d_other, d_inside = _inverse_sqrt(jnp.diagonal(H.A)), _inverse_sqrt(H.d)
    B = H.B * d_other[:, None] * d_inside[None, :]
    schur = H.A * d_other[:, None] * d_other[None, :] - jnp.matmul(B, B.T, precision=_HIGHEST)
    L, ok = _checked_cholesky(schur, H.shape[0])
    return BlockFactors(L, d_other, d_inside, B, H.lo), ok & jnp.all(jnp.isfinite(d_inside))


def _solve_blocks(f: BlockFactors, b: jax.Array) -> jax.Array:
    """``[[A, B], [B^T, diag(d)]] x = b`` by block elimination, in the scaled coordinates."""
    L = f.d_inside.shape[0]
    lo = f.lo
    shape = (-1,) + (1,) * (b.ndim - 1)
    b_other = jnp.concatenate([b[:lo], b[lo + L :]]) * f.d_other.reshape(shape)
    b_inside = b[lo : lo + L] * f.d_inside.reshape(shape)
    rhs = b_other - jnp.matmul(f.B, b_inside, precision=_HIGHEST)
    x_other = cho_solve((f.L, True), rhs)
    x_inside = b_inside - jnp.matmul(f.B.T, x_other, precision=_HIGHEST)
    x_other = x_other * f.d_other.reshape(shape)
    x_inside = x_inside * f.d_inside.reshape(shape)
    return jnp.concatenate([x_other[:lo], x_inside, x_other[lo:]])


def inverse(
    factors: tuple[jax.Array, jax.Array] | BlockFactors,
) -> jax.Array | DiagonalPlusLowRank:
    """``H^-1`` from :func:`factor`'s factor: a (k, k) array, or for a :class:`BlockGram`
    a :class:`DiagonalPlusLowRank` (no (k, k) matrix).

    With ``H`` scaled to unit diagonal (``s H s``, ``s`` the scalings of :func:`factor`),
    its eliminated block the identity and ``L L^T = A' - B' B'^T`` the factored Schur
    complement,

        ``(s H s)^-1 = [[0, 0], [0, I]] + F F^T``,  ``F = [I; -B'^T] L^-T``  ((k, q)),

    (the other columns first): the other columns' block is ``(L L^T)^-1``, the cross block
    ``-(L L^T)^-1 B'``, the eliminated block ``I + B'^T (L L^T)^-1 B'``. So ``H^-1 =
    diag(s_e^2) + (s F) (s F)^T`` with ``s_e`` the eliminated block's scalings: ``q^2 L``
    flops (two triangular solves) and ``(q + L) q`` memory for ``L`` eliminated columns.
    """
    if not isinstance(factors, BlockFactors):
        L = factors[0]
        return solve(factors, jnp.eye(L.shape[0], dtype=L.dtype))
    f = factors
    q, lo = f.L.shape[0], f.lo
    L_inv = solve_triangular(f.L, jnp.eye(q, dtype=f.L.dtype), lower=True)  # L^-1
    F_other = L_inv.T * f.d_other[:, None]
    F_inside = -solve_triangular(f.L, f.B, lower=True).T * f.d_inside[:, None]
    W = jnp.concatenate([F_other[:lo], F_inside, F_other[lo:]])
    zeros = jnp.zeros
    diag = jnp.concatenate([zeros(lo, W.dtype), f.d_inside**2, zeros(q - lo, W.dtype)])
    return DiagonalPlusLowRank(diag, W, jnp.eye(q, dtype=W.dtype))


def solve(factors: tuple[jax.Array, jax.Array] | BlockFactors, b: jax.Array) -> jax.Array:
    """Solve ``H x = b`` with the factor from :func:`factor` (``b`` a vector or matrix)."""
    if isinstance(factors, BlockFactors):
        return _solve_blocks(factors, b)
    L, d = factors
    scale = d if b.ndim == 1 else d[:, None]
    return scale * cholesky_solve(L, scale * b)


def row_quadratic(X: jax.Array, A: jax.Array) -> jax.Array:
    """``diag([1 X] A [1 X]^T)``: the (n,) quadratic forms ``x_i^T A x_i`` of the rows.

    ``A`` is (p+1, p+1), intercept first and symmetric; one n x p x p product. Used for
    leverages (``A`` an inverse Hessian) and prediction variances (``A`` a covariance).
    A :class:`DiagonalPlusLowRank` ``diag(a) + W K W^T`` is not formed: with ``K = U
    diag(lam) U^T``, ``x_i^T A x_i = x_i^2 . a + sum_j lam_j (x_i . (W U)_j)^2``, the
    products ``[1 X] (W U)_j`` taken :data:`QUADRATIC_COLUMNS` columns at a time (memory
    ``n`` times that, not ``n r``: 0.96 GB for r = 120 at n = 10^6).
    """
    if isinstance(A, DiagonalPlusLowRank):
        squares = X.squares() if isinstance(X, AbstractDesign) else X * X
        return _low_rank_quadratic(X, A.W, A.K) + A.diag[0] + times(squares, A.diag[1:])
    if isinstance(X, AbstractDesign):
        return X.row_quadratic(A)
    a0, a1, A11 = A[0, 0], A[0, 1:], A[1:, 1:]
    xa = jnp.matmul(X, A11, precision=_HIGHEST)
    return a0 + 2.0 * jnp.matmul(X, a1, precision=_HIGHEST) + jnp.sum(xa * X, axis=1)


QUADRATIC_COLUMNS = 16
"""Columns of ``W U`` per product in :func:`row_quadratic` of a :class:`DiagonalPlusLowRank`."""


def _low_rank_quadratic(X: jax.Array, W: jax.Array, K: jax.Array) -> jax.Array:
    """``diag([1 X] W K W^T [1 X]^T)`` ((n,)), :data:`QUADRATIC_COLUMNS` columns at a time."""
    lam, U = jnp.linalg.eigh(K)
    WU = jnp.matmul(W, U, precision=_HIGHEST)
    k, r = WU.shape
    chunks = -(-r // QUADRATIC_COLUMNS)
    pad = chunks * QUADRATIC_COLUMNS - r  # zero columns of zero weight
    WU = jnp.concatenate([WU, jnp.zeros((k, pad), WU.dtype)], axis=1)
    lam = jnp.concatenate([lam, jnp.zeros(pad, lam.dtype)])
    WU = WU.reshape(k, chunks, QUADRATIC_COLUMNS).transpose(1, 0, 2)

    def add(total, part):
        cols, weights = part
        XW = direction(X, cols)
        return total + jnp.sum(weights * XW * XW, axis=1), None

    start = jnp.zeros(X.shape[0], WU.dtype)
    return lax.scan(add, start, (WU, lam.reshape(chunks, QUADRATIC_COLUMNS)))[0]


def block_row_quadratic(X: jax.Array, A: jax.Array, m: int) -> jax.Array:
    """The (n, m, m) blocks ``(x_i kron I_m)^T A (x_i kron I_m)`` of a symmetric
    ((p+1) m, (p+1) m) ``A`` in the order of a (p+1, m) ``params.ravel()`` (``x_i = [1,
    x_i]``): :func:`row_quadratic` per row block, for block leverages. One
    :func:`row_quadratic` per class pair ``a <= b`` (symmetric in ``a, b``), one after
    another: memory ``n p``, not ``n p m^2``."""
    k = A.shape[0] // m
    A4 = A.reshape(k, m, k, m)
    rows, cols = np.triu_indices(m)
    pairs = jnp.stack([A4[:, a, :, b] for a, b in zip(rows, cols, strict=True)])
    quads = lax.map(lambda Ab: row_quadratic(X, 0.5 * (Ab + Ab.T)), pairs)  # (pairs, n)
    out = jnp.zeros((X.shape[0], m, m), A.dtype).at[:, rows, cols].set(quads.T)
    return out.at[:, cols, rows].set(quads.T)


def cluster_gram(
    X: jax.Array, r: jax.Array, ids: jax.Array, n_clusters: int | None = None
) -> jax.Array:
    """``sum_g s_g s_g^T`` with ``s_g = sum_{i in g} r_i [1, x_i]``: a clustered meat.

    ``ids`` are integer cluster labels in ``[0, n_clusters)`` (default ``n_clusters = n``:
    any labels in ``[0, n)``, dense or not); the (n_clusters, p+1) cluster sums are formed
    by one segment sum, then their Gram matrix. On rows sharded over devices the segment
    sum is one all-reduce of that (n_clusters, p+1) array. For (n, m) ``r`` (an
    m-vector ``theta``) the scores are ``kron([1, x_i], r_i)``, in the order of a (p+1, m)
    ``params.ravel()`` ((n, (p+1) m) of them).
    """
    s = cluster_sums(X, r, ids, n_clusters)
    return jnp.matmul(s.T, s, precision=_HIGHEST)


def cluster_sums(
    X: jax.Array, r: jax.Array, ids: jax.Array, n_clusters: int | None = None
) -> jax.Array:
    """The (n_clusters, p+1) cluster score sums ``s_g`` of :func:`cluster_gram`
    ((n_clusters, (p+1) m) for (n, m) ``r``, in the order of a (p+1, m) ``params.ravel()``;
    a design's one class after another)."""
    n = X.shape[0]
    groups = n if n_clusters is None else n_clusters
    if isinstance(X, AbstractDesign) and r.ndim == 2:
        sums = jax.vmap(X.group_sums, in_axes=(1, None, None), out_axes=2)(r, ids, groups)
        return sums.reshape(groups, -1)
    if isinstance(X, AbstractDesign):
        return X.group_sums(r, ids, groups)
    if r.ndim == 2:
        X1 = jnp.concatenate([jnp.ones((n, 1), X.dtype), X], axis=1)
        scores = (X1[:, :, None] * r[:, None, :]).reshape(n, -1)
    else:
        scores = jnp.concatenate([r[:, None], X * r[:, None]], axis=1)
    return jax.ops.segment_sum(scores, ids, num_segments=groups)
