"""AdamEpochMap, SPEC's epoch map ("Beyond the original study"; Prop. 2.5 of the study).

One engine step = one epoch of the K = ceil(n/b) batches of the fixed cyclic partition (the last
batch smaller when b does not divide n), every batch gradient g_j (the mean over the batch) taken
at the epoch's starting w:

    w <- w - eta_t sum_i [sum_j beta1^((i-j) mod K) g_j] / sqrt(sum_j beta2^((i-j) mod K) g_j^2)

elementwise, a coordinate whose denominator is 0 getting no update from that i. The reference
below evaluates exactly this, directly (O(K^2 d), no recurrence, no rescaling), in the run dtype.
It is written from SPEC.md and does not use the package.
"""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias.optimizers import AdamEpochMap

# ----------------------------------------------------------------------------- independent reference


def abs_dloss(u, loss, dtype):
    """|l'(u)| for an array of margins, stable for every u, in ``dtype``."""
    one = dtype(1)
    out = np.empty_like(u)
    for k, uk in enumerate(u):
        if loss == "exponential":
            out[k] = np.exp(-uk)
        elif uk > 0:
            e = np.exp(-uk)
            out[k] = e / (one + e)
        else:
            out[k] = one / (one + np.exp(uk))
    return out


def epoch_map_step(Z, w, lr, beta1, beta2, batch_size, loss, dtype):
    """One epoch of the map at w, by the direct double sum."""
    n, d = Z.shape
    K = -(-n // batch_size)
    a = abs_dloss(Z @ w, loss, dtype)
    g = []
    for j in range(K):
        rows = range(j * batch_size, min(n, (j + 1) * batch_size))
        total = np.zeros(d, dtype)
        for i in rows:
            total = total - a[i] * Z[i]
        g.append(total / dtype(len(rows)))
    b1, b2 = dtype(beta1), dtype(beta2)
    step = np.zeros(d, dtype)
    for i in range(K):
        num = np.zeros(d, dtype)
        den = np.zeros(d, dtype)
        for j in range(K):
            lag = (i - j) % K
            num = num + b1**lag * g[j]
            den = den + b2**lag * g[j] ** 2
        for k in range(d):
            if den[k] > 0:
                step[k] += num[k] / np.sqrt(den[k])
    return w - dtype(lr) * step


def reference_run(X, y, beta1, beta2, steps, batch_size, eta0, power, loss, dtype, w0):
    """Iterates w_0 .. w_steps of the map with lr eta0 (t+1)^-power."""
    Z = (y[:, None] * X).astype(dtype)
    w = np.asarray(w0, dtype)
    out = [w]
    for t in range(steps):
        lr = dtype(eta0) * dtype(t + 1) ** (-dtype(power))
        w = epoch_map_step(Z, w, lr, beta1, beta2, batch_size, loss, dtype)
        out.append(w)
    return out


# ----------------------------------------------------------------------------- data


def gaussian(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)
    return X, y


def repeated_rows():
    X, y = gaussian(5, 4, seed=7)
    order = [0, 1, 0, 2, 3, 3, 4, 0]  # row 0 three times, row 3 twice, copies not adjacent
    return X[order], y[order]


def zero_column():
    X, y = gaussian(6, 4, seed=2)
    X[:, 2] = 0.0  # no sample touches coordinate 2: its denominator is 0 for every i
    return X, y


# (name, data, batch_size, K)
CASES = [
    ("b_divides_n", gaussian(6, 4, seed=1), 2, 3),
    ("b_not_dividing_n", gaussian(7, 5, seed=3), 3, 3),  # batches of 3, 3, 1
    ("b_not_dividing_n_large_last", gaussian(11, 3, seed=4), 4, 3),  # 4, 4, 3
    ("b1_incremental", gaussian(9, 4, seed=5), 1, 9),
    ("b_equals_n", gaussian(6, 4, seed=6), 6, 1),
    ("repeated_rows", repeated_rows(), 3, 3),
    ("repeated_rows_b1", repeated_rows(), 1, 8),
    ("zero_column", zero_column(), 2, 3),
]
BETAS = [(0.9, 0.999), (0.5, 0.8), (0.0, 0.95), (0.9, 0.5)]  # last: beta1 > beta2 (allowed to run)
TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.longdouble): 1e-12}


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
@pytest.mark.parametrize("loss", ["logistic", "exponential"])
@pytest.mark.parametrize("betas", BETAS, ids=lambda b: f"b1={b[0]}-b2={b[1]}")
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_engine_equals_direct_double_sum(case, betas, loss, dtype):
    _, (X, y), b, K = case
    beta1, beta2 = betas
    assert -(-X.shape[0] // b) == K
    steps, eta0, power = 6, 0.05, 0.5
    w0 = np.random.default_rng(0).uniform(-0.2, 0.2, X.shape[1])
    if K == 1 or case[0] == "zero_column":
        w0[2 if case[0] == "zero_column" else 0] = 0.0
    ref = reference_run(X, y, beta1, beta2, steps, b, eta0, power, loss, dtype, w0)
    run = ib.Run(
        X,
        y,
        AdamEpochMap(beta1=beta1, beta2=beta2),
        batch_size=b,
        loss=loss,
        dtype=dtype,
        lr=ib.schedules.polynomial(eta0, power),
        w0=w0,
    )
    tol = TOL[np.dtype(dtype)]
    for t in range(1, steps + 1):
        run.advance(1)
        w = run.w
        assert w.dtype == np.dtype(dtype)
        rel = np.linalg.norm(w - ref[t]) / np.linalg.norm(ref[t])
        assert rel <= tol, f"step {t}: relative error {float(rel):.2e}"
    if case[0] == "zero_column":
        assert run.w[2] == 0.0  # denominator 0 for every i: no update, never NaN


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_long_double_engine_is_computed_in_long_double(dtype):
    # The long-double engine must agree with the long-double reference far below double's rounding.
    (X, y), b = gaussian(7, 5, seed=3), 3
    ref = reference_run(X, y, 0.9, 0.99, 4, b, 0.1, 0.5, "logistic", np.longdouble, np.zeros(5))
    w = (
        ib.Run(
            X, y, AdamEpochMap(beta1=0.9, beta2=0.99), batch_size=b, dtype=dtype, lr=ib.schedules.polynomial(0.1, 0.5)
        )
        .advance(4)
        .w[-1]
    )
    rel = float(np.linalg.norm(w.astype(np.longdouble) - ref[-1]) / np.linalg.norm(ref[-1]))
    if dtype == np.longdouble:
        assert rel < 1e-17
    else:
        assert 1e-18 < rel < 1e-13


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_one_batch_per_epoch_is_sign_descent_exactly(dtype):
    # K = 1 (b = n): N_0 / sqrt(D_0) = g / sqrt(g^2) = sign(g) exactly, sign(0) = 0.
    X, y = zero_column()
    Z = (y[:, None] * X).astype(dtype)
    w0 = np.array([0.25, -0.5, 0.0, 0.125])
    lr = 0.25
    run = ib.Run(X, y, AdamEpochMap(beta1=0.7, beta2=0.9), batch_size=X.shape[0], lr=lr, dtype=dtype, w0=w0)
    w = np.asarray(w0, dtype)
    for _ in range(5):
        g = -(abs_dloss(Z @ w, "logistic", dtype)[:, None] * Z).mean(axis=0)
        w = w - dtype(lr) * np.sign(g)
        run.advance(1)
        np.testing.assert_array_equal(run.w, w)
    assert run.w[2] == 0.0


def test_cost_per_step_counts_the_epoch():
    X, y = gaussian(10, 50, seed=0)
    costs = {b: ib.Run(X, y, AdamEpochMap(), batch_size=b).core.cost_per_step for b in (1, 2, 5, 10)}
    for b, cost in costs.items():
        K = -(-10 // b)
        assert cost >= 10 * 50 + K * 50  # at least the margins and one pass over the K batch gradients
    assert costs[1] > costs[10]
    # the epoch map is an O(n d) step, unlike one per-sample Adam step (O(d))
    assert costs[1] > 5 * ib.Run(X, y, ib.Adam(), batch_size=1).core.cost_per_step


# ----------------------------------------------------------------------------- underflow


def test_long_run_keeps_moving_where_naive_double_gradients_underflow():
    # 1e6 epochs with lr 0.1/sqrt(t+1) on a small separable set: the margins pass 800, where exp(-u)
    # is exactly 0 in double, so a textbook float64 evaluation of the map has g_j = 0 for every j and
    # stalls (all denominators 0: no update). The engine keeps every update.
    X = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.5], [1.5, 0.5]])
    y = np.ones(4)
    opt = AdamEpochMap(beta1=0.9, beta2=0.99)
    lr = ib.schedules.polynomial(0.1, 0.5)
    traj = ib.train(X, y, opt, steps=10**6, batch_size=1, lr=lr, checkpoints=60)
    w_end = traj.w[-1]
    assert traj.min_margin[-1] > 800.0
    assert np.all(np.diff(traj.min_margin[-20:]) > 0), "the iterate must keep moving"
    assert traj.scale_exponent[-1] < -1000  # the shared scale followed the gradients down

    # A naive float64 evaluation at the final iterate: every |l'(u_i)| underflows to 0.
    Z = y[:, None] * X
    with np.errstate(under="ignore"):
        naive = abs_dloss(Z @ w_end, "logistic", np.float64)
    assert np.all(naive == 0.0)
    naive_next = epoch_map_step(Z, w_end, 1.0, 0.9, 0.99, 1, "logistic", np.float64)
    np.testing.assert_array_equal(naive_next, w_end)  # the naive map would not move

    # The engine's step from there (double) equals the long-double reference (exp(-800) is a normal
    # long double), step for step.
    step = ib.Run(X, y, opt, batch_size=1, lr=1.0, w0=w_end).advance(1).w[-1] - w_end
    ref = epoch_map_step(
        Z.astype(np.longdouble), w_end.astype(np.longdouble), 1.0, 0.9, 0.99, 1, "logistic", np.longdouble
    ) - w_end.astype(np.longdouble)
    assert np.all(np.abs(ref) > 0.1)
    rel = float(np.linalg.norm(step - ref) / np.linalg.norm(ref))
    assert rel < 1e-12, rel


