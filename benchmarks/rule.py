"""The one rule every tool in every benchmark follows, jaxglm included.

- **Tolerance ladder.** Each library is run with its own tolerance parameter (they stop on
  different quantities: a gradient, a deviance change, a Newton decrement), starting
  :data:`LOOSER` times looser than that library's default and tightening in half-decade
  steps (:func:`ladder`). The loosest rung that meets the accuracy target is kept; none is
  skipped or added for one tool.
- **Repeats.** After the calibration run (which is also the warm-up), every tool of a table
  is timed the same number of times and the same statistic is reported (``run.py``: the
  median of ``--repeats``); compile time (JAX tools) is reported beside it.
- **Load.** The one-minute load average is recorded before and after each table; a table
  whose load exceeds :data:`LOAD_LIMIT` per core is marked as loaded (:func:`load_note`),
  since OpenBLAS-based peers slow far more under contention than XLA does.

Example:
    >>> from benchmarks.rule import ladder
    >>> ladder(1e-4, decades=2)   # scikit-learn's default tol: 1e-2 down to 1e-4
    (0.01, 0.00316, 0.001, 0.000316, 0.0001)
"""

from __future__ import annotations

import math
import os

LOOSER = 100.0
"""A ladder starts this many times looser than the library's default tolerance."""

STEPS_PER_DECADE = 2
"""Half-decade steps."""

DECADES = 6.0
"""How far below its first rung a ladder goes (default: 4 decades tighter than the
library's default)."""

LOAD_LIMIT = 0.5
"""One-minute load average per core above which a table is marked as loaded."""


def ladder(default: float, decades: float = DECADES) -> tuple[float, ...]:
    """The tolerances to try for a library whose default tolerance is ``default``:
    ``LOOSER * default`` first, then half-decade steps down, ``decades`` decades in all
    (three significant digits, so that the default itself is a rung)."""
    start = math.log10(LOOSER * default)
    n = round(decades * STEPS_PER_DECADE)
    return tuple(float(f"{10 ** (start - k / STEPS_PER_DECADE):.3g}") for k in range(n + 1))


def load_per_core() -> float:
    """The one-minute load average divided by the number of cores."""
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def load_note(before: float, after: float) -> str:
    """A line for a table: the load per core before and after, and whether it was loaded."""
    loaded = max(before, after) > LOAD_LIMIT
    mark = f"LOADED (above {LOAD_LIMIT} per core): ratios less reliable" if loaded else "quiet"
    return f"load average per core: {before:.2f} before, {after:.2f} after: {mark}"
