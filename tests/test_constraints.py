"""Constraints between parameters (eisfit.fitting.constraints): ties, inequalities, expressions,
their
errors and degrees of freedom, both engines, lmfit Parameters and ``eisfit fit --constrain``."""

from __future__ import annotations

import json

import lmfit
import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.fitting.constraints import ConstraintError
from eisfit.io.spectrum import Spectrum
from eisfit.kernels import compiled
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies

BLOCKING = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


def _spectrum(params: list[float], circuit: str = BLOCKING, seed: int = 3) -> Spectrum:
    """1 % noise on ``circuit`` at ``params``, 1 MHz to 0.1 Hz, 10 points a decade."""
    f = frequencies(1e6, 0.1, 10)
    z = Circuit(circuit).impedance(f, np.array(params, float))
    return Spectrum(f, add_noise(z, 0.01, np.random.default_rng(seed)))


#: A blocking cell whose two arcs share the CPE exponent 0.9 (both apexes inside the window).
TRUTH = [
    100.0, 2e4, arc_q(2e4, 2e-11, 0.9), 0.9, 5e4, arc_q(5e4, 5e-9, 0.9), 0.9, 1e-6, 0.85,
]


@pytest.fixture(scope="module")
def tied_data() -> Spectrum:
    return _spectrum(TRUTH)


@pytest.fixture(scope="module")
def free_fit(tied_data):
    return eisfit.fit(tied_data, "blocking")


@pytest.fixture(scope="module")
def tied_fit(tied_data):
    return eisfit.fit(tied_data, "blocking", constraints={"CPE2_1": "CPE1_1"})


def test_a_tie_holds_exactly_and_frees_one_parameter_less(free_fit, tied_fit):
    v = tied_fit.values
    assert v["CPE2_1"] == v["CPE1_1"]
    assert tied_fit.n_free == free_fit.n_free - 1 == 8
    # the reduced χ² counts the tie: chisqr / (2N - 8)
    n = 2 * len(tied_fit.spectrum)
    assert tied_fit.chi_square == pytest.approx(tied_fit.chisqr / (n - 8), rel=1e-12)
    assert any(w.startswith("constrained: CPE2_1 = CPE1_1") for w in tied_fit.warnings)


def test_a_true_tie_recovers_the_truth_within_noise_of_the_free_fit(free_fit, tied_fit):
    v, e = tied_fit.values, tied_fit.stderr
    names = Circuit(BLOCKING).parameter_names
    for name in ("R1", "R2", "CPE1_1", "CPE3_0", "CPE3_1"):
        truth = TRUTH[names.index(name)]
        assert abs(v[name] - truth) < 3 * e[name] + 1e-3 * truth, name
    # one constraint that the data obey costs about one unit of the noise variance (χ²(1))
    extra = (tied_fit.chisqr - free_fit.chisqr) / free_fit.chi_square
    assert -1e-6 < extra < 9.0
    # the shared exponent is better determined than either free one
    assert e["CPE1_1"] < min(free_fit.stderr["CPE1_1"], free_fit.stderr["CPE2_1"])


def test_tied_parameters_carry_the_error_of_their_source(tied_fit):
    e = tied_fit.stderr
    assert e["CPE2_1"] == pytest.approx(e["CPE1_1"], rel=1e-9)
    u = tied_fit.uvars
    assert (u["CPE2_1"] - u["CPE1_1"]).std_dev == pytest.approx(0.0, abs=1e-9)
    # the constraint's correlation (+1) is not reported as the data's
    assert not any("CPE1_1 and CPE2_1 are correlated" in w for w in tied_fit.warnings)


def test_an_expression_holds_and_scales_the_error(tied_data):
    r = eisfit.fit(tied_data, "blocking", constraints=["CPE1_1 = 0.95*CPE2_1"])
    v, e = r.values, r.stderr
    assert v["CPE1_1"] == pytest.approx(0.95 * v["CPE2_1"], rel=1e-15)
    assert e["CPE1_1"] == pytest.approx(0.95 * e["CPE2_1"], rel=1e-9)


#: Series resistance 800 Ohm above an arc of 300 Ohm: the free fit has R1 < R0.
LOW_ARC = [800.0, 300.0, arc_q(300.0, 1e-7, 0.9), 0.9, 1e-5, 0.8]


