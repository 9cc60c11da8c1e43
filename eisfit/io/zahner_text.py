"""Zahner Thales / Zennium impedance text exports.

No example file written by Zahner software was found in public code; what is supported here is
what several independent public parsers of these files expect, each one read for layout only:

*Polar table* (Thales "Save as ASCII" of a displayed spectrum, and the text export of the Zahner
evaluation software). A block of ``key: value`` header lines, the key often padded with dots
(``File Name: ...``, ``Time.....: 10:02:13 - 10:31:40``, ``Potential....: 0.0000V``,
``Current...: 1.0E-09A``, sometimes ``..., Ampl: 10mV`` on the same line), then one line of
column names and the rows. The names come in a slash form (``Number``, ``Frequency/Hz``,
``Impedance/Ohm`` or ``impedance/Ohm``, ``Phase/deg``, ``Significance``, ``Time/s``) or a
bracket form (``frequency (Hz)``, ``impedance (Ω)``, ``phase / deg (°)``, ``significance``);
the rows are separated by commas, tabs or blanks. Parsers agree that ``Impedance`` is ``|Z|`` in
Ohm and ``Phase`` is the phase of Z in degrees, converted as Re = |Z| cos φ, Im = |Z| sin φ:
this reader takes Z = |Z| exp(iφ), so a capacitive phase (negative, as in the binary ``.ism``
the export comes from) gives Im(Z) < 0.

*Logarithmic table* (the Bin2Txt / "ISM to TXT" converter). ``Time   : ... - ...``,
``Potential   : ...``, ``Current   : ...`` header lines, then tab-separated columns with a
decimal comma: ``LOGF`` (log of the frequency in Hz), ``LOGO`` (log of ω), ``LOGZm`` (log of the
measured ``|Z|``), ``Phim`` (measured phase, degrees), ``Real`` and ``Imag`` (the impedance in
Ohm), then smoothed and Z-HIT columns (``Phis``, ``LOGZs``, ``LOGZzhit``) that are not read.
The logarithm is decadic unless ``LOGO - LOGF`` says otherwise (it is log(2π) in the base
used, checked on every file that has both); ``Real`` + i ``Imag`` is the impedance when
``Imag`` and ``Phim`` have the same sign (``Phim`` taken as the phase of Z); when they disagree,
the sign of ``Imag`` is decided from the low-frequency end and the choice is recorded.

Both come from a Thales sweep that starts at a start frequency, runs to one end and then covers
the other end, so the first points can repeat frequencies measured again later (public parsers
of these exports drop the shorter monotonic run). As for ``.ism`` files, only the points between
the lowest and the highest frequency are returned, with a note saying how many were left out.

A file is recognised by its column-name line only: ``LOGF`` with ``Real``/``Imag`` (or
``LOGZm``/``Phim``), or the three polar names together with ``Number`` or ``Significance``, or
the bracket spelling. A plain ``Frequency/Hz, Impedance/Ohm, Phase/deg`` table carries no Zahner
mark and is left to the generic reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import (
    TextFile,
    guess_separator,
    header_names,
    load_text,
    nonempty_fields,
    parse_columns,
)
from eisfit.io.normalise import (
    add_assumption,
    add_note,
    im_sign_from_data,
    make_spectrum,
    polar_to_complex,
    sniff_text,
)
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum
from eisfit.io.zahner import sweep_span

# column name (lower case, blanks removed) -> role
_POLAR = {
    "number": "number",
    "frequency/hz": "frequency",
    "frequency(hz)": "frequency",
    "impedance/ohm": "modulus",
    "impedance(ω)": "modulus",
    "impedance(ohm)": "modulus",
    "phase/deg": "phase",
    "phase/deg(°)": "phase",
    "significance": "significance",
    "time/s": "time",
    "time(s)": "time",
}
_LOG = {k: k for k in ("logf", "logo", "logzm", "phim", "real", "imag")}
# layout -> the column sets that make a table of it, (required roles, optional roles): the
# first complete one is taken
_COLUMN_SETS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "polar": [(("frequency", "modulus", "phase"), ("number", "significance"))],
    "log": [
        (("logf", "real", "imag"), ("logo", "phim")),
        (("logf", "logzm", "phim"), ("logo",)),
    ],
}
_SPLITS = (r"\t", r";", r",", r"\s{2,}", r"\s+")
_META_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)[\s.]*:\s*(.*?)\s*$")
_VALUE = re.compile(r"^([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]*)$")
_UNITS = {
    "V": ("V", 1.0),
    "mV": ("V", 1e-3),
    "µV": ("V", 1e-6),
    "uV": ("V", 1e-6),
    "A": ("A", 1.0),
    "mA": ("A", 1e-3),
    "µA": ("A", 1e-6),
    "uA": ("A", 1e-6),
    "nA": ("A", 1e-9),
    "pA": ("A", 1e-12),
}


def _key(name: str) -> str:
    return "".join(name.strip().strip('"').split()).lower()


def _roles(names: Sequence[str], table: dict[str, str]) -> dict[str, str]:
    """Role -> column name, the first column of each role."""
    out: dict[str, str] = {}
    for n in names:
        role = table.get(_key(n))
        if role is not None and role not in out:
            out[role] = n
    return out


def _columns(layout: str, roles: dict[str, str]) -> tuple[list[str], list[str]] | None:
    """The required and optional column names of a ``layout`` table with these roles, or None
    when its required columns are not all there."""
    for required, optional in _COLUMN_SETS[layout]:
        if roles.keys() >= set(required):
            return [roles[k] for k in required], [roles[k] for k in optional if k in roles]
    return None


def _header_line(line: str) -> tuple[str, list[str]] | None:
    """The layout and the column names when ``line`` is a Zahner column-name line."""
    if not line.strip() or ":" in line:
        return None
    # every layout names a frequency column (Frequency/Hz, frequency (Hz), LOGF): a cheap
    # test that lets the data rows of any text file through quickly
    low = line.lower()
    if "freq" not in low and "logf" not in low:
        return None
    for sep in _SPLITS:
        names = [c for c in re.split(sep, line.strip()) if c.strip()]
        if len(names) < 3:
            continue
        polar = _roles(names, _POLAR)
        if _columns("polar", polar) is not None:
            # the three polar names alone are a common table; Zahner's exports add a point
            # number or a significance column, and the bracket form is Zahner's own spelling
            if (
                "number" in polar
                or "significance" in polar
                or _key(polar["phase"]) == "phase/deg(°)"
            ):
                return "polar", names
        elif _columns("log", _roles(names, _LOG)) is not None:
            return "log", names
    return None


def _find_header(lines: Sequence[str], limit: int = 200) -> tuple[int, str] | None:
    for i, ln in enumerate(lines[:limit]):
        h = _header_line(ln)
        if h is not None:
            return i, h[0]
    return None


def _has_meta(lines: Sequence[str]) -> bool:
    keys = set()
    for ln in lines:
        m = _META_LINE.match(ln)
        if m:
            keys.add(m.group(1).strip().lower())
    return bool(keys & {"potential", "current", "file name"})


@register("zahner-text", extensions=(), description="Zahner Thales impedance text export")
class ZahnerText:
    """Zahner Thales text export of an impedance spectrum (polar or Bin2Txt log table)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        text = sniff_text(head, path)
        if text is None:
            return 0.0
        lines = text.splitlines()[:200]
        found = _find_header(lines)
        if found is None:
            return 0.0
        i, lay = found
        if lay == "log" or _has_meta(lines[:i]):
            return 0.9
        return 0.85

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        found = _find_header(tf.lines)
        if found is None:
            raise ReaderError(
                path,
                "no Zahner column names: expected a line with 'Frequency/Hz', 'Impedance/Ohm' "
                "and 'Phase/deg' (with 'Number' or 'Significance'), or 'LOGF' with 'Real' and "
                "'Imag'",
                line=1,
            )
        h, layout = found
        meta: dict[str, Any] = {"format": "zahner-text", "source": str(path)}
        _read_meta(tf.lines[:h], meta)
        first = h + 1
        while first < len(tf.lines) and not tf.lines[first].strip():
            first += 1
        if first >= len(tf.lines):
            raise ReaderError(path, "no data rows after the column names", line=h + 1)
        sep, dc = guess_separator(tf.lines[first])
        n_fields = len(nonempty_fields(tf.lines[first], sep))
        names = header_names(tf.lines[h], sep, n_fields)
        roles = _roles(names, _POLAR if layout == "polar" else _LOG)
        selected = _columns(layout, roles)
        if selected is None:
            raise ReaderError(
                path,
                f"column names {names!r} do not line up with the {n_fields} fields of the "
                "first data row",
                line=h + 1,
            )
        required, optional = selected
        cols, lines, _ = parse_columns(
            tf, first, names, required, optional, sep=sep, decimal_comma=dc, stop_at_text=True,
            names_line=h + 1,
        )
        if lines.size == 0:
            raise ReaderError(path, "no data rows after the column names", line=first + 1)
        if dc:
            add_note(meta, "decimal comma")
        if layout == "polar":
            f, z = _polar(roles, cols, meta)
        else:
            f, z = _log(tf, roles, cols, lines, meta)
        if "number" in roles:
            num = cols[roles["number"]]
            ok = np.isfinite(num)
            back = np.flatnonzero(np.diff(num[ok]) <= 0)
            if back.size:
                ln = int(lines[ok][back[0] + 1])
                raise ReaderError(
                    path,
                    "column 'Number' does not increase here: one sweep per file expected "
                    "(several spectra in one export are not supported)",
                    line=ln,
                )
        if "significance" in roles:
            sig = cols[roles["significance"]]
            sig = sig[np.isfinite(sig)]
            if sig.size and np.all((sig >= 0) & (sig <= 1)) and (sig < 0.5).any():
                add_note(
                    meta,
                    f"{int((sig < 0.5).sum())} points have a Thales significance below 0.5 (kept)",
                )
        f, z, lines = _trim_sweep(f, z, lines, meta)
        return [make_spectrum(path, f, z, meta, lines=lines)]


