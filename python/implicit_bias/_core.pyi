"""
Compiled engine of implicit_bias (private: use the Python API).
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Dataset_float64', 'Dataset_longdouble', 'LossKind', 'OptimizerKind', 'OptimizerParams', 'Order', 'RunConfig', 'Run_float64', 'Run_longdouble', 'ScheduleKind', 'advance_ensemble_float64', 'advance_ensemble_longdouble', 'build_info', 'data_exponent_range_float64', 'data_exponent_range_longdouble', 'lane_compatible_float64', 'lane_compatible_longdouble', 'max_lanes_float64', 'max_lanes_longdouble', 'max_scale_exponent', 'max_threads', 'max_threads_cap', 'openmp', 'optimizer_traits']
class OptimizerKind:
    """
    Members:
    
      gd
    
      sign_gd
    
      adam
    
      adam_proxy
    
      signum
    
      adagrad
    
      lion
    
      adam_epoch_map
    """
    __members__: typing.ClassVar[dict[str, OptimizerKind]]
    adagrad: typing.ClassVar[OptimizerKind]
    adam: typing.ClassVar[OptimizerKind]
    adam_epoch_map: typing.ClassVar[OptimizerKind]
    adam_proxy: typing.ClassVar[OptimizerKind]
    gd: typing.ClassVar[OptimizerKind]
    lion: typing.ClassVar[OptimizerKind]
    sign_gd: typing.ClassVar[OptimizerKind]
    signum: typing.ClassVar[OptimizerKind]
    @typing.overload
    def __eq__(self, other: OptimizerKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: OptimizerKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class LossKind:
    """
    Members:
    
      logistic
    
      exponential
    """
    __members__: typing.ClassVar[dict[str, LossKind]]
    exponential: typing.ClassVar[LossKind]
    logistic: typing.ClassVar[LossKind]
    @typing.overload
    def __eq__(self, other: LossKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: LossKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class ScheduleKind:
    """
    Members:
    
      constant
    
      polynomial
    
      step_decay
    """
    __members__: typing.ClassVar[dict[str, ScheduleKind]]
    constant: typing.ClassVar[ScheduleKind]
    polynomial: typing.ClassVar[ScheduleKind]
    step_decay: typing.ClassVar[ScheduleKind]
    @typing.overload
    def __eq__(self, other: ScheduleKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: ScheduleKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Order:
    """
    Members:
    
      cyclic
    
      reshuffle
    
      replacement
    """
    __members__: typing.ClassVar[dict[str, Order]]
    cyclic: typing.ClassVar[Order]
    replacement: typing.ClassVar[Order]
    reshuffle: typing.ClassVar[Order]
    @typing.overload
    def __eq__(self, other: Order) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Order) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class OptimizerParams:
    bias_correction: bool
    kind: OptimizerKind
    def __init__(self) -> None:
        ...
    @property
    def beta(self) -> float:
        ...
    @beta.setter
    def beta(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def beta1(self) -> float:
        ...
    @beta1.setter
    def beta1(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def beta2(self) -> float:
        ...
    @beta2.setter
    def beta2(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def eps(self) -> float:
        ...
    @eps.setter
    def eps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class RunConfig:
    loss: LossKind
    optimizer: OptimizerParams
    order: Order
    schedule: ScheduleKind
    def __init__(self) -> None:
        ...
    @property
    def batch_size(self) -> int:
        ...
    @batch_size.setter
    def batch_size(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def eta0(self) -> float:
        ...
    @eta0.setter
    def eta0(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def every(self) -> int:
        ...
    @every.setter
    def every(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def factor(self) -> float:
        ...
    @factor.setter
    def factor(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def power(self) -> float:
        ...
    @power.setter
    def power(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def seed(self) -> int:
        ...
    @seed.setter
    def seed(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class Dataset_float64:
    def __init__(self, z: numpy.typing.NDArray[numpy.float64]) -> None:
        """
        Signed rows z_i = y_i x_i, shape (n, d), C-contiguous.
        """
    @property
    def d(self) -> int:
        ...
    @property
    def n(self) -> int:
        ...
class Run_float64:
    def __init__(self, data: Dataset_float64, w0: numpy.typing.NDArray[numpy.float64], config: RunConfig) -> None:
        ...
    def advance(self, t_end: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Advance to step t_end with the GIL released; Ctrl-C stops at a step boundary.
        """
    def checkpoints(self) -> dict:
        ...
    def extend_grid(self, points: numpy.typing.NDArray[numpy.uint64]) -> None:
        """
        Add checkpoint steps (uint64, sorted, each after the current step) to the grid.
        """
    def load_state(self, state: dict) -> None:
        """
        Restore a state from save_state; every field is checked before the run changes (ValueError / TypeError naming the field).
        """
    def record(self) -> None:
        """
        Record a checkpoint at the current step.
        """
    def save_state(self) -> dict:
        ...
    @property
    def checkpoint_count(self) -> int:
        """
        How many checkpoints are recorded.
        """
    @property
    def cost_per_step(self) -> float:
        ...
    @property
    def grid_end(self) -> int:
        """
        The last planned checkpoint step (0 with no grid).
        """
    @property
    def recorded_now(self) -> bool:
        """
        True when the last recorded checkpoint is at the current step.
        """
    @property
    def scale_exponent(self) -> int:
        ...
    @property
    def scale_saturated(self) -> bool:
        """
        True when the gradient scale sits at its cap while this optimizer needs it (gradients not exact).
        """
    @property
    def t(self) -> int:
        ...
    @property
    def w(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
class Dataset_longdouble:
    def __init__(self, z: numpy.typing.NDArray[numpy.longdouble]) -> None:
        """
        Signed rows z_i = y_i x_i, shape (n, d), C-contiguous.
        """
    @property
    def d(self) -> int:
        ...
    @property
    def n(self) -> int:
        ...
class Run_longdouble:
    def __init__(self, data: Dataset_longdouble, w0: numpy.typing.NDArray[numpy.longdouble], config: RunConfig) -> None:
        ...
    def advance(self, t_end: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Advance to step t_end with the GIL released; Ctrl-C stops at a step boundary.
        """
    def checkpoints(self) -> dict:
        ...
    def extend_grid(self, points: numpy.typing.NDArray[numpy.uint64]) -> None:
        """
        Add checkpoint steps (uint64, sorted, each after the current step) to the grid.
        """
    def load_state(self, state: dict) -> None:
        """
        Restore a state from save_state; every field is checked before the run changes (ValueError / TypeError naming the field).
        """
    def record(self) -> None:
        """
        Record a checkpoint at the current step.
        """
    def save_state(self) -> dict:
        ...
    @property
    def checkpoint_count(self) -> int:
        """
        How many checkpoints are recorded.
        """
    @property
    def cost_per_step(self) -> float:
        ...
    @property
    def grid_end(self) -> int:
        """
        The last planned checkpoint step (0 with no grid).
        """
    @property
    def recorded_now(self) -> bool:
        """
        True when the last recorded checkpoint is at the current step.
        """
    @property
    def scale_exponent(self) -> int:
        ...
    @property
    def scale_saturated(self) -> bool:
        """
        True when the gradient scale sits at its cap while this optimizer needs it (gradients not exact).
        """
    @property
    def t(self) -> int:
        ...
    @property
    def w(self) -> numpy.typing.NDArray[numpy.longdouble]:
        ...
def _contract_probe(a: typing.SupportsFloat | typing.SupportsIndex, b: typing.SupportsFloat | typing.SupportsIndex, c: typing.SupportsFloat | typing.SupportsIndex) -> float:
    """
    a * b + c in double, compiled with the module's floating-point options (tests only).
    """
def advance_ensemble_float64(runs: collections.abc.Sequence[Run_float64], targets: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], threads: typing.SupportsInt | typing.SupportsIndex = 0, lanes: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]] | None = None) -> None:
    """
    Advance runs[k] to targets[k] for all k on OpenMP threads (GIL released, Ctrl-C checked between rounds); lanes: groups of run indices advanced step-interleaved in one thread each.
    """
def advance_ensemble_longdouble(runs: collections.abc.Sequence[Run_longdouble], targets: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], threads: typing.SupportsInt | typing.SupportsIndex = 0, lanes: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]] | None = None) -> None:
    """
    Advance runs[k] to targets[k] for all k on OpenMP threads (GIL released, Ctrl-C checked between rounds); lanes: groups of run indices advanced step-interleaved in one thread each.
    """
def build_info() -> dict:
    """
    How this module was compiled: compiler, flags, instruction set, versions (a new dict per call).
    """
def lane_compatible_float64(a: Run_float64, b: Run_float64) -> bool:
    """
    True when the two runs can share a lane group (same compiled optimizer, loss, dtype and batch path).
    """
def lane_compatible_longdouble(a: Run_longdouble, b: Run_longdouble) -> bool:
    """
    True when the two runs can share a lane group (same compiled optimizer, loss, dtype and batch path).
    """
def max_threads() -> int:
    """
    Threads OpenMP would use by default (1 without OpenMP).
    """
def optimizer_traits(kind: OptimizerKind) -> dict:
    """
    Traits of an optimizer kind from its C++ struct: full_batch, epoch_map, whole_pass, stateless, scale_invariant.
    """
data_exponent_range_float64: tuple = (-878, 880)
data_exponent_range_longdouble: tuple = (-16238, 16240)
max_lanes_float64: int = 32
max_lanes_longdouble: int = 32
max_scale_exponent: int = 1152921504606846976
max_threads_cap: int = 1024
openmp: bool = True
