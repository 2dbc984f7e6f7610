"""Elastic-net path and CV timing (issue 6): ``python -m benchmarks.enet_path [--quick]``.

Logistic regression, n = 100,000, p = 200 Gaussian features (seeded, 20 non-zero true
coefficients), l1_ratio = 0.5, 100 alphas from alpha_max down to 1e-3 of it (glmnet's
grid, computed by jaxglm and handed to glum, so both fit the same alphas), float64. Tools:
glum's ``GeneralizedLinearRegressor(alpha_search=True, alphas=...)`` (warm-started path;
same objective), jaxglm ``path`` (warm starts in one ``lax.scan``), and jaxglm ``cv`` with
5 folds (the folds and the full-data path as one vmap, and the refit, as a user calls it).

The rule (:mod:`benchmarks.rule`): each path tool runs over its own ladder (glum's
``gradient_tol`` from its default 1e-4, jaxglm's KKT ``tol`` from ProxNewton's default
1e-8: from 100x looser, half-decade steps) and keeps the loosest rung whose path is within
:data:`TARGET` standard errors of the reference (:func:`benchmarks.rule.loosest`); the CV
runs at the tolerance jaxglm's path kept. Beside them, every tool at its default tolerance.

Accuracy: the largest ``|beta_j - beta*_j| / SE_j`` over all alphas and coefficients, with
``beta*`` glum's path at ``gradient_tol=1e-10`` and ``SE_j`` the standard errors of the
reference's least penalized fit (the expected information at its last alpha): the
statistical noise of a coefficient, the unit of every other table. Timing: after a warm-up
call (its excess over the fastest run is reported as compile time; the tolerance is traced,
so jaxglm's rows of one kind share one program), the tools take turns for ``--rounds``
rounds and each keeps its fastest round (robust to a shared machine's load drifting;
:mod:`benchmarks.interleaved`). Beside it, every tool's first call in a fresh process
(import, conversion, compile, fit; :mod:`benchmarks.first_call`), with and without JAX's
persistent compilation cache, and the load before and after (:mod:`benchmarks.rule`).
``--cores 0,1`` pins every tool (:func:`benchmarks.rule.pin`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

import numpy as np

from benchmarks.first_call import measure_script
from benchmarks.rule import (
    add_first_call_option,
    ladder,
    load_note,
    load_per_core,
    loosest,
    parse_pinned,
)

L1_RATIO = 0.5
TARGET = 1e-3
"""Accuracy target: the path's largest error in standard errors of the reference."""

DEFAULT_TOLS = {"glum path": 1e-4, "jaxglm path": 1e-8}
"""The libraries' default tolerances: glum's ``gradient_tol`` (irls-cd), ProxNewton's."""

TOLS = {kind: ladder(default) for kind, default in DEFAULT_TOLS.items()}
"""Each path tool's ladder (:func:`benchmarks.rule.ladder`)."""


def make_data(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:20] = rng.standard_normal(20) * 0.5
    y = (X @ beta + rng.logistic(size=n) > 0).astype(float)
    return X, y


def glum_model(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float) -> object:
    """glum's warm-started path over ``alphas`` at ``gradient_tol=tol``: the fitted model."""
    from glum import GeneralizedLinearRegressor

    model = GeneralizedLinearRegressor(
        family="binomial", l1_ratio=L1_RATIO, alpha_search=True, alphas=alphas, gradient_tol=tol
    )
    return model.fit(X, y)


def glum_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float) -> np.ndarray:
    """glum's path (:func:`glum_model`): the coefficients, (alphas, p)."""
    return glum_model(X, y, alphas, tol).coef_path_


