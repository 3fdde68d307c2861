"""Which direction should an optimizer converge to? The rules of SPEC.md, as code.

:func:`predicted_direction` maps (data, optimizer, batch size, order) to one of the reference
directions, or says honestly that no rule applies:

==============================================  ===============  ==================================
optimizer / regime                              prediction       basis
==============================================  ===============  ==================================
GD / SGD, any batch size and order              ``l2``           established (SPEC claim 5)
Adam / RMSProp, eps = 0, full batch             ``linf``         established (SPEC claim 1)
SignGD, full batch                              ``linf``         established (sign descent)
Signum, beta >= ``signum_beta_min``, any b      ``linf``         established (SPEC claim 4)
Signum, full batch, any beta                    ``linf``         established (sign descent)
AdamProxy                                       ``fixed_point``  its defining limit (SPEC claim 3)
Adam / RMSProp, eps = 0, b = 1, cyclic          ``fixed_point``  beta2 -> 1 limit (SPEC claims 2-3)
Adam with eps > 0                               ``none``         GD-like late in training, no rule
Adam, 1 < b < n, or b = 1 not cyclic            ``none``         between regimes (SPEC claims 6-7)
SignGD / small-beta Signum with b < n           ``none``         per-sample SignGD is not l-inf
AdaGrad, Lion, anything else                    ``none``         no rule implemented
==============================================  ===============  ==================================

"Full batch" means ``batch_size == n`` with order "cyclic" or "reshuffle" (with "replacement"
the batch is a random multiset, i.e. stochastic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike

from .._validation import ORDERS, check_choice, check_data, check_int, check_real, resolve_dtype
from ..separability import check_separable
from .fixedpoint import FixedPointResult, fixed_point
from .maxmargin import MaxMarginResult, max_margin

__all__ = ["Prediction", "predicted_direction", "KINDS", "ORDERS"]

KINDS = ("l2", "linf", "fixed_point", "none")
#: How much the rule can be trusted: "established" (a proven / SPEC-verified limit), "asymptotic"
#: (exact only in a limit such as beta2 -> 1), "none" (no prediction).
CONFIDENCES = ("established", "asymptotic", "none")

Reference = Union[MaxMarginResult, FixedPointResult]


@dataclass(frozen=True)
class Prediction:
    """The predicted limit direction of ``w_t / ||w_t||``.

    Attributes:
        kind: "l2", "linf", "fixed_point" or "none".
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


