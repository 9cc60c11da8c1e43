"""Physics checks of a temperature series against synthetic spectra of known parameters.

A fit in a local minimum (bulk and grain boundary swapped), or a spectrum whose resistances
rise with T, must be refitted from its neighbours or left out of the Arrhenius regression with
its reason; the activation energy then stays at the value the spectra were made with. A
negative or undetermined Ea is never reported as a result unless ``keep_all``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import eisfit
import eisfit.series.temperature
from eisfit.analysis.kk import kk_warning
from eisfit.fitting.spec import FitSpec
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.series.checks import (
    bulk_capacitance_steady,
    capacitance_stays,
    kk_failed,
    resistance_falls,
)
from eisfit.series.joint import fit_joint
from eisfit.series.neighbours import _neighbour_refits
from eisfit.series.temperature import Series, fit_series

K_B = 8.617333262e-5  # eV/K, CODATA
CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
EA_B, EA_GB = 0.35, 0.50
C_B, C_GB = 3e-12, 2e-9
DATA = Path(__file__).resolve().parents[1] / "data"


def _truth(t: np.ndarray, ea: float, r_top: float) -> np.ndarray:
    """R ∝ T exp(Ea/kT): ln(σT) linear in 1/T with slope −Ea/k_B."""
    return r_top * np.exp(ea / K_B * (1 / t - 1 / t[-1])) * t / t[-1]


def _series(noise: float = 0.005, seed: int = 4):
    """Eight blocking-cell spectra, -20..50 °C, both arcs in the 7 MHz window."""
    rng = np.random.default_rng(seed)
    t = np.linspace(253.15, 323.15, 8)
    f = frequencies(7e6, 0.1, 10)
    r_b, r_gb = _truth(t, EA_B, 2e4), _truth(t, EA_GB, 5e4)
    spectra = []
    for i, ti in enumerate(t):
        p = [1.5, r_b[i], arc_q(r_b[i], C_B, 0.95), 0.95, r_gb[i], arc_q(r_gb[i], C_GB, 0.85),
             0.85, 2e-6, 0.85]
        z = add_noise(Circuit(CIRCUIT).impedance(f, p), noise, rng)
        spectra.append(
            eisfit.Spectrum(f, z, {"source": f"cell_{ti - 273.15:.0f}C"}, temperature=ti)
        )
    return t, spectra, r_b, r_gb


@pytest.fixture(scope="module")
def clean():
    t, spectra, r_b, r_gb = _series()
    fits = [eisfit.fit(s, "blocking", external_resistance=1.5) for s in spectra]
    return t, spectra, fits, r_b, r_gb


def _swapped(result):
    """The same impedance with the bulk and grain-boundary arcs exchanged: an equally good fit
    (two R‖CPE in series commute) that gives each role the other's resistance and capacitance,
    as a fit stuck in that local minimum does."""
    rec = dict(result.records)
    for a, b in (("R1", "R2"), ("CPE1_0", "CPE2_0"), ("CPE1_1", "CPE2_1")):
        rec[a], rec[b] = (dataclasses.replace(rec[a], value=rec[b].value),
                          dataclasses.replace(rec[b], value=rec[a].value))
    res = dict(result.resistances)
    err = dict(result.resistance_stderr)
    res["bulk"], res["grain_boundary"] = res["grain_boundary"], res["bulk"]
    err["bulk"], err["grain_boundary"] = err["grain_boundary"], err["bulk"]
    return dataclasses.replace(result, records=rec, resistances=res, resistance_stderr=err)


# --------------------------------------------------------------------------- the checks
def test_resistance_falls_flags_only_the_point_that_rises():
    rng = np.random.default_rng(1)
    t = np.linspace(250.0, 350.0, 9)
    r = _truth(t, 0.4, 100.0) * (1 + 0.003 * rng.standard_normal(t.size))
    se = 0.01 * r
    assert resistance_falls(t, r, se) == {}
    spoiled = r.copy()
    spoiled[5] = r[2]  # the resistance of a colder spectrum: above its two colder neighbours
    out = resistance_falls(t, spoiled, se, "bulk")
    assert list(out) == [5]
    assert "falls as T rises" in out[5] and "bulk" in out[5]
    low = r.copy()
    low[0] = r[3]  # the coldest point below its two hotter neighbours
    assert list(resistance_falls(t, low, se)) == [0]
    # one step out of order is a tie (point 4 too low or point 5 too high): neither is singled
    # out, and the regression's Ea says the rest
    tie = r.copy()
    tie[5] = r[3]
    assert resistance_falls(t, tie, se) == {}
    # a rise within 3 standard errors, or of a resistance without a standard error, is noise
    noisy = r.copy()
    noisy[5] = r[4] * 1.02
    assert resistance_falls(t, noisy, 0.05 * r) == {}
    assert resistance_falls(t, spoiled, np.full(t.size, np.nan)) == {}


def test_capacitance_checks():
    rng = np.random.default_rng(2)
    c_b = 4e-12 * 10 ** (0.1 * rng.standard_normal(8))  # within ±25 %: geometric, steady
    assert bulk_capacitance_steady(c_b) == {}
    c_b[3] = 2e-9
    assert list(bulk_capacitance_steady(c_b)) == [3]
    c_gb = 1e-9 * 10 ** (0.3 * rng.standard_normal(8))
    assert capacitance_stays(c_gb, "grain_boundary") == {}
    c_gb[6] = 1e-4
    out = capacitance_stays(c_gb, "grain_boundary", {"electrode": 2e-5, "bulk": 4e-12})
    assert list(out) == [6]
    assert "electrode" in out[6]


def test_kk_failure_is_read_from_the_fit_warning():
    f = np.logspace(6, 0, 61)
    z = Circuit("R0-p(R1,CPE1)").impedance(f, [10, 1e3, 1e-9, 0.9])
    drift = z * (1 + 0.3 * np.linspace(0, 1, f.size))  # the cell drifts during the sweep
    assert kk_warning(eisfit.Spectrum(f, z)) is None
    w = kk_warning(eisfit.Spectrum(f, drift))
    assert w is not None and kk_failed([w])
    assert not kk_failed(["the Kramers-Kronig check could not be run: too few points"])


# --------------------------------------------------------------------------- a series
def test_a_good_series_excludes_nothing(clean):
    t, spectra, fits, _, _ = clean
    s = Series(fits, t, [s.source for s in spectra])
    assert s.violations() == []
    for role, ea in (("bulk", EA_B), ("grain_boundary", EA_GB)):
        a = s.arrhenius(role)
        assert a.determined and a.excluded == ()
        assert len(a.used) == len(t)
        assert a.Ea_eV == pytest.approx(ea, abs=0.01)


def test_swapped_roles_are_left_out_and_kept_with_keep_all(clean):
    t, spectra, fits, _, _ = clean
    fits = list(fits)
    fits[4] = _swapped(fits[4])
    labels = [s.source for s in spectra]
    s = Series(fits, t, labels)
    checks = {(v["role"], v["check"]) for v in s.violations() if v["source"] == labels[4]}
    assert {("bulk", "bulk_capacitance"), ("grain_boundary", "capacitance_jump"),
            ("bulk", "falls_with_T")} <= checks
    assert all(v["source"] == labels[4] for v in s.violations())
    for role, ea in (("bulk", EA_B), ("grain_boundary", EA_GB)):
        a = s.arrhenius(role)
        assert [e["source"] for e in a.excluded] == [labels[4]]
        assert a.excluded[0]["temperature_K"] == pytest.approx(t[4])
        assert a.excluded[0]["reason"]
        assert labels[4] not in [u["source"] for u in a.used]
        assert a.Ea_eV == pytest.approx(ea, abs=0.01)
        kept = Series(fits, t, labels, keep_all=True).arrhenius(role)
        assert kept.excluded == () and len(kept.used) == len(t)
        assert abs(kept.Ea_eV - ea) > 0.01  # the swapped point, used, pulls Ea away
    # the total does not care which arc is which
    assert s.arrhenius("total").excluded == ()
    d = s.to_dict()["arrhenius"]["bulk"]
    assert d["excluded"][0]["source"] == labels[4] and len(d["used"]) == len(t) - 1
    assert "left out" in s.report() and labels[4] in s.report()


def test_a_swapped_fit_is_refitted_from_its_neighbours(clean):
    """Only the physics checks trigger the refit here (no walk, poor fits not asked for): the
    swapped fit has the same χ² as the right one."""
    t, spectra, fits, r_b, r_gb = clean
    fits = list(fits)
    fits[4] = _swapped(fits[4])
    spec = FitSpec("blocking", "modulus", external_resistance=1.5, kk=False)
    refits = _neighbour_refits(fits, t, spec, walk=False, poor=False)
    assert list(refits) == [4]
    r = refits[4]
    assert r.resistances["bulk"] == pytest.approx(r_b[4], rel=0.02)
    assert r.resistances["grain_boundary"] == pytest.approx(r_gb[4], rel=0.02)
    assert any("no longer breaks" in w for w in r.warnings)


def _swap_one(monkeypatch, position: int):
    """Make fit_series' independent fits return the spectrum at ``position`` swapped."""
    real = eisfit.series.temperature.fit_many

    def fit_many(spectra, *args, **kw):
        for k, out in enumerate(real(spectra, *args, **kw)):
            yield _swapped(out) if k == position else out

    monkeypatch.setattr(eisfit.series.temperature, "fit_many", fit_many)


