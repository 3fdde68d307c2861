"""The exact dual QP solver behind every l2 / Mahalanobis reference (package-internal, public API).

``max_{lambda >= 0} sum(lambda) - 1/2 ||G^T lambda||^2`` is the dual of
``min 1/2 ||v||^2 s.t. G v >= 1`` with ``v = G^T lambda``; a primal active-set method (Lawson-Hanson
structure) solves it to rounding, warm-started from a guessed support, with the LDP -> NNLS reduction
as the robust fallback on rank-deficient faces.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike
from threadpoolctl import ThreadpoolController

from .._validation import as_real_array, check_real
from ..errors import NotSeparableError
from .nnls import nnls

__all__ = ["DualQPSolution", "solve_dual_qp", "one_blas_thread"]

# A face of the dual QP whose Cholesky pivots spread more than this is treated as singular.
_PIVOT_RATIO = 1e-7

_BLAS: list[ThreadpoolController] = []  # created on first use (it scans the loaded libraries once)


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which the BLAS libraries loaded in this process (OpenBLAS, MKL, BLIS) use one
    thread, restored on exit (threadpoolctl).

    The solver's matrix products and factorizations are small and many (one Gram matrix and a few
    Cholesky solves per active-set change): on a machine whose cores are busy, or shared, BLAS's own
    threads only fight each other (n = 1000, d = 2000 on 2 shared cores: 17-19 s with the default
    threads, ~2 s with one). One thread computes the same answers (tests/references/test_blas_threads.py).
    """
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


@dataclass
class DualQPSolution:
    """Solution of ``max_{lambda >= 0} sum(lambda) - 1/2 ||G^T lambda||^2`` (see :func:`solve_dual_qp`).

    ``lambdas`` (n,) >= 0, exactly 0 off the support; ``support`` indices with lambda > 0;
    ``margins`` (n,) ``= G G^T lambda``, the margins of the primal solution (>= 1, = 1 on the
    support); ``iterations`` active-set changes; ``method`` "active-set", or "nnls" /
    "nnls+active-set" when a singular face forced the robust fallback.
    """

    lambdas: np.ndarray
    support: np.ndarray
    margins: np.ndarray
    iterations: int
    method: str


class _SingularFace(Exception):
    """The Gram matrix restricted to the current active set is (numerically) singular."""


def _face_solve(K: np.ndarray, face: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, bool]]:
    """Minimizer of 1/2 l^T K l - 1^T l on the face {l_i = 0 off ``face``}: K_FF l_F = 1, refined."""
    K_ff = K[np.ix_(face, face)]
    try:
        factor = sla.cho_factor(K_ff, lower=True, check_finite=False)
    except np.linalg.LinAlgError as exc:
        raise _SingularFace from exc
    pivots = np.abs(np.diag(factor[0]))
    if not np.all(np.isfinite(pivots)) or pivots.min() <= _PIVOT_RATIO * pivots.max():
        raise _SingularFace
    ones = np.ones(face.size)
    sol = sla.cho_solve(factor, ones, check_finite=False)
    for _ in range(2):  # iterative refinement: the normal equations square the conditioning
        sol += sla.cho_solve(factor, ones - K_ff @ sol, check_finite=False)
    return sol, factor


def _settle(K: np.ndarray, lam: np.ndarray, in_face: np.ndarray) -> None:
    """Move ``lam`` (feasible, zero off the face) to the minimizer of its face, shrinking the face.

    Solve on the face; while the face minimizer leaves the orthant, step from ``lam`` toward it up to
    the first blocking index and drop that index (and any other that reached 0). Each pass drops at
    least one index, so this ends within |face| solves with ``lam`` the (positive) face minimizer.
    Updates ``lam`` and ``in_face`` in place.
    """
    while True:
        face = np.flatnonzero(in_face)
        if face.size == 0:
            lam[:] = 0.0
            return
        sol = _face_solve(K, face)[0]
        if sol.min() > 0:
            lam[:] = 0.0
            lam[face] = sol
            return
        current = lam[face]
        leaving = sol <= 0
        steps = current[leaving] / np.maximum(current[leaving] - sol[leaving], np.finfo(float).tiny)
        blocking = np.flatnonzero(leaving)[np.argmin(steps)]
        moved = current + steps.min() * (sol - current)
        moved[blocking] = 0.0
        drop = leaving & (moved <= 0)
        moved[drop] = 0.0
        lam[face] = moved
        in_face[face[drop]] = False


