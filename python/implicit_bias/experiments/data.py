"""Data of a configuration: generated data sets, ``.npz`` and CSV files."""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import datasets
from .config import normalize_data

def read_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"data.path: {path} is empty")
    header = None
    try:
        [float(c) for c in rows[0]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    try:
        arr = np.array([[float(c) for c in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"data.path: {path} has a non-numeric entry ({exc})") from exc
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"data.path: {path} needs at least two columns (features..., label)")
    label_col = arr.shape[1] - 1
    if header is not None:
        for name in ("y", "label", "labels"):
            if name in header:
                label_col = header.index(name)
    y = arr[:, label_col]
    X = np.delete(arr, label_col, axis=1)
    return X, y


def data_message(exc: Exception, params: Mapping[str, Any]) -> str:
    """A data-set generator's error, with its parameter names as configuration keys
    (``n: must be ...`` -> ``data.n: must be ...``)."""
    text = str(exc)
    head, sep, rest = text.partition(":")
    names = [h.strip() for h in head.split(",")]
    if sep and names and all(n in params for n in names):
        return ", ".join(f"data.{n}" for n in names) + ":" + rest
    return f"data: {text}"


def load_data(spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` for a normalized data spec (a generated data set or a .npz / .csv file)."""
    spec = normalize_data(spec)
    if "path" in spec:
        path = spec["path"]
        if not os.path.exists(path):
            raise ValueError(f"data.path: no such file: {path}")
        if not os.path.isfile(path):
            raise ValueError(f"data.path: {path} is not a regular file")
        try:
            if path.endswith(".npz"):
                with np.load(path, allow_pickle=False) as f:
                    missing = [k for k in ("X", "y") if k not in f.files]
                    if missing:
                        raise ValueError(f"data.path: {path} must hold arrays 'X' and 'y' (missing {', '.join(missing)}; found {', '.join(f.files)})")
                    X, y = f["X"], f["y"]
            else:
                X, y = read_csv(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            if str(exc).startswith("data.path:"):
                raise
            raise ValueError(f"data.path: cannot read {path} ({type(exc).__name__}: {exc})") from exc
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

