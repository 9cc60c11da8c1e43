"""Geometry: unit parsing at the boundary, σ / ASR / conductance with uncertainty propagation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from uncertainties import correlated_values, ufloat, unumpy

import eisfit
from eisfit.exceptions import GeometryError
from eisfit.model.geometry import Geometry


def test_public_name() -> None:
    assert eisfit.Geometry is Geometry


def test_diameter_geometry() -> None:
    g = Geometry(thickness="1.2 mm", diameter="10 mm")
    assert g.thickness_m == pytest.approx(1.2e-3)
    assert g.diameter_m == pytest.approx(10e-3)
    assert g.thickness_cm == pytest.approx(0.12)
    # π (0.5 cm)² by hand
    assert g.area_cm2 == pytest.approx(0.7853981633974483, rel=1e-14)
    assert g.cell_constant_per_cm == pytest.approx(0.12 / 0.7853981633974483, rel=1e-14)
    assert str(g) == "1.2 mm thick, 10 mm diameter (0.785 cm²)"


def test_area_geometry_and_str() -> None:
    g = Geometry("52 um", area="0.785cm2")
    assert g.area_m2 == pytest.approx(0.785e-4)
    assert g.diameter_m is None
    assert str(g) == "52 µm thick, 0.785 cm² area"


def test_frozen_and_comparable() -> None:
    g = Geometry("1.2mm", diameter="10mm")
    assert g == Geometry("1.2 mm", diameter="1 cm")
    assert hash(g) == hash(Geometry("1.2 mm", diameter="1 cm"))
    with pytest.raises(AttributeError):
        g.thickness_m = 1.0  # type: ignore[misc]


def test_to_dict_is_json_safe() -> None:
    d = Geometry("1.2 mm", diameter="10 mm").to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["area_cm2"] == pytest.approx(0.7853981633974483)
    assert Geometry("1 mm", area="1 cm2").to_dict()["diameter_m"] is None


def test_from_si() -> None:
    g = Geometry.from_si(1.2e-3, 0.785e-4)
    assert g.thickness_cm == pytest.approx(0.12)
    assert g.area_cm2 == pytest.approx(0.785)
    gd = Geometry.from_si(1.2e-3, diameter_m=0.01)
    assert gd == Geometry("1.2 mm", diameter="10 mm")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thickness": 1.2, "diameter": "10 mm"}, r"thickness 1\.2 is a bare number: .*from_si"),
        ({"thickness": "1.2 mm", "diameter": 10}, r"diameter 10 is a bare number"),
        ({"thickness": "1.2 mm", "area": 0.785}, r"area 0\.785 is a bare number"),
        ({"thickness": "1.2", "diameter": "10 mm"}, r"thickness '1\.2' has no unit: write it as"),
        ({"thickness": "1.2 mm"}, r"give exactly one of area .* and diameter"),
        ({"thickness": "1.2 mm", "area": "1 cm2", "diameter": "1 cm"}, r"not both"),
        ({"thickness": "-1 mm", "diameter": "10 mm"}, r"thickness must be positive"),
        ({"thickness": "1 mm", "diameter": "0 mm"}, r"diameter must be positive"),
        ({"thickness": "1 mm", "area": "nan cm2"}, r"area 'nan cm2' is not a finite number"),
    ],
)
def test_construction_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        Geometry(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.0, 1e-4), {}, "thickness_m must be positive, got 0.0"),
        ((1e-3, -1e-4), {}, "area_m2 must be positive"),
        ((math.nan, 1e-4), {}, "thickness_m must be a finite number"),
        ((1e-3,), {}, "give exactly one of area_m2 and diameter_m"),
        (("1 mm", 1e-4), {}, "thickness_m must be a number in SI units"),
    ],
)
def test_from_si_errors(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        Geometry.from_si(*args, **kwargs)


# ----------------------------------------------------------------------------- σ, ASR, G
def test_latp_conductivity_by_hand() -> None:
    # LATP pellet, 1.12e-4 S/cm at 30 °C (published). Take L = 1.0 mm = 0.1 cm, A = 1 cm²:
    # R = L / (σ A) = 0.1 / 1.12e-4 = 892.857142857... Ohm.
    g = Geometry("1.0 mm", area="1 cm2")
    assert g.conductivity(892.857142857142857) == pytest.approx(1.12e-4, rel=1e-12)
    # The same pellet with a 12 mm electrode: A = π (0.6 cm)² = 1.1309733552923256 cm²,
    # R = 0.1 / (1.12e-4 * 1.1309733552923256) = 789.45904... Ohm.
    g12 = Geometry("1 mm", diameter="12 mm")
    assert g12.conductivity(789.45904) == pytest.approx(1.12e-4, rel=1e-6)


def test_asr_and_conductance() -> None:
    g = Geometry("1 mm", diameter="10 mm")
    # ASR = R A = 100 Ohm * 0.785398 cm² = 78.54 Ohm cm²
    assert g.asr(100.0) == pytest.approx(78.53981633974483)
    # Li|SSE|Li: two identical interfaces, ASR of one = R A / 2
    assert g.asr(100.0, interfaces=2) == pytest.approx(39.269908169872416)
    assert g.conductance(50.0) == pytest.approx(0.02)
    with pytest.raises(GeometryError, match="interfaces must be a positive integer, got 0"):
        g.asr(100.0, interfaces=0)
    with pytest.raises(GeometryError, match="interfaces must be a positive integer"):
        g.asr(100.0, interfaces=1.5)  # type: ignore[arg-type]


def test_array_inputs_keep_shape_and_nan() -> None:
    g = Geometry("1 mm", area="1 cm2")
    out = g.conductivity(np.array([100.0, 200.0, np.nan]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out[:2], [1e-3, 5e-4])
    assert np.isnan(out[2])
    np.testing.assert_allclose(g.asr([1.0, 2.0]), [1.0, 2.0])
    assert isinstance(g.conductivity(100), float)


@pytest.mark.parametrize(
    ("resistance", "message"),
    [
        (0.0, r"resistance must be positive, got 0 Ohm"),
        (-5.0, r"resistance must be positive, got -5 Ohm"),
        ([10.0, -2.0], r"resistance\[1\] must be positive, got -2 Ohm"),
        (ufloat(-1.0, 0.1), r"resistance must be positive, got -1 Ohm"),
        ("100 Ohm", r"got the string '100 Ohm' \(parse it with eisfit\.units\.parse_resistance\)"),
        (True, r"resistance must be a number in Ohm, got bool"),
        (["a"], r"resistance must be numeric"),
    ],
)
def test_resistance_errors(resistance: object, message: str) -> None:
    g = Geometry("1 mm", area="1 cm2")
    for method in (g.conductivity, g.asr, g.conductance):
        with pytest.raises(GeometryError, match=message):
            method(resistance)


def test_ufloat_propagation_matches_analytic_derivative() -> None:
    g = Geometry("1.2 mm", diameter="10 mm")
    r = ufloat(1520.0, 8.1)
    sigma = g.conductivity(r)
    k = g.cell_constant_per_cm
    # dσ/dR = -k/R²
    assert sigma.nominal_value == pytest.approx(k / 1520.0)
    assert sigma.std_dev == pytest.approx(k / 1520.0**2 * 8.1, rel=1e-12)
    asr = g.asr(r)
    assert asr.std_dev == pytest.approx(8.1 * g.area_cm2, rel=1e-12)
    assert g.conductance(r).std_dev == pytest.approx(8.1 / 1520.0**2, rel=1e-12)


def test_ufloat_propagation_matches_monte_carlo() -> None:
    g = Geometry("1.2 mm", diameter="10 mm")
    rng = np.random.default_rng(7)
    samples = rng.normal(1520.0, 15.0, 200_000)
    mc = g.conductivity(samples)
    lin = g.conductivity(ufloat(1520.0, 15.0))
    assert lin.std_dev == pytest.approx(np.std(mc), rel=0.01)


def test_correlated_uarray_propagation() -> None:
    # Bulk and grain-boundary resistances from one fit are correlated: σ_total = L/((Rb+Rgb)A)
    # must use the covariance, var(Rb+Rgb) = var_b + var_gb + 2 cov.
    cov = np.array([[64.0, -40.0], [-40.0, 100.0]])
    rb, rgb = correlated_values([1500.0, 3300.0], cov)
    g = Geometry("1.2 mm", diameter="10 mm")
    total = g.conductivity(rb + rgb)
    sd_sum = math.sqrt(64.0 + 100.0 - 80.0)
    assert total.std_dev == pytest.approx(g.cell_constant_per_cm / 4800.0**2 * sd_sum, rel=1e-12)

    arr = g.conductivity(np.array([rb, rgb]))
    assert arr.dtype == object and arr.shape == (2,)
    np.testing.assert_allclose(
        unumpy.std_devs(arr), g.cell_constant_per_cm / np.array([1500.0, 3300.0]) ** 2 * [8, 10]
    )
    ua = unumpy.uarray([100.0, 200.0], [1.0, 2.0])
    np.testing.assert_allclose(unumpy.std_devs(Geometry("1 mm", area="1 cm2").asr(ua)), [1, 2])
