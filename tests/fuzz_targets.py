"""What the fuzz worker runs (see tests/fuzz_strategies.py): each target calls the public API with
plain, picklable arguments and checks the result's documented form; :func:`evaluate` wraps it into
an :class:`~fuzz_strategies.Outcome` (result problems, exception, warnings)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import implicit_bias as ib
from fuzz_strategies import Outcome


# ------------------------------------------------------------------------------------ converters
def make_optimizer(desc: Any) -> Any:
    if not isinstance(desc, dict) or "name" not in desc:
        return desc  # junk: the entry point must refuse it
    params = {k: v for k, v in desc.items() if k != "name"}
    return getattr(ib, desc["name"])(**params)


def make_lr(desc: Any) -> Any:
    if not isinstance(desc, dict) or "kind" not in desc:
        return desc  # junk (e.g. {"a": 1}) goes to the package as it is
    kind = desc["kind"]
    if kind == "constant":
        return ib.schedules.constant(desc["eta0"])
    if kind == "polynomial":
        return ib.schedules.polynomial(desc["eta0"], desc["power"])
    return ib.schedules.step_decay(desc["eta0"], desc["factor"], desc["every"])


def _run_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    out = dict(kw)
    if "lr" in out:
        out["lr"] = make_lr(out["lr"])
    return out


# ---------------------------------------------------------------------------------------- checks
def check_trajectory(traj: Any, d: int, dtype: Any, steps: int | None, problems: list[str]) -> bool:
    """Shapes and finiteness of a Trajectory; returns whether everything that must be finite is."""
    k = len(traj.steps)
    if k < 1:
        problems.append("no checkpoint recorded")
        return True
    if traj.w.shape != (k, d):
        problems.append(f"w has shape {traj.w.shape}, expected ({k}, {d})")
    if traj.w.dtype != np.dtype(dtype):
        problems.append(f"w has dtype {traj.w.dtype}, expected {np.dtype(dtype)}")
    for name in ("norm", "log_loss", "margin_l2", "margin_linf", "min_margin"):
        if getattr(traj, name).shape != (k,):
            problems.append(f"{name} has shape {getattr(traj, name).shape}, expected ({k},)")
    if np.any(np.diff(traj.steps) <= 0):
        problems.append("steps are not strictly increasing")
    if steps is not None and int(traj.steps[-1]) != steps:
        problems.append(f"last checkpoint at step {int(traj.steps[-1])}, expected {steps}")
    finite = bool(np.all(np.isfinite(traj.w)) and np.all(np.isfinite(traj.norm)) and np.all(np.isfinite(traj.log_loss)))
    moved = traj.norm > 0
    for name in ("margin_l2", "margin_linf"):
        if not np.all(np.isfinite(getattr(traj, name)[moved])):
            finite = False
    return finite


def diagnostics_overflow(traj: Any) -> bool:
    """The iterate is finite but a checkpoint's norm / loss / margins are not
    (KNOWN_FAILURES["train-diagnostics-overflow"])."""
    moved = traj.norm != 0  # margins are NaN at w = 0 by definition
    diag = np.concatenate([traj.norm, traj.log_loss, traj.margin_l2[moved], traj.margin_linf[moved], traj.min_margin])
    return bool(np.all(np.isfinite(traj.w)) and not np.all(np.isfinite(diag)))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# --------------------------------------------------------------------------------------- targets
def t_train(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    kw = _run_kwargs(kw)
    X, y = kw.pop("X"), kw.pop("y")
    opt = make_optimizer(kw.pop("optimizer"))
    traj = ib.train(X, y, opt, **kw)
    d = np.shape(X)[1]
    dtype = kw.get("dtype") or (np.longdouble if getattr(X, "dtype", None) == np.longdouble else np.float64)
    finite = check_trajectory(traj, d, dtype, int(kw["steps"]), problems)
    return not finite, {"w": traj.w[-1], "diagnostics_overflow": diagnostics_overflow(traj)}


def t_run_cycle(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    """Run.advance(s1), save, load, advance(s2) == one uninterrupted run to s1 + s2, bit for bit."""
    kw = _run_kwargs(kw)
    X, y = kw.pop("X"), kw.pop("y")
    s1, s2, checkpoints = kw.pop("s1"), kw.pop("s2"), kw.pop("checkpoints")
    opt = make_optimizer(kw.pop("optimizer"))
    run = ib.Run(X, y, opt, **kw)
    run.advance(s1, checkpoints=checkpoints)
    if not np.all(np.isfinite(run.w)):
        # A diverged run (advance warned) saves, but load refuses a non-finite w by design (issue 11):
        # nothing to resume. Reported as a follow-up (save could refuse it as well).
        return True, {"diagnostics_overflow": False}
    with tempfile.TemporaryDirectory(prefix="ib-fuzz-") as tmp:
        path = Path(tmp) / "run.npz"
        run.save(path)
        loaded = ib.Run.load(path)
    if loaded.t != run.t or not _same(loaded.w, run.w):
        problems.append(f"loaded run differs from the saved one (t {loaded.t} vs {run.t})")
    traj = loaded.advance(s2, checkpoints=checkpoints)
    straight = ib.Run(X, y, opt, **kw).advance(s1 + s2, checkpoints=checkpoints)
    if not _same(traj.w[-1], straight.w[-1]):
        problems.append(f"resumed run ends at {traj.w[-1]}, uninterrupted at {straight.w[-1]}")
    finite = check_trajectory(traj, run.data.d, run.dtype, s1 + s2, problems)
    return not finite, {"w": traj.w[-1], "diagnostics_overflow": diagnostics_overflow(traj)}


def t_train_many(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    """train_many == train one by one, bit for bit (final iterate and checkpoint steps)."""
    X, y, dtype = kw["X"], kw["y"], kw.get("dtype")
    configs = []
    for c in kw["configs"]:
        c = _run_kwargs(c)
        c["optimizer"] = make_optimizer(c["optimizer"])
        configs.append(c)
    extra = {k: kw[k] for k in ("threads", "lanes", "checkpoints") if k in kw}
    trajs = ib.train_many(X, y, configs, steps=kw["steps"], dtype=dtype, **extra)
    finite, overflow = True, False
    steps = kw["steps"] if isinstance(kw["steps"], list) else [kw["steps"]] * len(configs)
    if len(trajs) != len(configs):
        problems.append(f"{len(trajs)} trajectories for {len(configs)} configs")
    for k, (traj, cfg, s) in enumerate(zip(trajs, configs, steps)):
        finite &= check_trajectory(traj, np.shape(X)[1], dtype or np.float64, int(s), problems)
        overflow = overflow or diagnostics_overflow(traj)
        one = ib.train(X, y, steps=s, dtype=dtype, checkpoints=kw.get("checkpoints", 200), **cfg)
        if not (_same(traj.w[-1], one.w[-1]) and np.array_equal(traj.steps, one.steps)):
            problems.append(f"configs[{k}]: train_many differs from train (final w {traj.w[-1]} vs {one.w[-1]})")
    return not finite, {"diagnostics_overflow": overflow}


def t_first_step(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    """One step from w0 = 0 of a scale-invariant optimizer (eps = 0): the same on X * 2^k as on X."""
    kw = _run_kwargs(kw)
    X, y, k = kw.pop("X"), kw.pop("y"), kw.pop("scale_exp")
    opt = make_optimizer(kw.pop("optimizer"))
    scaled = ib.train(X, y, opt, steps=1, **kw)
    base = ib.train(np.ldexp(X, -k), y, opt, steps=1, **kw)
    # Power-of-two scaling is exact, so the two agree to rounding: a few ulps of the update's size
    # (the engine's internal scale is not always a power of two, e.g. for the exponential loss, and a
    # coordinate whose gradient sum cancels differs in more of its own ulps).
    a, b = scaled.w[-1], base.w[-1]
    tol = 64 * np.finfo(a.dtype).eps * max(float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    if a.shape != b.shape or not np.all(np.abs(a - b) <= tol):
        problems.append(f"first step on X * 2^{k}: {scaled.w[-1]}, on X: {base.w[-1]}")
    return False, scaled.w[-1]


def _separable_problem(kw: dict[str, Any], problems: list[str], result_ok: bool) -> None:
    if result_ok and kw.get("_separable") is False:
        problems.append("returned a result for data that are not separable (expected NotSeparableError)")


def t_max_margin(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    sep = kw.pop("_separable", None)
    res = ib.max_margin(kw.pop("X"), kw.pop("y"), **kw)
    _separable_problem({"_separable": sep}, problems, True)
    w = np.asarray(res.w, dtype=np.float64)
    finite = bool(np.all(np.isfinite(w)) and math.isfinite(float(res.gamma)))
    if w.ndim != 1:
        problems.append(f"w has shape {w.shape}")
    elif finite and float(res.gamma) <= 0:
        problems.append(f"gamma = {float(res.gamma)} <= 0")
    return not finite, None


def t_fixed_point(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    sep = kw.pop("_separable", None)
    X = kw.pop("X")
    res = ib.fixed_point(X, kw.pop("y"), **kw)
    _separable_problem({"_separable": sep}, problems, True)
    w = np.asarray(res.w, dtype=np.float64)
    if w.shape != (np.shape(X)[1],):
        problems.append(f"w has shape {w.shape}, expected ({np.shape(X)[1]},)")
    return not bool(np.all(np.isfinite(w))), None


def t_is_separable(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    sep = kw.pop("_separable", None)
    got = ib.is_separable(kw["X"], kw["y"])
    if sep is not None and got != sep:
        problems.append(f"is_separable = {got}, but the data are {'' if sep else 'not '}separable by construction")
    return False, got


def t_dataset(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    fn = getattr(ib.datasets, kw.pop("_fn"))
    X, y = fn(**kw)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        problems.append(f"shapes X {X.shape}, y {y.shape}")
    if "n" in kw and X.shape[0] != kw["n"]:
        problems.append(f"{X.shape[0]} rows, asked for n = {kw['n']}")
    if "d" in kw and X.shape[1] != kw["d"]:
        problems.append(f"{X.shape[1]} columns, asked for d = {kw['d']}")
    if not np.all((y == 1) | (y == -1)):
        problems.append("labels not in {-1, +1}")
    want = np.dtype(kw.get("dtype", np.float64))
    if X.dtype != want or y.dtype != want:
        problems.append(f"dtypes {X.dtype}, {y.dtype}, expected {want}")
    if not ib.is_separable(X, y):
        problems.append("the generated set is not separable")
    return not bool(np.all(np.isfinite(X))), None


def _no_figure(*args: Any, path: Any = None, **kwargs: Any) -> None:
    if path is not None:
        Path(path).write_bytes(b"")


def t_cli(kw: dict[str, Any], problems: list[str]) -> tuple[bool, Any]:
    """implicit-bias main(argv) with a TOML file: returns 0, or exits with status 2 and a message.

    The figures are not drawn (an empty file is written in their place): they take ~90% of a small
    run's time and are fuzzed nowhere else in this target; tests/plots covers them.
    """
    from implicit_bias import cli, plots

    plots.run_figure = _no_figure
    plots.phase_diagram = _no_figure

    with tempfile.TemporaryDirectory(prefix="ib-fuzz-") as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(kw["toml"])
        argv = [kw["command"], "--config", str(config), "--out", str(Path(tmp) / "out"), "--quiet", *kw["flags"]]
        err, out = io.StringIO(), io.StringIO()
        code: Any
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code
    stderr = err.getvalue()
    if code not in (0, 2):
        problems.append(f"exit status {code!r} (expected 0 or 2); stderr: {stderr[-2000:]}")
    return False, {"code": code, "stderr": stderr}


TARGETS: dict[str, Callable[[dict[str, Any], list[str]], tuple[bool, Any]]] = {
    "train": t_train,
    "run_cycle": t_run_cycle,
    "train_many": t_train_many,
    "first_step": t_first_step,
    "max_margin": t_max_margin,
    "fixed_point": t_fixed_point,
    "is_separable": t_is_separable,
    "dataset": t_dataset,
    "cli": t_cli,
}


def evaluate(name: str, kwargs: dict[str, Any]) -> Outcome:
    out = Outcome()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out.nonfinite, out.value = TARGETS[name](dict(kwargs), out.problems)
        except Exception as exc:  # the property decides (in the test process) whether it was clean
            out.raised = type(exc).__name__
            out.error_kind = "value/type" if isinstance(exc, (ValueError, TypeError)) else "other"
            out.message = str(exc)
            out.traceback = traceback.format_exc(limit=-8)
            if name in ("max_margin", "fixed_point") and kwargs.get("_separable") is True:
                if isinstance(exc, ib.NotSeparableError):
                    out.problems.append(f"NotSeparableError for data separable by construction: {exc}")
    out.warnings = [(type(w.message).__name__, str(w.message)[:500]) for w in caught]
    if os.environ.get("IB_FUZZ_DEBUG"):
        print(name, out)
    return out
