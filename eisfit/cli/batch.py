"""``eisfit batch``: fit a temperature series of files and report Arrhenius activation energies.

Wired into :mod:`eisfit.cli.main` with ``add_batch_parser(sub)``. Exit codes: 0 every spectrum was
fitted; 1 some spectra failed (the rest are reported and written); 2 bad usage or unreadable
input (raised as :class:`~eisfit.exceptions.EisfitError`, printed by ``cli.main`` on one line).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from pathlib import Path
from typing import IO, Any

from eisfit.cli.brick_layer import (
    add_grain_size_option,
    brick_layer_skipped,
    brick_layer_table,
    check_geometries,
    grain_size_from_args,
)
from eisfit.cli.options import (
    add_cell_options,
    add_constrain_option,
    add_engine_option,
    external_from_args,
    fixture_from_args,
    geometry_from_args,
    sigma_from_args,
    workers_from_args,
)
from eisfit.cli.outputs import (
    OUTPUT_FILES,
    OUTPUT_PATTERNS,
    REPORT_MAX_SPECTRA,
    plot_names,
)
from eisfit.cli.saved import add_save_fits_option, check_save_fits, write_saved_fits
from eisfit.cli.variable import add_variable_options, run_variable_batch
from eisfit.exceptions import EisfitError
from eisfit.kernels import compiled

__all__ = ["add_batch_parser", "run_batch", "OUTPUT_FILES"]

def add_batch_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``batch`` command to an argparse ``subparsers`` object and return its parser."""
    p = subparsers.add_parser(
        "batch",
        help="fit a series of files or folders: against temperature (activation energies) or "
        "another variable (--variable pressure, thickness, time...)",
        description="Fit every spectrum, take temperatures (or, with --variable, pressures, "
        "thicknesses, times...) from file names, metadata or a table, and report resistances, "
        "conductivity and Arrhenius activation energies (or the variable's own analysis).",
    )
    _add_input_options(p)
    _add_run_options(p)
    _add_analysis_options(p)
    p.add_argument("--json", action="store_true", help="print the batch JSON instead of a report")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.set_defaults(func=run_batch)
    return p


def _add_input_options(p: argparse.ArgumentParser) -> None:
    """The spectra, their circuit and cell, and where their temperatures (or variable) come from."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="data files or folders")
    p.add_argument(
        "--circuit",
        default="blocking",
        help="a named circuit (see 'eisfit circuits') or a circuit string (default: blocking)",
    )
    add_cell_options(p)
    p.add_argument(
        "--temperatures",
        default="filename",
        metavar="filename|metadata|TABLE.csv",
        help="where temperatures come from: file names (25C, 25degC, 298K; default), the "
        "files' metadata, or a CSV table with a 'file' column and 'temperature_C' or "
        "'temperature_K'",
    )
    add_variable_options(p)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """Where the files are written and where the fits run."""
    add_engine_option(p)
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write report.html, results.csv, results.json, arrhenius.png and a Nyquist plot "
        "per spectrum",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes fitting in parallel (default: all cores)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="fit on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs eisfit[dask]; "
        "--workers is then ignored); see docs/dask.md",
    )


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    """What is checked, fitted and analysed beside each spectrum's own fit."""
    p.add_argument(
        "--no-kk",
        action="store_true",
        help="skip the Kramers-Kronig check that otherwise warns on inconsistent spectra",
    )
    p.add_argument(
        "--joint",
        action="store_true",
        help="also fit all spectra at once, each arc's resistance on an Arrhenius law and the "
        "bulk capacitance shared by all temperatures; reported beside the independent fits "
        "(JSON: arrhenius_joint, joint_fit)",
    )
    p.add_argument(
        "--keep-all",
        action="store_true",
        help="regress every point and report every activation energy: by default spectra that "
        "still break a physics check of the series after their neighbour refit (a resistance "
        "that rises with T, a bulk capacitance that moves, swapped arcs) are left out of that "
        "role's Arrhenius fit (JSON: excluded, with the reason), and a negative or undetermined "
        "Ea is reported as null with a reason",
    )
    add_grain_size_option(p)
    add_save_fits_option(p)
    add_constrain_option(p)
    p.add_argument(
        "--elements",
        action="append",
        metavar="FILE",
        help="a Python file defining circuit elements with eisfit.define_element, usable in "
        "--circuit (may be repeated; the worker processes load it too; see docs/elements.md)",
    )
    p.add_argument(
        "--drt-tracks",
        action="store_true",
        help="follow each DRT peak through the temperatures and report its activation energy "
        "from ln(T/R) and from ln(T/tau) without a circuit, beside the matched role's circuit "
        "Ea, with a slope-change test (JSON: drt_tracks; --out: drt_tracks.png)",
    )


