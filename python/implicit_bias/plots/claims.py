"""The figure of one reproduced claim (convergence panels, or the study panels)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .._format import value_label
from .style import DIST_LABEL, FLOOR, REFERENCE_STYLE, f64, finish, palette, series
from .trajectories import convergence, norm_growth

KIND_SERIES = {"l2": "l2", "fixed_point": "fixed_point", "linf": "linf_ratio", "not-linf": "linf_ratio"}


def claim_figure(
    result: Any,
    trajectories: Mapping[str, Any],
    *,
    path: str | os.PathLike[str] | None = None,
    kind: str = "convergence",
    x_label: str = "",
) -> Any:
    """The figure of one reproduced claim (see :func:`implicit_bias.experiments.reproduce`).

    ``convergence`` claims: (a) distance from each run's predicted direction against steps with
    the PASS threshold, (b) final distance from every reference per run, (c) norm growth.
    ``study`` claims: final distances from each reference against the studied parameter, plus
    convergence to w* over time.

    Args:
        result: the claim's :class:`~implicit_bias.experiments.ClaimResult` (its ``rows``).
        trajectories: run label -> :class:`~implicit_bias.Trajectory` with references attached.
        path: where to save the figure (it is then closed).
        kind: "convergence" or "study".
        x_label: the studied parameter, the x axis of a study figure.

    Returns:
        The figure (closed if saved).
    """
    rows = result.rows
    if kind == "study":
        return study_figure(result, trajectories, path=path, x_label=x_label)
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), gridspec_kw={"width_ratios": [1.25, 1.0, 0.9]})
    # (a) distance from the predicted direction
    ax = axes[0]
    colors = palette(len(rows))
    kinds = {r.get("prediction") for r in rows if r.get("prediction")}
    for r, color in zip(rows, colors):
        kd = r.get("prediction")
        if not kd:
            continue
        s = series(trajectories[r["label"]], KIND_SERIES[kd])
        if s is None:
            continue
        steps = f64(trajectories[r["label"]].steps)
        keep = steps > 0
        style = "--" if kd == "not-linf" else "-"
        suffix = "" if len(kinds) == 1 else f" [{kd}]"
        ax.loglog(
            steps[keep],
            np.maximum(s[keep], FLOOR),
            style,
            color=color,
            lw=1.5,
            label=f"{r['label']}{suffix} — {r.get('result', '')}",
        )
    thresholds: dict[tuple[str, float], list[Any]] = {}  # (side, level) -> colours of its runs
    for r, color in zip(rows, colors):
        if r.get("prediction"):
            side = "above" if r["prediction"] == "not-linf" else "below"
            thresholds.setdefault((side, 1 - r["threshold"]), []).append(color)
    for (side, level), cols in sorted(thresholds.items(), key=lambda kv: kv[0][1]):
        single = len(thresholds) > 1 and len(cols) == 1
        ax.axhline(level, color=cols[0] if single else "0.35", ls=":", lw=1.2)
        ax.annotate(
            f"PASS {side} {level:.0e}",
            xy=(1.0, level),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=7,
            color=cols[0] if single else "0.3",
        )
    if len(kinds) == 1:
        (kd,) = kinds
        ax.set_ylabel("distance from the predicted direction\n" + DIST_LABEL[KIND_SERIES[kd]])
    else:
        ax.set_ylabel("distance from the predicted direction\n(1 − cos; l-inf: 1 − margin ratio)")
    ax.set_xlabel("step $t$")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title("(a) convergence to the prediction", fontsize=10)
    # (b) final distance from every reference
    ax = axes[1]
    names = [n for n in ("fixed_point", "l2", "linf") if any(f"dist_{n}" in r["metrics"] for r in rows)]
    y = np.arange(len(rows))
    hgt = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        vals = [max(r["metrics"].get(f"dist_{name}", np.nan), FLOOR) for r in rows]
        st = REFERENCE_STYLE[name]
        # a dot plot: on a log axis the length of a bar means nothing, the position of a dot does
        marker = {"fixed_point": "o", "l2": "s", "linf": "D"}.get(name, "o")
        ax.plot(
            vals,
            y + (k - (len(names) - 1) / 2) * hgt,
            marker,
            color=st["color"],
            ms=5,
            ls="none",
            label=f"from {st['label']}",
        )
    ax.set_xscale("log")
    ax.set_yticks(y, [r["label"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("distance of the last iterate\n(1 − cos; l-inf: 1 − margin ratio if non-unique)")
    ax.grid(True, axis="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.set_title("(b) which reference is nearest", fontsize=10, pad=22)
    # (c) norm growth
    norm_growth({r["label"]: trajectories[r["label"]] for r in rows}, ax=axes[2])
    axes[2].get_legend().remove()
    axes[2].set_title(r"(c) norm growth $\|w_t\|$ (colours as in (a))", fontsize=10)
    fig.suptitle(f"Claim {result.number}: {result.title} — {result.status}", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return finish(fig, path, laid_out=True)


def study_figure(result: Any, trajectories: Mapping[str, Any], *, path: Any, x_label: str) -> Any:
    """A study claim's figure: final distances (1 - cos) from each reference against the studied
    parameter, one panel per group of runs that varies it, and the convergence to w* over steps.

    Args:
        result: the claim's :class:`~implicit_bias.experiments.ClaimResult`.
        trajectories: run label -> :class:`~implicit_bias.Trajectory`.
        path: where to save the figure (it is then closed), or None.
        x_label: the studied parameter (batch size, beta2, n).

    Returns:
        The figure (closed if saved).
    """
    rows = result.rows
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    varying = {g: rs for g, rs in groups.items() if len({value_label(r["x"]) for r in rs}) > 1}
    panels = list(varying.items()) if varying else [("", rows)]
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(5.6 * (len(panels) + 1), 4.6))
    names = [n for n in ("fixed_point", "l2", "linf") if any(f"dist_{n}" in r["metrics"] for r in rows)]
    for ax, (gname, rs) in zip(axes, panels):
        cats: list[str] = []
        for r in rs:
            lab = value_label(r["x"] if varying else r["group"])
            if lab not in cats:
                cats.append(lab)
        for name in names:
            st = REFERENCE_STYLE[name]
            means = []
            for c in cats:
                vals = [
                    max(r["metrics"].get(f"dist_{name}", np.nan), FLOOR)
                    for r in rs
                    if value_label(r["x"] if varying else r["group"]) == c
                ]
                ax.semilogy([cats.index(c)] * len(vals), vals, "o", color=st["color"], alpha=0.45, ms=4)
                means.append(np.exp(np.mean(np.log(vals))))
            ax.semilogy(
                range(len(cats)), means, st.get("ls", "-"), color=st["color"], lw=1.8, label=f"from {st['label']}"
            )
        ax.set_xticks(range(len(cats)), cats)
        xname = (x_label or gname) if varying else (x_label or "setting")
        ax.set_xlabel(xname)
        ax.set_ylabel("distance of the last iterate\n(1 − cos; l-inf: 1 − margin ratio if non-unique)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        extra = f" ({gname})" if varying and x_label and gname else ""
        ax.set_title(f"limit direction vs {xname}{extra}", fontsize=10)
    convergence(
        {r["label"]: trajectories[r["label"]] for r in rows},
        "fixed_point",
        ax=axes[-1],
        title=r"convergence to $w^*$ over time",
    )
    axes[-1].legend(fontsize=6, loc="lower left", ncol=2)
    fig.suptitle(f"Claim {result.number}: {result.title} — {result.status}", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return finish(fig, path, laid_out=True)
