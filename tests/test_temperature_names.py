"""Temperatures in file names as labs write them, and the same temperature from `eisfit fit`
and `eisfit batch`.

The corpus checks need the shared instrument files (``<checkout>/../shared/eis-corpus`` or
``$EISFIT_CORPUS``) and are skipped without them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from eisfit.cli.main import main
from eisfit.series.inputs import SeriesError, temperature_from_name

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "latp_pellet" / "LATP_10C.csv"
ZERO_C = 273.15


def corpus_dir() -> Path | None:
    env = os.environ.get("EISFIT_CORPUS")
    p = Path(env) if env else ROOT.parent / "shared" / "eis-corpus"
    return p if p.is_dir() else None


def need_corpus() -> Path:
    p = corpus_dir()
    if p is None:
        pytest.skip("EIS corpus not found: set EISFIT_CORPUS to the shared eis-corpus folder")
    return p


# --------------------------------------------------------------------------- the rule
LRC = "Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__17.07.2015__LRC_0_  "

# (name, temperature in °C, or "K:" + kelvin, or None when the name holds no temperature)
NAMES: list[tuple[str, float | str | None]] = [
    # what was read before
    ("LATP_-10C.csv", -10),
    ("pellet_25degC.mpt", 25),
    ("pellet_25°C.txt", 25),
    ("run_T=25.csv", 25),
    ("cell_298K.txt", "K:298"),
    # spellings labs use
    ("pellet-140deg.txt", 140),  # '-' after a letter separates: not a sign
    ("pellet_140degC.csv", 140),
    ("LLZO 140 °C.csv", 140),  # a space before the unit
    ("-25C.csv", -25),  # a minus that starts the name is a sign
    ("LPSCl_25_C.csv", 25),
    ("LPSCl_T25.csv", 25),
    ("T100_pellet.csv", 100),
    ("pellet_25ºC.csv", 25),  # º typed for °
    ("pellet_25\u2103.csv", 25),
    ("LATP_\u221210C.csv", -10),  # U+2212 is always a minus
    ("pellet_25p5C.csv", 25.5),
    (LRC + "-72°C.txt", -72),  # a minus after spaces is a sign
    ("PEIS_LPSCl_IonBlocking_-25C.txt", -25),
    ("CHD048_CHD050_60C_C01.mpr", 60),
    ("run3-25C.csv", 25),  # '-' after a digit separates too
    # not temperatures
    ("LATP_Korrosion_04_PEIS_C02.mpt", None),  # channel suffix
    ("sample_1_C01.mpt", None),
    ("Li6PS5Cl_pellet.csv", None),  # formulas
    ("LiNiMnO-LATP-LTO_Spinell_02_PEIS_C01.mpt", None),
    ("LATP.csv", None),
    ("17.07.2015__LRC_0_.txt", None),  # a date
    ("cycle_100.csv", None),  # cycle counts
    ("after_50_Cycles.csv", None),
    ("cycle_1C_rate.csv", None),  # C-rates
    ("rate_2C.csv", None),
    ("discharge_0.5C-rate.csv", None),
    ("PEIS.mpt", None),
    ("x_3C4.csv", None),
    ("trial_T1.csv", None),  # T1..T9 number trials and time points
    ("sample 3 C.csv", None),  # a bare C after a space
    ("pellet_25c.csv", None),  # lower case c
    ("sweep_100k.csv", None),  # kilo
    ("CR2032_run1.csv", None),
]


def kelvin(expected: float | str) -> float:
    if isinstance(expected, str):
        return float(expected.removeprefix("K:"))
    return expected + ZERO_C


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_temperature_from_name(name, expected):
    got = temperature_from_name(name)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(kelvin(expected))


@pytest.mark.parametrize(
    "name",
    [
        "PDAC_COM3_02109_Contact10_2065C_500C.txt",
        "cycle_1C_25C.csv",  # "1C" here is not beside "rate": two temperatures, refused
        "pellet_25C_300K.csv",
    ],
)
def test_two_different_temperatures_are_refused(name):
    with pytest.raises(SeriesError, match="several temperatures"):
        temperature_from_name(name)


def test_one_temperature_written_twice_is_one():
    assert temperature_from_name("pellet_25C_298.15K.csv") == pytest.approx(298.15)


# --------------------------------------------------------------------------- the corpus names
def _corpus_names(corpus: Path) -> list[str]:
    text = (corpus / "INDEX.md").read_text(encoding="utf-8")
    return [row.split("/", 1)[1] for row in re.findall(r"^\| `([^`]+)` \|", text, re.M)]


# the corpus names that hold a temperature (°C), as INDEX.md describes the files; the bayes-drt
# files hold two (a substrate temperature and the cell's) and must be refused
CORPUS_TEMPERATURES_C = {
    **{LRC + f"{t}°C.txt": t for t in (-17, -1, -27, -41, -50, -59, -72, 29, 50)},
    **{LRC.replace("17.07", "20.07") + f"{t}°C.txt": t for t in (100, 150)},
    "test_files__ChemConverter__EIS__BioLogic__ECLab-mpr__CHD048_CHD050_60C_C01.mpr": 60,
    "tutorials__data__PEIS_LPSCl_IonBlocking_-25C.txt": -25,
    "tutorials__data__PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt": -25,
}
CORPUS_AMBIGUOUS = {
    "data__experimental__PDAC_COM3_02109_Contact10_2065C_500C.txt",
    "data__experimental__PDAC_COM3_02210_Contact111_2072C_350C.txt",
}


def test_corpus_names_give_their_temperature_and_no_other():
    names = _corpus_names(need_corpus())
    assert len(names) > 50
    assert set(CORPUS_TEMPERATURES_C) | CORPUS_AMBIGUOUS <= set(names)
    for name in names:
        if name in CORPUS_AMBIGUOUS:
            with pytest.raises(SeriesError, match="several temperatures"):
                temperature_from_name(name)
        elif name in CORPUS_TEMPERATURES_C:
            assert temperature_from_name(name) == pytest.approx(
                CORPUS_TEMPERATURES_C[name] + ZERO_C
            ), name
        else:
            assert temperature_from_name(name) is None, name


# --------------------------------------------------------------------------- fit and batch
def _copy(tmp_path: Path, name: str, source: Path = EXAMPLE) -> Path:
    folder = tmp_path / name.replace(".", "_")
    folder.mkdir()
    return Path(shutil.copyfile(source, folder / name))


def _fit_json(path: Path, capsys, *extra: str) -> tuple[int, dict]:
    code = main(["fit", str(path), "--json", "--no-kk", *extra])
    return code, json.loads(capsys.readouterr().out)


def _batch_json(paths: list[Path], capsys, *extra: str) -> tuple[int, dict]:
    code = main(["batch", *map(str, paths), "--json", "--no-kk", "--workers", "1", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_fit_reports_the_temperature_batch_takes_from_the_name(tmp_path, capsys):
    path = _copy(tmp_path, "pellet-140deg.csv")
    code, fitted = _fit_json(path, capsys)
    assert code == 0
    assert fitted["temperature_K"] == pytest.approx(140 + ZERO_C)
    code, batch = _batch_json([path], capsys)
    assert code == 0
    assert batch["spectra"][0]["temperature_K"] == fitted["temperature_K"]
    assert main(["fit", str(path), "--no-kk"]) == 0
    assert re.search(r"temperature\s+=\s+413\.15 K", capsys.readouterr().out)


def test_fit_without_a_temperature_in_the_name_reports_none(tmp_path, capsys):
    code, fitted = _fit_json(_copy(tmp_path, "pellet.csv"), capsys)
    assert code == 0 and fitted["temperature_K"] is None


def test_fit_of_a_name_batch_refuses_fits_and_warns(tmp_path, capsys):
    path = _copy(tmp_path, "PDAC_COM3_02109_Contact10_2065C_500C.csv")
    code, fitted = _fit_json(path, capsys)
    assert code == 0
    assert fitted["temperature_K"] is None
    assert any("several temperatures" in w for w in fitted["warnings"])
    assert main(["batch", str(path), "--no-kk", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "several temperatures" in err and err.count("\n") == 1


def test_name_wins_over_metadata_in_fit_as_in_batch(tmp_path, capsys):
    # a Novocontrol file whose title says 25 °C ('s05751_25deg'), renamed to say 60 °C
    corpus = need_corpus()
    source = corpus / "Sheyigold__EISFitpython" / "EIS_Data__Example-2__Example2a.txt"
    code, fitted = _fit_json(_copy(tmp_path, "Example2a.txt", source), capsys)
    assert code == 0 and fitted["temperature_K"] == pytest.approx(25 + ZERO_C)  # metadata
    path = _copy(tmp_path, "pellet_60C.txt", source)
    code, fitted = _fit_json(path, capsys)
    assert code == 0 and fitted["temperature_K"] == pytest.approx(60 + ZERO_C)
    code, batch = _batch_json([path], capsys)
    assert batch["spectra"][0]["temperature_K"] == fitted["temperature_K"]
    code, batch = _batch_json([path], capsys, "--temperatures", "metadata")
    assert batch["spectra"][0]["temperature_K"] == pytest.approx(25 + ZERO_C)


def test_batch_reads_a_folder_named_in_deg(tmp_path, capsys):
    folder = tmp_path / "series"
    folder.mkdir()
    sources = sorted((ROOT / "data" / "latp_pellet").glob("LATP_*C.csv"))[:2]
    for source, t in zip(sources, (140, 160), strict=True):
        shutil.copyfile(source, folder / f"pellet-{t}deg.txt")
    code, batch = _batch_json([folder], capsys)
    assert code == 0 and batch["failures"] == []
    got = sorted(s["temperature_K"] for s in batch["spectra"])
    assert got == pytest.approx([140 + ZERO_C, 160 + ZERO_C])
    for name, t in (("pellet-140deg.txt", 140), ("pellet-160deg.txt", 160)):
        _, fitted = _fit_json(folder / name, capsys)
        assert fitted["temperature_K"] == pytest.approx(t + ZERO_C)
