"""Where results live: cells keyed by their configuration, written atomically, verified when read,
locked while computed; each cell's engine state, so a longer horizon continues where a cell stopped;
and the data / reference cache shared by the cells of one sweep or reproduction.

A cell is ``<key>.npz`` (its trajectory) and ``<key>.json`` (its record: config, metrics, the
sha256 of the trajectory file and a sha256 of the record itself), written in that order, each
through a temporary file and a rename. A cell is trusted only when both files are there, the record
is complete and names its key, and both checksums match: anything else (a half-written, truncated,
edited or swapped cell) is reported with a :class:`~implicit_bias.errors.StoreWarning` naming the
file and computed again, never read as a result.

While a process computes a cell it holds ``<key>.lock`` (an exclusive ``flock``, with the owner's
pid and host written inside for people to read). Another process skips such cells and, at the
end, waits for them: when the owner finishes, the result is read; when the owner died (the kernel
releases its lock with it, so a lock is never stale) or left the cell damaged, it is computed again.

Next to the cells, ``states/<series>/<steps>.npz`` holds the complete engine state (``Run.save``,
with its checksum) of each cell after ``steps`` steps, where ``<series>`` keys the configuration
without its horizon. A cell asked for with a longer horizon starts from the longest stored state
of its series instead of step 0 (``execute``; the result is bit for bit that of one long run).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import Trajectory
from ..engine.persistence import file_checksum, remove_abandoned_temporaries, temporary_path
from ..errors import RunFileError, StoreWarning
from .compare import REFERENCE_NAMES, References, compute_references, predict
from .config import CELL_FORMAT, data_hash
from .data import load_data

try:  # POSIX; elsewhere cells are not locked (one process per output folder)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


# ============================================================================ checked files
def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file unique to this process and a rename
    (never a half-written file, and concurrent writers never mix their bytes)."""
    tmp = temporary_path(Path(path))
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def prepare_out_dir(path: str | os.PathLike[str], name: str = "out_dir", subfolders: Iterable[str] = ()) -> Path:
    """Create the output folder ``path`` (with its parents) and check that files can be written
    in it, before any work starts; a ValueError naming ``name`` (the argument or flag) otherwise.

    Temporary files that writers killed outright (SIGKILL) left in it, and anywhere under its
    ``subfolders`` (the store's), are deleted (:func:`~implicit_bias.engine.persistence.remove_abandoned_temporaries`:
    only those of processes of this host that are gone).

    Args:
        path: the output folder.
        name: the argument or flag that gave ``path``, the start of the error message.
        subfolders: subfolders of ``path`` whose abandoned temporaries are deleted too, recursively
            (those that do not exist are skipped).

    Returns:
        The folder, as a :class:`~pathlib.Path`.

    Raises:
        ValueError: when ``path`` exists and is not a folder, or cannot be created or written in.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{name}: {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = temporary_path(out / ".write-test")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{name}: cannot write in {out} ({exc.strerror or exc})") from exc
    remove_abandoned_temporaries(out)
    for sub in subfolders:
        if (out / sub).is_dir():
            remove_abandoned_temporaries(out / sub, recursive=True)
    return out


def json_checksum(payload: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``payload``."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def read_json(path: Path) -> tuple[Any, str | None]:
    """``(value, None)`` for a readable JSON file, else ``(None, reason)``."""
    try:
        return json.loads(path.read_text()), None
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return None, f"unreadable ({type(exc).__name__}: {exc})"


def write_checked_json(path: Path, payload: Any) -> None:
    """Write ``payload`` wrapped with its checksum (read back by :func:`read_checked_json`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"format": CELL_FORMAT, "sha256": json_checksum(payload), "payload": payload}))


def read_checked_json(path: Path) -> Any:
    """The payload of a file written by :func:`write_checked_json`; None (with a StoreWarning
    naming the file) when it is damaged, None silently when it does not exist."""
    value, reason = read_json(path)
    if reason == "missing":
        return None
    if reason is None:
        if not isinstance(value, dict) or value.get("format") != CELL_FORMAT or "payload" not in value:
            reason = "not written by this version of implicit-bias"
        elif value.get("sha256") != json_checksum(value["payload"]):
            reason = "checksum mismatch (damaged or edited)"
        else:
            return value["payload"]
    warnings.warn(f"{path}: {reason}; computing it again", StoreWarning, stacklevel=3)
    return None


# ============================================================================ execution
@dataclass
class Cell:
    """One configuration to run: canonical ``config``, its ``key`` and free-form ``meta`` labels."""

    key: str
    config: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


