"""ib.epoch_map_limit: the epoch map run until its direction settles (our extension), checked
against the independent reference's map and against Inc-Adam itself."""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib
import reference_fixedpoint as R

X, Y = ib.datasets.gaussian(n=6, d=12, seed=1)
Z = Y[:, None] * X


def test_engine_map_steps_equal_the_reference_map() -> None:
    run = ib.Run(X, Y, ib.AdamEpochMap(beta1=0.9, beta2=0.95), batch_size=2, lr=ib.schedules.polynomial(0.1, 0.5))
    w = np.zeros(12)
    for t in range(30):
        w = R.epoch_map_step(Z, w, 0.9, 0.95, 2, 0.1 * (t + 1) ** -0.5)
    run.advance(30, checkpoints=2)
    np.testing.assert_allclose(run.w, w, rtol=1e-12, atol=1e-14)


def test_limit_settles_and_reports_steps_and_change() -> None:
    em = ib.epoch_map_limit(X, Y, ib.Adam(beta1=0.9, beta2=0.9), tol=1e-6)
    assert em.settled and em.last_change <= 1e-6 and em.steps >= 2**12
    assert "settled after" in em.message and em.kind == "epoch_map"
    assert np.linalg.norm(em.w) == pytest.approx(1.0)
    assert int(em.trajectory.steps[-1]) == em.steps


def test_an_unsettled_limit_says_so() -> None:
    em = ib.epoch_map_limit(X, Y, ib.Adam(beta1=0.9, beta2=0.9), tol=1e-15, min_steps=64, max_steps=256)
    assert not em.settled and em.steps == 256 and "did NOT settle" in em.message


def test_inc_adam_lands_nearer_the_map_limit_than_the_fixed_point() -> None:
    X, Y = ib.datasets.gaussian(n=10, d=50, seed=0)  # the map's limit is 6e-5 from w* here
    em = ib.epoch_map_limit(X, Y, ib.Adam(beta1=0.9, beta2=0.9))
    fp = ib.fixed_point(X, Y, starts=1)
    traj = ib.train(
        X,
        Y,
        ib.Adam(beta1=0.9, beta2=0.9),
        steps=10**7,
        batch_size=1,
        lr=ib.schedules.polynomial(0.1, 0.5),
        checkpoints=4,
    )
    to_map, to_fp = 1 - ib.cosine(traj.w[-1], em.w), 1 - ib.cosine(traj.w[-1], fp.w)
    assert to_map < to_fp / 5, (to_map, to_fp)


def test_predicted_direction_with_finite_beta2_computes_the_limit() -> None:
    pred = ib.predicted_direction(X, Y, ib.Adam(beta1=0.9, beta2=0.9), batch_size=1, finite_beta2=True)
    assert pred.kind == "epoch_map" and pred.confidence == "asymptotic"
    assert ib.cosine(pred.w, ib.epoch_map_limit(X, Y, ib.Adam(beta1=0.9, beta2=0.9)).w) > 1 - 1e-14


@pytest.mark.parametrize(
    "optimizer, exc, match",
    [
        (ib.Adam(beta1=0.9, beta2=0.5), ValueError, "beta1 = 0.9 > beta2 = 0.5"),
        (ib.Adam(eps=1e-8), ValueError, "eps"),
        (ib.GD(), TypeError, "optimizer"),
    ],
)
def test_refusals_name_the_reason(optimizer, exc, match) -> None:
    with pytest.raises(exc, match=match):
        ib.epoch_map_limit(X, Y, optimizer)
