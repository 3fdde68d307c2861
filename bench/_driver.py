"""The C++ step driver and the 25 optimizer cases that compare builds (bench/native.py, bench/instructions.py).

Each case is one run of one optimizer at one shape: batch 1 (cyclic) at d = 2, 100, 1000 with n = 10,
and full batch at n = 100, d = 1000; lr 0.1, logistic loss, default hyper-parameters unless listed. A
case is given to the Python API as ``optimizer(case, ib)`` and to the C++ driver
(bench/drivers/step_driver.cpp) as ``driver_args(case, warm, steps)``.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "bench" / "drivers" / "step_driver.cpp"
# The package's portable floating-point flags (CMakeLists.txt: IB_FP_FLAGS) at -O3.
FLAGS = [
    "-std=c++17",
    "-O3",
    "-DNDEBUG",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-fno-math-errno",
    "-fno-trapping-math",
]
#: The package's default build: the run loop cloned per instruction set (numerics.hpp, IB_DISPATCH).
PORTABLE = ["-DIMPLICIT_BIAS_DISPATCH"]

#: implicit_bias::OptimizerKind as the driver takes it.
KINDS = {"GD": 0, "SignGD": 1, "Adam": 2, "AdamProxy": 3, "Signum": 4, "AdaGrad": 5, "Lion": 6}


@dataclass(frozen=True)
class Case:
    name: str  # table label
    optimizer: str  # class name in implicit_bias
    n: int
    d: int
    batch: int
    params: dict = field(default_factory=dict)  # eps, bias_correction, beta (the driver's optional args)

    @property
    def key(self) -> str:
        return f"{self.name}|{self.n}|{self.d}"


PER_SAMPLE = (
    ("GD", "GD", {}),
    ("SignGD", "SignGD", {}),
    ("Adam", "Adam", {}),
    ("Adam eps=1e-8+bc", "Adam", {"eps": 1e-8, "bias_correction": True}),
    ("Signum", "Signum", {"beta": 0.9}),
    ("AdaGrad", "AdaGrad", {}),
    ("Lion", "Lion", {}),
)
FULL_BATCH = (
    ("GD (full batch)", "GD", {}),
    ("Signum (full batch)", "Signum", {"beta": 0.9}),
    ("Det-Adam (full batch)", "Adam", {}),
    ("AdamProxy", "AdamProxy", {}),
)
CASES = [Case(name, opt, 10, d, 1, params) for d in (2, 100, 1000) for name, opt, params in PER_SAMPLE] + [
    Case(name, opt, 100, 1000, 100, params) for name, opt, params in FULL_BATCH
]

#: Warm-up steps per (n, d) before anything is timed or counted (past Adam's bias-correction phase at d = 2).
WARM_UP = {(10, 2): 60_000, (10, 100): 5_000, (10, 1000): 1_000, (100, 1000): 20}


def optimizer(case: Case, ib):
    """The case's optimizer from the package ``ib``."""
    return getattr(ib, case.optimizer)(**case.params)


def driver_args(case: Case, warm: int, steps: int) -> list[str]:
    """Arguments of step_driver: kind n d batch warm steps [eps bias_correction beta]."""
    args = [str(KINDS[case.optimizer]), str(case.n), str(case.d), str(case.batch), str(warm), str(steps)]
    if case.params:
        p = case.params
        args += [repr(p.get("eps", 0.0)), str(int(p.get("bias_correction", False))), repr(p.get("beta", 0.9))]
    return args


def eigen_include() -> Path:
    path = Path(sysconfig.get_paths()["purelib"]) / "cmeel.prefix" / "include" / "eigen3"
    if not (path / "Eigen" / "Core").exists():
        raise SystemExit(f"Eigen not found at {path}: pip install cmeel-eigen")
    return path


def compile_driver(binary: Path, extra: list[str]) -> Path:
    """Build step_driver with the package's flags plus ``extra`` (e.g. PORTABLE or ["-march=native"])."""
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        raise SystemExit("the step driver needs a C++17 compiler")
    include = ["-I", str(ROOT / "cpp" / "include"), "-I", str(eigen_include())]
    subprocess.run([cxx, *FLAGS, *extra, *include, str(DRIVER), "-o", str(binary)], check=True)
    return binary


def run_driver(binary: Path, args: list[str], prefix: list[str] | None = None) -> tuple[str, float]:
    """(fingerprint of w, wall-clock ns per timed step) of one driver run."""
    proc = subprocess.run([*(prefix or []), str(binary), *args], capture_output=True, text=True, check=True)
    fingerprint, ns_step = proc.stdout.split()
    return fingerprint, float(ns_step)
