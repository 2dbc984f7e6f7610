"""Fit results: :class:`GLMResult` (a pytree) and the :class:`Status` codes."""

from __future__ import annotations

import enum
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxglm import inference
from jaxglm import model as M
from jaxglm._pytree import pytree_dataclass, static_field
from jaxglm.families import Family
from jaxglm.links import Link

__all__ = ["ConvergenceWarning", "GLMResult", "Status"]


class ConvergenceWarning(UserWarning):
    """A concrete fit ended without converging (see ``res.status_message``)."""


class Status(enum.IntEnum):
    """Why a fit stopped; ``res.status`` holds the integer, per batch member."""

    CONVERGED = 0
    MAX_ITER = 1
    NONFINITE = 2
    RANK_DEFICIENT = 3
    LINE_SEARCH_FAILED = 4
    RUNNING = 5  # internal: never in a returned result

    @property
    def message(self) -> str:
        """What happened and what to do about it."""
        return _MESSAGES[self]


_MESSAGES = {
    Status.CONVERGED: "converged",
    Status.MAX_ITER: "stopped at max_iter before converging: raise max_iter or loosen tol",
    Status.NONFINITE: (
        "the objective or its gradient became NaN/inf: check the data (NaN, y outside the "
        "family's support, huge values) and the link's mean range"
    ),
    Status.RANK_DEFICIENT: (
        "the Newton system is singular to working precision: the design has collinear or "
        "constant columns (or is too ill-conditioned for float32); drop or rescale columns, "
        "or use float64"
    ),
    Status.LINE_SEARCH_FAILED: (
        "the line search found no decrease along a descent direction: the problem may be "
        "ill-conditioned or the MLE may not exist (separation)"
    ),
    Status.RUNNING: "still running (internal state, never returned)",
}


@pytree_dataclass
class GLMResult:
    """The result of :func:`jaxglm.fit`; a pytree, so fits can be jitted and vmapped.

    Definitions follow R's ``glm()`` / ``summary.glm``: ``scale`` is Pearson chi2 /
    ``df_resid`` for families with a free dispersion (Gaussian, Gamma, InverseGaussian,
    Tweedie) and 1 otherwise; ``cov_params()`` is ``scale`` times the inverse expected
    information; ``llf``/``aic``/``bic`` are R's ``logLik``/``AIC``/``BIC`` (for
    Gaussian the likelihood's dispersion is ``deviance / nobs``, for Gamma and
    InverseGaussian ``deviance / sum(w)``, and AIC counts it as a parameter). statsmodels
    differs there: its ``llf`` uses the Pearson scale and its ``bic`` is deviance based.
    For a penalized fit (``alpha > 0``) ``bse`` (and everything derived from it), ``aic``
    and ``bic`` are NaN: the plain inverse information is not a covariance of a
    penalized estimator. Tweedie with power outside {0, 1, 2, 3} has NaN ``llf``.

    Under ``jax.vmap`` every field gains the batch axis in front; index with ``res[i]``
    to get one member.
    """

    coef: jax.Array
    intercept: jax.Array
    cov: jax.Array  # (p+1, p+1), intercept first, scaled
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
    status: jax.Array
    family: Family
    link: Link
    fit_intercept: bool = static_field(default=True)
    use_t: bool = static_field(default=False)
    cov_type: str = static_field(default="nonrobust")
    solver_name: str = static_field(default="Newton")
    feature_names: tuple[str, ...] | None = static_field(default=None)

    # ---- parameters and their inference ------------------------------------------------

    @property
    def params(self) -> jax.Array:
        """Intercept first (when fitted), then ``coef``: statsmodels' order with a constant."""
        if not self.fit_intercept:
            return self.coef
        return jnp.concatenate([self.intercept[..., None], self.coef], axis=-1)

    def cov_params(self) -> jax.Array:
        """Covariance of :attr:`params` (``scale`` x inverse expected information)."""
        return self.cov if self.fit_intercept else self.cov[..., 1:, 1:]

    @property
    def bse(self) -> jax.Array:
        """Standard errors of :attr:`params`."""
        return jnp.sqrt(jnp.diagonal(self.cov_params(), axis1=-2, axis2=-1))

    @property
    def tvalues(self) -> jax.Array:
        """Wald statistics ``params / bse`` (z for fixed-scale families, t otherwise)."""
        return self.params / self.bse

    @property
    def pvalues(self) -> jax.Array:
        """Two-sided p-values: t with ``df_resid`` where the scale is estimated, else normal."""
        if self.use_t:
            return inference.t_sf2(self.tvalues, self.df_resid[..., None])
        return inference.normal_sf2(self.tvalues)

    def conf_int(self, alpha: float = 0.05) -> jax.Array:
        """``(k, 2)`` Wald intervals of level ``1 - alpha`` (t or normal, as :attr:`pvalues`)."""
        if self.use_t:
            q = inference.t_isf2(alpha, self.df_resid)[..., None]
        else:
            q = inference.normal_isf2(alpha)
        q = jnp.asarray(q, self.params.dtype)
        half = q * self.bse
        return jnp.stack([self.params - half, self.params + half], axis=-1)

    # ---- status -------------------------------------------------------------------------

    @property
    def converged(self) -> jax.Array:
        """``status == Status.CONVERGED``, per batch member."""
        return self.status == Status.CONVERGED

    @property
    def status_message(self) -> str | list:
        """Host-side text for :attr:`status` (a nested list for a batch)."""
        codes = np.asarray(self.status)
        if codes.ndim == 0:
            return Status(int(codes)).message
        return np.vectorize(lambda c: Status(int(c)).message, otypes=[object])(codes).tolist()

    # ---- prediction ---------------------------------------------------------------------

    def predict(
        self, X: ArrayLike, offset: ArrayLike | None = None, which: str = "mean"
    ) -> jax.Array:
        """Predicted mean (``which="mean"``) or linear predictor (``"linear"``) for ``X``.

        Example:
            >>> import numpy as np, jaxglm as jg
            >>> X = np.arange(8.0).reshape(-1, 1) / 8
            >>> res = jg.fit(X, np.array([1., 0, 2, 1, 3, 2, 4, 5]), family=jg.Poisson())
            >>> res.predict(X[:2]).shape
            (2,)
        """
        X = jnp.asarray(X, self.coef.dtype)
        eta = self.intercept[..., None] + jnp.matmul(X, self.coef[..., None])[..., 0]
        if offset is not None:
            eta = eta + jnp.asarray(offset, eta.dtype)
        if which == "linear":
            return eta
        if which == "mean":
            return M.mean_from_eta(self.family, self.link, eta)
        raise ValueError(f"which must be 'mean' or 'linear', got {which!r}")

    # ---- batches ------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> GLMResult:
        """Member(s) of a batched result (from ``jax.vmap(fit)``)."""
        if np.ndim(self.status) == 0:
            raise TypeError("this result is a single fit, not a batch")
        return jax.tree.map(lambda x: x[index], self)

    # ---- summary ------------------------------------------------------------------------

    def summary(self, alpha: float = 0.05) -> str:
        """A statsmodels-like text table of the fit (one fit, not a batch)."""
        if np.ndim(self.status) != 0:
            raise ValueError("summary() describes one fit: index the batch first, res[i]")
        return _summary(self, alpha)

    def __repr__(self) -> str:
        shape = np.shape(self.status)
        kind = f"batch of {shape}" if shape else Status(int(self.status)).name.lower()
        return f"GLMResult({self.family.name}, {self.link.name}, {kind})"


