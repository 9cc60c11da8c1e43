"""Circuit parser and evaluator, with impedance.py as the oracle for element impedances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eisfit.exceptions import CircuitSyntaxError
from eisfit.model import elements
from eisfit.model.circuit import Circuit

FREQ = np.logspace(7, -2, 46)

# One realistic parameter set per element, in impedance.py's order.
ELEMENT_PARAMS = {
    "R": [123.4],
    "C": [2.2e-9],
    "L": [1.5e-7],
    "CPE": [3.1e-7, 0.83],
    "W": [45.0],
    "Wo": [250.0, 3.5],
    "Ws": [250.0, 3.5],
    "G": [80.0, 1e-3],
    "Gs": [80.0, 1e-3, 2.5],
    "K": [500.0, 1e-4],
    "Zarc": [500.0, 1e-4, 0.8],
    "La": [1e-6, 0.9],
    "TLMQ": [300.0, 2e-5, 0.85],
    "T": [40.0, 12.0, 0.3, 2e-3],
    "HN": [500.0, 1e-4, 0.8, 0.6],
    "TLMr": [300.0, 2e3, 2e-5, 0.85],
}
#: Elements impedance.py does not have (their closed forms: tests/test_user_elements.py).
NOT_IN_IMPEDANCE_PY = {"HN", "TLMr"}

NESTED = [
    ("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", [2.0, 1e3, 2e-11, 0.95, 4e3, 3e-9, 0.85, 2e-6, 0.75]),
    (
        "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-Wo1",
        [1.0, 100.0, 1e-10, 0.9, 220.0, 1e-6, 0.85, 255.0, 1e-5, 0.8, 50.0, 10.0],
    ),
    ("L0-R0-p(R1,C1)-W1", [1e-7, 5.0, 300.0, 1e-8, 20.0]),
    ("p(R1,p(C1,R2-C2))", [1e3, 1e-9, 200.0, 1e-6]),
    ("R0-p(R1-p(R2,CPE2),CPE1)-Ws1", [3.0, 50.0, 400.0, 1e-6, 0.9, 1e-9, 0.95, 80.0, 0.3]),
    ("p(R1,C1,L1)-G1-K1", [10.0, 1e-5, 1e-3, 30.0, 1e-2, 40.0, 1e-3]),
    ("R_s-p(R_b,CPE_b)-Zarc1", [1.0, 10.0, 1e-9, 0.9, 100.0, 1e-3, 0.7]),
]


def _impedance_py(circuit: str, params: list[float]) -> np.ndarray:
    from impedance.models.circuits import CustomCircuit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CustomCircuit(circuit, initial_guess=list(params)).predict(FREQ)


def test_every_registered_element_is_covered():
    assert set(ELEMENT_PARAMS) == set(elements.ELEMENTS)


@pytest.mark.parametrize("name", sorted(set(ELEMENT_PARAMS) - NOT_IN_IMPEDANCE_PY))
def test_element_matches_impedance_py(name):
    params = ELEMENT_PARAMS[name]
    ours = Circuit(f"{name}1").impedance(FREQ, params)
    ref = _impedance_py(f"{name}1", params)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=0)


@pytest.mark.parametrize(("circuit", "params"), [n for n in NESTED if "_" not in n[0]])
def test_nested_circuit_matches_impedance_py(circuit, params):
    ours = Circuit(circuit).impedance(FREQ, params)
    np.testing.assert_allclose(ours, _impedance_py(circuit, params), rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", sorted(ELEMENT_PARAMS))
def test_element_gradient_matches_finite_differences(name):
    p = np.array(ELEMENT_PARAMS[name], float)
    c = Circuit(f"{name}1")
    z, jac = c.impedance_and_jacobian(FREQ, p)
    for k in range(p.size):
        h = 1e-6 * p[k]
        up, dn = p.copy(), p.copy()
        up[k] += h
        dn[k] -= h
        num = (c.impedance(FREQ, up) - c.impedance(FREQ, dn)) / (2 * h)
        np.testing.assert_allclose(jac[k], num, rtol=1e-5, atol=1e-9 * np.abs(num).max())


@pytest.mark.parametrize(("circuit", "params"), NESTED)
def test_circuit_jacobian_matches_finite_differences(circuit, params):
    p = np.array(params, float)
    c = Circuit(circuit)
    z, jac = c.impedance_and_jacobian(FREQ, p)
    np.testing.assert_allclose(z, c.impedance(FREQ, p), rtol=1e-12)
    assert_derivatives(c, p, z, jac)


def assert_derivatives(c: Circuit, p: np.ndarray, z: np.ndarray, jac: np.ndarray) -> None:
    """dZ/dp ``jac`` (n_params, len(FREQ)) of circuit ``c`` at ``p`` against central differences.

    Compares p·dZ/dp (the sensitivity to a relative change) against |Z|: a finite difference
    of an element buried under a much larger impedance carries round-off of order eps·|Z|/h.
    """
    for k in range(p.size):
        h = 1e-6 * p[k]
        up, dn = p.copy(), p.copy()
        up[k] += h
        dn[k] -= h
        num = (c.impedance(FREQ, up) - c.impedance(FREQ, dn)) / (2 * h)
        err = np.abs(p[k] * (jac[k] - num))
        assert np.all(err <= 1e-6 * np.abs(z) + 1e-5 * np.abs(p[k] * num)), (k, err.max())


def test_parameter_names_follow_impedance_py():
    c = Circuit("R0-p(R1,CPE1)-Wo1")
    assert c.parameter_names == ["R0", "R1", "CPE1_0", "CPE1_1", "Wo1_0", "Wo1_1"]
    assert c.parameter_units == ["Ohm", "Ohm", "S s^n", "", "Ohm", "s"]
    assert c.parameter_kinds[3] == "exponent"


def test_whitespace_is_ignored_and_string_normalised():
    assert str(Circuit(" R0 - p( R1 , C1 ) ")) == "R0-p(R1,C1)"


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("R0-", 4, "expected an element"),
        ("R0-p(R1)", 4, "at least two branches"),
        ("R0-X1", 4, "unknown element 'X1'"),
        ("R0,R1", 3, "unexpected ','"),
        ("R0-p(R1,C1", 11, "to close p"),
        ("R0-R0", 4, "used twice"),
        ("R0)", 3, "no matching"),
        ("R0--R1", 4, "expected an element or p"),
        ("Rb", 1, "unknown element 'Rb'"),
        ("", 1, "empty"),
    ],
)
def test_syntax_errors_name_the_character(text, position, message):
    with pytest.raises(CircuitSyntaxError, match=message) as info:
        Circuit(text)
    assert info.value.position + 1 == position
    assert f"character {position}" in str(info.value)
    assert "\n" not in str(info.value)


def test_wrong_parameter_count_is_a_clear_error():
    with pytest.raises(ValueError, match=r"takes 3 parameters \(R0, R1, C1\), got 2"):
        Circuit("R0-p(R1,C1)").impedance(FREQ, [1.0, 2.0])


def test_no_eval_on_malicious_input():
    with pytest.raises(CircuitSyntaxError):
        Circuit("__import__('os').system('true')")


_leaf = st.sampled_from(["R", "C", "CPE", "L", "Wo", "K"])


@st.composite
def _circuits(draw, depth=0):
    n = draw(st.integers(1, 3))
    parts = []
    for _ in range(n):
        if depth < 2 and draw(st.booleans()):
            branches = draw(st.lists(_circuits(depth=depth + 1), min_size=2, max_size=3))
            parts.append("p(" + ",".join(branches) + ")")
        else:
            parts.append(draw(_leaf) + "{}")
    return "-".join(parts)


@settings(max_examples=60, deadline=None)
@given(_circuits())
def test_random_circuits_round_trip_and_match_impedance_py(template):
    counter = iter(range(1000))
    text = template
    while "{}" in text:
        text = text.replace("{}", str(next(counter)), 1)
    c = Circuit(text)
    assert str(Circuit(str(c))) == str(c) == text
    rng = np.random.default_rng(len(text))
    params = []
    for kind in c.parameter_kinds:
        params.append(rng.uniform(0.6, 1.0) if kind == "exponent" else 10 ** rng.uniform(-3, 3))
    ours = c.impedance(FREQ, params)
    np.testing.assert_allclose(ours, _impedance_py(text, params), rtol=1e-9)
