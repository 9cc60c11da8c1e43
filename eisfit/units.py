"""Quantities with units as users type them, turned into SI floats.

Lengths become metres, areas square metres, temperatures kelvin and resistances ohm. A length or
an area without a unit is an error that says which units to add: a thickness of ``"1.2"`` could
be millimetres or micrometres, and guessing wrong changes a conductivity a thousandfold.

Numbers that are not strings (``1.2``, ``numpy.float64(1.2)``) are accepted only when the caller
says which unit a bare number means, through the ``bare_unit`` keyword; the same keyword lets a
command-line option such as ``--external-resistance 1.83`` take a bare number as ohm.

Examples
--------
>>> parse_length("1.2 mm", "thickness")
0.0012
>>> parse_area("0.785 cm²", "area")
7.85e-05
>>> parse_temperature("25 °C")
298.15
>>> parse_resistance("2 kOhm")
2000.0
>>> parse_resistance("1.83", "external resistance", bare_unit="Ohm")
1.83
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from eisfit.exceptions import GeometryError

__all__ = [
    "LENGTH_UNITS",
    "AREA_UNITS",
    "RESISTANCE_PREFIXES",
    "parse_length",
    "parse_area",
    "parse_temperature",
    "parse_resistance",
    "format_length",
    "format_area",
    "format_number",
]

#: Zero-Celsius in kelvin.
ZERO_CELSIUS_K = 273.15
#: Temperatures below this (K) are taken for °C typed as K (by the Arrhenius fit and by the
#: temperatures of a series).
MIN_TEMPERATURE_K = 150.0

#: Length units (lower case, micro written ``u``) and their size in metres as a power of ten.
LENGTH_UNITS: dict[str, int] = {
    "m": 0,
    "cm": -2,
    "mm": -3,
    "um": -6,
    "micron": -6,
    "microns": -6,
    "nm": -9,
}

#: Area units (lower case, without the exponent) and their size in m² as a power of ten.
AREA_UNITS: dict[str, int] = {
    "m": 0,
    "cm": -4,
    "mm": -6,
    "um": -12,
}

#: Resistance prefixes as powers of ten (case matters: ``m`` is milli, ``M`` mega; ``K`` is
#: taken as kilo).
RESISTANCE_PREFIXES: dict[str, int] = {
    "": 0,
    "u": -6,
    "m": -3,
    "k": 3,
    "K": 3,
    "M": 6,
    "G": 9,
}

# A number, then (optionally) a unit. "nan"/"inf" are matched so that they get a clear message.
_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf(?:inity)?)"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>.*?)\s*$", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+")

# Characters users paste that mean something plainer.
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "}
_MICRO = ("\u00b5", "\u03bc")  # MICRO SIGN, GREEK SMALL LETTER MU
_OHM_SIGNS = ("\u03a9", "\u2126")  # GREEK CAPITAL OMEGA, OHM SIGN
_AREA_EXPONENTS = ("^2", "**2", "\u00b2", "2")

_LENGTH_HINT = "m, cm, mm, um (µm) or nm"
_AREA_HINT = "m2, cm2, mm2 or um2 (cm^2 and cm² also work)"
_TEMPERATURE_HINT = "C (°C, degC) or K"
_RESISTANCE_HINT = "Ohm, mOhm, kOhm or MOhm (Ω also works)"


# --------------------------------------------------------------------------- helpers
def format_number(x: float, digits: int = 6) -> str:
    """Format ``x`` compactly (``%g`` with ``digits`` significant figures).

    Examples
    --------
    >>> format_number(1.2 * 1000)
    '1200'
    """
    return f"{x:.{digits}g}"


def format_length(metres: float, digits: int = 4) -> str:
    """Format a length in metres with a unit a reader expects (mm, µm or nm).

    Examples
    --------
    >>> format_length(0.0012)
    '1.2 mm'
    >>> format_length(52e-6)
    '52 µm'
    """
    if metres >= 1e-3 or metres == 0:
        return f"{metres * 1e3:.{digits}g} mm"
    if metres >= 1e-6:
        return f"{metres * 1e6:.{digits}g} µm"
    return f"{metres * 1e9:.{digits}g} nm"


def format_area(square_metres: float, digits: int = 3) -> str:
    """Format an area in m² as cm² (``0.785 cm²``).

    Examples
    --------
    >>> format_area(7.853981633974483e-05)
    '0.785 cm²'
    """
    return f"{square_metres * 1e4:.{digits}g} cm²"


def _is_bare_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _split(value: Any, name: str, hint: str) -> tuple[float, str, str]:
    """Split user input into (number, unit text, original text). Unit text may be empty."""
    if _is_bare_number(value):
        return float(value), "", format_number(float(value))
    if not isinstance(value, str):
        raise GeometryError(
            f"{name} must be a string with a unit such as '1.2 mm', got {type(value).__name__}"
        )
    text = value
    for odd, plain in _SPACES.items():
        text = text.replace(odd, plain)
    if not text.strip():
        raise GeometryError(f"{name} is empty: give a number with a unit ({hint})")
    m = _QUANTITY.match(text)
    # "1,2 mm" either fails to match or leaves ",2 mm" as the unit
    if (m is None or m.group("unit").startswith(",")) and _DECIMAL_COMMA.match(text):
        raise GeometryError(
            f"{name} {value!r} uses a decimal comma: write it with a point, "
            f"e.g. {text.strip().replace(',', '.', 1)!r}"
        )
    if m is None:
        raise GeometryError(f"{name} {value!r} is not a number with a unit ({hint})")
    return float(m.group("num")), m.group("unit"), value.strip()


def _check_finite(number: float, name: str, original: str) -> None:
    if not math.isfinite(number):
        raise GeometryError(f"{name} {original!r} is not a finite number")


def _check_positive(si: float, name: str, original: str) -> float:
    if si <= 0:
        raise GeometryError(f"{name} must be positive, got {original!r}")
    return si


def _pow10(number: float, exponent: int) -> float:
    """``number * 10**exponent``, correctly rounded (divides for negative exponents)."""
    if exponent >= 0:
        return number * 10.0**exponent
    return number / 10.0**-exponent


def _normalise_length_unit(unit: str) -> str:
    u = unit.strip()
    for mu in _MICRO:
        u = u.replace(mu, "u")
    return u.lower()


def _normalise_area_unit(unit: str) -> str | None:
    """``"cm²"``/``"cm^2"``/``"cm2"`` -> ``"cm"``; None when there is no squared exponent."""
    u = _normalise_length_unit(unit).replace(" ", "")
    if u.startswith("sq"):
        u = u[2:].lstrip(".")
        return u
    for exp in _AREA_EXPONENTS:
        if u.endswith(exp):
            return u[: -len(exp)]
    return None


# --------------------------------------------------------------------------- lengths/areas
def parse_length(value: Any, name: str = "length", *, bare_unit: str | None = None) -> float:
    """Parse a length such as ``"1.2mm"``, ``"52 µm"`` or ``"0.12 cm"`` into metres.

    Parameters
    ----------
    value
        A string with a unit: ``m``, ``cm``, ``mm``, ``um``/``µm``/``μm`` (or ``micron``) or
        ``nm``, with or without a space. A bare number (string or numeric) is accepted only when
        ``bare_unit`` is given.
    name
        What the length is (``"thickness"``, ``"diameter"``); used in error messages.
    bare_unit
        The unit a bare number is in (e.g. ``"mm"``). When None (the default) a bare number is an
        error that says which units to add.

    Returns
    -------
    float
        The length in m, finite and > 0.

    Raises
    ------
    GeometryError
        No unit, an unknown unit, or a length that is zero, negative or not finite.

    Examples
    --------
    >>> parse_length("52um", "thickness")
    5.2e-05
    >>> parse_length(1.2, "thickness", bare_unit="mm")
    0.0012
    """
    number, unit, original = _split(value, name, _LENGTH_HINT)
    _check_finite(number, name, original)
    if not unit:
        if bare_unit is None:
            raise GeometryError(
                f"{name} {original!r} has no unit: write it as {format_number(number)}mm, "
                f"{format_number(number * 1e3)}um or {format_number(number * 0.1)}cm"
            )
        key = _normalise_length_unit(bare_unit)
        if key not in LENGTH_UNITS:
            raise ValueError(f"bare_unit {bare_unit!r} is not a length unit")
        exponent = LENGTH_UNITS[key]
    else:
        key = _normalise_length_unit(unit)
        if key not in LENGTH_UNITS:
            if _normalise_area_unit(unit) in AREA_UNITS:
                raise GeometryError(
                    f"{name} {original!r} is an area: give a length in {_LENGTH_HINT}"
                )
            raise GeometryError(
                f"{name} {original!r} has an unknown unit {unit!r}: use {_LENGTH_HINT}"
            )
        exponent = LENGTH_UNITS[key]
    return _check_positive(_pow10(number, exponent), name, original)


def parse_area(value: Any, name: str = "area", *, bare_unit: str | None = None) -> float:
    """Parse an area such as ``"0.785cm2"``, ``"0.785 cm^2"`` or ``"78.5 mm²"`` into m².

    Parameters
    ----------
    value
        A string with a squared unit: ``m2``, ``cm2``, ``mm2``, ``um2`` (the exponent may be
        written ``2``, ``^2``, ``**2`` or ``²``). A bare number is accepted only when
        ``bare_unit`` is given.
    name
        What the area is; used in error messages.
    bare_unit
        The unit a bare number is in (e.g. ``"cm2"``); None makes a bare number an error.

    Returns
    -------
    float
        The area in m², finite and > 0.

    Raises
    ------
    GeometryError
        No unit, a length unit instead of an area unit, or a value that is zero, negative or
        not finite.

    Examples
    --------
    >>> parse_area("78.5 mm2")
    7.85e-05
    """
    number, unit, original = _split(value, name, _AREA_HINT)
    _check_finite(number, name, original)
    if not unit:
        if bare_unit is None:
            raise GeometryError(
                f"{name} {original!r} has no unit: write it as {format_number(number)}cm2, "
                f"{format_number(number * 100)}mm2 or {format_number(number * 1e-4)}m2"
            )
        key = _normalise_area_unit(bare_unit)
        if key not in AREA_UNITS:
            raise ValueError(f"bare_unit {bare_unit!r} is not an area unit")
        exponent = AREA_UNITS[key]
    else:
        key = _normalise_area_unit(unit)
        if key is None and _normalise_length_unit(unit) in LENGTH_UNITS:
            raise GeometryError(
                f"{name} {original!r} has a length unit: write an area such as "
                f"{format_number(number)}{_normalise_length_unit(unit)}2"
            )
        if key not in AREA_UNITS:
            raise GeometryError(
                f"{name} {original!r} has an unknown unit {unit!r}: use {_AREA_HINT}"
            )
        exponent = AREA_UNITS[key]
    return _check_positive(_pow10(number, exponent), name, original)


# --------------------------------------------------------------------------- temperature
_CELSIUS = {"c", "°c", "ºc", "degc", "deg c", "deg.c", "celsius", "\u2103", "oc"}
_KELVIN = {"k", "°k", "ºk", "kelvin", "\u212a"}
_FAHRENHEIT = {"f", "°f", "ºf", "degf", "deg f", "fahrenheit", "\u2109"}


def _temperature_scale(unit: str) -> str | None:
    u = re.sub(r"\s+", " ", unit.strip()).lower()
    if u in _CELSIUS:
        return "C"
    if u in _KELVIN:  # the KELVIN SIGN lowers to "k"
        return "K"
    if u in _FAHRENHEIT:
        return "F"
    return None


def parse_temperature(
    value: Any, name: str = "temperature", *, bare_unit: str | None = None
) -> float:
    """Parse a temperature such as ``"25C"``, ``"25 °C"``, ``"25degC"`` or ``"298.15 K"``.

    Parameters
    ----------
    value
        A string with ``C``/``°C``/``degC``/``℃`` or ``K``; a bare number (string or numeric) only
        when ``bare_unit`` says what it means.
    name
        What the temperature is; used in error messages.
    bare_unit
        ``"C"`` or ``"K"``: the scale of a bare number. None makes a bare number an error.

    Returns
    -------
    float
        The temperature in K, finite and > 0.

    Raises
    ------
    GeometryError
        No unit, an unknown unit (Fahrenheit included), or a temperature at or below 0 K.

    Examples
    --------
    >>> parse_temperature("25degC")
    298.15
    >>> parse_temperature("60", bare_unit="C")
    333.15
    """
    number, unit, original = _split(value, name, _TEMPERATURE_HINT)
    _check_finite(number, name, original)
    if not unit:
        if bare_unit is None:
            raise GeometryError(
                f"{name} {original!r} has no unit: write it as {format_number(number)}C "
                f"or {format_number(number)}K"
            )
        scale = _temperature_scale(bare_unit)
        if scale not in ("C", "K"):
            raise ValueError(f"bare_unit must be 'C' or 'K', got {bare_unit!r}")
    else:
        scale = _temperature_scale(unit)
        if scale == "F":
            raise GeometryError(
                f"{name} {original!r} is in Fahrenheit: give it in {_TEMPERATURE_HINT}"
            )
        if scale is None:
            raise GeometryError(
                f"{name} {original!r} has an unknown unit {unit!r}: use {_TEMPERATURE_HINT}"
            )
    kelvin = number + ZERO_CELSIUS_K if scale == "C" else number
    if kelvin <= 0:
        raise GeometryError(f"{name} {original!r} is at or below absolute zero")
    return kelvin


# --------------------------------------------------------------------------- resistance
_RESISTANCE_UNIT = re.compile(r"^(?P<prefix>[umkKMG]?)(?i:ohms?)$")


def _resistance_exponent(unit: str) -> int | None:
    u = unit.strip().replace(" ", "")
    for mu in _MICRO:
        u = u.replace(mu, "u")
    for omega in _OHM_SIGNS:
        u = u.replace(omega, "Ohm")
    m = _RESISTANCE_UNIT.match(u)
    if m is None:
        return None
    return RESISTANCE_PREFIXES[m.group("prefix")]


def parse_resistance(
    value: Any, name: str = "resistance", *, bare_unit: str | None = None
) -> float:
    """Parse a resistance such as ``"1.83 Ohm"``, ``"1.83 Ω"``, ``"2 kOhm"`` or ``"500 mOhm"``.

    Parameters
    ----------
    value
        A string with ``Ohm``/``ohm``/``Ω`` and an optional prefix (``u``, ``m``, ``k``, ``M``,
        ``G``; ``m`` is milli and ``M`` mega). A bare number only when ``bare_unit`` is given.
    name
        What the resistance is (``"external resistance"``); used in error messages.
    bare_unit
        The unit of a bare number, e.g. ``"Ohm"`` for ``--external-resistance 1.83``.

    Returns
    -------
    float
        The resistance in Ohm, finite and >= 0 (zero is allowed: no external resistance).

    Raises
    ------
    GeometryError
        No unit (when no ``bare_unit``), an unknown unit, or a negative or non-finite value.

    Examples
    --------
    >>> parse_resistance("500 mOhm")
    0.5
    """
    number, unit, original = _split(value, name, _RESISTANCE_HINT)
    _check_finite(number, name, original)
    if not unit:
        if bare_unit is None:
            raise GeometryError(
                f"{name} {original!r} has no unit: write it as {format_number(number)}Ohm "
                f"or {format_number(number)}kOhm"
            )
        exponent = _resistance_exponent(bare_unit)
        if exponent is None:
            raise ValueError(f"bare_unit {bare_unit!r} is not a resistance unit")
    else:
        exponent = _resistance_exponent(unit)
        if exponent is None:
            raise GeometryError(
                f"{name} {original!r} has an unknown unit {unit!r}: use {_RESISTANCE_HINT}"
            )
    ohm = _pow10(number, exponent)
    _check_finite(ohm, name, original)  # e.g. 1e308 GOhm overflows to inf
    if ohm < 0:
        raise GeometryError(f"{name} must not be negative, got {original!r}")
    return ohm
