"""The analyses in the outputs: the fixture correction in the batch report and results.csv, the
HTML page and Bruce–Vincent t+ of ``eisfit polarisation``, user elements in ``eisfit batch``
(worker processes started by spawn included), the brick-layer columns of the batch's text
table. Each against known truth: generated fixtures, records and spectra."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from test_brick_layer import PARAMS as BRICK_PARAMS
from test_brick_layer import TRUE_EPS_R, TRUE_SIGMA_SPECIFIC, _spectrum_rows
from test_fixture import L_LEAD, R_LEAD, F, cell_z, fixture_spectra, measured, write_csv
from test_polarisation import DV, SIGMA_E, _record, write_mpt
from test_user_elements import CIRCUIT as HV_CIRCUIT
from test_user_elements import ELEMENTS_FILE, FREQ, HV, TRUTH, _noisy, havriliak_negami

import eisfit
from eisfit.analysis.fixture import Fixture
from eisfit.cli.main import main
from eisfit.fitting.user_elements import user_elements
from eisfit.model.synthetic import add_noise
from eisfit.show.report import render_report

# --------------------------------------------------------------------------- fixture correction


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory) -> dict[str, Path]:
    """A fixture's open and short files, and two cells (25 and 60 °C) measured through it."""
    d = tmp_path_factory.mktemp("fixture_report")
    open_, short = fixture_spectra(F)
    out = {"open": write_csv(d / "open.csv", F, open_.z),
           "short": write_csv(d / "short.csv", F, short.z)}
    cells = d / "cells"
    cells.mkdir()
    rng = np.random.default_rng(11)
    for t_c, scale in ((25, 1.0), (60, 0.5)):
        z = add_noise(measured(F, scale * cell_z(F)), 0.003, rng)
        out[f"{t_c}C"] = write_csv(cells / f"cell_{t_c}C.csv", F, z)
    return out


def test_batch_report_and_csv_state_the_fixture_correction(fixture_files, tmp_path, capsys):
    """``eisfit batch --open --short --out``: report.html says which correction, with which
    files; results.csv has ``fixture_correction`` = the method for each spectrum."""
    out = tmp_path / "out"
    code = main(["batch", str(fixture_files["25C"].parent), "--open", str(fixture_files["open"]),
                 "--short", str(fixture_files["short"]), "--out", str(out), "--workers", "1",
                 "--no-kk"])
    capsys.readouterr()
    assert code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<th>fixture correction</th>" in page
    assert "open-short compensation (open open.csv, short short.csv)" in page
    assert "2 of 2 spectra corrected before fitting" in page
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["fixture_correction"] for r in rows] == ["open-short", "open-short"]


def test_uncorrected_batch_has_an_empty_column_and_no_statement(fixture_files, tmp_path,
                                                                capsys):
    out = tmp_path / "plain"
    code = main(["batch", str(fixture_files["25C"]), "--out", str(out), "--workers", "1",
                 "--no-kk"])
    capsys.readouterr()
    assert code == 0
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        assert [r["fixture_correction"] for r in csv.DictReader(f)] == [""]
    assert "fixture correction" not in (out / "report.html").read_text(encoding="utf-8")


def test_single_fit_report_gives_the_lead_model_with_errors():
    """A spectrum corrected with the lead model: the report's methods give R_lead and L_lead
    ± errors, and the values are the fixture's (0.5 Ω, 50 nH) to the digits shown."""
    open_, short = fixture_spectra(F)
    rng = np.random.default_rng(4)
    noisy_short = eisfit.Spectrum(F, add_noise(short.z, 0.002, rng), {"source": "short.csv"})
    fixture = Fixture.from_files(open=open_, short=noisy_short, leads_model=True)
    cell = eisfit.Spectrum(F, measured(F, cell_z(F)), {"source": "cell_25C.csv"})
    result = eisfit.fit(fixture.correct(cell), "blocking", kk=False)
    page = render_report(result, drt=False, kk=False)
    row = re.search(r"<th>fixture correction</th><td>(.*?)</td>", page)
    assert row is not None
    text = row.group(1)
    assert text.startswith("open-short-leads-model compensation (open open.csv, short short.csv)")
    r = re.search(r"R_lead = ([0-9.]+) ± ([0-9.]+)&nbsp;Ω|R_lead = ([0-9.]+) ± ([0-9.]+) Ω", text)
    assert r is not None, text
    r_lead, r_err = (float(x) for x in (r.group(1) or r.group(3), r.group(2) or r.group(4)))
    assert abs(r_lead - R_LEAD) < max(3 * r_err, 1e-3)
    assert "L_lead = " in text and " H" in text
    assert fixture.leads is not None
    assert fixture.leads.inductance == pytest.approx(L_LEAD, rel=0.02)


