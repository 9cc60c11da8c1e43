"""The one place where file conventions become eisfit's conventions.

Readers only find columns and metadata; everything that differs between instruments is settled
here, once:

* text encodings (UTF-8 with or without BOM, UTF-16 with BOM, cp1252/latin-1) and line ends
  (LF, CRLF, CR CR LF);
* numbers with a decimal comma;
* column names: which column is the frequency, Re(Z), Im(Z), ``|Z|`` or the phase, with its
  unit (mOhm, Ohm, kOhm, MOhm; mHz, Hz, kHz, MHz, rad/s; degrees or radians) and its sign
  (``-Im(Z)/Ohm`` and ``-Z''`` hold -Im(Z));
* ``|Z|`` and phase to complex impedance;
* the sign of Im(Z) when a file does not say (decided from the data, conservatively, and
  recorded in ``meta["assumptions"]``);
* rows with frequency 0 (GEIS and Modulo Bat files interleave non-impedance rows), exact
  repeated rows and the frequency order (spectra are returned from high to low frequency).

Every spectrum leaves through :func:`make_spectrum`, so ``Im(Z) < 0`` means capacitive for all
of them.
"""

from __future__ import annotations

import functools
import math
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from eisfit.exceptions import ReaderError, SpectrumError
from eisfit.io.spectrum import Spectrum

__all__ = [
    "ColumnInfo",
    "classify_column",
    "decode_text",
    "Lines",
    "split_lines",
    "looks_binary",
    "parse_number",
    "NUMBER_RE",
    "polar_to_complex",
    "im_sign_from_data",
    "make_spectrum",
    "spectra_from_columns",
    "temperature_from_text",
    "add_assumption",
    "add_note",
]

# ----------------------------------------------------------------------------- text decoding

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def sniff_text(head: bytes, path: str | Path, n: int = 8192) -> str | None:
    """The first ``n`` bytes of a file decoded as text, for a reader's sniffer; None when they
    do not decode (a sniffer then says "not mine")."""
    try:
        return decode_text(head[:n], path)[0]
    except Exception:  # a sniffer must never raise: undecodable means another format
        return None


def decode_text(data: bytes, path: str | Path) -> tuple[str, str]:
    """Decode a text file's bytes.

    Parameters
    ----------
    data
        The file's content.
    path
        The file, for error messages.

    Returns
    -------
    text, encoding
        The decoded text (stray byte-order marks removed) and the encoding used.

    Raises
    ------
    ReaderError
        If a UTF-16 file has an odd number of bytes or invalid surrogates.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            if enc.startswith("utf-16") and len(body) % 2:
                # PSTrace writes a stray BOM after the JSON; a lone trailing byte is truncation
                body = body[:-1]
            try:
                text = body.decode(enc)
            except UnicodeDecodeError as exc:
                if enc == "utf-8":
                    text = body.decode("cp1252", errors="replace")
                    enc = "cp1252"
                else:
                    raise ReaderError(
                        path, f"invalid {enc} text ({exc.reason})", offset=exc.start + len(bom)
                    ) from None
            return text.replace("\ufeff", ""), enc
    # UTF-16 without a BOM: every other byte NUL in the first kilobyte
    head = data[:1024]
    if len(head) >= 8:
        odd_nul = head[1::2].count(0) / max(1, len(head[1::2]))
        even_nul = head[0::2].count(0) / max(1, len(head[0::2]))
        for enc, nul, other in (("utf-16-le", odd_nul, even_nul), ("utf-16-be", even_nul, odd_nul)):
            if nul > 0.9 and other < 0.1:
                try:
                    return data[: len(data) // 2 * 2].decode(enc).replace("\ufeff", ""), enc
                except UnicodeDecodeError:
                    pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # cp1252 leaves five bytes undefined; latin-1 maps every byte
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


_LINE_END = re.compile(r"\r\r\n|\r\n|\r|\n")


class Lines(Sequence[str]):
    """The lines of a text without their line ends, as :func:`split_lines` gives them, kept as
    the text itself and two packed arrays of offsets (16 bytes a line) instead of a string
    object per line: a large file costs about its text, and each line is cut when it is read.

    Indexing gives a line, a slice a list of lines, iteration each line in turn.
    """

    __slots__ = ("_text", "_starts", "_stops")

    def __init__(self, text: str) -> None:
        bounds = array("q")
        for m in _LINE_END.finditer(text):
            bounds.append(m.start())
            bounds.append(m.end())
        self._text = text
        self._stops = array("q", bounds[0::2])
        self._stops.append(len(text))
        self._starts = array("q", [0])
        self._starts.extend(bounds[1::2])
        if self._starts[-1] == len(text):  # the text ends with a line end: no last line
            self._starts.pop()
            self._stops.pop()

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            text = self._text
            return [
                text[a:b] for a, b in zip(self._starts[index], self._stops[index], strict=True)
            ]
        return self._text[self._starts[index] : self._stops[index]]

    def __iter__(self) -> Iterator[str]:
        text = self._text
        for a, b in zip(self._starts, self._stops, strict=True):
            yield text[a:b]


def split_lines(text: str) -> list[str]:
    """Split text into lines, treating LF, CRLF, CR CR LF and a lone CR each as one line end.

    One pass, with no normalised copy of the text: a file costs its text and its lines.
    """
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_TEXT_CONTROL_OK = {9, 10, 12, 13, 26}
_TEXT_BYTES = bytes(b for b in range(256) if b >= 32 or b in _TEXT_CONTROL_OK)


def looks_binary(head: bytes) -> int | None:
    """Return the offset of the first byte that a text file would not hold, or None.

    UTF-16 text (with or without BOM) is text. NUL bytes and control characters other than
    tab, line feed, form feed, carriage return and the DOS end-of-file mark count as binary.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    sample = head[:4096]
    if len(sample) >= 8:
        odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
        even = sample[0::2].count(0) / max(1, len(sample[0::2]))
        if (odd > 0.9 and even < 0.1) or (even > 0.9 and odd < 0.1):
            return None
    # bytes.translate deletes every byte a text file may hold at C speed; only a file with
    # something left needs the loop that finds where
    if not sample.translate(None, _TEXT_BYTES):
        return None
    for i, b in enumerate(sample):
        if b < 32 and b not in _TEXT_CONTROL_OK:
            return i
    return None


