"""predicted_direction: the SPEC rules, the computed references, and input checks."""

from __future__ import annotations

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import datasets
from implicit_bias.errors import NotSeparableError

X, Y = datasets.gaussian(n=10, d=50, seed=0)
N = len(Y)


@pytest.mark.parametrize(
    "optimizer, batch_size, order, kind",
    [
        (ib.GD(), None, "cyclic", "l2"),
        (ib.GD(), 1, "reshuffle", "l2"),
        (ib.GD(), 3, "replacement", "l2"),
        (ib.Adam(), None, "cyclic", "linf"),
        (ib.Adam(bias_correction=True), N, "reshuffle", "linf"),
        (ib.Adam(), N, "replacement", "fixed_point"),  # b = n with replacement: the rho fixed point, not l-inf
        (ib.Adam(beta2=0.99), 1, "cyclic", "fixed_point"),
        (ib.Adam(), 1, "reshuffle", "fixed_point"),
        (ib.Adam(), 1, "replacement", "fixed_point"),
        (ib.Adam(), 5, "cyclic", "fixed_point"),  # the batch fixed point (our extension)
        (ib.Adam(), 3, "reshuffle", "fixed_point"),
        (ib.Adam(beta1=0.9, beta2=0.5), 1, "cyclic", "none"),  # beta1 > beta2: no prediction
        (ib.Adam(eps=1e-8), 1, "cyclic", "none"),
        (ib.Adam(eps=1e-8), None, "cyclic", "none"),
        (ib.RMSProp(), 1, "cyclic", "fixed_point"),
        (ib.RMSProp(), None, "cyclic", "linf"),
        (ib.AdamProxy(), 1, "cyclic", "fixed_point"),
        (ib.SignGD(), None, "cyclic", "linf"),
        (ib.SignGD(), 1, "cyclic", "none"),
        (ib.Signum(beta=0.9), 1, "cyclic", "linf"),
        (ib.Signum(beta=0.99), 2, "reshuffle", "linf"),
        (ib.Signum(beta=0.5), 1, "cyclic", "none"),
        (ib.Signum(beta=0.5), None, "cyclic", "linf"),
        (ib.AdaGrad(), 1, "cyclic", "none"),
        (ib.Lion(), None, "cyclic", "none"),
    ],
)
def test_rules(optimizer, batch_size, order: str, kind: str) -> None:
    prediction = ib.predicted_direction(X, Y, optimizer, batch_size, order=order, compute=False)
    assert prediction.kind == kind
    assert prediction.w is None and prediction.reference is None
    assert prediction.batch_size == (N if batch_size is None else batch_size)
    assert (prediction.confidence == "none") == (kind == "none")
    assert prediction.reason


def test_computed_references() -> None:
    l2 = ib.predicted_direction(X, Y, ib.GD(), batch_size=1)
    assert l2.confidence == "established"
    assert np.allclose(l2.w, ib.max_margin(X, Y, "l2").w_l2unit, atol=1e-15)
    linf = ib.predicted_direction(X, Y, ib.Adam(), batch_size=N)
    assert linf.reference.norm_name == "linf"
    assert np.allclose(linf.w, ib.max_margin(X, Y, "linf").w_l2unit, atol=1e-15)
    inc = ib.predicted_direction(X, Y, ib.Adam(beta1=0.9, beta2=0.999), batch_size=1)
    assert inc.confidence == "asymptotic"
    assert any("beta2 -> 1" in note for note in inc.notes)
    assert ib.cosine(inc.w, ib.fixed_point(X, Y)) > 1 - 1e-14
    assert "Adam(" in inc.optimizer and "beta2=0.999" in inc.optimizer


def test_eps_prediction_is_honest_about_gd_drift() -> None:
    prediction = ib.predicted_direction(X, Y, ib.Adam(eps=1e-8, bias_correction=True), batch_size=1)
    assert prediction.kind == "none" and prediction.w is None
    assert "eps" in prediction.reason and "GD" in prediction.reason


def test_signum_threshold_is_adjustable() -> None:
    opt = ib.Signum(beta=0.5)
    assert ib.predicted_direction(X, Y, opt, 1, compute=False).kind == "none"
    assert ib.predicted_direction(X, Y, opt, 1, signum_beta_min=0.5, compute=False).kind == "linf"


