"""The data-adaptive fixed point: known cases, solver cross-checks, the engine, degeneracy, input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import datasets
from implicit_bias.errors import (
    ConvergenceWarning,
    DegenerateProblemError,
    DegenerateProblemWarning,
    NotSeparableError,
)
from implicit_bias.references.fixedpoint import adam_preconditioner, fixed_point_map


def require_engine() -> None:
    try:
        from implicit_bias import _core  # noqa: F401
    except ImportError:  # pragma: no cover - only before the compiled core is built
        pytest.skip("the compiled engine (implicit_bias._core) is not built")


def adam_proxy_direction(X: np.ndarray, y: np.ndarray, steps: int) -> np.ndarray:
    """Final iterate of a long AdamProxy run (eta_t = 0.1 / sqrt(t + 1): the decaying step removes the
    O(eta) wobble of normalized steps around the limit direction)."""
    require_engine()
    traj = ib.train(
        X,
        y,
        ib.AdamProxy(),
        steps=steps,
        batch_size=len(y),
        lr=ib.schedules.polynomial(0.1, 0.5),
        loss="logistic",
        checkpoints=5,
    )
    return np.asarray(traj.w[-1], dtype=np.float64)


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize("n, d, seed", [(10, 50, 0), (20, 30, 1), (40, 12, 2)])
def test_generalized_rademacher_gives_the_l2_direction(n: int, d: int, seed: int) -> None:
    X, y = datasets.generalized_rademacher(n, d, seed=seed)
    fp = ib.fixed_point(X, y)
    assert fp.ok
    assert ib.cosine(fp.w, ib.max_margin(X, y, "l2")) > 1 - 1e-8
    assert np.allclose(fp.p, fp.p[0], rtol=1e-14)  # P(c) is a multiple of the identity


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_point_equation_holds_against_an_independent_qp(seed: int) -> None:
    """T(c*) = c*, with lambda(c*) recomputed by a fresh CVXPY problem, and w* is the Mahalanobis
    max-margin direction of M = P(c*)."""
    import cvxpy as cp

    X, y = datasets.gaussian(10, 50, seed=seed)
    fp = ib.fixed_point(X, y)
    assert fp.converged and fp.residuals[-1] <= 1e-12
    Z = y[:, None] * X
    p = np.sqrt(fp.c @ Z**2)
    assert np.allclose(p, fp.p, rtol=1e-14)
    w = cp.Variable(50)
    constraint = Z @ w >= 1
    cp.Problem(cp.Minimize(0.5 * cp.sum(cp.multiply(p, cp.square(w)))), [constraint]).solve(solver="CLARABEL")
    lam = np.maximum(constraint.dual_value, 0)
    assert np.max(np.abs(lam**2 / np.sum(lam**2) - fp.c)) < 1e-6
    assert np.max(np.abs(lam - fp.lambdas)) < 1e-6 * np.max(fp.lambdas)
    assert ib.cosine(fp.w, ib.max_margin(X, y, norm=fp.p)) > 1 - 1e-13
    assert fp.kkt_residual < 1e-14
    T, lam_map = fixed_point_map(X, y, fp.c)
    assert np.sum(np.abs(T - fp.c)) <= 2e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dual_and_cvxpy_inner_solvers_agree(seed: int) -> None:
    X, y = datasets.gaussian(10, 50, seed=seed)
    dual = ib.fixed_point(X, y)
    via_cvxpy = ib.fixed_point(X, y, solver="cvxpy")
    assert dual.solver == "dual" and via_cvxpy.solver.startswith("cvxpy")
    assert ib.cosine(dual.w, via_cvxpy.w) > 1 - 1e-10
    assert np.max(np.abs(dual.c - via_cvxpy.c)) < 1e-6


def test_damping_changes_the_path_not_the_answer() -> None:
    X, y = datasets.gaussian(12, 40, seed=3)
    full = ib.fixed_point(X, y)
    damped = ib.fixed_point(X, y, damping=0.5)
    assert damped.iterations > full.iterations
    assert np.max(np.abs(full.c - damped.c)) < 1e-10
    started_elsewhere = ib.fixed_point(X, y, c0=np.r_[0.9, np.full(11, 0.1 / 11)])
    assert np.max(np.abs(full.c - started_elsewhere.c)) < 1e-10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaussian_fixed_point_matches_adam_proxy_and_differs_from_l2_and_linf(seed: int) -> None:
    X, y = datasets.gaussian(n=10, d=50, seed=seed)
    fp = ib.fixed_point(X, y)
    w_run = adam_proxy_direction(X, y, steps=1_000_000)
    cos_fp = ib.cosine(w_run, fp)
    assert cos_fp > 0.9999
    l2 = ib.max_margin(X, y, "l2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateProblemWarning)  # seed 2's l-inf face is nearly flat
        linf = ib.max_margin(X, y, "linf")
    assert ib.cosine(w_run, l2) < cos_fp - 0.01
    assert ib.cosine(w_run, linf.w_l2unit) < cos_fp - 0.05
    assert ib.cosine(fp.w, l2) < 0.99 and ib.cosine(fp.w, linf.w_l2unit) < 0.95
    # In the P(c*) norm the run attains (almost) the optimal margin.
    assert ib.margin_ratio(w_run, X, y, None, fp) > 0.999


def test_shifted_diagonal_goes_to_linf_not_l2() -> None:
    X, y = datasets.shifted_diagonal(10, delta=0.1)
    fp = ib.fixed_point(X, y)
    assert fp.ok and fp.on_vertex
    assert fp.support.tolist() == [0]  # the smallest a_i is the only support vector
    ones = np.ones(10)
    l2 = ib.max_margin(X, y, "l2")
    linf = ib.max_margin(X, y, "linf")
    assert linf.unique and np.allclose(linf.w, ones, atol=1e-14)
    assert ib.cosine(fp.w, ones) > 1 - 1e-14
    assert ib.cosine(l2.w, ones) < 0.97
    w_run = adam_proxy_direction(X, y, steps=1_000_000)
    assert ib.cosine(w_run, ones) > 1 - 1e-4
    assert ib.cosine(w_run, l2) < 0.97


def test_shifted_diagonal_at_delta_zero_is_reported_degenerate() -> None:
    X, y = datasets.shifted_diagonal(6, delta=0.0)
    with pytest.warns(DegenerateProblemWarning, match="singular"):
        fp = ib.fixed_point(X, y)
    assert fp.degenerate and not fp.ok
    assert "DEGENERATE" in fp.message
    assert fp.norm is None and fp.gamma is None  # no margin comparisons against an undefined norm
    with pytest.raises(DegenerateProblemError, match="singular"):
        ib.fixed_point(X, y, on_degenerate="raise")
    with pytest.warns(DegenerateProblemWarning):
        assert ib.max_margin(X, y, "linf").unique is False


def test_non_convergence_is_reported() -> None:
    X, y = datasets.gaussian(10, 50, seed=0)
    with pytest.warns(ConvergenceWarning, match="did NOT converge"):
        fp = ib.fixed_point(X, y, max_iter=2)
    assert not fp.converged and not fp.ok
    assert fp.iterations == 2 and fp.residuals.shape == (2,)
    assert fp.residuals[-1] > 1e-12


def test_all_zero_coordinates_are_excluded() -> None:
    X, y = datasets.gaussian(8, 20, seed=4)
    padded = np.hstack([X[:, :10], np.zeros((8, 1)), X[:, 10:]])
    fp = ib.fixed_point(padded, y)
    reference = ib.fixed_point(X, y)
    assert fp.ok and fp.w[10] == 0 and fp.p[10] == 0
    assert fp.norm is None  # P(c*) is only a seminorm on the padded space
    assert np.allclose(np.delete(fp.w, 10), reference.w, atol=1e-14)
    assert "all-zero" in fp.message


def test_result_feeds_train_references() -> None:
    require_engine()
    X, y = datasets.gaussian(10, 50, seed=0)
    fp = ib.fixed_point(X, y)
    traj = ib.train(X, y, ib.AdamProxy(), steps=1000, batch_size=10, lr=0.1, checkpoints=5, references={"w*": fp})
    assert np.allclose(traj.cosine["w*"], ib.cosine(traj.w, fp.w))
    assert np.allclose(traj.margin_ratio["w*"], ib.margin_ratio(traj.w, X, y, None, fp))


def test_preconditioner_and_map_helpers() -> None:
    X, y = datasets.gaussian(5, 7, seed=6)
    c = np.array([0.1, 0.2, 0.3, 0.2, 0.2])
    assert np.allclose(adam_preconditioner(X, y, c), np.sqrt(c @ X**2))
    T, lam = fixed_point_map(X, y, c)
    assert abs(T.sum() - 1) < 1e-15 and np.all(lam >= 0)
    Xd, yd = datasets.shifted_diagonal(3, delta=0.0)
    with pytest.raises(DegenerateProblemError, match="^c:"):
        fixed_point_map(Xd, yd, np.array([1.0, 0.0, 0.0]))


X_OK, Y_OK = datasets.gaussian(4, 6, seed=0)


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        ({"damping": 0.0}, ValueError, "damping:"),
        ({"damping": 1.5}, ValueError, "damping:"),
        ({"damping": "half"}, TypeError, "damping:"),
        ({"tol": 0.0}, ValueError, "tol:"),
        ({"max_iter": 0}, ValueError, "max_iter:"),
        ({"max_iter": 2.0}, TypeError, "max_iter:"),
        ({"solver": "newton"}, ValueError, "solver:"),
        ({"on_degenerate": "ignore"}, ValueError, "on_degenerate:"),
        ({"vertex_tol": 1.0}, ValueError, "vertex_tol:"),
        ({"singular_tol": -1.0}, ValueError, "singular_tol:"),
        ({"c0": np.ones(4)}, ValueError, "c0:"),
        ({"c0": np.ones(3) / 3}, ValueError, "c0:"),
        ({"c0": np.array([1.5, -0.5, 0.0, 0.0])}, ValueError, "c0:"),
        ({"X": np.where(X_OK > 1, np.nan, X_OK)}, ValueError, "X:"),
        ({"X": X_OK[:, :, None]}, ValueError, "X:"),
        ({"y": np.r_[Y_OK[:3], 0.5]}, ValueError, "y:"),
        ({"y": Y_OK[:3]}, ValueError, "y:"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, exc: type, name: str) -> None:
    args = {"X": X_OK, "y": Y_OK, **kwargs}
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(exc, match=f"^{name}"):
        ib.fixed_point(X, y, **args)


def test_non_separable_data_raise() -> None:
    with pytest.raises(NotSeparableError, match="^X, y:"):
        ib.fixed_point(np.array([[1.0, 2.0], [-1.0, -2.0]]), np.array([1.0, 1.0]))
