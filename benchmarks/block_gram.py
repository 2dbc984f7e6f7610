"""The Multinomial block information against its floor: ``python -m benchmarks.block_gram``.

``sum_i kron([1 x_i][1 x_i]^T, H_i)`` for n = 100,000, p = 50, m = 9 (the Multinomial of
``benchmarks.multinomial``, k = 10 classes), float64, CPU, formed

- per class pair: one :func:`jaxglm._linalg.gram` per pair, one pair after another (the
  formulation before issue 19: ``m (m+1) / 2`` products of ``n (p+1)^2`` multiply-adds);
- as :func:`jaxglm._linalg.block_gram` forms it now: one product ``W_b^T Z_b`` of the rows'
  class-pair weights and the upper triangles of their outer products per block of rows,
  at several block sizes (:data:`jaxglm._linalg.BLOCK_GRAM_ELEMENTS`), and in float32 (its
  largest relative error on the diagonal is printed);
- the same products through NumPy's BLAS: per pair (``(X1 * h).T @ X1``), and ``W_b^T Z_b``
  with ``Z_b`` formed outside the timer (the multiply-adds alone: the floor).

Every variant once per round, ``--repeats`` rounds (interleaved), the median; compile apart.
``--cores 0,1`` pins the script (:func:`benchmarks.rule.pin`).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time

import numpy as np

from benchmarks.rule import interleaved_seconds, parse_pinned


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.block_gram")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=50)
    parser.add_argument("--m", type=int, default=9, help="classes minus one")
    parser.add_argument("--repeats", type=int, default=5)
    args = parse_pinned(parser, argv)
    import jax
    import jax.numpy as jnp
    from jax import lax

    from jaxglm import _linalg

    jax.config.update("jax_enable_x64", True)
    n, p, m = args.n, args.p, args.m
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    prob = rng.dirichlet(np.ones(m + 1), size=n)[:, 1:]
    H = np.einsum("na,ab->nab", prob, np.eye(m)) - prob[:, :, None] * prob[:, None, :]
    rows, cols = np.triu_indices(m)
    W = np.ascontiguousarray(H[:, rows, cols])
    X1 = np.hstack([np.ones((n, 1)), X])
    Xj, Hj = jnp.asarray(X), jnp.asarray(H)

    @jax.jit
    def per_pair(X, H):
        return lax.map(functools.partial(_linalg.gram, X), H[:, rows, cols].T)

    def one_product(elements: int):
        def run(X, H):
            _linalg.BLOCK_GRAM_ELEMENTS = elements
            return _linalg.block_gram(X, H)

        return jax.jit(run)

    @jax.jit
    def float32_products(X, H):
        W32 = H[:, rows, cols].astype(jnp.float32)
        pairs = _linalg._pair_grams(X.astype(jnp.float32), W32)
        return pairs.astype(jnp.float64)

    upper_rows, upper_cols = np.triu_indices(p + 1)
    size = max(_linalg.MIN_BLOCK_GRAM_ROWS, _linalg.BLOCK_GRAM_ELEMENTS // len(upper_rows))
    Z0 = X1[:size, upper_rows] * X1[:size, upper_cols]

    def numpy_per_pair():
        return [(X1 * W[:, [j]]).T @ X1 for j in range(W.shape[1])]

    def numpy_floor():
        return sum(W[s : s + size].T @ Z0[: len(W[s : s + size])] for s in range(0, n, size))

    default = _linalg.BLOCK_GRAM_ELEMENTS
    variants = {"per pair (XLA, before)": lambda: per_pair(Xj, Hj)}
    for elements in (2**16, 2**18, 2**20, 2**22):
        compiled = one_product(elements)
        variants[f"one product, 2^{elements.bit_length() - 1} elements"] = functools.partial(
            compiled, Xj, Hj
        )
    variants["one product, float32 products"] = lambda: float32_products(Xj, Hj)
    variants["NumPy per pair"] = numpy_per_pair
    variants["NumPy W^T Z (floor: the products alone)"] = numpy_floor
    compile_s = {}
    for name, fn in variants.items():
        start = time.perf_counter()
        jax.block_until_ready(fn())
        compile_s[name] = time.perf_counter() - start
    _linalg.BLOCK_GRAM_ELEMENTS = default
    pair_ref = np.asarray(per_pair(Xj, Hj))
    pairs32 = np.asarray(float32_products(Xj, Hj))
    diag = np.diagonal(pair_ref, axis1=1, axis2=2)
    err32 = np.max(np.abs(np.diagonal(pairs32, axis1=1, axis2=2) - diag) / np.abs(diag))
    new = np.asarray(one_product(default)(Xj, Hj))
    old = np.asarray(jax.jit(_per_pair_block_gram(per_pair))(Xj, Hj))
    agree = np.max(np.abs(new - old)) / np.max(np.abs(old))
    times, note = interleaved_seconds(variants, args.repeats)
    pairs = len(rows)
    half = n * pairs * len(upper_rows)
    print(f"Command: `python -m benchmarks.block_gram {' '.join(sys.argv[1:])}`\n")
    print(f"n = {n:,}, p = {p}, m = {m} ({pairs} class pairs), float64; median of "
          f"{args.repeats} interleaved rounds. Multiply-adds: per pair {pairs} x n (p+1)^2 = "
          f"{n * pairs * (p + 1) ** 2:.3g}; one product n x {pairs} x (p+1)(p+2)/2 = "
          f"{half:.3g}. One product vs per pair: {agree:.1e} (largest difference over the "
          f"largest entry); float32 products: diagonal {err32:.1e} relative.\n")  # fmt: skip
    print(f"{note}\n")
    print("| formulation | time (s) | compile (s) | GFLOP/s (one product's count) |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        median = float(np.median(values))
        print(f"| {name} | {median:.3g} | {compile_s[name] - median:.2g} "
              f"| {2 * half / median / 1e9:.1f} |")  # fmt: skip


def _per_pair_block_gram(per_pair):
    """The block matrix from :func:`per_pair`'s class-pair Grams (as before issue 19)."""
    import jax.numpy as jnp

    def run(X, H):
        p = X.shape[1]
        m = H.shape[-1]
        rows, cols = np.triu_indices(m)
        pair_grams = per_pair(X, H)
        blocks = jnp.zeros((m, m, p + 1, p + 1), pair_grams.dtype).at[rows, cols].set(pair_grams)
        blocks = blocks.at[cols, rows].set(jnp.swapaxes(pair_grams, -1, -2))
        return jnp.transpose(blocks, (2, 0, 3, 1)).reshape((p + 1) * m, (p + 1) * m)

    return run


if __name__ == "__main__":
    main()