def reference(X: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(coefficients, SE)``: glum's path at ``gradient_tol=1e-10``, (alphas, p), and the
    standard errors of its last (least penalized) fit from the expected information
    ``[1 X]^T diag(mu (1 - mu)) [1 X]`` (the intercept's left out), in NumPy."""
    from scipy.special import expit

    model = glum_model(X, y, alphas, 1e-10)
    coef = model.coef_path_
    mu = expit(model.intercept_path_[-1] + X @ coef[-1])
    X1 = np.column_stack([np.ones(len(X)), X])
    info = X1.T @ (X1 * (mu * (1 - mu))[:, None])
    return coef, np.sqrt(np.diag(np.linalg.inv(info)))[1:]


def jaxglm_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float) -> object:
    """``jaxglm.path`` over ``alphas`` (NumPy arrays in, as a user calls it): the coefficients."""
    import jax

    import jaxglm as jg

    fam = jg.Bernoulli()
    return jax.block_until_ready(jg.path(X, y, fam, l1_ratio=L1_RATIO, alphas=alphas, tol=tol).coef)


def jaxglm_cv(X: np.ndarray, y: np.ndarray, alphas: np.ndarray, tol: float) -> object:
    """``jaxglm.cv`` with 5 folds over ``alphas``: the folds' deviances."""
    import jax

    import jaxglm as jg

    res = jg.cv(X, y, jg.Bernoulli(), l1_ratio=L1_RATIO, alphas=alphas, n_folds=5, tol=tol)
    return jax.block_until_ready(res.fold_deviance)


#: The fits a tool calls, by kind (also what ``first_call`` runs in a fresh process).
FITS = {"glum path": glum_path, "jaxglm path": jaxglm_path, "jaxglm cv": jaxglm_cv}


def first_call(tool: str, data: dict[str, np.ndarray], options: dict) -> None:
    """One tool's fit, for :func:`benchmarks.first_call.measure_script` (in a fresh process)."""
    FITS[tool](data["X"], data["y"], data["alphas"], options["tol"])


def seconds(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.enet_path")
    parser.add_argument("--quick", action="store_true", help="n = 10,000, p = 50")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds")
    parser.add_argument("--no-cv", action="store_true", help="time the paths only")
    add_first_call_option(parser)
    args = parse_pinned(parser, argv)
    import jax

    from benchmarks.machine import describe_machine

    jax.config.update("jax_enable_x64", True)
    import jaxglm as jg

    machine = describe_machine()
    n, p = (10_000, 50) if args.quick else (100_000, 200)
    X, y = make_data(n, p)
    alphas = np.asarray(
        jg.path(X, y, jg.Bernoulli(), l1_ratio=L1_RATIO, n_alphas=100, alpha_min_ratio=1e-3).alphas
    )
    load_before = load_per_core()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_s, (ref, se) = seconds(lambda: reference(X, y, alphas))

        def error(coef) -> float:
            return float(np.max(np.abs(np.asarray(coef) - ref) / se))

        kept = {}
        for kind, tols in TOLS.items():
            tol, _, err = loosest(tols, lambda t, k=kind: FITS[k](X, y, alphas, t), error, TARGET)
            kept[kind] = tol
            _log(f"{kind}: kept tol {tol:g} ({err:.1e} SE)")
        kept["jaxglm cv"] = kept["jaxglm path"]
        tools = {}  # name -> (kind, tol): the kept rung, then the default where it differs
        for kind in FITS:
            if kind == "jaxglm cv" and args.no_cv:
                continue
            default = DEFAULT_TOLS[kind.replace("cv", "path")]
            tools[f"{kind}, tol {kept[kind]:g} (the rule)"] = (kind, kept[kind])
            if kept[kind] != default:
                tools[f"{kind}, tol {default:g} (default)"] = (kind, default)
        first, outs, times = {}, {}, {name: [] for name in tools}
        for name, (kind, tol) in tools.items():
            first[name], outs[name] = seconds(lambda k=kind, t=tol: FITS[k](X, y, alphas, t))
        for _ in range(args.rounds):
            for name, (kind, tol) in tools.items():
                times[name].append(seconds(lambda k=kind, t=tol: FITS[k](X, y, alphas, t))[0])
    fresh = {}
    if args.first_call:
        data = {"X": X, "y": y, "alphas": alphas}
        for name, (kind, tol) in tools.items():
            uses_jax = kind.startswith("jaxglm")
            fresh[name] = measure_script("benchmarks.enet_path", kind, data, {"tol": tol}, uses_jax)
            _log(f"{name}: first call {fresh[name]}")
    load_after = load_per_core()

    glum_rule = f"glum path, tol {kept['glum path']:g} (the rule)"
    base = min(times[glum_rule])
    base_first = fresh[glum_rule][0] if fresh else None
    command = shlex.join(["python", "-m", "benchmarks.enet_path", *argv])
    print(f"Command: `{command}`\n")
    print("\n".join(machine) + "\n")
    print(f"n = {n:,}, p = {p}, 100 alphas down to 1e-3 alpha_max, l1_ratio = {L1_RATIO}, "
          f"float64. Rule (benchmarks.rule): each path tool at the loosest rung of its ladder "
          f"(from 100x looser than its default, half-decade steps) within {TARGET:g} SE of "
          f"the reference over the whole path; the CV at jaxglm's path's kept tol; every "
          f"tool's default beside it. Reference: glum at gradient_tol=1e-10 ({ref_s:.1f} s); "
          "SE: the standard errors of its least penalized fit. Fastest of "
          f"{args.rounds} interleaved rounds; first call: import, conversion, compile and fit "
          "in a fresh process (benchmarks.first_call), 'cached' with JAX's persistent "
          "compilation cache filled by an earlier process")  # fmt: skip
    print(f"\n{load_note(load_before, load_after)}")
    print("\n| tool | fit (s) | compile (s) | x glum path (rule) | first call (s) | cached (s) "
          "| first x glum's | max error (SE) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (kind, _) in tools.items():
        best = min(times[name])
        compile_s = "-" if kind == "glum path" else f"{max(first[name] - best, 0.0):.1f}"
        err = "-"
        if kind != "jaxglm cv":
            value = error(outs[name])
            err = f"{value:.1e}" + ("" if value <= TARGET else " (not met)")
        one, cached = fresh.get(name, (None, None))
        print(f"| {name} | {best:.3g} | {compile_s} | {best / base:.2f} | {_s(one)} | "
              f"{_s(cached)} | {_ratio(one, base_first)} | {err} |")  # fmt: skip


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _ratio(value: float | None, base: float | None) -> str:
    return "-" if value is None or base is None else f"{value / base:.2f}"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