#: A JSON string or a bracket: what :func:`write_json_document` tracks of the text it wrote.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def write_json_document(series: Any, stream: IO[str]) -> str | None:
    """Write the batch JSON of ``series`` to ``stream`` as one complete document, whatever fails.

    The document is written one spectrum at a time (:meth:`Series.json_chunks`), so a batch
    of thousands never holds its whole JSON. When building a piece fails part-way (a spectrum
    that cannot be reported, the Arrhenius summary), the document is closed where it stands:
    the spectra not written, or the summary, are listed under ``failures`` beside the
    series' own failures; the summary (``arrhenius``...) is still written when it can be, and
    ``arrhenius`` is empty when it cannot.

    Parameters
    ----------
    series
        A fitted :class:`~eisfit.series.temperature.Series`.
    stream
        A text stream (standard output).

    Returns
    -------
    str or None
        None when the whole document was written; else the one-line reason it stopped early.

    Raises
    ------
    KeyboardInterrupt
        After closing the document, when the user interrupted the writing.
    OSError
        When writing to ``stream`` itself fails (nothing more can be written then).
    """
    from eisfit.fitting.failures import one_line

    stack: list[str] = []  # the brackets open in the text written so far
    written = 0  # spectra written in full
    chunks = series.json_chunks(allow_nan=True)
    stop: BaseException | None = None
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            break
        except (Exception, KeyboardInterrupt) as exc:  # whatever stops it, the document closes
            stop = exc
            break
        stream.write(chunk)
        if len(stack) == 2 and chunk.startswith(",\n    {"):
            written += 1  # one spectrum's whole object (Series.json_chunks): nothing opened
            continue
        for token in _JSON_TOKEN.findall(chunk):
            if token in ("[", "{"):
                stack.append(token)
            elif token in ("]", "}"):
                stack.pop()
                if token == "}" and len(stack) == 2:
                    written += 1
    if stop is None:
        stream.write("\n")
        return None
    reason = one_line(stop) if isinstance(stop, Exception) else "interrupted"
    failures = [dict(f) for f in series.failures]
    rest: dict[str, Any] = {"arrhenius": {}}
    if len(stack) == 2 or not stack:
        # stopped in the spectra: the one being built and those after it are not reported;
        # the summary (Arrhenius, joint fit) stands on the fits, and is written if it can be
        failures.extend({"source": lab, "error": f"not reported: {reason}"}
                        for lab in list(series.labels)[written:])
        if isinstance(stop, Exception):
            try:
                rest = dict(series._summary_dict())
            except Exception as exc:
                failures.append({"source": "arrhenius",
                                 "error": f"summary not reported: {one_line(exc)}"})
    else:
        failures.append({"source": "arrhenius", "error": f"summary not reported: {reason}"})
    rest["failures"] = failures
    summary = json.dumps(rest, indent=2, allow_nan=True)
    if not stack:
        stream.write('{\n  "spectra": [],' + summary[1:])
    else:
        if len(stack) == 2:
            stream.write("\n  ]")
        stream.write("," + summary[1:])
    stream.write("\n")
    if isinstance(stop, KeyboardInterrupt):
        raise stop
    return reason


