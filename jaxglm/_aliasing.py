"""R's aliasing rule for collinear columns, and the columns of a separated fit (host side,
concrete inputs only)."""

from __future__ import annotations

from typing import Any

import numpy as np

_ALIAS_TOL = 1e-7  # R's qr() / lm tolerance


def aliased(X, weights, freq_weights, alpha, fit_intercept) -> tuple[int, ...]:
    """:func:`aliased_columns` of the rows with positive weight; none under a ridge penalty
    (which identifies every coefficient)."""
    if np.any(np.asarray(alpha, float) > 0):
        return ()
    w = np.ones(np.shape(X)[0])
    for v in (weights, freq_weights):
        w = w if v is None else w * np.asarray(v, float)
    return aliased_columns(np.asarray(X, float), w > 0, fit_intercept)


def aliased_columns(X: np.ndarray, rows: np.ndarray, fit_intercept: bool) -> tuple[int, ...]:
    """Indices of the columns of ``X`` aliased with earlier columns of ``[1, X]`` (R's rule).

    Sequential Gram-Schmidt in column order (what R's ``dqrdc2`` limited pivoting decides):
    column ``j`` is aliased when the norm of its residual on the kept earlier columns is
    below ``1e-7`` times its own norm; an all-zero column is aliased.
    """
    Xr = X[rows]
    # Fast path (one LAPACK call): with no tiny diagonal in an unpivoted QR nothing is aliased.
    A = np.column_stack([np.ones(len(Xr)), Xr]) if fit_intercept else Xr
    if A.shape[0] >= A.shape[1]:
        diag = np.abs(np.diagonal(np.linalg.qr(A, mode="r")))
        if np.all(diag > _ALIAS_TOL * np.linalg.norm(A, axis=0)):
            return ()
    basis = [np.ones(len(Xr)) / np.sqrt(len(Xr))] if fit_intercept else []
    out = []
    for j in range(Xr.shape[1]):
        col = Xr[:, j]
        norm = np.linalg.norm(col)
        r = col.copy()
        for _ in range(2):  # twice is enough (Kahan-Parlett re-orthogonalization)
            for q in basis:
                r = r - (q @ r) * q
        rn = np.linalg.norm(r)
        if norm == 0 or rn <= _ALIAS_TOL * norm:
            out.append(j)
        else:
            basis.append(r / rn)
    return tuple(out)


def names(cols: tuple[int, ...], feature_names: tuple[str, ...] | None) -> list:
    return [feature_names[j] for j in cols] if feature_names else list(cols)


def separating_columns(X: np.ndarray, res: Any) -> tuple[int, ...]:
    """Columns whose standardized coefficient ``|beta_j| sd(x_j)`` diverges.

    Those at least a tenth of the largest and above 5 (odds ratio e^5 per standard
    deviation): at a separated fit the diverging direction dominates the coefficients.
    """
    z = np.abs(np.asarray(res.coef)) * np.std(X, axis=0)
    z = np.where(np.isfinite(z), z, 0.0)
    if z.size == 0:
        return ()
    return tuple(int(j) for j in np.flatnonzero((z >= 0.1 * z.max()) & (z > 5.0)))
