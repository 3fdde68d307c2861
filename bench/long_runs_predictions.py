"""Long runs of Adam against the independent predictions of tests/reference_fixedpoint.py.

Not a test. Prints Markdown tables of 1 - cos(final direction, prediction) for

1. Adam (beta1 = 0.9, beta2 = 0.999, eps = 0, lr 0.1/sqrt(t+1)) on ib.datasets.gaussian(n=10,
   d=50, seed=s), s = 0, 1, 2, at b in {2, 5} x {cyclic, reshuffle, replacement} and b = 1
   reshuffle / replacement, against (a) the batch fixed point of that b and order, (b) the b = 1
   fixed point, (c) the l-inf max-margin direction;
2. Inc-Adam (b = 1, cyclic) at beta2 in {0.9, 0.95, 0.99}: against the limit of the epoch map
   (iterated with lr 0.1/sqrt(t+1), then polished by solving its margin equations) and against
   the b = 1 fixed point;
3. extras that test the derivation itself: b not dividing n (exact rho vs the naive (b-1)/(n-1);
   cyclic P with the 1/|B| weights absorbed vs written on the duals), a repeated row in batches
   of different sizes (1/|B| split vs equal split vs de-duplicated data), and a data set with two
   fixed points.

Predictions are "our extension" (SPEC.md, "Beyond the original study"), not the original study's.

    python bench/long_runs_predictions.py [--steps 3e7] [--imap-steps 3e4] [--quick]

1 - cos is computed as ||u - v||^2 / 2 for unit u, v (no cancellation).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import implicit_bias as ib  # noqa: E402 - after the sys.path line
import reference_fixedpoint as R  # noqa: E402


def one_minus_cos(u, v) -> float:
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u = u / np.linalg.norm(u)
    v = v / np.linalg.norm(v)
    return float(0.5 * np.sum((u - v) ** 2))


def fmt(x: float) -> str:
    return f"{x:.1e}"


def adam_run(X, y, beta2, b, order, steps, seed, beta1=0.9):
    tr = ib.train(
        X,
        y,
        ib.Adam(beta1=beta1, beta2=beta2),
        steps=steps,
        batch_size=b,
        order=order,
        lr=ib.schedules.polynomial(eta0=0.1, power=0.5),
        seed=seed,
        checkpoints=40,
    )
    return tr


def at_steps(tr, targets):
    """Directions of the trajectory at the checkpoints nearest (from below) to ``targets``."""
    out = []
    for t in targets:
        k = int(np.searchsorted(tr.steps, t, side="right")) - 1
        out.append((int(tr.steps[k]), np.asarray(tr.w[k], dtype=np.float64)))
    return out


# ----------------------------------------------------------------------------------------------
# a vectorised copy of the reference epoch map (same direct double sum, written with the K x K
# weight matrices beta^((i-j) mod K)); checked against R.epoch_map_step before use
# ----------------------------------------------------------------------------------------------


def make_fast_map(Z, beta1, beta2, b):
    batches = R.cyclic_batches(Z.shape[0], b)
    K = len(batches)
    E = (np.arange(K)[:, None] - np.arange(K)[None, :]) % K
    W1 = beta1**E
    W2 = beta2**E
    M = np.zeros((K, Z.shape[0]))
    for j, B in enumerate(batches):
        M[j, B] = 1.0 / len(B)

    def step(w, lr):
        u = Z @ w
        lg = -(np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u))))
        s = np.exp(lg - lg.max())  # rescaled |l'|: the map is invariant to a common factor
        G = M @ (-s[:, None] * Z)
        num = W1 @ G
        den = W2 @ G**2
        return w - lr * np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0).sum(axis=0)

    return step


def epoch_map_limit(Z, beta1, beta2, b, steps):
    step = make_fast_map(Z, beta1, beta2, b)
    # check against the reference's direct loops, a few steps
    w = np.zeros(Z.shape[1])
    for t in range(5):
        a = step(w, 0.1 / math.sqrt(t + 1))
        r = R.epoch_map_step(Z, w, beta1, beta2, b, 0.1 / math.sqrt(t + 1), rescale=True)
        assert np.max(np.abs(a - r)) <= 1e-13 * np.max(np.abs(r)), "fast map != reference map"
        w = r
    w = np.zeros(Z.shape[1])
    half = None
    for t in range(steps):
        w = step(w, 0.1 / math.sqrt(t + 1))
        if t == steps // 2:
            half = w.copy()
    D, _, dev = R.epoch_map_limit_polish(Z, w, beta1, beta2, b)
    D_half, _, _ = R.epoch_map_limit_polish(Z, half, beta1, beta2, b)
    return {
        "D": D,
        "dev": dev,
        "iterate": w,
        "raw_gap": one_minus_cos(w, D),
        "polish_stability": one_minus_cos(D, D_half),
    }


def fixed_point_custom(Z, pfun, split, tol=1e-12, max_iter=20000):
    """lam-iteration with an arbitrary preconditioner p(lam) (for the 'what if' variants)."""
    n = Z.shape[0]
    lam = np.full(n, 1.0 / n)
    for it in range(max_iter):
        new, w = R.qp_duals(Z, pfun(lam), split=split)
        new = new / new.sum()
        r = np.max(np.abs(new - lam))
        lam = new
        if r < tol:
            break
    _, w = R.qp_duals(Z, pfun(lam), split=split)
    return w / np.linalg.norm(w), r < tol


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=float, default=3e7, help="Adam steps per run (section 1 and 3)")
    ap.add_argument("--inc-steps", type=float, default=1e8, help="Inc-Adam steps per run (section 2)")
    ap.add_argument("--map-steps", type=int, default=100000, help="epoch-map iterations before polishing")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--quick", action="store_true", help="1e6 / 3e6 steps, 2000 map steps, seed 0")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.inc_steps, args.map_steps, args.seeds = 1e6, 3e6, 2000, [0]
    steps, inc_steps = int(args.steps), int(args.inc_steps)
    T0 = time.time()
    print("# Long runs vs. the independent predictions (tests/reference_fixedpoint.py)\n")
    print(
        "Adam beta1 = 0.9, eps = 0, no bias correction, lr = 0.1/sqrt(t+1), logistic loss, w0 = 0; "
        "ib.datasets.gaussian(n=10, d=50, seed=s), sampler seed = s. Predictions are our extension "
        "(SPEC 'Beyond the original study').\n"
    )

    # -------------------------------------------------------------------- section 1
    configs = [(1, "reshuffle"), (1, "replacement")] + [(b, o) for b in (2, 5) for o in R.ORDERS]
    print(f"## 1. Mini-batch / shuffled Adam (beta2 = 0.999), {steps:.0e} steps\n")
    print(
        "(a) = batch fixed point of that b and order; (b) = b = 1 fixed point; (c) = l-inf max-margin. "
        "'(a) at t/10' = 1 - cos to (a) at the checkpoint nearest steps/10 (shows the trend). "
        "'(a) vs (b)' = distance between the two predictions.\n"
    )
    print(
        "| seed | b | order | rho | (a) batch FP | (a) at t/10 | (b) b=1 FP | (c) l-inf | (a) vs (b) | nearest | run s |"
    )
    print("| ---: | ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- | ---: |")
    data = {}
    for s in args.seeds:
        X, y = ib.datasets.gaussian(n=10, d=50, seed=s)
        Z = y[:, None] * X
        plain = R.plain_fixed_point(X, y)
        linf = R.linf_max_margin(Z)
        data[s] = (X, y, Z, plain, linf)
        assert plain.converged
        for b, o in configs:
            fp = R.batch_fixed_point(X, y, b, o)
            t = time.time()
            tr = adam_run(X, y, 0.999, b, o, steps, s)
            dt = time.time() - t
            (_, w10), (_, wf) = at_steps(tr, [steps // 10, steps])
            ga, gb, gc = one_minus_cos(wf, fp.w), one_minus_cos(wf, plain.w), one_minus_cos(wf, linf.w)
            nearest = min((ga, "(a)"), (gb, "(b)"), (gc, "(c)"))[1]
            if b == 1:
                nearest = "(a)=(b)" if ga < gc else "(c)"  # b = 1: (a) is (b)
            rr = R.rho(10, b, o)
            print(
                f"| {s} | {b} | {o} | {'-' if rr is None else f'{rr:.4f}'} | {fmt(ga)} | {fmt(one_minus_cos(w10, fp.w))} "
                f"| {fmt(gb)} | {fmt(gc)} | {fmt(one_minus_cos(fp.w, plain.w))} | {nearest} | {dt:.1f} |"
                + ("" if fp.converged else " (FP not converged)"),
                flush=True,
            )
    print(
        "\nl-inf maximiser unique (LP face probe): "
        + ", ".join(f"seed {s}: {data[s][4].unique} (spread {data[s][4].spread:.0e})" for s in args.seeds)
        + "\n"
    )

    # -------------------------------------------------------------------- section 2
    print(f"## 2. Inc-Adam (b = 1, cyclic) at finite beta2, {inc_steps:.0e} steps, vs. the epoch map\n")
    print(
        f"Epoch map (SPEC Prop. 2.5, beta1 = 0.9) iterated {args.map_steps} times from w = 0 with lr 0.1/sqrt(t+1), "
        f"then polished (margin equations of its limit solved by Levenberg-Marquardt). 'map raw' = 1 - cos of the "
        f"raw iterate to the polished limit; 'polish stab.' = polished limit from the iterate at half the "
        f"iterations vs at the end.\n"
    )
    print(
        "| seed | beta2 | run vs map limit | run vs map at t/10 | run vs b=1 FP | map limit vs FP | map raw | polish stab. | run s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in args.seeds:
        X, y, Z, plain, linf = data[s]
        for beta2 in (0.9, 0.95, 0.99):
            em = epoch_map_limit(Z, 0.9, beta2, 1, args.map_steps)
            t = time.time()
            tr = adam_run(X, y, beta2, 1, "cyclic", inc_steps, s)
            dt = time.time() - t
            (_, w10), (_, wf) = at_steps(tr, [inc_steps // 10, inc_steps])
            print(
                f"| {s} | {beta2} | {fmt(one_minus_cos(wf, em['D']))} | {fmt(one_minus_cos(w10, em['D']))} "
                f"| {fmt(one_minus_cos(wf, plain.w))} | {fmt(one_minus_cos(em['D'], plain.w))} | {fmt(em['raw_gap'])} "
                f"| {fmt(em['polish_stability'])} | {dt:.1f} |"
                + ("" if em["dev"] < 1e-10 else f" (polish dev {em['dev']:.0e})"),
                flush=True,
            )
    print()

    # -------------------------------------------------------------------- section 3
    print(f"## 3. Checks of the derivation, {steps:.0e} steps, beta2 = 0.999\n")
    s = args.seeds[0]
    X, y, Z, plain, linf = data[s]
    n = 10
    print(f"### 3a. b does not divide n = 10 (seed {s})\n")
    print(
        "'exact' = the reference's prediction; 'naive rho' = reshuffle with rho = (b-1)/(n-1); "
        "'1/|B|^2 on lam' = cyclic with p_k^2 = sum_B |B|^-2 (sum_B lam_i z_ik)^2 (1/|B| weights "
        "wrongly applied to the duals).\n"
    )
    print(
        "| b | order | rho exact | run vs exact | run vs alternative | alternative | exact vs alternative | exact vs b=1 FP |"
    )
    print("| ---: | :--- | ---: | ---: | ---: | :--- | ---: | ---: |")
    for b in (3, 4, 9):
        for o in ("cyclic", "reshuffle"):
            fp = R.batch_fixed_point(X, y, b, o)
            if o == "reshuffle":
                rn = (b - 1) / (n - 1)
                pf = lambda lam, rn=rn: np.sqrt((1 - rn) * (lam**2 @ Z**2) + rn * (lam @ Z) ** 2)
                alt, ok = fixed_point_custom(Z, pf, np.ones(n))
                alt_name = f"naive rho {rn:.4f}"
            else:
                batches = R.cyclic_batches(n, b)
                pf = lambda lam, batches=batches: np.sqrt(sum((lam[B] @ Z[B]) ** 2 / len(B) ** 2 for B in batches))
                alt, ok = fixed_point_custom(Z, pf, R.split_weights(n, b, o))
                alt_name = "1/|B|^2 on lam"
            tr = adam_run(X, y, 0.999, b, o, steps, s)
            wf = np.asarray(tr.final_w, dtype=np.float64)
            rr = R.rho(n, b, o)
            print(
                f"| {b} | {o} | {'-' if rr is None else f'{rr:.4f}'} | {fmt(one_minus_cos(wf, fp.w))} | {fmt(one_minus_cos(wf, alt))} "
                f"| {alt_name} | {fmt(one_minus_cos(fp.w, alt))} | {fmt(one_minus_cos(fp.w, plain.w))} |"
                + ("" if ok and fp.converged else " (a fixed point did not converge)"),
                flush=True,
            )
    print()

    print(f"### 3b. A repeated row (seed {s}, row 9 := row 0, b = 3: copies in batches of sizes 3 and 1)\n")
    Xd, yd = X.copy(), y.copy()
    Xd[9], yd[9] = X[0], y[0]
    print(
        "Reference split: cyclic lam_i proportional to 1/|B(i)| among copies, equal for reshuffle (so there "
        "the two split columns coincide) and for b = 1.\n"
    )
    print(
        "| b | order | run vs reference split | run vs equal split | run vs de-duplicated data | lam[9]/lam[0] (reference) |"
    )
    print("| ---: | :--- | ---: | ---: | ---: | ---: |")
    for b, o in ((3, "cyclic"), (3, "reshuffle"), (1, "cyclic")):
        fp = R.batch_fixed_point(Xd, yd, b, o)
        eq = R.batch_fixed_point(Xd, yd, b, o, split=np.ones(n))
        dd = R.batch_fixed_point(Xd[:9], yd[:9], b, o)
        tr = adam_run(Xd, yd, 0.999, b, o, steps, s)
        wf = np.asarray(tr.final_w, dtype=np.float64)
        print(
            f"| {b} | {o} | {fmt(one_minus_cos(wf, fp.w))} | {fmt(one_minus_cos(wf, eq.w))} | {fmt(one_minus_cos(wf, dd.w))} "
            f"| {fp.lam[9] / fp.lam[0]:.4f} |",
            flush=True,
        )
    print()

    print(
        "### 3c. Two fixed points (5 x 8 set, rows N(0, I) from default_rng(4), row 4 := row 0, y = +1, cyclic b = 2)\n"
    )
    rng = np.random.default_rng(4)
    Z5 = rng.standard_normal((5, 8))
    Z5[4] = Z5[0]
    y5 = np.ones(5)
    fp_it = R.batch_fixed_point(Z5, y5, 2, "cyclic")
    _, mu_dyn, _ = R.proxy_limit(Z5, 2, "cyclic", steps=3000)
    fp_dyn = R.batch_fixed_point(Z5, y5, 2, "cyclic", lam0=mu_dyn / R.row_batch_sizes(5, 2))
    print(
        "'FP from uniform' = the lambda-iteration from uniform weights (and from 8 random starts: same); "
        "'FP of the proxy' = the limit of the beta2 -> 1 batch proxy from w = 0 (also a fixed point).\n"
    )
    print(
        f"FP from uniform vs FP of the proxy: {fmt(one_minus_cos(fp_it.w, fp_dyn.w))} "
        f"(both converged: {fp_it.converged}, {fp_dyn.converged})\n"
    )
    print("| optimizer | steps | run vs FP from uniform | run vs FP of the proxy |")
    print("| :--- | ---: | ---: | ---: |")
    for name, opt in (
        ("Adam beta2=0.999", ib.Adam(beta1=0.9, beta2=0.999)),
        ("Adam beta2=0.9999", ib.Adam(beta1=0.9, beta2=0.9999)),
    ):
        tr = ib.train(
            Z5,
            y5,
            opt,
            steps=steps,
            batch_size=2,
            order="cyclic",
            lr=ib.schedules.polynomial(eta0=0.1, power=0.5),
            seed=0,
            checkpoints=20,
        )
        wf = np.asarray(tr.final_w, dtype=np.float64)
        print(
            f"| {name} | {steps:.0e} | {fmt(one_minus_cos(wf, fp_it.w))} | {fmt(one_minus_cos(wf, fp_dyn.w))} |",
            flush=True,
        )
    print(f"\nTotal wall time: {time.time() - T0:.0f} s")


if __name__ == "__main__":
    main()
