"""GLM reference cases on real data sets shipped with statsmodels.

``CASES`` maps a case name to a :class:`Case`: a family and a link named by the strings jaxglm
uses, and a ``load()`` function that returns the data as numpy float64 arrays. The reference
values for every case (fitted by ``make_references.py``) are in ``glm_references.json``.

Conventions (R's ``glm()``):

- ``X`` has no constant column; every case is fitted with an intercept, and reference ``params``
  put the intercept first.
- ``weights`` are R's prior weights (statsmodels' ``var_weights``):
  ``Var(y_i) = phi V(mu_i) / w_i``. For ``Binomial`` ``y`` is the proportion of successes and
  ``weights`` are the numbers of trials.
- ``offset`` is added to the linear predictor (log exposure for counts).

The data come from ``statsmodels.datasets`` and, where statsmodels' own GLM tests store R output
for a model, from the same CSV files those tests read (``statsmodels/genmod/tests/results``).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CASES", "FAMILIES", "LINKS", "Case", "CaseData", "data_digest"]

FAMILIES: tuple[str, ...] = (
    "Gaussian",
    "Bernoulli",
    "Binomial",
    "Poisson",
    "Gamma",
    "InverseGaussian",
    "NegativeBinomial",
    "Tweedie",
)
LINKS: tuple[str, ...] = (
    "Identity",
    "Log",
    "Logit",
    "Probit",
    "CLogLog",
    "LogLog",
    "Cauchit",
    "Inverse",
    "InverseSquared",
    "Sqrt",
    "Power",
)

CaseData = dict[str, Any]
"""``{"X": (n, p), "y": (n,), "names": [p names]}`` plus optional ``"weights"``, ``"offset"``."""


@dataclass(frozen=True, kw_only=True)
class Case:
    """One GLM reference problem.

    Attributes:
        name: key in ``CASES`` and in ``glm_references.json``.
        family: one of ``FAMILIES``.
        family_kwargs: family parameters (``{"alpha": a}`` for NegativeBinomial,
            ``{"power": p}`` for Tweedie).
        link: one of ``LINKS``.
        link_kwargs: link parameters (``{"power": p}`` for ``Power``).
        load: returns the data (see ``CaseData``); a fresh copy on every call.
        dataset: where the data come from.
        description: the model in R's formula notation.
        r_reference: statsmodels' stored R output for this very model, if there is one.
    """

    name: str
    family: str
    family_kwargs: dict[str, float] = field(default_factory=dict)
    link: str
    link_kwargs: dict[str, float] = field(default_factory=dict)
    load: Callable[[], CaseData]
    dataset: str
    description: str
    r_reference: str | None = None

    def __post_init__(self) -> None:
        """Check the family and link names."""
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: unknown family {self.family!r}")
        if self.link not in LINKS:
            raise ValueError(f"{self.name}: unknown link {self.link!r}")
        if self.link == "Power" and "power" not in self.link_kwargs:
            raise ValueError(f"{self.name}: the Power link needs link_kwargs={{'power': p}}")


def data_digest(data: CaseData) -> str:
    """SHA-256 of a case's arrays (X, y, weights, offset as float64 bytes) and column names.

    ``glm_references.json`` stores it per case, so a test can tell when the data under a case
    changed (e.g. a new statsmodels release editing a data set).
    """
    h = hashlib.sha256()
    for key in ("X", "y", "weights", "offset"):
        h.update(key.encode())
        if key in data:
            arr = np.ascontiguousarray(np.asarray(data[key], dtype=np.float64))
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
    h.update("\x1f".join(data["names"]).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Raw data (cached; loaders copy)
# --------------------------------------------------------------------------------------------

_SM_TEST_RESULTS = "statsmodels.genmod.tests.results"


@cache
def _sm_dataset(name: str) -> pd.DataFrame:
    """A ``statsmodels.datasets`` data set as a DataFrame (all columns)."""
    module = importlib.import_module(f"statsmodels.datasets.{name}")
    return module.load_pandas().data


@cache
def _sm_test_csv(filename: str) -> pd.DataFrame:
    """A CSV file shipped with statsmodels' GLM tests (the data behind their R results)."""
    with resources.files(_SM_TEST_RESULTS).joinpath(filename).open() as fh:
        return pd.read_csv(fh)


