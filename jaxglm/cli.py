"""The ``jaxglm`` command: fit, path and cross-validation from a data file; info; bench; demo.

::

    jaxglm fit claims.csv --formula "claims ~ age + C(region)" --family poisson \\
        --exposure years --json fit.json
    jaxglm cv claims.parquet --formula "claims ~ age + C(region)" --family poisson \\
        --l1-ratio 1 --plot cv.png
    cat claims.csv | jaxglm fit - --formula "claims ~ age" --family poisson
    jaxglm info

``DATA`` is a CSV file, a Parquet file (``.parquet`` / ``.pq``; needs pyarrow) or ``-`` for
CSV on standard input. The formula is formulaic's grammar (:func:`jaxglm.glm`) and is
**evaluated as Python** (``np.log(x)`` calls NumPy): never run a formula from an untrusted
source. ``fit``, ``path`` and ``cv`` compute in float64 (they turn on JAX's x64 mode) unless
``--dtype float32``: they run inside ``jax.enable_x64``, scoped to the command (JAX's
global setting is left as it is), and store compiled programs in a persistent cache directory
(``$JAXGLM_CACHE_DIR``, else the user cache directory, e.g. ``~/.cache/jaxglm/jax``), so
that a second run with the same shapes starts faster. The library itself never changes
JAX's configuration; the cache directory is set by the command, as the application.

Exit codes: 0 done; 1 the fit did not converge (its status is printed; the summary and
``--json`` are still written); 2 bad usage: a missing file, an unknown column (with the
closest names), a bad formula, an unknown family or link (with the valid names), data the
model cannot take (e.g. ``y`` outside the family's support, with its row). Each of these
is one line on standard error, without a traceback.

``--json OUT`` schema (one object; ``NaN`` and infinities are written as ``null``):

==================  ==============================================================
key                 value
==================  ==============================================================
``jaxglm_version``  the version that wrote it
``formula``         the formula as given
``family``          the family's name (``"Poisson"``, ``"Tweedie(power=1.5)"``)
``link``            the link's name (null for Multinomial: its softmax link is fixed)
``solver``          the solver's name
``dtype``           ``"float64"`` or ``"float32"``
``status``          the :class:`jaxglm.Status` name in lower case (``"converged"``)
``converged``       true or false
``n_iter``          solver iterations
``alpha``           penalty strength; ``l1_ratio``: elastic-net mixing
``cov_type``        ``"nonrobust"``, ``"HC0"``-``"HC3"`` or ``"cluster"``
``use_t``           whether p-values and intervals use Student's t
``nobs``            number of observations (R's rule for zero weights)
``df_model``        model degrees of freedom; ``df_resid``: residual ones
``scale``           dispersion ``phi``
``deviance``        deviance; ``null_deviance``: the intercept-only model's
``pearson_chi2``    Pearson's chi-squared statistic (``scale``, ``null_deviance`` and
                    ``pearson_chi2`` are null for Multinomial)
``llf``             log-likelihood; ``aic``, ``bic``: R's ``AIC``/``BIC``
``param_names``     the parameters' names, ``"Intercept"`` first when fitted
``params``          estimates, in ``param_names`` order (for Multinomial, one list
                    per parameter with one value per non-reference class)
``bse``             standard errors; ``tvalues``: Wald statistics; ``pvalues``
``conf_int``        ``[lower, upper]`` per parameter at level ``conf_level``
``conf_level``      0.95
``cov_params``      the parameters' covariance matrix (rows in ``params.ravel()``
                    order)
==================  ==============================================================

Every number equals the one of :func:`jaxglm.glm` on the same data and options.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

import jaxglm as jg
from jaxglm import _frames
from jaxglm._names import FAMILIES, LINKS, family_from_name, link_from_name

__all__ = ["UsageError", "cache_dir", "main"]


class UsageError(Exception):
    """A mistake in the command's arguments or data: one line on stderr, exit code 2."""


# ---- the demo ----------------------------------------------------------------------------


