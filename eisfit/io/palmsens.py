"""PalmSens PSTrace files: ``.pssession`` (UTF-16 JSON) and CSV exports.

A session holds measurements; each impedance curve is in ``EISDataList`` (or its ``SubScans``
for multichannel files) with data arrays described as ``Frequency``, ``ZRe``, ``ZIm``, ``Z``,
``Phase``. Key case differs between PSTrace versions (``Measurements``/``measurements``) and
the file ends with a stray BOM. PSTrace stores ``ZIm`` as -Im(Z) and ``Phase`` as -phase
(both positive for capacitive behaviour). Timestamps are .NET ticks (100 ns since 0001-01-01).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import (
    find_numeric_block,
    has_impedance_names,
    load_text,
    parse_columns,
    read_bytes,
    select_columns,
    split_fields,
)
from eisfit.io.normalise import (
    add_assumption,
    add_note,
    classify_column,
    decode_text,
    make_spectrum,
    polar_to_complex,
    sniff_text,
    spectra_from_columns,
)
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum


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
        text = sniff_text(head, path, 4096)
        if text is None:
            return 0.0
        if "PalmSens" in text[:2000] and text.lstrip().startswith("{"):
            return 0.95
        if path.suffix.lower() == ".pssession":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        data = read_bytes(path, expected="a PSTrace session")
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
                    z = polar_to_complex(arr["Z"], -arr["Phase"])
                else:
                    raise ReaderError(
                        path, f"measurement {mi}: impedance arrays missing or of unequal length"
                    )
                out.append(make_spectrum(path, f, z, meta))
        if not out:
            raise ReaderError(path, "the session holds no impedance (EIS) measurement")
        return out


def _csv_names(line: str) -> tuple[list[str], str] | None:
    """Column names and separator of a PSTrace impedance column-name line, else None."""
    for sep in (",", ";", "\t"):
        if sep not in line:
            continue
        names = [_rename(c) for c in split_fields(line, sep)]
        if has_impedance_names(names):
            return names, sep
    return None


def _rename(name: str) -> str:
    n = name.strip().strip('"').strip()
    if re.match(r"neg\.?\s*phase", n, re.IGNORECASE):  # PSTrace: -phase, positive if capacitive
        return "-Phase" + n[n.lower().index("phase") + 5:]
    return n


def _z2_holds_minus_im(cols: dict[str, np.ndarray], im: str, ph: str | None) -> bool | None:
    """Whether an unsigned ``Z''`` column holds -Im(Z), judged against PSTrace's -phase."""
    if ph is None or ph not in cols:
        return None
    negphase = cols[ph] * classify_column(ph).sign * -1.0  # the phase negated
    z2 = cols[im]
    sel = (np.abs(negphase) > 1.0) & (z2 != 0) & np.isfinite(negphase) & np.isfinite(z2)
    if not sel.any():
        return None
    agree = np.mean(np.sign(z2[sel]) == np.sign(negphase[sel]))
    return bool(agree > 0.5)


@register("palmsens-csv", extensions=(), description="PalmSens PSTrace / MultiTrace CSV export")
class PalmSensCsv:
    """PalmSens PSTrace or MultiTrace CSV export (``Date and time`` header, ``freq / Hz``).

    PSTrace writes UTF-16 with a BOM and CRLF line ends; a header ``Date and time
    measurement:,...`` (PSTrace 5) or ``Date and time:,...`` with ``Measurement:,Impedance
    Spectroscopy`` and one block per channel (``CH 3: Fixed at 51 freqs``, MultiTrace) precedes
    each column-name line ``freq / Hz,neg. Phase / °,Idc / uA,Z / Ohm,Z' / Ohm,-Z'' / Ohm,Cs / F``.
    Some versions name the imaginary column ``Z''`` although it holds -Im(Z); its sign is then
    taken from the ``neg. Phase`` column of the same rows.
    """

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        text = sniff_text(head, path)
        if text is None:
            return 0.0
        if "Date and time measurement" in text[:500]:
            return 0.85
        if text.lstrip().startswith("Date and time") and re.search(
            r"freq\s*/\s*Hz", text[:8192], re.IGNORECASE
        ):
            return 0.85
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "palmsens-csv", "source": str(path)}
        for ln in tf.lines[:50]:
            key, colon, value = ln.partition(":")
            if colon and key.strip().lower() in ("date and time measurement", "date and time"):
                v = value.strip(" ,;\t")
                if v:
                    meta["start_time"] = v
                    break
        heads = [(i, r) for i, ln in enumerate(tf.lines) if (r := _csv_names(ln)) is not None]
        if not heads:
            raise ReaderError(
                path,
                "no PSTrace impedance column names found: expected a line such as "
                "'freq / Hz,neg. Phase / °,Z / Ohm,Z\' / Ohm,-Z\'\' / Ohm'",
                line=min(len(tf.lines), 2),
            )
        out: list[Spectrum] = []
        for k, (h, (names, sep)) in enumerate(heads):
            stop = heads[k + 1][0] if k + 1 < len(heads) else len(tf.lines)
            block = find_numeric_block(tf.lines[:stop], h + 1, min_rows=1)
            if block is None or block[0] != next(
                (j for j in range(h + 1, stop) if tf.lines[j].strip()), -1
            ):
                raise ReaderError(
                    path, "expected rows of numbers after the column names", line=h + 2
                )
            dc = block[2] if sep != "," else False
            required, optional = select_columns(names, ())
            phase = next((n for n in names if classify_column(n).quantity == "phase"), None)
            if phase is not None and phase not in required:
                optional.append(phase)
            cols, lines, _ = parse_columns(
                tf, h + 1, names, required, optional, sep=sep, decimal_comma=dc,
                stop=stop, stop_at_text=True, names_line=h + 1,
            )
            if not lines.size:
                raise ReaderError(path, "no data rows after the column names", line=h + 2)
            m = dict(meta)
            m["assumptions"] = []
            label = next(
                (tf.lines[j].strip().strip(",;") for j in range(h - 1, max(-1, h - 4), -1)
                 if re.match(r"\s*CH\s*\d+\s*:", tf.lines[j])),
                None,
            )
            if label:
                m["channel"] = label.split(":")[0].strip()
            im = next((n for n in names if classify_column(n).quantity == "im"), None)
            used = [n for n in names if n in cols]
            im_known = True
            if im is not None and im in cols and classify_column(im).sign > 0:
                minus = _z2_holds_minus_im(cols, im, phase)
                if minus is None:
                    im_known = False
                elif minus:
                    cols["-" + im] = cols.pop(im)
                    used = [("-" + n if n == im else n) for n in used]
                    shown = dict(zip(names, split_fields(tf.lines[h], sep), strict=False))
                    add_assumption(
                        m, f"column {im!r} holds -Im(Z): its sign follows "
                        f"{shown.get(phase, phase)!r}"
                    )
            if dc:
                add_note(m, "decimal comma")
            if not m["assumptions"]:
                del m["assumptions"]
            out += spectra_from_columns(
                path, cols, used, m, lines=lines, split_keys=(), im_sign_known=im_known
            )
        return out
