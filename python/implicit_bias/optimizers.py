"""Optimizer configurations: small frozen dataclasses, validated on construction.

They hold hyper-parameters only; the update rules live in the C++ core (see SPEC.md and
``cpp/include/implicit_bias/optimizers.hpp``). Conventions: sign(0) = 0; a coordinate whose
second moment is 0 gets no update; Adam's ``eps`` is added outside the square root; bias
correction divides by ``1 - beta**(t + 1)`` at step t = 0, 1, 2, ... Hyper-parameters are Python
floats; a long-double run converts them with ``np.longdouble(value)``.

Hyper-parameters are keyword-only (``Adam(beta2=0.99)``; ``Adam(0.99)`` is a TypeError), so a
learning rate passed by habit as the first argument cannot silently become ``beta1``. The learning
rate is an argument of the run (``ib.train(..., lr=...)``), not of the optimizer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from functools import cache
from typing import ClassVar

from . import _core
from ._validation import ORDERS, check_real


@dataclass(frozen=True, kw_only=True)
class Optimizer:
    """Base class of every optimizer configuration."""

    #: Name of the update rule in the compiled core.
    kind: ClassVar[str] = ""
    #: Sampling orders the update rule is defined for (``ib.Run`` refuses the others).
    orders: ClassVar[tuple[str, ...]] = ORDERS

    def __new__(cls, *args: object, **kwargs: object) -> Optimizer:
        # The dataclass __init__ refuses these too; this says why, before it runs.
        if args:
            names = [f.name for f in fields(cls) if f.init]
            usage = ", ".join(f"{n}=..." for n in names)
            what = (
                f"hyper-parameters are keyword-only: {cls.__name__}({usage})" if names else "takes no hyper-parameters"
            )
            raise TypeError(
                f"{cls.__name__}: {what}; got {len(args)} positional argument(s). The learning rate is an "
                "argument of the run: ib.train(..., lr=...)"
            )
        for f in fields(cls):
            if not f.init and f.name in kwargs:
                raise TypeError(
                    f"{f.name}: {cls.__name__} fixes {f.name} = {f.default!r} (not an argument); use Adam for other values"
                )
        return super().__new__(cls)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field (a ValueError / TypeError naming it): run on construction, and again
        by the engine before it reads the fields (a frozen dataclass can still be changed with
        ``object.__setattr__``). The base class checks the fields a class fixes (RMSProp's beta1)."""
        for name, value in _fixed_fields(type(self)).items():
            given = getattr(self, name)
            if type(given) is not type(value) or given != value:
                raise ValueError(f"{name}: {type(self).__name__} fixes {name} = {value!r}, got {given!r}")

    def core_params(self) -> dict[str, float | bool | str]:
        """The fields the core reads: kind, beta1, beta2, eps, beta, bias_correction."""
        return {"kind": self.kind}

    @property
    def traits(self) -> dict[str, bool]:
        """The update rule's traits, read from its C++ struct (``_core.optimizer_traits``):
        ``full_batch`` (one step = one full-batch pass with per-sample squares: AdamProxy),
        ``epoch_map``, ``whole_pass`` (every step sees all n samples), ``stateless``,
        ``scale_invariant``."""
        return dict(core_traits(self.kind))

    @property
    def whole_pass(self) -> bool:
        """True when one step is one pass over all n samples (AdamProxy, AdamEpochMap)."""
        return core_traits(self.kind)["whole_pass"]


@cache
def core_traits(kind: str) -> dict[str, bool]:
    """``_core.optimizer_traits`` of the update rule named ``kind`` (e.g. ``"adam_proxy"``)."""
    return {k: bool(v) for k, v in _core.optimizer_traits(getattr(_core.OptimizerKind, kind)).items()}


@dataclass(frozen=True, kw_only=True)
class GD(Optimizer):
    """Gradient descent, or SGD when the batch is smaller than n: ``w -= eta_t g_B``."""

    kind: ClassVar[str] = "gd"


#: SGD is GD on batches; the batch size is an argument of the run, not of the optimizer.
SGD = GD


@dataclass(frozen=True, kw_only=True)
class SignGD(Optimizer):
    """Sign gradient descent: ``w -= eta_t sign(g_B)`` with sign(0) = 0."""

    kind: ClassVar[str] = "sign_gd"


