"""Validated data shared by runs, the compiled engine per precision, and the separability check.

A :class:`PreparedData` is built once per data set (by ``ib.train``, ``ib.Run``, ``ib.train_many``
and the experiments): the arrays are validated and converted once, the compiled copy ``Z = y x`` is
shared by every run on them, and the data are checked for linear separability once.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import _core
from .._validation import check_data, resolve_dtype
from ..errors import NotSeparableWarning

__all__ = ["PreparedData", "advance_ensemble", "engine_classes", "nonseparable_reason", "LP_CHECK_LIMIT"]

_ENGINE = {
    np.dtype(np.float64): (_core.Dataset_float64, _core.Run_float64, _core.advance_ensemble_float64),
    np.dtype(np.longdouble): (_core.Dataset_longdouble, _core.Run_longdouble, _core.advance_ensemble_longdouble),
}

#: Largest n * d for which the separability LP is solved before a run (HiGHS takes ~0.3 s at
#: n * d = 2e5 on one core, the cost of ~10^6 engine steps; larger data get the exact cheap checks only).
LP_CHECK_LIMIT = 200_000


def engine_classes(dtype: np.dtype) -> tuple[Any, Any]:
    """The compiled ``(Dataset, Run)`` classes for runs of ``dtype``."""
    dataset, run, _ = _ENGINE[np.dtype(dtype)]
    return dataset, run


def advance_ensemble(dtype: np.dtype) -> Any:
    """The engine's OpenMP loop ``(cores, targets, threads) -> None`` for runs of ``dtype``."""
    return _ENGINE[np.dtype(dtype)][2]


def _row_hashes(Z: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every row of Z (n, d) float64 (-0.0 counted as 0.0), in O(n d), by chunks."""
    multipliers = np.random.default_rng(0x5EED).integers(1, 2**63, size=Z.shape[1], dtype=np.uint64) * 2 + 1
    out = np.empty(Z.shape[0], dtype=np.uint64)
    for lo in range(0, Z.shape[0], 4096):
        mixed = np.ascontiguousarray(Z[lo : lo + 4096] + 0.0).view(np.uint64) * multipliers  # modulo 2**64
        mixed ^= mixed >> np.uint64(29)  # nonlinear: a row and its negative hash apart
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        out[lo : lo + 4096] = np.sum(mixed, axis=1, dtype=np.uint64)
    return out


def _opposite_rows(Z: np.ndarray) -> tuple[int, int] | None:
    """Indices i < j with z_i = -z_j exactly (Z has no zero row), or None.

    Rows of -Z whose hash equals a row hash of Z are candidates, checked exactly: O(n d + n log n).
    (Rows are hashed in float64; opposite long-double rows stay opposite when rounded to float64.)
    """
    with np.errstate(over="ignore"):  # long-double rows beyond double's range hash as +-inf (then checked exactly)
        Z64 = np.asarray(Z, dtype=np.float64)
        h, h_neg = _row_hashes(Z64), _row_hashes(-Z64)
    order = np.argsort(h, kind="stable")
    sorted_h = h[order]
    pos = np.minimum(np.searchsorted(sorted_h, h_neg), sorted_h.size - 1)
    for j in np.flatnonzero(sorted_h[pos] == h_neg):
        i = int(order[pos[j]])
        if np.array_equal(Z[i], -Z[j]):
            return min(i, int(j)), max(i, int(j))
    return None


def nonseparable_reason(Z: np.ndarray, lp_limit: int = LP_CHECK_LIMIT) -> str | None:
    """Why the signed rows ``Z`` (n, d) admit no w with ``Zw > 0``, or None when they do (or when
    only the LP could tell and n * d > ``lp_limit``).

    Exact checks first, O(n d): a zero row (its margin is 0 for every w), and two rows with
    ``z_i = -z_j`` (the same point with opposite labels, or opposite points with the same label).
    Then, when ``n * d <= lp_limit``, the LP of :func:`implicit_bias.separability.separating_direction`
    on the rows scaled to max |z_ij| = 1 (separability does not change under positive row scaling,
    and the LP's tolerances then hold at any data scale).
    """
    n, d = Z.shape
    row_max = np.max(np.abs(Z), axis=1)
    zero = np.flatnonzero(row_max == 0)
    if zero.size:
        return f"row {int(zero[0])} of X is zero, so its margin is 0 for every w"
    pair = _opposite_rows(Z)
    if pair is not None:
        return (
            f"rows {pair[0]} and {pair[1]} have y_i x_i = -y_j x_j (the same point with opposite labels, "
            "or opposite points with one label), so no w gives both a positive margin"
        )
    if n * d > lp_limit:
        return None
    from ..separability import separating_direction  # scipy's LP, imported only when needed

    scaled = (Z / row_max[:, None]).astype(np.float64)
    w, best = separating_direction(scaled)
    if w is None:
        return f"no w has y_i <x_i, w> > 0 for all i (the separability LP's best l-inf normalized margin is {best:.3g})"
    return None


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package, for the caller of this function
    (so a warning points at the user's ``ib.train`` / ``ib.Run`` line, however deep the call)."""
    package = str(Path(__file__).resolve().parents[1])
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


class PreparedData:
    """A validated data set in one precision, with its compiled copy ``Z = y x`` shared by runs.

    Args:
        X: (n, d) features; float64 or np.longdouble (ints / float32 are converted exactly).
        y: (n,) labels in {-1, +1}.
        dtype: np.float64 or np.longdouble; default np.longdouble if X is, else np.float64.
        check_separable: warn (:class:`implicit_bias.errors.NotSeparableWarning`, with the reason)
            when the data are not linearly separable through the origin, which every claim of the
            theory assumes. The exact checks (zero rows, ``z_i = -z_j``) always run when True; the LP
            only for ``n * d <=`` :data:`LP_CHECK_LIMIT`. False skips all of it.

    Attributes:
        X, y: the validated arrays in ``dtype``; ``core``: the engine's dataset (one copy, however
        many runs use it).
    """

    def __init__(
        self, X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None, *, check_separable: bool = True
    ) -> None:
        if not isinstance(check_separable, (bool, np.bool_)):
            raise TypeError(f"check_separable: must be True or False, got {check_separable!r}")
        self.dtype = resolve_dtype(dtype, X)
        self.X, self.y = check_data(X, y, self.dtype)
        Z = np.ascontiguousarray(self.y[:, None] * self.X)
        if check_separable:
            reason = nonseparable_reason(Z)
            if reason is not None:
                warnings.warn(
                    f"X, y: the data are not linearly separable through the origin ({reason}); the theory's "
                    "limits (max-margin directions) do not exist for them. Pass check_separable=False to skip "
                    "this check.",
                    NotSeparableWarning,
                    stacklevel=_user_stacklevel(),
                )
        self.core = _ENGINE[self.dtype][0](Z)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Number of features."""
        return int(self.X.shape[1])
