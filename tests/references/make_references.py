"""Fit every case of ``cases.py`` and write ``glm_references.json``.

Run from the repository root::

    python -m tests.references.make_references            # (re)write the JSON
    python -m tests.references.make_references --check    # recompute, compare with the JSON

How the numbers are made:

1. statsmodels' ``GLM`` fits the case by IRLS with ``tol_criterion="params"``, ``rtol=1e-13``,
   ``atol=0`` (each coefficient's change below 1e-13 of its size) and up to 5,000 iterations;
   the fit must report convergence. Binomial cases are fitted twice, with the two-column
   (successes, failures) endog and with ``var_weights`` = trials; both must agree.
2. That solution is polished by Fisher scoring steps written here (own link and variance
   functions, equilibrated least squares), until the step stops shrinking. The polished
   coefficients are stored; the final step (relative to the coefficients and to their standard
   errors) and the distance to statsmodels' solution are stored as diagnostics. Gaussian
   identity cases are solved exactly instead, in rational arithmetic on the float64 data.
3. Every statistic is computed here from R's definitions (``glm.fit``, ``summary.glm``,
   ``family$dev.resids``, ``family$aic``, ``logLik.glm``, ``AIC``, ``BIC``), the log-likelihood
   with ``scipy.stats`` densities, each cross-checked against a closed form and, where
   statsmodels computes the same quantity, against statsmodels.

A second part refits the models for which statsmodels' test suite stores R output (including
some without an intercept, which are not cases) and records how closely R is reproduced.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import platform
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import scipy.linalg
import scipy.special as sc
import scipy.stats as st
import statsmodels
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import DomainWarning

from .cases import CASES, Case, CaseData, data_digest

JSON_PATH = Path(__file__).with_name("glm_references.json")

SM_RTOL = 1e-13  # statsmodels IRLS: max |change| / |coefficient| at convergence
SM_MAXITER = 5000
POLISH_MAXITER = 100
POLISH_TARGET = 1e-15  # stop polishing when the relative Fisher step is below this
MAX_FINAL_STEP = 1e-10  # a reference is refused if its final relative step is larger
AGREE_SM = 1e-8  # polished vs statsmodels coefficients (relative, floored)
AGREE_CLOSED_FORM = 1e-11  # scipy-density llf vs closed form; own vs statsmodels deviance

# Families whose dispersion is estimated: R's logLik counts it as a parameter (k = rank + 1)
# and summary.glm scales the covariance by the Pearson dispersion.
FREE_SCALE = frozenset({"Gaussian", "Gamma", "InverseGaussian", "Tweedie"})
# Tweedie powers whose log-likelihood is that of an exponential family with closed form.
TWEEDIE_SPECIAL = {0.0: "Gaussian", 1.0: "Poisson", 2.0: "Gamma", 3.0: "InverseGaussian"}

FloatArray = np.ndarray


# ============================================================================================
# Links: inverse and d mu / d eta, written independently of statsmodels
# ============================================================================================


def link_inverse(link: str, eta: FloatArray, kw: dict[str, float]) -> FloatArray:
    """``mu = g^{-1}(eta)`` for the link names of ``cases.LINKS``."""
    if link == "Identity":
        return eta.copy()
    if link == "Log":
        return np.exp(eta)
    if link == "Logit":
        return sc.expit(eta)
    if link == "Probit":
        return sc.ndtr(eta)
    if link == "CLogLog":
        return -np.expm1(-np.exp(eta))
    if link == "LogLog":
        return np.exp(-np.exp(-eta))
    if link == "Cauchit":
        return st.cauchy.cdf(eta)
    if link == "Inverse":
        return 1.0 / eta
    if link == "InverseSquared":
        return 1.0 / np.sqrt(eta)
    if link == "Sqrt":
        return eta * eta
    if link == "Power":
        p = kw["power"]
        return np.exp(eta) if p == 0 else np.power(eta, 1.0 / p)
    raise ValueError(f"unknown link {link!r}")


def link_fun(link: str, mu: FloatArray, kw: dict[str, float]) -> FloatArray:
    """``eta = g(mu)`` (used only to emulate R's ``glm.fit`` start)."""
    if link == "Identity":
        return mu.copy()
    if link == "Log":
        return np.log(mu)
    if link == "Logit":
        return sc.logit(mu)
    if link == "Probit":
        return sc.ndtri(mu)
    if link == "CLogLog":
        return np.log(-np.log1p(-mu))
    if link == "LogLog":
        return -np.log(-np.log(mu))
    if link == "Cauchit":
        return st.cauchy.ppf(mu)
    if link == "Inverse":
        return 1.0 / mu
    if link == "InverseSquared":
        return 1.0 / (mu * mu)
    if link == "Sqrt":
        return np.sqrt(mu)
    if link == "Power":
        p = kw["power"]
        return np.log(mu) if p == 0 else np.power(mu, p)
    raise ValueError(f"unknown link {link!r}")


def link_mu_eta(link: str, eta: FloatArray, kw: dict[str, float]) -> FloatArray:
    """``d mu / d eta`` for the link names of ``cases.LINKS``."""
    if link == "Identity":
        return np.ones_like(eta)
    if link == "Log":
        return np.exp(eta)
    if link == "Logit":
        return sc.expit(eta) * sc.expit(-eta)
    if link == "Probit":
        return np.exp(-0.5 * eta * eta) / math.sqrt(2.0 * math.pi)
    if link == "CLogLog":
        return np.exp(eta - np.exp(eta))
    if link == "LogLog":
        return np.exp(-eta - np.exp(-eta))
    if link == "Cauchit":
        return 1.0 / (math.pi * (1.0 + eta * eta))
    if link == "Inverse":
        return -1.0 / (eta * eta)
    if link == "InverseSquared":
        return -0.5 * np.power(eta, -1.5)
    if link == "Sqrt":
        return 2.0 * eta
    if link == "Power":
        p = kw["power"]
        return np.exp(eta) if p == 0 else np.power(eta, 1.0 / p - 1.0) / p
    raise ValueError(f"unknown link {link!r}")


# ============================================================================================
# Families: variance, R's dev.resids, R's aic (as a log-likelihood)
# ============================================================================================


def variance(family: str, mu: FloatArray, kw: dict[str, float]) -> FloatArray:
    """Variance function ``V(mu)``."""
    if family == "Gaussian":
        return np.ones_like(mu)
    if family in ("Bernoulli", "Binomial"):
        return mu * (1.0 - mu)
    if family == "Poisson":
        return mu.copy()
    if family == "Gamma":
        return mu * mu
    if family == "InverseGaussian":
        return mu * mu * mu
    if family == "NegativeBinomial":
        return mu + kw["alpha"] * mu * mu
    if family == "Tweedie":
        return np.power(mu, kw["power"])
    raise ValueError(f"unknown family {family!r}")


def unit_deviance(family: str, y: FloatArray, mu: FloatArray, kw: dict[str, float]) -> FloatArray:
    """R's ``family$dev.resids(y, mu, wt = 1)``: the per-row deviance before prior weights."""
    if family == "Gaussian":
        return (y - mu) ** 2
    if family in ("Bernoulli", "Binomial"):
        return 2.0 * (sc.rel_entr(y, mu) + sc.rel_entr(1.0 - y, 1.0 - mu))
    if family == "Poisson":
        return 2.0 * (sc.rel_entr(y, mu) - (y - mu))
    if family == "Gamma":
        return -2.0 * (np.log(y / mu) - (y - mu) / mu)
    if family == "InverseGaussian":
        return (y - mu) ** 2 / (y * mu * mu)
    if family == "NegativeBinomial":
        theta = 1.0 / kw["alpha"]
        return 2.0 * (sc.rel_entr(y, mu) - (y + theta) * np.log((y + theta) / (mu + theta)))
    if family == "Tweedie":
        p = float(kw["power"])
        if p in (0.0, 1.0, 2.0):
            return unit_deviance(TWEEDIE_SPECIAL[p], y, mu, {})
        # statmod::tweedie()$dev.resids, which reads y^(2-p) = 0 at y = 0 for 1 < p < 2.
        return 2.0 * (
            np.power(y, 2.0 - p) / ((1.0 - p) * (2.0 - p))
            - y * np.power(mu, 1.0 - p) / (1.0 - p)
            + np.power(mu, 2.0 - p) / (2.0 - p)
        )
    raise ValueError(f"unknown family {family!r}")


def loglik_family(family: str, kw: dict[str, float]) -> str | None:
    """The family whose R ``aic`` defines the log-likelihood; None where R has none."""
    if family != "Tweedie":
        return family
    return TWEEDIE_SPECIAL.get(float(kw["power"]))


def n_llf_params(family: str, kw: dict[str, float], rank: int) -> int:
    """``attr(logLik(fit), "df")``: rank, plus 1 where R estimates a dispersion."""
    base = loglik_family(family, kw)
    return rank + 1 if base in ("Gaussian", "Gamma", "InverseGaussian") else rank


def r_loglik(
    family: str,
    y: FloatArray,
    mu: FloatArray,
    w: FloatArray,
    dev: float,
    kw: dict[str, float],
) -> tuple[float, float] | None:
    """R's ``logLik.glm`` from ``family$aic``, with ``scipy.stats`` densities.

    Returns ``(llf from scipy.stats densities, llf from the closed form)``, or None where R
    reports NA (Tweedie with a power other than 0, 1, 2, 3). Rows with zero prior weight are
    dropped. ``logLik.glm`` is ``p - aic/2`` with ``p = rank (+1)``, and ``glm.fit`` adds
    ``2 * rank`` to ``family$aic``, so the log-likelihood is ``-family$aic / 2`` plus 1 where
    ``family$aic`` includes the ``+2`` for the dispersion (Gaussian, Gamma, inverse Gaussian).
    """
    base = loglik_family(family, kw)
    if base is None:
        return None
    keep = w > 0
    y, mu, w = y[keep], mu[keep], w[keep]
    if base == "Gaussian":
        # gaussian()$aic: nobs*(log(2*pi*dev/nobs)+1)+2 - sum(log(wt)): N(mu, (dev/nobs)/w).
        n = y.shape[0]
        s2 = dev / n
        dens = float(np.sum(st.norm.logpdf(y, loc=mu, scale=np.sqrt(s2 / w))))
        closed = -0.5 * (n * (math.log(2.0 * math.pi * s2) + 1.0) - float(np.sum(np.log(w))))
        return dens, closed
    if base in ("Bernoulli", "Binomial"):
        # binomial()$aic: -2*sum(ifelse(m > 0, wt/m, 0)*dbinom(round(m*y), round(m), mu, log=TRUE))
        # with m = wt for a proportion response: the weights are the trials.
        m = np.round(w)
        k = np.round(w * y)
        dens = float(np.sum(st.binom.logpmf(k, m, mu)))
        closed = float(
            np.sum(
                sc.gammaln(m + 1.0)
                - sc.gammaln(k + 1.0)
                - sc.gammaln(m - k + 1.0)
                + sc.xlogy(k, mu)
                + sc.xlog1py(m - k, -mu)
            )
        )
        return dens, closed
    if base == "Poisson":
        # poisson()$aic: -2*sum(dpois(y, mu, log=TRUE)*wt)
        dens = float(np.sum(w * st.poisson.logpmf(y, mu)))
        closed = float(np.sum(w * (sc.xlogy(y, mu) - mu - sc.gammaln(y + 1.0))))
        return dens, closed
    if base == "Gamma":
        # Gamma()$aic: n <- sum(wt); disp <- dev/n
        #              -2*sum(dgamma(y, 1/disp, scale=mu*disp, log=TRUE)*wt) + 2
        disp = dev / float(np.sum(w))
        a = 1.0 / disp
        dens = float(np.sum(w * st.gamma.logpdf(y, a, scale=mu * disp)))
        closed = float(
            np.sum(w * ((a - 1.0) * np.log(y) - y / (mu * disp) - a * np.log(mu * disp)))
        ) - float(np.sum(w)) * float(sc.gammaln(a))
        return dens, closed
    if base == "InverseGaussian":
        # inverse.gaussian()$aic: sum(wt)*(log(disp*2*pi)+1) + 3*sum(log(y)*wt) + 2,
        # disp = dev/sum(wt): -2*sum(wt * log dinvgauss(y, mu, dispersion = disp)) + 2.
        disp = dev / float(np.sum(w))
        dens = float(np.sum(w * st.invgauss.logpdf(y, mu * disp, scale=1.0 / disp)))
        sw = float(np.sum(w))
        closed = -0.5 * (
            sw * (math.log(2.0 * math.pi * disp) + 1.0) + 3.0 * float(np.sum(w * np.log(y)))
        )
        return dens, closed
    if base == "NegativeBinomial":
        # MASS::negative.binomial(theta)$aic:
        #   term <- (y + theta) * log(mu + theta) - y * log(mu) + lgamma(y + 1)
        #           - theta * log(theta) + lgamma(theta) - lgamma(theta + y)
        #   2 * sum(term * wt)          i.e. -2 * sum(wt * dnbinom(y, theta, mu = mu, log = TRUE))
        theta = 1.0 / kw["alpha"]
        dens = float(np.sum(w * st.nbinom.logpmf(y, theta, theta / (theta + mu))))
        term = (
            (y + theta) * np.log(mu + theta)
            - sc.xlogy(y, mu)
            + sc.gammaln(y + 1.0)
            - theta * math.log(theta)
            + sc.gammaln(theta)
            - sc.gammaln(theta + y)
        )
        closed = -float(np.sum(term * w))
        return dens, closed
    raise ValueError(f"unknown family {family!r}")


# ============================================================================================
# statsmodels objects
# ============================================================================================


def sm_link(link: str, kw: dict[str, float]) -> Any:
    """The statsmodels link instance for a jaxglm link name."""
    links = sm.families.links
    table: dict[str, Callable[[], Any]] = {
        "Identity": links.Identity,
        "Log": links.Log,
        "Logit": links.Logit,
        "Probit": links.Probit,
        "CLogLog": links.CLogLog,
        "LogLog": links.LogLog,
        "Cauchit": links.Cauchy,
        "Inverse": links.InversePower,
        "InverseSquared": links.InverseSquared,
        "Sqrt": links.Sqrt,
    }
    if link == "Power":
        return links.Power(power=kw["power"])
    return table[link]()


def sm_family(family: str, fam_kw: dict[str, float], link: str, link_kw: dict[str, float]) -> Any:
    """The statsmodels family instance for a jaxglm family name."""
    fams = sm.families
    lk = sm_link(link, link_kw)
    if family == "Gaussian":
        return fams.Gaussian(link=lk)
    if family in ("Bernoulli", "Binomial"):
        return fams.Binomial(link=lk)
    if family == "Poisson":
        return fams.Poisson(link=lk)
    if family == "Gamma":
        return fams.Gamma(link=lk)
    if family == "InverseGaussian":
        return fams.InverseGaussian(link=lk)
    if family == "NegativeBinomial":
        return fams.NegativeBinomial(link=lk, alpha=fam_kw["alpha"])
    if family == "Tweedie":
        return fams.Tweedie(link=lk, var_power=fam_kw["power"])
    raise ValueError(f"unknown family {family!r}")


# ============================================================================================
# Fitting
# ============================================================================================


@dataclass(frozen=True)
class Problem:
    """A GLM problem in the form the fitting code uses (the constant column already added)."""

    y: FloatArray
    X: FloatArray  # design as fitted: intercept column first when ``intercept``
    weights: FloatArray
    offset: FloatArray
    family: str
    link: str
    fam_kw: dict[str, float]
    link_kw: dict[str, float]
    intercept: bool


def make_problem(
    y: Any,
    X: Any,
    family: str,
    link: str,
    *,
    fam_kw: dict[str, float] | None = None,
    link_kw: dict[str, float] | None = None,
    weights: Any = None,
    offset: Any = None,
    intercept: bool = True,
) -> Problem:
    """Build a ``Problem``, prepending the constant column when ``intercept``."""
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    n = y.shape[0]
    if intercept:
        X = np.column_stack([np.ones(n), X])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=np.float64)
    return Problem(
        y=y,
        X=np.ascontiguousarray(X),
        weights=w,
        offset=off,
        family=family,
        link=link,
        fam_kw=dict(fam_kw or {}),
        link_kw=dict(link_kw or {}),
        intercept=intercept,
    )


