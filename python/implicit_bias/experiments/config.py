"""Run configurations: normalize (validate, fill defaults, canonical JSON), hash, and edit.

A configuration (all keys but ``data`` and ``optimizer`` optional)::

    {"data": {"name": "gaussian", "n": 10, "d": 50, "seed": 0},   # or {"path": "data.npz"}
     "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999},
     "batch_size": 1,                  # int, or "n" for full batch (default "n")
     "order": "cyclic",                # cyclic | reshuffle | replacement
     "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},       # or a number (constant)
     "loss": "logistic", "steps": 1000000, "dtype": "float64", "seed": 0, "checkpoints": 200}

"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import _core, datasets
from .. import optimizers as _opt
from .. import schedules as _sched
from .._validation import DTYPE_NAMES, LOSSES, MAX_STEPS, ORDERS, check_fits
from .._version import __version__

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


# ============================================================================ configurations
DATASET_ALIASES = {
    "gaussian": "gaussian",
    "gauss": "gaussian",
    "generalized_rademacher": "generalized_rademacher",
    "gr": "generalized_rademacher",
    "rademacher": "generalized_rademacher",
    "shifted_diagonal": "shifted_diagonal",
    "diagonal": "shifted_diagonal",
}


def optimizer_classes() -> dict[str, type[_opt.Optimizer]]:
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
    return [f.name for f in dataclasses.fields(cls)]


def normalize_optimizer(spec: Any) -> dict[str, Any]:
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


#: File formats ``data.path`` accepts (read by ``ib.datasets.load``).
DATA_FILE_SUFFIXES = (".npy", ".npz", ".csv", ".svm", ".svmlight", ".libsvm")


def _parse_data_string(text: str) -> dict[str, Any]:
    """``"sklearn:digits:0,1"`` -> a scikit-learn data set; anything else -> a file path."""
    if text.startswith("sklearn:"):
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[1]:
            raise ValueError(
                f"data: {text!r} must look like sklearn:NAME or sklearn:NAME:A,B (e.g. sklearn:digits:0,1)"
            )
        out: dict[str, Any] = {"sklearn": parts[1]}
        if len(parts) == 3:
            classes = [c.strip() for c in parts[2].split(",")]
            if len(classes) != 2 or not all(classes):
                raise ValueError(f"data: {text!r}: give exactly two classes, e.g. sklearn:digits:0,1")
            out["classes"] = [int(c) if c.lstrip("-").isdigit() else c for c in classes]
        return out
    return {"path": text}


def normalize_data(spec: Any) -> dict[str, Any]:
    if isinstance(spec, (str, os.PathLike)):
        spec = _parse_data_string(os.fspath(spec))
    if not isinstance(spec, Mapping):
        raise ValueError(f"data: must be a table with 'name' (and its parameters), 'sklearn' or 'path', got {spec!r}")
    spec = dict(spec)
    if "path" in spec:
        extra = set(spec) - {"path"}
        if extra:
            raise ValueError(f"data.{sorted(extra)[0]}: not allowed together with data.path")
        if not isinstance(spec["path"], (str, os.PathLike)):
            raise ValueError(f"data.path: must be a file name (.npz or .csv), got {spec['path']!r}")
        path = os.fspath(spec["path"])
        if not path.lower().endswith(DATA_FILE_SUFFIXES):
            raise ValueError(f"data.path: must be a {', '.join(DATA_FILE_SUFFIXES)} file, got {path!r}")
        return {"path": path}
    if "sklearn" in spec:
        extra = set(spec) - {"sklearn", "classes", "standardize"}
        if extra:
            raise ValueError(f"data.{sorted(extra)[0]}: a scikit-learn data set takes only classes and standardize")
        out = {
            "sklearn": str(spec["sklearn"]),
            "classes": None,
            "standardize": True,
            **{k: v for k, v in spec.items() if k != "sklearn"},
        }
        if out["classes"] is not None:
            if isinstance(out["classes"], (str, bytes)) or len(out["classes"]) != 2:
                raise ValueError(f"data.classes: must be two classes, got {out['classes']!r}")
            out["classes"] = list(out["classes"])
        if not isinstance(out["standardize"], bool):
            raise ValueError(f"data.standardize: must be true or false, got {out['standardize']!r}")
        return out
    if "name" not in spec:
        raise ValueError(
            "data.name: missing (one of gaussian, generalized_rademacher, shifted_diagonal) or give data.path"
        )
    name = str(spec.pop("name")).lower()
    if name not in DATASET_ALIASES:
        raise ValueError(
            f"data.name: unknown data set {name!r}; known: gaussian, generalized_rademacher (gr), shifted_diagonal"
        )
    name = DATASET_ALIASES[name]
    fn = getattr(datasets, name)
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    allowed = [p.name for p in params]
    for key in spec:
        if key not in allowed:
            raise ValueError(f"data.{key}: data set {name!r} has no parameter {key!r} (allowed: {', '.join(allowed)})")
    for p in params:
        if p.default is inspect.Parameter.empty and p.name not in spec:
            raise ValueError(f"data.{p.name}: missing (data set {name!r} needs it)")
    return {"name": name, **spec}


def normalize_config(
    config: Mapping[str, Any], *, require_steps: bool = True, allow_arrays: bool = False
) -> dict[str, Any]:
    """Validate a run configuration and return its canonical, JSON-ready form.

    Unknown or bad keys raise ``ValueError`` naming the key (``optimizer.beta2: ...``). Defaults:
    ``batch_size="n"`` (full batch), ``order="cyclic"``, ``lr=0.1`` (constant), ``loss="logistic"``,
    ``dtype="float64"``, ``seed=0``, ``checkpoints=200``.
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


