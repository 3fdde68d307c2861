"""Run configurations: validate, fill defaults, and return the canonical, JSON-ready form.

A configuration (all keys but ``data`` and ``optimizer`` optional)::

    {"data": {"name": "gaussian", "n": 10, "d": 50, "seed": 0},   # or {"path": "data.npz"}
     "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999},
     "batch_size": 1,                  # int, or "n" for full batch (default "n")
     "order": "cyclic",                # cyclic | reshuffle | replacement
     "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},       # or a number (constant)
     "loss": "logistic", "steps": 1000000, "dtype": "float64", "seed": 0, "checkpoints": 200}

"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import optimizers as _opt
from ... import schedules as _sched
from ..._validation import DTYPE_NAMES, LOSSES, MAX_STEPS, ORDERS
from .data_spec import normalize_data

#: Most checkpoints a configuration may ask for (each is a row of d + 7 numbers; the log-spaced
#: grid has at most min(checkpoints, steps) + 1 distinct steps anyway).
MAX_CHECKPOINTS = 10**6
CONFIG_KEYS = ("data", "optimizer", "batch_size", "order", "lr", "loss", "steps", "dtype", "seed", "checkpoints")
DEFAULTS: dict[str, Any] = {
    "batch_size": "n",
    "order": "cyclic",
    "lr": 0.1,
    "loss": "logistic",
    "dtype": "float64",
    "seed": 0,
    "checkpoints": 200,
}


def optimizer_classes() -> dict[str, type[_opt.Optimizer]]:
    """Lower-case optimizer name -> class: every class of ``ALL_OPTIMIZERS`` plus the aliases
    sgd, signgd / sign_gd and adam_proxy / adamproxy."""
    out = {cls.__name__.lower(): cls for cls in _opt.ALL_OPTIMIZERS}
    out.update(
        {
            "sgd": _opt.GD,
            "signgd": _opt.SignGD,
            "sign_gd": _opt.SignGD,
            "adam_proxy": _opt.AdamProxy,
            "adamproxy": _opt.AdamProxy,
        }
    )
    return out


def optimizer_fields(cls: type[_opt.Optimizer]) -> list[str]:
    """The names of an optimizer class's dataclass fields (its hyper-parameters)."""
    return [f.name for f in dataclasses.fields(cls)]


def normalize_optimizer(spec: Any) -> dict[str, Any]:
    """The canonical description of an optimizer.

    Args:
        spec: an :class:`~implicit_bias.optimizers.Optimizer`, a name (``"Adam"``, any case or
            alias) or a mapping with ``name`` and hyper-parameters.

    Returns:
        ``{"name": <class name>, <every hyper-parameter>: value}`` (``optimizers.describe``).

    Raises:
        ValueError: naming the key (``optimizer.name``, ``optimizer.<hyper-parameter>``).
    """
    if isinstance(spec, _opt.Optimizer):
        return _opt.describe(spec)
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise ValueError(f"optimizer: must be a name such as 'Adam' or a table with a 'name' key, got {spec!r}")
    if "name" not in spec:
        raise ValueError('optimizer.name: missing (e.g. name = "Adam")')
    classes = optimizer_classes()
    name = str(spec["name"]).lower()
    if name not in classes:
        known = ", ".join(cls.__name__ for cls in _opt.ALL_OPTIMIZERS)
        raise ValueError(f"optimizer.name: unknown optimizer {spec['name']!r}; known: {known}")
    cls = classes[name]
    params = {k: v for k, v in spec.items() if k != "name"}
    allowed = optimizer_fields(cls)
    for key in params:
        if key not in allowed:
            hint = ", ".join(allowed) if allowed else "none"
            raise ValueError(f"optimizer.{key}: {cls.__name__} has no hyper-parameter {key!r} (allowed: {hint})")
    try:
        opt = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"optimizer.{exc}") from exc
    return _opt.describe(opt)


