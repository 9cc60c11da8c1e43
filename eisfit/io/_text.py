"""Reading delimited text tables: separators, decimal commas, header lines, numeric blocks.

Shared by every text reader; readers say where the header and the data are, this module turns
the lines into numeric columns and names the line of anything it cannot parse.
"""

from __future__ import annotations

import math
import os
import re
import stat
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from eisfit.exceptions import ReaderError
from eisfit.io.normalise import NUMBER_RE, Lines, classify_column, decode_text, looks_binary

#: Most bytes of a text file read (a spectrum file is kilobytes to a few megabytes).
MAX_TEXT_BYTES = 200 * 1024 * 1024


@dataclass
class TextFile:
    """A decoded text file.

    Attributes
    ----------
    path
        The file.
    encoding
        The encoding used.
    lines
        Lines without their line ends (index 0 is line 1).
    ends_with_newline
        Whether the last line is terminated (a file cut mid-line is not).
    """

    path: Path
    encoding: str
    lines: Sequence[str]
    ends_with_newline: bool


def os_error(path: Path, exc: OSError) -> ReaderError:
    """The one-line :class:`ReaderError` for an operating-system error on ``path``."""
    if isinstance(exc, IsADirectoryError):
        return ReaderError(path, "is a folder, expected a file")
    if isinstance(exc, FileNotFoundError):
        return ReaderError(path, "no such file")
    return ReaderError(path, f"cannot be read ({exc.strerror or exc})")


