"""The ``jaxglm`` command.

Usage errors stop before the command touches JAX's configuration, so they run in this
process. The fits run in ONE subprocess (a driver calling ``jaxglm.cli.main`` for each
argument list: one JAX import, shared compiled programs), since the command turns on x64
and the persistent compilation cache for its whole process; one more subprocess runs
``python -m jaxglm`` on standard input, proving the wiring and reading the programs the
driver left in the cache.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import jaxglm as jg
from jaxglm import cli

ROOT = Path(__file__).parents[1]

DRIVER = r"""
import contextlib, io, json, sys
import numpy as np, pandas as pd
import jaxglm as jg
from jaxglm.cli import main
runs = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    runs.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
# The reference: the library's formula fit on the same data, in this process, in float64
# (the command's x64 is scoped to it: this process's setting is still off here).
import jax
assert not jax.config.jax_enable_x64
df = pd.read_csv("data.csv")
with jax.enable_x64(True):
    ref = jg.glm(sys.argv[2], df, "poisson", exposure="years")
    stats = {k: np.asarray(getattr(ref.result, k)).tolist() for k in (
        "params", "bse", "tvalues", "pvalues", "deviance", "null_deviance", "llf", "aic", "bic",
        "pearson_chi2", "scale", "nobs", "df_resid", "df_model", "n_iter")}
    stats["conf_int"] = np.asarray(ref.result.conf_int(0.05)).tolist()
    stats["cov_params"] = np.asarray(ref.result.cov_params()).tolist()
    stats["predict"] = np.asarray(ref.predict(df.iloc[:5])).tolist()
print(json.dumps({"runs": runs, "reference": stats}))
"""

FORMULA = "y ~ x1 + C(g)"


def _frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"x1": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n),
         "years": rng.uniform(0.5, 2.0, n)}
    )  # fmt: skip
    df["y"] = rng.poisson(df["years"] * np.exp(0.3 + 0.4 * df["x1"]))
    df["sep"] = (df["x1"] > 0).astype(int)  # separated by x1: a Bernoulli fit cannot converge
    df["neg"] = df["y"]
    df.loc[7, "neg"] = -1
    return df


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    df = _frame()
    df.to_csv(d / "data.csv", index=False)
    df.to_parquet(d / "data.parquet")
    claims = df.rename(columns={"y": "claims", "x1": "age", "g": "region"})  # docs/cli.md's
    claims.to_csv(d / "claims.csv", index=False)
    claims.to_parquet(d / "claims.parquet")
    both = pd.concat([df, claims[["claims", "age", "region"]]], axis=1)
    both.iloc[:5].to_csv(d / "new.csv", index=False)  # new rows for either formula
    return d, df


def documented_commands() -> list[list[str]]:
    """The ``jaxglm fit`` / ``path`` / ``cv`` commands of docs/cli.md's example block, as
    argument lists (the one reading standard input is run by the stdin test's kind)."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "docs" / "cli.md").read_text(), re.S)
    lines = block.group(1).replace("\\\n", " ").splitlines()
    words = [shlex.split(line, comments=True) for line in lines]
    return [w[1:] for w in words if w[:1] == ["jaxglm"] and w[1] in ("fit", "path", "cv")]


def _env(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    return dict(env, JAXGLM_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))


@pytest.fixture(scope="module")
def driven(files):
    d, _ = files
    fit = ["fit", "data.csv", "--formula", FORMULA, "--family", "poisson", "--exposure", "years"]
    argvs = {
        "csv": [*fit, "--json", "csv.json", "--predict", "new.csv", "--out", "pred.csv"],
        "parquet": ["fit", "data.parquet", *fit[2:], "--json", "pq.json"],
        "support": ["fit", "data.csv", "--formula", "neg ~ x1", "--family", "poisson"],
        # A column of 1e200s: the Gram matrix overflows, the fit ends rank_deficient.
        "failed": [*fit[:3], "y ~ I(x1 * 1e200) + C(g)", *fit[4:]],
        "path": ["path", "data.parquet", "--formula", FORMULA, "--family", "poisson",
                 "--n-alphas", "5", "--plot", "path.png"],
        "info": ["info"],
        **{f"docs {i}": argv for i, argv in enumerate(documented_commands())},
    }  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(list(argvs.values())), FORMULA], cwd=d,
        env=_env(d / "cache"), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    return dict(zip(argvs, result["runs"], strict=True)), result["reference"]


def test_fit_json_equals_glm_for_csv_and_parquet(files, driven):
    d, _ = files
    runs, ref = driven
    for name, file in (("csv", "csv.json"), ("parquet", "pq.json")):
        assert runs[name]["code"] == 0, runs[name]["stderr"]
        assert "Generalized Linear Model Results" in runs[name]["stdout"]
        out = json.loads((d / file).read_text())
        assert out["status"] == "converged" and out["converged"] is True
        assert out["param_names"] == ["Intercept", "x1", "C(g)[T.b]", "C(g)[T.c]"]
        assert out["dtype"] == "float64" and out["family"] == "Poisson"
        for key, value in ref.items():
            if key != "predict":
                np.testing.assert_allclose(out[key], value, rtol=1e-12, err_msg=key)
    predictions = pd.read_csv(d / "pred.csv")["prediction"]
    np.testing.assert_allclose(predictions, ref["predict"], rtol=1e-12)


