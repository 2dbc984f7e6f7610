"""SubsampledNewton by its start and tolerance: ``python -m benchmarks.subsampled_start``.

Issue 19, target 1: the default fit at n = 10^6, p = 100 is 4-5 subsampled Newton
iterations (two passes over ``X`` each) after a start on a row subsample. For each
benchmark problem (``--problem``: a part of its name; the quick size with ``--quick``) and
each variant of :class:`jaxglm.SubsampledNewton` (``start_rows`` and ``hessian_rows`` as
multiples of ``p + 1``, and ``tol``), one float64 ``jaxglm.fit`` with ``cov_type="none"``:
its iterations over all rows, its accuracy (max ``|params - ref| / SE(ref)``, the reference
of :mod:`benchmarks.reference`) and its time, every variant once per round for
``--rounds`` interleaved rounds (median; compile apart). The load is printed before and
after each table.

Example:
    python -m benchmarks.subsampled_start --quick --problem well --rounds 3 --cores 0,1
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

from benchmarks.machine import describe_machine
from benchmarks.problems import load_problem, problem_specs
from benchmarks.reference import accuracy, reference_solution
from benchmarks.rule import load_note, load_per_core, parse_pinned

VARIANTS = (
    # (start_rows / (p+1), hessian_rows / (p+1) or None for the default, tol)
    (50, None, 1e-6),
    (100, None, 1e-6),
    (200, None, 1e-6),
    (400, None, 1e-6),
    (50, None, 3.16e-6),
    (50, None, 1e-5),
    (200, None, 3.16e-6),
)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.subsampled_start")
    parser.add_argument("--quick", action="store_true", help="n = 100,000")
    parser.add_argument("--problem", default="well", help="problems whose name contains this")
    parser.add_argument("--rounds", type=int, default=3)
    args = parse_pinned(parser, argv)
    import jax

    import jaxglm
    from benchmarks.adapters.jaxglm_adapter import model

    jax.config.update("jax_enable_x64", True)
    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.subsampled_start', *argv])}`\n")
    print("\n".join(describe_machine()) + "\n")
    for spec in problem_specs(args.quick):
        if args.problem not in spec.name:
            continue
        problem = load_problem(spec)
        ref = reference_solution(problem)
        family, link = model(problem)
        X, y = jax.device_put(problem.X), jax.device_put(problem.y)
        k = X.shape[1] + 1

        def run(start, hessian, tol, X=X, y=y, family=family, link=link, k=k):
            solver = jaxglm.SubsampledNewton(
                start_rows=start * k, hessian_rows=None if hessian is None else hessian * k
            )
            res = jaxglm.fit(X, y, family, link, solver=solver, tol=tol, cov_type="none")
            return jax.block_until_ready((res.params, res.n_iter))

        outputs, compile_s = {}, {}
        for variant in VARIANTS:
            begin = time.perf_counter()
            params, n_iter = run(*variant)
            compile_s[variant] = time.perf_counter() - begin
            outputs[variant] = (int(n_iter), accuracy(ref, np.asarray(params[1:]), params[0]))
        before = load_per_core()
        times: dict[tuple, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant in VARIANTS:
                begin = time.perf_counter()
                run(*variant)
                times[variant].append(time.perf_counter() - begin)
        print(f"### {spec.name}\n\n{load_note(before, load_per_core())}\n")
        print("| start_rows | hessian_rows | tol | iterations | accuracy (SE) | fit (s) "
              "| compile (s) |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for variant, values in times.items():
            start, hessian, tol = variant
            median = float(np.median(values))
            n_iter, acc = outputs[variant]
            rows = "default" if hessian is None else f"{hessian} (p+1)"
            print(f"| {start} (p+1) | {rows} | {tol:g} | {n_iter} | {acc:.1e} | {median:.3g} "
                  f"| {max(compile_s[variant] - median, 0):.2g} |")  # fmt: skip
        print()


if __name__ == "__main__":
    main()
