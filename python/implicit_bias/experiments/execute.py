"""Running cells: local OpenMP ensembles grouped by data and precision, or any Executor.

A cell whose configuration differs from a stored one only by a longer ``steps`` continues from the
stored engine state (see :class:`~.store.Store`) instead of step 0. Its final iterate, and every
checkpoint, are bit for bit those of one run from step 0. Checkpoints: those of the stored, shorter
run up to where it stopped, then the points of the longer run's own log grid beyond it (the grid of
``ib.train(steps=S2)`` has points below S1 the short run never recorded; recovering them would mean
computing the first S1 steps again). So the rows after S1, and the final metrics, equal a fresh
long run's exactly; to get the fresh run's grid everywhere, run with ``resume=False`` or a new folder.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..engine import PreparedData, Run, Trajectory, advance_many, log_grid
from ..engine.ensemble import check_threads, runs_from_configs
from ..engine.lanes import lane_key, lane_width
from ..errors import RunFileError, StoreWarning
from .compare import attach, final_metrics
from .config import build_tag, check_run_sizes, config_key, run_kwargs
from .remote import run_from_bytes, run_remote, run_to_bytes
from .store import Cell, DataCache, Store


def series_key(config: Mapping[str, Any], data_sha: str) -> str:
    """Key shared by the cells whose configurations differ only in ``steps`` (their horizon)."""
    return config_key({k: v for k, v in config.items() if k != "steps"}, data_sha)


def continue_from_store(store: Store, run: Run, series: str, config: Mapping[str, Any]) -> int | None:
    """Load into the fresh ``run`` the longest stored state of ``series`` with at most
    ``config["steps"]`` steps and give it the long run's checkpoint grid beyond that point (module
    docstring); returns the step it continues from, or None (nothing usable stored: a damaged or
    foreign state file is skipped with a :class:`StoreWarning` naming it).

    Args:
        store: the store holding the states (``states/<series>/<steps>.npz``).
        run: the cell's fresh run, at step 0; a stored state is used only when its configuration,
            data and start point equal this run's.
        series: the cell's series key (:func:`series_key`).
        config: the cell's normalized configuration (its ``steps`` and ``checkpoints`` are read).

    Returns:
        The step the run continues from (its state loaded, its grid extended), or None when no
        stored state is usable (``run`` is then unchanged).
    """
    steps, checkpoints = int(config["steps"]), int(config["checkpoints"])
    for t, path in store.states(series, steps):
        try:
            saved = Run.load(path)
        except RunFileError as exc:
            warnings.warn(f"{exc}; not continuing from it", StoreWarning, stacklevel=2)
            continue
        same = (
            saved.config == run.config
            and saved.t == t
            and all(np.array_equal(a, b) for a, b in ((saved.X, run.X), (saved.y, run.y), (saved.w0, run.w0)))
        )
        if not same:
            warnings.warn(
                f"{path}: the state of another run (not this cell's configuration after {t} steps); "
                "not continuing from it",
                StoreWarning,
                stacklevel=2,
            )
            continue
        run.core.load_state(saved.core.save_state())
        long_grid = log_grid(0, steps, checkpoints)
        run.core.extend_grid(long_grid[long_grid > t])
        return t
    return None


def ensemble_runs(data: PreparedData, configs: Sequence[Mapping[str, Any]]) -> list[Run]:
    """Engine runs of normalized configurations that share ``data`` (one precision)."""
    return runs_from_configs(data, [run_kwargs(c, data.n) for c in configs])


def run_ensemble(
    data: PreparedData,
    configs: Sequence[Mapping[str, Any]],
    *,
    threads: int | None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Trajectory]:
    """Advance normalized configurations together on the engine's OpenMP ensemble loop.

    Same result, bit for bit, as ``ib.train_many`` and as ``ib.train`` of each configuration.

    Args:
        data: the prepared data all configurations share (one precision).
        configs: normalized configurations (their ``steps`` and ``checkpoints`` are read).
        threads: OpenMP threads, an int in [1, MAX_THREADS]; None: all cores.
        on_progress: called with the steps done about every half second (for progress bars).

    Returns:
        One :class:`Trajectory` per configuration, in the order of ``configs``.

    Raises:
        ValueError: when a configuration does not make a valid run, or ``threads`` is out of range
            (:func:`implicit_bias.engine.advance_many`).
        TypeError: when a configuration's field or ``threads`` has the wrong type.
        KeyboardInterrupt: on Ctrl-C, with every run consistent at a step boundary.
    """
    runs = ensemble_runs(data, configs)
    return advance_many(
        runs,
        [int(c["steps"]) for c in configs],
        checkpoints=[int(c["checkpoints"]) for c in configs],
        threads=threads,
        on_progress=on_progress,
    )


def progress_bar(total: float, desc: str, enabled: bool, unit: str = "step") -> Any:
    """A tqdm progress bar (``tqdm.auto``: a widget in Jupyter, text elsewhere) that stays on screen
    when closed.

    Args:
        total: the count the bar completes at (e.g. engine steps).
        desc: the label in front of the bar.
        enabled: draw the bar; False gives a disabled bar (its methods still work and show nothing).
        unit: the unit of ``total``, scaled with SI prefixes (k, M, ...).

    Returns:
        The ``tqdm`` bar (call ``update(n)`` and ``close()``).
    """
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, disable=not enabled, leave=True, dynamic_ncols=True)


def execute(
    cells: Sequence[Cell],
    cache: DataCache,
    store: Store,
    *,
    executor: cf.Executor | None = None,
    threads: int | None = None,
    progress: bool = True,
    desc: str = "runs",
    callback: Callable[[Cell, Trajectory, dict[str, Any]], None] | None = None,
    resume: bool = True,
    stats: dict[str, int] | None = None,
    poll_seconds: float = 0.2,
    save_states: bool = True,
) -> dict[str, tuple[Trajectory, dict[str, Any]]]:
    """Run every cell not already in ``store`` and return ``key -> (trajectory, record)`` for all.

    Local (``executor=None``): cells that share data and precision advance together on the OpenMP
    ensemble loop, in batches of ~4 per thread (or one lane group per thread, when larger) sorted by
    lane compatibility and cost, compatible cells step-interleaved in lane groups (engine/lanes.py);
    each batch is written to disk as soon as it finishes. With an executor: one task per cell, written as each completes. On Ctrl-C
    (KeyboardInterrupt) the finished cells are already on disk; pending executor tasks are cancelled
    and the interrupt is re-raised.

    Only verified cells are read (see :class:`Store`); a damaged one is computed again with a
    :class:`~implicit_bias.errors.StoreWarning`. A cell is computed only under its lock: cells
    another live process is computing are skipped, then waited for at the end (read when that
    process has written them, computed here if it died first).

    Args:
        cells: the cells to run (a key given twice is run once).
        cache: the data and references of the cells' data specs (references are computed first,
            in this process).
        store: where cells are read from and written to.
        executor: None to run locally on the OpenMP ensemble loop, or a ``concurrent.futures``
            executor taking one task per cell (see above).
        threads: OpenMP threads for local runs, an int in [1, MAX_THREADS]; None: all cores.
        progress: show a progress bar of the engine steps.
        desc: the label of the progress bar.
        callback: called as ``callback(cell, trajectory, record)`` after each cell computed here
            has been written (not for cells read from the store).
        resume: read finished cells from the store and continue from stored states; False
            computes every cell again from step 0 (and overwrites it).
        stats: a dict that receives the counts ``loaded`` (valid on disk at the start), ``ran``
            (computed here) and ``waited`` (written by another process while this one waited),
            ``continued`` (computed from a stored state of the same configuration with a shorter
            horizon) and ``steps`` (engine steps taken here).
        poll_seconds: how long to sleep between attempts to take the lock of a cell another process
            is computing, in seconds.
        save_states: keep each computed cell's engine state (``states/`` in the store; a copy of
            the data and the checkpoints per cell) so a longer horizon can continue from it.

    Returns:
        ``key -> (trajectory, record)`` for every cell: read, waited for or computed here.

    Raises:
        TypeError: when ``threads`` is not an integer.
        ValueError: when ``threads`` is outside [1, MAX_THREADS].
        KeyboardInterrupt: on Ctrl-C, re-raised once pending executor tasks are cancelled (the
            finished cells are already on disk).
    """
    threads = None if threads is None else check_threads(threads)
    counts = {"loaded": 0, "ran": 0, "waited": 0, "continued": 0, "steps": 0}
    results: dict[str, tuple[Trajectory, dict[str, Any]]] = {}
    todo: list[Cell] = []
    for cell in cells:
        if cell.key in results or any(c.key == cell.key for c in todo):
            continue
        # quietly: a cell another process is writing right now is not damaged; the verdict on a
        # damaged cell (and its warning) comes under its lock, below
        found = store.fetch(cell.key, cell.config, warn=False) if resume else None
        if found is not None:
            results[cell.key] = found
            counts["loaded"] += 1
        else:
            todo.append(cell)
    if stats is not None:
        stats.update(counts)
    if not todo:
        return results
    locks: dict[str, Any] = {}

    def claim(cell: Cell, wait: bool) -> str:
        """Take the cell's lock: "mine" (compute it now), "done" (another process wrote it
        meanwhile; read) or "busy" (another live process holds it; only when not ``wait``)."""
        lock = store.lock(cell.key)
        if not lock.acquire():
            if not wait:
                return "busy"
            while not lock.acquire():
                time.sleep(poll_seconds)
        found = store.fetch(cell.key, cell.config) if resume else None
        if found is not None:  # written meanwhile by another process
            lock.release()
            results[cell.key] = found
            counts["waited"] += 1
            return "done"
        locks[cell.key] = lock
        return "mine"

    def prepare(cell: Cell, run: Run) -> int:
        """Continue ``run`` from the store (unless not ``resume``); the step it starts from."""
        t0 = (
            None
            if not resume
            else continue_from_store(
                store, run, series_key(cell.config, cache.data(cell.config["data"])[2]), cell.config
            )
        )
        if t0 is None:
            return 0
        counts["continued"] += 1
        return t0

    def finish(cell: Cell, traj: Trajectory, run: Run | None, t0: int) -> None:
        X, y, sha = cache.data(cell.config["data"])
        refs = cache.references(cell.config["data"])
        series = series_key(cell.config, sha)
        if run is not None and save_states:
            store.state_path(series, run.t).parent.mkdir(parents=True, exist_ok=True)
            run.save(store.state_path(series, run.t))  # before the record: a cell is done only with its state
        attach(traj, X, y, refs)
        record = {
            "key": cell.key,
            "config": cell.config,
            "meta": cell.meta,
            "data_sha256": sha,
            "version": __version__,
            "build": build_tag(),
            "series": series,
            "continued_from": t0 if t0 else None,
            "metrics": final_metrics(traj, X, y, refs),
        }
        counts["steps"] += int(cell.config["steps"]) - t0
        record = store.save(cell, traj, record)
        locks.pop(cell.key).release()
        results[cell.key] = (traj, record)
        counts["ran"] += 1
        if callback is not None:
            callback(cell, traj, record)

    # References first (CVXPY, in this process): cheap next to long runs, and shared by all cells.
    for cell in todo:
        cache.references(cell.config["data"])
    total_steps = sum(c.config["steps"] for c in todo)
    bar = progress_bar(total_steps, f"{desc} ({len(todo)} to run, {len(results)} done)", progress)
    try:
        deferred = run_cells(
            todo, cache, claim, prepare, finish, executor=executor, threads=threads, bar=bar, wait=False
        )
        if deferred:
            bar.set_postfix_str(
                f"waiting for {len(deferred)} cells that {store.lock(deferred[0].key).owner()} is computing"
            )
            run_cells(deferred, cache, claim, prepare, finish, executor=executor, threads=threads, bar=bar, wait=True)
    finally:
        for lock in locks.values():
            lock.release()
        bar.close()
        if stats is not None:
            stats.update(counts)
    return results


def run_cells(
    cells: Sequence[Cell],
    cache: DataCache,
    claim: Callable[[Cell, bool], str],
    prepare: Callable[[Cell, Run], int],
    finish: Callable[[Cell, Trajectory, Run | None, int], None],
    *,
    executor: cf.Executor | None,
    threads: int | None,
    bar: Any,
    wait: bool,
) -> list[Cell]:
    """Compute the cells this process can ``claim`` (locally in cost-sorted ensemble batches, or on
    ``executor``), each run ``prepare``-d first (continued from the store when it can be); returns
    the cells another process holds (none when ``wait``).

    Args:
        cells: the cells to compute.
        cache: the data of the cells' data specs.
        claim: ``claim(cell, wait)`` takes the cell's lock: "mine" (compute it), "done" (another
            process wrote it) or "busy" (another live process holds it).
        prepare: ``prepare(cell, run)`` continues a fresh run from the store; returns the step it
            starts from (0 for a fresh start).
        finish: ``finish(cell, trajectory, run, t0)`` stores a computed cell and releases its lock.
        executor: None to run locally in ensemble batches, or a ``concurrent.futures`` executor
            (one task per cell, its run sent as bytes).
        threads: OpenMP threads for local runs; None: all cores.
        bar: the progress bar (``update(steps)``), advanced by the steps taken and continued from.
        wait: wait for cells another process holds (``claim`` blocks) instead of deferring them.

    Returns:
        The cells another process was computing (always empty when ``wait``).

    Raises:
        ValueError: when a local batch's checkpoints would not fit in memory (``check_run_sizes``).
        KeyboardInterrupt: on Ctrl-C (with an executor, pending tasks are cancelled first).
    """
    deferred: list[Cell] = []
    if executor is None:
        groups: dict[tuple[str, str], list[Cell]] = {}
        for cell in cells:
            groups.setdefault((json.dumps(cell.config["data"], sort_keys=True), cell.config["dtype"]), []).append(cell)
        nthreads = threads or (os.cpu_count() or 1)
        for group in groups.values():
            X, y, _ = cache.data(group[0].config["data"])
            data = PreparedData(X, y, np.dtype(group[0].config["dtype"]))
            # the engine's own cost model (multiply-adds per step) orders the work; cells that can share
            # a lane group (engine/lanes.py) are kept next to each other, so a batch holds whole groups
            runs = ensemble_runs(data, [c.config for c in group])
            cost = [run.core.cost_per_step * c.config["steps"] for run, c in zip(runs, group)]
            rank = {lk: r for r, lk in enumerate(dict.fromkeys(lane_key(run) for run in runs))}
            order = sorted(range(len(group)), key=lambda k: (rank[lane_key(runs[k])], cost[k]))
            queue = [(group[k], runs[k]) for k in order]
            size = max(1, 4 * nthreads, lane_width(data.d) * nthreads)
            while queue:
                batch: list[tuple[Cell, Run, int]] = []
                while queue and len(batch) < size:
                    cell, run = queue.pop(0)
                    status = claim(cell, wait)
                    if status == "mine":
                        t0 = prepare(cell, run)
                        bar.update(t0)
                        batch.append((cell, run, t0))
                    elif status == "busy":
                        deferred.append(cell)
                if not batch:
                    continue
                check_run_sizes(data.d, [c.config for c, _, _ in batch])
                trajs = advance_many(
                    [run for _, run, _ in batch],
                    [int(c.config["steps"]) - run.t for c, run, _ in batch],
                    checkpoints=[int(c.config["checkpoints"]) for c, _, _ in batch],
                    threads=threads,
                    on_progress=bar.update,
                )
                for (cell, run, t0), traj in zip(batch, trajs):
                    finish(cell, traj, run, t0)
        return deferred
    futures: dict[cf.Future, tuple[Cell, int]] = {}
    for cell in cells:
        status = claim(cell, wait)
        if status == "mine":
            X, y, _ = cache.data(cell.config["data"])
            run = Run(PreparedData(X, y, np.dtype(cell.config["dtype"])), None, **run_kwargs(cell.config, X.shape[0]))
            t0 = prepare(cell, run)
            futures[executor.submit(run_remote, cell.config, run_to_bytes(run))] = (cell, t0)
        elif status == "busy":
            deferred.append(cell)
    try:
        for fut in cf.as_completed(futures):
            cell, t0 = futures[fut]
            traj, state = fut.result()
            finish(cell, traj, run_from_bytes(state), t0)  # verified (checksum) before it is stored
            bar.update(cell.config["steps"] - t0)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return deferred
