"""Optimizer configurations: keyword-only hyper-parameters; RMSProp without beta1 / bias_correction."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import pickle

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import optimizers as O

ALL = O.ALL_OPTIMIZERS


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_positional_arguments_are_refused(cls):
    with pytest.raises(TypeError, match="keyword-only|no hyper-parameters"):
        cls(1e-3)
    with pytest.raises(TypeError):
        cls(0.9, 0.999)


def test_adam_lr_by_habit_is_a_type_error():
    with pytest.raises(TypeError, match=r"keyword-only.*lr="):
        ib.Adam(1e-3)
    assert ib.Adam(beta1=1e-3).beta1 == 1e-3  # by name it is fine


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_signatures_are_keyword_only(cls):
    params = inspect.signature(cls).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


def test_defaults_and_validation_unchanged():
    assert (ib.Adam().beta1, ib.Adam().beta2, ib.Adam().eps, ib.Adam().bias_correction) == (0.9, 0.999, 0.0, False)
    assert (ib.Lion().beta1, ib.Lion().beta2) == (0.9, 0.99)
    assert ib.Signum().beta == 0.9 and ib.AdaGrad().eps == 0.0
    with pytest.raises(ValueError, match="beta1"):
        ib.Adam(beta1=1.0)
    with pytest.raises(ValueError, match="beta2"):
        ib.RMSProp(beta2=-0.1)
    with pytest.raises(ValueError, match="eps"):
        ib.RMSProp(eps=-1.0)
    with pytest.raises(TypeError, match="bias_correction"):
        ib.Adam(bias_correction=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ib.Adam().beta1 = 0.5  # type: ignore[misc]


def test_rmsprop_signature_has_only_its_hyper_parameters():
    assert list(inspect.signature(ib.RMSProp).parameters) == ["beta2", "eps"]
    opt = ib.RMSProp(beta2=0.9, eps=1e-8)
    assert repr(opt) == "RMSProp(beta2=0.9, eps=1e-08)"
    assert isinstance(opt, ib.Adam)
    assert opt.beta1 == 0.0 and opt.bias_correction is False
    assert opt.core_params() == {"kind": "adam", "beta1": 0.0, "beta2": 0.9, "eps": 1e-8, "bias_correction": False}


@pytest.mark.parametrize(
    "kwargs", [{"beta1": 0.0}, {"beta1": 0.5}, {"bias_correction": False}, {"bias_correction": True}]
)
def test_rmsprop_refuses_the_fixed_fields(kwargs):
    (key,) = kwargs
    with pytest.raises(TypeError, match=f"{key}: RMSProp fixes"):
        ib.RMSProp(**kwargs)


def test_rmsprop_runs_as_adam_with_beta1_zero():
    X, y = ib.datasets.gaussian(n=6, d=4, seed=0)
    kw = dict(steps=500, batch_size=1, lr=0.05, checkpoints=3)
    a = ib.train(X, y, ib.RMSProp(beta2=0.95), **kw)
    b = ib.train(X, y, ib.Adam(beta1=0.0, beta2=0.95, bias_correction=False), **kw)
    assert np.array_equal(a.w, b.w)


@pytest.mark.parametrize(
    "opt",
    [
        ib.GD(),
        ib.SignGD(),
        ib.Adam(beta1=0.5, eps=1e-8, bias_correction=True),
        ib.RMSProp(beta2=0.9),
        ib.AdamProxy(),
        ib.Signum(beta=0.5),
        ib.AdaGrad(eps=1e-3),
        ib.Lion(beta1=0.8, beta2=0.9),
        O.AdamEpochMap(beta1=0.5, beta2=0.9),
    ],
    ids=lambda o: type(o).__name__,
)
def test_describe_round_trip_copy_pickle_replace(opt):
    desc = O.describe(opt)
    assert json.loads(json.dumps(desc)) == desc
    assert O.from_description(desc) == opt
    assert copy.deepcopy(opt) == opt and pickle.loads(pickle.dumps(opt)) == opt
    assert hash(opt) == hash(copy.copy(opt))
    names = [f.name for f in dataclasses.fields(opt) if f.init]
    if names:
        assert dataclasses.replace(opt, **{names[-1]: getattr(opt, names[-1])}) == opt


def test_rmsprop_description_and_legacy_records():
    assert O.describe(ib.RMSProp()) == {"name": "RMSProp", "beta2": 0.99, "eps": 0.0}
    legacy = {"name": "RMSProp", "beta1": 0.0, "beta2": 0.9, "eps": 0.0, "bias_correction": False}
    assert O.from_description(legacy) == ib.RMSProp(beta2=0.9)
    with pytest.raises(ValueError, match="beta1"):
        O.from_description({**legacy, "beta1": 0.5})
    with pytest.raises(ValueError, match="bias_correction"):
        O.from_description({**legacy, "bias_correction": True})


def test_saved_run_with_rmsprop_loads(tmp_path):
    X, y = ib.datasets.gaussian(n=5, d=3, seed=1)
    run = ib.Run(X, y, ib.RMSProp(beta2=0.9), batch_size=1)
    run.advance(50)
    run.save(tmp_path / "run.npz")
    back = ib.Run.load(tmp_path / "run.npz")
    assert back.optimizer == ib.RMSProp(beta2=0.9)
    back.advance(10)
    run.advance(10)
    assert np.array_equal(back.w, run.w)
