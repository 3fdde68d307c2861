"""Figures of trajectories: distance from a reference, margin ratios, norm growth, one run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .._format import value_label
from .boundaries import decision_boundaries
from .style import DIST_LABEL, FLOOR, REFERENCE_STYLE, f64, finish, new_axes, palette, series


def convergence(
    trajectories: Mapping[str, Any],
    reference: str = "fixed_point",
    *,
    ax: Any = None,
    threshold: float | None = None,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Distance from ``reference`` against steps, one line per trajectory (log-log axes).

    Args:
        trajectories: label -> :class:`~implicit_bias.Trajectory`, with cosines / margin ratios
            attached (as written by :mod:`implicit_bias.experiments`).
        reference: ``l2``, ``fixed_point`` (or ``w*``), ``linf`` (1 - cosine) or ``linf_ratio`` /
            ``l2_ratio`` (1 - normalized margin / optimum).
        ax: axes to draw into (default: a new figure).
        threshold: draw a PASS line at that distance.
        title: the axes' title.
        path: where to save the figure (it is then closed).

    Returns:
        The saved-and-closed figure if ``path`` is given, else the axes.
    """
    found = {label: series(traj, reference) for label, traj in trajectories.items()}
    if trajectories and all(s is None for s in found.values()):
        have = sorted({name for traj in trajectories.values() for name in traj.cosine})
        raise ValueError(
            f"reference: no trajectory has a comparison with {reference!r} (they have cosines to {have or 'nothing'}); "
            "pass references= to ib.train, or name one of those"
        )
    fig, ax = new_axes(ax)
    for (label, traj), color in zip(trajectories.items(), palette(len(trajectories))):
        s = found[label]
        if s is None:
            continue
        steps = f64(traj.steps)
        keep = steps > 0
        ax.loglog(steps[keep], np.maximum(s[keep], FLOOR), color=color, lw=1.6, label=label)
    if threshold is not None:
        ax.axhline(threshold, color="0.4", ls="--", lw=1, label="PASS threshold")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(DIST_LABEL.get(reference, reference))
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)
    if trajectories:
        ax.legend(fontsize=8, loc="best")
    return finish(fig, path) if path is not None else ax


