"""PalmSens PSTrace files: ``.pssession`` (UTF-16 JSON) and CSV exports.

A session holds measurements; each impedance curve is in ``EISDataList`` (or its ``SubScans``
for multichannel files) with data arrays described as ``Frequency``, ``ZRe``, ``ZIm``, ``Z``,
``Phase``. Key case differs between PSTrace versions (``Measurements``/``measurements``) and
the file ends with a stray BOM. PSTrace stores ``ZIm`` as -Im(Z) and ``Phase`` as -phase
(both positive for capacitive behaviour). Timestamps are .NET ticks (100 ns since 0001-01-01).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ReaderError
from ..spectrum import Spectrum
from ._text import load_text, read_bytes
from .generic import read_table_text
from .normalise import decode_text, make_spectrum
from .registry import register


def _lower(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k).lower(): _lower(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_lower(v) for v in o]
    return o


def _arrays(ds: Any) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if not isinstance(ds, dict):
        return out
    for v in ds.get("values", []) or []:
        if not isinstance(v, dict):
            continue
        name = str(v.get("description", ""))
        vals = v.get("datavalues", [])
        if name and name not in out and isinstance(vals, list):
            try:
                out[name] = np.array([float(x["v"]) for x in vals], dtype=float)
            except (KeyError, TypeError, ValueError):
                continue
    return out


def _ticks(t: Any) -> str | None:
    try:
        return (datetime(1, 1, 1) + timedelta(microseconds=int(t) // 10)).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


@register("palmsens-pssession", extensions=(".pssession",), description="PalmSens PSTrace session")
class PalmSensSession:
    """PalmSens PSTrace session file (``.pssession``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        try:
            text, _ = decode_text(head[:4096], path)
        except Exception:
            return 0.0
        if "PalmSens" in text[:2000] and text.lstrip().startswith("{"):
            return 0.95
        if path.suffix.lower() == ".pssession":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        data = read_bytes(path)
        if not data:
            raise ReaderError(path, "file is empty, expected a PSTrace session")
        text, _ = decode_text(data, path)
        text = text.strip().rstrip("\x00").strip()
        try:
            doc = _lower(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ReaderError(
                path, f"not valid JSON ({exc.msg}): truncated or damaged session file",
                line=exc.lineno,
            ) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("measurements"), list):
            raise ReaderError(path, "no 'Measurements' list in the session file")
        meta0: dict[str, Any] = {"format": "palmsens-pssession", "source": str(path)}
        if doc.get("coreversion"):
            meta0["software"] = f"PSTrace {doc['coreversion']}"
        out: list[Spectrum] = []
        for mi, m in enumerate(doc["measurements"]):
            if not isinstance(m, dict):
                continue
            curves = []
            for e in m.get("eisdatalist", []) or []:
                if not isinstance(e, dict):
                    continue
                subs = e.get("subscans") or []
                if subs:
                    curves += [(s.get("title", e.get("title")), s.get("dataset")) for s in subs
                               if isinstance(s, dict)]
                else:
                    curves.append((e.get("title"), e.get("dataset")))
            if not curves and "eis" in str(m.get("dataset", {}).get("type", "")).lower():
                curves.append((m.get("title"), m.get("dataset")))
            for title, ds in curves:
                arr = _arrays(ds)
                f = arr.get("Frequency")
                if f is None:
                    continue
                meta = dict(meta0)
                meta["measurement"] = mi
                meta["title"] = str(m.get("title", ""))
                if title:
                    meta["curve"] = str(title)
                if m.get("deviceserial"):
                    meta["instrument"] = f"PalmSens {m['deviceserial']}"
                st = _ticks(m.get("timestamp"))
                if st:
                    meta["start_time"] = st
                meta["technique"] = "EIS"
                if "ZRe" in arr and "ZIm" in arr and arr["ZRe"].size == f.size == arr["ZIm"].size:
                    z = arr["ZRe"] - 1j * arr["ZIm"]
                elif "Z" in arr and "Phase" in arr and arr["Z"].size == f.size:
                    z = arr["Z"] * np.exp(-1j * np.deg2rad(arr["Phase"]))
                else:
                    raise ReaderError(
                        path, f"measurement {mi}: impedance arrays missing or of unequal length"
                    )
                out.append(make_spectrum(path, f, z, meta))
        if not out:
            raise ReaderError(path, "the session holds no impedance (EIS) measurement")
        return out


@register("palmsens-csv", extensions=(), description="PalmSens PSTrace CSV export")
class PalmSensCsv:
    """PalmSens PSTrace CSV export (``Date and time measurement:`` header)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        try:
            text, _ = decode_text(head[:4096], path)
        except Exception:
            return 0.0
        if "Date and time measurement" in text[:500]:
            return 0.85
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "palmsens-csv", "source": str(path)}
        first = tf.lines[0] if tf.lines else ""
        if ":" in first:
            meta["start_time"] = first.split(":", 1)[1].strip(" ,;\t")
        return read_table_text(tf, meta, allow_positional=False)
