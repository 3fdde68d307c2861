"""The data-adaptive Mahalanobis direction of per-sample Adam (SPEC.md, "The fixed point").

For weights c on the probability simplex (one per sample):

* ``P(c) = diag(p(c))`` with ``p(c)_j = sqrt(sum_i c_i z_ij^2)``;
* ``P_Adam(c)``: ``min_w 1/2 w^T P(c) w  s.t.  Zw >= 1``, with dual solution ``lambda(c) >= 0``;
* ``T(c)_i = lambda_i(c)^2 / sum_j lambda_j(c)^2``.

A fixed point ``c* = T(c*)`` predicts the limit direction of AdamProxy and of per-sample cyclic
Adam as beta2 -> 1: ``w* ~ P(c*)^-1 sum_i lambda_i(c*) z_i``. :func:`fixed_point` finds it by the
damped iteration ``c <- (1 - damping) c + damping T(c)`` from ``c = 1/n``.

``batch_size`` / ``order`` select the **batch fixed point** (our extension, not the original
study's; :mod:`.preconditioner` has the formulas): mini-batch cyclic Adam and reshuffled / with-
replacement Adam as beta2 -> 1. b = 1 is the plain fixed point for every order; b = n with cyclic
or reshuffle order is sign descent, whose limit is the l-inf max-margin direction (returned as
such, ``limit="linf"``). Rows that appear several times share their weight as the optimizers do.
Several fixed points can exist: with ``starts > 1`` the iteration also runs from random points of
the simplex, and every distinct fixed point found is reported (``alternatives``, ``unique``).

Inner solvers for ``lambda(c)``:

* ``"dual"`` (default): the dual QP ``max_{lambda >= 0} sum(lambda) - 1/2 lambda^T Z P^-1 Z^T lambda``
  by an exact active-set method (:func:`implicit_bias.references.qp.solve_dual_qp`), warm-started from
  the previous iteration's support; one Cholesky factorization per iteration once the support
  has settled. Accurate to rounding (~1e-15).
* ``"cvxpy"``: one DPP-compliant CVXPY problem, built once with the parameter ``sqrt(p)`` and
  re-solved every iteration (Clarabel by default). Slower; kept as an independent cross-check.

Degenerate cases are reported, never hidden: a preconditioner that becomes singular (a coordinate
carried only by samples whose weight goes to 0, e.g. ``shifted_diagonal(delta=0)``) sets
``degenerate=True`` and warns (or raises :class:`DegenerateProblemError` with
``on_degenerate="raise"``); a fixed point on a vertex of the simplex sets ``on_vertex=True``; an
iteration that misses its tolerance sets ``converged=False`` and warns.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from numpy.typing import ArrayLike

from .._validation import ORDERS, check_choice, check_int, check_real
from ..errors import ConvergenceWarning, DegenerateProblemError, DegenerateProblemWarning
from ..metrics import Norm
from ..separability import check_separable
from .fixedpoint_map import (
    adam_preconditioner,
    batch_size_arg,
    cvxpy_inner,
    direction,
    dual_inner,
    fixed_point_data,
    fixed_point_map,
    iterate,
    simplex_weights,
)
from .fixedpoint_result import FixedPointResult, sign_descent_limit
from .polish import kkt_mahalanobis
from .preconditioner import BatchStructure, duplicate_groups

__all__ = ["FixedPointResult", "fixed_point", "fixed_point_map", "adam_preconditioner"]

SOLVERS = ("dual", "cvxpy")


def fixed_point(
    X: ArrayLike,
    y: ArrayLike,
    *,
    batch_size: int = 1,
    order: str = "cyclic",
    damping: float = 1.0,
    tol: float = 1e-12,
    max_iter: int = 1000,
    solver: str = "dual",
    c0: ArrayLike | None = None,
    starts: int | None = None,
    seed: int = 0,
    on_degenerate: str = "warn",
    vertex_tol: float = 1e-8,
    singular_tol: float = 1e-10,
    cvxpy_solver: str = "CLARABEL",
) -> FixedPointResult:
    """Solve ``c = T(c)`` by damped fixed-point iteration and return the predicted direction.

    Args:
        X: (n, d) data; y: (n,) labels in {-1, +1}. Must be separable. Computed in float64.
        batch_size: b in [1, n] of the optimizer whose limit is predicted (1: the original fixed
            point; see the module docstring for b > 1, our extension).
        order: "cyclic", "reshuffle" or "replacement" (the same for every order when b = 1).
        damping: step ``c <- (1 - damping) c + damping T(c)``, in (0, 1]. The undamped iteration
            (1.0) converges linearly on the data sets tried (ratio ~0.1); lower it if the residual
            oscillates.
        tol: stop when ``||T(c) - c||_1 <= tol`` (l1 norm on the simplex).
        max_iter: cap on evaluations of T (per start).
        solver: inner solver, "dual" (exact active set, warm-started) or "cvxpy" (cross-check).
        c0: starting weights (n,) on the simplex; default uniform 1/n (the reported fixed point).
        starts: how many starting points to try (the first is c0 / uniform, the others drawn
            uniformly on the simplex with ``seed``) to find other fixed points; default 4 when
            n * d <= 5000, else 1 (``starts=1`` costs what the single iteration costs).
        on_degenerate: "warn" (flag the result and warn) or "raise" (DegenerateProblemError).
        vertex_tol: weights c_i <= vertex_tol count as 0 when judging the limit (vertex, singular P).
        singular_tol: P is singular when ``min_j p_j <= singular_tol * max_j p_j``.
        cvxpy_solver: the CVXPY solver for ``solver="cvxpy"``.

    Coordinates where every sample is 0 do not enter the problem (AdamProxy never moves them);
    they get ``w_j = 0`` and ``p_j = 0``.

    Raises:
        NotSeparableError: (X, y) is not separable.
        DegenerateProblemError: only with ``on_degenerate="raise"``.
    """
    started = time.perf_counter()
    damping = check_real("damping", damping, 0.0, 1.0, low_open=True)
    tol = check_real("tol", tol, 0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    check_choice("solver", solver, SOLVERS)
    check_choice("on_degenerate", on_degenerate, ("warn", "raise"))
    vertex_tol = check_real("vertex_tol", vertex_tol, 0.0, 1.0, low_open=True, high_open=True)
    singular_tol = check_real("singular_tol", singular_tol, 0.0, 1.0, low_open=True, high_open=True)
    seed = check_int("seed", seed, 0)
    Z_full, scale = fixed_point_data(X, y)  # at unit scale (exact): p and lambda are mapped back
    n, d = Z_full.shape
    structure = BatchStructure(n, batch_size_arg(batch_size, n), check_choice("order", order, ORDERS))
    starts = (4 if n * d <= 5000 else 1) if starts is None else check_int("starts", starts, 1)
    c = np.full(n, 1.0 / n) if c0 is None else simplex_weights("c0", c0, n)
    check_separable(Z_full, np.ones(n))
    if structure.sign_descent:
        return sign_descent_limit(Z_full, structure, started, scale)

    used = np.any(Z_full != 0, axis=0)  # all-zero coordinates never enter P or the margins
    Z = Z_full[:, used]
    groups = duplicate_groups(Z)
    solver_name = f"cvxpy:{cvxpy_solver}" if solver == "cvxpy" else "dual"
    new_inner = (lambda: cvxpy_inner(Z, cvxpy_solver)) if solver == "cvxpy" else (lambda: dual_inner(Z))
    setup = time.perf_counter() - started

    it = iterate(Z, structure, groups, c, new_inner(), damping, tol, max_iter, singular_tol)
    if it.lam is None or it.p is None:
        if c0 is not None:
            raise DegenerateProblemError("c0: P(c0) is singular; start from weights that cover every coordinate")
        raise DegenerateProblemError(
            "X: P(1/n) is numerically singular (column scales differ by more than 1/singular_tol); "
            "rescale the columns or lower singular_tol"
        )
    inner_time = it.inner_time
    lam, p, c, c_eval, residuals, converged = it.lam, it.p, it.c, it.c_eval, it.residuals, it.converged
    w_hat_used = (Z.T @ lam) / p
    w_hat = np.zeros(d)
    w_hat[used] = w_hat_used
    p_full = np.zeros(d)
    p_full[used] = p

    # Judge the limit from the latest iterate: weights <= vertex_tol count as 0.
    kept = c > vertex_tol
    p_judge = it.p_next if it.singular else structure.p(Z, np.where(kept, c, 0.0))
    weak = np.flatnonzero(used)[p_judge <= singular_tol * p_judge.max()]
    degenerate = weak.size > 0
    on_vertex = int(np.count_nonzero(kept)) == 1

    # Other fixed points, from random starts on the simplex.
    rng = np.random.default_rng(seed)
    found = [direction(Z, it)] if converged and not degenerate else []
    for _ in range(starts - 1):
        other = iterate(
            Z, structure, groups, rng.dirichlet(np.ones(n)), new_inner(), damping, tol, max_iter, singular_tol
        )
        inner_time += other.inner_time
        if other.converged and other.lam is not None:
            u = direction(Z, other)
            if all(1.0 - float(u @ v) > 1e-9 for v in found):
                found.append(u)
    alternatives = np.zeros((0, d))
    if len(found) > 1:
        alternatives = np.zeros((len(found) - 1, d))
        alternatives[:, used] = np.asarray(found[1:])
    unique = None if starts == 1 or not converged else len(found) == 1

    messages = [f"batch structure: {structure.describe()}"] if not structure.per_sample else []
    if converged:
        messages.append(f"converged in {len(residuals)} iterations (||T(c)-c||_1 = {residuals[-1]:.1e} <= {tol:.1e})")
    else:
        reason = "stopped because P(c) became singular" if it.singular else "did NOT converge"
        messages.append(
            f"{reason} after {len(residuals)} iterations (||T(c)-c||_1 = {residuals[-1]:.1e} > tol {tol:.1e})"
        )
    if on_vertex:
        messages.append(f"c* is on a vertex of the simplex (sample {int(np.flatnonzero(kept)[0])} carries P)")
    if degenerate:
        messages.append(
            f"DEGENERATE: P(c*) is singular (coordinates {weak[:5].tolist()} are carried only by samples whose "
            "weight goes to 0), so P_Adam(c*) and the predicted direction are not defined; w is the "
            "direction at the last well-posed iterate, not a prediction"
        )
    if groups:
        messages.append(
            f"{sum(g.size for g in groups)} rows in {len(groups)} groups of identical rows share their weight"
        )
    if alternatives.shape[0]:
        messages.append(
            f"NOT UNIQUE: {alternatives.shape[0]} other fixed point(s) found from {starts - 1} random starts "
            "(see .alternatives); w is the one the iteration from c = 1/n reaches"
        )
    if not used.all():
        messages.append(f"{int((~used).sum())} all-zero coordinates excluded (w_j = 0 there)")
    message = "; ".join(messages)

    if degenerate:
        if on_degenerate == "raise":
            raise DegenerateProblemError(f"X, y: {message}")
        warnings.warn(f"fixed_point: {message}", DegenerateProblemWarning, stacklevel=2)
    elif not converged:
        warnings.warn(f"fixed_point: {message}; try damping < 1 or a larger max_iter", ConvergenceWarning, stacklevel=2)
    elif alternatives.shape[0]:
        warnings.warn(f"fixed_point: {message}", DegenerateProblemWarning, stacklevel=2)

    diag = Norm("diag", p, diag=p)
    kkt = kkt_mahalanobis(Z, diag, w_hat_used, lam)
    gamma = None if degenerate else float(np.min(Z @ w_hat_used) / diag.of_rows(w_hat_used[None, :])[0])
    # Back to X's units: p is homogeneous of degree 1 in Z, lambda of degree -1, gamma of degree 1/2.
    lam, p_full = lam / scale, p_full * scale
    gamma = None if gamma is None else gamma * float(np.sqrt(scale))
    return FixedPointResult(
        w=w_hat / np.linalg.norm(w_hat),
        c=c_eval,
        lambdas=lam,
        p=p_full,
        residuals=np.asarray(residuals),
        converged=converged,
        iterations=len(residuals),
        degenerate=degenerate,
        on_vertex=on_vertex,
        support=np.flatnonzero(lam > 0),
        message=message,
        solver=solver_name,
        damping=damping,
        tol=tol,
        timings={"setup": setup, "inner": inner_time, "total": time.perf_counter() - started},
        kkt_residual=kkt,
        norm=None if degenerate or not used.all() else p_full,
        gamma=gamma,
        batch_size=structure.batch_size,
        order=structure.order,
        alternatives=alternatives,
        unique=unique,
        starts=starts,
    )
