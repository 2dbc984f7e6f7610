"""Ways to form the float64 Gram ``[1 X]^T diag(h) [1 X]``: ``python -m benchmarks.gram_forms``.

Issue 19, target 1: XLA:CPU ran the float64 Gram about 3x slower than OpenBLAS at
n = 100,000, p = 100. Each formulation below forms the same (p+1, p+1) matrix from a
float64 ``X`` (n, p) and weights ``h`` (n,), jitted:

- ``library``: :func:`jaxglm._linalg.gram` as it stands (on one CPU device a
  ``lax.fori_loop`` over blocks of :data:`jaxglm._linalg.GRAM_LOOP_ELEMENTS` entries of
  ``X``, Kahan-summed), also with 2^17, 2^19 and 2^20 entries a block (at least
  :data:`jaxglm._linalg.MIN_GRAM_LOOP_ROWS` rows);
- ``batched row blocks``: the library before issue 19's change (one batched product over
  row blocks of at least 4,096 rows, the blocks' matrices summed pairwise);
- ``one product``: ``(X h)^T X``, one ``dot_general`` contracting the rows;
- ``rows in a loop, b``: ``lax.fori_loop`` over blocks of ``b`` rows, one product each,
  accumulated; ``rows in a lax.map``: the blocks' matrices stacked by ``lax.map``, then
  summed pairwise;
- ``symmetric, c column blocks``: the upper block triangle only, ``c (c + 1) / 2`` of the
  ``c^2`` column-block products (``(c + 1) / (2 c)`` of the multiply-adds), in row blocks
  of 4,096 (one batched product per column block, as the library's), or in a
  ``lax.fori_loop`` over blocks of ``b`` rows (``rows in a loop``);
- ``transposed XT``: from a row-major ``XT = X.T`` (p, n) made outside the timer,
  ``(XT h) XT^T`` contracting the minor axes;
- ``float32 products``: the library's blocks in float32 (``X`` converted outside the
  timer), summed in float64 (issue 19's idea 4); its standard errors' largest relative
  difference from the float64 ones is printed (the SEs of ``inv(G)``);
- NumPy (OpenBLAS, its own threads): ``(X h)^T X`` (gemm) and ``A^T A`` with
  ``A = sqrt(h) X`` (``dsyrk``, ``A`` formed inside the timer).

Every variant once per round, ``--repeats`` rounds (interleaved), the median and the
fastest, and its ratio to the library before; compile apart. Every variant's largest
difference from the library before (over the largest entry) is printed. ``--cores 0,1``
pins the script (:func:`benchmarks.rule.pin`).

With ``--fits NAME``: the default fits of the quick problems named so, with the Gram as
the library forms it and as before, in turn (:func:`fits`).

Example:
    python -m benchmarks.gram_forms --n 100000 --p 100 --repeats 5 --cores 0,1
    python -m benchmarks.gram_forms --fits well --repeats 5 --cores 0,1
"""

from __future__ import annotations

import argparse
import functools
import itertools
import shlex
import sys
import time

import numpy as np

from benchmarks.machine import describe_machine
from benchmarks.rule import interleaved_seconds, parse_pinned

