"""Structured warnings: each warning of a fit is a :class:`eisfit.Finding`, a ``str`` with the
same text as before that carries a stable code, its role and the numbers behind the text.

Truth is independent of the code under test: spectra are evaluated from known circuits (the
lin-KK numbers come from :func:`kramers_kronig` itself, the capacitance range from
:func:`expected_range`), and control flow is shown to read codes by giving it findings whose
text says something else.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.analysis.kk import kk_warning, kramers_kronig
from eisfit.findings import Finding, as_finding, by_code
from eisfit.fitting.checks import capacitance_warnings, grouped, with_geometry
from eisfit.model.capacitance import expected_range
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q
from eisfit.series import checks as series_checks

F = np.logspace(6, -1, 71)
ONE_ARC = "R0-p(R1,CPE1)"
PACKAGE = Path(eisfit.__file__).resolve().parent


def spectrum(circuit: str, params, noise: float = 0.005, seed: int = 0) -> eisfit.Spectrum:
    z = Circuit(circuit).impedance(F, params)
    return eisfit.Spectrum(F, add_noise(z, noise, np.random.default_rng(seed)) if noise else z)


def wrapped_phase() -> eisfit.Spectrum:
    """One arc with every third point's real part flipped (an LCR meter's wrapped phase):
    no Voigt chain describes it, so it fails lin-KK by far."""
    f = np.logspace(6, 0, 61)
    z = Circuit(ONE_ARC).impedance(f, [10, 1e3, 1e-9, 0.9])
    flip = np.where(np.arange(f.size) % 3 == 0, -1.0, 1.0)
    return eisfit.Spectrum(f, z.real * flip + 1j * z.imag)


@pytest.fixture(scope="module")
def weak_r0_fit():
    """A 0.01 Ohm series resistance under a 10 kOhm arc with 0.5 % noise: R0 not determined."""
    s = spectrum(ONE_ARC, [0.01, 1e4, arc_q(1e4, 1e-8, 0.85), 0.85])
    return eisfit.fit(s, ONE_ARC)


@pytest.fixture(scope="module")
def film_fit():
    """A 1 um film's arc (50 nF on 1 cm2) fitted with blocking-single: in range in the reference
    pellet, out of range in a 5 mm x 0.2 cm2 cell."""
    p = [5, 1e3, arc_q(1e3, 5e-8, 0.95), 0.95, 1e-5, 0.9]
    return eisfit.fit(spectrum("R0-p(R1,CPE1)-CPE2", p), "blocking-single")


# --------------------------------------------------------------------------- the record
def test_a_finding_is_its_text():
    f = Finding("R0 sits at its lower bound 0", "at_bound", role="series",
                numbers={"value": 0.0, "bound": 0}, parameters=("R0",))
    assert f == "R0 sits at its lower bound 0" and hash(f) == hash(str(f))
    assert f in ("R0 sits at its lower bound 0",) and f"{f}" == str(f) == f.message
    assert repr(f) == repr("R0 sits at its lower bound 0")
    assert json.dumps([f]) == '["R0 sits at its lower bound 0"]'
    assert (f.code, f.role, f.severity, f.numbers, f.parameters) == (
        "at_bound", "series", "warning", {"value": 0.0, "bound": 0.0}, ("R0",))
    with pytest.raises(AttributeError):
        f.code = "other"
    with pytest.raises(ValueError, match="severity"):
        Finding("x", severity="fatal")


def test_plain_strings_are_code_other():
    f = as_finding("a line from an older file")
    assert isinstance(f, Finding) and f.code == "other" and f.role is None and f.numbers == {}
    kept = Finding("y", "kk_fails")
    assert as_finding(kept) is kept
    assert by_code(["x", kept, "y"], "kk_fails") == [kept]


@pytest.mark.parametrize("clone", [
    lambda f: pickle.loads(pickle.dumps(f)), copy.copy, copy.deepcopy,
    lambda f: Finding.from_dict(json.loads(json.dumps(f.to_dict()))),
])
def test_a_finding_keeps_its_fields_when_copied(clone):
    f = Finding("text", "kk_fails", role="bulk", severity="note",
                numbers={"max_residual": 0.25, "threshold": 0.02}, parameters=("R0", "R1"))
    g = clone(f)
    assert type(g) is Finding and g == f
    assert (g.code, g.role, g.severity, g.numbers, g.parameters) == (
        f.code, f.role, f.severity, f.numbers, f.parameters)


def test_non_finite_numbers_are_null_in_json():
    d = Finding("x", "not_determined", numbers={"stderr": math.nan}).to_dict()
    assert d["numbers"] == {"stderr": None}
    assert math.isnan(Finding.from_dict(d).numbers["stderr"])


# --------------------------------------------------------------------------- producers
def test_kk_failure_carries_the_checks_residual_and_threshold():
    s = wrapped_phase()
    kk = kramers_kronig(s)
    assert not kk.passed
    w = kk_warning(s)
    assert w.code == "kk_fails" and w.severity == "warning" and w.role is None
    assert w.startswith("the spectrum fails the Kramers-Kronig check (lin-KK: max |residual| ")
    assert w.numbers["max_residual"] == kk.max_residual
    assert w.numbers["threshold"] == kk.threshold
    assert w.numbers["max_trend"] == kk.max_trend
    # the series checks read the numbers: the excess is exact, not the rounded text's
    assert series_checks.kk_failed([w])
    assert series_checks.kk_excess(["something else", w]) == kk.max_residual / kk.threshold
    # the same finding in a fit made with the check
    r = eisfit.fit(s, ONE_ARC, kk=True)
    (found,) = by_code(r.warnings, "kk_fails")
    assert found == w and found.numbers == w.numbers


def test_series_checks_read_codes_not_text():
    fake = Finding("the spectrum passes everything", "kk_fails",
                   numbers={"max_residual": 0.3, "threshold": 0.01})
    assert series_checks.kk_failed([fake]) and series_checks.kk_excess([fake]) == 30.0
    text = "the spectrum fails the Kramers-Kronig check (lin-KK: max |residual| 30 % of |Z| " \
           "(threshold 1 %))"
    assert not series_checks.kk_failed([text]) and math.isnan(series_checks.kk_excess([text]))


def test_kk_check_that_cannot_run_is_a_note_not_a_failure():
    f = np.logspace(3, 1, 3)
    w = kk_warning(eisfit.Spectrum(f, 100 - 10j * np.ones(3)))
    assert w.code == "kk_not_run" and w.severity == "note" and "could not be run" in w
    assert not series_checks.kk_failed([w])


def test_undetermined_r0_is_not_determined_with_its_role(weak_r0_fit):
    r = weak_r0_fit
    assert r.stderr["R0"] > r.values["R0"]
    (f,) = [f for f in r.findings if f.code == "not_determined"]
    assert f == "R0 is not determined by the data (standard error above 100 %)"
    assert f.parameters == ("R0",)
    assert f.numbers == {"value": r.values["R0"], "stderr": r.stderr["R0"]}


def test_not_determined_names_the_role_of_a_named_circuit():
    # blocking-single: R0 is the series role; 0.01 Ohm under 10 kOhm is not determined
    p = [0.01, 1e4, arc_q(1e4, 1e-10, 0.9), 0.9, 1e-5, 0.9]
    r = eisfit.fit(spectrum("R0-p(R1,CPE1)-CPE2", p), "blocking-single")
    named_role = r.named.roles["R0"]
    found = [f for f in r.findings if f.code == "not_determined" and f.parameters == ("R0",)]
    assert found and found[0].role == named_role


def test_intercept_below_the_external_resistance():
    # a 25 Ohm spike cell with 30 Ohm of cables given: the total is not determined
    f = np.logspace(6, -1, 40)
    z = Circuit("R0-CPE1").impedance(f, [25.0, 1e-6, 0.8])
    r = eisfit.fit(eisfit.Spectrum(f, z), "blocking-spike", external_resistance=30.0)
    (w,) = by_code(r.warnings, "intercept")
    assert r.undetermined == ["total"] and w.role == "total" and "not determined" in w
    assert w.numbers["external_ohm"] == 30.0
    assert w.numbers["intercept_ohm"] == pytest.approx(25.0, rel=1e-6)


def test_capacitance_out_of_range_in_the_geometry(film_fit):
    thick = eisfit.Geometry(thickness="5 mm", area="0.2 cm2")
    (w,) = capacitance_warnings(film_fit, thick)
    lo, hi = expected_range(film_fit.named, "bulk", thick)
    assert w.code == "capacitance_range" and w.role == "bulk"
    assert w.numbers == {"capacitance_F": film_fit.capacitances["bulk"], "low_F": lo,
                         "high_F": hi}
    assert not lo <= w.numbers["capacitance_F"] <= hi


def test_with_geometry_replaces_capacitance_findings_by_code(film_fit):
    thick = eisfit.Geometry(thickness="5 mm", area="0.2 cm2")
    old = Finding("an arc looks odd (worded by an older eisfit)", "capacitance_range",
                  role="bulk")
    other = Finding("bulk capacitance 1e-9 F is outside the range expected", "other")
    r = dataclasses.replace(film_fit, warnings=(old, other, *film_fit.warnings))
    fixed = with_geometry(r, thick)
    assert old not in fixed.warnings  # replaced, though its text matches no pattern
    assert other in fixed.warnings  # kept, though its text reads like one
    assert [f.role for f in by_code(fixed.warnings, "capacitance_range")] == ["bulk"]


def test_fold_correlations_reads_the_pair_not_the_text(film_fit):
    # the bulk role made the sum R0 + R1, as in an intercept: their correlation is folded
    r = dataclasses.replace(film_fit, role_terms={**film_fit.role_terms, "bulk": ((0, 1), 0.0)})
    pair = Finding("the two parts move together", "correlated", parameters=("R0", "R1"),
                   numbers={"correlation": -0.99})
    note = Finding("bulk is the intercept", "hidden_arc", role="bulk", severity="note")
    folded = grouped(dataclasses.replace(r, warnings=(note, pair)))
    (only,) = folded.warnings
    assert only == "bulk is the intercept; R0 and R1, its parts, are determined only as their sum"
    assert (only.code, only.role, only.severity) == ("hidden_arc", "bulk", "note")
    # a line that reads like a correlation but is not one stays
    text = "R0 and R1 are correlated (-0.990): the data do not determine them separately"
    kept = grouped(dataclasses.replace(r, warnings=(note, text)))
    assert kept.warnings == (note, text)


def test_tie_correlations_are_dropped_by_their_pair():
    from eisfit.fitting.constraints import _without_tie_correlations

    class Problem:  # the one attribute read: the constraint R2 = R1
        constraints = type("C", (), {"exprs": {"R2": "R1"}})()

    tie = Finding("worded differently", "correlated", parameters=("R1", "R2"))
    other = Finding("R0 and R1 are correlated (+0.990)", "correlated", parameters=("R0", "R1"))
    text = "R1 and R2 are correlated (+0.990): the data do not determine them separately"
    r = type("R", (), {})()
    r.warnings = (tie, other, text)
    r.findings = tuple(map(as_finding, r.warnings))
    assert _without_tie_correlations(r, Problem()) == (other, text)


def test_every_warning_of_a_fit_has_a_code(weak_r0_fit, film_fit):
    thick = eisfit.Geometry(thickness="5 mm", area="0.2 cm2")
    s = spectrum("R0-p(R1,CPE1)-CPE2", [5, 1e3, arc_q(1e3, 5e-8, 0.95), 0.95, 1e-5, 0.9])
    fits = (
        weak_r0_fit,
        with_geometry(film_fit, thick),
        eisfit.fit(wrapped_phase(), ONE_ARC, kk=True),
        eisfit.fit(s, "R0-p(R1,CPE1)-CPE2", constraints=["R1 > R0"]),
    )
    codes = set()
    for r in fits:
        assert r.warnings and all(isinstance(w, Finding) for w in r.warnings)
        assert all(w.code != "other" for w in r.warnings), r.warnings
        codes |= {w.code for w in r.warnings}
    assert {"not_determined", "capacitance_range", "kk_fails", "constrained"} <= codes


# --------------------------------------------------------------------------- travel
def test_a_fit_pickles_with_its_findings(weak_r0_fit):
    back = pickle.loads(pickle.dumps(weak_r0_fit))
    assert back.warnings == weak_r0_fit.warnings
    assert [f.to_dict() for f in back.findings] == [f.to_dict() for f in weak_r0_fit.findings]


def test_json_round_trip_gives_findings_again(weak_r0_fit, tmp_path):
    d = weak_r0_fit.to_dict()
    assert d["warnings"] == [str(w) for w in weak_r0_fit.warnings]
    assert [f["message"] for f in d["findings"]] == d["warnings"]
    assert {"code", "role", "severity", "message", "numbers"} <= set(d["findings"][0])
    path = tmp_path / "fit.json"
    weak_r0_fit.to_json(path)
    back = eisfit.load_result(path)
    assert all(isinstance(w, Finding) for w in back.warnings)
    assert [f.to_dict() for f in back.findings] == d["findings"]
    assert back.to_json() == weak_r0_fit.to_json()


def test_a_file_without_findings_loads_plain_strings(weak_r0_fit):
    obj = json.loads(weak_r0_fit.to_json())
    del obj["findings"]
    back = eisfit.load_result(json.dumps(obj))
    assert back.warnings == weak_r0_fit.warnings
    assert {f.code for f in back.findings} == {"other"}


def test_findings_that_disagree_with_the_warnings_are_refused(weak_r0_fit):
    obj = json.loads(weak_r0_fit.to_json())
    obj["findings"][0]["message"] = "something else"
    with pytest.raises(eisfit.SavedResultError, match="findings do not match"):
        eisfit.load_result(json.dumps(obj))


# --------------------------------------------------------------------------- no text parsing
def test_no_module_parses_warning_text():
    patterns = [
        r"_CAP_WARNING", r"startswith\(KK_FAILS\)", r"are correlated\"\)\[",
        r"split\(\" are correlated", r"endswith\(\"the data do not determine",
        r"max \\\|residual", r"are correlated\"\)\s*$",
    ]
    hits = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        hits += [f"{path.name}: {p}" for p in patterns if re.search(p, text, re.MULTILINE)]
    assert hits == []
