"""The warnings of an Arrhenius fit are findings: a code and the numbers behind the text."""

from __future__ import annotations

import numpy as np
import pytest

from eisfit.analysis.activation import K_B_EV, arrhenius
from eisfit.findings import as_finding


def _codes(result) -> dict[str, object]:
    return {as_finding(w).code: w for w in result.warnings}


def test_a_negative_ea_is_a_finding_with_its_value():
    t = np.array([300.0, 320.0, 340.0, 360.0])
    sigma = 1e-3 * np.exp(0.3 / (K_B_EV * t))  # falls as T rises: the values the wrong way
    r = arrhenius(t, sigma, form="ln(sigma)")
    f = _codes(r)["negative_ea"]
    assert f.numbers["Ea_eV"] == pytest.approx(r.Ea_eV) and r.Ea_eV == pytest.approx(-0.3)
    assert r.to_dict()["findings"][-1]["code"] == "negative_ea"


def test_repeated_temperatures_and_an_exact_line():
    r = arrhenius([300.0, 300.0, 350.0], [1e-4, 1.1e-4, 1e-3])
    f = _codes(r)["repeated_temperature"]
    assert f.severity == "note" and f.numbers == {"temperature_K": 300.0, "count": 2.0}
    two = arrhenius([300.0, 350.0], [1e-4, 1e-3], min_points=2)
    assert _codes(two)["exact_line"].numbers == {"n": 2.0}


def test_a_curved_series_is_a_finding_with_its_p_value():
    t = np.linspace(250.0, 450.0, 12)
    # two processes: the slope changes at 350 K
    ea = np.where(t < 350.0, 0.6, 0.2)
    sigma = np.exp(-ea / (K_B_EV * t) + np.where(t < 350.0, 0.0, (0.2 - 0.6) / (K_B_EV * 350.0)))
    r = arrhenius(t, sigma, form="ln(sigma)")
    f = _codes(r)["curved"]
    assert f.numbers["p"] < 0.01
    assert f.numbers["T_min_K"] == 250.0 and f.numbers["T_max_K"] == 450.0
