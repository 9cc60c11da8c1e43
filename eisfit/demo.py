"""``eisfit demo``: the main job on the bundled example spectra.

Fits the synthetic LATP-like pellet series in ``data/latp_pellet`` (8 temperatures) with the
``blocking`` circuit and the pellet's geometry, tabulates resistances and conductivities,
computes Arrhenius activation energies, fits the example Li|SSE|LFP full cell, and writes a
JSON summary and plots into the output folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .exceptions import EisfitError

GEOMETRY = {"thickness": "1.0 mm", "diameter": "10 mm"}


def examples_dir() -> Path:
    """The folder holding the bundled example spectra (the checkout's ``data/`` or the
    installed copy)."""
    repo = Path(__file__).resolve().parent.parent / "data"
    if (repo / "latp_pellet").is_dir():
        return repo
    # installed: the package data sits beside the modules (eisfit/examples)
    return Path(__file__).resolve().parent / "examples"


def _temperature_from_name(name: str) -> float:
    m = re.search(r"(-?\d+(?:\.\d+)?)C", name)
    if not m:
        raise EisfitError(f"{name}: no temperature such as 25C in the file name")
    return float(m.group(1)) + 273.15


def run_demo(out: str | Path = "eisfit-demo", force: bool = False) -> int:
    """Run the demo, writing into ``out``; returns the exit code."""
    import uncertainties

    from .arrhenius import arrhenius
    from .fitting import fit
    from .geometry import Geometry
    from .io import read
    from .output import write_atomic, write_text
    from .plot import fit_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = examples_dir()
    geometry = Geometry(**GEOMETRY)
    files = sorted((data / "latp_pellet").glob("*.csv"),
                   key=lambda p: _temperature_from_name(p.name))
    print(f"eisfit demo: {len(files)} spectra of a synthetic LATP-like pellet ({geometry})")
    print(f"{'file':<16}{'T/°C':>7}{'R_bulk/Ohm':>14}{'R_gb/Ohm':>14}{'σ_total/(S/cm)':>17}")
    rows, results = [], []
    for path in files:
        t_k = _temperature_from_name(path.name)
        spectrum = read(path).with_meta(temperature=t_k)
        r = fit(spectrum, "blocking", external_resistance=1.5)
        sig = r.conductivity(geometry)
        results.append(r)
        rb = r.resistances.get("bulk", float("nan"))
        rgb = r.resistances.get("grain_boundary", float("nan"))
        st = uncertainties.nominal_value(sig["total"]) if "total" in sig else float("nan")
        print(f"{path.name:<16}{t_k - 273.15:>7.1f}{rb:>14.5g}{rgb:>14.5g}{st:>17.4g}")
        rows.append(r.to_dict(geometry))
    summary: dict = {"spectra": rows, "arrhenius": {}}
    print()
    for role in ("bulk", "grain_boundary", "total"):
        pts = [(r.spectrum.temperature, r.conductivity(geometry)[role]) for r in results
               if role in r.conductivity(geometry)]
        if len(pts) < 3:
            continue
        temps = [t for t, _ in pts]
        sig = [s for _, s in pts]
        a = arrhenius(temps, sig)
        summary["arrhenius"][role] = a.to_dict()
        print(f"Ea({role}) = {a.Ea_eV:.3f} ± {a.Ea_stderr_eV:.3f} eV  "
              f"({a.T_min_K - 273.15:.0f} to {a.T_max_K - 273.15:.0f} °C, n = {a.n}, ln(σT))")

    cell = read(data / "full_cell" / "Li_SSE_LFP_25C.csv")
    full = fit(cell, "full-cell")
    area = Geometry(thickness="1 mm", area="1 cm2")
    asr = {k: uncertainties.nominal_value(v) for k, v in full.asr(area).items()}
    print()
    print("Li|SSE|LFP full cell (1 cm²): " + ", ".join(
        f"{k} {v:.0f} Ohm cm²" for k, v in asr.items() if k != "series"))
    summary["full_cell"] = full.to_dict()

    write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n", force=True)
    for r in (results[0], results[-1], full):
        name = Path(str(r.spectrum.source)).stem + ".png"
        fig = fit_figure(r)
        write_atomic(out / name, lambda t, fig=fig: fig.savefig(t, dpi=130, format="png"),
                     force=True)
    print(f"\nwrote {out}/summary.json and plots")
    return 0