def problem_from_case(case: Case) -> Problem:
    """The ``Problem`` of a registered case (always with an intercept)."""
    data: CaseData = case.load()
    return make_problem(
        data["y"],
        data["X"],
        case.family,
        case.link,
        fam_kw=case.family_kwargs,
        link_kw=case.link_kwargs,
        weights=data.get("weights"),
        offset=data.get("offset"),
    )


def _fit_sm(prob: Problem, *, two_column: bool = False) -> Any:
    """statsmodels IRLS fit at a tight tolerance; raises unless it converged."""
    fam = sm_family(prob.family, prob.fam_kw, prob.link, prob.link_kw)
    kwargs: dict[str, Any] = {"family": fam, "offset": prob.offset}
    if prob.family == "Binomial" and two_column:
        successes = np.round(prob.weights * prob.y)
        endog: FloatArray = np.column_stack([successes, np.round(prob.weights) - successes])
    else:
        endog = prob.y
        kwargs["var_weights"] = prob.weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        model = sm.GLM(endog, prob.X, **kwargs)
        res = model.fit(
            method="IRLS",
            maxiter=SM_MAXITER,
            tol=0.0,
            atol=0.0,
            rtol=SM_RTOL,
            tol_criterion="params",
            wls_method="lstsq",
        )
    if not res.converged:
        raise RuntimeError("statsmodels IRLS did not converge")
    return res


