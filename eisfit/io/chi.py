"""CH Instruments text export ("Convert to txt") of an A.C. Impedance run.

A date line, ``A.C. Impedance``, ``key: value`` and ``key = value`` settings, then
``Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm, Phase/deg`` and comma-separated rows. ``Z"`` is Im(Z)
(negative for capacitive behaviour).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eisfit.io._text import load_text, parse_datetime
from eisfit.io.generic import read_table_text
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


@register("chi", extensions=(), description="CH Instruments A.C. Impedance text export")
class CHInstruments:
    """CH Instruments A.C. Impedance text export."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head[:4096]
        if b"A.C. Impedance" in h and (b"Instrument Model" in h or b"Freq/Hz" in h):
            return 0.9
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "chi", "source": str(path)}
        if tf.lines:
            first = re.sub(r"\s+", " ", tf.lines[0].strip())
            d = parse_datetime(
                first, ("%b. %d, %Y %H:%M:%S", "%B %d, %Y %H:%M:%S", "%b %d, %Y %H:%M:%S")
            )
            if d is not None:
                meta["start_time"] = d.isoformat()
        for line in tf.lines[:60]:
            s = line.strip()
            if s == "A.C. Impedance":
                meta["technique"] = s
            elif s.startswith("Instrument Model:"):
                meta["instrument"] = "CH Instruments " + s.split(":", 1)[1].strip()
            elif s.startswith("Amplitude (V)") and "=" in s:
                try:
                    meta["amplitude"] = float(s.split("=", 1)[1])
                    meta["amplitude_unit"] = "V"
                except ValueError:
                    pass
        return read_table_text(tf, meta, allow_positional=False)
