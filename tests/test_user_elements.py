"""User-defined elements: definition rules, numerical derivatives, fits with both engines, the
``--elements`` option of ``eisfit fit``; and the transmission-line built-ins against their
closed forms."""

from __future__ import annotations

import json

import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.fitting.user_elements import STEP, ElementError, numeric_gradient, user_elements
from eisfit.io.spectrum import Spectrum
from eisfit.kernels import compiled
from eisfit.model import elements
from eisfit.model.circuit import Circuit

FREQ = np.logspace(6, -2, 65)
#: R0 (Ohm), Hv1: R (Ohm), τ (s), α, β; CPE1: Q (S s^n), n
TRUTH = [50.0, 2e3, 1e-4, 0.85, 0.6, 2e-6, 0.8]
CIRCUIT = "R0-Hv1-CPE1"


def havriliak_negami(p, omega):
    """Z = R/(1+(jωτ)^α)^β, written here with no derivatives."""
    return p[0] / (1 + (1j * omega * p[1]) ** p[2]) ** p[3]


HV = {
    "parameters": ["R", "tau", "alpha", "beta"],
    "units": ["Ohm", "s", "", ""],
    "kinds": ["positive", "positive", "exponent", "exponent"],
}


@pytest.fixture
def hv():
    """The element Hv (Havriliak–Negami) for one test; removed afterwards, so the registry
    other tests see holds only the built-in elements."""
    eisfit.define_element("Hv", havriliak_negami, **HV, description="Havriliak-Negami")
    yield
    for name in list(user_elements()):
        eisfit.remove_element(name)


def _noisy(text: str, truth: list[float], seed: int = 3) -> Spectrum:
    z = Circuit(text).impedance(FREQ, truth)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(FREQ.size) + 1j * rng.standard_normal(FREQ.size)
    return Spectrum(FREQ, z * (1 + 0.01 * noise / np.sqrt(2)))


# --------------------------------------------------------------------------- definition
def test_user_element_is_parsed_and_evaluated_from_its_formula(hv):
    c = Circuit("R0-p(R1,Hv1)")
    assert c.parameter_names == ["R0", "R1", "Hv1_0", "Hv1_1", "Hv1_2", "Hv1_3"]
    assert c.parameter_units[2:] == ["Ohm", "s", "", ""]
    p = [5.0, 300.0, 1e3, 1e-3, 0.7, 0.5]
    w = 2 * np.pi * FREQ
    hn = 1e3 / (1 + (1j * w * 1e-3) ** 0.7) ** 0.5
    np.testing.assert_allclose(c.impedance(FREQ, p), 5.0 + 1 / (1 / 300.0 + 1 / hn), rtol=1e-13)


def test_numeric_gradient_of_a_user_element_matches_the_analytic_one(hv):
    p = np.array([2e3, 1e-4, 0.85, 0.6])
    w = 2 * np.pi * FREQ
    u = (1j * w * p[1]) ** p[2]
    z = p[0] / (1 + u) ** p[3]
    exact = [  # the Havriliak–Negami derivatives, by hand
        z / p[0],
        -p[3] * z * u * p[2] / (p[1] * (1 + u)),
        -p[3] * z * u * np.log(1j * w * p[1]) / (1 + u),
        -z * np.log(1 + u),
    ]
    _, jac = Circuit("Hv1").impedance_and_jacobian(FREQ, p)
    for k in range(4):
        np.testing.assert_allclose(jac[k], exact[k], rtol=1e-7, atol=1e-9 * np.abs(exact[k]).max())


@pytest.mark.parametrize("name", ["Wo", "Gs", "Zarc", "TLMQ", "T", "TLMr", "HN", "CPE"])
def test_numeric_gradient_matches_built_in_analytic_gradients(name):
    from test_circuit import ELEMENT_PARAMS

    e = elements.get(name)
    p = np.array(ELEMENT_PARAMS[name], float)
    w = 2 * np.pi * FREQ
    z = e.impedance(p, w)
    numeric = numeric_gradient(e.impedance, e.kinds)(p, w, z)
    for k, g in enumerate(e.gradient(p, w, z)):
        scale = np.abs(g).max()  # where a derivative vanishes, its scale elsewhere
        err = np.abs(numeric[k] - g).max() / scale
        assert err < 1e-6, (name, k, err)


