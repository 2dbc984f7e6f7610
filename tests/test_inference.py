"""Inference against stored statsmodels references (tests/references/inference_references.json).

The references were made by ``python -m tests.references.make_inference_references`` (see
its docstring: what is statsmodels' own output and what is computed from its pieces). Each
fit below is cached and shared, and the robust covariance types share one compiled
program, so the file compiles few programs: one robust fit per case.
"""

import functools
import json
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

import jaxglm as jg
from tests.references.cases import CASES, data_digest
from tests.test_references import make_model, rel_err

REF = json.loads((Path(__file__).parent / "references" / "inference_references.json").read_text())
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
# A canonical link; non-canonical links with prior weights and an estimated scale (Gamma-log)
# and with a fixed scale (Poisson-sqrt); frequency weights.
COV_CASES = (
    "bernoulli_logit_lbw",
    "gamma_log_cancer_weights",
    "poisson_sqrt_cpunish",
    "poisson_log_cpunish_freq",
)


@functools.cache
def data(case_name: str):
    case = CASES[case_name]
    d = case.load()
    family, link = make_model(case)
    kw = {k: d[k] for k in ("weights", "offset") if k in d}
    return d, family, link, kw


@functools.cache
def fit_case(case_name: str, cov_type: str = "nonrobust", freq: tuple | None = None, **options):
    d, family, link, kw = data(case_name)
    if freq is not None:
        kw = dict(kw, freq_weights=np.asarray(freq))
    if cov_type == "cluster":
        options["groups"] = np.asarray(REF["cov"][_cov_name(case_name, freq)]["groups"], int)
    return jg.fit(d["X"], d["y"], family=family, link=link, cov_type=cov_type, **kw, **options)


def _cov_name(case_name: str, freq) -> str:
    return case_name + ("_freq" if freq is not None else "")


def _cov_fit(name: str, cov_type: str, **options):
    ref = REF["cov"][name]
    freq = None if ref["freq_weights"] is None else tuple(ref["freq_weights"])
    return fit_case(ref["case"], cov_type, freq, **options)


def test_reference_data_unchanged():
    for section in ("cov", "prediction", "influence"):
        for entry in REF[section].values():
            assert data_digest(CASES[entry["case"]].load()) == entry["data_sha256"]


@pytest.mark.parametrize("name", COV_CASES)
def test_covariance_types_match_statsmodels(name):
    ref = REF["cov"][name]
    worst = {}
    for cov_type in COV_TYPES:
        res = _cov_fit(name, cov_type)
        assert bool(res.converged) and res.cov_type == cov_type
        r = ref["cov_types"][cov_type]
        worst[cov_type] = max(rel_err(res.bse, r["bse"]), rel_err(res.cov_params(), r["cov"]))
        assert rel_err(res.params, ref["params"]) < 1e-6
    assert max(worst.values()) < 1e-6, worst
    cluster = _cov_fit(name, "cluster")
    assert float(cluster.n_groups) == ref["cov_types"]["cluster"]["n_groups"]
    assert float(cluster.df_resid_inference) == ref["cov_types"]["cluster"]["df_resid_inference"]
    # The robust types change the covariance only, and differ from each other.
    bse = [np.asarray(_cov_fit(name, c).bse) for c in COV_TYPES]
    assert all(not np.allclose(a, b) for i, a in enumerate(bse) for b in bse[i + 1 :])


def test_frequency_weights_count_as_duplicated_rows():
    """HC3 and cluster with fw == the rows repeated (each copy counts; fw = 0 drops a row).

    Both designs have cpunish's 17 rows, so they reuse the compiled robust program: rows
    9-16 repeat rows 0-7 with weight 1, or rows 0-7 carry weight 2 and rows 9-16 weight 0.
    """
    d, family, _, _ = data("poisson_log_cpunish")
    rows = np.r_[0:9, 0:8]
    X, y = d["X"][rows], d["y"][rows]
    groups = np.asarray(REF["cov"]["poisson_log_cpunish_freq"]["groups"], int)[rows]
    doubled = np.r_[np.full(8, 2.0), 1.0, np.zeros(8)]
    for cov_type in ("HC3", "cluster"):
        extra = {"groups": groups} if cov_type == "cluster" else {}
        rep = jg.fit(X, y, family=family, cov_type=cov_type, freq_weights=np.ones(17), **extra)
        fw = jg.fit(X, y, family=family, cov_type=cov_type, freq_weights=doubled, **extra)
        np.testing.assert_allclose(fw.cov_params(), rep.cov_params(), rtol=1e-9)
        assert float(fw.nobs) == float(rep.nobs) == 17