def test_support_error_and_failed_fit_exit_codes(driven):
    runs, _ = driven
    support = runs["support"]
    assert support["code"] == 2 and support["stdout"] == ""
    assert support["stderr"] == (
        "jaxglm fit: error: y[7] = -1 is outside the support of Poisson (y >= 0)\n"
    )
    failed = runs["failed"]
    assert failed["code"] == 1, failed["stderr"]  # the summary is printed, the status said
    assert "Generalized Linear Model Results" in failed["stdout"]
    assert "jaxglm: the fit failed: " in failed["stderr"]
    assert all(line.startswith("jaxglm") for line in failed["stderr"].splitlines())


def test_path_prints_the_grid_and_writes_the_plot(files, driven):
    d, _ = files
    runs, _ = driven
    assert runs["path"]["code"] == 0, runs["path"]["stderr"]
    rows = [line.split() for line in runs["path"]["stdout"].splitlines()[1:6]]
    assert len(rows) == 5 and rows[0][1] == "0" and rows[-1][1] == "3"
    alphas = [float(r[0]) for r in rows]
    assert alphas == sorted(alphas, reverse=True)
    assert (d / "path.png").read_bytes()[:4] == b"\x89PNG"


def test_info_reports_versions_devices_and_the_cache(files, driven):
    d, _ = files
    text = driven[0]["info"]["stdout"]
    assert f"jaxglm        {jg.__version__}" in text and "cpu" in text.lower()
    assert f"cache         {d / 'cache'}" in text and "x64" in text
    assert any((d / "cache").iterdir())  # the fits stored their compiled programs


def test_module_entry_point_reads_csv_on_stdin_in_float32(files, driven):
    d, _ = files
    out = subprocess.run(
        [sys.executable, "-m", "jaxglm", "fit", "-", "--formula", FORMULA, "--family",
         "poisson", "--exposure", "years", "--dtype", "float32", "--json", "f32.json"],
        input=(d / "data.csv").read_text(), cwd=d, env=_env(d / "cache"),
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == "" and "Generalized Linear Model Results" in out.stdout
    f32 = json.loads((d / "f32.json").read_text())
    assert f32["dtype"] == "float32"
    np.testing.assert_allclose(f32["params"], driven[1]["params"], rtol=1e-4)


class _Stop(ValueError):
    pass


@pytest.fixture
def recorded(monkeypatch):
    """The command in this process, its fit replaced by one that records its arguments."""
    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        raise _Stop("recorded")

    monkeypatch.setattr(cli, "_setup", lambda: None)
    monkeypatch.setattr(jg, "glm", record)
    return calls


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], {"alpha": 0.0, "l1_ratio": 0.0}),
        (["--cluster", "g"], {"cov_type": "cluster", "groups": "g"}),
        (["--cov-type", "HC1", "--weights", "years"], {"cov_type": "HC1", "weights": "years"}),
        (["--offset", "years", "--alpha", "0.5", "--l1-ratio", "1"],
         {"offset": "years", "alpha": 0.5, "l1_ratio": 1.0}),
    ],
)  # fmt: skip
def test_fit_options_reach_glm(files, recorded, capsys, options, expected):
    d, _ = files
    argv = ["fit", str(d / "data.csv"), "--formula", "y ~ x1", "--family", "gamma", *options]
    assert cli.main(argv) == 2  # the recording fit stops the command
    ((args, kwargs),) = recorded
    assert args[0] == "y ~ x1" and args[2].name == "Gamma" and args[3] is None
    assert expected.items() <= kwargs.items()
    assert capsys.readouterr().err == "jaxglm fit: error: recorded\n"


