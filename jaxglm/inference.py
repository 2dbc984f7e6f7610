"""Inference: reference distributions, covariance types, tests, prediction, influence.

* The reference distributions of :mod:`jaxglm.distributions` (re-exported here). p-values
  and intervals use the normal for fixed-scale fits and Student's t with ``df_resid``
  degrees where the scale is estimated (R's ``summary.glm``; ``fit(use_t=)`` overrides).
* :func:`sandwich_cov`: the HC0-HC3 and cluster covariances that ``fit(cov_type=)``
  computes inside the compiled fit.
* :func:`wald`, :func:`contrast`: Wald (F or chi2) and single-contrast t/z tests
  (:class:`HypothesisTest`, :class:`ContrastResult`); the likelihood-ratio test over two
  results is :func:`jaxglm.lr_test` (in :mod:`jaxglm.results`, above this module).
* :func:`predict_with_se` (:class:`Prediction`) and :func:`influence`
  (:class:`Influence`): what ``GLMResult.get_prediction`` and ``GLMResult.influence``
  return.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxglm import _linalg
from jaxglm import model as M
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm.distributions import chi2_sf, f_sf, normal_isf2, normal_sf2, t_isf2, t_sf2
from jaxglm.families import Family
from jaxglm.links import Link

# ---- covariance types -------------------------------------------------------------------

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "none")
"""The ``cov_type`` values :func:`jaxglm.fit` accepts."""

# The robust types share one compiled program: the type is a traced code into these tables
# (exponent of 1 / (1 - h_i) in the meat: HC2 1, HC3 2).
_ROBUST_CODE = {"HC0": 0, "HC1": 1, "HC2": 2, "HC3": 3, "cluster": 4}
_LEVERAGE_POWER = (0.0, 0.0, 1.0, 2.0, 0.0)


def robust_code(cov_type: str) -> int:
    """The traced code of a robust ``cov_type`` (``"HC0"`` ... ``"cluster"``)."""
    return _ROBUST_CODE[cov_type]


def dense_labels(groups: jax.Array, valid: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Integer labels -> dense ids in ``[0, n)`` and the number of clusters with data.

    Traceable for any integer labels (a sort, no ``unique``): a cluster counts only if one
    of its rows has positive weight (``valid``), so zero-weight and padded rows change
    nothing.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxglm.inference import dense_labels
        >>> ids, n_groups = dense_labels(jnp.array([7, 3, 7, 9]), jnp.array([1, 1, 1, 0]) > 0)
        >>> ids.tolist(), int(n_groups)       # label 9 has only a zero-weight row
        ([1, 0, 1, 2], 2)
    """
    n = groups.shape[0]
    order = jnp.argsort(groups)
    ordered = groups[order]
    start = jnp.concatenate([jnp.ones(1, bool), ordered[1:] != ordered[:-1]])
    ids = jnp.zeros(n, jnp.int32).at[order].set(jnp.cumsum(start).astype(jnp.int32) - 1)
    has_data = jax.ops.segment_sum(valid.astype(jnp.int32), ids, num_segments=n) > 0
    return ids, jnp.sum(has_data)


@pytree_dataclass
class ClusterCodes:
    """Cluster labels already coded ``0..n_clusters-1`` (on the host), for sharded rows.

    :func:`jaxglm.shard_rows` returns ``groups`` in this form. Where ``groups`` is an array
    of any integer labels, the compiled fit codes them itself (a sort over the rows,
    :func:`dense_labels`), and sums the scores per cluster in an (n, p+1) array; with
    codes and their number (static: one program per ``n_clusters``) the cluster sums are
    one (n_clusters, p+1) segment sum, which on rows sharded over devices is one
    all-reduce of that array.

    Attributes:
        codes: (n,) integer codes in ``[0, n_clusters)``.
        n_clusters: the number of codes (clusters of rows with weight 0 are not counted in
            ``res.n_groups``).

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> from jaxglm.inference import ClusterCodes
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 1))
        >>> y = rng.poisson(np.exp(0.2 * X[:, 0]))
        >>> labels = np.repeat(np.arange(6), 10)
        >>> a = jg.fit(X, y, jg.Poisson(), cov_type="cluster", groups=labels)
        >>> b = jg.fit(X, y, jg.Poisson(), cov_type="cluster", groups=ClusterCodes(labels, 6))
        >>> bool(np.allclose(a.bse, b.bse)), int(b.n_groups)
        (True, 6)
    """

    codes: Any
    n_clusters: int = static_field()


