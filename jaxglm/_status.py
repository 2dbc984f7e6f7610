"""Why a fit stopped: the :class:`Status` codes, their messages, and the warnings.

A leaf module: solvers set these codes inside compiled loops, results print them, the
pipeline turns them into warnings. It imports nothing from jaxglm.
"""

from __future__ import annotations

import enum

__all__ = ["ConvergenceWarning", "PerfectSeparationWarning", "Status"]


class ConvergenceWarning(UserWarning):
    """A concrete fit ended without converging (see ``res.status_message``)."""


class PerfectSeparationWarning(UserWarning):
    """A concrete binomial-type fit has fitted probabilities numerically 0 or 1.

    The maximum likelihood estimate does not exist (perfect or quasi-complete separation):
    some coefficients diverge and their standard errors are meaningless. The warning names
    the columns whose coefficients diverge.
    """


class Status(enum.IntEnum):
    """Why a fit stopped; ``res.status`` holds the integer, per batch member."""

    CONVERGED = 0
    MAX_ITER = 1
    NONFINITE = 2
    RANK_DEFICIENT = 3
    LINE_SEARCH_FAILED = 4
    RUNNING = 5  # internal: never in a returned result
    SEPARATION = 6

    def __str__(self) -> str:
        """The name (``print(res.status)`` shows ``CONVERGED``; ``int()`` gives the code)."""
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

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
    Status.SEPARATION: (
        "fitted probabilities numerically 0 or 1 occurred (perfect or quasi-complete "
        "separation): the MLE does not exist and some coefficients diverge; drop the "
        "separating columns, or use a ridge penalty (alpha > 0)"
    ),
}
