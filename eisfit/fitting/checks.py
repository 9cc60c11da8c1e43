"""The checks of a fit that depend on the cell: each arc's effective capacitance judged against its
role's range, in the given geometry or the circuit's reference cell, and extra warning lines.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from eisfit.findings import Finding, as_finding
from eisfit.fitting.result import FitResult


def capacitance_warnings(result: FitResult, geometry: Any = None) -> list[Finding]:
    """Arcs whose effective capacitance is outside the range expected for their role.

    One rule with or without geometry (:mod:`eisfit.model.capacitance`): the named circuit's ranges,
    per unit cell constant for geometric roles (bulk, grain boundary, electrolyte) and per unit
    area for interfacial ones (electrode, interfaces), are turned into farads for the cell: the
    given geometry, else the circuit's reference cell (a pellet 1 mm thick with 10 mm
    electrodes), as in the fit's own warnings. A geometry without a thickness judges the
    interfacial roles per area and the geometric ones in the reference cell.

    Parameters
    ----------
    result
        A fit of a named circuit (circuit strings have no roles: no warnings).
    geometry
        Optional :class:`eisfit.Geometry`.

    Returns
    -------
    list of Finding
        Code ``capacitance_range``, e.g.
        ``"grain_boundary capacitance 7.2e-11 F (4.1e-12 F/cm per cell constant 0.0565
        cm^-1) is outside the range expected for grain_boundary (1e-11-1e-08 F/cm) and in the
        bulk range: the arc may be the bulk"``.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> from eisfit.model.synthetic import blocking_cell
    >>> r = eisfit.fit(blocking_cell(np.random.default_rng(1)).spectrum, "blocking")
    >>> capacitance_warnings(r, eisfit.Geometry(thickness="1 mm", area="1 cm2"))
    []
    """
    from eisfit.model.capacitance import verdicts, warning_text

    return [
        warning_text(result.named, v, geometry)
        for v in verdicts(result.named, result.capacitances, geometry)
    ]


def with_geometry(result: FitResult, geometry: Any) -> FitResult:
    """The same fit with its capacitance warnings judged per cell constant.

    Parameters
    ----------
    result
        A fit.
    geometry
        An :class:`eisfit.Geometry`; None returns ``result`` unchanged.

    Returns
    -------
    FitResult
        A copy whose capacitance warnings (code ``capacitance_range``) are those of
        :func:`capacitance_warnings` with the geometry; every other warning is kept in place.
    """
    if geometry is None:
        return result
    kept = [w for w in result.warnings if as_finding(w).code != "capacitance_range"]
    new = capacitance_warnings(result, geometry)
    return dataclasses.replace(result, warnings=tuple(dict.fromkeys([*kept, *new])))


def with_warnings(result: FitResult, extra: Sequence[str | None]) -> FitResult:
    """The same fit with more warning lines (None entries and repeats are skipped)."""
    lines = [w for w in dict.fromkeys(extra) if w and w not in result.warnings]
    if not lines:
        return result
    return dataclasses.replace(result, warnings=(*result.warnings, *lines))
