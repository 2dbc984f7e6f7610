"""Test-session set-up: float64 on, once, before any array exists (never in the library),
and XLA's code generation at its lowest optimization level (below)."""

import os
from importlib.metadata import version

# The suite is compile-bound: its shapes are tiny, so its programs run in milliseconds and
# take 0.3-2 s each to compile, a quarter of which is LLVM optimizing the generated code.
# Level 0 cut the CPU time of seven reference/inference test files by 23% (5m36s -> 4m17s,
# issue 18's note); the arithmetic is the same IEEE operations, only less optimized code.
# XLA:CPU's older kernel emitters (`xla_cpu_use_fusion_emitters=false`) then generate each
# fusion's code directly as LLVM IR instead of through MLIR: a fit program compiles in a
# third of the CPU time, and three reference/precision/alpha test files took 54% less CPU
# (issue 18, benchmarks/RESULTS.md); the programs' results agree with the default emitters'
# to rounding (2e-9 relative in an estimated alpha, within its loop's tolerance). Set here,
# before JAX starts its backend, they reach the workers and every subprocess that inherits
# the environment. JAXGLM_TEST_XLA_DEFAULT=1 keeps XLA's defaults instead (the library never
# changes XLA's flags: users get the defaults).
_TEST_FLAGS = {"xla_backend_optimization_level": "0"}
# XLA aborts the process on a flag it does not know: the emitter switch only for the
# jaxlib releases it was measured on.
if version("jaxlib").startswith("0.10."):
    _TEST_FLAGS["xla_cpu_use_fusion_emitters"] = "false"
if os.environ.get("JAXGLM_TEST_XLA_DEFAULT") != "1":
    _flags = os.environ.get("XLA_FLAGS", "")
    for _name, _value in _TEST_FLAGS.items():
        if _name not in _flags:
            _flags = f"{_flags} --{_name}={_value}".strip()
    os.environ["XLA_FLAGS"] = _flags

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxglm as jg  # noqa: E402


def simulate(family: jg.Family, n: int = 80, p: int = 3, seed: int = 0):
    """A small, well-conditioned design and a response drawn from ``family``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    eta = 0.3 + X @ np.linspace(0.4, -0.3, p) * 0.5
    mu = np.exp(eta)
    if isinstance(family, jg.Bernoulli):
        y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    elif isinstance(family, jg.Poisson | jg.NegativeBinomial):
        y = rng.poisson(mu).astype(float)
    elif isinstance(family, jg.Gaussian):
        y = eta + rng.normal(size=n)
    elif isinstance(family, jg.Tweedie):
        y = rng.poisson(mu) * rng.gamma(2.0, 0.5, size=n)
    else:
        y = rng.gamma(4.0, mu / 4.0)
    return X, y


def fit_programs() -> int:
    """The number of fit programs compiled so far: XLA's default options and the quick
    options of small CPU fits (``jaxglm._fit.quick_compile``) are two jitted functions."""
    from jaxglm import _fit

    return _fit._fit_jit._cache_size() + _fit._fit_jit_quick._cache_size()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test file. Every XLA:CPU executable holds
    memory maps (test_link_pairs' programs: ~13,600), and a worker that ran most of the
    suite reached 43,000 of the kernel's limit of 65,530 (vm.max_map_count): past it, the
    next compile crashes the process (SIGSEGV or SIGABRT inside backend_compile_and_load,
    as two fresh-clone runs did at 80-87% of the suite). Files share few programs, so
    this costs little; tests within a file still share theirs."""
    yield
    jax.clear_caches()


@pytest.fixture(scope="session")
def poisson_data():
    return simulate(jg.Poisson())


@pytest.fixture(scope="session")
def gamma_data():
    return simulate(jg.Gamma())


# Hypothesis profiles: "ci" (default, 50 examples per property test, 100 in all: CI time) and
# "thorough" (select with `pytest --hypothesis-profile=thorough`, 2,500 examples each).
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=2500, deadline=None)
settings.load_profile("ci")
