"""Bad inputs to ``implicit_bias.train`` and the optimizer / schedule constructors.

Every bad input must raise ValueError or TypeError with the argument's name in the message.
Hyper-parameter errors may be raised when the object is constructed or when train() is
called; both are inside the ``pytest.raises`` block.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

ib = pytest.importorskip("implicit_bias")

N, D = 7, 3
_rng = np.random.default_rng(0)
X_GOOD = _rng.standard_normal((N, D))
Y_GOOD = np.where(X_GOOD @ np.array([1.0, -2.0, 0.5]) >= 0, 1.0, -1.0)

ERR = (ValueError, TypeError)


def word(name: str) -> str:
    """Regex matching the argument name as a whole word."""
    return rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])"


def train(**kw):
    args = dict(X=X_GOOD, y=Y_GOOD, optimizer=ib.GD(), steps=5)
    args.update(kw)
    X, y, opt = args.pop("X"), args.pop("y"), args.pop("optimizer")
    return ib.train(X, y, opt, **args)


def test_good_call_works():
    traj = train()
    assert traj.steps[-1] == 5


# ---------------------------------------------------------------- X


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_X_non_finite(bad):
    X = X_GOOD.copy()
    X[2, 1] = bad
    with pytest.raises(ERR, match=word("X")):
        train(X=X)


def test_X_non_finite_longdouble():
    X = X_GOOD.astype(np.longdouble)
    X[0, 0] = np.longdouble("nan")
    with pytest.raises(ERR, match=word("X")):
        train(X=X, dtype=np.longdouble)


def test_X_ragged():
    X = [[1.0, 2.0, 3.0], [1.0, 2.0]] + [[0.5, 0.5, 0.5]] * 5
    with pytest.raises(ERR, match=word("X")):
        train(X=X)


@pytest.mark.parametrize("X", [X_GOOD[:, 0], X_GOOD[None, :, :], np.float64(1.0)], ids=["1d", "3d", "0d"])
def test_X_wrong_ndim(X):
    with pytest.raises(ERR, match=word("X")):
        train(X=X)


def test_X_complex():
    with pytest.raises(ERR, match=word("X")):
        train(X=X_GOOD.astype(np.complex128))


# ---------------------------------------------------------------- y


@pytest.mark.parametrize("m", [N - 1, N + 1])
def test_y_wrong_length(m):
    y = np.ones(m)
    with pytest.raises(ERR, match=word("y")):
        train(y=y)


@pytest.mark.parametrize(
    "y",
    [
        np.where(Y_GOOD > 0, 1.0, 0.0),  # {0, 1}
        np.where(Y_GOOD > 0, 2.0, -2.0),
        np.where(Y_GOOD > 0, 1.0, -0.5),
        np.concatenate([Y_GOOD[:-1], [math.nan]]),
    ],
    ids=["01", "pm2", "half", "nan"],
)
def test_y_bad_labels(y):
    with pytest.raises(ERR, match=word("y")):
        train(y=y)


def test_y_2d():
    with pytest.raises(ERR, match=word("y")):
        train(y=Y_GOOD[:, None])


def test_y_integer_labels_are_fine():
    traj = train(y=Y_GOOD.astype(np.int64))
    assert traj.steps[-1] == 5


# ---------------------------------------------------------------- optimizer hyper-parameters


BETA_CASES = [
    ("Adam", "beta1"),
    ("Adam", "beta2"),
    ("RMSProp", "beta2"),
    ("Lion", "beta1"),
    ("Lion", "beta2"),
    ("Signum", "beta"),
]


@pytest.mark.parametrize("value", [1.0, 1.5, -0.1, math.nan, math.inf])
@pytest.mark.parametrize("cls,arg", BETA_CASES)
def test_beta_outside_unit_interval(cls, arg, value):
    with pytest.raises(ERR, match=word(arg)):
        train(optimizer=getattr(ib, cls)(**{arg: value}))


@pytest.mark.parametrize("cls,arg", BETA_CASES)
def test_beta_zero_is_allowed(cls, arg):
    traj = train(optimizer=getattr(ib, cls)(**{arg: 0.0}))
    assert np.all(np.isfinite(traj.w))


@pytest.mark.parametrize("value", [-1e-8, -1.0, math.nan, math.inf])
@pytest.mark.parametrize("cls", ["Adam", "AdaGrad", "RMSProp"])
def test_eps_bad(cls, value):
    with pytest.raises(ERR, match=word("eps")):
        train(optimizer=getattr(ib, cls)(eps=value))


def test_beta_not_a_number_type():
    with pytest.raises(ERR, match=word("beta1")):
        train(optimizer=ib.Adam(beta1="0.9"))


def test_optimizer_not_an_optimizer():
    with pytest.raises(ERR, match=word("optimizer")):
        train(optimizer="adam")


# ---------------------------------------------------------------- batch_size / order / loss


@pytest.mark.parametrize("b", [0, -1, N + 1, 2.5, "3", True])
def test_batch_size_bad(b):
    with pytest.raises(ERR, match=word("batch_size")):
        train(batch_size=b)


@pytest.mark.parametrize("b", [1, N, np.int64(3)])
def test_batch_size_good(b):
    assert train(batch_size=b).steps[-1] == 5


@pytest.mark.parametrize("order", ["random", "", None, 1])
def test_order_unknown(order):
    with pytest.raises(ERR, match=word("order")):
        train(order=order)


@pytest.mark.parametrize("loss", ["hinge", "", None])
def test_loss_unknown(loss):
    with pytest.raises(ERR, match=word("loss")):
        train(loss=loss)


# ---------------------------------------------------------------- steps / checkpoints / seed


@pytest.mark.parametrize("steps", [-1, -(2**40), 2.5, "10", None])
def test_steps_bad(steps):
    with pytest.raises(ERR, match=word("steps")):
        train(steps=steps)


@pytest.mark.parametrize("c", [0, -3, 1.5])
def test_checkpoints_bad(c):
    with pytest.raises(ERR, match=word("checkpoints")):
        train(checkpoints=c)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5])
def test_seed_bad(seed):
    with pytest.raises(ERR, match=word("seed")):
        train(seed=seed)


# ---------------------------------------------------------------- dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float16, int, np.int64, np.complex128, "float32", "no-such-dtype"])
def test_dtype_bad(dtype):
    with pytest.raises(ERR, match=word("dtype")):
        train(dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble, "float64", np.dtype(np.longdouble)])
def test_dtype_good(dtype):
    assert train(dtype=dtype).w.dtype == np.dtype(dtype)


# ---------------------------------------------------------------- lr and schedules


@pytest.mark.parametrize("lr", [-0.1, math.nan, math.inf, "0.1", None])
def test_lr_bad(lr):
    with pytest.raises(ERR, match=word("lr")):
        train(lr=lr)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ib.schedules.constant(-0.1),
        lambda: ib.schedules.constant(math.nan),
        lambda: ib.schedules.polynomial(-0.1, 0.5),
        lambda: ib.schedules.step_decay(math.nan, 0.5, 10),
    ],
    ids=["const-neg", "const-nan", "poly-neg", "decay-nan"],
)
def test_schedule_eta0_bad(make):
    with pytest.raises(ERR, match=rf"{word('eta0')}|{word('lr')}"):
        train(lr=make())


@pytest.mark.parametrize("power", [0.0, -0.5, 1.0000001, 1.5, math.nan])
def test_polynomial_power_bad(power):
    with pytest.raises(ERR, match=word("power")):
        train(lr=ib.schedules.polynomial(0.1, power))


@pytest.mark.parametrize("power", [1e-6, 0.5, 1.0])
def test_polynomial_power_good(power):
    assert train(lr=ib.schedules.polynomial(0.1, power)).steps[-1] == 5


@pytest.mark.parametrize(
    "kw,arg",
    [
        (dict(factor=-0.5, every=10), "factor"),
        (dict(factor=math.nan, every=10), "factor"),
        (dict(factor=0.5, every=0), "every"),
        (dict(factor=0.5, every=2.5), "every"),
    ],
)
def test_step_decay_bad(kw, arg):
    with pytest.raises(ERR, match=word(arg)):
        train(lr=ib.schedules.step_decay(0.1, **kw))


# ---------------------------------------------------------------- w0


@pytest.mark.parametrize(
    "w0",
    [np.zeros(D + 1), np.zeros(D - 1), np.zeros((D, 1)), np.zeros((1, D)), np.float64(0.0), [0.0] * (D + 1)],
    ids=["long", "short", "col", "row", "scalar", "list"],
)
def test_w0_wrong_shape(w0):
    with pytest.raises(ERR, match=word("w0")):
        train(w0=w0)


def test_w0_non_finite():
    with pytest.raises(ERR, match=word("w0")):
        train(w0=np.array([0.0, math.nan, 0.0]))


def test_w0_good_list():
    a = train(w0=[0.1, 0.2, 0.3], steps=3, lr=0.05)
    b = train(w0=np.array([0.1, 0.2, 0.3]), steps=3, lr=0.05)
    c = train(steps=3, lr=0.05)
    np.testing.assert_array_equal(a.w, b.w)
    assert not np.array_equal(a.w[-1], c.w[-1])


def test_integral_float_steps_and_batch_size_n_as_the_cli_accepts() -> None:
    a = train(steps=1e3, batch_size="n", lr=0.05)
    b = train(steps=1000, batch_size=None, lr=0.05)
    np.testing.assert_array_equal(a.w, b.w)
    with pytest.raises(ERR, match=word("steps")):
        train(steps=1e3 + 0.5)
    with pytest.raises(ERR, match=word("steps")):
        train(steps=2.0**64)  # beyond the 64-bit signed step counter
    with pytest.raises(ERR, match=word("batch_size")):
        train(batch_size="all")
