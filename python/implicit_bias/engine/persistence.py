"""Files the engine writes: ``.npz`` archives of named arrays, written atomically, read with checks.

Both run states (:meth:`Run.save`) and trajectories (:meth:`Trajectory.save`) go through here, so
the file conventions live in one place: the ``.npz`` suffix is added when missing (``save("state")``
and ``load("state")`` name the same file), a save first writes ``<name>.tmp.npz`` and then renames
it (an interrupted save never destroys the previous good file), ``allow_pickle=False`` on every
read (a crafted file cannot execute code), and every failure to read is a :class:`RunFileError`
naming the file and, where it applies, the field.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RunFileError

__all__ = ["npz_path", "write_npz", "read_npz", "json_field", "scalar_field", "array_field"]


def npz_path(path: str | PathLike[str]) -> Path:
    """``path`` with the ``.npz`` suffix numpy's ``savez`` would add."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


def write_npz(path: str | PathLike[str], arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` (.npz) atomically; returns the path written."""
    target = npz_path(path)
    tmp = target.with_name(target.stem + ".tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def read_npz(path: str | PathLike[str]) -> dict[str, np.ndarray]:
    """All arrays of a ``.npz`` file, or a :class:`RunFileError` saying why it cannot be read."""
    target = npz_path(path)
    if not target.exists():
        raise RunFileError(f"{target}: no such file")
    try:
        with np.load(target, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except zipfile.BadZipFile as exc:
        raise RunFileError(f"{target}: not a complete .npz archive (truncated or not written by implicit-bias): {exc}") from exc
    except (ValueError, OSError, EOFError, NotImplementedError, zipfile.LargeZipFile, KeyError) as exc:
        raise RunFileError(f"{target}: corrupted .npz archive ({type(exc).__name__}: {exc})") from exc


def json_field(arrays: Mapping[str, np.ndarray], name: str, path: Any) -> Any:
    """Decode the JSON text stored in field ``name``."""
    raw = array_field(arrays, name, path)
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise RunFileError(f"{path}: field {name!r} must be a JSON string, got an array of {raw.dtype} {raw.shape}")
    try:
        return json.loads(str(raw))
    except ValueError as exc:
        raise RunFileError(f"{path}: field {name!r} is not valid JSON ({exc})") from exc


def array_field(arrays: Mapping[str, np.ndarray], name: str, path: Any) -> np.ndarray:
    """Field ``name``, or a RunFileError naming it when it is missing."""
    if name not in arrays:
        raise RunFileError(f"{path}: field {name!r} is missing")
    return arrays[name]


def scalar_field(arrays: Mapping[str, np.ndarray], name: str, path: Any, kind: str = "iu") -> int:
    """Integer scalar field ``name`` (a 0-d array of an integer dtype)."""
    raw = array_field(arrays, name, path)
    if raw.ndim != 0 or raw.dtype.kind not in kind:
        raise RunFileError(f"{path}: field {name!r} must be an integer scalar, got {raw.dtype} with shape {raw.shape}")
    return int(raw)
