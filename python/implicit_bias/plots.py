"""Figures for papers and notebooks (matplotlib, Agg backend; nothing here calls ``plt.show``).

* :func:`convergence` — distance of w_t / ||w_t|| from a reference against steps (log-log).
* :func:`margin_ratios` — normalized l2 / l-inf margin over the optimum against steps (log x).
* :func:`norm_growth` — ||w_t|| against steps (log-log).
* :func:`decision_boundaries` — a d = 2 data set with the boundaries of iterates and references.
* :func:`phase_diagram` — heatmaps (or lines, for one parameter) of a sweep's distances from
  w*, l2 and l-inf.
* :func:`claim_figure`, :func:`run_figure` — the composite figures written by
  :func:`implicit_bias.experiments.reproduce` and ``implicit-bias run``.

Every function takes an optional ``ax`` (or returns a new figure) and an optional ``path``: with a
path the figure is saved (PNG at 150 dpi by default) and closed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline", "pdf", "svg", "cairo"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

__all__ = [
    "convergence",
    "margin_ratios",
    "norm_growth",
    "decision_boundaries",
    "phase_diagram",
    "claim_figure",
    "run_figure",
    "REFERENCE_STYLE",
]

#: Colour and label of each reference, shared by every figure.
REFERENCE_STYLE = {
    "l2": {"color": "#1f77b4", "label": r"$\ell_2$ max margin"},
    "linf": {"color": "#d62728", "label": r"$\ell_\infty$ max margin"},
    "fixed_point": {"color": "#2ca02c", "label": r"fixed point $w^*$"},
}
_DIST_LABEL = {
    "l2": r"$1-\cos(w_t, w_{\ell_2})$",
    "fixed_point": r"$1-\cos(w_t, w^*)$",
    "linf": r"$1-\cos(w_t, w_{\ell_\infty})$",
    "linf_ratio": r"$1-\gamma_\infty(w_t)/\gamma_\infty^*$",
    "l2_ratio": r"$1-\gamma_2(w_t)/\gamma_2^*$",
}
_FLOOR = 1e-17
#: Colours of iterates in 2-D pictures (distinct from the reference colours).
_ITERATE_COLORS = ["black", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]  # distances below this are drawn at the floor (log axes cannot show 0)


def _finish(fig: Any, path: str | os.PathLike[str] | None, dpi: int = 150, laid_out: bool = False) -> Any:
    """Save (if ``path``) and close. ``laid_out``: the figure already ran a layout engine, so the
    (costly, second) tight bounding-box pass is skipped."""
    if path is not None:
        fig.savefig(path, dpi=dpi, bbox_inches=None if laid_out else "tight")
        plt.close(fig)
    return fig


def _f64(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _series(traj: Any, what: str) -> np.ndarray | None:
    """Distance series of a trajectory: ``l2``, ``fixed_point``, ``linf`` (1 - cos) or
    ``linf_ratio`` / ``l2_ratio`` (1 - margin ratio); None if the trajectory lacks it."""
    if what.endswith("_ratio"):
        r = traj.margin_ratio.get(what[: -len("_ratio")])
        return None if r is None else 1.0 - _f64(r)
    c = traj.cosine.get(what)
    return None if c is None else 1.0 - _f64(c)


def _colors(k: int) -> list[Any]:
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(k)]


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

    ``reference``: ``l2``, ``fixed_point``, ``linf`` (1 - cosine) or ``linf_ratio`` / ``l2_ratio``
    (1 - normalized margin / optimum). Trajectories need cosines / margin ratios attached (as
    written by :mod:`implicit_bias.experiments`). ``threshold``: draw a PASS line at that distance.
    """
    fig, ax = _axes(ax)
    for (label, traj), color in zip(trajectories.items(), _colors(len(trajectories))):
        s = _series(traj, reference)
        if s is None:
            continue
        steps = _f64(traj.steps)
        keep = steps > 0
        ax.loglog(steps[keep], np.maximum(s[keep], _FLOOR), color=color, lw=1.6, label=label)
    if threshold is not None:
        ax.axhline(threshold, color="0.4", ls="--", lw=1, label="PASS threshold")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(_DIST_LABEL.get(reference, reference))
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)
    if trajectories:
        ax.legend(fontsize=8, loc="best")
    return _finish(fig, path) if path is not None else ax


