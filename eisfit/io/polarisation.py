"""Chronoamperometry (DC polarisation) records: the current through a cell held at a voltage.

Formats read, each into one :class:`Polarisation`:

* BioLogic EC-Lab ASCII (``.mpt``): ``EC-Lab ASCII FILE``, ``Nb header lines : N``, the
  technique on line 4 (``Chronoamperometry / Chronocoulometry``), tab-separated columns
  ``time/s``, ``Ewe/V``, ``<I>/mA`` or ``I/mA``; cp1252 headers and decimal commas. A Modulo Bat
  file that interleaves impedance rows keeps its DC rows (``freq/Hz`` = 0).
* Gamry Framework ``.DTA`` (``CHRONOA``): the ``CURVE`` table, columns ``T`` (s), ``Vf`` (V),
  ``Im`` (A) under a units row.
* Text tables with a header of names with units (``time/s``, ``Time (min)``, ``I/mA``,
  ``Current (A)``, ``Potential (V)``...), comma, semicolon, tab or blank separated; a table
  that also holds impedance rows (a Parstat export of a whole sequence) keeps the rows whose
  frequency is 0, which are its DC record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import (
    TextFile,
    find_numeric_block,
    guess_separator,
    header_names,
    load_text,
    parse_columns,
    split_fields,
)
from eisfit.io.biologic_mpt import _NB_RE, header_meta
from eisfit.io.gamry import _TABLE_RE
from eisfit.io.normalise import add_note, classify_column

__all__ = ["Polarisation", "read_polarisation", "EXPECTED"]

#: What a polarisation file must hold, said by every refusal.
EXPECTED = "expected a chronoamperometry record (time and current columns with units)"

_CURRENT_UNITS = {"a": 1.0, "ma": 1e-3, "µa": 1e-6, "μa": 1e-6, "ua": 1e-6, "na": 1e-9,
                  "pa": 1e-12}
_VOLTAGE_UNITS = {"v": 1.0, "mv": 1e-3, "µv": 1e-6, "uv": 1e-6}
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0, "hr": 3600.0}
# longer names first: the first alternative that matches is kept
_CURRENT_RE = re.compile(r"^(?:current|i_?dc|<i>|im|i)(?P<rest>.*)$")
_VOLTAGE_RE = re.compile(
    r"^(?:ewe-ece|cellvoltage|voltage|potential|ecell|ewe|vf|e|u|v)(?P<rest>.*)$"
)
_UNIT_RE = re.compile(r"^(?:\((?P<a>[^()]*)\)|\[(?P<b>[^\[\]]*)\]|/(?P<c>.*)|_(?P<d>\w+))$")


@dataclass(frozen=True)
class Polarisation:
    """A chronoamperometry record: the current through a cell against time.

    Attributes
    ----------
    time_s : numpy.ndarray
        Time in s as the file gives it (read-only, increasing).
    current_A : numpy.ndarray
        Current in A (read-only), with the instrument's sign.
    voltage_V : numpy.ndarray or None
        The cell (working-electrode) voltage in V at each point, when the file has it.
    meta : dict
        ``source`` (the file), ``format``, ``technique`` where the file names it, ``notes``.

    Examples
    --------
    >>> import numpy as np
    >>> p = Polarisation(np.arange(5.0), np.full(5, 1e-6), None, {})
    >>> p.between(1, 3).time_s
    array([1., 2., 3.])
    """

    time_s: np.ndarray
    current_A: np.ndarray
    voltage_V: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        t = np.array(self.time_s, dtype=float)
        i = np.array(self.current_A, dtype=float)
        v = None if self.voltage_V is None else np.array(self.voltage_V, dtype=float)
        source = self.meta.get("source", "polarisation record")
        if t.ndim != 1 or t.shape != i.shape or (v is not None and v.shape != t.shape):
            raise ReaderError(source, "time, current and voltage must be 1-D of one length")
        if t.size < 2:
            raise ReaderError(source, f"{t.size} point(s): {EXPECTED}, at least 2 points")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(i))):
            raise ReaderError(source, "time or current not finite")
        if np.any(np.diff(t) <= 0):
            k = int(np.argmax(np.diff(t) <= 0))
            raise ReaderError(source, f"time does not increase at point {k + 2} "
                              f"({t[k]:g} s then {t[k + 1]:g} s)")
        for a in (t, i, v):
            if a is not None:
                a.setflags(write=False)
        object.__setattr__(self, "time_s", t)
        object.__setattr__(self, "current_A", i)
        object.__setattr__(self, "voltage_V", v)

    @property
    def source(self) -> str:
        """The file the record was read from (``"polarisation record"`` when built in code)."""
        return str(self.meta.get("source", "polarisation record"))

    def between(self, start_s: float | None = None, end_s: float | None = None) -> Polarisation:
        """The points with ``start_s <= t <= end_s`` (s; None: no limit), as a new record.

        Use it to analyse one step of a longer sequence (a constant-voltage hold).
        """
        keep = np.ones(self.time_s.size, dtype=bool)
        if start_s is not None:
            keep &= self.time_s >= start_s
        if end_s is not None:
            keep &= self.time_s <= end_s
        v = None if self.voltage_V is None else self.voltage_V[keep]
        meta = dict(self.meta, window_s=[start_s, end_s])
        return Polarisation(self.time_s[keep], self.current_A[keep], v, meta)


# ----------------------------------------------------------------------------- column names


def _unit_of(rest: str) -> str | None:
    if rest == "":
        return ""
    m = _UNIT_RE.match(rest)
    if not m:
        return None
    return next(g for g in m.groups() if g is not None).strip()


def _scaled(name: str, pattern: re.Pattern[str], units: dict[str, float]) -> float | None:
    """The factor to SI of a column named like ``pattern`` with a unit in ``units``."""
    low = re.sub(r"\s+", "", name.strip().strip('"')).lower()
    m = pattern.match(low)
    if not m:
        return None
    unit = _unit_of(m.group("rest"))
    if unit is None or unit not in units:
        return None
    return units[unit]


def current_factor(name: str) -> float | None:
    """A → factor for a current column (``I/mA``, ``<I>/mA``, ``Current (A)``, ``Im``), or None.

    Examples
    --------
    >>> current_factor("<I>/mA")
    0.001
    >>> current_factor("Current (uA)")
    1e-06
    """
    return _scaled(name, _CURRENT_RE, _CURRENT_UNITS)


def voltage_factor(name: str) -> float | None:
    """V → factor for a voltage column (``Ewe/V``, ``Potential (V)``, ``Vf``), or None."""
    return _scaled(name, _VOLTAGE_RE, _VOLTAGE_UNITS)


def time_factor(name: str) -> float | None:
    """s → factor for a time column (``time/s``, ``Elapsed Time (s)``, ``T``), or None."""
    info = classify_column(name)
    if info.quantity != "time":
        return None
    return _TIME_UNITS.get(info.unit.lower()) if info.unit else None


@dataclass(frozen=True)
class _Columns:
    time: str
    current: str
    voltage: str | None
    frequency: str | None
    factors: dict[str, float]


def _choose_columns(path: Path, names: list[str], line: int | None,
                    bare_unit_ok: bool = False) -> _Columns:
    """The time, current, voltage and frequency columns among ``names``."""
    factors: dict[str, float] = {}
    found: dict[str, str] = {}
    for n in names:
        for what, get in (("time", time_factor), ("current", current_factor),
                          ("voltage", voltage_factor)):
            f = get(n)
            if f is None and bare_unit_ok:
                f = _bare(n, what)
            if f is not None and what not in found:
                found[what] = n
                factors[n] = f
                break
        if classify_column(n).quantity == "frequency" and "frequency" not in found:
            found["frequency"] = n
            factors[n] = classify_column(n).factor
    missing = [w for w in ("time", "current") if w not in found]
    if missing:
        shown = ", ".join(repr(x) for x in names[:8]) + (", ..." if len(names) > 8 else "")
        raise ReaderError(
            path,
            f"no {' or '.join(missing)} column with a unit among the column names ({shown}): "
            f"{EXPECTED}, e.g. 'time/s' and 'I/mA'",
            line=line,
        )
    return _Columns(found["time"], found["current"], found.get("voltage"),
                    found.get("frequency"), factors)


def _bare(name: str, what: str) -> float | None:
    """Gamry's ``T``, ``Im`` and ``Vf`` carry their units in a units row (checked there)."""
    n = name.strip()
    return 1.0 if (what, n) in (("time", "T"), ("current", "Im"), ("voltage", "Vf")) else None


