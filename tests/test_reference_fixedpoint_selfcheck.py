"""Self-checks of tests/reference_fixedpoint.py (the independent reference for the batch fixed point
and the epoch map). These test the reference against Monte Carlo, against CVXPY, against its own
closed forms and against the dynamics it predicts; they do not import implicit_bias."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import reference_fixedpoint as R


def gaussian_rows(n, d, seed):
    """Rows N(0, I) with random labels folded in (separable a.s. for d >= n)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], size=n)
    return X, y


def cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ------------------------------------------------------------------------------------------------
# rho and the moments of the batch gradients
# ------------------------------------------------------------------------------------------------


def test_rho_closed_forms():
    assert R.rho(10, 1, "reshuffle") == 0.0
    assert R.rho(10, 1, "replacement") == 0.0
    assert R.rho(10, 10, "reshuffle") == pytest.approx(1.0, abs=1e-15)
    assert R.rho(10, 2, "reshuffle") == pytest.approx(1 / 9, abs=1e-15)
    assert R.rho(10, 5, "reshuffle") == pytest.approx(4 / 9, abs=1e-15)
    assert R.rho(10, 5, "replacement") == pytest.approx(4 / 14, abs=1e-15)
    assert R.rho(10, 10, "replacement") == pytest.approx(9 / 19, abs=1e-15)
    assert R.rho(10, 3, "cyclic") is None
    # b does not divide n: the brief's sketch, in terms of r = n mod b
    for n in range(2, 30):
        for b in range(1, n + 1):
            r = n % b
            if r == 0:
                sketch = (b - 1) / (n - 1)
            else:
                sketch = ((n - r) * (b - 1) / b**2 + (r - 1) / r) / ((n - 1) * ((n - r) / b**2 + 1 / r))
            assert R.rho(n, b, "reshuffle") == pytest.approx(sketch, rel=1e-13, abs=1e-15)
            assert 0.0 <= R.rho(n, b, "reshuffle") <= 1.0
    # n = 10, b = 3 (batches 3, 3, 3, 1): rho = 1/9, not the naive (b-1)/(n-1) = 2/9
    assert R.rho(10, 3, "reshuffle") == pytest.approx(1 / 9, abs=1e-15)
    assert R.rho(10, 4, "reshuffle") == pytest.approx(2 / 9, abs=1e-15)


def _mc_epochs(A, b, order, epochs, rng):
    """Per-epoch (reshuffle) or per-step (replacement) samples of sum_B g_B and sum_B g_B^2,
    drawn exactly as the optimizers draw batches, with mean gradients (1/|B| weights)."""
    n, d = A.shape
    if order == "replacement":
        idx = rng.integers(0, n, size=(epochs, b))
        g = A[idx].mean(axis=1)  # (E, d)
        return g, g**2
    perms = rng.permuted(np.tile(np.arange(n), (epochs, 1)), axis=1)
    Ap = A[perms]  # (E, n, d)
    first = np.zeros((epochs, d))
    second = np.zeros((epochs, d))
    for s in range(0, n, b):  # batches of b, the last one of n mod b
        gB = Ap[:, s : s + b].mean(axis=1)
        first += gB
        second += gB**2
    return first, second


def _test_data_moments(n, d, seed):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    Z[:, 0] = np.abs(Z[:, 0]) + 0.5  # a coordinate with S^2 >> Q
    Z[:, 1] = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) * (1 + 0.1 * rng.random(n))  # S ~ 0
    mu = rng.random(n) + 0.2
    return Z, mu


