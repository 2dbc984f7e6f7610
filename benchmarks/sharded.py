"""Sharded and multi-process fits against one device: same answer, and their times (issue 17).

    python -m benchmarks.sharded [--n 400000] [--p 20]

Runs one Poisson fit (float64) of the same data (generated from a seed in each process)
three ways, each in fresh processes: one device; rows sharded over 4 host devices
(``--xla_force_host_platform_device_count=4``, :func:`jaxglm.shard_rows`); 2 processes
joined by ``jax.distributed`` on this machine (``python -m jaxglm.distributed.launch``),
each holding half the rows. Each reports the first call (compile included) and the best of
three further calls, and the largest difference of ``params`` from the one-device fit.
Prints one Markdown table. On a 2-core machine no speed-up is expected: the 4 host devices
and the 2 processes share the same 2 cores. Above the table: the machine block and the load
before and after (:mod:`benchmarks.rule`); ``--cores 0,1`` pins every process
(:func:`benchmarks.rule.pin`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np

from benchmarks.rule import add_cores_option, load_note, load_per_core, pin


def data(n: int, p: int):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p)) / np.sqrt(p)
    y = rng.poisson(np.exp(0.3 + X @ rng.normal(size=p))).astype(float)
    return X, y


def child(mode: str, n: int, p: int) -> None:
    """One way of fitting (in this process); prints a JSON line (process 0 only)."""
    import jax

    import jaxglm as jg

    if mode == "processes":
        jg.distributed.initialize()
    jax.config.update("jax_enable_x64", True)
    X, y = data(n, p)
    if mode == "processes":
        half = slice(0, n // 2) if jax.process_index() == 0 else slice(n // 2, n)
        X, y = X[half], y[half]

    def once():
        args = dict(X=X, y=y) if mode == "one" else jg.shard_rows(X, y)
        res = jg.fit(**args, family=jg.Poisson())
        return np.asarray(res.params)

    t = time.perf_counter()
    params = once()
    first = time.perf_counter() - t
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        once()
        runs.append(time.perf_counter() - t)
    if jax.process_index() == 0:
        out = dict(mode=mode, devices=jax.device_count(), processes=jax.process_count(),
                   first_s=first, best_s=min(runs), params=params.tolist())  # fmt: skip
        print(json.dumps(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    add_cores_option(parser)
    ns = parser.parse_args()
    if ns.child:
        child(ns.child, ns.n, ns.p)
        return
    pin(ns.cores)
    from benchmarks.machine import describe_machine

    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.sharded', *sys.argv[1:]])}`\n")
    print("\n".join(describe_machine()) + "\n")
    load_before = load_per_core()
    me = [sys.executable, "-m", "benchmarks.sharded", "--n", str(ns.n), "--p", str(ns.p)]
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    four = dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    commands = [
        ("one device", [*me, "--child", "one"], env),
        ("4 host devices", [*me, "--child", "devices"], four),
        ("2 processes", [sys.executable, "-m", "jaxglm.distributed.launch", "--nproc", "2",
                         "--timeout", "900", __file__, "--n", str(ns.n), "--p", str(ns.p),
                         "--child", "processes"], env),
    ]  # fmt: skip
    rows = []
    for label, command, environment in commands:
        out = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
        line = next(s for s in out.stdout.splitlines() if s.startswith("{"))
        rows.append((label, json.loads(line)))
    reference = np.asarray(rows[0][1]["params"])
    print(f"n = {ns.n:,}, p = {ns.p}, Poisson, float64")
    print(f"\n{load_note(load_before, load_per_core())}")
    print()
    print("| run | devices | processes | first call (s) | best of 3 (s) | max abs diff of params |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows:
        diff = float(np.max(np.abs(np.asarray(r["params"]) - reference)))
        print(
            f"| {label} | {r['devices']} | {r['processes']} | {r['first_s']:.2f} | "
            f"{r['best_s']:.2f} | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
