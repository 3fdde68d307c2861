"""Max-margin references against independent solvers, closed forms, and input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, lsq_linear, minimize

import implicit_bias as ib
from implicit_bias import separability
from implicit_bias.errors import DegenerateProblemError, DegenerateProblemWarning, NotSeparableError
from implicit_bias.references import qp


def gaussian_data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain NumPy draw (independent of ib.datasets): random labels, separable a.s. for d >= n."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], size=n)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


# ---------------------------------------------------------------- independent reference solvers


def l2_by_nnls(G: np.ndarray) -> np.ndarray:
    """min ||v|| s.t. G v >= 1 through Lawson-Hanson's LDP -> NNLS reduction (written out here), the
    NNLS by SciPy's bounded-variable least squares (not ``scipy.optimize.nnls``, which returns
    suboptimal points in SciPy 1.12-1.15, the releases for Python 3.10; nor the package's own NNLS)."""
    n, d = G.shape
    E = np.vstack([G.T, np.ones((1, n))])
    f = np.zeros(d + 1)
    f[-1] = 1.0
    u = lsq_linear(E, f, bounds=(0.0, np.inf), method="bvls", tol=1e-15).x
    r = E @ u - f
    return -r[:d] / r[d]


def l2_by_slsqp(Z: np.ndarray, M: np.ndarray) -> np.ndarray:
    start = np.linalg.lstsq(Z, np.ones(Z.shape[0]), rcond=None)[0] * 2
    res = minimize(
        lambda w: 0.5 * w @ M @ w,
        start,
        jac=lambda w: M @ w,
        constraints=[{"type": "ineq", "fun": lambda w: Z @ w - 1, "jac": lambda w: Z}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    # At this ftol SLSQP may stop with "positive directional derivative" at rounding level; what
    # matters is that it reached a feasible point (the cosine checks judge optimality).
    assert res.success or res.status == 8, res.message
    assert np.min(Z @ res.x) >= 1 - 1e-8
    return res.x


def lp_norm_by_linprog(Z: np.ndarray, kind: str) -> tuple[np.ndarray, float]:
    """min ||w||_p s.t. Zw >= 1 in epigraph form (a different LP from the package's), -> (w_hat, optimum)."""
    n, d = Z.shape
    if kind == "linf":  # variables (w, t): w_j - t <= 0, -w_j - t <= 0
        cost = np.r_[np.zeros(d), 1.0]
        A = np.vstack(
            [
                np.hstack([-Z, np.zeros((n, 1))]),
                np.hstack([np.eye(d), -np.ones((d, 1))]),
                np.hstack([-np.eye(d), -np.ones((d, 1))]),
            ]
        )
        b = np.r_[-np.ones(n), np.zeros(2 * d)]
        res = linprog(cost, A_ub=A, b_ub=b, bounds=[(None, None)] * (d + 1), method="highs")
        return res.x[:d], res.fun
    cost = np.r_[np.zeros(d), np.ones(d)]  # variables (w, s) with |w_j| <= s_j
    A = np.vstack(
        [
            np.hstack([-Z, np.zeros((n, d))]),
            np.hstack([np.eye(d), -np.eye(d)]),
            np.hstack([-np.eye(d), -np.eye(d)]),
        ]
    )
    b = np.r_[-np.ones(n), np.zeros(2 * d)]
    res = linprog(cost, A_ub=A, b_ub=b, bounds=[(None, None)] * (2 * d), method="highs")
    return res.x[:d], res.fun


# ---------------------------------------------------------------- l2 and Mahalanobis


@pytest.mark.parametrize("n, d, seed", [(10, 50, 0), (40, 60, 1), (60, 20, 2)])
def test_l2_matches_nnls_and_slsqp(n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sign(X @ rng.standard_normal(d)) if n > d else rng.choice([-1.0, 1.0], size=n)
    Z = y[:, None] * X
    result = ib.max_margin(X, y, norm="l2")
    w_nnls = l2_by_nnls(Z)
    assert np.linalg.norm(result.w - unit(w_nnls)) < 1e-10
    assert abs(result.gamma - 1 / np.linalg.norm(w_nnls)) < 1e-10 * result.gamma
    assert ib.cosine(result.w, l2_by_slsqp(Z, np.eye(d))) > 1 - 1e-9
    assert result.unique is True and result.polished
    assert result.kkt_residual < 1e-14
    # Duals of min 1/2||w||^2: w_hat = Z^T lambda and sum(lambda) = 1/gamma^2.
    w_hat = result.w / result.gamma
    assert np.allclose(Z.T @ result.duals, w_hat, rtol=0, atol=1e-12 * np.abs(w_hat).max())
    assert abs(result.duals.sum() * result.gamma**2 - 1) < 1e-12
    margins_hat = Z @ w_hat
    assert np.all(margins_hat >= 1 - 1e-12)
    assert np.allclose(margins_hat[result.support], 1, atol=1e-12)


def test_polish_beats_solver_accuracy() -> None:
    X, y = gaussian_data(30, 60, 3)
    rough = ib.max_margin(X, y, polish=False)
    fine = ib.max_margin(X, y, polish=True)
    assert not rough.polished and fine.polished
    assert fine.kkt_residual < 1e-14 < rough.kkt_residual < 1e-5
    assert ib.cosine(rough.w, fine.w) > 1 - 1e-7


def test_mahalanobis_diagonal_and_matrix_match_whitened_l2() -> None:
    X, y = gaussian_data(15, 25, 4)
    Z = y[:, None] * X
    rng = np.random.default_rng(5)
    diag = rng.uniform(0.2, 3.0, size=25)
    B = rng.standard_normal((25, 25))
    M = B @ B.T + 0.5 * np.eye(25)
    for norm in (diag, M):
        M_full = np.diag(norm) if norm.ndim == 1 else norm
        L = np.linalg.cholesky(M_full)
        # w^T M w = ||L^T w||^2: solve the l2 problem in v = L^T w, map back.
        v = l2_by_nnls(np.linalg.solve(L, Z.T).T)
        w_expected = np.linalg.solve(L.T, v)
        result = ib.max_margin(X, y, norm=norm)
        assert result.norm_name == "mahalanobis"
        assert ib.cosine(result.w, w_expected) > 1 - 1e-12
        assert abs(result.w @ M_full @ result.w - 1) < 1e-12  # unit in ||.||_M
        assert abs(result.gamma - 1 / np.sqrt(w_expected @ M_full @ w_expected)) < 1e-10 * result.gamma
        assert result.kkt_residual < 1e-14
        assert ib.cosine(result.w, l2_by_slsqp(Z, M_full)) > 1 - 1e-8


def test_rank_deficient_faces_use_the_robust_fallback() -> None:
    """Duplicated and collinear rows make the active face's Gram matrix singular."""
    X0, y0 = gaussian_data(6, 8, 6)
    X = np.vstack([X0, X0[:3], 2 * X0[3:5]])
    y = np.r_[y0, y0[:3], y0[3:5]]
    result = ib.max_margin(X, y)
    Z = y[:, None] * X
    assert np.linalg.norm(result.w - unit(l2_by_nnls(Z))) < 1e-10
    assert result.kkt_residual < 1e-13


def test_solve_dual_qp_warm_start_agrees_with_cold_start() -> None:
    X, y = gaussian_data(50, 80, 7)
    G = y[:, None] * X
    cold = qp.solve_dual_qp(G)
    warm = qp.solve_dual_qp(G * 1.01, warm_start=cold.support)
    assert np.array_equal(cold.support, warm.support)
    assert np.allclose(warm.lambdas * 1.01**2, cold.lambdas, rtol=1e-10)  # lambda scales as 1/|G|^2
    assert warm.iterations == 0  # the old support is already optimal: one face solve, no changes
    assert np.all(cold.margins >= 1 - 1e-12)


# ---------------------------------------------------------------- LP norms


@pytest.mark.parametrize("kind", ["linf", "l1"])
@pytest.mark.parametrize("seed", [0, 1, 3])
def test_lp_norms_match_linprog(kind: str, seed: int) -> None:
    X, y = gaussian_data(10, 30, seed)
    Z = y[:, None] * X
    w_ref, optimum = lp_norm_by_linprog(Z, kind)
    result = ib.max_margin(X, y, norm=kind)
    assert abs(result.gamma * optimum - 1) < 1e-9
    assert result.unique is True and result.polished
    assert result.kkt_residual < 1e-13
    size = np.max(np.abs(w_ref)) if kind == "linf" else np.sum(np.abs(w_ref))
    assert np.max(np.abs(result.w - w_ref / size)) < 1e-7
    assert abs(ib.normalized_margin(result.w, X, y, kind) - result.gamma) < 1e-12 * result.gamma


def test_closed_form_single_point() -> None:
    X, y = np.array([[3.0, 4.0]]), np.array([1.0])
    l2 = ib.max_margin(X, y, "l2")
    assert np.allclose(l2.w, [0.6, 0.8], atol=1e-15) and abs(l2.gamma - 5) < 1e-14
    linf = ib.max_margin(X, y, "linf")
    assert np.allclose(linf.w, [1, 1], atol=1e-15) and abs(linf.gamma - 7) < 1e-14 and linf.unique
    l1 = ib.max_margin(X, y, "l1")
    assert np.allclose(l1.w, [0, 1], atol=1e-15) and abs(l1.gamma - 4) < 1e-14 and l1.unique


def test_closed_form_two_points() -> None:
    # x1 = e1, x2 = 2 e2: l2 solves w1 >= 1, 2 w2 >= 1 -> w_hat = (1, 1/2), lambda = (1, 1/4).
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 1.0])
    l2 = ib.max_margin(X, y, "l2")
    assert np.allclose(l2.w, np.array([1, 0.5]) / np.sqrt(1.25), atol=1e-15)
    assert abs(l2.gamma - 2 / np.sqrt(5)) < 1e-15
    assert np.allclose(l2.duals, [1, 0.25], atol=1e-15)
    # l1: the optimum balances the two margins, w1 = 2 w2 -> (2/3, 1/3), gamma = 2/3 (unique).
    l1 = ib.max_margin(X, y, "l1")
    assert np.allclose(l1.w, [2 / 3, 1 / 3], atol=1e-15) and abs(l1.gamma - 2 / 3) < 1e-15 and l1.unique
    # Diagonal M = (4, 1) with the single point (1, 1): gamma = ||z||_{M^-1} = sqrt(1/4 + 1).
    maha = ib.max_margin(np.array([[1.0, 1.0]]), np.array([1.0]), np.array([4.0, 1.0]))
    assert abs(maha.gamma - np.sqrt(1.25)) < 1e-15
    assert np.allclose(maha.w_l2unit, unit(np.array([0.25, 1.0])), atol=1e-15)


def test_closed_form_three_points_support() -> None:
    X, y = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.array([1.0, 1.0, -1.0])
    l2 = ib.max_margin(X, y)
    assert np.allclose(l2.w, [1 / np.sqrt(2)] * 2, atol=1e-15)
    assert l2.support.tolist() == [0, 1]  # the third point has margin 2
    assert l2.duals[2] == 0


def test_linf_non_uniqueness_is_detected() -> None:
    # x1 = e1, x2 = 2 e2: gamma_inf = 1 needs only w1 = 1 and w2 in [1/2, 1]: a segment of maximisers.
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 1.0])
    with pytest.warns(DegenerateProblemWarning, match="NOT unique"):
        linf = ib.max_margin(X, y, "linf")
    assert linf.unique is False
    assert linf.face_diameter > 0.4  # the face is w2 in [1/2, 1] with w1 = 1
    assert abs(linf.gamma - 1) < 1e-12
    assert "NOT unique" in linf.note
    # Comparisons that stay meaningful: every point of the face has margin ratio 1.
    face = np.array([[1.0, 0.5], [1.0, 0.75], [1.0, 1.0]])
    assert np.allclose(ib.margin_ratio(face, X, y, "linf", linf), 1, atol=1e-12)
    with pytest.warns(DegenerateProblemWarning, match="not unique"):
        ib.cosine(face, linf)


