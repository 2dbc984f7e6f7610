"""Solvers: pure ``init / step / terminate`` functions run by one ``while_loop`` driver."""

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
    "iterate",
]

NEWTON_MAX_COST = 1500
"""Largest ``p (1 + p / (3 n))`` for which :func:`default_solver` picks Newton."""

SUBSAMPLE_MIN_ROWS = 500
"""Rows per parameter (``n / (p + 1)``) from which :func:`default_solver` subsamples."""

SUBSAMPLE_MIN_N = 100_000
"""Fewer rows than this are never subsampled by :func:`default_solver`."""


def default_solver(n: int, p: int) -> AbstractSolver:
    """The solver ``fit(solver=None)`` uses for an ``(n, p)`` design.

    Newton-type for moderate ``p``: ``SubsampledNewton()`` when ``n >= SUBSAMPLE_MIN_ROWS
    (p + 1)`` and ``n >= SUBSAMPLE_MIN_N`` (500 rows per parameter and 100,000 rows: there
    its start on a fifth or fewer of the rows and its one preconditioner replace 4-6 full
    Gram products; measured in ``benchmarks/RESULTS.md``; below, a fit takes milliseconds
    either way), else ``Newton()``; L-BFGS for large ``p``, as follows.

    A Newton step costs one Gram product and one Cholesky factorization, ``n p^2 + p^3/3``
    flops, compute-bound; an L-BFGS iteration costs about two memory-bound passes over
    ``X``. Their ratio per iteration grows like ``p (1 + p / (3 n))``, whatever ``n``. The
    rule: ``Newton()`` when ``p (1 + p / (3 n)) <= NEWTON_MAX_COST`` (1,500: p up to about
    1,460 at n = 20,000, about 1,100 at n = 1,000), else ``Optax()`` (full-batch L-BFGS with
    centered preconditioning; its ``bse`` are NaN above ``p = 2,000``).

    Measured on this project's CPU (2 cores, float64, logistic, n = 20,000, i.i.d. normal
    design, default tolerances, ``python -m benchmarks.wide --only crossover``):

    ======  ==========  ============  ==========  ============
    p       Newton (s)  Newton iter.  L-BFGS (s)  L-BFGS iter.
    ======  ==========  ============  ==========  ============
    100     0.16        3             0.12        9
    400     1.74        4             0.46        11
    1,000   6.93        4             1.68        14
    2,000   24.9        4             6.67        18
    4,000   165         5             4.59        27
    ======  ==========  ============  ==========  ============

    L-BFGS's times include the statistics at the solution: up to p = 2,000 one Gram product
    for the standard errors (most of its time at p = 2,000), above that the factorization of
    a NaN covariance (about 3.7 s at p = 4,000). On this well-conditioned design L-BFGS is
    as fast from p ~ 100 and 4x faster from p = 400. The switch is set much higher because
    L-BFGS's iteration count grows with the conditioning and Newton's does not: on the
    benchmark design with cond(X) ~ 1e3 (p = 100, n = 20,000) Newton converges in 4
    iterations (0.23 s) while L-BFGS had not converged after 1,000 (5.9 s, 35% error;
    scikit-learn's lbfgs needs 4,400 iterations there). Newton also gives R-exact answers
    and standard errors at every ``p``. Above the switch a Newton fit takes tens of seconds
    or more here and grows like ``p^2``, and L-BFGS's worst case is the better bet. On
    accelerators, where dense Gram products are relatively cheaper, the crossover is likely
    higher: pass ``solver=`` explicitly there.

    Args:
        n: number of rows of ``X``.
        p: number of columns of ``X`` (without the intercept).

    Returns:
        ``SubsampledNewton()``, ``Newton()`` or ``Optax()``, with their default settings.

    Example:
        >>> from jaxglm.solvers import default_solver
        >>> [default_solver(n, p).name for n, p in [(10**6, 100), (20_000, 100), (20_000, 4_000)]]
        ['SubsampledNewton', 'Newton', 'Optax(L-BFGS)']
    """
    if p * (1.0 + p / (3.0 * max(n, 1))) > NEWTON_MAX_COST:
        return Optax()
    if n >= max(SUBSAMPLE_MIN_N, SUBSAMPLE_MIN_ROWS * (p + 1)):
        return SubsampledNewton()
    return Newton()