def _record(path: Path, cols: dict[str, np.ndarray], c: _Columns, meta: dict[str, Any],
            line: int | None) -> Polarisation:
    """A :class:`Polarisation` from parsed columns; rows with a frequency > 0 dropped."""
    keep = np.ones(cols[c.time].size, dtype=bool)
    if c.frequency is not None:
        keep = cols[c.frequency] == 0
        n_eis = int(np.sum(~keep))
        if n_eis:
            add_note(meta, f"{n_eis} impedance rows (frequency > 0) left out; "
                     f"the {int(keep.sum())} rows with frequency 0 are the DC record")
    if int(keep.sum()) < 2:
        raise ReaderError(path, f"fewer than 2 DC rows: {EXPECTED}", line=line)
    t = cols[c.time][keep] * c.factors[c.time]
    i = cols[c.current][keep] * c.factors[c.current]
    v = None
    if c.voltage is not None:
        v = cols[c.voltage][keep] * c.factors[c.voltage]
        if not np.all(np.isfinite(v)):
            v = None
    meta["columns"] = {"time": c.time, "current": c.current, "voltage": c.voltage}
    return Polarisation(t, i, v, meta)


# ----------------------------------------------------------------------------- EC-Lab


def _read_mpt(tf: TextFile) -> Polarisation:
    path, lines = tf.path, tf.lines
    m = _NB_RE.match(lines[1]) if len(lines) > 1 else None
    if not m:
        raise ReaderError(path, f"expected 'Nb header lines : N' on line 2: {EXPECTED}", line=2)
    n_header = int(m.group(1))
    if not 3 <= n_header <= len(lines):
        raise ReaderError(path, f"header line count {n_header} does not fit the file "
                          f"({len(lines)} lines)", line=2)
    names = [x.strip() for x in lines[n_header - 1].split("\t")]
    while names and names[-1] == "":
        names.pop()
    meta = header_meta(list(lines[: n_header - 1]))
    meta.update(format="biologic-mpt", source=str(path))
    c = _choose_columns(path, names, n_header)
    first = next((k for k in range(n_header, len(lines)) if lines[k].strip()), None)
    if first is None:
        raise ReaderError(path, f"no data rows after the header: {EXPECTED}", line=n_header)
    _, dc = guess_separator(lines[first])
    if dc:
        add_note(meta, "decimal comma")
    required = [c.time, c.current] + ([c.frequency] if c.frequency else [])
    optional = [c.voltage] if c.voltage else []
    cols, _, _ = parse_columns(tf, n_header, names, required, optional, sep="\t",
                               decimal_comma=dc, names_line=n_header, what="data row")
    return _record(path, cols, c, meta, n_header)