@dataclass
class Fit:
    """A converged fit with its mean and the diagnostics of its accuracy."""

    params: FloatArray
    eta: FloatArray
    mu: FloatArray
    method: str
    sm_iterations: int | None
    final_rel_step: float  # max |Fisher step| / max(|beta|, floor) at the stored params
    final_step_in_se: float  # max |Fisher step| / (unscaled) standard error
    sm_max_rel_diff: float | None  # polished vs statsmodels, relative (floored)


def _floored(v: FloatArray) -> FloatArray:
    """``|v|`` floored at 1e-8 of its largest entry (the tests' relative measure)."""
    a = np.abs(v)
    return np.maximum(a, 1e-8 * a.max())


def max_rel_diff(a: Sequence[float] | FloatArray, b: Sequence[float] | FloatArray) -> float:
    """``max |a - b| / max(|b|, 1e-8 max|b|)``, the measure the jaxglm tests use."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / _floored(b)))


def _rel(a: float, b: float) -> float:
    """Relative difference of two scalars."""
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def _mean(prob: Problem, beta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(eta, mu)`` at ``beta``."""
    eta = prob.offset + prob.X @ beta
    return eta, link_inverse(prob.link, eta, prob.link_kw)


def _working(prob: Problem, eta: FloatArray, mu: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Fisher weights ``w (dmu/deta)^2 / V(mu)`` and working residuals ``(y - mu)/(dmu/deta)``."""
    d = link_mu_eta(prob.link, eta, prob.link_kw)
    v = variance(prob.family, mu, prob.fam_kw)
    return prob.weights * d * d / v, (prob.y - mu) / d


def _equilibrated(prob: Problem, wt: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(A, scale)`` with ``A = sqrt(wt) X diag(scale)`` and unit column norms."""
    A = np.sqrt(wt)[:, None] * prob.X
    scale = 1.0 / np.linalg.norm(A, axis=0)
    return A * scale, scale


def unscaled_cov(prob: Problem, eta: FloatArray, mu: FloatArray) -> FloatArray:
    """``(X^T W X)^{-1}`` with the expected (Fisher) weights, through a QR factorization."""
    wt, _ = _working(prob, eta, mu)
    A, scale = _equilibrated(prob, wt)
    R = np.linalg.qr(A, mode="r")
    Rinv = scipy.linalg.solve_triangular(R, np.eye(R.shape[0]))
    return (Rinv @ Rinv.T) * np.outer(scale, scale)


def _fisher_step(prob: Problem, beta: FloatArray) -> FloatArray:
    """One Fisher scoring (IRLS) step from ``beta``."""
    eta, mu = _mean(prob, beta)
    wt, z = _working(prob, eta, mu)
    A, scale = _equilibrated(prob, wt)
    delta, *_ = np.linalg.lstsq(A, np.sqrt(wt) * z, rcond=None)
    return delta * scale


def polish(prob: Problem, beta0: FloatArray) -> tuple[FloatArray, float, float]:
    """Fisher scoring from ``beta0`` until the step stops shrinking.

    Returns ``(beta, final relative step, final step in standard errors)``, the step measured
    at the returned ``beta``.
    """
    beta = beta0.copy()
    best: tuple[float, FloatArray, FloatArray] | None = None
    stalls = 0
    for _ in range(POLISH_MAXITER):
        step = _fisher_step(prob, beta)
        rel = float(np.max(np.abs(step) / _floored(beta)))
        if best is None or rel < best[0]:
            best = (rel, beta.copy(), step)
            stalls = 0
        else:
            stalls += 1
        if rel <= POLISH_TARGET or stalls >= 3:
            break
        beta = beta + step
    assert best is not None
    rel, beta, step = best
    eta, mu = _mean(prob, beta)
    se = np.sqrt(np.diag(unscaled_cov(prob, eta, mu)))
    return beta, rel, float(np.max(np.abs(step) / se))


def _exact_wls(prob: Problem) -> tuple[list[Fraction], list[Fraction]]:
    """Exact weighted least squares on the float64 data: ``(beta, diag((X^T W X)^{-1}))``."""
    n, p = prob.X.shape
    X = [[Fraction(float(v)) for v in row] for row in prob.X]
    z = [Fraction(float(a)) - Fraction(float(b)) for a, b in zip(prob.y, prob.offset, strict=True)]
    w = [Fraction(float(v)) for v in prob.weights]
    G = [[sum(w[i] * X[i][j] * X[i][k] for i in range(n)) for k in range(p)] for j in range(p)]
    rhs = [sum(w[i] * X[i][j] * z[i] for i in range(n)) for j in range(p)]
    # Gauss-Jordan on [G | I | rhs], exact.
    aug = [G[j] + [Fraction(int(j == k)) for k in range(p)] + [rhs[j]] for j in range(p)]
    for col in range(p):
        piv = next(r for r in range(col, p) if aug[r][col] != 0)
        aug[col], aug[piv] = aug[piv], aug[col]
        pv = aug[col][col]
        aug[col] = [v / pv for v in aug[col]]
        for r in range(p):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col], strict=True)]
    beta = [aug[j][2 * p] for j in range(p)]
    cov_diag = [aug[j][p + j] for j in range(p)]
    return beta, cov_diag