BEFORE = "batched row blocks (the library before)"


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gram_forms")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", action="append", default=[], help="variants containing this")
    parser.add_argument(
        "--fits", default="", help="instead: the default fits on the quick problems named so"
    )
    parser.add_argument("--full", action="store_true", help="--fits at n = 10^6")
    args = parse_pinned(parser, argv)
    if args.fits:
        fits(args, argv)
        return
    import jax
    import jax.numpy as jnp
    from jax import lax
    from scipy.linalg.blas import dsyrk

    from jaxglm import _linalg

    jax.config.update("jax_enable_x64", True)
    n, p = args.n, args.p
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    h = rng.uniform(0.05, 0.25, n)
    Xj, hj = jnp.asarray(X), jnp.asarray(h)
    XTj = jnp.asarray(np.ascontiguousarray(X.T))
    X32 = jnp.asarray(X.astype(np.float32))
    contract_rows = (((0,), (0,)), ((), ()))

    def assemble(xtx, col, total):
        top = jnp.concatenate([total[None], col])
        return jnp.concatenate([top[None], jnp.concatenate([col[:, None], xtx], 1)], 0)

    def one_product(X, h):
        xh = X * h[:, None]
        xtx = lax.dot_general(xh, X, contract_rows, precision=lax.Precision.HIGHEST)
        return assemble(xtx, _linalg.score(X, h)[1:], jnp.sum(h))

    def rows_map(size):
        def run(X, h):
            whole = n // size

            def block(i):
                Xb = lax.dynamic_slice_in_dim(X, i * size, size)
                hb = lax.dynamic_slice_in_dim(h, i * size, size)
                return _linalg._gram_blocks(hb[None], Xb[None])[0]

            total = _linalg.pairwise_sum(lax.map(block, jnp.arange(whole)))
            if whole * size < n:
                tail = _linalg._gram_blocks(h[None, whole * size :], X[None, whole * size :])
                total = total + tail[0]
            return total

        return run

    def rows_loop(size):
        def run(X, h):
            whole = n // size

            def add(i, total):
                Xb = lax.dynamic_slice_in_dim(X, i * size, size)
                hb = lax.dynamic_slice_in_dim(h, i * size, size)
                return total + _linalg._gram_blocks(hb[None], Xb[None])[0]

            total = lax.fori_loop(0, whole, add, jnp.zeros((p + 1, p + 1), X.dtype))
            if whole * size < n:
                total = (
                    total
                    + _linalg._gram_blocks(h[None, whole * size :], X[None, whole * size :])[0]
                )
            return total

        return run

    def symmetric(c):
        edges = np.linspace(0, p, c + 1).astype(int)

        def run(X, h):
            blocks = _linalg._row_blocks(n, _linalg.GRAM_BLOCK_ROWS)
            head = n - n % blocks
            Xb = X[:head].reshape(blocks, head // blocks, p)
            hb = h[:head].reshape(blocks, head // blocks)
            xh = Xb * hb[..., None]
            columns = []
            for lo, hi in itertools.pairwise(edges):
                part = lax.dot_general(
                    xh[:, :, :hi], Xb[:, :, lo:hi], (((1,), (1,)), ((0,), (0,))),
                    precision=lax.Precision.HIGHEST,
                )  # fmt: skip
                columns.append(jnp.pad(_linalg.pairwise_sum(part), ((0, p - hi), (0, 0))))
            upper = jnp.concatenate(columns, axis=1)
            owner = np.searchsorted(edges[1:], np.arange(p), side="right")
            xtx = jnp.where(owner[:, None] <= owner[None, :], upper, upper.T)
            if head < n:
                xtx = xtx + (X[head:] * h[head:, None]).T @ X[head:]
            return assemble(xtx, _linalg.score(X, h)[1:], jnp.sum(h))

        return run

    def symmetric_loop(c, size):
        edges = np.linspace(0, p, c + 1).astype(int)
        owner = np.searchsorted(edges[1:], np.arange(p), side="right")

        def upper(Xb, hb):
            xh = Xb * hb[:, None]
            columns = []
            for lo, hi in itertools.pairwise(edges):
                part = lax.dot_general(
                    xh[:, :hi], Xb[:, lo:hi], contract_rows, precision=lax.Precision.HIGHEST
                )
                columns.append(jnp.pad(part, ((0, p - hi), (0, 0))))
            return jnp.concatenate(columns, axis=1)

        def run(X, h):
            whole = n // size

            def add(i, total):
                Xb = lax.dynamic_slice_in_dim(X, i * size, size)
                return total + upper(Xb, lax.dynamic_slice_in_dim(h, i * size, size))

            total = lax.fori_loop(0, whole, add, jnp.zeros((p, p), X.dtype))
            if whole * size < n:
                total = total + upper(X[whole * size :], h[whole * size :])
            xtx = jnp.where(owner[:, None] <= owner[None, :], total, total.T)
            return assemble(xtx, _linalg.score(X, h)[1:], jnp.sum(h))

        return run

    def transposed(XT, h):
        xtx = lax.dot_general(
            XT * h[None], XT, (((1,), (1,)), ((), ())), precision=lax.Precision.HIGHEST
        )
        return assemble(xtx, XT @ h, jnp.sum(h))

    def float32_products(X32, h):
        return _linalg._blocked(
            lambda hb, Xb: _linalg._gram_blocks(hb.astype(jnp.float32), Xb), (h, X32),
            h.dtype, _linalg.GRAM_BLOCK_ROWS,
        )  # fmt: skip

    X1 = np.hstack([np.ones((n, 1)), X])

    def numpy_gemm():
        return (X1 * h[:, None]).T @ X1

    def numpy_syrk():
        A = np.asfortranarray(X1 * np.sqrt(h)[:, None])
        return dsyrk(1.0, A, trans=1)

    def library(elements):
        def run(X, h):
            _linalg.GRAM_LOOP_ELEMENTS = elements
            return _linalg.gram(X, h)

        return jax.jit(run)

    def batched(X, h):
        return _linalg._blocked(_linalg._gram_blocks, (h, X), h.dtype, _linalg.GRAM_BLOCK_ROWS)

    default = _linalg.GRAM_LOOP_ELEMENTS
    variants = {
        "library (`_linalg.gram`)": functools.partial(library(default), Xj, hj),
        BEFORE: functools.partial(jax.jit(batched), Xj, hj),
    }
    for elements in (2**17, 2**19, 2**20):
        name = f"library, 2^{elements.bit_length() - 1} entries a block"
        variants[name] = functools.partial(library(elements), Xj, hj)
    variants |= {
        "one product `(X h)^T X`": functools.partial(jax.jit(one_product), Xj, hj),
    }
    for size in (1024, 2048, 4096, 8192, 16384, 65536):
        if size < n:
            run = jax.jit(rows_loop(size))
            variants[f"rows in a loop, {size:,}"] = functools.partial(run, Xj, hj)
    for c in (2, 4):
        variants[f"symmetric, {c} column blocks"] = functools.partial(jax.jit(symmetric(c)), Xj, hj)
    for size in (2048, 4096):
        variants[f"rows in a lax.map, {size:,}, pairwise"] = functools.partial(
            jax.jit(rows_map(size)), Xj, hj
        )
    for c, size in ((2, 4096), (4, 4096), (2, 8192), (4, 8192), (4, 32768)):
        if size < n:
            run = jax.jit(symmetric_loop(c, size))
            name = f"symmetric, {c} column blocks, rows in a loop, {size:,}"
            variants[name] = functools.partial(run, Xj, hj)
    variants["transposed XT"] = functools.partial(jax.jit(transposed), XTj, hj)
    variants["float32 products, float64 sums"] = functools.partial(
        jax.jit(float32_products), X32, hj
    )
    variants["NumPy gemm `(X h)^T X`"] = numpy_gemm
    variants["NumPy dsyrk `A^T A`"] = numpy_syrk
    if args.only:
        keep = ("library", BEFORE, *args.only)
        variants = {k: v for k, v in variants.items() if any(s in k for s in keep)}
    compile_s, results = {}, {}
    for name, fn in variants.items():
        start = time.perf_counter()
        results[name] = np.asarray(jax.block_until_ready(fn()))
        compile_s[name] = time.perf_counter() - start
    _linalg.GRAM_LOOP_ELEMENTS = default
    ref = results[BEFORE]
    se_ref = np.sqrt(np.diag(np.linalg.inv(ref)))
    times, note = interleaved_seconds(variants, args.repeats)
    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.gram_forms', *argv])}`\n")
    print("\n".join(describe_machine()) + "\n")
    print(f"n = {n:,}, p = {p}, float64 (p+1)^2 Gram; median and fastest of {args.repeats} "
          f"interleaved rounds; GFLOP/s counts 2 n (p+1)^2.\n\n{note}\n")  # fmt: skip
    print("| formulation | median (s) | fastest (s) | compile (s) | GFLOP/s | vs before "
          "| difference | SE difference |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = float(np.median(times[BEFORE]))
    for name, values in times.items():
        G = results[name]
        if name.startswith("NumPy dsyrk"):  # its upper triangle only
            G = np.triu(G) + np.triu(G, 1).T
        diff = np.max(np.abs(G - ref)) / np.max(np.abs(ref))
        se = np.max(np.abs(np.sqrt(np.diag(np.linalg.inv(G))) / se_ref - 1))
        median = float(np.median(values))
        rate = 2 * n * (p + 1) ** 2 / median / 1e9
        print(f"| {name} | {median:.3g} | {min(values):.3g} | "
              f"{max(compile_s[name] - median, 0):.2g} | {rate:.1f} | "
              f"{median / base:.2f} | {diff:.1e} | {se:.1e} |")  # fmt: skip


def fits(args: argparse.Namespace, argv: list[str]) -> None:
    """``--fits``: the default ``jaxglm.fit`` (SubsampledNewton, tol 1e-6, float64) of each
    quick (``--full``: full-size) benchmark problem whose name contains ``args.fits``, with
    standard errors and with ``cov_type="none"``, its Gram products as the library forms
    them now and as before (:func:`jaxglm._linalg._gram_in_a_loop` False while that
    program is traced), the four programs compiled once and called in turn for
    ``--repeats`` rounds (fastest and median).
    """
    import jax

    import jaxglm
    from benchmarks.adapters.jaxglm_adapter import model
    from benchmarks.problems import load_problem, problem_specs
    from jaxglm import _linalg

    jax.config.update("jax_enable_x64", True)
    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.gram_forms', *argv])}`\n")
    print("\n".join(describe_machine()) + "\n")
    looped = _linalg._gram_in_a_loop
    for spec in problem_specs(quick=not args.full):
        if args.fits not in spec.name:
            continue
        problem = load_problem(spec)
        family, link = model(problem)
        X, y = jax.device_put(problem.X), jax.device_put(problem.y)
        start = 50 * (X.shape[1] + 1)  # the default, spelled out: a program of its own

        def run(before, cov_type, X=X, y=y, family=family, link=link, start=start):
            solver = jaxglm.SubsampledNewton(start_rows=start if before else None)
            _linalg._gram_in_a_loop = (lambda *a: False) if before else looped
            res = jaxglm.fit(X, y, family, link, solver=solver, tol=1e-6, cov_type=cov_type)
            _linalg._gram_in_a_loop = looped
            return jax.block_until_ready((res.params, res.cov, res.n_iter))

        variants = [(before, cov) for cov in ("nonrobust", "none") for before in (True, False)]
        outputs = {v: run(*v) for v in variants}
        calls = {v: functools.partial(run, *v) for v in variants}
        times, note = interleaved_seconds(calls, args.repeats)
        print(f"### {spec.name}\n\n{note}\n")
        print("| Gram | cov_type | fastest (s) | median (s) | fastest x before | iterations "
              "| params, bse vs before |")  # fmt: skip
        print("|---|---|---:|---:|---:|---:|---:|")
        for before, cov in variants:
            params, cov_m, n_iter = outputs[(before, cov)]
            ref_params, ref_cov, _ = outputs[(True, cov)]
            diff = np.max(np.abs(params - ref_params) / np.abs(ref_params))
            if cov != "none":
                bse, ref_bse = np.sqrt(np.diag(cov_m)), np.sqrt(np.diag(ref_cov))
                diff = max(diff, np.max(np.abs(bse / ref_bse - 1)))
            fastest, base = min(times[(before, cov)]), min(times[(True, cov)])
            name = "batched (before)" if before else "loop over rows"
            print(f"| {name} | {cov} | {fastest:.3g} | {np.median(times[(before, cov)]):.3g} "
                  f"| {fastest / base:.2f} | {int(n_iter)} | {diff:.1e} |")  # fmt: skip
        print()


if __name__ == "__main__":
    main()
