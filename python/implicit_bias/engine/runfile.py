"""The run file's fields: what :meth:`Run.save` writes and the checks :meth:`Run.load` makes.

Every field is checked before the engine sees it (dtype, shape, finiteness, the configuration, the
step counter against the checkpoint grid and the sampler position, the permutation, the generator
state, the optimizer state); a failure is a :class:`implicit_bias.errors.RunFileError` naming the
file and the field. The file conventions themselves (atomic writes, checksums) are in
:mod:`.persistence`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from typing import Any

import numpy as np

from .. import _core
from .. import optimizers as _opt
from .._validation import DTYPE_NAMES, MAX_STEPS
from ..errors import RunFileError
from ..schedules import from_dict
from .persistence import array_field, json_field, npz_path, read_npz, scalar_field

__all__ = ["load_run", "run_arrays", "saved_config", "saved_state", "CONFIG_KEYS"]

CONFIG_KEYS = ("optimizer", "batch_size", "order", "lr", "loss", "dtype", "seed", "n", "d")
_STATE_FIELDS = ("config", "X", "y", "w0", "t", "w", "scale_exponent", "rng", "sampler_position", "permutation", "grid")
# The core's cap of the scale exponent (scale.hpp): a run at the cap (margins ~ 8e17) saves it.
_MAX_SCALE_EXPONENT = _core.max_scale_exponent


def saved_config(f: Mapping[str, np.ndarray], where: Any) -> dict[str, Any]:
    config = json_field(f, "config", where)
    if not isinstance(config, dict):
        raise RunFileError(f"{where}: field 'config' must be a JSON object, got {type(config).__name__}")
    missing = [k for k in CONFIG_KEYS if k not in config]
    unknown = [k for k in config if k not in CONFIG_KEYS]
    if missing or unknown:
        what = f"lacks key {missing[0]!r}" if missing else f"has an unknown key {unknown[0]!r}"
        raise RunFileError(f"{where}: field 'config' {what}")
    if not isinstance(config["dtype"], str) or config["dtype"] not in DTYPE_NAMES:
        raise RunFileError(
            f"{where}: field 'config': dtype must be one of {', '.join(DTYPE_NAMES)}, got {config['dtype']!r}"
        )
    for key in ("n", "d"):
        v = config[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise RunFileError(f"{where}: field 'config': {key} must be a positive integer, got {v!r}")
    if not isinstance(config["optimizer"], dict):
        raise RunFileError(f"{where}: field 'config': optimizer must be a JSON object, got {config['optimizer']!r}")
    if not isinstance(config["lr"], dict):
        raise RunFileError(f"{where}: field 'config': lr must be a JSON object, got {config['lr']!r}")
    return config


def saved_state(f: Mapping[str, np.ndarray], where: Any, run: Any, template: Mapping[str, Any]) -> dict[str, Any]:
    """The engine state stored in ``f``, every field checked against ``run`` (and ``template``, a
    fresh state of the same run: the optimizer's state names, dtypes and shapes).

    Args:
        f: the fields read from the run file (:func:`.persistence.read_npz`), name -> array.
        where: the file, for error messages.
        run: the :class:`Run` rebuilt from the file's configuration (its dtype, n, d, batch size,
            order and optimizer fix what the fields must be).
        template: ``run.core.save_state()`` of that fresh run.

    Returns:
        The state in the form ``core.load_state`` takes: ``t``, ``w`` (d,), ``scale_exponent``,
        ``rng`` (4,) uint64, ``sampler_position``, ``permutation``, ``grid`` (uint64), and the dicts
        ``optimizer`` and ``checkpoints`` of arrays.

    Raises:
        RunFileError: naming the file and the field, when a field is missing or unexpected, has the
            wrong dtype or shape, is not finite or out of range, or is inconsistent with the step
            counter (sampler position, permutation, checkpoint grid).
    """
    dtype, n, d, b = run.dtype, run.data.n, run.data.d, run.batch_size
    opt_names = {f"optimizer/{k}" for k in template["optimizer"]}
    ckpt_names = {f"checkpoints/{k}" for k in template["checkpoints"]}
    expected = set(_STATE_FIELDS) | opt_names | ckpt_names
    for name in sorted(set(f) ^ expected):
        if name in f:
            raise RunFileError(f"{where}: field {name!r} is not part of a run file of {type(run.optimizer).__name__}")
        raise RunFileError(f"{where}: field {name!r} is missing")
    t = scalar_field(f, "t", where, low=0, high=MAX_STEPS)
    w = array_field(f, "w", where, dtype=dtype, shape=(d,), finite=True)
    scale_exponent = scalar_field(f, "scale_exponent", where, low=-_MAX_SCALE_EXPONENT, high=_MAX_SCALE_EXPONENT)
    rng = array_field(f, "rng", where, dtype=np.uint64, shape=(4,))
    if not np.any(rng):
        raise RunFileError(f"{where}: field 'rng' is all zero (xoshiro256** never reaches that state)")
    position = scalar_field(f, "sampler_position", where, low=0, high=n - 1)
    whole_pass = run.optimizer.whole_pass
    if whole_pass or run.order == "replacement":
        want = 0
    else:
        want = (t % run.steps_per_epoch) * b
    if position != want:
        raise RunFileError(
            f"{where}: field 'sampler_position' = {position} does not match step t = {t} (expected {want})"
        )
    perm = array_field(f, "permutation", where, dtype=np.int64, shape=(b if run.order == "replacement" else n,))
    if run.order == "replacement":
        if perm.size and (perm.min() < 0 or perm.max() >= n):
            raise RunFileError(f"{where}: field 'permutation' has an index outside [0, {n - 1}]")
    elif run.order == "cyclic" or whole_pass:
        if not np.array_equal(perm, np.arange(n)):
            raise RunFileError(f"{where}: field 'permutation' must be 0, 1, ..., {n - 1} for this run")
    elif not np.array_equal(np.sort(perm), np.arange(n)):
        raise RunFileError(f"{where}: field 'permutation' is not a permutation of 0..{n - 1}")
    grid = array_field(f, "grid", where, dtype=np.uint64, shape=(None,))
    if grid.size and (not np.all(grid[1:] > grid[:-1]) or int(grid[-1]) > MAX_STEPS):
        raise RunFileError(f"{where}: field 'grid' must be strictly increasing steps <= 2**63 - 1")
    optimizer = {}
    for key, ref in template["optimizer"].items():
        name = f"optimizer/{key}"
        value = array_field(f, name, where, dtype=ref.dtype, shape=ref.shape, finite=True)
        if key in ("v", "bound") and np.any(value < 0):
            raise RunFileError(f"{where}: field {name!r} must be >= 0")
        optimizer[key] = value
    steps = array_field(f, "checkpoints/steps", where, dtype=np.uint64, shape=(None,))
    k = steps.size
    if k and (not np.all(steps[1:] > steps[:-1]) or int(steps[-1]) > t):
        raise RunFileError(f"{where}: field 'checkpoints/steps' must be strictly increasing steps <= t = {t}")
    passed = grid[grid <= np.uint64(t)]
    if np.setdiff1d(passed, steps).size:
        raise RunFileError(
            f"{where}: field 't' = {t} is inconsistent with fields 'grid' and 'checkpoints/steps' "
            "(a grid step already passed has no checkpoint)"
        )
    checkpoints: dict[str, np.ndarray] = {"steps": steps}
    for key, ref in template["checkpoints"].items():
        if key == "steps":
            continue
        name = f"checkpoints/{key}"
        shape = (k, d) if key == "w" else (k,)
        value = array_field(
            f, name, where, dtype=ref.dtype, shape=shape, finite=key not in ("margin_l2", "margin_linf")
        )
        checkpoints[key] = value
    norm = checkpoints["norm"]
    if np.any(norm < 0):
        raise RunFileError(f"{where}: field 'checkpoints/norm' must be >= 0")
    for key in ("margin_l2", "margin_linf"):
        value = checkpoints[key]
        if np.any(np.isinf(value)) or np.any(np.isnan(value) & (norm > 0)):
            raise RunFileError(f"{where}: field 'checkpoints/{key}' contains NaN or infinite values")
    return {
        "t": t,
        "w": w,
        "scale_exponent": scale_exponent,
        "rng": rng,
        "sampler_position": position,
        "permutation": perm,
        "grid": grid,
        "optimizer": optimizer,
        "checkpoints": checkpoints,
    }


def run_arrays(
    config: Mapping[str, Any], X: np.ndarray, y: np.ndarray, w0: np.ndarray, state: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The named arrays of a run file: configuration (JSON), data, start point and the engine state
    ``state`` (as ``core.save_state()`` returns it).

    Args:
        config: the run's configuration (:attr:`Run.config`), stored as JSON text.
        X: the run's data, shape (n, d), in its dtype.
        y: the run's labels, shape (n,), in its dtype.
        w0: the starting point, shape (d,).
        state: the engine state, as ``core.save_state()`` returns it.

    Returns:
        The fields for :func:`.persistence.write_npz`, name -> array (the optimizer's state as
        ``optimizer/<name>``, the checkpoints as ``checkpoints/<name>``).

    Raises:
        TypeError: when ``config`` holds a value JSON cannot encode (``json.dumps``).
        KeyError: when ``state`` lacks one of the fields ``core.save_state()`` returns.
    """
    arrays: dict[str, np.ndarray] = {
        "config": np.array(json.dumps(dict(config))),
        "X": X,
        "y": y,
        "w0": w0,
        "t": np.array(state["t"], dtype=np.uint64),
        "w": state["w"],
        "scale_exponent": np.array(state["scale_exponent"], dtype=np.int64),
        "rng": state["rng"],
        "sampler_position": np.array(state["sampler_position"], dtype=np.int64),
        "permutation": state["permutation"],
        "grid": state["grid"],
    }
    arrays.update({f"optimizer/{k}": v for k, v in state["optimizer"].items()})
    arrays.update({f"checkpoints/{k}": v for k, v in state["checkpoints"].items()})
    return arrays


