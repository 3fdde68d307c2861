"""The ``implicit-bias`` command line: reproduce --quick (claims 1-5 must PASS), run, sweep, bad
input, and Ctrl-C during a sweep (in a real subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ib = pytest.importorskip("implicit_bias")
cli = pytest.importorskip("implicit_bias.cli")
E = pytest.importorskip("implicit_bias.experiments")

import matplotlib.image as mpimg  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(*argv):
    return cli.main([str(a) for a in argv])


def usage_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exc:
        run_cli(*argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


# ------------------------------------------------------------------------------ reproduce


def test_reproduce_quick_passes_its_claims(tmp_path, capsys):
    out = tmp_path / "repro"
    t0 = time.perf_counter()
    status = run_cli("reproduce", "--quick", "--out", out, "--quiet")
    seconds = time.perf_counter() - t0
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert seconds < 180, f"reproduce --quick took {seconds:.0f} s (limit: 3 minutes on 2 cores)"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["quick"] is True and summary["passed"] is True and summary["version"] == ib.__version__
    assert [c["number"] for c in summary["claims"]] == [1, 2, 3, 4, 5, 6, 7, 9]
    for claim in summary["claims"]:
        assert claim["status"] == "PASS", claim
        assert claim["runs"] and all(r["result"] == "PASS" for r in claim["runs"] if "result" in r)
        for r in claim["runs"]:
            m = r["metrics"]
            for key in ("cos_l2", "cos_linf", "cos_fixed_point", "ratio_l2", "ratio_linf"):
                assert np.isfinite(m[key])
            # each run's numbers come from the trajectory written next to the summary
            traj = ib.Trajectory.load(out / "runs" / f"{r['key']}.npz")
            assert traj.steps[-1] == m["steps"] == r["config"]["steps"]
            assert float(traj.cosine["l2"][-1]) == pytest.approx(m["cos_l2"], abs=1e-15)
        img = mpimg.imread(out / claim["figure"])
        assert img.shape[1] > 1500 and img[..., :3].std() > 0.01
    c = {cl["number"]: cl for cl in summary["claims"]}
    # the claims' statements, as numbers
    assert all(r["metrics"]["ratio_linf"] >= 0.99 for r in c[1]["runs"])
    assert all(r["metrics"]["cos_l2"] >= 0.9999 for r in c[2]["runs"])
    inc, proxy = c[3]["runs"]
    assert inc["metrics"]["dist_fixed_point"] < min(inc["metrics"]["dist_l2"], inc["metrics"]["dist_linf"])
    assert proxy["metrics"]["cos_fixed_point"] > 0.9999
    signgd = [r for r in c[4]["runs"] if r["label"].startswith("SignGD")]
    assert len(signgd) == 2 and all(r["metrics"]["ratio_linf"] < 0.95 for r in signgd)
    assert {r["config"]["batch_size"] for r in c[5]["runs"]} == {1, 2, 5, "n"}
    # our extension: every mini-batch / random-order run is nearer its own prediction than to w* and l-inf
    for r in [*c[6]["runs"][1:3], *c[7]["runs"]]:
        m = r["metrics"]
        assert m["dist_predicted"] < min(m["dist_linf"], m["dist_l2"]) and m["cos_predicted"] >= 0.999
        if r["config"]["batch_size"] > 1:
            assert m["dist_predicted"] < m["dist_fixed_point"] / 3
    for r in c[9]["runs"]:
        assert r["metrics"]["dist_epoch_map"] < r["metrics"]["dist_predicted"] / 10
    real = summary["real_data"]  # scikit-learn is a test dependency
    assert [r["label"] for r in real["runs"]] == ["GD", "Det-Adam", "Inc-Adam", "Signum(0.99), b=1"]
    by_label = {r["label"]: r for r in real["runs"]}
    assert by_label["GD"]["nearest"].startswith("l2") and by_label["Det-Adam"]["ratio_linf"] > 0.95
    assert by_label["Inc-Adam"]["nearest"] == "fixed_point"
    md = (out / "summary.md").read_text()
    assert "*Real data (scikit-learn digits" in md
    assert md.count("(our extension)") >= 3
    for n in (1, 2, 3, 4, 5, 6, 7, 9):
        assert f"## Claim {n}:" in md and f"![claim {n}](claim{n}.png)" in md
    assert "l-inf margin ratio gamma_inf(w)/gamma_inf* >= 0.99" in md
    assert "| SignGD, b=1, Gaussian |" in md
    assert (out / "illustration_2d.png").read_bytes()[:8] == PNG
    for n in (1, 2, 3, 4, 5, 6, 7, 9):
        assert f"claim {n}: PASS" in printed

    # A deliberately wrong prediction on the cached runs: claim 5 must FAIL, exit status 1.
    status = run_cli("reproduce", "--quick", "--claims", "5", "--predict", "claim5=linf", "--out", out, "--quiet")
    assert status == 1
    summary = json.loads((out / "summary.json").read_text())
    (c5,) = summary["claims"]
    assert c5["status"] == "FAIL" and all(r["result"] == "FAIL" and r["prediction"] == "linf" for r in c5["runs"])
    assert "claim 5: FAIL" in capsys.readouterr().out


def test_reproduce_bad_flags(capsys):
    assert "claims" in usage_error(capsys, "reproduce", "--claims", "10")
    assert "--claims" in usage_error(capsys, "reproduce", "--claims", "one")
    assert "predictions" in usage_error(capsys, "reproduce", "--predict", "claim5=l3")
    assert "predict" in usage_error(capsys, "reproduce", "--predict", "claim5")


# ------------------------------------------------------------------------------ run

RUN_FLAGS = [
    "--data",
    "gaussian",
    "--n",
    "8",
    "--d",
    "12",
    "--data-seed",
    "1",
    "--optimizer",
    "Adam",
    "--beta2",
    "0.99",
    "--batch-size",
    "1",
    "--lr",
    "0.1",
    "--power",
    "0.5",
    "--steps",
    "5e3",
    "--checkpoints",
    "40",
]

RUN_TOML = """
steps = 5000
batch_size = 1
checkpoints = 40

