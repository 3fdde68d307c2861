"""The sweep / reproduce store trusts a cell only when it is complete and its checksums match.

* every kind of damage (truncated, garbage, flipped bytes, edited, swapped, half-written, deleted)
  is recomputed with a StoreWarning naming the file, and the final table equals the undamaged one;
* an interruption at every single write of a sweep, then a rerun, gives the uninterrupted results;
* real ``implicit-bias sweep`` processes: SIGINT / SIGKILL at random moments then a rerun, and two
  processes sharing one ``--out`` folder, end with the results of one uninterrupted sweep;
* cell keys change with the package version and build.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import experiments as E
from implicit_bias.engine import persistence
from implicit_bias.experiments import config as config_module
from implicit_bias.experiments.store import CellLock

BASE = {
    "data": {"name": "gaussian", "n": 6, "d": 8},
    "optimizer": {"name": "Adam"},
    "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},
    "steps": 2000,
    "checkpoints": 20,
    "batch_size": 1,
}
GRID = {"beta2": [0.9, 0.99], "beta1": [0.0, 0.9]}


def run_sweep(out, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("plot", False)
    kw.setdefault("threads", 1)
    return E.sweep(BASE, GRID, out_dir=out, **kw)


def table_cells(out):
    return json.loads((out / "table.json").read_text())["cells"]


def trajectories(out):
    return {p.stem: ib.Trajectory.load(p) for p in sorted((out / "cells").glob("*.npz"))}


def assert_same_results(out, golden):
    assert table_cells(out) == table_cells(golden)
    a, b = trajectories(out), trajectories(golden)
    assert a.keys() == b.keys()
    for key in a:
        for name in ("steps", "w", "norm", "log_loss", "margin_l2"):
            np.testing.assert_array_equal(getattr(a[key], name), getattr(b[key], name))
    assert not list((out / "cells").glob("*.tmp*")) and not list(out.glob("*.tmp*"))


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    res = run_sweep(out)
    assert res.ran == 4 and res.complete
    return out


@pytest.fixture
def copy(golden, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(golden, out)
    return out


def cell_files(out):
    keys = sorted(p.stem for p in (out / "cells").glob("*.json"))
    return keys, [(out / "cells" / f"{k}.npz", out / "cells" / f"{k}.json") for k in keys]


def rerun_expecting_one_recompute(out, golden, file):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_sweep(out)
    store_warnings = [str(w.message) for w in caught if issubclass(w.category, ib.StoreWarning)]
    assert res.ran == 1 and res.skipped == 3, store_warnings
    assert len(store_warnings) == 1 and str(file) in store_warnings[0], store_warnings
    assert_same_results(out, golden)
    return store_warnings[0]


# ------------------------------------------------------------------------------ damaged cells


def _truncate(npz, js, other):
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    return npz


def _garbage_npz(npz, js, other):
    npz.write_bytes(os.urandom(2000))
    return npz


def _flip_npz(npz, js, other):
    raw = bytearray(npz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    npz.write_bytes(bytes(raw))
    return npz


def _truncate_json(npz, js, other):
    js.write_text(js.read_text()[:40])
    return js


def _garbage_json(npz, js, other):
    js.write_bytes(b"\xff\xfe garbage")
    return js


def _edit_metric(npz, js, other):
    rec = json.loads(js.read_text())
    rec["metrics"]["cos_l2"] = 0.123
    js.write_text(json.dumps(rec))
    return js


def _json_list(npz, js, other):
    js.write_text("[1, 2, 3]")
    return js


def _old_record(npz, js, other):
    rec = json.loads(js.read_text())
    for k in ("record_sha256", "trajectory_sha256"):
        rec.pop(k)
    js.write_text(json.dumps(rec))
    return js


def _swap_npz(npz, js, other):
    shutil.copy(other[0], npz)
    return npz


def _swap_json(npz, js, other):
    shutil.copy(other[1], js)
    return js


def _swap_both(npz, js, other):
    shutil.copy(other[0], npz)
    shutil.copy(other[1], js)
    return js


def _delete_json(npz, js, other):  # a cell whose trajectory was written but not its record
    js.unlink()
    return npz


def _delete_npz(npz, js, other):
    npz.unlink()
    return npz


def _npz_is_a_directory(npz, js, other):
    npz.unlink()
    npz.mkdir()
    return npz


def _resigned_trajectory(npz, js, other):
    """A valid trajectory file with other numbers: its own checksum is fine, the record's is not."""
    traj = ib.Trajectory.load(npz)
    traj.w = traj.w * 2
    traj.save(npz)
    return npz


