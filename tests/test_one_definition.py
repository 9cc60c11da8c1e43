"""Each element is written once and used by both engines: an element defined by one pair of
functions (impedance and gradient, in the form numba compiles and numpy vectorises) fits with
the numpy engine and the compiled one alike, and the compiled engine's element table and
dispatch are generated from the element registry, with nothing listed by hand."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.fitting.user_elements import ElementError, user_elements
from eisfit.io.spectrum import Spectrum
from eisfit.kernels import compiled
from eisfit.model import elements
from eisfit.model.circuit import Circuit

FREQ = np.logspace(6, -2, 65)
CIRCUIT = "R0-Cd1-CPE1"
#: R0 (Ohm); Cd1: R (Ohm), τ (s), β; CPE1: Q (S s^n), n
TRUTH = [50.0, 2e3, 1e-4, 0.6, 2e-6, 0.8]
CD = {
    "parameters": ["R", "tau", "beta"],
    "units": ["Ohm", "s", ""],
    "kinds": ["positive", "positive", "exponent"],
}


def cole_davidson(p, omega):
    """Z = R/(1 + jωτ)^β: numpy operations only, so that it runs on arrays of frequencies and
    parameter sets, and compiled at one frequency."""
    return p[0] * np.exp(-p[2] * np.log(1.0 + 1j * omega * p[1]))


def cole_davidson_gradient(p, omega, z):
    """dZ/dR, dZ/dτ, dZ/dβ of :func:`cole_davidson`."""
    u = 1.0 + 1j * omega * p[1]
    return (z / p[0], -p[2] * z * (1j * omega) / u, -z * np.log(u))


def _helper(x):
    return x


def not_compilable(p, omega):
    return _helper(p[0]) / (1.0 + 1j * omega * p[1]) ** p[2]


@pytest.fixture(scope="module")
def one_definition():
    """Cd (the analytic gradient) and Cn (the same impedance, central differences), both with
    a compiled form; removed afterwards."""
    pytest.importorskip("numba", reason="the compiled engine needs the 'fast' extra (numba)")
    eisfit.define_element("Cd", cole_davidson, **CD, gradient=cole_davidson_gradient,
                          description="Cole-Davidson", compiled=True)
    eisfit.define_element("Cn", cole_davidson, **CD, compiled=True)
    yield
    for name in list(user_elements()):
        eisfit.remove_element(name)


def _noisy(text: str, truth: list[float], seed: int = 5) -> Spectrum:
    z = Circuit(text).impedance(FREQ, truth)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(FREQ.size) + 1j * rng.standard_normal(FREQ.size)
    return Spectrum(FREQ, z * (1 + 0.01 * noise / np.sqrt(2)))


def _compiled_z_jac(text: str, params: list[float]) -> tuple[np.ndarray, np.ndarray]:
    from eisfit.kernels import _kernels

    circuit = Circuit(text)
    ops, depth = compiled.program(circuit)
    w = 2 * np.pi * FREQ
    zs = np.empty((depth, w.size), complex)
    jac = np.empty((circuit.n_params, w.size), complex)
    spans = np.empty((depth, 2), np.int64)
    _kernels._impedance(ops, np.asarray(params, float), w, np.log(w), zs, jac, spans)
    return zs[0].copy(), jac


# --------------------------------------------------------------------------- both engines
@pytest.mark.parametrize("name", ["Cd", "Cn"])
def test_one_definition_evaluates_alike_in_both_engines(one_definition, name):
    text = f"R0-p(R1,{name}1)"
    p = [10.0, 300.0, 1e3, 1e-3, 0.7]
    z, jac = Circuit(text).impedance_and_jacobian(FREQ, p)
    z_c, jac_c = _compiled_z_jac(text, p)
    np.testing.assert_allclose(z_c, z, rtol=1e-12)
    # the same derivatives, to rounding (central differences of Z: to 1e-9 of their scale)
    for row, row_c in zip(jac, jac_c, strict=True):
        np.testing.assert_allclose(row_c, row, rtol=1e-9, atol=1e-9 * np.abs(row).max())
    # and the analytic gradient is the derivative: against central differences of Z
    for k, dp in enumerate(np.asarray(p) * 1e-6):
        hi, lo = np.array(p, float), np.array(p, float)
        hi[k] += dp
        lo[k] -= dp
        c = Circuit(text)
        fd = (c.impedance(FREQ, hi) - c.impedance(FREQ, lo)) / (2 * dp)
        np.testing.assert_allclose(jac[k], fd, rtol=1e-6, atol=1e-9 * np.abs(fd).max())


def test_one_definition_fits_with_both_engines(one_definition, monkeypatch):
    runs = []
    multistart = compiled.multistart

    def recorded(*args, **kwargs):
        done = multistart(*args, **kwargs)
        runs.append(done is not None)
        return done

    monkeypatch.setattr(compiled, "multistart", recorded)
    spectrum = _noisy(CIRCUIT, TRUTH)
    names = Circuit(CIRCUIT).parameter_names
    fits = {}
    for engine in ("numpy", "compiled"):
        runs.clear()
        with compiled.use(engine == "compiled"):
            r = eisfit.fit(spectrum, CIRCUIT)
        fits[engine] = r
        assert (runs and all(runs)) if engine == "compiled" else not any(runs)
        assert not any("no compiled form" in w for w in r.warnings)
        got = np.array([r.values[n] for n in names])
        # 1 % noise: every parameter within 2 %, the exponents within 1 %
        np.testing.assert_allclose(got, TRUTH, rtol=0.02)
        np.testing.assert_allclose(got[[3, 5]], np.array(TRUTH)[[3, 5]], rtol=0.01)
    fast, slow = fits["compiled"], fits["numpy"]
    assert fast.chisqr == pytest.approx(slow.chisqr, rel=1e-6)
    for n in names:
        assert fast.values[n] == pytest.approx(slow.values[n], rel=1e-4)


def test_elements_without_a_compiled_form_still_fit_with_numpy():
    eisfit.define_element("Cp", cole_davidson, **CD)  # compiled=False: numpy only
    try:
        assert "Cp" not in compiled.ELEMENT_CODES
        assert compiled.program(Circuit("R0-Cp1")) is None
    finally:
        eisfit.remove_element("Cp")


def test_a_function_numba_cannot_compile_is_refused_in_one_line():
    pytest.importorskip("numba", reason="the check needs numba")
    with pytest.raises(ElementError, match="numba cannot compile its impedance") as info:
        eisfit.define_element("Cx", not_compilable, **CD, compiled=True)
    assert "\n" not in str(info.value)
    assert "Cx" not in elements.ELEMENTS


# --------------------------------------------------------------------------- the table
def test_element_codes_are_the_registry(one_definition):
    from eisfit.kernels import _dispatch

    with_form = {n for n, e in elements.ELEMENTS.items() if e.compiled}
    assert set(compiled.ELEMENT_CODES) == with_form
    assert {"Cd", "Cn", "TLMQ", "TLMr", "T", "HN"} <= with_form
    assert len(set(compiled.ELEMENT_CODES.values())) == len(with_form)
    table = _dispatch.element_table()
    assert [(c, e.name) for c, e in table] == sorted(
        (c, n) for n, c in compiled.ELEMENT_CODES.items()
    )
    source = _dispatch.dispatch_source(table)
    for name, code in compiled.ELEMENT_CODES.items():
        assert f"    if code == {code}:  # {name}\n" in source


def test_an_element_registered_once_enters_the_table():
    # the one definition of a built-in, through the registry's own decorator
    def _double_r(p, w):
        return 2.0 * p[0] + 0j * w

    def _double_r_grad(p, w, z):
        return (2.0 + 0j * w,)

    elements.element("Rd", ["Ohm"], ["positive"], "test: Z = 2R")((_double_r, _double_r_grad))
    try:
        compiled.refresh_element_codes()
        assert "Rd" in compiled.ELEMENT_CODES
        from eisfit.kernels import _dispatch

        assert "# Rd\n" in _dispatch.dispatch_source(_dispatch.element_table())
    finally:
        del elements.ELEMENTS["Rd"]
        compiled.refresh_element_codes()
    assert "Rd" not in compiled.ELEMENT_CODES


def test_no_element_is_listed_by_hand_in_the_compiled_engine():
    package = Path(eisfit.__file__).parent / "kernels"
    for module in ("compiled.py", "_kernels.py", "_dispatch.py"):
        text = (package / module).read_text(encoding="utf-8")
        for name in elements.ELEMENTS:
            if len(name) > 1:  # "R", "C"... are too short to search for
                assert f'"{name}"' not in text and f"'{name}'" not in text, (module, name)


def test_a_changed_definition_is_another_compiled_module(one_definition):
    # numba's cache follows the generated module's file: another definition, another file
    from eisfit.kernels import _dispatch

    table = _dispatch.element_table()
    before = _dispatch.fingerprint(_dispatch.dispatch_source(table), table)

    def doubled(p, omega):
        return 2.0 * p[0] * np.exp(-p[2] * np.log(1.0 + 1j * omega * p[1]))

    eisfit.define_element("Cn", doubled, **CD, compiled=True, replace=True)
    try:
        table = _dispatch.element_table()
        after = _dispatch.fingerprint(_dispatch.dispatch_source(table), table)
        assert after != before
    finally:
        eisfit.define_element("Cn", cole_davidson, **CD, compiled=True, replace=True)
    table = _dispatch.element_table()
    assert _dispatch.fingerprint(_dispatch.dispatch_source(table), table) == before
    assert inspect.getsource(cole_davidson)  # defined in this file: its text is hashed
