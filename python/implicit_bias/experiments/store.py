"""Where results live: cells keyed by their configuration, written atomically, and the data /
reference cache shared by the cells of one sweep or reproduction."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import Trajectory
from .compare import REFERENCE_NAMES, References, compute_references, predict
from .config import data_hash
from .data import load_data

# ============================================================================ execution
@dataclass
class Cell:
    """One configuration to run: canonical ``config``, its ``key`` and free-form ``meta`` labels."""

    key: str
    config: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


class DataCache:
    """Loads each distinct data spec once and computes its references once (cached on disk)."""

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
            if path is not None and path.exists():
                self._refs[sha] = References.from_json(json.loads(path.read_text()))
            else:
                refs = compute_references(X, y, self.which)
                self._refs[sha] = refs
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(path, json.dumps(refs.to_json()))
        return self._refs[sha]

    def prediction(self, config: Mapping[str, Any], *, finite_beta2: bool = False) -> dict[str, Any]:
        """The theory's predicted direction for a normalized configuration (see ``compare.predict``),
        computed once per data set, optimizer, batch size, order and schedule, cached on disk."""
        X, y, sha = self.data(config["data"])
        what = {k: config[k] for k in ("optimizer", "batch_size", "order", "lr")}
        key = hashlib.sha256(json.dumps([sha, what, finite_beta2], sort_keys=True).encode()).hexdigest()[:16]
        if key not in self._predictions:
            path = self.ref_dir / "predictions" / f"{key}.json" if self.ref_dir is not None else None
            if path is not None and path.exists():
                self._predictions[key] = json.loads(path.read_text())
            else:
                self._predictions[key] = predict(X, y, config, finite_beta2=finite_beta2)
                if path is not None and self._predictions[key]["kind"] != "error":
                    path.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(path, json.dumps(self._predictions[key]))
        return self._predictions[key]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never a half-written file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class Store:
    """One result per cell: ``<key>.npz`` (trajectory) and ``<key>.json`` (config, metrics), in ``root``."""

    root: Path

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.npz", self.root / f"{key}.json"

    def done(self, key: str) -> bool:
        npz, js = self.paths(key)
        if not (npz.exists() and js.exists()):
            return False
        try:
            return json.loads(js.read_text()).get("key") == key
        except (OSError, ValueError):
            return False

    def load(self, key: str) -> tuple[Trajectory, dict[str, Any]]:
        npz, js = self.paths(key)
        return Trajectory.load(npz), json.loads(js.read_text())

    def save(self, cell: Cell, traj: Trajectory, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        npz, js = self.paths(cell.key)
        traj.save(npz)  # atomic
        atomic_write_text(js, json.dumps(record, indent=1))  # written last: marks the cell as done

