"""Weightings: Boukamp's, per-point σ, and fits in admittance, against known truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.exceptions import FitError, SpectrumError
from eisfit.fitting.engine import Problem
from eisfit.fitting.stack import fit_stack
from eisfit.fitting.weighting import WEIGHTINGS, weights
from eisfit.kernels import compiled
from eisfit.model.circuit import Circuit

#: Three arcs and a blocking CPE, every arc inside 0.1 Hz – 1 MHz, so every parameter is
#: determined and no arc is treated as hidden.
CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
TRUTH = np.array([300.0, 1e4, 1e-9, 0.9, 3e4, 5e-8, 0.8, 2e-6, 0.85])
FREQ = np.logspace(6, -1, 57)
Z_TRUE = Circuit(CIRCUIT).impedance(FREQ, TRUTH)


def _values(result) -> np.ndarray:
    return np.array([result.params[n].value for n in Circuit(CIRCUIT).parameter_names])


def _errors(result) -> np.ndarray:
    return np.array([result.params[n].stderr for n in Circuit(CIRCUIT).parameter_names])


def _noisy_sigma(seed: int) -> eisfit.Spectrum:
    """Heteroscedastic noise of known σ (1–3 % of |Z|, half that on Im Z), σ carried."""
    rng = np.random.default_rng(seed)
    s_re = 0.01 * np.abs(Z_TRUE) * (1 + np.linspace(0, 2, FREQ.size))
    s_im = 0.5 * s_re
    z = Z_TRUE + s_re * rng.normal(size=FREQ.size) + 1j * s_im * rng.normal(size=FREQ.size)
    return eisfit.Spectrum(FREQ, z, {"source": f"seed{seed}"}).with_sigma(s_re, s_im)


# ---------------------------------------------------------------------------- Boukamp
def test_boukamp_weights_are_the_modulus_weights_and_fit_identically():
    rng = np.random.default_rng(4)
    z = Z_TRUE * (1 + 0.01 * (rng.normal(size=FREQ.size) + 1j * rng.normal(size=FREQ.size)))
    # Boukamp: Σ [(ΔZ')² + (ΔZ'')²] / |Z|²; eisfit's weights multiply the residuals
    w_re, w_im = weights("boukamp", z)
    np.testing.assert_allclose(w_re**2, 1 / np.abs(z) ** 2, rtol=1e-15)
    np.testing.assert_array_equal(w_im, weights("modulus", z)[1])
    s = eisfit.Spectrum(FREQ, z)
    a, b = eisfit.fit(s, CIRCUIT, weighting="boukamp"), eisfit.fit(s, CIRCUIT)
    np.testing.assert_array_equal(_values(a), _values(b))
    assert a.weighting == "boukamp" and a.chi_square == b.chi_square


# ---------------------------------------------------------------------------- admittance
def test_admittance_jacobian_matches_central_differences():
    c = Circuit(CIRCUIT)
    n = c.n_params
    z = Z_TRUE * (1 + 0.02j)
    w = np.abs(z)
    problem = Problem(c, FREQ, z, w, w, np.full(n, 1e-15), np.full(n, 1e15), np.ones(n, bool),
                      TRUTH, admittance=True)
    u = problem.to_internal(TRUTH * np.linspace(0.8, 1.2, n))
    r, jac = problem.residual_jac_batch(u[None, :])
    # the residual is Y_model − Y_data weighted by |Z_data|
    y_model = 1 / c.impedance(FREQ, problem.to_params(u))
    np.testing.assert_allclose(r[0], np.concatenate([w * (y_model - 1 / z).real,
                                                     w * (y_model - 1 / z).imag]), rtol=1e-12)
    h = 1e-6
    for k in range(n):
        du = np.zeros(n)
        du[k] = h
        hi, _ = problem.residual_jac_batch((u + du)[None, :])
        lo, _ = problem.residual_jac_batch((u - du)[None, :])
        fd = (hi[0] - lo[0]) / (2 * h)
        np.testing.assert_allclose(jac[0][:, k], fd, rtol=1e-5, atol=1e-7 * np.abs(fd).max())


def test_admittance_and_impedance_fits_agree_on_noise_free_data():
    s = eisfit.Spectrum(FREQ, Z_TRUE)
    y_fit = eisfit.fit(s, CIRCUIT, weighting="admittance")
    z_fit = eisfit.fit(s, CIRCUIT)
    np.testing.assert_allclose(_values(y_fit), _values(z_fit), rtol=1e-6)
    np.testing.assert_allclose(_values(y_fit), TRUTH, rtol=1e-6)
    assert y_fit.weighting == "admittance"


def _log_errors(weighting: str, noise) -> tuple[float, float]:
    """RMS log error of the parameters of an admittance fit and a Z (modulus) fit over seeds."""
    ey, ez = [], []
    for seed in range(6):
        y = noise(np.random.default_rng(seed))
        s = eisfit.Spectrum(FREQ, 1 / y)
        ey.append(np.log(_values(eisfit.fit(s, CIRCUIT, weighting=weighting)) / TRUTH))
        ez.append(np.log(_values(eisfit.fit(s, CIRCUIT)) / TRUTH))
    return float(np.sqrt(np.mean(np.square(ey)))), float(np.sqrt(np.mean(np.square(ez))))


def test_admittance_fit_of_noise_in_admittance_recovers_the_truth():
    y_true = 1 / Z_TRUE

    # proportional noise in Y: Y_data = Y_true (1 + ε), 1 % on each part
    def proportional(rng):
        return y_true * (1 + 0.01 * (rng.normal(size=FREQ.size) + 1j * rng.normal(size=FREQ.size)))

    ey, ez = _log_errors("admittance", proportional)
    assert ey < 0.03 and ey <= 1.05 * ez  # measured: 0.0213 and 0.0212
    # noise of one σ on every point of Y: the unweighted admittance fit is its maximum
    # likelihood, and beats the Z fit
    sy = 0.003 * np.abs(y_true).min()

    def additive(rng):
        return y_true + sy * (rng.normal(size=FREQ.size) + 1j * rng.normal(size=FREQ.size))

    ey, ez = _log_errors("admittance-unit", additive)
    assert ey < 0.5 * ez  # measured: 1.7e-4 against 5.9e-4


def test_admittance_fit_runs_with_numpy_and_says_so():
    rng = np.random.default_rng(8)
    s = eisfit.Spectrum(FREQ, Z_TRUE * (1 + 0.01 * rng.normal(size=FREQ.size)))
    with compiled.use(False):
        plain = eisfit.fit(s, CIRCUIT, weighting="admittance")
    with compiled.use(True):
        r = eisfit.fit(s, CIRCUIT, weighting="admittance")
    np.testing.assert_array_equal(_values(r), _values(plain))
    if compiled.enabled():
        assert any("admittance with the numpy engine" in w for w in r.warnings)
    # a stack gives each spectrum the answer of a fit alone
    [stacked] = fit_stack([s], CIRCUIT, weighting="admittance")
    np.testing.assert_allclose(_values(stacked), _values(r), rtol=1e-6)


# ---------------------------------------------------------------------------- per-point σ
def test_sigma_weights_give_a_true_chi_square_and_errors_that_cover_the_truth():
    spectra = [_noisy_sigma(seed) for seed in range(50)]
    results = fit_stack(spectra, CIRCUIT, weighting="sigma")
    chi2 = np.array([r.chi_square for r in results])
    # measured: 0.957 over the first 20, 0.962 over all 50
    assert abs(chi2[:20].mean() - 1) < 0.15 and abs(chi2.mean() - 1) < 0.1
    inside = np.array([np.abs(_values(r) - TRUTH) < _errors(r) for r in results])
    assert 0.6 < inside.mean() < 0.76  # nominal 0.683 (measured 0.662 of 450)
    # the stack's answer is the single fit's, and the errors are not rescaled by χ²
    one = eisfit.fit(spectra[3], CIRCUIT, weighting="sigma")
    np.testing.assert_allclose(_values(one), _values(results[3]), rtol=1e-6)
    c = Circuit(CIRCUIT)
    z_fit = c.impedance(FREQ, _values(one))
    s_re, s_im = spectra[3].sigma
    resid = np.concatenate([(z_fit - spectra[3].z).real / s_re, (z_fit - spectra[3].z).imag / s_im])
    assert one.chisqr == pytest.approx(resid @ resid, rel=1e-9)
    modulus = eisfit.fit(spectra[3], CIRCUIT)
    assert not np.allclose(_errors(one), _errors(modulus), rtol=0.05)


def test_sigma_survives_dropped_points_and_refuses_wrong_shapes():
    s = _noisy_sigma(1)
    with pytest.raises(SpectrumError, match=r"one value per point \(57\), got shape \(56,\)"):
        eisfit.Spectrum(FREQ, Z_TRUE).with_sigma(np.ones(56))
    with pytest.raises(SpectrumError, match=r"sigma imag\[2\] is -1.0"):
        eisfit.Spectrum(FREQ, Z_TRUE).with_sigma(1.0, np.r_[1, 1, -1, np.ones(54)])
    with pytest.raises(FitError, match="needs the standard deviation of each point"):
        eisfit.fit(eisfit.Spectrum(FREQ, Z_TRUE), CIRCUIT, weighting="sigma")
    with pytest.raises(FitError, match="weighting must be one of"):
        eisfit.fit(s, CIRCUIT, weighting="chi")
    cropped = s.crop(fmax=1e5)
    keep = FREQ <= 1e5
    np.testing.assert_array_equal(cropped.sigma[0], s.sigma[0][keep])
    assert {"sigma", "admittance", "admittance-unit", "boukamp"} <= set(WEIGHTINGS)


# ---------------------------------------------------------------------------- command line
def _write(path, spectrum):
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    rows += [f"{f:.17g},{z.real:.17g},{-z.imag:.17g}"
             for f, z in zip(spectrum.frequency, spectrum.z, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _write_sigma(path, spectrum):
    s_re, s_im = spectrum.sigma
    rows = ["frequency,sigma_re,sigma_im"]
    rows += [f"{f:.17g},{a:.17g},{b:.17g}"
             for f, a, b in zip(spectrum.frequency, s_re, s_im, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_fit_in_admittance(tmp_path, capsys):
    s = _noisy_sigma(5)
    path = _write(tmp_path / "cell.csv", s)
    code = main(["fit", str(path), "--circuit", CIRCUIT, "--weighting", "admittance", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and d["weighting"] == "admittance"
    direct = eisfit.fit(eisfit.Spectrum(s.frequency, s.z), CIRCUIT, weighting="admittance")
    assert d["parameters"]["R1"]["value"] == pytest.approx(direct.params["R1"].value, rel=1e-9)


def test_cli_sigma_file_for_fit_and_batch(tmp_path, capsys):
    spectra = [_noisy_sigma(seed) for seed in (6, 7)]
    paths = [_write(tmp_path / f"cell_{t}C.csv", s) for t, s in zip((25, 45), spectra,
                                                                   strict=True)]
    sigma = _write_sigma(tmp_path / "sigma.csv", spectra[0])  # one grid, one σ for both files
    code = main(["fit", str(paths[0]), "--circuit", CIRCUIT, "--sigma", str(sigma), "--json"])
    d = json.loads(capsys.readouterr().out)
    direct = eisfit.fit(spectra[0], CIRCUIT, weighting="sigma")
    assert code == 0 and d["weighting"] == "sigma"
    assert d["chi_square"] == pytest.approx(direct.chi_square, rel=1e-9)
    code = main(["batch", *map(str, paths), "--circuit", CIRCUIT, "--sigma", str(sigma),
                 "--json", "--no-kk"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    fits = out["spectra"]
    assert [f["weighting"] for f in fits] == ["sigma", "sigma"]
    assert all(0.5 < f["chi_square"] < 1.6 for f in fits)
    # σ without a table, a table that misses a frequency, --sigma with another weighting
    assert main(["fit", str(paths[0]), "--weighting", "sigma"]) == 2
    assert "--weighting sigma needs --sigma" in capsys.readouterr().err
    short = tmp_path / "short.csv"
    short.write_text("\n".join(sigma.read_text().splitlines()[:-1]) + "\n")
    assert main(["fit", str(paths[0]), "--sigma", str(short)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no row for 0.1 Hz" in err and len(err.splitlines()) == 1
    assert main(["fit", str(paths[0]), "--sigma", str(sigma), "--weighting", "unit"]) == 2
    assert "drop --weighting unit" in capsys.readouterr().err
