"""The formula and data-frame front end (jaxglm.glm), the result API it relies on (named
parameters, residuals kept on single fits, string hypotheses, predict on new frames) and
frames at the boundary of jaxglm.fit. References: tests/references/make_formula_references.py.
"""

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jaxglm as jg
from tests.references.make_formula_references import load

pl = pytest.importorskip("polars")

REFS = json.loads((Path(__file__).parent / "references" / "formula_references.json").read_text())
FAMILIES = {"Binomial": jg.Bernoulli(), "Poisson": jg.Poisson()}


@pytest.fixture(scope="module")
def claims():
    """A small claims-like frame: counts, exposure, a 3-level region, weights."""
    rng = np.random.default_rng(0)
    n = 60
    df = pd.DataFrame(
        {
            "age": rng.uniform(20, 60, n),
            "region": rng.choice(["north", "south", "west"], n),
            "exposure": rng.uniform(0.5, 2.0, n),
            "w": rng.uniform(0.5, 1.5, n),
        }
    )
    df["claims"] = rng.poisson(df["exposure"] * np.exp(-1.5 + 0.03 * df["age"]))
    return df


@pytest.fixture(scope="module")
def claims_fit(claims):
    return jg.glm(
        "claims ~ np.log(age) + C(region, Treatment(reference='south'))", claims,
        family="poisson", exposure="exposure", weights="w",
    )  # fmt: skip


def rel_err(got, ref):
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    return np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-8 * np.abs(ref).max()))


@pytest.mark.parametrize("key", sorted(REFS))
def test_formula_fits_match_statsmodels(key):
    ref = REFS[key]
    res = jg.glm(ref["formula"], load(ref["data"], ref["rows"]), family=FAMILIES[ref["family"]])
    assert sorted(res.params.index) == sorted(ref["params"])
    names = list(res.params.index)
    assert rel_err(res.params[names], [ref["params"][k] for k in names]) < 1e-6
    assert rel_err(res.bse[names], [ref["bse"][k] for k in names]) < 1e-6
    assert abs(float(res.llf) - ref["llf"]) <= 1e-8 * abs(ref["llf"])
    assert abs(float(res.deviance) - ref["deviance"]) <= 1e-8 * abs(ref["deviance"])


def test_pandas_and_polars_frames_give_identical_fits(claims, claims_fit):
    res = jg.glm(
        "claims ~ np.log(age) + C(region, Treatment(reference='south'))", pl.from_pandas(claims),
        family=jg.Poisson(), exposure="exposure", weights=claims["w"].to_numpy(),
    )  # fmt: skip
    np.testing.assert_array_equal(res.params.to_numpy(), claims_fit.params.to_numpy())
    assert list(res.params.index) == list(claims_fit.params.index)
    np.testing.assert_array_equal(np.asarray(res.predict(claims)), claims_fit.predict(claims))


def test_formula_equals_fit_on_the_design_by_hand(claims, claims_fit):
    X = np.column_stack(
        [np.log(claims["age"]), claims["region"] == "north", claims["region"] == "west"]
    )
    res = jg.fit(X, claims["claims"].to_numpy(), jg.Poisson(), weights=claims["w"].to_numpy(),
                 exposure=claims["exposure"].to_numpy())  # fmt: skip
    np.testing.assert_allclose(claims_fit.params.to_numpy(), res.params, rtol=1e-12)
    assert claims_fit.params.index[2] == "C(region, Treatment(reference='south'))[T.north]"
    assert claims_fit.params["np.log(age)"] == claims_fit.result.params[1]


def test_predict_rebuilds_the_design_of_a_new_frame(claims, claims_fit):
    new = claims.iloc[[5, 1, 9, 2]].reset_index(drop=True)
    # the same levels in another order (a categorical with reordered categories)
    reordered = new.assign(
        region=pd.Categorical(new["region"], categories=["west", "south", "north"])
    )
    got = claims_fit.predict(reordered)
    np.testing.assert_allclose(got, claims_fit.predict(new), rtol=1e-13)
    np.testing.assert_allclose(got, np.asarray(claims_fit.fittedvalues)[[5, 1, 9, 2]], rtol=1e-10)
    # the exposure column of the new frame is used, or the one passed
    doubled = claims_fit.predict(new, exposure=2 * new["exposure"].to_numpy())
    np.testing.assert_allclose(doubled, 2 * np.asarray(got), rtol=1e-12)
    pred = claims_fit.get_prediction(new)
    np.testing.assert_allclose(pred.mean, got, rtol=1e-12)
    with pytest.raises(ValueError, match=r"not seen|outside"):
        claims_fit.predict(new.assign(region=["east", "north", "west", "west"]))
    with pytest.raises(ValueError, match="exposure column 'exposure' is not in the data"):
        claims_fit.predict(new.drop(columns="exposure"))


