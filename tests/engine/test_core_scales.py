"""Every optimizer on data scaled by 2^k across each dtype's range, against a 200-bit reference.

The reference is written from SPEC.md in mpmath (unbounded exponent range), independent of the core:
it sees the same data values (the float64 set times an exact power of two) and the same
hyper-parameters (the float values the core converts). Inside the documented data range
(``scale.hpp``: every nonzero row's max |x_ij| in [2^kDataExponentMin, 2^kDataExponentMax)) the
run must match it; outside, the data must be refused with a ValueError naming X and the range.
"""

from __future__ import annotations

import functools
import warnings

import mpmath
import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import _core

mpmath.mp.prec = 200

LR = 0.1
STEPS_FULL = 100
STEPS_SAMPLE = 30
RANGE = {
    np.dtype(np.float64): tuple(_core.data_exponent_range_float64),
    np.dtype(np.longdouble): tuple(_core.data_exponent_range_longdouble),
}
OPTIMIZERS = {
    "GD": ib.GD(),
    "SignGD": ib.SignGD(),
    "Adam": ib.Adam(),
    "RMSProp": ib.RMSProp(),
    "AdamProxy": ib.AdamProxy(),
    "Signum": ib.Signum(),
    "AdaGrad": ib.AdaGrad(),
    "Lion": ib.Lion(),
    "AdamEpochMap": ib.AdamEpochMap(),
}
WHOLE_PASS = ("AdamProxy", "AdamEpochMap")


def base_data() -> tuple[np.ndarray, np.ndarray]:
    return ib.datasets.gaussian(n=10, d=3, seed=0)


# -- the reference (SPEC.md, "Optimizers") -------------------------------------------------------


def _sign(x):
    return 0 if x == 0 else (1 if x > 0 else -1)


def _abs_dloss(u):
    return 1 / (1 + mpmath.exp(u))  # logistic: sigmoid(-u), exact in mpmath


def _grads(Z, w, rows):
    """Per-sample gradients g_i = -|l'(u_i)| z_i for the given rows."""
    out = []
    for i in rows:
        u = mpmath.fsum(Z[i][j] * w[j] for j in range(len(w)))
        a = _abs_dloss(u)
        out.append([-a * z for z in Z[i]])
    return out


@functools.cache
def reference(name: str, k: int, per_sample: bool) -> tuple[mpmath.mpf, ...]:
    """w after the test's steps for optimizer `name` on the base data times 2^k (200 bits)."""
    X, y = base_data()
    Z = [[mpmath.ldexp(mpmath.mpf(float(y[i] * X[i, j])), k) for j in range(X.shape[1])] for i in range(X.shape[0])]
    n, d = len(Z), len(Z[0])
    lr = mpmath.mpf(LR)
    b1, b2, beta = mpmath.mpf(0.9), mpmath.mpf(0.999), mpmath.mpf(0.9)
    if name == "RMSProp":
        b1, b2 = mpmath.mpf(0), mpmath.mpf(0.99)
    if name == "Lion":
        b2 = mpmath.mpf(0.99)
    w = [mpmath.mpf(0)] * d
    m = [mpmath.mpf(0)] * d
    v = [mpmath.mpf(0)] * d
    steps = STEPS_SAMPLE if per_sample else STEPS_FULL
    for t in range(steps):
        if name == "AdamProxy":
            gs = _grads(Z, w, range(n))
            for j in range(d):
                s = mpmath.fsum(g[j] for g in gs)
                p = mpmath.sqrt(mpmath.fsum(g[j] ** 2 for g in gs))
                if p != 0:
                    w[j] -= lr * s / p
            continue
        if name == "AdamEpochMap":
            gs = _grads(Z, w, range(n)) if per_sample else [[mpmath.fsum(c) / n for c in zip(*_grads(Z, w, range(n)))]]
            K = len(gs)
            for j in range(d):
                total = mpmath.mpf(0)
                for i in range(K):
                    N = mpmath.fsum(b1 ** ((i - q) % K) * gs[q][j] for q in range(K))
                    D = mpmath.fsum(b2 ** ((i - q) % K) * gs[q][j] ** 2 for q in range(K))
                    if D != 0:
                        total += N / mpmath.sqrt(D)
                w[j] -= lr * total
            continue
        rows = [t % n] if per_sample else range(n)
        gs = _grads(Z, w, rows)
        g = [mpmath.fsum(c) / len(gs) for c in zip(*gs)]
        for j in range(d):
            if name == "GD":
                w[j] -= lr * g[j]
            elif name == "SignGD":
                w[j] -= lr * _sign(g[j])
            elif name in ("Adam", "RMSProp"):
                m[j] = b1 * m[j] + (1 - b1) * g[j]
                v[j] = b2 * v[j] + (1 - b2) * g[j] ** 2
                if v[j] != 0:
                    w[j] -= lr * m[j] / mpmath.sqrt(v[j])
            elif name == "AdaGrad":
                v[j] += g[j] ** 2
                if v[j] != 0:
                    w[j] -= lr * g[j] / mpmath.sqrt(v[j])
            elif name == "Signum":
                m[j] = beta * m[j] + (1 - beta) * g[j]
                w[j] -= lr * _sign(m[j])
            elif name == "Lion":
                c = b1 * m[j] + (1 - b1) * g[j]
                w[j] -= lr * _sign(c)
                m[j] = b2 * m[j] + (1 - b2) * g[j]
    return tuple(w)


