"""Where a fit program's compile time goes (issue 18): per variant and per phase.

    python -m benchmarks.compile_phases [--repeats 3] [--quick-options]

The compiled fit (``jaxglm._fit._fit_jit``) of a small problem (Poisson, n = 1,000,
p = 10, float64: the issue's first-fit problem) is traced, lowered and compiled, with JAX's
in-memory caches cleared before each compile, for variants that add or remove one phase of
the program (covariance, the null model by Newton when there is an offset, the separation
check of a Binomial family, NegativeBinomial's alpha loop, other solvers, float32); and
three phases are compiled as programs of their own: the solver's loop (``iterate`` from
the start), the statistics after it (``_statistics.result``) and the null model with an
offset (``_statistics.null_eta``: a Newton iteration on the intercept alone). Each row
gives the median of ``--repeats`` compiles and the optimized program's size (HLO
instructions, fusions, while loops, conditionals). Compile times are CPU-bound: on a
shared machine read them as ratios within one run (the load is printed). With
``--quick-options`` every program compiles with the XLA options of small CPU fits
(``jaxglm._fit.QUICK_COMPILE_OPTIONS``), else with XLA's defaults.
"""

from __future__ import annotations

import argparse
import functools
import re
import time

import numpy as np

from benchmarks.rule import load_note, load_per_core, parse_pinned


def _size(text: str) -> dict[str, int]:
    """Counts of the optimized HLO's instructions, fusions, loops and conditionals."""
    return dict(
        instructions=len(re.findall(r"^\s+(?:ROOT )?\S+ = ", text, flags=re.M)),
        fusions=len(re.findall(r"= \S+ fusion\(", text)),
        whiles=len(re.findall(r" while\(", text)),
        conds=len(re.findall(r" conditional\(", text)),
    )


def _timed(jitted, args: tuple, kwargs: dict, repeats: int, options: dict | None) -> dict:
    """Median trace, lower and compile seconds of ``jitted`` (caches cleared each time),
    compiled with the XLA ``options`` (None: the defaults)."""
    import jax

    rows = []
    for _ in range(repeats):
        jax.clear_caches()
        t0 = time.perf_counter()
        traced = jitted.trace(*args, **kwargs)
        t1 = time.perf_counter()
        lowered = traced.lower()
        t2 = time.perf_counter()
        compiled = lowered.compile(options)
        t3 = time.perf_counter()
        rows.append((t1 - t0, t2 - t1, t3 - t2))
    trace, lower, compile_ = np.median(np.array(rows), axis=0)
    return dict(trace=trace, lower=lower, compile=compile_, **_size(compiled.as_text()))


