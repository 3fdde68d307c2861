"""Inputs the engine used to accept silently (issue 11): non-separable data, integers a float64
cannot hold, optimizers changed after validation, more checkpoints than steps, absurd thread counts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias.engine import log_grid
from implicit_bias.engine.prepared import LP_CHECK_LIMIT, nonseparable_reason
from implicit_bias.errors import NotSeparableWarning

XOR = (np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]), np.array([1.0, 1.0, -1.0, -1.0]))
# Three signed rows at 120 degrees sum to 0: no w gives all three a positive margin, yet no row is
# zero or minus another, so only the LP can tell.
TRIANGLE = (np.array([[1.0, 0.0], [-0.5, 0.75**0.5], [0.5, 0.75**0.5]]), np.array([1.0, 1.0, -1.0]))


def separable(n=8, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)


def nonseparable_cases():
    X, y = separable()
    dup = np.vstack([X, X[2]]), np.append(y, -y[2])  # the same point with the opposite label
    opposite = np.vstack([X, -X[4]]), np.append(y, y[4])  # the opposite point with the same label
    zero = np.vstack([X, np.zeros(3)]), np.append(y, 1.0)
    return {
        "xor": (*XOR, "rows 0 and 1"),
        "triangle": (*TRIANGLE, "separability LP"),
        "duplicate": (*dup, "rows 2 and 8"),
        "opposite": (*opposite, "rows 4 and 8"),
        "zero row": (*zero, "row 8 of X is zero"),
    }


# --------------------------------------------------------------------------------- separability
@pytest.mark.parametrize("case", list(nonseparable_cases()))
def test_non_separable_data_warn_with_the_reason(case):
    X, y, reason = nonseparable_cases()[case]
    with pytest.warns(NotSeparableWarning, match="not linearly separable") as record:
        traj = ib.train(X, y, ib.GD(), steps=5)
    assert reason in str(record[0].message) and "check_separable=False" in str(record[0].message)
    assert traj.steps[-1] == 5  # it still runs: the CLI / experiments decide whether to refuse


@pytest.mark.parametrize("case", list(nonseparable_cases()))
def test_check_separable_false_skips_the_check(case):
    X, y, _ = nonseparable_cases()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ib.train(X, y, ib.GD(), steps=5, check_separable=False)
        ib.Run(X, y, ib.Adam(), check_separable=False)


@pytest.mark.parametrize("scale", [1e-200, 1.0, 1e200])
def test_separable_data_do_not_warn_at_any_scale(scale):
    X, y = separable(n=40, d=3, seed=1)  # n > d: the LP decides, on rows scaled to max |z_ij| = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ib.train(X * scale, y, ib.SignGD(), steps=3)
        ib.train(np.asarray(X * scale, dtype=np.longdouble), y, ib.SignGD(), steps=3)


def test_train_many_checks_the_data_once():
    X, y = XOR
    with pytest.warns(NotSeparableWarning) as record:
        ib.train_many(X, y, [dict(optimizer=ib.GD()), dict(optimizer=ib.Adam())], steps=3)
    assert len([w for w in record if issubclass(w.category, NotSeparableWarning)]) == 1


def test_the_lp_is_skipped_above_its_size_limit_but_the_exact_checks_are_not():
    X, y = TRIANGLE
    Z = y[:, None] * X
    assert "LP" in nonseparable_reason(Z)
    assert nonseparable_reason(Z, lp_limit=0) is None  # the triangle needs the LP
    dup = np.vstack([Z, -Z[1]])
    assert "rows 1 and 3" in nonseparable_reason(dup, lp_limit=0)
    assert LP_CHECK_LIMIT >= 10**5


def test_the_exact_check_agrees_with_a_brute_force_search():
    rng = np.random.default_rng(5)
    for _ in range(50):
        Z = rng.integers(-1, 2, size=(6, 2)).astype(float)
        brute = next(((i, j) for i in range(6) for j in range(i + 1, 6) if np.all(Z[i] == -Z[j])), None)
        zero = np.flatnonzero(~Z.any(axis=1))
        reason = nonseparable_reason(Z, lp_limit=0)
        if zero.size:
            assert reason == f"row {zero[0]} of X is zero, so its margin is 0 for every w"
        elif brute is None:
            assert reason is None
        else:
            assert reason.startswith("rows ") and np.all(Z[int(reason.split()[1])] == -Z[int(reason.split()[3])])


# ------------------------------------------------------------------------------ integer precision
@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63) + 1])
def test_int64_beyond_float64_precision_is_refused(value):
    X, y = separable(n=4, d=2)
    Xi = np.round(X * 100).astype(np.int64)
    Xi[1, 0] = value
    with pytest.raises(ValueError, match=rf"^X: holds the integer {value}"):
        ib.train(Xi, y, ib.GD(), steps=1, check_separable=False)


def test_representable_large_integers_and_longdouble_targets_are_exact():
    X, y = separable(n=4, d=2)
    Xi = np.round(X * 100).astype(np.int64)
    Xi[0, 0], Xi[1, 1], Xi[2, 0] = 2**53, -(2**63), 2**60  # all exactly float64
    run = ib.Run(Xi, y, ib.GD(), check_separable=False)
    assert [int(v) for v in (run.X[0, 0], run.X[1, 1], run.X[2, 0])] == [2**53, -(2**63), 2**60]
    if np.finfo(np.longdouble).nmant >= 63:  # x86: 64-bit significand, every int64 / uint64 fits
        Xi[3, 1] = 2**53 + 1
        run = ib.Run(Xi, y, ib.GD(), dtype=np.longdouble, check_separable=False)
        assert int(run.X[3, 1]) == 2**53 + 1
        Xu = np.abs(Xi).astype(np.uint64)
        Xu[0, 1] = 2**64 - 1
        assert int(ib.Run(Xu, y, ib.GD(), dtype=np.longdouble, check_separable=False).X[0, 1]) == 2**64 - 1


def test_uint64_and_labels_are_checked_too():
    X, y = separable(n=4, d=2)
    Xu = np.ones((4, 2), dtype=np.uint64)
    Xu[2, 1] = 2**64 - 1
    with pytest.raises(ValueError, match="^X: holds the integer 18446744073709551615"):
        ib.Run(Xu, y, ib.GD())
    assert ib.Run(X, y.astype(np.int64), ib.GD()).y.dtype == np.float64  # small ints: exact


# ------------------------------------------------------------------------------ mutated optimizers
MUTATIONS = [
    (ib.Adam(), "beta2", float("nan")),
    (ib.Adam(), "beta1", 1.0),
    (ib.Adam(), "eps", -1.0),
    (ib.Adam(), "bias_correction", "yes"),
    (ib.RMSProp(), "beta1", 0.5),
    (ib.Signum(), "beta", float("inf")),
    (ib.AdaGrad(), "eps", float("nan")),
    (ib.Lion(), "beta2", 2.0),
    (ib.AdamEpochMap(), "beta2", 0.0),
]


@pytest.mark.parametrize(
    "opt, field, value", MUTATIONS, ids=lambda v: str(v) if not isinstance(v, ib.Optimizer) else ""
)
def test_a_frozen_optimizer_changed_behind_its_back_is_refused(opt, field, value):
    X, y = separable()
    object.__setattr__(opt, field, value)
    with pytest.raises((ValueError, TypeError), match=rf"^optimizer: {field}:"):
        ib.train(X, y, opt, steps=3)
    with pytest.raises((ValueError, TypeError), match=rf"^optimizer: {field}:"):
        ib.train_many(X, y, [dict(optimizer=opt)], steps=3)


def test_a_run_keeps_its_own_copy_of_the_optimizer():
    X, y = separable()
    opt = ib.Adam(beta2=0.99)
    run = ib.Run(X, y, opt)
    object.__setattr__(opt, "beta2", 0.5)
    assert run.optimizer == ib.Adam(beta2=0.99) and run.config["optimizer"]["beta2"] == 0.99


# ------------------------------------------------------------------------------------ checkpoints
def test_more_checkpoints_than_steps_record_every_step_without_allocating_the_excess():
    grid = log_grid(0, 10, 10**8)
    np.testing.assert_array_equal(grid, np.arange(1, 11))
    np.testing.assert_array_equal(log_grid(5, 7, 2**62), [6, 7])
    X, y = separable()
    traj = ib.train(X, y, ib.GD(), steps=10, checkpoints=10**8)
    np.testing.assert_array_equal(traj.steps, np.arange(1, 11))
    run = ib.Run(X, y, ib.GD())
    run.advance(10, checkpoints=10**18)
    run.advance(3, checkpoints=10**18)
    np.testing.assert_array_equal(run.trajectory().steps, np.arange(1, 14))


def test_fewer_checkpoints_than_steps_keep_the_log_spacing():
    for start, stop, count in [(0, 10**6, 50), (0, 100, 99), (1000, 10**7, 30)]:
        expected = np.unique(np.round(np.geomspace(max(start, 1), stop, count)).astype(np.uint64))
        expected = np.union1d(expected[expected > start], [stop])
        grid = log_grid(start, stop, count)
        np.testing.assert_array_equal(grid, expected)
        assert grid.size <= stop - start and grid[-1] == stop


def test_a_checkpoint_grid_that_cannot_fit_in_memory_is_refused_before_it_is_built():
    X, y = separable()
    run = ib.Run(X, y, ib.GD())
    with pytest.raises(ValueError, match="^checkpoints: recording .* needs .* of memory"):
        run.advance(10**15, checkpoints=10**15)
    assert run.t == 0 and run.core.grid_end == 0


def test_the_compiled_grid_takes_only_sorted_points_after_the_current_step_and_merges_them():
    X, y = separable()
    run = ib.Run(X, y, ib.GD())
    run.advance(5, checkpoints=2)
    core = run.core
    with pytest.raises(ValueError, match="must be sorted"):
        core.extend_grid(np.array([9, 7], dtype=np.uint64))
    with pytest.raises(ValueError, match="after the current step"):
        core.extend_grid(np.array([5, 9], dtype=np.uint64))
    with pytest.raises(TypeError):
        core.extend_grid(np.array([9], dtype=np.int64))  # no silent conversion
    assert core.grid_end == 5
    core.extend_grid(np.array([7, 9], dtype=np.uint64))
    core.extend_grid(np.array([7, 8], dtype=np.uint64))  # 7 again: merged, not repeated
    core.advance(10)
    assert core.grid_end == 9 and core.recorded_now is False
    np.testing.assert_array_equal(core.checkpoints()["steps"][-3:], [7, 8, 9])
    assert core.checkpoint_count == core.checkpoints()["steps"].size
    core.record()
    assert core.recorded_now is True


# ---------------------------------------------------------------------------------------- threads
@pytest.mark.parametrize("threads", [2**31 - 1, 100_000, 0, -1])
def test_absurd_thread_counts_are_refused_before_anything_is_built(threads):
    with pytest.raises(ValueError, match="^threads: must be in"):
        ib.train_many(np.zeros((3, 2)), [1, 1, 1], [dict(optimizer=ib.GD())], steps=10, threads=threads)
    runs = [ib.Run(*separable(), ib.GD())]
    with pytest.raises(ValueError, match="^threads: must be in"):
        ib.engine.advance_many(runs, [10], threads=threads)
    assert runs[0].t == 0


def test_one_run_twice_in_an_ensemble_is_refused():
    run = ib.Run(*separable(), ib.GD())
    with pytest.raises(ValueError, match="^runs: the same Run appears more than once"):
        ib.engine.advance_many([run, run], [10, 10])
    assert math.isclose(run.t, 0)


# ------------------------------------------------------------------------------- data path (issue 9)
@pytest.mark.parametrize("dtype", [np.float64, np.longdouble], ids=["f64", "f80"])
def test_margin_ratios_and_cosines_attached_by_train_equal_the_public_metrics(dtype):
    X, y = separable(n=12, d=3, seed=2)
    refs = {"l2": ib.max_margin(X, y, "l2"), "linf": ib.max_margin(X, y, "linf"), "raw": np.array([1.0, -2.0, 0.5])}
    traj = ib.train(X, y, ib.Adam(beta2=0.99), steps=300, dtype=dtype, references=refs)
    for name in ("l2", "linf"):
        ref = refs[name]
        expected = ib.normalized_margin(traj.w, X, y, ref.norm) / ref.gamma
        np.testing.assert_array_equal(traj.margin_ratio[name], expected)
    np.testing.assert_array_equal(traj.cosine["raw"], ib.cosine(traj.w, refs["raw"]))
    assert "raw" not in traj.margin_ratio


def test_a_bad_reference_is_refused_before_the_run():
    X, y = separable()
    with pytest.raises(ValueError, match=r"^references\['bad'\]: must have d = 3 entries"):
        ib.train(X, y, ib.GD(), steps=10**15, references={"bad": np.ones(2)})
    with pytest.raises(ValueError, match=r"^steps: must be in"):
        ib.train(np.zeros((2, 2)), [1, 2], ib.GD(), steps=-1)  # steps first, before the data


def test_the_separability_warning_points_at_the_callers_line():
    with pytest.warns(NotSeparableWarning) as record:
        ib.train(*XOR, ib.GD(), steps=1)
    assert record[0].filename == __file__
