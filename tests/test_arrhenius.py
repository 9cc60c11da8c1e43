"""Arrhenius regression and the Bruce–Vincent transference number, against independent truth."""

from __future__ import annotations

import html
import json
import math
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from uncertainties import correlated_values, ufloat, unumpy

import eisfit
from eisfit.analysis.activation import (
    EV_TO_KJ_PER_MOL,
    K_B_EV,
    ArrheniusError,
    ArrheniusResult,
    ArrheniusTemperatureError,
    arrhenius,
    transference_number,
)
from eisfit.exceptions import EisfitError, GeometryError

T_SERIES = np.array([298.15, 308.15, 318.15, 328.15, 338.15, 348.15, 358.15, 368.15, 378.15])


def synthetic(
    T: np.ndarray, Ea: float = 0.35, ln_a: float = 12.0, form: str = "ln(sigma*T)"
) -> np.ndarray:
    """Exact Arrhenius conductivities: σT = A exp(-Ea/kT) (or σ = A exp(-Ea/kT))."""
    y = ln_a - Ea / (K_B_EV * T)
    return np.exp(y) / T if form == "ln(sigma*T)" else np.exp(y)


def test_public_names() -> None:
    assert eisfit.ArrheniusResult is ArrheniusResult
    assert eisfit.transference_number is transference_number
    # This file imported the module eisfit.analysis.activation by name; eisfit.arrhenius stays the
    # function.
    T = T_SERIES
    assert eisfit.arrhenius(T, synthetic(T)).Ea_eV == pytest.approx(0.35, abs=1e-9)


