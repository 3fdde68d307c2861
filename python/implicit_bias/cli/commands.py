"""The three commands: each parses nothing, calls :mod:`implicit_bias.experiments` and prints.

Each returns the exit status; a bad value ends in ``parser.error`` (exit status 2) naming the key.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._format import value_label
from ..experiments.config import resolve_batch
from .configuration import RUN_FILE_KEYS, SWEEP_FILE_KEYS, config_from_args, load_toml

__all__ = ["reproduce", "run", "sweep"]


def reproduce(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``implicit-bias reproduce``: run and judge the claims, print one line each; 0 if all PASS."""
    from .. import experiments

    predictions = {}
    for key, value in args.predict:
        predictions[key] = None if value in ("none", "None") else value
    try:
        experiments.prepare_out_dir(args.out, "--out")
        with _executor(experiments, args.dask, parser) as executor:
            summary = experiments.reproduce(
                quick=args.quick,
                claims=args.claims,
                out_dir=args.out,
                progress=not args.quiet,
                predictions=predictions or None,
                executor=executor,
                threads=args.threads,
                theory=not args.no_theory,
                resume=not args.fresh,
            )
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print(
            f"\nInterrupted: finished runs are cached in {Path(args.out) / 'runs'}; rerun the same command to continue.",
            file=sys.stderr,
        )
        return 130
    print(f"\nimplicit-bias reproduce ({'quick' if args.quick else 'full'}): {summary.seconds:.1f} s")
    for c in summary.claims:
        judged = [r for r in c.rows if r.get("result") in ("PASS", "FAIL")]
        npass = sum(r["result"] == "PASS" for r in judged)
        runs = f"{npass}/{len(judged)} runs" if judged else "study"
        print(f"  claim {c.number}: {c.status:6s} {runs:12s} {c.title}")
    out = Path(args.out)
    print(f"summary: {out / 'summary.md'}, {out / 'summary.json'}; figures: {out}/claim*.png")
    return 0 if summary.passed else 1


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``implicit-bias run``: one configuration -> .npz, .json and .png in ``--out``; 0 on success."""
    from .. import experiments

    base = load_toml(args.config, RUN_FILE_KEYS, parser) if args.config else {}
    try:
        raw = config_from_args(args, base)
        cfg = experiments.normalize_config(raw)
        X, y = experiments.load_data(cfg["data"])
        resolve_batch(cfg, X.shape[0])  # batch_size <= n, checked before the run
        # where the results go is checked before the run, not after it (nothing computed is lost)
        experiments.prepare_out_dir(args.out, "--out")
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    name = args.name or _run_name(cfg, experiments.config_key(cfg, experiments.data_hash(X, y)))
    try:
        traj, record = experiments.run_config(cfg, references=not args.no_references, progress=not args.quiet)
    except (ValueError, TypeError) as exc:  # the engine refused the data or a setting (it names it)
        parser.error(str(exc))
    except KeyboardInterrupt as exc:
        run = getattr(exc, "run", None)
        if run is not None:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            state = Path(args.out) / f"{name}.state.npz"
            run.save(state)
            print(f"\nInterrupted at step {run.t}; resumable state saved to {state} (ib.Run.load).", file=sys.stderr)
        return 130
    paths = experiments.save_run(traj, record, args.out, name, X=X, y=y)
    m = record.get("metrics", {})
    print(f"{name}: {cfg['steps']} steps")
    if m:
        print(
            f"  cos l2 {m.get('cos_l2', float('nan')):.6f}  cos w* {m.get('cos_fixed_point', float('nan')):.6f}  "
            f"l-inf margin ratio {m.get('ratio_linf', float('nan')):.4f}  nearest: {m.get('nearest')}"
        )
        pred = record.get("prediction", {})
        if pred:
            print(f"  theory (ib.predicted_direction): {pred.get('kind')}")
    print(f"  wrote {paths['npz']}, {paths['json']}, {paths['png']}")
    return 0


@contextlib.contextmanager
def _executor(experiments: Any, spec: str | None, parser: argparse.ArgumentParser) -> Iterator[Any]:
    """The ``--dask`` executor for the duration of a command (None without ``--dask``), closed on exit;
    a cluster that cannot start is a usage error."""
    if not spec:
        yield None
        return
    try:
        executor, close = experiments.default_executor(spec)
    except OSError as exc:
        parser.error(f"--{exc}")
    try:
        yield executor
    finally:
        close()


def _run_name(cfg: dict[str, Any], key: str) -> str:
    """The default file stem of a run: optimizer, data set, batch size and 8 digits of its key."""
    data = cfg["data"]
    dname = data.get("name") or Path(data.get("path", "data")).stem
    return f"{cfg['optimizer']['name']}_{dname}_b{cfg['batch_size']}_{key[:8]}"


def sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``implicit-bias sweep``: a grid x seeds -> cells, a CSV / JSON table and a heatmap; 0 on success."""
    from .. import experiments

    file = load_toml(args.config, SWEEP_FILE_KEYS, parser) if args.config else {}
    grid: dict[str, list[Any]] = {}
    file_grid = file.get("grid", {})
    if not isinstance(file_grid, dict):
        parser.error("--config: grid must be a table of parameter = [values]")
    for key, values in file_grid.items():
        if not isinstance(values, list) or not values:
            parser.error(f"--config: grid.{key} must be a non-empty list of values")
        grid[key] = values
    for key, values in args.grid:
        grid[key] = values
    if not grid:
        parser.error("--grid: give at least one swept parameter (--grid KEY=V1,V2 or a [grid] table)")
    if len(grid) > 2:
        parser.error(f"--grid: at most two parameters (a phase diagram), got {', '.join(grid)}")
    seeds = args.seeds if args.seeds is not None else file.get("seeds", [0])
    if (
        not isinstance(seeds, list)
        or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**64 for s in seeds)
        or not seeds
    ):
        parser.error(f"seeds: must be a non-empty list of integers in [0, 2**64 - 1], got {seeds!r}")
    seed_data = file.get("seed_data", True)
    if not isinstance(seed_data, bool):
        parser.error(f"seed_data: must be true or false, got {seed_data!r}")
    if args.fixed_data:
        seed_data = False
    try:
        base = config_from_args(args, file)
        if "steps" not in base:
            raise ValueError("steps: missing (the number of optimizer steps)")
        experiments.prepare_out_dir(args.out, "--out")
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    try:
        with _executor(experiments, args.dask, parser) as executor:
            res = experiments.sweep(
                base,
                grid,
                seeds=seeds,
                seed_data=seed_data,
                out_dir=args.out,
                executor=executor,
                threads=args.threads,
                progress=not args.quiet,
                resume=not args.fresh,
                reference=args.reference,
            )
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    waited = f", {res.waited} computed by another process" if res.waited else ""
    print(f"sweep: {len(res.rows)} cells ({res.ran} run, {res.skipped} already done{waited})")
    keys = list(res.grid)
    header = [*keys, "1-cos w*", "1-cos l2", "dist l-inf", "to its pred.", "nearest"]
    print("  " + "  ".join(f"{h:>12s}" for h in header))
    agg = json.loads(res.table_json.read_text())["aggregate"]
    for entry in agg:
        vals = [value_label(entry[k]) for k in keys]
        nums = [entry.get(f"{m}_mean") for m in ("dist_fixed_point", "dist_l2", "dist_linf", "dist_predicted")]
        near = entry.get("nearest") or "-"
        print(
            "  "
            + "  ".join(f"{v:>12s}" for v in vals)
            + "  "
            + "  ".join(f"{v:12.2e}" if v is not None else f"{'-':>12s}" for v in nums)
            + f"  {near:>12s}"
        )
    print(f"  wrote {res.table_csv}, {res.table_json}" + (f", {res.figure}" if res.figure else ""))
    return 0
