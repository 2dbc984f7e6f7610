"""Run the benchmarks: ``python -m benchmarks.run [--quick] [--only NAME] [--repeats N]``.

For each problem (:mod:`benchmarks.problems`) and each available tool
(:mod:`benchmarks.adapters`): calibrate the tolerance (the first of the adapter's ``TOLS``
whose fit reaches the accuracy target against the float64 reference; that fit is also the
warm-up), then time ``--repeats`` runs and keep the median. JAX tools also report compile
time: their first call minus a second identical one. The floor (:mod:`benchmarks.floor`)
is measured once per problem shape. A section is prepended to ``benchmarks/RESULTS.md`` and
``benchmarks/results.png`` is redrawn.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import pickle
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from benchmarks.adapters import Adapter, FitOutput, all_adapters
from benchmarks.first_call import measure as measure_first_call
from benchmarks.floor import Floor, measure_floors
from benchmarks.machine import describe_machine
from benchmarks.problems import Problem, ProblemSpec, load_problem, problem_specs
from benchmarks.reference import Reference, accuracy, reference_solution
from benchmarks.report import ProblemResult, Row, markdown_section, plot, prepend_section
from benchmarks.rule import add_first_call_option, load_note, load_per_core, parse_pinned

#: Accuracy targets, in standard errors of the reference, by dtype.
TARGETS = {"float64": 1e-3, "float32": 1e-2}


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, run every problem x tool, write RESULTS.md and the plot."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    # float64 rows need x64; the float32 adapter passes float32 arrays, which JAX keeps.
    jax.config.update("jax_enable_x64", True)
    selected = [a for a in all_adapters() if not args.only or any(s in a.NAME for s in args.only)]
    adapters = [a for a in selected if a.available()]
    missing = [a.NAME for a in selected if a not in adapters]
    _log(f"tools: {', '.join(a.NAME for a in adapters)}; unavailable: {missing or 'none'}")
    machine = describe_machine()  # before the run, so that the load average is the others'
    specs = [s for s in problem_specs(args.quick) if not args.problem or args.problem in s.name]
    if args.isolate and len(specs) > 1:
        results, loads = _isolated(argv, [spec.name for spec in specs])
    else:
        results, loads = _run(args, adapters, specs)
    if args.result_file:
        Path(args.result_file).write_bytes(pickle.dumps((results, loads)))
        return

    command = shlex.join(["python", "-m", "benchmarks.run", *argv])
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = _notes(args.repeats, missing) + loads
    prepend_section(markdown_section(command, when, machine, notes, results))
    plot(results, f"{command} ({when})")
    _log("wrote benchmarks/RESULTS.md and benchmarks/results.png")


def _isolated(argv: list[str], names: list[str]) -> tuple[list[ProblemResult], list[str]]:
    """Every problem of ``names`` run by a child process of its own (the same arguments,
    ``--problem NAME``), its results read back from a file (see the module's docs)."""
    results: list[ProblemResult] = []
    loads: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.pickle"
            _log(f"{name}: in a child process")
            cmd = [sys.executable, "-m", "benchmarks.run", *argv, "--problem", name]
            subprocess.run([*cmd, "--no-isolate", "--result-file", str(out)], check=True)
            got, got_loads = pickle.loads(out.read_bytes())
            results += got
            loads += got_loads
    return results, loads


def _run(
    args: argparse.Namespace, adapters: list[Adapter], specs: list[ProblemSpec]
) -> tuple[list[ProblemResult], list[str]]:
    """Every tool of ``adapters`` on every problem of ``specs``, in this process: the
    problems' results and their load lines."""
    results = []
    loads: list[str] = []
    floors: dict[tuple[int, int], dict[str, Floor]] = {}
    for spec in specs:
        _log(f"{spec.name}: loading (generated and cached on first use) and its reference")
        problem = load_problem(spec)
        ref = reference_solution(problem)
        if problem.X.shape not in floors:
            _log(f"floor on {problem.X.shape}")
            floors[problem.X.shape] = measure_floors(problem.X, max(args.repeats, 3))
        rows = []
        load_before = load_per_core()
        for adapter in adapters:
            row = _bench(adapter, problem, ref, args.repeats, args.budget)
            outcome = row.error or f"{row.fit_s:.3g} s, accuracy {row.accuracy:.1e} SE"
            _log(f"{problem.name}: {row.tool}: {outcome}")
            rows.append(row)
        result = _problem_result(problem, ref, floors[problem.X.shape], rows)
        # First calls run in fresh processes once this one has let go of the problem's
        # arrays: at n = 10^6 a statsmodels fit needs ~8 GB, and its first call as much again.
        del problem
        gc.collect()
        if args.first_call:
            rows = [
                row if row.error else _with_first_call(row, adapter, spec.name)
                for row, adapter in zip(rows, adapters, strict=True)
            ]
            result = dataclasses.replace(result, rows=rows)
        loads.append(f"- {spec.name}: {load_note(load_before, load_per_core())}")
        results.append(result)
    return results, loads


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="n = 100,000 instead of 1,000,000")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="tools whose name contains NAME"
    )
    parser.add_argument("--problem", metavar="NAME", help="problems whose name contains NAME")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per tool (median)")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="stop timing a tool on a problem once its timed runs exceed this many seconds",
    )
    parser.add_argument(
        "--isolate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="each problem in a child process of its own (default: on without --quick)",
    )
    parser.add_argument("--result-file", help=argparse.SUPPRESS)  # a child's results
    add_first_call_option(parser)
    args = parse_pinned(parser, argv)
    if args.isolate is None:
        args.isolate = not args.quick
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def _with_first_call(row: Row, adapter: Adapter, problem_name: str) -> Row:
    """``row`` with its tool's first call in fresh processes, at the calibrated tolerance
    (:mod:`benchmarks.first_call`; a failure leaves the columns empty and is logged)."""
    try:
        first, cached = measure_first_call(
            adapter.__name__, problem_name, row.tol, adapter.USES_JAX
        )
    except (subprocess.SubprocessError, ValueError) as e:
        _log(f"{problem_name}: {row.tool}: first call failed: {e}")
        return row
    _log(f"{problem_name}: {row.tool}: first call {first:.2f} s, cached {cached}")
    return dataclasses.replace(row, first_s=first, first_cached_s=cached)