def margin_ratios(traj: Any, *, ax: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """Normalized l2 and l-inf margins over their optima against steps (log x); 1 = max margin.

    Args:
        traj: a :class:`~implicit_bias.Trajectory` with margin ratios attached (``margin_ratio``
            ``l2`` / ``linf``; those it lacks are not drawn).
        ax: axes to draw into (default: a new figure).
        path: where to save the figure (it is then closed).

    Returns:
        The saved-and-closed figure if ``path`` is given, else the axes.
    """
    fig, ax = new_axes(ax)
    steps = f64(traj.steps)
    keep = steps > 0
    for name in ("l2", "linf"):
        if name in traj.margin_ratio:
            st = REFERENCE_STYLE[name]
            ax.semilogx(
                steps[keep],
                f64(traj.margin_ratio[name])[keep],
                st.get("ls", "-"),
                color=st["color"],
                lw=1.6,
                label=st["label"],
            )
    ax.axhline(1.0, color="0.4", ls=":", lw=1)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"margin ratio $\gamma(w_t)/\gamma^*$")
    lo = min([float(np.nanmin(f64(v)[keep])) for v in traj.margin_ratio.values() if np.any(keep)] + [0.0])
    ax.set_ylim(max(lo, -0.1) - 0.02, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return finish(fig, path) if path is not None else ax


def norm_growth(trajectories: Mapping[str, Any], *, ax: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """||w_t||_2 against steps (log-log), one line per trajectory.

    Args:
        trajectories: label -> :class:`~implicit_bias.Trajectory` (checkpoints at step 0 or with
            norm 0 are not drawn).
        ax: axes to draw into (default: a new figure).
        path: where to save the figure (it is then closed).

    Returns:
        The saved-and-closed figure if ``path`` is given, else the axes.
    """
    fig, ax = new_axes(ax)
    for (label, traj), color in zip(trajectories.items(), palette(len(trajectories))):
        steps = f64(traj.steps)
        norm = f64(traj.norm)
        keep = (steps > 0) & (norm > 0)
        ax.loglog(steps[keep], norm[keep], color=color, lw=1.6, label=label)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|w_t\|_2$")
    ax.grid(True, alpha=0.3)
    if trajectories:
        ax.legend(fontsize=8, loc="upper left")
    return finish(fig, path) if path is not None else ax


def run_figure(
    traj: Any, record: Mapping[str, Any], *, X: Any = None, y: Any = None, path: str | os.PathLike[str] | None = None
) -> Any:
    """Figure of one run: (d = 2) data and boundaries, distances from the references, margin
    ratios and norm growth.

    Args:
        traj: the run's :class:`~implicit_bias.Trajectory`.
        record: its JSON record (``config``, ``metrics``, ``references``).
        X: (n, d) samples, for the boundary panel when d = 2.
        y: (n,) labels.
        path: where to save the figure (it is then closed).

    Returns:
        The figure (closed if saved).
    """
    two_d = X is not None and np.shape(X)[1] == 2
    n_panels = 3 + int(two_d)
    fig, axes = plt.subplots(1, n_panels, figsize=(5.0 * n_panels, 4.4))
    k = 0
    cfg = record.get("config", {})
    opt = cfg.get("optimizer", {})
    opt_name = opt.get("name", "run")
    if two_d:
        refs = {
            name: np.asarray(reference_from_trajectory(traj, name, record)) for name in ("l2", "linf", "fixed_point")
        }
        refs = {k2: v for k2, v in refs.items() if v is not None and v.size == 2}
        decision_boundaries(
            X, y, {f"{opt_name} (t = {int(traj.steps[-1]):.0e})": f64(traj.w[-1])}, references=refs, ax=axes[0]
        )
        k = 1
    ax = axes[k]
    steps = f64(traj.steps)
    keep = steps > 0
    for name in ("fixed_point", "l2", "linf"):
        s = series(traj, name)
        if s is None:
            continue
        st = REFERENCE_STYLE[name]
        lab = st["label"]
        if name == "linf" and record.get("references", {}).get("linf_unique") is False:
            s = series(traj, "linf_ratio")
            lab += " (1 − margin ratio: non-unique)"
        ax.loglog(
            steps[keep], np.maximum(s[keep], FLOOR), st.get("ls", "-"), color=st["color"], lw=1.6, label=f"from {lab}"
        )
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$1-\cos(w_t, w_{\mathrm{ref}})$")
    ax.grid(True, alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no references computed", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_title("distance from each reference", fontsize=10)
    if traj.margin_ratio:
        margin_ratios(traj, ax=axes[k + 1])
    else:
        axes[k + 1].text(
            0.5, 0.5, "no references computed", ha="center", va="center", transform=axes[k + 1].transAxes, color="0.4"
        )
    axes[k + 1].set_title("normalized margins", fontsize=10)
    norm_growth({opt_name: traj}, ax=axes[k + 2])
    axes[k + 2].set_title("norm growth", fontsize=10)
    b = cfg.get("batch_size", "")
    lr = cfg.get("lr", {})
    lr_txt = f"lr {lr.get('eta0', '')}"
    if lr.get("kind") == "polynomial":
        lr_txt += f"·(t+1)^-{lr['power']:g}"
    elif lr.get("kind") == "step_decay":
        lr_txt += f"·{lr['factor']:g}^(t // {lr['every']})"
    hp = ", ".join(f"{kk}={value_label(v)}" for kk, v in opt.items() if kk != "name")
    data = cfg.get("data", {})
    dname = data.get("name", os.path.basename(str(data.get("path", ""))))
    fig.suptitle(f"{opt_name}({hp}), b={b}, {cfg.get('order', '')}, {lr_txt} on {dname}", fontsize=11)
    fig.tight_layout()
    return finish(fig, path, laid_out=True)


def reference_from_trajectory(traj: Any, name: str, record: Mapping[str, Any]) -> Any:
    """The direction (d,) of reference ``name`` stored in a run's record, or None.

    Args:
        traj: the run's trajectory (not read: the record holds the directions).
        name: the reference, ``l2``, ``linf`` or ``fixed_point``.
        record: the run's JSON record (its ``references.directions``).

    Returns:
        The direction as the record stores it (a list of d floats, unit l2 norm), or None when the
        record has no such reference.
    """
    dirs = record.get("references", {}).get("directions", {})
    return dirs.get(name)
