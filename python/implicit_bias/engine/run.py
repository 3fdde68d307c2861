"""One run: validate input once, drive the compiled engine, save and resume bit for bit.

:class:`Run` is the resumable object (``advance``, ``trajectory``, ``save``, ``load``); :func:`train`
is the one-call entry point built on it. Data shared by many runs is validated and converted once,
as a :class:`PreparedData`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import _core
from .. import optimizers as _opt
from .._validation import (
    DTYPE_NAMES,
    LOSSES,
    MAX_STEPS,
    ORDERS,
    as_real_array,
    check_choice,
    check_data,
    check_int,
    check_step_count,
    resolve_dtype,
)
from ..errors import RunFileError
from ..schedules import Schedule, as_schedule, from_dict
from .driver import drive
from .persistence import FILE_FORMAT, array_field, json_field, npz_path, read_npz, scalar_field, write_npz
from .trajectory import Trajectory

__all__ = ["PreparedData", "Run", "train", "log_grid", "STATE_FORMAT"]

#: Version of the saved-run file layout (2: with kind and checksum; format 1 files still load).
STATE_FORMAT = FILE_FORMAT

_ENGINE = {
    np.dtype(np.float64): (_core.Dataset_float64, _core.Run_float64, _core.advance_ensemble_float64),
    np.dtype(np.longdouble): (_core.Dataset_longdouble, _core.Run_longdouble, _core.advance_ensemble_longdouble),
}


def advance_ensemble(dtype: np.dtype) -> Any:
    """The engine's OpenMP loop ``(cores, targets, threads) -> None`` for runs of ``dtype``."""
    return _ENGINE[np.dtype(dtype)][2]


class PreparedData:
    """A validated data set in one precision, with its compiled copy ``Z = y x`` shared by runs.

    ``X`` (n, d) and ``y`` (n,) are the validated arrays in ``dtype``; ``core`` is the engine's
    dataset (one copy, however many runs use it).
    """

    def __init__(self, X: ArrayLike, y: ArrayLike, dtype: DTypeLike | None = None) -> None:
        self.dtype = resolve_dtype(dtype, X)
        self.X, self.y = check_data(X, y, self.dtype)
        self.core = _ENGINE[self.dtype][0](np.ascontiguousarray(self.y[:, None] * self.X))

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])


def log_grid(start: int, stop: int, count: int) -> np.ndarray:
    """About ``count`` log-spaced integer steps in (start, stop], always including ``stop``."""
    if stop <= start:
        return np.zeros(0, dtype=np.uint64)
    pts = np.geomspace(max(start, 1), stop, num=count)
    grid = np.unique(np.round(pts).astype(np.uint64))
    grid = grid[grid > start]
    if grid.size == 0 or grid[-1] != stop:
        grid = np.append(grid, np.uint64(stop))
    return grid.astype(np.uint64)


