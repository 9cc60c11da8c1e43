"""Wall and CPU time of the ``eisfit demo`` command, end to end, as a user runs it.

Runs ``eisfit demo --out DIR`` (a fresh temporary folder each time) ``--runs`` times in a new
process each, and prints each run's wall time and CPU time (user + system of the command and
its worker processes), then the medians. On a machine shared with other work the wall time
grows with the load while the CPU time stays close to the work done, so both are printed,
with the load average before the runs.

Usage::

    python bench/bench_demo.py            # 5 runs
    python bench/bench_demo.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(eisfit: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one ``eisfit demo`` into a fresh folder."""
    folder = tempfile.mkdtemp(prefix="eisfit-bench-demo-")
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*eisfit, "demo", "--out", os.path.join(folder, "out")], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    args = parser.parse_args()
    exe = shutil.which("eisfit")
    eisfit = [exe] if exe else [sys.executable, "-c", "from eisfit.cli.main import main; main()"]
    print(f"eisfit demo, {args.runs} runs; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    walls, cpus = [], []
    for k in range(args.runs):
        wall, cpu = run_once(eisfit)
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {k + 1}: {wall:6.2f} s wall, {cpu:6.2f} s CPU "
              f"(load average {os.getloadavg()[0]:.2f})", flush=True)
    print(f"median: {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU")


if __name__ == "__main__":
    main()
