"""The capacitance check: is each arc's effective capacitance what its role should have?

A capacitance scales with the cell in one of two ways (Irvine, Sinclair & West, Adv. Mater. 1990):

* geometric roles (``bulk``, ``grain_boundary``, ``electrolyte``) have C = ε A / L, so their
  expected range is per unit cell constant, C·(L/A) in F/cm;
* interfacial roles (``electrode``, ``interface``, ``anode_interface``, ``cathode_interface``)
  have a capacitance per unit electrode area, C/A in F/cm², whatever the thickness.

A named circuit's ranges (``circuits/*.toml``) are written per cell constant and per area and
turned into farads for the cell: the given geometry, else the circuit's *reference cell* (a
pellet 1 mm thick with 10 mm electrodes, L/A = 0.127 cm⁻¹, like most pellets measured). One rule
and one set of ranges, so a cell like the reference gets the same verdict with or without its
geometry, and a cell far from it (a thin film, a thick small sample) the verdict its geometry
implies. (Reading the ranges as farads for L/A = 1 cm⁻¹ without a geometry, as before, judged a
0.75 mm × 13 mm pellet, L/A = 0.057 cm⁻¹, eighteen times off: its bulk arc "may be the grain
boundary" without a geometry and its grain-boundary arc "may be the bulk" with it.)

The fit's own thresholds (``capacitance_F``: an arc with an electrode's capacitance, a
hidden-role arc with a slower process's) are separate and unchanged.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from eisfit.findings import Finding

__all__ = [
    "AREA_ROLES",
    "REFERENCE_CELL",
    "Verdict",
    "expected_range",
    "per_unit",
    "verdicts",
    "warning_text",
]

#: Roles whose capacitance is per electrode area (F/cm²); every other role's is per cell
#: constant (F·cm⁻¹).
AREA_ROLES = frozenset({"electrode", "interface", "anode_interface", "cathode_interface"})
#: The reference cell of the pellet circuits: (thickness in cm, area in cm²) of a pellet 1 mm
#: thick with 10 mm electrodes (cell constant 0.127 cm⁻¹).
REFERENCE_CELL = (0.1, math.pi * 0.25)


def _cell(geometry: Any) -> tuple[float | None, float | None]:
    """(cell constant in 1/cm, area in cm²) of the geometry; None where it does not say."""
    if geometry is None:
        return None, None
    k = geometry.cell_constant_per_cm if getattr(geometry, "has_thickness", True) else None
    return k, float(geometry.area_cm2)


def per_unit(named: Any, role: str) -> tuple[float, float] | None:
    """The range of ``role`` per unit: F/cm per cell constant, or F/cm² for interfacial roles.

    Parameters
    ----------
    named
        A :class:`~eisfit.model.named.NamedCircuit`.
    role
        One of its roles.

    Returns
    -------
    tuple of float or None
        (low, high), or None when the circuit gives no range for the role.

    Examples
    --------
    >>> from eisfit.model.named import named_circuits
    >>> lo, hi = per_unit(named_circuits()["blocking"], "bulk")
    >>> f"{lo:.0e}-{hi:.0e} F/cm"
    '1e-14-1e-10 F/cm'
    """
    unit = named.capacitance_unit.get(role)
    if unit is not None:
        return unit
    rng = named.capacitance_F.get(role)  # a circuit with ranges in F only: its reference cell
    if rng is None:
        return None
    thickness_cm, area_cm2 = named.reference_cell
    if role in AREA_ROLES:
        return rng[0] / area_cm2, rng[1] / area_cm2
    k_ref = thickness_cm / area_cm2
    return rng[0] * k_ref, rng[1] * k_ref


def expected_range(named: Any, role: str, geometry: Any = None) -> tuple[float, float] | None:
    """The capacitance range in F expected for ``role`` in this cell.

    Parameters
    ----------
    named
        A :class:`~eisfit.model.named.NamedCircuit`.
    role
        One of its roles.
    geometry
        The cell's :class:`~eisfit.Geometry`, or None for the circuit's reference cell. A
        geometry without a thickness judges interfacial roles per area and geometric ones in the
        reference cell.

    Returns
    -------
    tuple of float or None
        (low, high) in F, or None when the circuit gives no range for the role.
    """
    unit = per_unit(named, role)
    if unit is None:
        return None
    k, area = _cell(geometry)
    thickness_ref, area_ref = named.reference_cell
    if role in AREA_ROLES:
        a = area if area is not None else area_ref
        return unit[0] * a, unit[1] * a
    k = k if k is not None else thickness_ref / area_ref
    return unit[0] / k, unit[1] / k


class Verdict(NamedTuple):
    """An arc whose capacitance is outside the range of its role."""

    role: str
    #: The first other role of the circuit whose range holds the capacitance, or None.
    may_be: str | None
    #: The arc's effective capacitance in F.
    capacitance: float


def verdicts(named: Any, capacitances: dict[str, float], geometry: Any = None) -> list[Verdict]:
    """The arcs whose capacitance is outside the range of their role, in this cell.

    Parameters
    ----------
    named
        The fit's :class:`~eisfit.model.named.NamedCircuit`, or None (no roles: no verdicts).
    capacitances
        Role -> effective capacitance in F (:attr:`eisfit.FitResult.capacitances`).
    geometry
        The cell's :class:`~eisfit.Geometry`, or None for the circuit's reference cell.

    Returns
    -------
    list of Verdict
        One per arc outside its range, in the order given.
    """
    if named is None:
        return []
    roles = dict.fromkeys([*named.capacitance_unit, *named.capacitance_F])
    ranges = {r: rng for r in roles if (rng := expected_range(named, r, geometry)) is not None}
    out = []
    for role, c in capacitances.items():
        rng = ranges.get(role)
        if rng is None or not math.isfinite(c) or rng[0] <= c <= rng[1]:
            continue
        other = [r for r, (lo, hi) in ranges.items() if r != role and lo <= c <= hi]
        out.append(Verdict(role, other[0] if other else None, float(c)))
    return out


def _cell_text(named: Any) -> str:
    from eisfit.units import format_area, format_length

    thickness_cm, area_cm2 = named.reference_cell
    return f"{format_length(thickness_cm / 100)} thick on {format_area(area_cm2 / 1e4)}"


def warning_text(named: Any, verdict: Verdict, geometry: Any = None) -> Finding:
    """The warning line of one verdict: a :class:`~eisfit.findings.Finding` with code
    ``capacitance_range``, the verdict's role, and the capacitance and the range in F for the
    cell as its numbers (``capacitance_F``, ``low_F``, ``high_F``).

    Examples
    --------
    >>> from eisfit.model.named import named_circuits
    >>> warning_text(named_circuits()["blocking"], Verdict("bulk", "grain_boundary", 1.6e-10))[:60]
    'bulk capacitance 1.6e-10 F is outside the range expected for'
    """
    role, may_be, c = verdict
    lo_f, hi_f = expected_range(named, role, geometry) or (math.nan, math.nan)
    numbers = {"capacitance_F": c, "low_F": lo_f, "high_F": hi_f}
    return Finding(_verdict_text(named, verdict, geometry), "capacitance_range", role=role,
                   numbers=numbers)


def _verdict_text(named: Any, verdict: Verdict, geometry: Any) -> str:
    """The text of :func:`warning_text`."""
    role, may_be, c = verdict
    hint = f" and in the {may_be} range: the arc may be the {may_be}" if may_be else ""
    k, area = _cell(geometry)
    unit = per_unit(named, role)
    assert unit is not None
    lo, hi = unit
    if role in AREA_ROLES and area is not None:
        return (
            f"{role} capacitance {c:.2g} F ({c / area:.2g} F/cm² on {area:.3g} cm²) is outside "
            f"the range expected for {role} ({lo:.2g}-{hi:.2g} F/cm²){hint}"
        )
    if role not in AREA_ROLES and k is not None:
        return (
            f"{role} capacitance {c:.2g} F ({c * k:.2g} F/cm per cell constant {k:.3g} cm^-1) "
            f"is outside the range expected for {role} ({lo:.2g}-{hi:.2g} F/cm){hint}"
        )
    lo_f, hi_f = expected_range(named, role) or (math.nan, math.nan)
    return (
        f"{role} capacitance {c:.2g} F is outside the range expected for {role} "
        f"({lo_f:.2g}-{hi_f:.2g} F in the reference cell, {_cell_text(named)}; the geometry "
        f"judges it in yours){hint}"
    )
