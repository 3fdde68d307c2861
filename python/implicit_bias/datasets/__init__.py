"""Data sets: seeded separable generators, real data, and validation of user data.

Every function returns ``(X, y)``: X of shape (n, d), y of shape (n,) in {-1, +1}.

* :mod:`.synthetic`: the generators of SPEC.md (:func:`gaussian`, :func:`generalized_rademacher`,
  :func:`shifted_diagonal`), seeded and checked separable (else :class:`NotSeparableError`).
* :mod:`.sklearn_bundled`: :func:`load_sklearn`, two classes of scikit-learn's bundled digits / iris /
  wine / breast_cancer (optional extra ``pip install "implicit-bias[sklearn]"``).
* :mod:`.files`: :func:`load` for .npy, .npz, CSV and svmlight files.

Real data (the last two) is **not** checked for separability; :func:`validate` checks user data and
its separability, :func:`is_separable` / :func:`check_separable` only the latter.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .._validation import check_data, resolve_dtype
from ..separability import check_separable, is_separable
from .files import FORMATS as FORMATS
from .files import load
from .sklearn_bundled import SKLEARN_DATASETS, load_sklearn
from .synthetic import LABELS as LABELS
from .synthetic import gaussian, generalized_rademacher, shifted_diagonal

__all__ = [
    "gaussian",
    "generalized_rademacher",
    "shifted_diagonal",
    "load_sklearn",
    "load",
    "SKLEARN_DATASETS",
    "validate",
    "check_separable",
    "is_separable",
]


def validate(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Check user data and return ``(X, y)`` as contiguous arrays of the run precision.

    Shapes, finiteness and labels are checked as by the engine; in addition the set must be
    separable through the origin.

    Args:
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        dtype: float64 or long double; default: long double if X is, else float64.

    Returns:
        X (n, d), y (n,) as C-contiguous arrays of ``dtype``.

    Raises:
        NotSeparableError: no w with y_i <x_i, w> > 0 for all i.
        ValueError: a bad shape, non-finite entries or labels not in {-1, +1}.
    """
    X_arr, y_arr = check_data(X, y, resolve_dtype(dtype, X))
    check_separable(X_arr, y_arr)
    return X_arr, y_arr
