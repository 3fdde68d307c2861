"""implicit_bias.experiments: configurations, references, sweeps (local / Dask / resume / Ctrl-C)
and the PASS/FAIL logic of ``reproduce``.

The full ``reproduce --quick`` run (claims 1-5 must PASS) lives in test_cli.py; here the claims
are exercised through the Python API on small subsets, with predictions overridden.
"""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

ib = pytest.importorskip("implicit_bias")
E = pytest.importorskip("implicit_bias.experiments")


def small_config(**over):
    cfg = {
        "data": {"name": "gaussian", "n": 6, "d": 8, "seed": 0},
        "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.99},
        "batch_size": 1,
        "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},
        "steps": 3000,
        "checkpoints": 30,
    }
    cfg.update(over)
    return cfg


# ------------------------------------------------------------------------------ configurations


def test_normalize_config_fills_defaults_and_is_canonical():
    cfg = E.normalize_config({"data": {"name": "gr", "n": 4, "d": 6}, "optimizer": "adam", "steps": 10})
    assert cfg["data"] == {"name": "generalized_rademacher", "n": 4, "d": 6}
    assert cfg["optimizer"] == {"name": "Adam", "beta1": 0.9, "beta2": 0.999, "eps": 0.0, "bias_correction": False}
    assert cfg["batch_size"] == "n" and cfg["order"] == "cyclic" and cfg["loss"] == "logistic"
    assert cfg["lr"] == {"kind": "constant", "eta0": 0.1, "power": 0.0, "factor": 1.0, "every": 1}
    assert cfg["dtype"] == "float64" and cfg["seed"] == 0 and cfg["checkpoints"] == 200
    # normalizing twice changes nothing, and JSON round trips
    assert E.normalize_config(cfg) == cfg
    assert E.normalize_config(json.loads(json.dumps(cfg))) == cfg


@pytest.mark.parametrize(
    "change, key",
    [
        ({"optimiser": {"name": "GD"}}, "optimiser"),
        ({"optimizer": {"name": "Adam", "beta3": 0.5}}, "optimizer.beta3"),
        ({"optimizer": {"name": "Adam", "beta2": 1.5}}, "optimizer.beta2"),
        ({"optimizer": {"name": "Nesterov"}}, "optimizer.name"),
        ({"optimizer": {"beta2": 0.9}}, "optimizer.name"),
        ({"lr": {"kind": "cosine", "eta0": 0.1}}, "lr.kind"),
        ({"lr": {"kind": "polynomial", "eta0": 0.1, "power": 2.0}}, "lr.power"),
        ({"lr": {"kind": "constant", "eta0": 0.1, "power": 0.5}}, "lr.power"),
        ({"lr": -1.0}, "lr"),
        ({"data": {"name": "spiral", "n": 3}}, "data.name"),
        ({"data": {"name": "gaussian", "n": 3, "d": 5, "sigma": 2}}, "data.sigma"),
        ({"data": {"name": "gaussian", "n": 3}}, "data.d"),
        ({"data": {"path": "x.txt"}}, "data.path"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "half"}, "batch_size"),
        ({"order": "random"}, "order"),
        ({"loss": "hinge"}, "loss"),
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"dtype": "float32"}, "dtype"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_config_names_the_key(change, key):
    with pytest.raises(ValueError, match=r"(?<![\w.])" + re.escape(key) + r"(?![\w])"):
        E.normalize_config(small_config(**change))


def test_missing_steps_and_data_are_named():
    with pytest.raises(ValueError, match="steps"):
        E.normalize_config({"data": {"name": "gaussian", "n": 3, "d": 4}, "optimizer": "GD"})
    with pytest.raises(ValueError, match="data"):
        E.normalize_config({"optimizer": "GD", "steps": 3})


def test_config_key_is_stable_and_sensitive():
    a = E.normalize_config(small_config())
    b = E.normalize_config(json.loads(json.dumps(small_config())))
    assert E.config_key(a) == E.config_key(b)
    assert len(E.config_key(a)) == 16
    assert E.config_key(a) != E.config_key(E.normalize_config(small_config(seed=1)))
    assert E.config_key(a, "x" * 64) != E.config_key(a, "y" * 64)


