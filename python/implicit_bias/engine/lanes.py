"""Lane groups: which runs of an ensemble the engine advances step-interleaved in one thread.

A run at small d is latency-bound (one dependency chain dot -> exp -> sqrt -> divide per step); the
engine advances a *lane group* of K compatible runs one step each in turn in one thread, so their
chains overlap (``cpp/include/implicit_bias/lanes.hpp``). Every run's result stays bit-identical to
running it alone. Runs are compatible when they share the data, the loss, the optimizer kind, the
batch size, the order and the precision; they may differ in every hyper-parameter, schedule, seed,
start point and horizon. :func:`plan_lanes` groups the runs of an ensemble, at most
:func:`lane_width` per group and at least as many groups as threads when there are enough runs, runs
of similar remaining horizon together.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

__all__ = ["lane_key", "lane_width", "plan_lanes", "LANE_WIDTHS"]

#: Runs per lane group by the data's column count d: (largest d, K), the first row that fits applies
#: (measured with bench/engine.py's lanes section; beyond the last row runs advance alone).
LANE_WIDTHS: tuple[tuple[int, int], ...] = ((4, 8), (16, 4), (128, 2))


def lane_width(d: int) -> int:
    """Runs per lane group at column count ``d`` (1: no interleaving)."""
    for top, width in LANE_WIDTHS:
        if d <= top:
            return width
    return 1


def lane_key(run: Any) -> Hashable:
    """What runs of one lane group share: data, loss, optimizer kind, batch size, order, dtype."""
    return (
        id(run.data),
        run.loss,
        type(run.optimizer).__name__,
        run.optimizer.core_params()["kind"],  # the compiled rule (Signum(beta=0) runs as SignGD)
        run.batch_size,
        run.order,
        run.dtype.str,
    )


def plan_lanes(
    runs: Sequence[Any], remaining: Sequence[int], threads: int, width: int | None = None
) -> list[list[int]]:
    """A partition of ``range(len(runs))`` into lane groups.

    Compatible runs (:func:`lane_key`) are sorted by remaining steps and cut into contiguous groups
    of at most ``width``, into at least ``min(threads, count)`` groups so that every thread has work.

    Args:
        runs: the runs of the ensemble (:class:`Run`-like: ``data``, ``loss``, ``optimizer``,
            ``batch_size``, ``order``, ``dtype``).
        remaining: ``remaining[k]``: steps run k still has to go (runs with 0 are left alone).
        threads: how many threads will take groups (0 = unknown, taken as 1).
        width: runs per group (default :func:`lane_width` of the data's d; values below 1 count as 1).

    Returns:
        The groups, lists of indices into ``runs``: the groups of compatible runs, largest total
        remaining steps first, then one single-run group per run with nothing left to do.
    """
    by_key: dict[Hashable, list[int]] = {}
    alone: list[list[int]] = []
    for k, run in enumerate(runs):
        if remaining[k] <= 0:
            alone.append([k])
        else:
            by_key.setdefault(lane_key(run), []).append(k)
    groups: list[list[int]] = []
    for members in by_key.values():
        size = max(1, width if width is not None else lane_width(runs[members[0]].data.d))
        members.sort(key=lambda k: remaining[k])
        count = max(math.ceil(len(members) / size), min(max(threads, 1), len(members)))
        base, extra = divmod(len(members), count)
        start = 0
        for g in range(count):
            stop = start + base + (1 if g < extra else 0)
            groups.append(members[start:stop])
            start = stop
    # Largest groups first: OpenMP hands them out in this order (dynamic schedule).
    groups.sort(key=lambda g: -sum(remaining[k] for k in g))
    return groups + alone
