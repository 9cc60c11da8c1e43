"""Every file of the shared EIS corpus read through ``eisfit.io``.

The corpus (real instrument files from public repositories, described in its INDEX.md) lives
outside the repository: ``<checkout>/../shared/eis-corpus`` or ``$EISFIT_CORPUS``. Without it
these tests skip, unless ``EISFIT_REQUIRE_CORPUS=1`` (then they fail).

Expected values were NOT produced by eisfit. For the text formats they were read with
``pandas.read_csv`` using explicit per-file settings (rows to skip, separator, decimal mark,
encoding; the EC-Lab ``-Im(Z)/Ohm`` and PalmSens ``ZIm`` columns negated by hand, |Z|/phase
files converted with numpy) and the first and last rows were checked by eye against the files.
For binary formats the independent routes are: the paired ``.mpt`` export of the same run
(EC-Lab ``.mpr``), galvani's raw arrays, the JSON arrays of the session (PalmSens), the numbers
printed in the file (Ivium) and the point counts/ranges that Zahner's own reader returns
(INDEX.md, Zahner ``.ism``).

Counts that differ from INDEX.md were recounted: ``LIB_data.txt`` has 107 rows (INDEX: 106) and
``exampleDataPowersuite.txt`` 30 data rows (INDEX: 24).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import eisfit
from eisfit.exceptions import ReaderError
from eisfit.io import detect_format, read, read_all


def corpus_dir() -> Path | None:
    env = os.environ.get("EISFIT_CORPUS")
    p = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "eis-corpus"
    return p if p.is_dir() else None


CORPUS = corpus_dir()


def need_corpus() -> Path:
    if CORPUS is None:
        if os.environ.get("EISFIT_REQUIRE_CORPUS") == "1":
            pytest.fail("EISFIT_REQUIRE_CORPUS=1 but the EIS corpus was not found "
                        "(set EISFIT_CORPUS to its folder)")
        pytest.skip("EIS corpus not found: set EISFIT_CORPUS to the shared eis-corpus folder")
    return CORPUS


class E(NamedTuple):
    """n spectra, total points, fmin/fmax of spectrum 0 (Hz), first point of spectrum 0
    (highest frequency) and last point of the last spectrum (lowest frequency): (f, Re, Im)."""

    n: int
    total: int
    fmin: float
    fmax: float
    first: tuple[float, float, float]
    last: tuple[float, float, float]


def _lrc(date: str, celsius: str) -> str:
    """Corpus path of one of the thesis' LCR-meter files (one per temperature)."""
    return (
        "m0l0t0ph__thesis/Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__"
        f"{date}__LRC_0_  {celsius}°C.txt"
    )


