"""Scaling: time per step against d for every optimizer, double and long double; ensemble speed-up.

    python bench/scaling.py [--quick]

n = 10, separable Gaussian set; batch 1, cyclic order (AdamProxy always uses all n samples per step),
logistic loss, constant lr = 0.1. For each optimizer and d (log-spaced, 2 .. 10^5; long double up to
10^4): warm up, then time ``Run.advance(N, checkpoints=2)`` with N calibrated to ~0.3 s (--quick:
~0.1 s), best of 3. Then for each optimizer an ensemble of 8 runs (d = 100 and d = 10^4) through
``ib.train_many`` with threads = 1 and 2 (checked bit for bit against each other).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import implicit_bias as ib  # noqa: E402

N = 10
LR = 0.1
ENSEMBLE = 8
OPTIMIZERS = {
    "GD": lambda: ib.GD(),
    "SignGD": lambda: ib.SignGD(),
    "Adam": lambda: ib.Adam(),
    "AdamProxy": lambda: ib.AdamProxy(),
    "Signum": lambda: ib.Signum(beta=0.9),
    "AdaGrad": lambda: ib.AdaGrad(),
    "Lion": lambda: ib.Lion(),
}


def dname(dt) -> str:
    return "double" if np.dtype(dt) == np.float64 else "long double"


def measure(X, y, make, dt, target, repeats):
    run = ib.Run(X, y, make(), batch_size=1, order="cyclic", lr=LR, dtype=dt)
    steps = C.calibrate_steps(lambda s: run.advance(s, checkpoints=2), target, start=100)
    run.advance(max(2 * N, steps // 2), checkpoints=2)  # warm-up
    best = np.inf
    for _ in range(repeats):
        best = min(best, C.timed(lambda: run.advance(steps, checkpoints=2)))
    assert np.all(np.isfinite(run.w)), "iterate must stay finite"
    return best / steps * 1e9, steps


def ensemble(X, y, make, ns_step, target, repeats, attempts):
    configs = [dict(optimizer=make(), batch_size=1, order="cyclic", lr=LR * (1 + k / 100)) for k in range(ENSEMBLE)]
    steps = max(2 * N, int(target / ENSEMBLE / (ns_step * 1e-9)))
    a = ib.train_many(X, y, configs, steps=max(2 * N, steps // 10), checkpoints=2, threads=1)
    b = ib.train_many(X, y, configs, steps=max(2 * N, steps // 10), checkpoints=2, threads=2)
    assert all(np.array_equal(p.w[-1], q.w[-1]) for p, q in zip(a, b)), "threads=2 must equal threads=1 bit for bit"
    t1, t2, cores, _ = C.thread_speedup(
        lambda th: ib.train_many(X, y, configs, steps=steps, checkpoints=2, threads=th), repeats, attempts=attempts
    )
    return t1, t2, steps, cores


def main() -> None:
    args = C.parse_args(__doc__.splitlines()[0])
    t_start = time.perf_counter()
    quick = args.quick
    if quick:
        dims = [2, 100, 10_000, 100_000]
        target, ens_dims = 0.1, [100]
    else:
        dims = [2, 5, 20, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000]
        target, ens_dims = 0.3, [100, 10_000]
    repeats = 3
    ld_max = 10_000
    res = {}  # (opt, dtype name, d) -> ns/step
    print(f"load average {C.load_average()}")
    for d in dims:
        X, y = C.gaussian_data(N, d, seed=2, margin=0.05)
        for dt in (np.float64, np.longdouble):
            if np.dtype(dt) == np.longdouble and d > ld_max:
                continue
            for name, make in OPTIMIZERS.items():
                ns, steps = measure(X, y, make, dt, target, repeats)
                res[(name, dname(dt), d)] = ns
                print(
                    f"d={d:>6} {dname(dt):11s} {name:9s} {ns:12.1f} ns/step  {ns / d:8.2f} ns/coord-step  ({steps:,} steps)",
                    flush=True,
                )
    ens = []
    for d in ens_dims:
        X, y = C.gaussian_data(N, d, seed=2, margin=0.05)
        for name, make in OPTIMIZERS.items():
            t1, t2, steps, cores = ensemble(
                X, y, make, res[(name, "double", d)], 5 * target, repeats, 2 if quick else 3
            )
            ens.append((name, d, steps, t1, t2, cores))
            print(
                f"ensemble d={d} {name:9s} 1 thread {t1:.3f} s, 2 threads {t2:.3f} s -> {t1 / t2:.2f}x (cores used {cores:.2f})",
                flush=True,
            )

    names = list(OPTIMIZERS)
    tabs = []
    for dn in ("double", "long double"):
        rows = []
        for d in dims:
            if (names[0], dn, d) not in res:
                continue
            rows.append([f"{d:,}"] + [C.fmt(res[(o, dn, d)]) for o in names])
        tabs.append(
            f"**ns per step, {dn}** (AdamProxy: one step = all n = {N} samples)\n\n" + C.md_table(["d", *names], rows)
        )
    rows = []
    for dn in ("double", "long double"):
        for d in [x for x in dims if x >= 1000 and (names[0], dn, x) in res]:
            rows.append(
                [dn, f"{d:,}"] + [f"{res[(o, dn, d)] / (d * (N if o == 'AdamProxy' else 1)):.2f}" for o in names]
            )
    tabs.append(
        "**ns per coordinate-step at large d** (AdamProxy: per sample-coordinate, i.e. ns/step / (n d))\n\n"
        + C.md_table(["precision", "d", *names], rows)
    )
    erows = [
        [o, f"{d:,}", f"{ENSEMBLE} x {s:,}", f"{t1:.3f}", f"{t2:.3f}", f"{t1 / t2:.2f}x", f"{c:.2f}"]
        for o, d, s, t1, t2, c in ens
    ]
    tabs.append(
        f"**Ensembles**: {ENSEMBLE} runs (lr 0.1 x (1 + k/100)) through `ib.train_many`, double, threads 1 vs 2 "
        f"(interleaved, best of {repeats}; results equal bit for bit). 'cores used' = CPU time / wall time of the best "
        f"2-thread call (~1 means another job held the second core; below 1.7 the measurement is repeated after a 10 s pause, "
        f"up to {2 if quick else 3} attempts)\n\n"
        + C.md_table(
            ["optimizer", "d", "runs x steps", "1 thread [s]", "2 threads [s]", "speed-up", "cores used"], erows
        )
    )
    fig = plot(res, dims, names, ens)
    C.save_fig(fig, "scaling.png")
    C.dump_json(
        "scaling",
        [dict(opt=k[0], dtype=k[1], d=k[2], ns_step=v) for k, v in res.items()]
        + [dict(ensemble=True, opt=o, d=d, steps=s, t1=t1, t2=t2, cores=c) for o, d, s, t1, t2, c in ens],
    )
    body = f"""