# ============================================================================ data


def data_hash(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the data (shape, dtype and bytes), hex."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


#: Version of the stored cell layout; part of every key (see :func:`config_key`).
CELL_FORMAT = 2


def build_tag() -> dict[str, Any]:
    """What identifies the code a result came from: the package version, the cell layout, whether
    the core was built with OpenMP, and the core's own build information when it exposes some
    (``implicit_bias._core.build_info``, a mapping or a callable returning one)."""
    tag: dict[str, Any] = {
        "version": __version__,
        "cell_format": CELL_FORMAT,
        "openmp": bool(getattr(_core, "openmp", False)),
    }
    info = getattr(_core, "build_info", None)
    if callable(info):
        info = info()
    if info is not None:
        tag["build"] = json.loads(json.dumps(info, sort_keys=True, default=str))
    return tag


def config_key(config: Mapping[str, Any], data_sha: str | None = None) -> str:
    """Key of a (normalized) configuration: 16 hex digits of the sha256 of its canonical JSON,
    the data hash and :func:`build_tag` (so a new version or build never reuses old cells)."""
    payload = json.dumps(
        {"config": config, "data_sha256": data_sha, "build": build_tag()}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def run_bytes(config: Mapping[str, Any], d: int) -> int:
    """Bytes one run of a normalized configuration holds at most: its checkpoints (at most
    ``min(checkpoints, steps) + 1`` rows of d + 7 values) and its state vectors."""
    itemsize = np.dtype(DTYPE_NAMES[config["dtype"]]).itemsize
    rows = min(int(config["checkpoints"]), int(config.get("steps", config["checkpoints"]))) + 1
    return rows * (d + 7) * itemsize + 8 * d * itemsize + 16 * int(config["checkpoints"])


def check_run_sizes(d: int, configs: Sequence[Mapping[str, Any]]) -> None:
    """Refuse runs on data of dimension d whose checkpoints and states, together, cannot fit in memory."""
    total = sum(run_bytes(c, d) for c in configs)
    check_fits(
        "checkpoints",
        total,
        f"{len(configs)} run{'s' if len(configs) > 1 else ''} of d = {d} with up to {max(int(c['checkpoints']) for c in configs)} checkpoints",
    )


def resolve_batch(config: Mapping[str, Any], n: int) -> int:
    b = config["batch_size"]
    if b == "n":
        return n
    if b > n:
        raise ValueError(f"batch_size: {b} exceeds the number of samples n = {n}")
    return int(b)


def run_kwargs(config: Mapping[str, Any], n: int) -> dict[str, Any]:
    return {
        "optimizer": _opt.from_description(dict(config["optimizer"])),
        "batch_size": resolve_batch(config, n),
        "order": config["order"],
        "lr": _sched.from_dict(config["lr"]),
        "loss": config["loss"],
        "seed": config["seed"],
    }


# ============================================================================ sweeps
_TOP_KEYS = ("batch_size", "order", "loss", "steps", "dtype", "seed", "checkpoints", "lr", "optimizer", "data")
_LR_KEYS = ("eta0", "power", "factor", "every")


def set_param(config: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of a raw config with parameter ``key`` set to ``value``.

    ``key`` is a top-level key (``batch_size``, ``order``, ...), a dotted path (``optimizer.beta2``,
    ``lr.eta0``, ``data.n``), or a shorthand: an optimizer hyper-parameter (``beta2``), a schedule
    parameter (``eta0``, ``power``: setting ``power`` on a constant schedule makes it polynomial) or
    a data-set parameter (``n``, ``d``, ``delta``).
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
            fn = getattr(datasets, DATASET_ALIASES[str(data["name"]).lower()])
            data_params = [p for p in inspect.signature(fn).parameters if p != "dtype"]
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