def _summary(res: GLMResult, alpha: float) -> str:
    k = np.asarray(res.params).shape[-1]
    names = (
        list(res.feature_names)
        if res.feature_names
        else [f"x{j + 1}" for j in range(np.asarray(res.coef).shape[-1])]
    )
    if res.fit_intercept:
        names = ["Intercept", *names]
    width = 78
    stat = "t" if res.use_t else "z"
    left = [
        ("Family:", res.family.name),
        ("Link:", res.link.name),
        ("Solver:", res.solver_name),
        ("Status:", Status(int(res.status)).name.lower()),
        ("Iterations:", f"{int(res.n_iter)}"),
        ("Covariance type:", res.cov_type),
    ]
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
        f"{'':<14}{'coef':>10}{'std err':>10}{stat:>9}{'P>|' + stat + '|':>9}"
        f"{lo_name:>13}{hi_name:>13}"
    )
    lines.append("-" * width)
    params, bse = np.asarray(res.params), np.asarray(res.bse)
    tv, pv, ci = np.asarray(res.tvalues), np.asarray(res.pvalues), np.asarray(res.conf_int(alpha))
    for j in range(k):
        name = names[j] if len(names[j]) <= 13 else names[j][:12] + "~"
        lines.append(
            f"{name:<14}{params[j]:>10.4g}{bse[j]:>10.4g}{tv[j]:>9.3f}{pv[j]:>9.3f}"
            f"{ci[j, 0]:>13.4g}{ci[j, 1]:>13.4g}"
        )
    lines.append("=" * width)
    if int(res.status) != Status.CONVERGED:
        lines.append(f"Warning: {res.status_message}")
    return "\n".join(lines)


def _num(x: Any) -> str:
    v = float(x)
    return f"{v:.0f}" if v == round(v) else f"{v:.6g}"