def test_l1_non_uniqueness_is_detected() -> None:
    # One point (1, 1): every w >= 0 with w1 + w2 = 1 attains gamma_1 = 1.
    with pytest.warns(DegenerateProblemWarning, match="l1 maximiser is NOT unique"):
        l1 = ib.max_margin(np.array([[1.0, 1.0]]), np.array([1.0]), "l1")
    assert l1.unique is False and abs(l1.gamma - 1) < 1e-15
    assert l1.face_diameter > 1.9  # the face runs from (1, 0) to (0, 1): l1 diameter 2


def test_long_double_results_are_polished_in_long_double() -> None:
    X, y = gaussian_data(10, 30, 18)
    X_ld = X.astype(np.longdouble) / 3  # not representable in float64
    for norm in ("l2", "linf", np.linspace(1, 2, 30)):
        result = ib.max_margin(X_ld, y, norm)
        assert result.w.dtype == np.longdouble and result.duals.dtype == np.longdouble
        assert result.kkt_residual < 1e-17  # below float64 rounding
        assert abs(ib.normalized_margin(result.w, X_ld, y, norm) / result.gamma - 1) < 1e-18


def test_unique_linf_on_shifted_diagonal_and_non_unique_at_delta_zero() -> None:
    X, y = ib.datasets.shifted_diagonal(6, delta=0.1)
    unique = ib.max_margin(X, y, "linf")
    assert unique.unique is True and np.allclose(unique.w, 1, atol=1e-14)
    X0, y0 = ib.datasets.shifted_diagonal(6, delta=0.0)
    with pytest.warns(DegenerateProblemWarning):
        flat = ib.max_margin(X0, y0, "linf")
    assert flat.unique is False


