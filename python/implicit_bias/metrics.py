"""How an iterate compares with a reference: normalized margins, cosines, margin ratios, norms.

The one home of these quantities for the whole package (engine trajectories, references, experiments
and plots all call these functions). Conventions (SPEC.md): ``z_i = y_i x_i``, margins
``m_i(w) = <z_i, w>``, ``gamma(w) = min_i m_i(w) / ||w||``.

A ``norm`` argument is ``"l2"``, ``"linf"``, ``"l1"``, a 1-D array (the positive diagonal of M) or
a 2-D array (a symmetric positive definite M), with ``||w||_M = sqrt(w^T M w)``. A singular M (PSD
but not definite, e.g. a zero on the diagonal) raises :class:`DegenerateProblemError`: ``||.||_M``
is then only a seminorm and the max-margin direction is not defined.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_real_array, check_choice, check_data, check_real
from .errors import DegenerateProblemError, DegenerateProblemWarning

__all__ = [
    "NORM_NAMES",
    "NormSpec",
    "Norm",
    "parse_norm",
    "normalized_margin",
    "cosine",
    "margin_ratio",
    "unit_vector",
    "margins_of_rows",
    "cosines_of_rows",
    "common_dtype",
    "as_directions",
]

NORM_NAMES = ("l2", "linf", "l1")
#: "l2" | "linf" | "l1" | positive diagonal of M, shape (d,) | positive definite M, shape (d, d).
NormSpec = Union[str, np.ndarray]

LONG_DOUBLE = np.dtype(np.longdouble)


@dataclass(frozen=True)
class Norm:
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


def parse_norm(norm: Any, d: int, dtype: np.dtype) -> Norm:
    """Validate a norm argument for dimension d (errors name the argument ``norm``).

    Args:
        norm: "l2", "linf", "l1", the positive diagonal of M (d,) or a symmetric positive definite
            M (d, d); see the module docstring.
        d: the dimension of the data (int >= 1).
        dtype: the precision to hold an array norm in, np.float64 or np.longdouble.

    Returns:
        The validated :class:`Norm` (a matrix is stored symmetrized, ``(M + M^T) / 2``).

    Raises:
        ValueError: when ``norm`` is an unknown name or an array of another dimension or shape, has
            a negative diagonal entry, or is a matrix that is not symmetric or not positive
            semidefinite (or fails :func:`as_real_array`'s checks).
        TypeError: when an array ``norm`` is not real-valued.
        DegenerateProblemError: when the diagonal has a zero or the matrix is singular (only a
            seminorm: the max-margin direction is not defined).
    """
    if isinstance(norm, str):
        return Norm(check_choice("norm", norm, NORM_NAMES), norm)
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
        return Norm("diag", arr, diag=arr)
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
    return Norm("matrix", arr, matrix=arr)


def common_dtype(*arrays: Any) -> np.dtype:
    """long double if any input is long double, else float64 (never narrows silently)."""
    return LONG_DOUBLE if any(getattr(a, "dtype", None) == LONG_DOUBLE for a in arrays) else np.dtype(np.float64)


def as_directions(name: str, W: ArrayLike, dtype: np.dtype, d: int) -> tuple[np.ndarray, bool]:
    """W (d,) or (K, d) -> ((K, d) array, whether a single vector was given).

    Args:
        name: the argument's name, the start of every error message.
        W: one direction (d,) or K directions (K, d), real-valued.
        dtype: the precision to convert to, np.float64 or np.longdouble.
        d: the dimension W's last axis must have.

    Returns:
        (W, single): W as a C-contiguous (K, d) array of ``dtype`` (K = 1 for a vector), and
        whether a single vector (d,) was given.

    Raises:
        ValueError: when W is not 1- or 2-dimensional, its last dimension is not ``d``, or it fails
            :func:`as_real_array`'s checks (e.g. NaN or infinite entries).
        TypeError: when W is not real-valued.
    """
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


def margins_of_rows(W: np.ndarray, Z: np.ndarray, norm: Norm) -> np.ndarray:
    """Kernel of :func:`normalized_margin` for validated arrays: ``min_i <z_i, w_k> / ||w_k||``.

    W (K, d) and Z (n, d) in one float dtype; returns (K,) in that dtype, NaN for a zero row.

    Args:
        W: K directions, shape (K, d), float64 or np.longdouble.
        Z: the rows ``z_i = y_i x_i``, shape (n, d), in W's dtype.
        norm: the validated :class:`Norm` of the normalization.

    Returns:
        The normalized margins, shape (K,), in W's dtype (in Z's units); NaN for a zero row of W.
    """
    worst = np.min(W @ Z.T, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.any(W != 0, axis=1), worst / norm.of_rows(W), np.nan)


def cosines_of_rows(W: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Kernel of :func:`cosine` for validated arrays: W (K, d), ref (d,) -> (K,), NaN for zero rows.

    Both are scaled by their largest entry first, so huge iterates (||w|| ~ 1e300) do not overflow.
    """
    l2 = Norm("l2", "l2")
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_unit = ref / l2.of_rows(ref[None, :])[0]
        W_unit = W / l2.of_rows(W)[:, None]
        return W_unit @ ref_unit


