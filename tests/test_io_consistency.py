"""Header and rows must agree: a reader never matches columns by position when counts differ.

A corpus file whose rows and column names were made inconsistent (a row loses or gains a
field, a name is removed or written twice) used to be read silently with values under the
wrong names: |Z| as Z', a GD column as Z'', 43 one-point spectra, frequencies of 1e13 Hz from
decimal commas split at comma separators. Each reader must now either refuse the file with one
line naming the file, the line and what differs, or read exactly the spectra of the original.

The mutated copies are written to ``tmp_path`` (or a temporary folder removed after each
example); the corpus itself is never changed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eisfit.exceptions import EisfitError, ReaderError
from eisfit.io import detect_format, read_all
from eisfit.io.spectrum import Spectrum

PROJECT_FILES = Path(__file__).resolve().parent / "data" / "io"
_ROW_START = re.compile(r'^\s*"?[-+]?\.?\d')


def _lines(path: Path) -> tuple[list[str], str]:
    """The file's lines with their line ends, decoded so that writing them back gives the
    same bytes (latin-1 maps every byte; UTF-16 files keep their encoding)."""
    raw = path.read_bytes()
    enc = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "latin-1"
    return raw.decode(enc).splitlines(keepends=True), enc


def _write(path: Path, lines: list[str], enc: str) -> None:
    path.write_bytes("".join(lines).encode(enc))


def _body(line: str) -> tuple[str, str]:
    """A line and its line end."""
    body = line.rstrip("\r\n")
    return body, line[len(body):]


def _refusal(p: Path) -> str:
    """The message of the ReaderError reading ``p`` raises, which must be one line."""
    with pytest.raises(ReaderError) as err:
        read_all(p)
    text = str(err.value)
    assert "\n" not in text, f"message is not one line: {text!r}"
    return text


# ----------------------------------------------------------------------------- the four faults


def test_chi_rows_with_three_of_five_columns(corpus_dir: Path, tmp_path: Path) -> None:
    """CHI: rows keep Freq, |Z| and the phase while the header lists five names; read by
    position, |Z| became Z' and the phase Z''."""
    src = corpus_dir / "ECSHackWeek__impedance.py" / "data__exampleDataCHInstruments.txt"
    lines, enc = _lines(src)
    header = next(i for i, ln in enumerate(lines) if ln.startswith("Freq/Hz"))
    first = None
    for i in range(header + 1, len(lines)):
        body, end = _body(lines[i])
        cells = body.split(", ")
        if len(cells) == 5:
            lines[i] = ", ".join([cells[0], cells[3], cells[4]]) + end
            first = i if first is None else first
    p = tmp_path / "chi_three_columns.txt"
    _write(p, lines, enc)
    assert len(read_all(src)) == 1  # the original reads
    msg = _refusal(p)
    assert msg.startswith(f"{p}, line {first + 1}: ")
    assert "has 3 fields" in msg and f"column names on line {header + 1}" in msg
    assert "have 5" in msg


def test_zplot_rows_missing_one_column(corpus_dir: Path, tmp_path: Path) -> None:
    """ZPlot: the Z'' field removed from every row; read by position Z'' came from the GD
    column (Im = 0 everywhere)."""
    src = corpus_dir / "ECSHackWeek__impedance.py" / "data__exampleDataZPlot.z"
    lines, enc = _lines(src)
    end = next(i for i, ln in enumerate(lines) if ln.strip() == "End Comments")
    assert lines[end - 1].split("\t")[5] == "Z''(b)"
    for i in range(end + 1, len(lines)):
        body, le = _body(lines[i])
        cells = body.split("\t")
        lines[i] = "\t".join(cells[:5] + cells[6:]) + le
    p = tmp_path / "zplot_no_zim.z"
    _write(p, lines, enc)
    msg = _refusal(p)
    assert msg.startswith(f"{p}, line {end + 2}: ")
    assert "has 8 fields" in msg and "have 9" in msg and f"on line {end}" in msg


