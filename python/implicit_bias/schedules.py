"""Learning-rate schedules eta_t for the step counter t = 0, 1, 2, ...

* ``constant(eta0)``: eta_t = eta0
* ``polynomial(eta0, power)``: eta_t = eta0 * (t + 1) ** (-power), 0 < power <= 1
* ``step_decay(eta0, factor, every)``: eta_t = eta0 * factor ** (t // every); ``every="epoch"``
  means one pass over the data: ceil(n / batch_size) steps, or one step for the optimizers whose
  step is already a whole pass (``AdamProxy``, ``AdamEpochMap``, whatever their ``batch_size``).

Adding a schedule means one more kind here and one case in ``cpp/include/implicit_bias/schedule.hpp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_choice, check_int, check_real

KINDS = ("constant", "polynomial", "step_decay")


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule (validated on construction; evaluated by the compiled core).

    ``kind`` in :data:`KINDS`; ``eta0 > 0``; ``power`` in (0, 1] for "polynomial" (else 0);
    ``factor`` in (0, 1] for "step_decay" (else 1); ``every`` a step count >= 1 or ``"epoch"``.
    """

    kind: str
    eta0: float
    power: float = 0.0
    factor: float = 1.0
    every: int | str = 1

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_real("eta0", self.eta0, 0.0, low_open=True)
        if self.kind == "polynomial":
            check_real("power", self.power, 0.0, 1.0, low_open=True)
        elif self.power != 0.0:
            raise ValueError(f"power: only a polynomial schedule has a power, got {self.power!r}")
        if self.kind == "step_decay":
            check_real("factor", self.factor, 0.0, 1.0, low_open=True)
            if self.every != "epoch":
                check_int("every", self.every, 1)
        elif self.factor != 1.0 or self.every != 1:
            raise ValueError("factor, every: only a step_decay schedule has them")

    def resolved_every(self, steps_per_epoch: int, *, whole_pass: bool = False) -> int:
        """``every`` as a number of steps: ``"epoch"`` becomes ``steps_per_epoch`` (ceil(n / batch
        size)), or 1 when each step is a ``whole_pass`` over the data (AdamProxy, AdamEpochMap:
        their batch size sets the epoch's partition, not the number of steps per epoch)."""
        if self.every != "epoch":
            return int(self.every)
        return 1 if whole_pass else check_int("steps_per_epoch", steps_per_epoch, 1)

    @property
    def decays(self) -> bool:
        """Whether eta_t -> 0 (the regime in which the implicit-bias theory holds)."""
        return self.kind != "constant"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description; :func:`from_dict` inverts it."""
        return {"kind": self.kind, "eta0": self.eta0, "power": self.power, "factor": self.factor, "every": self.every}


def from_dict(desc: Mapping[str, Any]) -> Schedule:
    """Inverse of :meth:`Schedule.to_dict` (missing fields take their defaults; errors name the field)."""
    unknown = set(desc) - {"kind", "eta0", "power", "factor", "every"}
    if unknown:
        raise ValueError(f"lr.{sorted(unknown)[0]}: unknown schedule field")
    if "kind" not in desc or "eta0" not in desc:
        raise ValueError("lr: a schedule needs 'kind' and 'eta0'")
    return Schedule(desc["kind"], desc["eta0"], desc.get("power", 0.0), desc.get("factor", 1.0), desc.get("every", 1))


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
    """eta_t = eta0 * factor ** (t // every), 0 < factor <= 1; ``every`` in steps or ``"epoch"``.

    Args:
        eta0: the initial learning rate (> 0).
        factor: the decay factor applied every ``every`` steps, in (0, 1].
        every: the decay period, a step count (int >= 1) or ``"epoch"`` (one pass over the data:
            ceil(n / batch_size) steps, or one step for the whole-pass optimizers; see the module
            docstring).

    Returns:
        The "step_decay" :class:`Schedule`.

    Raises:
        TypeError: when ``every`` is neither ``"epoch"`` nor an integer, or ``eta0`` / ``factor``
            is not a real number.
        ValueError: when ``every`` < 1, ``eta0`` <= 0 or not finite, or ``factor`` is outside (0, 1].
    """
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
