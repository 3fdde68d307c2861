"""Results into the usual tools: long-format DataFrames of trajectories and sweeps."""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib

pd = pytest.importorskip("pandas")


def test_trajectory_long_format_round_trips_every_series() -> None:
    X, y = ib.datasets.gaussian(n=6, d=8, seed=0)
    traj = ib.train(
        X,
        y,
        ib.Adam(beta2=0.99),
        steps=2000,
        batch_size=1,
        checkpoints=12,
        references={"l2": ib.max_margin(X, y, "l2")},
    )
    df = traj.to_dataframe()
    assert list(df.columns) == ["step", "quantity", "value"]
    assert set(df["quantity"]) == {
        "norm",
        "log_loss",
        "margin_l2",
        "margin_linf",
        "min_margin",
        "scale_exponent",
        "cosine/l2",
        "margin_ratio/l2",
    }
    wide = df.pivot(index="step", columns="quantity", values="value")
    np.testing.assert_array_equal(wide.index.to_numpy(), traj.steps)
    np.testing.assert_array_equal(wide["cosine/l2"].to_numpy(), traj.cosine["l2"].astype(np.float64))
    np.testing.assert_array_equal(wide["log_loss"].to_numpy(), traj.log_loss.astype(np.float64))
    assert "Trajectory(Adam" in repr(traj) and len(repr(traj)) < 200  # a compact repr, not the arrays


def test_sweep_table_as_dataframe(tmp_path) -> None:
    base = {"data": {"name": "gaussian", "n": 6, "d": 8, "seed": 0}, "optimizer": "GD", "steps": 500, "checkpoints": 5}
    res = ib.experiments.sweep(
        base, {"batch_size": [1, "n"]}, out_dir=tmp_path, progress=False, plot=False, reference="none"
    )
    df = res.to_dataframe()
    assert len(df) == 2 and list(df["batch_size"]) == [1, "n"]
    assert np.allclose(df["cos_l2"], [r["cos_l2"] for r in res.rows])
