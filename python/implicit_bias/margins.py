"""Reference max-margin directions, and the quantities that compare iterates with them.

Conventions (SPEC.md): ``z_i = y_i x_i``, ``Z`` has rows ``z_i`` (shape (n, d)), margins
``m_i(w) = <z_i, w>``.

* **l_p max-margin** (p in {2, inf, 1}): ``argmax_w min_i m_i(w) / ||w||_p``, solved as
  ``min ||w||_p s.t. Zw >= 1``.
* **Mahalanobis max-margin** for a positive definite ``M``: ``min 1/2 w^T M w s.t. Zw >= 1``,
  with ``||w||_M = sqrt(w^T M w)``.

A ``norm`` argument is ``"l2"``, ``"linf"``, ``"l1"``, a 1-D array (the positive diagonal of M) or
a 2-D array (a symmetric positive definite M). A singular M (PSD but not definite, e.g. a zero on
the diagonal) raises :class:`DegenerateProblemError`: ``||.||_M`` is then only a seminorm and the
max-margin direction is not defined.

Solvers: CVXPY (Clarabel by default) for the primal; for l2 / Mahalanobis the answer is then
*polished* by an exact active-set solve of the dual QP (:func:`solve_dual_qp`) followed by
iterative refinement with long-double residuals, so the KKT residual is at rounding level
(~1e-16) instead of the solver's ~1e-8. The LP norms are polished on their optimal vertex when it
is non-degenerate. The l-inf (and l1) maximiser can be non-unique; :func:`max_margin` checks, and
then cosines to "the" solution are meaningless: compare :func:`normalized_margin` /
:func:`margin_ratio` instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, DTypeLike
from scipy.optimize import linprog, nnls

from ._validation import as_real_array, check_choice, check_data, check_real, resolve_dtype
from .errors import DegenerateProblemError, DegenerateProblemWarning, NotSeparableError

__all__ = [
    "NORM_NAMES",
    "NormSpec",
    "MaxMarginResult",
    "DualQPSolution",
    "max_margin",
    "normalized_margin",
    "cosine",
    "margin_ratio",
    "is_separable",
    "check_separable",
    "solve_dual_qp",
]

NORM_NAMES = ("l2", "linf", "l1")
#: "l2" | "linf" | "l1" | positive diagonal of M, shape (d,) | positive definite M, shape (d, d).
NormSpec = Union[str, np.ndarray]

_LD = np.dtype(np.longdouble)
# Relative thresholds used to read active sets off an interior-point solution (accurate to ~1e-8).
_ACTIVE_RTOL = 1e-6
# A face of the dual QP whose Cholesky pivots spread more than this is treated as singular.
_PIVOT_RATIO = 1e-7


# --------------------------------------------------------------------------------------------
# Norms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Norm:
    """A validated norm: ``kind`` in {"l2", "linf", "l1", "diag", "matrix"}."""

    kind: str
    spec: NormSpec  # what normalized_margin accepts back: the name or the validated array
    diag: np.ndarray | None = None  # (d,) > 0
    matrix: np.ndarray | None = None  # (d, d) symmetric positive definite

    @property
    def name(self) -> str:
        return self.kind if self.kind in NORM_NAMES else "mahalanobis"

    def of_rows(self, W: np.ndarray) -> np.ndarray:
        """||w_k|| for every row of W (K, d), in W's dtype, without overflow for huge iterates."""
        scale = np.max(np.abs(W), axis=1)
        safe = np.where(scale > 0, scale, 1)
        U = W / safe[:, None]
        if self.kind == "linf":
            return scale
        if self.kind == "l1":
            return scale * np.sum(np.abs(U), axis=1)
        if self.kind == "l2":
            quad = np.einsum("kd,kd->k", U, U)
        elif self.kind == "diag":
            quad = np.einsum("kd,d,kd->k", U, self.diag.astype(W.dtype), U)
        else:
            quad = np.einsum("kd,de,ke->k", U, self.matrix.astype(W.dtype), U)
        return scale * np.sqrt(quad)


