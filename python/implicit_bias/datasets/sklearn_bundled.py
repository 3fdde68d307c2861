"""Two-class problems from scikit-learn's bundled data sets (digits, iris, wine, breast_cancer).

They come inside scikit-learn's wheel (no download); scikit-learn is an optional dependency
(``pip install "implicit-bias[sklearn]"``). The result has the generators' ``(X, y)`` form but its
separability is not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .._validation import resolve_dtype

__all__ = ["SKLEARN_DATASETS", "SKLEARN_HINT", "import_sklearn_datasets", "load_sklearn"]

#: scikit-learn data sets that ship inside its wheel (no download), with their loader's name.
SKLEARN_DATASETS: dict[str, str] = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
}

SKLEARN_HINT = 'pip install "implicit-bias[sklearn]"'


def import_sklearn_datasets(what: str) -> Any:
    """``sklearn.datasets``, or an ImportError saying that ``what`` needs scikit-learn and how to get it."""
    try:
        import sklearn.datasets as skd
    except ImportError as exc:
        raise ImportError(f"{what} needs scikit-learn, an optional dependency: {SKLEARN_HINT}") from exc
    return skd


def load_sklearn(
    name: str,
    classes: Sequence[Any] | None = None,
    standardize: bool = True,
    drop_zero_features: bool = True,
    dtype: DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """A two-class problem from one of scikit-learn's bundled data sets (no download).

    Args:
        name: "digits" (8x8 images, 10 classes, d = 64), "iris" (3 classes, d = 4), "wine"
            (3 classes, d = 13) or "breast_cancer" (2 classes, d = 30).
        classes: ``(a, b)``: the two classes to keep, as integer targets or target names
            (``("setosa", "versicolor")``); rows of class ``a`` get label -1, rows of class ``b``
            label +1, other rows are dropped, the order of the kept rows is the data set's. May be
            omitted only for a data set with exactly two classes (breast_cancer: 0 = malignant -> -1,
            1 = benign -> +1).
        standardize: centre every feature and divide it by its standard deviation (ddof = 0),
            both computed on the kept rows. Without it the raw features are returned.
        drop_zero_features: drop the features that are identically 0 on the kept rows (after
            standardizing, that is every constant feature: e.g. the always-blank border pixels of
            digits). They change no margin, but kept they make the l-inf / l1 max-margin direction
            non-unique. Pass False to keep the original columns.
        dtype: float64 (default) or long double.

    Returns:
        X (n, d), y (n,) in {-1, +1}. Separability (through the origin) is not checked: digits
        (0, 1) and iris (0, 1) are separable, breast_cancer is raw but not once standardized.

    Raises:
        ImportError: scikit-learn is not installed (``pip install "implicit-bias[sklearn]"``).
        ValueError: unknown data set or class.
    """
    if not isinstance(name, str) or name not in SKLEARN_DATASETS:
        raise ValueError(f"name: unknown scikit-learn data set {name!r}; bundled ones: {', '.join(SKLEARN_DATASETS)}")
    out = resolve_dtype(dtype, None)
    skd = import_sklearn_datasets(f"load_sklearn({name!r})")
    bunch = getattr(skd, SKLEARN_DATASETS[name])()
    X = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target)
    names = [str(t) for t in getattr(bunch, "target_names", [])]
    available = sorted(int(t) for t in np.unique(target))
    neg, pos = _resolve_classes(name, classes, available, names)
    keep = (target == neg) | (target == pos)
    X = X[keep]
    y = np.where(target[keep] == pos, 1.0, -1.0)
    if standardize:
        X = X - X.mean(axis=0)
        std = X.std(axis=0)
        X = X / np.where(std > 0, std, 1.0)
    if drop_zero_features:
        nonzero = np.any(X != 0, axis=0)
        if not np.any(nonzero):
            raise ValueError(f"{name}: every feature is constant on classes {(neg, pos)}")
        X = X[:, nonzero]
    return np.ascontiguousarray(X, dtype=out), np.ascontiguousarray(y, dtype=out)


def _resolve_classes(
    name: str, classes: Sequence[Any] | None, available: list[int], names: list[str]
) -> tuple[int, int]:
    """The integer targets ``(a, b)`` of the two ``classes`` (numbers or names) of data set ``name``."""
    listing = ", ".join(f"{c} ({names[c]})" if c < len(names) and names[c] != str(c) else str(c) for c in available)
    if classes is None:
        if len(available) != 2:
            raise ValueError(f"classes: {name} has {len(available)} classes ({listing}); pick two, e.g. classes=(0, 1)")
        return available[0], available[1]
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence) or len(classes) != 2:
        raise ValueError(f"classes: must be a pair (a, b) of two of {name}'s classes ({listing}), got {classes!r}")
    resolved = []
    for c in classes:
        if isinstance(c, str):
            if c not in names:
                raise ValueError(f"classes: {name} has no class {c!r}; classes: {listing}")
            resolved.append(names.index(c))
        elif isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)):
            if int(c) not in available:
                raise ValueError(f"classes: {name} has no class {c!r}; classes: {listing}")
            resolved.append(int(c))
        else:
            raise ValueError(f"classes: entries must be class numbers or names, got {c!r}")
    if resolved[0] == resolved[1]:
        raise ValueError(f"classes: the two classes must differ, got {tuple(classes)!r}")
    return resolved[0], resolved[1]
