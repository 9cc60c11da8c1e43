"""DRT: peaks of synthetic spectra built by :class:`eisfit.Circuit` (independent truth).

Multi-arc spectra: ``R0-p(R1,CPE1)-...``, consecutive apexes exactly one decade apart (the
first at 10-100 kHz), resistances within a factor ~3 of each other, CPE exponents 0.8-1,
71 points from 1 MHz to 0.1 Hz, Gaussian noise of 0.5 % of |Z| on each of Z' and Z''.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eisfit
import eisfit.analysis.drt
from eisfit.analysis.drt import drt, spike_start
from eisfit.exceptions import SpectrumError
from eisfit.kernels.drt_parts import prominent_maxima as _prominent_maxima

F = np.logspace(6, -1, 71)
#: Tolerance on each peak's resistance (area under γ between the minima that separate peaks)
#: for arcs a decade apart: with CPE exponents down to 0.8 the arcs overlap and the split at
#: the minimum shifts resistance between neighbours.
R_TOL = 0.30


def arcs(k: int, rng: np.random.Generator, noise: float = 0.005, spike: bool = False):
    text = "R0-" + "-".join(f"p(R{i},CPE{i})" for i in range(1, k + 1))
    if spike:
        text += f"-CPE{k + 1}"
    fa = 10 ** rng.uniform(4, 5) / 10.0 ** np.arange(k)
    r = 10 ** rng.uniform(2.5, 3.5) * 10 ** rng.uniform(-0.25, 0.25, k)
    n = rng.uniform(0.8, 1.0, k)
    p = [rng.uniform(5, 50)]
    for i in range(k):
        p += [r[i], (1 / (2 * np.pi * fa[i])) ** n[i] / r[i], n[i]]
    if spike:
        p += [1e-6, rng.uniform(0.8, 0.95)]
    z = eisfit.Circuit(text).impedance(F, p)
    z = z + noise * np.abs(z) * (rng.standard_normal(F.size) + 1j * rng.standard_normal(F.size))
    return eisfit.Spectrum(F, z), r, fa


def _rates(k: int, seed: int, n: int = 100, **kwargs: bool) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(seed)
    count_ok = r_ok = 0
    errs = []
    times = []
    for _ in range(n):
        s, r_true, _ = arcs(k, rng, **kwargs)
        t0 = time.perf_counter()
        res = drt(s)
        times.append(time.perf_counter() - t0)
        if len(res.peaks) == k:
            count_ok += 1
            e = np.abs(np.array([p.resistance for p in res.peaks]) / r_true - 1)
            errs.append(e.max())
            r_ok += bool(np.all(e < R_TOL))
    med = float(np.median(errs)) if errs else float("nan")
    return count_ok / n, r_ok / n, med, float(np.median(times))


# --------------------------------------------------------------------------- exact spectra
def test_two_ideal_rc_arcs_exact():
    z = eisfit.Circuit("R0-p(R1,C1)-p(R2,C2)").impedance(F, [10, 1000, 1e-9, 2000, 1e-6])
    r = drt(eisfit.Spectrum(F, z))
    assert len(r.peaks) == 2
    p1, p2 = r.peaks
    assert p1.resistance == pytest.approx(1000, rel=0.01)
    assert p2.resistance == pytest.approx(2000, rel=0.01)
    assert p1.tau == pytest.approx(1e-6, rel=0.05)
    assert p2.tau == pytest.approx(2e-3, rel=0.05)
    assert p1.frequency == pytest.approx(1 / (2 * np.pi * p1.tau))
    assert p1.capacitance == pytest.approx(1e-9, rel=0.06)
    assert p1.tau_bounds[0] < p1.tau < p1.tau_bounds[1]
    assert p1.frequency_bounds[0] < p1.frequency < p1.frequency_bounds[1]
    assert r.r_inf == pytest.approx(10, abs=0.5)
    assert r.polarization_resistance == pytest.approx(3000, rel=0.01)
    assert r.tail == "none" and r.lam_method == "gcv"
    # the grid reaches a decade beyond the measured range on both sides
    assert r.tau[0] == pytest.approx(1 / (2 * np.pi * 1e6) / 10)
    assert r.tau[-1] == pytest.approx(1 / (2 * np.pi * 0.1) * 10)


def test_result_is_immutable_and_serialisable():
    z = eisfit.Circuit("R0-p(R1,C1)").impedance(F, [10, 1000, 1e-9])
    r = drt(eisfit.Spectrum(F, z), lam=1e-4)
    assert r.lam == 1e-4 and r.lam_method == "user"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.r_inf = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.gamma[0] = 1.0
    d = json.loads(json.dumps(r.to_dict()))
    assert len(d["peaks"]) == 1 and d["peaks"][0]["resistance_ohm"] == pytest.approx(1000, 0.02)
    assert len(d["tau_s"]) == len(d["gamma_ohm"]) == r.tau.size
    assert "peak 1: R = " in r.summary()
    assert np.abs(r.residuals).max() < 0.01


def test_series_inductance():
    z = eisfit.Circuit("L0-R0-p(R1,C1)").impedance(F, [2e-6, 10, 1000, 1e-9])
    r = drt(eisfit.Spectrum(F, z), inductance=True)
    assert r.inductance == pytest.approx(2e-6, rel=0.05)
    assert len(r.peaks) == 1 and r.peaks[0].resistance == pytest.approx(1000, rel=0.02)


def test_blocking_spike_is_modelled_by_a_cpe_tail():
    c = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    p = [10, 1000, (1 / (2 * np.pi * 1e5)) ** 0.85 / 1000, 0.85,
         2000, (1 / (2 * np.pi * 1e3)) ** 0.85 / 2000, 0.85, 1e-6, 0.85]
    s = eisfit.Spectrum(F, c.impedance(F, p))
    assert spike_start(s.frequency, s.z) is not None
    r = drt(s)
    assert r.tail == "cpe"
    assert r.tail_exponents[0] == pytest.approx(0.85, abs=0.01)
    assert r.tail_coefficients[0] == pytest.approx(1e6, rel=0.02)  # 1/Q
    assert [round(q.resistance, -1) for q in r.peaks] == pytest.approx([1000, 2000], rel=0.03)
    # without the tail term the spike turns into a huge γ at the longest τ
    bad = drt(s, tail="none")
    assert bad.polarization_resistance > 100 * r.polarization_resistance
    # crop: only the arcs region is fitted; cruder (the spike's remainder is left to γ)
    cropped = drt(s, tail="crop")
    assert cropped.tail == "crop"
    assert cropped.frequency.min() > F.min()
    assert cropped.peaks[0].resistance == pytest.approx(1000, rel=0.25)


def test_no_spike_on_arcs():
    z = eisfit.Circuit("R0-p(R1,C1)-p(R2,C2)").impedance(F, [10, 1000, 1e-9, 2000, 1e-6])
    assert spike_start(F, z) is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tail": "spike"}, "tail must be one of"),
        ({"lam": -1.0}, "lam must be a positive number"),
        ({"order": 3}, "order must be 0, 1 or 2"),
        ({"n_tau": 2}, "n_tau must be at least"),
        ({"fmin": 1e7}, "DRT needs at least 5 points"),
    ],
)
def test_bad_arguments(kwargs, match):
    z = eisfit.Circuit("R0-p(R1,C1)").impedance(F, [10, 1000, 1e-9])
    with pytest.raises(SpectrumError, match=match):
        drt(eisfit.Spectrum(F, z), **kwargs)


def test_lazy_names():
    assert eisfit.drt is drt is eisfit.analysis.drt.drt
    assert eisfit.kramers_kronig.__name__ == "kramers_kronig"


# --------------------------------------------------------------------------- rates
@pytest.mark.slow
def test_blocking_cells_with_noise():
    """Two arcs plus a CPE spike (n 0.8-0.95), 0.5 % noise: the arcs are still found."""
    count, r_ok, med, _ = _rates(2, seed=30, n=40, spike=True)
    print(
        f"\n[DRT, 2 arcs + blocking spike, 0.5 % noise, 40 spectra] right count {count:.0%}, "
        f"all R within {R_TOL:.0%}: {r_ok:.0%}, median worst R error {med:.1%}"
    )
    assert count >= 0.9
    assert r_ok >= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3])
def test_arc_count_and_resistances(k):
    """≥ 95 % right number of arcs; each peak's R within 30 % in ≥ 85 % of all spectra."""
    count, r_ok, med, t = _rates(k, seed=10 + k)
    print(
        f"\n[DRT, {k} arcs a decade apart, 0.5 % noise, 100 spectra] right count {count:.0%}, "
        f"all R within {R_TOL:.0%}: {r_ok:.0%}, median worst R error {med:.1%}, "
        f"median time {1e3 * t:.1f} ms"
    )
    assert count >= 0.95
    assert r_ok >= 0.85


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=40),
    st.sampled_from([0.0, 0.5, 1.0, 2.5]),
)
def test_prominent_maxima_are_scipys_peaks(values, prominence):
    # small integers make flat tops and equal neighbours, the cases a peak finder gets wrong
    from scipy.signal import find_peaks

    x = np.array(values, float)
    expected = find_peaks(x, prominence=prominence)[0]
    assert _prominent_maxima(x, prominence).tolist() == expected.tolist()


