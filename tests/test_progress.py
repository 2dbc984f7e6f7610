"""Progress bars of fit_many, bootstrap, path and cv: counts of members or alphas done,
updated between compiled chunks, and the same results as without a bar."""

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
    # The chunked program is another compilation (chunks of 1 member): its sums may round
    # differently in the last bit (2e-15 relative with the test session's XLA flags).
    np.testing.assert_allclose(shown.params, plain.params, rtol=1e-13, atol=1e-15)
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


def test_path_and_cv_in_chunks_report_alphas_and_give_the_same_fits(data, updates, capsys):
    """12 alphas in chunks of 10 (the last filled up with repeats and cut off): the bar
    counts 10 then 2, and the fits are those of the single compiled program (cv's full-data
    path is the path)."""
    X, Y = data
    folds, offset = np.arange(40) % 3, np.linspace(-0.1, 0.1, 40)
    cv_plain = jg.cv(X, Y[0], jg.Poisson(), n_alphas=12, foldid=folds, offset=offset)
    cv_shown = jg.cv(X, Y[0], jg.Poisson(), n_alphas=12, foldid=folds, offset=offset,
                     progress=True)  # fmt: skip
    shown = jg.path(X, Y[0], jg.Poisson(), n_alphas=12, offset=offset, progress=True)
    assert updates == [(12, [10, 2]), (12, [10, 2])]
    assert "12/12" in capsys.readouterr().err
    for a, b in [(cv_plain.path, shown), (cv_plain.path, cv_shown.path)]:  # cv's full path
        np.testing.assert_allclose(b.coef, a.coef, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.deviance, a.deviance, rtol=1e-12)
        np.testing.assert_array_equal(b.n_iter, a.n_iter)
    np.testing.assert_allclose(cv_shown.fold_deviance, cv_plain.fold_deviance, rtol=1e-12)
    assert float(cv_shown.alpha_min) == float(cv_plain.alpha_min)
