"""Does seeding starting values from the regularised DRT help? Success with and without it.

Run:  python bench/bench_seeding.py [--n 40] [--seed 3]

For blocking cells (bulk arc inside the window or above it) and full cells (overlapping
interface arcs), the automatic fit is run twice on the same spectra: starting values seeded from
the regularised DRT (``eisfit.analysis.drt.drt``) and from the light NNLS decomposition of
``eisfit.fitting.guess.decompose``. eisfit uses the DRT for circuits with a blocking spike and the
light
decomposition otherwise; this script prints the figures behind that choice.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import eisfit  # noqa: E402
from eisfit.fitting import guess  # noqa: E402
from eisfit.model.synthetic import blocking_cell, full_cell  # noqa: E402


def blocking_ok(r, s) -> bool:
    return all(
        abs(r.resistances.get(k, np.nan) / s.resistances[k] - 1) < 0.02
        for k in ("bulk", "grain_boundary")
    )


def hidden_ok(r, s) -> bool:
    return abs(r.resistances.get("bulk", np.nan) / s.resistances["bulk"] - 1) < 0.03


def full_ok(r, s) -> bool:
    t, g = s.resistances, r.resistances
    el = abs(g["electrolyte"] / t["electrolyte"] - 1) < 0.05
    both = t["anode_interface"] + t["cathode_interface"]
    return el and abs((g["anode_interface"] + g["cathode_interface"]) / both - 1) < 0.02


def run(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sets = {
        "blocking, arcs inside": ([blocking_cell(rng) for _ in range(n)], "blocking", blocking_ok),
        "blocking, bulk above": (
            [blocking_cell(rng, hidden_bulk=True) for _ in range(n)], "blocking", hidden_ok
        ),
        "full cell": ([full_cell(rng) for _ in range(n)], "full-cell", full_ok),
    }
    print(f"{'spectra':<24}{'n':>4}{'DRT seeds':>12}{'light seeds':>13}")
    for label, (cases, circuit, ok) in sets.items():
        counts = {}
        for mode in ("drt", "light"):
            guess.SEEDING = mode
            counts[mode] = 0
            for s in cases:
                extra = {"external_resistance": s.resistances["series"]} if "above" in label else {}
                counts[mode] += ok(eisfit.fit(s.spectrum, circuit, **extra), s)
        guess.SEEDING = "auto"
        print(f"{label:<24}{n:>4}{counts['drt']:>12}{counts['light']:>13}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    run(a.n, a.seed)