def test_double_and_long_double_engines_agree_far_beyond_both_exp_ranges():
    X = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.5], [1.5, 0.5]])
    y = np.ones(4)
    opt = AdamEpochMap(beta1=0.5, beta2=0.7)
    kw = dict(steps=200_000, batch_size=1, lr=1.0, checkpoints=10)
    t64 = ib.train(X, y, opt, **kw)
    tld = ib.train(X, y, opt, dtype=np.longdouble, **kw)
    assert t64.min_margin[-1] > 20_000  # past exp's range in long double too (~11,400)
    rel = np.linalg.norm(t64.w[-1] - tld.w[-1].astype(np.float64)) / np.linalg.norm(t64.w[-1])
    assert rel < 1e-9


# ----------------------------------------------------------------------------- runs


CONFIGS = [
    dict(optimizer=AdamEpochMap(beta1=0.9, beta2=0.99), batch_size=1),
    dict(optimizer=AdamEpochMap(beta1=0.8, beta2=0.95), batch_size=3, lr=ib.schedules.polynomial(0.2, 0.5)),
    dict(optimizer=AdamEpochMap(beta1=0.0, beta2=0.5), batch_size=2, loss="exponential"),
    dict(optimizer=AdamEpochMap(beta1=0.9, beta2=0.5), batch_size=7, lr=ib.schedules.step_decay(0.5, 0.9, every=50)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
@pytest.mark.parametrize("config", CONFIGS[:3], ids=["b1", "b3", "b2-exp"])
def test_save_load_resume_is_bit_exact(tmp_path, config, dtype):
    X, y = gaussian(7, 4, seed=9)
    total, split = 6000, 2345
    straight = ib.Run(X, y, dtype=dtype, **config).advance(total, checkpoints=30)
    first = ib.Run(X, y, dtype=dtype, **config)
    first.advance(split, checkpoints=30)
    first.save(tmp_path / "run.npz")
    resumed = ib.Run.load(tmp_path / "run.npz")
    assert type(resumed.optimizer) is AdamEpochMap and resumed.optimizer == config["optimizer"]
    assert resumed.t == split and resumed.w.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(resumed.w, first.w)
    traj = resumed.advance(total - split, checkpoints=30)
    np.testing.assert_array_equal(traj.w[-1], straight.w[-1])
    # (planning in two calls adds checkpoints; those both runs recorded must agree bit for bit)
    common, in_resumed, in_straight = np.intersect1d(traj.steps, straight.steps, return_indices=True)
    assert common.size >= 5 and common[-1] == total
    for field in ("w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent"):
        np.testing.assert_array_equal(
            getattr(traj, field)[in_resumed], getattr(straight, field)[in_straight], err_msg=field
        )


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_train_many_equals_train(dtype):
    X, y = gaussian(7, 4, seed=9)
    configs = CONFIGS + [dict(optimizer=ib.Adam(beta1=0.9, beta2=0.99), batch_size=1)]
    steps = [3000 + 500 * k for k in range(len(configs))]
    together = ib.train_many(X, y, configs, steps=steps, checkpoints=25, dtype=dtype, threads=2)
    for cfg, s, traj in zip(configs, steps, together):
        alone = ib.train(X, y, steps=s, checkpoints=25, dtype=dtype, **cfg)
        np.testing.assert_array_equal(traj.steps, alone.steps)
        np.testing.assert_array_equal(traj.w, alone.w)
        np.testing.assert_array_equal(traj.log_loss, alone.log_loss)
        np.testing.assert_array_equal(traj.scale_exponent, alone.scale_exponent)


# Ctrl-C during an epoch-map run: tests/engine/test_engine.py::test_ctrl_c_stops_a_long_run_quickly_and_leaves_it_resumable


def test_description_round_trip_and_registry():
    opt = AdamEpochMap(beta1=0.8, beta2=0.9)
    assert AdamEpochMap in ib.optimizers.ALL_OPTIMIZERS
    assert ib.optimizers.describe(opt) == {"name": "AdamEpochMap", "beta1": 0.8, "beta2": 0.9}
    assert ib.optimizers.from_description(ib.optimizers.describe(opt)) == opt
    assert AdamEpochMap() == AdamEpochMap(beta1=0.9, beta2=0.999)


# ----------------------------------------------------------------------------- bad input


def word(name: str) -> str:
    return rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])"


