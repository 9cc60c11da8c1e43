"""Options shared by the ``eisfit fit`` and ``eisfit batch`` commands, turned into objects."""

from __future__ import annotations

import argparse
from typing import Any

from eisfit.exceptions import EisfitError


def add_cell_options(p: argparse.ArgumentParser) -> None:
    """Add the geometry, external-resistance, weighting and fixture options to a subcommand."""
    p.add_argument(
        "--thickness",
        help="sample thickness with a unit, e.g. 1.2mm or 52um (with the area: conductivity)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--diameter", help="electrode diameter with a unit, e.g. 10mm")
    g.add_argument(
        "--area", help="electrode area with a unit, e.g. 0.785cm2 (alone: area-specific resistance)"
    )
    p.add_argument(
        "--external-resistance",
        metavar="OHM",
        help="cables and cell hardware, subtracted from a high-frequency intercept (e.g. 1.83)",
    )
    from eisfit.fitting.weighting import WEIGHTINGS

    p.add_argument(
        "--weighting", choices=sorted(WEIGHTINGS), default="modulus",
        help="residual weighting (default modulus; docs/analyses.md, Weighting)",
    )
    p.add_argument(
        "--sigma", metavar="SIGMA_FILE",
        help="a table of frequency and sigma_re, sigma_im (or sigma/dZ) in Ohm: every spectrum "
        "fitted with weights 1/sigma (sets --weighting sigma)",
    )
    add_fixture_options(p)


def add_fixture_options(p: argparse.ArgumentParser) -> None:
    """Add ``--open``, ``--short`` and ``--leads-model`` (fixture compensation) to a subcommand."""
    p.add_argument(
        "--open", metavar="OPEN_FILE",
        help="the fixture measured open (no cell): open/short compensation of every spectrum",
    )
    p.add_argument(
        "--short", metavar="SHORT_FILE",
        help="the fixture measured shorted: its lead impedance is removed from every spectrum",
    )
    p.add_argument(
        "--leads-model", action="store_true",
        help="replace the short by R_lead + jwL_lead fitted to it (for a noisy short)",
    )


def sigma_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~eisfit.analysis.sigma.SigmaTable` of ``--sigma`` (None without it), read before
    any
    data file; sets ``args.weighting`` to ``sigma``. ``--weighting sigma`` without ``--sigma``,
    or ``--sigma`` with another weighting than modulus (the default) or sigma, is a one-line
    error."""
    if args.sigma is None:
        if args.weighting == "sigma":
            raise EisfitError(
                "--weighting sigma needs --sigma SIGMA_FILE (the sigma of each point)"
            )
        return None
    if args.weighting not in ("modulus", "sigma"):
        raise EisfitError(
            f"--sigma gives the weights of --weighting sigma: drop --weighting {args.weighting}"
        )
    from eisfit.analysis.sigma import read_sigma

    args.weighting = "sigma"
    return read_sigma(args.sigma)


def fixture_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~eisfit.analysis.fixture.Fixture` of ``--open``/``--short``/``--leads-model``;
    None
    when neither file is given (``--leads-model`` alone is a one-line error)."""
    if args.open is None and args.short is None:
        if args.leads_model:
            raise EisfitError("--leads-model needs --short SHORT_FILE (the model is fitted to it)")
        return None
    from eisfit.analysis.fixture import Fixture

    return Fixture.from_files(open=args.open, short=args.short, leads_model=args.leads_model)


def geometry_from_args(
    args: argparse.Namespace, *, need_thickness: str | None = "conductivity"
) -> Any:
    """The :class:`~eisfit.Geometry` of ``--thickness`` with ``--diameter`` or ``--area``.

    Parameters
    ----------
    args
        The parsed options.
    need_thickness
        What the command needs the thickness for when an area alone is not enough (``eisfit
        batch``: conductivity, the default); None accepts an area alone (``eisfit fit``: ASR,
        no conductivity).

    Returns
    -------
    Geometry or None
        None when none of the options is given; an incomplete set is a one-line error.
    """
    if args.thickness is None and args.diameter is None and args.area is None:
        return None
    from eisfit.model.geometry import Geometry

    if args.diameter is None and args.area is None:
        raise EisfitError("--diameter or --area is needed with --thickness (e.g. --diameter 10mm)")
    if args.thickness is None and need_thickness is not None:
        raise EisfitError(
            f"--thickness is needed with --diameter/--area for {need_thickness} "
            "(e.g. --thickness 1.2mm)"
        )
    return Geometry(thickness=args.thickness, diameter=args.diameter, area=args.area)


def workers_from_args(args: argparse.Namespace) -> int:
    """The worker processes of ``--workers N`` (default: every core this process may use)."""
    from eisfit.fitting.batch import default_workers

    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise EisfitError(f"--workers must be at least 1, got {workers}")
    return workers


def external_from_args(args: argparse.Namespace) -> float:
    """``--external-resistance`` in Ohm (a bare number is Ohm); 0 when not given."""
    if args.external_resistance is None:
        return 0.0
    from eisfit.units import parse_resistance

    return parse_resistance(args.external_resistance, "--external-resistance", bare_unit="Ohm")


def add_engine_option(p: argparse.ArgumentParser) -> None:
    """Add ``--engine``: which engine fits (:class:`~eisfit.fitting.spec.FitSpec` ``engine``)."""
    p.add_argument(
        "--engine", choices=["auto", "compiled", "numpy"], default="auto",
        help="the fitting engine: compiled (numba, the 'fast' extra) or numpy; auto (default) "
        "fits 100 spectra or more compiled where numba is installed, fewer with numpy, which "
        "starts faster; both give the same fits",
    )


def add_constrain_option(p: argparse.ArgumentParser) -> None:
    """``--constrain EXPR`` (repeatable): an expression between parameters of the fit."""
    p.add_argument(
        "--constrain",
        action="append",
        metavar="EXPR",
        help="constrain a parameter, e.g. 'CPE2_1=CPE1_1', 'R2>R1' or 'CPE1_1=0.9*CPE2_1' "
        "(repeatable; the circuit's parameter names, see docs/analyses.md)",
    )
