"""The batch fixed point (our extension of the original study): exact expectations, fixed-point
property, identical rows, several fixed points, b = 1 and b = n, and agreement with long runs."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias.references.fixedpoint import fixed_point_map
from implicit_bias.references.preconditioner import BatchStructure, rho

X, Y = ib.datasets.gaussian(n=10, d=50, seed=0)
ORDERS = ("cyclic", "reshuffle", "replacement")


def _batch_mean_square(a: np.ndarray, batches) -> float:
    """sum over batches of (mean of a over the batch)^2 — one epoch's contribution to v."""
    return sum(float(np.mean(a[list(B)])) ** 2 for B in batches)


@pytest.mark.parametrize("n, b", [(7, 3), (7, 2), (6, 3), (5, 4), (6, 1)])
def test_reshuffle_rho_is_the_exact_expectation_over_all_permutations(n: int, b: int) -> None:
    """Enumerate every permutation: E[sum_B g_B^2] = alpha [(1 - rho) sum a^2 + rho (sum a)^2]."""
    rng = np.random.default_rng(n * 10 + b)
    a1, a2 = rng.standard_normal(n), rng.standard_normal(n)
    perms = list(itertools.permutations(range(n)))

    def expectation(a: np.ndarray) -> float:
        return np.mean([_batch_mean_square(a, [p[s : s + b] for s in range(0, n, b)]) for p in perms])

    # two random vectors pin down the two coefficients (alpha (1 - rho), alpha rho)
    A = np.array([[np.sum(a**2), np.sum(a) ** 2] for a in (a1, a2)])
    coef = np.linalg.solve(A, [expectation(a1), expectation(a2)])
    assert coef[1] / coef.sum() == pytest.approx(rho(n, b, "reshuffle"), rel=1e-12, abs=1e-14)
    # and the expected epoch update sum_B mean_B(a) is one common multiple of sum_i a_i (so lambda ~ mu)
    update = np.mean([sum(float(np.mean(a1[list(p[s : s + b])])) for s in range(0, n, b)) for p in perms])
    assert update == pytest.approx(-(-n // b) / n * np.sum(a1), rel=1e-12)


@pytest.mark.parametrize("n, b", [(5, 3), (4, 2), (6, 1)])
def test_replacement_rho_is_the_exact_expectation_over_all_draws(n: int, b: int) -> None:
    rng = np.random.default_rng(b)
    a1, a2 = rng.standard_normal(n), rng.standard_normal(n)
    draws = list(itertools.product(range(n), repeat=b))

    def expectation(a: np.ndarray) -> float:
        return np.mean([float(np.mean(a[list(d)])) ** 2 for d in draws])

    A = np.array([[np.sum(a**2), np.sum(a) ** 2] for a in (a1, a2)])
    coef = np.linalg.solve(A, [expectation(a1), expectation(a2)])
    assert coef[1] / coef.sum() == pytest.approx(rho(n, b, "replacement"), rel=1e-12, abs=1e-14)


def test_rho_closed_forms_when_b_divides_n() -> None:
    assert rho(10, 5, "reshuffle") == pytest.approx(4 / 9)
    assert rho(10, 5, "replacement") == pytest.approx(4 / 14)
    assert rho(10, 10, "reshuffle") == pytest.approx(1.0)
    assert rho(10, 1, "reshuffle") == rho(10, 1, "replacement") == 0.0


def test_cyclic_preconditioner_with_a_smaller_last_batch() -> None:
    Z = np.arange(1.0, 15.0).reshape(7, 2)
    c = np.full(7, 1 / 7)
    s = BatchStructure(7, 3, "cyclic")
    assert [B.tolist() for B in s.batches] == [[0, 1, 2], [3, 4, 5], [6]]
    lam = np.sqrt(c)
    expected = np.sqrt(sum((lam[B] @ Z[B]) ** 2 for B in s.batches))
    np.testing.assert_allclose(s.p(Z, c), expected, rtol=1e-15)


@pytest.mark.parametrize("order", ORDERS)
def test_b1_is_the_original_fixed_point_for_every_order(order: str) -> None:
    plain = ib.fixed_point(X, Y, starts=1)
    batch = ib.fixed_point(X, Y, batch_size=1, order=order, starts=1)
    np.testing.assert_array_equal(batch.w, plain.w)
    np.testing.assert_array_equal(batch.c, plain.c)


@pytest.mark.parametrize(
    "b, order", [(2, "cyclic"), (3, "cyclic"), (5, "cyclic"), (3, "reshuffle"), (5, "replacement"), (10, "replacement")]
)
def test_batch_fixed_point_is_a_fixed_point_and_a_kkt_point(b: int, order: str) -> None:
    fp = ib.fixed_point(X, Y, batch_size=b, order=order, starts=1)
    assert fp.converged and fp.limit == "fixed_point" and fp.batch_size == b and fp.order == order
    image, lam = fixed_point_map(X, Y, fp.c, batch_size=b, order=order)
    assert np.abs(image - fp.c).sum() < 1e-10
    Z = Y[:, None] * X
    w_hat = (Z.T @ fp.lambdas) / fp.p  # P^-1 Z^T lambda with margins >= 1, = 1 on the support
    margins = Z @ w_hat
    assert margins.min() > 1 - 1e-9
    np.testing.assert_allclose(margins[fp.support], 1.0, atol=1e-9)
    assert ib.cosine(w_hat, fp.w) > 1 - 1e-15
    assert fp.kkt_residual < 1e-10


def test_b_equal_n_is_sign_descent_and_gives_linf() -> None:
    linf = ib.max_margin(X, Y, "linf")
    for order in ("cyclic", "reshuffle"):
        fp = ib.fixed_point(X, Y, batch_size=10, order=order)
        assert fp.limit == "linf" and "sign descent" in fp.message
        assert ib.margin_ratio(fp.w, X, Y, "linf", linf) == pytest.approx(1.0, abs=1e-12)
    with_replacement = ib.fixed_point(X, Y, batch_size=10, order="replacement", starts=1)
    assert with_replacement.limit == "fixed_point" and with_replacement.converged


def test_batch_size_moves_the_prediction_away_from_b1() -> None:
    plain = ib.fixed_point(X, Y, starts=1).w
    d = [1 - float(ib.fixed_point(X, Y, batch_size=b, starts=1).w @ plain) for b in (2, 5)]
    assert all(v > 1e-3 for v in d)


def test_identical_rows_share_their_weight_and_match_adamproxy() -> None:
    rng = np.random.default_rng(3)
    X4 = rng.standard_normal((4, 5))
    X5 = np.vstack([X4, X4[:1]])  # row 0 twice
    y5 = np.ones(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp = ib.fixed_point(X5, y5, starts=1)
        dedup = ib.fixed_point(X4, np.ones(4), starts=1)
    assert fp.converged and "identical rows" in fp.message
    assert fp.lambdas[0] == pytest.approx(fp.lambdas[4], rel=1e-12)
    traj = ib.train(X5, y5, ib.AdamProxy(), steps=10**6, lr=ib.schedules.polynomial(0.1, 0.5), checkpoints=5)
    to_ours = 1 - ib.cosine(traj.w[-1], fp.w)
    to_dedup = 1 - ib.cosine(traj.w[-1], dedup.w)
    assert to_ours < to_dedup / 10, (to_ours, to_dedup)


def test_several_fixed_points_are_reported() -> None:
    X3 = np.array([[1.0, 0.2], [1.0, 0.2], [0.3, 1.0]])
    with pytest.warns(ib.errors.DegenerateProblemWarning, match="NOT UNIQUE"):
        fp = ib.fixed_point(X3, np.ones(3), starts=8)
    assert fp.unique is False and fp.alternatives.shape[0] >= 1
    assert all(1 - float(a @ fp.w) > 1e-6 for a in fp.alternatives)
    single = ib.fixed_point(X, Y, starts=4)
    assert single.unique is True and single.alternatives.shape[0] == 0


def test_long_minibatch_runs_land_nearer_their_batch_fixed_point() -> None:
    Xs, ys = ib.datasets.gaussian(n=6, d=12, seed=1)  # 1e6 steps: 1e-4 .. 3e-4 from the batch fixed points
    for b, order in ((2, "cyclic"), (5, "cyclic"), (3, "reshuffle"), (4, "replacement")):
        traj = ib.train(
            Xs,
            ys,
            ib.Adam(beta1=0.9, beta2=0.999),
            steps=10**6,
            batch_size=b,
            order=order,
            lr=ib.schedules.polynomial(0.1, 0.5),
            checkpoints=5,
            seed=0,
        )
        w = traj.w[-1]
        to_batch = 1 - ib.cosine(w, ib.fixed_point(Xs, ys, batch_size=b, order=order, starts=1).w)
        to_b1 = 1 - ib.cosine(w, ib.fixed_point(Xs, ys, starts=1).w)
        assert to_batch < to_b1 / 3 and to_batch < 2e-3, (b, order, to_batch, to_b1)


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        ({"batch_size": 0}, ValueError, "batch_size:"),
        ({"batch_size": 11}, ValueError, "batch_size:"),
        ({"order": "random"}, ValueError, "order:"),
        ({"starts": 0}, ValueError, "starts:"),
        ({"batch_size": 2.5}, TypeError, "batch_size:"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, exc: type, name: str) -> None:
    with pytest.raises(exc, match=f"^{name}"):
        ib.fixed_point(X, Y, **kwargs)


def test_non_separable_data_raise() -> None:
    with pytest.raises(ib.NotSeparableError):
        ib.fixed_point(np.array([[1.0], [-1.0]]), np.ones(2), batch_size=2, order="replacement")
