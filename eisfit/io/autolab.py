"""Metrohm Autolab NOVA (and FRA/GPES) text exports.

NOVA exports a table with ``Frequency (Hz)``, ``Z' (Ω)``, ``-Z'' (Ω)``, ``Z (Ω)``,
``-Phase (°)``, ``Time (s)`` (and often ``Index``), separated by tabs, semicolons or commas,
in UTF-8 or UTF-16. ``-Z''`` holds -Im(Z); the names carry the sign and units.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eisfit.io._text import load_text
from eisfit.io.generic import read_table_text
from eisfit.io.normalise import sniff_text
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


@register("autolab", extensions=(), description="Metrohm Autolab NOVA text export")
class Autolab:
    """Metrohm Autolab NOVA text export (``Frequency (Hz)``, ``Z' (Ω)``, ``-Z'' (Ω)``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        text = sniff_text(head, path)
        if text is None:
            return 0.0
        first = text.splitlines()[0] if text else ""
        if re.search(r"Frequency \(Hz\)", first) and re.search(r"-Z'' \((Ω|Ohm|ohm)\)", first):
            return 0.85
        if "NOVA" in text[:2000] and "Frequency (Hz)" in text[:4000]:
            return 0.8
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "autolab", "source": str(path)}
        return read_table_text(tf, meta, allow_positional=False)
