"""Time the joint fit of a temperature series against the independent fits it starts from.

Run: ``python bench/bench_series.py``. For series of 5-40 temperatures (blocking cell, bulk arc
leaving the 7 MHz window as T rises, 0.5 % noise) prints the time of the independent fits
(:func:`eisfit.fit_series`), of the joint fit on top (:meth:`Series.fit_joint`), its number of
residual evaluations and the size of its stacked Jacobian.
"""

from __future__ import annotations

import time

import numpy as np

import eisfit
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies

K_B = 8.617333262e-5
CIRCUIT = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")


def series(n_t: int, seed: int = 0) -> list[eisfit.Spectrum]:
    rng = np.random.default_rng(seed)
    t = np.linspace(25.0, 95.0, n_t) + 273.15
    f = frequencies(7e6, 0.1, 10)
    c_b, c_gb = 1e-12, 1e-9
    r_b = 1 / (2 * np.pi * 3e7 * c_b) * t / t[-1] * np.exp(0.35 / K_B * (1 / t - 1 / t[-1]))
    r_gb = 2 * r_b * np.exp(0.15 / K_B * (1 / t - 1 / t[-1]))
    out = []
    for i, tk in enumerate(t):
        p = [1.5, r_b[i], arc_q(r_b[i], c_b, 0.95), 0.95, r_gb[i], arc_q(r_gb[i], c_gb, 0.88),
             0.88, 1e-6, 0.85]
        z = add_noise(CIRCUIT.impedance(f, p), 0.005, rng)
        out.append(eisfit.Spectrum(f, z, {"source": f"s{i}"}, temperature=tk))
    return out


def main() -> None:
    print(f"{'n_T':>4} {'independent/s':>14} {'joint/s':>8} {'nfev':>5} {'jacobian':>12} "
          f"{'Ea_b joint':>11}")
    for n_t in (5, 10, 20, 40):
        spectra = series(n_t)
        t0 = time.perf_counter()
        s = eisfit.fit_series(spectra, temperatures="metadata")
        t1 = time.perf_counter()
        j = s.fit_joint()
        t2 = time.perf_counter()
        shape = j.problem.jacobian(np.array(j.coordinates)).shape
        print(f"{n_t:>4} {t1 - t0:>14.2f} {t2 - t1:>8.3f} {j.nfev:>5} "
              f"{shape[0]:>6}x{shape[1]:<5} {j.processes['bulk'].Ea_eV:>11.4f}")


if __name__ == "__main__":
    main()
