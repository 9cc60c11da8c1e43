"""Fixtures shared by test modules: the bundled example data, fitted once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

import eisfit
from eisfit.series import fit_series

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def series():
    """The LATP-like example series (1 mm × 10 mm, 1.5 Ohm of leads), fitted."""
    geometry = eisfit.Geometry(thickness="1 mm", diameter="10 mm")
    return fit_series(DATA / "latp_pellet", geometry=geometry, external_resistance=1.5)


@pytest.fixture(scope="session")
def full():
    """The example Li|SSE|LFP full cell at 25 °C, fitted with the full-cell circuit."""
    return eisfit.fit(eisfit.read(DATA / "full_cell" / "Li_SSE_LFP_25C.csv"), "full-cell")
