"""Independent, step-by-step NumPy reference for the optimizers of SPEC.md.

This module deliberately does NOT import ``implicit_bias``: it is a second, plain
implementation of the math contract, used by the tests to check the compiled engine.

Everything is written for clarity, not speed: one Python loop iteration per optimizer
step, vectorized over the d coordinates. All floating-point arithmetic is done in the
run dtype (``np.float64`` or ``np.longdouble``), including the learning rate, the betas
and the sigmoid.

Conventions (the contract):

* ``z_i = y_i x_i``, margins ``u_i = <z_i, w>``.
* logistic ``l(u) = log(1 + exp(-u))``, ``|l'(u)| = sigmoid(-u)`` computed stably;
  exponential ``l(u) = exp(-u)``, ``|l'(u)| = exp(-u)``.
* per-sample gradient ``g_i = -|l'(u_i)| z_i``; batch gradient = mean over the batch.
* step counter ``t = 0, 1, 2, ...`` is the index of the step being taken.
* RNG: xoshiro256** seeded by four splitmix64 outputs; Lemire's bounded draws.
* orders: ``cyclic``, ``reshuffle`` (Fisher-Yates at the start of every epoch, from
  ``arange(n)``), ``replacement`` (b independent bounded(n) draws per step).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MASK64",
    "splitmix64_state",
    "Xoshiro256StarStar",
    "BatchSampler",
    "abs_dloss",
    "loss_values",
    "log_mean_loss",
    "Constant",
    "Polynomial",
    "StepDecay",
    "GD",
    "SignGD",
    "Adam",
    "RMSProp",
    "AdaGrad",
    "Signum",
    "Lion",
    "AdamProxy",
    "run",
    "RunResult",
    "trajectory_metrics",
]

MASK64 = (1 << 64) - 1

# --------------------------------------------------------------------------------------
# RNG: xoshiro256** with splitmix64 seeding, Lemire's bounded integers (Python ints).
# --------------------------------------------------------------------------------------


def splitmix64_state(seed: int) -> list[int]:
    """The four 64-bit words of the xoshiro256** state derived from ``seed``."""
    if not (0 <= int(seed) <= MASK64):
        raise ValueError("seed must be in [0, 2**64)")
    x = int(seed)
    state = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z = z ^ (z >> 31)
        state.append(z)
    return state


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro256StarStar:
    """xoshiro256** 1.0 (Blackman & Vigna), state as four Python ints."""

    def __init__(self, seed: int = 0):
        self.s = splitmix64_state(seed)

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & MASK64, 7) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def bounded(self, k: int) -> int:
        """Uniform integer in [0, k) by Lemire's nearly-divisionless method."""
        k = int(k)
        if k < 1:
            raise ValueError("bounded(k) needs k >= 1")
        m = self.next() * k
        low = m & MASK64
        if low < k:
            thr = ((1 << 64) - k) % k
            while low < thr:
                m = self.next() * k
                low = m & MASK64
        return m >> 64


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------


