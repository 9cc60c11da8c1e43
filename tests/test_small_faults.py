"""Small faults at the edges: circuit strings nested too deep or too long, all-zero spectra,
numpy reprs in messages, wrong argument types, 2-D arrays, wrong-length starts, and CSV cells
a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import time
import warnings

import lmfit
import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.exceptions import (
    CircuitSyntaxError,
    EisfitError,
    FitError,
    GeometryError,
    ReaderError,
    SpectrumError,
)
from eisfit.io.normalise import make_spectrum
from eisfit.model import circuit as circuit_module
from eisfit.model.circuit import MAX_DEPTH, Circuit
from eisfit.series.temperature import Series

FREQ = np.logspace(5, -1, 31)
TRUE = [10.0, 1000.0, 1e-6, 0.9]  # R0-p(R1,CPE1): 10 Ohm, 1 kOhm, 1 uF s^(n-1), n = 0.9


def _nested(depth: int) -> str:
    """``p(R0,p(R1,...p(R{depth-1},R_end)...))``: ``depth`` resistors in parallel with R_end."""
    return "".join(f"p(R{i}," for i in range(depth)) + "R_end" + ")" * depth


def _write_spectrum(path, f, z):
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    rows += [f"{a:.10e},{b.real:.10e},{-b.imag:.10e}" for a, b in zip(f, z, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def cell_file(tmp_path):
    z = Circuit("R0-p(R1,CPE1)").impedance(FREQ, TRUE)
    return _write_spectrum(tmp_path / "cell_25C.csv", FREQ, z)


@pytest.fixture(scope="module")
def spectrum():
    z = Circuit("R0-p(R1,CPE1)").impedance(FREQ, TRUE)
    return eisfit.Spectrum(FREQ, z, {"source": "cell_25C.csv"})


# --------------------------------------------------------------------------- circuit strings
def test_a_circuit_nested_1000_deep_is_refused_quickly_naming_the_character():
    text = _nested(1000)
    t0 = time.perf_counter()
    with pytest.raises(CircuitSyntaxError, match=f"nested more than {MAX_DEPTH} deep") as info:
        Circuit(text)
    assert time.perf_counter() - t0 < 1.0
    assert isinstance(info.value, EisfitError)
    # the p of the level one too deep: each level "p(Rk," is 5 or 6 characters
    assert info.value.position == text.index(f"p(R{MAX_DEPTH},")
    message = str(info.value)
    assert f"character {info.value.position + 1}" in message
    assert "\n" not in message and len(message) < 300


def test_nesting_up_to_the_limit_parses_and_evaluates():
    c = Circuit(_nested(MAX_DEPTH))
    # MAX_DEPTH + 1 resistors of 10 Ohm in parallel
    z = c.impedance([1.0, 1e3], np.full(c.n_params, 10.0))
    np.testing.assert_allclose(z, 10.0 / (MAX_DEPTH + 1), rtol=1e-12)


def test_eisfit_fit_with_a_deep_circuit_is_one_line_and_exit_2(cell_file, capsys):
    code = main(["fit", str(cell_file), "--circuit", _nested(1000)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("eisfit: error: circuit ") and "nested more than" in err
    assert err.count("\n") == 1 and "Traceback" not in err and len(err) < 400


def test_eisfit_batch_with_a_deep_circuit_fails_once_not_per_file(cell_file, capsys):
    code = main(["batch", str(cell_file), "--circuit", _nested(1000), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "nested more than" in captured.err and captured.err.count("\n") == 1


def test_a_300k_character_circuit_is_refused_in_well_under_a_second():
    text = "R" + "1" * 300_000
    t0 = time.perf_counter()
    with pytest.raises(CircuitSyntaxError, match="300001 characters long") as info:
        Circuit(text)
    assert time.perf_counter() - t0 < 0.5
    assert len(str(info.value)) < 300  # the message quotes an excerpt, not the whole string


def test_the_element_name_scan_is_linear(monkeypatch):
    monkeypatch.setattr(circuit_module, "MAX_LENGTH", 10**6)
    word = "R" + "1" * 300_000
    t0 = time.perf_counter()
    c = Circuit(word)
    assert time.perf_counter() - t0 < 1.0
    assert c.parameter_names == [word]
    with pytest.raises(CircuitSyntaxError, match="unknown element 'Xaaaa") as info:
        Circuit("X" + "a" * 300_000)
    assert len(str(info.value)) < 400


# --------------------------------------------------------------------------- all-zero Z
def test_an_all_zero_spectrum_is_refused_naming_the_source():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SpectrumError, match=r"^zero\.csv: Z is 0 Ohm at every point"):
            eisfit.Spectrum(FREQ, np.zeros(FREQ.size), {"source": "zero.csv"})
        with pytest.raises(SpectrumError, match=r"z\[2\] is 0 Ohm"):
            eisfit.Spectrum([3.0, 2.0, 1.0], [1.0, 2.0, 0.0])


def test_eisfit_fit_on_an_all_zero_file_names_it_without_a_numpy_warning(tmp_path, capsys):
    path = _write_spectrum(tmp_path / "zero.csv", FREQ, np.zeros(FREQ.size, complex))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["fit", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert err.count("\n") == 1 and err.count(str(path)) == 1
    assert "Z is 0 Ohm at every point" in err


# --------------------------------------------------------------------------- numbers in messages
def test_reader_messages_show_numbers_not_numpy_reprs():
    f = np.array([1e3, -1e6, 10.0])
    z = np.array([10 - 1j, 10 - 2j, 10 - 3j])
    with pytest.raises(ReaderError) as info:
        make_spectrum("neg.csv", f, z, {}, lines=[2, 3, 4])
    message = str(info.value)
    assert "np.float64" not in message and "np.complex128" not in message
    assert message.startswith("neg.csv, line 3: point 1: frequency -1e+06 Hz, Z 10-2j Ohm")


def test_geometry_messages_show_numbers_not_numpy_reprs():
    with pytest.raises(GeometryError, match=r"^thickness -1e\+06 is a bare number"):
        eisfit.Geometry(thickness=np.float64(-1e6), area="1 cm2")
    g = eisfit.Geometry("1 mm", area="1 cm2")
    with pytest.raises(GeometryError, match="positive integer, got 2.5$"):
        g.asr(10.0, interfaces=np.float64(2.5))


def test_a_numpy_spectrum_index_is_taken_and_a_float_named_as_a_number(cell_file):
    assert len(eisfit.read(cell_file, spectrum=np.int64(0))) == FREQ.size
    with pytest.raises(ReaderError, match=r"integer index, got 0 \(float64\)$"):
        eisfit.read(cell_file, spectrum=np.float64(0.0))


# --------------------------------------------------------------------------- argument types
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, p: eisfit.read(p, format=123), "format must be a format name"),
        (lambda s, p: eisfit.read(None), "path must be a string or a pathlib.Path"),
        (lambda s, p: eisfit.read_all(p, format=b"csv"), "format must be"),
        (lambda s, p: eisfit.fit(s, "R0-p(R1,CPE1)", params={"R0": 1}), "lmfit.Parameters"),
        (lambda s, p: eisfit.fit(s, external_resistance="x"), "number in Ohm, got str"),
        (lambda s, p: eisfit.fit(s, "auto", external_resistance="x"), "number in Ohm"),
        (lambda s, p: eisfit.fit(s, 123), "circuit must be a name"),
        (lambda s, p: eisfit.fit(s, weighting=["unit"]), "weighting must be"),
        (lambda s, p: eisfit.fit(s, "R0-p(R1,CPE1)", fixed={"R0": "1"}), r"fixed\['R0'\]"),
        (lambda s, p: eisfit.fit(s, "R0-p(R1,CPE1)", starts=np.ones(4)), "starts=\\[x\\]"),
        (lambda s, p: eisfit.fit_stack(s), "fit_stack takes a list of spectra"),
        (lambda s, p: eisfit.fit_stack([s], external_resistance="x"), "number in Ohm"),
        (lambda s, p: eisfit.fit_series([s], external_resistance=None), "number in Ohm"),
        (lambda s, p: eisfit.fit_series(42), "paths_or_spectra must be"),
        (lambda s, p: Circuit(42), "circuit must be given as a string"),
    ],
)
def test_wrong_argument_types_are_one_line_eisfit_errors(spectrum, cell_file, call, message):
    with pytest.raises(EisfitError, match=message) as info:
        call(spectrum, cell_file)
    assert isinstance(info.value, TypeError)  # what a wrong type raised before
    assert "\n" not in str(info.value)


def test_a_fit_with_lmfit_parameters_still_works(spectrum):
    params = lmfit.Parameters()
    for name, value in zip(["R0", "R1", "CPE1_0", "CPE1_1"], TRUE, strict=True):
        params.add(name, value=value * 1.3 if name != "CPE1_1" else 0.85)
    r = eisfit.fit(spectrum, "R0-p(R1,CPE1)", params=params, fixed=None)
    assert r.values["R1"] == pytest.approx(1000.0, rel=1e-4)


# --------------------------------------------------------------------------- 2-D arrays
def test_two_dimensional_arrays_are_refused_not_flattened():
    z = Circuit("R0-p(R1,CPE1)").impedance(FREQ[:10], TRUE)
    with pytest.raises(SpectrumError, match=r"frequency must be one-dimensional.*\(2, 5\)"):
        eisfit.Spectrum(FREQ[:10].reshape(2, 5), z.reshape(2, 5))
    with pytest.raises(SpectrumError, match=r"z must be one-dimensional.*\(10, 2\)"):
        eisfit.Spectrum(FREQ[:10], np.column_stack([z.real, z.imag]))
    column = eisfit.Spectrum(FREQ[:10].reshape(-1, 1), z.reshape(-1, 1))  # one column is fine
    np.testing.assert_array_equal(column.frequency, FREQ[:10])
    np.testing.assert_array_equal(column.z, z)


# --------------------------------------------------------------------------- starts
def test_starts_of_the_wrong_length_are_an_error_naming_both_lengths(spectrum):
    with pytest.raises(FitError, match=r"starts\[1\] has 3 values; .* takes 4 \(R0, R1, "):
        eisfit.fit(spectrum, "R0-p(R1,CPE1)", starts=[TRUE, TRUE[:3]])
    r = eisfit.fit(spectrum, "R0-p(R1,CPE1)", starts=[TRUE])  # the right length is used
    assert r.values["R1"] == pytest.approx(1000.0, rel=1e-4)


# --------------------------------------------------------------------------- CSV injection
def test_csv_text_cells_that_start_a_formula_are_quoted_numbers_stay(spectrum, tmp_path):
    r = eisfit.fit(spectrum, "R0-p(R1,CPE1)")
    labels = ["=HYPERLINK(\"http://x\")_25C.csv", "-10C.csv", "@SUM(A1)", "+1.csv", "plain.csv"]
    temps = [250.0, 263.15, 280.0, 290.0, 300.0]
    series = Series([r] * 5, temps, labels)
    path = series.to_csv(tmp_path / "results.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["file"] for row in rows] == [
        "'=HYPERLINK(\"http://x\")_25C.csv",
        "'-10C.csv",
        "'@SUM(A1)",
        "'+1.csv",
        "plain.csv",
    ]
    # numbers are written as numbers, negative ones included
    assert float(rows[0]["T_C"]) == pytest.approx(-23.15)
    assert rows[0]["T_C"].startswith("-")
    assert float(rows[0]["chi_square"]) == pytest.approx(r.chi_square, rel=1e-12)
    # the frame itself keeps the labels as they are
    assert series.to_frame()["file"].tolist() == labels
