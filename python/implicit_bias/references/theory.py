"""Which direction should an optimizer converge to? The rules of SPEC.md, as code.

:func:`predicted_direction` maps (data, optimizer, batch size, order, schedule) to one of the
reference directions, or says honestly that no rule applies:

==================================================  ===============  =================================
optimizer / regime                                  prediction       basis
==================================================  ===============  =================================
GD / SGD, any batch size and order                  ``l2``           established (SPEC claim 5)
Adam / RMSProp, eps = 0, full batch                 ``linf``         established (SPEC claim 1)
SignGD, full batch                                  ``linf``         established (sign descent)
Signum, beta >= ``signum_beta_min``, any b          ``linf``         established (SPEC claim 4)
Signum, full batch, any beta                        ``linf``         established (sign descent)
AdamProxy                                           ``fixed_point``  its defining limit (SPEC claim 3)
Adam / RMSProp, eps = 0, b = 1, any order           ``fixed_point``  beta2 -> 1 limit (SPEC claims 2-3)
Adam / RMSProp, eps = 0, 1 < b < n, any order;      ``fixed_point``  beta2 -> 1 limit of the *batch*
  b = n with replacement                                             fixed point (ours, SPEC "Beyond")
same, cyclic, ``finite_beta2=True``                 ``epoch_map``    limit of Prop. 2.5's epoch map
                                                                     (ours, SPEC "Beyond", claim 9)
Adam with beta1 > beta2                             ``none``         the runs match neither predictor
Adam with eps > 0                                   ``none``         GD-like late in training, no rule
adaptive / sign methods with a constant lr          ``none``         the theory needs eta_t -> 0
SignGD / small-beta Signum with b < n               ``none``         per-sample SignGD is not l-inf
AdaGrad, Lion, AdamEpochMap, anything else          ``none``         no rule implemented
==================================================  ===============  =================================

"Full batch" means ``batch_size == n`` with order "cyclic" or "reshuffle" (with "replacement"
the batch is a random multiset, i.e. stochastic). ``lr=None`` assumes a decaying schedule (noted
in the prediction); pass the run's schedule to have the constant-lr regime refused. Rules are
looked up along the optimizer's class hierarchy, so a subclass of Adam follows Adam's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike

from .. import optimizers as _opt
from .._format import html_table
from .._validation import ORDERS, check_choice, check_data, check_int, check_real, resolve_dtype
from ..engine import epoch_map_limit
from ..schedules import as_schedule
from ..separability import check_separable
from .fixedpoint import FixedPointResult, fixed_point
from .maxmargin import MaxMarginResult, max_margin

__all__ = ["Prediction", "predicted_direction", "KINDS", "CONFIDENCES"]

KINDS = ("l2", "linf", "fixed_point", "epoch_map", "none")
#: How much the rule can be trusted: "established" (a proven / SPEC-verified limit), "asymptotic"
#: (exact only in a limit such as beta2 -> 1), "none" (no prediction).
CONFIDENCES = ("established", "asymptotic", "none")

Reference = Union[MaxMarginResult, FixedPointResult, Any]


@dataclass(frozen=True)
class Prediction:
    """The predicted limit direction of ``w_t / ||w_t||``.

    Attributes:
        kind: "l2", "linf", "fixed_point", "epoch_map" or "none".
        w: (d,) unit-l2 predicted direction, or None (kind "none", or ``compute=False``).
        reference: the solved reference (``MaxMarginResult`` / ``FixedPointResult``) or None.
        reason: why this rule applies, in words.
        confidence: "established", "asymptotic" or "none" (see ``CONFIDENCES``).
        notes: caveats, e.g. the beta2 -> 1 limit or a non-unique l-inf maximiser.
        optimizer: the optimizer's class name and hyper-parameters.
        batch_size, order: the regime the prediction is for.
    """

    kind: str
    w: np.ndarray | None
    reference: Reference | None
    reason: str
    confidence: str
    notes: tuple[str, ...]
    optimizer: str
    batch_size: int
    order: str

    def _repr_html_(self) -> str:
        """Jupyter's view: kind, confidence, regime, reason, notes and the direction."""
        rows = [("kind", self.kind), ("confidence", self.confidence), ("optimizer", self.optimizer)]
        rows += [("batch_size", self.batch_size), ("order", self.order), ("reason", self.reason)]
        rows += [("note", n) for n in self.notes]
        rows += (
            [("w", np.array2string(np.asarray(self.w, dtype=float), precision=4, threshold=8))]
            if self.w is not None
            else []
        )
        return html_table(f"Prediction: {self.kind} ({self.confidence})", rows)

    def __repr__(self) -> str:
        return f"Prediction(kind={self.kind!r}, confidence={self.confidence!r}, {self.optimizer}, b={self.batch_size}, {self.order}: {self.reason})"


