"""Multinomial (softmax) regression against statsmodels' MNLogit and scikit-learn.

References: tests/references/multinomial_references.json, made by
tests/references/make_multinomial_references.py.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxglm as jg
from jaxglm import _linalg
from jaxglm import model as M
from jaxglm import multinomial as MN
from tests.test_references import rel_err

REFS = json.loads(
    (pathlib.Path(__file__).parent / "references" / "multinomial_references.json").read_text()
)


@pytest.fixture(scope="module")
def anes():
    ref = REFS["anes96"]
    X, y = np.array(ref["X"]), np.array(ref["y"])
    return X, y, ref, jg.fit(X, y, family=jg.Multinomial(7))


def simulated(k=3, n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    logits = np.concatenate([np.zeros((n, 1)), X @ rng.normal(size=(2, k - 1))], axis=1)
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in prob])
    return X, y


def test_matches_statsmodels_mnlogit(anes):
    _, _, ref, res = anes
    assert bool(res.converged)
    assert res.params.shape == (6, 6) and res.bse.shape == (6, 6)
    # measured: params 6.1e-11, bse 1.4e-12, llf/aic/bic at rounding, llnull 4.1e-10
    # (statsmodels fits its null model iteratively; jaxglm's is the closed form)
    assert rel_err(res.params, ref["params"]) < 1e-9
    assert rel_err(res.bse, ref["bse"]) < 1e-9
    for key in ("llf", "aic", "bic"):
        assert abs(float(getattr(res, key)) / ref[key] - 1.0) < 1e-12, key
    assert abs(float(res.llnull) / ref["llnull"] - 1.0) < 2e-9
    assert float(res.df_model) == ref["df_model"] and float(res.df_resid) == ref["df_resid"]
    np.testing.assert_allclose(res.deviance, -2.0 * res.llf, rtol=1e-12)
    np.testing.assert_allclose(res.pvalues, 2 * jax.scipy.stats.norm.sf(np.abs(res.tvalues)))
    ci = np.asarray(res.conf_int(0.05))
    np.testing.assert_allclose(ci[..., 1] - ci[..., 0], 2 * 1.959963984540054 * res.bse)
    text = res.summary()
    assert "class 6" in text and "x5" in text and "reference: class 0" in text


def test_optax_lbfgs_matches_statsmodels_mnlogit(anes):
    """The same (p+1, m) objective and statistics through another solver of the core."""
    X, y, ref, _ = anes
    res = jg.fit(X, y, family=jg.Multinomial(7), solver=jg.Optax(), tol=1e-10)
    assert bool(res.converged) and res.solver_name == "Optax(L-BFGS)"
    assert rel_err(res.params, ref["params"]) < 1e-6
    assert rel_err(res.bse, ref["bse"]) < 1e-6
    assert abs(float(res.llf) / ref["llf"] - 1.0) < 1e-8


def test_minibatch_adam_runs_the_block_model():
    """Mini-batch Optax on (p+1, m) parameters: 1000 rows in batches of 96, the rate
    decaying by 0.6 every 10 epochs, stopped at a relative gradient of 1e-2, so the point is
    about 1e-2 (relative) from Newton's (measured 1.3e-2; bound 3e-2); the covariance is
    the information's at that point."""
    import optax

    X, y = simulated(k=3, n=1000, seed=1)
    newton = jg.fit(X, y, family=jg.Multinomial(3), tol=1e-12)
    decaying = optax.adam(optax.exponential_decay(0.05, 110, 0.6))
    solver = jg.Optax(decaying, batch_size=96, seed=3, tol=1e-2, max_iter=100)
    res = jg.fit(X, y, family=jg.Multinomial(3), solver=solver)
    assert bool(res.converged) and res.solver_name == "Optax(mini-batch)"
    error = np.max(np.abs(res.params - newton.params)) / np.max(np.abs(newton.params))
    assert error < 3e-2
    np.testing.assert_allclose(res.bse, newton.bse, rtol=0.1)


def test_predict_gives_probabilities(anes):
    X, _, _, res = anes
    prob = np.asarray(res.predict(X[:50]))
    assert prob.shape == (50, 7)
    np.testing.assert_allclose(prob.sum(1), 1.0, rtol=1e-12)
    eta = np.asarray(res.params[0] + X[:50] @ res.params[1:])
    np.testing.assert_allclose(np.log(prob[:, 1:] / prob[:, :1]), eta, rtol=1e-9, atol=1e-9)


