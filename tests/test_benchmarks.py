"""The benchmarks' one rule (benchmarks/rule.py) and their reference, checked without timing:
every tool's tolerance ladder is built by the same function from that library's own
default, the defaults are the libraries' real ones, and the NumPy Newton reference that
every accuracy column is measured against agrees with statsmodels."""

import importlib.util
import inspect

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression, PoissonRegressor

import jaxglm as jg
from benchmarks import batched, wide
from benchmarks.adapters import all_adapters
from benchmarks.problems import Problem
from benchmarks.reference import _newton
from benchmarks.rule import LOOSER, ladder


def test_a_ladder_starts_100x_looser_and_steps_half_decades_through_the_default():
    rungs = np.array(ladder(1e-4))
    assert rungs[0] == pytest.approx(LOOSER * 1e-4) and 1e-4 in rungs
    np.testing.assert_allclose(rungs[:-1] / rungs[1:], np.sqrt(10), rtol=2e-3)
    assert len(rungs) == 13 and rungs[-1] == pytest.approx(1e-8)


def test_every_tool_builds_its_ladder_by_the_rule_from_its_own_default():
    adapters = all_adapters()
    assert len(adapters) >= 10
    for adapter in adapters:
        assert adapter.TOLS == ladder(adapter.DEFAULT_TOL), adapter.NAME
    assert batched.JAXGLM_TOLS == ladder(1e-8)
    assert wide.SKLEARN_TOLS == ladder(1e-4) and wide.JAXGLM_TOLS["float64"] == ladder(1e-8)


def test_the_declared_defaults_are_the_libraries_own():
    declared = {a.NAME: a.DEFAULT_TOL for a in all_adapters()}
    assert declared["sklearn lbfgs"] == LogisticRegression().tol == PoissonRegressor().tol
    assert declared["sklearn newton-cholesky"] == LogisticRegression().tol
    assert declared["sklearn newton-cholesky float32"] == LogisticRegression().tol
    tol = inspect.signature(sm.GLM.fit).parameters["tol"].default
    assert declared["statsmodels IRLS"] == tol
    for name in ("jaxglm", "jaxglm NumPy in", "jaxglm no-cov", "jaxglm Newton", "jaxglm float32"):
        assert declared[name] == jg.Newton().tol == jg.SubsampledNewton().tol
    if importlib.util.find_spec("glum") is not None:
        from glum import GeneralizedLinearRegressor

        # gradient_tol=None means the solver's default, resolved at fit: 1e-4 for irls-ls
        rng = np.random.default_rng(0)
        model = GeneralizedLinearRegressor(alpha=0.0)
        model.fit(rng.normal(size=(20, 2)), rng.normal(size=20))
        assert GeneralizedLinearRegressor().gradient_tol is None
        assert declared["glum"] == model._gradient_tol


@pytest.mark.parametrize("family", ["logistic", "poisson", "gamma_log"])
def test_the_numpy_reference_agrees_with_statsmodels(family):
    """benchmarks/reference.py's Newton (the accuracy columns' reference) against
    statsmodels' IRLS on a small ill-conditioned problem of each family."""
    rng = np.random.default_rng(3)
    n, p = 400, 4
    X = rng.normal(size=(n, p)) @ np.array([[1, 0.9, 0, 0], [0, 0.1, 0, 0], [0, 0, 1, 0],
                                            [0, 0, 0, 30.0]])  # fmt: skip
    eta = 0.3 + X @ np.array([0.5, -0.4, 0.3, 0.01])
    if family == "logistic":
        y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
        sm_family = sm.families.Binomial()
    elif family == "poisson":
        y = rng.poisson(np.exp(0.5 * eta)).astype(float)
        sm_family = sm.families.Poisson()
    else:
        y = rng.gamma(2.0, np.exp(0.5 * eta) / 2.0)
        sm_family = sm.families.Gamma(sm.families.links.Log())
    problem = Problem(
        name=f"test_{family}", family=family, X=X, y=y, coef_true=np.zeros(p),
        intercept_true=0.0, cond=float(np.linalg.cond(X)),
    )  # fmt: skip
    ref = _newton(problem)
    res = sm.GLM(y, sm.add_constant(X), family=sm_family).fit(tol=1e-13, maxiter=200)
    np.testing.assert_allclose(ref.params, res.params, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ref.bse, res.bse, rtol=1e-8)