@pytest.mark.parametrize(
    ("first", "kind"),
    [("import eisfit", "function"), ("import eisfit.analysis.activation", "function")],
)
def test_public_name_in_a_fresh_interpreter(first: str, kind: str) -> None:
    code = (
        f"{first}; import eisfit; f = eisfit.arrhenius; "
        "print(type(f).__name__, f([300, 320, 340], [1, 2, 3]).n)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [kind, "3"]


def test_result_pickles() -> None:
    r = arrhenius(T_SERIES, synthetic(T_SERIES))
    r2 = pickle.loads(pickle.dumps(r))
    assert r2.Ea_eV == r.Ea_eV and r2.to_dict() == r.to_dict()


def test_constants() -> None:
    assert K_B_EV == pytest.approx(8.617333262e-5, rel=1e-9)
    assert EV_TO_KJ_PER_MOL == pytest.approx(96.485332, rel=1e-7)


# ----------------------------------------------------------------------------- published checks
# Published conductances of fixed-geometry cells. For a fixed geometry G = σ A / L, so
# conductance is proportional to conductivity and gives the same slope (and Ea) in either form.
THICK_PELLET_mS = (16.62, 272.48)  # Li6PS5Cl pellet, 30 °C and 100 °C
THIN_MEMBRANE_mS = (291.55, 1587.30)


@pytest.mark.parametrize(
    ("conductance", "form", "expected_eV"),
    [
        (THICK_PELLET_mS, "ln(sigma*T)", 0.418),
        (THICK_PELLET_mS, "ln(sigma)", 0.389),
        (THIN_MEMBRANE_mS, "ln(sigma*T)", 0.265),
    ],
)
def test_published_two_point_checks(conductance, form, expected_eV) -> None:
    r = arrhenius(["30C", "100 °C"], conductance, form=form, quantity="conductance", min_points=2)
    print(f"{form}: {conductance} mS -> Ea = {r.Ea_eV:.4f} eV (published {expected_eV})")
    assert r.Ea_eV == pytest.approx(expected_eV, abs=0.0005)
    assert r.n == 2 and r.T_min_K == pytest.approx(303.15) and r.T_max_K == pytest.approx(373.15)
    # two points: an exact line, no standard error
    assert math.isnan(r.Ea_stderr_eV) and math.isnan(r.ln_prefactor_stderr)
    assert all(math.isnan(c) for c in r.Ea_ci95_eV)
    d = r.to_dict()
    assert d["Ea_stderr_eV"] is None and d["Ea_ci95_eV"] == [None, None]
    json.dumps(d, allow_nan=False)
    assert any("no standard error" in w for w in r.warnings)


def test_published_check_as_resistance() -> None:
    # R = 1/G: the resistance form ln(T/R) is the ln(σT) analysis and gives the same Ea.
    r = arrhenius(
        [303.15, 373.15], [1 / 16.62e-3, 1 / 272.48e-3], quantity="resistance", min_points=2
    )
    assert r.Ea_eV == pytest.approx(0.418, abs=0.0005)


# ----------------------------------------------------------------------------- exact data
@pytest.mark.parametrize("form", ["ln(sigma*T)", "ln(sigma)"])
def test_exact_synthetic_data_recover_ea(form: str) -> None:
    sigma = synthetic(T_SERIES, 0.35, 12.0, form)
    r = arrhenius(T_SERIES, sigma, form=form)
    assert r.Ea_eV == pytest.approx(0.35, abs=1e-9)
    assert r.ln_prefactor == pytest.approx(12.0, abs=1e-7)
    assert r.Ea_kJ_per_mol == pytest.approx(0.35 * 96.48533212, rel=1e-8)
    assert r.r2 == pytest.approx(1.0, abs=1e-12)
    assert r.Ea_stderr_eV < 1e-9
    assert not r.curvature and r.warnings == ()
    np.testing.assert_allclose(r.predict(T_SERIES), sigma, rtol=1e-9)


def test_exact_weighted_data_recover_ea() -> None:
    sigma = synthetic(T_SERIES)
    r = arrhenius(T_SERIES, sigma, stderr=sigma * np.linspace(0.01, 0.1, T_SERIES.size))
    assert r.Ea_eV == pytest.approx(0.35, abs=1e-9)
    assert r.weighted


def test_resistance_gives_positive_ea() -> None:
    # An interfacial ASR that falls as T rises (thermally activated): R ∝ T exp(Ea/kT)
    sigma = synthetic(T_SERIES, 0.55)
    asr = 1.0 / sigma
    r = arrhenius(T_SERIES, asr, quantity="resistance")
    assert r.Ea_eV == pytest.approx(0.55, abs=1e-9)
    np.testing.assert_allclose(r.predict(T_SERIES), asr, rtol=1e-9)
    r2 = arrhenius(T_SERIES, asr, quantity="resistance", form="ln(sigma)")
    assert r2.Ea_eV == pytest.approx(arrhenius(T_SERIES, sigma, form="ln(sigma)").Ea_eV, abs=1e-9)
    # R = exp(Ea/kT) / A exactly: the ln(sigma) form of a resistance, -ln R against 1/T
    asr_plain = 1.0 / synthetic(T_SERIES, 0.55, form="ln(sigma)")
    r3 = arrhenius(T_SERIES, asr_plain, quantity="resistance", form="ln(sigma)")
    assert r3.Ea_eV == pytest.approx(0.55, abs=1e-9)
    np.testing.assert_allclose(r3.predict(T_SERIES), asr_plain, rtol=1e-9)


def test_ln_sigma_form_gives_smaller_ea() -> None:
    sigma = synthetic(T_SERIES, 0.35)
    assert arrhenius(T_SERIES, sigma, form="ln(sigma)").Ea_eV < 0.35


def test_negative_ea_warns() -> None:
    r = arrhenius(T_SERIES, 1.0 / synthetic(T_SERIES))  # a resistance passed as conductivity
    assert r.Ea_eV < 0
    assert any("Ea is negative" in w and "quantity='resistance'" in w for w in r.warnings)


# ----------------------------------------------------------------------------- statistics
def test_unweighted_stderr_matches_linregress() -> None:
    rng = np.random.default_rng(3)
    sigma = synthetic(T_SERIES) * np.exp(rng.normal(0, 0.03, T_SERIES.size))
    r = arrhenius(T_SERIES, sigma)
    ref = stats.linregress(1 / T_SERIES, np.log(sigma * T_SERIES))
    assert r.Ea_eV == pytest.approx(-ref.slope * K_B_EV, rel=1e-10)
    assert r.Ea_stderr_eV == pytest.approx(ref.stderr * K_B_EV, rel=1e-8)
    assert r.ln_prefactor == pytest.approx(ref.intercept, rel=1e-10)
    assert r.ln_prefactor_stderr == pytest.approx(ref.intercept_stderr, rel=1e-8)
    assert r.r2 == pytest.approx(ref.rvalue**2, rel=1e-10)
    t = stats.t.ppf(0.975, T_SERIES.size - 2)
    assert r.Ea_ci95_eV[0] == pytest.approx(r.Ea_eV - t * r.Ea_stderr_eV)
    assert r.Ea_ci95_eV[1] == pytest.approx(r.Ea_eV + t * r.Ea_stderr_eV)


def test_weighted_stderr_matches_curve_fit() -> None:
    rng = np.random.default_rng(4)
    rel = np.linspace(0.01, 0.08, T_SERIES.size)
    sigma = synthetic(T_SERIES) * np.exp(rng.normal(0, rel))
    r = arrhenius(T_SERIES, sigma, stderr=rel * sigma)  # se_ln = stderr/value = rel
    popt, pcov = optimize.curve_fit(
        lambda x, a, b: a + b * x,
        1 / T_SERIES,
        np.log(sigma * T_SERIES),
        sigma=rel,
        absolute_sigma=False,
    )
    assert r.Ea_eV == pytest.approx(-popt[1] * K_B_EV, rel=1e-8)
    assert r.Ea_stderr_eV == pytest.approx(math.sqrt(pcov[1, 1]) * K_B_EV, rel=1e-6)
    assert r.ln_prefactor_stderr == pytest.approx(math.sqrt(pcov[0, 0]), rel=1e-6)
    resid = np.log(sigma * T_SERIES) - (popt[0] + popt[1] / T_SERIES)
    assert r.reduced_chi2 == pytest.approx(np.sum((resid / rel) ** 2) / (T_SERIES.size - 2))


def test_ufloat_values_are_weighted_like_stderr() -> None:
    rng = np.random.default_rng(5)
    rel = np.linspace(0.01, 0.08, T_SERIES.size)
    sigma = synthetic(T_SERIES) * np.exp(rng.normal(0, rel))
    a = arrhenius(T_SERIES, sigma, stderr=rel * sigma)
    b = arrhenius(T_SERIES, unumpy.uarray(sigma, rel * sigma))
    assert b.Ea_eV == pytest.approx(a.Ea_eV, rel=1e-12)
    assert b.Ea_stderr_eV == pytest.approx(a.Ea_stderr_eV, rel=1e-12)
    with pytest.raises(ArrheniusError, match="give one of them"):
        arrhenius(T_SERIES, unumpy.uarray(sigma, rel * sigma), stderr=rel * sigma)


def _coverage(weighted: bool, trials: int = 2000) -> float:
    rng = np.random.default_rng(20240601 + weighted)
    T = np.linspace(273.15, 373.15, 7)
    truth = 0.35
    exact = synthetic(T, truth)
    rel = np.array([0.02, 0.05, 0.01, 0.08, 0.03, 0.04, 0.02]) if weighted else np.full(7, 0.04)
    hits = 0
    for _ in range(trials):
        sigma = exact * np.exp(rng.normal(0.0, rel))
        r = arrhenius(T, sigma, stderr=rel * sigma if weighted else None)
        lo, hi = r.Ea_ci95_eV
        hits += lo <= truth <= hi
    return hits / trials


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_confidence_interval_coverage(weighted: bool) -> None:
    rate = _coverage(weighted)
    print(f"95 % CI coverage ({'weighted' if weighted else 'unweighted'}, 2000 trials): {rate:.4f}")
    assert 0.92 <= rate <= 0.98


# ----------------------------------------------------------------------------- curvature
def test_curvature_flagged_for_two_processes() -> None:
    # Two conduction paths in parallel with different Ea: ln(σT) against 1/T bends.
    T = np.linspace(233.15, 413.15, 10)
    sigma = synthetic(T, 0.6, 20.0) + synthetic(T, 0.25, 7.0)
    rng = np.random.default_rng(11)
    r = arrhenius(T, sigma * np.exp(rng.normal(0, 0.01, T.size)))
    assert r.curvature and r.curvature_p < 0.01
    assert any("curved" in w and "233.2-413.1 K" in w for w in r.warnings)


def test_no_curvature_for_straight_noisy_data() -> None:
    rng = np.random.default_rng(12)
    r = arrhenius(T_SERIES, synthetic(T_SERIES) * np.exp(rng.normal(0, 0.03, T_SERIES.size)))
    assert not r.curvature and 0.01 <= r.curvature_p <= 1
    assert not any("curved" in w for w in r.warnings)


def test_curvature_not_tested_below_five_points() -> None:
    T = T_SERIES[:4]
    r = arrhenius(T, synthetic(T, 0.6, 20.0) + synthetic(T, 0.25, 7.0))
    assert math.isnan(r.curvature_p) and not r.curvature


def test_scatter_beyond_stderr_warns() -> None:
    rng = np.random.default_rng(13)
    sigma = synthetic(T_SERIES) * np.exp(rng.normal(0, 0.2, T_SERIES.size))
    r = arrhenius(T_SERIES, sigma, stderr=0.001 * sigma)
    assert r.reduced_chi2 > 100
    assert any("scatter more than their standard errors" in w for w in r.warnings)


# ----------------------------------------------------------------------------- input errors
def test_fewer_than_three_points() -> None:
    with pytest.raises(
        ArrheniusError, match=r"needs at least 3 temperatures, got 2 \(pass min_points=2"
    ):
        arrhenius([300.0, 350.0], [1e-4, 1e-3])
    with pytest.raises(ArrheniusError, match="needs at least 3 temperatures, got 1$"):
        arrhenius([300.0], [1e-4])
    with pytest.raises(ArrheniusError, match="min_points must be >= 2"):
        arrhenius([300.0, 350.0], [1e-4, 1e-3], min_points=1)


def test_duplicate_temperatures_warn_and_are_kept() -> None:
    T = np.array([298.15, 298.15, 318.15, 338.15, 358.15])
    sigma = synthetic(T)
    r = arrhenius(T, sigma)
    assert r.n == 5
    assert r.Ea_eV == pytest.approx(0.35, abs=1e-9)
    assert any(
        "temperature 298.15 K appears 2 times (indices 0, 1): kept" in w for w in r.warnings
    )


def test_single_temperature_is_an_error() -> None:
    with pytest.raises(ArrheniusError, match="all 3 values are at the same temperature"):
        arrhenius([300.0, 300.0, 300.0], [1.0, 2.0, 3.0])


def test_celsius_given_as_kelvin() -> None:
    with pytest.raises(
        ArrheniusTemperatureError,
        match=r"temperature\[0\] is 25 K, below 150 K: these look like °C given as K",
    ) as info:
        arrhenius([25.0, 50.0, 75.0], [1e-4, 2e-4, 3e-4])
    assert isinstance(info.value, GeometryError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("temps", "message"),
    [
        ([300.0, math.nan, 320.0], r"temperature\[1\] is nan: expected a finite number"),
        ([300.0, -5.0, 320.0], r"temperature\[1\] is -5 K: temperatures must be in K"),
        ([300.0, "25", 320.0], r"temperature\[1\] '25' has no unit"),
        ([300.0, None, 320.0], r"temperature\[1\] must be a number in K"),
    ],
)
def test_bad_temperatures(temps, message) -> None:
    with pytest.raises(GeometryError, match=message):
        arrhenius(temps, [1e-4, 2e-4, 3e-4])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1e-4, 0.0, 3e-4], r"values\[1\] is 0: Arrhenius analysis needs positive finite values"),
        ([1e-4, 2e-4, -3e-4], r"values\[2\] is -0\.0003"),
        ([math.nan, 2e-4, 3e-4], r"values\[0\] is nan"),
        ([1e-4, 2e-4], r"same length, got 3 and 2"),
        (["a", 2e-4, 3e-4], r"values must be numbers"),
        (1e-4, r"values must be a sequence"),
    ],
)
def test_bad_values(values, message) -> None:
    with pytest.raises(ArrheniusError, match=message):
        arrhenius([300.0, 320.0, 340.0], values)


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        ([1e-6, 0.0, 1e-6], r"stderr\[1\] is 0: standard errors must be positive"),
        ([1e-6, math.nan, 1e-6], r"stderr\[1\] is nan"),
        ([1e-6, 1e-6], r"stderr must have one entry per value: got 2 for 3 values"),
        (1e-6, r"stderr must be a sequence"),
    ],
)
def test_bad_stderr(stderr, message) -> None:
    with pytest.raises(ArrheniusError, match=message):
        arrhenius([300.0, 320.0, 340.0], [1e-4, 2e-4, 3e-4], stderr=stderr)


