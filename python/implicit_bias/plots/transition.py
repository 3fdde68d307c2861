"""The transition figure: how the predicted limit moves between b = 1 and b = n, and with beta2.

Our extension of the original study (the batch fixed point and the epoch map, SPEC "Beyond the
original study"); the figure says so in its title.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .style import FLOOR, finish

__all__ = ["transition_figure", "ORDER_STYLE"]

#: One colour and marker per sampling order (Okabe-Ito colours, distinguishable without red-green).
ORDER_STYLE = {
    "cyclic": {"color": "#0072B2", "marker": "o", "ls": "-"},
    "reshuffle": {"color": "#E69F00", "marker": "s", "ls": "--"},
    "replacement": {"color": "#009E73", "marker": "^", "ls": ":"},
}


def transition_figure(
    predicted: Mapping[str, Mapping[str, Sequence[float]]],
    measured: Sequence[Mapping[str, Any]],
    *,
    beta2: Mapping[str, Sequence[float]] | None = None,
    beta2_measured: Sequence[Mapping[str, Any]] = (),
    n: int,
    title: str = "",
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Three panels: against the batch size b = 1 .. n, (a) the predicted direction's distance
    1 - cos from the b = 1 fixed point and (b) its l-inf margin ratio, one curve per order, with
    long runs as markers; (c) against beta2, the epoch-map limit's distance from the beta2 -> 1
    fixed point, with Inc-Adam runs as markers.

    Args:
        predicted: order -> equal-length lists ``b``, ``dist_b1`` and ``ratio_linf``.
        measured: runs, each with ``order``, ``b``, ``dist_b1`` and ``ratio_linf``.
        beta2: lists ``beta2`` and ``dist_b1`` (the epoch-map limits); None: no panel (c) curve.
        beta2_measured: Inc-Adam runs, each with ``beta2`` and ``dist_b1``.
        n: the number of samples (the largest batch size).
        title: the figure's title.
        path: where to save the figure (it is then closed).

    Returns:
        The figure (closed if saved).
    """
    panels = 3 if beta2 else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.4 * panels, 4.4))
    for order, curve in predicted.items():
        st = ORDER_STYLE[order]
        b = np.asarray(curve["b"], dtype=float)
        axes[0].semilogy(
            b,
            np.maximum(np.asarray(curve["dist_b1"], dtype=float), FLOOR),
            st["ls"],
            color=st["color"],
            lw=1.6,
            label=f"prediction, {order}",
        )
        axes[1].plot(b, curve["ratio_linf"], st["ls"], color=st["color"], lw=1.6, label=f"prediction, {order}")
    for point in measured:
        st = ORDER_STYLE[point["order"]]
        kw = {"color": st["color"], "marker": st["marker"], "ls": "none", "ms": 7, "mfc": "none", "mew": 1.6}
        axes[0].semilogy([point["b"]], [max(point["dist_b1"], FLOOR)], **kw)
        axes[1].plot([point["b"]], [point["ratio_linf"]], **kw)
    positive = [v for c in predicted.values() for v in c["dist_b1"] if v > 0] + [
        p["dist_b1"] for p in measured if p["dist_b1"] > 0
    ]
    if positive:  # b = 1 predicts the b = 1 fixed point itself (distance 0): drawn at the bottom edge
        axes[0].set_ylim(bottom=min(positive) / 10)
    for ax in axes[:2]:
        ax.set_xlabel("batch size b")
        ax.set_xticks(sorted({int(b) for c in predicted.values() for b in c["b"]} | {1, n}))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(r"$1-\cos(w, w^*_{b=1})$")
    axes[0].set_title("distance from the b = 1 fixed point", fontsize=10)
    axes[1].set_ylabel(r"$\gamma_\infty(w)/\gamma_\infty^*$")
    axes[1].set_title("l-inf margin ratio (1 = the l-inf max margin)", fontsize=10)
    axes[1].axhline(1.0, color="0.4", lw=0.8)
    marker_note = plt.Line2D([], [], color="0.3", marker="o", ls="none", mfc="none", label="long runs (markers)")
    axes[1].legend(handles=[*axes[1].get_legend_handles_labels()[0], marker_note], fontsize=8, loc="lower right")
    if beta2:
        ax = axes[2]
        x = np.asarray(beta2["beta2"], dtype=float)
        ax.loglog(
            1 - x,
            np.maximum(np.asarray(beta2["dist_b1"], dtype=float), FLOOR),
            "-",
            color="#CC79A7",
            lw=1.6,
            label="epoch-map limit",
        )
        for point in beta2_measured:
            ax.loglog(
                [1 - point["beta2"]], [max(point["dist_b1"], FLOOR)], "D", color="#CC79A7", mfc="none", ms=7, mew=1.6
            )
        ax.plot([], [], "D", color="#CC79A7", mfc="none", label="Inc-Adam runs")
        ax.set_xlabel(r"$1-\beta_2$")
        ax.set_ylabel(r"$1-\cos(\cdot, w^*)$")
        ax.set_title(r"finite $\beta_2$ (b = 1, cyclic): distance from $w^*$", fontsize=10)
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(
        title or "How the implicit bias moves between b = 1 and b = n (our extension of the original study)",
        fontsize=11,
    )
    fig.tight_layout()
    return finish(fig, path, laid_out=True)
