"""Generic delimited text (CSV, TSV, TXT) and, when openpyxl is installed, ``.xlsx`` sheets.

Columns are found by name (``freq/Hz``, ``Frequency (Hz)``, ``Z'``, ``-Z''``, ``Re(Z)/Ohm``,
``|Z|``, ``Phase``... with their units); a file without names is read by position as frequency,
Re(Z), Im(Z) with the sign of the imaginary column decided from the data, and the assumption is
written to ``meta["assumptions"]``. Several spectra are told apart by a ``cycle number``,
``z cycle`` or ``loop`` column, or by all-zero rows between sweeps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eisfit.exceptions import ReaderError, UnsupportedFormatError
from eisfit.io._text import (
    TextFile,
    find_numeric_block,
    has_impedance_names,
    header_names,
    is_number,
    load_text,
    nonempty_fields,
    parse_columns,
    select_columns,
    split_fields,
)
from eisfit.io.normalise import (
    add_assumption,
    add_note,
    classify_column,
    looks_binary,
    spectra_from_columns,
)
from eisfit.io.registry import register
from eisfit.io.spectrum import Spectrum

_ERROR_CELLS = ("#NAME?", "#REF!", "#VALUE!", "#N/A", "#DIV/0!", "")
_FRACTION = re.compile(r"^\d+(?:[eE][-+]?\d+)?$")


def _decimal_commas_split(lines: Sequence[str], first: int, sep: str, n_rows: int = 50) -> bool:
    """Whether comma-separated rows look like numbers written with decimal commas, each split
    in two at its comma (``999,040405,0,112362966``): an even field count, no decimal point,
    and every second field an unsigned run of digits (a fractional part), in every row."""
    if sep != ",":
        return False
    seen = 0
    for line in lines[first:]:
        if not line.strip():
            continue
        cells = split_fields(line, sep)
        if not cells or not is_number(cells[0], False):
            break
        if len(cells) % 2 or any("." in c for c in cells):
            return False
        if not all(_FRACTION.match(c) for c in cells[1::2]):
            return False
        seen += 1
        if seen >= n_rows:
            break
    return seen > 0


def _repair_spreadsheet_error(names: list[str]) -> tuple[list[str], str | None]:
    """A spreadsheet re-save can turn ``-Im(Z)/Ohm`` into ``#NAME?``: name the candidate."""
    qs = [classify_column(n).quantity for n in names]
    if "re" in qs and "im" not in qs:
        i = qs.index("re")
        if i + 1 < len(names) and names[i + 1].strip() in _ERROR_CELLS:
            new = list(names)
            new[i + 1] = "-Im(Z)/Ohm"
            return new, names[i + 1]
    return names, None


def _check_repair(
    path: Path, cols: dict[str, np.ndarray], names: list[str], bad: str, meta: dict[str, Any]
) -> bool:
    """Keep the repaired ``-Im(Z)`` name only if |Z| and the phase agree with it."""
    mod = next((n for n in names if classify_column(n).quantity == "modulus"), None)
    ph = next((n for n in names if classify_column(n).quantity == "phase"), None)
    re_ = next((n for n in names if classify_column(n).quantity == "re"), None)
    if mod is None or ph is None or re_ is None or mod not in cols or ph not in cols:
        return False
    cand = cols["-Im(Z)/Ohm"]
    r = cols[re_]
    m = np.hypot(r, cand)
    ok_mod = np.allclose(m, cols[mod], rtol=0.02, atol=1e-12)
    phase_sign = classify_column(ph).sign * np.sign(cols[ph])
    nz = (np.abs(cols[ph]) > 0.5) & (cand != 0)
    ok_sign = bool(np.all(np.sign(-cand[nz]) == phase_sign[nz])) if nz.any() else True
    if ok_mod and ok_sign:
        add_assumption(
            meta,
            f"column {bad!r} (a spreadsheet error in place of a name) read as -Im(Z)/Ohm: it "
            "follows Re(Z) as in EC-Lab files and agrees with |Z| and Phase(Z)",
        )
        return True
    return False


