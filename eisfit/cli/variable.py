"""``eisfit batch --variable pressure|thickness|time|cycle|soc|bias``: a series against a
variable other than temperature (:mod:`eisfit.series.variable`).

Wired into ``eisfit batch`` (:mod:`eisfit.cli.batch`): ``--variable temperature`` (the default)
is the Arrhenius batch, unchanged. Exit codes as for ``batch``: 0 every spectrum fitted, 1 some
failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from eisfit.cli.outputs import (
    REPORT_MAX_SPECTRA,
    plot_names,
)
from eisfit.exceptions import EisfitError

__all__ = ["add_variable_options", "run_variable_batch", "VARIABLE_OUTPUTS"]

#: What ``--out DIR`` of a variable series may write (the plot is named by the variable).
VARIABLE_OUTPUTS = ("results.csv", "results.json", "report.html", "thickness.png", "growth.png",
                    "pressure.png", "cycle.png", "soc.png", "bias.png", "nyquist_*.png")


def add_variable_options(p: argparse.ArgumentParser) -> None:
    """Add ``--variable`` and ``--values`` to the ``batch`` parser."""
    from eisfit.series.variable_names import NAMES

    p.add_argument(
        "--variable",
        default="temperature",
        choices=NAMES,
        help="what the series is measured against (default: temperature, the Arrhenius "
        "analysis); thickness: R = rho L/A + 2 R_interface; time: growth laws compared by "
        "AICc; pressure and the others: each role's resistance and conductivity against it",
    )
    p.add_argument(
        "--values",
        default=None,
        metavar="filename|metadata|TABLE.csv",
        help="where the values of --variable come from: file names (50MPa, 1.2mm, 2h, "
        "cycle12, SOC50, 0.5V; default), the files' metadata (time: acquisition start and "
        "time column), or a CSV table with a 'file' column and one named after the variable "
        "with its unit (pressure_MPa, thickness_mm, time_h...)",
    )


def _geometry(args: argparse.Namespace) -> Any:
    from eisfit.cli.options import geometry_from_args

    if args.variable == "thickness" and args.thickness is not None:
        raise EisfitError("--thickness: a thickness series takes each file's thickness from "
                          "--values; give only --diameter or --area")
    return geometry_from_args(args, need_thickness=None)


def _values_option(args: argparse.Namespace) -> str:
    values = args.values if args.values is not None else "filename"
    if args.values is None and args.temperatures != "filename":
        values = args.temperatures  # --temperatures given: where the values come from
    if values not in ("filename", "metadata") and not Path(values).is_file():
        raise EisfitError(f"--values {values}: expected filename, metadata or an existing CSV "
                          "table")
    return values


def plot_name(variable: str) -> str:
    """The plot file ``--out`` writes for ``variable``."""
    from eisfit.series.variable import PLOT_NAMES

    return PLOT_NAMES.get(variable, f"{variable}.png")


def _write(folder: Any, series: Any, args: argparse.Namespace) -> None:
    from eisfit.show.plot import PNG_DPI, fit_figure
    from eisfit.show.plot_variable import variable_figure

    series.to_csv(folder.file("results.csv"))
    series.to_json(folder.file("results.json"))
    if len(series):  # nothing fitted: no plot to draw
        fig = variable_figure(series)
        folder.write(plot_name(series.variable),
                     lambda t: fig.savefig(t, dpi=PNG_DPI, format="png"))
    for name, result in zip(plot_names(series.labels), series.results, strict=True):
        f = fit_figure(result)
        folder.write(name, lambda t, f=f: f.savefig(t, dpi=PNG_DPI, format="png"))
    if len(series) <= REPORT_MAX_SPECTRA:
        from eisfit.show.report import write_report

        write_report(series, folder.file("report.html"), drt=False, kk=not args.no_kk)
    folder.commit()


def run_variable_batch(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    """``eisfit batch --variable V``: fit, print the table and the analysis (or ``--json``),
    write ``--out``; returns the exit code (0 all fitted, 1 some failed)."""
    from eisfit.cli.options import external_from_args, workers_from_args
    from eisfit.output import OutputFolder
    from eisfit.series.inputs import expand_paths
    from eisfit.series.variable import fit_variable_series

    if args.sigma is not None or args.weighting == "sigma":
        raise EisfitError("--sigma/--weighting sigma applies to temperature series, not --variable")

    geometry = _geometry(args)
    values = _values_option(args)
    workers = workers_from_args(args)
    folder = None
    if args.out is not None:
        folder = stack.enter_context(
            OutputFolder(args.out, VARIABLE_OUTPUTS, args.force, what="--out"))
    exclude = [folder.path] if folder is not None else []
    if values not in ("filename", "metadata"):
        exclude.append(Path(values))
    files = expand_paths(args.paths, exclude=exclude)
    series = fit_variable_series(
        files, circuit=args.circuit, variable=args.variable, values=values, geometry=geometry,
        external_resistance=external_from_args(args), weighting=args.weighting,
        workers=workers, kk=not args.no_kk, progress=sys.stderr.isatty(), stream=True,
    )
    if args.json:
        print(json.dumps(series.to_dict(), indent=2, allow_nan=True))
    else:
        from eisfit.terminal import terminal_width

        print(series.report(width=terminal_width()))
    if folder is not None:
        _write(folder, series, args)
        if not args.json:
            print(f"results written to {folder.path}")
    for f in series.failures:
        print(f"eisfit: {f['source']}: failed: {f['error']}", file=sys.stderr)
    return 1 if series.failures else 0