def test_set_param_shorthands():
    base = small_config()
    assert E.set_param(base, "beta2", 0.9)["optimizer"]["beta2"] == 0.9
    assert E.set_param(base, "optimizer.beta1", 0.5)["optimizer"]["beta1"] == 0.5
    assert E.set_param(base, "batch_size", "n")["batch_size"] == "n"
    assert E.set_param(base, "eta0", 0.3)["lr"]["eta0"] == 0.3
    assert E.set_param(base, "n", 9)["data"]["n"] == 9
    const = E.set_param(small_config(lr=0.2), "power", 0.5)["lr"]
    assert const == {"kind": "polynomial", "eta0": 0.2, "power": 0.5}
    assert base["optimizer"]["beta2"] == 0.99  # the base is not modified
    with pytest.raises(ValueError, match="grid.gamma"):
        E.set_param({**base, "data": {"path": "a.npz"}}, "gamma", 1)


# ------------------------------------------------------------------------------ data files


def test_load_data_npz_and_csv(tmp_path):
    X, y = ib.datasets.gaussian(5, 3, seed=1)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X2, y2 = E.load_data({"path": str(tmp_path / "d.npz")})
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    rows = "x1,x2,x3,y\n" + "\n".join(",".join(repr(float(v)) for v in (*x, t)) for x, t in zip(X, y))
    (tmp_path / "d.csv").write_text(rows)
    X3, y3 = E.load_data({"path": str(tmp_path / "d.csv")})
    np.testing.assert_array_equal(X3, X)
    np.testing.assert_array_equal(y3, y)
    # label column named y in the middle
    (tmp_path / "m.csv").write_text(
        "y,a,b,c\n" + "\n".join(",".join(repr(float(v)) for v in (t, *x)) for x, t in zip(X, y))
    )
    X4, y4 = E.load_data({"path": str(tmp_path / "m.csv")})
    np.testing.assert_array_equal(X4, X)
    np.testing.assert_array_equal(y4, y)


def test_load_data_errors_name_the_path(tmp_path):
    np.savez(tmp_path / "bad.npz", X=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"data\.path.*'y'"):
        E.load_data({"path": str(tmp_path / "bad.npz")})
    with pytest.raises(ValueError, match=r"data\.path: no such file"):
        E.load_data({"path": str(tmp_path / "missing.npz")})
    (tmp_path / "labels.csv").write_text("1,2,3\n4,5,0\n")
    with pytest.raises(ValueError, match="labels"):
        E.load_data({"path": str(tmp_path / "labels.csv")})


# ------------------------------------------------------------------------------ references and metrics


def test_compare_is_exact_at_the_references():
    X, y = ib.datasets.gaussian(8, 12, seed=2)
    refs = E.compute_references(X, y)
    assert set(refs.directions) == {"l2", "linf", "fixed_point"}
    for name, w in refs.directions.items():
        m = E.compare(w, X, y, refs)
        assert m[f"cos_{name}"][0] == pytest.approx(1.0, abs=1e-12)
        assert m[f"dist_{name}"][0] == pytest.approx(0.0, abs=1e-12)
    m = E.compare(np.vstack([refs.directions["l2"], 3.0 * refs.directions["linf"]]), X, y, refs)
    assert m["ratio_l2"][0] == pytest.approx(1.0, abs=1e-9)
    assert m["ratio_linf"][1] == pytest.approx(1.0, abs=1e-9)
    assert m["ratio_fixed_point"].shape == (2,)
    # a direction that does not separate has a negative margin ratio
    Z = y[:, None] * X
    flipped = -refs.directions["l2"]
    expected = (Z @ flipped).min() / refs.gamma["l2"]
    assert expected < 0
    assert E.compare(flipped, X, y, refs)["ratio_l2"][0] == pytest.approx(expected, rel=1e-12)
    # JSON round trip keeps everything compare needs
    back = E.References.from_json(json.loads(json.dumps(refs.to_json())))
    m2 = E.compare(refs.directions["l2"], X, y, back)
    assert m2["cos_fixed_point"][0] == pytest.approx(
        E.compare(refs.directions["l2"], X, y, refs)["cos_fixed_point"][0], abs=1e-15
    )