DAMAGE = [_truncate, _garbage_npz, _flip_npz, _truncate_json, _garbage_json, _edit_metric, _json_list, _old_record,
          _swap_npz, _swap_json, _swap_both, _delete_json, _delete_npz, _resigned_trajectory]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__.strip("_") for d in DAMAGE])
def test_a_damaged_cell_is_recomputed_with_a_warning_naming_the_file(copy, golden, damage):
    keys, files = cell_files(copy)
    npz, js = files[1]
    named = damage(npz, js, files[2])
    store = E.Store(copy / "cells")
    assert not store.done(keys[1])
    with pytest.raises(ib.RunFileError):
        store.load(keys[1])
    rerun_expecting_one_recompute(copy, golden, named)


def test_a_directory_in_place_of_a_trajectory_is_reported(copy, golden):
    keys, files = cell_files(copy)
    _npz_is_a_directory(*files[0], files[1])
    store = E.Store(copy / "cells")
    assert not store.done(keys[0])
    with pytest.raises(ib.RunFileError, match=keys[0]):
        store.load(keys[0])


def test_leftover_lock_and_temporary_files_do_not_matter(copy, golden):
    keys, _ = cell_files(copy)
    (copy / "cells" / f"{keys[0]}.lock").write_text('{"pid": 999999999, "host": "gone"}')
    (copy / "cells" / f"{keys[1]}.npz.1234.abcd.tmp.npz").write_bytes(b"half")
    res = run_sweep(copy)
    assert res.ran == 0 and res.skipped == 4
    (copy / "cells" / f"{keys[1]}.npz.1234.abcd.tmp.npz").unlink()
    assert_same_results(copy, golden)


def test_a_rerun_deletes_the_temporaries_of_killed_writers_of_this_host_only(copy, golden):
    """A writer killed by SIGKILL leaves ``<name>.<host>-<pid>.<token>.tmp<suffix>`` behind; the
    next sweep deletes it when that pid is gone from this host, and keeps the temporaries of live
    writers (this process) and of other hosts (which it cannot judge)."""
    keys, _ = cell_files(copy)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # exited: no process of this host has that pid (unless reused)
    live = persistence.temporary_path(copy / "cells" / f"{keys[0]}.npz", ".npz")
    host = live.name.split(".")[-4].rsplit("-", 1)[0]
    abandoned = [
        copy / f"phase_diagram.{host}-{dead_pid}.0badc0de.tmp.png",
        copy / "cells" / f"{keys[1]}.npz.{host}-{dead_pid}.0badc0de.tmp.npz",
        copy / "references" / f"x.json.{host}-{dead_pid}.0badc0de.tmp",
    ]
    kept = [live, copy / "cells" / f"{keys[2]}.npz.{host}x-{dead_pid}.0badc0de.tmp.npz"]
    if os.path.exists(f"/proc/{dead_pid}"):
        pytest.skip("the exited helper's pid was reused at once")
    for path in abandoned + kept:
        path.write_bytes(b"half")
    res = run_sweep(copy)
    assert res.ran == 0 and res.skipped == 4
    assert [p.exists() for p in abandoned] == [False] * 3 and [p.exists() for p in kept] == [True] * 2
    for path in kept:
        path.unlink()
    assert_same_results(copy, golden)


def test_a_damaged_reference_cache_is_recomputed(copy, golden):
    refs = sorted((copy / "references").glob("*.json"))
    assert refs
    refs[0].write_text('{"format": 2, "sha256": "0", "payload": {}}')
    shutil.rmtree(copy / "cells")
    with pytest.warns(ib.StoreWarning, match=str(refs[0].name)):
        res = run_sweep(copy)
    assert res.ran == 4
    assert_same_results(copy, golden)


