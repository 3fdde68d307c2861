"""What identifies a result: the data hash, the build tag and the configuration key of a cell."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import _core


def data_hash(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the data (shape, dtype and bytes), hex."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


#: Version of the stored cell layout; part of every key (see :func:`config_key`).
CELL_FORMAT = 2


def build_tag() -> dict[str, Any]:
    """What identifies the code a result came from: the package version, the cell layout, whether
    the core was built with OpenMP, and the core's own build information when it exposes some
    (``implicit_bias._core.build_info``, a mapping or a callable returning one)."""
    from . import __version__  # read from the config package at call time, where a test may pin it

    tag: dict[str, Any] = {
        "version": __version__,
        "cell_format": CELL_FORMAT,
        "openmp": bool(getattr(_core, "openmp", False)),
    }
    info = getattr(_core, "build_info", None)
    if callable(info):
        info = info()
    if info is not None:
        tag["build"] = json.loads(json.dumps(info, sort_keys=True, default=str))
    return tag


def config_key(config: Mapping[str, Any], data_sha: str | None = None) -> str:
    """The key of a normalized configuration (the name of its cell).

    Args:
        config: a normalized configuration.
        data_sha: the data's :func:`data_hash`, if known.

    Returns:
        16 hex digits of the sha256 of its canonical JSON, the data hash and :func:`build_tag`
        (so a new version or build never reuses old cells).
    """
    payload = json.dumps(
        {"config": config, "data_sha256": data_sha, "build": build_tag()}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
