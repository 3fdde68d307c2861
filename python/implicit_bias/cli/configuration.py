"""The configuration a ``run`` or ``sweep`` command runs: its TOML file and its flags, merged."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..experiments.config import CONFIG_KEYS, DATA_FILE_SUFFIXES

#: Top-level keys of a ``run --config`` file: the keys of a configuration.
RUN_FILE_KEYS = CONFIG_KEYS
#: Top-level keys of a ``sweep --config`` file: a run's, the ``[grid]`` table, ``seeds`` and ``seed_data``.
SWEEP_FILE_KEYS = (*RUN_FILE_KEYS, "grid", "seeds", "seed_data")


def load_toml(path: str, allowed: Sequence[str], parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Read a ``--config`` TOML file whose top-level keys must be among ``allowed``.

    Args:
        path: the file.
        allowed: its permitted top-level keys (:data:`RUN_FILE_KEYS` or :data:`SWEEP_FILE_KEYS`).
        parser: the subcommand's parser, whose ``error`` ends a bad file with a usage error.

    Returns:
        The file's tables and values (tomllib from Python 3.11, tomli below).
    """
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


def config_from_args(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """Merge the configuration flags of ``run`` / ``sweep`` over a config-file mapping (flags win).

    Args:
        args: the parsed flags (those of :func:`.parser.add_configuration_flags`; None = not given).
        base: the ``--config`` file's mapping (keys other than :data:`RUN_FILE_KEYS` are ignored).

    Returns:
        A raw configuration for :func:`implicit_bias.experiments.normalize_config`.

    Raises:
        ValueError: naming the key, for flags that need another one (``--n`` without ``--data``,
            ``--beta2`` without ``--optimizer``, a schedule parameter the schedule does not take).
    """
    cfg = {k: v for k, v in base.items() if k in RUN_FILE_KEYS}
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
