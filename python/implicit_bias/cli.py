"""The ``implicit-bias`` command line: ``reproduce``, ``run`` and ``sweep``.

Each subcommand is a thin layer over :mod:`implicit_bias.experiments` (``reproduce``,
``run_config``, ``sweep``), so a notebook can do the same without the shell. Bad flags and bad
configuration files end with a usage error that names the offending key (exit status 2); an
interrupted sweep (Ctrl-C) keeps its finished cells on disk and exits with status 130.

Examples::

    implicit-bias reproduce --quick                       # claims 1-7 and 9, reduced size
    implicit-bias reproduce --claims 6,7 --out results/s  # research size, progress bars
    implicit-bias run --data gaussian --n 10 --d 50 --optimizer Adam --beta2 0.999 \\
        --batch-size 1 --lr 0.1 --power 0.5 --steps 1e6
    implicit-bias run --config run.toml
    implicit-bias sweep --config sweep.toml
    implicit-bias sweep --data gaussian --n 10 --d 50 --optimizer Adam --lr 0.001 --power 0.3 \\
        --steps 1e6 --grid batch_size=1,2,5,n --grid beta2=0.99,0.999 --seeds 0,1,2

A ``run`` TOML file holds the configuration keys of :func:`implicit_bias.experiments.normalize_config`::

    steps = 1000000
    batch_size = 1
    [data]
    name = "gaussian"
    n = 10
    d = 50
    [optimizer]
    name = "Adam"
    beta2 = 0.999
    [lr]
    kind = "polynomial"
    eta0 = 0.1
    power = 0.5

A ``sweep`` file adds ``seeds = [0, 1, 2]`` and a ``[grid]`` table (``batch_size = [1, 2, 5, "n"]``,
``beta2 = [0.99, 0.999]``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._format import value_label
from ._version import __version__
from .experiments.config import DATA_FILE_SUFFIXES

_RUN_FILE_KEYS = ("data", "optimizer", "batch_size", "order", "lr", "loss", "steps", "dtype", "seed", "checkpoints")
_SWEEP_FILE_KEYS = (*_RUN_FILE_KEYS, "grid", "seeds", "seed_data")


def _number(text: str) -> int | float:
    """Parse '1000', '1e6' (-> int when integral) or '0.1'."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return int(value) if value.is_integer() and ("e" in text.lower()) and abs(value) < 2**63 else value


def _int(text: str) -> int:
    value = _number(text)
    if not isinstance(value, int):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return value


def _every(text: str) -> int | str:
    """A step_decay period: 'epoch' or a positive integer number of steps."""
    if text.strip() == "epoch":
        return "epoch"
    try:
        return _int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected an integer number of steps or 'epoch', got {text!r}") from None


def _threads(text: str) -> int:
    from .engine.ensemble import MAX_THREADS

    value = _int(text)
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, {MAX_THREADS}], got {text!r}")
    return value


def _dask_spec(text: str) -> str:
    from .experiments.execute import check_executor_spec

    try:
        return check_executor_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).partition(": ")[2]) from None


def _file_stem(text: str) -> str:
    from .experiments.run import check_file_stem

    try:
        return check_file_stem("name", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).partition(": ")[2]) from None


