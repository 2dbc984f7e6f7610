"""The benchmarks' one rule (benchmarks/rule.py) and their reference, checked without timing:
every tool's tolerance ladder is built by the same function from that library's own
default, the defaults are the libraries' real ones, and the NumPy Newton reference that
every accuracy column is measured against agrees with statsmodels; the scripts' own
references (wide, multinomial) are not jaxglm's and agree with another library; first calls
start with no library loaded; --cores pins."""

import dataclasses
import functools
import importlib
import importlib.util
import inspect
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression, PoissonRegressor

import jaxglm as jg
from benchmarks import batched, enet_path, multinomial, reference, run, wide
from benchmarks.adapters import FitOutput, all_adapters
from benchmarks.first_call import LIBRARIES, measure_script
from benchmarks.floor import Floor
from benchmarks.problems import Problem
from benchmarks.reference import Reference, _newton
from benchmarks.rule import LOOSER, Load, ladder, load_note, load_per_core, others_per_core


def test_a_ladder_starts_100x_looser_and_steps_half_decades_through_the_default():
    rungs = np.array(ladder(1e-4))
    assert rungs[0] == pytest.approx(LOOSER * 1e-4) and 1e-4 in rungs
    np.testing.assert_allclose(rungs[:-1] / rungs[1:], np.sqrt(10), rtol=2e-3)
    assert len(rungs) == 13 and rungs[-1] == pytest.approx(1e-8)


def test_every_tool_builds_its_ladder_by_the_rule_from_its_own_default():
    adapters = all_adapters()
    assert len(adapters) >= 10
    for adapter in adapters:
        assert adapter.TOLS == ladder(adapter.DEFAULT_TOL), adapter.NAME
    assert batched.JAXGLM_TOLS == ladder(1e-8)
    assert wide.SKLEARN_TOLS == ladder(1e-4) and wide.JAXGLM_TOLS["float64"] == ladder(1e-8)
    assert multinomial.JAXGLM_TOLS == ladder(1e-8) and multinomial.SKLEARN_TOLS == ladder(1e-4)
    assert batched.GLMAX_TOLS == ladder(1e-3)
    assert enet_path.TOLS == {kind: ladder(tol) for kind, tol in enet_path.DEFAULT_TOLS.items()}


def test_multinomial_calibration_runs_the_tightest_rung_first_and_is_bounded():
    """benchmarks.multinomial.calibrate: the loosest rung meeting the target; a tool whose
    tightest rung misses it is "not reached" after that one fit; a walk past its budget
    times the tightest rung (fake fits, error = 10 x tol, each taking 100 s of a fake clock)."""
    tols = (1e-2, 1e-3, 1e-4, 1e-5)
    tried, now = [], [0.0]

    def fits(tol):
        tried.append(tol)
        now[0] += 100.0
        return np.array([10 * tol]), 7, "fake"

    def calibrate(**options):
        tried.clear()
        error = lambda params: float(params[0])  # noqa: E731
        return multinomial.calibrate(tols, fits, error, clock=lambda: now[0], **options)

    kept = calibrate(target=1e-2, budget=1e3)
    assert (kept.tol, kept.reached, kept.note, tried) == (1e-3, True, "", [1e-5, 1e-2, 1e-3])
    missed = calibrate(target=1e-5, budget=1e3)
    assert not missed.reached and tried == [1e-5] and missed.note.startswith("not reached")
    warm = calibrate(target=1e-2, budget=1e3, warm_up=True)
    assert warm.compile_s == 0.0 and tried == [1e-5, 1e-5, 1e-2, 1e-3]
    bounded = calibrate(target=2e-4, budget=150.0)
    assert (bounded.tol, bounded.reached) == (1e-5, True) and tried == [1e-5, 1e-2, 1e-3]
    assert "150 s" in bounded.note and multinomial.SKLEARN_MAX_ITER == 1000


class _Fit(NamedTuple):  # what batched.py reads of a jaxglm batch result
    params: np.ndarray
    n_iter: np.ndarray