def fit_problem(prob: Problem) -> tuple[Fit, Any]:
    """Fit ``prob``: statsmodels IRLS, then polish (or the exact solve for Gaussian identity).

    Returns the fit and the statsmodels results object (used for ``sm_llf``/``sm_aic``).
    """
    res = _fit_sm(prob, two_column=True)
    sm_params = np.asarray(res.params, dtype=np.float64)
    if prob.family == "Binomial":
        res_vw = _fit_sm(prob, two_column=False)
        d = max_rel_diff(res_vw.params, sm_params)
        if d > 1e-9 or _rel(res_vw.deviance, res.deviance) > 1e-12:
            raise RuntimeError(f"two-column and var_weights binomial fits disagree ({d:.2e})")
    iterations = int(res.fit_history["iteration"])
    if prob.family == "Gaussian" and prob.link == "Identity":
        beta_q, _ = _exact_wls(prob)
        beta = np.array([float(b) for b in beta_q])
        step = _fisher_step(prob, beta)
        eta, mu = _mean(prob, beta)
        se = np.sqrt(np.diag(unscaled_cov(prob, eta, mu)))
        fit = Fit(
            params=beta,
            eta=eta,
            mu=mu,
            method="exact rational weighted least squares",
            sm_iterations=iterations,
            final_rel_step=float(np.max(np.abs(step) / _floored(beta))),
            final_step_in_se=float(np.max(np.abs(step) / se)),
            sm_max_rel_diff=max_rel_diff(sm_params, beta),
        )
        return fit, res
    beta, rel, in_se = polish(prob, sm_params)
    if rel > MAX_FINAL_STEP:
        raise RuntimeError(f"polishing stalled at a relative step of {rel:.2e}")
    d = max_rel_diff(sm_params, beta)
    if d > AGREE_SM:
        raise RuntimeError(f"polished and statsmodels coefficients differ by {d:.2e}")
    eta, mu = _mean(prob, beta)
    fit = Fit(
        params=beta,
        eta=eta,
        mu=mu,
        method="statsmodels IRLS + Fisher-scoring polish",
        sm_iterations=iterations,
        final_rel_step=rel,
        final_step_in_se=in_se,
        sm_max_rel_diff=d,
    )
    return fit, res


def null_deviance(prob: Problem) -> float:
    """R's null deviance: the intercept-only fit with the same weights and offset.

    Without an offset this is the deviance at the weighted mean of ``y`` (``glm.fit``); with
    one, ``glm()`` refits the intercept-only model, as done here. For a model without an
    intercept R uses ``mu = linkinv(offset)``.
    """
    if not prob.intercept:
        mu0 = link_inverse(prob.link, prob.offset, prob.link_kw)
        return float(np.sum(prob.weights * unit_deviance(prob.family, prob.y, mu0, prob.fam_kw)))
    wmean = float(np.sum(prob.weights * prob.y) / np.sum(prob.weights))
    closed = float(
        np.sum(
            prob.weights
            * unit_deviance(prob.family, prob.y, np.full_like(prob.y, wmean), prob.fam_kw)
        )
    )
    if not np.any(prob.offset != 0):
        return closed
    null = Problem(
        y=prob.y,
        X=np.ones((prob.y.shape[0], 1)),
        weights=prob.weights,
        offset=prob.offset,
        family=prob.family,
        link=prob.link,
        fam_kw=prob.fam_kw,
        link_kw=prob.link_kw,
        intercept=True,
    )
    fit, _ = fit_problem(null)
    return float(np.sum(prob.weights * unit_deviance(prob.family, prob.y, fit.mu, prob.fam_kw)))


# ============================================================================================
# Statistics
# ============================================================================================


def _finite_or_none(x: float | None) -> float | None:
    """A JSON-safe float: None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def statistics(prob: Problem, fit: Fit, res: Any) -> dict[str, Any]:
    """Every reference statistic of a fitted problem, from R's definitions."""
    y, w, mu = prob.y, prob.weights, fit.mu
    unit = unit_deviance(prob.family, y, mu, prob.fam_kw)
    dev = float(np.sum(w * unit))
    sm_dev = float(res.deviance)
    if _rel(dev, sm_dev) > AGREE_CLOSED_FORM * 100:
        raise RuntimeError(f"deviance {dev!r} disagrees with statsmodels' {sm_dev!r}")
    v = variance(prob.family, mu, prob.fam_kw)
    pearson = float(np.sum(w * (y - mu) ** 2 / v))
    rank = prob.X.shape[1]
    nobs = int(np.count_nonzero(w > 0))
    df_resid = nobs - rank
    scale = pearson / df_resid if prob.family in FREE_SCALE else 1.0
    if prob.family == "Gaussian" and prob.link == "Identity":
        # Exact: the Pearson statistic is the residual sum of squares.
        beta_q, cov_q = _exact_wls(prob)
        X = [[Fraction(float(v)) for v in row] for row in prob.X]
        resid = [
            Fraction(float(yi))
            - Fraction(float(oi))
            - sum(b * x for b, x in zip(beta_q, row, strict=True))
            for yi, oi, row in zip(y, prob.offset, X, strict=True)
        ]
        rss = sum(Fraction(float(wi)) * r * r for wi, r in zip(w, resid, strict=True))
        dev = pearson = float(rss)
        scale = float(rss / df_resid)
        bse = np.array([math.sqrt(float(c * rss / df_resid)) for c in cov_q])
    else:
        cov = unscaled_cov(prob, fit.eta, mu)
        bse = np.sqrt(np.diag(cov) * scale)
    sm_bse_diff = max_rel_diff(np.asarray(res.bse, dtype=np.float64), bse)
    if sm_bse_diff > 1e-6:
        raise RuntimeError(f"bse differ from statsmodels' by {sm_bse_diff:.2e}")
    ll = r_loglik(prob.family, y, mu, w, dev, prob.fam_kw)
    k = n_llf_params(prob.family, prob.fam_kw, rank)
    if ll is None:
        llf = aic = bic = None
        k_out: int | None = None
    else:
        k_out = k
        llf, closed = ll
        if _rel(llf, closed) > AGREE_CLOSED_FORM:
            raise RuntimeError(f"llf from densities {llf!r} vs closed form {closed!r}")
        aic = -2.0 * llf + 2.0 * k
        bic = -2.0 * llf + math.log(nobs) * k
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm_llf = _finite_or_none(res.llf)
        sm_aic = _finite_or_none(res.aic)
    return {
        "params": fit.params.tolist(),
        "bse": bse.tolist(),
        "deviance": dev,
        "null_deviance": null_deviance(prob) if prob.intercept else None,
        "pearson_chi2": pearson,
        "scale": scale,
        "df_model": rank - int(prob.intercept),
        "df_resid": df_resid,
        "nobs": nobs,
        "llf": llf,
        "aic": aic,
        "bic": bic,
        "llf_df": k_out,
        "sm_llf": sm_llf,
        "sm_aic": sm_aic,
        "diagnostics": {
            "method": fit.method,
            "sm_iterations": fit.sm_iterations,
            "final_rel_step": fit.final_rel_step,
            "final_step_in_se": fit.final_step_in_se,
            "sm_params_max_rel_diff": fit.sm_max_rel_diff,
            "sm_bse_max_rel_diff": sm_bse_diff,
            "cond_equilibrated_weighted_X": float(
                np.linalg.cond(_equilibrated(prob, _working(prob, fit.eta, mu)[0])[0])
            ),
        },
    }


