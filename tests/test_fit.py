"""The fitting engine against synthetic spectra with known parameters.

The recovery tests print their rates. The blocking-cell population follows the core issue:
bulk 1e-12-1e-11 F, grain boundary 1e-10-1e-8 F, resistances 10 Ohm-1e6 Ohm, CPE exponents
0.7-1, 0.5 % noise, 7 MHz or 1 MHz down to 0.1 Hz, both apexes inside the window and a decade
apart. Within it, some spectra do not carry the information to pin a resistance to 2 %: a small
grain-boundary arc under a depressed bulk arc. The Cramér-Rao bound, computed at the truth from
the known noise, says which: the 98 % criterion is applied where the bound allows 2 % at 2.5
standard deviations, and on the whole population the automatic fit must do as well as a fit
started at the true values.
"""

from __future__ import annotations

import lmfit
import numpy as np
import pytest

import eisfit
from eisfit.exceptions import FitError
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import blocking_cell, full_cell

NOISE = 0.005


def _cramer_rao_relative(s) -> dict[str, float]:
    """Relative standard deviation of R_bulk and R_gb achievable with the known noise."""
    c = Circuit(s.circuit)
    f = s.spectrum.frequency
    z, jac = c.impedance_and_jacobian(f, s.params)
    w = 1 / (NOISE * np.abs(z))
    p = np.asarray(s.params)
    jl = jac * p[:, None]  # derivatives with respect to log parameters
    m = np.concatenate([jl.real * w, jl.imag * w], axis=1).T
    cov = np.linalg.pinv(m.T @ m)
    return {"bulk": float(np.sqrt(cov[1, 1])), "grain_boundary": float(np.sqrt(cov[4, 4]))}


def _ok(result, truth, roles=("bulk", "grain_boundary"), tol=0.02) -> bool:
    return all(
        abs(result.resistances.get(k, np.nan) / truth.resistances[k] - 1) < tol for k in roles
    )


@pytest.mark.population
def test_blocking_cells_recovered_without_starting_values():
    rng = np.random.default_rng(2026)
    n = auto_ok = truth_ok = ident = ident_ok = 0
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    for _ in range(100):
        s = blocking_cell(rng)
        auto = eisfit.fit(s.spectrum, "blocking")
        start = lmfit.Parameters()
        for name, v in zip(c.parameter_names, s.params, strict=True):
            start.add(name, value=v)
        at_truth = eisfit.fit(s.spectrum, "blocking", params=start)
        n += 1
        a, t = _ok(auto, s), _ok(at_truth, s)
        auto_ok += a
        truth_ok += t
        bound = _cramer_rao_relative(s)
        if max(bound.values()) * 2.5 <= 0.02:
            ident += 1
            ident_ok += a
    print(
        f"\nblocking: auto {auto_ok}/{n}, started at truth {truth_ok}/{n}; "
        f"identifiable (CRB) {ident_ok}/{ident} = {ident_ok / ident:.1%}"
    )
    assert ident >= 25
    assert ident_ok / ident >= 0.98
    assert auto_ok >= truth_ok - 1


@pytest.mark.population
def test_full_cells_recovered():
    rng = np.random.default_rng(7)
    n, good = 60, 0
    for _ in range(n):
        s = full_cell(rng)
        r = eisfit.fit(s.spectrum, "full-cell")
        t, got, err = s.resistances, r.resistances, r.resistance_stderr
        el = abs(got["electrolyte"] / t["electrolyte"] - 1) < 0.05
        total_if = t["anode_interface"] + t["cathode_interface"]
        sum_ok = abs((got["anode_interface"] + got["cathode_interface"]) / total_if - 1) < 0.02
        each = True
        for role in ("anode_interface", "cathode_interface"):
            miss = abs(got[role] - t[role])
            honest = err[role] < 0.2 * got[role]
            each &= honest and (miss < 0.05 * t[role] or miss < 3 * err[role])
        good += el and sum_ok and each
    print(f"\nfull cell: {good}/{n} = {good / n:.1%}")
    assert good / n >= 0.90


