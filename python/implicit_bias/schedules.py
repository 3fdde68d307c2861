"""Learning-rate schedules eta_t for the step counter t = 0, 1, 2, ...

* ``constant(eta0)``: eta_t = eta0
* ``polynomial(eta0, power)``: eta_t = eta0 * (t + 1) ** (-power), 0 < power <= 1
* ``step_decay(eta0, factor, every)``: eta_t = eta0 * factor ** (t // every); ``every="epoch"``
  means ceil(n / batch_size) steps (one pass over the data), i.e. per-epoch decay.

Adding a schedule means one more kind here and one case in ``cpp/include/implicit_bias/schedule.hpp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from ._validation import check_int, check_real


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule; call it with a step (or an array of steps) to evaluate eta_t."""

    kind: str
    eta0: float
    power: float = 0.0
    factor: float = 1.0
    every: Union[int, str] = 1

    def resolved_every(self, steps_per_epoch: int) -> int:
        """``every`` as a number of steps (``"epoch"`` becomes ``steps_per_epoch``)."""
        return steps_per_epoch if self.every == "epoch" else int(self.every)

    def __call__(self, t: int | np.ndarray, steps_per_epoch: int = 1) -> float | np.ndarray:
        t_arr = np.asarray(t, dtype=np.float64)
        if self.kind == "constant":
            out = np.full_like(t_arr, self.eta0)
        elif self.kind == "polynomial":
            out = self.eta0 * (t_arr + 1.0) ** (-self.power)
        else:
            out = self.eta0 * self.factor ** np.floor(t_arr / self.resolved_every(steps_per_epoch))
        return float(out) if np.ndim(out) == 0 else out


def constant(eta0: float) -> Schedule:
    """eta_t = eta0 (> 0)."""
    return Schedule("constant", check_real("eta0", eta0, 0.0, low_open=True))


def polynomial(eta0: float, power: float = 0.5) -> Schedule:
    """eta_t = eta0 * (t + 1) ** (-power) with eta0 > 0 and 0 < power <= 1."""
    return Schedule(
        "polynomial",
        check_real("eta0", eta0, 0.0, low_open=True),
        power=check_real("power", power, 0.0, 1.0, low_open=True),
    )


def step_decay(eta0: float, factor: float, every: int | str = "epoch") -> Schedule:
    """eta_t = eta0 * factor ** (t // every), 0 < factor <= 1; ``every`` in steps or ``"epoch"``."""
    if every != "epoch":
        every = check_int("every", every, 1)
    return Schedule(
        "step_decay",
        check_real("eta0", eta0, 0.0, low_open=True),
        factor=check_real("factor", factor, 0.0, 1.0, low_open=True),
        every=every,
    )


def as_schedule(lr: float | Schedule) -> Schedule:
    """Accept a positive number (constant schedule) or a :class:`Schedule`."""
    if isinstance(lr, Schedule):
        return lr
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"lr: must be a positive number or an ib.schedules schedule, got {lr!r}")
    return Schedule("constant", check_real("lr", lr, 0.0, low_open=True))
