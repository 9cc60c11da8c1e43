"""File quirks, each written into tmp_path from a known synthetic spectrum.

The truth is an R0 + (R1 || C1) circuit evaluated here, so every reader path (sign conventions,
units, decimal commas, encodings, order, interleaved rows) is checked against exact values.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from eisfit.exceptions import ReaderError
from eisfit.io import detect_format, formats, read, read_all, register
from eisfit.io.normalise import (
    classify_column,
    decode_text,
    im_sign_from_data,
    split_lines,
    temperature_from_text,
)

F = np.logspace(6, -1, 29)
Z = 10 + 1000 / (1 + 1j * 2 * np.pi * F * 1000 * 1e-9)
PTS = list(zip(F.tolist(), Z.tolist(), strict=True))


def _fmt(x: float, comma: bool = False) -> str:
    s = f"{x:.9E}"
    return s.replace(".", ",") if comma else s


def _mpt(rows: list[str], names: list[str], extra_header: list[str] | None = None) -> str:
    header = [
        "EC-Lab ASCII FILE",
        "Nb header lines : {n}",
        "",
        "Potentio Electrochemical Impedance Spectroscopy",
        "",
        "Acquisition started on : 02.09.2015 11:42:26",
        "Comments : 25°C",
        "Electrode surface area : 12.566 mm²",
        "Device : VMP3 (SN 0324)",
        "EC-Lab for windows v10.33 (software)",
        *(extra_header or []),
        "",
    ]
    n = len(header) + 1
    header[1] = header[1].format(n=n)
    return "\r\n".join(header + ["\t".join(names)] + rows) + "\r\n"


def check_truth(s, f=F, z=Z, rtol=1e-8) -> None:
    order = np.argsort(-f)
    assert np.allclose(s.frequency, f[order], rtol=rtol)
    assert np.allclose(s.z, z[order], rtol=rtol)


# ----------------------------------------------------------------------------- EC-Lab


def test_mpt_german_decimal_comma_cp1252(tmp_path: Path) -> None:
    names = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "cycle number"]
    rows = [
        "\t".join([_fmt(f, True), _fmt(z.real, True), _fmt(-z.imag, True),
                   _fmt(abs(z), True), "1"])
        for f, z in PTS
    ]
    p = tmp_path / "german.mpt"
    p.write_bytes(_mpt(rows, names).encode("cp1252"))
    s = read(p)
    check_truth(s)
    assert s.meta["format"] == "biologic-mpt"
    assert s.meta["area_cm2"] == pytest.approx(0.12566)
    assert s.meta["start_time"] == "2015-09-02T11:42:26"
    assert s.temperature == pytest.approx(298.15)
    assert s.meta["cycle"] == 1


def test_mpt_cycles_and_interleaved_zero_rows(tmp_path: Path) -> None:
    names = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "time/s", "cycle number"]
    rows = []
    for cyc in (1, 2, 3):
        rows.append("\t".join(["0", "0", "0", "1.0", str(cyc)]))  # a GEIS rest row
        for f, z in zip(F.tolist(), (Z * cyc).tolist(), strict=True):
            rows.append("\t".join([_fmt(f), _fmt(z.real), _fmt(-z.imag), "2.0", str(cyc)]))
    p = tmp_path / "geis.mpt"
    p.write_text(_mpt(rows, names), encoding="latin-1")
    spectra = read_all(p)
    assert [s.meta["cycle"] for s in spectra] == [1, 2, 3]
    for k, s in enumerate(spectra, start=1):
        check_truth(s, z=Z * k)
        assert any("frequency 0" in n for n in s.meta["notes"])
    with pytest.raises(ReaderError, match=r"holds 3 spectra.*read_all"):
        read(p)
    check_truth(read(p, spectrum=1), z=Z * 2)
    with pytest.raises(ReaderError, match="out of range"):
        read(p, spectrum=3)


def test_mpt_modulus_phase_only(tmp_path: Path) -> None:
    names = ["freq/Hz", "|Z|/Ohm", "Phase(Z)/deg"]
    rows = [
        "\t".join([_fmt(f), _fmt(abs(z)), _fmt(math.degrees(np.angle(z)))])
        for f, z in PTS
    ]
    p = tmp_path / "mb.mpt"
    p.write_text(_mpt(rows, names), encoding="latin-1")
    check_truth(read(p))


def test_ec_lab_text_renamed_mpr_is_read_as_mpt(tmp_path: Path) -> None:
    names = ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"]
    rows = ["\t".join([_fmt(f), _fmt(z.real), _fmt(-z.imag)]) for f, z in PTS]
    p = tmp_path / "renamed.mpr"
    p.write_text(_mpt(rows, names), encoding="latin-1")
    s = read(p)
    check_truth(s)
    assert any(".mpr" in n for n in s.meta["notes"])


# ----------------------------------------------------------------------------- generic tables


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
     ("utf-16-be", b"\xfe\xff"), ("cp1252", b"")],
)
def test_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    lines = ["Frequency (Hz)\tZ' (Ohm)\t-Z'' (Ohm)\tPhase (°)"]
    lines += [
        f"{_fmt(f)}\t{_fmt(z.real)}\t{_fmt(-z.imag)}\t{math.degrees(np.angle(z)):.4f}"
        for f, z in PTS
    ]
    p = tmp_path / "table.txt"
    p.write_bytes(bom + ("\n".join(lines) + "\n").encode(encoding))
    check_truth(read(p))


def test_units_kohm_khz(tmp_path: Path) -> None:
    lines = ["Frequency (kHz),Z' (kOhm),-Z'' (kOhm)"]
    lines += [f"{f / 1e3!r},{z.real / 1e3!r},{-z.imag / 1e3!r}" for f, z in PTS]
    p = tmp_path / "k.csv"
    p.write_text("\n".join(lines) + "\n")
    check_truth(read(p), rtol=1e-12)


@pytest.mark.parametrize(("unit", "factor"), [("mOhm", 1e-3), ("MOhm", 1e6), ("Ohm", 1.0)])
def test_milli_and_mega_ohm_are_not_confused(tmp_path: Path, unit: str, factor: float) -> None:
    lines = [f"freq/Hz;Re(Z)/{unit};Im(Z)/{unit}"]
    lines += [
        f"{_fmt(f, True)};{_fmt(z.real / factor, True)};{_fmt(z.imag / factor, True)}"
        for f, z in PTS
    ]
    p = tmp_path / "semicolon.csv"
    p.write_text("\n".join(lines) + "\n")
    check_truth(read(p))


def test_angular_frequency_and_radians(tmp_path: Path) -> None:
    lines = ["omega (rad/s)\t|Z| (Ohm)\tPhase (rad)"]
    lines += [
        f"{2 * np.pi * f!r}\t{abs(z)!r}\t{float(np.angle(z))!r}" for f, z in PTS
    ]
    p = tmp_path / "omega.tsv"
    p.write_text("\n".join(lines) + "\n")
    check_truth(read(p), rtol=1e-12)


def test_ascending_order_repeats_and_crcrlf(tmp_path: Path) -> None:
    lines = ["Frequency\t Zre\t Zimg"]
    for f, z in zip(F[::-1].tolist(), Z[::-1].tolist(), strict=True):
        lines.append(f"{f!r}\t {z.real!r}\t {z.imag!r}")
    lines.insert(5, lines[4])  # an exact repeat
    p = tmp_path / "powersuite.txt"
    p.write_bytes(("\r\r\n".join(lines) + "\r\r\n").encode())
    s = read(p)
    check_truth(s, rtol=1e-12)
    assert any("ascending" in n or "monotonic" in n for n in s.meta["notes"])
    assert any("repeated" in n for n in s.meta["notes"])


def test_headerless_negative_im_convention_is_detected(tmp_path: Path) -> None:
    # third column holds -Im(Z) (positive for a capacitive spectrum)
    lines = [f"{f!r}\t{z.real!r}\t{-z.imag!r}" for f, z in PTS]
    p = tmp_path / "zview.txt"
    p.write_text("\n".join(lines) + "\n")
    s = read(p)
    check_truth(s, rtol=1e-12)
    text = " ".join(s.meta["assumptions"])
    assert "no column names" in text and "-Im(Z)" in text


def test_headerless_im_convention_with_decimal_comma(tmp_path: Path) -> None:
    lines = [f"{_fmt(f, True)}\t{_fmt(z.real, True)}\t{_fmt(z.imag, True)}"
             for f, z in PTS]
    p = tmp_path / "zview_de.txt"
    p.write_text("\n".join(lines) + "\n")
    s = read(p)
    check_truth(s)
    assert any("Im(Z)" in a for a in s.meta["assumptions"])


def test_loops_separated_by_zero_rows(tmp_path: Path) -> None:
    lines = ["freq/Hz,|Z|/Ohm,Phase(Z)/deg"]
    for _ in range(3):
        lines += [f"{f!r},{abs(z)!r},{math.degrees(np.angle(z))!r}"
                  for f, z in PTS]
        lines.append("0.0,0.0,0.0")
    p = tmp_path / "loops.csv"
    p.write_text("\n".join(lines) + "\n")
    spectra = read_all(p)
    assert len(spectra) == 3
    for s in spectra:
        check_truth(s, rtol=1e-12)


def test_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm"])
    for f, z in PTS:
        ws.append([float(f), float(z.real), float(-z.imag)])
    p = tmp_path / "book.xlsx"
    wb.save(p)
    s = read(p)
    assert s.meta["format"] == "xlsx"
    check_truth(s, rtol=1e-12)


def test_format_override_and_aliases(tmp_path: Path) -> None:
    lines = ["freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm"]
    lines += [f"{f!r}\t{z.real!r}\t{-z.imag!r}" for f, z in PTS]
    p = tmp_path / "odd.name"
    p.write_text("\n".join(lines) + "\n")
    assert detect_format(p) == "generic"
    check_truth(read(p, format="generic"), rtol=1e-12)
    check_truth(read(p, format="csv"), rtol=1e-12)
    assert "biologic-mpt" in formats()


# ----------------------------------------------------------------------------- other formats


def test_gamry_synthetic_decimal_comma_and_drift(tmp_path: Path) -> None:
    head = [
        "EXPLAIN", "TAG\tEISPOT", "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
        "DATE\tLABEL\t3/13/2023\tDate", "TIME\tLABEL\t10:11:12\tTime",
        "AREA\tQUANT\t2,00000E-002\t&Area (cm^2)", "ZCURVE\tTABLE",
        "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tZrealDrCor\tZimagDrCor\tIdc",
        "\t#\ts\tHz\tohm\tohm\tV\tohm\t°\tohm\tohm\tA",
    ]
    rows = [
        "\t" + "\t".join([str(i), "1", _fmt(f, True), "1", "1", "1", "1", "1",
                          _fmt(z.real, True), _fmt(z.imag, True), "0"])
        for i, (f, z) in enumerate(PTS)
    ]
    p = tmp_path / "g.DTA"
    p.write_bytes(("\r\n".join(head + rows + ["EXPERIMENTABORTED\tTOGGLE\tT\tAborted"]) + "\r\n")
                  .encode("cp1252"))
    s = read(p)
    check_truth(s)
    assert s.meta["area_cm2"] == pytest.approx(0.02)
    assert s.meta["start_time"] == "2023-03-13T10:11:12"


def test_lcr_phase_wrapping_and_file_name_temperature(tmp_path: Path) -> None:
    head = ["Time: 10:29; Datum: 17.07.2015", "Sample Area [sqmm]: 0,000",
            "Sample Thickness [mm]: 1,200", "Voltage Level [V]: 0,010", "", "",
            "F[Hz]\t\tZ[Ohm]\t\tTheta\t\tTemperatur[°C]"]
    rows = []
    for k, (f, z) in enumerate(zip(F[::-1].tolist(), Z[::-1].tolist(), strict=True)):
        ph = math.degrees(np.angle(z)) + (360 if k % 2 else 0)  # wrapped by one turn
        rows.append(f"{_fmt(f, True)}\t{_fmt(abs(z), True)}\t{_fmt(ph, True)}")
    p = tmp_path / "17.07.2015__LRC_0_  -72°C.txt"
    p.write_bytes(("\r\n".join(head + rows) + "\r\n").encode("latin-1"))
    s = read(p)
    assert s.meta["format"] == "lcr-text"
    check_truth(s)
    assert s.temperature == pytest.approx(201.15)
    assert s.meta["thickness_mm"] == pytest.approx(1.2)
    assert "area_cm2" not in s.meta


def test_zplot2_synthetic(tmp_path: Path) -> None:
    head = ["ZPLOT2 ASCII", "  Date:                       10-12-2018",
            "  Time:                       11:04:34", "  Data Points:                40",
            "  Freq(Hz)\tAmpl\tBias\tTime(Sec)\tZ'(a)\tZ''(b)\tGD\tErr\tRange", "End Comments"]
    rows = [f"{_fmt(f)}\t1E-2\t0\t1\t{_fmt(z.real)}\t{_fmt(z.imag)}\t0\t0\t3"
            for f, z in PTS]
    p = tmp_path / "a.z"
    p.write_text("\n".join(head + rows) + "\n")
    s = read(p)
    check_truth(s)
    assert any("plans 40" in n for n in s.meta["notes"])


# ----------------------------------------------------------------------------- normaliser units


@pytest.mark.parametrize(
    ("name", "quantity", "factor", "sign"),
    [
        ("-Im(Z)/Ohm", "im", 1.0, -1),
        ("Im(Z)/Ohm", "im", 1.0, 1),
        ("Z''(b)", "im", 1.0, 1),
        ("-Z'' (kΩ)", "im", 1e3, -1),
        ('Z"/ohm', "im", 1.0, 1),
        ("Zs''[ohm]", "im", 1.0, 1),
        ("Zimag", "im", 1.0, 1),
        ("Re(Z)/Ohm", "re", 1.0, 1),
        ("Zs' [Ohms]", "re", 1.0, 1),
        ("Z' (mOhm)", "re", 1e-3, 1),
        ("Z Real", "re", 1.0, 1),
        ("|Z|/Ohm", "modulus", 1.0, 1),
        ("Z[Ohm]", "modulus", 1.0, 1),
        ("Phase(Z)/deg", "phase", 1.0, 1),
        ("-Phase (°)", "phase", 1.0, -1),
        ("Theta", "phase", 1.0, 1),
        ("freq/Hz", "frequency", 1.0, 1),
        ("Freq.[Hz]", "frequency", 1.0, 1),
        ("Frequency (MHz)", "frequency", 1e6, 1),
        ("F[Hz]", "frequency", 1.0, 1),
        ("Re(Y)/Ohm-1", "other", 1.0, 1),
        ("-Im(Zce)/Ohm", "other", 1.0, 1),
        ("Re(Z)/Ohm * Area", "other", 1.0, 1),
        ("Re(Resistivity)/Ohm.cm", "other", 1.0, 1),
        ("Phase(Y)/deg", "other", 1.0, 1),
        ("cycle number", "cycle", 1.0, 1),
    ],
)
def test_classify_column(name: str, quantity: str, factor: float, sign: int) -> None:
    info = classify_column(name)
    assert info.quantity == quantity
    if quantity != "other":
        assert info.factor == pytest.approx(factor)
        assert info.sign == sign


def test_omega_factor() -> None:
    assert classify_column("omega (rad/s)").factor == pytest.approx(1 / (2 * np.pi))


@pytest.mark.parametrize(
    ("text", "kelvin"),
    [("LRC_0_  -72°C", 201.15), ("s05751_25deg", 298.15), ("pellet_298K", 298.0),
     ("25degC", 298.15), ("..._2065C_500C", None), ("PEIS_C02", None)],
)
def test_temperature_from_text(text: str, kelvin: float | None) -> None:
    t = temperature_from_text(text)
    assert (t is None) if kelvin is None else t == pytest.approx(kelvin)


def test_decode_and_split() -> None:
    text, enc = decode_text("µ°".encode("cp1252"), "x")
    assert text == "µ°" and enc == "cp1252"
    assert decode_text(b"\xff\xfe" + "a\u00b0".encode("utf-16-le") + b"\xff\xfe", "x")[0] == "a°"
    assert split_lines("a\r\r\nb\r\nc\rd\n") == ["a", "b", "c", "d"]


def test_im_sign_from_data() -> None:
    sign, note = im_sign_from_data(F, -Z.imag)
    assert sign == -1 and "-Im(Z)" in note
    sign, _ = im_sign_from_data(F, Z.imag)
    assert sign == 1


def test_registry_refuses_duplicates() -> None:
    formats()  # load the built-in readers
    with pytest.raises(ValueError, match="already registered"):

        @register("generic")
        class Again:
            @staticmethod
            def sniff(head: bytes, path: Path) -> float:
                return 0.0

            @staticmethod
            def read(path: Path) -> list:
                return []


def test_autolab_nova_utf16(tmp_path: Path) -> None:
    lines = ["Index\tFrequency (Hz)\tZ' (Ω)\t-Z'' (Ω)\tZ (Ω)\t-Phase (°)\tTime (s)"]
    lines += [
        f"{k}\t{f!r}\t{z.real!r}\t{-z.imag!r}\t{abs(z)!r}\t{-math.degrees(np.angle(z))!r}\t1"
        for k, (f, z) in enumerate(PTS)
    ]
    p = tmp_path / "nova.txt"
    p.write_bytes(b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    s = read(p)
    assert s.meta["format"] == "autolab"
    check_truth(s, rtol=1e-12)


def test_palmsens_csv(tmp_path: Path) -> None:
    lines = ["Date and time measurement:,2023-08-22 12:50:26", "Impedance Spectroscopy",
             "freq / Hz,Z' / Ohm,-Z'' / Ohm,Z / Ohm,-Phase / deg"]
    lines += [f"{f!r},{z.real!r},{-z.imag!r},{abs(z)!r},{-math.degrees(np.angle(z))!r}"
              for f, z in PTS]
    p = tmp_path / "ps.csv"
    p.write_bytes(b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    s = read(p)
    assert s.meta["format"] == "palmsens-csv"
    check_truth(s, rtol=1e-12)
