"""Property: ``fit`` raises the documented ValueError exactly for invalid inputs, reports an
aliased column as RANK_DEFICIENT (or drops exactly it with ``drop_collinear=True``), and a
converged fit has statsmodels' deviance.

The strategy knows what it drew: ``invalid`` is set when it put NaN/inf in X, a response
outside the family's support, or zero in every weight; ``aliased`` names the column R's
pivoted QR drops for a constant column or a multiple of another (the later of the two).
Each kind of bad value is drawn rarely (y in one example of five, X and all-zero weights
in one of ten), so about two examples in three reach the fit.
Shapes are fixed (n=80, p=3; p=2 after dropping an aliased column) so compiles stay few;
the number of examples comes from the hypothesis profile in conftest.py ("ci" by default,
``--hypothesis-profile=thorough`` for more).
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxglm as jg

N, P = 80, 3
SCALES = [1e-3, 1.0, 1e3]


def rarely(draw, values, common, odds=5):
    """One of ``values`` in about one draw of ``odds``, else ``common``."""
    return draw(st.sampled_from(values)) if draw(st.integers(1, odds)) == 1 else common


@st.composite
def designs(draw, family):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, P)) * np.array([draw(st.sampled_from(SCALES)) for _ in range(P)])
    X += np.array([draw(st.sampled_from([0.0, 1.0, -1e2])) for _ in range(P)])  # location
    special = rarely(draw, ["constant", "duplicate", "nan", "inf"], "none")
    if special == "none" and draw(st.booleans()):
        special = "binary"
    j = draw(st.integers(0, P - 1))
    aliased = ()
    if special == "constant":
        X[:, j] = draw(st.sampled_from([0.0, 1.0, 3e5]))
        aliased = (j,)
    elif special == "duplicate":
        k = (j + 1) % P
        X[:, j] = X[:, k] * draw(st.sampled_from([1.0, -2.0]))
        aliased = (max(j, k),)
    elif special in ("nan", "inf"):
        X[draw(st.integers(0, N - 1)), j] = np.nan if special == "nan" else np.inf
    elif special == "binary":
        X[:, j] = rng.integers(0, 2, N)
    strength = draw(st.sampled_from([0.0, 0.5, 1.5]))
    Xf = np.where(np.isfinite(X), X, 0.0)
    z = (Xf - Xf.mean(0)) / np.where(Xf.std(0) > 0, Xf.std(0), 1.0)
    eta = strength * z @ rng.normal(size=P)
    if isinstance(family, jg.Poisson):
        y = rng.poisson(np.exp(np.clip(eta, -30, 8))).astype(float)
        bad = rarely(draw, [-1.0, np.nan, 0.5], None)  # 0.5: a valid non-integer count
        invalid_y = bad is not None and not bad == 0.5
    else:
        y = (rng.uniform(size=N) < 1 / (1 + np.exp(-np.clip(eta, -30, 30)))).astype(float)
        bad = rarely(draw, [0.5, 2.0, np.nan], None)
        invalid_y = bad is not None
    if bad is not None:
        y[draw(st.integers(0, N - 1))] = bad
    w = None
    weights = rarely(draw, ["zero"], draw(st.sampled_from(["none", "counts"])), odds=10)
    if weights == "counts":
        w = rng.integers(1, 3, N).astype(float)
        w[: N // 4] = 0.0
    elif weights == "zero":
        w = np.zeros(N)
    invalid = special in ("nan", "inf") or invalid_y or weights == "zero"
    return X, y, w, draw(st.booleans()), invalid, aliased


def statsmodels_deviance(family, X, y, w, aliased):
    """statsmodels' IRLS deviance on the rows with positive weight and the columns R keeps
    (a reference)."""
    rows = np.ones(N, bool) if w is None else w > 0
    cols = [j for j in range(P) if j not in aliased]
    sm_family = sm.families.Poisson() if isinstance(family, jg.Poisson) else sm.families.Binomial()
    model = sm.GLM(
        y[rows], sm.add_constant(X[rows][:, cols], has_constant="add"), family=sm_family,
        var_weights=None if w is None else w[rows],
    )  # fmt: skip
    return model.fit(tol=1e-12, maxiter=200).deviance


def check(family, data):
    X, y, w, drop, invalid, aliased = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning / PerfectSeparationWarning
        if invalid:
            with pytest.raises(ValueError, match=r"non-finite|outside the support|all weights"):
                jg.fit(X, y, family=family, weights=w, drop_collinear=drop)
            return
        res = jg.fit(X, y, family=family, weights=w, drop_collinear=drop)
    status = res.status
    assert status in set(jg.Status) - {jg.Status.RUNNING}
    if aliased and not drop:
        assert status == jg.Status.RANK_DEFICIENT
        return
    if drop:
        assert res.aliased == aliased
        assert np.isnan(np.asarray(res.params)[[j + 1 for j in aliased]]).all()
    if status == jg.Status.CONVERGED:
        kept = np.array([0] + [j + 1 for j in range(P) if j not in res.aliased])
        assert np.isfinite(np.asarray(res.params)[kept]).all()
        assert np.isfinite(np.asarray(res.bse)[kept]).all()
        reference = statsmodels_deviance(family, X, y, w, res.aliased)
        assert abs(float(res.deviance) - reference) <= 1e-7 * max(reference, 1.0)
    else:  # Bernoulli data this small can separate; nothing else should stop a fit
        assert isinstance(family, jg.Bernoulli) and status == jg.Status.SEPARATION


@pytest.mark.parametrize("family", [jg.Poisson(), jg.Bernoulli()], ids=["Poisson", "Bernoulli"])
def test_invalid_inputs_raise_aliased_columns_are_reported_fits_match_statsmodels(family):
    @settings(deadline=None)
    @given(designs(family))
    def prop(data):
        check(family, data)

    prop()
