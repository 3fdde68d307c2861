"""References are scale-equivariant (issue 11): X -> X * s keeps every direction and scales gamma.

Independent references: the answer on the unscaled data (the math says the direction is the same
and gamma scales by s, by sqrt(s) for the fixed point, whose norm P(c) scales with the data), and
the change of variables w = D^-1 v (a column scaling D turns l2 into the Mahalanobis norm diag(D^-2)).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias.errors import DegenerateProblemWarning, NotSeparableError

X0, Y0 = ib.datasets.gaussian(n=10, d=3, seed=0)
M_DIAG = np.array([1.0, 2.0, 3.0])
NORMS = {
    "l2": "l2",
    "linf": "linf",
    "l1": "l1",
    "diag": M_DIAG,
    "matrix": np.array([[2, 0.5, 0], [0.5, 1, 0], [0, 0, 3]]),
}
BASE = {name: ib.max_margin(X0, Y0, norm) for name, norm in NORMS.items()}
FP0 = ib.fixed_point(X0, Y0, starts=1)

#: Powers of two across the float64 range (|X0| in [0.04, 2.3]: at 2^-1021 some entries are subnormal
#: with ~48 bits left; 2^1021 * 2.3 is still finite), and decades.
POW2 = [2.0**k for k in (-1021, -1015, -700, -300, -30, -1, 1, 30, 300, 700, 1021)]
DECADES = [10.0**k for k in (-300, -200, -100, -30, -9, -6, 6, 9, 15, 30, 100, 200, 300)]


def one_minus_cos(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("s", POW2 + DECADES)
@pytest.mark.parametrize("name", list(NORMS))
def test_max_margin_is_scale_equivariant(name: str, s: float) -> None:
    result = ib.max_margin(X0 * s, Y0, NORMS[name])
    exact = s in POW2 and s >= 2.0**-1015  # below that some entries are subnormal: rounded
    assert one_minus_cos(result.w_l2unit, BASE[name].w_l2unit) < (1e-15 if exact else 1e-12)
    assert abs(float(result.gamma) / (s * float(BASE[name].gamma)) - 1) < (1e-14 if exact else 1e-11)
    assert result.support.tolist() == BASE[name].support.tolist()
    assert result.unique == BASE[name].unique
    assert result.kkt_residual < 1e-12
    if exact:  # the multipliers scale by 1/s^2 (quadratic problems) or 1/s (LPs) where representable
        power = 2 if name in ("l2", "diag", "matrix") else 1
        with np.errstate(over="ignore", under="ignore"):
            expected = BASE[name].duals / np.float64(s) ** power
        ok = np.isfinite(expected) & (expected > np.finfo(float).tiny)
        assert np.allclose(result.duals[ok], expected[ok], rtol=1e-13, atol=0)


@pytest.mark.parametrize("s", POW2 + DECADES)
def test_fixed_point_and_separability_are_scale_equivariant(s: float) -> None:
    assert ib.is_separable(X0 * s, Y0)
    w = ib.check_separable(X0 * s, Y0)
    margins = (Y0[:, None] * X0 * s) @ w
    assert np.all(np.isfinite(w)) and np.min(margins) > 0
    if s >= 1e-300:  # a certificate with min margin 1 is representable
        assert abs(np.min(margins) - 1) < 1e-12
    fp = ib.fixed_point(X0 * s, Y0, starts=1)
    assert fp.ok
    assert one_minus_cos(fp.w, FP0.w) < 1e-12
    assert np.allclose(fp.c, FP0.c, rtol=0, atol=1e-12)
    assert np.allclose(fp.p / s, FP0.p, rtol=1e-12)  # P(c) is homogeneous of degree 1
    assert abs(fp.gamma / (np.sqrt(s) * FP0.gamma) - 1) < 1e-11  # margin in ||.||_P: degree 1/2


@pytest.mark.parametrize("s", [2.0**-1000, 1e-300, 1e300])
def test_non_separable_data_stay_non_separable_at_any_scale(s: float) -> None:
    X, y = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 1.0, 1.0])
    assert not ib.is_separable(X * s, y)
    for norm in ("l2", "linf"):
        with pytest.raises(NotSeparableError, match="X, y:"):
            ib.max_margin(X * s, y, norm)
    with pytest.raises(NotSeparableError):
        ib.fixed_point(X * s, y)


@pytest.mark.parametrize("s", [2.0**-900, 1e-200, 1e250])
def test_non_uniqueness_is_still_detected_at_any_scale(s: float) -> None:
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 1.0])  # l-inf face w2 in [1/2, 1]
    with pytest.warns(DegenerateProblemWarning, match="NOT unique"):
        linf = ib.max_margin(X * s, y, "linf")
    assert linf.unique is False and linf.face_diameter > 0.4
    assert abs(linf.gamma / s - 1) < 1e-12


@pytest.mark.parametrize("factor", [1e-12, 1e-6, 1e6, 1e10, 1e12])
@pytest.mark.parametrize("where", ["column", "row"])
def test_separability_ignores_column_and_row_scales(where: str, factor: float) -> None:
    X = X0.copy()
    if where == "column":
        X[:, 0] *= factor
    else:
        X[3] *= factor
    assert ib.is_separable(X, Y0)
    w = ib.check_separable(X, Y0)
    margins = (Y0[:, None] * X) @ w
    assert np.min(margins) > 0 and abs(np.min(margins) - 1) < 1e-9
    XOR = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    bad = XOR * np.array([1.0, factor]) if where == "column" else XOR * np.array([[1], [factor], [1], [1]])
    assert not ib.is_separable(bad, np.array([1.0, 1.0, -1.0, -1.0]))


@pytest.mark.parametrize("factor", [1e-8, 1e-6, 1e-4, 1e3, 1e5])
def test_l2_on_a_scaled_column_matches_the_mahalanobis_change_of_variables(factor: float) -> None:
    D = np.array([factor, 1.0, 1.0])
    scaled = ib.max_margin(X0 * D, Y0, "l2")
    # min ||w||^2 s.t. Z D w >= 1  <=>  v = D w: min v^T D^-2 v s.t. Z v >= 1, w = v / D.
    maha = ib.max_margin(X0, Y0, 1 / D**2)
    tol = 1e-12 if scaled.polished else 1e-7  # unpolished: Clarabel's accuracy, said in the note
    assert scaled.polished or "polish failed" in scaled.note
    assert one_minus_cos(scaled.w_l2unit, maha.w_l2unit / D) < tol
    assert abs(scaled.gamma / maha.gamma - 1) < tol


def test_linf_on_a_column_scaled_by_1e10_is_certified_or_refused() -> None:
    X = X0.copy()
    X[:, 0] *= 1e10  # issue 11: NotSeparableError whose message reported a positive margin
    linf = ib.max_margin(X, Y0, "linf")
    assert linf.kkt_residual < 1e-5  # KKT (optimality certificate) in long double
    assert abs(ib.normalized_margin(linf.w, X, Y0, "linf") / linf.gamma - 1) < 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:  # the l2 dual's Gram matrix has a 1e20 spread: an answer must be right, or a clear refusal
            l2 = ib.max_margin(X, Y0, "l2")
        except RuntimeError as exc:
            assert "rescale the columns of X" in str(exc)
        else:
            assert l2.kkt_residual < 1e-9
