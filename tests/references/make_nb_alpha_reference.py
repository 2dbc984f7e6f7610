"""NB2 with alpha estimated by ML: statsmodels' discrete NegativeBinomial on randhie.

Run from the repository root: ``python tests/references/make_nb_alpha_reference.py``;
writes ``tests/references/nb_alpha_reference.json`` (params with the constant first, then
alpha, tight tolerances so the reference is exact to ~1e-10).
"""

import json
import pathlib

import numpy as np
import statsmodels
import statsmodels.api as sm

COLUMNS = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]


def main() -> None:
    data = sm.datasets.randhie.load_pandas().data
    y = data["mdvis"].to_numpy(float)
    X = sm.add_constant(data[COLUMNS].to_numpy(float))
    res = sm.NegativeBinomial(y, X, loglike_method="nb2").fit(
        method="newton", maxiter=200, tol=1e-14, disp=False
    )
    out = {
        "dataset": "statsmodels.datasets.randhie",
        "y": "mdvis",
        "columns": COLUMNS,
        "statsmodels": statsmodels.__version__,
        "params": np.asarray(res.params[:-1]).tolist(),
        "alpha": float(res.params[-1]),
        "llf": float(res.llf),
        "bse_alpha_joint": float(res.bse[-1]),
    }
    path = pathlib.Path(__file__).with_name("nb_alpha_reference.json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
