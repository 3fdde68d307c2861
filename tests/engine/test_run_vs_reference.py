"""The compiled engine (``implicit_bias.train``) against the NumPy reference (tests/reference.py).

Every optimizer x every order x batch sizes {1, 3, n-1, n} (n = 7, so 3 does not divide n)
x {float64, long double}, logistic loss on d = 3; a subset with the exponential loss on d = 5.
``traj.w`` is compared with the reference at every checkpoint ``traj.steps[k]``.

Also: a large-margin regime (every |l'(u)| tiny: catches 1 - sigmoid(u) and a loss derivative
computed in double during a long-double run), seeds over the full 64-bit range, defaults,
dtype inference, Adam(bias_correction=True, eps=1e-8) against the PyTorch update written out,
and short random configurations (hypothesis) with arbitrary n, d, batch size and seed.

The grid configurations (data seed, learning rates, betas) were chosen so that the runs are
well-conditioned: the float64 and long-double reference runs agree to 5e-14 or better, i.e.
rounding differences are not amplified. (Full-batch adaptive methods with eps = 0 on
NON-separable data are chaotic -- float64 and long double part ways after a few hundred
steps -- so the data are separable by construction.) Run
``python3 tests/test_train_vs_reference.py`` to print that conditioning report.
"""

from __future__ import annotations

import functools
import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402

N_SAMPLES = 7
STEPS = 2000
CHECKPOINTS = 40
SEED = 12345
ORDERS = ("cyclic", "reshuffle", "replacement")
BATCHES = (1, 3, N_SAMPLES - 1, N_SAMPLES)
DTYPES = {"f64": np.float64, "f80": np.longdouble}
TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.longdouble): 1e-15}


