"""Run and trajectory files: format version, checksum, every field checked, no pickle, atomic saves.

Each damaged or edited file must raise ``ib.RunFileError`` (a ValueError) naming the file and the
field; a genuine file must always load. "Re-signed" edits recompute the checksum, as a deliberate
editor would, so that the field checks behind the checksum are exercised too.
"""

from __future__ import annotations

import json
import pathlib
import zipfile

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias.engine import persistence
from implicit_bias.engine.persistence import HEADER_FIELDS, write_npz


@pytest.fixture(scope="module")
def data():
    return ib.datasets.gaussian(6, 8, seed=0)


@pytest.fixture
def good(tmp_path, data):
    X, y = data
    run = ib.Run(X, y, ib.Adam(), batch_size=2, order="reshuffle", seed=3)
    run.advance(50, checkpoints=10)
    path = tmp_path / "good.npz"
    run.save(path)
    return path


def fields_of(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def resign(src, dst, drop=(), kind="run", **replace):
    """Copy a run file with fields replaced or dropped, with a fresh, matching checksum."""
    f = {k: v for k, v in fields_of(src).items() if k not in HEADER_FIELDS and k not in drop}
    f.update(replace)
    write_npz(dst, f, kind=kind)
    return dst


def unsigned(src, dst, **replace):
    """Copy a run file with fields replaced, keeping the old checksum (an accidental edit)."""
    f = fields_of(src)
    f.update(replace)
    np.savez(dst, **f)
    return dst


def refused(path, field=None, loader=ib.Run.load, match=None):
    with pytest.raises(ib.RunFileError) as info:
        loader(path)
    msg = str(info.value)
    assert str(path) in msg or pathlib.Path(path).name in msg, msg
    if field is not None:
        assert f"field {field!r}" in msg, msg
    if match is not None:
        assert match in msg, msg
    assert isinstance(info.value, ValueError)
    return msg


def same_state(a, b):
    sa, sb = a.core.save_state(), b.core.save_state()
    assert sa["t"] == sb["t"] and np.array_equal(sa["w"], sb["w"]) and np.array_equal(sa["rng"], sb["rng"])


# ------------------------------------------------------------------------------ the issue's table


def test_a_good_file_loads_and_carries_format_kind_and_checksum(good):
    f = fields_of(good)
    assert int(f["format"]) == ib.engine.run.STATE_FORMAT == 2 and str(f["kind"]) == "run"
    assert str(f["sha256"]) == persistence.content_checksum(f)
    run = ib.Run.load(good)
    assert run.t == 50


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_truncated_file(good, tmp_path, fraction):
    raw = good.read_bytes()
    bad = tmp_path / "trunc.npz"
    bad.write_bytes(raw[: int(len(raw) * fraction)])
    msg = refused(bad)
    assert "truncated" in msg or "corrupted" in msg or "damaged" in msg


@pytest.mark.parametrize("where", [0.05, 0.2, 0.4, 0.5, 0.6, 0.8, 0.97])
def test_bytes_flipped_inside(good, tmp_path, where, data):
    raw = bytearray(good.read_bytes())
    start = int(len(raw) * where)
    for i in range(start, min(start + 16, len(raw))):
        raw[i] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(raw))
    refused(bad)


def test_every_single_byte_flip_is_refused_or_harmless(good, tmp_path):
    """Flip one byte at 300 places spread over the file: each load is refused, or (zip metadata
    nobody reads, e.g. a timestamp) gives exactly the original run."""
    raw = good.read_bytes()
    original = ib.Run.load(good)
    refusals = 0
    for pos in np.linspace(0, len(raw) - 1, 300).astype(int):
        b = bytearray(raw)
        b[pos] ^= 0x5A
        bad = tmp_path / "one.npz"
        bad.write_bytes(bytes(b))
        try:
            run = ib.Run.load(bad)
        except ib.RunFileError:
            refusals += 1
            continue
        same_state(run, original)
        assert np.array_equal(run.X, original.X)
    assert refusals > 250