# values from pandas.read_csv with explicit settings (see the module docstring), Im(Z) < 0
# capacitive
EXPECTED: dict[str, E] = {
    "AUTODIAL__AutoEIS/assets__test_data.txt":
        E(1, 67, 0.0009999052, 200019.5,
          (200019.5, 130.4171, -34.68001), (0.0009999052, 5170240, -2345776)),
    (
        "ComPlat__chemotion-converter-app/test_files__ChemConverter__EIS__Gamry__Framewor"
        "k-DTA__DHM-Cudmp_EISPOT - Copy.DTA"
    ):
        E(1, 58, 0.1999787, 100019.5,
          (100019.5, 59.89103, -11.25287), (0.1999787, 1.460058e+09, -1.21136e+09)),
    "ECSHackWeek__impedance.py/data__Circuit1_EIS_1.z":
        E(1, 48, 1, 50000,
          (50000, 29.036, 0.63662), (1, 75.803, -0.16244)),
    "ECSHackWeek__impedance.py/data__exampleDataAutolab.txt":
        E(1, 41, 0.1, 10000,
          (10000, 0.01378586, 0.007191946), (0.1, 0.03456978, -0.003902929)),
    "ECSHackWeek__impedance.py/data__exampleDataBioLogic.mpt":
        E(1, 43, 0.01689554, 1000.32,
          (1000.32, 65.47089, -0.3899898), (0.01689554, 110.97, -2.345857)),
    "ECSHackWeek__impedance.py/data__exampleDataCHInstruments.txt":
        E(1, 73, 0.1, 99610,
          (99610, 98.91, -2.748), (0.1, 5685, -15860)),
    "ECSHackWeek__impedance.py/data__exampleDataGamry.DTA":
        E(1, 72, 0.0158898, 200015.6,
          (200015.6, 825.8584, -1367.239), (0.0158898, 17007.49, -6635.557)),
    "ECSHackWeek__impedance.py/data__exampleDataGamryABORT.DTA":
        E(1, 72, 0.0158898, 200015.6,
          (200015.6, 825.8584, -1367.239), (0.0158898, 17007.49, -6635.557)),
    "ECSHackWeek__impedance.py/data__exampleDataParstat.txt":
        E(1, 31, 10, 10000,
          (10000, -0.0004981628, 0.01751435), (10, 0.02709465, -0.003997911)),
    "ECSHackWeek__impedance.py/data__exampleDataPowersuite.txt":
        E(1, 30, 0.1, 2000000,
          (2000000, -470.5411, -1397.736), (0.1, 423929.5, -49014.06)),
    "ECSHackWeek__impedance.py/data__exampleDataVersaStudio.par":
        E(1, 61, 0.02154435, 100000,
          (100000, 55.31571, 4.575431), (0.02154435, 1516.313, -122.8279)),
    "ECSHackWeek__impedance.py/data__exampleDataZPlot.z":
        E(1, 21, 3000, 300000,
          (300000, 147.77, -11.335), (3000, 613.68, -137.13)),
    "ECSHackWeek__impedance.py/data__exampleDataZPlot_noComments.z":
        E(1, 31, 300, 300000,
          (300000, 642.62, -85.821), (300, 1305.3, -195.01)),
    "Samuel-Buteau__EISFitting/DAHN_TXT_example.txt":
        E(1, 70, 0.01, 100000,
          (100000, 0.0746, -0.172), (0.01, 3.76, -0.482)),
    "Samuel-Buteau__EISFitting/MPT_example.mpt":
        E(1, 70, 0.01000576, 100019.5,
          (100019.5, 2.618926, -1.62768), (0.01000576, 278.4883, -12.06337)),
    "Sheyigold__EISFitpython/EIS_Data__Example-2__Example2a.txt":
        E(1, 51, 0.3, 1000000,
          (1000000, 3805.59, -6318.061), (0.3, 218314.7, -150821.2)),
    "Sheyigold__EISFitpython/EIS_Data__Example-2__Example2b.txt":
        E(1, 50, 1, 1000000,
          (1000000, 3603.82, -8578.35), (1, 182762, -435920)),
    "bcliang__gamry-parser/tests__eispot_data.dta":
        E(1, 10, 0.5, 10000,
          (10000, 224.6075, -3.767681), (0.5, 226.885, -7.053867)),
    "ciuccislab__pyDRTtools/EIS data__text files__LIB_data.txt":
        E(1, 107, 0.005000832, 999.0404,
          (999.0404, 0.112363, 0.003182739), (0.005000832, 0.1517356, -0.01373968)),
    "dgbowl__yadg/tests__test_x_eclab__geis.mpt":
        E(61, 2499, 0.1998081, 1000019,
          (1000019, -42.98695, -80.75253), (0.4325858, 1877.212, -1450.107)),
    "dgbowl__yadg/tests__test_x_eclab__mb.issue_223.mpt":
        E(4, 76, 1.000064, 1000.32,
          (1000.32, 0.3271143, -0.108958), (1.000064, 1.883755, -1.13124)),
    "dgbowl__yadg/tests__test_x_eclab__mb.mpt":
        E(8, 560, 0.09990411, 1000019,
          (1000019, 135.4276, -418.915), (0.09990411, 1137.944, -42.5376)),
    "dgbowl__yadg/tests__test_x_eclab__peis.issue_149.mpt":
        E(4, 84, 99.96816, 199998.1,
          (199998.1, 12.75328, -0.9616784), (99.96816, 82.63319, -17.3862)),
    "dgbowl__yadg/tests__test_x_eclab__peis.issue_225.no_ece.mpt":
        E(1, 32, 0.9985301, 199998.1,
          (199998.1, 1.227413, -0.1122705), (0.9985301, 24.6482, -12.45439)),
    "dgbowl__yadg/tests__test_x_eclab__peis.mpt":
        E(1, 32, 1.000062, 199998.1,
          (199998.1, 10.5123, -0.7304766), (1.000062, 18.02432, -2.696253)),
    "dgbowl__yadg/tests__test_x_eclab__vsp_peis_with.mpt":
        E(32, 2240, 0.09990411, 1000019,
          (1000019, 10.57896, 17.95296), (0.09990411, 35.58788, -2.58418)),
    "dgbowl__yadg/tests__test_x_eclab__zir.mpt":
        E(1, 1, 10019.53, 10019.53,
          (10019.53, 104070.6, -93853.56), (10019.53, 104070.6, -93853.56)),
    (
        "ixdat__ixdat-large-test-files/biologic_dataset_with_loop__dataset_with_loop_01_0"
        "5_PEIS_DUSB0_C01.mpt"
    ):
        E(1, 16, 495.4755, 199998.1,
          (199998.1, 1406.022, 1066.979), (495.4755, 1.920676, 2.510937)),
    "jdhuang-csm__bayes-drt/data__experimental__PDAC_COM3_02109_Contact10_2065C_500C.txt":
        E(1, 106, 0.1001603, 1000020,
          (1000020, 1798.84, -457.5437), (0.1001603, 9515918, -4264486)),
    "jdhuang-csm__bayes-drt/data__experimental__PDAC_COM3_02210_Contact111_2072C_350C.txt":
        E(1, 106, 0.1001603, 1000020,
          (1000020, 794.4855, -1140.605), (0.1001603, 5784012, -1657657)),
    "jdhuang-csm__hybrid-drt/tutorials__data__EISGALV_EISTest3.DTA":
        E(1, 71, 0.1001603, 1000078,
          (1000078, 0.04711733, 0.1695821), (0.1001603, 0.06649166, -0.001175554)),
    "jdhuang-csm__hybrid-drt/tutorials__data__PEIS_LPSCl_IonBlocking_-25C.txt":
        E(1, 79, 0.1000218, 7000018,
          (7000018, 359.2415, -290.9204), (0.1000218, 1799428, -8093786)),
    "jdhuang-csm__hybrid-drt/tutorials__data__PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt":
        E(1, 79, 0.1000218, 7000018,
          (7000018, 359.2415, -290.9204), (0.1000218, 1799428, -8093786)),
    "jdhuang-csm__hybrid-drt/webinar__data__SSB__Sample2_PEIS_AtRest.csv":
        E(10, 890, 0.009997264, 7000018,
          (7000018, 47.45739, -17.98945), (0.009997264, 533.7544, -24.83136)),
    "kbknudsen__PyEIS/Tutorials__data__ex1.mpt":
        E(2, 118, 0.01000576, 200019.5,
          (200019.5, 428.9056, -372.3118), (0.01000576, 66802.32, -33712.06)),
    (
        "m0l0t0ph__thesis/Experimentelles__Ausgewaehlte_Daten__LATP__PEIS__LATP_Korrosion"
        "_04_PEIS_C02.mpt"
    ):
        E(1, 37, 0.9985298, 1000024,
          (1000024, 1.095522, 2.837029), (0.9985298, 120.7516, -69.8886)),
    (
        "m0l0t0ph__thesis/Experimentelles__Ausgewaehlte_Daten__LATP__PEIS__LATP_Korrosion"
        "_04_PEIS_C02.txt"
    ):
        E(1, 37, 0.9985298, 1000024,
          (1000024, 1.095522, 2.837029), (0.9985298, 120.7516, -69.8886)),
    _lrc("17.07.2015", "-17"):
        E(1, 401, 40, 5000000,
          (5000000, 516.7267, -117.1262), (40, 546.7698, -0.3726898)),
    _lrc("17.07.2015", "-1"):
        E(1, 401, 40, 5000000,
          (5000000, 372.775, -110.5289), (40, 511.3953, -14.81174)),
    _lrc("17.07.2015", "-27"):
        E(1, 401, 40, 5000000,
          (5000000, 636.7106, -130.125), (40, 641.7971, 0.4857072)),
    _lrc("17.07.2015", "-41"):
        E(1, 401, 40, 5000000,
          (5000000, 909.6688, -2429.706), (40, 1162574, -11986.68)),
    _lrc("17.07.2015", "-50"):
        E(1, 401, 40, 5000000,
          (5000000, 667.1341, -103.3354), (40, 615.0701, 0.4624746)),
    _lrc("17.07.2015", "-59"):
        E(1, 401, 40, 5000000,
          (5000000, 527.1604, -3654.291), (40, -778259.8, 2614053)),
    _lrc("17.07.2015", "-72"):
        E(1, 401, 40, 5000000,
          (5000000, 766.0278, -20682.52), (40, -648178.4, 2246815)),
    _lrc("17.07.2015", "29"):
        E(1, 401, 40, 5000000,
          (5000000, 344.839, -154.054), (40, 575.6563, -1.393656)),
    _lrc("17.07.2015", "50"):
        E(1, 401, 40, 5000000,
          (5000000, -5.344577, -23.58311), (40, -20086.5, 14965.96)),
    _lrc("20.07.2015", "100"):
        E(1, 401, 40, 5000000,
          (5000000, 4.333977, -22.16062), (40, -13550.42, 16600.19)),
    _lrc("20.07.2015", "150"):
        E(1, 401, 40, 5000000,
          (5000000, -5.562651, -22.53564), (40, -22828.83, 14018.59)),
    (
        "m0l0t0ph__thesis/Experimentelles__Rohdaten__Batteriemessungen__AlteZelle__Studen"
        "ten_Batterietests__LiNiMnO_LATP_LTO-Spinell__ECLab-Export__LiNiMnO-LATP-LTO_Spin"
        "ell_02_PEIS_C01.mpt"
    ):
        E(1, 37, 0.9985298, 1000024,
          (1000024, 160.6707, -2645.508), (0.9985298, 693356.6, -92004.02)),
    "vyrjana__pyimpspec/tests__drift-corrected-data.dta":
        E(1, 55, 0.1001603, 100078.1,
          (100078.1, 691.6887, -148.9397), (0.1001603, 163521.3, -207613.7)),
}

