"""Every invalid command line or configuration file ends in exit status 2 with a message naming the
key, never a traceback, and nothing is computed before the output folder is known to be writable."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from implicit_bias import cli
from implicit_bias import experiments as E

BASE = ["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--steps", "10", "--quiet"]
RUN = ["run", *BASE, "--no-references"]
SWEEP = ["sweep", *BASE]
TOML = "steps = 10\n[data]\nname = 'gaussian'\nn = 5\nd = 8\n[optimizer]\nname = 'GD'\n"


def usage_error(capsys, *argv):
    """Run the CLI in-process; it must exit with status 2 and no traceback; returns stderr."""
    with pytest.raises(SystemExit) as info:
        cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00\x81 not text")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip")
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe,\x00\n1,2\n")
    X, y = np.eye(3), np.ones(3)
    np.savez(tmp_path / "nan.npz", X=np.full((3, 3), np.nan), y=y)
    np.savez(
        tmp_path / "labels01.npz", X=X, y=np.array([0.0, 1.0, 2.0])
    )  # {0, 1} alone is read as -1/+1 by ib.datasets.load
    np.savez(
        tmp_path / "xor.npz",
        X=np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]),
        y=np.array([1.0, 1.0, -1.0, -1.0]),
    )
    np.savez(tmp_path / "complex.npz", X=X.astype(complex), y=y)
    np.savez(tmp_path / "cube.npz", X=np.zeros((2, 2, 2)), y=np.ones(2))
    np.savez(tmp_path / "noy.npz", X=X)
    (tmp_path / "dir.npz").mkdir()
    return tmp_path


def toml(paths, text, name="c.toml"):
    p = paths / name
    p.write_text(text)
    return p


# (extra flags after RUN, key the message must contain)
RUN_FLAGS = [
    (["--every", "week"], "--every"),
    (["--every", "1.5"], "--every"),
    (["--every", "0", "--factor", "0.5"], "lr.every"),
    (["--every", "-1", "--factor", "0.5"], "lr.every"),
    (["--checkpoints", "1000000000"], "checkpoints"),
    (["--checkpoints", "0"], "checkpoints"),
    (["--checkpoints", "-1"], "checkpoints"),
    (["--checkpoints", "ten"], "--checkpoints"),
    (["--steps", "0"], "steps"),
    (["--steps", "-1"], "steps"),
    (["--steps", "nan"], "--steps"),
    (["--steps", "1e30"], "steps"),
    (["--steps", "18446744073709551616"], "steps"),
    (["--seed", "-1"], "seed"),
    (["--seed", "18446744073709551616"], "seed"),
    (["--seed", "x"], "--seed"),
    (["--n", "0"], "data.n"),
    (["--n", "-3"], "data.n"),
    (["--n", "1e30"], "--n"),
    (["--d", "abc"], "--d"),
    (["--n", "10000000", "--d", "1000000"], "data.n, data.d"),
    (["--data-seed", "-1"], "data.seed"),
    (["--data-seed", "x"], "--data-seed"),
    (["--data-param", "labels=nonsense"], "data.labels"),
    (["--data-param", "labels"], "--data-param"),
    (["--data-param", "mean=abc"], "data.mean"),
    (["--data-param", "colour=red"], "data.colour"),
    (["--delta", "0.5"], "data.delta"),
    (["--batch-size", "0"], "batch_size"),
    (["--batch-size", "-1"], "batch_size"),
    (["--batch-size", "1.5"], "batch_size"),
    (["--batch-size", "6"], "batch_size"),
    (["--batch-size", "many"], "batch_size"),
    (["--order", "sideways"], "--order"),
    (["--loss", "hinge"], "--loss"),
    (["--dtype", "float32"], "--dtype"),
    (["--lr", "nan"], "lr.eta0"),
    (["--lr", "inf"], "lr.eta0"),
    (["--lr", "0"], "lr.eta0"),
    (["--lr", "-1"], "lr.eta0"),
    (["--lr", "fast"], "--lr"),
    (["--power", "-1"], "lr.power"),
    (["--power", "nan"], "lr.power"),
    (["--factor", "5"], "lr.factor"),
    (["--factor", "0"], "lr.factor"),
    (["--schedule", "step_decay"], "lr.factor"),
    (["--schedule", "cosine"], "--schedule"),
    (["--beta1", "0.9"], "optimizer.beta1"),  # GD has none
    (["--optimizer", "Adam", "--beta1", "nan"], "optimizer.beta1"),
    (["--optimizer", "Adam", "--beta2", "1.5"], "optimizer.beta2"),
    (["--optimizer", "Adam", "--eps", "-1"], "optimizer.eps"),
    (["--optimizer", "Signum", "--beta", "2"], "optimizer.beta"),
    (["--optimizer", "Nope"], "optimizer.name"),
    (["--optimizer", "AdamEpochMap", "--order", "replacement", "--batch-size", "2"], "order"),
    (["--data", "spiral"], "data.name"),
    (["--name", "../x"], "--name"),
    (["--name", "a/b"], "--name"),
    (["--name", ".."], "--name"),
    (["--name", ""], "--name"),
    (["--name", "x" * 300], "--name"),
    (["--out", ""], "--out"),
    (["--bogus"], "--bogus"),
]


@pytest.mark.parametrize("flags, key", RUN_FLAGS, ids=[" ".join(f)[:40] for f, _ in RUN_FLAGS])
def test_run_bad_flags(capsys, tmp_path, flags, key):
    assert key in usage_error(capsys, *RUN, "--out", tmp_path / "o", *flags)


def test_the_run_flags_used_above_are_fine_when_valid(capsys, tmp_path):
    assert cli.main([*RUN, "--out", str(tmp_path / "o"), "--every", "epoch", "--factor", "0.5", "--name", "ok"]) == 0
    assert (tmp_path / "o" / "ok.npz").exists()


DATA_FILES = [
    ("dir.npz", "data.path"),
    ("bad.npz", "data.path"),
    ("bad.csv", "data.path"),
    ("nan.npz", "X"),
    ("labels01.npz", "labels"),
    ("complex.npz", "data"),
    ("cube.npz", "data"),
    ("noy.npz", "data.path"),
    ("missing.npz", "data.path"),
    ("file", "data.path"),
]


@pytest.mark.parametrize("name, key", DATA_FILES)
def test_run_bad_data_files(capsys, paths, name, key):
    err = usage_error(
        capsys,
        "run",
        "--data-file",
        paths / name,
        "--optimizer",
        "GD",
        "--steps",
        "10",
        "--quiet",
        "--no-references",
        "--out",
        paths / "o",
    )
    assert key in err


def test_non_separable_data_fails_before_the_run(capsys, paths, monkeypatch):
    ran = []
    real = E.run.Run.advance

    def spy(self, *a, **k):
        ran.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(E.run.Run, "advance", spy)
    err = usage_error(
        capsys,
        "run",
        "--data-file",
        paths / "xor.npz",
        "--optimizer",
        "GD",
        "--steps",
        "10",
        "--quiet",
        "--out",
        paths / "o",
    )
    assert "separable" in err and ran == []


TOML_CASES = [
    (TOML.replace("n = 5", 'n = "ten"'), "data.n"),
    (TOML.replace("n = 5", "n = 5.5"), "data.n"),
    (TOML.replace("n = 5", "n = 1e10"), "data.n"),
    (TOML.replace("n = 5", "n = true"), "data.n"),
    (TOML.replace("n = 5", "n = [5]"), "data.n"),
    (TOML.replace("d = 8", "d = -8"), "data.d"),
    (TOML.replace("d = 8", "d = 8\nlabels = 5"), "data.labels"),
    (TOML.replace("d = 8", "d = 8\ncov = [[1, 2], [3]]"), "data.cov"),
    (TOML.replace("d = 8", "d = 8\nmean = 'x'"), "data.mean"),
    (TOML.replace("d = 8", "d = 8\ncolour = 'red'"), "data.colour"),
    (TOML.replace("name = 'gaussian'", "name = 5"), "data.name"),
    (TOML.replace("[data]\nname = 'gaussian'\nn = 5\nd = 8", "[data]\npath = 5"), "data.path"),
    (TOML.replace("[data]\nname = 'gaussian'\nn = 5\nd = 8", "[data]\npath = 'x.txt'"), "data.path"),
    (TOML.replace("[data]\nname = 'gaussian'\nn = 5\nd = 8", "[data]\npath = 'x.npz'\nn = 3"), "data.n"),
    (TOML.replace("[data]\nname = 'gaussian'\nn = 5\nd = 8\n", ""), "data"),
    ("data = 5\n" + TOML.replace("[data]\nname = 'gaussian'\nn = 5\nd = 8\n", ""), "data"),
    (TOML.replace("name = 'GD'", "name = 5"), "optimizer.name"),
    (TOML.replace("name = 'GD'", "name = 'Adam'\nbeta2 = 'x'"), "optimizer.beta2"),
    (TOML.replace("name = 'GD'", "name = 'Adam'\nbeta2 = [0.9]"), "optimizer.beta2"),
    (TOML.replace("name = 'GD'", "name = 'Adam'\nbeta2 = 1.0e400"), "optimizer.beta2"),  # TOML reads inf
    (TOML.replace("name = 'GD'", "name = 'Adam'\nbeta2 = nan"), "optimizer.beta2"),
    (TOML.replace("name = 'GD'", "name = 'Adam'\nbias_correction = 'yes'"), "optimizer.bias_correction"),
    (TOML.replace("[optimizer]\nname = 'GD'\n", ""), "optimizer"),
    ("optimizer = 5\n" + TOML.replace("[optimizer]\nname = 'GD'\n", ""), "optimizer"),
    ("optimizer = {}\n" + TOML.replace("[optimizer]\nname = 'GD'\n", ""), "optimizer.name"),
    (TOML.replace("steps = 10", "steps = 'many'"), "steps"),
    (TOML.replace("steps = 10", "steps = 1.5"), "steps"),
    (TOML.replace("steps = 10", "steps = -1"), "steps"),
    (TOML.replace("steps = 10", "steps = true"), "steps"),
    (TOML.replace("steps = 10", "steps = inf"), "steps"),
    (TOML.replace("steps = 10", "steps = 9223372036854775807\ncheckpoints = 0"), "checkpoints"),
    (TOML.replace("steps = 10", ""), "steps"),
    ("dtype = 5\n" + TOML, "dtype"),
    ("dtype = 'float16'\n" + TOML, "dtype"),
    ("dtype = ['float64']\n" + TOML, "dtype"),
    ("seed = 'x'\n" + TOML, "seed"),
    ("seed = 18446744073709551616\n" + TOML, "seed"),
    ("seed = 9223372036854775807\ncheckpoints = 1000000001\n" + TOML, "checkpoints"),
    ("checkpoints = true\n" + TOML, "checkpoints"),
    ("batch_size = 0\n" + TOML, "batch_size"),
    ("batch_size = [1]\n" + TOML, "batch_size"),
    ("batch_size = 1.0\n" + TOML, "batch_size"),
    ("batch_size = 'half'\n" + TOML, "batch_size"),
    ("order = 3\n" + TOML, "order"),
    ("order = ['cyclic']\n" + TOML, "order"),
    ("loss = {}\n" + TOML, "loss"),
    ("lr = 'fast'\n" + TOML, "lr"),
    ("lr = -0.1\n" + TOML, "lr"),
    ("lr = {kind = [1], eta0 = 0.1}\n" + TOML, "lr.kind"),
    ("lr = {kind = 'cosine', eta0 = 0.1}\n" + TOML, "lr.kind"),
    ("lr = {kind = 'constant'}\n" + TOML, "lr.eta0"),
    ("lr = {kind = 'constant', eta0 = 'x'}\n" + TOML, "lr.eta0"),
    ("lr = {kind = 'polynomial', eta0 = 0.1, power = 'half'}\n" + TOML, "lr.power"),
    ("lr = {kind = 'step_decay', eta0 = 0.1}\n" + TOML, "lr.factor"),
    ("lr = {kind = 'step_decay', eta0 = 0.1, factor = 0.5, every = 'week'}\n" + TOML, "lr.every"),
    ("lr = {kind = 'step_decay', eta0 = 0.1, factor = 0.5, every = 1.5}\n" + TOML, "lr.every"),
    ("lr = {kind = 'constant', eta0 = 0.1, colour = 1}\n" + TOML, "lr.colour"),
    ("optimiser = 'GD'\n" + TOML, "optimiser"),
    ("grid = {beta2 = [0.9]}\n" + TOML, "grid"),  # a sweep key in a run file
    ("steps = 10\n[data\nname='gaussian'", "not valid TOML"),
]


@pytest.mark.parametrize("text, key", TOML_CASES, ids=[f"{k}-{i}" for i, (_, k) in enumerate(TOML_CASES)])
def test_run_bad_toml(capsys, paths, text, key):
    err = usage_error(capsys, "run", "--config", toml(paths, text), "--quiet", "--no-references", "--out", paths / "o")
    assert key in err


def test_config_that_is_a_directory_binary_or_missing(capsys, paths):
    assert "directory" in usage_error(capsys, "run", "--config", paths, "--quiet")
    assert "not valid TOML" in usage_error(capsys, "run", "--config", paths / "binary.toml", "--quiet")
    assert "no such file" in usage_error(capsys, "run", "--config", paths / "none.toml", "--quiet")
    assert "--config" in usage_error(capsys, "sweep", "--config", paths, "--quiet")


# ------------------------------------------------------------------------------ output folders


@pytest.mark.parametrize("out", ["file", "file/sub", "/proc/implicit-bias-out"])
def test_run_with_an_unwritable_out_fails_before_training(capsys, paths, monkeypatch, out):
    called = []
    monkeypatch.setattr(E, "run_config", lambda *a, **k: called.append(1))
    target = paths / out if not out.startswith("/") else out
    err = usage_error(capsys, *RUN, "--out", target)
    assert "--out" in err and called == []


def test_a_read_only_out_folder(capsys, paths, monkeypatch):
    if os.geteuid() == 0:
        pytest.skip("root can write into read-only folders")
    ro = paths / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setattr(E, "run_config", lambda *a, **k: pytest.fail("trained despite an unwritable --out"))
    assert "--out" in usage_error(capsys, *RUN, "--out", ro)


def test_name_cannot_escape_out(capsys, paths):
    out = paths / "o"
    for name in ("../x", "../../etc/x", "a/../../x", "/abs", "..", "x/.."):
        usage_error(capsys, *RUN, "--out", out, "--name", name)
    assert not list(paths.rglob("x.*")) and not list(paths.parent.glob("x.*")) and not (paths / "o").exists()
    with pytest.raises(ValueError, match="^name:"):
        E.save_run(None, {}, out, "../y")  # the Python API refuses it too, before writing anything
    assert not (paths / "y.npz").exists()


@pytest.mark.parametrize("cmd", ["sweep", "reproduce"])
def test_sweep_and_reproduce_out_is_a_file(capsys, paths, cmd):
    argv = [*SWEEP, "--grid", "beta2=0.9"] if cmd == "sweep" else ["reproduce", "--quick", "--quiet"]
    assert "--out" in usage_error(capsys, *argv, "--out", paths / "file")
    assert (paths / "file").read_text() == "x"


# ------------------------------------------------------------------------------ sweep / reproduce flags

SWEEP_FLAGS = [
    (["--threads", "-1"], "--threads"),
    (["--threads", "0"], "--threads"),
    (["--threads", "100000"], "--threads"),
    (["--threads", "two"], "--threads"),
    (["--dask", "dask:0"], "--dask"),
    (["--dask", "dask:-2"], "--dask"),
    (["--dask", "dask:abc"], "--dask"),
    (["--dask", "dask:100000"], "--dask"),
    (["--dask", "nonsense"], "--dask"),
    (["--dask", ""], "--dask"),
    (["--dask", "tcp://host"], "--dask"),
    (["--dask", "tcp://host:99999"], "--dask"),
    (["--grid", "beta2"], "--grid"),
    (["--grid", "=1"], "--grid"),
    (["--grid", "colour=1,2"], "grid.colour"),
    (["--grid", "n=ten"], "data.n"),
    (["--grid", "n=0"], "data.n"),
    (["--grid", "batch_size=0"], "batch_size"),
    (["--grid", "steps=-1"], "steps"),
    (["--grid", "lr=fast"], "lr"),
    (["--grid", "optimizer=Nope"], "optimizer"),
    (["--grid", "beta2=0.9", "--grid", "beta1=0.9", "--grid", "eta0=0.1"], "at most two"),
    (["--seeds", "a"], "--seeds"),
    (["--seeds", ","], "seeds"),
    (["--seeds", "1.5"], "--seeds"),
    (["--seeds", "-1"], "seeds"),
    (["--reference", "banana"], "--reference"),
]


@pytest.mark.parametrize("flags, key", SWEEP_FLAGS, ids=[" ".join(f)[:40] for f, _ in SWEEP_FLAGS])
def test_sweep_bad_flags(capsys, tmp_path, flags, key):
    grid = [] if any(f == "--grid" for f in flags) else ["--grid", "eta0=0.1,0.2"]
    assert key in usage_error(capsys, *SWEEP, *grid, *flags, "--out", tmp_path / "s")


SWEEP_TOML = TOML + "[grid]\nbeta2 = [0.9]\n"
SWEEP_TOML_CASES = [
    ("grid = 5\n" + TOML, "grid"),
    (TOML + "[grid]\n", "--grid"),
    (TOML + "[grid]\nbeta2 = []\n", "grid.beta2"),
    (TOML + "[grid]\nbeta2 = 0.9\n", "grid.beta2"),
    (TOML + "[grid]\ncolour = [1]\n", "grid.colour"),
    (TOML + "[grid]\nn = ['ten']\n", "data.n"),
    (TOML + "[grid]\nbatch_size = [{a = 1}]\n", "batch_size"),
    (TOML + "[grid]\na = [1]\nb = [1]\nc = [1]\n", "at most two"),
    ("seeds = 'x'\n" + SWEEP_TOML, "seeds"),
    ("seeds = []\n" + SWEEP_TOML, "seeds"),
    ("seeds = [-1]\n" + SWEEP_TOML, "seeds"),
    ("seeds = [1.5]\n" + SWEEP_TOML, "seeds"),
    ("seed_data = 'yes'\n" + SWEEP_TOML, "seed_data"),
    ("unknown = 1\n" + SWEEP_TOML, "unknown"),
]


@pytest.mark.parametrize("text, key", SWEEP_TOML_CASES, ids=[f"{k}-{i}" for i, (_, k) in enumerate(SWEEP_TOML_CASES)])
def test_sweep_bad_toml(capsys, paths, text, key):
    err = usage_error(capsys, "sweep", "--config", toml(paths, text, "s.toml"), "--quiet", "--out", paths / "s")
    assert key in err


REPRODUCE_FLAGS = [
    (["--threads", "0"], "--threads"),
    (["--dask", "dask:0"], "--dask"),
    (["--claims", "99"], "claims"),
    (["--claims", "a"], "--claims"),
    (["--predict", "claim5"], "--predict"),
    (["--predict", "claim5=banana"], "predictions"),
    (["--predict", "claim77=l2"], "predictions"),
    (["--out", ""], "--out"),
]


@pytest.mark.parametrize("flags, key", REPRODUCE_FLAGS, ids=[" ".join(f)[:40] for f, _ in REPRODUCE_FLAGS])
def test_reproduce_bad_flags(capsys, tmp_path, flags, key):
    assert key in usage_error(capsys, "reproduce", "--quick", "--quiet", "--out", tmp_path / "r", *flags)


def test_the_python_api_checks_executor_specs_and_times_out():
    for spec in ("dask:0", "dask:x", "", "nope", 5):
        with pytest.raises(ValueError, match="^dask:"):
            E.default_executor(spec)
    with pytest.raises(OSError, match="^dask: cannot reach"):
        E.default_executor("tcp://127.0.0.1:9", timeout=1.0)


def test_threads_are_checked_by_sweep_and_reproduce_before_work(tmp_path):
    base = {"data": {"name": "gaussian", "n": 5, "d": 8}, "optimizer": "GD", "steps": 10}
    for bad in (0, -1, 10**6):
        with pytest.raises(ValueError, match="^threads:"):
            E.sweep(base, {"eta0": [0.1]}, out_dir=tmp_path / "s", threads=bad, progress=False)
        with pytest.raises(ValueError, match="^threads:"):
            E.reproduce(claims=[1], out_dir=tmp_path / "r", threads=bad, progress=False)
    with pytest.raises(TypeError, match="^threads:"):
        E.sweep(base, {"eta0": [0.1]}, out_dir=tmp_path / "s", threads=1.5, progress=False)
    assert not (tmp_path / "s" / "cells").exists()


def test_real_processes_exit_2_without_a_traceback(tmp_path):
    """The console entry point itself (not only main()): a few of the issue's inputs."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(TOML.replace("n = 5", 'n = "ten"'))
    for argv, key in [
        (["run", *BASE, "--every", "week"], "--every"),
        (["run", "--config", str(cfg), "--quiet"], "data.n"),
        (["sweep", *BASE, "--grid", "eta0=0.1", "--dask", "dask:0", "--out", str(tmp_path / "s")], "--dask"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "implicit_bias.cli", *argv], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2, proc.stderr
        assert key in proc.stderr and "Traceback" not in proc.stderr
