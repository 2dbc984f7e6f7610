"""Multinomial regression timing (issue 5): ``python -m benchmarks.multinomial [--quick]``.

n = 100,000 rows, p = 50 Gaussian features, k = 10 classes (seeded; ``--quick``: n =
20,000, p = 20, k = 5), float64, CPU. Tools: jaxglm's default ``fit(family=Multinomial(k))``
(the solver the rule of :func:`jaxglm.solvers.resolve` picks, named in the table) and its
Newton, each timed with its standard errors (``--solvers`` adds Optax and
SubsampledNewton; compile reported apart), and scikit-learn's ``LogisticRegression`` with
``solver="newton-cholesky"`` and ``"lbfgs"`` (``--peers``), no penalty (``C=np.inf``:
``penalty=None`` is deprecated since scikit-learn 1.8).

Accuracy: ``max |beta - beta*| / SE(beta*)`` over the intercepts and coefficients in the
reference-class parameterization (scikit-learn's symmetric coefficients are converted to
``beta_j - beta_0``). The reference ``beta*`` and its standard errors are statsmodels'
(``MNLogit``, Newton to ``tol = 1e-12``; the table states its largest score component), not
jaxglm's. Each tool runs at the loosest rung of its ladder (:mod:`benchmarks.rule`: from
100x looser than its library's default, half-decade steps) that meets 1e-3 SE, then the
median of 3 timed rounds (``--repeats``), every tool once per round (interleaved); beside
it, its first call in a fresh process (import, conversion, compile and fit;
:mod:`benchmarks.first_call`), with and without JAX's persistent compilation cache.
The machine block, the load before and after (:mod:`benchmarks.rule`), and ``--cores 0,1``
to pin every tool (:func:`benchmarks.rule.pin`).

Bounded calibration (:func:`calibrate`), so that the ill-conditioned design (``--ill``)
finishes: each tool's tightest rung runs first; a tool that does not meet the target there
(scikit-learn stops at :data:`SKLEARN_MAX_ITER` iterations) is reported as "not reached"
and not timed. Otherwise the ladder is walked from its loosest rung, and when the walk has
spent ``--budget`` seconds (:data:`BUDGET`) the tightest rung, already known to meet the
target, is the one timed (the row says so). statsmodels' reference is cached under
``benchmarks/_cache/`` (:func:`cached_reference`; it took 11-45 minutes on a loaded
machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.first_call import measure_script
from benchmarks.rule import (
    add_first_call_option,
    ladder,
    load_note,
    load_per_core,
    parse_pinned,
)

#: benchmarks.problems.CACHE_DIR (not imported: that module loads SciPy, and a first call
#: must find no library loaded).
CACHE_DIR = Path(__file__).resolve().parent / "_cache"
SIZES = {"full": (100_000, 50, 10), "quick": (20_000, 20, 5)}
TARGET = 1e-3
#: Tolerance ladders (benchmarks.rule) from each library's default: jaxglm Newton 1e-8,
#: scikit-learn 1e-4.
JAXGLM_TOLS = ladder(1e-8)
SKLEARN_TOLS = ladder(1e-4)
#: scikit-learn's iteration cap (as ``benchmarks/default_rule.py``): on the ill-conditioned
#: design its lbfgs ran up to 10,000 iterations per rung (29 minutes of calibration).
SKLEARN_MAX_ITER = 1000
#: Seconds a tool's walk down its ladder may take before its tightest rung is timed.
BUDGET = 300.0
#: jaxglm rows: the default `fit` (the solver the rule picks) and Newton; `--solvers` adds the
#: other solvers that run a vector theta. Each is timed with its standard errors.
JAXGLM = {"jaxglm default": None, "jaxglm Newton": "Newton"}
MORE_JAXGLM = {"jaxglm Optax": "Optax", "jaxglm SubsampledNewton": "SubsampledNewton"}


def make_data(
    n: int, p: int, k: int, seed: int = 0, ill: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: i.i.d. normal columns, or with ``ill`` the mixed columns of
    ``benchmarks.problems`` (cond(X) ~ 1e3, unit variance), classes 0 .. k-1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if ill:
        from benchmarks.problems import _mixing_matrix  # imports SciPy: only here

        X = X @ _mixing_matrix(np.random.default_rng([seed, p]), p)
    B = rng.standard_normal((p, k)) * 0.5 / np.sqrt(p)
    logits = X @ B + rng.standard_normal(k) * 0.3
    prob = np.exp(logits - logits.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    u = rng.random(n)[:, None]
    y = (u > np.cumsum(prob, 1)).sum(1)
    return X, np.minimum(y, k - 1)


def reference(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """statsmodels ``MNLogit`` by Newton to ``tol = 1e-12``: ``(params, bse, max |score|)``,
    params and bse (p+1, k-1) with class 0 the reference and the intercept first."""
    import statsmodels.api as sm

    model = sm.MNLogit(y, sm.add_constant(X, has_constant="add"))
    res = model.fit(method="newton", tol=1e-12, maxiter=100, disp=False)
    params = np.asarray(res.params)
    score = float(np.max(np.abs(model.score(params.ravel(order="F")))))
    return params, np.asarray(res.bse), score


def cached_reference(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """:func:`reference` cached under ``benchmarks/_cache/`` by a digest of ``(X, y)``:
    ``(params, bse, max |score|, seconds it took when computed)``."""
    digest = hashlib.sha1(X.tobytes() + y.astype(np.int64).tobytes()).hexdigest()[:16]
    path = CACHE_DIR / f"multinomial_{X.shape[0]}x{X.shape[1]}_{digest}.ref.npz"
    if not path.exists():
        start = time.perf_counter()
        params, bse, score = reference(X, y)
        seconds = time.perf_counter() - start
        CACHE_DIR.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, params=params, bse=bse, score=score, seconds=seconds)
        tmp.replace(path)
    with np.load(path) as f:
        return f["params"], f["bse"], float(f["score"]), float(f["seconds"])


def from_sklearn(clf) -> np.ndarray:
    """(p+1, k-1) reference-class parameters from scikit-learn's symmetric ones."""
    params = np.vstack([clf.intercept_[None, :], clf.coef_.T])  # (p+1, k)
    return params[:, 1:] - params[:, :1]