@dataclass(frozen=True, kw_only=True)
class Adam(Optimizer):
    """Adam with optional bias correction and ``eps`` outside the square root.

    ``m = beta1 m + (1-beta1) g``; ``v = beta2 v + (1-beta2) g**2``;
    ``w -= eta_t mhat / (sqrt(vhat) + eps)``. The theory uses ``eps=0, bias_correction=False``;
    PyTorch / optax use ``bias_correction=True, eps=1e-8``. With ``eps > 0`` Adam turns into GD once
    the gradients fall below eps, which changes the limit direction.
    """

    kind: ClassVar[str] = "adam"
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 0.0
    bias_correction: bool = False

    def validate(self) -> None:
        super().validate()
        check_real("beta1", self.beta1, 0.0, 1.0, high_open=True)
        check_real("beta2", self.beta2, 0.0, 1.0, high_open=True)
        check_real("eps", self.eps, 0.0)
        if not isinstance(self.bias_correction, bool):
            raise TypeError(f"bias_correction: must be True or False, got {self.bias_correction!r}")

    def core_params(self) -> dict[str, float | bool | str]:
        return {
            "kind": self.kind,
            "beta1": float(self.beta1),
            "beta2": float(self.beta2),
            "eps": float(self.eps),
            "bias_correction": self.bias_correction,
        }


