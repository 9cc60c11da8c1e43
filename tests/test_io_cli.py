"""``eisfit read`` and ``eisfit fit`` on bad files: one line on stderr, exit code 2.

Every case runs the command in-process (``eisfit.cli.main.main``) and checks what a user sees: exit
code 2, nothing on stdout, exactly one stderr line ``eisfit: error: <file>, line N: ...`` (or
``byte N``) that names what was expected, and no traceback. The good-file cases check that the
summary reports the truth the file was written from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from eisfit.cli.main import main

F = np.logspace(5, -1, 25)
Z = 3 + 300 / (1 + 1j * F / 1e2)
ROWS = [f"{f:.7E}\t{z.real:.7E}\t{-z.imag:.7E}"
        for f, z in zip(F.tolist(), Z.tolist(), strict=True)]
MPT_HEAD = "EC-Lab ASCII FILE\r\nNb header lines : 4\r\n\r\nfreq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\r\n"


def _mpt() -> str:
    return MPT_HEAD + "\r\n".join(ROWS) + "\r\n"


def _truncated_mid_row(p: Path) -> None:
    text = _mpt()
    p.write_text(text[: text.rindex("\t") - 3], encoding="latin-1")


def _binary_txt(p: Path) -> None:
    p.write_bytes(bytes(range(256)) * 8)


def _binary_after_header(p: Path) -> None:
    p.write_bytes(b"freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\n1\t2\t3\n\x00\x9f\x12\xff\x00garbage")


def _text_as_mpr(p: Path) -> None:
    p.write_text("Sample 7, pressed at 300 MPa, sintered 12 h\n")


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _blank(p: Path) -> None:
    p.write_text("\n \n\t\n")


def _missing_columns(p: Path) -> None:
    p.write_text("time/s,Ewe/V,I/mA\n0.1,0.5,1.0\n0.2,0.6,1.1\n0.3,0.7,1.2\n")


def _frequency_only(p: Path) -> None:
    p.write_text("freq/Hz,Re(Z)/Ohm\n" + "".join(f"{f!r},{z.real!r}\n" for f, z in
                                                    zip(F.tolist(), Z.tolist(), strict=True)))


def _non_numeric(p: Path) -> None:
    rows = list(ROWS)
    rows[5] = rows[5].split("\t")[0] + "\tovl\t" + rows[5].split("\t")[2]
    p.write_text(MPT_HEAD + "\r\n".join(rows) + "\r\n", encoding="latin-1")


def _short_row(p: Path) -> None:
    rows = list(ROWS)
    rows[8] = "\t".join(rows[8].split("\t")[:2])
    p.write_text(MPT_HEAD + "\r\n".join(rows) + "\r\n", encoding="latin-1")


def _header_beyond_end(p: Path) -> None:
    p.write_text("EC-Lab ASCII FILE\nNb header lines : 70\n\nPEIS\n")


def _truncated_pssession(p: Path) -> None:
    doc = '{"Type":"PalmSens.DataFiles.SessionFile","CoreVersion":"5.9","Measurements":[{"Title"'
    p.write_bytes(b"\xff\xfe" + doc.encode("utf-16-le"))


def _truncated_dta(p: Path) -> None:
    lines = ["EXPLAIN", "TAG\tEISPOT", "ZCURVE\tTABLE",
             "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz",
             "\t#\ts\tHz\tohm\tohm\tV\tohm\t°"]
    lines += [f"\t{k}\t{k}\t{f!r}\t{z.real!r}\t{z.imag!r}\t1\t{abs(z)!r}\t0"
              for k, (f, z) in enumerate(zip(F.tolist(), Z.tolist(), strict=True))]
    text = "\r\n".join(lines)
    p.write_bytes(text[: len(text) - 25].encode("latin-1"))


def _truncated_ism(p: Path) -> None:
    p.write_bytes(b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x3a" + b"\x40" * 40)


# (file name, writer, what the message must say after "<name>, line N: " / "byte N: ")
CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("cut.mpt", _truncated_mid_row, "line", r"truncated"),
    ("garbage.txt", _binary_txt, "byte", r"binary content"),
    ("mixed.csv", _binary_after_header, "byte", r"binary content"),
    ("notes.mpr", _text_as_mpr, "byte", r"expected a BioLogic \.mpr"),
    ("empty.mpt", _empty, "byte", r"file is empty"),
    ("empty.csv", _empty, "byte", r"file is empty"),
    ("blank.txt", _blank, "line", r"file is empty"),
    ("cv.csv", _missing_columns, "line", r"not understood: expected a frequency column"),
    ("half.csv", _frequency_only, "line", r"expected"),
    ("ovl.mpt", _non_numeric, "line", r"expected a number, found 'ovl'"),
    ("short.mpt", _short_row, "line", r"expected at least 3 fields"),
    ("header.mpt", _header_beyond_end, "line", r"header says 70 lines"),
    ("cut.pssession", _truncated_pssession, "line", r"not valid JSON"),
    ("cut.DTA", _truncated_dta, "line", r"truncated"),
    ("cut.ism", _truncated_ism, "byte", r"expected|truncated"),
]


def _one_error_line(capsys: pytest.CaptureFixture[str], name: str, where: str, what: str) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("eisfit: error: ")
    assert re.search(rf"{re.escape(name)}, {where} \d+: ", line), line
    assert re.search(what, line), line
    return line


@pytest.mark.parametrize("command", ["read", "fit"])
@pytest.mark.parametrize(("name", "write", "where", "what"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, name: str,
                  write: Callable[[Path], None], where: str, what: str) -> None:
    p = tmp_path / name
    write(p)
    assert main([command, str(p)]) == 2
    _one_error_line(capsys, name, where, what)


def test_read_error_names_the_line_of_the_bad_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "ovl.mpt"
    _non_numeric(p)
    assert main(["read", str(p)]) == 2
    # 4 header lines, the bad cell is in data row 6
    _one_error_line(capsys, "ovl.mpt", "line", r"^eisfit: error: .*ovl\.mpt, line 10: column "
                                                r"'Re\(Z\)/Ohm' \(field 2\)")


def test_forced_format_on_wrong_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "table.csv"
    p.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1000,1,2\n100,2,3\n")
    assert main(["read", str(p), "--format", "gamry-dta"]) == 2
    _, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and "table.csv" in err and "Traceback" not in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(tmp_path / "nope.mpt")]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"eisfit: error: {tmp_path / 'nope.mpt'}: no such file"


def test_read_good_file_reports_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "good.mpt"
    p.write_text(_mpt(), encoding="latin-1")
    assert main(["read", str(p)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "biologic-mpt" in out
    assert "25 points" in out
    assert re.search(r"0\.1 Hz", out) and re.search(r"100 kHz|1e\+05 Hz|100000 Hz", out), out
