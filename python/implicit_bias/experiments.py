"""Experiments a researcher runs in one command: one configuration, sweeps, and the SPEC claims.

Everything here is also what the ``implicit-bias`` command line calls:

* :func:`run_config` — one configuration (a JSON/TOML-style mapping, see :func:`normalize_config`)
  -> a :class:`~implicit_bias.Trajectory` with cosines and margin ratios against the references.
* :func:`sweep` — a grid of one or two hyper-parameters times seeds -> one result file per cell
  (keyed by a hash of its configuration, so reruns skip finished cells and Ctrl-C keeps them),
  a CSV / JSON table and a phase-diagram heatmap. Cells run on this machine through the engine's
  OpenMP ensembles, or on any :class:`concurrent.futures.Executor` (e.g. ``dask.distributed``'s
  ``client.get_executor()``); both give bit-identical numbers.
* :func:`reproduce` — the eight claims of SPEC.md end to end, with explicit PASS criteria, a
  ``summary.md`` / ``summary.json`` table and one figure per claim.

A configuration (all keys but ``data`` and ``optimizer`` optional)::

    {"data": {"name": "gaussian", "n": 10, "d": 50, "seed": 0},   # or {"path": "data.npz"}
     "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999},
     "batch_size": 1,                  # int, or "n" for full batch (default "n")
     "order": "cyclic",                # cyclic | reshuffle | replacement
     "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},       # or a number (constant)
     "loss": "logistic", "steps": 1000000, "dtype": "float64", "seed": 0, "checkpoints": 200}

Distances of a direction ``w`` from the references (all 0 at the reference):
``dist_l2 = 1 - cos(w, w_l2)``, ``dist_fixed_point = 1 - cos(w, w*)``, and for l-inf
``dist_linf = 1 - cos(w, w_linf)`` when the l-inf maximiser is unique, otherwise the margin-ratio
gap ``1 - gamma_inf(w) / gamma_inf*`` (a cosine to one of many maximisers means nothing).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import inspect
import io
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import optimizers as _opt
from . import schedules as _sched
from .train import ORDERS, LOSSES, Run, Trajectory, train

__all__ = [
    "REFERENCE_NAMES",
    "References",
    "compute_references",
    "compare",
    "final_metrics",
    "normalize_config",
    "load_data",
    "config_key",
    "run_config",
    "sweep",
    "SweepResult",
    "reproduce",
    "Summary",
    "ClaimResult",
    "CLAIMS",
    "default_executor",
]

#: Reference directions every comparison is made against, in display order.
REFERENCE_NAMES = ("l2", "linf", "fixed_point")
#: Short labels used in tables and plots.
REFERENCE_LABELS = {"l2": "l2", "linf": "l-inf", "fixed_point": "w*"}

_CONFIG_KEYS = ("data", "optimizer", "batch_size", "order", "lr", "loss", "steps", "dtype", "seed", "checkpoints")
_DTYPES = {"float64": np.float64, "double": np.float64, "longdouble": np.longdouble, "float128": np.longdouble}
_DEFAULTS: dict[str, Any] = {
    "batch_size": "n",
    "order": "cyclic",
    "lr": 0.1,
    "loss": "logistic",
    "dtype": "float64",
    "seed": 0,
    "checkpoints": 200,
}


def _version() -> str:
    from . import __version__

    return __version__


# ============================================================================ configurations
_DATASET_ALIASES = {
    "gaussian": "gaussian",
    "gauss": "gaussian",
    "generalized_rademacher": "generalized_rademacher",
    "gr": "generalized_rademacher",
    "rademacher": "generalized_rademacher",
    "shifted_diagonal": "shifted_diagonal",
    "diagonal": "shifted_diagonal",
}


def _optimizer_classes() -> dict[str, type[_opt.Optimizer]]:
    out = {cls.__name__.lower(): cls for cls in _opt.ALL_OPTIMIZERS}
    out.update({"sgd": _opt.GD, "signgd": _opt.SignGD, "sign_gd": _opt.SignGD, "adam_proxy": _opt.AdamProxy, "adamproxy": _opt.AdamProxy})
    return out


def _optimizer_fields(cls: type[_opt.Optimizer]) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(cls)]


def _normalize_optimizer(spec: Any) -> dict[str, Any]:
    if isinstance(spec, _opt.Optimizer):
        return _opt.describe(spec)
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise ValueError(f"optimizer: must be a name such as 'Adam' or a table with a 'name' key, got {spec!r}")
    if "name" not in spec:
        raise ValueError("optimizer.name: missing (e.g. name = \"Adam\")")
    classes = _optimizer_classes()
    name = str(spec["name"]).lower()
    if name not in classes:
        known = ", ".join(cls.__name__ for cls in _opt.ALL_OPTIMIZERS)
        raise ValueError(f"optimizer.name: unknown optimizer {spec['name']!r}; known: {known}")
    cls = classes[name]
    params = {k: v for k, v in spec.items() if k != "name"}
    allowed = _optimizer_fields(cls)
    for key in params:
        if key not in allowed:
            hint = ", ".join(allowed) if allowed else "none"
            raise ValueError(f"optimizer.{key}: {cls.__name__} has no hyper-parameter {key!r} (allowed: {hint})")
    try:
        opt = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"optimizer.{exc}") from exc
    return _opt.describe(opt)


def _normalize_lr(spec: Any) -> dict[str, Any]:
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
        if kind not in makers:
            raise ValueError(f"lr.kind: must be one of {', '.join(makers)}, got {kind!r}")
        allowed = list(inspect.signature(makers[kind]).parameters)
        # A complete description (as written by this module) carries every field; drop the unused ones.
        defaults = {"power": 0.0, "factor": 1.0, "every": 1}
        for key in list(params):
            if key not in allowed:
                if key in defaults and params[key] == defaults[key]:
                    params.pop(key)
                    continue
                raise ValueError(f"lr.{key}: the {kind} schedule has no parameter {key!r} (allowed: {', '.join(allowed)})")
        if "eta0" not in params:
            raise ValueError("lr.eta0: missing (the initial learning rate)")
        try:
            sched = makers[kind](**params)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"lr.{exc}") from exc
    else:
        raise ValueError(f"lr: must be a positive number or a table with kind/eta0/power, got {spec!r}")
    return {"kind": sched.kind, "eta0": sched.eta0, "power": sched.power, "factor": sched.factor, "every": sched.every}


def _schedule(desc: Mapping[str, Any]) -> _sched.Schedule:
    return _sched.Schedule(desc["kind"], desc["eta0"], desc["power"], desc["factor"], desc["every"])


def _normalize_data(spec: Any) -> dict[str, Any]:
    if isinstance(spec, (str, os.PathLike)):
        spec = {"path": os.fspath(spec)}
    if not isinstance(spec, Mapping):
        raise ValueError(f"data: must be a table with 'name' (and its parameters) or 'path', got {spec!r}")
    spec = dict(spec)
    if "path" in spec:
        extra = set(spec) - {"path"}
        if extra:
            raise ValueError(f"data.{sorted(extra)[0]}: not allowed together with data.path")
        path = os.fspath(spec["path"])
        if not path.endswith((".npz", ".csv")):
            raise ValueError(f"data.path: must be a .npz (arrays X, y) or .csv (last column = label) file, got {path!r}")
        return {"path": path}
    if "name" not in spec:
        raise ValueError("data.name: missing (one of gaussian, generalized_rademacher, shifted_diagonal) or give data.path")
    name = str(spec.pop("name")).lower()
    if name not in _DATASET_ALIASES:
        raise ValueError(f"data.name: unknown data set {name!r}; known: gaussian, generalized_rademacher (gr), shifted_diagonal")
    name = _DATASET_ALIASES[name]
    from . import datasets

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


def normalize_config(config: Mapping[str, Any], *, require_steps: bool = True, allow_arrays: bool = False) -> dict[str, Any]:
    """Validate a run configuration and return its canonical, JSON-ready form.

    Unknown or bad keys raise ``ValueError`` naming the key (``optimizer.beta2: ...``). Defaults:
    ``batch_size="n"`` (full batch), ``order="cyclic"``, ``lr=0.1`` (constant), ``loss="logistic"``,
    ``dtype="float64"``, ``seed=0``, ``checkpoints=200``.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"config: must be a mapping, got {type(config).__name__}")
    for key in config:
        if key not in _CONFIG_KEYS:
            raise ValueError(f"{key}: unknown configuration key (allowed: {', '.join(_CONFIG_KEYS)})")
    cfg = {**_DEFAULTS, **config}
    if "data" not in cfg:
        raise ValueError("data: missing (a data set name with its parameters, or a path to .npz/.csv)")
    if "optimizer" not in cfg:
        raise ValueError("optimizer: missing (e.g. {name = \"Adam\", beta2 = 0.999})")
    arrays = allow_arrays and isinstance(cfg["data"], Mapping) and cfg["data"].get("name") == "<arrays>"
    data = dict(cfg["data"]) if arrays else _normalize_data(cfg["data"])
    out: dict[str, Any] = {"data": data, "optimizer": _normalize_optimizer(cfg["optimizer"])}
    b = cfg["batch_size"]
    if b is None or (isinstance(b, str) and b.lower() in ("n", "full")):
        out["batch_size"] = "n"
    elif isinstance(b, str) and b.strip().isdigit():
        out["batch_size"] = int(b)
    elif isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 1:
        out["batch_size"] = int(b)
    else:
        raise ValueError(f"batch_size: must be a positive integer or \"n\" (full batch), got {b!r}")
    if cfg["order"] not in ORDERS:
        raise ValueError(f"order: must be one of {', '.join(ORDERS)}, got {cfg['order']!r}")
    out["order"] = cfg["order"]
    out["lr"] = _normalize_lr(cfg["lr"])
    if cfg["loss"] not in LOSSES:
        raise ValueError(f"loss: must be one of {', '.join(LOSSES)}, got {cfg['loss']!r}")
    out["loss"] = cfg["loss"]
    if "steps" in cfg:
        s = cfg["steps"]
        if isinstance(s, float) and s.is_integer():
            s = int(s)
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"steps: must be a positive integer, got {s!r}")
        out["steps"] = int(s)
    elif require_steps:
        raise ValueError("steps: missing (the number of optimizer steps)")
    dtype = cfg["dtype"]
    dtype_name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if dtype_name not in _DTYPES:
        raise ValueError(f"dtype: must be float64 or longdouble, got {dtype!r}")
    out["dtype"] = "longdouble" if _DTYPES[dtype_name] is np.longdouble else "float64"
    for key, low in (("seed", 0), ("checkpoints", 2)):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{key}: must be an integer >= {low}, got {v!r}")
        out[key] = int(v)
    return out