class Run:
    """One optimizer on one data set, advanced on demand, saved and resumed bit for bit.

    Parameters
    ----------
    X : (n, d) array, float64 or np.longdouble (ints / float32 are converted exactly); or a
        :class:`PreparedData` (then ``y`` must be None and ``dtype`` is the data's).
    y : (n,) labels in {-1, +1}.
    optimizer : an :mod:`implicit_bias.optimizers` configuration, e.g. ``ib.Adam(beta2=0.99)``.
    batch_size : samples per step in [1, n]; default (None or "n") n, the full batch.
    order : "cyclic" (fixed row order; when batch_size does not divide n the last batch of each
        epoch has n mod batch_size samples), "reshuffle" (new seeded permutation every epoch) or
        "replacement" (batch_size indices drawn uniformly with replacement every step).
    lr : a positive number (constant) or a schedule from :mod:`implicit_bias.schedules`.
    loss : "logistic" or "exponential".
    dtype : np.float64 or np.longdouble; default: np.longdouble if X is, else np.float64.
    seed : seed of the sampler's xoshiro256** generator (0 <= seed < 2**64).
    w0 : (d,) starting point; default zeros.
    """

    def __init__(
        self,
        X: ArrayLike | PreparedData,
        y: ArrayLike | None,
        optimizer: _opt.Optimizer,
        *,
        batch_size: int | str | None = None,
        order: str = "cyclic",
        lr: float | Schedule = 0.1,
        loss: str = "logistic",
        dtype: DTypeLike | None = None,
        seed: int = 0,
        w0: ArrayLike | None = None,
    ) -> None:
        if isinstance(X, PreparedData):
            if y is not None:
                raise TypeError("y: must be None when X is a PreparedData (it holds the labels)")
            if dtype is not None and np.dtype(dtype) != X.dtype:
                raise TypeError(f"dtype: {np.dtype(dtype)} differs from the prepared data's {X.dtype}")
            self.data = X
        else:
            self.data = PreparedData(X, y, dtype)
        self.dtype = self.data.dtype
        n, d = self.data.n, self.data.d
        if not isinstance(optimizer, _opt.Optimizer):
            raise TypeError(f"optimizer: must be an optimizer such as ib.Adam(), got {optimizer!r}")
        self.optimizer = optimizer
        self.batch_size = n if batch_size is None or batch_size == "n" else check_int("batch_size", batch_size, 1, n)
        self.order = check_choice("order", order, ORDERS)
        if self.order not in optimizer.orders:
            allowed = ", ".join(repr(o) for o in optimizer.orders)
            raise ValueError(
                f"order: {type(optimizer).__name__} is defined for order {allowed} only, got {self.order!r}"
            )
        self.schedule = as_schedule(lr)
        self.loss = check_choice("loss", loss, LOSSES)
        self.seed = check_int("seed", seed, 0, 2**64 - 1)
        if w0 is None:
            w0_arr = np.zeros(d, dtype=self.dtype)
        else:
            w0_arr = as_real_array("w0", w0, self.dtype, ndim=1)
            if w0_arr.shape != (d,):
                raise ValueError(f"w0: must have shape ({d},), got {w0_arr.shape}")
        self.w0 = w0_arr
        self.core = _ENGINE[self.dtype][1](self.data.core, w0_arr, self._core_config())

    # -- configuration -------------------------------------------------------------------------
    @property
    def X(self) -> np.ndarray:
        return self.data.X

    @property
    def y(self) -> np.ndarray:
        return self.data.y

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.data.n // self.batch_size)

    def _core_config(self) -> Any:
        cfg = _core.RunConfig()
        params = _core.OptimizerParams()
        for key, value in self.optimizer.core_params().items():
            setattr(params, key, getattr(_core.OptimizerKind, value) if key == "kind" else value)
        cfg.optimizer = params
        cfg.loss = getattr(_core.LossKind, self.loss)
        cfg.order = getattr(_core.Order, self.order)
        cfg.batch_size = self.batch_size
        cfg.seed = self.seed
        s = self.schedule
        cfg.schedule = getattr(_core.ScheduleKind, s.kind)
        cfg.eta0, cfg.power, cfg.factor = s.eta0, s.power, s.factor
        cfg.every = s.resolved_every(self.steps_per_epoch, whole_pass=self.optimizer.kind in _WHOLE_PASS)
        return cfg

    @property
    def config(self) -> dict[str, Any]:
        """JSON-ready description of the run (without the data)."""
        return {
            "optimizer": _opt.describe(self.optimizer),
            "batch_size": self.batch_size,
            "order": self.order,
            "lr": self.schedule.to_dict(),
            "loss": self.loss,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "n": self.data.n,
            "d": self.data.d,
        }

    def __repr__(self) -> str:
        return (
            f"Run({type(self.optimizer).__name__}, t = {self.t}, n = {self.data.n}, d = {self.data.d}, "
            f"batch_size = {self.batch_size}, order = {self.order!r}, dtype = {self.dtype})"
        )

    # -- state -------------------------------------------------------------------------------------
    @property
    def t(self) -> int:
        """Steps taken so far."""
        return int(self.core.t)

    @property
    def w(self) -> np.ndarray:
        """Current iterate, shape (d,), in the run dtype (a copy)."""
        return self.core.w

    def plan(self, target: int, checkpoints: int) -> None:
        """Prepare checkpoints for advancing to step ``target``: ~``checkpoints`` log-spaced steps
        over the horizon plus ``target`` itself (a run of 0 steps records its starting point).

        The density is that of a single ``advance(target)`` from 0, so advancing in several calls,
        alone or in an ensemble, records exactly the same checkpoints.
        """
        grid = self.core.grid
        if target <= self.t:
            if self.core.checkpoints()["steps"].size == 0:
                self.core.record()
            return
        if grid.size and int(grid[-1]) >= target:
            if target not in grid:  # the final step of this call is always recorded
                self.core.set_grid(np.union1d(grid, np.array([target], dtype=np.uint64)).astype(np.uint64))
            return
        start = int(grid[-1]) if grid.size else 0
        count = (
            checkpoints if start == 0 else max(2, math.ceil(checkpoints * math.log(target / start) / math.log(target)))
        )
        self.core.set_grid(np.union1d(grid, log_grid(start, target, count)).astype(np.uint64))

    def check_finite(self) -> None:
        """Warn when the iterate is no longer finite (the run diverged)."""
        if not np.all(np.isfinite(self.core.w)):
            warnings.warn(
                f"the iterate is no longer finite at step {self.t}: the run diverged (learning rate too large?)",
                RuntimeWarning,
                stacklevel=3,
            )

    def advance(self, steps: int, *, checkpoints: int = 200, progress: bool = False) -> Trajectory:
        """Take ``steps`` more steps and return the whole trajectory so far.

        Checkpoints are ~``checkpoints`` log-spaced steps over the planned horizon, plus the last
        step. Ctrl-C raises KeyboardInterrupt within a fraction of a second and leaves this run
        consistent at a step boundary: call ``advance`` again (or ``save``) to continue; the
        result is bit-for-bit the uninterrupted one.
        """
        steps = check_step_count("steps", steps, 0, MAX_STEPS - self.t)
        checkpoints = check_int("checkpoints", checkpoints, 1)
        target = self.t + steps
        self.plan(target, checkpoints)
        if progress and steps:
            from tqdm.auto import tqdm

            with tqdm(total=steps, unit="step", unit_scale=True, desc=type(self.optimizer).__name__) as bar:
                drive([self.core], [target], advance_ensemble(self.dtype), threads=1, on_progress=bar.update)
        else:
            drive([self.core], [target], advance_ensemble(self.dtype), threads=1)
        self.check_finite()
        return self.trajectory()

    def trajectory(self, references: Mapping[str, Any] | None = None) -> Trajectory:
        """All checkpoints recorded so far; ``references`` maps names to directions or results
        with ``.w`` (and, for margin ratios, ``.norm`` and ``.gamma``)."""
        c = self.core.checkpoints()
        traj = Trajectory(
            steps=c["steps"].astype(np.int64),
            w=c["w"],
            norm=c["norm"],
            log_loss=c["log_loss"],
            margin_l2=c["margin_l2"],
            margin_linf=c["margin_linf"],
            min_margin=c["min_margin"],
            scale_exponent=c["scale_exponent"],
            config=self.config,
        )
        if references:
            traj.attach(references, self.data.X, self.data.y)
        return traj

    # -- files -------------------------------------------------------------------------------------
    def save(self, path: str | PathLike[str]) -> None:
        """Write data, configuration and complete engine state to ``path`` (.npz, written atomically,
        with a format version and a checksum of the content; see :mod:`.persistence`)."""
        state = self.core.save_state()
        arrays: dict[str, np.ndarray] = {
            "config": np.array(json.dumps(self.config)),
            "X": self.data.X,
            "y": self.data.y,
            "w0": self.w0,
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
        write_npz(path, arrays, kind="run")

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Run:
        """Recreate a run saved with :meth:`save`; advancing it continues bit for bit.

        Every field is checked before the engine sees it (checksum, dtype, shape, finiteness, the
        configuration, the step counter against the checkpoint grid and the sampler position, the
        permutation, the generator state, the optimizer state): a missing, truncated, corrupted or
        edited file raises :class:`RunFileError` naming the file and the field. Files are read
        without pickle, so a crafted file cannot execute code.
        """
        where = npz_path(path)
        f = read_npz(where, kind="run")
        f.pop("format")
        config = _saved_config(f, where)
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
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunFileError(
                f"{where}: field 'config' does not describe a valid run ({type(exc).__name__}: {exc})"
            ) from exc
        if run.config != config:
            raise RunFileError(
                f"{where}: field 'config' is not in the form Run.save writes (read back as {run.config})"
            )
        template = run.core.save_state()
        state = _saved_state(f, where, run, template)
        try:
            run.core.load_state(state)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise RunFileError(f"{where}: the saved engine state does not fit this run ({exc})") from exc
        return run


_CONFIG_KEYS = ("optimizer", "batch_size", "order", "lr", "loss", "dtype", "seed", "n", "d")
_STATE_FIELDS = ("config", "X", "y", "w0", "t", "w", "scale_exponent", "rng", "sampler_position", "permutation", "grid")
# Optimizers whose step is a whole pass over the data: they never move the batch sampler.
_WHOLE_PASS = ("adam_proxy", "adam_epoch_map")
# Far beyond any exponent a run reaches (E ~ margin / ln 2), and exact in double.
_MAX_SCALE_EXPONENT = 2**53


def _saved_config(f: Mapping[str, np.ndarray], where: Any) -> dict[str, Any]:
    config = json_field(f, "config", where)
    if not isinstance(config, dict):
        raise RunFileError(f"{where}: field 'config' must be a JSON object, got {type(config).__name__}")
    missing = [k for k in _CONFIG_KEYS if k not in config]
    unknown = [k for k in config if k not in _CONFIG_KEYS]
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


def _saved_state(f: Mapping[str, np.ndarray], where: Any, run: Run, template: Mapping[str, Any]) -> dict[str, Any]:
    """The engine state stored in ``f``, every field checked against ``run`` (and ``template``, a
    fresh state of the same run: the optimizer's state names, dtypes and shapes)."""
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
    whole_pass = run.optimizer.kind in _WHOLE_PASS
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


def train(
    X: ArrayLike,
    y: ArrayLike,
    optimizer: _opt.Optimizer,
    *,
    steps: int | float,
    batch_size: int | str | None = None,
    order: str = "cyclic",
    lr: float | Schedule = 0.1,
    loss: str = "logistic",
    dtype: DTypeLike | None = None,
    checkpoints: int = 200,
    seed: int = 0,
    w0: ArrayLike | None = None,
    references: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps and return its :class:`Trajectory`.

    See :class:`Run` for the arguments. ``references`` maps names to reference directions (arrays
    of shape (d,) or results with ``.w``, e.g. from ``ib.max_margin``); the trajectory then holds
    ``cosine[name]`` (and ``margin_ratio[name]`` when the reference has ``.norm`` and ``.gamma``).
    On Ctrl-C the KeyboardInterrupt carries the consistent, resumable run as ``exc.run``.
    """
    steps = check_step_count("steps", steps, 0, MAX_STEPS)
    checkpoints = check_int("checkpoints", checkpoints, 1)
    if references is not None and not isinstance(references, Mapping):
        raise TypeError("references: must be a mapping name -> direction")
    run = Run(X, y, optimizer, batch_size=batch_size, order=order, lr=lr, loss=loss, dtype=dtype, seed=seed, w0=w0)
    try:
        traj = run.advance(steps, checkpoints=checkpoints, progress=progress)
    except KeyboardInterrupt as exc:
        exc.run = run  # type: ignore[attr-defined]
        raise
    if references:
        traj.attach(references, run.X, run.y)
    return traj
