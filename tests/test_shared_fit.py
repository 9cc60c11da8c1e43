"""Multi-spectrum fits with shared parameters (eisfit.fit_shared): synthetic spectra with one
known electrode CPE and different resistances, and spectra that truly differ in it."""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.fitting.shared_fit import SharedFitError
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies

CIRCUIT = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
Q3, N3 = 1e-6, 0.85  # the electrode CPE of every spectrum


def _truth(k: int, q3: float = Q3) -> list[float]:
    """Spectrum k of a series: resistances growing 1.6x and 1.5x a step, one electrode."""
    r1, r2 = 2e4 * 1.6**k, 5e4 * 1.5**k
    return [100.0, r1, arc_q(r1, 2e-11, 0.9), 0.9, r2, arc_q(r2, 5e-9, 0.85), 0.85, q3, N3]


def _spectra(q3s: list[float], seed: int) -> list[Spectrum]:
    rng = np.random.default_rng(seed)
    f = frequencies(1e6, 0.1, 10)
    out = []
    for k, q3 in enumerate(q3s):
        z = CIRCUIT.impedance(f, np.array(_truth(k, q3)))
        out.append(Spectrum(f, add_noise(z, 0.01, rng), {"label": f"cell {k}"}))
    return out


@pytest.fixture(scope="module")
def common():
    spectra = _spectra([Q3] * 5, seed=7)
    return spectra, eisfit.fit_shared(spectra, "blocking", shared=["CPE3_0", "CPE3_1"])


def test_shared_electrode_is_recovered_more_precisely_than_by_any_single_fit(common):
    _, sf = common
    assert sf.values["CPE3_0"] == pytest.approx(Q3, rel=0.01)
    assert abs(sf.values["CPE3_0"] - Q3) < 3 * sf.stderr["CPE3_0"]
    assert abs(sf.values["CPE3_1"] - N3) < 3 * sf.stderr["CPE3_1"]
    for name in ("CPE3_0", "CPE3_1"):
        singles = [r.stderr[name] for r in sf.independent]
        assert sf.stderr[name] < min(singles), name
    # every spectrum's result holds the shared values, with the shared errors
    for r in sf.results:
        assert r.values["CPE3_0"] == sf.values["CPE3_0"]
        assert r.stderr["CPE3_0"] == pytest.approx(sf.stderr["CPE3_0"], rel=1e-12)


def test_per_spectrum_resistances_are_recovered(common):
    _, sf = common
    names = CIRCUIT.parameter_names
    for k, r in enumerate(sf.results):
        truth = _truth(k)
        for name in ("R1", "R2"):
            t = truth[names.index(name)]
            assert r.values[name] == pytest.approx(t, rel=0.02), (k, name)
            assert abs(r.values[name] - t) < 4 * r.stderr[name], (k, name)
        assert r.resistances["bulk"] == pytest.approx(truth[1], rel=0.02)


def test_true_sharing_is_supported(common):
    _, sf = common
    assert sf.supported and sf.p_value > 0.05
    assert sf.delta_bic < 0
    # the joint fit has 2·(K − 1) parameters fewer than the independent ones
    assert sf.n_params == 5 * 9 - 2 * 4
    assert sf.chisqr >= sf.independent_chisqr * (1 - 1e-9)
    assert "supported by the data" in sf.verdict
    d = sf.to_dict()
    assert d["supported"] is True and len(d["spectra"]) == 5
    assert "CPE3_0" in sf.report()


def test_spectra_that_differ_in_the_shared_parameter_are_not_supported():
    spectra = _spectra([Q3 * 1.3**k for k in range(4)], seed=11)
    sf = eisfit.fit_shared(spectra, "blocking", shared=["CPE3_0", "CPE3_1"])
    assert not sf.supported
    assert sf.p_value < 1e-6 and sf.delta_aic > 0
    assert "not supported" in sf.verdict


def test_reuses_given_independent_fits(common):
    spectra, sf = common
    again = eisfit.fit_shared(
        spectra, "blocking", shared=["CPE3_0", "CPE3_1"], independent=sf.independent
    )
    assert again.values["CPE3_0"] == pytest.approx(sf.values["CPE3_0"], rel=1e-8)


def test_mistakes_are_one_line_errors(common):
    spectra, _ = common
    with pytest.raises(SharedFitError, match="CPE7_0 is not in circuit") as info:
        eisfit.fit_shared(spectra, "blocking", shared=["CPE7_0"])
    assert "its parameters are R0, R1" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SharedFitError, match="at least 2 spectra"):
        eisfit.fit_shared(spectra[:1], "blocking", shared=["CPE3_0"])