# ============================================================================ data
def _read_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"data.path: {path} is empty")
    header = None
    try:
        [float(c) for c in rows[0]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    try:
        arr = np.array([[float(c) for c in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"data.path: {path} has a non-numeric entry ({exc})") from exc
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"data.path: {path} needs at least two columns (features..., label)")
    label_col = arr.shape[1] - 1
    if header is not None:
        for name in ("y", "label", "labels"):
            if name in header:
                label_col = header.index(name)
    y = arr[:, label_col]
    X = np.delete(arr, label_col, axis=1)
    return X, y


def load_data(spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` for a normalized data spec (a generated data set or a .npz / .csv file)."""
    spec = _normalize_data(spec)
    if "path" in spec:
        path = spec["path"]
        if not os.path.exists(path):
            raise ValueError(f"data.path: no such file: {path}")
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as f:
                missing = [k for k in ("X", "y") if k not in f.files]
                if missing:
                    raise ValueError(f"data.path: {path} must hold arrays 'X' and 'y' (missing {', '.join(missing)}; found {', '.join(f.files)})")
                X, y = f["X"], f["y"]
        else:
            X, y = _read_csv(path)
    else:
        from . import datasets

        params = {k: v for k, v in spec.items() if k != "name"}
        out = getattr(datasets, spec["name"])(**params)
        X, y = (out.X, out.y) if hasattr(out, "X") else out
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"data: X must be 2-dimensional (n, d), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"data: y must have shape ({X.shape[0]},), got {y.shape}")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError("data: labels y must be -1 or +1")
    return X, y


def data_hash(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the data (shape, dtype and bytes), hex."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def config_key(config: Mapping[str, Any], data_sha: str | None = None) -> str:
    """Key of a (normalized) configuration: 16 hex digits of the sha256 of its canonical JSON."""
    payload = json.dumps({"config": config, "data_sha256": data_sha}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _resolve_batch(config: Mapping[str, Any], n: int) -> int:
    b = config["batch_size"]
    if b == "n":
        return n
    if b > n:
        raise ValueError(f"batch_size: {b} exceeds the number of samples n = {n}")
    return int(b)


def _run_kwargs(config: Mapping[str, Any], n: int) -> dict[str, Any]:
    return {
        "optimizer": _opt.from_description(dict(config["optimizer"])),
        "batch_size": _resolve_batch(config, n),
        "order": config["order"],
        "lr": _schedule(config["lr"]),
        "loss": config["loss"],
        "seed": config["seed"],
    }


# ============================================================================ references
@dataclass
class References:
    """Reference directions of one data set, as unit-l2 vectors, plus what is needed to compare.

    ``directions[name]`` for name in ``l2``, ``linf``, ``fixed_point`` (absent when that reference
    could not be computed — see ``notes``); ``gamma["l2"]``, ``gamma["linf"]`` optimal normalized
    margins; ``linf_unique`` (True / False / None = unknown); ``notes`` human-readable caveats.
    """

    directions: dict[str, np.ndarray]
    gamma: dict[str, float]
    linf_unique: bool | None = None
    fixed_point_converged: bool | None = None
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: diagonal p of P(c*): w* is the max-margin direction of ||w||_P = sqrt(sum_j p_j w_j^2)
    fixed_point_norm: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "directions": {k: np.asarray(v, dtype=np.float64).tolist() for k, v in self.directions.items()},
            "fixed_point_norm": None if self.fixed_point_norm is None else np.asarray(self.fixed_point_norm, dtype=np.float64).tolist(),
            "linf_gap": self.raw.get("linf_gap", {}),
            "gamma": dict(self.gamma),
            "linf_unique": self.linf_unique,
            "fixed_point_converged": self.fixed_point_converged,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> References:
        return cls(
            fixed_point_norm=None if d.get("fixed_point_norm") is None else np.asarray(d["fixed_point_norm"], dtype=np.float64),
            raw={"linf_gap": dict(d.get("linf_gap", {}))},
            directions={k: np.asarray(v, dtype=np.float64) for k, v in d["directions"].items()},
            gamma={k: float(v) for k, v in d["gamma"].items()},
            linf_unique=d.get("linf_unique"),
            fixed_point_converged=d.get("fixed_point_converged"),
            notes=list(d.get("notes", [])),
        )

    def distinct(self, a: str, b: str, tol: float = 1e-6) -> bool:
        """Whether references ``a`` and ``b`` are different directions (1 - cos > tol)."""
        if a not in self.directions or b not in self.directions:
            return False
        if "linf" in (a, b) and self.linf_unique is False:
            other = b if a == "linf" else a
            # the l-inf set contains the other reference iff its l-inf margin is optimal
            return self.raw.get("linf_gap", {}).get(other, 1.0) > tol
        u, v = self.directions[a], self.directions[b]
        return 1.0 - float(u @ v) > tol


def _unit(v: Any) -> np.ndarray:
    v = np.asarray(getattr(v, "w", v), dtype=np.float64).ravel()
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n == 0:
        raise ValueError("reference direction is zero or not finite")
    return v / n


def _normalized_margin(W: np.ndarray, Z: np.ndarray, norm: str) -> np.ndarray:
    W = np.atleast_2d(W)
    m = (W @ Z.T.astype(W.dtype)).min(axis=1)
    if norm == "l2":
        d = np.sqrt((W * W).sum(axis=1))
    else:
        d = np.abs(W).max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return m / d


def compute_references(X: np.ndarray, y: np.ndarray, which: Iterable[str] = REFERENCE_NAMES) -> References:
    """l2 and l-inf max-margin directions and the fixed point w* of (X, y), with their caveats.

    A reference that cannot be computed (non-separable data raise; a fixed point that is degenerate
    or did not converge is kept but flagged in ``notes``) is reported, never silently replaced.
    """
    import implicit_bias as ib

    which = tuple(which)
    X64 = np.asarray(X, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    Z = y64[:, None] * X64
    dirs: dict[str, np.ndarray] = {}
    gamma: dict[str, float] = {}
    notes: list[str] = []
    raw: dict[str, Any] = {}
    linf_unique = None
    fp_conv = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "l2" in which or "linf" in which:
            mm2 = ib.max_margin(X64, y64, norm="l2")
            raw["l2"] = mm2
            dirs["l2"] = _unit(getattr(mm2, "w_l2unit", mm2.w))
            gamma["l2"] = float(mm2.gamma)
        if "linf" in which:
            mmi = ib.max_margin(X64, y64, norm="linf")
            raw["linf"] = mmi
            dirs["linf"] = _unit(getattr(mmi, "w_l2unit", mmi.w))
            gamma["linf"] = float(mmi.gamma)
            linf_unique = getattr(mmi, "unique", None)
            linf_unique = None if linf_unique is None else bool(linf_unique)
            if linf_unique is False:
                notes.append("the l-inf max-margin direction is not unique: l-inf is judged by the margin ratio, not the cosine")
        if "fixed_point" in which:
            try:
                fp = ib.fixed_point(X64, y64)
            except Exception as exc:  # a degenerate problem must be reported, not crash a sweep
                notes.append(f"fixed point not available: {exc}")
            else:
                raw["fixed_point"] = fp
                fp_conv = bool(getattr(fp, "converged", True))
                if getattr(fp, "w", None) is not None and np.all(np.isfinite(fp.w)) and np.any(fp.w):
                    dirs["fixed_point"] = _unit(fp.w)
                    p_diag, g = getattr(fp, "norm", None), getattr(fp, "gamma", None)
                    if p_diag is not None and g is not None and np.all(np.asarray(p_diag) > 0):
                        raw["fixed_point_norm"] = np.asarray(p_diag, dtype=np.float64)
                        gamma["fixed_point"] = float(g)
                if not fp_conv:
                    notes.append("the fixed-point iteration did not converge: w* is approximate")
                if getattr(fp, "degenerate", False):
                    notes.append("the fixed point is degenerate (P(c*) singular): w* is not well defined")
    refs = References(dirs, gamma, linf_unique, fp_conv, notes, raw, raw.get("fixed_point_norm"))
    if "linf" in dirs:
        raw["linf_gap"] = {
            k: float(1.0 - _normalized_margin(v[None], Z, "linf")[0] / gamma["linf"]) for k, v in dirs.items()
        }
    return refs


def compare(W: np.ndarray, X: np.ndarray, y: np.ndarray, refs: References) -> dict[str, np.ndarray]:
    """Cosines, margin ratios and distances of the rows of ``W`` against ``refs``.

    Returns arrays (one entry per row of W): ``cos_<ref>`` for each reference, ``ratio_l2``,
    ``ratio_linf`` (normalized margin over the optimum) and ``dist_<ref>`` (see module doc).
    Computed in W's precision (long double runs keep their extra digits), returned as float64.
    """
    W = np.atleast_2d(np.asarray(W))
    dt = W.dtype if W.dtype in (np.float64, np.longdouble) else np.float64
    W = W.astype(dt)
    Z = (np.asarray(y, dtype=dt)[:, None] * np.asarray(X, dtype=dt))
    norms = np.sqrt((W * W).sum(axis=1))
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, ref in refs.directions.items():
            r = ref.astype(dt)
            cos = (W @ r) / (norms * np.sqrt(r @ r))
            out[f"cos_{name}"] = np.asarray(cos, dtype=np.float64)
            out[f"dist_{name}"] = np.asarray(1 - cos, dtype=np.float64)
        for norm in ("l2", "linf"):
            if norm in refs.gamma:
                out[f"ratio_{norm}"] = np.asarray(_normalized_margin(W, Z, norm) / dt.type(refs.gamma[norm]), dtype=np.float64)
        if refs.fixed_point_norm is not None and "fixed_point" in refs.gamma:
            p = refs.fixed_point_norm.astype(dt)
            m = (W @ Z.T).min(axis=1) / np.sqrt((W * W * p).sum(axis=1))
            out["ratio_fixed_point"] = np.asarray(m / dt.type(refs.gamma["fixed_point"]), dtype=np.float64)
    if "linf" in refs.directions and refs.linf_unique is False:
        out["dist_linf"] = 1.0 - out["ratio_linf"]
    return out


def final_metrics(traj: Trajectory, X: np.ndarray, y: np.ndarray, refs: References) -> dict[str, Any]:
    """Metrics of the last checkpoint (the limit direction estimate) as a flat JSON-ready dict."""
    cmp = compare(traj.w[-1:], X, y, refs)
    out: dict[str, Any] = {"steps": int(traj.steps[-1]), "norm": float(traj.norm[-1]), "log_loss": float(traj.log_loss[-1])}
    out.update({k: float(v[0]) for k, v in cmp.items()})
    dists = {name: out[f"dist_{name}"] for name in REFERENCE_NAMES if f"dist_{name}" in out}
    out["nearest"] = None
    if dists:
        best = min(dists, key=lambda k: dists[k])
        same = [k for k in REFERENCE_NAMES if k in dists and (k == best or not refs.distinct(best, k))]
        out["nearest"] = "=".join(same)  # e.g. "l2=fixed_point" on GR data, where w* = w_l2
    return out


def _attach(traj: Trajectory, X: np.ndarray, y: np.ndarray, refs: References) -> Trajectory:
    """Store cosines and margin ratios against ``refs`` in the trajectory (for saving / plotting)."""
    cmp = compare(traj.w, X, y, refs)
    for name in refs.directions:
        traj.cosine[name] = cmp[f"cos_{name}"]
    for norm in ("l2", "linf", "fixed_point"):
        if f"ratio_{norm}" in cmp:
            traj.margin_ratio[norm] = cmp[f"ratio_{norm}"]
    return traj


# ============================================================================ execution
@dataclass
class Cell:
    """One configuration to run: canonical ``config``, its ``key`` and free-form ``meta`` labels."""

    key: str
    config: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


class _DataCache:
    """Loads each distinct data spec once and computes its references once (cached on disk)."""

    def __init__(self, ref_dir: Path | None, which: Iterable[str] = REFERENCE_NAMES, arrays: tuple | None = None):
        self.ref_dir = ref_dir
        self.which = tuple(which)
        self.arrays = arrays
        self._data: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        self._refs: dict[str, References] = {}

    def data(self, spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
        k = json.dumps(spec, sort_keys=True)
        if k not in self._data:
            if self.arrays is not None and spec.get("name") == "<arrays>":
                X, y = self.arrays
            else:
                X, y = load_data(spec)
            self._data[k] = (X, y, data_hash(X, y))
        return self._data[k]

    def references(self, spec: Mapping[str, Any]) -> References:
        X, y, sha = self.data(spec)
        if sha not in self._refs:
            path = self.ref_dir / f"{sha[:16]}.json" if self.ref_dir is not None else None
            if path is not None and path.exists():
                self._refs[sha] = References.from_json(json.loads(path.read_text()))
            else:
                refs = compute_references(X, y, self.which)
                self._refs[sha] = refs
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _atomic_write_text(path, json.dumps(refs.to_json()))
        return self._refs[sha]


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_traj(path: Path, traj: Trajectory) -> None:
    tmp = path.with_name(path.stem + ".tmp.npz")
    traj.save(tmp)
    os.replace(tmp, path)


def _run_remote(X: np.ndarray, y: np.ndarray, config: dict[str, Any]) -> Trajectory:
    """Executor task: one configuration on one worker (plain ``ib.train``, bit-identical to ensembles)."""
    kwargs = _run_kwargs(config, X.shape[0])
    opt = kwargs.pop("optimizer")
    return train(X, y, opt, steps=config["steps"], dtype=np.dtype(config["dtype"]), checkpoints=config["checkpoints"], **kwargs)


def _ensemble(
    X: np.ndarray,
    y: np.ndarray,
    configs: Sequence[Mapping[str, Any]],
    *,
    threads: int | None,
    on_progress: Callable[[int], None] | None = None,
    round_seconds: float = 0.5,
) -> list[Trajectory]:
    """Advance several configurations on the engine's OpenMP ensemble loop, in rounds.

    Same result, bit for bit, as ``ib.train_many`` (the checkpoint grid is fixed for the whole
    horizon before the first step; advancing in rounds only returns to Python in between, to
    update progress bars and to let Ctrl-C through).
    """
    from .train import _ENGINE

    dt = np.dtype(configs[0]["dtype"])
    if any(np.dtype(c["dtype"]) != dt for c in configs):
        raise ValueError("dtype: an ensemble must share one precision")
    checkpoints = {int(c["checkpoints"]) for c in configs}
    if on_progress is None and len(checkpoints) == 1:
        from .train import train_many

        return train_many(
            X,
            y,
            [_run_kwargs(c, X.shape[0]) for c in configs],
            steps=[int(c["steps"]) for c in configs],
            checkpoints=checkpoints.pop(),
            dtype=dt,
            threads=threads,
        )
    first = Run(X, y, _opt.GD(), dtype=dt)
    dataset = first._dataset
    runs = []
    for c in configs:
        run = Run(first.X, first.y, dtype=dt, _dataset=dataset, **_run_kwargs(c, X.shape[0]))
        run._extend_grid(c["steps"], c["checkpoints"])
        runs.append(run)
    targets = [int(c["steps"]) for c in configs]
    advance = _ENGINE[dt][2]
    threads_arg = 0 if threads is None else int(threads)
    frac = 1e-3
    while True:
        active = [k for k, r in enumerate(runs) if r.t < targets[k]]
        if not active:
            break
        stops = [min(targets[k], runs[k].t + max(1, int(math.ceil(frac * targets[k])))) for k in active]
        before = sum(runs[k].t for k in active)
        t0 = time.perf_counter()
        advance([runs[k]._run for k in active], stops, threads_arg)
        elapsed = time.perf_counter() - t0
        if on_progress is not None:
            on_progress(sum(runs[k].t for k in active) - before)
        frac = min(1.0, max(1e-3, frac * min(4.0, max(0.25, round_seconds / max(elapsed, 1e-4)))))
    return [r.trajectory() for r in runs]


def _cost(config: Mapping[str, Any], n: int, d: int) -> float:
    b = n if config["batch_size"] == "n" else int(config["batch_size"])
    per_step = n * d if config["optimizer"]["name"] == "AdamProxy" else b * d + d
    return float(config["steps"]) * per_step


@dataclass
class _Store:
    """One result per cell: ``<key>.npz`` (trajectory) and ``<key>.json`` (config, metrics), in ``root``."""

    root: Path

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.npz", self.root / f"{key}.json"

    def done(self, key: str) -> bool:
        npz, js = self.paths(key)
        if not (npz.exists() and js.exists()):
            return False
        try:
            return json.loads(js.read_text()).get("key") == key
        except (OSError, ValueError):
            return False

    def load(self, key: str) -> tuple[Trajectory, dict[str, Any]]:
        npz, js = self.paths(key)
        return Trajectory.load(npz), json.loads(js.read_text())

    def save(self, cell: Cell, traj: Trajectory, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        npz, js = self.paths(cell.key)
        _save_traj(npz, traj)
        _atomic_write_text(js, json.dumps(record, indent=1))  # written last: marks the cell as done


def _progress_bar(total: float, desc: str, enabled: bool, unit: str = "step") -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, disable=not enabled, leave=True, dynamic_ncols=True)


def execute(
    cells: Sequence[Cell],
    cache: _DataCache,
    store: _Store,
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
    ensemble loop, in batches of ~4 per thread sorted by cost; each batch is written to disk as
    soon as it finishes. With an executor: one task per cell, written as each completes. On Ctrl-C
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
        _attach(traj, X, y, refs)
        record = {
            "key": cell.key,
            "config": cell.config,
            "meta": cell.meta,
            "data_sha256": sha,
            "version": _version(),
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
    bar = _progress_bar(total_steps, f"{desc} ({len(todo)} to run, {skipped} done)", progress)
    try:
        if executor is None:
            groups: dict[tuple[str, str], list[Cell]] = {}
            for cell in todo:
                groups.setdefault((json.dumps(cell.config["data"], sort_keys=True), cell.config["dtype"]), []).append(cell)
            nthreads = threads or (os.cpu_count() or 1)
            for group in groups.values():
                X, y, _ = cache.data(group[0].config["data"])
                n, d = X.shape
                group = sorted(group, key=lambda c: _cost(c.config, n, d))
                size = max(1, 4 * nthreads)
                for start in range(0, len(group), size):
                    batch = group[start : start + size]
                    trajs = _ensemble(X, y, [c.config for c in batch], threads=threads, on_progress=bar.update)
                    for cell, traj in zip(batch, trajs):
                        finish(cell, traj)
        else:
            futures: dict[cf.Future, Cell] = {}
            for cell in todo:
                X, y, _ = cache.data(cell.config["data"])
                futures[executor.submit(_run_remote, X, y, cell.config)] = cell
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


# ============================================================================ one configuration
def run_config(
    config: Mapping[str, Any],
    *,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    references: bool | References = True,
    progress: bool = False,
) -> tuple[Trajectory, dict[str, Any]]:
    """Run one configuration and return ``(trajectory, record)``.

    ``data``: arrays ``(X, y)`` to use instead of ``config["data"]`` (then ``data`` may be omitted
    from the config). ``references``: True computes the l2 / l-inf / fixed-point references and
    stores cosines and margin ratios in the trajectory; False skips them; or pass
    :class:`References`. The record holds the normalized config, package version, seed, data
    hash, final metrics, reference notes and the theory's predicted direction.
    """
    if data is not None:
        X, y = data
        cfg = normalize_config({**config, "data": {"name": "<arrays>"}}, allow_arrays=True)
    else:
        cfg = normalize_config(config)
        X, y = load_data(cfg["data"])
    kwargs = _run_kwargs(cfg, X.shape[0])
    opt = kwargs.pop("optimizer")
    run = Run(X, y, opt, dtype=np.dtype(cfg["dtype"]), **kwargs)
    try:
        run.advance(cfg["steps"], checkpoints=cfg["checkpoints"], progress=progress)
    except KeyboardInterrupt as exc:
        exc.run = run  # type: ignore[attr-defined]
        raise
    traj = run.trajectory()
    record: dict[str, Any] = {
        "config": cfg,
        "version": _version(),
        "seed": cfg["seed"],
        "data_sha256": data_hash(X, y),
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
    }
    refs = references if isinstance(references, References) else (compute_references(X, y) if references else None)
    if refs is not None:
        _attach(traj, X, y, refs)
        record["metrics"] = final_metrics(traj, X, y, refs)
        record["references"] = refs.to_json()
        record["prediction"] = _theory(X, y, cfg)
    traj.config = {**traj.config, "experiment": cfg}
    return traj, record


def _theory(X: np.ndarray, y: np.ndarray, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """``ib.predicted_direction`` for a configuration, as JSON (errors reported, not raised)."""
    import implicit_bias as ib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = (np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), _opt.from_description(dict(cfg["optimizer"])))
            kwargs = {"batch_size": _resolve_batch(cfg, X.shape[0]), "order": cfg["order"]}
            try:  # only the classification is needed: the references are computed here anyway
                pred = ib.predicted_direction(*args, **kwargs, compute=False)
            except TypeError:
                pred = ib.predicted_direction(*args, **kwargs)
    except Exception as exc:  # the theory module is a cross-check; never let it stop an experiment
        return {"kind": "error", "reason": f"{type(exc).__name__}: {exc}"}
    return {
        "kind": str(getattr(pred, "kind", "none")),
        "reason": str(getattr(pred, "reason", "")),
        "confidence": str(getattr(pred, "confidence", "")),
    }


def save_run(traj: Trajectory, record: Mapping[str, Any], out_dir: str | os.PathLike[str], name: str = "run", *, X=None, y=None) -> dict[str, Path]:
    """Write ``<name>.npz`` (trajectory), ``<name>.json`` (record) and ``<name>.png`` to ``out_dir``."""
    from . import plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"npz": out / f"{name}.npz", "json": out / f"{name}.json", "png": out / f"{name}.png"}
    _save_traj(paths["npz"], traj)
    _atomic_write_text(paths["json"], json.dumps(record, indent=1))
    plots.run_figure(traj, record, X=X, y=y, path=paths["png"])
    return paths


# ============================================================================ sweeps
_TOP_KEYS = ("batch_size", "order", "loss", "steps", "dtype", "seed", "checkpoints", "lr", "optimizer", "data")
_LR_KEYS = ("eta0", "power", "factor", "every")


def _set_param(config: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Return a copy of a raw config with parameter ``key`` set to ``value``.

    ``key`` is a top-level key (``batch_size``, ``order``, ...), a dotted path (``optimizer.beta2``,
    ``lr.eta0``, ``data.n``), or a shorthand: an optimizer hyper-parameter (``beta2``), a schedule
    parameter (``eta0``, ``power``: setting ``power`` on a constant schedule makes it polynomial) or
    a data-set parameter (``n``, ``d``, ``delta``).
    """
    import copy

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
        cls = _optimizer_classes().get(str(opt_name).lower()) if opt_name is not None else None
        opt_fields = _optimizer_fields(cls) if cls is not None else []
        data = cfg.get("data")
        data_params: list[str] = []
        if isinstance(data, Mapping) and str(data.get("name", "")).lower() in _DATASET_ALIASES:
            from . import datasets

            fn = getattr(datasets, _DATASET_ALIASES[str(data["name"]).lower()])
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
    sub = cfg.get(head, _DEFAULTS.get(head))
    if head == "lr" and not isinstance(sub, Mapping):
        sub = {"kind": "constant", "eta0": float(sub)} if not isinstance(sub, _sched.Schedule) else _normalize_lr(sub)
    if head == "optimizer" and isinstance(sub, (str, _opt.Optimizer)):
        sub = _normalize_optimizer(sub)
    sub = dict(sub or {})
    sub[tail] = value
    if head == "lr" and tail == "power" and sub.get("kind", "constant") == "constant":
        sub["kind"] = "polynomial"
    cfg[head] = sub
    return cfg


def _value_label(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, Mapping):
        return ",".join(f"{k}={_value_label(x)}" for k, x in v.items())
    return str(v)


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

    def trajectory(self, key: str) -> Trajectory:
        return Trajectory.load(self.out_dir / "cells" / f"{key}.npz")

    def aggregate(self, metric: str) -> np.ndarray:
        """Mean of ``metric`` over seeds on the grid, shape (len(axis 0), len(axis 1)) (1-D grids: (k, 1))."""
        keys = list(self.grid)
        a0 = [_value_label(v) for v in self.grid[keys[0]]]
        a1 = [_value_label(v) for v in self.grid[keys[1]]] if len(keys) > 1 else [""]
        acc = np.full((len(a0), len(a1)), np.nan)
        for i, u in enumerate(a0):
            for j, v in enumerate(a1):
                vals = [r[metric] for r in self.rows if _value_label(r[keys[0]]) == u and (len(keys) < 2 or _value_label(r[keys[1]]) == v) and r.get(metric) is not None]
                if vals:
                    acc[i, j] = float(np.mean(vals))
        return acc


_TABLE_METRICS = (
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
) -> SweepResult:
    """Run ``base`` over a grid of one or two parameters times ``seeds``; write table and heatmap.

    ``grid`` maps parameter names (see :func:`_set_param`: ``batch_size``, ``beta2``, ``eta0``,
    ``order``, ``n``, ``optimizer.beta1``, ...) to value lists; ``batch_size`` may use ``"n"``.
    Each seed sets the run's ``seed`` and, with ``seed_data`` and a generated data set that takes
    a ``seed``, the data seed too. ``data=(X, y)`` uses arrays instead of ``base["data"]``.

    Writes to ``out_dir``: ``cells/<key>.npz|json`` (one per cell, keyed by a hash of its config and
    data; a rerun skips cells already there), ``references/``, ``table.csv`` and ``table.json``
    (one row per cell, plus the seed-averaged grid), and ``phase_diagram.png`` (distance of the
    limit direction from w*, l2 and l-inf). ``executor``: any ``concurrent.futures.Executor``
    (e.g. ``dask.distributed.Client(...).get_executor()``); default: local OpenMP ensembles with
    ``threads`` threads. Ctrl-C stops cleanly: finished cells stay on disk, the table is written for
    them, and KeyboardInterrupt is re-raised.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("grid: must map one or two parameter names to lists of values")
    if len(grid) > 2:
        raise ValueError(f"grid: at most two parameters (a phase diagram), got {len(grid)}: {', '.join(grid)}")
    grid = {str(k): list(v) if not isinstance(v, (str, bytes)) and isinstance(v, Iterable) else [v] for k, v in grid.items()}
    for k, v in grid.items():
        if not v:
            raise ValueError(f"grid.{k}: empty list of values")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds: need at least one seed")
    out = Path(out_dir)
    base = dict(base)
    data_sha = None
    if data is not None:
        X0, y0 = data
        data_sha = data_hash(np.asarray(X0), np.asarray(y0))
        base["data"] = {"name": "<arrays>", "sha256": data_sha}
    cells: list[Cell] = []
    rows_meta: list[dict[str, Any]] = []
    import itertools

    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        for s in seeds:
            raw = dict(base)
            for k, v in zip(keys, values):
                raw = _set_param(raw, k, v)
            raw["seed"] = s
            if seed_data and isinstance(raw.get("data"), Mapping) and "name" in raw["data"] and raw["data"]["name"] != "<arrays>":
                name = _DATASET_ALIASES.get(str(raw["data"]["name"]).lower())
                if name is not None:
                    from . import datasets

                    if "seed" in inspect.signature(getattr(datasets, name)).parameters:
                        raw = _set_param(raw, "data.seed", s)
            try:
                cfg = normalize_config(raw, allow_arrays=data is not None)
            except ValueError as exc:
                where = ", ".join(f"{k}={_value_label(v)}" for k, v in zip(keys, values))
                raise ValueError(f"{exc} (in the grid cell {where})") from exc
            meta = {**{k: v for k, v in zip(keys, values)}, "seed": s}
            cells.append(Cell(config_key(cfg, data_sha), cfg, meta))
            rows_meta.append(meta)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(out / "sweep.json", json.dumps({"base": _jsonable(base), "grid": _jsonable(grid), "seeds": seeds, "version": _version()}, indent=1))
    cache = _DataCache(out / "references", arrays=data)
    store = _Store(out / "cells")
    skipped = sum(1 for c in cells if resume and store.done(c.key))
    interrupted = False
    try:
        results = execute(cells, cache, store, executor=executor, threads=threads, progress=progress, desc="sweep", callback=callback, resume=resume)
    except KeyboardInterrupt:
        interrupted = True
        results = {c.key: store.load(c.key) for c in cells if store.done(c.key)}
    rows = []
    for cell in cells:
        if cell.key not in results:
            continue
        _, record = results[cell.key]
        row = {**{k: cell.meta[k] for k in keys}, "seed": cell.meta["seed"], "key": cell.key, "steps": record["metrics"]["steps"]}
        row.update({m: record["metrics"].get(m) for m in _TABLE_METRICS})
        rows.append(row)
    res = SweepResult(out, grid, seeds, rows, out / "table.csv", out / "table.json", None, len(results) - skipped, skipped, not interrupted)
    _write_table(res, keys)
    if plot and rows:
        from . import plots

        res.figure = out / "phase_diagram.png"
        plots.phase_diagram(res, path=res.figure, title=_sweep_title(base, seeds, keys))
    if interrupted:
        print(
            f"\nInterrupted: {len(results)} of {len(cells)} cells are finished and saved in {out}; "
            "rerun the same sweep to continue (finished cells are skipped).",
            file=sys.stderr,
        )
        raise KeyboardInterrupt
    return res


def _sweep_title(base: Mapping[str, Any], seeds: Sequence[int], swept: Sequence[str] = ()) -> str:
    try:
        cfg = normalize_config(base, require_steps=False, allow_arrays=True)
        opt = cfg["optimizer"]
        swept_names = {k.split(".")[-1] for k in swept}
        name = opt["name"] + "(" + ", ".join(f"{k}={'·' if k in swept_names else _value_label(v)}" for k, v in opt.items() if k != "name") + ")"
        data = cfg["data"]
        dname = data.get("name", Path(data.get("path", "")).name)
        steps = f", t = {base['steps']:.0e}" if "steps" in base else ""
        return f"{name} on {dname}{steps}, mean over {len(seeds)} seed{'s' if len(seeds) > 1 else ''}"
    except ValueError:
        return ""


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, _opt.Optimizer):
        return _opt.describe(x)
    if isinstance(x, _sched.Schedule):
        return _normalize_lr(x)
    if isinstance(x, np.generic):
        return x.item()
    return x


def _write_table(res: SweepResult, keys: list[str]) -> None:
    cols = [*keys, "seed", "key", "steps", *_TABLE_METRICS]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    for r in res.rows:
        w.writerow({c: _value_label(r[c]) if c in keys and isinstance(r[c], Mapping) else r[c] for c in cols})
    _atomic_write_text(res.table_csv, buf.getvalue())
    agg = []
    k0 = keys[0]
    axis1 = res.grid[keys[1]] if len(keys) > 1 else [None]
    for u in res.grid[k0]:
        for v in axis1:
            sel = [r for r in res.rows if r[k0] == u and (len(keys) < 2 or r[keys[1]] == v)]
            if not sel:
                continue
            entry: dict[str, Any] = {k0: u, **({keys[1]: v} if len(keys) > 1 else {}), "seeds": len(sel)}
            for m in ("cos_l2", "cos_linf", "cos_fixed_point", "ratio_l2", "ratio_linf", "ratio_fixed_point", "dist_l2", "dist_linf", "dist_fixed_point"):
                vals = [r[m] for r in sel if r.get(m) is not None]
                if vals:
                    entry[f"{m}_mean"] = float(np.mean(vals))
                    entry[f"{m}_std"] = float(np.std(vals))
            agg.append(entry)
    _atomic_write_text(
        res.table_json,
        json.dumps({"grid": _jsonable(res.grid), "seeds": res.seeds, "complete": res.complete, "cells": _jsonable(res.rows), "aggregate": _jsonable(agg)}, indent=1),
    )


# ============================================================================ reproduce the SPEC claims
#: Default thresholds of each kind of prediction (a claim may tighten or loosen them, in the open).
DEFAULT_THRESHOLDS = {"l2": 0.999, "linf": 0.99, "fixed_point": 0.999, "not-linf": 0.95}
PREDICTION_KINDS = tuple(DEFAULT_THRESHOLDS)


def criterion_text(kind: str, threshold: float, others: Sequence[str] = ()) -> str:
    """The PASS criterion of one run, in words (the same text goes into summary.md)."""
    lab = REFERENCE_LABELS
    beat = f" and nearer to {lab.get(kind, kind)} than to {', '.join(lab[o] for o in others)} (1 - cos)" if others else ""
    if kind == "l2":
        return f"cos(w, w_l2) >= {threshold:g}{beat}"
    if kind == "fixed_point":
        return f"cos(w, w*) >= {threshold:g}{beat}"
    if kind == "linf":
        return f"l-inf margin ratio gamma_inf(w)/gamma_inf* >= {threshold:g}"
    if kind == "not-linf":
        return f"l-inf margin ratio < {threshold:g} (does not reach the l-inf max margin)"
    raise ValueError(f"predictions: unknown prediction {kind!r}; use one of {', '.join(PREDICTION_KINDS)}")


def evaluate(kind: str, threshold: float, metrics: Mapping[str, Any], refs: References) -> tuple[bool, str, list[str]]:
    """Judge one run's limit direction against a prediction. Returns (passed, criterion, others).

    * ``l2`` / ``fixed_point``: cosine to that reference >= threshold, and 1 - cos to it smaller
      than the distance to every other reference that is a different direction (on GR data
      w* = w_l2, so that pair is not compared).
    * ``linf``: l-inf margin ratio >= threshold (meaningful even if the maximiser is not unique).
    * ``not-linf``: l-inf margin ratio < threshold.
    """
    if kind not in PREDICTION_KINDS:
        raise ValueError(f"predictions: unknown prediction {kind!r}; use one of {', '.join(PREDICTION_KINDS)}")
    others: list[str] = []
    if kind in ("l2", "fixed_point"):
        if f"cos_{kind}" not in metrics:
            return False, criterion_text(kind, threshold) + f" [{REFERENCE_LABELS[kind]} unavailable]", []
        others = [r for r in REFERENCE_NAMES if r != kind and f"dist_{r}" in metrics and refs.distinct(kind, r)]
        ok = metrics[f"cos_{kind}"] >= threshold and all(metrics[f"dist_{kind}"] < metrics[f"dist_{r}"] for r in others)
    elif kind == "linf":
        ok = metrics.get("ratio_linf", -np.inf) >= threshold
    else:
        ok = metrics.get("ratio_linf", np.inf) < threshold
    return bool(ok), criterion_text(kind, threshold, others), others


@dataclass
class _RunSpec:
    label: str
    config: dict[str, Any]
    expect: str | None = None
    threshold: float | None = None
    group: str = ""
    x: Any = None


@dataclass
class _ClaimDef:
    number: int
    title: str
    statement: str
    setting: str
    runs: list[_RunSpec]
    study: bool = False
    check: Callable[[list[dict[str, Any]]], tuple[bool | None, str]] | None = None
    plot: str = "convergence"  # or "study"
    x_label: str = ""


def _gaussian(n: int = 10, d: int = 50, seed: int = 0) -> dict[str, Any]:
    return {"name": "gaussian", "n": n, "d": d, "seed": seed}


def _gr(n: int = 10, d: int = 50, seed: int = 0) -> dict[str, Any]:
    return {"name": "generalized_rademacher", "n": n, "d": d, "seed": seed}


_DATA_LABEL = {"gaussian": "Gaussian", "generalized_rademacher": "GR", "shifted_diagonal": "shifted diagonal"}


def _poly(eta0: float, power: float) -> dict[str, Any]:
    return {"kind": "polynomial", "eta0": eta0, "power": power}


# Hyper-parameters of the claims, chosen so that each claim's statement is visible at the quick
# horizon and sharpens at the full one (see the PASS criteria; all eps = 0, no bias correction):
_DET_ADAM = {"name": "Adam", "beta1": 0.9, "beta2": 0.99}
_DET_ADAM_LR = _poly(0.01, 0.3)
_INC_ADAM = {"name": "Adam", "beta1": 0.9, "beta2": 0.999}
_INC_ADAM_LR = _poly(0.1, 0.5)
_STUDY_ADAM_LR = _poly(0.001, 0.3)
_SIGNUM_BETA = 0.99
_SIGN_LR = _poly(0.01, 0.3)
_GD_LR = 0.1


def _claims(quick: bool) -> dict[int, _ClaimDef]:
    S = (lambda q, f: q if quick else f)  # noqa: E731 - quick / full value
    G, GR = _gaussian(), _gr()
    claims: dict[int, _ClaimDef] = {}

    steps = S(10**6, 10**8)
    claims[1] = _ClaimDef(
        1,
        "Det-Adam -> l-inf max margin",
        "Det-Adam (b = n) on Gaussian and GR data converges to the l-inf max-margin direction "
        "(normalized l-inf margin ratio -> 1; the l-inf maximiser may be non-unique, so the margin ratio is judged, not the cosine).",
        f"Adam(beta1=0.9, beta2=0.99, eps=0), b = n, lr = 0.01 (t+1)^-0.3, {steps:.0e} steps, n = 10, d = 50.",
        [
            _RunSpec(f"Det-Adam, {_DATA_LABEL[dd['name']]}", {"data": dd, "optimizer": _DET_ADAM, "batch_size": "n", "lr": _DET_ADAM_LR, "steps": steps}, "linf", 0.99, _DATA_LABEL[dd["name"]])
            for dd in (G, GR)
        ],
    )

    steps = S(10**6, 10**8)
    claims[2] = _ClaimDef(
        2,
        "Inc-Adam on GR data -> l2 max margin",
        "Inc-Adam (b = 1, cyclic) on generalized Rademacher data converges to the l2 max-margin direction (cosine -> 1).",
        f"Adam(beta1=0.9, beta2=0.999, eps=0), b = 1 cyclic, lr = 0.1 (t+1)^-0.5, {steps:.0e} steps, GR n = 10, d = 50, data seeds 0, 1, 2.",
        [
            _RunSpec(f"Inc-Adam, GR seed {s}", {"data": _gr(seed=s), "optimizer": _INC_ADAM, "batch_size": 1, "lr": _INC_ADAM_LR, "steps": steps}, "l2", 0.9999, f"seed {s}")
            for s in (0, 1, 2)
        ],
    )

    steps, psteps = S(10**6, 10**9), S(10**5, 10**7)
    claims[3] = _ClaimDef(
        3,
        "Inc-Adam and AdamProxy on Gaussian data -> the fixed point w*",
        "Inc-Adam on Gaussian data (n = 10, d = 50) converges to the fixed-point direction w*: closer to w* than to the "
        "l2 or l-inf directions; AdamProxy converges to w* (cosine > 0.9999).",
        f"Inc-Adam: Adam(beta1=0.9, beta2=0.999, eps=0), b = 1 cyclic, lr = 0.1 (t+1)^-0.5, {steps:.0e} steps. "
        f"AdamProxy: lr = 0.1 (t+1)^-0.5, {psteps:.0e} steps (one step = one pass). Gaussian n = 10, d = 50, seed 0.",
        [
            _RunSpec("Inc-Adam, Gaussian", {"data": G, "optimizer": _INC_ADAM, "batch_size": 1, "lr": _INC_ADAM_LR, "steps": steps}, "fixed_point", 0.999, "Inc-Adam"),
            _RunSpec("AdamProxy, Gaussian", {"data": G, "optimizer": {"name": "AdamProxy"}, "lr": _INC_ADAM_LR, "steps": psteps}, "fixed_point", 0.9999, "AdamProxy"),
        ],
    )

    steps = S(10**6, 10**8)
    runs4 = []
    for dd in (G, GR):
        dl = _DATA_LABEL[dd["name"]]
        for b in (1, 2, 5, "n"):
            runs4.append(
                _RunSpec(
                    f"Signum(0.99), b={b}, {dl}",
                    {"data": dd, "optimizer": {"name": "Signum", "beta": _SIGNUM_BETA}, "batch_size": b, "lr": _SIGN_LR, "steps": steps},
                    "linf",
                    0.99,
                    f"Signum b={b}",
                    b,
                )
            )
        runs4.append(
            _RunSpec(f"SignGD, b=1, {dl}", {"data": dd, "optimizer": {"name": "SignGD"}, "batch_size": 1, "lr": _SIGN_LR, "steps": steps}, "not-linf", 0.95, "SignGD b=1", 1)
        )
    claims[4] = _ClaimDef(
        4,
        "Signum (beta near 1) -> l-inf for every batch size; per-sample SignGD does not",
        "Signum with momentum close to 1 keeps the l-inf bias for b in {1, 2, 5, n}; SignGD with b = 1 (no momentum) does not reach the l-inf max margin.",
        f"Signum(beta=0.99) and SignGD, cyclic, lr = 0.01 (t+1)^-0.3, {steps:.0e} steps, Gaussian and GR data n = 10, d = 50.",
        runs4,
    )

    steps = S(10**6, 10**8)
    claims[5] = _ClaimDef(
        5,
        "GD / SGD -> l2 max margin for every batch size (control)",
        "GD and SGD converge in direction to the l2 max-margin classifier for every batch size (slowly: 1 - cos ~ 1/log^2 t).",
        f"GD, b in {{1, 2, 5, n}} cyclic, lr = 0.1 constant, {steps:.0e} steps, Gaussian and GR data n = 10, d = 50.",
        [
            _RunSpec(f"{'GD' if b == 'n' else 'SGD'}, b={b}, {_DATA_LABEL[dd['name']]}", {"data": dd, "optimizer": {"name": "GD"}, "batch_size": b, "lr": _GD_LR, "steps": steps}, "l2", 0.99, f"{_DATA_LABEL[dd['name']]}", b)
            for dd in (G, GR)
            for b in (1, 2, 5, "n")
        ],
    )

    steps = S(10**6, 10**8)
    runs6 = [
        _RunSpec(f"Adam(0.9, 0.999), b={b}", {"data": G, "optimizer": _INC_ADAM, "batch_size": b, "lr": _STUDY_ADAM_LR, "steps": steps}, None, None, "batch size", b)
        for b in (1, 2, 5, "n")
    ]
    runs6 += [
        _RunSpec(f"Adam(0.9, {b2}), b=1", {"data": G, "optimizer": {**_INC_ADAM, "beta2": b2}, "batch_size": 1, "lr": _STUDY_ADAM_LR, "steps": steps}, None, None, "beta2", b2)
        for b2 in (0.9, 0.95, 0.99, 0.999, 0.9999)
    ]

    def check6(rows: list[dict[str, Any]]) -> tuple[bool | None, str]:
        sweep_b = [r for r in rows if r["group"] == "batch size"]
        d = [r["metrics"].get("dist_fixed_point") for r in sweep_b]
        ratio = [r["metrics"].get("ratio_linf") for r in sweep_b]
        if any(v is None for v in d + ratio):
            return None, "w* or l-inf unavailable"
        ok = all(a <= b for a, b in zip(d, d[1:])) and ratio[-1] > ratio[0]
        return ok, (
            "batch-size sweep: 1 - cos(w, w*) is non-decreasing in b = 1, 2, 5, n "
            f"({', '.join(f'{v:.2e}' for v in d)}) and the l-inf margin ratio at b = n exceeds that at b = 1 "
            f"({ratio[-1]:.4f} vs {ratio[0]:.4f})"
        )

    claims[6] = _ClaimDef(
        6,
        "Study: batch size and beta2 for Adam",
        "Batch size sweep b in {1, 2, 5, n}: the limit direction moves from w* toward l-inf. beta2 sweep {0.9, 0.95, 0.99, 0.999, 0.9999} at b = 1: how far from w*.",
        f"Adam(beta1=0.9, beta2 as given, eps=0), cyclic, lr = 0.001 (t+1)^-0.3, {steps:.0e} steps, Gaussian n = 10, d = 50. "
        "Expectation checked: the batch-size trend (the beta2 sweep is reported).",
        runs6,
        study=True,
        check=check6,
        plot="study",
    )

    steps = S(10**6, 10**8)
    runs7 = [_RunSpec("cyclic", {"data": G, "optimizer": _INC_ADAM, "batch_size": 1, "order": "cyclic", "lr": _STUDY_ADAM_LR, "steps": steps}, None, None, "cyclic", "cyclic")]
    for order in ("reshuffle", "replacement"):
        for s in (0, 1, 2):
            runs7.append(
                _RunSpec(f"{order}, seed {s}", {"data": G, "optimizer": _INC_ADAM, "batch_size": 1, "order": order, "seed": s, "lr": _STUDY_ADAM_LR, "steps": steps}, None, None, order, order)
            )
    claims[7] = _ClaimDef(
        7,
        "Study: sampling order at b = 1",
        "Per-sample Adam with cyclic order, a new permutation every epoch (reshuffle), or sampling with replacement: where does each go?",
        f"Adam(beta1=0.9, beta2=0.999, eps=0), b = 1, lr = 0.001 (t+1)^-0.3, {steps:.0e} steps, Gaussian n = 10, d = 50; "
        "sampler seeds 0, 1, 2 for the random orders. No expectation stated in SPEC: reported only.",
        runs7,
        study=True,
        plot="study",
    )

    ns = S((10, 30, 100), (10, 100, 1000))
    steps = S(10**6, 10**8)
    runs8 = [
        _RunSpec(
            f"Inc-Adam(beta2={b2}), n={nn}",
            {"data": _gaussian(n=nn, d=2 * nn), "optimizer": {**_INC_ADAM, "beta2": b2}, "batch_size": 1, "lr": _STUDY_ADAM_LR, "steps": steps},
            None,
            None,
            f"beta2 = {b2}",
            nn,
        )
        for b2 in (0.999, 0.9999)
        for nn in ns
    ]
    claims[8] = _ClaimDef(
        8,
        "Study: number of samples n",
        "Inc-Adam on larger data sets than the original study (which used n = 10); beta2^n is far from 1 for large n.",
        f"Adam(beta1=0.9, beta2 in {{0.999, 0.9999}}, eps=0), b = 1 cyclic, lr = 0.001 (t+1)^-0.3, {steps:.0e} steps, Gaussian data "
        f"with random labels, n in {{{', '.join(map(str, ns))}}}, d = 2n (with d fixed and n >> d the l2, l-inf and w* directions "
        "nearly coincide and the study says nothing). beta2^n: 0.999^1000 = 0.37, 0.9999^1000 = 0.90. "
        "No expectation stated in SPEC: reported only.",
        runs8,
        study=True,
        plot="study",
        x_label="n",
    )
    claims[7].x_label = "sampling order"
    return claims


CLAIMS = tuple(range(1, 9))

#: A d = 2 data set on which the l2 direction differs visibly from l-inf (= w* there).
_DATA_2D = {"name": "gaussian", "n": 16, "d": 2, "seed": 17, "labels": "teacher", "cov": [4.0, 0.25], "margin": 0.2}


def _illustration_runs(quick: bool) -> list[_RunSpec]:
    steps = 10**6 if quick else 10**7
    return [
        _RunSpec("GD", {"data": _DATA_2D, "optimizer": {"name": "GD"}, "lr": _GD_LR, "steps": steps}),
        _RunSpec("Det-Adam", {"data": _DATA_2D, "optimizer": _DET_ADAM, "lr": _DET_ADAM_LR, "steps": steps}),
        _RunSpec("Inc-Adam", {"data": _DATA_2D, "optimizer": _INC_ADAM, "batch_size": 1, "lr": _INC_ADAM_LR, "steps": steps}),
        _RunSpec("Signum(0.99), b=1", {"data": _DATA_2D, "optimizer": {"name": "Signum", "beta": _SIGNUM_BETA}, "batch_size": 1, "lr": _SIGN_LR, "steps": steps}),
    ]


@dataclass
class ClaimResult:
    """Outcome of one claim: one row per run, and PASS / FAIL / REPORT."""

    number: int
    title: str
    statement: str
    setting: str
    status: str  # "PASS", "FAIL" or "REPORT" (a study without a stated expectation)
    rows: list[dict[str, Any]]
    check: str = ""
    figure: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status != "FAIL"


@dataclass
class Summary:
    """What :func:`reproduce` found; ``passed`` is False if any claim FAILed."""

    claims: list[ClaimResult]
    quick: bool
    out_dir: Path
    seconds: float
    version: str
    illustration: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)

    def claim(self, number: int) -> ClaimResult:
        for c in self.claims:
            if c.number == number:
                return c
        raise KeyError(f"claim {number} was not run")

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "quick": self.quick,
            "seconds": self.seconds,
            "passed": self.passed,
            "thresholds": DEFAULT_THRESHOLDS,
            "illustration": _jsonable(self.illustration),
            "claims": [
                {
                    "number": c.number,
                    "title": c.title,
                    "statement": c.statement,
                    "setting": c.setting,
                    "status": c.status,
                    "check": c.check,
                    "figure": c.figure,
                    "notes": c.notes,
                    "runs": _jsonable(c.rows),
                }
                for c in self.claims
            ],
        }

    def to_markdown(self) -> str:
        return _markdown(self)


def _fmt(v: Any, kind: str = "cos") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    if kind == "cos":
        gap = 1.0 - v
        return f"{v:.6f}" if abs(gap) >= 1e-6 else f"1 − {gap:.1e}"
    return f"{v:.4f}"


def _nearest_label(nearest: str | None) -> str:
    if not nearest:
        return "—"
    return " = ".join(REFERENCE_LABELS.get(p, p) for p in nearest.split("="))


def _markdown(s: Summary) -> str:
    L: list[str] = []
    mode = "quick (reduced size)" if s.quick else "full (research size)"
    L.append(f"# implicit-bias reproduce — {mode}\n")
    L.append(f"Package version {s.version}; wall time {s.seconds:.1f} s; overall: **{'PASS' if s.passed else 'FAIL'}**.\n")
    L.append(
        "Metrics are those of the last iterate w = w_T. cos = cosine to the reference direction (l2 max margin, l-inf max "
        "margin, fixed point w*); ratio = normalized margin over the optimum in that norm (1 = max margin). "
        "`nearest` is the reference with the smallest distance (1 - cos; for a non-unique l-inf maximiser, 1 - l-inf ratio). "
        "`theory` is `ib.predicted_direction` for that run (a cross-check, not used for PASS/FAIL); "
        "`prediction` is what the claim predicts and what PASS/FAIL is judged against.\n"
    )
    L.append("| Claim | Title | Status | Runs passed |")
    L.append("|---|---|---|---|")
    for c in s.claims:
        judged = [r for r in c.rows if r.get("result") in ("PASS", "FAIL")]
        npass = sum(r["result"] == "PASS" for r in judged)
        L.append(f"| {c.number} | {c.title} | **{c.status}** | {f'{npass}/{len(judged)}' if judged else '—'} |")
    L.append("")
    if s.illustration:
        near = ", ".join(f"{k} → {_nearest_label(v)}" for k, v in s.illustration["nearest"].items())
        L.append(f"*Illustration (d = 2, {s.illustration['data']}):* nearest reference of each limit: {near}.\n")
        L.append(f"![2-D illustration]({s.illustration['figure']})\n")
    for c in s.claims:
        L.append(f"## Claim {c.number}: {c.title} — **{c.status}**\n")
        L.append(f"*Claim.* {c.statement}\n")
        L.append(f"*Setting.* {c.setting}\n")
        crit = sorted({r["criterion"] for r in c.rows if r.get("criterion")})
        if crit:
            L.append("*PASS criterion (every run with a prediction must meet its criterion):*\n")
            L.extend(f"- {t}" for t in crit)
            L.append("")
        if c.check:
            L.append(f"*Claim-level check:* {c.check}\n")
        L.append("| Run | steps | cos l2 | cos l-inf | cos w* | ratio l2 | ratio l-inf | ratio w* | nearest | theory | prediction | result |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in c.rows:
            m = r["metrics"]
            cos_linf = _fmt(m.get("cos_linf")) if r.get("linf_unique") is not False else f"({_fmt(m.get('cos_linf'))})†"
            L.append(
                f"| {r['label']} | {m['steps']:.0e} | {_fmt(m.get('cos_l2'))} | {cos_linf} | {_fmt(m.get('cos_fixed_point'))} | "
                f"{_fmt(m.get('ratio_l2'), 'r')} | {_fmt(m.get('ratio_linf'), 'r')} | {_fmt(m.get('ratio_fixed_point'), 'r')} | {_nearest_label(m.get('nearest'))} | "
                f"{r.get('theory', '—')} | {r.get('prediction') or '—'} | {r.get('result', '—')} |"
            )
        L.append("")
        if any(r.get("linf_unique") is False for r in c.rows):
            L.append("† the l-inf maximiser of this data set is not unique: the cosine to the solver's maximiser means little; read the l-inf margin ratio.\n")
        for note in c.notes:
            L.append(f"> {note}\n")
        if c.figure:
            L.append(f"![claim {c.number}]({c.figure})\n")
    return "\n".join(L)


def _prediction_for(predictions: Mapping[Any, Any] | None, number: int, spec: _RunSpec) -> tuple[str | None, float | None, bool]:
    """The prediction of a run (the claim's, or an override), its threshold, and whether overridden."""
    if predictions:
        for key in (f"claim{number}:{spec.label}", f"claim{number}", number, str(number)):
            if key in predictions:
                value = predictions[key]
                kind = value(spec.label, spec.config) if callable(value) else value
                if kind is None:
                    return None, None, True
                if kind not in PREDICTION_KINDS:
                    raise ValueError(f"predictions[{key!r}]: unknown prediction {kind!r}; use one of {', '.join(PREDICTION_KINDS)}")
                thr = spec.threshold if kind == spec.expect and spec.threshold is not None else DEFAULT_THRESHOLDS[kind]
                return kind, thr, kind != spec.expect
    return spec.expect, spec.threshold, False


def reproduce(
    quick: bool = True,
    claims: Iterable[int] | None = None,
    out_dir: str | os.PathLike[str] = "results/reproduce",
    progress: bool = True,
    predictions: Mapping[Any, Any] | None = None,
    *,
    executor: cf.Executor | None = None,
    threads: int | None = None,
    theory: bool = True,
    resume: bool = True,
    illustration: bool = True,
) -> Summary:
    """Reproduce the claims of SPEC.md end to end; write ``summary.md``, ``summary.json``, figures.

    ``quick``: reduced horizons (10^5-10^6 steps, under a minute on 2 cores) instead of research
    size (10^7-10^8). ``claims``: which of 1-8 (default: 1-5 when quick, all when full).
    ``predictions``: override what a claim predicts, e.g. ``{"claim5": "linf"}`` (a wrong
    prediction must then FAIL); keys ``"claimN"``, ``N`` or ``"claimN:<run label>"``; values one of
    ``"l2"``, ``"linf"``, ``"fixed_point"``, ``"not-linf"``, None (no prediction) or a callable
    ``(label, config) -> kind``. Runs are cached in ``out_dir/runs`` by config hash, so a rerun
    only computes what is missing (``resume=False`` recomputes). ``theory``: also report
    ``ib.predicted_direction`` for every run. ``illustration``: also draw ``illustration_2d.png``
    (a d = 2 data set with the limit boundaries of GD, Det-Adam, Inc-Adam and Signum).
    """
    t0 = time.perf_counter()
    if claims is None:
        claims = (1, 2, 3, 4, 5) if quick else CLAIMS
    numbers = sorted({int(c) for c in claims})
    bad = [c for c in numbers if c not in CLAIMS]
    if bad or not numbers:
        raise ValueError(f"claims: must be numbers among 1-8, got {list(claims)}")
    if predictions is not None:
        for key in predictions:
            num = str(key).split(":")[0].replace("claim", "")
            if not num.isdigit() or int(num) not in CLAIMS:
                raise ValueError(f"predictions: key {key!r} must look like 'claim5', 5 or 'claim4:<run label>'")
            value = predictions[key]
            if not callable(value) and value is not None and value not in PREDICTION_KINDS:
                raise ValueError(f"predictions[{key!r}]: unknown prediction {value!r}; use one of {', '.join(PREDICTION_KINDS)} or None")
    defs = _claims(quick)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = _DataCache(out / "references")
    store = _Store(out / "runs")
    cells: dict[tuple[int, int], Cell] = {}
    for num in numbers:
        for k, spec in enumerate(defs[num].runs):
            cfg = normalize_config(spec.config)
            cells[(num, k)] = Cell(config_key(cfg, None), cfg, {"claim": num, "label": spec.label})
    if illustration:
        for k, spec in enumerate(_illustration_runs(quick)):
            cfg = normalize_config(spec.config)
            cells[(0, k)] = Cell(config_key(cfg, None), cfg, {"claim": 0, "label": spec.label})
    results = execute(list(cells.values()), cache, store, threads=threads, executor=executor, progress=progress, desc="reproduce", resume=resume)
    theory_cache: dict[str, dict[str, Any]] = {}
    claim_results: list[ClaimResult] = []
    for num in numbers:
        cdef = defs[num]
        rows: list[dict[str, Any]] = []
        notes: list[str] = []
        for k, spec in enumerate(cdef.runs):
            cell = cells[(num, k)]
            traj, record = results[cell.key]
            X, y, sha = cache.data(cell.config["data"])
            refs = cache.references(cell.config["data"])
            for note in refs.notes:
                text = f"{_DATA_LABEL.get(cell.config['data'].get('name'), 'data')}: {note}"
                if text not in notes:
                    notes.append(text)
            m = record["metrics"]
            kind, thr, overridden = _prediction_for(predictions, num, spec)
            row: dict[str, Any] = {
                "label": spec.label,
                "group": spec.group,
                "x": spec.x,
                "key": cell.key,
                "config": cell.config,
                "metrics": m,
                "prediction": kind,
                "threshold": thr,
                "overridden": overridden,
                "linf_unique": refs.linf_unique,
            }
            if kind is not None:
                ok, crit, _ = evaluate(kind, thr, m, refs)
                row.update(result="PASS" if ok else "FAIL", criterion=crit)
            if theory:
                tkey = json.dumps([sha, cell.config["optimizer"], cell.config["batch_size"], cell.config["order"]], sort_keys=True)
                if tkey not in theory_cache:
                    theory_cache[tkey] = _theory(X, y, cell.config)
                row["theory"] = theory_cache[tkey]["kind"]
                row["theory_reason"] = theory_cache[tkey]["reason"]
                row["theory_confidence"] = theory_cache[tkey].get("confidence", "")
            rows.append(row)
        judged = [r for r in rows if "result" in r]
        status = "REPORT"
        if judged:
            status = "PASS" if all(r["result"] == "PASS" for r in judged) else "FAIL"
        check_text = ""
        if cdef.check is not None:
            ok, check_text = cdef.check(rows)
            check_text = f"{check_text} — **{'PASS' if ok else 'FAIL' if ok is False else 'n/a'}**"
            if ok is False:
                status = "FAIL"
            elif ok and status == "REPORT":
                status = "PASS"
        if any(r["overridden"] for r in rows):
            notes.append("Predictions overridden by the caller (predictions=...): PASS/FAIL is judged against the override.")
        result = ClaimResult(num, cdef.title, cdef.statement, cdef.setting, status, rows, check_text, None, notes)
        fig_name = f"claim{num}.png"
        from . import plots

        trajs = {r["label"]: results[r["key"]][0] for r in rows}
        plots.claim_figure(result, trajs, path=out / fig_name, kind=cdef.plot, x_label=cdef.x_label)
        result.figure = fig_name
        claim_results.append(result)
    extra: dict[str, Any] = {}
    if illustration:
        from . import plots

        X2, y2, _ = cache.data(_DATA_2D)
        refs2 = cache.references(_DATA_2D)
        specs = _illustration_runs(quick)
        finals = {spec.label: results[cells[(0, k)].key][0].w[-1] for k, spec in enumerate(specs)}
        nearest = {spec.label: results[cells[(0, k)].key][1]["metrics"]["nearest"] for k, spec in enumerate(specs)}
        plots.decision_boundaries(
            X2, y2, finals, references=refs2, path=out / "illustration_2d.png",
            title=f"d = 2 example: limit directions after {specs[0].config['steps']:.0e} steps",
        )
        extra = {"figure": "illustration_2d.png", "data": _DATA_2D, "nearest": nearest}
    summary = Summary(claim_results, quick, out, time.perf_counter() - t0, _version(), extra)
    _atomic_write_text(out / "summary.json", json.dumps(summary.to_json(), indent=1))
    _atomic_write_text(out / "summary.md", summary.to_markdown())
    return summary
