"""Limits found by running the engine: the epoch map iterated until its direction settles.

:func:`epoch_map_limit` predicts finite-beta2 cyclic Adam (our extension of the original study,
SPEC "Beyond the original study"): it iterates Prop. 2.5's epoch map (:class:`ib.AdamEpochMap`, one
engine step = one epoch, all batch gradients at the epoch's start) with a decaying learning rate
and doubles the horizon until the direction stops moving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .. import optimizers as _opt
from .._validation import check_int, check_real
from ..metrics import cosines_of_rows
from ..schedules import Schedule, as_schedule, polynomial
from .runner import Run
from .trajectory import Trajectory

__all__ = ["EpochMapLimit", "epoch_map_limit"]


@dataclass(repr=False)
class EpochMapLimit:
    """The direction the epoch map settles on.

    Attributes:
        w: (d,) unit-l2 direction at the last horizon.
        steps: epochs (engine steps) taken.
        last_change: 1 - cos between the directions at the last two horizons (t/2 and t).
        settled: whether ``last_change <= tol`` was reached before ``max_steps``.
        message: what happened, in words.
        beta1, beta2, batch_size: the map's parameters (K = ceil(n / batch_size) batches per epoch).
        trajectory: the run's checkpoints.
    """

    w: np.ndarray
    steps: int
    last_change: float
    settled: bool
    message: str
    beta1: float
    beta2: float
    batch_size: int
    trajectory: Trajectory
    kind: str = "epoch_map"

    def __repr__(self) -> str:
        return (
            f"EpochMapLimit(beta1={self.beta1}, beta2={self.beta2}, batch_size={self.batch_size}, steps={self.steps}, "
            f"last_change={self.last_change:.1e}, settled={self.settled})"
        )


def epoch_map_limit(
    X: ArrayLike,
    y: ArrayLike,
    optimizer: _opt.Optimizer,
    *,
    batch_size: int = 1,
    lr: float | Schedule | None = None,
    tol: float = 1e-7,
    min_steps: int = 2**12,
    max_steps: int = 2**23,
    dtype: DTypeLike | None = None,
) -> EpochMapLimit:
    """Iterate the epoch map of ``optimizer`` (an ``ib.Adam`` / ``ib.RMSProp`` with eps = 0, or an
    ``ib.AdamEpochMap``) on (X, y) until its direction settles.

    The horizon doubles from ``min_steps`` epochs until the direction moves by at most ``tol``
    (1 - cos) over the last doubling, or ``max_steps`` epochs are reached (then ``settled=False``
    and the message says so). The remaining error of the direction is about the last change:
    tol = 1e-7 takes ~1e6 epochs (~2 s at n = 10, d = 50, b = 1), 1e-8 about 8e6.

    Args:
        X: data, shape (n, d), float64 or np.longdouble.
        y: labels, shape (n,), in {-1, +1}.
        optimizer: an ``ib.Adam`` / ``ib.RMSProp`` with eps = 0, or an ``ib.AdamEpochMap``; only
            its beta1 and beta2 are used.
        batch_size: samples per batch in [1, n] (K = ceil(n / batch_size) batches per epoch).
        lr: a positive number or a schedule; default ``polynomial(0.1, 0.5)`` (the limit needs a
            decaying rate; eta0 = 0.1 settles faster than larger rates).
        tol: the settling threshold on 1 - cos over the last doubling (> 0).
        min_steps: the first horizon, in epochs (int >= 1).
        max_steps: the largest horizon, in epochs (int >= ``min_steps``).
        dtype: np.float64 or np.longdouble; default: np.longdouble if X is, else np.float64.

    Returns:
        The :class:`EpochMapLimit`: the unit-l2 direction (d,) in float64, the epochs taken, the
        last change, whether it settled, and the run's trajectory.

    Raises:
        ValueError: for beta1 > beta2 (no prediction there: the runs match neither the map nor the
            beta2 -> 1 fixed point), for eps > 0, and for an argument out of range (``tol``,
            ``min_steps``, ``max_steps``, ``lr``, ``batch_size``, the data).
        TypeError: when ``optimizer`` is not an ``ib.Adam``, ``ib.RMSProp`` or ``ib.AdamEpochMap``.
    """
    if isinstance(optimizer, _opt.AdamEpochMap):
        beta1, beta2 = float(optimizer.beta1), float(optimizer.beta2)
    elif isinstance(optimizer, _opt.Adam):
        if float(optimizer.eps) != 0.0:
            raise ValueError(f"optimizer: the epoch map is the eps = 0 theory; got eps = {optimizer.eps}")
        beta1, beta2 = float(optimizer.beta1), float(optimizer.beta2)
    else:
        raise TypeError(f"optimizer: must be ib.Adam, ib.RMSProp or ib.AdamEpochMap, got {optimizer!r}")
    if beta1 > beta2:
        raise ValueError(
            f"optimizer: beta1 = {beta1} > beta2 = {beta2}: cyclic Adam matches neither the epoch map nor the "
            "beta2 -> 1 fixed point there, so the map's limit is no prediction"
        )
    tol = check_real("tol", tol, 0.0, low_open=True)
    min_steps = check_int("min_steps", min_steps, 1)
    max_steps = check_int("max_steps", max_steps, min_steps)
    schedule = polynomial(0.1, 0.5) if lr is None else as_schedule(lr)
    run = Run(
        X,
        y,
        _opt.AdamEpochMap(beta1=beta1, beta2=beta2),
        batch_size=batch_size,
        order="cyclic",
        lr=schedule,
        dtype=dtype,
    )
    run.advance(min_steps, checkpoints=20)
    previous = run.w
    change = np.inf
    while run.t < max_steps:
        run.advance(min(run.t, max_steps - run.t), checkpoints=20)
        current = run.w
        change = float(1.0 - cosines_of_rows(current[None, :], previous)[0])
        previous = current
        if change <= tol:
            break
    settled = change <= tol
    message = (
        f"settled after {run.t} epochs: the direction moved by {change:.1e} (1 - cos) over the last doubling"
        if settled
        else f"did NOT settle within max_steps = {max_steps} epochs: the last doubling still moved the direction by "
        f"{change:.1e} > tol {tol:.1e}; raise max_steps or treat w as approximate"
    )
    w = np.asarray(previous, dtype=np.float64)
    return EpochMapLimit(
        w=w / np.linalg.norm(w),
        steps=run.t,
        last_change=change,
        settled=settled,
        message=message,
        beta1=beta1,
        beta2=beta2,
        batch_size=run.batch_size,
        trajectory=run.trajectory(),
    )
