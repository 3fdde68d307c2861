"""From a normalized configuration to the engine: its keyword arguments and its memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ... import optimizers as _opt
from ... import schedules as _sched
from ..._validation import DTYPE_NAMES, check_fits


def run_bytes(config: Mapping[str, Any], d: int) -> int:
    """Bytes one run of a normalized configuration holds at most.

    Args:
        config: a normalized configuration.
        d: the data's dimension.

    Returns:
        The bytes of its checkpoints (at most ``min(checkpoints, steps) + 1`` rows of d + 7 values)
        and its state vectors.
    """
    itemsize = np.dtype(DTYPE_NAMES[config["dtype"]]).itemsize
    rows = min(int(config["checkpoints"]), int(config.get("steps", config["checkpoints"]))) + 1
    return rows * (d + 7) * itemsize + 8 * d * itemsize + 16 * int(config["checkpoints"])


def check_run_sizes(d: int, configs: Sequence[Mapping[str, Any]]) -> None:
    """Refuse runs whose checkpoints and states, together, cannot fit in memory.

    Args:
        d: the data's dimension.
        configs: the runs' normalized configurations.

    Raises:
        ValueError: (from ``check_fits``) naming ``checkpoints`` and the size in bytes.
    """
    total = sum(run_bytes(c, d) for c in configs)
    check_fits(
        "checkpoints",
        total,
        f"{len(configs)} run{'s' if len(configs) > 1 else ''} of d = {d} with up to {max(int(c['checkpoints']) for c in configs)} checkpoints",
    )


def resolve_batch(config: Mapping[str, Any], n: int) -> int:
    """The batch size of a normalized configuration on n samples ("n" -> n).

    Raises:
        ValueError: ``batch_size`` exceeds n.
    """
    b = config["batch_size"]
    if b == "n":
        return n
    if b > n:
        raise ValueError(f"batch_size: {b} exceeds the number of samples n = {n}")
    return int(b)


def run_kwargs(config: Mapping[str, Any], n: int) -> dict[str, Any]:
    """The keyword arguments of ``ib.train`` / ``ib.Run`` for a normalized configuration.

    Args:
        config: a normalized configuration.
        n: the number of samples of its data.

    Returns:
        ``optimizer`` (an Optimizer), ``batch_size`` (int), ``order``, ``lr`` (a Schedule), ``loss``, ``seed``.
    """
    return {
        "optimizer": _opt.from_description(dict(config["optimizer"])),
        "batch_size": resolve_batch(config, n),
        "order": config["order"],
        "lr": _sched.from_dict(config["lr"]),
        "loss": config["loss"],
        "seed": config["seed"],
    }
