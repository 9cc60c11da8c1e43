"""Models to and from impedance.py, with impedance.py's own predict() as the reference."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import eisfit
from eisfit.fitting.interop import ImportedModel, InteropError, from_impedance
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit

pytest.importorskip("impedance")
from impedance.models.circuits import CustomCircuit  # noqa: E402
from impedance.models.circuits.elements import circuit_elements  # noqa: E402

FREQ = np.logspace(7, -3, 61)

#: Every element impedance.py has, over four circuits, with realistic values; a constant in each.
MODELS = [
    (
        "R0-p(R1,CPE1)-p(R2,C1)-L0-W1",
        [2.0, 1e3, 2e-10, 0.9, 4e3, 1e-8, 1.5e-7, 40.0],
        {"R0": 2.0},
    ),
    ("R0-Wo1-p(R1,Ws1)-G1-Gs1", [1.0, 250.0, 3.5, 500.0, 250.0, 0.4, 80.0, 1e-3, 80.0, 1e-2, 2.5],
     {"Gs1_2": 2.5}),
    ("L0-K1-Zarc1-La1", [1e-7, 500.0, 1e-4, 900.0, 1e-2, 0.8, 1e-6, 0.9], {"La1_1": 0.9}),
    ("R0-TLMQ1-T1", [3.0, 300.0, 2e-5, 0.85, 40.0, 12.0, 0.3, 2e-3], {"T1_2": 0.3}),
]


def _custom(text: str, values: list[float], constants: dict[str, float]) -> CustomCircuit:
    names = Circuit(text).parameter_names
    free = [v for n, v in zip(names, values, strict=True) if n not in constants]
    return CustomCircuit(text, initial_guess=free, constants=dict(constants))


def _predict(model: CustomCircuit, f: np.ndarray = FREQ) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Simulating circuit based on initial parameters"
        return model.predict(f)


def test_the_models_use_every_element_of_impedance_py():
    used = {e.element.name for text, _, _ in MODELS for e in Circuit(text).elements}
    assert used == {k for k in circuit_elements if k[0].isupper()}  # not s, p, __builtins__


@pytest.mark.parametrize(("text", "values", "constants"), MODELS)
def test_imported_model_matches_predict(text, values, constants, tmp_path):
    cc = _custom(text, values, constants)
    model = from_impedance(cc)
    assert model.values == tuple(values) and model.fixed == frozenset(constants)
    assert not model.fitted
    np.testing.assert_allclose(model.impedance(FREQ), _predict(cc), rtol=1e-9, atol=0)
    # the same from the JSON impedance.py saves
    cc.save(tmp_path / "model.json")
    saved = from_impedance(tmp_path / "model.json")
    assert saved.values == model.values and saved.fixed == model.fixed
    np.testing.assert_allclose(saved.impedance(FREQ), _predict(cc), rtol=1e-9, atol=0)


@pytest.mark.parametrize(("text", "values", "constants"), MODELS)
def test_fitted_model_uses_its_fitted_parameters(text, values, constants, tmp_path):
    cc = _custom(text, values, constants)
    n_free = len(values) - len(constants)
    cc.parameters_ = np.array(cc.initial_guess) * np.linspace(1.1, 1.3, n_free)
    cc.conf_ = np.full(n_free, 0.01)
    model = from_impedance(cc)
    assert model.fitted
    np.testing.assert_allclose(model.impedance(FREQ), _predict(cc), rtol=1e-9, atol=0)
    assert model.impedance(FREQ)[0] != pytest.approx(
        Circuit(text).impedance(FREQ[:1], values)[0], rel=1e-3
    )
    cc.save(tmp_path / "fitted.json")
    saved = from_impedance(str(tmp_path / "fitted.json"))
    assert saved.fitted
    np.testing.assert_allclose(saved.impedance(FREQ), _predict(cc), rtol=1e-9, atol=0)


def test_a_model_impedance_py_fitted_imports_and_refits():
    truth = [5.0, 400.0, 3e-7, 0.88]
    text = "R0-p(R1,CPE1)"
    z = Circuit(text).impedance(FREQ, truth)
    rng = np.random.default_rng(8)
    z = z * (1 + 0.005 * (rng.standard_normal(FREQ.size) + 1j * rng.standard_normal(FREQ.size)))
    cc = CustomCircuit(text, initial_guess=[300.0, 1e-6, 0.8], constants={"R0": 5.0})
    cc.fit(FREQ, z)
    model = from_impedance(cc)
    np.testing.assert_allclose(model.impedance(FREQ), _predict(cc), rtol=1e-9, atol=0)
    result = model.fit(Spectrum(FREQ, z))
    assert result.values["R0"] == 5.0 and not result.records["R0"].vary
    np.testing.assert_allclose([result.values[n] for n in ("R1", "CPE1_0", "CPE1_1")],
                               truth[1:], rtol=0.03)


def test_fit_result_to_impedance_round_trip():
    truth = [3.0, 800.0, 5e-10, 0.9, 2e-6, 0.8]
    text = "R0-p(R1,CPE1)-CPE2"
    z = Circuit(text).impedance(FREQ, truth)
    r = eisfit.fit(Spectrum(FREQ, z), text, fixed={"CPE2_1": 0.8})
    cc = r.to_impedance()
    assert cc.circuit == text and cc.constants == {"CPE2_1": 0.8}
    assert list(cc.parameters_) == [r.values[n] for n in r.values if n != "CPE2_1"]
    assert list(cc.initial_guess) == list(cc.parameters_)
    np.testing.assert_allclose(_predict(cc), r.impedance(FREQ), rtol=1e-9, atol=0)
    back = from_impedance(cc)
    assert back.parameters == r.values and back.fixed == {"CPE2_1"}


@pytest.mark.parametrize(("text", "values", "constants"), MODELS)
def test_imported_model_to_impedance_predicts_the_same(text, values, constants):
    model = ImportedModel(Circuit(text), tuple(values), frozenset(constants))
    cc = model.to_impedance()
    assert cc.parameters_ is None  # not a fit: values as initial_guess only
    np.testing.assert_allclose(_predict(cc), model.impedance(FREQ), rtol=1e-9, atol=0)


def test_export_refuses_what_impedance_py_would_read_otherwise():
    model = ImportedModel(Circuit("R_s-p(R1,C1)"), (1.0, 10.0, 1e-6))
    with pytest.raises(InteropError, match="impedance.py would read element 'R_s' as 'Rs'"):
        model.to_impedance()
    eisfit.define_element("Xq", lambda p, w: p[0] / (1 + 1j * w * p[1]), parameters=["R", "tau"],
                          units=["Ohm", "s"])
    try:
        with pytest.raises(InteropError, match=r"element Xq1 \(Xq\) has no impedance.py"):
            ImportedModel(Circuit("R0-Xq1"), (1.0, 10.0, 1e-3)).to_impedance()
    finally:
        eisfit.remove_element("Xq")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not an impedance.py model file"),
        ('{"Name": "x"}', "no 'Circuit String'"),
        (json.dumps({"Name": None, "Circuit String": "R0-p(R1,C1)", "Initial Guess": [1, 2],
                     "Constants": {}, "Fit": False}), "2 values and 0 constants for the 3"),
        (json.dumps({"Name": None, "Circuit String": "R0-C1", "Initial Guess": [1],
                     "Constants": {"C9": 1e-6}, "Fit": False}), "constants C9 are not"),
    ],
)
def test_bad_model_files_are_refused_on_one_line(tmp_path, content, message):
    path = tmp_path / "model.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InteropError, match=message) as info:
        from_impedance(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_unknown_elements_and_objects_are_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"Name": None, "Circuit String": "R0-Q1", "Initial Guess": [1, 2],
                                "Constants": {}, "Fit": False}))
    with pytest.raises(InteropError, match="model.json: circuit 'R0-Q1', character 4: unknown"):
        from_impedance(path)
    with pytest.raises(InteropError, match="got dict"):
        from_impedance({"circuit": "R0"})
