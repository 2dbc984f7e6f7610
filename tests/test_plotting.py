"""Figures (jaxglm.plotting): each drawn, written to PNG, and its data checked against the
result it shows. One Poisson fit (one compile) serves the fit plots; the path, CV and
bootstrap plots draw results built from known arrays."""

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

import jaxglm as jg
from jaxglm import plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fit():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 3))
    exposure = rng.uniform(0.5, 2.0, 120)
    y = rng.poisson(exposure * np.exp(0.2 + X @ [0.4, -0.3, 0.0]))
    return jg.fit(X, y, jg.Poisson(), exposure=exposure)


def _png(fig, path):
    fig.savefig(path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_coefficient_bars_are_the_confidence_intervals(fit, tmp_path):
    fig = plotting.plot_coefficients(fit, alpha=0.1)
    _png(fig, tmp_path / "coef.png")
    ax = fig.axes[0]
    bars = ax.containers[0].lines[2][0].get_segments()
    ci = np.asarray(fit.conf_int(0.1))
    top_first = np.array([[s[0][0], s[1][0]] for s in bars])
    np.testing.assert_allclose(top_first, ci, rtol=1e-12)  # ends, hence lengths
    assert [t.get_text() for t in ax.get_yticklabels()] == fit.param_names
    assert ax.get_yticks().tolist() == [3, 2, 1, 0]  # the first parameter on top
    assert "90% interval" in ax.get_legend().get_texts()[0].get_text()
    _, axes = plt.subplots(1, 2)
    again = plotting.plot_coefficients(fit, intercept=False, ax=axes[1])
    assert again is axes[1].figure and len(axes[1].get_yticklabels()) == 3


def test_residuals_and_qq_show_the_deviance_residuals(fit, tmp_path):
    fig = plotting.plot_residuals(fit)
    _png(fig, tmp_path / "resid.png")
    points = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(points[:, 0], fit.fittedvalues, rtol=1e-12)
    np.testing.assert_allclose(points[:, 1], fit.resid_deviance, rtol=1e-12)
    fig = plotting.plot_qq(fit)
    _png(fig, tmp_path / "qq.png")
    line = fig.axes[0].get_lines()[0]
    n = len(fit.resid_deviance)
    expected = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    np.testing.assert_allclose(line.get_xdata(), expected, rtol=1e-10)
    np.testing.assert_allclose(line.get_ydata(), np.sort(fit.resid_deviance), rtol=1e-12)


def test_calibration_bins_are_weighted_means_of_sorted_rows(fit, tmp_path):
    fig = plotting.plot_calibration(fit, n_bins=4)
    _png(fig, tmp_path / "calibration.png")
    mu, y = np.asarray(fit.fittedvalues), np.asarray(fit.fitted_rows.y)
    order = np.argsort(mu, kind="stable")
    predicted, observed, weight = plotting.calibration_bins(fit, n_bins=4)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), predicted)
    np.testing.assert_allclose(line.get_ydata(), observed)
    np.testing.assert_allclose(observed[0], y[order[:30]].mean(), rtol=1e-12)
    np.testing.assert_allclose(predicted[-1], mu[order[90:]].mean(), rtol=1e-12)
    assert weight.tolist() == [30, 30, 30, 30]
    # Poisson with its canonical link and an intercept: sum(mu) = sum(y) overall.
    np.testing.assert_allclose(predicted @ weight, observed @ weight, rtol=1e-8)
    with pytest.raises(ValueError, match="not Gamma"):
        plotting.plot_calibration(dataclasses.replace(fit, family=jg.Gamma()))


def test_bootstrap_violins_and_intervals(fit, tmp_path):
    rng = np.random.default_rng(0)
    draws = np.asarray(fit.params) + 0.1 * rng.normal(size=(40, 4))
    draws[5] = np.nan  # a failed replicate: left out
    ci = np.nanpercentile(draws, [2.5, 97.5], axis=0).T
    boot = jg.BootstrapResult(fit, draws, np.nanstd(draws, 0, ddof=1), ci,
                              np.zeros(40, int), 1, fit)  # fmt: skip
    fig = plotting.plot_bootstrap(boot)
    _png(fig, tmp_path / "bootstrap.png")
    ax = fig.axes[0]
    bars = next(c for c in ax.collections if c.get_label() == "percentile interval")
    ends = np.array([[s[0][1], s[1][1]] for s in bars.get_segments()])
    np.testing.assert_allclose(ends, ci, rtol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == fit.param_names


def _path(n_features: int) -> jg.PathResult:
    alphas = np.geomspace(1.0, 1e-3, 6)
    signs = (-1.0) ** np.arange(n_features)
    coef = np.outer(np.linspace(0.0, 1.0, 6), np.arange(1, n_features + 1) * signs)
    z = np.zeros(6)
    return jg.PathResult(alphas, coef, z, z, z, z, z, z, z)


def test_path_legend_names_the_largest_features_outside_the_axes(tmp_path):
    names = [f"x{j}" for j in range(30)]
    fig = plotting.plot_path(_path(30), names=names)
    _png(fig, tmp_path / "path.png")
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [f"x{j}" for j in range(20, 30)]
    assert legend.get_title().get_text() == "largest 10 (+20 more)"
    assert len(ax.get_lines()) == 30
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1


def test_cv_legend_names_alpha_min_and_alpha_1se(tmp_path):
    path = _path(2)
    mean, se = np.array([3.0, 2.0, 1.5, 1.4, 1.45, 1.5]), np.full(6, 0.2)
    res = jg.CVResult(path, np.zeros((3, 6)), mean, se, path.alphas[3], path.alphas[2], None)
    fig = plotting.plot_cv(res)
    _png(fig, tmp_path / "cv.png")
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["alpha_min = 0.0158", "alpha_1se = 0.0631", "held-out deviance +- 1 SE"]
