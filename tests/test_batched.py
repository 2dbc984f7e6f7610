"""Batched fits: ``jax.vmap(fit)`` over every kind of argument, fit_many, bootstrap.

Compiles dominate: each test maps over several arguments at once, on the shape n = 80,
p = 3 that the other test files use, so that few programs are compiled.
"""

import sys
import warnings

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import simulate

import jaxglm as jg
from jaxglm import _padding

fit_module = sys.modules["jaxglm._fit"]
sweeps = sys.modules["jaxglm.sweeps"]

STATS = (
    "params", "bse", "deviance", "null_deviance", "llf", "aic", "bic", "pearson_chi2", "scale",
    "nobs", "df_resid", "df_model", "n_iter", "status",
)  # fmt: skip


def assert_same(a, b, rtol, keys=STATS):
    for key in keys:
        np.testing.assert_allclose(
            np.asarray(getattr(a, key)), np.asarray(getattr(b, key)), rtol=rtol, atol=0,
            err_msg=key,
        )  # fmt: skip


@pytest.fixture(scope="module")
def datasets():
    """Three Poisson datasets (n = 80, p = 3) with weights, frequency weights, offsets."""
    rng = np.random.default_rng(11)
    data = [simulate(jg.Poisson(), seed=s) for s in (1, 2, 3)]
    X = np.stack([d[0] for d in data])
    Y = np.stack([d[1] for d in data])
    W = rng.uniform(0.5, 2.0, size=Y.shape)
    W[1, :5] = 0.0
    FW = rng.integers(1, 4, size=Y.shape).astype(float)
    OFF = rng.normal(scale=0.2, size=Y.shape)
    return X, Y, W, FW, OFF


ALPHAS = np.array([0.0, 0.02, 0.0])


def _one(X, y, w, fw, off, a):
    return jg.fit(X, y, jg.Poisson(), weights=w, freq_weights=fw, offset=off, alpha=a)


@pytest.fixture(scope="module")
def mapped_all(datasets):
    """Whole datasets, prior and frequency weights, offsets and the ridge strength mapped."""
    return jax.vmap(_one)(*datasets, ALPHAS)


def test_vmap_over_data_weights_offset_and_alpha_equals_loop(datasets, mapped_all):
    X, Y, W, FW, OFF = datasets
    assert mapped_all.params.shape == (3, 4) and mapped_all.status.shape == (3,)
    for i in range(3):
        single = _one(X[i], Y[i], W[i], FW[i], OFF[i], ALPHAS[i])
        assert_same(mapped_all[i], single, rtol=1e-10)
    bse = np.asarray(mapped_all.bse)
    assert np.isnan(bse[1]).all() and np.isfinite(bse[0]).all()  # penalized: no bse


def test_fit_many_equals_vmap(datasets, mapped_all):
    """fit_many with every argument per member equals jax.vmap(fit) to rounding (it runs
    the members in one jitted program, which XLA fuses apart from the un-jitted vmap's)."""
    X, Y, W, FW, OFF = datasets
    res = jg.fit_many(X, Y, jg.Poisson(), weights=W, freq_weights=FW, offset=OFF, alpha=ALPHAS)
    assert_same(res, mapped_all, rtol=1e-13)


def test_vmap_with_shared_arguments_unmapped(datasets):
    """``in_axes=None`` arguments enter the program once: X (n, p) stays unbatched."""
    X, Y, _, _, _ = datasets
    fit = jax.vmap(jg.fit, in_axes=(None, 0, None))
    jaxpr = jax.make_jaxpr(fit)(X[0], Y, jg.Poisson())
    assert jaxpr.in_avals[0].shape == X[0].shape  # not (m, n, p)
    batched = fit(X[0], Y, jg.Poisson())
    for i in range(3):
        assert_same(batched[i], jg.fit(X[0], Y[i], jg.Poisson()), rtol=1e-10)