@pytest.mark.parametrize("order", ["reshuffle", "replacement"])
def test_orders_other_than_cyclic_are_refused(order):
    X, y = gaussian(6, 3, seed=0)
    with pytest.raises(ValueError, match=word("order")):
        ib.Run(X, y, AdamEpochMap(), batch_size=2, order=order)
    with pytest.raises(ValueError, match=word("order")):
        ib.train(X, y, AdamEpochMap(), steps=3, batch_size=1, order=order)
    with pytest.raises(ValueError, match=word("order")):
        ib.train_many(X, y, [dict(optimizer=AdamEpochMap(), batch_size=1, order=order)], steps=3)


@pytest.mark.parametrize("beta1", [-0.1, 1.0, 1.5, float("nan"), float("inf")])
def test_beta1_out_of_range(beta1):
    with pytest.raises(ValueError, match=word("beta1")):
        AdamEpochMap(beta1=beta1)


@pytest.mark.parametrize("beta2", [0.0, -0.5, 1.0, 2.0, float("nan")])
def test_beta2_out_of_range(beta2):
    with pytest.raises(ValueError, match=word("beta2")):
        AdamEpochMap(beta2=beta2)


@pytest.mark.parametrize("field", ["beta1", "beta2"])
def test_betas_must_be_numbers(field):
    with pytest.raises(TypeError, match=word(field)):
        AdamEpochMap(**{field: "0.9"})