def test_an_inequality_holds_where_the_free_optimum_breaks_it():
    s = _spectrum(LOW_ARC, "R0-p(R1,CPE1)-CPE2", seed=5)
    free = eisfit.fit(s, "R0-p(R1,CPE1)-CPE2")
    assert free.values["R1"] < free.values["R0"] - 100  # the data break R1 > R0
    r = eisfit.fit(s, "R0-p(R1,CPE1)-CPE2", constraints=["R1 > R0"])
    assert r.values["R1"] >= r.values["R0"]
    assert r.chisqr > free.chisqr  # the constraint costs the fit
    assert r.n_free == free.n_free  # R1 became R0 + delta_R1: the helper is the free one
    # the lmfit idiom with a helper parameter gives the same fit
    pars = lmfit.Parameters()
    pars.add("R0")  # no starting value: the automatic ones
    pars.add("delta", value=1.0, min=0)
    pars.add("R1", expr="R0 + delta")
    lm = eisfit.fit(s, "R0-p(R1,CPE1)-CPE2", params=pars)
    assert lm.values["R1"] >= lm.values["R0"]
    assert lm.chisqr == pytest.approx(r.chisqr, rel=1e-6)


def test_lmfit_expr_equals_the_constraints_mapping(tied_data, tied_fit):
    pars = lmfit.Parameters()
    pars.add("CPE1_1", value=0.8, min=0.3, max=1.0)
    pars.add("CPE2_1", expr="CPE1_1")
    r = eisfit.fit(tied_data, "blocking", params=pars)
    assert r.values["CPE2_1"] == r.values["CPE1_1"]
    assert r.chisqr == pytest.approx(tied_fit.chisqr, rel=1e-6)


def test_both_engines_give_one_constrained_fit(tied_data):
    got = {}
    for on in (True, False):
        with compiled.use(on):
            got[on] = eisfit.fit(tied_data, "blocking", constraints={"CPE1_1": "0.9*CPE2_1"})
    assert got[True].values == got[False].values
    assert got[True].stderr == got[False].stderr
    if compiled.enabled():
        assert any("numpy engine" in w for w in got[True].warnings)


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ({"CPE9_1": "CPE1_1"}, "CPE9_1 is not a parameter"),
        ({"CPE2_1": "CPE1_1 + foo"}, "foo is not a parameter"),
        (["CPE2_1 = __import__('os')"], "may call only"),
        (["R1 ~ R2"], "expected NAME = EXPRESSION"),
        ({"R1": "R2", "R2": "R1"}, "refer to each other"),
    ],
)
def test_constraint_mistakes_are_one_line_errors(tied_data, constraints, message):
    with pytest.raises(ConstraintError, match=message) as info:
        eisfit.fit(tied_data, "blocking", constraints=constraints)
    assert "\n" not in str(info.value)
    if "not a parameter" in message:
        assert "its parameters are R0, R1, CPE1_0, CPE1_1, R2" in str(info.value)


def test_fixed_and_constrained_is_refused(tied_data):
    with pytest.raises(ConstraintError, match="both fixed and constrained"):
        eisfit.fit(tied_data, "blocking", constraints={"R0": "R1"}, fixed={"R0": 10.0})


def test_cli_constrain_end_to_end(tied_data, tmp_path, capsys):
    path = tmp_path / "cell.csv"
    rows = np.column_stack([tied_data.frequency, tied_data.z.real, tied_data.z.imag])
    np.savetxt(path, rows, delimiter=",", header="freq/Hz,Re(Z)/Ohm,Im(Z)/Ohm", comments="")
    code = main(["fit", str(path), "--json", "--no-kk", "--constrain", "CPE2_1=CPE1_1",
                 "--constrain", "R2 > R1"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    p = out["parameters"]
    value = {k: (v["value"] if isinstance(v, dict) else v) for k, v in p.items()}
    assert value["CPE2_1"] == value["CPE1_1"]
    assert value["R2"] >= value["R1"]
    assert main(["fit", str(path), "--constrain", "CPE7_1=CPE1_1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "CPE7_1 is not a parameter" in err and "\n" not in err


def test_batch_constrain_fits_every_spectrum_under_the_constraint(tmp_path, capsys):
    for k, t in enumerate((25, 60)):
        s = _spectrum(TRUTH, seed=10 + k)
        rows = np.column_stack([s.frequency, s.z.real, s.z.imag])
        np.savetxt(tmp_path / f"cell_{t}C.csv", rows, delimiter=",",
                   header="freq/Hz,Re(Z)/Ohm,Im(Z)/Ohm", comments="")
    code = main(["batch", str(tmp_path), "--json", "--no-kk", "--constrain", "CPE2_1=CPE1_1"])
    assert code == 0
    spectra = json.loads(capsys.readouterr().out)["spectra"]
    assert len(spectra) == 2
    for sp in spectra:
        p = sp["parameters"]
        assert p["CPE2_1"]["value"] == p["CPE1_1"]["value"]
        assert p["CPE2_1"]["stderr"] == pytest.approx(p["CPE1_1"]["stderr"], rel=1e-9)
    assert main(["batch", str(tmp_path), "--constrain", "R2 = R1 + bad"]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad is not a parameter" in err and "\n" not in err
