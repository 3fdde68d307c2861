"""The references of a data set and the distances of iterates from them.

Distances of a direction ``w`` from the references (all 0 at the reference):
``dist_l2 = 1 - cos(w, w_l2)``, ``dist_fixed_point = 1 - cos(w, w*)``, and for l-inf
``dist_linf = 1 - cos(w, w_linf)`` when the l-inf maximiser is unique, otherwise the margin-ratio
gap ``1 - gamma_inf(w) / gamma_inf*`` (a cosine to one of many maximisers means nothing).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import optimizers as _opt
from ..engine import Trajectory
from ..metrics import Norm, cosines_of_rows, margins_of_rows, unit_vector
from ..references import fixed_point, max_margin, predicted_direction
from ..schedules import from_dict
from .config import resolve_batch

#: The l2 and l-inf norms, as the metrics kernels take them.
L2, LINF = Norm("l2", "l2"), Norm("linf", "linf")

#: Reference directions every comparison is made against, in display order.
REFERENCE_NAMES = ("l2", "linf", "fixed_point")
#: Short labels used in tables and plots.
REFERENCE_LABELS = {"l2": "l2", "linf": "l-inf", "fixed_point": "w*"}


@dataclass
class References:
    """Reference directions of one data set, as unit-l2 vectors, plus what is needed to compare.

    ``directions[name]`` for name in ``l2``, ``linf``, ``fixed_point`` (absent when that reference
    could not be computed — see ``notes``); ``gamma["l2"]``, ``gamma["linf"]`` optimal normalized
    margins; ``linf_unique`` (True / False / None = unknown); ``notes`` human-readable caveats.
    """

    directions: dict[str, np.ndarray]
    gamma: dict[str, float]
    linf_unique: bool | None = None
    fixed_point_converged: bool | None = None
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: diagonal p of P(c*): w* is the max-margin direction of ||w||_P = sqrt(sum_j p_j w_j^2)
    fixed_point_norm: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy: directions as float64 lists, margins, uniqueness and notes."""
        return {
            "directions": {k: np.asarray(v, dtype=np.float64).tolist() for k, v in self.directions.items()},
            "fixed_point_norm": None
            if self.fixed_point_norm is None
            else np.asarray(self.fixed_point_norm, dtype=np.float64).tolist(),
            "linf_gap": self.raw.get("linf_gap", {}),
            "gamma": dict(self.gamma),
            "linf_unique": self.linf_unique,
            "fixed_point_converged": self.fixed_point_converged,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> References:
        """Inverse of :meth:`to_json`."""
        return cls(
            fixed_point_norm=None
            if d.get("fixed_point_norm") is None
            else np.asarray(d["fixed_point_norm"], dtype=np.float64),
            raw={"linf_gap": dict(d.get("linf_gap", {}))},
            directions={k: np.asarray(v, dtype=np.float64) for k, v in d["directions"].items()},
            gamma={k: float(v) for k, v in d["gamma"].items()},
            linf_unique=d.get("linf_unique"),
            fixed_point_converged=d.get("fixed_point_converged"),
            notes=list(d.get("notes", [])),
        )

    def distinct(self, a: str, b: str, tol: float = 1e-6) -> bool:
        """Whether references ``a`` and ``b`` are different directions (1 - cos > tol).

        When the l-inf maximiser is not unique, ``linf`` and another reference are distinct when
        that reference's l-inf margin gap (``1 - gamma_inf(w) / gamma_inf*``) exceeds ``tol``
        (the l-inf optimal set contains it otherwise).

        Args:
            a: a reference name (see :data:`REFERENCE_NAMES`).
            b: another reference name.
            tol: the threshold on 1 - cos (or on the l-inf margin gap), dimensionless.

        Returns:
            True when they differ; False when they are the same direction or either is missing.
        """
        if a not in self.directions or b not in self.directions:
            return False
        if "linf" in (a, b) and self.linf_unique is False:
            other = b if a == "linf" else a
            # the l-inf set contains the other reference iff its l-inf margin is optimal
            return self.raw.get("linf_gap", {}).get(other, 1.0) > tol
        u, v = self.directions[a], self.directions[b]
        return 1.0 - float(u @ v) > tol


def compute_references(X: np.ndarray, y: np.ndarray, which: Iterable[str] = REFERENCE_NAMES) -> References:
    """l2 and l-inf max-margin directions and the fixed point w* of (X, y), with their caveats.

    A reference that cannot be computed (non-separable data raise; a fixed point that is degenerate
    or did not converge is kept but flagged in ``notes``) is reported, never silently replaced.

    Args:
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        which: the references to compute, among :data:`REFERENCE_NAMES`.

    Returns:
        The :class:`References`: unit directions (d,), optimal margins and notes.
    """
    which = tuple(which)
    X64 = np.asarray(X, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    Z = y64[:, None] * X64
    dirs: dict[str, np.ndarray] = {}
    gamma: dict[str, float] = {}
    notes: list[str] = []
    raw: dict[str, Any] = {}
    linf_unique = None
    fp_conv = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "l2" in which or "linf" in which:
            mm2 = max_margin(X64, y64, norm="l2")
            raw["l2"] = mm2
            dirs["l2"] = unit_vector(getattr(mm2, "w_l2unit", mm2.w))
            gamma["l2"] = float(mm2.gamma)
        if "linf" in which:
            mmi = max_margin(X64, y64, norm="linf")
            raw["linf"] = mmi
            dirs["linf"] = unit_vector(getattr(mmi, "w_l2unit", mmi.w))
            gamma["linf"] = float(mmi.gamma)
            linf_unique = getattr(mmi, "unique", None)
            linf_unique = None if linf_unique is None else bool(linf_unique)
            if linf_unique is False:
                notes.append(
                    "the l-inf max-margin direction is not unique: l-inf is judged by the margin ratio, not the cosine"
                )
        if "fixed_point" in which:
            try:
                fp = fixed_point(X64, y64)
            except Exception as exc:  # a degenerate problem must be reported, not crash a sweep
                notes.append(f"fixed point not available: {exc}")
            else:
                raw["fixed_point"] = fp
                fp_conv = bool(getattr(fp, "converged", True))
                if getattr(fp, "w", None) is not None and np.all(np.isfinite(fp.w)) and np.any(fp.w):
                    dirs["fixed_point"] = unit_vector(fp.w)
                    p_diag, g = getattr(fp, "norm", None), getattr(fp, "gamma", None)
                    if p_diag is not None and g is not None and np.all(np.asarray(p_diag) > 0):
                        raw["fixed_point_norm"] = np.asarray(p_diag, dtype=np.float64)
                        gamma["fixed_point"] = float(g)
                if not fp_conv:
                    notes.append("the fixed-point iteration did not converge: w* is approximate")
                if getattr(fp, "degenerate", False):
                    notes.append("the fixed point is degenerate (P(c*) singular): w* is not well defined")
    refs = References(dirs, gamma, linf_unique, fp_conv, notes, raw, raw.get("fixed_point_norm"))
    if "linf" in dirs:
        raw["linf_gap"] = {
            k: float(1.0 - margins_of_rows(v[None], Z, LINF)[0] / gamma["linf"]) for k, v in dirs.items()
        }
    return refs


def compare(W: np.ndarray, X: np.ndarray, y: np.ndarray, refs: References) -> dict[str, np.ndarray]:
    """Cosines, margin ratios and distances of the rows of ``W`` against ``refs``.

    Computed in W's precision (long double runs keep their extra digits), returned as float64.

    Args:
        W: (k, d) iterates (e.g. the checkpoints of a trajectory).
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        refs: the references of (X, y).

    Returns:
        Arrays of shape (k,): ``cos_<ref>`` for each reference, ``ratio_l2``, ``ratio_linf``
        (normalized margin over the optimum) and ``dist_<ref>`` (see module doc).
    """
    W = np.atleast_2d(np.asarray(W))
    dt = W.dtype if W.dtype in (np.float64, np.longdouble) else np.dtype(np.float64)
    W = W.astype(dt)
    Z = np.asarray(y, dtype=dt)[:, None] * np.asarray(X, dtype=dt)
    out: dict[str, np.ndarray] = {}
    for name, ref in refs.directions.items():
        cos = cosines_of_rows(W, ref.astype(dt))
        out[f"cos_{name}"] = np.asarray(cos, dtype=np.float64)
        out[f"dist_{name}"] = np.asarray(1 - cos, dtype=np.float64)
    norms = {"l2": L2, "linf": LINF}
    if refs.fixed_point_norm is not None:
        p = refs.fixed_point_norm.astype(dt)
        norms["fixed_point"] = Norm("diag", p, diag=p)
    for name, nrm in norms.items():
        if name in refs.gamma:
            out[f"ratio_{name}"] = np.asarray(margins_of_rows(W, Z, nrm) / dt.type(refs.gamma[name]), dtype=np.float64)
    if "linf" in refs.directions and refs.linf_unique is False:
        out["dist_linf"] = 1.0 - out["ratio_linf"]
    return out


def nearest_reference(metrics: Mapping[str, Any], refs: References) -> str | None:
    """The reference(s) nearest to a direction, tie-aware.

    Args:
        metrics: the direction's ``dist_<ref>`` metrics (1 - cos).
        refs: the references (to tell which are the same direction).

    Returns:
        The nearest reference's name; references that are the same direction are joined with "="
        (e.g. "l2=fixed_point" on GR data, where w* = w_l2). None when no distance is known.
    """
    dists = {name: metrics[f"dist_{name}"] for name in REFERENCE_NAMES if metrics.get(f"dist_{name}") is not None}
    if not dists:
        return None
    best = min(dists, key=lambda k: dists[k])
    return "=".join(k for k in REFERENCE_NAMES if k in dists and (k == best or not refs.distinct(best, k)))


def final_metrics(traj: Trajectory, X: np.ndarray, y: np.ndarray, refs: References) -> dict[str, Any]:
    """Metrics of the last checkpoint (the limit direction estimate) as a flat JSON-ready dict.

    Args:
        traj: the run's :class:`Trajectory`.
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        refs: the references of (X, y).

    Returns:
        ``steps`` (int), ``norm``, ``log_loss`` and the :func:`compare` metrics of the last
        checkpoint (``cos_<ref>``, ``ratio_<norm>``, ``dist_<ref>``) as floats, plus ``nearest``
        (:func:`nearest_reference`).
    """
    cmp = compare(traj.w[-1:], X, y, refs)
    out: dict[str, Any] = {
        "steps": int(traj.steps[-1]),
        "norm": float(traj.norm[-1]),
        "log_loss": float(traj.log_loss[-1]),
    }
    out.update({k: float(v[0]) for k, v in cmp.items()})
    out["nearest"] = nearest_reference(out, refs)
    return out


def attach(traj: Trajectory, X: np.ndarray, y: np.ndarray, refs: References) -> Trajectory:
    """Store cosines and margin ratios against ``refs`` in the trajectory (for saving / plotting).

    Args:
        traj: the trajectory, changed in place: ``cosine[<ref>]`` and ``margin_ratio[<norm>]``
            (shape (K,), float64) for every reference and norm :func:`compare` reports.
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        refs: the references of (X, y).

    Returns:
        ``traj`` itself.
    """
    cmp = compare(traj.w, X, y, refs)
    for name in refs.directions:
        traj.cosine[name] = cmp[f"cos_{name}"]
    for norm in ("l2", "linf", "fixed_point"):
        if f"ratio_{norm}" in cmp:
            traj.margin_ratio[norm] = cmp[f"ratio_{norm}"]
    return traj


def predict(
    X: np.ndarray, y: np.ndarray, config: Mapping[str, Any], *, finite_beta2: bool = False, compute: bool = True
) -> dict[str, Any]:
    """``ib.predicted_direction`` for a normalized configuration, as JSON.

    Errors are reported as kind "error", never raised: the theory is a cross-check and must not
    stop an experiment.

    Args:
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        config: a normalized configuration (optimizer, batch size, order, schedule).
        finite_beta2: predict at the configuration's own beta2 (the epoch map) instead of beta2 -> 1.
        compute: also compute the predicted direction (else only its kind).

    Returns:
        ``kind``, ``reason``, ``confidence``, ``notes`` and (with ``compute``) the unit direction
        ``w`` (d,) and, for l-inf, its ``gamma_linf`` / ``unique``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = predicted_direction(
                np.asarray(X, dtype=np.float64),
                np.asarray(y, dtype=np.float64),
                _opt.from_description(dict(config["optimizer"])),
                resolve_batch(config, int(np.shape(X)[0])),
                order=config["order"],
                lr=from_dict(config["lr"]),
                finite_beta2=finite_beta2,
                compute=compute,
            )
    except Exception as exc:  # noqa: BLE001 - reported in the record instead
        return {"kind": "error", "reason": f"{type(exc).__name__}: {exc}", "confidence": "none", "notes": []}
    out: dict[str, Any] = {
        "kind": pred.kind,
        "reason": pred.reason,
        "confidence": pred.confidence,
        "notes": list(pred.notes),
    }
    if pred.w is not None:
        out["w"] = np.asarray(pred.w, dtype=np.float64).tolist()
        if pred.kind == "linf":
            out["gamma_linf"] = float(pred.reference.gamma)
            out["unique"] = pred.reference.unique
    return out


def prediction_metrics(
    w: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    prediction: Mapping[str, Any],
    refs: References | None = None,
    name: str = "predicted",
) -> dict[str, Any]:
    """Distance of one direction from a :func:`predict` result.

    Args:
        w: (d,) the direction (e.g. a run's last iterate).
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        prediction: a :func:`predict` result.
        refs: the references; with them, the prediction's own distance from each is reported.
        name: the metrics' prefix.

    Returns:
        ``cos_<name>`` and ``dist_<name>`` (1 - cos; for a non-unique l-inf prediction, 1 - the
        l-inf margin ratio), the prediction's kind, and with ``refs`` ``<name>_gap_<ref>``.
    """
    out: dict[str, Any] = {f"{name}_kind": prediction.get("kind")}
    if "w" not in prediction:
        return out
    w = np.asarray(w)
    dt = w.dtype if w.dtype in (np.float64, np.longdouble) else np.dtype(np.float64)
    predicted = np.asarray(prediction["w"], dtype=np.float64)
    cos = float(cosines_of_rows(w.astype(dt)[None, :], predicted.astype(dt))[0])
    out[f"cos_{name}"] = cos
    out[f"dist_{name}"] = 1.0 - cos
    for ref_name, ref in refs.directions.items() if refs is not None else ():
        out[f"{name}_gap_{ref_name}"] = float(1.0 - cosines_of_rows(predicted[None, :], ref)[0])
    if prediction.get("kind") == "linf" and prediction.get("unique") is False:
        Z = np.asarray(y, dtype=dt)[:, None] * np.asarray(X, dtype=dt)
        ratio = float(margins_of_rows(w.astype(dt)[None, :], Z, LINF)[0]) / prediction["gamma_linf"]
        out[f"dist_{name}"] = 1.0 - ratio
    return out
