"""The ``eisfit polarisation`` command: electronic conductivity (steady-state Hebb–Wagner) of an
ion-blocking cell from a chronoamperometry file, and with ``--impedance`` the ionic transference
number."""

from __future__ import annotations

import argparse
import json
import re
import warnings
from types import SimpleNamespace
from typing import Any

from eisfit.cli.options import (
    add_cell_options,
    external_from_args,
    fixture_from_args,
    geometry_from_args,
)
from eisfit.cli.outputs import plot_file_format
from eisfit.exceptions import EisfitError

__all__ = ["add_polarisation_parser", "parse_voltage"]

_VOLTAGE_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(V|mV|uV|µV)\s*$")
_VOLT_FACTORS = {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6}


def parse_voltage(text: str, option: str = "--voltage") -> float:
    """A voltage with its unit (``0.5V``, ``50 mV``) in V.

    Raises
    ------
    EisfitError
        A bare number (V or mV?), another unit, or zero.
    """
    m = _VOLTAGE_RE.match(text)
    if not m:
        raise EisfitError(f"{option} {text!r}: expected a voltage with its unit, e.g. 0.5V or "
                          "50mV")
    v = float(m.group(1)) * _VOLT_FACTORS[m.group(2)]
    if v == 0:
        raise EisfitError(f"{option} {text!r}: the voltage must not be zero")
    return v


def add_polarisation_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``polarisation`` command to an argparse ``subparsers`` object; return it."""
    p = subparsers.add_parser(
        "polarisation",
        help="electronic conductivity from a DC polarisation (chronoamperometry) file",
        description="Steady-state Hebb-Wagner analysis of an ion-blocking cell: the steady "
        "current I_ss, sigma_e = I_ss L/(dV A), and with --impedance the ionic conductivity "
        "(total resistance of the fit) and the ionic transference number.",
    )
    p.add_argument("path", metavar="CA_FILE",
                   help="chronoamperometry file (EC-Lab .mpt, Gamry CHRONOA .DTA, CSV)")
    p.add_argument("--voltage", help="applied voltage with its unit, e.g. 0.5V (default: the "
                   "record's voltage; a staircase record uses each step's)")
    add_cell_options(p)
    p.add_argument("--impedance", metavar="EIS_FILE",
                   help="impedance spectrum of the same cell: its fitted total resistance "
                   "gives the ionic conductivity and t_ion")
    p.add_argument("--circuit", default="blocking",
                   help="circuit fitted to --impedance (default: blocking)")
    p.add_argument("--tail", type=float, default=0.1, metavar="FRACTION",
                   help="fraction of each step at its end averaged for I_ss (default 0.1)")
    p.add_argument("--method", choices=["mean", "fit"], default="mean",
                   help="I_ss as the mean of the tail (default) or the asymptote of an "
                   "exponential fitted to the last half of the step")
    p.add_argument("--start", type=float, metavar="S", help="analyse from this time (s)")
    p.add_argument("--end", type=float, metavar="S", help="analyse up to this time (s)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a report")
    p.add_argument("--plot", metavar="FILE", help="save current against time (png, svg, pdf)")
    p.add_argument("--log", choices=["current", "time", "both"],
                   help="logarithmic axes in --plot")
    p.add_argument("--report", metavar="FILE.html",
                   help="write a self-contained HTML page: the record, the steady state of "
                   "each step, the results with errors, the warnings, the plot, the method")
    p.add_argument("--bruce-vincent", nargs=2, metavar=("R0", "RS"),
                   help="Bruce-Vincent t+ of a Li|electrolyte|Li record instead of sigma_e: "
                   "the cell's interfacial resistance before (R0) and after (RS) the "
                   "polarisation, in Ohm (e.g. 120 135, or 1.2kOhm); I0 is the first point")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing --plot or --report file")
    p.set_defaults(func=_cmd_polarisation)
    return p


def _ionic_fit(args: argparse.Namespace, geometry: Any) -> Any:
    """The fit of ``--impedance`` (its first spectrum; fixture-corrected with ``--open``/
    ``--short``), or None."""
    fixture = fixture_from_args(args)
    external = external_from_args(args)
    if args.impedance is None:
        if fixture is not None or external:
            raise EisfitError("--open, --short and --external-resistance apply to the spectrum "
                              "of --impedance EIS_FILE")
        return None
    from eisfit.fitting.single import fit
    from eisfit.io import read_all

    spectra = read_all(args.impedance)
    if len(spectra) > 1:
        warnings.warn(f"--impedance {args.impedance} holds {len(spectra)} spectra; the first is "
                      "fitted", UserWarning, stacklevel=2)
    spectrum = spectra[0]
    if fixture is not None:
        spectrum = fixture.correct(spectrum)
    return fit(spectrum, args.circuit, weighting=args.weighting, external_resistance=external,
               kk=False)


def _resistances(args: argparse.Namespace) -> tuple[float, float] | None:
    """``--bruce-vincent R0 RS`` in Ohm (a bare number is in Ohm), or None."""
    if args.bruce_vincent is None:
        return None
    from eisfit.units import parse_resistance

    if args.impedance is not None:
        raise EisfitError("--bruce-vincent and --impedance: Bruce-Vincent takes the interfacial "
                          "resistances R0 and RS of a Li|electrolyte|Li cell, not a fit of a "
                          "blocking cell; give one or the other")
    r0, rs = (parse_resistance(v, f"--bruce-vincent {name}", bare_unit="Ohm")
              for v, name in zip(args.bruce_vincent, ("R0", "RS"), strict=True))
    return r0, rs


def _check_outputs(args: argparse.Namespace) -> str | None:
    """Refuse unwritable ``--plot``/``--report`` files before any work; the plot's format."""
    from eisfit.output import check_writable

    plot_format = None
    if args.plot is not None:

        plot_format = plot_file_format(args.plot)
        check_writable(args.plot, args.force, probe=True, what="--plot")
    if args.log is not None and args.plot is None:
        raise EisfitError("--log applies only with --plot")
    if args.report is not None:
        if not str(args.report).lower().endswith((".html", ".htm")):
            raise EisfitError(f"--report {args.report}: expected an .html file")
        check_writable(args.report, args.force, probe=True, what="--report")
    return plot_format