def test_scalar_field_edited_to_an_array(good, tmp_path):
    assert "checksum" in refused(unsigned(good, tmp_path / "a.npz", t=np.arange(3, dtype=np.uint64)), "sha256")
    msg = refused(resign(good, tmp_path / "b.npz", t=np.arange(3, dtype=np.uint64)), "t")
    assert "integer scalar" in msg


def test_garbled_config(good, tmp_path):
    refused(unsigned(good, tmp_path / "a.npz", config=np.array("{not json")), "sha256")
    assert "JSON" in refused(resign(good, tmp_path / "b.npz", config=np.array("{not json")), "config")


@pytest.mark.parametrize("shape", [(3, 3, 3), (30, 8), (9, 7), (0, 8)])
def test_checkpoint_w_replaced(good, tmp_path, shape):
    refused(unsigned(good, tmp_path / "a.npz", **{"checkpoints/w": np.zeros(shape)}), "sha256")
    refused(resign(good, tmp_path / "b.npz", **{"checkpoints/w": np.zeros(shape)}), "checkpoints/w")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_w_not_finite(good, tmp_path, value):
    w = fields_of(good)["w"].copy()
    w[3] = value
    refused(unsigned(good, tmp_path / "a.npz", w=w), "sha256")
    assert "NaN or infinite" in refused(resign(good, tmp_path / "b.npz", w=w), "w")


@pytest.mark.parametrize("steps", [2**64, 2**63, -1])
def test_train_steps_out_of_range(data, steps):
    X, y = data
    with pytest.raises(
        ValueError, match=r"^steps: must be in \[0, 2\*\*63 - 1\]|^steps: must be in \[0, 9223372036854775807\]"
    ):
        ib.train(X, y, ib.GD(), steps=steps)


# ------------------------------------------------------------------------------ every field


def adam_config(**change):
    cfg = {
        "optimizer": {"name": "Adam", "beta1": 0.9, "beta2": 0.999, "eps": 0.0, "bias_correction": False},
        "batch_size": 2, "order": "reshuffle",
        "lr": {"kind": "constant", "eta0": 0.1, "power": 0.0, "factor": 1.0, "every": 1},
        "loss": "logistic", "dtype": "float64", "seed": 3, "n": 6, "d": 8,
    }  # fmt: skip
    cfg.update(change)
    return np.array(json.dumps(cfg))


