"""Corrupted real files: only a ReaderError or valid spectra may come out of a reader.

Each example truncates a corpus file at a random byte, flips random bytes or deletes a random
line, then reads it both with detection and with the original file's reader forced. Without the
corpus, synthetic EC-Lab and CSV files are mutated instead. The project-made files of formats the
corpus lacks (``tests/data/io/``: NOVA, PSTrace, MultiTrace, Ivium text, Zahner text) are
always mutated.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eisfit.exceptions import ReaderError
from eisfit.io import detect_format, read_all
from eisfit.io.spectrum import Spectrum


def _corpus() -> Path | None:
    env = os.environ.get("EISFIT_CORPUS")
    p = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "eis-corpus"
    return p if p.is_dir() else None


# one small file per reader
SMALL = [
    "ECSHackWeek__impedance.py/data__exampleDataBioLogic.mpt",
    "dgbowl__yadg/tests__test_x_eclab__peis.issue_149.mpt",
    "m0l0t0ph__thesis/Experimentelles__Ausgewaehlte_Daten__LATP__PEIS__LATP_Korrosion_04_PEIS_C02.mpt",
    "dgbowl__yadg/tests__test_x_eclab__peis.mpr",
    "bcliang__gamry-parser/tests__eispot_data.dta",
    "vyrjana__pyimpspec/tests__drift-corrected-data.dta",
    "ECSHackWeek__impedance.py/data__Circuit1_EIS_1.z",
    "ECSHackWeek__impedance.py/data__exampleDataZPlot_noComments.z",
    "ECSHackWeek__impedance.py/data__exampleDataCHInstruments.txt",
    "ECSHackWeek__impedance.py/data__exampleDataPowersuite.txt",
    "ECSHackWeek__impedance.py/data__exampleDataVersaStudio.par",
    "Sheyigold__EISFitpython/EIS_Data__Example-2__Example2a.txt",
    "m0l0t0ph__thesis/Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__"
    "17.07.2015__LRC_0_  -1°C.txt",
    "jdhuang-csm__hybrid-drt/tutorials__data__PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt",
    "Samuel-Buteau__EISFitting/DAHN_TXT_example.txt",
    "ciuccislab__pyDRTtools/EIS data__text files__LIB_data.txt",
    "vyrjana__pyimpspec/tests__data.idf",
    "vyrjana__pyimpspec/tests__data.pssession",
    "Zahner-elektrik__Zahner-Analysis-Python/Examples__BasicIntroduction__rc-data.ism",
]


def _synthetic() -> dict[str, bytes]:
    f = np.logspace(5, -1, 25)
    z = 3 + 300 / (1 + 1j * f / 1e2)
    rows = [f"{a:.7E}\t{b.real:.7E}\t{-b.imag:.7E}" for a, b in zip(f, z, strict=True)]
    mpt = "EC-Lab ASCII FILE\r\nNb header lines : 4\r\n\r\nfreq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\r\n"
    mpt += "\r\n".join(rows) + "\r\n"
    csv = "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "\n".join(r.replace("\t", ",") for r in rows) + "\n"
    return {"synthetic.mpt": mpt.encode("latin-1"), "synthetic.csv": csv.encode()}


PROJECT_FILES = Path(__file__).resolve().parent / "data" / "io"


def _sources() -> list[tuple[str, bytes]]:
    made = [(p.name, p.read_bytes()) for p in sorted(PROJECT_FILES.glob("*")) if p.is_file()]
    corpus = _corpus()
    if corpus is None:
        return sorted(_synthetic().items()) + made
    out = []
    for rel in SMALL:
        p = corpus / rel
        if p.is_file():
            out.append((Path(rel).name, p.read_bytes()))
    return (out or sorted(_synthetic().items())) + made


SOURCES = dict(_sources())
_FORMAT: dict[str, str] = {}


def _original_format(name: str, data: bytes, tmp: Path) -> str:
    if name not in _FORMAT:
        p = tmp / name
        p.write_bytes(data)
        _FORMAT[name] = detect_format(p)
    return _FORMAT[name]


def _check(path: Path, fmt: str | None) -> None:
    try:
        spectra = read_all(path, fmt)
    except ReaderError as exc:
        assert path.name in str(exc)
        assert "\n" not in str(exc)
        return
    for s in spectra:
        assert isinstance(s, Spectrum)
        assert np.all(np.isfinite(s.frequency)) and np.all(s.frequency > 0)
        assert np.all(np.isfinite(s.z))


mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("delete_line"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from([0, 9, 10, 44, 59, 255])),
)


def _mutate(data: bytes, kind: str, where: float, value: int) -> bytes:
    i = min(len(data) - 1, int(where * len(data)))
    if kind == "truncate":
        return data[:i]
    if kind == "flip":
        b = bytearray(data)
        b[i] ^= value
        return bytes(b)
    if kind == "insert":
        return data[:i] + bytes([value]) * 3 + data[i:]
    lines = data.split(b"\n")
    k = min(len(lines) - 1, int(where * len(lines)))
    return b"\n".join(lines[:k] + lines[k + 1:])


@pytest.mark.parametrize("name", sorted(SOURCES))
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mut=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_file(name: str, mut: list[tuple[str, float, int]]) -> None:
    data = SOURCES[name]
    if name.endswith(".mpr"):
        pytest.importorskip("galvani")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fmt = _original_format(name, data, tmp)
        bad = data
        for kind, where, value in mut:
            if bad:
                bad = _mutate(bad, kind, where, value)
        p = tmp / name
        p.write_bytes(bad)
        _check(p, None)
        _check(p, fmt)