n = {N}, batch 1, cyclic, logistic, constant lr = {LR}; default hyper-parameters (Adam: beta1 0.9, beta2 0.999, eps 0,
no bias correction; Signum beta 0.9; Lion 0.9 / 0.99; AdaGrad eps 0). Steady state (warmed up), best of {repeats},
~{target:g} s per timing; single thread.

{chr(10).join(t + chr(10) for t in tabs)}
![scaling](results/scaling.png)
"""
    C.finish("scaling", "Scaling with d", body, args, t_start)


def plot(res, dims, names, ens):
    plt = C.plt()
    fig, ax = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw=dict(width_ratios=[1.6, 1]))
    for i, o in enumerate(names):
        for dn, ls in (("double", "-"), ("long double", "--")):
            pts = [(d, res[(o, dn, d)]) for d in dims if (o, dn, d) in res]
            if pts:
                ax[0].loglog(*zip(*pts), ls, color=f"C{i}", marker="o", ms=3, label=f"{o}" if dn == "double" else None)
    ax[0].plot([], [], "k-", label="double")
    ax[0].plot([], [], "k--", label="long double")
    ax[0].set_xlabel("d (n = 10)")
    ax[0].set_ylabel("ns per step")
    ax[0].set_title("Time per step (batch 1, cyclic; best of 3)")
    ax[0].grid(True, which="both", alpha=0.3)
    ax[0].legend(fontsize=8, ncol=2)
    labels = [f"{o}\nd={d}" for o, d, *_ in ens]
    ax[1].bar(range(len(ens)), [t1 / t2 for *_, t1, t2, _c in ens], color=[f"C{names.index(o)}" for o, *_ in ens])
    ax[1].axhline(2.0, color="gray", ls=":", label="ideal 2x")
    ax[1].axhline(1.0, color="k", lw=0.8)
    ax[1].set_xticks(range(len(ens)))
    ax[1].set_xticklabels(labels, fontsize=6, rotation=90)
    ax[1].set_ylabel("speed-up, 2 threads vs 1")
    ax[1].set_title(f"train_many, {ENSEMBLE} runs")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
