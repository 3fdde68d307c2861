"""The :class:`Run` object: validate input once, drive the compiled engine, save and resume bit for bit.

Imported through :mod:`.run`, with :func:`train` (:mod:`.training`), which is built on it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import _core
from .. import optimizers as _opt
from .._validation import (
    LOSSES,
    MAX_STEPS,
    ORDERS,
    as_real_array,
    check_choice,
    check_int,
    check_step_count,
)
from ..schedules import Schedule, as_schedule
from .driver import drive
from .grid import log_grid, new_checkpoints
from .persistence import FILE_FORMAT, write_npz
from .prepared import PreparedData, advance_ensemble, engine_classes
from .runfile import load_run, run_arrays
from .trajectory import Trajectory

__all__ = ["PreparedData", "Run", "log_grid", "advance_ensemble", "STATE_FORMAT", "STATE_POWERS"]

#: Version of the saved-run file layout (2: with kind and checksum; format 1 files still load).
STATE_FORMAT = FILE_FORMAT
#: The optimizer state vectors :attr:`Run.state` reports, with the power of the gradient scale the
#: core stores them in: first moments ``m`` as m * 2^-E, second moments ``v`` as v * 2^-2E.
STATE_POWERS = {"m": 1, "v": 2}
# Beyond any exponent of np.longdouble: ldexp by more gives 0 / inf anyway, and this fits an int.
_LDEXP_CLAMP = 1 << 16


class Run:
    """One optimizer on one data set, advanced on demand, saved and resumed bit for bit.

    Args:
        X: (n, d) array, float64 or np.longdouble (ints / float32 are converted exactly); or a
            :class:`PreparedData` (then ``y`` must be None and ``dtype`` is the data's).
        y: (n,) labels in {-1, +1}.
        optimizer: an :mod:`implicit_bias.optimizers` configuration, e.g. ``ib.Adam(beta2=0.99)``;
            its fields are validated again here (a copy is kept, so later changes do not reach the run).
        batch_size: samples per step in [1, n]; default (None or "n") n, the full batch.
        order: "cyclic" (fixed row order; when batch_size does not divide n the last batch of each
            epoch has n mod batch_size samples), "reshuffle" (new seeded permutation every epoch) or
            "replacement" (batch_size indices drawn uniformly with replacement every step).
        lr: a positive number (constant) or a schedule from :mod:`implicit_bias.schedules`.
        loss: "logistic" or "exponential".
        dtype: np.float64 or np.longdouble; default: np.longdouble if X is, else np.float64.
        seed: seed of the sampler's xoshiro256** generator (0 <= seed < 2**64).
        w0: (d,) starting point; default zeros.
        check_separable: warn (:class:`implicit_bias.errors.NotSeparableWarning`) when the data are
            not linearly separable; see :class:`PreparedData` (ignored when X is a PreparedData).

    A Run is used by one thread at a time: ``advance``, ``plan``, ``trajectory``, ``state``, ``w``
    and ``save`` called while another thread is inside one of them raise ``RuntimeError("Run is
    busy: ...")`` (the engine releases the GIL while it steps).
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
        check_separable: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._busy_with = ""
        self.optimizer = _opt.checked_copy("optimizer", optimizer)
        self.order = check_choice("order", order, ORDERS)
        if self.order not in self.optimizer.orders:
            allowed = ", ".join(repr(o) for o in self.optimizer.orders)
            raise ValueError(
                f"order: {type(self.optimizer).__name__} is defined for order {allowed} only, got {self.order!r}"
            )
        self.schedule = as_schedule(lr)
        self.loss = check_choice("loss", loss, LOSSES)
        self.seed = check_int("seed", seed, 0, 2**64 - 1)
        if isinstance(X, PreparedData):
            if y is not None:
                raise TypeError("y: must be None when X is a PreparedData (it holds the labels)")
            if dtype is not None and np.dtype(dtype) != X.dtype:
                raise TypeError(f"dtype: {np.dtype(dtype)} differs from the prepared data's {X.dtype}")
            self.data = X
        else:
            self.data = PreparedData(X, y, dtype, check_separable=check_separable)
        self.dtype = self.data.dtype
        n, d = self.data.n, self.data.d
        self.batch_size = n if batch_size is None or batch_size == "n" else check_int("batch_size", batch_size, 1, n)
        if w0 is None:
            w0_arr = np.zeros(d, dtype=self.dtype)
        else:
            w0_arr = as_real_array("w0", w0, self.dtype, ndim=1)
            if w0_arr.shape != (d,):
                raise ValueError(f"w0: must have shape ({d},), got {w0_arr.shape}")
        self.w0 = w0_arr
        self.core = engine_classes(self.dtype)[1](self.data.core, w0_arr, self._core_config())

    @contextmanager
    def exclusive(self, what: str) -> Iterator[None]:
        """Hold this run for ``what`` (e.g. "advance"): another thread asking meanwhile gets
        ``RuntimeError("Run is busy: ...")`` at once instead of racing the engine. Re-entrant in one
        thread (``advance`` builds its trajectory while holding the run)."""
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(
                f"Run is busy: another thread is in Run.{self._busy_with or '?'}; a Run cannot {what} "
                "while that call runs (use one Run per thread, or wait for it to return)"
            )
        outer = self._busy_with
        self._busy_with = outer or what
        try:
            yield
        finally:
            self._busy_with = outer
            self._lock.release()

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
        cfg.every = s.resolved_every(self.steps_per_epoch, whole_pass=self.optimizer.whole_pass)
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
        with self.exclusive("read w"):
            return self.core.w

    @property
    def state(self) -> dict[str, Any]:
        """The run's current state in true (unscaled) units, as a new dict of copies.

        Keys: ``t`` (int, steps taken), ``w`` ((d,) iterate), ``scale_exponent`` (int E, the
        engine's gradient scale: it stores gradients and optimizer states as g * 2^-E) and the
        optimizer's state vectors, each (d,) in the run dtype and in the units of the update rule:

        * Adam, RMSProp: ``m`` (first moment, m = beta1 m + (1-beta1) g) and ``v`` (second moment,
          v = beta2 v + (1-beta2) g**2), before bias correction;
        * Signum, Lion: ``m`` (momentum);
        * AdaGrad: ``v`` (sum of g**2);
        * GD, SignGD, AdamProxy, AdamEpochMap: none (stateless; one step sees only w).

        Late in a run the true moments can underflow to 0 (the engine keeps them scaled, so the run
        itself is unaffected): ``m * 2^-E`` and ``v * 2^-2E`` are the engine's working values.
        """
        with self.exclusive("read state"):
            saved = self.core.save_state()
        exponent = int(saved["scale_exponent"])
        out: dict[str, Any] = {"t": int(saved["t"]), "w": saved["w"], "scale_exponent": exponent}
        for key, value in saved["optimizer"].items():
            if key in STATE_POWERS:
                shift = max(-_LDEXP_CLAMP, min(_LDEXP_CLAMP, STATE_POWERS[key] * exponent))
                out[key] = np.ldexp(value, shift).astype(self.dtype)
        return out

    def plan(self, target: int, checkpoints: int) -> None:
        """Prepare checkpoints for advancing to step ``target``: ~``checkpoints`` log-spaced steps
        over the horizon plus ``target`` itself (a run of 0 steps records its starting point).

        The density is that of a single ``advance(target)`` from 0, so advancing in several calls,
        alone or in an ensemble, records exactly the same checkpoints. The grid has at most one
        point per step (more checkpoints than steps record every step), and its memory is checked
        before anything is allocated (:func:`.grid.new_checkpoints`).

        Args:
            target: the step to plan up to (>= the current step).
            checkpoints: about how many log-spaced checkpoints over the horizon.
        """
        with self.exclusive("plan"):
            if target <= self.t:
                if self.core.checkpoint_count == 0:
                    self.core.record()
                return
            points = new_checkpoints(
                int(self.core.grid_end), target, checkpoints, d=self.data.d, itemsize=self.dtype.itemsize
            )
            self.core.extend_grid(points)

    def check_finite(self) -> None:
        """Warn when the iterate is no longer finite (the run diverged), or when it is but the last
        checkpoint's norm, margin or loss overflowed the dtype (margins beyond ~1e308 in float64)."""
        if not np.all(np.isfinite(self.core.w)):
            warnings.warn(
                f"the iterate is no longer finite at step {self.t}: the run diverged (learning rate too large?)",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        record = self.core.checkpoints()
        last = [record[key][-1:] for key in ("norm", "min_margin", "log_loss")]
        if not all(np.all(np.isfinite(v)) for v in last):
            warnings.warn(
                f"the checkpoint diagnostics at step {int(record['steps'][-1])} overflow {self.dtype.name} "
                "(the iterate is finite, its margins are not representable): norm, margins or loss read "
                "inf / NaN there; dtype='longdouble' has a wider range",
                RuntimeWarning,
                stacklevel=3,
            )

    def advance(self, steps: int, *, checkpoints: int = 200, progress: bool = False) -> Trajectory:
        """Take ``steps`` more steps and return the whole trajectory so far.

        Checkpoints are ~``checkpoints`` log-spaced steps over the planned horizon, plus the last
        step (at most one per step). Ctrl-C raises KeyboardInterrupt within a fraction of a second
        and leaves this run consistent at a step boundary, with a checkpoint at the step where it
        stopped: call ``advance`` again (or ``save``) to continue; the state, and every checkpoint of
        the grid, are bit for bit those of the uninterrupted run.

        Args:
            steps: how many more steps (>= 0).
            checkpoints: about how many log-spaced checkpoints over the planned horizon.
            progress: show a progress bar.

        Returns:
            The :class:`Trajectory` of every checkpoint so far.

        Raises:
            KeyboardInterrupt: on Ctrl-C, with the run left consistent at a step boundary.
        """
        steps = check_step_count("steps", steps, 0, MAX_STEPS - self.t)
        checkpoints = check_int("checkpoints", checkpoints, 1)
        with self.exclusive("advance"):
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
        with self.exclusive("read the trajectory"):
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
        with self.exclusive("save"):
            state = self.core.save_state()
        write_npz(path, run_arrays(self.config, self.data.X, self.data.y, self.w0, state), kind="run")

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Run:
        """Recreate a run saved with :meth:`save`; advancing it continues bit for bit.

        Every field is checked before the engine sees it (checksum, dtype, shape, finiteness, the
        configuration, the step counter against the checkpoint grid and the sampler position, the
        permutation, the generator state, the optimizer state; see :mod:`.runfile`): a missing,
        truncated, corrupted or edited file raises :class:`RunFileError` naming the file and the
        field. Files are read without pickle, so a crafted file cannot execute code. The data are
        not checked for separability again.

        Args:
            path: the file written by :meth:`save`.

        Returns:
            The :class:`Run`, at the step it was saved at.

        Raises:
            RunFileError: when the file is missing, truncated, corrupted or edited.
        """
        return load_run(cls, path)
