"""Two local processes joined by jax.distributed (gloo), started by the launcher.

Both processes get the single-process answer (sharded over the processes, and streamed
with each process reading its own chunks), to 1e-12; a process killed mid-fit makes the
launcher stop the other and exit with an error naming it, within its timeout.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "tests" / "scripts" / "two_processes.py"


def launch(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "XLA_FLAGS")}
    if "xla_backend_optimization_level=0" in os.environ.get("XLA_FLAGS", ""):  # conftest's
        env["XLA_FLAGS"] = "--xla_backend_optimization_level=0"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "jaxglm.distributed.launch", "--nproc", "2"]
    return subprocess.run(
        [*command, "--timeout", str(timeout), str(SCRIPT), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout + 30,
    )  # fmt: skip


def test_two_processes_get_the_single_process_answer():
    done = launch(timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(s) for s in done.stdout.splitlines() if s.startswith("{")]
    assert sorted(line["rank"] for line in lines) == [0, 1]
    for line in lines:
        assert line["status"] == [0, 0]
        for check in ("sharded", "streamed", "path", "fit_many"):
            assert line[check] <= 1e-12, (check, line)


def test_a_process_killed_mid_fit_is_reported_within_the_timeout():
    """The launcher names the killed process (not a timeout: its message would name the
    processes still running), and returns: the subprocess has a timeout of its own."""
    done = launch("die", timeout=240)
    assert done.returncode == 1
    assert "process 1 of 2 was killed by SIGKILL" in done.stderr, done.stderr[-2000:]
    assert "timeout" not in done.stderr.split("jaxglm.distributed.launch:")[-1]
