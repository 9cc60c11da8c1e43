"""An external (lead) resistance above a spectrum's high-frequency intercept, and the JSON that
``eisfit fit`` and ``eisfit batch`` print: one complete document whatever fails.

The bundled ``data/sulfide_pellet`` spectra have high-frequency intercepts of about 62, 25.7,
12.4 and 5.6 Ohm (30, 50, 70, 100 °C): an external resistance of 10 Ohm lies above the 100 °C
intercept only.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.cli import main as cli
from eisfit.fitting.result import FitResult
from eisfit.model.synthetic import blocking_cell
from eisfit.series.temperature import Series, fit_series

DATA = Path(__file__).resolve().parents[1] / "data" / "sulfide_pellet"
FILES = sorted(DATA.glob("*.csv"))
EXTERNAL = 10.0
CELL = ["--thickness", "1mm", "--diameter", "10mm"]
GEOMETRY = eisfit.Geometry("1mm", diameter="10mm")
NOT_DETERMINED = "not determined; check --external-resistance"


def data_intercept(path: Path) -> float:
    """Re(Z) at the highest measured frequency, Ohm: the intercept read off the data."""
    s = eisfit.read(path)
    return float(s.z[np.argmax(s.frequency)].real)


def cli_run(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = cli.main(argv)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def intercept_role(r: FitResult) -> str | None:
    """The role the fit took from the high-frequency intercept, or None."""
    if r.named is None or "intercept" not in r.named.roles.values():
        return None
    return r.named.hidden_role or "total"


def fitted_intercept(r: FitResult) -> float:
    """The fit's high-frequency intercept (Ohm): the sum of its intercept resistors."""
    assert r.named is not None
    return sum(v for k, v in r.values.items() if r.named.roles.get(k) == "intercept")


def assert_no_negative(d: dict) -> None:
    """No resistance, conductivity or ASR of a JSON spectrum object is zero or negative."""
    for key in ("resistances_ohm", "conductivity_S_per_cm", "asr_ohm_cm2"):
        for role, v in d.get(key, {}).items():
            assert v is None or v > 0, (key, role, v)


# --------------------------------------------------------------------------- library
def test_data_intercepts_straddle_the_external_resistance():
    got = {p.stem: data_intercept(p) for p in FILES}
    assert got["LPSCl_100C"] < EXTERNAL < min(v for k, v in got.items() if k != "LPSCl_100C")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_fit_spike_total_not_determined_below_the_external_resistance(path):
    s = eisfit.read(path)
    r = eisfit.fit(s, "blocking-spike", external_resistance=EXTERNAL)
    r0 = eisfit.fit(s, "blocking-spike")
    truth = data_intercept(path)
    assert r0.resistances["total"] == pytest.approx(truth, rel=0.03)  # the fit reads the data
    if truth < EXTERNAL:
        assert math.isnan(r.resistances["total"])
        assert math.isnan(r.resistance_stderr["total"])
        assert r.undetermined == ["total"]
        warning = next(w for w in r.warnings if NOT_DETERMINED in w)
        assert warning.startswith("the external resistance 10 Ohm exceeds the high-frequency "
                                  f"intercept {r0.resistances['total']:.4g} Ohm")
        assert "the total resistance is not determined" in warning
        assert math.isnan(r.conductivity(GEOMETRY)["total"].nominal_value)
        assert math.isnan(r.asr(GEOMETRY)["total"].nominal_value)
        assert math.isnan(r.resistance_uvars["total"].nominal_value)
        assert "total              = not determined" in r.report(GEOMETRY)
        d = json.loads(json.dumps(r.to_dict(GEOMETRY), allow_nan=False))
        assert d["resistances_ohm"]["total"] is None
        assert d["conductivity_S_per_cm"]["total"] is None
        assert d["conductivity_stderr_S_per_cm"]["total"] is None
        assert d["asr_ohm_cm2"]["total"] is None
    else:
        assert r.resistances["total"] == pytest.approx(r0.resistances["total"] - EXTERNAL)
        assert r.undetermined == []
        assert not any(NOT_DETERMINED in w for w in r.warnings)
        sigma = r.conductivity(GEOMETRY)["total"].nominal_value
        assert sigma == pytest.approx(0.1 / (r.resistances["total"] * GEOMETRY.area_cm2))