class BatchSampler:
    """Yields the index arrays of successive batches for the three orders."""

    ORDERS = ("cyclic", "reshuffle", "replacement")

    def __init__(self, n: int, batch_size: int, order: str, rng: Xoshiro256StarStar):
        if order not in self.ORDERS:
            raise ValueError(f"order: unknown {order!r}")
        if not (1 <= batch_size <= n):
            raise ValueError("batch_size must be in [1, n]")
        self.n = n
        self.b = batch_size
        self.order = order
        self.rng = rng
        self.batches_per_epoch = -(-n // batch_size)  # ceil(n / b)
        self.k = 0  # index of the next batch inside the current epoch
        self.perm = np.arange(n)

    def _new_epoch(self) -> None:
        perm = list(range(self.n))
        if self.order == "reshuffle":
            for i in range(self.n - 1, 0, -1):
                j = self.rng.bounded(i + 1)
                perm[i], perm[j] = perm[j], perm[i]
        self.perm = np.array(perm, dtype=np.intp)

    def next_batch(self) -> np.ndarray:
        if self.order == "replacement":
            return np.array([self.rng.bounded(self.n) for _ in range(self.b)], dtype=np.intp)
        if self.k == 0:
            self._new_epoch()
        start = self.k * self.b
        stop = min(start + self.b, self.n)
        batch = self.perm[start:stop]
        self.k += 1
        if self.k == self.batches_per_epoch:
            self.k = 0
        return batch


# --------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------


def _sigmoid_neg(u: np.ndarray) -> np.ndarray:
    """sigmoid(-u) = 1/(1+exp(u)), stable: u>=0: e/(1+e) with e=exp(-u); u<0: 1/(1+exp(u))."""
    e = np.exp(-np.abs(u))  # = exp(-u) for u >= 0, exp(u) for u < 0; never overflows
    one = u.dtype.type(1)
    return np.where(u >= 0, e, one) / (one + e)


def abs_dloss(u: np.ndarray, loss: str) -> np.ndarray:
    """|l'(u)| elementwise, in u's dtype."""
    u = np.asarray(u)
    if loss == "logistic":
        return _sigmoid_neg(u)
    if loss == "exponential":
        return np.exp(-u)
    raise ValueError(f"loss: unknown {loss!r}")


def _log_loss_values(u: np.ndarray, loss: str) -> np.ndarray:
    """log l(u_i), never rounded to -inf for large margins."""
    u = np.asarray(u)
    if loss == "exponential":
        return -u
    if loss != "logistic":
        raise ValueError(f"loss: unknown {loss!r}")
    dt = u.dtype.type
    # l(u) = log1p(exp(-u)) = logaddexp(0, -u). For large u, l(u) = e - e^2/2 + ... with
    # e = exp(-u), so log l(u) = -u + log1p(-e/2 + e^2/3 - ...) ~= -u - e/2.
    big = u > dt(40)
    e_big = np.exp(-np.where(big, u, dt(40)))
    out_big = -u + np.log1p(-e_big / dt(2) + e_big * e_big / dt(3))
    small = np.logaddexp(dt(0), -np.where(big, dt(0), u))
    with np.errstate(divide="ignore"):
        out_small = np.log(small)
    return np.where(big, out_big, out_small)


def loss_values(u: np.ndarray, loss: str) -> np.ndarray:
    u = np.asarray(u)
    if loss == "logistic":
        return np.logaddexp(u.dtype.type(0), -u)
    if loss == "exponential":
        return np.exp(-u)
    raise ValueError(f"loss: unknown {loss!r}")


def log_mean_loss(w: np.ndarray, Z: np.ndarray, loss: str) -> np.floating:
    """log( (1/n) sum_i l(<z_i, w>) ) computed in log space (logsumexp of log l)."""
    u = Z @ w
    a = _log_loss_values(u, loss)
    amax = np.max(a)
    n = u.dtype.type(len(u))
    return amax + np.log(np.sum(np.exp(a - amax))) - np.log(n)


def trajectory_metrics(w: np.ndarray, Z: np.ndarray, loss: str) -> dict:
    """norm, log_loss, margin_l2, margin_linf, min_margin of one iterate, in w's dtype."""
    u = Z @ w
    mn = np.min(u)
    n2 = np.sqrt(np.sum(w * w))
    ninf = np.max(np.abs(w))
    return {
        "norm": n2,
        "log_loss": log_mean_loss(w, Z, loss),
        "margin_l2": mn / n2,
        "margin_linf": mn / ninf,
        "min_margin": mn,
    }


# --------------------------------------------------------------------------------------
# Learning-rate schedules: eta(t, dtype) with t the index of the step being taken.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    eta0: float

    def __call__(self, t: int, dt) -> np.floating:
        return dt(self.eta0)


@dataclass(frozen=True)
class Polynomial:
    eta0: float
    power: float

    def __call__(self, t: int, dt) -> np.floating:
        return dt(self.eta0) * np.power(dt(t + 1), -dt(self.power))


@dataclass(frozen=True)
class StepDecay:
    eta0: float
    factor: float
    every: int

    def __call__(self, t: int, dt) -> np.floating:
        return _step_decay(self.eta0, self.factor, t // self.every, dt)


@functools.lru_cache(maxsize=4096)
def _step_decay(eta0, factor, k, dt):
    return dt(eta0) * np.power(dt(factor), dt(k))


# --------------------------------------------------------------------------------------
# Optimizers. step(w, g, eta, t) -> new w. State is created by reset(d, dtype).
# --------------------------------------------------------------------------------------


def _sign(x: np.ndarray) -> np.ndarray:
    return np.sign(x)  # sign(0) = 0


class _Opt:
    full_batch_sum = False  # AdamProxy: ignores batches, uses the SUM of all g_i

    def reset(self, d: int, dt) -> None:
        self.dt = dt


@dataclass
class GD(_Opt):
    def step(self, w, g, eta, t):
        return w - eta * g


@dataclass
class SignGD(_Opt):
    def step(self, w, g, eta, t):
        return w - eta * _sign(g)


@dataclass
class Adam(_Opt):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 0.0
    bias_correction: bool = False

    def reset(self, d, dt):
        self.dt = dt
        self.m = np.zeros(d, dtype=dt)
        self.v = np.zeros(d, dtype=dt)
        self.one, self.zero = dt(1), dt(0)
        self.b1, self.b2, self.eps_ = dt(self.beta1), dt(self.beta2), dt(self.eps)
        self.c1, self.c2 = self.one - self.b1, self.one - self.b2

    def step(self, w, g, eta, t):
        dt, one = self.dt, self.one
        self.m = self.b1 * self.m + self.c1 * g
        self.v = self.b2 * self.v + self.c2 * (g * g)
        if self.bias_correction:
            mhat = self.m / (one - self.b1 ** dt(t + 1))
            vhat = self.v / (one - self.b2 ** dt(t + 1))
        else:
            mhat, vhat = self.m, self.v
        pos = vhat > 0
        upd = np.where(pos, mhat, self.zero) / np.where(pos, np.sqrt(vhat) + self.eps_, one)
        return w - eta * upd


def RMSProp(beta2: float = 0.99, eps: float = 0.0) -> Adam:
    return Adam(beta1=0.0, beta2=beta2, eps=eps, bias_correction=False)


@dataclass
class AdaGrad(_Opt):
    eps: float = 0.0

    def reset(self, d, dt):
        self.dt = dt
        self.v = np.zeros(d, dtype=dt)

    def step(self, w, g, eta, t):
        dt = self.dt
        self.v = self.v + g * g
        pos = self.v > 0
        denom = np.where(pos, np.sqrt(self.v) + dt(self.eps), dt(1))
        upd = np.where(pos, g / denom, dt(0))
        return w - eta * upd


@dataclass
class Signum(_Opt):
    beta: float = 0.9

    def reset(self, d, dt):
        self.dt = dt
        self.m = np.zeros(d, dtype=dt)

    def step(self, w, g, eta, t):
        dt = self.dt
        b = dt(self.beta)
        self.m = b * self.m + (dt(1) - b) * g
        return w - eta * _sign(self.m)


@dataclass
class Lion(_Opt):
    beta1: float = 0.9
    beta2: float = 0.99

    def reset(self, d, dt):
        self.dt = dt
        self.m = np.zeros(d, dtype=dt)

    def step(self, w, g, eta, t):
        dt = self.dt
        one = dt(1)
        b1, b2 = dt(self.beta1), dt(self.beta2)
        c = b1 * self.m + (one - b1) * g
        w = w - eta * _sign(c)
        self.m = b2 * self.m + (one - b2) * g
        return w


@dataclass
class AdamProxy(_Opt):
    full_batch_sum = True

    def step_full(self, w, G, P, eta, t):
        dt = self.dt
        pos = P > 0
        upd = np.where(pos, G / np.where(pos, P, dt(1)), dt(0))
        return w - eta * upd


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


@dataclass
class RunResult:
    w: dict  # step count -> w after that many steps (copy), for every requested step
    final: np.ndarray
    min_abs_grad: np.floating  # smallest |g| coordinate seen, zeros included (run dtype)
    max_abs_margin: float  # largest |u_i| at the recorded iterates and the final one
    batches: list = field(default_factory=list)  # index arrays, if record_batches


def run(
    X,
    y,
    optimizer,
    steps: int,
    batch_size: int | None = None,
    order: str = "cyclic",
    lr: float | Callable = 0.1,
    loss: str = "logistic",
    dtype=np.float64,
    seed: int = 0,
    w0=None,
    record: Iterable[int] = (),
    record_batches: bool = False,
) -> RunResult:
    """Run ``steps`` optimizer steps from ``w0`` and return w at each step count in ``record``.

    ``lr`` is a float (constant) or one of Constant / Polynomial / StepDecay.
    """
    dt = np.dtype(dtype).type
    X = np.asarray(X, dtype=dt)
    y = np.asarray(y, dtype=dt)
    n, d = X.shape
    Z = y[:, None] * X
    b = n if batch_size is None else int(batch_size)
    sched = lr if callable(lr) else Constant(float(lr))
    w = np.zeros(d, dtype=dt) if w0 is None else np.array(w0, dtype=dt).copy()
    optimizer.reset(d, dt)
    rng = Xoshiro256StarStar(seed)
    sampler = BatchSampler(n, b, order, rng)

    wanted = set(int(s) for s in record)
    out = {}
    if 0 in wanted:
        out[0] = w.copy()
    gmin = np.full(d, np.inf, dtype=dt)  # elementwise running min of |gradient|
    batches = []
    full = optimizer.full_batch_sum

    for t in range(steps):
        eta = sched(t, dt)
        if full:
            u = Z @ w
            s = abs_dloss(u, loss)
            gi = s[:, None] * Z  # = -g_i
            G = -np.sum(gi, axis=0)
            P = np.sqrt(np.sum(gi * gi, axis=0))
            w = optimizer.step_full(w, G, P, eta, t)
            g = G
        else:
            idx = sampler.next_batch()
            if record_batches:
                batches.append(idx.copy())
            Zb = Z[idx]
            u = Zb @ w
            s = abs_dloss(u, loss)
            g = -(s @ Zb) / dt(len(idx))
            w = optimizer.step(w, g, eta, t)
        np.minimum(gmin, np.abs(g), out=gmin)
        if t + 1 in wanted:
            out[t + 1] = w.copy()

    min_abs_grad = np.min(gmin) if steps > 0 else dt(np.inf)  # in the run dtype
    max_abs_margin = max(float(np.max(np.abs(Z @ v))) for v in [w, *out.values()])
    return RunResult(w=out, final=w.copy(), min_abs_grad=min_abs_grad, max_abs_margin=max_abs_margin, batches=batches)