def test_named_parameters_summary_and_string_hypotheses(claims_fit):
    res = claims_fit.result
    assert res.param_names == list(claims_fit.params.index)
    assert "np.log(age)" in claims_fit.summary()
    table = res.params_frame()
    np.testing.assert_array_equal(table["coef"].to_numpy(), res.params)
    assert list(table.columns)[:4] == ["coef", "std err", "z", "P>|z|"]
    north = "C(region, Treatment(reference='south'))[T.north]"
    west = "C(region, Treatment(reference='south'))[T.west]"
    t = claims_fit.t_test(f"{north} = 0")
    assert float(t.pvalue[0]) == pytest.approx(float(claims_fit.pvalues[north]), rel=1e-10)
    by_string = claims_fit.wald_test(f"{north} = {west} = 0")
    by_matrix = res.wald_test(np.array([[0, 0, 1.0, -1.0], [0, 0, 0, 1.0]]))
    assert float(by_string.statistic) == pytest.approx(float(by_matrix.statistic), rel=1e-12)
    c = claims_fit.t_test(f"2 * np.log(age) - {west} = 1")
    params = res.params
    assert float(c.estimate[0]) == pytest.approx(float(2 * params[1] - params[3]), rel=1e-12)
    with pytest.raises(ValueError, match="cannot read"):
        claims_fit.t_test("agee = 0")
    again = pickle.loads(pickle.dumps(claims_fit))
    np.testing.assert_array_equal(again.params.to_numpy(), claims_fit.params.to_numpy())
    ci = claims_fit.conf_int()
    assert list(ci.columns) == ["lower", "upper"] and ci.index[1] == "np.log(age)"
    summary = claims_fit.summary()
    assert all(name in summary for name in res.param_names)  # long names whole, not cut
    frame = summary.as_frame()
    np.testing.assert_array_equal(frame["std err"].to_numpy(), res.bse)
    np.testing.assert_array_equal(frame["[0.025"].to_numpy(), ci["lower"].to_numpy())
    assert list(frame.index) == res.param_names
    assert summary.to_html().count("</tr>") == len(res.param_names) + 1  # a header row
    assert r"\begin{tabular}" in summary.to_latex() and "np.log(age)" in summary.to_latex()
    again = pickle.loads(pickle.dumps(summary))  # still a Summary, its table kept
    assert again == summary and again.as_frame().equals(frame)


def test_residuals_kept_on_single_fits_equal_influence(claims, claims_fit):
    res = claims_fit.result
    infl = res.influence(
        claims_fit.design(claims), claims["claims"].to_numpy(), weights=claims["w"].to_numpy(),
        exposure=claims["exposure"].to_numpy(),
    )  # fmt: skip
    for name in ("resid_response", "resid_pearson", "resid_deviance", "resid_working"):
        np.testing.assert_allclose(getattr(claims_fit, name), getattr(infl, name), rtol=1e-10)
    np.testing.assert_allclose(res.fittedvalues, infl.mu, rtol=1e-12)
    # the deviance residuals add up to the deviance
    assert float(np.sum(res.resid_deviance**2)) == pytest.approx(float(res.deviance), rel=1e-10)
    batch = jg.fit_many(np.asarray(claims_fit.design(claims)),
                        np.stack([claims["claims"].to_numpy()] * 2), jg.Poisson())  # fmt: skip
    with pytest.raises(ValueError, match="single fits"):
        _ = batch[0].resid_pearson


def test_frames_at_the_boundary_of_fit(claims):
    """bool, nullable and extension dtypes; the bad column named; index alignment."""
    X = pd.DataFrame(
        {
            "age": pd.array(claims["age"].to_numpy(), dtype="Float64"),
            "north": claims["region"] == "north",
            "west": pd.array(claims["region"] == "west", dtype="boolean"),
        }
    )
    y = pd.Series(claims["claims"].to_numpy(), dtype="Int64")
    res = jg.fit(X, y, jg.Poisson())
    ref = jg.fit(X.astype(float).to_numpy(), y.to_numpy(float), jg.Poisson())
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)
    assert res.param_names == ["Intercept", "age", "north", "west"]
    with pytest.raises(ValueError, match="X column 'region' must be numeric or bool"):
        jg.fit(X.assign(region=claims["region"]), y, jg.Poisson())
    with pytest.raises(ValueError, match="X column 'age' has a missing value at row 3"):
        jg.fit(X.assign(age=X["age"].where(X.index != 3)), y, jg.Poisson())
    with pytest.raises(ValueError, match="y's index is not X's"):
        jg.fit(X, y.sample(frac=1.0, random_state=0), jg.Poisson())