def test_batched_gram_with_a_shared_design_equals_each_members():
    """Under vmap with X shared, gram forms every member's matrix in one product (custom
    batching rule); per-member X, too few members and nested vmaps take the plain path."""
    linalg = sys.modules["jaxglm._linalg"]
    rng = np.random.default_rng(3)
    X = jnp.asarray(rng.normal(size=(50, 3)))
    H = jnp.asarray(rng.uniform(0.1, 2.0, size=(6, 50)))
    want = np.stack([np.asarray(linalg.gram.fun(X, h)) for h in H])
    assert linalg.batched_gram_in_one_product(50, 3, 6)
    assert not linalg.batched_gram_in_one_product(50, 3, 3)
    got = jax.jit(jax.vmap(linalg.gram, in_axes=(None, 0)))(X, H)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(
        jax.vmap(linalg.gram, in_axes=(None, 0))(X, H[:3]), want[:3], rtol=1e-13
    )
    nested = jax.vmap(jax.vmap(linalg.gram, in_axes=(None, 0)), in_axes=(None, 0))
    np.testing.assert_allclose(nested(X, H.reshape(2, 3, 50)).reshape(6, 4, 4), want, rtol=1e-13)
    Xs = jnp.stack([X, 2.0 * X])
    stacked = jax.vmap(linalg.gram)(Xs, H[:2])
    np.testing.assert_allclose(stacked[1], linalg.gram.fun(Xs[1], H[1]), rtol=1e-13)


def test_batched_factor_and_solve_equal_lapacks():
    """Under vmap, small matrices are factored and solved by unrolled code (custom batching
    rule): LAPACK's factor, solutions and inverse to rounding, a matrix that is not positive
    definite unusable, and the order above UNROLLED_ORDER on LAPACK's path."""
    linalg = sys.modules["jaxglm._linalg"]
    rng = np.random.default_rng(4)

    def solved(H, v):
        factors, ok = linalg.factor(H)
        return ok, linalg.solve(factors, v), linalg.inverse(factors)

    for k in (3, linalg.UNROLLED_ORDER + 1):
        A = rng.normal(size=(4, 20, k))
        S = jnp.asarray(np.einsum("mnk,mnl->mkl", A, A)).at[3, 0, 1].set(50.0).at[3, 1, 0].set(50.0)
        b = jnp.asarray(rng.normal(size=(4, k)))
        ok, x, inv = jax.jit(jax.vmap(solved))(S, b)
        assert ok.tolist() == [True, True, True, False]
        for i in range(3):
            np.testing.assert_allclose(x[i], np.linalg.solve(S[i], b[i]), rtol=1e-10)
            np.testing.assert_allclose(inv[i], np.linalg.inv(S[i]), rtol=1e-10)
        assert np.isnan(np.asarray(x[3])).all()


def test_vmap_over_negative_binomial_alpha():
    """Families are pytrees with array fields: vmap maps over them as over any array."""
    X, y = simulate(jg.Poisson())
    values = [0.3, 1.0, 2.5]
    batched = jax.vmap(jg.fit, in_axes=(None, None, 0))(
        X, y, jg.NegativeBinomial(jnp.asarray(values))
    )
    for i, v in enumerate(values):
        assert_same(batched[i], jg.fit(X, y, jg.NegativeBinomial(v)), rtol=1e-10)


def test_vmap_over_tweedie_power():
    """Tweedie power 1 and 2 (log link) are the Poisson and Gamma fits (compared where the
    definitions agree: Tweedie always estimates the scale); 1.5 lies between. The paths
    differ (Tweedie's log link is not canonical: observed-information Newton), so the
    solutions agree to the solver's accuracy, not to rounding."""
    X, y = simulate(jg.Gamma())
    powers = jnp.asarray([1.0, 1.5, 2.0])
    batched = jax.vmap(lambda q: jg.fit(X, y, jg.Tweedie(power=q)))(powers)
    keys = ("params", "deviance", "null_deviance", "nobs", "df_resid")
    assert_same(batched[0], jg.fit(X, y, jg.Poisson()), rtol=1e-7, keys=keys)
    assert_same(batched[2], jg.fit(X, y, jg.Gamma(), jg.Log()), rtol=1e-7, keys=(*keys, "bse"))
    assert np.asarray(batched.converged).all()
    llf = np.asarray(batched.llf)
    assert np.isnan(llf[1]) and np.isfinite(llf[[0, 2]]).all()


def _no_mle(X):
    """Counts whose Poisson MLE does not exist: one positive count, at a vertex of the data
    (the largest x1), zeros elsewhere; Newton walks off towards it for ~25 iterations."""
    y = np.zeros(len(X))
    y[np.argmax(X[:, 0])] = 3.0
    return y


