"""BioLogic EC-Lab ASCII files (``.mpt``).

Layout: ``EC-Lab ASCII FILE``, ``Nb header lines : N`` (N counts every line up to and including
the column names), a header of ``key : value`` lines and technique settings, then a
tab-separated table. Column sets vary with the EC-Lab version and options; the German locale
writes decimal commas; several spectra are told apart by ``z cycle`` (Modulo Bat) or
``cycle number`` and by the ``Loop n from point number a to b`` block; GEIS and Modulo Bat
files interleave non-impedance rows with ``freq/Hz = 0``, which are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io._text import (
    TextFile,
    guess_separator,
    load_text,
    parse_columns,
    parse_datetime,
    select_columns,
)
from eisfit.io.normalise import (
    add_assumption,
    add_note,
    classify_column,
    spectra_from_columns,
    temperature_from_text,
)
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum

_MAGIC = b"EC-Lab ASCII FILE"
_NB_RE = re.compile(r"^\s*Nb\s+header\s+lines\s*:\s*(\d+)\s*$", re.IGNORECASE)
_LOOP_RE = re.compile(r"^\s*Loop\s+(\d+)\s+from\s+point\s+number\s+(\d+)\s+to\s+(\d+)", re.I)
_EC_LAB_DATES = (
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y %H:%M:%S",
    "%m/%d/%Y",
    "%d.%m.%Y",
)


def parse_ec_lab_date(text: str) -> str | None:
    """ISO 8601 date-time from EC-Lab's ``MM/DD/YYYY HH:MM:SS(.fff)`` or ``DD.MM.YYYY ...``."""
    d = parse_datetime(text, _EC_LAB_DATES)
    return None if d is None else d.isoformat()


def _num(text: str) -> float | None:
    m = re.match(r"^\s*([-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?)", text)
    if not m:
        return None
    return float(m.group(1).replace(",", "."))


def header_meta(header: list[str]) -> dict[str, Any]:
    """Metadata from an EC-Lab header (the lines before the column names)."""
    meta: dict[str, Any] = {}
    if len(header) > 3 and header[3].strip() and ":" not in header[3]:
        meta["technique"] = header[3].strip()
    settings: dict[str, str] = {}
    for line in header[2:]:
        if " : " in line or line.rstrip().endswith(" :"):
            key, _, val = line.partition(":")
            key, val = key.strip(), val.strip()
            kl = key.lower()
            if kl.startswith("acquisition started on"):
                meta["start_time"] = parse_ec_lab_date(val) or val
            elif kl == "device":
                meta["instrument"] = val
            elif kl == "electrode surface area":
                v = _num(val)
                if v is not None and v > 0:
                    unit = val[len(val.split()[0]):].strip() if val.split() else ""
                    if unit.startswith("mm"):
                        v = v / 100.0
                    elif not unit.startswith("cm"):
                        continue
                    if v == 0.001:
                        # EC-Lab's default when no area was typed in
                        continue
                    meta["area_cm2"] = v
            elif kl == "comments" and val:
                meta["comments"] = val
            elif kl == "electrode material" and val:
                meta["electrode_material"] = val
            elif kl == "electrolyte" and val:
                meta["electrolyte"] = val
            elif kl == "run on channel":
                meta["channel"] = val
        elif "(software)" in line:
            meta["software"] = line.replace("(software)", "").strip()
        else:
            parts = re.split(r"\s{2,}", line.strip())
            if len(parts) >= 2:
                settings.setdefault(parts[0], parts[1])
    for key, unit, factor in (("Va (mV)", "V", 1e-3), ("Ia", None, None)):
        if key in settings:
            v = _num(settings[key])
            if v is None:
                continue
            if unit is None:
                u = settings.get("unit Ia", "mA").strip()
                factor = {"A": 1.0, "mA": 1e-3, "µA": 1e-6, "uA": 1e-6, "nA": 1e-9}.get(u)
                if factor is None:
                    continue
                unit = "A"
            meta["amplitude"] = v * factor
            meta["amplitude_unit"] = unit
            break
    return meta


