"""Brick-layer analysis: values against the generating parameters, error propagation against
Monte Carlo and hand-derived errors, the model's warnings, the command line, a real file."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from uncertainties import ufloat

import eisfit
from eisfit.analysis.microstructure import (
    EPSILON_0,
    BrickLayerError,
    brick_layer_from_arcs,
    parse_grain_size,
)
from eisfit.cli.main import main
from eisfit.exceptions import EisfitError
from eisfit.fitting.result import Arc
from eisfit.model.circuit import Circuit
from eisfit.model.geometry import geometry_for
from eisfit.model.synthetic import add_noise, arc_q, frequencies

# The generating cell: 1 mm thick, 10 mm electrodes; bulk R_b || CPE (C_eff 10 pF), grain
# boundary R_gb || CPE (C_eff 2 nF), electrode CPE; grains of 5 um.
R_B, C_B, N_B = 1e5, 1e-11, 0.95
R_GB, C_GB, N_GB = 2e5, 2e-9, 0.85
THICKNESS_M, DIAMETER_M, GRAIN_M = 1e-3, 10e-3, 5e-6
AREA_M2 = math.pi * DIAMETER_M**2 / 4
K_PER_CM = THICKNESS_M * 100 / (AREA_M2 * 1e4)  # L/A in 1/cm
TRUE_SIGMA_SPECIFIC = K_PER_CM * (C_B / C_GB) / R_GB  # 3.18e-9 S/cm
TRUE_DELTA_M = GRAIN_M * C_B / C_GB  # 25 nm
TRUE_EPS_R = C_B * THICKNESS_M / (EPSILON_0 * AREA_M2)  # 14.4
CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


def _spectrum_rows(params: list[float], circuit: str = CIRCUIT, seed: int = 1) -> list[str]:
    f = frequencies(7e6, 0.1, 10)
    z = add_noise(Circuit(circuit).impedance(f, params), 0.003, np.random.default_rng(seed))
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    return rows + [f"{a:.8e},{b.real:.8e},{-b.imag:.8e}" for a, b in zip(f, z, strict=True)]


PARAMS = [5.0, R_B, arc_q(R_B, C_B, N_B), N_B, R_GB, arc_q(R_GB, C_GB, N_GB), N_GB, 1e-6, 0.8]


@pytest.fixture(scope="module")
def pellet_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("brick") / "pellet_25C.csv"
    path.write_text("\n".join(_spectrum_rows(PARAMS)) + "\n")
    return path


@pytest.fixture(scope="module")
def geometry():
    return eisfit.Geometry(thickness="1 mm", diameter="10 mm")


@pytest.fixture(scope="module")
def fitted(pellet_file):
    return eisfit.fit(eisfit.read(pellet_file), "blocking")


# --------------------------------------------------------------------------- values
def test_synthetic_fit_recovers_the_brick_layer_numbers(fitted, geometry):
    b = fitted.brick_layer(geometry, "5 um")
    print(f"\nsigma_gb,sp {b.specific_grain_boundary_conductivity_S_per_cm:.4g} "
          f"(true {TRUE_SIGMA_SPECIFIC:.4g}) S/cm, delta {b.grain_boundary_thickness_m * 1e9:.3f}"
          f" (true {TRUE_DELTA_M * 1e9:.3f}) nm, eps_r {b.bulk_relative_permittivity:.3f} "
          f"(true {TRUE_EPS_R:.3f})")
    checks = [
        (b.specific_grain_boundary_conductivity_S_per_cm,
         b.specific_grain_boundary_conductivity_stderr_S_per_cm, TRUE_SIGMA_SPECIFIC),
        (b.grain_boundary_thickness_m, b.grain_boundary_thickness_stderr_m, TRUE_DELTA_M),
        (b.bulk_relative_permittivity, b.bulk_relative_permittivity_stderr, TRUE_EPS_R),
        (b.bulk_conductivity_S_per_cm, b.bulk_conductivity_stderr_S_per_cm, K_PER_CM / R_B),
        (b.apparent_grain_boundary_conductivity_S_per_cm,
         b.apparent_grain_boundary_conductivity_stderr_S_per_cm, K_PER_CM / R_GB),
    ]
    for value, err, truth in checks:
        assert value == pytest.approx(truth, rel=0.02)
        assert 0 < err < 0.02 * abs(value)
        assert abs(value - truth) < 5 * err  # the error bar covers the truth
    assert b.grain_size_m == pytest.approx(GRAIN_M)
    assert b.warnings == ()  # a textbook brick layer: nothing to warn about
    assert eisfit.brick_layer(fitted, geometry, 5e-6) == b  # the function, grain size in m


def test_errors_propagate_like_monte_carlo_over_the_fit_covariance(fitted, geometry):
    b = fitted.brick_layer(geometry, GRAIN_M)
    p = np.array([r.value for r in fitted.records.values()])
    free = [i for i, r in enumerate(fitted.records.values()) if r.vary]
    rng = np.random.default_rng(7)
    # parameters from 1e-12 (Q) to 1e5 (R): drawn through the correlation matrix, scaled
    sd = np.sqrt(np.diag(fitted.covariance))
    chol = np.linalg.cholesky(fitted.covariance / np.outer(sd, sd))
    draws = np.tile(p, (40000, 1))
    draws[:, free] += (rng.standard_normal((len(draws), len(free))) @ chol.T) * sd
    arcs = {role: idx for _, role, idx in fitted.arc_terms}

    def c_eff(idx: tuple[int, ...]) -> np.ndarray:
        r, q, n = (draws[:, i] for i in idx)
        return (r * q) ** (1 / n) / r

    c_b, c_gb = c_eff(arcs["bulk"]), c_eff(arcs["grain_boundary"])
    r_gb = draws[:, arcs["grain_boundary"][0]]
    mc = {
        "sigma": np.std(K_PER_CM * c_b / c_gb / r_gb),
        "delta": np.std(GRAIN_M * c_b / c_gb),
        "eps": np.std(c_b * THICKNESS_M / (EPSILON_0 * AREA_M2)),
    }
    sigma_err = b.specific_grain_boundary_conductivity_stderr_S_per_cm
    print(f"\nstderr / Monte Carlo: sigma {sigma_err / mc['sigma']:.3f}, "
          f"delta {b.grain_boundary_thickness_stderr_m / mc['delta']:.3f}, "
          f"eps {b.bulk_relative_permittivity_stderr / mc['eps']:.3f}")
    assert b.specific_grain_boundary_conductivity_stderr_S_per_cm == pytest.approx(
        mc["sigma"], rel=0.05)
    assert b.grain_boundary_thickness_stderr_m == pytest.approx(mc["delta"], rel=0.05)
    assert b.bulk_relative_permittivity_stderr == pytest.approx(mc["eps"], rel=0.05)


def test_pure_function_on_hand_made_arcs_matches_hand_derived_errors(geometry):
    r_b, c_b = ufloat(1e5, 2e3), ufloat(1e-11, 3e-13)
    r_gb, c_gb = ufloat(2e5, 6e3), ufloat(2e-9, 1e-10)
    b = brick_layer_from_arcs(r_b, c_b, r_gb, c_gb, geometry, "5um")
    # independent inputs: relative errors add in quadrature
    rel_sp = math.sqrt(0.03**2 + 0.05**2 + 0.03**2)
    assert b.specific_grain_boundary_conductivity_S_per_cm == pytest.approx(TRUE_SIGMA_SPECIFIC)
    assert b.specific_grain_boundary_conductivity_stderr_S_per_cm == pytest.approx(
        rel_sp * TRUE_SIGMA_SPECIFIC)
    assert b.grain_boundary_thickness_m == pytest.approx(25e-9)
    assert b.grain_boundary_thickness_stderr_m == pytest.approx(
        math.hypot(0.03, 0.05) * 25e-9)
    assert b.bulk_relative_permittivity == pytest.approx(TRUE_EPS_R)
    assert b.bulk_relative_permittivity_stderr == pytest.approx(0.03 * TRUE_EPS_R)
    assert b.bulk_conductivity_stderr_S_per_cm == pytest.approx(0.02 * K_PER_CM / R_B)
    # a result-like object with arcs gives the same as the arcs themselves
    like = SimpleNamespace(arcs=(Arc("R1‖CPE1", "bulk", r_b, c_b, 1.0, 1.0),
                                 Arc("R2‖CPE2", "grain_boundary", r_gb, c_gb, 1.0, 1.0)))
    assert eisfit.brick_layer(like, geometry, "5um") == b
    d = b.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["specific_grain_boundary_conductivity_S_per_cm"] == pytest.approx(
        TRUE_SIGMA_SPECIFIC)
    assert d["grain_boundary_thickness_stderr_m"] == b.grain_boundary_thickness_stderr_m
    text = b.report()
    assert "[[Brick layer]]" in text and "25.0 ± 1.5 nm" in text


# --------------------------------------------------------------------------- warnings
def _warnings(geometry, r_b=1e5, c_b=1e-11, r_gb=2e5, c_gb=2e-9, grain=None):
    return brick_layer_from_arcs(r_b, c_b, r_gb, c_gb, geometry, grain).warnings


def test_warnings_fire_where_the_model_fails(geometry):
    assert _warnings(geometry) == ()
    (w,) = _warnings(geometry, c_gb=5e-12)  # C_gb below C_bulk
    assert "is not above C_bulk" in w and "thin boundary" in w
    # boundaries 1e4 times thinner than the grains but only twice as resistive: conduct better
    (w,) = _warnings(geometry, r_gb=2e1)
    assert "more conductive than the grains" in w and "parallel" in w
    for c_b in (1e-9, 2e-13):  # eps_r 1400 and 0.3
        (w,) = _warnings(geometry, c_b=c_b)
        assert "relative permittivity" in w and "outside 5-200" in w
    ws = brick_layer_from_arcs(ufloat(1e5, 2e5), 1e-11, 2e5, 2e-9, geometry).warnings
    assert ws == ("the bulk conductivity is not determined by the data (standard error 200 % "
                  "of its value)",)


def test_missing_roles_and_geometry_are_one_line_errors(geometry):
    one_arc = SimpleNamespace(
        arcs=(Arc("R1‖CPE1", "bulk", ufloat(1e5, 1e3), ufloat(1e-11, 1e-13), 1.0, 1.0),),
        circuit_name="blocking-single")
    with pytest.raises(BrickLayerError, match="needs a bulk and a grain-boundary arc") as info:
        eisfit.brick_layer(one_arc, geometry)
    assert isinstance(info.value, EisfitError) and "\n" not in str(info.value)
    assert "no grain-boundary arc" in str(info.value)
    spike = eisfit.fit(eisfit.Spectrum(frequencies(1e6, 1, 5), Circuit("R0-CPE1").impedance(
        frequencies(1e6, 1, 5), [20.0, 1e-6, 0.8])), "blocking-spike")
    with pytest.raises(BrickLayerError, match="no bulk or grain-boundary arc"):
        spike.brick_layer(geometry, "5um")
    with pytest.raises(BrickLayerError, match="needs the sample thickness"):
        brick_layer_from_arcs(1e5, 1e-11, 2e5, 2e-9, eisfit.Geometry(area="1 cm2"))


def test_grain_size_parsing():
    assert parse_grain_size("5 um") == pytest.approx(5e-6)
    assert parse_grain_size("0.8µm") == pytest.approx(8e-7)
    assert parse_grain_size(2e-6) == 2e-6
    for bad, message in (("5", "has no unit"), (-1e-6, "positive"), ("5 cm2", "is an area")):
        with pytest.raises(BrickLayerError, match=message):
            parse_grain_size(bad)


# --------------------------------------------------------------------------- command line
def test_cli_fit_grain_size_text_and_json(pellet_file, capsys):
    cell = ["--thickness", "1mm", "--diameter", "10mm", "--grain-size", "5um"]
    assert main(["fit", str(pellet_file), *cell]) == 0
    out = capsys.readouterr().out
    block = out[out.index("[[Brick layer]]"):]
    assert "grain size             = 5 µm" in block
    delta_nm = float(block.split("gb thickness")[1].split("=")[1].split("±")[0])
    assert delta_nm == pytest.approx(TRUE_DELTA_M * 1e9, rel=0.02)
    assert main(["fit", str(pellet_file), "--json", *cell]) == 0
    d = json.loads(capsys.readouterr().out)["brick_layer"]
    assert d["grain_size_m"] == pytest.approx(GRAIN_M)
    assert d["specific_grain_boundary_conductivity_S_per_cm"] == pytest.approx(
        TRUE_SIGMA_SPECIFIC, rel=0.02)
    assert d["bulk_relative_permittivity"] == pytest.approx(TRUE_EPS_R, rel=0.02)
    assert d["specific_grain_boundary_conductivity_stderr_S_per_cm"] > 0


def test_cli_grain_size_without_geometry_is_one_line(pellet_file, capsys):
    assert main(["fit", str(pellet_file), "--grain-size", "5um"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--grain-size needs the sample thickness" in err
    assert main(["fit", str(pellet_file), "--grain-size", "5", "--thickness", "1mm",
                 "--diameter", "10mm"]) == 2
    assert "--grain-size '5' has no unit" in capsys.readouterr().err


def test_cli_batch_grain_size_writes_brick_layer_and_skips_a_spike(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "pellet_25C.csv").write_text("\n".join(_spectrum_rows(PARAMS)) + "\n")
    spike = _spectrum_rows([20.0, 1e-6, 0.8], "R0-CPE1", seed=3)
    (data / "pellet_60C.csv").write_text("\n".join(spike) + "\n")
    out = tmp_path / "out"
    code = main(["batch", str(data), "--thickness", "1mm", "--diameter", "10mm",
                 "--grain-size", "5um", "--workers", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    assert "pellet_60C.csv: brick layer skipped" in err
    spectra = {s["source"].rsplit("/", 1)[-1]: s for s in
               json.loads((out / "results.json").read_text())["spectra"]}
    good = spectra["pellet_25C.csv"]["brick_layer"]
    assert good["grain_boundary_thickness_m"] == pytest.approx(TRUE_DELTA_M, rel=0.02)
    assert "needs a bulk and a grain-boundary arc" in spectra["pellet_60C.csv"]["brick_layer"][
        "skipped"]
    table = pd.read_csv(out / "results.csv").set_index("file")
    assert table.loc["pellet_25C.csv", "sigma_gb_specific_S_per_cm"] == pytest.approx(
        TRUE_SIGMA_SPECIFIC, rel=0.02)
    assert math.isnan(table.loc["pellet_60C.csv", "gb_thickness_m"])
    html = (out / "report.html").read_text()
    assert "Brick layer (grain size 5 µm)" in html and "δ gb" in html


# --------------------------------------------------------------------------- a real file
def test_real_novocontrol_pellet(corpus_dir):
    s = eisfit.read(corpus_dir / "Sheyigold__EISFitpython" / "EIS_Data__Example-2__Example2a.txt")
    g = geometry_for(s, None)  # 0.75 mm thick, 13 mm diameter from the header
    assert g.thickness_m == pytest.approx(0.75e-3) and g.diameter_m == pytest.approx(13e-3)
    b = eisfit.fit(s, "blocking").brick_layer(g, "5 um")
    print("\n" + b.report())
    eps = b.bulk_relative_permittivity
    assert math.isfinite(eps) and eps > 0
    # a ceramic's bulk: tens to hundreds; far outside 5-200 the analysis must say so
    assert 1 < eps < 1e3
    assert (5 <= eps <= 200) or any("relative permittivity" in w for w in b.warnings)
    thin = b.grain_boundary_capacitance_F > b.bulk_capacitance_F
    assert thin or any("is not above C_bulk" in w for w in b.warnings)
    assert b.bulk_relative_permittivity_stderr > 0