def test_eclab_header_missing_one_name(corpus_dir: Path, tmp_path: Path) -> None:
    """EC-Lab: 'Cp/µF' removed from the column names; 'cycle number' then read the Cp column
    and the file came out as 43 one-point spectra."""
    src = corpus_dir / "ECSHackWeek__impedance.py" / "data__exampleDataBioLogic.mpt"
    lines, enc = _lines(src)
    n = int(re.search(r"Nb header lines : (\d+)", "".join(lines[:3])).group(1))
    assert "Cp/\xb5F\t" in lines[n - 1]
    lines[n - 1] = lines[n - 1].replace("Cp/\xb5F\t", "", 1)
    p = tmp_path / "eclab_name_missing.mpt"
    _write(p, lines, enc)
    original = read_all(src)
    assert len(original) == 1 and len(original[0].frequency) == 43
    msg = _refusal(p)
    assert msg.startswith(f"{p}, line {n + 1}: ")
    assert "has 18 fields" in msg and "have 17" in msg and f"on line {n}" in msg


def _decimal_comma_csv(src: Path, dst: Path) -> int:
    """``src`` rewritten with decimal commas and comma separators; the 1-based line of the
    first data row."""
    lines, enc = _lines(src)
    first = None
    for i, ln in enumerate(lines):
        body, end = _body(ln)
        if _ROW_START.match(body):
            first = i + 1 if first is None else first
            body = body.replace(",", "\t").replace(".", ",").replace("\t", ",")
        lines[i] = body + end
    _write(dst, lines, enc)
    assert first is not None
    return first


def test_decimal_commas_in_comma_separated_file(corpus_dir: Path, tmp_path: Path) -> None:
    """A CSV written with decimal commas: each number split in two at its comma gave 21
    spectra at 2.4e13 Hz."""
    src = corpus_dir / "jdhuang-csm__hybrid-drt" / "webinar__data__SSB__Sample2_PEIS_AtRest.csv"
    p = tmp_path / "decimal_comma.csv"
    first = _decimal_comma_csv(src, p)
    assert len(read_all(src)) == 10
    msg = _refusal(p)
    assert msg.startswith(f"{p}, line {first}: ")
    assert "more than the column names" in msg and "decimal commas" in msg


def test_decimal_commas_in_headerless_comma_separated_file(
    corpus_dir: Path, tmp_path: Path
) -> None:
    """Without column names the split numbers were read as frequency, Re(Z), Im(Z) by
    position (999 Hz, 40405 Ohm, 0 Ohm from '999,040405 ,0,112362966 ,0,00318273902')."""
    src = corpus_dir / "ciuccislab__pyDRTtools" / "EIS data__text files__LIB_data.txt"
    p = tmp_path / "decimal_comma_no_names.csv"
    first = _decimal_comma_csv(src, p)
    msg = _refusal(p)
    assert msg.startswith(f"{p}, line {first}: ")
    assert "decimal commas" in msg


# ----------------------------------------------------------------------------- smaller checks


def test_trailing_empty_cells_are_not_a_lost_field(tmp_path: Path) -> None:
    """A row whose last cell is empty (its separator written) is read; a row that lost a
    field in a file whose rows end with a separator is not."""
    rows = ["1000,10,-5,1", "100,11,-6,", "10,12,-7,3"]
    p = tmp_path / "empty_cell.csv"
    p.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm,time/s\n" + "\n".join(rows) + "\n")
    (s,) = read_all(p)
    np.testing.assert_array_equal(s.frequency, [1000, 100, 10])
    np.testing.assert_array_equal(s.z, [10 + 5j, 11 + 6j, 12 + 7j])
    # every row ends with a tab; the second lost its Re(Z) field
    rows = ["1000\t10\t-5\t1\t", "100\t-6\t2\t", "10\t12\t-7\t3\t"]
    p = tmp_path / "lost_field.txt"
    p.write_text("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\ttime/s\n" + "\n".join(rows) + "\n")
    with pytest.raises(ReaderError, match=r"lost_field\.txt, line 3: this data row has 3 "
                       r"fields, the column names on line 1 .* have 4"):
        read_all(p)