def test_symmetric_ridge_matches_sklearn():
    ref = REFS["wine_l2"]
    X, y = np.array(ref["X"]), np.array(ref["y"])
    alpha = 1.0 / (ref["C"] * len(y))  # sklearn: C sum loss + ||W||^2 / 2
    res = jg.fit(X, y, family=jg.Multinomial(3, symmetric=True), alpha=alpha, tol=1e-12)
    assert bool(res.converged)
    assert rel_err(res.coef.T, ref["coef"]) < 1e-6
    assert rel_err(res.intercept, ref["intercept"]) < 1e-6
    assert np.isnan(np.asarray(res.bse)).all()  # penalized: no standard errors


def test_symmetric_elastic_net_matches_sklearn_saga():
    """ProxNewton on (p+1, m) parameters: scikit-learn's saga optimum (to its ~1e-7), the
    same zeros, the KKT conditions met; a ridge through ProxNewton is Newton's ridge fit."""
    ref = REFS["wine_enet"]
    X, y = np.array(REFS["wine_l2"]["X"]), np.array(REFS["wine_l2"]["y"])
    family = jg.Multinomial(3, symmetric=True)
    for case in ref["fits"]:
        res = jg.fit(X, y, family=family, alpha=ref["alpha"], l1_ratio=case["l1_ratio"])
        assert bool(res.converged) and res.solver_name == "ProxNewton"
        assert float(res.kkt_violation) <= 1e-8
        assert rel_err(res.coef.T, case["coef"]) < 1e-5
        assert rel_err(res.intercept, case["intercept"]) < 1e-5
        np.testing.assert_array_equal(np.asarray(res.coef.T) == 0, np.array(case["coef"]) == 0)
        assert np.isnan(np.asarray(res.bse)).all()
    newton = jg.fit(X, y, family=jg.Multinomial(3), alpha=0.05, tol=1e-12)
    prox = jg.fit(X, y, family=jg.Multinomial(3), alpha=0.05, solver=jg.ProxNewton(tol=1e-11))
    assert bool(prox.converged)
    np.testing.assert_allclose(prox.params, newton.params, rtol=1e-8, atol=1e-10)


def test_path_and_cv_members_equal_fits():
    """A Multinomial path's fit at an alpha is ``fit``'s; cv's held-out deviance of a fold is
    that of the fit without the fold's rows (``-2 mean log p(y)`` on them). ``path`` and
    ``cv`` count the classes from ``y``, as ``fit`` does."""
    X, y = simulated(k=3, n=90, seed=2)
    family = jg.Multinomial(3)
    path = jg.path(X, y, jg.Multinomial(), l1_ratio=0.5, n_alphas=6, alpha_min_ratio=1e-2)
    assert path.coef.shape == (6, 2, 2) and path.intercept.shape == (6, 2)
    assert int(path.n_nonzero[0]) == 0 and int(path.n_nonzero[-1]) == 2
    assert bool(jnp.all(path.status == jg.Status.CONVERGED))
    for k in (2, 5):
        single = jg.fit(X, y, family, alpha=path.alphas[k], l1_ratio=0.5)
        np.testing.assert_allclose(path.coef[k], single.coef, atol=1e-7)
        np.testing.assert_allclose(path.deviance[k], single.deviance, rtol=1e-9)
    foldid = np.arange(90) % 3
    res = jg.cv(X, y, jg.Multinomial(), l1_ratio=0.5, alphas=path.alphas, foldid=foldid)
    held = foldid == 0
    train = jg.fit(X, y, family, alpha=path.alphas[3], l1_ratio=0.5, weights=(~held) * 1.0)
    prob = np.asarray(train.predict(X[held]))
    expected = -2.0 * np.mean(np.log(prob[np.arange(held.sum()), y[held]]))
    np.testing.assert_allclose(res.fold_deviance[0, 3], expected, rtol=1e-7)
    best = jg.fit(X, y, family, alpha=res.alpha_min, l1_ratio=0.5)
    np.testing.assert_allclose(res.refit.params, best.params, atol=1e-7)
    _, y2 = simulated(k=3, n=90, seed=9)
    many = jg.fit_many(X, np.stack([y, y2]), family, alpha=path.alphas[3], l1_ratio=0.5)
    for i, yi in enumerate((y, y2)):
        single = jg.fit(X, yi, family, alpha=path.alphas[3], l1_ratio=0.5)
        np.testing.assert_allclose(many.params[i], single.params, atol=1e-10)