def test_cluster_is_traceable_under_vmap():
    """Cluster labels are data: two labelings in one vmapped fit == two separate fits."""
    d, family, _, _ = data("bernoulli_logit_lbw")
    labels = np.asarray(REF["cov"]["bernoulli_logit_lbw"]["groups"], int)
    other = np.arange(len(labels)) % 7 * 10 + 3  # arbitrary integers, 7 clusters
    batch = jax.vmap(lambda g: jg.fit(d["X"], d["y"], family=family, cov_type="cluster", groups=g))(
        np.stack([labels, other])
    )
    first = _cov_fit("bernoulli_logit_lbw", "cluster")
    np.testing.assert_allclose(batch[0].cov_params(), first.cov_params(), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(batch.n_groups), [6, 7])


def test_cov_type_arguments_are_checked():
    d, family, _, _ = data("bernoulli_logit_lbw")
    with pytest.raises(ValueError, match="cov_type must be one of"):
        jg.fit(d["X"], d["y"], family=family, cov_type="HC4")
    with pytest.raises(ValueError, match="groups= is required"):
        jg.fit(d["X"], d["y"], family=family, cov_type="cluster")
    with pytest.raises(ValueError, match="integer cluster labels"):
        jg.fit(d["X"], d["y"], family=family, cov_type="cluster", groups=d["X"][:, 0])
    with pytest.raises(ValueError, match="scale must be"):
        jg.fit(d["X"], d["y"], family=family, scale="pearson")
    with pytest.raises(ValueError, match="fixed scale"):
        jg.fit(d["X"], d["y"], family=family, scale=-1.0)


@pytest.mark.parametrize("label", ["X2", "dev", "fixed_2.5"])
def test_scale_option_matches_statsmodels(label):
    """Quasi-Poisson in one argument; t exactly when the scale is estimated (R's rule)."""
    ref = REF["scale"][label]
    res = fit_case("poisson_log_cpunish", scale=ref["scale_arg"])
    assert rel_err(res.params, ref["params"]) < 1e-6
    assert rel_err(res.bse, ref["bse"]) < 1e-6
    assert rel_err(res.scale, ref["scale"]) < 1e-6
    estimated = label != "fixed_2.5"
    assert res.use_t == estimated and res.scale_estimated == estimated
    if estimated:  # statsmodels with use_t=True
        assert rel_err(res.pvalues, ref["pvalues_t"]) < 1e-6
        assert rel_err(res.conf_int(0.05), ref["conf_int_t"]) < 1e-6
    else:
        assert rel_err(res.pvalues, ref["pvalues_normal"]) < 1e-6
    normal = fit_case("poisson_log_cpunish", scale=ref["scale_arg"], use_t=False)
    assert rel_err(normal.pvalues, ref["pvalues_normal"]) < 1e-6  # statsmodels' default
    assert f"{float(res.scale):.6g}" in res.summary()


@pytest.mark.parametrize("name", sorted(REF["prediction"]))
def test_get_prediction_matches_statsmodels(name):
    ref = REF["prediction"][name]
    res = fit_case(ref["case"], ref["cov_type"], use_t=ref["use_t"])
    d, *_ = data(ref["case"])
    rows = np.asarray(ref["rows"], int)
    offset = None if ref["offset_shift"] is None else d["offset"][rows] + ref["offset_shift"]
    pred = res.get_prediction(d["X"][rows] + ref["X_shift"], offset=offset, alpha=ref["alpha"])
    frame = pred.summary_frame()
    for col in ("mean", "mean_se", "mean_ci_lower", "mean_ci_upper"):
        assert rel_err(frame[col], ref[col]) < 1e-6, col
        lin = getattr(pred, "linear" + col[4:])
        assert rel_err(lin, ref["linear_" + col]) < 1e-6, col
    assert rel_err(pred.mean, res.predict(d["X"][rows] + ref["X_shift"], offset=offset)) < 1e-12