# ----------------------------------------------------------------------------- Gamry


def _read_gamry(tf: TextFile) -> Polarisation:
    path, lines = tf.path, tf.lines
    meta: dict[str, Any] = {"format": "gamry-dta", "source": str(path)}
    start = None
    for k, line in enumerate(lines):
        if line.startswith("TAG\t"):
            meta["technique"] = line.split("\t")[1].strip()
        m = _TABLE_RE.match(line)
        if m and m.group(1) == "CURVE":
            start = k
            break
    if start is None or start + 3 > len(lines):
        raise ReaderError(path, f"no 'CURVE<tab>TABLE' with its names and units rows: {EXPECTED}"
                          " (a Gamry CHRONOA file)")
    names = [x.strip() for x in lines[start + 1].rstrip("\r\n").split("\t")]
    units = [x.strip() for x in lines[start + 2].split("\t")]
    while names and names[-1] == "":
        names.pop()
    c = _choose_columns(path, names, start + 2, bare_unit_ok=True)
    for col, unit in ((c.time, "s"), (c.current, "A"), (c.voltage, "V")):
        if col not in ("T", "Im", "Vf"):
            continue
        j = names.index(col)
        got = units[j] if j < len(units) else ""
        if got.split(" ")[0].lower() != unit.lower():
            raise ReaderError(path, f"column {col!r} has unit {got!r}: expected {unit}",
                              line=start + 3)
    stop = next((k for k in range(start + 3, len(lines))
                 if lines[k].strip() and lines[k][:1] not in ("\t", " ")), len(lines))
    first = next((k for k in range(start + 3, stop) if lines[k].strip()), None)
    if first is None:
        raise ReaderError(path, f"the CURVE table has no rows: {EXPECTED}", line=start + 3)
    dc = guess_separator(lines[first])[1] and "." not in lines[first]
    if dc:
        add_note(meta, "decimal comma")
    optional = [c.voltage] if c.voltage else []
    cols, _, _ = parse_columns(tf, start + 3, names, [c.time, c.current], optional, sep="\t",
                               decimal_comma=dc, stop=stop, names_line=start + 2,
                               what="CURVE row")
    return _record(path, cols, c, meta, start + 2)


