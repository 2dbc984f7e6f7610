"""Fit results: :class:`GLMResult` (a pytree); the :class:`Status` codes live in
:mod:`jaxglm._status` and are re-exported here."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxglm import _host, _linalg, inference
from jaxglm import model as M
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm._status import ConvergenceWarning, PerfectSeparationWarning, Status
from jaxglm.designs import Design
from jaxglm.distributions import chi2_sf, f_sf
from jaxglm.families import Family
from jaxglm.links import Link

__all__ = [
    "ConvergenceWarning",
    "GLMResult",
    "MultinomialResult",
    "PerfectSeparationWarning",
    "Status",
    "Summary",
    "lr_test",
]


class Summary(str):
    """A fit's summary: the text table (a ``str``; ``print`` it) and, for reports, its
    coefficient table as a pandas DataFrame (``as_frame``), LaTeX or HTML. pandas (and
    jinja2 for LaTeX) are imported when asked for.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> X = np.linspace(0, 1, 30)[:, None]
        >>> s = jg.fit(X, 1.0 + 2.0 * X[:, 0] + np.sin(np.arange(30)) / 10).summary()
        >>> s.as_frame().index.tolist(), "<table" in s.to_html()
        (['Intercept', 'x1'], True)
    """

    _frame: Any

    def __new__(cls, text: str, frame: Any) -> Summary:
        out = super().__new__(cls, text)
        out._frame = frame
        return out

    def __reduce__(self) -> Any:
        return Summary, (str(self), self._frame)

    def as_frame(self) -> Any:
        """The coefficient table: ``coef``, ``std err``, the Wald statistic, its p-value
        and the interval, one row per parameter (by class and term for Multinomial)."""
        return self._frame()

    def to_latex(self, **kwargs: Any) -> str:
        """The coefficient table as LaTeX (pandas' ``DataFrame.to_latex``, ``kwargs`` to it;
        needs jinja2)."""
        return self.as_frame().to_latex(**kwargs)

    def to_html(self, **kwargs: Any) -> str:
        """The coefficient table as an HTML table (pandas' ``DataFrame.to_html``)."""
        return self.as_frame().to_html(**kwargs)


@pytree_dataclass
class GLMResult:
    """The result of :func:`jaxglm.fit`; a pytree, so fits can be jitted and vmapped.

    Definitions follow R's ``glm()`` / ``summary.glm``: ``scale`` is Pearson chi2 /
    ``df_resid`` for families with a free dispersion (Gaussian, Gamma, InverseGaussian,
    Tweedie) and 1 otherwise (``fit(scale=)`` changes it: ``"X2"``, ``"dev"`` or a
    number); ``cov_params()`` is ``scale`` times the inverse expected information, or the
    sandwich of ``cov_type`` (HC0-HC3, cluster; :func:`jaxglm.inference.sandwich_cov`);
    ``llf``/``aic``/``bic`` are R's ``logLik``/``AIC``/``BIC`` (for
    Gaussian the likelihood's dispersion is ``deviance / nobs``, for Gamma and
    InverseGaussian ``deviance / sum(w)``, and AIC counts it as a parameter). statsmodels
    differs there: its ``llf`` uses the Pearson scale and its ``bic`` is deviance based.
    For a penalized fit (``alpha > 0``) ``bse`` (and everything derived from it), ``aic``
    and ``bic`` are NaN: the plain inverse information is not a covariance of a
    penalized estimator. Tweedie with power outside {0, 1, 2, 3} has NaN ``llf``.

    Inference (``pvalues``, ``conf_int``, ``wald_test``, ``t_test``, ``get_prediction``)
    uses ``cov_params()`` and Student's t (F for Wald tests) with ``df_resid_inference``
    degrees when ``use_t``, else the normal (chi2). Residuals, leverages and Cook's
    distances come from :meth:`influence` with the fit's data passed again.

    Under ``jax.vmap`` every field gains the batch axis in front; index with ``res[i]``
    to get one member.
    """

    coef: jax.Array
    intercept: jax.Array
    # (p+1, p+1), intercept first, of type cov_type; for a design with an eliminated
    # categorical block a _linalg.DiagonalPlusLowRank (no (p+1)^2 array): read cov_params()
    cov: jax.Array | _linalg.DiagonalPlusLowRank
    scale: jax.Array
    deviance: jax.Array
    null_deviance: jax.Array
    llf: jax.Array
    aic: jax.Array
    bic: jax.Array
    pearson_chi2: jax.Array
    nobs: jax.Array
    df_model: jax.Array
    df_resid: jax.Array
    n_iter: jax.Array
    status_code: jax.Array  # the Status integer(s); read it as ``status``
    family: Family
    link: Link
    fit_intercept: bool = static_field(default=True)
    use_t: bool = static_field(default=False)
    cov_type: str = static_field(default="nonrobust")
    solver_name: str = static_field(default="Newton")
    feature_names: tuple[str, ...] | None = static_field(default=None)
    scale_type: str = static_field(default="fixed")
    n_groups: jax.Array | None = None  # number of clusters (cov_type="cluster"), else NaN
    aliased: tuple[int, ...] = static_field(default=())  # coef indices dropped as collinear
    alpha_bse: jax.Array | None = None  # SE of NegativeBinomial(alpha=None)'s alpha, else NaN
    kkt_violation: jax.Array | None = None  # ProxNewton's max KKT violation, else NaN
    # The linear predictor, response and prior weights of a single concrete fit (three
    # n-vectors: the memory cost of the residual properties); None for batches and traced fits.
    fitted_rows: inference.FittedRows | None = None

    # ---- parameters and their inference ------------------------------------------------

    @property
    def params(self) -> jax.Array:
        """Intercept first (when fitted), then ``coef``: statsmodels' order with a constant."""
        if not self.fit_intercept:
            return self.coef
        return jnp.concatenate([self.intercept[..., None], self.coef], axis=-1)

    @property
    def param_names(self) -> list[str]:
        """The names of :attr:`params`: ``"Intercept"`` first (when fitted), then
        ``feature_names`` (a frame's columns, a formula's terms) or ``x1, x2, ...``."""
        p = np.shape(self.coef)[-1]
        names = list(self.feature_names) if self.feature_names else [f"x{j + 1}" for j in range(p)]
        return ["Intercept", *names] if self.fit_intercept else names

    def params_frame(self, alpha: float = 0.05) -> Any:
        """The coefficient table as a pandas DataFrame indexed by :attr:`param_names`:
        ``coef``, ``std err``, ``z`` (or ``t``), ``P>|z|``, and the ``1 - alpha``
        interval; ``res.params_frame()["coef"]["age"]`` is one named parameter (one fit).

        Example:
            >>> import numpy as np, pandas as pd, jaxglm as jg
            >>> X = pd.DataFrame({"age": np.linspace(0, 1, 20)})
            >>> res = jg.fit(X, 1.0 + 2.0 * X["age"].to_numpy() + np.sin(np.arange(20)) / 10)
            >>> round(float(res.params_frame()["coef"]["age"]), 1)
            2.0
        """
        import pandas as pd

        if np.ndim(self.status) != 0:
            raise ValueError("params_frame() describes one fit: index the batch first, res[i]")
        stat = "t" if self.use_t else "z"
        ci = np.asarray(self.conf_int(alpha))
        columns = {
            "coef": self.params, "std err": self.bse, stat: self.tvalues,
            f"P>|{stat}|": self.pvalues, f"[{alpha / 2:g}": ci[:, 0],
            f"{1 - alpha / 2:g}]": ci[:, 1],
        }  # fmt: skip
        return pd.DataFrame({k: np.asarray(v) for k, v in columns.items()}, index=self.param_names)

    def cov_params(self) -> jax.Array:
        """Covariance of :attr:`params` of type :attr:`cov_type`.

        ``"nonrobust"``: ``scale`` x inverse expected information (R's ``summary.glm``);
        the robust types: the sandwich of :func:`jaxglm.inference.sandwich_cov`.

        A design fit whose Newton solve eliminated a categorical block (and any design fit
        with ``cov_type="none"``) keeps its covariance in block form (``diag + W K W^T``,
        :class:`jaxglm._linalg.DiagonalPlusLowRank`: ``(p+1) q`` numbers for ``q`` columns
        outside the block); ``bse``, ``tvalues``, ``pvalues``, ``conf_int``, ``summary``,
        ``t_test``, ``wald_test`` and ``get_prediction`` read it as it is. This method forms
        the (p+1, p+1) matrix: ``(p+1)^2`` memory (0.8 GB at 10,000 levels) and
        ``(p+1)^2 q`` flops.
        """
        return _linalg.as_dense(self._cov())

    def _cov(self) -> jax.Array | _linalg.DiagonalPlusLowRank:
        """The covariance of :attr:`params` as stored (dense or in block form)."""
        return self.cov if self.fit_intercept else _linalg.tail(self.cov)

    @property
    def df_resid_inference(self) -> jax.Array:
        """Degrees of freedom of t and F inference: ``df_resid``, or ``G - 1`` clusters."""
        if self.cov_type == "cluster":
            return self.n_groups - 1.0
        return self.df_resid

    @property
    def scale_estimated(self) -> bool:
        """Whether :attr:`scale` was estimated (``"X2"`` or ``"dev"``), not fixed."""
        return self.scale_type in ("X2", "dev")

    @property
    def bse(self) -> jax.Array:
        """Standard errors of :attr:`params` (from the covariance's diagonal, without forming
        a covariance kept in block form: :meth:`cov_params`)."""
        return jnp.sqrt(_linalg.diagonal(self._cov()))

    @property
    def tvalues(self) -> jax.Array:
        """Wald statistics ``params / bse`` (z for fixed-scale families, t otherwise)."""
        return self.params / self.bse

    @property
    def pvalues(self) -> jax.Array:
        """Two-sided p-values: t with :attr:`df_resid_inference` if ``use_t``, else normal.

        ``use_t`` defaults to R's rule (t exactly when the scale is estimated), see
        :func:`jaxglm.fit`.
        """
        if self.use_t:
            return inference.t_sf2(self.tvalues, self.df_resid_inference[..., None])
        return inference.normal_sf2(self.tvalues)

    def conf_int(self, alpha: float = 0.05) -> jax.Array:
        """``(k, 2)`` Wald intervals of level ``1 - alpha`` (t or normal, as :attr:`pvalues`).

        As statsmodels' ``conf_int`` (and ``summary.glm``'s p-values): the t quantile
        with the scale estimated, the normal otherwise. R's ``confint.default`` always
        uses the normal, and R's ``confint`` on a glm profiles the likelihood instead.
        """
        if self.use_t:
            q = inference.t_isf2(alpha, self.df_resid_inference)[..., None]
        else:
            q = inference.normal_isf2(alpha)
        q = jnp.asarray(q, self.params.dtype)
        half = q * self.bse
        return jnp.stack([self.params - half, self.params + half], axis=-1)

    def wald_test(
        self, R: ArrayLike | str, q: ArrayLike | None = None, use_f: bool | None = None
    ) -> inference.HypothesisTest:
        """Wald test of the ``J`` linear restrictions ``R @ params = q``.

        ``W = d^T (R C R^T)^-1 d`` with ``d = R @ params - q`` and ``C = cov_params()``
        (so robust when ``cov_type`` is). With ``use_f`` the result is ``F = W / J`` on
        ``(J, df_resid_inference)`` degrees, else ``W`` on ``chi2(J)``. ``use_f`` defaults
        to ``use_t`` (statsmodels' rule; by default F exactly when the scale is estimated).

        Args:
            R: (J, k) or (k,) restriction matrix over :attr:`params` (intercept first),
                or a string over :attr:`param_names` (:func:`jaxglm.inference.parse_hypothesis`):
                ``"age = 0"``, ``"age = children = 0"``, ``"a - 2 * b = 1, c = 0"``.
            q: (J,) right-hand side, default 0 (part of a string hypothesis).
            use_f: F rather than chi2; default ``self.use_t``.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> rng = np.random.default_rng(0)
            >>> X = rng.normal(size=(100, 2))
            >>> res = jg.fit(X, X[:, 0] + rng.normal(size=100))
            >>> t = res.wald_test(np.eye(3)[1:])      # both slopes are 0
            >>> t.distribution, float(t.df_num), bool(t.pvalue < 1e-6)
            ('F', 2.0, True)
        """
        R, q = self._restrictions(R, q)
        use_f = self.use_t if use_f is None else bool(use_f)
        return inference.wald(self.params, self._cov(), R, q, self.df_resid_inference, use_f=use_f)

    def t_test(
        self, r: ArrayLike | str, q: ArrayLike = 0.0, alpha: float = 0.05
    ) -> inference.ContrastResult:
        """Tests and intervals of single contrasts ``r @ params = q``, one per row of ``r``.

        ``estimate = r @ params``, ``se = sqrt(r C r^T)``, ``statistic = (estimate - q) /
        se``; two-sided p-value and a ``1 - alpha`` interval for ``estimate`` from t with
        ``df_resid_inference`` degrees when ``use_t``, else the normal (statsmodels'
        ``t_test``). ``r`` may be a string as in :meth:`wald_test` (``"x1 = x2"``).

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> rng = np.random.default_rng(0)
            >>> X = rng.normal(size=(100, 2))
            >>> res = jg.fit(X, X[:, 0] + rng.normal(size=100))
            >>> c = res.t_test([0.0, 1.0, -1.0])      # slope 1 == slope 2
            >>> c.estimate.shape, c.conf_int.shape
            ((1,), (1, 2))
            >>> bool(res.t_test("x1 = x2").estimate[0] == c.estimate[0])
            True
        """
        r, q = self._restrictions(r, None if isinstance(r, str) else q)
        alpha = jnp.asarray(alpha, self.params.dtype)
        return inference.contrast(
            self.params, self._cov(), r, q, self.df_resid_inference, alpha,
            use_t=self.use_t,
        )  # fmt: skip

    def _restrictions(self, R: ArrayLike | str, q: ArrayLike | None) -> tuple[jax.Array, jax.Array]:
        if np.ndim(self.status) != 0:
            raise ValueError("tests describe one fit: index the batch first, res[i]")
        dtype = self.params.dtype
        if isinstance(R, str):
            if q is not None and np.any(np.asarray(q) != 0):
                raise ValueError("a string hypothesis carries its right-hand side: leave q out")
            R, q = inference.parse_hypothesis(R, self.param_names)
        R = jnp.atleast_2d(jnp.asarray(R, dtype))
        k = self.params.shape[-1]
        if R.ndim != 2 or R.shape[1] != k:
            raise ValueError(f"R must have {k} columns (one per param), got shape {R.shape}")
        q = jnp.zeros(R.shape[0], dtype) if q is None else jnp.asarray(q, dtype)
        q = jnp.broadcast_to(q, (R.shape[0],))
        return R, q

    # ---- status -------------------------------------------------------------------------

    @property
    def converged(self) -> jax.Array:
        """``status == Status.CONVERGED``, per batch member."""
        return self.status == Status.CONVERGED

    @property
    def status(self) -> Status | jax.Array:
        """Why the fit stopped: a :class:`jaxglm.Status` for a concrete single fit (it prints
        its name, and compares and converts as its integer), the integer codes for a batch
        or under ``jit`` (``res.status_message`` has their texts)."""
        return _status(self.status_code)

    @property
    def status_message(self) -> str | list:
        """Host-side text for :attr:`status` (a nested list for a batch)."""
        codes = np.asarray(self.status)
        if codes.ndim == 0:
            return Status(int(codes)).message
        return np.vectorize(lambda c: Status(int(c)).message, otypes=[object])(codes).tolist()

    # ---- prediction ---------------------------------------------------------------------

    def predict(
        self,
        X: ArrayLike,
        offset: ArrayLike | None = None,
        which: str = "mean",
        exposure: ArrayLike | None = None,
    ) -> jax.Array:
        """Predicted mean (``which="mean"``) or linear predictor (``"linear"``) for ``X``,
        with ``offset`` and ``log(exposure)`` added to the linear predictor.

        Raises:
            ValueError: ``X`` has not the fit's number of columns, or (a data frame) not
                the fit's ``feature_names`` in the same order.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.arange(8.0).reshape(-1, 1) / 8
            >>> res = jg.fit(X, np.array([1., 0, 2, 1, 3, 2, 4, 5]), family=jg.Poisson())
            >>> res.predict(X[:2]).shape
            (2,)
        """
        X = _new_rows(X, self.coef.shape[-1], self.feature_names, self.fit_intercept)
        if isinstance(X, Design):
            coef = self.coef.reshape(-1, self.coef.shape[-1])
            rows = _linalg.times(X.astype(coef.dtype), coef.T).T.reshape(*self.coef.shape[:-1], -1)
            eta = self.intercept[..., None] + rows
        else:
            X = _host.to_device(X, self.coef.dtype)
            eta = self.intercept[..., None] + jnp.matmul(X, self.coef[..., None])[..., 0]
        if offset is not None or exposure is not None:
            eta = eta + _offset(X.shape[-2], offset, exposure, eta.dtype)
        if which == "linear":
            return eta
        if which == "mean":
            return M.mean_from_eta(self.family, self.link, eta)
        raise ValueError(f"which must be 'mean' or 'linear', got {which!r}")

    def get_prediction(
        self,
        X: ArrayLike,
        offset: ArrayLike | None = None,
        exposure: ArrayLike | None = None,
        alpha: float = 0.05,
    ) -> inference.Prediction:
        """Predicted mean and linear predictor at ``X`` with standard errors and intervals.

        Delta method on the link scale: ``se(eta)^2 = x^T C x`` (``C = cov_params()``, so
        it follows ``cov_type``), the interval ``eta +- q se(eta)`` (t with
        ``df_resid_inference`` when ``use_t``, else normal) mapped through the inverse
        link, and ``mean_se = |dmu/deta| se(eta)``: statsmodels'
        ``get_prediction(...).summary_frame()``. See :class:`jaxglm.inference.Prediction`.
        (With ``cov_type="cluster"`` and ``use_t``, statsmodels' prediction intervals use
        ``df_resid`` while its p-values use ``G - 1``; here both use ``G - 1``.) ``X`` is
        checked as in :meth:`predict`.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.arange(8.0).reshape(-1, 1) / 8
            >>> res = jg.fit(X, np.array([1., 0, 2, 1, 3, 2, 4, 5]), family=jg.Poisson())
            >>> pred = res.get_prediction(X[:3], alpha=0.1)
            >>> list(pred.summary_frame().columns)
            ['mean', 'mean_se', 'mean_ci_lower', 'mean_ci_upper']
        """
        if np.ndim(self.status) != 0:
            raise ValueError("get_prediction describes one fit: index the batch first, res[i]")
        X = _new_rows(X, self.coef.shape[-1], self.feature_names, self.fit_intercept)
        dtype = self.coef.dtype
        X = X.astype(dtype) if isinstance(X, Design) else _host.to_device(X, dtype)
        if X.ndim != 2:
            raise ValueError(f"X must be (m, {self.coef.shape[-1]}), got shape {X.shape}")
        off = _offset(X.shape[0], offset, exposure, X.dtype)
        params = (
            self.params
            if self.fit_intercept
            else jnp.concatenate([jnp.zeros(1, X.dtype), self.coef])
        )
        return inference.predict_with_se(
            params, self.cov, X, off, jnp.asarray(alpha, X.dtype), self.df_resid_inference,
            self.family, self.link, fit_intercept=self.fit_intercept, use_t=self.use_t,
        )  # fmt: skip

    # ---- residuals and influence --------------------------------------------------------

    def _residuals(self, index: int) -> jax.Array:
        if self.fitted_rows is None:
            raise ValueError(
                "fitted values and residuals are kept for single fits of jaxglm.fit with "
                "concrete inputs; for a batch member or a traced fit use "
                "res.influence(X, y, ...) with the data"
            )
        return inference.residuals(self.fitted_rows, self.family, self.link)[index]

    @property
    def fittedvalues(self) -> jax.Array:
        """(n,) fitted means ``mu`` of the fit's rows (statsmodels' ``fittedvalues``).

        Kept for single fits of :func:`jaxglm.fit` with concrete inputs, which keep the
        linear predictor, response and prior weights (three n-vectors: the memory cost);
        batches and traced fits do not (``ValueError``: use :meth:`influence`).

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.arange(8.0).reshape(-1, 1) / 8
            >>> res = jg.fit(X, np.array([1., 0, 2, 1, 3, 2, 4, 5]), family=jg.Poisson())
            >>> round(float(res.fittedvalues.sum()), 3)      # = sum(y) with a log link
            18.0
            >>> res.resid_deviance.shape
            (8,)
        """
        return self._residuals(0)

    @property
    def resid_response(self) -> jax.Array:
        """(n,) ``y - mu`` (kept as :attr:`fittedvalues`)."""
        return self._residuals(1)

    @property
    def resid_pearson(self) -> jax.Array:
        """(n,) ``sqrt(w) (y - mu) / sqrt(V(mu))``, ``w`` the prior weights (kept as
        :attr:`fittedvalues`)."""
        return self._residuals(2)

    @property
    def resid_deviance(self) -> jax.Array:
        """(n,) ``sign(y - mu) sqrt(w d(y, mu))``, ``d`` the unit deviance (kept as
        :attr:`fittedvalues`)."""
        return self._residuals(3)

    @property
    def resid_working(self) -> jax.Array:
        """(n,) ``(y - mu) / (dmu/deta)`` (as :attr:`fittedvalues`)."""
        return self._residuals(4)

    def influence(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        weights: ArrayLike | None = None,
        freq_weights: ArrayLike | None = None,
        offset: ArrayLike | None = None,
        exposure: ArrayLike | None = None,
        observed: bool = True,
    ) -> inference.Influence:
        """Residuals, leverages and Cook's distances, from the data of the fit passed again.

        The result does not keep the data (it is a small pytree), so they are passed here:
        the same ``X, y`` and ``weights``/``freq_weights``/``offset``/``exposure`` as to
        :func:`jaxglm.fit`. When they are concrete, their ``nobs`` and deviance must equal
        the fit's (``ValueError`` otherwise). ``observed=True`` (statsmodels' default)
        builds the leverages from the observed Hessian, ``False`` from the expected one
        (R's ``hatvalues``); they coincide for a canonical link. See
        :class:`jaxglm.inference.Influence` for the definitions.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.arange(8.0).reshape(-1, 1) / 8
            >>> y = np.array([1., 0, 2, 1, 3, 2, 4, 5])
            >>> res = jg.fit(X, y, family=jg.Poisson())
            >>> infl = res.influence(X, y)
            >>> round(float(infl.hat_matrix_diag.sum()), 4)    # trace = number of params
            2.0
        """
        if np.ndim(self.status) != 0:
            raise ValueError("influence describes one fit: index the batch first, res[i]")
        dtype = self.coef.dtype
        X, y = _host.to_device(X, dtype), jnp.asarray(y, dtype)
        n = X.shape[0]
        if X.ndim != 2 or X.shape[1] != self.coef.shape[-1] or y.shape != (n,):
            raise ValueError(
                f"X must be (n, {self.coef.shape[-1]}) and y (n,), got {X.shape}, {y.shape}"
            )
        ones = jnp.ones(n, dtype)
        prior = ones if weights is None else jnp.asarray(weights, dtype)
        freq = ones if freq_weights is None else jnp.asarray(freq_weights, dtype)
        off = _offset(n, offset, exposure, dtype)
        params = (
            self.params if self.fit_intercept else jnp.concatenate([jnp.zeros(1, dtype), self.coef])
        )
        out = inference.influence(
            params, self.scale, X, y, prior, freq, off, self.family, self.link,
            fit_intercept=self.fit_intercept, observed=observed,
        )  # fmt: skip
        leaves = (X, y, prior, freq, off)
        if not any(isinstance(v, jax.core.Tracer) for v in (*leaves, self.coef)):
            nobs = float(jnp.sum(jnp.where(prior * freq > 0, freq, 0.0)))
            rtol = 1e-3 if dtype == jnp.float32 else 1e-6
            dev, ref = float(out.deviance), float(self.deviance)
            if nobs != float(self.nobs) or abs(dev - ref) > rtol * max(abs(ref), 1e-300):
                raise ValueError(
                    "these data are not the fit's: nobs "
                    f"{nobs:g} vs {float(self.nobs):g}, deviance {dev:.10g} vs {ref:.10g}"
                )
        return out

    # ---- batches ------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> GLMResult:
        """Member(s) of a batched result (from ``jax.vmap(fit)``)."""
        if np.ndim(self.status) == 0:
            raise TypeError("this result is a single fit, not a batch")
        return jax.tree.map(lambda x: x[index], self)

    # ---- summary ------------------------------------------------------------------------

    def summary(self, alpha: float = 0.05) -> Summary:
        """A statsmodels-like text table of the fit (one fit, not a batch): a
        :class:`Summary`, a ``str`` whose ``as_frame()``, ``to_latex()`` and ``to_html()``
        give the coefficient table for reports.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.linspace(0, 1, 30)[:, None]
            >>> s = jg.fit(X, 1.0 + 2.0 * X[:, 0] + np.sin(np.arange(30)) / 10).summary()
            >>> s.splitlines()[0].strip(), list(s.as_frame().columns[:2])
            ('Generalized Linear Model Results', ['coef', 'std err'])
        """
        if np.ndim(self.status) != 0:
            raise ValueError("summary() describes one fit: index the batch first, res[i]")
        return Summary(_summary(self, alpha), functools.partial(self.params_frame, alpha))

    def __repr__(self) -> str:
        shape = np.shape(self.status)
        kind = f"batch of {shape}" if shape else Status(int(self.status)).name.lower()
        return f"GLMResult({self.family.name}, {self.link.name}, {kind})"


def _status(code: Any) -> Status | jax.Array:
    """A concrete single fit's code as a :class:`Status` (it prints its name); a batch's,
    a traced or an abstract one (``jax.eval_shape``) as it is."""
    concrete = isinstance(code, jax.Array | np.ndarray | np.generic | int) and not isinstance(
        code, jax.core.Tracer
    )
    if not concrete or np.ndim(code) != 0:
        return code
    return Status(int(code))


def _check_columns(X: Any, n_features: int, feature_names: tuple[str, ...] | None) -> None:
    """Raise a ValueError unless ``X`` has the fit's columns (``predict`` and its kin).

    A data frame's column names (``X.columns``) must equal the fit's ``feature_names`` in
    the same order, as scikit-learn requires (no reordering by name); arrays, and fits
    without names, are checked by the column count only. Reads shapes only, so ``X`` may
    be a tracer.

    Args:
        X: the new design, without the intercept column.
        n_features: the fit's number of columns (the last axis of ``coef``).
        feature_names: the fit's column names, or None.
    """
    columns = getattr(X, "columns", None)
    if feature_names is not None and columns is not None:
        names = tuple(str(c) for c in columns)
        if names != tuple(feature_names):
            pairs = itertools.zip_longest(names, feature_names, fillvalue="(none)")
            i, (got, want) = next((i, ab) for i, ab in enumerate(pairs) if ab[0] != ab[1])
            missing = [name for name in feature_names if name not in names]
            raise ValueError(
                "X's feature names must be the fit's, in the same order: column "
                f"{i} is {got!r}, the fit's is {want!r}"
                + (f"; missing: {missing}" if missing else "")
            )
    shape = np.shape(X)
    if not shape or shape[-1] != n_features:
        raise ValueError(
            f"X has {shape[-1] if shape else 'no'} columns; the fit has {n_features} (the "
            "columns of the X passed to fit, without an intercept column)"
        )


def _new_rows(X: Any, n_features: int, feature_names: Any, fit_intercept: bool) -> Any:
    """``X`` of :meth:`GLMResult.predict` and its kin, checked by :func:`_check_columns`; a
    :class:`jaxglm.Design` with its reference levels set as in the fit. A design's column
    names are always checked against the fit's: a level it has and the fit had not (or the
    reverse) is named (build its blocks with ``jaxglm.categorical(values,
    levels=fit_levels)``: an unseen value then raises there)."""
    if not isinstance(X, Design):
        _check_columns(X, n_features, feature_names)
        return X
    X = X.for_model(fit_intercept)
    if feature_names is not None and X.columns != tuple(feature_names):
        unseen = [c for c in X.columns if c not in feature_names]
        absent = [c for c in feature_names if c not in X.columns]
        raise ValueError(
            "the design's columns are not the fit's: "
            + (f"not in the fit (unseen levels or columns): {unseen}; " if unseen else "")
            + (f"missing: {absent}; " if absent else "")
            + "build each categorical block with jaxglm.categorical(values, "
            "levels=<the fit's levels>) so that its levels are the fit's, in order"
        )
    _check_columns(X, n_features, None)
    return X


def _offset(n: int, offset: Any, exposure: Any, dtype: Any) -> jax.Array:
    off = jnp.zeros(n, dtype) if offset is None else jnp.asarray(offset, dtype)
    if exposure is not None:
        off = off + jnp.log(jnp.asarray(exposure, dtype))
    return jnp.broadcast_to(off, (n,))


def _summary(res: GLMResult, alpha: float) -> str:
    k = np.asarray(res.params).shape[-1]
    names = res.param_names
    column = max(14, 1 + max(map(len, names), default=0))  # whole names, as statsmodels
    width = max(78, column + 64)
    stat = "t" if res.use_t else "z"
    left = [
        ("Family:", res.family.name),
        ("Link:", res.link.name),
        ("Solver:", res.solver_name),
        ("Status:", Status(int(res.status)).name.lower()),
        ("Converged:", "yes" if bool(res.converged) else "no"),
        ("Iterations:", f"{int(res.n_iter)}"),
        ("Covariance type:", res.cov_type),
        ("Scale type:", res.scale_type),
        ("Inference:", "t" if res.use_t else "normal"),
    ]
    if res.cov_type == "cluster":
        left.append(("No. clusters:", _num(res.n_groups)))
    right = [
        ("No. observations:", _num(res.nobs)),
        ("Df residuals:", _num(res.df_resid)),
        ("Df model:", _num(res.df_model)),
        ("Scale:", f"{float(res.scale):.6g}"),
        ("Deviance:", f"{float(res.deviance):.6g}"),
        ("Null deviance:", f"{float(res.null_deviance):.6g}"),
        ("Pearson chi2:", f"{float(res.pearson_chi2):.6g}"),
        ("Log-likelihood:", f"{float(res.llf):.6g}"),
        ("AIC:", f"{float(res.aic):.6g}"),
        ("BIC:", f"{float(res.bic):.6g}"),
    ]
    lines = ["Generalized Linear Model Results".center(width), "=" * width]
    for i in range(max(len(left), len(right))):
        lk, lv = left[i] if i < len(left) else ("", "")
        rk, rv = right[i] if i < len(right) else ("", "")
        lines.append(f"{lk:<17}{lv:>20}  {rk:<19}{rv:>20}")
    lines.append("=" * width)
    lo_name, hi_name = f"[{alpha / 2:.3g}", f"{1 - alpha / 2:.3g}]"
    lines.append(
        f"{'':<{column}}{'coef':>10}{'std err':>10}{stat:>9}{'P>|' + stat + '|':>9}"
        f"{lo_name:>13}{hi_name:>13}"
    )
    lines.append("-" * width)
    params, bse = np.asarray(res.params), np.asarray(res.bse)
    tv, pv, ci = np.asarray(res.tvalues), np.asarray(res.pvalues), np.asarray(res.conf_int(alpha))
    for j in range(k):
        lines.append(
            f"{names[j]:<{column}}{params[j]:>10.4g}{bse[j]:>10.4g}{tv[j]:>9.3f}{pv[j]:>9.3f}"
            f"{ci[j, 0]:>13.4g}{ci[j, 1]:>13.4g}"
        )
    lines.append("=" * width)
    if int(res.status) != Status.CONVERGED:
        lines.append(f"Warning: {res.status_message}")
    return "\n".join(lines)


def _num(x: Any) -> str:
    v = float(x)
    return f"{v:.0f}" if v == round(v) else f"{v:.6g}"


def lr_test(
    restricted: GLMResult, full: GLMResult, test: str | None = None
) -> inference.HypothesisTest:
    """Likelihood-ratio (analysis of deviance) test of a restricted model in a full one.

    As R's ``anova(restricted, full, test=)`` on two glms: with ``J = df_resid`` of the
    restricted fit minus that of the full fit and ``phi`` the full fit's ``scale``,

    * ``test="chi2"``: ``(D_restricted - D_full) / phi`` on ``chi2(J)`` (R's
      ``test="Chisq"``; for Poisson, Binomial, Bernoulli ``phi = 1`` and this is
      ``2 (llf_full - llf_restricted)``);
    * ``test="F"``: ``(D_restricted - D_full) / J / phi`` on ``F(J, df_resid_full)``
      (R's ``test="F"``).

    The default is ``"F"`` when the full fit's scale is estimated (``scale_estimated``:
    a free-dispersion family, ``scale="X2"`` or ``"dev"``) and ``"chi2"`` otherwise. The
    test is likelihood based: it ignores ``cov_type``. The two fits must use the same data,
    family and link, with the restricted design nested in the full one: the columns are
    not checked; the degrees of freedom, ``nobs`` and the null deviance (the same rows,
    weights and offset) are, and a restricted fit with the smaller deviance is refused.

    Example:
        >>> import numpy as np, jaxglm as jg
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> y = rng.poisson(np.exp(0.3 + 0.4 * X[:, 0]))
        >>> full = jg.fit(X, y, family=jg.Poisson())
        >>> small = jg.fit(X[:, :1], y, family=jg.Poisson())
        >>> t = jg.lr_test(small, full)
        >>> t.distribution, float(t.df_num)
        ('chi2', 1.0)
    """
    for res in (restricted, full):
        if np.ndim(res.status) != 0:
            raise ValueError("lr_test compares two single fits: index batches first, res[i]")
    if (type(restricted.family), type(restricted.link)) != (type(full.family), type(full.link)):
        raise ValueError("lr_test needs the same family and link in both fits")
    J = float(restricted.df_resid) - float(full.df_resid)
    if not J > 0 or float(restricted.nobs) != float(full.nobs):
        raise ValueError(
            "restricted must be nested in full on the same data: need the same nobs and "
            f"fewer parameters (df_resid {float(restricted.df_resid):g} vs "
            f"{float(full.df_resid):g}, nobs {float(restricted.nobs):g} vs {float(full.nobs):g})"
        )
    # The same rows, weights and offset give the same null model: a fit on other data (or
    # with another offset or exposure) has another null deviance, and its deviance
    # difference is no likelihood ratio.
    null_r, null_f = float(restricted.null_deviance), float(full.null_deviance)
    if abs(null_r - null_f) > 1e-6 * max(abs(null_r), abs(null_f), 1e-12):
        raise ValueError(
            "restricted and full are not fits to the same data: their null deviances differ "
            f"({null_r:.8g} vs {null_f:.8g}); the rows, weights and offset/exposure must match"
        )
    dev_r, dev_f = float(restricted.deviance), float(full.deviance)
    if dev_r < dev_f - 1e-6 * max(abs(dev_f), 1e-12):
        raise ValueError(
            f"restricted has the smaller deviance ({dev_r:.8g} < {dev_f:.8g}): it is not "
            "nested in full"
        )
    test = ("F" if full.scale_estimated else "chi2") if test is None else test
    if test not in ("F", "chi2"):
        raise ValueError(f"test must be 'F', 'chi2' or None, got {test!r}")
    return _lr(restricted.deviance, full.deviance, full.scale, J, full.df_resid, test == "F")


@functools.partial(jax.jit, static_argnames=("use_f",))
def _lr(dev_r, dev_f, phi, J, df_denom, use_f):
    diff = (dev_r - dev_f) / phi
    J = jnp.asarray(J, diff.dtype)
    if use_f:
        return inference.HypothesisTest(diff / J, f_sf(diff / J, J, df_denom), J, df_denom, "F")
    return inference.HypothesisTest(
        diff, chi2_sf(diff, J), J, jnp.asarray(jnp.nan, diff.dtype), "chi2"
    )


@pytree_dataclass
class MultinomialResult:
    """A fitted multinomial regression; under ``jax.vmap`` every field gains a batch axis.

    Attributes:
        params: (p+1, m) coefficients, intercepts in row 0 (statsmodels' ``MNLogit``
            layout, column ``j`` for class ``j + 1``; all k classes when symmetric).
        cov: ((p+1) m, (p+1) m) covariance of ``params.ravel()`` (row-major), the inverse
            expected information or the sandwich of ``cov_type``; NaN for penalized fits.
        llf, llnull: log-likelihood of the fit and of the intercept-only model.
        deviance: ``2 (saturated - llf)``; ``-2 llf`` for labels and one-hot rows.
        aic, bic: ``-2 llf + 2 K`` and ``-2 llf + log(nobs) K``, ``K = (p+1) m`` (``p m``
            without an intercept).
        nobs, df_model, df_resid: rows with positive weight (frequency weights counted),
            ``p m``, ``nobs - K``.
        n_iter, status: Newton steps and :class:`jaxglm.Status` (as :class:`GLMResult`'s:
            the field is ``status_code``).
        family: the fitted :class:`jaxglm.Multinomial` (``n_classes`` set).
        fit_intercept, cov_type, solver_name, feature_names: as :class:`GLMResult`.
        n_groups: the number of clusters (``cov_type="cluster"``), else NaN.
        kkt_violation: ProxNewton's largest KKT violation at the solution, else NaN.
    """

    params: jax.Array
    cov: jax.Array
    llf: jax.Array
    llnull: jax.Array
    deviance: jax.Array
    aic: jax.Array
    bic: jax.Array
    nobs: jax.Array
    df_model: jax.Array
    df_resid: jax.Array
    n_iter: jax.Array
    status_code: jax.Array  # the Status integer(s); read it as ``status``
    family: Family
    fit_intercept: bool = static_field(default=True)
    cov_type: str = static_field(default="nonrobust")
    solver_name: str = static_field(default="Newton")
    feature_names: tuple[str, ...] | None = static_field(default=None)
    n_groups: jax.Array | None = None
    kkt_violation: jax.Array | None = None
    aliased: tuple[int, ...] = static_field(default=())  # always empty: no drop_collinear

    @property
    def coef(self) -> jax.Array:
        """(p, m) slopes."""
        return self.params[..., 1:, :]

    @property
    def intercept(self) -> jax.Array:
        """(m,) intercepts."""
        return self.params[..., 0, :]

    @property
    def converged(self) -> jax.Array:
        """Whether the fit converged."""
        return self.status == Status.CONVERGED

    @property
    def status(self) -> Status | jax.Array:
        """Why the fit stopped (as :attr:`GLMResult.status`)."""
        return _status(self.status_code)

    @property
    def status_message(self) -> str:
        """What the status code means (one fit)."""
        return Status(int(self.status)).message

    def cov_params(self) -> jax.Array:
        """The covariance of ``params.ravel()``."""
        return self.cov

    @property
    def bse(self) -> jax.Array:
        """(p+1, m) standard errors."""
        diag = jnp.diagonal(self.cov, axis1=-2, axis2=-1)
        return jnp.sqrt(diag).reshape(self.params.shape)

    @property
    def tvalues(self) -> jax.Array:
        """z statistics ``params / bse``."""
        return self.params / self.bse

    @property
    def pvalues(self) -> jax.Array:
        """Two-sided normal p-values (the scale is fixed at 1)."""
        return inference.normal_sf2(self.tvalues)

    def conf_int(self, alpha: float = 0.05) -> jax.Array:
        """(p+1, m, 2) Wald intervals of level ``1 - alpha`` (normal)."""
        half = jnp.asarray(inference.normal_isf2(alpha), self.params.dtype) * self.bse
        return jnp.stack([self.params - half, self.params + half], axis=-1)

    def predict(
        self, X: ArrayLike, offset: ArrayLike | None = None, which: str = "probability"
    ) -> jax.Array:
        """(n, k) class probabilities (rows sum to 1), class 0 first; with
        ``which="class"`` the (n,) most probable class codes.

        Raises:
            ValueError: ``X`` has not the fit's number of columns, or (a data frame) not
                the fit's ``feature_names`` in the same order.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.random.default_rng(1).normal(size=(300, 2))
            >>> res = jg.fit(X, np.arange(300) % 3, family=jg.Multinomial(3))
            >>> bool(np.allclose(res.predict(X).sum(1), 1.0))
            True
            >>> res.predict(X[:4], which="class").shape
            (4,)
        """
        if which not in ("probability", "class"):
            raise ValueError(f"which must be 'probability' or 'class', got {which!r}")
        X = _class_rows(X, self)
        eta = self.params[0] + _linalg.times(X, self.params[1:])
        if offset is not None:
            eta = eta + _class_offset(offset, eta.dtype)
        if not self.family.symmetric:
            eta = jnp.concatenate([jnp.zeros((*eta.shape[:-1], 1), eta.dtype), eta], axis=-1)
        if which == "class":
            return jnp.argmax(eta, axis=-1)
        return jax.nn.softmax(eta, axis=-1)

    def get_prediction(
        self, X: ArrayLike, offset: ArrayLike | None = None, alpha: float = 0.05
    ) -> inference.Prediction:
        """Class probabilities and linear predictors at ``X`` with delta-method standard
        errors and normal intervals (statsmodels' ``MNLogit.get_prediction``).

        ``mean`` (n, k) are the probabilities, ``mean_se^2 = J C J^T`` with ``J`` the
        Jacobian of a probability in ``params`` and ``C = cov_params()``, the interval
        ``mean +- z mean_se``; ``linear`` (n, m) the natural parameters of the classes of
        ``theta`` with ``x^T C_j x`` and ``linear +- z linear_se``.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.random.default_rng(1).normal(size=(300, 2))
            >>> res = jg.fit(X, np.arange(300) % 3, family=jg.Multinomial(3))
            >>> res.get_prediction(X[:4]).mean_se.shape
            (4, 3)
        """
        if np.ndim(self.status) != 0:
            raise ValueError("get_prediction describes one fit: index the batch first, res[i]")
        dtype = self.params.dtype
        X = _class_rows(X, self)
        off = jnp.zeros((), dtype) if offset is None else _class_offset(offset, dtype)
        return _multinomial_prediction(self, X, off, jnp.asarray(alpha, dtype))

    def summary(self, alpha: float = 0.05) -> Summary:
        """A statsmodels-like text table, one block per non-reference class (a
        :class:`Summary`: its ``as_frame()`` is indexed by class and term)."""
        if np.ndim(self.status) != 0:
            raise ValueError("summary() describes one fit: index the batch first, res[i]")
        params, bse = np.asarray(self.params), np.asarray(self.bse)
        z, pv = np.asarray(self.tvalues), np.asarray(self.pvalues)
        ci = np.asarray(self.conf_int(alpha))
        p = params.shape[0] - 1
        names = ["Intercept", *(self.feature_names or [f"x{j + 1}" for j in range(p)])]
        first = 0 if self.family.symmetric else 1
        column = max(18, 1 + max(len(str(name)) for name in names))  # whole names
        width = column + 60
        lines = [
            "Multinomial regression results".center(width), "=" * width,
            f"Classes: {self.family.n_classes} (reference: "
            f"{'none, symmetric' if self.family.symmetric else 'class 0'})   "
            f"No. observations: {float(self.nobs):g}   Df model: {float(self.df_model):g}",
            f"Log-likelihood: {float(self.llf):.6g}   LL-null: {float(self.llnull):.6g}   "
            f"Deviance: {float(self.deviance):.6g}",
            f"AIC: {float(self.aic):.6g}   BIC: {float(self.bic):.6g}   Iterations: "
            f"{int(self.n_iter)}   Status: {self.status_message}",
        ]  # fmt: skip
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        for j in range(params.shape[1]):
            header = f"{'coef':>10}{'std err':>11}{'z':>9}{'P>|z|':>9}{lo:>10}{hi:>10}"
            lines += ["-" * width, f"class {j + first}".ljust(column) + header]
            for i, name in enumerate(names):
                lines.append(
                    f"{name!s:<{column}}{params[i, j]:>10.4f}{bse[i, j]:>11.4f}{z[i, j]:>9.3f}"
                    f"{pv[i, j]:>9.3f}{ci[i, j, 0]:>10.4f}{ci[i, j, 1]:>10.4f}"
                )
        lines.append("=" * width)
        return Summary("\n".join(lines), functools.partial(self._params_frame, names, alpha))

    def _params_frame(self, names: list[str], alpha: float) -> Any:
        import pandas as pd

        ci = np.asarray(self.conf_int(alpha))
        first = 0 if self.family.symmetric else 1
        columns = {
            "coef": self.params, "std err": self.bse, "z": self.tvalues,
            "P>|z|": self.pvalues, f"[{alpha / 2:g}": ci[..., 0], f"{1 - alpha / 2:g}]": ci[..., 1],
        }  # fmt: skip
        m = np.shape(self.params)[1]
        classes = range(first, m + first)
        index = pd.MultiIndex.from_product([classes, names], names=["class", "term"])
        values = {k: np.asarray(v).T.reshape(-1) for k, v in columns.items()}
        return pd.DataFrame(values, index=index)

    def __getitem__(self, index: Any) -> MultinomialResult:
        """Member ``index`` of a batched result."""
        return jax.tree.map(lambda leaf: leaf[index], self)


def _class_offset(offset: ArrayLike, dtype: jnp.dtype) -> jax.Array:
    """A prediction's offset against the (n, m) natural parameters: an (n,) offset is added
    to every class, as in the fit; an (n, m) one per class."""
    off = jnp.asarray(offset, dtype)
    return off[:, None] if off.ndim == 1 else off


def _class_rows(X: Any, res: MultinomialResult) -> jax.Array | Design:
    """``X`` of :meth:`MultinomialResult.predict` and its kin, checked (:func:`_new_rows`),
    in the fit's dtype."""
    X = _new_rows(X, res.params.shape[-2] - 1, res.feature_names, res.fit_intercept)
    dtype = res.params.dtype
    return X.astype(dtype) if isinstance(X, Design) else _host.to_device(X, dtype)


def _multinomial_prediction(
    res: MultinomialResult, X: jax.Array | Design, offset: jax.Array, alpha: jax.Array
) -> inference.Prediction:
    def natural(params):
        return params[0] + _linalg.times(X, params[1:]) + offset

    def probabilities(params):
        eta = natural(params)
        if not res.family.symmetric:
            eta = jnp.concatenate([jnp.zeros((*eta.shape[:-1], 1), eta.dtype), eta], axis=-1)
        return jax.nn.softmax(eta, axis=-1)

    def with_se(f):
        value = f(res.params)
        J = jax.jacrev(f)(res.params).reshape(*value.shape, -1)
        se = jnp.sqrt(jnp.einsum("nka,ab,nkb->nk", J, res.cov, J))
        half = inference.normal_isf2(alpha) * se
        return value, se, value - half, value + half

    return inference.Prediction(*with_se(probabilities), *with_se(natural))
