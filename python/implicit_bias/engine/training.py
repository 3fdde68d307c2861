"""The one-call driver: :func:`train` builds a :class:`Run`, advances it and attaches references."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import optimizers as _opt
from .._validation import MAX_STEPS, check_int, check_step_count
from ..schedules import Schedule
from .runner import Run
from .trajectory import Trajectory, reference_vector


def check_references(references: Any, dtype: np.dtype, d: int) -> None:
    """Refuse, before a run starts, ``references`` that :meth:`Trajectory.attach` would refuse after
    it: not a mapping name -> direction, or a direction that is not a nonzero (d,) vector."""
    if references is None:
        return
    if not isinstance(references, Mapping):
        raise TypeError("references: must be a mapping name -> direction")
    for name, ref in references.items():
        reference_vector(f"references[{name!r}]", ref, dtype, d)


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
    check_separable: bool = True,
) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps and return its :class:`Trajectory`.

    See :class:`Run` for the arguments. ``references`` maps names to reference directions (arrays
    of shape (d,) or results with ``.w``, e.g. from ``ib.max_margin``); the trajectory then holds
    ``cosine[name]`` (and ``margin_ratio[name]`` when the reference has ``.norm`` and ``.gamma``).
    ``check_separable``: warn with the reason when the data are not separable (see
    :class:`PreparedData`; False skips the check). Every argument is checked before the first
    step. On Ctrl-C the KeyboardInterrupt carries the consistent, resumable run as ``exc.run`` and
    its trajectory up to the step where it stopped as ``exc.trajectory``.
    """
    steps = check_step_count("steps", steps, 0, MAX_STEPS)
    checkpoints = check_int("checkpoints", checkpoints, 1)
    if references is not None and not isinstance(references, Mapping):
        raise TypeError("references: must be a mapping name -> direction")
    run = Run(
        X,
        y,
        optimizer,
        batch_size=batch_size,
        order=order,
        lr=lr,
        loss=loss,
        dtype=dtype,
        seed=seed,
        w0=w0,
        check_separable=check_separable,
    )
    check_references(references, run.dtype, run.data.d)
    try:
        traj = run.advance(steps, checkpoints=checkpoints, progress=progress)
    except KeyboardInterrupt as exc:
        exc.run = run  # type: ignore[attr-defined]
        exc.trajectory = run.trajectory()  # type: ignore[attr-defined]
        raise
    if references:
        traj.attach(references, run.X, run.y)
    return traj