@pytest.mark.parametrize(
    "n,b,order",
    [
        (10, 2, "reshuffle"),
        (10, 5, "reshuffle"),
        (10, 3, "reshuffle"),
        (10, 4, "reshuffle"),
        (10, 7, "reshuffle"),
        (7, 3, "reshuffle"),
        (10, 1, "replacement"),
        (10, 3, "replacement"),
        (10, 10, "replacement"),
    ],
)
def test_monte_carlo_matches_closed_form(n, b, order):
    Z, mu = _test_data_moments(n, 4, seed=n * 100 + b)
    A = -mu[:, None] * Z  # per-sample gradients g_i = -mu_i z_i
    E = 60000
    f_s, s_s = _mc_epochs(A, b, order, E, np.random.default_rng(7 + b))
    f_cf, s_cf = R.expected_batch_moments(A, b, order)
    for sample, cf in ((f_s, f_cf), (s_s, s_cf)):
        # (with b | n, sum_B g_B is the same every epoch: floor the standard error at rounding)
        se = np.maximum(sample.std(axis=0, ddof=1) / math.sqrt(E), 1e-11 * np.abs(cf).max())
        z = np.abs(sample.mean(axis=0) - cf) / se
        assert np.all(z < 4.5), (z, sample.mean(axis=0), cf)
    # the closed forms are exactly the preconditioner's rho form, with lam proportional to mu:
    # E[sum_B g_B] = c1 * Z^T mu, E[sum_B g_B^2] = c2 * p(mu)^2 with scalars c1, c2
    p = R.batch_preconditioner(Z, mu, b, order)
    ratio1 = f_cf / -(mu @ Z)
    ratio2 = s_cf / p**2
    np.testing.assert_allclose(ratio1, ratio1[0], rtol=1e-13)
    np.testing.assert_allclose(ratio2, ratio2[0], rtol=1e-13)
    # power of the check: when b does not divide n, the naive rho = (b-1)/(n-1) is rejected by MC
    if order == "reshuffle" and n % b and abs((b - 1) / (n - 1) - R.rho(n, b, order)) > 0.05:
        rn = (b - 1) / (n - 1)
        p2_naive = (1 - rn) * (mu**2 @ Z**2) + rn * (mu @ Z) ** 2
        est = s_s.mean(axis=0)
        se = s_s.std(axis=0, ddof=1) / math.sqrt(E)
        c_naive = est / p2_naive  # must be one constant across coordinates if naive rho were right
        c_exact = est / p**2
        spread_naive = abs(c_naive[0] - c_naive[1]) / math.hypot(se[0] / p2_naive[0], se[1] / p2_naive[1])
        spread_exact = abs(c_exact[0] - c_exact[1]) / math.hypot(se[0] / p[0] ** 2, se[1] / p[1] ** 2)
        assert spread_exact < 4.5
        assert spread_naive > 20


@pytest.mark.parametrize("n,b", [(10, 3), (10, 4), (7, 2), (10, 10), (5, 1)])
def test_cyclic_preconditioner_absorbs_batch_weights(n, b):
    """With mean gradients g_B = (1/|B|) sum_B g_i and g_i = -mu_i z_i: sum_B g_B = -Z^T lam and
    sum_B g_B^2 = p(lam)^2 exactly, for lam_i = mu_i / |B(i)| (smaller last batch included)."""
    rng = np.random.default_rng(n + b)
    Z = rng.standard_normal((n, 6))
    mu = rng.random(n) + 0.1
    G = -mu[:, None] * Z
    gB = [G[B].mean(axis=0) for B in R.cyclic_batches(n, b)]
    assert [len(B) for B in R.cyclic_batches(n, b)][-1] == (n % b or b)
    lam = mu / R.row_batch_sizes(n, b)
    np.testing.assert_allclose(sum(gB), -(lam @ Z), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(sum(g**2 for g in gB), R.batch_preconditioner(Z, lam, b, "cyclic") ** 2, rtol=1e-13)
    # and NOT with lam = mu when the batch sizes differ
    if n % b:
        assert not np.allclose(R.batch_preconditioner(Z, mu / b, b, "cyclic") ** 2, sum(g**2 for g in gB), rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# The inner QP and the l-inf LP against CVXPY
# ------------------------------------------------------------------------------------------------


def test_qp_matches_cvxpy_and_kkt_tiny():
    cp = pytest.importorskip("cvxpy")
    for seed in range(3):
        X, y = gaussian_rows(12, 30, seed)
        Z = y[:, None] * X
        p = np.random.default_rng(seed).random(30) + 0.1
        lam, w = R.qp_duals(Z, p)
        assert R.kkt_residual(Z, p, lam) < 1e-13
        v = cp.Variable(30)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum(cp.multiply(p, cp.square(v)))), [Z @ v >= 1])
        prob.solve(solver=cp.CLARABEL)
        np.testing.assert_allclose(w, v.value, rtol=0, atol=1e-7 * np.abs(w).max())
        lam_cvx = prob.constraints[0].dual_value
        np.testing.assert_allclose(lam, lam_cvx, atol=1e-6 * lam.max())


