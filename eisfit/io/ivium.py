"""Ivium IviumSoft data files (``.idf``, ``.ids``).

The file starts with a few binary bytes, then ``key=value`` lines (``Method=Impedance``,
``Technique=...``, ``starttime=...``) and data objects; the impedance data are the
``primary_data`` block: a column-count line, a row-count line, then rows of Z' (Ohm),
Z'' (Ohm, Im(Z), negative for capacitive behaviour) and frequency (Hz).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ReaderError
from ..spectrum import Spectrum
from ._text import read_bytes
from .normalise import make_spectrum, split_lines
from .registry import register

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
        data = read_bytes(path)
        if not data:
            raise ReaderError(path, "file is empty, expected an Ivium data file")
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
            if len(vals) < 3 or len("".join(vals)) < len(re.sub(r"\s", "", lines[j])) - 1:
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
