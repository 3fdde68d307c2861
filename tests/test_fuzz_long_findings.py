"""Regressions from the long fuzz profile (IB_FUZZ=long), one minimal case each."""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib


@pytest.mark.parametrize("k", [0, 127, 128, 200, -300])
def test_exponential_loss_first_step_is_exactly_invariant_to_a_power_of_two_data_scale(k):
    # The second coordinate of the full-batch gradient cancels exactly (-0.5 + 1.5 - 1 = 0), so
    # SignGD must leave it at 0 (sign(0) = 0) whatever 2^k scales the data: the scaled coefficient
    # exp(-u) 2^-E must be exact, not exp(-u - E ln 2) rounded.
    X = np.array([[1.5, -0.5], [0.5, 1.5], [1.0, -1.0]])
    y = np.ones(3)
    traj = ib.train(np.ldexp(X, k), y, ib.SignGD(), steps=1, batch_size=3, loss="exponential", lr=0.1)
    assert traj.w[-1].tolist() == [0.1, 0.0]


def test_max_margin_never_returns_an_uncertified_answer():
    # A column ~1e-9 of the others: the l2 / Mahalanobis dual is singular in double. The answer
    # must be certified (KKT residual <= 1e-5, positive margin) or refused naming X.
    X = np.array(
        [
            [1.25730221e-01, -9.84257931e-10, 6.40422650e-01],
            [1.04900117e-01, -3.99104784e-09, 3.61595055e-01],
            [1.30400005e00, 7.05630305e-09, -7.03735236e-01],
        ]
    )
    y = np.array([-1.0, 1.0, -1.0])
    assert ib.is_separable(X, y)
    for norm in ("l2", np.array([0.5, 1.0, 2.0])):
        try:
            result = ib.max_margin(X, y, norm)
        except ib.IllConditionedError as exc:
            assert str(exc).startswith("X:") and "rescale the columns of X" in str(exc)
            assert isinstance(exc, ValueError) and isinstance(exc, RuntimeError)
        else:
            assert result.kkt_residual <= 1e-5 and result.gamma > 0


def test_gaussian_cov_that_is_not_array_like_names_cov():
    with pytest.raises(TypeError, match="^cov:"):
        ib.datasets.gaussian(n=1, d=1, seed=0, cov=np.float64)


@pytest.mark.parametrize("optimizer", [ib.Signum(beta=0.0), ib.Lion(beta1=0.0, beta2=0.99)], ids=["signum", "lion"])
def test_zero_momentum_sign_methods_are_signgd_and_keep_the_update_after_a_margin_jump(optimizer, tmp_path):
    # lr = 1e4 on x = 0.126 jumps the margin to ~1257 in one step: the second gradient is ~e^-1257.
    # Its sign still moves w (SignGD re-centres its scale on each batch); with beta = 0 the momentum
    # is that gradient, so it must move too, in one run and across save / load.
    X, y = np.array([[0.12573022]]), np.array([-1.0])
    ours = ib.Run(X, y, optimizer, lr=1e4)
    ours.advance(1)
    ours.save(tmp_path / "run.npz")
    ours.advance(1)
    resumed = ib.Run.load(tmp_path / "run.npz")
    resumed.advance(1)
    sign_gd = ib.Run(X, y, ib.SignGD(), lr=1e4)
    sign_gd.advance(2)
    assert ours.w.tolist() == resumed.w.tolist() == sign_gd.w.tolist() == [-20000.0]
    # and on ordinary data, the same bits as SignGD over many steps
    X2, y2 = ib.datasets.gaussian(n=6, d=3, seed=1)
    a = ib.train(X2, y2, optimizer, steps=500, lr=0.05, checkpoints=5)
    b = ib.train(X2, y2, ib.SignGD(), steps=500, lr=0.05, checkpoints=5)
    assert np.array_equal(a.w, b.w)


def test_only_the_zero_momentum_sign_methods_are_run_as_signgd():
    # AdamEpochMap(beta1=0) and Adam(beta1=0) keep their own update rules in the core.
    assert ib.Signum(beta=0.0).core_params()["kind"] == "sign_gd"
    assert ib.Lion(beta1=0.0).core_params()["kind"] == "sign_gd"
    for opt in (ib.AdamEpochMap(beta1=0.0), ib.Adam(beta1=0.0), ib.Signum(beta=0.5), ib.Lion(beta1=0.5)):
        assert opt.core_params()["kind"] == opt.kind
