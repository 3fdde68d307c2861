"""``step_decay(every="epoch")`` decays once per pass over the data: every ceil(n / b) steps for
per-batch optimizers, every step for AdamProxy and AdamEpochMap (one step is already a pass)."""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib
import reference as R

N, B = 12, 4  # three batches per epoch


@pytest.fixture(scope="module")
def data():
    return ib.datasets.gaussian(n=N, d=3, seed=4)


def final_w(data, opt, lr, batch_size=B, steps=9):
    return ib.train(*data, opt, steps=steps, batch_size=batch_size, lr=lr).w[-1]


@pytest.mark.parametrize("opt", [ib.AdamProxy(), ib.AdamEpochMap(beta2=0.99)], ids=["AdamProxy", "AdamEpochMap"])
def test_whole_pass_optimizers_decay_every_step_with_every_epoch(data, opt):
    per_epoch = final_w(data, opt, ib.schedules.step_decay(0.1, 0.5, "epoch"))
    np.testing.assert_array_equal(per_epoch, final_w(data, opt, ib.schedules.step_decay(0.1, 0.5, 1)))
    # not the per-batch count ceil(n / b) = 3 it used before
    assert not np.array_equal(per_epoch, final_w(data, opt, ib.schedules.step_decay(0.1, 0.5, 3)))


def test_adam_proxy_with_every_epoch_matches_the_reference_loop(data):
    X, y = data
    got = final_w(data, ib.AdamProxy(), ib.schedules.step_decay(0.1, 0.5, "epoch"), steps=6)
    ref = R.run(X, y, R.AdamProxy(), 6, batch_size=B, lr=R.StepDecay(0.1, 0.5, 1), record=[6]).w[6]
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_per_batch_optimizers_decay_every_ceil_n_over_b_steps(data):
    got = final_w(data, ib.Adam(beta2=0.99), ib.schedules.step_decay(0.1, 0.5, "epoch"))
    np.testing.assert_array_equal(got, final_w(data, ib.Adam(beta2=0.99), ib.schedules.step_decay(0.1, 0.5, 3)))


def test_resolved_every():
    s = ib.schedules.step_decay(0.1, 0.5, "epoch")
    assert s.resolved_every(3) == 3 and s.resolved_every(3, whole_pass=True) == 1
    assert ib.schedules.step_decay(0.1, 0.5, 7).resolved_every(3, whole_pass=True) == 7
    with pytest.raises(ValueError, match="steps_per_epoch"):
        s.resolved_every(0)
