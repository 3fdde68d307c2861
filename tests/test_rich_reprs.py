"""Jupyter reprs (``_repr_html_``) show the key numbers; ``Trajectory.to_xarray`` keeps every array."""

from __future__ import annotations

import builtins
import html
import json
import re

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import experiments as E


@pytest.fixture(scope="module")
def data():
    return ib.datasets.gaussian(n=8, d=3, seed=2)


@pytest.fixture(scope="module")
def traj(data):
    X, y = data
    l2 = ib.max_margin(X, y)
    return ib.train(X, y, ib.Adam(beta2=0.99), steps=500, checkpoints=10, references={"l2": l2})


def cells(text):
    """The texts of the table's cells, unescaped."""
    return [html.unescape(c) for c in re.findall(r"<t[dh](?:\s[^>]*)?>(.*?)</t[dh]>", text)]


def test_trajectory_html_holds_the_final_numbers(traj):
    text = traj._repr_html_()
    assert text.startswith("<table") and "Trajectory: Adam, " + str(len(traj)) + " checkpoints up to t = 500" in text
    found = cells(text)
    for name in ("norm", "log_loss", "margin_l2"):
        assert f"{getattr(traj, name)[-1]:.6g}" == found[found.index(f"{name} at t = 500") + 1]
    assert f"{traj.cosine['l2'][-1]:.6g}" == found[found.index("cos(w, l2)") + 1]
    assert "beta2=0.99" in found[found.index("optimizer") + 1]
    assert len(text) < 4000  # compact: no arrays dumped


def test_max_margin_and_prediction_html(data):
    X, y = data
    ref = ib.max_margin(X, y, norm="linf")
    found = cells(ref._repr_html_())
    assert found[found.index("gamma") + 1] == f"{float(ref.gamma):.6g}"
    assert found[found.index("support") + 1].startswith(f"{ref.support.size}: ")
    pred = ib.predicted_direction(X, y, ib.Signum(), X.shape[0])
    found = cells(pred._repr_html_())
    assert found[found.index("kind") + 1] == pred.kind and found[found.index("confidence") + 1] == pred.confidence
    assert f"{pred.w[0]:.4f}"[:5] in found[found.index("w") + 1]


def test_sweep_result_html_lists_cells(tmp_path):
    base = {"data": {"name": "gaussian", "n": 6, "d": 3}, "optimizer": {"name": "Adam"}, "steps": 300}
    res = E.sweep(base, {"beta2": [0.9, 0.99]}, out_dir=tmp_path, progress=False, plot=False, threads=1)
    text = res._repr_html_()
    assert "SweepResult: 2 cells" in text and "ran 2" in text
    found = cells(text)
    header = found[: found.index("dist_predicted") + 1]
    body = found[len(header) :]
    assert len(body) == 2 * len(header)
    for k, row in enumerate(res.rows):
        values = body[k * len(header) : (k + 1) * len(header)]
        assert values[header.index("beta2")] == f"{row['beta2']:g}"
        assert values[header.index("cos_l2")] == f"{row['cos_l2']:.6g}"


def test_to_xarray_keeps_the_arrays(traj):
    xr = pytest.importorskip("xarray", reason="xarray not installed (the xarray extra)")
    ds = traj.to_xarray()
    assert isinstance(ds, xr.Dataset) and ds.sizes == {"step": len(traj), "coordinate": 3}
    np.testing.assert_array_equal(ds["w"].values, traj.w)
    np.testing.assert_array_equal(ds["step"].values, traj.steps)
    np.testing.assert_array_equal(ds["cosine_l2"].values, traj.cosine["l2"])
    assert json.loads(ds.attrs["config"]) == traj.config


def test_to_xarray_without_xarray_names_the_extra(traj, monkeypatch):
    real = builtins.__import__

    def no_xarray(name, *args, **kwargs):
        if name == "xarray":
            raise ImportError("no xarray")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_xarray)
    with pytest.raises(ImportError, match=r"implicit-bias\[xarray\]"):
        traj.to_xarray()
