"""Data of a configuration: generated data sets, scikit-learn's bundled data sets, data files."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import datasets
from .config import normalize_data


def data_message(exc: Exception, params: Mapping[str, Any]) -> str:
    """A data-set generator's error, with its parameter names as configuration keys.

    Args:
        exc: the generator's exception (``n: must be ...``).
        params: the generator's parameters, as given in the configuration.

    Returns:
        The message with the key prefixed (``data.n: must be ...``).
    """
    text = str(exc)
    head, sep, rest = text.partition(":")
    names = [h.strip() for h in head.split(",")]
    if sep and names and all(n in params for n in names):
        return ", ".join(f"data.{n}" for n in names) + ":" + rest
    return f"data: {text}"


def load_data(spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The data set of a normalized data spec.

    Args:
        spec: a normalized ``data`` entry: a generated data set, a scikit-learn data set or a data
            file (.npy / .npz / CSV / svmlight, read by ``ib.datasets.load``).

    Returns:
        X (n, d), y (n,) in {-1, +1}.
    """
    spec = normalize_data(spec)
    if "path" in spec:
        path = spec["path"]
        if not os.path.exists(path):
            raise ValueError(f"data.path: no such file: {path}")
        if not os.path.isfile(path):
            raise ValueError(f"data.path: {path} is not a regular file")
        try:
            X, y = datasets.load(path)
        except (ValueError, TypeError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"data.path: cannot read {path} ({type(exc).__name__}: {exc})") from exc
    elif "sklearn" in spec:
        classes = None if spec["classes"] is None else tuple(spec["classes"])
        try:
            X, y = datasets.load_sklearn(spec["sklearn"], classes=classes, standardize=spec["standardize"])
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"data.sklearn: {exc}") from exc
    else:
        params = {k: v for k, v in spec.items() if k != "name"}
        try:
            out = getattr(datasets, spec["name"])(**params)
        except (TypeError, ValueError) as exc:
            kind = type(exc) if isinstance(exc, ValueError) else ValueError  # keeps NotSeparableError
            raise kind(data_message(exc, params)) from exc
        X, y = (out.X, out.y) if hasattr(out, "X") else out
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise ValueError(f"data: X and y must be real-valued, got dtypes {X.dtype} and {y.dtype}")
    if X.ndim != 2:
        raise ValueError(f"data: X must be 2-dimensional (n, d), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"data: y must have shape ({X.shape[0]},), got {y.shape}")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError("data: labels y must be -1 or +1")
    return X, y
