"""The variables a series can be measured against besides temperature, and how each spectrum's
value is read from its file name, its metadata or a table.

>>> from eisfit.series.variable_names import VARIABLES
>>> VARIABLES["pressure"].from_name("LPSCl_p50MPa.csv")
50.0
>>> VARIABLES["thickness"].from_name("pellet_850um.mpt")
0.85
>>> VARIABLES["time"].from_name("Li_sym_t=12h.csv")
12.0

Each variable is a :class:`eisfit.series.inputs.Variable`: the machinery that reads
temperatures (:class:`eisfit.series.inputs._TemperatureSource`, the table reader
:func:`eisfit.series.inputs.read_value_table`) reads these too.

=============  ======  ===========================================  ============================
variable       unit    in a file name                               table column
=============  ======  ===========================================  ============================
``pressure``   MPa     ``50MPa``, ``p50MPa``, ``50 MPa``,           ``pressure_MPa``,
                       ``500kPa``, ``1.2GPa``, ``10bar``            ``pressure_kPa``, ``_bar``
``thickness``  mm      ``1.2mm``, ``850um`` (``µm``), ``0.12cm``    ``thickness_mm``, ``_um``,
                                                                    ``_cm``
``time``       h       ``2h``, ``30min``, ``t=12h``, ``day3``,      ``time_h``, ``time_min``,
                       ``3d``, ``90s``                              ``time_s``, ``time_d``
``cycle``      (none)  ``cycle12``, ``cyc_12``, ``c12``,            ``cycle``
                       ``12cycles``
``soc``        %       ``SOC50``, ``50%SOC``, ``SOC_50``            ``soc_percent``, ``soc``
``bias``       V       ``0.5V``, ``-100mV``                         ``bias_V``, ``bias_mV``
=============  ======  ===========================================  ============================

A number must start a word (after the start of the name or a character that is neither a
letter, a digit nor ``.``), and the unit must end it (``50MPa2`` is not a pressure); ``p`` may
stand for the decimal point (``2p5MPa``). A name holding two different values of the variable
is refused (give them in a table).

From the metadata: ``time`` is when each spectrum began (the file's acquisition start,
``meta["start_time"]``, plus the spectrum's ``meta["time_s"]`` within the file; either alone
when only one is recorded), made relative to the earliest spectrum of the series by
:func:`eisfit.series.variable.fit_variable_series`; ``cycle`` is ``meta["cycle"]`` (else the
loop); the others are ``meta[name]`` or ``meta[name_unit]`` (``pressure_MPa``) where a reader
records them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from eisfit.io.spectrum import Spectrum
from eisfit.series.inputs import TEMPERATURE, SeriesError, Variable

__all__ = ["VARIABLES", "NAMES", "variable"]

_NUM = r"(?P<num>\d+(?:[.p]\d+)?)"
_START = r"(?<![A-Za-z0-9.])"
_END = r"(?![A-Za-z0-9])"


def _number(text: str) -> float:
    return float(text.replace("p", "."))


def _stem(name: str) -> str:
    stem = Path(str(name)).name
    return re.sub(r"\.[A-Za-z][A-Za-z0-9]*$", "", stem)


def _values(stem: str, patterns: list[tuple[re.Pattern[str], dict[str, float]]]) -> list[float]:
    """Every value written in ``stem``: each pattern's ``num`` times its unit's factor (the
    ``unit`` group, else the ``""`` key), negative with a ``sign`` group of ``-``."""
    out = []
    for pattern, factors in patterns:
        for m in pattern.finditer(stem):
            groups = m.groupdict()
            unit = groups.get("unit") or ""
            factor = factors.get(unit, factors.get(unit.lower(), 1.0))
            sign = -1.0 if (groups.get("sign") or "") in ("-", "\u2212") else 1.0
            out.append(sign * _number(m.group("num")) * factor)
    return out


def _from_name(
    name: str, what: str, unit: str,
    patterns: list[tuple[re.Pattern[str], dict[str, float]]],
) -> float | None:
    distinct = sorted(set(round(v, 9) for v in _values(_stem(name), patterns)))
    if len(distinct) > 1:
        shown = ", ".join(f"{v:g} {unit}".strip() for v in distinct)
        raise SeriesError(
            f"{Path(str(name)).name}: the name holds several {what} ({shown}); give them in a "
            "table (--values TABLE.csv)"
        )
    return distinct[0] if distinct else None


def _reader(what: str, unit: str, *patterns: tuple[str, dict[str, float]]) -> Callable[
    [str], float | None
]:
    compiled = [(re.compile(p), f) for p, f in patterns]

    def from_name(name: str) -> float | None:
        return _from_name(name, what, unit, compiled)

    from_name.__doc__ = f"The {what[:-1] if what.endswith('s') else what} in a file name, in " \
        f"{unit or 'counts'}, or None."
    return from_name


# ---------------------------------------------------------------------------- file names
_PRESSURE = {"MPa": 1.0, "kPa": 1e-3, "GPa": 1e3, "bar": 0.1}
pressure_from_name = _reader(
    "pressures", "MPa",
    (_START + r"(?:[pP]=?)?" + _NUM + r"[ _]?(?P<unit>MPa|kPa|GPa|bar)" + _END, _PRESSURE),
)
_LENGTH = {"mm": 1.0, "um": 1e-3, "µm": 1e-3, "μm": 1e-3, "cm": 10.0, "nm": 1e-6}
thickness_from_name = _reader(
    "thicknesses", "mm",
    (_START + r"(?:[LdtT]=?)?" + _NUM + r"[ _]?(?P<unit>mm|um|µm|μm|cm|nm)" + _END, _LENGTH),
)
_TIME = {"s": 1 / 3600, "sec": 1 / 3600, "min": 1 / 60, "h": 1.0, "hr": 1.0, "hrs": 1.0,
         "hours": 1.0, "hour": 1.0, "d": 24.0, "day": 24.0, "days": 24.0}
time_from_name = _reader(
    "times", "h",
    (_START + r"(?:[tT]\s?=\s?)?" + _NUM + r"[ _]?"
     r"(?P<unit>s|sec|min|h|hr|hrs|hours?|d|days?)" + _END, _TIME),
    (_START + r"(?i:day)[-_ =]?" + _NUM + _END, {"": 24.0}),
)
cycle_from_name = _reader(
    "cycle numbers", "",
    (_START + r"(?:(?i:cycle|cyc)|c)[-_ =]?(?P<num>\d+)" + _END, {}),
    (_START + r"(?P<num>\d+)[-_ ]?(?i:cycles?)" + _END, {}),
)
soc_from_name = _reader(
    "states of charge", "%",
    (_START + r"(?i:soc)[-_ =]?" + _NUM + r"\s?%?" + r"(?![A-Za-z0-9])", {}),
    (_START + _NUM + r"\s?(?:%|(?i:pct))?[-_ ]?(?i:soc)" + _END, {}),
)
bias_from_name = _reader(
    "bias potentials", "V",
    (r"(?:(?<![A-Za-z0-9.])(?P<sign>[-+\u2212]))?" + _START + _NUM + r"[ _]?(?P<unit>mV|V)" + _END,
     {"V": 1.0, "mV": 1e-3}),
)


# ---------------------------------------------------------------------------- metadata
def _meta_number(spectrum: Spectrum, *keys: str) -> float | None:
    for key in keys:
        value = spectrum.meta.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            return v
    return None


def _meta_of(name: str, unit: str) -> Callable[[Spectrum], float | None]:
    def from_meta(spectrum: Spectrum) -> float | None:
        return _meta_number(spectrum, name, f"{name}_{unit}")

    return from_meta


def _cycle_from_meta(spectrum: Spectrum) -> float | None:
    return _meta_number(spectrum, "cycle", "loop")


def time_from_meta(spectrum: Spectrum) -> float | None:
    """When a spectrum began, in hours since 1970 (naive times as UTC) where its file records
    its acquisition start (``meta["start_time"]``), plus ``meta["time_s"]`` (when within the
    file it began); ``time_s`` alone where the start is not recorded; None where neither is.

    Only differences between spectra mean anything: a series takes them relative to its
    earliest spectrum.
    """
    start = spectrum.meta.get("start_time")
    hours = None
    if isinstance(start, str):
        try:
            d = datetime.fromisoformat(start.strip())
        except ValueError:
            d = None
        if d is not None:
            if d.tzinfo is None:
                d = d.replace(tzinfo=UTC)
            hours = d.timestamp() / 3600.0
    within = _meta_number(spectrum, "time_s")
    if hours is None and within is None:
        return None
    return (hours or 0.0) + (within or 0.0) / 3600.0


# ---------------------------------------------------------------------------- checks
def _checker(what: str, unit: str, low: float | None, high: float | None,
             low_open: bool = False, integer: bool = False) -> Callable[[float, str, str], float]:
    def check(value: float, label: str, how: str) -> float:
        shown = f"{value:g} {unit}".strip()
        if not math.isfinite(value):
            raise SeriesError(f"{label}: {what} {shown} ({how}) is not a finite number")
        if low is not None and (value <= low if low_open else value < low):
            bound = "above" if low_open else "at least"
            raise SeriesError(f"{label}: {what} {shown} ({how}) is not {bound} {low:g} {unit}")
        if high is not None and value > high:
            raise SeriesError(f"{label}: {what} {shown} ({how}) is above {high:g} {unit}")
        if integer and value != round(value):
            raise SeriesError(f"{label}: {what} {shown} ({how}) is not a whole number")
        return float(value)

    return check


def _variable(
    name: str, unit: str, from_name: Callable[[str], float | None],
    from_meta: Callable[[Spectrum], float | None], columns: dict[str, tuple[float, float]],
    check: Callable[[float, str, str], float], hint: str, plural: str,
) -> Variable:
    return Variable(name=name, unit=unit, from_name=from_name, from_meta=from_meta,
                    columns=columns, check=check, name_hint=hint, plural=plural)


#: Every variable a series can be measured against, by name (``temperature`` included).
VARIABLES: dict[str, Variable] = {
    "temperature": TEMPERATURE,
    "pressure": _variable(
        "pressure", "MPa", pressure_from_name, _meta_of("pressure", "MPa"),
        {"pressure_MPa": (1.0, 0.0), "pressure_kPa": (1e-3, 0.0), "pressure_GPa": (1e3, 0.0),
         "pressure_bar": (0.1, 0.0), "pressure": (1.0, 0.0)},
        _checker("pressure", "MPa", 0.0, 1e4), "50MPa or p50MPa", "pressures"),
    "thickness": _variable(
        "thickness", "mm", thickness_from_name, _meta_of("thickness", "mm"),
        {"thickness_mm": (1.0, 0.0), "thickness_um": (1e-3, 0.0), "thickness_µm": (1e-3, 0.0),
         "thickness_cm": (10.0, 0.0), "thickness": (1.0, 0.0)},
        _checker("thickness", "mm", 0.0, 1000.0, low_open=True), "1.2mm or 850um",
        "thicknesses"),
    "time": _variable(
        "time", "h", time_from_name, time_from_meta,
        {"time_h": (1.0, 0.0), "time_min": (1 / 60, 0.0), "time_s": (1 / 3600, 0.0),
         "time_d": (24.0, 0.0), "time_day": (24.0, 0.0), "time": (1.0, 0.0)},
        _checker("time", "h", None, None), "2h, 30min, t=12h or day3", "times"),
    "cycle": _variable(
        "cycle", "", cycle_from_name, _cycle_from_meta, {"cycle": (1.0, 0.0)},
        _checker("cycle", "", 0.0, None, integer=True), "cycle12 or c12", "cycle numbers"),
    "soc": _variable(
        "soc", "%", soc_from_name, _meta_of("soc", "percent"),
        {"soc_percent": (1.0, 0.0), "soc_%": (1.0, 0.0), "soc": (1.0, 0.0)},
        _checker("state of charge", "%", 0.0, 100.0), "SOC50 or 50%SOC", "states of charge"),
    "bias": _variable(
        "bias", "V", bias_from_name, _meta_of("bias", "V"),
        {"bias_V": (1.0, 0.0), "bias_mV": (1e-3, 0.0), "bias": (1.0, 0.0)},
        _checker("bias", "V", None, None), "0.5V or -100mV", "bias potentials"),
}
#: The variables' names, in the order ``eisfit batch --variable`` lists them.
NAMES: tuple[str, ...] = tuple(VARIABLES)


def variable(name: str) -> Variable:
    """The :class:`~eisfit.series.inputs.Variable` called ``name``.

    Raises
    ------
    SeriesError
        An unknown name (the message lists the known ones).
    """
    key = str(name).strip().lower()
    if key not in VARIABLES:
        raise SeriesError(
            f"variable {name!r}: expected one of {', '.join(NAMES)}"
        )
    return VARIABLES[key]
