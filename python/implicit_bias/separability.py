"""Linear separability through the origin: a certificate w with ``Zw >= 1``, or a clear error.

Every answer here is scale-equivariant: the data are first brought to unit scale by powers of two
(:func:`pow2_scale`, :func:`equilibrate`), which is exact in binary floating point, so ``X * s`` gives
the same decision as ``X`` for every ``s`` the dtype can represent, and a column or a row that is
1e10 times larger than the others does not hide the rest of the data from the solver's absolute
tolerances (HiGHS drops matrix entries below 1e-9 and refuses entries above 1e15).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, DTypeLike
from scipy.optimize import linprog

from ._validation import check_data, resolve_dtype
from .errors import NotSeparableError

__all__ = ["is_separable", "check_separable", "separating_direction", "pow2_scale", "equilibrate"]


def pow2_scale(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Power-of-two scale ``2^round(log2(max |values|))`` (over ``axis``), 1 where the max is 0.

    Dividing by it is exact (barring underflow past the smallest subnormal) and brings the largest
    magnitude into [2^-0.5, 2^0.5). Returns a float64 scalar array (axis None) or shape of the
    reduction; never 0, inf or NaN for finite input.
    """
    big = np.max(np.abs(values), axis=axis).astype(np.float64)
    positive = big > 0
    exponent = np.round(np.log2(np.where(positive, big, 1.0)))
    return np.where(positive, np.ldexp(1.0, exponent.astype(int)), 1.0)


