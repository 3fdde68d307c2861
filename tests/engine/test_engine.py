"""Engine properties that need no step-by-step reference: underflow protection, bit-exact resume,
interrupts, ensembles, checkpoint bookkeeping. (Step-by-step agreement with an independent NumPy
implementation of SPEC.md is in test_train_vs_reference.py.)"""

from __future__ import annotations

import _thread
import os
import sys
import threading
import time

import numpy as np
import pytest

import implicit_bias as ib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# A small separable set: both coordinates carry every sample (no sparsity), margins well spread.
X_SMALL = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.5], [1.5, 0.5]])
Y_SMALL = np.ones(4)


def textbook_inc_adam(X, y, steps, lr, beta1, beta2, dtype, record_every):
    """Per-sample cyclic Adam (eps = 0, no bias correction) as researchers write it: unscaled
    gradients, sigmoid(-u) via exp. Returns recorded (t, w) pairs and the last step where w moved."""
    Z = (y[:, None] * X).astype(dtype)
    n, d = Z.shape
    w = np.zeros(d, dtype)
    m = np.zeros(d, dtype)
    v = np.zeros(d, dtype)
    b1, b2 = dtype(beta1), dtype(beta2)
    one = dtype(1)
    eta = dtype(lr)
    records = {}
    last_moved = 0
    with np.errstate(all="ignore"):
        for t in range(steps):
            z = Z[t % n]
            u = z @ w
            a = np.exp(-u) / (one + np.exp(-u)) if u >= 0 else one / (one + np.exp(u))
            g = -a * z
            m = b1 * m + (one - b1) * g
            v = b2 * v + (one - b2) * g * g
            upd = np.where(v > 0, eta * m / np.sqrt(np.where(v > 0, v, one)), dtype(0))
            new_w = w - upd
            if np.any(new_w != w):
                last_moved = t + 1
            w = new_w
            if (t + 1) % record_every == 0:
                records[t + 1] = w.copy()
    return records, last_moved


