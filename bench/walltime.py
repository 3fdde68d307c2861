"""Wall times of two whole tasks: the batch fixed point at n = 1000, d = 2000, and `reproduce --quick`.

    python bench/walltime.py [--quick]

* Fixed point: `ib.references.fixed_point(X, y)` on a separable Gaussian set (n = 1000, d = 2000, teacher
  labels, seed 1) in the default environment (no thread variables set: the dual QP limits BLAS to one
  thread itself, threadpoolctl); best of 3 (--quick: 1) after one untimed warm-up solve at n = 50.
* `implicit-bias reproduce --quick --out <fresh temporary folder>` as a subprocess (a fresh store: nothing
  is reused), best of 2 (--quick: 1).
Goals (issue 10): fixed point <= 3 s, reproduce --quick <= 8 s.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import implicit_bias as ib  # noqa: E402

GOAL_FIXED_POINT_S = 3.0
GOAL_REPRODUCE_S = 8.0


def cli() -> list[str]:
    exe = shutil.which("implicit-bias")
    return [exe] if exe else [sys.executable, "-m", "implicit_bias.cli"]


def main() -> None:
    args = C.parse_args(__doc__.splitlines()[0])
    t_start = time.perf_counter()
    print(f"walltime: load average {C.load_average()}")
    Xs, ys = C.gaussian_data(50, 100, seed=1, margin=0.05)
    ib.references.fixed_point(Xs, ys)  # imports and first-call costs
    X, y = C.gaussian_data(1000, 2000, seed=1)
    fp, fp_cpu = [], []
    for _ in range(1 if args.quick else 3):
        wall, cpu = C.timed_both(lambda: ib.references.fixed_point(X, y))
        fp.append(wall)
        fp_cpu.append(cpu)
        print(f"fixed point n = 1000, d = 2000: {wall:.2f} s, CPU {cpu:.2f} s (load {C.load_average()})", flush=True)
    rep, rep_cpu = [], []
    for _ in range(1 if args.quick else 2):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = cli() + ["reproduce", "--quick", "--out", os.path.join(tmp, "out")]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            rep.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            rep_cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        print(f"reproduce --quick: {rep[-1]:.1f} s, CPU {rep_cpu[-1]:.1f} s (load {C.load_average()})", flush=True)
    goals = [
        [
            "fixed point n = 1000, d = 2000 (default environment)",
            f"<= {GOAL_FIXED_POINT_S:g} s",
            f"{min(fp):.2f} s wall, {min(fp_cpu):.2f} s CPU (load {C.load_average().split()[0]})",
            min(fp) <= GOAL_FIXED_POINT_S,
        ],
        [
            "`implicit-bias reproduce --quick` wall time",
            f"<= {GOAL_REPRODUCE_S:g} s",
            f"{min(rep):.1f} s wall, {min(rep_cpu):.1f} s CPU (load {C.load_average().split()[0]})",
            min(rep) <= GOAL_REPRODUCE_S,
        ],
    ]
    tab = C.md_table(
        ["task", "wall [s]", "best wall [s]", "CPU [s] (all threads)", "goal (wall)", "status"],
        [
            ["fixed point, n = 1000, d = 2000", ", ".join(f"{t:.2f}" for t in fp), f"{min(fp):.2f}",
             ", ".join(f"{t:.2f}" for t in fp_cpu), goals[0][1], C.goal_mark(goals[0][3])],
            ["`reproduce --quick`", ", ".join(f"{t:.1f}" for t in rep), f"{min(rep):.1f}",
             ", ".join(f"{t:.1f}" for t in rep_cpu), goals[1][1], C.goal_mark(goals[1][3])],
        ],
        "lrrrrl",
    )  # fmt: skip
    body = f"""
{__doc__.split(chr(10), 4)[4].strip()}

{tab}
"""
    C.dump_json(
        "walltime",
        dict(fixed_point_s=fp, fixed_point_cpu_s=fp_cpu, reproduce_s=rep, reproduce_cpu_s=rep_cpu, goals=goals),
    )
    C.finish("walltime", "Wall times", body, args, t_start)


if __name__ == "__main__":
    main()
