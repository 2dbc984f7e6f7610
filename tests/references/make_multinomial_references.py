"""Reference values for tests/test_multinomial.py; run from the repository root.

1. statsmodels MNLogit on anes96 (n = 944, k = 7 party-identification classes, class 0 the
   reference), the covariates of statsmodels' own MNLogit example: log(popul + 0.1),
   TVnews, age, educ, income. params and bse (p+1, k-1), llf, llnull, aic, bic.
2. scikit-learn LogisticRegression (multinomial, l2, newton-cholesky, tol 1e-14; its lbfgs
   stops after 31 iterations 8.5e-6 away from the optimum, measured) on the standardized
   wine data (n = 178, p = 13, k = 3) with C = 0.5: the symmetric parameterization, whose
   objective ``C sum_i loss_i + ||W||^2 / 2`` is jaxglm's with ``alpha = 1 / (C n)``.
3. scikit-learn LogisticRegression (saga, tol 1e-12, elastic net) on the same wine data at
   l1_ratio 1 and 0.5 with C = 1 / (0.02 n): its objective
   ``C sum_i loss_i + l1_ratio ||W||_1 + (1 - l1_ratio) ||W||^2 / 2`` is jaxglm's
   elastic net with ``alpha = 0.02`` (saga reaches about 1e-7 of the optimum, measured).
"""

import json
import pathlib

import numpy as np
import statsmodels.api as sm
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression

out = {}
anes = sm.datasets.anes96.load_pandas().data
X = np.column_stack(
    [np.log(anes["popul"] + 0.1), anes["TVnews"], anes["age"], anes["educ"], anes["income"]]
)
y = anes["PID"].to_numpy().astype(int)
res = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
out["anes96"] = {
    "X": X.tolist(), "y": y.tolist(), "params": np.asarray(res.params).tolist(),
    "bse": np.asarray(res.bse).tolist(), "llf": float(res.llf), "llnull": float(res.llnull),
    "aic": float(res.aic), "bic": float(res.bic), "df_model": float(res.df_model),
    "df_resid": float(res.df_resid),
}  # fmt: skip

wine = load_wine()
Xw = (wine.data - wine.data.mean(0)) / wine.data.std(0)
C = 0.5
clf = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-14, max_iter=1000)
clf.fit(Xw, wine.target)
out["wine_l2"] = {
    "X": Xw.tolist(), "y": wine.target.tolist(), "C": C, "coef": clf.coef_.tolist(),
    "intercept": clf.intercept_.tolist(),
}  # fmt: skip

n_wine = len(wine.target)
out["wine_enet"] = {"alpha": 0.02, "fits": []}
for l1_ratio in (1.0, 0.5):
    clf = LogisticRegression(
        C=1.0 / (0.02 * n_wine), l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=200000
    )
    clf.fit(Xw, wine.target)
    out["wine_enet"]["fits"].append({
        "l1_ratio": l1_ratio, "coef": clf.coef_.tolist(), "intercept": clf.intercept_.tolist(),
    })  # fmt: skip

path = pathlib.Path(__file__).with_name("multinomial_references.json")
path.write_text(json.dumps(out))
print(f"wrote {path}")
