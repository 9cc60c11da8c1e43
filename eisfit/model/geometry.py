"""Cell geometry: thickness and electrode area, and the numbers they turn resistances into.

Conductivity σ = L / (R·A) [S/cm] needs the thickness and the area; the area-specific resistance
ASR = R·A [Ohm cm²] needs only the area; the conductance G = 1/R [S] needs neither. Resistances
may be floats, NumPy arrays, or ``uncertainties`` values (``ufloat``/``unumpy.uarray``, e.g. a
fit's correlated ``uvars``): their standard errors and correlations propagate through the
``uncertainties`` package.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from uncertainties import UFloat

from eisfit.exceptions import GeometryError
from eisfit.units import format_area, format_length, parse_area, parse_length

__all__ = ["Geometry", "geometry_from_meta", "geometry_for"]


def _reject_number(value: Any, name: str) -> None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        raise GeometryError(
            f"{name} {value:g} is a bare number: give it as a string with a unit such as "
            f"'1.2 mm', or use Geometry.from_si(thickness_m, area_m2) for values in metres"
        )


def _si_positive(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise GeometryError(f"{name} must be a number in SI units, got {value!r}") from None
    if not math.isfinite(x):
        raise GeometryError(f"{name} must be a finite number, got {x}")
    if x <= 0:
        raise GeometryError(f"{name} must be positive, got {x}")
    return x


def _nominal(resistance: Any) -> np.ndarray:
    """Nominal values of a float/array/ufloat/uarray as a float array (for checks only)."""
    if isinstance(resistance, UFloat):
        return np.array([resistance.nominal_value])
    arr = np.asarray(resistance)
    if arr.dtype == object:
        return np.array(
            [x.nominal_value if isinstance(x, UFloat) else float(x) for x in arr.ravel()]
        )
    return arr.astype(float, copy=False).ravel()


def _as_resistance(resistance: Any) -> Any:
    """Check a resistance in Ohm (positive; NaN passes through) and return it ready for maths.

    Floats and ufloats stay scalars; sequences become arrays (object arrays for ufloats).
    """
    if isinstance(resistance, bool):
        raise GeometryError("resistance must be a number in Ohm, got bool")
    if isinstance(resistance, str):
        raise GeometryError(
            f"resistance must be a number in Ohm, got the string {resistance!r} "
            "(parse it with eisfit.units.parse_resistance)"
        )
    if isinstance(resistance, UFloat):
        value: Any = resistance
    elif isinstance(resistance, numbers.Real):
        value = float(resistance)
    else:
        value = np.asarray(resistance)
        if value.dtype != object:
            try:
                value = value.astype(float)
            except (TypeError, ValueError):
                raise GeometryError(
                    f"resistance must be numeric (Ohm), got {resistance!r}"
                ) from None
    try:
        nominal = _nominal(value)
    except (TypeError, ValueError):
        raise GeometryError(f"resistance must be numeric (Ohm), got {resistance!r}") from None
    bad = nominal <= 0  # NaN compares False: a failed fit's NaN stays NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = "" if np.ndim(value) == 0 else f"[{i}]"
        raise GeometryError(f"resistance{where} must be positive, got {nominal[i]:g} Ohm")
    return value


@dataclass(frozen=True, init=False)
class Geometry:
    """Thickness and electrode area of a cell or pellet.

    Parameters
    ----------
    thickness
        Thickness L with a unit, e.g. ``"1.2 mm"`` or ``"52 um"``; None for an area only, which
        gives the area-specific resistance (ASR) but no conductivity.
    area
        Electrode (contact) area with a unit, e.g. ``"0.785 cm2"``. Give exactly one of
        ``area`` and ``diameter``.
    diameter
        Electrode diameter with a unit, e.g. ``"10 mm"``; the area is π d²/4.
    note
        Where the geometry came from, shown with it in reports and JSON (e.g. ``"geometry from
        the file header: 0.75 mm thick, 13 mm diameter"``); not compared.

    Attributes
    ----------
    thickness_m : float or None
        Thickness in m; None when only the area is known.
    area_m2 : float
        Area in m².
    diameter_m : float or None
        Diameter in m when the geometry was given by diameter.

    Notes
    -----
    Bare numbers are refused (``1.2`` could be mm or µm); values already in metres go through
    :meth:`from_si`.

    Examples
    --------
    >>> g = Geometry(thickness="1.2 mm", diameter="10 mm")
    >>> print(g)
    1.2 mm thick, 10 mm diameter (0.785 cm²)
    >>> f"{g.conductivity(1000.0):.4g} S/cm"
    '0.0001528 S/cm'
    >>> Geometry(area="1 cm2").asr(25.0)
    25.0
    """

    thickness_m: float | None
    area_m2: float
    diameter_m: float | None
    note: str | None = field(default=None, compare=False)

    def __init__(
        self, thickness: Any = None, area: Any = None, diameter: Any = None, *,
        note: str | None = None,
    ) -> None:
        if (area is None) == (diameter is None):
            raise GeometryError(
                "give exactly one of area (e.g. '0.785 cm2') and diameter (e.g. '10 mm')"
                + (", not both" if area is not None else "")
            )
        thickness_m = None
        if thickness is not None:
            _reject_number(thickness, "thickness")
            thickness_m = parse_length(thickness, "thickness")
        diameter_m = None
        if diameter is not None:
            _reject_number(diameter, "diameter")
            diameter_m = parse_length(diameter, "diameter")
            area_m2 = math.pi * diameter_m**2 / 4
        else:
            _reject_number(area, "area")
            area_m2 = parse_area(area, "area")
        object.__setattr__(self, "thickness_m", thickness_m)
        object.__setattr__(self, "area_m2", area_m2)
        object.__setattr__(self, "diameter_m", diameter_m)
        object.__setattr__(self, "note", note)

    @classmethod
    def from_si(
        cls, thickness_m: float | None, area_m2: float | None = None, *,
        diameter_m: float | None = None, note: str | None = None,
    ) -> Geometry:
        """Build a geometry from numbers already in SI units (m, m²).

        Parameters
        ----------
        thickness_m
            Thickness in m; None for an area only (ASR, no conductivity).
        area_m2
            Area in m² (or give ``diameter_m``).
        diameter_m
            Diameter in m.
        note
            Where the geometry came from (see :class:`Geometry`).

        Examples
        --------
        >>> round(Geometry.from_si(1.2e-3, 7.85e-5).area_cm2, 12)
        0.785
        """
        if (area_m2 is None) == (diameter_m is None):
            raise GeometryError("give exactly one of area_m2 and diameter_m")
        self = cls.__new__(cls)
        t = None if thickness_m is None else _si_positive(thickness_m, "thickness_m")
        d = None if diameter_m is None else _si_positive(diameter_m, "diameter_m")
        a = math.pi * d**2 / 4 if d is not None else _si_positive(area_m2, "area_m2")
        object.__setattr__(self, "thickness_m", t)
        object.__setattr__(self, "area_m2", a)
        object.__setattr__(self, "diameter_m", d)
        object.__setattr__(self, "note", note)
        return self

    def with_note(self, note: str | None) -> Geometry:
        """The same geometry with another :attr:`note`."""
        new = copy.copy(self)
        object.__setattr__(new, "note", note)
        return new

    # ------------------------------------------------------------------ derived sizes
    @property
    def has_thickness(self) -> bool:
        """True when the thickness is known (conductivity and cell constant can be computed)."""
        return self.thickness_m is not None

    def _need_thickness(self, what: str) -> float:
        if self.thickness_m is None:
            raise GeometryError(
                f"{what} needs the thickness: this geometry has only the area "
                f"({format_area(self.area_m2)}); give a thickness too, e.g. "
                "Geometry(thickness='1 mm', ...) or --thickness 1mm"
            )
        return self.thickness_m

    @property
    def thickness_cm(self) -> float:
        """Thickness L in cm (a :class:`GeometryError` when only the area is known)."""
        return self._need_thickness("the thickness") * 100

    @property
    def area_cm2(self) -> float:
        """Area A in cm²."""
        return self.area_m2 * 1e4

    @property
    def cell_constant_per_cm(self) -> float:
        """Cell constant L/A in 1/cm (σ = cell constant / R); needs the thickness."""
        return self._need_thickness("the cell constant") * 100 / self.area_cm2

    # ------------------------------------------------------------------ resistances
    def conductivity(self, resistance_ohm: Any) -> Any:
        """Conductivity σ = L / (R·A) in S/cm.

        Parameters
        ----------
        resistance_ohm
            Resistance R in Ohm (> 0): a float, an array, a ``ufloat`` or a ``uarray``. NaN
            entries (failed fits) give NaN.

        Returns
        -------
        float, numpy.ndarray, or uncertainties value
            The same kind as the input, in S/cm; uncertainties propagate.

        Raises
        ------
        GeometryError
            A resistance that is zero or negative (the message gives its index).

        Examples
        --------
        >>> from uncertainties import ufloat
        >>> g = Geometry("1 cm", area="1 cm2")
        >>> print(g.conductivity(ufloat(100, 2)))
        0.01000+/-0.00020
        """
        k = self.cell_constant_per_cm
        r = _as_resistance(resistance_ohm)
        return k / r

    def asr(self, resistance_ohm: Any, *, interfaces: int = 1) -> Any:
        """Area-specific resistance R·A in Ohm cm².

        Parameters
        ----------
        resistance_ohm
            Resistance R in Ohm (> 0): float, array, ``ufloat`` or ``uarray``.
        interfaces
            Number of identical interfaces R is made of: a Li|SSE|Li symmetric cell has two, so
            the ASR of one interface is R·A/2 (``interfaces=2``).

        Returns
        -------
        float, numpy.ndarray, or uncertainties value
            ASR in Ohm cm², the same kind as the input.

        Examples
        --------
        >>> Geometry("1 mm", area="2 cm2").asr(50.0)
        100.0
        >>> Geometry("1 mm", area="2 cm2").asr(50.0, interfaces=2)
        50.0
        """
        if isinstance(interfaces, bool) or not isinstance(interfaces, numbers.Integral):
            number = isinstance(interfaces, numbers.Real) and not isinstance(interfaces, bool)
            got = f"{interfaces:g}" if number else repr(interfaces)
            raise GeometryError(f"interfaces must be a positive integer, got {got}")
        if interfaces < 1:
            raise GeometryError(f"interfaces must be a positive integer, got {interfaces}")
        r = _as_resistance(resistance_ohm)
        return r * (self.area_cm2 / int(interfaces))

    def conductance(self, resistance_ohm: Any) -> Any:
        """Conductance G = 1/R in S (independent of the geometry; here for symmetry).

        Examples
        --------
        >>> Geometry("1 mm", area="1 cm2").conductance(50.0)
        0.02
        """
        r = _as_resistance(resistance_ohm)
        return 1.0 / r

    # ------------------------------------------------------------------ display/serialise
    def __str__(self) -> str:
        if self.thickness_m is None:
            thick = "thickness not given"
        else:
            thick = f"{format_length(self.thickness_m)} thick"
        if self.diameter_m is not None:
            diameter = format_length(self.diameter_m)
            return f"{thick}, {diameter} diameter ({format_area(self.area_m2)})"
        return f"{thick}, {format_area(self.area_m2)} area"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: SI values plus the cm-based ones papers report.

        Without a thickness, ``thickness_m``, ``thickness_cm`` and ``cell_constant_per_cm`` are
        None and ``conductivity`` says it is not computed; ``note`` is there when the geometry
        has one.

        Examples
        --------
        >>> sorted(Geometry("1 mm", area="1 cm2").to_dict())
        ['area_cm2', 'area_m2', 'cell_constant_per_cm', 'diameter_m', 'thickness_cm', 'thickness_m']
        """
        t = self.thickness_m
        d: dict[str, Any] = {
            "thickness_m": None if t is None else float(t),
            "area_m2": float(self.area_m2),
            "diameter_m": None if self.diameter_m is None else float(self.diameter_m),
            "thickness_cm": None if t is None else float(t * 100),
            "area_cm2": float(self.area_cm2),
            "cell_constant_per_cm": None if t is None else float(self.cell_constant_per_cm),
        }
        if self.note:
            d["note"] = self.note
        if t is None:
            d["conductivity"] = "not computed: it needs the thickness, not given"
        return d


_HEADER = "geometry from the file header: "


def geometry_from_meta(meta: Any) -> Geometry | None:
    """The geometry a reader found in a file (``thickness_mm`` with ``diameter_mm`` or
    ``area_cm2`` in the spectrum's metadata), or None when the file gives none.

    Parameters
    ----------
    meta
        A spectrum's metadata mapping.

    Returns
    -------
    Geometry or None
        With a :attr:`~Geometry.note` saying it came from the file header. A thickness without
        an area (or an area without a thickness) is not enough: None.

    Examples
    --------
    >>> print(geometry_from_meta({"thickness_mm": 0.75, "diameter_mm": 13.0}).note)
    geometry from the file header: 0.75 mm thick, 13 mm diameter
    """
    try:
        t = float(meta.get("thickness_mm"))
    except (TypeError, ValueError):
        return None
    diameter, area = meta.get("diameter_mm"), meta.get("area_cm2")
    try:
        if diameter is not None:
            g = Geometry.from_si(t * 1e-3, diameter_m=float(diameter) * 1e-3)
            text = f"{t:g} mm thick, {float(diameter):g} mm diameter"
        elif area is not None:
            g = Geometry.from_si(t * 1e-3, float(area) * 1e-4)
            text = f"{t:g} mm thick, {float(area):g} cm² area"
        else:
            return None
    except (GeometryError, TypeError, ValueError):  # zero, negative, not finite: none
        return None
    return g.with_note(_HEADER + text)


def _plain(g: Geometry) -> str:
    """``0.75 mm thick, 13 mm diameter`` (no area in brackets)."""
    text = str(g)
    return text.split(" (")[0] if g.diameter_m is not None else text


def geometry_for(spectrum: Any, geometry: Geometry | None) -> Geometry | None:
    """The geometry to use for one spectrum: the user's when given, else the file's.

    Parameters
    ----------
    spectrum
        The spectrum (its ``meta`` may hold a geometry read from the file header).
    geometry
        The user's geometry, or None.

    Returns
    -------
    Geometry or None
        The user's geometry (its note says so when the file gives another one), the file's
        (noted ``geometry from the file header: ...``), or None.
    """
    found = geometry_from_meta(getattr(spectrum, "meta", {}) or {})
    if geometry is None:
        return found
    if found is None or geometry.note:
        return geometry
    header = (found.note or "").removeprefix(_HEADER)
    same = math.isclose(geometry.area_m2, found.area_m2, rel_tol=1e-6) and (
        geometry.thickness_m is not None
        and math.isclose(geometry.thickness_m, found.thickness_m or 0.0, rel_tol=1e-6)
    )
    if same:
        return geometry.with_note(f"geometry as given, the same as the file header's ({header})")
    return geometry.with_note(
        f"geometry as given ({_plain(geometry)}), not the file header's ({header})"
    )
