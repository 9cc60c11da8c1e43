"""Text export of an LCR meter (German software, ``LRC_<n>_  <T>°C.txt``).

Header ``Time: hh:mm; Datum: dd.mm.yyyy``, ``Sample Area [sqmm]``, ``Sample Thickness [mm]``,
``Voltage Level [V]`` (decimal commas), then ``F[Hz]  Z[Ohm]  Theta  Temperatur[°C]`` with
double tabs. ``Z`` is ``|Z|`` and ``Theta`` the phase in degrees, which may wrap through
±180° where the meter runs out of range (the complex value is the same either way). The
temperature column is empty (the rows leave it out): the temperature is taken from the file
name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eisfit.io._text import load_text, parse_datetime
from eisfit.io.generic import read_table_text
from eisfit.io.normalise import add_assumption, classify_column, temperature_from_text
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


def _de(text: str) -> float | None:
    m = re.search(r"[-+]?\d+(?:,\d+)?", text)
    return float(m.group(0).replace(",", ".")) if m else None


@register("lcr-text", extensions=(), description="LCR-meter text export (|Z|, Theta)")
class LcrText:
    """LCR-meter text export with ``F[Hz]``, ``Z[Ohm]`` (= |Z|) and ``Theta`` columns."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head[:4096]
        if b"F[Hz]" in h and b"Theta" in h and (b"Datum:" in h or b"Temperatur" in h):
            return 0.9
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "lcr-text", "source": str(path)}
        for line in tf.lines[:10]:
            m = re.search(r"Time:\s*(\d{1,2}:\d{2});\s*Datum:\s*(\d{1,2}\.\d{1,2}\.\d{4})", line)
            d = parse_datetime(f"{m.group(2)} {m.group(1)}", ("%d.%m.%Y %H:%M",)) if m else None
            if d is not None:
                meta["start_time"] = d.isoformat()
            if line.startswith("Sample Area [sqmm]:"):
                v = _de(line.split(":", 1)[1])
                if v:
                    meta["area_cm2"] = v / 100.0
            elif line.startswith("Sample Thickness [mm]:"):
                v = _de(line.split(":", 1)[1])
                if v:
                    meta["thickness_mm"] = v
            elif line.startswith("Voltage Level [V]:"):
                v = _de(line.split(":", 1)[1])
                if v is not None:
                    meta["amplitude"] = v
                    meta["amplitude_unit"] = "V"
        t = temperature_from_text(path.stem)
        if t is not None:
            meta["temperature"] = t
            add_assumption(meta, f"temperature {t - 273.15:g} °C taken from the file name")
        # the meter names a temperature column it never fills: rows may leave it out
        names = next((ln for ln in tf.lines[:40] if "F[Hz]" in ln), "")
        unfilled = tuple(
            n.strip() for n in names.split("\t") if classify_column(n).quantity == "temperature"
        )
        return read_table_text(tf, meta, allow_positional=False, absent_ok=unfilled)