def _parse_norm(norm: Any, d: int, dtype: np.dtype) -> _Norm:
    """Validate a norm argument for dimension d (errors name the argument ``norm``)."""
    if isinstance(norm, str):
        return _Norm(check_choice("norm", norm, NORM_NAMES), norm)
    try:
        ndim = int(np.ndim(norm))
    except ValueError:  # ragged nested sequence: let as_real_array explain
        ndim = 2
    if ndim not in (1, 2):
        raise ValueError(
            "norm: must be 'l2', 'linf', 'l1', a positive diagonal (1-D array) or a positive "
            f"definite matrix (2-D array), got {norm!r}"
        )
    arr = as_real_array("norm", norm, dtype, ndim=ndim)
    if arr.ndim == 1:
        if arr.shape[0] != d:
            raise ValueError(f"norm: the diagonal must have d = {d} entries, got {arr.shape[0]}")
        if np.any(arr < 0):
            raise ValueError(f"norm: diagonal entries must be positive, found {arr.min()!r}")
        if np.any(arr == 0):
            zeros = np.flatnonzero(arr == 0)[:5].tolist()
            raise DegenerateProblemError(
                f"norm: diagonal is zero at indices {zeros}: ||.||_M is only a seminorm there and the "
                "max-margin direction is not defined"
            )
        return _Norm("diag", arr, diag=arr)
    if arr.shape != (d, d):
        raise ValueError(f"norm: matrix must have shape ({d}, {d}), got {arr.shape}")
    size = float(np.max(np.abs(arr)))
    if float(np.max(np.abs(arr - arr.T))) > 1e-12 * size:
        raise ValueError("norm: matrix must be symmetric")
    arr = (arr + arr.T) / 2
    eig = np.linalg.eigvalsh(arr.astype(np.float64))
    if eig[-1] <= 0 or eig[0] < -1e-10 * eig[-1]:
        raise ValueError(f"norm: matrix is not positive semidefinite (smallest eigenvalue {eig[0]:.3g})")
    if eig[0] <= 1e-12 * eig[-1]:
        raise DegenerateProblemError(
            f"norm: matrix is singular (eigenvalues {eig[0]:.3g} .. {eig[-1]:.3g}): ||.||_M is only a "
            "seminorm and the max-margin direction is not defined"
        )
    return _Norm("matrix", arr, matrix=arr)


def _common_dtype(*arrays: Any) -> np.dtype:
    """long double if any input is long double, else float64 (never narrows silently)."""
    return _LD if any(getattr(a, "dtype", None) == _LD for a in arrays) else np.dtype(np.float64)


def _as_directions(name: str, W: ArrayLike, dtype: np.dtype, d: int) -> tuple[np.ndarray, bool]:
    """W (d,) or (K, d) -> ((K, d) array, whether a single vector was given)."""
    ndim = int(np.ndim(W))
    if ndim not in (1, 2):
        raise ValueError(f"{name}: must have shape (d,) or (K, d), got {np.shape(W)}")
    arr = as_real_array(name, W, dtype, ndim=ndim)
    if arr.shape[-1] != d:
        raise ValueError(f"{name}: last dimension must be d = {d}, got shape {arr.shape}")
    return (arr[None, :], True) if ndim == 1 else (arr, False)


def _scalar_or_array(values: np.ndarray, single: bool) -> Any:
    return values[0] if single else values


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------


