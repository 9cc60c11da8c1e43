"""Series against variables other than temperature: values read from names, tables and
metadata; the thickness regression and the growth laws recovered from synthetic cells of known
parameters; the pressure table and plot; ``eisfit batch --variable``; a real at-rest file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.series.inputs import SeriesError
from eisfit.series.variable import fit_variable_series
from eisfit.series.variable_analysis import growth_laws, thickness_regression
from eisfit.series.variable_names import VARIABLES

EPS0_F_PER_CM = 8.8541878128e-14
AREA_CM2 = np.pi * 0.5**2  # 10 mm diameter
RHO = 2e4  # Ohm cm, bulk resistivity of the synthetic pellets
R_INTERFACE = 150.0  # Ohm, one Li|SSE interface
THICKNESSES_MM = (0.5, 0.8, 1.1, 1.4, 1.7)
TIMES_H = (0, 1, 2, 4, 8, 16, 24, 36)


def write_cell(path: Path, rng: np.random.Generator, r_bulk: float, c_bulk: float,
               r_int: float, c_int: float = 2e-6, noise: float = 0.003) -> Path:
    """A Li|SSE|Li cell (li-symmetric: series, bulk arc, both interfaces' arc) as a CSV."""
    f = frequencies(7e6, 0.1, 10)
    p = [2.0, r_bulk, arc_q(r_bulk, c_bulk, 0.95), 0.95, r_int, arc_q(r_int, c_int, 0.85), 0.85]
    z = add_noise(Circuit("R0-p(R1,CPE1)-p(R2,CPE2)").impedance(f, p), noise, rng)
    rows = "\n".join(f"{a:.9e},{b.real:.9e},{-b.imag:.9e}" for a, b in zip(f, z, strict=True))
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + rows + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def thickness_dir(tmp_path_factory) -> Path:
    """Five pellets of one electrolyte (ρ = 2e4 Ohm cm, εr = 100) with the same interfaces."""
    d = tmp_path_factory.mktemp("thickness")
    rng = np.random.default_rng(3)
    for L in THICKNESSES_MM:
        cm = L / 10
        write_cell(d / f"LPSCl_{L}mm.csv", rng, RHO * cm / AREA_CM2,
                   EPS0_F_PER_CM * 100 * AREA_CM2 / cm, 2 * R_INTERFACE)
    return d


def growth_dir(root: Path, law) -> Path:
    rng = np.random.default_rng(5)
    for t in TIMES_H:
        write_cell(root / f"Li_sym_{t}h.csv", rng, 300.0, 1e-10, law(t))
    return root


@pytest.fixture(scope="module")
def parabolic_dir(tmp_path_factory) -> Path:
    """An interface growing as 200 + 40·√t Ohm (t in h) under a constant bulk."""
    return growth_dir(tmp_path_factory.mktemp("parabolic"), lambda t: 200 + 40 * np.sqrt(t))


@pytest.fixture(scope="module")
def thickness_series(thickness_dir):
    return fit_variable_series(thickness_dir, circuit="li-symmetric", variable="thickness",
                               geometry=eisfit.Geometry(diameter="10 mm"))


# ---------------------------------------------------------------------------- values
@pytest.mark.parametrize(("variable", "name", "value"), [
    ("pressure", "LPSCl_50MPa.csv", 50.0), ("pressure", "cell_p50MPa.mpt", 50.0),
    ("pressure", "cell 50 MPa.txt", 50.0), ("pressure", "x_500kPa.csv", 0.5),
    ("thickness", "pellet_1.2mm.csv", 1.2), ("thickness", "pellet_850um.csv", 0.85),
    ("time", "rest_2h.csv", 2.0), ("time", "rest_30min.csv", 0.5),
    ("time", "rest_t=12h.csv", 12.0), ("time", "rest_day3.csv", 72.0),
    ("cycle", "cell_cycle12.csv", 12.0), ("cycle", "cell_c12.csv", 12.0),
    ("soc", "NMC_SOC50.csv", 50.0), ("soc", "NMC_50%SOC.csv", 50.0),
    ("bias", "cell_0.5V.csv", 0.5), ("bias", "cell_-100mV.csv", -0.1),
])
def test_values_from_names(variable, name, value):
    assert VARIABLES[variable].from_name(name) == pytest.approx(value)


@pytest.mark.parametrize(("variable", "name"), [
    ("pressure", "Li6PS5Cl_25C.csv"), ("time", "Li6PS5Cl_25C.csv"), ("cycle", "run_C01.csv"),
    ("bias", "LiV3O8.csv"), ("thickness", "sample_3.csv"),
])
def test_no_value_in_names(variable, name):
    assert VARIABLES[variable].from_name(name) is None


def test_bad_names_give_a_one_line_error(tmp_path):
    rng = np.random.default_rng(0)
    write_cell(tmp_path / "pellet_A.csv", rng, 300.0, 1e-10, 200.0)
    with pytest.raises(SeriesError) as err:
        fit_variable_series(tmp_path, circuit="li-symmetric", variable="pressure")
    msg = str(err.value)
    assert "\n" not in msg and "pellet_A.csv" in msg and "no pressure in the file name" in msg
    assert "50MPa" in msg
    with pytest.raises(SeriesError, match="several thicknesses"):
        VARIABLES["thickness"].from_name("disc_10mm_1.2mm.csv")
    with pytest.raises(SeriesError, match="variable 'force': expected one of"):
        fit_variable_series(tmp_path, variable="force")


def test_table_of_values(tmp_path):
    rng = np.random.default_rng(1)
    names = []
    for k, r in enumerate((400.0, 300.0, 250.0)):
        names.append(write_cell(tmp_path / f"cell_{k}.csv", rng, r, 1e-10, 2 * r).name)
    table = tmp_path.parent / f"{tmp_path.name}_pressures.csv"
    table.write_text("file,pressure_kPa\n" + "\n".join(
        f"{n},{p}" for n, p in zip(names, (10000, 50000, 100000), strict=True)) + "\n")
    s = fit_variable_series(tmp_path, circuit="li-symmetric", variable="pressure",
                            values=table)
    assert list(s.values) == [10.0, 50.0, 100.0]
    assert s.source == "table"
    bad = tmp_path.parent / f"{tmp_path.name}_bad.csv"
    bad.write_text("file,force_N\ncell_0.csv,3\n")
    with pytest.raises(SeriesError, match="pressure table needs a 'pressure_MPa'"):
        fit_variable_series(tmp_path, variable="pressure", values=bad)


# ---------------------------------------------------------------------------- analyses
def test_thickness_regression_exact_line():
    L = np.array([0.5, 1.0, 1.5, 2.0])
    fit = thickness_regression(L, 100.0 + 1000.0 * (L / 10) / 0.5, area_cm2=0.5)
    assert fit.resistivity_ohm_cm == pytest.approx(1000.0)
    assert fit.interface_ohm == pytest.approx(50.0)
    assert fit.interface_asr_ohm_cm2 == pytest.approx(25.0)


def test_thickness_series_recovers_resistivity_and_interface(thickness_series):
    s = thickness_series
    assert list(s.values) == list(THICKNESSES_MM)
    total = s.thickness_fit()
    print(total.text())
    assert abs(total.resistivity_ohm_cm - RHO) < 3 * total.resistivity_stderr_ohm_cm
    assert abs(total.interface_ohm - R_INTERFACE) < 3 * total.interface_stderr_ohm
    assert total.resistivity_stderr_ohm_cm < 0.01 * RHO
    bulk = s.thickness_fit("bulk")  # the bulk arc alone: through the origin
    assert abs(bulk.intercept_ohm) < 3 * bulk.intercept_stderr_ohm
    assert bulk.conductivity_S_per_cm == pytest.approx(1 / RHO, rel=0.01)
    # each spectrum's conductivity uses its own thickness
    frame = s.table()
    assert frame["sigma_bulk_S_per_cm"].to_numpy() == pytest.approx(1 / RHO, rel=0.01)
    with pytest.raises(SeriesError, match="growth_law needs a time series"):
        s.growth_law("interface")


def test_growth_laws_choose_the_generating_law():
    rng = np.random.default_rng(2)
    t = np.array(TIMES_H, float)
    for truth, law in (("parabolic", lambda t: 200 + 40 * np.sqrt(t)),
                       ("linear", lambda t: 200 + 8 * t),
                       ("logarithmic", lambda t: 200 + 60 * np.log1p(t / 2))):
        r = law(t) * (1 + 0.003 * rng.standard_normal(t.size))
        g = growth_laws(t, r, 0.003 * law(t))
        assert g.chosen == truth
        assert g.criterion == "AICc"
        assert min(f.delta for k, f in g.fits.items() if k != truth) > 4


def test_time_series_parabolic_growth(parabolic_dir):
    s = fit_variable_series(parabolic_dir, circuit="li-symmetric", variable="time")
    assert list(s.values) == list(TIMES_H)
    g = s.growth_law("interface")
    print(g.text())
    assert g.chosen == "parabolic"
    best = g.best
    assert abs(best.params["k"] - 40.0) < 3 * best.stderr["k"] + 0.02 * 40
    assert abs(best.params["R0"] - 200.0) < 3 * best.stderr["R0"] + 0.02 * 200
    assert g.fits["linear"].delta > 4 and g.fits["logarithmic"].delta > 2


def test_time_series_linear_growth(tmp_path):
    s = fit_variable_series(growth_dir(tmp_path, lambda t: 200 + 8 * t),
                            circuit="li-symmetric", variable="time")
    g = s.growth_law("interface")
    assert g.chosen == "linear"
    assert g.best.params["k"] == pytest.approx(8.0, rel=0.05)


def test_pressure_series_table_and_plot(tmp_path):
    rng = np.random.default_rng(4)
    for p, r in ((10, 500.0), (50, 350.0), (100, 300.0)):
        write_cell(tmp_path / f"stack_{p}MPa.csv", rng, r, 1e-10, 2 * r)
    s = eisfit.fit_series(tmp_path, circuit="li-symmetric", variable="pressure",
                          geometry=eisfit.Geometry(thickness="1 mm", diameter="10 mm"))
    assert s.variable == "pressure" and s.unit == "MPa"
    frame = s.table()
    assert list(frame["pressure_MPa"]) == [10.0, 50.0, 100.0]
    assert frame["R_bulk_ohm"].to_numpy() == pytest.approx([500.0, 350.0, 300.0], rel=0.02)
    sigma = 0.1 / (frame["R_bulk_ohm"].to_numpy() * AREA_CM2)
    assert frame["sigma_bulk_S_per_cm"].to_numpy() == pytest.approx(sigma, rel=1e-6)
    assert s.analysis() == {}
    from eisfit.show.plot_variable import variable_figure

    fig = variable_figure(s)
    assert len(fig.axes) == 2  # R and σ against pressure
    png = tmp_path.parent / f"{tmp_path.name}.png"
    fig.savefig(png)
    assert png.stat().st_size > 5000


def test_fits_equal_those_of_one_file(thickness_series, thickness_dir):
    one = eisfit.fit(eisfit.read(thickness_dir / "LPSCl_1.1mm.csv"), "li-symmetric")
    i = list(thickness_series.values).index(1.1)
    r = thickness_series.results[i]
    assert r.resistances == pytest.approx(one.resistances, rel=1e-9)
    assert list(r.warnings) == list(one.warnings)


# ---------------------------------------------------------------------------- CLI
def test_cli_thickness_out_and_json(thickness_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["batch", str(thickness_dir), "--circuit", "li-symmetric", "--variable",
                 "thickness", "--diameter", "10mm", "--workers", "1", "--out", str(out),
                 "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variable"] == "thickness" and doc["unit"] == "mm"
    total = doc["analysis"]["total"]
    assert total["resistivity_ohm_cm"] == pytest.approx(RHO, rel=0.01)
    assert total["interface_ohm"] == pytest.approx(R_INTERFACE, rel=0.03)
    for name in ("results.csv", "results.json", "thickness.png", "report.html"):
        assert (out / name).stat().st_size > 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Series against thickness" in html and "R_interface" in html


def test_cli_time_text_and_out(parabolic_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["batch", str(parabolic_dir), "--circuit", "li-symmetric", "--variable", "time",
                 "--workers", "1", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Growth laws" in text and "parabolic" in text and "(chosen)" in text
    assert (out / "growth.png").stat().st_size > 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["analysis"]["interface"]["chosen"] == "parabolic"


def test_cli_bad_values_is_one_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    write_cell(tmp_path / "pellet_A.csv", rng, 300.0, 1e-10, 200.0)
    code = main(["batch", str(tmp_path), "--variable", "soc", "--workers", "1"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pellet_A.csv" in err and "SOC50" in err


# ---------------------------------------------------------------------------- corpus
def test_at_rest_file_as_time_series(corpus_dir):
    path = corpus_dir / "jdhuang-csm__hybrid-drt" / "webinar__data__SSB__Sample2_PEIS_AtRest.csv"
    s = fit_variable_series(path, circuit="full-cell", variable="time", values="metadata")
    assert len(s) == 10
    assert s.values[0] == 0.0 and np.all(np.diff(s.values) > 0)
    assert s.values[-1] == pytest.approx((11160.146 - 126.239) / 3600, rel=1e-4)
    g = s.growth_law("total")
    print(f"Sample2 at rest, total resistance: {g.chosen}\n{g.text()}")
    assert g.chosen in ("linear", "parabolic", "logarithmic") and g.n == 10