def predicted_direction(
    X: ArrayLike,
    y: ArrayLike,
    optimizer: Any,
    batch_size: int | None = None,
    *,
    order: str = "cyclic",
    lr: Any = None,
    finite_beta2: bool = False,
    signum_beta_min: float = 0.9,
    compute: bool = True,
) -> Prediction:
    """Predict the direction an optimizer converges to on (X, y), following SPEC.md.

    Args:
        X: (n, d) data; y: (n,) labels in {-1, +1}; must be separable.
        optimizer: an optimizer configuration (``ib.GD()``, ``ib.Adam(...)``, ...); the rule is found
            along its class hierarchy.
        batch_size: b in [1, n]; None means full batch (b = n).
        order: "cyclic", "reshuffle" or "replacement".
        lr: the run's learning rate (a number = constant, or an ``ib.schedules`` schedule); None
            assumes a decaying schedule. Adaptive and sign methods get "none" for a constant lr.
        finite_beta2: for Adam / RMSProp in cyclic order, predict with the epoch map at the actual
            beta1, beta2 (kind "epoch_map") instead of the beta2 -> 1 batch fixed point.
        signum_beta_min: Signum with ``beta >= signum_beta_min`` is predicted l-inf at every batch size
            (SPEC claim 4 says "momentum close to 1"; 0.9 is where the claim is tested).
        compute: solve the reference problem (else only classify; ``w`` and ``reference`` are None).

    Raises:
        NotSeparableError: (X, y) is not separable. TypeError: not an optimizer configuration.
    """
    X_arr, y_arr = check_data(X, y, resolve_dtype(None, X))
    n = X_arr.shape[0]
    b = n if batch_size is None else check_int("batch_size", batch_size, 1, n)
    check_choice("order", order, ORDERS)
    beta_min = check_real("signum_beta_min", signum_beta_min, 0.0, 1.0, high_open=True)
    for name, flag in (("compute", compute), ("finite_beta2", finite_beta2)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name}: must be True or False, got {flag!r}")
    if not isinstance(optimizer, _opt.Optimizer):
        raise TypeError(f"optimizer: expected an optimizer configuration such as ib.Adam(), got {optimizer!r}")
    schedule = None if lr is None else as_schedule(lr)
    check_separable(X_arr, y_arr)

    regime = _Regime(n, b, order, b == n and order != "replacement", beta_min, schedule, finite_beta2)
    rule = next((_RULES[cls] for cls in type(optimizer).__mro__ if cls in _RULES), _no_rule)
    kind, reason, confidence, notes = rule(optimizer, regime)
    if kind != "none" and schedule is None:
        notes = (*notes, "assumes a decaying learning rate (pass lr= to check the regime)")

    reference: Reference | None = None
    w = None
    if compute and kind != "none":
        if kind == "fixed_point":
            fb = 1 if optimizer.traits["full_batch"] else b  # AdamProxy: per-sample squares
            reference = fixed_point(X_arr, y_arr, batch_size=fb, order=order)
            w = reference.w
            if not reference.ok:
                notes = (*notes, f"fixed point: {reference.message}")
            if reference.unique is False:
                notes = (
                    *notes,
                    "several fixed points exist (see reference.alternatives); w is the one reached from c = 1/n",
                )
        elif kind == "epoch_map":
            reference = epoch_map_limit(X_arr, y_arr, optimizer, batch_size=b)
            w = reference.w
            if not reference.settled:
                notes = (*notes, f"epoch map: {reference.message}")
        else:
            reference = max_margin(X_arr, y_arr, norm=kind)
            w = reference.w_l2unit
            if reference.unique is False:
                notes = (
                    *notes,
                    "the l-inf maximiser is not unique: judge convergence by margin_ratio, not by cosine",
                )
    return Prediction(kind, w, reference, reason, confidence, tuple(notes), _describe(optimizer), b, order)


# --------------------------------------------------------------------------------------------
# rules: (optimizer, regime) -> (kind, reason, confidence, notes)
# --------------------------------------------------------------------------------------------

_Rule = tuple[str, str, str, tuple[str, ...]]


@dataclass(frozen=True)
class _Regime:
    n: int
    b: int
    order: str
    full_batch: bool
    signum_beta_min: float
    schedule: Any
    finite_beta2: bool

    @property
    def constant_lr(self) -> bool:
        return self.schedule is not None and not self.schedule.decays


def _constant_lr(label: str) -> _Rule:
    return (
        "none",
        f"{label} with a constant learning rate: the implicit-bias limits hold for decaying schedules; with a "
        "constant rate the normalized update does not shrink (Adam's margin grows like t/2 ln(1/beta2) and its v "
        "is dominated by old, larger gradients), so the direction need not reach any of the references",
        "none",
        ("use a decaying schedule such as ib.schedules.polynomial(eta0, 0.5)",),
    )


def _gd(opt: Any, r: _Regime) -> _Rule:
    regime = "full-batch GD" if r.full_batch else f"SGD (batch {r.b}, {r.order})"
    notes = ("with a constant rate this needs eta below the stability limit 2/L",) if r.constant_lr else ()
    return (
        "l2",
        f"{regime} converges in direction to the l2 max-margin classifier for every batch size",
        "established",
        notes,
    )