def reference_for(case: Case) -> dict[str, Any]:
    """The JSON entry of one case."""
    prob = problem_from_case(case)
    fit, res = fit_problem(prob)
    data = case.load()
    entry: dict[str, Any] = {
        "family": case.family,
        "family_kwargs": dict(case.family_kwargs),
        "link": case.link,
        "link_kwargs": dict(case.link_kwargs),
        "dataset": case.dataset,
        "description": case.description,
        "r_reference": case.r_reference,
        "names": ["(Intercept)", *data["names"]],
        "has_weights": "weights" in data,
        "has_offset": "offset" in data,
        "data_sha256": data_digest(data),
    }
    entry.update(statistics(prob, fit, res))
    return entry


# ============================================================================================
# R output stored in statsmodels' test suite
# ============================================================================================


def _last_first(v: Sequence[float]) -> list[float]:
    """Move statsmodels' trailing constant to the front (intercept first)."""
    v = list(v)
    return [v[-1], *v[:-1]]


def _sm_results_csv(name: str) -> pd.DataFrame:
    """A CSV file of statsmodels' GLM test results directory."""
    from importlib import resources

    with resources.files("statsmodels.genmod.tests.results").joinpath(name).open() as fh:
        return pd.read_csv(fh)


@dataclass(frozen=True)
class RCheck:
    """One model for which statsmodels' tests store R output."""

    name: str
    source: str
    problem: Callable[[], Problem]
    r: dict[str, Any]
    note: str = ""
    r_epsilon: float = 1e-8  # glm.control(epsilon=) of the R run (R's default 1e-8)
    r_maxit: int = 25


def _case_problem(name: str) -> Callable[[], Problem]:
    """The problem of a registered case, as a thunk."""
    return lambda: problem_from_case(CASES[name])


def _cpunish_no_intercept(family: str, link: str, **kw: Any) -> Callable[[], Problem]:
    """cpunish ``EXECUTIONS ~ INCOME + SOUTH - 1`` (statsmodels' R Tweedie/weights scripts)."""

    income_scale = float(kw.pop("income_scale", 1.0))

    def make() -> Problem:
        d = sm.datasets.cpunish.load_pandas().data
        return make_problem(
            d["EXECUTIONS"],
            np.column_stack([d["INCOME"] / income_scale, d["SOUTH"]]),
            family,
            link,
            intercept=False,
            **kw,
        )

    return make


def _fair_tweedie_no_intercept() -> Problem:
    """fair ``affairs ~ rate_marriage + age + yrs_married - 1``, tweedie(1.5, log)."""
    d = sm.datasets.fair.load_pandas().data
    return make_problem(
        d["affairs"],
        d[["rate_marriage", "age", "yrs_married"]],
        "Tweedie",
        "Log",
        fam_kw={"power": 1.5},
        intercept=False,
    )


def _inv_gaussian_simulated() -> Problem:
    """Hardin & Hilbe's simulated inverse Gaussian data, first 5000 rows (TestGlmInvgauss)."""
    data = _sm_results_csv("inv_gaussian.csv").to_numpy(dtype=np.float64)
    return make_problem(data[:5000, 0], data[:5000, 1:], "InverseGaussian", "InverseSquared")


_RG = "statsmodels/genmod/tests/results/results_glm.py"
_RW = "statsmodels/genmod/tests/results/res_R_var_weight.py"

