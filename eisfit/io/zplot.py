"""Scribner ZPlot, ZPlotW and Z60W text files (``.z``, ``.txt``).

* ``ZPLOT2 ASCII``: a ``key: value`` header, the column names on the line before
  ``End Comments``, tab-separated data after it. ``Data Points`` is the planned count; a run
  that stopped early has fewer rows.
* ``"ZPlotW Data File: Version ..."`` / ``"Z60W Data File: ..."``: quoted header lines, a
  sweep-definition line, a point-count line (which may overstate the rows), the quoted column
  names, then comma-separated data. Z60W files start with a UTF-8 BOM.

``Z'(a)`` and ``Z''(b)`` are Re(Z) and Im(Z) (negative for capacitive behaviour).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eisfit.exceptions import ReaderError
from eisfit.io._text import (
    TextFile,
    date_and_time,
    find_numeric_block,
    header_names,
    load_text,
    parse_columns,
    select_columns,
    split_fields,
)
from eisfit.io.normalise import (
    add_assumption,
    add_note,
    spectra_from_columns,
    temperature_from_text,
)
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


def _date(date: str, time: str = "") -> str | None:
    return date_and_time(date, time, ("%m-%d-%Y", "%m/%d/%Y", "%d.%m.%Y"), ("%H:%M:%S",))


@register("zplot", extensions=(".z",), description="Scribner ZPlot/ZPlotW/Z60W text (.z)")
class ZPlot:
    """Scribner ZPlot (``ZPLOT2 ASCII``), ZPlotW and Z60W data files."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head.lstrip(b"\xef\xbb\xbf").lstrip(b'"')
        if h.startswith(b"ZPLOT2 ASCII"):
            return 0.95
        if re.match(rb"(ZPlotW|Z60W|ZView)\s+Data File", h):
            return 0.95
        if path.suffix.lower() == ".z":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        first = tf.lines[0].strip().strip('"') if tf.lines else ""
        if first.startswith("ZPLOT2 ASCII"):
            return _read_zplot2(tf)
        return _read_zplotw(tf)


def _read_zplot2(tf: TextFile) -> list[Spectrum]:
    path, lines = tf.path, tf.lines
    end = next((i for i, ln in enumerate(lines) if ln.strip() == "End Comments"), None)
    if end is None:
        raise ReaderError(
            path, "no 'End Comments' line: expected the data to follow it", line=len(lines)
        )
    meta: dict[str, Any] = {"format": "zplot", "source": str(path)}
    kv: dict[str, str] = {}
    for ln in lines[1:end]:
        if ":" in ln:
            k, _, v = ln.partition(":")
            kv.setdefault(k.strip(), v.strip())
    if "Measured Data, ZPlot" in kv:
        meta["software"] = "ZPlot " + kv["Measured Data, ZPlot"]
    if "Experiment Type" in kv:
        meta["technique"] = kv["Experiment Type"]
    st = _date(kv.get("Date", ""), kv.get("Time", ""))
    if st:
        meta["start_time"] = st
    if kv.get("Potential-AC"):
        try:
            meta["amplitude"] = float(kv["Potential-AC"]) * 1e-3
            meta["amplitude_unit"] = "V"
        except ValueError:
            pass
    if kv.get("Surface Area"):
        try:
            a = float(kv["Surface Area"])
            if a > 0:
                meta["area_cm2"] = a
        except ValueError:
            pass
    names_line = end - 1
    names = [c.strip() for c in lines[names_line].split("\t") if c.strip()]
    required, optional = select_columns(names)
    if len(required) < 3:
        raise ReaderError(
            path,
            f"expected column names (Freq(Hz), Z'(a), Z''(b)...) before 'End Comments', "
            f"found {lines[names_line].strip()[:60]!r}",
            line=names_line + 1,
        )
    cols, ln_, _ = parse_columns(
        tf, end + 1, names, required, optional, sep="\t", decimal_comma=False,
        names_line=names_line + 1,
    )
    if ln_.size == 0:
        raise ReaderError(path, "no data rows after 'End Comments'", line=end + 1)
    planned = kv.get("Data Points")
    if planned and planned.isdigit() and int(planned) != ln_.size:
        add_note(meta, f"header plans {planned} points, the file holds {ln_.size}")
    return spectra_from_columns(path, cols, [n for n in names if n in cols], meta, lines=ln_)


def _read_zplotw(tf: TextFile) -> list[Spectrum]:
    path, lines = tf.path, tf.lines
    meta: dict[str, Any] = {"format": "zplot", "source": str(path)}
    first = lines[0].strip().strip('"')
    meta["software"] = first
    block = find_numeric_block(lines, 1, min_rows=2)
    # the sweep-definition and count lines are numeric too: the data follow the names line
    names_idx = next(
        (i for i, ln in enumerate(lines[:200]) if "Freq" in ln and ("Z'" in ln or "Z''" in ln)),
        None,
    )
    if names_idx is None or block is None:
        raise ReaderError(path, "no column-name line with Freq and Z' found", line=1)
    for ln in lines[1:names_idx]:
        m = re.search(r"Date:\s*(\S+)\s+Time:\s*(\S+)", ln)
        if m:
            st = _date(m.group(1), m.group(2))
            if st:
                meta["start_time"] = st
        elif ln.strip() and not ln.strip().startswith('"') and not re.match(r"^[\d.,\s-]+$", ln):
            meta.setdefault("comments", ln.strip())
    if "comments" in meta:
        t = temperature_from_text(meta["comments"])
        if t is not None:
            meta["temperature"] = t
            add_assumption(
                meta, f"temperature {t - 273.15:g} °C taken from the comment {meta['comments']!r}"
            )
    count = None
    if names_idx >= 1 and lines[names_idx - 1].strip().isdigit():
        count = int(lines[names_idx - 1].strip())
    data_start = names_idx + 1
    while data_start < len(lines) and not lines[data_start].strip():
        data_start += 1
    if data_start >= len(lines):
        raise ReaderError(path, "no data rows after the column names", line=names_idx + 1)
    sep = "," if "," in lines[data_start] else ("\t" if "\t" in lines[data_start] else " ")
    n_fields = len(split_fields(lines[data_start], sep))
    names = header_names(lines[names_idx].replace(",", " "), " ", n_fields)
    required, optional = select_columns(names)
    if len(required) < 3:
        raise ReaderError(path, f"column names not understood: {names}", line=names_idx + 1)
    cols, ln_, _ = parse_columns(
        tf, data_start, names, required, optional, sep=sep, decimal_comma=False,
        names_line=names_idx + 1,
    )
    if count is not None and count != ln_.size:
        add_note(meta, f"count line says {count} points, the file holds {ln_.size}")
    return spectra_from_columns(path, cols, [n for n in names if n in cols], meta, lines=ln_)
