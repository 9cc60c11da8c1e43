"""Identifiability warnings on FitResult: each kind is triggered by a spectrum built to show it,
and absent from a spectrum built not to.

Truth is analytic: spectra are evaluated from known circuits and parameters (with 0.5 % noise
where stated), so whether an apex lies outside the window, whether a CPE is ideal, whether two
parameters are interchangeable, or whether a capacitance belongs to a role is known in advance.
"""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.analysis.kk import kk_warning
from eisfit.fitting.checks import capacitance_warnings, with_geometry, with_warnings
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q

F = np.logspace(6, -1, 71)
ONE_ARC = "R0-p(R1,CPE1)"


def spectrum(circuit: str, params, noise: float = 0.005, seed: int = 0, f=F) -> eisfit.Spectrum:
    z = Circuit(circuit).impedance(f, params)
    if noise:
        z = add_noise(z, noise, np.random.default_rng(seed))
    return eisfit.Spectrum(f, z)


def has(result, text: str) -> bool:
    return any(text in w for w in result.warnings)


@pytest.fixture(scope="module")
def clean_fit():
    """One well-determined arc (apex 1.6 kHz, n = 0.85, R0 = 5 Ohm): nothing to warn about."""
    s = spectrum(ONE_ARC, [5.0, 1e4, arc_q(1e4, 1e-8, 0.85), 0.85])
    return eisfit.fit(s, ONE_ARC)


def test_clean_fit_has_no_warnings(clean_fit):
    assert clean_fit.warnings == ()
    assert clean_fit.flags == {}


# --------------------------------------------------------------------------- apex
def test_apex_above_the_window_is_flagged(clean_fit):
    # bulk-like arc: 1 kOhm, 1e-11 F -> apex 16 MHz, the data stop at 1 MHz
    s = spectrum("R0-p(R1,CPE1)-CPE2", [5, 1e3, arc_q(1e3, 1e-11, 0.95), 0.95, 1e-6, 0.85])
    r = eisfit.fit(s, "R0-p(R1,CPE1)-CPE2")
    assert r.apex_hz["R1"] > 1e6
    assert has(r, "lies above the highest measured frequency")
    assert not has(clean_fit, "lies above")


def test_apex_below_the_window_is_flagged(clean_fit):
    # 10 kOhm, 1 mF -> apex 16 mHz, the data stop at 0.1 Hz
    s = spectrum(ONE_ARC, [5, 1e4, arc_q(1e4, 1e-3, 0.9), 0.9])
    r = eisfit.fit(s, ONE_ARC)
    assert r.apex_hz["R1"] < 0.1
    assert has(r, "lies below the lowest measured frequency")
    assert not has(clean_fit, "lies below")


# --------------------------------------------------------------------------- CPE exponent
def test_cpe_exponent_below_half_is_flagged(clean_fit):
    s = spectrum(ONE_ARC, [5, 1e4, arc_q(1e4, 1e-8, 0.4), 0.4])
    r = eisfit.fit(s, ONE_ARC)
    assert r.values["CPE1_1"] == pytest.approx(0.4, abs=0.02)
    assert has(r, "CPE exponent n = 0.40 is below 0.5")
    assert not has(clean_fit, "below 0.5")


def test_cpe_exponent_pinned_at_one_is_flagged(clean_fit):
    # an ideal capacitor fitted with a CPE: n runs into its upper bound 1
    s = spectrum("R0-p(R1,C1)", [5, 1e4, 1e-8])
    r = eisfit.fit(s, ONE_ARC)
    assert "at_bound" in r.flags.get("CPE1_1", [])
    assert has(r, "CPE1_1 = 1 sits at its upper bound 1") and has(r, "pinned")
    assert not has(clean_fit, "pinned")


def test_exponent_fixed_at_one_by_the_user_is_not_flagged():
    s = spectrum("R0-p(R1,C1)", [5, 1e4, 1e-8])
    r = eisfit.fit(s, ONE_ARC, fixed={"CPE1_1": 1.0})
    assert not has(r, "pinned")


def test_pinned_exponent_names_the_role():
    # blocking cell whose grain boundary is an ideal capacitor (n = 1 exactly)
    p = [5, 1e5, arc_q(1e5, 2e-12, 0.95), 0.95, 1e4, arc_q(1e4, 3e-9, 1.0), 1.0, 1e-6, 0.9]
    s = spectrum("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", p, f=np.logspace(7, -2, 91))
    r = eisfit.fit(s, "blocking")
    assert has(r, "the grain_boundary CPE exponent is pinned")


# --------------------------------------------------------------------------- correlation
def test_interchangeable_parameters_are_flagged_as_correlated(clean_fit):
    # two resistors in series: only their sum is determined
    s = spectrum(ONE_ARC, [50, 1e4, arc_q(1e4, 1e-8, 0.85), 0.85])
    r = eisfit.fit(s, "R0-R2-p(R1,CPE1)")
    assert has(r, "R0 and R2 are correlated")
    assert not has(clean_fit, "correlated")