def test_bad_options() -> None:
    with pytest.raises(ArrheniusError, match=r"form must be one of \['ln\(sigma\*T\)'"):
        arrhenius(T_SERIES, synthetic(T_SERIES), form="ln(sigma/T)")
    with pytest.raises(ArrheniusError, match=r"quantity must be one of"):
        arrhenius(T_SERIES, synthetic(T_SERIES), quantity="capacitance")
    with pytest.raises(ArrheniusError, match="temperature_K must be a sequence"):
        arrhenius(300.0, [1.0])  # type: ignore[arg-type]


def test_errors_are_one_line_eisfit_errors() -> None:
    with pytest.raises(EisfitError) as info:
        arrhenius([300.0], [1.0])
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------- result object
def _noisy_result() -> ArrheniusResult:
    rng = np.random.default_rng(21)
    sigma = synthetic(T_SERIES) * np.exp(rng.normal(0, 0.02, T_SERIES.size))
    return arrhenius(T_SERIES, sigma, stderr=0.02 * sigma)


def test_to_dict_keys_match_json_contract() -> None:
    d = _noisy_result().to_dict()
    contract = {"Ea_eV", "Ea_stderr_eV", "Ea_kJ_per_mol", "ln_prefactor", "r2", "form",
                "T_min_K", "T_max_K", "n"}
    assert set(d) == contract | {"Ea_ci95_eV", "ln_prefactor_stderr", "warnings", "findings"}
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert isinstance(d["n"], int) and d["form"] == "ln(sigma*T)"
    assert len(d["Ea_ci95_eV"]) == 2 and d["warnings"] == [] and d["findings"] == []


