"""Sweeps measure every cell against its own prediction (batch size, order, schedule matched)."""

from __future__ import annotations

import json

import pytest

import implicit_bias as ib

E = ib.experiments
BASE = {
    "data": {"name": "gaussian", "n": 6, "d": 12, "seed": 1},
    "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999},
    "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},
    "steps": 10**6,
    "checkpoints": 10,
}


def test_each_cell_is_compared_with_its_matching_prediction(tmp_path) -> None:
    res = E.sweep(
        BASE,
        {"batch_size": [1, 2], "order": ["cyclic", "replacement"]},
        out_dir=tmp_path,
        progress=False,
        seed_data=False,
    )
    X, y = ib.datasets.gaussian(n=6, d=12, seed=1)
    for row in res.rows:
        assert row["predicted_kind"] == "fixed_point"
        pred = ib.fixed_point(X, y, batch_size=row["batch_size"], order=row["order"], starts=1)
        w = res.trajectory(row["key"]).w[-1]
        assert row["dist_predicted"] == pytest.approx(1 - ib.cosine(w, pred.w), rel=1e-9, abs=1e-15)
        if row["batch_size"] == 2:  # mini-batch cells sit much nearer their batch fixed point than w*
            assert row["dist_predicted"] < row["dist_fixed_point"] / 3
    table = json.loads(res.table_json.read_text())
    assert all("dist_predicted_mean" in entry for entry in table["aggregate"])
    assert "dist_predicted" in res.table_csv.read_text().splitlines()[0]


def test_reference_none_and_bad_values(tmp_path) -> None:
    res = E.sweep(
        {**BASE, "steps": 1000}, {"batch_size": [1]}, out_dir=tmp_path, progress=False, reference="none", plot=False
    )
    assert "dist_predicted" not in res.rows[0]
    with pytest.raises(ValueError, match="^reference:"):
        E.sweep(BASE, {"batch_size": [1]}, out_dir=tmp_path, progress=False, reference="l3")