def test_inc_adam_keeps_moving_past_double_exp_range_and_matches_long_double_textbook():
    # Small beta2 makes margins grow fast (~ -ln(beta2)/2 per step), so 4e4 steps reach margin 1e4.
    steps, lr, beta1, beta2 = 40_000, 0.5, 0.3, 0.5
    record_every = 1000
    # The textbook double loop stalls: exp(-u) is exactly 0 beyond u ~ 745, so g = 0 and m, v die out.
    naive_double, last_moved_double = textbook_inc_adam(
        X_SMALL, Y_SMALL, steps, lr, beta1, beta2, np.float64, record_every
    )
    naive_margin = lambda k: float((X_SMALL @ naive_double[k]).min())  # noqa: E731
    assert naive_margin(steps) < 1000.0
    assert naive_margin(steps) == naive_margin(steps // 2), "the naive double loop was expected to stall"
    assert last_moved_double < steps // 2

    # The textbook long-double loop is valid far longer (exp(-u) representable up to u ~ 11000).
    naive_ld, _ = textbook_inc_adam(X_SMALL, Y_SMALL, steps, lr, beta1, beta2, np.longdouble, record_every)

    run = ib.Run(X_SMALL, Y_SMALL, ib.Adam(beta1=beta1, beta2=beta2), batch_size=1, lr=lr)
    compared = 0
    for t_rec in range(record_every, steps + 1, record_every):
        run.advance(record_every)
        ref = naive_ld[t_rec]
        if float((X_SMALL @ ref.astype(np.float64)).min()) > 5000:
            continue  # (1-beta2) g^2 reaches long double's subnormals near margin ~5700: reference invalid
        rel = np.linalg.norm(run.w.astype(np.longdouble) - ref) / np.linalg.norm(ref)
        assert rel < 1e-11, f"step {t_rec}: engine (double) vs long-double textbook rel err {rel:.2e}"
        compared += 1
    assert compared >= 10
    # The comparison covered steps where the double textbook loop had long stalled.
    assert naive_margin(steps) < float((X_SMALL @ naive_ld[compared * record_every].astype(np.float64)).min())

    traj = run.trajectory()
    assert traj.w.dtype == np.float64
    assert traj.min_margin[-1] > 1e4, "margins must grow past 1e4, far beyond exp's range in double"
    assert np.all(np.diff(traj.min_margin[-10:]) > 0), "the engine must keep moving"
    assert np.all(np.isfinite(traj.log_loss)) and traj.log_loss[-1] < -1e4  # log L is exact, not -inf


def test_double_and_long_double_engines_agree_far_beyond_both_exp_ranges():
    steps = 200_000
    opt = ib.Adam(beta1=0.3, beta2=0.5)
    t64 = ib.train(X_SMALL, Y_SMALL, opt, steps=steps, batch_size=1, lr=0.5, checkpoints=20)
    tld = ib.train(X_SMALL, Y_SMALL, opt, steps=steps, batch_size=1, lr=0.5, checkpoints=20, dtype=np.longdouble)
    assert tld.w.dtype == np.longdouble
    assert t64.min_margin[-1] > 50_000  # far beyond exp's range even in long double (~11,400)
    rel = np.linalg.norm(t64.w[-1] - tld.w[-1].astype(np.float64)) / np.linalg.norm(t64.w[-1])
    assert rel < 1e-9


@pytest.mark.parametrize("optimizer", [ib.SignGD(), ib.Signum(beta=0.9), ib.AdamProxy(), ib.Lion(), ib.GD()])
def test_sign_and_proxy_methods_never_lose_an_update(optimizer):
    # Per-sample SignGD moves every coordinate by exactly lr each step on this all-positive data
    # (every per-sample gradient is -a z_i with z_i > 0), however small a is.
    steps, lr = 100_000, 0.1
    traj = ib.train(X_SMALL, Y_SMALL, optimizer, steps=steps, batch_size=1, lr=lr, checkpoints=10)
    if isinstance(optimizer, (ib.SignGD, ib.Signum, ib.Lion)):
        np.testing.assert_allclose(traj.w[-1], [lr * steps, lr * steps], rtol=1e-9)
    elif isinstance(optimizer, ib.AdamProxy):
        assert traj.min_margin[-1] > 1e4
    else:  # GD: margins grow only logarithmically; nothing to lose
        assert traj.min_margin[-1] > 5


CONFIGS = [
    dict(optimizer=ib.Adam(beta1=0.9, beta2=0.99), batch_size=1, order="cyclic"),
    dict(optimizer=ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True), batch_size=3, order="reshuffle"),
    dict(optimizer=ib.Signum(beta=0.95), batch_size=2, order="replacement", lr=ib.schedules.polynomial(0.2, 0.5)),
    dict(optimizer=ib.AdamProxy(), lr=ib.schedules.step_decay(0.5, 0.9, every=100)),
    dict(optimizer=ib.GD(), batch_size=5, order="reshuffle", loss="exponential"),
    dict(optimizer=ib.AdaGrad(), batch_size=1, order="replacement"),
]


def gaussian_data(n=7, d=4, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble])
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: type(c["optimizer"]).__name__ + "-" + c.get("order", "cyclic")
)
def test_save_load_resume_is_bit_exact(tmp_path, config, dtype):
    X, y = gaussian_data()
    total, split = 30_000, 12_345
    uninterrupted = ib.Run(X, y, dtype=dtype, seed=11, **config).advance(total, checkpoints=40)

    first = ib.Run(X, y, dtype=dtype, seed=11, **config)
    first.advance(split, checkpoints=40)
    path = tmp_path / "run.npz"
    first.save(path)
    resumed = ib.Run.load(path)
    assert resumed.t == split
    assert resumed.w.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(resumed.w, first.w)
    resumed_traj = resumed.advance(total - split, checkpoints=40)

    np.testing.assert_array_equal(resumed_traj.w[-1], uninterrupted.w[-1])
    common, in_resumed, in_full = np.intersect1d(resumed_traj.steps, uninterrupted.steps, return_indices=True)
    assert common.size >= 5 and common[-1] == total
    for field in ("w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent"):
        np.testing.assert_array_equal(
            getattr(resumed_traj, field)[in_resumed], getattr(uninterrupted, field)[in_full], err_msg=field
        )


