"""Z-HIT: |Z| reconstructed from the phase, against analytic circuits, synthetic noise and drift,
and real instrument files.

Synthetic truth as in ``tests/test_validate_kk.py`` (whose two-arc construction and sweep timing
are reused): 71 points 1 MHz-0.1 Hz, Gaussian noise of 0.5 % of |Z| on each of Z' and Z''; a
drift is R1 rising linearly in *time* during a high-to-low frequency sweep in which each point
takes max(2 periods, 0.5 s).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from test_validate_kk import F, _sweep_fraction, synthetic

import eisfit
from eisfit.analysis.zhit_check import DEFAULT_THRESHOLD, GAMMA, zhit
from eisfit.exceptions import SpectrumError

BLOCKING = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
NOISE = 0.005


def blocking(rng: np.random.Generator, drift: float = 0.0) -> eisfit.Spectrum:
    """A blocking cell R-RQ-RQ-Q (bulk, grain boundary, electrode spike); R1 rises by
    ``drift`` (fraction) over the sweep."""
    r0, r1 = rng.uniform(5, 50), 10 ** rng.uniform(2.5, 3.5)
    r2 = r1 * 10 ** rng.uniform(-0.5, 0.5)
    n1, n2 = rng.uniform(0.8, 1.0, 2)
    fa1 = 10 ** rng.uniform(4, 5.5)
    fa2 = fa1 / 10 ** rng.uniform(1, 2.5)
    p = np.array([r0, r1, (1 / (2 * np.pi * fa1)) ** n1 / r1, n1,
                  r2, (1 / (2 * np.pi * fa2)) ** n2 / r2, n2,
                  10 ** rng.uniform(-7, -5), rng.uniform(0.6, 0.95)])
    frac = _sweep_fraction(F)
    z = np.empty(F.size, complex)
    for i in range(F.size):
        q = p.copy()
        q[1] *= 1 + drift * frac[i]
        z[i] = BLOCKING.impedance(F[i : i + 1], q)[0]
    z = z + NOISE * np.abs(z) * (rng.standard_normal(F.size) + 1j * rng.standard_normal(F.size))
    return eisfit.Spectrum(F, z)


def _interior(f: np.ndarray, decades: float = 1.0) -> np.ndarray:
    lf = np.log10(f)
    return (lf > lf.min() + decades) & (lf < lf.max() - decades)


# --------------------------------------------------------------------------- exact circuits
@pytest.mark.parametrize("circuit, params", [
    ("p(R1,C1)", [1e3, 1e-6]),
    ("R0-p(R1,C1)", [10, 1e3, 1e-6]),
    ("R0-p(R1,C1)-p(R2,C2)", [10, 1e3, 1e-9, 3e3, 1e-5]),
    ("R0-p(R1,CPE1)-CPE2", [20, 1e3, 1e-7, 0.85, 1e-5, 0.9]),
])
def test_noise_free_reconstruction_is_exact_in_the_interior(circuit, params):
    f = np.logspace(6, -2, 81)
    z = eisfit.Circuit(circuit).impedance(f, params)
    for smoothing in (0, "auto"):
        r = zhit(eisfit.Spectrum(f, z), smoothing=smoothing)
        assert np.abs(r.residuals[_interior(f)]).max() <= 1e-3, (circuit, smoothing)
        assert np.allclose(r.modulus, np.abs(z))
        assert r.passed


def test_first_order_form_sign_and_its_own_error_on_an_ideal_rc():
    """γ = −π/6 with φ = arg Z: the published first-order Z-HIT is within ~2.5 % of an ideal
    RC (its known error around the time constant); the opposite sign would be ~50 % off, and
    the full kernel removes the error."""
    f = np.logspace(6, -2, 81)
    z = eisfit.Circuit("p(R1,C1)").impedance(f, [1e3, 1e-6])
    s = eisfit.Spectrum(f, z)
    first = zhit(s, method="first-order", smoothing=0)
    assert 5e-3 < np.abs(first.residuals).max() < 0.03
    assert GAMMA == pytest.approx(-np.pi / 6)
    # the opposite sign, by hand: ln|Z| from the same integral with +π/6
    u = np.log(2 * np.pi * f[::-1])
    phi = np.angle(z[::-1])
    from scipy.interpolate import CubicSpline

    sp = CubicSpline(u, phi)
    rec = 2 / np.pi * (sp.antiderivative()(u) - sp.antiderivative()(u[0])) + np.pi / 6 * sp(u, 1)
    d = np.log(np.abs(z[::-1])) - rec
    assert np.abs(np.exp(d - d.mean()) - 1).max() > 0.2
    full = zhit(s, smoothing=0)
    assert np.abs(full.residuals).max() < 1e-4


def test_pure_capacitor_and_inductor_slopes():
    """φ = ∓π/2 gives |Z| ∝ ω^∓1 exactly, at every point (a constant phase needs no
    continuation beyond the range)."""
    f = np.logspace(5, -1, 40)
    w = 2 * np.pi * f
    for z in (1 / (1j * w * 1e-6), 1j * w * 1e-3, 5 / (1j * w) ** 0.7):
        r = zhit(eisfit.Spectrum(f, z), smoothing=0)
        assert np.abs(r.residuals).max() < 1e-9


# --------------------------------------------------------------------------- noise and drift
def test_valid_noisy_spectra_pass_with_residuals_of_the_noise():
    rng = np.random.default_rng(2024)
    results = [zhit(synthetic(rng)) for _ in range(15)] + [zhit(blocking(rng)) for _ in range(15)]
    passed = [r.passed for r in results]
    rms = np.array([r.rms_residual for r in results])
    print(f"valid: {sum(passed)}/{len(passed)} pass; rms residual median {np.median(rms):.4f} "
          f"(noise {NOISE} per part)")
    assert sum(passed) >= 29
    # |Z| carries the noise (0.5 %) and the reconstruction a little more: rms of its order
    assert 0.5 * NOISE < np.median(rms) < 2 * NOISE
    assert rms.max() < 3 * NOISE


def test_drifting_spectra_are_flagged_at_low_frequency():
    """R1 rising 30 % in time over the sweep: every two-arc spectrum fails, and the points
    that deviate lie at the slow low frequencies (below the reference window)."""
    rng = np.random.default_rng(99)
    results = [zhit(synthetic(rng, drift=0.3)) for _ in range(10)]
    assert not any(r.passed for r in results)
    for r in results:
        dev = r.deviating_frequencies
        assert dev.size >= 3
        assert np.median(dev) < r.reference[0]
    # and the blocking cell, whose drifting arc lin-KK's Voigt chain absorbs, is flagged more
    # often than lin-KK flags it
    rng = np.random.default_rng(5)
    cells = [blocking(rng, drift=0.3) for _ in range(12)]
    zh = sum(not zhit(s).passed for s in cells)
    kk = sum(not eisfit.kramers_kronig(s).passed for s in cells)
    print(f"blocking cells with 30 % drift: Z-HIT flags {zh}/12, lin-KK {kk}/12")
    assert zh >= 2 and zh > kk


# --------------------------------------------------------------------------- real files
def test_zahner_drift_example_is_flagged(corpus_dir):
    """Zahner's Z-HIT drift example (a drifting system, 47 points 0.1 Hz-50 kHz): |Z| falls
    at low frequency while the phase stays capacitive."""
    s = eisfit.read(corpus_dir / "Zahner-elektrik__Zahner-Analysis-Python" /
                    "Examples__ZHIT__drift.ism")
    r = zhit(s)
    kk = eisfit.kramers_kronig(s)
    print(r.summary())
    print(kk.summary())
    assert not r.passed and not kk.passed
    dev = r.deviating_frequencies
    assert dev.size >= 8 and dev.max() < 20  # the drift: the slow points below 20 Hz
    low = r.frequency < 1
    assert (r.residuals[low] < -0.08).all()  # measured |Z| well below the reconstruction


def test_clean_blocking_cell_passes(corpus_dir):
    """LPSCl ion-blocking cell at −25 °C (BioLogic, 79 points 7 MHz-0.1 Hz): valid by lin-KK
    and by Z-HIT, with residuals of the order of the instrument's noise."""
    s = eisfit.read(corpus_dir / "jdhuang-csm__hybrid-drt" /
                    "tutorials__data__PEIS_LPSCl_IonBlocking_-25C.txt")
    r = zhit(s)
    kk = eisfit.kramers_kronig(s)
    print(r.summary())
    print(kk.summary())
    assert r.passed and kk.passed
    assert r.rms_residual < 0.01
    assert r.deviating_frequencies.size == 0


