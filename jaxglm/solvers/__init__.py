"""Solvers: pure ``init / step`` functions run by one ``while_loop`` driver, which owns the
NONFINITE and MAX_ITER decisions (:mod:`jaxglm.solvers._driver`).

:func:`resolve` is the one place a solver is chosen and checked against what the fit asks
of it (an L1 penalty, warm starts along a path); capabilities are attributes of
:class:`AbstractSolver`.
"""

import dataclasses
from typing import Any

from jaxglm.solvers._driver import AbstractSolver, iterate
from jaxglm.solvers.newton import Newton
from jaxglm.solvers.optax import Optax
from jaxglm.solvers.prox_newton import ProxNewton
from jaxglm.solvers.subsampled import SubsampledNewton

__all__ = [
    "NEWTON_MAX_COST",
    "SUBSAMPLE_MIN_N",
    "SUBSAMPLE_MIN_ROWS",
    "AbstractSolver",
    "Newton",
    "Optax",
    "ProxNewton",
    "SubsampledNewton",
    "default_solver",
    "default_vector_solver",
    "iterate",
    "resolve",
]

NEWTON_MAX_COST = 256
"""Largest ``p (1 + p / (3 n))`` for which :func:`default_solver` picks Newton."""

SUBSAMPLE_MIN_ROWS = 500
"""Rows per parameter (``n / (p + 1)``) from which :func:`default_solver` subsamples."""

SUBSAMPLE_MIN_N = 100_000
"""Fewer rows than this are never subsampled by :func:`default_solver`."""


