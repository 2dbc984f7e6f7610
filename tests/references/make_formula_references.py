"""Reference values for jaxglm's formula front end (:func:`jaxglm.glm`): statsmodels'
``smf.glm`` on real data sets with categorical terms and transforms.

Run from the repository root (about 2 s)::

    python -m tests.references.make_formula_references           # (re)write the JSON
    python -m tests.references.make_formula_references --check   # recompute and compare

Each model is fitted by statsmodels' formula ``GLM`` (patsy builds the design; IRLS with
``tol_criterion="params"``, ``rtol=1e-13``, ``atol=0``; it must converge). Stored by term
name (patsy's and formulaic's names agree for these terms; their column order differs):
``params``, ``bse``, ``llf``, ``deviance``. The data are statsmodels' bundled data sets.
"""

from pathlib import Path

import numpy as np  # noqa: F401 (the formulas' np.log, evaluated by patsy here)
import statsmodels.api as sm
import statsmodels.formula.api as smf

from tests.references._named import write_or_check

OUT = Path(__file__).parent / "formula_references.json"

MODELS = {
    "anes96_bernoulli": dict(
        data="anes96",
        rows=None,
        formula="vote ~ C(educ, Treatment(reference=3)) + np.log(popul + 0.1) + I(age ** 2)"
        " + age + C(PID) + TVnews",
        family="Binomial",
    ),
    "randhie_poisson": dict(
        data="randhie",
        rows=2000,
        formula="mdvis ~ lncoins + C(idp) + np.log1p(disea) + I(physlm ** 2) + lpi:fmde",
        family="Poisson",
    ),
}


def load(name: str, rows: int | None):
    data = getattr(sm.datasets, name).load_pandas().data
    return data if rows is None else data.iloc[:rows].reset_index(drop=True)


def compute() -> dict:
    out = {}
    for key, m in MODELS.items():
        family = getattr(sm.families, m["family"])()
        res = smf.glm(m["formula"], load(m["data"], m["rows"]), family=family).fit(
            tol_criterion="params", rtol=1e-13, atol=0, maxiter=200
        )
        assert res.converged, key
        out[key] = dict(
            m,
            params=dict(res.params.items()),
            bse=dict(res.bse.items()),
            llf=float(res.llf),
            deviance=float(res.deviance),
        )
    return out


if __name__ == "__main__":
    write_or_check(compute(), OUT, "formula")
