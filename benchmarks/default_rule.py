"""The default solver by size and conditioning: jaxglm's default ``fit`` and scikit-learn.

One Markdown table (paste it into RESULTS.md), logistic, float64, ``n`` rows and ``p``
columns (every pair of ``--ns`` and ``--ps``), on the well- and the ill-conditioned design
of :mod:`benchmarks.problems` (i.i.d. normal columns; ``X = Z A`` with cond(A) = 1e3). Per
row:

- **reference**: :mod:`benchmarks.reference` (a NumPy Newton, computed by neither tool,
  cached beside the problem in ``benchmarks/_cache/``); the error is
  ``max |params - ref| / SE`` and the target :data:`TARGET` SE. Where it is not cached yet,
  its Newton starts from jaxglm's default fit at the default ``tol = 1e-8`` (one fit more
  than the table shows; at p = 5,000 each Newton iteration costs a 2.5e12 multiply-add
  Gram) and stops on its own certificate, a Newton step below 1e-10 of its standard
  errors, whatever the start.
- **jaxglm default**: ``jaxglm.fit(X, y, Bernoulli(), cov_type="none", tol=...)`` with
  ``solver=None`` (:func:`jaxglm.solvers.default_solver`), over its tolerance ladder
  (:mod:`benchmarks.rule`: 100x looser than the default ``tol = 1e-8``, half-decades),
  the loosest rung that meets the target kept; its first call (compile + fit) beside the
  warm second call; then the same fit with standard errors (``cov_type="nonrobust"``) at
  that rung. Above ``p = 2,000`` the default gives no standard errors (its ``bse`` are
  NaN: ``jaxglm.solvers.optax.INFORMATION_MAX_P``): the cell says so.
- **scikit-learn lbfgs**: ``LogisticRegression(C=inf, solver="lbfgs", max_iter=1000)``
  (as ``benchmarks/adapters/sklearn_lbfgs.py``) over its ladder (from 100x looser than
  its default ``tol = 1e-4``), the loosest rung meeting the target kept. Its tightest rung
  runs first: if that does not meet the target (it stalls at ``max_iter``), no rung is
  tried and the row says "not reached" (``--sklearn-max-p-ill``: not run on the
  ill-conditioned designs above that ``p``, where one run of ``max_iter`` iterations
  takes minutes).
- **the other solvers**: those of ``Newton()``, ``SubsampledNewton()`` and ``Optax()``
  the rule does not pick, each over the same ladder as the default (the loosest rung
  within the target, or "not reached"), ``cov_type="none"``, for the
  crossover; the Newton-type ones are not run above ``--newton-max-p`` (tens of seconds
  per fit there).

Once every tool is calibrated (its calibration runs are the warm-up), the calibrated fits
(the default without and with standard errors, scikit-learn, the other solvers) are timed
in ``--repeats`` interleaved rounds (:func:`benchmarks.rule.interleaved_seconds`), and
each cell is a median; the default's first call (its first rung's fit: compile included
unless an earlier row of the same shape compiled it) is its own column. The load is
recorded before and after the table. One copy of the design is held in memory (JAX's;
NumPy and scikit-learn read it through a view): 4 GB at n = 100,000, p = 5,000, twice
that while it is copied in.

Usage::

    python -m benchmarks.default_rule                       # n = 100,000, p = 100 ... 2,000
    python -m benchmarks.default_rule --ns 10000,1000000 --ps 100
    python -m benchmarks.default_rule --ps 5000 --conditionings well --newton-max-p 0
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.rule import (
    interleaved_seconds,
    ladder,
    load_note,
    load_per_core,
    loosest,
    parse_pinned,
)

TARGET = 1e-3
"""Accuracy target: max error of the parameters in standard errors of the reference."""

JAXGLM_TOLS = ladder(1e-8)  # the default tol of Newton, SubsampledNewton and Optax
SKLEARN_TOLS = ladder(1e-4)  # scikit-learn's default tol
SKLEARN_MAX_ITER = 1000  # benchmarks/adapters/sklearn_lbfgs.py


def _fit(X, y, solver, tol, cov_type) -> object:
    """One ``jaxglm.fit`` (logistic), its warnings silenced, waited for."""
    import jax

    import jaxglm as jg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = jg.fit(X, y, jg.Bernoulli(), solver=solver, tol=tol, cov_type=cov_type)
        return jax.block_until_ready(res)


def _sklearn(X: np.ndarray, y: np.ndarray, tol: float) -> tuple[np.ndarray, int, float]:
    """``(params, n_iter, seconds)`` of scikit-learn's unpenalized lbfgs fit."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=np.inf, solver="lbfgs", tol=tol, max_iter=SKLEARN_MAX_ITER)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - t0
    return np.concatenate([model.intercept_, model.coef_[0]]), int(model.n_iter_[0]), seconds


