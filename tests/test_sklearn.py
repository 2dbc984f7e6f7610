"""The scikit-learn estimators (jaxglm.sklearn): scikit-learn's own estimator checks (a
subset, below), agreement with scikit-learn's estimators of the same name, Pipeline,
clone, pickling, and GridSearchCV: few compiles, and the alpha of jaxglm.cv (as
GLMRegressorCV's)."""

import pickle

import numpy as np
import pytest
from conftest import fit_programs

sklearn = pytest.importorskip("sklearn")

from sklearn import linear_model as sk  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.metrics import make_scorer, mean_poisson_deviance  # noqa: E402
from sklearn.model_selection import GridSearchCV, PredefinedSplit  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import jaxglm as jg  # noqa: E402
from jaxglm.sklearn import (  # noqa: E402
    GammaRegressor,
    GLMRegressor,
    GLMRegressorCV,
    LogisticRegression,
    MultinomialClassifier,
    PoissonRegressor,
    TweedieRegressor,
)

# scikit-learn's checks run in full on PoissonRegressor and LogisticRegression pass (all but
# check_array_api_input, which needs SCIPY_ARRAY_API and an array-API estimator), but they
# take about 65 s, one compiled program per check shape. The suite runs the checks of the
# API contract (parameters, fitted state, pickling, weights, idempotence), which compile few:
SUBSET = {
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimators_unfitted",
    "check_estimators_pickle",
    "check_fit_idempotent",
    "check_sample_weight_equivalence_on_dense_data",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
}


ALL_CHECKS = parametrize_with_checks([PoissonRegressor(), LogisticRegression()])
CHECKS = [pair for pair in ALL_CHECKS.args[1] if getattr(pair[1], "func", None).__name__ in SUBSET]


def test_every_check_of_the_subset_runs_on_both_estimators():
    names = [(type(e).__name__, c.func.__name__) for e, c in CHECKS]
    assert {n for _, n in names} == SUBSET
    assert {e for e, _ in names} == {"PoissonRegressor", "LogisticRegression"}


@pytest.mark.parametrize(("estimator", "check"), CHECKS, ids=ALL_CHECKS.kwargs["ids"])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = rng.poisson(np.exp(0.2 + X @ np.array([0.4, -0.3, 0.1])))
    return X, y.astype(float)


def test_regressors_match_scikit_learn(counts):
    X, y = counts
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    pairs = [
        (PoissonRegressor(), sk.PoissonRegressor(tol=1e-12, max_iter=1000)),
        (GammaRegressor(alpha=0.1), sk.GammaRegressor(alpha=0.1, tol=1e-12, max_iter=1000)),
        (TweedieRegressor(power=1.5, alpha=0.1),
         sk.TweedieRegressor(power=1.5, alpha=0.1, tol=1e-12, max_iter=1000)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        target = y + 0.5 if isinstance(ours, GammaRegressor) else y
        ours.fit(X, target, sample_weight=w)
        theirs.fit(X, target, sample_weight=w)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-8)
        assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-5)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)
    assert isinstance(ours.result_, jg.GLMResult) and ours.n_iter_ > 0


def test_classifiers_match_scikit_learn(counts):
    X, _ = counts
    rng = np.random.default_rng(2)
    labels = np.array(["high", "low", "mid"])[(X[:, 0] + rng.normal(size=100) > 0) * 1 + (
        X[:, 1] > 0.5) * 1]  # fmt: skip
    two = np.where(X[:, 0] + rng.normal(size=100) > 0, "yes", "no")
    for y in (two, labels):
        ours = LogisticRegression(C=0.5).fit(X, y)
        theirs = sk.LogisticRegression(C=0.5, tol=1e-12, max_iter=1000).fit(X, y)
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    clf = MultinomialClassifier().fit(X, labels)
    assert clf.coef_.shape == (2, 3) and clf.result_.family.n_classes == 3
    res = jg.fit(X, np.unique(labels, return_inverse=True)[1], jg.Multinomial(3))
    np.testing.assert_allclose(clf.predict_proba(X), res.predict(X), rtol=1e-12)


def test_pipeline_clone_and_pickle(counts):
    X, y = counts
    pipe = make_pipeline(StandardScaler(), GLMRegressor(family="poisson", link="log"))
    pipe.fit(X, y)
    ref = jg.fit(StandardScaler().fit_transform(X), y, jg.Poisson())
    np.testing.assert_allclose(pipe[-1].coef_, ref.coef, rtol=1e-12)
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict(X), pipe.predict(X))
    fresh = clone(pipe[-1])
    assert fresh.get_params() == pipe[-1].get_params() and not hasattr(fresh, "coef_")
    with pytest.raises(ValueError, match="unknown family 'poison'"):
        GLMRegressor(family="poison").fit(X, y)


def test_grid_search_compiles_at_most_two_programs_and_picks_cv_alpha_min(counts):
    X, y = counts
    X = X[:, :2]  # a p of its own: the programs counted are this search's
    alphas = [0.3, 0.03, 0.003]
    foldid = np.arange(len(y)) % 3
    before = fit_programs()
    search = GridSearchCV(
        PoissonRegressor(), {"alpha": alphas}, cv=PredefinedSplit(foldid),
        scoring=make_scorer(mean_poisson_deviance, greater_is_better=False),
    ).fit(X, y)  # fmt: skip
    # 9 fold fits (the fold sizes 66 and 67 share a size bucket; alpha is traced) + the refit
    assert fit_programs() - before <= 2
    res = jg.cv(X, y, jg.Poisson(), l1_ratio=0.0, alphas=alphas, foldid=foldid)
    assert search.best_params_["alpha"] == pytest.approx(float(res.alpha_min))
    np.testing.assert_allclose(-search.cv_results_["mean_test_score"], res.mean, rtol=1e-6)
    # the CV estimator is jaxglm.cv (its folds drawn from random_state)
    est = GLMRegressorCV(family="poisson", l1_ratio=0.0, alphas=alphas, cv=3).fit(X, y)
    ref = jg.cv(X, y, jg.Poisson(), l1_ratio=0.0, alphas=alphas, n_folds=3, seed=0)
    assert est.alpha_ == float(ref.alpha_min) and est.mse_path_.shape == (3, 3)
    np.testing.assert_allclose(est.coef_, ref.refit.coef, rtol=1e-12)