def fit(tool: str, X: np.ndarray, y: np.ndarray, k: int, tol: float) -> tuple[np.ndarray, int, str]:
    """One tool's fit: ``(params (p+1, k-1), iterations, solver)``; imports its own library
    only. A jaxglm fit is timed with its standard errors (read before it returns)."""
    if tool.startswith("jaxglm"):
        import jaxglm as jg

        name = {**JAXGLM, **MORE_JAXGLM}[tool]
        solver = None if name is None else getattr(jg, name)()
        res = jg.fit(X, y, family=jg.Multinomial(k), solver=solver, tol=tol)
        np.asarray(res.bse)
        return np.asarray(res.params), int(res.n_iter), res.solver_name
    from sklearn.linear_model import LogisticRegression

    solver = tool.removeprefix("sklearn ")
    clf = LogisticRegression(C=np.inf, solver=solver, tol=tol, max_iter=SKLEARN_MAX_ITER).fit(X, y)
    return from_sklearn(clf), int(clf.n_iter_[0]), solver


def first_call(tool: str, data: dict[str, np.ndarray], options: dict) -> None:
    """One tool's fit, for :func:`benchmarks.first_call.measure_script` (a fresh process)."""
    if tool.startswith("jaxglm"):
        import jax

        jax.config.update("jax_enable_x64", True)
    fit(tool, data["X"], data["y"], options["k"], options["tol"])


@dataclasses.dataclass(frozen=True)
class Calibrated:
    """One tool's calibration (:func:`calibrate`).

    Attributes:
        tol: the rung timed (the tightest where the target was not reached).
        accuracy: ``max |beta - beta*| / SE`` at that rung.
        n_iter: the tool's iterations there.
        solver: the solver's name (jaxglm's default names the one the rule picked).
        reached: whether the rung meets the target.
        note: "" for the loosest rung meeting the target, else what happened.
        compile_s: first call minus second call at the tightest rung (``warm_up``), or None.
    """

    tol: float
    accuracy: float
    n_iter: int
    solver: str
    reached: bool
    note: str
    compile_s: float | None


def calibrate(
    tols: tuple[float, ...],
    run,
    error,
    *,
    target: float = TARGET,
    budget: float = BUDGET,
    warm_up: bool = False,
    clock=time.perf_counter,
) -> Calibrated:
    """The rung of ``tols`` to time for one tool, ``run(tol) -> (params, n_iter, solver)``.

    The tightest rung runs first (twice with ``warm_up``: the difference is the compile);
    if its ``error(params)`` is above ``target``, no other rung is tried ("not reached").
    Otherwise the rungs are tried from the loosest, the first meeting the target kept,
    until the walk has taken ``budget`` seconds: then the tightest rung is kept.

    Example:
        >>> fits = lambda tol: (np.array([10 * tol]), 1, "s")
        >>> calibrate((1e-2, 1e-3, 1e-4), fits, lambda p: float(p[0]), target=0.01).tol
        0.001
        >>> calibrate((1e-2, 1e-3), fits, lambda p: float(p[0]), target=1e-4).note
        'not reached at tol 0.001 (1 it.)'
    """

    def tried(tol: float) -> Calibrated:
        params, n_iter, solver = run(tol)
        err = error(params)
        return Calibrated(tol, err, n_iter, solver, err <= target, "", None)

    start = clock()
    tightest = tried(tols[-1])
    compile_s = None
    if warm_up:
        middle = clock()
        run(tols[-1])
        compile_s = 2 * middle - start - clock()
    if not tightest.reached:
        note = f"not reached at tol {tols[-1]:g} ({tightest.n_iter} it.)"
        return dataclasses.replace(tightest, note=note, compile_s=compile_s)
    walk = clock()
    for tol in tols[:-1]:
        if clock() - walk > budget:
            note = f"tightest rung: the walk's {budget:g} s were spent before tol {tol:g}"
            return dataclasses.replace(tightest, note=note, compile_s=compile_s)
        out = tried(tol)
        if out.reached:
            return dataclasses.replace(out, compile_s=compile_s)
    return dataclasses.replace(tightest, compile_s=compile_s)


