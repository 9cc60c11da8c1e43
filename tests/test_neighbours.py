"""The neighbour pass of a temperature series: a poor fit refitted from its neighbours."""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.series.temperature import _predict, refit_from_neighbours

K_B = 8.617333262e-5
CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


def _series(noise: float = 0.005, seed: int = 4):
    rng = np.random.default_rng(seed)
    t = np.linspace(253.15, 323.15, 8)
    f = frequencies(7e6, 0.1, 10)
    r_b = 2e3 * np.exp(0.35 / K_B * (1 / t - 1 / t[-1])) * t / t[-1]
    r_gb = 5e3 * np.exp(0.5 / K_B * (1 / t - 1 / t[-1])) * t / t[-1]
    truth = []
    spectra = []
    for i, ti in enumerate(t):
        p = [1.5, r_b[i], arc_q(r_b[i], 3e-12, 0.95), 0.95, r_gb[i], arc_q(r_gb[i], 2e-9, 0.85),
             0.85, 2e-6, 0.85]
        truth.append(p)
        z = Circuit(CIRCUIT).impedance(f, p)
        spectra.append(eisfit.Spectrum(f, add_noise(z, noise, rng), temperature=ti))
    return t, spectra, np.array(truth)


def test_prediction_moves_time_constants_with_the_resistances():
    """Carried from two neighbours, R follows the Arrhenius line and C_eff stays put, so the
    predicted parameters at a third temperature match the truth there."""
    t, spectra, truth = _series(noise=0.0)
    fits = [eisfit.fit(s, "blocking") for s in spectra]
    p = _predict(Circuit(CIRCUIT), t[3], [(t[2], fits[2]), (t[4], fits[4])])
    assert p is not None
    np.testing.assert_allclose(p[[1, 4]], truth[3][[1, 4]], rtol=0.02)
    tau_pred = (p[1] * p[2]) ** (1 / p[3])
    tau_true = (truth[3][1] * truth[3][2]) ** (1 / truth[3][3])
    assert tau_pred == pytest.approx(tau_true, rel=0.03)


def test_a_poor_fit_is_refitted_and_the_better_kept():
    t, spectra, truth = _series()
    fits = [eisfit.fit(s, "blocking") for s in spectra]
    # spoil one fit: the same spectrum with the bulk exponent held at a wrong value
    bad_start = eisfit.fit(spectra[3], "blocking", fixed={"CPE1_1": 0.6})
    assert bad_start.chi_square > 2 * np.median([f.chi_square for f in fits])
    fits[3] = bad_start
    out = refit_from_neighbours(fits, t, "blocking")
    assert out[3] is not bad_start
    assert out[3].chi_square < 0.5 * bad_start.chi_square
    assert any("refitted from its neighbours" in w for w in out[3].warnings)
    assert out[3].resistances["bulk"] == pytest.approx(truth[3][1], rel=0.02)
    assert all(out[i] is fits[i] for i in range(len(fits)) if i != 3)


def test_the_walk_warm_starts_every_spectrum_in_temperature_order(monkeypatch):
    """Each spectrum is refitted once with a start predicted from the two fits before it in
    temperature (after it, for the two coldest), and a refit that is no better is not kept."""
    import eisfit.fitting.single

    t, spectra, _ = _series()
    order = np.random.default_rng(0).permutation(len(t))  # inputs not in temperature order
    fits = [eisfit.fit(spectra[i], "blocking") for i in order]
    temps = t[order]
    seen = []
    real_fit = eisfit.fitting.single.fit

    def counting_fit(spectrum, circuit, **kw):
        seen.append((spectrum.temperature, len(kw["starts"])))
        return real_fit(spectrum, circuit, **kw)

    monkeypatch.setattr(eisfit.fitting.single, "fit", counting_fit)
    out = refit_from_neighbours(fits, temps, "blocking")
    assert [temp for temp, _ in seen] == sorted(temps.tolist())
    assert all(n == 1 for _, n in seen)
    assert all(o is f or o.chi_square < 0.99 * f.chi_square for o, f in zip(out, fits, strict=True))
    monkeypatch.setattr(eisfit.fitting.single, "fit", real_fit)
    assert len(refit_from_neighbours(fits, temps, "blocking", walk=False)) == len(fits)
