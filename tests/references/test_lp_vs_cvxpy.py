"""The l-inf / l1 LPs (scipy linprog, HiGHS) against CVXPY (Clarabel, an interior-point method) on
random and degenerate data, and the LP paths' independence from CVXPY (issue 12, item 2)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias.errors import DegenerateProblemWarning

cp = pytest.importorskip("cvxpy")


def cvxpy_lp(Z: np.ndarray, kind: str) -> tuple[float, np.ndarray]:
    """Optimal normalized margin and a maximiser of ``max s s.t. Zw >= s, ||w||_p <= 1``, by Clarabel."""
    w, s = cp.Variable(Z.shape[1]), cp.Variable()
    ball = cp.norm_inf(w) <= 1 if kind == "linf" else cp.norm1(w) <= 1
    cp.Problem(cp.Maximize(s), [Z @ w >= s, ball]).solve(solver="CLARABEL")
    return float(s.value), np.asarray(w.value)


@pytest.mark.parametrize("kind", ["linf", "l1"])
@pytest.mark.parametrize(("n", "d", "seed"), [(10, 3, 0), (20, 5, 1), (40, 40, 2), (8, 60, 3), (100, 10, 4)])
def test_linprog_matches_cvxpy_on_random_data(kind: str, n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sign(X @ rng.standard_normal(d))
    gamma_cvx, w_cvx = cvxpy_lp(y[:, None] * X, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateProblemWarning)
        ours = ib.max_margin(X, y, kind)
    assert abs(ours.gamma / gamma_cvx - 1) < 1e-7  # Clarabel's accuracy
    assert ours.kkt_residual < 1e-12  # the vertex polish certifies ours to rounding
    if ours.unique:
        size = np.max(np.abs(w_cvx)) if kind == "linf" else np.sum(np.abs(w_cvx))
        assert np.max(np.abs(ours.w - w_cvx / size)) < 1e-5
    assert ours.solver.startswith("HIGHS")


@pytest.mark.parametrize("kind", ["linf", "l1"])
def test_explicit_cvxpy_solver_agrees_with_linprog(kind: str) -> None:
    X, y = ib.datasets.gaussian(n=12, d=4, seed=5)
    via_linprog = ib.max_margin(X, y, kind)
    via_cvxpy = ib.max_margin(X, y, kind, solver="CLARABEL")
    assert via_cvxpy.solver.startswith("CLARABEL")
    assert abs(via_cvxpy.gamma / via_linprog.gamma - 1) < 1e-12  # both polished on the same vertex
    assert np.allclose(via_cvxpy.w, via_linprog.w, atol=1e-12)


def test_degenerate_data_agree_with_cvxpy() -> None:
    # shifted_diagonal(delta=0): a non-unique l-inf optimum; duplicated rows; a tie between supports.
    X0, y0 = ib.datasets.shifted_diagonal(6, delta=0.0)
    with pytest.warns(DegenerateProblemWarning, match="NOT unique"):
        flat = ib.max_margin(X0, y0, "linf")
    assert flat.unique is False and abs(flat.gamma / cvxpy_lp(y0[:, None] * X0, "linf")[0] - 1) < 1e-7
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.ones(4)
    for kind in ("linf", "l1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateProblemWarning)
            ours = ib.max_margin(X, y, kind)
        assert abs(ours.gamma / cvxpy_lp(X, kind)[0] - 1) < 1e-7
        assert ours.unique is not None


def test_linf_path_does_not_import_cvxpy() -> None:
    code = (
        "import sys, implicit_bias as ib; X, y = ib.datasets.gaussian(n=10, d=3, seed=0); "
        "ib.max_margin(X, y, 'linf'); ib.max_margin(X, y, 'l1'); ib.is_separable(X, y); "
        "print('cvxpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert "HiGHS" not in out.stdout + out.stderr  # no solver banner