def test_labels_of_any_type_through_the_formula(claims):
    df = claims.assign(kind=np.where(claims["age"] < 35, "young", "old"))
    df.loc[df.index[:20], "kind"] = "mid"
    res = jg.glm("kind ~ age", df, family=jg.Multinomial())
    assert res.classes == ("mid", "old", "young")  # sorted, the first the reference
    assert list(res.params.columns) == ["old", "young"]
    got = res.predict(df.iloc[:5], which="class")
    prob = np.asarray(res.predict(df.iloc[:5], which="probability"))
    np.testing.assert_array_equal(got, np.array(res.classes)[prob.argmax(1)])
    with pytest.raises(ValueError, match="response column 'kind' has a missing value at row 1"):
        jg.glm("kind ~ age", df.assign(kind=df["kind"].where(df.index != 1)), jg.Multinomial())
    # string cluster labels: mapped to codes, as integer codes give
    by_label = jg.glm("claims ~ age", claims, family="poisson", cov_type="cluster",
                      groups="region")  # fmt: skip
    codes = pd.factorize(claims["region"], sort=True)[0]
    by_code = jg.fit(claims[["age"]], claims["claims"], jg.Poisson(), cov_type="cluster",
                     groups=codes)  # fmt: skip
    np.testing.assert_allclose(by_label.result.bse, by_code.bse, rtol=1e-12)


def test_multinomial_get_prediction_of_two_classes_is_the_logistic_one(claims):
    """The delta method through the softmax: with two classes, class 1's probability and
    its standard error are the logistic GLM's."""
    df = claims.assign(old=np.where(claims["age"] > 40, "yes", "no"))
    multi = jg.glm("old ~ np.log(exposure) + w", df, family=jg.Multinomial())
    logit = jg.glm("I(old == 'yes') ~ np.log(exposure) + w", df, family="bernoulli")
    p, q = multi.get_prediction(df.iloc[:6]), logit.get_prediction(df.iloc[:6])
    np.testing.assert_allclose(np.asarray(p.mean)[:, 1], q.mean, rtol=1e-8)
    np.testing.assert_allclose(np.asarray(p.mean_se)[:, 1], q.mean_se, rtol=1e-7)
    np.testing.assert_allclose(np.asarray(p.linear_se)[:, 0], q.linear_se, rtol=1e-7)
    assert "np.log(exposure)" in multi.summary()
    frame = multi.summary().as_frame()
    assert frame.index.names == ["class", "term"] and len(frame) == 3
    np.testing.assert_array_equal(frame.loc[1]["coef"].to_numpy(), multi.result.params[:, 0])
    np.testing.assert_array_equal(frame.loc[1]["P>|z|"].to_numpy(), multi.result.pvalues[:, 0])


def test_names_registry_lists_valid_names():
    with pytest.raises(ValueError, match=r"valid names: .*poisson"):
        jg.glm("y ~ x", pd.DataFrame({"y": [1.0, 2.0], "x": [0.0, 1.0]}), family="poison")
    with pytest.raises(ValueError, match="unknown link 'lgo'"):
        jg.glm("y ~ x", pd.DataFrame({"y": [1.0, 2.0], "x": [0.0, 1.0]}), link="lgo")


