"""Figures for papers and notebooks (matplotlib; nothing here calls ``plt.show``).

* :func:`convergence` — distance of w_t / ||w_t|| from a reference against steps (log-log).
* :func:`margin_ratios` — normalized l2 / l-inf margin over the optimum against steps (log x).
* :func:`norm_growth` — ||w_t|| against steps (log-log).
* :func:`decision_boundaries` — a d = 2 data set with the boundaries of iterates and references.
* :func:`phase_diagram` — heatmaps (or lines, for one parameter) of a sweep's distances from
  w*, l2 and l-inf.
* :func:`transition_figure` — predicted directions and long runs against the batch size and beta2
  (our extension of the original study).
* :func:`claim_figure`, :func:`run_figure` — the composite figures written by
  :func:`implicit_bias.experiments.reproduce` and ``implicit-bias run``.

Every function takes an optional ``ax`` (or returns a new figure) and an optional ``path``: with a
path the figure is saved (PNG at 150 dpi by default) and closed. Modules: :mod:`.style` (shared
colours and helpers), :mod:`.trajectories`, :mod:`.boundaries`, :mod:`.sweeps`, :mod:`.claims`.
"""

from __future__ import annotations

from .boundaries import decision_boundaries
from .claims import claim_figure
from .style import REFERENCE_STYLE
from .sweeps import phase_diagram
from .trajectories import convergence, margin_ratios, norm_growth, run_figure
from .transition import transition_figure

__all__ = [
    "convergence",
    "margin_ratios",
    "norm_growth",
    "decision_boundaries",
    "phase_diagram",
    "claim_figure",
    "run_figure",
    "transition_figure",
    "REFERENCE_STYLE",
]
