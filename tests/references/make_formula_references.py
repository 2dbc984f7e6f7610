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

import json
import sys
from pathlib import Path

import numpy as np
import statsmodels.api as sm
import statsmodels.formula.api as smf

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
    new = compute()
    if "--check" in sys.argv:
        old = json.loads(OUT.read_text())
        for key, ref in old.items():
            for stat in ("params", "bse"):
                a, b = np.array(list(ref[stat].values())), np.array(list(new[key][stat].values()))
                assert np.allclose(a, b, rtol=1e-10, atol=0), (key, stat)
            assert np.isclose(ref["llf"], new[key]["llf"], rtol=1e-12), key
        print("formula references: ok")
    else:
        OUT.write_text(json.dumps(new, indent=1) + "\n")
