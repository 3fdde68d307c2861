"""Reference max-margin directions: l2, l-inf, l1 and Mahalanobis, polished and certified.

Conventions (SPEC.md): ``z_i = y_i x_i``, ``Z`` has rows ``z_i`` (shape (n, d)), margins
``m_i(w) = <z_i, w>``.

* **l_p max-margin** (p in {2, inf, 1}): ``argmax_w min_i m_i(w) / ||w||_p``, solved as
  ``min ||w||_p s.t. Zw >= 1``.
* **Mahalanobis max-margin** for a positive definite ``M``: ``min 1/2 w^T M w s.t. Zw >= 1``,
  with ``||w||_M = sqrt(w^T M w)``.

A ``norm`` argument is as in :mod:`implicit_bias.metrics` (a name, a positive diagonal or a
positive definite matrix).

Solvers: for l2 / Mahalanobis CVXPY (Clarabel by default) for the primal; the answer is then
*polished* by an exact active-set solve of the dual QP (:mod:`.qp`) followed by
iterative refinement with long-double residuals, so the KKT residual is at rounding level
(~1e-16) instead of the solver's ~1e-8. The LP norms are solved by ``scipy.optimize.linprog``
(HiGHS dual simplex, :mod:`.lp`; no CVXPY import) and polished on their optimal vertex when it is
non-degenerate.

Scale: every problem is solved on ``Z / 2^k`` (largest entry ~1; exact in binary floating point)
with a Mahalanobis M divided by ``4^j`` likewise, and mapped back: the answer for ``X * s`` is X's
direction with gamma times s. An answer that cannot be certified raises IllConditionedError. The
l-inf (and l1) maximiser can be non-unique (checked): compare normalized margins / margin ratios
(:mod:`implicit_bias.metrics`), not cosines, then.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sla
from numpy.typing import ArrayLike, DTypeLike

from .._format import html_table
from .._validation import check_data, check_real, resolve_dtype
from ..errors import DegenerateProblemWarning, IllConditionedError, NotSeparableError
from ..metrics import LONG_DOUBLE, Norm, NormSpec, parse_norm
from ..separability import check_separable, pow2_scale
from .cvxpy_path import lp_cvxpy, solve_cvxpy
from .lp import solve_lp_margin
from .polish import ACTIVE_RTOL, kkt_lp, kkt_mahalanobis, lp_face_diameter, lp_vertex, refine_kkt
from .qp import solve_dual_qp

__all__ = ["MaxMarginResult", "max_margin", "solve_cvxpy"]


@dataclass
class MaxMarginResult:
    """A max-margin direction and its certificates.

    Attributes:
        w: (d,) maximiser scaled to unit norm in ``norm`` (``||w||_M = sqrt(w^T M w)``).
        w_l2unit: (d,) the same direction with unit l2 norm (for cosines).
        gamma: optimal normalized margin ``min_i <z_i, w> / ||w||`` (= 1 / ||w_hat||, where
            ``w_hat = w / gamma`` solves ``min ||w|| s.t. Zw >= 1``).
        duals: (n,) multipliers lambda >= 0 of ``Zw >= 1``: for l2 / Mahalanobis those of
            ``min 1/2 w^T M w`` (so ``M w_hat = Z^T lambda``, ``sum(lambda) = 1/gamma**2``); for l-inf /
            l1 those of ``min ||w||_p`` (so ``||Z^T lambda||_q = 1``, ``sum(lambda) = 1/gamma``).
        support: indices of the active constraints (``<z_i, w_hat> = 1``; lambda > 0 if polished).
        unique: whether the maximiser is unique (always True for l2 / Mahalanobis); None if not checked.
        face_diameter: for LP norms checked by LP, a lower bound on the diameter of the optimal face
            (relative, in the norm); 0 when uniqueness is certified by strict complementarity.
        kkt_residual: relative KKT residual of (w_hat, duals) as returned: max of primal
            infeasibility, complementarity and stationarity (l2 / Mahalanobis) or duality gap and
            dual infeasibility (LP norms). ~1e-16 when polished.
        solver: solver(s) used, e.g. "CLARABEL+active-set".
        norm: the norm as :func:`normalized_margin` accepts it ("l2", "linf", "l1" or the array M).
        norm_name: "l2", "linf", "l1" or "mahalanobis".
        polished: whether the active-set polish succeeded.
        note: human-readable caveats (non-uniqueness, skipped polish); "" if none.
    """

    w: np.ndarray
    w_l2unit: np.ndarray
    gamma: Any
    duals: np.ndarray
    support: np.ndarray
    unique: bool | None
    kkt_residual: float
    solver: str
    norm: NormSpec
    norm_name: str
    polished: bool
    note: str = ""
    face_diameter: float | None = None

    def _repr_html_(self) -> str:
        """Jupyter's view: the margin, its certificates and the direction."""
        rows = [
            ("norm", self.norm_name),
            ("gamma", self.gamma),
            ("support", f"{self.support.size}: {self.support.tolist()}"),
        ]
        rows += [("unique", self.unique), ("kkt_residual", self.kkt_residual), ("solver", self.solver)]
        rows += [("w", np.array2string(np.asarray(self.w, dtype=float), precision=4, threshold=8))]
        rows += [("note", self.note)] if self.note else []
        return html_table(f"MaxMarginResult: {self.norm_name}, gamma = {float(self.gamma):.6g}", rows)

    def __repr__(self) -> str:
        return (
            f"MaxMarginResult(norm={self.norm_name!r}, gamma={float(self.gamma):.6g}, "
            f"support={self.support.size}, unique={self.unique}, kkt_residual={self.kkt_residual:.1e}, "
            f"solver={self.solver!r}{', note=' + repr(self.note) if self.note else ''})"
        )


