"""Zahner Thales impedance files (``.ism``, binary).

Layout (big-endian): a 6-byte version, a 6-byte sample count minus one (N-1), then N float64
frequencies (Hz), N float64 ``|Z|`` (Ohm), N float64 phases (radians), then timestamps,
significances and text metadata. A Thales sweep starts at a start frequency, runs to one end
and then covers the other end; the first points overlap the later ones, so, as Zahner's own
software does, only the points between the lowest and highest frequency are returned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import read_bytes
from eisfit.io.normalise import add_assumption, add_note, make_spectrum
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


def sweep_span(f: np.ndarray) -> slice:
    """The points of a Thales sweep from its lowest to its highest frequency (or back): the
    start-up run before them repeats frequencies that are measured again later."""
    lo, hi = int(np.argmin(f)), int(np.argmax(f))
    return slice(min(lo, hi), max(lo, hi) + 1)


@register("zahner-ism", extensions=(".ism",), description="Zahner Thales impedance (.ism)")
class ZahnerIsm:
    """Zahner Thales impedance file (``.ism``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        if path.suffix.lower() == ".ism":
            return 0.6 if len(head) >= 12 and head[:2] == b"\x00\x00" else 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        data = read_bytes(path)
        if len(data) < 12:
            raise ReaderError(path, f"{len(data)} bytes: too short for a Zahner .ism header",
                              offset=0)
        n = int.from_bytes(data[6:12], "big", signed=True) + 1
        need = 12 + 3 * 8 * n
        if n < 1 or n > 1_000_000:
            raise ReaderError(
                path, f"sample count {n} is not plausible: not a Zahner .ism file", offset=6
            )
        if len(data) < need:
            raise ReaderError(
                path, f"{n} samples need {need} bytes, the file has {len(data)} (truncated?)",
                offset=len(data),
            )
        f = np.frombuffer(data, ">f8", n, 12).astype(float)
        mod = np.frombuffer(data, ">f8", n, 12 + 8 * n).astype(float)
        ph = np.frombuffer(data, ">f8", n, 12 + 16 * n).astype(float)
        if not (np.all(np.isfinite(f)) and np.all(f > 0) and np.all(f < 1e9)):
            raise ReaderError(path, "frequency block is not plausible: not a Zahner .ism file",
                              offset=12)
        if not (np.all(np.isfinite(mod)) and np.all(mod >= 0) and np.all(np.abs(ph) <= 7)):
            raise ReaderError(path, "|Z| or phase block is not plausible (damaged .ism?)",
                              offset=12 + 8 * n)
        keep = sweep_span(f)
        meta: dict[str, Any] = {"format": "zahner-ism", "source": str(path)}
        left_out = n - (keep.stop - keep.start)
        if left_out:
            add_note(meta, f"{left_out} overlapping start-up points of the sweep left out")
        tail = data[need:]
        # Thales stores its text fields with the letter case swapped
        strings = []
        for raw in re.findall(rb"[\x20-\x7e]{5,}", tail):
            t = raw.decode("ascii").strip().swapcase()
            if sum(c.isalnum() or c in " .,:+-" for c in t) >= 0.8 * len(t) and len(t) >= 5:
                strings.append(t)
        if strings:
            meta["comments"] = "; ".join(strings[:12])
            for t in strings:
                m = re.match(r"^\s*([-+]?\d+(?:\.\d+)?)\s*\+-\s*([\d.]+)\s*C\s*$", t)
                if m:
                    if float(m.group(2)) <= 0.5:
                        meta["temperature"] = float(m.group(1)) + 273.15
                        add_assumption(meta, f"temperature from the Thales record {t!r} (°C)")
                    else:
                        add_note(meta, f"Thales temperature record {t!r} too uncertain: not used")
                    break
        z = mod[keep] * np.exp(1j * ph[keep])
        return [make_spectrum(path, f[keep], z, meta)]
