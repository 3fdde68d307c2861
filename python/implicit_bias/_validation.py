"""Input checks shared by every public entry point.

Each check raises a ``ValueError`` / ``TypeError`` whose message starts with the name of the
offending argument, so users see at once what to fix.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

#: The scalar types the compiled engine is instantiated for.
SUPPORTED_DTYPES = (np.dtype(np.float64), np.dtype(np.longdouble))

# The package's vocabulary: the one list of each kind of name (the bindings and the C++ core only
# map these names to enums; every check and every message is made here, in Python).
#: Sampling orders (see ``ib.Run``).
ORDERS = ("cyclic", "reshuffle", "replacement")
#: Losses of the margin u.
LOSSES = ("logistic", "exponential")
#: Names accepted for the two precisions in configurations and files -> numpy dtype.
DTYPE_NAMES = {"float64": np.float64, "double": np.float64, "longdouble": np.longdouble, "float128": np.longdouble}
#: Largest step count the engine's 64-bit signed counters accept.
MAX_STEPS = 2**63 - 1


def resolve_dtype(dtype: DTypeLike | None, X: Any) -> np.dtype:
    """Return the run precision: ``dtype`` if given, else X's dtype when it is longdouble, else float64."""
    if dtype is None:
        x_dtype = getattr(X, "dtype", None)
        return np.dtype(np.longdouble) if x_dtype == np.longdouble else np.dtype(np.float64)
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype: {dtype!r} is not a numpy dtype") from exc
    if resolved not in SUPPORTED_DTYPES:
        raise TypeError(f"dtype: must be np.float64 or np.longdouble, got {resolved}")
    return resolved


def as_real_array(name: str, value: ArrayLike, dtype: np.dtype, ndim: int) -> np.ndarray:
    """Convert ``value`` to a C-contiguous array of ``dtype`` with ``ndim`` dimensions.

    Integers, bools and float32/float64 are converted exactly. A longdouble array is only
    accepted for a float64 run when every entry is exactly representable in float64 (no
    silent loss of precision). Complex, object and ragged inputs are refused.

    Args:
        name: the argument's name, the start of every error message.
        value: an array or nested sequence of real numbers (bool, integer or floating dtype).
        dtype: the run precision, np.float64 or np.longdouble.
        ndim: the number of dimensions ``value`` must have.

    Returns:
        A C-contiguous array of ``dtype`` with ``ndim`` dimensions and only finite entries.

    Raises:
        ValueError: when ``value`` is ragged or of object dtype, has another number of dimensions,
            holds an integer ``dtype`` cannot represent exactly (:func:`check_exact_integers`), or
            contains NaN or infinite values.
        TypeError: when ``value`` is not real-valued (complex, strings, ...), or is floating with
            a wider dtype than ``dtype`` and an entry that converting would round.
    """
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"{name}: could not be read as a rectangular array ({exc})") from exc
    if arr.dtype == object:
        raise ValueError(f"{name}: could not be read as a rectangular numeric array")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: must be real-valued, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "f" and arr.dtype.itemsize > dtype.itemsize:
        narrowed = arr.astype(dtype)
        if not np.array_equal(narrowed.astype(arr.dtype), arr, equal_nan=True):
            raise TypeError(
                f"{name}: has dtype {arr.dtype} but the run precision is {dtype}; converting would "
                f"lose precision. Pass dtype={arr.dtype.name} or cast {name} yourself."
            )
        arr = narrowed
    if arr.dtype.kind in "iu":
        check_exact_integers(name, arr, dtype)
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def check_exact_integers(name: str, arr: np.ndarray, dtype: np.dtype) -> None:
    """Refuse an integer array ``arr`` holding a value that ``dtype`` cannot represent exactly.

    A float64 holds every integer up to 2**53 in magnitude (53-bit significand); np.longdouble on
    x86 holds 64 bits, so every int64 and uint64. Only entries beyond 2**(significand bits) are
    converted and compared, so ordinary data cost one comparison per entry.

    Args:
        name: the argument's name, the start of the error message.
        arr: an array of a signed or unsigned integer dtype.
        dtype: the floating dtype it is to be converted to (np.float64 or np.longdouble).

    Raises:
        ValueError: when an entry of ``arr`` would be rounded by the conversion to ``dtype``.
    """
    bits = np.finfo(dtype).nmant + 1
    if arr.dtype.itemsize * 8 - (arr.dtype.kind == "i") <= bits:
        return
    limit = 2**bits
    big = arr[(arr > limit) | (arr < -limit)] if arr.dtype.kind == "i" else arr[arr > limit]
    if big.size == 0:
        return
    converted = big.astype(dtype)
    upper = dtype.type(2.0 ** (arr.dtype.itemsize * 8 - (arr.dtype.kind == "i")))
    fits = converted < upper
    back = np.where(fits, converted, 0).astype(arr.dtype)
    inexact = big[~(fits & (back == big))]
    if inexact.size:
        raise ValueError(
            f"{name}: holds the integer {int(inexact[0])}, which {dtype} cannot represent exactly (integers "
            f"beyond 2**{bits} in magnitude are rounded); cast {name} yourself or pass dtype=np.longdouble"
        )


