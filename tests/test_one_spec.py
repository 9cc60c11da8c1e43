"""One spec, one answer: the 13 bundled example spectra fitted with a cell geometry give the
same result, the same warnings and the same recorded :class:`~eisfit.fitting.spec.FitSpec` through
``eisfit.fit``, ``fit_stack``, ``fit_many``, ``fit_series``, ``eisfit fit`` and ``eisfit batch``.

The geometry (5 mm thick, 5 mm diameter: not the circuits' 1 mm x 10 mm reference cell)
judges every arc's effective capacitance (in it, the full cell's electrolyte arc has an
interface's capacitance per cell constant); before the options were stated once, the command
line judged them in this cell and the library paths in the reference cell. Every path runs on the
numpy engine, as the command line does for a single fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.fitting.spec import FitSpec
from eisfit.kernels import compiled

DATA = Path(__file__).resolve().parent.parent / "data"
GEOMETRY = eisfit.Geometry(thickness="5 mm", diameter="5 mm")
CLI_GEOMETRY = ["--thickness", "5mm", "--diameter", "5mm"]
#: folder, circuit, external resistance (Ohm)
GROUPS = [("latp_pellet", "blocking", 1.5), ("sulfide_pellet", "blocking", 1.83),
          ("full_cell", "full-cell", 0.0)]


def _files(folder: str) -> list[Path]:
    return sorted((DATA / folder).glob("*.csv"))


def _options(circuit: str, external: float) -> dict:
    return dict(circuit=circuit, external_resistance=external, kk=True, geometry=GEOMETRY)


def _same(a: dict, b: dict, series: bool = False) -> None:
    """``b`` gives what ``a`` gives: model, resistances, spec; the same warnings (a series may
    add its own findings about the series)."""
    assert (b["circuit_name"], b["circuit"]) == (a["circuit_name"], a["circuit"])
    assert b["resistances_ohm"].keys() == a["resistances_ohm"].keys()
    for k, v in a["resistances_ohm"].items():
        if v is None:
            assert b["resistances_ohm"][k] is None
        else:
            assert b["resistances_ohm"][k] == pytest.approx(v, rel=1e-6, abs=1e-3), k
    assert b["spec"] == a["spec"]
    if series:
        assert set(a["warnings"]) <= set(b["warnings"])
    else:
        assert sorted(b["warnings"]) == sorted(a["warnings"])


@pytest.fixture(scope="module")
def single() -> dict[str, dict]:
    """``eisfit.fit`` of every bundled spectrum: the reference of every other path."""
    out = {}
    with compiled.use(False):
        for folder, circuit, external in GROUPS:
            for p in _files(folder):
                r = eisfit.fit(eisfit.read(p), **_options(circuit, external))
                out[p.name] = r.to_dict()
    assert len(out) == 13
    return out


def test_the_spec_is_recorded(single):
    d = single["LATP_-40C.csv"]
    assert d["spec"]["geometry"] == GEOMETRY.to_dict()
    assert d["spec"] == FitSpec.from_dict(d["spec"]).to_dict()
    assert d["spec"]["kk"] is True and d["spec"]["external_resistance_ohm"] == 1.5
    # judged in this cell, not in the reference cell: a warning the reference cell does not give
    judged = [w for w in single["Li_SSE_LFP_25C.csv"]["warnings"] if "cell constant 2.55" in w]
    assert len(judged) == 1 and "electrolyte capacitance" in judged[0]
    with compiled.use(False):
        plain = eisfit.fit(eisfit.read(DATA / "full_cell" / "Li_SSE_LFP_25C.csv"), "full-cell")
    assert not [w for w in plain.warnings if w.startswith("electrolyte capacitance")]


def test_fit_stack_fit_many_and_fit_series_equal_fit(single):
    with compiled.use(False):
        for folder, circuit, external in GROUPS:
            paths = _files(folder)
            spectra = [eisfit.read(p) for p in paths]
            opts = _options(circuit, external)
            for p, r in zip(paths, eisfit.fit_stack(spectra, **opts), strict=True):
                _same(single[p.name], r.to_dict())
            for p, r in zip(paths, eisfit.fit_many(spectra, stack=3, **opts), strict=True):
                _same(single[p.name], r.to_dict())
            if len(paths) < 3:  # a series needs temperatures to compare
                continue
            series = eisfit.fit_series(paths, **opts, neighbours=False)
            for r in series:
                _same(single[Path(r.spectrum.source).name], r.to_dict(), series=True)


def test_command_line_fit_and_batch_equal_fit(single, capsys):
    with compiled.use(False):
        for folder, circuit, external in GROUPS:
            common = ["--circuit", circuit, "--external-resistance", str(external), *CLI_GEOMETRY]
            for p in _files(folder):
                assert main(["fit", str(p), "--json", *common]) == 0
                _same(single[p.name], json.loads(capsys.readouterr().out))
            assert main(["batch", str(DATA / folder), "--json", *common]) == 0
            out = json.loads(capsys.readouterr().out)
            for d in out["spectra"]:
                _same(single[Path(d["source"]).name], d, series=True)


def test_inductive_points_are_dropped_alike_or_kept_alike():
    # a spectrum whose top points are inductive (cables): drop_inductive reaches every path
    s = eisfit.read(_files("latp_pellet")[-1])
    z = s.z + 1j * 2 * 3.141592653589793 * s.frequency * 2e-6  # 2 µH of leads
    leads = eisfit.Spectrum(s.frequency, z, meta=dict(s.meta))
    assert (leads.z.imag > 0).any()
    with compiled.use(False):
        for drop in (True, False):
            opts = dict(circuit="blocking", drop_inductive=drop, geometry=GEOMETRY)
            a = eisfit.fit(leads, **opts).to_dict()
            b = eisfit.fit_stack([leads], **opts)[0].to_dict()
            c = next(iter(eisfit.fit_many([leads], **opts))).to_dict()
            assert a["n_points"] == b["n_points"] == c["n_points"]
            assert a["spec"]["drop_inductive"] is drop
            _same(a, b)
            _same(a, c)
        kept = eisfit.fit(leads, "blocking", drop_inductive=False)
        dropped = eisfit.fit(leads, "blocking")
    assert kept.n_points > dropped.n_points


def test_a_bad_option_is_refused_before_any_fit():
    s = eisfit.read(_files("full_cell")[0])
    with pytest.raises(eisfit.EisfitError, match="geometry must be an eisfit.Geometry"):
        eisfit.fit(s, "full-cell", geometry="1 mm")
    with pytest.raises(eisfit.EisfitError, match="drop_inductive must be True or False"):
        list(eisfit.fit_many([s], "full-cell", drop_inductive="yes"))