def test_cpe_q_and_n_correlation_is_not_a_warning(clean_fit):
    # apex at 1.6 kHz, far from 1 rad/s: Q and n of the CPE move together by construction
    corr = clean_fit.params["CPE1_0"].correl["CPE1_1"]
    assert abs(corr) > 0.98
    assert not has(clean_fit, "CPE1_0 and CPE1_1")


# --------------------------------------------------------------------------- relative error
def test_relative_error_over_100_percent_is_flagged(clean_fit):
    # a 0.01 Ohm series resistance under a 10 kOhm arc with 0.5 % noise (50 Ohm)
    s = spectrum(ONE_ARC, [0.01, 1e4, arc_q(1e4, 1e-8, 0.85), 0.85])
    r = eisfit.fit(s, ONE_ARC)
    assert r.stderr["R0"] > r.values["R0"]
    assert "relative_error_over_100%" in r.flags["R0"]
    assert has(r, "R0 is not determined by the data (standard error above 100 %)")
    assert not has(clean_fit, "not determined")


def test_user_bound_reached_is_flagged(clean_fit):
    import lmfit

    # the true R1 is 10 kOhm; the user allows at most 8 kOhm
    s = spectrum(ONE_ARC, [5.0, 1e4, arc_q(1e4, 1e-8, 0.85), 0.85])
    fixed_bounds = lmfit.Parameters()
    for name, v in zip(("R0", "R1", "CPE1_0", "CPE1_1"), (5, 5e3, 1e-8, 0.85), strict=True):
        fixed_bounds.add(name, value=v)
    fixed_bounds["R1"].set(min=1e3, max=8e3)
    r = eisfit.fit(s, ONE_ARC, params=fixed_bounds)
    assert r.values["R1"] == pytest.approx(8e3)
    assert has(r, "R1 = 8e+03 sits at its upper bound 8e+03")
    assert not has(clean_fit, "sits at")


# --------------------------------------------------------------------------- capacitance
BLOCKING = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
F7 = np.logspace(7, -2, 91)


def test_grain_boundary_with_electrode_capacitance_is_never_reported():
    # bulk 100 kOhm, 2 pF (apex 0.8 MHz); a second arc of 10 kOhm with 3 uF (apex 5 Hz): the
    # capacitance of an electrode process, not of a grain boundary. The blocking fit puts it in
    # the grain-boundary slot; the result falls back to blocking-single, says why, and says that
    # this circuit does not describe the data (the electrode arc is not in it)
    p = [5, 1e5, arc_q(1e5, 2e-12, 0.95), 0.95, 1e4, arc_q(1e4, 3e-6, 0.9), 0.9, 1e-3, 0.9]
    r = eisfit.fit(spectrum(BLOCKING, p, f=F7), "blocking")
    assert "grain_boundary" not in r.resistances and "grain_boundary" not in r.capacitances
    assert r.circuit_name == "blocking-single"
    assert r.resistances["bulk"] == pytest.approx(1e5, rel=0.02)
    assert has(r, "model: blocking-single fitted in place of blocking")
    assert has(r, "grain_boundary arc's effective capacitance")
    assert has(r, "in the electrode range")
    assert has(r, "the circuit does not describe the data")


def test_grain_boundary_with_grain_boundary_capacitance_is_not_flagged():
    p = [5, 1e5, arc_q(1e5, 2e-12, 0.95), 0.95, 1e4, arc_q(1e4, 3e-9, 0.9), 0.9, 1e-6, 0.9]
    r = eisfit.fit(spectrum(BLOCKING, p, f=F7), "blocking")
    assert r.capacitances["grain_boundary"] == pytest.approx(3e-9, rel=0.3)
    assert not has(r, "capacitance")
    assert capacitance_warnings(r) == []


@pytest.fixture(scope="module")
def film_fit():
    """A 1 um film on 1 cm2: geometric capacitance 50 nF (eps_r ~ 56), one arc at 3 kHz."""
    p = [5, 1e3, arc_q(1e3, 5e-8, 0.95), 0.95, 1e-5, 0.9]
    return eisfit.fit(spectrum("R0-p(R1,CPE1)-CPE2", p), "blocking-single")