@dataclass(frozen=True, kw_only=True)
class RMSProp(Adam):
    """RMSProp = Adam with ``beta1 = 0`` and no bias correction (PyTorch's ``alpha`` is ``beta2``).

    Its hyper-parameters are ``beta2`` and ``eps``. ``beta1`` and ``bias_correction`` are fixed
    (0.0 and False, not arguments) and kept as attributes, so an RMSProp is an :class:`Adam` for
    the core and for ``isinstance``.
    """

    beta1: float = field(default=0.0, init=False, repr=False)
    beta2: float = 0.99
    eps: float = 0.0
    bias_correction: bool = field(default=False, init=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class AdamProxy(Optimizer):
    """The beta2 -> 1 limit of per-sample Adam, one full pass per step.

    ``w -= eta_t P(w)^-1 sum_i g_i(w)`` with ``P(w) = diag(sqrt(sum_i g_i(w)**2))``; a zero
    diagonal entry gives no update. Batch size and order are ignored (every step uses all samples).
    """

    kind: ClassVar[str] = "adam_proxy"


@dataclass(frozen=True, kw_only=True)
class Signum(Optimizer):
    """Sign of momentum: ``m = beta m + (1-beta) g``; ``w -= eta_t sign(m)``. ``beta=0`` is SignGD."""

    kind: ClassVar[str] = "signum"
    beta: float = 0.9

    def validate(self) -> None:
        super().validate()
        check_real("beta", self.beta, 0.0, 1.0, high_open=True)

    def core_params(self) -> dict[str, float | bool | str]:
        # beta = 0 is SignGD exactly (m_t = g_t); the core runs it as SignGD, whose scale follows
        # each batch's gradient: a momentum of 0 cannot carry the scale across a sudden collapse of
        # the gradient (a margin jump of ~1e3 in one step would underflow m and lose the update).
        if self.beta == 0.0:
            return {"kind": "sign_gd"}
        return {"kind": self.kind, "beta": float(self.beta)}


@dataclass(frozen=True, kw_only=True)
class AdaGrad(Optimizer):
    """AdaGrad: ``v += g**2``; ``w -= eta_t g / (sqrt(v) + eps)`` (v starts at 0)."""

    kind: ClassVar[str] = "adagrad"
    eps: float = 0.0

    def validate(self) -> None:
        super().validate()
        check_real("eps", self.eps, 0.0)

    def core_params(self) -> dict[str, float | bool | str]:
        return {"kind": self.kind, "eps": float(self.eps)}


@dataclass(frozen=True, kw_only=True)
class Lion(Optimizer):
    """Lion without weight decay: ``c = beta1 m + (1-beta1) g``; ``w -= eta_t sign(c)``;
    ``m = beta2 m + (1-beta2) g``."""

    kind: ClassVar[str] = "lion"
    beta1: float = 0.9
    beta2: float = 0.99

    def validate(self) -> None:
        super().validate()
        check_real("beta1", self.beta1, 0.0, 1.0, high_open=True)
        check_real("beta2", self.beta2, 0.0, 1.0, high_open=True)

    def core_params(self) -> dict[str, float | bool | str]:
        # beta1 = 0: the update is sign(g_t), SignGD exactly (m never reaches w); run as SignGD for
        # the reason given in Signum.core_params.
        if self.beta1 == 0.0:
            return {"kind": "sign_gd"}
        return {"kind": self.kind, "beta1": float(self.beta1), "beta2": float(self.beta2)}


@dataclass(frozen=True, kw_only=True)
class AdamEpochMap(Optimizer):
    """SPEC's epoch map (Prop. 2.5 of the study): one step = one epoch of cyclic Adam, linearized.

    With K = ceil(n/b) batches of the fixed cyclic partition (b = the run's ``batch_size``; the last
    batch is smaller when b does not divide n) and batch-mean gradients g_0 .. g_{K-1} all taken at
    the epoch's starting w::

        w <- w - eta_t sum_i [sum_j beta1**((i-j) % K) g_j] / sqrt(sum_j beta2**((i-j) % K) g_j**2)

    elementwise; a coordinate whose denominator is 0 gets no update from that i. The constant
    factors of Prop. 2.5 are dropped (with eps = 0 they only rescale the learning rate). Iterated,
    it predicts finite-beta2 cyclic Adam with eps = 0; beta1 > beta2 runs, but has no such
    meaning. Only ``order="cyclic"`` is defined. Work per step O(n d + K d).
    """

    kind: ClassVar[str] = "adam_epoch_map"
    orders: ClassVar[tuple[str, ...]] = ("cyclic",)
    beta1: float = 0.9
    beta2: float = 0.999

    def validate(self) -> None:
        super().validate()
        check_real("beta1", self.beta1, 0.0, 1.0, high_open=True)
        check_real("beta2", self.beta2, 0.0, 1.0, low_open=True, high_open=True)

    def core_params(self) -> dict[str, float | bool | str]:
        return {"kind": self.kind, "beta1": float(self.beta1), "beta2": float(self.beta2)}


ALL_OPTIMIZERS: tuple[type[Optimizer], ...] = (
    GD,
    SignGD,
    Adam,
    RMSProp,
    AdamProxy,
    Signum,
    AdaGrad,
    Lion,
    AdamEpochMap,
)


def _fixed_fields(cls: type[Optimizer]) -> dict[str, object]:
    """Fields a class fixes (not constructor arguments), with their values: RMSProp's beta1 = 0."""
    return {f.name: f.default for f in fields(cls) if not f.init}


def describe(optimizer: Optimizer) -> dict[str, object]:
    """A JSON-ready description: class name plus the hyper-parameters the constructor takes."""
    params = {f.name: getattr(optimizer, f.name) for f in fields(optimizer) if f.init}
    params = {k: v if isinstance(v, bool) else float(v) for k, v in params.items()}
    return {"name": type(optimizer).__name__, **params}


def from_description(desc: dict[str, object]) -> Optimizer:
    """Inverse of :func:`describe`.

    Descriptions written before RMSProp lost its fixed ``beta1`` / ``bias_correction`` arguments
    still load when those hold the fixed values (0.0, False); any other value is refused.
    """
    by_name = {cls.__name__: cls for cls in ALL_OPTIMIZERS}
    name = desc.get("name")
    if name not in by_name:
        raise ValueError(f"optimizer: unknown optimizer {name!r}; known: {', '.join(by_name)}")
    cls = by_name[str(name)]
    params = {k: v for k, v in desc.items() if k != "name"}
    for key, value in _fixed_fields(cls).items():
        if key in params:
            given = params.pop(key)
            if given != value:
                raise ValueError(f"{key}: {cls.__name__} has {key} = {value!r} (got {given!r}); use Adam for others")
    return cls(**params)  # type: ignore[arg-type]


def checked_copy(name: str, optimizer: object) -> Optimizer:
    """``optimizer`` validated again (:meth:`Optimizer.validate`) and copied, for an engine run:
    later changes to the caller's object (``object.__setattr__``) cannot reach the run. Raises
    TypeError naming ``name`` for anything but an optimizer configuration."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: must be an optimizer such as ib.Adam(), got {optimizer!r}")
    try:
        optimizer.validate()
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from exc
    return dataclasses.replace(optimizer)
