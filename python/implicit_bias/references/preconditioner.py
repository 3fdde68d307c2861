"""The beta2 -> 1 preconditioner of Adam for every batch size and sampling order (one home of P and T).

Our extension of the original study (see docs/math.md and docs/predictions_derivation.md): late in training the per-sample
gradients are ``g_i ~ -mu_i z_i``; a batch B contributes its mean ``g_B = (1/|B|) sum_{i in B} g_i``,
and as beta2 -> 1 the second moment averages ``g_B^2`` over many epochs, so the epoch update is
``P^-1 sum_B g_B`` with ``P_k = sqrt(E[sum_B g_B[k]^2])``. In terms of the dual weights ``lambda``
(the multipliers of ``min 1/2 w^T P w s.t. Zw >= 1``, so ``w ~ P^-1 Z^T lambda``):

* cyclic (the fixed partition, last batch smaller when b does not divide n): the 1/|B| factors are
  absorbed into ``lambda_i = mu_i / |B(i)|``, and ``P_k^2 = sum_B (sum_{i in B} lambda_i z_ik)^2``
  exactly, whatever the batch sizes;
* reshuffle / replacement: the expectation over random batches is
  ``P_k^2 = (1 - rho) sum_i lambda_i^2 z_ik^2 + rho (sum_i lambda_i z_ik)^2`` with :func:`rho`.

The iteration runs on ``c = lambda^2 / sum lambda^2`` (the simplex of the original fixed point), so
``lambda = sqrt(c)`` up to a factor that P's degree-1 homogeneity removes; b = 1 gives
``p(c) = sqrt(sum_i c_i z_i^2)`` for all three orders, the original fixed point to the last bit.
b = n with cyclic / reshuffle order gives ``P = |Z^T lambda|``: sign descent, the l-inf direction.

Identical rows are treated alike, as the optimizers do: after every dual solve the multipliers of a
group of identical rows are re-split (equally, or in cyclic order in proportion to 1/|B(i)|, which
gives every copy the same mu), since the dual QP alone cannot tell the copies apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import ORDERS, check_choice, check_int

__all__ = ["BatchStructure", "rho", "duplicate_groups"]


def rho(n: int, batch_size: int, order: str) -> float:
    """Weight of the cross term ``(sum_i lambda_i z_ik)^2`` in the randomized-order preconditioner.

    * replacement (b i.i.d. uniform indices per step): ``(b - 1) / (n + b - 1)``;
    * reshuffle (a fresh permutation cut into K - 1 batches of b and one of r = n mod b, mean
      gradients): ``[(n-r)(b-1)/b^2 + (r-1)/r] / [(n-1)((n-r)/b^2 + 1/r)]``, which is
      ``(b - 1) / (n - 1)`` when r = 0 (the small-batch terms drop out).

    Args:
        n: the number of samples (int >= 1).
        batch_size: the batch size b, in [1, n].
        order: ``"reshuffle"`` or ``"replacement"``.

    Returns:
        rho, a float in [0, 1] (0 when n = 1 or b = 1; 1 for reshuffle with b = n).

    Raises:
        TypeError: when ``n`` or ``batch_size`` is not an integer.
        ValueError: when ``n`` < 1, ``batch_size`` is outside [1, n], or ``order`` is another name.
    """
    n = check_int("n", n, 1)
    b = check_int("batch_size", batch_size, 1, n)
    check_choice("order", order, ("reshuffle", "replacement"))
    if n == 1 or b == 1:
        return 0.0
    if order == "replacement":
        return (b - 1) / (n + b - 1)
    r = n % b
    if r == 0:
        return (b - 1) / (n - 1)
    same = (n - r) * (b - 1) / b**2 + (r - 1) / r  # n (n-1) E[1{same batch} / |B|^2]
    alone = (n - r) / b**2 + 1 / r  # n E[1 / |B(i)|^2]
    return same / ((n - 1) * alone)


def duplicate_groups(Z: np.ndarray) -> list[np.ndarray]:
    """Index arrays of the groups of identical rows of Z (only groups with 2 or more rows)."""
    _, inverse, counts = np.unique(Z, axis=0, return_inverse=True, return_counts=True)
    inverse = np.asarray(inverse).ravel()
    return [np.flatnonzero(inverse == g) for g in np.flatnonzero(counts > 1)]


@dataclass(frozen=True)
class BatchStructure:
    """How an optimizer's batches enter its beta2 -> 1 preconditioner: ``n`` samples, batch size
    ``batch_size``, ``order``. See the module docstring for the formulas."""

    n: int
    batch_size: int
    order: str
    batches: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int("batch_size", self.batch_size, 1, self.n)
        check_choice("order", self.order, ORDERS)
        starts = range(0, self.n, self.batch_size)
        object.__setattr__(self, "batches", tuple(np.arange(s, min(s + self.batch_size, self.n)) for s in starts))

    @property
    def per_sample(self) -> bool:
        """b = 1: the original fixed point, whatever the order."""
        return self.batch_size == 1

    @property
    def sign_descent(self) -> bool:
        """b = n without replacement: every step sees the full gradient, P = |Z^T lambda|."""
        return self.batch_size == self.n and self.order != "replacement" and self.n > 1

    @property
    def cross_weight(self) -> float | None:
        """rho for the random orders, None for cyclic."""
        return None if self.order == "cyclic" else rho(self.n, self.batch_size, self.order)

    def p(self, Z: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Diagonal of P(c), shape (d,), for weights c (n,) on the simplex and rows Z (n, d)."""
        if self.per_sample:
            return np.sqrt(c @ (Z * Z))
        lam = np.sqrt(c)
        if self.order == "cyclic":
            S = np.stack([lam[B] @ Z[B] for B in self.batches])  # (K, d) batch sums of lambda_i z_i
            return np.sqrt(np.sum(S * S, axis=0))
        r = self.cross_weight
        cross = lam @ Z
        return np.sqrt((1.0 - r) * (c @ (Z * Z)) + r * cross * cross)

    def split_weights(self) -> np.ndarray:
        """Relative dual weight of each row within a group of identical rows, shape (n,)."""
        if self.order != "cyclic":
            return np.ones(self.n)
        weights = np.empty(self.n)
        for B in self.batches:
            weights[B] = 1.0 / B.size
        return weights

    def resplit(self, lam: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
        """Multipliers with every group of identical rows split as the optimizer splits it."""
        if not groups:
            return lam
        out = lam.copy()
        weights = self.split_weights()
        for g in groups:
            out[g] = lam[g].sum() * weights[g] / weights[g].sum()
        return out

    def describe(self) -> str:
        if self.per_sample:
            return "b = 1 (per sample)"
        if self.order == "cyclic":
            sizes = sorted({B.size for B in self.batches}, reverse=True)
            return f"b = {self.batch_size}, cyclic, {len(self.batches)} batches of sizes {sizes}"
        return f"b = {self.batch_size}, {self.order}, rho = {self.cross_weight:.6g}"