def test_frames_at_the_boundary_of_every_entry_point(claims):
    """path, cv, fit_many and bootstrap read frames as fit does: extension dtypes, the bad
    column named, index alignment, and the column names kept on the result."""
    # The shapes and options of the next test's (shared compiled programs).
    X = pd.DataFrame(
        {
            "age": pd.array(np.log(claims["age"].to_numpy()), dtype="Float64"),
            "south": claims["region"] == "south",
            "west": pd.array(claims["region"] == "west", dtype="boolean"),
        }
    )
    y = pd.Series(claims["claims"].to_numpy(), dtype="Int64")
    e = claims["exposure"].to_numpy()
    Xa, ya = X.astype(float).to_numpy(), y.to_numpy(float)
    Y = np.stack([ya, ya[::-1]])
    calls = {
        "path": lambda X, y: jg.path(X, y, jg.Poisson(), n_alphas=4, exposure=e),
        "cv": lambda X, y: jg.cv(X, y, jg.Poisson(), n_alphas=4, n_folds=3, exposure=e),
        "fit_many": lambda X, y: jg.fit_many(X, Y if y is ya else np.stack([y, y]), jg.Poisson()),
        "bootstrap": lambda X, y: jg.bootstrap(X, y, jg.Poisson(), n_boot=8, exposure=e),
    }
    for name, call in calls.items():
        got = call(X, y)
        if name == "fit_many":
            got, ref = got.params[0], call(Xa, ya).params[0]
            assert call(X, y).feature_names == ("age", "south", "west")
        else:
            ref = call(Xa, ya)
            named = {"path": got, "cv": got.path if name == "cv" else None}.get(name)
            if name == "cv":
                assert got.refit.param_names == ["Intercept", "age", "south", "west"]
            if name == "bootstrap":
                assert got.fit.param_names == ["Intercept", "age", "south", "west"]
                got, ref = got.params, ref.params
            else:
                assert named.feature_names == ("age", "south", "west")
                got, ref = named.coef, (ref.path if name == "cv" else ref).coef
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14, err_msg=name)
        with pytest.raises(ValueError, match="X column 'region' must be numeric or bool"):
            call(X.assign(region=claims["region"]), y)
        if name != "fit_many":  # its y is a stack of responses, not a series
            with pytest.raises(ValueError, match="y's index is not X's"):
                call(X, y.sample(frac=1.0, random_state=0))
    shuffled = pd.Series(np.arange(len(y)) % 3).sample(frac=1.0, random_state=0)
    with pytest.raises(ValueError, match="groups's index is not X's"):
        jg.fit_many(X, np.stack([y, y]), jg.Poisson(), cov_type="cluster", groups=shuffled)


def test_formula_entry_points_equal_the_array_entry_points_on_its_design(claims):
    """jaxglm.formula's fit_many, path, cv and bootstrap are the array entry points on the
    formula's design (the same numbers), named by term; cv's refit predicts new frames."""
    formula = "claims ~ np.log(age) + C(region)"
    d = jg.formula.design(formula, claims)
    e = claims["exposure"].to_numpy()
    opts = dict(family=jg.Poisson(), fit_intercept=d.fit_intercept, exposure=e)
    terms = ("np.log(age)", "C(region)[T.south]", "C(region)[T.west]")

    got = jg.formula.path(formula, claims, "poisson", exposure="exposure", n_alphas=4)
    ref = jg.path(d.X.to_numpy(), d.y, n_alphas=4, **opts)
    np.testing.assert_array_equal(got.coef, ref.coef)
    assert got.feature_names == terms

    got = jg.formula.cv(formula, claims, "poisson", exposure="exposure", n_alphas=4, n_folds=3)
    ref = jg.cv(d.X.to_numpy(), d.y, n_alphas=4, n_folds=3, **opts)
    np.testing.assert_array_equal(got.mean, ref.mean)
    assert list(got.refit.params.index) == ["Intercept", *terms]
    new = claims.iloc[:5]
    np.testing.assert_allclose(
        got.refit.predict(new), ref.refit.predict(d.X.to_numpy()[:5], exposure=e[:5]), rtol=1e-12
    )

    got = jg.formula.bootstrap(formula, claims, "poisson", exposure="exposure", n_boot=8)
    ref = jg.bootstrap(d.X.to_numpy(), d.y, n_boot=8, **opts)
    np.testing.assert_array_equal(got.params, ref.params)
    assert list(got.fit.params.index) == ["Intercept", *terms]

    two = claims.assign(other=claims["claims"][::-1].to_numpy())
    got = jg.formula.fit_many("claims + other ~ np.log(age) + C(region)", two, "poisson")
    ref = jg.fit_many(d.X.to_numpy(), np.stack([d.y, two["other"].to_numpy()]), jg.Poisson())
    np.testing.assert_allclose(got.params, ref.params, rtol=1e-12)
    assert got.param_names == ["Intercept", *terms]
    alphas = np.array([0.0, 0.1, 1.0])
    got = jg.formula.fit_many(formula, claims, "poisson", alpha=alphas)
    assert got.params.shape == (3, 4)
    np.testing.assert_allclose(got[0].params, jg.glm(formula, claims, "poisson").result.params,
                               rtol=1e-10)  # fmt: skip
    with pytest.raises(ValueError, match="several responses"):
        jg.formula.fit_many(formula, claims, "poisson")
    with pytest.raises(TypeError, match="intercept from the formula"):
        jg.formula.path(formula, claims, "poisson", fit_intercept=False)