@pytest.mark.parametrize("n_true", [0.5, 0.72, 0.85, 0.97, 1.0])
def test_tail_exponent_is_the_best_exponent_of_a_dense_search(n_true):
    # a noisy spike R + (jω)^-n / Q: the two-level grid lands where a search of the whole
    # range in steps of 1e-5 does, and near the true exponent
    rng = np.random.default_rng(int(n_true * 100))
    f = np.logspace(1, -2, 16)
    z = 50 + (2j * np.pi * f) ** -n_true * 1e5
    z = z * (1 + 0.002 * rng.standard_normal(f.size))
    n = eisfit.analysis.drt.tail_exponent(f, z, below=f.max())
    dense = np.linspace(0.3, 1.0, 70001)
    best = dense[np.argmin(eisfit.analysis.drt.tail_costs(dense, np.log(2 * np.pi * f), z))]
    assert n == pytest.approx(best, abs=5e-4)
    assert n == pytest.approx(n_true, abs=0.01)


def test_grid_points_per_decade():
    s = eisfit.Spectrum(F, eisfit.Circuit("R0-p(R1,C1)").impedance(F, [10, 1000, 1e-9]))
    fine, coarse = drt(s, lam=0.03), drt(s, lam=0.03, per_decade=5)
    decades = np.log10(fine.tau[-1] / fine.tau[0])
    assert fine.tau.size == round(10 * decades) + 1
    assert coarse.tau.size == round(5 * decades) + 1
    assert coarse.peaks[0].resistance == pytest.approx(1000, rel=0.02)
    with pytest.raises(SpectrumError, match="per_decade"):
        drt(s, per_decade=0)