FORMATS = {
    ".mpt": "biologic-mpt",
    "_-25C.txt": "biologic-mpt",
    "assets__test_data.txt": "generic",
    "LIB_data.txt": "generic",
    "AtRest.csv": "generic",
    "DAHN_TXT_example.txt": "generic",
    "PEIS_C02.txt": "generic",
    "Parstat.txt": "parstat",
    "Powersuite.txt": "parstat",
    "CHInstruments.txt": "chi",
    "Example2a.txt": "novocontrol",
    "Example2b.txt": "novocontrol",
    "°C.txt": "lcr-text",
    "RelaxIS.txt": "relaxis",
    ".DTA": "gamry-dta",
    ".dta": "gamry-dta",
    "_500C.txt": "gamry-dta",
    "_350C.txt": "gamry-dta",
    ".z": "zplot",
    "Autolab.txt": "zplot",
    ".par": "versastudio",
}


def _format_for(name: str) -> str:
    best = max((k for k in FORMATS if name.endswith(k)), key=len)
    return FORMATS[best]


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_text_file(rel: str) -> None:
    corpus = need_corpus()
    path = corpus / rel
    e = EXPECTED[rel]
    spectra = read_all(path)
    assert len(spectra) == e.n
    assert sum(len(s) for s in spectra) == e.total
    s0, sl = spectra[0], spectra[-1]
    assert s0.meta["format"] == _format_for(rel) == detect_format(path)
    assert s0.frequency_range == pytest.approx((e.fmin, e.fmax), rel=1e-6)
    # spectra come out high to low frequency
    assert np.all(np.diff(s0.frequency) <= 0)
    f0, z0 = s0.frequency[0], s0.z[0]
    assert (f0, z0.real, z0.imag) == pytest.approx(e.first, rel=1e-6, abs=1e-12)
    fl, zl = sl.frequency[-1], sl.z[-1]
    assert (fl, zl.real, zl.imag) == pytest.approx(e.last, rel=1e-6, abs=1e-12)
    assert [s.meta["spectrum_index"] for s in spectra] == list(range(e.n))
    assert s0.meta["source"] == str(path)
    if e.n == 1:
        assert len(read(path)) == e.total
    else:
        with pytest.raises(ReaderError, match=f"holds {e.n} spectra"):
            read(path)
        assert len(read(path, spectrum=-1)) == len(sl)


