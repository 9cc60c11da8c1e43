"""Ivium IviumSoft data files (``.idf``, ``.ids``) and IviumSoft text exports.

The data file starts with a few binary bytes, then ``key=value`` lines (``Method=Impedance``,
``Technique=...``, ``starttime=...``) and data objects; the impedance data are the
``primary_data`` block: a column-count line, a row-count line, then rows of Z' (Ohm),
Z'' (Ohm, Im(Z), negative for capacitive behaviour) and frequency (Hz).

The text export ("Export data to ASCII") is a tab-separated table whose column names carry the
unit after a slash: ``freq. /Hz``, ``Z1 /ohm`` (Re(Z)), ``Z2 /ohm`` (Im(Z), the same sign as
the data file's Z'', negative for capacitive behaviour), sometimes with more columns
(``Z /ohm``, ``phase /deg``, ``E /V``, ``I /A``, ``time /s``) and, in European installs,
decimal commas.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import load_text, read_bytes
from eisfit.io.generic import read_table_text
from eisfit.io.normalise import add_note, make_spectrum, sniff_text, split_lines
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum

_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@register("ivium", extensions=(".idf", ".ids"), description="Ivium IviumSoft data file (.idf)")
class Ivium:
    """Ivium IviumSoft data file (``.idf``/``.ids``) holding an impedance measurement."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head[:2048]
        if b"Peaks=" in h and b"Corrosion=" in h:
            return 0.9
        if b"primary_data" in head and b"Method=" in head:
            return 0.9
        if path.suffix.lower() in (".idf", ".ids"):
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        data = read_bytes(path, expected="an Ivium data file")
        text = data.decode("latin-1")
        lines = split_lines(text)
        meta: dict[str, Any] = {"format": "ivium", "source": str(path)}
        kv: dict[str, str] = {}
        for ln in lines:
            k, sep, v = ln.partition("=")
            if sep and re.fullmatch(r"[A-Za-z][\w .\[\]]*", k):
                kv.setdefault(k.strip(), v.strip())
        method = kv.get("Method", "")
        if method and method.lower() != "impedance":
            raise ReaderError(
                path, f"Method={method}: not an impedance measurement (expected Method=Impedance)"
            )
        if kv.get("Technique"):
            meta["technique"] = f"Impedance, {kv['Technique']}"
        for key, mk in (("starttime", "start_time"), ("software", "software")):
            if kv.get(key):
                meta[mk] = kv[key]
        if kv.get("serialnumber"):
            meta["instrument"] = f"Ivium {kv['serialnumber']}"
        if kv.get("Title"):
            meta["title"] = kv["Title"]
        try:
            i = next(k for k, ln in enumerate(lines) if ln.strip() == "primary_data")
        except StopIteration:
            raise ReaderError(
                path, "no 'primary_data' block: expected the impedance data"
            ) from None
        if i + 2 >= len(lines):
            raise ReaderError(path, "primary_data block ends early (truncated?)", line=i + 1)
        try:
            ncol = int(lines[i + 1].strip())
            nrow = int(lines[i + 2].strip())
        except ValueError:
            raise ReaderError(
                path, "primary_data: expected a column count and a row count", line=i + 2
            ) from None
        if ncol < 3 or nrow < 1 or nrow > 10_000_000:
            raise ReaderError(
                path, f"primary_data: {ncol} columns and {nrow} rows is not an impedance table",
                line=i + 2,
            )
        rows = []
        for k in range(nrow):
            j = i + 3 + k
            if j >= len(lines):
                raise ReaderError(
                    path, f"primary_data announces {nrow} rows, found {k} (truncated?)", line=j
                )
            vals = _FLOAT.findall(lines[j])
            if len(vals) != ncol or len("".join(vals)) < len(re.sub(r"\s", "", lines[j])) - 1:
                raise ReaderError(
                    path, f"primary_data row {k + 1}: expected {ncol} numbers, found "
                    f"{lines[j].strip()[:60]!r}", line=j + 1,
                )
            rows.append([float(v) for v in vals[:3]])
        arr = np.array(rows)
        zr, zi, f = arr[:, 0], arr[:, 1], arr[:, 2]
        if (f <= 0).any():
            k = int(np.flatnonzero(f <= 0)[0])
            raise ReaderError(
                path, f"primary_data: third column (frequency) is {f[k]} at row {k + 1}",
                line=i + 4 + k,
            )
        return [make_spectrum(path, f, zr + 1j * zi, meta,
                              lines=list(range(i + 4, i + 4 + nrow)))]


# ----------------------------------------------------------------------------- text export

_Z12 = re.compile(r"^\s*\"?Z([12])\s*/\s*([^\s\"]+)\s*\"?\s*$", re.IGNORECASE)
_FREQ = re.compile(r"^\s*\"?freq\.?\s*/\s*(k?hz)\s*\"?\s*$", re.IGNORECASE)


def _ivium_header(line: str) -> list[str] | None:
    """The column names of an IviumSoft export header line, or None if it is not one."""
    # the names always hold these letters: a cheap test that lets other lines through quickly
    low = line.lower()
    if "freq" not in low or "z1" not in low or "z2" not in low:
        return None
    names = [c for c in re.split(r"\t|;", line) if c.strip()]
    if len(names) < 3:
        return None
    z = {m.group(1) for c in names if (m := _Z12.match(c))}
    if z != {"1", "2"} or not any(_FREQ.match(c) for c in names):
        return None
    return names


def _rename(name: str) -> str:
    m = _Z12.match(name)
    if m:
        unit = m.group(2)
        return f"Re(Z)/{unit}" if m.group(1) == "1" else f"Im(Z)/{unit}"
    m = _FREQ.match(name)
    if m:
        return f"freq/{m.group(1)}"
    return name.strip()


@register("ivium-text", extensions=(), description="Ivium IviumSoft impedance text export")
class IviumText:
    """IviumSoft text export of an impedance scan (``freq. /Hz``, ``Z1 /ohm``, ``Z2 /ohm``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        text = sniff_text(head, path)
        if text is None:
            return 0.0
        for line in text.splitlines()[:20]:
            if _ivium_header(line) is not None:
                return 0.9
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        h = next(
            (i for i, ln in enumerate(tf.lines[:200]) if _ivium_header(ln) is not None), None
        )
        if h is None:
            raise ReaderError(
                path,
                "no IviumSoft column names: expected a line with 'freq. /Hz', 'Z1 /ohm' and "
                "'Z2 /ohm'",
                line=1,
            )
        raw = tf.lines[h]
        sep = "\t" if "\t" in raw else ";"
        names = [_rename(c) for c in raw.split(sep)]
        lines = list(tf.lines)
        lines[h] = sep.join(names)
        renamed = dataclasses.replace(tf, lines=lines)
        meta: dict[str, Any] = {"format": "ivium-text", "source": str(path)}
        add_note(meta, "IviumSoft Z1 read as Re(Z) and Z2 as Im(Z) (negative when capacitive)")
        for ln in tf.lines[:h]:
            k, sep_, v = ln.partition(":")
            if sep_ and k.strip().lower() in ("title", "start time", "starttime", "date"):
                meta.setdefault("title" if k.strip().lower() == "title" else "start_time",
                                v.strip())
        return read_table_text(renamed, meta, start=h, allow_positional=False)