def _seconds(t: float) -> str:
    """A time in seconds, three decimals below one second."""
    return f"{t:.3f}" if t < 1 else f"{t:.2f}"


def _loosest(X, y, solver, error: Callable[[object], float]) -> tuple | None:
    """``(tol, first call s, iterations, error)`` of ``solver`` (None: the default) at the
    loosest rung of :data:`JAXGLM_TOLS` within :data:`TARGET` (the first call: the first
    rung's fit, compile included; ``error`` of the params); None if no rung is."""
    seconds = []

    def run(tol: float) -> object:
        start = time.perf_counter()
        res = _fit(X, y, solver, tol, "none")
        seconds.append(time.perf_counter() - start)
        return res

    tol, res, err = loosest(JAXGLM_TOLS, run, lambda res: error(res.params), TARGET)
    return (tol, seconds[0], int(res.n_iter), err) if err <= TARGET else None


def _other_solvers(n: int, p: int, default_name: str, newton_max_p: int) -> list:
    """The solvers the rule could have picked instead of ``default_name``."""
    import jaxglm as jg

    candidates = [jg.Newton(), jg.SubsampledNewton(), jg.Optax()]
    return [
        s
        for s in candidates
        if s.name != default_name and (s.name.startswith("Optax") or p <= newton_max_p)
    ]