def normalize_lr(spec: Any) -> dict[str, Any]:
    """The canonical description of a learning-rate schedule.

    Args:
        spec: a :class:`~implicit_bias.schedules.Schedule`, a positive number (constant) or a
            mapping with ``kind`` (constant, polynomial, step_decay; default constant), ``eta0`` and
            the kind's parameters.

    Returns:
        ``Schedule.to_dict()``: kind, eta0, power, factor, every.

    Raises:
        ValueError: naming the key (``lr.kind``, ``lr.eta0``, ``lr.power``, ...).
    """
    if isinstance(spec, _sched.Schedule):
        sched = spec
    elif isinstance(spec, (int, float)) and not isinstance(spec, bool):
        try:
            sched = _sched.constant(spec)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"lr: {exc}") from exc
    elif isinstance(spec, Mapping):
        kind = spec.get("kind", spec.get("schedule", "constant"))
        params = {k: v for k, v in spec.items() if k not in ("kind", "schedule")}
        makers = {"constant": _sched.constant, "polynomial": _sched.polynomial, "step_decay": _sched.step_decay}
        if not isinstance(kind, str) or kind not in makers:
            raise ValueError(f"lr.kind: must be one of {', '.join(makers)}, got {kind!r}")
        signature = inspect.signature(makers[kind]).parameters
        allowed = list(signature)
        # A complete description (as written by this module) carries every field; drop the unused ones.
        defaults = {"power": 0.0, "factor": 1.0, "every": 1}
        for key in list(params):
            if key not in allowed:
                if key in defaults and params[key] == defaults[key]:
                    params.pop(key)
                    continue
                raise ValueError(
                    f"lr.{key}: the {kind} schedule has no parameter {key!r} (allowed: {', '.join(allowed)})"
                )
        if "eta0" not in params:
            raise ValueError("lr.eta0: missing (the initial learning rate)")
        for name, p in signature.items():
            if p.default is inspect.Parameter.empty and name not in params:
                raise ValueError(f"lr.{name}: missing (the {kind} schedule needs it)")
        try:
            sched = makers[kind](**params)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"lr.{exc}") from exc
    else:
        raise ValueError(f"lr: must be a positive number or a table with kind/eta0/power, got {spec!r}")
    return sched.to_dict()


def normalize_config(
    config: Mapping[str, Any], *, require_steps: bool = True, allow_arrays: bool = False
) -> dict[str, Any]:
    """Validate a run configuration and return its canonical, JSON-ready form.

    Defaults (:data:`DEFAULTS`): ``batch_size="n"`` (full batch), ``order="cyclic"``, ``lr=0.1``
    (constant), ``loss="logistic"``, ``dtype="float64"``, ``seed=0``, ``checkpoints=200``.

    Args:
        config: a mapping with the keys of :data:`CONFIG_KEYS` (``data`` and ``optimizer`` required).
        require_steps: refuse a configuration without ``steps``.
        allow_arrays: accept ``data = {"name": "<arrays>", ...}`` as given (data passed as arrays).

    Returns:
        A new dict with every key of :data:`CONFIG_KEYS` (``steps`` if given) in canonical form.

    Raises:
        ValueError: an unknown or bad key, named (``optimizer.beta2: ...``).
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"config: must be a mapping, got {type(config).__name__}")
    for key in config:
        if key not in CONFIG_KEYS:
            raise ValueError(f"{key}: unknown configuration key (allowed: {', '.join(CONFIG_KEYS)})")
    cfg = {**DEFAULTS, **config}
    if "data" not in cfg:
        raise ValueError(
            "data: missing (a data set name with its parameters, sklearn:NAME:A,B, or a path to a data file)"
        )
    if "optimizer" not in cfg:
        raise ValueError('optimizer: missing (e.g. {name = "Adam", beta2 = 0.999})')
    arrays = allow_arrays and isinstance(cfg["data"], Mapping) and cfg["data"].get("name") == "<arrays>"
    data = dict(cfg["data"]) if arrays else normalize_data(cfg["data"])
    out: dict[str, Any] = {"data": data, "optimizer": normalize_optimizer(cfg["optimizer"])}
    b = cfg["batch_size"]
    if b is None or (isinstance(b, str) and b.lower() in ("n", "full")):
        out["batch_size"] = "n"
    elif isinstance(b, str) and b.strip().isdigit():
        out["batch_size"] = int(b)
    elif isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 1:
        out["batch_size"] = int(b)
    else:
        raise ValueError(f'batch_size: must be a positive integer or "n" (full batch), got {b!r}')
    if cfg["order"] not in ORDERS:
        raise ValueError(f"order: must be one of {', '.join(ORDERS)}, got {cfg['order']!r}")
    out["order"] = cfg["order"]
    out["lr"] = normalize_lr(cfg["lr"])
    if cfg["loss"] not in LOSSES:
        raise ValueError(f"loss: must be one of {', '.join(LOSSES)}, got {cfg['loss']!r}")
    out["loss"] = cfg["loss"]
    if "steps" in cfg:
        s = cfg["steps"]
        if isinstance(s, float) and s.is_integer():
            s = int(s)
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 1 <= s <= MAX_STEPS:
            raise ValueError(f"steps: must be an integer in [1, 2**63 - 1], got {s!r}")
        out["steps"] = int(s)
    elif require_steps:
        raise ValueError("steps: missing (the number of optimizer steps)")
    dtype = cfg["dtype"]
    try:
        dtype_name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except (TypeError, ValueError):
        dtype_name = None
    if dtype_name not in DTYPE_NAMES:
        raise ValueError(f"dtype: must be float64 or longdouble, got {dtype!r}")
    out["dtype"] = "longdouble" if DTYPE_NAMES[dtype_name] is np.longdouble else "float64"
    for key, low, high in (("seed", 0, 2**64 - 1), ("checkpoints", 1, MAX_CHECKPOINTS)):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not low <= v <= high:
            raise ValueError(f"{key}: must be an integer in [{low}, {high}], got {v!r}")
        out[key] = int(v)
    return out
