"""The ``eisfit`` command: thin wrappers over the library.

Exit codes: 0 success; 1 some spectra failed (the rest are reported); 2 bad usage or
unreadable input. User mistakes print one line, ``eisfit: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from eisfit.cli.brick_layer import (
    add_grain_size_option,
    brick_layer_text,
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
)
from eisfit.cli.outputs import plot_file_format
from eisfit.cli.saved import add_saved_options, check_save, start_from_args, write_saved
from eisfit.exceptions import EisfitError
from eisfit.kernels import compiled


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--circuit",
        default=None,  # blocking, or the circuit of --start-from (cli_saved.start_from_args)
        help="a named circuit (see 'eisfit circuits'), a circuit string such as "
        "'R0-p(R1,CPE1)-CPE2', or 'auto' to choose among the named circuits of --cell by BIC "
        "(default: blocking)",
    )
    p.add_argument(
        "--cell",
        choices=["blocking", "li-symmetric", "full-cell"],
        help="cell type whose named circuits --circuit auto chooses among (default: blocking)",
    )
    add_cell_options(p)
    p.add_argument("--format", help="file format, to skip detection (see 'eisfit read')")
    p.add_argument("--json", action="store_true", help="print JSON instead of a report")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument(
        "--no-kk",
        action="store_true",
        help="skip the Kramers-Kronig check (by default a spectrum that fails it gets a warning)",
    )
    add_grain_size_option(p)
    add_constrain_option(p)
    add_engine_option(p)


def _fit_one(s: Any, args: argparse.Namespace, geometry: Any, external: float) -> tuple[Any, Any]:
    """Fit one spectrum as the options say; return (FitResult, Comparison or None).

    The same :func:`eisfit.fit` (and its :class:`~eisfit.fitting.spec.FitSpec`) as the library and
    ``eisfit batch``: the geometry judges the capacitances, the lin-KK check runs unless
    ``--no-kk``."""
    from eisfit.analysis.kk import kk_warning
    from eisfit.fitting.checks import with_warnings
    from eisfit.fitting.comparison import auto_circuit
    from eisfit.fitting.single import fit
    from eisfit.fitting.spec import FitSpec

    if args.circuit != "auto":
        result = fit(
            s, args.circuit, weighting=args.weighting, external_resistance=external,
            kk=not args.no_kk, geometry=geometry,
            start_from=getattr(args, "start_result", None),  # --start-from FILE
            constraints=getattr(args, "constrain", None), engine=args.engine,
        )
        return result, None
    if getattr(args, "constrain", None):
        raise EisfitError("--constrain needs a circuit: --circuit auto chooses its own")
    cell = args.cell or "blocking"
    spec = FitSpec("auto", args.weighting, external, kk=not args.no_kk, geometry=geometry,
                   cell=cell, engine=args.engine)
    with spec.engine_context():
        comparison = auto_circuit(
            s, cell, weighting=args.weighting, external_resistance=external, geometry=geometry,
        )
        result = comparison.best
        if not args.no_kk:
            result = with_warnings(result, [kk_warning(s)])
        return spec.record(result), comparison  # record judges the capacitances in the geometry


def _with_name_temperature(s: Any, path: str) -> tuple[Any, str | None]:
    """The spectrum with the temperature ``eisfit batch`` gives it by default, and a warning.

    As in batch, a temperature in the file name wins over one in the file's metadata. A name
    with none keeps the metadata's; a name batch refuses (two temperatures, an implausible one)
    keeps it too, with a warning, since a single fit needs no temperature.
    """
    from eisfit.series.inputs import SeriesError, series_temperature_from_name

    try:
        t = series_temperature_from_name(s.source or path)
    except SeriesError as exc:
        return s, f"temperature not taken from the file name: {exc}"
    return (s if t is None else s.with_meta(temperature=t)), None


def _cmd_fit(args: argparse.Namespace) -> int:
    """Fit every spectrum of a file: the results printed (or as JSON), --save, --plot; 0 when
    all were fitted, 1 when some failed."""
    from eisfit.io import read_all
    from eisfit.model.geometry import geometry_for
    from eisfit.output import check_writable

    if args.elements:  # user elements, before any circuit is parsed
        from eisfit.fitting.user_elements import load_elements

        for path in args.elements:
            load_elements(path)
    args.start_result = start_from_args(args)  # sets args.circuit when --circuit is not given
    if args.cell is not None and args.circuit != "auto":
        raise EisfitError("--cell applies only with --circuit auto")
    if args.circuit != "auto":  # a misspelt name is named before any file is read
        from eisfit.model.named import resolve

        resolve(args.circuit)
    geometry = geometry_from_args(args, need_thickness=None)  # an area alone gives the ASR
    external = external_from_args(args)
    fixture = fixture_from_args(args)  # --open/--short read before the data file
    sigma = sigma_from_args(args)  # --sigma FILE (sets --weighting sigma), before the data
    plot_format = None
    if args.plot is not None:  # checked before any fit: name, format, folder, no overwrite
        plot_format = plot_file_format(args.plot)
        check_writable(args.plot, args.force, probe=True, what="--plot")
    check_save(args)  # --save FILE: refused before any fit when it exists (without --force)
    spectra = read_all(args.path, args.format)
    grain = grain_size_from_args(args)  # brick-layer analysis: a geometry for every spectrum
    if grain is not None:
        check_geometries([geometry_for(s, geometry) for s in spectra], "the file header gives none")
    fitted, failures = _fit_spectra(spectra, args, geometry, external, fixture, sigma)
    write_saved(args, [r for r, _, _ in fitted])  # --save FILE
    if args.json:
        _print_json(fitted, failures, grain, single=len(spectra) == 1)
    else:
        _print_text(fitted, failures, grain)
    if plot_format is not None and fitted:
        _write_plot(args, fitted[0][0], plot_format)
    return 1 if failures else 0


def _fit_spectra(
    spectra: Sequence[Any],
    args: argparse.Namespace,
    geometry: Any,
    external: float,
    fixture: Any,
    sigma: Any,
) -> tuple[list[tuple[Any, Any, Any]], list[dict[str, Any]]]:
    """Each spectrum corrected and fitted: (result, model comparison, geometry) of every one
    fitted, and the failures (a single spectrum's error is raised)."""
    from eisfit.fitting.checks import with_warnings
    from eisfit.labels import spectrum_keys
    from eisfit.model.geometry import geometry_for

    fitted: list[tuple[Any, Any, Any]] = []
    failures: list[dict[str, Any]] = []
    with compiled.use_for(len(spectra)):
        for s in spectra:
            s, temperature_warning = _with_name_temperature(s, args.path)
            try:
                g = geometry_for(s, geometry)  # the user's, else one in the file's header
                if fixture is not None:  # the same correction as eisfit batch's
                    s = fixture.correct(s)
                if sigma is not None:  # the σ of each point, for --weighting sigma
                    s = sigma.apply(s)
                r, comparison = _fit_one(s, args, g, external)
                r = with_warnings(r, [temperature_warning])
            except EisfitError as exc:
                if len(spectra) == 1:
                    raise
                failures.append({"spectrum": s.meta.get("spectrum_index"),
                                 **spectrum_keys(s.meta), "error": str(exc)})
                continue
            fitted.append((r, comparison, g))
    return fitted, failures


def _print_json(
    fitted: Sequence[tuple[Any, Any, Any]],
    failures: list[dict[str, Any]],
    grain: Any,
    *,
    single: bool,
) -> None:
    """The fits as one JSON document on stdout (a fit that cannot be reported joins
    ``failures``; for a ``single`` spectrum it is an error)."""
    from eisfit.fitting.save import saved_keys

    # every object is built before anything is printed: stdout gets one whole document
    objs = []
    for r, comparison, g in fitted:
        try:
            d = r.to_dict(g)
            d.update(saved_keys(r))  # 'format' and 'saved': eisfit.load_result reads it
            if comparison is not None:
                d["model_choice"] = comparison.to_dict()
            if grain is not None:
                from eisfit.analysis.microstructure import brick_layer_entry

                d["brick_layer"] = brick_layer_entry(r, g, grain)
        except Exception as exc:  # a fit that cannot be reported is a failed spectrum
            from eisfit.fitting.failures import one_line

            if single:
                raise EisfitError(f"the fit could not be reported: {one_line(exc)}") from None
            index = r.spectrum.meta.get("spectrum_index")
            failures.append({"spectrum": index, "error": one_line(exc)})
            continue
        objs.append(d)
    out: Any = objs[0] if len(objs) == 1 and not failures else objs
    if failures:
        out = {"spectra": objs, "failures": failures}
    print(json.dumps(out, indent=2))


def _print_text(
    fitted: Sequence[tuple[Any, Any, Any]], failures: Sequence[dict[str, Any]], grain: Any
) -> None:
    """Each fit's report on stdout (brick layer and model choice too), failures on stderr."""
    for r, comparison, g in fitted:
        print(r.report(g))
        if grain is not None:
            print(brick_layer_text(r, g, grain))
        if comparison is not None:
            print(comparison.report())
        print()
    for f in failures:
        cycle = "".join(f", {k} {f[k]}" for k in ("cycle", "loop") if k in f)
        print(f"spectrum {f['spectrum']}{cycle}: failed: {f['error']}", file=sys.stderr)


def _write_plot(args: argparse.Namespace, result: Any, plot_format: str) -> None:
    """--plot FILE: the figure of the first fit."""
    from eisfit.fitting.failures import one_line
    from eisfit.output import write_atomic
    from eisfit.show.plot import fit_figure

    fig = fit_figure(result)
    try:
        write_atomic(args.plot, lambda t: fig.savefig(t, dpi=150, format=plot_format),
                     force=args.force)
    except (ValueError, RuntimeError) as exc:  # matplotlib could not make the file
        raise EisfitError(f"--plot {args.plot}: {one_line(exc)}") from None
    if not args.json:
        from eisfit.labels import spectrum_label

        which = spectrum_label(result.spectrum.meta)  # the first of several fitted
        print(f"plot {'' if which is None else f'of {which} '}written to {args.plot}")


def _cmd_validate(args: argparse.Namespace) -> int:
    """Lin-KK check of every spectrum, the Z-HIT check printed beside it: 0 all pass lin-KK,
    1 some fail it, 2 some could not be checked."""
    from eisfit.analysis.kk import kramers_kronig
    from eisfit.io import read_all

    threshold = None
    if args.threshold is not None:
        if not 0 < args.threshold < 100:
            raise EisfitError(
                f"--threshold is a percentage of |Z| in (0, 100), got {args.threshold}"
            )
        threshold = args.threshold / 100
    checked: list[tuple[str, Any]] = []
    zhits: list[Any] = []
    for path in args.paths:
        spectra = read_all(path, args.format)
        for i, s in enumerate(spectra):
            label = str(s.source or path)
            if len(spectra) > 1:
                label += f" [spectrum {s.meta.get('spectrum_index', i)}]"
            try:
                checked.append((label, kramers_kronig(s, threshold=threshold)))
            except EisfitError as exc:
                checked.append((label, exc))
            zhits.append(_zhit_or_error(s))
    if args.json:
        objs = []
        for (label, kk), zh in zip(checked, zhits, strict=True):
            d: dict[str, Any] = {"source": label}
            if isinstance(kk, EisfitError):
                d.update(passed=None, error=str(kk))
            else:
                d.update(kk.to_dict())
                d["summary"] = kk.summary()
            d["zhit"] = ({"passed": None, "error": str(zh)} if isinstance(zh, EisfitError)
                         else {**zh.to_dict(), "summary": zh.summary()})
            objs.append(d)
        print(json.dumps(objs[0] if len(objs) == 1 else objs, indent=2))
    else:
        for (label, kk), zh in zip(checked, zhits, strict=True):
            if isinstance(kk, EisfitError):
                print(f"{label}: could not be checked: {kk}")
            else:
                print(f"{label}: {kk.summary()}")
            # Z-HIT beside lin-KK, indented under it; the exit status follows lin-KK
            print(f"    Z-HIT not run: {zh}" if isinstance(zh, EisfitError)
                  else f"    {zh.summary()}")
    if any(isinstance(kk, EisfitError) for _, kk in checked):
        return 2
    return 0 if all(kk.passed for _, kk in checked) else 1


def _zhit_or_error(spectrum: Any) -> Any:
    """The Z-HIT check of a spectrum (:func:`eisfit.zhit`), or the error that stopped it."""
    from eisfit.analysis.zhit_check import zhit

    try:
        return zhit(spectrum)
    except EisfitError as exc:
        return exc


def _cmd_circuits(args: argparse.Namespace) -> int:
    from eisfit.model.named import named_circuits

    circuits = named_circuits()
    if args.json:
        print(json.dumps({k: {"circuit": v.circuit, "cell": v.cell, "roles": v.roles,
                              "description": v.description} for k, v in circuits.items()},
                         indent=2))
        return 0
    for name, nc in circuits.items():
        roles = ", ".join(f"{k}={v}" for k, v in nc.roles.items())
        print(f"{name:<16} {nc.circuit}")
        print(f"{'':<16} {nc.description}")
        print(f"{'':<16} roles: {roles}")
        print()
    return 0


def _cmd_read(args: argparse.Namespace) -> int:
    from eisfit.io.summary import describe

    print(describe(args.path, args.format))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from eisfit.cli.demo import run_demo

    # compiled where numba is installed: the sulfide pellet's fallbacks (blocking ->
    # blocking-single -> blocking-spike) take longer with numpy than loading the kernels
    return run_demo(args.out, force=args.force)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``eisfit`` command."""
    from eisfit._version import __version__

    parser = _Parser(
        prog="eisfit",
        description="Fit impedance spectra of solid-state battery cells: resistances, "
        "capacitances, conductivity.",
    )
    parser.add_argument("--version", action="version", version=f"eisfit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("fit", help="fit one file (every spectrum in it)")
    p.add_argument("path", help="the data file")
    _add_fit_options(p)
    p.add_argument("--plot", metavar="FILE", help="save a Nyquist + residual plot (png, svg, pdf)")
    p.add_argument(
        "--elements",
        action="append",
        metavar="FILE",
        help="a Python file defining circuit elements with eisfit.define_element, usable in "
        "--circuit (may be repeated; see docs/elements.md)",
    )
    add_saved_options(p)
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser(
        "validate",
        help="Kramers-Kronig (lin-KK) check of every spectrum (exit 0 all pass, 1 some fail), "
        "with the Z-HIT check beside it",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="data files")
    p.add_argument("--format", help="file format, to skip detection (see 'eisfit read')")
    p.add_argument(
        "--threshold",
        type=float,
        metavar="PCT",
        help="pass threshold on the largest residual, percent of |Z| (default 2.5)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (residuals included)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("circuits", help="list the named circuits and their roles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_circuits)

    p = sub.add_parser("read", help="show what a file holds (format, spectra, metadata)")
    p.add_argument("path")
    p.add_argument("--format")
    p.set_defaults(func=_cmd_read)

    p = sub.add_parser(
        "demo", help="run the main job on the bundled examples: report.html, plots, CSV, JSON"
    )
    p.add_argument("--out", default="eisfit-demo", help="output folder (default: eisfit-demo)")
    p.add_argument("--force", action="store_true", help="overwrite the demo's files in the folder")
    p.set_defaults(func=_cmd_demo)

    from eisfit.cli.batch import add_batch_parser

    add_batch_parser(sub)
    from eisfit.cli.polarisation import add_polarisation_parser

    add_polarisation_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from eisfit._startup import defer_numpy_tools

    defer_numpy_tools()  # numpy.f2py and numpy.testing, which scipy's import would load
    try:
        return int(args.func(args))
    except EisfitError as exc:
        print(f"eisfit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eisfit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of the output went away (e.g. `eisfit batch ... --json | head`): stop
        # quietly, with stdout pointed at the null device so flushing it at exit cannot fail
        # again, and the status of a process stopped by SIGPIPE
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):  # stdout is not a file descriptor
            pass
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
