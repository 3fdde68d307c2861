"""Running cells: local OpenMP ensembles grouped by data and precision, or any Executor."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..engine import PreparedData, Run, Trajectory, advance_many, train
from ..engine.ensemble import MAX_THREADS, check_threads, runs_from_configs
from ..engine.lanes import lane_key, lane_width
from .compare import attach, final_metrics
from .config import build_tag, check_run_sizes, run_kwargs
from .store import Cell, DataCache, Store


def run_remote(X: np.ndarray, y: np.ndarray, config: dict[str, Any]) -> Trajectory:
    """Executor task: one configuration on one worker (plain ``ib.train``, bit-identical to ensembles)."""
    kwargs = run_kwargs(config, X.shape[0])
    opt = kwargs.pop("optimizer")
    return train(
        X, y, opt, steps=config["steps"], dtype=np.dtype(config["dtype"]), checkpoints=config["checkpoints"], **kwargs
    )


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
    process has written them, computed here if it died first). ``stats`` (a dict) receives the
    counts ``loaded`` (valid on disk at the start), ``ran`` (computed here) and ``waited`` (written
    by another process while this one waited).
    """
    threads = None if threads is None else check_threads(threads)
    counts = {"loaded": 0, "ran": 0, "waited": 0}
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

    def finish(cell: Cell, traj: Trajectory) -> None:
        X, y, sha = cache.data(cell.config["data"])
        refs = cache.references(cell.config["data"])
        attach(traj, X, y, refs)
        record = {
            "key": cell.key,
            "config": cell.config,
            "meta": cell.meta,
            "data_sha256": sha,
            "version": __version__,
            "build": build_tag(),
            "metrics": final_metrics(traj, X, y, refs),
        }
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
        deferred = run_cells(todo, cache, claim, finish, executor=executor, threads=threads, bar=bar, wait=False)
        if deferred:
            bar.set_postfix_str(
                f"waiting for {len(deferred)} cells that {store.lock(deferred[0].key).owner()} is computing"
            )
            run_cells(deferred, cache, claim, finish, executor=executor, threads=threads, bar=bar, wait=True)
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
    finish: Callable[[Cell, Trajectory], None],
    *,
    executor: cf.Executor | None,
    threads: int | None,
    bar: Any,
    wait: bool,
) -> list[Cell]:
    """Compute the cells this process can ``claim`` (locally in cost-sorted ensemble batches, or on
    ``executor``); returns the cells another process holds (none when ``wait``)."""
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
            queue = [group[k] for k in order]
            size = max(1, 4 * nthreads, lane_width(data.d) * nthreads)
            while queue:
                batch: list[Cell] = []
                while queue and len(batch) < size:
                    cell = queue.pop(0)
                    status = claim(cell, wait)
                    if status == "mine":
                        batch.append(cell)
                    elif status == "busy":
                        deferred.append(cell)
                if not batch:
                    continue
                check_run_sizes(data.d, [c.config for c in batch])
                trajs = run_ensemble(data, [c.config for c in batch], threads=threads, on_progress=bar.update)
                for cell, traj in zip(batch, trajs):
                    finish(cell, traj)
        return deferred
    futures: dict[cf.Future, Cell] = {}
    for cell in cells:
        status = claim(cell, wait)
        if status == "mine":
            X, y, _ = cache.data(cell.config["data"])
            futures[executor.submit(run_remote, X, y, cell.config)] = cell
        elif status == "busy":
            deferred.append(cell)
    try:
        for fut in cf.as_completed(futures):
            cell = futures[fut]
            finish(cell, fut.result())
            bar.update(cell.config["steps"])
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return deferred


def check_executor_spec(spec: Any, name: str = "dask") -> str:
    """Validate an executor spec (see :func:`default_executor`) without starting anything."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"{name}: must be 'dask', 'dask:N' or a scheduler address such as tcp://host:8786, got {spec!r}"
        )
    spec = spec.strip()
    if spec == "dask" or spec.startswith("dask:"):
        if spec != "dask":
            count = spec.split(":", 1)[1]
            if not count.isdigit() or not 1 <= int(count) <= MAX_THREADS:
                raise ValueError(
                    f"{name}: the number of local workers in 'dask:N' must be an integer in [1, {MAX_THREADS}], got {count!r}"
                )
        return spec
    scheme, sep, rest = spec.partition("://")
    host, colon, port = (rest if sep else spec).rpartition(":")
    if (sep and not scheme.isalnum()) or not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"{name}: must be 'dask', 'dask:N' or a scheduler address such as tcp://host:8786, got {spec!r}"
        )
    return spec


def default_executor(spec: str | None, *, timeout: float = 10.0) -> Any:
    """An executor from a short spec: None -> None (local OpenMP ensembles); ``"dask"`` or
    ``"dask:N"`` (1 <= N) -> a local dask.distributed cluster with N single-threaded workers;
    ``"tcp://host:port"`` -> that dask scheduler (an OSError after ``timeout`` seconds when it
    cannot be reached). Returns ``(executor, closer)``."""
    if spec is None:
        return None, (lambda: None)
    spec = check_executor_spec(spec)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError('dask: running on dask needs dask.distributed: pip install "implicit-bias[dask]"') from exc

    if spec.startswith("dask"):
        # the count was validated by check_executor_spec above
        workers = int(spec.split(":", 1)[1]) if ":" in spec else (os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client.get_executor(), close
    try:
        client = Client(spec, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise OSError(f"dask: cannot reach the scheduler at {spec} ({type(exc).__name__}: {exc})") from exc
    return client.get_executor(), client.close