def test_every_corpus_file_is_covered() -> None:
    corpus = need_corpus()
    files = sorted(
        str(p.relative_to(corpus))
        for p in corpus.rglob("*")
        if p.is_file() and p.name != "INDEX.md"
    )
    covered = set(EXPECTED) | set(BINARY) | set(FAILING)
    assert [f for f in files if f not in covered] == []


# ----------------------------------------------------------------------------- binary formats

# EC-Lab .mpr: same run as the paired .mpt (independent: EC-Lab's own text export)
PAIRED = {
    "dgbowl__yadg/tests__test_x_eclab__geis.mpr": "dgbowl__yadg/tests__test_x_eclab__geis.mpt",
    "dgbowl__yadg/tests__test_x_eclab__mb.mpr": "dgbowl__yadg/tests__test_x_eclab__mb.mpt",
    "dgbowl__yadg/tests__test_x_eclab__mb.issue_223.mpr":
        "dgbowl__yadg/tests__test_x_eclab__mb.issue_223.mpt",
    "dgbowl__yadg/tests__test_x_eclab__peis.issue_149.mpr":
        "dgbowl__yadg/tests__test_x_eclab__peis.issue_149.mpt",
    "dgbowl__yadg/tests__test_x_eclab__peis.mpr": "dgbowl__yadg/tests__test_x_eclab__peis.mpt",
    "dgbowl__yadg/tests__test_x_eclab__vsp_peis_with.mpr":
        "dgbowl__yadg/tests__test_x_eclab__vsp_peis_with.mpt",
}
# (n spectra, points, fmin, fmax) from INDEX.md (Zahner: what zahner_analysis returns)
BINARY = {
    **{k: None for k in PAIRED},
    "jdhuang-csm__hybrid-drt/webinar__data__SSB__Sample1_PEIS_EndOfDischarge.mpr":
        (1, 86, 0.02, 7e6),
    "Zahner-elektrik__Zahner-Analysis-Python/Examples__BasicIntroduction__rc-data.ism":
        (1, 55, 0.2, 1e5),
    "Zahner-elektrik__Zahner-Analysis-Python/Examples__ComplexFitConfigurations__li-ion-battery.ism":
        (1, 128, 5e-4, 5e3),
    "Zahner-elektrik__Zahner-Analysis-Python/Examples__ZHIT__drift.ism": (1, 47, 0.1, 5e4),
    "vyrjana__pyimpspec/tests__data.idf": (1, 29, 1.0, 1e4),
    "vyrjana__pyimpspec/tests__data.pssession": (1, 51, 1.0, 1e5),
    "PalmSens__palmsens-sdk/python__examples__Demo CV DPV EIS IS-C electrode.pssession":
        (1, 71, 0.1, 1e6),
}
FAILING = {
    # the data module holds no points
    "ComPlat__chemotion-converter-app/test_files__ChemConverter__EIS__BioLogic__ECLab-mpr__"
    "CHD048_CHD050_60C_C01.mpr": "0 points",
}


