"""Shared helpers of the benchmark scripts: data, timing, Markdown tables, machine description,
and the assembly of bench/README.md from the latest bench/results/*.md.

Not a test module and not part of the package: every script in bench/ imports it by path.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Output directory; IB_BENCH_RESULTS redirects it (e.g. for trial runs that must not replace the published results).
RESULTS = Path(os.environ.get("IB_BENCH_RESULTS", BENCH / "results")).resolve()


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
def gaussian_data(n: int, d: int, seed: int = 0, margin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Separable Gaussian set: rows N(0, I_d), labels sign(<x, w_teacher>) of a seeded random teacher.

    ``margin`` > 0 redraws rows whose distance to the teacher's hyperplane is below ``margin``
    (so the set has l2 margin >= margin w.r.t. the teacher). Rows are in float64.
    """
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal(d)
    teacher /= np.linalg.norm(teacher)
    X = rng.standard_normal((n, d))
    for _ in range(1000):
        bad = np.abs(X @ teacher) < max(margin, 1e-12)
        if not bad.any():
            break
        X[bad] = rng.standard_normal((int(bad.sum()), d))
    y = np.where(X @ teacher > 0, 1.0, -1.0)
    assert np.all(y * (X @ teacher) > 0), "data must be separable"
    return X, y


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------
def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def timed_both(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call. For a single-threaded call, CPU < wall
    means the process was descheduled (the machine is shared); for a 2-thread call, CPU / wall is the
    number of cores it actually got."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def thread_speedup(
    call: Callable[[int], object], repeats: int, attempts: int = 4, min_cores: float = 1.7, pause_s: float = 10.0
) -> tuple[float, float, float, int]:
    """Best wall time of ``call(1)`` and ``call(2)`` (1 and 2 threads), interleaved, best of ``repeats``.

    A 2-thread speed-up is only measurable while both cores are free. If the best 2-thread call got fewer
    than ``min_cores`` cores (CPU time / wall time), wait ``pause_s`` and measure another ``repeats``
    rounds, up to ``attempts`` times (bests are kept across attempts). Returns (t1, t2, cores, attempts).
    """
    best = {1: float("inf"), 2: float("inf")}
    cores = 0.0
    used = 0
    for used in range(1, attempts + 1):
        for _ in range(repeats):
            for th in (1, 2):
                wall, cpu = timed_both(lambda: call(th))
                if wall < best[th]:
                    best[th] = wall
                    if th == 2:
                        cores = cpu / wall
        if cores >= min_cores:
            break
        if used < attempts:
            time.sleep(pause_s)
    return best[1], best[2], cores, used