def _fake_batch_fit(tol: float, scale: float) -> _Fit:
    """Every member's parameters ``scale * tol`` standard errors from a zero reference."""
    return _Fit(np.full((4, 3), scale * tol), np.ones(4))


def test_every_batched_tool_keeps_the_loosest_rung_meeting_the_target_itself(monkeypatch):
    """batched.py's one acceptance (batched.loosest) for the loop peers, glmax and jaxglm's
    calibrated rows: the loosest rung whose fits are within 1e-3 SE, not a third of it for
    some tools (fake fits whose error is proportional to the tolerance; nothing is compiled)."""
    rng = np.random.default_rng(0)
    batch = batched.Batch("logistic_separate", "logistic", rng.normal(size=(4, 30, 2)),
                          rng.integers(0, 2, size=(4, 30)) * 1.0)  # fmt: skip
    ref = (np.zeros((4, 3)), np.ones((4, 3)))

    def peer(i, tol):
        return np.full(3, 5 * tol), 1

    row = batched.run_peer("fake peer", peer, ladder(1e-4), "tol", batch, ref)
    assert row.tol == 1e-4 and row.accuracy == pytest.approx(5e-4)  # 3.16e-4 gives 1.6e-3 SE

    def glmax_batch(batch, tol):
        beta = np.full((4, 3), 0.5 * tol)
        return lambda: SimpleNamespace(params=SimpleNamespace(beta=beta), num_iters=np.ones(4))

    monkeypatch.setattr(batched, "glmax_batch", glmax_batch)
    assert batched.run_glmax(batch, ref).tol == 1e-3  # 3.16e-3 gives 1.6e-3 SE

    def jaxglm_row():
        raise AssertionError("calibrated by run_jaxglm")

    jaxglm_row.ladder = [
        (tol, functools.partial(_fake_batch_fit, tol=tol, scale=5e3)) for tol in batched.JAXGLM_TOLS
    ]
    assert batched.run_jaxglm("fake jaxglm", jaxglm_row, "", batch, ref).tol == 1e-7


def test_a_ladder_ended_by_the_budget_is_marked_apart_from_an_exhausted_one():
    """run._calibrate keeps the loosest rung meeting the target; a row that misses it says
    whether --budget ended the ladder early (a tighter rung might have met it) or the ladder
    ran out; the report prints the difference (a fake tool whose error is 10 x its tol)."""
    tool = SimpleNamespace(TOLS=(1e-3, 1e-4, 1e-5), USES_JAX=False)
    tool.fit = lambda data, tol: FitOutput(np.full(2, 10 * tol), 0.0, 1)
    ref = Reference(np.zeros(3), np.ones(3), 1)
    met = run._calibrate(tool, None, ref, target=1e-3, budget=1e9)
    assert (met.tol, met.budget_stopped) == (1e-4, False)
    stopped = run._calibrate(tool, None, ref, target=1e-3, budget=-1.0)
    assert (stopped.tol, stopped.budget_stopped) == (1e-3, True)
    exhausted = run._calibrate(tool, None, ref, target=1e-9, budget=1e9)
    assert (exhausted.tol, exhausted.budget_stopped) == (1e-5, False)
    rows = [
        run.Row(tool=name, settings="", peer=True, dtype="float64", on_accelerator=False,
                fit_s=1.0, runs=3, compile_s=None, accuracy=0.01, target=1e-3, n_iter=1,
                budget_stopped=stopped)
        for name, stopped in (("early", True), ("ran out", False))
    ]  # fmt: skip
    floors = dict.fromkeys(("numpy_float64", "xla_float64", "xla_float32"), Floor(1, 1, 1))
    lines = run.markdown_section("cmd", "now", [], [], [run._problem_result(
        SimpleNamespace(name="p", X=np.zeros((4, 2)), cond=1.0), ref, floors, rows)])  # fmt: skip
    early, ran_out = (next(x for x in lines.splitlines() if x.startswith(f"| {n} ")) for n in
                      ("early", "ran out"))  # fmt: skip
    assert "not met; budget)" in early and "not met)" in ran_out


