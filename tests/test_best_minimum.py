"""Fits reach the best minimum: the data's floor, the search beyond the first minimum, the model
ladder of blocking cells, and temperature series of the shapes real solid electrolytes give.

Truth here is independent of the fitter: the χ² of the generating parameters of synthetic
spectra, a fit started at those parameters, and the values the bundled examples were made from
(``data/truth.json``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lmfit
import numpy as np
import pytest

import eisfit
from eisfit.analysis.floor import floor_chi_square
from eisfit.fitting.solve import make_problem
from eisfit.kernels import compiled
from eisfit.model.circuit import Circuit
from eisfit.model.named import resolve
from eisfit.model.synthetic import add_noise, arc_q, frequencies, shoulder_series

BLOCKING = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
DATA = Path(__file__).resolve().parent.parent / "data"
ENGINES = pytest.mark.parametrize("engine", ["compiled", "numpy"])


def _engine(engine: str):
    return compiled.use(engine == "compiled")


def _population(seed: int, n: int = 40):
    """Blocking cells with 1 % noise, the bulk apex from a decade below to a decade above the
    highest frequency (1 MHz), resistances and capacitances drawn independently."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        f_b = 1e6 * 10 ** rng.uniform(-1, 1)
        r_b = 10 ** rng.uniform(1, 6)
        c_b = 1 / (2 * np.pi * f_b * r_b)
        r_gb, c_gb = 10 ** rng.uniform(1, 6), 10 ** rng.uniform(-10.5, -8)
        f_gb = 1 / (2 * np.pi * r_gb * c_gb)
        if not (1e-13 < c_b < 1e-10 and 1 < f_gb < f_b / 10):
            continue
        n_b, n_gb = rng.uniform(0.75, 1), rng.uniform(0.7, 0.95)
        p = [10 ** rng.uniform(-1, 1.5), r_b, arc_q(r_b, c_b, n_b), n_b]
        p += [r_gb, arc_q(r_gb, c_gb, n_gb), n_gb]
        p += [10 ** rng.uniform(-7, -5), rng.uniform(0.7, 0.95)]
        f = frequencies(1e6, 0.1, 10)
        z = add_noise(Circuit(BLOCKING).impedance(f, p), 0.01, rng)
        out.append((p, eisfit.Spectrum(f, z)))
    return out


def _chisqr(spectrum, circuit, params) -> float:
    circ, named = resolve(circuit)
    problem, _, _ = make_problem(spectrum, circ, named, "modulus")
    r = problem.residual(problem.to_internal(np.asarray(params, float)))
    return float(r @ r)


def _at(params) -> lmfit.Parameters:
    start = lmfit.Parameters()
    for name, v in zip(Circuit(BLOCKING).parameter_names, params, strict=True):
        start.add(name, value=v)
    return start


def test_floor_is_the_noise_of_the_data():
    # the reduced chi-square of the true parameters over the floor: an unbiased estimate of the
    # noise means a ratio near 1
    ratios = []
    for p, s in _population(11, 30):
        true = _chisqr(s, BLOCKING, p) / (2 * len(s) - 9)
        ratios.append(true / floor_chi_square(s.frequency, s.z, 1 / abs(s.z), 1 / abs(s.z)))
    assert 0.85 < min(ratios) and max(ratios) < 1.35
    assert np.median(ratios) == pytest.approx(1.0, abs=0.1)


@ENGINES
def test_no_fit_ends_far_above_the_true_parameters(engine):
    n_bad = auto_ok = truth_ok = 0
    population = _population(2026)
    with _engine(engine):
        for p, s in population:
            auto = eisfit.fit(s, BLOCKING)
            at_truth = eisfit.fit(s, BLOCKING, params=_at(p))
            ratio = auto.chisqr / _chisqr(s, BLOCKING, p)
            n_bad += ratio > 1.5
            rb, rgb = p[1], p[4]

            def ok(r, rb=rb, rgb=rgb):
                v = r.values
                arcs = [(v["R1"], v["CPE1_0"], v["CPE1_1"]), (v["R2"], v["CPE2_0"], v["CPE2_1"])]
                got = sorted(arcs, key=lambda a: (a[0] * a[1]) ** (1 / a[2]))
                return abs(got[0][0] / rb - 1) < 0.05 and abs(got[1][0] / rgb - 1) < 0.05

            auto_ok += ok(auto)
            truth_ok += ok(at_truth)
    n = len(population)
    print(f"\n{engine}: fits above 1.5x the true chi-square {n_bad}/{n}; both resistances within "
          f"5 %: automatic {auto_ok}/{n}, started at the truth {truth_ok}/{n}")
    assert n_bad == 0
    assert auto_ok >= truth_ok - 0.05 * n


def test_search_runs_only_above_the_floor_and_reaches_it():
    population = _population(5, 20)
    searched = 0
    for _, s in population:
        r = eisfit.fit(s, BLOCKING)
        search = r.search
        assert search is not None and search.floor > 0
        if search.first <= 1.5 * search.floor:
            assert search.rounds == 0 and search.final == search.first
        else:
            searched += 1
            assert search.final < search.first
        assert search.final <= 1.5 * search.floor
        assert not any("does not describe the data" in w for w in r.warnings)
    print(f"\nsearched beyond the automatic starts: {searched}/{len(population)}")


def test_fit_and_stack_agree_on_searched_spectra():
    spectra = [s for _, s in _population(2026, 40)]
    single = [eisfit.fit(s, BLOCKING) for s in spectra]
    stacked = eisfit.fit_stack(spectra, BLOCKING)
    for a, b in zip(single, stacked, strict=True):
        assert b.chisqr == pytest.approx(a.chisqr, rel=1e-6)
        assert b.warnings == a.warnings


