"""Joint fit of temperature series against synthetic series with known Arrhenius laws.

The series are drawn as the issue's done-when asks: 8 temperatures (25-95 °C), bulk Ea
0.28-0.45 eV, grain-boundary Ea 0.40-0.60 eV, σT Arrhenius laws, bulk capacitance ~1e-12 F,
grain-boundary capacitance 1e-11-1e-9 F (so the two arcs overlap in some series), a 1 mm x
10 mm pellet, 0.5 % noise, 7 MHz-0.1 Hz. In the "leaving" regime the bulk apex goes from a few
MHz at 25 °C to 20-50 MHz at 95 °C, above the window in 4-7 of the 8 spectra.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import eisfit
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.series.joint import JointFitError, fit_joint
from eisfit.series.temperature import Series, fit_series

K_B = 8.617333262e-5  # eV/K, CODATA
BLOCKING = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
GEOMETRY = dict(thickness="1 mm", diameter="10 mm")
F_MAX = 7e6
N_SERIES = 40  # per regime, for the coverage figures


def law(t: np.ndarray, r_top: float, ea: float) -> np.ndarray:
    """R(T) with σT = A exp(-Ea/kT): R ∝ T exp(Ea/kT), equal to r_top at the hottest T."""
    return r_top * np.exp(ea / K_B * (1 / t - 1 / t[-1])) * t / t[-1]


def draw(rng: np.random.Generator, regime: str, n_t: int = 8) -> dict:
    t = np.linspace(25.0, 95.0, n_t) + 273.15
    ea_b, ea_gb = rng.uniform(0.28, 0.45), rng.uniform(0.40, 0.60)
    c_b = 10 ** rng.uniform(-12.15, -11.85)
    if regime == "leaving":
        top = 10 ** rng.uniform(np.log10(2e7), np.log10(5e7))
    else:
        top = 10 ** rng.uniform(5.0, np.log10(2e6))
    r_b_top = 1 / (2 * np.pi * top * c_b)
    d = {
        "T": t,
        "ea_b": ea_b,
        "ea_gb": ea_gb,
        "c_b": c_b,
        "c_gb": 10 ** rng.uniform(-11, -9),
        "n_b": rng.uniform(0.9, 1.0),
        "n_gb": rng.uniform(0.8, 0.95),
        "q_el": 10 ** rng.uniform(-6.5, -5.5),
        "n_el": rng.uniform(0.8, 0.9),
        "r0": 1.5,
        "r_b": law(t, r_b_top, ea_b),
        "r_gb": law(t, r_b_top * 10 ** rng.uniform(-0.3, 0.7), ea_gb),
    }
    d["apex_b"] = 1 / (2 * np.pi * d["r_b"] * c_b)
    return d


def spectra(rng: np.random.Generator, d: dict) -> list[Spectrum]:
    f = frequencies(F_MAX, 0.1, 10)
    circ = Circuit(BLOCKING)
    out = []
    for i, t in enumerate(d["T"]):
        rb, rgb = d["r_b"][i], d["r_gb"][i]
        p = [d["r0"], rb, arc_q(rb, d["c_b"], d["n_b"]), d["n_b"],
             rgb, arc_q(rgb, d["c_gb"], d["n_gb"]), d["n_gb"], d["q_el"], d["n_el"]]
        z = add_noise(circ.impedance(f, p), 0.005, rng)
        out.append(Spectrum(f, z, {"source": f"pellet_{t - 273.15:.0f}C.csv"}, temperature=t))
    return out


def run_regime(regime: str) -> dict:
    """N_SERIES series: independent and joint Ea (error, stderr) for bulk and grain boundary."""
    geo = eisfit.Geometry(**GEOMETRY)
    out: dict = {"ind_b": [], "ind_gb": [], "joint_b": [], "joint_gb": [], "n_above": [],
                 "ind_ci_b": [], "ind_ci_gb": []}
    for seed in range(N_SERIES):
        rng = np.random.default_rng(1000 * (regime == "leaving") + seed)
        d = draw(rng, regime)
        s = fit_series(spectra(rng, d), geometry=geo, temperatures="metadata", joint=True)
        assert not s.failures and s.joint is not None, s.warnings
        for key, role, truth in (("b", "bulk", d["ea_b"]), ("gb", "grain_boundary", d["ea_gb"])):
            a = s.arrhenius(role)
            j = s.joint.processes[role]
            out[f"ind_{key}"].append((a.Ea_eV - truth, a.Ea_stderr_eV))
            out[f"ind_ci_{key}"].append(a.Ea_ci95_eV[0] <= truth <= a.Ea_ci95_eV[1])
            out[f"joint_{key}"].append((j.Ea_eV - truth, j.Ea_stderr_eV))
        out["n_above"].append(int((d["apex_b"] > F_MAX).sum()))
    return {k: np.array(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def inside() -> dict:
    return run_regime("inside")


@pytest.fixture(scope="module")
def leaving() -> dict:
    return run_regime("leaving")


def _summary(name: str, e: np.ndarray) -> str:
    err, se = np.abs(e[:, 0]), e[:, 1]
    return (f"{name}: mean |dEa| {err.mean():.4f} eV, max {err.max():.4f} eV, "
            f"median se {np.median(se):.4f} eV")


# --------------------------------------------------------------------------- done-when figures
def test_bulk_inside_window(inside):
    assert inside["n_above"].max() == 0
    print(f"\nbulk arc inside the window, {N_SERIES} series x 8 T, 0.5 % noise:")
    for k in ("ind_b", "joint_b", "ind_gb", "joint_gb"):
        print("   ", _summary(k, inside[k]))
    # independent fits and joint fit both meet the targets here
    assert np.all(np.abs(inside["joint_b"][:, 0]) <= 0.01)
    assert np.all(np.abs(inside["ind_b"][:, 0]) <= 0.01)
    assert np.all(np.abs(inside["joint_gb"][:, 0]) <= 0.02)
    assert np.all(np.abs(inside["ind_gb"][:, 0]) <= 0.02)


def test_bulk_leaving_window(leaving):
    n_above = leaving["n_above"]
    assert n_above.min() >= 3 and n_above.max() <= 7
    print(f"\nbulk arc leaving the window ({n_above.min()}-{n_above.max()} of 8 T above 7 MHz), "
          f"{N_SERIES} series:")
    for k in ("ind_b", "joint_b", "ind_gb", "joint_gb"):
        print("   ", _summary(k, leaving[k]))

    def meets(e: np.ndarray) -> np.ndarray:
        err, se = np.abs(e[:, 0]), e[:, 1]
        return (err <= 0.02) | ((err <= 2 * se) & (se < 0.03))

    ok_ind = meets(leaving["ind_b"])
    ok_gb_ind = np.abs(leaving["ind_gb"][:, 0]) <= 0.02
    print(f"    bulk target met: joint {meets(leaving['joint_b']).mean():.0%}, "
          f"independent {ok_ind.mean():.0%}; grain boundary within 0.02 eV: joint "
          f"{np.mean(np.abs(leaving['joint_gb'][:, 0]) <= 0.02):.0%}, independent "
          f"{ok_gb_ind.mean():.0%}")
    assert np.all(meets(leaving["joint_b"]))
    assert np.all(np.abs(leaving["joint_gb"][:, 0]) <= 0.02)
    # the independent route meets both targets on these 40 series but not on every series:
    # 1 of 200 scanned (seed 2005, test_overlapping_arcs_where_independent_fits_miss) misses
    # the bulk by 0.059 eV (4 se) and the grain boundary by 0.038 eV; only the joint fit is
    # held to the targets


def test_standard_errors_cover_the_truth(inside, leaving):
    """Over 2 x N_SERIES series the reported standard errors cover the truth at the stated
    rate: |Ea - truth| < 1.96 se in about 95 % of cases, < 1 se in about 68 %."""
    print()
    cover = {}
    for route in ("ind", "joint"):
        e = np.concatenate([inside[f"{route}_b"], inside[f"{route}_gb"],
                            leaving[f"{route}_b"], leaving[f"{route}_gb"]])
        err, se = np.abs(e[:, 0]), e[:, 1]
        cover[route] = (np.mean(err < 1.96 * se), np.mean(err < se))
        line = (f"coverage {route:<5} ({len(e)} Ea, bulk and grain boundary, both regimes): "
                f"|dEa| < 1.96 se in {cover[route][0]:.1%}, < 1 se in {cover[route][1]:.1%}")
        if route == "ind":
            ci = np.concatenate([inside["ind_ci_b"], inside["ind_ci_gb"], leaving["ind_ci_b"],
                                 leaving["ind_ci_gb"]])
            line += f"; within the Student-t 95 % interval in {ci.mean():.1%}"
        print(line)
        for regime, data in (("inside", inside), ("leaving", leaving)):
            for key in ("b", "gb"):
                x = data[f"{route}_{key}"]
                rate = np.mean(np.abs(x[:, 0]) < 1.96 * x[:, 1])
                print(f"    {regime:<8} {key:<3} < 1.96 se: {rate:.0%}")
    # 160 estimates: a binomial 95 % rate lands in [0.91, 0.98] with 95 % probability
    assert 0.90 <= cover["joint"][0] <= 0.99
    assert 0.58 <= cover["joint"][1] <= 0.78


def test_joint_at_least_as_close_as_independent(inside, leaving):
    print()
    for regime, data in (("inside", inside), ("leaving", leaving)):
        for key, name in (("b", "bulk"), ("gb", "grain boundary")):
            mae_ind = np.mean(np.abs(data[f"ind_{key}"][:, 0]))
            mae_joint = np.mean(np.abs(data[f"joint_{key}"][:, 0]))
            print(f"{regime:<8} {name:<15} mean |dEa|: independent {mae_ind:.4f} eV, "
                  f"joint {mae_joint:.4f} eV")
            assert mae_joint <= mae_ind + 0.001


# --------------------------------------------------------------------------- one series, closely
@pytest.fixture(scope="module")
def one() -> tuple[dict, Series]:
    rng = np.random.default_rng(7)
    d = draw(rng, "leaving")
    s = fit_series(spectra(rng, d), geometry=eisfit.Geometry(**GEOMETRY),
                   temperatures="metadata", joint=True)
    return d, s


def test_shared_capacitance_and_hidden_bulk_resistance(one):
    d, s = one
    j = s.joint
    b = j.processes["bulk"]
    assert b.shared and not j.processes["grain_boundary"].shared
    assert b.capacitance_F == pytest.approx(d["c_b"], rel=0.02)
    assert b.exponent == pytest.approx(d["n_b"], abs=0.01)
    above = d["apex_b"] > F_MAX
    assert above.sum() >= 3
    np.testing.assert_array_equal(b.above_window, above)
    # where the arc is above the window the law still gives the bulk resistance, with its error
    rel = b.resistance_ohm / d["r_b"] - 1
    assert np.all(np.abs(rel) < 0.01)
    assert np.all(np.abs(rel) < 4 * b.resistance_stderr_ohm / d["r_b"])
    assert any("above the highest measured frequency in" in w for w in j.warnings)
    # one series resistance for all (1.5 Ohm of leads beside kOhm: poorly determined, but its
    # standard error says so)
    r0, r0_se = j.resistances["series"], j.resistance_stderr["series"]
    assert np.ptp(r0) == 0
    assert abs(r0[0] - d["r0"]) < 3 * r0_se[0]
    assert j.resistances["total"] == pytest.approx(
        j.resistances["bulk"] + j.resistances["grain_boundary"])


def test_prefactor_in_the_units_of_the_independent_regression(one):
    d, s = one
    geo = eisfit.Geometry(**GEOMETRY)
    t_top = d["T"][-1]
    for role, ea, r in (("bulk", d["ea_b"], d["r_b"]), ("grain_boundary", d["ea_gb"], d["r_gb"])):
        # σT = (L/A) T / R: ln A = ln((L/A) T_top / R_top) + Ea / (k T_top)
        truth = math.log(geo.thickness_cm / geo.area_cm2 * t_top / r[-1]) + ea / (K_B * t_top)
        j = s.joint.processes[role]
        assert j.quantity == "conductivity"
        assert j.ln_prefactor == pytest.approx(truth, abs=max(0.05, 3 * j.ln_prefactor_stderr))
        assert j.ln_prefactor == pytest.approx(s.arrhenius(role).ln_prefactor, abs=0.1)


def test_jacobian_is_the_derivative_of_the_residual(one):
    _, s = one
    j = s.joint
    u = np.array(j.coordinates)
    jac = j.problem.jacobian(u).copy()
    for c in range(u.size):
        h = 1e-6 * max(1.0, abs(u[c]))
        up, dn = u.copy(), u.copy()
        up[c] += h
        dn[c] -= h
        num = (j.problem.residual(up) - j.problem.residual(dn)) / (2 * h)
        scale = max(np.abs(num).max(), 1e-12)
        assert np.abs(jac[:, c] - num).max() / scale < 1e-5, j.coordinate_names[c]


def test_series_outputs_show_both(one, tmp_path):
    d, s = one
    data = s.to_dict()
    assert set(data) == {"spectra", "arrhenius", "failures", "arrhenius_joint", "joint_fit"}
    assert set(data["arrhenius_joint"]) == {"bulk", "grain_boundary"}
    jb = data["arrhenius_joint"]["bulk"]
    for key in ("Ea_eV", "Ea_stderr_eV", "Ea_kJ_per_mol", "ln_prefactor", "form", "T_min_K",
                "T_max_K", "n", "capacitance_F", "resistance_ohm", "above_window"):
        assert key in jb
    assert jb["Ea_eV"] == pytest.approx(d["ea_b"], abs=0.02)
    assert data["joint_fit"]["chi_square"] == pytest.approx(
        data["joint_fit"]["chi_square_independent"], rel=0.2)
    assert "curvature" in data["arrhenius"]["bulk"]
    n_int = sum("bulk" in x["from_intercept"] for x in data["spectra"])
    assert n_int >= 3  # the independent fits say where they used the intercept
    json.dumps(data, allow_nan=False)
    frame = s.to_frame()
    for col in ("R_bulk_joint_ohm", "R_bulk_joint_stderr_ohm", "sigma_bulk_joint_S_per_cm",
                "R_grain_boundary_joint_ohm", "from_intercept"):
        assert col in frame.columns
    np.testing.assert_allclose(frame["R_bulk_joint_ohm"], d["r_b"], rtol=0.01)
    s.to_csv(tmp_path / "r.csv")
    assert json.loads(s.to_json(tmp_path / "r.json").read_text()) == json.loads(json.dumps(data))
    report = s.report()
    assert "[[Arrhenius, joint fit]]" in report and "independent" in report
    cmp = s.compare()
    assert list(cmp["role"]) == ["bulk", "grain_boundary", "total"]
    row = cmp.set_index("role").loc["bulk"]
    assert row["Ea_joint_eV"] == pytest.approx(s.joint.processes["bulk"].Ea_eV)
    assert row["Ea_independent_eV"] == pytest.approx(s.arrhenius("bulk").Ea_eV)
    assert math.isnan(cmp.set_index("role").loc["total", "Ea_joint_eV"])
    assert "joint fit" in s._repr_html_()


def test_interface_process_of_li_symmetric_cells():
    """Interface Ea from a joint fit: quantity 'resistance' (ASR per interface), as Series."""
    rng = np.random.default_rng(5)
    f = frequencies(F_MAX, 0.1, 10)
    t = np.array([0.0, 20, 40, 60, 80]) + 273.15
    r_int = law(t, 300.0, 0.5)
    r_b = law(t, 2000.0, 0.35)
    spectra_ = []
    for i, tk in enumerate(t):
        p = [2.0, r_b[i], arc_q(r_b[i], 5e-12, 0.95), 0.95, r_int[i],
             arc_q(r_int[i], 1e-6, 0.85), 0.85]
        z = add_noise(Circuit("R0-p(R1,CPE1)-p(R2,CPE2)").impedance(f, p), 0.005, rng)
        spectra_.append(Spectrum(f, z, {"source": f"LiLi_{tk - 273.15:.0f}C.csv"}))
    geo = eisfit.Geometry(**GEOMETRY)
    s = fit_series(spectra_, circuit="li-symmetric", geometry=geo, joint=True)
    j = s.joint.processes["interface"]
    assert j.quantity == "resistance"
    assert j.Ea_eV == pytest.approx(0.5, abs=0.01)
    assert s.joint.processes["bulk"].Ea_eV == pytest.approx(0.35, abs=0.01)
    ind = s.arrhenius("interface")
    assert j.ln_prefactor == pytest.approx(ind.ln_prefactor, abs=0.1)


def test_a_series_that_is_not_arrhenius_is_flagged():
    """A bulk that follows a VTF law (curved ln σT) is flagged by both routes."""
    rng = np.random.default_rng(3)
    d = draw(rng, "inside")
    t = d["T"]
    vtf = np.exp(900.0 / (t - 170.0))  # B = 900 K, T0 = 170 K
    d["r_b"] = d["r_b"][-1] * t / t[-1] * vtf / vtf[-1]
    d["apex_b"] = 1 / (2 * np.pi * d["r_b"] * d["c_b"])
    s = fit_series(spectra(rng, d), temperatures="metadata", joint=True)
    assert s.arrhenius("bulk").curvature
    assert "CURVED" in s.report()
    assert s.to_dict()["arrhenius"]["bulk"]["curvature"] is True
    assert s.joint.chi_square > 1.5 * s.joint.chi_square_independent
    assert any("do not describe every temperature" in w for w in s.joint.warnings)


# --------------------------------------------------------------------------- bad input
def test_joint_errors(one):
    _, s = one
    with pytest.raises(JointFitError, match="at least 3 spectra"):
        fit_joint(s.results[:2], s.temperatures_K[:2])
    with pytest.raises(JointFitError, match="2 temperatures given for 8 fits"):
        fit_joint(s.results, [300.0, 310.0])
    with pytest.raises(JointFitError, match="series_resistance must be one of"):
        fit_joint(s.results, s.temperatures_K, series_resistance="free")
    with pytest.raises(JointFitError, match="form must be one of"):
        fit_joint(s.results, s.temperatures_K, form="ln(T)")
    with pytest.raises(JointFitError, match="no arc with role 'interface'"):
        fit_joint(s.results, s.temperatures_K, processes=["interface"])
    with pytest.raises(JointFitError, match="shared_capacitance 'grain_boundary' is not among"):
        fit_joint(s.results, s.temperatures_K, processes=["bulk"],
                  shared_capacitance=["grain_boundary"])
    other = eisfit.fit(s.results[0].spectrum, "R0-p(R1,CPE1)-CPE2")
    with pytest.raises(JointFitError, match="different circuits"):
        fit_joint([*s.results[:3], other], [*s.temperatures_K[:3], 400.0])
    assert issubclass(JointFitError, eisfit.EisfitError)


def test_joint_that_cannot_be_made_does_not_fail_the_series(one):
    _, s = one
    two = fit_series([r.spectrum for r in s.results[:2]], temperatures=list(s.temperatures_K[:2]),
                     joint=True)
    assert two.joint is None and "at least 3 spectra" in two.joint_error
    assert any(w.startswith("joint fit not made") for w in two.warnings)
    data = two.to_dict()
    assert data["arrhenius_joint"] == {} and "error" in data["joint_fit"]
    assert "failed: a joint fit needs at least 3 spectra" in two.report()
    with pytest.raises(eisfit.EisfitError, match="joint_options given without joint=True"):
        fit_series([r.spectrum for r in s.results[:3]], temperatures=list(s.temperatures_K[:3]),
                   joint_options={"form": "ln(sigma)"})


def test_options_change_what_is_constrained(one):
    d, s = one
    per_t = fit_joint(s.results, s.temperatures_K, series_resistance="per_temperature")
    assert per_t.series_mode == "per_temperature"
    assert np.ptp(per_t.resistances["series"]) > 0
    assert per_t.processes["bulk"].Ea_eV == pytest.approx(d["ea_b"], abs=0.02)
    only_gb = fit_joint(s.results, s.temperatures_K, processes=["grain_boundary"])
    assert set(only_gb.processes) == {"grain_boundary"}
    assert only_gb.processes["grain_boundary"].Ea_eV == pytest.approx(d["ea_gb"], abs=0.02)
    lns = fit_joint(s.results, s.temperatures_K, form="ln(sigma)")
    # ln σ against 1/T gives a smaller Ea than ln σT, by about k <T>
    dk = s.joint.processes["bulk"].Ea_eV - lns.processes["bulk"].Ea_eV
    assert dk == pytest.approx(K_B * np.mean(s.temperatures_K), rel=0.15)


def test_overlapping_arcs_where_independent_fits_miss():
    """Seed 2005 of the leaving regime (grain-boundary C 1.1e-11 F: its arc runs into the bulk
    arc's tail at the top of the window): the independent fits miss the bulk Ea by ~0.06 eV
    and the grain boundary by ~0.04 eV (2 series of 200 scanned miss by more than 0.01 eV); the
    joint fit gets both within 0.002 eV."""
    rng = np.random.default_rng(2005)
    d = draw(rng, "leaving")
    s = fit_series(spectra(rng, d), geometry=eisfit.Geometry(**GEOMETRY),
                   temperatures="metadata", joint=True)
    print()
    for role, truth in (("bulk", d["ea_b"]), ("grain_boundary", d["ea_gb"])):
        a, j = s.arrhenius(role), s.joint.processes[role]
        print(f"{role:<15} truth {truth:.4f} eV; independent {a.Ea_eV:.4f} ± {a.Ea_stderr_eV:.4f};"
              f" joint {j.Ea_eV:.4f} ± {j.Ea_stderr_eV:.4f}")
        assert abs(j.Ea_eV - truth) <= 0.01
        assert abs(j.Ea_eV - truth) <= abs(a.Ea_eV - truth) + 0.001


def test_bulk_above_the_window_at_every_temperature():
    """Bulk apex at 0.2-5 GHz: no spectrum shows the arc; the intercepts, the shared series
    resistance and the Arrhenius law still give the bulk Ea, and the fit says what it rests on."""
    rng = np.random.default_rng(0)
    d = draw(rng, "leaving")
    d["c_b"] /= 100
    d["apex_b"] = 1 / (2 * np.pi * d["r_b"] * d["c_b"])
    assert d["apex_b"].min() > 20 * F_MAX
    s = fit_series(spectra(rng, d), temperatures="metadata", joint=True)
    b = s.joint.processes["bulk"]
    assert b.above_window.all()
    assert any("in every spectrum" in w for w in b.warnings)
    assert b.Ea_eV == pytest.approx(d["ea_b"], abs=0.005)
    assert abs(b.Ea_eV - d["ea_b"]) < 3 * b.Ea_stderr_eV + 1e-4
    np.testing.assert_allclose(b.resistance_ohm, d["r_b"], rtol=0.01)
