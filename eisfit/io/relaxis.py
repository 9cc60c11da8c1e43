"""RelaxIS (rhd instruments) spectrum export.

Four header lines: ``RelaxIS 3.0 Spectrum export``, the export date, the column names
(``Data: Frequency``, ``Data: Z'``, ``Data: Z''``, ``Data: |Z|``, ``Data: Theta (Z)``) and a line
of spectrum parameters (``DC=..., TM=..., ...``, model, spectrum name). ``Z''`` is Im(Z)
(negative). Frequencies are ascending.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eisfit.exceptions import ReaderError
from eisfit.io._text import guess_separator, load_text, parse_columns, select_columns
from eisfit.io.normalise import spectra_from_columns
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


@register("relaxis", extensions=(), description="RelaxIS spectrum export")
class RelaxIS:
    """RelaxIS spectrum export (text)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        if head.lstrip(b"\xef\xbb\xbf").startswith(b"RelaxIS"):
            return 0.95
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        lines = tf.lines
        meta: dict[str, Any] = {"format": "relaxis", "source": str(path)}
        meta["software"] = lines[0].strip().replace(" Spectrum export", "")
        i = next((k for k, ln in enumerate(lines[:20]) if "Data: Frequency" in ln), None)
        if i is None:
            raise ReaderError(path, "no 'Data: Frequency' column line in the header", line=3)
        for ln in lines[1:i]:
            if ln.startswith("Date:"):
                meta["export_date"] = ln.split(":", 1)[1].strip()
        names = [c.strip() for c in lines[i].split("\t") if c.strip()]
        start = i + 1
        if start < len(lines) and "=" in lines[start]:
            parts = [p.strip() for p in lines[start].split("\t") if p.strip()]
            params = {}
            for kv in parts[0].split(","):
                k, _, v = kv.partition("=")
                if k.strip():
                    params[k.strip()] = v.strip()
            meta["relaxis_parameters"] = params
            if len(parts) > 2:
                meta["name"] = parts[2]
            start += 1
        if start >= len(lines):
            raise ReaderError(path, "no data rows after the header", line=len(lines))
        _, dc = guess_separator(lines[start])
        required, optional = select_columns(names)
        if len(required) < 3:
            raise ReaderError(path, f"column names not understood: {names}", line=i + 1)
        cols, ln_, _ = parse_columns(
            tf, start, names, required, optional, sep="\t", decimal_comma=dc, names_line=i + 1
        )
        return spectra_from_columns(path, cols, [n for n in names if n in cols], meta, lines=ln_)
