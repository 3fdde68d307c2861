"""Independent NumPy reference for the batch fixed point and the epoch map (SPEC.md, section
"Beyond the original study" -- our extension, not the original study's).

Written from SPEC.md and docs/predictions_derivation.md only; it does NOT import
``implicit_bias`` and shares no code with it. The inner quadratic programme is solved with
SciPy's NNLS (Lawson-Hanson active set) on an LDP reformulation and then polished on its active
set, the l-inf direction with SciPy's HiGHS LP. Written for clarity, not speed.

Conventions: ``Z`` is the (n, d) matrix of rows ``z_i = y_i x_i``; duals ``lam >= 0`` of
``min 1/2 w^T diag(p) w  s.t.  Z w >= 1`` satisfy ``diag(p) w = Z^T lam``.

Contents
--------
* ``cyclic_batches``, ``rho``, ``batch_preconditioner``, ``expected_batch_moments``:
  the preconditioner ``p(lam)`` for every batch size and order, and the closed-form moments
  of the batch gradients it is derived from (checked by Monte Carlo in the self-check).
* ``qp_duals``, ``kkt_residual``: the inner QP.
* ``linf_max_margin``: the l-inf max-margin direction (with a non-uniqueness check).
* ``plain_fixed_point``: SPEC's c-iteration ``c -> T(c)`` (b = 1).
* ``batch_fixed_point``: the lambda-iteration for any batch size and order.
* ``epoch_map_step`` / ``epoch_map_run``: Prop. 2.5's epoch map, as the direct O(K^2 d) double
  sum, in the dtype of the inputs (float64 or np.longdouble).
* ``epoch_map_direction`` / ``epoch_map_limit_polish``: the limit direction of the epoch map as
  the solution of its margin-equalisation equations (used to polish a long iteration).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog, nnls

__all__ = [
    "ORDERS",
    "FixedPointResult",
    "LinfResult",
    "abs_dloss",
    "batch_fixed_point",
    "batch_preconditioner",
    "cyclic_batches",
    "duplicate_groups",
    "epoch_map_direction",
    "epoch_map_limit_polish",
    "epoch_map_run",
    "epoch_map_step",
    "expected_batch_moments",
    "kkt_residual",
    "limit_direction",
    "linf_max_margin",
    "plain_fixed_point",
    "proxy_direction",
    "proxy_limit",
    "proxy_run",
    "qp_duals",
    "rho",
    "row_batch_sizes",
    "split_weights",
]

ORDERS = ("cyclic", "reshuffle", "replacement")


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")


def _check_batch(n: int, b: int) -> None:
    if not (1 <= int(b) <= n):
        raise ValueError(f"batch_size must be in [1, n={n}], got {b}")


# --------------------------------------------------------------------------------------------
# Batches and preconditioners
# --------------------------------------------------------------------------------------------


def cyclic_batches(n: int, b: int) -> list[np.ndarray]:
    """The fixed cyclic partition: K = ceil(n/b) consecutive batches, the last one has
    n - (K-1) b rows (n mod b when b does not divide n)."""
    _check_batch(n, b)
    return [np.arange(s, min(s + b, n)) for s in range(0, n, b)]


def row_batch_sizes(n: int, b: int) -> np.ndarray:
    """|B(i)|: the size of the cyclic batch that row i belongs to."""
    sizes = np.empty(n, dtype=np.int64)
    for B in cyclic_batches(n, b):
        sizes[B] = len(B)
    return sizes


def rho(n: int, b: int, order: str) -> float | None:
    """Weight of (sum_i lam_i z_ik)^2 in p_k^2 for the random orders (None for cyclic).

    reshuffle, n = q b + r (0 <= r < b; batches: q of size b, then one of size r if r > 0):
        rho = [q (b-1)/b + (r-1)/r] / [(n-1) (q/b + 1/r)]   (the r-terms absent when r = 0)
            = (b-1)/(n-1) when b divides n.
    replacement (b i.i.d. uniform indices per step):  rho = (b-1)/(n+b-1).
    """
    _check_order(order)
    _check_batch(n, b)
    if order == "cyclic":
        return None
    if n == 1:
        return 0.0
    if order == "replacement":
        return (b - 1) / (n + b - 1)
    q, r = divmod(n, b)
    if r == 0:
        return (b - 1) / (n - 1)
    return (q * (b - 1) / b + (r - 1) / r) / ((n - 1) * (q / b + 1.0 / r))


def batch_preconditioner(Z: np.ndarray, lam: np.ndarray, batch_size: int, order: str) -> np.ndarray:
    """p (shape (d,)) with
    cyclic:               p_k^2 = sum_B (sum_{i in B} lam_i z_ik)^2   (fixed partition);
    reshuffle/replacement p_k^2 = (1 - rho) sum_i lam_i^2 z_ik^2 + rho (sum_i lam_i z_ik)^2.
    """
    Z = np.asarray(Z)
    lam = np.asarray(lam)
    n = Z.shape[0]
    _check_order(order)
    _check_batch(n, batch_size)
    if order == "cyclic":
        p2 = np.zeros(Z.shape[1], dtype=np.result_type(Z, lam))
        for B in cyclic_batches(n, batch_size):
            p2 += (lam[B] @ Z[B]) ** 2
    else:
        r = rho(n, batch_size, order)
        p2 = (1.0 - r) * ((lam**2) @ (Z**2)) + r * (lam @ Z) ** 2
    return np.sqrt(p2)


def expected_batch_moments(A: np.ndarray, batch_size: int, order: str) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form E[sum_B g_B] and E[sum_B g_B^2] (elementwise), g_B = (1/|B|) sum_{i in B} a_i,
    for per-sample vectors a_i = rows of A (n, d).

    reshuffle: sum over the K batches of one epoch (fresh uniform permutation, q batches of b,
      then one of r = n mod b). For a uniform m-subset: E[(sum_B a)^2]/m^2 =
      [(n-m) Q + (m-1) S^2] / (m n (n-1)) with S = sum_i a_i, Q = sum_i a_i^2.
    replacement: one step (b i.i.d. uniform indices):
      E[g_B] = S/n, E[g_B^2] = [Q + (b-1) S^2 / n] / (b n).
    cyclic: deterministic sums over the fixed partition.
    """
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    _check_order(order)
    _check_batch(n, batch_size)
    b = batch_size
    S = A.sum(axis=0)
    Q = (A**2).sum(axis=0)
    if order == "cyclic":
        parts = [A[B].mean(axis=0) for B in cyclic_batches(n, b)]
        return sum(parts), sum(g**2 for g in parts)
    if order == "replacement":
        return S / n, (Q + (b - 1) * S**2 / n) / (b * n)
    q, r = divmod(n, b)
    sizes = [b] * q + ([r] if r else [])
    first = len(sizes) / n * S
    if n == 1:
        return first, Q.copy()
    second = sum(((n - m) * Q + (m - 1) * S**2) / (m * n * (n - 1)) for m in sizes)
    return first, second


