"""LICENSE, CITATION.cff and the sdist's contents (needs the source tree)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import implicit_bias as ib

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree")


def _pyproject() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)


def _cff() -> dict[str, str]:
    """Top-level scalar keys of CITATION.cff (a tiny reader: no YAML dependency)."""
    out = {}
    for line in (ROOT / "CITATION.cff").read_text().splitlines():
        m = re.match(r'^([a-z-]+):\s*"?([^"]*?)"?\s*$', line)
        if m and m.group(2):
            out[m.group(1)] = m.group(2)
    return out


def test_license_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 The implicit-bias developers" in text
    assert _pyproject()["project"]["license"] == "MIT"


def test_citation_matches_the_package():
    cff = _cff()
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == ib.__version__ == importlib.metadata.version("implicit-bias")
    assert _pyproject()["project"]["dynamic"] == ["version"]  # read from _version.py, the one place it is written
    assert cff["license"] == "MIT"
    assert cff["date-released"] == "2026-12-03"
    assert cff["title"].startswith("implicit-bias")
    assert '- name: "The implicit-bias developers"' in (ROOT / "CITATION.cff").read_text()


def test_sdist_has_license_and_citation_but_no_bench_results(tmp_path):
    pytest.importorskip("scikit_build_core")
    code = f"from scikit_build_core.build import build_sdist; print(build_sdist({str(tmp_path)!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    name = out.stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / name) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "CITATION.cff", "pyproject.toml", "CMakeLists.txt"} <= names
    assert "cpp/bindings/build_info.hpp.in" in names
    assert not [n for n in names if n.startswith("bench/results")]
    assert "bench/engine.py" in names  # the benchmark scripts stay


def test_cibuildwheel_configuration_is_consistent():
    """The manylinux configuration names test files that exist, an extra that exists, the portable
    build and CPython glibc targets only (cibuildwheel itself is not run here)."""
    project = _pyproject()
    cibw = project["tool"]["cibuildwheel"]
    assert set(cibw["test-extras"]) <= set(project["project"]["optional-dependencies"])
    tests = re.findall(r"\{project\}/(\S+)", cibw["test-command"])
    assert tests and all((ROOT / t).is_file() for t in tests), tests
    assert not any("test_packaging" in t for t in tests)  # needs the source tree, not an installed wheel
    skip = cibw["skip"].split()
    assert "pp*" in skip and "*-musllinux_*" in skip
    requires = project["project"]["requires-python"].removeprefix(">=")
    assert cibw["build"].split()[0] == "cp" + requires.replace(".", "") + "-*"  # from the oldest supported
    linux = cibw["linux"]
    assert linux["environment"]["IMPLICIT_BIAS_NATIVE"] == "OFF"
    assert linux["repair-wheel-command"].startswith("auditwheel repair")
    assert linux["manylinux-x86_64-image"] == "manylinux_2_28"