def read_table_text(
    tf: TextFile,
    meta: dict[str, Any],
    *,
    start: int = 0,
    allow_positional: bool = True,
    split_keys: Sequence[str] = ("z cycle", "cycle number", "loop_index", "loop"),
    im_sign_known: bool = True,
    absent_ok: Sequence[str] = (),
) -> list[Spectrum]:
    """Spectra from the first numeric table in a text file, at or after line ``start``.

    Every row must have one field per column name (see :func:`~eisfit.io._text.parse_columns`;
    ``absent_ok`` names trailing columns the rows may leave out).
    """
    path = tf.path
    block = find_numeric_block(tf.lines, start)
    if block is None:
        raise ReaderError(
            path,
            "no table of numbers found: expected rows of frequency and impedance values",
            line=min(len(tf.lines), start + 1),
        )
    first, sep, dc = block
    n_fields = len(nonempty_fields(tf.lines[first], sep))
    if _decimal_commas_split(tf.lines, first, sep):
        raise ReaderError(
            path,
            f"the rows look like numbers with decimal commas in a comma-separated file "
            f"({tf.lines[first].strip()[:40]!r}: every second field is the decimal part of "
            "the one before): the columns cannot be told apart; save with another separator",
            line=first + 1,
        )
    names: list[str] | None = None
    hdr = first - 1
    while hdr >= start and not tf.lines[hdr].strip():
        hdr -= 1
    written = header_names(tf.lines[hdr], sep, n_fields) if hdr >= start else None
    repaired = None
    if written is not None:
        cand, repaired = _repair_spreadsheet_error(written)
        if has_impedance_names(cand):
            names = cand
    if names is not None:
        return _read_named_table(
            tf, meta, first, sep, dc, hdr, names, repaired,
            split_keys=split_keys, im_sign_known=im_sign_known, absent_ok=absent_ok,
        )
    if written is not None:
        _refuse_unplaced_names(path, written, n_fields, first, hdr)
    if not allow_positional:
        raise ReaderError(
            path,
            "no column names with frequency and impedance found above the data",
            line=first + 1,
        )
    return _read_positional_table(tf, meta, first, sep, dc, n_fields)


def _read_named_table(
    tf: TextFile,
    meta: dict[str, Any],
    first: int,
    sep: str,
    dc: bool,
    hdr: int,
    names: list[str],
    repaired: str | None,
    *,
    split_keys: Sequence[str],
    im_sign_known: bool,
    absent_ok: Sequence[str],
) -> list[Spectrum]:
    """Spectra from a table whose column names (line ``hdr``) name frequency and impedance.

    A spreadsheet error in the names (``repaired``) is checked against |Z| and phase; when the
    repair does not hold, the table is read from |Z| and phase instead.
    """
    path = tf.path
    required, optional = select_columns(names, split_keys)
    if repaired is not None:
        optional += [
            n
            for n in names
            if classify_column(n).quantity in ("modulus", "phase") and n not in required
        ]
    cols, lines, _ = parse_columns(
        tf, first, names, required, optional, sep=sep, decimal_comma=dc,
        names_line=hdr + 1, absent_ok=absent_ok,
    )
    if repaired is not None and not _check_repair(path, cols, names, repaired, meta):
        # fall back to |Z| and phase
        names = [("#unused" if n == "-Im(Z)/Ohm" else n) for n in names]
        required, optional = select_columns(names, split_keys)
        cols, lines, _ = parse_columns(
            tf, first, names, required, optional, sep=sep, decimal_comma=dc,
            names_line=hdr + 1, absent_ok=absent_ok,
        )
    if dc:
        add_note(meta, "decimal comma")
    kept = [n for n in names if n in cols]
    keys_present = any(n.strip().lower() in split_keys for n in kept)
    return _split_and_build(
        path, cols, kept, meta, lines, split_keys if keys_present else (), im_sign_known
    )


def _refuse_unplaced_names(
    path: Path, written: list[str], n_fields: int, first: int, hdr: int
) -> None:
    """Raise when a line of names above the rows names no frequency and impedance.

    Such rows are not read by position under it; a line of numbers or of unrelated words is let
    through.
    """
    if len(written) == n_fields and not any(is_number(c) for c in written):
        raise ReaderError(
            path,
            f"column names {written!r} not understood: expected a frequency column and "
            "Re(Z)/Im(Z) (e.g. 'freq/Hz', \"Z'\", \"-Z''\") or |Z| and phase columns",
            line=hdr + 1,
        )
    if (
        len(written) >= 2
        and not any(is_number(c) for c in written)
        and any(classify_column(c).quantity != "other" for c in written)
    ):
        # a line of names whose count differs from the rows' and that lacks a frequency or
        # impedance: the rows are not read by position under it
        raise ReaderError(
            path,
            f"{len(written)} column names {written!r} for the {n_fields} fields of the data "
            f"rows (line {first + 1}), and no frequency and impedance columns among them: "
            "the columns cannot be placed",
            line=hdr + 1,
        )