def run_batch(args: argparse.Namespace) -> int:
    """Handler of ``eisfit batch``; returns the exit code (0 all fitted, 1 some failed)."""
    with contextlib.ExitStack() as stack:  # holds the --out folder's lock until the end
        return _run_batch(args, stack)


def _write_outputs(folder: Any, series: Any, args: argparse.Namespace) -> None:
    """Write the ``--out`` files of ``series`` into ``folder`` (an OutputFolder), as a whole."""
    from eisfit.show.plot import PNG_DPI, arrhenius_figure, fit_figure

    plots = plot_names(series.labels)
    with_report = len(series.results) <= REPORT_MAX_SPECTRA
    series.to_csv(folder.file("results.csv"))
    series.to_json(folder.file("results.json"), allow_nan=True)
    fig = arrhenius_figure(series)
    folder.write("arrhenius.png", lambda t: fig.savefig(t, dpi=PNG_DPI, format="png"))
    if series.drt_tracks is not None:
        from eisfit.show.plot_drt_tracks import drt_tracks_figure

        dfig = drt_tracks_figure(series.drt_tracks)
        folder.write("drt_tracks.png", lambda t: dfig.savefig(t, dpi=PNG_DPI, format="png"))
    for name, result in zip(plots, series.results, strict=True):
        f = fit_figure(result)
        folder.write(name, lambda t, f=f: f.savefig(t, dpi=PNG_DPI, format="png"))
    if getattr(args, "save_fits", False):  # fit_<file>.json beside nyquist_<file>.png
        write_saved_fits(folder, series.results, plots)
    if with_report:
        from eisfit.show.report import write_report

        write_report(series, folder.file("report.html"), drt=False, kk=not args.no_kk)
    elif not args.json:
        print(f"report.html not written: {len(series.results)} spectra (more than "
              f"{REPORT_MAX_SPECTRA}); eisfit.show.report.write_report makes one for a selection")
    folder.commit()


