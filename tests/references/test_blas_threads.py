"""The dual QP / fixed-point solver runs BLAS on one thread, and its answers do not depend on how
many threads BLAS would otherwise use (threadpoolctl)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import implicit_bias as ib
from implicit_bias.references import qp


def data(n=120, d=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)
    return X, y


def answers():
    X, y = data()
    fp = ib.fixed_point(X, y, starts=1)
    mm = ib.max_margin(X, y, norm="l2")
    sol = qp.solve_dual_qp(y[:, None] * X)
    return fp.w, fp.c, fp.lambdas, fp.residuals, mm.w, sol.lambdas, sol.margins


def blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_solver_limits_blas_to_one_thread_and_restores_it():
    if not blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    before = blas_threads()
    seen = []
    original = qp._solve

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qp, "_solve", spy)
        X, y = data(n=20, d=30)
        ib.fixed_point(X, y, starts=1)
    assert seen and all(all(n == 1 for n in threads) for threads in seen)
    assert blas_threads() == before


@pytest.mark.parametrize("outer", [1, 2, 4])
def test_answers_identical_with_one_and_many_blas_threads(outer):
    reference = answers()
    with threadpool_limits(limits=outer, user_api="blas"):
        got = answers()
    for a, b in zip(reference, got):
        np.testing.assert_array_equal(a, b)


def test_answers_identical_to_the_unlimited_solver():
    """Without the limit, with 4 BLAS threads, the solver gives the same bits (so limiting changes
    speed only)."""
    limited = answers()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(qp, "one_blas_thread", contextlib.nullcontext)
        with threadpool_limits(limits=4, user_api="blas"):
            unlimited = answers()
    for a, b in zip(limited, unlimited):
        np.testing.assert_array_equal(a, b)
