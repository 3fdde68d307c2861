"""The engine's Python side: runs, trajectories, ensembles and their files.

* :mod:`.run` — :class:`Run` (advance / state / save / load, bit-for-bit resume), :func:`train`;
* :mod:`.prepared` — :class:`PreparedData` (validated data shared by runs, the separability check);
* :mod:`.grid` — checkpoint grids (log-spaced, at most one point per step);
* :mod:`.runfile` — the run file's fields and their checks;
* :mod:`.trajectory` — :class:`Trajectory`, the checkpoints of one run;
* :mod:`.ensemble` — :func:`train_many` and :func:`advance_many` (OpenMP ensembles, progress);
* :mod:`.limits` — :func:`epoch_map_limit` (the epoch map run until its direction settles);
* :mod:`.driver` — the one loop that advances compiled runs, in rounds when progress is shown;
* :mod:`.persistence` — ``.npz`` files: atomic writes, checked reads, :class:`RunFileError`.
"""

from __future__ import annotations

from .ensemble import advance_many, train_many
from .grid import log_grid
from .limits import EpochMapLimit, epoch_map_limit
from .prepared import PreparedData
from .run import Run, train
from .trajectory import Trajectory

__all__ = [
    "EpochMapLimit",
    "epoch_map_limit",
    "PreparedData",
    "Run",
    "Trajectory",
    "advance_many",
    "log_grid",
    "train",
    "train_many",
]
