"""A longer horizon continues each stored cell from its saved engine state, bit for bit.

The reference is a single run from step 0, independent of the store: ``ib.Run`` advanced in one
call on the checkpoint grid the store documents (the short run's points up to S1, then the long
run's own log grid), and a fresh sweep of the long horizon for the final iterates and metrics.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import shutil
import warnings

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import experiments as E

BASE = {
    "data": {"name": "gaussian", "n": 6, "d": 8},
    "optimizer": {"name": "Adam"},
    "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},
    "checkpoints": 20,
    "batch_size": 1,
}
GRID = {"beta2": [0.9, 0.99]}
S1, S2 = 1500, 4000
FIELDS = ("steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent")


def run_sweep(out, steps, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("plot", False)
    kw.setdefault("threads", 1)
    return E.sweep({**BASE, "steps": steps}, GRID, out_dir=out, **kw)


def cells(res):
    return {row["key"]: (res.trajectory(row["key"]), row) for row in res.rows}


def single_run(row, grid):
    """One ib.Run from step 0 to S2 recording at ``grid``, built from the sweep's own inputs."""
    X, y = ib.datasets.gaussian(n=6, d=8, seed=row["seed"])
    run = ib.Run(X, y, ib.Adam(beta2=row["beta2"]), batch_size=1, lr=ib.schedules.polynomial(0.1, 0.5))
    run.core.extend_grid(np.asarray(grid, dtype=np.uint64))
    return run.advance(S2, checkpoints=20)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("fresh"), S2)


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    out = tmp_path_factory.mktemp("short")
    return out, run_sweep(out, S1)


def test_a_longer_horizon_continues_and_equals_one_long_run(short, fresh, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(short[0], out)
    res = run_sweep(out, S2)
    assert res.ran == 2 and res.continued == 2
    assert res.engine_steps == 2 * (S2 - S1)  # it really continued: only the steps beyond S1
    assert fresh.engine_steps == 2 * S2 and fresh.continued == 0
    long_cells, short_cells = cells(res), cells(short[1])
    assert res.rows == fresh.rows  # same keys, same final metrics, same distance to the prediction
    for key, (traj, row) in long_cells.items():
        ref, _ = cells(fresh)[key]
        np.testing.assert_array_equal(traj.w[-1], ref.w[-1])
        # the stored run's checkpoints up to S1, the long run's own grid beyond
        s_short = next(t for t, r in short_cells.values() if r["seed"] == row["seed"] and r["beta2"] == row["beta2"])
        expected_grid = np.union1d(s_short.steps, ref.steps[ref.steps > S1])
        np.testing.assert_array_equal(traj.steps, expected_grid)
        assert not np.array_equal(expected_grid, ref.steps)  # the grids differ below S1 (a real choice)
        beyond, ref_beyond = traj.steps > S1, ref.steps > S1
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(traj, name)[beyond], getattr(ref, name)[ref_beyond])
            np.testing.assert_array_equal(getattr(traj, name)[~beyond], getattr(s_short, name))
        single = single_run(row, expected_grid)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(traj, name), getattr(single, name))
        record = json.loads((out / "cells" / f"{key}.json").read_text())
        assert record["continued_from"] == S1
    again = run_sweep(out, S2)
    assert again.ran == 0 and again.skipped == 2 and again.engine_steps == 0


def test_a_shorter_horizon_is_computed_from_zero(short, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(short[0], out)
    res = run_sweep(out, 700)
    ref = run_sweep(tmp_path / "ref", 700)
    assert res.continued == 0 and res.engine_steps == 2 * 700
    assert res.rows == ref.rows


def test_a_damaged_state_is_not_continued_from(short, fresh, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(short[0], out)
    states = sorted((out / "cells" / "states").glob("*/*.npz"))
    assert len(states) == 2 and all(p.stem == str(S1) for p in states)
    raw = bytearray(states[0].read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    states[0].write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_sweep(out, S2)
    messages = [str(w.message) for w in caught if issubclass(w.category, ib.StoreWarning)]
    assert len(messages) == 1 and str(states[0]) in messages[0], messages
    assert res.continued == 1 and res.engine_steps == S2 + (S2 - S1)
    assert res.rows == fresh.rows


def test_an_executor_continues_as_the_local_ensembles_do(fresh, tmp_path):
    with cf.ThreadPoolExecutor(2) as pool:
        run_sweep(tmp_path / "x", S1, executor=pool)
        res = run_sweep(tmp_path / "x", S2, executor=pool)
    assert res.continued == 2 and res.engine_steps == 2 * (S2 - S1)
    assert res.rows == fresh.rows


def test_resume_false_recomputes_from_zero(short, fresh, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(short[0], out)
    res = run_sweep(out, S2, resume=False)
    assert res.continued == 0 and res.engine_steps == 2 * S2
    for key, (traj, _) in cells(res).items():
        np.testing.assert_array_equal(traj.steps, cells(fresh)[key][0].steps)