def _synthetic(n: int, seed: int = 0):
    """Design with 4 features: 3 standard normal and one binary, plus true coefficients."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)])
    return rng, X


def _demo_models(n: int):
    rng, X = _synthetic(n)
    beta = np.array([0.5, -0.25, 0.1, 0.3])
    logistic_y = rng.binomial(1, 1.0 / (1.0 + np.exp(-(-0.5 + X @ beta))))
    exposure = rng.uniform(0.5, 2.0, size=n)
    poisson_y = rng.poisson(exposure * np.exp(0.2 + X @ (0.5 * beta)))
    shape = 2.0
    gamma_mu = np.exp(1.0 + X @ (0.4 * beta))
    gamma_y = rng.gamma(shape, gamma_mu / shape)
    return [
        ("Logistic regression", X, logistic_y, jg.Bernoulli(), None, {}, -0.5, beta),
        ("Poisson with exposure", X, poisson_y, jg.Poisson(), None, {"exposure": exposure},
         0.2, 0.5 * beta),
        ("Gamma with log link", X, gamma_y, jg.Gamma(), jg.Log(), {}, 1.0, 0.4 * beta),
    ]  # fmt: skip


def demo(n: int = 200_000) -> None:
    """Fit a logistic, a Poisson-with-exposure and a Gamma-log model; print what happened."""
    dtype = "float64" if jax.config.jax_enable_x64 else "float32 (set JAX_ENABLE_X64=1)"
    print(f"jaxglm {jg.__version__} demo: n={n:,}, p=4, on {jax.default_backend()}, {dtype}\n")
    for title, X, y, family, link, extra, b0, beta in _demo_models(n):
        t0 = time.perf_counter()
        res = jg.fit(X, y, family=family, link=link, **extra)
        jax.block_until_ready(res)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        jax.block_until_ready(jg.fit(X, y, family=family, link=link, **extra))
        run = time.perf_counter() - t0
        print(f"== {title} ==")
        print(res.summary())
        truth = np.concatenate([[b0], beta])
        print(f"{'':<10}{'true':>10}{'fitted':>10}{'|diff|/se':>11}")
        for name, t, f, s in zip(
            ["Intercept", "x1", "x2", "x3", "x4"],
            truth,
            np.asarray(res.params),
            np.asarray(res.bse),
            strict=True,
        ):
            print(f"{name:<10}{t:>10.4f}{f:>10.4f}{abs(f - t) / s:>11.2f}")
        print(f"time: compile + first fit {first:.2f} s, second fit (compiled) {run:.3f} s, "
              f"{int(res.n_iter)} iterations of {res.solver_name}\n")  # fmt: skip


# ---- data, columns and names -------------------------------------------------------------


def cache_dir() -> Path:
    """The directory of the command's persistent compilation cache: ``$JAXGLM_CACHE_DIR``,
    else ``jaxglm/jax`` in the user cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``;
    ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows).

    Example:
        >>> import os
        >>> from jaxglm.cli import cache_dir
        >>> os.environ["JAXGLM_CACHE_DIR"] = "/tmp/jaxglm-cache"
        >>> str(cache_dir())
        '/tmp/jaxglm-cache'
        >>> del os.environ["JAXGLM_CACHE_DIR"]
    """
    if os.environ.get("JAXGLM_CACHE_DIR"):
        return Path(os.environ["JAXGLM_CACHE_DIR"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "jaxglm" / "jax"


def _read(source: str) -> Any:
    """A pandas frame from a CSV or Parquet file, or CSV on stdin (``-``)."""
    try:
        import formulaic  # noqa: F401
        import pandas as pd
    except ImportError as err:
        raise UsageError(f"the command needs {err.name}: pip install 'jaxglm[cli]'") from None

    if source == "-":
        return pd.read_csv(sys.stdin)
    if not Path(source).is_file():
        raise UsageError(f"no such file: {source!r}")
    try:
        if Path(source).suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(source)
        return pd.read_csv(source)
    except ImportError as err:
        raise UsageError(f"reading {source!r} needs a package: {err}") from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise UsageError(f"cannot read {source!r}: {_one_line(err)}") from None


def _check_column(data: Any, column: str, option: str) -> None:
    if column not in data.columns:
        raise UsageError(f"{option}: {_unknown(column, data)}")


def _unknown(column: str, data: Any) -> str:
    names = [str(c) for c in data.columns]
    close = difflib.get_close_matches(column, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    return f"unknown column {column!r}{hint} (columns: {', '.join(names)})"


def _check_formula(formula: str, data: Any) -> None:
    """A formula that parses and whose variables are columns (or NumPy/formulaic names)."""
    import formulaic
    from formulaic.errors import FormulaicError

    try:
        parsed = formulaic.Formula(formula)
    except FormulaicError as err:
        raise UsageError(f"bad formula {formula!r}: {_one_line(err)}") from None
    if not hasattr(parsed, "lhs"):
        raise UsageError(f"bad formula {formula!r}: it needs a response, 'y ~ terms'")
    columns = {str(c) for c in data.columns}
    for name in sorted(parsed.required_variables):
        if name not in columns and name not in ("np", "numpy"):
            raise UsageError(f"formula: {_unknown(name, data)}")


def _names(family: str, link: str | None) -> tuple[jg.Family, jg.Link | None]:
    try:
        return family_from_name(family), link_from_name(link)
    except ValueError as err:
        name, valid = (family, FAMILIES) if "family" in str(err) else (link, LINKS)
        close = difflib.get_close_matches(str(name).lower(), list(valid), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"{err}{hint}") from None


def _one_line(err: BaseException) -> str:
    lines = [s.strip() for s in str(err).splitlines() if s.strip()]
    return lines[0] if lines else type(err).__name__


@contextlib.contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """The library's warnings (non-convergence, separation) as one line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        print(f"jaxglm: warning: {_one_line(w.message)}", file=sys.stderr)


