"""One configuration end to end: run it, compare it with the references, save it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from .._version import __version__
from ..engine import Run, Trajectory
from .compare import References, attach, compute_references, final_metrics, predict
from .config import check_run_sizes, data_hash, normalize_config, run_kwargs
from .data import load_data
from .store import atomic_write_text, prepare_out_dir


def run_config(
    config: Mapping[str, Any],
    *,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    references: bool | References = True,
    progress: bool = False,
) -> tuple[Trajectory, dict[str, Any]]:
    """Run one configuration and return ``(trajectory, record)``.

    The record holds the normalized config, package version, seed, data hash, final metrics,
    reference notes and the theory's predicted direction.

    Args:
        config: a run configuration (see :func:`~.config.normalize_config`).
        data: arrays ``(X, y)``, X (n, d) and y (n,), to use instead of ``config["data"]`` (then
            ``data`` may be omitted from the config).
        references: True computes the l2 / l-inf / fixed-point references and stores cosines and
            margin ratios in the trajectory; False skips them (the record then has no metrics,
            references or prediction); or pass :class:`References`.
        progress: show a progress bar.

    Returns:
        ``(trajectory, record)``: the run's :class:`Trajectory` (its ``config`` also holds the
        normalized configuration under ``experiment``) and the JSON-ready record.

    Raises:
        ValueError: when the configuration is not valid (the message names the key) or its
            checkpoints would not fit in memory.
        NotSeparableError: when references are computed and the data are not separable (before
            the run starts).
        KeyboardInterrupt: on Ctrl-C; it carries the consistent, resumable run as ``exc.run``.
    """
    if data is not None:
        X, y = data
        cfg = normalize_config({**config, "data": {"name": "<arrays>"}}, allow_arrays=True)
    else:
        cfg = normalize_config(config)
        X, y = load_data(cfg["data"])
    kwargs = run_kwargs(cfg, X.shape[0])
    opt = kwargs.pop("optimizer")
    check_run_sizes(int(X.shape[1]), [cfg])
    run = Run(X, y, opt, dtype=np.dtype(cfg["dtype"]), **kwargs)
    # references before the run: data they refuse (not separable) fails before a long run, not after
    refs = references if isinstance(references, References) else (compute_references(X, y) if references else None)
    try:
        run.advance(cfg["steps"], checkpoints=cfg["checkpoints"], progress=progress)
    except KeyboardInterrupt as exc:
        exc.run = run  # type: ignore[attr-defined]
        raise
    traj = run.trajectory()
    record: dict[str, Any] = {
        "config": cfg,
        "version": __version__,
        "seed": cfg["seed"],
        "data_sha256": data_hash(X, y),
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
    }
    if refs is not None:
        attach(traj, X, y, refs)
        record["metrics"] = final_metrics(traj, X, y, refs)
        record["references"] = refs.to_json()
        record["prediction"] = theory_record(X, y, cfg)
    traj.config = {**traj.config, "experiment": cfg}
    return traj, record


def theory_record(X: np.ndarray, y: np.ndarray, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The theory's classification of a configuration (kind, reason, confidence), as JSON.

    Args:
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        cfg: a normalized configuration.

    Returns:
        ``kind``, ``reason``, ``confidence`` and ``notes`` (:func:`~.compare.predict` with
        ``compute=False``: the direction itself is not computed; errors are reported as kind
        "error", never raised).
    """
    return predict(X, y, cfg, compute=False)


def check_file_stem(key: str, name: Any) -> str:
    """``name`` as a plain file name stem (no directory part, no '..', not empty); else a ValueError naming ``key``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{key}: must be a non-empty file name, got {name!r}")
    seps = {"/", "\\", os.sep, *([os.altsep] if os.altsep else [])}
    if any(c in name for c in seps) or ".." in name or "\0" in name:
        raise ValueError(
            f"{key}: must be a plain file name without path separators or '..', got {name!r} (it would write outside the output folder)"
        )
    if len(name.encode()) > 200:
        raise ValueError(f"{key}: too long ({len(name.encode())} bytes; at most 200)")
    return name


def save_run(
    traj: Trajectory, record: Mapping[str, Any], out_dir: str | os.PathLike[str], name: str = "run", *, X=None, y=None
) -> dict[str, Path]:
    """Write ``<name>.npz`` (trajectory), ``<name>.json`` (record) and ``<name>.png`` to ``out_dir``.

    Args:
        traj: the run's :class:`Trajectory`.
        record: its JSON-ready record (as :func:`run_config` returns it).
        out_dir: the output folder (created with its parents if needed).
        name: the file name stem (a plain name: no path separators or '..', at most 200 bytes).
        X: (n, d) samples, for the figure's boundary panel when d = 2 (optional).
        y: (n,) labels, with ``X``.

    Returns:
        The paths written, under the keys ``npz``, ``json`` and ``png``.

    Raises:
        ValueError: when ``name`` is not a plain file name, or ``out_dir`` is not a folder one can
            write in.
    """
    check_file_stem("name", name)
    out = prepare_out_dir(out_dir, "out_dir")
    paths = {"npz": out / f"{name}.npz", "json": out / f"{name}.json", "png": out / f"{name}.png"}
    traj.save(paths["npz"])
    atomic_write_text(paths["json"], json.dumps(record, indent=1))
    plots.run_figure(traj, record, X=X, y=y, path=paths["png"])
    return paths