FIELD_EDITS = [
    ("t", {"t": np.array(5, dtype=np.uint64)}, "checkpoints/steps"),  # checkpoints beyond t
    ("t", {"t": np.array(2**64 - 1, dtype=np.uint64)}, "t"),
    ("t", {"t": np.array(51, dtype=np.uint64)}, "sampler_position"),  # sampler not where step 51 leaves it
    ("t", {"t": np.array(1.5)}, "t"),
    ("w", {"w": np.zeros(7)}, "w"),
    ("w", {"w": np.zeros(8, dtype=np.longdouble)}, "w"),
    ("w", {"w": np.zeros(8, dtype=np.float32)}, "w"),
    ("w", {"w": np.zeros((8, 1))}, "w"),
    ("w0", {"w0": np.full(8, np.nan)}, "w0"),
    ("X", {"X": np.full((6, 8), np.inf)}, "X"),
    ("X", {"X": np.zeros((5, 8))}, "X"),
    ("X", {"X": np.zeros((6, 8), dtype=np.int64)}, "X"),
    ("y", {"y": np.full(6, 2.0)}, "y"),
    ("y", {"y": np.ones(5)}, "y"),
    ("rng", {"rng": np.zeros(4, dtype=np.uint64)}, "rng"),
    ("rng", {"rng": np.ones(3, dtype=np.uint64)}, "rng"),
    ("rng", {"rng": np.ones(4, dtype=np.int64)}, "rng"),
    ("sampler_position", {"sampler_position": np.array(6)}, "sampler_position"),
    ("sampler_position", {"sampler_position": np.array(-1)}, "sampler_position"),
    ("sampler_position", {"sampler_position": np.array(3)}, "sampler_position"),
    ("sampler_position", {"sampler_position": np.array([0, 1])}, "sampler_position"),
    ("permutation", {"permutation": np.array([0, 0, 1, 2, 3, 4])}, "permutation"),
    ("permutation", {"permutation": np.arange(7)}, "permutation"),
    ("permutation", {"permutation": np.array([0, 1, 2, 3, 4, 6])}, "permutation"),
    ("permutation", {"permutation": np.arange(6, dtype=np.float64)}, "permutation"),
    ("grid", {"grid": np.array([5, 3], dtype=np.uint64)}, "grid"),
    ("grid", {"grid": np.array([3, 3], dtype=np.uint64)}, "grid"),
    ("grid", {"grid": np.array([[1]], dtype=np.uint64)}, "grid"),
    ("grid", {"grid": np.arange(1, 60, dtype=np.uint64)}, "t"),  # grid steps passed without a checkpoint
    ("scale_exponent", {"scale_exponent": np.array(2**62)}, "scale_exponent"),
    ("scale_exponent", {"scale_exponent": np.array(0.5)}, "scale_exponent"),
    ("optimizer/m", {"optimizer/m": np.zeros(3)}, "optimizer/m"),
    ("optimizer/m", {"optimizer/m": np.zeros(9)}, "optimizer/m"),
    ("optimizer/v", {"optimizer/v": -np.ones(8)}, "optimizer/v"),
    ("optimizer/v", {"optimizer/v": np.full(8, np.nan)}, "optimizer/v"),
    ("optimizer/bound", {"optimizer/bound": np.ones(1)}, "optimizer/bound"),
    ("checkpoints/steps", {"checkpoints/steps": np.arange(100, 109, dtype=np.uint64)}, "checkpoints/steps"),
    ("checkpoints/steps", {"checkpoints/steps": np.arange(9, 0, -1, dtype=np.uint64)}, "checkpoints/steps"),
    ("checkpoints/norm", {"checkpoints/norm": np.full(9, -1.0)}, "checkpoints/norm"),
    ("checkpoints/norm", {"checkpoints/norm": np.ones(8)}, "checkpoints/norm"),
    ("checkpoints/log_loss", {"checkpoints/log_loss": np.full(9, np.nan)}, "checkpoints/log_loss"),
    ("checkpoints/margin_l2", {"checkpoints/margin_l2": np.full(9, np.inf)}, "checkpoints/margin_l2"),
    ("checkpoints/margin_linf", {"checkpoints/margin_linf": np.full(9, np.nan)}, "checkpoints/margin_linf"),
    ("checkpoints/scale_exponent", {"checkpoints/scale_exponent": np.zeros(9)}, "checkpoints/scale_exponent"),
    ("config", {"config": np.array("[1, 2]")}, "config"),
    ("config", {"config": np.array(["{}"])}, "config"),
    ("config", {"config": np.array(3)}, "config"),
    ("config", {"config": adam_config(n=7)}, "X"),
    ("config", {"config": adam_config(d=0)}, "config"),
    ("config", {"config": adam_config(dtype="float32")}, "config"),
    ("config", {"config": adam_config(order="sideways")}, "config"),
    ("config", {"config": adam_config(batch_size=0)}, "config"),
    ("config", {"config": adam_config(seed=-1)}, "config"),
    ("config", {"config": adam_config(colour="red")}, "config"),
    ("config", {"config": adam_config(optimizer={"name": "Adam", "beta2": 7})}, "config"),
    ("config", {"config": adam_config(optimizer={"name": "Nope"})}, "config"),
    ("config", {"config": adam_config(optimizer={"name": "Adam"})}, "config"),  # not the canonical form
    ("config", {"config": adam_config(optimizer={"name": "GD"})}, "optimizer/m"),  # GD has no m / v
    ("config", {"config": adam_config(lr={"kind": "constant", "eta0": -1.0})}, "config"),
    ("config", {"config": adam_config(lr=0.1)}, "config"),
    ("extra", {"extra": np.zeros(2)}, "extra"),
]


@pytest.mark.parametrize(
    "label, change, field", FIELD_EDITS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(FIELD_EDITS)]
)
def test_each_field_is_checked(good, tmp_path, label, change, field):
    refused(unsigned(good, tmp_path / "a.npz", **change), "sha256")
    refused(resign(good, tmp_path / "b.npz", **change), field)