def _active_set(K: np.ndarray, warm: np.ndarray | None, tol: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Primal active-set method for ``min_{l >= 0} 1/2 l^T K l - 1^T l`` (K = G G^T PSD).

    Lawson-Hanson structure: keep ``lam`` the minimizer of its active face (:func:`_settle`), then add
    violated constraints (margins < 1) and settle again. All violated indices are added at once while
    that decreases the objective (fast warm starts); after a stalled block addition only the most
    violated one is added, which guarantees descent. A warm start is a guessed face, settled from 0.
    Raises _SingularFace when a face is rank deficient (then the caller uses the NNLS fallback).
    """
    n = K.shape[0]
    lam = np.zeros(n)
    in_face = np.zeros(n, dtype=bool)
    if warm is not None and np.any(warm):
        in_face = warm.copy()
        try:
            _settle(K, lam, in_face)
        except _SingularFace:  # a guessed face may be rank deficient: start cold instead
            lam[:] = 0.0
            in_face[:] = False
    objective = 0.5 * lam @ (K @ lam) - lam.sum()
    one_at_a_time = False
    for iteration in range(max_iter):
        margins = K @ lam
        slack = tol * (1.0 + np.abs(K[:, in_face]) @ lam[in_face])  # rounding level of each margin
        violation = np.where(in_face, -np.inf, 1.0 - margins)
        candidates = np.flatnonzero(violation > slack)
        if candidates.size == 0:
            return lam, iteration
        if one_at_a_time:
            candidates = candidates[[np.argmax(violation[candidates])]]
        in_face[candidates] = True
        _settle(K, lam, in_face)
        new_objective = 0.5 * lam @ (K @ lam) - lam.sum()
        one_at_a_time = not new_objective < objective - 1e-15 * abs(objective)
        objective = new_objective
    raise _SingularFace  # no convergence within max_iter: let the robust fallback decide


def _ldp_nnls(G: np.ndarray) -> np.ndarray:
    """Dual solution via Lawson-Hanson's least-distance programming reduction to NNLS.

    ``min 1/2 ||v||^2 s.t. G v >= 1`` is solved by ``u = argmin_{u >= 0} ||E u - f||`` with
    ``E = [G^T; 1^T]``, ``f = e_{d+1}``; the residual ``r = Eu - f`` is 0 iff the constraints are
    infeasible, else ``lambda = u / (1 - 1^T u)`` (Lawson & Hanson, Solving Least Squares Problems,
    ch. 23). Robust to rank-deficient faces, no warm start.
    """
    n, d = G.shape
    E = np.vstack([G.T, np.ones((1, n))])
    f = np.zeros(d + 1)
    f[-1] = 1.0
    u, _ = nnls(E, f, max_iter=50 * (n + d))
    gap = 1.0 - u.sum()  # = ||E u - f||^2 at the NNLS optimum
    if gap <= 1e-13:
        raise NotSeparableError("X, y: the data are not linearly separable through the origin (dual unbounded)")
    return u / gap


def solve_dual_qp(
    G: ArrayLike, warm_start: ArrayLike | None = None, tol: float = 1e-12, max_iter: int | None = None
) -> DualQPSolution:
    """Solve ``max_{lambda >= 0} sum(lambda) - 1/2 ||G^T lambda||^2`` exactly (active set).

    This is the dual of ``min 1/2 ||v||^2 s.t. G v >= 1`` with ``v = G^T lambda``. For the
    Mahalanobis problem ``min 1/2 w^T M w s.t. Zw >= 1`` take ``G = Z L^-T`` where ``M = L L^T``
    (for diagonal M: ``G = Z / sqrt(diag M)``); then ``w = M^-1 Z^T lambda``.

    Args:
        G: (n, d) float64 rows ``g_i``.
        warm_start: optional boolean mask (n,) or index array of the expected support, e.g. the
            support of a nearby problem; the method then typically needs one or two face solves.
        tol: margins must satisfy ``1 - m_i <= tol * (1 + sum_j |K_ij| lambda_j)`` (rounding scale).
        max_iter: cap on active-set changes (default 3n + 50) before the NNLS fallback.

    BLAS runs on one thread inside (:func:`one_blas_thread`).

    Raises:
        NotSeparableError: the primal is infeasible (the dual is unbounded).
    """
    with one_blas_thread():
        return _solve(G, warm_start, tol, max_iter)


def _solve(G: ArrayLike, warm_start: ArrayLike | None, tol: float, max_iter: int | None) -> DualQPSolution:
    G_arr = as_real_array("G", G, np.dtype(np.float64), ndim=2)
    n = G_arr.shape[0]
    check_real("tol", tol, 0.0, low_open=True)
    mask = None
    if warm_start is not None:
        warm = np.asarray(warm_start)
        if warm.dtype == bool:
            if warm.shape != (n,):
                raise ValueError(f"warm_start: a boolean mask must have shape ({n},), got {warm.shape}")
            mask = warm
        else:
            if warm.size and (warm.dtype.kind not in "iu" or warm.min() < 0 or warm.max() >= n):
                raise ValueError(f"warm_start: must be a boolean mask or indices in [0, {n})")
            mask = np.isin(np.arange(n), warm)
    K = G_arr @ G_arr.T
    try:
        lam, iterations = _active_set(K, mask, tol, 3 * n + 50 if max_iter is None else max_iter)
        method = "active-set"
    except _SingularFace:
        lam = _ldp_nnls(G_arr)
        iterations, method = 0, "nnls"
        try:  # sharpen the NNLS answer on its own support when that face is well conditioned
            lam, iterations = _active_set(K, lam > 0, tol, 3 * n + 50)
            method = "nnls+active-set"
        except _SingularFace:
            pass
    return DualQPSolution(lam, np.flatnonzero(lam > 0), K @ lam, iterations, method)
