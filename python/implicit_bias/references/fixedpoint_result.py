"""The outcome of :func:`implicit_bias.references.fixedpoint.fixed_point`, and the b = n limit.

:class:`FixedPointResult` holds the predicted direction and its diagnostics;
:func:`sign_descent_limit` answers the batch structure whose preconditioner is ``|Z^T lambda|``
(sign descent, b = n without replacement): the l-inf max-margin direction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .maxmargin import max_margin
from .preconditioner import BatchStructure

__all__ = ["FixedPointResult", "sign_descent_limit"]


@dataclass
class FixedPointResult:
    """Outcome of :func:`fixed_point`.

    Attributes:
        w: (d,) predicted direction, unit l2 norm: ``P(c)^-1 Z^T lambda`` normalized.
        c: (n,) the last iterate c (on the simplex); ``lambdas = lambda(c)``, ``p = p(c)``.
        lambdas: (n,) dual solution of P_Adam(c) (so ``w_hat = P^-1 Z^T lambda`` has min margin 1).
        p: (d,) diagonal of P(c).
        residuals: (iterations,) history of ``||T(c_k) - c_k||_1``.
        converged: whether the residual reached ``tol`` within ``max_iter`` iterations.
        iterations: number of evaluations of T.
        degenerate: P(c*) is (numerically) singular, so w is NOT a valid prediction; see ``message``.
        on_vertex: c* has a single entry above ``vertex_tol`` (one sample carries the preconditioner).
        support: indices with lambda_i > 0 (the support vectors of P_Adam(c)).
        message: what happened, in words.
        solver: inner solver used ("dual" or "cvxpy:<name>").
        damping, tol: the iteration's parameters.
        timings: seconds: "setup" (validation, separability, building), "inner" (all inner solves),
            "total".
        kkt_residual: relative KKT residual of the last inner QP (see ``MaxMarginResult``).
        norm: ``p`` (a diagonal Mahalanobis norm), so that ``margin_ratio`` / ``ib.train``
            references can compare margins in ``||.||_{P(c*)}``; None when degenerate or when
            all-zero coordinates were excluded (P(c*) is then only a seminorm); "linf" when
            ``limit == "linf"``.
        gamma: normalized margin of w in that norm; None when degenerate.
        batch_size, order: the batch structure the fixed point is for (b = 1: the original one).
        limit: "fixed_point", or "linf" when the batch structure is sign descent (b = n).
        alternatives: (k, d) unit directions of the OTHER fixed points found from random starts
            (k = 0 when none); ``unique`` is True when all starts agreed, None with one start.
        starts: number of starting points tried.
    """

    w: np.ndarray
    c: np.ndarray
    lambdas: np.ndarray
    p: np.ndarray
    residuals: np.ndarray
    converged: bool
    iterations: int
    degenerate: bool
    on_vertex: bool
    support: np.ndarray
    message: str
    solver: str
    damping: float
    tol: float
    timings: dict[str, float] = field(default_factory=dict)
    kkt_residual: float = float("nan")
    norm: np.ndarray | str | None = None
    gamma: float | None = None
    batch_size: int = 1
    order: str = "cyclic"
    limit: str = "fixed_point"
    alternatives: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    unique: bool | None = None
    starts: int = 1

    @property
    def ok(self) -> bool:
        """True when the iteration converged to a non-degenerate fixed point."""
        return self.converged and not self.degenerate

    def __repr__(self) -> str:
        last = self.residuals[-1] if self.residuals.size else float("nan")
        return (
            f"FixedPointResult(converged={self.converged}, degenerate={self.degenerate}, "
            f"batch_size={self.batch_size}, order={self.order!r}, limit={self.limit!r}, unique={self.unique}, "
            f"on_vertex={self.on_vertex}, iterations={self.iterations}, residual={last:.1e}, "
            f"support={self.support.size}, solver={self.solver!r}, message={self.message!r})"
        )


def sign_descent_limit(
    Z: np.ndarray, structure: BatchStructure, started: float, scale: float = 1.0
) -> FixedPointResult:
    """b = n, cyclic / reshuffle: P = |Z^T lambda| (sign descent); its limit is the l-inf direction.

    Z (n, d) at unit scale, ``scale`` its power-of-two factor (lambda and gamma are mapped back).

    Args:
        Z: the rows ``z_i = y_i x_i`` at unit scale, shape (n, d), float64.
        structure: the batch structure (b = n, cyclic or reshuffle), for the message and the result.
        started: ``time.perf_counter()`` at the start of the call, for ``timings["total"]`` (seconds).
        scale: the power-of-two scale of Z (in X's units).

    Returns:
        The :class:`FixedPointResult` of the l-inf max-margin direction (``limit="linf"``,
        ``converged=True``, no iterations).

    Raises:
        NotSeparableError: when the data are not separable (from ``max_margin``).
        IllConditionedError: when the l-inf LP cannot be solved to its certified accuracy.
    """
    n, d = Z.shape
    mm = max_margin(Z, np.ones(n), norm="linf")
    lam = np.asarray(mm.duals, dtype=np.float64)  # for the unit-scale Z
    message = (
        f"batch structure: {structure.describe()}: every step sees the full gradient, so P = |Z^T lambda| is "
        "sign descent and the damped iteration has no fixed point to converge to; the answer is the l-inf "
        "max-margin direction" + ("" if mm.unique is not False else " (NOT unique: compare l-inf margin ratios)")
    )
    return FixedPointResult(
        w=np.asarray(mm.w_l2unit, dtype=np.float64),
        c=(lam / lam.max()) ** 2 / np.sum((lam / lam.max()) ** 2),
        lambdas=lam / scale,
        p=np.abs(Z.T @ lam),
        residuals=np.zeros(0),
        converged=True,
        iterations=0,
        degenerate=False,
        on_vertex=False,
        support=np.flatnonzero(lam > 0),
        message=message,
        solver=f"max_margin(linf): {mm.solver}",
        damping=1.0,
        tol=0.0,
        timings={"total": time.perf_counter() - started},
        kkt_residual=mm.kkt_residual,
        norm="linf",
        gamma=float(mm.gamma) * scale,
        batch_size=structure.batch_size,
        order=structure.order,
        limit="linf",
        unique=mm.unique,
    )