def _pack(
    X: pd.DataFrame,
    y: Any,
    *,
    weights: Any = None,
    offset: Any = None,
) -> CaseData:
    """Convert to the ``CaseData`` dict of fresh, C-contiguous float64 arrays."""
    out: CaseData = {
        "X": np.ascontiguousarray(X.to_numpy(dtype=np.float64)),
        "y": np.ascontiguousarray(np.asarray(y, dtype=np.float64)),
        "names": [str(c) for c in X.columns],
    }
    if weights is not None:
        out["weights"] = np.ascontiguousarray(np.asarray(weights, dtype=np.float64))
    if offset is not None:
        out["offset"] = np.ascontiguousarray(np.asarray(offset, dtype=np.float64))
    n = out["y"].shape[0]
    assert out["X"].shape[0] == n, "X and y disagree in length"
    for key in ("weights", "offset"):
        assert key not in out or out[key].shape == (n,), f"{key} has the wrong shape"
    return out


def _pattern_weights(n: int) -> np.ndarray:
    """The prior weights of statsmodels' R script ``test_get_R_tweedie_var_weight.R``.

    R: ``w <- rep(1, n); w[seq(1, n, 5)] <- 5; w[seq(1, n, 13)] <- 3``.
    """
    w = np.ones(n)
    w[::5] = 5.0
    w[::13] = 3.0
    return w