def _bench(adapter: Adapter, problem: Problem, ref: Reference, repeats: int, budget: float) -> Row:
    """Calibrate the tolerance, then time up to ``repeats`` runs (see :func:`_calibrate`)."""
    target = TARGETS[adapter.DTYPE]
    on_accelerator = adapter.ON_JAX_DEVICE and jax.default_backend() != "cpu"
    tool = f"{adapter.NAME} [{jax.devices()[0].device_kind}]" if on_accelerator else adapter.NAME
    common = {"tool": tool, "peer": adapter.PEER, "dtype": adapter.DTYPE, "target": target}
    common["on_accelerator"] = on_accelerator
    tol = adapter.TOLS[0]
    try:
        data = adapter.prepare(problem)
        calibration = _calibrate(adapter, data, ref, target, budget)
        tol, seconds, out, caught, compile_s, budget_stopped = calibration
        times = [seconds]  # a fit that misses its target is timed once: by its calibration
        if accuracy(ref, out.coef, out.intercept) <= target:
            times = []
            while len(times) < repeats and sum(times) <= budget:
                seconds, out, caught = _timed(adapter, data, tol)
                times.append(seconds)
    except Exception as e:  # a failing tool is a row, not the end of the run
        message = f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
        return Row(
            settings=_settings(adapter, tol),
            tol=tol,
            fit_s=float("nan"),
            runs=0,
            compile_s=None,
            accuracy=float("nan"),
            n_iter=0,
            error=message,
            **common,
        )
    return Row(
        settings=_settings(adapter, tol),
        tol=tol,
        fit_s=float(np.median(times)),
        runs=len(times),
        compile_s=compile_s,
        accuracy=accuracy(ref, out.coef, out.intercept),
        n_iter=out.n_iter,
        solver=out.solver,
        covariance=out.covariance,
        warnings=caught,
        budget_stopped=budget_stopped,
        **common,
    )


class Calibration(NamedTuple):
    """What :func:`_calibrate` found.

    Attributes:
        tol: the tolerance kept.
        seconds: wall time of its fit (compile excluded).
        out: that fit's output.
        warnings: that fit's distinct warnings.
        compile_s: the compile time (None for non-JAX tools).
        budget_stopped: whether ``--budget`` ended the ladder before a rung met the target
            and before its tightest rung (a tighter rung might have met it).
    """

    tol: float | None
    seconds: float
    out: FitOutput
    warnings: tuple[str, ...]
    compile_s: float | None
    budget_stopped: bool


