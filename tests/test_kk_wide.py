"""Lin-KK on wide ranges, with lead inductance and with few points; the fit's warnings for an
unmodelled inductance and for a resistance at its upper bound.

Independent truth: spectra computed exactly from ``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3`` (with and
without a series ``L0``) are Kramers-Kronig consistent by construction (a passive, linear,
causal circuit), so the check must pass them whatever their range and density; a resistance
rising during the sweep makes a spectrum inconsistent, so it must fail.
"""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.analysis.kk import kk_warning, kramers_kronig
from eisfit.model.synthetic import arc_q

BLOCKING = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
WITH_L = eisfit.Circuit("L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
#: series 10 Ohm, bulk 1 kOhm (apex ~10 MHz), grain boundary 10 kOhm (~16 kHz), electrode CPE
PARAMS = [10.0, 1e3, 1e-10, 0.9, 1e4, 1e-8, 0.8, 1e-6, 0.9]


def grid(f_max: float, f_min: float, n: int | None = None) -> np.ndarray:
    """Log-spaced frequencies (Hz) from high to low, 10 a decade unless ``n`` is given."""
    n = n or int(round(10 * np.log10(f_max / f_min))) + 1
    return np.logspace(np.log10(f_max), np.log10(f_min), n)


def exact(f: np.ndarray, inductance: float = 0.0, params=PARAMS) -> eisfit.Spectrum:
    if inductance:
        return eisfit.Spectrum(f, WITH_L.impedance(f, [inductance, *params]))
    return eisfit.Spectrum(f, BLOCKING.impedance(f, params))


CASES = {
    "1 uHz-1 GHz": exact(grid(1e9, 1e-6)),
    "10 mHz-1 GHz": exact(grid(1e9, 1e-2)),
    "1 uHz-1 GHz, 1 uH in series": exact(grid(1e9, 1e-6), 1e-6),
    "10 mHz-1 GHz, 1 uH in series": exact(grid(1e9, 1e-2), 1e-6),
    "10 mHz-10 MHz, 10 uH in series": exact(grid(1e7, 1e-2), 1e-5),
    "12 points, 10 mHz-1 MHz": exact(grid(1e6, 1e-2, 12)),
    "12 points, 0.1 Hz-10 MHz, 10 uH in series": exact(grid(1e7, 1e-1, 12), 1e-5),
}


@pytest.mark.parametrize("name", list(CASES))
def test_exact_spectra_pass_lin_kk(name):
    s = CASES[name]
    if "series" in name:
        assert (s.z.imag > 0).any()  # an inductive loop above the capacitive arcs
    r = kramers_kronig(s)
    assert r.passed, r.summary()
    assert r.max_residual < 0.015 and r.max_trend < 0.005, r.summary()
    assert kk_warning(s) is None


def test_wide_range_passes_with_the_real_fit():
    r = kramers_kronig(CASES["10 mHz-1 GHz, 1 uH in series"], fit_type="real")
    assert r.passed, r.summary()


def _random_params(rng: np.random.Generator) -> list[float]:
    r1 = 10 ** rng.uniform(2, 5)
    r2 = r1 * 10 ** rng.uniform(-1, 1)
    n1, n2, n3 = rng.uniform(0.7, 1.0, 3)
    f1 = 10 ** rng.uniform(3, 7)
    f2 = f1 / 10 ** rng.uniform(1, 3)
    q1 = (1 / (2 * np.pi * f1)) ** n1 / r1
    q2 = (1 / (2 * np.pi * f2)) ** n2 / r2
    return [rng.uniform(1, 50), r1, q1, n1, r2, q2, n2, 10 ** rng.uniform(-7, -5), n3]


@pytest.mark.parametrize(
    ("f_max", "f_min", "n", "with_l"),
    [
        (1e9, 1e-6, None, False),
        (1e9, 1e-6, None, True),
        (1e7, 1e-2, 12, False),
        (1e7, 1e-1, 12, True),
    ],
)
def test_random_exact_spectra_pass(f_max, f_min, n, with_l):
    rng = np.random.default_rng(7)
    f = grid(f_max, f_min, n)
    for _ in range(25):
        p = _random_params(rng)
        s = exact(f, 10 ** rng.uniform(-7, -5) if with_l else 0.0, p)
        r = kramers_kronig(s)
        assert r.passed, (p, r.summary())


TWO_ARCS = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")


def _drifting(f: np.ndarray, drift: float) -> eisfit.Spectrum:
    """Two arcs, R2 rising linearly by ``drift`` over a sweep from high to low f (each point
    takes max(2 periods, 0.5 s))."""
    dt = np.maximum(2 / f, 0.5)
    t = np.cumsum(dt) - dt / 2
    frac = (t - t[0]) / (t[-1] - t[0])
    z = np.empty(f.size, complex)
    for i in range(f.size):
        p = PARAMS[:7]
        p[4] *= 1 + drift * frac[i]
        z[i] = TWO_ARCS.impedance(f[i : i + 1], p)[0]
    return eisfit.Spectrum(f, z)


@pytest.mark.parametrize(("f_max", "f_min"), [(1e9, 1e-2), (1e6, 1e-2)])
def test_a_drifting_spectrum_still_fails(f_max, f_min):
    s = _drifting(grid(f_max, f_min), 0.3)
    r = kramers_kronig(s)
    assert not r.passed, r.summary()
    w = kk_warning(s)
    assert w is not None and "fails the Kramers-Kronig check" in w and "drifted" in w


def test_an_isolated_artefact_is_not_called_a_drift():
    f = grid(1e6, 1e-1)
    z = BLOCKING.impedance(f, PARAMS)
    z[30] *= 1.08  # one point off by 8 %
    w = kk_warning(eisfit.Spectrum(f, z))
    assert w is not None and "isolated points" in w and "drifted" not in w
    assert f"largest at {f[30]:.3g} Hz" in w


def test_fit_of_a_wide_exact_spectrum_has_no_kk_warning():
    r = eisfit.fit(CASES["10 mHz-1 GHz"], "blocking", kk=True)
    assert not any("Kramers-Kronig" in w for w in r.warnings), r.warnings


# --------------------------------------------------------------------------- fit warnings
def _lead_cell(inductance: float) -> eisfit.Spectrum:
    """A blocking cell (series 10 Ohm, bulk 300 Ohm, grain boundary 3 kOhm) to 1 MHz."""
    p = [10.0, 300.0, arc_q(300.0, 3e-12, 0.9), 0.9, 3e3, arc_q(3e3, 1e-9, 0.85), 0.85, 3e-6, 0.85]
    return exact(grid(1e6, 1e-1), inductance, p)


def test_an_unmodelled_lead_inductance_is_reported():
    r = eisfit.fit(_lead_cell(10e-6), "blocking")
    hits = [w for w in r.warnings if "inductance of ~" in w]
    assert len(hits) == 1, r.warnings
    assert "not modelled" in hits[0] and "add an L element" in hits[0]
    value = float(hits[0].split("~")[1].split(" µH")[0])
    assert 5 <= value <= 15  # the true 10 µH, within a factor of 2


def test_no_inductance_warning_without_one_or_when_modelled():
    clean = eisfit.fit(_lead_cell(0.0), "blocking")
    assert not any("inductance" in w for w in clean.warnings), clean.warnings
    modelled = eisfit.fit(_lead_cell(10e-6), "L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    assert not any("inductance of ~" in w for w in modelled.warnings), modelled.warnings


def test_noisy_spectra_without_inductance_get_no_inductance_warning():
    rng = np.random.default_rng(3)
    from eisfit.model.synthetic import blocking_cell

    for _ in range(15):
        truth = blocking_cell(rng, noise=0.01)
        r = eisfit.fit(truth.spectrum, "blocking")
        assert not any("inductance" in w for w in r.warnings), r.warnings


def test_a_resistance_at_its_upper_bound_is_out_of_range():
    # the second arc of a two-arc circuit fitted to an arc and a blocking CPE: its
    # resistance runs to the default bound 1e15 Ohm
    f = grid(1e6, 1e-1)
    z = eisfit.Circuit("R0-p(R1,CPE1)-CPE2").impedance(f, [10, 1e4, 1e-9, 0.9, 1e-6, 0.85])
    r = eisfit.fit(eisfit.Spectrum(f, z), "li-symmetric")
    assert r.values["R2"] == pytest.approx(1e15, rel=1e-3)
    hits = [w for w in r.warnings if w.startswith("R2 = 1e+15 sits at its upper bound")]
    assert len(hits) == 1 and "out of range" in hits[0] and "lower limit" in hits[0], r.warnings
