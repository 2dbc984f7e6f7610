"""NegativeBinomial(alpha=None): alpha by ML jointly with beta, against statsmodels (NB2)."""

import json
import pathlib

import jax
import numpy as np
import pytest
import statsmodels.api as sm
from conftest import fit_programs, simulate

import jaxglm as jg

REF = json.loads(
    pathlib.Path(__file__).parent.joinpath("references/nb_alpha_reference.json").read_text()
)


def test_alpha_and_params_match_statsmodels_nb2():
    data = sm.datasets.randhie.load_pandas().data
    X, y = data[REF["columns"]].to_numpy(float), data["mdvis"].to_numpy(float)
    res = jg.fit(X, y, family=jg.NegativeBinomial(alpha=None))
    assert bool(res.converged)
    np.testing.assert_allclose(float(res.family.alpha), REF["alpha"], rtol=1e-6)
    np.testing.assert_allclose(res.params, REF["params"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(float(res.llf), REF["llf"], rtol=1e-10)
    # MASS's SE (alpha alone) vs statsmodels' joint inverse Hessian: beta and alpha are
    # asymptotically orthogonal, so the two agree to O(1/n).
    np.testing.assert_allclose(float(res.alpha_bse), REF["bse_alpha_joint"], rtol=1e-3)
    # AIC counts alpha as a parameter (R's glm.nb).
    assert float(res.aic) == pytest.approx(-2 * REF["llf"] + 2 * (len(REF["params"]) + 1))


def test_estimated_alpha_under_vmap_equals_the_loop():
    X, y = simulate(jg.NegativeBinomial())
    ys = np.stack([y, y[::-1], np.roll(y, 7)])
    batch = jax.vmap(lambda yy: jg.fit(X, yy, family=jg.NegativeBinomial(alpha=None)))(ys)
    assert np.all(np.asarray(batch.converged))
    for i in (0, 2):  # one program for every member: two checks suffice
        one = jg.fit(X, ys[i], family=jg.NegativeBinomial(alpha=None))
        np.testing.assert_allclose(batch.family.alpha[i], one.family.alpha, rtol=1e-10)
        np.testing.assert_allclose(batch[i].params, one.params, rtol=1e-10)
        np.testing.assert_allclose(batch[i].alpha_bse, one.alpha_bse, rtol=1e-10)


def test_default_estimates_alpha_in_float32_once_per_shape():
    """NegativeBinomial() estimates alpha (R's glm.nb default). In float32 the loop stops at
    float32's resolution of log(alpha) (before: 50 outer fits, then MAX_ITER, about 4 s a
    call on randhie), and a second call reuses the compiled program."""
    data = sm.datasets.randhie.load_pandas().data
    X = data[REF["columns"]].to_numpy(np.float32)
    y = data["mdvis"].to_numpy(np.float32)
    res = jg.fit(X, y, family=jg.NegativeBinomial())
    assert res.params.dtype == np.float32
    assert bool(res.converged), res.status_message
    np.testing.assert_allclose(float(res.family.alpha), REF["alpha"], rtol=1e-4)
    before = fit_programs()
    again = jg.fit(X, y, family=jg.NegativeBinomial())
    assert fit_programs() == before
    assert float(again.family.alpha) == float(res.family.alpha)
