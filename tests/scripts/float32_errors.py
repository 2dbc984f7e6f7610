"""float32 accuracy on every reference case: the README's table (float32 and float64).

Run from the repository root: ``python tests/scripts/float32_errors.py``. For each case of
``tests/references/glm_references.json``, fitted from float32 inputs with x64 on, prints a
Markdown row: the status, the elementwise relative error of params and bse against the
float64 reference (``tests.test_references.rel_err``), and the floor: a float64 fit
(``tol=1e-12``) of the same data rounded to float32, which no float32 method can beat;
then the ``precision="mixed"`` fit of the float32 data: its status and its params' and
bse's elementwise relative error against that float64 fit of the same data.
"""

import sys
import warnings
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, str(Path(__file__).parents[2]))

import numpy as np  # noqa: E402

import jaxglm as jg  # noqa: E402
from tests.references.cases import CASES  # noqa: E402
from tests.test_references import NAMES, REFS, make_model, rel_err  # noqa: E402


def rounded(data: dict, dtype: str) -> dict:
    """The case's arrays rounded to float32, then held in ``dtype``."""
    keys = [k for k in ("X", "y", "weights", "offset") if k in data]
    return {k: np.asarray(np.asarray(data[k], np.float32), dtype) for k in keys}


def main() -> None:
    warnings.simplefilter("ignore")  # a failed fit shows in its status column
    print("| case | status | params | bse | rounding floor | mixed | mixed params | mixed bse |")
    print("|---|---|---|---|---|---|---|---|")
    for name in NAMES:
        case, ref = CASES[name], REFS[name]
        family, link = make_model(case)
        data = case.load()
        d32, d64 = rounded(data, "float32"), rounded(data, "float64")
        res = jg.fit(d32.pop("X"), d32.pop("y"), family, link, **d32)
        floor = jg.fit(d64.pop("X"), d64.pop("y"), family, link, tol=1e-12, **d64)
        d32 = rounded(data, "float32")
        mixed = jg.fit(d32.pop("X"), d32.pop("y"), family, link, precision="mixed", **d32)
        print(
            f"| {name} | {res.status.name} | {rel_err(res.params, ref['params']):.1e} | "
            f"{rel_err(res.bse, ref['bse']):.1e} | {rel_err(floor.params, ref['params']):.1e} | "
            f"{mixed.status.name} | {rel_err(mixed.params, floor.params):.1e} | "
            f"{rel_err(mixed.bse, floor.bse):.1e} |"
        )


if __name__ == "__main__":
    main()
