"""The example configurations in examples/ run through the CLI, and ``--help`` shows defaults and examples."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_run_toml(tmp_path, capsys):
    status = cli.main(["run", "--config", str(EXAMPLES / "run.toml"), "--out", str(tmp_path), "--quiet"])
    assert status == 0
    written = {p.suffix for p in tmp_path.iterdir()}
    assert written == {".npz", ".json", ".png"}
    record = json.loads(next(tmp_path.glob("*.json")).read_text())
    expected = tomllib.loads((EXAMPLES / "run.toml").read_text())
    assert record["config"]["steps"] == expected["steps"]
    assert record["config"]["optimizer"]["name"] == expected["optimizer"]["name"]
    assert record["config"]["data"] == {**expected["data"]}
    m = record["metrics"]
    assert m["steps"] == expected["steps"]
    for key in ("cos_l2", "cos_linf", "cos_fixed_point", "ratio_linf"):
        assert np.isfinite(m[key]) and -1 <= m[key] <= 1 + 1e-12
    assert m["cos_l2"] > 0.9  # 2e4 steps of per-sample Adam already point near the max-margin directions
    traj = ib.Trajectory.load(next(tmp_path.glob("*.npz")))
    assert traj.steps[-1] == expected["steps"]
    assert "wrote" in capsys.readouterr().out


def test_example_sweep_toml(tmp_path, capsys):
    status = cli.main(["sweep", "--config", str(EXAMPLES / "sweep.toml"), "--out", str(tmp_path), "--quiet"])
    assert status == 0
    spec = tomllib.loads((EXAMPLES / "sweep.toml").read_text())
    table = json.loads((tmp_path / "table.json").read_text())
    assert table["complete"] is True
    assert len(table["cells"]) == len(spec["grid"]["batch_size"]) * len(spec["seeds"])
    assert [row["batch_size"] for row in table["aggregate"]] == spec["grid"]["batch_size"]
    for row in table["aggregate"]:
        assert np.isfinite(row["dist_predicted_mean"]) and row["dist_predicted_mean"] < 0.2
    assert (tmp_path / "table.csv").is_file() and (tmp_path / "phase_diagram.png").is_file()
    assert "6 cells" in capsys.readouterr().out


def help_text(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--help"])
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # one line: wrapping does not split a phrase


@pytest.mark.parametrize("command", ["reproduce", "run", "sweep"])
def test_help_shows_defaults_and_examples(capsys, command):
    text = help_text(capsys, command)
    assert f"--out DIR output directory (default: results/{command})" in text
    assert "examples: implicit-bias " + command in text
    if command != "reproduce":
        assert "(default: 200)" in text  # --checkpoints
        assert "sampling order (default: cyclic)" in text
    if command == "sweep":
        assert "(default: predicted)" in text  # --reference


def test_optimizer_help_lists_every_optimizer_one_line_each(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    lines = capsys.readouterr().out.splitlines()
    for cls in ib.optimizers.ALL_OPTIMIZERS:
        starts = [line for line in lines if re.match(rf"\s*{cls.__name__}( \(= SGD\))? \[", line)]
        assert len(starts) == 1, (cls.__name__, starts)
    assert any("AdamEpochMap [beta1, beta2]: SPEC's epoch map" in line for line in lines)


def test_top_level_help_points_to_the_commands(capsys):
    text = help_text(capsys)
    assert "{reproduce,run,sweep}" in text and "COMMAND --help" in text