@pytest.mark.parametrize("rel", sorted(PAIRED))
def test_mpr_matches_paired_mpt(rel: str) -> None:
    pytest.importorskip("galvani")
    corpus = need_corpus()
    a = read_all(corpus / rel)
    b = read_all(corpus / PAIRED[rel])
    assert a[0].meta["format"] == "biologic-mpr"
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert np.allclose(x.frequency, y.frequency, rtol=1e-6)
        # .mpt rounds to 8 significant digits; mb.mpr stores |Z| and phase only
        assert np.allclose(x.z, y.z, rtol=1e-6, atol=1e-6 * np.abs(y.z).max())
        assert x.meta.get("cycle") == y.meta.get("cycle")


def test_mpr_against_galvani_arrays() -> None:
    galvani = pytest.importorskip("galvani")
    corpus = need_corpus()
    p = corpus / "jdhuang-csm__hybrid-drt/webinar__data__SSB__Sample1_PEIS_EndOfDischarge.mpr"
    raw = galvani.BioLogic.MPRfile(str(p)).data
    s = read(p)
    order = np.argsort(-raw["freq/Hz"])
    assert np.allclose(s.frequency, raw["freq/Hz"][order])
    assert np.allclose(s.z, (raw["Re(Z)/Ohm"] - 1j * raw["-Im(Z)/Ohm"])[order])


