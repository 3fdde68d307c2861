"""Labelled data sets read from files: .npy, .npz, CSV and svmlight / libsvm.

:func:`load` returns the generators' ``(X, y)`` form, checks shapes, finiteness and labels and names
the file in every error; separability is not checked.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .._validation import resolve_dtype
from .sklearn_bundled import import_sklearn_datasets

__all__ = ["FORMATS", "load"]

#: File formats :func:`load` reads, by extension.
FORMATS: dict[str, str] = {
    ".npy": "npy",
    ".npz": "npz",
    ".csv": "csv",
    ".svm": "svmlight",
    ".svmlight": "svmlight",
    ".libsvm": "svmlight",
}

# Header names that mark the label column of a CSV file (otherwise the last column is the label).
_LABEL_NAMES = ("y", "label", "labels")


def load(
    path: str | os.PathLike[str], format: str | None = None, dtype: DTypeLike = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Read a labelled data set from a file.

    Formats (chosen by the extension, or by ``format``):

    * ``.npy`` ("npy"): one (n, d + 1) array, the labels in the **last column**.
    * ``.npz`` ("npz"): arrays ``X`` (n, d) and ``y`` (n,) (other arrays are ignored).
    * ``.csv`` ("csv"): comma-separated numbers, one sample per line, the label in the last column.
      An optional header line (detected: a first line that is not all numbers) may name the label
      column ``y``, ``label`` or ``labels`` instead; blank lines are skipped.
    * ``.svm`` / ``.svmlight`` / ``.libsvm`` ("svmlight"): sparse ``label index:value ...`` lines,
      read with scikit-learn's ``load_svmlight_file`` (needs ``pip install "implicit-bias[sklearn]"``)
      and returned dense.

    Labels must be -1 / +1; labels in {0, 1} are also accepted and 0 becomes -1 (the usual
    encoding of binary CSV and svmlight files). Anything else (e.g. {1, 2}, or -1, 0 and 1
    together) is refused: map it yourself.

    Args:
        path: the file.
        format: "npy", "npz", "csv" or "svmlight" (default: from the extension, see :data:`FORMATS`).
        dtype: float64 (default) or long double.

    Returns:
        X (n, d), y (n,) in {-1, +1}, float64 by default (or long double). Separability is not
        checked.

    Raises:
        ValueError: naming the file, for an unknown format, a missing key, a wrong shape, an empty
            file, non-numeric, NaN or infinite entries, or labels not in {-1, +1} / {0, 1}.
        FileNotFoundError: no such file.
    """
    path = os.fspath(path)
    out = resolve_dtype(dtype, None)
    fmt = _format_of(path, format)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    if fmt == "npy":
        X, y = _read_npy(path)
    elif fmt == "npz":
        X, y = _read_npz(path)
    elif fmt == "csv":
        X, y = _read_csv(path)
    else:
        X, y = _read_svmlight(path)
    return _checked(path, X, y, out)


def _format_of(path: str, format: str | None) -> str:
    """The format name of a file: ``format`` if given (checked), else by its extension."""
    if format is not None:
        if format not in set(FORMATS.values()):
            raise ValueError(f"format: must be one of {', '.join(sorted(set(FORMATS.values())))}, got {format!r}")
        return format
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ValueError(
            f"{path}: unknown extension {ext!r}; known: {', '.join(FORMATS)} (or pass format='npy' / 'npz' / 'csv' / 'svmlight')"
        )
    return FORMATS[ext]


