"""Seeded, linearly separable data sets of SPEC.md, real data, and validation of user data.

Every generator returns ``(X, y)`` with X of shape (n, d) and y of shape (n,) in {-1, +1}, checks
that the set is separable (through the origin) and raises :class:`NotSeparableError` otherwise.
Randomness comes from ``np.random.default_rng(seed)`` only, so a seed fixes the data exactly.

Real data, in the same ``(X, y)`` form but **not** checked for separability: :func:`load_sklearn`
(scikit-learn's bundled digits / iris / wine / breast_cancer, two classes at a time; optional extra
``pip install "implicit-bias[sklearn]"``) and :func:`load` (.npy, .npz, CSV, svmlight files).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from ._validation import (
    as_real_array,
    check_choice,
    check_data,
    check_fits,
    check_int,
    check_real,
    format_bytes,
    resolve_dtype,
)
from .errors import NotSeparableError
from .separability import check_separable, is_separable

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

LABELS = ("auto", "random", "teacher")
# Resampling budget for random labels that happen not to separate (rare) and for teacher margins.
_MAX_DRAWS = 1000


def validate(X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Check user data and return ``(X, y)`` as contiguous arrays of the run precision.

    Shapes, finiteness and labels are checked as by the engine; in addition the set must be
    separable through the origin (else :class:`NotSeparableError`).
    """
    X_arr, y_arr = check_data(X, y, resolve_dtype(dtype, X))
    check_separable(X_arr, y_arr)
    return X_arr, y_arr


def _output_dtype(dtype: DTypeLike) -> np.dtype:
    return resolve_dtype(dtype, None)


def _check_size(names: str, call: str, rows: int, d: int, copies: int, out: np.dtype, n: int) -> None:
    """Refuse a data set whose float64 draw of ``rows`` x ``d`` (held ``copies`` times at the peak)
    plus the (n, d) result in ``out`` cannot fit in memory, before anything is allocated."""
    block = rows * d * 8
    check_fits(
        names,
        copies * block + n * d * out.itemsize,
        call,
        f"it draws a ({rows}, {d}) float64 block of {format_bytes(block)}",
    )


def _labels_mode(labels: str, n: int, d: int) -> str:
    check_choice("labels", labels, LABELS)
    return ("random" if d >= n else "teacher") if labels == "auto" else labels


