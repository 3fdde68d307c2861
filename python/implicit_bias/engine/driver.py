"""The one loop that advances compiled runs to their targets, in rounds when progress is shown.

Every public driver (``Run.advance``, ``train``, ``train_many``, the experiments' ensembles) ends
up here, so they cannot drift apart. A round returns to Python only to update a progress bar and to
let Ctrl-C through; the compiled loop itself checks signals between chunks, so a KeyboardInterrupt
arrives within a fraction of a second and leaves every run at a consistent step boundary. Rounds do
not change results: the checkpoint grid is planned for the whole horizon before the first step.
On Ctrl-C every run also records a checkpoint at the step where it stopped (:func:`record_stops`),
so its trajectory ends at the last step taken; that extra checkpoint changes neither the run's
state nor its grid, so a resumed run stays bit for bit the uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["drive", "record_stops"]


def drive(
    cores: Sequence[Any],
    targets: Sequence[int],
    advance_ensemble: Callable[[list[Any], list[int], int, list[list[int]] | None], None],
    *,
    threads: int = 0,
    lanes: Sequence[Sequence[int]] | None = None,
    on_progress: Callable[[int], None] | None = None,
    round_seconds: float = 0.5,
) -> None:
    """Advance compiled runs ``cores[k]`` (with a ``t`` attribute) to ``targets[k]``.

    ``advance_ensemble(cores, stops, threads, lanes)`` is the engine's OpenMP loop (threads = 0: all
    cores; ``lanes``: None, or a partition of the indices into lane groups, see :mod:`.lanes`).
    Without ``on_progress`` this is one call; with it, rounds of about ``round_seconds``, after each
    of which ``on_progress(steps done in that round)`` is called.

    Args:
        cores: the compiled runs (each with a ``t`` attribute, its current step).
        targets: the step each run is advanced to, one int per core (a core already at or past its
            target takes no step).
        advance_ensemble: the engine's OpenMP loop, called as ``advance_ensemble(cores, stops,
            threads, lanes)``.
        threads: OpenMP threads (int >= 0; 0: all cores).
        lanes: None, or a partition of the indices of ``cores`` into lane groups (see :mod:`.lanes`).
        on_progress: called after each round with the number of steps taken in it (summed over the
            runs); None: one call, no rounds.
        round_seconds: the wall-clock length each round aims at, in seconds (only with ``on_progress``).

    Raises:
        KeyboardInterrupt: on Ctrl-C, after every run has recorded a checkpoint at the step where it
            stopped (:func:`record_stops`).
    """
    try:
        _drive(cores, targets, advance_ensemble, threads, lanes, on_progress, round_seconds)
    except KeyboardInterrupt:
        record_stops(cores)
        raise


def record_stops(cores: Sequence[Any]) -> None:
    """Record a checkpoint at the current step of every compiled run that has none there yet."""
    for core in cores:
        if not core.recorded_now:
            core.record()


def _drive(
    cores: Sequence[Any],
    targets: Sequence[int],
    advance_ensemble: Callable[[list[Any], list[int], int, list[list[int]] | None], None],
    threads: int,
    lanes: Sequence[Sequence[int]] | None,
    on_progress: Callable[[int], None] | None,
    round_seconds: float,
) -> None:
    groups = None if lanes is None else [list(g) for g in lanes]
    if on_progress is None:
        advance_ensemble(list(cores), [int(t) for t in targets], threads, groups)
        return
    fraction = 1e-3
    while True:
        active = [k for k, core in enumerate(cores) if core.t < targets[k]]
        if not active:
            return
        stops = [min(targets[k], cores[k].t + max(1, math.ceil(fraction * targets[k]))) for k in active]
        before = sum(cores[k].t for k in active)
        started = time.perf_counter()
        position = {k: p for p, k in enumerate(active)}
        round_groups = (
            None if groups is None else [m for g in groups if (m := [position[k] for k in g if k in position])]
        )
        advance_ensemble([cores[k] for k in active], stops, threads, round_groups)
        elapsed = time.perf_counter() - started
        on_progress(sum(cores[k].t for k in active) - before)
        # aim the next round at round_seconds, changing its length by at most 4x per round
        fraction = min(1.0, max(1e-3, fraction * min(4.0, max(0.25, round_seconds / max(elapsed, 1e-4)))))
