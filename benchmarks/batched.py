"""Many small fits at once: ``python -m benchmarks.batched [--quick] [--only NAME]``.

Three problems, float64, on the CPU:

* ``poisson_shared``: 1,000 Poisson fits sharing one design (n = 2,000, p = 20), each
  with its own response (``jaxglm.fit_many``);
* ``logistic_separate``: 1,000 logistic fits, each on its own dataset (n = 1,000, p = 10);
* ``poisson_tiny``: 10,000 Poisson fits, each on its own dataset (n = 200, p = 5).

``--quick`` divides the number of fits by 10. Peers run in a Python loop (statsmodels IRLS,
scikit-learn newton-cholesky and lbfgs, glum), glmax as ``jax.jit(jax.vmap(glmax.fit))``.
jaxglm runs as ``fit_many`` with its default (``method=None``), with ``method="vmap"`` (one
``vmap``, and chunks of 32), with ``method="map"`` (a sequential ``jax.lax.map`` inside
``jit``), and as a Python loop of ``jaxglm.fit``.

Accuracy: every fit is compared with a tight reference (a batched NumPy Newton to 1e-10
standard errors); a tool's accuracy is the worst ``max_j |params_j - ref_j| / SE_j`` over
its fits, and it must be at most 1e-3 SE. Every calibrated tool (the peers, glmax and the
calibrated jaxglm rows) runs at the loosest rung of its ladder whose fits meet the target on
the very fits it is timed on (:func:`loosest`: one acceptance for every tool). Times are the
fastest of three runs after that calibration (the warm-up) for every tool; JAX tools'
compile time is their first call minus that, reported apart.
Python loops on ``poisson_tiny`` are timed on the first 1,000 fits (100 with ``--quick``)
and scaled to the batch size (marked). Peers run with BLAS on one thread (threadpoolctl),
their fastest setting for one small fit at a time. The floor is the batched Gram products
``[1 X]^T diag(h) [1 X]`` of every member (the faster of XLA's ``einsum`` and, for a shared
design, one BLAS product ``H @ vec(x x^T)``), times jaxglm's mean Newton iterations.
Beside each row: its first call in a fresh process (import, conversion, compile and the
batch; :mod:`benchmarks.first_call`), with and without JAX's persistent compilation cache;
the load before and after each table (:mod:`benchmarks.rule`); ``--cores 0,1`` pins every
tool, its first calls and joblib's workers to those cores (:func:`benchmarks.rule.pin`).
Prints Markdown.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import rule
from benchmarks.first_call import measure_script
from benchmarks.rule import (
    THREAD_VARIABLES,
    add_first_call_option,
    ladder,
    load_note,
    load_per_core,
    parse_pinned,
)

TARGET = 1e-3  # standard errors
REPEATS = 3  # every tool: the fastest of this many timed runs after its warm-up
PEER_SUBSET = 1000  # loops on poisson_tiny are timed on this many fits (100 --quick), scaled


@dataclass
class Batch:
    """``m`` datasets: ``X`` (n, p) shared or (m, n, p), ``Y`` (m, n)."""

    name: str
    family: str  # "poisson" | "logistic"
    X: np.ndarray
    Y: np.ndarray

    @property
    def shared(self) -> bool:
        return self.X.ndim == 2

    @property
    def m(self) -> int:
        return self.Y.shape[0]

    def design(self, i: int) -> np.ndarray:
        return self.X if self.shared else self.X[i]

    def describe(self) -> str:
        n, p = self.X.shape[-2:]
        kind = "one shared design" if self.shared else "one design per fit"
        return f"{self.m:,} {self.family} fits, n = {n:,}, p = {p}, {kind}"


def make_batches(quick: bool) -> list[Batch]:
    """The three problems (seeded); ``quick`` has a tenth of the fits."""
    scale = 10 if quick else 1
    rng = np.random.default_rng(2026)
    out = []
    m, n, p = 1000 // scale, 2000, 20
    X = rng.standard_normal((n, p))
    B = rng.standard_normal((m, p)) * 0.5 / np.sqrt(p)
    out.append(Batch("poisson_shared", "poisson", X, rng.poisson(np.exp(0.5 + B @ X.T)) * 1.0))
    from scipy.special import expit

    m, n, p = 1000 // scale, 1000, 10
    X = rng.standard_normal((m, n, p))
    B = rng.standard_normal((m, p)) / np.sqrt(p)
    Y = rng.binomial(1, expit(-0.3 + np.einsum("mnp,mp->mn", X, B))) * 1.0
    out.append(Batch("logistic_separate", "logistic", X, Y))
    m, n, p = 10_000 // scale, 200, 5
    X = rng.standard_normal((m, n, p))
    B = rng.standard_normal((m, p)) * 0.5 / np.sqrt(p)
    out.append(Batch("poisson_tiny", "poisson", X, rng.poisson(np.exp(0.5 + np.einsum(
        "mnp,mp->mn", X, B))) * 1.0))  # fmt: skip
    return out


# ---- reference: batched NumPy Newton --------------------------------------------------------


def reference(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """``(params, se)`` of every member, (m, p+1) each: Newton to 1e-10 SE, canonical links."""
    X1 = _with_ones(batch.X)
    m = batch.m
    k = X1.shape[-1]
    Y = batch.Y
    beta = np.zeros((m, k))
    if batch.family == "poisson":
        beta[:, 0] = np.log(Y.mean(axis=1) + 1e-300)
    else:
        ybar = Y.mean(axis=1)
        beta[:, 0] = np.log(ybar / (1 - ybar))
    for _ in range(100):
        eta = _eta(X1, beta)
        mu, h = (np.exp(eta), np.exp(eta)) if batch.family == "poisson" else _logistic(eta)
        grad = _xt(X1, Y - mu)
        H = _gram(X1, h)
        step = np.linalg.solve(H, grad[..., None])[..., 0]
        f0 = _nll(batch.family, Y, eta)
        t = np.ones(m)
        for _ in range(30):  # step halving where the likelihood does not improve
            f1 = _nll(batch.family, Y, _eta(X1, beta + t[:, None] * step))
            bad = f1 > f0 + 1e-12 * np.abs(f0)
            if not bad.any():
                break
            t = np.where(bad, t / 2, t)
        beta = beta + t[:, None] * step
        se = np.sqrt(np.diagonal(np.linalg.inv(H), axis1=1, axis2=2))
        if np.max(np.abs(step) / se) < 1e-10:
            break
    eta = _eta(X1, beta)
    h = np.exp(eta) if batch.family == "poisson" else _logistic(eta)[1]
    se = np.sqrt(np.diagonal(np.linalg.inv(_gram(X1, h)), axis1=1, axis2=2))
    return beta, se


def _with_ones(X: np.ndarray) -> np.ndarray:
    return np.concatenate([np.ones((*X.shape[:-1], 1)), X], axis=-1)


def _eta(X1, beta):
    return beta @ X1.T if X1.ndim == 2 else np.einsum("mnk,mk->mn", X1, beta)


def _xt(X1, R):
    return R @ X1 if X1.ndim == 2 else np.einsum("mnk,mn->mk", X1, R)


def _gram(X1, h):
    if X1.ndim == 2:
        return np.einsum("nk,mn,nl->mkl", X1, h, X1, optimize=True)
    return np.einsum("mnk,mn,mnl->mkl", X1, h, X1, optimize=True)


def _logistic(eta):
    from scipy.special import expit

    mu = expit(eta)
    return mu, mu * (1 - mu)


def _nll(family, Y, eta):
    if family == "poisson":
        return np.sum(np.exp(eta) - Y * eta, axis=1)
    return np.sum(np.logaddexp(0, eta) - Y * eta, axis=1)


def accuracy(params: np.ndarray, ref: tuple[np.ndarray, np.ndarray]) -> float:
    """Worst ``max_j |params_j - ref_j| / SE_j`` over the members (NaN counts as inf)."""
    err = np.max(np.abs(params - ref[0][: len(params)]) / ref[1][: len(params)], axis=1)
    return float(np.max(np.where(np.isfinite(err), err, np.inf)))


# ---- tools ----------------------------------------------------------------------------------


@dataclass
class Row:
    tool: str
    settings: str
    seconds: float
    compile_s: float | None
    accuracy: float
    n_iter: np.ndarray
    scaled_from: int | None = None
    tol: float | None = None
    first_s: float | None = None
    first_cached_s: float | None = None


def _loop(
    fit_one: Callable[[int, Any], tuple[np.ndarray, int]], count: int, tol: Any, jobs: int = 1
):
    """The first ``count`` fits in a Python loop, or over ``jobs`` processes (joblib): one
    contiguous share of the fits per process, each looping on one BLAS thread."""
    if jobs == 1:
        out = [fit_one(i, tol) for i in range(count)]
    else:
        from joblib import Parallel, delayed

        shares = np.array_split(np.arange(count), jobs)
        done = Parallel(n_jobs=jobs)(delayed(_share)(fit_one, share, tol) for share in shares)
        out = [fit for share in done for fit in share]
    return np.asarray([p for p, _ in out]), np.asarray([it for _, it in out])


def _share(fit_one: Callable[[int, Any], tuple[np.ndarray, int]], indices: np.ndarray, tol: Any):
    """A joblib worker's share of the loop, its BLAS on one thread (the worker inherits the
    BLAS thread variables, which ``--cores`` sets to the number of cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return [fit_one(int(i), tol) for i in indices]


