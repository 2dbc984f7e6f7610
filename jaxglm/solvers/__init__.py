"""Solvers: pure ``init / step / terminate`` functions run by one ``while_loop`` driver."""

from jaxglm.solvers._driver import AbstractSolver, iterate
from jaxglm.solvers.newton import Newton
from jaxglm.solvers.optax import Optax

__all__ = ["NEWTON_MAX_COST", "AbstractSolver", "Newton", "Optax", "default_solver", "iterate"]

NEWTON_MAX_COST = 1500
"""Largest ``p (1 + p / (3 n))`` for which :func:`default_solver` picks Newton."""


def default_solver(n: int, p: int) -> AbstractSolver:
    """The solver ``fit(solver=None)`` uses for an ``(n, p)`` design: Newton or L-BFGS.

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
        ``Newton()`` or ``Optax()``, with their default settings.

    Example:
        >>> from jaxglm.solvers import default_solver
        >>> default_solver(20_000, 100).name, default_solver(20_000, 4_000).name
        ('Newton', 'Optax(L-BFGS)')
    """
    if p * (1.0 + p / (3.0 * max(n, 1))) <= NEWTON_MAX_COST:
        return Newton()
    return Optax()