def _cmd_polarisation(args: argparse.Namespace) -> int:
    from eisfit.analysis.polarisation import bruce_vincent, hebb_wagner
    from eisfit.analysis.polarisation_steady import SteadyStateWarning
    from eisfit.io.polarisation import read_polarisation

    voltage = None if args.voltage is None else parse_voltage(args.voltage)
    geometry = geometry_from_args(args, need_thickness=None)
    resistances = _resistances(args)
    plot_format = _check_outputs(args)
    record = read_polarisation(args.path)
    if args.start is not None or args.end is not None:
        record = record.between(args.start, args.end)
    result = bv = fitted = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if resistances is not None:
            bv = bruce_vincent(record, voltage, *resistances, tail=args.tail,
                               method=args.method)
        else:
            fitted = _ionic_fit(args, geometry)
            result = hebb_wagner(record, voltage, geometry, fitted, tail=args.tail,
                                 method=args.method)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
                or issubclass(w.category, SteadyStateWarning)]
    if bv is not None:
        _print_bruce_vincent(args, bv, messages)
    else:
        _print_hebb_wagner(args, result, fitted, messages)
    steps = result if result is not None else SimpleNamespace(steps=(bv.steady,))
    if plot_format is not None:
        _write_plot(args, record, steps, plot_format)
    if args.report is not None:
        from eisfit.show.report_polarisation import write_polarisation_report

        write_polarisation_report(args.report, record, result, bruce=bv, warnings=messages,
                                  force=args.force)
        if not args.json:
            print(f"report written to {args.report}")
    return 0


def _print_bruce_vincent(args: argparse.Namespace, bv: Any, messages: list[str]) -> None:
    """Bruce-Vincent t+ as JSON or text."""
    from eisfit.analysis.polarisation import _ve
    from eisfit.format import value_error

    if args.json:
        print(json.dumps({"source": args.path, "bruce_vincent": bv.to_dict(),
                          "warnings": messages}, indent=2))
        return
    i0 = "the first point" if bv.initial == "first" else "extrapolated"
    print(f"Bruce-Vincent transference number: {args.path}")
    print(f"  t+       {_ve(bv.t_plus, '')}")
    print(f"  dV       {bv.voltage_V:.6g} V")
    print(f"  I0       {bv.initial_A:.6g} A ({i0})")
    print(f"  I_ss     {value_error(bv.steady.current_A, bv.steady.error_A, 'A')}")
    print(f"  R0, Rs   {_ve(bv.r0, 'Ohm')}, {_ve(bv.rs, 'Ohm')}")
    for m in messages:
        print(f"warning: {m}")


def _print_hebb_wagner(args: argparse.Namespace, result: Any, fitted: Any,
                       messages: list[str]) -> None:
    """The Hebb-Wagner result as JSON or text."""
    from eisfit.output import json_float

    if args.json:
        d = result.to_dict()
        d["warnings"] = messages
        if fitted is not None:
            d["impedance"] = {"source": args.impedance,
                              "circuit": fitted.circuit_name or fitted.circuit,
                              "chi_square": fitted.chi_square,
                              "resistances_ohm": {k: json_float(v)
                                                  for k, v in fitted.resistances.items()}}
        print(json.dumps(d, indent=2))
    else:
        print(result.report())
        for m in messages:
            print(f"warning: {m}")


def _write_plot(args: argparse.Namespace, record: Any, result: Any, plot_format: str) -> None:
    from eisfit.fitting.failures import one_line
    from eisfit.output import write_atomic
    from eisfit.show.plot_polarisation import plot_polarisation

    ax = plot_polarisation(record, result, log=args.log)
    try:
        write_atomic(args.plot, lambda t: ax.figure.savefig(t, dpi=150, format=plot_format),
                     force=args.force)
    except (ValueError, RuntimeError) as exc:
        raise EisfitError(f"--plot {args.plot}: {one_line(exc)}") from None
    if not args.json:
        print(f"plot written to {args.plot}")
