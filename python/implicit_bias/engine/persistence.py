"""Files the engine writes: ``.npz`` archives of named arrays, written atomically, read with checks.

Both run states (:meth:`Run.save`) and trajectories (:meth:`Trajectory.save`) go through here, so
the file conventions live in one place:

* the ``.npz`` suffix is added when missing (``save("state")`` and ``load("state")`` name the same
  file);
* a save first writes a temporary file unique to the writing process
  (``<name>.<host>-<pid>.<token>.tmp.npz``) and then renames it over the target: an interrupted save
  never destroys the previous good file, and two processes saving the same name never mix their
  bytes; a writer killed outright (SIGKILL, power loss) leaves its temporary file behind, and
  :func:`remove_abandoned_temporaries` deletes those of writers on this host that are gone;
* every file carries ``format`` (:data:`FILE_FORMAT`), ``kind`` (``"run"`` or ``"trajectory"``) and
  ``sha256``, a checksum of every other field's name, dtype, shape and bytes (:func:`content_checksum`);
* a read first checks every member's ``.npy`` header against the archive (no object dtype, the
  declared shape matches the bytes present, the total fits in memory) before anything is
  allocated, reads with ``allow_pickle=False`` (a crafted file cannot execute code), verifies the
  checksum, and every failure is a :class:`RunFileError` naming the file and, where it applies,
  the field.

Callers then check each field with :func:`array_field`, :func:`scalar_field` and :func:`json_field`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import zipfile
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_fits
from ..errors import RunFileError

__all__ = [
    "FILE_FORMAT",
    "LEGACY_FORMAT",
    "npz_path",
    "temporary_path",
    "remove_abandoned_temporaries",
    "content_checksum",
    "file_checksum",
    "write_npz",
    "read_npz",
    "json_field",
    "scalar_field",
    "array_field",
    "text_field",
]

#: Version of the file layout written now: 2 = ``format`` / ``kind`` / ``sha256`` fields.
FILE_FORMAT = 2
#: Files written before checksums (run files with ``format = 1``, trajectories without ``format``)
#: are still read, with every field check but no checksum.
LEGACY_FORMAT = 1
#: The fields :func:`write_npz` adds; callers never see them in :func:`read_npz`'s result.
HEADER_FIELDS = ("format", "kind", "sha256")
# A .npy header is a few hundred bytes; numpy refuses more than 10 000 by default.
_MAX_HEADER = 10_000


def npz_path(path: str | PathLike[str]) -> Path:
    """``path`` with the ``.npz`` suffix numpy's ``savez`` would add."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


# The writer's host in temporary names, so a folder shared by several machines (a Dask sweep)
# can tell whose temporaries it may judge: only this host's processes can be checked for life.
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:64] or "host"
_TEMPORARY = re.compile(r"\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp(\.[A-Za-z0-9]+)?$")


def temporary_path(target: Path, suffix: str = "") -> Path:
    """A sibling of ``target`` no other process or call uses:
    ``<name>.<host>-<pid>.<token>.tmp<suffix>``."""
    name = target.stem if suffix else target.name
    return target.with_name(f"{name}.{_HOST}-{os.getpid()}.{secrets.token_hex(4)}.tmp{suffix}")


def _process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process, or not a pid we can judge
        return True
    return True


def remove_abandoned_temporaries(folder: Path, recursive: bool = False) -> list[Path]:
    """Delete the temporary files (:func:`temporary_path`) in ``folder`` (and its subfolders when
    ``recursive``) whose writer ran on this host and is no longer running; returns the paths deleted.

    A writer that is still running (this process included) or that ran on another host keeps its
    files, so calling this while other processes write into the same folder is safe.
    """
    removed = []
    folder = Path(folder)
    for path in folder.rglob("*.tmp*") if recursive else folder.glob("*.tmp*"):
        match = _TEMPORARY.search(path.name)
        if match is None or match["host"] != _HOST or _process_is_running(int(match["pid"])):
            continue
        try:
            path.unlink()
        except FileNotFoundError:  # another process tidied it first
            continue
        except OSError:  # a folder, or no permission: not ours to delete
            continue
        removed.append(path)
    return removed


def content_checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 (hex) over the fields of ``arrays`` in name order: name, dtype, shape and bytes of each
    (the field ``sha256`` itself excluded)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        if name == "sha256":
            continue
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode("utf-8") + b"\0" + a.dtype.str.encode() + repr(a.shape).encode() + b"\0")
        h.update(a.tobytes() if a.dtype.hasobject else a.reshape(-1).view(np.uint8).data)
    return h.hexdigest()


