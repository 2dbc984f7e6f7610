"""Interleaved timing of a few tools on one problem: ``python -m benchmarks.interleaved``.

On a shared machine another job's load moves single runs by tens of percent, and
:mod:`benchmarks.run` times each tool's runs back to back, so the load of one minute lands
on one tool. Here the tools take turns, round after round, at one fixed tolerance each
(calibrated first by :mod:`benchmarks.run`'s own rule), and each
tool's fastest round is kept: ratios within a problem are then robust to slow drifts of
the load. Prints one Markdown table per problem.

Example:
    python -m benchmarks.interleaved --problem well --only jaxglm --only "sklearn lbfgs"
"""

from __future__ import annotations

import argparse
import time
import warnings

import jax

from benchmarks.adapters import all_adapters
from benchmarks.machine import describe_machine
from benchmarks.problems import load_problem, problem_specs
from benchmarks.reference import accuracy, reference_solution
from benchmarks.run import TARGETS, _calibrate


def main(argv: list[str] | None = None) -> None:
    """Calibrate each tool's tolerance, then time the tools in turn for ``--rounds`` rounds."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interleaved")
    parser.add_argument("--quick", action="store_true", help="n = 100,000")
    parser.add_argument("--problem", default="", help="problems whose name contains this")
    parser.add_argument("--only", action="append", default=[], help="tools containing this")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=120.0, help="calibration seconds")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    tools = [a for a in all_adapters() if a.available() and any(s in a.NAME for s in args.only)]
    print("\n".join(describe_machine()))
    for spec in problem_specs(args.quick):
        if args.problem not in spec.name:
            continue
        problem = load_problem(spec)
        ref = reference_solution(problem)
        runs = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for tool in tools:
                data = tool.prepare(problem)
                tol, _, out, _, _ = _calibrate(tool, data, ref, TARGETS[tool.DTYPE], args.budget)
                acc = accuracy(ref, out.coef, out.intercept)
                runs[tool.NAME] = (tool, data, tol, acc, out.n_iter, [])
            for _ in range(args.rounds):
                for tool, data, tol, _, _, times in runs.values():
                    start = time.perf_counter()
                    tool.fit(data, tol)
                    times.append(time.perf_counter() - start)
        best = min(min(r[5]) for r in runs.values() if "jaxglm" not in r[0].NAME)
        print(f"\n### {spec.name} ({args.rounds} interleaved rounds, fastest kept)\n")
        print("| tool | tol | fit (s) | x fastest peer | accuracy (SE) | iterations |")
        print("|---|---|---:|---:|---:|---:|")
        for name, (_, _, tol, acc, n_iter, times) in runs.items():
            t = min(times)
            print(f"| {name} | {tol} | {t:.3g} | {t / best:.2f} | {acc:.1e} | {n_iter} |")


if __name__ == "__main__":
    main()