# ----------------------------------------------------------------------------- numbers

#: A plain decimal number as instruments write it (no thousands separators, no underscores).
NUMBER_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def parse_number(token: str, decimal_comma: bool = False) -> float:
    """Parse one cell.

    Parameters
    ----------
    token
        The cell's text, surrounding blanks allowed.
    decimal_comma
        True when the file writes ``1,5`` for 1.5.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the cell is not a plain number (``nan``, ``inf``, ``1_000`` and empty cells are
        refused).
    """
    t = token.strip().strip('"')
    if decimal_comma:
        t = t.replace(",", ".")
    if not NUMBER_RE.match(t):
        raise ValueError(token)
    return float(t)


# ----------------------------------------------------------------------------- column names


@dataclass(frozen=True)
class ColumnInfo:
    """What a column name says about its content.

    Attributes
    ----------
    quantity
        One of ``"frequency"``, ``"omega"``, ``"re"``, ``"im"``, ``"modulus"``, ``"phase"``,
        ``"cycle"``, ``"loop"``, ``"time"``, ``"temperature"``, or ``"other"``.
    factor
        Multiply the values by this to get SI (Ohm, Hz, rad, s, °C for temperature offsets are
        not converted).
    sign
        +1, or -1 when the column holds the negative (``-Im(Z)``, ``-Phase``).
    unit
        The unit as written in the name (may be empty).
    """

    quantity: str
    factor: float = 1.0
    sign: int = 1
    unit: str = ""


