"""First calls: one tool's first fit in a fresh process, import and compile included.

What a user waits for in a new session: importing the library, converting the arrays (and
for JAX tools putting them on the device and compiling), and the fit, timed from before the
library's import to the blocked result. Reading the problem from ``benchmarks/_cache/`` is
outside the timer. With ``--cache DIR`` JAX's persistent compilation cache is on in
``DIR`` (JAX tools only): a second process with the same ``DIR`` measures a first call whose
programs were compiled by an earlier session. Every tool gets the same rule
(:mod:`benchmarks.rule`); ``run.py`` calls :func:`measure` beside each headline fit.

The other scripts (``batched``, ``enet_path``, ``wide``, ``multinomial``) call
:func:`measure_script`: their arrays are saved to a temporary ``.npz`` file, and the fresh
process loads them and imports the script (outside the timer), then calls the script's
``first_call(tool, data, options)`` inside it. The script must not have imported any
library a tool uses (:data:`LIBRARIES`) by then: the child refuses to time a first call
whose library is already loaded.

Usage (prints one JSON line ``{"seconds": ...}``)::

    python -m benchmarks.first_call --adapter benchmarks.adapters.jaxglm_adapter \\
        --problem poisson_well_n100000 --tol 1e-6
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Libraries whose import is part of a first call: none may be loaded when the timer starts.
LIBRARIES = ("jax", "jaxglm", "glmax", "glum", "sklearn", "statsmodels", "scipy", "joblib")


def measure(
    adapter_module: str, spec_name: str, tol: float | None, uses_jax: bool, timeout: float = 600
) -> tuple[float, float | None]:
    """``(first call, first call with a warm persistent cache)`` in fresh processes; the
    second is None for tools without JAX. The cached figure is the second of two processes
    sharing a new cache directory."""
    args = ["--adapter", adapter_module, "--problem", spec_name]
    return _fresh(args + ([] if tol is None else ["--tol", repr(tol)]), uses_jax, timeout)


def measure_script(
    script: str,
    tool: str,
    data: dict[str, object],
    options: dict[str, object],
    uses_jax: bool,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> tuple[float, float | None]:
    """As :func:`measure`, for ``script.first_call(tool, data, options)``: ``data`` (NumPy
    arrays by name) is saved to a temporary ``.npz`` file and loaded by the fresh process
    outside the timer; ``options`` (JSON) pass the tolerance and the like; ``env`` adds
    environment variables (a row's BLAS threads: a library loaded after a threadpoolctl
    limit is not limited by it, so a fresh process needs the variables)."""
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.npz"
        np.savez(path, **data)
        args = ["--script", script, "--tool", tool, "--data", str(path)]
        return _fresh([*args, "--options", json.dumps(options)], uses_jax, timeout, env)


def _fresh(
    args: list[str], uses_jax: bool, timeout: float, extra_env: dict[str, str] | None = None
) -> tuple[float, float | None]:
    """``(first, cached)`` seconds of ``python -m benchmarks.first_call *args``."""
    args = [sys.executable, "-m", "benchmarks.first_call", *args]
    env = dict(os.environ, JAX_ENABLE_X64="1", **(extra_env or {}))

    def run(extra: list[str]) -> float:
        out = subprocess.run(
            args + extra, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
            check=True,
        )  # fmt: skip
        return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])

    first = run([])
    if not uses_jax:
        return first, None
    with tempfile.TemporaryDirectory() as cache:
        run(["--cache", cache])
        return first, run(["--cache", cache])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_call", description=__doc__)
    parser.add_argument("--adapter", help="the adapter's module")
    parser.add_argument("--problem", help="a cached problem's name")
    parser.add_argument("--tol", type=float, default=None, help="the tolerance (default: None)")
    parser.add_argument("--script", help="a script with first_call(tool, data, options)")
    parser.add_argument("--tool", help="the tool's name in --script")
    parser.add_argument("--data", help="the .npz file of the script's arrays")
    parser.add_argument("--options", default="{}", help="the script's options (JSON)")
    parser.add_argument("--cache", help="JAX's persistent compilation cache directory")
    args = parser.parse_args(argv)
    if args.cache:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = args.cache
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

    import importlib

    if args.script:
        import numpy as np

        with np.load(args.data) as arrays:
            data = {name: arrays[name] for name in arrays.files}  # outside the timer
        script = importlib.import_module(args.script)
        loaded = [name for name in LIBRARIES if name in sys.modules]
        if loaded:
            parser.error(f"{args.script} imported {loaded}: not a first call")
        start = time.perf_counter()
        script.first_call(args.tool, data, json.loads(args.options))
        print(json.dumps({"seconds": time.perf_counter() - start}))
        return

    from benchmarks.problems import load_problem, problem_specs

    specs = [s for q in (True, False) for s in problem_specs(q) if s.name == args.problem]
    if not specs:
        parser.error(f"unknown problem {args.problem!r}")
    problem = load_problem(specs[0])  # outside the timer
    start = time.perf_counter()
    adapter = importlib.import_module(args.adapter)
    if not adapter.available():
        parser.error(f"{args.adapter} is not available")
    adapter.fit(adapter.prepare(problem), args.tol)
    print(json.dumps({"seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
