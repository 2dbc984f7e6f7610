"""One pipeline (issue 15): every entry point takes the same bad inputs with the same error,
and every option of the README's table has its documented effect in every entry point.

Shapes: n = 40, p = 2, Poisson; options are combined per call so that each entry point
compiles a handful of programs.
"""

import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import sweeps

N, P = 40, 2
RNG = np.random.default_rng(3)
X = RNG.normal(size=(N, P))
Y = RNG.poisson(np.exp(0.3 + X @ [0.4, -0.3])).astype(float)
Y2 = np.stack([Y, RNG.poisson(np.exp(0.2 + X @ [0.1, 0.2])).astype(float)])
W = RNG.uniform(0.5, 2.0, N)
FW = RNG.integers(1, 4, N).astype(float)
OFF = RNG.normal(scale=0.1, size=N)
EXPO = RNG.uniform(0.5, 2.0, N)
GROUPS = np.arange(N) % 7
Y_NB = RNG.poisson(RNG.gamma(2.0, np.exp(0.5 + X @ [0.3, 0.2]) / 2.0, size=(2, N))).astype(float)


def changed(a, i, v):
    a = np.array(a, dtype=float)
    a[i] = v
    return a


# (name, arguments of one fit, the error's text): each row goes through every entry point.
BAD = [
    ("nan_y", dict(y=changed(Y, 5, np.nan)), r"y has a non-finite value at (member \d+, )?index 5"),
    ("inf_X", dict(X=changed(X, (3, 1), np.inf)), r"X has a non-finite value at row 3, column 1"),
    ("negative_y", dict(y=changed(Y, 2, -1.0)), r"is outside the support of Poisson"),
    ("nan_weights", dict(weights=changed(W, 4, np.nan)), r"weights has a non-finite value at"),
    ("negative_weights", dict(weights=changed(W, 4, -1.0)), r"weights has a negative value at"),
    ("inf_offset", dict(offset=changed(OFF, 1, np.inf)), r"offset has a non-finite value at"),
    ("bad_exposure", dict(exposure=changed(EXPO, 6, 0.0)), r"exposure must be > 0"),
    ("short_y", dict(y=Y[:-1]), r"y must have shape \(40,\)"),
    ("short_weights", dict(weights=W[:-1]), r"weights must have shape \(40,\)"),
    ("nan_freq_weights", dict(freq_weights=changed(FW, 0, np.nan)), r"freq_weights has a non"),
]


def _through(entry, kw):
    """Call ``entry`` with one fit's arguments ``kw`` (fit_many gets y as 2 members)."""
    kw = dict(X=X, y=Y) | kw
    X_, y_ = kw.pop("X"), kw.pop("y")
    if entry == "fit":
        return jg.fit(X_, y_, jg.Poisson(), **kw)
    if entry == "fit_many":
        return jg.fit_many(X_, np.stack([y_, y_]), jg.Poisson(), **kw)
    if entry == "bootstrap":
        return jg.bootstrap(X_, y_, jg.Poisson(), n_boot=2, **kw)
    if entry == "path":
        return jg.path(X_, y_, jg.Poisson(), n_alphas=3, **kw)
    return jg.cv(X_, y_, jg.Poisson(), n_alphas=3, n_folds=3, **kw)


ENTRIES = ["fit", "fit_many", "bootstrap", "path", "cv"]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_give_the_same_error_everywhere(entry, bad):
    _, kw, message = bad
    with pytest.raises(ValueError, match=message):
        _through(entry, kw)


def test_folds_are_checked():
    with pytest.raises(ValueError, match=r"n_folds must be an integer in \[2, n\] = \[2, 4\]"):
        jg.cv(X[:4], Y[:4], jg.Poisson(), n_folds=10)
    with pytest.raises(ValueError, match="n_folds must be"):
        jg.cv(X, Y, jg.Poisson(), n_folds=1)
    with pytest.raises(ValueError, match="foldid must be"):
        jg.cv(X, Y, jg.Poisson(), foldid=np.zeros(N, int))
    with pytest.raises(ValueError, match="foldid must be"):
        jg.cv(X, Y, jg.Poisson(), foldid=np.zeros(N - 1, int))


