"""Categorical and sparse designs (:mod:`jaxglm.designs`) against the one-hot dense design.

The solvers touch ``X`` only through :mod:`jaxglm._linalg`'s products, and a family only
changes the row weights ``g``/``h`` those products receive: so the products are checked
against the one-hot matrix for arbitrary weights (every family's data path), and full fits
for two families (Poisson against the one-hot fit with weights, exposure and a ridge, with
the Gram formed whole and with a categorical block eliminated; Gamma with a log link
against statsmodels' ``C(...)`` fit on the Grunfeld panel), each compiled once (fits
compile for seconds: the suite's budget). The other families' fits, Multinomial's
included: ``tests/test_design_families.py``.
"""

import dataclasses
import functools
import json
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import jaxglm as jg
from jaxglm import _linalg

REFERENCES = json.loads(
    (Path(__file__).parent / "references" / "design_references.json").read_text()
)


@functools.cache
def data(n: int = 60):
    """A design with a dense block (2), categoricals of 4 and 3 levels and a sparse block
    (2), its codes, and a Poisson response."""
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(n, 2))
    a, b = rng.integers(0, 4, n), rng.integers(0, 3, n)
    S = sp.random(n, 2, density=0.4, random_state=1, format="csr")
    eta = 0.3 + dense @ [0.2, -0.1] + np.array([0, 0.3, -0.2, 0.1])[a] + 0.2 * b
    y = rng.poisson(np.exp(eta)).astype(float)
    X = jg.design(dense, [jg.categorical(a, name="a"), jg.categorical(b, name="b")], sparse=S)
    return X, dense, a, b, S.toarray(), y


def one_hot(fit_intercept: bool) -> np.ndarray:
    """The dense equivalent: R's treatment contrasts (the first factor keeps every level
    without an intercept)."""
    _, dense, a, b, S, _ = data()
    first = np.eye(4)[a] if not fit_intercept else np.eye(4)[a][:, 1:]
    return np.column_stack([dense, first, np.eye(3)[b][:, 1:], S])


@jax.jit
def products(X, beta, r, h, A, ids, H):
    """Every product of the data path, in one compiled program."""
    return dict(
        times=_linalg.times(X, beta), score=_linalg.score(X, r), gram=_linalg.gram(X, h),
        quadratic=_linalg.row_quadratic(X, A), meat=_linalg.cluster_gram(X, r, ids, 5),
        batched=jax.vmap(lambda hh: _linalg.gram(X, hh))(H),
    )  # fmt: skip


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_products_match_one_hot(fit_intercept):
    X = data()[0].for_model(fit_intercept)
    dense = one_hot(fit_intercept)
    n, p = dense.shape
    assert X.shape == (n, p)
    assert X.columns[2:4] == (("a[1]", "a[2]") if fit_intercept else ("a[0]", "a[1]"))
    rng = np.random.default_rng(1)
    beta, r, h = rng.normal(size=p), rng.normal(size=n), rng.uniform(0.1, 2.0, n)
    A = rng.normal(size=(p + 1, p + 1))
    A = A + A.T
    ids = rng.integers(0, 5, n)
    H = np.stack([h, h[::-1]])
    got = products(X, beta, r, h, A, ids, H)
    X1 = np.column_stack([np.ones(n), dense])
    sums = np.stack([(r[ids == g, None] * X1[ids == g]).sum(0) for g in range(5)])
    want = dict(
        times=dense @ beta, score=r @ X1, gram=X1.T @ (h[:, None] * X1),
        quadratic=np.einsum("ij,jk,ik->i", X1, A, X1), meat=sums.T @ sums,
        batched=np.stack([X1.T @ (hh[:, None] * X1) for hh in H]),
    )  # fmt: skip
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-12, err_msg=key)


def poisson_kwargs(alpha: float = 0.0):
    n = len(data()[-1])
    rng = np.random.default_rng(2)
    return dict(
        family=jg.Poisson(), weights=rng.uniform(0.5, 2.0, n), exposure=rng.uniform(0.5, 2.0, n),
        alpha=alpha,
    )  # fmt: skip


@functools.cache
def one_hot_fit(alpha: float = 0.0):
    return jg.fit(one_hot(True), data()[-1], **poisson_kwargs(alpha))


def assert_same_fit(res, ref):
    assert res.converged and ref.converged
    close = functools.partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-12)
    close(res.params, ref.params)
    close(res.bse, ref.bse)  # NaN where the reference's are (a ridge fit has none)
    close(res.deviance, ref.deviance)
    close(res.llf, ref.llf)


@functools.cache
def design_fit():
    X, *_, y = data()
    return jg.fit(X, y, **poisson_kwargs())