def test_check_unique_can_be_skipped() -> None:
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 1.0])
    assert ib.max_margin(X, y, "linf", check_unique=False).unique is None


# ---------------------------------------------------------------- comparisons


def test_normalized_margin_shapes_and_values() -> None:
    X, y = gaussian_data(8, 12, 8)
    W = np.random.default_rng(9).standard_normal((5, 12))
    batch = ib.normalized_margin(W, X, y, "l2")
    assert batch.shape == (5,)
    for k in range(5):
        single = ib.normalized_margin(W[k], X, y, "l2")
        assert np.ndim(single) == 0
        assert abs(single - batch[k]) <= 4e-16 * abs(batch[k])  # BLAS blocking may differ by an ulp
        expected = np.min((y[:, None] * X) @ W[k]) / np.linalg.norm(W[k])
        assert abs(single - expected) < 1e-14 * abs(expected)
    assert np.isnan(ib.normalized_margin(np.zeros(12), X, y))  # the margin of w = 0 is undefined
    # Scale invariance holds far beyond float64's overflow of ||w||^2.
    assert abs(ib.normalized_margin(W[0] * 1e200, X, y, "l2") - batch[0]) < 1e-14 * abs(batch[0])


def test_normalized_margin_in_long_double() -> None:
    X, y = gaussian_data(6, 9, 10)
    W = np.random.default_rng(11).standard_normal(9).astype(np.longdouble) / 3
    value = ib.normalized_margin(W, X, y, "linf")
    assert value.dtype == np.longdouble
    Z = (y[:, None] * X).astype(np.longdouble)
    assert value == np.min(Z @ W) / np.max(np.abs(W))


