"""Linear separability through the origin: a certificate w with ``Zw >= 1``, or a clear error."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, DTypeLike
from scipy.optimize import linprog

from ._validation import check_data, resolve_dtype
from .errors import NotSeparableError

__all__ = ["is_separable", "check_separable", "separating_direction"]


def separating_direction(Z: np.ndarray) -> tuple[np.ndarray | None, float]:
    """A w with Zw >= 1 if one exists, plus the best l-inf normalized margin found (<= 0: none).

    Fast path: when Z has full row rank (generic for n <= d), ``w = Z^T (ZZ^T)^-1 1`` interpolates
    every margin at 1. Otherwise the LP ``max s s.t. Zw >= s, |w_j| <= 1`` decides: it is always
    feasible and bounded, so its optimum s* > 0 is a certificate either way.
    """
    n, d = Z.shape
    if n <= d:
        try:
            factor = sla.cho_factor(Z @ Z.T, lower=True, check_finite=False)
            if np.min(np.abs(np.diag(factor[0]))) > 1e-6 * np.max(np.abs(np.diag(factor[0]))):
                w = Z.T @ sla.cho_solve(factor, np.ones(n), check_finite=False)
                worst = float(np.min(Z @ w))
                if worst > 0.5:
                    return w / worst, worst / float(np.max(np.abs(w)))
        except (np.linalg.LinAlgError, ValueError):
            pass
    objective = np.zeros(d + 1)
    objective[-1] = -1.0  # maximize s
    A_ub = np.hstack([-Z, np.ones((n, 1))])  # s - <z_i, w> <= 0
    bounds = [(-1.0, 1.0)] * d + [(None, None)]
    res = linprog(objective, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"X, y: separability LP failed ({res.message})")
    w, s = res.x[:d], float(res.x[-1])
    scale = float(np.max(np.sum(np.abs(Z), axis=1)))  # largest possible margin with |w_j| <= 1
    worst = float(np.min(Z @ w))
    if s <= 1e-10 * scale or worst <= 0:
        return None, s
    return w / worst, s


def _validated_z(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X_arr, y_arr = check_data(X, y, resolve_dtype(dtype, X))
    return X_arr, y_arr, y_arr[:, None] * X_arr


def is_separable(X: ArrayLike, y: ArrayLike) -> bool:
    """Whether some w has ``<z_i, w> > 0`` for all i (a hyperplane through the origin)."""
    _, _, Z = _validated_z(X, y, None)
    return separating_direction(Z.astype(np.float64))[0] is not None


def check_separable(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """Return a certificate w (d,) with ``min_i <z_i, w> = 1``; raise :class:`NotSeparableError` if none."""
    _, _, Z = _validated_z(X, y, dtype)
    w, best = separating_direction(Z.astype(np.float64))
    if w is None:
        raise NotSeparableError(
            "X, y: the data are not linearly separable through the origin (the best l-inf normalized "
            f"margin is {best:.3g}, not positive to working precision), so no max-margin direction exists"
        )
    return w
