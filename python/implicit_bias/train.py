"""Runs: validate input once, drive the compiled engine, return a :class:`Trajectory`.

``train`` is the one-call entry point; :class:`Run` is the resumable object behind it
(``advance``, ``save``, ``load``); ``train_many`` advances many configurations on OpenMP threads.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import _core
from . import optimizers as _opt
from ._validation import check_choice, check_data, check_int, resolve_dtype, as_real_array
from .schedules import Schedule, as_schedule

ORDERS = ("cyclic", "reshuffle", "replacement")
LOSSES = ("logistic", "exponential")
#: Version of the saved-run file layout.
STATE_FORMAT = 1

_ENGINE = {
    np.dtype(np.float64): (_core.Dataset_float64, _core.Run_float64, _core.advance_ensemble_float64),
    np.dtype(np.longdouble): (_core.Dataset_longdouble, _core.Run_longdouble, _core.advance_ensemble_longdouble),
}


@dataclass
class Trajectory:
    """Checkpoints of one run, in the run's precision.

    All arrays have one entry per checkpoint (K of them, log-spaced in t, always ending with the
    last step taken): ``steps`` (K,) int64 step counts; ``w`` (K, d) iterates; ``norm`` ||w||_2;
    ``log_loss`` natural log of L(w) = mean_i l(<z_i, w>) (computed in log space, finite even when
    L underflows); ``margin_l2`` = min_i <z_i, w> / ||w||_2; ``margin_linf`` = min_i <z_i, w> /
    ||w||_inf; ``min_margin`` = min_i <z_i, w>; ``scale_exponent`` the engine's gradient scale E
    (gradients are held as g * 2^-E; diagnostics only). ``cosine[name]`` and ``margin_ratio[name]``
    hold comparisons with the references passed to :func:`train`.
    """

    steps: np.ndarray
    w: np.ndarray
    norm: np.ndarray
    log_loss: np.ndarray
    margin_l2: np.ndarray
    margin_linf: np.ndarray
    min_margin: np.ndarray
    scale_exponent: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)
    cosine: dict[str, np.ndarray] = field(default_factory=dict)
    margin_ratio: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def final_w(self) -> np.ndarray:
        """The last recorded iterate, shape (d,)."""
        return self.w[-1]

    @property
    def direction(self) -> np.ndarray:
        """Unit-l2 directions w / ||w||_2 at every checkpoint, shape (K, d)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.w / self.norm[:, None]

    def cosine_to(self, reference: ArrayLike) -> np.ndarray:
        """cos(w_k, reference) at every checkpoint, shape (K,)."""
        ref = _reference_vector("reference", reference, self.w.dtype, self.w.shape[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.w @ ref) / (self.norm * np.linalg.norm(ref))

    def __len__(self) -> int:
        return len(self.steps)

    def save(self, path: str | PathLike[str]) -> None:
        """Write to a ``.npz`` file (arrays keep their dtype; config stored as JSON)."""
        import json

        arrays = {k: getattr(self, k) for k in _TRAJECTORY_ARRAYS}
        arrays.update({f"cosine/{k}": v for k, v in self.cosine.items()})
        arrays.update({f"margin_ratio/{k}": v for k, v in self.margin_ratio.items()})
        np.savez(path, config=np.array(json.dumps(self.config)), **arrays)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Trajectory:
        import json

        with np.load(path, allow_pickle=False) as f:
            kwargs = {k: f[k] for k in _TRAJECTORY_ARRAYS}
            cos = {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith("cosine/")}
            ratio = {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith("margin_ratio/")}
            config = json.loads(str(f["config"]))
        return cls(**kwargs, config=config, cosine=cos, margin_ratio=ratio)


_TRAJECTORY_ARRAYS = ("steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent")


def _reference_vector(name: str, ref: Any, dtype: np.dtype, d: int) -> np.ndarray:
    vec = getattr(ref, "w", ref)
    if isinstance(vec, np.ndarray) and vec.dtype.kind == "f":
        vec = vec.astype(dtype)  # a reference in another precision is fine for cosines: cast, do not refuse
    arr = as_real_array(name, vec, dtype, ndim=1)
    if arr.shape[0] != d:
        raise ValueError(f"{name}: must have d = {d} entries, got {arr.shape[0]}")
    if not np.any(arr):
        raise ValueError(f"{name}: must be a nonzero direction")
    return arr


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
    X : (n, d) array, float64 or np.longdouble (ints / float32 are converted exactly).
    y : (n,) labels in {-1, +1}.
    optimizer : an :mod:`implicit_bias.optimizers` configuration, e.g. ``ib.Adam(beta2=0.99)``.
    batch_size : samples per step in [1, n]; default n (full batch).
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
        X: ArrayLike,
        y: ArrayLike,
        optimizer: _opt.Optimizer,
        *,
        batch_size: int | None = None,
        order: str = "cyclic",
        lr: float | Schedule = 0.1,
        loss: str = "logistic",
        dtype: DTypeLike | None = None,
        seed: int = 0,
        w0: ArrayLike | None = None,
        _dataset: Any = None,
    ) -> None:
        self.dtype = resolve_dtype(dtype, X)
        self.X, self.y = check_data(X, y, self.dtype)
        n, d = self.X.shape
        if not isinstance(optimizer, _opt.Optimizer):
            raise TypeError(f"optimizer: must be an optimizer such as ib.Adam(), got {optimizer!r}")
        self.optimizer = optimizer
        self.batch_size = n if batch_size is None else check_int("batch_size", batch_size, 1, n)
        self.order = check_choice("order", order, ORDERS)
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
        dataset_cls, run_cls, _ = _ENGINE[self.dtype]
        self._dataset = _dataset if _dataset is not None else dataset_cls(np.ascontiguousarray(self.y[:, None] * self.X))
        self._run = run_cls(self._dataset, w0_arr, self._core_config())

    # -- configuration -------------------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

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
        cfg.every = s.resolved_every(self.steps_per_epoch)
        return cfg

    @property
    def config(self) -> dict[str, Any]:
        """JSON-ready description of the run (without the data)."""
        s = self.schedule
        return {
            "optimizer": _opt.describe(self.optimizer),
            "batch_size": self.batch_size,
            "order": self.order,
            "lr": {"kind": s.kind, "eta0": s.eta0, "power": s.power, "factor": s.factor, "every": s.every},
            "loss": self.loss,
            "dtype": self.dtype.name,
            "seed": self.seed,
            "n": int(self.X.shape[0]),
            "d": int(self.X.shape[1]),
        }

    # -- state -------------------------------------------------------------------------------------
    @property
    def t(self) -> int:
        """Steps taken so far."""
        return int(self._run.t)

    @property
    def w(self) -> np.ndarray:
        """Current iterate, shape (d,), in the run dtype (a copy)."""
        return self._run.w

    def _extend_grid(self, target: int, checkpoints: int) -> None:
        grid = self._run.grid
        if grid.size and int(grid[-1]) >= target:
            if target not in grid:  # the final step of this call is always recorded
                self._run.set_grid(np.union1d(grid, np.array([target], dtype=np.uint64)).astype(np.uint64))
            return
        start = int(grid[-1]) if grid.size else 0
        # Same density as a single advance(target) from 0 would have, so splitting a run changes nothing.
        count = checkpoints if start == 0 else max(2, math.ceil(checkpoints * math.log(target / start) / math.log(target)))
        self._run.set_grid(np.union1d(grid, log_grid(start, target, count)).astype(np.uint64))

    def advance(self, steps: int, *, checkpoints: int = 200, progress: bool = False) -> Trajectory:
        """Take ``steps`` more steps and return the whole trajectory so far.

        Checkpoints are ~``checkpoints`` log-spaced steps over the planned horizon, plus the last
        step. Ctrl-C raises KeyboardInterrupt within a fraction of a second and leaves this run
        consistent at a step boundary: call ``advance`` again (or ``save``) to continue; the
        result is bit-for-bit the uninterrupted one.
        """
        steps = check_int("steps", steps, 0)
        checkpoints = check_int("checkpoints", checkpoints, 1)
        target = self.t + steps
        if steps:
            self._extend_grid(target, checkpoints)
        elif self._run.checkpoints()["steps"].size == 0:
            self._run.record()  # a run of 0 steps still reports its starting point
        if progress and steps:
            from tqdm.auto import tqdm

            with tqdm(total=steps, unit="step", unit_scale=True, desc=type(self.optimizer).__name__) as bar:
                chunk = max(1, steps // 100)
                while self.t < target:
                    before = self.t
                    self._run.advance(min(target, before + chunk))
                    bar.update(self.t - before)
        else:
            self._run.advance(target)
        if not np.all(np.isfinite(self._run.w)):
            warnings.warn(
                f"the iterate is no longer finite at step {self.t}: the run diverged (learning rate too large?)",
                RuntimeWarning,
                stacklevel=2,
            )
        return self.trajectory()

    def trajectory(self, references: Mapping[str, Any] | None = None) -> Trajectory:
        """All checkpoints recorded so far; ``references`` maps names to directions or results
        with ``.w`` (and, for margin ratios, ``.norm`` and ``.gamma``)."""
        c = self._run.checkpoints()
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
        for name, ref in (references or {}).items():
            traj.cosine[name] = traj.cosine_to(_reference_vector(f"references[{name!r}]", ref, self.dtype, self.X.shape[1]))
            norm, gamma = getattr(ref, "norm", None), getattr(ref, "gamma", None)
            if norm is not None and gamma is not None:
                from .margins import normalized_margin

                traj.margin_ratio[name] = normalized_margin(traj.w, self.X, self.y, norm) / gamma
        return traj

    def save(self, path: str | PathLike[str]) -> None:
        """Write data, configuration and complete engine state to ``path`` (.npz)."""
        import json

        state = self._run.save_state()
        arrays: dict[str, np.ndarray] = {
            "format": np.array(STATE_FORMAT),
            "config": np.array(json.dumps(self.config)),
            "X": self.X,
            "y": self.y,
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
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Run:
        """Recreate a run saved with :meth:`save`; advancing it continues bit for bit."""
        import json

        with np.load(path, allow_pickle=False) as f:
            if int(f["format"]) != STATE_FORMAT:
                raise ValueError(f"path: saved-run format {int(f['format'])} is not supported (expected {STATE_FORMAT})")
            config = json.loads(str(f["config"]))
            lr = config["lr"]
            schedule = Schedule(lr["kind"], lr["eta0"], lr["power"], lr["factor"], lr["every"])
            run = cls(
                f["X"],
                f["y"],
                _opt.from_description(config["optimizer"]),
                batch_size=config["batch_size"],
                order=config["order"],
                lr=schedule,
                loss=config["loss"],
                dtype=np.dtype(config["dtype"]),
                seed=config["seed"],
                w0=f["w0"],
            )
            state = {
                "t": int(f["t"]),
                "w": f["w"],
                "scale_exponent": int(f["scale_exponent"]),
                "rng": f["rng"],
                "sampler_position": int(f["sampler_position"]),
                "permutation": f["permutation"],
                "grid": f["grid"],
                "optimizer": {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith("optimizer/")},
                "checkpoints": {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith("checkpoints/")},
            }
        run._run.load_state(state)
        return run


def train(
    X: ArrayLike,
    y: ArrayLike,
    optimizer: _opt.Optimizer,
    *,
    steps: int,
    batch_size: int | None = None,
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
    run = Run(X, y, optimizer, batch_size=batch_size, order=order, lr=lr, loss=loss, dtype=dtype, seed=seed, w0=w0)
    steps = check_int("steps", steps, 0)
    checkpoints = check_int("checkpoints", checkpoints, 1)
    if references is not None and not isinstance(references, Mapping):
        raise TypeError("references: must be a mapping name -> direction")
    try:
        run.advance(steps, checkpoints=checkpoints, progress=progress)
    except KeyboardInterrupt as exc:
        exc.run = run  # type: ignore[attr-defined]
        raise
    return run.trajectory(references)


def train_many(
    X: ArrayLike,
    y: ArrayLike,
    configs: Sequence[Mapping[str, Any]],
    *,
    steps: int | Sequence[int],
    checkpoints: int = 200,
    dtype: DTypeLike | None = None,
    threads: int | None = None,
    references: Mapping[str, Any] | None = None,
) -> list[Trajectory]:
    """Run many independent configurations on the same data, spread over OpenMP threads.

    ``configs`` is a sequence of mappings with an ``optimizer`` and any of the :class:`Run`
    keywords (``batch_size``, ``order``, ``lr``, ``loss``, ``seed``, ``w0``). Each result is
    identical, bit for bit, to ``train`` with the same arguments. ``threads``: None = all cores.
    """
    dt = resolve_dtype(dtype, X)
    Xv, yv = check_data(X, y, dt)
    if isinstance(configs, Mapping) or not isinstance(configs, Sequence) or len(configs) == 0:
        raise TypeError("configs: must be a non-empty sequence of mappings")
    step_list = [steps] * len(configs) if not isinstance(steps, Sequence) else list(steps)
    if len(step_list) != len(configs):
        raise ValueError(f"steps: got {len(step_list)} step counts for {len(configs)} configs")
    step_list = [check_int("steps", s, 0) for s in step_list]
    threads_arg = 0 if threads is None else check_int("threads", threads, 1)
    dataset = _ENGINE[dt][0](np.ascontiguousarray(yv[:, None] * Xv))
    allowed = {"optimizer", "batch_size", "order", "lr", "loss", "seed", "w0"}
    runs = []
    for k, cfg in enumerate(configs):
        if not isinstance(cfg, Mapping) or "optimizer" not in cfg:
            raise TypeError(f"configs[{k}]: must be a mapping with an 'optimizer'")
        unknown = set(cfg) - allowed
        if unknown:
            raise ValueError(f"configs[{k}]: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        kwargs = dict(cfg)
        runs.append(Run(Xv, yv, kwargs.pop("optimizer"), dtype=dt, _dataset=dataset, **kwargs))
    for run, s in zip(runs, step_list):
        if s:
            run._extend_grid(s, check_int("checkpoints", checkpoints, 1))
    _ENGINE[dt][2]([r._run for r in runs], [int(s) for s in step_list], threads_arg)
    return [r.trajectory(references) for r in runs]