def margin_ratios(traj: Any, *, ax: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """Normalized l2 and l-inf margins over their optima against steps (log x); 1 = max margin."""
    fig, ax = _axes(ax)
    steps = _f64(traj.steps)
    keep = steps > 0
    for name in ("l2", "linf"):
        if name in traj.margin_ratio:
            st = REFERENCE_STYLE[name]
            ax.semilogx(steps[keep], _f64(traj.margin_ratio[name])[keep], color=st["color"], lw=1.6, label=st["label"])
    ax.axhline(1.0, color="0.4", ls=":", lw=1)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"margin ratio $\gamma(w_t)/\gamma^*$")
    lo = min([float(np.nanmin(_f64(v)[keep])) for v in traj.margin_ratio.values() if np.any(keep)] + [0.0])
    ax.set_ylim(max(lo, -0.1) - 0.02, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _finish(fig, path) if path is not None else ax


def norm_growth(trajectories: Mapping[str, Any], *, ax: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """||w_t||_2 against steps (log-log), one line per trajectory."""
    fig, ax = _axes(ax)
    for (label, traj), color in zip(trajectories.items(), _colors(len(trajectories))):
        steps = _f64(traj.steps)
        norm = _f64(traj.norm)
        keep = (steps > 0) & (norm > 0)
        ax.loglog(steps[keep], norm[keep], color=color, lw=1.6, label=label)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\|w_t\|_2$")
    ax.grid(True, alpha=0.3)
    if trajectories:
        ax.legend(fontsize=8, loc="upper left")
    return _finish(fig, path) if path is not None else ax


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

    ``directions``: label -> w (e.g. the final iterate of each optimizer), solid lines.
    ``references``: a :class:`~implicit_bias.experiments.References` (or mapping name -> w); its
    l2 / l-inf / w* boundaries are dashed, in the shared reference colours.
    """
    X = _f64(X)
    y = _f64(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: decision boundaries are drawn for d = 2 data only, got shape {X.shape}")
    fig, ax = _axes(ax, size=(5.2, 5.2))
    for label, marker, color in ((1, "o", "#444444"), (-1, "s", "#ff7f0e")):
        sel = y == label
        ax.scatter(X[sel, 0], X[sel, 1], marker=marker, s=42, facecolor="white" if label == 1 else color, edgecolor=color if label == -1 else "#444444", lw=1.4, label=f"y = {label:+d}", zorder=5)
    span = 1.1 * float(np.max(np.abs(X))) if X.size else 1.0
    t = np.linspace(-2 * span, 2 * span, 2)

    def line(w: np.ndarray, **kw: Any) -> None:
        w = _f64(w)
        nrm = np.linalg.norm(w)
        if nrm == 0 or not np.isfinite(nrm):
            return
        u = np.array([-w[1], w[0]]) / nrm
        ax.plot(t * u[0], t * u[1], **kw)
        ax.annotate("", xy=0.35 * span * w / nrm, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": kw.get("color", "k"), "lw": 1.2})

    refs = getattr(references, "directions", references) or {}
    drawn: list[tuple[np.ndarray, list[str], str]] = []  # coinciding references share one line
    for name, w in refs.items():
        st = REFERENCE_STYLE.get(name, {"color": "0.5", "label": name})
        u = _f64(w) / np.linalg.norm(_f64(w))
        for prev_u, labels, _ in drawn:
            if float(prev_u @ u) > 1 - 1e-9:
                labels.append(st["label"])
                break
        else:
            drawn.append((u, [st["label"]], st["color"]))
    for u, labels, color in drawn:
        line(u, color=color, ls="--", lw=2.2, alpha=0.8, label=" = ".join(labels))
    for (label, w), color in zip(directions.items(), _ITERATE_COLORS * (1 + len(directions) // len(_ITERATE_COLORS))):
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
    return _finish(fig, path) if path is not None else ax


def _axes(ax: Any, size: tuple[float, float] = (6.0, 4.2)) -> tuple[Any, Any]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def _label(v: Any) -> str:
    from .experiments import _value_label  # one formatting of grid values for tables and figures

    return _value_label(v)


def phase_diagram(result: Any, *, path: str | os.PathLike[str] | None = None, title: str = "") -> Any:
    """Distance of the limit direction from w*, l2 and l-inf over a sweep's grid (mean over seeds).

    Two grid parameters: three heatmaps on one logarithmic colour scale, each cell annotated;
    one parameter: three lines. ``result`` is a :class:`~implicit_bias.experiments.SweepResult`.
    """
    keys = list(result.grid)
    metrics = [("fixed_point", "dist_fixed_point"), ("l2", "dist_l2"), ("linf", "dist_linf")]
    metrics = [(n, m) for n, m in metrics if any(r.get(m) is not None for r in result.rows)]
    a0 = [_label(v) for v in result.grid[keys[0]]]
    if len(keys) == 1:
        fig, ax = plt.subplots(figsize=(6.5, 4.3))
        x = np.arange(len(a0))
        for name, m in metrics:
            vals = result.aggregate(m)[:, 0]
            st = REFERENCE_STYLE[name]
            ax.semilogy(x, np.maximum(vals, _FLOOR), "o-", color=st["color"], label=f"from {st['label']}")
            for r in result.rows:  # individual seeds
                if r.get(m) is not None:
                    ax.semilogy(a0.index(_label(r[keys[0]])), max(r[m], _FLOOR), ".", color=st["color"], alpha=0.4)
        ax.set_xticks(x, a0)
        ax.set_xlabel(keys[0])
        ax.set_ylabel("distance of the limit direction\n(1 − cos; l-inf: 1 − margin ratio if non-unique)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title, fontsize=9)
        return _finish(fig, path)
    a1 = [_label(v) for v in result.grid[keys[1]]]
    mats = [result.aggregate(m) for _, m in metrics]
    finite = np.concatenate([mm[np.isfinite(mm)].ravel() for mm in mats]) if mats else np.zeros(0)
    pos = finite[finite > 0]
    vmin = max(float(pos.min()) if pos.size else 1e-12, 1e-16)
    vmax = max(float(pos.max()) if pos.size else 1.0, vmin * 10)
    norm = LogNorm(vmin=vmin, vmax=vmax)
    w = max(3.6, 0.75 * len(a0) + 1.6)
    h = max(3.2, 0.55 * len(a1) + 1.6)
    fig, axes = plt.subplots(1, len(metrics), figsize=(w * len(metrics) + 1.2, h), squeeze=False, constrained_layout=True)
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
                    ax.text(i, j, f"{v:.1e}", ha="center", va="center", fontsize=7, color="black" if bright else "white")
    if im is not None:
        cb = fig.colorbar(im, ax=axes[0].tolist(), shrink=0.9)
        cb.set_label("1 − cos (l-inf: 1 − margin ratio if non-unique)")
    fig.suptitle(("Distance of the limit direction from each reference (darker = closer)" + (f"\n{title}" if title else "")), fontsize=10)
    return _finish(fig, path)


_KIND_SERIES = {"l2": "l2", "fixed_point": "fixed_point", "linf": "linf_ratio", "not-linf": "linf_ratio"}


def claim_figure(result: Any, trajectories: Mapping[str, Any], *, path: str | os.PathLike[str] | None = None, kind: str = "convergence", x_label: str = "") -> Any:
    """The figure of one reproduced claim (see :func:`implicit_bias.experiments.reproduce`).

    ``convergence`` claims: (a) distance from each run's predicted direction against steps with
    the PASS threshold, (b) final distance from every reference per run, (c) norm growth.
    ``study`` claims: final distances from each reference against the studied parameter, plus
    convergence to w* over time.
    """
    rows = result.rows
    if kind == "study":
        return _study_figure(result, trajectories, path=path, x_label=x_label)
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), gridspec_kw={"width_ratios": [1.25, 1.0, 0.9]})
    # (a) distance from the predicted direction
    ax = axes[0]
    colors = _colors(len(rows))
    kinds = {r.get("prediction") for r in rows if r.get("prediction")}
    for r, color in zip(rows, colors):
        kd = r.get("prediction")
        if not kd:
            continue
        s = _series(trajectories[r["label"]], _KIND_SERIES[kd])
        if s is None:
            continue
        steps = _f64(trajectories[r["label"]].steps)
        keep = steps > 0
        style = "--" if kd == "not-linf" else "-"
        suffix = "" if len(kinds) == 1 else f" [{kd}]"
        ax.loglog(steps[keep], np.maximum(s[keep], _FLOOR), style, color=color, lw=1.5, label=f"{r['label']}{suffix} — {r.get('result', '')}")
    thresholds: dict[tuple[str, float], list[Any]] = {}  # (side, level) -> colours of its runs
    for r, color in zip(rows, colors):
        if r.get("prediction"):
            side = "above" if r["prediction"] == "not-linf" else "below"
            thresholds.setdefault((side, 1 - r["threshold"]), []).append(color)
    for (side, level), cols in sorted(thresholds.items(), key=lambda kv: kv[0][1]):
        single = len(thresholds) > 1 and len(cols) == 1
        ax.axhline(level, color=cols[0] if single else "0.35", ls=":", lw=1.2)
        ax.annotate(f"PASS {side} {level:.0e}", xy=(1.0, level), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7, color=cols[0] if single else "0.3")
    if len(kinds) == 1:
        (kd,) = kinds
        ax.set_ylabel("distance from the predicted direction\n" + _DIST_LABEL[_KIND_SERIES[kd]])
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
        vals = [max(r["metrics"].get(f"dist_{name}", np.nan), _FLOOR) for r in rows]
        st = REFERENCE_STYLE[name]
        ax.barh(y + (k - (len(names) - 1) / 2) * hgt, vals, height=hgt, color=st["color"], label=f"from {st['label']}")
    ax.set_xscale("log")
    ax.set_yticks(y, [r["label"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("distance of the last iterate\n(1 − cos; l-inf: 1 − margin ratio if non-unique)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.set_title("(b) which reference is nearest", fontsize=10, pad=22)
    # (c) norm growth
    norm_growth({r["label"]: trajectories[r["label"]] for r in rows}, ax=axes[2])
    axes[2].get_legend().remove()
    axes[2].set_title(r"(c) norm growth $\|w_t\|$ (colours as in (a))", fontsize=10)
    fig.suptitle(f"Claim {result.number}: {result.title} — {result.status}", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return _finish(fig, path, laid_out=True)


def _study_figure(result: Any, trajectories: Mapping[str, Any], *, path: Any, x_label: str) -> Any:
    rows = result.rows
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    varying = {g: rs for g, rs in groups.items() if len({_label(r["x"]) for r in rs}) > 1}
    panels = list(varying.items()) if varying else [("", rows)]
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(5.6 * (len(panels) + 1), 4.6))
    names = [n for n in ("fixed_point", "l2", "linf") if any(f"dist_{n}" in r["metrics"] for r in rows)]
    for ax, (gname, rs) in zip(axes, panels):
        cats: list[str] = []
        for r in rs:
            lab = _label(r["x"] if varying else r["group"])
            if lab not in cats:
                cats.append(lab)
        for name in names:
            st = REFERENCE_STYLE[name]
            means = []
            for c in cats:
                vals = [max(r["metrics"].get(f"dist_{name}", np.nan), _FLOOR) for r in rs if _label(r["x"] if varying else r["group"]) == c]
                ax.semilogy([cats.index(c)] * len(vals), vals, "o", color=st["color"], alpha=0.45, ms=4)
                means.append(np.exp(np.mean(np.log(vals))))
            ax.semilogy(range(len(cats)), means, "-", color=st["color"], lw=1.8, label=f"from {st['label']}")
        ax.set_xticks(range(len(cats)), cats)
        xname = (x_label or gname) if varying else (x_label or "setting")
        ax.set_xlabel(xname)
        ax.set_ylabel("distance of the last iterate\n(1 − cos; l-inf: 1 − margin ratio if non-unique)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        extra = f" ({gname})" if varying and x_label and gname else ""
        ax.set_title(f"limit direction vs {xname}{extra}", fontsize=10)
    convergence({r["label"]: trajectories[r["label"]] for r in rows}, "fixed_point", ax=axes[-1], title=r"convergence to $w^*$ over time")
    axes[-1].legend(fontsize=6, loc="lower left", ncol=2)
    fig.suptitle(f"Claim {result.number}: {result.title} — {result.status}", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return _finish(fig, path, laid_out=True)


def run_figure(traj: Any, record: Mapping[str, Any], *, X: Any = None, y: Any = None, path: str | os.PathLike[str] | None = None) -> Any:
    """Figure of one run: (d = 2) data and boundaries, distances from the references, margin
    ratios and norm growth."""
    two_d = X is not None and np.shape(X)[1] == 2
    n_panels = 3 + int(two_d)
    fig, axes = plt.subplots(1, n_panels, figsize=(5.0 * n_panels, 4.4))
    k = 0
    cfg = record.get("config", {})
    opt = cfg.get("optimizer", {})
    opt_name = opt.get("name", "run")
    if two_d:
        refs = {name: np.asarray(_ref_from_traj(traj, name, record)) for name in ("l2", "linf", "fixed_point")}
        refs = {k2: v for k2, v in refs.items() if v is not None and v.size == 2}
        decision_boundaries(X, y, {f"{opt_name} (t = {int(traj.steps[-1]):.0e})": _f64(traj.w[-1])}, references=refs, ax=axes[0])
        k = 1
    ax = axes[k]
    steps = _f64(traj.steps)
    keep = steps > 0
    for name in ("fixed_point", "l2", "linf"):
        s = _series(traj, name)
        if s is None:
            continue
        st = REFERENCE_STYLE[name]
        lab = st["label"]
        if name == "linf" and record.get("references", {}).get("linf_unique") is False:
            s = _series(traj, "linf_ratio")
            lab += " (1 − margin ratio: non-unique)"
        ax.loglog(steps[keep], np.maximum(s[keep], _FLOOR), color=st["color"], lw=1.6, label=f"from {lab}")
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
        axes[k + 1].text(0.5, 0.5, "no references computed", ha="center", va="center", transform=axes[k + 1].transAxes, color="0.4")
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
    hp = ", ".join(f"{kk}={_label(v)}" for kk, v in opt.items() if kk != "name")
    data = cfg.get("data", {})
    dname = data.get("name", os.path.basename(str(data.get("path", ""))))
    fig.suptitle(f"{opt_name}({hp}), b={b}, {cfg.get('order', '')}, {lr_txt} on {dname}", fontsize=11)
    fig.tight_layout()
    return _finish(fig, path, laid_out=True)


def _ref_from_traj(traj: Any, name: str, record: Mapping[str, Any]) -> Any:
    dirs = record.get("references", {}).get("directions", {})
    return dirs.get(name)
