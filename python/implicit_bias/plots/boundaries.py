"""A d = 2 data set with the decision boundaries of iterates and references."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .style import ITERATE_COLORS, REFERENCE_STYLE, f64, finish, new_axes


def decision_boundaries(
    X: np.ndarray,
    y: np.ndarray,
    directions: Mapping[str, np.ndarray],
    *,
    references: Any = None,
    ax: Any = None,
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Scatter a d = 2 data set and draw each classifier's boundary {x : <w, x> = 0}.

    Args:
        X: (n, 2) samples.
        y: (n,) labels in {-1, +1}.
        directions: label -> w (2,) (e.g. the final iterate of each optimizer), solid lines.
        references: a :class:`~implicit_bias.experiments.References` (or mapping name -> w (2,));
            its l2 / l-inf / w* boundaries are dashed, in the shared reference colours.
        ax: axes to draw into (default: a new figure).
        title: the axes' title.
        path: where to save the figure (it is then closed).

    Returns:
        The saved-and-closed figure if ``path`` is given, else the axes.
    """
    X = f64(X)
    y = f64(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: decision boundaries are drawn for d = 2 data only, got shape {X.shape}")
    fig, ax = new_axes(ax, size=(5.2, 5.2))
    for label, marker, color in ((1, "o", "#444444"), (-1, "s", "#ff7f0e")):
        sel = y == label
        ax.scatter(
            X[sel, 0],
            X[sel, 1],
            marker=marker,
            s=42,
            facecolor="white" if label == 1 else color,
            edgecolor=color if label == -1 else "#444444",
            lw=1.4,
            label=f"y = {label:+d}",
            zorder=5,
        )
    span = 1.1 * float(np.max(np.abs(X))) if X.size else 1.0
    t = np.linspace(-2 * span, 2 * span, 2)

    def line(w: np.ndarray, **kw: Any) -> None:
        """Draw the boundary of w (2,) through the origin and an arrow along w (skipped if w = 0)."""
        w = f64(w)
        nrm = np.linalg.norm(w)
        if nrm == 0 or not np.isfinite(nrm):
            return
        u = np.array([-w[1], w[0]]) / nrm
        ax.plot(t * u[0], t * u[1], **kw)
        ax.annotate(
            "",
            xy=0.35 * span * w / nrm,
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "color": kw.get("color", "k"), "lw": 1.2},
        )

    refs = getattr(references, "directions", references) or {}
    drawn: list[tuple[np.ndarray, list[str], str]] = []  # coinciding references share one line
    for name, w in refs.items():
        st = REFERENCE_STYLE.get(name, {"color": "0.5", "label": name})
        u = f64(w) / np.linalg.norm(f64(w))
        for prev_u, labels, _ in drawn:
            if float(prev_u @ u) > 1 - 1e-9:
                labels.append(st["label"])
                break
        else:
            drawn.append((u, [st["label"]], st["color"]))
    for u, labels, color in drawn:
        line(u, color=color, ls="--", lw=2.2, alpha=0.8, label=" = ".join(labels))
    for (label, w), color in zip(directions.items(), ITERATE_COLORS * (1 + len(directions) // len(ITERATE_COLORS))):
        line(w, color=color, ls="-", lw=1.4, label=label)
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or r"data and decision boundaries $\langle w, x\rangle = 0$")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return finish(fig, path) if path is not None else ax