def _run_batch(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    _load_user_elements(args)
    if getattr(args, "variable", "temperature") != "temperature":
        return run_variable_batch(args, stack)  # a series against another variable
    check_save_fits(args)
    geometry = geometry_from_args(args)
    grain = grain_size_from_args(args)  # brick-layer analysis: needs the user's geometry
    if grain is not None:
        check_geometries([geometry])
    external = external_from_args(args)
    fixture = fixture_from_args(args)  # --open/--short read before any data file
    sigma = sigma_from_args(args)  # --sigma FILE (sets --weighting sigma)
    workers = workers_from_args(args)
    folder = _out_folder(args, stack)
    out = folder.path if folder is not None else None
    files = _series_files(args, out)
    series = _fit_files(
        args,
        files,
        geometry=geometry,
        external=external,
        workers=workers,
        fixture=fixture,
        sigma=sigma,
    )
    if grain is not None:  # a brick_layer object per spectrum (JSON), columns (CSV), report
        series.grain_size_m = grain
    if args.drt_tracks:  # kept on the series: its JSON, the report and drt_tracks.png
        series.drt_tracks = series.drt_arrhenius()
    stopped = _print_series(series, args, grain)
    if folder is not None:
        _write_outputs(folder, series, args)
        if not args.json:
            print(f"results written to {out}")
    _print_notes(series, args, grain)
    return 1 if series.failures or stopped is not None else 0


def _load_user_elements(args: argparse.Namespace) -> None:
    """Load the ``--elements`` files: user elements, before any circuit is parsed."""
    if getattr(args, "elements", None):
        from eisfit.fitting.user_elements import load_elements

        for path in args.elements:  # the worker processes run them too (eisfit.fitting.batch)
            load_elements(path)


def _out_folder(args: argparse.Namespace, stack: contextlib.ExitStack) -> Any:
    """The ``--out`` OutputFolder (None without ``--out``), held locked by ``stack``."""
    from eisfit.output import OutputFolder

    if args.out is None:
        return None
    # checked, created and locked before any fitting: a second run into it is refused
    return stack.enter_context(OutputFolder(args.out, OUTPUT_PATTERNS, args.force, what="--out"))


def _series_files(args: argparse.Namespace, out: Path | None) -> list[Any]:
    """The spectra's files: the paths given, less the output folder, table and fixture files."""
    from eisfit.series.temperature import expand_paths

    temperatures = args.temperatures
    exclude = [out] if out is not None else []
    if temperatures not in ("filename", "metadata"):
        if not Path(temperatures).is_file():
            raise EisfitError(
                f"--temperatures {temperatures}: expected filename, metadata or an existing "
                "CSV table"
            )
        exclude.append(Path(temperatures))
    # the fixture's own files, kept beside the spectra, are not spectra of the series
    exclude.extend(Path(p) for p in (args.open, args.short, args.sigma) if p is not None)
    return expand_paths(args.paths, exclude=exclude)


def _fit_files(
    args: argparse.Namespace,
    files: list[Any],
    *,
    geometry: Any,
    external: Any,
    workers: Any,
    fixture: Any,
    sigma: Any,
) -> Any:
    """Fit the series of ``files`` as the options say, locally or on the ``--scheduler``."""
    from eisfit.fitting.batch import dask_client
    from eisfit.series.temperature import fit_series

    # a progress bar for a person watching: on stderr, only when stderr is a terminal (so
    # `--json > out.json` still shows it, and a log file or a pipe gets none)
    progress = sys.stderr.isatty()
    client = dask_client(args.scheduler) if args.scheduler else None
    try:
        with compiled.use_for(len(files)):
            return fit_series(
                files,
                circuit=args.circuit,
                geometry=geometry,
                temperatures=args.temperatures,
                external_resistance=external,
                weighting=args.weighting,
                workers=workers,
                client=client,
                progress=progress,
                joint=args.joint,
                kk=not args.no_kk,
                keep_all=args.keep_all,
                fixture=fixture,  # every spectrum corrected as eisfit fit corrects it
                sigma=sigma,  # every spectrum's σ from --sigma FILE
                constraints=args.constrain,  # --constrain: each spectrum fitted under them
                engine=args.engine,
                stream=True,  # memory flat in the number of files: results go to disk
            )
    finally:
        if client is not None:
            client.close()


def _print_series(series: Any, args: argparse.Namespace, grain: Any) -> str | None:
    """Print the batch JSON (``--json``) or the report; the reason the JSON stopped early, if."""
    stopped = None
    if args.json:
        # one spectrum at a time: a batch of thousands never holds its whole JSON
        stopped = write_json_document(series, sys.stdout)
        if stopped is not None:
            print(f"eisfit: the JSON output stopped early (the rest is listed under failures): "
                  f"{stopped}", file=sys.stderr)
    else:
        from eisfit.terminal import terminal_width

        print(series.report(width=terminal_width()))  # tables fit the terminal (COLUMNS)
        if series.drt_tracks is not None:
            print(series.drt_tracks.report(width=terminal_width()))
        if grain is not None:  # sigma_gb,sp and eps_r per spectrum
            print(brick_layer_table(series, width=terminal_width()))
    return stopped


def _print_notes(series: Any, args: argparse.Namespace, grain: Any) -> None:
    """Print on stderr the spectra left out of the brick-layer analysis, lost and failed."""
    from eisfit.fitting.batch import LOST

    if grain is not None:
        for note in brick_layer_skipped(series):
            print(f"eisfit: {note}", file=sys.stderr)
    for note in getattr(series, "worker_notes", ()):  # one line for every spectrum it lost
        print(f"eisfit: {note}", file=sys.stderr)
    for f in series.failures:
        if not f["error"].startswith(LOST):
            print(f"eisfit: {f['source']}: failed: {f['error']}", file=sys.stderr)
    if args.joint and series.joint_error is not None:
        print(f"eisfit: joint fit not made: {series.joint_error}", file=sys.stderr)
