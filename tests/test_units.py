"""Parsing quantities with units as users type them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eisfit.exceptions import EisfitError, GeometryError
from eisfit.units import (
    format_area,
    format_length,
    parse_area,
    parse_length,
    parse_resistance,
    parse_temperature,
)


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("1.2mm", 1.2e-3),
        ("1.2 mm", 1.2e-3),
        ("  1.2   mm ", 1.2e-3),
        ("1.2\u00a0mm", 1.2e-3),  # no-break space pasted from a document
        ("52um", 52e-6),
        ("52 µm", 52e-6),  # MICRO SIGN
        ("52 μm", 52e-6),  # GREEK SMALL LETTER MU
        ("52 micron", 52e-6),
        ("0.12 cm", 1.2e-3),
        ("1e-3 m", 1e-3),
        ("1E-3m", 1e-3),
        ("500nm", 500e-9),
        (".5 mm", 0.5e-3),
        ("10 MM", 10e-3),
    ],
)
def test_lengths(text: str, metres: float) -> None:
    assert parse_length(text, "thickness") == pytest.approx(metres, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "square_metres"),
    [
        ("0.785cm2", 0.785e-4),
        ("0.785 cm2", 0.785e-4),
        ("0.785 cm^2", 0.785e-4),
        ("0.785 cm**2", 0.785e-4),
        ("0.785 cm²", 0.785e-4),
        ("78.5 mm2", 78.5e-6),
        ("78.5 mm²", 78.5e-6),
        ("1e-4 m2", 1e-4),
        ("7.85e7 um2", 78.5e-6),
    ],
)
def test_areas(text: str, square_metres: float) -> None:
    assert parse_area(text) == pytest.approx(square_metres, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "kelvin"),
    [
        ("25C", 298.15),
        ("25 C", 298.15),
        ("25 °C", 298.15),
        ("25°C", 298.15),
        ("25degC", 298.15),
        ("25 deg C", 298.15),
        ("25 ℃", 298.15),
        ("25c", 298.15),
        ("-20 C", 253.15),
        ("298K", 298.0),
        ("298.15 K", 298.15),
        ("298.15 kelvin", 298.15),
    ],
)
def test_temperatures(text: str, kelvin: float) -> None:
    assert parse_temperature(text) == pytest.approx(kelvin, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "ohm"),
    [
        ("1.83 Ohm", 1.83),
        ("1.83ohm", 1.83),
        ("1.83 ohms", 1.83),
        ("1.83 Ω", 1.83),  # GREEK CAPITAL LETTER OMEGA
        ("1.83 \u2126", 1.83),  # OHM SIGN
        ("2 kOhm", 2000.0),
        ("2 kΩ", 2000.0),
        ("2 KOhm", 2000.0),
        ("500 mOhm", 0.5),
        ("1.5 MOhm", 1.5e6),
        ("0 Ohm", 0.0),
    ],
)
def test_resistances(text: str, ohm: float) -> None:
    assert parse_resistance(text) == pytest.approx(ohm, rel=1e-15)


def test_milli_and_mega_are_different() -> None:
    assert parse_resistance("1 mOhm") == pytest.approx(1e-3)
    assert parse_resistance("1 MOhm") == pytest.approx(1e6)


# ----------------------------------------------------------------------------- bare numbers
def test_bare_length_says_which_units_to_add() -> None:
    with pytest.raises(
        GeometryError, match=r"thickness '1\.2' has no unit: write it as 1\.2mm, 1200um or 0\.12cm"
    ):
        parse_length("1.2", "thickness")


def test_numeric_length_is_refused_without_bare_unit() -> None:
    with pytest.raises(GeometryError, match=r"thickness '1\.2' has no unit: write it as 1\.2mm"):
        parse_length(1.2, "thickness")
    with pytest.raises(GeometryError, match="has no unit"):
        parse_length(np.float64(1.2), "thickness")


def test_bare_area_says_which_units_to_add() -> None:
    with pytest.raises(
        GeometryError, match=r"area '0\.785' has no unit: write it as 0\.785cm2, 78\.5mm2 or"
    ):
        parse_area("0.785")


def test_bare_temperature_and_resistance() -> None:
    with pytest.raises(
        GeometryError, match=r"temperature '25' has no unit: write it as 25C or 25K$"
    ):
        parse_temperature("25")
    with pytest.raises(
        GeometryError, match=r"resistance '1\.83' has no unit: write it as 1\.83Ohm"
    ):
        parse_resistance("1.83")


def test_explicit_bare_unit_allows_numbers() -> None:
    assert parse_length(1.2, "thickness", bare_unit="mm") == pytest.approx(1.2e-3)
    assert parse_length("52", "thickness", bare_unit="µm") == pytest.approx(52e-6)
    assert parse_area(0.785, bare_unit="cm2") == pytest.approx(0.785e-4)
    assert parse_temperature(25, bare_unit="C") == pytest.approx(298.15)
    assert parse_temperature("298.15", bare_unit="K") == pytest.approx(298.15)
    # --external-resistance 1.83 means Ohm
    assert parse_resistance("1.83", "external resistance", bare_unit="Ohm") == 1.83
    assert parse_resistance(2, bare_unit="kOhm") == 2000.0
    # a unit in the text still wins over bare_unit
    assert parse_length("52 um", bare_unit="mm") == pytest.approx(52e-6)


def test_bad_bare_unit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a length unit"):
        parse_length(1.0, bare_unit="furlong")
    with pytest.raises(ValueError, match="not an area unit"):
        parse_area(1.0, bare_unit="cm")
    with pytest.raises(ValueError, match="must be 'C' or 'K'"):
        parse_temperature(1.0, bare_unit="F")
    with pytest.raises(ValueError, match="not a resistance unit"):
        parse_resistance(1.0, bare_unit="V")


# ----------------------------------------------------------------------------- bad values
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1 mm", r"thickness must be positive, got '-1 mm'"),
        ("0 mm", r"thickness must be positive, got '0 mm'"),
        ("0um", r"thickness must be positive, got '0um'"),
        ("nan mm", r"thickness 'nan mm' is not a finite number"),
        ("inf mm", r"thickness 'inf mm' is not a finite number"),
        ("1.2 inch", r"thickness '1\.2 inch' has an unknown unit 'inch': use m, cm, mm"),
        ("1 cm2", r"thickness '1 cm2' is an area: give a length"),
        ("1,2 mm", r"thickness '1,2 mm' uses a decimal comma: write it with a point, e\.g\. '1\.2"),
        ("mm", r"thickness 'mm' is not a number with a unit"),
        ("", r"thickness is empty"),
    ],
)
def test_length_errors(text: str, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse_length(text, "thickness")


def test_numeric_nan_and_negative_with_bare_unit() -> None:
    with pytest.raises(GeometryError, match="thickness 'nan' is not a finite number"):
        parse_length(math.nan, "thickness", bare_unit="mm")
    with pytest.raises(GeometryError, match="thickness must be positive"):
        parse_length(-1.0, "thickness", bare_unit="mm")


def test_non_string_types_are_refused() -> None:
    with pytest.raises(GeometryError, match="thickness must be a string with a unit .* got bool"):
        parse_length(True, "thickness")
    with pytest.raises(GeometryError, match="got list"):
        parse_length([1.2], "thickness")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-0.5 cm2", r"area must be positive, got '-0\.5 cm2'"),
        ("0 cm2", r"area must be positive"),
        ("nan cm2", r"area 'nan cm2' is not a finite number"),
        ("1 cm", r"area '1 cm' has a length unit: write an area such as 1cm2"),
        ("1 acre2", r"area '1 acre2' has an unknown unit"),
    ],
)
def test_area_errors(text: str, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse_area(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("77 F", r"temperature '77 F' is in Fahrenheit"),
        ("25 X", r"temperature '25 X' has an unknown unit 'X'"),
        ("-300 C", r"temperature '-300 C' is at or below absolute zero"),
        ("0 K", r"temperature '0 K' is at or below absolute zero"),
        ("nan K", r"temperature 'nan K' is not a finite number"),
    ],
)
def test_temperature_errors(text: str, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse_temperature(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1 Ohm", r"resistance must not be negative, got '-1 Ohm'"),
        ("1 V", r"resistance '1 V' has an unknown unit 'V': use Ohm, mOhm, kOhm"),
        ("nan Ohm", r"resistance 'nan Ohm' is not a finite number"),
        ("1e308 GOhm", r"resistance '1e308 GOhm' is not a finite number"),
    ],
)
def test_resistance_errors(text: str, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse_resistance(text)


def test_errors_are_eisfit_errors_and_value_errors() -> None:
    with pytest.raises(EisfitError):
        parse_length("1.2")
    with pytest.raises(ValueError):
        parse_length("1.2")


def test_formatting() -> None:
    assert format_length(1.2e-3) == "1.2 mm"
    assert format_length(10e-3) == "10 mm"
    assert format_length(52e-6) == "52 µm"
    assert format_length(500e-9) == "500 nm"
    assert format_area(math.pi * 0.005**2) == "0.785 cm²"
