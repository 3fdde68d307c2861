"""Seeded, linearly separable synthetic data sets of SPEC.md.

Every generator returns ``(X, y)`` with X of shape (n, d) and y of shape (n,) in {-1, +1}, checks
that the set is separable (through the origin) and raises :class:`NotSeparableError` otherwise.
Randomness comes from ``np.random.default_rng(seed)`` only, so a seed fixes the data exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .._validation import as_real_array, check_choice, check_fits, check_int, check_real, format_bytes, resolve_dtype
from ..errors import NotSeparableError
from ..separability import check_separable, is_separable

__all__ = ["LABELS", "gaussian", "generalized_rademacher", "shifted_diagonal"]

#: Label modes of :func:`gaussian` and :func:`generalized_rademacher`.
LABELS = ("auto", "random", "teacher")
# Resampling budget for random labels that happen not to separate (rare) and for teacher margins.
_MAX_DRAWS = 1000


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


def _check_counts(n: int, d: int, seed: int) -> tuple[int, int]:
    """Check a generator's n >= 1, d >= 1 and seed >= 0; return (n, d) as ints."""
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    check_int("seed", seed, 0)
    return n, d


def _labels_mode(labels: str, n: int, d: int) -> str:
    """The label mode a ``labels`` argument means for n samples in d dimensions ("auto" resolved)."""
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
    n, d = _check_counts(n, d, seed)
    margin = check_real("margin", margin, 0.0)
    out = resolve_dtype(dtype, None)
    mode = _labels_mode(labels, n, d)
    if mode == "random" and margin > 0:
        raise ValueError("margin: only used with teacher labels; pass labels='teacher'")
    _check_size("n, d", f"gaussian(n={n}, d={d})", 2 * n if mode == "teacher" else n, d, 3, out, n)
    mu = np.zeros(d) if mean is None else as_real_array("mean", mean, np.dtype(np.float64), ndim=1)
    if mu.shape[0] != d:
        raise ValueError(f"mean: must have d = {d} entries, got {mu.shape[0]}")
    factor = _covariance_factor(cov, d)

    def draw(rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` rows (count, d) of N(mean, cov)."""
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
    except TypeError as exc:  # not array-like at all (a class, say)
        raise TypeError(f"cov: expected (d,) variances or a (d, d) matrix, got {cov!r}") from exc
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
        n, d: number of samples and dimension.
        seed: seed of ``np.random.default_rng``.
        scales: (n,) positive a_i; default drawn uniformly from [0.5, 2] (distinct a.s.).
        labels: "random", "teacher" (``y = sign(<s_i, u>)``, u ~ N(0, I)) or "auto" (random when
            d >= n, else teacher). Random-label sign matrices can be singular for small d; such draws
            are redrawn from the same generator until the set separates.
        dtype: float64 or long double (the draw is in float64, then cast exactly).

    Returns:
        X (n, d), y (n,).
    """
    n, d = _check_counts(n, d, seed)
    out = resolve_dtype(dtype, None)
    mode = _labels_mode(labels, n, d)
    _check_size("n, d", f"generalized_rademacher(n={n}, d={d})", 2 * n if mode == "teacher" else n, d, 3, out, n)
    rng = np.random.default_rng(seed)
    if scales is None:
        a = rng.uniform(0.5, 2.0, size=n)
    else:
        a = _positive_scales(scales, n)

    def draw(rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` rows (count, d) of uniform signs."""
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
        dtype: float64 or long double.

    Returns:
        X (n, n), y (n,) = 1.
    """
    n = check_int("n", n, 1)
    delta = check_real("delta", delta, 0.0)
    out = resolve_dtype(dtype, None)
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
    """Cast (X, y) to contiguous arrays of ``dtype`` and check the set separates."""
    X_out, y_out = np.ascontiguousarray(X, dtype=dtype), np.ascontiguousarray(y, dtype=dtype)
    check_separable(X_out, y_out)
    return X_out, y_out