def file_checksum(path: str | PathLike[str]) -> str:
    """sha256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_npz(path: str | PathLike[str], arrays: Mapping[str, np.ndarray], kind: str | None = None) -> Path:
    """Write ``arrays`` to ``path`` (.npz) atomically; returns the path written.

    With ``kind`` (``"run"``, ``"trajectory"``) the file also gets the fields ``format``, ``kind``
    and ``sha256`` that :func:`read_npz` verifies.

    Args:
        path: the file to write; ``.npz`` is appended when missing (:func:`npz_path`).
        arrays: the fields, name -> array.
        kind: ``"run"`` or ``"trajectory"`` to add the header fields; None: the arrays only.

    Returns:
        The path written (with the ``.npz`` suffix).

    Raises:
        ValueError: when ``kind`` is given and ``arrays`` has a field named ``format``, ``kind`` or
            ``sha256`` (reserved).
        OSError: when the file cannot be written (the temporary file is removed, the previous
            file at ``path`` is kept).
    """
    target = npz_path(path)
    fields = dict(arrays)
    if kind is not None:
        clash = [k for k in HEADER_FIELDS if k in fields]
        if clash:
            raise ValueError(f"arrays: field name {clash[0]!r} is reserved")
        fields["format"] = np.array(FILE_FORMAT, dtype=np.int64)
        fields["kind"] = np.array(kind)
        fields["sha256"] = np.array(content_checksum(fields))
    tmp = temporary_path(target, ".npz")
    try:
        np.savez(tmp, **fields)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """dtype, shape and byte count declared by one ``.npy`` member, checked against the archive."""
    with zf.open(info) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=_MAX_HEADER)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=_MAX_HEADER)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except zipfile.BadZipFile as exc:
            raise RunFileError(f"{where}: is corrupted ({exc})") from exc
        except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
            raise RunFileError(f"{where}: not a valid array ({exc})") from exc
        offset = fp.tell() if hasattr(fp, "tell") else None
    if dtype.hasobject:
        raise RunFileError(f"{where}: holds Python objects (dtype {dtype}); refused, files are read without pickle")
    if not all(isinstance(s, int) and s >= 0 for s in shape):
        raise RunFileError(f"{where}: invalid shape {shape}")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if offset is not None and info.file_size != offset + nbytes:
        raise RunFileError(
            f"{where}: truncated or damaged (its header declares {shape} {dtype}, {nbytes} bytes, "
            f"but the archive holds {max(info.file_size - offset, 0)})"
        )
    return dtype, shape, nbytes


def read_npz(path: str | PathLike[str], kind: str | None = None) -> dict[str, np.ndarray]:
    """All arrays of a ``.npz`` file, or a :class:`RunFileError` saying why it cannot be read.

    With ``kind`` the header fields are verified and removed: ``kind`` must match, ``format`` must
    be :data:`FILE_FORMAT` (with a matching ``sha256``) or, for files written before checksums,
    :data:`LEGACY_FORMAT`; the result then has the key ``"format"`` only as the version read.
    """
    target = npz_path(path)
    if not target.exists():
        raise RunFileError(f"{target}: no such file")
    if not target.is_file():
        raise RunFileError(f"{target}: not a regular file")
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(target) as zf:
            infos = zf.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise RunFileError(f"{target}: corrupted .npz archive (a field appears twice)")
            total = 0
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise RunFileError(
                        f"{target}: member {info.filename!r} is not a .npy array (not written by implicit-bias)"
                    )
                total += _member_header(zf, info, f"{target}: field {info.filename[:-4]!r}")[2]
            try:
                check_fits("file", total, f"reading {target}")
            except ValueError as exc:
                raise RunFileError(f"{target}: {exc}") from exc
            for info in infos:
                name = info.filename[:-4]
                with zf.open(info) as fp:
                    try:
                        out[name] = np.lib.format.read_array(fp, allow_pickle=False, max_header_size=_MAX_HEADER)
                        if fp.read(1):
                            raise ValueError("trailing bytes after the array")
                    except zipfile.BadZipFile as exc:
                        raise RunFileError(f"{target}: field {name!r} is corrupted ({exc})") from exc
                    except (ValueError, OSError, EOFError, MemoryError) as exc:
                        raise RunFileError(
                            f"{target}: field {name!r} cannot be read ({type(exc).__name__}: {exc})"
                        ) from exc
    except RunFileError:
        raise
    except zipfile.BadZipFile as exc:
        raise RunFileError(f"{target}: not a complete .npz archive (truncated, or not an .npz file): {exc}") from exc
    except (ValueError, OSError, EOFError, NotImplementedError, zipfile.LargeZipFile, KeyError, RuntimeError) as exc:
        raise RunFileError(f"{target}: corrupted .npz archive ({type(exc).__name__}: {exc})") from exc
    if kind is None:
        return out
    return _verify_header(out, kind, target)


def _verify_header(fields: dict[str, np.ndarray], kind: str, path: Path) -> dict[str, np.ndarray]:
    if "format" not in fields and "sha256" not in fields and "kind" not in fields and kind == "trajectory":
        version = LEGACY_FORMAT  # trajectories written before checksums had no header at all
    else:
        version = scalar_field(fields, "format", path)
    if version == FILE_FORMAT:
        found = text_field(fields, "kind", path)
        if found != kind:
            raise RunFileError(f"{path}: field 'kind' says this is a {found!r} file, expected a {kind!r} file")
        stored = text_field(fields, "sha256", path)
        if stored != content_checksum(fields):
            raise RunFileError(
                f"{path}: field 'sha256': checksum mismatch, the content was damaged or edited after it was written"
            )
    elif version == LEGACY_FORMAT:
        extra = [k for k in ("kind", "sha256") if k in fields]
        if extra:
            raise RunFileError(f"{path}: field {extra[0]!r} is not part of format {LEGACY_FORMAT} files")
    else:
        raise RunFileError(
            f"{path}: field 'format': version {version} is not supported (expected {FILE_FORMAT} or {LEGACY_FORMAT})"
        )
    body = {k: v for k, v in fields.items() if k not in HEADER_FIELDS}
    body["format"] = np.array(version)
    return body


def text_field(arrays: Mapping[str, np.ndarray], name: str, path: Any) -> str:
    """Field ``name`` as text (a 0-d unicode array).

    Args:
        arrays: the fields read from the file, name -> array.
        name: the field.
        path: the file, for the error message.

    Returns:
        The text.

    Raises:
        RunFileError: when the field is missing or is not a 0-d unicode array.
    """
    raw = array_field(arrays, name, path)
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise RunFileError(
            f"{path}: field {name!r} must be a text scalar, got an array of {raw.dtype} with shape {raw.shape}"
        )
    return str(raw)


def json_field(arrays: Mapping[str, np.ndarray], name: str, path: Any) -> Any:
    """Decode the JSON text stored in field ``name``.

    Args:
        arrays: the fields read from the file, name -> array.
        name: the field.
        path: the file, for the error message.

    Returns:
        The decoded JSON value (dict, list, str, number, bool or None).

    Raises:
        RunFileError: when the field is missing, is not a 0-d unicode array, or is not valid JSON.
    """
    raw = array_field(arrays, name, path)
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise RunFileError(f"{path}: field {name!r} must be a JSON string, got an array of {raw.dtype} {raw.shape}")
    try:
        return json.loads(str(raw))
    except (ValueError, RecursionError) as exc:
        raise RunFileError(f"{path}: field {name!r} is not valid JSON ({exc})") from exc


def array_field(
    arrays: Mapping[str, np.ndarray],
    name: str,
    path: Any,
    *,
    dtype: Any = None,
    kinds: str | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = False,
) -> np.ndarray:
    """Field ``name``, or a RunFileError naming it when it is missing or not as expected.

    Args:
        arrays: the fields read from the file, name -> array.
        name: the field.
        path: the file, for the error message.
        dtype: the exact dtype required; None: any.
        kinds: allowed dtype kinds (``"iu"``, ``"f"``); None: any.
        shape: the shape required, ``None`` entries free; None: any shape.
        finite: no NaN or infinity (checked for floating fields only).

    Returns:
        The field's array, unchanged.

    Raises:
        RunFileError: naming the file and the field, when it is missing or not as expected.
    """
    if name not in arrays:
        raise RunFileError(f"{path}: field {name!r} is missing")
    value = arrays[name]
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise RunFileError(f"{path}: field {name!r} must have dtype {np.dtype(dtype)}, got {value.dtype}")
    if kinds is not None and value.dtype.kind not in kinds:
        raise RunFileError(
            f"{path}: field {name!r} has dtype {value.dtype}, expected {'an integer' if kinds in ('iu', 'u', 'i') else kinds} dtype"
        )
    if shape is not None and (
        value.ndim != len(shape) or any(w is not None and w != s for w, s in zip(shape, value.shape))
    ):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise RunFileError(f"{path}: field {name!r} has shape {value.shape}, expected {want}")
    if finite and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise RunFileError(f"{path}: field {name!r} contains NaN or infinite values")
    return value


def scalar_field(
    arrays: Mapping[str, np.ndarray],
    name: str,
    path: Any,
    kind: str = "iu",
    low: int | None = None,
    high: int | None = None,
) -> int:
    """Integer scalar field ``name`` (a 0-d array of an integer dtype), within [low, high] if given.

    Args:
        arrays: the fields read from the file, name -> array.
        name: the field.
        path: the file, for the error message.
        kind: the allowed dtype kinds (default ``"iu"``: signed or unsigned integers).
        low: the smallest value allowed; None: unbounded.
        high: the largest value allowed; None: unbounded.

    Returns:
        The value as a Python int.

    Raises:
        RunFileError: when the field is missing, is not a 0-d array of an allowed kind, or is
            outside [low, high].
    """
    raw = array_field(arrays, name, path)
    if raw.ndim != 0 or raw.dtype.kind not in kind:
        raise RunFileError(f"{path}: field {name!r} must be an integer scalar, got {raw.dtype} with shape {raw.shape}")
    value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        raise RunFileError(f"{path}: field {name!r} = {value} is outside [{low}, {high}]")
    return value
