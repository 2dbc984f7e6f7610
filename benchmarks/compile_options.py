"""XLA:CPU compiler options per fit program, by size (issue 18): compile against run time.

    python -m benchmarks.compile_options [--repeats 3] [--quick]

For each problem (Poisson at n = 1,000 ... 1,000,000 and p = 10 ... 100; Bernoulli at the
first-fit benchmark's second program, n = 5,000, p = 20) and each set of options (XLA's
defaults; the older kernel emitters; optimization level 0; both: the options
``jaxglm._fit.QUICK_COMPILE_OPTIONS`` gives small fits), ``jaxglm.fit`` runs its program
compiled with those options: the first call's CPU seconds (trace, lower, compile and one
fit: the time a user waits for a new program) and the fastest of ``--repeats`` further
calls (wall seconds: the fit alone); and the seconds of XLA's compile alone in the first
call (JAX's ``/jax/core/compile/backend_compile_duration`` events). The option sets take
turns for each problem, all in one process; the largest relative difference of ``params``
and ``bse`` from the default options' fit is reported. Read the columns as ratios within
one run (the load is printed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.rule import load_note, load_per_core, parse_pinned

OPTION_SETS = {
    "defaults": {},
    "older emitters": {"xla_cpu_use_fusion_emitters": False},
    "level 0": {"xla_backend_optimization_level": 0},
    "both (quick)": {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False},
}

PROBLEMS = [
    ("Poisson", 1_000, 10),
    ("Bernoulli", 5_000, 20),
    ("Poisson", 10_000, 10),
    ("Poisson", 10_000, 30),
    ("Poisson", 1_000, 100),
    ("Poisson", 100_000, 10),
    ("Poisson", 10_000, 100),
    ("Poisson", 100_000, 30),
    ("Poisson", 1_000_000, 10),
    ("Poisson", 100_000, 100),
]
QUICK_PROBLEMS = PROBLEMS[:2]


def _data(family: str, n: int, p: int):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    eta = 0.2 + X @ np.full(p, 0.5 / np.sqrt(p))
    if family == "Bernoulli":
        return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, rng.poisson(np.exp(eta)).astype(float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the first two problems only")
    ns = parse_pinned(parser)

    import jax

    import jaxglm as jg
    from benchmarks.machine import start
    from jaxglm import _fit

    before = start("compile_options")
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **_: (
            compiles.append(seconds)
            if event == "/jax/core/compile/backend_compile_duration"
            else None
        )
    )
    programs = {
        name: jax.jit(
            _fit._fit_program, static_argnames=_fit._FIT_STATIC, compiler_options=options or None
        )
        for name, options in OPTION_SETS.items()
    }
    _fit.quick_compile = lambda shape, platform: True  # every fit through the program set below
    jg.fit(*_data("Gaussian", 50, 2))  # the small programs every fit shares, compiled once
    rows = []
    for family, n, p in QUICK_PROBLEMS if ns.quick else PROBLEMS:
        X, y = _data(family, n, p)
        fam = getattr(jg, family)()
        out = {}
        for name, program in programs.items():
            _fit._fit_jit_quick = program
            compiles.clear()
            t0 = time.process_time()
            res = jg.fit(X, y, fam)
            np.asarray(res.bse)
            first = time.process_time() - t0
            compile_ = sum(compiles)
            runs = []
            for _ in range(ns.repeats):
                t0 = time.perf_counter()
                np.asarray(jg.fit(X, y, fam).bse)
                runs.append(time.perf_counter() - t0)
            out[name] = (first, compile_, min(runs), np.asarray(res.params), np.asarray(res.bse))
        base = out["defaults"]
        for name, (first, compile_, run, params, bse) in out.items():
            diff = max(
                float(np.max(np.abs(params - base[3]) / np.maximum(np.abs(base[3]), 1e-300))),
                float(np.max(np.abs(bse - base[4]) / base[4])),
            )
            rows.append((f"{family} {n:,} x {p}", name, first, compile_, run, diff))
    print(load_note(before, load_per_core()))
    print()
    print(f"First call: CPU seconds (trace, lower, compile, fit); fit: fastest of {ns.repeats}.")
    print()
    print(
        "| problem | options | first call CPU (s) | XLA compile (s) | fit (ms) | largest "
        "relative difference |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for problem, name, first, compile_, run, diff in rows:
        print(
            f"| {problem} | {name} | {first:.2f} | {compile_:.2f} | {1e3 * run:.2f} | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
