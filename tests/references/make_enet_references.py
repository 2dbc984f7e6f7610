"""Reference values for tests/test_prox_newton.py; run from the repository root.

glum's GeneralizedLinearRegressor minimizes jaxglm's objective (shared/DESIGN.md):
``sum_i w_i deviance_i / (2 sum_i w_i) + alpha (l1_ratio ||P1 beta||_1
+ (1 - l1_ratio)/2 beta^T diag(P2) beta)``, intercept unpenalized; fitted here with
``gradient_tol=1e-12``. Data:

1. breast cancer (scikit-learn), the first 10 columns standardized, Bernoulli/logit,
   alpha = 0.01, l1_ratio = 0.5; the same with penalty factor 0 on column 0, and with
   penalty factor 2 on column 1.
2. randhie (statsmodels), the first 2,000 rows, mdvis ~ the 9 covariates standardized,
   Poisson/log, alpha = 0.05, l1_ratio = 0.7; the same with penalty factors 0.5 ... 2.;
   alpha = 0.2, l1_ratio = 0.7 (five of the nine coefficients exactly 0).

scikit-learn, on the same data: ``LogisticRegression(penalty="elasticnet", solver="saga",
l1_ratio=0.5, C=1/(alpha n))`` (its objective ``C sum_i loss_i + l1_ratio ||w||_1 +
(1 - l1_ratio)/2 ||w||^2`` is jaxglm's times ``C n``) on breast cancer, and
``PoissonRegressor(alpha=0.05)`` (``deviance/(2n) + alpha/2 ||w||^2``: jaxglm's ridge) on
randhie.
"""

import json
import pathlib

import numpy as np
import statsmodels.api as sm
from glum import GeneralizedLinearRegressor
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression, PoissonRegressor


def glum_fit(X, y, family, alpha, l1_ratio, pf=None):
    pf = np.ones(X.shape[1]) if pf is None else pf
    m = GeneralizedLinearRegressor(
        family=family, alpha=alpha, l1_ratio=l1_ratio, P1=pf, P2=pf, gradient_tol=1e-12,
        max_iter=10_000,
    )  # fmt: skip
    m.fit(X, y)
    return {"intercept": float(m.intercept_), "coef": m.coef_.tolist()}


def standardize(X):
    return (X - X.mean(0)) / X.std(0)


out = {}
bc = load_breast_cancer()
Xb = standardize(bc.data[:, :10])
out["breast_cancer"] = {"X": Xb.tolist(), "y": bc.target.astype(float).tolist()}
out["breast_cancer"]["enet"] = glum_fit(Xb, bc.target, "binomial", 0.01, 0.5)
pf = np.ones(10)
pf[0] = 0.0
out["breast_cancer"]["enet_pf"] = glum_fit(Xb, bc.target, "binomial", 0.01, 0.5, pf)
pf2 = np.ones(10)
pf2[1] = 2.0
out["breast_cancer"]["enet_pf2"] = glum_fit(Xb, bc.target, "binomial", 0.01, 0.5, pf2)

n = len(bc.target)
sk = LogisticRegression(
    penalty="elasticnet", solver="saga", l1_ratio=0.5, C=1.0 / (0.01 * n), tol=1e-12,
    max_iter=1_000_000,
).fit(Xb, bc.target)  # fmt: skip
out["breast_cancer"]["sklearn_enet"] = {
    "intercept": float(sk.intercept_[0]), "coef": sk.coef_[0].tolist(), "n_iter": int(sk.n_iter_[0])
}  # fmt: skip

out["breast_cancer"]["sklearn_ridge"] = {}
for alpha in (0.01, 0.1):
    lr = LogisticRegression(
        C=1.0 / (alpha * n), solver="newton-cholesky", tol=1e-12, max_iter=10_000
    ).fit(Xb, bc.target)
    out["breast_cancer"]["sklearn_ridge"][str(alpha)] = {
        "intercept": float(lr.intercept_[0]), "coef": lr.coef_[0].tolist()
    }  # fmt: skip

rh = sm.datasets.randhie.load_pandas().data.iloc[:2000]
Xr = standardize(rh.drop(columns="mdvis").to_numpy(float))
yr = rh["mdvis"].to_numpy(float)
out["randhie"] = {"X": Xr.tolist(), "y": yr.tolist()}
out["randhie"]["enet"] = glum_fit(Xr, yr, "poisson", 0.05, 0.7)
out["randhie"]["enet_pf"] = glum_fit(Xr, yr, "poisson", 0.05, 0.7, np.linspace(0.5, 2.0, 9))
out["randhie"]["enet_sparse"] = glum_fit(Xr, yr, "poisson", 0.2, 0.7)  # 5 of 9 exact zeros
pr = PoissonRegressor(alpha=0.05, tol=1e-12, max_iter=10_000, solver="newton-cholesky")
pr.fit(Xr, yr)
out["randhie"]["sklearn_ridge"] = {"intercept": float(pr.intercept_), "coef": pr.coef_.tolist()}

path = pathlib.Path(__file__).with_name("enet_references.json")
path.write_text(json.dumps(out))
print(f"wrote {path}")
