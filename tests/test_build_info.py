"""ib.build_info: present, JSON-ready, and consistent with how the core was compiled."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import implicit_bias as ib
from implicit_bias import _core

ROOT = Path(__file__).resolve().parents[1]

KEYS = {
    "version": str,
    "compiler": str,
    "compiler_version": str,
    "compiler_string": str,
    "build_type": str,
    "flags": str,
    "native": bool,
    "fp_contract": str,
    "fast_math": bool,
    "math_errno": bool,
    "openmp": bool,
    "architecture": str,
    "system": str,
    "isa": list,
    "long_double_digits": int,
    "eigen_version": str,
    "eigen_simd": str,
    "pybind11_version": str,
}

# Instruction-set macro -> /proc/cpuinfo flag (x86_64).
CPU_FLAG = {
    "__SSE4_1__": "sse4_1",
    "__SSE4_2__": "sse4_2",
    "__AVX__": "avx",
    "__FMA__": "fma",
    "__AVX2__": "avx2",
    "__AVX512F__": "avx512f",
    "__AVX512BW__": "avx512bw",
    "__AVX512DQ__": "avx512dq",
    "__AVX512VL__": "avx512vl",
}

INFO = ib.build_info
FLAGS = INFO["flags"].split()
IS_X86_64 = INFO["architecture"] == "x86_64"
# -march / -mavx2 / -mfma ... given to the compiler change its instruction set from the baseline.
ISA_FLAGS = [f for f in FLAGS if f.startswith(("-march", "-mcpu", "-mavx", "-mfma", "-msse", "-mtune"))]


def test_keys_and_types():
    assert isinstance(INFO, dict)
    for key, typ in KEYS.items():
        assert key in INFO, key
        assert isinstance(INFO[key], typ), (key, INFO[key])
    assert all(isinstance(m, str) and m.startswith("__") for m in INFO["isa"])
    json.dumps(INFO)  # goes into .json records as is


def test_a_fresh_dict_per_call():
    info = _core.build_info()
    assert info == INFO and info is not _core.build_info()
    info["native"] = "changed"
    assert _core.build_info()["native"] == INFO["native"]


def test_versions():
    assert INFO["version"] == ib.__version__
    pybind11 = pytest.importorskip("pybind11")
    # The headers the module was compiled with; the installed pybind11 is normally the same one.
    if INFO["pybind11_version"] != pybind11.__version__:
        pytest.skip(f"installed pybind11 {pybind11.__version__} is not the one the module was built with")
    assert re.fullmatch(r"\d+\.\d+\.\S+", INFO["pybind11_version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", INFO["eigen_version"])


def test_floating_point_flags():
    assert INFO["fp_contract"] == "off"
    assert "-ffp-contract=off" in FLAGS
    assert INFO["fast_math"] is False
    assert "-ffast-math" not in FLAGS and "-Ofast" not in FLAGS
    assert INFO["math_errno"] is ("-fno-math-errno" not in FLAGS)


def test_no_contraction_into_fma():
    # (1 + 2^-30)(1 - 2^-30) = 1 - 2^-60 rounds to 1, so a*b + c with c = -1 is 0 when the product is
    # rounded first, and -2^-60 when fused. -ffp-contract=off must give 0 on every machine.
    a, b, c = 1.0 + 2.0**-30, 1.0 - 2.0**-30, -1.0
    assert _core._contract_probe(a, b, c) == 0.0


def test_native_flag_matches_flags():
    assert INFO["native"] is ("-march=native" in FLAGS)


def test_openmp_matches_core():
    assert INFO["openmp"] is ib.openmp_enabled
    if INFO["openmp"] and INFO["compiler"] == "GNU":
        assert "-fopenmp" in FLAGS


def test_architecture():
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        assert INFO["architecture"] == "x86_64"
        assert {"__SSE__", "__SSE2__"} <= set(INFO["isa"])  # the x86-64 baseline
    elif machine in ("aarch64", "arm64"):
        assert INFO["architecture"] == "aarch64"


def _cpu_flags() -> set[str] | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    m = re.search(r"^flags\s*:(.*)$", text, re.M)
    return set(m.group(1).split()) if m else None


@pytest.mark.skipif(not IS_X86_64, reason="x86_64 instruction sets")
def test_isa_runs_on_this_cpu():
    cpu = _cpu_flags()
    if cpu is None:
        pytest.skip("no /proc/cpuinfo")
    for macro, flag in CPU_FLAG.items():
        if macro in INFO["isa"]:
            assert flag in cpu, f"compiled with {macro} but this CPU lacks {flag}"
    if INFO["native"]:
        for macro in ("__AVX2__", "__FMA__"):  # every compiler that builds this knows these
            if CPU_FLAG[macro] in cpu:
                assert macro in INFO["isa"], f"native build on a CPU with {CPU_FLAG[macro]} lacks {macro}"


def _compiler_baseline() -> set[str] | None:
    """The instruction-set macros the same compiler defines with no -m flags, or None if unknown."""
    if INFO["compiler"] not in ("GNU", "Clang", "AppleClang"):
        return None
    candidates = [os.environ.get("CXX"), "c++", "g++" if INFO["compiler"] == "GNU" else "clang++"]
    for cxx in filter(None, candidates):
        exe = shutil.which(cxx)
        if exe is None:
            continue
        try:
            version = subprocess.run(
                [exe, "-dumpfullversion", "-dumpversion"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
            if version != INFO["compiler_version"]:
                continue
            out = subprocess.run(
                [exe, "-dM", "-E", "-x", "c++", os.devnull], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        return set(re.findall(r"#define (__\w+__|__ARM_\w+|__FP_FAST_FMA)\b", out))
    return None


@pytest.mark.skipif(not IS_X86_64, reason="x86_64 instruction sets")
def test_default_build_is_portable():
    if INFO["native"]:
        pytest.skip("built with IMPLICIT_BIAS_NATIVE=ON (opt-in): not portable by design")
    if ISA_FLAGS:
        pytest.skip(f"built with explicit instruction-set flags {ISA_FLAGS}")
    baseline = _compiler_baseline()
    isa = set(INFO["isa"])
    if baseline is None:
        # Without the compiler we only know that no mainstream baseline has AVX-512.
        assert "__AVX512F__" not in isa
        return
    # Exactly the compiler's baseline: e.g. no __FMA__ / __AVX2__ unless the compiler defaults to them
    # (x86-64-v3 distributions do).
    assert isa == baseline & _core_isa_names()
    if "__FMA__" not in baseline:
        assert "__FMA__" not in isa


def _core_isa_names() -> set[str]:
    """Every macro build_info can report (parsed from the binding source when it is there)."""
    src = ROOT / "cpp" / "bindings" / "build_info.cpp"
    if not src.exists():
        return set(INFO["isa"])
    return set(re.findall(r"IB_ISA\((\w+)\)", src.read_text())) - {"name"}


@pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree")
def test_configuration_defaults_to_portable():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        define = tomllib.load(fh)["tool"]["scikit-build"]["cmake"]["define"]
    assert define["IMPLICIT_BIAS_NATIVE"]["default"] == "OFF"
    cmake = (ROOT / "CMakeLists.txt").read_text()
    assert re.search(r'option\(IMPLICIT_BIAS_NATIVE\s+"[^"]*"\s+OFF\)', cmake)


def test_dispatch_is_reported_and_only_in_portable_x86_builds() -> None:
    import platform

    info = ib.build_info
    if (
        info["native"]
        or platform.machine() not in ("x86_64", "AMD64")
        or "GNU" not in str(info.get("compiler", "")).upper()
    ):
        assert info["dispatch"] in ("", "default,x86-64-v3,x86-64-v4")
    else:
        assert info["dispatch"] == "default,x86-64-v3,x86-64-v4"