@pytest.mark.parametrize("stream", [False, True])
def test_fit_series_refits_a_local_minimum(monkeypatch, stream):
    t, spectra, r_b, _ = _series()
    _swap_one(monkeypatch, 4)
    s = fit_series(spectra, "blocking", temperatures=list(t), external_resistance=1.5,
                   stream=stream)
    assert s.violations() == []
    assert any("no longer breaks" in w for w in s.results[4].warnings)
    assert s.results[4].resistances["bulk"] == pytest.approx(r_b[4], rel=0.02)
    for role, ea in (("bulk", EA_B), ("grain_boundary", EA_GB)):
        a = s.arrhenius(role)
        assert a.excluded == () and a.Ea_eV == pytest.approx(ea, abs=0.01)


@pytest.mark.parametrize("stream,keep_all", [(False, False), (True, False), (True, True)])
def test_fit_series_leaves_out_a_spectrum_whose_resistance_rises(stream, keep_all):
    """A spectrum of a colder state labelled with a hotter temperature: no refit can make its
    resistances fall, so it is left out of every activated role (unless keep_all)."""
    t, spectra, _, _ = _series()
    spectra = list(spectra)
    spectra[5] = eisfit.Spectrum(spectra[2].frequency, spectra[2].z,
                                 {"source": "mislabelled_30C"})
    s = fit_series(spectra, "blocking", temperatures=list(t), external_resistance=1.5,
                   stream=stream, keep_all=keep_all)
    d = json.loads(json.dumps(s.to_dict()))["arrhenius"]
    for role, ea in (("bulk", EA_B), ("grain_boundary", EA_GB)):
        a = s.arrhenius(role)
        sources = [u["source"] for u in d[role]["used"]]
        if keep_all:
            assert d[role]["excluded"] == [] and "mislabelled_30C" in sources
            assert abs(a.Ea_eV - ea) > 0.01
        else:
            assert [e["source"] for e in d[role]["excluded"]] == ["mislabelled_30C"]
            assert "falls as T rises" in d[role]["excluded"][0]["reason"]
            assert "mislabelled_30C" not in sources and len(sources) == len(t) - 1
            assert d[role]["Ea_eV"] == pytest.approx(ea, abs=0.01)
            assert d[role]["reason"] is None