def test_batch_messages_name_the_member():
    bad = Y2.copy()
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"y has a non-finite value at member 1, index 7"):
        jg.fit_many(X, bad, jg.Poisson())
    with pytest.raises(ValueError, match=r"y\[1, 3\] = -2 is outside the support of Poisson"):
        jg.fit_many(X, changed(Y2, (1, 3), -2.0), jg.Poisson())
    with pytest.raises(ValueError, match=r"weights has a negative value at member 1, index 0"):
        jg.fit_many(X, Y2, jg.Poisson(), weights=changed(np.ones((2, N)), (1, 0), -1.0))
    with pytest.raises(ValueError, match=r"y must be 2-D \(m, n\), members first"):
        jg.fit_many(X, Y, jg.Poisson())
    with pytest.raises(ValueError, match=r"y has shape \(40, 2\): the members go first"):
        jg.fit_many(X, Y2.T, jg.Poisson())
    with pytest.raises(ValueError, match="l1_ratio must be a number"):
        jg.cv(X, Y, jg.Poisson(), l1_ratio=[0.1, 0.5])


def test_sparse_design_is_refused_with_a_clear_message():
    sparse = pytest.importorskip("scipy.sparse")
    for entry in (
        lambda Xs: jg.fit(Xs, Y, jg.Poisson()),
        lambda Xs: jg.fit_many(Xs, Y2, jg.Poisson()),
        lambda Xs: jg.path(Xs, Y, jg.Poisson()),
    ):
        with pytest.raises(ValueError, match="X is a scipy sparse matrix"):
            entry(sparse.csr_matrix(X))


def test_link_mean_range_and_options_are_checked():
    with pytest.raises(ValueError, match=r"outside the mean range \[0, 1\] of the Logit link"):
        jg.fit(X, Y + 1.5, jg.Gamma(), jg.Logit())
    res = jg.fit(X, Y, jg.Poisson(), cov_type="hc1")  # any letter case
    assert res.cov_type == "HC1"
    with pytest.raises(ValueError, match="paths need a fixed NegativeBinomial alpha"):
        jg.path(X, Y, jg.NegativeBinomial(alpha=None))
    with pytest.raises(ValueError, match="warm starts"):
        jg.cv(X, Y, jg.Poisson(), l1_ratio=0.0, solver=jg.Newton())
    with pytest.raises(ValueError, match="L1"):
        jg.fit_many(X, Y2, jg.Poisson(), alpha=0.1, l1_ratio=0.5, solver=jg.Newton())


def close(a, b, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=1e-9)


def test_fit_many_member_equals_fit_with_every_option():
    """Each option of the README table reaches fit_many: member 1 == fit on Y2[1]."""
    opts = dict(
        weights=W, offset=OFF, alpha=0.05, penalty_factor=np.array([1.0, 2.0]),
        cov_type="HC1", scale="X2", use_t=True, tol=1e-10, max_iter=50,
    )  # fmt: skip
    many = jg.fit_many(X, Y2, jg.Poisson(), **opts)
    one = jg.fit(X, Y2[1], jg.Poisson(), **opts)
    close(many.params[1], one.params)
    assert many.cov_type == one.cov_type == "HC1" and many.use_t and one.scale_type == "X2"
    opts = dict(freq_weights=FW, exposure=EXPO, cov_type="cluster", groups=GROUPS)
    many = jg.fit_many(X, Y2, jg.Poisson(), **opts)
    one = jg.fit(X, Y2[1], jg.Poisson(), **opts)
    close(many.params[1], one.params)
    close(many.bse[1], one.bse)
    close(many.nobs[1], FW.sum())
    # an L1 penalty (ProxNewton chosen), NegativeBinomial alpha estimated, start_params
    many = jg.fit_many(X, Y2, jg.Poisson(), alpha=0.05, l1_ratio=0.5)
    one = jg.fit(X, Y2[1], jg.Poisson(), alpha=0.05, l1_ratio=0.5)
    close(many.params[1], one.params, 1e-5)
    assert many.solver_name == "ProxNewton"
    many = jg.fit_many(X, Y_NB, jg.NegativeBinomial(alpha=None))
    one = jg.fit(X, Y_NB[1], jg.NegativeBinomial(alpha=None))
    close(many.family.alpha[1], one.family.alpha, 1e-5)
    start = np.asarray(one.params)
    with pytest.warns(jg.ConvergenceWarning, match="2 of 2"):
        many = jg.fit_many(X, Y2, jg.NegativeBinomial(alpha=1.0), start_params=start, max_iter=0)
    close(many.params[0], start)


def test_bootstrap_replicate_equals_fit_with_its_counts_and_the_options():
    opts = dict(weights=W, offset=OFF, alpha=0.05, cov_type="HC0")
    boot = jg.bootstrap(X, Y, jg.Poisson(), n_boot=3, key=5, **opts)
    counts = np.asarray(
        sweeps._draw_counts(jax.random.key(5), np.arange(3), None, None, n_draws=N, n_rows=N)
    )
    one = jg.fit(X, Y, jg.Poisson(), freq_weights=counts[2], **opts)
    close(boot.replicates.params[2], one.params)
    close(boot.replicates.bse[2], one.bse)
    close(boot.fit.params, jg.fit(X, Y, jg.Poisson(), **opts).params)