def test_two_classes_equal_bernoulli_logit():
    X, y = simulated(k=2, n=80, seed=4)
    multi = jg.fit(X, y, family=jg.Multinomial(2))
    bern = jg.fit(X, y.astype(float), family=jg.Bernoulli())
    np.testing.assert_allclose(multi.params[:, 0], bern.params, rtol=1e-9)
    np.testing.assert_allclose(multi.bse[:, 0], bern.bse, rtol=1e-9)
    np.testing.assert_allclose(multi.llf, bern.llf, rtol=1e-12)
    np.testing.assert_allclose(multi.deviance, bern.deviance, rtol=1e-12)
    np.testing.assert_allclose(multi.aic, bern.aic, rtol=1e-12)


def test_block_hessian_equals_jax_hessian_of_the_objective():
    """The core's block row derivatives and block Gram (model.gradient / model.hessian on
    (p+1, m) parameters) vs jax.hessian of the total objective (oracle)."""
    X, y = simulated(k=4, n=40, seed=1)
    rng = np.random.default_rng(2)
    for fam in (jg.Multinomial(4), jg.Multinomial(4, symmetric=True)):
        m = fam.n_natural
        Y = fam.encode(jnp.asarray(y, jnp.float64))
        w = rng.uniform(0.5, 2.0, size=40)
        offset = 0.1 * rng.normal(size=(40, m))
        prob = M.Problem(
            X=jnp.asarray(X), y=Y, w=jnp.asarray(w), offset=jnp.asarray(offset),
            saturated=fam.saturated_loglik(Y), total_weight=jnp.asarray(w.sum()),
            penalty=jnp.asarray([0.0, 0.3, 0.2]), family=fam, link=jg.Canonical(),
        )  # fmt: skip
        B = jnp.asarray(0.3 * rng.normal(size=(3, m)))

        @jax.jit
        def system(prob, B):
            g, h = M.row_derivatives(prob, M.linear_predictor(prob, B), fisher=False)
            return M.gradient(prob, B, g), M.hessian(prob, h)

        grad, H = system(prob, B)

        def f(b, prob=prob, m=m):
            b = b.reshape(3, m)
            return M.objective(prob, b, M.linear_predictor(prob, b))

        flat = B.reshape(-1)
        np.testing.assert_allclose(grad.reshape(-1), jax.jit(jax.grad(f))(flat), rtol=1e-10)
        np.testing.assert_allclose(H, jax.jit(jax.hessian(f))(flat), rtol=1e-10, atol=1e-13)
        if fam.symmetric:
            continue
        # SubsampledNewton's line-search curvature d_i^T h_i d_i, one jvp per row
        eta = M.linear_predictor(prob, B)
        d = jnp.asarray(rng.normal(size=(40, m)))
        h = jax.jit(lambda prob, eta: M.row_derivatives(prob, eta, fisher=False)[1])(prob, eta)
        expected = np.einsum("na,nab,nb->n", d, h, d)
        got = jax.jit(M.curvature_along)(prob, eta, d)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_block_gram_over_row_blocks_equals_the_kronecker_sum(monkeypatch):
    """_linalg.block_gram from the rows' outer products over several row blocks (made small)
    and a shorter last one, and per class pair for a float32 ``X`` with float64 blocks (mixed
    precision), against ``sum_i kron(x_i x_i^T, H_i)``."""
    rng = np.random.default_rng(5)
    n, p, m = 45, 3, 3
    X = rng.normal(size=(n, p))
    A = rng.normal(size=(n, m, m))
    H = A @ A.transpose(0, 2, 1)

    def kron_sum(X):
        X1 = np.hstack([np.ones((n, 1)), X])
        return sum(np.kron(np.outer(x, x), h) for x, h in zip(X1, H, strict=True))

    # (p+1)(p+2)/2 = 10 entries a row: blocks of 7 rows, six of them and one of 3
    monkeypatch.setattr(_linalg, "BLOCK_GRAM_ELEMENTS", 70)
    monkeypatch.setattr(_linalg, "MIN_BLOCK_GRAM_ROWS", 1)
    expected = kron_sum(X)
    got = _linalg.block_gram(jnp.asarray(X), jnp.asarray(H))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    X32 = X.astype(np.float32)
    mixed = _linalg.block_gram(jnp.asarray(X32), jnp.asarray(H))
    expected = kron_sum(X32.astype(np.float64))  # (the pairs' rule rounds x_i x_j to float32)
    np.testing.assert_allclose(mixed, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())


