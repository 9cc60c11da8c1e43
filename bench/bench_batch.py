"""Batch throughput: spectra per second and peak memory of ``eisfit.fitting.batch.fit_many``.

Generates N seeded synthetic blocking-cell spectra (``eisfit.model.synthetic.blocking_cell``, 61-71
points each), streams them through the batch path with a process pool (``--workers``, default
2) or a Dask cluster, and prints spectra/s, the success rate (bulk and grain-boundary
resistances within 5 % of the truth) and memory: the resident set of this process sampled
every tenth of the batch (it must stay flat: spectra are generated lazily and outcomes are not
kept) and the peak resident set of this process and of the largest worker.

Usage::

    python bench/bench_batch.py                      # N = 1000 and 10000, in memory
    python bench/bench_batch.py -n 1000 --source files   # written as CSV files, read back
    python bench/bench_batch.py -n 1000 --dask       # a LocalCluster of --workers processes
    python bench/bench_batch.py -n 1000 --scheduler tcp://host:8786

One BLAS thread per process is set before numpy is imported (as ``eisfit batch`` does).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from eisfit.fitting.batch import Failure, fit_many  # noqa: E402
from eisfit.io.spectrum import Spectrum  # noqa: E402
from eisfit.kernels import compiled  # noqa: E402
from eisfit.model.synthetic import blocking_cell  # noqa: E402


def rss_mib() -> float:
    """Current resident set of this process in MiB (Linux /proc; psutil elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return float("nan")


def peak_mib(who: int) -> float:
    """Peak resident set (MiB) of this process or of its largest finished child."""
    kb = resource.getrusage(who).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def workers_rss_mib() -> float:
    """Sum of the current resident sets of this process's children (needs psutil)."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    total = 0
    for c in psutil.Process().children(recursive=True):
        try:
            total += c.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def truths(n: int, seed: int) -> Iterator[tuple[Spectrum, dict[str, float]]]:
    """N synthetic spectra with their true resistances, made one at a time."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        c = blocking_cell(rng, noise=0.005)
        m = dict(c.spectrum.meta)
        m["label"] = f"cell{k:05d}"
        yield Spectrum(c.spectrum.frequency, c.spectrum.z, m), c.resistances


def write_files(n: int, seed: int, folder: Path) -> list[tuple[Path, dict[str, float]]]:
    """Write the N spectra as EC-Lab-style CSV files; return paths with their truth."""
    out = []
    for k, (s, truth) in enumerate(truths(n, seed)):
        p = folder / f"cell{k:05d}.csv"
        rows = [f"{f:.9E},{z.real:.9E},{-z.imag:.9E}" for f, z in zip(s.frequency, s.z,
                                                                       strict=True)]
        p.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "\n".join(rows) + "\n")
        out.append((p, truth))
    return out


def run(n: int, stack: int, args: argparse.Namespace, client: object = None) -> dict[str, float]:
    """Fit N spectra in stacks of ``stack``; return the figures."""
    pending_truth: list[dict[str, float]] = []
    tmp = None
    if args.source == "files":
        tmp = tempfile.TemporaryDirectory()
        files = write_files(n, args.seed, Path(tmp.name))

        def source() -> Iterator[Spectrum]:
            from eisfit.io import read

            for p, truth in files:
                pending_truth.append(truth)
                yield read(p)
    else:

        def source() -> Iterator[Spectrum]:
            for s, truth in truths(n, args.seed):
                pending_truth.append(truth)
                yield s

    marks = {max(1, round(n * q / 10)) for q in range(1, 11)}
    samples = []
    ok = failed = 0
    t0 = time.perf_counter()
    outcomes = fit_many(source(), "blocking", workers=args.workers, client=client, stack=stack)
    for k, out in enumerate(outcomes, start=1):
        truth = pending_truth.pop(0)
        if isinstance(out, Failure):
            failed += 1
        else:
            r = out.resistances
            ok += all(abs(r.get(key, np.nan) / truth[key] - 1) < 0.05
                      for key in ("bulk", "grain_boundary"))
        if k in marks:
            samples.append((k, rss_mib(), workers_rss_mib()))
    wall = time.perf_counter() - t0
    if tmp is not None:
        tmp.cleanup()
    print(f"\nN = {n}, stack = {stack}: {wall:.1f} s, {n / wall:.1f} spectra/s "
          f"({1000 * wall * args.workers / n:.0f} ms per fit per worker), "
          f"within 5 %: {ok}/{n}, failed: {failed}")
    print("  done    RSS here (MiB)   RSS workers (MiB)")
    for k, here, there in samples:
        print(f"  {k:>6}  {here:>14.1f}   {there:>17.1f}")
    return {"n": n, "stack": stack, "wall_s": wall, "rate": n / wall, "ok": ok, "failed": failed,
            "rss_first": samples[0][1], "rss_last": samples[-1][1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, nargs="+", default=[1000, 10000], help="batch sizes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--stack", type=int, nargs="+", default=[1, 64],
                    help="spectra per stacked fit (1: one fit at a time); each is timed")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--source", choices=["memory", "files"], default="memory")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--dask", action="store_true", help="a LocalCluster of --workers processes")
    g.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler")
    args = ap.parse_args()

    print(f"eisfit batch benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs visible, {len(os.sched_getaffinity(0))} usable, "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"engine: {'compiled (numba)' if compiled.enabled() else 'numpy'}")
    client = cluster = None
    backend = f"process pool, workers={args.workers}"
    if args.dask or args.scheduler:
        from distributed import Client, LocalCluster

        if args.dask:
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
            backend = f"Dask LocalCluster, {args.workers} worker processes x 1 thread"
        else:
            client = Client(args.scheduler)
            backend = f"Dask scheduler {args.scheduler}"
    print(f"backend: {backend}; spectra from {args.source}; blocking circuit, no starting "
          "values")
    figures = [run(n, stack, args, client) for n in args.n for stack in args.stack]
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()
    print(f"\npeak RSS: this process {peak_mib(resource.RUSAGE_SELF):.1f} MiB, largest "
          f"finished worker {peak_mib(resource.RUSAGE_CHILDREN):.1f} MiB")
    print("\n| N | stack | wall (s) | spectra/s | vs stack 1 | within 5 % "
          "| RSS here first/last tenth (MiB) |")
    print("|---|---|---|---|---|---|---|")
    base = {f["n"]: f["rate"] for f in figures if f["stack"] == 1}
    for f in figures:
        ratio = f"{f['rate'] / base[f['n']]:.2f}x" if f["n"] in base else "-"
        print(f"| {f['n']} | {f['stack']} | {f['wall_s']:.1f} | {f['rate']:.1f} | {ratio} | "
              f"{f['ok']}/{f['n']} | {f['rss_first']:.1f} / {f['rss_last']:.1f} |")


if __name__ == "__main__":
    main()
