"""Gamry Framework data files (``.DTA``, EXPLAIN format).

Header lines are ``KEY<tab>TYPE<tab>VALUE<tab>label`` (labels may carry ``&`` accelerators);
tables start with ``NAME<tab>TABLE[<tab>rows]``, then a column-name row and a units row, each
data row indented by a tab. The impedance table is ``ZCURVE``; ``OCVCURVE`` and ``FRACURVE``
tables are skipped; an aborted run ends with ``EXPERIMENTABORTED``. Some installs write decimal
commas throughout; with drift correction on, ``ZrealDrCor``/``ZimagDrCor`` columns are used.
Gamry's ``Zimag`` is Im(Z) (negative for capacitive behaviour).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import TextFile, date_and_time, load_text
from eisfit.io.normalise import (
    add_assumption,
    add_note,
    check_polar,
    make_spectrum,
    parse_number,
    polar_to_complex,
)
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum

_TABLE_RE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*\tTABLE(?:\t(\d+))?\s*$")


def _number(cell: str, dc: bool) -> float | None:
    try:
        return parse_number(cell, dc)
    except ValueError:
        return None


def _header_number(header: dict[str, list[str]], key: str, dc: bool) -> float | None:
    """The value field of a ``KEY<tab>QUANT<tab>value`` header line, if it is a number."""
    fields = header.get(key, [])
    return _number(fields[1], dc) if len(fields) > 1 else None


@register("gamry-dta", extensions=(".dta",), description="Gamry Framework EIS data (.DTA)")
class GamryDta:
    """Gamry Framework data file (EXPLAIN format) with a ZCURVE table."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head.lstrip(b"\xef\xbb\xbf")
        if h[:7].upper() == b"EXPLAIN" and b"ZCURVE" in head:
            return 0.95
        if h[:7].upper() == b"EXPLAIN":
            return 0.85
        if b"ZCURVE\tTABLE" in head:
            return 0.8
        if path.suffix.lower() == ".dta":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        return read_gamry(load_text(path))


def read_gamry(tf: TextFile) -> list[Spectrum]:
    """Every ZCURVE table of a decoded Gamry file as a spectrum."""
    path, lines = tf.path, tf.lines
    # decimal comma: header values such as 1,00000E+005 and no decimal point in data rows
    sample = "\n".join(lines[:400])
    dc = bool(re.search(r"\t-?\d+,\d+E[+-]\d+", sample)) or (
        bool(re.search(r"QUANT\t-?\d+,\d+", sample))
    )
    header: dict[str, list[str]] = {}
    tables: list[tuple[int, str]] = []
    aborted = False
    for i, line in enumerate(lines):
        m = _TABLE_RE.match(line)
        if m:
            tables.append((i, m.group(1)))
            continue
        if line[:1] in ("\t", " ") or not line.strip():
            continue
        parts = line.split("\t")
        key = parts[0].strip()
        if key == "EXPERIMENTABORTED":
            aborted = True
        if key and key not in header:
            header[key] = parts[1:]
    meta: dict[str, Any] = {"format": "gamry-dta", "source": str(path)}
    if "TAG" in header and header["TAG"]:
        meta["technique"] = header["TAG"][0].strip()
    if "TITLE" in header and len(header["TITLE"]) > 1 and header["TITLE"][1].strip():
        meta["title"] = header["TITLE"][1].strip()
    if "DATE" in header and len(header["DATE"]) > 1:
        date = header["DATE"][1]
        time = header.get("TIME", ["", ""])[1] if len(header.get("TIME", [])) > 1 else ""
        st = date_and_time(
            date, time, ("%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"),
            ("%H:%M:%S.%f", "%H:%M:%S"),
        )
        if st:
            meta["start_time"] = st
        elif date.strip():
            meta["start_time"] = f"{date.strip()} {time.strip()}".strip()
    if "PSTAT" in header and len(header["PSTAT"]) > 1:
        meta["instrument"] = "Gamry " + header["PSTAT"][1].strip()
    if "FRAMEWORKVERSION" in header and len(header["FRAMEWORKVERSION"]) > 1:
        meta["software"] = "Gamry Framework " + header["FRAMEWORKVERSION"][1].strip()
    v = _header_number(header, "VAC", dc)
    if v is not None:
        meta["amplitude"] = v * 1e-3
        meta["amplitude_unit"] = "V rms"
    v = _header_number(header, "IACREQ", dc)
    if v is not None:
        meta["amplitude"] = v
        meta["amplitude_unit"] = "A rms"
    v = _header_number(header, "AREA", dc)
    if v is not None and v > 0:
        meta["area_cm2"] = v
    if aborted:
        add_note(meta, "the run was aborted (EXPERIMENTABORTED): the spectrum may be incomplete")
    if dc:
        add_note(meta, "decimal comma")
    zt = [(i, n) for i, n in tables if n == "ZCURVE"]
    if not zt:
        raise ReaderError(
            path,
            "no 'ZCURVE<tab>TABLE' found: not an impedance file "
            f"(tables: {', '.join(n for _, n in tables) or 'none'})",
        )
    out = []
    for k, (i, _) in enumerate(zt):
        m = dict(meta)
        m["assumptions"] = list(meta.get("assumptions", []))
        m["notes"] = list(meta.get("notes", []))
        out.append(_zcurve(tf, i, m, dc))
        if len(zt) > 1:
            out[-1] = out[-1].with_meta(curve=k)
    return out