def test_circuit_that_misses_an_arc_says_so():
    # two arcs in the data, one in the circuit: no start reaches the floor
    f = frequencies(1e6, 0.1, 10)
    p = [5, 1e4, arc_q(1e4, 1e-11, 0.9), 0.9, 1e5, arc_q(1e5, 1e-9, 0.85), 0.85, 1e-6, 0.9]
    z = add_noise(Circuit(BLOCKING).impedance(f, p), 0.005, np.random.default_rng(1))
    r = eisfit.fit(eisfit.Spectrum(f, z), "R0-p(R1,CPE1)-CPE2")
    assert r.search.ratio > 3
    line = [w for w in r.warnings if "does not describe the data" in w]
    assert len(line) == 1
    shown = float(re.search(r"is ([0-9.e+]+)x the floor of the spectrum", line[0]).group(1))
    assert shown == pytest.approx(r.search.ratio, rel=0.01)


# --------------------------------------------------------------------------- sulfide example
def _sulfide_truth():
    return json.loads((DATA / "truth.json").read_text())["sulfide_pellet"]


@pytest.mark.parametrize("external", [0.0, 1.83])
def test_spike_only_sulfide_with_default_blocking(external):
    truth = _sulfide_truth()
    for name, t in truth["spectra"].items():
        s = eisfit.read(DATA / "sulfide_pellet" / name)
        r = eisfit.fit(s, "blocking", external_resistance=external)
        spike = eisfit.fit(s, "blocking-spike", external_resistance=external)
        # the same resistances as blocking-spike, and no arc reported
        assert r.circuit_name == "blocking-spike" and r.resistances == spike.resistances
        expected = t["electrolyte_ohm"] + t["series_ohm"] - external
        assert r.resistances["total"] == pytest.approx(expected, rel=0.02)
        assert any("model: blocking-spike fitted in place of" in w for w in r.warnings)
        assert "grain_boundary" not in r.resistances


def test_sulfide_batch_cli_with_joint(tmp_path, capsys):
    from eisfit.cli.main import main

    truth = _sulfide_truth()
    rc = main(["batch", str(DATA / "sulfide_pellet"), "--thickness", "1.2mm", "--diameter",
               "10mm", "--external-resistance", "1.83", "--joint", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    for spec in out["spectra"]:
        t = truth["spectra"][Path(spec["source"]).name]
        assert spec["resistances_ohm"]["total"] == pytest.approx(t["electrolyte_ohm"], rel=0.02)
    assert out["arrhenius"]["total"]["Ea_eV"] == pytest.approx(truth["Ea_eV"], abs=0.005)
    for role, a in out["arrhenius"].items():
        assert a["Ea_eV"] is None or a["Ea_eV"] > 0, role


# --------------------------------------------------------------------------- warnings
def test_hidden_arc_notes_never_contradict_their_numbers():
    checked = 0
    files = sorted((DATA / "latp_pellet").glob("*.csv")) + sorted(
        (DATA / "sulfide_pellet").glob("*.csv")
    )
    spectra = [eisfit.read(p) for p in files] + [s for _, s in _population(3, 20)]
    for s in spectra:
        r = eisfit.fit(s, "blocking")
        f_hi = s.frequency.max()
        for w in r.warnings:
            m = re.search(r"above the highest measured frequency.*apex at ([\d.e+-]+) Hz", w)
            if m:
                assert float(m.group(1)) > f_hi, w
                checked += 1
            m = re.search(r"apex \(([0-9.e+-]+) Hz\) lies above the highest", w)
            if m:
                assert float(m.group(1)) > f_hi, w
                checked += 1
    assert checked > 0


# --------------------------------------------------------------------------- shoulder series
@pytest.mark.parametrize("seed", range(4))
def test_shoulder_series(seed):
    spectra, ea = shoulder_series(np.random.default_rng(seed))
    temps = [s.spectrum.meta["temperature_K"] for s in spectra]
    series = eisfit.fit_series([s.spectrum for s in spectra], circuit="blocking",
                               temperatures=temps)
    for s, r in zip(spectra, series, strict=True):
        if s.apex_hz["bulk"] < s.spectrum.frequency.max():
            assert r.resistances["bulk"] == pytest.approx(s.resistances["bulk"], rel=0.10)
    bulk, gb = series.arrhenius("bulk"), series.arrhenius("grain_boundary")
    print(f"\nseed {seed}: bulk Ea {bulk.Ea_eV:.4f} (true {ea['bulk']:.4f}), grain boundary "
          f"{gb.Ea_eV:.4f} (true {ea['grain_boundary']:.4f})")
    assert bulk.Ea_eV == pytest.approx(ea["bulk"], abs=0.03)
    assert gb.Ea_eV == pytest.approx(ea["grain_boundary"], abs=0.02)


# --------------------------------------------------------------------------- real spectra
def test_a_lower_minimum_with_an_electrode_arc_is_named_not_reported(corpus_dir):
    # an LPSCl pellet between blocking electrodes at -25 C: the lowest blocking minimum puts a
    # 0.8 uF "grain boundary" at 0.04 Hz (the electrode); the fit keeps bulk and grain boundary
    # with capacitances of their roles and says what it leaves out
    path = corpus_dir / "jdhuang-csm__hybrid-drt"
    path = path / "tutorials__data__PEIS_LPSCl_IonBlocking_-25C.txt"
    r = eisfit.fit(eisfit.read(path), "blocking")
    assert r.circuit_name == "blocking"
    assert 1e-11 < r.capacitances["grain_boundary"] < 1e-8
    assert 1e-14 < r.capacitances["bulk"] < 1e-10
    line = [w for w in r.warnings if "lower reduced chi-square exists" in w]
    assert len(line) == 1 and "an electrode's" in line[0]
    assert r.search.better_unphysical < r.search.final
