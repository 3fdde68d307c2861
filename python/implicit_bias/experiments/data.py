"""Data of a configuration: generated data sets, scikit-learn's bundled data sets, data files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import datasets
from .config import normalize_data

def load_data(spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` for a normalized data spec: a generated data set, a scikit-learn data set or a
    data file (.npy / .npz / CSV / svmlight, read by ``ib.datasets.load``)."""
    spec = normalize_data(spec)
    if "path" in spec:
        path = spec["path"]
        if not os.path.exists(path):
            raise ValueError(f"data.path: no such file: {path}")
        try:
            X, y = datasets.load(path)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"data.path: {exc}") from exc
    elif "sklearn" in spec:
        classes = None if spec["classes"] is None else tuple(spec["classes"])
        try:
            X, y = datasets.load_sklearn(spec["sklearn"], classes=classes, standardize=spec["standardize"])
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"data.sklearn: {exc}") from exc
    else:
        params = {k: v for k, v in spec.items() if k != "name"}
        out = getattr(datasets, spec["name"])(**params)
        X, y = (out.X, out.y) if hasattr(out, "X") else out
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"data: X must be 2-dimensional (n, d), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"data: y must have shape ({X.shape[0]},), got {y.shape}")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError("data: labels y must be -1 or +1")
    return X, y