def test_numeric_step_is_the_cube_root_of_epsilon():
    assert STEP == pytest.approx(6.06e-6, rel=1e-3)


def test_built_in_elements_are_not_redefined():
    with pytest.raises(ElementError, match="'CPE' is built in"):
        eisfit.define_element("CPE", havriliak_negami, **HV)
    assert elements.get("CPE").description.startswith("constant-phase")


def test_user_element_is_replaced_only_when_asked(hv):
    def doubled(p, omega):
        return 2 * havriliak_negami(p, omega)

    with pytest.raises(ElementError, match="already defined; pass replace=True"):
        eisfit.define_element("Hv", doubled, **HV)
    p = [1e3, 1e-3, 0.7, 0.5]
    before = Circuit("Hv1").impedance(FREQ, p)
    eisfit.define_element("Hv", doubled, **HV, replace=True)
    np.testing.assert_allclose(Circuit("Hv1").impedance(FREQ, p), 2 * before, rtol=1e-14)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("hn", {}, "the first a capital"),
        ("H1", {}, "letters only"),
        ("RC", {}, "change the meaning of names such as 'RC1', today a R element"),
        ("Hv", {"units": ["Ohm", "s", ""]}, "4 parameters but 3 units"),
        ("Hv", {"kinds": ["positive", "positive", "exponent", "linear"]}, "kind 'linear'"),
        ("Hv", {"bounds": [(0, 1e9), (1e-9, 1), (0, 1), (0, 1)]}, "lower > 0 for a positive"),
        ("Hv", {"bounds": [(1, 1e9), (1e-9, 1), (0.5, 0.5), (0, 1)]}, "lower < upper"),
    ],
)
def test_bad_definitions_are_refused_on_one_line(name, options, message):
    with pytest.raises(ElementError, match=message) as info:
        eisfit.define_element(name, havriliak_negami, **{**HV, **options})
    assert "\n" not in str(info.value)
    assert name not in user_elements()


def test_an_impedance_of_the_wrong_shape_is_refused():
    with pytest.raises(ElementError, match="one value per frequency"):
        eisfit.define_element("Hv", lambda p, w: p[0], **HV)
    assert "Hv" not in elements.ELEMENTS


# --------------------------------------------------------------------------- fits
@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_fit_recovers_a_user_element_with_either_engine(hv, engine):
    if engine == "compiled" and not compiled.available():
        pytest.skip("the compiled engine needs numba")
    spectrum = _noisy(CIRCUIT, TRUTH)
    with compiled.use(engine == "compiled"):
        r = eisfit.fit(spectrum, CIRCUIT)
    got = np.array([r.values[n] for n in Circuit(CIRCUIT).parameter_names])
    # 1 % noise: every parameter within 2 %, α and β (the shape) within 1 %
    np.testing.assert_allclose(got, TRUTH, rtol=0.02)
    np.testing.assert_allclose(got[3:5], TRUTH[3:5], rtol=0.01)
    note = "element Hv1 (Hv) has no compiled form: fitted with the numpy engine"
    assert (note in r.warnings) == (engine == "compiled")


def test_fit_of_a_transmission_line_runs_compiled():
    # every built-in element, the transmission lines too, has a compiled form
    if not compiled.available():
        pytest.skip("the compiled engine needs numba")
    truth = [20.0, 300.0, 2e-5, 0.85]
    with compiled.use(True):
        r = eisfit.fit(_noisy("R0-TLMQ1", truth), "R0-TLMQ1")
    assert compiled.program(Circuit("R0-TLMQ1")) is not None
    assert not any("no compiled form" in w for w in r.warnings)
    got = [r.values[n] for n in ("R0", "TLMQ1_0", "TLMQ1_1", "TLMQ1_2")]
    np.testing.assert_allclose(got, truth, rtol=0.03)


# --------------------------------------------------------------------------- the command line
ELEMENTS_FILE = '''
import eisfit


def hn(p, omega):
    return p[0] / (1 + (1j * omega * p[1]) ** p[2]) ** p[3]


eisfit.define_element(
    "Hv", hn, parameters=["R", "tau", "alpha", "beta"], units=["Ohm", "s", "", ""],
    kinds=["positive", "positive", "exponent", "exponent"],
)
'''


