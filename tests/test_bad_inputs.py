"""Bad inputs beyond test_validation.py: each gives its documented error, warning or status.

Shapes are the conftest ones (n=80, p=3), so the fits share a few compiled programs.
"""

import warnings

import jax
import numpy as np
import pytest
from conftest import simulate

import jaxglm as jg

X, Y = simulate(jg.Poisson())
XB, YB = simulate(jg.Bernoulli())


def with_value(arr, index, value):
    out = np.array(arr, dtype=float)
    out[index] = value
    return out


# ---- errors at the boundary (no compile; a non-finite X: after its fit, below) --------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(X=with_value(X, (7, 2), -np.inf)), r"X has a non-finite value at row 7, column 2"),
        (dict(y=with_value(Y, 0, np.nan)), r"y has a non-finite value at index 0"),
        (dict(weights=with_value(np.ones(80), 3, np.inf)), r"weights has a non-finite value"),
        (dict(freq_weights=with_value(np.ones(80), 4, np.nan)), r"freq_weights has a non-fin"),
        (dict(freq_weights=np.zeros(80)), r"all weights are zero"),
        (dict(offset=with_value(np.zeros(80), 5, np.inf)), r"offset has a non-finite value"),
        (dict(exposure=with_value(np.ones(80), 6, np.inf)), r"exposure has a non-finite value"),
        (dict(exposure=with_value(np.ones(80), 1, -1.0)), r"exposure must be > 0"),
        (dict(alpha=np.nan), r"alpha must be a finite scalar"),
        (dict(alpha=np.inf), r"alpha must be a finite scalar"),
        (dict(penalty_factor=with_value(np.ones(3), 1, np.nan)), r"penalty_factor must be"),
        (dict(penalty_factor=with_value(np.ones(3), 1, -1.0)), r"penalty_factor must be"),
        (dict(start_params=with_value(np.zeros(4), 2, np.nan)), r"start_params must be"),
        (dict(offset=np.zeros(79)), r"offset must have shape \(80,\)"),
        (dict(exposure=np.ones(81)), r"exposure must have shape \(80,\)"),
        (dict(freq_weights=np.ones(40)), r"freq_weights must have shape \(80,\)"),
        (dict(X=X[:, :, None]), r"X must be 2-D"),
        (dict(X=X[:0], y=Y[:0]), r"no rows"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_argument_raises(kwargs, message):
    args = dict(X=X, y=Y, family=jg.Poisson()) | kwargs
    with pytest.raises(ValueError, match=message):
        jg.fit(args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize(
    ("family", "y", "message"),
    [
        (jg.Bernoulli(), with_value(YB, 3, 2.0), r"y\[3\] = 2 .* Bernoulli"),
        (jg.Bernoulli(), with_value(YB, 3, -1.0), r"y\[3\] = -1 .* Bernoulli"),
        (jg.Binomial(), with_value(YB, 9, -0.5), r"y\[9\] = -0.5 .* Binomial"),
        (jg.Gamma(), with_value(Y + 1, 2, -1.0), r"y\[2\] = -1 .* Gamma"),
        (jg.InverseGaussian(), with_value(Y + 1, 5, 0.0), r"y\[5\] = 0 .* InverseGaussian"),
        (jg.Poisson(), with_value(Y, 11, -2.0), r"y\[11\] = -2 .* Poisson"),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_response_outside_support(family, y, message):
    with pytest.raises(ValueError, match=message):
        jg.fit(X, y, family=family)


def test_drop_collinear_needs_concrete_inputs():
    with pytest.raises(ValueError, match="drop_collinear=True needs concrete inputs"):
        jax.jit(lambda X: jg.fit(X, Y, family=jg.Poisson(), drop_collinear=True).coef)(X)


# ---- statuses and warnings (compiled fits, n=80) --------------------------------------------


@pytest.fixture(scope="module")
def poisson_ref():
    return jg.fit(X, Y, family=jg.Poisson())


def test_integer_and_bool_dtypes_are_converted(poisson_ref):
    res = jg.fit(X, Y.astype(np.int32), family=jg.Poisson())
    assert res.params.dtype == np.float64
    np.testing.assert_allclose(res.params, poisson_ref.params, rtol=1e-12)
    Xb = np.column_stack([X[:, :2], X[:, 2] > 0])
    res = jg.fit(Xb, Y, family=jg.Poisson())
    ref = jg.fit(Xb.astype(float), Y, family=jg.Poisson())
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


@pytest.mark.parametrize(
    ("extra", "aliased"),
    [
        (np.ones(80), 3),  # constant column with the intercept
        (X[:, 1], 3),  # duplicated column
        (X[:, 0] - 2 * X[:, 2], 3),  # collinear combination
    ],
    ids=["constant", "duplicated", "combination"],
)
def test_aliased_column(extra, aliased, poisson_ref):
    Xa = np.column_stack([X, extra])
    with pytest.warns(jg.ConvergenceWarning, match=rf"columns \[{aliased}\] of X are collinear"):
        with pytest.warns(jg.ConvergenceWarning, match="singular"):
            res = jg.fit(Xa, Y, family=jg.Poisson())
    assert int(res.status) == jg.Status.RANK_DEFICIENT
    res = jg.fit(Xa, Y, family=jg.Poisson(), drop_collinear=True)
    assert res.aliased == (aliased,)
    assert bool(res.converged)
    assert np.isnan(res.coef[aliased]) and np.isnan(res.bse[aliased + 1])
    np.testing.assert_allclose(np.delete(res.params, aliased + 1), poisson_ref.params, rtol=1e-10)
    np.testing.assert_allclose(np.delete(res.bse, aliased + 1), poisson_ref.bse, rtol=1e-10)
    assert float(res.df_resid) == float(poisson_ref.df_resid)
    assert float(res.deviance) == pytest.approx(float(poisson_ref.deviance), rel=1e-12)


def test_aliased_column_is_named_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(np.column_stack([X, X[:, 0]]), columns=["a", "b", "c", "a_copy"])
    with pytest.warns(jg.ConvergenceWarning, match=r"\['a_copy'\]"):
        with pytest.warns(jg.ConvergenceWarning, match="singular"):
            jg.fit(df, Y, family=jg.Poisson())


def test_more_columns_than_rows():
    Xw = np.random.default_rng(1).normal(size=(10, 20))
    with pytest.warns(jg.ConvergenceWarning):
        res = jg.fit(Xw, Y[:10], family=jg.Poisson())
    assert int(res.status) == jg.Status.RANK_DEFICIENT
    res = jg.fit(Xw, Y[:10], family=jg.Poisson(), drop_collinear=True)
    assert res.aliased == tuple(range(9, 20))  # R: the first n - 1 columns are kept
    assert bool(res.converged) and float(res.df_resid) == 0.0


def separated():
    y = (XB[:, 0] > 0).astype(float)
    yq = y.copy()
    Xq = XB.copy()
    Xq[:10, 0] = 0.0  # a tie block at the boundary with both outcomes: quasi-complete
    yq[:10] = np.arange(10) % 2
    return y, Xq, yq


def test_perfect_and_quasi_separation():
    y, Xq, yq = separated()
    for Xs, ys in ((XB, y), (Xq, yq)):
        with pytest.warns(jg.PerfectSeparationWarning, match=r"diverging columns: \[0\]"):
            res = jg.fit(Xs, ys, family=jg.Bernoulli())
        assert int(res.status) == jg.Status.SEPARATION
        assert not bool(res.converged)
        assert "separation" in res.status_message
    res = jg.fit(XB, YB, family=jg.Bernoulli())  # the same design without separation
    assert bool(res.converged)


def test_ridge_on_every_coefficient_is_not_separation():
    """A ridge penalty makes the optimum finite; near-0/1 fitted probabilities are part of it."""
    y, _, _ = separated()
    res = jg.fit(XB, y, family=jg.Bernoulli(), alpha=1e-9)
    assert int(res.status) == jg.Status.CONVERGED
    mu = np.asarray(res.predict(XB))
    assert np.min(np.minimum(mu, 1 - mu)) < 10 * np.finfo(float).eps  # R's test would fire
    free = np.ones(XB.shape[1])
    free[0] = 0.0  # the separating column unpenalized: it still diverges
    with pytest.warns(jg.PerfectSeparationWarning):
        res = jg.fit(XB, y, family=jg.Bernoulli(), alpha=1e-9, penalty_factor=free)
    assert int(res.status) == jg.Status.SEPARATION


def near_separated():
    """n = 40, slope 5.8, smallest fitted probability 4.8e-7 (statsmodels): a finite MLE."""
    x = np.linspace(-2.5, 2.5, 40)[:, None]
    y = (x[:, 0] > 0).astype(float)
    y[[18, 21]] = 1.0 - y[[18, 21]]
    return x, y


def test_float32_tiny_probabilities_at_a_finite_mle_are_not_separation():
    """float32's 10 eps is 1.2e-6: the mean rule alone flagged this fit SEPARATION with no
    diverging column. The Fisher step from its solution is rounding, so it converges, at
    float64's answer; the bootstrap keeps float64's replicates (it dropped 109 of 200
    against 56). Quasi-complete separation still is SEPARATION in float32."""
    x, y = near_separated()
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    res = jg.fit(x32, y32, jg.Bernoulli())
    assert int(res.status) == jg.Status.CONVERGED
    mu = np.asarray(res.predict(x32), float)
    assert np.min(np.minimum(mu, 1 - mu)) < 10 * np.finfo(np.float32).eps  # the old rule
    ref = np.asarray(jg.fit(x, y, jg.Bernoulli()).params)  # intercept 0: absolute 1e-5 there
    np.testing.assert_allclose(res.params, ref, rtol=1e-5, atol=1e-5 * np.max(np.abs(ref)))
    # float64's bootstrap of the same data drops 56 replicates (separated resamples), with
    # bse (0.9119, 2.2212), measured; float32 dropped 109, its bse (0.61, 0.77).
    with pytest.warns(jg.ConvergenceWarning, match="56 of 200 .* replicates did not converge"):
        boot = jg.bootstrap(x32, y32, jg.Bernoulli(), n_boot=200)
    np.testing.assert_allclose(boot.bse, [0.9119, 2.2212], rtol=1e-3)
    # x > 0 predicts y = 1 perfectly, x < 0 does not: quasi-complete separation.
    Xq = np.column_stack([x[:, 0] > 0, np.random.default_rng(1).normal(size=40)])
    yq = np.where(x[:, 0] > 0, 1.0, np.random.default_rng(2).integers(0, 2, 40))
    with pytest.warns(jg.PerfectSeparationWarning, match=r"diverging columns: \[0\]"):
        res = jg.fit(Xq.astype(np.float32), yq.astype(np.float32), jg.Bernoulli())
    assert int(res.status) == jg.Status.SEPARATION


def test_separation_under_vmap_leaves_other_members_unchanged():
    y, _, _ = separated()
    batch = np.stack([YB, y, YB[::-1]])
    fit = jax.vmap(lambda yy: jg.fit(XB, yy, family=jg.Bernoulli()))
    res = fit(batch)
    assert [int(s) for s in res.status] == [0, jg.Status.SEPARATION, 0]
    ref = fit(batch[[0, 2]])
    for got, want in ((res[0], ref[0]), (res[2], ref[1])):
        np.testing.assert_allclose(got.params, want.params, rtol=1e-12)
        np.testing.assert_allclose(got.bse, want.bse, rtol=1e-12)
        np.testing.assert_allclose(got.deviance, want.deviance, rtol=1e-12)


def test_all_zero_counts():
    with pytest.warns(jg.ConvergenceWarning, match="NaN/inf"):
        res = jg.fit(X, np.zeros(80), family=jg.Poisson())
    assert int(res.status) == jg.Status.NONFINITE  # the MLE does not exist: intercept -> -inf


@pytest.mark.parametrize(("dtype", "big"), [(np.float64, 1e3), (np.float32, 100.0)])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_exp_link_overflow_is_a_status(dtype, big, sign):
    """exp(eta) overflowing (or mu = 0 with y > 0) is status NONFINITE, never a silent NaN."""
    Xo = np.column_stack([np.linspace(-1, 1, 80), X[:, 1:]]).astype(dtype)
    start = np.array([0.0, sign * big, 0.0, 0.0], dtype)
    with pytest.warns(jg.ConvergenceWarning, match="NaN/inf"):
        res = jg.fit(Xo, Y.astype(dtype), family=jg.Poisson(), start_params=start)
    assert int(res.status) == jg.Status.NONFINITE


def test_failing_member_under_vmap_with_nan_y():
    """A NaN response (traced, so not validated) fails its member only."""
    batch = np.stack([Y, with_value(Y, 4, np.nan), Y[::-1]])
    fit = jax.vmap(lambda yy: jg.fit(X, yy, family=jg.Poisson()))
    res = fit(batch)
    assert [int(s) for s in res.status] == [0, jg.Status.NONFINITE, 0]
    ref = fit(batch[[0, 2]])
    for got, want in ((res[0], ref[0]), (res[2], ref[1])):
        np.testing.assert_allclose(got.params, want.params, rtol=1e-12)
        np.testing.assert_allclose(got.deviance, want.deviance, rtol=1e-12)


# ---- X's finiteness, read off the fit (issue 19) ---------------------------------------------


@pytest.mark.parametrize(
    "solver",
    [None, jg.Optax(), jg.SubsampledNewton(start_rows=20, hessian_rows=40)],
    ids=["default", "optax", "subsampled"],
)
def test_non_finite_X_raises_after_the_fit_even_in_a_zero_weight_row(solver):
    """``fit`` checks a dense ``X`` after its compiled fit unless that converged with every
    ``eta`` finite: a NaN in a row of weight 0 (masked out of the objective) still raises
    the boundary's error, for NumPy and JAX arrays and every solver family of step."""
    bad = with_value(X, (7, 2), np.nan)
    weights = with_value(np.ones(80), 7, 0.0)
    for design in (bad, jax.numpy.asarray(bad)):
        with pytest.raises(ValueError, match=r"X has a non-finite value at row 7, column 2"):
            jg.fit(design, Y, family=jg.Poisson(), weights=weights, solver=solver)


def test_finite_X_whose_sums_overflow_fits_and_reports_as_before():
    """A finite entry of 1e200 overflows the Gram (its square) and the fit stops
    RANK_DEFICIENT with its warning, as when ``X`` was checked before the fit: the check
    after it finds every entry finite and raises nothing."""
    big = with_value(X, (5, 1), 1e200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow in R's aliasing
        with pytest.warns(jg.ConvergenceWarning) as record:
            res = jg.fit(big, Y, family=jg.Poisson())
    assert int(res.status) == jg.Status.RANK_DEFICIENT
    assert any("did not converge" in str(w.message) for w in record)
