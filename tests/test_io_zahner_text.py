"""Zahner Thales text exports: project-made files and the reader's conventions.

No file written by Zahner software could be found in public repositories, so the two committed
files imitate the layouts that public parsers of these exports expect (see the docstring of
``eisfit/io/zahner_text.py``) and hold a spectrum computed here, not read by eisfit: a solid
electrolyte pellet between blocking electrodes, R0 + (R1 || CPE1) + (R2 || CPE2) + CPE3, 1 MHz to
0.1 Hz at 10 points per decade (71 points): the model and frequencies of ``test_io_formats.py``
with the parameters ``P`` below. The writers below produced the committed files
(``python tests/test_io_zahner_text.py`` rewrites them) and a test checks that the committed
bytes are still what they give, so every expected value is the analytic impedance.

- ``zahner_thales_ascii.txt``: the polar table of a Thales "Save as ASCII" export:
  ``key: value`` header lines with dot padding (file name, time span, potential, current and
  amplitude), comma-separated ``Number,Frequency/Hz,Impedance/Ohm,Phase/deg,Significance,Time/s``,
  |Z| and the phase of Z in degrees (negative: capacitive), and five start-up points of the
  Thales sweep (1 kHz upwards, measured on a slightly drifted cell) before the main sweep from
  1 MHz down, which the reader must leave out.
- ``zahner_bin2txt.txt``: the logarithmic table of the Bin2Txt converter: ``Time   :``,
  ``Potential   :``, ``Current   :`` lines, then tab-separated ``LOGF LOGO LOGZm Phim Real Imag
  Phis LOGZs LOGZzhit`` with decimal commas, frequencies ascending from 0.1 Hz.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from test_io_formats import DATA, F, blocking_cell, phase_deg
from test_io_formats import check as check_truth

from eisfit.exceptions import ReaderError
from eisfit.io import detect_format, read, read_all

P = {
    "R0": 35.0,
    "R1": 1200.0,
    "Q1": 2e-10,
    "n1": 0.93,
    "R2": 3400.0,
    "Q2": 6e-8,
    "n2": 0.82,
    "Q3": 3e-6,
    "n3": 0.78,
}
Z = blocking_cell(F, truth=P)
START_F = F[30:25:-1]  # 1 kHz, 1.26 kHz ... 2.5 kHz: the start-up run before the main sweep


# ----------------------------------------------------------------------------- writers


def thales_ascii() -> bytes:
    lines = [
        r"File Name: C:\THALES\DATA\LLZO_PELLET_25C.ISM",
        "",
        "Time......: 10:02:13 - 10:31:40",
        "Potential.: 0.0000V",
        "Current...: 0.0000A, Ampl: 10.00mV",
        "",
        "Number,Frequency/Hz,Impedance/Ohm,Phase/deg,Significance,Time/s",
    ]
    f_all = np.concatenate([START_F, F])
    z_all = np.concatenate([blocking_cell(START_F, 1.01, P), Z])
    t = 0.0
    for k, (f, z) in enumerate(zip(f_all.tolist(), z_all.tolist(), strict=True)):
        t += max(0.5, 4.0 / f)
        sig = 0.999 if f > 0.3 else 0.42
        lines.append(f"{k + 1},{f:.6E},{abs(z):.6E},{phase_deg(z):.5f},{sig:.3f},{t:.2f}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _dc(x: float, fmt: str) -> str:
    return format(x, fmt).replace(".", ",")


def bin2txt() -> bytes:
    lines = [
        "Time        : 14:20:05 - 14:48:51",
        "Potential   : 0,1000V",
        "Current     : 2,5000E-08A",
        "",
        "LOGF\tLOGO\tLOGZm\tPhim\tReal\tImag\tPhis\tLOGZs\tLOGZzhit",
    ]
    for f, z in zip(F[::-1].tolist(), Z[::-1].tolist(), strict=True):
        lf, lo, lz = math.log10(f), math.log10(2 * math.pi * f), math.log10(abs(z))
        ph = phase_deg(z)
        cells = [
            _dc(lf, ".8f"),
            _dc(lo, ".8f"),
            _dc(lz, ".8f"),
            _dc(ph, ".5f"),
            _dc(z.real, ".7E"),
            _dc(z.imag, ".7E"),
            _dc(ph, ".5f"),
            _dc(lz, ".8f"),
            _dc(lz, ".8f"),
        ]
        lines.append("\t".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


WRITERS: dict[str, Callable[[], bytes]] = {
    "zahner_thales_ascii.txt": thales_ascii,
    "zahner_bin2txt.txt": bin2txt,
}


def check(s) -> None:
    """Point count, frequencies and impedances equal this module's truth to the printed digits."""
    check_truth(s, F, Z)


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_committed_file_is_what_the_writer_gives(name: str) -> None:
    assert (DATA / name).read_bytes() == WRITERS[name]()


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_detected_as_zahner_text(name: str) -> None:
    assert detect_format(DATA / name) == "zahner-text"


