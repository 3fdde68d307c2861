"""The package's batch fixed point and rho against the independent NumPy reference
(tests/reference_fixedpoint.py, written from SPEC without the package's code)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import implicit_bias as ib
import reference_fixedpoint as R
from implicit_bias.references.preconditioner import BatchStructure, rho

ORDERS = ("cyclic", "reshuffle", "replacement")


def _data(n: int, d: int, seed: int, repeat: bool = False):
    X, y = ib.datasets.gaussian(n=n, d=d, seed=seed)
    if repeat:  # the last row repeats the first: copies sit in different batches
        X, y = X.copy(), y.copy()
        X[-1], y[-1] = X[0], y[0]
    return X, y


@pytest.mark.parametrize("n", [5, 7, 10, 12])
def test_rho_matches_the_reference_for_every_batch_size(n: int) -> None:
    for b in range(1, n + 1):
        for order in ("reshuffle", "replacement"):
            assert rho(n, b, order) == pytest.approx(R.rho(n, b, order), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("b", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("order", ORDERS)
def test_preconditioner_matches_the_reference(b: int, order: str) -> None:
    X, y = _data(10, 20, seed=b)
    Z = y[:, None] * X
    c = np.random.default_rng(b).dirichlet(np.ones(10))
    ours = BatchStructure(10, b, order).p(Z, c)
    theirs = R.batch_preconditioner(Z, np.sqrt(c), b, order)
    np.testing.assert_allclose(ours / ours.max(), theirs / theirs.max(), rtol=1e-13)


@pytest.mark.parametrize(
    "n, d, seed, b, order, repeat",
    [
        (10, 50, 0, 2, "cyclic", False),
        (10, 50, 1, 3, "cyclic", False),  # b does not divide n: a last batch of 1
        (10, 50, 2, 5, "reshuffle", False),
        (10, 50, 0, 3, "reshuffle", False),  # exact expectation with a smaller last batch
        (10, 50, 1, 4, "replacement", False),
        (10, 50, 2, 10, "replacement", False),
        (9, 30, 3, 3, "cyclic", True),  # repeated row, copies in batches of equal size
        (10, 30, 4, 3, "cyclic", True),  # repeated row, copies in batches of size 3 and 1
        (10, 30, 4, 3, "reshuffle", True),
        (8, 20, 5, 1, "cyclic", True),
    ],
)
def test_batch_fixed_point_matches_the_reference(n, d, seed, b, order, repeat) -> None:
    X, y = _data(n, d, seed, repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = ib.fixed_point(X, y, batch_size=b, order=order, starts=1)
        theirs = R.batch_fixed_point(X, y, b, order)
    assert ours.converged and theirs.converged
    assert 1 - float(ours.w @ theirs.w) < 1e-12
    # the duals agree too (normalized the same way), repeated rows split alike
    np.testing.assert_allclose(ours.lambdas / ours.lambdas.sum(), theirs.lam / theirs.lam.sum(), atol=1e-9)


@pytest.mark.parametrize("order", ["cyclic", "reshuffle"])
def test_full_batch_is_linf_in_both(order: str) -> None:
    X, y = _data(10, 50, 0)
    ours = ib.fixed_point(X, y, batch_size=10, order=order)
    theirs = R.batch_fixed_point(X, y, 10, order)
    assert ours.limit == "linf" and theirs.kind == "linf"
    linf = ib.max_margin(X, y, "linf")
    assert ib.margin_ratio(theirs.w, X, y, "linf", linf) == pytest.approx(1.0, abs=1e-9)
    assert ib.margin_ratio(ours.w, X, y, "linf", linf) == pytest.approx(1.0, abs=1e-12)