def test_records_carry_both_checksums(golden):
    keys, files = cell_files(golden)
    rec = json.loads(files[0][1].read_text())
    assert rec["trajectory_sha256"] == ib.engine.persistence.file_checksum(files[0][0])
    assert rec["record_sha256"] == E.store.json_checksum({k: v for k, v in rec.items() if k != "record_sha256"})
    assert rec["key"] == keys[0] and rec["build"]["version"] == ib.__version__


def test_keys_change_with_version_and_build(copy, golden, monkeypatch):
    cfg = E.normalize_config({**BASE, "optimizer": {"name": "Adam", "beta2": 0.9}})
    key = E.config_key(cfg)
    assert E.config_key(cfg) == key
    monkeypatch.setattr(config_module, "__version__", "99.0")
    assert E.config_key(cfg) != key
    res = run_sweep(copy)  # an upgrade recomputes every cell instead of reusing them
    assert res.ran == 4 and res.skipped == 0
    monkeypatch.undo()
    if hasattr(ib._core, "build_info"):
        info = ib._core.build_info()
        monkeypatch.setattr(ib._core, "build_info", lambda: {**info, "flags": info.get("flags", "") + " -O0"})
        assert E.config_key(cfg) != key


# ------------------------------------------------------------------------------ interruptions


class Interrupt:
    """os.replace that raises KeyboardInterrupt at its k-th call, before or after replacing."""

    def __init__(self, k, after):
        self.k, self.after, self.calls = k, after, 0
        self.real = os.replace

    def __call__(self, src, dst):
        self.calls += 1
        if self.calls == self.k and not self.after:
            raise KeyboardInterrupt
        self.real(src, dst)
        if self.calls == self.k and self.after:
            raise KeyboardInterrupt


@pytest.mark.filterwarnings("ignore::implicit_bias.errors.StoreWarning")  # the half-written cells it leaves
def test_an_interruption_at_every_write_then_a_rerun_gives_the_uninterrupted_results(golden, tmp_path, monkeypatch):
    fresh = tmp_path / "count"
    shutil.copytree(golden / "references", fresh / "references")
    counter = Interrupt(0, False)
    monkeypatch.setattr(os, "replace", counter)
    run_sweep(fresh)
    writes = counter.calls
    assert writes >= 11  # sweep.json, 4 x (trajectory, record), table.csv, table.json
    for k in range(1, writes + 1):
        for after in (False, True):
            out = tmp_path / f"k{k}{'a' if after else 'b'}"
            shutil.copytree(golden / "references", out / "references")
            monkeypatch.setattr(os, "replace", Interrupt(k, after))
            with pytest.raises(KeyboardInterrupt):
                run_sweep(out)
            monkeypatch.setattr(os, "replace", counter.real)
            run_sweep(out)
            assert_same_results(out, golden)
            assert not list((out / "cells").glob("*.lock"))
            shutil.rmtree(out)


# ------------------------------------------------------------------------------ locks


