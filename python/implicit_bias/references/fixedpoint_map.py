"""The fixed-point map of per-sample Adam: P(c), lambda(c), T(c) (one home each), and its iteration.

``p(c)`` is :meth:`.preconditioner.BatchStructure.p` (every batch structure); ``lambda(c)`` the dual
solution of ``min 1/2 w^T P(c) w s.t. Zw >= 1`` from an inner solver (:func:`dual_inner`, exact, or
:func:`cvxpy_inner`, the cross-check); ``T(c) = lambda^2 / sum(lambda^2)`` is :func:`t_of`.
:func:`iterate` runs the damped iteration ``c <- (1 - damping) c + damping T(c)`` from one start.
Z is expected at unit scale (see :func:`fixed_point_data`): P is homogeneous of degree 1 in Z and
T of degree 0, so the caller maps p and lambda back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_real_array, check_data, check_int, resolve_dtype
from ..errors import DegenerateProblemError
from ..separability import check_separable, pow2_scale
from .cvxpy_path import solve_cvxpy
from .preconditioner import BatchStructure, duplicate_groups
from .qp import solve_dual_qp

__all__ = [
    "Iteration",
    "adam_preconditioner",
    "batch_size_arg",
    "cvxpy_inner",
    "direction",
    "dual_inner",
    "fixed_point_data",
    "fixed_point_map",
    "iterate",
    "simplex_weights",
    "t_of",
]


def fixed_point_data(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, float]:
    """Validated ``Z = y[:, None] * X`` in float64 divided by its power-of-two scale, and that scale.

    Long-double input is rounded (the fixed point is a reference computed in double); the division
    is exact, so ``X * s`` gives the same Z for every power of two s.

    Args:
        X: data (n, d).
        y: labels (n,) in {-1, +1}.

    Returns:
        ``(Z, scale)``: Z (n, d) in float64, dimensionless, and the power-of-two scale of
        ``y * X`` (in X's units).
    """
    X_arr, y_arr = check_data(X, y, resolve_dtype(None, X))
    Z = y_arr[:, None] * X_arr
    scale = float(pow2_scale(Z))
    return (Z / Z.dtype.type(scale)).astype(np.float64), scale


def batch_size_arg(batch_size: int | None, n: int) -> int:
    """The validated batch size in [1, n] (None: n)."""
    return n if batch_size is None else check_int("batch_size", batch_size, 1, n)


def simplex_weights(name: str, c: ArrayLike, n: int) -> np.ndarray:
    """Validated weights (n,) on the probability simplex (errors name ``name``).

    Args:
        name: the argument's name, the start of every error message.
        c: the weights, shape (n,), real-valued.
        n: the number of samples.

    Returns:
        The weights, shape (n,), float64, entries >= 0, divided by their sum (which was within
        1e-9 of 1).

    Raises:
        ValueError: when ``c`` does not have n entries, has a negative entry, its sum differs from 1
            by more than 1e-9, or it fails :func:`implicit_bias._validation.as_real_array`'s checks.
        TypeError: when ``c`` is not real-valued.
    """
    arr = as_real_array(name, c, np.dtype(np.float64), ndim=1)
    if arr.shape[0] != n:
        raise ValueError(f"{name}: must have n = {n} entries, got {arr.shape[0]}")
    if np.any(arr < 0) or abs(arr.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name}: must lie on the probability simplex (entries >= 0, sum 1), got sum {arr.sum():.6g}")
    return arr / arr.sum()


def t_of(lam: np.ndarray) -> np.ndarray:
    """``T = lambda^2 / sum(lambda^2)`` (n,), computed without underflow for tiny multipliers."""
    unit = lam / np.max(lam)
    return unit**2 / np.sum(unit**2)


def adam_preconditioner(
    X: ArrayLike, y: ArrayLike, c: ArrayLike, *, batch_size: int = 1, order: str = "cyclic"
) -> np.ndarray:
    """Diagonal of P(c), shape (d,): ``sqrt(sum_i c_i z_ij^2)`` for b = 1, else the batch form.

    Args:
        X: data (n, d).
        y: labels (n,) in {-1, +1}.
        c: weights (n,) on the probability simplex.
        batch_size: samples per batch, in [1, n].
        order: the batch order, ``"cyclic"``, ``"reshuffle"`` or ``"replacement"``.

    Returns:
        The diagonal of P(c), shape (d,), float64, in X's units.

    Raises:
        ValueError: when the data, ``c`` (:func:`simplex_weights`), ``batch_size`` or ``order``
            are not valid.
        TypeError: when an argument has the wrong type (e.g. a non-integer ``batch_size``).
    """
    Z, scale = fixed_point_data(X, y)
    weights = simplex_weights("c", c, Z.shape[0])
    return BatchStructure(Z.shape[0], batch_size_arg(batch_size, Z.shape[0]), order).p(Z, weights) * scale


def fixed_point_map(
    X: ArrayLike, y: ArrayLike, c: ArrayLike, *, batch_size: int = 1, order: str = "cyclic"
) -> tuple[np.ndarray, np.ndarray]:
    """One evaluation ``(T(c), lambda(c))``, both (n,), with the exact dual solver (lambda in X's units).

    All-zero coordinates are left out, as in :func:`fixed_point`; identical rows share their
    weight.

    Args:
        X: data (n, d).
        y: labels (n,) in {-1, +1}.
        c: weights (n,) on the probability simplex.
        batch_size: samples per batch, in [1, n].
        order: the batch order (``"cyclic"``, ...).

    Returns:
        ``(T(c), lambda(c))``, both (n,): T(c) on the simplex, lambda(c) in X's units.

    Raises:
        DegenerateProblemError: when P(c) is singular on the non-zero coordinates (some p_j = 0).
    """
    Z_full, scale = fixed_point_data(X, y)
    n = Z_full.shape[0]
    weights = simplex_weights("c", c, n)
    structure = BatchStructure(n, batch_size_arg(batch_size, n), order)
    check_separable(Z_full, np.ones(n))
    Z = Z_full[:, np.any(Z_full != 0, axis=0)]
    p = structure.p(Z, weights)
    if np.any(p == 0):
        raise DegenerateProblemError(f"c: P(c) is singular at {int(np.sum(p == 0))} coordinates")
    lam = structure.resplit(solve_dual_qp(Z / np.sqrt(p)).lambdas, duplicate_groups(Z))
    return t_of(lam), lam / scale


@dataclass
class Iteration:
    """State of one damped iteration from one start (arrays (n,) or (d,); ``inner_time`` in seconds)."""

    c: np.ndarray
    c_eval: np.ndarray | None = None
    lam: np.ndarray | None = None
    p: np.ndarray | None = None
    p_next: np.ndarray | None = None
    residuals: list[float] = field(default_factory=list)
    converged: bool = False
    singular: bool = False
    inner_time: float = 0.0


def iterate(
    Z: np.ndarray,
    structure: BatchStructure,
    groups: list[np.ndarray],
    c: np.ndarray,
    inner: Callable[[np.ndarray], np.ndarray],
    damping: float,
    tol: float,
    max_iter: int,
    singular_tol: float,
) -> Iteration:
    """The damped iteration from c (n,) until ``||T(c) - c||_1 <= tol``, max_iter, or a singular P.

    Args:
        Z: the rows ``z_i = y_i x_i`` at unit scale, shape (n, d), float64 (:func:`fixed_point_data`).
        structure: the batch structure whose ``p(Z, c)`` gives P(c).
        groups: the groups of identical rows (:func:`.preconditioner.duplicate_groups`), whose
            multipliers are re-split after every inner solve.
        c: the starting weights, shape (n,), on the probability simplex.
        inner: ``p -> lambda``: the dual solution (n,) for the diagonal p (d,) (:func:`dual_inner`
            or :func:`cvxpy_inner`).
        damping: the step ``c <- (1 - damping) c + damping T(c)``, in (0, 1].
        tol: the convergence threshold on ``||T(c) - c||_1``.
        max_iter: the most iterations.
        singular_tol: P counts as singular when ``min p <= singular_tol * max p``.

    Returns:
        The :class:`Iteration`: the last weights, the last well-posed evaluation (``c_eval``,
        ``lam``, ``p``), the residuals (one per evaluation of T), whether it converged or met a singular
        P, and the time spent in ``inner`` (seconds).
    """
    it = Iteration(c)
    for _ in range(max_iter):
        it.p_next = structure.p(Z, it.c)
        if it.p_next.min() <= singular_tol * it.p_next.max():
            it.singular = True
            break
        t0 = time.perf_counter()
        lam = structure.resplit(inner(it.p_next), groups)
        it.inner_time += time.perf_counter() - t0
        it.lam, it.p, it.c_eval = lam, it.p_next, it.c
        image = t_of(lam)
        it.residuals.append(float(np.sum(np.abs(image - it.c))))
        if it.residuals[-1] <= tol:
            it.converged = True
            break
        it.c = (1.0 - damping) * it.c + damping * image
    return it


def direction(Z: np.ndarray, it: Iteration) -> np.ndarray:
    """Unit l2 direction ``P^-1 Z^T lambda`` of an iteration's last well-posed iterate, (d,)."""
    w = (Z.T @ it.lam) / it.p
    return w / np.linalg.norm(w)


def dual_inner(Z: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """lambda(p) by the exact active-set dual solver, warm-started from the previous support."""
    support: list[np.ndarray] = []

    def solve(p: np.ndarray) -> np.ndarray:
        sol = solve_dual_qp(Z / np.sqrt(p), warm_start=support[0] if support else None)
        support[:] = [sol.support]
        return sol.lambdas

    return solve


def cvxpy_inner(Z: np.ndarray, solver: str) -> Callable[[np.ndarray], np.ndarray]:
    """lambda(p) from one CVXPY problem built once; ``sqrt(p)`` is a parameter, so the objective
    ``1/2 sum_squares(sqrt(p) * w) = 1/2 w^T P w`` is DPP and re-solves skip recompilation."""
    import cvxpy as cp

    n, d = Z.shape
    sqrt_p = cp.Parameter(d, nonneg=True)
    w = cp.Variable(d)
    constraint = Z @ w >= 1
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(cp.multiply(sqrt_p, w))), [constraint])
    assert problem.is_dpp()

    def solve(p: np.ndarray) -> np.ndarray:
        sqrt_p.value = np.sqrt(p)
        solve_cvxpy(problem, solver, argname="cvxpy_solver")
        lam = np.maximum(np.asarray(constraint.dual_value, dtype=np.float64), 0.0)
        # Interior-point duals of inactive constraints are ~1e-10, not 0: zero them at the solver's
        # accuracy so that `support` means the same as with the exact dual solver.
        lam[lam < 1e-9 * lam.max()] = 0.0
        return lam

    return solve
