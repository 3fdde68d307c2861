"""Running cells: local OpenMP ensembles grouped by data and precision, or any Executor."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..engine import PreparedData, Run, Trajectory, advance_many, train
from ..engine.ensemble import runs_from_configs
from ..engine.lanes import lane_key, lane_width
from .compare import attach, final_metrics
from .config import run_kwargs
from .store import Cell, DataCache, Store

def run_remote(X: np.ndarray, y: np.ndarray, config: dict[str, Any]) -> Trajectory:
    """Executor task: one configuration on one worker (plain ``ib.train``, bit-identical to ensembles)."""
    kwargs = run_kwargs(config, X.shape[0])
    opt = kwargs.pop("optimizer")
    return train(X, y, opt, steps=config["steps"], dtype=np.dtype(config["dtype"]), checkpoints=config["checkpoints"], **kwargs)


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
) -> dict[str, tuple[Trajectory, dict[str, Any]]]:
    """Run every cell not already in ``store`` and return ``key -> (trajectory, record)`` for all.

    Local (``executor=None``): cells that share data and precision advance together on the OpenMP
    ensemble loop, in batches of ~4 per thread (or one lane group per thread, when larger) sorted by
    lane compatibility and cost, compatible cells step-interleaved in lane groups (engine/lanes.py);
    each batch is written to disk as soon as it finishes. With an executor: one task per cell, written as each completes. On Ctrl-C
    (KeyboardInterrupt) the finished cells are already on disk; pending executor tasks are cancelled
    and the interrupt is re-raised.
    """
    results: dict[str, tuple[Trajectory, dict[str, Any]]] = {}
    todo: list[Cell] = []
    for cell in cells:
        if cell.key in results:
            continue
        if resume and store.done(cell.key):
            results[cell.key] = store.load(cell.key)
        elif all(c.key != cell.key for c in todo):
            todo.append(cell)
    skipped = len(results)

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
            "metrics": final_metrics(traj, X, y, refs),
        }
        store.save(cell, traj, record)
        results[cell.key] = (traj, record)
        if callback is not None:
            callback(cell, traj, record)

    if not todo:
        return results
    # References first (CVXPY, in this process): cheap next to long runs, and shared by all cells.
    for cell in todo:
        cache.references(cell.config["data"])
    total_steps = sum(c.config["steps"] for c in todo)
    bar = progress_bar(total_steps, f"{desc} ({len(todo)} to run, {skipped} done)", progress)
    try:
        if executor is None:
            groups: dict[tuple[str, str], list[Cell]] = {}
            for cell in todo:
                groups.setdefault((json.dumps(cell.config["data"], sort_keys=True), cell.config["dtype"]), []).append(cell)
            nthreads = threads or (os.cpu_count() or 1)
            for group in groups.values():
                X, y, _ = cache.data(group[0].config["data"])
                data = PreparedData(X, y, np.dtype(group[0].config["dtype"]))
                # the engine's own cost model (multiply-adds per step) orders the work; cells that can
                # share a lane group (engine/lanes.py) are kept next to each other, so that a batch
                # holds whole lane groups of similar cost
                runs = ensemble_runs(data, [c.config for c in group])
                cost = [run.core.cost_per_step * c.config["steps"] for run, c in zip(runs, group)]
                key = {lk: rank for rank, lk in enumerate(dict.fromkeys(lane_key(run) for run in runs))}
                order = sorted(range(len(group)), key=lambda k: (key[lane_key(runs[k])], cost[k]))
                group = [group[k] for k in order]
                size = max(1, 4 * nthreads, lane_width(data.d) * nthreads)
                for start in range(0, len(group), size):
                    batch = group[start : start + size]
                    trajs = run_ensemble(data, [c.config for c in batch], threads=threads, on_progress=bar.update)
                    for cell, traj in zip(batch, trajs):
                        finish(cell, traj)
        else:
            futures: dict[cf.Future, Cell] = {}
            for cell in todo:
                X, y, _ = cache.data(cell.config["data"])
                futures[executor.submit(run_remote, X, y, cell.config)] = cell
            try:
                for fut in cf.as_completed(futures):
                    cell = futures[fut]
                    finish(cell, fut.result())
                    bar.update(cell.config["steps"])
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        bar.close()
    return results


def default_executor(spec: str | None) -> Any:
    """An executor from a short spec: None -> None (local OpenMP ensembles); ``"dask"`` or
    ``"dask:N"`` -> a local dask.distributed cluster with N single-threaded workers;
    ``"tcp://host:port"`` -> that dask scheduler. Returns ``(executor, closer)``."""
    if spec is None:
        return None, (lambda: None)
    from distributed import Client, LocalCluster

    if spec.startswith("dask"):
        workers = int(spec.split(":", 1)[1]) if ":" in spec else (os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client.get_executor(), close
    client = Client(spec)
    return client.get_executor(), client.close


