"""Seeded synthetic GLM problems shared by every adapter.

Three families (logistic, Poisson, Gamma with log link), each on a well-conditioned design
(i.i.d. standard normal columns) and on an ill-conditioned one (cond(X) ~ 1e3), at the full
size n = 1,000,000 and a quick size n = 100,000, with p = 100 features and an intercept.

The ill-conditioned design is ``X = Z @ A`` with ``Z`` i.i.d. standard normal and the mixing
matrix ``A = diag(s) @ Q`` (``s`` log-spaced from 1 to 1e-3, ``Q`` a random orthogonal
matrix), its columns rescaled to unit variance: every column is correlated with every other
one and cond(X) is close to cond(A) ~ 1e3. The true coefficients are scaled so that the
linear predictor has a moderate spread (``ETA_SD``), so that means are never extreme.

Generated arrays are cached under ``benchmarks/_cache/`` (git-ignored); the coefficients and
the mixing matrix do not depend on ``n``, so the quick problems are smaller draws of the
same models.

Example:
    >>> from benchmarks.problems import load_problem, problem_specs
    >>> spec = problem_specs(quick=True)[0]
    >>> spec.name
    'logistic_well_n100000'
    >>> load_problem(spec).X.shape  # generated on the first call, then cached
    (100000, 100)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.special import expit

Family = Literal["logistic", "poisson", "gamma_log"]
Conditioning = Literal["well", "ill"]

FAMILIES: tuple[Family, ...] = ("logistic", "poisson", "gamma_log")
CONDITIONINGS: tuple[Conditioning, ...] = ("well", "ill")
N_FULL = 1_000_000
N_QUICK = 100_000
P = 100
SEED = 20_240_601
#: cond(A) of the mixing matrix of the ill-conditioned designs (before column rescaling).
TARGET_COND = 1e3
#: Standard deviation of ``X @ coef_true`` per family (population value).
ETA_SD: dict[Family, float] = {"logistic": 1.0, "poisson": 0.5, "gamma_log": 0.5}
INTERCEPT: dict[Family, float] = {"logistic": -0.3, "poisson": 0.5, "gamma_log": 1.0}
#: Shape of the Gamma responses (dispersion phi = 1 / shape).
GAMMA_SHAPE = 2.0
#: Bump when the generator changes, so that stale cache files are not reused.
GENERATOR_VERSION = 1
CACHE_DIR = Path(__file__).resolve().parent / "_cache"


@dataclass(frozen=True, eq=False)
class Problem:
    """One synthetic GLM problem (float64 numpy arrays, read-only).

    Attributes:
        name: unique name, e.g. ``"poisson_ill_n100000"``; also the cache key.
        family: ``"logistic"`` | ``"poisson"`` | ``"gamma_log"``.
        X: design matrix without the intercept column, shape (n, p).
        y: response, shape (n,).
        coef_true: coefficients that generated ``y``, shape (p,).
        intercept_true: intercept that generated ``y``.
        cond: condition number of ``X`` (ratio of its extreme singular values).
    """

    name: str
    family: Family
    X: np.ndarray
    y: np.ndarray
    coef_true: np.ndarray
    intercept_true: float
    cond: float


@dataclass(frozen=True)
class ProblemSpec:
    """What identifies a problem: family, conditioning and size."""

    family: Family
    conditioning: Conditioning
    n: int
    p: int = P

    @property
    def name(self) -> str:
        """The problem's name, e.g. ``"logistic_well_n1000000"`` (``"..._p500"`` appended
        for another ``p`` than :data:`P`: it is also the cache key)."""
        name = f"{self.family}_{self.conditioning}_n{self.n}"
        return name if self.p == P else f"{name}_p{self.p}"


def problem_specs(quick: bool) -> list[ProblemSpec]:
    """The six problem specifications: three families x two conditionings."""
    n = N_QUICK if quick else N_FULL
    return [ProblemSpec(f, c, n) for c in CONDITIONINGS for f in FAMILIES]


def make_problems(quick: bool) -> list[Problem]:
    """All six problems of one size, generated once and then loaded from the cache.

    The full size holds about 5 GB in memory; :func:`load_problem` on one
    :class:`ProblemSpec` at a time keeps a single problem in memory.
    """
    return [load_problem(spec) for spec in problem_specs(quick)]


def load_problem(spec: ProblemSpec) -> Problem:
    """Load ``spec`` from ``benchmarks/_cache/``, generating and caching it if absent."""
    path = CACHE_DIR / f"{spec.name}.v{GENERATOR_VERSION}.npz"
    if not path.exists():
        CACHE_DIR.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **_generate(spec))  # freed before the file is read back
        tmp.replace(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    for a in arrays.values():
        a.setflags(write=False)
    return Problem(
        name=spec.name,
        family=spec.family,
        X=arrays["X"],
        y=arrays["y"],
        coef_true=arrays["coef_true"],
        intercept_true=float(arrays["intercept_true"]),
        cond=float(arrays["cond"]),
    )


def _generate(spec: ProblemSpec) -> dict[str, np.ndarray]:
    """Draw the design, the coefficients and the response of ``spec``."""
    ids = [SEED, FAMILIES.index(spec.family), CONDITIONINGS.index(spec.conditioning)]
    model_rng = np.random.default_rng(ids)  # shared by every n: same model, new draws
    data_rng = np.random.default_rng([*ids, spec.n])
    mixing = _mixing_matrix(model_rng, spec.p) if spec.conditioning == "ill" else None
    coef = model_rng.standard_normal(spec.p)
    cov = np.eye(spec.p) if mixing is None else mixing.T @ mixing
    coef *= ETA_SD[spec.family] / np.sqrt(coef @ cov @ coef)
    intercept = INTERCEPT[spec.family]

    X = data_rng.standard_normal((spec.n, spec.p))
    if mixing is not None:  # in place, a block of rows at a time: no second n x p array
        rows = max(1, (1 << 23) // spec.p)
        for i in range(0, spec.n, rows):
            X[i : i + rows] = X[i : i + rows] @ mixing
    eta = intercept + X @ coef
    if spec.family == "logistic":
        y = (data_rng.uniform(size=spec.n) < expit(eta)).astype(np.float64)
    elif spec.family == "poisson":
        y = data_rng.poisson(np.exp(eta)).astype(np.float64)
    else:
        y = data_rng.gamma(GAMMA_SHAPE, np.exp(eta) / GAMMA_SHAPE)
    # cond(X) from the eigenvalues of X^T X (p x p): an SVD of X would copy it, and for
    # cond(X) ~ 1e3 the Gram's rounding (eps * cond(X)^2 ~ 1e-10) does not show.
    eigenvalues = np.linalg.eigvalsh(X.T @ X)
    return {
        "X": X,
        "y": y,
        "coef_true": coef,
        "intercept_true": np.float64(intercept),
        "cond": np.sqrt(eigenvalues[-1] / eigenvalues[0]),
    }


def _mixing_matrix(rng: np.random.Generator, p: int) -> np.ndarray:
    """``diag(s) @ Q`` with log-spaced ``s`` in [1/TARGET_COND, 1], columns of unit norm."""
    s = np.logspace(0.0, -np.log10(TARGET_COND), p)
    q, r = np.linalg.qr(rng.standard_normal((p, p)))
    q *= np.sign(np.diag(r))  # Haar-distributed orthogonal matrix
    mixing = s[:, None] * q
    return mixing / np.linalg.norm(mixing, axis=0)
