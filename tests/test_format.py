"""eisfit.format: one rule for value ± error (the PDG rule of significant digits) and units.

Hand-worked cases first, then the error's digits checked against the ``uncertainties``
package's own shorthand (its default format follows the same PDG rule), an independent
implementation.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from uncertainties import ufloat

from eisfit.format import determined, unit_text, value, value_error


@pytest.mark.parametrize(
    ("x", "err", "unit", "text"),
    [
        # error 3.1e-6: leading digits 310 (100-354) keep two; the value to the same place;
        # 1.0e-3 is below 0.01, so a power of ten, as every conductivity in a column
        (0.0010023, 0.0000031, "", "(1.0023 ± 0.0031)×10⁻³"),
        # error 2.5e-4: leading digits 250 keep two digits under the PDG rule (0.00025), and
        # the value goes to the fifth decimal
        (0.4162, 0.00025, "eV", "0.41620 ± 0.00025 eV"),
        # 5.2e-4: 520 (355-949) keeps one digit
        (0.2997, 0.00052, "eV", "0.2997 ± 0.0005 eV"),
        # 9.6e-5: 960 (950-999) is rounded up to 1.0e-4, two digits
        (0.41994, 0.000096, "eV", "0.41994 ± 0.00010 eV"),
        (1.3216e-5, 9e-8, "S/cm", "(1.322 ± 0.009)×10⁻⁵ S/cm"),
        (5e-12, 1e-13, "F", "(5.00 ± 0.10)×10⁻¹² F"),
        (400.13, 2.31, "Ohm", "400.1 ± 2.3 Ω"),
        # 110.5: 110 keeps two digits -> tens; the value rounded to tens
        (80551.2, 110.5, "Ohm", "80550 ± 110 Ω"),
        (1.6e-11, 1.1e-12, "S s^n", "(1.60 ± 0.11)×10⁻¹¹ S·sⁿ"),
        # Ea of the issue: 0.416 ± 0.0004 is not "0.416 ± 0.000"
        (0.41612, 0.00041, "eV", "0.4161 ± 0.0004 eV"),
    ],
)
def test_hand_worked_cases(x, err, unit, text):
    assert value_error(x, err, unit) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [(1.5, "1.5"), (80551.25, "80550"), (1.3216e-5, "1.322×10⁻⁵"), (-39.99999999999997, "-40"),
     (0.0, "0"), (123.456, "123.5"), (9.99996e-6, "1×10⁻⁵")],
)
def test_value_without_error_keeps_four_significant_digits(x, text):
    assert value(x) == text
    for missing in (None, 0.0, -1.0, math.nan, math.inf, abs(x) * 1e-15):
        assert value_error(x, missing) == text


@pytest.mark.parametrize(
    ("x", "err", "text"),
    [
        # an error larger than the value sets the place: the value is zero at that place
        (1e-15, 110.0, "0 ± 110"),
        (1.8e-9, 580.0, "0 ± 600"),
        (-1e-15, 110.0, "0 ± 110"),
        (3e-11, 4e-11, "(3 ± 4)×10⁻¹¹"),
        (1.5, 2.3, "1.5 ± 2.3"),
    ],
)
def test_error_larger_than_value(x, err, text):
    assert value_error(x, err) == text
    assert not determined(x, err)


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, None, "abc"])
def test_not_a_number_is_not_determined(x):
    assert value_error(x, 1.0, "Ohm") == "not determined"
    assert value(x) == "not determined"


def test_determined():
    assert determined(1.0, 0.5) and determined(1.0, None) and determined(1.0, math.nan)
    assert not determined(1.0, 1.5) and not determined(math.nan, 0.1)


def test_units_typeset():
    assert unit_text("Ohm") == "Ω"
    assert unit_text("S s^n") == "S·sⁿ"
    assert unit_text("") == "" and unit_text(None) == ""
    assert unit_text("F") == "F" and unit_text("Ohm cm2") == "Ω·cm²"
    assert value_error(2.0, 0.1, "") == "2.00 ± 0.10"


_NUM = re.compile(r"^\(?(-?[\d.]+)(?:\+/-|±)([\d.]+)\)?(?:e([+-]\d+)|×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?$")
_FROM_SUP = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _parse(text: str) -> tuple[float, float, int | None]:
    """(value, error, power of ten of the error's last digit) of ``a ± b`` with an optional
    power of ten; the last is None for a whole number (trailing zeros say nothing)."""
    m = _NUM.match(text.replace(" ", ""))
    assert m, text
    exp = int(m.group(3) or (m.group(4) or "0").translate(_FROM_SUP))
    scale = 10.0**exp
    err = m.group(2)
    place = exp - len(err.partition(".")[2]) if "." in err else None
    return float(m.group(1)) * scale, float(err) * scale, place


def test_digits_agree_with_uncertainties():
    """Over values and errors spread across 23 decades, the error written and the value
    rounded to its place are those ``uncertainties`` writes (its default format is the PDG
    rule), and the error's last digit sits at the same place; only where a power of ten goes
    may differ."""
    rng = np.random.default_rng(7)
    for _ in range(3000):
        x = float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-15, 8))
        err = float(abs(x) * 10.0 ** rng.uniform(-6, 0.5))
        ours = _parse(value_error(x, err))
        theirs = _parse(format(ufloat(x, err), ""))
        assert ours[1] == pytest.approx(theirs[1], rel=1e-9), (x, err, ours, theirs)
        assert ours[0] == pytest.approx(theirs[0], rel=1e-9, abs=ours[1] * 1e-9), (x, err)
        if ours[2] is not None and theirs[2] is not None:
            assert ours[2] == theirs[2], (x, err, value_error(x, err), ufloat(x, err))


# --------------------------------------------------------------------------- where it is used
def test_series_text_report_rounds_ea_to_its_error(series):
    """The text report writes Ea by the rule: never ``0.416 ± 0.000 eV``."""
    text = series.report()
    for role, a in series.arrhenius_all().items():
        assert f"Ea = {value_error(a.Ea_eV, a.Ea_stderr_eV, 'eV')}" in text, role
    assert not re.search(r"± 0\.0+ ", text)


def test_csv_rounds_temperatures_json_keeps_full_precision(series, tmp_path):
    import json

    import pandas as pd

    csv_text = series.to_csv(tmp_path / "r.csv").read_text()
    header, first = csv_text.splitlines()[:2]
    assert first.split(",")[header.split(",").index("T_C")] == "-40.0"
    frame = pd.read_csv(tmp_path / "r.csv")
    t_k = np.asarray(series.temperatures_K, float)
    # to 0.01 degC: -40 is written -40.0, not -39.99999999999997
    assert list(frame["T_C"]) == [round(t - 273.15, 2) for t in t_k]
    assert frame["T_C"].iloc[0] == -40.0
    assert list(frame["T_K"]) == [round(t, 2) for t in t_k]
    d = json.loads(series.to_json(tmp_path / "r.json").read_text())
    r0 = series.results[0]
    assert [s["temperature_K"] for s in d["spectra"]] == [float(t) for t in t_k]
    # every digit of the fit in the JSON: the values themselves, not what a report prints
    assert d["spectra"][0]["resistances_ohm"]["bulk"] == r0.resistances["bulk"]
    assert d["arrhenius"]["bulk"]["Ea_eV"] == series.arrhenius_all()["bulk"].Ea_eV