@pytest.mark.parametrize("name", sorted(REF["influence"]))
def test_influence_matches_statsmodels(name):
    ref = REF["influence"][name]
    d, _, _, kw = data(name)
    res = fit_case(name)
    infl = res.influence(d["X"], d["y"], **kw)
    for key in (
        "mu", "resid_response", "resid_pearson", "resid_deviance", "resid_working",
        "hat_matrix_diag", "cooks_distance", "resid_studentized",
    ):  # fmt: skip
        assert rel_err(getattr(infl, key), ref[key]) < 1e-6, key
    k = res.params.shape[0]
    np.testing.assert_allclose(float(infl.hat_matrix_diag.sum()), k, rtol=1e-9)
    with pytest.raises(ValueError, match="not the fit's"):
        res.influence(d["X"], d["y"][::-1], **kw)


@pytest.mark.parametrize("label", ["nonrobust_t", "HC0_normal"])
def test_wald_and_t_tests_match_statsmodels(label):
    ref = REF["tests"]
    entry = ref[label]
    options = {"use_t": False} if label == "HC0_normal" else {}
    res = fit_case(ref["case"], entry["fit"].get("cov_type", "nonrobust"), **options)
    default = res.wald_test(ref["R"], ref["q"])
    assert default.distribution == ("F" if res.use_t else "chi2")
    for use_f, key in ((True, "wald_F"), (False, "wald_chi2")):
        w = res.wald_test(ref["R"], ref["q"], use_f=use_f)
        assert w.distribution == ("F" if use_f else "chi2")
        assert rel_err(w.statistic, entry[key]["statistic"]) < 1e-6
        assert rel_err(w.pvalue, entry[key]["pvalue"]) < 1e-6
        assert float(w.df_num) == entry[key]["df_num"]
        if use_f:
            assert float(w.df_denom) == entry[key]["df_denom"]
    t = entry["t_test"]
    c = res.t_test(t["r"], t["q"])
    assert c.distribution == ("t" if res.use_t else "normal")
    for key in ("estimate", "se", "statistic", "pvalue", "conf_int"):
        assert rel_err(getattr(c, key), t[key] if key != "conf_int" else [t[key]]) < 1e-6, key


def test_t_test_rows_equal_params_inference():
    res = fit_case("gamma_log_cancer_weights")
    c = res.t_test(np.eye(4))
    np.testing.assert_allclose(c.se, res.bse, rtol=1e-12)
    np.testing.assert_allclose(c.pvalue, res.pvalues, rtol=1e-10)
    np.testing.assert_allclose(c.conf_int, res.conf_int(), rtol=1e-10)


def test_lr_test_matches_anova_formulas():
    """R's anova(test="F") is the default with an estimated scale; chi2 on request."""
    ref = REF["tests"]["lr"]
    d, family, link, kw = data("gamma_log_cancer_weights")
    full = fit_case("gamma_log_cancer_weights")
    small = jg.fit(d["X"][:, ref["restricted_columns"]], d["y"], family=family, link=link, **kw)
    assert rel_err(small.deviance, ref["deviance_restricted"]) < 1e-8
    F = jg.lr_test(small, full)
    assert F.distribution == "F" and float(F.df_num) == ref["df"]
    assert float(F.df_denom) == ref["df_denom"]
    assert rel_err(F.statistic, ref["F"]) < 1e-6 and rel_err(F.pvalue, ref["F_pvalue"]) < 1e-6
    chi2 = jg.lr_test(small, full, test="chi2")
    assert rel_err(chi2.statistic, ref["chi2"]) < 1e-6
    assert rel_err(chi2.pvalue, ref["chi2_pvalue"]) < 1e-6
    with pytest.raises(ValueError, match="nested"):
        jg.lr_test(full, small)


def test_summary_shows_fit_and_covariance():
    d, family, _, _ = data("bernoulli_logit_lbw")
    frame = pd.DataFrame(d["X"], columns=d["names"])
    groups = np.asarray(REF["cov"]["bernoulli_logit_lbw"]["groups"], int)
    res = jg.fit(frame, d["y"], family=family, cov_type="cluster", groups=groups)
    text = res.summary()
    for expected in (
        "Bernoulli", "Logit", "cluster", "No. clusters:", "converged", "Iterations:",
        f"{float(res.deviance):.6g}", f"{float(res.llf):.6g}", f"{float(res.aic):.6g}",
        f"{float(res.bic):.6g}", "189", "180", "race_black", "P>|z|",
    ):  # fmt: skip
        assert expected in text, expected
    line = next(s for s in text.splitlines() if s.startswith("smoke"))
    j = 1 + d["names"].index("smoke")
    assert f"{float(res.bse[j]):.4g}" in line  # the cluster bse, not the model-based one
    assert f"{float(fit_case('bernoulli_logit_lbw').bse[j]):.4g}" not in line