def row(
    n: int,
    p: int,
    conditioning: str,
    newton_max_p: int,
    sklearn: bool,
    repeats: int,
    log: Callable[[str], None],
) -> str:
    """One Markdown table row: every tool calibrated on its ladder, then the calibrated
    fits timed in ``repeats`` interleaved rounds (medians)."""
    import jax

    import jaxglm as jg
    from benchmarks.problems import ProblemSpec, load_problem
    from benchmarks.reference import reference_solution

    log(f"n={n} p={p} {conditioning}: problem and reference")
    problem = load_problem(ProblemSpec("logistic", conditioning, n, p))
    # jax.device_put copies once (jnp.asarray held two copies beside NumPy's while it ran:
    # 12 GB at p = 5,000); then NumPy views of JAX's copies, so that one copy stays.
    X, y = jax.device_put(problem.X), jax.device_put(problem.y)
    problem = dataclasses.replace(problem, X=np.asarray(X), y=np.asarray(y))

    def start() -> np.ndarray:
        log("  the reference's start: jaxglm's default fit at tol=1e-8")
        params = np.asarray(_fit(X, y, None, None, "none").params)
        jax.clear_caches()  # so that the table's first call compiles, as without it
        return params

    ref = reference_solution(problem, start)

    def error(params) -> float:
        return float(np.max(np.abs(np.asarray(params, np.float64) - ref.params) / ref.bse))

    default = jg.solvers.default_solver(n, p)
    log(f"  jaxglm default ({default.name})")
    ours = _loosest(X, y, None, error)
    calls: dict[str, Callable[[], object]] = {}
    no_se = ""
    if ours:
        calls["default"] = functools.partial(_fit, X, y, None, ours[0], "none")
        calls["default, SEs"] = functools.partial(_fit, X, y, None, ours[0], "nonrobust")
        if np.all(np.isnan(np.asarray(calls["default, SEs"]().bse))):  # its first call
            no_se = " (no SEs: bse NaN above p = 2,000)"
    theirs = None
    if sklearn:
        log(f"  scikit-learn lbfgs tol={SKLEARN_TOLS[-1]:g} (the tightest rung)")
    if sklearn and error(_sklearn(problem.X, problem.y, SKLEARN_TOLS[-1])[0]) <= TARGET:
        for tol in SKLEARN_TOLS:
            log(f"  scikit-learn lbfgs tol={tol:g}")
            params, n_iter, _ = _sklearn(problem.X, problem.y, tol)
            if error(params) <= TARGET:
                theirs = (tol, n_iter)
                calls["sklearn"] = functools.partial(_sklearn, problem.X, problem.y, tol)
                break
    others = []
    for other in _other_solvers(n, p, default.name, newton_max_p):
        log(f"  other: {other.name}")
        found = _loosest(X, y, other, error)
        others.append((other.name, found))
        if found:
            calls[other.name] = functools.partial(_fit, X, y, other, found[0], "none")
    log(f"  {repeats} interleaved rounds: {', '.join(calls)}")
    times = {
        name: float(np.median(t)) for name, t in interleaved_seconds(calls, repeats)[0].items()
    }
    other_cells = [
        f"{name}: not reached by tol {JAXGLM_TOLS[-1]:g}"
        if found is None
        else f"{name}: {_seconds(times[name])} s, tol {found[0]:g}, {found[2]} it."
        for name, found in others
    ] or [f"Newton-type not run (p > {newton_max_p})"]
    if ours is None:
        ours_cells = "not reached | - | - | - | - | -"
    else:
        tol, first, n_iter, err = ours
        ours_cells = (
            f"{tol:g} | {n_iter} | {err:.0e} | {_seconds(first)} | {_seconds(times['default'])} "
            f"| {_seconds(times['default, SEs'])}{no_se}"
        )
    if not sklearn:
        theirs_cells, ratio = "not run | -", "-"
    elif theirs is None:
        theirs_cells = f"not reached ({SKLEARN_MAX_ITER} it.) | -"
        ratio = "-"
    else:
        theirs_cells = f"{theirs[0]:g}, {theirs[1]} it. | {_seconds(times['sklearn'])}"
        ratio = "-" if ours is None else f"{times['default'] / times['sklearn']:.2g}x"
    return (
        f"| {n:,} | {p:,} | {conditioning} ({problem.cond:.0e}) | {default.name} | {ours_cells} "
        f"| {theirs_cells} | {ratio} | {'; '.join(other_cells)} |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.default_rule", description=__doc__)
    parser.add_argument("--ns", default="100000", help="comma-separated n values")
    parser.add_argument("--ps", default="100,500,1000,2000", help="comma-separated p values")
    parser.add_argument("--conditionings", default="well,ill")
    parser.add_argument("--newton-max-p", type=int, default=500)
    parser.add_argument("--sklearn-max-p-ill", type=int, default=10**9)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timing rounds")
    args = parse_pinned(parser, sys.argv[1:] if argv is None else argv)
    import jax

    from benchmarks.machine import describe_machine

    jax.config.update("jax_enable_x64", True)  # the script's choice, before any array exists
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr, flush=True)

    command = shlex.join(
        ["python", "-m", "benchmarks.default_rule", *(sys.argv[1:] if argv is None else argv)]
    )
    load_before = load_per_core()
    lines = [
        f"## `{command}`",
        "",
        *describe_machine(),
        "",
        f"Logistic, float64, accuracy target {TARGET:g} SE of the reference; jaxglm "
        '`cov_type="none"` unless the column says SEs.',
        "",
        "| n | p | design (cond X) | default solver | jaxglm tol | it. | error (SE) "
        "| jaxglm first call (s) "
        "| jaxglm (s) | with SEs (s) | scikit-learn tol | scikit-learn (s) "
        "| jaxglm / scikit-learn | other solvers, loosest rung within the target |",
        "|---:|---:|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for n, p in itertools.product(
        (int(v) for v in args.ns.split(",")), [int(v) for v in args.ps.split(",")]
    ):
        for conditioning in args.conditionings.split(","):
            sklearn = conditioning == "well" or p <= args.sklearn_max_p_ill
            lines.append(row(n, p, conditioning, args.newton_max_p, sklearn, args.repeats, log))
            print(lines[-1], file=sys.stderr, flush=True)
    lines += ["", load_note(load_before, load_per_core())]
    lines.append(f"Total wall time: {time.perf_counter() - start:.0f} s.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