def test_a_table_is_loaded_by_other_processes_cpu_time_not_by_its_own():
    """rule.load_note marks a table LOADED when the machine's CPU time beyond the script's
    own (itself and its waited-for children) exceeds OTHERS_LIMIT of each core; the load
    average decides only where /proc/stat cannot be read."""
    cores = os.cpu_count() or 1
    start = Load(average=1.0, busy=100.0, own=10.0, wall=0.0)
    ours = Load(average=1.0, busy=100.0 + 20 * cores, own=10.0 + 20 * cores, wall=20.0)
    assert others_per_core(start, ours) == 0.0 and load_note(start, ours).endswith("quiet")
    extra = 0.5 * 20 * cores  # others used half of each core for the 20 s
    theirs = Load(average=1.0, busy=ours.busy + extra, own=ours.own, wall=20.0)
    assert others_per_core(start, theirs) == pytest.approx(0.5)
    assert "LOADED" in load_note(start, theirs)
    blind = Load(average=0.1, busy=None, own=0.0, wall=0.0)
    assert load_note(blind, dataclasses.replace(blind, average=0.2)).endswith("quiet")
    assert "LOADED" in load_note(blind, dataclasses.replace(blind, average=0.6))  # > LOAD_LIMIT
    assert isinstance(load_per_core().busy, float) == Path("/proc/stat").exists()


def test_full_size_problems_run_in_processes_of_their_own_and_are_gathered(monkeypatch):
    """Without --quick, run.main gives every problem a child process (the same arguments,
    that problem, --no-isolate) and gathers the children's results in order."""
    assert run._parse([]).isolate and not run._parse(["--quick"]).isolate
    assert not run._parse(["--no-isolate"]).isolate
    calls = []

    def child(cmd, check):
        args = cmd[3:]
        calls.append(args)
        name = args[args.index("--problem") + 1]
        out = Path(args[args.index("--result-file") + 1])
        out.write_bytes(pickle.dumps(([name.upper()], [f"- {name}: quiet"])))

    monkeypatch.setattr(run.subprocess, "run", child)
    results, loads = run._isolated(["--repeats", "2"], ["a_n1000000", "b_n1000000"])
    assert results == ["A_N1000000", "B_N1000000"]
    assert loads == ["- a_n1000000: quiet", "- b_n1000000: quiet"]
    assert all(c[:4] == ["--repeats", "2", "--problem", n] for c, n in
               zip(calls, ("a_n1000000", "b_n1000000"), strict=True))  # fmt: skip
    assert all("--no-isolate" in c for c in calls)


def test_the_declared_defaults_are_the_libraries_own():
    declared = {a.NAME: a.DEFAULT_TOL for a in all_adapters()}
    assert declared["sklearn lbfgs"] == LogisticRegression().tol == PoissonRegressor().tol
    assert declared["sklearn newton-cholesky"] == LogisticRegression().tol
    assert declared["sklearn newton-cholesky float32"] == LogisticRegression().tol
    tol = inspect.signature(sm.GLM.fit).parameters["tol"].default
    assert declared["statsmodels IRLS"] == tol
    for name in ("jaxglm", "jaxglm NumPy in", "jaxglm no-cov", "jaxglm Newton", "jaxglm float32"):
        assert declared[name] == jg.Newton().tol == jg.SubsampledNewton().tol
    if importlib.util.find_spec("glum") is not None:
        from glum import GeneralizedLinearRegressor

        # gradient_tol=None means the solver's default, resolved at fit: 1e-4 for irls-ls
        rng = np.random.default_rng(0)
        model = GeneralizedLinearRegressor(alpha=0.0)
        model.fit(rng.normal(size=(20, 2)), rng.normal(size=20))
        assert GeneralizedLinearRegressor().gradient_tol is None
        assert declared["glum"] == model._gradient_tol
        path = GeneralizedLinearRegressor(family="binomial", l1_ratio=0.5, alpha_search=True)
        path.fit(rng.normal(size=(20, 2)), rng.integers(0, 2, size=20))
        assert enet_path.DEFAULT_TOLS["glum path"] == path._gradient_tol  # irls-cd's default
    assert enet_path.DEFAULT_TOLS["jaxglm path"] == jg.ProxNewton().tol


