"""Progress bars of fit_many and bootstrap: counts of members done, updated between
compiled chunks, and the same results as without a bar."""

import numpy as np
import pytest
import tqdm.auto

import jaxglm as jg
from jaxglm import sweeps


@pytest.fixture
def updates(monkeypatch):
    """The bars' totals and their updates, recorded (and drawn as tqdm draws them)."""
    seen = []

    class Recording(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append((self.total, []))

        def update(self, n=1):
            seen[-1][1].append(n)
            return super().update(n)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    return seen


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = rng.poisson(np.exp(0.2 + X @ [0.3, -0.2]), size=(7, 40)).astype(float)
    return X, Y


def test_fit_many_map_reports_every_chunk_and_keeps_the_results(data, updates, capsys):
    X, Y = data
    plain = jg.fit_many(X, Y, jg.Poisson(), method="map")
    shown = jg.fit_many(X, Y, jg.Poisson(), method="map", progress=True)
    assert updates == [(7, [1] * 7)]  # PROGRESS_CHUNKS > 7: one member per chunk
    assert "7/7" in capsys.readouterr().err
    np.testing.assert_array_equal(shown.params, plain.params)
    np.testing.assert_array_equal(shown.n_iter, plain.n_iter)
    assert sweeps._progress_chunk(1000, None) == 10
    assert sweeps._progress_chunk(1000, 4) == 12  # a multiple of lax.map's batch size


def test_bootstrap_vmap_chunks_report_replicates(data, updates, capsys):
    X, Y = data
    plain = jg.bootstrap(X, Y[0], jg.Poisson(), n_boot=10, key=3, method="vmap", batch_size=4)
    shown = jg.bootstrap(X, Y[0], jg.Poisson(), n_boot=10, key=3, method="vmap", batch_size=4,
                         progress=True)  # fmt: skip
    assert updates == [(10, [4, 4, 2])]
    assert "10/10" in capsys.readouterr().err
    np.testing.assert_array_equal(shown.params, plain.params)