def equilibrate(Z: np.ndarray, rows: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Z_eq = diag(1/r) Z diag(1/c)`` with power-of-two scales r (n,), c (d,); exact, no rounding.

    Columns first (each column's largest entry ~1), then rows (``rows=True``; each row's largest
    entry ~1). A zero row or column keeps scale 1. Positive row and column scalings preserve
    separability: ``Z_eq u >= 1`` iff ``Z w >= 1/r`` with ``w = u / c``.
    """
    cols = pow2_scale(Z, axis=0)
    Z_eq = Z / cols
    r = pow2_scale(Z_eq, axis=1) if rows else np.ones(Z.shape[0])
    return Z_eq / r[:, None], r, cols


def separating_direction(Z: np.ndarray) -> tuple[np.ndarray | None, float]:
    """A w with Zw >= 1 if one exists, plus the best l-inf normalized margin of the equilibrated data.

    The data are equilibrated first (:func:`equilibrate`), so the decision does not depend on the
    scale of X, of a column or of a row. Fast path: when Z has full row rank (generic for n <= d),
    ``u = Z_eq^T (Z_eq Z_eq^T)^-1 1`` interpolates every margin at 1. Otherwise the LP
    ``max s s.t. Z_eq u >= s, |u_j| <= 1`` decides: it is always feasible and bounded, so its
    optimum s* > 0 (relative to the largest possible, ``max_i ||z_eq_i||_1``) is a certificate.

    Args:
        Z: (n, d) float64 rows ``z_i = y_i x_i``.

    Returns:
        (w, s): w (d,) with ``min_i <z_i, w> = 1`` in Z's units, or None; s the best normalized
        margin found for the equilibrated data (dimensionless; <= 0 or negligible: not separable).
    """
    n, d = Z.shape
    if not np.all(np.isfinite(Z)):
        raise ValueError("X: must be finite")
    Z_eq, _, cols = equilibrate(Z)
    u = _interpolating(Z_eq) if n <= d else None
    s = 1.0
    if u is None:
        objective = np.zeros(d + 1)
        objective[-1] = -1.0  # maximize s
        A_ub = np.hstack([-Z_eq, np.ones((n, 1))])  # s - <z_i, u> <= 0
        bounds = [(-1.0, 1.0)] * d + [(None, None)]
        res = linprog(objective, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"X, y: separability LP failed ({res.message})")
        u, s = res.x[:d], float(res.x[-1])
        scale = float(np.max(np.sum(np.abs(Z_eq), axis=1)))  # largest possible margin with |u_j| <= 1
        if s <= 1e-10 * scale or float(np.min(Z_eq @ u)) <= 0:
            return None, s
    with np.errstate(over="ignore", under="ignore"):
        w = _certificate(Z, u / cols) if np.all(np.isfinite(u / cols)) else None
    if w is None:  # u / cols overflows: columns of extreme spread; u separates Z_eq, so scale it first
        w = _certificate(Z, (u / pow2_scale(u)) * (cols.min() / cols))
    return w, s


def _interpolating(Z_eq: np.ndarray) -> np.ndarray | None:
    """``Z^T (Z Z^T)^-1 1`` when Z (equilibrated) has well-conditioned full row rank, else None."""
    try:
        factor = sla.cho_factor(Z_eq @ Z_eq.T, lower=True, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return None
    pivots = np.abs(np.diag(factor[0]))
    if not np.all(np.isfinite(pivots)) or np.min(pivots) <= 1e-6 * np.max(pivots):
        return None
    u = Z_eq.T @ sla.cho_solve(factor, np.ones(Z_eq.shape[0]), check_finite=False)
    return u if float(np.min(Z_eq @ u)) > 0.5 else None


def _certificate(Z: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """w scaled so that ``min_i <z_i, w> = 1`` (computed without overflow), None if not positive.

    For data so small that this w is not representable (max |Z| below ~1e-308), the largest finite
    multiple of it is returned (same direction, every margin positive).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        w_unit = w / pow2_scale(w)
    if not np.all(np.isfinite(w_unit)):
        return None
    z_scale = pow2_scale(Z)
    worst = float(np.min((Z / z_scale) @ w_unit))  # both O(1): no overflow or underflow
    if not worst > 0:
        return None
    with np.errstate(over="ignore"):
        out = (w_unit / worst) / z_scale  # min margin 1 (up to rounding) in Z's units
    if not np.all(np.isfinite(out)):
        out = w_unit / pow2_scale(w_unit) * 2.0**1000
    return out


def _validated_z(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X_arr, y_arr = check_data(X, y, resolve_dtype(dtype, X))
    return X_arr, y_arr, y_arr[:, None] * X_arr


def is_separable(X: ArrayLike, y: ArrayLike) -> bool:
    """Whether some w has ``<z_i, w> > 0`` for all i (a hyperplane through the origin).

    Invariant under ``X -> X * s`` (s > 0) and under positive scalings of columns or rows.
    """
    _, _, Z = _validated_z(X, y, None)
    return separating_direction(Z.astype(np.float64))[0] is not None


def check_separable(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """Return a certificate w (d,) with ``min_i <z_i, w> = 1``; raise :class:`NotSeparableError` if none.

    Args:
        X: data, shape (n, d), real-valued.
        y: labels, shape (n,), entries -1 or +1.
        dtype: np.float64 or np.longdouble for reading X and y; default: np.longdouble if X is, else
            np.float64 (the decision itself is computed in float64).

    Returns:
        w, shape (d,), float64, with ``min_i <z_i, w> = 1`` in X's units (for data too small for
        that w to be representable, the largest finite multiple of it; see :func:`separating_direction`).

    Raises:
        NotSeparableError: when no hyperplane through the origin separates the data.
        ValueError: when X or y fail :func:`check_data`'s checks.
        TypeError: when X or y are not real-valued, or ``dtype`` is not float64 / long double.
        RuntimeError: when the separability LP fails.
    """
    _, _, Z = _validated_z(X, y, dtype)
    w, best = separating_direction(Z.astype(np.float64))
    if w is None:
        raise NotSeparableError(
            "X, y: the data are not linearly separable through the origin (after scaling every row and "
            f"column to unit size, the best l-inf normalized margin is {best:.3g}, not positive to working "
            "precision), so no max-margin direction exists"
        )
    return w