def test_capacitance_is_judged_in_the_cell_when_geometry_is_given(film_fit):
    # without geometry the reference pellet (1 mm, 0.785 cm2, L/A = 0.127 cm^-1) is assumed:
    # blocking-single's bulk range 1e-14-1e-8 F/cm is 7.9e-14-7.9e-8 F there, and 50 nF is in it
    assert not has(film_fit, "capacitance")
    film = eisfit.Geometry(thickness="1 um", area="1 cm2")  # L/A = 1e-4 cm^-1: 5e-12 F/cm
    assert capacitance_warnings(film_fit, film) == []
    assert with_geometry(film_fit, film).warnings == film_fit.warnings
    # the same arc in a thick, small cell (L/A = 2.5 cm^-1): 1.25e-7 F/cm is beyond a bulk's,
    # and 2.5e-7 F/cm2 is an electrode's (interfacial capacitances go per area)
    thick = eisfit.Geometry(thickness="5 mm", area="0.2 cm2")
    (w,) = capacitance_warnings(film_fit, thick)
    assert "per cell constant 2.5 cm^-1" in w and "the arc may be the electrode" in w
    fixed = with_geometry(film_fit, thick)
    assert fixed.warnings.count(w) == 1
    assert fixed.resistances == film_fit.resistances


def test_capacitance_warnings_without_geometry_match_the_fit(film_fit):
    assert capacitance_warnings(film_fit) == [w for w in film_fit.warnings if "capacitance" in w]
    assert with_geometry(film_fit, None) is film_fit


def test_circuit_strings_have_no_roles_and_no_capacitance_warnings():
    p = [5, 1e3, arc_q(1e3, 5e-8, 0.95), 0.95, 1e-5, 0.9]
    r = eisfit.fit(spectrum("R0-p(R1,CPE1)-CPE2", p), "R0-p(R1,CPE1)-CPE2")
    assert capacitance_warnings(r) == []
    assert capacitance_warnings(r, eisfit.Geometry(thickness="1 mm", area="1 cm2")) == []


# --------------------------------------------------------------------------- Kramers-Kronig
def _sweep_fraction(f: np.ndarray) -> np.ndarray:
    dt = np.maximum(2 / f, 0.5)  # each point takes two periods, at least 0.5 s
    t = np.cumsum(dt) - dt / 2
    return (t - t[0]) / (t[-1] - t[0])


def drifting(drift: float, seed: int = 3) -> eisfit.Spectrum:
    """Two arcs; R1 rises linearly in time by ``drift`` over a high-to-low frequency sweep."""
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")
    p = np.array([10, 1e3, arc_q(1e3, 1e-10, 0.9), 0.9, 2e3, arc_q(2e3, 1e-7, 0.85), 0.85])
    frac = _sweep_fraction(F)
    z = np.empty(F.size, complex)
    for i in range(F.size):
        q = p.copy()
        q[1] *= 1 + drift * frac[i]
        z[i] = c.impedance(F[i : i + 1], q)[0]
    return eisfit.Spectrum(F, add_noise(z, 0.005, np.random.default_rng(seed)))


def test_kk_warning_on_a_drifting_spectrum():
    w = kk_warning(drifting(0.5))
    assert w is not None and "fails the Kramers-Kronig check" in w and "threshold" in w


def test_no_kk_warning_on_a_steady_spectrum():
    assert kk_warning(drifting(0.0)) is None


def test_kk_warning_when_the_check_cannot_run():
    f = np.logspace(3, 1, 3)
    w = kk_warning(eisfit.Spectrum(f, 100 - 10j * np.ones(3)))
    assert w is not None and "could not be run" in w


def test_with_warnings_appends_once(clean_fit):
    r = with_warnings(clean_fit, ["a", None, "a"])
    assert r.warnings == ("a",)
    assert with_warnings(r, ["a"]) is r
    assert with_warnings(clean_fit, [None]) is clean_fit


def test_resolved_blocking_cell_has_no_warnings():
    """Bulk 20 kOhm at 0.8 MHz, grain boundary 50 kOhm at 1 kHz, series 50 Ohm: no warning."""
    p = [50, 2e4, arc_q(2e4, 1e-11, 0.95), 0.95, 5e4, arc_q(5e4, 3e-9, 0.85), 0.85, 1e-6, 0.9]
    r = eisfit.fit(spectrum(BLOCKING, p, f=F7), "blocking")
    assert r.warnings == (), r.warnings


def test_an_intercept_is_one_finding_not_three():
    # the bundled LATP pellet at 0 °C: its bulk arc relaxes above the window, so the bulk is
    # the intercept R0 + R1, whose two parts the data cannot separate. That is one finding:
    # the intercept note names the parts, and no separate correlation line repeats it.
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "data" / "latp_pellet" / "LATP_0C.csv"
    r = eisfit.fit(eisfit.read(path), "blocking", external_resistance=1.5)
    notes = [w for w in r.warnings if "relaxes above the highest measured frequency" in w]
    assert len(notes) == 1 and notes[0].endswith("R0 and R1, its parts, are determined only "
                                                 "as their sum")
    assert not [w for w in r.warnings if w.startswith("R0 and R1 are correlated")]
    assert r.resistances["bulk"] > 0