def test_mpr_with_energy_we_column() -> None:
    """mb.issue_223.mpr lists column 880 (Energy we/W.h, float64), which galvani 0.5.0 does not
    know (it reads the ID as 112); eisfit adds it to galvani's table before parsing.

    Expected values are those of the paired .mpt (EC-Lab's own export of the same run, read
    with pandas, see EXPECTED): count, frequency range, first and last points agree to float32
    precision, the .mpr storing |Z| and the phase as float32.
    """
    galvani = pytest.importorskip("galvani")
    from eisfit.io.biologic_mpr import EXTRA_COLUMNS

    corpus = need_corpus()
    rel = "dgbowl__yadg/tests__test_x_eclab__mb.issue_223.mpr"
    p = corpus / rel
    e = EXPECTED[PAIRED[rel]]
    spectra = read_all(p)
    assert spectra[0].meta["format"] == "biologic-mpr"
    assert len(spectra) == e.n == 4
    assert sum(len(s) for s in spectra) == e.total == 76
    s0, sl = spectra[0], spectra[-1]
    assert s0.frequency_range == pytest.approx((e.fmin, e.fmax), rel=2e-7)
    f0, z0 = s0.frequency[0], s0.z[0]
    assert (f0, z0.real, z0.imag) == pytest.approx(e.first, rel=2e-7)
    fl, zl = sl.frequency[-1], sl.z[-1]
    assert (fl, zl.real, zl.imag) == pytest.approx(e.last, rel=2e-7)

    # the raw header: 21 two-byte column IDs, 880 between half cycle (468) and z cycle (469)
    with open(p, "rb") as fh:
        fh.read(len(galvani.BioLogic.MPR_MAGIC))
        mods = list(galvani.BioLogic.read_VMP_modules(fh))
    (data,) = (m["data"] for m in mods if m["shortname"] == b"VMP data  ")
    n_pts, n_cols = int.from_bytes(data[:4], "little"), data[4]
    ids = list(np.frombuffer(data[6: 6 + 2 * n_cols], dtype="<u2"))
    assert ids[-4:] == [467, 468, 880, 469]
    assert EXTRA_COLUMNS[880] == EXTRA_COLUMNS[880 % 256] == ("Energy we/W.h", "<f8")

    # galvani's raw arrays, once the column is known: a 77-byte record fills the data block
    # exactly, and the Energy we column itself equals the export's
    raw = galvani.BioLogic.MPRfile(str(p))
    assert raw.dtype.itemsize == 77 and raw.data.shape == (n_pts,) == (108,)
    assert raw.dtype["Energy we/W.h"] == np.dtype("<f8")
    mpt = corpus / PAIRED[rel]
    lines = mpt.read_text(encoding="latin-1").splitlines()
    head = lines[95].split("\t")
    rows = [ln.split("\t") for ln in lines[96:]]
    for name in ("Energy we/W.h", "z cycle", "|Z|/Ohm"):
        col = np.array([float(r[head.index(name)]) for r in rows])
        assert np.allclose(raw.data[name], col, rtol=1e-6, atol=0)
    imp = raw.data[raw.data["freq/Hz"] > 0]
    z = np.concatenate([s.z for s in spectra])
    zraw = imp["|Z|/Ohm"] * np.exp(1j * np.deg2rad(imp["Phase(Z)/deg"].astype(float)))
    assert np.allclose(z, zraw, rtol=1e-6)