def test_margin_ratio_is_one_at_the_optimum_and_below_elsewhere() -> None:
    X, y = gaussian_data(10, 20, 12)
    for norm in ("l2", "linf", "l1", np.linspace(0.5, 2, 20)):
        ref = ib.max_margin(X, y, norm)
        assert abs(ib.margin_ratio(ref.w, X, y, norm, ref.gamma) - 1) < 1e-12
        others = np.random.default_rng(13).standard_normal((20, 20))
        assert np.all(ib.margin_ratio(others, X, y, None, ref) < 1)


def test_cosine_accepts_results_and_batches() -> None:
    X, y = gaussian_data(10, 20, 14)
    ref = ib.max_margin(X, y)
    W = np.vstack([ref.w * 3, -ref.w, np.eye(20)[0]])
    cos = ib.cosine(W, ref)
    assert abs(cos[0] - 1) < 1e-15 and abs(cos[1] + 1) < 1e-15
    assert abs(cos[2] - ref.w_l2unit[0]) < 1e-15


def test_train_references_use_the_result_norm() -> None:
    X, y = gaussian_data(6, 10, 15)
    maha = ib.max_margin(X, y, np.linspace(1, 2, 10))
    traj = ib.train(X, y, ib.GD(), steps=100, lr=0.5, checkpoints=5, references={"m": maha})
    expected = ib.normalized_margin(traj.w, X, y, maha.norm) / maha.gamma
    assert np.allclose(traj.margin_ratio["m"], expected)


# ---------------------------------------------------------------- separability and bad input


@pytest.mark.parametrize(
    "X, y",
    [
        (np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, 1.0])),  # opposite points, same label
        (np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([1.0, -1.0])),  # a zero row has margin 0
        (np.array([[1.0], [2.0], [3.0]]), np.array([1.0, -1.0, 1.0])),  # n > d, 1-D, mixed signs
    ],
)
def test_non_separable_data_raise(X: np.ndarray, y: np.ndarray) -> None:
    assert not separability.is_separable(X, y)
    for norm in ("l2", "linf", "l1"):
        with pytest.raises(NotSeparableError, match="X, y:"):
            ib.max_margin(X, y, norm)
    with pytest.raises(NotSeparableError, match="not linearly separable"):
        separability.check_separable(X, y)


def test_check_separable_returns_a_certificate() -> None:
    rng = np.random.default_rng(16)
    X = rng.standard_normal((80, 5))
    y = np.sign(X @ rng.standard_normal(5))  # n > d: the LP path
    w = separability.check_separable(X, y)
    assert np.min((y[:, None] * X) @ w) >= 1 - 1e-9
    assert separability.is_separable(X, y)


