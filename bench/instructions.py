"""Instructions per step of the portable build's run loop against a build for the instruction set itself.

    python bench/instructions.py [--quick]

Wall-clock comparisons of two builds on a shared VM swing by 30 % and more from one process to the
next (bench/README.md, "Machines differ"); instruction counts do not. The header-only core is
compiled three times into a small driver (bench/drivers/step_driver.cpp: one run, the bench's data
shapes, lr 0.1, cyclic order):

* portable: the package's default flags with the run loop cloned per instruction set
  (``-DIMPLICIT_BIAS_DISPATCH``, target_clones default / x86-64-v3 / x86-64-v4);
* x86-64-v3: the same flags with ``-march=x86-64-v3`` and no clones (what a native build gives on an
  AVX2 machine);
* baseline: the same flags, no clones (x86-64 with SSE2 only: the portable build before dispatch).

Each is run under ``valgrind --tool=callgrind`` for two step counts after the same warm-up; the
difference of the two totals over the difference of the steps is the count per step (start-up and
warm-up cancel). valgrind does not emulate AVX-512, so the portable binary runs its x86-64-v3 clone
there: the table says whether that clone is the code a v3 build would run (ratio ~1.00), and how
much the clones save against the baseline. Every build must give the same bits of w (checked).
Needs valgrind and a C++17 compiler; never run in CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _driver as D  # noqa: E402

BUILDS = {
    "portable": D.PORTABLE,
    "x86-64-v3": ["-march=x86-64-v3"],
    "baseline": [],
}
# Short and long step counts per (n, d), counted after the same warm-up (_driver.WARM_UP).
STEPS = {(10, 2): (20_000, 60_000), (10, 100): (2_000, 6_000), (10, 1000): (300, 900), (100, 1000): (20, 60)}


def build(out: Path) -> dict[str, Path]:
    if shutil.which("valgrind") is None:
        raise SystemExit("instructions.py needs valgrind")
    return {name: D.compile_driver(out / f"step_driver_{name}", extra) for name, extra in BUILDS.items()}


def count(binary: Path, args: list[str]) -> tuple[int, str]:
    """(instructions executed, the driver's printed fingerprint of w)."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(binary), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected\s*:\s*([\d,]+)", proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), proc.stdout.split()[0]


def main() -> None:
    args = C.parse_args(__doc__.splitlines()[0])
    t_start = time.perf_counter()
    cases = D.CASES[::3] if args.quick else D.CASES
    rows, records = [], []
    with tempfile.TemporaryDirectory(prefix="ib-instructions-") as tmp:
        binaries = build(Path(tmp))
        for case in cases:
            name, n, d, b = case.name, case.n, case.d, case.batch
            warm, (s1, s2) = D.WARM_UP[(n, d)], STEPS[(n, d)]
            per_step, prints = {}, set()
            for build_name, binary in binaries.items():
                short, _ = count(binary, D.driver_args(case, warm, s1))
                long, fingerprint = count(binary, D.driver_args(case, warm, s2))
                per_step[build_name] = (long - short) / (s2 - s1)
                prints.add(fingerprint)
            if len(prints) != 1:
                raise AssertionError(f"{name} {n}x{d}: the builds give different w ({sorted(prints)})")
            ratio_v3 = per_step["portable"] / per_step["x86-64-v3"]
            ratio_base = per_step["baseline"] / per_step["portable"]
            print(f"{name} {n}x{d}: {per_step} (portable / v3 {ratio_v3:.3f})", flush=True)
            rows.append(
                [
                    name,
                    f"{n} x {d}",
                    b,
                    f"{per_step['portable']:,.0f}",
                    f"{per_step['x86-64-v3']:,.0f}",
                    f"{per_step['baseline']:,.0f}",
                    f"{ratio_v3:.3f}",
                    f"{ratio_base:.2f}",
                ]
            )
            records.append(dict(name=name, n=n, d=d, b=b, **per_step, portable_over_v3=ratio_v3))
    worst = max(records, key=lambda r: r["portable_over_v3"])
    tab = C.md_table(
        ["optimizer", "n x d", "batch", "portable", "x86-64-v3 build", "baseline build", "portable / v3",
         "baseline / portable"],
        rows,
        "llrrrrrr",
    )  # fmt: skip
    body = f"""
Instructions per step (callgrind) of one run compiled three ways from the same headers; see the script's
docstring. Under valgrind the portable binary runs its x86-64-v3 clone. Every build gave the same bits of w.

{tab}

Largest portable / x86-64-v3 ratio: {worst["portable_over_v3"]:.3f} ({worst["name"]}, {worst["n"]} x {worst["d"]}).
"""
    C.dump_json("instructions", dict(records=records))
    C.finish("instructions", "Instructions per step, portable vs instruction-set builds", body, args, t_start)


if __name__ == "__main__":
    main()
