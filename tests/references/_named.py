"""Writing or checking a JSON file of named-coefficient references (the formula and design
scripts): ``params`` and ``bse`` as ``{name: value}``, ``llf`` a number, per case."""

import json
import sys
from pathlib import Path

import numpy as np


def write_or_check(new: dict, out: Path, label: str) -> None:
    """Write ``new`` to ``out``, or with ``--check`` on the command line compare it with the
    stored values (params and bse to 1e-10, llf to 1e-12, relative)."""
    if "--check" not in sys.argv:
        out.write_text(json.dumps(new, indent=1) + "\n")
        return
    old = json.loads(out.read_text())
    for key, ref in old.items():
        for stat in ("params", "bse"):
            a, b = np.array(list(ref[stat].values())), np.array(list(new[key][stat].values()))
            assert np.allclose(a, b, rtol=1e-10, atol=0), (key, stat)
        assert np.isclose(ref["llf"], new[key]["llf"], rtol=1e-12), key
    print(f"{label} references: ok")