def load_run(cls: Any, path: str | PathLike[str]) -> Any:
    """The run of class ``cls`` (:class:`implicit_bias.engine.run.Run`) saved at ``path``, every field
    checked (see :meth:`Run.load`)."""
    where = npz_path(path)
    f = read_npz(where, kind="run")
    f.pop("format")
    config = saved_config(f, where)
    dtype = np.dtype(DTYPE_NAMES[config["dtype"]])
    n, d = config["n"], config["d"]
    X = array_field(f, "X", where, dtype=dtype, shape=(n, d), finite=True)
    y = array_field(f, "y", where, dtype=dtype, shape=(n,), finite=True)
    if not np.all((y == 1) | (y == -1)):
        raise RunFileError(f"{where}: field 'y' must hold labels -1 or +1")
    w0 = array_field(f, "w0", where, dtype=dtype, shape=(d,), finite=True)
    try:
        run = cls(
            X,
            y,
            _opt.from_description(dict(config["optimizer"])),
            batch_size=config["batch_size"],
            order=config["order"],
            lr=from_dict(config["lr"]),
            loss=config["loss"],
            dtype=dtype,
            seed=config["seed"],
            w0=w0,
            check_separable=False,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunFileError(
            f"{where}: field 'config' does not describe a valid run ({type(exc).__name__}: {exc})"
        ) from exc
    if run.config != config:
        raise RunFileError(f"{where}: field 'config' is not in the form Run.save writes (read back as {run.config})")
    template = run.core.save_state()
    state = saved_state(f, where, run, template)
    try:
        run.core.load_state(state)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise RunFileError(f"{where}: the saved engine state does not fit this run ({exc})") from exc
    return run