def max_margin(
    X: ArrayLike,
    y: ArrayLike,
    norm: NormSpec = "l2",
    *,
    polish: bool = True,
    check_unique: bool = True,
    solver: str | None = None,
    dtype: DTypeLike | None = None,
    uniqueness_tol: float = 1e-6,
    seed: int = 0,
) -> MaxMarginResult:
    """Max-margin direction of (X, y) in ``norm``: ``argmax_w min_i <z_i, w> / ||w||``.

    Args:
        X: (n, d) data; y: (n,) labels in {-1, +1}.
        norm: "l2", "linf", "l1", a positive diagonal (d,) or a positive definite matrix (d, d).
        polish: refine the solver's answer on its active set (KKT residual ~1e-16 instead of ~1e-8).
        check_unique: for LP norms, decide whether the maximiser is unique (strict-complementarity
            certificate, else two LPs over the optimal face along a random direction).
        solver: for l2 / Mahalanobis a CVXPY solver name (default "CLARABEL"); for the LPs "HIGHS"
            (default: ``scipy.optimize.linprog``'s HiGHS dual simplex, whose answer is a vertex that
            the polish recomputes exactly) or any other CVXPY solver name (then solved by CVXPY).
        dtype: precision of the returned arrays (float64 or long double; default from X).
        uniqueness_tol: optimal faces with relative diameter above this are reported non-unique.
        seed: seed of the random direction used by the uniqueness LPs.

    Raises:
        NotSeparableError: no w separates the data. DegenerateProblemError: singular M.
    """
    out_dtype = resolve_dtype(dtype, X)
    X_arr, y_arr = check_data(X, y, out_dtype)
    d = X_arr.shape[1]
    nrm = parse_norm(norm, d, out_dtype)
    if not isinstance(polish, bool):
        raise TypeError(f"polish: must be True or False, got {polish!r}")
    if not isinstance(check_unique, bool):
        raise TypeError(f"check_unique: must be True or False, got {check_unique!r}")
    check_real("uniqueness_tol", uniqueness_tol, 0.0, low_open=True)
    default_solver = "CLARABEL" if nrm.kind in ("l2", "diag", "matrix") else "HIGHS"
    solver_name = default_solver if solver is None else str(solver).upper()
    check_separable(X_arr, y_arr, dtype=out_dtype)
    # Solve at unit scale (powers of two: exact) and map back, so answers are scale-equivariant.
    z_scale = float(pow2_scale(y_arr[:, None] * X_arr))
    Z_exact = (y_arr[:, None] * X_arr) / out_dtype.type(z_scale)
    Z = Z_exact.astype(np.float64)
    nrm_unit, m_scale = _unit_norm(nrm)
    if nrm.kind in ("l2", "diag", "matrix"):
        result = _mahalanobis(Z, Z_exact, nrm_unit, polish, solver_name, out_dtype)
    else:
        result = _lp_norm(Z, Z_exact, nrm_unit, polish, check_unique, solver_name, out_dtype, uniqueness_tol, seed)
    return _rescaled(result, nrm, z_scale, m_scale, out_dtype)


def _unit_norm(nrm: Norm) -> tuple[Norm, float]:
    """(the norm with M divided by a power of four mu so that max |M| ~ 1, mu); mu = 1 for named norms."""
    if nrm.kind not in ("diag", "matrix"):
        return nrm, 1.0
    values = nrm.diag if nrm.kind == "diag" else nrm.matrix
    mu = float(pow2_scale(values)) ** 0.5
    mu = float(np.ldexp(1.0, 2 * int(np.round(np.log2(mu)))))  # a power of 4: sqrt(mu) is exact
    scaled = values / values.dtype.type(mu)
    if nrm.kind == "diag":
        return Norm("diag", scaled, diag=scaled), mu
    return Norm("matrix", scaled, matrix=scaled), mu


