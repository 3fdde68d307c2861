"""Lanes: compatible runs advanced step-interleaved in one thread equal the runs alone, bit for bit.

Every optimizer, both precisions, every order, batch sizes 1 and 3, lane groups whose runs differ in
hyper-parameters, schedules, seeds, start points, horizons and checkpoint counts; the underflow scale
moving; progress rounds; Ctrl-C in the middle of a lane group and the resumed runs (also from files);
the grouping keeps incompatible runs apart and the engine refuses a group that mixes them.
"""

from __future__ import annotations

import _thread
import threading

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import _core
from implicit_bias.engine import PreparedData, advance_many
from implicit_bias.engine.lanes import lane_key, lane_width, plan_lanes

FIELDS = ("steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent")
DTYPES = [np.float64, np.longdouble]
ORDERS = ("cyclic", "reshuffle", "replacement")


def data(n=9, d=3, seed=4, margin=0.0):
    """Gaussian rows labelled by a random teacher; rows closer than ``margin`` to its hyperplane are
    moved away from it (so the margins, and the underflow scale, grow fast)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal(d)
    teacher /= np.linalg.norm(teacher)
    u = X @ teacher
    X += np.outer(np.sign(u) * np.maximum(margin - np.abs(u), 0.0), teacher)
    y = np.where(X @ teacher >= 0, 1.0, -1.0)
    return X, y


# Per optimizer: K variants that share the compiled kind but differ in every hyper-parameter.
VARIANTS = {
    "GD": [ib.GD()] * 3,
    "SignGD": [ib.SignGD()] * 3,
    "Adam": [ib.Adam(beta1=0.9, beta2=0.999), ib.Adam(beta1=0.8, beta2=0.99), ib.Adam(beta1=0.0, beta2=0.9)],
    "AdamEpsBC": [
        ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True),
        ib.Adam(beta1=0.9, beta2=0.99, eps=1e-3, bias_correction=True),
        ib.Adam(beta1=0.5, beta2=0.9, eps=1e-6, bias_correction=False),
    ],
    "AdamMixed": [
        ib.Adam(beta1=0.9, beta2=0.999),
        ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True),
        ib.Adam(beta1=0.9, beta2=0.999, eps=1e-8),
    ],
    "RMSProp": [ib.RMSProp(beta2=0.999), ib.RMSProp(beta2=0.9, eps=1e-8), ib.RMSProp(beta2=0.99)],
    "AdamProxy": [ib.AdamProxy()] * 3,
    "Signum": [ib.Signum(beta=0.9), ib.Signum(beta=0.5), ib.Signum(beta=0.0)],
    "AdaGrad": [ib.AdaGrad(), ib.AdaGrad(eps=1e-3), ib.AdaGrad(eps=1e-8)],
    "Lion": [ib.Lion(beta1=0.9, beta2=0.99), ib.Lion(beta1=0.5, beta2=0.9), ib.Lion(beta1=0.95, beta2=0.98)],
    "AdamEpochMap": [
        ib.AdamEpochMap(beta1=0.9, beta2=0.999),
        ib.AdamEpochMap(beta1=0.5, beta2=0.9),
        ib.AdamEpochMap(beta1=0.0, beta2=0.99),
    ],
}
SCHEDULES = [
    0.05,
    ib.schedules.polynomial(eta0=0.1, power=0.5),
    ib.schedules.step_decay(eta0=0.1, factor=0.7, every=500),
]


def configs_for(name, order, batch_size, d):
    rng = np.random.default_rng(len(name) + batch_size)
    out = []
    for k, opt in enumerate(VARIANTS[name]):
        w0 = None if k == 0 else 0.1 * rng.standard_normal(d)
        out.append(dict(optimizer=opt, batch_size=batch_size, order=order, lr=SCHEDULES[k], seed=11 + 7 * k, w0=w0))
    return out


def assert_same(a, b, label=""):
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"{label} {field}")


def alone(X, y, cfg, steps, checkpoints, dtype):
    return ib.train(X, y, steps=steps, checkpoints=checkpoints, dtype=dtype, **cfg)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f80"])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", list(VARIANTS))
def test_lanes_equal_single_runs(name, order, dtype):
    cls = type(VARIANTS[name][0])
    if order not in cls.orders:
        pytest.skip(f"{cls.__name__} is defined for {cls.orders} only")
    X, y = data()
    base = 3000 if dtype == np.float64 else 1200
    if name in ("AdamProxy", "AdamEpochMap"):
        base //= 10
    for batch_size in (1, 3):
        cfgs = configs_for(name, order, batch_size, X.shape[1])
        steps = [base, base + 517, 2 * base + 3]  # unequal horizons
        checkpoints = [40, 7, 100]  # unequal grids
        together = ib.train_many(X, y, cfgs, steps=steps, checkpoints=checkpoints[0], dtype=dtype, threads=1, lanes=3)
        for cfg, s, traj in zip(cfgs, steps, together):
            assert_same(traj, alone(X, y, cfg, s, checkpoints[0], dtype), f"{name} b={batch_size}")
        runs = [ib.Run(X, y, dtype=dtype, **cfg) for cfg in cfgs]
        trajs = advance_many(runs, steps, checkpoints=checkpoints, threads=2, lanes=True)
        for cfg, s, c, traj in zip(cfgs, steps, checkpoints, trajs):
            assert_same(traj, alone(X, y, cfg, s, c, dtype), f"{name} b={batch_size} grid {c}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f80"])
@pytest.mark.parametrize("d", [2, 7, 50])
def test_wide_lane_groups_with_the_scale_moving(d, dtype):
    """Up to 16 per-sample Adam runs in one group at d = 2 (the compile-time column count), 7 and 50,
    long enough that the shared underflow scale moves in every run; exponential and logistic loss."""
    X, y = data(n=10, d=d, seed=d, margin=0.5)
    steps = 40000 if dtype == np.float64 else 30000
    cfgs = [
        dict(
            optimizer=ib.Adam(
                beta1=0.9, beta2=0.99 + 0.0005 * k, eps=0.0 if k % 3 else 1e-8, bias_correction=k % 3 == 0
            ),
            batch_size=1,
            order=ORDERS[k % 3],
            lr=0.1 * (1 + k / 10),
            seed=k,
            loss="exponential" if k >= 12 else "logistic",
        )
        for k in range(16)
    ]
    together = ib.train_many(
        X, y, cfgs, steps=[steps - 37 * k for k in range(16)], checkpoints=20, dtype=dtype, lanes=16
    )
    moved = 0
    for k, (cfg, traj) in enumerate(zip(cfgs, together)):
        single = alone(X, y, cfg, steps - 37 * k, 20, dtype)
        assert_same(traj, single, f"lane {k}")
        moved += int(np.any(traj.scale_exponent != 0))
    assert moved >= 4, "the test should exercise the underflow scale"


def test_progress_rounds_with_lanes_equal_one_call():
    X, y = data(d=2)
    cfgs = configs_for("Adam", "cyclic", 1, 2)
    runs = [ib.Run(X, y, **cfg) for cfg in cfgs]
    seen = []
    trajs = advance_many(runs, [20000, 5000, 30000], checkpoints=25, on_progress=seen.append, round_seconds=0.001)
    assert sum(seen) == 55000 and len(seen) > 1
    for cfg, s, traj in zip(cfgs, [20000, 5000, 30000], trajs):
        assert_same(traj, alone(X, y, cfg, s, 25, np.float64))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f80"])
def test_interrupted_lanes_resume_bit_for_bit(tmp_path, dtype):
    """Ctrl-C (a timer calling _thread.interrupt_main) in the middle of a lane group: every run is left
    at a step boundary; advancing the same runs on, or one of them reloaded from its file, equals the
    uninterrupted single runs, checkpoints included."""
    X, y = data(n=10, d=2)
    cfgs = [
        dict(optimizer=ib.Adam(beta1=0.9, beta2=0.99), batch_size=1, order="reshuffle", lr=0.1, seed=1),
        dict(
            optimizer=ib.Adam(beta1=0.8, beta2=0.999, eps=1e-8, bias_correction=True),
            batch_size=1,
            order="cyclic",
            lr=ib.schedules.polynomial(0.1, 0.5),
            seed=2,
        ),
        dict(optimizer=ib.RMSProp(beta2=0.95), batch_size=1, order="replacement", lr=0.05, seed=3),
    ]
    total = [4 * 10**7, 3 * 10**7, 5 * 10**7] if dtype == np.float64 else [8 * 10**6, 6 * 10**6, 10**7]
    runs = [ib.Run(X, y, dtype=dtype, **cfg) for cfg in cfgs]
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        advance_many(runs, total, checkpoints=30, threads=1, lanes=3)
    timer.join()
    stopped = [run.t for run in runs]
    assert all(0 < t < s for t, s in zip(stopped, total)), stopped
    runs[1].save(tmp_path / "lane1.npz")
    # continue to a nearer common target (keeps the test short), then compare with straight runs
    target = [t + 20000 for t in stopped]
    resumed = advance_many(runs, [a - t for a, t in zip(target, stopped)], checkpoints=30, threads=2, lanes=3)
    from_file = ib.Run.load(tmp_path / "lane1.npz").advance(target[1] - stopped[1], checkpoints=30)
    for k, (cfg, traj) in enumerate(zip(cfgs, resumed)):
        straight = ib.Run(X, y, dtype=dtype, **cfg)
        straight.plan(total[k], 30)  # the grid of the interrupted call's horizon,
        straight.plan(target[k], 30)  # plus the resumed call's last step
        straight.core.advance(stopped[k])
        straight.core.record()  # the checkpoint Ctrl-C adds where the run stopped (issue 12)
        straight.core.advance(target[k])
        expected = straight.trajectory()
        assert_same(traj, expected, f"lane {k}")
    assert_same(from_file, resumed[1], "reloaded lane")


def test_grouping_keeps_incompatible_runs_apart():
    X, y = data(d=5)
    prepared = PreparedData(X, y)
    other = PreparedData(X, y)
    specs = [
        (prepared, dict(optimizer=ib.Adam(), batch_size=1)),
        (prepared, dict(optimizer=ib.Adam(beta2=0.9, eps=1e-8, bias_correction=True), batch_size=1, lr=0.3, seed=5)),
        (prepared, dict(optimizer=ib.RMSProp(), batch_size=1)),  # other class (same kernel kind)
        (prepared, dict(optimizer=ib.Signum(), batch_size=1)),  # other kind
        (prepared, dict(optimizer=ib.Adam(), batch_size=2)),  # other batch size
        (prepared, dict(optimizer=ib.Adam(), batch_size=1, order="reshuffle")),  # other order
        (prepared, dict(optimizer=ib.Adam(), batch_size=1, loss="exponential")),  # other loss
        (other, dict(optimizer=ib.Adam(), batch_size=1)),  # other data
        (prepared, dict(optimizer=ib.Adam(beta1=0.5), batch_size=1, w0=np.ones(5))),
    ]
    runs = [ib.Run(p, None, **cfg) for p, cfg in specs]
    groups = plan_lanes(runs, [100] * len(runs), threads=1, width=8)
    assert sorted(k for g in groups for k in g) == list(range(len(runs)))
    for g in groups:
        assert len({lane_key(runs[k]) for k in g}) == 1
    together = [g for g in groups if 0 in g][0]
    assert sorted(together) == [0, 1, 8]
    # the same in long double is another key
    ld = ib.Run(X, y, ib.Adam(), batch_size=1, dtype=np.longdouble)
    assert lane_key(ld) != lane_key(runs[0])
    # threads spread a compatible set over at least `threads` groups; width bounds every group
    many = [ib.Run(prepared, None, ib.Adam(beta2=0.9 + 0.001 * k), batch_size=1) for k in range(10)]
    assert len(plan_lanes(many, [10] * 10, threads=2, width=8)) == 2
    assert max(len(g) for g in plan_lanes(many, [10] * 10, threads=1, width=4)) == 4
    assert lane_width(2) >= lane_width(50) >= lane_width(10**4) == 1
    # the engine refuses a group that mixes compiled types or batch paths
    advance = _core.advance_ensemble_float64
    with pytest.raises(ValueError, match="lanes"):
        advance([runs[0].core, runs[3].core], [10, 10], 1, [[0, 1]])
    with pytest.raises(ValueError, match="lanes"):
        advance([runs[0].core, runs[4].core], [10, 10], 1, [[0, 1]])
    with pytest.raises(ValueError, match="lanes"):
        advance([runs[0].core, runs[1].core], [10, 10], 1, [[0]])  # not a partition
    assert _core.lane_compatible_float64(runs[0].core, runs[1].core)
    assert _core.lane_compatible_float64(runs[0].core, runs[2].core)  # RMSProp runs the Adam kernel
    assert not _core.lane_compatible_float64(runs[0].core, runs[6].core)


def test_sweep_cells_run_in_lanes_and_equal_single_runs(tmp_path, monkeypatch):
    """ib.experiments.sweep's local executor hands compatible cells to the engine as lane groups, and
    every cell equals its configuration run alone (ib.experiments.run_config)."""
    import json

    from implicit_bias import experiments as E
    from implicit_bias.engine import driver

    seen = []
    original = driver.drive

    def spy(*args, **kwargs):
        seen.append(kwargs.get("lanes"))
        return original(*args, **kwargs)

    monkeypatch.setattr(driver, "drive", spy)
    monkeypatch.setattr("implicit_bias.engine.ensemble.drive", spy)
    base = {
        "data": {"name": "gaussian", "n": 6, "d": 2, "seed": 0},
        "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.99},
        "batch_size": 1,
        "lr": {"kind": "polynomial", "eta0": 0.1, "power": 0.5},
        "steps": 3000,
        "checkpoints": 20,
    }
    res = E.sweep(
        base,
        {"beta2": [0.9, 0.99, 0.999], "eta0": [0.05, 0.1]},
        seeds=[0],
        seed_data=False,
        out_dir=tmp_path,
        progress=False,
        plot=False,
        threads=1,
    )
    assert res.ran == 6
    assert any(groups and max(len(g) for g in groups) > 1 for groups in seen), seen
    table = json.loads(res.table_json.read_text())
    for row in table["cells"]:
        rec = json.loads((tmp_path / "cells" / f"{row['key']}.json").read_text())
        traj, _ = E.run_config(rec["config"], references=False)
        np.testing.assert_array_equal(res.trajectory(row["key"]).w, traj.w)