@pytest.mark.population
def test_hidden_bulk_reported_from_intercept_with_warning():
    rng = np.random.default_rng(11)
    n, good, warned = 40, 0, 0
    for _ in range(n):
        s = blocking_cell(rng, hidden_bulk=True)
        r0 = s.resistances["series"]
        r = eisfit.fit(s.spectrum, "blocking", external_resistance=r0)
        good += abs(r.resistances["bulk"] / s.resistances["bulk"] - 1) < 0.03
        warned += any("above the highest measured frequency" in w for w in r.warnings)
    print(f"\nhidden bulk: within 3 % {good}/{n}, warned {warned}/{n}")
    assert good / n >= 0.8
    assert warned / n >= 0.9


def test_resolved_arcs_carry_no_hidden_warning():
    s = blocking_cell(np.random.default_rng(3))
    r = eisfit.fit(s.spectrum, "blocking")
    assert not any("above the highest" in w for w in r.warnings)
    assert set(r.resistances) == {"series", "bulk", "grain_boundary", "total"}
    assert r.resistances["total"] == pytest.approx(
        r.resistances["bulk"] + r.resistances["grain_boundary"]
    )


def test_effective_capacitance_and_apex_follow_the_formulas():
    s = blocking_cell(np.random.default_rng(3))
    r = eisfit.fit(s.spectrum, "blocking")
    v = r.values
    tau = (v["R1"] * v["CPE1_0"]) ** (1 / v["CPE1_1"])
    assert r.apex_hz["bulk"] == pytest.approx(1 / (2 * np.pi * tau))
    assert r.capacitances["bulk"] == pytest.approx(tau / v["R1"])
    assert r.capacitances["bulk"] == pytest.approx(s.capacitances["bulk"], rel=0.25)


def test_stderr_are_honest_on_repeated_noise():
    """Over 40 noise draws of one cell, |error| < 2 stderr about 95 % of the time."""
    base = blocking_cell(np.random.default_rng(8), noise=0.0)
    rng = np.random.default_rng(9)
    covered = 0
    from eisfit.model.synthetic import add_noise

    for _ in range(40):
        z = add_noise(base.spectrum.z, NOISE, rng)
        r = eisfit.fit(eisfit.Spectrum(base.spectrum.frequency, z), "blocking")
        e = r.resistances["bulk"] - base.resistances["bulk"]
        covered += abs(e) < 2 * r.resistance_stderr["bulk"]
    print(f"\nbulk within 2 stderr: {covered}/40")
    assert covered >= 33


@pytest.mark.parametrize("weighting", ["modulus", "proportional", "unit"])
def test_every_weighting_fits_a_clean_spectrum(weighting):
    s = blocking_cell(np.random.default_rng(4), noise=0.0)
    r = eisfit.fit(s.spectrum, "blocking", weighting=weighting)
    assert r.weighting == weighting
    assert _ok(r, s, tol=0.01)


def test_any_circuit_string_fits():
    f = np.logspace(5, -1, 50)
    c = Circuit("R0-p(R1,C1)-W1")
    truth = [12.0, 340.0, 2e-7, 30.0]
    r = eisfit.fit(eisfit.Spectrum(f, c.impedance(f, truth)), "R0-p(R1,C1)-W1")
    np.testing.assert_allclose(list(r.values.values()), truth, rtol=1e-4)
    assert r.circuit_name is None and r.resistances == {}


def test_user_parameters_and_fixed_values_are_honoured():
    s = blocking_cell(np.random.default_rng(6))
    r = eisfit.fit(s.spectrum, "blocking", fixed={"R0": 0.5})
    assert r.values["R0"] == 0.5 and not r.params["R0"].vary
    p = lmfit.Parameters()
    p.add("CPE3_1", value=0.85, min=0.8, max=0.9)
    r2 = eisfit.fit(s.spectrum, "blocking", params=p)
    assert 0.8 <= r2.values["CPE3_1"] <= 0.9
    with pytest.raises(FitError, match="not in circuit"):
        eisfit.fit(s.spectrum, "blocking", fixed={"R9": 1.0})
    with pytest.raises(FitError, match="weighting must be one of"):
        eisfit.fit(s.spectrum, "blocking", weighting="bogus")