def default_solver(n: int, p: int) -> AbstractSolver:
    """The solver ``fit(solver=None)`` uses for an ``(n, p)`` design.

    Newton-type for small ``p``: ``SubsampledNewton()`` when ``n >= SUBSAMPLE_MIN_ROWS
    (p + 1)`` and ``n >= SUBSAMPLE_MIN_N`` (500 rows per parameter and 100,000 rows: there
    its start on a fifth or fewer of the rows and its one preconditioner replace 4-6 full
    Gram products; measured in ``benchmarks/RESULTS.md``; below, a fit takes milliseconds
    either way), else ``Newton()``; L-BFGS for larger ``p``, as follows.

    A Newton step costs one Gram product and one Cholesky factorization, ``n p^2 + p^3/3``
    flops, compute-bound; an L-BFGS iteration costs about two memory-bound passes over
    ``X``. Their ratio per iteration grows like ``p (1 + p / (3 n))``, whatever ``n``. The
    rule: ``Newton()`` when ``p (1 + p / (3 n)) <= NEWTON_MAX_COST`` (256: p up to about
    250 at n >= 20,000), else ``Optax()``: full-batch L-BFGS, preconditioned by the
    factored information up to ``p = 256``; above, centered and scaled, and where that has
    not converged after 30 iterations (an ill-conditioned design) by the factored
    information of ``8 (p+1)`` subsampled rows (:mod:`jaxglm.solvers.optax`), so that it
    does not stall on conditioning as plain L-BFGS does. Its ``bse`` take one full Gram
    product at the solution, and are NaN above ``p = 2,000``.

    Measured on this project's CPU (2 cores, float64, logistic, the designs of
    ``benchmarks/problems.py``: i.i.d. normal columns (well) and cond(X) ~ 1e3 (ill); each
    solver at the loosest tolerance of its ladder that reaches 1e-3 standard errors,
    ``cov_type="none"``, seconds; ``python -m benchmarks.default_rule``; the rule's pick
    marked ``*``). Rows at p <= 100, p = 1,000 and p = 5,000: 2026-12-07 10:12-10:55 UTC,
    medians of 1-3 interleaved rounds on a machine loaded by other jobs (load average 5-14
    on 2 cores: times 2-5x a quiet machine's, and a single row's ratios uncertain by
    ~1.5x); p = 500: 2026-12-06, load 5-7 per core; p = 2,000: 2026-12-07, quiet. The
    full tables, commands and loads in ``benchmarks/RESULTS.md``:

    =========  =====  ======  =======  ================  ===========  ==================
    n          p      design  Newton   SubsampledNewton  Optax()      scikit-learn lbfgs
    =========  =====  ======  =======  ================  ===========  ==================
    10,000     100    well    0.261 *  0.196             0.174        0.889
    10,000     100    ill     0.236 *  0.160             0.168        not reached
    100,000    10     well    0.172    0.091 *           0.077        0.555
    100,000    10     ill     0.188    0.104 *           0.084        29.1
    100,000    100    well    1.17     1.51 *            0.838        1.19
    100,000    100    ill     0.572    0.547 *           0.386        not reached
    1,000,000  100    well    10.0     5.58 *            6.91         4.70
    1,000,000  100    ill     6.47     3.76 *            6.25         not reached
    100,000    500    well    18.5     -                 1.68 *       1.23
    100,000    500    ill     32.9     -                 7.99 *       not reached
    100,000    1,000  well    -        -                 1.33 *       1.58
    100,000    1,000  ill     -        -                 6.40 *       -
    100,000    2,000  well    -        -                 1.45 *       1.15
    100,000    2,000  ill     -        -                 7.48 *       -
    100,000    5,000  well    -        -                 27.8 *       17.9
    100,000    5,000  ill     -        -                 133 *        -
    =========  =====  ======  =======  ================  ===========  ==================

    "not reached": scikit-learn's lbfgs at its tightest rung was not within 1e-3 standard
    errors after 1,000 iterations; "-": not run. With standard errors the default adds the
    information at the solution (one Gram product); above ``p = 2,000`` it gives none: its
    ``bse`` are NaN (``jaxglm.solvers.optax.INFORMATION_MAX_P``). At p <= 100 the three
    solvers are within the load's noise of each other in these single rows; interleaved
    A/B runs of 7-9 rounds (RESULTS.md) kept ``SubsampledNewton()`` the fastest at n =
    100,000, p = 100 on both designs. At n = 10,000, p = 100, ``Optax()`` (factored-
    information preconditioning at this ``p``) took 0.45-0.57x ``Newton()``'s time with
    standard errors on four problems (quiet, 2026-12-07 13:19): 20-30 ms a fit, not
    adopted, since below n = 100,000 Newton gives R's answer to rounding and the default is
    already 0.29x scikit-learn's lbfgs there.

    On the well-conditioned designs L-BFGS converges in a few iterations without any
    ``p x p`` matrix; on the ill-conditioned ones plain (centered) L-BFGS had not converged
    after 1,000 iterations at p = 500 (nor had scikit-learn's lbfgs), and the restart in the
    subsampled information's coordinates converges in a few more. Newton remains the
    default below the switch: exact R answers in 3-6 iterations, and cheap there. On
    accelerators, where dense Gram products are relatively cheaper, the crossover is likely
    higher: pass ``solver=`` explicitly there.

    Args:
        n: number of rows of ``X``.
        p: number of columns of ``X`` (without the intercept).

    Returns:
        ``SubsampledNewton()``, ``Newton()`` or ``Optax()``, with their default settings.

    Example:
        >>> from jaxglm.solvers import default_solver
        >>> [default_solver(n, p).name for n, p in [(10**6, 100), (20_000, 100), (20_000, 500)]]
        ['SubsampledNewton', 'Newton', 'Optax(L-BFGS)']
    """
    if p * (1.0 + p / (3.0 * max(n, 1))) > NEWTON_MAX_COST:
        return Optax()
    return SubsampledNewton() if _subsamples(n, p) else Newton()


def _subsamples(n: int, p: int) -> bool:
    """Whether a Newton-type default subsamples: ``n >= SUBSAMPLE_MIN_N`` and ``n >=
    SUBSAMPLE_MIN_ROWS (p + 1)`` (:func:`default_solver`, :func:`default_vector_solver`)."""
    return n >= max(SUBSAMPLE_MIN_N, SUBSAMPLE_MIN_ROWS * (p + 1))