def _captured(call):
    """The arguments with which ``call()`` (a jaxglm.fit) calls the compiled fit (with
    XLA's default options or the quick ones of small CPU fits)."""
    from jaxglm import _fit

    programs, seen = {attr: getattr(_fit, attr) for attr in ("_fit_jit", "_fit_jit_quick")}, {}

    def capture(original, *args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        return original(*args, **kwargs)

    for attr, original in programs.items():
        setattr(_fit, attr, functools.partial(capture, original))
    try:
        call()
    finally:
        for attr, original in programs.items():
            setattr(_fit, attr, original)
    return seen["args"], seen["kwargs"]


def _phases(args: tuple, kwargs: dict):
    """The solver loop, the statistics and the null model as programs of their own, with
    the inputs the compiled fit gives them."""
    import jax

    from jaxglm import _fit
    from jaxglm import _statistics as S
    from jaxglm import model as M
    from jaxglm.solvers import iterate

    family, link, solver = kwargs["family"], kwargs["link"], kwargs["solver"]

    def problem_of(X, y, prior, freq, offset, alpha, l1_ratio, pf):
        ridge, _ = M.penalty_weights(alpha, l1_ratio, pf)
        w = prior * freq
        return M.Problem(
            X=X, y=y, w=w, offset=offset, saturated=family.saturated_loglik(y),
            total_weight=w.sum(), penalty=ridge, family=family, link=link,
            fit_intercept=True, l1=None,
        )  # fmt: skip

    @jax.jit
    def loop(X, y, prior, freq, offset, alpha, l1_ratio, pf):
        problem = problem_of(X, y, prior, freq, offset, alpha, l1_ratio, pf)
        mu_start = family.mustart(y, problem.w)
        params0 = M.null_params(problem)
        if not solver.uses_mustart:
            params0 = _fit._r_start(problem, params0, mu_start)
        return iterate(solver, problem, solver.init(problem, params0, mu_start))

    @jax.jit
    def statistics(state, X, y, prior, freq, offset, alpha, l1_ratio, pf):
        problem = problem_of(X, y, prior, freq, offset, alpha, l1_ratio, pf)
        cov = S.Covariance("model", None, args[10], args[11], args[12])
        return S.result(problem, solver, state, prior, freq, kwargs["has_offset"], cov)

    @jax.jit
    def null_model(X, y, prior, freq, offset, alpha, l1_ratio, pf):
        return S.null_eta(problem_of(X, y, prior, freq, offset, alpha, l1_ratio, pf))

    state = loop(*args[:8])
    return {
        "solver loop alone": (loop, args[:8]),
        "statistics alone": (statistics, (state, *args[:8])),
        "null model alone": (null_model, args[:8]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick-options", action="store_true", help="small fits' XLA options")
    ns = parse_pinned(parser)

    import jaxglm as jg
    from benchmarks.machine import start
    from jaxglm import _fit

    before = start("compile_phases")
    options = _fit.QUICK_COMPILE_OPTIONS if ns.quick_options else None
    rng = np.random.default_rng(0)
    n, p = 1000, 10
    X = rng.normal(size=(n, p))
    eta = 0.3 + X @ np.linspace(0.3, -0.3, p)
    counts = rng.poisson(np.exp(eta)).astype(float)
    binary = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    exposure = rng.uniform(0.5, 2.0, n)
    variants = {
        "Poisson, Newton (the default fit)": lambda: jg.fit(X, counts, jg.Poisson()),
        "  cov_type='none'": lambda: jg.fit(X, counts, jg.Poisson(), cov_type="none"),
        "  cov_type='HC1'": lambda: jg.fit(X, counts, jg.Poisson(), cov_type="HC1"),
        "  with an exposure": lambda: jg.fit(X, counts, jg.Poisson(), exposure=exposure),
        "  float32": lambda: jg.fit(X.astype(np.float32), counts.astype(np.float32), jg.Poisson()),
        "  SubsampledNewton": lambda: jg.fit(X, counts, jg.Poisson(), solver=jg.SubsampledNewton()),
        "  Optax (L-BFGS)": lambda: jg.fit(X, counts, jg.Poisson(), solver=jg.Optax()),
        "Bernoulli (separation check)": lambda: jg.fit(X, binary, jg.Bernoulli()),
        "NegativeBinomial, alpha estimated": lambda: jg.fit(X, counts, jg.NegativeBinomial()),
    }
    rows = []
    for name, call in variants.items():
        args, kwargs = _captured(call)
        rows.append((name, _timed(_fit._fit_jit, args, kwargs, ns.repeats, options)))
        if name.startswith("Poisson"):
            for phase, (jitted, phase_args) in _phases(args, kwargs).items():
                rows.append(("  " + phase, _timed(jitted, phase_args, {}, ns.repeats, options)))
    print(load_note(before, load_per_core()))
    print()
    print(
        f"n = {n}, p = {p}, float64 unless stated; median of {ns.repeats} compiles each; "
        f"XLA options: {options or 'defaults'}."
    )
    print()
    print("| program | trace (s) | lower (s) | compile (s) | HLO instructions | fusions "
          "| while loops | conditionals |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        label = name.replace("  ", "&nbsp;&nbsp;", 1) if name.startswith("  ") else name
        print(
            f"| {label} | {r['trace']:.2f} | {r['lower']:.2f} | {r['compile']:.2f} | "
            f"{r['instructions']} | {r['fusions']} | {r['whiles']} | {r['conds']} |"
        )


if __name__ == "__main__":
    main()
