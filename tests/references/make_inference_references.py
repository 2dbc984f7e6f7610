"""Reference values for jaxglm's inference: robust covariances, scale options, tests,
prediction and influence, on real data sets (the cases of ``cases.py``).

Run from the repository root (about 5 s)::

    python -m tests.references.make_inference_references           # (re)write the JSON
    python -m tests.references.make_inference_references --check   # recompute and compare

How the numbers are made. Every model is fitted by statsmodels' ``GLM`` (IRLS,
``tol_criterion="params"``, ``rtol=1e-13``, ``atol=0``; it must converge), with the case's
prior weights as ``var_weights``, frequency weights as ``freq_weights`` and the offset.
Binomial cases are not used here. Then, per section:

- ``cov``: ``bse`` (and the full covariance) for every ``cov_type``.

  * HC0 and cluster are statsmodels' own ``fit(cov_type=...)`` results, except the cluster
    correction with frequency weights (below).
  * HC1, HC2, HC3: statsmodels' GLM returns its HC0 matrix for all four HC types (its
    ``get_robustcov_results`` finds no ``cov_HC1`` ... on GLM results and falls back to
    ``cov_white_simple`` without correction). The references are computed here from
    statsmodels' own pieces at the fit: ``score_obs`` (scores ``s_i``), ``hessian``
    (observed, the bread statsmodels uses) and ``get_hat_matrix_diag(observed=True)``
    (leverages ``h_i``, which include the frequency weight): meat
    ``sum_i s_i s_i^T / fw_i / (1 - h_i / fw_i)^a`` with ``a = 0, 1, 2`` for HC0/HC1,
    HC2, HC3, times ``n / (n - k)`` for HC1 (``n`` = sum of frequency weights). The HC0
    meat so computed must equal statsmodels' HC0 (checked, 1e-10). For a canonical link
    without weights the result is cross-checked against statsmodels' linear-regression
    HC1/HC2/HC3 of the final IRLS weighted least squares (``diagnostics``), which is
    R's ``sandwich::vcovHC`` on a glm.
  * cluster with frequency weights: statsmodels multiplies by
    ``G/(G-1) (n-1)/(n-k)`` with ``n`` the number of rows; jaxglm counts a row
    ``fw`` times (``n`` = sum of frequency weights, as duplicated rows). The reference is
    statsmodels' matrix rescaled to that ``n`` (statsmodels' own bse are stored too).

- ``scale``: ``fit(scale="X2" | "dev" | number)``: params, bse, scale, and p-values with the
  normal (statsmodels' default) and with t (``use_t=True``).
- ``prediction``: ``get_prediction(exog, offset).summary_frame()`` (mean, mean_se,
  mean_ci_lower/upper) and the same for the linear predictor (``.linpred``).
- ``influence``: ``get_influence(observed=True)``: ``hat_matrix_diag``,
  ``cooks_distance[0]``, ``resid_studentized``; and the results' residuals
  (response, Pearson, deviance, working) and ``mu``.
- ``tests``: ``wald_test(R, use_f=...)``, ``t_test(r)`` and the likelihood-ratio test of a
  restricted model, computed as R's ``anova.glm``: with a fixed scale
  ``chi2 = (D_r - D_f) / phi`` on ``df = df_r - df_f`` degrees; with an estimated scale
  ``F = (D_r - D_f) / df / phi_f`` on ``(df, df_resid_f)``, ``phi_f`` the full model's
  Pearson dispersion (``test="F"``), or ``(D_r - D_f) / phi_f`` on ``df`` (``test="Chisq"``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import scipy.stats as st
import statsmodels
import statsmodels.api as sm
from statsmodels.regression.linear_model import WLS
from statsmodels.tools.sm_exceptions import DomainWarning

from .cases import CASES, CaseData, _sm_dataset, _sm_test_csv, data_digest
from .make_references import max_rel_diff, sm_family

JSON_PATH = Path(__file__).with_name("inference_references.json")
FIT_KW = dict(method="IRLS", tol_criterion="params", rtol=1e-13, atol=0, maxiter=5000)
HC_TYPES = ("HC0", "HC1", "HC2", "HC3")


# ---- cluster labels (real grouping variables of the same data sets) ----------------------


def _lbw_ftv() -> np.ndarray:
    """lbw: physician visits in the first trimester (0..6): 6 clusters."""
    return _sm_test_csv("stata_lbw_glm.csv")["ftv"].to_numpy(np.int64)


def _cancer_drug() -> np.ndarray:
    """cancer: the drug (1, 2, 3): 3 clusters."""
    return _sm_test_csv("stata_cancer_glm.csv")["drug"].to_numpy(np.int64)


def _cpunish_south() -> np.ndarray:
    """cpunish: South or not: 2 clusters."""
    return _sm_dataset("cpunish")["SOUTH"].to_numpy(np.int64)


# The cpunish prior weights of cases.py, used here as frequency weights.
_CPUNISH_FREQ = np.array([1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2, 1], dtype=np.float64)

COV_CASES: dict[str, dict[str, Any]] = {
    # canonical link, no weights
    "bernoulli_logit_lbw": dict(case="bernoulli_logit_lbw", groups=_lbw_ftv),
    # non-canonical link, prior weights, estimated scale
    "gamma_log_cancer_weights": dict(case="gamma_log_cancer_weights", groups=_cancer_drug),
    # non-canonical link, fixed scale
    "poisson_sqrt_cpunish": dict(case="poisson_sqrt_cpunish", groups=_cpunish_south),
    # frequency weights
    "poisson_log_cpunish_freq": dict(
        case="poisson_log_cpunish", groups=_cpunish_south, freq_weights=_CPUNISH_FREQ
    ),
}


def _sm_glm(case_name: str, data: CaseData, freq: np.ndarray | None = None, **extra: Any) -> Any:
    case = CASES[case_name]
    fam = sm_family(case.family, case.family_kwargs, case.link, case.link_kwargs)
    X = sm.add_constant(data["X"], prepend=True, has_constant="add")
    kw: dict[str, Any] = {}
    if "weights" in data:
        kw["var_weights"] = data["weights"]
    if "offset" in data:
        kw["offset"] = data["offset"]
    if freq is not None:
        kw["freq_weights"] = freq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)  # Poisson-Sqrt: fine at this fit
        return sm.GLM(data["y"], X, family=fam, **kw, **extra)


def _fit(model: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SpecificationWarning for cluster with weights
        res = model.fit(**FIT_KW, **kw)
    if not res.converged:
        raise RuntimeError("statsmodels did not converge")
    return res


def _l(x: Any) -> Any:
    return np.asarray(x, dtype=np.float64).tolist()


def cov_reference(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Covariances of every cov_type for one case (see the module docstring)."""
    data = CASES[spec["case"]].load()
    freq = spec.get("freq_weights")
    groups = spec["groups"]()
    res = _fit(_sm_glm(spec["case"], data, freq))
    model = res.model
    n_rows, k = model.exog.shape
    fw = np.ones(n_rows) if freq is None else np.asarray(freq)
    nobs = float(fw.sum())
    scores = model.score_obs(res.params)
    hinv = np.linalg.inv(-model.hessian(res.params))
    lev = res.get_hat_matrix_diag(observed=True) / fw
    out: dict[str, Any] = {}
    diagnostics: dict[str, float] = {}
    sm_hc0 = _fit(_sm_glm(spec["case"], data, freq), cov_type="HC0").cov_params()
    for power, ct in zip((0, 0, 1, 2), HC_TYPES, strict=True):
        meat = (scores / (fw * (1.0 - lev) ** power)[:, None]).T @ scores
        cov = hinv @ meat @ hinv
        if ct == "HC1":
            cov = cov * nobs / (nobs - k)
        if ct == "HC0":
            diagnostics["hc0_formula_vs_statsmodels"] = max_rel_diff(cov.ravel(), sm_hc0.ravel())
            assert diagnostics["hc0_formula_vs_statsmodels"] < 1e-10
            cov = np.asarray(sm_hc0)
        out[ct] = {"cov": _l(cov), "bse": _l(np.sqrt(np.diag(cov)))}
    cl = _fit(_sm_glm(spec["case"], data, freq), cov_type="cluster", cov_kwds={"groups": groups})
    cov = np.asarray(cl.cov_params())
    sm_bse = np.sqrt(np.diag(cov))
    if freq is not None:
        cov = cov * ((nobs - 1) / (nobs - k)) / ((n_rows - 1) / (n_rows - k))
    out["cluster"] = {
        "cov": _l(cov),
        "bse": _l(np.sqrt(np.diag(cov))),
        "statsmodels_bse": _l(sm_bse),
        "n_groups": len(np.unique(groups)),
        "df_resid_inference": float(cl.df_resid_inference),
    }
    out["nonrobust"] = {"cov": _l(res.cov_params()), "bse": _l(res.bse)}
    if freq is None and "weights" not in data and spec["case"] == "bernoulli_logit_lbw":
        # Canonical link: the GLM sandwich is the WLS sandwich of the last IRLS step.
        wres = _fit(_sm_glm(spec["case"], data), attach_wls=True).results_wls
        wls = WLS(wres.model.endog, wres.model.exog, weights=wres.model.weights)
        for ct in HC_TYPES:
            other = np.asarray(wls.fit(cov_type=ct).cov_params())
            diagnostics[f"{ct}_vs_wls_sandwich"] = max_rel_diff(
                np.asarray(out[ct]["cov"]).ravel(), other.ravel()
            )
            assert diagnostics[f"{ct}_vs_wls_sandwich"] < 1e-8, ct
    return {
        "case": spec["case"],
        "data_sha256": data_digest(data),
        "freq_weights": None if freq is None else _l(freq),
        "groups": _l(groups),
        "params": _l(res.params),
        "nobs": nobs,
        "cov_types": out,
        "diagnostics": diagnostics,
    }


