"""Bruce–Vincent transference number from fits of Li-symmetric spectra with known interfaces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from uncertainties import UFloat

import eisfit
from eisfit.analysis.activation import ArrheniusError
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies

LI_SYM = "R0-p(R1,CPE1)-p(R2,CPE2)"
DELTA_V = 0.050  # V (one published cell gives t+ ~0.7 with 50 mV)
I0, IS = 100e-6, 72e-6  # A, initial and steady-state current
R0_INT, RS_INT = 100.0, 130.0  # Ohm, both Li|SSE interfaces of the cell together


def expected_t() -> float:
    """t+ written out by hand from the Bruce–Vincent formula."""
    return IS * (DELTA_V - I0 * R0_INT) / (I0 * (DELTA_V - IS * RS_INT))


def li_symmetric(r_int: float, seed: int) -> Spectrum:
    """Li|SSE|Li: 2 Ohm leads, bulk 150 Ohm at 5 pF (apex 200 MHz, above the window: the
    high-frequency intercept), the two interfaces' charge-transfer arc at 1 uF (~1 kHz)."""
    f = frequencies(7e6, 0.1, 10)
    p = [2.0, 150.0, arc_q(150.0, 5e-12, 0.95), 0.95, r_int, arc_q(r_int, 1e-6, 0.85), 0.85]
    z = add_noise(Circuit(LI_SYM).impedance(f, p), 0.005, np.random.default_rng(seed))
    return Spectrum(f, z, {"source": f"LiLi_{'before' if seed == 1 else 'after'}.csv"})


@pytest.fixture(scope="module")
def fits():
    before = eisfit.fit(li_symmetric(R0_INT, 1), "li-symmetric")
    after = eisfit.fit(li_symmetric(RS_INT, 2), "li-symmetric")
    return before, after


def test_the_case_reproduces_the_published_value():
    # the chosen currents and resistances give the ~0.7 reported with 50 mV
    assert expected_t() == pytest.approx(0.7, abs=0.02)


def test_transference_number_from_fits(fits):
    before, after = fits
    assert before.resistances["interface"] == pytest.approx(R0_INT, rel=0.02)
    assert after.resistances["interface"] == pytest.approx(RS_INT, rel=0.02)
    t = eisfit.transference_number(DELTA_V, I0, IS, R0=before, Rs=after)
    assert isinstance(t, UFloat)
    print(f"\nBruce-Vincent from two fitted Li|SSE|Li spectra: t+ = {t:.3uP} "
          f"(exact {expected_t():.4f})")
    assert t.nominal_value == pytest.approx(expected_t(), abs=0.005)
    # the fits' standard errors propagate, and cover the exact value
    assert 0 < t.std_dev < 0.01
    assert abs(t.nominal_value - expected_t()) < 3 * t.std_dev + 1e-4
    # the same as passing the fitted resistances of the whole cell (both interfaces) by hand;
    # not the ASR of one interface (FitResult.asr), which is R_int * A / 2
    by_hand = eisfit.transference_number(
        DELTA_V, I0, IS, before.resistance_uvars["interface"], after.resistance_uvars["interface"]
    )
    assert by_hand.nominal_value == pytest.approx(t.nominal_value, rel=1e-12)


def test_role_argument_and_missing_role(fits):
    before, after = fits
    # role= picks another resistance: the bulk, by hand
    rb0, rbs = before.resistances["bulk"], after.resistances["bulk"]
    t_bulk = eisfit.transference_number(1.0, I0, IS, R0=before, Rs=after, role="bulk")
    assert t_bulk.nominal_value == pytest.approx(
        IS * (1.0 - I0 * rb0) / (I0 * (1.0 - IS * rbs)), rel=1e-9
    )
    blocking = eisfit.fit(li_symmetric(R0_INT, 1), "R0-p(R1,CPE1)-p(R2,CPE2)")
    with pytest.raises(ArrheniusError, match=r"R0: the fit of LiLi_before.csv has no 'interface'"):
        eisfit.transference_number(DELTA_V, I0, IS, R0=blocking, Rs=after)
    with pytest.raises(ArrheniusError, match="role must be a resistance role name"):
        eisfit.transference_number(DELTA_V, I0, IS, R0=before, Rs=after, role=None)
    with pytest.raises(ArrheniusError, match=r"R0 must be a number .* got str"):
        eisfit.transference_number(DELTA_V, I0, IS, "100 Ohm", 130.0)
    assert math.isfinite(eisfit.transference_number(DELTA_V, I0, IS, 100.0, after).nominal_value)
