"""The first fit of a fresh process, jaxglm against statsmodels (issue 18's targets).

    python -m benchmarks.first_fit [--repeats 3]

Each measurement is a fresh Python process (no persistent compilation cache), timed inside
it from before the library's import to the fitted coefficients: the import alone; import +
the first fit (Poisson, n = 1,000, p = 10, float64); and then, in the same process, a
second, different program (Bernoulli, n = 5,000, p = 20: compile and fit). The tools
alternate within each round, ``--repeats`` rounds; the medians are reported, with the
ratio jaxglm / statsmodels. The data are made with NumPy before the timer starts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from benchmarks.rule import load_note, load_per_core, parse_pinned

CHILD = """
import json, time
import numpy as np
rng = np.random.default_rng(0)
X1 = rng.normal(size=(1000, 10)); y1 = rng.poisson(np.exp(0.2 + X1 @ np.full(10, 0.05)))
X2 = rng.normal(size=(5000, 20)); y2 = (rng.uniform(size=5000) < 0.4).astype(float)
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
b1 = {first}
t2 = time.perf_counter()
b2 = {second}
t3 = time.perf_counter()
print(json.dumps(dict(imp=t1 - t0, first=t2 - t0, second=t3 - t2)))
"""

TOOLS = {
    "statsmodels": dict(
        imports="import statsmodels.api as sm",
        first="np.asarray(sm.GLM(y1, sm.add_constant(X1), sm.families.Poisson()).fit().bse)",
        second="np.asarray(sm.GLM(y2, sm.add_constant(X2), sm.families.Binomial()).fit().bse)",
    ),
    "jaxglm": dict(
        imports="import jaxglm as jg",
        first="np.asarray(jg.fit(X1, y1, jg.Poisson()).bse)",
        second="np.asarray(jg.fit(X2, y2, jg.Bernoulli()).bse)",
    ),
}


def measure(tool: str) -> dict:
    env = dict(os.environ, JAX_ENABLE_X64="1")
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    code = CHILD.format(**TOOLS[tool])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    ns = parse_pinned(parser)
    from benchmarks.machine import start

    before = start("first_fit")
    runs = {tool: [] for tool in TOOLS}
    for _ in range(ns.repeats):
        for tool in TOOLS:
            runs[tool].append(measure(tool))
    print(load_note(before, load_per_core()))
    print()
    med = {t: {k: float(np.median([r[k] for r in rs])) for k in rs[0]} for t, rs in runs.items()}
    print(f"Median of {ns.repeats} fresh processes per tool, alternating; seconds.")
    print()
    print("| | import | import + first fit (Poisson 1000 x 10) | second program (Bernoulli "
          "5000 x 20) |")  # fmt: skip
    print("|---|---:|---:|---:|")
    for tool, m in med.items():
        print(f"| {tool} | {m['imp']:.2f} | {m['first']:.2f} | {m['second']:.2f} |")
    j, s = med["jaxglm"], med["statsmodels"]
    print(
        f"| jaxglm / statsmodels | {j['imp'] / s['imp']:.2f}x | {j['first'] / s['first']:.2f}x "
        f"(target <= 1.5x) | {j['second'] / s['second']:.0f}x (target: jaxglm <= 1 s) |"
    )


if __name__ == "__main__":
    main()
