"""A plain numeric table is read at once (``_plain_table``), with the same values as the
line-by-line reading, which still reads and reports everything else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eisfit.io._text as text
from eisfit.exceptions import ReaderError
from eisfit.io import read_all

DATA = Path(__file__).resolve().parents[1] / "data"


def _arrays(path: Path) -> list[tuple[np.ndarray, np.ndarray]] | str:
    try:
        return [(s.frequency.copy(), s.z.copy()) for s in read_all(path)]
    except ReaderError as exc:
        return str(exc)


def test_every_bundled_and_corpus_file_reads_the_same_both_ways(corpus_dir, monkeypatch):
    files = sorted(DATA.rglob("*.csv")) + sorted(
        p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() != ".md"
    )
    quick = {"tables": 0}
    real = text._plain_table

    def counted(*args, **kwargs):
        out = real(*args, **kwargs)
        quick["tables"] += out is not None
        return out

    for path in files:
        monkeypatch.setattr(text, "_plain_table", counted)
        at_once = _arrays(path)
        monkeypatch.setattr(text, "_plain_table", lambda *a, **k: None)
        by_line = _arrays(path)
        if isinstance(by_line, str):
            assert at_once == by_line, path
            continue
        assert len(at_once) == len(by_line), path
        for (f1, z1), (f2, z2) in zip(at_once, by_line, strict=True):
            assert np.array_equal(f1, f2) and np.array_equal(z1, z2, equal_nan=True), path
    assert quick["tables"] >= 20  # the plain tables of the corpus and the bundled data


@pytest.mark.parametrize("cell", ["inf", "nan", "1_000", "0x10", "1e", "--1", '"5"', "١", "-5"])
def test_cells_float_reads_but_a_table_may_not_hold_go_the_line_by_line_way(
    tmp_path, monkeypatch, cell
):
    """``float`` takes ``inf``, ``1_000`` or other digits; the table's rules do not: such a
    file is read (or refused) exactly as the line-by-line reading does it."""
    path = tmp_path / "odd.csv"
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1000,10,5\n100,7,7\n10," + cell
                    + ",9\n1,40,12\n", encoding="utf-8")
    at_once = _arrays(path)
    monkeypatch.setattr(text, "_plain_table", lambda *a, **k: None)
    by_line = _arrays(path)
    if isinstance(by_line, str):
        assert at_once == by_line
    else:
        assert all(np.array_equal(a[1], b[1], equal_nan=True)
                   for a, b in zip(at_once, by_line, strict=True))


def test_a_plain_table_gives_its_rows_line_numbers(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n\n1000,10,5\n100,20,7\n\n10,30,9\n",
                    encoding="utf-8")
    tf = text.TextFile(path, "utf-8", path.read_text().splitlines(), True)
    names = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"]
    idx = {n: i for i, n in enumerate(names)}
    cols, lines, end = text._plain_table(tf, 1, None, names, names, (), idx, ",", False)
    assert list(lines) == [3, 4, 6] and end == 6
    assert list(cols["Re(Z)/Ohm"]) == [10.0, 20.0, 30.0]


@pytest.mark.parametrize("cell", ["inf", "1_000", "0x10", "١", '"5"'])
def test_a_table_with_such_a_cell_is_not_read_at_once(tmp_path, cell):
    path = tmp_path / "odd.csv"
    lines = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm", "1000,10,5", f"100,{cell},7", "10,30,9"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tf = text.TextFile(path, "utf-8", lines, True)
    names = lines[0].split(",")
    idx = {n: i for i, n in enumerate(names)}
    assert text._plain_table(tf, 1, None, names, names, (), idx, ",", False) is None
