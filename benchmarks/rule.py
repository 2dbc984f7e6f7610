"""The one rule every tool in every benchmark follows, jaxglm included.

- **Tolerance ladder.** Each library is run with its own tolerance parameter (they stop on
  different quantities: a gradient, a deviance change, a Newton decrement), starting
  :data:`LOOSER` times looser than that library's default and tightening in half-decade
  steps (:func:`ladder`). The loosest rung that meets the accuracy target is kept
  (:func:`loosest`); none is skipped or added for one tool, and no tool is held to a
  tighter bar than the target.
- **Repeats.** After the calibration run (which is also the warm-up), every tool of a table
  is timed the same number of times and the same statistic is reported (``run.py``: the
  median of ``--repeats``); compile time (JAX tools) is reported beside it.
- **Load.** Before and after each table (:func:`load_per_core`) the one-minute load average
  is recorded, and so is the CPU time every process of the machine has used (``/proc/stat``)
  and this script's own (itself and the children it has waited for: first calls, isolated
  problems). A table during which the other processes used more than :data:`OTHERS_LIMIT`
  of each core is marked as loaded (:func:`load_note`), since OpenBLAS-based peers slow far
  more under contention than XLA does. (The load average alone cannot tell: a script's own
  two threads put it near 1 per core on a quiet 2-core machine.) Where ``/proc/stat`` is
  missing the load average decides, above :data:`LOAD_LIMIT` per core.
- **Pinning.** With ``--cores 0,1`` (every script, :func:`add_cores_option`, :func:`pin`)
  the script and every process it starts (first calls, joblib workers, children) run on
  those cores only (``os.sched_setaffinity``; XLA sizes its thread pool by them), with BLAS
  and OpenMP thread counts set to their number (:data:`THREAD_VARIABLES`, printed in the
  machine block): every tool gets the same cores and the same number of threads.
- **First calls.** Beside every headline time, each tool's first fit in a fresh process
  (import, conversion, compile and fit; :mod:`benchmarks.first_call`), and for JAX tools
  the same with JAX's persistent compilation cache filled by an earlier process.

Example:
    >>> from benchmarks.rule import ladder
    >>> ladder(1e-4, decades=2)   # scikit-learn's default tol: 1e-2 down to 1e-4
    (0.01, 0.00316, 0.001, 0.000316, 0.0001)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
Key = TypeVar("Key")

LOOSER = 100.0
"""A ladder starts this many times looser than the library's default tolerance."""

STEPS_PER_DECADE = 2
"""Half-decade steps."""

DECADES = 6.0
"""How far below its first rung a ladder goes (default: 4 decades tighter than the
library's default)."""

LOAD_LIMIT = 0.5
"""One-minute load average per core above which a table is marked as loaded, where the CPU
time of other processes cannot be read."""

