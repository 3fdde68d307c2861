"""Checks of the NumPy reference (tests/reference.py) that do not need the compiled engine.

Closed forms, numerical stability, and known answers for the RNG from a second,
independent implementation written here (numpy uint64 arithmetic with 32-bit limbs for
the 128-bit product) plus published test vectors.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402

DTYPES = [np.float64, np.longdouble]
DT_IDS = ["f64", "f80"]


def _data(seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], n)
    return X, y


# --------------------------------------------------------------------------------------
# Independent RNG: numpy uint64 with explicit wrap-around, 128-bit product from 32-bit limbs.
# --------------------------------------------------------------------------------------

U64 = np.uint64


def _u(x: int) -> np.ndarray:
    return np.array([x], dtype=U64)


class _NpXoshiro:
    def __init__(self, seed: int):
        x = _u(seed)
        s = []
        with np.errstate(over="ignore"):
            for _ in range(4):
                x = x + _u(0x9E3779B97F4A7C15)
                z = x.copy()
                z = (z ^ (z >> U64(30))) * _u(0xBF58476D1CE4E5B9)
                z = (z ^ (z >> U64(27))) * _u(0x94D049BB133111EB)
                z = z ^ (z >> U64(31))
                s.append(z)
        self.s = s

    @staticmethod
    def _rotl(x, k):
        return (x << U64(k)) | (x >> U64(64 - k))

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        with np.errstate(over="ignore"):
            result = self._rotl(s1 * _u(5), 7) * _u(9)
        t = s1 << U64(17)
        s2 = s2 ^ s0
        s3 = s3 ^ s1
        s1 = s1 ^ s2
        s0 = s0 ^ s3
        s2 = s2 ^ t
        s3 = self._rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return int(result[0])


def _mul_64x64(a: int, b: int) -> tuple[int, int]:
    """(high, low) 64-bit words of a*b using 32-bit limbs in numpy uint64 (no Python bigints)."""
    m32 = U64(0xFFFFFFFF)
    a = _u(a)
    b = _u(b)
    a_lo, a_hi = a & m32, a >> U64(32)
    b_lo, b_hi = b & m32, b >> U64(32)
    with np.errstate(over="ignore"):
        ll = a_lo * b_lo
        lh = a_lo * b_hi
        hl = a_hi * b_lo
        hh = a_hi * b_hi
        mid = (ll >> U64(32)) + (lh & m32) + (hl & m32)
        low = (ll & m32) | ((mid & m32) << U64(32))
        high = hh + (lh >> U64(32)) + (hl >> U64(32)) + (mid >> U64(32))
    return int(high[0]), int(low[0])


def _np_bounded(rng: _NpXoshiro, k: int) -> int:
    hi, lo = _mul_64x64(rng.next(), k)
    if lo < k:
        # (2**64 - k) mod k, computed as (-k mod 2**64) mod k in uint64
        with np.errstate(over="ignore"):
            thr = int((np.array([0], dtype=U64) - _u(k))[0]) % k
        while lo < thr:
            hi, lo = _mul_64x64(rng.next(), k)
    return hi


# Published test vectors (splitmix64.c / xoshiro256starstar.c seeded with splitmix64).
SPLITMIX64_SEED0 = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC]
XOSHIRO_SEED0 = [
    0x99EC5F36CB75F2B4,
    0xBF6E1F784956452A,
    0x1A5F849D4933E6E0,
    0x6AA594F1262D2D2C,
    0xBBA5AD4A1F842E59,
    0xFFEF8375D9EBCACA,
    0x6C160DEED2F54C98,
    0x8920AD648FC30A3F,
]
XOSHIRO_SEED1 = [0xB3F2AF6D0FC710C5, 0x853B559647364CEA, 0x92F89756082A4514, 0x642E1C7BC266A3A7]


def test_splitmix64_seeding_known_answer():
    assert R.splitmix64_state(0) == SPLITMIX64_SEED0
    assert [int(w[0]) for w in _NpXoshiro(0).s] == SPLITMIX64_SEED0


def test_xoshiro_published_vectors():
    r = R.Xoshiro256StarStar(0)
    assert [r.next() for _ in range(8)] == XOSHIRO_SEED0
    r = R.Xoshiro256StarStar(1)
    assert [r.next() for _ in range(4)] == XOSHIRO_SEED1
    q = _NpXoshiro(0)
    assert [q.next() for _ in range(8)] == XOSHIRO_SEED0


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 - 1, 2**63, 2**64 - 1])
def test_xoshiro_matches_independent_implementation(seed):
    a = R.Xoshiro256StarStar(seed)
    b = _NpXoshiro(seed)
    for _ in range(300):
        assert a.next() == b.next()


def test_seed_range_checked():
    with pytest.raises(ValueError):
        R.Xoshiro256StarStar(-1)
    with pytest.raises(ValueError):
        R.Xoshiro256StarStar(2**64)


def test_mul_64x64_helper():
    rng = np.random.default_rng(3)
    for _ in range(200):
        a = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
        b = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
        hi, lo = _mul_64x64(a, b)
        assert (hi << 64) | lo == a * b
    assert _mul_64x64(2**64 - 1, 2**64 - 1) == ((2**64 - 1) * (2**64 - 1) >> 64, 1)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 10, 1000, 2**32 + 3, 2**63 + 1, 2**64 - 1])
def test_bounded_matches_independent_implementation(k):
    a = R.Xoshiro256StarStar(99)
    b = _NpXoshiro(99)
    for _ in range(200):
        va = a.bounded(k)
        assert 0 <= va < k
        assert va == _np_bounded(b, k)
    # both consumed exactly the same number of raw outputs (rejections included)
    assert a.next() == b.next()


def test_bounded_rejection_path_is_exercised():
    # k = 2**63 + 1: threshold (2**64 - k) mod k = 2**63 - 1, so about half of the draws with
    # low word < k are rejected; make sure the loop runs and stays in sync.
    k = 2**63 + 1
    a = R.Xoshiro256StarStar(5)
    raw = R.Xoshiro256StarStar(5)
    calls = 0
    for _ in range(100):
        a.bounded(k)
        calls += 1
    consumed = 0
    while raw.s != a.s:
        raw.next()
        consumed += 1
        assert consumed < 1000
    assert consumed > calls  # at least one rejection happened


def test_bounded_one_is_zero_and_uses_one_draw():
    a = R.Xoshiro256StarStar(7)
    b = R.Xoshiro256StarStar(7)
    for _ in range(50):
        assert a.bounded(1) == 0
        b.next()
    assert a.s == b.s


def test_bounded_is_roughly_uniform():
    r = R.Xoshiro256StarStar(2024)
    counts = np.bincount([r.bounded(7) for _ in range(7000)], minlength=7)
    assert counts.min() > 850 and counts.max() < 1150


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------


def _batches(n, b, order, count, seed=0):
    s = R.BatchSampler(n, b, order, R.Xoshiro256StarStar(seed))
    return [s.next_batch().tolist() for _ in range(count)]


def test_cyclic_batches_uneven():
    assert _batches(7, 3, "cyclic", 7) == [[0, 1, 2], [3, 4, 5], [6], [0, 1, 2], [3, 4, 5], [6], [0, 1, 2]]
    assert _batches(7, 6, "cyclic", 4) == [[0, 1, 2, 3, 4, 5], [6], [0, 1, 2, 3, 4, 5], [6]]
    assert _batches(7, 7, "cyclic", 2) == [list(range(7))] * 2
    assert _batches(7, 1, "cyclic", 8) == [[i % 7] for i in range(8)]


@pytest.mark.parametrize("b", [1, 3, 6, 7])
def test_reshuffle_epochs_are_permutations(b):
    n = 7
    per_epoch = -(-n // b)
    bs = _batches(n, b, "reshuffle", per_epoch * 30, seed=11)
    perms = []
    for e in range(30):
        epoch = bs[e * per_epoch : (e + 1) * per_epoch]
        assert [len(x) for x in epoch] == [b] * (n // b) + ([n % b] if n % b else [])
        flat = sum(epoch, [])
        assert sorted(flat) == list(range(n))
        perms.append(tuple(flat))
    assert len(set(perms)) > 10  # actually reshuffled


def test_reshuffle_is_fisher_yates_from_arange_every_epoch():
    n, b = 7, 3
    bs = _batches(n, b, "reshuffle", 9, seed=42)
    rng = _NpXoshiro(42)
    expected = []
    for _ in range(3):
        perm = list(range(n))  # fresh arange every epoch
        for i in range(n - 1, 0, -1):
            j = _np_bounded(rng, i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        expected += [perm[0:3], perm[3:6], perm[6:7]]
    assert bs == expected


def test_replacement_draws_in_order():
    n, b = 7, 3
    bs = _batches(n, b, "replacement", 20, seed=8)
    rng = _NpXoshiro(8)
    expected = [[_np_bounded(rng, n) for _ in range(b)] for _ in range(20)]
    assert bs == expected
    assert all(len(x) == b for x in bs)


def test_run_records_batches_and_cyclic_full_batch_consumes_no_rng():
    X, y = _data()
    res = R.run(X, y, R.GD(), 5, batch_size=3, order="cyclic", record_batches=True)
    assert [x.tolist() for x in res.batches] == [[0, 1, 2], [3, 4, 5], [6], [0, 1, 2], [3, 4, 5]]
    a = R.run(X, y, R.GD(), 10, order="reshuffle", seed=0)  # b = n: a permuted full batch
    c = R.run(X, y, R.GD(), 10, order="cyclic", seed=0)
    np.testing.assert_allclose(a.final, c.final, rtol=1e-14)


# --------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_sigmoid_is_stable_at_extremes(dt):
    u = np.array([-800, -40, -1, 0, 1, 40, 700, 800], dtype=dt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = R.abs_dloss(u, "logistic")
    assert s.dtype == np.dtype(dt)
    assert np.all(np.isfinite(s))
    assert s[0] == 1 and s[3] == dt(0.5)
    eps = np.finfo(dt).eps
    # sigmoid(-u) = exp(-u) / (1 + exp(-u)): full relative precision for large u
    for k in (5, 6, 7):
        e = np.exp(-u[k])
        assert abs(s[k] - e / (1 + e)) <= 4 * eps * s[k] or (e == 0 and s[k] == 0)
    if dt is np.longdouble:
        assert s[7] > 0  # exp(-800) ~ 3.7e-348 is representable in x87 long double
        assert abs(s[7] / np.exp(dt(-800)) - 1) <= 4 * eps
    # symmetric identity sigmoid(-u) + sigmoid(u) = 1 where both are O(1)
    v = np.linspace(-30, 30, 61).astype(dt)
    np.testing.assert_allclose(R.abs_dloss(v, "logistic") + R.abs_dloss(-v, "logistic"), 1, rtol=4 * eps)
    # never 1 - sigmoid(u): at u = 40 the value is ~4.2e-18 to full precision
    assert abs(s[5] / np.exp(dt(-40)) - 1) <= 1e-15


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_exponential_dloss(dt):
    u = np.array([-3, 0, 2, 700], dtype=dt)
    np.testing.assert_array_equal(R.abs_dloss(u, "exponential"), np.exp(-u))


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_log_mean_loss_stable(dt):
    Z = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dt)
    w = np.array([1000.0, 1200.0], dtype=dt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ll = R.log_mean_loss(w, Z, "logistic")
        le = R.log_mean_loss(w, Z, "exponential")
    # mean loss ~ exp(-1000)/2 in both cases
    assert abs(ll - (-1000 - np.log(dt(2)))) < 1e-12
    assert abs(le - (-1000 - np.log(dt(2)))) < 1e-12
    w = np.array([0.3, -0.2], dtype=dt)
    u = Z @ w
    direct = np.log(np.mean(np.log1p(np.exp(-u))))
    assert abs(R.log_mean_loss(w, Z, "logistic") - direct) <= 8 * np.finfo(dt).eps
    direct = np.log(np.mean(np.exp(-u)))
    assert abs(R.log_mean_loss(w, Z, "exponential") - direct) <= 8 * np.finfo(dt).eps
    # the large-margin branch joins the direct formula smoothly at u = 40
    for uu in (39.0, 40.0, 41.0, 60.0):
        Zs = np.array([[1.0]], dtype=dt)
        val = R.log_mean_loss(np.array([uu], dtype=dt), Zs, "logistic")
        assert abs(val - np.log(np.log1p(np.exp(-dt(uu))))) <= 8 * np.finfo(dt).eps * uu


# --------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_schedules(dt):
    assert R.Constant(0.3)(1000, dt) == dt(0.3)
    p = R.Polynomial(0.5, 0.5)
    assert p(0, dt) == dt(0.5)
    assert abs(p(3, dt) - dt(0.25)) <= np.finfo(dt).eps
    assert abs(R.Polynomial(2.0, 1.0)(9, dt) - dt(2) / dt(10)) <= 2 * np.finfo(dt).eps
    s = R.StepDecay(1.0, 0.5, 10)
    assert [s(t, dt) for t in (0, 9, 10, 19, 20, 35)] == [1, 1, 0.5, 0.5, 0.25, 0.125]
    assert type(p(5, dt)) is dt


# --------------------------------------------------------------------------------------
# Closed forms for single steps
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_one_gd_step_logistic_from_zero(dt):
    X, y = _data(1)
    Z = (y[:, None] * X).astype(dt)
    eta = 0.3
    res = R.run(X, y, R.GD(), 1, lr=eta, dtype=dt)
    expected = dt(eta) / dt(2) * np.mean(Z, axis=0)
    assert res.final.dtype == np.dtype(dt)
    np.testing.assert_allclose(res.final, expected, rtol=8 * np.finfo(dt).eps, atol=0)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_one_gd_step_exponential_from_zero(dt):
    X, y = _data(2)
    Z = (y[:, None] * X).astype(dt)
    res = R.run(X, y, R.GD(), 1, lr=0.3, loss="exponential", dtype=dt)
    np.testing.assert_allclose(res.final, dt(0.3) * np.mean(Z, axis=0), rtol=8 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_sgd_uneven_last_batch_is_mean_over_its_own_size(dt):
    X, y = _data(3)
    Z = (y[:, None] * X).astype(dt)
    # exponential loss from w = 0: every |l'| = 1, so a batch gradient is -mean(z_B)
    res = R.run(X, y, R.GD(), 3, batch_size=3, lr=1.0, loss="exponential", dtype=dt, record=[1, 2, 3])
    np.testing.assert_allclose(res.w[1], Z[0:3].mean(axis=0), rtol=8 * np.finfo(dt).eps)
    # third step uses the single sample 6 at w = w_2
    w2 = res.w[2]
    u6 = Z[6] @ w2
    np.testing.assert_allclose(res.w[3], w2 + np.exp(-u6) * Z[6], rtol=8 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_first_step_of_sign_like_methods_is_sign_of_gradient(dt):
    X, y = _data(4)
    Z = (y[:, None] * X).astype(dt)
    g0 = -dt(0.5) * Z.mean(axis=0)  # logistic gradient at w = 0
    eta = 0.25
    step = -dt(eta) * np.sign(g0)
    for opt in (R.SignGD(), R.Signum(0.9), R.Lion(0.9, 0.99), R.AdaGrad(0.0), R.Adam(0.9, 0.999, 0.0, True)):
        res = R.run(X, y, opt, 1, lr=eta, dtype=dt)
        np.testing.assert_allclose(res.final, step, rtol=8 * np.finfo(dt).eps, err_msg=repr(opt))
    # no bias correction, eps = 0: |update| = (1-beta1)/sqrt(1-beta2)
    res = R.run(X, y, R.Adam(0.9, 0.99, 0.0, False), 1, lr=eta, dtype=dt)
    np.testing.assert_allclose(
        res.final, step * (dt(1) - dt(0.9)) / np.sqrt(dt(1) - dt(0.99)), rtol=8 * np.finfo(dt).eps
    )
    # RMSProp: (1 - beta1) = 1, so |update| = 1/sqrt(1-beta2)
    res = R.run(X, y, R.RMSProp(0.99, 0.0), 1, lr=eta, dtype=dt)
    np.testing.assert_allclose(res.final, step / np.sqrt(dt(1) - dt(0.99)), rtol=8 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_adam_eps_is_outside_the_sqrt(dt):
    X, y = _data(5)
    Z = (y[:, None] * X).astype(dt)
    g = -dt(0.5) * Z.mean(axis=0)
    eps = 0.01
    res = R.run(X, y, R.Adam(0.9, 0.999, eps, True), 1, lr=1.0, dtype=dt)
    np.testing.assert_allclose(res.final, -g / (np.abs(g) + dt(eps)), rtol=16 * np.finfo(dt).eps)
    res = R.run(X, y, R.AdaGrad(eps), 1, lr=1.0, dtype=dt)
    np.testing.assert_allclose(res.final, -g / (np.abs(g) + dt(eps)), rtol=16 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_adam_two_steps_by_hand(dt):
    X, y = _data(6)
    Z = (y[:, None] * X).astype(dt)
    b1, b2, eps, eta = dt(0.8), dt(0.95), dt(1e-3), dt(0.1)
    one = dt(1)

    def grad(w):
        u = Z @ w
        return -np.mean((one / (one + np.exp(u)))[:, None] * Z, axis=0)

    w = np.zeros(3, dtype=dt)
    m = np.zeros(3, dtype=dt)
    v = np.zeros(3, dtype=dt)
    for t in range(2):
        g = grad(w)
        m = b1 * m + (one - b1) * g
        v = b2 * v + (one - b2) * g * g
        mh = m / (one - b1 ** (t + 1))
        vh = v / (one - b2 ** (t + 1))
        w = w - eta * mh / (np.sqrt(vh) + eps)
    res = R.run(X, y, R.Adam(0.8, 0.95, 1e-3, True), 2, lr=0.1, dtype=dt)
    np.testing.assert_allclose(res.final, w, rtol=32 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_lion_two_steps_by_hand(dt):
    X, y = _data(7)
    Z = (y[:, None] * X).astype(dt)
    one = dt(1)
    b1, b2 = dt(0.9), dt(0.99)

    def grad(w):
        u = Z @ w
        return -np.mean((one / (one + np.exp(u)))[:, None] * Z, axis=0)

    w = np.zeros(3, dtype=dt)
    m = np.zeros(3, dtype=dt)
    for _ in range(3):
        g = grad(w)
        w = w - dt(0.1) * np.sign(b1 * m + (one - b1) * g)
        m = b2 * m + (one - b2) * g
    res = R.run(X, y, R.Lion(0.9, 0.99), 3, lr=0.1, dtype=dt)
    np.testing.assert_array_equal(res.final, w)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_adam_proxy_uses_sum_and_root_sum_of_squares(dt):
    X, y = _data(8)
    Z = (y[:, None] * X).astype(dt)
    w0 = np.array([0.1, -0.2, 0.05], dtype=dt)
    u = Z @ w0
    s = dt(1) / (dt(1) + np.exp(u))
    gi = -s[:, None] * Z
    expected = w0 - dt(0.2) * gi.sum(axis=0) / np.sqrt((gi * gi).sum(axis=0))
    for b, order in ((1, "cyclic"), (3, "replacement"), (7, "reshuffle")):
        res = R.run(X, y, R.AdamProxy(), 1, batch_size=b, order=order, lr=0.2, dtype=dt, w0=w0)
        np.testing.assert_allclose(res.final, expected, rtol=16 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", DTYPES, ids=DT_IDS)
def test_zero_second_moment_gives_no_update(dt):
    X, y = _data(9)
    X[:, 1] = 0.0  # coordinate 1 never gets a gradient
    w0 = np.array([0.1, 0.7, -0.3])
    for opt in (
        R.Adam(0.9, 0.999, 0.0, False),
        R.Adam(0.9, 0.999, 1e-8, True),
        R.AdaGrad(0.0),
        R.RMSProp(0.99, 0.0),
        R.AdamProxy(),
        R.SignGD(),
        R.Signum(0.5),
        R.Lion(),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = R.run(X, y, opt, 20, batch_size=2, lr=0.1, dtype=dt, w0=w0)
        assert res.final[1] == dt(0.7), repr(opt)
        assert np.all(np.isfinite(res.final))


def test_reference_is_generic_over_dtype():
    X, y = _data(10)
    kw = dict(batch_size=3, order="reshuffle", lr=R.Polynomial(0.05, 0.5), seed=3, record=[10, 200])
    a = R.run(X, y, R.Adam(0.9, 0.999, 0.0, False), 200, dtype=np.float64, **kw)
    b = R.run(X, y, R.Adam(0.9, 0.999, 0.0, False), 200, dtype=np.longdouble, **kw)
    assert a.final.dtype == np.float64 and b.final.dtype == np.longdouble
    assert b.w[10].dtype == np.longdouble
    rel = np.linalg.norm(a.final - b.final) / np.linalg.norm(b.final)
    assert 0 < rel < 1e-13  # different precision, same math


def test_record_contains_requested_steps_and_w0():
    X, y = _data(11)
    w0 = np.array([0.01, 0.02, 0.03])
    res = R.run(X, y, R.GD(), 7, w0=w0, record=[0, 1, 7])
    assert sorted(res.w) == [0, 1, 7]
    np.testing.assert_array_equal(res.w[0], w0)
    np.testing.assert_array_equal(res.w[7], res.final)


def test_trajectory_metrics():
    Z = np.array([[1.0, 2.0], [-1.0, 3.0]])
    w = np.array([3.0, -4.0])
    m = R.trajectory_metrics(w, Z, "exponential")
    assert m["norm"] == 5.0
    assert m["min_margin"] == -15.0
    assert m["margin_l2"] == -3.0
    assert m["margin_linf"] == -15.0 / 4.0
    assert abs(m["log_loss"] - np.log((np.exp(5.0) + np.exp(15.0)) / 2)) < 1e-13