def test_subsampled_newton_runs_the_block_model():
    """SubsampledNewton on (p+1, m) parameters (Newton on a row subsample to start, the
    subsample's block information as the preconditioner, exact gradients) reaches Newton's
    estimate and standard errors."""
    X, y = simulated(k=3, n=3000, seed=11)
    solver = jg.SubsampledNewton(start_rows=300, hessian_rows=600)
    sub = jg.fit(X, y, family=jg.Multinomial(3), solver=solver)
    ref = jg.fit(X, y, family=jg.Multinomial(3), solver=jg.Newton())
    assert bool(sub.converged) and sub.solver_name == "SubsampledNewton"
    assert rel_err(sub.params, ref.params) < 1e-7
    assert rel_err(sub.bse, ref.bse) < 1e-7


def test_the_default_solver_subsamples_many_rows_as_for_scalar_families():
    """Multinomial's default (solvers.default_vector_solver, picked by resolve): Newton below
    the subsampling rule of default_solver, SubsampledNewton from it on; never L-BFGS."""
    from jaxglm import solvers
    from jaxglm._spec import resolve_spec as spec

    sizes = [(20_000, 20), (100_000, 50), (100_000, 500), (10**6, 1_000)]
    names = ["Newton", "SubsampledNewton", "Newton", "SubsampledNewton"]
    for (n, p), expected in zip(sizes, names, strict=True):
        assert solvers.resolve(None, n, p, vector_theta=True).name == expected, (n, p)
        assert solvers.default_vector_solver(n, p).name == expected
    assert spec(jg.Multinomial(3), None, None, (100_000, 50)).solver.name == "SubsampledNewton"
    assert spec(jg.Bernoulli(), None, None, (100_000, 50)).solver.name == "SubsampledNewton"


def test_weights_equal_duplicated_rows_and_counts_equal_labels():
    X, y = simulated(seed=3)
    X[50:], y[50:] = X[:10], y[:10]  # rows 50..59 duplicate rows 0..9
    w = np.ones(len(y))
    w[:10], w[50:] = 2.0, 0.0  # weight 2 instead of the copies (one shape: one compile)
    weighted = jg.fit(X, y, family=jg.Multinomial(3), weights=w)
    dup = jg.fit(X, y, family=jg.Multinomial(3))
    np.testing.assert_allclose(weighted.params, dup.params, rtol=1e-9)
    np.testing.assert_allclose(weighted.bse, dup.bse, rtol=1e-9)
    np.testing.assert_allclose(weighted.llf, dup.llf, rtol=1e-12)
    assert float(weighted.nobs) == 50 and float(dup.nobs) == 60
    onehot = jg.fit(X, np.eye(3)[y], family=jg.Multinomial(3))
    np.testing.assert_allclose(onehot.params, dup.params)
    # Rows of counts (proportions, trials as weights) == the ungrouped labels; the
    # log-likelihood adds the multinomial coefficients, as R's binomial does.
    y2 = y.copy()
    y2[50:] = (y[:10] + 1) % 3  # the copies of rows 0..9 now have other labels
    labels = jg.fit(X, y2, family=jg.Multinomial(3))
    counts = np.eye(3)[y2]
    counts[:10] += counts[50:]
    trials = np.where(np.arange(60) < 50, counts.sum(1), 0.0)
    counts[50:] = np.eye(3)[y2[50:]]  # dropped rows (weight 0) still hold valid proportions
    grouped = jg.fit(
        X, counts / counts.sum(1, keepdims=True), family=jg.Multinomial(3), weights=trials
    )
    np.testing.assert_allclose(grouped.params, labels.params, rtol=1e-9)
    np.testing.assert_allclose(grouped.bse, labels.bse, rtol=1e-9)
    np.testing.assert_allclose(grouped.llf, labels.llf + 10 * np.log(2.0), rtol=1e-12)


def test_vmap_over_responses_equals_loop():
    X, y0 = simulated(seed=3)
    _, y1 = simulated(seed=6)
    Y = np.stack([y0, y1])
    batched = jax.vmap(lambda y: jg.fit(X, y, family=jg.Multinomial(3)))(Y)
    assert batched.params.shape == (2, 3, 2)
    for i in range(2):
        single = jg.fit(X, Y[i], family=jg.Multinomial(3))
        np.testing.assert_allclose(batched.params[i], single.params, rtol=1e-10)
        np.testing.assert_allclose(batched[i].bse, single.bse, rtol=1e-10)
        assert int(batched.status[i]) == jg.Status.CONVERGED