def make_data(seed: int, d: int, n: int = N_SAMPLES):
    """Gaussian rows, labels from a random teacher (so the set is separable), small random w0."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    wt = rng.standard_normal(d)
    y = np.where(X @ wt >= 0, 1.0, -1.0)
    w0 = 0.1 * rng.standard_normal(d)
    return X, y, w0


DATA = {"d3": make_data(10, 3), "d5": make_data(10, 5)}


# name -> (engine optimizer factory, reference optimizer factory, schedule spec)
# schedule spec: ("float", eta) | ("constant", eta0) | ("polynomial", eta0, power)
#                | ("step_decay", eta0, factor, every)
LOGISTIC = {
    "GD": (lambda ib: ib.GD(), lambda: R.GD(), ("step_decay", 0.2, 0.5, 600)),
    "SignGD": (lambda ib: ib.SignGD(), lambda: R.SignGD(), ("polynomial", 0.05, 0.5)),
    "Adam": (
        lambda ib: ib.Adam(beta1=0.9, beta2=0.999, eps=0.0, bias_correction=False),
        lambda: R.Adam(0.9, 0.999, 0.0, False),
        ("float", 0.01),
    ),
    "AdamBC": (
        lambda ib: ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True),
        lambda: R.Adam(0.9, 0.999, 1e-8, True),
        ("polynomial", 0.01, 0.5),
    ),
    "RMSProp": (lambda ib: ib.RMSProp(beta2=0.999, eps=0.0), lambda: R.RMSProp(0.999, 0.0), ("float", 0.01)),
    "AdaGrad": (lambda ib: ib.AdaGrad(eps=1e-3), lambda: R.AdaGrad(1e-3), ("constant", 0.1)),
    "Signum": (lambda ib: ib.Signum(beta=0.9), lambda: R.Signum(0.9), ("polynomial", 0.1, 1.0)),
    "Lion": (lambda ib: ib.Lion(beta1=0.9, beta2=0.99), lambda: R.Lion(0.9, 0.99), ("step_decay", 0.02, 0.7, 500)),
    "AdamProxy": (lambda ib: ib.AdamProxy(), lambda: R.AdamProxy(), ("polynomial", 0.05, 0.5)),
}

EXPONENTIAL = {
    "GD": (lambda ib: ib.GD(), lambda: R.GD(), ("constant", 0.05)),
    "Adam": (
        lambda ib: ib.Adam(beta1=0.9, beta2=0.999, eps=0.0, bias_correction=False),
        lambda: R.Adam(0.9, 0.999, 0.0, False),
        ("float", 0.01),
    ),
    "Signum": (lambda ib: ib.Signum(beta=0.9), lambda: R.Signum(0.9), ("polynomial", 0.1, 1.0)),
    "AdamProxy": (lambda ib: ib.AdamProxy(), lambda: R.AdamProxy(), ("polynomial", 0.05, 0.5)),
}
EXP_BATCHES = (1, 3, N_SAMPLES)


def engine_lr(ib, spec):
    kind, *args = spec
    if kind == "float":
        return float(args[0])
    return getattr(ib.schedules, kind)(*args)


def reference_lr(spec):
    kind, *args = spec
    return {"float": R.Constant, "constant": R.Constant, "polynomial": R.Polynomial, "step_decay": R.StepDecay}[kind](
        *args
    )


@functools.cache
def reference_run(
    table: str,
    name: str,
    loss: str,
    data: str,
    order: str,
    b: int,
    dtname: str,
    steps: int,
    record: tuple,
    seed: int = SEED,
):
    _, mk_ref, lr = (LOGISTIC if table == "logistic" else EXPONENTIAL)[name]
    X, y, w0 = DATA[data]
    return R.run(
        X,
        y,
        mk_ref(),
        steps,
        batch_size=b,
        order=order,
        lr=reference_lr(lr),
        loss=loss,
        dtype=np.dtype(dtname).type,
        seed=seed,
        w0=w0,
        record=record,
    )


# --------------------------------------------------------------------------------------
# Checks on a trajectory
# --------------------------------------------------------------------------------------


def rel_err(a, b) -> float:
    a = np.asarray(a, dtype=np.longdouble)
    b = np.asarray(b, dtype=np.longdouble)
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (nb if nb > 0 else 1))


def check_structure(traj, steps: int, d: int, dtype, checkpoints: int = CHECKPOINTS):
    dt = np.dtype(dtype)
    s = np.asarray(traj.steps)
    assert s.dtype == np.int64, f"traj.steps dtype {s.dtype}"
    assert s.ndim == 1 and 1 <= len(s) <= checkpoints + 2, f"traj.steps has shape {s.shape}"
    assert s[-1] == steps, f"last checkpoint {s[-1]} != steps {steps}"
    assert np.all(np.diff(s) > 0), f"traj.steps not strictly increasing: {s}"
    assert s[0] >= 0
    assert traj.w.dtype == dt, f"traj.w dtype {traj.w.dtype}, run dtype {dt}"
    assert traj.w.shape == (len(s), d)
    for attr in ("norm", "log_loss", "margin_l2", "margin_linf", "min_margin"):
        arr = getattr(traj, attr)
        assert arr.shape == (len(s),), f"traj.{attr} shape {arr.shape}"
        assert arr.dtype == dt, f"traj.{attr} dtype {arr.dtype}, run dtype {dt}"


def compare_w(traj, ref: R.RunResult, tol: float, label: str, path_scale: bool = False):
    """Relative error ||w_engine - w_ref|| / ||w_ref|| at every checkpoint.

    path_scale=True divides instead by the largest ||w_ref|| seen so far on the recorded path
    (for short random runs whose w may pass close to 0, where ||w_ref|| alone is meaningless).
    """
    worst = 0.0
    running = 0.0
    for k, step in enumerate(np.asarray(traj.steps)):
        if path_scale:
            running = max([running] + [float(np.linalg.norm(v)) for s, v in ref.w.items() if s <= step])
            diff = np.asarray(traj.w[k], dtype=np.longdouble) - np.asarray(ref.w[int(step)], dtype=np.longdouble)
            e = float(np.linalg.norm(diff)) / (running if running > 0 else 1.0)
        else:
            e = rel_err(traj.w[k], ref.w[int(step)])
        worst = max(worst, e)
        if not e <= tol:
            raise AssertionError(
                f"{label}: engine and reference diverge at checkpoint step {int(step)} "
                f"(k={k}): relative error {e:.3e} > {tol:.0e}\n"
                f"  engine    w = {traj.w[k]!r}\n  reference w = {ref.w[int(step)]!r}\n"
                f"  previous checkpoint step {int(traj.steps[k - 1]) if k else None} was within tol"
            )
    return worst


def metrics_from_w(W, Z, loss):
    """Independent recomputation of the trajectory columns from traj.w (vectorized over K)."""
    dt = W.dtype.type
    U = W @ Z.T  # (K, n) margins
    n = Z.shape[0]
    if loss == "logistic":
        big = U > 30
        Ub = np.where(big, U, dt(30))
        Us = np.where(big, dt(0), U)
        # log l(u) = log(logaddexp(0, -u)); for large u use -u + log1p(-exp(-u)/2 + exp(-2u)/3)
        eb = np.exp(-Ub)
        logl = np.where(big, -U + np.log1p(-eb / dt(2) + eb * eb / dt(3)), np.log(np.logaddexp(dt(0), -Us)))
    else:
        logl = -U
    mx = np.max(logl, axis=1)
    log_loss = mx + np.log(np.sum(np.exp(logl - mx[:, None]), axis=1)) - np.log(dt(n))
    mn = np.min(U, axis=1)
    n2 = np.sqrt(np.sum(W * W, axis=1))
    ninf = np.max(np.abs(W), axis=1)
    return dict(norm=n2, log_loss=log_loss, min_margin=mn, margin_l2=mn / n2, margin_linf=mn / ninf)


def compare_metrics(traj, X, y, loss, tol, label):
    dt = traj.w.dtype.type
    Z = np.asarray(y, dtype=dt)[:, None] * np.asarray(X, dtype=dt)
    W = np.asarray(traj.w)
    m = metrics_from_w(W, Z, loss)
    zmax2 = np.max(np.sqrt(np.sum(Z * Z, axis=1)))
    zmax1 = np.max(np.sum(np.abs(Z), axis=1))
    ok = m["norm"] > 0  # normalized margins are undefined at w = 0
    scale = {
        "norm": np.abs(m["norm"]),
        "log_loss": np.maximum(1, np.abs(m["log_loss"])),
        "min_margin": np.abs(m["min_margin"]) + m["norm"] * zmax2,
        "margin_l2": np.abs(m["margin_l2"]) + zmax2,
        "margin_linf": np.abs(m["margin_linf"]) + zmax1,
    }
    for key, expected in m.items():
        got = np.asarray(getattr(traj, key), dtype=dt)
        err = np.abs(got - expected)
        bad = ok & ~(err <= tol * scale[key])
        if np.any(bad):
            k = int(np.argmax(bad))
            raise AssertionError(
                f"{label}: traj.{key} at step {int(traj.steps[k])}: engine {got[k]!r}, "
                f"recomputed from traj.w {expected[k]!r} (|diff| {err[k]:.3e}, tol {tol:.0e} x scale)"
            )


def run_and_compare(table, name, order, b, dtname, loss, data, steps=STEPS, seed=SEED):
    ib = pytest.importorskip("implicit_bias")
    mk_eng, _, lr = (LOGISTIC if table == "logistic" else EXPONENTIAL)[name]
    dtype = DTYPES[dtname]
    X, y, w0 = DATA[data]
    d = X.shape[1]
    traj = ib.train(
        X.astype(dtype),
        y,
        mk_eng(ib),
        steps=steps,
        batch_size=b,
        order=order,
        lr=engine_lr(ib, lr),
        loss=loss,
        dtype=dtype,
        checkpoints=CHECKPOINTS,
        seed=seed,
        w0=w0.astype(dtype),
    )
    check_structure(traj, steps, d, dtype)
    record = tuple(int(s) for s in traj.steps)
    # AdamProxy ignores batch_size and order: one reference run serves all of them
    r_order, r_b = ("cyclic", N_SAMPLES) if name == "AdamProxy" else (order, b)
    ref = reference_run(table, name, loss, data, r_order, r_b, np.dtype(dtype).name, steps, record, seed)
    # the reference itself is only exact while gradients stay far from underflow
    assert ref.min_abs_grad > 1e-60, "test configuration left the reference's exact regime"
    tol = TOL[np.dtype(dtype)]
    label = f"{name} loss={loss} order={order} b={b} dtype={dtname} data={data}"
    compare_w(traj, ref, tol, label)
    compare_metrics(traj, X, y, loss, tol, label)
    return traj


# --------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtname", list(DTYPES))
@pytest.mark.parametrize("b", BATCHES)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", list(LOGISTIC))
def test_logistic_matches_reference(name, order, b, dtname):
    run_and_compare("logistic", name, order, b, dtname, "logistic", "d3")


@pytest.mark.parametrize("dtname", list(DTYPES))
@pytest.mark.parametrize("b", EXP_BATCHES)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", list(EXPONENTIAL))
def test_exponential_matches_reference(name, order, b, dtname):
    run_and_compare("exponential", name, order, b, dtname, "exponential", "d5")


# --------------------------------------------------------------------------------------
# Large margins: every |l'(u_i)| is tiny. Catches 1 - sigmoid(u) (0 in double from u ~ 37,
# in long double from u ~ 44) and a loss derivative computed in double in a long-double run
# (exp(-800) is 0 in double). Scale-invariant optimizers still move w by O(lr) per step.
# --------------------------------------------------------------------------------------

LARGE_MARGIN_DIRECTION = np.array([5.607, 5.816, 3.378, 0.1186, -0.6627])  # separates DATA["d5"]
LARGE_MARGIN = {
    "Adam": (lambda ib: ib.Adam(), lambda: R.Adam(0.9, 0.999, 0.0, False)),
    "RMSProp": (lambda ib: ib.RMSProp(), lambda: R.RMSProp(0.99, 0.0)),
    "AdaGrad": (lambda ib: ib.AdaGrad(), lambda: R.AdaGrad(0.0)),
    "SignGD": (lambda ib: ib.SignGD(), lambda: R.SignGD()),
    "Signum": (lambda ib: ib.Signum(), lambda: R.Signum(0.9)),
    "Lion": (lambda ib: ib.Lion(), lambda: R.Lion(0.9, 0.99)),
    "AdamProxy": (lambda ib: ib.AdamProxy(), lambda: R.AdamProxy()),
}


@pytest.mark.parametrize("dtname,min_margin", [("f64", 40.0), ("f80", 40.0), ("f80", 800.0)])
@pytest.mark.parametrize("order,b", [("cyclic", 1), ("reshuffle", 3), ("cyclic", N_SAMPLES)])
@pytest.mark.parametrize("name", list(LARGE_MARGIN))
def test_large_margins_match_reference(name, order, b, dtname, min_margin):
    ib = pytest.importorskip("implicit_bias")
    dtype = DTYPES[dtname]
    dt = np.dtype(dtype).type
    X, y, _ = DATA["d5"]
    Z = y[:, None] * X
    u = Z @ LARGE_MARGIN_DIRECTION
    assert np.all(u > 0)
    w0 = (LARGE_MARGIN_DIRECTION * (min_margin / np.min(u))).astype(dtype)
    mk_eng, mk_ref = LARGE_MARGIN[name]
    steps = 1000
    traj = ib.train(
        X.astype(dtype),
        y,
        mk_eng(ib),
        steps=steps,
        batch_size=b,
        order=order,
        lr=0.01,
        dtype=dtype,
        checkpoints=20,
        seed=3,
        w0=w0,
    )
    check_structure(traj, steps, 5, dtype, checkpoints=20)
    ref = R.run(
        X,
        y,
        mk_ref(),
        steps,
        batch_size=b,
        order=order,
        lr=0.01,
        dtype=dtype,
        seed=3,
        w0=w0,
        record=[int(s) for s in traj.steps],
    )
    # the reference is exact while g**2 stays a normal number
    assert ref.min_abs_grad**2 > dt(np.finfo(dtype).tiny) * dt(1e10)
    assert np.linalg.norm((ref.final - w0).astype(np.float64)) > 0.3  # w really moved
    label = f"large margins {name} order={order} b={b} dtype={dtname} min margin {min_margin}"
    tol = TOL[np.dtype(dtype)]
    compare_w(traj, ref, tol, label)
    compare_metrics(traj, X, y, "logistic", tol, label)
    assert np.all(np.asarray(traj.log_loss) < -min_margin + 1)  # log space, not rounded to -inf


# --------------------------------------------------------------------------------------
# Property-based: random shapes (n, d), batch sizes, seeds, short runs
# --------------------------------------------------------------------------------------


@st.composite
def _random_config(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 6))
    return dict(
        n=n,
        d=d,
        b=draw(st.integers(1, n)),
        order=draw(st.sampled_from(ORDERS)),
        name=draw(st.sampled_from(sorted(LOGISTIC))),
        loss=draw(st.sampled_from(["logistic", "exponential"])),
        dtname=draw(st.sampled_from(sorted(DTYPES))),
        seed=draw(st.integers(0, 2**64 - 1)),
        steps=draw(st.integers(1, 60)),
        data_seed=draw(st.integers(0, 2**32 - 1)),
    )


@pytest.mark.filterwarnings("ignore::implicit_bias.errors.NotSeparableWarning")  # random data
@settings(
    max_examples=int(os.environ.get("IB_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cfg=_random_config())
def test_random_short_runs_match_reference(cfg):
    ib = pytest.importorskip("implicit_bias")
    rng = np.random.default_rng(cfg["data_seed"])
    X = rng.standard_normal((cfg["n"], cfg["d"]))
    y = rng.choice([-1.0, 1.0], cfg["n"])
    w0 = 0.1 * rng.standard_normal(cfg["d"])
    dtype = DTYPES[cfg["dtname"]]
    mk_eng, mk_ref, lr = LOGISTIC[cfg["name"]]
    with np.errstate(all="ignore"):  # exponential loss may blow up on non-separable data
        ref_all = R.run(
            X,
            y,
            mk_ref(),
            cfg["steps"],
            batch_size=cfg["b"],
            order=cfg["order"],
            lr=reference_lr(lr),
            loss=cfg["loss"],
            dtype=dtype,
            seed=cfg["seed"],
            w0=w0,
            record=range(cfg["steps"] + 1),
        )
    assume(np.all(np.isfinite(ref_all.final)) and ref_all.min_abs_grad > 1e-60)
    traj = ib.train(
        X.astype(dtype),
        y,
        mk_eng(ib),
        steps=cfg["steps"],
        batch_size=cfg["b"],
        order=cfg["order"],
        lr=engine_lr(ib, lr),
        loss=cfg["loss"],
        dtype=dtype,
        checkpoints=10,
        seed=cfg["seed"],
        w0=w0.astype(dtype),
    )
    check_structure(traj, cfg["steps"], cfg["d"], dtype, checkpoints=10)
    compare_w(traj, ref_all, TOL[np.dtype(dtype)], f"random config {cfg}", path_scale=True)


# --------------------------------------------------------------------------------------
# Seeds, defaults, dtype inference
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2**32 + 7, 2**63, 2**64 - 1])
@pytest.mark.parametrize("order", ["reshuffle", "replacement"])
def test_seeds_over_the_full_64_bit_range(seed, order):
    ib = pytest.importorskip("implicit_bias")
    X, y, w0 = DATA["d3"]
    traj = ib.train(X, y, ib.GD(), steps=300, batch_size=3, order=order, lr=0.1, checkpoints=10, seed=seed, w0=w0)
    ref = R.run(
        X, y, R.GD(), 300, batch_size=3, order=order, lr=0.1, seed=seed, w0=w0, record=[int(s) for s in traj.steps]
    )
    compare_w(traj, ref, 1e-12, f"GD order={order} seed={seed}")


def test_seed_changes_the_sampling():
    ib = pytest.importorskip("implicit_bias")
    X, y, w0 = DATA["d3"]
    a = ib.train(X, y, ib.GD(), steps=50, batch_size=1, order="reshuffle", seed=1, w0=w0)
    b = ib.train(X, y, ib.GD(), steps=50, batch_size=1, order="reshuffle", seed=2, w0=w0)
    assert rel_err(a.w[-1], b.w[-1]) > 1e-6


def test_defaults_match_reference_defaults():
    """batch_size=None -> n, order cyclic, lr 0.1, logistic, float64, seed 0, w0 = 0."""
    ib = pytest.importorskip("implicit_bias")
    X, y, _ = DATA["d3"]
    traj = ib.train(X, y, ib.GD(), steps=500)
    check_structure(traj, 500, 3, np.float64, checkpoints=200)
    ref = R.run(X, y, R.GD(), 500, record=[int(s) for s in traj.steps])
    compare_w(traj, ref, 1e-12, "GD defaults")
    compare_metrics(traj, X, y, "logistic", 1e-12, "GD defaults")
    # default seed is 0
    traj = ib.train(X, y, ib.GD(), steps=300, batch_size=2, order="replacement")
    ref = R.run(X, y, R.GD(), 300, batch_size=2, order="replacement", seed=0, record=[int(s) for s in traj.steps])
    compare_w(traj, ref, 1e-12, "GD replacement default seed")


@pytest.mark.parametrize("name", ["Adam", "Signum", "AdaGrad", "RMSProp", "Lion"])
def test_optimizer_default_hyperparameters(name):
    ib = pytest.importorskip("implicit_bias")
    refs = {
        "Adam": R.Adam(0.9, 0.999, 0.0, False),
        "Signum": R.Signum(0.9),
        "AdaGrad": R.AdaGrad(0.0),
        "RMSProp": R.RMSProp(0.99, 0.0),
        "Lion": R.Lion(0.9, 0.99),
    }
    X, y, w0 = DATA["d3"]
    traj = ib.train(X, y, getattr(ib, name)(), steps=1000, batch_size=1, order="cyclic", lr=0.01, checkpoints=20, w0=w0)
    ref = R.run(
        X, y, refs[name], 1000, batch_size=1, order="cyclic", lr=0.01, w0=w0, record=[int(s) for s in traj.steps]
    )
    compare_w(traj, ref, 1e-12, f"{name}() defaults")


@pytest.mark.parametrize(
    "xkind,expected",
    [("f64", np.float64), ("f80", np.longdouble), ("f32", np.float64), ("int", np.float64), ("list", np.float64)],
)
def test_dtype_inferred_from_X(xkind, expected):
    ib = pytest.importorskip("implicit_bias")
    X, y, _ = DATA["d3"]
    Xi = np.round(X * 4)
    Xi[Xi == 0] = 1
    Xin = {
        "f64": X,
        "f80": X.astype(np.longdouble),
        "f32": X.astype(np.float32),
        "int": Xi.astype(np.int64),
        "list": X.tolist(),
    }[xkind]
    traj = ib.train(Xin, y, ib.GD(), steps=20, checkpoints=5)
    assert traj.w.dtype == np.dtype(expected)
    assert traj.norm.dtype == np.dtype(expected)
    Xr = np.asarray(Xin, dtype=expected)
    ref = R.run(Xr, y, R.GD(), 20, dtype=expected, record=[int(s) for s in traj.steps])
    compare_w(traj, ref, TOL[np.dtype(expected)], f"GD dtype inference {xkind}")


def test_longdouble_run_is_more_accurate_than_float64():
    """The long-double run is really computed in long double (not float64 widened)."""
    ib = pytest.importorskip("implicit_bias")
    X, y, w0 = DATA["d3"]
    kw = dict(steps=1000, batch_size=3, order="reshuffle", lr=0.05, checkpoints=5, w0=w0)
    t64 = ib.train(X, y, ib.GD(), dtype=np.float64, **kw)
    t80 = ib.train(X, y, ib.GD(), dtype=np.longdouble, **kw)
    r80 = R.run(X, y, R.GD(), 1000, batch_size=3, order="reshuffle", lr=0.05, w0=w0, dtype=np.longdouble)
    e64 = rel_err(t64.w[-1], r80.final)
    e80 = rel_err(t80.w[-1], r80.final)
    assert e64 > 0
    assert e80 < e64 / 100, (e64, e80)


def test_zero_steps():
    """steps=0 is valid. The engine may return an empty trajectory; if it returns checkpoints,
    the last one is step 0 with w = w0."""
    ib = pytest.importorskip("implicit_bias")
    X, y, w0 = DATA["d3"]
    traj = ib.train(X, y, ib.Adam(), steps=0, w0=w0)
    assert traj.w.shape[1:] == (3,) and len(traj.steps) == traj.w.shape[0]
    if len(traj.steps):
        assert traj.steps[-1] == 0
        np.testing.assert_array_equal(traj.w[-1], w0)


@pytest.mark.filterwarnings("ignore::implicit_bias.errors.NotSeparableWarning")  # random data
def test_zero_feature_gets_no_update():
    """A coordinate whose gradient is always 0 (vhat = 0 / P = 0) is never moved, never NaN."""
    ib = pytest.importorskip("implicit_bias")
    X, y, w0 = DATA["d3"]
    X = X.copy()
    X[:, 1] = 0.0
    for opt in (
        ib.Adam(),
        ib.Adam(eps=1e-8, bias_correction=True),
        ib.AdaGrad(),
        ib.RMSProp(),
        ib.AdamProxy(),
        ib.SignGD(),
        ib.Signum(),
        ib.Lion(),
    ):
        traj = ib.train(X, y, opt, steps=200, batch_size=2, order="cyclic", lr=0.01, w0=w0, checkpoints=5)
        assert np.all(np.isfinite(traj.w)), repr(opt)
        assert np.all(traj.w[:, 1] == w0[1]), repr(opt)


# --------------------------------------------------------------------------------------
# Adam with bias correction = torch.optim.Adam, formula written out explicitly
# --------------------------------------------------------------------------------------


def torch_adam_formula(X, y, steps, b, lr_of_t, beta1, beta2, eps, w0, dt, record):
    """torch.optim.Adam (amsgrad=False, weight_decay=0) single-tensor update, cyclic batches.

    step_size = lr / (1 - beta1**k); denom = sqrt(v) / sqrt(1 - beta2**k) + eps;
    w -= step_size * m / denom, with k = t + 1. Logistic loss, mean over the batch.
    """
    X = np.asarray(X, dtype=dt)
    y = np.asarray(y, dtype=dt)
    Z = y[:, None] * X
    n, d = Z.shape
    one = dt(1)
    b1, b2, ep = dt(beta1), dt(beta2), dt(eps)
    w = np.asarray(w0, dtype=dt).copy()
    m = np.zeros(d, dtype=dt)
    v = np.zeros(d, dtype=dt)
    out = {0: w.copy()}
    nb = -(-n // b)
    for t in range(steps):
        k = (t % nb) * b
        Zb = Z[k : min(k + b, n)]
        u = Zb @ w
        e = np.exp(-np.abs(u))
        sig = np.where(u >= 0, e / (one + e), one / (one + e))  # sigmoid(-u), stable
        grad = -np.mean(sig[:, None] * Zb, axis=0)
        m = b1 * m + (one - b1) * grad  # exp_avg.lerp_(grad, 1 - beta1)
        v = b2 * v + (one - b2) * grad * grad  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1-beta2)
        step = t + 1
        bias_correction1 = one - b1 ** dt(step)
        bias_correction2 = one - b2 ** dt(step)
        step_size = lr_of_t(t, dt) / bias_correction1
        denom = np.sqrt(v) / np.sqrt(bias_correction2) + ep
        w = w - step_size * (m / denom)
        if t + 1 in record:
            out[t + 1] = w.copy()
    return out


@pytest.mark.parametrize("dtname", list(DTYPES))
@pytest.mark.parametrize(
    "b,sched",
    [
        (1, ("float", 0.01)),
        (1, ("polynomial", 0.01, 0.5)),
        (3, ("polynomial", 0.02, 0.5)),
        (7, ("constant", 0.01)),
        (7, ("polynomial", 0.01, 0.5)),
    ],
)
def test_adam_bias_correction_equals_pytorch_formula(b, sched, dtname):
    ib = pytest.importorskip("implicit_bias")
    dtype = DTYPES[dtname]
    X, y, w0 = DATA["d3"]
    traj = ib.train(
        X,
        y,
        ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True),
        steps=1500,
        batch_size=b,
        order="cyclic",
        lr=engine_lr(ib, sched),
        dtype=dtype,
        checkpoints=20,
        w0=w0,
    )
    record = {int(s) for s in traj.steps}
    want = torch_adam_formula(X, y, 1500, b, reference_lr(sched), 0.9, 0.999, 1e-8, w0, np.dtype(dtype).type, record)
    tol = TOL[np.dtype(dtype)]
    for k, s in enumerate(traj.steps):
        e = rel_err(traj.w[k], want[int(s)])
        assert e <= tol, (
            f"Adam(bias_correction) vs PyTorch formula, b={b} {sched} {dtname}: step {int(s)} rel err {e:.3e}"
        )


# --------------------------------------------------------------------------------------
# Conditioning report (not a test): float64 vs long-double reference for every grid config
# --------------------------------------------------------------------------------------


def _conditioning_report():  # pragma: no cover
    rec = tuple(range(0, STEPS + 1, 50))
    for table, configs, data, batches in (
        ("logistic", LOGISTIC, "d3", BATCHES),
        ("exponential", EXPONENTIAL, "d5", EXP_BATCHES),
    ):
        for name in configs:
            for order in ORDERS:
                for b in batches:
                    a = reference_run(table, name, table, data, order, b, "float64", STEPS, rec)
                    c = reference_run(table, name, table, data, order, b, "longdouble", STEPS, rec)
                    e = max(rel_err(a.w[s], c.w[s]) for s in rec)
                    flag = "  <-- ill-conditioned" if e > 1e-13 else ""
                    print(
                        f"{table:11s} {name:9s} {order:11s} b={b} f64-vs-f80 {e:.1e} "
                        f"min|g| {a.min_abs_grad:.1e} max|u| {a.max_abs_margin:.0f}{flag}"
                    )


if __name__ == "__main__":  # pragma: no cover
    _conditioning_report()