def resolve(
    solver: AbstractSolver | None,
    n: int,
    p: int,
    *,
    l1: bool = False,
    warm_starts: bool = False,
    vector_theta: bool = False,
    tol: Any = None,
    max_iter: Any = None,
) -> AbstractSolver:
    """The solver a fit runs: the given one or the default, checked and with overrides.

    Args:
        solver: the user's solver, or None for the default: ``ProxNewton()`` when ``l1``
            or ``warm_starts`` is asked for, :func:`default_vector_solver` of ``(n, p)`` for
            ``vector_theta``, else :func:`default_solver` of ``(n, p)``.
        n, p: the design's shape.
        l1: the fit has an L1 / elastic-net penalty (``l1_ratio > 0`` or traced).
        warm_starts: the fit runs along a path (:func:`jaxglm.path`, :func:`jaxglm.cv`).
        vector_theta: the family has an m-vector ``theta`` (:class:`jaxglm.Multinomial`).
        tol, max_iter: override the solver's own defaults when not None.

    Returns:
        The solver.

    Raises:
        TypeError: ``solver`` is not a jaxglm solver.
        ValueError: the solver cannot do what the fit asks.

    Example:
        >>> from jaxglm.solvers import resolve
        >>> resolve(None, 1000, 5, l1=True, tol=1e-6).name, resolve(None, 1000, 5).name
        ('ProxNewton', 'Newton')
    """
    if solver is None:
        if l1 or warm_starts:
            solver = ProxNewton()
        else:
            solver = default_vector_solver(n, p) if vector_theta else default_solver(n, p)
    if not isinstance(solver, AbstractSolver):
        raise TypeError(f"solver must be a jaxglm solver, got {solver!r}")
    if vector_theta and not solver.supports_vector_theta:
        raise ValueError(
            "a family with a vector theta (Multinomial) needs a solver that runs (p+1, m) "
            f"parameters (solver=jaxglm.Newton()), got solver={solver!r}"
        )
    if l1 and not solver.supports_l1:
        raise ValueError(
            "an L1 / elastic-net penalty (l1_ratio > 0, or a traced l1_ratio) needs a solver "
            f"that supports it (solver=jaxglm.ProxNewton()), got solver={solver!r}"
        )
    if warm_starts and not solver.warm_starts:
        raise ValueError(
            "a path needs a solver with warm starts (solver=jaxglm.ProxNewton()), got "
            f"solver={solver!r}"
        )
    if tol is not None:
        solver = dataclasses.replace(solver, tol=tol)
    if max_iter is not None:
        solver = dataclasses.replace(solver, max_iter=max_iter)
    return solver


def default_vector_solver(n: int, p: int) -> AbstractSolver:
    """The solver ``fit(solver=None)`` uses for a family with an m-vector ``theta``
    (:class:`jaxglm.Multinomial`) on an ``(n, p)`` design.

    ``SubsampledNewton()`` where :func:`default_solver` subsamples (``n >= SUBSAMPLE_MIN_N``
    and ``n >= SUBSAMPLE_MIN_ROWS (p + 1)``), else ``Newton()``: never L-BFGS, which
    needed its tightest tolerance to reach 1e-3 standard errors on an ill-conditioned
    design. A Newton step forms the ``(p+1) m`` square block information from all rows
    (:func:`jaxglm._linalg.block_gram`, ``n m(m+1)/2 (p+1)(p+2)/2`` multiply-adds);
    SubsampledNewton forms it once on a tenth of the rows, and its iterations are passes
    over ``X``. The standard errors take one block information at the solution either way.

    Measured at n = 100,000, p = 50, k = 10 classes (float64, standard errors included,
    tol 1e-6, where both reach 1e-3 standard errors; on this project's 2-core CPU, loaded
    by other jobs; the seconds and the loads in ``benchmarks/RESULTS.md``, issue 19 target
    4), the time of SubsampledNewton over Newton's, median of interleaved rounds:

    =====================================================  ==========  ===================
    design, command                                        time ratio  iterations (N / SN)
    =====================================================  ==========  ===================
    i.i.d. normal, ``benchmarks.multinomial --solvers``    0.59        3 / 6
    i.i.d. normal, the same, an earlier run                0.51        3 / 6
    i.i.d. normal, the same, quiet, after the line search  0.41        3 / 6
    cond(X) ~ 1e3, ``benchmarks.multinomial --ill``         0.43        4 / 6
    cond(X) ~ 1e3, Newton vs SubsampledNewton alone        0.50        4 / 6
    =====================================================  ==========  ===================

    Below ``SUBSAMPLE_MIN_N`` rows (``--quick``: n = 20,000, p = 20, k = 5) the two were
    level (SubsampledNewton 0.91x Newton's time, one round), and Newton's exact steps are
    kept there.

    Args:
        n: number of rows of ``X``.
        p: number of columns of ``X`` (without the intercept).

    Returns:
        ``SubsampledNewton()`` or ``Newton()``, with their default settings.

    Example:
        >>> from jaxglm.solvers import default_vector_solver
        >>> [default_vector_solver(n, 50).name for n in (20_000, 100_000)]
        ['Newton', 'SubsampledNewton']
    """
    return SubsampledNewton() if _subsamples(n, p) else Newton()
