"""The form of a claim (:class:`RunSpec`, :class:`ClaimDef`) and how its runs are judged.

A claim of :mod:`.claims` names, for each run, a kind (``l2``, ``linf``, ``fixed_point``,
``not-linf``, ``predicted``, ``epoch_map``) and a threshold; :func:`evaluate` judges the run's
final metrics (:func:`.compare.final_metrics`) against it and :func:`criterion_text` says the
criterion in words (the same text goes into summary.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compare import REFERENCE_LABELS, REFERENCE_NAMES, References

__all__ = [
    "ClaimDef",
    "RunSpec",
    "DEFAULT_THRESHOLDS",
    "MATCHED_KINDS",
    "PREDICTION_KINDS",
    "SAME_DIRECTION",
    "criterion_text",
    "evaluate",
]

#: Default thresholds of each kind of prediction (a claim may tighten or loosen them, in the open).
DEFAULT_THRESHOLDS = {
    "l2": 0.999,
    "linf": 0.99,
    "fixed_point": 0.999,
    "not-linf": 0.95,
    "predicted": 0.999,
    "epoch_map": 0.999,
}
#: Kinds judged against the run's own prediction (``predicted``: ``ib.predicted_direction`` for its
#: optimizer, batch size, order and schedule, beta2 -> 1; ``epoch_map``: the same with finite_beta2).
MATCHED_KINDS = ("predicted", "epoch_map")
#: Two predictions closer than this (1 - cos) are the same direction and are not compared.
SAME_DIRECTION = 1e-6
#: Every kind of prediction a run may be judged against.
PREDICTION_KINDS = tuple(DEFAULT_THRESHOLDS)


# The PASS criterion of each kind; {t} is the threshold, {beat} the "nearer than the others" clause.
_CRITERIA = {
    "l2": "cos(w, w_l2) >= {t}{beat}",
    "fixed_point": "cos(w, w*) >= {t}{beat}",
    "linf": "l-inf margin ratio gamma_inf(w)/gamma_inf* >= {t}",
    "not-linf": "l-inf margin ratio < {t} (does not reach the l-inf max margin)",
    "predicted": "cos(w, its predicted direction) >= {t}{beat}",
    "epoch_map": "cos(w, epoch-map limit) >= {t} and nearer to it than to the beta2 -> 1 prediction (1 - cos)",
}


def criterion_text(kind: str, threshold: float, others: Sequence[str] = ()) -> str:
    """The PASS criterion of one run, in words (the same text goes into summary.md).

    Args:
        kind: one of :data:`PREDICTION_KINDS`.
        threshold: the cosine or margin-ratio bound (dimensionless).
        others: the references the run must also be nearer to (1 - cos) than to its predicted one.

    Returns:
        The criterion, e.g. ``"cos(w, w*) >= 0.999 and nearer to w* than to l2 (1 - cos)"``.

    Raises:
        ValueError: an unknown ``kind`` (named as ``predictions:``).
    """
    lab = REFERENCE_LABELS
    beat = (
        f" and nearer to {lab.get(kind, kind)} than to {', '.join(lab[o] for o in others)} (1 - cos)" if others else ""
    )
    if kind in _CRITERIA:
        return _CRITERIA[kind].format(t=f"{threshold:g}", beat=beat)
    raise ValueError(f"predictions: unknown prediction {kind!r}; use one of {', '.join(PREDICTION_KINDS)}")


def evaluate(kind: str, threshold: float, metrics: Mapping[str, Any], refs: References) -> tuple[bool, str, list[str]]:
    """Judge one run's limit direction against a prediction.

    * ``l2`` / ``fixed_point``: cosine to that reference >= threshold, and 1 - cos to it smaller
      than the distance to every other reference that is a different direction (on GR data
      w* = w_l2, so that pair is not compared).
    * ``linf``: l-inf margin ratio >= threshold (meaningful even if the maximiser is not unique).
    * ``not-linf``: l-inf margin ratio < threshold.
    * ``predicted``: cosine to the run's predicted direction (``cos_predicted``, e.g. the batch fixed
      point) >= threshold and nearer to it than to every reference that is a different direction
      (``predicted_gap_<ref>`` > SAME_DIRECTION).
    * ``epoch_map``: cosine to the epoch-map limit >= threshold and nearer to it than to the beta2 -> 1
      prediction.

    Args:
        kind: one of :data:`PREDICTION_KINDS`.
        threshold: the cosine or margin-ratio bound (dimensionless).
        metrics: the run's final metrics (``cos_<ref>``, ``dist_<ref>`` = 1 - cos, ``ratio_linf``, ...).
        refs: the references of the run's data set (to tell which ones are distinct directions).

    Returns:
        ``(passed, criterion, others)``: the verdict, the criterion in words and the references the
        run had to be nearer to.

    Raises:
        ValueError: an unknown ``kind``.
    """
    if kind not in PREDICTION_KINDS:
        raise ValueError(f"predictions: unknown prediction {kind!r}; use one of {', '.join(PREDICTION_KINDS)}")
    others: list[str] = []
    if kind in ("l2", "fixed_point"):
        if f"cos_{kind}" not in metrics:
            return False, criterion_text(kind, threshold) + f" [{REFERENCE_LABELS[kind]} unavailable]", []
        others = [r for r in REFERENCE_NAMES if r != kind and f"dist_{r}" in metrics and refs.distinct(kind, r)]
        ok = metrics[f"cos_{kind}"] >= threshold and all(metrics[f"dist_{kind}"] < metrics[f"dist_{r}"] for r in others)
    elif kind == "predicted":
        if "cos_predicted" not in metrics:
            return False, criterion_text(kind, threshold) + f" [no prediction: {metrics.get('predicted_kind')}]", []
        others = [
            r
            for r in REFERENCE_NAMES
            if f"dist_{r}" in metrics and metrics.get(f"predicted_gap_{r}", 1.0) > SAME_DIRECTION
        ]
        ok = metrics["cos_predicted"] >= threshold and all(
            metrics["dist_predicted"] < metrics[f"dist_{r}"] for r in others
        )
    elif kind == "epoch_map":
        if "cos_epoch_map" not in metrics or "dist_predicted" not in metrics:
            return (
                False,
                criterion_text(kind, threshold) + " [epoch-map limit or beta2 -> 1 prediction unavailable]",
                [],
            )
        ok = metrics["cos_epoch_map"] >= threshold and metrics["dist_epoch_map"] < metrics["dist_predicted"]
    elif kind == "linf":
        ok = metrics.get("ratio_linf", -np.inf) >= threshold
    else:
        ok = metrics.get("ratio_linf", np.inf) < threshold
    return bool(ok), criterion_text(kind, threshold, others), others


@dataclass
class RunSpec:
    """One run of a claim.

    Attributes:
        label: the run's name in summaries and legends.
        config: its raw configuration (see :func:`.config.normalize_config`).
        expect: the kind of prediction it is judged against (:data:`PREDICTION_KINDS`), or None for
            a study run that is only reported.
        threshold: the cosine / margin-ratio bound of ``expect`` (None: its default).
        group: the series it belongs to in the claim's figure.
        x: its position on a study figure's x axis (batch size, beta2, n), if any.
    """

    label: str
    config: dict[str, Any]
    expect: str | None = None
    threshold: float | None = None
    group: str = ""
    x: Any = None


@dataclass
class ClaimDef:
    """One claim of SPEC.md.

    Attributes:
        number: the claim's number in SPEC.md.
        title, statement, setting: what it says and how it is tested, in words (summary.md).
        runs: its runs.
        study: True for a study reported without a verdict.
        check: a claim-level check over the runs' result rows: ``(passed or None, explanation)``.
        plot: the figure kind, "convergence" or "study".
        x_label: the x axis of a study figure.
    """

    number: int
    title: str
    statement: str
    setting: str
    runs: list[RunSpec]
    study: bool = False
    check: Callable[[list[dict[str, Any]]], tuple[bool | None, str]] | None = None
    plot: str = "convergence"  # or "study"
    x_label: str = ""