def sandwich_cov(
    problem: M.Problem,
    eta: jax.Array,
    prior: jax.Array,
    freq: jax.Array,
    groups: jax.Array | ClusterCodes | None,
    code: jax.Array,
    nobs: jax.Array,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Sandwich covariance ``B^-1 M B^-1`` of ``params`` at ``eta`` (statsmodels' GLM form).

    ``groups`` None: an HC type (``code``); given (integer labels or
    :class:`ClusterCodes`): the cluster covariance.

    Bread ``B = [1 X]^T diag(w h) [1 X]`` with ``h`` the *observed* second derivative of
    each row's negative log-likelihood in ``eta`` (statsmodels' ``GLM.hessian`` after an
    IRLS fit; the expected one for a canonical link, where they coincide). Scores
    ``s_i = w_i g_i [1, x_i]`` with ``g`` the first derivative. The dispersion cancels
    between bread and meat, so the covariance does not depend on ``scale``. With
    ``k = rank`` and ``n = nobs`` (frequency weights counted):

    * HC0: ``M = sum_i fw_i (pw_i g_i)^2 x_i x_i^T`` (each of a row's ``fw_i`` copies
      counts once: statsmodels divides its scores by ``sqrt(fw)``).
    * HC1: HC0 x ``n / (n - k)``.
    * HC2, HC3: each term divided by ``(1 - h_i)`` or ``(1 - h_i)^2``, ``h_i`` the
      leverage of one copy of row ``i`` under the same bread, ``pw_i h_i x_i^T B^-1 x_i``
      (for a canonical link, R's ``sandwich::vcovHC`` types HC2/HC3 on a glm).
    * cluster: ``M = sum_g s_g s_g^T`` with ``s_g`` the sum of the scores of cluster ``g``,
      times statsmodels' default correction ``G / (G - 1) * (n - 1) / (n - k)``.

    With a non-canonical link the observed Hessian need not be positive definite (far
    from a good fit); then ``ok`` is False and :func:`jaxglm.fit` reports a NaN
    covariance rather than statsmodels' possibly negative variances.

    Returns:
        ``(cov, ok, n_groups)``: the (p+1, p+1) covariance (intercept row and column 0
        without an intercept), whether the bread factored, and the number of clusters with
        data (all rows with data for the HC types).

    Example (through :func:`jaxglm.fit`, which calls it inside the compiled fit):
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 1))
        >>> y = rng.poisson(np.exp(0.5 * X[:, 0]) * rng.gamma(2.0, 0.5, size=200))
        >>> hc = jg.fit(X, y, family=jg.Poisson(), cov_type="HC0")
        >>> bool(hc.bse[1] > jg.fit(X, y, family=jg.Poisson()).bse[1])   # overdispersed
        True
    """
    X, dtype = problem.X, problem.y.dtype
    valid = problem.w > 0
    g, h = M.row_derivatives(problem, eta, fisher=False)
    if g.ndim == 2:
        return _block_sandwich(problem, g, h, prior, groups, code, nobs)
    bread = _linalg.gram(X, jnp.where(valid, problem.w * h, 0.0))

    def hc_meat(inv, rank):
        leverage = jnp.where(valid, prior * h * _linalg.row_quadratic(X, inv), 0.0)
        power = jnp.asarray(_LEVERAGE_POWER, dtype)[code]
        one_minus = jnp.where(valid, 1.0 - leverage, 1.0)
        rows = jnp.where(valid, problem.w * prior * g * g, 0.0) / one_minus**power
        correction = jnp.where(code == 1, nobs / (nobs - rank), 1.0)
        return correction * _linalg.gram(X, rows)

    scores = jnp.where(valid, problem.w * g, 0.0)
    return _sandwich(problem, bread, 1, hc_meat, scores, groups, code, nobs)


def _block_sandwich(problem, g, h, prior, groups, code, nobs):
    """:func:`sandwich_cov` for an m-vector ``theta``, on ``params.ravel()``: bread
    ``sum_i w_i kron(x_i x_i^T, h_i)`` (:func:`jaxglm._linalg.block_gram`), scores
    ``s_i = w_i kron(x_i, g_i)``; HC0's meat ``sum_i w_i pw_i kron(x_i x_i^T, g_i g_i^T)``,
    the cluster meat from the clusters' summed scores.

    HC2/HC3 take each row's ``m`` equations as one cluster (Bell and McCaffrey's CR2, and
    CR3): with ``Q_i`` the row's (m, m) block of ``B^-1`` and the leverage block
    ``L_i = pw_i h_i^1/2 Q_i h_i^1/2`` (symmetric, eigenvalues in [0, 1]), ``g_i`` becomes
    ``h_i^1/2 (I - L_i)^(-power/2) h_i^-1/2 g_i`` (power 1: HC2, 2: HC3, which is
    ``(I - pw_i h_i Q_i)^-1 g_i``): for m = 1 the scalar rule, ``g_i / (1 - h_ii)^(power/2)``
    (a two-class Multinomial equals the binomial logit)."""
    X = problem.X
    valid = problem.w > 0
    w = problem.w[:, None, None]
    m = g.shape[1]
    bread = _linalg.block_gram(X, jnp.where(w > 0, w * h, 0.0))

    def hc_meat(inv, rank):
        power = jnp.asarray(_LEVERAGE_POWER, h.dtype)[code]
        adjusted = jnp.where(power > 0, _leverage_adjusted(X, inv, g, h, prior, power), g)
        adjusted = jnp.where(valid[:, None], adjusted, 0.0)
        outer = (problem.w * prior)[:, None, None] * adjusted[:, :, None] * adjusted[:, None, :]
        correction = jnp.where(code == 1, nobs / (nobs - rank), 1.0)
        return correction * _linalg.block_gram(X, jnp.where(w > 0, outer, 0.0))

    scores = jnp.where(valid[:, None], problem.w[:, None] * g, 0.0)
    return _sandwich(problem, bread, m, hc_meat, scores, groups, code, nobs)


def _leverage_adjusted(X, inv, g, h, prior, power):
    """The rows' ``g_i`` adjusted by their (m, m) leverage blocks (:func:`_block_sandwich`),
    as ``g_i + h^1/2 U diag((1 - mu)^(-power/2) - 1) U^T h^-1/2 g_i`` with ``L_i = U diag(mu)
    U^T``: exactly ``g_i`` along a direction where ``h_i`` is singular (pseudo-inverse)."""
    m = g.shape[1]
    lam, V = jnp.linalg.eigh(h)
    floor = m * jnp.finfo(h.dtype).eps * jnp.max(lam, axis=-1, keepdims=True)
    root = jnp.sqrt(jnp.maximum(lam, 0.0))
    inv_root = jnp.where(lam > floor, 1.0 / jnp.where(lam > floor, root, 1.0), 0.0)
    S = jnp.einsum("nab,nb,ncb->nac", V, root, V)
    S_inv = jnp.einsum("nab,nb,ncb->nac", V, inv_root, V)
    Q = _linalg.block_row_quadratic(X, inv, m)
    lev = prior[:, None, None] * jnp.einsum("nab,nbc,ncd->nad", S, Q, S)
    mu, U = jnp.linalg.eigh(0.5 * (lev + jnp.swapaxes(lev, 1, 2)))
    factor = (1.0 - mu) ** (-0.5 * power) - 1.0
    z = jnp.einsum("nba,nbc,nc->na", U, S_inv, g)  # U^T h^-1/2 g
    return g + jnp.einsum("nab,nbc,nc->na", S, U, factor * z)


def _sandwich(problem, bread, width, hc_meat, scores, groups, code, nobs):
    """``B^-1 M B^-1`` from the bread ``B`` (``width`` intercept parameters first, pinned
    without an intercept), the HC meat ``hc_meat(B^-1, rank)`` or the cluster meat of the
    rows' ``scores`` (statsmodels' correction ``G / (G - 1) (n - 1) / (n - k)``):
    ``(cov, ok, n_groups)`` as :func:`sandwich_cov`.

    A :class:`jaxglm._linalg.BlockGram` bread (a design with an eliminated categorical
    block) is inverted in block form (:func:`jaxglm._linalg.inverse`): the leverages of
    HC2/HC3 are row quadratic forms of it, and an HC covariance stays in block form
    (:func:`jaxglm._linalg.sandwich`: no (p+1, p+1) matrix). The cluster covariance is
    formed as ``T T^T``, ``T = B^-1 s^T`` ((p+1, G) for the ``G`` clusters' score sums
    ``s``): ``(p+1)^2`` memory and ``(p+1)^2 G`` flops."""
    dtype = bread.dtype
    k = bread.shape[0]
    bread, _ = _linalg.pin_intercept(bread, jnp.zeros(k, dtype), problem.fit_intercept, width)
    factors, ok = _linalg.factor(bread)
    intercept_mask = jnp.ones(k, dtype).at[:width].set(float(problem.fit_intercept))
    inv = _linalg.mask(_linalg.inverse(factors), intercept_mask)
    rank = k - width + width * int(problem.fit_intercept)
    valid = problem.w > 0
    if groups is None:  # an HC type: only its meat is compiled (no pass over labels)
        meat, n_groups = hc_meat(inv, rank), jnp.sum(valid)
    else:
        if isinstance(groups, ClusterCodes):
            ids, n_clusters = groups.codes, groups.n_clusters
            with_data = jax.ops.segment_sum(valid.astype(jnp.int32), ids, num_segments=n_clusters)
            n_groups = jnp.sum(with_data > 0)
        else:
            (ids, n_groups), n_clusters = dense_labels(groups, valid), None
        G = n_groups.astype(dtype)
        correction = G / (G - 1.0) * (nobs - 1.0) / (nobs - rank)
        if isinstance(inv, _linalg.DiagonalPlusLowRank):
            T = inv.matmul(_linalg.cluster_sums(problem.X, scores, ids, n_clusters).T)
            cov = correction * jnp.matmul(T, T.T, precision="highest")
            return 0.5 * (cov + cov.T), ok, n_groups
        meat = correction * _linalg.cluster_gram(problem.X, scores, ids, n_clusters)
    return _linalg.sandwich(inv, _linalg.mask(meat, intercept_mask)), ok, n_groups


# ---- tests ------------------------------------------------------------------------------


@pytree_dataclass
class HypothesisTest:
    """A Wald or likelihood-ratio test of ``J`` restrictions.

    Attributes:
        statistic: the F statistic (``distribution="F"``) or the chi-squared one.
        pvalue: its upper tail probability.
        df_num: ``J``, the number of restrictions.
        df_denom: the denominator degrees of freedom of F (NaN for chi2).
        distribution: ``"F"`` or ``"chi2"``.
    """

    statistic: jax.Array
    pvalue: jax.Array
    df_num: jax.Array
    df_denom: jax.Array
    distribution: str = static_field(default="chi2")


@pytree_dataclass
class ContrastResult:
    """Single linear contrasts ``r @ params - q``, one per row of ``r`` (a ``t_test``).

    Attributes:
        estimate: (m,) ``r @ params``.
        se: (m,) its standard error ``sqrt(diag(r C r^T))``.
        statistic: (m,) ``(estimate - q) / se``.
        pvalue: (m,) two-sided, from t with ``df`` degrees or the normal.
        conf_int: (m, 2) interval of level ``1 - alpha`` for ``estimate``.
        df: degrees of freedom of t (NaN for the normal).
        distribution: ``"t"`` or ``"normal"``.
    """

    estimate: jax.Array
    se: jax.Array
    statistic: jax.Array
    pvalue: jax.Array
    conf_int: jax.Array
    df: jax.Array
    distribution: str = static_field(default="normal")


@functools.partial(jax.jit, static_argnames=("use_f",))
def wald(
    params: jax.Array,
    cov: jax.Array | _linalg.DiagonalPlusLowRank,
    R: jax.Array,
    q: jax.Array,
    df_denom: jax.Array,
    use_f: bool,
) -> HypothesisTest:
    """Wald test of ``R @ params = q``: ``W = d^T (R C R^T)^-1 d``, ``d = R @ params - q``
    (``C`` dense or in block form, :func:`jaxglm._linalg.congruence`).

    With ``use_f`` the statistic is ``W / J`` on ``F(J, df_denom)``, else ``W`` on
    ``chi2(J)`` (statsmodels' ``wald_test``; its ``use_f`` defaults to ``use_t``).
    :meth:`jaxglm.GLMResult.wald_test` is the usual entry point.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxglm.inference import wald
        >>> t = wald(jnp.array([1.0, 2.0]), jnp.eye(2), jnp.eye(2), jnp.zeros(2), 10.0, use_f=False)
        >>> float(t.statistic), t.distribution
        (5.0, 'chi2')
    """
    d = R @ params - q
    J = jnp.asarray(R.shape[0], params.dtype)
    W = d @ jnp.linalg.solve(_linalg.congruence(cov, R), d)
    if use_f:
        df_denom = jnp.asarray(df_denom, params.dtype)
        return HypothesisTest(W / J, f_sf(W / J, J, df_denom), J, df_denom, "F")
    return HypothesisTest(W, chi2_sf(W, J), J, jnp.asarray(jnp.nan, params.dtype), "chi2")


@functools.partial(jax.jit, static_argnames=("use_t",))
def contrast(
    params: jax.Array,
    cov: jax.Array | _linalg.DiagonalPlusLowRank,
    r: jax.Array,
    q: jax.Array,
    df: jax.Array,
    alpha: jax.Array,
    use_t: bool,
) -> ContrastResult:
    """t (or z) tests and intervals of the contrasts ``r @ params`` (rows of ``r``), with
    ``se^2 = diag(r C r^T)`` (``C`` dense or in block form).

    :meth:`jaxglm.GLMResult.t_test` is the usual entry point.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxglm.inference import contrast
        >>> c = contrast(jnp.array([1.0, 2.0]), jnp.eye(2), jnp.array([[1.0, -1.0]]),
        ...              jnp.zeros(1), 10.0, 0.05, use_t=False)
        >>> round(float(c.se[0]) ** 2, 6), c.distribution
        (2.0, 'normal')
    """
    estimate = r @ params
    se = jnp.sqrt(jnp.diagonal(_linalg.congruence(cov, r)))
    statistic = (estimate - q) / se
    df = jnp.asarray(df, params.dtype)
    if use_t:
        pvalue, crit = t_sf2(statistic, df), t_isf2(alpha, df)
    else:
        pvalue, crit = normal_sf2(statistic), normal_isf2(alpha)
        df = jnp.asarray(jnp.nan, params.dtype)
    crit = jnp.asarray(crit, params.dtype)
    ci = jnp.stack([estimate - crit * se, estimate + crit * se], axis=-1)
    return ContrastResult(estimate, se, statistic, pvalue, ci, df, "t" if use_t else "normal")


# ---- prediction -------------------------------------------------------------------------


@pytree_dataclass
class Prediction:
    """Predicted mean and linear predictor with standard errors and intervals.

    The linear predictor's interval is ``eta +- q se(eta)``, ``se(eta)^2 = x^T C x`` with
    ``C = cov_params()`` (so it follows ``cov_type``), ``q`` the t (``use_t``) or normal
    quantile; the mean's interval is that interval mapped through the inverse link (its
    endpoints sorted, so that ``lower <= upper`` for decreasing links too), and
    ``mean_se = |dmu/deta| se(eta)`` (delta method): statsmodels'
    ``get_prediction(...).summary_frame()``.
    """

    mean: jax.Array
    mean_se: jax.Array
    mean_ci_lower: jax.Array
    mean_ci_upper: jax.Array
    linear: jax.Array
    linear_se: jax.Array
    linear_ci_lower: jax.Array
    linear_ci_upper: jax.Array

    def summary_frame(self) -> Any:
        """A pandas DataFrame with statsmodels' columns ``mean``, ``mean_se``,
        ``mean_ci_lower``, ``mean_ci_upper`` (one prediction, not a batch)."""
        import pandas as pd

        names = ("mean", "mean_se", "mean_ci_lower", "mean_ci_upper")
        return pd.DataFrame({k: np.asarray(getattr(self, k)) for k in names})


@functools.partial(jax.jit, static_argnames=("fit_intercept", "use_t"))
def predict_with_se(
    params: jax.Array,
    cov: jax.Array | _linalg.DiagonalPlusLowRank,
    X: jax.Array,
    offset: jax.Array,
    alpha: jax.Array,
    df: jax.Array,
    family: Family,
    link: Link,
    fit_intercept: bool,
    use_t: bool,
) -> Prediction:
    """:class:`Prediction` at the rows of ``X`` (``params``/``cov`` intercept first, (p+1)).

    ``cov`` in block form (a design's) is not formed: ``x^T C x`` from its factors
    (:func:`jaxglm._linalg.row_quadratic`).

    :meth:`jaxglm.GLMResult.get_prediction` is the usual entry point.

    Example:
        >>> import jax.numpy as jnp, jaxglm as jg
        >>> from jaxglm.inference import predict_with_se
        >>> pred = predict_with_se(jnp.array([0.0, 1.0]), jnp.eye(2) * 0.01, jnp.ones((1, 1)),
        ...                        jnp.zeros(1), 0.05, 10.0, jg.Poisson(), jg.Log(),
        ...                        fit_intercept=True, use_t=False)
        >>> round(float(pred.linear_se[0]), 4)        # sqrt(0.01 + 0.01)
        0.1414
    """
    keep = jnp.ones(params.shape[0], cov.dtype).at[0].set(float(fit_intercept))
    cov = _linalg.mask(cov, keep)
    eta = _linalg.linear_predictor(X, params, offset)
    se = jnp.sqrt(jnp.maximum(_linalg.row_quadratic(X, cov), 0.0))  # rounding only
    crit = t_isf2(alpha, df) if use_t else normal_isf2(alpha)
    crit = jnp.asarray(crit, eta.dtype)
    lo, hi = eta - crit * se, eta + crit * se
    mu = M.mean_from_eta(family, link, eta)
    mu_lo, mu_hi = M.mean_from_eta(family, link, lo), M.mean_from_eta(family, link, hi)
    mean_se = jnp.abs(M.mean_derivative(family, link, eta)) * se
    return Prediction(
        mu, mean_se, jnp.minimum(mu_lo, mu_hi), jnp.maximum(mu_lo, mu_hi), eta, se, lo, hi
    )


# ---- residuals and influence ------------------------------------------------------------


@pytree_dataclass
class Influence:
    """Residuals, leverages and Cook's distances of a fit, per row (statsmodels' names).

    Attributes:
        mu: fitted means.
        resid_response: ``y - mu``.
        resid_pearson: ``sqrt(pw) (y - mu) / sqrt(V(mu))`` (prior weights only).
        resid_deviance: ``sign(y - mu) sqrt(pw d(y, mu))``, ``d`` the unit deviance.
        resid_working: ``(y - mu) / (dmu/deta)``.
        hat_matrix_diag: leverages ``h_i = w_i h''_i x_i^T B^-1 x_i`` with
            ``B = [1 X]^T diag(w h'') [1 X]``, ``h''`` the observed (default) or expected
            second derivative of the row's negative log-likelihood and ``w`` prior x
            frequency weight (statsmodels' ``get_hat_matrix_diag``: a row standing for
            ``fw`` copies carries their total leverage).
        resid_studentized: ``resid_pearson / sqrt(scale (1 - h))``.
        cooks_distance: ``resid_studentized^2 h / ((1 - h) k)``, ``k`` the number of
            parameters (statsmodels' ``GLMInfluence.cooks_distance[0]``).
        deviance: the deviance of the data passed (a check that they are the fit's).
    """

    mu: jax.Array
    resid_response: jax.Array
    resid_pearson: jax.Array
    resid_deviance: jax.Array
    resid_working: jax.Array
    hat_matrix_diag: jax.Array
    resid_studentized: jax.Array
    cooks_distance: jax.Array
    deviance: jax.Array


@functools.partial(jax.jit, static_argnames=("fit_intercept", "observed"))
def influence(
    params: jax.Array,
    scale: jax.Array,
    X: jax.Array,
    y: jax.Array,
    prior: jax.Array,
    freq: jax.Array,
    offset: jax.Array,
    family: Family,
    link: Link,
    fit_intercept: bool,
    observed: bool,
) -> Influence:
    """:class:`Influence` of the fit with ``params`` on the data ``(X, y, weights, offset)``.

    :meth:`jaxglm.GLMResult.influence` is the usual entry point (it also checks that the
    data are the fit's).

    Example:
        >>> import jax.numpy as jnp, jaxglm as jg
        >>> from jaxglm.inference import influence
        >>> X, y, ones = jnp.array([[0.0], [1.0], [2.0]]), jnp.array([1.0, 2.0, 3.0]), jnp.ones(3)
        >>> out = influence(jnp.array([1.0, 1.0]), 1.0, X, y, ones, ones, jnp.zeros(3),
        ...                 jg.Gaussian(), jg.Identity(), fit_intercept=True, observed=True)
        >>> [round(float(h), 4) for h in out.hat_matrix_diag]   # leverages of a line fit
        [0.8333, 0.3333, 0.8333]
    """
    w = prior * freq
    valid = w > 0
    k = params.shape[0]
    problem = M.Problem(
        X=X, y=y, w=w, offset=offset, saturated=family.saturated_loglik(y),
        total_weight=jnp.sum(w), penalty=jnp.zeros(k, y.dtype), family=family, link=link,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    eta = _linalg.linear_predictor(X, params, offset)
    mu, resid, pearson, resid_dev, working = _residuals(problem, eta, prior)
    unit_dev = 2.0 * M.row_nll(problem, eta)
    _, h = M.row_derivatives(problem, eta, fisher=not observed)
    hw = jnp.where(valid, w * h, 0.0)
    bread, _ = _linalg.pin_intercept(_linalg.gram(X, hw), jnp.zeros(k, y.dtype), fit_intercept)
    factors, _ = _linalg.factor(bread)
    inv = _linalg.solve(factors, jnp.eye(k, dtype=y.dtype))
    keep = jnp.ones(k, y.dtype).at[0].set(float(fit_intercept))
    hat = hw * _linalg.row_quadratic(X, inv * keep[:, None] * keep[None, :])
    studentized = pearson / jnp.sqrt(scale * (1.0 - hat))
    rank = k - 1 + int(fit_intercept)
    cooks = studentized**2 * hat / ((1.0 - hat) * rank)
    deviance = jnp.sum(jnp.where(valid, w * unit_dev, 0.0))
    return Influence(
        mu, resid, pearson, resid_dev, working, hat, studentized, cooks, deviance
    )  # fmt: skip


@pytree_dataclass
class FittedRows:
    """What a single fit keeps of its rows for its fitted values and residuals.

    Attributes:
        eta: (n,) linear predictor at the solution (the offset included).
        y: (n,) response as fitted (Binomial: the proportion).
        prior: (n,) prior weights (ones when none were given).
    """

    eta: jax.Array
    y: jax.Array
    prior: jax.Array


@jax.jit
def residuals(rows: FittedRows, family: Family, link: Link) -> tuple[jax.Array, ...]:
    """``(mu, resid_response, resid_pearson, resid_deviance, resid_working)`` per row,
    as defined in :class:`Influence` (the same function computes both).

    Example:
        >>> import jax.numpy as jnp, jaxglm as jg
        >>> from jaxglm.inference import FittedRows, residuals
        >>> rows = FittedRows(jnp.zeros(2), jnp.array([0.0, 2.0]), jnp.ones(2))
        >>> [round(float(r), 4) for r in residuals(rows, jg.Poisson(), jg.Log())[2]]
        [-1.0, 1.0]
    """
    y = rows.y
    problem = M.Problem(
        X=jnp.zeros((y.shape[0], 0), y.dtype), y=y, w=rows.prior, offset=jnp.zeros_like(y),
        saturated=family.saturated_loglik(y), total_weight=jnp.sum(rows.prior),
        penalty=jnp.zeros(1, y.dtype), family=family, link=link, fit_intercept=True,
    )  # fmt: skip
    return _residuals(problem, rows.eta, rows.prior)


def _residuals(problem: M.Problem, eta: jax.Array, prior: jax.Array) -> tuple[jax.Array, ...]:
    family, link = problem.family, problem.link
    mu = M.mean_from_eta(family, link, eta)
    resid = problem.y - mu
    unit_dev = 2.0 * M.row_nll(problem, eta)
    # The unit deviance is >= 0; the maximum only removes rounding below 0 near y = mu.
    resid_dev = jnp.sign(resid) * jnp.sqrt(prior * jnp.maximum(unit_dev, 0.0))
    pearson = jnp.sqrt(prior) * resid / jnp.sqrt(family.variance(mu))
    return mu, resid, pearson, resid_dev, resid / M.mean_derivative(family, link, eta)


_PLACEHOLDER = re.compile("\x00(\\d+)\x01")
_NUMBER = re.compile(r"\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?")


def parse_hypothesis(hypothesis: str, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Linear restrictions ``R @ params = q`` from a string over the parameter ``names``.

    Restrictions are separated by commas; each is two or more linear expressions joined by
    ``=`` (``"a = b = 0"`` is ``a - b = 0, b = 0``, as patsy's); an expression is a sum of
    terms ``[number *] name`` or numbers. Names are matched first, longest first, so they
    may hold spaces, commas, brackets or operators (``C(g, Treatment("b"))[T.a]``).

    Raises:
        ValueError: an unknown name or a malformed expression (the message says where).

    Example:
        >>> from jaxglm.inference import parse_hypothesis
        >>> R, q = parse_hypothesis("age = children = 0", ["Intercept", "age", "children"])
        >>> R.tolist(), q.tolist()
        ([[0.0, 1.0, -1.0], [0.0, 0.0, 1.0]], [0.0, 0.0])
    """
    # The names become placeholders, so that their commas, '=' or operators are not read
    # as the hypothesis's.
    for j in sorted(range(len(names)), key=lambda j: len(names[j]), reverse=True):
        hypothesis = hypothesis.replace(names[j], f"\x00{j}\x01")
    rows, rhs = [], []
    for restriction in hypothesis.split(","):
        sides = [_linear(side, names) for side in restriction.split("=")]
        if len(sides) < 2:
            raise ValueError(f"a restriction needs '=': {_names_back(restriction, names)!r}")
        for (ca, ka), (cb, kb) in itertools.pairwise(sides):
            rows.append(ca - cb)
            rhs.append(kb - ka)
    return np.array(rows), np.array(rhs)


def _linear(text: str, names: list[str]) -> tuple[np.ndarray, float]:
    """(coefficients over ``names``, constant) of one side of a restriction."""
    coef, const = np.zeros(len(names)), 0.0
    i, sign, factor, expect_term = 0, 1.0, None, True
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif expect_term and text[i] in "+-":
            sign = sign * (-1.0 if text[i] == "-" else 1.0)
            i += 1
        elif not expect_term and text[i] in "+-":
            sign, factor, expect_term = (-1.0 if text[i] == "-" else 1.0), None, True
            i += 1
        elif not expect_term and text[i] == "*" and factor is not None:
            expect_term = True
            i += 1
        elif expect_term and (name := _PLACEHOLDER.match(text, i)):
            coef[int(name.group(1))] += sign * (1.0 if factor is None else factor)
            i, expect_term = name.end(), False
        elif expect_term and (number := _NUMBER.match(text, i)):
            value, i = sign * float(number.group()), number.end()
            rest = text[i:].lstrip()
            if rest.startswith("*"):
                factor, sign, expect_term = value, 1.0, False
                i = len(text) - len(rest)
            else:
                const, expect_term = const + value, False
        else:
            raise ValueError(
                f"cannot read {_names_back(text, names)!r} at "
                f"{_names_back(text[i:], names)!r}: the parameters are {names}"
            )
    if expect_term:
        raise ValueError(f"empty or unfinished expression {_names_back(text, names)!r}")
    return coef, const


def _names_back(text: str, names: list[str]) -> str:
    """``text`` with the placeholders of :func:`parse_hypothesis` as the names again."""
    return _PLACEHOLDER.sub(lambda m: names[int(m.group(1))], text).strip()