_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_regular(path: str | Path) -> os.stat_result:
    """Refuse, before anything opens it, a path that is not a regular file; return its
    ``os.stat`` (for its size).

    A named pipe would block ``open`` until a writer comes, and a device such as
    ``/dev/zero`` never ends; neither has a size the byte cap could check.

    Raises
    ------
    ReaderError
        If the path does not exist, is a folder, or is a pipe, device or socket.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise os_error(p, exc) from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise ReaderError(p, "is a folder, expected a file")
    if not stat.S_ISREG(mode):
        kind = next((k for test, k in _NOT_REGULAR if test(mode)), "a special file")
        raise ReaderError(p, f"is {kind}, not a regular file: expected an impedance data file")
    return st


def read_bytes(path: str | Path, expected: str | None = None) -> bytes:
    """Read a file's bytes, turning OS errors into :class:`ReaderError`.

    Parameters
    ----------
    path
        The file.
    expected
        What the file should hold (``"a BioLogic .mpr file"``): when given, an empty file is an
        error saying so.
    """
    p = Path(path)
    size = check_regular(p).st_size
    try:
        if size > MAX_TEXT_BYTES:
            raise ReaderError(p, f"file is {size} bytes; more than {MAX_TEXT_BYTES} is refused")
        with open(p, "rb") as fh:
            data = _read_capped(fh, size)
    except OSError as exc:
        raise os_error(p, exc) from None
    if len(data) > MAX_TEXT_BYTES:
        raise ReaderError(p, f"file is more than {MAX_TEXT_BYTES} bytes; that is refused")
    if expected is not None and not data:
        raise ReaderError(p, f"file is empty (0 bytes), expected {expected}", offset=0)
    return data


def _read_capped(fh: BinaryIO, size: int) -> bytes:
    """The bytes of an open file, at most ``MAX_TEXT_BYTES + 1`` of them.

    The cap holds for the bytes read too (a file that grows, or one in /proc whose size says
    0); a read is sized by the file (a read sized by the cap would reserve the cap's 200 MiB
    for any file).
    """
    limit = MAX_TEXT_BYTES + 1
    data = fh.read(min(size + 1, limit)) if size > 0 else b""
    if size > 0 and len(data) <= size:
        return data
    grown = bytearray(data)
    while len(grown) < limit:
        chunk = fh.read(min(1 << 20, limit - len(grown)))
        if not chunk:
            break
        grown += chunk
    return bytes(grown)


def load_text(path: str | Path) -> TextFile:
    """Read and decode a text file.

    Raises
    ------
    ReaderError
        If the file is empty or holds binary bytes (the byte offset of the first one is given).
    """
    p = Path(path)
    data = read_bytes(p, expected="impedance data")
    if not data.strip():
        raise ReaderError(
            p, "file is empty (blank lines only), expected impedance data", line=1
        )
    off = looks_binary(data)
    if off is not None:
        raise ReaderError(
            p, f"binary content (byte 0x{data[off]:02x}) where text was expected", offset=off
        )
    text, enc = decode_text(data, p)
    del data  # only the text is kept, with the offsets of its lines (Lines)
    if "\x00" in text:
        i = text.index("\x00")
        raise ReaderError(p, "NUL character in text", line=text[:i].count("\n") + 1)
    return TextFile(p, enc, Lines(text), text.endswith(("\n", "\r")))


# ----------------------------------------------------------------------------- fields

_WS = re.compile(r"\s+")


def split_fields(line: str, sep: str) -> list[str]:
    """Split a line into stripped fields; ``sep == " "`` means runs of blanks."""
    if sep == " ":
        return _WS.split(line.strip())
    parts = [s.strip().strip('"').strip() for s in line.split(sep)]
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def nonempty_fields(line: str, sep: str) -> list[str]:
    """The fields of a line that are not empty (see :func:`split_fields`)."""
    return [c for c in split_fields(line, sep) if c != ""]


def is_number(tok: str, decimal_comma: bool | None = None) -> bool:
    """Whether a cell is a plain number (with a decimal comma when allowed or unknown)."""
    t = tok.strip().strip('"')
    if NUMBER_RE.match(t):
        return True
    if decimal_comma is not False and "," in t and "." not in t:
        return bool(NUMBER_RE.match(t.replace(",", ".")))
    return False


def guess_separator(line: str) -> tuple[str, bool]:
    """Separator and decimal-comma flag of one data line.

    Tab wins, then semicolon; a comma is a separator when the comma-split cells are numbers
    with a decimal point, otherwise a decimal mark between blank-separated cells.
    """
    if "\t" in line:
        sep = "\t"
    elif ";" in line:
        sep = ";"
    elif "," in line:
        cells = split_fields(line, ",")
        if cells and all(NUMBER_RE.match(c) for c in cells if c != ""):
            return ",", False
        sep = " "
    else:
        sep = " "
    dc = any("," in c for c in nonempty_fields(line, sep))
    return sep, dc


def numeric_row(line: str, sep: str, decimal_comma: bool) -> bool:
    """Whether every non-empty cell of the line is a number (and there are at least two)."""
    cells = nonempty_fields(line, sep)
    return len(cells) >= 2 and all(is_number(c, decimal_comma) for c in cells)


def find_numeric_block(
    lines: Sequence[str], start: int = 0, min_rows: int = 3, max_scan: int = 2000
) -> tuple[int, str, bool] | None:
    """First line index of a run of numeric rows, with its separator and decimal flag.

    A run must have ``min_rows`` numeric rows in a row (fewer when the file ends first).
    """
    n = len(lines)
    i = start
    stop = min(n, start + max_scan)
    while i < stop:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        sep, dc = guess_separator(line)
        if numeric_row(line, sep, dc):
            j, run = i, 0
            while j < n and run < min_rows:
                if lines[j].strip():
                    if not numeric_row(lines[j], sep, dc):
                        break
                    run += 1
                j += 1
            if run >= min_rows or (j >= n and run >= 1):
                return i, sep, dc
        i += 1
    return None


_BARE_UNIT = re.compile(r"^\s*[(\[][^()\[\]]*[)\]]\s*$")


def header_names(line: str, sep: str, n_fields: int) -> list[str]:
    """Column names from a header line, matched to the data's field count where possible."""
    cands = []
    full = split_fields(line, sep)
    if sep == " ":
        # a quote standing alone ('"  Freq(Hz)  Ampl ... Range"') is not a name
        full = [c for c in full if c.strip('"')]
    cands.append(full)
    cands.append([c for c in full if c != ""])
    stripped = line.strip().strip('"').strip()
    cands.append([c for c in re.split(r"\s{2,}|\t", stripped) if c.strip()])
    cands.append(_WS.split(stripped))
    for c in cands:
        # a split that leaves a unit alone ('Freq', '(Hz)') names no column, whatever its count
        if len(c) == n_fields and not any(_BARE_UNIT.match(x) for x in c):
            return [x.strip().strip('"') for x in c]
    # no candidate has the data's field count (e.g. names for columns left empty): take the
    # one with recognised names and the nearest count, collapsed names first
    best = None
    for c in (cands[1], cands[2], cands[3], cands[0]):
        if sum(classify_column(x).quantity != "other" for x in c) >= 2 and not any(
            _BARE_UNIT.match(x) for x in c
        ):
            d = abs(len(c) - n_fields)
            if best is None or d < best[0]:
                best = (d, c)
    chosen = best[1] if best is not None else cands[1]
    return [x.strip().strip('"') for x in chosen]


