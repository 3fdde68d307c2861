"""experiments.config, datasets and cli became packages: every name the one-file modules had is
still importable from the same path, and it is the object its new home defines."""

from __future__ import annotations

import subprocess
import sys

import pytest

import implicit_bias as ib
from implicit_bias import cli, datasets
from implicit_bias.experiments import config

# Public names of the one-file modules before the split (python/implicit_bias/{experiments/config,datasets}.py).
CONFIG_NAMES = [
    "MAX_CHECKPOINTS", "CONFIG_KEYS", "DEFAULTS", "DATASET_ALIASES", "DATA_FILE_SUFFIXES", "CELL_FORMAT",
    "optimizer_classes", "optimizer_fields", "normalize_optimizer", "normalize_lr", "normalize_data",
    "normalize_config", "data_hash", "build_tag", "config_key", "run_bytes", "check_run_sizes",
    "resolve_batch", "run_kwargs", "set_param", "jsonable",
]  # fmt: skip
DATASETS_NAMES = [
    "gaussian", "generalized_rademacher", "shifted_diagonal", "load_sklearn", "load", "SKLEARN_DATASETS",
    "validate", "check_separable", "is_separable", "FORMATS", "LABELS",
]  # fmt: skip


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_config_names_keep_their_path(name):
    value = getattr(config, name)
    home = getattr(value, "__module__", None)
    if home is not None and callable(value):
        assert home.startswith("implicit_bias.experiments.config."), home


@pytest.mark.parametrize("name", DATASETS_NAMES)
def test_datasets_names_keep_their_path(name):
    assert getattr(ib.datasets, name) is getattr(datasets, name)


def test_data_file_suffixes_are_the_loaders_formats():
    assert config.DATA_FILE_SUFFIXES == (".npy", ".npz", ".csv", ".svm", ".svmlight", ".libsvm")
    assert set(config.DATA_FILE_SUFFIXES) == set(datasets.FORMATS)


def test_cli_entry_points():
    assert callable(cli.main) and cli.load_toml.__module__ == "implicit_bias.cli.configuration"
    out = subprocess.run(
        [sys.executable, "-m", "implicit_bias.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == f"implicit-bias {ib.__version__}"


def test_config_key_reads_the_version_from_the_config_package(monkeypatch):
    cfg = config.normalize_config({"data": {"name": "gaussian", "n": 4, "d": 6}, "optimizer": "GD", "steps": 10})
    key = config.config_key(cfg)
    monkeypatch.setattr(config, "__version__", "0.0.0-test")
    assert config.build_tag()["version"] == "0.0.0-test"
    assert config.config_key(cfg) != key