def test_thales_ascii_polar_table() -> None:
    s = read(DATA / "zahner_thales_ascii.txt")
    assert s.meta["format"] == "zahner-text"
    check(s)  # 71 points: the 5 start-up points are gone
    assert s.frequency[0] == pytest.approx(1e6) and s.frequency[-1] == pytest.approx(0.1)
    assert s.z[0] == pytest.approx(Z[0], rel=2e-6)
    assert s.z[-1] == pytest.approx(Z[-1], rel=2e-6)
    assert s.z[-1].imag < 0  # capacitive: negative phase gives Im(Z) < 0
    assert any("5 start-up points" in n for n in s.meta["notes"])
    assert s.meta["title"] == "LLZO_PELLET_25C.ISM"
    assert s.meta["start_time"] == "10:02:13" and s.meta["end_time"] == "10:31:40"
    assert s.meta["dc_potential"] == 0.0 and s.meta["dc_current"] == 0.0
    assert s.meta["amplitude"] == pytest.approx(0.01) and s.meta["amplitude_unit"] == "V"
    assert any("significance below 0.5" in n for n in s.meta["notes"])


def test_bin2txt_log_table() -> None:
    s = read(DATA / "zahner_bin2txt.txt")
    assert s.meta["format"] == "zahner-text"
    check(s)  # ascending file, high-to-low spectrum
    assert s.frequency[0] == pytest.approx(1e6, rel=1e-7)
    assert s.frequency[-1] == pytest.approx(0.1, rel=1e-7)
    assert s.z[-1].imag < 0
    assert "decimal comma" in s.meta["notes"]
    assert "assumptions" not in s.meta  # LOGO checks the base, Phim the sign of Imag
    assert s.meta["start_time"] == "14:20:05"
    assert s.meta["dc_potential"] == pytest.approx(0.1)
    assert s.meta["dc_current"] == pytest.approx(2.5e-8)


def test_bin2txt_imag_holding_minus_im(tmp_path: Path) -> None:
    # Imag of opposite sign to Phim: the low-frequency end decides, and says so
    raw = bin2txt().decode().splitlines()
    head, rows = raw[:5], raw[5:]
    out = []
    for r in rows:
        c = r.split("\t")
        c[5] = c[5][1:] if c[5].startswith("-") else "-" + c[5]
        out.append("\t".join(c))
    p = tmp_path / "b2t_minus.txt"
    p.write_text("\n".join(head + out) + "\n")
    s = read(p)
    check(s)
    assert any("differ in sign" in a for a in s.meta["assumptions"])