def test_float32_survives_extreme_logits():
    fam = jg.Multinomial(3)
    theta = jnp.asarray([[1e4, -1e4], [-1e4, -1e4], [3e4, 2e4]], jnp.float32)
    a = fam.log_partition(theta)
    mu = fam.mean(theta)
    assert a.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(a)))
    np.testing.assert_allclose(a, [1e4, 0.0, 3e4], rtol=1e-6)
    assert bool(jnp.all(jnp.isfinite(mu))) and bool(
        jnp.all(jnp.isfinite(fam.variance_theta(theta)))
    )
    X, y = simulated(seed=3)
    res32 = jg.fit(X.astype(np.float32), y, family=fam)
    res64 = jg.fit(X, y, family=fam)
    assert res32.params.dtype == jnp.float32 and bool(res32.converged)
    assert np.max(np.abs(np.asarray(res32.params) - res64.params) / res64.bse) < 1e-4
    big = MN.MultinomialResult(**{**res32.__dict__, "params": res32.params * 1e4})
    prob = np.asarray(big.predict(X.astype(np.float32) * 10))
    assert np.isfinite(prob).all()
    np.testing.assert_allclose(prob.sum(1), 1.0, rtol=1e-6)


def test_bad_inputs_raise():
    X, y = simulated(seed=8)
    with pytest.raises(ValueError, match=r"y\[0\] = 3"):
        jg.fit(X, np.concatenate([[3], y[1:]]), family=jg.Multinomial(3))
    with pytest.raises(ValueError, match="cov_type"):
        jg.fit(X, y, family=jg.Multinomial(3), cov_type="HC4")
    with pytest.raises(ValueError, match="n_classes"):
        jg.fit(X, y, family=jg.Multinomial(1))
    with pytest.raises(ValueError, match="canonical link"):
        jg.fit(X, y, family=jg.Multinomial(3), link=jg.Log())
    with pytest.raises(ValueError, match="fixed scale"):
        jg.fit(X, y, family=jg.Multinomial(3), scale="X2")
    with pytest.raises(ValueError, match="drop_collinear"):
        jg.fit(X, y, family=jg.Multinomial(3), drop_collinear=True)


def test_freq_weights_equal_duplicated_rows():
    X, y = simulated(seed=3)
    X[50:], y[50:] = X[:10], y[:10]  # rows 50..59 duplicate rows 0..9
    fw = np.ones(len(y))
    fw[:10], fw[50:] = 2.0, 0.0  # frequency weight 2 instead of the copies
    weighted = jg.fit(X, y, family=jg.Multinomial(3), freq_weights=fw)
    dup = jg.fit(X, y, family=jg.Multinomial(3))
    np.testing.assert_allclose(weighted.params, dup.params, rtol=1e-9)
    np.testing.assert_allclose(weighted.bse, dup.bse, rtol=1e-9)
    for key in ("llf", "llnull", "deviance", "aic", "bic", "nobs", "df_resid"):
        np.testing.assert_allclose(getattr(weighted, key), getattr(dup, key), rtol=1e-12)


def test_offset_per_class_shifts_the_coefficients():
    """An (n, m) offset ``x_1 d`` is a known part of the first slope row: the fit moves it
    by ``-d``; an (n,) offset is added to every class."""
    X, y = simulated(seed=5)
    d = np.array([0.4, -0.3])
    plain = jg.fit(X, y, family=jg.Multinomial(3), tol=1e-12)
    shifted = jg.fit(X, y, family=jg.Multinomial(3), offset=X[:, :1] * d, tol=1e-12)
    np.testing.assert_allclose(shifted.params[1], plain.params[1] - d, rtol=1e-8)
    np.testing.assert_allclose(shifted.params[::2], plain.params[::2], rtol=1e-8)
    np.testing.assert_allclose(shifted.bse, plain.bse, rtol=1e-8)
    np.testing.assert_allclose(shifted.llf, plain.llf, rtol=1e-12)
    common = jg.fit(X, y, family=jg.Multinomial(3), offset=X[:, 0] * 0.5, tol=1e-12)
    np.testing.assert_allclose(common.params[1], plain.params[1] - 0.5, rtol=1e-8)
    # Prediction takes the fit's offsets: an (n,) one added to every class.
    per_class = np.repeat(X[:, :1] * 0.5, 2, axis=1)
    np.testing.assert_allclose(common.predict(X, X[:, 0] * 0.5), common.predict(X, per_class))
    np.testing.assert_allclose(common.predict(X, X[:, 0] * 0.5), plain.predict(X), rtol=1e-7)
    np.testing.assert_allclose(common.get_prediction(X, X[:, 0] * 0.5).mean,
                               common.get_prediction(X, per_class).mean)  # fmt: skip
    with pytest.raises(ValueError, match="offset must have shape"):
        jg.fit(X, y, family=jg.Multinomial(3), offset=np.zeros((len(y), 3)))


