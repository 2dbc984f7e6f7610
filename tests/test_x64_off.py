"""JAX's default configuration (x64 off), in its own process: the test session enables x64.

One subprocess runs the checks that need x64 off: float64 NumPy input fits in float32
(JAX's dtype, as the result shows), NegativeBinomial() estimates alpha and converges, a
second call of the same shape reuses the compiled program, ``precision="mixed"`` is refused
by fit, path, cv and fit_stream with a message that says x64 is needed, and the hard reference cases
(longley, star98, scotland: ill-conditioned designs, RANK_DEFICIENT in float32 before
issue 20) reach their float64 references as with x64 on (test_references).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys, numpy as np, statsmodels.api as sm
    import jax
    import jaxglm as jg
    assert not jax.config.jax_enable_x64
    HARD = %r
    fit_module = sys.modules["jaxglm._fit"]
    data = sm.datasets.randhie.load_pandas().data
    y = data["mdvis"].to_numpy(float)
    X = data.drop(columns="mdvis").to_numpy(float)
    first = jg.fit(X, y, jg.NegativeBinomial())
    programs = (fit_module._fit_jit, fit_module._fit_jit_quick)
    size = sum(p._cache_size() for p in programs)
    second = jg.fit(X, y, jg.NegativeBinomial())
    recompiled = sum(p._cache_size() for p in programs) - size
    pois = jg.fit(X, y, jg.Poisson())
    mixed_errors = {}
    for entry, call in dict(
        fit=lambda: jg.fit(X, y, jg.Poisson(), precision="mixed"),
        path=lambda: jg.path(X, y, jg.Poisson(), precision="mixed"),
        cv=lambda: jg.cv(X, y, jg.Poisson(), precision="mixed"),
        fit_stream=lambda: jg.fit_stream([(X, y)], jg.Poisson(), precision="mixed"),
    ).items():
        try:
            call()
            mixed_errors[entry] = ""
        except ValueError as e:
            mixed_errors[entry] = str(e)
    from tests.test_references import REFS, fitted, rel_err
    hard = {}
    for name in HARD:
        res, _ = fitted(name, "float32")
        ref = REFS[name]
        hard[name] = [int(res.status), str(res.params.dtype),
                      rel_err(res.params, ref["params"]), rel_err(res.bse, ref["bse"])]
    print(json.dumps(dict(hard=hard,
        dtype=str(first.params.dtype), status=int(first.status), alpha=float(first.family.alpha),
        second_status=int(second.status), recompiled=recompiled,
        poisson_status=int(pois.status), poisson_dtype=str(pois.params.dtype),
        mixed_errors=mixed_errors,
    )))
    """
)


HARD = ["gaussian_identity_longley", "binomial_logit_star98", "gamma_inverse_scotland"]


def test_x64_off_fits_in_float32_and_compiles_once():
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT % HARD], cwd=Path(__file__).parents[1], env=env,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["dtype"] == "float32" and got["poisson_dtype"] == "float32"
    assert got["status"] == 0 and got["second_status"] == 0 and got["poisson_status"] == 0
    assert got["recompiled"] == 0
    for entry, message in got["mixed_errors"].items():  # fit, path, cv, fit_stream
        assert "needs x64" in message, entry
    # statsmodels' NB2 alpha on randhie (tests/references/nb_alpha_reference.json): 1.29
    assert abs(got["alpha"] - 1.2929) < 1e-3
    # The hard cases: the tolerances of test_float32_inputs_reach_the_float64_reference.
    for name in HARD:
        status, dtype, params_err, bse_err = got["hard"][name]
        assert status == 0 and dtype == "float32", name
        assert params_err < 1e-3 and bse_err < 1e-2, (name, params_err, bse_err)
