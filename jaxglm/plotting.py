"""Figures of fits, paths, cross-validation and bootstraps (needs matplotlib).

Install with ``pip install "jaxglm[plot]"``. matplotlib is imported when a function is
called, never at ``import jaxglm``. Every function draws on ``ax`` when given (a matplotlib
``Axes``; default: a new figure) and returns the ``Figure``.

- :func:`plot_coefficients`: estimates with their confidence intervals.
- :func:`plot_residuals`: deviance residuals against fitted means.
- :func:`plot_qq`: normal QQ plot of the deviance residuals.
- :func:`plot_calibration`: binned observed against predicted means (Bernoulli, Binomial,
  Poisson).
- :func:`plot_bootstrap`: the bootstrap distribution of each parameter, with its interval.
- :func:`plot_path`, :func:`plot_cv`: a regularization path and a cross-validation curve.

The residual, QQ and calibration plots read the rows a single concrete fit keeps
(:attr:`jaxglm.GLMResult.fittedvalues`). A :class:`jaxglm.FormulaResult` works wherever a
:class:`jaxglm.GLMResult` does.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, jaxglm as jg
    >>> from jaxglm.plotting import plot_path
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> fig = plot_path(jg.path(X, X[:, 0] + 0.1, n_alphas=5))
    >>> len(fig.axes[0].get_lines())
    3
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jax.scipy import special

from jaxglm import families as F
from jaxglm.paths import CVResult, PathResult
from jaxglm.results import GLMResult
from jaxglm.sweeps import BootstrapResult

__all__ = [
    "calibration_bins",
    "plot_bootstrap",
    "plot_calibration",
    "plot_coefficients",
    "plot_cv",
    "plot_path",
    "plot_qq",
    "plot_residuals",
]


def _axes(ax: Any) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError('plotting needs matplotlib: pip install "jaxglm[plot]"') from err
    return plt.subplots()[1] if ax is None else ax


def _glm(res: Any) -> GLMResult:
    """The :class:`GLMResult` of a fit (a formula fit's ``result``); one GLM, not a batch."""
    res = getattr(res, "result", res)
    if not isinstance(res, GLMResult) or np.ndim(res.intercept) != 0:
        raise ValueError("this plot is for one GLM fit (not a batch or a Multinomial fit)")
    return res


def plot_coefficients(res: Any, alpha: float = 0.05, intercept: bool = True, ax: Any = None) -> Any:
    """Each parameter's estimate (a point) and ``conf_int(alpha)`` (a horizontal bar),
    with a line at 0; returns the Figure.

    Args:
        res: a :func:`jaxglm.fit` or :func:`jaxglm.glm` result.
        alpha: the intervals' significance level (0.05: 95% intervals).
        intercept: draw the intercept too (when fitted).
        ax: matplotlib axes to draw on (default: a new figure).

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, jaxglm as jg
        >>> from jaxglm.plotting import plot_coefficients
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> fig = plot_coefficients(jg.fit(X, X @ [1.0, -1.0] + 0.5), intercept=False)
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['x1', 'x2']
    """
    r = _glm(res)
    ax = _axes(ax)
    params, ci, names = np.asarray(r.params), np.asarray(r.conf_int(alpha)), r.param_names
    if r.fit_intercept and not intercept:
        params, ci, names = params[1:], ci[1:], names[1:]
    position = np.arange(len(params))[::-1]  # the first parameter on top
    ax.errorbar(params, position, xerr=[params - ci[:, 0], ci[:, 1] - params], fmt="o",
                capsize=3, label=f"estimate, {100 * (1 - alpha):g}% interval")  # fmt: skip
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_yticks(position, names)
    ax.set_xlabel("coefficient")
    ax.legend(loc="best")
    return ax.figure


def _rows(res: Any) -> tuple[GLMResult, np.ndarray, np.ndarray]:
    r = _glm(res)
    return r, np.asarray(r.fittedvalues), np.asarray(r.resid_deviance)


def plot_residuals(res: Any, ax: Any = None) -> Any:
    """Deviance residuals against the fitted means ``mu``, with a line at 0; returns the
    Figure. A trend or a funnel says the link or the variance function is off.

    Args:
        res: a single :func:`jaxglm.fit` or :func:`jaxglm.glm` result with concrete inputs.
        ax: matplotlib axes to draw on (default: a new figure).
    """
    _, mu, resid = _rows(res)
    ax = _axes(ax)
    ax.scatter(mu, resid, s=8, alpha=0.6)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("fitted mean")
    ax.set_ylabel("deviance residual")
    return ax.figure


def plot_qq(res: Any, ax: Any = None) -> Any:
    """Normal QQ plot of the deviance residuals over ``sqrt(scale)``: the sorted residuals
    against the normal quantiles at ``(i - 0.5) / n``, with the line ``y = x``; returns the
    Figure. (For discrete responses with small means the points are expected to bend
    away from the line.)

    Args:
        res: a single :func:`jaxglm.fit` or :func:`jaxglm.glm` result with concrete inputs.
        ax: matplotlib axes to draw on (default: a new figure).
    """
    r, _, resid = _rows(res)
    standardized = np.sort(resid / np.sqrt(float(r.scale)))
    n = standardized.shape[0]
    quantiles = np.asarray(special.ndtri((np.arange(1, n + 1) - 0.5) / n))
    ax = _axes(ax)
    ax.plot(quantiles, standardized, "o", ms=3, label="deviance residuals")
    ends = [quantiles[0], quantiles[-1]]
    ax.plot(ends, ends, color="grey", linewidth=0.8, label="y = x")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel("standardized deviance residual")
    ax.legend(loc="best")
    return ax.figure


def calibration_bins(res: Any, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(predicted, observed, weight)`` per bin of :func:`plot_calibration`.

    The rows are sorted by fitted mean and cut into ``n_bins`` groups of (nearly) equal
    count; in each, ``predicted = sum(w mu) / sum(w)`` and ``observed = sum(w y) / sum(w)``
    with ``w`` the prior weights (Binomial: the trials, ``y`` the proportion), and
    ``weight = sum(w)``.

    Raises:
        ValueError: a family other than Bernoulli, Binomial or Poisson.
    """
    family = _glm(res).family
    if not isinstance(family, F.Bernoulli | F.Binomial | F.Poisson):
        raise ValueError(f"calibration is for Bernoulli, Binomial and Poisson fits, not "
                         f"{family.name}")  # fmt: skip
    r, mu, _ = _rows(res)
    y, w = np.asarray(r.fitted_rows.y), np.asarray(r.fitted_rows.prior)
    bins = np.array_split(np.argsort(mu, kind="stable"), n_bins)
    weight = np.array([w[b].sum() for b in bins])
    predicted = np.array([(w[b] * mu[b]).sum() for b in bins]) / weight
    observed = np.array([(w[b] * y[b]).sum() for b in bins]) / weight
    return predicted, observed, weight


def plot_calibration(res: Any, n_bins: int = 10, ax: Any = None) -> Any:
    """Observed against predicted means in ``n_bins`` bins of the fitted mean
    (:func:`calibration_bins`), with the diagonal; returns the Figure.

    Args:
        res: a single Bernoulli, Binomial or Poisson fit with concrete inputs.
        n_bins: number of bins of (nearly) equal row count.
        ax: matplotlib axes to draw on (default: a new figure).

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, jaxglm as jg
        >>> from jaxglm.plotting import plot_calibration
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(400, 2))
        >>> y = rng.binomial(1, 1 / (1 + np.exp(-X[:, 0])))
        >>> fig = plot_calibration(jg.fit(X, y, jg.Bernoulli()), n_bins=5)
        >>> len(fig.axes[0].get_lines()[0].get_xdata())
        5
    """
    predicted, observed, _ = calibration_bins(res, n_bins)
    ax = _axes(ax)
    ax.plot(predicted, observed, "o-", label="binned rows")
    ends = [min(predicted.min(), observed.min()), max(predicted.max(), observed.max())]
    ax.plot(ends, ends, color="grey", linewidth=0.8, label="observed = predicted")
    ax.set_xlabel("mean predicted")
    ax.set_ylabel("mean observed")
    ax.legend(loc="best")
    return ax.figure


def plot_bootstrap(result: BootstrapResult, names: list[str] | None = None, ax: Any = None) -> Any:
    """One violin per parameter (the successful replicates' distribution) with its
    percentile interval (a black bar) and the fit's estimate (a dot); returns the Figure.

    Args:
        result: a :func:`jaxglm.bootstrap` result of a GLM (not Multinomial).
        names: the parameters' names (default: the fit's ``param_names``).
        ax: matplotlib axes to draw on (default: a new figure).
    """
    fit = _glm(result.fit)
    draws = np.asarray(result.params)
    draws = draws[np.all(np.isfinite(draws), axis=1)]
    names = fit.param_names if names is None else names
    position = np.arange(draws.shape[1])
    ax = _axes(ax)
    ax.violinplot([draws[:, j] for j in position], positions=position, showextrema=False)
    ci = np.asarray(result.conf_int)
    ax.vlines(position, ci[:, 0], ci[:, 1], color="black", linewidth=2,
              label="percentile interval")  # fmt: skip
    ax.plot(position, np.asarray(fit.params), "o", color="black", ms=4, label="estimate")
    ax.set_xticks(position, names, rotation=45, ha="right")
    ax.set_ylabel("bootstrap replicates")
    ax.legend(loc="best")
    return ax.figure


def plot_path(
    result: PathResult, ax: Any = None, names: list[str] | None = None, max_labels: int = 10
) -> Any:
    """Coefficients against ``log10(alpha)``, one line per feature; returns the Figure.

    With ``names``, the legend sits outside the axes, on the right (it never covers the
    curves) and names the ``max_labels`` features with the largest absolute coefficient
    at the smallest alpha; its title counts the others.

    Args:
        result: a :func:`jaxglm.path` result (one GLM, not Multinomial).
        ax: matplotlib axes to draw on (default: a new figure).
        names: feature names for the legend (default: the path's ``feature_names``, a
            frame's columns or a formula's terms; none drawn for an unnamed path).
        max_labels: at most this many features in the legend.
    """
    ax = _axes(ax)
    names = names if names is not None else result.feature_names
    x = np.log10(np.asarray(result.alphas))
    coef = np.asarray(result.coef)
    shown = set(np.argsort(-np.abs(coef[-1]), kind="stable")[:max_labels].tolist())
    for j in range(coef.shape[1]):
        label = names[j] if names is not None and j in shown else None
        ax.plot(x, coef[:, j], label=label)
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("coefficient")
    ax.invert_xaxis()
    if names is not None:
        hidden = coef.shape[1] - len(shown)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  title=f"largest {len(shown)} (+{hidden} more)" if hidden else None)  # fmt: skip
    return ax.figure


def plot_cv(result: CVResult, ax: Any = None) -> Any:
    """Held-out mean deviance +- one SE against ``log10(alpha)``, with ``alpha_min`` (dashed)
    and ``alpha_1se`` (dotted) marked and named in the legend; returns the Figure.

    Args:
        result: a :func:`jaxglm.cv` result.
        ax: matplotlib axes to draw on (default: a new figure).
    """
    ax = _axes(ax)
    x = np.log10(np.asarray(result.path.alphas))
    ax.errorbar(x, np.asarray(result.mean), yerr=np.asarray(result.se), fmt="o", ms=3,
                label="held-out deviance +- 1 SE")  # fmt: skip
    for name, alpha, style in (("alpha_min", result.alpha_min, "--"),
                               ("alpha_1se", result.alpha_1se, ":")):  # fmt: skip
        ax.axvline(np.log10(float(alpha)), color="grey", linestyle=style,
                   label=f"{name} = {float(alpha):.3g}")  # fmt: skip
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("held-out deviance")
    ax.invert_xaxis()
    ax.legend(loc="best")
    return ax.figure
