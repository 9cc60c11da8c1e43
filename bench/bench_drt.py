"""Time eisfit.drt and eisfit.kramers_kronig on synthetic 71-point three-arc spectra.

Run: ``OPENBLAS_NUM_THREADS=1 python bench/bench_drt.py``. Prints the median and 90th
percentile per spectrum. The matrices are small (about 220 x 100): multi-threaded BLAS gains
nothing on them and, on a loaded machine, thrashes (measured 66 ms median instead of 3 ms on
a busy 2-core box), so pin BLAS to one thread (or use a process pool with one thread each).
"""

from __future__ import annotations

import time

import numpy as np

import eisfit

F = np.logspace(6, -1, 71)
CIRCUIT = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)")


def spectra(n: int = 50, seed: int = 0) -> list[eisfit.Spectrum]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        fa = 10 ** rng.uniform(4, 5) / 10.0 ** np.arange(3)
        r = 10 ** rng.uniform(2.5, 3.5, 3)
        nn = rng.uniform(0.8, 1.0, 3)
        p = [20.0]
        for i in range(3):
            p += [r[i], (1 / (2 * np.pi * fa[i])) ** nn[i] / r[i], nn[i]]
        z = CIRCUIT.impedance(F, p)
        z = z + 0.005 * np.abs(z) * (rng.standard_normal(F.size) + 1j * rng.standard_normal(F.size))
        out.append(eisfit.Spectrum(F, z))
    return out


def bench(fn, items) -> tuple[float, float]:
    fn(items[0])
    t = []
    for s in items:
        t0 = time.perf_counter()
        fn(s)
        t.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(t)), 1e3 * float(np.percentile(t, 90))


if __name__ == "__main__":
    items = spectra()
    for name, fn in [("drt", eisfit.drt), ("kramers_kronig", eisfit.kramers_kronig)]:
        med, p90 = bench(fn, items)
        print(f"{name:15s} 71 points: median {med:.2f} ms, 90th percentile {p90:.2f} ms")
