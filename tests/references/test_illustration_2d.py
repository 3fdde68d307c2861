"""The d = 2 illustration (issue 12, item 5): its data, its figure, and what d = 2 allows.

The fixed point is checked against tests/reference_fixedpoint.py (written from SPEC, independently).
"""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib
import reference_fixedpoint as R
from implicit_bias.errors import DegenerateProblemWarning
from implicit_bias.experiments.claims import DATA_2D, illustration_runs
from implicit_bias.experiments.data import load_data


def degrees(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    return float(np.degrees(np.arccos(np.clip(a @ b, -1, 1))))


def test_illustration_data_separate_l2_from_linf() -> None:
    X, y = load_data(DATA_2D)
    l2, linf = ib.max_margin(X, y), ib.max_margin(X, y, "linf")
    assert linf.unique is True
    assert degrees(l2.w, linf.w) > 10  # clearly distinct lines in the figure
    ref = R.plain_fixed_point(X, y)
    assert ref.converged
    fp = ib.fixed_point(X, y)
    assert degrees(fp.w, ref.w) < 1e-6
    assert {spec.expect for spec in illustration_runs(True)} == {"l2", "linf", "fixed_point"}


def test_three_distinct_directions_exist_in_two_dimensions() -> None:
    # Not a theorem: in d = 2 w* usually sits on l2's or l-inf's line, but not on these data (found by
    # a search over generated data sets): all three directions are more than 5 degrees apart.
    X, y = ib.datasets.gaussian(n=4, d=2, seed=63, labels="teacher", cov=[4.0, 0.25], margin=0.2)
    l2, linf = ib.max_margin(X, y), ib.max_margin(X, y, "linf")
    ref = R.plain_fixed_point(X, y)
    assert ref.converged
    angles = [degrees(l2.w, linf.w), degrees(l2.w, ref.w), degrees(linf.w, ref.w)]
    assert min(angles) > 5, angles
    with pytest.warns(DegenerateProblemWarning, match="NOT UNIQUE"):  # and c = T(c) has another solution
        fp = ib.fixed_point(X, y)
    assert fp.unique is False and fp.alternatives.shape[0] >= 1
    assert degrees(fp.w, ref.w) < 1e-6  # the one reached from c = 1/n


def test_boundaries_figure_shows_notes_bands_and_support_rings() -> None:
    X, y = load_data(DATA_2D)
    l2 = ib.max_margin(X, y)
    ax = ib.plots.decision_boundaries(X, y, {"GD": l2.w}, references={"l2": l2.w}, notes={"GD": "1-cos = 0"})
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "GD: 1-cos = 0" in texts
    assert len(ax.patches) >= 1  # the shaded margin band
    rings = [c for c in ax.collections if c.get_sizes().size and c.get_sizes()[0] > 42]
    margins = y * (X @ l2.w)
    assert rings and rings[0].get_offsets().shape[0] == int(np.sum(margins <= margins.min() * (1 + 1e-6)))
    bare = ib.plots.decision_boundaries(X, y, {"GD": l2.w}, references={"l2": l2.w}, margins=False)
    assert len(bare.patches) == 0