def peer_tools(batch: Batch) -> dict[str, tuple[Callable, tuple, str]]:
    """name -> (fit_one(i, tol) -> (params, n_iter), tolerances loosest first, settings).

    Each fit imports its own library only (a first call imports no other tool's)."""
    fam = batch.family

    def statsmodels_fit(i, tol):
        import statsmodels.api as sm

        family = sm.families.Poisson() if fam == "poisson" else sm.families.Binomial()
        X1 = _with_ones(batch.design(i))
        res = sm.GLM(batch.Y[i], X1, family=family).fit(method="IRLS", tol=tol)
        return np.asarray(res.params), int(res.fit_history["iteration"])

    def sklearn_fit(solver):
        def fit_one(i, tol):
            from sklearn.linear_model import LogisticRegression, PoissonRegressor

            kw = {"solver": solver, "tol": tol, "max_iter": 1000}
            if fam == "poisson":
                model = PoissonRegressor(alpha=0.0, **kw)
            else:  # C=inf is penalty=None (deprecated since scikit-learn 1.8)
                model = LogisticRegression(C=np.inf, **kw)
            model.fit(batch.design(i), batch.Y[i])
            coef = np.ravel(model.coef_)
            return np.r_[np.ravel(model.intercept_)[0], coef], int(np.max(model.n_iter_))

        return fit_one

    def glum_fit(i, tol):
        from glum import GeneralizedLinearRegressor

        family, link = ("poisson", "log") if fam == "poisson" else ("binomial", "logit")
        model = GeneralizedLinearRegressor(family=family, link=link, alpha=0.0, gradient_tol=tol)
        model.fit(batch.design(i), batch.Y[i])
        return np.r_[model.intercept_, model.coef_], int(model.n_iter_)

    return {
        "statsmodels IRLS": (statsmodels_fit, ladder(1e-8), "GLM.fit(method='IRLS'); tol"),
        "sklearn newton-cholesky": (
            sklearn_fit("newton-cholesky"), ladder(1e-4), "penalty off; tol",
        ),
        "sklearn lbfgs": (sklearn_fit("lbfgs"), ladder(1e-4), "penalty off; tol"),
        "glum": (glum_fit, ladder(1e-4), "alpha=0, irls-ls; gradient_tol"),
    }  # fmt: skip


