"""implicit_bias.plots: every figure renders headless, carries the data it claims to, and never
calls plt.show."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ib = pytest.importorskip("implicit_bias")
E = pytest.importorskip("implicit_bias.experiments")
plots = pytest.importorskip("implicit_bias.plots")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("library code must not call plt.show()")

    monkeypatch.setattr(plt, "show", boom)
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def runs():
    X, y = ib.datasets.gaussian(8, 12, seed=2)
    refs = E.compute_references(X, y)
    out = {}
    for label, opt, b in (("GD", ib.GD(), None), ("Inc-Adam", ib.Adam(beta2=0.99), 1)):
        traj = ib.train(X, y, opt, steps=5000, batch_size=b, lr=ib.schedules.polynomial(0.1, 0.5), checkpoints=40)
        out[label] = E.attach(traj, X, y, refs)
    return X, y, refs, out


def assert_png(path: Path, min_h: int = 200, min_w: int = 300) -> np.ndarray:
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] >= min_h and img.shape[1] >= min_w
    assert float(img[..., :3].std()) > 0.01  # not a blank canvas
    return img


def test_importing_plots_leaves_the_users_backend_alone():
    import subprocess
    import sys

    code = "import matplotlib; matplotlib.use('svg'); import implicit_bias.plots; print(matplotlib.get_backend())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.strip().lower() == "svg"


def test_convergence_plots_one_minus_cosine_on_log_axes(runs, tmp_path):
    X, y, refs, trajs = runs
    ax = plots.convergence(trajs, "fixed_point", threshold=1e-3)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "cos" in ax.get_ylabel() and ax.get_xlabel().startswith("step")
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"GD", "Inc-Adam", "PASS threshold"}
    t = trajs["Inc-Adam"]
    keep = t.steps > 0
    np.testing.assert_allclose(
        lines["Inc-Adam"].get_ydata(), np.maximum(1 - t.cosine["fixed_point"][keep], plots.style.FLOOR)
    )
    np.testing.assert_array_equal(lines["Inc-Adam"].get_xdata(), t.steps[keep])
    plots.convergence(trajs, "linf_ratio", path=tmp_path / "c.png")
    assert_png(tmp_path / "c.png")


def test_margin_ratios_and_norm_growth(runs, tmp_path):
    _, _, _, trajs = runs
    t = trajs["GD"]
    ax = plots.margin_ratios(t)
    assert ax.get_xscale() == "log" and "margin ratio" in ax.get_ylabel()
    ys = [ln.get_ydata() for ln in ax.get_lines() if ln.get_label().startswith("$")]
    np.testing.assert_allclose(ys[0], t.margin_ratio["l2"][t.steps > 0])
    ax = plots.norm_growth(trajs)
    assert ax.get_yscale() == "log" and "w_t" in ax.get_ylabel()
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), t.norm[t.steps > 0])
    plots.norm_growth(trajs, path=tmp_path / "n.png")
    assert_png(tmp_path / "n.png")


def test_decision_boundaries_draw_each_direction(tmp_path):
    X, y = ib.datasets.gaussian(6, 2, seed=3, labels="teacher", cov=[4.0, 0.25], margin=0.1)
    refs = E.compute_references(X, y)
    w = {"GD": refs.directions["l2"] * 2.0, "Signum": refs.directions["linf"]}
    ax = plots.decision_boundaries(X, y, w, references=refs)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "GD" in labels and "Signum" in labels and "y = +1" in labels
    # on this data l-inf and w* coincide: one merged line, not two hidden on top of each other
    assert any("=" in lab and "w^*" in lab and "infty" in lab for lab in labels)
    gd_line = next(ln for ln in ax.get_lines() if ln.get_label() == "GD")
    xs, ys = gd_line.get_xdata(), gd_line.get_ydata()
    direction = np.array([xs[1] - xs[0], ys[1] - ys[0]])
    assert abs(direction @ refs.directions["l2"]) < 1e-9 * np.linalg.norm(direction)  # boundary is orthogonal to w
    plots.decision_boundaries(X, y, w, references=refs, path=tmp_path / "d.png")
    assert_png(tmp_path / "d.png")
    with pytest.raises(ValueError, match="d = 2"):
        plots.decision_boundaries(np.ones((3, 3)), np.ones(3), {})


def fake_sweep(grid):
    keys = list(grid)
    rows = []
    rng = np.random.default_rng(0)
    import itertools

    for vals in itertools.product(*grid.values()):
        for seed in (0, 1):
            row = dict(zip(keys, vals), seed=seed, key=f"{len(rows):016x}")
            row.update(
                dist_fixed_point=10 ** rng.uniform(-8, -2),
                dist_l2=10 ** rng.uniform(-3, -1),
                dist_linf=10 ** rng.uniform(-2, 0),
            )
            rows.append(row)
    return E.SweepResult(Path("."), grid, [0, 1], rows, Path("t.csv"), Path("t.json"), None, len(rows), 0)


def test_phase_diagram_two_parameters(tmp_path):
    res = fake_sweep({"batch_size": [1, 2, 5, "n"], "beta2": [0.9, 0.99, 0.999]})
    fig = plots.phase_diagram(res, title="test")
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert len(heatmaps) == 3 and len(fig.axes) == 4  # + colour bar
    assert [ax.get_xlabel() for ax in heatmaps] == ["batch_size"] * 3
    assert [t.get_text() for t in heatmaps[0].get_xticklabels()] == ["1", "2", "5", "n"]
    mean = res.aggregate("dist_fixed_point")
    texts = {t.get_text() for t in heatmaps[0].texts}
    assert f"{mean[3, 2]:.1e}" in texts and len(heatmaps[0].texts) == 12
    np.testing.assert_allclose(heatmaps[0].images[0].get_array().T, np.maximum(mean, heatmaps[0].images[0].norm.vmin))
    plots.phase_diagram(res, path=tmp_path / "p.png")
    assert_png(tmp_path / "p.png")


def test_phase_diagram_one_parameter(tmp_path):
    res = fake_sweep({"beta2": [0.9, 0.99, 0.999]})
    fig = plots.phase_diagram(res)
    (ax,) = fig.axes
    means = [ln for ln in ax.get_lines() if ln.get_label().startswith("from")]
    assert len(means) == 3
    np.testing.assert_allclose(means[0].get_ydata(), res.aggregate("dist_fixed_point")[:, 0])
    plots.phase_diagram(res, path=tmp_path / "p1.png")
    assert_png(tmp_path / "p1.png")


def claim_result(runs, kinds):
    X, y, refs, trajs = runs
    rows = []
    for (label, traj), kind in zip(trajs.items(), kinds):
        m = E.final_metrics(traj, X, y, refs)
        ok, crit, _ = E.evaluate(kind, 0.99, m, refs)
        rows.append(
            {
                "label": label,
                "group": label,
                "x": label,
                "metrics": m,
                "prediction": kind,
                "threshold": 0.99,
                "result": "PASS" if ok else "FAIL",
                "criterion": crit,
            }
        )
    return E.ClaimResult(9, "test claim", "statement", "setting", "PASS", rows)


def test_claim_figures(runs, tmp_path):
    _, _, _, trajs = runs
    fig = plots.claim_figure(claim_result(runs, ["l2", "fixed_point"]), trajs)
    assert len(fig.axes) == 3 and "Claim 9" in fig._suptitle.get_text()
    a = fig.axes[0]
    assert a.get_xscale() == "log" and len([t for t in a.texts if "PASS below" in t.get_text()]) == 1
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["GD", "Inc-Adam"]
    plots.claim_figure(claim_result(runs, ["l2", "fixed_point"]), trajs, path=tmp_path / "claim.png")
    assert_png(tmp_path / "claim.png", min_w=1500)
    plots.claim_figure(claim_result(runs, ["l2", "fixed_point"]), trajs, path=tmp_path / "study.png", kind="study")
    assert_png(tmp_path / "study.png")


def test_run_figure_panels(runs, tmp_path):
    X, y, refs, trajs = runs
    record = {
        "config": {
            "optimizer": {"name": "GD"},
            "batch_size": "n",
            "lr": {"kind": "constant", "eta0": 0.1},
            "data": {"name": "gaussian"},
        },
        "references": refs.to_json(),
    }
    fig = plots.run_figure(trajs["GD"], record, X=X, y=y)
    assert len(fig.axes) == 3
    X2, y2 = ib.datasets.gaussian(6, 2, seed=3, labels="teacher", cov=[4.0, 0.25], margin=0.1)
    refs2 = E.compute_references(X2, y2)
    t2 = E.attach(ib.train(X2, y2, ib.GD(), steps=300, checkpoints=20), X2, y2, refs2)
    fig = plots.run_figure(t2, {**record, "references": refs2.to_json()}, X=X2, y=y2, path=tmp_path / "r.png")
    assert_png(tmp_path / "r.png", min_w=1500)
