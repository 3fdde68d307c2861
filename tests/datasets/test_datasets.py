"""Data set generators: structure, seeding, separability, validation."""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import datasets
from implicit_bias.errors import NotSeparableError


def z_matrix(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return y[:, None] * X


@pytest.mark.parametrize("labels", ["random", "teacher", "auto"])
def test_gaussian_is_seeded_separable_and_shaped(labels: str) -> None:
    X, y = datasets.gaussian(n=10, d=50, seed=0, labels=labels)
    assert X.shape == (10, 50) and y.shape == (10,) and X.dtype == np.float64
    assert set(np.unique(y)) <= {-1.0, 1.0}
    assert datasets.is_separable(X, y)
    X2, y2 = datasets.gaussian(n=10, d=50, seed=0, labels=labels)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = datasets.gaussian(n=10, d=50, seed=1, labels=labels)
    assert not np.array_equal(X, X3)


def test_gaussian_teacher_margin_is_respected() -> None:
    # Every kept row has |<x, u>| > margin for the unit teacher u, so the l2 max margin exceeds it.
    X, y = datasets.gaussian(n=200, d=5, seed=3, labels="teacher", margin=0.5)
    assert X.shape == (200, 5)
    assert ib.max_margin(X, y).gamma > 0.5
    X0, y0 = datasets.gaussian(n=200, d=5, seed=3, labels="teacher")
    assert ib.max_margin(X0, y0).gamma < 0.5  # without the margin, points crowd the boundary


def test_gaussian_auto_labels_switch_to_teacher_when_n_exceeds_d() -> None:
    X, y = datasets.gaussian(n=100, d=4, seed=2)
    assert datasets.is_separable(X, y)
    with pytest.raises(NotSeparableError, match="^labels:"):
        datasets.gaussian(n=100, d=4, seed=2, labels="random")


def test_gaussian_mean_and_covariance() -> None:
    mean = np.array([5.0, -5.0, 0.0])
    X, _ = datasets.gaussian(n=3000, d=3, seed=4, mean=mean, cov=np.array([1.0, 4.0, 0.25]), labels="teacher")
    assert np.allclose(X.mean(axis=0), mean, atol=0.15)
    assert np.allclose(X.std(axis=0), [1.0, 2.0, 0.5], rtol=0.08)
    cov = np.array([[2.0, 1.0], [1.0, 2.0]])
    Xc, _ = datasets.gaussian(n=4000, d=2, seed=5, cov=cov, labels="teacher")
    assert np.allclose(np.cov(Xc.T), cov, atol=0.2)


def test_generalized_rademacher_structure() -> None:
    scales = np.linspace(0.5, 3.0, 8)
    X, y = datasets.generalized_rademacher(n=8, d=20, seed=1, scales=scales)
    assert np.allclose(np.abs(X), scales[:, None])  # every row: equal magnitudes a_i
    assert datasets.is_separable(X, y)
    # Hence P(c) = sqrt(sum_i c_i a_i^2) I for every c on the simplex.
    c = np.random.default_rng(0).dirichlet(np.ones(8))
    p = ib.references.adam_preconditioner(X, y, c)
    assert np.allclose(p, np.sqrt(c @ scales**2), rtol=1e-15)
    Xt, yt = datasets.generalized_rademacher(n=60, d=10, seed=2)  # n > d: teacher labels
    assert datasets.is_separable(Xt, yt) and np.unique(np.abs(Xt), axis=1).shape[1] == 1
    X_default, _ = datasets.generalized_rademacher(n=8, d=20, seed=1)
    a = np.abs(X_default[:, 0])
    assert np.all((a >= 0.5) & (a <= 2.0)) and np.unique(a).size == 8


def test_shifted_diagonal_structure() -> None:
    X, y = datasets.shifted_diagonal(5, delta=0.1)
    a = np.arange(1, 6) / 5
    assert np.array_equal(X, np.diag(a) + 0.1)
    assert np.array_equal(y, np.ones(5))
    X0, _ = datasets.shifted_diagonal(4, delta=0.0, scales=[4.0, 1.0, 3.0, 2.0])
    assert np.array_equal(X0, np.diag([4.0, 1.0, 3.0, 2.0]))


def test_long_double_output() -> None:
    for X, y in (
        datasets.gaussian(4, 6, dtype=np.longdouble),
        datasets.generalized_rademacher(4, 6, dtype=np.longdouble),
        datasets.shifted_diagonal(4, dtype=np.longdouble),
    ):
        assert X.dtype == np.longdouble and y.dtype == np.longdouble


def test_validate_accepts_good_data_and_rejects_non_separable() -> None:
    X, y = datasets.validate([[1, 2], [2, 1]], [1, 1])
    assert X.dtype == np.float64 and X.flags.c_contiguous and y.tolist() == [1.0, 1.0]
    with pytest.raises(NotSeparableError, match="^X, y:"):
        datasets.validate([[1.0, 0.0], [-1.0, 0.0]], [1, 1])
    with pytest.raises(ValueError, match="^y:"):
        datasets.validate([[1.0, 0.0], [2.0, 0.0]], [1, 2])


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: datasets.gaussian(0, 5), ValueError, "n:"),
        (lambda: datasets.gaussian(5, 2.5), TypeError, "d:"),
        (lambda: datasets.gaussian(5, 5, seed=-1), ValueError, "seed:"),
        (lambda: datasets.gaussian(5, 5, labels="noisy"), ValueError, "labels:"),
        (lambda: datasets.gaussian(5, 5, labels="random", margin=0.1), ValueError, "margin:"),
        (lambda: datasets.gaussian(5, 5, margin=-1.0, labels="teacher"), ValueError, "margin:"),
        (lambda: datasets.gaussian(5, 5, margin=100.0, labels="teacher"), ValueError, "margin:"),
        (lambda: datasets.gaussian(5, 5, mean=np.ones(4)), ValueError, "mean:"),
        (lambda: datasets.gaussian(5, 5, mean=[np.nan] * 5), ValueError, "mean:"),
        (lambda: datasets.gaussian(5, 2, cov=-np.eye(2)), ValueError, "cov:"),
        (lambda: datasets.gaussian(5, 2, cov=[[1.0, 2.0], [0.0, 1.0]]), ValueError, "cov:"),
        (lambda: datasets.gaussian(5, 2, cov=np.ones(3)), ValueError, "cov:"),
        (lambda: datasets.gaussian(5, 5, dtype=np.float32), TypeError, "dtype:"),
        (lambda: datasets.generalized_rademacher(3, 5, scales=[1.0, -1.0, 2.0]), ValueError, "scales:"),
        (lambda: datasets.generalized_rademacher(3, 5, scales=[1.0, 2.0]), ValueError, "scales:"),
        (lambda: datasets.shifted_diagonal(3, delta=-0.1), ValueError, "delta:"),
        (lambda: datasets.shifted_diagonal(3, scales=[1.0, 1.0, 2.0]), ValueError, "scales:"),
        (lambda: datasets.shifted_diagonal(3, scales=[1.0, 0.0, 2.0]), ValueError, "scales:"),
    ],
)
def test_bad_arguments_name_the_argument(call, exc: type, name: str) -> None:
    with pytest.raises(exc, match=f"^{name}"):
        call()