def check_data(X: ArrayLike, y: ArrayLike, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Validate a data set and return ``(X, y)`` as contiguous arrays of ``dtype``.

    Shapes: X is (n, d) with n >= 1 and d >= 1; y is (n,) with entries in {-1, +1}.

    Args:
        X: data, shape (n, d), real-valued (converted as by :func:`as_real_array`).
        y: labels, shape (n,), entries -1 or +1.
        dtype: the run precision, np.float64 or np.longdouble.

    Returns:
        (X, y): X (n, d) and y (n,), C-contiguous arrays of ``dtype``.

    Raises:
        ValueError: when X has no row or no column, y has another length than X has rows, a label
            is not -1 or +1, or a conversion of :func:`as_real_array` fails with ValueError.
        TypeError: when X or y is not real-valued or would lose precision (:func:`as_real_array`).
    """
    X_arr = as_real_array("X", X, dtype, ndim=2)
    n, d = X_arr.shape
    if n < 1 or d < 1:
        raise ValueError(f"X: must have at least one row and one column, got shape {X_arr.shape}")
    y_arr = as_real_array("y", y, dtype, ndim=1)
    if y_arr.shape[0] != n:
        raise ValueError(f"y: has {y_arr.shape[0]} labels but X has {n} rows")
    if not np.all((y_arr == 1) | (y_arr == -1)):
        bad = np.unique(y_arr[(y_arr != 1) & (y_arr != -1)])[:5]
        raise ValueError(f"y: labels must be -1 or +1, found {bad.tolist()}")
    return X_arr, y_arr


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high] (high=None: unbounded), or raise naming ``name``.

    Args:
        name: the argument's name, the start of every error message.
        value: a Python or numpy integer (bools are refused).
        low: the smallest value allowed.
        high: the largest value allowed; None: no upper bound.

    Returns:
        ``value`` as a Python int.

    Raises:
        TypeError: when ``value`` is not an integer (or is a bool).
        ValueError: when ``value`` is outside [low, high].
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        rng = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be {rng}, got {value}")
    return value


def check_step_count(name: str, value: Any, low: int = 0, high: int = MAX_STEPS) -> int:
    """A step count: an int, or a float with an integral value such as ``1e6`` (as the CLI accepts).

    Args:
        name: the argument's name, the start of every error message.
        value: an integer, or a float with an integral value of magnitude <= 2**53.
        low: the smallest count allowed.
        high: the largest count allowed (default the engine's limit, ``MAX_STEPS`` = 2**63 - 1).

    Returns:
        The step count as a Python int.

    Raises:
        TypeError: when ``value`` is neither an integer nor such a float (:func:`check_int`).
        ValueError: when the count is outside [low, high].
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer() and abs(value) <= 2**53:
        value = int(value)
    return check_int(name, value, low, high)


def check_real(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given interval, or raise naming ``name``.

    Args:
        name: the argument's name, the start of every error message.
        value: a Python or numpy real number (bools are refused).
        low: the lower end of the interval; None: unbounded below.
        high: the upper end of the interval; None: unbounded above.
        low_open: exclude ``low`` itself (``value > low``).
        high_open: exclude ``high`` itself (``value < high``).

    Returns:
        ``value`` as a Python float.

    Raises:
        TypeError: when ``value`` is not a real number (or is a bool).
        ValueError: when ``value`` is not finite or outside the interval.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name}: must be in {interval}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` when it is one of the names ``choices``, or raise naming ``name``.

    Args:
        name: the argument's name, the start of the error message.
        value: the name given.
        choices: the names allowed.

    Returns:
        ``value``, unchanged.

    Raises:
        ValueError: when ``value`` is not a string in ``choices``.
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value


# ------------------------------------------------------------------------------------------ sizes
def format_bytes(nbytes: float) -> str:
    """``nbytes`` in binary units: ``'1.46 TiB'``, ``'512 B'``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} PiB"  # pragma: no cover


def _cgroup_limit() -> int | None:
    """The memory limit of this process's cgroup (v2 or v1), if one is set and readable."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def memory_limit() -> int | None:
    """Bytes of memory this process can use at most: the machine's physical memory
    (``SC_PHYS_PAGES * SC_PAGE_SIZE``), or a smaller cgroup limit; None when unknown."""
    try:
        phys = int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        phys = None
    limit = _cgroup_limit()
    known = [v for v in (phys, limit) if v is not None and v > 0]
    return min(known) if known else None


def check_fits(name: str, nbytes: int, what: str, detail: str = "") -> None:
    """Refuse, before anything is allocated, ``what`` needing ``nbytes`` bytes when that exceeds
    the memory this machine has (:func:`memory_limit`); the message starts with ``name``.

    Args:
        name: the argument's name, the start of the error message.
        nbytes: the memory needed, in bytes.
        what: what needs the memory, as the message says it (e.g. "recording 201 checkpoints").
        detail: an optional explanation, shown in parentheses after the size.

    Raises:
        ValueError: when ``nbytes`` exceeds the known memory limit (nothing is raised when the
            limit is unknown).
    """
    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise ValueError(
            f"{name}: {what} needs {format_bytes(nbytes)} of memory{f' ({detail})' if detail else ''}, "
            f"more than this machine has ({format_bytes(limit)})"
        )