def test_result_is_frozen_and_derived_values() -> None:
    r = _noisy_result()
    with pytest.raises(AttributeError):
        r.Ea_eV = 1.0  # type: ignore[misc]
    assert r.slope_K == pytest.approx(-r.Ea_eV / K_B_EV)
    assert r.Ea_stderr_kJ_per_mol == pytest.approx(r.Ea_stderr_eV * EV_TO_KJ_PER_MOL)
    assert r.Ea_ufloat.nominal_value == r.Ea_eV and r.Ea_ufloat.std_dev == r.Ea_stderr_eV
    assert not r.temperature_K.flags.writeable
    assert r.covariance.shape == (2, 2)
    assert r.covariance[1, 1] == pytest.approx((r.Ea_stderr_eV / K_B_EV) ** 2)


def test_predict() -> None:
    r = _noisy_result()
    assert isinstance(r.predict(300.0), float)
    expected = math.exp(r.ln_prefactor + r.slope_K / 300.0) / 300.0
    assert r.predict(300.0) == pytest.approx(expected)
    with pytest.raises(ArrheniusTemperatureError, match="predict needs finite temperatures"):
        r.predict([0.0])


def test_report_html_and_frame() -> None:
    r = _noisy_result()
    text = r.report()
    assert str(r) == text
    assert text.startswith("[[Arrhenius]]") and " eV" in text and "kJ/mol" in text
    assert "ln(sigma*T) against 1/T" in text
    page = r._repr_html_()
    assert "<table>" in page and "<pre" in page
    assert html.escape("ln(sigma*T)") in page
    frame = r.to_frame()
    assert frame.shape[0] == 1
    assert frame.loc[0, "Ea_eV"] == r.Ea_eV
    assert frame.loc[0, "Ea_ci95_low_eV"] == r.Ea_ci95_eV[0]


