"""The claims are data: CLAIMS follows claim_definitions, and every run is a valid configuration
with a known prediction kind."""

from __future__ import annotations

import pytest

from implicit_bias.experiments import claims
from implicit_bias.experiments.config import normalize_config


@pytest.mark.parametrize("quick", [True, False])
def test_every_claim_is_well_formed(quick):
    defs = claims.claim_definitions(quick)
    assert tuple(sorted(defs)) == claims.CLAIMS == tuple(range(1, 10))
    for number, claim in defs.items():
        assert claim.number == number and claim.runs and claim.title and claim.setting
        labels = [r.label for r in claim.runs]
        assert len(set(labels)) == len(labels), number
        for run in claim.runs:
            normalize_config(run.config)  # raises on a bad key
            assert run.expect is None or run.expect in claims.PREDICTION_KINDS
            assert (run.expect is None) == claim.study


def test_the_headline_runs_share_one_builder():
    real, two_d = claims.real_data_runs(quick=True), claims.illustration_runs(quick=True)
    assert [r.label for r in real] == [r.label for r in two_d] == ["GD", "Det-Adam", "Inc-Adam", "Signum(0.99), b=1"]
    assert all(r.config["data"] == claims.DATA_REAL for r in real)
    assert all(r.config["data"] == claims.DATA_2D for r in two_d)
    # real data: the full-batch runs are 10x shorter; the 2-D illustration runs all alike
    assert [r.config["steps"] for r in real] == [10**5, 10**5, 10**6, 10**6]
    assert {r.config["steps"] for r in two_d} == {10**6}


def test_criteria_are_re_exported_and_refuse_unknown_kinds():
    assert claims.criterion_text("l2", 0.999) == "cos(w, w_l2) >= 0.999"
    assert (
        claims.criterion_text("fixed_point", 0.999, ["l2"])
        == "cos(w, w*) >= 0.999 and nearer to w* than to l2 (1 - cos)"
    )
    with pytest.raises(ValueError, match="predictions: unknown prediction 'l3'"):
        claims.criterion_text("l3", 0.9)
