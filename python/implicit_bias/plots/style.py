"""What every figure shares: one colour and label per reference, series extraction, saving."""

from __future__ import annotations

import os
from typing import Any

import matplotlib.pyplot as plt  # the user's backend is left alone (headless machines get Agg by default)
import numpy as np

__all__ = [
    "ALIASES",
    "REFERENCE_STYLE",
    "DIST_LABEL",
    "FLOOR",
    "ITERATE_COLORS",
    "finish",
    "f64",
    "series",
    "palette",
    "new_axes",
]

#: Colour, line style and label of each reference, shared by every figure (Okabe-Ito colours, which
#: stay distinct under the common colour-vision deficiencies, plus a line style each).
REFERENCE_STYLE = {
    "l2": {"color": "#0072B2", "ls": "-", "label": r"$\ell_2$ max margin"},
    "linf": {"color": "#D55E00", "ls": "--", "label": r"$\ell_\infty$ max margin"},
    "fixed_point": {"color": "#009E73", "ls": ":", "label": r"fixed point $w^*$"},
    # each cell's own prediction (batch / rho fixed point, epoch map; our extension)
    "predicted": {"color": "#CC79A7", "ls": "-.", "label": "its own prediction"},
}
DIST_LABEL = {
    "l2": r"$1-\cos(w_t, w_{\ell_2})$",
    "fixed_point": r"$1-\cos(w_t, w^*)$",
    "linf": r"$1-\cos(w_t, w_{\ell_\infty})$",
    "linf_ratio": r"$1-\gamma_\infty(w_t)/\gamma_\infty^*$",
    "l2_ratio": r"$1-\gamma_2(w_t)/\gamma_2^*$",
}
FLOOR = 1e-17
#: Colours of iterates in 2-D pictures (distinct from the reference colours).
ITERATE_COLORS = [
    "black",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]  # distances below this are drawn at the floor (log axes cannot show 0)


def finish(fig: Any, path: str | os.PathLike[str] | None, dpi: int = 150, laid_out: bool = False) -> Any:
    """Save the figure to ``path`` and close it; without ``path``, leave it open.

    Args:
        fig: the figure.
        path: where to save it (the format from the extension), or None to keep it open.
        dpi: resolution of raster formats, dots per inch.
        laid_out: the figure already ran a layout engine, so the (costly, second) tight
            bounding-box pass is skipped.

    Returns:
        The figure.
    """
    if path is not None:
        fig.savefig(path, dpi=dpi, bbox_inches=None if laid_out else "tight")
        plt.close(fig)
    return fig


def f64(a: Any) -> np.ndarray:
    """``a`` as a float64 array (matplotlib does not draw long doubles)."""
    return np.asarray(a, dtype=np.float64)


#: Names a user may give the same reference under (README's ``"w*"`` is the package's ``"fixed_point"``).
ALIASES = {"fixed_point": ("fixed_point", "w*"), "l2": ("l2",), "linf": ("linf", "l-inf")}


def series(traj: Any, what: str) -> np.ndarray | None:
    """A distance series of a trajectory, one value per checkpoint.

    Args:
        traj: a :class:`~implicit_bias.Trajectory` with references attached.
        what: ``l2``, ``fixed_point`` (or ``w*``), ``linf`` (1 - cos), ``linf_ratio`` / ``l2_ratio``
            (1 - margin ratio), or any name the trajectory has a cosine for.

    Returns:
        (checkpoints,) float64 distances, or None if the trajectory lacks that series.
    """
    ratio = what.endswith("_ratio")
    base = what[: -len("_ratio")] if ratio else what
    store = traj.margin_ratio if ratio else traj.cosine
    for name in ALIASES.get(base, (base,)):
        if name in store:
            return 1.0 - f64(store[name])
    return None


def palette(k: int) -> list[Any]:
    """``k`` distinct colours (tab10, or tab20 beyond 10), for runs that are not references."""
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(k)]


def new_axes(ax: Any, size: tuple[float, float] = (6.0, 4.2)) -> tuple[Any, Any]:
    """``(figure, axes)``: those of ``ax``, or a new figure of ``size`` inches if ``ax`` is None."""
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax
