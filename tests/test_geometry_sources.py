"""What a geometry is needed for (ASR: area; σ: area and thickness), geometries read from file
headers, and the capacitance check giving one verdict with or without a geometry."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.exceptions import GeometryError
from eisfit.fitting.checks import capacitance_warnings
from eisfit.model.capacitance import expected_range, per_unit, verdicts
from eisfit.model.geometry import Geometry, geometry_for, geometry_from_meta
from eisfit.model.named import named_circuits

DATA = Path(__file__).resolve().parents[1] / "data"
FULL = DATA / "full_cell" / "Li_SSE_LFP_25C.csv"
NOVO = "Sheyigold__EISFitpython/EIS_Data__Example-2__Example2a.txt"


# --------------------------------------------------------------------------- area only
def test_area_only_gives_asr_and_refuses_conductivity_in_one_line():
    g = Geometry(area="1 cm2")
    assert not g.has_thickness and g.thickness_m is None
    assert g.asr(25.0) == pytest.approx(25.0)
    assert g.asr(25.0, interfaces=2) == pytest.approx(12.5)
    assert g.conductance(25.0) == pytest.approx(0.04)
    for call in (lambda: g.conductivity(25.0), lambda: g.cell_constant_per_cm):
        with pytest.raises(GeometryError) as info:
            call()
        msg = str(info.value)
        assert "\n" not in msg and "needs the thickness" in msg and "1 cm²" in msg
    assert str(g) == "thickness not given, 1 cm² area"
    d = g.to_dict()
    assert d["thickness_m"] is None and d["cell_constant_per_cm"] is None
    assert d["area_cm2"] == pytest.approx(1.0) and "not computed" in d["conductivity"]
    json.dumps(d)


def test_thickness_alone_is_not_a_geometry():
    with pytest.raises(GeometryError, match="give exactly one of area"):
        Geometry(thickness="1 mm")


def test_fit_result_with_area_only(full):
    g = Geometry(area="2 cm2")
    d = full.to_dict(g)
    assert "conductivity_S_per_cm" not in d and "conductivity_stderr_S_per_cm" not in d
    for role, r in full.resistances.items():
        assert d["asr_ohm_cm2"][role] == pytest.approx(2.0 * r)  # one interface each
    text = full.report(g)
    assert "[[Area-specific resistance]]" in text and "[[Conductivity]]" not in text
    assert text.count("needs the thickness") == 1


def test_cli_full_cell_area_only_then_with_thickness(capsys):
    args = ["fit", str(FULL), "--circuit", "full-cell", "--area", "1cm2", "--json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert "conductivity_S_per_cm" not in d
    assert d["asr_ohm_cm2"]["total"] == pytest.approx(d["resistances_ohm"]["total"])
    assert d["geometry"]["thickness_m"] is None
    assert main([*args, "--thickness", "0.5mm"]) == 0
    d = json.loads(capsys.readouterr().out)
    r = d["resistances_ohm"]["electrolyte"]
    assert d["conductivity_S_per_cm"]["electrolyte"] == pytest.approx(0.05 / (r * 1.0))


def test_cli_text_report_area_only(capsys):
    assert main(["fit", str(FULL), "--circuit", "full-cell", "--area", "1cm2"]) == 0
    out = capsys.readouterr().out
    assert "[[Area-specific resistance]]" in out and "Ohm cm2" in out


def test_cli_thickness_without_area_and_batch_area_only_are_one_line_errors(tmp_path, capsys):
    assert main(["fit", str(FULL), "--thickness", "1mm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--diameter or --area is needed" in err
    # a batch analyses conductivity: refused before any fit
    assert main(["batch", str(DATA / "latp_pellet"), "--area", "1cm2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--thickness is needed" in err


# --------------------------------------------------------------------------- file headers
def test_geometry_from_meta():
    g = geometry_from_meta({"thickness_mm": 0.75, "diameter_mm": 13.0})
    assert g.thickness_m == pytest.approx(7.5e-4)
    assert g.area_cm2 == pytest.approx(math.pi * 1.3**2 / 4)
    assert g.note == "geometry from the file header: 0.75 mm thick, 13 mm diameter"
    assert geometry_from_meta({"thickness_mm": 0.75}) is None
    assert geometry_from_meta({"diameter_mm": 13.0}) is None
    assert geometry_from_meta({"thickness_mm": 0.0, "diameter_mm": 13.0}) is None
    assert geometry_from_meta({}) is None


def test_user_geometry_wins_and_the_note_says_so():
    s = eisfit.Spectrum([1e3, 1e2, 1e1], [10 - 1j, 11 - 2j, 12 - 3j],
                        meta={"thickness_mm": 0.75, "diameter_mm": 13.0})
    user = Geometry("1 mm", diameter="10 mm")
    g = geometry_for(s, user)
    assert g == user
    assert "not the file header's (0.75 mm thick, 13 mm diameter)" in g.note
    same = geometry_for(s, Geometry("0.75 mm", diameter="13 mm"))
    assert "the same as the file header's" in same.note
    assert geometry_for(s, None).note.startswith("geometry from the file header")
    assert geometry_for(eisfit.Spectrum([1e3, 1e2, 1e1], [1 - 1j, 2 - 1j, 3 - 1j]), None) is None


def test_novocontrol_header_geometry_in_fit(corpus_dir, capsys):
    path = str(corpus_dir / NOVO)
    assert main(["fit", path, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["geometry"]["note"] == "geometry from the file header: 0.75 mm thick, 13 mm diameter"
    area = math.pi * 1.3**2 / 4
    r = d["resistances_ohm"]["total"]
    assert d["conductivity_S_per_cm"]["total"] == pytest.approx(0.075 / (r * area))
    header_caps = [w for w in d["warnings"] if "capacitance" in w]
    # the user's geometry wins, and the note says so
    assert main(["fit", path, "--json", "--thickness", "1mm", "--diameter", "10mm"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["geometry"]["thickness_m"] == pytest.approx(1e-3)
    assert "not the file header's" in d["geometry"]["note"]
    r = d["resistances_ohm"]["total"]
    assert d["conductivity_S_per_cm"]["total"] == pytest.approx(0.1 / (r * math.pi * 0.25))
    user_caps = [w for w in d["warnings"] if "capacitance" in w]
    assert _verdict_pairs(header_caps) == _verdict_pairs(user_caps)


def test_novocontrol_text_report_names_the_header(corpus_dir, capsys):
    assert main(["fit", str(corpus_dir / NOVO)]) == 0
    out = capsys.readouterr().out
    assert "note         = geometry from the file header: 0.75 mm thick, 13 mm diameter" in out
    assert "[[Conductivity]]" in out


# --------------------------------------------------------------------------- capacitance check
def _verdict_pairs(lines):
    out = []
    for w in lines:
        role = w.split(" capacitance ")[0]
        may = w.split("the arc may be the ")[1] if "the arc may be the " in w else None
        out.append((role, may))
    return out


def test_per_unit_ranges_convert_by_hand():
    named = named_circuits()["blocking"]
    assert per_unit(named, "bulk") == pytest.approx((1e-14, 1e-10))
    assert per_unit(named, "electrode") == pytest.approx((1e-7, 1e-4))
    # without a geometry: the reference pellet, 1 mm, 10 mm diameter, L/A = 0.1 / 0.7854 cm^-1
    k_ref = 0.1 / (math.pi * 0.25)
    assert expected_range(named, "bulk") == pytest.approx((1e-14 / k_ref, 1e-10 / k_ref))
    assert expected_range(named, "electrode") == pytest.approx((0.7854e-7, 0.7854e-4), rel=1e-4)
    cell = Geometry("1 mm", area="2 cm2")  # L/A = 0.05 cm^-1
    assert expected_range(named, "bulk", cell) == pytest.approx((2e-13, 2e-9))
    assert expected_range(named, "electrode", cell) == pytest.approx((2e-7, 2e-4))
    # an area alone: interfaces per area, geometric roles in the reference cell
    area = Geometry(area="2 cm2")
    assert expected_range(named, "electrode", area) == pytest.approx((2e-7, 2e-4))
    assert expected_range(named, "bulk", area) == expected_range(named, "bulk")
    # thin films keep their ranges in F for their own reference cell (1 um on 3 mm2)
    film = named_circuits()["thin-film"]
    assert film.capacitance_F["bulk"] == pytest.approx((1e-11, 1e-6))
    assert per_unit(film, "bulk") == pytest.approx((1e-11 * 1e-4 / 0.03, 1e-6 * 1e-4 / 0.03))


def test_same_verdict_with_and_without_geometry_novocontrol(corpus_dir):
    s = eisfit.read(corpus_dir / NOVO)
    r = eisfit.fit(s, "blocking")
    g = geometry_from_meta(s.meta)
    bare, cell = verdicts(r.named, r.capacitances), verdicts(r.named, r.capacitances, g)
    assert [v[:2] for v in bare] == [v[:2] for v in cell]
    assert _verdict_pairs(capacitance_warnings(r)) == _verdict_pairs(capacitance_warnings(r, g))
    # the fit's own warnings (no geometry) say the same
    fit_lines = [w for w in r.warnings if " capacitance " in w and "outside" in w]
    assert _verdict_pairs(fit_lines) == _verdict_pairs(capacitance_warnings(r, g))


@pytest.mark.parametrize("path", sorted((DATA / "latp_pellet").glob("*.csv")), ids=lambda p: p.stem)
def test_same_verdict_with_and_without_geometry_latp(path):
    r = eisfit.fit(eisfit.read(path), "blocking")
    g = Geometry("1 mm", diameter="10 mm")  # the true geometry (data/README.md)
    assert [v[:2] for v in verdicts(r.named, r.capacitances)] == [
        v[:2] for v in verdicts(r.named, r.capacitances, g)
    ]
    assert _verdict_pairs(capacitance_warnings(r)) == _verdict_pairs(capacitance_warnings(r, g))
