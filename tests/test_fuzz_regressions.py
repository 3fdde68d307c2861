"""Minimal failing examples the fuzz tests found (issue 11), one per entry of
``fuzz_strategies.KNOWN_FAILURES``.

Each test demands the correct behaviour. While its id is listed in KNOWN_FAILURES it is
``xfail(strict=True)`` (and the fuzz strategies avoid those inputs); when the fix is merged, delete
the entry: the test must then pass, and the fuzz tests cover the area again. Examples run in the
sandboxed worker, so a hang or a crash fails (or xfails) the test instead of stopping pytest.
"""

from __future__ import annotations

import numpy as np
import pytest

from fuzz_strategies import KNOWN_FAILURES, SANDBOX, assert_clean

RUN_ARGS = ("X", "y", "optimizer", "steps", "batch_size", "order", "lr", "loss", "dtype", "checkpoints", "seed", "w0")


def known(failure: str):
    """xfail(strict=True) while ``failure`` is listed in KNOWN_FAILURES (else the test as it is)."""
    if failure in KNOWN_FAILURES:
        return pytest.mark.xfail(strict=True, reason=f"issue 11: {KNOWN_FAILURES[failure]}")
    return lambda test: test


def test_every_known_failure_has_a_regression_test():
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    for failure in KNOWN_FAILURES:
        assert f'known("{failure}")' in source, failure


XOR = (np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]), np.array([1.0, 1.0, -1.0, -1.0]))
OPPOSITE = (np.array([[1.0, 2.0], [1.0, 2.0]]), np.array([1.0, -1.0]))
ZERO_ROW = (np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([1.0, 1.0]))


# ib.train(XOR, ib.GD(), steps=10) returns a trajectory, no error or warning
@known("train-nonseparable")
@pytest.mark.parametrize("data", [XOR, OPPOSITE, ZERO_ROW], ids=["xor", "opposite-duplicates", "zero-row"])
def test_train_refuses_or_flags_nonseparable_data(data):
    X, y = data
    out = SANDBOX.call("train", X=X, y=y, optimizer={"name": "GD"}, steps=10)
    assert_clean(out, RUN_ARGS)
    assert out.raised == "NotSeparableError" or out.warned(), out


# ib.train(X * 2.0**-700, y, ib.AdaGrad(), steps=1).w[-1] is 0 (on X it is -lr * sign(g))
@known("train-extreme-scale")
@pytest.mark.parametrize(
    "name, scale_exp",
    [("AdaGrad", -700), ("Adam", -1000), ("RMSProp", -1000), ("AdamProxy", -700), ("AdamProxy", 600)],
)
def test_first_step_on_extremely_scaled_data(name, scale_exp):
    X = np.ldexp(np.array([[1.0, 0.5], [0.25, -1.0]]), scale_exp)
    out = SANDBOX.call(
        "first_step",
        X=X,
        y=np.array([1.0, 1.0]),
        scale_exp=scale_exp,
        optimizer={"name": name},
        batch_size=1 if name != "AdamProxy" else None,
        lr=0.1,
    )
    assert_clean(out, RUN_ARGS)


# ib.train([[2**53 + 1, 1]], [1], ib.GD(), steps=1) trains on 2**53 without a word
@known("int64-rounded")
def test_int64_data_beyond_2_53_is_refused():
    X = np.array([[2**53 + 1, 1]], dtype=np.int64)
    out = SANDBOX.call("train", X=X, y=np.array([1]), optimizer={"name": "GD"}, steps=1)
    assert out.raised is not None, "int64 data above 2**53 was rounded silently"
    assert_clean(out, ("X",))


# ib.is_separable(X * 1e-9, y) is False; max_margin / fixed_point raise NotSeparableError
@known("references-rescaled")
@pytest.mark.parametrize(
    "target",
    [
        "is_separable",
        "max_margin",
        "fixed_point",
        "max_margin_l2_tiny",
        "shifted_diagonal_huge",
        "max_margin_linf_tiny",
    ],
)
def test_references_on_rescaled_separable_data(target):
    X, y = np.array([[1.0, 0.2], [0.3, 1.0], [-1.0, -0.5]]), np.array([1.0, 1.0, -1.0])
    if target == "max_margin_l2_tiny":
        out = SANDBOX.call("max_margin", X=np.array([[3.06958548e-05]]), y=np.array([-1.0]), norm=np.array([0.5]))
    elif target == "max_margin_linf_tiny":  # scipy's "A_ub must not contain values inf, nan, or None"
        out = SANDBOX.call("max_margin", X=np.array([[9.36763146e-10]]), y=np.array([-1.0]), norm="linf")
    elif target == "shifted_diagonal_huge":  # ib.datasets.shifted_diagonal(2, delta=2**64): HiGHS "Model error"
        out = SANDBOX.call("dataset", _fn="shifted_diagonal", n=2, delta=2**64)
    else:
        out = SANDBOX.call(target, X=X * 1e-9, y=y, _separable=True)
    assert_clean(out, ("X", "y", "norm"))
    assert out.raised is None, out


# ib.train(X, y, ib.GD(), steps=10, checkpoints=10**10): MemoryError (a 75 GB grid for 11 steps)
@known("checkpoints-uncapped")
def test_checkpoints_are_capped_by_steps():
    X, y = np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([1.0, 1.0])
    out = SANDBOX.call("train", X=X, y=y, optimizer={"name": "GD"}, steps=10, checkpoints=10**10)
    assert out.raised is None, out
    assert_clean(out, RUN_ARGS)


# ib.train([[0.12573022]], [-1], ib.GD(), steps=1, lr=1e156): norm inf, margin_l2 0, no warning
@known("train-diagnostics-overflow")
@pytest.mark.parametrize(
    "X, lr", [(np.array([[0.12573022]]), 1e156), (np.array([[1.07889066e155]]), 0.1)], ids=["norm", "log-loss"]
)
def test_checkpoint_diagnostics_do_not_overflow_silently(X, lr):
    out = SANDBOX.call("train", X=X, y=np.array([-1.0]), optimizer={"name": "GD"}, steps=1, lr=lr, batch_size=1)
    assert_clean(out, RUN_ARGS)


# r = ib.Run([[0.12573022]], [-1], ib.GD(), w0=[-9.39e16]); r.advance(1); r.save(p); ib.Run.load(p) raises
@known("load-scale-exponent")
def test_a_saved_run_with_a_huge_margin_loads():
    out = SANDBOX.call(
        "run_cycle",
        X=np.array([[0.12573022]]),
        y=np.array([-1.0]),
        optimizer={"name": "GD"},
        w0=np.array([-9.39330045e16]),
        s1=1,
        s2=0,
        checkpoints=1,
    )
    assert out.raised is None, out
    assert_clean(out, RUN_ARGS)
