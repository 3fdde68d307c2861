"""Checkpoint grids: the log-spaced steps at which a run records its state.

A grid is planned for the whole horizon of an ``advance`` before the first step, so advancing in
rounds (progress bars, Ctrl-C) or in an ensemble records the same checkpoints as one call. A grid
never has more points than the steps it covers: asking for more checkpoints than steps records
every step, and nothing is allocated for the excess.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_fits

__all__ = ["log_grid", "extended_grid", "CHECKPOINT_FIELDS"]

#: Scalars stored per checkpoint besides the iterate w (steps, norm, log_loss, two margins,
#: min_margin, scale_exponent), for the memory estimate.
CHECKPOINT_FIELDS = 7


def log_grid(start: int, stop: int, count: int) -> np.ndarray:
    """About ``count`` log-spaced integer steps in (start, stop], always including ``stop``.

    Returns a uint64 array of at most ``stop - start`` strictly increasing steps: when
    ``count >= stop - start`` it is every step in (start, stop].
    """
    if stop <= start:
        return np.zeros(0, dtype=np.uint64)
    if count >= stop - start:
        return np.arange(start + 1, stop + 1, dtype=np.uint64)
    pts = np.geomspace(max(start, 1), stop, num=count)
    grid = np.unique(np.round(pts).astype(np.uint64))
    grid = grid[grid > start]
    if grid.size == 0 or grid[-1] != stop:
        grid = np.append(grid, np.uint64(stop))
    return grid.astype(np.uint64)


def extended_grid(
    grid: np.ndarray, t: int, target: int, checkpoints: int, *, d: int, itemsize: int
) -> np.ndarray | None:
    """The grid of a run at step ``t`` (``grid``: its current grid) that advances to ``target``
    (> t) with ~``checkpoints`` log-spaced points over the horizon, or None when ``grid`` already
    serves (it holds ``target``).

    The density is that of a single advance to ``target`` from 0. Before anything is built, the
    checkpoints' memory (at most ``target - t`` new points of ``d`` coordinates of ``itemsize``
    bytes plus :data:`CHECKPOINT_FIELDS` scalars) is checked against the machine's
    (:func:`implicit_bias._validation.check_fits`, a ValueError naming ``checkpoints``).
    """
    if grid.size and int(grid[-1]) >= target:
        if target in grid:
            return None
        # the final step of this call is always recorded
        return np.union1d(grid, np.array([target], dtype=np.uint64)).astype(np.uint64)
    start = int(grid[-1]) if grid.size else 0
    if start == 0:
        count = checkpoints
    else:
        count = max(2, math.ceil(checkpoints * math.log(target / start) / math.log(target)))
    rows = min(count, target - start) + 1
    check_fits(
        "checkpoints",
        rows * (d + CHECKPOINT_FIELDS) * itemsize,
        f"recording {rows} checkpoints",
        f"d = {d}; at most one checkpoint per step",
    )
    return np.union1d(grid, log_grid(start, target, count)).astype(np.uint64)