@pytest.mark.parametrize(
    "name",
    [
        "config",
        "X",
        "y",
        "w0",
        "t",
        "w",
        "scale_exponent",
        "rng",
        "sampler_position",
        "permutation",
        "grid",
        "optimizer/m",
        "checkpoints/w",
        "checkpoints/steps",
    ],
)
def test_each_missing_field_is_named(good, tmp_path, name):
    refused(resign(good, tmp_path / "b.npz", drop=(name,)), name, match="missing")


def test_missing_header_fields(good, tmp_path):
    f = fields_of(good)
    for name in HEADER_FIELDS:
        g = {k: v for k, v in f.items() if k != name}
        np.savez(tmp_path / "x.npz", **g)
        refused(tmp_path / "x.npz", name)


def test_unsupported_format_and_wrong_kind(good, tmp_path, data):
    f = fields_of(good)
    f["format"] = np.array(3)
    f["sha256"] = np.array(persistence.content_checksum(f))
    np.savez(tmp_path / "v3.npz", **f)
    assert "version 3" in refused(tmp_path / "v3.npz", "format")
    # a trajectory is not a run, and a run is not a trajectory
    X, y = data
    ib.train(X, y, ib.GD(), steps=10).save(tmp_path / "traj.npz")
    assert "'trajectory' file" in refused(tmp_path / "traj.npz", "kind")
    assert "'run' file" in refused(good, "kind", loader=ib.Trajectory.load)


def test_legacy_format_1_files_still_load(good, tmp_path):
    """Run files written before checksums (format 1, no kind / sha256) load with every field check."""
    f = {k: v for k, v in fields_of(good).items() if k not in HEADER_FIELDS}
    np.savez(tmp_path / "v1.npz", format=np.array(1), **f)
    same_state(ib.Run.load(tmp_path / "v1.npz"), ib.Run.load(good))
    w = f["w"].copy()
    w[0] = np.nan
    np.savez(tmp_path / "v1bad.npz", format=np.array(1), **{**f, "w": w})
    refused(tmp_path / "v1bad.npz", "w")
    np.savez(tmp_path / "v1kind.npz", format=np.array(1), kind=np.array("run"), **f)
    refused(tmp_path / "v1kind.npz", "kind")


class _Payload:
    """Unpickling this would create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_a_crafted_object_array_never_executes_code(good, tmp_path):
    marker = tmp_path / "pwned"
    payload = np.array([_Payload(str(marker))], dtype=object)
    f = fields_of(good)
    f["w"] = payload
    np.savez(tmp_path / "obj.npz", **f)  # numpy pickles object arrays on write
    with zipfile.ZipFile(tmp_path / "obj.npz") as zf:
        assert b"touch" in zf.read("w.npy")  # the payload really is in the file
    assert "Python objects" in refused(tmp_path / "obj.npz", "w")
    assert "Python objects" in refused(tmp_path / "obj.npz", "w", loader=ib.Trajectory.load)
    assert not marker.exists()
    # as an extra field too, and for trajectories
    f = fields_of(good)
    f["zzz"] = payload
    np.savez(tmp_path / "obj2.npz", **f)
    refused(tmp_path / "obj2.npz", "zzz")
    assert not marker.exists()


def test_a_header_claiming_a_huge_array_is_refused_before_allocation(good, tmp_path):
    """A member whose .npy header declares 10**12 float64 values (8 TB) but holds 8 bytes."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    member = tmp_path / "w.npy"
    with open(member, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 8)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tmp_path / "huge.npz", "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, member.read_bytes() if info.filename == "w.npy" else src.read(info.filename))
    assert "truncated or damaged" in refused(tmp_path / "huge.npz", "w")


def test_not_npz_members_duplicates_directories_and_missing_files(good, tmp_path):
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tmp_path / "foreign.npz", "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("readme.txt", "hello")
    refused(tmp_path / "foreign.npz", match="readme.txt")
    (tmp_path / "dir.npz").mkdir()
    refused(tmp_path / "dir.npz", match="not a regular file")
    refused(tmp_path / "none.npz", match="no such file")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", match="truncated")