def loosest(tols: tuple[float, ...], run: Callable[[float], Any], params_of, ref):
    """``(tol, output)``: :func:`benchmarks.rule.loosest` with this script's accuracy (the
    worst fit's, of ``params_of(output)`` against ``ref``) and :data:`TARGET`: the one
    acceptance of every calibrated tool here, peers, glmax and jaxglm alike, each at every
    rung it tries running the fits it is timed on."""

    def error(out) -> float:
        return accuracy(np.asarray(params_of(out)), ref)

    return rule.loosest(tols, run, error, TARGET)[:2]


def run_peer(name, fit_one, tols, settings, batch, ref, jobs=1) -> Row:
    """Calibrate (:func:`loosest`) on the fits that are timed, the batch or its first
    PEER_SUBSET, then time them the same way as the JAX tools: the fastest of ``REPEATS``
    runs after the calibration (the warm-up). ``jobs=2``: the loop spread over two processes
    (joblib, half the fits each), each BLAS on one thread, so that the loop uses both cores
    as XLA does.

    BLAS runs on one thread: on these small problems threads only add synchronization,
    and on a shared 2-core machine a busy-waiting second BLAS thread made the peers up to
    50x slower (measured: scikit-learn newton-cholesky 39 ms instead of ~1 ms per fit).
    """
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        count = _loop_count(batch)
        tol, _ = loosest(tols, lambda t: _loop(fit_one, count, t, jobs), lambda o: o[0], ref)
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            params, iters = _loop(fit_one, count, tol, jobs)
            times.append(time.perf_counter() - start)
        seconds = min(times)
    scaled = None
    if count < batch.m:
        scaled, seconds = count, seconds * batch.m / count
    acc = accuracy(params, ref)
    return Row(name, f"{settings}={tol:g}", seconds, None, acc, iters, scaled, tol=tol)


