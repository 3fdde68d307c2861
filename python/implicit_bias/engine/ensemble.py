"""Many runs on one data set, advanced together on the engine's OpenMP threads.

:func:`train_many` is the one-call entry point; :func:`advance_many` is the driver behind it (and
behind the experiments' sweeps), with optional progress callbacks. Every result is bit-identical to
running that configuration alone with :func:`train`: each run keeps its own state, sampler and
checkpoint grid, and the grid is planned for the whole horizon before the first step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from typing import Any

from numpy.typing import ArrayLike, DTypeLike

from .. import _core
from .._validation import MAX_STEPS, check_int, check_step_count
from .driver import drive
from .lanes import plan_lanes
from .prepared import PreparedData, advance_ensemble
from .runner import Run
from .training import check_references
from .trajectory import Trajectory

__all__ = [
    "train_many",
    "advance_many",
    "runs_from_configs",
    "check_threads",
    "max_threads",
    "RUN_KEYS",
    "MAX_THREADS",
    "MAX_LANES",
]

#: Keys a configuration of :func:`train_many` may have (the keyword arguments of :class:`Run`).
RUN_KEYS = ("optimizer", "batch_size", "order", "lr", "loss", "seed", "w0")
#: Upper bound on ``threads`` (more threads than this only oversubscribes any machine we know).
MAX_THREADS = 4 * (os.cpu_count() or 1) + 64
#: Most runs in one lane group (the engine's limit).
MAX_LANES = int(_core.max_lanes_float64)


def max_threads() -> int:
    """Threads the engine uses by default (OpenMP's count; 1 without OpenMP)."""
    return int(_core.max_threads())


def check_threads(threads: int | None) -> int:
    """``threads`` as the engine's argument: None -> 0 (all cores), else an int in [1, MAX_THREADS]."""
    return 0 if threads is None else check_int("threads", threads, 1, MAX_THREADS)


def runs_from_configs(data: PreparedData, configs: Sequence[Mapping[str, Any]]) -> list[Run]:
    """One :class:`Run` per configuration (a mapping with ``optimizer`` and any of :data:`RUN_KEYS`)."""
    if isinstance(configs, Mapping) or not isinstance(configs, Sequence) or len(configs) == 0:
        raise TypeError("configs: must be a non-empty sequence of mappings")
    runs = []
    for k, cfg in enumerate(configs):
        if not isinstance(cfg, Mapping) or "optimizer" not in cfg:
            raise TypeError(f"configs[{k}]: must be a mapping with an 'optimizer'")
        unknown = set(cfg) - set(RUN_KEYS)
        if unknown:
            raise ValueError(f"configs[{k}]: unknown keys {sorted(unknown)}; allowed: {sorted(RUN_KEYS)}")
        kwargs = dict(cfg)
        runs.append(Run(data, None, kwargs.pop("optimizer"), **kwargs))
    return runs


def advance_many(
    runs: Sequence[Run],
    steps: Sequence[int],
    *,
    checkpoints: int | Sequence[int] = 200,
    threads: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    round_seconds: float = 0.5,
    lanes: bool | int = True,
) -> list[Trajectory]:
    """Advance ``runs[k]`` by ``steps[k]`` more steps, on OpenMP threads; return their trajectories.

    On Ctrl-C every run is left consistent at a step boundary (``runs`` can be saved or advanced
    again), and KeyboardInterrupt is re-raised.

    Args:
        runs: the runs to advance, each at most once, all in one precision (dtype).
        steps: how many more steps for each run, one int >= 0 per run (a float with an integral
            value such as ``1e6`` is accepted).
        checkpoints: about how many log-spaced checkpoints over each run's planned horizon (int >= 1):
            one count for all or one per run.
        threads: OpenMP threads, an int in [1, MAX_THREADS]; None: all cores.
        on_progress: called as ``on_progress(steps done)`` about every ``round_seconds`` (for
            progress bars); None: no callback.
        round_seconds: the interval between ``on_progress`` calls, in seconds.
        lanes: True (default) advances compatible runs (same data, loss, optimizer kind, batch size,
            order) in lane groups, step-interleaved in one thread (:mod:`.lanes`; results unchanged,
            bit for bit); an int sets the runs per group (in [1, MAX_LANES]); False advances every
            run alone.

    Returns:
        One :class:`Trajectory` per run, in the order of ``runs`` (every checkpoint so far); empty
        when ``runs`` is.

    Raises:
        ValueError: when a run appears twice, the runs differ in dtype, ``steps`` or ``checkpoints``
            has another length than ``runs``, or a step count, checkpoint count, ``threads`` or
            ``lanes`` is out of range (or the checkpoints would not fit in memory).
        TypeError: when a step count, checkpoint count, ``threads`` or an int ``lanes`` is not an
            integer.
        RuntimeError: when a run is busy in another thread.
        KeyboardInterrupt: on Ctrl-C, with every run consistent at a step boundary.
    """
    if not runs:
        return []
    if len({id(run) for run in runs}) != len(runs):
        raise ValueError("runs: the same Run appears more than once (each run can be advanced by one thread only)")
    nthreads = check_threads(threads)
    dtypes = {run.dtype for run in runs}
    if len(dtypes) != 1:
        raise ValueError("runs: an ensemble must share one precision (dtype)")
    if len(steps) != len(runs):
        raise ValueError(f"steps: got {len(steps)} step counts for {len(runs)} runs")
    counts = [checkpoints] * len(runs) if isinstance(checkpoints, int) else list(checkpoints)
    if len(counts) != len(runs):
        raise ValueError(f"checkpoints: got {len(counts)} counts for {len(runs)} runs")
    counts = [check_int("checkpoints", c, 1) for c in counts]
    width = None if lanes is True or lanes is False else check_int("lanes", lanes, 1, MAX_LANES)
    with ExitStack() as held:
        for run in runs:
            held.enter_context(run.exclusive("advance"))
        targets = []
        for run, s in zip(runs, steps):
            targets.append(run.t + check_step_count("steps", s, 0, MAX_STEPS - run.t))
        for run, target, c in zip(runs, targets, counts):
            run.plan(target, c)
        groups = None
        if lanes is not False:
            remaining = [t - run.t for run, t in zip(runs, targets)]
            groups = plan_lanes(runs, remaining, nthreads or max_threads(), width)
        drive(
            [r.core for r in runs],
            targets,
            advance_ensemble(dtypes.pop()),
            threads=nthreads,
            lanes=groups,
            on_progress=on_progress,
            round_seconds=round_seconds,
        )
        for run in runs:
            run.check_finite()
        return [run.trajectory() for run in runs]


def train_many(
    X: ArrayLike,
    y: ArrayLike,
    configs: Sequence[Mapping[str, Any]],
    *,
    steps: int | Sequence[int],
    checkpoints: int = 200,
    dtype: DTypeLike | None = None,
    threads: int | None = None,
    references: Mapping[str, Any] | None = None,
    lanes: bool | int = True,
    check_separable: bool = True,
) -> list[Trajectory]:
    """Run many independent configurations on the same data, spread over OpenMP threads.

    Each result is identical, bit for bit, to ``train`` with the same arguments (a run of 0 steps
    reports its starting point; a diverged run warns). Every argument is checked before the first
    step.

    Args:
        X: data, shape (n, d), float64 or np.longdouble (ints / float32 are converted exactly).
        y: labels, shape (n,), in {-1, +1}.
        configs: a non-empty sequence of mappings with an ``optimizer`` and any of the :class:`Run`
            keywords (``batch_size``, ``order``, ``lr``, ``loss``, ``seed``, ``w0``).
        steps: the number of optimizer steps (int >= 0), one for all configurations or one per
            configuration.
        checkpoints: about how many log-spaced checkpoints over each horizon (int >= 1).
        dtype: np.float64 or np.longdouble; default: np.longdouble if X is, else np.float64.
        threads: OpenMP threads, an int in [1, MAX_THREADS]; None = all cores.
        references: maps names to reference directions ((d,) arrays or results with ``.w``), as in
            :func:`train`; attached to every trajectory.
        lanes: see :func:`advance_many` (compatible configurations are step-interleaved in lane
            groups by default).
        check_separable: see :class:`PreparedData` (checked once for all configurations).

    Returns:
        One :class:`Trajectory` per configuration, in the order of ``configs``.

    Raises:
        TypeError: when ``configs`` is not a non-empty sequence of mappings with an ``optimizer``,
            ``references`` is not a mapping, or an integer argument is not an integer.
        ValueError: when a configuration has unknown keys, ``steps`` has another length than
            ``configs``, or an argument (data, step count, checkpoints, threads, a reference, a
            :class:`Run` keyword) is out of range or malformed.
        KeyboardInterrupt: on Ctrl-C; it carries the consistent, resumable runs as ``exc.runs`` and
            their trajectories as ``exc.trajectories`` (each ending with a checkpoint at the step
            where that run stopped).
    """
    check_threads(threads)
    if references is not None and not isinstance(references, Mapping):
        raise TypeError("references: must be a mapping name -> direction")
    step_list = list(steps) if isinstance(steps, Sequence) else [steps]
    for s in step_list:
        check_step_count("steps", s, 0, MAX_STEPS)
    check_int("checkpoints", checkpoints, 1)
    data = PreparedData(X, y, dtype, check_separable=check_separable)
    runs = runs_from_configs(data, configs)
    if not isinstance(steps, Sequence):
        step_list = step_list * len(runs)
    if len(step_list) != len(runs):
        raise ValueError(f"steps: got {len(step_list)} step counts for {len(runs)} configs")
    check_references(references, data.dtype, data.d)
    try:
        trajectories = advance_many(runs, step_list, checkpoints=checkpoints, threads=threads, lanes=lanes)
    except KeyboardInterrupt as exc:
        exc.runs = runs  # type: ignore[attr-defined]
        exc.trajectories = [run.trajectory() for run in runs]  # type: ignore[attr-defined]
        raise
    if references:
        for traj in trajectories:
            traj.attach(references, data.X, data.y)
    return trajectories
