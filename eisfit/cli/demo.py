"""``eisfit demo``: the main job, start to finish, on the bundled example spectra.

1. Fits the synthetic LATP-like pellet series in ``data/latp_pellet`` (8 temperatures, the
   ``blocking`` circuit, 1.0 mm x 10 mm, 1.5 Ohm of leads) with :func:`eisfit.fit_series`,
   and the Arrhenius activation energy of every role (ln(σT) against 1/T).
2. Fits the synthetic Li6PS5Cl-like sulfide pellet in ``data/sulfide_pellet`` (4 temperatures,
   1.2 mm x 10 mm, 1.83 Ohm of leads) with the same default ``blocking`` circuit: its
   electrolyte arc relaxes far above the window, so each fit falls back to ``blocking-spike``
   and the electrolyte's resistance is the high-frequency intercept less the leads.
3. Fits the example Li|SSE|LFP full cell (``full-cell`` circuit, 1 cm²).
4. Draws the figure of every spectrum of the LATP-like series and of the full cell (Nyquist,
   Bode, residuals, DRT, lin-KK) once, in parallel on up to two processes, and writes into
   the output folder: ``report.html`` (one self-contained page for the LATP-like series and
   the full cell: the methods, the results with uncertainties, every plot and every warning),
   ``results.csv`` and ``results_sulfide.csv`` (one row per spectrum), ``summary.json`` (the
   batch JSON of the LATP-like series plus ``sulfide_pellet`` and ``full_cell``),
   ``arrhenius.png``, ``arrhenius_sulfide.png``, ``fit_<file>.png`` for each LATP-like
   spectrum and ``full_cell.png`` (the same PNGs the report embeds).

Each step prints a line as it starts. Files already in the folder are never overwritten
unless ``force`` is given; nothing else in the folder is touched. The data are examples made
from known parameters (``data/README.md``, ``data/truth.json``), not measurements.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from eisfit.exceptions import EisfitError

#: The LATP-like pellet's geometry and leads (see data/make_examples.py).
GEOMETRY = {"thickness": "1.0 mm", "diameter": "10 mm"}
EXTERNAL_RESISTANCE_OHM = 1.5
#: The sulfide pellet's geometry and leads (data/truth.json, ``sulfide_pellet``).
SULFIDE_GEOMETRY = {"thickness": "1.2 mm", "diameter": "10 mm"}
SULFIDE_EXTERNAL_RESISTANCE_OHM = 1.83
#: The full cell's electrode area, for area-specific resistances.
FULL_CELL_GEOMETRY = {"thickness": "1 mm", "area": "1 cm2"}
#: The files the demo writes besides one ``fit_<file>.png`` per spectrum.
OUTPUT_FILES = ("report.html", "summary.json", "results.csv", "results_sulfide.csv",
                "arrhenius.png", "arrhenius_sulfide.png", "full_cell.png")
#: Processes that draw the figures (matplotlib is most of the demo's time).
WORKERS = 2
#: Resolution of the report's plots (its spectrum figures are drawn at 10 dpi more).
REPORT_DPI = 100
NOTE = (
    "The spectra are synthetic examples made by data/make_examples.py from known parameters "
    "(data/truth.json, described in data/README.md); they are not measurements."
)


def examples_dir() -> Path:
    """The folder holding the bundled example spectra (the checkout's ``data/`` or the
    installed copy)."""
    repo = Path(__file__).resolve().parents[2] / "data"
    if (repo / "latp_pellet").is_dir():
        return repo
    # installed: the package data sits beside the modules (eisfit/examples)
    return Path(__file__).resolve().parents[1] / "examples"


def _temperature_from_name(name: str) -> float:
    from eisfit.series.temperature import temperature_from_name

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
    return "fit_" + (re.sub(r"[^A-Za-z0-9._+-]+", "_", stem).strip("._") or "spectrum") + ".png"


def _files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.csv"), key=lambda p: _temperature_from_name(p.name))
    if not files:
        raise EisfitError(f"{folder}: no example spectra found")
    return files


def _arrhenius_png(fits: dict[str, Any]) -> bytes:
    """The Arrhenius figure of ``fits`` as PNG (module level: drawn in a worker process)."""
    from eisfit.show.plot import PNG_DPI, arrhenius_figure
    from eisfit.show.report import figure_png

    return figure_png(arrhenius_figure(fits), PNG_DPI)


class _Progress:
    """Numbered step lines on stdout, each with the seconds since the demo started."""

    def __init__(self, steps: int) -> None:
        self.steps, self.k, self.started = steps, 0, time.perf_counter()

    def step(self, text: str) -> None:
        self.k += 1
        took = time.perf_counter() - self.started
        print(f"[{self.k}/{self.steps}] {text}  ({took:.1f} s)", flush=True)


@contextmanager
def _mapper(workers: int) -> Iterator[Callable[..., Iterator[Any]]]:
    """A ``map`` over up to ``workers`` processes (the builtin one when 1), and the pool."""
    if workers <= 1:
        yield map
        return
    from eisfit.fitting.batch import _new_pool

    with _new_pool(workers) as pool:
        yield pool.map


def run_demo(out: str | Path = "eisfit-demo", force: bool = False,
             workers: int | None = None) -> int:
    """Run the demo, writing into ``out``; returns the exit code (0).

    Parameters
    ----------
    out
        The output folder (created when missing).
    force
        Overwrite the demo's own files in ``out``.
    workers
        Processes that draw the figures (default: :data:`WORKERS`, at most the CPUs).

    Raises
    ------
    EisfitError
        ``out`` is a file, or already holds one of the demo's outputs and ``force`` is False
        (checked before anything is fitted or written).
    """
    from eisfit.output import write_atomic

    started = time.perf_counter()
    out = Path(out)
    data = examples_dir()
    files = _files(data / "latp_pellet")
    sulfide_files = _files(data / "sulfide_pellet")
    cell_file = data / "full_cell" / "Li_SSE_LFP_25C.csv"
    _prepare_folder(out, [*OUTPUT_FILES, *(_plot_name(p.name) for p in files)], force)
    truth = _truth()
    if workers is None:
        workers = min(WORKERS, os.cpu_count() or 1)
    progress = _Progress(5)

    series, fits = _latp_pellet(files, progress, truth.get("Ea_eV", {}))
    sulfide, sulfide_fits = _sulfide_pellet(
        sulfide_files, progress, truth.get("sulfide_pellet", {})
    )
    full, area = _full_cell(cell_file, progress)
    named = _draw_and_write(
        out, series, fits, sulfide, sulfide_fits, full, area,
        workers=workers, progress=progress, force=force,
    )
    for name, png in named.items():
        write_atomic(out / name, lambda t, png=png: t.write_bytes(png), force=force)

    took = time.perf_counter() - started
    print(f"\nwrote {out}/report.html, summary.json, results.csv, results_sulfide.csv, "
          f"arrhenius.png, arrhenius_sulfide.png, full_cell.png and "
          f"{len(series)} fit_<file>.png plots in {took:.1f} s")
    print(f"open {out / 'report.html'} in a browser to see every fit, plot and warning")
    sys.stdout.flush()
    return 0


def _prepare_folder(out: Path, planned: list[str], force: bool) -> None:
    """Create ``out``, refusing a file there or (without ``force``) any of the ``planned``
    files already in it."""
    from eisfit.output import OutputExistsError

    if out.exists() and not out.is_dir():
        raise EisfitError(f"{out}: exists and is not a folder")
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


def _latp_pellet(
    files: list[Path], progress: _Progress, made_with: dict[str, float]
) -> tuple[Any, dict[str, Any]]:
    """Step 1: the LATP-like pellet series fitted, its table and activation energies printed."""
    import uncertainties

    from eisfit.model.geometry import Geometry
    from eisfit.series.temperature import fit_series
    from eisfit.show.plot import _pm

    geometry = Geometry(**GEOMETRY)
    progress.step(f"LATP-like pellet: fitting {len(files)} spectra ({geometry}), circuit "
                  f"'blocking', {EXTERNAL_RESISTANCE_OHM:g} Ohm of leads")
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
    fits = series.arrhenius_all()
    for role, a in fits.items():
        truth_text = f"; made with {made_with[role]:.2f} eV" if role in made_with else ""
        print(f"Ea({role}) = {_pm(a.Ea_eV, a.Ea_stderr_eV)}  "
              f"({a.T_min_K - 273.15:.0f} to {a.T_max_K - 273.15:.0f} °C, n = {a.n}, "
              f"{a.form}{truth_text})")
    return series, fits


def _sulfide_pellet(
    files: list[Path], progress: _Progress, sulfide_truth: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """Step 2: the sulfide pellet series fitted (only the intercept and the electrode spike are
    in the window), its table and activation energy printed."""
    import uncertainties

    from eisfit.model.geometry import Geometry
    from eisfit.series.temperature import fit_series
    from eisfit.show.plot import _pm

    s_geometry = Geometry(**SULFIDE_GEOMETRY)
    progress.step(f"sulfide pellet: fitting {len(files)} spectra ({s_geometry}), "
                  f"circuit 'blocking', {SULFIDE_EXTERNAL_RESISTANCE_OHM:g} Ohm of leads")
    sulfide = fit_series(files, circuit="blocking", geometry=s_geometry,
                         external_resistance=SULFIDE_EXTERNAL_RESISTANCE_OHM)
    made = sulfide_truth.get("spectra", {})
    print(f"{'file':<16}{'T/°C':>7}{'fitted as':>16}{'R_el/Ohm':>11}{'made with':>11}"
          f"{'σ/(S/cm)':>12}")
    for lab, t_k, r in zip(sulfide.labels, sulfide.temperatures_K, sulfide.results,
                           strict=True):
        r_el = r.resistances.get("total", float("nan"))
        sig = r.conductivity(s_geometry)
        st = uncertainties.nominal_value(sig["total"]) if "total" in sig else float("nan")
        r_made = made.get(lab, {}).get("electrolyte_ohm", float("nan"))
        print(f"{lab:<16}{t_k - 273.15:>7.1f}{r.circuit_name:>16}{r_el:>11.4g}{r_made:>11.4g}"
              f"{st:>12.4g}")
    for f in sulfide.failures:
        print(f"{f['source']}: failed: {f['error']}")
    sulfide_fits = sulfide.arrhenius_all()
    for role, a in sulfide_fits.items():
        ea_made = sulfide_truth.get("Ea_eV")
        truth_text = f"; made with {ea_made:.3f} eV" if ea_made is not None else ""
        print(f"Ea(electrolyte, {role}) = {_pm(a.Ea_eV, a.Ea_stderr_eV)}  "
              f"({a.T_min_K - 273.15:.0f} to {a.T_max_K - 273.15:.0f} °C, n = {a.n}, "
              f"{a.form}{truth_text})")
    return sulfide, sulfide_fits


def _full_cell(cell_file: Path, progress: _Progress) -> tuple[Any, Any]:
    """Step 3: the full cell fitted and its area-specific resistances printed."""
    import uncertainties

    from eisfit.fitting.single import fit
    from eisfit.io import read
    from eisfit.model.geometry import Geometry

    area = Geometry(**FULL_CELL_GEOMETRY)
    progress.step("Li|SSE|LFP full cell: fitting 1 spectrum, circuit 'full-cell' (1 cm²)")
    full = fit(read(cell_file), "full-cell")
    asr = {k: uncertainties.nominal_value(v) for k, v in full.asr(area).items()}
    print("ASR: " + ", ".join(f"{k} {v:.0f} Ohm cm²" for k, v in asr.items() if k != "series"))
    return full, area


def _draw_and_write(
    out: Path,
    series: Any,
    fits: dict[str, Any],
    sulfide: Any,
    sulfide_fits: dict[str, Any],
    full: Any,
    area: Any,
    *,
    workers: int,
    progress: _Progress,
    force: bool,
) -> dict[str, bytes]:
    """Steps 4 and 5: every figure drawn once in parallel while the data files and then the
    report are written; returns the PNG files still to write, by name."""
    from eisfit.output import write_text
    from eisfit.show.report import _name, spectrum_panel, write_report

    # every figure drawn once, in parallel: the report's panels (DRT, lin-KK, figure) are
    # all sent to the pool now and drawn in order while this process writes the data files
    # and then the report around them
    n_figures = len(series) + 1
    progress.step(f"drawing {n_figures} spectra (Nyquist, Bode, residuals, DRT, lin-KK) and "
                  f"2 Arrhenius plots on {workers} process{'es' if workers > 1 else ''}; "
                  "writing summary.json, results.csv, results_sulfide.csv")
    cell_label = full.spectrum.meta.get("label") or _name(full.spectrum.source)
    make = partial(spectrum_panel, drt=True, kk=True, dpi=REPORT_DPI + 10)
    sections = [(list(series.labels), list(series.results), make),
                ([cell_label], [full], make)]
    pngs: list[tuple[str, bytes]] = []  # (label, PNG) in the report's order
    with _mapper(workers) as pmap:
        planned = iter([(labels, pmap(fn, results, labels)) for labels, results, fn in sections])
        arrhenius_pngs = pmap(_arrhenius_png, [fits, sulfide_fits])

        summary = series.to_dict()
        summary["sulfide_pellet"] = sulfide.to_dict()
        summary["full_cell"] = full.to_dict(area)
        summary["note"] = NOTE
        write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n", force=force)
        series.to_csv(out / "results.csv", force=force)
        sulfide.to_csv(out / "results_sulfide.csv", force=force)

        def keep(fn: Callable[..., Any], results: Iterable[Any],
                 labels: Iterable[str]) -> Iterator[Any]:
            labels = list(labels)
            want, made = next(planned, (None, None))
            if want != labels or getattr(fn, "keywords", None) != make.keywords:
                made = pmap(fn, results, labels)  # not the panels planned: drawn now
            assert made is not None
            for lab in labels:
                panel = next(made)
                pngs.append((lab, panel.png))
                print(f"      drawn {len(pngs)}/{n_figures}: {lab}", flush=True)
                yield panel

        # the report, with the panels as they come, and the same PNGs as files
        progress.step("writing report.html and the PNGs")
        write_report(
            [series, full],
            out / "report.html",
            force=force,
            title="eisfit demo: LATP-like pellet series and Li|SSE|LFP full cell",
            geometry=area,
            notes=[NOTE],
            headings=[
                f"LATP-like pellet, {len(series)} temperatures (blocking circuit)",
                "Li|SSE|LFP full cell, 25 °C (full-cell circuit, 1 cm²)",
            ],
            dpi=REPORT_DPI,
            mapper=keep,
        )
        arrhenius_png, sulfide_arrhenius_png = list(arrhenius_pngs)

    named = {"arrhenius.png": arrhenius_png, "arrhenius_sulfide.png": sulfide_arrhenius_png,
             "full_cell.png": pngs[-1][1]}  # the full cell is the report's last section
    named.update((_plot_name(lab), png) for lab, png in pngs[:-1])
    return named