# --------------------------------------------------------------------------- polarisation
def _sigma_from_page(page: str) -> tuple[float, float]:
    """σ_e (value, error) in S/cm from the page's results table."""
    m = re.search(r"<th>σ_e</th><td>\(([0-9.]+)&nbsp;± ([0-9.]+)\)×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)&nbsp;S/cm",
                  page)
    assert m is not None
    power = int(m.group(3).translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))
    return float(m.group(1)) * 10.0**power, float(m.group(2)) * 10.0**power


def test_polarisation_report_holds_sigma_e_and_the_plot(tmp_path, capsys):
    """``eisfit polarisation CA --report``: σ_e of the generated record (2e-9 S/cm) in the page
    with its error, the steady-state table, the plot embedded, the method; refused again
    without --force."""
    t, i = _record(seed=10)
    ca = write_mpt(tmp_path / "ca.mpt", t, i, np.full(t.size, DV))
    page_path = tmp_path / "ca.html"
    cell = ["--thickness", "1mm", "--diameter", "10mm"]
    assert main(["polarisation", str(ca), *cell, "--report", str(page_path)]) == 0
    assert f"report written to {page_path}" in capsys.readouterr().out
    page = page_path.read_text(encoding="utf-8")
    sigma, err = _sigma_from_page(page)
    assert abs(sigma - SIGMA_E) < 3 * err and abs(sigma / SIGMA_E - 1) < 0.01
    assert re.search(r'<img alt="Current against time"[^>]* src="data:image/png;base64,', page)
    assert "<h2>Steady state</h2>" in page and "Chronoamperometry" in page
    assert "electronic-conductivity-and-transference-number-from-dc-polarisation" in page
    assert "<script" not in page
    assert main(["polarisation", str(ca), *cell, "--report", str(page_path)]) == 2
    err_text = capsys.readouterr().err
    assert err_text.count("\n") == 1 and "ca.html" in err_text and "--force" in err_text
    assert main(["polarisation", str(ca), *cell, "--report", str(page_path), "--force"]) == 0


def _li_li_record(path: Path) -> tuple[Path, float, float]:
    """A Li|electrolyte|Li record at 10 mV: I0 = 1e-4 A decaying to I_ss = 6e-5 A; returns the
    file, the first current written and I_ss."""
    rng = np.random.default_rng(9)
    t = np.arange(0.0, 7200.0, 5.0)
    i0, i_ss = 1.0e-4, 0.6e-4
    i = i_ss + (i0 - i_ss) * np.exp(-t / 600) + 2e-8 * rng.standard_normal(t.size)
    return write_mpt(path, t + 1.0, i, np.full(t.size, 0.01)), float(i[0]), i_ss