# --------------------------------------------------------------------------------------------
# Duplicate rows
# --------------------------------------------------------------------------------------------


def duplicate_groups(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique_rows_index, inverse): Z[unique_rows_index[inverse]] == Z (exact equality)."""
    Z = np.asarray(Z)
    _, first, inverse = np.unique(Z, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def split_weights(n: int, batch_size: int, order: str) -> np.ndarray:
    """How the optimizer splits the dual of a repeated row among its copies.

    Copies have identical margins at every step, hence identical loss derivatives mu_i. The
    dual attached to row i is mu_i times the weight of g_i in sum_B g_B: 1/|B(i)| for cyclic
    order, and the constant E[1/|B(i)|] = K/n for reshuffle and replacement (1/b). So the
    duals of copies are proportional to 1/|B(i)| (cyclic) and equal (random orders)."""
    if order == "cyclic":
        return 1.0 / row_batch_sizes(n, batch_size)
    return np.ones(n)


# --------------------------------------------------------------------------------------------
# Inner QP: min 1/2 w^T diag(p) w  s.t.  Z w >= 1
# --------------------------------------------------------------------------------------------


def _qp_distinct(Zu: np.ndarray, p: np.ndarray, polish: bool = True) -> np.ndarray:
    """Duals of the QP for distinct rows Zu (m, d) and p > 0.

    LDP reformulation: u = sqrt(p) w, A = Zu diag(p)^-1/2, min ||u||^2/2 s.t. A u >= 1. Lawson &
    Hanson: x = argmin_{x >= 0} ||E x - f||, E = [A^T; 1^T], f = e_{d+1}; then the duals are
    lam = x / (1 - 1^T x) and u = A^T lam. Polish: on the active set S solve A_S A_S^T lam_S = 1
    through a QR of A_S^T, and verify the KKT conditions (repeat with the corrected set if not).
    """
    A = Zu / np.sqrt(p)[None, :]
    m, d = A.shape
    E = np.vstack([A.T, np.ones((1, m))])
    f = np.zeros(d + 1)
    f[-1] = 1.0
    x, _ = nnls(E, f, maxiter=50 * (m + d + 1))
    denom = 1.0 - x.sum()
    if not denom > 1e-14:
        raise ValueError("the data are not linearly separable (LDP infeasible)")
    lam = x / denom
    if not polish:
        return lam
    active = lam > 1e-12 * max(lam.max(), 1e-300)
    for _ in range(4 * m + 10):
        lam_new = np.zeros(m)
        AS = A[active]
        _, Rf = np.linalg.qr(AS.T)
        y = np.linalg.solve(Rf.T, np.ones(active.sum()))
        lam_new[active] = np.linalg.solve(Rf, y)
        marg = A @ (A.T @ lam_new)
        neg = active & (lam_new <= 0)
        viol = (~active) & (marg < 1 - 1e-13)
        if not neg.any() and not viol.any():
            tight = marg < 1 + 1e-9
            sv = np.linalg.svd(A[tight], compute_uv=False)
            if tight.sum() > d or sv.min() < 1e-9 * sv.max():
                warnings.warn(
                    "the tight rows are linearly dependent (and not exact copies): the QP duals "
                    "may not be unique and the optimizer's choice is not determined here",
                    stacklevel=3,
                )
            return lam_new
        # move one index (most negative dual out, else most violated margin in)
        if neg.any():
            active[np.argmin(np.where(neg, lam_new, np.inf))] = False
        else:
            active[np.argmin(np.where(viol, marg, np.inf))] = True
    raise RuntimeError("QP polish did not settle")


def qp_duals(
    Z: np.ndarray, p: np.ndarray, split: np.ndarray | None = None, polish: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Duals lam (n,) and solution w of ``min 1/2 w^T diag(p) w s.t. Z w >= 1``.

    Repeated rows are merged (the merged dual is unique for generic data) and the merged dual
    is split among the copies in proportion to ``split`` (default: equally)."""
    Z = np.asarray(Z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if np.any(~(p > 0)):
        raise ValueError("the preconditioner has a zero (or non-finite) entry: degenerate QP")
    n = Z.shape[0]
    split = np.ones(n) if split is None else np.asarray(split, dtype=np.float64)
    first, inv = duplicate_groups(Z)
    lam_u = _qp_distinct(Z[first], p, polish=polish)
    group_w = np.bincount(inv, weights=split, minlength=len(first))
    lam = lam_u[inv] * split / group_w[inv]
    w = (Z.T @ lam) / p
    return lam, w


def kkt_residual(Z: np.ndarray, p: np.ndarray, lam: np.ndarray) -> float:
    """Max of the (scale-free) KKT violations of w = diag(p)^-1 Z^T lam:
    primal infeasibility max(1 - Zw)_+, dual infeasibility max(-lam)_+/max(lam),
    complementarity max |lam_i (z_i w - 1)| / max(lam)."""
    Z = np.asarray(Z, dtype=np.float64)
    w = (Z.T @ lam) / p
    s = Z @ w - 1.0
    lmax = max(float(np.max(lam)), 1e-300)
    return float(max(np.max(np.maximum(-s, 0.0)), np.max(np.maximum(-lam, 0.0)) / lmax, np.max(np.abs(lam * s)) / lmax))


# --------------------------------------------------------------------------------------------
# l-inf max-margin (LP)
# --------------------------------------------------------------------------------------------


@dataclass
class LinfResult:
    w: np.ndarray  # unit l2 norm
    gamma: float  # min_i z_i w / ||w||_inf
    lam: np.ndarray  # LP duals of Z w >= 1, normalised to sum 1
    unique: bool | None  # None when not checked
    spread: float | None  # max |w - w'| over the optimal face (in units of ||w||_inf)


def linf_max_margin(Z: np.ndarray, check_unique: bool = True, n_probe: int = 6, seed: int = 0) -> LinfResult:
    """``min ||w||_inf s.t. Z w >= 1`` with HiGHS; with ``check_unique`` the optimal face is probed
    with random linear objectives (a spread > 1e-7 relative means: not unique)."""
    Z = np.asarray(Z, dtype=np.float64)
    n, d = Z.shape
    # variables (w, t)
    c = np.zeros(d + 1)
    c[-1] = 1.0
    A_ub = np.block(
        [
            [-Z, np.zeros((n, 1))],
            [np.eye(d), -np.ones((d, 1))],
            [-np.eye(d), -np.ones((d, 1))],
        ]
    )
    b_ub = np.concatenate([-np.ones(n), np.zeros(2 * d)])
    bounds = [(None, None)] * d + [(0, None)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status == 2:
        raise ValueError("the data are not linearly separable (LP infeasible)")
    if res.status != 0:
        raise RuntimeError(f"l-inf LP failed: {res.message}")
    w = res.x[:d]
    t = res.x[-1]
    lam = np.maximum(-res.ineqlin.marginals[:n], 0.0)
    lam = lam / lam.sum()
    unique = spread = None
    if check_unique:
        rng = np.random.default_rng(seed)
        A_face = np.vstack([A_ub, np.concatenate([np.zeros(d), [1.0]])[None, :]])
        b_face = np.concatenate([b_ub, [t * (1 + 1e-12) + 1e-15]])
        pts = []
        for _ in range(n_probe):
            cc = np.concatenate([rng.standard_normal(d), [0.0]])
            r2 = linprog(cc, A_ub=A_face, b_ub=b_face, bounds=bounds, method="highs")
            if r2.status == 0:
                pts.append(r2.x[:d])
        spread = float(max(np.max(np.abs(q - w)) for q in pts) / t) if pts else 0.0
        unique = spread < 1e-7
    gamma = float(np.min(Z @ w) / np.max(np.abs(w)))
    return LinfResult(w=w / np.linalg.norm(w), gamma=gamma, lam=lam, unique=unique, spread=spread)


# --------------------------------------------------------------------------------------------
# Fixed points
# --------------------------------------------------------------------------------------------


@dataclass
class FixedPointResult:
    w: np.ndarray  # unit l2 norm
    lam: np.ndarray | None  # duals, normalised to sum 1 (LP duals for kind == "linf")
    p: np.ndarray | None  # preconditioner at lam (None for kind == "linf")
    converged: bool
    iterations: int
    residuals: list = field(default_factory=list)
    kind: str = "fixed_point"  # or "linf" (b = n, cyclic / reshuffle: rho = 1, sign descent)
    kkt: float | None = None


def _zrows(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return y[:, None] * X


def plain_fixed_point(X, y, tol: float = 1e-12, max_iter: int = 10000, damping: float = 1.0) -> FixedPointResult:
    """SPEC's fixed point c* = T(c*), from c = 1/n:
    P(c) = sqrt(sum_i c_i z_i^2), lam(c) = duals of min 1/2 w^T P(c) w s.t. Zw >= 1 (copies of a
    repeated row share their dual equally), T(c) = lam^2 / sum lam^2;
    c <- (1 - damping) c + damping T(c). Returns w ~ P(c)^-1 Z^T lam(c)."""
    Z = _zrows(X, y)
    n = Z.shape[0]
    c = np.full(n, 1.0 / n)
    res_hist = []
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        p = np.sqrt(c @ Z**2)
        lam, _ = qp_duals(Z, p)
        Tc = lam**2 / np.sum(lam**2)
        r = float(np.max(np.abs(Tc - c)))
        res_hist.append(r)
        c = (1 - damping) * c + damping * Tc
        if r < tol:
            converged = True
            break
    p = np.sqrt(c @ Z**2)
    lam, w = qp_duals(Z, p)
    return FixedPointResult(
        w=w / np.linalg.norm(w),
        lam=lam / lam.sum(),
        p=p,
        converged=converged,
        iterations=it,
        residuals=res_hist,
        kkt=kkt_residual(Z, p, lam),
    )


def batch_fixed_point(
    X,
    y,
    batch_size: int,
    order: str,
    tol: float = 1e-12,
    max_iter: int = 20000,
    damping: float = 1.0,
    lam0: np.ndarray | None = None,
    split: np.ndarray | None = None,
) -> FixedPointResult:
    """The batch fixed point: lam <- duals of min 1/2 w^T diag(p(lam)) w s.t. Zw >= 1, with p the
    batch preconditioner of (batch_size, order); lam normalised to sum 1, from uniform weights
    (or ``lam0``); ``damping`` mixes old and new lam. Repeated rows: the dual of a repeated row
    is split as the optimizer does (``split_weights``; ``split`` overrides it, for experiments).
    For b = n with cyclic or reshuffle order (rho = 1: sign descent) the l-inf max-margin
    direction is returned (kind "linf")."""
    Z = _zrows(X, y)
    n = Z.shape[0]
    _check_order(order)
    _check_batch(n, batch_size)
    if batch_size == n and order in ("cyclic", "reshuffle"):
        L = linf_max_margin(Z)
        return FixedPointResult(w=L.w, lam=L.lam, p=None, converged=True, iterations=0, kind="linf")
    split = split_weights(n, batch_size, order) if split is None else np.asarray(split, dtype=float)
    lam = np.full(n, 1.0 / n) if lam0 is None else np.asarray(lam0, float) / np.sum(lam0)
    res_hist = []
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        p = batch_preconditioner(Z, lam, batch_size, order)
        new, _ = qp_duals(Z, p, split=split)
        new = new / new.sum()
        r = float(np.max(np.abs(new - lam)))
        res_hist.append(r)
        lam = (1 - damping) * lam + damping * new
        if r < tol:
            converged = True
            break
    p = batch_preconditioner(Z, lam, batch_size, order)
    lam_f, w = qp_duals(Z, p, split=split)
    return FixedPointResult(
        w=w / np.linalg.norm(w),
        lam=lam_f / lam_f.sum(),
        p=p,
        converged=converged,
        iterations=it,
        residuals=res_hist,
        kkt=kkt_residual(Z, p, lam_f),
    )


# --------------------------------------------------------------------------------------------
# Epoch map (Prop. 2.5), direct double sum, float64 or long double
# --------------------------------------------------------------------------------------------


def abs_dloss(u: np.ndarray, loss: str = "logistic") -> np.ndarray:
    """|l'(u)| to full relative precision, in u's dtype: logistic sigmoid(-u) =
    exp(-u)/(1+exp(-u)) for u > 0 and 1/(1+exp(u)) otherwise; exponential exp(-u)."""
    u = np.asarray(u)
    if loss == "exponential":
        return np.exp(-u)
    if loss != "logistic":
        raise ValueError(f"loss must be 'logistic' or 'exponential', got {loss!r}")
    out = np.empty_like(u)
    pos = u > 0
    e = np.exp(-u[pos])
    out[pos] = e / (1 + e)
    out[~pos] = 1 / (1 + np.exp(u[~pos]))
    return out


def _log_abs_dloss(u: np.ndarray, loss: str) -> np.ndarray:
    """log |l'(u)|: logistic -softplus(u) = -(max(u,0) + log1p(exp(-|u|))); exponential -u."""
    if loss == "exponential":
        return -u
    return -(np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u))))


