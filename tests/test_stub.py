"""The hand-off between C++ and Python: the checked-in ``_core.pyi`` is what pybind11-stubgen
generates from the built module (regenerate with ``pybind11-stubgen implicit_bias._core -o python``
after changing the bindings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STUB = Path(__file__).resolve().parents[1] / "python" / "implicit_bias" / "_core.pyi"


def test_core_stub_is_current(tmp_path) -> None:
    pytest.importorskip("pybind11_stubgen")
    cmd = [sys.executable, "-m", "pybind11_stubgen", "implicit_bias._core", "-o", str(tmp_path)]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    generated = (tmp_path / "implicit_bias" / "_core.pyi").read_text()
    assert generated == STUB.read_text(), (
        "python/implicit_bias/_core.pyi is out of date: run `pybind11-stubgen implicit_bias._core -o python`"
    )
