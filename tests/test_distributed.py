"""Two local processes joined by jax.distributed (gloo), started by the launcher.

Both processes get the single-process answer (sharded over the processes, to 1e-12, and
streamed with each process reading its own chunks, to 1e-9: its Poisson start is the
chunks' mean count); a process killed mid-fit makes the launcher stop the other and exit
with an error naming it, within its timeout. One launch checks both (the kill comes after
the answers are printed): every launch starts JAX and compiles the fits in two processes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from jaxglm import paths

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "tests" / "scripts" / "two_processes.py"


def launch(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "XLA_FLAGS")}
    conftest_flags = ("--xla_backend_optimization_level=", "--xla_cpu_use_fusion_emitters=")
    kept = [f for f in os.environ.get("XLA_FLAGS", "").split() if f.startswith(conftest_flags)]
    if kept:  # conftest's compile-time flags, nothing else of the parent's XLA_FLAGS
        env["XLA_FLAGS"] = " ".join(kept)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "jaxglm.distributed.launch", "--nproc", "2"]
    return subprocess.run(
        [*command, "--timeout", str(timeout), str(SCRIPT), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout + 30,
    )  # fmt: skip


def test_two_processes_get_the_single_process_answer_and_a_killed_process_is_reported():
    """Both processes get the same results (``fit``, streamed, ``cv`` and its path of all
    the rows, ``bootstrap``), the one-process answer to 1e-12 (the stream to 1e-9); then
    process 1 is killed mid-fit and the launcher names it (not a timeout: its message would
    name the processes still running) and returns within its timeout (the subprocess has a
    timeout of its own)."""
    done = launch("die", timeout=240)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "process 1 of 2 was killed by SIGKILL" in done.stderr, done.stderr[-2000:]
    assert "timeout" not in done.stderr.split("jaxglm.distributed.launch:")[-1]
    lines = sorted(
        (json.loads(s) for s in done.stdout.splitlines() if s.startswith("{")),
        key=lambda line: line["rank"],
    )
    assert [line["rank"] for line in lines] == [0, 1]
    assert lines[0]["got"] == lines[1]["got"]
    diff = lines[0]["diff"] | lines[1]["diff"]
    assert sorted(diff) == ["bootstrap", "cv", "path", "sharded", "streamed"]
    for check, value in diff.items():
        # the stream starts Poisson from each process's chunks' mean counts, not all rows':
        # another start, the same stopping rule (tol 1e-10), so its own bound
        assert value <= (1e-9 if check == "streamed" else 1e-12), (check, value)
    for line in lines:
        assert line["status"] == [0, 0, 0]


def test_default_folds_are_drawn_over_the_callers_rows():
    """cv's folds of padded rows (process 0's 3 rows padded to 4, then process 1's 4): the
    labels of the unpadded rows, in their order; a padding row gets a label of the folds."""
    rows = np.array([0, 1, 2, 4, 5, 6, 7])
    drawn = paths._fold_labels(8, rows, 3, None, seed=5)
    np.testing.assert_array_equal(drawn[rows], paths.fold_ids(7, 3, 5))
    assert drawn[3] in drawn[rows]
    given = np.array([0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(paths._fold_labels(8, rows, 3, given, 0)[rows], given)
    np.testing.assert_array_equal(paths._fold_labels(7, None, 3, given, 0), given)
