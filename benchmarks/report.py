"""Markdown tables (``benchmarks/RESULTS.md``) and the plot (``benchmarks/results.png``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from benchmarks.floor import Floor, algorithm_seconds

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_PNG = Path(__file__).resolve().parent / "results.png"
HEADER = """# Benchmark results

Written by `python -m benchmarks.run` (see `benchmarks/README.md`). Newest run first; each
section starts with the exact command and the machine it ran on.
"""


@dataclass(frozen=True)
class Row:
    """One tool's result on one problem.

    Attributes:
        tool: label in the table (with the device for jaxglm on an accelerator).
        settings: the settings used, tolerance included.
        peer: whether the tool is a peer library (not jaxglm).
        dtype: ``"float64"`` or ``"float32"``.
        on_accelerator: whether it ran on a GPU/TPU (jaxglm there), else the CPU.
        fit_s: median wall time of the timed runs (NaN when the fit failed).
        runs: number of timed runs.
        compile_s: first call minus a second one, for JAX tools (None otherwise).
        accuracy: ``max |params - ref| / SE(ref)`` of the timed fit.
        target: accuracy the tool is held to.
        n_iter: iterations the tool reports.
        error: the exception message when a fit failed, else None.
        warnings: the distinct warnings of the timed fit (category: first line).
        solver: jaxglm's solver for jaxglm rows (sets the row's floor), else None.
        covariance: whether the fit computed the covariance.
        first_s: the tool's first fit in a fresh process, import and compile included
            (:mod:`benchmarks.first_call`); None when not measured.
        first_cached_s: the same with JAX's persistent compilation cache warm (JAX tools).
        tol: the tolerance the row ran at (None: the library's default).
        budget_stopped: whether ``--budget`` ended the tolerance ladder before a rung met
            the target and before its tightest rung.
    """

    tool: str
    settings: str
    peer: bool
    dtype: str
    on_accelerator: bool
    fit_s: float
    runs: int
    compile_s: float | None
    accuracy: float
    target: float
    n_iter: int
    error: str | None = None
    warnings: tuple[str, ...] = ()
    solver: str | None = None
    covariance: bool = False
    first_s: float | None = None
    first_cached_s: float | None = None
    tol: float | None = None
    budget_stopped: bool = False

    @property
    def ok(self) -> bool:
        """Whether the fit ran and met its accuracy target."""
        return self.error is None and self.accuracy <= self.target


@dataclass(frozen=True)
class ProblemResult:
    """Everything measured on one problem.

    Attributes:
        name: the problem's name.
        n, p, cond: its size and cond(X).
        ref_iter: Newton iterations of the float64 reference.
        floors: per-iteration floors (see :func:`benchmarks.floor.measure_floors`).
        xla_on_cpu: whether the XLA floors were measured on the CPU (else an accelerator).
        floor_iter: iterations the floor is multiplied by, and where they come from.
        rows: one per tool.
    """

    name: str
    n: int
    p: int
    cond: float
    ref_iter: int
    floors: dict[str, Floor]
    xla_on_cpu: bool
    floor_iter: tuple[int, str]
    rows: list[Row]


def floor_seconds(result: ProblemResult, row: Row) -> float:
    """The floor a row is compared with.

    A jaxglm row: the products its own algorithm needs, with its own iteration count
    (:func:`benchmarks.floor.algorithm_seconds`). A peer row: one Newton iteration's products
    x ``floor_iter``. A float64 row on the CPU is held to the faster of NumPy and XLA (when
    XLA runs on the CPU), a row on an accelerator to XLA there, a float32 row to XLA float32.
    """
    xla = result.floors[f"xla_{row.dtype}"]
    numpy_float64 = result.floors["numpy_float64"]
    if row.on_accelerator or row.dtype == "float32":
        candidates = [xla]
    elif result.xla_on_cpu:
        candidates = [numpy_float64, xla]
    else:
        candidates = [numpy_float64]
    if row.solver is None:
        return min(f.total for f in candidates) * result.floor_iter[0]
    return min(
        algorithm_seconds(f, row.solver, row.n_iter, result.n, result.p, row.covariance)
        for f in candidates
    )


def markdown_section(
    command: str,
    when: str,
    machine: list[str],
    notes: list[str],
    results: list[ProblemResult],
) -> str:
    """One run's section: command, machine, notes, then a table per problem."""
    lines = [f"## {when}", "", f"Command: `{command}`", "", *machine, "", *notes, ""]
    for result in results:
        lines += _problem_table(result)
    return "\n".join(lines)


def prepend_section(section: str, path: Path = RESULTS_MD) -> None:
    """Insert ``section`` above the older sections of ``path`` (created if absent)."""
    old = path.read_text() if path.exists() else HEADER
    head, sep, rest = old.partition("\n## ")
    path.write_text(f"{head.rstrip()}\n\n{section.rstrip()}\n" + (f"\n## {rest}" if sep else ""))


def plot(results: list[ProblemResult], title: str, path: Path = RESULTS_PNG) -> None:
    """Horizontal bars of fit time per tool (log scale), one panel per problem.

    The dashed line is the float64 floor x iterations; bars of fits that missed their
    accuracy target are hatched.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = 3
    nrows = math.ceil(len(results) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 3.2 * nrows), squeeze=False)
    for ax, result in zip(axes.flat, results, strict=False):
        rows = [r for r in result.rows if r.error is None]
        ax.barh(
            [r.tool for r in rows],
            [r.fit_s for r in rows],
            color=["tab:blue" if r.peer else "tab:orange" for r in rows],
            hatch=[None if r.ok else "//" for r in rows],
        )
        float64_rows = [r for r in rows if r.dtype == "float64"]
        if float64_rows:
            ax.axvline(floor_seconds(result, float64_rows[0]), color="k", ls="--", lw=1)
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set_title(f"{result.name} (cond {result.cond:.0f})", fontsize=10)
        ax.set_xlabel("fit time (s)")
    for ax in list(axes.flat)[len(results) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{title}\nfit time; dashed: float64 floor x jaxglm's iterations; "
        "hatched: accuracy target not met",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _problem_table(result: ProblemResult) -> list[str]:
    """The Markdown lines of one problem: a floor line, then the table."""
    f = result.floors
    k, source = result.floor_iter
    lines = [
        f"### {result.name}",
        "",
        f"n = {result.n:,}, p = {result.p}, cond(X) = {result.cond:.3g}; reference: NumPy "
        f"Newton, {result.ref_iter} iterations. Floor per iteration (Gram + X @ beta + v @ X, "
        "fastest of the repeats): "
        f"NumPy {_floor_text(f['numpy_float64'])}, XLA float64 {_floor_text(f['xla_float64'])}, "
        f"XLA float32 {_floor_text(f['xla_float32'])}; x {k} iterations ({source}).",
        "",
        "| tool | settings | fit (s) | compile (s) | x fastest peer | x floor "
        "| accuracy (SE) | iterations | first call (s) | first, cached (s) | first x peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result.rows:
        # ratios only to peers of the row's dtype (held to the same accuracy target)
        peers = [q for q in result.rows if q.peer and q.error is None and q.dtype == r.dtype]
        fastest = min((q.fit_s for q in peers if q.ok), default=None)
        if fastest is None:
            fastest = min((q.fit_s for q in peers), default=math.nan)
        first_peer = min((q.first_s for q in peers if q.ok and q.first_s), default=None)
        if first_peer is None:
            first_peer = min((q.first_s for q in peers if q.first_s), default=math.nan)
        if r.error is not None:
            lines.append(
                f"| {r.tool} | {r.settings} | - | - | - | - | failed: {r.error} | - | - | - | - |"
            )
            continue
        runs = "" if r.runs >= 3 else f" ({r.runs} run{'s' if r.runs > 1 else ''})"
        compile_s = "-" if r.compile_s is None else f"{r.compile_s:.2f}"
        mark = (
            ""
            if r.ok
            else f" (target {r.target:g} not met{'; budget' if r.budget_stopped else ''})"
        )
        first = "-" if r.first_s is None else f"{r.first_s:.2f}"
        cached = "-" if r.first_cached_s is None else f"{r.first_cached_s:.2f}"
        first_ratio = "-" if r.first_s is None else f"{r.first_s / first_peer:.2f}"
        lines.append(
            f"| {r.tool} | {r.settings} | {r.fit_s:.3g}{runs} | {compile_s} "
            f"| {r.fit_s / fastest:.2f} | {r.fit_s / floor_seconds(result, r):.2f} "
            f"| {r.accuracy:.1e}{mark} | {r.n_iter} | {first} | {cached} | {first_ratio} |"
        )
    lines.append("")
    notes = [f"- {r.tool}: {w}" for r in result.rows for w in r.warnings]
    return lines + (["Warnings of the timed fits:", "", *notes, ""] if notes else [])


def _floor_text(floor: Floor) -> str:
    """``total s (gram + matvec + vecmat)``."""
    return f"{floor.total:.3g} s ({floor.gram:.3g} + {floor.matvec:.2g} + {floor.vecmat:.2g})"