def test_gr_data_fixed_point_equals_l2_and_nearest_reports_the_tie():
    X, y = ib.datasets.generalized_rademacher(6, 20, seed=0)
    refs = E.compute_references(X, y)
    assert not refs.distinct("l2", "fixed_point")
    traj = ib.train(X, y, ib.GD(), steps=10, checkpoints=5)
    traj.w[-1] = refs.directions["l2"] * 7.0
    assert E.final_metrics(traj, X, y, refs)["nearest"].split("=")[:2] == ["l2", "fixed_point"]


def test_evaluate_criteria():
    X, y = ib.datasets.gaussian(8, 12, seed=2)
    refs = E.compute_references(X, y)
    at_fp = {**{k: float(v[0]) for k, v in E.compare(refs.directions["fixed_point"], X, y, refs).items()}}
    ok, text, others = E.evaluate("fixed_point", 0.999, at_fp, refs)
    assert ok and "w*" in text and set(others) == {"l2", "linf"}
    assert not E.evaluate("l2", 0.999, at_fp, refs)[0]
    assert not E.evaluate("linf", 0.99, at_fp, refs)[0]
    assert E.evaluate("not-linf", 0.95, at_fp, refs)[0]
    with pytest.raises(ValueError, match="predictions"):
        E.evaluate("l3", 0.9, at_fp, refs)


# ------------------------------------------------------------------------------ one run


def test_run_config_matches_train_and_records_everything():
    cfg = small_config()
    traj, record = E.run_config(cfg)
    X, y = ib.datasets.gaussian(6, 8, seed=0)
    ref = ib.train(
        X,
        y,
        ib.Adam(beta1=0.9, beta2=0.99),
        batch_size=1,
        lr=ib.schedules.polynomial(0.1, 0.5),
        steps=3000,
        checkpoints=30,
    )
    np.testing.assert_array_equal(traj.w, ref.w)
    np.testing.assert_array_equal(traj.steps, ref.steps)
    assert record["version"] == ib.__version__
    assert record["seed"] == 0
    assert record["config"] == E.normalize_config(cfg)
    assert record["data_sha256"] == E.data_hash(X, y)
    m = record["metrics"]
    assert m["steps"] == 3000
    for name in ("l2", "linf", "fixed_point"):
        assert traj.cosine[name].shape == traj.steps.shape
        assert m[f"cos_{name}"] == pytest.approx(float(traj.cosine[name][-1]), abs=1e-15)
    assert record["references"]["directions"]["l2"]


def test_run_config_with_arrays_and_longdouble():
    X, y = ib.datasets.gaussian(5, 6, seed=3)
    traj, record = E.run_config(
        {"optimizer": "SignGD", "steps": 200, "dtype": "longdouble", "checkpoints": 10}, data=(X, y)
    )
    assert traj.w.dtype == np.longdouble
    assert record["config"]["data"] == {"name": "<arrays>"}
    assert 0 < record["metrics"]["ratio_linf"] <= 1 + 1e-12


# ------------------------------------------------------------------------------ ensembles


def test_ensemble_in_rounds_is_bit_identical_to_train_many():
    X, y = ib.datasets.gaussian(6, 8, seed=0)
    cfgs = [E.normalize_config(small_config(batch_size=b, steps=s)) for b, s in ((1, 4000), (3, 2500), ("n", 3000))]
    seen = []
    runs = [ib.Run(X, y, **E.run_kwargs(c, 6)) for c in cfgs]
    ours = ib.engine.advance_many(
        runs, [c["steps"] for c in cfgs], checkpoints=30, threads=2, on_progress=seen.append, round_seconds=1e-3
    )
    assert sum(seen) == 4000 + 2500 + 3000 and len(seen) > 3  # really advanced in several rounds
    kw = [E.run_kwargs(c, 6) for c in cfgs]
    ref = ib.train_many(X, y, kw, steps=[4000, 2500, 3000], checkpoints=30)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a.steps, b.steps)
        np.testing.assert_array_equal(a.w, b.w)
        np.testing.assert_array_equal(a.log_loss, b.log_loss)