def scale_reference() -> dict[str, Any]:
    """``fit(scale=...)`` on the Poisson cpunish case (quasi-Poisson and a fixed scale)."""
    data = CASES["poisson_log_cpunish"].load()
    out: dict[str, Any] = {"case": "poisson_log_cpunish", "data_sha256": data_digest(data)}
    for label, scale in (("X2", "X2"), ("dev", "dev"), ("fixed_2.5", 2.5)):
        res = _fit(_sm_glm("poisson_log_cpunish", data), scale=scale)
        res_t = _fit(_sm_glm("poisson_log_cpunish", data), scale=scale, use_t=True)
        out[label] = {
            "scale_arg": scale,
            "params": _l(res.params),
            "bse": _l(res.bse),
            "scale": float(res.scale),
            "pvalues_normal": _l(res.pvalues),
            "pvalues_t": _l(res_t.pvalues),
            "conf_int_t": _l(res_t.conf_int(0.05)),
        }
    return out


PREDICTION_CASES = {
    # non-canonical, weights, t intervals (estimated scale)
    "gamma_log_cancer_weights": dict(
        case="gamma_log_cancer_weights", cov_type="nonrobust", use_t=True
    ),
    # the same with a robust covariance and normal intervals
    "gamma_log_cancer_weights_HC0": dict(
        case="gamma_log_cancer_weights", cov_type="HC0", use_t=False
    ),
    # offset, normal intervals
    "poisson_log_heart_offset": dict(
        case="poisson_log_heart_offset", cov_type="nonrobust", use_t=False
    ),
}


