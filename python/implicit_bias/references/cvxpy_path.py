"""The CVXPY route to the reference problems: the cross-check of the default solvers (``solver=``
names a CVXPY solver, e.g. ``"CLARABEL"``). CVXPY is imported only when this route is taken."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .lp import LPSolution

__all__ = ["solve_cvxpy", "lp_cvxpy"]


def solve_cvxpy(problem: Any, solver: str, argname: str = "solver") -> str:
    """Solve and return a note ("" or the inaccuracy caveat); CVXPY's own warning is replaced by it.
    Failures raise RuntimeError naming ``argname`` (the caller's solver argument).

    Args:
        problem: a ``cvxpy.Problem``, solved in place (its variables hold the solution).
        solver: the CVXPY solver name, e.g. ``"CLARABEL"``.
        argname: the caller's solver argument, the start of the error message.

    Returns:
        "" for status optimal; for ``optimal_inaccurate``, a note saying so.

    Raises:
        RuntimeError: when the solver fails or returns any other status.
    """
    import cvxpy as cp

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            problem.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise RuntimeError(f"{argname}: {solver} failed ({exc})") from exc
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        # Separability was checked beforehand, so this is a solver failure, not a data problem.
        raise RuntimeError(f"{argname}: {solver} returned status {problem.status!r} on separable data")
    return f"{solver} reported status {problem.status!r}." if problem.status != cp.OPTIMAL else ""


def lp_cvxpy(Z: np.ndarray, kind: str, solver: str) -> tuple[LPSolution, str]:
    """The same LP through CVXPY with another solver (a cross-check; the default is :mod:`.lp`).

    Args:
        Z: the rows ``z_i = y_i x_i`` of separable data, shape (n, d), float64 (at unit scale).
        kind: ``"linf"``, or any other value for the l1 ball.
        solver: the CVXPY solver name.

    Returns:
        ``(solution, note)``: the :class:`~.lp.LPSolution` (``w_hat`` (d,), ``lam`` (n,), ``gamma``,
        unit column scales) and the note of :func:`solve_cvxpy`.

    Raises:
        RuntimeError: (naming ``solver``) when the solver fails or does not report an optimum.
    """
    import cvxpy as cp

    d = Z.shape[1]
    w = cp.Variable(d, bounds=[-1, 1]) if kind == "linf" else cp.Variable(d)
    s = cp.Variable()
    constraint = Z @ w >= s
    ball = [] if kind == "linf" else [cp.norm1(w) <= 1]
    note = solve_cvxpy(cp.Problem(cp.Maximize(s), [constraint, *ball]), solver)
    gamma = float(s.value)
    lam = np.maximum(np.asarray(constraint.dual_value, dtype=np.float64), 0.0) / gamma
    return LPSolution(np.asarray(w.value, dtype=np.float64) / gamma, lam, gamma, np.ones(d)), note
