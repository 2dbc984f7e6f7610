"""Solvers: pure ``init / step / terminate`` functions run by one ``while_loop`` driver."""

from jaxglm.solvers._driver import AbstractSolver, iterate
from jaxglm.solvers.newton import Newton

__all__ = ["AbstractSolver", "Newton", "iterate"]