def test_save_and_load_name_the_same_file_without_suffix(tmp_path, data):
    X, y = data
    run = ib.Run(X, y, ib.GD())
    run.advance(5)
    run.save(tmp_path / "state")
    assert (tmp_path / "state.npz").exists()
    assert ib.Run.load(tmp_path / "state").t == 5


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble])
def test_genuine_files_of_every_optimizer_order_and_moment_load(tmp_path, dtype):
    """The consistency rules never refuse a real file: every optimizer, order and batch size, saved
    before any step, after 0 steps, after split advances and after a plan without steps."""
    X, y = ib.datasets.gaussian(7, 5, seed=1)
    opts = [
        ib.GD(),
        ib.SignGD(),
        ib.Adam(bias_correction=True),
        ib.AdamProxy(),
        ib.Signum(),
        ib.AdaGrad(),
        ib.Lion(),
        ib.RMSProp(),
        ib.optimizers.AdamEpochMap(beta1=0.9, beta2=0.99),
    ]
    path = tmp_path / "s.npz"
    for opt in opts:
        for order in opt.orders:
            for b in (3, 7) if order != "replacement" else (3,):
                run = ib.Run(X, y, opt, batch_size=b, order=order, dtype=dtype, seed=5)
                run.save(path)
                ib.Run.load(path)
                run.advance(0)
                for s in (13,):
                    run.advance(s, checkpoints=7)
                    run.save(path)
                    loaded = ib.Run.load(path)
                    same_state(loaded, run)
                    loaded.advance(3)
                    loaded.save(path)
                    ib.Run.load(path)
                run.plan(run.t + 10**6, 20)
                run.save(path)
                ib.Run.load(path)


# ------------------------------------------------------------------------------ atomic saves


