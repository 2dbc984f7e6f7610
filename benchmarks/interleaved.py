"""Interleaved timing of a few tools on one problem: ``python -m benchmarks.interleaved``.

On a shared machine another job's load moves single runs by tens of percent, and
:mod:`benchmarks.run` times each tool's runs back to back, so the load of one minute lands
on one tool. Here the tools take turns, round after round, at one fixed tolerance each
(calibrated first by :mod:`benchmarks.run`'s own rule), and each
tool's fastest round is kept: ratios within a problem are then robust to slow drifts of
the load. Beside each fit: the compile time (JAX tools: the calibration's first call minus
a second one) and every tool's first call in a fresh process, with and without JAX's
persistent compilation cache (:mod:`benchmarks.first_call`); the load before and after each
table (:mod:`benchmarks.rule`); ``--cores 0,1`` pins every tool. Prints one Markdown table
per problem.

Example:
    python -m benchmarks.interleaved --problem well --only jaxglm --only "sklearn lbfgs"
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

import jax

from benchmarks.adapters import all_adapters
from benchmarks.first_call import measure as measure_first_call
from benchmarks.machine import describe_machine
from benchmarks.problems import load_problem, problem_specs
from benchmarks.reference import accuracy, reference_solution
from benchmarks.rule import (
    add_first_call_option,
    load_note,
    load_per_core,
    parse_pinned,
)
from benchmarks.run import TARGETS, _calibrate


def main(argv: list[str] | None = None) -> None:
    """Calibrate each tool's tolerance, then time the tools in turn for ``--rounds`` rounds."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interleaved")
    parser.add_argument("--quick", action="store_true", help="n = 100,000")
    parser.add_argument("--problem", default="", help="problems whose name contains this")
    parser.add_argument(
        "--only", action="append", default=[], help="tools containing this (default: all)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=120.0, help="calibration seconds")
    add_first_call_option(parser)
    args = parse_pinned(parser, argv)
    jax.config.update("jax_enable_x64", True)
    tools = [
        a
        for a in all_adapters()
        if a.available() and (not args.only or any(s in a.NAME for s in args.only))
    ]
    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.interleaved', *argv])}`\n")
    print("\n".join(describe_machine()))
    for spec in problem_specs(args.quick):
        if args.problem not in spec.name:
            continue
        problem = load_problem(spec)
        ref = reference_solution(problem)
        load_before = load_per_core()
        runs = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for tool in tools:
                data = tool.prepare(problem)
                target = TARGETS[tool.DTYPE]
                tol, _, out, _, compile_s, _ = _calibrate(tool, data, ref, target, args.budget)
                acc = accuracy(ref, out.coef, out.intercept)
                runs[tool.NAME] = (tool, data, tol, acc, out.n_iter, compile_s, [])
            for _ in range(args.rounds):
                for tool, data, tol, *_, times in runs.values():
                    start = time.perf_counter()
                    tool.fit(data, tol)
                    times.append(time.perf_counter() - start)
        fresh = {}
        for name, (tool, _, tol, *_) in runs.items():
            if args.first_call:
                fresh[name] = measure_first_call(tool.__name__, spec.name, tol, tool.USES_JAX)
        note = load_note(load_before, load_per_core())
        peers = [(name, r[0].DTYPE, min(r[-1])) for name, r in runs.items() if r[0].PEER]
        best = {d: min(t for _, e, t in peers if e == d) for _, d, _ in peers}
        best_first = {
            d: min(
                (fresh[name][0] for name, e, _ in peers if e == d and name in fresh), default=None
            )
            for d in best
        }
        print(f"\n### {spec.name} ({args.rounds} interleaved rounds, fastest kept)\n")
        print(f"{note}; ratios: to the fastest peer of the row's dtype\n")
        print(
            "| tool | tol | fit (s) | compile (s) | x fastest peer | first call (s) | cached (s) "
            "| first x fastest peer's | accuracy (SE) | iterations |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, (tool, _, tol, acc, n_iter, compile_s, times) in runs.items():
            t = min(times)
            first, cached = fresh.get(name, (None, None))
            peer_first = best_first.get(tool.DTYPE)
            ratio = "-" if first is None or peer_first is None else f"{first / peer_first:.2f}"
            speed = f"{t / best[tool.DTYPE]:.2f}" if tool.DTYPE in best else "-"
            print(
                f"| {name} | {tol} | {t:.3g} | {_s(compile_s)} | {speed} | {_s(first)} "
                f"| {_s(cached)} | {ratio} | {acc:.1e} | {n_iter} |"
            )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


if __name__ == "__main__":
    main()