_IMPEDANCE_UNITS = {
    "": 1.0,
    "ohm": 1.0,
    "ohms": 1.0,
    "Ohm": 1.0,
    "Ohms": 1.0,
    "OHM": 1.0,
    "OHMS": 1.0,
    "Ω": 1.0,
    "mohm": 1e-3,
    "mOhm": 1e-3,
    "mOhms": 1e-3,
    "mΩ": 1e-3,
    "µOhm": 1e-6,
    "uOhm": 1e-6,
    "kohm": 1e3,
    "kOhm": 1e3,
    "kOhms": 1e3,
    "KOhm": 1e3,
    "kΩ": 1e3,
    "MOhm": 1e6,
    "MOhms": 1e6,
    "Mohm": 1e6,
    "MΩ": 1e6,
    "GOhm": 1e9,
    "GΩ": 1e9,
}
_FREQUENCY_UNITS = {
    "": 1.0,
    "hz": 1.0,
    "Hz": 1.0,
    "HZ": 1.0,
    "mHz": 1e-3,
    "kHz": 1e3,
    "KHz": 1e3,
    "khz": 1e3,
    "MHz": 1e6,
    "GHz": 1e9,
}
_OMEGA_UNITS = {"rad/s": 1 / (2 * math.pi), "1/s": 1 / (2 * math.pi), "s-1": 1 / (2 * math.pi)}
_PHASE_UNITS = {
    "": 1.0,
    "deg": 1.0,
    "degree": 1.0,
    "degrees": 1.0,
    "°": 1.0,
    "Â°": 1.0,
    "\ufffd": 1.0,
    "rad": 180 / math.pi,
    "radian": 180 / math.pi,
    "radians": 180 / math.pi,
}

# quantity patterns on the lower-cased name with blanks removed; the rest must be a unit
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("frequency", re.compile(r"^(?:frequency|freq\.?|freq|f)")),
    ("omega", re.compile(r"^(?:omega|ω|angularfrequency|w)(?=\[|/|\(|$)")),
    ("im", re.compile(r"^(?P<neg>-)?(?:im\(z\)|imag\(z\)|z''|zs''|z\"|zimag|zimg|zim|"
                      r"z_?imag(?:inary)?|imz|imagz|zi|im|imag|imaginary|z''\(b\))")),
    ("re", re.compile(r"^(?:re\(z\)|real\(z\)|z'(?!')|zs'(?!')|zreal|zre|z_?real|rez|realz|"
                      r"zr|re|real)")),
    ("modulus", re.compile(r"^(?:\|z\||zmod|mod\(z\)|\|z|z\||modz|z|zs|impedance|"
                           r"abs\(z\)|magnitude)")),
    ("phase", re.compile(r"^(?P<neg>-)?(?:phase\(z\)|phase|zphz|zphase|phz|theta\(z\)|theta|"
                         r"phi|φ|θ|angle)")),
    ("cycle", re.compile(r"^(?:zcycle|cyclenumber|cycle)")),
    ("loop", re.compile(r"^(?:loop_?index|loop)")),
    ("time", re.compile(r"^(?:time|elapsedtime|t)(?=\[|/|\(|$)")),
    ("temperature", re.compile(r"^(?:temperature|temperatur|temp)")),
]

_UNIT_RE = re.compile(
    r"^(?:\((?P<a>[^()]*)\)|\[(?P<b>[^\[\]]*)\]|/(?P<c>.*)|_(?P<d>[A-Za-zΩ°µ]+))?$"
)


def _strip_name(name: str) -> str:
    n = name.strip().strip('"').strip()
    if n.lower().startswith("data:"):
        n = n[5:]
    return n


@functools.lru_cache(maxsize=4096)  # a batch of files names the same columns over and over
def classify_column(name: str) -> ColumnInfo:
    """Say what a column holds from its name.

    Parameters
    ----------
    name
        The column name as written, e.g. ``"-Im(Z)/Ohm"``, ``"Z'' (kOhm)"``, ``"freq/Hz"``,
        ``"Zs''[ohm]"``, ``"Phase(Z)/deg"``, ``"Theta"``.

    Returns
    -------
    ColumnInfo
        ``quantity == "other"`` when the name is not one of the recognised quantities or its
        unit is not understood (for example an area-normalised ``Ohm.cm2`` column).

    Examples
    --------
    >>> classify_column("-Im(Z)/Ohm")
    ColumnInfo(quantity='im', factor=1.0, sign=-1, unit='Ohm')
    >>> classify_column("Z' (kOhm)").factor
    1000.0
    """
    raw = _strip_name(name)
    compact = re.sub(r"\s+", "", raw)
    low = compact.lower()
    if not low or "*" in low or "area" in low or "cm" in low:
        return ColumnInfo("other")
    for quantity, pat in _PATTERNS:
        m = pat.match(low)
        if not m:
            continue
        rest_low = low[m.end():]
        rest = compact[m.end():]
        # ZPlot writes Z'(a) and Z''(b): the letter is a label, not a unit
        rest = re.sub(r"^\([ab]\)", "", rest)
        rest_low = re.sub(r"^\([ab]\)", "", rest_low)
        um = _UNIT_RE.match(rest)
        if not um:
            continue
        unit = next((g for g in um.groups() if g is not None), "")
        unit = unit.strip()
        sign = -1 if (m.groupdict().get("neg")) else 1
        return _with_unit(quantity, unit, sign)
    return ColumnInfo("other")


