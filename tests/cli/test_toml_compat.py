"""`run --config` on Python 3.10: the TOML parser comes from tomli below 3.11, tomllib from 3.11."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import types

import pytest

from implicit_bias import cli

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="implicit-bias run")


@pytest.fixture
def as_python_310(monkeypatch):
    """Pretend to be Python 3.10 and count the loads that go through ``tomli``."""
    calls: list[str] = []
    fake = types.ModuleType("tomli")

    def load(fh):
        calls.append("tomli")
        return tomllib.load(fh)

    fake.load = load  # type: ignore[attr-defined]
    fake.TOMLDecodeError = tomllib.TOMLDecodeError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tomli", fake)
    monkeypatch.setattr(sys, "version_info", (3, 10, 13, "final", 0))
    return calls


def test_tomli_below_311(tmp_path, as_python_310):
    path = tmp_path / "run.toml"
    path.write_text('steps = 100\n[optimizer]\nname = "Adam"\n')
    data = cli.load_toml(str(path), ["steps", "optimizer"], _parser())
    assert data == {"steps": 100, "optimizer": {"name": "Adam"}}
    assert as_python_310 == ["tomli"]


def test_tomli_decode_error_is_a_usage_error(tmp_path, capsys, as_python_310):
    path = tmp_path / "bad.toml"
    path.write_text("steps = = 1\n")
    with pytest.raises(SystemExit) as exc:
        cli.load_toml(str(path), ["steps"], _parser())
    assert exc.value.code == 2
    assert "is not valid TOML" in capsys.readouterr().err


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library from 3.11")
def test_tomllib_from_311(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomli", None)  # importing tomli would fail
    path = tmp_path / "run.toml"
    path.write_text("steps = 5\n")
    assert cli.load_toml(str(path), ["steps"], _parser()) == {"steps": 5}


def test_tomli_is_a_dependency_below_311():
    try:
        requires = importlib.metadata.requires("implicit-bias") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("implicit-bias is not installed")
    tomli = [r for r in requires if r.replace(" ", "").startswith("tomli")]
    assert tomli, requires
    assert "python_version" in tomli[0] and "3.11" in tomli[0]
