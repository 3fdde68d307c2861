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
    it: not a mapping name -> direction, or a direction that is not a nonzero (d,) vector.

    Args:
        references: None (nothing to check) or a mapping name -> direction ((d,) array or a result
            with ``.w``).
        dtype: the run precision, np.float64 or np.longdouble.
        d: the dimension of the data.

    Raises:
        TypeError: when ``references`` is not a mapping, or a direction is not real-valued.
        ValueError: (naming ``references[name]``) when a direction is not 1-D with d entries, is
            not finite, or is zero.
    """
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

    See :class:`Run` for the arguments, summarized here. Every argument is checked before the first
    step.

    Args:
        X: data, shape (n, d), float64 or np.longdouble (ints / float32 are converted exactly).
        y: labels, shape (n,), in {-1, +1}.
        optimizer: an :mod:`implicit_bias.optimizers` configuration, e.g. ``ib.Adam(beta2=0.99)``.
        steps: number of optimizer steps (int >= 0; a float with an integral value such as ``1e6``
            is accepted).
        batch_size: samples per step in [1, n]; default (None or "n") n, the full batch.
        order: "cyclic", "reshuffle" or "replacement" (see :class:`Run`).
        lr: a positive number (constant) or a schedule from :mod:`implicit_bias.schedules`.
        loss: "logistic" or "exponential".
        dtype: np.float64 or np.longdouble; default: np.longdouble if X is, else np.float64.
        checkpoints: about how many log-spaced checkpoints over the horizon (int >= 1).
        seed: seed of the sampler's xoshiro256** generator (0 <= seed < 2**64).
        w0: starting point, shape (d,); default zeros.
        references: maps names to reference directions (arrays of shape (d,) or results with ``.w``,
            e.g. from ``ib.max_margin``); the trajectory then holds ``cosine[name]`` (and
            ``margin_ratio[name]`` when the reference has ``.norm`` and ``.gamma``).
        progress: show a progress bar.
        check_separable: warn with the reason when the data are not separable (see
            :class:`PreparedData`; False skips the check).

    Returns:
        The :class:`Trajectory` of every checkpoint of the run.

    Raises:
        TypeError: when an argument has the wrong type (e.g. a non-integer ``steps``, ``references``
            not a mapping).
        ValueError: when an argument is out of range or malformed (the message names it).
        KeyboardInterrupt: on Ctrl-C; it carries the consistent, resumable run as ``exc.run`` and
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
