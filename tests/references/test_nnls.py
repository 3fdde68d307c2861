"""The package's NNLS (references/nnls.py): Lawson-Hanson and the checked entry point, against the KKT
conditions and SciPy's bounded-variable solver."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import lsq_linear

from implicit_bias.references.nnls import lawson_hanson, nnls, satisfies_kkt


def check_kkt(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> None:
    """x >= 0; the gradient A^T (A x - b) is >= 0 everywhere and ~0 where x > 0 (optimality)."""
    scale = max(np.abs(A).max(initial=0.0) * max(np.abs(b).max(initial=0.0), 1.0), 1.0) * A.shape[0]
    grad = A.T @ (A @ x - b)
    assert np.all(x >= 0)
    assert np.all(grad >= -1e-10 * scale)
    assert np.all(np.abs(grad[x > 0]) <= 1e-10 * scale)


@settings(max_examples=80, deadline=None)
@given(
    m=st.integers(1, 12),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    repeat=st.booleans(),
)
def test_nnls_is_optimal_and_matches_bvls(m: int, n: int, seed: int, repeat: bool) -> None:
    """Random problems, over- and under-determined, with repeated columns (rank-deficient faces)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    if repeat and n > 1:
        A[:, -1] = A[:, 0] * rng.uniform(0.5, 2.0)
    b = rng.standard_normal(m)
    reference = lsq_linear(A, b, bounds=(0.0, np.inf), method="bvls", tol=1e-15)
    for solver in (lawson_hanson, nnls):
        x, rnorm = solver(A, b)
        check_kkt(A, b, x)
        assert satisfies_kkt(A, b, x)
        assert rnorm == pytest.approx(np.linalg.norm(A @ x - b), rel=1e-12, abs=1e-14)
        # the minimum residual is unique even where the minimizer is not (repeated columns)
        assert rnorm <= np.linalg.norm(A @ reference.x - b) + 1e-10 * (1 + np.linalg.norm(b))


def test_the_three_point_face_scipy_1_15_got_wrong():
    """The LDP system of the 3-point, 1-D set on which scipy.optimize.nnls 1.15.3 returned a point whose
    max-margin direction had minimum margin 0.956 (tests/references/test_maxmargin.py): here u puts all
    weight on the closest point, as the l2 max margin requires."""
    G = np.array([[-0.34558419], [-0.82161814], [-0.33043708]])
    E = np.vstack([G.T, np.ones((1, 3))])
    f = np.array([0.0, 1.0])
    for solver in (lawson_hanson, nnls):
        u, _ = solver(E, f)
        check_kkt(E, f, u)
        assert u[0] == 0 and u[1] == 0 and u[2] > 0
        v = -(E @ u - f)[:1] / (E @ u - f)[1]
        assert np.min(G @ v) == pytest.approx(1.0, rel=1e-12)
    # a suboptimal point like SciPy 1.15's (weight on the two far points) fails the check
    assert not satisfies_kkt(E, f, np.array([3.06157074, 0.0, 5.55512852]) / 9.61669926)


def test_a_failing_scipy_answer_is_replaced(monkeypatch):
    """nnls() runs Lawson-Hanson when SciPy's point fails the KKT check, and keeps the better one."""
    import implicit_bias.references.nnls as module

    monkeypatch.setattr(module, "scipy_nnls", lambda A, b, maxiter=None: (np.zeros(A.shape[1]), 0.0))
    A, b = np.eye(2), np.array([-1.0, 2.0])
    x, rnorm = nnls(A, b)
    assert x == pytest.approx([0.0, 2.0]) and rnorm == pytest.approx(1.0)


def test_edge_cases():
    x, rnorm = lawson_hanson(np.zeros((3, 2)), np.ones(3))  # nothing can lower the residual
    assert np.all(x == 0) and rnorm == pytest.approx(np.sqrt(3))
    x, rnorm = lawson_hanson(np.eye(2), np.array([-1.0, 2.0]))  # one coordinate clamps at 0
    assert x == pytest.approx([0.0, 2.0]) and rnorm == pytest.approx(1.0)
    with pytest.raises(RuntimeError, match="no convergence"):
        lawson_hanson(np.eye(3), np.ones(3), max_iter=1)