@pytest.mark.parametrize("seed", [31, 5])
def test_fit_blocking_hidden_bulk_against_the_truth(seed):
    """A synthetic blocking cell whose bulk arc lies above the window: with the external
    resistance below the true intercept R0 + Rb the bulk is the intercept less it; above, the
    bulk and the total that holds it are not determined, and the grain boundary (an arc in the
    window) and the series (the external resistance) are reported as before."""
    truth = blocking_cell(np.random.default_rng(seed), hidden_bulk=True)
    t = truth.resistances
    hf = t["series"] + t["bulk"]
    below = eisfit.fit(truth.spectrum, "blocking", external_resistance=0.5 * hf)
    above = eisfit.fit(truth.spectrum, "blocking", external_resistance=1.5 * hf)
    assert intercept_role(below) == intercept_role(above) == "bulk"
    assert below.resistances["bulk"] == pytest.approx(0.5 * hf, rel=0.02)
    assert below.undetermined == []
    assert set(above.undetermined) == {"bulk", "total"}
    assert math.isnan(above.resistances["bulk"]) and math.isnan(above.resistances["total"])
    assert above.resistances["series"] == 1.5 * hf
    for r in (below, above):
        assert r.resistances["grain_boundary"] == pytest.approx(t["grain_boundary"], rel=0.02)
    assert above.resistances["grain_boundary"] == below.resistances["grain_boundary"]
    sigma = above.conductivity(GEOMETRY)
    assert sigma["grain_boundary"].nominal_value == pytest.approx(
        0.1 / (t["grain_boundary"] * GEOMETRY.area_cm2), rel=0.02
    )
    assert math.isnan(sigma["bulk"].nominal_value)
    assert sum("the bulk and total resistances are not determined" in w
               for w in above.warnings) == 1
    assert not any(NOT_DETERMINED in w for w in below.warnings)
    assert_no_negative(above.to_dict(GEOMETRY))


def test_fit_blocking_on_the_hottest_pellet_spectrum():
    """Whatever model the named circuit settles on for the 100 °C spectrum (intercept 5.6
    Ohm), the role taken from the intercept is not determined with 10 Ohm of leads, and the
    roles that do not hold it are the ones reported without leads."""
    s = eisfit.read(DATA / "LPSCl_100C.csv")
    r = eisfit.fit(s, "blocking", external_resistance=EXTERNAL)
    r0 = eisfit.fit(s, "blocking")
    role = intercept_role(r)
    assert role is not None
    assert fitted_intercept(r) < EXTERNAL
    assert role in r.undetermined and math.isnan(r.resistances[role])
    for k in set(r0.resistances) - set(r.undetermined):
        assert r.resistances[k] == pytest.approx(r0.resistances[k]), k
    assert any(NOT_DETERMINED in w for w in r.warnings)
    assert_no_negative(r.to_dict(GEOMETRY))


def test_fit_stack_marks_only_the_spectrum_below():
    spectra = [eisfit.read(p) for p in FILES]
    got = eisfit.fit_stack(spectra, "blocking-spike", external_resistance=EXTERNAL)
    for p, r in zip(FILES, got, strict=True):
        assert isinstance(r, FitResult)
        below = data_intercept(p) < EXTERNAL
        assert math.isnan(r.resistances["total"]) == below, p.stem
        assert any(NOT_DETERMINED in w for w in r.warnings) == below
        if not below:
            assert r.resistances["total"] > 0


