"""Polishing a solver's answer to rounding level, and the certificates that judge it.

* Mahalanobis / l2: iterative refinement of the active-set KKT system with long-double residuals
  (:func:`refine_kkt`), and the relative KKT residual (:func:`kkt_mahalanobis`).
* LP norms (l-inf, l1): the exact optimal vertex (:func:`lp_vertex`), whose strict complementarity
  certifies uniqueness; otherwise a lower bound on the optimal face's diameter
  (:func:`lp_face_diameter`); the LP KKT residual (:func:`kkt_lp`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
from scipy.optimize import linprog

from ..metrics import LONG_DOUBLE, Norm

__all__ = [
    "ACTIVE_RTOL",
    "apply_m",
    "refine_kkt",
    "kkt_mahalanobis",
    "Vertex",
    "lp_vertex",
    "lp_face_diameter",
    "kkt_lp",
]

#: Relative threshold used to read active sets off an interior-point solution (accurate to ~1e-8).
ACTIVE_RTOL = 1e-6


def apply_m(nrm: Norm, v: np.ndarray) -> np.ndarray:
    """M v in v's dtype."""
    if nrm.kind == "l2":
        return v
    if nrm.kind == "diag":
        return nrm.diag.astype(v.dtype) * v
    return nrm.matrix.astype(v.dtype) @ v


