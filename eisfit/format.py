"""How numbers with errors and units are written, in every report eisfit prints or renders.

One rule everywhere (text report, HTML report, notebook tables, batch tables):

* the standard error keeps the significant digits of the Particle Data Group's rule, as the
  ``uncertainties`` package writes it: its three leading digits 100–354 keep two digits,
  355–949 one, 950–999 are rounded up to 1000 and keep two;
* the value is rounded to the same decimal place as its error;
* a value from 0.01 up to 100,000 (the larger of value and error) is written plainly
  (``0.2997 ± 0.0005``, ``80550 ± 110``), anything else with a common power of ten
  (``(1.322 ± 0.009)×10⁻⁵``), so a column of conductivities or capacitances reads alike;
* a value without an error keeps four significant digits (trailing zeros dropped), and so
  does one whose error is below :data:`EXACT` of it (floating-point noise, not a
  measurement's error);
* a value that is not a finite number is ``not determined``.

>>> value_error(0.0010023, 0.0000031)
'(1.0023 ± 0.0031)×10⁻³'
>>> value_error(0.4162, 0.00025, "eV")
'0.41620 ± 0.00025 eV'
>>> value_error(1.6e-11, 1.1e-12, "S s^n")
'(1.60 ± 0.11)×10⁻¹¹ S·sⁿ'

Printed numbers are rounded to what is known; the JSON output keeps full precision.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["value_error", "value", "unit_text", "determined", "needs_power_of_ten",
           "NOT_DETERMINED", "PLAIN_RANGE"]

#: What a value that is not a finite number is written as.
NOT_DETERMINED = "not determined"
#: An error below this fraction of its value is rounding noise: the value is written alone.
EXACT = 1e-12
#: Magnitudes written without a power of ten: ``lo <= |x| < hi``.
PLAIN_RANGE = (1e-2, 1e5)

_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
#: Units as the elements and geometry name them -> typeset.
_UNITS = {
    "Ohm": "Ω",
    "S s^n": "S·sⁿ",
    "Ohm s^-1/2": "Ω/√s",
    "H s": "H·s",
    "Ohm cm2": "Ω·cm²",
    "Ohm cm^2": "Ω·cm²",
    "S/cm": "S/cm",
    "S cm^-1": "S cm⁻¹",
    "kOhm": "kΩ",
    "MOhm": "MΩ",
}


def unit_text(unit: str | None) -> str:
    """A unit as eisfit's tables name it, typeset: ``Ohm`` -> ``Ω``, ``S s^n`` -> ``S·sⁿ``.

    Parameters
    ----------
    unit
        A unit string (``Ohm``, ``S s^n``, ``F``, ``""`` for a dimensionless exponent).

    Returns
    -------
    str
        The typeset unit; an unknown one with ``Ohm`` written ``Ω`` and ``^n`` as ``ⁿ``.
    """
    if not unit:
        return ""
    if unit in _UNITS:
        return _UNITS[unit]
    return unit.replace("Ohm", "Ω").replace("^n", "ⁿ")


def determined(value: float, error: float | None = None) -> bool:
    """True when ``value`` is a finite number whose standard error, if it has one, is not
    larger than its magnitude (a parameter the data determine)."""
    value = float(value)
    if not math.isfinite(value):
        return False
    if error is None or not math.isfinite(float(error)):
        return True
    return float(error) <= abs(value)


def _exponent(x: float) -> int:
    """The power of ten of the first significant digit of ``x`` (> 0)."""
    e = math.floor(math.log10(x))
    if 10.0 ** (e + 1) <= x:  # log10 rounding just below a power of ten
        e += 1
    return e


def _pdg(error: float) -> tuple[float, int]:
    """The error rounded by the PDG rule: (error, power of ten of its last kept digit).

    The three leading digits are read as ``uncertainties`` reads them (truncated).
    """
    e = _exponent(error)
    lead = int(error / 10.0 ** (e - 2) + 1e-9)  # 100..999
    if lead >= 1000:
        e, lead = e + 1, 100
    if lead <= 354:
        keep = 2
    elif lead <= 949:
        keep = 1
    else:  # 950-999: 1000, two digits
        return 10.0 ** (e + 1), e
    place = e - keep + 1
    return round(error, -place), place


def _sup(exp: int) -> str:
    return f"×10{str(exp).translate(_SUP)}"


def _fixed(x: float, decimals: int) -> str:
    text = f"{x:.{max(decimals, 0)}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")  # no "-0"
    return text


def _with_unit(text: str, unit: str) -> str:
    u = unit_text(unit)
    return f"{text} {u}" if u else text


def value(x: Any, unit: str = "", digits: int = 4) -> str:
    """A value without an error: ``digits`` significant digits, trailing zeros dropped, with a
    power of ten outside :data:`PLAIN_RANGE`; ``not determined`` when it is not finite.

    Parameters
    ----------
    x
        The value (a float or anything ``float()`` takes).
    unit
        Its unit, typeset by :func:`unit_text` and appended after a space.
    digits
        Significant digits.
    """
    return value_error(x, None, unit, digits=digits)


def _magnitude(x: Any, error: Any = None) -> float | None:
    """The magnitude that sets the notation: the larger of |x| and the rounded error."""
    try:
        v, err = float(x), (None if error is None else float(error))
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    if err is None or not math.isfinite(err) or err <= EXACT * abs(v):
        return abs(v)
    return max(abs(v), _pdg(err)[0])


def needs_power_of_ten(x: Any, error: Any = None) -> bool:
    """True when :func:`value_error` writes ``x ± error`` with a power of ten (its magnitude
    outside :data:`PLAIN_RANGE`); a table column with one such value writes all its values
    so (``scientific=True``) so that the column reads alike."""
    size = _magnitude(x, error)
    return size is not None and size != 0 and not PLAIN_RANGE[0] <= size < PLAIN_RANGE[1]


def value_error(
    x: Any, error: Any = None, unit: str = "", *, digits: int = 4, scientific: bool | None = None
) -> str:
    """``value ± error unit``, the error's significant digits by the PDG rule.

    Parameters
    ----------
    x
        The value, in ``unit``.
    error
        Its standard error in ``unit``; None, zero, negative, not finite or below
        :data:`EXACT` of the value: the value alone to ``digits`` significant digits.
    unit
        The unit (``"Ohm"``, ``"S s^n"``, ``"eV"``...), typeset by :func:`unit_text` and
        appended after a space; ``""`` for none.
    digits
        Significant digits of a value shown without an error.
    scientific
        True: always with a power of ten (a column of a table where some value needs one);
        False: never; None: by :data:`PLAIN_RANGE`.

    Returns
    -------
    str
        Plain text, e.g. ``0.2997 ± 0.0005 eV``, ``(1.322 ± 0.009)×10⁻⁵ S/cm``, ``0 ± 600 Ω``
        (an error larger than the value: the value rounded to the error's place), ``1.5 Ω``
        (no error), or ``not determined`` when ``x`` is not a finite number.
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return NOT_DETERMINED
    if not math.isfinite(v):
        return NOT_DETERMINED
    try:
        err = None if error is None else float(error)
    except (TypeError, ValueError):
        err = None
    lo, hi = PLAIN_RANGE
    if err is None or not math.isfinite(err) or err <= EXACT * abs(v):
        if v == 0:
            return _with_unit("0", unit)
        e = _exponent(abs(v))
        if (lo <= abs(v) < hi) if scientific is None else not scientific:
            text = _fixed(round(v, digits - 1 - e), digits - 1 - e)
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return _with_unit(text, unit)
        m = round(v / 10.0**e, digits - 1)
        if abs(m) >= 10:  # 9.9999 -> 10.000: one more power of ten
            e, m = e + 1, m / 10
        text = f"{m:.{digits - 1}f}".rstrip("0").rstrip(".")
        return _with_unit(f"{text}{_sup(e)}", unit)

    err_r, place = _pdg(err)
    size = max(abs(v), err_r)
    e = _exponent(size)
    if (lo <= size < hi) if scientific is None else not scientific:
        decimals = -place
        if place > 0:
            v = round(v, -place)
        text = f"{_fixed(v, decimals)} ± {_fixed(err_r, decimals)}"
        return _with_unit(text, unit)
    scale = 10.0**e
    decimals = e - place
    text = f"({_fixed(v / scale, decimals)} ± {_fixed(err_r / scale, decimals)}){_sup(e)}"
    return _with_unit(text, unit)