def test_bootstrap_warns_with_the_count_of_failed_replicates():
    with pytest.warns(jg.ConvergenceWarning) as rec:  # the fit to the data, then the replicates
        jg.bootstrap(X, Y, jg.Poisson(), n_boot=3, max_iter=1, tol=1e-14)
    assert "3 of 3 Poisson bootstrap replicates did not converge" in str(rec[-1].message)
    assert all(Path(r.filename).name == "test_pipeline.py" for r in rec)


def test_path_and_cv_take_every_option():
    """path at alpha_k == fit at alpha_k with the same options; cv's refit likewise."""
    opts = dict(
        weights=W, freq_weights=FW, offset=OFF, exposure=EXPO,
        penalty_factor=np.array([1.0, 0.5]), l1_ratio=0.5,
    )  # fmt: skip
    res = jg.path(X, Y, jg.Poisson(), n_alphas=4, tol=1e-10, **opts)
    k = 2
    one = jg.fit(X, Y, jg.Poisson(), alpha=res.alphas[k], tol=1e-10, **opts)
    close(res.coef[k], one.coef, 1e-5)
    close(res.intercept[k], one.intercept, 1e-5)
    out = jg.cv(X, Y, jg.Poisson(), alphas=res.alphas, n_folds=3, tol=1e-10, **opts)
    refit = jg.fit(X, Y, jg.Poisson(), alpha=out.alpha_min, tol=1e-10, **opts)
    close(out.refit.params, refit.params, 1e-5)
    assert float(out.refit.nobs) == FW.sum()


def test_fit_many_warning_points_at_the_caller():
    with pytest.warns(jg.ConvergenceWarning, match="2 of 2 Poisson fits") as rec:
        jg.fit_many(X, Y2, jg.Poisson(), max_iter=1, tol=1e-14)
    assert all(Path(r.filename).name == "test_pipeline.py" for r in rec)


def test_negative_count_under_vmap_is_not_converged():
    """A member outside the support under jax.vmap (no host validation) is reported."""
    bad = changed(Y2, (1, 3), -1.0)
    res = jax.vmap(lambda y: jg.fit(X, y, jg.Poisson()))(bad)
    assert int(res.status[0]) == jg.Status.CONVERGED
    assert int(res.status[1]) == jg.Status.NONFINITE


def test_lr_test_refuses_fits_to_other_data():
    full = jg.fit(X, Y, jg.Poisson())
    small = jg.fit(X[:, :1], Y, jg.Poisson())
    other = jg.fit(X[:, :1], Y, jg.Poisson(), exposure=EXPO)
    assert float(jg.lr_test(small, full).statistic) > 0
    with pytest.raises(ValueError, match="not fits to the same data"):
        jg.lr_test(other, full)
    with pytest.raises(ValueError, match=r"smaller deviance|nested"):
        jg.lr_test(full, small)


def test_import_graph_has_no_cycle():
    script = Path(__file__).parents[2] / "shared" / "hooks" / "import_cycles.py"
    if not script.exists():
        pytest.skip("shared/hooks/import_cycles.py is not beside this checkout")
    out = subprocess.run(
        [sys.executable, str(script)], cwd=Path(__file__).parents[1], capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    assert "cycle:" not in out and " 0 cycles" in out, out


def test_separation_warning_with_dropped_columns_names_the_full_design():
    """drop_collinear with a separated fit: the warning reads the caller's X (all columns)."""
    x = np.linspace(-1, 1, N)
    Xs = np.column_stack([np.zeros(N), x, RNG.normal(size=N)])
    with pytest.warns(jg.PerfectSeparationWarning, match=r"diverging columns: \[1(, 2)?\]"):
        res = jg.fit(Xs, (x > 0).astype(float), jg.Bernoulli(), drop_collinear=True)
    assert res.aliased == (0,)


def test_status_prints_its_name():
    res = jg.fit(X, Y, jg.Poisson())
    assert str(res.status) == "CONVERGED" and f"{res.status}" == "CONVERGED"
    assert res.status == jg.Status.CONVERGED and int(res.status) == 0
    many = jg.fit_many(X, Y2, jg.Poisson())
    assert np.asarray(many.status).tolist() == [0, 0] and str(many[1].status) == "CONVERGED"