def calibrate_steps(
    run_steps: Callable[[int], object],
    target_s: float,
    start: int = 1000,
    min_steps: int = 10,
    max_steps: int = 10**10,
    before: Callable[[], object] | None = None,
) -> int:
    """A step count whose run takes about ``target_s`` seconds (grows geometrically from ``start``).

    ``before`` (optional) is called, untimed, before every timed call (e.g. to build fresh state).
    """

    def timed(fn):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    steps = max(min_steps, start)
    timed(lambda: run_steps(steps))  # first call: one-time costs (allocation, JIT, caches) are not calibrated on
    while True:
        el = timed(lambda: run_steps(steps))
        # Grow until a call takes >= 1/3 of the target, so that a fixed per-call cost (e.g. the engine's
        # checkpoint metrics over all n samples) does not dominate the estimate.
        if el >= target_s / 3 or steps >= max_steps:
            break
        steps = min(max_steps, steps * 4 if el < target_s / 40 else steps * 2)
    # A second measurement at the final count guards against one interrupted (slow) sample.
    el = min(el, timed(lambda: run_steps(steps)))
    est = int(steps * target_s / max(el, 1e-9))
    return int(min(max(est, min_steps), max_steps))


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------
def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    rows = [[_cell(c) for c in r] for r in rows]
    align = align or ("l" + "r" * (len(headers) - 1))
    sep = ["---:" if a == "r" else (":---:" if a == "c" else ":---") for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _cell(c: object) -> str:
    if isinstance(c, str):
        return c
    if c is None:
        return "-"
    if isinstance(c, (float, np.floating)):
        return fmt(float(c))
    return str(c)


def fmt(x: float, sig: int = 3) -> str:
    """Compact number formatting: 3 significant digits, scientific outside [1e-3, 1e6)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1e6 or ax < 1e-3:
        return f"{x:.{sig - 1}e}"
    if ax >= 100:
        return f"{x:,.0f}"
    return f"{x:.{sig}g}"


def goal_mark(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**not met**")


def parse_args(description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """--quick and --no-readme, plus the script's own options added by ``extra(parser)``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="short version (~1-3 minutes)")
    p.add_argument("--no-readme", action="store_true", help="do not rebuild bench/README.md")
    if extra is not None:
        extra(p)
    return p.parse_args()


def now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def write_result(name: str, title: str, body: str, quick: bool, elapsed: float, command: str | None = None) -> Path:
    """Write bench/results/<name>.md (dated, with the command and machine load) and print it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    cmd = (command or f"python bench/{name}.py") + (" --quick" if quick else "")
    header = (
        f"### {title}\n\n_{now()} — `{cmd}` ({'quick' if quick else 'full'} version), "
        f"{elapsed:.0f} s wall; load average at the end {load_average()} on {os.cpu_count()} CPUs._\n\n"
    )
    text = header + body.strip() + "\n"
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    print(text)
    return path


def save_fig(fig, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"[plot] {path}")
    return path


def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as _plt

    return _plt


# --------------------------------------------------------------------------------------------
# Machine description
# --------------------------------------------------------------------------------------------
def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - not installed
        return "not installed"


def machine() -> dict[str, str]:
    info: dict[str, str] = {}
    lscpu = _run(["lscpu"])
    m = re.search(r"Model name:\s*(.+)", lscpu)
    info["cpu"] = m.group(1).strip() if m else platform.processor() or "?"
    for key, pat in [
        ("vendor", r"Vendor ID:\s*(.+)"),
        ("family", r"CPU family:\s*(.+)"),
        ("model", r"^Model:\s*(.+)"),
        ("hypervisor", r"Hypervisor vendor:\s*(.+)"),
        ("l2", r"L2 cache:\s*(.+)"),
        ("l3", r"L3 cache:\s*(.+)"),
        ("l1d", r"L1d cache:\s*(.+)"),
    ]:
        mm = re.search(pat, lscpu, re.M)
        if mm:
            info[key] = mm.group(1).strip()
    info["cpus"] = str(os.cpu_count())
    mhz = re.findall(
        r"cpu MHz\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    )
    info["ghz"] = f"{float(mhz[0]) / 1000:.2f}" if mhz else "?"
    flags = re.search(r"Flags:\s*(.+)", lscpu)
    fl = set(flags.group(1).split()) if flags else set()
    info["simd"] = ", ".join(f for f in ("avx512f", "avx2", "fma") if f in fl) or "?"
    osr = Path("/etc/os-release")
    pretty = re.search(r'PRETTY_NAME="([^"]+)"', osr.read_text()) if osr.exists() else None
    info["os"] = f"{pretty.group(1) if pretty else platform.system()}, Linux {platform.release()}"
    cache = sorted(ROOT.glob("build/*/CMakeCache.txt"))
    cxx, flags_s = "?", ""
    if cache:
        txt = cache[0].read_text(errors="replace")
        mm = re.search(r"CMAKE_CXX_COMPILER:FILEPATH=(.+)", txt)
        if mm:
            cxx = (_run([mm.group(1).strip(), "--version"]).splitlines() or [mm.group(1)])[0]
        native = re.search(r"IMPLICIT_BIAS_NATIVE:BOOL=(\w+)", txt)
        omp = re.search(r"IMPLICIT_BIAS_OPENMP:BOOL=(\w+)", txt)
        flags_s = (
            f"-O3 -fno-math-errno -fno-trapping-math"
            f"{' -march=native' if native and native.group(1) == 'ON' else ''}"
            f"{', OpenMP' if omp and omp.group(1) == 'ON' else ''}"
        )
    info["compiler"] = f"{cxx} ({flags_s})" if flags_s else cxx
    info["python"] = platform.python_version()
    for mod in ("numpy", "scipy", "torch", "jax", "jaxlib", "numba", "matplotlib"):
        info[mod] = _version(mod)
    try:
        import implicit_bias as ib

        info["implicit_bias"] = f"{ib.__version__} (OpenMP: {ib._core.openmp})"
    except Exception:  # noqa: BLE001
        info["implicit_bias"] = "?"
    head = _run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip()
    info["commit"] = head or "?"
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    return info


def machine_markdown(info: dict[str, str] | None = None) -> str:
    i = info or machine()
    cpu = i["cpu"]
    extra = ", ".join(
        x
        for x in (
            i.get("vendor"),
            f"family {i.get('family')} model {i.get('model')}" if i.get("family") else None,
            f"{i['hypervisor']} VM" if i.get("hypervisor") else None,
        )
        if x
    )
    return "\n".join(
        [
            f"* CPU: {cpu} ({extra}), {i['cpus']} cores, {i['ghz']} GHz (nominal, /proc/cpuinfo), SIMD: {i['simd']}; "
            f"caches L1d {i.get('l1d', '?')}, L2 {i.get('l2', '?')}, L3 {i.get('l3', '?')}",
            f"* OS: {i['os']}",
            f"* Compiler: {i['compiler']}",
            f"* Python {i['python']}; numpy {i['numpy']}, scipy {i['scipy']}, torch {i['torch']}, jax {i['jax']} "
            f"(jaxlib {i['jaxlib']}), numba {i['numba']}, matplotlib {i['matplotlib']}",
            f"* implicit-bias {i['implicit_bias']}, git commit {i['commit']}; OPENBLAS_CORETYPE={i['OPENBLAS_CORETYPE']}",
        ]
    )


# --------------------------------------------------------------------------------------------
# README assembly
# --------------------------------------------------------------------------------------------
README_HEAD = """# Benchmarks

Six scripts, each runnable on its own, each writing Markdown tables (and most PNG plots) into
`bench/results/` and rebuilding this file from them (the sections below are the latest results;
every section carries the date and command of its run). Every benchmark also checks correctness
before it reports a number (see "Built-in checks").

```bash
pip install ".[bench]"            # the peers: torch==2.13.0 (CPU), jax[cpu], numba
python bench/engine.py            # engine speed: Inc-Adam ns/step, ns/coordinate-step, 2-thread ensembles
python bench/peers.py             # the same per-sample Adam in NumPy / PyTorch / JAX / Numba vs ours
python bench/precision.py         # late-time study: textbook loops vs our engine out to 1e9 steps
python bench/scaling.py           # time per step against d for every optimizer; ensemble speed-up
python bench/engine.py --lanes    # only the lane-group section of engine.py (K runs interleaved per thread)
python bench/native.py            # portable default vs -march=native, the C++ step driver (--native-python: the module)
python bench/eps_path.py          # eps = 1e-8 + bias correction vs eps = 0 at equal work per step
python bench/instructions.py      # instructions per step (callgrind): portable clones vs x86-64-v3 and baseline builds
python bench/walltime.py          # fixed point n = 1000, d = 2000 and `implicit-bias reproduce --quick`
```

Every script takes `--quick` (a short version, ~1-3 minutes each; the full versions take
~3-10 minutes each) and `--no-readme` (do not rebuild this file). Peers that are not installed are
skipped with a message.

**Timing method.** Wall-clock `time.perf_counter()` around a whole call that runs many steps
(no per-step Python timing); the engine is warmed up first (`Run.advance`) and measured in the
steady state with `checkpoints=2`; step counts are calibrated so that one measurement takes
~0.3-2 s (--quick: ~0.1-0.25 s); each number is the **best of several repeats** (3 unless stated;
interleaved round-robin between tools in `peers.py`, and between 1 and 2 threads for ensembles). All
single-run numbers are single-threaded (peers too: `torch.set_num_threads(1)`, XLA's CPU client limited
to one intra-op thread); only the `train_many` ensembles use 2 threads.

**Noise.** The benchmark machine has 2 cores and was shared with other jobs while these numbers
were taken (load average is printed in every section header). Best-of-N removes most of the
interference for single-threaded numbers; the 2-thread ensemble speed-ups are the most affected
(a second thread only helps if the second core is idle).
"""

README_NOTES = """## Reading the results

* **Noise.** Compare the "CPU ns/step" column of the engine table with the wall-clock one: where CPU time is
  clearly below wall time, the process was descheduled by other jobs on the 2-core machine, and even the
  best-of-3 wall time overstates the engine's cost. The ensemble tables give the cores the 2-thread call actually
  got ("cores used" = CPU time / wall time): a speed-up near 1 with ~1 core used says the second core was busy,
  not that the ensemble code is serial. Rerun on an idle machine before reading anything into a goal missed by
  less than ~30 %.
* **Compiled peers.** Numba and JAX compile the same per-coordinate arithmetic (one sqrt and one or two
  divisions per coordinate and step, one exp per step); what is left to gain over them is the per-step
  overhead and vectorization, so factors of ~1.3-2.5x over them are what a faster inner loop can give, not 5x.
  The interpreted peers (NumPy, `torch.optim.Adam`) pay ~10-400 us of Python / dispatcher overhead per step, which
  is why they are 10x to thousands of times slower at small d.
* **n x d = 1000 x 10000.** The data (80 MB in double, 160 MB in long double) does not fit in the caches: every step
  streams one 80 KB row from memory, so all compiled tools converge to the same memory-bound time per step.
* **eps = 1e-8 with bias correction vs eps = 0 at d = 2** is mostly not the eps path: in the steady state both
  run the same loop but for one addition per coordinate (the bias corrections are exactly 1 once
  beta^(t+1) < 2^-66, t >= ~45.7k for beta2 = 0.999; before that two pow() per step and a second division per
  coordinate, PyTorch's order, kept). The difference is the regime: with eps = 0 the margins grow linearly
  and the samples far from the support (margin gap > ~745 above the smallest) get an exactly-zero
  coefficient without calling exp, while with eps = 1e-8 the margins stay ~20-30 and every step pays exp
  (plus the logistic's e / (1 + e) division below u = 50) on the step's dependency chain:
  dot -> exp -> divide -> g^2 -> sqrt -> + eps -> divide -> w. `eps_path.py` (2026-12-04, AMD EPYC VM)
  measures it: on the bench data 21.0 (eps = 0) vs 39.4 ns/step (eps + bc); on one row repeated n times
  (every step computes exp in both paths) with the exponential loss (no division in either) 35.1 vs
  38.3 ns/step (1.09x); at d = 1000, where the coordinate loop dominates, 1.041 vs 1.072 ns/coord-step
  (1.03x). Callgrind (the C++ driver): 225 vs 229 instructions per step, ~51 of them in glibc's exp.
  With eps = 1e-8 the step is latency-bound: lanes, which overlap independent chains, recover 1.5x there
  (49.8 -> 33.0 ns at K = 8 on the Ice Lake VM).
* **Machines differ, and so do runs on one VM.** The earlier tables (2026-12-03 before 15:00 UTC) came from
  a KVM VM with an Intel CPU of family 6 model 167 (L2 4 MiB); the rows dated 18:00-18:40 UTC from another
  VM of the same kind with model 106 (Ice Lake server, L2 2.5 MiB); the rows dated 2026-12-04 from a VM
  with an AMD EPYC of family 25 model 17 (AVX-512, L2 1 MiB per core, see Machine above). Single Inc-Adam
  at d = 2, eps = 0: 13.0 ns/step on the first (idle), 25.7 ns/step on the second (idle), and 26-66 ns/step
  there in separate processes minutes apart, 20.6 on the third; the 8-lane group at d = 2: 14.7, 27.9 and
  17.0 ns per run-step.
  Instruction counts do not depend on the machine's mood: callgrind on the same loop (a C++ driver of the
  headers, the bench data, 200,000 steady-state steps) gives 204 instructions per step at commit 8de234a,
  238 after the bounded rescale loops (4a8cc07), 225 on main now (eps = 0; 229 with eps = 1e-8 + bias
  correction); ~50 of them are glibc's exp. Compare rows of one run, not runs of different machines.
* **Lanes** (`engine.py --lanes`) overlap the latency chains of K runs in one thread; at d = 2 a lane
  group is then bound by instruction throughput (~225 instructions per run-step including exp; at 2.6 GHz
  and ~4 instructions per cycle that is ~22 ns), not by latency. The 8 ns goal needs ~3x fewer
  instructions per run-step: SIMD across lanes (4-8 runs per vector) with a vectorized exp, which single
  runs would then have to use too (bit-identity), i.e. our own exp instead of glibc's. Not done.
* **Portable vs native** (`native.py`, `instructions.py`): the run loop is cloned per instruction set
  (baseline, x86-64-v3, x86-64-v4) and gives the same bits as -march=native in every case of the table.
  Wall-clock ratios of the Python module in two venvs swung too much on a shared VM to show 10 % either
  way (0.75-1.64 on 2026-12-03); `native.py` now times the C++ step driver by default (no Python in the
  loop, one process per case and build, pinned, 7 alternating rounds), whose times repeat within ~2 %.
  On an AVX-512 host (AMD EPYC, 2026-12-04) that found four gaps of the x86-64-v4 clone, all closed
  without changing a bit: (1) the SSE2 baseline's Eigen and glibc's malloc align to 16 bytes, so the
  clone's 64-byte loads straddled cache lines (full-batch GD 1.35x, AdamProxy 1.15x, Signum 1.22x of
  native): per-coordinate storage is 64-byte aligned in every build now (`EIGEN_MAX_ALIGN_BYTES=64`,
  `AlignedVector`); (2) GCC does not inline a plain `inline` function into a `target_clones` body, so the
  logistic's `abs_deriv` and the batch coefficients were calls into baseline code (Signum d = 2 1.27x):
  forced inline; (3) GD and SignGD at b = 1 step through `batch_step`, whose loops had a runtime d: with
  d = 2 known at compile time (as in Adam's phased step) GD went from 42.3 to 29.0 ns/step (native 28.9);
  (4) under pybind11's default link-time optimization GCC packed Lion's two coordinates into one vector
  assembled through the stack (module: 14.2 vs 11.0 ns/step): the module is built without LTO now. After
  that all 25 cases are within 10 % in the driver table (worst 1.06) and in the module table (worst
  1.03). Instruction counts (callgrind; valgrind's emulated CPU has no AVX-512, so the portable binary runs
  its x86-64-v3 clone): that clone executes within 1.2 % of a -march=x86-64-v3 build's instructions in all
  25 cases, and the baseline (SSE2) build 1.02-4.07x as many (2.1x for full-batch GD and Signum: the "native is worth 2x" of the build without clones).
"""

README_CHECKS = """## Built-in checks

* `engine.py`: every timed run must end with a finite iterate that moved during the timed calls; before the
  ensemble timings, every `train_many` result (threads = 1 and 2) must equal the single `Run` bit for bit.
* `peers.py`: before timing, every peer's final `w` after a short run (2,000 steps; 200 at d = 10,000, where
  the early dynamics amplify summation-order rounding differences exponentially) must agree with ours to
  relative error <= 1e-10; a peer that does not is reported as FAIL and not timed.
* `precision.py`: asserts that our engine keeps moving at the last checkpoint (the minimum margin grows and `w`
  changes) far beyond the textbook loops' breakdown, that it agrees with the long-double textbook reference
  (relative difference <= 1e-8) while that reference is valid, that the textbook double loop does lose its
  updates, and that eps = 1e-8 ends with a smaller margin than eps = 0.
* `scaling.py`: every timed run ends with a finite iterate, and each 2-thread ensemble result equals the
  1-thread one bit for bit.
* `engine.py --lanes`: before timing, every (K, threads) lane configuration must equal the single runs bit for
  bit (w and margins at 3 checkpoints), else it raises.
* `native.py`: reports per case whether the portable and native builds give the same w (after 3,000 steps;
  with the C++ driver, after the timed steps).
* `eps_path.py`: every timed run must have moved w.
* `instructions.py`: raises unless the portable, x86-64-v3 and baseline builds of the driver give the same
  bits of w in every case.
"""

SECTIONS = [
    ("engine", "Engine speed (`bench/engine.py`)"),
    ("engine_lanes", "Lane groups (`bench/engine.py --lanes`)"),
    ("eps_path", "eps > 0 path at equal margins (`bench/eps_path.py`)"),
    ("peers", "Peers (`bench/peers.py`)"),
    ("precision", "Precision / late-time study (`bench/precision.py`)"),
    ("scaling", "Scaling with d, all optimizers (`bench/scaling.py`)"),
    ("native_driver", "Portable vs native build, C++ driver (`bench/native.py`)"),
    ("native", "Portable vs native build, Python module (`bench/native.py --native-python`)"),
    ("instructions", "Instructions per step, portable vs instruction-set builds (`bench/instructions.py`)"),
    ("walltime", "Wall times: fixed point and `reproduce --quick` (`bench/walltime.py`)"),
]


#: Result files (bench/results/<name>.json) whose "goals" rows the goals-at-a-glance table lists.
GOAL_FILES = ("engine_lanes", "eps_path", "native_driver", "native", "walltime")


def goals_summary() -> str:
    """One table of every stated goal with the latest measured value (from bench/results/*.json)."""
    rows = []
    eng = RESULTS / "engine.json"
    if eng.exists():
        recs = json.loads(eng.read_text())
        for r in recs:
            if r.get("ensemble") or r.get("goal_ok") is None:
                continue
            eps = "eps=0" if r["eps"] == 0 else "eps=1e-8+bc"
            prec = "double" if r["dtype"] == "float64" else "long double"
            if prec == "long double":
                goal, val = "<= 30 ns/coord-step", f"{r['ns_coord']:.1f} ns/coord-step"
            elif r["d"] == 2:
                goal, val = "<= 25 ns/step", f"{r['ns_step']:.1f} ns/step"
            else:
                goal = "<= 2.0 ns/coord-step" if r["d"] == 50 else "<= 1.4 ns/coord-step"
                val = f"{r['ns_coord']:.2f} ns/coord-step"
            rows.append([f"engine: Inc-Adam {prec}, {r['n']}x{r['d']}, {eps}", goal, val, goal_mark(r["goal_ok"])])
        for r in recs:
            if r.get("ensemble"):
                eps = "eps=0" if r["eps"] == 0 else "eps=1e-8+bc"
                rows.append(
                    [
                        f"engine: 2-thread ensemble, {r['n']}x{r['d']}, {eps}",
                        ">= 1.8x",
                        f"{r['ratio']:.2f}x",
                        goal_mark(r["goal_ok"]),
                    ]
                )
    peers = RESULTS / "peers.json"
    if peers.exists():
        recs = json.loads(peers.read_text())
        goal_fast = {2: 5.0, 50: 5.0, 1000: 2.5, 10000: 2.0}
        goal_torch = {2: 200.0, 50: 200.0, 1000: 200.0, 10000: 20.0}
        for d in sorted({r["d"] for r in recs}):
            rs = [
                r
                for r in recs
                if r["d"] == d and "ratio" in r and r["tool"] not in ("ours", "ours_lanes", "torch_fused")
            ]
            n = next(r["n"] for r in recs if r["d"] == d)
            if rs:
                f = min(rs, key=lambda r: r["ns_step"])
                rows.append(
                    [
                        f"peers {n}x{d}: ours vs fastest peer ({f['label']})",
                        f">= {goal_fast[d]:g}x",
                        f"{f['ratio']:.2f}x",
                        goal_mark(f["ratio"] >= goal_fast[d]),
                    ]
                )
            lanes = [r for r in recs if r["d"] == d and r["tool"] == "ours_lanes" and "vs_fastest" in r]
            if lanes:
                rows.append(
                    [
                        f"peers {n}x{d}: {lanes[0]['label']} vs fastest peer ({lanes[0]['fastest_label']}), "
                        "per run-step",
                        f">= {goal_fast[d]:g}x",
                        f"{lanes[0]['vs_fastest']:.2f}x",
                        goal_mark(lanes[0]["vs_fastest"] >= goal_fast[d]),
                    ]
                )
            t = [r for r in rs if r["tool"] == "torch"]
            if t:
                rows.append(
                    [
                        f"peers {n}x{d}: ours vs torch.optim.Adam loop",
                        f">= {goal_torch[d]:g}x",
                        f"{t[0]['ratio']:.0f}x",
                        goal_mark(t[0]["ratio"] >= goal_torch[d]),
                    ]
                )
    # Scripts that publish their own goal rows: {"goals": [[what, goal, measured, met (bool or None)], ...]}.
    for name in GOAL_FILES:
        path = RESULTS / f"{name}.json"
        if path.exists():
            published = json.loads(path.read_text())
            if isinstance(published, dict):
                for what, goal, val, ok in published.get("goals", []):
                    rows.append([what, goal, val, goal_mark(ok)])
    if not rows:
        return ""
    return (
        "## Goals at a glance\n\n"
        + md_table(["what", "goal", "measured (best of repeats)", "status"], rows, "lrrl")
        + "\n"
    )


def update_readme() -> Path:
    parts = [README_HEAD, f"## Machine\n\n_Described {now()}._\n\n{machine_markdown()}\n", goals_summary()]
    for name, title in SECTIONS:
        res = RESULTS / f"{name}.md"
        body = res.read_text() if res.exists() else f"_Not run yet: `python bench/{name}.py`._\n"
        body = body.replace("### ", "", 1) if body.startswith("### ") else body
        # The result files start with their own title line; replace it by the README's section title.
        body = body.split("\n", 1)[1] if res.exists() else body
        parts.append(f"## {title}\n{body}")
    parts.append(README_NOTES)
    parts.append(README_CHECKS)
    path = BENCH / "README.md"
    path.write_text("\n".join(parts))
    print(f"[readme] {path.relative_to(ROOT)} rebuilt")
    return path


def finish(
    name: str, title: str, body: str, args: argparse.Namespace, t_start: float, command: str | None = None
) -> None:
    write_result(name, title, body, args.quick, time.perf_counter() - t_start, command)
    if not args.no_readme:
        update_readme()


def dump_json(name: str, data: object) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, default=float))


if __name__ == "__main__":  # `python bench/_common.py` rebuilds the README from the existing results
    print(machine_markdown())
    update_readme()
    sys.exit(0)