def _directory(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    return text


def _scalar(text: str) -> Any:
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return _number(t)
    except argparse.ArgumentTypeError:
        return t


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _key_values(text: str) -> tuple[str, list[Any]]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,..., got {text!r}")
    key, _, values = text.partition("=")
    vals = [_scalar(v) for v in values.split(",") if v.strip()]
    if not key.strip() or not vals:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,..., got {text!r}")
    return key.strip(), vals


def _key_value(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, _, value = text.partition("=")
    return key.strip(), _scalar(value)


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (or data.* in the config file)")
    g.add_argument(
        "--data",
        metavar="NAME",
        help="gaussian, generalized_rademacher (gr), shifted_diagonal; sklearn:NAME:A,B (a scikit-learn data set, two "
        "classes, e.g. sklearn:digits:0,1); or a data file (.npy, .npz, .csv, .svm)",
    )
    g.add_argument("--n", type=_int, help="number of samples")
    g.add_argument("--d", type=_int, help="dimension")
    g.add_argument("--delta", type=float, help="shift of shifted_diagonal")
    g.add_argument("--data-seed", type=_int, help="seed of the generated data set")
    g.add_argument(
        "--data-param",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other data-set parameter (e.g. labels=teacher)",
    )
    g.add_argument(
        "--data-file",
        metavar="PATH",
        help=".npz with arrays X, y, or .csv whose last column (or column 'y') is the label",
    )
    g = p.add_argument_group("optimizer")
    g.add_argument(
        "--optimizer", metavar="NAME", help="GD (= SGD), SignGD, Adam, RMSProp, AdamProxy, Signum, AdaGrad, Lion"
    )
    g.add_argument("--beta1", type=float)
    g.add_argument("--beta2", type=float)
    g.add_argument("--eps", type=float)
    g.add_argument("--beta", type=float, help="Signum momentum")
    g.add_argument(
        "--bias-correction", action="store_true", default=None, help="Adam bias correction (PyTorch convention)"
    )
    g = p.add_argument_group("run")
    g.add_argument("--batch-size", metavar="B", help="samples per step, or 'n' for full batch (default n)")
    g.add_argument("--order", choices=("cyclic", "reshuffle", "replacement"))
    g.add_argument("--lr", type=float, metavar="ETA0", help="(initial) learning rate")
    g.add_argument("--schedule", choices=("constant", "polynomial", "step_decay"))
    g.add_argument("--power", type=float, help="polynomial schedule: eta0 (t+1)^-power (implies --schedule polynomial)")
    g.add_argument("--factor", type=float, help="step_decay factor")
    g.add_argument("--every", type=_every, help="step_decay period in steps, or 'epoch'")
    g.add_argument("--loss", choices=("logistic", "exponential"))
    g.add_argument("--steps", type=_int, help="number of steps (1e6 accepted)")
    g.add_argument("--dtype", choices=("float64", "longdouble"), help="precision of the run")
    g.add_argument("--seed", type=_int, help="sampler seed")
    g.add_argument("--checkpoints", type=_int, help="number of log-spaced checkpoints (default 200)")


def _load_toml(path: str, allowed: Sequence[str], parser: argparse.ArgumentParser) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: tomli is the package tomllib was made from (same API)
        import tomli as tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        parser.error(f"--config: no such file: {path}")
    except IsADirectoryError:
        parser.error(f"--config: {path} is a directory, not a TOML file")
    except OSError as exc:
        parser.error(f"--config: cannot read {path} ({exc.strerror or exc})")
    except tomllib.TOMLDecodeError as exc:
        parser.error(f"--config: {path} is not valid TOML ({exc})")
    except (ValueError, RecursionError) as exc:  # e.g. UnicodeDecodeError: not UTF-8 text
        parser.error(f"--config: {path} is not valid TOML ({type(exc).__name__}: {exc})")
    for key in data:
        if key not in allowed:
            parser.error(f"--config: {path}: unknown key {key!r} (allowed: {', '.join(allowed)})")
    return data


def _config_from_args(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """Merge explicit flags over a config-file mapping (flags win)."""
    cfg = {k: v for k, v in base.items() if k in _RUN_FILE_KEYS}
    # data
    if args.data_file is not None:
        cfg["data"] = {"path": args.data_file}
    data_flags = {"n": args.n, "d": args.d, "delta": args.delta, "seed": args.data_seed}
    data_flags = {k: v for k, v in data_flags.items() if v is not None}
    data_flags.update(dict(args.data_param))
    if args.data is not None and (args.data.startswith("sklearn:") or args.data.lower().endswith(DATA_FILE_SUFFIXES)):
        if data_flags:
            raise ValueError("data: --n/--d/--delta/--data-seed/--data-param apply to generated data sets only")
        cfg["data"] = args.data  # sklearn:NAME:A,B or a data file, parsed by normalize_config
    elif args.data is not None:
        cfg["data"] = {"name": args.data, **data_flags}
    elif data_flags:
        if not isinstance(cfg.get("data"), dict) or "name" not in cfg["data"]:
            raise ValueError(
                "data: --n/--d/--delta/--data-seed/--data-param need --data NAME (or data.name in the config file)"
            )
        cfg["data"] = {**cfg["data"], **data_flags}
    # optimizer
    opt_flags = {
        "beta1": args.beta1,
        "beta2": args.beta2,
        "eps": args.eps,
        "beta": args.beta,
        "bias_correction": args.bias_correction,
    }
    opt_flags = {k: v for k, v in opt_flags.items() if v is not None}
    if args.optimizer is not None:
        cfg["optimizer"] = {"name": args.optimizer, **opt_flags}
    elif opt_flags:
        opt = cfg.get("optimizer")
        if isinstance(opt, str):
            opt = {"name": opt}
        if not isinstance(opt, dict):
            raise ValueError(
                "optimizer: hyper-parameter flags need --optimizer NAME (or optimizer.name in the config file)"
            )
        cfg["optimizer"] = {**opt, **opt_flags}
    # learning rate
    lr_flags = {"eta0": args.lr, "power": args.power, "factor": args.factor}
    if args.every is not None:
        lr_flags["every"] = args.every
    lr_flags = {k: v for k, v in lr_flags.items() if v is not None}
    if lr_flags or args.schedule is not None:
        lr = cfg.get("lr", 0.1)
        lr = dict(lr) if isinstance(lr, dict) else {"kind": "constant", "eta0": lr}
        lr.update(lr_flags)
        if args.schedule is not None:
            lr["kind"] = args.schedule
        elif "power" in lr_flags and lr.get("kind", "constant") == "constant":
            lr["kind"] = "polynomial"
        elif ("factor" in lr_flags or "every" in lr_flags) and lr.get("kind", "constant") == "constant":
            lr["kind"] = "step_decay"
        keep = {"constant": ("eta0",), "polynomial": ("eta0", "power"), "step_decay": ("eta0", "factor", "every")}.get(
            lr.get("kind", "constant"), ()
        )
        dropped = [k for k in lr if k not in (*keep, "kind") and k in lr_flags]
        if dropped:
            raise ValueError(f"lr.{dropped[0]}: not a parameter of the {lr.get('kind')} schedule")
        cfg["lr"] = {k: v for k, v in lr.items() if k in (*keep, "kind")}
    # the rest
    if args.batch_size is not None:
        b = args.batch_size
        cfg["batch_size"] = int(b) if b.isdigit() else b
    for key in ("order", "loss", "steps", "dtype", "seed", "checkpoints"):
        value = getattr(args, key)
        if value is not None:
            cfg[key] = value
    return cfg


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="implicit-bias", description="Which max-margin direction does an optimizer converge to on separable data?"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{reproduce,run,sweep}")
    sub.required = True

    subs: dict[str, argparse.ArgumentParser] = {}
    p = subs["reproduce"] = sub.add_parser(
        "reproduce",
        help="reproduce the claims of SPEC.md; writes summary.md/.json and one PNG per claim",
        description="Reproduce the claims of SPEC.md end to end.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="reduced size: claims 1-7 and 9 by default, 1e5-1e7 steps (about 30 s on 2 cores)",
    )
    p.add_argument(
        "--claims",
        type=_int_list,
        metavar="1,2,3",
        help="which claims (default: 1-7 and 9 with --quick, all 9 otherwise)",
    )
    p.add_argument(
        "--out",
        type=_directory,
        default="results/reproduce",
        metavar="DIR",
        help="output directory (default results/reproduce)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--threads", type=_threads, help="OpenMP threads (default: all cores)")
    p.add_argument(
        "--dask",
        type=_dask_spec,
        metavar="SPEC",
        help="run on dask: 'dask' / 'dask:N' (local cluster) or a scheduler address tcp://host:port",
    )
    p.add_argument(
        "--predict",
        type=_key_value,
        action="append",
        default=[],
        metavar="claimN=KIND",
        help="override a claim's prediction (l2, linf, fixed_point, not-linf): a wrong one must FAIL",
    )
    p.add_argument("--no-theory", action="store_true", help="skip the ib.predicted_direction cross-check column")
    p.add_argument("--fresh", action="store_true", help="recompute runs already cached in DIR/runs")

    p = subs["run"] = sub.add_parser(
        "run",
        help="run one configuration: .npz trajectory, .json record, .png figure",
        description="Run one configuration from flags and/or a TOML file (flags override the file).",
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="configuration file (keys: data, optimizer, batch_size, order, lr, loss, steps, dtype, seed, checkpoints)",
    )
    _add_run_flags(p)
    p.add_argument(
        "--out", type=_directory, default="results/run", metavar="DIR", help="output directory (default results/run)"
    )
    p.add_argument("--name", type=_file_stem, help="file name stem (default: derived from the configuration)")
    p.add_argument(
        "--no-references", action="store_true", help="skip the l2 / l-inf / fixed-point references (no CVXPY)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = subs["sweep"] = sub.add_parser(
        "sweep",
        help="grid of one or two parameters x seeds -> table (CSV/JSON) and phase-diagram heatmap",
        description="Sweep one or two parameters (times seeds) around a base configuration.",
    )
    p.add_argument("--config", metavar="FILE.toml", help="base configuration plus [grid] and seeds")
    _add_run_flags(p)
    p.add_argument(
        "--grid",
        type=_key_values,
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a swept parameter (repeat once for a 2-D phase diagram), e.g. batch_size=1,2,5,n or beta2=0.99,0.999",
    )
    p.add_argument("--seeds", type=_int_list, metavar="0,1,2", help="seeds (run seed and data seed), default 0")
    p.add_argument(
        "--fixed-data", action="store_true", help="seeds vary only the run's sampler seed, not the generated data set"
    )
    p.add_argument(
        "--out",
        type=_directory,
        default="results/sweep",
        metavar="DIR",
        help="output directory (default results/sweep)",
    )
    p.add_argument("--threads", type=_threads, help="OpenMP threads (default: all cores)")
    p.add_argument(
        "--dask",
        type=_dask_spec,
        metavar="SPEC",
        help="run on dask: 'dask' / 'dask:N' (local cluster) or a scheduler address tcp://host:port",
    )
    p.add_argument("--fresh", action="store_true", help="recompute cells already in DIR/cells")
    p.add_argument(
        "--reference",
        choices=("predicted", "epoch_map", "none"),
        default="predicted",
        help="each cell's own prediction to measure against (predicted = the batch / rho fixed point matching its batch size "
        "and order; epoch_map = the finite-beta2 epoch map for cyclic Adam; our extension)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser, subs


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``implicit-bias`` console script; returns the exit status."""
    parser, subs = _build_parser()
    args = parser.parse_args(argv)
    sub = subs[args.command]
    try:
        if args.command == "reproduce":
            return _cmd_reproduce(args, sub)
        if args.command == "run":
            return _cmd_run(args, sub)
        return _cmd_sweep(args, sub)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


def _cmd_reproduce(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import experiments

    predictions = {}
    for key, value in args.predict:
        predictions[key] = None if value in ("none", "None") else value
    executor, close = (None, lambda: None)
    try:
        experiments.prepare_out_dir(args.out, "--out")
        if args.dask:
            executor, close = _executor(experiments, args.dask, parser)
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
    finally:
        close()
    print(f"\nimplicit-bias reproduce ({'quick' if args.quick else 'full'}): {summary.seconds:.1f} s")
    for c in summary.claims:
        judged = [r for r in c.rows if r.get("result") in ("PASS", "FAIL")]
        npass = sum(r["result"] == "PASS" for r in judged)
        runs = f"{npass}/{len(judged)} runs" if judged else "study"
        print(f"  claim {c.number}: {c.status:6s} {runs:12s} {c.title}")
    out = Path(args.out)
    print(f"summary: {out / 'summary.md'}, {out / 'summary.json'}; figures: {out}/claim*.png")
    return 0 if summary.passed else 1


def _cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import experiments

    base = _load_toml(args.config, _RUN_FILE_KEYS, parser) if args.config else {}
    try:
        raw = _config_from_args(args, base)
        cfg = experiments.normalize_config(raw)
        X, y = experiments.load_data(cfg["data"])
        if cfg["batch_size"] != "n" and cfg["batch_size"] > X.shape[0]:
            raise ValueError(f"batch_size: {cfg['batch_size']} exceeds the number of samples n = {X.shape[0]}")
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


def _executor(experiments: Any, spec: str, parser: argparse.ArgumentParser) -> Any:
    try:
        return experiments.default_executor(spec)
    except OSError as exc:
        parser.error(f"--{exc}")


def _run_name(cfg: dict[str, Any], key: str) -> str:
    data = cfg["data"]
    dname = data.get("name") or Path(data.get("path", "data")).stem
    return f"{cfg['optimizer']['name']}_{dname}_b{cfg['batch_size']}_{key[:8]}"


def _cmd_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import experiments

    file = _load_toml(args.config, _SWEEP_FILE_KEYS, parser) if args.config else {}
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
        base = _config_from_args(args, file)
        if "steps" not in base:
            raise ValueError("steps: missing (the number of optimizer steps)")
        experiments.prepare_out_dir(args.out, "--out")
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    executor, close = (None, lambda: None)
    try:
        if args.dask:
            executor, close = _executor(experiments, args.dask, parser)
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
    finally:
        close()
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
