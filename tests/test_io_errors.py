"""Bad input gives a one-line ReaderError naming the file and the line or byte."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from eisfit.exceptions import ReaderError, UnsupportedFormatError
from eisfit.io import read, read_all

F = np.logspace(5, 0, 11)
Z = 5 + 100 / (1 + 1j * F / 1e3)


def _table(names: str, rows: list[str]) -> str:
    return "\n".join([names, *rows]) + "\n"


def _good_rows() -> list[str]:
    return [f"{f!r}\t{z.real!r}\t{-z.imag!r}" for f, z in zip(F.tolist(), Z.tolist(), strict=True)]


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.mpt"
    p.write_bytes(b"")
    with pytest.raises(ReaderError, match=r"empty\.mpt, byte 0: file is empty") as e:
        read(p)
    _one_line(e.value)


def test_blank_text_file(tmp_path: Path) -> None:
    p = tmp_path / "blank.csv"
    p.write_text("\n\n  \n")
    with pytest.raises(ReaderError, match=r"blank\.csv, line 1: file is empty"):
        read(p)


def test_binary_garbage_with_text_extension(tmp_path: Path) -> None:
    p = tmp_path / "garbage.txt"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ReaderError, match=r"garbage\.txt") as e:
        read(p)
    _one_line(e.value)


def test_binary_garbage_forced_as_text(tmp_path: Path) -> None:
    p = tmp_path / "garbage.txt"
    p.write_bytes(b"freq/Hz\tRe(Z)/Ohm\n\x00\x01\x02\x03binary")
    with pytest.raises(ReaderError, match=r"garbage\.txt, byte \d+: binary content"):
        read(p, format="generic")


def test_text_renamed_mpr(tmp_path: Path) -> None:
    p = tmp_path / "notes.mpr"
    p.write_text("this is a lab note, not a data file\n")
    with pytest.raises(ReaderError, match=r"notes\.mpr, byte 0: expected a BioLogic \.mpr"):
        read(p)


def test_mpr_without_galvani(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "x.mpr"
    p.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "galvani", None)
    with pytest.raises(UnsupportedFormatError, match=r"eisfit\[mpr\]"):
        read(p)


def test_damaged_mpr(tmp_path: Path) -> None:
    pytest.importorskip("galvani")
    p = tmp_path / "damaged.mpr"
    p.write_bytes(b"BIO-LOGIC MODULAR FILE\x1a" + b"\xff" * 300)
    with pytest.raises(ReaderError, match=r"damaged\.mpr"):
        read(p)


def test_mpt_header_count_beyond_end(tmp_path: Path) -> None:
    p = tmp_path / "short.mpt"
    p.write_text("EC-Lab ASCII FILE\nNb header lines : 70\n\nPEIS\n")
    with pytest.raises(ReaderError, match=r"short\.mpt, line 4: header says 70 lines"):
        read(p)


def test_mpt_missing_count_line(tmp_path: Path) -> None:
    p = tmp_path / "nocount.mpt"
    p.write_text("EC-Lab ASCII FILE\nsomething else\n")
    with pytest.raises(ReaderError, match=r"nocount\.mpt, line 2: expected 'Nb header lines"):
        read(p)


def test_mpt_non_numeric_cell(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[3] = rows[3].replace(rows[3].split("\t")[1], "n/a")
    text = "EC-Lab ASCII FILE\nNb header lines : 3\n" + _table(
        "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", rows
    )
    p = tmp_path / "bad.mpt"
    p.write_text(text)
    with pytest.raises(
        ReaderError,
        match=r"bad\.mpt, line 7: column 'Re\(Z\)/Ohm' .*expected a number, found 'n/a'",
    ):
        read(p)


def test_truncated_last_row(tmp_path: Path) -> None:
    rows = _good_rows()
    text = _table("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", rows)
    p = tmp_path / "cut.txt"
    p.write_text(text[: text.rindex("\t")])  # cut inside the last row, no line end
    with pytest.raises(ReaderError, match=r"cut\.txt, line 12: .*truncated"):
        read(p)


def test_missing_impedance_columns(tmp_path: Path) -> None:
    p = tmp_path / "cv.csv"
    p.write_text(_table("time/s,Ewe/V,I/mA", ["0.1,0.5,1.0", "0.2,0.6,1.1", "0.3,0.7,1.2"]))
    with pytest.raises(ReaderError, match=r"cv\.csv, line 1: column names .* not understood"):
        read(p)


def test_frequency_without_impedance(tmp_path: Path) -> None:
    p = tmp_path / "f.mpt"
    p.write_text("EC-Lab ASCII FILE\nNb header lines : 3\nfreq/Hz\ttime/s\n1\t2\n3\t4\n")
    with pytest.raises(ReaderError, match=r"f\.mpt: no impedance columns"):
        read(p)


def test_negative_frequency_names_line(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[2] = "-" + rows[2]
    p = tmp_path / "neg.txt"
    p.write_text(_table("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", rows))
    with pytest.raises(ReaderError, match=r"neg\.txt, line 4: point 2"):
        read(p)


def test_gamry_without_zcurve(tmp_path: Path) -> None:
    p = tmp_path / "cv.DTA"
    p.write_text("EXPLAIN\nTAG\tCV\nCURVE\tTABLE\n\tPt\tT\n\t#\ts\n\t0\t1\n")
    with pytest.raises(ReaderError, match=r"cv\.DTA: no 'ZCURVE<tab>TABLE'"):
        read(p)


def test_gamry_non_numeric(tmp_path: Path) -> None:
    p = tmp_path / "g.DTA"
    p.write_text(
        "EXPLAIN\nTAG\tEISPOT\nZCURVE\tTABLE\n\tPt\tTime\tFreq\tZreal\tZimag\n"
        "\t#\ts\tHz\tohm\tohm\n\t0\t1\t1000\t5\t-1\n\t1\t2\tabc\t5\t-1\n"
    )
    with pytest.raises(ReaderError, match=r"g\.DTA, line 7: ZCURVE column 'Freq'"):
        read(p)


def test_pssession_truncated(tmp_path: Path) -> None:
    p = tmp_path / "s.pssession"
    head = '{"Type":"PalmSens.DataFiles.SessionFile","Measure'
    p.write_bytes(b"\xff\xfe" + head.encode("utf-16-le"))
    with pytest.raises(ReaderError, match=r"s\.pssession, line 1: not valid JSON"):
        read(p)


def test_zahner_truncated(tmp_path: Path) -> None:
    p = tmp_path / "z.ism"
    p.write_bytes(b"\x00\x00\xff\xff\xff\xfe" + (74).to_bytes(6, "big") + b"\x40" * 100)
    with pytest.raises(ReaderError, match=r"z\.ism, byte 112: 75 samples need"):
        read(p)


def test_unknown_format_name(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text(_table("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", _good_rows()))
    with pytest.raises(UnsupportedFormatError, match="format 'nope' is not known"):
        read(p, format="nope")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such file"):
        read(tmp_path / "absent.mpt")
    with pytest.raises(ReaderError, match="is a folder"):
        read(tmp_path)


def test_unrecognised_binary(tmp_path: Path) -> None:
    p = tmp_path / "blob.bin"
    p.write_bytes(b"\x00\x01\x02\x03" * 100)
    with pytest.raises(
        UnsupportedFormatError,
        match=r"blob\.bin, byte 0: format not recognised: binary content \(byte 0x00\)",
    ):
        read_all(p)


def test_spectrum_index_must_be_int(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text(_table("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", _good_rows()))
    with pytest.raises(ReaderError, match="integer"):
        read(p, spectrum="0")  # type: ignore[arg-type]


def test_unrecognised_text_names_line_one(tmp_path: Path) -> None:
    p = tmp_path / "letter.dat"
    p.write_text("Dear colleague,\nplease find the data attached.\n")
    with pytest.raises(ReaderError, match=r"letter\.dat, line 1: "):
        read_all(p)