def test_bruce_vincent_option_gives_the_hand_computed_t_plus(tmp_path, capsys):
    """``--bruce-vincent R0 RS``: t+ = Is(ΔV − I0 R0)/(I0(ΔV − Is Rs)) from the generated
    I0, I_ss, R0 = 20 Ω, Rs = 25 Ω and ΔV = 10 mV."""
    path, i0, i_ss = _li_li_record(tmp_path / "li_li.mpt")
    dv, r0, rs = 0.01, 20.0, 25.0
    truth = i_ss * (dv - i0 * r0) / (i0 * (dv - i_ss * rs))
    assert main(["polarisation", str(path), "--voltage", "10mV", "--bruce-vincent", str(r0),
                 str(rs), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["bruce_vincent"]
    assert d["t_plus"]["value"] == pytest.approx(truth, rel=0.002)
    assert d["I0_A"] == pytest.approx(i0, rel=1e-6)
    page = tmp_path / "bv.html"
    assert main(["polarisation", str(path), "--voltage", "10mV", "--bruce-vincent", "20Ohm",
                 "25", "--report", str(page)]) == 0
    text = capsys.readouterr().out
    shown = re.search(r"t\+\s+([0-9.]+) ± ([0-9.]+)", text)
    assert shown is not None and abs(float(shown.group(1)) - truth) < 0.002 * truth
    assert "Transference number (Bruce–Vincent)" in page.read_text(encoding="utf-8")


def test_bruce_vincent_refuses_impedance_and_bad_resistances(tmp_path, capsys):
    path, _, _ = _li_li_record(tmp_path / "li_li.mpt")
    code = main(["polarisation", str(path), "--bruce-vincent", "20", "25", "--impedance",
                 str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--bruce-vincent and --impedance" in err
    code = main(["polarisation", str(path), "--bruce-vincent", "20", "-3"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--bruce-vincent RS" in err


# --------------------------------------------------------------------------- batch --elements
@pytest.fixture
def hv_files(tmp_path):
    """Three spectra of the Havriliak–Negami cell at 25/40/60 °C (τ shortening) and the
    elements file; the user elements removed afterwards."""
    eisfit.define_element("Hv", havriliak_negami, **HV)  # only to make the data
    folder = tmp_path / "hv"
    folder.mkdir()
    for k, t_c in enumerate((25, 40, 60)):
        truth = list(TRUTH)
        truth[2] /= 1 + k
        s = _noisy(HV_CIRCUIT, truth, seed=5 + k)
        rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
        rows += [f"{f:.10e},{z.real:.10e},{-z.imag:.10e}" for f, z in zip(FREQ, s.z,
                                                                            strict=True)]
        (folder / f"hn_{t_c}C.csv").write_text("\n".join(rows) + "\n")
    eisfit.remove_element("Hv")
    elements = tmp_path / "my_elements.py"
    elements.write_text(ELEMENTS_FILE)
    yield folder, elements
    for name in list(user_elements()):
        eisfit.remove_element(name)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_elements_match_fit_elements(hv_files, workers, monkeypatch, capsys):
    """``eisfit batch --elements`` (1 worker; 2 workers started by spawn, which inherit no
    elements) gives each file the values ``eisfit fit --elements`` gives it."""
    folder, elements = hv_files
    monkeypatch.setenv("EISFIT_START_METHOD", "spawn")
    common = ["--circuit", HV_CIRCUIT, "--elements", str(elements), "--no-kk", "--json"]
    assert main(["batch", str(folder), *common, "--workers", workers]) == 0
    batch = json.loads(capsys.readouterr().out)
    assert batch["failures"] == [] and len(batch["spectra"]) == 3
    for entry in batch["spectra"]:
        assert main(["fit", str(folder / Path(entry["source"]).name), *common]) == 0
        single = json.loads(capsys.readouterr().out)
        assert single["parameters"].keys() == entry["parameters"].keys()
        for name, p in single["parameters"].items():
            assert entry["parameters"][name]["value"] == pytest.approx(p["value"], rel=1e-6)
    first = batch["spectra"][0]["parameters"]  # and the fit is right: the generating values
    assert first["Hv1_0"]["value"] == pytest.approx(TRUTH[1], rel=0.03)


def test_start_method_switch_is_checked(monkeypatch):
    from eisfit.exceptions import EisfitError
    from eisfit.fitting.batch import start_method

    monkeypatch.setenv("EISFIT_START_METHOD", "teleport")
    with pytest.raises(EisfitError, match="EISFIT_START_METHOD=teleport"):
        start_method()
    monkeypatch.setenv("EISFIT_START_METHOD", "spawn")
    assert start_method() == "spawn"


# --------------------------------------------------------------------------- brick layer table
def _superscript_power(text: str) -> float:
    """10 to the power written in superscript digits (``⁻⁹``); 1 for none."""
    if not text:
        return 1.0
    return 10.0 ** int(text.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))


def test_batch_text_table_has_brick_layer_columns(tmp_path, capsys, monkeypatch):
    """``eisfit batch --grain-size``: the printed table gives σ_gb,sp and ε_r of each
    spectrum, equal to the generating cell's (3.18e-9 S/cm, 14.4) within 3 errors and 5 %,
    and ``-`` for a spectrum with no arcs (a blocking spike)."""
    folder = tmp_path / "pellets"
    folder.mkdir()
    (folder / "pellet_25C.csv").write_text("\n".join(_spectrum_rows(BRICK_PARAMS)) + "\n")
    spike = _spectrum_rows([20.0, 1e-6, 0.8], "R0-CPE1", seed=3)
    (folder / "pellet_60C.csv").write_text("\n".join(spike) + "\n")
    monkeypatch.setenv("COLUMNS", "200")
    code = main(["batch", str(folder), "--thickness", "1mm", "--diameter", "10mm",
                 "--grain-size", "5um", "--workers", "1", "--no-kk"])
    out = capsys.readouterr().out
    assert code == 0
    block = out[out.index("[[Brick layer]]"):]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(25C|60C)\s+\d+\.\d\d\s+(.*)$",
                                                          block, re.M)}
    assert "sigma gb,sp" in block and "eps_r" in block and set(rows) == {"25C", "60C"}
    assert rows["60C"].split() == ["-", "-"]
    number = r"\(?([0-9.]+) ± ([0-9.]+)\)?(?:×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?"
    (s, se, sp), (e, ee, ep) = re.findall(number, rows["25C"])
    sigma, sigma_err = float(s) * _superscript_power(sp), float(se) * _superscript_power(sp)
    assert abs(sigma - TRUE_SIGMA_SPECIFIC) < max(3 * sigma_err, 0.05 * TRUE_SIGMA_SPECIFIC)
    eps, eps_err = float(e) * _superscript_power(ep), float(ee) * _superscript_power(ep)
    assert abs(eps - TRUE_EPS_R) < max(3 * eps_err, 0.05 * TRUE_EPS_R)
