"""What a progress bar costs (issue 24): each entry point timed with and without
``progress=True``, alternating, the median of ``--repeats`` warm runs each.

    python -m benchmarks.progress_cost [--scale 1.0] [--repeats 5] [--cores 0,1]

The bar is drawn (tqdm, to a buffer instead of the terminal) between compiled chunks: a
``path``/``cv`` with a bar runs as chunks of ``jaxglm.paths.PROGRESS_ALPHAS`` alphas,
``fit_many(method="map")`` as about ``jaxglm.sweeps.PROGRESS_CHUNKS`` chunks. Compiles are
outside the timer (one call of each setting first) and reported apart. ``--scale`` sizes
the problems (1.0: n = 200,000 x 50 for the path and CV, 600 fits of 2,000 x 50 for
``fit_many``: 3-10 s per run on this project's 2-core CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import numpy as np

from benchmarks.rule import load_note, load_per_core, parse_pinned


def _problems(scale: float):
    import jaxglm as jg

    rng = np.random.default_rng(0)
    n = int(200_000 * scale)
    X = rng.normal(size=(n, 50))
    y = rng.poisson(np.exp(0.2 + X[:, :5] @ np.full(5, 0.2))).astype(float)
    Y = rng.poisson(np.exp(0.2 + X[:2000, :5] @ np.full(5, 0.2)), size=(int(600 * scale), 2000))
    return {
        "path (100 alphas)": lambda progress: (
            jg.path(X, y, jg.Poisson(), n_alphas=100, progress=progress).coef
        ),
        "cv (5 folds, 100 alphas)": lambda progress: (
            jg.cv(X, y, jg.Poisson(), n_alphas=100, progress=progress).fold_deviance
        ),
        "fit_many (map)": lambda progress: (
            jg.fit_many(
                X[:2000], Y.astype(float), jg.Poisson(), method="map", progress=progress
            ).params
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    ns = parse_pinned(parser)

    import jax

    from benchmarks.machine import start

    before = start("progress_cost")
    rows = []
    for name, run in _problems(ns.scale).items():
        first, times = {}, {False: [], True: []}
        with contextlib.redirect_stderr(io.StringIO()):
            for shown in (False, True):
                t0 = time.perf_counter()
                jax.block_until_ready(run(shown))
                first[shown] = time.perf_counter() - t0
            for _ in range(ns.repeats):
                for shown in (False, True):
                    t0 = time.perf_counter()
                    jax.block_until_ready(run(shown))
                    times[shown].append(time.perf_counter() - t0)
        plain, bar = np.median(times[False]), np.median(times[True])
        rows.append((name, first[False], first[True], plain, bar))
    print(load_note(before, load_per_core()))
    print()
    print(f"Median of {ns.repeats} warm runs each, alternating; first call = compile + run.")
    print()
    print("| entry point | first call, no bar (s) | first call, bar (s) | warm, no bar (s) "
          "| warm, bar (s) | bar's cost |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for name, f0, f1, t0, t1 in rows:
        cost = 100 * (t1 / t0 - 1)
        print(f"| {name} | {f0:.2f} | {f1:.2f} | {t0:.3f} | {t1:.3f} | {cost:+.1f}% |")


if __name__ == "__main__":
    main()