def _np_load(path: str) -> Any:
    """``np.load`` without pickles; an unreadable file is a ValueError naming it."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # pickled / object data, not a NumPy file, truncated
        raise ValueError(f"{path}: not a readable NumPy file without pickles ({exc})") from exc


def _read_npy(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a .npy file: one (n, d + 1) array, the labels in the last column."""
    arr = _np_load(path)
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise ValueError(f"{path}: holds several arrays (an .npz archive?); name it .npz or pass format='npz'")
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(
            f"{path}: a .npy file must hold one (n, d + 1) array with the labels in the last column, got shape {arr.shape}"
        )
    return arr[:, :-1], arr[:, -1]


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a .npz file: its arrays ``X`` and ``y``."""
    archive = _np_load(path)
    if isinstance(archive, np.ndarray):
        raise ValueError(f"{path}: holds a single array, not arrays 'X' and 'y' (a .npy file?); pass format='npy'")
    with archive as f:
        missing = [k for k in ("X", "y") if k not in f.files]
        if missing:
            raise ValueError(
                f"{path}: a .npz file must hold arrays 'X' and 'y' (missing {', '.join(missing)}; found {', '.join(f.files) or 'none'})"
            )
        try:
            return f["X"], f["y"]
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path}: could not read 'X' / 'y' without pickles ({exc})") from exc


def _read_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a CSV file: the label column is the last, or the one a header names y / label(s)."""
    with open(path, newline="") as fh:
        rows = [(i, r) for i, r in enumerate(csv.reader(fh), start=1) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path}: empty file")
    header: list[str] | None = None
    try:
        [float(c) for c in rows[0][1]]
    except ValueError:
        header = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{path}: a header but no data")
    width = len(rows[0][1])
    values = np.empty((len(rows), width), dtype=np.float64)
    for k, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"{path}: line {line} has {len(row)} columns, line {rows[0][0]} has {width}")
        try:
            values[k] = [float(c) for c in row]
        except ValueError as exc:
            raise ValueError(f"{path}: line {line}: non-numeric entry ({exc})") from exc
    if width < 2:
        raise ValueError(f"{path}: needs at least two columns (features..., label), got {width}")
    label = width - 1
    if header is not None:
        if len(header) != width:
            raise ValueError(f"{path}: the header has {len(header)} columns, the data {width}")
        named = [h for h in _LABEL_NAMES if h in header]
        if named:
            label = header.index(named[0])
    return np.delete(values, label, axis=1), values[:, label]


def _read_svmlight(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of an svmlight / libsvm file, X dense (needs scikit-learn)."""
    skd = import_sklearn_datasets(f"reading the svmlight file {path}")
    try:
        X, y = skd.load_svmlight_file(path, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid svmlight / libsvm file ({exc})") from exc
    return np.asarray(X.toarray()), np.asarray(y)


def _checked(path: str, X: Any, y: Any, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) read from ``path``, checked (shapes, finiteness, labels; {0, 1} -> {-1, +1}) and cast to ``dtype`` without loss."""
    X = np.asarray(X)
    y = np.asarray(y)
    for what, arr in (("X", X), ("y", y)):
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{path}: {what} must be real numbers, got dtype {arr.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim != 2:
        raise ValueError(f"{path}: X must be 2-dimensional (n, d), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{path}: y must have shape ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
    n, d = X.shape
    if n < 1 or d < 1:
        raise ValueError(f"{path}: needs at least one sample and one feature, got X of shape {X.shape}")
    for what, arr in (("X", X), ("y", y)):
        bad = ~np.isfinite(arr)
        if np.any(bad):
            first = np.argwhere(bad)[0]
            where = f"row {first[0]}" + (f", column {first[1]}" if arr.ndim == 2 else "")
            raise ValueError(f"{path}: {what} has {int(bad.sum())} NaN or infinite entries (first at {where})")
    values = np.unique(y)
    if np.all(np.isin(values, (-1.0, 1.0))):
        y_out = y
    elif np.all(np.isin(values, (0.0, 1.0))):
        y_out = np.where(y == 0, -1.0, 1.0)
    else:
        shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if values.size > 6 else "")
        raise ValueError(f"{path}: labels must be -1 / +1 (or 0 / 1, read as -1 / +1), found {shown}")
    X_out = np.ascontiguousarray(X, dtype=dtype)
    if X.dtype.kind == "f" and X.dtype.itemsize > dtype.itemsize and not np.array_equal(X_out.astype(X.dtype), X):
        raise ValueError(
            f"{path}: X has dtype {X.dtype}; converting to {dtype} would lose precision (pass dtype={X.dtype.name})"
        )
    return X_out, np.ascontiguousarray(y_out, dtype=dtype)
