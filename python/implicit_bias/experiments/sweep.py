"""Sweeps: a grid of one or two parameters times seeds -> cells, a table and a phase diagram."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import inspect
import io
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets, plots
from .._format import html_table, value_label
from .._validation import check_choice
from .._version import __version__
from ..engine import Trajectory
from ..engine.ensemble import check_threads
from ..engine.persistence import temporary_path
from .compare import prediction_metrics
from .config import DATASET_ALIASES, config_key, data_hash, jsonable, normalize_config, set_param
from .execute import execute
from .store import Cell, DataCache, Store, atomic_write_text, prepare_out_dir


@dataclass
class SweepResult:
    """What :func:`sweep` wrote: one row per cell (grid values, seed, key and final metrics)."""

    out_dir: Path
    grid: dict[str, list[Any]]
    seeds: list[int]
    rows: list[dict[str, Any]]
    table_csv: Path
    table_json: Path
    figure: Path | None
    ran: int
    skipped: int
    complete: bool = True
    #: cells another process computed while this one waited for them
    waited: int = 0
    #: cells computed from a stored state of the same configuration with a shorter horizon
    continued: int = 0
    #: engine steps this sweep took (a continued cell counts only the steps beyond its stored state)
    engine_steps: int = 0

    def trajectory(self, key: str) -> Trajectory:
        return Trajectory.load(self.out_dir / "cells" / f"{key}.npz")

    def __repr__(self) -> str:
        state = "complete" if self.complete else "interrupted"
        grid = ", ".join(f"{k}: {len(v)} values" for k, v in self.grid.items())
        return (
            f"SweepResult({len(self.rows)} cells ({grid}; {len(self.seeds)} seeds) in {self.out_dir}, {state}, "
            f"ran {self.ran} (continued {self.continued}), skipped {self.skipped})"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: the counts, then one row per cell (at most 20) with its limit metrics."""
        keys = list(self.grid)
        state = "complete" if self.complete else "interrupted"
        title = (
            f"SweepResult: {len(self.rows)} cells in {self.out_dir} ({state}; ran {self.ran}, "
            f"of which continued {self.continued}; skipped {self.skipped}; waited {self.waited})"
        )
        cols = [*keys, "seed", "steps", "nearest", "cos_l2", "cos_linf", "cos_fixed_point", "dist_predicted"]
        rows = [[r.get(c, "") if r.get(c) is not None else "" for c in cols] for r in self.rows[:20]]
        if len(self.rows) > 20:
            rows.append([f"... {len(self.rows) - 20} more (to_dataframe())", *([""] * (len(cols) - 1))])
        return html_table(title, rows, header=cols)

    def to_dataframe(self) -> Any:
        """One row per cell (grid values, seed, key, steps and final metrics) as a pandas DataFrame."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_dataframe needs pandas: pip install pandas") from exc
        return pd.DataFrame(
            [{k: value_label(v) if isinstance(v, Mapping) else v for k, v in row.items()} for row in self.rows]
        )

    def aggregate(self, metric: str) -> np.ndarray:
        """Mean of ``metric`` over seeds on the grid, shape (len(axis 0), len(axis 1)) (1-D grids: (k, 1))."""
        keys = list(self.grid)
        a0 = [value_label(v) for v in self.grid[keys[0]]]
        a1 = [value_label(v) for v in self.grid[keys[1]]] if len(keys) > 1 else [""]
        acc = np.full((len(a0), len(a1)), np.nan)
        for i, u in enumerate(a0):
            for j, v in enumerate(a1):
                vals = [
                    r[metric]
                    for r in self.rows
                    if value_label(r[keys[0]]) == u
                    and (len(keys) < 2 or value_label(r[keys[1]]) == v)
                    and r.get(metric) is not None
                ]
                if vals:
                    acc[i, j] = float(np.mean(vals))
        return acc


TABLE_METRICS = (
    "cos_l2",
    "cos_linf",
    "cos_fixed_point",
    "ratio_l2",
    "ratio_linf",
    "ratio_fixed_point",
    "dist_l2",
    "dist_linf",
    "dist_fixed_point",
    "nearest",
    "norm",
    "log_loss",
)
#: The numeric metrics averaged over seeds in table.json (the distance to each cell's own prediction included).
AGGREGATE_METRICS = (*(m for m in TABLE_METRICS if m.startswith(("cos_", "ratio_", "dist_"))), "dist_predicted")


def sweep(
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    *,
    seeds: Sequence[int] = (0,),
    seed_data: bool = True,
    out_dir: str | os.PathLike[str] = "results/sweep",
    data: tuple[np.ndarray, np.ndarray] | None = None,
    executor: cf.Executor | None = None,
    threads: int | None = None,
    progress: bool = True,
    resume: bool = True,
    plot: bool = True,
    callback: Callable[[Cell, Trajectory, dict[str, Any]], None] | None = None,
    reference: str = "predicted",
) -> SweepResult:
    """Run ``base`` over a grid of one or two parameters times ``seeds``; write table and heatmap.

    Writes to ``out_dir``: ``cells/<key>.npz|json`` (one per cell, keyed by a hash of its config and
    data; a rerun skips cells already there, and a rerun with a longer ``steps`` continues each cell
    from its stored engine state in ``cells/states/``, bit for bit, see
    :mod:`~implicit_bias.experiments.execute`), ``references/``, ``table.csv`` and ``table.json``
    (one row per cell, plus the seed-averaged grid), and ``phase_diagram.png`` (distance of the
    limit direction from w*, l2 and l-inf). Ctrl-C stops cleanly: finished cells stay on disk, the
    table is written for them, and KeyboardInterrupt is re-raised.

    Args:
        base: the run configuration every cell starts from (see
            :func:`~implicit_bias.experiments.config.normalize_config`).
        grid: maps parameter names (see :func:`set_param`: ``batch_size``, ``beta2``, ``eta0``,
            ``order``, ``n``, ``optimizer.beta1``, ...) to value lists (one or two parameters; a
            single value that is not a list counts as a list of one); ``batch_size`` may use ``"n"``.
        seeds: the seeds, a non-empty list of integers in [0, 2**64 - 1]. Each seed sets the run's
            ``seed`` and, with ``seed_data`` and a generated data set that takes a ``seed``, the
            data seed too.
        seed_data: also set the data seed of a generated data set (see ``seeds``).
        out_dir: the output folder (created if needed; see above for what is written).
        data: ``data=(X, y)`` uses arrays, X (n, d) and y (n,), instead of ``base["data"]``.
        executor: any ``concurrent.futures.Executor`` (e.g.
            ``dask.distributed.Client(...).get_executor()``); default: local OpenMP ensembles with
            ``threads`` threads.
        threads: OpenMP threads for local runs, an int in [1, MAX_THREADS]; None: all cores.
        progress: show a progress bar.
        resume: read the cells already in ``out_dir`` and continue from stored states; False
            computes every cell again (see :func:`~implicit_bias.experiments.execute.execute`).
        plot: write ``phase_diagram.png`` (when there is at least one finished cell).
        callback: called as ``callback(cell, trajectory, record)`` after each cell computed here.
        reference: "predicted" (default) adds each cell's distance from its own prediction
            (``ib.predicted_direction`` for its optimizer, batch size, order and schedule: the batch
            fixed point for mini-batch Adam, the rho fixed point for random orders; our extension)
            as ``dist_predicted``; "epoch_map" uses the finite-beta2 epoch-map limit where it
            applies (cyclic Adam); "none" skips it.

    Returns:
        The :class:`SweepResult`: one row per cell (grid values, seed, key, steps and final
        metrics), the table and figure paths (``figure`` None without a plot) and the counts of
        cells run, skipped, waited for and continued.

    Raises:
        ValueError: when ``grid`` is empty, not a mapping, has more than two parameters or an empty
            value list; ``seeds`` is not a non-empty list of integers in [0, 2**64 - 1];
            ``reference`` is not one of the three names; a cell's configuration is not valid (the
            message names the grid cell); ``threads`` is out of range; or ``out_dir`` cannot be
            written in.
        TypeError: when ``threads`` is not an integer.
        KeyboardInterrupt: on Ctrl-C, after the table of the finished cells is written.
    """
    check_choice("reference", reference, ("predicted", "epoch_map", "none"))
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("grid: must map one or two parameter names to lists of values")
    if len(grid) > 2:
        raise ValueError(f"grid: at most two parameters (a phase diagram), got {len(grid)}: {', '.join(grid)}")
    grid = {
        str(k): list(v) if not isinstance(v, (str, bytes)) and isinstance(v, Iterable) else [v] for k, v in grid.items()
    }
    for k, v in grid.items():
        if not v:
            raise ValueError(f"grid.{k}: empty list of values")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ValueError(f"seeds: must be a list of integers, got {seeds!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: need at least one seed")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**64:
            raise ValueError(f"seeds: must be integers in [0, 2**64 - 1], got {s!r}")
    seeds = [int(s) for s in seeds]
    if threads is not None:
        check_threads(threads)
    out = Path(out_dir)
    base = dict(base)
    data_sha = None
    if data is not None:
        X0, y0 = data
        data_sha = data_hash(np.asarray(X0), np.asarray(y0))
        base["data"] = {"name": "<arrays>", "sha256": data_sha}
    cells: list[Cell] = []
    rows_meta: list[dict[str, Any]] = []

    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        for s in seeds:
            raw = dict(base)
            for k, v in zip(keys, values):
                raw = set_param(raw, k, v)
            raw["seed"] = s
            if (
                seed_data
                and isinstance(raw.get("data"), Mapping)
                and "name" in raw["data"]
                and raw["data"]["name"] != "<arrays>"
            ):
                name = DATASET_ALIASES.get(str(raw["data"]["name"]).lower())
                if name is not None:
                    if "seed" in inspect.signature(getattr(datasets, name)).parameters:
                        raw = set_param(raw, "data.seed", s)
            try:
                cfg = normalize_config(raw, allow_arrays=data is not None)
            except ValueError as exc:
                where = ", ".join(f"{k}={value_label(v)}" for k, v in zip(keys, values))
                raise ValueError(f"{exc} (in the grid cell {where})") from exc
            meta = {**{k: v for k, v in zip(keys, values)}, "seed": s}
            cells.append(Cell(config_key(cfg, data_sha), cfg, meta))
            rows_meta.append(meta)
    prepare_out_dir(out, "out_dir", subfolders=("cells", "references"))
    atomic_write_text(
        out / "sweep.json",
        json.dumps({"base": jsonable(base), "grid": jsonable(grid), "seeds": seeds, "version": __version__}, indent=1),
    )
    cache = DataCache(out / "references", arrays=data)
    store = Store(out / "cells")
    stats: dict[str, int] = {}
    interrupted = False
    try:
        results = execute(
            cells,
            cache,
            store,
            executor=executor,
            threads=threads,
            progress=progress,
            desc="sweep",
            callback=callback,
            resume=resume,
            stats=stats,
        )
    except KeyboardInterrupt:
        interrupted = True
        results = {}
        for c in cells:
            found = store.fetch(c.key, c.config, warn=False)
            if found is not None:
                results[c.key] = found
    skipped = stats.get("loaded", 0)
    rows = []
    for cell in cells:
        if cell.key not in results:
            continue
        _, record = results[cell.key]
        row = {
            **{k: cell.meta[k] for k in keys},
            "seed": cell.meta["seed"],
            "key": cell.key,
            "steps": record["metrics"]["steps"],
        }
        row.update({m: record["metrics"].get(m) for m in TABLE_METRICS})
        if reference != "none":
            X, y, _ = cache.data(cell.config["data"])
            prediction = cache.prediction(cell.config, finite_beta2=reference == "epoch_map")
            matched = prediction_metrics(results[cell.key][0].w[-1], X, y, prediction)
            row.update({"predicted_kind": matched["predicted_kind"], "dist_predicted": matched.get("dist_predicted")})
        rows.append(row)
    res = SweepResult(
        out,
        grid,
        seeds,
        rows,
        out / "table.csv",
        out / "table.json",
        None,
        stats.get("ran", 0),
        skipped,
        not interrupted,
        stats.get("waited", 0),
        stats.get("continued", 0),
        stats.get("steps", 0),
    )
    write_table(res, keys)
    if plot and rows:
        res.figure = out / "phase_diagram.png"
        tmp = temporary_path(res.figure, ".png")  # concurrent sweeps never mix their figures' bytes
        try:
            plots.phase_diagram(res, path=tmp, title=sweep_title(base, seeds, keys))
            os.replace(tmp, res.figure)
        finally:
            tmp.unlink(missing_ok=True)
    if interrupted:
        print(
            f"\nInterrupted: {len(results)} of {len(cells)} cells are finished and saved in {out}; "
            "rerun the same sweep to continue (finished cells are skipped).",
            file=sys.stderr,
        )
        raise KeyboardInterrupt
    return res


def sweep_title(base: Mapping[str, Any], seeds: Sequence[int], swept: Sequence[str] = ()) -> str:
    """The phase diagram's title: the optimizer with its hyper-parameters (swept ones as ``·``),
    the data set's name, the horizon (when ``base`` has ``steps``) and the number of seeds.

    Args:
        base: the sweep's base configuration.
        seeds: the sweep's seeds (only their number is shown).
        swept: the grid's parameter names (``optimizer.beta2`` and ``beta2`` both mark ``beta2``).

    Returns:
        The title; "" when ``base`` is not a valid configuration.
    """
    try:
        cfg = normalize_config(base, require_steps=False, allow_arrays=True)
        opt = cfg["optimizer"]
        swept_names = {k.split(".")[-1] for k in swept}
        name = (
            opt["name"]
            + "("
            + ", ".join(f"{k}={'·' if k in swept_names else value_label(v)}" for k, v in opt.items() if k != "name")
            + ")"
        )
        data = cfg["data"]
        dname = data.get("name", Path(data.get("path", "")).name)
        steps = f", t = {base['steps']:.0e}" if "steps" in base else ""
        return f"{name} on {dname}{steps}, mean over {len(seeds)} seed{'s' if len(seeds) > 1 else ''}"
    except ValueError:
        return ""


def write_table(res: SweepResult, keys: list[str]) -> None:
    cols = [
        *keys,
        "seed",
        "key",
        "steps",
        *TABLE_METRICS,
        *(("predicted_kind", "dist_predicted") if any("dist_predicted" in r for r in res.rows) else ()),
    ]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, restval="")
    w.writeheader()
    for r in res.rows:
        w.writerow({c: value_label(r[c]) if c in keys and isinstance(r[c], Mapping) else r[c] for c in cols})
    atomic_write_text(res.table_csv, buf.getvalue())
    agg = []
    k0 = keys[0]
    axis1 = res.grid[keys[1]] if len(keys) > 1 else [None]
    for u in res.grid[k0]:
        for v in axis1:
            sel = [r for r in res.rows if r[k0] == u and (len(keys) < 2 or r[keys[1]] == v)]
            if not sel:
                continue
            entry: dict[str, Any] = {k0: u, **({keys[1]: v} if len(keys) > 1 else {}), "seeds": len(sel)}
            # the cells' own (tie-aware) nearest references; seeds that disagree are all listed
            labels = sorted({r["nearest"] for r in sel if r.get("nearest")})
            entry["nearest"] = " | ".join(labels) if labels else None
            for m in AGGREGATE_METRICS:
                vals = [r[m] for r in sel if r.get(m) is not None]
                if vals:
                    entry[f"{m}_mean"] = float(np.mean(vals))
                    entry[f"{m}_std"] = float(np.std(vals))
            agg.append(entry)
    atomic_write_text(
        res.table_json,
        json.dumps(
            {
                "grid": jsonable(res.grid),
                "seeds": res.seeds,
                "complete": res.complete,
                "cells": jsonable(res.rows),
                "aggregate": jsonable(agg),
            },
            indent=1,
        ),
    )
