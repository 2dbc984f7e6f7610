"""Start N processes of one script on this machine, joined by JAX's distributed runtime.

Usage::

    python -m jaxglm.distributed.launch --nproc 2 [--timeout 600] script.py [args...]

Each process runs ``python script.py args...`` with ``JAXGLM_COORDINATOR`` (process 0's
coordinator on ``127.0.0.1`` and a free port: never another host), ``JAXGLM_NUM_PROCESSES``
and ``JAXGLM_PROCESS_ID`` set, which :func:`jaxglm.distributed.initialize` reads.

The launcher never hangs. When a process exits with an error or a signal, the others are
killed and the launcher exits with an error naming the process that failed; where several
are seen failed at once, one killed by a signal is named before one that exited with an
error, before a SIGABRT (JAX aborts a process whose peer is gone, and a collective raises
an error there: those are the survivors, listed beside it). When ``--timeout`` seconds
pass, every process is killed and the error names those still running (a process that
never joined waits in ``jax.distributed.initialize``, its peers in their first
collective). Exit status 0 when every process exited with 0, else 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from jaxglm.distributed._runtime import COORDINATOR_ENV, NUM_PROCESSES_ENV, PROCESS_ID_ENV

_POLL_SECONDS = 0.1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def launch(nproc: int, command: list[str], timeout: float) -> int:
    """Run ``command`` in ``nproc`` processes (module docs); return the exit status.

    Args:
        nproc: the number of processes (>= 1).
        command: the script and its arguments (run with this Python).
        timeout: seconds before every process still running is stopped.

    Returns:
        0 when every process exited with status 0, else 1 (the reason on stderr).

    Example:
        >>> launch(2, ["-c", "print('hello')"], timeout=60)   # doctest: +SKIP
        0
    """
    address = f"127.0.0.1:{_free_port()}"
    procs = []
    for rank in range(nproc):
        env = dict(
            os.environ,
            **{COORDINATOR_ENV: address, NUM_PROCESSES_ENV: str(nproc), PROCESS_ID_ENV: str(rank)},
        )
        procs.append(subprocess.Popen([sys.executable, *command], env=env))
    deadline = time.monotonic() + timeout
    failed = None
    while True:
        codes = [p.poll() for p in procs]
        failed = _first_failure(codes)
        if failed is not None or all(c == 0 for c in codes):
            break
        if time.monotonic() > deadline:
            running = [i for i, c in enumerate(codes) if c is None]
            _stop(procs)
            print(
                f"jaxglm.distributed.launch: timeout after {timeout:g} s; process(es) "
                f"{running} of {nproc} still running (a process that never joined "
                "jax.distributed.initialize, or a collective waiting for one that died "
                "without exiting); all stopped",
                file=sys.stderr,
            )
            return 1
        time.sleep(_POLL_SECONDS)
    if failed is None:
        return 0
    others = [
        f"process {i} {_describe(c)}"
        for i, c in enumerate(codes)
        if c not in (None, 0) and i != failed
    ]
    _stop(procs)
    also = f" (seen at the same time: {'; '.join(others)})" if others else ""
    print(
        f"jaxglm.distributed.launch: process {failed} of {nproc} {_describe(codes[failed])}"
        f"{also}; the other processes were stopped (JAX aborts a process whose peer is gone)",
        file=sys.stderr,
    )
    return 1


def _first_failure(codes: list[int | None]) -> int | None:
    """The process to name when some have failed: one killed by a signal other than
    SIGABRT (JAX's abort of a process whose peer is gone) before one that exited with an
    error (a collective's error when its peer is gone), before an abort."""
    failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
    if not failed:
        return None

    def rank(i):
        code = codes[i]
        return 2 if code == -signal.SIGABRT else (0 if code < 0 else 1)

    return min(failed, key=rank)


def _stop(procs: list[subprocess.Popen]) -> None:
    """Kill the processes still running (SIGKILL: JAX's runtime catches SIGTERM as a
    preemption notice, and a process stuck in a collective would not act on it)."""
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        p.wait()


def main(argv: list[str] | None = None) -> int:
    """The command line (module docs)."""
    parser = argparse.ArgumentParser(
        prog="python -m jaxglm.distributed.launch",
        description="Run a script in N local processes joined by jax.distributed.",
    )
    parser.add_argument("--nproc", type=int, required=True, help="number of processes")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before all are stopped (600)"
    )
    parser.add_argument("script", help="the Python script every process runs")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    ns = parser.parse_args(argv)
    if ns.nproc < 1:
        parser.error("--nproc must be >= 1")
    return launch(ns.nproc, [ns.script, *ns.args], ns.timeout)


if __name__ == "__main__":
    sys.exit(main())
