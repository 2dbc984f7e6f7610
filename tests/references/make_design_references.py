"""Reference values for categorical designs (:func:`jaxglm.design`): statsmodels' formula
``GLM`` with ``C(...)`` terms on a real data set, coefficients named by level.

Run from the repository root (about 1 s)::

    python -m tests.references.make_design_references           # (re)write the JSON
    python -m tests.references.make_design_references --check   # recompute and compare

The data: statsmodels' bundled Grunfeld investment panel (220 rows, 11 firms x 20 years).
The model: ``invest ~ np.log(value) + np.log(capital) + C(firm) + C(year)``, Gamma with a
log link (two categorical blocks: their co-occurrence table enters the Gram), fitted by
IRLS with ``tol_criterion="params"``, ``rtol=1e-13``, ``atol=0`` (it must converge); the
scale is Pearson's chi2 / df_resid (statsmodels' and R's default for Gamma). patsy's
names ``C(firm)[T.IBM]`` are stored as jaxglm's ``firm[IBM]``; the dense columns as
``log_value`` and ``log_capital``. Stored: ``params`` (by name, intercept as
``Intercept``), ``bse``, ``deviance``, ``scale`` (statsmodels'), and ``llf`` as R's
``logLik.glm`` (``family$aic`` with the dispersion ``deviance / n``, from
``scipy.stats.gamma``; statsmodels' ``llf`` uses the Pearson scale instead).
"""

import re
from pathlib import Path

import numpy as np
import scipy.stats as st
import statsmodels.api as sm
import statsmodels.formula.api as smf

from tests.references._named import write_or_check

OUT = Path(__file__).parent / "design_references.json"

FORMULA = "invest ~ np.log(value) + np.log(capital) + C(firm) + C(year)"


def load():
    """The Grunfeld panel with ``year`` as text (so that it is a categorical label)."""
    data = sm.datasets.grunfeld.load_pandas().data
    return data.assign(year=data["year"].astype(int).astype(str))


def jaxglm_name(patsy: str) -> str:
    """``C(firm)[T.IBM]`` -> ``firm[IBM]``; ``np.log(value)`` -> ``log_value``."""
    level = re.fullmatch(r"C\((\w+)\)\[T\.(.+)\]", patsy)
    if level:
        return f"{level[1]}[{level[2]}]"
    return re.sub(r"np\.log\((\w+)\)", r"log_\1", patsy)


def compute() -> dict:
    family = sm.families.Gamma(link=sm.families.links.Log())
    res = smf.glm(FORMULA, load(), family=family).fit(
        tol_criterion="params", rtol=1e-13, atol=0, maxiter=200
    )
    assert res.converged
    mu, y = res.fittedvalues.to_numpy(), res.model.endog
    dispersion = res.deviance / len(y)  # R's Gamma()$aic
    llf = float(np.sum(st.gamma.logpdf(y, a=1 / dispersion, scale=mu * dispersion)))
    return {
        "grunfeld_gamma_log": dict(
            formula=FORMULA,
            params={jaxglm_name(k): v for k, v in res.params.items()},
            bse={jaxglm_name(k): v for k, v in res.bse.items()},
            llf=llf,
            deviance=float(res.deviance),
            scale=float(res.scale),
        )
    }


if __name__ == "__main__":
    write_or_check(compute(), OUT, "design")
