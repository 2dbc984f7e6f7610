"""R's start without an intercept (issue 15): an identity link whose intercept-only point
(beta = 0) is outside the mean range. References: statsmodels GLM on cpunish,
``EXECUTIONS ~ INCOME + SOUTH - 1`` (tests/references/make_start_references.py)."""

import numpy as np
import pytest
import statsmodels.api as sm

import jaxglm as jg
from tests.test_references import rel_err

REFS = {
    "Poisson": {
        "params": [4.726742233852085e-05, 6.500582594923615],
        "bse": [1.129847914359691e-05, 1.1375256268618152],
        "deviance": 96.72065751374198,
    },
    "Gamma": {
        "params": [4.724722442090127e-05, 6.432434565421048],
        "bse": [1.868395211753476e-05, 3.832316724324029],
        "deviance": 15.784068540759883,
    },
}


@pytest.fixture(scope="module")
def cpunish():
    d = sm.datasets.cpunish.load_pandas().data
    return d[["INCOME", "SOUTH"]].to_numpy(float), d["EXECUTIONS"].to_numpy(float)


@pytest.mark.parametrize("family", [jg.Poisson(), jg.Gamma()], ids=lambda f: f.name)
def test_identity_without_intercept_matches_statsmodels(cpunish, family):
    X, y = cpunish
    res = jg.fit(X, y, family, jg.Identity(), fit_intercept=False)
    ref = REFS[family.name]
    assert bool(res.converged), res.status_message
    assert rel_err(res.params, ref["params"]) < 1e-6
    assert rel_err(res.bse, ref["bse"]) < 1e-6
    assert abs(float(res.deviance) - ref["deviance"]) < 1e-8 * ref["deviance"]


def test_optax_starts_from_r_start_without_an_intercept(cpunish):
    """Optax does not build its own first model: the pipeline hands it R's start."""
    X, y = cpunish
    res = jg.fit(X, y, jg.Gamma(), jg.Identity(), fit_intercept=False, solver=jg.Optax())
    assert bool(res.converged), res.status_message
    np.testing.assert_allclose(res.params, REFS["Gamma"]["params"], rtol=1e-4)


def test_prox_newton_converges_on_columns_in_large_units(cpunish):
    """INCOME is in dollars (~1e4) beside a 0/1 column: FISTA works in Jacobi-scaled
    coordinates, so one step size does not serve both (before: MAX_ITER, params 1e-4 and
    0.4 against 4.7e-5 and 6.4)."""
    X, y = cpunish
    res = jg.fit(X, y, jg.Gamma(), jg.Identity(), fit_intercept=False, solver=jg.ProxNewton())
    assert bool(res.converged), res.status_message
    assert rel_err(res.params, REFS["Gamma"]["params"]) < 1e-6