def test_implausible_values_are_refused(tmp_path: Path) -> None:
    """Values that cannot be what the column name says: a phase beyond a turn, a negative
    |Z|, a fractional cycle number, a frequency above 10 GHz."""
    head = "freq/Hz\t|Z|/Ohm\tPhase(Z)/deg\tcycle number\n"
    cases = {
        "phase": ("100\t5\t-400\t1\n", r"line 3: column 'Phase\(Z\)/deg' holds -400"),
        "modulus": ("100\t-5\t-40\t1\n", r"line 3: column '\|Z\|/Ohm' holds -5"),
        "cycle": ("100\t5\t-40\t1.5\n", r"line 3: column 'cycle number' holds 1.5"),
        "frequency": ("2.4e13\t5\t-40\t1\n", r"line 3: column 'freq/Hz' holds 2.4e\+13"),
    }
    for name, (row, pattern) in cases.items():
        p = tmp_path / f"{name}.txt"
        p.write_text(head + "1000\t4\t-10\t1\n" + row + "10\t6\t-50\t1\n")
        with pytest.raises(ReaderError, match=re.escape(str(p)) + ", " + pattern):
            read_all(p)


def test_gamry_row_without_indentation(corpus_dir: Path, tmp_path: Path) -> None:
    """A ZCURVE row that lost its leading tab used to end the table silently."""
    src = corpus_dir / "ECSHackWeek__impedance.py" / "data__exampleDataGamry.DTA"
    lines, enc = _lines(src)
    t = next(i for i, ln in enumerate(lines) if ln.startswith("ZCURVE\tTABLE"))
    lines[t + 10] = lines[t + 10].lstrip("\t")
    p = tmp_path / "gamry_unindented.DTA"
    _write(p, lines, enc)
    with pytest.raises(ReaderError, match=re.escape(f"{p}, line {t + 11}: ZCURVE row not")):
        read_all(p)


# ----------------------------------------------------------------------------- property test


@dataclass(frozen=True)
class Layout:
    """Where a file's column names are and how its names and rows are separated."""

    rel: str  # corpus path, or "project:<name>" for tests/data/io
    header: str | None  # a regex the column-name line matches (the first one); None: no names
    sep: str  # regex of the separator between names (and fields, unless row_sep)
    row_sep: str | None = None
    decimal_comma: bool = False


LAYOUTS = [
    Layout("ECSHackWeek__impedance.py/data__exampleDataBioLogic.mpt", r"^freq/Hz\t", r"\t"),
    Layout("m0l0t0ph__thesis/Experimentelles__Ausgewaehlte_Daten__LATP__PEIS__"
           "LATP_Korrosion_04_PEIS_C02.mpt", r"^freq/Hz\t", r"\t", decimal_comma=True),
    Layout("ECSHackWeek__impedance.py/data__exampleDataCHInstruments.txt", r"^Freq/Hz",
           r",\s*"),
    Layout("ECSHackWeek__impedance.py/data__exampleDataZPlot.z", r"Freq\(Hz\)\t", r"\t"),
    Layout("ECSHackWeek__impedance.py/data__exampleDataZPlot_noComments.z", r"Freq\(Hz\)",
           r"\s{2,}", row_sep=r",\s*"),
    Layout("ECSHackWeek__impedance.py/data__exampleDataAutolab.txt", r"Freq \(Hz\)", r"\s{2,}",
           row_sep=r","),  # a Z60W file
    Layout("ECSHackWeek__impedance.py/data__exampleDataGamry.DTA", r"^\tPt\tTime", r"\t"),
    Layout("vyrjana__pyimpspec/tests__drift-corrected-data.dta", r"^\tPt\tTime", r"\t",
           decimal_comma=True),
    Layout("Sheyigold__EISFitpython/EIS_Data__Example-2__Example2a.txt", r"Freq\.\[Hz\]",
           r"\t"),
    Layout("m0l0t0ph__thesis/Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__"
           "17.07.2015__LRC_0_  -1\xb0C.txt", r"^F\[Hz\]", r"\t+", decimal_comma=True),
    Layout("jdhuang-csm__hybrid-drt/tutorials__data__PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt",
           r"^Data: Frequency", r"\t"),
    Layout("jdhuang-csm__hybrid-drt/webinar__data__SSB__Sample2_PEIS_AtRest.csv", r"^time/s,",
           r","),
    Layout("ciuccislab__pyDRTtools/EIS data__text files__LIB_data.txt", None, r"\t"),
    Layout("Samuel-Buteau__EISFitting/DAHN_TXT_example.txt", r"^freq/Hz", r"\t"),
    Layout("ECSHackWeek__impedance.py/data__exampleDataParstat.txt", r"^Potential \(V\)", r"\t"),
    Layout("ECSHackWeek__impedance.py/data__exampleDataPowersuite.txt", r"^Frequency\t",
           r"\t"),
    Layout("ECSHackWeek__impedance.py/data__exampleDataVersaStudio.par", r"^Definition=",
           r",\s*"),
    Layout("project:nova2_semicolon_decimal_comma.txt", r"^Index;", r";", decimal_comma=True),
    Layout("project:pstrace5_eis.csv", r"^freq / Hz,", r","),
    Layout("project:ivium_export.txt", r"freq\. /Hz", r"\t"),
    Layout("project:zahner_thales_ascii.txt", r"^Number,", r","),
    Layout("project:zahner_bin2txt.txt", r"^LOGF\t", r"\t", decimal_comma=True),
]