# --------------------------------------------------------------------------- no negative Ea
def test_an_ea_that_comes_out_negative_is_not_reported(clean):
    """Grain-boundary resistances that rise with T (a made-up, impossible series): Ea < 0 is
    withdrawn with its reason, in the independent analysis and the joint fit."""
    t, _, _, r_b, _ = clean
    t, r_b = t[::2], r_b[::2]
    r_gb = _truth(t, -0.2, 5e4)  # rises with T
    f = frequencies(7e6, 0.1, 10)
    rng = np.random.default_rng(9)
    spectra = []
    for i, ti in enumerate(t):
        p = [1.5, r_b[i], arc_q(r_b[i], C_B, 0.95), 0.95, r_gb[i], arc_q(r_gb[i], C_GB, 0.85),
             0.85, 2e-6, 0.85]
        z = add_noise(Circuit(CIRCUIT).impedance(f, p), 0.005, rng)
        spectra.append(eisfit.Spectrum(f, z, temperature=ti))
    fits = [eisfit.fit(s, "blocking", external_resistance=1.5) for s in spectra]
    labels = [f"s{i}" for i in range(t.size)]
    a = Series(fits, t, labels).arrhenius("grain_boundary")
    assert not a.determined and np.isnan(a.Ea_eV) and "negative" in a.reason
    assert a.to_dict()["Ea_eV"] is None and a.to_dict()["reason"] == a.reason
    b = Series(fits, t, labels).arrhenius("bulk")
    assert b.determined and b.Ea_eV == pytest.approx(EA_B, abs=0.01)
    kept = Series(fits, t, labels, keep_all=True).arrhenius("grain_boundary")
    assert kept.Ea_eV == pytest.approx(-0.2, abs=0.02)
    j = fit_joint(fits, t, labels=labels).processes["grain_boundary"]
    assert not j.determined and np.isnan(j.Ea_eV) and j.to_dict()["Ea_eV"] is None
    assert "negative" in j.reason
    jk = fit_joint(fits, t, labels=labels, keep_all=True).processes["grain_boundary"]
    assert jk.determined and jk.Ea_eV == pytest.approx(-0.2, abs=0.02)