def _calibrate(
    adapter: Adapter, data: Any, ref: Reference, target: float, budget: float
) -> Calibration:
    """Fit at ``adapter.TOLS`` in turn until one meets ``target``; the last fit is the warm-up.

    Tightening also stops when the calibration fits add up to more than ``budget`` seconds
    (not when a fit takes as many iterations as the one before: with half-decade rungs a
    Newton iteration often spans several of them). JAX tools are called twice at the first
    tolerance: compile time = first call - second call.

    Returns:
        The :class:`Calibration`.
    """
    compile_s = None
    spent = 0.0
    budget_stopped = False
    for rung, tol in enumerate(adapter.TOLS):
        seconds, out, caught = _timed(adapter, data, tol)
        spent += seconds
        if compile_s is None and adapter.USES_JAX:
            first = seconds
            seconds, out, caught = _timed(adapter, data, tol)
            compile_s = max(first - seconds, 0.0)
        met = accuracy(ref, out.coef, out.intercept) <= target
        if met or spent > budget:
            budget_stopped = not met and rung < len(adapter.TOLS) - 1
            break
    return Calibration(tol, seconds, out, caught, compile_s, budget_stopped)


def _timed(
    adapter: Adapter, data: Any, tol: float | None
) -> tuple[float, FitOutput, tuple[str, ...]]:
    """Wall time, output and warnings of one ``adapter.fit`` (which blocks on its result)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        out = adapter.fit(data, tol)
        seconds = time.perf_counter() - start
    messages = (f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught)
    return seconds, out, tuple(dict.fromkeys(messages))


def _settings(adapter: Adapter, tol: float | None) -> str:
    return f"{adapter.SETTINGS}; tol={'default' if tol is None else f'{tol:g}'}"


def _problem_result(
    problem: Problem, ref: Reference, floors: dict[str, Floor], rows: list[Row]
) -> ProblemResult:
    """Gather one problem's rows; a peer's floor counts the reference Newton's iterations."""
    floor_iter = (ref.n_iter, "the reference Newton's iterations")
    n, p = problem.X.shape
    return ProblemResult(
        name=problem.name,
        n=n,
        p=p,
        cond=problem.cond,
        ref_iter=ref.n_iter,
        floors=floors,
        xla_on_cpu=jax.default_backend() == "cpu",
        floor_iter=floor_iter,
        rows=rows,
    )


def _notes(repeats: int, missing: list[str]) -> list[str]:
    """The rules of the run, stated above its tables."""
    notes = [
        f"- fit (s): median of {repeats} timed runs after a warm-up (fewer runs are marked: "
        "the runs stop past --budget seconds, and a fit that misses its accuracy target is "
        "timed once); data conversion (intercept column, dtype, device transfer) is outside "
        "the timer.",
        "- accuracy: max abs(params - ref) / SE(ref) over the intercept and coefficients, ref = "
        "float64 NumPy Newton to 1e-10 SE, SE from the expected information. Targets: "
        f"{TARGETS['float64']:g} SE (float64), {TARGETS['float32']:g} SE (float32); each "
        "tool runs at the loosest of its tolerances that meets the target (else at the "
        "tightest, marked 'not met'; 'budget' when --budget ended its ladder before the "
        "tightest rung); every tool's ladder follows benchmarks.rule: from 100x "
        "looser than its library's default, in half-decade steps.",
        "- compile (s): JAX tools' first call minus a second identical call (a later problem "
        "of the same family and shape reuses the compiled program).",
        "- first call (s): every tool's first fit in a fresh process at the same tolerance, "
        "from before the library's import to the result (conversion, device transfer and "
        "compile included; benchmarks.first_call); 'cached': JAX tools with a persistent "
        "compilation cache filled by an earlier process; 'first x peer': over the fastest "
        "peer's first call.",
        "- x floor: fit time / floor. A jaxglm row's floor is the products over all rows its "
        "own solver needs with its own iterations (Newton: iterations x (Gram + X@b + v@X); "
        "SubsampledNewton: (iterations + 1) x (X@b + v@X) + a Gram on max(200 (p+1), n/10) rows "
        "+ one full Gram when it computes the covariance; benchmarks.floor.algorithm_seconds); "
        "a peer's is the Newton floor x the reference Newton's iterations. Products priced "
        "by the faster of NumPy and XLA for float64 on the CPU, XLA float32 for float32 rows, "
        "XLA on the device for rows on an accelerator.",
    ]
    if missing:
        notes.append(f"- not available (skipped): {', '.join(missing)}")
    return notes


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