def test_failed_member_changes_no_other(datasets):
    """A NaN response and a response without an MLE run next to a good member: its result
    is that of the batch without the bad ones, to 1e-12, and each member reports its own
    iterations and status (a finished member stays frozen while the others iterate)."""
    X, Y, _, _, _ = datasets
    nan = Y[1].copy()
    nan[7] = np.nan  # NaN inside the program (validation is skipped under vmap)
    fit = jax.vmap(lambda y: jg.fit(X[0], y, jg.Poisson(), max_iter=40))
    with_bad = fit(np.stack([Y[0], nan, _no_mle(X[0])]))
    without = fit(Y)
    assert int(with_bad.status[1]) == jg.Status.NONFINITE
    assert int(with_bad.n_iter[2]) > int(with_bad.n_iter[0]) + 5  # member 0 was frozen
    assert_same(with_bad[0], without[0], rtol=1e-12)
    single = jg.fit(X[0], Y[0], jg.Poisson())
    assert int(with_bad.n_iter[0]) == int(single.n_iter)
    assert_same(with_bad[0], single, rtol=1e-10)


def test_fit_under_outer_jit_with_closed_over_data():
    """Concrete (closed-over) inputs inside a trace: the result is traced, and fit must not
    call int() on it for its ConvergenceWarning (traced without compiling: eval_shape)."""
    X, y = simulate(jg.Poisson())
    res = jax.eval_shape(lambda: jg.fit(X, y, jg.Poisson()))
    assert res.coef.shape == (3,) and res.status.shape == ()


def test_fit_many_chunks_equal_single_fits(datasets):
    """Five responses in chunks of three (the last chunk filled up by repeating its last
    member): every member equals its own fit."""
    X, Y, _, _, _ = datasets
    Y5 = np.concatenate([Y, Y[:2] + 1.0])
    res = jg.fit_many(X[0], Y5, jg.Poisson(), batch_size=3)
    assert res.params.shape == (5, 4)
    for i in range(5):
        assert_same(res[i], jg.fit(X[0], Y5[i], jg.Poisson()), rtol=1e-10)


def test_fit_many_map_equals_vmap(datasets):
    """method="map" (one fit at a time in a compiled loop, the CPU default for mid-size
    fits) gives each member's own fit too."""
    X, Y, _, _, _ = datasets
    res = jg.fit_many(X[0], Y, jg.Poisson(), method="map")
    for i in range(3):
        assert_same(res[i], jg.fit(X[0], Y[i], jg.Poisson()), rtol=1e-10)
    with pytest.raises(ValueError, match="method must be"):
        jg.fit_many(X[0], Y, jg.Poisson(), method="pmap")


def test_fit_many_validates_every_member(datasets):
    X, Y, _, _, _ = datasets
    bad = Y.copy()
    bad[2, 5] = -1.0
    with pytest.raises(ValueError, match="support of Poisson"):
        jg.fit_many(X[0], bad, jg.Poisson())
    with pytest.raises(ValueError, match="y must be 2-D"):
        jg.fit_many(X[0], Y[0], jg.Poisson())
    with pytest.raises(ValueError, match="disagree on the batch size"):
        jg.fit_many(X[0], Y, jg.Poisson(), weights=np.ones((2, 80)))
    with pytest.raises(ValueError, match="weights has a negative value"):
        jg.fit_many(X[0], Y, jg.Poisson(), weights=-np.ones((3, 80)))


def test_fit_many_warns_once_for_the_failed_members(datasets):
    X, Y, _, _, _ = datasets
    Y = np.concatenate([Y[:2], _no_mle(X[0])[None]])
    with pytest.warns(jg.ConvergenceWarning, match="1 of 3 Poisson fits did not converge") as rec:
        res = jg.fit_many(X[0], Y, jg.Poisson(), max_iter=12)
    assert len(rec) == 1  # one warning for the batch, not one per member
    np.testing.assert_array_equal(res.converged, [True, True, False])


