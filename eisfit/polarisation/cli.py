"""The ``eisfit polarisation`` command: electronic conductivity (steady-state Hebb–Wagner) of an
ion-blocking cell from a chronoamperometry file, and with ``--impedance`` the ionic transference
number."""

from __future__ import annotations

import argparse
import json
import re
import warnings
from typing import Any

from ..cli_options import (
    add_cell_options,
    external_from_args,
    fixture_from_args,
    geometry_from_args,
)
from ..exceptions import EisfitError

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
    p.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
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
    from ..fitting import fit
    from ..io import read_all

    spectra = read_all(args.impedance)
    if len(spectra) > 1:
        warnings.warn(f"--impedance {args.impedance} holds {len(spectra)} spectra; the first is "
                      "fitted", UserWarning, stacklevel=2)
    spectrum = spectra[0]
    if fixture is not None:
        spectrum = fixture.correct(spectrum)
    return fit(spectrum, args.circuit, weighting=args.weighting, external_resistance=external,
               kk=False)


def _cmd_polarisation(args: argparse.Namespace) -> int:
    from ..output import json_float
    from .analysis import hebb_wagner
    from .read import read_polarisation
    from .steady import SteadyStateWarning

    voltage = None if args.voltage is None else parse_voltage(args.voltage)
    geometry = geometry_from_args(args, need_thickness=None)
    plot_format = None
    if args.plot is not None:
        from ..cli import _plot_format
        from ..output import check_writable

        plot_format = _plot_format(args.plot)
        check_writable(args.plot, args.force, probe=True, what="--plot")
    if args.log is not None and args.plot is None:
        raise EisfitError("--log applies only with --plot")
    record = read_polarisation(args.path)
    if args.start is not None or args.end is not None:
        record = record.between(args.start, args.end)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = _ionic_fit(args, geometry)
        result = hebb_wagner(record, voltage, geometry, fitted, tail=args.tail,
                             method=args.method)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
                or issubclass(w.category, SteadyStateWarning)]
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
    if plot_format is not None:
        _write_plot(args, record, result, plot_format)
    return 0


def _write_plot(args: argparse.Namespace, record: Any, result: Any, plot_format: str) -> None:
    from ..batch import one_line
    from ..output import write_atomic
    from .plot import plot_polarisation

    ax = plot_polarisation(record, result, log=args.log)
    try:
        write_atomic(args.plot, lambda t: ax.figure.savefig(t, dpi=150, format=plot_format),
                     force=args.force)
    except (ValueError, RuntimeError) as exc:
        raise EisfitError(f"--plot {args.plot}: {one_line(exc)}") from None
    if not args.json:
        print(f"plot written to {args.plot}")
