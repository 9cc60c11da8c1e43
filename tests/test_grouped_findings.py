"""One warning line per finding (eisfit.fitting.checks.grouped, applied by FitSpec.record on
every path): a chain of fallbacks is one line, the undetermined parts of an arc above the window
are said in its note, and the undetermined parameters of one role are one line with the
correlations between them. Checked on the bundled example spectra, whose truth is known."""

from __future__ import annotations

from pathlib import Path

import pytest

import eisfit
from eisfit.fitting.checks import grouped

DATA = Path(__file__).resolve().parents[1] / "data"


def _fit(name: str) -> eisfit.FitResult:
    path = DATA / name
    if "full_cell" in name:
        return eisfit.fit(eisfit.read(path), "full-cell")
    external = 1.83 if "sulfide" in name else 0.0
    return eisfit.fit(eisfit.read(path), "blocking", external_resistance=external)


@pytest.fixture(scope="module")
def bundled() -> dict[str, eisfit.FitResult]:
    names = sorted(str(p.relative_to(DATA)) for p in DATA.glob("*/*.csv"))
    assert len(names) == 13
    return {n: _fit(n) for n in names}


def test_a_chain_of_fallbacks_is_one_line(bundled):
    r = bundled["sulfide_pellet/LPSCl_70C.csv"]
    fallbacks = [f for f in r.findings if f.code == "fallback"]
    assert len(fallbacks) == 1
    line = fallbacks[0]
    assert line.startswith("model: blocking-spike fitted in place of blocking-single, since")
    assert "; before that, blocking-single fitted in place of blocking, since" in line
    assert r.circuit_name == "blocking-spike"


def test_the_parts_of_an_arc_above_the_window_are_said_in_its_note(bundled):
    r = bundled["latp_pellet/LATP_30C.csv"]
    notes = [f for f in r.findings if f.code == "hidden_arc"]
    assert len(notes) == 1 and notes[0].role == "bulk"
    assert "R0 and R1, its parts, are determined only as their sum" in notes[0]
    # the parameters folded in are still flagged on the parameters themselves
    folded = {"R0", "R1"} | {p for p in ("CPE1_0", "CPE1_1") if p in notes[0]}
    assert all("relative_error_over_100%" in r.flags.get(p, []) for p in folded)
    assert not any(f.code == "not_determined" and set(f.parameters) & folded
                   for f in r.findings)


def test_undetermined_parameters_of_one_role_are_one_line_with_their_correlation(bundled):
    r = bundled["full_cell/Li_SSE_LFP_25C.csv"]
    diffusion = [f for f in r.findings if f.code == "not_determined" and f.role == "diffusion"]
    assert len(diffusion) == 1
    assert set(diffusion[0].parameters) == {"Wo1_0", "Wo1_1"}
    assert "Wo1_0 and Wo1_1 are correlated (+0.99" in diffusion[0]
    assert not any(f.code == "correlated" and set(f.parameters) == {"Wo1_0", "Wo1_1"}
                   for f in r.findings)
    # a correlation between parameters that are each determined stays its own line
    assert any(f.code == "correlated" and set(f.parameters) == {"R2", "R3"} for f in r.findings)


def test_every_bundled_fit_says_each_finding_once(bundled):
    for name, r in bundled.items():
        f = r.findings
        keys = [(x.code, x.role) for x in f if x.code in ("fallback", "hidden_arc")]
        assert len(keys) == len(set(keys)), name
        undetermined = [set(x.parameters) for x in f if x.code == "not_determined"]
        roles = [x.role for x in f if x.code == "not_determined"]
        assert len(roles) == len(set(roles)), (name, roles)
        for x in f:
            if x.code == "correlated":
                assert not any(set(x.parameters) <= s and len(s) > 1 for s in undetermined), name


def test_grouping_twice_changes_nothing(bundled):
    for r in bundled.values():
        assert grouped(r) is r


def test_the_same_lines_through_fit_stack_and_eisfit_fit(bundled, capsys):
    from eisfit.cli.main import main

    name = "sulfide_pellet/LPSCl_70C.csv"
    stacked = eisfit.fit_stack([eisfit.read(DATA / name)], "blocking", external_resistance=1.83)
    assert stacked[0].warnings == bundled[name].warnings
    assert main(["fit", str(DATA / name), "--external-resistance", "1.83ohm", "--json",
                 "--no-kk"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert doc["warnings"] == list(bundled[name].warnings)
    assert [f["code"] for f in doc["findings"]] == [f.code for f in bundled[name].findings]
