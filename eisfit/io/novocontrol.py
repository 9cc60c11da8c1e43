"""Novocontrol (WinDETA / NEISYS) ASCII exports.

Three or four header lines: a title (sample name, date, time), optionally the sample geometry
(``Diameter[mm]: ... Thickness[mm]: ...``), the fixed AC voltage, then the column names
(``Freq.[Hz]  Zs'[ohm]  Zs''[ohm]``, units ``[ohm]`` or ``[Ohms]``). ``Zs''`` is Im(Z)
(negative). The temperature appears only in the title or file name, if at all.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from eisfit.io._text import load_text
from eisfit.io.generic import read_table_text
from eisfit.io.normalise import add_assumption, temperature_from_text
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum

_NUM = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"


@register("novocontrol", extensions=(), description="Novocontrol WinDETA ASCII export")
class Novocontrol:
    """Novocontrol WinDETA/NEISYS ASCII export (``Freq.[Hz] Zs'[ohm] Zs''[ohm]``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head[:4096]
        if re.search(rb"Freq\. ?\[Hz\]", h) and re.search(rb"Zs'", h):
            return 0.9
        if b"Diameter[mm]:" in h and b"Thickness[mm]:" in h:
            return 0.85
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "novocontrol", "source": str(path)}
        title = tf.lines[0].strip() if tf.lines else ""
        if title:
            meta["title"] = title
        for line in tf.lines[:6]:
            d = re.search(r"Diameter\[mm\]:\s*" + _NUM, line)
            t = re.search(r"Thickness\[mm\]:\s*" + _NUM, line)
            if d and float(d.group(1)) > 0:
                meta["diameter_mm"] = float(d.group(1))
                meta["area_cm2"] = math.pi * (float(d.group(1)) / 20.0) ** 2
            if t and float(t.group(1)) > 0:
                meta["thickness_mm"] = float(t.group(1))
            if "Edge Correction On" in line:
                meta["edge_correction"] = True
            v = re.search(r"AC Volt\s*\[Vrms\]\s*=\s*" + _NUM, line)
            if v:
                meta["amplitude"] = float(v.group(1))
                meta["amplitude_unit"] = "V rms"
        label = title.split(",")[0] if title else ""
        temp = temperature_from_text(label.replace("deg", "degC")) if label else None
        where = f"the title {label!r}"
        if temp is None:
            temp = temperature_from_text(path.stem)
            where = f"the file name {path.stem!r}"
        if temp is not None:
            meta["temperature"] = temp
            add_assumption(meta, f"temperature {temp - 273.15:g} °C taken from {where}")
        return read_table_text(tf, meta, allow_positional=False)
