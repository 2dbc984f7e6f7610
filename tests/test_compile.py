"""Compile discipline: row padding to size buckets changes nothing and saves compiles."""

import dataclasses
import sys

import jax
import numpy as np
import pytest
from conftest import fit_programs, simulate
from jax.experimental.compilation_cache import compilation_cache

import jaxglm as jg
from jaxglm import _padding

fit_module = sys.modules["jaxglm._fit"]
STATS = (
    "params", "bse", "deviance", "null_deviance", "llf", "aic", "bic", "pearson_chi2", "scale",
    "nobs", "df_resid", "df_model", "n_iter", "status",
)  # fmt: skip


def test_bucket_rule():
    assert [_padding.bucket_size(n) for n in (1, 32, 33, 80, 1000, 1024, 1025)] == [
        32, 32, 36, 80, 1024, 1024, 1152,
    ]  # fmt: skip
    for n in range(33, 5000, 7):
        b = _padding.bucket_size(n)
        assert n <= b < n * 1.125


def _unpadded(X, y, kw):
    """The fit at the data's own n: traced inputs are never padded."""
    return jax.jit(lambda X, y, kw: jg.fit(X, y, **kw))(X, y, kw)


@pytest.mark.parametrize(
    ("family", "link", "extra"),
    [(jg.Poisson(), None, False), (jg.Gamma(), jg.Log(), True)],
    ids=["Poisson", "Gamma-log-offset-weights"],
)
def test_padding_changes_nothing(family, link, extra):
    """n = 77 is padded to 80 rows of weight 0: every statistic equals the fit on the 77
    rows to 1e-12 (the estimated scale and the null deviance with an offset included)."""
    X, y = simulate(family, n=77, seed=9)
    kw = {"family": family, "link": link}
    if extra:
        rng = np.random.default_rng(2)
        kw |= {"offset": rng.normal(scale=0.3, size=77), "weights": rng.uniform(0.5, 2, 77)}
        kw["weights"][3] = 0.0  # the caller's own zero weight counts as before
    padded = jg.fit(X, y, **kw)
    exact = _unpadded(X, y, kw)
    for key in STATS:
        np.testing.assert_allclose(
            np.asarray(getattr(padded, key)), np.asarray(getattr(exact, key)), rtol=1e-12,
            atol=0, err_msg=key,
        )  # fmt: skip
    assert float(padded.nobs) == 77 - int(extra)
    # nothing padded is returned: the fitted rows (kept for the residuals) are the caller's
    # 77, nothing else is n-long; predictions are for the rows asked for
    rows = padded.fitted_rows
    assert {np.shape(leaf) for leaf in jax.tree.leaves(rows)} == {(77,)}
    rest = dataclasses.replace(padded, fitted_rows=None)
    assert max(np.size(leaf) for leaf in jax.tree.leaves(rest)) <= 16
    fitted = exact.predict(X, offset=kw.get("offset"))
    np.testing.assert_allclose(padded.fittedvalues, fitted, rtol=1e-12)
    assert padded.predict(X).shape == (77,)


def test_padded_value_is_inside_every_support():
    """The padded y is the data's own first y: valid for a Bernoulli 0/1 response too."""
    X, y = simulate(jg.Bernoulli(), n=75)
    out = _padding.pad_fit_arrays(
        dict(X=X, y=y, weights=None, freq_weights=None, offset=None, exposure=None), 80
    )
    assert out["X"].shape == (80, 3) and np.all(out["X"][75:] == 0)
    assert np.all(out["y"][75:] == y[0]) and np.all(out["weights"][75:] == 0)
    assert np.all(out["weights"][:75] == 1)


@pytest.fixture
def compile_events():
    """The names of the programs XLA compiles while the fixture is active."""
    names = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            names.append(kwargs.get("fun_name", ""))

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield names
    jax.monitoring.unregister_event_duration_listener(listener)


def test_different_n_compile_once_and_the_cache_is_written(compile_events, tmp_path):
    """n = 1000..1010 all pad to 1024 rows: one compiled fit program; an identical second
    call compiles nothing. With the persistent cache on, the program lands on disk."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1010, 3))
    y = rng.poisson(np.exp(0.2 + X @ [0.2, -0.1, 0.1])).astype(float)
    old = (
        jax.config.jax_compilation_cache_dir,
        jax.config.jax_persistent_cache_min_compile_time_secs,
    )
    jg.enable_compilation_cache(tmp_path / "jax-cache")
    try:
        before = fit_programs()
        first = jg.fit(X[:1000], y[:1000], jg.Poisson(), max_iter=50)  # a new p x bucket
        programs = [name for name in compile_events if "_fit_program" in name]
        compile_events.clear()
        for n in range(1001, 1011):
            jg.fit(X[:n], y[:n], jg.Poisson(), max_iter=50)
        again = jg.fit(X[:1000], y[:1000], jg.Poisson(), max_iter=50)
        assert len(programs) == 1
        assert compile_events == []
        assert fit_programs() == before + 1
        np.testing.assert_array_equal(again.params, first.params)
        assert any((tmp_path / "jax-cache").iterdir())
    finally:
        jax.config.update("jax_compilation_cache_dir", old[0])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", old[1])
        compilation_cache.reset_cache()


def test_small_cpu_fits_compile_with_the_quick_options():
    """quick_compile by size and platform; a small top-level fit runs the program compiled
    with the quick options, a fit traced by the caller's jit (its arguments traced, or
    closed over) runs XLA's defaults inside the caller's program (JAX refuses compiler
    options on a nested jit). The programs chosen are counted, not timed: the test
    session's own XLA flags do not change which one runs."""
    quick = fit_module.quick_compile
    limit = fit_module.QUICK_COMPILE_MAX_ELEMENTS
    supported = fit_module._QUICK_COMPILE_JAXLIB
    assert quick((1024, 10), "cpu") == supported and quick((limit, 1), "cpu") == supported
    assert not quick((limit + 1, 1), "cpu") and not quick((limit // 8 + 8, 8), "cpu")
    assert not quick((1024, 10), "gpu") and not quick((1024, 10), "tpu")
    assert fit_module.QUICK_COMPILE_OPTIONS == {
        "xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False,
    }  # fmt: skip
    if not supported:
        pytest.skip("the quick options are used on jaxlib 0.10 only")
    X, y = simulate(jg.Poisson(), n=96, p=5, seed=3)  # a p of its own; n a size bucket
    default, small = fit_module._fit_jit, fit_module._fit_jit_quick
    sizes = default._cache_size(), small._cache_size()
    res = jg.fit(X, y, jg.Poisson())
    assert (default._cache_size(), small._cache_size()) == (sizes[0], sizes[1] + 1)
    traced = jax.jit(lambda X, y: jg.fit(X, y, jg.Poisson()).params)(X, y)
    closed = jax.jit(lambda: jg.fit(X, y, jg.Poisson()).params)()
    assert small._cache_size() == sizes[1] + 1  # the caller's programs hold the fit
    np.testing.assert_allclose(traced, res.params, rtol=1e-10)
    np.testing.assert_allclose(closed, res.params, rtol=1e-10)