def _zcurve(tf: TextFile, i: int, meta: dict[str, Any], dc: bool) -> Spectrum:
    """The spectrum of the ZCURVE table whose ``TABLE`` line is line ``i``."""
    path = tf.path
    names, idx, rn, im_n = _zcurve_columns(tf, i, meta)
    need = [idx["Freq"], idx[rn], idx[im_n]]
    f, a, b, ln, temps = _zcurve_rows(tf, i, names, need, idx.get("Temp"), dc)
    if not f:
        raise ReaderError(path, "ZCURVE table has no data rows", line=i + 3)
    fa, aa, ba = np.array(f), np.array(a), np.array(b)
    if rn == "Zmod":
        check_polar(path, rn, aa, im_n, ba, ln)
    z = polar_to_complex(aa, ba) if rn == "Zmod" else aa + 1j * ba
    if temps:
        _zcurve_temperature(meta, np.array(temps))
    for key in ("notes", "assumptions"):
        if not meta.get(key):
            meta.pop(key, None)
    return make_spectrum(path, fa, z, meta, lines=ln)


def _zcurve_columns(
    tf: TextFile, i: int, meta: dict[str, Any]
) -> tuple[list[str], dict[str, int], str, str]:
    """The ZCURVE column names, their indices and the two impedance columns used.

    Drift-corrected columns are preferred, then Zreal/Zimag, then Zmod/Zphz; the impedance
    columns' units must be ohm.
    """
    path, lines = tf.path, tf.lines
    if i + 2 >= len(lines):
        raise ReaderError(
            path, "ZCURVE table ends before its column-name and unit rows (truncated?)",
            line=len(lines),
        )
    names = [c.strip() for c in lines[i + 1].strip("\r\n").split("\t")]
    if names and names[0] == "":
        names = names[1:]
    while names and names[-1] == "":
        names.pop()
    units = [c.strip() for c in lines[i + 2].split("\t")]
    if units and units[0] == "":
        units = units[1:]
    idx = {n: j for j, n in enumerate(names)}
    if "Freq" not in idx:
        raise ReaderError(path, f"ZCURVE has no 'Freq' column (columns: {names})", line=i + 2)
    drift = "ZrealDrCor" in idx and "ZimagDrCor" in idx
    if drift:
        rn, im_n = "ZrealDrCor", "ZimagDrCor"
        add_assumption(
            meta, "drift-corrected columns ZrealDrCor/ZimagDrCor used (Zreal/Zimag ignored)"
        )
    elif "Zreal" in idx and "Zimag" in idx:
        rn, im_n = "Zreal", "Zimag"
    elif "Zmod" in idx and "Zphz" in idx:
        rn, im_n = "Zmod", "Zphz"
    else:
        raise ReaderError(
            path, f"ZCURVE has neither Zreal/Zimag nor Zmod/Zphz (columns: {names})", line=i + 2
        )
    for n in (rn, im_n, "Freq"):
        u = units[idx[n]] if idx[n] < len(units) else ""
        if n.startswith("Z") and "phz" not in n.lower() and u and u.lower() not in ("ohm", "ohms"):
            raise ReaderError(
                path, f"column {n!r} has unit {u!r}: expected ohm", line=i + 3
            )
    return names, idx, rn, im_n