# ----------------------------------------------------------------------------- numeric columns


def parse_columns(
    tf: TextFile,
    first: int,
    names: Sequence[str],
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    sep: str,
    decimal_comma: bool,
    stop: int | None = None,
    stop_at_text: bool = False,
    what: str = "data row",
    names_line: int | None = None,
    absent_ok: Sequence[str] = (),
) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Parse the needed columns of the rows ``lines[first:stop]``.

    Every row must have one field per column name: a row with more fields, or with fewer
    (other than trailing cells left empty after their separators, or the ``absent_ok``
    columns), is an error, since its values would be read under the wrong names.

    Parameters
    ----------
    tf
        The file.
    first
        0-based index of the first data line.
    names
        All column names, in order (positions are taken from here).
    required
        Names whose cells must all be numbers.
    optional
        Names read when present and numeric (NaN otherwise).
    sep, decimal_comma
        Separator and decimal mark.
    stop
        0-based index to stop before (default: end of file).
    stop_at_text
        End the table at the first line whose first cell is not a number (instead of
        raising).
    what
        What a row is called in messages.
    names_line
        1-based line of the column names, for messages.
    absent_ok
        Trailing column names whose fields the rows may leave out altogether (a column the
        instrument names but never fills).

    Returns
    -------
    columns, lines, end
        Arrays by name, the 1-based line number of every row, and the 0-based index of the
        first line after the table.

    Raises
    ------
    ReaderError
        Naming the line and column of a missing or non-numeric cell, or the line of a row whose
        field count differs from the column names'.
    """
    idx = {n: i for i, n in reversed(list(enumerate(names)))}
    quick = _plain_table(tf, first, stop, names, required, optional, idx, sep, decimal_comma)
    if quick is not None:
        return quick
    req = [(n, idx[n]) for n in required]
    opt = [(n, idx[n]) for n in optional if n in idx]
    need = max([i for _, i in req], default=-1)
    # a row may leave its last cells empty only with as many separators as the names line
    # (a lost field, or a name written twice, in a file whose lines end with a separator
    # leaves an empty last cell too)
    header_cells = _header_cells(tf, names_line, sep)
    full_cells: set[int] = set()  # separators + 1 of the rows with one field per name
    short_rows: list[tuple[int, int]] = []  # rows whose last cells are empty
    widths: Counter[int] = Counter()  # field counts, when rows may leave out absent_ok columns
    width_first: dict[int, int] = {}
    # values are checked as they are read, so a bad one early in a large file is reported at
    # once; they are kept as packed doubles (8 bytes each, not a float object's 32)
    freq = {n for n, _ in req if classify_column(n).quantity == "frequency"}
    out: dict[str, array] = {n: array("d") for n, _ in req + opt}
    line_numbers = array("q")
    lines = tf.lines
    end = len(lines) if stop is None else min(stop, len(lines))
    i = first
    while i < end:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        cells = split_fields(line, sep)
        if stop_at_text and (not cells or not is_number(cells[0], decimal_comma)):
            break
        lineno = i + 1
        if len(cells) <= need:
            last = i == len(lines) - 1
            hint = " (file truncated?)" if last else ""
            raise ReaderError(
                tf.path,
                f"expected at least {need + 1} fields in this {what} "
                f"({_names_count(names, names_line)}), found {len(cells)}{hint}",
                line=lineno,
            )
        if len(cells) != len(names) and (
            len(cells) > len(names) or not all(x in absent_ok for x in names[len(cells):])
        ):
            raw = line.count(sep) + 1 if sep != " " else len(cells)
            if len(cells) > len(names) or raw < len(names) or raw != header_cells:
                raise _field_count_error(tf, i, len(cells), sep, names, names_line, what)
            short_rows.append((i, raw))  # and as many as the full rows: checked below
        elif sep != " ":
            full_cells.add(line.count(sep) + 1)
        if absent_ok:
            widths[len(cells)] += 1
            width_first.setdefault(len(cells), i)
        _append_values(tf.path, cells, req, opt, out, freq, decimal_comma, lineno)
        line_numbers.append(lineno)
        i += 1
    for k, raw in short_rows:
        if full_cells and raw not in full_cells:
            n = len(split_fields(lines[k], sep))
            raise _field_count_error(tf, k, n, sep, names, names_line, what)
    if len(widths) > 1:
        raise _width_error(tf.path, widths, width_first, what)
    if line_numbers and line_numbers[-1] == len(lines):
        _check_last_row(tf, sep, names)
    cols = {n: np.asarray(v, dtype=float) for n, v in out.items()}
    return cols, np.asarray(line_numbers, dtype=int), i


#: The characters of a table :func:`_plain_table` reads at once, besides the separator: in
#: such text a cell is a number for ``float`` exactly when it matches ``NUMBER_RE``.
_PLAIN = frozenset("0123456789.eE+- \t\r")


def _plain_table(
    tf: TextFile, first: int, stop: int | None, names: Sequence[str],
    required: Sequence[str], optional: Sequence[str], idx: dict[str, int], sep: str,
    decimal_comma: bool,
) -> tuple[dict[str, np.ndarray], np.ndarray, int] | None:
    """:func:`parse_columns`'s result, read at once, for the common plain table: every line up
    to ``stop`` a row of exactly one number per column name (blank lines aside), written with
    digits, signs, points and exponents only, required values finite (frequencies >= 0).
    None for anything else, which the line-by-line reading then reads or reports."""
    lines = tf.lines
    end = len(lines) if stop is None else min(stop, len(lines))
    if decimal_comma or end <= first:
        return None
    allowed = _PLAIN | {sep}
    numbers: list[int] = []
    rows: list[str] = []
    width = len(names)
    for k in range(first, end):
        line = lines[k]
        if not line.strip():
            continue
        n_cells = len(line.split()) if sep == " " else line.count(sep) + 1
        if n_cells != width:
            return None
        rows.append(line)
        numbers.append(k + 1)
    if not rows:
        return None
    text = " ".join(rows) if sep == " " else sep.join(rows)
    if not allowed.issuperset(text):
        return None
    try:
        values = np.array(text.split() if sep == " " else text.split(sep), dtype=np.float64)
    except ValueError:  # a cell that is not a number: the line-by-line reading names it
        return None
    table = values.reshape(len(rows), width)
    cols = {n: table[:, idx[n]].copy() for n in (*required, *(o for o in optional if o in idx))}
    for n in required:
        v = cols[n]
        if not np.all(np.isfinite(v)) or (
            classify_column(n).quantity == "frequency" and np.any(v < 0)
        ):
            return None
    if numbers[-1] == len(lines):
        _check_last_row(tf, sep, names)
    return cols, np.asarray(numbers, dtype=int), end


def _header_cells(tf: TextFile, names_line: int | None, sep: str) -> int | None:
    """Separators + 1 on the line of column names (None without one, or for whitespace)."""
    if names_line is not None and sep != " " and 0 < names_line <= len(tf.lines):
        return tf.lines[names_line - 1].count(sep) + 1
    return None


def _append_values(
    path: Path,
    cells: Sequence[str],
    req: Sequence[tuple[str, int]],
    opt: Sequence[tuple[str, int]],
    out: dict[str, array],
    freq: set[str],
    decimal_comma: bool,
    lineno: int,
) -> None:
    """Append one row's values: required cells must be finite numbers (a frequency >= 0),
    optional ones are NaN when absent or not numbers."""
    for n, j in req:
        tok = cells[j]
        t = tok.strip().strip('"')
        if decimal_comma:
            t = t.replace(",", ".")
        if not NUMBER_RE.match(t):
            raise ReaderError(
                path,
                f"column {n!r} (field {j + 1}): expected a number, found {tok!r}",
                line=lineno,
            )
        v = float(t)
        if not math.isfinite(v) or (v < 0 and n in freq):
            raise _value_error(path, n, j, tok, lineno, math.isfinite(v))
        out[n].append(v)
    for n, j in opt:
        v = float("nan")
        if j < len(cells):
            t = cells[j].strip().strip('"')
            if decimal_comma:
                t = t.replace(",", ".")
            if NUMBER_RE.match(t):
                v = float(t)
        out[n].append(v)


def _width_error(
    path: Path, widths: Counter[int], width_first: dict[int, int], what: str
) -> ReaderError:
    """The error for rows that leave the ``absent_ok`` columns out, or not, unlike the others."""
    common = widths.most_common(1)[0][0]
    odd = min((k for k in widths if k != common), key=lambda k: width_first[k])
    return ReaderError(
        path,
        f"this {what} has {odd} fields where the other rows have {common}: values would "
        "be read under the wrong names",
        line=width_first[odd] + 1,
    )


def _check_last_row(tf: TextFile, sep: str, names: Sequence[str]) -> None:
    """Raise when the file's last line, a table row, is short of fields and has no line end."""
    lines = tf.lines
    if (
        not tf.ends_with_newline
        and len(split_fields(lines[-1], sep)) < len(names)
        and len(names) > 1
    ):
        raise ReaderError(
            tf.path,
            f"last row has {len(split_fields(lines[-1], sep))} of {len(names)} fields and no "
            "line end: file truncated?",
            line=len(lines),
        )