class DataCache:
    """Loads each distinct data spec once and computes its references once (cached on disk, with a
    checksum: a damaged cache file is computed again)."""

    def __init__(self, ref_dir: Path | None, which: Iterable[str] = REFERENCE_NAMES, arrays: tuple | None = None):
        self.ref_dir = ref_dir
        self.which = tuple(which)
        self.arrays = arrays
        self._data: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        self._refs: dict[str, References] = {}
        self._predictions: dict[str, dict[str, Any]] = {}

    def data(self, spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
        k = json.dumps(spec, sort_keys=True)
        if k not in self._data:
            if self.arrays is not None and spec.get("name") == "<arrays>":
                X, y = self.arrays
            else:
                X, y = load_data(spec)
            self._data[k] = (X, y, data_hash(X, y))
        return self._data[k]

    def references(self, spec: Mapping[str, Any]) -> References:
        X, y, sha = self.data(spec)
        if sha not in self._refs:
            path = self.ref_dir / f"{sha[:16]}.json" if self.ref_dir is not None else None
            cached = read_checked_json(path) if path is not None else None
            refs = None
            if isinstance(cached, dict) and cached.get("data_sha256") == sha:
                try:
                    refs = References.from_json(cached["references"])
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    warnings.warn(
                        f"{path}: not a references record ({exc}); computing it again", StoreWarning, stacklevel=2
                    )
            elif cached is not None:
                warnings.warn(f"{path}: references of other data; computing them again", StoreWarning, stacklevel=2)
            if refs is None:
                refs = compute_references(X, y, self.which)
                if path is not None:
                    write_checked_json(path, {"data_sha256": sha, "references": refs.to_json()})
            self._refs[sha] = refs
        return self._refs[sha]

    def prediction(self, config: Mapping[str, Any], *, finite_beta2: bool = False) -> dict[str, Any]:
        """The theory's predicted direction for a normalized configuration (see ``compare.predict``),
        computed once per data set, optimizer, batch size, order and schedule, cached on disk."""
        X, y, sha = self.data(config["data"])
        what = {k: config[k] for k in ("optimizer", "batch_size", "order", "lr")}
        key = hashlib.sha256(json.dumps([sha, what, finite_beta2], sort_keys=True).encode()).hexdigest()[:16]
        if key not in self._predictions:
            path = self.ref_dir / "predictions" / f"{key}.json" if self.ref_dir is not None else None
            cached = read_checked_json(path) if path is not None else None
            if isinstance(cached, dict) and "kind" in cached:
                self._predictions[key] = cached
            else:
                self._predictions[key] = predict(X, y, config, finite_beta2=finite_beta2)
                if path is not None and self._predictions[key]["kind"] != "error":
                    write_checked_json(path, self._predictions[key])
        return self._predictions[key]


# ============================================================================ locks
class CellLock:
    """An exclusive, non-blocking lock on one cell: ``flock`` on ``<key>.lock``.

    The kernel drops the lock when its process ends, however it ends, so a lock left by a process
    that died never blocks anyone. The file holds ``{"pid", "host", "since"}`` of the owner.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> bool:
        """Take the lock if no live process holds it; True when taken."""
        if self.fd is not None:
            return True
        if fcntl is None:  # pragma: no cover
            self.fd = -1
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the owner released (and removed) the file between our open and our lock
                os.close(fd)
                continue
            owner = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
            os.ftruncate(fd, 0)
            os.write(fd, owner.encode())
            self.fd = fd
            return True

    def owner(self) -> str:
        """Who holds the lock, as text for messages."""
        value, _ = read_json(self.path)
        if isinstance(value, dict) and "pid" in value:
            return f"pid {value.get('pid')} on {value.get('host')}"
        return "another process"

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        if fd < 0:  # pragma: no cover
            return
        try:
            self.path.unlink(missing_ok=True)  # while still holding it: a waiter then sees a new file
        finally:
            os.close(fd)


# ============================================================================ cells
@dataclass
class Store:
    """One result per cell in ``root``: ``<key>.npz`` (trajectory), ``<key>.json`` (record), and
    ``<key>.lock`` while a process computes it."""

    root: Path

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.npz", self.root / f"{key}.json"

    def state_path(self, series: str, steps: int) -> Path:
        """Where the engine state of the cell of ``series`` run for ``steps`` steps is kept."""
        return self.root / "states" / series / f"{int(steps)}.npz"

    def states(self, series: str, upto: int) -> list[tuple[int, Path]]:
        """The stored states ``(steps, path)`` of ``series`` with at most ``upto`` steps, longest
        first (temporary files of writers in progress are not listed)."""
        folder = self.root / "states" / series
        if not folder.is_dir():
            return []
        found = [(int(p.stem), p) for p in folder.glob("*.npz") if p.stem.isdigit() and int(p.stem) <= upto]
        return sorted(found, reverse=True)

    def lock(self, key: str) -> CellLock:
        return CellLock(self.root / f"{key}.lock")

    def check(
        self, key: str, config: Mapping[str, Any] | None = None
    ) -> tuple[tuple[Trajectory, dict[str, Any]] | None, str | None]:
        """``((trajectory, record), None)`` for a complete, verified cell; ``(None, None)`` when
        nothing is stored under ``key``; ``(None, reason)`` when what is stored cannot be trusted."""
        npz, js = self.paths(key)
        if not npz.exists() and not js.exists():
            return None, None
        if not js.exists():
            return None, f"{npz}: a trajectory without its record (a half-written cell)"
        record, reason = read_json(js)
        if reason is not None:
            return None, f"{js}: {reason}"
        if not isinstance(record, dict):
            return None, f"{js}: not a cell record"
        missing = [k for k in ("key", "config", "metrics", "trajectory_sha256", "record_sha256") if k not in record]
        if missing:
            return None, f"{js}: incomplete record (no {missing[0]!r}; written by another version?)"
        if record["record_sha256"] != json_checksum({k: v for k, v in record.items() if k != "record_sha256"}):
            return None, f"{js}: checksum mismatch (damaged or edited)"
        if record["key"] != key:
            return None, f"{js}: the record of cell {record['key']!r}, not of {key!r} (a swapped file)"
        if config is not None and record["config"] != config:
            return None, f"{js}: the record of another configuration"
        if not isinstance(record["metrics"], dict) or "steps" not in record["metrics"]:
            return None, f"{js}: the record has no metrics"
        if not npz.exists():
            return None, f"{npz}: missing (the record has no trajectory)"
        try:
            if file_checksum(npz) != record["trajectory_sha256"]:
                return None, f"{npz}: does not match its record's trajectory_sha256 (damaged, half-written or swapped)"
            traj = Trajectory.load(npz)
        except (OSError, RunFileError) as exc:
            return None, f"{npz}: {exc}"
        return (traj, record), None

    def fetch(
        self, key: str, config: Mapping[str, Any] | None = None, *, warn: bool = True
    ) -> tuple[Trajectory, dict[str, Any]] | None:
        """The verified cell, or None; a cell that is there but cannot be trusted gives a
        :class:`StoreWarning` naming the file (when ``warn``).

        Args:
            key: the cell's key.
            config: the configuration the cell's record must hold; None: any.
            warn: warn about a cell that is there but cannot be trusted.

        Returns:
            ``(trajectory, record)`` of a complete, verified cell; None when nothing is stored
            under ``key`` or what is stored cannot be trusted (see :meth:`check`).
        """
        result, reason = self.check(key, config)
        if reason is not None and warn:
            warnings.warn(f"{reason}; computing the cell again", StoreWarning, stacklevel=2)
        return result

    def done(self, key: str) -> bool:
        """Whether ``key`` holds a complete, verified cell."""
        return self.check(key)[0] is not None

    def load(self, key: str) -> tuple[Trajectory, dict[str, Any]]:
        """The verified cell; a missing or untrustworthy one raises :class:`RunFileError`."""
        result, reason = self.check(key)
        if result is None:
            raise RunFileError(reason or f"{self.paths(key)[1]}: no such cell")
        return result

    def save(self, cell: Cell, traj: Trajectory, record: dict[str, Any]) -> dict[str, Any]:
        """Write the trajectory, then the record (with both checksums) that marks the cell done;
        returns the record as written.

        Args:
            cell: the cell (its ``key`` names the files).
            traj: its :class:`Trajectory`, written to ``<key>.npz``.
            record: its JSON-ready record (any ``trajectory_sha256`` / ``record_sha256`` is replaced).

        Returns:
            The record as written to ``<key>.json``: with ``cell_format``, ``trajectory_sha256``
            and ``record_sha256`` added.

        Raises:
            OSError: when a file cannot be written (each is written atomically).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        npz, js = self.paths(cell.key)
        traj.save(npz)  # atomic
        record = {k: v for k, v in record.items() if k not in ("trajectory_sha256", "record_sha256")}
        record["cell_format"] = CELL_FORMAT
        record["trajectory_sha256"] = file_checksum(npz)
        record["record_sha256"] = json_checksum(record)
        atomic_write_text(js, json.dumps(record, indent=1))  # written last: marks the cell as done
        return record