def _rescaled(r: MaxMarginResult, nrm: Norm, z_scale: float, m_scale: float, dtype: np.dtype) -> MaxMarginResult:
    """Map a result for (Z / z_scale, M / m_scale) back to (Z, M): the direction is the same, gamma
    scales by z_scale / sqrt(m_scale), the multipliers by m_scale / z_scale^2 (quadratic
    problems) or 1 / z_scale (LPs); computed by exponent arithmetic where float64 would overflow."""
    root = float(np.sqrt(m_scale))  # exact: m_scale is a power of 4
    gamma = r.gamma * dtype.type(z_scale) / dtype.type(root)
    quadratic = r.norm_name in ("l2", "mahalanobis")
    lam_factor = np.longdouble(m_scale) / np.longdouble(z_scale) ** (2 if quadratic else 1)
    with np.errstate(over="ignore", under="ignore"):
        duals = (r.duals.astype(np.longdouble) * lam_factor).astype(dtype)
    note = r.note
    if np.any((duals == 0) & (r.duals > 0)) or not np.all(np.isfinite(duals)):
        note = (note + " " if note else "") + (
            f"the multipliers scale as {lam_factor:.3g} at this data scale and are not representable in {dtype}."
        )
    r.w = r.w / dtype.type(root)
    r.gamma, r.duals, r.norm, r.note = gamma, duals, nrm.spec, note
    return r


def _mahalanobis(
    Z: np.ndarray, Z_exact: np.ndarray, nrm: Norm, polish: bool, solver: str, out_dtype: np.dtype
) -> MaxMarginResult:
    import cvxpy as cp

    n, d = Z.shape
    chol = None
    if nrm.kind == "l2":
        G = Z
    elif nrm.kind == "diag":
        G = Z / np.sqrt(nrm.diag.astype(np.float64))
    else:
        chol = np.linalg.cholesky(nrm.matrix.astype(np.float64))  # M = L L^T
        G = sla.solve_triangular(chol, Z.T, lower=True).T  # rows L^-1 z_i, so ||G^T l|| = ||Z^T l||_{M^-1}

    # The primal in equilibrated variables v = c w (c: power-of-two column scales, exact), which
    # keeps a column 1e6 times larger than the others within the solver's tolerances.
    cols = pow2_scale(Z, axis=0)
    v = cp.Variable(d)
    w = cp.multiply(1 / cols, v)
    if nrm.kind == "l2":
        energy = cp.sum_squares(w)
    elif nrm.kind == "diag":
        energy = cp.sum_squares(cp.multiply(np.sqrt(nrm.diag.astype(np.float64)) / cols, v))
    else:
        energy = cp.sum_squares(chol.T @ w)
    constraint = (Z / cols) @ v >= 1
    try:
        solver_note = solve_cvxpy(cp.Problem(cp.Minimize(0.5 * energy), [constraint]), solver)
    except RuntimeError:
        if not polish:
            raise
        solver_note = ""  # the exact dual solver below does not need the primal's warm start
    solved = v.value is not None
    lam = np.maximum(np.asarray(constraint.dual_value, dtype=np.float64), 0.0) if solved else None
    w_hat = np.asarray(v.value, dtype=np.float64) / cols if solved else None
    solver_used, polished = solver, False

    def m_inverse(v: np.ndarray) -> np.ndarray:
        if nrm.kind == "l2":
            return v
        if nrm.kind == "diag":
            return v / nrm.diag.astype(np.float64)
        return sla.cho_solve((chol, True), v, check_finite=False)

    if polish:
        guess = None if w_hat is None else (lam > ACTIVE_RTOL * lam.max()) | (Z @ w_hat <= 1 + ACTIVE_RTOL)
        try:
            dual = solve_dual_qp(G, warm_start=guess)
        except NotSeparableError as exc:  # separability was certified: the Gram matrix is what failed
            if w_hat is None:
                raise IllConditionedError(
                    f"X: {solver} failed and the dual QP's Gram matrix Z M^-1 Z^T is numerically singular on "
                    "these (separable) data, typically because column scales differ by ~1e6 or more; rescale "
                    "the columns of X"
                ) from exc
            solver_note = (
                f"active-set polish failed (the Gram matrix Z M^-1 Z^T is numerically singular, e.g. columns of very "
                f"different scales): {solver}'s answer, accurate to its tolerance (~1e-8). {solver_note}"
            ).strip()
        else:
            solver = solver if w_hat is not None else f"({solver} failed)"
            lam_ld, w_ld = refine_kkt(Z_exact, G, nrm, m_inverse, dual.support, dual.lambdas[dual.support])
            lam = np.zeros(n, dtype=LONG_DOUBLE)
            lam[dual.support] = lam_ld
            w_hat = w_ld
            solver_used, polished = f"{solver}+{dual.method}", True

    w_hat_out = np.asarray(w_hat).astype(out_dtype)
    lam_out = np.asarray(lam).astype(out_dtype)
    size = nrm.of_rows(w_hat_out[None, :])[0]
    gamma = np.min(Z_exact @ w_hat_out) / size
    support = np.flatnonzero(lam_out > 0) if polished else np.flatnonzero(Z @ w_hat <= 1 + ACTIVE_RTOL)
    kkt = kkt_mahalanobis(Z_exact, nrm, w_hat_out, lam_out)
    if not (kkt <= 1e-5 and gamma > 0):  # never a silent wrong answer (column scales ~1e6 apart do this)
        msg = f"X: {nrm.name} max margin too ill-conditioned for {solver_used} (KKT residual {kkt:.1e}, margin {gamma:.3g})"
        raise IllConditionedError(msg + ": rescale the columns of X")
    return MaxMarginResult(
        w=w_hat_out / size,
        w_l2unit=w_hat_out / np.sqrt(np.sum(w_hat_out**2)),
        gamma=gamma,
        duals=lam_out,
        support=support,
        unique=True,  # strictly convex objective
        kkt_residual=kkt,
        solver=solver_used,
        norm=nrm.spec,
        norm_name=nrm.name,
        polished=polished,
        note="" if polished else solver_note,
    )