def test_bin2txt_without_logo_assumes_decadic(tmp_path: Path) -> None:
    raw = bin2txt().decode().splitlines()
    keep = [0, 2, 3, 4, 5]  # LOGF, LOGZm, Phim, Real, Imag: no LOGO
    lines = raw[:4] + [
        "\t".join(x for i, x in enumerate(ln.split("\t")) if i in keep) for ln in raw[4:]
    ]
    p = tmp_path / "b2t_nologo.txt"
    p.write_text("\n".join(lines) + "\n")
    s = read(p)
    check(s)
    assert any("decadic" in a for a in s.meta["assumptions"])


def test_bin2txt_logo_inconsistent(tmp_path: Path) -> None:
    raw = bin2txt().decode().splitlines()
    lines = raw[:5]
    for ln in raw[5:]:
        c = ln.split("\t")
        c[1] = c[0]  # LOGO equal to LOGF: not log(2πf)
        lines.append("\t".join(c))
    p = tmp_path / "b2t_badlogo.txt"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReaderError, match=r"b2t_badlogo\.txt, line 6: LOGO - LOGF"):
        read(p)


def test_bracket_names_tab_decimal_comma(tmp_path: Path) -> None:
    # the evaluation software's spelling, tab separated, European decimal mark, ascending
    lines = [
        "File Name: D:/data/cell 3.ism",
        "Potential: 0,0000V",
        "frequency (Hz)\timpedance (Ω)\tphase / deg (°)\tsignificance",
    ]
    lines += [
        f"{f:.6E}\t{abs(z):.6E}\t{phase_deg(z):.5f}\t1".replace(".", ",")
        for f, z in zip(F[::-1].tolist(), Z[::-1].tolist(), strict=True)
    ]
    p = tmp_path / "za.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert detect_format(p) == "zahner-text"
    s = read(p)
    check(s)
    assert s.meta["title"] == "cell 3.ism"


def test_whitespace_table_lowercase_impedance(tmp_path: Path) -> None:
    lines = [
        "File Name: x.ism",
        "Potential: 0.000V",
        "Current: 0.000A, Ampl: 5mV",
        "Number   Frequency/Hz   impedance/Ohm   Phase/deg   Significance",
    ]
    lines += [
        f"{k + 1}   {f:.6E}   {abs(z):.6E}   {phase_deg(z):.5f}   0.999"
        for k, (f, z) in enumerate(zip(F.tolist(), Z.tolist(), strict=True))
    ]
    p = tmp_path / "ws.txt"
    p.write_text("\n".join(lines) + "\n")
    s = read(p)
    check(s)
    assert s.meta["amplitude"] == pytest.approx(0.005)


def test_plain_polar_table_stays_generic(tmp_path: Path) -> None:
    # the three names without any Zahner mark are an ordinary table, not claimed
    lines = ["Frequency/Hz,Impedance/Ohm,Phase/deg"]
    lines += [f"{f:.6E},{abs(z):.6E},{phase_deg(z):.5f}" for f, z in zip(F, Z, strict=True)]
    p = tmp_path / "plain.csv"
    p.write_text("\n".join(lines) + "\n")
    assert detect_format(p) == "generic"


def test_number_restarting_is_refused(tmp_path: Path) -> None:
    raw = thales_ascii().decode().splitlines()
    body = raw[7:]
    p = tmp_path / "two_sweeps.txt"
    p.write_text("\n".join(raw + body) + "\n")
    with pytest.raises(ReaderError, match=r"two_sweeps\.txt, line \d+: column 'Number'"):
        read_all(p)


def test_names_without_rows(tmp_path: Path) -> None:
    p = tmp_path / "empty.txt"
    p.write_text(thales_ascii().decode().split("\r\n1,")[0] + "\r\n")
    with pytest.raises(ReaderError, match=r"empty\.txt, line 7: no data rows"):
        read(p)


if __name__ == "__main__":  # rewrite the committed files
    DATA.mkdir(parents=True, exist_ok=True)
    for name, writer in WRITERS.items():
        (DATA / name).write_bytes(writer())
        print("wrote", DATA / name)
