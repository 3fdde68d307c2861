"""implicit-bias: which max-margin direction does an optimizer converge to on separable data?

Engine (compiled, imported eagerly): :func:`train`, :class:`Run`, :func:`train_many`, the
optimizer configurations and :mod:`schedules`. References (CVXPY, imported on first use so that
``import implicit_bias`` stays fast): :func:`max_margin`, :func:`fixed_point`,
:func:`predicted_direction`, :mod:`datasets`, and the experiment / plotting modules.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import optimizers, schedules
from ._core import build_info as _core_build_info
from ._core import openmp as openmp_enabled
from ._version import __version__
from .engine import Run, Trajectory, train, train_many
from .errors import (
    DegenerateProblemError,
    IllConditionedError,
    NotSeparableError,
    NotSeparableWarning,
    RunFileError,
    StoreWarning,
)
from .optimizers import GD, SGD, AdaGrad, Adam, AdamEpochMap, AdamProxy, Lion, Optimizer, RMSProp, SignGD, Signum

#: How the compiled core was built: compiler, flags (native, fp_contract, openmp), the instruction-set
#: macros it was compiled with (``isa``), package and pybind11 / Eigen versions. A plain dict.
build_info: dict[str, Any] = _core_build_info()

# name -> (submodule, attribute or None for the module itself), imported on first access.
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": ("datasets", None),
    "metrics": ("metrics", None),
    "references": ("references", None),
    "experiments": ("experiments", None),
    "plots": ("plots", None),
    "max_margin": ("references", "max_margin"),
    "MaxMarginResult": ("references", "MaxMarginResult"),
    "fixed_point": ("references", "fixed_point"),
    "FixedPointResult": ("references", "FixedPointResult"),
    "predicted_direction": ("references", "predicted_direction"),
    "epoch_map_limit": ("engine", "epoch_map_limit"),
    "EpochMapLimit": ("engine", "EpochMapLimit"),
    "Prediction": ("references", "Prediction"),
    "normalized_margin": ("metrics", "normalized_margin"),
    "cosine": ("metrics", "cosine"),
    "margin_ratio": ("metrics", "margin_ratio"),
    "is_separable": ("separability", "is_separable"),
    "check_separable": ("separability", "check_separable"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'implicit_bias' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AdaGrad",
    "Adam",
    "AdamEpochMap",
    "AdamProxy",
    "DegenerateProblemError",
    "GD",
    "Lion",
    "NotSeparableError",
    "NotSeparableWarning",
    "IllConditionedError",
    "RunFileError",
    "StoreWarning",
    "Optimizer",
    "RMSProp",
    "Run",
    "SGD",
    "SignGD",
    "Signum",
    "Trajectory",
    "optimizers",
    "schedules",
    "train",
    "train_many",
    "build_info",
    "openmp_enabled",
    "__version__",
    *_LAZY,
]
