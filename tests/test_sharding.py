"""Fits on rows sharded over 4 host devices equal the one-device fits (float64, 1e-12).

One test runs tests/scripts/sharded_fits.py in its own process (the device count is fixed
when JAX starts: ``--xla_force_host_platform_device_count=4``), with a timeout: every
family, weights and offsets, the ridge and the elastic net, the HC0 and cluster
covariances, the solvers, ``fit_many`` and a categorical design, in one process so that
its start and its shared programs are paid once.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import _fit

ROOT = Path(__file__).parents[1]
TOL = 1e-12


def run_script() -> dict:
    flags = os.environ.get("XLA_FLAGS", "")  # conftest's optimization level kept
    env = dict(os.environ, XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count=4")
    env.pop("JAX_ENABLE_X64", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "scripts" / "sharded_fits.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sharded_fits_equal_one_device_and_reduce_by_all_reduce_only():
    got = run_script()
    families = ("Gaussian", "Bernoulli", "Binomial", "Poisson", "Gamma_fit_many",
                "InverseGaussian", "NegativeBinomial", "Tweedie_design")  # fmt: skip
    for check in families:
        assert got[check] <= TOL, (check, got[check])
    assert got["replicated"]
    assert got["cluster_groups"] == 9.0
    assert "does not run on rows sharded" in got["minibatch_refused"]
    for fit in ("cluster", "HC0", "design"):
        hlo = got["hlo_" + fit]
        assert hlo["all_reduce"] > 0 and hlo["others"] == [], hlo
    # p = 2: every all-reduce is at most a (p+1) x (p+1) matrix, or the 9 clusters' (p+1)
    # score sums; the design's p = 6 (2 dense columns, 4 levels): its (p+1) x (p+1) Gram.
    # The rows (203, 204 padded) are never reduced as a whole array.
    assert got["hlo_HC0"]["largest_all_reduce"] <= 9
    assert got["hlo_cluster"]["largest_all_reduce"] <= 9 * 3
    assert got["hlo_design"]["largest_all_reduce"] <= 7 * 7


def test_out_of_memory_names_the_ways_out(monkeypatch):
    """XLA's out-of-memory error in the compiled fit becomes a MemoryError that says the
    data are too large for the device and names shard_rows and fit_stream."""

    def exhausted(*args, **kwargs):
        raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 8 GiB")

    monkeypatch.setattr(_fit, "_fit_jit", exhausted)
    monkeypatch.setattr(_fit, "_fit_jit_quick", exhausted)
    X = np.ones((40, 2))
    with pytest.raises(MemoryError, match="too large for the device") as info:
        jg.fit(X, np.ones(40), jg.Poisson())
    assert "jaxglm.shard_rows" in str(info.value) and "jaxglm.fit_stream" in str(info.value)


def test_a_sparse_design_is_refused_by_name():
    """shard_rows places a design's dense block and codes by rows; a sparse block's
    non-zeros are not split by rows: a ValueError that says what to pass instead."""
    sparse = pytest.importorskip("scipy.sparse")
    X = jg.design(np.ones((8, 1)), [jg.categorical([0, 1] * 4)], sparse.eye(8, 2, format="csr"))
    with pytest.raises(ValueError, match="not a sparse block"):
        jg.shard_rows(X, np.ones(8))
