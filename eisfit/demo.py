"""``eisfit demo``: the main job, start to finish, on the bundled example spectra.

1. Fits the synthetic LATP-like pellet series in ``data/latp_pellet`` (8 temperatures, the
   ``blocking`` circuit, 1.0 mm x 10 mm, 1.5 Ohm of leads) with :func:`eisfit.fit_series`.
2. Computes the Arrhenius activation energy of every role (ln(σT) against 1/T).
3. Fits the example Li|SSE|LFP full cell (``full-cell`` circuit, 1 cm²).
4. Writes into the output folder: ``report.html`` (one self-contained page with the methods,
   the results with uncertainties, every plot and every warning), ``results.csv`` (one row
   per spectrum), ``summary.json`` (the batch JSON plus ``full_cell``), ``arrhenius.png``,
   ``nyquist_<file>.png`` for each spectrum and ``full_cell.png``.

Files already in the folder are never overwritten unless ``force`` is given; nothing else
in the folder is touched. The data are examples made from known parameters
(``data/README.md``, ``data/truth.json``), not measurements.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .exceptions import EisfitError

#: The LATP-like pellet's geometry and leads (see data/make_examples.py).
GEOMETRY = {"thickness": "1.0 mm", "diameter": "10 mm"}
EXTERNAL_RESISTANCE_OHM = 1.5
#: The full cell's electrode area, for area-specific resistances.
FULL_CELL_GEOMETRY = {"thickness": "1 mm", "area": "1 cm2"}
#: The files the demo writes besides one ``nyquist_<file>.png`` per spectrum.
OUTPUT_FILES = ("report.html", "summary.json", "results.csv", "arrhenius.png", "full_cell.png")
NOTE = (
    "The spectra are synthetic examples made by data/make_examples.py from known parameters "
    "(data/truth.json, described in data/README.md); they are not measurements."
)


def examples_dir() -> Path:
    """The folder holding the bundled example spectra (the checkout's ``data/`` or the
    installed copy)."""
    repo = Path(__file__).resolve().parent.parent / "data"
    if (repo / "latp_pellet").is_dir():
        return repo
    # installed: the package data sits beside the modules (eisfit/examples)
    return Path(__file__).resolve().parent / "examples"


def _temperature_from_name(name: str) -> float:
    from .series import temperature_from_name

    t = temperature_from_name(name)
    if t is None:
        raise EisfitError(f"{name}: no temperature such as 25C in the file name")
    return t


def _truth() -> dict[str, Any]:
    try:
        return json.loads((examples_dir() / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _plot_name(label: str) -> str:
    stem = re.sub(r"\.[A-Za-z][A-Za-z0-9]*$", "", label)
    return "nyquist_" + (re.sub(r"[^A-Za-z0-9._+-]+", "_", stem).strip("._") or "spectrum") + ".png"


def _save_png(path: Path, fig: Any, force: bool, dpi: int = 200) -> Path:
    from .output import write_atomic
    from .report import figure_png

    return write_atomic(path, lambda t: t.write_bytes(figure_png(fig, dpi)), force=force)


def run_demo(out: str | Path = "eisfit-demo", force: bool = False) -> int:
    """Run the demo, writing into ``out``; returns the exit code (0).

    Raises
    ------
    EisfitError
        ``out`` is a file, or already holds one of the demo's outputs and ``force`` is False
        (checked before anything is fitted or written).
    """
    import uncertainties

    from .fitting import fit
    from .geometry import Geometry
    from .io import read
    from .output import OutputExistsError, write_text
    from .plot import _pm, arrhenius_figure, fit_figure, spectrum_figure
    from .report import write_report
    from .series import fit_series
    from .validate import drt, kramers_kronig

    started = time.perf_counter()
    out = Path(out)
    data = examples_dir()
    files = sorted((data / "latp_pellet").glob("*.csv"),
                   key=lambda p: _temperature_from_name(p.name))
    if not files:
        raise EisfitError(f"{data / 'latp_pellet'}: no example spectra found")
    if out.exists() and not out.is_dir():
        raise EisfitError(f"{out}: exists and is not a folder")
    planned = [*OUTPUT_FILES, *(_plot_name(p.name) for p in files)]
    if not force and out.is_dir():
        clash = [name for name in planned if (out / name).exists()]
        if clash:
            shown = ", ".join(clash[:4]) + (" ..." if len(clash) > 4 else "")
            raise OutputExistsError(
                f"{out}: already holds {shown}; pass --force to overwrite the demo's files, "
                "or --out another folder"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EisfitError(f"{out}: cannot create the folder: {exc.strerror or exc}") from None
    truth = _truth()
    made_with = truth.get("Ea_eV", {})

    geometry = Geometry(**GEOMETRY)
    print(f"eisfit demo: {len(files)} spectra of a synthetic LATP-like pellet ({geometry}), "
          f"circuit 'blocking', {EXTERNAL_RESISTANCE_OHM:g} Ohm of leads")
    series = fit_series(files, circuit="blocking", geometry=geometry,
                        external_resistance=EXTERNAL_RESISTANCE_OHM)
    print(f"{'file':<16}{'T/°C':>7}{'R_bulk/Ohm':>14}{'R_gb/Ohm':>14}{'σ_total/(S/cm)':>17}")
    for lab, t_k, r in zip(series.labels, series.temperatures_K, series.results, strict=True):
        sig = r.conductivity(geometry)
        rb = r.resistances.get("bulk", float("nan"))
        rgb = r.resistances.get("grain_boundary", float("nan"))
        st = uncertainties.nominal_value(sig["total"]) if "total" in sig else float("nan")
        print(f"{lab:<16}{t_k - 273.15:>7.1f}{rb:>14.5g}{rgb:>14.5g}{st:>17.4g}")
    for f in series.failures:
        print(f"{f['source']}: failed: {f['error']}")
    print()
    fits = series.arrhenius_all()
    for role, a in fits.items():
        truth_text = f"; made with {made_with[role]:.2f} eV" if role in made_with else ""
        print(f"Ea({role}) = {_pm(a.Ea_eV, a.Ea_stderr_eV)}  "
              f"({a.T_min_K - 273.15:.0f} to {a.T_max_K - 273.15:.0f} °C, n = {a.n}, "
              f"{a.form}{truth_text})")

    cell = read(data / "full_cell" / "Li_SSE_LFP_25C.csv")
    full = fit(cell, "full-cell")
    area = Geometry(**FULL_CELL_GEOMETRY)
    asr = {k: uncertainties.nominal_value(v) for k, v in full.asr(area).items()}
    print()
    print("Li|SSE|LFP full cell (1 cm²): " + ", ".join(
        f"{k} {v:.0f} Ohm cm²" for k, v in asr.items() if k != "series"))

    summary = series.to_dict()
    summary["full_cell"] = full.to_dict(area)
    summary["note"] = NOTE
    write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n", force=force)
    series.to_csv(out / "results.csv", force=force)
    _save_png(out / "arrhenius.png", arrhenius_figure(fits), force)  # the fits printed above
    for lab, r in zip(series.labels, series.results, strict=True):
        _save_png(out / _plot_name(lab), fit_figure(r), force)
    cell_drt = drt(full.original or full.spectrum)
    cell_kk = kramers_kronig(full.original or full.spectrum)
    _save_png(out / "full_cell.png", spectrum_figure(full, cell_drt, cell_kk), force, dpi=150)
    write_report(
        [series, full],
        out / "report.html",
        force=force,
        title="eisfit demo: LATP-like pellet series and Li|SSE|LFP full cell",
        geometry=area,
        notes=[NOTE],
        headings=[f"LATP-like pellet, {len(series)} temperatures (blocking circuit)",
                  "Li|SSE|LFP full cell, 25 °C (full-cell circuit, 1 cm²)"],
    )
    took = time.perf_counter() - started
    print(f"\nwrote {out}/report.html, summary.json, results.csv, arrhenius.png, full_cell.png "
          f"and {len(series)} Nyquist plots in {took:.0f} s")
    print(f"open {out / 'report.html'} in a browser to see every fit, plot and warning")
    return 0