def refine_kkt(
    Z_exact: np.ndarray, G: np.ndarray, nrm: Norm, m_inverse: Any, support: np.ndarray, lam_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Iterative refinement of the active-set KKT system with long-double residuals.

    Unknowns (w, lambda_S): ``M w - Z_S^T lambda_S = 0``, ``Z_S w = 1``. Residuals are formed in long
    double from the exact data; corrections use the float64 Schur complement
    ``K_SS = Z_S M^-1 Z_S^T = G_S G_S^T``, so each pass gains ~16 digits up to long-double rounding.

    Args:
        Z_exact: the rows ``z_i = y_i x_i`` at unit scale, shape (n, d), in the data's exact
            precision (float64 or long double).
        G: the rows of Z in M^-1/2 coordinates, shape (n, d), float64 (``G = Z L^-T`` with
            ``M = L L^T``; ``Z / sqrt(diag M)`` for diagonal M; Z for l2).
        nrm: the validated norm M.
        m_inverse: ``v -> M^-1 v`` on float64 vectors (d,).
        support: the indices S of the active constraints, shape (|S|,).
        lam_s: the solver's multipliers on S, shape (|S|,), float64, > 0.

    Returns:
        ``(lambda_S, w)``: the refined multipliers (|S|,) and iterate (d,), long double; the
        unrefined ones (in long double) when refinement would make a multiplier non-positive.

    Raises:
        numpy.linalg.LinAlgError: when ``K_SS`` is not numerically positive definite.
    """
    Z_s = Z_exact[support].astype(LONG_DOUBLE)
    Z_s64 = Z_s.astype(np.float64)
    factor = sla.cho_factor(G[support] @ G[support].T, lower=True, check_finite=False)
    lam = lam_s.astype(LONG_DOUBLE)
    w = m_inverse(Z_s64.T @ lam_s).astype(LONG_DOUBLE)
    for _ in range(3):
        r_station = Z_s.T @ lam - apply_m(nrm, w)
        r_feas = 1 - Z_s @ w
        m_inv_r = m_inverse(r_station.astype(np.float64))
        d_lam = sla.cho_solve(factor, r_feas.astype(np.float64) - Z_s64 @ m_inv_r, check_finite=False)
        w = w + (m_inv_r + m_inverse(Z_s64.T @ d_lam)).astype(LONG_DOUBLE)
        lam = lam + d_lam.astype(LONG_DOUBLE)
    if np.any(lam <= 0):  # refinement cannot move a strictly positive multiplier across 0 unless ill-posed
        lam = lam_s.astype(LONG_DOUBLE)
        w = m_inverse(Z_s64.T @ lam_s).astype(LONG_DOUBLE)
    return lam, w


def kkt_mahalanobis(Z: np.ndarray, nrm: Norm, w_hat: np.ndarray, lam: np.ndarray) -> float:
    """Relative KKT residual of ``min 1/2 w^T M w s.t. Zw >= 1``, evaluated in long double.

    Args:
        Z: the rows ``z_i = y_i x_i``, shape (n, d).
        nrm: the validated norm M.
        w_hat: the candidate solution, shape (d,).
        lam: its multipliers, shape (n,).

    Returns:
        The largest of primal infeasibility, dual infeasibility, complementarity and the relative
        stationarity residual ``|M w - Z^T lambda| / |M w|`` (dimensionless; ~1e-16 when polished).
    """
    Z_ld, w_ld, lam_ld = Z.astype(LONG_DOUBLE), w_hat.astype(LONG_DOUBLE), lam.astype(LONG_DOUBLE)
    margins = Z_ld @ w_ld
    m_w = apply_m(nrm, w_ld)
    lam_scale = max(np.max(np.abs(lam_ld)), np.finfo(np.float64).tiny)
    parts = [
        max(np.max(1 - margins), 0),  # primal infeasibility
        max(-np.min(lam_ld), 0) / lam_scale,  # dual infeasibility
        np.max(lam_ld * np.abs(margins - 1)) / lam_scale,  # complementarity
        np.max(np.abs(m_w - Z_ld.T @ lam_ld)) / max(np.max(np.abs(m_w)), np.finfo(np.float64).tiny),
    ]
    return float(max(parts))


@dataclass
class Vertex:
    w_hat: np.ndarray  # long double
    lam: np.ndarray  # long double, (n,)
    strictness: float  # smallest normalized strict multiplier; > 0 certifies uniqueness, 0 if not strict


def _solve_refined(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a square system A x = b in float64 with two long-double refinement passes."""
    lu = sla.lu_factor(A.astype(np.float64), check_finite=False)
    x = sla.lu_solve(lu, b.astype(np.float64), check_finite=False).astype(LONG_DOUBLE)
    A_ld, b_ld = A.astype(LONG_DOUBLE), b.astype(LONG_DOUBLE)
    for _ in range(2):
        x = x + sla.lu_solve(lu, (b_ld - A_ld @ x).astype(np.float64), check_finite=False).astype(LONG_DOUBLE)
    return x


def lp_vertex(Z_exact: np.ndarray, w_hat: np.ndarray, kind: str) -> Vertex | None:
    """Recompute an l-inf / l1 solution exactly on its optimal vertex; None if not a regular vertex.

    l-inf: with active rows S, saturated coordinates J (signs s) and free ones F, the vertex solves
    ``[Z_SF, Z_SJ s] (w_F, t) = 1`` and the dual ``[Z_SF, Z_SJ s]^T lambda_S = e_last``.
    l1: with support F (signs s), ``Z_SF w_F = 1`` and ``Z_SF^T lambda_S = s``.
    Strict complementarity (lambda_S > 0 and every bound multiplier > 0) certifies uniqueness: every
    optimal w must then keep all these constraints active, and the square system pins w down.

    Args:
        Z_exact: the rows ``z_i = y_i x_i`` at unit scale, shape (n, d), in the data's exact
            precision (float64 or long double).
        w_hat: the solver's solution of ``min ||w||_p s.t. Zw >= 1``, shape (d,), float64.
        kind: ``"linf"``, or ``"l1"`` (any other value is treated as l1).

    Returns:
        The :class:`Vertex` (``w_hat`` (d,) and ``lam`` (n,) in long double, ``strictness`` > 0
        when strict complementarity certifies uniqueness, else 0), or None when the active set does
        not give a square, regular, feasible and dual-feasible vertex system.
    """
    n, d = Z_exact.shape
    Z64 = Z_exact.astype(np.float64)
    margins = Z64 @ w_hat
    active = np.flatnonzero(margins <= 1 + ACTIVE_RTOL)
    big = float(np.max(np.abs(w_hat)))
    if kind == "linf":
        saturated = np.abs(w_hat) >= big * (1 - ACTIVE_RTOL)
        free, sat = np.flatnonzero(~saturated), np.flatnonzero(saturated)
        signs = np.sign(w_hat[sat])
        A = np.hstack([Z_exact[np.ix_(active, free)], (Z_exact[np.ix_(active, sat)] @ signs)[:, None]])
        rhs_dual = np.zeros(A.shape[1])
        rhs_dual[-1] = 1
    else:
        free = np.flatnonzero(np.abs(w_hat) > big * ACTIVE_RTOL)
        signs = np.sign(w_hat[free])
        A = Z_exact[np.ix_(active, free)]
        rhs_dual = signs
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", sla.LinAlgWarning)  # a singular vertex system is not a vertex
            x = _solve_refined(A, np.ones(A.shape[0]))
            lam_s = _solve_refined(A.T, rhs_dual)
    except (np.linalg.LinAlgError, ValueError, sla.LinAlgWarning):
        return None
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(lam_s))):
        return None
    w_new = np.zeros(d, dtype=LONG_DOUBLE)
    if kind == "linf":
        w_new[free], t = x[:-1], x[-1]
        w_new[sat] = signs * t
        bound_ok = bool(np.all(np.abs(x[:-1]) <= t * (1 + 1e-12)))
    else:
        w_new[free] = x
        bound_ok = bool(np.all(np.sign(x.astype(np.float64)) == signs))
    lam = np.zeros(n, dtype=LONG_DOUBLE)
    lam[active] = lam_s
    correlation = Z_exact.astype(LONG_DOUBLE).T @ lam  # Z^T lambda: the dual's subgradient certificate
    lam_scale = float(np.max(np.abs(lam_s)))
    feasible = bool(np.min(Z_exact.astype(LONG_DOUBLE) @ w_new) >= 1 - 1e-12) and bound_ok and lam_scale > 0
    if kind == "linf":
        bound_mult = signs * correlation[sat]  # multipliers of |w_j| <= t on the saturated coordinates
        dual_ok = bool(np.all(bound_mult >= -1e-12))
    else:
        off = np.setdiff1d(np.arange(d), free)
        dual_ok = bool(np.max(np.abs(correlation)) <= 1 + 1e-12)
    if not (feasible and dual_ok and np.all(lam_s >= -1e-12 * lam_scale)):
        return None
    if kind == "linf":  # multipliers of the active bounds |w_j| <= t, relative to their sum (= 1)
        margins_of_strictness = np.concatenate([bound_mult, lam_s / lam_scale])
    else:  # both bounds of w_j = 0 carry multipliers (1 -+ (Z^T lambda)_j) / 2
        margins_of_strictness = np.concatenate([1 - np.abs(correlation[off]), lam_s / lam_scale])
    strictness = float(np.min(margins_of_strictness))
    return Vertex(w_new, np.maximum(lam, 0), strictness if strictness > 1e-10 else 0.0)


