"""Non-negative least squares, ``min_{x >= 0} ||A x - b||``, checked: SciPy's solver, else Lawson-Hanson.

The dual QP's robust fallback (qp.py) needs NNLS on rank-deficient faces. ``scipy.optimize.nnls`` was
reimplemented in SciPy 1.12 and returns suboptimal points without a warning through 1.15.3 (scipy
issue #25389), the last release for Python 3.10: there our l2 max-margin direction came out with a
minimum margin of 0.956 instead of 1 on a 3-point set. :func:`nnls` therefore checks SciPy's answer
against the optimality (KKT) conditions and, when they fail, also runs :func:`lawson_hanson` (the
textbook active-set algorithm, Lawson & Hanson, Solving Least Squares Problems, 1974, ch. 23, every
passive-set subproblem an SVD least-squares solve) and keeps the smaller residual. SciPy's solver stays
the first choice because it is more accurate on badly scaled columns (a column scaled by 1e5).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls as scipy_nnls


def nnls(A: np.ndarray, b: np.ndarray, max_iter: int | None = None) -> tuple[np.ndarray, float]:
    """``min ||A x - b||_2`` subject to ``x >= 0``: SciPy's answer if it passes the KKT check, else the
    better of it and :func:`lawson_hanson`'s.

    Args:
        A: (m, n) float matrix.
        b: (m,) right-hand side.
        max_iter: iteration bound passed to both solvers (default: theirs).

    Returns:
        ``(x, rnorm)``: the (n,) minimizer and ``||A x - b||``.
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x, _ = scipy_nnls(A, b, maxiter=max_iter)
    if satisfies_kkt(A, b, x):
        return x, float(np.linalg.norm(A @ x - b))
    y, _ = lawson_hanson(A, b, max_iter)
    best = min((x, y), key=lambda z: float(np.linalg.norm(A @ z - b)))
    return best, float(np.linalg.norm(A @ best - b))


def satisfies_kkt(A: np.ndarray, b: np.ndarray, x: np.ndarray, rtol: float = 1e-9) -> bool:
    """Whether ``x`` is an NNLS optimum to rounding: ``x >= 0``, the gradient ``A^T (A x - b)`` is
    ``>= -tol`` everywhere and ``|.| <= tol`` where ``x > 0`` (per column, ``tol = rtol ||a_j|| ||b||``)."""
    grad = A.T @ (A @ x - b)
    tol = rtol * np.linalg.norm(A, axis=0) * max(float(np.linalg.norm(b)), np.finfo(np.float64).tiny)
    return bool(np.all(x >= 0) and np.all(grad >= -tol) and np.all(np.abs(grad[x > 0]) <= tol[x > 0]))


def lawson_hanson(A: np.ndarray, b: np.ndarray, max_iter: int | None = None) -> tuple[np.ndarray, float]:
    """Solve ``min ||A x - b||_2`` subject to ``x >= 0`` by Lawson and Hanson's active-set method.

    Args:
        A: (m, n) float matrix.
        b: (m,) right-hand side.
        max_iter: bound on passive-set solves (default ``3 n + 30``).

    Returns:
        ``(x, rnorm)``: the (n,) minimizer and the residual norm ``||A x - b||``.

    Raises:
        RuntimeError: when the iteration bound is reached (not seen in practice: each outer step
            strictly lowers the residual).
    """
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    m, n = A.shape
    limit = 3 * n + 30 if max_iter is None else int(max_iter)
    tol = 10.0 * np.finfo(np.float64).eps * max(np.abs(A).sum(axis=0).max(initial=0.0), 1.0) * max(m, n)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    blocked = np.zeros(n, dtype=bool)  # could not enter at the current x (rounding); cleared when x moves
    solves = 0

    def solve() -> np.ndarray:
        nonlocal solves
        solves += 1
        if solves > limit:
            raise RuntimeError(f"nnls: no convergence within {limit} passive-set solves")
        z = np.zeros(n)
        z[passive] = np.linalg.lstsq(A[:, passive], b, rcond=None)[0]
        return z

    while True:
        w = A.T @ (b - A @ x)  # the negative gradient: > 0 where raising x_j lowers the residual
        candidates = np.where(~passive & ~blocked & (w > tol), w, -np.inf)
        j = int(np.argmax(candidates))
        if not np.isfinite(candidates[j]):
            break  # KKT: w_j <= tol off the passive set, x_j > 0 (and w_j ~ 0) on it
        passive[j] = True
        z = solve()
        if z[j] <= 0:  # w_j > tol only by rounding: j stays out until x changes
            passive[j] = False
            blocked[j] = True
            continue
        blocked[:] = False
        while not np.all(z[passive] > 0):
            # step from x towards z until the first passive variable reaches 0, then drop the zeros
            shrinking = np.flatnonzero(passive & (z <= 0))
            ratios = x[shrinking] / (x[shrinking] - z[shrinking])
            alpha = ratios.min()
            x = x + alpha * (z - x)
            x[shrinking[ratios <= alpha]] = 0.0  # the blocking variables, exactly (not a rounding residue)
            passive &= x > 0
            x[~passive] = 0.0
            z = solve()
        x = z
    return x, float(np.linalg.norm(A @ x - b))
