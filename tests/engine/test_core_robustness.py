"""The core terminates, never crashes and refuses damaged state: hostile inputs straight at ``_core``.

Cases that could hang or abort the interpreter run in a subprocess with a timeout, so a regression
fails the test instead of the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import _core

TIMEOUT = 120


def run_python(code: str, setup: str = "") -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter; fail (not hang) if it takes longer than TIMEOUT."""
    prelude = "import warnings, numpy as np, implicit_bias as ib\nX, y = ib.datasets.gaussian(n=10, d=3, seed=0)\n"
    try:
        return subprocess.run(
            [sys.executable, "-c", prelude + setup + textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {TIMEOUT} s:\n{code}")


# A unit vector separating the base data (all margins > 0.05).
SEPARATOR = "u = np.array([1.0, -1.0, 3.0]) / np.sqrt(11.0)\nassert np.all(y * (X @ u) > 0.05)\n"


@pytest.mark.parametrize("name", ["GD", "SignGD", "AdamProxy", "Adam", "Lion"])
@pytest.mark.parametrize(
    "case",
    [
        "lr=1e300",
        "w0=2e18 * u",
        "w0=-1e18 * u, loss='exponential'",
        "w0=1e300 * u",
    ],
)
@pytest.mark.parametrize("batch", ["'n'", "1"])
def test_extreme_learning_rates_and_starting_points_finish(name, case, batch):
    proc = run_python(
        f"""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = ib.train(X, y, ib.{name}(), steps=50, batch_size={batch}, {case})
        w = t.w[-1]
        diverged = any("diverged" in str(c.message) or "no longer exact" in str(c.message) for c in caught)
        # Either every coordinate is finite, or the run said it diverged.
        assert np.all(np.isfinite(w)) or diverged, (w, [str(c.message) for c in caught])
        print("ok")
        """,
        SEPARATOR,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


def test_sign_methods_keep_moving_at_any_margin():
    # SignGD from a w0 with margins ~1e18 (beyond the scale's cap ~8e17): the min-margin sample's
    # gradient leads, and every step still moves each coordinate by lr (on main it stood still).
    X, y = ib.datasets.gaussian(n=10, d=3, seed=0)
    Z = y[:, None] * X
    w = 1e19 * np.array([1.0, -1.0, 3.0]) / np.sqrt(11.0)
    lr = 1e4  # above one ulp of w (2048)
    traj = ib.train(X, y, ib.SignGD(), steps=4, batch_size="n", lr=lr, w0=w)
    for _ in range(4):
        w = w - lr * np.sign(-Z[np.argmin(Z @ w)])
    assert not np.array_equal(w, traj.w[0])
    np.testing.assert_array_equal(traj.w[-1], w)


def test_huge_thread_counts_are_clamped_not_crashing():
    proc = run_python(
        """
        from implicit_bias import _core
        runs = [ib.Run(X, y, ib.Adam(), batch_size=1) for _ in range(3)]
        for threads in (2**31 - 1, 100000, -5):
            _core.advance_ensemble_float64([r.core for r in runs], [r.t + 10 for r in runs], threads)
        assert [r.t for r in runs] == [30, 30, 30]
        print("ok", _core.max_threads_cap)
        """
    )
    assert proc.returncode == 0 and "ok 1024" in proc.stdout, proc.stderr[-2000:]


def test_same_run_twice_in_one_ensemble_is_refused():
    run = ib.Run(*ib.datasets.gaussian(n=10, d=3, seed=0), ib.Adam(), batch_size=1)
    with pytest.raises(ValueError, match="runs: the same run appears twice"):
        _core.advance_ensemble_float64([run.core, run.core], [5, 5], 2)
    assert run.t == 0


# -- saved state -------------------------------------------------------------------------------------


def _state(order="reshuffle", optimizer=None):
    X, y = ib.datasets.gaussian(n=10, d=3, seed=0)
    run = ib.Run(X, y, optimizer or ib.Adam(), batch_size=2, order=order, seed=3)
    run.advance(7, checkpoints=5)
    return run, run.core.save_state()


def _edit(state, path, value):
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return state


BAD_STATES = [
    (("checkpoints", "w"), lambda s: np.vstack([s["checkpoints"]["w"], s["checkpoints"]["w"]]), "checkpoints/w"),
    (("checkpoints", "w"), lambda s: np.zeros((3, 3, 3)), "checkpoints/w"),
    (("checkpoints", "norm"), lambda s: np.zeros(50), "checkpoints/norm"),
    (("checkpoints", "scale_exponent"), lambda s: np.zeros(0, dtype=np.int64), "checkpoints/scale_exponent"),
    (("w",), lambda s: np.zeros(7), "w"),
    (("permutation",), lambda s: np.arange(11, dtype=np.int64), "permutation"),
    (("permutation",), lambda s: np.zeros(10, dtype=np.int64), "permutation"),
    (("permutation",), lambda s: np.full(10, 99, dtype=np.int64), "permutation"),
    (("sampler_position",), lambda s: 3, "sampler_position"),
    (("sampler_position",), lambda s: 10, "sampler_position"),
    (("rng",), lambda s: np.zeros(4, dtype=np.uint64), "rng"),
    (("scale_exponent",), lambda s: 2**62, "scale_exponent"),
    (("optimizer", "m"), lambda s: np.zeros(4), "optimizer/m"),
    (("optimizer", "bound"), lambda s: np.zeros(1), "optimizer/bound"),
    (("optimizer", "extra"), lambda s: np.zeros(3), "optimizer"),
    (("grid",), lambda s: np.array([5, 3], dtype=np.uint64), "grid"),
]


@pytest.mark.parametrize(
    ("path", "make", "field"), BAD_STATES, ids=[f"{'/'.join(p)}-{i}" for i, (p, _, _) in enumerate(BAD_STATES)]
)
def test_damaged_state_is_refused_naming_the_field_and_leaves_the_run_unchanged(path, make, field):
    run, state = _state()
    before = run.core.save_state()
    bad = _edit(run.core.save_state(), path, make(state))
    with pytest.raises((ValueError, TypeError), match=field):
        run.core.load_state(bad)
    after = run.core.save_state()
    np.testing.assert_array_equal(after["w"], before["w"])
    np.testing.assert_array_equal(after["permutation"], before["permutation"])
    np.testing.assert_array_equal(after["checkpoints"]["w"], before["checkpoints"]["w"])
    assert after["t"] == before["t"]


def test_missing_optimizer_array_is_refused():
    run, state = _state()
    del state["optimizer"]["v"]
    with pytest.raises(ValueError, match="lacks 'v'"):
        run.core.load_state(state)


def test_replacement_permutation_may_repeat_but_not_leave_range():
    run, state = _state(order="replacement")
    state["permutation"] = np.array([4, 4], dtype=np.int64)
    run.core.load_state(state)  # repeated draws are a valid state of order "replacement"
    state["permutation"] = np.array([4, -1], dtype=np.int64)
    with pytest.raises(ValueError, match="permutation"):
        run.core.load_state(state)


def test_damaged_state_in_a_subprocess_does_not_abort():
    # On main an extra checkpoint row ended in "malloc(): invalid size" (SIGABRT).
    proc = run_python(
        """
        r = ib.Run(X, y, ib.Adam(), batch_size=2)
        r.advance(5, checkpoints=3)
        s = r.core.save_state()
        s["checkpoints"]["w"] = np.vstack([s["checkpoints"]["w"]] * 4)
        try:
            r.core.load_state(s)
        except ValueError as exc:
            print("refused:", exc)
        """
    )
    assert proc.returncode == 0 and "refused: saved state field 'checkpoints/w'" in proc.stdout, proc.stderr[-2000:]


def test_round_trip_still_bit_exact():
    run, state = _state()
    twin, _ = _state()
    twin.core.load_state(state)
    run.advance(100)
    twin.advance(100)
    np.testing.assert_array_equal(run.core.w, twin.core.w)


# -- one run, two threads --------------------------------------------------------------------------------


def test_concurrent_use_of_one_run_raises_busy():
    X, y = ib.datasets.gaussian(n=10, d=3, seed=0)
    run = ib.Run(X, y, ib.Adam(), batch_size=1)
    started = threading.Event()
    errors: list[BaseException] = []

    def long_advance():
        started.set()
        try:
            run.core.advance(3 * 10**7)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=long_advance)
    worker.start()
    started.wait()
    seen = []
    # Wait until the worker holds the run (its first chunk), then try every other use.
    for _ in range(2000):
        try:
            run.core.save_state()
        except RuntimeError as exc:
            seen.append(str(exc))
            break
        threading.Event().wait(0.001)
    for use in (
        lambda: run.core.advance(10),
        lambda: run.core.load_state({}),
        lambda: run.core.checkpoints(),
        lambda: _core.advance_ensemble_float64([run.core], [10], 1),
    ):
        with pytest.raises(RuntimeError, match="Run is busy"):
            use()
    worker.join()
    assert not errors, errors
    assert seen and "Run is busy" in seen[0]
    assert run.core.t == 3 * 10**7  # the first user finished undisturbed
    run.core.save_state()  # and the run is free again


# -- optimizer traits from the C++ structs ----------------------------------------------------------


def test_optimizer_traits_come_from_the_cpp_structs():
    expect = {
        # kind: (full_batch, epoch_map, stateless, scale_invariant)
        "gd": (False, False, True, False),
        "sign_gd": (False, False, True, True),
        "adam": (False, False, False, True),
        "adam_proxy": (True, False, True, True),
        "signum": (False, False, False, True),
        "adagrad": (False, False, False, True),
        "lion": (False, False, False, True),
        "adam_epoch_map": (False, True, True, True),
    }
    assert set(expect) == set(_core.OptimizerKind.__members__)
    for kind, (full, epoch, stateless, invariant) in expect.items():
        t = _core.optimizer_traits(getattr(_core.OptimizerKind, kind))
        assert t == {
            "full_batch": full,
            "epoch_map": epoch,
            "whole_pass": full or epoch,
            "stateless": stateless,
            "scale_invariant": invariant,
        }, kind


def test_whole_pass_trait_matches_the_sampler_behaviour():
    # A whole-pass optimizer never moves the batch sampler; every other one does (batch_size 2 < n).
    X, y = ib.datasets.gaussian(n=10, d=3, seed=0)
    for cls in (ib.GD, ib.SignGD, ib.Adam, ib.AdamProxy, ib.Signum, ib.AdaGrad, ib.Lion, ib.AdamEpochMap):
        opt = cls()
        run = ib.Run(X, y, opt, batch_size=2)
        run.advance(1)
        traits = _core.optimizer_traits(getattr(_core.OptimizerKind, opt.kind))
        moved = run.core.save_state()["sampler_position"] != 0
        assert moved != traits["whole_pass"], cls.__name__
