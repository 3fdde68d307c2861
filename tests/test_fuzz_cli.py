"""Fuzzing the command line's configuration files (issue 11): ``implicit-bias run --config f.toml``
and ``sweep --config f.toml`` with keys of the wrong type, unknown keys, out-of-range values and
missing keys, through ``main(argv)`` in the sandboxed worker.

Property: the command succeeds (status 0), or exits with status 2 and a message that names a key
of the file; an unmutated (valid) file must succeed. Never a traceback, another status, a crash or a
hang.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from hypothesis import event, given, note
from hypothesis import strategies as st

from fuzz_strategies import SANDBOX, fuzz_settings, log_uniform, names_argument, optimizers


# ------------------------------------------------------------------------------------------- TOML
def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(cfg: dict[str, Any]) -> str:
    lines = [f"{k} = {toml_value(v)}" for k, v in cfg.items() if not isinstance(v, dict)]
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f"{kk} = {toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- strategies
@st.composite
def run_configs(draw) -> dict[str, Any]:
    name = draw(st.sampled_from(["gaussian", "gr", "shifted_diagonal"]))
    n = draw(st.integers(1, 8))
    if name == "shifted_diagonal":
        data: dict[str, Any] = {"name": name, "n": n, "delta": draw(st.sampled_from([0.1, 1.0]))}
    else:
        data = {"name": name, "n": n, "d": draw(st.integers(max(1, n // 2), 8)), "seed": draw(st.integers(0, 100))}
    opt = draw(optimizers())
    cfg: dict[str, Any] = {
        "steps": draw(st.integers(1, 1000)),
        "batch_size": draw(st.one_of(st.integers(1, n), st.just("n"))),
        "order": "cyclic" if opt["name"] == "AdamEpochMap" else draw(st.sampled_from(["cyclic", "reshuffle"])),
        "loss": draw(st.sampled_from(["logistic", "exponential"])),
        "dtype": draw(st.sampled_from(["float64", "longdouble"])),
        "seed": draw(st.integers(0, 2**64 - 1)),
        "checkpoints": draw(st.integers(1, 30)),
        "data": data,
        "optimizer": opt,
    }
    eta0 = draw(st.one_of(st.just(0.1), log_uniform(-5, 1)))
    lr = draw(st.sampled_from(["number", "constant", "polynomial"]))
    cfg["lr"] = eta0 if lr == "number" else {"kind": lr, "eta0": eta0, **({"power": 0.5} if lr == "polynomial" else {})}
    return cfg


JUNK_TOML = st.sampled_from(
    ["ten", "", 1.5, -3, 0, True, [1, 2], [], {"a": 1}, 2**63, -(2**63), 10**7, math.nan, math.inf, -1e300, "n"]
)
OUT_OF_RANGE = {
    "steps": [0, -5, 2**63, 1e300],
    "checkpoints": [0, -1, 10**7, 2**64],
    "seed": [-1, 2**64],
    "batch_size": [0, -1, 100],
    "data.n": [0, -1, 2**40],
    "data.d": [0, -2, 2**40],
    "data.delta": [-1.0, math.inf],
    "data.seed": [-1, 2**64],
    "optimizer.beta1": [1.0, -0.1, 1.5, math.nan],
    "optimizer.beta2": [1.0, 2.0, -1e-300],
    "optimizer.beta": [1.0, -0.5],
    "optimizer.eps": [-1e-8, math.inf],
    "lr.eta0": [0.0, -1.0, math.inf, math.nan],
    "lr.power": [0.0, 2.0, -1.0],
}


def _paths(cfg: dict[str, Any]) -> list[str]:
    out = []
    for k, v in cfg.items():
        out.append(k)
        if isinstance(v, dict):
            out += [f"{k}.{kk}" for kk in v]
    return out


def _set(cfg: dict[str, Any], path: str, value: Any) -> None:
    head, _, leaf = path.partition(".")
    if leaf:
        if not isinstance(cfg.get(head), dict):
            cfg[head] = {}
        cfg[head][leaf] = value
    else:
        cfg[head] = value


def _delete(cfg: dict[str, Any], path: str) -> None:
    head, _, leaf = path.partition(".")
    if leaf:
        cfg[head].pop(leaf, None)
    else:
        cfg.pop(head, None)


@st.composite
def mutated(draw, base: st.SearchStrategy[dict[str, Any]], extra_tables: tuple[str, ...] = ()) -> Any:
    cfg = draw(base)
    original = copy.deepcopy(cfg)
    keys: list[str] = []
    for _ in range(draw(st.integers(0, 2).map(lambda k: (k + 1) % 3))):  # mostly one mutation
        kind = draw(st.sampled_from(["type", "unknown", "range", "missing"]))
        paths = _paths(cfg)
        if kind == "type" and paths:
            path = draw(st.sampled_from(paths))
            _set(cfg, path, draw(JUNK_TOML))
        elif kind == "unknown":
            tables = [k for k, v in cfg.items() if isinstance(v, dict)]
            where = draw(st.sampled_from(["", *tables]))
            path = f"{where}.colour" if where else "colour"
            _set(cfg, path, 1)
        elif kind == "range":
            path = draw(st.sampled_from(sorted(OUT_OF_RANGE)))
            _set(cfg, path, draw(st.sampled_from(OUT_OF_RANGE[path])))
        elif paths:
            path = draw(st.sampled_from(paths))
            _delete(cfg, path)
        else:
            continue
        keys.append(path)
    return cfg, keys, original


def _leaves(paths: list[str]) -> set[str]:
    out = set()
    for p in paths:
        out.add(p)
        out.update(p.split("."))
    return out


def check_cli(command: str, cfg: dict[str, Any], keys: list[str], original: dict[str, Any], flags: list[str]) -> None:
    text = to_toml(cfg)
    note(text)
    out = SANDBOX.call("cli", command=command, toml=text, flags=flags)
    assert out.raised is None, f"{out.raised}: {out.message}\n{out.traceback}"
    assert not out.problems, out.problems
    code, stderr = out.value["code"], out.value["stderr"]
    event(f"status {code}" + (" (valid file)" if not keys else ""))
    if not keys:
        assert code == 0, f"a valid file failed (status {code}): {stderr[-1500:]}"
        return
    if code == 2:
        message = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        names = _leaves(keys) | _leaves(_paths(original)) | _leaves(_paths(cfg)) | {"--config", "config"}
        assert names_argument(message, sorted(names)), f"status 2 without naming a key: {message!r}"


@fuzz_settings(20)
@given(case=mutated(run_configs()))
def test_run_config_file(case):
    cfg, keys, original = case
    check_cli("run", cfg, keys, original, ["--no-references"])


@st.composite
def sweep_configs(draw) -> dict[str, Any]:
    cfg = draw(run_configs())
    cfg["steps"] = min(cfg["steps"], 300)
    name = cfg["optimizer"]["name"]
    swept = {"Adam": "beta2", "RMSProp": "beta2", "Signum": "beta", "Lion": "beta1", "AdamEpochMap": "beta1"}
    if name in swept and draw(st.booleans()):
        cfg["grid"] = {swept[name]: draw(st.lists(st.sampled_from([0.5, 0.9, 0.99]), min_size=1, max_size=2))}
    else:
        sizes = [1, 2, "n"] if cfg["data"]["n"] >= 2 else [1, "n"]
        cfg["grid"] = {"batch_size": draw(st.lists(st.sampled_from(sizes), min_size=1, max_size=2))}
    cfg["seeds"] = draw(st.lists(st.integers(0, 3), min_size=1, max_size=2))
    if draw(st.booleans()):
        cfg["seed_data"] = draw(st.booleans())
    return cfg


@fuzz_settings(8)
@given(case=mutated(sweep_configs()))
def test_sweep_config_file(case):
    cfg, keys, original = case
    # batch sizes in the grid may exceed a small n: a usage error naming batch_size, not a crash
    check_cli("sweep", cfg, keys, original, ["--threads", "1", "--reference", "none"])
