"""Project-made instrument files for formats the corpus has no real file of.

The files in ``tests/data/io/`` imitate what the instruments write (layout, column names,
separators, decimal marks, encodings, line ends, as documented by the vendors' exports seen in
public code) but hold a spectrum computed here from known parameters: a blocking cell
R0 + (R1 || CPE1) + (R2 || CPE2) + CPE3, 1 MHz to 0.1 Hz, 10 points per decade. The writers
below produced the committed files (``python tests/test_io_formats.py`` rewrites them) and a
test checks that the committed bytes are still what the writers give, so the truth each file is
compared with is the analytic impedance, not something eisfit read.

Formats and the quirks each file carries:

- Metrohm Autolab NOVA 2 ASCII export (``nova2_semicolon_decimal_comma.txt``): UTF-8 with
  ``Ω``/``°`` in the names, ``;`` separators, decimal commas (European install), CRLF, an
  ``Index`` and a ``Time (s)`` column, ``-Z''`` holding -Im(Z), ``-Phase``.
- PalmSens PSTrace 5 CSV (``pstrace5_eis.csv``): UTF-16LE with BOM, CRLF, ``Date and time
  measurement:`` header, ``neg. Phase / °`` and ``-Z'' / Ohm`` columns, extra ``Idc``/``Cs``.
- PalmSens MultiTrace CSV (``multitrace_two_channels.csv``): UTF-16LE, one block per channel
  (``CH 1: Fixed at 71 freqs``), the imaginary column named ``Z'' / Ohm`` although it holds
  -Im(Z) (its sign must come from ``neg. Phase``).
- Ivium IviumSoft text export (``ivium_export.txt``): tab separated ``freq. /Hz``, ``Z1 /ohm``,
  ``Z2 /ohm`` (Z2 = Im(Z), negative for capacitive), E notation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from eisfit.exceptions import ReaderError
from eisfit.io import detect_format, read, read_all

DATA = Path(__file__).resolve().parent / "data" / "io"

F = np.logspace(6, -1, 71)
TRUTH = {"R0": 12.0, "R1": 850.0, "Q1": 3e-10, "n1": 0.92, "R2": 2300.0, "Q2": 4e-8,
         "n2": 0.85, "Q3": 2e-6, "n3": 0.8}


def blocking_cell(
    f: np.ndarray, scale: float = 1.0, truth: dict[str, float] = TRUTH
) -> np.ndarray:
    """Analytic impedance (Ohm) of the blocking cell with the parameters ``truth``; ``scale``
    multiplies R1 and R2."""
    p = truth
    jw = 1j * 2 * np.pi * f
    arc1 = p["R1"] * scale / (1 + p["R1"] * scale * p["Q1"] * jw ** p["n1"])
    arc2 = p["R2"] * scale / (1 + p["R2"] * scale * p["Q2"] * jw ** p["n2"])
    return p["R0"] + arc1 + arc2 + 1 / (p["Q3"] * jw ** p["n3"])


Z = blocking_cell(F)


def _g(x: float, digits: int = 7, comma: bool = False) -> str:
    s = f"{x:.{digits}G}"
    return s.replace(".", ",") if comma else s


def phase_deg(z: complex) -> float:
    return math.degrees(math.atan2(z.imag, z.real))


# ----------------------------------------------------------------------------- writers


def nova2() -> bytes:
    lines = ["Index;Frequency (Hz);Z' (Ω);-Z'' (Ω);Z (Ω);-Phase (°);Time (s)"]
    t = 0.0
    for k, (f, z) in enumerate(zip(F.tolist(), Z.tolist(), strict=True)):
        t += max(0.05, 3.0 / f)
        cells = [str(k + 1), _g(f), _g(z.real), _g(-z.imag), _g(abs(z)), _g(-phase_deg(z)),
                 _g(t)]
        lines.append(";".join(c.replace(".", ",") for c in cells))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _pstrace_rows(f: np.ndarray, z: np.ndarray) -> list[str]:
    rows = []
    for fi, zi in zip(f.tolist(), z.tolist(), strict=True):
        cs = -1 / (2 * np.pi * fi * zi.imag)
        rows.append(",".join([_g(fi), _g(-phase_deg(zi)), "0.0012", _g(abs(zi)),
                              _g(zi.real), _g(-zi.imag), f"{cs:.4E}"]))
    return rows


def pstrace5() -> bytes:
    lines = ["Date and time measurement:,2024-03-12 14:05:31", "Impedance Spectroscopy",
             "freq / Hz,neg. Phase / °,Idc / uA,Z / Ohm,Z' / Ohm,-Z'' / Ohm,Cs / F"]
    lines += _pstrace_rows(F, Z)
    return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")


def multitrace() -> bytes:
    lines = ["Date and time:,2024-03-12 15:20:02", "Notes:", "Measurement:,Impedance Spectroscopy",
             "Notes:,", "Date and time:,2024-03-12 15:20:02"]
    for ch, scale in ((1, 1.0), (2, 1.5)):
        lines.append(f"CH {ch}: Fixed at {F.size} freqs")
        lines.append("freq / Hz,neg. Phase / °,Idc / uA,Z / Ohm,Z' / Ohm,Z'' / Ohm,Cs / F")
        lines += _pstrace_rows(F, blocking_cell(F, scale))
        lines.append("")
    return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")


def ivium() -> bytes:
    lines = ["freq. /Hz\tZ1 /ohm\tZ2 /ohm"]
    lines += [f"{f:.6E}\t{z.real:.6E}\t{z.imag:.6E}"
              for f, z in zip(F.tolist(), Z.tolist(), strict=True)]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


WRITERS: dict[str, Callable[[], bytes]] = {
    "nova2_semicolon_decimal_comma.txt": nova2,
    "pstrace5_eis.csv": pstrace5,
    "multitrace_two_channels.csv": multitrace,
    "ivium_export.txt": ivium,
}
FORMAT = {
    "nova2_semicolon_decimal_comma.txt": "autolab",
    "pstrace5_eis.csv": "palmsens-csv",
    "multitrace_two_channels.csv": "palmsens-csv",
    "ivium_export.txt": "ivium-text",
}


def check(s, f: np.ndarray = F, z: np.ndarray = Z, rtol: float = 2e-6) -> None:
    """Point count, frequencies and impedances equal the analytic truth to the printed digits."""
    assert len(s) == f.size
    assert np.allclose(s.frequency, f, rtol=rtol, atol=0)
    assert np.allclose(s.z.real, z.real, rtol=rtol, atol=0)
    assert np.allclose(s.z.imag, z.imag, rtol=rtol, atol=0)


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_committed_file_is_what_the_writer_gives(name: str) -> None:
    assert (DATA / name).read_bytes() == WRITERS[name]()


@pytest.mark.parametrize("name", sorted(FORMAT))
def test_detected_format(name: str) -> None:
    assert detect_format(DATA / name) == FORMAT[name]


def test_nova2_semicolon_decimal_comma() -> None:
    s = read(DATA / "nova2_semicolon_decimal_comma.txt")
    assert s.meta["format"] == "autolab"
    assert "decimal comma" in s.meta["notes"]
    check(s)


def test_pstrace5_csv() -> None:
    s = read(DATA / "pstrace5_eis.csv")
    assert s.meta["format"] == "palmsens-csv"
    assert s.meta["start_time"] == "2024-03-12 14:05:31"
    assert "assumptions" not in s.meta  # '-Z''' says its sign
    check(s)


def test_multitrace_channels_and_unsigned_z2() -> None:
    spectra = read_all(DATA / "multitrace_two_channels.csv")
    assert [s.meta["channel"] for s in spectra] == ["CH 1", "CH 2"]
    check(spectra[0])
    check(spectra[1], z=blocking_cell(F, 1.5))
    assert any("holds -Im(Z)" in a for a in spectra[0].meta["assumptions"])
    with pytest.raises(ReaderError, match="holds 2 spectra"):
        read(DATA / "multitrace_two_channels.csv")


def test_ivium_text_export() -> None:
    s = read(DATA / "ivium_export.txt")
    assert s.meta["format"] == "ivium-text"
    assert any("Z2 as Im(Z)" in n for n in s.meta["notes"])
    check(s)


def test_ivium_text_decimal_comma_other_column_order(tmp_path: Path) -> None:
    # a European install: decimal commas, and the columns in the data file's order
    lines = ["Z1 /ohm\tZ2 /ohm\tfreq. /Hz\tE /V"]
    lines += [f"{z.real:.6E}\t{z.imag:.6E}\t{f:.6E}\t0".replace(".", ",")
              for f, z in zip(F[::-1].tolist(), Z[::-1].tolist(), strict=True)]
    p = tmp_path / "ivium_de.txt"
    p.write_text("\n".join(lines) + "\n", encoding="latin-1")
    s = read(p)
    assert s.meta["format"] == "ivium-text"
    check(s)  # ascending file, high-to-low spectrum


def test_ivium_text_truncated_names_line(tmp_path: Path) -> None:
    raw = ivium().decode()
    p = tmp_path / "ivium_cut.txt"
    p.write_text(raw[: raw.index("\r\n", 200) + 2] + "1.000000E+03\t8.5")
    with pytest.raises(ReaderError, match=r"ivium_cut\.txt, line \d+: .*(truncated|fields)"):
        read(p)


def test_multitrace_channel_without_rows(tmp_path: Path) -> None:
    text = ("Date and time:,2024-03-12 15:20:02\r\nCH 1: Fixed at 3 freqs\r\n"
            "freq / Hz,neg. Phase / °,Idc / uA,Z / Ohm,Z' / Ohm,Z'' / Ohm,Cs / F\r\n"
            "CH 2: Fixed at 3 freqs\r\n")
    p = tmp_path / "empty_channel.csv"
    p.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    with pytest.raises(ReaderError, match=r"empty_channel\.csv, line 4: expected rows"):
        read_all(p)


def test_pstrace_z2_sign_follows_phase_when_names_say_nothing(tmp_path: Path) -> None:
    # an unsigned Z'' that really is Im(Z) (negative): the phase says so, nothing is flipped
    lines = ["Date and time:,2024-03-12 15:20:02", "freq / Hz,neg. Phase / °,Z' / Ohm,Z'' / Ohm"]
    lines += [f"{f!r},{-phase_deg(z)!r},{z.real!r},{z.imag!r}"
              for f, z in zip(F.tolist(), Z.tolist(), strict=True)]
    p = tmp_path / "ps_im.csv"
    p.write_text("\n".join(lines) + "\n")
    s = read(p)
    check(s, rtol=1e-12)
    assert "assumptions" not in s.meta


if __name__ == "__main__":  # rewrite the committed files
    DATA.mkdir(parents=True, exist_ok=True)
    for name, writer in WRITERS.items():
        (DATA / name).write_bytes(writer())
        print("wrote", DATA / name)