def test_linf_matches_cvxpy():
    cp = pytest.importorskip("cvxpy")
    X, y = gaussian_rows(10, 20, 5)
    Z = y[:, None] * X
    L = R.linf_max_margin(Z)
    v = cp.Variable(20)
    prob = cp.Problem(cp.Minimize(cp.norm(v, "inf")), [Z @ v >= 1])
    prob.solve(solver=cp.CLARABEL)
    gamma_opt = 1.0 / prob.value
    assert L.gamma == pytest.approx(gamma_opt, rel=1e-7)
    assert L.unique
    assert 1 - cos(L.w, v.value) < 1e-7


# ------------------------------------------------------------------------------------------------
# Fixed points
# ------------------------------------------------------------------------------------------------


def test_b1_same_for_all_orders_and_equal_to_plain_fixed_point():
    X, y = gaussian_rows(10, 50, 0)
    plain = R.plain_fixed_point(X, y)
    assert plain.converged
    c = plain.lam**2 / np.sum(plain.lam**2)
    Z = y[:, None] * X
    # c* = T(c*) directly
    lam_c, _ = R.qp_duals(Z, np.sqrt(c @ Z**2))
    np.testing.assert_allclose(lam_c**2 / np.sum(lam_c**2), c, atol=1e-12)
    for order in R.ORDERS:
        fp = R.batch_fixed_point(X, y, 1, order)
        assert fp.converged and fp.kind == "fixed_point"
        assert 1 - fp.w @ plain.w < 1e-14
        np.testing.assert_allclose(fp.lam, plain.lam, atol=1e-12)


@pytest.mark.parametrize("order", R.ORDERS)
@pytest.mark.parametrize("b", [2, 3, 5])
def test_batch_fixed_point_converges_kkt_tiny_and_is_a_fixed_point(b, order):
    X, y = gaussian_rows(10, 50, 1)
    Z = y[:, None] * X
    fp = R.batch_fixed_point(X, y, b, order)
    assert fp.converged and fp.residuals[-1] < 1e-12
    assert fp.kkt < 1e-12
    lam2, _ = R.qp_duals(Z, R.batch_preconditioner(Z, fp.lam, b, order), split=R.split_weights(10, b, order))
    np.testing.assert_allclose(lam2 / lam2.sum(), fp.lam, atol=1e-11)
    # w = P^-1 Z^T lam, unit norm, all margins >= the minimum margin on the support
    w = (fp.lam @ Z) / fp.p
    assert 1 - cos(w, fp.w) < 1e-14
    m = Z @ fp.w
    assert np.all(m >= m[fp.lam > 1e-9].min() - 1e-12)


@pytest.mark.parametrize("order", R.ORDERS)
@pytest.mark.parametrize("b", [1, 2, 3])
def test_fixed_point_is_the_limit_of_the_beta2_to_1_dynamics(b, order):
    """The batch proxy (one step per epoch, E[sum_B g_B] / sqrt(E[sum_B g_B^2]), mean gradients
    with their 1/|B| weights written out) converges to the batch fixed point."""
    X, y = gaussian_rows(8, 20, 11)
    Z = y[:, None] * X
    fp = R.batch_fixed_point(X, y, b, order)
    D, _, dev = R.proxy_limit(Z, b, order, steps=1500)
    assert dev < 1e-12
    assert 1 - D @ fp.w < 1e-12