# ----------------------------------------------------------------------------- text tables


def _read_table(tf: TextFile) -> Polarisation:
    path, lines = tf.path, tf.lines
    block = find_numeric_block(lines)
    if block is None:
        raise ReaderError(path, f"no table of numbers found: {EXPECTED}")
    first, sep, dc = block
    header = next((k for k in range(first - 1, -1, -1) if lines[k].strip()), None)
    if header is None:
        raise ReaderError(path, f"no column names above the numbers: {EXPECTED}", line=first + 1)
    n_fields = len(split_fields(lines[first], sep))
    names = header_names(lines[header], sep, n_fields)
    c = _choose_columns(path, names, header + 1)
    meta: dict[str, Any] = {"format": "text", "source": str(path)}
    if dc:
        add_note(meta, "decimal comma")
    required = [c.time, c.current] + ([c.frequency] if c.frequency else [])
    optional = [c.voltage] if c.voltage else []
    cols, _, _ = parse_columns(tf, first, names, required, optional, sep=sep, decimal_comma=dc,
                               names_line=header + 1, stop_at_text=True)
    return _record(path, cols, c, meta, header + 1)


def read_polarisation(path: str | Path) -> Polarisation:
    """Read a chronoamperometry (DC polarisation) record.

    Parameters
    ----------
    path
        An EC-Lab ``.mpt`` (CA, or a Modulo Bat file whose rows with ``freq/Hz`` = 0 are its DC
        record), a Gamry CHRONOA ``.DTA``, or a text table (CSV, tab or blank separated) with
        a time column and a current column whose names carry their units.

    Returns
    -------
    Polarisation
        Time in s as the file gives it, current in A, voltage in V where the file has it.

    Raises
    ------
    ReaderError
        One line naming the file (and line) and what was expected.
    """
    try:
        tf = load_text(path)
    except ReaderError as exc:  # an empty or binary file: said with what this reader expects
        if "impedance data" not in exc.reason:
            raise
        raise ReaderError(exc.path, exc.reason.replace("impedance data", "a chronoamperometry "
                          "record"), line=exc.line, offset=exc.offset) from None
    first = tf.lines[0].lstrip("\ufeff").strip().upper() if tf.lines else ""
    if first.startswith("EC-LAB ASCII FILE"):
        return _read_mpt(tf)
    if first.startswith("EXPLAIN"):
        return _read_gamry(tf)
    return _read_table(tf)
