"""scikit-learn estimators over :func:`jaxglm.fit`: drop-in GLMs for ``Pipeline`` and
``GridSearchCV``.

The defaults follow scikit-learn's estimators of the same name (``PoissonRegressor(alpha=1.0)``,
``LogisticRegression(C=1.0)``, ``TweedieRegressor(power=0.0, link="auto")``), with one
difference: ``tol=None`` is the jaxglm solver's own tolerance on its optimality measure
(Newton: the Newton decrement), which solves tighter than scikit-learn's L-BFGS default.
The penalized objective is the same as scikit-learn's: ``sum_i s_i d_i / (2 sum_i s_i) +
alpha / 2 ||coef||^2`` with ``s`` the sample weights (they are the fit's prior weights) and
``d`` the unit deviance; ``LogisticRegression``'s ``C`` is ``alpha = 1 / (C sum_i s_i)``.

Fitted attributes: ``coef_``, ``intercept_``, ``n_iter_``, ``n_features_in_`` (and
``feature_names_in_`` for frames), and the full :class:`jaxglm.GLMResult` as ``result_``
for inference (``result_.summary()``; its ``bse`` are NaN when ``alpha > 0``).

Compilation: ``alpha``, ``l1_ratio`` and ``C`` are traced, and rows are padded to size
buckets, so a grid search over them compiles one program per fold size bucket (the
folds of a K-fold split share one), plus one for the refit on all rows.

scikit-learn is an optional dependency (``pip install jaxglm[sklearn]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jax.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from jaxglm import families as F
from jaxglm._fit import fit
from jaxglm._names import family_from_name, link_from_name
from jaxglm.paths import cv

__all__ = [
    "GLMRegressor",
    "GLMRegressorCV",
    "GammaRegressor",
    "LogisticRegression",
    "MultinomialClassifier",
    "PoissonRegressor",
    "TweedieRegressor",
]


def _weights(sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
    return None if sample_weight is None else _check_sample_weight(sample_weight, X)


def _fit(est: Any, X: Any, y: Any, family: F.Family, link: Any, alpha: Any, l1_ratio: Any,
         weights: Any) -> Any:  # fmt: skip
    """The one fit of every estimator; sets ``result_``, ``n_iter_``."""
    res = fit(
        X, y, family, link_from_name(link), weights=weights, alpha=alpha, l1_ratio=l1_ratio,
        fit_intercept=est.fit_intercept, tol=est.tol, max_iter=est.max_iter,
    )  # fmt: skip
    est.result_ = res
    est.n_iter_ = int(res.n_iter)
    return res


class _Regressor(RegressorMixin, BaseEstimator):
    """What the GLM regressors share: fit, predict, tags; each subclass names its model
    (``_model() -> (family, link)``)."""

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Any:
        """Fit on ``X`` (n, p), ``y`` (n,), with ``sample_weight`` as prior weights."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        family, link = self._model()
        l1_ratio = getattr(self, "l1_ratio", 0.0)
        res = _fit(self, X, y, family, link, self.alpha, l1_ratio, _weights(sample_weight, X))
        self.coef_ = np.asarray(res.coef)
        self.intercept_ = float(res.intercept) if self.fit_intercept else 0.0
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The predicted mean ``mu`` for ``X``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return np.asarray(self.result_.predict(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        family, _ = self._model()
        tags.target_tags.positive_only = not bool(family.in_support(np.array(-1.0)))
        return tags


class GLMRegressor(_Regressor):
    """A GLM of any family and link, by name or object (:mod:`jaxglm._names`).

    Args:
        family: ``"gaussian"``, ``"poisson"``, ``"gamma"``, ``"inverse_gaussian"``,
            ``"tweedie"``, ``"negative_binomial"``, ``"bernoulli"``, ... or a family.
        link: a link name, a link, or None (the family's default).
        alpha: ridge (elastic-net with ``l1_ratio``) penalty strength.
        l1_ratio: elastic-net mixing in [0, 1] (:func:`jaxglm.fit`).
        fit_intercept, max_iter, tol: as :func:`jaxglm.fit` (``tol=None``: the solver's).

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import GLMRegressor
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> y = np.random.default_rng(1).poisson(np.exp(0.3 * X[:, 0]))
        >>> GLMRegressor(family="poisson").fit(X, y).coef_.shape
        (2,)
    """

    def __init__(self, family: Any = "gaussian", link: Any = None, alpha: float = 0.0,
                 l1_ratio: float = 0.0, fit_intercept: bool = True, max_iter: int = 100,
                 tol: float | None = None) -> None:  # fmt: skip
        self.family = family
        self.link = link
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _model(self) -> tuple[F.Family, Any]:
        return family_from_name(self.family), self.link


class GLMRegressorCV(_Regressor):
    """A GLM with its penalty chosen by k-fold cross-validation over the path
    (:func:`jaxglm.cv`: folds x alphas in one compiled program), as scikit-learn's
    ``ElasticNetCV``: the held-out mean deviance picks ``alpha_`` (``refit="min"``, or the
    largest alpha within one standard error, ``"1se"``), and the model is refitted on all
    rows at it.

    Args:
        family, link: as :class:`GLMRegressor`.
        l1_ratio: elastic-net mixing (default 1.0, the lasso, as :func:`jaxglm.cv`).
        n_alphas, alphas: the grid (``alphas`` given: used as they are).
        cv: the number of folds; random_state: the seed of the fold assignment.
        refit: ``"min"`` or ``"1se"``.
        fit_intercept, max_iter, tol: as :func:`jaxglm.fit`.

    Fitted attributes: ``alpha_``, ``alphas_``, ``mse_path_`` (the (folds, alphas) held-out
    mean deviance: ``cv_result_.fold_deviance``), ``cv_result_`` (the
    :class:`jaxglm.CVResult`), and those of :class:`GLMRegressor` (``result_`` the refit).

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import GLMRegressorCV
        >>> X = np.random.default_rng(0).normal(size=(200, 2))
        >>> y = np.random.default_rng(1).poisson(np.exp(0.5 * X[:, 0]))
        >>> est = GLMRegressorCV(family="poisson", n_alphas=5, cv=3).fit(X, y)
        >>> est.mse_path_.shape, est.coef_.shape
        ((3, 5), (2,))
    """

    def __init__(self, family: Any = "gaussian", link: Any = None, *, l1_ratio: float = 1.0,
                 n_alphas: int = 100, alphas: ArrayLike | None = None, cv: int = 5,
                 random_state: int = 0, refit: str = "min", fit_intercept: bool = True,
                 max_iter: int = 100, tol: float | None = None) -> None:  # fmt: skip
        self.family = family
        self.link = link
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.cv = cv
        self.random_state = random_state
        self.refit = refit
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _model(self) -> tuple[F.Family, Any]:
        return family_from_name(self.family), self.link

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Any:
        """Cross-validate the path on ``X`` (n, p), ``y`` (n,), then refit at ``alpha_``."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        family, link = self._model()
        res = cv(
            X, y, family, link_from_name(link), weights=_weights(sample_weight, X),
            fit_intercept=self.fit_intercept, l1_ratio=self.l1_ratio, n_alphas=self.n_alphas,
            alphas=self.alphas, n_folds=self.cv, seed=self.random_state, refit=self.refit,
            tol=self.tol, max_iter=self.max_iter,
        )  # fmt: skip
        self.cv_result_ = res
        self.alphas_ = np.asarray(res.path.alphas)
        self.mse_path_ = np.asarray(res.fold_deviance)
        self.alpha_ = float(res.alpha_min if self.refit == "min" else res.alpha_1se)
        self.result_ = res.refit
        self.n_iter_ = int(res.refit.n_iter)
        self.coef_ = np.asarray(res.refit.coef)
        self.intercept_ = float(res.refit.intercept) if self.fit_intercept else 0.0
        return self


class PoissonRegressor(_Regressor):
    """Poisson regression with a log link, scikit-learn's defaults (``alpha=1.0``).

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import PoissonRegressor
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> y = np.random.default_rng(1).poisson(np.exp(0.3 * X[:, 0]))
        >>> PoissonRegressor(alpha=0.0).fit(X, y).predict(X[:3]).shape
        (3,)
    """

    def __init__(self, *, alpha: float = 1.0, fit_intercept: bool = True, max_iter: int = 100,
                 tol: float | None = None) -> None:  # fmt: skip
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _model(self) -> tuple[F.Family, Any]:
        return F.Poisson(), None


class GammaRegressor(_Regressor):
    """Gamma regression with a log link, scikit-learn's defaults (``alpha=1.0``).

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import GammaRegressor
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> y = np.random.default_rng(1).gamma(2.0, np.exp(0.3 * X[:, 0]) / 2)
        >>> GammaRegressor().fit(X, y).n_iter_ > 0
        True
    """

    def __init__(self, *, alpha: float = 1.0, fit_intercept: bool = True, max_iter: int = 100,
                 tol: float | None = None) -> None:  # fmt: skip
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _model(self) -> tuple[F.Family, Any]:
        return F.Gamma(), "log"


class TweedieRegressor(_Regressor):
    """Tweedie regression, scikit-learn's defaults (``power=0.0``, ``alpha=1.0``,
    ``link="auto"``: identity for ``power <= 0``, log otherwise).

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import TweedieRegressor
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> y = np.random.default_rng(1).poisson(np.exp(0.3 * X[:, 0])) * 1.0
        >>> TweedieRegressor(power=1.5, alpha=0.1).fit(X, y).coef_.shape
        (2,)
    """

    def __init__(self, *, power: float = 0.0, alpha: float = 1.0, fit_intercept: bool = True,
                 link: str = "auto", max_iter: int = 100,
                 tol: float | None = None) -> None:  # fmt: skip
        self.power = power
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.link = link
        self.max_iter = max_iter
        self.tol = tol

    def _model(self) -> tuple[F.Family, Any]:
        link = self.link
        if link == "auto":
            link = "identity" if self.power <= 0 else "log"
        return F.Tweedie(power=float(self.power)), link


class _Classifier(ClassifierMixin, BaseEstimator):
    """What the classifiers share: labels of any type as sorted codes, the first the
    reference class; ``predict_proba``, ``predict``. Each subclass gives its penalty
    (``_penalty(weights, n) -> (alpha, l1_ratio)``) and ``_symmetric()``."""

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Any:
        """Fit on ``X`` (n, p) and labels ``y`` (n,) of any type."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        k = len(self.classes_)
        if k < 2:
            raise ValueError(f"this solver needs samples of at least 2 classes; got {k} class")
        weights = _weights(sample_weight, X)
        alpha, l1_ratio = self._penalty(weights, X.shape[0])
        if k == 2:
            family = F.Bernoulli()
            res = _fit(self, X, codes.astype(X.dtype), family, None, alpha, l1_ratio, weights)
            self.coef_ = np.asarray(res.coef)[None, :]
            self.intercept_ = np.atleast_1d(np.asarray(res.intercept)) * float(self.fit_intercept)
            return self
        family = F.Multinomial(k, symmetric=self._symmetric() and float(alpha) > 0)
        res = _fit(self, X, codes, family, None, alpha, l1_ratio, weights)
        self.coef_ = np.asarray(res.coef).T
        self.intercept_ = np.asarray(res.intercept) * float(self.fit_intercept)
        return self

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """The linear predictor: (n,) for two classes, else (n, m) per class of ``theta``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        eta = X @ self.coef_.T + self.intercept_
        return eta[:, 0] if len(self.classes_) == 2 else eta

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """(n, k) class probabilities, the columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if len(self.classes_) == 2:
            p1 = np.asarray(self.result_.predict(X))
            return np.column_stack([1.0 - p1, p1])
        return np.asarray(self.result_.predict(X))

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class label."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class LogisticRegression(_Classifier):
    """Logistic regression, scikit-learn's defaults (``C=1.0``, ``l1_ratio=0.0``).

    The penalty ``1 / (2 C) ||coef||^2`` on the summed log-loss is ``alpha = 1 / (C sum(s))``
    on jaxglm's mean (``C=np.inf``: no penalty). More than two classes: a multinomial
    (softmax) model, symmetric (one coefficient row per class, scikit-learn's) when
    penalized, class 0 the reference otherwise.

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import LogisticRegression
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> y = np.where(X[:, 0] + np.random.default_rng(1).normal(size=100) > 0, "yes", "no")
        >>> clf = LogisticRegression().fit(X, y)
        >>> clf.classes_.tolist(), clf.predict_proba(X[:2]).shape
        (['no', 'yes'], (2, 2))
    """

    def __init__(self, *, C: float = 1.0, l1_ratio: float = 0.0, fit_intercept: bool = True,
                 max_iter: int = 100, tol: float | None = None) -> None:  # fmt: skip
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _penalty(self, weights: np.ndarray | None, n: int) -> tuple[Any, Any]:
        total = float(n if weights is None else np.sum(weights))
        return (0.0 if np.isinf(self.C) else 1.0 / (self.C * total)), self.l1_ratio

    def _symmetric(self) -> bool:
        return True


class MultinomialClassifier(_Classifier):
    """Multinomial (softmax) regression, class 0 (the first of the sorted labels) the
    reference (statsmodels' ``MNLogit``), with ``alpha`` / ``l1_ratio`` as
    :func:`jaxglm.fit`'s; ``symmetric=True`` (with ``alpha > 0``) gives one coefficient row
    per class. ``coef_`` is (m, p), one row per class of ``theta``.

    Example:
        >>> import numpy as np
        >>> from jaxglm.sklearn import MultinomialClassifier
        >>> X = np.random.default_rng(0).normal(size=(300, 2))
        >>> y = np.array(["a", "b", "c"])[np.arange(300) % 3]
        >>> MultinomialClassifier().fit(X, y).coef_.shape
        (2, 2)
    """

    def __init__(self, *, alpha: float = 0.0, l1_ratio: float = 0.0, symmetric: bool = False,
                 fit_intercept: bool = True, max_iter: int = 100,
                 tol: float | None = None) -> None:  # fmt: skip
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.symmetric = symmetric
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _penalty(self, weights: np.ndarray | None, n: int) -> tuple[Any, Any]:
        return self.alpha, self.l1_ratio

    def _symmetric(self) -> bool:
        return self.symmetric