def test_interrupted_run_resumed_from_file_equals_uninterrupted_including_checkpoints(tmp_path):
    X, y = gaussian_data(n=10, d=3)
    opt = ib.Adam(beta1=0.9, beta2=0.99)
    total = 2 * 10**7  # ~1 s: long enough to be interrupted at 0.05 s on any machine
    run = ib.Run(X, y, opt, batch_size=1, order="reshuffle", seed=2)
    timer = threading.Timer(0.05, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run.advance(total, checkpoints=30)
    timer.join()
    assert 0 < run.t < total
    t_stop, w_stop = run.t, run.w
    run.save(tmp_path / "interrupted.npz")
    resumed = ib.Run.load(tmp_path / "interrupted.npz").advance(total - run.t, checkpoints=30)
    straight = ib.Run(X, y, opt, batch_size=1, order="reshuffle", seed=2).advance(total, checkpoints=30)
    # the interrupted run has one extra checkpoint, at the step where it stopped (issue 12) ...
    assert t_stop in resumed.steps and t_stop not in straight.steps
    at_stop = int(np.flatnonzero(resumed.steps == t_stop)[0])
    np.testing.assert_array_equal(resumed.w[at_stop], w_stop)
    assert resumed.steps[at_stop - 1] < t_stop < resumed.steps[at_stop + 1]
    # ... and otherwise the uninterrupted run's checkpoints, bit for bit
    keep = resumed.steps != t_stop
    for field in ("steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent"):
        np.testing.assert_array_equal(getattr(resumed, field)[keep], getattr(straight, field), err_msg=field)


def test_split_advances_equal_one_advance():
    X, y = gaussian_data()
    opt = ib.Adam(beta1=0.8, beta2=0.95)
    one = ib.Run(X, y, opt, batch_size=2, order="reshuffle", seed=5).advance(5000)
    run = ib.Run(X, y, opt, batch_size=2, order="reshuffle", seed=5)
    for _ in range(5):
        run.advance(1000)
    np.testing.assert_array_equal(run.w, one.w[-1])


CTRL_C_CASES = [  # (optimizer, n, d, steps taken after the stop for the comparison)
    pytest.param(ib.Adam(beta1=0.9, beta2=0.99), 10, 2, 1000, id="Adam"),
    pytest.param(ib.AdamEpochMap(beta1=0.9, beta2=0.99), 200, 50, 20, id="AdamEpochMap"),
]


@pytest.mark.parametrize("opt, n, d, more", CTRL_C_CASES)
def test_ctrl_c_stops_a_long_run_quickly_and_leaves_it_resumable(opt, n, d, more):
    """Ctrl-C (a timer calling _thread.interrupt_main) during a 10**10-step advance: the run stops
    within a second, its trajectory ends with a checkpoint at the step where it stopped (issue 12),
    and continuing it equals running straight to the same step."""
    X, y = gaussian_data(n=n, d=d, seed=1)
    run = ib.Run(X, y, opt, batch_size=1)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run.advance(10**10)
    stopped_after = time.perf_counter() - start
    timer.join()
    assert stopped_after < 0.3 + 1.0, f"Ctrl-C took {stopped_after - 0.3:.2f} s to stop the run"
    t_stop = run.t
    assert 0 < t_stop < 10**10
    traj = run.trajectory()
    assert traj.steps[-1] == t_stop and np.all(np.diff(traj.steps) > 0)
    np.testing.assert_array_equal(traj.w[-1], run.w)
    # The interrupted run is consistent: continuing it equals running straight to the same step.
    run.core.advance(t_stop + more)
    fresh = ib.Run(X, y, opt, batch_size=1)
    fresh.core.advance(t_stop + more)
    np.testing.assert_array_equal(run.w, fresh.w)


# Ctrl-C in ib.train / ib.train_many: tests/engine/test_run_state.py


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble])
def test_ensemble_equals_one_by_one(dtype):
    X, y = gaussian_data(n=9, d=5)
    configs = [dict(c, seed=k) for k, c in enumerate(CONFIGS)] + [
        dict(optimizer=ib.Adam(beta1=0.9, beta2=b2), batch_size=1) for b2 in (0.9, 0.99, 0.999)
    ]
    steps = [4000 + 1000 * k for k in range(len(configs))]
    together = ib.train_many(X, y, configs, steps=steps, checkpoints=30, dtype=dtype, threads=2)
    assert len(together) == len(configs)
    for cfg, s, traj in zip(configs, steps, together):
        alone = ib.train(X, y, steps=s, checkpoints=30, dtype=dtype, **cfg)
        assert traj.w.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(traj.steps, alone.steps)
        np.testing.assert_array_equal(traj.w, alone.w)
        np.testing.assert_array_equal(traj.log_loss, alone.log_loss)


