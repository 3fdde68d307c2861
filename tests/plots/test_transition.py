"""The transition figure's data (predicted curves for b = 1 .. n and every order, runs as markers)
and the figure itself."""

from __future__ import annotations

import matplotlib.image as mpimg
import pytest

import implicit_bias as ib
from implicit_bias.experiments.transition import transition_data

X, Y = ib.datasets.gaussian(n=6, d=12, seed=1)


@pytest.fixture(scope="module")
def data():
    traj = ib.train(
        X, Y, ib.Adam(beta2=0.999), steps=3 * 10**6, batch_size=2, lr=ib.schedules.polynomial(0.1, 0.5), checkpoints=5
    )
    config = {"batch_size": 2, "order": "cyclic"}
    em = ib.epoch_map_limit(X, Y, ib.Adam(beta1=0.9, beta2=0.9), max_steps=2**16)
    return transition_data(X, Y, [(config, traj.w[-1])], epoch_maps={0.9: em.w}, inc_adam=[(0.9, em.w)])


def test_curves_cover_every_batch_size_and_order(data) -> None:
    assert set(data["predicted"]) == {"cyclic", "reshuffle", "replacement"}
    for order, curve in data["predicted"].items():
        assert curve["b"] == list(range(1, 7))
        assert curve["dist_b1"][0] == pytest.approx(0.0, abs=1e-14)  # b = 1 is the plain fixed point
        if order != "replacement":
            assert curve["ratio_linf"][-1] == pytest.approx(1.0, abs=1e-9)  # b = n: l-inf
    assert data["predicted"]["replacement"]["ratio_linf"][-1] < 1 - 1e-3  # with replacement b = n is still random


def test_markers_are_placed_by_their_run(data) -> None:
    (point,) = data["measured"]
    assert point["order"] == "cyclic" and point["b"] == 2
    predicted_b2 = data["predicted"]["cyclic"]["dist_b1"][1]
    assert point["dist_b1"] == pytest.approx(predicted_b2, rel=0.25)  # the run sits near its prediction (1e-4 from it)
    assert data["beta2"]["beta2"] == [0.9] and data["beta2_measured"][0]["dist_b1"] == pytest.approx(
        data["beta2"]["dist_b1"][0]
    )


def test_figure_has_three_panels_and_says_it_is_our_extension(data, tmp_path) -> None:
    path = tmp_path / "transition.png"
    fig = ib.plots.transition_figure(
        data["predicted"], data["measured"], beta2=data["beta2"], beta2_measured=data["beta2_measured"], n=6, path=path
    )
    assert len(fig.axes) == 3 and "our extension" in fig._suptitle.get_text()
    img = mpimg.imread(path)
    assert img.shape[1] > 1200 and img[..., :3].std() > 0.01