def test_a_cell_lock_excludes_others_and_dies_with_its_owner(tmp_path):
    path = tmp_path / "c.lock"
    a, b = CellLock(path), CellLock(path)
    assert a.acquire() and not b.acquire()
    assert str(os.getpid()) in a.owner() or "pid" in b.owner()
    a.release()
    assert not path.exists() and b.acquire()
    b.release()
    # a lock held by a process that is then killed is free at once (no stale-lock timeout)
    code = (
        "import pathlib, time\nfrom implicit_bias.experiments.store import CellLock\n"
        f"assert CellLock(pathlib.Path({str(path)!r})).acquire()\nprint('held', flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        c = CellLock(path)
        assert not c.acquire()
        assert str(proc.pid) in c.owner()
        proc.kill()
        proc.wait(timeout=30)
        assert c.acquire()
        c.release()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_cell_locked_by_another_process_is_skipped_then_read(copy, golden):
    """In-process: hold one cell's lock, write it from 'elsewhere' meanwhile; the sweep computes the
    other cells, waits for that one, and reads it instead of computing it."""
    keys, files = cell_files(copy)
    saved = {p: p.read_bytes() for p in files[0]}
    for p in files[0]:
        p.unlink()
    other = CellLock(copy / "cells" / f"{keys[0]}.lock")
    assert other.acquire()

    def finish_elsewhere():
        for p, data in saved.items():
            p.write_bytes(data)
        other.release()

    import threading

    timer = threading.Timer(1.0, finish_elsewhere)
    timer.start()
    try:
        res = run_sweep(copy)
    finally:
        timer.join()
    assert res.ran == 0 and res.skipped == 3 and res.waited == 1
    assert_same_results(copy, golden)


# ------------------------------------------------------------------------------ real processes

CLI = [
    sys.executable, "-m", "implicit_bias.cli", "sweep",
    "--data", "gaussian", "--n", "6", "--d", "8", "--optimizer", "Adam", "--batch-size", "1",
    "--lr", "0.1", "--power", "0.5", "--steps", "5e6", "--checkpoints", "20",
    "--grid", "beta2=0.9,0.99,0.999,0.9999", "--grid", "beta1=0.0,0.9",
    "--threads", "1", "--quiet", "--reference", "none",
]  # fmt: skip
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def cli_sweep(out, timeout=300):
    proc = subprocess.run([*CLI, "--out", str(out)], capture_output=True, text=True, env=ENV, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc


def counts(stdout):
    line = next(s for s in stdout.splitlines() if s.startswith("sweep:"))
    ran = int(line.split("(")[1].split(" run")[0])
    waited = int(line.split(", ")[-1].split(" computed")[0]) if "computed by another" in line else 0
    return ran, waited


@pytest.fixture(scope="module")
def cli_golden(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_golden")
    assert counts(cli_sweep(out).stdout)[0] == 8
    return out


def test_sigint_or_sigkill_at_random_moments_then_a_rerun_gives_the_uninterrupted_results(cli_golden, tmp_path):
    """Four interrupted attempts on one folder, then a rerun: a SIGINT at a random moment of the
    start (imports, references), then SIGINT, SIGKILL and SIGINT at random moments after the
    process started computing (a cell lock exists: runs, writes of cells, tables)."""
    out = tmp_path / "s"
    rng = random.Random(11)
    plan = [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGKILL, True), (signal.SIGINT, True)]
    log = []
    for sig, computing in plan:
        proc = subprocess.Popen(
            [*CLI, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
        )
        try:
            if computing:
                deadline = time.monotonic() + 120
                while proc.poll() is None and not list(out.glob("cells/*.lock")) and time.monotonic() < deadline:
                    time.sleep(0.01)
            delay = rng.uniform(0.05, 2.0) if not computing else rng.uniform(0.0, 1.2)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        done = len(list(out.glob("cells/*.json")))
        log.append((sig.name, "computing" if computing else "start", round(delay, 2), proc.returncode, done))
        assert proc.returncode in (0, 130, -signal.SIGINT, -signal.SIGKILL), (log, stderr[-3000:])
    assert any(code != 0 for *_, code, _ in log[1:]), log  # signals hit sweeps while they computed
    cli_sweep(out)
    assert_same_results(out, cli_golden)


def test_two_sweeps_into_one_folder_share_the_work_and_agree(cli_golden, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(cli_golden / "references", out / "references")  # both start computing at once
    procs = [
        subprocess.Popen([*CLI, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        for _ in range(2)
    ]
    results = []
    try:
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=300)
            assert proc.returncode == 0, stderr
            results.append(counts(stdout))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    ran = [r for r, _ in results]
    assert sum(ran) == 8, results  # every cell computed exactly once
    assert_same_results(out, cli_golden)
    assert not list((out / "cells").glob("*.lock"))


def test_a_sweep_whose_partner_was_killed_computes_its_cells(cli_golden, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(cli_golden / "references", out / "references")
    first = subprocess.Popen([*CLI, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "cells").glob("*.lock")):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        first.kill()  # dies holding its locks
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    done_before = len(list((out / "cells").glob("*.json")))
    ran, waited = counts(cli_sweep(out).stdout)
    assert ran == 8 - done_before and waited == 0  # the dead owner's locks did not block anything
    assert_same_results(out, cli_golden)