@pytest.mark.parametrize("stream", [False, True])
def test_fit_series_leaves_undetermined_out_of_arrhenius(stream):
    """Each role's resistance with the external resistance is the one without it less 10 Ohm,
    or not determined exactly when that is not positive; other roles are unchanged, and a
    role's Arrhenius regression never takes an undetermined spectrum."""
    with_ext = fit_series(FILES, circuit="blocking", geometry=GEOMETRY,
                          external_resistance=EXTERNAL, workers=1, stream=stream)
    without = fit_series(FILES, circuit="blocking", geometry=GEOMETRY, workers=1, stream=stream)
    assert with_ext.failures == [] and len(with_ext) == len(FILES)
    assert with_ext.labels == without.labels
    below_by_role: dict[str, set[str]] = {}
    for lab, r, r0 in zip(with_ext.labels, with_ext.results, without.results, strict=True):
        role = intercept_role(r)
        # without an external resistance the role is the intercept itself
        below = role is not None and not r0.resistances[role] - EXTERNAL > 0
        held = {role, "total"} if role is not None and role != "total" else {role}
        for k, v0 in r0.resistances.items():
            v = r.resistances[k]
            if k in held:
                # total holds the role: not determined with it, else less the same 10 Ohm
                if below:
                    assert math.isnan(v), (lab, k)
                    below_by_role.setdefault(k, set()).add(lab)
                else:
                    assert v == pytest.approx(v0 - EXTERNAL), (lab, k)
            else:
                assert v == pytest.approx(v0), (lab, k)  # other roles unaffected
        assert any(NOT_DETERMINED in w for w in r.warnings) == below
        assert_no_negative(r.to_dict(GEOMETRY))
    assert any("LPSCl_100C.csv" in labs for labs in below_by_role.values())  # 5.6 Ohm intercept
    for role, labs in below_by_role.items():
        assert labs <= set(with_ext.missing(role))
        finite = [r for r in with_ext.results if math.isfinite(r.resistances.get(role, math.nan))]
        if len(finite) >= 2:
            assert with_ext.arrhenius(role).n <= len(finite)
    frame = with_ext.to_frame()  # CSV columns: NaN, never negative
    for role, labs in below_by_role.items():
        rows = frame[frame["file"].isin(labs)]
        assert rows[f"R_{role}_ohm"].isna().all()
    r_cols = [c for c in frame.columns if c.startswith(("R_", "sigma_"))]
    assert not (frame[r_cols] <= 0).any().any()


# --------------------------------------------------------------------------- eisfit fit
def test_cli_fit_external_above_intercept_rc0(capsys):
    rc, out, err = cli_run(["fit", str(DATA / "LPSCl_100C.csv"), "--circuit", "blocking-spike",
                            "--external-resistance", "10", *CELL, "--json"], capsys)
    assert rc == 0, err
    d = json.loads(out)
    assert d["resistances_ohm"] == {"total": None}
    assert d["conductivity_S_per_cm"] == {"total": None}
    assert any(NOT_DETERMINED in w for w in d["warnings"])
    rc, out, err = cli_run(["fit", str(DATA / "LPSCl_100C.csv"), "--circuit", "blocking-spike",
                            "--external-resistance", "10", *CELL], capsys)
    assert rc == 0 and "not determined" in out