def _value_error(
    path: Path, name: str, j: int, tok: str, lineno: int, finite: bool
) -> ReaderError:
    """The error for a cell that is a number but not a usable one."""
    if finite:
        found = f"found {tok.strip()!r}, a negative frequency: expected a frequency >= 0 Hz"
    else:
        found = f"found {tok.strip()!r}, beyond the range of a double: expected a finite number"
    return ReaderError(path, f"column {name!r} (field {j + 1}): {found}", line=lineno)


def _names_count(names: Sequence[str], names_line: int | None) -> str:
    where = f" on line {names_line}" if names_line is not None else ""
    return f"{len(names)}, one per column name{where}"


def _field_count_error(
    tf: TextFile,
    i: int,
    n: int,
    sep: str,
    names: Sequence[str],
    names_line: int | None,
    what: str,
) -> ReaderError:
    """The error for row ``lines[i]``, whose ``n`` fields do not match the column names."""
    m = len(names)
    shown = ", ".join(repr(x) for x in names[:6]) + (", ..." if m > 6 else "")
    if n > m:
        diff = f"{n - m} more than the column names"
        if sep == ",":
            diff += " (decimal commas in a comma-separated file?)"
    else:
        diff = f"{m - n} fewer than the column names"
        if i == len(tf.lines) - 1 and not tf.ends_with_newline:
            diff += " (file truncated?)"
    where = f" on line {names_line}" if names_line is not None else ""
    return ReaderError(
        tf.path,
        f"this {what} has {n} fields, the column names{where} ({shown}) have {m}: {diff}; "
        "values would be read under the wrong names",
        line=i + 1,
    )