def test_extra_mpr_columns_never_replace_galvanis() -> None:
    galvani = pytest.importorskip("galvani")
    from eisfit.io.biologic_mpr import EXTRA_COLUMNS, _add_extra_columns

    table = galvani.BioLogic.VMPdata_colID_dtype_map
    before = {k: table[k] for k in table if k not in EXTRA_COLUMNS}
    _add_extra_columns(galvani.BioLogic)
    _add_extra_columns(galvani.BioLogic)
    assert {k: table[k] for k in before} == before
    assert all(k in table for k in EXTRA_COLUMNS)


@pytest.mark.parametrize("rel", sorted(k for k, v in BINARY.items() if v is not None))
def test_binary_counts(rel: str) -> None:
    corpus = need_corpus()
    if rel.endswith(".mpr"):
        pytest.importorskip("galvani")
    n, pts, fmin, fmax = BINARY[rel]
    spectra = read_all(corpus / rel)
    assert len(spectra) == n
    assert len(spectra[0]) == pts
    assert spectra[0].frequency_range == pytest.approx((fmin, fmax), rel=0.01)


def test_zahner_first_point_from_raw_bytes() -> None:
    corpus = need_corpus()
    p = corpus / "Zahner-elektrik__Zahner-Analysis-Python/Examples__ZHIT__drift.ism"
    raw = p.read_bytes()
    n = int.from_bytes(raw[6:12], "big") + 1
    f = struct.unpack(f">{n}d", raw[12: 12 + 8 * n])
    mod = struct.unpack(f">{n}d", raw[12 + 8 * n: 12 + 16 * n])
    ph = struct.unpack(f">{n}d", raw[12 + 16 * n: 12 + 24 * n])
    s = read(p)
    k = int(np.argmax(f))
    assert s.frequency[0] == pytest.approx(f[k])
    assert s.z[0] == pytest.approx(mod[k] * np.exp(1j * ph[k]))


def test_pssession_against_json() -> None:
    corpus = need_corpus()
    p = corpus / "vyrjana__pyimpspec/tests__data.pssession"
    doc = json.loads(p.read_bytes().decode("utf-16").strip().rstrip("\ufeff"))
    vals = {
        v["Description"]: [x["V"] for x in v["DataValues"]]
        for v in doc["Measurements"][0]["EISDataList"][0]["DataSet"]["Values"]
    }
    s = read(p)
    # PSTrace stores ZIm = -Im(Z)
    assert s.frequency[0] == pytest.approx(vals["Frequency"][0])
    assert s.z[0] == pytest.approx(vals["ZRe"][0] - 1j * vals["ZIm"][0])
    assert s.z[-1] == pytest.approx(vals["ZRe"][-1] - 1j * vals["ZIm"][-1])
    demo = read(corpus / "PalmSens__palmsens-sdk/python__examples__"
                         "Demo CV DPV EIS IS-C electrode.pssession")
    assert demo.meta["title"] == "Impedance Spectroscopy [2]"
    assert demo.z[0] == pytest.approx(112.354 - 29.8389j)


def test_ivium_values_as_printed() -> None:
    corpus = need_corpus()
    s = read(corpus / "vyrjana__pyimpspec/tests__data.idf")
    assert (s.frequency[0], s.z[0]) == pytest.approx((1.0e4, 109.009 - 26.5557j))
    assert (s.frequency[-1], s.z[-1]) == pytest.approx((1.0, 645.479 - 90.6181j))
    assert s.meta["format"] == "ivium"


@pytest.mark.parametrize("rel", sorted(FAILING))
def test_unreadable_mpr_gives_clean_error(rel: str) -> None:
    pytest.importorskip("galvani")
    corpus = need_corpus()
    with pytest.raises(ReaderError, match=FAILING[rel]) as info:
        read_all(corpus / rel)
    assert Path(rel).name in str(info.value)


# ----------------------------------------------------------------------------- metadata