def test_an_interrupted_re_save_keeps_the_previous_good_file(good, tmp_path, monkeypatch, data):
    before = good.read_bytes()
    run = ib.Run.load(good)
    run.advance(10)

    def broken_savez(file, **arrays):
        with open(file, "wb") as fh:  # half an archive, then the interruption
            fh.write(b"PK\x03\x04 half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        run.save(good)
    monkeypatch.undo()
    assert good.read_bytes() == before
    assert ib.Run.load(good).t == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz"]  # no temporary left behind
    # and a trajectory re-save too
    traj_path = tmp_path / "traj.npz"
    run.trajectory().save(traj_path)
    saved = traj_path.read_bytes()
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        run.advance(5).save(traj_path)
    monkeypatch.undo()
    assert traj_path.read_bytes() == saved and len(ib.Trajectory.load(traj_path)) > 0


def test_temporary_names_are_unique_per_process_and_call(tmp_path):
    target = tmp_path / "x.npz"
    names = {persistence.temporary_path(target, ".npz").name for _ in range(50)}
    assert len(names) == 50 and all(n.startswith("x.") and n.endswith(".tmp.npz") for n in names)


# ------------------------------------------------------------------------------ trajectories


@pytest.fixture
def good_traj(tmp_path, data):
    X, y = data
    traj = ib.train(X, y, ib.Adam(), steps=200, checkpoints=10, references={"l2": ib.max_margin(X, y, "l2")})
    path = tmp_path / "traj.npz"
    traj.save(path)
    return path, traj


def test_trajectory_round_trip_with_references(good_traj):
    path, traj = good_traj
    back = ib.Trajectory.load(path)
    for name in ("steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent"):
        np.testing.assert_array_equal(getattr(back, name), getattr(traj, name))
    np.testing.assert_array_equal(back.cosine["l2"], traj.cosine["l2"])
    np.testing.assert_array_equal(back.margin_ratio["l2"], traj.margin_ratio["l2"])
    assert back.config == traj.config


def test_trajectory_of_zero_steps_has_nan_margins_and_loads(tmp_path, data):
    X, y = data
    traj = ib.train(X, y, ib.Adam(), steps=0, references={"r": np.ones(8)})
    assert np.isnan(traj.margin_l2[0]) and np.isnan(traj.cosine["r"][0])
    traj.save(tmp_path / "t0.npz")
    assert len(ib.Trajectory.load(tmp_path / "t0.npz")) == 1


def test_legacy_trajectory_without_header_loads(good_traj, tmp_path):
    path, traj = good_traj
    f = {k: v for k, v in fields_of(path).items() if k not in HEADER_FIELDS}
    np.savez(tmp_path / "old.npz", **f)
    np.testing.assert_array_equal(ib.Trajectory.load(tmp_path / "old.npz").w, traj.w)


TRAJ_EDITS = [
    ({"w": np.zeros((3, 3, 3))}, "w"),
    ({"w": np.zeros((9, 8))}, "w"),
    ({"w": np.full((10, 8), np.nan)}, "w"),
    ({"w": np.zeros((10, 8), dtype=np.float32)}, "w"),
    ({"w": np.zeros((10, 0))}, "w"),
    ({"steps": np.arange(10, 0, -1)}, "steps"),
    ({"steps": np.arange(-1, 9)}, "steps"),
    ({"steps": np.zeros((10, 1), dtype=np.int64)}, "steps"),
    ({"steps": np.arange(10, dtype=np.float64)}, "steps"),
    ({"norm": np.full(10, -1.0)}, "norm"),
    ({"norm": np.ones(10, dtype=np.longdouble)}, "norm"),
    ({"log_loss": np.full(10, np.inf)}, "log_loss"),
    ({"margin_l2": np.full(10, np.nan)}, "margin_l2"),
    ({"min_margin": np.ones(3)}, "min_margin"),
    ({"scale_exponent": np.ones(10)}, "scale_exponent"),
    ({"cosine/l2": np.full(10, np.inf)}, "cosine/l2"),
    ({"cosine/l2": np.ones(4)}, "cosine/l2"),
    ({"margin_ratio/l2": np.full(10, np.nan)}, "margin_ratio/l2"),
    ({"margin_ratio/l2": np.array(["a"] * 10)}, "margin_ratio/l2"),
    ({"config": np.array("not json")}, "config"),
    ({"config": np.array("[]")}, "config"),
    ({"surprise": np.zeros(1)}, "surprise"),
]


@pytest.mark.parametrize("change, field", TRAJ_EDITS, ids=[f"{f}-{i}" for i, (_, f) in enumerate(TRAJ_EDITS)])
def test_trajectory_fields_are_checked(good_traj, tmp_path, change, field):
    path, _ = good_traj
    refused(unsigned(path, tmp_path / "a.npz", **change), "sha256", loader=ib.Trajectory.load)
    refused(resign(path, tmp_path / "b.npz", kind="trajectory", **change), field, loader=ib.Trajectory.load)


@pytest.mark.parametrize(
    "name", ["steps", "w", "norm", "log_loss", "margin_l2", "margin_linf", "min_margin", "scale_exponent", "config"]
)
def test_trajectory_missing_field(good_traj, tmp_path, name):
    path, _ = good_traj
    refused(
        resign(path, tmp_path / "b.npz", drop=(name,), kind="trajectory"),
        name,
        loader=ib.Trajectory.load,
        match="missing",
    )


def test_trajectory_truncated_or_flipped(good_traj, tmp_path):
    path, _ = good_traj
    raw = path.read_bytes()
    for cut in (0, 10, len(raw) // 3, len(raw) - 1):
        (tmp_path / "t.npz").write_bytes(raw[:cut])
        refused(tmp_path / "t.npz", loader=ib.Trajectory.load)
    for pos in np.linspace(40, len(raw) - 30, 40).astype(int):
        b = bytearray(raw)
        b[pos : pos + 4] = bytes(x ^ 0xFF for x in b[pos : pos + 4])
        (tmp_path / "t.npz").write_bytes(bytes(b))
        try:
            back = ib.Trajectory.load(tmp_path / "t.npz")
        except ib.RunFileError:
            continue
        np.testing.assert_array_equal(back.w, good_traj[1].w)  # harmless metadata byte