# --------------------------------------------------------------------------- the result
def test_result_is_immutable_serialisable_and_in_the_spectrum_order():
    rng = np.random.default_rng(1)
    s = synthetic(rng)
    r = zhit(s)
    assert np.array_equal(r.frequency, s.frequency)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.passed = False  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.residuals[0] = 1.0
    d = json.loads(json.dumps(r.to_dict()))
    assert d["passed"] is r.passed and len(d["residuals"]) == F.size
    assert d["threshold"] == DEFAULT_THRESHOLD and d["method"] == "full"
    assert r.summary().startswith("Z-HIT passed") and "reference" in r.summary()
    # any order gives the same reconstruction point by point
    back = zhit(eisfit.Spectrum(s.frequency[::-1], s.z[::-1]))
    assert np.allclose(back.residuals[::-1], r.residuals, atol=1e-9)
    # a stricter threshold fails the same data
    assert not zhit(s, threshold=0.001, edge_allowance=0).passed


def test_reference_window_and_slope_options():
    f = np.logspace(5, -1, 61)
    z = eisfit.Circuit("R0-p(R1,CPE1)-CPE2").impedance(f, [20, 1e3, 1e-7, 0.85, 1e-5, 0.9])
    s = eisfit.Spectrum(f, z)
    a = zhit(s, reference=(10, 1e3), smoothing=0)
    b = zhit(s, reference=(1e3, 10), slope=True, smoothing=0)
    assert a.reference == b.reference == (10.0, 1e3)
    assert np.abs(a.residuals[_interior(f)]).max() < 1e-3
    assert np.abs(b.residuals[_interior(f)]).max() < 1e-3


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "second"}, "method"),
    ({"reference": (1e8, 1e9)}, "reference window"),
    ({"reference": "mid"}, "reference"),
    ({"smoothing": "gcv"}, "smoothing"),
    ({"smoothing": -1}, "smoothing"),
    ({"threshold": 2}, "threshold"),
])
def test_mistakes_are_one_line_errors(kwargs, match):
    s = synthetic(np.random.default_rng(3))
    with pytest.raises(SpectrumError, match=match) as exc:
        zhit(s, **kwargs)
    assert "\n" not in str(exc.value)


