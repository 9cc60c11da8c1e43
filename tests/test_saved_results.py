"""Saved fits: FitResult.to_json / eisfit.load_result round-trip every number bit for bit, and
``eisfit fit --save`` / ``--start-from`` write and start from them."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.fitting.saved import FORMAT, SavedResultError, load_result, load_results
from eisfit.model.named import named_circuits
from eisfit.model.synthetic import blocking_cell, full_cell

matplotlib.use("Agg")

DATA = Path(__file__).resolve().parents[1] / "data"
LPSCL = "jdhuang-csm__hybrid-drt/tutorials__data__PEIS_LPSCl_IonBlocking_-25C.txt"
GEOMETRY = eisfit.Geometry(thickness="1.2 mm", diameter="10 mm")


# --------------------------------------------------------------------------- helpers
def _same(a, b) -> bool:
    """Bit-identical numbers or arrays: equal values with equal signs (-0.0 is not 0.0), NaN
    where the other has NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if np.iscomplexobj(a):
        return _same(a.real, b.real) and _same(a.imag, b.imag)
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    nan = np.isnan(a)
    return bool(
        np.array_equal(nan, np.isnan(b))
        and np.array_equal(a[~nan], b[~nan])
        and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan]))
    )


def _same_floats(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(_same(float(a[k]), float(b[k])) for k in a)


def _same_spectrum(a, b) -> None:
    assert _same(a.frequency, b.frequency) and _same(a.z, b.z)
    assert repr(dict(a.meta)) == repr(dict(b.meta))  # types, NaN and -0.0 included


def _assert_identical(r, back) -> None:
    """Every field of two FitResults equal bit for bit, and the same reports and plots."""
    _same_spectrum(r.spectrum, back.spectrum)
    assert (r.original is None or r.original is r.spectrum) == (back.original is back.spectrum)
    if r.original is not None and r.original is not r.spectrum:
        _same_spectrum(r.original, back.original)
    assert r.circuit.text == back.circuit.text and r.named == back.named
    assert r.weighting == back.weighting
    assert list(r.records) == list(back.records)
    for k, p in r.records.items():
        q = back.records[k]
        assert (p.name, p.vary) == (q.name, q.vary)
        assert all(_same(getattr(p, f), getattr(q, f)) for f in ("value", "min", "max"))
        assert (p.stderr is None) == (q.stderr is None)
        if p.stderr is not None:
            assert _same(p.stderr, q.stderr)
        assert (p.correl is None) == (q.correl is None)
        if p.correl is not None:
            assert _same_floats(p.correl, q.correl)
    for f in ("chisqr", "chi_square", "aic", "bic", "external_resistance"):
        assert _same(getattr(r, f), getattr(back, f)), f
    assert (r.n_free, r.nfev, r.success) == (back.n_free, back.nfev, back.success)
    assert _same_floats(r.resistances, back.resistances)
    assert _same_floats(r.resistance_stderr, back.resistance_stderr)
    assert r.warnings == back.warnings and r.flags == back.flags
    assert (r.covariance is None) == (back.covariance is None)
    if r.covariance is not None:
        assert _same(r.covariance, back.covariance)
    assert list(r.role_terms) == list(back.role_terms)
    for role, (idx, const) in r.role_terms.items():
        assert back.role_terms[role][0] == idx and _same(back.role_terms[role][1], const)
    assert r.arc_terms == back.arc_terms
    assert (r.search is None) == (back.search is None)
    if r.search is not None:
        for f in dataclasses.fields(r.search):
            x, y = getattr(r.search, f.name), getattr(back.search, f.name)
            assert _same(x, y) if isinstance(x, float) else x == y
    # derived: the same numbers, reports, conductivity and plot
    assert _same_floats(r.capacitances, back.capacitances)
    assert _same_floats(r.apex_hz, back.apex_hz)
    assert _same(r.impedance(), back.impedance()) and _same(r.residuals(), back.residuals())
    assert back.report() == r.report()
    assert back.report(GEOMETRY) == r.report(GEOMETRY)
    assert back.to_dict() == r.to_dict() and back.to_dict(GEOMETRY) == r.to_dict(GEOMETRY)
    for role, s in r.conductivity(GEOMETRY).items():
        t = back.conductivity(GEOMETRY)[role]
        assert _same(s.nominal_value, t.nominal_value) and _same(s.std_dev, t.std_dev)
    assert _plot_data(back) == _plot_data(r)


def _plot_data(result) -> list:
    """Every line's data in the fit figure (Nyquist, residuals), as bytes."""
    import matplotlib.pyplot as plt

    from eisfit.show.plot import fit_figure

    fig = fit_figure(result)
    out = [
        tuple(np.asarray(xy, float).tobytes() for xy in (line.get_xdata(), line.get_ydata()))
        for ax in fig.axes for line in ax.get_lines()
    ]
    plt.close(fig)
    return out


def _round_trip(r, tmp_path: Path, name: str = "fit.json"):
    """Save to a file, load, and check: bit-identical, and saved again to the same text."""
    path = tmp_path / name
    text = r.to_json(path)
    assert path.read_text(encoding="utf-8") == text + "\n"
    back = load_result(path)
    _assert_identical(r, back)
    assert back.to_json() == text  # the versions of the fit travel with it
    d = json.loads(text)
    assert d["format"] == FORMAT
    assert {k: v for k, v in d.items() if k not in ("format", "saved")} == r.to_dict()
    assert set(d["saved"]["versions"]) >= {"eisfit", "numpy", "scipy"}
    return back


# --------------------------------------------------------------------------- round trips
@pytest.fixture(scope="module")
def blocking_fit():
    return eisfit.fit(blocking_cell(np.random.default_rng(1)).spectrum, "blocking")


@pytest.fixture(scope="module")
def corpus_fit(corpus_dir):
    return eisfit.fit(eisfit.read(corpus_dir / LPSCL), "blocking", external_resistance=1.5)


def test_blocking_round_trip(blocking_fit, tmp_path):
    back = _round_trip(blocking_fit, tmp_path)
    assert back.named is named_circuits()["blocking"]  # the shipped object, shared
    assert back.resistances == blocking_fit.resistances


def test_full_cell_round_trip(tmp_path):
    truth = full_cell(np.random.default_rng(4))
    r = eisfit.fit(truth.spectrum, "full-cell")
    _round_trip(r, tmp_path)


def test_corpus_file_round_trip(corpus_fit, tmp_path):
    r = corpus_fit
    assert r.search is not None and r.covariance is not None and r.warnings
    back = _round_trip(r, tmp_path)
    assert back.spectrum.meta["source"].endswith("IonBlocking_-25C.txt")


def test_intercept_and_hidden_variant_round_trip(tmp_path):
    nc = named_circuits()["blocking"]
    r = eisfit.fit(blocking_cell(np.random.default_rng(0), hidden_bulk=True).spectrum, "blocking")
    assert r.named is nc.intercept_variant()  # the bulk arc counted into the intercept
    assert _round_trip(r, tmp_path).named is nc.intercept_variant()
    spectrum = blocking_cell(np.random.default_rng(6), hidden_bulk=True, noise=0.02).spectrum
    hidden = eisfit.fit(spectrum, "blocking")
    assert hidden.named is nc.hidden_variant() and hidden.circuit.text == "R0-p(R2,CPE2)-CPE3"
    assert _round_trip(hidden, tmp_path, "hidden.json").named is nc.hidden_variant()
    # a fit reported under the hidden variant starts the full circuit (its names put into
    # every automatic start) and ends no worse than a fresh fit
    fresh = eisfit.fit(spectrum, "blocking")
    again = eisfit.fit(spectrum, "blocking", start_from=hidden)
    assert again.chisqr <= fresh.chisqr * (1 + 1e-9)


def test_fallback_and_dropped_points_round_trip(tmp_path):
    """The sulfide pellet falls back to blocking-spike; with leads' inductance added, the
    inductive points dropped leave the spectrum as given (original) apart from the fitted one."""
    s = eisfit.read(DATA / "sulfide_pellet" / "LPSCl_30C.csv")
    r = eisfit.fit(s, "blocking", external_resistance=1.83)
    assert r.circuit_name == "blocking-spike"
    assert any("fitted in place of blocking" in w for w in r.warnings)
    _round_trip(r, tmp_path)
    z = s.z + 1j * 2 * np.pi * s.frequency * 2e-6  # 2 uH of leads
    r2 = eisfit.fit(eisfit.Spectrum(s.frequency, z, dict(s.meta)), "blocking-spike")
    assert len(r2.original) > len(r2.spectrum)
    _round_trip(r2, tmp_path, "dropped.json")


def test_metadata_types_and_negative_zero(tmp_path):
    """Tuples, non-finite floats and -0.0 come back as themselves."""
    f = np.logspace(6, -1, 36)
    z = eisfit.Circuit("R0-p(R1,CPE1)").impedance(f, [10.0, 1e4, 1e-9, 0.9])
    z.imag[f > 3e5] = -0.0  # -0.0 imaginary parts at the top
    meta = {"source": "x.csv", "tuple": (1, "a", 2.5), "nan": math.nan, "nested": {"i": [-0.0]}}
    r = eisfit.fit(eisfit.Spectrum(f, z, meta), "R0-p(R1,CPE1)")
    back = _round_trip(r, tmp_path)
    assert back.spectrum.meta["tuple"] == (1, "a", 2.5)
    assert math.isnan(back.spectrum.meta["nan"])
    assert math.copysign(1, back.spectrum.meta["nested"]["i"][0]) == -1
    assert np.signbit(back.spectrum.z.imag[0])


def test_fit_json_output_loads(capsys, corpus_dir, corpus_fit):
    assert main(["fit", str(corpus_dir / LPSCL), "--json", "--external-resistance", "1.5",
                 "--thickness", "1.2mm", "--diameter", "10mm"]) == 0
    text = capsys.readouterr().out
    printed = json.loads(text)
    assert "conductivity_S_per_cm" in printed
    back = load_result(text)
    # the command line's fit is the library's (its engine may differ in the last digits)
    assert back.chisqr == pytest.approx(corpus_fit.chisqr, rel=1e-6)
    assert back.resistances == pytest.approx(corpus_fit.resistances, rel=1e-4)
    del printed["format"], printed["saved"]
    assert back.to_dict(eisfit.Geometry(thickness="1.2mm", diameter="10mm")) == printed


# --------------------------------------------------------------------------- refusals
def _one_line_error(path_or_text, *words):
    with pytest.raises(SavedResultError) as info:
        load_result(path_or_text)
    message = str(info.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message
    return message


def test_corrupt_and_unknown_files_are_refused(blocking_fit, tmp_path):
    text = blocking_fit.to_json()
    bad = tmp_path / "bad.json"
    bad.write_text(text[: len(text) // 2])
    _one_line_error(bad, "bad.json", "not JSON")
    bad.write_text(text.replace(FORMAT, "eisfit-result/99"))
    _one_line_error(bad, "bad.json", "eisfit-result/99", FORMAT)
    bad.write_text(json.dumps(blocking_fit.to_dict()))  # the plain JSON has no saved record
    _one_line_error(bad, "bad.json", "not a saved eisfit fit")
    d = json.loads(text)
    del d["saved"]["covariance"]
    bad.write_text(json.dumps(d))
    _one_line_error(bad, "bad.json", "damaged", "covariance")
    d = json.loads(text)
    d["saved"]["spectrum"]["z_imag_ohm"] = d["saved"]["spectrum"]["z_imag_ohm"][:-1]
    bad.write_text(json.dumps(d))
    _one_line_error(bad, "bad.json", "damaged")
    d = json.loads(text)
    d["parameters"]["R1"]["value"] = "many"
    bad.write_text(json.dumps(d))
    _one_line_error(bad, "bad.json", "damaged", "many")
    bad.write_text(json.dumps([json.loads(text)] * 2))
    _one_line_error(bad, "bad.json", "2 fits", "load_results")
    assert len(load_results(bad)) == 2
    _one_line_error(tmp_path / "missing.json", "missing.json", "no such file")
    _one_line_error("[1, 2", "not JSON")


# --------------------------------------------------------------------------- command line
def _chi2(capsys) -> float:
    return json.loads(capsys.readouterr().out)["chi_square"]


def test_save_refuses_overwrite_and_loads(tmp_path, capsys):
    path = DATA / "latp_pellet" / "LATP_20C.csv"
    out = tmp_path / "fit.json"
    assert main(["fit", str(path), "--save", str(out)]) == 0
    report = capsys.readouterr().out
    saved = out.read_text()
    assert load_result(out).report() in report
    assert main(["fit", str(path), "--save", str(out), "--circuit", "blocking-single"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "fit.json" in err and "--force" in err
    assert out.read_text() == saved  # left alone
    assert main(["fit", str(path), "--save", str(out), "--force", "--circuit",
                 "blocking-single"]) == 0
    assert load_result(out).circuit_name == "blocking-single"


def test_start_from_a_nearby_temperature(tmp_path, capsys):
    """Started from the fit at 10 °C, the 20 °C fit ends at the fresh fit's χ² or lower; from
    values far from any sensible one, the search still finds it."""
    near, here = DATA / "latp_pellet" / "LATP_10C.csv", DATA / "latp_pellet" / "LATP_20C.csv"
    saved = tmp_path / "10C.json"
    assert main(["fit", str(near), "--save", str(saved)]) == 0
    capsys.readouterr()
    assert main(["fit", str(here), "--json"]) == 0
    fresh = _chi2(capsys)
    assert main(["fit", str(here), "--json", "--start-from", str(saved)]) == 0
    started = _chi2(capsys)
    assert started <= fresh * (1 + 1e-9)
    # the named circuit travels with the saved fit; another circuit's parameters are refused
    assert main(["fit", str(here), "--start-from", str(saved), "--circuit", "R0-p(R1,CPE1)"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--start-from" in err and "R0-p(R1,CPE1)" in err
    d = json.loads(saved.read_text())
    far = {"R0": 1e9, "R1": 1e-3, "CPE1_0": 1e-2, "CPE1_1": 0.31, "R2": 1e12,
           "CPE2_0": 1e-14, "CPE2_1": 0.99, "CPE3_0": 1e-13, "CPE3_1": 0.35}
    for k, v in far.items():
        d["parameters"][k]["value"] = v
    wild = tmp_path / "far.json"
    wild.write_text(json.dumps(d))
    assert main(["fit", str(here), "--json", "--start-from", str(wild)]) == 0
    assert _chi2(capsys) <= fresh * 1.001


def test_start_from_in_fit_stack_and_fit_many_agree_with_fit():
    rng = np.random.default_rng(11)
    spectra = [blocking_cell(rng).spectrum for _ in range(3)]
    previous = eisfit.fit(spectra[0], "blocking")
    alone = [eisfit.fit(s, "blocking", start_from=previous) for s in spectra[1:]]
    stacked = eisfit.fit_stack(spectra[1:], "blocking", start_from=previous)
    many = list(eisfit.fit_many(spectra[1:], "blocking", start_from=previous, stack=1))
    for a, b, c in zip(alone, stacked, many, strict=True):
        assert b.chisqr == pytest.approx(a.chisqr, rel=1e-6)
        assert c.chisqr == a.chisqr
    with pytest.raises(eisfit.FitError, match="fit the circuit it was fitted with"):
        eisfit.fit_stack(spectra, "blocking-single", start_from=previous)
    with pytest.raises(eisfit.EisfitError, match="start_from"):
        eisfit.fit(spectra[0], "auto", start_from=previous)
    d = json.loads(previous.to_json())
    d["parameters"]["R1"]["value"] = None  # loads (null is NaN), but starts nothing
    with pytest.raises(eisfit.FitError, match="no value for R1"):
        eisfit.fit(spectra[1], "blocking", start_from=load_result(json.dumps(d)))


def test_batch_save_fits(tmp_path, capsys):
    """batch --out DIR --save-fits writes each spectrum's loadable fit beside its plot, the
    same fit results.json reports; without --out it is refused before any fit."""
    files = [DATA / "latp_pellet" / n for n in ("LATP_10C.csv", "LATP_20C.csv")]
    out = tmp_path / "out"
    assert main(["batch", *map(str, files), "--out", str(out), "--save-fits",
                 "--workers", "1", "--no-kk"]) == 0
    capsys.readouterr()
    reported = json.loads((out / "results.json").read_text())["spectra"]
    for name, entry in zip(("LATP_10C", "LATP_20C"), reported, strict=True):
        back = load_result(out / f"fit_{name}.json")
        assert (out / f"nyquist_{name}.png").exists()
        assert back.spectrum.source == entry["source"]
        assert {k: v for k, v in back.to_dict().items() if k in entry} == {
            k: v for k, v in entry.items() if k in back.to_dict()
        }
    assert main(["batch", *map(str, files), "--save-fits"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--save-fits" in err and "--out" in err
