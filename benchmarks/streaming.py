"""Streaming fits from disk: time per pass, linearity in n, peak memory (issue 17).

    python -m benchmarks.streaming --n 5e6 --n 1e7 --n 2e7 [--p 50] [--chunk-rows 262144]

For each n, a float32 file of n records ``[x_1 .. x_p, y]`` (row-major; Poisson ``y``) is
written once to ``--dir`` (default ``benchmarks/_cache/stream``) and then, in a fresh
process per n (so that the peak resident set, ``VmHWM``, is that run's own):

* ``fit``: :func:`jaxglm.fit_stream` (Poisson, float32, JAX's defaults), the chunks read
  with explicit reads (``np.fromfile`` from an open file, no memory map), so that the
  resident set measures the process's own memory and not the mapped file;
* ``floor``: one pass of the same reads through jaxglm's data path without the fit (each
  chunk copied to the device, its Gram matrix ``X^T diag(h) X`` and score formed by
  :mod:`jaxglm._linalg` in one compiled kernel, the sums added as the fit adds them);
* ``numpy``: one pass of the same reads with NumPy's BLAS products (``(X * h).T @ X`` and
  ``r @ X`` in float32) beside it.

Prints one Markdown table (time per pass against its floor; fit time, median pass time and
the fit's CPU time (all threads, ``time.process_time``) per 1e6 rows; VmHWM). Linearity in
n reads best from the pass and CPU columns on a shared machine: the fit's wall time
includes the first pass's compile and whatever else ran. The page
cache is warm: the file was just written (or read by the previous run) and fits in memory
here; say so where the numbers are recorded. Above the table: the machine block and the load
before and after (:mod:`benchmarks.rule`); ``--cores 0,1`` pins the children
(:func:`benchmarks.rule.pin`).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.rule import load_note, load_per_core, parse_pinned

BLOCK = 1_000_000


def write(path: Path, n: int, p: int, seed: int = 0) -> None:
    """n float32 records ``[x, y]`` with ``x ~ U(-1, 1)^p`` and Poisson ``y``."""
    rng = np.random.default_rng(seed)
    beta = (rng.normal(size=p) * 0.5 / np.sqrt(p)).astype(np.float32)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        for start in range(0, n, BLOCK):
            rows = min(BLOCK, n - start)
            block = np.empty((rows, p + 1), np.float32)
            block[:, :p] = rng.random((rows, p), dtype=np.float32) * 2 - 1
            block[:, p] = rng.poisson(np.exp(0.2 + block[:, :p] @ beta))
            block.tofile(f)
    tmp.rename(path)


def file_chunks(path: Path, n: int, p: int, chunk_rows: int):
    """A callable returning a fresh iterator of ``(X, y)`` chunks, read by ``np.fromfile``."""

    def make():
        with open(path, "rb") as f:
            for start in range(0, n, chunk_rows):
                rows = min(chunk_rows, n - start)
                block = np.fromfile(f, np.float32, rows * (p + 1)).reshape(rows, p + 1)
                yield np.ascontiguousarray(block[:, :p]), np.ascontiguousarray(block[:, p])

    return make


def vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(path: Path, n: int, p: int, chunk_rows: int) -> dict:
    """The three measurements of one n (in this process)."""
    import jax
    import jax.numpy as jnp

    import jaxglm as jg
    from jaxglm import _linalg
    from jaxglm.streaming import _PairwiseSum

    chunks = file_chunks(path, n, p, chunk_rows)
    passes = []
    start, cpu = time.perf_counter(), time.process_time()
    res = jg.fit_stream(chunks, jg.Poisson(), progress=passes.append)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu

    @jax.jit
    def products(X, y):
        h = jnp.exp(0.01 * y)  # an elementwise row weight, as the fit's
        return _linalg.gram(X, h), _linalg.score(X, y - h)

    def floor_pass():  # as the fit's passes: the previous chunk awaited, two in flight
        total, pending = _PairwiseSum(), None
        for X, y in chunks():
            out = products(jax.device_put(X), jax.device_put(y))
            if pending is not None:
                total.add(jax.block_until_ready(pending))
            pending = out
        total.add(jax.block_until_ready(pending))
        return jax.block_until_ready(total.result())

    floor_pass()  # compile (and one pass of warm-up)
    t = time.perf_counter()
    floor_pass()
    floor_s = time.perf_counter() - t
    t = time.perf_counter()
    for X, y in chunks():
        h = np.exp(0.01 * y)
        (X * h[:, None]).T @ X, (y - h) @ X
    numpy_s = time.perf_counter() - t
    newton = [q.seconds for q in passes if q.kind in ("newton", "line search")]
    return dict(
        n=n, p=p, chunk_rows=chunk_rows, fit_s=fit_s, fit_cpu_s=fit_cpu_s, passes=len(passes),
        n_iter=int(res.n_iter), status=int(res.status), pass_s=float(np.median(newton)),
        floor_s=floor_s, numpy_s=numpy_s, vmhwm_mb=vmhwm_mb(), device=str(jax.devices()[0]),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", action="append", type=float, help="rows (repeatable)")
    parser.add_argument("--p", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=262_144)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "_cache" / "stream")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ns = parse_pinned(parser)
    sizes = [int(n) for n in (ns.n or [5e6, 1e7, 2e7])]
    ns.dir.mkdir(parents=True, exist_ok=True)
    paths = {n: ns.dir / f"poisson_n{n}_p{ns.p}.f32" for n in sizes}
    if ns.one:  # the child: one n, measured in this process
        (n,) = sizes
        print(json.dumps(run_one(paths[n], n, ns.p, ns.chunk_rows)))
        return
    from benchmarks.machine import describe_machine

    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.streaming', *sys.argv[1:]])}`\n")
    print("\n".join(describe_machine()) + "\n")
    load_before = load_per_core()
    rows = []
    for n in sizes:
        if not paths[n].exists():
            t = time.perf_counter()
            write(paths[n], n, ns.p)
            print(f"wrote {paths[n]} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        options = ["--p", str(ns.p), "--chunk-rows", str(ns.chunk_rows), "--dir", str(ns.dir)]
        command = [sys.executable, "-m", "benchmarks.streaming", "--one", "--n", str(n), *options]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print(f"{load_note(load_before, load_per_core())}; device: {rows[0]['device']}")
    print()
    print(
        "| n | file (GB) | fit (s) | passes | Newton steps | status | pass (s) | floor pass (s) "
        "| pass / floor | NumPy pass (s) | fit s per 1e6 rows | pass s per 1e6 rows "
        "| fit CPU s per 1e6 rows | VmHWM (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        gb = r["n"] * (r["p"] + 1) * 4 / 1e9
        print(
            f"| {r['n']:,} | {gb:.1f} | {r['fit_s']:.1f} | {r['passes']} | {r['n_iter']} | "
            f"{r['status']} | {r['pass_s']:.2f} | {r['floor_s']:.2f} | "
            f"{r['pass_s'] / r['floor_s']:.2f} | {r['numpy_s']:.2f} | "
            f"{r['fit_s'] / r['n'] * 1e6:.2f} | {r['pass_s'] / r['n'] * 1e6:.3f} | "
            f"{r['fit_cpu_s'] / r['n'] * 1e6:.2f} | {r['vmhwm_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