def test_checkpoints_are_log_spaced_bounded_and_end_at_the_last_step():
    X, y = gaussian_data()
    traj = ib.train(X, y, ib.Adam(beta2=0.99), steps=3_000_000, batch_size=1, checkpoints=50)
    assert traj.steps[-1] == 3_000_000
    assert np.all(np.diff(traj.steps) > 0)
    assert len(traj) <= 51  # memory O(d * checkpoints), whatever the number of steps
    ratios = traj.steps[1:] / traj.steps[:-1]
    assert ratios[-10:].max() < 1.5  # log-spaced late: constant ratio ~ 3e6^(1/49)
    assert traj.w.shape == (len(traj), 4)
    # Fields agree with values recomputed from w.
    Z = y[:, None] * X
    u = traj.w @ Z.T
    np.testing.assert_allclose(traj.min_margin, u.min(axis=1), rtol=1e-12)
    np.testing.assert_allclose(traj.norm, np.linalg.norm(traj.w, axis=1), rtol=1e-12)
    np.testing.assert_allclose(traj.margin_linf, u.min(axis=1) / np.abs(traj.w).max(axis=1), rtol=1e-12)


def test_zero_steps_and_references():
    X, y = gaussian_data()
    w0 = np.arange(4.0)
    traj = ib.train(X, y, ib.GD(), steps=0, w0=w0)
    assert traj.steps.tolist() == [0]
    np.testing.assert_array_equal(traj.w[0], w0)
    ref = np.ones(4)
    traj = ib.train(X, y, ib.GD(), steps=100, references={"ones": ref})
    expected = traj.w @ ref / (np.linalg.norm(traj.w, axis=1) * 2.0)
    np.testing.assert_allclose(traj.cosine["ones"], expected, rtol=1e-12)
    with pytest.raises(ValueError, match="references"):
        ib.train(X, y, ib.GD(), steps=10, references={"bad": np.ones(3)})


@pytest.mark.parametrize("optimizer", [ib.GD(), ib.Adam(beta2=0.9)])
def test_divergence_is_reported_not_hung_on(optimizer):
    # Exponential loss from a point with hugely negative margins and an absurd learning rate overflows
    # w to inf (GD: the gradient explodes; normalized methods: steps of ~1e308); the engine must
    # finish (no endless rescaling) and the API must say so.
    X = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.warns(RuntimeWarning, match="no longer finite"):
        traj = ib.train(X, np.ones(2), optimizer, steps=3000, lr=1e308, loss="exponential", w0=[-1e3, -1e3])
    assert not np.all(np.isfinite(traj.w[-1]))


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble])
def test_bias_corrected_adam_past_the_saturation_step_matches_the_reference(dtype):
    # With beta1 = 0.5, beta2 = 0.6 both bias corrections round to exactly 1 after ~90 steps, where
    # the engine switches to its loop without the extra division; the trajectory must not notice.
    import reference as R

    X, y = gaussian_data(n=6, d=3, seed=8)
    steps = 1500
    traj = ib.train(
        X,
        y,
        ib.Adam(beta1=0.5, beta2=0.6, eps=1e-8, bias_correction=True),
        steps=steps,
        batch_size=2,
        lr=0.05,
        dtype=dtype,
        checkpoints=20,
    )
    ref = R.run(
        X,
        y,
        R.Adam(beta1=0.5, beta2=0.6, eps=1e-8, bias_correction=True),
        steps,
        batch_size=2,
        lr=0.05,
        dtype=dtype,
        record=traj.steps.tolist(),
    )
    tol = 1e-12 if dtype == np.float64 else 1e-15
    for k, w in zip(traj.steps, traj.w):
        expected = ref.w[int(k)]
        assert np.linalg.norm(w - expected) <= tol * np.linalg.norm(expected), f"step {k}"