# ------------------------------------------------------------------------------ sweeps

GRID = {"batch_size": [1, "n"], "beta2": [0.9, 0.999]}


def sweep_base():
    return small_config(steps=2000, checkpoints=20)


def test_sweep_writes_table_heatmap_and_resumes(tmp_path):
    res = E.sweep(sweep_base(), GRID, seeds=[0, 1], out_dir=tmp_path, progress=False)
    assert res.ran == 8 and res.skipped == 0 and res.complete
    with open(res.table_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert {(r["batch_size"], r["beta2"], r["seed"]) for r in rows} == {
        (b, t, s) for b in ("1", "n") for t in ("0.9", "0.999") for s in ("0", "1")
    }
    table = json.loads(res.table_json.read_text())
    assert table["complete"] is True and len(table["cells"]) == 8 and len(table["aggregate"]) == 4
    # every row agrees with its cell file, and each cell's trajectory matches a direct run
    for row in table["cells"]:
        rec = json.loads((tmp_path / "cells" / f"{row['key']}.json").read_text())
        assert rec["metrics"]["cos_l2"] == row["cos_l2"]
        assert rec["meta"]["seed"] == row["seed"]
        assert rec["config"]["seed"] == row["seed"] and rec["config"]["data"]["seed"] == row["seed"]
    row = table["cells"][-1]
    rec = json.loads((tmp_path / "cells" / f"{row['key']}.json").read_text())
    traj, _ = E.run_config(rec["config"], references=False)
    np.testing.assert_array_equal(res.trajectory(row["key"]).w, traj.w)
    # seed-averaged grid
    agg = res.aggregate("dist_fixed_point")
    assert agg.shape == (2, 2)
    sel = [r["dist_fixed_point"] for r in table["cells"] if r["batch_size"] == 1 and r["beta2"] == 0.999]
    assert agg[0, 1] == pytest.approx(np.mean(sel))
    assert res.figure.exists() and res.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # rerun: nothing is recomputed
    calls = []
    again = E.sweep(
        sweep_base(), GRID, seeds=[0, 1], out_dir=tmp_path, progress=False, callback=lambda *a: calls.append(a)
    )
    assert again.ran == 0 and again.skipped == 8 and calls == []
    assert json.loads(again.table_json.read_text())["cells"] == table["cells"]


def test_sweep_ctrl_c_keeps_finished_cells_and_rerun_completes(tmp_path):
    done = []

    def interrupt_after_two(cell, traj, record):
        done.append(cell.key)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        E.sweep(
            sweep_base(), GRID, seeds=[0], out_dir=tmp_path, progress=False, threads=1, callback=interrupt_after_two
        )
    on_disk = sorted(p.stem for p in (tmp_path / "cells").glob("*.json"))
    assert sorted(done) == on_disk
    assert not list((tmp_path / "cells").glob("*.tmp*"))
    partial = json.loads((tmp_path / "table.json").read_text())
    assert partial["complete"] is False and sorted(r["key"] for r in partial["cells"]) == on_disk
    res = E.sweep(sweep_base(), GRID, seeds=[0], out_dir=tmp_path, progress=False)
    assert res.skipped == 2 and res.ran == 2 and len(res.rows) == 4


def test_sweep_with_arrays_and_one_axis(tmp_path):
    X, y = ib.datasets.generalized_rademacher(6, 10, seed=4)
    base = {"optimizer": {"name": "GD"}, "lr": 0.5, "steps": 500, "checkpoints": 10}
    res = E.sweep(base, {"batch_size": [1, 2, 6]}, data=(X, y), out_dir=tmp_path, progress=False)
    assert [r["batch_size"] for r in res.rows] == [1, 2, 6]
    assert all(r["cos_l2"] > 0.9 for r in res.rows)
    assert res.aggregate("dist_l2").shape == (3, 1)
    assert res.figure.exists()


def test_sweep_rejects_bad_grids(tmp_path):
    with pytest.raises(ValueError, match="grid"):
        E.sweep(sweep_base(), {}, out_dir=tmp_path)
    with pytest.raises(ValueError, match="at most two"):
        E.sweep(sweep_base(), {"beta1": [0.9], "beta2": [0.9], "eta0": [0.1]}, out_dir=tmp_path)
    with pytest.raises(ValueError, match=r"optimizer\.beta2.*grid cell"):
        E.sweep(sweep_base(), {"beta2": [0.9, 2.0]}, out_dir=tmp_path, progress=False)


@pytest.fixture(scope="module")
def dask_executor():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client.get_executor()
    finally:
        client.close()
        cluster.close()


def test_dask_gives_the_same_numbers_and_resumes(tmp_path, dask_executor):
    local = E.sweep(sweep_base(), GRID, seeds=[0], out_dir=tmp_path / "local", progress=False)
    # start the Dask sweep with one cell already done: it must be skipped
    one = local.rows[0]["key"]
    (tmp_path / "dask" / "cells").mkdir(parents=True)
    for ext in ("npz", "json"):
        (tmp_path / "dask" / "cells" / f"{one}.{ext}").write_bytes(
            (tmp_path / "local" / "cells" / f"{one}.{ext}").read_bytes()
        )
    remote = E.sweep(sweep_base(), GRID, seeds=[0], out_dir=tmp_path / "dask", executor=dask_executor, progress=False)
    assert remote.skipped == 1 and remote.ran == 3
    assert [r["key"] for r in remote.rows] == [r["key"] for r in local.rows]
    for a, b in zip(local.rows, remote.rows):
        assert a == b  # identical metrics, float for float
        np.testing.assert_array_equal(local.trajectory(a["key"]).w, remote.trajectory(b["key"]).w)


# ------------------------------------------------------------------------------ reproduce (API)


def test_reproduce_claim_subset_and_wrong_prediction_fails(tmp_path):
    good = E.reproduce(quick=True, claims=[3], out_dir=tmp_path, progress=False, illustration=False)
    c3 = good.claim(3)
    assert c3.status == "PASS" and good.passed
    assert [r["prediction"] for r in c3.rows] == ["fixed_point", "fixed_point"]
    assert c3.rows[1]["metrics"]["cos_fixed_point"] > 0.9999
    # the same runs (cached) judged against a wrong prediction must FAIL
    bad = E.reproduce(
        quick=True, claims=[3], out_dir=tmp_path, progress=False, predictions={"claim3": "l2"}, illustration=False
    )
    assert bad.claim(3).status == "FAIL" and not bad.passed
    assert all(r["result"] == "FAIL" and r["overridden"] for r in bad.claim(3).rows)
    assert bad.claim(3).rows[0]["metrics"] == c3.rows[0]["metrics"]  # same numbers, different verdict
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] is False and summary["claims"][0]["status"] == "FAIL"
    md = (tmp_path / "summary.md").read_text()
    assert "**FAIL**" in md and "cos(w, w_l2) >= 0.999" in md and "overridden" in md
    # per-run override by label, and a callable hook
    one = E.reproduce(
        quick=True,
        claims=[3],
        out_dir=tmp_path,
        progress=False,
        predictions={"claim3:AdamProxy, Gaussian": "linf"},
        illustration=False,
    )
    assert [r["result"] for r in one.claim(3).rows] == ["PASS", "FAIL"]
    hook = E.reproduce(
        quick=True,
        claims=[3],
        out_dir=tmp_path,
        progress=False,
        predictions={3: lambda label, cfg: "not-linf"},
        illustration=False,
    )
    assert hook.claim(3).status == "PASS"  # neither run reaches the l-inf max margin


def test_reproduce_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="claims"):
        E.reproduce(claims=[10], out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="predictions"):
        E.reproduce(claims=[5], out_dir=tmp_path, progress=False, predictions={"claim5": "l1"})
    with pytest.raises(ValueError, match="predictions"):
        E.reproduce(claims=[5], out_dir=tmp_path, progress=False, predictions={"five": "l2"})
