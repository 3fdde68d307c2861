"""Checkpoint grids: the log-spaced steps at which a run records its state.

A grid is planned for the whole horizon of an ``advance`` before the first step (Python computes
the new points, the compiled run merges them into its grid; the grid itself never comes back
to Python), so advancing in
rounds (progress bars, Ctrl-C) or in an ensemble records the same checkpoints as one call. A grid
never has more points than the steps it covers: asking for more checkpoints than steps records
every step, and nothing is allocated for the excess.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_fits

__all__ = ["log_grid", "new_checkpoints", "CHECKPOINT_FIELDS"]

#: Scalars stored per checkpoint besides the iterate w (steps, norm, log_loss, two margins,
#: min_margin, scale_exponent), for the memory estimate.
CHECKPOINT_FIELDS = 7


def log_grid(start: int, stop: int, count: int) -> np.ndarray:
    """About ``count`` log-spaced integer steps in (start, stop], always including ``stop``.

    Returns a uint64 array of at most ``stop - start`` strictly increasing steps: when
    ``count >= stop - start`` it is every step in (start, stop].

    Args:
        start: the step the grid starts after (int >= 0; not included).
        stop: the last step of the grid (included).
        count: about how many points (int >= 1).

    Returns:
        The steps, shape (m,) with m <= ``stop - start``, uint64, strictly increasing, ending at
        ``stop``; empty when ``stop <= start``.
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


def new_checkpoints(end: int, target: int, checkpoints: int, *, d: int, itemsize: int) -> np.ndarray:
    """The checkpoint steps to add to the grid of a run whose grid ends at step ``end`` (0 with no
    grid) so that it advances to ``target`` with ~``checkpoints`` log-spaced points over the
    horizon; a uint64 array, sorted, every step in (end, target], ``target`` always included (the
    final step of an advance is always recorded; when ``end >= target`` that is the only point).

    The density is that of a single advance to ``target`` from 0. Before anything is built, the
    checkpoints' memory (at most ``target - end`` new points of ``d`` coordinates of ``itemsize``
    bytes plus :data:`CHECKPOINT_FIELDS` scalars) is checked against the machine's
    (:func:`implicit_bias._validation.check_fits`, a ValueError naming ``checkpoints``).

    Args:
        end: the last step of the run's grid (int >= 0; 0 with no grid).
        target: the step the run advances to.
        checkpoints: about how many log-spaced checkpoints over the horizon (int >= 1).
        d: the dimension of the iterate.
        itemsize: bytes per scalar of the run's dtype (8 for float64).

    Returns:
        The new steps, shape (m,), uint64, sorted, in (end, target] and ending at ``target``; just
        ``[target]`` when ``end >= target``.

    Raises:
        ValueError: (naming ``checkpoints``) when the new checkpoints would need more memory than
            this machine has.
    """
    if end >= target:
        return np.array([target], dtype=np.uint64)
    if end == 0:
        count = checkpoints
    else:
        count = max(2, math.ceil(checkpoints * math.log(target / end) / math.log(target)))
    rows = min(count, target - end) + 1
    check_fits(
        "checkpoints",
        rows * (d + CHECKPOINT_FIELDS) * itemsize,
        f"recording {rows} checkpoints",
        f"d = {d}; at most one checkpoint per step",
    )
    return log_grid(end, target, count)