def _read_positional_table(
    tf: TextFile, meta: dict[str, Any], first: int, sep: str, dc: bool, n_fields: int
) -> list[Spectrum]:
    """Spectra from a table without names: columns 1-3 read as frequency, Re(Z), Im(Z)."""
    path = tf.path
    if n_fields < 3:
        raise ReaderError(
            path,
            f"data rows have {n_fields} columns and no names: expected at least frequency, "
            "Re(Z) and Im(Z)",
            line=first + 1,
        )
    names = ["freq/Hz", "Re(Z)/Ohm", "Im(Z)/Ohm"] + [f"column {i + 1}" for i in range(3, n_fields)]
    for k in range(first + 1, len(tf.lines)):
        cells = split_fields(tf.lines[k], sep)
        if not cells or not is_number(cells[0], dc):
            if tf.lines[k].strip():
                break
            continue
        if len(cells) != n_fields:
            raise ReaderError(
                path,
                f"this data row has {len(cells)} fields where the first (line {first + 1}) has "
                f"{n_fields}, and there are no column names: the columns cannot be placed",
                line=k + 1,
            )
    cols, lines, _ = parse_columns(tf, first, names, names[:3], sep=sep, decimal_comma=dc)
    f = cols["freq/Hz"]
    if (f < 0).any():
        raise ReaderError(
            path,
            "first column has negative values: cannot be the frequency of a headerless "
            "(frequency, Re(Z), Im(Z)) table",
            line=int(lines[int(np.flatnonzero(f < 0)[0])]),
        )
    add_assumption(
        meta,
        "no column names: columns 1-3 read as frequency (Hz), Re(Z) (Ohm), imaginary part (Ohm)",
    )
    if dc:
        add_note(meta, "decimal comma")
    return _split_and_build(path, cols, names[:3], meta, lines, (), False)


def _split_and_build(
    path: Path,
    cols: dict[str, np.ndarray],
    names: list[str],
    meta: dict[str, Any],
    lines: np.ndarray,
    split_keys: Sequence[str],
    im_sign_known: bool,
) -> list[Spectrum]:
    """Spectra split by the ``split_keys`` columns, or else by all-zero rows between sweeps."""
    if split_keys:
        return spectra_from_columns(
            path, cols, names, meta, lines=lines, im_sign_known=im_sign_known,
            split_keys=split_keys,
        )
    # no index column: an all-zero-frequency row between sweeps ends a spectrum
    fname = next(n for n in names if classify_column(n).quantity == "frequency")
    f = cols[fname]
    zero = f == 0
    if zero.any() and (~zero).sum() > 0:
        # the k-th run of rows between zero rows is spectrum k (its "loop"); one pass over the
        # rows, so a file of many short sweeps costs time in proportion to its rows
        keep = ~zero
        runs = np.cumsum(zero)[keep]
        loop = np.cumsum(np.r_[False, runs[1:] != runs[:-1]])
        if loop[-1] > 0:
            m = dict(meta)
            for key in ("assumptions", "notes"):
                if key in meta:
                    m[key] = list(meta[key])
            add_note(m, "spectra separated by rows with frequency 0")
            sub = {n: v[keep] for n, v in cols.items()}
            return spectra_from_columns(
                path, sub, names, m, lines=lines[keep], split_keys=(), extra_groups=loop,
                im_sign_known=im_sign_known,
            )
    return spectra_from_columns(
        path, cols, names, meta, lines=lines, split_keys=(), im_sign_known=im_sign_known
    )


@register(
    "generic",
    extensions=(".csv", ".tsv", ".txt", ".dat"),
    description="delimited text table (CSV/TSV/TXT) with or without column names",
)
class GenericText:
    """Any delimited text table of frequency and impedance."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        if looks_binary(head) is not None:
            return 0.0
        ext = path.suffix.lower()
        return 0.2 if ext in (".csv", ".tsv", ".txt", ".dat", "") else 0.1

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        tf = load_text(path)
        meta: dict[str, Any] = {"format": "generic", "source": str(path)}
        return read_table_text(tf, meta)


@register("xlsx", extensions=(".xlsx", ".xlsm"), description="Excel workbook (needs openpyxl)")
class Xlsx:
    """Excel workbook: the first sheet with a frequency/impedance table (needs openpyxl)."""

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:
        if head.startswith(b"PK\x03\x04") and path.suffix.lower() in (".xlsx", ".xlsm"):
            return 0.9
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return 0.3
        return 0.0

    @staticmethod
    def read(path: Path) -> list[Spectrum]:
        try:
            import openpyxl
        except ImportError:
            raise UnsupportedFormatError(
                path, "reading .xlsx needs openpyxl (pip install openpyxl), or save as CSV"
            ) from None
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise ReaderError(path, f"not a readable .xlsx workbook ({exc})") from None
        errors = []
        try:
            for ws in wb.worksheets:
                rows = []
                for row in ws.iter_rows(values_only=True):
                    cells = ["" if v is None else str(v) for v in row]
                    rows.append("\t".join(cells))
                if not rows:
                    continue
                tf = TextFile(path, "xlsx", rows, True)
                meta: dict[str, Any] = {"format": "xlsx", "source": str(path), "sheet": ws.title}
                try:
                    return read_table_text(tf, meta)
                except ReaderError as exc:
                    errors.append(f"sheet {ws.title!r}: {exc.reason}")
        finally:
            wb.close()
        raise ReaderError(path, "; ".join(errors) or "workbook has no sheets with data")
