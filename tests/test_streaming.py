"""fit_stream: fits over row chunks equal the in-memory fits (float64, 1e-10).

Both fits run with ``tol=1e-10`` so that each is converged well beyond the 1e-10 compared
(at the default ``tol=1e-8`` each is accurate to about 1e-9 on the Gamma problem, so two
correct fits may differ by that much). The problems share one chunk shape (300 rows, p = 3),
so the stream's kernels compile once per kind of pass.
"""

import numpy as np
import pytest

import jaxglm as jg

N, P, ROWS = 1000, 3, 300
TOL = 1e-10
FIELDS = ("params", "bse", "deviance", "null_deviance", "llf", "aic", "scale", "pearson_chi2")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, P))
    eta = 0.3 + X @ np.array([0.2, -0.1, 0.3])
    return dict(
        X=X, eta=eta, offset=0.1 * rng.normal(size=N), weights=rng.uniform(0.5, 2.0, N),
        groups=rng.integers(0, 13, N) * 7, poisson=rng.poisson(np.exp(eta)).astype(float),
        gamma=rng.gamma(2.0, np.exp(eta) / 2.0),
    )  # fmt: skip


def chunks_of(*arrays):
    return [tuple(a[i : i + ROWS] for a in arrays) for i in range(0, N, ROWS)]


def assert_same(streamed, in_memory, fields=FIELDS):
    assert int(streamed.status) == 0
    for name in fields:
        a, b = np.asarray(getattr(streamed, name)), np.asarray(getattr(in_memory, name))
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * np.abs(b).max(), err_msg=name)


def test_newton_with_weights_offset_ridge_nonrobust_and_hc0(data):
    X, y, w, off = data["X"], data["poisson"], data["weights"], data["offset"]
    for cov, alpha in (("nonrobust", 0.0), ("HC0", 0.0), ("nonrobust", 0.05)):
        passes = []
        streamed = jg.fit_stream(
            chunks_of(X, y, w, off), jg.Poisson(), tol=TOL, cov_type=cov, alpha=alpha,
            progress=passes.append,
        )  # fmt: skip
        in_memory = jg.fit(
            X, y, jg.Poisson(), weights=w, offset=off, tol=TOL, cov_type=cov, alpha=alpha
        )
        assert_same(streamed, in_memory)  # with the ridge: bse NaN in both
        assert streamed.cov_type == cov and streamed.solver_name == "Newton"
        kinds = [info.kind for info in passes]
        assert kinds[0] == "start" and kinds[-1] == "statistics" and "newton" in kinds
        assert [info.index for info in passes] == list(range(1, len(passes) + 1))
        assert all(info.rows == N for info in passes)


def test_progress_bar_counts_the_passes(data, monkeypatch, capsys):
    import tqdm.auto

    steps = []

    class Recording(tqdm.auto.tqdm):
        def update(self, n=1):
            steps.append((n, self.postfix))
            return super().update(n)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    X, y, w, off = data["X"], data["poisson"], data["weights"], data["offset"]
    passes = []
    hooked = jg.fit_stream(chunks_of(X, y, w, off), jg.Poisson(), tol=TOL,
                           progress=passes.append)  # fmt: skip
    shown = jg.fit_stream(chunks_of(X, y, w, off), jg.Poisson(), tol=TOL, progress=True)
    assert len(steps) == len(passes) and {n for n, _ in steps} == {1}
    assert steps[-1][1].startswith("statistics")
    assert f"{len(passes)} passes" in capsys.readouterr().err.replace("/?", "")
    np.testing.assert_array_equal(shown.params, hooked.params)


def test_cluster_labels_in_the_chunks(data):
    X, y, w, g = data["X"], data["poisson"], data["weights"], data["groups"]
    chunks = [(X[i : i + ROWS], y[i : i + ROWS], w[i : i + ROWS], None, g[i : i + ROWS])
              for i in range(0, N, ROWS)]  # fmt: skip
    streamed = jg.fit_stream(chunks, jg.Poisson(), tol=TOL, cov_type="cluster")
    in_memory = jg.fit(X, y, jg.Poisson(), weights=w, tol=TOL, cov_type="cluster", groups=g)
    assert_same(streamed, in_memory)
    assert float(streamed.n_groups) == float(in_memory.n_groups) == 13


def test_estimated_scale_and_float32_storage(data):
    """Gamma (dispersion from Pearson's chi2; R's llf plugs deviance / n in) with the chunks
    stored in float32 and fitted in float64, against the in-memory fit of the same
    float32 values."""
    X32, y32 = data["X"].astype(np.float32), data["gamma"].astype(np.float32)
    streamed = jg.fit_stream(chunks_of(X32, y32), jg.Gamma(), jg.Log(), tol=TOL, dtype="float64")
    in_memory = jg.fit(X32.astype(float), y32.astype(float), jg.Gamma(), jg.Log(), tol=TOL)
    assert streamed.params.dtype == np.float64
    assert_same(streamed, in_memory)


def test_memmap_and_parquet_helpers(data, tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y, w = data["X"], data["poisson"], data["weights"]
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    mapped = jg.memmap_chunks(tmp_path / "X.npy", tmp_path / "y.npy", w, chunk_rows=ROWS)
    # The stream of the same rows from lists (equal to the in-memory fit: the tests above),
    # through the kernels the helpers' chunks use: no program compiled for the reference.
    listed = jg.fit_stream(chunks_of(X, y, w), jg.Poisson(), tol=TOL)
    assert_same(jg.fit_stream(mapped, jg.Poisson(), tol=TOL), listed)
    folder = tmp_path / "parts"
    folder.mkdir()
    for part, start in enumerate((0, 450)):  # two files: 450 and 550 rows
        rows = slice(start, start + 450 if part == 0 else N)
        table = {f"x{j}": X[rows, j] for j in range(P)} | dict(y=y[rows], w=w[rows])
        pq.write_table(pa.table(table), folder / f"part-{part}.parquet")
    chunks = jg.parquet_chunks(folder, ["x0", "x1", "x2"], "y", "w", chunk_rows=ROWS)
    assert [c[0].shape[0] for c in chunks] == [300, 150, 300, 250]
    assert_same(jg.fit_stream(chunks, jg.Poisson(), tol=TOL), listed)


def test_refusals_name_the_option(data):
    chunks = chunks_of(data["X"], data["poisson"])
    with pytest.raises(ValueError, match="HC3"):
        jg.fit_stream(chunks, jg.Poisson(), cov_type="HC3")
    with pytest.raises(ValueError, match="Newton"):
        jg.fit_stream(chunks, jg.Poisson(), solver=jg.SubsampledNewton())
    with pytest.raises(ValueError, match="fixed NegativeBinomial alpha"):
        jg.fit_stream(chunks, jg.NegativeBinomial())
    with pytest.raises(ValueError, match=r"\(rows, 3\)"):
        jg.fit_stream([*chunks, (np.ones((5, 2)), np.ones(5))], jg.Poisson())
    with pytest.raises(ValueError, match="outside the support of Poisson"):
        jg.fit_stream([(data["X"][:10], -np.ones(10))], jg.Poisson())
    with pytest.raises(ValueError, match="re-iterable"):
        jg.fit_stream(iter(chunks), jg.Poisson())
    with pytest.raises(ValueError, match="fifth element"):
        jg.fit_stream(chunks, jg.Poisson(), cov_type="cluster")