def test_html_escapes_warnings() -> None:
    T = np.array([298.15, 298.15, 318.15])
    r = arrhenius(T, synthetic(T))
    r2 = ArrheniusResult(**{**r.__dict__, "warnings": ("<script>alert(1)</script>",)})
    page = r2._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "[[Warnings]]" in r2.report()


# ----------------------------------------------------------------------------- transference
def test_transference_number_by_hand() -> None:
    # ΔV = 50 mV, I0 = 100 µA, Is = 80 µA, R0 = 150 Ohm, Rs = 160 Ohm:
    # t+ = 80e-6 (0.05 - 0.015) / (100e-6 (0.05 - 0.0128)) = 2.8e-6 / 3.72e-6 = 0.752688...
    t = transference_number(0.05, 100e-6, 80e-6, 150.0, 160.0)
    assert isinstance(t, float)
    assert t == pytest.approx(2.8 / 3.72, rel=1e-12)


def test_transference_number_without_interfacial_change() -> None:
    # With R0 = Rs = 0 it reduces to Is/I0.
    assert transference_number(0.01, 2e-6, 1.4e-6, 0.0, 0.0) == pytest.approx(0.7)


def test_transference_number_propagation_matches_numerical_derivatives() -> None:
    nominal = np.array([0.05, 100e-6, 80e-6, 150.0, 160.0])
    sd = np.array([0.0005, 2e-6, 1.5e-6, 5.0, 6.0])
    t = transference_number(*(ufloat(v, s) for v, s in zip(nominal, sd, strict=True)))

    def f(p: np.ndarray) -> float:
        return transference_number(*p)

    grad = np.empty(5)
    for i in range(5):
        h = nominal[i] * 1e-6
        up, dn = nominal.copy(), nominal.copy()
        up[i] += h
        dn[i] -= h
        grad[i] = (f(up) - f(dn)) / (2 * h)
    assert t.nominal_value == pytest.approx(2.8 / 3.72)
    assert t.std_dev == pytest.approx(math.sqrt(np.sum((grad * sd) ** 2)), rel=1e-6)