def test_edge_values_are_accepted():
    X, y = gaussian(6, 3, seed=0)
    for opt in (AdamEpochMap(beta1=0.0), AdamEpochMap(beta1=0.99, beta2=0.5)):
        traj = ib.train(X, y, opt, steps=20, batch_size=2)
        assert np.all(np.isfinite(traj.w))
    # beta2 -> 0 with beta1 = 0.9: N_i / sqrt(D_i) ~ (sum_j beta1^lag g_j) / |g_i| is huge wherever g_i is
    # small; the map legitimately blows up (beta1 > beta2: no prediction). It must run, not hang.
    traj = ib.train(X, y, AdamEpochMap(beta2=1e-300), steps=20, batch_size=2)
    assert traj.steps[-1] == 20


FAR_OUT = """
import numpy as np, implicit_bias as ib
X = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.5]])
for opt, b in [(ib.optimizers.AdamEpochMap(), 1), (ib.optimizers.AdamEpochMap(), 3), (ib.AdamProxy(), 3), (ib.SignGD(), 3)]:
    for w0, loss in [([1e30, 1e30], "logistic"), ([1e30, 1e30], "exponential"), ([-1e30, -1e30], "exponential")]:
        run = ib.Run(X, np.ones(3), opt, batch_size=b, w0=w0, loss=loss, dtype=np.DTYPE)
        run.core.advance(5)
        w = run.w
        if w0[0] > 0:  # every gradient is ~exp(-1e30): exactly 0 at the scale's cap, so no update
            assert np.array_equal(w, np.asarray(w0, np.DTYPE)), (opt, b, loss, w)
print("done")
"""


@pytest.mark.parametrize("dtype", ["float64", "longdouble"])
def test_margins_beyond_the_scale_range_finish_instead_of_hanging(dtype):
    # Margins ~1e30 (a diverged iterate) need a scale exponent beyond int64; the engine once looped
    # forever there (stateless optimizers). Run in a subprocess so that a regression fails, not hangs.
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", FAR_OUT.replace("DTYPE", dtype)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