def median_time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.multinomial")
    parser.add_argument("--quick", action="store_true", help="n = 20,000, p = 20, k = 5")
    parser.add_argument("--solvers", action="store_true", help="also Optax and SubsampledNewton")
    parser.add_argument(
        "--peers", default="newton-cholesky,lbfgs", help="scikit-learn solvers (comma-separated)"
    )
    parser.add_argument("--ill", action="store_true", help="cond(X) ~ 1e3 (benchmarks.problems)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timed rounds")
    parser.add_argument(
        "--budget", type=float, default=BUDGET, help="seconds of a tool's walk down its ladder"
    )
    add_first_call_option(parser)
    args = parse_pinned(parser, argv)
    import jax

    from benchmarks.machine import describe_machine

    jax.config.update("jax_enable_x64", True)
    machine = describe_machine()
    n, p, k = SIZES["quick" if args.quick else "full"]
    X, y = make_data(n, p, k, ill=args.ill)
    load_before = load_per_core()
    beta, se, score, ref_s = cached_reference(X, y)

    def acc(params: np.ndarray) -> float:
        return float(np.max(np.abs(params - beta) / se))

    jaxglm_rows = {**JAXGLM, **(MORE_JAXGLM if args.solvers else {})}
    tools = [(tool, JAXGLM_TOLS) for tool in jaxglm_rows]
    tools += [(f"sklearn {solver}", SKLEARN_TOLS) for solver in args.peers.split(",")]
    calibrated: dict[str, Calibrated] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tool, tols in tools:
            calibrated[tool] = calibrate(
                tols, lambda tol, tool=tool: fit(tool, X, y, k, tol), acc,
                budget=args.budget, warm_up=tool.startswith("jaxglm"),
            )  # fmt: skip
            c = calibrated[tool]
            print(f"[{time.strftime('%H:%M:%S')}] {tool}: tol {c.tol:g} {c.note}", file=sys.stderr)
        # Interleaved rounds: every tool once per round, so that a change of load falls on
        # all of them alike; the median over the rounds. Tools that did not reach the
        # target are not timed.
        timed = {tool: c for tool, c in calibrated.items() if c.reached}
        times: dict[str, list[float]] = {tool: [] for tool in timed}
        for _ in range(args.repeats):
            for tool, c in timed.items():
                times[tool].append(
                    median_time(lambda tool=tool, tol=c.tol: fit(tool, X, y, k, tol), 1)
                )
        rows = []
        for tool, c in calibrated.items():
            run = float(np.median(times[tool])) if tool in timed else None
            first = (None, None)
            if args.first_call and tool in timed:
                data, options = {"X": X, "y": y}, {"tol": c.tol, "k": k}
                first = measure_script(
                    "benchmarks.multinomial", tool, data, options, tool.startswith("jaxglm")
                )
            settings = f"tol={c.tol:g}" + (f", {c.solver}" if tool == "jaxglm default" else "")
            settings += f" ({c.note})" if c.note else ""
            rows.append((tool, settings, run, c.compile_s, c.accuracy, c.n_iter, *first))
            print(
                f"[{time.strftime('%H:%M:%S')}] {tool}: {_s(run)} s, first {first}",
                file=sys.stderr,
            )
    note = load_note(load_before, load_per_core())
    peers = [r for r in rows if r[0].startswith("sklearn") and r[2] is not None]
    best = min((r[2] for r in peers), default=None)
    best_first = min((r[6] for r in peers if r[6] is not None), default=None)
    print(f"Command: `{shlex.join(['python', '-m', 'benchmarks.multinomial', *argv])}`\n")
    print("\n".join(machine) + "\n")
    design = "cond(X) ~ 1e3" if args.ill else "i.i.d. normal columns"
    print(f"n = {n:,}, p = {p}, k = {k}, {design}, float64, CPU; median of {args.repeats} "
          "interleaved rounds; compile apart. "
          f"Reference: statsmodels MNLogit, Newton to tol 1e-12 ({ref_s:.1f} s when computed), "
          f"largest score component {score:.1e}; its standard errors.\n")  # fmt: skip
    print(f"{note}\n")
    print("| tool | settings | fit (s) | compile (s) | x fastest peer | first call (s) "
          "| cached (s) | first x fastest peer's | accuracy (SE) | iterations |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, settings, run, comp, a, it, first, cached in rows:
        ratio = "-" if first is None or best_first is None else f"{first / best_first:.2f}"
        peer = "-" if run is None or best is None else f"{run / best:.2f}"
        print(f"| {name} | {settings} | {_s(run)} | {_s(comp)} | {peer} | {_s(first)} "
              f"| {_s(cached)} | {ratio} | {a:.1e} | {it} |")  # fmt: skip


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


if __name__ == "__main__":
    main()
