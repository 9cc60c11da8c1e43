"""Open/short fixture compensation and the lead model (eisfit.analysis.fixture), against a fixture
whose
residual impedance and stray admittance are known analytically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.analysis.fixture import Fixture, FixtureError, correct_fixture, fit_leads
from eisfit.cli import main as cli
from eisfit.model.synthetic import add_noise, arc_q, frequencies

# the known fixture: series leads, then a stray capacitance and leakage across the cell
R_LEAD = 0.5  # Ohm
L_LEAD = 50e-9  # H
C_STRAY = 2e-12  # F
G_STRAY = 1e-6  # S

# a sulfide-like blocking cell: bulk arc far above the window, grain boundary at ~200 kHz
R_BULK, C_BULK, N_BULK = 20.0, 1e-11, 0.95
R_GB, C_GB, N_GB = 15.0, 5e-8, 0.9
Q_EL, N_EL = 5e-6, 0.9

LPSCL = "jdhuang-csm__hybrid-drt/tutorials__data__PEIS_LPSCl_IonBlocking_-25C.txt"


def _arc(w: np.ndarray, r: float, c: float, n: float) -> np.ndarray:
    return r / (1 + r * arc_q(r, c, n) * (1j * w) ** n)


def cell_z(f: np.ndarray) -> np.ndarray:
    """The true cell impedance (Ohm), written out (no eisfit circuit code)."""
    w = 2 * np.pi * f
    return (_arc(w, R_BULK, C_BULK, N_BULK) + _arc(w, R_GB, C_GB, N_GB)
            + 1 / (Q_EL * (1j * w) ** N_EL))


def lead_z(f: np.ndarray) -> np.ndarray:
    return R_LEAD + 2j * np.pi * f * L_LEAD


def stray_y(f: np.ndarray) -> np.ndarray:
    return G_STRAY + 2j * np.pi * f * C_STRAY


def measured(f: np.ndarray, z_dut: np.ndarray) -> np.ndarray:
    """What the analyser reads through the fixture: leads in series with (stray ‖ cell)."""
    return lead_z(f) + 1 / (stray_y(f) + 1 / z_dut)


def fixture_spectra(f: np.ndarray) -> tuple[eisfit.Spectrum, eisfit.Spectrum]:
    """The open (cell removed) and short (cell shorted) measurements of the same fixture."""
    open_ = eisfit.Spectrum(f, lead_z(f) + 1 / stray_y(f), {"source": "open.csv"})
    short = eisfit.Spectrum(f, lead_z(f), {"source": "short.csv"})
    return open_, short


def write_csv(path: Path, f: np.ndarray, z: np.ndarray) -> Path:
    rows = "\n".join(f"{a:.12e},{b.real:.12e},{-b.imag:.12e}" for a, b in zip(f, z, strict=True))
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + rows + "\n", encoding="utf-8")
    return path


def rel_error(z: np.ndarray, truth: np.ndarray) -> float:
    return float(np.max(np.abs(z - truth) / np.abs(truth)))


F = frequencies(7e6, 1, 10)


def test_open_short_recovers_the_cell_noise_free():
    open_, short = fixture_spectra(F)
    m = eisfit.Spectrum(F, measured(F, cell_z(F)), {"source": "cell.csv"})
    assert rel_error(m.z, cell_z(F)) > 0.05  # the fixture matters at the top of the window
    c = correct_fixture(m, Fixture.from_files(open=open_, short=short))
    assert rel_error(c.z, cell_z(F)) < 1e-9
    assert c.meta["fixture_correction"]["method"] == "open-short"
    assert c.meta["fixture_correction"]["open"] == "open.csv"
    assert c.meta["source"] == "cell.csv"
    assert "fixture_correction" not in m.meta  # the measured spectrum is left as it was


def test_open_only_and_short_only_are_exact_for_their_fixtures():
    z = cell_z(F)
    # leads alone: the short removes them exactly
    short = eisfit.Spectrum(F, lead_z(F))
    c = correct_fixture(eisfit.Spectrum(F, lead_z(F) + z), Fixture.from_files(short=short))
    assert rel_error(c.z, z) < 1e-12
    # stray admittance alone: the open removes it exactly
    open_ = eisfit.Spectrum(F, 1 / stray_y(F))
    c = correct_fixture(eisfit.Spectrum(F, 1 / (stray_y(F) + 1 / z)),
                        Fixture.from_files(open=open_))
    assert c.meta["fixture_correction"]["method"] == "open"
    assert rel_error(c.z, z) < 1e-9


def test_bulk_resistance_within_1_percent_with_noise_uncorrected_off():
    open_, short = fixture_spectra(F)
    fixture = Fixture.from_files(open=open_, short=short)
    rng = np.random.default_rng(1)
    m = eisfit.Spectrum(F, add_noise(measured(F, cell_z(F)), 0.01, rng), {"source": "cell.csv"})
    corrected = eisfit.fit(correct_fixture(m, fixture), "blocking")
    raw = eisfit.fit(m, "blocking")
    assert corrected.resistances["bulk"] == pytest.approx(R_BULK, rel=0.01)
    assert abs(raw.resistances["bulk"] / R_BULK - 1) > 0.03  # 0.5 Ohm of leads on 20 Ohm
    assert corrected.to_dict()["fixture_correction"]["method"] == "open-short"
    assert "open-short compensation (open open.csv, short short.csv)" in corrected.report()


def test_fixture_on_another_grid_is_interpolated_in_log_frequency():
    # fixture measured at 7 points a decade, 10 MHz-0.5 Hz; the cell at 10 a decade
    f_fix = frequencies(1e7, 0.5, 7)
    open_, short = fixture_spectra(f_fix)
    c = correct_fixture(eisfit.Spectrum(F, measured(F, cell_z(F))),
                        Fixture.from_files(open=open_, short=short))
    # the short R + jωL is linear in f, not log f: a small, bounded interpolation error
    assert rel_error(c.z, cell_z(F)) < 2e-3
    # a short measured on the cell's own grid, open on another: the short's part is exact
    open_f, _ = fixture_spectra(f_fix)
    _, short_f = fixture_spectra(F)
    fx = Fixture.from_files(open=open_f, short=short_f)
    assert np.allclose(fx.short_impedance(F), lead_z(F), rtol=0, atol=1e-15)
    # at the fixture's own frequencies the interpolation returns its values
    assert np.allclose(fx.open_admittance(f_fix[3:6]), stray_y(f_fix[3:6]), rtol=1e-12)


def test_spectrum_outside_the_fixture_range_is_refused_on_one_line():
    open_, short = fixture_spectra(frequencies(1e6, 1, 10))
    fx = Fixture.from_files(open=open_, short=short)
    m = eisfit.Spectrum(F, measured(F, cell_z(F)), {"source": "cell.csv"})
    with pytest.raises(FixtureError) as e:
        correct_fixture(m, fx)
    msg = str(e.value)
    assert "\n" not in msg and "cell.csv" in msg and "short.csv" in msg and "7e+06" in msg
    # within the 1 % tolerance it is accepted
    f = frequencies(1.005e6, 0.995, 10)
    assert len(correct_fixture(eisfit.Spectrum(f, measured(f, cell_z(f))), fx)) == len(f)


def test_lead_model_recovers_r_and_l_and_corrects_like_the_short():
    rng = np.random.default_rng(3)
    noisy = eisfit.Spectrum(F, add_noise(lead_z(F), 0.02, rng), {"source": "short.csv"})
    leads = fit_leads(noisy)
    assert leads.resistance == pytest.approx(R_LEAD, abs=3 * leads.resistance_stderr)
    assert leads.inductance == pytest.approx(L_LEAD, abs=3 * leads.inductance_stderr)
    assert 0 < leads.resistance_stderr < 0.02 and 0 < leads.inductance_stderr < 1e-9
    exact = fit_leads(eisfit.Spectrum(F, lead_z(F)))
    assert exact.resistance == pytest.approx(R_LEAD, rel=1e-12)
    assert exact.inductance == pytest.approx(L_LEAD, rel=1e-12)
    # the model in place of the noisy short: the cell comes back near the noise-free truth
    open_, _ = fixture_spectra(F)
    fx = Fixture.from_files(open=open_, short=noisy, leads_model=True)
    c = correct_fixture(eisfit.Spectrum(F, measured(F, cell_z(F))), fx)
    assert rel_error(c.z, cell_z(F)) < 0.01
    with_short = correct_fixture(eisfit.Spectrum(F, measured(F, cell_z(F))),
                                 Fixture.from_files(open=open_, short=noisy))
    assert rel_error(c.z, cell_z(F)) < rel_error(with_short.z, cell_z(F))
    record = c.meta["fixture_correction"]
    assert record["method"] == "open-short-leads-model"
    assert record["lead_inductance_H"] == pytest.approx(leads.inductance)


def test_refusals():
    _, short = fixture_spectra(F)
    with pytest.raises(FixtureError, match="needs an open"):
        Fixture.from_files()
    with pytest.raises(FixtureError, match="--leads-model"):
        Fixture.from_files(open=short, leads_model=True)
    c = correct_fixture(eisfit.Spectrum(F, cell_z(F) + lead_z(F)), Fixture.from_files(short=short))
    with pytest.raises(FixtureError, match="already"):
        correct_fixture(c, Fixture.from_files(short=short))


# --------------------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A fixture's open and short files and two cells measured through it (25 and 60 °C)."""
    d = tmp_path_factory.mktemp("fixture")
    open_, short = fixture_spectra(F)
    rng = np.random.default_rng(5)
    out = {"open": write_csv(d / "open.csv", F, open_.z),
           "short": write_csv(d / "short.csv", F, short.z)}
    cells = d / "cells"
    cells.mkdir()
    for t_c, scale in ((25, 1.0), (60, 0.5)):
        z = measured(F, scale * cell_z(F))
        out[f"{t_c}C"] = write_csv(cells / f"cell_{t_c}C.csv", F, add_noise(z, 0.005, rng))
    return out


