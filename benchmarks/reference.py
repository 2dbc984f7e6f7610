"""Tight float64 reference solutions: a damped Newton method in NumPy.

For each problem the maximum-likelihood ``params = (intercept, coef)`` is found by Newton's
method on the summed negative log-likelihood (observed Hessian, columns equilibrated before
the Cholesky factorization, Armijo backtracking), iterated until the Newton step is below
``STEP_TOL`` standard errors. The standard errors come from the expected information,
``cov = phi * inv(X1^T diag(w) X1)`` with ``X1 = [1, X]``, ``w = (dmu/deta)^2 / V(mu)`` and
``phi`` = Pearson chi2 / (n - p - 1) for the Gamma family (1 otherwise), as R's
``summary.glm`` and statsmodels report them. References are cached under
``benchmarks/_cache/``.

Every Gram product is accumulated over blocks of rows (:data:`BLOCK_ENTRIES` entries of
``X`` each, by BLAS ``syrk``), so that no second ``n x p`` array is made: at n = 100,000,
p = 5,000 the design alone is 4 GB. There each product costs ``n p^2 = 2.5e12``
multiply-adds, so :func:`reference_solution` accepts a ``start``: Newton then begins at
those parameters (e.g. a tight fit of either tool) instead of the intercept-only model. The
start only saves iterations: the reference is still whatever meets its own certificate,
a Newton step below ``STEP_TOL`` standard errors computed here in NumPy from the data, so
it is computed by neither tool whichever start it was given. For the logistic and Poisson
families (canonical links: observed and expected information coincide) the standard errors
come from the last iteration's factorization, whose parameters are within ``STEP_TOL``
standard errors of the answer, so that a close start costs two Gram products in all.

Example:
    >>> from benchmarks.problems import load_problem, problem_specs
    >>> ref = reference_solution(load_problem(problem_specs(quick=True)[0]))
    >>> ref.params.shape, ref.bse.shape
    ((101,), (101,))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit

from benchmarks.problems import CACHE_DIR, GENERATOR_VERSION, Family, Problem

#: Stop when every component of the Newton step is below this many standard errors.
STEP_TOL = 1e-10
MAX_ITER = 50
#: Below this predicted relative decrease the objective cannot resolve the Armijo test (its
#: rounding is ~eps * |f|): the method is in its quadratic region and takes the full step.
MIN_RELATIVE_DECREASE = 1e-12
#: Bump when the reference method changes, so that stale cache files are not reused.
REFERENCE_VERSION = 1
#: Entries of ``X`` per block of rows in the Gram products (64 MB in float64).
BLOCK_ENTRIES = 1 << 23


class Reference(NamedTuple):
    """Reference maximum-likelihood estimates.

    Attributes:
        params: intercept first, then the coefficients, shape (p + 1,).
        bse: standard errors of ``params`` from the expected information, shape (p + 1,).
        n_iter: Newton iterations the reference took.
    """

    params: np.ndarray
    bse: np.ndarray
    n_iter: int


def reference_solution(
    problem: Problem, start: Callable[[], np.ndarray] | None = None
) -> Reference:
    """The cached reference for ``problem``, computed on the first call.

    Args:
        problem: the problem.
        start: called only when the reference is computed: the parameters (intercept
            first, shape (p + 1,)) Newton starts from; None: the intercept-only model.
    """
    path = CACHE_DIR / f"{problem.name}.v{GENERATOR_VERSION}.ref{REFERENCE_VERSION}.npz"
    if not path.exists():
        CACHE_DIR.mkdir(exist_ok=True)
        ref = _newton(problem, None if start is None else np.asarray(start(), np.float64))
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, params=ref.params, bse=ref.bse, n_iter=np.int64(ref.n_iter))
        tmp.replace(path)
    with np.load(path) as f:
        return Reference(f["params"], f["bse"], int(f["n_iter"]))


def accuracy(ref: Reference, coef: np.ndarray, intercept: float) -> float:
    """``max |params - ref.params| / ref.bse`` over the intercept and the coefficients."""
    params = np.concatenate([[intercept], np.asarray(coef, dtype=np.float64).ravel()])
    return float(np.max(np.abs(params - ref.params) / ref.bse))


def _nll_derivatives(
    family: Family, y: np.ndarray, eta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Summed NLL (phi = 1), and its per-row first and second derivatives in ``eta``."""
    if family == "logistic":
        mu = expit(eta)
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta)), mu - y, mu * (1.0 - mu)
    if family == "poisson":
        mu = np.exp(eta)
        return float(np.sum(mu - y * eta)), mu - y, mu
    # Gamma, log link: nll = y / mu + log(mu); observed second derivative y / mu.
    y_over_mu = y * np.exp(-eta)
    return float(np.sum(y_over_mu + eta)), 1.0 - y_over_mu, y_over_mu