def prediction_reference(spec: dict[str, Any]) -> dict[str, Any]:
    """``get_prediction`` at new rows (every 4th row, offset shifted by 0.25)."""
    name = spec["case"]
    data = CASES[name].load()
    res = _fit(_sm_glm(name, data), cov_type=spec["cov_type"], use_t=spec["use_t"])
    rows = np.arange(0, len(data["y"]), 4)
    Xn = data["X"][rows] + 0.5  # new points, not the fitted rows
    offset = data["offset"][rows] + 0.25 if "offset" in data else None
    pred = res.get_prediction(sm.add_constant(Xn, prepend=True, has_constant="add"), offset=offset)
    frame = pred.summary_frame(alpha=0.1)
    lin = pred.linpred.summary_frame(alpha=0.1)
    return {
        "case": name,
        "data_sha256": data_digest(data),
        "cov_type": spec["cov_type"],
        "use_t": spec["use_t"],
        "alpha": 0.1,
        "rows": _l(rows),
        "X_shift": 0.5,
        "offset_shift": 0.25 if offset is not None else None,
        **{c: _l(frame[c]) for c in ("mean", "mean_se", "mean_ci_lower", "mean_ci_upper")},
        **{
            f"linear_{c}": _l(lin[c]) for c in ("mean", "mean_se", "mean_ci_lower", "mean_ci_upper")
        },
    }


# non-canonical with prior weights and an estimated scale; an offset
INFLUENCE_CASES = ("gamma_log_cancer_weights", "poisson_log_heart_offset")


def influence_reference(name: str) -> dict[str, Any]:
    """Residuals and ``GLMInfluence`` (observed Hessian) of one case."""
    data = CASES[name].load()
    res = _fit(_sm_glm(name, data))
    infl = res.get_influence(observed=True)
    return {
        "case": name,
        "data_sha256": data_digest(data),
        "scale": float(res.scale),
        "mu": _l(res.mu),
        "resid_response": _l(res.resid_response),
        "resid_pearson": _l(res.resid_pearson),
        "resid_deviance": _l(res.resid_deviance),
        "resid_working": _l(res.resid_working),
        "hat_matrix_diag": _l(infl.hat_matrix_diag),
        "cooks_distance": _l(infl.cooks_distance[0]),
        "resid_studentized": _l(infl.resid_studentized),
    }