def unit_vector(v: Any) -> np.ndarray:
    """``v / ||v||_2`` in float64 for a vector (d,) or a result with ``.w``; raises on zero / non-finite."""
    arr = np.asarray(getattr(v, "w", v), dtype=np.float64).ravel()
    size = np.linalg.norm(arr)
    if not np.isfinite(size) or size == 0:
        raise ValueError("reference direction is zero or not finite")
    return arr / size


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
    dtype = common_dtype(W, X)
    X_arr, y_arr = check_data(X, y, dtype)
    W_arr, single = as_directions("W", W, dtype, X_arr.shape[1])
    nrm = parse_norm(norm, X_arr.shape[1], dtype)
    values = margins_of_rows(W_arr, y_arr[:, None] * X_arr, nrm)
    return _scalar_or_array(values.astype(dtype), single)


def cosine(W: ArrayLike, w_ref: Any) -> Any:
    """Cosine ``<w, w_ref> / (||w||_2 ||w_ref||_2)`` of one (d,) or many (K, d) directions.

    ``w_ref`` is a vector (d,) or a result with ``.w`` (:class:`MaxMarginResult`,
    ``FixedPointResult``). A reference flagged ``unique=False`` triggers a warning: the cosine to
    one point of a non-unique optimal face says little; use :func:`margin_ratio`.
    Zero vectors give NaN.

    Args:
        W: one direction (d,) or K directions (K, d).
        w_ref: the reference direction (d,), or a result with ``.w``.

    Returns:
        The cosine (dimensionless, in [-1, 1]): a scalar for (d,) input, an array (K,) otherwise.

    Raises:
        ValueError: when ``w_ref`` and ``W`` differ in d.
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
    dtype = common_dtype(W, w_ref)
    W_arr, single = as_directions("W", W, dtype, int(np.shape(W)[-1]) if np.ndim(W) else 0)
    ref = as_real_array("w_ref", w_ref, dtype, ndim=1)
    if ref.shape[0] != W_arr.shape[1]:
        raise ValueError(f"w_ref: has {ref.shape[0]} entries but W has d = {W_arr.shape[1]}")
    return _scalar_or_array(cosines_of_rows(W_arr, ref), single)


def margin_ratio(W: ArrayLike, X: ArrayLike, y: ArrayLike, norm: NormSpec | None, gamma_star: Any) -> Any:
    """``gamma_norm(w) / gamma_star``: 1 means w attains the optimal normalized margin.

    ``gamma_star`` is a positive number or a result with ``.gamma`` (and ``.norm``, used when
    ``norm`` is None). Meaningful even when the maximiser is not unique. Shapes as in
    :func:`normalized_margin`.

    Args:
        W: one direction (d,) or K directions (K, d).
        X: data (n, d).
        y: labels (n,) in {-1, +1}.
        norm: the norm of the normalized margin, or None to take ``gamma_star.norm``.
        gamma_star: the optimal normalized margin (> 0, in X's units), or a result with ``.gamma``.

    Returns:
        The ratio (dimensionless): a scalar for (d,) input, an array (K,) otherwise.

    Raises:
        ValueError: when ``norm`` is missing or differs from the result's norm, or ``gamma_star``
            is not positive.
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
    return normalized_margin(W, X, y, norm) / np.asarray(gamma_star, dtype=common_dtype(W, X))
