"""Regularization paths and cross-validation (jaxglm.path, jaxglm.cv, jaxglm.plotting)."""

import matplotlib
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import paths

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 5))
    y = (X @ np.array([1.0, -0.5, 0.0, 0.0, 0.25]) + rng.logistic(size=200) > 0).astype(float)
    return X, y


@pytest.fixture(scope="module")
def warm(data):
    X, y = data
    return jg.path(X, y, jg.Bernoulli(), l1_ratio=0.5, n_alphas=12, tol=1e-10)


def test_alpha_max_gives_all_zeros_and_the_next_alpha_a_nonzero(data, warm):
    X, y = data
    # glmnet's closed form for the logistic objective (mean loss): the score at the
    # intercept-only fit, max_j |X_j^T (y - ybar)| / (n l1_ratio)
    closed_form = np.max(np.abs(X.T @ (y - y.mean()))) / (len(y) * 0.5)
    np.testing.assert_allclose(warm.alphas[0], closed_form, rtol=1e-12)
    assert np.all(np.asarray(warm.coef[0]) == 0)
    assert int(warm.n_nonzero[1]) >= 1
    assert np.all(np.asarray(warm.status) == jg.Status.CONVERGED)
    assert np.all(np.diff(np.asarray(warm.alphas)) < 0)
    np.testing.assert_allclose(warm.alphas[-1] / warm.alphas[0], 1e-4, rtol=1e-10)
    assert float(warm.dev_ratio[0]) == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(np.asarray(warm.dev_ratio)) >= -1e-12)


def test_alpha_max_with_an_offset_is_the_null_models_and_its_fit_all_zeros(data):
    """With an offset the null intercept has no closed form: the path starts from the null
    model its alpha_max came from, so the first fit takes no step (it kept coefficients of
    ~1e-9 when it started from the offset-free closed form)."""
    X, y = data
    off = np.random.default_rng(6).normal(scale=0.5, size=len(y))
    res = jg.path(X, y, jg.Bernoulli(), offset=off, l1_ratio=0.5, n_alphas=12, tol=1e-10)
    b = 0.0
    for _ in range(50):  # the intercept-only logistic fit with the offset, by 1-D Newton
        mu = 1.0 / (1.0 + np.exp(-(b + off)))
        b += np.sum(y - mu) / np.sum(mu * (1 - mu))
    mu = 1.0 / (1.0 + np.exp(-(b + off)))
    np.testing.assert_allclose(
        res.alphas[0], np.max(np.abs(X.T @ (y - mu))) / (len(y) * 0.5), rtol=1e-10
    )
    assert np.all(np.asarray(res.coef[0]) == 0) and int(res.n_iter[0]) == 0
    np.testing.assert_allclose(res.intercept[0], b, rtol=1e-10)
    assert int(res.n_nonzero[1]) >= 1


def test_warm_started_path_equals_independent_fits(data, warm):
    X, y = data
    cold = jg.path(X, y, jg.Bernoulli(), l1_ratio=0.5, n_alphas=12, tol=1e-10, independent=True)
    np.testing.assert_allclose(cold.coef, warm.coef, rtol=1e-6, atol=1e-9)
    k = 6
    single = jg.fit(X, y, jg.Bernoulli(), alpha=float(warm.alphas[k]), l1_ratio=0.5, tol=1e-10)
    np.testing.assert_allclose(single.coef, warm.coef[k], rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(single.coef) == 0, np.asarray(warm.coef[k]) == 0)


def test_cv_equals_a_loop_over_folds(data):
    X, y = data
    res = jg.cv(X, y, jg.Bernoulli(), l1_ratio=0.5, n_alphas=6, n_folds=3, seed=0, tol=1e-10)
    ids = paths.fold_ids(len(y), 3, 0)
    for k in range(3):
        train = ids != k
        fold = jg.path(X, y, jg.Bernoulli(), weights=train.astype(float), l1_ratio=0.5,
                       alphas=res.path.alphas, tol=1e-10)  # fmt: skip
        eta = np.asarray(fold.intercept)[:, None] + np.asarray(fold.coef) @ X[~train].T
        mu = 1 / (1 + np.exp(-eta))
        yt = y[~train]
        dev = -2 * np.mean(yt * np.log(mu) + (1 - yt) * np.log(1 - mu), axis=1)
        np.testing.assert_allclose(res.fold_deviance[k], dev, rtol=1e-7)
    i = int(np.argmin(res.mean))
    folds = np.asarray(res.fold_deviance)
    np.testing.assert_allclose(res.mean, folds.mean(0), rtol=1e-12)
    np.testing.assert_allclose(res.se, folds.std(0, ddof=1) / np.sqrt(3), rtol=1e-12)
    assert float(res.alpha_min) == float(res.path.alphas[i])
    # glmnet's lambda.1se: the largest alpha whose mean is within one SE of the minimum
    alphas, mean = np.asarray(res.path.alphas), np.asarray(res.mean)
    assert float(res.alpha_1se) == alphas[mean <= mean[i] + float(res.se[i])].max()
    assert float(res.alpha_1se) > float(res.alpha_min)  # the rule is not the minimum here
    np.testing.assert_allclose(res.refit.coef, res.path.coef[i], rtol=1e-5, atol=1e-8)
    again = jg.cv(X, y, jg.Bernoulli(), l1_ratio=0.5, n_alphas=6, foldid=ids, tol=1e-10)
    np.testing.assert_allclose(again.fold_deviance, res.fold_deviance, rtol=1e-12)
    from jaxglm.plotting import plot_cv

    ax = plot_cv(res).axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), res.mean)
    marks = [line.get_xdata()[0] for line in ax.get_lines()[1:]]
    np.testing.assert_allclose(marks, np.log10([res.alpha_min, res.alpha_1se]))


def test_plots_draw_one_line_per_feature(data, warm):
    from jaxglm.plotting import plot_path

    ax = plot_path(warm, names=[f"x{j}" for j in range(5)]).axes[0]
    assert len(ax.get_lines()) == 5
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), warm.coef[:, 0])