def tests_reference() -> dict[str, Any]:
    """Wald, t and likelihood-ratio tests on gamma_log_cancer_weights (scale estimated)."""
    name = "gamma_log_cancer_weights"
    data = CASES[name].load()
    out: dict[str, Any] = {"case": name, "data_sha256": data_digest(data)}
    R = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    q = np.array([0.1, 0.0])
    r = np.array([0.0, 0.0, 1.0, -1.0])
    for label, kw in (("nonrobust_t", dict(use_t=True)), ("HC0_normal", dict(cov_type="HC0"))):
        res = _fit(_sm_glm(name, data), **kw)
        entry: dict[str, Any] = {"fit": kw}
        for use_f in (True, False):
            w = res.wald_test((R, q), use_f=use_f, scalar=True)
            entry["wald_F" if use_f else "wald_chi2"] = {
                "statistic": float(np.squeeze(w.statistic)),
                "pvalue": float(w.pvalue),
                "df_num": 2.0,
                "df_denom": float(res.df_resid) if use_f else None,
            }
        t = res.t_test((r, 0.05))
        entry["t_test"] = {
            "r": _l(r),
            "q": 0.05,
            "estimate": float(np.squeeze(t.effect)),
            "se": float(np.squeeze(t.sd)),
            "statistic": float(np.squeeze(t.statistic)),
            "pvalue": float(np.squeeze(t.pvalue)),
            "conf_int": _l(np.squeeze(t.conf_int(alpha=0.05))),
        }
        out[label] = entry
    out["R"], out["q"] = _l(R), _l(q)
    # Likelihood ratio: drop the two drug dummies (columns 1, 2 of X).
    full = _fit(_sm_glm(name, data))
    small = dict(data, X=data["X"][:, :1], names=data["names"][:1])
    restricted = _fit(_sm_glm(name, small))
    df = float(restricted.df_resid - full.df_resid)
    phi = float(full.pearson_chi2 / full.df_resid)
    diff = float(restricted.deviance - full.deviance)
    out["lr"] = {
        "restricted_columns": [0],
        "deviance_full": float(full.deviance),
        "deviance_restricted": float(restricted.deviance),
        "df": df,
        "F": diff / df / phi,
        "F_pvalue": float(st.f.sf(diff / df / phi, df, full.df_resid)),
        "df_denom": float(full.df_resid),
        "chi2": diff / phi,
        "chi2_pvalue": float(st.chi2.sf(diff / phi, df)),
    }
    return out


def build() -> dict[str, Any]:
    """All inference references as one JSON tree."""
    return {
        "metadata": {
            "generator": "python -m tests.references.make_inference_references",
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "python": platform.python_version(),
            "statsmodels": statsmodels.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pd.__version__,
            "fit": f"statsmodels GLM.fit({FIT_KW})",
        },
        "cov": {name: cov_reference(name, spec) for name, spec in COV_CASES.items()},
        "scale": scale_reference(),
        "prediction": {n: prediction_reference(s) for n, s in PREDICTION_CASES.items()},
        "influence": {n: influence_reference(n) for n in INFLUENCE_CASES},
        "tests": tests_reference(),
    }


def _compare(stored: Any, fresh: Any, path: str, problems: list[str]) -> None:
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            if key in ("metadata", "diagnostics"):
                continue
            if key not in stored or key not in fresh:
                problems.append(f"{path}/{key}: in only one of stored/fresh")
            else:
                _compare(stored[key], fresh[key], f"{path}/{key}", problems)
    elif isinstance(stored, list) and isinstance(fresh, list):
        a, b = np.asarray(stored, dtype=float), np.asarray(fresh, dtype=float)
        if a.shape != b.shape:
            problems.append(f"{path}: shape {a.shape} != {b.shape}")
        elif not np.any(a):
            if np.any(b):
                problems.append(f"{path}: differs")
        elif max_rel_diff(b.ravel(), a.ravel()) > 1e-9:
            problems.append(f"{path}: differs")
    elif isinstance(stored, float) and isinstance(fresh, float):
        if abs(stored - fresh) > 1e-9 * max(abs(stored), 1e-300):
            problems.append(f"{path}: {fresh!r} != {stored!r}")
    elif stored != fresh:
        problems.append(f"{path}: {fresh!r} != {stored!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored JSON")
    args = parser.parse_args(argv)
    doc = build()
    if args.check:
        problems: list[str] = []
        _compare(json.loads(JSON_PATH.read_text()), doc, "", problems)
        for line in problems:
            print("  " + line, file=sys.stderr)
        print("MISMATCH" if problems else f"OK: {JSON_PATH.name}", file=sys.stderr)
        return int(bool(problems))
    JSON_PATH.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {JSON_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
