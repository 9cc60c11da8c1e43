"""One path: the same spectrum and options give the same result and the same warnings through
``eisfit.fit``, ``fit_stack``, ``fit_many``, ``fit_series``, ``eisfit fit`` and ``eisfit batch``.

The bundled examples cover the model ladder (the sulfide pellet falls back to
``blocking-spike``), the hidden bulk arc (the LATP pellet above -40 °C) and a full two-arc fit;
every path runs on one engine (numpy: the command line uses it for a single fit).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.kernels import compiled

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = sorted((DATA / "latp_pellet").glob("*.csv")) + sorted(
    (DATA / "sulfide_pellet").glob("*.csv")
)
EXTERNAL = 1.5


def _summary(d: dict) -> tuple:
    """What must agree: the model, the resistances and the warnings."""
    return d["circuit_name"], d["circuit"], d["resistances_ohm"], sorted(d["warnings"])


def _close(a: tuple, b: tuple) -> None:
    assert a[0] == b[0] and a[1] == b[1]
    assert a[2].keys() == b[2].keys()
    for k in a[2]:
        if a[2][k] is None or b[2][k] is None:
            assert a[2][k] == b[2][k]
        else:
            assert b[2][k] == pytest.approx(a[2][k], rel=1e-6, abs=1e-3), k
    assert a[3] == b[3]


@pytest.fixture(scope="module")
def library():
    with compiled.use(False):
        spectra = [eisfit.read(p) for p in FILES]
        single = [
            eisfit.fit(s, "blocking", external_resistance=EXTERNAL, kk=True).to_dict()
            for s in spectra
        ]
        stacked = [
            r.to_dict()
            for r in eisfit.fit_stack(spectra, "blocking", external_resistance=EXTERNAL, kk=True)
        ]
        many = [
            r.to_dict()
            for r in eisfit.fit_many(
                spectra, "blocking", external_resistance=EXTERNAL, kk=True, stack=5
            )
        ]
    return single, stacked, many


def test_fit_stack_and_fit_many_equal_fit(library):
    single, stacked, many = library
    for a, b, c in zip(single, stacked, many, strict=True):
        _close(_summary(a), _summary(b))
        _close(_summary(a), _summary(c))


def test_command_line_fit_and_batch_equal_fit(library, capsys, tmp_path):
    single, _, _ = library
    with compiled.use(False):
        for path, expected in zip(FILES, single, strict=True):
            rc = main(["fit", str(path), "--json", "--external-resistance", str(EXTERNAL)])
            out = json.loads(capsys.readouterr().out)
            assert rc == 0
            _close(_summary(expected), _summary(out))
        # a batch of one folder: the LATP pellet (a temperature series by file name)
        latp = [p for p in FILES if p.parent.name == "latp_pellet"]
        rc = main(
            ["batch", str(DATA / "latp_pellet"), "--json", "--external-resistance", str(EXTERNAL)]
        )
        out = json.loads(capsys.readouterr().out)
    assert rc == 0
    by_name = {Path(s["source"]).name: s for s in out["spectra"]}
    for path in latp:
        expected = single[FILES.index(path)]
        got = by_name[path.name]
        assert got["circuit_name"] == expected["circuit_name"]
        assert got["circuit"] == expected["circuit"]
        for k, v in expected["resistances_ohm"].items():
            assert got["resistances_ohm"][k] == pytest.approx(v, rel=1e-6, abs=1e-3)
        # a series adds its own findings (physics checks); the fit's warnings are all there
        assert set(expected["warnings"]) <= set(got["warnings"])


def test_fit_series_equals_fit(library):
    single, _, _ = library
    latp = [p for p in FILES if p.parent.name == "latp_pellet"]
    with compiled.use(False):
        series = eisfit.fit_series(latp, circuit="blocking", external_resistance=EXTERNAL, kk=True)
    by_name = {Path(r.spectrum.source or "").name: r for r in series}
    for path in latp:
        expected = single[FILES.index(path)]
        got = by_name[path.name].to_dict()
        assert got["circuit_name"] == expected["circuit_name"]
        assert got["circuit"] == expected["circuit"]
        for k, v in expected["resistances_ohm"].items():
            assert got["resistances_ohm"][k] == pytest.approx(v, rel=1e-6, abs=1e-3)
        assert set(expected["warnings"]) <= set(got["warnings"])
