"""Reference directions and predictions: what an optimizer's limit direction is compared with.

* :mod:`.maxmargin` — l2 / l-inf / l1 / Mahalanobis max-margin directions (:func:`max_margin`);
* :mod:`.qp` — the exact dual QP solver they and the fixed point share;
* :mod:`.polish` — active-set / vertex polishing and uniqueness certificates;
* :mod:`.fixedpoint` — the data-adaptive fixed point of per-sample Adam (:func:`fixed_point`);
* :mod:`.theory` — which reference the theory predicts for a configuration (:func:`predicted_direction`).
"""

from __future__ import annotations

from .fixedpoint import FixedPointResult, adam_preconditioner, fixed_point, fixed_point_map
from .maxmargin import MaxMarginResult, max_margin
from .qp import DualQPSolution, solve_dual_qp
from .theory import Prediction, predicted_direction

__all__ = [
    "DualQPSolution",
    "FixedPointResult",
    "MaxMarginResult",
    "Prediction",
    "adam_preconditioner",
    "fixed_point",
    "fixed_point_map",
    "max_margin",
    "predicted_direction",
    "solve_dual_qp",
]