def predicted_direction(
    X: ArrayLike,
    y: ArrayLike,
    optimizer: Any,
    batch_size: int | None = None,
    *,
    order: str = "cyclic",
    signum_beta_min: float = 0.9,
    compute: bool = True,
) -> Prediction:
    """Predict the direction an optimizer converges to on (X, y), following SPEC.md.

    Args:
        X: (n, d) data; y: (n,) labels in {-1, +1}; must be separable.
        optimizer: an optimizer configuration (``ib.GD()``, ``ib.Adam(...)``, ...). Dispatch is on the
            class name, reading ``beta1``, ``beta2``, ``eps``, ``beta`` as defined in ``optimizers``.
        batch_size: b in [1, n]; None means full batch (b = n).
        order: "cyclic", "reshuffle" or "replacement".
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
    if not isinstance(compute, bool):
        raise TypeError(f"compute: must be True or False, got {compute!r}")
    check_separable(X_arr, y_arr)

    name = type(optimizer).__name__
    if not hasattr(optimizer, "core_params") and name not in _RULES:
        raise TypeError(f"optimizer: expected an optimizer configuration such as ib.Adam(), got {optimizer!r}")
    full_batch = b == n and order != "replacement"
    rule = _RULES.get(name, _no_rule)
    kind, reason, confidence, notes = rule(optimizer, n, b, order, full_batch, beta_min)

    reference: Reference | None = None
    w = None
    if compute and kind != "none":
        if kind == "fixed_point":
            reference = fixed_point(X_arr, y_arr)
            w = reference.w
            if not reference.ok:
                notes = (*notes, f"fixed point: {reference.message}")
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
# rules: (optimizer, n, b, order, full_batch, signum_beta_min) -> (kind, reason, confidence, notes)
# --------------------------------------------------------------------------------------------

_Rule = tuple[str, str, str, tuple[str, ...]]


def _gd(opt: Any, n: int, b: int, order: str, full_batch: bool, beta_min: float) -> _Rule:
    regime = "full-batch GD" if full_batch else f"SGD (batch {b}, {order})"
    return "l2", f"{regime} converges in direction to the l2 max-margin classifier for every batch size", "established", ()


def _sign_gd(opt: Any, n: int, b: int, order: str, full_batch: bool, beta_min: float) -> _Rule:
    if full_batch:
        return "linf", "full-batch sign gradient descent converges to the l-inf max-margin direction", "established", ()
    return (
        "none",
        f"SignGD on batches of {b} < n: per-sample sign descent does NOT go to the l-inf direction "
        "(SPEC claim 4) and no other limit is known",
        "none",
        (),
    )


def _signum(opt: Any, n: int, b: int, order: str, full_batch: bool, beta_min: float) -> _Rule:
    beta = float(opt.beta)
    if beta >= beta_min:
        return (
            "linf",
            f"Signum with momentum beta = {beta} >= {beta_min} keeps the l-inf bias at every batch size "
            "(SPEC claim 4)",
            "established",
            (),
        )
    if full_batch:
        return "linf", f"full-batch Signum (beta = {beta}) is sign descent on the full gradient", "established", ()
    return (
        "none",
        f"Signum with small momentum beta = {beta} < {beta_min} on batches of {b} < n behaves like per-sample "
        "SignGD, which does not go to l-inf; no limit is known",
        "none",
        (),
    )


def _adam(opt: Any, n: int, b: int, order: str, full_batch: bool, beta_min: float) -> _Rule:
    eps, beta2 = float(opt.eps), float(opt.beta2)
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
    notes: list[str] = []
    if getattr(opt, "bias_correction", False):
        notes.append("bias correction rescales every step by a factor -> 1 and does not change the limit")
    if full_batch:
        return (
            "linf",
            f"full-batch {label} (eps = 0) behaves like sign descent and converges to the l-inf max-margin "
            "direction (SPEC claim 1)",
            "established",
            tuple(notes),
        )
    if b == 1 and order == "cyclic":
        notes.append(
            f"exact only in the beta2 -> 1 limit; here beta2 = {beta2}, beta2**n = {beta2**n:.3g} "
            "(the further from 1, the further the limit can be from w*; SPEC claims 6, 8)"
        )
        return (
            "fixed_point",
            f"per-sample cyclic {label} preconditions with the per-sample squared gradients: its limit is the "
            "data-adaptive Mahalanobis max-margin direction w* of the fixed point (SPEC claims 2-3)",
            "asymptotic",
            tuple(notes),
        )
    regime = f"batch size {b} with order {order!r}" if b > 1 else f"per-sample order {order!r}"
    return (
        "none",
        f"{label} with {regime}: between the per-sample fixed point (b = 1, cyclic) and l-inf (full batch); "
        "the limit moves with b and beta2 and has no closed form (SPEC claims 6-7)",
        "none",
        tuple(notes),
    )


def _adam_proxy(opt: Any, n: int, b: int, order: str, full_batch: bool, beta_min: float) -> _Rule:
    return (
        "fixed_point",
        "AdamProxy (the beta2 -> 1 limit of per-sample Adam) converges to the fixed-point direction w* "
        "(SPEC claim 3)",
        "established",
        ("batch size and order are ignored: every AdamProxy step uses all samples",) if b != n else (),
    )


def _no_rule(opt: Any, n: int, b: int, order: str, full_batch: bool, beta_min: float) -> _Rule:
    return "none", f"no implicit-bias rule is implemented for {type(opt).__name__}", "none", ()


_RULES = {
    "GD": _gd,
    "SGD": _gd,
    "SignGD": _sign_gd,
    "Signum": _signum,
    "Adam": _adam,
    "RMSProp": _adam,
    "AdamProxy": _adam_proxy,
}


def _describe(optimizer: Any) -> str:
    params = {k: v for k, v in getattr(optimizer, "core_params", dict)().items() if k != "kind"}
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{type(optimizer).__name__}({inner})"