def test_sulfide_batch_prints_no_negative_ea(capsys):
    from eisfit.cli.main import main

    code = main(["batch", str(DATA / "sulfide_pellet"), "--thickness", "1mm", "--diameter",
                 "10mm", "--joint", "--json", "--workers", "1"])
    assert code in (0, 1)
    d = json.loads(capsys.readouterr().out)
    entries = list(d["arrhenius"].items()) + list(d.get("arrhenius_joint", {}).items())
    assert d["arrhenius"]
    for role, a in entries:
        if a["Ea_eV"] is None:
            assert a["reason"], role
        else:
            assert a["Ea_eV"] > 0, role
    for a in d["arrhenius"].values():
        assert {"used", "excluded", "reason"} <= set(a)


def test_series_warnings_are_findings_read_by_code(clean):
    """A point left out is a ``left_out`` finding with its count, kept in the JSON as a record,
    and the report lists the point once (its own line), not the finding's line again."""
    t, spectra, fits, _, _ = clean
    fits = list(fits)
    fits[4] = _swapped(fits[4])
    labels = [s.source for s in spectra]
    s = Series(fits, t, labels)
    a = s.arrhenius("bulk")
    left = [w for w in a.warnings if getattr(w, "code", None) == "left_out"]
    assert len(left) == 1 and left[0].role == "bulk"
    assert left[0].numbers == {"count": 1.0, "of": float(len(t))}
    d = s.to_dict()["arrhenius"]["bulk"]
    assert [f["message"] for f in d["findings"]] == d["warnings"]
    assert [f["code"] for f in d["findings"]].count("left_out") == 1
    bulk_block = s.report().split("bulk", 1)[1]
    assert bulk_block.count(labels[4]) >= 1
    assert str(left[0]) not in s.report()


def test_a_series_is_judged_once_for_the_same_numbers(clean, monkeypatch):
    """The physics checks of a whole series run once for the same numbers (the neighbour
    refits' first look and the Arrhenius fits judge equal facts), again when a number
    changes."""
    import eisfit.series.checks as checks

    t, spectra, fits, _, _ = clean
    fits = list(fits)
    fits[4] = _swapped(fits[4])
    calls = []
    real = checks._all
    monkeypatch.setattr(checks, "_all", lambda facts: calls.append(1) or real(facts))
    checks._LAST_VERDICT.clear()
    a, b = checks.Facts(t), checks.Facts(t)
    for i, r in enumerate(fits):
        a.set(i, r)
        b.set(i, r)
    first = checks.violations(a)
    assert first and checks.violations(b) == first and len(calls) == 1
    b.set(4, fits[3])  # another number: judged again
    assert checks.violations(b) != first and len(calls) == 2