def test_cli_fit_open_short_json(files, capsys):
    rc = cli.main(["fit", str(files["25C"]), "--open", str(files["open"]),
                   "--short", str(files["short"]), "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    record = d["fixture_correction"]
    assert record["method"] == "open-short"
    assert record["open"].endswith("open.csv") and record["short"].endswith("short.csv")
    assert d["resistances_ohm"]["bulk"] == pytest.approx(R_BULK, rel=0.01)
    rc = cli.main(["fit", str(files["25C"]), "--short", str(files["short"]), "--leads-model"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "short-leads-model compensation" in text and "L_lead" in text


def test_cli_batch_gives_the_fit_resistances(files, capsys):
    fixture = ["--open", str(files["open"]), "--short", str(files["short"])]
    rc = cli.main(["batch", str(files["25C"].parent), *fixture, "--json", "--workers", "1"])
    assert rc == 0
    batch = json.loads(capsys.readouterr().out)
    assert batch["failures"] == []
    for entry, key in zip(batch["spectra"], ("25C", "60C"), strict=True):
        assert entry["fixture_correction"]["method"] == "open-short"
        assert cli.main(["fit", str(files[key]), *fixture, "--json"]) == 0
        single = json.loads(capsys.readouterr().out)
        for role, value in single["resistances_ohm"].items():
            assert entry["resistances_ohm"][role] == pytest.approx(value, rel=1e-6)


def test_cli_errors_are_one_line(files, tmp_path, capsys):
    narrow = tmp_path / "open_narrow.csv"
    f = frequencies(1e6, 1, 10)
    write_csv(narrow, f, fixture_spectra(f)[0].z)
    rc = cli.main(["fit", str(files["25C"]), "--open", str(narrow)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "open_narrow.csv" in err
    rc = cli.main(["fit", str(files["25C"]), "--short", str(tmp_path / "missing.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--short" in err and "missing.csv" in err


# --------------------------------------------------------------------------- real corpus
def test_real_sulfide_spectrum_through_a_known_fixture(corpus_dir):
    """A real LPSCl blocking cell (7 MHz-0.1 Hz) as the device under test: distorted by the
    known fixture and corrected, it comes back as the file's Z and fits the same intercept."""
    real = eisfit.read(corpus_dir / LPSCL)
    f = real.frequency
    open_, short = fixture_spectra(f)
    m = eisfit.Spectrum(f, measured(f, real.z), dict(real.meta))
    c = correct_fixture(m, Fixture.from_files(open=open_, short=short))
    assert rel_error(c.z, real.z) < 1e-9
    assert rel_error(m.z, real.z) > 0.01
    fit_real = eisfit.fit(real, "blocking")
    fit_corrected = eisfit.fit(c, "blocking")
    assert fit_corrected.resistances["series"] == pytest.approx(
        fit_real.resistances["series"], rel=1e-6)
    assert fit_corrected.to_dict()["fixture_correction"]["short"] == "short.csv"