def _setup() -> None:
    """The command's compilation cache (x64 is scoped to the command by :func:`main`)."""
    jg.enable_compilation_cache(cache_dir())


def _data_options(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    """The per-row options given as column names, checked against the data."""
    options = {}
    for option, key in (("weights", "weights"), ("offset", "offset"), ("exposure", "exposure")):
        column = getattr(args, option)
        if column is not None:
            _check_column(data, column, f"--{option}")
            options[key] = column
    return options


# ---- fit -----------------------------------------------------------------------------------


def _json_number(x: Any) -> Any:
    if isinstance(x, list):
        return [_json_number(v) for v in x]
    x = float(x)
    return x if math.isfinite(x) else None


def result_json(res: jg.FormulaResult, dtype: str, alpha: float, l1_ratio: float) -> dict:
    """The ``--json`` object of a formula fit (the schema of the module docstring)."""
    r = res.result
    multinomial = isinstance(r, jg.MultinomialResult)
    arrays = {
        "params": r.params,
        "bse": r.bse,
        "tvalues": r.tvalues,
        "pvalues": r.pvalues,
        "conf_int": r.conf_int(0.05),
        "cov_params": r.cov_params(),
    }
    out: dict[str, Any] = {
        "jaxglm_version": jg.__version__,
        "formula": res.formula,
        "family": r.family.name,
        "link": None if multinomial else r.link.name,
        "solver": r.solver_name,
        "dtype": dtype,
        "status": jg.Status(int(r.status_code)).name.lower(),
        "converged": bool(r.converged),
        "n_iter": int(r.n_iter),
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "cov_type": r.cov_type,
        "use_t": False if multinomial else bool(r.use_t),
    }
    for key in ("nobs", "df_model", "df_resid", "scale", "deviance", "null_deviance",
                "pearson_chi2", "llf", "aic", "bic"):  # fmt: skip
        absent = multinomial and key in ("scale", "null_deviance", "pearson_chi2")
        out[key] = None if absent else _json_number(getattr(r, key))
    out["param_names"] = list(res.params.index)
    for key, value in arrays.items():
        out[key] = _json_number(np.asarray(value).tolist())
    out["conf_level"] = 0.95
    return out


def _fit(args: argparse.Namespace) -> int:
    family, link = _names(args.family, args.link)
    if args.predict is not None and args.out is None:
        raise UsageError("--predict needs --out FILE for the predictions")
    data = _read(args.data)
    _check_formula(args.formula, data)
    options = _data_options(args, data)
    if args.cluster is not None:
        _check_column(data, args.cluster, "--cluster")
        options.update(cov_type="cluster", groups=args.cluster)
    elif args.cov_type is not None:
        options["cov_type"] = args.cov_type
    new = None if args.predict is None else _read(args.predict)
    _setup()
    with _warnings_on_stderr():
        try:
            res = jg.glm(args.formula, data, family, link, alpha=args.alpha,
                         l1_ratio=args.l1_ratio, **options)  # fmt: skip
        except ValueError as err:
            raise UsageError(_one_line(err)) from None
    print(res.summary())
    if args.json is not None:
        with open(args.json, "w") as f:
            json.dump(result_json(res, args.dtype, args.alpha, args.l1_ratio), f, indent=2)
    if new is not None:
        try:
            pred = np.asarray(res.predict(new))
        except ValueError as err:
            raise UsageError(f"--predict: {_one_line(err)}") from None
        _write_predictions(pred, args.out, res.classes)
    if not bool(res.result.converged):
        print(f"jaxglm: the fit failed: {res.result.status_message}", file=sys.stderr)
        return 1
    return 0


def _write_predictions(pred: np.ndarray, out: str, classes: tuple | None) -> None:
    import pandas as pd

    if pred.ndim == 2:
        labels = classes or range(pred.shape[1])
        frame = pd.DataFrame(pred, columns=[f"prob_{c}" for c in labels])
    else:
        frame = pd.DataFrame({"prediction": pred})
    if Path(out).suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)


