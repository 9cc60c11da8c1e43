"""Princeton Applied Research (Ametek) exports: Parstat text, PowerSuite text, VersaStudio .par.

* Parstat text: one table for all steps of a sequence; only the rows with a frequency above 0
  are impedance (``Frequency (Hz)``, ``Zre (ohms)``, ``Zim (ohms)``).
* PowerSuite text: ``Frequency  Zre  Zimg``, ascending frequency, CR CR LF line ends.
* VersaStudio ``.par``: ``<Section>`` blocks of ``key=value`` lines; the data of each segment is
  in ``<SegmentN>`` with a ``Definition=`` line naming the comma-separated fields
  (``Frequency(Hz)``, ``Z Real``, ``Z Imag``...).

``Zim``, ``Zimg`` and ``Z Imag`` are Im(Z) (negative for capacitive behaviour).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eisfit.exceptions import ReaderError
from eisfit.io._text import is_number, load_text, parse_columns, parse_datetime, select_columns
from eisfit.io.generic import read_table_text
from eisfit.io.normalise import spectra_from_columns
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


@register(
    "parstat", extensions=(), description="Princeton Applied Research Parstat/PowerSuite text"
)
class ParstatText:
    """Parstat or PowerSuite text export (``Zre``/``Zim`` or ``Zimg`` columns)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
        if b"Frequency" in first and b"Zre" in first and (b"Zim" in first):
            return 0.85
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        first = tf.lines[0] if tf.lines else ""
        kind = "powersuite" if "Zimg" in first else "parstat"
        meta: dict[str, Any] = {"format": "parstat", "source": str(path), "software": kind}
        return read_table_text(tf, meta, allow_positional=False)


def _sections(lines: list[str]) -> list[tuple[str, int, int]]:
    out = []
    stack: dict[str, int] = {}
    for i, ln in enumerate(lines):
        s = ln.strip()
        m = re.fullmatch(r"<(/?)([A-Za-z][\w ]*)>", s)
        if not m:
            continue
        if m.group(1):
            if m.group(2) in stack:
                out.append((m.group(2), stack.pop(m.group(2)), i))
        else:
            stack[m.group(2)] = i
    for name, start in stack.items():
        out.append((name, start, len(lines)))
    return out


@register("versastudio", extensions=(".par",), description="Ametek VersaStudio .par")
class VersaStudio:
    """Ametek VersaStudio ``.par`` file (sectioned, data in ``<SegmentN>``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head.lstrip(b"\xef\xbb\xbf")
        if h.startswith(b"<Application>") or (b"<Segment" in head and b"Definition=" in head):
            return 0.9
        if path.suffix.lower() == ".par":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        lines = tf.lines
        meta: dict[str, Any] = {"format": "versastudio", "source": str(path)}
        secs = _sections(lines)
        kv: dict[str, dict[str, str]] = {}
        for name, a, b in secs:
            d: dict[str, str] = {}
            for ln in lines[a + 1: b]:
                k, sep, v = ln.partition("=")
                if sep and not re.match(r"^[-\d.,Ee+]+$", ln):
                    d.setdefault(k.strip(), v.strip())
            kv[name] = d
        app = kv.get("Application", {})
        if app.get("Name"):
            meta["software"] = f"{app['Name']} {app.get('Version', '')}".strip()
        ins = kv.get("Instrument", {})
        if ins.get("Type"):
            meta["instrument"] = f"{ins['Type']}{ins.get('Model', '')}".strip() + (
                f" (SN {ins['SN']})" if ins.get("SN") else ""
            )
        exp = kv.get("Experiment", {})
        if exp.get("DateAcquired"):
            txt = f"{exp['DateAcquired']} {exp.get('TimeAcquired', '')}".strip()
            d = parse_datetime(txt, ("%A, %B %d, %Y %I:%M:%S %p", "%A, %B %d, %Y"))
            meta["start_time"] = txt if d is None else d.isoformat()
        for name, d in kv.items():
            if name.startswith("Action") and "Amplitude (mV RMS)" in d:
                meta["technique"] = d.get("Name", "")
                try:
                    meta["amplitude"] = float(d["Amplitude (mV RMS)"]) * 1e-3
                    meta["amplitude_unit"] = "V rms"
                except ValueError:
                    pass
            if name == "Action0" and d.get("Working Electrode Area (cm2)"):
                try:
                    a = float(d["Working Electrode Area (cm2)"])
                    if a > 0:
                        meta["area_cm2"] = a
                except ValueError:
                    pass
        out: list[Spectrum] = []
        segs = [(n, a, b) for n, a, b in secs if n.startswith("Segment")]
        if not segs:
            raise ReaderError(path, "no <SegmentN> data section found", line=len(lines))
        for name, a, b in segs:
            dline = next((i for i in range(a, b) if lines[i].startswith("Definition=")), None)
            if dline is None:
                raise ReaderError(path, f"<{name}> has no 'Definition=' line", line=a + 1)
            names = [c.strip() for c in lines[dline].split("=", 1)[1].split(",")]
            # the list ends with a number that names no column (", 0"): not a name
            while names and is_number(names[-1]):
                names.pop()
            required, optional = select_columns(names)
            if len(required) < 3:
                continue
            first = dline + 1
            while first < b and "=" in lines[first]:
                first += 1
            cols, ln_, _ = parse_columns(
                tf, first, names, required, optional, sep=",", decimal_comma=False, stop=b,
                names_line=dline + 1,
            )
            if ln_.size == 0:
                continue
            m = dict(meta)
            m["segment"] = name
            out += spectra_from_columns(path, cols, [n for n in names if n in cols], m, lines=ln_)
        if not out:
            raise ReaderError(path, "no segment with frequency and impedance columns")
        return out