def _nll(family: Family, y: np.ndarray, eta: np.ndarray) -> float:
    """Summed negative log-likelihood (phi = 1, constants dropped)."""
    return _nll_derivatives(family, y, eta)[0]


def _eta(X: np.ndarray, params: np.ndarray) -> np.ndarray:
    """``params[0] + X @ params[1:]``."""
    return params[0] + X @ params[1:]


def _gram(X: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``X1^T diag(h) X1`` for ``X1 = [1, X]``, summed over blocks of rows."""
    n, p = X.shape
    rows = max(1, BLOCK_ENTRIES // (p + 1))
    H = np.zeros((p + 1, p + 1))
    for i in range(0, n, rows):
        root_h = np.sqrt(h[i : i + rows])
        Xs = np.column_stack([root_h, X[i : i + rows] * root_h[:, None]])
        H += Xs.T @ Xs  # NumPy calls BLAS syrk for a product with its own transpose
    return H


def _inverse_diag_and_solve(
    X: np.ndarray, h: np.ndarray, rhs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``diag(inv(H))`` and ``inv(H) @ rhs`` for ``H = X1^T diag(h) X1``, equilibrated."""
    H = _gram(X, h)
    d = 1.0 / np.sqrt(np.diag(H))
    factor = cho_factor(H * d[:, None] * d[None, :])
    inv_diag = d**2 * np.diag(cho_solve(factor, np.eye(len(d))))
    return inv_diag, d * cho_solve(factor, d * rhs)


def _newton(problem: Problem, start: np.ndarray | None = None) -> Reference:
    """Damped Newton to ``STEP_TOL`` from ``start`` (None: the intercept-only model), then
    standard errors from the expected information."""
    X, y = problem.X, problem.y
    if start is None:
        params = np.zeros(X.shape[1] + 1)
        mean_y = float(np.mean(y))
        odds = mean_y / (1.0 - mean_y) if problem.family == "logistic" else mean_y
        params[0] = np.log(odds)
    else:
        params = start.copy()
    n_iter = 0
    while True:
        n_iter += 1
        if n_iter > MAX_ITER:
            raise RuntimeError(f"{problem.name}: reference Newton did not converge")
        f, g, h = _nll_derivatives(problem.family, y, _eta(X, params))
        grad = np.concatenate([[np.sum(g)], g @ X])
        inv_diag, newton = _inverse_diag_and_solve(X, h, grad)
        step = -newton
        if np.max(np.abs(step) / np.sqrt(inv_diag)) < STEP_TOL:
            params = params + step
            break
        t, slope = 1.0, float(grad @ step)
        if -slope > MIN_RELATIVE_DECREASE * abs(f):
            while _nll(problem.family, y, _eta(X, params + t * step)) > f + 1e-4 * t * slope:
                t *= 0.5
                if t < 1e-10:
                    raise RuntimeError(f"{problem.name}: reference line search failed")
        params = params + t * step

    if problem.family != "gamma_log":
        # Canonical links: the observed information is the expected one, and the last
        # factorization's parameters are within STEP_TOL standard errors of the answer.
        return Reference(params, np.sqrt(inv_diag), n_iter)
    mu = np.exp(_eta(X, params))
    phi = float(np.sum(((y - mu) / mu) ** 2)) / (len(y) - len(params))
    inv_diag, _ = _inverse_diag_and_solve(X, np.ones_like(y), np.zeros(len(params)))
    return Reference(params, np.sqrt(phi * inv_diag), n_iter)