OTHERS_LIMIT = 0.2
"""Share of each core used by other processes during a table above which it is marked as
loaded."""

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""BLAS/OpenMP thread counts that :func:`pin` sets to the number of pinned cores."""


def ladder(default: float, decades: float = DECADES) -> tuple[float, ...]:
    """The tolerances to try for a library whose default tolerance is ``default``:
    ``LOOSER * default`` first, then half-decade steps down, ``decades`` decades in all
    (three significant digits, so that the default itself is a rung)."""
    start = math.log10(LOOSER * default)
    n = round(decades * STEPS_PER_DECADE)
    return tuple(float(f"{10 ** (start - k / STEPS_PER_DECADE):.3g}") for k in range(n + 1))


def loosest(
    tols: Sequence[float], run: Callable[[float], T], error: Callable[[T], float], target: float
) -> tuple[float, T, float]:
    """``(tol, output, error)`` of the first (loosest) of ``tols`` whose ``run(tol)`` has
    ``error(output) <= target``, else of the last (tightest): the one acceptance of every
    calibrated tool (a tool's runs at the rungs it tries are the same fits it is timed on).

    Example:
        >>> loosest((1e-2, 1e-3, 1e-4), lambda tol: 5 * tol, lambda out: out, 1e-2)
        (0.001, 0.005, 0.005)
    """
    for tol in tols:
        out = run(tol)
        err = error(out)
        if err <= target:
            break
    return tol, out, err


@dataclasses.dataclass(frozen=True)
class Load:
    """One reading of the machine's load (:func:`load_per_core`).

    Attributes:
        average: the one-minute load average per core.
        busy: CPU seconds all processes have used since boot (``/proc/stat``; None where
            it cannot be read).
        own: CPU seconds of this process and of the children it has waited for.
        wall: a monotonic clock, seconds.
    """

    average: float
    busy: float | None
    own: float
    wall: float


def load_per_core() -> Load:
    """The machine's load now (see :class:`Load`), read before and after a table."""
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    own = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    cores = os.cpu_count() or 1
    return Load(os.getloadavg()[0] / cores, _busy_seconds(), own, time.monotonic())


def _busy_seconds() -> float | None:
    """CPU seconds used since boot by every process (user, nice, system, irq, softirq)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def others_per_core(before: Load, after: Load) -> float | None:
    """The share of each core that processes other than this script (and its waited-for
    children) used between two readings; None without ``/proc/stat``.

    Example:
        >>> share = others_per_core(Load(1.0, 10.0, 2.0, 0.0), Load(1.0, 16.0, 6.0, 10.0))
        >>> round(share * (os.cpu_count() or 1), 6)  # 6 s busy, 4 s of them ours, in 10 s
        0.2
    """
    if before.busy is None or after.busy is None or after.wall <= before.wall:
        return None
    others = (after.busy - before.busy) - (after.own - before.own)
    return max(others, 0.0) / ((after.wall - before.wall) * (os.cpu_count() or 1))


def load_note(before: Load, after: Load) -> str:
    """A line for a table: the other processes' share of each core during it, the load
    average per core before and after, and whether the table was loaded."""
    others = others_per_core(before, after)
    averages = f"load average per core {before.average:.2f} before, {after.average:.2f} after"
    if others is None:
        loaded = max(before.average, after.average) > LOAD_LIMIT
        limit = f"load average above {LOAD_LIMIT} per core"
        text = averages
    else:
        loaded = others > OTHERS_LIMIT
        limit = f"other processes above {OTHERS_LIMIT} of each core"
        text = f"other processes used {others:.2f} of each core ({averages}, ours included)"
    mark = f"LOADED ({limit}): ratios less reliable" if loaded else "quiet"
    return f"{text}: {mark}"


def interleaved_seconds(
    calls: dict[Key, Callable[[], object]], repeats: int
) -> tuple[dict[Key, list[float]], str]:
    """Every call of ``calls`` once per round, in turn, for ``repeats`` rounds (so that a
    change of the machine's load falls on all alike): the seconds of each call, its JAX
    results waited for, and the :func:`load_note` of the rounds."""
    import jax

    before = load_per_core()
    times: dict[Key, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            jax.block_until_ready(call())
            times[name].append(time.perf_counter() - start)
    return times, load_note(before, load_per_core())


def add_cores_option(parser: argparse.ArgumentParser) -> None:
    """The ``--cores`` option every benchmark script offers (see :func:`pin`)."""
    parser.add_argument(
        "--cores",
        type=lambda text: tuple(int(c) for c in text.split(",")),
        metavar="0,1",
        help="pin the script and every process it starts to these cores (benchmarks.rule.pin)",
    )


def parse_pinned(
    parser: argparse.ArgumentParser, argv: list[str] | None = None
) -> argparse.Namespace:
    """A script's arguments (``argv``, default ``sys.argv[1:]``) with ``--cores`` added
    (:func:`add_cores_option`), the process pinned to those cores (:func:`pin`)."""
    add_cores_option(parser)
    args = parser.parse_args(argv)
    pin(args.cores)
    return args


def add_first_call_option(parser: argparse.ArgumentParser) -> None:
    """``--no-first-call`` (``args.first_call`` False): skip the fresh-process first calls
    (:mod:`benchmarks.first_call`) that the scripts time beside their headline fits."""
    parser.add_argument(
        "--no-first-call", dest="first_call", action="store_false",
        help="skip the fresh-process first calls (benchmarks.first_call)",
    )  # fmt: skip


def pin(cores: tuple[int, ...] | None) -> None:
    """Pin this process, and every process it starts, to ``cores`` (nothing if None).

    ``os.sched_setaffinity`` (inherited by child processes and joblib's workers; XLA sizes
    its CPU thread pool by the cores it may run on, so JAX needs nothing more), the BLAS and
    OpenMP thread variables (:data:`THREAD_VARIABLES`) set to ``len(cores)`` for the
    processes started from here, and this process's already loaded BLAS limited to as many
    threads (threadpoolctl). Call it before JAX's first computation (its backend reads the
    affinity when it starts).
    """
    if cores is None:
        return
    os.sched_setaffinity(0, cores)
    threads = str(len(cores))
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, threads))
    from threadpoolctl import threadpool_limits

    threadpool_limits(len(cores))