# fmt: off
R_CHECKS: list[RCheck] = [
    RCheck(
        "gaussian_identity_longley",
        f"{_RG}: Longley (params/bse/deviance/aic_R/llf/scale; null_deviance rounded by rpy)",
        _case_problem("gaussian_identity_longley"),
        {
            "params": _last_first(
                [15.0618723, -0.0358191793, -2.0202298, -1.03322687, -0.0511041057,
                 1829.15146, -3482258.63]
            ),
            "bse": _last_first(
                [84.9149258, 0.0334910078, 0.488399682, 0.214274163, 0.2260732,
                 455.478499, 890420.384]
            ),
            "deviance": 836424.0555058046,
            "aic": 235.23486961695903,
            "llf": -109.61743480847952,
            "scale": 92936.006167311629,
            "null_deviance": 185008826.0,
        },
    ),
    RCheck(
        "gaussian_identity_longley (NIST)",
        "NIST StRD Longley certified values (15 significant digits)",
        _case_problem("gaussian_identity_longley"),
        {
            "params": [
                -3482258.63459582, 15.0618722713733, -0.358191792925910e-01,
                -2.02022980381683, -1.03322686717359, -0.511041056535807e-01,
                1829.15146461355,
            ],
            "bse": [
                890420.383607373, 84.9149257747669, 0.334910077722432e-01,
                0.488399681651699, 0.214274163161675, 0.226073200069370,
                455.478499142212,
            ],
            "deviance": 836424.055505915,
        },
        note="NIST's values are for the decimal data; ours for its float64 rounding.",
    ),
    RCheck(
        "bernoulli_logit_lbw",
        f"{_RG}: Lbw",
        _case_problem("bernoulli_logit_lbw"),
        {
            "params": _last_first(
                [-0.02710031, -0.01515082, 1.26264728, 0.86207916, 0.92334482, 0.54183656,
                 1.83251780, 0.75851348, 0.46122388]
            ),
            "bse": _last_first(
                [0.036449917, 0.006925765, 0.526405169, 0.439146744, 0.400820976,
                 0.346246857, 0.691623875, 0.459373871, 1.204574885]
            ),
            "aic": 219.447991133,
            "deviance": 201.4479911325021,
            "llf": -100.7239955662511,
            "null_deviance": 234.671996193219,
            "pearson_chi2": 182.023342493558,
        },
    ),
    RCheck(
        "binomial_logit_star98",
        f"{_RG}: Star98",
        _case_problem("binomial_logit_star98"),
        {
            "params": _last_first(
                [-0.0168150366, 0.0099254766, -0.0187242148, -0.0142385609, 0.2544871730,
                 0.2406936644, 0.0804086739, -1.9521605027, -0.3340864748, -0.1690221685,
                 0.0049167021, -0.0035799644, -0.0140765648, -0.0040049918, -0.0039063958,
                 0.0917143006, 0.0489898381, 0.0080407389, 0.0002220095, -0.0022492486,
                 2.9588779262]
            ),
            "bse": _last_first(
                [4.339467e-04, 6.013714e-04, 7.435499e-04, 4.338655e-04, 2.994576e-02,
                 5.713824e-02, 1.392359e-02, 3.168109e-01, 6.126411e-02, 3.270139e-02,
                 1.253877e-03, 2.254633e-04, 1.904573e-03, 4.739838e-04, 9.623650e-04,
                 1.450923e-02, 7.451666e-03, 1.499497e-03, 2.988794e-05, 3.489838e-04,
                 1.546712e+00]
            ),
            "null_deviance": 34345.3688931,
            "deviance": 4078.76541772,
            "aic": 6039.22511799,
            "llf": -2998.61255899391,
            "pearson_chi2": 4051.921614,
        },
    ),
    RCheck(
        "poisson_log_cpunish",
        f"{_RG}: Cpunish",
        _case_problem("poisson_log_cpunish"),
        {
            "params": _last_first(
                [2.611017e-04, 7.781801e-02, -9.493111e-02, 2.969349e-01, 2.301183e+00,
                 -1.872207e+01, -6.801480e+00]
            ),
            "bse": _last_first(
                [5.187132e-05, 7.940193e-02, 2.291926e-02, 4.375164e-01, 4.283826e-01,
                 4.283961e+00, 4.146850e+00]
            ),
            "null_deviance": 136.57281747225,
            "deviance": 18.591641759528944,
            "aic": 77.8546573896503,
            "llf": -31.92732869482515,
            "pearson_chi2": 24.75374835,
        },
    ),
    RCheck(
        "gamma_inverse_scotland",
        f"{_RG}: Scotvote",
        _case_problem("gamma_inverse_scotland"),
        {
            "params": _last_first(
                [4.961768e-05, 2.034423e-03, -7.181429e-05, 1.118520e-04, -1.467515e-07,
                 -5.186831e-04, -2.42717498e-06, -1.776527e-02]
            ),
            "bse": _last_first(
                [1.621577e-05, 5.320802e-04, 2.711664e-05, 4.057691e-05, 1.236569e-07,
                 2.402534e-04, 7.460253e-07, 1.147922e-02]
            ),
            "null_deviance": 0.536072,
            "deviance": 0.087388516417,
            "aic": 182.947045954721,
            "scale": 0.003584283,
            "pearson_chi2": 0.0860228056,
        },
    ),
    RCheck(
        "gamma_log_cancer",
        f"{_RG}: CancerLog (llf is the commented-out R value)",
        _case_problem("gamma_log_cancer"),
        {
            "params": _last_first([-0.04477778, 0.57437126, 1.05210726, 4.64604002]),
            "bse": _last_first([0.0147328, 0.19694727, 0.19772507, 0.83534671]),
            "aic": 331.89022395372069,
            "llf": -160.94511197686035,
            "deviance": 16.174635536991005,
            "scale": 0.31805268736385695,
            "null_deviance": 27.92207137420696,
        },
    ),
    RCheck(
        "gamma_identity_cancer",
        f"{_RG}: CancerIdentity (llf is the commented-out R value)",
        _case_problem("gamma_identity_cancer"),
        {
            "params": _last_first([-0.5369833, 6.47296332, 16.20336802, 38.96617431]),
            "bse": _last_first([0.13341238, 2.1349966, 3.87411875, 8.19235553]),
            "aic": 328.39209118952965,
            "llf": -159.19604559476483,
            "deviance": 15.093762327607557,
            "scale": 0.29512089119443752,
            "null_deviance": 27.92207137420696,
        },
    ),
    RCheck(
        "gamma_log_cancer_weights",
        f"{_RW}: results_gamma_aweights_nonrobust (R 3.5.1, epsilon = 1e-25)",
        _case_problem("gamma_log_cancer_weights"),
        {
            "params": [
                4.3171222692811204169, -0.038835175525200764379, 0.54097404989168318412,
                1.0560051456310013407,
            ],
            "bse": [
                0.80693035378427380166, 0.013827354415809251648, 0.18432033392178892584,
                0.186384917449112536,
            ],
            "deviance": 28.440959,
            "llf": -301.601118,
        },
        note="deviance and llf printed by R with %f (6 decimals).",
        r_epsilon=1e-25,
        r_maxit=100,
    ),
    RCheck(
        "inverse_gaussian_log_medpar",
        f"{_RG}: InvGaussLog (llf is the commented-out R value)",
        _case_problem("inverse_gaussian_log_medpar"),
        {
            "params": _last_first([0.09927544, -0.19161722, 1.05712336]),
            "bse": _last_first([0.00600728, 0.02632126, 0.04915765]),
            "null_deviance": 335.1539777981053,
            "aic": 18545.836421595981,
            "llf": -9268.9182107979905,
            "deviance": 304.27188306012789,
            "scale": 0.10240599519220173,
        },
    ),
    RCheck(
        "inverse_gaussian_identity_medpar",
        f"{_RG}: InvGaussIdentity (llf is the commented-out R value)",
        _case_problem("inverse_gaussian_identity_medpar"),
        {
            "params": _last_first([0.44538838, -1.05872706, 2.83947966]),
            "bse": _last_first([0.02586783, 0.13830023, 0.20834864]),
            "null_deviance": 335.1539777981053,
            "deviance": 305.33661191013988,
            "aic": 18558.677276882016,
            "llf": -9275.3386384410078,
            "scale": 0.10115387793455666,
            "pearson_chi2": 371.5346609292967,
        },
    ),
    RCheck(
        "negative_binomial_log_committee",
        f"{_RG}: Committee (R's summary.glm: bse scaled by the Pearson dispersion)",
        _case_problem("negative_binomial_log_committee"),
        {
            "params": _last_first(
                [-0.0268147, 1.25103364, 2.91070663, -0.34799563, 0.00659808, -0.31303026,
                 -6.44847076]
            ),
            "bse_pearson_scaled": _last_first(
                [1.99956263e-02, 4.76820254e-01, 6.48362654e-01, 4.17956107e-01,
                 1.41512690e-03, 1.07770186e-01, 1.99557656e+00]
            ),
            "null_deviance": 27.81104693643434,
            "deviance": 5.615520158267981,
            "aic": 216.66573352377935,
            "llf": -101.33286676188968,
            "pearson_scale": 0.38528595746569905,
        },
    ),
    RCheck(
        "tweedie_p155_log_fair_weights",
        f"{_RW}: results_tweedie_aweights_nonrobust (R 3.5.1, epsilon = 1e-25; logLik NA)",
        _case_problem("tweedie_p155_log_fair_weights"),
        {
            "params": [
                0.74699331283637337986, -0.031592165334818379796, -0.021959412079720488226,
            ],
            "bse": [
                0.25438368514036091561, 0.011629899831763365614, 0.011034604276375996681,
            ],
            "deviance": 45399.238887,
        },
        note="deviance printed by R with %f (6 decimals).",
        r_epsilon=1e-25,
        r_maxit=100,
    ),
    RCheck(
        "gaussian log cpunish, weights, no intercept",
        f"{_RW}: results_gaussian_aweights_nonrobust (R 3.5.1, epsilon = 1e-25)",
        _cpunish_no_intercept(
            "Gaussian",
            "Log",
            income_scale=1000.0,
            weights=np.array([1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3, 2, 1], float),
        ),
        {
            "params": [0.019083886775238277644, 0.93993818789790006818],
            "bse": [0.021677622811348211396, 0.82525357389082676374],
            "deviance": 1248.273065,
            "llf": -52.674985,
        },
        note="checks R's -sum(log(wt)) in gaussian()$aic; deviance/llf printed with %f.",
        r_epsilon=1e-25,
        r_maxit=100,
    ),
    RCheck(
        "inverse gaussian canonical, simulated (inv_gaussian.csv[:5000])",
        f"{_RG}: InvGauss (llf is the commented-out R value)",
        _inv_gaussian_simulated,
        {
            "params": _last_first([0.4519770, -0.2508288, 1.0359574]),
            "bse": _last_first([0.03148291, 0.02237211, 0.03429943]),
            "null_deviance": 1520.673165475461,
            "deviance": 1423.943980407997,
            "aic": 5059.41911646446,
            "llf": -2525.70955823223,
            "scale": 0.2867266359127567,
            "pearson_chi2": 1432.771536,
        },
    ),
    RCheck(
        "tweedie p=1.5 identity cpunish, no intercept",
        f"{_RG}: CpunishTweediePower15",
        _cpunish_no_intercept("Tweedie", "Identity", fam_kw={"power": 1.5}),
        {
            "params": [0.0000471043, 6.4721324886],
            "bse": [0.0000246888, 3.5288126173],
            "deviance": 36.087307138233,
        },
    ),
    RCheck(
        "tweedie p=2 identity cpunish, no intercept",
        f"{_RG}: CpunishTweediePower2",
        _cpunish_no_intercept("Tweedie", "Identity", fam_kw={"power": 2.0}),
        {
            "params": [4.72472244209477e-05, 6.43243456540827],
            "bse": [1.86839521185429e-05, 3.83231672422612],
            "deviance": 15.7840685407599,
        },
    ),
    RCheck(
        "tweedie p=1 log cpunish, no intercept",
        f"{_RG}: CpunishTweedieLog1",
        _cpunish_no_intercept("Tweedie", "Log", fam_kw={"power": 1.0}),
        {
            "params": [1.65700638623525e-05, 1.54257997850499],
            "bse": [1.81044999017907e-05, 0.725739640176733],
            "deviance": 95.0325613464258,
        },
    ),
    RCheck(
        "tweedie p=1.5 log fair, no intercept",
        f"{_RG}: FairTweedieLog15",
        _fair_tweedie_no_intercept,
        {
            "params": [-0.389168171340452, 0.0670222370664611, -0.0970852004566712],
            "bse": [0.0323435784513691, 0.0063805300018014, 0.00893580175352525],
            "deviance": 20741.82,
        },
        note="deviance as stored (7 significant digits).",
    ),
]
# fmt: on