# The prior weights statsmodels' R script gives the 17 rows of cpunish.
_CPUNISH_WEIGHTS = np.array([1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2, 1], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def _longley() -> CaseData:
    """Longley (1967): total employment on six macro series; cond(X) ~ 5e9."""
    d = _sm_dataset("longley")
    return _pack(d[["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]], d["TOTEMP"])


def _stackloss() -> CaseData:
    """Brownlee's stack loss plant data (n=21)."""
    d = _sm_dataset("stackloss")
    return _pack(d[["AIRFLOW", "WATERTEMP", "ACIDCONC"]], d["STACKLOSS"])


def _cpunish_income_south(*, weighted: bool) -> CaseData:
    """US executions 1997 on income (in $1000) and South, as statsmodels' R weights script."""
    d = _sm_dataset("cpunish")
    X = pd.DataFrame({"INCOME": d["INCOME"] / 1000.0, "SOUTH": d["SOUTH"]})
    return _pack(X, d["EXECUTIONS"], weights=_CPUNISH_WEIGHTS if weighted else None)


def _cpunish_full(*, weighted: bool = False) -> CaseData:
    """US executions 1997 on six state covariates, VC100k96 logged (statsmodels' TestGlmPoisson)."""
    d = _sm_dataset("cpunish")
    X = d[["INCOME", "PERPOVERTY", "PERBLACK", "VC100k96", "SOUTH", "DEGREE"]].copy()
    X["VC100k96"] = np.log(X["VC100k96"])
    X = X.rename(columns={"VC100k96": "LN_VC100k96"})
    return _pack(X, d["EXECUTIONS"], weights=_CPUNISH_WEIGHTS if weighted else None)


def _lbw() -> CaseData:
    """Hosmer & Lemeshow low birth weight data (n=189), as statsmodels' ``Lbw``."""
    d = _sm_test_csv("stata_lbw_glm.csv")
    X = pd.DataFrame(
        {
            "age": d["age"],
            "lwt": d["lwt"],
            "race_black": (d["race"] == "black").astype(np.float64),
            "race_other": (d["race"] == "other").astype(np.float64),
            "smoke": d["smoke"],
            "ptl": d["ptl"],
            "ht": d["ht"],
            "ui": d["ui"],
        }
    )
    return _pack(X, d["low"])


def _spector() -> CaseData:
    """Spector & Mazzeo (1980): grade improvement after a teaching method (n=32)."""
    d = _sm_dataset("spector")
    return _pack(d[["GPA", "TUCE", "PSI"]], d["GRADE"])


def _star98() -> CaseData:
    """California STAR 1998 math scores: share of pupils above the median, 303 districts."""
    ds = importlib.import_module("statsmodels.datasets.star98").load_pandas()
    successes = ds.endog["NABOVE"].to_numpy(dtype=np.float64)
    trials = successes + ds.endog["NBELOW"].to_numpy(dtype=np.float64)
    return _pack(ds.exog, successes / trials, weights=trials)


def _china_smoking() -> CaseData:
    """Lung cancer cases among smokers and non-smokers, 8 Chinese cities (16 binomial rows).

    y is the proportion of lung-cancer cases among the sampled (case-control) people of one
    city and smoking status, weights the number of people; X is smoking plus city dummies
    (Beijing is the reference).
    """
    d = _sm_dataset("china_smoking")
    cities = [str(c) for c in d.index]
    rows: list[dict[str, float]] = []
    y: list[float] = []
    trials: list[float] = []
    for city, r in zip(cities, d.itertuples(index=False), strict=True):
        for smoker, cases, controls in (
            (1.0, r.smoking_yes_cancer_yes, r.smoking_yes_cancer_no),
            (0.0, r.smoking_no_cancer_yes, r.smoking_no_cancer_no),
        ):
            row = {"smoker": smoker}
            row.update({f"city_{c}": float(city == c) for c in cities[1:]})
            rows.append(row)
            trials.append(float(cases + controls))
            y.append(float(cases) / float(cases + controls))
    return _pack(pd.DataFrame(rows), y, weights=trials)


def _heart() -> CaseData:
    """Stanford heart transplant survival: deaths ~ age with log(survival time) as offset."""
    d = _sm_dataset("heart")
    return _pack(d[["age"]], d["censors"], offset=np.log(d["survival"].to_numpy(np.float64)))


def _scotland() -> CaseData:
    """Scottish parliament referendum 1997: percent 'yes' in 32 council districts."""
    ds = importlib.import_module("statsmodels.datasets.scotland").load_pandas()
    return _pack(ds.exog, ds.endog)


def _cancer(*, weighted: bool = False) -> CaseData:
    """Stata's cancer trial data (n=48): study time on age and drug (drug 1 is the reference)."""
    d = _sm_test_csv("stata_cancer_glm.csv")
    X = pd.DataFrame(
        {
            "age": d["age"],
            "drug_2": (d["drug"] == 2).astype(np.float64),
            "drug_3": (d["drug"] == 3).astype(np.float64),
        }
    )
    w = _pattern_weights(len(d)) if weighted else None
    return _pack(X, d["studytime"], weights=w)


def _medpar() -> CaseData:
    """Hilbe's medpar1 (n=3676): length of hospital stay on DRG code and admission type."""
    d = _sm_test_csv("stata_medpar1_glm.csv")
    X = pd.DataFrame(
        {"codes": d["codes"], "admitype_3": (d["admitype"] == "type3").astype(np.float64)}
    )
    return _pack(X, d["los"])


def _committee() -> CaseData:
    """US House committees: bills in the 104th congress (n=20), statsmodels' TestGlmNegbinomial."""
    d = _sm_dataset("committee")
    X = d[["SIZE", "SUBS", "STAFF", "PRESTIGE", "BILLS103"]].copy()
    X["STAFF"] = np.log(X["STAFF"])
    X = X.rename(columns={"STAFF": "LN_STAFF"})
    X["LN_STAFF_x_SUBS"] = X["LN_STAFF"] * X["SUBS"]
    return _pack(X, d["BILLS104"])


def _fair(columns: tuple[str, ...], *, weighted: bool = False) -> CaseData:
    """Fair (1978) extramarital affairs (n=6366): time spent in affairs, many zeros."""
    d = _sm_dataset("fair")
    w = _pattern_weights(len(d)) if weighted else None
    return _pack(d[list(columns)], d["affairs"], weights=w)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

_SM_R_WEIGHTS = "statsmodels/genmod/tests/results/res_R_var_weight.py"
_SM_RESULTS_GLM = "statsmodels/genmod/tests/results/results_glm.py"

_CASE_LIST: list[Case] = [
    # ---------------------------------------------------------------- Gaussian
    Case(
        name="gaussian_identity_longley",
        family="Gaussian",
        link="Identity",
        load=_longley,
        dataset="statsmodels.datasets.longley",
        description="TOTEMP ~ GNPDEFL + GNP + UNEMP + ARMED + POP + YEAR (ill-conditioned)",
        r_reference=f"{_SM_RESULTS_GLM}: Longley (also NIST StRD certified values)",
    ),
    Case(
        name="gaussian_log_stackloss",
        family="Gaussian",
        link="Log",
        load=_stackloss,
        dataset="statsmodels.datasets.stackloss",
        description="STACKLOSS ~ AIRFLOW + WATERTEMP + ACIDCONC",
    ),
    Case(
        name="gaussian_log_cpunish_weights",
        family="Gaussian",
        link="Log",
        load=lambda: _cpunish_income_south(weighted=True),
        dataset="statsmodels.datasets.cpunish, prior weights 1,2,3,4,5,4,3,2,1,2,3,4,5,4,3,2,1",
        description="EXECUTIONS ~ I(INCOME/1000) + SOUTH, weights",
    ),
    # ---------------------------------------------------------------- Bernoulli
    Case(
        name="bernoulli_logit_lbw",
        family="Bernoulli",
        link="Logit",
        load=_lbw,
        dataset="statsmodels/genmod/tests/results/stata_lbw_glm.csv",
        description="low ~ age + lwt + race_black + race_other + smoke + ptl + ht + ui",
        r_reference=f"{_SM_RESULTS_GLM}: Lbw",
    ),
    Case(
        name="bernoulli_cloglog_lbw",
        family="Bernoulli",
        link="CLogLog",
        load=_lbw,
        dataset="statsmodels/genmod/tests/results/stata_lbw_glm.csv",
        description="low ~ age + lwt + race_black + race_other + smoke + ptl + ht + ui",
    ),
    Case(
        name="bernoulli_probit_spector",
        family="Bernoulli",
        link="Probit",
        load=_spector,
        dataset="statsmodels.datasets.spector",
        description="GRADE ~ GPA + TUCE + PSI",
    ),
    Case(
        name="bernoulli_cauchit_spector",
        family="Bernoulli",
        link="Cauchit",
        load=_spector,
        dataset="statsmodels.datasets.spector",
        description="GRADE ~ GPA + TUCE + PSI",
    ),
    # ---------------------------------------------------------------- Binomial (trials)
    Case(
        name="binomial_logit_star98",
        family="Binomial",
        link="Logit",
        load=_star98,
        dataset="statsmodels.datasets.star98 (y = NABOVE/(NABOVE+NBELOW), weights = trials)",
        description="cbind(NABOVE, NBELOW) ~ 20 covariates (12 main effects, 8 interactions)",
        r_reference=f"{_SM_RESULTS_GLM}: Star98",
    ),
    Case(
        name="binomial_log_china_smoking",
        family="Binomial",
        link="Log",
        load=_china_smoking,
        dataset="statsmodels.datasets.china_smoking (16 city x smoking rows, weights = trials)",
        description="cbind(cancer, control) ~ smoker + city",
    ),
    Case(
        name="binomial_loglog_china_smoking",
        family="Binomial",
        link="LogLog",
        load=_china_smoking,
        dataset="statsmodels.datasets.china_smoking (16 city x smoking rows, weights = trials)",
        description="cbind(cancer, control) ~ smoker + city",
    ),
    # ---------------------------------------------------------------- Poisson
    Case(
        name="poisson_log_cpunish",
        family="Poisson",
        link="Log",
        load=_cpunish_full,
        dataset="statsmodels.datasets.cpunish",
        description=(
            "EXECUTIONS ~ INCOME + PERPOVERTY + PERBLACK + log(VC100k96) + SOUTH + DEGREE"
        ),
        r_reference=f"{_SM_RESULTS_GLM}: Cpunish",
    ),
    Case(
        name="poisson_log_cpunish_weights",
        family="Poisson",
        link="Log",
        load=lambda: _cpunish_full(weighted=True),
        dataset="statsmodels.datasets.cpunish, prior weights 1,2,3,4,5,4,3,2,1,2,3,4,5,4,3,2,1",
        description=(
            "EXECUTIONS ~ INCOME + PERPOVERTY + PERBLACK + log(VC100k96) + SOUTH + DEGREE, weights"
        ),
    ),
    Case(
        name="poisson_log_heart_offset",
        family="Poisson",
        link="Log",
        load=_heart,
        dataset="statsmodels.datasets.heart",
        description="censors ~ age + offset(log(survival))  (exponential survival as Poisson)",
    ),
    Case(
        name="poisson_sqrt_cpunish",
        family="Poisson",
        link="Sqrt",
        load=_cpunish_full,
        dataset="statsmodels.datasets.cpunish",
        description=(
            "EXECUTIONS ~ INCOME + PERPOVERTY + PERBLACK + log(VC100k96) + SOUTH + DEGREE"
        ),
    ),
    # ---------------------------------------------------------------- Gamma
    Case(
        name="gamma_inverse_scotland",
        family="Gamma",
        link="Inverse",
        load=_scotland,
        dataset="statsmodels.datasets.scotland",
        description="YES ~ COUTAX + UNEMPF + MOR + ACT + GDP + AGE + COUTAX_FEMALEUNEMP",
        r_reference=f"{_SM_RESULTS_GLM}: Scotvote",
    ),
    Case(
        name="gamma_log_cancer",
        family="Gamma",
        link="Log",
        load=_cancer,
        dataset="statsmodels/genmod/tests/results/stata_cancer_glm.csv",
        description="studytime ~ age + factor(drug)",
        r_reference=f"{_SM_RESULTS_GLM}: CancerLog",
    ),
    Case(
        name="gamma_identity_cancer",
        family="Gamma",
        link="Identity",
        load=_cancer,
        dataset="statsmodels/genmod/tests/results/stata_cancer_glm.csv",
        description="studytime ~ age + factor(drug)",
        r_reference=f"{_SM_RESULTS_GLM}: CancerIdentity",
    ),
    Case(
        name="gamma_log_cancer_weights",
        family="Gamma",
        link="Log",
        load=lambda: _cancer(weighted=True),
        dataset=(
            "statsmodels/genmod/tests/results/stata_cancer_glm.csv, prior weights"
            " w[::5] = 5, w[::13] = 3, else 1"
        ),
        description="studytime ~ age + factor(drug), weights",
        r_reference=f"{_SM_R_WEIGHTS}: results_gamma_aweights_nonrobust",
    ),
    # ---------------------------------------------------------------- Inverse Gaussian
    Case(
        name="inverse_gaussian_inverse_squared_medpar",
        family="InverseGaussian",
        link="InverseSquared",
        load=_medpar,
        dataset="statsmodels/genmod/tests/results/stata_medpar1_glm.csv",
        description="los ~ codes + admitype",
    ),
    Case(
        name="inverse_gaussian_log_medpar",
        family="InverseGaussian",
        link="Log",
        load=_medpar,
        dataset="statsmodels/genmod/tests/results/stata_medpar1_glm.csv",
        description="los ~ codes + admitype",
        r_reference=f"{_SM_RESULTS_GLM}: InvGaussLog",
    ),
    Case(
        name="inverse_gaussian_identity_medpar",
        family="InverseGaussian",
        link="Identity",
        load=_medpar,
        dataset="statsmodels/genmod/tests/results/stata_medpar1_glm.csv",
        description="los ~ codes + admitype",
        r_reference=f"{_SM_RESULTS_GLM}: InvGaussIdentity",
    ),
    # ---------------------------------------------------------------- Negative binomial
    Case(
        name="negative_binomial_log_committee",
        family="NegativeBinomial",
        family_kwargs={"alpha": 1.0},
        link="Log",
        load=_committee,
        dataset="statsmodels.datasets.committee",
        description=(
            "BILLS104 ~ SIZE + SUBS + log(STAFF) + PRESTIGE + BILLS103 + log(STAFF):SUBS,"
            " MASS::negative.binomial(theta = 1)"
        ),
        r_reference=f"{_SM_RESULTS_GLM}: Committee",
    ),
    # ---------------------------------------------------------------- Tweedie
    Case(
        name="tweedie_p15_log_fair",
        family="Tweedie",
        family_kwargs={"power": 1.5},
        link="Log",
        load=lambda: _fair(("rate_marriage", "age", "yrs_married")),
        dataset="statsmodels.datasets.fair (affairs: 4313 of 6366 zeros)",
        description="affairs ~ rate_marriage + age + yrs_married, statmod::tweedie(1.5, 0)",
    ),
    Case(
        name="tweedie_p155_log_fair_weights",
        family="Tweedie",
        family_kwargs={"power": 1.55},
        link="Log",
        load=lambda: _fair(("age", "yrs_married"), weighted=True),
        dataset=("statsmodels.datasets.fair, prior weights w[::5] = 5, w[::13] = 3, else 1"),
        description="affairs ~ age + yrs_married, weights, statmod::tweedie(1.55, 0)",
        r_reference=f"{_SM_R_WEIGHTS}: results_tweedie_aweights_nonrobust",
    ),
    Case(
        name="tweedie_p2_power_cancer",
        family="Tweedie",
        family_kwargs={"power": 2.0},
        link="Power",
        link_kwargs={"power": 1.0 / 3.0},
        load=_cancer,
        dataset="statsmodels/genmod/tests/results/stata_cancer_glm.csv",
        description="studytime ~ age + factor(drug), statmod::tweedie(2, link.power = 1/3)",
    ),
]

CASES: dict[str, Case] = {case.name: case for case in _CASE_LIST}
assert len(CASES) == len(_CASE_LIST), "duplicate case names"