def _loop_count(batch: Batch) -> int:
    """How many fits a Python loop is timed on (all but on poisson_tiny)."""
    if batch.name != "poisson_tiny":
        return batch.m
    return min(batch.m, PEER_SUBSET if batch.m >= 10 * PEER_SUBSET else batch.m // 10)


def _timed_jax(fn: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, float, Any]:
    """(fastest of ``repeats`` calls after the first, compile = first - that, last output).

    The fastest of a few runs, because this machine is shared: other jobs' load moved single
    runs by +-30% between two runs of the script.
    """
    import jax

    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    seconds = min(times)
    return seconds, max(first - seconds, 0.0), out


def jaxglm_tools(
    batch: Batch, count: int | None = None
) -> dict[str, tuple[Callable[[], Any], str]]:
    """name -> (run the whole batch -> GLMResult, settings); default tolerance. The Python
    loop runs the first ``count`` fits (default: as many as the peers' timed loops)."""
    import jax
    import jax.numpy as jnp

    import jaxglm as jg

    family = jg.Poisson() if batch.family == "poisson" else jg.Bernoulli()
    X = batch.X
    Y = batch.Y

    def one(x, y):
        return jg.fit(x, y, family)

    count = _loop_count(batch) if count is None else count

    def loop():
        res = [jg.fit(batch.design(i), Y[i], family) for i in range(count)]
        return jax.tree.map(lambda *xs: jnp.stack(xs), *res)

    tools = {
        "jaxglm fit_many": (lambda: jg.fit_many(X, Y, family), "default (method=None)"),
        "jaxglm fit_many vmap": (
            lambda: jg.fit_many(X, Y, family, method="vmap"), "method='vmap': one vmap",
        ),
        "jaxglm fit_many vmap chunks of 32": (
            lambda: jg.fit_many(X, Y, family, method="vmap", batch_size=32),
            "method='vmap', batch_size=32",
        ),
        "jaxglm fit_many map": (
            lambda: jg.fit_many(X, Y, family, method="map"), "method='map': jit(lax.map(fit))",
        ),
        "jaxglm loop": (loop, "Python loop of jaxglm.fit"),
    }  # fmt: skip

    def loosest():  # run_jaxglm calibrates it: the peers, too, run at their loosest tol
        raise AssertionError("calibrated by run_jaxglm")

    loosest.ladder = [
        (tol, functools.partial(jg.fit_many, X, Y, family, tol=tol)) for tol in JAXGLM_TOLS
    ]
    tools["jaxglm fit_many, loosest tol"] = (loosest, "default method")
    # The coefficients alone, as glmax and the loops compute them (no null model,
    # likelihood constants, Pearson chi2 or covariance).
    minimal = functools.partial(jg.fit_many, X, Y, family, statistics="minimal")
    tools[MINIMAL] = (minimal, "default method and tol, statistics='minimal'")

    def minimal_loosest():
        raise AssertionError("calibrated by run_jaxglm")

    minimal_loosest.ladder = [(tol, functools.partial(minimal, tol=tol)) for tol in JAXGLM_TOLS]
    tools[LOOSEST_MINIMAL] = (minimal_loosest, "default method, statistics='minimal'")
    # Every row above starts from NumPy arrays (the transfer to the device inside the timer,
    # as for glmax); this one from arrays already on the device, for the difference.
    on_device = jax.device_put(X), jax.device_put(Y)
    tools[f"{MINIMAL}, device arrays"] = (
        functools.partial(jg.fit_many, *on_device, family, statistics="minimal"),
        "statistics='minimal', X and Y on the device before the timer",
    )
    return tools


#: The row of fit_many(statistics="minimal") at its default tolerance (issue 19's sweeps).
MINIMAL = "jaxglm fit_many minimal"

#: The same row calibrated as every other tool (its loosest passing rung).
LOOSEST_MINIMAL = f"{MINIMAL}, loosest tol"


#: Tolerances tried for the calibrated jaxglm row: benchmarks.rule's ladder from jaxglm's
#: default (1e-8), as every peer's from its own.
JAXGLM_TOLS = ladder(1e-8)

#: glmax's ladder: from IRLSFitter's default tol (1e-3).
GLMAX_TOLS = ladder(1e-3)


def run_jaxglm(name, fn, settings, batch, ref) -> Row:
    """A jaxglm row: at its settings, or, for a row with a ``ladder``, calibrated by
    :func:`loosest` as every other tool; then timed by :func:`_timed_jax`."""
    if hasattr(fn, "ladder"):
        candidates = dict(fn.ladder)
        tol, _ = loosest(tuple(candidates), lambda t: candidates[t](), lambda r: r.params, ref)
        fn = candidates[tol]
    tol = fn.keywords.get("tol") if hasattr(fn, "keywords") else None
    if tol is not None:
        settings = f"{settings}; tol={tol:g}"
    seconds, compile_s, res = _timed_jax(fn)
    params = np.asarray(res.params)
    scaled = None
    if len(params) < batch.m:  # the loop on poisson_tiny: timed on a subset, scaled
        scaled, seconds = len(params), seconds * batch.m / len(params)
    n_iter = np.asarray(res.n_iter)
    acc = accuracy(params, ref)
    return Row(name, settings, seconds, compile_s, acc, n_iter, scaled, tol=tol)


def glmax_batch(batch: Batch, tol: float) -> Callable[[], Any]:
    """glmax IRLS over the batch under ``jax.jit(jax.vmap(...))`` at ``tol``."""
    import glmax
    import jax

    family = glmax.Poisson() if batch.family == "poisson" else glmax.Binomial()
    # NumPy arrays, as every jaxglm row gets: the transfer is inside the timer for both
    X1 = _with_ones(batch.X)
    Y = np.asarray(batch.Y)
    fitter = glmax.IRLSFitter(tol=tol)

    def one(x, y):
        return glmax.fit(family, x, y, fitter=fitter).result

    f = jax.jit(jax.vmap(one, in_axes=(None if batch.shared else 0, 0)))
    return lambda: f(X1, Y)


def run_glmax(batch: Batch, ref) -> Row:
    """glmax IRLS under ``jax.jit(jax.vmap(...))``; benchmarks.rule's ladder from its default
    (1e-3), calibrated by :func:`loosest` as every other tool, then timed."""
    import jax

    def run(tol):
        return jax.block_until_ready(glmax_batch(batch, tol)())

    tol, _ = loosest(GLMAX_TOLS, run, lambda r: r.params.beta, ref)
    seconds, compile_s, res = _timed_jax(glmax_batch(batch, tol))
    acc = accuracy(np.asarray(res.params.beta), ref)
    settings = f"jit(vmap(glmax.fit)), IRLSFitter; tol={tol:g}"
    n_iter = np.asarray(res.num_iters)
    return Row("glmax vmap", settings, seconds, compile_s, acc, n_iter, tol=tol)


def interleaved(batch: Batch, rows: list[Row], rounds: int) -> str:
    """glmax (at its calibrated tolerance) and jaxglm's default and minimal rows (the
    minimal one also at its calibrated tolerance, when that row ran: each tool at its
    loosest passing rung), one run each per round for ``rounds`` rounds, the fastest of
    each kept: on a shared machine the load then moves them all alike."""
    import jax

    tools = jaxglm_tools(batch)
    glmax_row = next((r for r in rows if r.tool == "glmax vmap"), None)
    loosest_row = next((r for r in rows if r.tool == LOOSEST_MINIMAL), None)
    runs = {"jaxglm fit_many": tools["jaxglm fit_many"][0], MINIMAL: tools[MINIMAL][0]}
    if loosest_row is not None:
        runs[LOOSEST_MINIMAL] = functools.partial(tools[MINIMAL][0], tol=loosest_row.tol)
    if glmax_row is not None:
        runs["glmax vmap"] = glmax_batch(batch, glmax_row.tol)
    best = dict.fromkeys(runs, np.inf)
    for fn in runs.values():
        jax.block_until_ready(fn())
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            best[name] = min(best[name], time.perf_counter() - start)
    lines = [
        f"Interleaved ({rounds} rounds, fastest kept; glmax at its calibrated tol"
        + (f", minimal at its calibrated tol={loosest_row.tol:g}" if loosest_row else "")
        + "): "
        + ", ".join(f"{k} {v:.3g} s" for k, v in best.items())
    ]
    if glmax_row is not None:
        lines.append(
            "; glmax's time over jaxglm's: "
            f"default {best['glmax vmap'] / best['jaxglm fit_many']:.2f}x, "
            f"statistics='minimal' {best['glmax vmap'] / best[MINIMAL]:.2f}x"
        )
        if loosest_row is not None:
            lines.append(
                f", statistics='minimal' at its loosest passing tol "
                f"{best['glmax vmap'] / best[LOOSEST_MINIMAL]:.2f}x"
            )
    return "".join(lines) + ".\n"


# ---- first calls ----------------------------------------------------------------------------


def first_call(tool: str, data: dict[str, np.ndarray], options: dict) -> None:
    """One row's fit of the whole batch (loops included: every row's first call does the
    same work), for :func:`benchmarks.first_call.measure_script` in a fresh process: the
    row's tolerance (``options["tol"]``), and a loop peer's processes (``options["jobs"]``)."""
    batch = Batch(options["name"], options["family"], data["X"], data["Y"])
    peers = peer_tools(batch)
    base = tool.removesuffix(" (2 processes)")
    if base in peers:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            _loop(peers[base][0], batch.m, options["tol"], options["jobs"])
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    if tool == "glmax vmap":
        jax.block_until_ready(glmax_batch(batch, options["tol"])())
        return
    fn = jaxglm_tools(batch, batch.m)[tool][0]
    fn = dict(getattr(fn, "ladder", ())).get(options["tol"], fn)
    jax.block_until_ready(fn())


def with_first_call(row: Row, batch: Batch) -> Row:
    """``row`` with its first call in fresh processes (:mod:`benchmarks.first_call`)."""
    import dataclasses

    jobs = 2 if row.tool.endswith("(2 processes)") else 1
    options = {"name": batch.name, "family": batch.family, "tol": row.tol, "jobs": jobs}
    uses_jax = row.tool.startswith(("jaxglm", "glmax"))
    data = {"X": batch.X, "Y": batch.Y}
    # Loop peers run on one BLAS thread; in a fresh process the library's BLAS loads after
    # threadpoolctl's limit (which then misses it), so the variables say it.
    one_thread = None if uses_jax else dict.fromkeys(THREAD_VARIABLES, "1")
    first, cached = measure_script(
        "benchmarks.batched", row.tool, data, options, uses_jax, env=one_thread
    )
    return dataclasses.replace(row, first_s=first, first_cached_s=cached)


# ---- the floor ------------------------------------------------------------------------------


def floor_per_iteration(batch: Batch) -> tuple[float, str]:
    """Seconds of every member's Gram ``[1 X]^T diag(h) [1 X]`` (fastest of 5 runs)."""
    import jax
    import jax.numpy as jnp

    X1 = _with_ones(batch.X)
    H = np.exp(0.1 * np.random.default_rng(0).standard_normal(batch.Y.shape))
    Xj, Hj = jnp.asarray(X1), jnp.asarray(H)
    if batch.shared:
        einsum = jax.jit(lambda X, H: jnp.einsum("nk,mn,nl->mkl", X, H, X))
        k = X1.shape[1]
        Z = (X1[:, :, None] * X1[:, None, :]).reshape(len(X1), k * k)
        candidates = {
            "XLA einsum": lambda: einsum(Xj, Hj),
            "NumPy H @ vec(x x^T)": lambda: H @ Z,
        }
    else:
        einsum = jax.jit(lambda X, H: jnp.einsum("mnk,mn,mnl->mkl", X, H, X))
        candidates = {"XLA einsum": lambda: einsum(Xj, Hj)}
    best = (np.inf, "")
    for label, fn in candidates.items():
        jax.block_until_ready(fn())
        times = []
        for _ in range(5):
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times.append(time.perf_counter() - start)
        best = min(best, (min(times), label))
    return best


# ---- driver ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batched", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the fits")
    parser.add_argument("--only", action="append", metavar="NAME", help="tools matching NAME")
    parser.add_argument("--problem", metavar="NAME", help="problems whose name contains NAME")
    add_first_call_option(parser)
    parser.add_argument(
        "--rounds", type=int, default=0, metavar="R",
        help="then time glmax and the two default jaxglm rows (full, minimal statistics; "
        "the minimal one also at its calibrated tol when that row ran) in R interleaved "
        "rounds (fastest kept): ratios that shared load moves less",
    )  # fmt: skip
    args = parse_pinned(parser, argv)
    import jax

    from benchmarks.machine import describe_machine

    jax.config.update("jax_enable_x64", True)
    machine = describe_machine()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    start_all = time.perf_counter()
    sections = []
    for batch in make_batches(args.quick):
        if args.problem and args.problem not in batch.name:
            continue
        _log(f"{batch.name}: reference")
        ref = reference(batch)
        load_before = load_per_core()
        rows = []

        def wanted(name):
            return not args.only or any(s in name for s in args.only)

        for name, (fit_one, tols, settings) in peer_tools(batch).items():
            for jobs in (1, 2):
                label = name if jobs == 1 else f"{name} (2 processes)"
                if wanted(label):
                    rows.append(run_peer(label, fit_one, tols, settings, batch, ref, jobs))
                    _log(f"{batch.name}: {label}: {rows[-1].seconds:.3g} s")
        if wanted("glmax vmap"):
            try:
                rows.append(run_glmax(batch, ref))
                _log(f"{batch.name}: glmax: {rows[-1].seconds:.3g} s")
            except Exception as e:  # a failing tool is reported, not the end of the run
                _log(f"{batch.name}: glmax failed: {type(e).__name__}: {e}")
        for name, (fn, settings) in jaxglm_tools(batch).items():
            if wanted(name):
                rows.append(run_jaxglm(name, fn, settings, batch, ref))
                _log(f"{batch.name}: {name}: {rows[-1].seconds:.3g} s")
        if args.first_call:
            rows = [with_first_call(row, batch) for row in rows]
            _log(f"{batch.name}: first calls done")
        floor_s, floor_how = floor_per_iteration(batch)
        sections.append(_table(batch, rows, floor_s, floor_how))
        if args.rounds:
            sections.append(interleaved(batch, rows, args.rounds))
        sections.append(f"{load_note(load_before, load_per_core())}\n")
    total = time.perf_counter() - start_all
    command = shlex.join(["python", "-m", "benchmarks.batched", *argv])
    print(f"## {when} — batched fits (issue 7)\n")
    print(f"Command: `{command}` (total {total:.0f} s; load average at the start {load}).\n")
    print("\n".join(machine) + "\n")
    print(
        "Rule (benchmarks.rule): every tool's tolerance ladder from 100x looser than its "
        "library's default in half-decade steps, the loosest whose fits meet the target on "
        "the fits it is timed on kept (peers, glmax and jaxglm alike); every tool the "
        f"fastest of {REPEATS} runs after its warm-up; loop peers on one BLAS thread, in one "
        "process and over two (joblib); "
        "'x fastest peer' is a time ratio (below 1: faster than the peer). First call: the "
        "row's fit of the whole batch (loops on poisson_tiny too: no subset, no scaling), in "
        "a fresh process from before the library's import to the result "
        "(benchmarks.first_call); 'cached': JAX tools with JAX's persistent compilation "
        "cache filled by an earlier process; 'first x peer': over the fastest peer's first "
        "call. Pinning: --cores (benchmarks.rule.pin; the machine block shows the cores "
        "and thread variables).\n"
    )
    print("\n".join(sections))


def _table(batch: Batch, rows: list[Row], floor_s: float, floor_how: str) -> str:
    ok = [r for r in rows if r.accuracy <= TARGET]
    peers = [r for r in ok if not r.tool.startswith("jaxglm")]
    fastest_peer = min(peers, key=lambda r: r.seconds) if peers else None
    peer_first = min((r.first_s for r in peers if r.first_s is not None), default=None)
    glmax_row = next((r for r in ok if r.tool == "glmax vmap"), None)
    jx = [r for r in rows if r.tool.startswith("jaxglm")]
    iters = float(np.mean(jx[0].n_iter)) if jx else float("nan")
    floor = floor_s * iters  # peers: x the default jaxglm row's iterations
    lines = [
        f"### {batch.name}: {batch.describe()}\n",
        f"Floor: the batch's Gram products {floor_s * 1e3:.3g} ms per iteration ({floor_how}) "
        f"x {iters:.2f} (the default jaxglm row's mean Newton iterations; a jaxglm row's "
        f"x floor uses its own) = {floor:.3g} s. "
        f"Fastest peer: {fastest_peer.tool if fastest_peer else '-'}.\n",
        "| tool | settings | fit (s) | per fit (ms) | compile (s) | first call (s) | cached (s) "
        "| accuracy (SE) | iterations (mean / max) | x fastest peer | first x peer | x floor |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        seconds = f"{r.seconds:.3g}" + (f" (from {r.scaled_from:,} fits)" if r.scaled_from else "")
        speed = f"{r.seconds / fastest_peer.seconds:.2f}" if fastest_peer else "-"
        own = floor_s * float(np.mean(r.n_iter)) if r.tool.startswith("jaxglm") else floor
        acc = f"{r.accuracy:.1e}" + ("" if r.accuracy <= TARGET else " (not met)")
        first = "-" if r.first_s is None or peer_first is None else f"{r.first_s / peer_first:.2f}"
        lines.append(
            f"| {r.tool} | {r.settings} | {seconds} | {r.seconds / batch.m * 1e3:.3g} | "
            f"{_s(r.compile_s)} | {_s(r.first_s)} | {_s(r.first_cached_s)} | {acc} | "
            f"{np.mean(r.n_iter):.2f} / {int(np.max(r.n_iter))} | {speed} | {first} | "
            f"{r.seconds / own:.2f} |"
        )
    if jx and fastest_peer:
        default = jx[0]  # the headline is the default call, not the best of the variants
        versus = f", {default.seconds / glmax_row.seconds:.2f}x glmax's time" if glmax_row else ""
        first = ""
        if default.first_s is not None and peer_first is not None:
            first = (
                f"; first call {default.first_s / peer_first:.2f}x the fastest peer's first call"
            )
        lines.append(
            f"\n{default.tool} (the default): {default.seconds / fastest_peer.seconds:.2f}x the "
            f"fastest peer's time{versus}, {default.seconds / floor:.2f}x the floor{first}.\n"
        )
    minimal = next((r for r in jx if r.tool == MINIMAL), None)
    if minimal is not None:
        loops = [r for r in peers if r.tool != "glmax vmap"]
        speedups = [f"glmax {glmax_row.seconds / minimal.seconds:.2f}x"] if glmax_row else []
        for label, two in (("on one process", False), ("over two processes", True)):
            rows_ = [r for r in loops if ("processes" in r.tool) == two]
            if rows_:
                best = min(rows_, key=lambda r: r.seconds)
                speedups.append(
                    f"the fastest loop {label} ({best.tool}) {best.seconds / minimal.seconds:.1f}x"
                )
        lines.append(
            f"{minimal.tool} (statistics='minimal', default tol): speed-up (the other tool's "
            f"time over its time) against {', '.join(speedups) or '-'}.\n"
        )
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
