"""The documentation's code runs: every docstring example (``--doctest-modules``) and every
complete ``python`` block of the README, in processes of their own with JAX's default
configuration (x64 off, what a new user gets; the test session enables x64).

The README's fragments (blocks whose first line is ``# a fragment: ...``, with names that
stand for the reader's data) are not run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _env():
    return {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}


def readme_blocks() -> list[str]:
    """The README's ``python`` blocks that are not fragments, in order."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [b for b in blocks if not b.startswith("# a fragment")]


def test_docstring_examples_run_and_print_what_they_show():
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules",
         "jaxglm"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert re.search(r"\b[4-9]\d passed\b", out.stdout), out.stdout[-500:]  # about 40


def test_readme_code_blocks_run():
    blocks = readme_blocks()
    assert len(blocks) >= 3
    script = "import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(blocks)
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], cwd=ROOT, env=_env(),
        capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    assert "Generalized Linear Model Results" in out.stdout  # the quick start's summary
    assert "Multinomial regression" in out.stdout


def test_demo_fits_its_three_models_near_the_truth():
    """``make demo``'s command (smaller n): three converged fits, every coefficient within
    5 standard errors of the value the data were drawn with."""
    env = dict(_env(), JAX_ENABLE_X64="1")
    code = "from jaxglm.cli import main; raise SystemExit(main(['demo', '--n', '4000']))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("== ") == 3 and "float64" in out.stdout
    rows = re.findall(r"^(Intercept|x\d)\s+(\S+)\s+(\S+)\s+(\S+)$", out.stdout, re.M)
    assert len(rows) == 15
    assert all(float(z) < 5.0 for *_, z in rows)
    assert out.stdout.count("iterations of Newton") == 3