def _batch_gradients(Z: np.ndarray, w: np.ndarray, batch_size: int, loss: str, rescale: bool) -> np.ndarray:
    """(K, d) mean gradients g_j of the cyclic batches at w (dtype of Z and w). With ``rescale``
    all g_j are divided by the largest |l'(u_i)| (computed in log space): the epoch map is exactly
    invariant to a common positive factor of the gradients, and nothing underflows."""
    u = Z @ w
    if rescale:
        lg = _log_abs_dloss(u, loss)
        s = np.exp(lg - np.max(lg))
    else:
        s = abs_dloss(u, loss)
    G = -s[:, None] * Z
    return np.stack([G[B].sum(axis=0) / Z.dtype.type(len(B)) for B in cyclic_batches(Z.shape[0], batch_size)])


def epoch_map_step(Z, w, beta1, beta2, batch_size, lr, loss: str = "logistic", rescale: bool = False):
    """One epoch of SPEC's Prop. 2.5 map, with all K = ceil(n/b) cyclic batch gradients g_j at the
    epoch's start w:
        w <- w - lr * sum_i [sum_j beta1^((i-j) mod K) g_j] / sqrt(sum_j beta2^((i-j) mod K) g_j^2)
    elementwise; a coordinate with a zero denominator gets no update (from that i). Computed in
    the dtype of the inputs (np.result_type(Z, w)): float64 or np.longdouble."""
    dt = np.result_type(np.asarray(Z), np.asarray(w))
    Z = np.asarray(Z, dtype=dt)
    w = np.asarray(w, dtype=dt)
    G = _batch_gradients(Z, w, batch_size, loss, rescale)
    K = G.shape[0]
    b1 = dt.type(beta1)
    b2 = dt.type(beta2)
    upd = np.zeros_like(w)
    for i in range(K):
        num = np.zeros_like(w)
        den = np.zeros_like(w)
        for j in range(K):
            e = (i - j) % K
            num = num + b1**e * G[j]
            den = den + b2**e * G[j] ** 2
        nz = den > 0
        step = np.zeros_like(w)
        step[nz] = num[nz] / np.sqrt(den[nz])
        upd = upd + step
    return w - dt.type(lr) * upd