@pytest.mark.parametrize("family", ["logistic", "poisson", "gamma_log"])
def test_the_numpy_reference_agrees_with_statsmodels(family, monkeypatch):
    """benchmarks/reference.py's Newton (the accuracy columns' reference) against
    statsmodels' IRLS on a small ill-conditioned problem of each family; its Gram summed
    over blocks of 60 rows, and from a start near the answer, the same reference."""
    rng = np.random.default_rng(3)
    n, p = 400, 4
    X = rng.normal(size=(n, p)) @ np.array([[1, 0.9, 0, 0], [0, 0.1, 0, 0], [0, 0, 1, 0],
                                            [0, 0, 0, 30.0]])  # fmt: skip
    eta = 0.3 + X @ np.array([0.5, -0.4, 0.3, 0.01])
    if family == "logistic":
        y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
        sm_family = sm.families.Binomial()
    elif family == "poisson":
        y = rng.poisson(np.exp(0.5 * eta)).astype(float)
        sm_family = sm.families.Poisson()
    else:
        y = rng.gamma(2.0, np.exp(0.5 * eta) / 2.0)
        sm_family = sm.families.Gamma(sm.families.links.Log())
    problem = Problem(
        name=f"test_{family}", family=family, X=X, y=y, coef_true=np.zeros(p),
        intercept_true=0.0, cond=float(np.linalg.cond(X)),
    )  # fmt: skip
    ref = _newton(problem)
    res = sm.GLM(y, sm.add_constant(X), family=sm_family).fit(tol=1e-13, maxiter=200)
    np.testing.assert_allclose(ref.params, res.params, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ref.bse, res.bse, rtol=1e-8)
    monkeypatch.setattr(reference, "BLOCK_ENTRIES", 60 * (p + 1))
    warm = _newton(problem, start=res.params + 1e-3 * res.bse)
    assert warm.n_iter < ref.n_iter
    np.testing.assert_allclose(warm.params, res.params, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(warm.bse, res.bse, rtol=1e-8)


CHILD = """
import json, os, sys
from benchmarks import batched, enet_path, multinomial, wide  # what first calls import
from benchmarks.first_call import LIBRARIES
from benchmarks.rule import pin
loaded_by_scripts = [m for m in LIBRARIES if m in sys.modules]
X, y = wide.make_wide(300, 40)
ref = wide.reference_fit(X, y, 1 / 300)
Xm, ym = multinomial.make_data(600, 3, 3)
params, bse, score = multinomial.reference(Xm, ym)
pin((0,))
print(json.dumps({
    "loaded_by_scripts": loaded_by_scripts,
    "jax_after_references": [m for m in ("jax", "jaxglm") if m in sys.modules],
    "wide": ref.params.tolist(), "grad_norm": ref.grad_norm, "bound": ref.error_bound,
    "multinomial": params.tolist(), "bse": bse.tolist(), "score": score,
    "affinity": sorted(os.sched_getaffinity(0)), "threads": os.environ["OPENBLAS_NUM_THREADS"],
}))
"""


@pytest.fixture(scope="module")
def child() -> dict:
    """One fresh process: the scripts imported, their references computed, then pinned."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD)], cwd=Path(__file__).parents[1],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_first_calls_start_with_no_library_loaded(child):
    """Importing a script loads no tool's library, so a first call times the import."""
    assert child["loaded_by_scripts"] == []


def test_the_wide_reference_is_not_jaxglm_and_agrees_with_scikit_learn(child):
    assert child["jax_after_references"] == []
    X, y = wide.make_wide(300, 40)
    model = LogisticRegression(solver="newton-cholesky", C=1.0, tol=1e-12, max_iter=100).fit(X, y)
    sk = np.r_[model.intercept_, model.coef_[0]]
    assert wide.rel_error(sk, np.asarray(child["wide"])) < 1e-8
    assert child["grad_norm"] < 1e-7 and child["bound"] < 1e-7


def test_the_multinomial_reference_is_statsmodels_and_agrees_with_scikit_learn(child):
    Xm, ym = multinomial.make_data(600, 3, 3)
    clf = LogisticRegression(solver="newton-cholesky", C=np.inf, tol=1e-12, max_iter=100)
    clf.fit(Xm, ym)
    params = np.asarray(child["multinomial"])
    assert params.shape == (4, 2) and child["score"] < 1e-8
    np.testing.assert_allclose(params, multinomial.from_sklearn(clf), atol=1e-8)
    res = sm.MNLogit(ym, sm.add_constant(Xm)).fit(disp=False)
    np.testing.assert_allclose(child["bse"], np.asarray(res.bse), rtol=1e-5)


def test_pin_sets_the_affinity_and_the_thread_variables(child):
    assert child["affinity"] == [0] and child["threads"] == "1"


def test_a_script_first_call_runs_in_a_fresh_process():
    """benchmarks.first_call.measure_script end to end (a peer: no cached figure)."""
    X, y = multinomial.make_data(200, 3, 3)
    options = {"tol": 1e-4, "k": 3}
    first, cached = measure_script(
        "benchmarks.multinomial", "sklearn lbfgs", {"X": X, "y": y}, options, uses_jax=False
    )
    assert first > 0 and cached is None
    assert "jaxglm" in LIBRARIES and "sklearn" in LIBRARIES


@pytest.mark.parametrize(
    "script",
    [
        "batched", "compile_options", "compile_phases", "enet_path", "first_fit", "gram_forms",
        "interleaved", "multinomial", "progress_cost", "run", "sharded", "streaming",
        "subsampled_start", "wide",
    ],
)  # fmt: skip
def test_every_script_pins_and_prints_the_machine_and_its_load(script):
    """Each script offers --cores and prints the machine block (itself or through
    benchmarks.machine.start) and its load notes (itself or through
    benchmarks.rule.interleaved_seconds)."""
    source = inspect.getsource(importlib.import_module(f"benchmarks.{script}"))
    pinned = "parse_pinned(parser" in source or (
        "add_cores_option(parser)" in source and "pin(" in source
    )
    assert pinned and ("load_note(" in source or "interleaved_seconds(" in source), script
    assert "describe_machine()" in source or f'start("{script}")' in source, script


def test_compile_phases_counts_the_optimized_programs_loops_and_conditionals():
    """benchmarks.compile_phases reads the size of a compiled program from its HLO text."""
    import jax
    from jax import lax

    from benchmarks.compile_phases import _size

    def f(x):
        x = lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1]
        return lax.cond(x.sum() > 0, lambda: x, lambda: -x)

    size = _size(jax.jit(f).lower(np.ones(3)).compile().as_text())
    assert size["whiles"] == 1 and size["conds"] == 1 and size["instructions"] > 5, size


def test_interleaved_seconds_takes_the_calls_in_turn_each_round():
    """benchmarks.rule.interleaved_seconds calls every variant once per round, in turn, and
    keeps one time per call and round, with the load note of the rounds."""
    from benchmarks.rule import interleaved_seconds

    order = []
    calls = {name: (lambda name=name: order.append(name)) for name in ("a", ("b", 1))}
    times, note = interleaved_seconds(calls, 3)
    assert order == ["a", ("b", 1)] * 3
    assert {k: len(v) for k, v in times.items()} == {"a": 3, ("b", 1): 3}
    assert all(t >= 0 for v in times.values() for t in v) and "load average per core" in note