# ---- path and cv ---------------------------------------------------------------------------


def _design_args(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The formula's design and the options of :func:`jaxglm.path` / :func:`jaxglm.cv`."""
    family, link = _names(args.family, args.link)
    data = _read(args.data)
    _check_formula(args.formula, data)
    columns = _data_options(args, data)
    _setup()
    try:
        d = jg.formula.design(args.formula, data)
    except ValueError as err:
        raise UsageError(_one_line(err)) from None
    options = {k: _frames.to_numpy(k, data[c]) for k, c in columns.items()}
    options.update(family=family, link=link, fit_intercept=d.fit_intercept,
                   l1_ratio=args.l1_ratio, n_alphas=args.n_alphas)  # fmt: skip
    if not args.no_progress and sys.stderr.isatty() and importlib.util.find_spec("tqdm"):
        options["progress"] = True
    return d, options


def _save(figure: Any, filename: str) -> None:
    figure.savefig(filename, dpi=100, bbox_inches="tight")
    print(f"wrote {filename}")


def _path(args: argparse.Namespace) -> int:
    d, options = _design_args(args)
    with _warnings_on_stderr():
        try:
            res = jg.path(d.X, d.y, **options)
        except ValueError as err:
            raise UsageError(_one_line(err)) from None
    print(f"{'alpha':>12}{'nonzero':>9}{'dev_ratio':>11}")
    for a, k, r in zip(np.asarray(res.alphas), np.asarray(res.n_nonzero),
                       np.asarray(res.dev_ratio), strict=True):  # fmt: skip
        print(f"{a:>12.5g}{int(k):>9d}{r:>11.4f}")
    if args.plot is not None:
        from jaxglm.plotting import plot_path

        _save(plot_path(res, names=list(d.X.columns)), args.plot)
    failed = int(np.sum(np.asarray(res.status) != jg.Status.CONVERGED))
    if failed:
        print(f"jaxglm: {failed} fits of the path did not converge", file=sys.stderr)
        return 1
    return 0


def _cv(args: argparse.Namespace) -> int:
    d, options = _design_args(args)
    with _warnings_on_stderr():
        try:
            res = jg.cv(d.X, d.y, n_folds=args.n_folds, seed=args.seed, **options)
        except ValueError as err:
            raise UsageError(_one_line(err)) from None
    print(f"alpha_min = {float(res.alpha_min):.6g}")
    print(f"alpha_1se = {float(res.alpha_1se):.6g}")
    names = ["Intercept", *d.X.columns] if d.fit_intercept else list(d.X.columns)
    print(f"coefficients refitted at alpha_min:\n{'':<24}{'coef':>12}")
    for name, value in zip(names, np.asarray(res.refit.params), strict=True):
        print(f"{name:<24}{value:>12.5g}")
    if args.plot is not None:
        from jaxglm.plotting import plot_cv

        _save(plot_cv(res), args.plot)
    if not bool(res.refit.converged):
        print(f"jaxglm: the refit failed: {res.refit.status_message}", file=sys.stderr)
        return 1
    return 0


# ---- info and bench ------------------------------------------------------------------------


def _version(module: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "not installed"


def _info(args: argparse.Namespace) -> int:
    print(f"jaxglm        {jg.__version__}")
    print(f"python        {sys.version.split()[0]}")
    for package in ("jax", "jaxlib", "numpy", "optax", "formulaic", "pandas", "pyarrow",
                    "matplotlib", "tqdm"):  # fmt: skip
        print(f"{package:<14}{_version(package)}")
    print(f"backend       {jax.default_backend()}")
    print(f"devices       {', '.join(str(d) for d in jax.devices())}")
    x64 = "on" if jax.config.jax_enable_x64 else "off"
    print(f"x64           {x64} here; fit, path and cv turn it on unless --dtype float32")
    print(f"cache         {cache_dir()}")
    return 0


def _checkout() -> Path | None:
    """The source checkout jaxglm runs from (the folder holding ``benchmarks/``), if any."""
    root = Path(jg.__file__).resolve().parents[1]
    return root if (root / "benchmarks" / "run.py").is_file() else None


def _bench(args: argparse.Namespace) -> int:
    root = _checkout()
    if root is None:
        raise UsageError(
            "the benchmarks are not part of the installed package: run 'jaxglm bench' from a "
            "source checkout (git clone, then pip install -e '.[bench]')"
        )
    command = [sys.executable, "-m", "benchmarks.run", *(["--quick"] if args.quick else [])]
    return subprocess.run(command, cwd=root, check=False).returncode


# ---- the parser ----------------------------------------------------------------------------

_FORMULA_HELP = (
    "model formula, formulaic's grammar: 'y ~ x1 + np.log(x2) + C(g)'. It is EVALUATED AS "
    "PYTHON (names in it can call functions): never pass a formula from an untrusted source"
)


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file; '-' reads CSV on stdin")
    p.add_argument("--formula", required=True, help=_FORMULA_HELP)
    p.add_argument(
        "--family",
        default="gaussian",
        help=f"family name (default gaussian): {', '.join(sorted(FAMILIES))}",
    )
    p.add_argument("--link", help=f"link name (default: the family's): {', '.join(sorted(LINKS))}")
    p.add_argument("--weights", metavar="COL", help="column of prior weights")
    off = p.add_mutually_exclusive_group()
    off.add_argument("--offset", metavar="COL", help="column added to the linear predictor")
    off.add_argument("--exposure", metavar="COL", help="column whose log is the offset")
    p.add_argument(
        "--l1-ratio",
        type=float,
        default=None,
        metavar="R",
        help="elastic-net mixing: 1 lasso, 0 ridge",
    )
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="float64 (default: turns on JAX's x64) or float32")  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxglm",
        description="Generalized linear models in JAX from the command line. Formulas are "
        "evaluated as Python expressions (formulaic): never run one from an untrusted "
        "source. Exit codes: 0 ok, 1 a fit failed to converge, 2 bad usage.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_fit = sub.add_parser("fit", help="fit a GLM from a formula; print its summary",
                           description=_FORMULA_HELP + ".")  # fmt: skip
    _add_data_options(p_fit)
    p_fit.add_argument("--alpha", type=float, default=0.0, metavar="A",
                       help="penalty strength (default 0: unpenalized)")  # fmt: skip
    cov = p_fit.add_mutually_exclusive_group()
    cov.add_argument("--cov-type", choices=("nonrobust", "HC0", "HC1", "HC2", "HC3"),
                     help="covariance of the estimates (default nonrobust)")  # fmt: skip
    cov.add_argument("--cluster", metavar="COL", help="cluster-robust covariance by COL")
    p_fit.add_argument("--json", metavar="OUT", help="write every statistic as JSON to OUT")
    p_fit.add_argument("--predict", metavar="NEWDATA", help="CSV or Parquet data to predict")
    p_fit.add_argument("--out", metavar="PRED", help="where --predict writes (CSV or Parquet)")

    for name, text in (
        ("path", "the regularization path: alphas, nonzeros, deviance ratio"),
        ("cv", "k-fold cross-validation: alpha_min, alpha_1se, the refit"),
    ):
        p = sub.add_parser(name, help=text, description=_FORMULA_HELP + ".")
        _add_data_options(p)
        p.add_argument("--n-alphas", type=int, default=100, help="grid size (default 100)")
        p.add_argument("--plot", metavar="FILE.png", help="write the plot (needs matplotlib)")
        p.add_argument("--no-progress", action="store_true",
                       help="no progress bar (default: a bar of the alphas done on a terminal's "
                       "stderr, with tqdm installed)")  # fmt: skip
        if name == "cv":
            p.add_argument("--n-folds", type=int, default=5, help="folds (default 5)")
            p.add_argument("--seed", type=int, default=0, help="seed of the fold assignment")

    sub.add_parser("info", help="versions, devices, x64 state, compilation cache directory")
    p_bench = sub.add_parser("bench", help="run the benchmarks (from a source checkout)")
    p_bench.add_argument("--quick", action="store_true", help="n = 100,000 instead of 1e6")
    p_demo = sub.add_parser("demo", help="fit three GLMs on built-in synthetic data")
    p_demo.add_argument("--n", type=int, default=200_000, help="rows per model")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxglm`` console script; returns the exit code (module docs)."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        demo(args.n)
        return 0
    if getattr(args, "l1_ratio", 0.0) is None:
        args.l1_ratio = 0.0 if args.command == "fit" else 1.0
    commands = {"fit": _fit, "path": _path, "cv": _cv, "info": _info, "bench": _bench}
    dtype = getattr(args, "dtype", None)
    x64 = jax.enable_x64(dtype == "float64") if dtype else contextlib.nullcontext()
    try:
        with x64:  # float64 for this command only: the process's setting is left alone
            code = commands[args.command](args)
        sys.stdout.flush()  # inside the try: a closed pipe raises here, not at exit
        return code
    except UsageError as err:
        print(f"jaxglm {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (`jaxglm fit ... | head`): no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