def test_too_few_points_refused():
    f = np.logspace(3, 0, 5)
    with pytest.raises(SpectrumError, match="at least 8 distinct"):
        zhit(eisfit.Spectrum(f, 10 + 1 / (1j * f)))


def test_plot_residuals_draws(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from eisfit.show.plot_zhit import plot_zhit

    r = zhit(synthetic(np.random.default_rng(4), drift=0.3))
    ax = plot_zhit(r)
    assert ax.get_xscale() == "log"
    assert any("Z-HIT FAILED" in t.get_text() for t in ax.texts)
    lo, hi = ax.get_ylim()  # every residual (the drift's several %) is in view
    assert lo < 100 * r.residuals.min() and hi > 100 * r.residuals.max()
    ax.figure.savefig(tmp_path / "zhit.png")
    assert (tmp_path / "zhit.png").stat().st_size > 1000


def test_html_report_shows_the_zhit_check():
    """The report's figure caption gives each spectrum's Z-HIT verdict; a failed check is
    listed among the warnings with its summary."""
    from eisfit.show.report import render_report

    s = synthetic(np.random.default_rng(8), drift=0.3)
    r = eisfit.fit(s, "R0-p(R1,CPE1)-p(R2,CPE2)", kk=False)
    page = render_report(r, drt=False, dpi=40)
    assert "Z-HIT FAILED (rms residual of |Z|" in page
    assert page.count("Z-HIT FAILED: max |residual|") == 1  # the warning
    assert "Z-HIT" not in render_report(r, drt=False, kk=False, dpi=40)


def test_validate_command_prints_and_serialises_zhit(corpus_dir, tmp_path, capsys):
    from eisfit.cli.main import main

    path = corpus_dir / "Zahner-elektrik__Zahner-Analysis-Python" / "Examples__ZHIT__drift.ism"
    assert main(["validate", str(path)]) == 1  # lin-KK fails it too
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "lin-KK FAILED" in lines[0]
    assert lines[1].startswith("    Z-HIT FAILED") and "0.1-13.6 Hz" in lines[1]
    assert main(["validate", str(path), "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["zhit"]["passed"] is False and d["zhit"]["summary"].startswith("Z-HIT FAILED")
    assert max(d["zhit"]["deviating_frequency_Hz"]) < 20
    # too few points for Z-HIT: said on its line, lin-KK's verdict and exit status unchanged
    short = tmp_path / "short.csv"
    f = np.logspace(4, 0, 6)
    z = 10 + 1e3 / (1 + 1j * 2 * np.pi * f * 1e-5)
    short.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n"
                     + "".join(f"{a},{b.real},{-b.imag}\n" for a, b in zip(f, z, strict=True)))
    assert main(["validate", str(short)]) == 0  # an exact one-arc spectrum passes lin-KK
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "lin-KK passed" in out[0]
    assert out[1] == "    Z-HIT not run: Z-HIT needs at least 8 distinct frequencies, got 6"