def epoch_map_run(
    Z, w0, beta1, beta2, batch_size, lr_schedule, steps: int, loss: str = "logistic", rescale: bool = False
):
    """Iterate ``epoch_map_step`` ``steps`` times; ``lr_schedule`` is a number or a callable t -> lr
    (t = 0, 1, ... the map's step = epoch index)."""
    w = np.asarray(w0)
    for t in range(steps):
        lr = lr_schedule(t) if callable(lr_schedule) else lr_schedule
        w = epoch_map_step(Z, w, beta1, beta2, batch_size, lr, loss=loss, rescale=rescale)
    return w


def epoch_map_direction(Z, mu, beta1, beta2, batch_size) -> np.ndarray:
    """-(epoch-map update) when the per-sample loss derivatives are proportional to mu >= 0
    (g_i = -mu_i z_i): D(mu) = sum_i S1_i / sqrt(S2_i). Homogeneous of degree 0 in mu (mu is
    divided by its maximum first, so no scale of mu underflows)."""
    Z = np.asarray(Z, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    G = -(mu / mu.max())[:, None] * Z
    G = np.stack([G[B].mean(axis=0) for B in cyclic_batches(Z.shape[0], batch_size)])
    K = G.shape[0]
    D = np.zeros(Z.shape[1])
    for i in range(K):
        e = (i - np.arange(K)) % K
        num = (beta1**e) @ G
        den = (beta2**e) @ G**2
        D -= np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    return D


def proxy_direction(Z, mu, batch_size, order) -> np.ndarray:
    """Direction of the beta2 -> 1 "batch proxy" step -E[sum_B g_B] / sqrt(E[sum_B g_B^2]) when the
    per-sample loss derivatives are proportional to mu (g_i = -mu_i z_i), with the moments of
    ``expected_batch_moments`` (mean gradients, 1/|B| weights explicit). Degree 0 in mu."""
    mu = np.asarray(mu, dtype=np.float64)
    A = -(mu / mu.max())[:, None] * np.asarray(Z, dtype=np.float64)
    first, second = expected_batch_moments(A, batch_size, order)
    return np.where(second > 0, -first / np.sqrt(np.where(second > 0, second, 1.0)), 0.0)


def limit_direction(Z, direction_fn: Callable[[np.ndarray], np.ndarray], mu0, support_tol: float = 1e-6):
    """Limit direction of an iteration w <- w + eta_t D(mu(w)) with mu_i(w) ~ |l'(z_i w)|.

    In the limit the loss derivatives concentrate on a support set S with ratios mu, the iterate
    moves along D(mu) and its direction is D(mu)/||D(mu)||; all rows of S have the same margin
    along it (otherwise the ratios could not stay bounded) and the other rows a larger one. Solve
    these |S| - 1 equations in the |S| - 1 free log-ratios of mu (Levenberg-Marquardt), from mu0
    (e.g. |l'(z_i w)| at the end of a long iteration); S = {mu0 > support_tol * max mu0}; rows
    whose weight collapses are dropped and the solve repeated. Identical rows share one weight.
    Returns (unit direction, mu normalised to sum 1, max deviation of the margins on S)."""
    from scipy.optimize import least_squares

    Z = np.asarray(Z, dtype=np.float64)
    n = Z.shape[0]
    mu0 = np.asarray(mu0, dtype=np.float64).copy()
    in_S = mu0 > support_tol * mu0.max()
    dev = float("inf")
    for _ in range(2 * n + 2):
        S = np.flatnonzero(in_S)
        first, inv = duplicate_groups(Z[S])
        x0 = np.log(mu0[S][first])

        def mu_of(x, S=S, inv=inv):
            mu = np.zeros(n)
            mu[S] = np.exp(x - x.max())[inv]
            return mu

        def resid(x, S=S, first=first, mu_of=mu_of):
            D = direction_fn(mu_of(x))
            m = Z[S][first] @ D / np.linalg.norm(D)
            return m[1:] - m[0]

        x = x0 - x0[0]  # the first weight is the unit: |S| - 1 unknowns
        if len(first) > 1:
            sol = least_squares(
                lambda v: resid(np.concatenate([[0.0], v])),
                x[1:],
                xtol=1e-15,
                ftol=1e-15,
                gtol=1e-15,
                method="lm",
                max_nfev=2000 * len(first),
            )
            x = np.concatenate([[0.0], sol.x])
        mu = mu_of(x)
        D = direction_fn(mu)
        D = D / np.linalg.norm(D)
        marg = Z @ D
        dev = float(np.max(np.abs(marg[S] - marg[S].mean())))
        if len(first) > 1 and (mu[S].min() < 1e-8 or dev > 1e-11):  # a weight collapsed (or
            # the equations have no solution on S): the smallest weight is not a support row
            in_S[S[np.argmin(mu[S])]] = False
            mu0 = np.where(in_S, np.maximum(mu, 1e-300), 0.0)
            continue
        out = np.flatnonzero(~in_S)
        if out.size and marg[out].min() < marg[S].min() - 1e-12:  # a missing support row
            k = out[np.argmin(marg[out])]
            in_S[k] = True
            mu0 = np.where(in_S, np.maximum(mu, 1e-300), 0.0)
            mu0[k] = mu[S].min()
            continue
        return D, mu / mu.sum(), dev
    return D, mu / mu.sum(), float("inf")


def epoch_map_limit_polish(Z, w, beta1, beta2, batch_size, support_tol: float = 1e-6, loss="logistic"):
    """Limit direction of the epoch map, polished from an iterate w of a long run of it (see
    ``limit_direction``; mu0 = |l'(z_i w)| computed in log space)."""
    Z = np.asarray(Z, dtype=np.float64)
    lg = _log_abs_dloss(Z @ np.asarray(w, dtype=np.float64), loss)
    mu0 = np.exp(lg - lg.max())
    return limit_direction(Z, lambda mu: epoch_map_direction(Z, mu, beta1, beta2, batch_size), mu0, support_tol)


def proxy_run(Z, w0, batch_size, order, lr_schedule, steps: int, loss: str = "logistic") -> np.ndarray:
    """Iterate the beta2 -> 1 batch proxy w <- w + eta_t proxy_direction(Z, |l'(Zw)|, b, order)
    (one step per epoch; the moments are the exact expectations, so no sampling noise)."""
    Z = np.asarray(Z, dtype=np.float64)
    w = np.asarray(w0, dtype=np.float64).copy()
    for t in range(steps):
        lg = _log_abs_dloss(Z @ w, loss)
        mu = np.exp(lg - lg.max())
        lr = lr_schedule(t) if callable(lr_schedule) else lr_schedule
        w = w + lr * proxy_direction(Z, mu, batch_size, order)
    return w


def proxy_limit(Z, batch_size, order, steps: int = 3000, support_tol: float = 1e-6, loss="logistic"):
    """Limit direction of ``proxy_run`` (from w = 0, lr 0.1/sqrt(t+1)), polished with
    ``limit_direction`` from the iterate after ``steps`` steps."""
    Z = np.asarray(Z, dtype=np.float64)
    w = proxy_run(Z, np.zeros(Z.shape[1]), batch_size, order, lambda t: 0.1 / math.sqrt(t + 1), steps, loss)
    lg = _log_abs_dloss(Z @ w, loss)
    mu0 = np.exp(lg - lg.max())
    return limit_direction(Z, lambda mu: proxy_direction(Z, mu, batch_size, order), mu0, support_tol)