def test_fit_matches_one_hot_fit():
    res, ref = design_fit(), one_hot_fit()
    assert np.isfinite(ref.bse).all()
    assert_same_fit(res, ref)
    assert res.feature_names == data()[0].for_model(True).columns
    assert "a[3]" in res.summary() and "b[2]" in res.summary()
    np.testing.assert_allclose(res.predict(data()[0]), ref.predict(one_hot(True)), rtol=1e-12)


def test_eliminated_block_matches_one_hot_fit():
    """The Newton solve with block ``a`` eliminated (its Gram block diagonal, the Schur
    complement factored): the one-hot fit, with and without a ridge (one program: ``alpha``
    is an array), standard errors of every level included."""
    X, *_, y = data()
    X = dataclasses.replace(X, eliminate="a")
    assert isinstance(_linalg.gram(X.for_model(True), y), _linalg.BlockGram)
    for alpha in (0.0, 0.05):
        res, ref = jg.fit(X, y, **poisson_kwargs(alpha)), one_hot_fit(alpha)
        assert_same_fit(res, ref)
    assert np.isnan(res.bse).all()  # a ridge fit reports no standard errors


def test_every_level_kept_under_a_ridge():
    """``drop_first=False`` with an intercept keeps the reference level's column, which the
    ridge penalty identifies (the issue's "kept under a ridge penalty"; glum's default):
    the fit equals the ridge fit on the one-hot matrix of every level, the reference level
    with a coefficient of its own."""
    _, dense, a, b, _, y = data()
    cats = [jg.categorical(a, name="a", drop_first=False), jg.categorical(b, name="b")]
    res = jg.fit(jg.design(dense, cats), y, **poisson_kwargs(0.05))
    ref = jg.fit(np.column_stack([dense, np.eye(4)[a], np.eye(3)[b][:, 1:]]), y,
                 **poisson_kwargs(0.05))  # fmt: skip
    assert res.feature_names[2:6] == ("a[0]", "a[1]", "a[2]", "a[3]")
    assert_same_fit(res, ref)
    assert abs(float(res.params[3])) > 1e-3  # the reference level's own coefficient


def test_fit_many_members_are_single_fits():
    X, *_, y = data()
    res = jg.fit_many(X, np.stack([y, y[::-1]]), family=jg.Poisson(), statistics="minimal")
    ref = jg.fit_many(X, np.stack([y[::-1], y]), family=jg.Poisson(), statistics="minimal")
    np.testing.assert_allclose(res.params[0], ref.params[1], rtol=1e-12)  # one program
    assert res.params.shape == (2, X.for_model(True).shape[1] + 1)
    assert res.feature_names[2] == "a[1]"


def grunfeld():
    import statsmodels.api as sm

    frame = sm.datasets.grunfeld.load_pandas().data
    design_frame = pd.DataFrame({
        "log_value": np.log(frame["value"]), "log_capital": np.log(frame["capital"]),
        "firm": frame["firm"].astype("category"),
        "year": frame["year"].astype(int).astype(str),
    })  # fmt: skip
    return jg.design(design_frame), frame["invest"].to_numpy()


def test_statsmodels_reference_with_levels():
    ref = REFERENCES["grunfeld_gamma_log"]
    X, y = grunfeld()
    res = jg.fit(X, y, family=jg.Gamma(), link=jg.Log())
    assert res.converged
    names = ("Intercept", *res.feature_names)
    assert set(names) == set(ref["params"])
    for stat in ("params", "bse"):
        want = np.array([ref[stat][k] for k in names])
        got = np.asarray(getattr(res, stat))
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8 * np.abs(want).max())
    np.testing.assert_allclose(res.llf, ref["llf"], rtol=1e-8)
    np.testing.assert_allclose(res.deviance, ref["deviance"], rtol=1e-8)
    # predicting on rows whose levels are the fit's (a subset of rows keeps them all)
    np.testing.assert_allclose(res.predict(X)[:3], res.fittedvalues[:3], rtol=1e-12)


def test_unseen_levels_and_unsupported_combinations():
    res = design_fit()
    with pytest.raises(ValueError, match=r"'z' .* is not among the levels"):
        jg.categorical(["a", "z"], levels=("a", "b"))
    X, dense, a, b, _, y = data()
    other = jg.design(dense, [jg.categorical(a + 1, name="a"), jg.categorical(b, name="b")])
    with pytest.raises(ValueError, match=r"not in the fit .*a\[4\]"):
        res.predict(other)
    with pytest.raises(ValueError, match="code 4 at row"):
        jg.categorical(a + 1, levels=("0", "1", "2", "3"))
    with pytest.raises(ValueError, match="same rows"):
        jg.design(dense[:5], [jg.categorical(a, name="a")])
    with pytest.raises(TypeError, match=r"Design with a sparse block does not run on it"):
        jg.fit(X, y, family=jg.Poisson(), solver=jg.Optax(batch_size=10))
    with pytest.raises(ValueError, match="drop_collinear"):
        jg.fit(X, y, family=jg.Poisson(), drop_collinear=True)
