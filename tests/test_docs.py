"""The documentation's code runs: every docstring example (``--doctest-modules``), every
complete ``python`` block of the README and every ``python`` block of the pages in
``docs/``, in processes of their own with JAX's default configuration (x64 off, what a new
user gets; the test session enables x64), and the site builds (``mkdocs build --strict``).

The README's fragments (blocks whose first line is ``# a fragment: ...``, with names that
stand for the reader's data) are not run. A block of ``docs/`` that cannot run here (a GPU,
several processes, a cluster) follows the line ``<!-- skip: the reason -->`` and is
reported as skipped with that reason.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import jaxglm

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"(?:^<!-- skip: (.*?) -->\n)?^```python\n(.*?)^```", re.S | re.M)

# Runs each page's blocks in order in a namespace of its own, all pages in one process
# (pages that fit the same shapes share the compiled programs), each from JAX's default
# configuration (a page that turns x64 on leaves it on for none after it), and says how
# long each took.
_RUNNER = """
import json, sys, time
import jax
import matplotlib
matplotlib.use("Agg")
for name, code in json.load(sys.stdin):
    jax.config.update("jax_enable_x64", False)
    start = time.perf_counter()
    exec(compile(code, name, "exec"), {"__name__": "__main__"})
    print(f"== {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
"""


def _env():
    return {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}


def readme_blocks() -> list[str]:
    """The README's ``python`` blocks that are not fragments, in order."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [b for b in blocks if not b.startswith("# a fragment")]


def docs_blocks(path: Path) -> tuple[str, list[str]]:
    """A page's ``python`` blocks to run, as one script whose lines are at the page's line
    numbers (a traceback names the line of the page), and the reasons of the skipped ones."""
    text = path.read_text()
    lines = [""] * text.count("\n")
    reasons = []
    for match in _BLOCK.finditer(text):
        if match.group(1):
            reasons.append(match.group(1))
            continue
        first = text.count("\n", 0, match.start(2))
        block = match.group(2).splitlines()
        lines[first : first + len(block)] = block
    return "\n".join(lines), reasons


def docs_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_docstring_examples_run_and_print_what_they_show():
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules",
         "jaxglm"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    passed = re.search(r"\b(\d+) passed\b", out.stdout)
    assert passed and int(passed.group(1)) >= 80, out.stdout[-500:]  # 87 examples now


def test_readme_and_docs_code_blocks_run():
    blocks = readme_blocks()
    assert len(blocks) >= 3
    pages = [(str(p.relative_to(ROOT)), docs_blocks(p)[0]) for p in docs_pages()]
    ran = [name for name, code in pages if code.strip()]
    assert {"docs/tutorial.md", "docs/theory.md", "docs/coming-from.md"} <= set(ran)
    pages.append(("README.md", "\n".join(blocks)))
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER], input=json.dumps(pages), cwd=ROOT,
        env=_env(), capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stderr.count("== ") == len(pages), out.stderr[-2000:]
    assert "Generalized Linear Model Results" in out.stdout  # the quick start's summary
    assert "Multinomial regression" in out.stdout


@pytest.mark.parametrize(
    "page, reason",
    [(str(p.relative_to(ROOT)), r) for p in docs_pages() for r in docs_blocks(p)[1]],
)
def test_docs_blocks_that_cannot_run_here(page, reason):
    assert reason.strip(), f"a skipped block of {page} without a reason"
    pytest.skip(f"{page}: {reason}")


def test_docs_site_builds_with_warnings_as_errors(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (pip install 'jaxglm[docs]')")
    out = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    api = (tmp_path / "site" / "api" / "fit" / "index.html").read_text()
    assert "Fit a generalized linear model" in api and ":class:" not in api
    # Every public name of the package is in the reference (mkdocs' object inventory).
    inventory = (tmp_path / "site" / "objects.inv").read_bytes().split(b"\n", 4)[4]
    documented = {line.split()[0].rsplit(".", 1)[-1] for line in
                  zlib.decompress(inventory).decode().splitlines()}  # fmt: skip
    assert set(jaxglm.__all__) <= documented, set(jaxglm.__all__) - documented
    home = (tmp_path / "site" / "index.html").read_text()
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', home)  # offline: no CDN


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
