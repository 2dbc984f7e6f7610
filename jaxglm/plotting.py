"""Plots of a regularization path and a cross-validation curve (needs matplotlib).

Install with ``pip install "jaxglm[plot]"``. matplotlib is imported when a function is
called, never at ``import jaxglm``.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, jaxglm as jg
    >>> from jaxglm.plotting import plot_path
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> ax = plot_path(jg.path(X, X[:, 0] + 0.1, n_alphas=5))
    >>> len(ax.get_lines())
    3
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxglm.paths import CVResult, PathResult

__all__ = ["plot_cv", "plot_path"]


def _axes(ax: Any) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError('plotting needs matplotlib: pip install "jaxglm[plot]"') from err
    return plt.subplots()[1] if ax is None else ax


def plot_path(result: PathResult, ax: Any = None, names: list[str] | None = None) -> Any:
    """Coefficients against ``log10(alpha)``, one line per feature; returns the axes.

    Args:
        result: a :func:`jaxglm.path` result.
        ax: matplotlib axes to draw on (default: a new figure).
        names: feature names for the legend (default: none drawn).
    """
    ax = _axes(ax)
    x = np.log10(np.asarray(result.alphas))
    coef = np.asarray(result.coef)
    for j in range(coef.shape[1]):
        ax.plot(x, coef[:, j], label=None if names is None else names[j])
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("coefficient")
    ax.invert_xaxis()
    if names is not None:
        ax.legend()
    return ax


def plot_cv(result: CVResult, ax: Any = None) -> Any:
    """Held-out mean deviance +- one SE against ``log10(alpha)``, with ``alpha_min`` and
    ``alpha_1se`` marked; returns the axes."""
    ax = _axes(ax)
    x = np.log10(np.asarray(result.path.alphas))
    ax.errorbar(x, np.asarray(result.mean), yerr=np.asarray(result.se), fmt="o", ms=3)
    for alpha, style in ((result.alpha_min, "--"), (result.alpha_1se, ":")):
        ax.axvline(np.log10(float(alpha)), color="grey", linestyle=style)
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("held-out deviance")
    ax.invert_xaxis()
    return ax
