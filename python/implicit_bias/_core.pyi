# Hand-written stubs of the compiled engine (cpp/bindings). Private: use implicit_bias.train / Run.
from __future__ import annotations

import enum
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

openmp: bool

def max_threads() -> int: ...
def build_info() -> dict[str, Any]:
    """Keys: version, compiler, compiler_version, compiler_string, build_type, flags, native,
    fp_contract, fast_math, math_errno, openmp, architecture, system, isa (list of the instruction-set
    macro names defined, e.g. "__SSE2__", "__AVX2__", "__FMA__"), flt_eval_method, long_double_digits,
    eigen_version, eigen_simd, pybind11_version."""
def _contract_probe(a: float, b: float, c: float) -> float: ...

class OptimizerKind(enum.IntEnum):
    gd = 0
    sign_gd = 1
    adam = 2
    adam_proxy = 3
    signum = 4
    adagrad = 5
    lion = 6
    adam_epoch_map = 7

class LossKind(enum.IntEnum):
    logistic = 0
    exponential = 1

class ScheduleKind(enum.IntEnum):
    constant = 0
    polynomial = 1
    step_decay = 2

class Order(enum.IntEnum):
    cyclic = 0
    reshuffle = 1
    replacement = 2

class OptimizerParams:
    kind: OptimizerKind
    beta1: float
    beta2: float
    eps: float
    beta: float
    bias_correction: bool
    def __init__(self) -> None: ...

class RunConfig:
    optimizer: OptimizerParams
    loss: LossKind
    schedule: ScheduleKind
    eta0: float
    power: float
    factor: float
    every: int
    order: Order
    batch_size: int
    seed: int
    def __init__(self) -> None: ...

class _Dataset:
    @property
    def n(self) -> int: ...
    @property
    def d(self) -> int: ...

class _Run:
    def advance(self, t_end: int) -> None: ...
    def set_grid(self, grid: npt.NDArray[np.uint64]) -> None: ...
    @property
    def grid(self) -> npt.NDArray[np.uint64]: ...
    @property
    def t(self) -> int: ...
    @property
    def w(self) -> npt.NDArray[Any]: ...
    @property
    def scale_exponent(self) -> int: ...
    @property
    def cost_per_step(self) -> float: ...
    def record(self) -> None: ...
    def checkpoints(self) -> dict[str, npt.NDArray[Any]]: ...
    def save_state(self) -> dict[str, Any]: ...
    def load_state(self, state: dict[str, Any]) -> None: ...

class Dataset_float64(_Dataset):
    def __init__(self, z: npt.NDArray[np.float64]) -> None: ...

class Dataset_longdouble(_Dataset):
    def __init__(self, z: npt.NDArray[np.longdouble]) -> None: ...

class Run_float64(_Run):
    def __init__(self, data: Dataset_float64, w0: npt.NDArray[np.float64], config: RunConfig) -> None: ...

class Run_longdouble(_Run):
    def __init__(self, data: Dataset_longdouble, w0: npt.NDArray[np.longdouble], config: RunConfig) -> None: ...

def advance_ensemble_float64(runs: Sequence[Run_float64], targets: Sequence[int], threads: int = 0) -> None: ...
def advance_ensemble_longdouble(runs: Sequence[Run_longdouble], targets: Sequence[int], threads: int = 0) -> None: ...