[data]
name = "gaussian"
n = 8
d = 12
seed = 1

[optimizer]
name = "Adam"
beta2 = 0.99

[lr]
kind = "polynomial"
eta0 = 0.1
power = 0.5
"""


def test_run_from_flags_writes_trajectory_record_and_png(tmp_path, capsys):
    assert run_cli("run", *RUN_FLAGS, "--out", tmp_path, "--name", "adam", "--quiet") == 0
    traj = ib.Trajectory.load(tmp_path / "adam.npz")
    record = json.loads((tmp_path / "adam.json").read_text())
    X, y = ib.datasets.gaussian(8, 12, seed=1)
    ref = ib.train(
        X, y, ib.Adam(beta2=0.99), batch_size=1, lr=ib.schedules.polynomial(0.1, 0.5), steps=5000, checkpoints=40
    )
    np.testing.assert_array_equal(traj.w, ref.w)
    assert record["version"] == ib.__version__ and record["seed"] == 0
    assert record["config"]["optimizer"] == {
        "name": "Adam",
        "beta1": 0.9,
        "beta2": 0.99,
        "eps": 0.0,
        "bias_correction": False,
    }
    assert record["config"]["data"] == {"name": "gaussian", "n": 8, "d": 12, "seed": 1}
    assert record["data_sha256"] == E.data_hash(X, y)
    assert record["metrics"]["cos_fixed_point"] == pytest.approx(float(traj.cosine["fixed_point"][-1]), abs=1e-15)
    assert set(traj.margin_ratio) >= {"l2", "linf"}
    assert (tmp_path / "adam.png").read_bytes()[:8] == PNG
    assert "cos l2" in capsys.readouterr().out


def test_run_from_toml_equals_flags_and_flags_override(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(RUN_TOML)
    assert run_cli("run", "--config", cfg, "--out", tmp_path, "--name", "file", "--quiet", "--no-references") == 0
    assert run_cli("run", *RUN_FLAGS, "--out", tmp_path, "--name", "flags", "--quiet", "--no-references") == 0
    a, b = ib.Trajectory.load(tmp_path / "file.npz"), ib.Trajectory.load(tmp_path / "flags.npz")
    np.testing.assert_array_equal(a.w, b.w)
    assert (
        json.loads((tmp_path / "file.json").read_text())["config"]
        == json.loads((tmp_path / "flags.json").read_text())["config"]
    )
    assert (
        run_cli(
            "run",
            "--config",
            cfg,
            "--steps",
            "700",
            "--beta2",
            "0.9",
            "--out",
            tmp_path,
            "--name",
            "over",
            "--quiet",
            "--no-references",
        )
        == 0
    )
    rec = json.loads((tmp_path / "over.json").read_text())
    assert rec["config"]["steps"] == 700 and rec["config"]["optimizer"]["beta2"] == 0.9
    assert rec["config"]["lr"]["kind"] == "polynomial"
    # default name: derived from the configuration
    assert run_cli("run", "--config", cfg, "--out", tmp_path / "d", "--quiet", "--no-references") == 0
    (npz,) = (tmp_path / "d").glob("*.npz")
    assert npz.name.startswith("Adam_gaussian_b1_")


def test_run_with_a_data_file_and_d2_picture(tmp_path):
    X, y = ib.datasets.gaussian(6, 2, seed=3, labels="teacher", cov=[4.0, 0.25], margin=0.1)
    lines = ["x1,x2,label"] + [f"{float(a)!r},{float(b)!r},{int(t)}" for (a, b), t in zip(X, y)]
    (tmp_path / "d.csv").write_text("\n".join(lines))
    assert (
        run_cli(
            "run",
            "--data-file",
            tmp_path / "d.csv",
            "--optimizer",
            "SignGD",
            "--steps",
            "2000",
            "--lr",
            "0.01",
            "--out",
            tmp_path,
            "--name",
            "csv",
            "--quiet",
        )
        == 0
    )
    rec = json.loads((tmp_path / "csv.json").read_text())
    assert rec["n"] == 6 and rec["d"] == 2 and rec["data_sha256"] == E.data_hash(X, y)
    img = mpimg.imread(tmp_path / "csv.png")
    assert img.shape[1] > 1.5 * img.shape[0]  # four panels side by side, the first is the data


BAD_RUNS = [
    (
        ["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--beta2", "0.9", "--steps", "10"],
        "optimizer.beta2",
    ),
    (
        ["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "Adam", "--beta2", "1.5", "--steps", "10"],
        "optimizer.beta2",
    ),
    (["--data", "spiral", "--n", "5", "--optimizer", "GD", "--steps", "10"], "data.name"),
    (["--data", "gaussian", "--n", "5", "--optimizer", "GD", "--steps", "10"], "data.d"),
    (["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD"], "steps"),
    (["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--steps", "abc"], "--steps"),
    (
        ["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--steps", "10", "--batch-size", "9"],
        "batch_size",
    ),
    (
        ["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--steps", "10", "--batch-size", "zero"],
        "batch_size",
    ),
    (
        ["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--steps", "10", "--order", "random"],
        "--order",
    ),
    (["--data", "gaussian", "--n", "5", "--d", "8", "--optimizer", "GD", "--steps", "10", "--lr", "-1"], "lr"),
    (["--n", "5", "--optimizer", "GD", "--steps", "10"], "data"),
    (["--data-file", "nope.npz", "--optimizer", "GD", "--steps", "10"], "data.path"),
]


@pytest.mark.parametrize("argv, key", BAD_RUNS)
def test_run_bad_flags_name_the_key(argv, key, capsys, tmp_path):
    err = usage_error(capsys, "run", *argv, "--out", tmp_path, "--quiet")
    assert key in err and "implicit-bias run: error" in err


@pytest.mark.parametrize(
    "text, key",
    [
        ("steps = 10\n[data\nname='gaussian'", "not valid TOML"),
        ("optimiser = 'GD'\nsteps = 10", "unknown key 'optimiser'"),
        (
            "steps = 10\n[data]\nname = 'gaussian'\nn = 4\nd = 6\n[optimizer]\nname = 'Adam'\nbeta3 = 0.5",
            "optimizer.beta3",
        ),
        (
            "steps = 10\n[data]\nname = 'gaussian'\nn = 4\nd = 6\n[optimizer]\nname = 'GD'\n[lr]\nkind = 'polynomial'\neta0 = 0.1\npower = 3",
            "lr.power",
        ),
        ("steps = 'many'\n[data]\nname = 'gaussian'\nn = 4\nd = 6\n[optimizer]\nname = 'GD'", "steps"),
    ],
)
def test_run_bad_config_files(text, key, capsys, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert key in usage_error(capsys, "run", "--config", path, "--out", tmp_path, "--quiet")


def test_run_missing_config_file(capsys, tmp_path):
    assert "no such file" in usage_error(capsys, "run", "--config", tmp_path / "none.toml")


# ------------------------------------------------------------------------------ sweep

SWEEP_FLAGS = [
    "--data",
    "gaussian",
    "--n",
    "6",
    "--d",
    "8",
    "--optimizer",
    "Adam",
    "--lr",
    "0.1",
    "--power",
    "0.5",
    "--steps",
    "2000",
    "--checkpoints",
    "20",
]


def test_sweep_from_flags_and_resume(tmp_path, capsys):
    argv = [
        "sweep",
        *SWEEP_FLAGS,
        "--grid",
        "batch_size=1,n",
        "--grid",
        "beta2=0.9,0.999",
        "--seeds",
        "0,1",
        "--out",
        tmp_path,
        "--quiet",
    ]
    assert run_cli(*argv) == 0
    out = capsys.readouterr().out
    assert "8 cells (8 run, 0 already done)" in out
    table = json.loads((tmp_path / "table.json").read_text())
    assert len(table["cells"]) == 8 and len(table["aggregate"]) == 4
    assert {c["batch_size"] for c in table["cells"]} == {1, "n"}
    assert (tmp_path / "phase_diagram.png").read_bytes()[:8] == PNG
    header = (tmp_path / "table.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["batch_size", "beta2", "seed", "key"] and "dist_fixed_point" in header
    assert run_cli(*argv) == 0
    assert "8 cells (0 run, 8 already done)" in capsys.readouterr().out


def test_sweep_from_toml(tmp_path, capsys):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(
        "steps = 1500\ncheckpoints = 20\nbatch_size = 1\nseeds = [0, 3]\n"
        "[data]\nname = 'gr'\nn = 6\nd = 10\n[optimizer]\nname = 'Adam'\n[lr]\nkind = 'polynomial'\neta0 = 0.1\npower = 0.5\n"
        "[grid]\nbeta2 = [0.9, 0.99]\n"
    )
    assert run_cli("sweep", "--config", cfg, "--out", tmp_path / "s", "--quiet") == 0
    table = json.loads((tmp_path / "s" / "table.json").read_text())
    assert sorted((c["beta2"], c["seed"]) for c in table["cells"]) == [(0.9, 0), (0.9, 3), (0.99, 0), (0.99, 3)]
    rec = json.loads(next((tmp_path / "s" / "cells").glob("*.json")).read_text())
    assert rec["config"]["data"]["name"] == "generalized_rademacher" and rec["config"]["batch_size"] == 1


@pytest.mark.parametrize(
    "extra, key",
    [
        ([], "--grid"),
        (["--grid", "beta2"], "--grid"),
        (["--grid", "beta2=0.9", "--grid", "beta1=0.9", "--grid", "eta0=0.1"], "at most two"),
        (["--grid", "beta2=0.9,1.5"], "optimizer.beta2"),
        (["--grid", "colour=1,2"], "grid.colour"),
        (["--grid", "beta2=0.9", "--seeds", "a"], "--seeds"),
    ],
)
def test_sweep_bad_flags(extra, key, capsys, tmp_path):
    assert key in usage_error(capsys, "sweep", *SWEEP_FLAGS, *extra, "--out", tmp_path, "--quiet")


def test_sweep_ctrl_c_in_a_subprocess_keeps_finished_cells(tmp_path):
    """SIGINT during the second batch of cells: exit 130, the first batch stays on disk, and the
    rerun only computes the rest."""
    out = tmp_path / "s"
    argv = [
        sys.executable, "-m", "implicit_bias.cli", "sweep",
        "--data", "gaussian", "--n", "6", "--d", "8", "--optimizer", "Adam", "--batch-size", "1",
        "--lr", "0.1", "--power", "0.5", "--steps", "4e6", "--checkpoints", "20",
        "--grid", "beta2=0.9,0.99,0.999,0.9999", "--grid", "beta1=0.0,0.9",
        "--threads", "1", "--out", str(out), "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "cells").glob("*.json"))) < 4:  # one local batch = 4 cells per thread
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the first batch did not finish in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    assert "rerun the same sweep" in stderr
    done = sorted(p.stem for p in (out / "cells").glob("*.json"))
    assert len(done) == 4
    assert not list((out / "cells").glob("*.tmp*"))
    partial = json.loads((out / "table.json").read_text())
    assert partial["complete"] is False and sorted(c["key"] for c in partial["cells"]) == done
    rerun = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "8 cells (4 run, 4 already done)" in rerun.stdout
    assert json.loads((out / "table.json").read_text())["complete"] is True


def test_sweep_on_a_local_dask_cluster_matches_local(tmp_path, capsys):
    pytest.importorskip("distributed")
    argv = [*SWEEP_FLAGS, "--batch-size", "1", "--grid", "beta2=0.9,0.999", "--quiet"]
    assert run_cli("sweep", *argv, "--out", tmp_path / "local") == 0
    assert run_cli("sweep", *argv, "--out", tmp_path / "dask", "--dask", "dask:2") == 0
    assert "2 cells (2 run, 0 already done)" in capsys.readouterr().out
    local = json.loads((tmp_path / "local" / "table.json").read_text())["cells"]
    remote = json.loads((tmp_path / "dask" / "table.json").read_text())["cells"]
    assert local == remote
