"""Property: ``fit`` raises the documented ValueError, or ``converged`` implies finite results.

Shapes are fixed (n=80, p=3; p=2 after dropping an aliased column) so compiles stay few;
the number of examples comes from the hypothesis profile in conftest.py ("ci" by default,
``--hypothesis-profile=thorough`` for more).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxglm as jg

N, P = 80, 3
SCALES = [1e-8, 1e-3, 1.0, 1e3, 1e8]


@st.composite
def designs(draw, family):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, P)) * np.array([draw(st.sampled_from(SCALES)) for _ in range(P)])
    X += np.array([draw(st.sampled_from([0.0, 1.0, -1e4])) for _ in range(P)])  # location
    special = draw(st.sampled_from(["none", "constant", "duplicate", "nan", "inf", "binary"]))
    j = draw(st.integers(0, P - 1))
    if special == "constant":
        X[:, j] = draw(st.sampled_from([0.0, 1.0, 3e5]))
    elif special == "duplicate":
        X[:, j] = X[:, (j + 1) % P] * draw(st.sampled_from([1.0, -2.0]))
    elif special in ("nan", "inf"):
        X[draw(st.integers(0, N - 1)), j] = np.nan if special == "nan" else np.inf
    elif special == "binary":
        X[:, j] = rng.integers(0, 2, N)
    strength = draw(st.sampled_from([0.0, 0.5, 3.0, 50.0]))
    Xf = np.where(np.isfinite(X), X, 0.0)
    z = (Xf - Xf.mean(0)) / np.where(Xf.std(0) > 0, Xf.std(0), 1.0)
    eta = strength * z @ rng.normal(size=P)
    if isinstance(family, jg.Poisson):
        y = rng.poisson(np.exp(np.clip(eta, -30, 8))).astype(float)
        if draw(st.booleans()):
            y[draw(st.integers(0, N - 1))] = draw(st.sampled_from([-1.0, np.nan, 1e6]))
    else:
        y = (rng.uniform(size=N) < 1 / (1 + np.exp(-np.clip(eta, -30, 30)))).astype(float)
        if draw(st.booleans()):
            y[draw(st.integers(0, N - 1))] = draw(st.sampled_from([0.5, 2.0, np.nan]))
    w = None
    if draw(st.booleans()):
        w = rng.integers(0, 3, N).astype(float)
    return X, y, w, draw(st.booleans())


def check(family, data):
    X, y, w, drop = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning / PerfectSeparationWarning
        try:
            res = jg.fit(X, y, family=family, weights=w, drop_collinear=drop)
        except ValueError as err:
            assert any(
                s in str(err) for s in ("non-finite", "outside the support", "all weights are zero")
            ), err
            return
    assert int(res.status) in set(jg.Status) - {jg.Status.RUNNING}
    params, bse = np.asarray(res.params), np.asarray(res.bse)
    if bool(res.converged):
        kept = np.array([0] + [j + 1 for j in range(P) if j not in res.aliased])
        assert np.isfinite(params[kept]).all()
        assert np.isfinite(bse[kept]).all()
        assert np.isfinite(float(res.deviance))
        assert np.isnan(params[[j + 1 for j in res.aliased]]).all()
    else:
        assert res.aliased == () or drop


@pytest.mark.parametrize("family", [jg.Poisson(), jg.Bernoulli()], ids=["Poisson", "Bernoulli"])
def test_fit_raises_or_converged_is_finite(family):
    @settings(deadline=None)
    @given(designs(family))
    def prop(data):
        check(family, data)

    prop()
