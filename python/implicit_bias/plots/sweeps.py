"""Phase diagrams of a sweep: distances of the limit direction from each reference."""

from __future__ import annotations

import os
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from .._format import value_label
from .style import FLOOR, REFERENCE_STYLE, finish


def phase_diagram(result: Any, *, path: str | os.PathLike[str] | None = None, title: str = "") -> Any:
    """Distance of the limit direction from w*, l2, l-inf and each cell's own prediction (the batch /
    rho fixed point matching its batch size and order, or the epoch map) over a sweep's grid (mean
    over seeds).

    Two grid parameters: three heatmaps on one logarithmic colour scale, each cell annotated;
    one parameter: three lines.

    Args:
        result: a :class:`~implicit_bias.experiments.SweepResult`.
        path: where to save the figure (it is then closed).
        title: the figure's title.

    Returns:
        The figure (closed if saved).
    """
    keys = list(result.grid)
    metrics = [
        ("fixed_point", "dist_fixed_point"),
        ("l2", "dist_l2"),
        ("linf", "dist_linf"),
        ("predicted", "dist_predicted"),
    ]
    metrics = [(n, m) for n, m in metrics if any(r.get(m) is not None for r in result.rows)]
    a0 = [value_label(v) for v in result.grid[keys[0]]]
    if len(keys) == 1:
        fig, ax = plt.subplots(figsize=(6.5, 4.3))
        x = np.arange(len(a0))
        for name, m in metrics:
            vals = result.aggregate(m)[:, 0]
            st = REFERENCE_STYLE[name]
            ax.semilogy(
                x,
                np.maximum(vals, FLOOR),
                marker="o",
                ls=st.get("ls", "-"),
                color=st["color"],
                label=f"from {st['label']}",
            )
            for r in result.rows:  # individual seeds
                if r.get(m) is not None:
                    ax.semilogy(a0.index(value_label(r[keys[0]])), max(r[m], FLOOR), ".", color=st["color"], alpha=0.4)
        ax.set_xticks(x, a0)
        ax.set_xlabel(keys[0])
        ax.set_ylabel("distance of the limit direction\n(1 − cos; l-inf: 1 − margin ratio if non-unique)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title, fontsize=9)
        return finish(fig, path)
    a1 = [value_label(v) for v in result.grid[keys[1]]]
    mats = [result.aggregate(m) for _, m in metrics]
    finite = np.concatenate([mm[np.isfinite(mm)].ravel() for mm in mats]) if mats else np.zeros(0)
    pos = finite[finite > 0]
    vmin = max(float(pos.min()) if pos.size else 1e-12, 1e-16)
    vmax = max(float(pos.max()) if pos.size else 1.0, vmin * 10)
    norm = LogNorm(vmin=vmin, vmax=vmax)
    w = max(3.6, 0.75 * len(a0) + 1.6)
    h = max(3.2, 0.55 * len(a1) + 1.6)
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(w * len(metrics) + 1.2, h), squeeze=False, constrained_layout=True
    )
    im = None
    for ax, (name, _), mm in zip(axes[0], metrics, mats):
        data = np.where(np.isfinite(mm), np.maximum(mm, vmin), np.nan).T  # rows: axis 1, cols: axis 0
        im = ax.imshow(data, origin="lower", cmap="viridis", norm=norm, aspect="auto")
        ax.set_xticks(np.arange(len(a0)), a0)
        ax.set_yticks(np.arange(len(a1)), a1)
        ax.set_xlabel(keys[0])
        ax.set_ylabel(keys[1])
        ax.set_title(f"from {REFERENCE_STYLE[name]['label']}")
        for i in range(len(a0)):
            for j in range(len(a1)):
                v = mm[i, j]
                if np.isfinite(v):
                    bright = norm(max(v, vmin)) > 0.6
                    ax.text(
                        i, j, f"{v:.1e}", ha="center", va="center", fontsize=7, color="black" if bright else "white"
                    )
    if im is not None:
        cb = fig.colorbar(im, ax=axes[0].tolist(), shrink=0.9)
        cb.set_label("1 − cos (l-inf: 1 − margin ratio if non-unique)")
    fig.suptitle(
        ("Distance of the limit direction from each reference (darker = closer)" + (f"\n{title}" if title else "")),
        fontsize=10,
    )
    return finish(fig, path)