def test_non_unique_linf_reference_adds_a_note() -> None:
    Xd, yd = datasets.shifted_diagonal(5, delta=0.0)
    with pytest.warns(ib.errors.DegenerateProblemWarning):
        prediction = ib.predicted_direction(Xd, yd, ib.SignGD())
    assert prediction.kind == "linf"
    assert any("not unique" in note for note in prediction.notes)


def test_degenerate_fixed_point_adds_a_note() -> None:
    Xd, yd = datasets.shifted_diagonal(5, delta=0.0)
    with pytest.warns(ib.errors.DegenerateProblemWarning):
        prediction = ib.predicted_direction(Xd, yd, ib.AdamProxy())
    assert prediction.kind == "fixed_point" and prediction.reference.degenerate
    assert any("DEGENERATE" in note for note in prediction.notes)


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        ({"batch_size": 0}, ValueError, "batch_size:"),
        ({"batch_size": N + 1}, ValueError, "batch_size:"),
        ({"batch_size": 1.0}, TypeError, "batch_size:"),
        ({"order": "random"}, ValueError, "order:"),
        ({"optimizer": "adam"}, TypeError, "optimizer:"),
        ({"signum_beta_min": 1.0}, ValueError, "signum_beta_min:"),
        ({"compute": "yes"}, TypeError, "compute:"),
        ({"y": np.r_[Y[:-1], 3.0]}, ValueError, "y:"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, exc: type, name: str) -> None:
    args = {"X": X, "y": Y, "optimizer": ib.GD(), "batch_size": 1, **kwargs}
    with pytest.raises(exc, match=f"^{name}"):
        ib.predicted_direction(**args)


def test_non_separable_data_raise() -> None:
    with pytest.raises(NotSeparableError):
        ib.predicted_direction(np.array([[1.0], [-1.0]]), np.array([1.0, 1.0]), ib.GD(), compute=False)


def test_constant_learning_rate_gives_no_prediction_for_adaptive_methods() -> None:
    for opt in (ib.Adam(), ib.AdamProxy(), ib.SignGD(), ib.Signum(beta=0.99)):
        pred = ib.predicted_direction(X, Y, opt, 1, lr=0.1, compute=False)
        assert pred.kind == "none" and "constant learning rate" in pred.reason
        decaying = ib.predicted_direction(X, Y, opt, N, lr=ib.schedules.polynomial(0.1, 0.5), compute=False)
        assert decaying.kind != "none"
    # GD's l2 bias holds with a constant (small) rate
    assert ib.predicted_direction(X, Y, ib.GD(), 1, lr=0.1, compute=False).kind == "l2"
    # no schedule given: the decaying regime is assumed, and said
    assert any("decaying" in note for note in ib.predicted_direction(X, Y, ib.Adam(), 1, compute=False).notes)


def test_beta1_above_beta2_says_why() -> None:
    pred = ib.predicted_direction(X, Y, ib.Adam(beta1=0.9, beta2=0.5), 2, compute=False)
    assert pred.kind == "none" and "beta1 = 0.9 > beta2 = 0.5" in pred.reason


def test_a_subclass_of_adam_follows_adams_rule() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class MyAdam(ib.Adam):
        pass

    assert ib.predicted_direction(X, Y, MyAdam(), 1, compute=False).kind == "fixed_point"


def test_finite_beta2_selects_the_epoch_map_for_cyclic_order_only() -> None:
    assert ib.predicted_direction(X, Y, ib.Adam(beta2=0.95), 1, finite_beta2=True, compute=False).kind == "epoch_map"
    shuffled = ib.predicted_direction(X, Y, ib.Adam(beta2=0.95), 1, order="reshuffle", finite_beta2=True, compute=False)
    assert shuffled.kind == "fixed_point" and any("cyclic order only" in note for note in shuffled.notes)


def test_batch_prediction_is_the_batch_fixed_point() -> None:
    pred = ib.predicted_direction(X, Y, ib.Adam(beta2=0.999), batch_size=5, order="replacement")
    assert pred.kind == "fixed_point" and pred.confidence == "asymptotic"
    direct = ib.fixed_point(X, Y, batch_size=5, order="replacement")
    assert ib.cosine(pred.w, direct.w) > 1 - 1e-14
    assert 1 - ib.cosine(pred.w, ib.fixed_point(X, Y).w) > 1e-4  # a different direction from b = 1