def _with_unit(quantity: str, unit: str, sign: int) -> ColumnInfo:
    if quantity in ("re", "im", "modulus"):
        if unit in _IMPEDANCE_UNITS:
            return ColumnInfo(quantity, _IMPEDANCE_UNITS[unit], sign, unit)
        if unit.lower() in ("ohm", "ohms"):
            return ColumnInfo(quantity, 1.0, sign, unit)
        return ColumnInfo("other")
    if quantity == "frequency":
        if unit in _FREQUENCY_UNITS:
            return ColumnInfo(quantity, _FREQUENCY_UNITS[unit], sign, unit)
        if unit in _OMEGA_UNITS:
            return ColumnInfo("frequency", _OMEGA_UNITS[unit], sign, unit)
        return ColumnInfo("other")
    if quantity == "omega":
        if unit in _OMEGA_UNITS or unit == "":
            return ColumnInfo("frequency", 1 / (2 * math.pi), sign, unit or "rad/s")
        return ColumnInfo("other")
    if quantity == "phase":
        if unit in _PHASE_UNITS:
            return ColumnInfo(quantity, _PHASE_UNITS[unit], sign, unit)
        return ColumnInfo("other")
    return ColumnInfo(quantity, 1.0, sign, unit)


# ----------------------------------------------------------------------------- conversions


def polar_to_complex(modulus: np.ndarray, phase_deg: np.ndarray) -> np.ndarray:
    """Complex impedance from ``|Z|`` (Ohm) and phase (degrees, any winding).

    A phase that wraps through ±180° gives the same complex number as its unwrapped value.
    """
    rad = np.deg2rad(np.asarray(phase_deg, dtype=float))
    return np.asarray(modulus, dtype=float) * np.exp(1j * rad)