def test_spike_only_circuit_reports_total_less_external():
    f = np.logspace(6, -1, 40)
    z = Circuit("R0-CPE1").impedance(f, [25.0, 1e-6, 0.8])
    r = eisfit.fit(eisfit.Spectrum(f, z), "blocking-spike", external_resistance=1.83)
    assert r.resistances == pytest.approx({"total": 25.0 - 1.83}, rel=1e-6)


def test_li_symmetric_asr_per_interface():
    f = np.logspace(6.8, -1, 60)
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")
    truth = [2.0, 150.0, 1e-10, 0.95, 400.0, 2e-6, 0.85]
    r = eisfit.fit(eisfit.Spectrum(f, c.impedance(f, truth)), "li-symmetric")
    g = eisfit.Geometry(thickness="0.5 mm", area="2 cm2")
    asr = r.asr(g)
    assert asr["interface"].nominal_value == pytest.approx(400.0 * 2 / 2, rel=1e-3)


def test_to_dict_follows_the_json_contract():
    s = blocking_cell(np.random.default_rng(12))
    g = eisfit.Geometry(thickness="1.2 mm", diameter="10 mm")
    d = eisfit.fit(s.spectrum.with_meta(temperature=298.15), "blocking").to_dict(g)
    for key in ("source", "spectrum", "circuit", "circuit_name", "n_points", "weighting",
                "chi_square", "temperature_K", "parameters", "resistances_ohm",
                "resistance_stderr_ohm", "capacitances_F", "conductivity_S_per_cm", "warnings"):
        assert key in d
    assert d["circuit_name"] == "blocking" and d["temperature_K"] == 298.15
    assert set(d["parameters"]["R1"]) >= {"value", "stderr", "unit"}
    sigma = d["conductivity_S_per_cm"]
    assert sigma["bulk"] == pytest.approx(g.conductivity(d["resistances_ohm"]["bulk"]))
    import json

    json.dumps(d)


def test_report_and_html_escape_user_strings():
    s = blocking_cell(np.random.default_rng(13)).spectrum.with_meta(source="<b>x</b>.mpt")
    r = eisfit.fit(s, "blocking")
    text = r.report()
    assert "[[Parameters]]" in text and "[[Resistances]]" in text
    assert "<b>x</b>" not in r._repr_html_().replace(text, "")


def test_inductive_points_are_dropped_with_a_warning():
    s = blocking_cell(np.random.default_rng(14))
    f = s.spectrum.frequency
    z = s.spectrum.z + 1j * 2 * np.pi * f * 1e-3  # a large cable inductance
    assert (z.imag > 0).sum() >= 2
    r = eisfit.fit(eisfit.Spectrum(f, z), "blocking")
    assert any("inductive point" in w for w in r.warnings)
    assert len(r.spectrum) == len(f) - int(np.argmax(z.imag[np.argsort(-f)] < 0))


def test_too_few_points_is_a_clear_error():
    f = np.logspace(3, 1, 4)
    with pytest.raises(FitError, match="4 points cannot fit 9 free parameters"):
        eisfit.fit(eisfit.Spectrum(f, 100 - 10j * f / f), "blocking")


def test_parameter_table_as_a_frame():
    s = blocking_cell(np.random.default_rng(3))
    r = eisfit.fit(s.spectrum, "blocking")
    frame = r.to_frame()
    assert list(frame.index) == r.circuit.parameter_names
    assert frame.loc["R1", "value"] == pytest.approx(r.values["R1"])
    assert frame.loc["CPE1_0", "unit"] == "S s^n"
    assert "<img" in r._repr_html_()


def test_a_wholly_inductive_spectrum_is_a_clear_error():
    f = np.logspace(5, 2, 16)
    z = 3.0 + 1j * 2 * np.pi * f * 1e-3
    with pytest.raises(FitError, match="all 16 points have Im"):
        eisfit.fit(eisfit.Spectrum(f, z, {"source": "cell.mpt"}), "blocking")
    r = eisfit.fit(eisfit.Spectrum(f, z), "R0-L0")
    assert r.values["L0"] == pytest.approx(1e-3, rel=1e-6)