def test_b_equals_n_gives_linf():
    cp = pytest.importorskip("cvxpy")
    X, y = gaussian_rows(10, 50, 2)
    Z = y[:, None] * X
    v = cp.Variable(50)
    prob = cp.Problem(cp.Minimize(cp.norm(v, "inf")), [Z @ v >= 1])
    prob.solve(solver=cp.CLARABEL)
    for order in ("cyclic", "reshuffle"):
        fp = R.batch_fixed_point(X, y, 10, order)
        assert fp.kind == "linf" and fp.converged
        gamma = np.min(Z @ fp.w) / np.max(np.abs(fp.w))
        assert gamma == pytest.approx(1.0 / prob.value, rel=1e-7)
    # the lambda-iteration itself with rho = 1 does not settle: p_k = |sum_i lam_i z_ik| hits 0
    # (degenerate QP) or the residual stalls; hence the l-inf answer above
    lam = np.full(10, 0.1)
    settled = False
    try:
        for _ in range(300):
            new, _ = R.qp_duals(Z, R.batch_preconditioner(Z, lam, 10, "cyclic"))
            new = new / new.sum()
            settled = np.max(np.abs(new - lam)) < 1e-10
            lam = new
            if settled:
                break
    except ValueError as e:
        assert "zero" in str(e)
    assert not settled
    # replacement at b = n has rho < 1 and is an ordinary fixed point, not l-inf
    fr = R.batch_fixed_point(X, y, 10, "replacement")
    assert fr.kind == "fixed_point" and fr.converged
    assert 1 - fr.w @ R.linf_max_margin(Z).w > 1e-4