def _teacher_labels(
    draw: Any, teacher: np.ndarray, n: int, margin: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw rows until n have |<x, teacher>| / ||teacher|| > margin; label them by the teacher's sign."""
    unit = teacher / np.linalg.norm(teacher)
    rows: list[np.ndarray] = []
    kept = 0
    for _ in range(_MAX_DRAWS):
        batch = draw(rng, 2 * n)
        scores = batch @ unit
        batch = batch[np.abs(scores) > margin]
        rows.append(batch)
        kept += batch.shape[0]
        if kept >= n:
            X = np.vstack(rows)[:n]
            return X, np.sign(X @ unit)
    raise ValueError(f"margin: too large, fewer than {n} of {2 * n * _MAX_DRAWS} draws clear it")


def _random_labels(draw: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random labels; redraw (deterministically from rng) in the rare case the set does not separate."""
    for _ in range(20):
        X = draw(rng, n)
        y = rng.choice(np.array([-1.0, 1.0]), size=n)
        if is_separable(X, y):
            return X, y
    raise NotSeparableError(
        "labels: random labels did not give a separable set in 20 draws (n too large for d?); use labels='teacher'"
    )


def gaussian(
    n: int,
    d: int,
    seed: int = 0,
    mean: ArrayLike | None = None,
    cov: ArrayLike | None = None,
    margin: float = 0.0,
    labels: str = "auto",
    dtype: DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``x_i ~ N(mean, cov)`` with labels that make the set separable.

    Args:
        n, d: number of samples and dimension.
        seed: seed of ``np.random.default_rng``.
        mean: (d,) mean (default 0).
        cov: (d,) variances (diagonal covariance) or a (d, d) PSD covariance (default identity).
        margin: with teacher labels, only rows with ``|<x, u>| > margin`` are kept (u the unit teacher
            direction, drawn from N(0, I)); must be 0 with random labels.
        labels: "random" (uniform signs; separable a.s. when d >= n), "teacher" (``y = sign(<x, u>)``)
            or "auto" (random when d >= n, else teacher).
        dtype: float64 or long double (the draw is in float64, then cast exactly).

    Returns:
        X (n, d), y (n,).
    """
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    check_int("seed", seed, 0)
    margin = check_real("margin", margin, 0.0)
    out = _output_dtype(dtype)
    mode = _labels_mode(labels, n, d)
    if mode == "random" and margin > 0:
        raise ValueError("margin: only used with teacher labels; pass labels='teacher'")
    _check_size("n, d", f"gaussian(n={n}, d={d})", 2 * n if mode == "teacher" else n, d, 3, out, n)
    mu = np.zeros(d) if mean is None else as_real_array("mean", mean, np.dtype(np.float64), ndim=1)
    if mu.shape[0] != d:
        raise ValueError(f"mean: must have d = {d} entries, got {mu.shape[0]}")
    factor = _covariance_factor(cov, d)

    def draw(rng: np.random.Generator, count: int) -> np.ndarray:
        noise = rng.standard_normal((count, d))
        return mu + (noise * factor if factor.ndim == 1 else noise @ factor.T)

    rng = np.random.default_rng(seed)
    if mode == "teacher":
        X, y = _teacher_labels(draw, rng.standard_normal(d), n, margin, rng)
    else:
        X, y = _random_labels(draw, n, rng)
    return _finish(X, y, out)


def _covariance_factor(cov: ArrayLike | None, d: int) -> np.ndarray:
    """Standard deviations (d,) for a diagonal covariance, or F (d, d) with F F^T = cov."""
    if cov is None:
        return np.ones(d)
    try:
        ndim = int(np.ndim(cov))
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"cov: could not be read as a rectangular array ({exc})") from exc
    if ndim not in (1, 2):
        raise ValueError(f"cov: must be (d,) variances or a (d, d) matrix, got shape {np.shape(cov)}")
    arr = as_real_array("cov", cov, np.dtype(np.float64), ndim=ndim)
    if arr.shape != (d,) * ndim:
        raise ValueError(f"cov: must have shape {(d,) * ndim}, got {arr.shape}")
    if ndim == 1:
        if np.any(arr < 0):
            raise ValueError("cov: variances must be >= 0")
        return np.sqrt(arr)
    if not np.allclose(arr, arr.T, rtol=0, atol=1e-12 * np.max(np.abs(arr))):
        raise ValueError("cov: must be symmetric")
    eig, vec = np.linalg.eigh(arr)
    if eig[0] < -1e-10 * max(eig[-1], 0):
        raise ValueError(f"cov: must be positive semidefinite (smallest eigenvalue {eig[0]:.3g})")
    return vec * np.sqrt(np.clip(eig, 0, None))


def generalized_rademacher(
    n: int,
    d: int,
    seed: int = 0,
    scales: ArrayLike | None = None,
    labels: str = "auto",
    dtype: DTypeLike = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized Rademacher data: ``x_i = a_i s_i`` with ``a_i > 0``, ``s_i`` uniform in {-1, +1}^d.

    Every row has all coordinates of equal magnitude, so ``P(c)`` of the fixed point is a multiple of
    the identity and per-sample Adam's limit is the l2 max-margin direction.

    Args:
        scales: (n,) positive a_i; default drawn uniformly from [0.5, 2] (distinct a.s.).
        labels: "random", "teacher" (``y = sign(<s_i, u>)``, u ~ N(0, I)) or "auto" (random when
            d >= n, else teacher). Random-label sign matrices can be singular for small d; such draws
            are redrawn from the same generator until the set separates.
    """
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    check_int("seed", seed, 0)
    out = _output_dtype(dtype)
    mode = _labels_mode(labels, n, d)
    _check_size("n, d", f"generalized_rademacher(n={n}, d={d})", 2 * n if mode == "teacher" else n, d, 3, out, n)
    rng = np.random.default_rng(seed)
    if scales is None:
        a = rng.uniform(0.5, 2.0, size=n)
    else:
        a = _positive_scales(scales, n)

    def draw(rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.choice(np.array([-1.0, 1.0]), size=(count, d))

    if mode == "teacher":
        teacher = rng.standard_normal(d)
        signs, y = _teacher_labels(draw, teacher, n, 0.0, rng)
    else:
        signs, y = _random_labels(draw, n, rng)
    return _finish(a[:, None] * signs, y, out)


def shifted_diagonal(
    n: int, delta: float = 0.1, scales: ArrayLike | None = None, dtype: DTypeLike = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Shifted diagonal data: ``x_i = a_i e_i + delta * 1`` (n = d), all labels +1.

    For delta > 0 per-sample preconditioning acts coordinate by coordinate: AdamProxy / Inc-Adam go to
    the l-inf direction (all-ones, the unique l-inf maximiser) instead of the l2 one (~ 1/a). At
    delta = 0 the l-inf maximiser is not unique and P(c*) of the fixed point is singular.

    Args:
        n: number of samples = dimension.
        delta: shift >= 0.
        scales: (n,) distinct positive a_i; default ``a_i = i / n``, i = 1..n.
    """
    n = check_int("n", n, 1)
    delta = check_real("delta", delta, 0.0)
    out = _output_dtype(dtype)
    _check_size("n", f"shifted_diagonal(n={n})", n, n, 2, out, n)
    if scales is None:
        a = np.arange(1, n + 1) / n
    else:
        a = _positive_scales(scales, n)
        if np.unique(a).size != n:
            raise ValueError("scales: must be distinct")
    X = np.diag(a) + delta
    return _finish(X, np.ones(n), out)


def _positive_scales(scales: ArrayLike, n: int) -> np.ndarray:
    """Validate user row scales a_i: shape (n,), finite, positive."""
    a = as_real_array("scales", scales, np.dtype(np.float64), ndim=1)
    if a.shape[0] != n:
        raise ValueError(f"scales: must have n = {n} entries, got {a.shape[0]}")
    if np.any(a <= 0):
        raise ValueError("scales: must be positive")
    return a


def _finish(X: np.ndarray, y: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    X_out, y_out = np.ascontiguousarray(X, dtype=dtype), np.ascontiguousarray(y, dtype=dtype)
    check_separable(X_out, y_out)
    return X_out, y_out


# ============================================================================ real data
# load_sklearn and load return (X, y) like the generators above but do not check separability:
# they check shapes, finiteness and labels and name the file (or data set) in every error.

#: scikit-learn data sets that ship inside its wheel (no download), with their loader's name.
SKLEARN_DATASETS: dict[str, str] = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
}

_SKLEARN_HINT = 'pip install "implicit-bias[sklearn]"'

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


def _import_sklearn_datasets(what: str) -> Any:
    try:
        import sklearn.datasets as skd
    except ImportError as exc:
        raise ImportError(f"{what} needs scikit-learn, an optional dependency: {_SKLEARN_HINT}") from exc
    return skd


# ============================================================================ scikit-learn


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
    out = _output_dtype(dtype)
    skd = _import_sklearn_datasets(f"load_sklearn({name!r})")
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


# ============================================================================ files


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

    Returns:
        X (n, d), y (n,) in {-1, +1}, float64 by default (or long double). Separability is not
        checked.

    Raises:
        ValueError: naming the file, for an unknown format, a missing key, a wrong shape, an empty
            file, non-numeric, NaN or infinite entries, or labels not in {-1, +1} / {0, 1}.
        FileNotFoundError: no such file.
    """
    path = os.fspath(path)
    out = _output_dtype(dtype)
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
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # pickled / object data, not a NumPy file, truncated
        raise ValueError(f"{path}: not a readable NumPy file without pickles ({exc})") from exc


def _read_npy(path: str) -> tuple[np.ndarray, np.ndarray]:
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
    skd = _import_sklearn_datasets(f"reading the svmlight file {path}")
    try:
        X, y = skd.load_svmlight_file(path, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid svmlight / libsvm file ({exc})") from exc
    return np.asarray(X.toarray()), np.asarray(y)


def _checked(path: str, X: Any, y: Any, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
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