def test_cv_prints_the_chosen_alphas_and_writes_the_plot(files, monkeypatch, capsys):
    d, df = files
    grid = np.array([1.0, 0.1, 0.01])
    refit = SimpleNamespace(params=np.array([0.3, 0.4, -0.1, 0.2]), converged=True)
    fake = SimpleNamespace(path=SimpleNamespace(alphas=grid), mean=np.array([3.0, 2.0, 2.1]),
                           se=np.array([0.1, 0.2, 0.2]), alpha_min=0.1, alpha_1se=1.0,
                           refit=refit)  # fmt: skip
    calls = []
    monkeypatch.setattr(cli, "_setup", lambda: None)
    monkeypatch.setattr(jg, "cv", lambda X, y, **kw: calls.append((X, y, kw)) or fake)
    argv = [
        "cv",
        str(d / "data.csv"),
        "--formula",
        FORMULA,
        "--family",
        "poisson",
        "--exposure",
        "years",
        "--n-folds",
        "3",
        "--seed",
        "4",
        "--plot",
        str(d / "cv.png"),
    ]
    assert cli.main(argv) == 0
    ((X, y, kw),) = calls
    assert list(X.columns) == ["x1", "C(g)[T.b]", "C(g)[T.c]"] and y.shape == (60,)
    assert kw["n_folds"] == 3 and kw["seed"] == 4 and kw["l1_ratio"] == 1.0
    np.testing.assert_array_equal(kw["exposure"], df["years"])
    out = capsys.readouterr().out
    assert "alpha_min = 0.1\nalpha_1se = 1\n" in out and "C(g)[T.c]" in out
    assert (d / "cv.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--formula", "y ~ x1"], "no such file: 'missing.csv'"),
        (["{csv}", "--formula", "y ~ x11"], "formula: unknown column 'x11'; did you mean 'x1'?"),
        (["{csv}", "--formula", "y ~ (x1"], "bad formula 'y ~ (x1': "),
        (["{csv}", "--formula", "~ x1"], "bad formula '~ x1': it needs a response"),
        (["{csv}", "--formula", "y ~ x1", "--family", "poison"],
         "unknown family 'poison'; valid names: bernoulli, binomial, gamma, gaussian, "),
        (["{csv}", "--formula", "y ~ x1", "--family", "poison"], "(did you mean 'poisson'?)"),
        (["{csv}", "--formula", "y ~ x1", "--link", "lgo"], "did you mean 'log'?"),
        (["{csv}", "--formula", "y ~ x1", "--exposure", "yeras"],
         "--exposure: unknown column 'yeras'; did you mean 'years'?"),
        (["{csv}", "--formula", "y ~ x1", "--cluster", "G"], "--cluster: unknown column 'G'"),
        (["{csv}", "--formula", "y ~ x1", "--predict", "{csv}"], "--predict needs --out"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_with_exit_code_2(files, capsys, args, message):
    d, _ = files
    argv = ["fit", *(a.replace("{csv}", str(d / "data.csv")) for a in args)]
    assert cli.main(argv) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1
    assert out.err.startswith("jaxglm fit: error: ") and message in out.err


def test_help_says_formulas_are_python_and_bench_needs_a_checkout(capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fit", "--help"])
    assert exit_.value.code == 0
    assert "EVALUATED AS PYTHON" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fit", "data.csv"])  # --formula missing: argparse's usage error
    assert exit_.value.code == 2
    capsys.readouterr()
    monkeypatch.setattr(cli, "_checkout", lambda: None)
    assert cli.main(["bench", "--quick"]) == 2
    assert "benchmarks are not part of the installed package" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly_with_exit_code_1(monkeypatch):
    """`jaxglm path ... | head -1`: the reader leaves; no BrokenPipeError traceback."""
    redirected = []

    def info(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_info", info)
    monkeypatch.setattr(cli.os, "dup2", lambda fd, to: redirected.append(to))
    monkeypatch.setattr(cli.os, "open", lambda path, flags: -1)
    assert cli.main(["info"]) == 1
    assert redirected == [sys.stdout.fileno()]


def test_the_dtype_is_scoped_to_the_command(files, monkeypatch):
    """--dtype float32 runs the fit with x64 off, and the process's setting (on in this
    test session) is the same afterwards: the command never changes it globally."""
    import jax

    seen = []

    def record(*args, **kwargs):
        seen.append(bool(jax.config.jax_enable_x64))
        raise _Stop("recorded")

    monkeypatch.setattr(cli, "_setup", lambda: None)
    monkeypatch.setattr(jg, "glm", record)
    d, _ = files
    for dtype in ("float32", "float64"):
        argv = ["fit", str(d / "data.csv"), "--formula", "y ~ x1", "--family", "gamma"]
        assert cli.main([*argv, "--dtype", dtype]) == 2
        assert jax.config.jax_enable_x64
    assert seen == [False, True]


def test_the_commands_of_the_documentation_run(files, driven):
    """docs/cli.md's example commands, on a claims file with the columns they name."""
    d, _ = files
    runs, _ = driven
    docs = {k: r for k, r in runs.items() if k.startswith("docs")}
    assert [r["code"] for r in docs.values()] == [0, 0, 0], [r["stderr"] for r in docs.values()]
    fitted = json.loads((d / "fit.json").read_text())
    assert fitted["cov_type"] == "HC1" and fitted["status"] == "converged"
    assert len(pd.read_csv(d / "pred.csv")) == len(pd.read_csv(d / "new.csv"))
    assert all((d / name).read_bytes()[:4] == b"\x89PNG" for name in ("path.png", "cv.png"))
    assert "alpha_min" in docs["docs 2"]["stdout"]
