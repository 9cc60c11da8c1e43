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


def _non_numeric_mpt() -> str:
    rows = _good_rows()
    rows[3] = rows[3].replace(rows[3].split("\t")[1], "n/a")
    return "EC-Lab ASCII FILE\nNb header lines : 3\n" + _table(
        "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", rows
    )


def _cut_in_last_row() -> str:
    text = _table("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", _good_rows())
    return text[: text.rindex("\t")]  # cut inside the last row, no line end


def _negative_frequency() -> str:
    rows = _good_rows()
    rows[2] = "-" + rows[2]
    return _table("freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", rows)


# (file name, content: text or bytes, what read() must raise: file name and line or byte first)
BAD_FILES: list[tuple[str, str | bytes, str]] = [
    ("empty.mpt", b"", r"empty\.mpt, byte 0: file is empty"),
    ("blank.csv", "\n\n  \n", r"blank\.csv, line 1: file is empty"),
    ("garbage.txt", bytes(range(256)) * 4, r"garbage\.txt"),
    ("notes.mpr", "this is a lab note, not a data file\n",
     r"notes\.mpr, byte 0: expected a BioLogic \.mpr"),
    ("short.mpt", "EC-Lab ASCII FILE\nNb header lines : 70\n\nPEIS\n",
     r"short\.mpt, line 4: header says 70 lines"),
    ("nocount.mpt", "EC-Lab ASCII FILE\nsomething else\n",
     r"nocount\.mpt, line 2: expected 'Nb header lines"),
    ("bad.mpt", _non_numeric_mpt(),
     r"bad\.mpt, line 7: column 'Re\(Z\)/Ohm' .*expected a number, found 'n/a'"),
    ("cut.txt", _cut_in_last_row(), r"cut\.txt, line 12: .*truncated"),
    ("cv.csv", _table("time/s,Ewe/V,I/mA", ["0.1,0.5,1.0", "0.2,0.6,1.1", "0.3,0.7,1.2"]),
     r"cv\.csv, line 1: column names .* not understood"),
    ("f.mpt", "EC-Lab ASCII FILE\nNb header lines : 3\nfreq/Hz\ttime/s\n1\t2\n3\t4\n",
     r"f\.mpt: no impedance columns"),
    (
        "neg.txt",
        _negative_frequency(),
        r"neg\.txt, line 4: column .freq/Hz. \(field 1\): found .-10000\.0., a negative frequency",
    ),
    ("cv.DTA", "EXPLAIN\nTAG\tCV\nCURVE\tTABLE\n\tPt\tT\n\t#\ts\n\t0\t1\n",
     r"cv\.DTA: no 'ZCURVE<tab>TABLE'"),
    ("g.DTA",
     "EXPLAIN\nTAG\tEISPOT\nZCURVE\tTABLE\n\tPt\tTime\tFreq\tZreal\tZimag\n"
     "\t#\ts\tHz\tohm\tohm\n\t0\t1\t1000\t5\t-1\n\t1\t2\tabc\t5\t-1\n",
     r"g\.DTA, line 7: ZCURVE column 'Freq'"),
    ("s.pssession",
     b"\xff\xfe" + '{"Type":"PalmSens.DataFiles.SessionFile","Measure'.encode("utf-16-le"),
     r"s\.pssession, line 1: not valid JSON"),
    ("z.ism", b"\x00\x00\xff\xff\xff\xfe" + (74).to_bytes(6, "big") + b"\x40" * 100,
     r"z\.ism, byte 112: 75 samples need"),
]


@pytest.mark.parametrize(("name", "content", "match"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file(tmp_path: Path, name: str, content: str | bytes, match: str) -> None:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    with pytest.raises(ReaderError, match=match) as e:
        read(p)
    _one_line(e.value)


def test_binary_garbage_forced_as_text(tmp_path: Path) -> None:
    p = tmp_path / "garbage.txt"
    p.write_bytes(b"freq/Hz\tRe(Z)/Ohm\n\x00\x01\x02\x03binary")
    with pytest.raises(ReaderError, match=r"garbage\.txt, byte \d+: binary content"):
        read(p, format="generic")


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