def test_cli_fit_json_error_before_printing(capsys):
    rc, out, err = cli_run(["fit", str(DATA / "LPSCl_100C.csv"), "--thickness", "1",
                            "--diameter", "10mm", "--json"], capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("eisfit: error: ")


def test_cli_fit_json_unreportable_fit_is_one_line(capsys, monkeypatch):
    def broken(self, geometry=None):
        raise ValueError("cannot report")

    monkeypatch.setattr(FitResult, "to_dict", broken)
    rc, out, err = cli_run(["fit", str(DATA / "LPSCl_100C.csv"), *CELL, "--json", "--no-kk"],
                           capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "cannot report" in err


# --------------------------------------------------------------------------- eisfit batch
@pytest.mark.parametrize(
    "extra", [["--workers", "1"], ["--workers", "2"], ["--workers", "1", "--joint"]],
    ids=["workers1", "workers2", "joint"],
)
def test_cli_batch_external_above_one_intercept_rc0(extra, capsys):
    rc, out, err = cli_run(["batch", str(DATA), *CELL, "--external-resistance", "10", "--json",
                            "--no-kk", *extra], capsys)
    assert rc == 0, err
    d = json.loads(out)
    assert d["failures"] == []
    by_file = {Path(s["source"]).name: s for s in d["spectra"]}
    assert set(by_file) == {p.name for p in FILES}
    hot = by_file["LPSCl_100C.csv"]  # data intercept 5.6 Ohm
    assert any("exceeds the high-frequency intercept" in w and NOT_DETERMINED in w
               for w in hot["warnings"])
    for s in d["spectra"]:
        assert_no_negative(s)
        nulls = {k for k, v in s["resistances_ohm"].items() if v is None}
        assert bool(nulls) == any(NOT_DETERMINED in w for w in s["warnings"])
        for k in nulls & set(s["conductivity_S_per_cm"]):
            assert s["conductivity_S_per_cm"][k] is None
    assert any(v is None for v in hot["resistances_ohm"].values())
    for role, entry in d["arrhenius"].items():
        have = sum(s["resistances_ohm"].get(role) is not None for s in d["spectra"])
        assert entry["n"] <= have, role
    if "--joint" in extra:
        assert "joint_fit" in d


def test_cli_batch_out_files_with_external_above_intercept(tmp_path, capsys):
    rc, out, err = cli_run(["batch", str(DATA), *CELL, "--external-resistance", "10",
                            "--workers", "1", "--no-kk", "--out", str(tmp_path / "o")], capsys)
    assert rc == 0, err
    d = json.loads((tmp_path / "o" / "results.json").read_text())
    assert len(d["spectra"]) == len(FILES)
    assert (tmp_path / "o" / "results.csv").is_file()


def test_cli_batch_unfittable_file_rc1_one_document(tmp_path, capsys):
    d_in = tmp_path / "in"
    shutil.copytree(DATA, d_in)
    (d_in / "LPSCl_60C.csv").write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e6,10,x\n")
    rc, out, err = cli_run(["batch", str(d_in), *CELL, "--external-resistance", "10",
                            "--json", "--workers", "1", "--no-kk"], capsys)
    assert rc == 1
    d = json.loads(out)
    assert len(d["spectra"]) == len(FILES)
    assert [Path(f["source"]).name for f in d["failures"]] == ["LPSCl_60C.csv"]


def test_cli_batch_failure_mid_stream_closes_the_document(capsys, monkeypatch):
    """The second spectrum cannot be reported: the first stays, the rest are listed as
    failures, the Arrhenius summary is still written, and the exit code is 1."""
    # the report's step for each spectrum (its text from the fit, or from what the fit's
    # worker sent with it) fails for the second one
    original = Series._spectrum_texts

    def second_fails(self, allow_nan):
        for k, text in enumerate(original(self, allow_nan)):
            if k == 1:
                raise ValueError("cannot report this one")
            yield text
    argv = ["batch", str(DATA), *CELL, "--json", "--workers", "1", "--no-kk"]
    rc, out, err = cli_run(argv, capsys)
    assert rc == 0
    whole = json.loads(out)
    monkeypatch.setattr(Series, "_spectrum_texts", second_fails)
    rc, out, err = cli_run(argv, capsys)
    assert rc == 1
    d = json.loads(out)
    assert d["spectra"] == whole["spectra"][:1]
    assert [f["source"] for f in d["failures"]] == ["LPSCl_50C.csv", "LPSCl_70C.csv",
                                                      "LPSCl_100C.csv"]
    assert all("cannot report this one" in f["error"] for f in d["failures"])
    assert d["arrhenius"] == whole["arrhenius"]  # the summary stands on the fits
    assert "stopped early" in err and "Traceback" not in err


def test_cli_batch_summary_failure_closes_the_document(capsys, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("no summary")

    monkeypatch.setattr(Series, "arrhenius_all", broken)
    rc, out, err = cli_run(["batch", str(DATA), *CELL, "--json", "--workers", "1", "--no-kk"],
                           capsys)
    assert rc == 1
    d = json.loads(out)
    assert len(d["spectra"]) == len(FILES)
    assert d["arrhenius"] == {}
    assert d["failures"] == [{"source": "arrhenius",
                              "error": "summary not reported: RuntimeError: no summary"}]


def test_cli_batch_interrupt_mid_stream_closes_the_document(capsys, monkeypatch):
    original = Series._spectrum_texts

    def interrupted(self, allow_nan):
        for k, text in enumerate(original(self, allow_nan)):
            if k == 2:
                raise KeyboardInterrupt
            yield text

    monkeypatch.setattr(Series, "_spectrum_texts", interrupted)
    rc, out, err = cli_run(["batch", str(DATA), *CELL, "--json", "--workers", "1", "--no-kk"],
                           capsys)
    assert rc == 130
    d = json.loads(out)
    assert len(d["spectra"]) == 2
    assert [f["error"] for f in d["failures"]] == ["not reported: interrupted"] * 2


def test_cli_batch_error_before_printing(capsys):
    rc, out, err = cli_run(["batch", str(DATA), "--thickness", "1", "--diameter", "10mm",
                            "--json"], capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("eisfit: error: ")
    rc, out, err = cli_run(["batch", str(DATA / "missing.csv"), *CELL, "--json"], capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1
