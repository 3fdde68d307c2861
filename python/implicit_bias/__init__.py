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
from ._core import openmp as openmp_enabled
from .errors import DegenerateProblemError, NotSeparableError
from .optimizers import SGD, GD, AdaGrad, Adam, AdamProxy, Lion, Optimizer, RMSProp, Signum, SignGD
from .train import Run, Trajectory, train, train_many

__version__ = "0.1.0"

# name -> (submodule, attribute or None for the module itself), imported on first access.
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": ("datasets", None),
    "margins": ("margins", None),
    "fixedpoint": ("fixedpoint", None),
    "theory": ("theory", None),
    "experiments": ("experiments", None),
    "plots": ("plots", None),
    "max_margin": ("margins", "max_margin"),
    "normalized_margin": ("margins", "normalized_margin"),
    "cosine": ("margins", "cosine"),
    "margin_ratio": ("margins", "margin_ratio"),
    "MaxMarginResult": ("margins", "MaxMarginResult"),
    "fixed_point": ("fixedpoint", "fixed_point"),
    "FixedPointResult": ("fixedpoint", "FixedPointResult"),
    "predicted_direction": ("theory", "predicted_direction"),
    "Prediction": ("theory", "Prediction"),
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
    "AdamProxy",
    "DegenerateProblemError",
    "GD",
    "Lion",
    "NotSeparableError",
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
    "openmp_enabled",
    *_LAZY,
]