def test_rho_fixed_point_is_invariant_to_row_order():
    X, y = gaussian_rows(10, 50, 3)
    perm = np.random.default_rng(0).permutation(10)
    for order in ("reshuffle", "replacement"):
        a = R.batch_fixed_point(X, y, 3, order)
        b = R.batch_fixed_point(X[perm], y[perm], 3, order)
        assert 1 - a.w @ b.w < 1e-14
        np.testing.assert_allclose(a.lam[perm], b.lam, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# Repeated rows
# ------------------------------------------------------------------------------------------------


def _dup_data(seed=3):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((5, 8))
    Z[4] = Z[0]  # cyclic b = 2: row 0 in a batch of 2, its copy in the last batch of 1
    return Z, np.ones(5)


def test_repeated_rows_cyclic_split_by_inverse_batch_size():
    Z, y = _dup_data()
    fp = R.batch_fixed_point(Z, y, 2, "cyclic")
    assert fp.converged and fp.kkt < 1e-12
    assert fp.lam[0] > 1e-3
    assert fp.lam[4] == pytest.approx(2 * fp.lam[0], rel=1e-12)  # |B(0)| = 2, |B(4)| = 1
    # the beta2 -> 1 cyclic dynamics (epoch map with beta1 = beta2 = 1: mean gradients, the copies
    # share their loss derivative) go to this fixed point ...
    w = R.epoch_map_run(Z, np.zeros(8), 1.0, 1.0, 2, lambda t: 0.1 / math.sqrt(t + 1), 1500, rescale=True)
    D, mu, dev = R.epoch_map_limit_polish(Z, w, 1.0, 1.0, 2)
    assert dev < 1e-12
    assert mu[4] == pytest.approx(mu[0], rel=1e-10)  # equal loss derivatives of the copies
    assert 1 - D @ fp.w < 1e-13
    # ... and not to the equal-split one or to the de-duplicated data's
    eq = R.batch_fixed_point(Z, y, 2, "cyclic", split=np.ones(5))
    assert 1 - eq.w @ fp.w > 1e-6
    dd = R.batch_fixed_point(Z[:4], y[:4], 2, "cyclic")
    assert 1 - dd.w @ fp.w > 1e-6


@pytest.mark.parametrize("order", ["reshuffle", "replacement"])
def test_repeated_rows_random_orders_equal_split(order):
    Z, y = _dup_data()
    for b in (1, 2):
        fp = R.batch_fixed_point(Z, y, b, order)
        assert fp.converged and fp.kkt < 1e-12
        assert fp.lam[4] == pytest.approx(fp.lam[0], rel=1e-12)
        D, _, dev = R.proxy_limit(Z, b, order, steps=1500)
        assert dev < 1e-12
        assert 1 - D @ fp.w < 1e-12
        dedup = R.batch_fixed_point(Z[:4], y[:4], b, order)
        assert 1 - dedup.w @ fp.w > 1e-6  # merging the copies changes the answer
    # b = 1: the plain fixed point splits equally too
    plain = R.plain_fixed_point(Z, y)
    assert plain.lam[4] == pytest.approx(plain.lam[0], rel=1e-12)
    assert 1 - plain.w @ R.batch_fixed_point(Z, y, 1, order).w < 1e-14


def test_two_fixed_points_iteration_and_proxy_pick_different_ones():
    """On this 5 x 8 set (cyclic, b = 2) the lambda-iteration from uniform weights (and from random
    starts) converges to one fixed point, while the beta2 -> 1 batch proxy (one step per epoch)
    from w = 0 goes to another one, also a fixed point of the map. (Adam with beta2 = 0.999 goes
    to the iteration's one: bench/long_runs_predictions.py, section 3c.) A prediction must look
    for several fixed points; this pins down the example."""
    Z, y = _dup_data(seed=4)
    fp = R.batch_fixed_point(Z, y, 2, "cyclic")
    D, mu, dev = R.proxy_limit(Z, 2, "cyclic", steps=1500)
    assert dev < 1e-12
    assert 1 - D @ fp.w > 1e-2
    lam = mu / R.row_batch_sizes(5, 2)
    other = R.batch_fixed_point(Z, y, 2, "cyclic", lam0=lam)  # a fixed point: stays put
    assert other.converged and other.iterations <= 3
    assert 1 - other.w @ D < 1e-13


# ------------------------------------------------------------------------------------------------
# Epoch map
# ------------------------------------------------------------------------------------------------


def _map_data(n=10, d=50, seed=0):
    X, y = gaussian_rows(n, d, seed)
    return y[:, None] * X


def test_epoch_map_K1_is_sign_descent_step():
    Z = _map_data(6, 9, 1)
    Z[:, 3] = 0.0  # a coordinate with zero gradient: no update
    w = np.random.default_rng(2).standard_normal(9) * 0.3
    w_new = R.epoch_map_step(Z, w, 0.9, 0.999, 6, 0.05)
    g = (-R.abs_dloss(Z @ w)[:, None] * Z).mean(axis=0)
    np.testing.assert_array_equal(w_new, w - 0.05 * np.sign(g))
    assert w_new[3] == w[3]


def test_epoch_map_beta_one_is_K_times_proxy_step():
    Z = _map_data(6, 9, 4)
    w = np.random.default_rng(5).standard_normal(9) * 0.3
    G = -R.abs_dloss(Z @ w)[:, None] * Z
    step = G.sum(axis=0) / np.sqrt((G**2).sum(axis=0))  # AdamProxy direction (b = 1)
    np.testing.assert_allclose(R.epoch_map_step(Z, w, 1.0, 1.0, 1, 0.01), w - 0.01 * 6 * step, rtol=1e-14)


@pytest.mark.parametrize("b", [1, 3, 4])
def test_epoch_map_direct_sum_satisfies_the_recurrence(b):
    Z = _map_data(10, 7, 2)
    w = np.random.default_rng(3).standard_normal(7) * 0.2
    G = R._batch_gradients(Z, w, b, "logistic", False)
    K = G.shape[0]
    for beta in (0.0, 0.5, 0.9, 0.999):
        S = np.array([sum(beta ** ((i - j) % K) * G[j] for j in range(K)) for i in range(K)])
        for i in range(K):
            np.testing.assert_allclose(S[i], beta * S[i - 1] + (1 - beta**K) * G[i], rtol=1e-12, atol=1e-15)
    # the map's update is the sum of S1_i / sqrt(S2_i)
    b1, b2 = 0.9, 0.99
    S1 = np.array([sum(b1 ** ((i - j) % K) * G[j] for j in range(K)) for i in range(K)])
    S2 = np.array([sum(b2 ** ((i - j) % K) * G[j] ** 2 for j in range(K)) for i in range(K)])
    np.testing.assert_allclose(
        R.epoch_map_step(Z, w, b1, b2, b, 0.1), w - 0.1 * (S1 / np.sqrt(S2)).sum(axis=0), rtol=1e-14
    )


@pytest.mark.parametrize("b", [1, 3])
def test_epoch_map_float64_vs_longdouble(b):
    Z = _map_data(10, 50, 3)
    Zl = Z.astype(np.longdouble)
    sched = lambda t: 0.1 / math.sqrt(t + 1)
    # one step from the same (float64-representable) state, at several states of a run: ~1 ulp
    w = np.zeros(50)
    for t in range(12):
        w_next = R.epoch_map_step(Z, w, 0.9, 0.95, b, sched(t))
        w_ld = R.epoch_map_step(Zl, w.astype(np.longdouble), 0.9, 0.95, b, sched(t))
        assert w_next.dtype == np.float64 and w_ld.dtype == np.longdouble
        assert np.max(np.abs(w_next - w_ld.astype(np.float64))) <= 1e-15 * np.max(np.abs(w_next))
        w = w_next
    # a few steps: rounding differences grow (the map is sensitive through exp(-margin)), slowly
    w64 = R.epoch_map_run(Z, np.zeros(50), 0.9, 0.95, b, sched, 5)
    wld = R.epoch_map_run(Zl, np.zeros(50, dtype=np.longdouble), 0.9, 0.95, b, sched, 5)
    assert np.max(np.abs(w64 - wld.astype(np.float64))) <= 1e-14 * np.max(np.abs(w64))
    if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps:
        assert np.any(wld != w64.astype(np.longdouble))  # really computed in long double


def test_epoch_map_rescale_is_exact_and_survives_underflow():
    Z = _map_data(10, 50, 4)
    sched = lambda t: 0.1 / math.sqrt(t + 1)
    w = R.epoch_map_run(Z, np.zeros(50), 0.9, 0.99, 1, sched, 30)
    a = R.epoch_map_step(Z, w, 0.9, 0.99, 1, 0.01)
    b = R.epoch_map_step(Z, w, 0.9, 0.99, 1, 0.01, rescale=True)
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15 * np.abs(w).max())
    big = w * (2000.0 / np.min(Z @ w))  # all margins >= 2000: exp(-margin) underflows in double
    assert np.all(R.abs_dloss(Z @ big) == 0)
    assert np.array_equal(R.epoch_map_step(Z, big, 0.9, 0.99, 1, 0.01), big)  # lost update
    moved = R.epoch_map_step(Z, big, 0.9, 0.99, 1, 0.01, rescale=True)
    assert np.all(np.isfinite(moved)) and not np.array_equal(moved, big)


