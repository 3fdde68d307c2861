"""Edit raw configurations (the swept parameters of a grid) and make values JSON-ready."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import optimizers as _opt
from ... import schedules as _sched
from .data_spec import DATASET_ALIASES, generator_parameters
from .normalize import DEFAULTS, normalize_lr, normalize_optimizer, optimizer_classes, optimizer_fields

_TOP_KEYS = ("batch_size", "order", "loss", "steps", "dtype", "seed", "checkpoints", "lr", "optimizer", "data")
_LR_KEYS = ("eta0", "power", "factor", "every")


def set_param(config: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of a raw config with parameter ``key`` set to ``value``.

    ``key`` is a top-level key (``batch_size``, ``order``, ...), a dotted path (``optimizer.beta2``,
    ``lr.eta0``, ``data.n``), or a shorthand: an optimizer hyper-parameter (``beta2``), a schedule
    parameter (``eta0``, ``power``: setting ``power`` on a constant schedule makes it polynomial) or
    a data-set parameter (``n``, ``d``, ``delta``).

    Args:
        config: a raw configuration (not modified).
        key: the parameter, as above.
        value: its new value (validated later, by :func:`.normalize.normalize_config`).

    Returns:
        The edited copy.

    Raises:
        ValueError: an unknown parameter, named as ``grid.<key>``.
    """
    cfg = copy.deepcopy(dict(config))
    if "." in key:
        head, _, tail = key.partition(".")
    elif key in _TOP_KEYS:
        cfg[key] = value
        return cfg
    elif key in _LR_KEYS:
        head, tail = "lr", key
    else:
        opt = cfg.get("optimizer")
        opt_name = opt.get("name") if isinstance(opt, Mapping) else (opt if isinstance(opt, str) else None)
        cls = optimizer_classes().get(str(opt_name).lower()) if opt_name is not None else None
        opt_fields = optimizer_fields(cls) if cls is not None else []
        data = cfg.get("data")
        data_params: list[str] = []
        if isinstance(data, Mapping) and str(data.get("name", "")).lower() in DATASET_ALIASES:
            generator = DATASET_ALIASES[str(data["name"]).lower()]
            data_params = [p.name for p in generator_parameters(generator) if p.name != "dtype"]
        if key in opt_fields:
            head, tail = "optimizer", key
        elif key in data_params:
            head, tail = "data", key
        else:
            raise ValueError(
                f"grid.{key}: unknown parameter (use a configuration key such as batch_size, an optimizer "
                f"hyper-parameter of {opt_name}, eta0 / power, a data-set parameter, or a dotted path like optimizer.beta2)"
            )
    if head not in ("optimizer", "lr", "data"):
        raise ValueError(f"grid.{key}: only optimizer.*, lr.* and data.* can be addressed with a dotted path")
    sub = cfg.get(head, DEFAULTS.get(head))
    if head == "lr" and not isinstance(sub, Mapping):
        sub = {"kind": "constant", "eta0": float(sub)} if not isinstance(sub, _sched.Schedule) else normalize_lr(sub)
    if head == "optimizer" and isinstance(sub, (str, _opt.Optimizer)):
        sub = normalize_optimizer(sub)
    sub = dict(sub or {})
    sub[tail] = value
    if head == "lr" and tail == "power" and sub.get("kind", "constant") == "constant":
        sub["kind"] = "polynomial"
    cfg[head] = sub
    return cfg


def jsonable(x: Any) -> Any:
    """``x`` with optimizers and schedules described, NumPy scalars as Python ones, keys as strings."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, _opt.Optimizer):
        return _opt.describe(x)
    if isinstance(x, _sched.Schedule):
        return normalize_lr(x)
    if isinstance(x, np.generic):
        return x.item()
    return x