def _loop_groups(header: list[str], n_rows: int) -> np.ndarray | None:
    loops = []
    for line in header:
        m = _LOOP_RE.match(line)
        if m:
            loops.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
    if len(loops) < 2:
        return None
    g = np.full(n_rows, -1.0)
    for k, a, b in loops:
        if 0 <= a < n_rows:
            g[a: min(b, n_rows - 1) + 1] = k
    return g


@register("biologic-mpt", extensions=(".mpt",), description="BioLogic EC-Lab ASCII (.mpt)")
class BiologicMpt:
    """BioLogic EC-Lab ASCII export (``.mpt``)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        h = head.lstrip(b"\xef\xbb\xbf")[:64]
        if h.upper().startswith(_MAGIC.upper()):
            return 0.95
        if path.suffix.lower() == ".mpt":
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        return read_mpt_text(tf)


def read_mpt_text(tf: TextFile) -> list[Spectrum]:
    """Spectra from a decoded EC-Lab ASCII file."""
    path, lines = tf.path, tf.lines
    if not lines or not lines[0].strip().upper().startswith("EC-LAB ASCII FILE"):
        raise ReaderError(path, "expected 'EC-Lab ASCII FILE' on the first line", line=1)
    if len(lines) < 2:
        raise ReaderError(path, "file ends after line 1: expected 'Nb header lines : N'", line=2)
    m = _NB_RE.match(lines[1])
    if not m:
        raise ReaderError(
            path, f"expected 'Nb header lines : N', found {lines[1].strip()[:60]!r}", line=2
        )
    n_header = int(m.group(1))
    if n_header < 3:
        raise ReaderError(path, f"header line count {n_header} is below 3", line=2)
    if n_header > len(lines):
        raise ReaderError(
            path,
            f"header says {n_header} lines but the file has only {len(lines)} (truncated?)",
            line=len(lines),
        )
    col_line = lines[n_header - 1]
    names = [c.strip() for c in col_line.split("\t")]
    while names and names[-1] == "":
        names.pop()
    if len(names) < 2:
        raise ReaderError(
            path,
            f"expected the tab-separated column names on line {n_header} (header line count)",
            line=n_header,
        )
    header = lines[: n_header - 1]
    meta = header_meta(header)
    meta["format"] = "biologic-mpt"
    meta["source"] = str(path)
    if tf.encoding not in ("cp1252", "latin-1", "utf-8"):
        add_note(meta, f"file encoding {tf.encoding}")
    if path.suffix.lower() not in (".mpt", ".txt"):
        add_note(meta, f"EC-Lab ASCII content in a {path.suffix or 'extension-less'} file")
    comment = meta.get("comments")
    if isinstance(comment, str) and "temperature" not in meta:
        t = temperature_from_text(comment)
        if t is not None and re.fullmatch(r"\s*[-+]?\d+(?:[.,]\d+)?\s*°?\s*(?:C|K|degC)\s*",
                                          comment):
            meta["temperature"] = t
            add_assumption(
                meta, f"temperature {t - 273.15:g} °C taken from the comment {comment!r}"
            )
    required, optional = select_columns(names)
    if not any(classify_column(n).quantity == "frequency" for n in names):
        raise ReaderError(
            path, f"no 'freq/Hz' column among the column names {names[:8]!r}...", line=n_header
        )
    # decimal comma: German installs; decide from the first data line
    first_data = next((i for i in range(n_header, len(lines)) if lines[i].strip()), None)
    if first_data is None:
        raise ReaderError(path, "no data rows after the header", line=len(lines))
    _, dc = guess_separator(lines[first_data])
    cols, line_numbers, _ = parse_columns(
        tf, n_header, names, required, optional, sep="\t", decimal_comma=dc,
        names_line=n_header,
    )
    if line_numbers.size == 0:
        raise ReaderError(path, "no data rows after the header", line=n_header)
    extra = _loop_groups(header, line_numbers.size)
    return spectra_from_columns(
        path, cols, [n for n in names if n in cols], meta, lines=line_numbers, extra_groups=extra
    )