def run_core(name: str, k: int, dtype, per_sample: bool) -> np.ndarray:
    X, y = base_data()
    Xs = np.ldexp(X.astype(dtype), k)
    batch = 1 if per_sample else "n"
    steps = STEPS_SAMPLE if per_sample else STEPS_FULL
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a divergence or saturation warning fails the comparison
        traj = ib.train(Xs, y.astype(dtype), OPTIMIZERS[name], steps=steps, batch_size=batch, lr=LR, dtype=dtype)
    return traj.w[-1]


def assert_matches(got: np.ndarray, want: tuple, dtype, what: str) -> None:
    # Compare in the mantissa: the reference is converted with its exponent kept exact.
    for j, (g, r) in enumerate(zip(got, want)):
        if r == 0:
            assert g == 0, f"{what}: coordinate {j} is {g}, reference 0"
            continue
        mant, ex = mpmath.frexp(r)
        got_m = float(np.ldexp(np.asarray(g, dtype=dtype), -int(ex)))
        assert got_m == pytest.approx(float(mant), rel=1e-8, abs=0), (
            f"{what}: coordinate {j}: {g} vs {mpmath.nstr(r, 17)}"
        )


def scales(dtype) -> list[int]:
    lo, hi = RANGE[np.dtype(dtype)]
    # The base data's row maxima lie in [2^-1, 2^2) (checked below): 2^k puts them in [2^(k-1), 2^(k+2)).
    inner = [lo + 1, lo + 60, -600, -300, -64, -20, 0, 20, 40]
    if np.dtype(dtype) == np.dtype(np.longdouble) and np.finfo(np.longdouble).maxexp > 1024:
        inner += [-5000, -1100]
    return sorted(set(inner))


def test_base_data_row_maxima_in_one_binade():
    X, _ = base_data()
    e = np.floor(np.log2(np.abs(X).max(axis=1)))
    assert e.min() == -1 and e.max() == 1


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_full_batch_matches_200_bit_reference_across_scales(name, dtype):
    for k in scales(dtype):
        got = run_core(name, k, dtype, per_sample=False)
        assert_matches(got, reference(name, k, False), dtype, f"{name} full batch, X * 2^{k}")


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "AdamProxy"])
def test_per_sample_matches_200_bit_reference_across_scales(name, dtype):
    lo, _ = RANGE[np.dtype(dtype)]
    for k in (lo + 1, -300, 0, 30):
        got = run_core(name, k, dtype, per_sample=True)
        assert_matches(got, reference(name, k, True), dtype, f"{name} batch_size=1, X * 2^{k}")


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_scale_invariant_stateless_exact_at_huge_margins(dtype):
    # Margins far beyond the scale's cap (~8e17): SignGD, AdamProxy and the epoch map normalize each
    # batch by its own largest gradient, so they still match the reference (the min-margin sample leads).
    _, hi = RANGE[np.dtype(dtype)]
    for name in ("SignGD", "AdamProxy", "AdamEpochMap"):
        for k in (80, hi - 2):
            got = run_core(name, k, dtype, per_sample=False)
            assert_matches(got, reference(name, k, False), dtype, f"{name}, X * 2^{k}")


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_stateful_optimizers_follow_huge_margins_on_large_data(dtype):
    # Margins ~2^80 after the first step: the new gradients are negligible against the state, as in
    # the reference (E follows the decaying state, far from its cap).
    for name in ("Adam", "Signum", "Lion", "AdaGrad", "GD"):
        got = run_core(name, 80, dtype, per_sample=False)
        assert_matches(got, reference(name, 80, False), dtype, f"{name}, X * 2^80")


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_stateful_optimizer_at_saturated_scale_warns(dtype):
    # A w0 whose margins exceed the scale's reach (~8e17): Adam's first gradient is exp(-1e18), beyond
    # the capped exponent; the run says so instead of silently standing still.
    X, y = base_data()
    w0 = 2e19 * np.array([1.0, -1.0, 3.0]) / np.sqrt(11.0)
    assert np.all(y * (X @ w0) > 1e18)
    with pytest.warns(RuntimeWarning, match="no longer exact"):
        ib.train(X.astype(dtype), y.astype(dtype), ib.Adam(), steps=5, batch_size="n", dtype=dtype, w0=w0)


def _row_data(dtype, exponent: int, mantissa: float) -> tuple[np.ndarray, np.ndarray]:
    X, y = base_data()
    X = X.astype(dtype) / np.abs(X).max(axis=1, keepdims=True)  # row maxima exactly 1
    X[3] *= np.ldexp(np.asarray(mantissa, dtype=dtype), exponent)
    return X, y.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["float64", "longdouble"])
def test_data_outside_the_documented_range_is_refused_naming_X_and_the_range(dtype):
    lo, hi = RANGE[np.dtype(dtype)]
    # At the edges: accepted.
    for exponent, mantissa in ((lo, 1.0), (hi - 1, 1.999)):
        X, y = _row_data(dtype, exponent, mantissa)
        ib.Run(X, y, ib.Adam(), dtype=dtype)
    # One binade beyond: refused, naming X, the row and the range.
    for exponent, mantissa in ((lo - 1, 1.999), (hi, 1.0)):
        X, y = _row_data(dtype, exponent, mantissa)
        with pytest.raises(ValueError, match=rf"X: row 3 .*\[2\^{lo}, 2\^{hi}\)"):
            ib.Run(X, y, ib.Adam(), dtype=dtype)


def test_documented_range_is_the_one_in_docs():
    import pathlib

    text = (pathlib.Path(__file__).parents[2] / "docs" / "math.md").read_text()
    lo, hi = RANGE[np.dtype(np.float64)]
    assert f"2^{lo}" in text and f"2^{hi}" in text