X_OK, Y_OK = np.array([[1.0, 0.5], [0.2, 1.0]]), np.array([1.0, 1.0])


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        ({"X": np.array([[np.nan, 1.0], [0.2, 1.0]])}, ValueError, "X:"),
        ({"X": np.array([[np.inf, 1.0], [0.2, 1.0]])}, ValueError, "X:"),
        ({"X": np.ones(2)}, ValueError, "X:"),
        ({"y": np.array([1.0, 0.0])}, ValueError, "y:"),
        ({"y": np.array([1.0, 1.0, 1.0])}, ValueError, "y:"),
        ({"norm": "l3"}, ValueError, "norm:"),
        ({"norm": 2}, ValueError, "norm:"),
        ({"norm": np.array([1.0, -1.0])}, ValueError, "norm:"),
        ({"norm": np.array([1.0, 2.0, 3.0])}, ValueError, "norm:"),
        ({"norm": np.array([1.0, 0.0])}, DegenerateProblemError, "norm:"),
        ({"norm": np.array([[1.0, 2.0], [2.0, 1.0]])}, ValueError, "norm:"),  # indefinite
        ({"norm": np.array([[1.0, 1.0], [1.0, 1.0]])}, DegenerateProblemError, "norm:"),  # singular PSD
        ({"norm": np.array([[1.0, 0.5], [0.0, 1.0]])}, ValueError, "norm:"),  # not symmetric
        ({"norm": np.array([[1.0, np.nan], [np.nan, 1.0]])}, ValueError, "norm:"),
        ({"polish": 1}, TypeError, "polish:"),
        ({"uniqueness_tol": -1.0}, ValueError, "uniqueness_tol:"),
        ({"dtype": np.float32}, TypeError, "dtype:"),
    ],
)
def test_max_margin_bad_input_names_the_argument(kwargs: dict, exc: type, name: str) -> None:
    args = {"X": X_OK, "y": Y_OK, **kwargs}
    with pytest.raises(exc, match=f"^{name}"):
        ib.max_margin(**args)


def test_comparison_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="^W:"):
        ib.normalized_margin(np.ones(3), X_OK, Y_OK)
    with pytest.raises(ValueError, match="^W:"):
        ib.normalized_margin(np.ones((2, 2, 2)), X_OK, Y_OK)
    with pytest.raises(ValueError, match="^W:"):
        ib.normalized_margin(np.array([np.nan, 1.0]), X_OK, Y_OK)
    with pytest.raises(ValueError, match="^w_ref:"):
        ib.cosine(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="^gamma_star:"):
        ib.margin_ratio(np.ones(2), X_OK, Y_OK, "l2", -1.0)
    with pytest.raises(ValueError, match="^norm:"):
        ib.margin_ratio(np.ones(2), X_OK, Y_OK, None, 1.0)
    ref = ib.max_margin(X_OK, Y_OK, "l2")
    with pytest.raises(ValueError, match="^norm:"):
        ib.margin_ratio(np.ones(2), X_OK, Y_OK, "linf", ref)


def test_no_warning_on_well_posed_problems() -> None:
    X, y = gaussian_data(10, 30, 17)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for norm in ("l2", "linf", "l1"):
            ib.max_margin(X, y, norm)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 14),
    d=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    duplicate=st.booleans(),
)
@example(n=3, d=1, seed=1, duplicate=False)  # scipy.optimize.nnls 1.15.3 (Python 3.10): margin 0.956, not 1
def test_dual_active_set_matches_nnls_on_random_problems(n: int, d: int, seed: int, duplicate: bool) -> None:
    """Random separable sets, n above and below d, with repeated rows: the warm/cold active set (and its
    NNLS fallback on singular faces) gives the l2 max-margin point of the hand-written LDP solver."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if duplicate:
        X = np.vstack([X, X[: max(1, n // 2)] * rng.uniform(1, 2)])
    y = np.sign(X @ rng.standard_normal(d))
    G = y[:, None] * X
    solution = qp.solve_dual_qp(G)
    v = G.T @ solution.lambdas
    expected = l2_by_nnls(G)
    assert np.linalg.norm(v - expected) <= 1e-8 * np.linalg.norm(expected)
    assert np.all(solution.lambdas >= 0)
    assert np.min(G @ v) >= 1 - 1e-9
    warm = qp.solve_dual_qp(G, warm_start=rng.random(G.shape[0]) < 0.5)  # an arbitrary warm start
    assert np.linalg.norm(G.T @ warm.lambdas - expected) <= 1e-8 * np.linalg.norm(expected)