def has_impedance_names(names: Sequence[str]) -> bool:
    """Whether the names include a frequency and either Re(Z)/Im(Z) or ``|Z|``/phase."""
    qs = {classify_column(n).quantity for n in names}
    return "frequency" in qs and ({"re", "im"} <= qs or {"modulus", "phase"} <= qs)


def select_columns(
    names: Sequence[str], split_keys: Sequence[str] = ("z cycle", "cycle number")
) -> tuple[list[str], list[str]]:
    """The columns a spectrum needs (required) and those it may use (optional)."""
    first: dict[str, str] = {}
    for n in names:
        q = classify_column(n).quantity
        if q != "other" and q not in first:
            first[q] = n
    required: list[str] = []
    optional: list[str] = []
    if "frequency" in first:
        required.append(first["frequency"])
    if "re" in first and "im" in first:
        required += [first["re"], first["im"]]
    elif "modulus" in first and "phase" in first:
        required += [first["modulus"], first["phase"]]
    for k in split_keys:
        for n in names:
            if n.strip().lower() == k.lower() and n not in required:
                required.append(n)
                break
    if "loop" in first and first["loop"] not in required:
        required.append(first["loop"])
    if "temperature" in first:
        optional.append(first["temperature"])
    if "time" in first:  # when each of several spectra began (meta "time_s")
        optional.append(first["time"])
    return required, optional


# ----------------------------------------------------------------------------- dates


def parse_datetime(text: str, formats: Sequence[str]) -> datetime | None:
    """``text`` (surrounding blanks ignored) read with the first of ``formats`` that fits."""
    t = text.strip()
    for fmt in formats:
        try:
            return datetime.strptime(t, fmt)
        except ValueError:
            continue
    return None


def date_and_time(
    date: str, time: str, date_formats: Sequence[str], time_formats: Sequence[str]
) -> str | None:
    """ISO 8601 text of a date and a time written in separate fields.

    Returns
    -------
    str or None
        The date and time; the date alone when the time does not parse; None when the date
        does not.
    """
    d = parse_datetime(date, date_formats)
    if d is None:
        return None
    t = parse_datetime(time, time_formats)
    if t is None:
        return d.date().isoformat()
    return datetime.combine(d.date(), t.time()).isoformat()
