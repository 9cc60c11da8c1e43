"""Fixtures shared by test modules: the bundled example data, fitted once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import eisfit
from eisfit.series.temperature import fit_series

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


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared folder of real instrument files (``$EISFIT_CORPUS`` or
    ``<checkout>/../shared/eis-corpus``); the test skips when it is absent, and fails instead
    under ``EISFIT_REQUIRE_CORPUS=1``."""
    env = os.environ.get("EISFIT_CORPUS")
    p = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "eis-corpus"
    if not p.is_dir():
        if os.environ.get("EISFIT_REQUIRE_CORPUS") == "1":
            pytest.fail(f"EISFIT_REQUIRE_CORPUS=1 but the EIS corpus was not found at {p}")
        pytest.skip(f"EIS corpus not found at {p}: set EISFIT_CORPUS to the shared eis-corpus")
    return p