def test_robust_covariances_equal_bernoulli_for_two_classes():
    X, y = simulated(k=2, n=80, seed=4)
    groups = np.arange(80) % 9
    for cov_type, extra in (("HC0", {}), ("HC1", {}), ("cluster", {"groups": groups})):
        multi = jg.fit(X, y, family=jg.Multinomial(2), cov_type=cov_type, **extra)
        bern = jg.fit(X, y.astype(float), family=jg.Bernoulli(), cov_type=cov_type, **extra)
        np.testing.assert_allclose(multi.bse[:, 0], bern.bse, rtol=1e-9)
    assert int(multi.n_groups) == 9 and multi.cov_type == "cluster"
    for cov_type in ("HC2", "HC3"):
        multi = jg.fit(X, y, family=jg.Multinomial(2), cov_type=cov_type)
        bern = jg.fit(X, y.astype(float), family=jg.Bernoulli(), cov_type=cov_type)
        np.testing.assert_allclose(multi.bse[:, 0], bern.bse, rtol=1e-9)


def test_hc2_hc3_are_cr2_cr3_with_a_row_as_a_cluster():
    """Three classes: HC2/HC3 against the definition written out with NumPy/SciPy (each
    row's m equations one cluster; Bell and McCaffrey's CR2 and its CR3), with the rows'
    Kronecker designs formed explicitly."""
    from scipy.linalg import sqrtm

    X, y = simulated(k=3, n=50, seed=7)
    base = jg.fit(X, y, family=jg.Multinomial(3), tol=1e-12)
    pi = np.asarray(base.predict(X))[:, 1:]
    onehot = (y[:, None] == np.arange(1, 3)).astype(float)
    rows = [np.kron(np.r_[1.0, x][None, :], np.eye(2)) for x in X]  # (m, (p+1) m)
    W = [np.diag(q) - np.outer(q, q) for q in pi]
    bread_inv = np.linalg.inv(sum(Xi.T @ Wi @ Xi for Xi, Wi in zip(rows, W, strict=True)))
    for cov_type, power in (("HC2", 0.5), ("HC3", 1.0)):
        meat = 0.0
        for Xi, Wi, g in zip(rows, W, pi - onehot, strict=True):
            root = np.real(sqrtm(Wi))
            lev = root @ Xi @ bread_inv @ Xi.T @ root
            vals, vecs = np.linalg.eigh(np.eye(2) - lev)
            adjust = vecs @ np.diag(vals**-power) @ vecs.T
            u = Xi.T @ root @ adjust @ np.linalg.solve(root, g)
            meat = meat + np.outer(u, u)
        cov = bread_inv @ meat @ bread_inv
        res = jg.fit(X, y, family=jg.Multinomial(3), cov_type=cov_type, tol=1e-12)
        np.testing.assert_allclose(res.cov, cov, rtol=1e-8, atol=1e-12)
        assert not np.allclose(res.bse, base.bse, rtol=1e-3)


def test_fit_many_member_equals_fit_and_bootstrap_runs():
    X, y0 = simulated(seed=3)
    _, y1 = simulated(seed=6)
    many = jg.fit_many(X, np.stack([y0, y1]), family=jg.Multinomial(3), method="vmap")
    assert many.params.shape == (2, 3, 2)
    for i, y in enumerate((y0, y1)):
        single = jg.fit(X, y, family=jg.Multinomial(3))
        np.testing.assert_allclose(many.params[i], single.params, rtol=1e-10)
        np.testing.assert_allclose(many[i].bse, single.bse, rtol=1e-10)
        np.testing.assert_allclose(many.llf[i], single.llf, rtol=1e-12)
    boot = jg.bootstrap(X, y0, family=jg.Multinomial(), n_boot=8, key=0, method="vmap")
    assert boot.params.shape == (8, 3, 2) and boot.bse.shape == (3, 2)
    assert boot.conf_int.shape == (3, 2, 2) and boot.fit.family.n_classes == 3