R_MUSTART: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "Gaussian": lambda y, w: y.copy(),
    "Bernoulli": lambda y, w: (w * y + 0.5) / (w + 1.0),
    "Binomial": lambda y, w: (w * y + 0.5) / (w + 1.0),
    "Poisson": lambda y, w: y + 0.1,
    "Gamma": lambda y, w: y.copy(),
    "InverseGaussian": lambda y, w: y.copy(),
    "NegativeBinomial": lambda y, w: y + (y == 0) / 6.0,
    "Tweedie": lambda y, w: y + 0.1 * (y == 0),
}


def emulate_r_glm_fit(prob: Problem, epsilon: float, maxit: int) -> dict[str, Any]:
    """R's ``glm.fit`` + ``summary.glm`` as R runs them, to explain differences from R.

    R starts from ``family$initialize``'s ``mustart``, stops when
    ``|dev - devold| / (|dev| + 0.1) < epsilon`` (1e-8 by default, so its coefficients are
    typically good to ~1e-5 only), and takes the covariance from the QR factorization of the
    last iteration, whose weights are those of the previous ``mu``; ``summary.glm``'s
    dispersion mixes those weights with the final working residuals.
    """
    y, w, X, off = prob.y, prob.weights, prob.X, prob.offset
    mu = R_MUSTART[prob.family](y, w)
    eta = link_fun(prob.link, mu, prob.link_kw)
    mu = link_inverse(prob.link, eta, prob.link_kw)
    devold = float(np.sum(w * unit_deviance(prob.family, y, mu, prob.fam_kw)))
    for _ in range(maxit):
        me = link_mu_eta(prob.link, eta, prob.link_kw)
        z = (eta - off) + (y - mu) / me
        ww = np.sqrt(w * me * me / variance(prob.family, mu, prob.fam_kw))
        Q, R = np.linalg.qr(X * ww[:, None])
        beta = scipy.linalg.solve_triangular(R, Q.T @ (z * ww))
        eta = X @ beta + off
        mu = link_inverse(prob.link, eta, prob.link_kw)
        dev = float(np.sum(w * unit_deviance(prob.family, y, mu, prob.fam_kw)))
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            break
        devold = dev
    Rinv = scipy.linalg.solve_triangular(R, np.eye(R.shape[0]))
    working_resid = (y - mu) / link_mu_eta(prob.link, eta, prob.link_kw)
    df_resid = int(np.count_nonzero(w > 0)) - X.shape[1]
    pearson_scale = float(np.sum(ww * ww * working_resid**2)) / df_resid
    free = prob.family in FREE_SCALE or prob.family == "NegativeBinomial"
    bse1 = np.sqrt(np.diag(Rinv @ Rinv.T))
    return {
        "params": beta.tolist(),
        "bse": (bse1 * math.sqrt(pearson_scale if free else 1.0)).tolist(),
        "bse_pearson_scaled": (bse1 * math.sqrt(pearson_scale)).tolist(),
        "deviance": dev,
    }


def _diff(mine: Any, r_value: Any) -> float:
    """Max relative difference of a scalar or a vector to R's value."""
    if isinstance(r_value, list):
        return max_rel_diff(mine, r_value)
    return _rel(float(mine), float(r_value))


def run_r_checks() -> list[dict[str, Any]]:
    """Refit every ``R_CHECKS`` model and measure the distance to R, quantity by quantity."""
    out: list[dict[str, Any]] = []
    for chk in R_CHECKS:
        prob = chk.problem()
        fit, res = fit_problem(prob)
        stats = statistics(prob, fit, res)
        ours: dict[str, Any] = dict(stats)
        ours["bse_pearson_scaled"] = (
            np.asarray(stats["bse"]) * math.sqrt(stats["pearson_chi2"] / stats["df_resid"])
        ).tolist()
        ours["pearson_scale"] = stats["pearson_chi2"] / stats["df_resid"]
        emulated = emulate_r_glm_fit(prob, chk.r_epsilon, chk.r_maxit)
        rows = []
        for key, r_value in chk.r.items():
            row: dict[str, Any] = {"quantity": key, "r": r_value, "ours": ours[key]}
            row["max_rel_diff"] = _diff(ours[key], r_value)
            if key in emulated:
                row["r_emulated_max_rel_diff"] = _diff(emulated[key], r_value)
            rows.append(row)
        out.append(
            {
                "model": chk.name,
                "source": chk.source,
                "note": chk.note,
                "r_epsilon": chk.r_epsilon,
                "checks": rows,
            }
        )
    return out


