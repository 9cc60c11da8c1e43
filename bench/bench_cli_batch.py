"""Wall time and peak memory of the ``eisfit batch`` command on N files.

Writes N seeded synthetic blocking-cell spectra as CSV files (one per temperature, the
temperature in the file name), runs ``eisfit batch FOLDER --json`` as a user would, once with
the Kramers–Kronig check (the default) and once with ``--no-kk``, and prints the wall time,
spectra per second, how many were fitted, and the peak resident memory of the command's own
process and of the command with its workers together (sampled every 0.2 s), and the CPU time of
the command and its workers (steadier than the wall time on a machine others are using) and of
the command's own process (what it spends reading, sending and writing competes with the
workers), and the ratios of the two runs.

Usage::

    python bench/bench_cli_batch.py                 # N = 10000, 2 workers
    python bench/bench_cli_batch.py -n 1000 --workers 2
    python bench/bench_cli_batch.py -n 2000 --kk-only   # the default case only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from eisfit.kernels import compiled
from eisfit.model.synthetic import blocking_cell


def write_files(n: int, seed: int, folder: Path) -> None:
    """N spectra as ``cellNNNNN_TTT.TTTK.csv`` with distinct temperatures 250-350 K."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        s = blocking_cell(rng).spectrum
        t = 250.0 + 100.0 * k / max(n, 1)
        rows = [
            f"{f:.9E},{z.real:.9E},{-z.imag:.9E}" for f, z in zip(s.frequency, s.z, strict=True)
        ]
        (folder / f"cell{k:05d}_{t:.4f}K.csv").write_text(
            "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "\n".join(rows) + "\n"
        )


def run(cmd: list[str], out_path: Path) -> dict[str, float]:
    """Run ``cmd`` with stdout to ``out_path``; sample memory and the command's own CPU time;
    return the figures."""
    peak_main = peak_tree = 0.0
    main_cpu = 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(out_path, "w") as out, open(out_path.with_suffix(".err"), "w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                main = ps.memory_info().rss
                tree = main + sum(c.memory_info().rss for c in ps.children(recursive=True))
                times = ps.cpu_times()
                main_cpu = max(main_cpu, times.user + times.system)
            except psutil.Error:
                main = tree = 0
            peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": wall,
        "cpu_s": cpu,  # the command and its workers (on a shared machine, steadier than wall)
        "main_cpu_s": main_cpu,  # the command's own process (the last sample, <= 0.2 s early)
        "rc": proc.returncode,
        "peak_main_mib": peak_main / 2**20,
        "peak_tree_mib": peak_tree / 2**20,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--kk-only", action="store_true",
                    help="run only the default (Kramers-Kronig check) case: quicker comparisons")
    args = ap.parse_args()
    exe = shutil.which("eisfit")
    if exe is None:
        sys.exit("the eisfit command is not installed: pip install -e .")
    print(
        f"eisfit batch benchmark: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, N = {args.n}, "
        f"--workers {args.workers}, "
        f"engine: {'compiled (numba)' if compiled.enabled() else 'numpy'}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "spectra"
        folder.mkdir()
        t0 = time.perf_counter()
        write_files(args.n, args.seed, folder)
        print(f"wrote {args.n} files in {time.perf_counter() - t0:.1f} s")
        cases = [("KK check (default)", []), ("--no-kk", ["--no-kk"])]
        for label, extra in cases[:1] if args.kk_only else cases:
            cmd = [exe, "batch", str(folder), "--circuit", "blocking", "--json",
                   "--workers", str(args.workers), *extra]
            fig = run(cmd, Path(tmp) / "out.json")
            try:
                data = json.loads((Path(tmp) / "out.json").read_text())
                fitted, failed = len(data["spectra"]), len(data["failures"])
            except (OSError, ValueError, KeyError):
                fitted = failed = -1
            rows.append((label, fig, fitted, failed))
            print(
                f"{label}: {fig['wall_s']:.1f} s, CPU {fig['cpu_s']:.1f} s "
                f"(the command's own process {fig['main_cpu_s']:.1f} s), "
                f"{args.n / fig['wall_s']:.0f} spectra/s, "
                f"exit {fig['rc']}, fitted {fitted}, failed {failed}, peak RSS command "
                f"{fig['peak_main_mib']:.0f} MiB, with workers {fig['peak_tree_mib']:.0f} MiB"
            )
    if args.kk_only:
        return
    (_, kk, _, _), (_, no_kk, _, _) = rows
    print(f"KK check / --no-kk: wall {kk['wall_s'] / no_kk['wall_s']:.2f}x, "
          f"CPU {kk['cpu_s'] / no_kk['cpu_s']:.2f}x; the command's own process: "
          f"{kk['main_cpu_s'] / kk['cpu_s']:.0%} of the CPU with the KK check; "
          f"wall per 10,000 files with the KK check: {kk['wall_s'] * 10000 / args.n:.1f} s")
    print("\n| eisfit batch | N | wall (s) | CPU, command and workers (s) | spectra/s | fitted | "
          "peak RSS command (MiB) | with workers (MiB) |")
    print("|---|---|---|---|---|---|---|---|")
    for label, fig, fitted, _ in rows:
        print(f"| {label} | {args.n} | {fig['wall_s']:.1f} | {fig['cpu_s']:.1f} | "
              f"{args.n / fig['wall_s']:.0f} | {fitted} | {fig['peak_main_mib']:.0f} | "
              f"{fig['peak_tree_mib']:.0f} |")


if __name__ == "__main__":
    main()
