"""Data of the transition figure: predicted limits for every batch size and order, and long runs.

Our extension of the original study (the batch fixed point and the epoch map).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import ORDERS
from ..metrics import margin_ratio
from ..references import fixed_point, max_margin

__all__ = ["transition_data"]


def transition_data(
    X: np.ndarray,
    y: np.ndarray,
    runs: Iterable[tuple[Mapping[str, Any], np.ndarray]] = (),
    *,
    epoch_maps: Mapping[float, np.ndarray] | None = None,
    inc_adam: Iterable[tuple[float, np.ndarray]] = (),
    orders: Sequence[str] = ORDERS,
) -> dict[str, Any]:
    """Curves and markers for :func:`implicit_bias.plots.transition_figure`.

    Args:
        X: (n, d) samples.
        y: (n,) labels in {-1, +1}.
        runs: (normalized config, last iterate (d,)) of long runs, placed by their batch size and order.
        epoch_maps: beta2 -> epoch-map limit direction (d,) (b = 1, cyclic).
        inc_adam: (beta2, last iterate (d,)) of Inc-Adam runs.
        orders: the sampling orders to predict curves for.

    Returns:
        ``predicted``, ``measured``, ``beta2`` and ``beta2_measured`` as
        :func:`implicit_bias.plots.transition_figure` takes them, and ``n``.
    """
    n = int(X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w1 = fixed_point(X, y, starts=1).w
        linf = max_margin(X, y, "linf")

        def place(w: np.ndarray) -> tuple[float, float]:
            """(1 - cos to the b = 1 fixed point, l-inf margin ratio) of a direction w (d,)."""
            u = np.asarray(w, dtype=np.float64)
            u = u / np.linalg.norm(u)
            return float(1.0 - u @ w1), float(margin_ratio(u, X, y, "linf", linf))

        predicted: dict[str, dict[str, list[float]]] = {}
        for order in orders:
            curve: dict[str, list[float]] = {"b": [], "dist_b1": [], "ratio_linf": []}
            for b in range(1, n + 1):
                dist, ratio = place(fixed_point(X, y, batch_size=b, order=order, starts=1).w)
                curve["b"].append(b)
                curve["dist_b1"].append(dist)
                curve["ratio_linf"].append(ratio)
            predicted[order] = curve
        measured = []
        for config, w in runs:
            b = n if config["batch_size"] == "n" else int(config["batch_size"])
            dist, ratio = place(w)
            measured.append({"order": config["order"], "b": b, "dist_b1": dist, "ratio_linf": ratio})
        beta2 = None
        if epoch_maps:
            keys = sorted(epoch_maps)
            beta2 = {"beta2": keys, "dist_b1": [place(epoch_maps[k])[0] for k in keys]}
        beta2_measured = [{"beta2": float(b2), "dist_b1": place(w)[0]} for b2, w in inc_adam]
    return {"predicted": predicted, "measured": measured, "beta2": beta2, "beta2_measured": beta2_measured, "n": n}