def _sign_gd(opt: Any, r: _Regime) -> _Rule:
    if r.constant_lr:
        return _constant_lr("SignGD")
    if r.full_batch:
        return "linf", "full-batch sign gradient descent converges to the l-inf max-margin direction", "established", ()
    return (
        "none",
        f"SignGD on batches of {r.b} < n: per-sample sign descent does NOT go to the l-inf direction "
        "(SPEC claim 4) and no other limit is known",
        "none",
        (),
    )


def _signum(opt: Any, r: _Regime) -> _Rule:
    beta = float(opt.beta)
    if r.constant_lr:
        return _constant_lr("Signum")
    if beta >= r.signum_beta_min:
        return (
            "linf",
            f"Signum with momentum beta = {beta} >= {r.signum_beta_min} keeps the l-inf bias at every batch size "
            "(SPEC claim 4)",
            "established",
            (),
        )
    if r.full_batch:
        return "linf", f"full-batch Signum (beta = {beta}) is sign descent on the full gradient", "established", ()
    return (
        "none",
        f"Signum with small momentum beta = {beta} < {r.signum_beta_min} on batches of {r.b} < n behaves like "
        "per-sample SignGD, which does not go to l-inf; no limit is known",
        "none",
        (),
    )


def _adam(opt: Any, r: _Regime) -> _Rule:
    eps, beta1, beta2 = float(opt.eps), float(opt.beta1), float(opt.beta2)
    label = type(opt).__name__
    if eps > 0:
        return (
            "none",
            f"{label} with eps = {eps:g} > 0: once the gradients fall below eps the update becomes GD with step "
            "eta/eps, so late in training it drifts toward GD's l2 behaviour (margins grow only "
            "logarithmically), but no limit direction is guaranteed",
            "none",
            ("set eps = 0 for the regimes the theory covers",),
        )
    if r.constant_lr:
        return _constant_lr(label)
    notes: list[str] = []
    if getattr(opt, "bias_correction", False):
        notes.append("bias correction rescales every step by a factor -> 1 and does not change the limit")
    if r.full_batch:
        return (
            "linf",
            f"full-batch {label} (eps = 0) behaves like sign descent and converges to the l-inf max-margin "
            "direction (SPEC claim 1)",
            "established",
            tuple(notes),
        )
    if beta1 > beta2:
        return (
            "none",
            f"{label} with beta1 = {beta1} > beta2 = {beta2}: long runs match neither the beta2 -> 1 fixed point "
            "nor the epoch map (SPEC, 'Beyond the original study'), so no prediction is made",
            "none",
            tuple(notes),
        )
    if r.finite_beta2 and r.order == "cyclic":
        return (
            "epoch_map",
            f"cyclic {label} at finite beta2 = {beta2}: the limit of Prop. 2.5's epoch map with beta1 = {beta1}, "
            f"beta2 = {beta2}, {-(-r.n // r.b)} batches per epoch (our extension, SPEC 'Beyond the original study')",
            "asymptotic",
            (*notes, "the epoch map approximates an epoch with all batch gradients at its start (eta_t -> 0)"),
        )
    if r.finite_beta2:
        notes.append(
            f"finite_beta2: the epoch map is defined for cyclic order only; order {r.order!r} uses the beta2 -> 1 prediction"
        )
    notes.append(
        f"exact only in the beta2 -> 1 limit; here beta2 = {beta2}, beta2**(n/b) = {beta2 ** (r.n / r.b):.3g} "
        "(the further from 1, the further the limit can be; finite_beta2=True predicts it for cyclic order)"
    )
    if r.b == 1:
        basis = "per-sample" if r.order == "cyclic" else f"per-sample {r.order}"
        return (
            "fixed_point",
            f"{basis} {label} preconditions with the per-sample squared gradients: its limit is the "
            "data-adaptive Mahalanobis max-margin direction w* of the fixed point (SPEC claims 2-3; every order "
            "gives the same fixed point at b = 1)",
            "asymptotic",
            tuple(notes),
        )
    what = "the fixed partition into batches" if r.order == "cyclic" else f"random batches ({r.order})"
    return (
        "fixed_point",
        f"{label} with batch size {r.b} of {r.n}, {what}: the beta2 -> 1 batch fixed point (our extension of the "
        "original study, SPEC 'Beyond the original study')",
        "asymptotic",
        tuple(notes),
    )


def _adam_proxy(opt: Any, r: _Regime) -> _Rule:
    if r.constant_lr:
        return _constant_lr("AdamProxy")
    return (
        "fixed_point",
        "AdamProxy (the beta2 -> 1 limit of per-sample Adam) converges to the fixed-point direction w* (SPEC claim 3)",
        "established",
        ("batch size and order are ignored: every AdamProxy step uses all samples",) if r.b != r.n else (),
    )


def _no_rule(opt: Any, r: _Regime) -> _Rule:
    return "none", f"no implicit-bias rule is implemented for {type(opt).__name__}", "none", ()


_RULES = {_opt.GD: _gd, _opt.SignGD: _sign_gd, _opt.Signum: _signum, _opt.Adam: _adam, _opt.AdamProxy: _adam_proxy}


def _describe(optimizer: Any) -> str:
    params = {k: v for k, v in _opt.describe(optimizer).items() if k != "name"}
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{type(optimizer).__name__}({inner})"
