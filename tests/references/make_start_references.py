"""Reference values for R's start without an intercept (issue 15): statsmodels GLM on
cpunish, ``EXECUTIONS ~ INCOME + SOUTH - 1`` with an identity link, Poisson and Gamma.

Run from the repository root: ``python -m tests.references.make_start_references``; it
prints the dict stored in tests/test_start_values.py.
"""

import numpy as np
import statsmodels.api as sm


def main() -> None:
    d = sm.datasets.cpunish.load_pandas().data
    X = d[["INCOME", "SOUTH"]].to_numpy(float)
    y = d["EXECUTIONS"].to_numpy(float)
    link = sm.families.links.Identity()
    out = {}
    for name, family in (
        ("Poisson", sm.families.Poisson(link)),
        ("Gamma", sm.families.Gamma(link)),
    ):
        res = sm.GLM(y, X, family=family).fit(tol=1e-13, maxiter=200)
        out[name] = dict(
            params=np.asarray(res.params).tolist(), bse=np.asarray(res.bse).tolist(),
            deviance=float(res.deviance), scale=float(res.scale),
        )  # fmt: skip
    print(repr(out))


if __name__ == "__main__":
    main()