def lp_face_diameter(Z: np.ndarray, t_star: float, kind: str, seed: int) -> float:
    """Lower bound on the relative diameter of the optimal face of min ||w||_p s.t. Zw >= 1.

    Over the face (thickened by 1e-10 in the optimal value, in units u = w / t*) maximize and
    minimize a random linear functional: if the face has dimension >= 1 the two optima differ
    almost surely; their distance in the norm is returned.

    Args:
        Z: the rows ``z_i = y_i x_i``, shape (n, d), float64.
        t_star: the optimal value ``min ||w||_p`` (> 0), in 1 / Z's units.
        kind: ``"linf"``, or ``"l1"`` (any other value is treated as l1).
        seed: seed of ``np.random.default_rng`` for the random functional.

    Returns:
        The distance between the two optima in the norm, in units of t* (dimensionless; ~0 for a
        unique maximiser).

    Raises:
        RuntimeError: (naming ``check_unique``) when a uniqueness LP fails.
    """
    n, d = Z.shape
    direction = np.random.default_rng(seed).standard_normal(d)
    slack = 1 + 1e-10
    options = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    if kind == "linf":
        A_ub, b_ub, bounds, cost = -t_star * Z, -np.ones(n), [(-slack, slack)] * d, direction
    else:  # u = u_plus - u_minus, sum(u_plus + u_minus) <= slack
        A_ub = np.vstack([np.hstack([-t_star * Z, t_star * Z]), np.ones((1, 2 * d))])
        b_ub = np.concatenate([-np.ones(n), [slack]])
        bounds, cost = [(0, None)] * (2 * d), np.concatenate([direction, -direction])
    ends = []
    for sign in (1.0, -1.0):
        res = linprog(sign * cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", options=options)
        if res.status != 0:
            raise RuntimeError(f"check_unique: uniqueness LP failed ({res.message})")
        ends.append(res.x[:d] if kind == "linf" else res.x[:d] - res.x[d:])
    gap = ends[0] - ends[1]
    return float(np.max(np.abs(gap)) if kind == "linf" else np.sum(np.abs(gap)))


def kkt_lp(Z: np.ndarray, kind: str, w_hat: np.ndarray, lam: np.ndarray) -> float:
    """Relative KKT residual of ``min ||w||_p s.t. Zw >= 1`` (p = inf or 1), in long double.

    Max of: primal infeasibility, | ||Z^T lambda||_q - 1 | (dual feasibility, q the dual exponent),
    relative duality gap |sum(lambda) - ||w_hat||_p| / ||w_hat||_p, and complementarity.

    Args:
        Z: the rows ``z_i = y_i x_i``, shape (n, d).
        kind: ``"linf"``, or ``"l1"`` (any other value is treated as l1).
        w_hat: the candidate solution, shape (d,).
        lam: its multipliers, shape (n,).

    Returns:
        The residual (dimensionless).
    """
    Z_ld, w_ld, lam_ld = Z.astype(LONG_DOUBLE), w_hat.astype(LONG_DOUBLE), lam.astype(LONG_DOUBLE)
    margins = Z_ld @ w_ld
    correlation = Z_ld.T @ lam_ld
    size = np.max(np.abs(w_ld)) if kind == "linf" else np.sum(np.abs(w_ld))
    dual_size = np.sum(np.abs(correlation)) if kind == "linf" else np.max(np.abs(correlation))
    lam_scale = max(np.max(np.abs(lam_ld)), np.finfo(np.float64).tiny)
    parts = [
        max(np.max(1 - margins), 0),
        abs(dual_size - 1),
        abs(np.sum(lam_ld) - size) / size,
        np.max(lam_ld * np.abs(margins - 1)) / lam_scale,
    ]
    return float(max(parts))