def normalized_margin(W: ArrayLike, X: ArrayLike, y: ArrayLike, norm: NormSpec = "l2") -> Any:
    """Normalized margin ``gamma(w) = min_i <z_i, w> / ||w||`` of one or many directions.

    Args:
        W: one direction (d,) or checkpoints (K, d); any float dtype.
        X, y: data (n, d) and labels (n,) in {-1, +1}.
        norm: see the module docstring.

    Returns:
        A scalar for W of shape (d,), else an array (K,). Computed in long double when W or X is long
        double, else in float64. A zero row of W gives NaN (the margin of w = 0 is undefined).
    """
    dtype = _common_dtype(W, X)
    X_arr, y_arr = check_data(X, y, dtype)
    W_arr, single = _as_directions("W", W, dtype, X_arr.shape[1])
    nrm = _parse_norm(norm, X_arr.shape[1], dtype)
    Z = y_arr[:, None] * X_arr
    worst = np.min(W_arr @ Z.T, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(np.any(W_arr != 0, axis=1), worst / nrm.of_rows(W_arr), np.nan)
    return _scalar_or_array(values.astype(dtype), single)


def cosine(W: ArrayLike, w_ref: Any) -> Any:
    """Cosine ``<w, w_ref> / (||w||_2 ||w_ref||_2)`` of one (d,) or many (K, d) directions.

    ``w_ref`` is a vector (d,) or a result with ``.w`` (:class:`MaxMarginResult`,
    ``FixedPointResult``). A reference flagged ``unique=False`` triggers a warning: the cosine to
    one point of a non-unique optimal face says little; use :func:`margin_ratio`.
    Zero vectors give NaN.
    """
    if hasattr(w_ref, "w"):
        if getattr(w_ref, "unique", True) is False:
            warnings.warn(
                "w_ref: this max-margin solution is not unique; the cosine to one optimal point is not "
                "meaningful. Compare normalized margins (margin_ratio) instead.",
                DegenerateProblemWarning,
                stacklevel=2,
            )
        w_ref = w_ref.w
    dtype = _common_dtype(W, w_ref)
    W_arr, single = _as_directions("W", W, dtype, int(np.shape(W)[-1]) if np.ndim(W) else 0)
    ref = as_real_array("w_ref", w_ref, dtype, ndim=1)
    if ref.shape[0] != W_arr.shape[1]:
        raise ValueError(f"w_ref: has {ref.shape[0]} entries but W has d = {W_arr.shape[1]}")
    l2 = _Norm("l2", "l2")
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_unit = ref / l2.of_rows(ref[None, :])[0]
        W_unit = W_arr / l2.of_rows(W_arr)[:, None]
        values = W_unit @ ref_unit
    return _scalar_or_array(values, single)


def margin_ratio(W: ArrayLike, X: ArrayLike, y: ArrayLike, norm: NormSpec | None, gamma_star: Any) -> Any:
    """``gamma_norm(w) / gamma_star``: 1 means w attains the optimal normalized margin.

    ``gamma_star`` is a positive number or a result with ``.gamma`` (and ``.norm``, used when
    ``norm`` is None). Meaningful even when the maximiser is not unique. Shapes as in
    :func:`normalized_margin`.
    """
    if hasattr(gamma_star, "gamma"):
        ref_norm = getattr(gamma_star, "norm", None)
        if norm is None:
            norm = ref_norm
        elif isinstance(norm, str) and isinstance(ref_norm, str) and norm != ref_norm:
            raise ValueError(f"norm: {norm!r} differs from the norm {ref_norm!r} of gamma_star's result")
        gamma_star = gamma_star.gamma
    if norm is None:
        raise ValueError("norm: required when gamma_star is a number")
    check_real("gamma_star", gamma_star, 0.0, low_open=True)
    return normalized_margin(W, X, y, norm) / np.asarray(gamma_star, dtype=_common_dtype(W, X))


# --------------------------------------------------------------------------------------------
# Separability
# --------------------------------------------------------------------------------------------


def _separating_direction(Z: np.ndarray) -> tuple[np.ndarray | None, float]:
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
    return _separating_direction(Z.astype(np.float64))[0] is not None


def check_separable(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """Return a certificate w (d,) with ``min_i <z_i, w> = 1``; raise :class:`NotSeparableError` if none."""
    _, _, Z = _validated_z(X, y, dtype)
    w, best = _separating_direction(Z.astype(np.float64))
    if w is None:
        raise NotSeparableError(
            "X, y: the data are not linearly separable through the origin (the best l-inf normalized "
            f"margin is {best:.3g}, not positive to working precision), so no max-margin direction exists"
        )
    return w


# --------------------------------------------------------------------------------------------
# The dual QP of the Mahalanobis max-margin problem
# --------------------------------------------------------------------------------------------


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
    u, _ = nnls(E, f, maxiter=50 * (n + d))
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

    Raises:
        NotSeparableError: the primal is infeasible (the dual is unbounded).
    """
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


# --------------------------------------------------------------------------------------------
# max_margin
# --------------------------------------------------------------------------------------------


@dataclass
class MaxMarginResult:
    """A max-margin direction and its certificates.

    Attributes:
        w: (d,) maximiser scaled to unit norm in ``norm`` (``||w||_M = sqrt(w^T M w)``).
        w_l2unit: (d,) the same direction with unit l2 norm (for cosines).
        gamma: optimal normalized margin ``min_i <z_i, w> / ||w||`` (= 1 / ||w_hat||, where
            ``w_hat = w / gamma`` solves ``min ||w|| s.t. Zw >= 1``).
        duals: (n,) multipliers lambda >= 0 of ``Zw >= 1``: for l2 / Mahalanobis those of
            ``min 1/2 w^T M w`` (so ``M w_hat = Z^T lambda``, ``sum(lambda) = 1/gamma**2``); for l-inf /
            l1 those of ``min ||w||_p`` (so ``||Z^T lambda||_q = 1``, ``sum(lambda) = 1/gamma``).
        support: indices of the active constraints (``<z_i, w_hat> = 1``; lambda > 0 if polished).
        unique: whether the maximiser is unique (always True for l2 / Mahalanobis); None if not checked.
        face_diameter: for LP norms checked by LP, a lower bound on the diameter of the optimal face
            (relative, in the norm); 0 when uniqueness is certified by strict complementarity.
        kkt_residual: relative KKT residual of (w_hat, duals) as returned: max of primal
            infeasibility, complementarity and stationarity (l2 / Mahalanobis) or duality gap and
            dual infeasibility (LP norms). ~1e-16 when polished.
        solver: solver(s) used, e.g. "CLARABEL+active-set".
        norm: the norm as :func:`normalized_margin` accepts it ("l2", "linf", "l1" or the array M).
        norm_name: "l2", "linf", "l1" or "mahalanobis".
        polished: whether the active-set polish succeeded.
        note: human-readable caveats (non-uniqueness, skipped polish); "" if none.
    """

    w: np.ndarray
    w_l2unit: np.ndarray
    gamma: Any
    duals: np.ndarray
    support: np.ndarray
    unique: bool | None
    kkt_residual: float
    solver: str
    norm: NormSpec
    norm_name: str
    polished: bool
    note: str = ""
    face_diameter: float | None = None

    def __repr__(self) -> str:
        return (
            f"MaxMarginResult(norm={self.norm_name!r}, gamma={float(self.gamma):.6g}, "
            f"support={self.support.size}, unique={self.unique}, kkt_residual={self.kkt_residual:.1e}, "
            f"solver={self.solver!r}{', note=' + repr(self.note) if self.note else ''})"
        )


def max_margin(
    X: ArrayLike,
    y: ArrayLike,
    norm: NormSpec = "l2",
    *,
    polish: bool = True,
    check_unique: bool = True,
    solver: str | None = None,
    dtype: DTypeLike | None = None,
    uniqueness_tol: float = 1e-6,
    seed: int = 0,
) -> MaxMarginResult:
    """Max-margin direction of (X, y) in ``norm``: ``argmax_w min_i <z_i, w> / ||w||``.

    Args:
        X: (n, d) data; y: (n,) labels in {-1, +1}.
        norm: "l2", "linf", "l1", a positive diagonal (d,) or a positive definite matrix (d, d).
        polish: refine the solver's answer on its active set (KKT residual ~1e-16 instead of ~1e-8).
        check_unique: for LP norms, decide whether the maximiser is unique (strict-complementarity
            certificate, else two LPs over the optimal face along a random direction).
        solver: CVXPY solver name (default "CLARABEL" for l2 / Mahalanobis, "HIGHS" for the LPs,
            whose simplex answer is a vertex that the polish can recompute exactly).
        dtype: precision of the returned arrays (float64 or long double; default from X).
        uniqueness_tol: optimal faces with relative diameter above this are reported non-unique.
        seed: seed of the random direction used by the uniqueness LPs.

    Raises:
        NotSeparableError: no w separates the data. DegenerateProblemError: singular M.
    """
    out_dtype = resolve_dtype(dtype, X)
    X_arr, y_arr = check_data(X, y, out_dtype)
    d = X_arr.shape[1]
    nrm = _parse_norm(norm, d, out_dtype)
    if not isinstance(polish, bool):
        raise TypeError(f"polish: must be True or False, got {polish!r}")
    if not isinstance(check_unique, bool):
        raise TypeError(f"check_unique: must be True or False, got {check_unique!r}")
    check_real("uniqueness_tol", uniqueness_tol, 0.0, low_open=True)
    default_solver = "CLARABEL" if nrm.kind in ("l2", "diag", "matrix") else "HIGHS"
    solver_name = default_solver if solver is None else str(solver).upper()
    Z_exact = y_arr[:, None] * X_arr
    Z = Z_exact.astype(np.float64)
    check_separable(X_arr, y_arr, dtype=out_dtype)
    if nrm.kind in ("l2", "diag", "matrix"):
        return _mahalanobis(Z, Z_exact, nrm, polish, solver_name, out_dtype)
    return _lp_norm(Z, Z_exact, nrm, polish, check_unique, solver_name, out_dtype, uniqueness_tol, seed)


def _solve_cvxpy(problem: Any, solver: str, argname: str = "solver") -> str:
    """Solve and return a note ("" or the inaccuracy caveat); CVXPY's own warning is replaced by it.
    Failures raise RuntimeError naming ``argname`` (the caller's solver argument)."""
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


def _mahalanobis(
    Z: np.ndarray, Z_exact: np.ndarray, nrm: _Norm, polish: bool, solver: str, out_dtype: np.dtype
) -> MaxMarginResult:
    import cvxpy as cp

    n, d = Z.shape
    chol = None
    if nrm.kind == "l2":
        G = Z
    elif nrm.kind == "diag":
        G = Z / np.sqrt(nrm.diag.astype(np.float64))
    else:
        chol = np.linalg.cholesky(nrm.matrix.astype(np.float64))  # M = L L^T
        G = sla.solve_triangular(chol, Z.T, lower=True).T  # rows L^-1 z_i, so ||G^T l|| = ||Z^T l||_{M^-1}

    w = cp.Variable(d)
    if nrm.kind == "l2":
        energy = cp.sum_squares(w)
    elif nrm.kind == "diag":
        energy = cp.sum_squares(cp.multiply(np.sqrt(nrm.diag.astype(np.float64)), w))
    else:
        energy = cp.sum_squares(chol.T @ w)
    constraint = Z @ w >= 1
    solver_note = _solve_cvxpy(cp.Problem(cp.Minimize(0.5 * energy), [constraint]), solver)
    lam = np.maximum(np.asarray(constraint.dual_value, dtype=np.float64), 0.0)
    w_hat = np.asarray(w.value, dtype=np.float64)
    solver_used, polished = solver, False

    def m_inverse(v: np.ndarray) -> np.ndarray:
        if nrm.kind == "l2":
            return v
        if nrm.kind == "diag":
            return v / nrm.diag.astype(np.float64)
        return sla.cho_solve((chol, True), v, check_finite=False)

    if polish:
        guess = (lam > _ACTIVE_RTOL * lam.max()) | (Z @ w_hat <= 1 + _ACTIVE_RTOL)
        dual = solve_dual_qp(G, warm_start=guess)
        lam_ld, w_ld = _refine_kkt(Z_exact, G, nrm, m_inverse, dual.support, dual.lambdas[dual.support])
        lam = np.zeros(n, dtype=_LD)
        lam[dual.support] = lam_ld
        w_hat = w_ld
        solver_used, polished = f"{solver}+{dual.method}", True

    w_hat_out = np.asarray(w_hat).astype(out_dtype)
    lam_out = np.asarray(lam).astype(out_dtype)
    size = nrm.of_rows(w_hat_out[None, :])[0]
    gamma = np.min(Z_exact @ w_hat_out) / size
    support = np.flatnonzero(lam_out > 0) if polished else np.flatnonzero(Z @ w_hat <= 1 + _ACTIVE_RTOL)
    return MaxMarginResult(
        w=w_hat_out / size,
        w_l2unit=w_hat_out / np.sqrt(np.sum(w_hat_out**2)),
        gamma=gamma,
        duals=lam_out,
        support=support,
        unique=True,  # strictly convex objective
        kkt_residual=_kkt_mahalanobis(Z_exact, nrm, w_hat_out, lam_out),
        solver=solver_used,
        norm=nrm.spec,
        norm_name=nrm.name,
        polished=polished,
        note="" if polished else solver_note,
    )


def _apply_m(nrm: _Norm, v: np.ndarray) -> np.ndarray:
    """M v in v's dtype."""
    if nrm.kind == "l2":
        return v
    if nrm.kind == "diag":
        return nrm.diag.astype(v.dtype) * v
    return nrm.matrix.astype(v.dtype) @ v


def _refine_kkt(
    Z_exact: np.ndarray, G: np.ndarray, nrm: _Norm, m_inverse: Any, support: np.ndarray, lam_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Iterative refinement of the active-set KKT system with long-double residuals.

    Unknowns (w, lambda_S): ``M w - Z_S^T lambda_S = 0``, ``Z_S w = 1``. Residuals are formed in long
    double from the exact data; corrections use the float64 Schur complement
    ``K_SS = Z_S M^-1 Z_S^T = G_S G_S^T``, so each pass gains ~16 digits up to long-double rounding.
    """
    Z_s = Z_exact[support].astype(_LD)
    Z_s64 = Z_s.astype(np.float64)
    factor = sla.cho_factor(G[support] @ G[support].T, lower=True, check_finite=False)
    lam = lam_s.astype(_LD)
    w = m_inverse(Z_s64.T @ lam_s).astype(_LD)
    for _ in range(3):
        r_station = Z_s.T @ lam - _apply_m(nrm, w)
        r_feas = 1 - Z_s @ w
        m_inv_r = m_inverse(r_station.astype(np.float64))
        d_lam = sla.cho_solve(factor, r_feas.astype(np.float64) - Z_s64 @ m_inv_r, check_finite=False)
        w = w + (m_inv_r + m_inverse(Z_s64.T @ d_lam)).astype(_LD)
        lam = lam + d_lam.astype(_LD)
    if np.any(lam <= 0):  # refinement cannot move a strictly positive multiplier across 0 unless ill-posed
        lam = lam_s.astype(_LD)
        w = m_inverse(Z_s64.T @ lam_s).astype(_LD)
    return lam, w


def _kkt_mahalanobis(Z: np.ndarray, nrm: _Norm, w_hat: np.ndarray, lam: np.ndarray) -> float:
    """Relative KKT residual of ``min 1/2 w^T M w s.t. Zw >= 1``, evaluated in long double."""
    Z_ld, w_ld, lam_ld = Z.astype(_LD), w_hat.astype(_LD), lam.astype(_LD)
    margins = Z_ld @ w_ld
    m_w = _apply_m(nrm, w_ld)
    lam_scale = max(np.max(np.abs(lam_ld)), np.finfo(np.float64).tiny)
    parts = [
        max(np.max(1 - margins), 0),  # primal infeasibility
        max(-np.min(lam_ld), 0) / lam_scale,  # dual infeasibility
        np.max(lam_ld * np.abs(margins - 1)) / lam_scale,  # complementarity
        np.max(np.abs(m_w - Z_ld.T @ lam_ld)) / max(np.max(np.abs(m_w)), np.finfo(np.float64).tiny),
    ]
    return float(max(parts))


# --------------------------------------------------------------------------------------------
# LP norms
# --------------------------------------------------------------------------------------------


def _lp_norm(
    Z: np.ndarray,
    Z_exact: np.ndarray,
    nrm: _Norm,
    polish: bool,
    check_unique: bool,
    solver: str,
    out_dtype: np.dtype,
    uniqueness_tol: float,
    seed: int,
) -> MaxMarginResult:
    import cvxpy as cp

    n, d = Z.shape
    # max s s.t. Zw >= s, ||w|| <= 1: for l-inf the ball is a box of variable bounds, which keeps the
    # LP at n rows (the epigraph form of min ||w|| s.t. Zw >= 1 adds 2d rows and is much slower).
    w = cp.Variable(d, bounds=[-1, 1]) if nrm.kind == "linf" else cp.Variable(d)
    s = cp.Variable()
    constraint = Z @ w >= s
    ball = [] if nrm.kind == "linf" else [cp.norm1(w) <= 1]
    solver_note = _solve_cvxpy(cp.Problem(cp.Maximize(s), [constraint, *ball]), solver)
    gamma_solver = float(s.value)
    # Rescale to the min-norm problem: w_hat = w / gamma (margins >= 1); its multipliers are
    # lambda / gamma (the max-s multipliers sum to 1).
    w_hat = np.asarray(w.value, dtype=np.float64) / gamma_solver
    lam = np.maximum(np.asarray(constraint.dual_value, dtype=np.float64), 0.0) / gamma_solver
    notes: list[str] = []
    vertex = _lp_vertex(Z_exact, w_hat, nrm.kind) if polish or check_unique else None
    polished = False
    if polish and vertex is not None:
        w_hat, lam = vertex.w_hat, vertex.lam
        polished = True
    elif polish:
        notes.append("vertex polish skipped: the solution is not at a non-degenerate vertex.")
    if not polished and solver_note:
        notes.append(solver_note)

    unique: bool | None = None
    diameter: float | None = None
    if check_unique:
        if vertex is not None and vertex.strictness > 0:
            unique, diameter = True, 0.0
            if vertex.strictness < 1e-6:
                notes.append(
                    f"unique, but nearly flat: the weakest strict multiplier is {vertex.strictness:.1e}, so points "
                    f"whose margin is within eps of optimal can differ from w by ~eps/{vertex.strictness:.1e}."
                )
        else:
            t_star = float(np.max(np.abs(w_hat)) if nrm.kind == "linf" else np.sum(np.abs(w_hat)))
            diameter = _lp_face_diameter(Z, t_star, nrm.kind, seed)
            unique = diameter <= uniqueness_tol
        if not unique:
            notes.append(
                f"the {nrm.kind} maximiser is NOT unique (optimal face has relative diameter >= {diameter:.3g}); "
                "w is one optimal point. Compare normalized_margin / margin_ratio, not cosines."
            )
            warnings.warn(f"max_margin: {notes[-1]}", DegenerateProblemWarning, stacklevel=3)

    w_hat_out = np.asarray(w_hat).astype(out_dtype)
    lam_out = np.asarray(lam).astype(out_dtype)
    size = nrm.of_rows(w_hat_out[None, :])[0]
    margins = Z_exact @ w_hat_out
    support = np.flatnonzero(lam_out > 0) if polished else np.flatnonzero(margins <= np.min(margins) * (1 + _ACTIVE_RTOL))
    return MaxMarginResult(
        w=w_hat_out / size,
        w_l2unit=w_hat_out / np.sqrt(np.sum(w_hat_out**2)),
        gamma=np.min(margins) / size,
        duals=lam_out,
        support=support,
        unique=unique,
        kkt_residual=_kkt_lp(Z_exact, nrm.kind, w_hat_out, lam_out),
        solver=f"{solver}+vertex" if polished else solver,
        norm=nrm.spec,
        norm_name=nrm.name,
        polished=polished,
        note=" ".join(notes),
        face_diameter=diameter,
    )


@dataclass
class _Vertex:
    w_hat: np.ndarray  # long double
    lam: np.ndarray  # long double, (n,)
    strictness: float  # smallest normalized strict multiplier; > 0 certifies uniqueness, 0 if not strict


def _solve_refined(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve a square system A x = b in float64 with two long-double refinement passes."""
    lu = sla.lu_factor(A.astype(np.float64), check_finite=False)
    x = sla.lu_solve(lu, b.astype(np.float64), check_finite=False).astype(_LD)
    A_ld, b_ld = A.astype(_LD), b.astype(_LD)
    for _ in range(2):
        x = x + sla.lu_solve(lu, (b_ld - A_ld @ x).astype(np.float64), check_finite=False).astype(_LD)
    return x


def _lp_vertex(Z_exact: np.ndarray, w_hat: np.ndarray, kind: str) -> _Vertex | None:
    """Recompute an l-inf / l1 solution exactly on its optimal vertex; None if not a regular vertex.

    l-inf: with active rows S, saturated coordinates J (signs s) and free ones F, the vertex solves
    ``[Z_SF, Z_SJ s] (w_F, t) = 1`` and the dual ``[Z_SF, Z_SJ s]^T lambda_S = e_last``.
    l1: with support F (signs s), ``Z_SF w_F = 1`` and ``Z_SF^T lambda_S = s``.
    Strict complementarity (lambda_S > 0 and every bound multiplier > 0) certifies uniqueness: every
    optimal w must then keep all these constraints active, and the square system pins w down.
    """
    n, d = Z_exact.shape
    Z64 = Z_exact.astype(np.float64)
    margins = Z64 @ w_hat
    active = np.flatnonzero(margins <= 1 + _ACTIVE_RTOL)
    big = float(np.max(np.abs(w_hat)))
    if kind == "linf":
        saturated = np.abs(w_hat) >= big * (1 - _ACTIVE_RTOL)
        free, sat = np.flatnonzero(~saturated), np.flatnonzero(saturated)
        signs = np.sign(w_hat[sat])
        A = np.hstack([Z_exact[np.ix_(active, free)], (Z_exact[np.ix_(active, sat)] @ signs)[:, None]])
        rhs_dual = np.zeros(A.shape[1])
        rhs_dual[-1] = 1
    else:
        free = np.flatnonzero(np.abs(w_hat) > big * _ACTIVE_RTOL)
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
    w_new = np.zeros(d, dtype=_LD)
    if kind == "linf":
        w_new[free], t = x[:-1], x[-1]
        w_new[sat] = signs * t
        bound_ok = bool(np.all(np.abs(x[:-1]) <= t * (1 + 1e-12)))
    else:
        w_new[free] = x
        bound_ok = bool(np.all(np.sign(x.astype(np.float64)) == signs))
    lam = np.zeros(n, dtype=_LD)
    lam[active] = lam_s
    correlation = Z_exact.astype(_LD).T @ lam  # Z^T lambda: the dual's subgradient certificate
    lam_scale = float(np.max(np.abs(lam_s)))
    feasible = bool(np.min(Z_exact.astype(_LD) @ w_new) >= 1 - 1e-12) and bound_ok and lam_scale > 0
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
    return _Vertex(w_new, np.maximum(lam, 0), strictness if strictness > 1e-10 else 0.0)


def _lp_face_diameter(Z: np.ndarray, t_star: float, kind: str, seed: int) -> float:
    """Lower bound on the relative diameter of the optimal face of min ||w||_p s.t. Zw >= 1.

    Over the face (thickened by 1e-10 in the optimal value, in units u = w / t*) maximize and
    minimize a random linear functional: if the face has dimension >= 1 the two optima differ
    almost surely; their distance in the norm is returned.
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


def _kkt_lp(Z: np.ndarray, kind: str, w_hat: np.ndarray, lam: np.ndarray) -> float:
    """Relative KKT residual of ``min ||w||_p s.t. Zw >= 1`` (p = inf or 1), in long double.

    Max of: primal infeasibility, | ||Z^T lambda||_q - 1 | (dual feasibility, q the dual exponent),
    relative duality gap |sum(lambda) - ||w_hat||_p| / ||w_hat||_p, and complementarity.
    """
    Z_ld, w_ld, lam_ld = Z.astype(_LD), w_hat.astype(_LD), lam.astype(_LD)
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