def test_transference_number_correlated_resistances() -> None:
    # R0 and Rs from one joint covariance: the correlation must enter.
    r0, rs = correlated_values([150.0, 160.0], np.array([[25.0, 27.0], [27.0, 36.0]]))
    t = transference_number(0.05, 100e-6, 80e-6, r0, rs)
    g0 = -80e-6 * 100e-6 / (100e-6 * (0.05 - 80e-6 * 160.0))
    gs = 80e-6 * (0.05 - 100e-6 * 150.0) * 80e-6 / (100e-6 * (0.05 - 80e-6 * 160.0) ** 2)
    var = g0**2 * 25 + gs**2 * 36 + 2 * g0 * gs * 27
    assert t.std_dev == pytest.approx(math.sqrt(var), rel=1e-9)


def test_transference_number_out_of_range_warns() -> None:
    with pytest.warns(RuntimeWarning, match=r"outside \[0, 1\] \(delta_V is over 1 V: .*mV"):
        transference_number(50.0, 100e-6, 80e-6, 150.0, 1e6)
    with pytest.warns(RuntimeWarning, match="delta_V - I0\\*R0 has the wrong sign"):
        transference_number(0.01, 100e-6, 80e-6, 150.0, 10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transference_number(0.05, 100e-6, 80e-6, 150.0, 160.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.05, 0.0, 80e-6, 150.0, 160.0), "I0 must not be zero"),
        ((0.0, 1e-4, 80e-6, 150.0, 160.0), "delta_V must not be zero"),
        ((0.05, 1e-4, -8e-5, 150.0, 160.0), r"I0 \(0\.0001 A\) and Is \(-8e-05 A\) have opposite"),
        ((0.05, 1e-4, 8e-5, -1.0, 160.0), "R0 and Rs must not be negative"),
        ((0.05, 1e-4, 8e-5, 150.0, 625.0), r"delta_V - Is\*Rs is zero"),
        ((0.05, 1e-4, 8e-5, object(), 160.0), "R0 must be a number or a ufloat in Ohm, got object"),
        ((0.05, 1e-4, 8e-5, 150.0, math.inf), "Rs must be finite"),
        (("50 mV", 1e-4, 8e-5, 150.0, 160.0), "delta_V must be a number or a ufloat in V"),
    ],
)
def test_transference_number_errors(args, message) -> None:
    with pytest.raises(ArrheniusError, match=message):
        transference_number(*args)