def _polar(
    roles: dict[str, str], cols: dict[str, np.ndarray], meta: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    f = cols[roles["frequency"]]
    mod = cols[roles["modulus"]]
    ph = cols[roles["phase"]]
    z = polar_to_complex(mod, ph)
    add_note(
        meta,
        f"Z = |Z|·exp(iφ) from {roles['modulus']!r} and {roles['phase']!r} (phase of Z in "
        "degrees, negative when capacitive)",
    )
    return f, z


def _log(
    tf: TextFile,
    roles: dict[str, str],
    cols: dict[str, np.ndarray],
    lines: np.ndarray,
    meta: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    path = tf.path
    logf = cols[roles["logf"]]
    base = 10.0
    logo = cols.get(roles.get("logo", ""), None)
    if logo is not None and np.isfinite(logo).any():
        d = float(np.nanmedian(logo - logf))
        if abs(d - math.log10(2 * math.pi)) < 0.01:
            base = 10.0
        elif abs(d - math.log(2 * math.pi)) < 0.01:
            base = math.e
            add_note(meta, "LOGF/LOGO are natural logarithms (LOGO - LOGF = ln 2π)")
        else:
            raise ReaderError(
                path,
                f"LOGO - LOGF is {d:.4g}: expected log10(2π) = 0.798 or ln(2π) = 1.838 "
                "(not a Zahner log table?)",
                line=int(lines[0]),
            )
    else:
        add_assumption(
            meta,
            "LOGF read as the decadic logarithm of the frequency in Hz "
            "(no LOGO column to check it)",
        )
    if np.any(np.abs(logf) > 12):
        k = int(np.flatnonzero(np.abs(logf) > 12)[0])
        raise ReaderError(
            path, f"LOGF {logf[k]} is not the logarithm of a frequency", line=int(lines[k])
        )
    f = np.power(base, logf)
    if "real" in roles and "imag" in roles:
        re_ = cols[roles["real"]]
        im = cols[roles["imag"]]
        phim = cols.get(roles.get("phim", ""), None)
        sign = 1
        if phim is not None:
            use = np.isfinite(phim) & (np.abs(phim) > 1.0) & (im != 0)
            if use.any():
                agree = float(np.mean(np.sign(im[use]) == np.sign(phim[use])))
                if agree < 0.5:
                    sign, note = im_sign_from_data(f, im)
                    add_assumption(meta, f"columns Imag and Phim differ in sign; {note}")
        if sign == 1:
            add_note(meta, "Imag read as Im(Z) (same sign as the phase Phim)")
        z = re_ + 1j * sign * im
    else:
        mod = np.power(base, cols[roles["logzm"]])
        z = polar_to_complex(mod, cols[roles["phim"]])
        add_note(meta, "Z = |Z|·exp(iφ) from LOGZm and Phim (phase of Z in degrees)")
    return f, z


def _trim_sweep(
    f: np.ndarray, z: np.ndarray, lines: np.ndarray, meta: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the points between the lowest and the highest frequency (Thales start-up run)."""
    ok = np.isfinite(f) & (f > 0)
    if f.size < 3 or not ok.all():
        return f, z, lines
    keep = sweep_span(f)
    left_out = f.size - (keep.stop - keep.start)
    if left_out:
        add_note(
            meta,
            f"{left_out} start-up points of the Thales sweep (outside the run from the highest "
            "to the lowest frequency) left out",
        )
    return f[keep], z[keep], lines[keep]


def _quantity(value: str) -> tuple[float, str] | None:
    """A header value such as ``0.500V`` or ``10 mV`` in SI units (V or A)."""
    m = _VALUE.match(value.strip())
    if not m or m.group(2) not in _UNITS:
        return None
    unit, factor = _UNITS[m.group(2)]
    return float(m.group(1).replace(",", ".")) * factor, unit


def _read_meta(lines: Sequence[str], meta: dict[str, Any]) -> None:
    """``key: value`` header lines (several pairs per line allowed) into ``meta``."""
    raw: dict[str, str] = {}
    for ln in lines:
        for part in re.split(r",\s*(?=[A-Za-z][A-Za-z ]*[\s.]*:)", ln):
            m = _META_LINE.match(part)
            if m:
                raw.setdefault(m.group(1).strip(), m.group(2).strip())
    if not raw:
        return
    meta["zahner_header"] = raw
    low = {k.lower(): v for k, v in raw.items()}
    if low.get("file name"):
        meta["title"] = re.split(r"[\\/]", low["file name"])[-1]
    t = low.get("time")
    if t:
        start, _, end = t.partition(" - ")
        meta["start_time"] = start.strip()
        if end.strip():
            meta["end_time"] = end.strip()
    for key, mk, unit in (("potential", "dc_potential", "V"), ("current", "dc_current", "A")):
        q = _quantity(low.get(key, ""))
        if q is not None and q[1] == unit:
            meta[mk] = q[0]
    q = _quantity(low.get("ampl", ""))
    if q is not None:
        meta["amplitude"], meta["amplitude_unit"] = q