def test_bootstrap_replicate_is_the_fit_of_resampled_rows():
    """Replicate b with frequency weights c is the fit of the rows repeated c times; the
    data are padded (n = 75 -> 80) and the padded rows are never drawn."""
    X, y = simulate(jg.Poisson(), n=75, seed=5)
    key = jax.random.key(7)
    boot = jg.bootstrap(X, y, jg.Poisson(), n_boot=64, key=key)
    assert boot.params.shape == (64, 4) and boot.n_failed == 0
    for b in (0, 33):
        idx = np.asarray(jax.random.randint(jax.random.fold_in(key, b), (75,), 0, 75))
        rows = jg.fit(X[idx], y[idx], jg.Poisson())
        np.testing.assert_allclose(boot.params[b], rows.params, rtol=1e-10)
        np.testing.assert_allclose(boot.replicates.nobs[b], 75.0)
    lo, hi = boot.conf_int[:, 0], boot.conf_int[:, 1]
    assert np.all(lo < boot.fit.params) and np.all(boot.fit.params < hi)
    # the summaries are the replicates' ddof=1 standard deviation and percentiles
    params = np.asarray(boot.params)
    np.testing.assert_allclose(boot.bse, np.std(params, axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(
        boot.conf_int, np.quantile(params, [0.025, 0.975], axis=0).T, rtol=1e-12
    )
    # bootstrap and model-based standard errors agree to sampling error (64 replicates)
    np.testing.assert_allclose(boot.bse, boot.fit.bse, rtol=0.35)


def test_bootstrap_leaves_failed_replicates_out_of_its_summaries():
    """A small logistic sample whose resamples sometimes separate: those replicates are
    NaN, counted in n_failed, one warning, and bse / conf_int come from the others."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(24, 1))
    y = (X[:, 0] + 0.3 * rng.normal(size=24) > 0).astype(float)
    with pytest.warns(jg.ConvergenceWarning, match="bootstrap replicates") as rec:
        boot = jg.bootstrap(X, y, jg.Bernoulli(), n_boot=40, key=0, ci_alpha=0.1)
    assert len(rec) == 1
    failed = np.asarray(boot.status) != jg.Status.CONVERGED
    assert 0 < boot.n_failed == failed.sum() < 40
    assert np.isnan(boot.params[failed]).all() and np.isfinite(boot.params[~failed]).all()
    kept = np.asarray(boot.params)[~failed]
    np.testing.assert_allclose(boot.bse, np.std(kept, axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(boot.conf_int, np.quantile(kept, [0.05, 0.95], axis=0).T)


def test_bootstrap_does_not_recompile_for_a_new_key():
    X, y = simulate(jg.Poisson(), n=75, seed=5)
    jg.bootstrap(X, y, jg.Poisson(), n_boot=64, key=1)
    sizes = fit_module._fit_jit._cache_size(), sweeps._draw_counts._cache_size()
    again = jg.bootstrap(X, y, jg.Poisson(), n_boot=64, key=2)
    assert (fit_module._fit_jit._cache_size(), sweeps._draw_counts._cache_size()) == sizes
    chex.assert_shape(again.params, (64, 4))


def test_bootstrap_with_frequency_weights_draws_the_observations():
    """With integer frequency weights the data stand for sum(fw) observations: each
    replicate draws that many, row i with probability fw_i / sum(fw)."""
    X, y = simulate(jg.Poisson(), n=75, seed=5)
    fw = np.random.default_rng(1).integers(0, 3, size=75).astype(float)
    boot = jg.bootstrap(X, y, jg.Poisson(), freq_weights=fw, n_boot=64, key=3)  # one program
    np.testing.assert_array_equal(boot.replicates.nobs, fw.sum())
    assert boot.n_failed == 0 and np.isfinite(boot.bse).all()
    # replicate b's draw, rebuilt: sum(fw) rows with probabilities fw / sum(fw) over the
    # rows padded to their size bucket (80), the padded rows at probability 0
    n_rows = _padding.bucket_size(75)
    probs = np.concatenate([fw / fw.sum(), np.zeros(n_rows - 75)])
    for b in (0, 41):
        key = jax.random.fold_in(jax.random.key(3), b)
        idx = np.asarray(jax.random.choice(key, n_rows, (int(fw.sum()),), p=probs))
        counts = np.bincount(idx, minlength=n_rows)[:75].astype(float)
        assert counts[fw == 0].sum() == 0 and counts.sum() == fw.sum()
        rows = jg.fit(X, y, jg.Poisson(), freq_weights=counts)
        np.testing.assert_allclose(boot.params[b], rows.params, rtol=1e-10)
    with pytest.raises(ValueError, match="integer freq_weights"):
        jg.bootstrap(X, y, jg.Poisson(), freq_weights=fw + 0.5, n_boot=4)


ABSENT = ("null_deviance", "llf", "aic", "bic", "pearson_chi2")


def test_fit_many_minimal_statistics_give_the_same_fits(datasets):
    """statistics="minimal": the same parameters, deviance, iterations and status as each
    member's full fit (shared X; per-member weights, frequency weights, offsets, ridge);
    the statistics it skips read NaN and its covariance is absent (cov_type "none")."""
    X, Y, W, FW, OFF = datasets
    lean = jg.fit_many(
        X[0], Y, jg.Poisson(), weights=W, freq_weights=FW, offset=OFF, alpha=ALPHAS,
        statistics="minimal",
    )  # fmt: skip
    assert lean.cov_type == "none"
    for i in range(3):
        full = _one(X[0], Y[i], W[i], FW[i], OFF[i], ALPHAS[i])
        assert_same(lean[i], full, rtol=1e-12, keys=("params", "deviance", "n_iter", "status"))
        assert_same(lean[i], full, rtol=0, keys=("nobs", "df_resid", "df_model", "scale"))
        assert np.isfinite(float(full.llf)) and np.isfinite(float(full.null_deviance))
    for key in ABSENT:
        assert np.isnan(np.asarray(getattr(lean, key))).all(), key
    assert np.isnan(np.asarray(lean.bse)).all() and np.isnan(np.asarray(lean.cov)).all()
    with pytest.raises(ValueError, match="statistics must be one of"):
        jg.fit_many(X[0], Y, jg.Poisson(), statistics="lean")


def test_fit_and_bootstrap_take_the_minimal_level(poisson_data):
    """The level reaches fit and bootstrap through the spec: the same parameters as the
    full level (a bootstrap's replicates too, drawn with the same key), the skipped
    statistics NaN, and the same refusal of an unknown level."""
    X, y = poisson_data
    full, lean = jg.fit(X, y, jg.Poisson()), jg.fit(X, y, jg.Poisson(), statistics="minimal")
    assert_same(lean, full, rtol=1e-12, keys=("params", "deviance", "n_iter", "status"))
    assert all(np.isnan(float(getattr(lean, key))) for key in ABSENT)
    assert lean.cov_type == "none" and np.isnan(np.asarray(lean.bse)).all()
    boot = jg.bootstrap(X, y, jg.Poisson(), n_boot=4, key=1)
    lean_boot = jg.bootstrap(X, y, jg.Poisson(), n_boot=4, key=1, statistics="minimal")
    np.testing.assert_allclose(lean_boot.params, boot.params, rtol=1e-12)
    np.testing.assert_allclose(lean_boot.bse, boot.bse, rtol=1e-12)
    assert np.isnan(np.asarray(lean_boot.replicates.llf)).all()
    for call in (jg.fit, jg.bootstrap):
        with pytest.raises(ValueError, match="statistics must be one of"):
            call(X, y, jg.Poisson(), statistics="lean")


def test_fit_many_minimal_logistic_keeps_the_separation_status():
    """Logistic fits on their own designs, one of them separated: the minimal level's
    parameters and statuses are each member's full fit's (the separation check runs only
    where a member has fitted probabilities at 0 or 1, and flags only that member)."""
    data = [simulate(jg.Bernoulli(), seed=s) for s in (4, 5, 6)]
    X = np.stack([d[0] for d in data])
    Y = np.stack([d[1] for d in data])
    Y[2] = (X[2, :, 0] > 0).astype(float)  # separated by column 0
    with pytest.warns(jg.ConvergenceWarning, match="1 of 3 Bernoulli fits"):
        lean = jg.fit_many(X, Y, jg.Bernoulli(), statistics="minimal")
    assert int(lean.status[2]) == jg.Status.SEPARATION
    for i in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jg.PerfectSeparationWarning)
            full = jg.fit(X[i], Y[i], jg.Bernoulli())
        keys = ("params", "deviance", "n_iter", "status") if i < 2 else ("n_iter", "status")
        assert_same(lean[i], full, rtol=1e-12, keys=keys)
    assert np.isnan(np.asarray(lean.llf)).all() and np.isnan(np.asarray(lean.bse)).all()