def test_metadata_samples() -> None:
    corpus = need_corpus()
    s = read(corpus / "ECSHackWeek__impedance.py/data__exampleDataBioLogic.mpt")
    assert s.meta["technique"] == "Potentio Electrochemical Impedance Spectroscopy"
    assert s.meta["start_time"] == "2018-02-04T10:02:46"
    assert s.meta["instrument"].startswith("SP-150")
    assert "area_cm2" not in s.meta  # 0.001 cm² is EC-Lab's default, not a typed area
    geis = read_all(corpus / "dgbowl__yadg/tests__test_x_eclab__geis.mpt")
    assert geis[0].meta["area_cm2"] == pytest.approx(1.130)
    assert geis[0].temperature == pytest.approx(298.15)
    assert any("comment" in a for a in geis[0].meta["assumptions"])
    assert [g.meta["cycle"] for g in geis[:3]] == [1, 2, 3]
    no_ece = read(corpus / "dgbowl__yadg/tests__test_x_eclab__peis.issue_225.no_ece.mpt")
    assert no_ece.meta["area_cm2"] == pytest.approx(1.131)  # given as 113.100 mm²
    loops = read_all(corpus / "dgbowl__yadg/tests__test_x_eclab__peis.issue_149.mpt")
    assert [x.meta["loop"] for x in loops] == [0, 1, 2, 3]
    lcr = read(corpus / _lrc("17.07.2015", "-72"))
    assert lcr.temperature == pytest.approx(273.15 - 72)
    novo = read(corpus / "Sheyigold__EISFitpython/EIS_Data__Example-2__Example2a.txt")
    assert novo.meta["thickness_mm"] == pytest.approx(0.75)
    assert novo.meta["area_cm2"] == pytest.approx(np.pi * 0.65**2)
    assert novo.temperature == pytest.approx(298.15)
    gam = read(corpus / "ComPlat__chemotion-converter-app/test_files__ChemConverter__EIS__Gamry__"
                        "Framework-DTA__DHM-Cudmp_EISPOT - Copy.DTA")
    assert gam.temperature is None  # the Temp column reads ~1395 °C
    drift = read(corpus / "vyrjana__pyimpspec/tests__drift-corrected-data.dta")
    assert any("drift-corrected" in a for a in drift.meta["assumptions"])
    aborted = read(corpus / "ECSHackWeek__impedance.py/data__exampleDataGamryABORT.DTA")
    assert any("aborted" in n for n in aborted.meta["notes"])
    lib = read(corpus / "ciuccislab__pyDRTtools/EIS data__text files__LIB_data.txt")
    assert any("no column names" in a for a in lib.meta["assumptions"])
    dahn = read(corpus / "Samuel-Buteau__EISFitting/DAHN_TXT_example.txt")
    assert any("#NAME?" in a for a in dahn.meta["assumptions"])


def test_top_level_read_and_describe() -> None:
    corpus = need_corpus()
    p = corpus / "dgbowl__yadg/tests__test_x_eclab__peis.issue_149.mpt"
    assert len(eisfit.read(p, spectrum=2)) == 21
    from eisfit.io.summary import describe

    text = describe(p)
    assert "biologic-mpt, 4 spectra" in text
    assert "21 points" in text


def test_recounted_rows_that_differ_from_index() -> None:
    """INDEX.md says 106 rows (LIB_data.txt) and 24 (Powersuite); the files hold 107 and 30.

    Counted here from the raw bytes with numpy alone: every LIB_data line is three numbers
    (frequencies strictly falling, none repeated); Powersuite has one name line, then 30 lines
    of three numbers ending in CR CR LF.
    """
    corpus = need_corpus()
    lib = corpus / "ciuccislab__pyDRTtools/EIS data__text files__LIB_data.txt"
    a = np.loadtxt(lib)
    assert a.shape == (107, 3)
    assert np.all(np.diff(a[:, 0]) < 0)
    assert EXPECTED[str(lib.relative_to(corpus))].total == 107 == len(read(lib))
    ps = corpus / "ECSHackWeek__impedance.py/data__exampleDataPowersuite.txt"
    raw = ps.read_bytes()
    lines = raw.split(b"\r\r\n")
    assert lines[0].split() == [b"Frequency", b"Zre", b"Zimg"] and lines[-1] == b""
    b = np.array([[float(x) for x in ln.split(b"\t")] for ln in lines[1:-1]])
    assert b.shape == (30, 3)
    assert len(np.unique(b[:, 0])) == 30
    assert EXPECTED[str(ps.relative_to(corpus))].total == 30 == len(read(ps))