@pytest.fixture
def data_file(tmp_path):
    eisfit.define_element("Hv", havriliak_negami, **HV)  # only to make the data
    s = _noisy(CIRCUIT, TRUTH, seed=5)
    eisfit.remove_element("Hv")
    path = tmp_path / "hn_cell.csv"
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    rows += [f"{f:.10e},{z.real:.10e},{-z.imag:.10e}" for f, z in zip(FREQ, s.z, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    yield path
    for name in list(user_elements()):
        eisfit.remove_element(name)


def test_cli_fits_with_elements_from_a_file(data_file, tmp_path, capsys):
    mine = tmp_path / "my_elements.py"
    mine.write_text(ELEMENTS_FILE)
    code = main(["fit", str(data_file), "--circuit", CIRCUIT, "--elements", str(mine), "--json",
                 "--no-kk"])
    out = capsys.readouterr().out
    assert code == 0
    params = json.loads(out)["parameters"]
    assert params["Hv1_0"]["unit"] == "Ohm"
    got = [params[n]["value"] for n in Circuit("R0-CPE1").parameter_names[:1]] + [
        params[f"Hv1_{k}"]["value"] for k in range(4)
    ]
    np.testing.assert_allclose(got, TRUTH[:5], rtol=0.02)
    # the same file again in this process: loaded once, no 'already defined'
    assert main(["fit", str(data_file), "--circuit", CIRCUIT, "--elements", str(mine),
                 "--no-kk"]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("def broken(:\n", "line 1: SyntaxError"),
        ("import eisfit\nraise RuntimeError('bad constant')\n", "line 2: RuntimeError: bad const"),
        ("import eisfit\neisfit.define_element('R', lambda p, w: p[0] + 0 * w, "
         "parameters=['R'], units=['Ohm'])\n", "'R' is built in"),
        ("x = 1\n", "defines no element"),
    ],
)
def test_cli_elements_errors_are_one_line_naming_the_file(data_file, tmp_path, capsys, content,
                                                          message):
    mine = tmp_path / "bad_elements.py"
    if content is not None:
        mine.write_text(content)
    code = main(["fit", str(data_file), "--circuit", CIRCUIT, "--elements", str(mine)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("eisfit: error: --elements ")
    assert str(mine) in err and message in err


def test_cli_circuit_with_an_undefined_element_names_it(data_file, capsys):
    assert main(["fit", str(data_file), "--circuit", CIRCUIT]) == 2
    assert "unknown element 'Hv1'" in capsys.readouterr().err


# --------------------------------------------------------------------------- transmission lines
def test_tlmq_is_the_blocking_transmission_line():
    r_ion, q, g = 300.0, 2e-5, 0.85
    w = 2 * np.pi * FREQ
    z_q = 1 / (q * (1j * w) ** g)
    closed = np.sqrt(r_ion * z_q) * np.cosh(np.sqrt(r_ion / z_q)) / np.sinh(np.sqrt(r_ion / z_q))
    z = Circuit("TLMQ1").impedance(FREQ, [r_ion, q, g])
    np.testing.assert_allclose(z, closed, rtol=1e-12)
    # low frequency: R_ion/3 in series with the interface; high frequency: √(R_ion Z_Q)
    low = np.array([1e-6, 1e-7])
    z_low = Circuit("TLMQ1").impedance(low, [r_ion, q, g])
    z_q_low = 1 / (q * (2j * np.pi * low) ** g)
    np.testing.assert_allclose(z_low - z_q_low, r_ion / 3, rtol=1e-6)
    high = np.array([1e8])
    z_q_high = 1 / (q * (2j * np.pi * high) ** g)
    np.testing.assert_allclose(Circuit("TLMQ1").impedance(high, [r_ion, q, g]),
                               np.sqrt(r_ion * z_q_high), rtol=1e-9)


def test_t_is_paasch_porous_electrode():
    a_, b_, a, b = 40.0, 12.0, 0.3, 2e-3
    w = 2 * np.pi * FREQ
    beta = np.sqrt(a + 1j * w * b)
    closed = a_ * np.cosh(beta) / (beta * np.sinh(beta)) + b_ / (beta * np.sinh(beta))
    np.testing.assert_allclose(Circuit("T1").impedance(FREQ, [a_, b_, a, b]), closed, rtol=1e-12)
    # far above the knee (Re β ≫ 1) the B term vanishes and no sinh overflows
    z = Circuit("T1").impedance([1e12], [a_, b_, a, b])
    beta = np.sqrt(a + 2j * np.pi * 1e12 * b)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(z, a_ / beta, rtol=1e-12)


def test_tlmr_is_the_transmission_line_with_charge_transfer():
    r_ion, r_ct, q, n = 300.0, 2e3, 2e-5, 0.85
    w = 2 * np.pi * FREQ
    z_int = 1 / (1 / r_ct + q * (1j * w) ** n)  # R_ct in parallel with the CPE
    closed = np.sqrt(r_ion * z_int) / np.tanh(np.sqrt(r_ion / z_int))
    np.testing.assert_allclose(Circuit("TLMr1").impedance(FREQ, [r_ion, r_ct, q, n]), closed,
                               rtol=1e-12)
    # at DC the interface is R_ct: √(R_ion R_ct) coth √(R_ion/R_ct), → R_ct + R_ion/3 for
    # R_ct ≫ R_ion; with R_ct → ∞ it is the blocking line TLMQ
    dc = Circuit("TLMr1").impedance([1e-9], [r_ion, r_ct, q, n])[0]
    assert dc == pytest.approx(np.sqrt(r_ion * r_ct) / np.tanh(np.sqrt(r_ion / r_ct)), rel=1e-8)
    dc = Circuit("TLMr1").impedance([1e-12], [1.0, 1e6, 1e-12, n])[0]
    assert dc.real - 1e6 == pytest.approx(1 / 3, rel=1e-4)
    np.testing.assert_allclose(Circuit("TLMr1").impedance(FREQ, [r_ion, 1e15, q, n]),
                               Circuit("TLMQ1").impedance(FREQ, [r_ion, q, n]), rtol=1e-9)


def test_hn_is_havriliak_negami():
    r, tau, a, b = 500.0, 1e-4, 0.8, 0.6
    w = 2 * np.pi * FREQ
    closed = r / (1 + (1j * w * tau) ** a) ** b
    np.testing.assert_allclose(Circuit("HN1").impedance(FREQ, [r, tau, a, b]), closed, rtol=1e-12)
    # β = 1: the Cole-Cole arc (Zarc); α = β = 1: the Debye (Voigt) element
    np.testing.assert_allclose(Circuit("HN1").impedance(FREQ, [r, tau, a, 1.0]),
                               Circuit("Zarc1").impedance(FREQ, [r, tau, a]), rtol=1e-12)
    np.testing.assert_allclose(Circuit("HN1").impedance(FREQ, [r, tau, 1.0, 1.0]),
                               Circuit("K1").impedance(FREQ, [r, tau]), rtol=1e-12)


@pytest.mark.parametrize("name", ["HN", "TLMr"])
def test_new_built_ins_fit_their_own_spectra(name):
    from test_circuit import ELEMENT_PARAMS

    truth = [20.0, *ELEMENT_PARAMS[name]]
    text = f"R0-{name}1"
    r = eisfit.fit(_noisy(text, truth, seed=11), text)
    np.testing.assert_allclose([r.values[n] for n in Circuit(text).parameter_names], truth,
                               rtol=0.05)


def test_gerischer_forms_and_limits():
    # G: R/√(1+jωτ) is the Gerischer Z0/√(k+jω) with k = 1/τ and Z0 = R/√τ
    r, tau = 80.0, 1e-3
    w = 2 * np.pi * FREQ
    k, z0 = 1 / tau, r / np.sqrt(tau)
    np.testing.assert_allclose(Circuit("G1").impedance(FREQ, [r, tau]), z0 / np.sqrt(k + 1j * w),
                               rtol=1e-12)
    # Gs: a long layer (φ large) is G; a thin one (φ small) a Voigt element R/φ, τ
    np.testing.assert_allclose(Circuit("Gs1").impedance(FREQ, [r, tau, 40.0]),
                               Circuit("G1").impedance(FREQ, [r, tau]), rtol=1e-12)
    low = FREQ[FREQ < 1e2]  # where |φ√(1+jωτ)| stays small
    np.testing.assert_allclose(Circuit("Gs1").impedance(low, [r, tau, 1e-4]),
                               Circuit("K1").impedance(low, [r / 1e-4, tau]), rtol=1e-6)