# ============================================================================================
# Driver
# ============================================================================================

CONVENTIONS = {
    "params": "intercept first, then the coefficients of X in the order of 'names'",
    "bse": (
        "sqrt(diag((X^T W X)^-1) * scale), W the expected (Fisher) weights "
        "w (dmu/deta)^2 / V(mu) at the fit, as R's summary.glm"
    ),
    "scale": (
        "Pearson chi2 / df_resid for Gaussian, Gamma, InverseGaussian and Tweedie; 1 for "
        "Bernoulli, Binomial, Poisson and NegativeBinomial (R's summary.glm would estimate "
        "it for MASS::negative.binomial(theta); MASS's summary.negbin and statsmodels use 1)"
    ),
    "deviance": "sum(w * unit deviance), R's family$dev.resids (statmod's for Tweedie)",
    "null_deviance": (
        "deviance of the intercept-only fit with the same weights and offset (R's glm(); "
        "without an offset, the deviance at the weighted mean of y)"
    ),
    "nobs": "rows with a nonzero prior weight (Binomial: rows, not trials)",
    "df_resid": "nobs - rank, rank = number of coefficients including the intercept",
    "llf": (
        "R's logLik.glm from family$aic, zero-weight rows dropped. Gaussian: dispersion "
        "dev/nobs, N(mu, disp/w), i.e. -0.5*(nobs*(log(2*pi*dev/nobs)+1) - sum(log(w))). "
        "Gamma: disp = dev/sum(w), sum(w * log dgamma(y, 1/disp, scale = mu*disp)). "
        "InverseGaussian: disp = dev/sum(w), sum(w * log dinvgauss(y, mu, disp)). "
        "Poisson: sum(w * log dpois(y, mu)). Bernoulli/Binomial: sum(log dbinom(round(w*y), "
        "round(w), mu)) (weights are trials, not multipliers). NegativeBinomial: "
        "MASS::negative.binomial(theta = 1/alpha)$aic, sum(w * log dnbinom(y, size = theta, "
        "mu = mu)). Tweedie with power 0/1/2/3: that of Gaussian/Poisson/Gamma/"
        "InverseGaussian; other powers: null (R's statmod::tweedie has aic NA)."
    ),
    "llf_df": (
        "k of AIC/BIC: rank + 1 where a dispersion is estimated in the likelihood (Gaussian, "
        "Gamma, InverseGaussian, and Tweedie with power 0, 2, 3), else rank; null with llf"
    ),
    "data_sha256": "cases.data_digest(case.load()) at generation time",
    "aic": "-2 llf + 2 k (R's AIC)",
    "bic": "-2 llf + log(nobs) k (R's BIC)",
    "sm_llf, sm_aic": (
        "statsmodels' own llf and aic of the same fit, for information (Binomial: the "
        "two-column endog fit); null where statsmodels gives NaN"
    ),
    "diagnostics": (
        "final_rel_step: max |Fisher step| / max(|beta|, 1e-8 max|beta|) at the stored "
        "params; final_step_in_se: the same step in unscaled standard errors; "
        "sm_params_max_rel_diff: stored vs statsmodels' own IRLS params"
    ),
}


def build() -> dict[str, Any]:
    """Compute the whole JSON document."""
    cases: dict[str, Any] = {}
    for name, case in CASES.items():
        print(f"fitting {name} ...", file=sys.stderr)
        cases[name] = reference_for(case)
    print("checking against R output in statsmodels' tests ...", file=sys.stderr)
    r_checks = run_r_checks()
    return {
        "metadata": {
            "generator": "python -m tests.references.make_references",
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "python": platform.python_version(),
            "statsmodels": statsmodels.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pd.__version__,
            "fit": {
                "statsmodels": (
                    f"GLM.fit(method='IRLS', tol_criterion='params', rtol={SM_RTOL}, atol=0, "
                    f"maxiter={SM_MAXITER}); must converge"
                ),
                "polish": (
                    f"Fisher scoring until the relative step is <= {POLISH_TARGET} or stops "
                    f"shrinking; refused above {MAX_FINAL_STEP}; must agree with statsmodels "
                    f"to {AGREE_SM}"
                ),
                "gaussian_identity": "exact rational least squares on the float64 data",
            },
            "conventions": CONVENTIONS,
        },
        "cases": cases,
        "r_verification": r_checks,
    }


def _compare(stored: Any, fresh: Any, path: str, problems: list[str]) -> None:
    """Recursively compare numbers of two JSON trees (params/bse 1e-8, others 1e-10)."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            if key in ("date", "diagnostics"):
                continue
            if key not in stored or key not in fresh:
                problems.append(f"{path}/{key}: present in only one of stored/fresh")
                continue
            _compare(stored[key], fresh[key], f"{path}/{key}", problems)
        return
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            problems.append(f"{path}: length {len(stored)} != {len(fresh)}")
            return
        if stored and all(isinstance(v, (int, float)) for v in stored + fresh):
            tol = 1e-8
            d = max_rel_diff(fresh, stored) if any(stored) else max_rel_diff(fresh, [1.0])
            if d > tol:
                problems.append(f"{path}: max rel diff {d:.3e} > {tol}")
            return
        for i, (a, b) in enumerate(zip(stored, fresh, strict=True)):
            _compare(a, b, f"{path}[{i}]", problems)
        return
    if isinstance(stored, (int, float)) and isinstance(fresh, (int, float)):
        if isinstance(stored, bool) or isinstance(fresh, bool):
            if stored != fresh:
                problems.append(f"{path}: {stored} != {fresh}")
            return
        tol = 1e-8 if "/r_verification" in path else 1e-10
        if _rel(float(fresh), float(stored)) > tol:
            problems.append(f"{path}: {fresh!r} != stored {stored!r}")
        return
    if stored != fresh and "/metadata/" not in path:
        problems.append(f"{path}: {fresh!r} != stored {stored!r}")


def _print_r_summary(r_checks: list[dict[str, Any]]) -> None:
    """Print the R verification table."""
    for entry in r_checks:
        print(f"{entry['model']}  [{entry['source']}]")
        for row in entry["checks"]:
            emu = row.get("r_emulated_max_rel_diff")
            extra = "" if emu is None else f"   (R's glm.fit emulated: {emu:.2e})"
            print(f"    {row['quantity']:20s} max rel diff {row['max_rel_diff']:.2e}{extra}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="recompute and compare with the stored JSON"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the R table")
    args = parser.parse_args(argv)
    doc = build()
    if not args.quiet:
        _print_r_summary(doc["r_verification"])
    if args.check:
        stored = json.loads(JSON_PATH.read_text())
        problems: list[str] = []
        _compare(stored, doc, "", problems)
        if problems:
            print("MISMATCH with the stored references:", file=sys.stderr)
            for line in problems:
                print("  " + line, file=sys.stderr)
            return 1
        print(f"OK: {len(doc['cases'])} cases agree with {JSON_PATH.name}", file=sys.stderr)
        return 0
    JSON_PATH.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {JSON_PATH} ({len(doc['cases'])} cases)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
