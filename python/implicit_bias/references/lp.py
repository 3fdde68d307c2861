"""The l-inf / l1 max-margin LPs, solved by ``scipy.optimize.linprog(method="highs")`` directly.

``max s  s.t.  Zw >= s, ||w||_p <= 1`` (p = inf: a box of variable bounds, which keeps the LP at n
rows; p = 1: ``w = w+ - w-`` with one extra row). HiGHS's dual simplex returns a vertex, which
:func:`implicit_bias.references.polish.lp_vertex` can recompute exactly.

Scaling: HiGHS works with absolute tolerances (feasibility 1e-7, matrix entries below 1e-9 are
dropped, above 1e15 refused), so the caller passes Z at unit scale (divided by a power of two,
exact) and the columns are equilibrated here by powers of two too: with ``w = v / c`` (c (d,) the
columns' scales) the matrix ``Z diag(1/c)`` has unit columns and the ball becomes
``|v_j| <= c_j`` (l-inf) or ``sum_j |v_j| / c_j <= 1`` (l1), the same problem, so no entry is lost.
No CVXPY import on this path (CVXPY stays the tests' cross-check and the ``solver=`` alternative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from ..separability import pow2_scale

__all__ = ["LPSolution", "solve_lp_margin"]


@dataclass
class LPSolution:
    """Solution of ``min ||w||_p s.t. Zw >= 1`` read off the max-s LP.

    ``w_hat`` (d,) with ``min Z w_hat = 1`` (up to the solver's tolerance); ``lam`` (n,) >= 0 its
    multipliers (``sum(lam) = ||w_hat||_p``, ``||Z^T lam||_q = 1``); ``gamma`` the optimal value s*
    (the normalized margin); ``col_scale`` (d,) the power-of-two column scales used.
    """

    w_hat: np.ndarray
    lam: np.ndarray
    gamma: float
    col_scale: np.ndarray


def solve_lp_margin(Z: np.ndarray, kind: str, argname: str = "solver") -> LPSolution:
    """Solve the l-inf (``kind="linf"``) or l1 (``"l1"``) max-margin LP for separable Z (n, d).

    Z should be at unit scale (largest entry ~1, see :func:`implicit_bias.separability.pow2_scale`).

    Args:
        Z: the rows ``z_i = y_i x_i`` of separable data, shape (n, d), float64, at unit scale.
        kind: ``"linf"``, or ``"l1"`` (any other value is solved as l1).
        argname: the caller's solver argument, the start of the error message.

    Returns:
        The :class:`LPSolution`: ``w_hat`` (d,) with ``min Z w_hat = 1``, ``lam`` (n,), ``gamma``
        (the normalized margin, in Z's units) and ``col_scale`` (d,), all float64.

    Raises:
        RuntimeError: (naming ``argname``) if HiGHS does not report an optimum, or reports a
            non-positive margin.
    """
    n, d = Z.shape
    c = pow2_scale(Z, axis=0)
    Z_eq = Z / c
    beta = 1.0  # the ball's radius: chosen (a power of two) so that the optimum s* is ~1
    for _ in range(4):
        v, lam, s = _solve(Z_eq, c * beta, kind, argname)
        if 2.0**-8 <= s <= 2.0**8:
            break
        beta = beta / float(pow2_scale(np.array(s)))
    # The max-s multipliers sum to 1; those of min ||w|| s.t. Zw >= 1 (w_hat = w / s) are lam / s.
    return LPSolution(w_hat=(v / c) / s, lam=lam / s * beta, gamma=s / beta, col_scale=c)


def _solve(Z_eq: np.ndarray, radius: np.ndarray, kind: str, argname: str) -> tuple[np.ndarray, np.ndarray, float]:
    """max s s.t. Z_eq v >= s, |v_j| <= radius_j (l-inf) or sum |v_j| / radius_j <= 1 (l1)."""
    n, d = Z_eq.shape
    if kind == "linf":
        cost = np.r_[np.zeros(d), -1.0]  # variables (v, s): maximize s
        A_ub = np.hstack([-Z_eq, np.ones((n, 1))])
        b_ub = np.zeros(n)
        bounds = [(-r, r) for r in radius] + [(None, None)]
    else:  # variables (v+, v-, s) >= 0 except s
        cost = np.r_[np.zeros(2 * d), -1.0]
        A_ub = np.vstack([np.hstack([-Z_eq, Z_eq, np.ones((n, 1))]), np.r_[1 / radius, 1 / radius, 0.0][None, :]])
        b_ub = np.r_[np.zeros(n), 1.0]
        bounds = [(0, None)] * (2 * d) + [(None, None)]
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs-ds")
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"{argname}: HiGHS (scipy.optimize.linprog) failed on separable data ({res.message})")
    s = float(res.x[-1])
    if not s > 0:
        raise RuntimeError(f"{argname}: HiGHS returned a non-positive margin {s:.3g} on separable data")
    v = res.x[:d] if kind == "linf" else res.x[:d] - res.x[d : 2 * d]
    return v, np.maximum(-np.asarray(res.ineqlin.marginals[:n], dtype=np.float64), 0.0), s