# --------------------------------------------------------------------------------------------
# LP norms
# --------------------------------------------------------------------------------------------


def _lp_norm(
    Z: np.ndarray,
    Z_exact: np.ndarray,
    nrm: Norm,
    polish: bool,
    check_unique: bool,
    solver: str,
    out_dtype: np.dtype,
    uniqueness_tol: float,
    seed: int,
) -> MaxMarginResult:
    if solver == "HIGHS":
        lp, solver_note = solve_lp_margin(Z, nrm.kind), ""
    else:
        lp, solver_note = lp_cvxpy(Z, nrm.kind, solver)
    w_hat, lam = lp.w_hat, lp.lam
    notes: list[str] = []
    vertex = lp_vertex(Z_exact, w_hat, nrm.kind) if polish or check_unique else None
    polished = False
    if polish and vertex is not None:
        w_hat, lam = vertex.w_hat, vertex.lam
        polished = True
    elif polish:
        notes.append("vertex polish skipped: the solution is not at a non-degenerate vertex.")
    if not polished and solver_note:
        notes.append(solver_note)

    unique: bool | None = None
    diameter: float | None = None
    if check_unique:
        if vertex is not None and vertex.strictness > 0:
            unique, diameter = True, 0.0
            if vertex.strictness < 1e-6:
                notes.append(
                    f"unique, but nearly flat: the weakest strict multiplier is {vertex.strictness:.1e}, so points "
                    f"whose margin is within eps of optimal can differ from w by ~eps/{vertex.strictness:.1e}."
                )
        else:
            t_star = float(np.max(np.abs(w_hat)) if nrm.kind == "linf" else np.sum(np.abs(w_hat)))
            diameter = lp_face_diameter(Z, t_star, nrm.kind, seed)
            unique = diameter <= uniqueness_tol
        if not unique:
            notes.append(
                f"the {nrm.kind} maximiser is NOT unique (optimal face has relative diameter >= {diameter:.3g}); "
                "w is one optimal point. Compare normalized_margin / margin_ratio, not cosines."
            )
            warnings.warn(f"max_margin: {notes[-1]}", DegenerateProblemWarning, stacklevel=3)

    w_hat_out = np.asarray(w_hat).astype(out_dtype)
    lam_out = np.asarray(lam).astype(out_dtype)
    size = nrm.of_rows(w_hat_out[None, :])[0]
    margins = Z_exact @ w_hat_out
    kkt = kkt_lp(Z_exact, nrm.kind, w_hat_out, lam_out)
    if not kkt <= 1e-5:  # never a silent wrong answer: HiGHS's absolute tolerances were too coarse
        raise IllConditionedError(
            f"X: the {nrm.kind} max-margin LP is too ill-conditioned for {solver} on these data (relative KKT "
            f"residual {kkt:.1e} after polishing; columns whose scales differ by ~1e8 or more do this): "
            "rescale the columns of X"
        )
    support = (
        np.flatnonzero(lam_out > 0) if polished else np.flatnonzero(margins <= np.min(margins) * (1 + ACTIVE_RTOL))
    )
    return MaxMarginResult(
        w=w_hat_out / size,
        w_l2unit=w_hat_out / np.sqrt(np.sum(w_hat_out**2)),
        gamma=np.min(margins) / size,
        duals=lam_out,
        support=support,
        unique=unique,
        kkt_residual=kkt,
        solver=f"{solver}+vertex" if polished else solver,
        norm=nrm.spec,
        norm_name=nrm.name,
        polished=polished,
        note=" ".join(notes),
        face_diameter=diameter,
    )
