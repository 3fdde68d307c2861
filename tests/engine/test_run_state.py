"""Run.state in true units against the independent NumPy reference, the one-thread-at-a-time guard
of a Run, and what Ctrl-C leaves behind in train / train_many (issue 12)."""

from __future__ import annotations

import _thread
import threading

import numpy as np
import pytest

import implicit_bias as ib
import reference as R


def data(n=8, d=3, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)


def far_start(X, y, margin=120.0):
    """A start point with every margin >= ``margin``: gradients ~ e^-margin, below the engine's
    2^-128 scale window, so the scale exponent E moves from the first steps."""
    w = ib.check_separable(X, y)  # min_i <z_i, w> = 1
    return margin * w


# (engine optimizer, reference optimizer, state keys)
STATEFUL = [
    (ib.Adam(beta1=0.8, beta2=0.95), R.Adam(beta1=0.8, beta2=0.95), ("m", "v")),
    (
        ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True),
        R.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True),
        ("m", "v"),
    ),
    (ib.RMSProp(beta2=0.9), R.RMSProp(beta2=0.9), ("m", "v")),
    (ib.Signum(beta=0.7), R.Signum(beta=0.7), ("m",)),
    (ib.Lion(beta1=0.9, beta2=0.95), R.Lion(beta1=0.9, beta2=0.95), ("m",)),
    (ib.AdaGrad(), R.AdaGrad(), ("v",)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["f64", "f80"])
@pytest.mark.parametrize(
    "opt, ref, keys", STATEFUL, ids=lambda v: type(v).__name__ if isinstance(v, ib.Optimizer) else ""
)
@pytest.mark.parametrize("steps, far", [(7, False), (40, True)], ids=["short", "scaled"])
def test_state_matches_the_reference_in_true_units(dtype, opt, ref, keys, steps, far):
    """After a few steps, and after enough steps at a large rate that the engine's scale exponent E
    has moved (its moments are then stored as m 2^-E, v 2^-2E), ``state`` equals the reference's
    unscaled moments."""
    X, y = data()
    w0 = far_start(X, y) if far else None
    run = ib.Run(X, y, opt, batch_size=3, order="reshuffle", lr=0.1, dtype=dtype, seed=9, w0=w0)
    run.advance(steps)
    state = run.state
    expected = R.run(X, y, ref, steps, batch_size=3, order="reshuffle", lr=0.1, dtype=dtype, seed=9, w0=w0)
    if far:
        assert state["scale_exponent"] != 0, "the long case must exercise the gradient scale"
    assert set(state) == {"t", "w", "scale_exponent", *keys} and state["t"] == steps
    tol = 1e-9 if dtype == np.float64 else 1e-12
    np.testing.assert_allclose(state["w"], expected.final, rtol=tol, atol=0)
    for key in keys:
        got, want = state[key], getattr(ref, key)
        assert got.dtype == np.dtype(dtype) and got.shape == (3,)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.max(np.abs(want)), err_msg=key)


def test_one_adam_step_has_the_closed_form_moments():
    """From w = 0 with the full batch, g = -mean_i |l'(0)| z_i = -mean_i z_i / 2 (logistic), so one
    step gives m = (1 - beta1) g and v = (1 - beta2) g**2."""
    X, y = data()
    run = ib.Run(X, y, ib.Adam(beta1=0.9, beta2=0.99))
    run.advance(1)
    g = -0.5 * np.mean(y[:, None] * X, axis=0)
    np.testing.assert_allclose(run.state["m"], 0.1 * g, rtol=1e-14)
    np.testing.assert_allclose(run.state["v"], 0.01 * g**2, rtol=1e-14)


@pytest.mark.parametrize("opt", [ib.GD(), ib.SignGD(), ib.AdamProxy(), ib.AdamEpochMap()], ids=type)
def test_stateless_optimizers_report_w_and_t_only(opt):
    X, y = data()
    run = ib.Run(X, y, opt)
    traj = run.advance(5)
    state = run.state
    assert set(state) == {"t", "w", "scale_exponent"} and state["t"] == 5
    np.testing.assert_array_equal(state["w"], traj.w[-1])


def test_state_is_a_copy_and_reading_it_changes_nothing():
    X, y = data()
    run = ib.Run(X, y, ib.Adam())
    run.advance(10)
    state = run.state
    state["m"][:] = 1e9
    state["w"][:] = 0
    again = ib.Run(X, y, ib.Adam())
    again.advance(20)
    run.advance(10)
    np.testing.assert_array_equal(run.w, again.w)


# ----------------------------------------------------------------------------- one thread at a time
def test_a_run_in_use_by_one_thread_refuses_a_second_thread():
    """Thread A advances the run and is held inside (its progress callback waits on a gate); the
    main thread's calls get RuntimeError "Run is busy" instead of racing the engine; once A is done,
    the run is intact (equal to a run advanced alone)."""
    X, y = data(d=2)
    run = ib.Run(X, y, ib.Adam(beta2=0.99), batch_size=1)
    inside, gate, errors = threading.Event(), threading.Event(), []

    def hold(done: int) -> None:
        inside.set()
        gate.wait(timeout=30)

    def advance_in_a():
        try:
            ib.engine.advance_many([run], [200_000], on_progress=hold, round_seconds=0.001)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    a = threading.Thread(target=advance_in_a)
    a.start()
    try:
        assert inside.wait(timeout=30)
        for call in (
            lambda: run.advance(10),
            lambda: run.save("never-written.npz"),
            lambda: run.state,
            lambda: run.w,
            lambda: run.trajectory(),
            lambda: ib.engine.advance_many([run], [10]),
        ):
            with pytest.raises(RuntimeError, match=r"^Run is busy: another thread is in Run\.advance"):
                call()
    finally:
        gate.set()
        a.join(timeout=60)
    assert not a.is_alive() and errors == []
    alone = ib.Run(X, y, ib.Adam(beta2=0.99), batch_size=1).advance(200_000)
    np.testing.assert_array_equal(run.w, alone.w[-1])
    run.advance(10)  # free again
    assert run.t == 200_010


# --------------------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_in_train_carries_the_run_and_its_trajectory_up_to_the_stop():
    X, y = data(d=2)
    ib.train(X, y, ib.SignGD(), steps=1)  # warm up (imports of the separability check) before the timer
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt) as info:
        ib.train(X, y, ib.SignGD(), steps=10**10, batch_size=1)
    timer.join()
    run, traj = info.value.run, info.value.trajectory
    assert 0 < run.t < 10**10 and traj.steps[-1] == run.t
    np.testing.assert_array_equal(traj.w[-1], run.w)


def test_ctrl_c_in_train_many_leaves_every_run_with_a_checkpoint_at_its_stop():
    X, y = data(d=2)
    configs = [dict(optimizer=ib.Adam(beta2=b2), batch_size=1) for b2 in (0.9, 0.99, 0.999)]
    ib.train_many(X, y, configs, steps=1)  # warm up before the timer
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt) as info:
        ib.train_many(X, y, configs, steps=10**10, threads=1)
    timer.join()
    for run, attached in zip(info.value.runs, info.value.trajectories, strict=True):
        traj = run.trajectory()
        np.testing.assert_array_equal(attached.steps, traj.steps)
        assert 0 < run.t < 10**10 and traj.steps[-1] == run.t
        np.testing.assert_array_equal(traj.w[-1], run.w)