def _zcurve_rows(
    tf: TextFile, i: int, names: list[str], need: list[int], temp_j: int | None, dc: bool
) -> tuple[list[float], list[float], list[float], list[int], list[float]]:
    """Frequency, the two impedance values, file line and temperature of every ZCURVE row.

    The table ends at the first unindented line; a row that lost its indentation, has another
    field count than the names, or holds a non-number where one is needed is an error.
    """
    path, lines = tf.path, tf.lines
    f: list[float] = []
    a: list[float] = []
    b: list[float] = []
    ln: list[int] = []
    temps: list[float] = []
    j = i + 3
    while j < len(lines):
        line = lines[j]
        if not line.strip():
            j += 1
            continue
        if line[:1] not in ("\t", " "):
            first_cell = line.split()[0]
            if _number(first_cell, dc) is not None:
                # a row that lost its indentation would otherwise end the table silently
                raise ReaderError(
                    path,
                    f"ZCURVE row not indented (starts with {first_cell!r}): expected a tab "
                    "before every row, or a new section name after the table",
                    line=j + 1,
                )
            break
        cells = line.split()
        if len(cells) != len(names):
            # a cell never holds a blank: any other count puts values under the wrong names
            cut = j == len(lines) - 1 and len(cells) < len(names)
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise ReaderError(
                path,
                f"ZCURVE row has {len(cells)} fields, the column names on line {i + 2} "
                f"({shown}) have {len(names)}"
                + (" (file truncated?)" if cut else ": values would be read under the wrong names"),
                line=j + 1,
            )
        vals = []
        for c in need:
            v = _number(cells[c], dc)
            if v is None:
                raise ReaderError(
                    path,
                    f"ZCURVE column {names[c]!r}: "
                    f"expected a number, found {cells[c]!r}",
                    line=j + 1,
                )
            vals.append(v)
        if j == len(lines) - 1 and not tf.ends_with_newline and len(cells) < len(names):
            raise ReaderError(path, "last ZCURVE row is cut short (file truncated?)", line=j + 1)
        f.append(vals[0])
        a.append(vals[1])
        b.append(vals[2])
        ln.append(j + 1)
        if temp_j is not None and temp_j < len(cells):
            temp = _number(cells[temp_j], dc)
            if temp is not None:
                temps.append(temp)
        j += 1
    return f, a, b, ln, temps


def _zcurve_temperature(meta: dict[str, Any], t: np.ndarray) -> None:
    """The ZCURVE 'Temp' column (°C) as the temperature when plausible and steady, else a note."""
    if -150 < t.mean() < 600 and np.ptp(t) < 10:
        meta["temperature"] = float(t.mean()) + 273.15
        add_assumption(meta, "temperature from the ZCURVE 'Temp' column (°C)")
    else:
        add_note(
            meta,
            f"ZCURVE 'Temp' column reads {t.mean():.4g} °C (no sensor?): not used as the "
            "temperature",
        )