def im_sign_from_data(frequency: np.ndarray, values: np.ndarray) -> tuple[int, str]:
    """Decide whether a column of unknown sign holds Im(Z) or -Im(Z).

    Capacitive spectra (every solid-electrolyte and battery cell at low frequency) have
    Im(Z) < 0 at the low-frequency end. The lowest-frequency third of the points is looked at:
    when at least three quarters of it is positive the column is taken as -Im(Z); otherwise
    (mostly negative, or mixed) as Im(Z), the convention of ``Z''`` columns.

    Parameters
    ----------
    frequency
        Frequencies in Hz.
    values
        The column's values.

    Returns
    -------
    sign, note
        +1 (column is Im(Z)) or -1 (column is -Im(Z)), and a sentence for
        ``meta["assumptions"]``.
    """
    f = np.asarray(frequency, float)
    v = np.asarray(values, float)
    ok = f > 0
    f, v = f[ok], v[ok]
    if v.size == 0:
        return 1, "imaginary column taken as Im(Z) (no data to decide the sign)"
    n = max(3, v.size // 3)
    low = v[np.argsort(f)][:n]
    low = low[low != 0]
    if low.size == 0:
        return 1, "imaginary column taken as Im(Z) (all zero at low frequency)"
    frac_pos = float(np.mean(low > 0))
    if frac_pos >= 0.75:
        return -1, (
            f"imaginary column taken as -Im(Z): {frac_pos:.0%} of the lowest-frequency "
            "points are positive, and capacitive spectra have Im(Z) < 0 there"
        )
    if frac_pos <= 0.25:
        return 1, (
            f"imaginary column taken as Im(Z): {1 - frac_pos:.0%} of the lowest-frequency "
            "points are negative (capacitive)"
        )
    return 1, (
        "imaginary column taken as Im(Z) (Z'' convention); the data do not decide the sign "
        f"({frac_pos:.0%} of the lowest-frequency points positive): check it"
    )


# ----------------------------------------------------------------------------- metadata helpers


def add_assumption(meta: dict[str, Any], text: str) -> None:
    """Append a sentence to ``meta["assumptions"]`` (a list of strings), once."""
    lst = meta.setdefault("assumptions", [])
    if text not in lst:
        lst.append(text)


def add_note(meta: dict[str, Any], text: str) -> None:
    """Append a sentence to ``meta["notes"]`` (informational, nothing was guessed)."""
    lst = meta.setdefault("notes", [])
    if text not in lst:
        lst.append(text)


_TEMP_RE = re.compile(
    r"(?<![A-Za-z0-9.])(?P<v>[-+−]?\d+(?:[.,]\d+)?)\s*(?P<u>°\s*C|°C|degC|deg\.?C?|℃|C|K)(?![A-Za-z])"
)


def temperature_from_text(text: str) -> float | None:
    """Temperature in K from a label such as ``"LRC_0_  -72°C"``, ``"25degC"``, ``"298K"``.

    Returns None unless exactly one temperature-like token is found (two candidates, as in
    ``"..._2065C_500C"``, are ambiguous and give None).
    """
    found = []
    for m in _TEMP_RE.finditer(text.replace("\ufffd", "°")):
        v = float(m.group("v").replace(",", ".").replace("−", "-"))
        u = m.group("u").replace(" ", "")
        if u == "K":
            if v > 0:
                found.append(v)
        else:
            if v > -273.15:
                found.append(v + 273.15)
    if len(found) == 1:
        return found[0]
    return None


# ----------------------------------------------------------------------------- building spectra


#: Highest frequency a reader accepts, Hz: no impedance instrument measures above it, and a
#: larger value means columns were read out of place (decimal commas split into fields...).
MAX_FREQUENCY_HZ = 1e10
#: Largest |phase| accepted, degrees (a phase may wrap through ±180°, never beyond a turn).
MAX_PHASE_DEG = 360.0


def check_range(
    path: str | Path,
    name: str,
    values: np.ndarray,
    lines: Sequence[int] | np.ndarray | None,
    *,
    low: float | None = None,
    high: float | None = None,
    whole: bool = False,
    expected: str,
) -> None:
    """Refuse a column whose values are not plausible for what it is read as.

    Parameters
    ----------
    path
        The file, for the message.
    name
        The column, as the file names it.
    values
        Its values, in the unit of ``low`` and ``high``.
    lines
        1-based file line of each value.
    low, high
        Inclusive bounds; NaN values are left to other checks.
    whole
        Values must be whole numbers (cycle and loop indices).
    expected
        What a plausible value is, for the message (``"a phase within ±360°"``).

    Raises
    ------
    ReaderError
        Naming the line of the first implausible value, the column and what was expected:
        such a value means the columns were read out of place.
    """
    v = np.asarray(values, dtype=float)
    bad = np.zeros(v.shape, bool)
    if low is not None:
        bad |= v < low
    if high is not None:
        bad |= v > high
    if whole:
        bad |= np.isfinite(v) & (v != np.round(v))
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    line = None if lines is None else int(np.asarray(lines)[k])
    raise ReaderError(
        path,
        f"column {name!r} holds {v[k]:.6g}: expected {expected} (columns out of place, or "
        "not the quantity the name says?)",
        line=line,
    )


def check_frequency(
    path: str | Path, name: str, f: np.ndarray, lines: Sequence[int] | np.ndarray | None
) -> None:
    """:func:`check_range` for a frequency column (Hz): at most :data:`MAX_FREQUENCY_HZ`."""
    check_range(
        path, name, f, lines, high=MAX_FREQUENCY_HZ,
        expected=f"a frequency up to {MAX_FREQUENCY_HZ:.0e} Hz",
    )


def check_polar(
    path: str | Path,
    mod_name: str,
    mod: np.ndarray,
    phase_name: str,
    phase: np.ndarray,
    lines: Sequence[int] | np.ndarray | None,
) -> None:
    """:func:`check_range` for a ``|Z|`` column (>= 0) and a phase column in degrees (within
    ±:data:`MAX_PHASE_DEG`)."""
    check_range(path, mod_name, mod, lines, low=0.0, expected="a modulus |Z| >= 0")
    check_range(
        path, phase_name, phase, lines, low=-MAX_PHASE_DEG, high=MAX_PHASE_DEG,
        expected="a phase within ±360°",
    )


def make_spectrum(
    path: str | Path,
    frequency: Any,
    z: Any,
    meta: Mapping[str, Any],
    *,
    lines: Sequence[int] | None = None,
    drop_zero_frequency: bool = True,
) -> Spectrum:
    """Turn one spectrum's arrays into a validated :class:`~eisfit.io.spectrum.Spectrum`.

    Rows with frequency 0 are dropped (non-impedance rows of GEIS/Modulo Bat files), exact
    repeats of the previous row are dropped, and the points are ordered from high to low
    frequency. Everything that was changed is written to ``meta["notes"]``.

    Parameters
    ----------
    path
        The file, for error messages.
    frequency
        Frequencies in Hz.
    z
        Complex impedance in Ohm, Im(Z) < 0 capacitive.
    meta
        Metadata to attach.
    lines
        1-based file line of each row, to name the line of a bad value.
    drop_zero_frequency
        Drop rows whose frequency is exactly 0.

    Raises
    ------
    ReaderError
        If no point is left, or a value is negative, infinite or NaN.
    """
    f = np.asarray(frequency, dtype=float).ravel()
    zz = np.asarray(z, dtype=complex).ravel()
    m = dict(meta)
    ln = None if lines is None else np.asarray(lines).ravel()
    if drop_zero_frequency:
        keep = f != 0
        if not keep.all():
            add_note(m, f"{int((~keep).sum())} rows with frequency 0 (not impedance) dropped")
            f, zz = f[keep], zz[keep]
            if ln is not None:
                ln = ln[keep]
    bad = ~np.isfinite(f) | (f < 0) | ~np.isfinite(zz)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        line = None if ln is None else int(ln[i])
        raise ReaderError(
            path,
            f"point {i}: frequency {f[i]:g} Hz, Z {zz[i]:g} Ohm: expected a finite frequency > 0 "
            "and a finite impedance",
            line=line,
        )
    if f.size == 0:
        raise ReaderError(path, "no impedance data points (frequency > 0) found")
    check_frequency(path, "frequency", f, ln)
    if f.size > 1:
        rep = np.zeros(f.size, bool)
        rep[1:] = (f[1:] == f[:-1]) & (zz[1:] == zz[:-1])
        if rep.any():
            add_note(m, f"{int(rep.sum())} exactly repeated rows dropped")
            f, zz = f[~rep], zz[~rep]
    order = np.argsort(-f, kind="stable")
    if not np.array_equal(order, np.arange(f.size)):
        if f.size > 1 and np.all(np.diff(f) >= 0):
            add_note(m, "frequencies were ascending in the file; reordered high to low")
        else:
            add_note(m, "frequencies were not monotonic in the file; reordered high to low")
        f, zz = f[order], zz[order]
    m.setdefault("source", str(path))
    if m.get("assumptions") is not None:
        m["assumptions"] = list(m["assumptions"])
    try:
        return Spectrum(f, zz, m, min_points=1)
    except SpectrumError as exc:  # its message names the file already: name it once
        raise ReaderError(path, str(exc).removeprefix(f"{m['source']}: ")) from None


def _groups(keys: np.ndarray) -> list[np.ndarray]:
    """Row indices of each distinct key (a row of ``keys``, shape (N, K)), the groups in
    first-seen order and each group's rows in row order; in numpy, so a file of many spectra
    costs arrays, not a Python object per row."""
    if not len(keys):
        return []
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rows = np.argsort(inverse, kind="stable")
    per_group = np.split(rows, np.cumsum(np.bincount(inverse))[:-1])
    return [per_group[g] for g in np.argsort(first, kind="stable")]


#: A time column known to hold seconds: ``time/s``, ``Time (s)``, ``elapsed time [s]``, ``time``.
_SECONDS_COLUMN = re.compile(r"(?i)\s*(?:elapsed\s*)?time\s*(?:/\s*s|\(s\)|\[s\])?\s*")


def spectra_from_columns(
    path: str | Path,
    columns: Mapping[str, np.ndarray],
    names: Sequence[str],
    meta: Mapping[str, Any],
    *,
    lines: np.ndarray | None = None,
    split_keys: Iterable[str] = ("z cycle", "cycle number"),
    extra_groups: np.ndarray | None = None,
    im_sign_known: bool = True,
    name_hint: str = "",
) -> list[Spectrum]:
    """Spectra from named numeric columns (the common path of all table readers).

    Parameters
    ----------
    path
        The file.
    columns
        Column name -> values (all the same length).
    names
        Column names in file order (decides which of several candidates is used: the first).
    meta
        Metadata shared by all spectra of the file.
    lines
        1-based file line of each row.
    split_keys
        Names of columns whose value changes start a new spectrum (the first present is used).
    extra_groups
        An extra integer group id per row (for example EC-Lab's loop blocks), combined with
        the split column.
    im_sign_known
        False when the file's imaginary column name does not give its sign (then the data
        decide, see :func:`im_sign_from_data`).
    name_hint
        Format name for messages.

    Raises
    ------
    ReaderError
        If no frequency column, or neither Re/Im nor ``|Z|``/phase columns are found.
    """
    infos = {n: classify_column(n) for n in names}
    by_q: dict[str, str] = {}
    for n in names:
        q = infos[n].quantity
        if q != "other" and q not in by_q:
            by_q[q] = n
    m0 = dict(meta)
    if "frequency" not in by_q:
        raise ReaderError(
            path,
            f"no frequency column among {list(names)!r}: expected a column such as 'freq/Hz', "
            "'Frequency (Hz)' or 'Freq'",
        )
    fcol = by_q["frequency"]
    f = np.asarray(columns[fcol], float) * infos[fcol].factor
    check_frequency(path, fcol, f, lines)
    if "re" in by_q and "im" in by_q:
        z = _z_from_re_im(columns, infos, by_q["re"], by_q["im"], f, m0, im_sign_known)
    elif "modulus" in by_q and "phase" in by_q:
        z = _z_from_polar(path, columns, infos, by_q["modulus"], by_q["phase"], m0, lines)
    else:
        raise ReaderError(
            path,
            f"no impedance columns among {list(names)!r}: expected Re(Z) and Im(Z) "
            "(e.g. 'Re(Z)/Ohm', '-Im(Z)/Ohm', \"Z'\", \"Z''\") or |Z| and phase",
        )
    split_vals, used_key = _split_column(path, columns, names, by_q, split_keys, lines)
    n_zero = int((f == 0).sum())
    if n_zero:
        add_note(m0, f"{n_zero} rows with frequency 0 (not impedance) dropped")
    eg = None if extra_groups is None else np.asarray(extra_groups, float)
    groups = _row_groups(f, split_vals, eg)
    out: list[Spectrum] = []
    temp_col = by_q.get("temperature")
    # several spectra in one file: each one's start time tells them apart (meta "time_s");
    # a time column in seconds only ("time/s", "Time (s)", "time"; not "T" or minutes)
    time_col = by_q.get("time") if len(groups) > 1 else None
    if time_col not in columns or not _SECONDS_COLUMN.fullmatch(str(time_col)):
        time_col = None
    for g in groups:
        m = _group_meta(
            m0, g, columns, infos, time_col=time_col, temp_col=temp_col,
            split_vals=split_vals, used_key=used_key, extra_groups=eg,
        )
        ln = None if lines is None else np.asarray(lines)[g]
        out.append(make_spectrum(path, f[g], z[g], m, lines=ln))
    return out


def _z_from_re_im(
    columns: Mapping[str, np.ndarray],
    infos: Mapping[str, ColumnInfo],
    rcol: str,
    icol: str,
    f: np.ndarray,
    m0: dict[str, Any],
    im_sign_known: bool,
) -> np.ndarray:
    """Z from Re(Z) and Im(Z) columns, the sign of Im(Z) from its name or else from the data."""
    re_ = np.asarray(columns[rcol], float) * infos[rcol].factor
    im_raw = np.asarray(columns[icol], float) * infos[icol].factor
    if im_sign_known:
        im = im_raw * infos[icol].sign
        # a conservative check: Im(Z) > 0 over the low-frequency end is unusual
        sign, _ = im_sign_from_data(f, im)
        if sign == -1:
            add_note(
                m0,
                f"column {icol!r} read as {'-' if infos[icol].sign < 0 else ''}Im(Z) per its "
                "name; Im(Z) is positive (inductive) at most of the lowest frequencies",
            )
    else:
        sign, note = im_sign_from_data(f, im_raw)
        im = im_raw * sign
        add_assumption(m0, f"column {icol!r}: {note}")
    return re_ + 1j * im


def _z_from_polar(
    path: str | Path,
    columns: Mapping[str, np.ndarray],
    infos: Mapping[str, ColumnInfo],
    mcol: str,
    pcol: str,
    m0: dict[str, Any],
    lines: np.ndarray | None,
) -> np.ndarray:
    """Z from |Z| and phase columns (phases beyond ±90° kept as measured, with a note)."""
    mod = np.asarray(columns[mcol], float) * infos[mcol].factor
    ph = np.asarray(columns[pcol], float) * infos[pcol].factor * infos[pcol].sign
    check_polar(path, mcol, mod, pcol, ph, lines)
    z = polar_to_complex(mod, ph)
    add_note(m0, f"Z computed from {mcol!r} and {pcol!r}")
    wrapped = np.abs(ph) > 90
    if wrapped.any():
        add_note(
            m0,
            f"{int(wrapped.sum())} points have a phase beyond ±90° (Re(Z) < 0): "
            "kept as measured",
        )
    return z


def _split_column(
    path: str | Path,
    columns: Mapping[str, np.ndarray],
    names: Sequence[str],
    by_q: Mapping[str, str],
    split_keys: Iterable[str],
    lines: np.ndarray | None,
) -> tuple[np.ndarray | None, str | None]:
    """The values and name of the column that splits the rows into spectra, if any.

    The first of ``split_keys`` present is used, else a loop column; its values must be whole.
    """
    split_vals = None
    used_key = None
    for k in split_keys:
        col = next((c for c in names if c.strip().lower() == k.lower()), None)
        if col is not None:
            split_vals = np.asarray(columns[col], float)
            used_key = col
            break
    if split_vals is None and "loop" in by_q:
        split_vals = np.asarray(columns[by_q["loop"]], float)
        used_key = by_q["loop"]
    if split_vals is not None and used_key is not None:
        check_range(
            path, used_key, split_vals, lines, whole=True, expected="a whole cycle or loop number"
        )
    return split_vals, used_key


def _row_groups(
    f: np.ndarray, split_vals: np.ndarray | None, extra_groups: np.ndarray | None
) -> list[np.ndarray]:
    """Row indices of each spectrum: by split column and extra group, or all rows in one."""
    n = f.size
    # rows that are not impedance (frequency 0) never make a group on their own
    valid = np.flatnonzero(f != 0)
    if split_vals is None and extra_groups is None:
        return [np.arange(n)]
    a = split_vals if split_vals is not None else np.zeros(n)
    b = extra_groups if extra_groups is not None else np.zeros(n)
    keys = np.column_stack([b[valid], a[valid]])
    return [valid[g] for g in _groups(keys) if g.size] or [np.arange(n)]


def _group_meta(
    m0: Mapping[str, Any],
    g: np.ndarray,
    columns: Mapping[str, np.ndarray],
    infos: Mapping[str, ColumnInfo],
    *,
    time_col: str | None,
    temp_col: str | None,
    split_vals: np.ndarray | None,
    used_key: str | None,
    extra_groups: np.ndarray | None,
) -> dict[str, Any]:
    """Metadata of the spectrum of rows ``g``: its start time, cycle or loop, temperature."""
    m = dict(m0)
    m["assumptions"] = list(m0.get("assumptions", []))
    m["notes"] = list(m0.get("notes", []))
    if time_col is not None:
        t0 = float(np.asarray(columns[time_col], float)[g[0]]) * infos[time_col].factor
        if math.isfinite(t0):
            m["time_s"] = t0
    if split_vals is not None and used_key is not None:
        kval = split_vals[g[0]]
        if np.isfinite(kval) and float(kval).is_integer():
            m.setdefault("loop" if "loop" in used_key.lower() else "cycle", int(kval))
    eg = extra_groups
    if eg is not None and np.isfinite(eg[g[0]]) and eg[g[0]] >= 0:
        m.setdefault("loop", int(eg[g[0]]))
    if temp_col is not None and "temperature" not in m:
        t = np.asarray(columns[temp_col], float)[g]
        t = t[np.isfinite(t)]
        if t.size and np.ptp(t) < 5 and -150 < float(np.mean(t)) < 1000:
            m["temperature"] = float(np.mean(t)) + 273.15
            add_assumption(m, f"temperature from column {temp_col!r} read as °C")
    for key in ("notes", "assumptions"):
        if not m[key]:
            del m[key]
    return m