def test_abs_dloss_full_relative_precision():
    u = np.array([-800.0, -40.0, -1.0, 0.0, 1e-3, 1.0, 40.0, 700.0])
    s = R.abs_dloss(u)
    ref = np.array(
        [
            1.0,
            1 / (1 + math.exp(-40)),
            1 / (1 + 1 / math.e),
            0.5,
            1 / (1 + math.exp(1e-3)),
            1 / (1 + math.e),
            math.exp(-40) / (1 + math.exp(-40)),
            math.exp(-700),
        ]
    )
    np.testing.assert_allclose(s, ref, rtol=1e-15)
    uld = np.array([40.0, 5000.0], dtype=np.longdouble)
    sld = R.abs_dloss(uld)
    assert sld.dtype == np.longdouble and np.all(sld > 0) == (np.finfo(np.longdouble).maxexp > 8000)


@pytest.mark.parametrize("b", [1, 3])
def test_epoch_map_direction_is_the_step(b):
    Z = _map_data(10, 12, 6)
    w = np.random.default_rng(1).standard_normal(12) * 0.2
    mu = R.abs_dloss(Z @ w)
    step = R.epoch_map_step(Z, w, 0.9, 0.95, b, 0.01) - w
    np.testing.assert_allclose(step, 0.01 * R.epoch_map_direction(Z, mu, 0.9, 0.95, b), rtol=1e-12, atol=1e-17)
    # degree 0 in mu
    np.testing.assert_allclose(
        R.epoch_map_direction(Z, 1e-200 * mu, 0.9, 0.95, b), R.epoch_map_direction(Z, mu, 0.9, 0.95, b), rtol=1e-13
    )


def test_dependent_active_rows_warn_non_unique_duals():
    Z = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])  # all three active at w = (1, 1)
    with pytest.warns(UserWarning, match="may not be unique"):
        lam, w = R.qp_duals(Z, np.ones(2))
    np.testing.assert_allclose(w, [1.0, 1.0], atol=1e-12)
    assert R.kkt_residual(Z, np.ones(2), lam) < 1e-12