def _source(layout: Layout, corpus: Path) -> Path:
    if layout.rel.startswith("project:"):
        return PROJECT_FILES / layout.rel.split(":", 1)[1]
    return corpus / layout.rel


def _parts(line: str, sep: str) -> list[str]:
    """``line`` split into fields and the separators between them (even indices: fields)."""
    return re.split(f"({sep})", line)


def _mutate(lines: list[str], layout: Layout, data: st.DataObject) -> tuple[list[str], str]:
    """One inconsistency between the column names and the rows."""
    out = list(lines)
    kinds = ["row loses a field", "row gains a field"]
    if layout.header is None:
        h = -1
    else:
        h = next(i for i, ln in enumerate(lines) if re.search(layout.header, ln))
        kinds += ["name removed", "name duplicated"]
    rows = [i for i in range(h + 1, len(lines)) if _ROW_START.match(lines[i])]
    kind = data.draw(st.sampled_from(kinds), label="kind")
    if kind.startswith("row"):
        i = data.draw(st.sampled_from(rows), label="row")
        line = i
    else:
        i = line = h
    body, end = _body(out[i])
    sep_re = (layout.row_sep or layout.sep) if kind.startswith("row") else layout.sep
    parts = _parts(body, sep_re)
    fields = [k for k in range(0, len(parts), 2) if parts[k].strip()]
    k = data.draw(st.sampled_from(fields), label="field")
    sep = parts[1] if len(parts) > 1 else "\t"
    if kind in ("row loses a field", "name removed"):
        # the field and the separator after it (before it, for the last field)
        if k + 1 < len(parts):
            del parts[k: k + 2]
        else:
            del parts[max(k - 1, 0): k + 1]
    elif kind == "name duplicated":
        parts[k + 1: k + 1] = [sep, parts[k]]
    else:
        value = "7,25" if layout.decimal_comma else "7.25"
        where = data.draw(st.sampled_from([k, k + 1]), label="before or after")
        if where == k:
            parts[k:k] = [value, sep]
        else:
            parts[k + 1: k + 1] = [sep, value]
    out[i] = "".join(parts) + end
    return out, f"{kind} on line {line + 1}"


def _same(a: list[Spectrum], b: list[Spectrum]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.frequency, y.frequency) and np.array_equal(x.z, y.z)
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: Path(lay.rel).name[-40:])
def test_inconsistent_header_and_rows_never_read_silently(
    layout: Layout, corpus_dir: Path
) -> None:
    """A random row loses or gains a field, or a column name is removed or written twice:
    reading the file (detected, and with the original's format forced) raises an EisfitError
    or gives exactly the original spectra."""
    src = _source(layout, corpus_dir)
    fmt = detect_format(src)
    original = read_all(src)
    lines, enc = _lines(src)

    @settings(max_examples=12, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        mutated, what = _mutate(lines, layout, data)
        folder = Path(tempfile.mkdtemp())
        try:
            p = folder / src.name
            _write(p, mutated, enc)
            for forced in (None, fmt):
                try:
                    got = read_all(p, format=forced)
                except EisfitError as exc:
                    assert "\n" not in str(exc), str(exc)
                    continue
                assert _same(got, original), (
                    f"{what}: read silently as {len(got)} spectra that differ from the "
                    f"original (format {forced or 'detected'})"
                )
        finally:
            shutil.rmtree(folder)

    check()
