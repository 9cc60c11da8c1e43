"""Temperature series: temperatures, fits, Arrhenius against independent truth."""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.analysis.activation import ArrheniusError
from eisfit.exceptions import EisfitError
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.output import OutputExistsError
from eisfit.series.temperature import (
    Series,
    SeriesError,
    fit_series,
    read_temperature_table,
    temperature_from_name,
)
from eisfit.store import ResultView

K_B = 8.617333262e-5  # eV/K, CODATA
DATA = Path(__file__).resolve().parents[1] / "data"
BLOCKING = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
GEOMETRY = dict(thickness="1 mm", diameter="10 mm")


def write_csv(path: Path, f: np.ndarray, z: np.ndarray) -> Path:
    """A file the generic reader reads: Hz, Ohm, -Im(Z)."""
    rows = "\n".join(f"{a:.9e},{b.real:.9e},{-b.imag:.9e}" for a, b in zip(f, z, strict=True))
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + rows + "\n", encoding="utf-8")
    return path


def draw_series(rng: np.random.Generator, bulk_apex_top_hz: float) -> dict:
    """A blocking-cell temperature series, -40..50 °C in 10 K steps, σT Arrhenius laws.

    The bulk apex at the hottest temperature is ``bulk_apex_top_hz``; bulk C 2-8 pF,
    grain-boundary C ~1 nF, bulk Ea 0.28-0.45 eV, grain-boundary Ea 0.40-0.60 eV.
    """
    t = np.arange(-40.0, 51.0, 10.0) + 273.15
    ea_b, ea_gb = rng.uniform(0.28, 0.45), rng.uniform(0.40, 0.60)
    c_b = 10 ** rng.uniform(np.log10(2e-12), np.log10(8e-12))
    c_gb = 10 ** rng.uniform(-9.2, -8.8)
    r_b_top = 1 / (2 * np.pi * bulk_apex_top_hz * c_b)
    ratio = 10 ** rng.uniform(-0.3, 0.7)
    return {
        "T": t,
        "ea_b": ea_b,
        "ea_gb": ea_gb,
        "c_b": c_b,
        "c_gb": c_gb,
        "n_b": rng.uniform(0.9, 1.0),
        "n_gb": rng.uniform(0.8, 0.95),
        "q_el": 10 ** rng.uniform(-6.5, -5.5),
        "n_el": rng.uniform(0.8, 0.9),
        # R ∝ T exp(Ea / kT), so that ln(σT) is linear in 1/T
        "r_b": r_b_top * np.exp(ea_b / K_B * (1 / t - 1 / t[-1])) * t / t[-1],
        "r_gb": ratio * r_b_top * np.exp(ea_gb / K_B * (1 / t - 1 / t[-1])) * t / t[-1],
    }


def series_spectra(rng: np.random.Generator, d: dict, noise: float = 0.005) -> list[Spectrum]:
    f = frequencies(7e6, 0.1, 10)
    circ = Circuit(BLOCKING)
    out = []
    for i, t in enumerate(d["T"]):
        rb, rgb = d["r_b"][i], d["r_gb"][i]
        p = [1.5, rb, arc_q(rb, d["c_b"], d["n_b"]), d["n_b"],
             rgb, arc_q(rgb, d["c_gb"], d["n_gb"]), d["n_gb"], d["q_el"], d["n_el"]]
        z = add_noise(circ.impedance(f, p), noise, rng)
        out.append(Spectrum(f, z, {"source": f"pellet_{t - 273.15:.0f}C.csv"}))
    return out


def spike_files(tmp_path: Path, conductances_S: dict[float, float], rng) -> list[Path]:
    """R0-CPE1 spectra (the electrode spike only) with R0 = 1/G, named by temperature."""
    f = frequencies(7e6, 0.1, 10)
    out = []
    for t_c, g in conductances_S.items():
        z = Circuit("R0-CPE1").impedance(f, [1 / g, 2e-6, 0.85])
        out.append(write_csv(tmp_path / f"LPSC_{t_c:g}C.csv", f, add_noise(z, 0.005, rng)))
    return out


# --------------------------------------------------------------------------- temperatures
@pytest.mark.parametrize(
    ("name", "kelvin"),
    [
        ("LATP_-10C.csv", 263.15),
        ("pellet_25C.mpt", 298.15),
        ("pellet_25degC.mpt", 298.15),
        ("cell_298K.txt", 298.0),
        ("run_T=25.csv", 298.15),
        ("run_T=-5.csv", 268.15),
        ("x_T25C.csv", 298.15),
        ("Li6PS5Cl_60C.csv", 333.15),  # "5Cl" is not a temperature
        ("pellet-25C.csv", 298.15),  # a dash after a letter is a separator
        ("a_25.5C.csv", 298.65),
        ("LLZO 60 °C.csv", 333.15),
        ("folder_30C/Li6PS5Cl.csv", None),  # only the file name counts
        ("CR2032_run1.csv", None),
        ("a_25C_b_25C.csv", 298.15),  # the same twice is fine
    ],
)
def test_temperature_from_name(name, kelvin):
    got = temperature_from_name(name)
    if kelvin is None:
        assert got is None
    else:
        assert got == pytest.approx(kelvin)


def test_two_temperatures_in_a_name_is_an_error():
    with pytest.raises(SeriesError, match="several temperatures"):
        temperature_from_name("a_25C_30C.csv")


@pytest.fixture(scope="module")
def small_series_dir(tmp_path_factory):
    """Four blocking-cell files with the bulk arc inside the window."""
    d = draw_series(np.random.default_rng(11), 3e5)
    folder = tmp_path_factory.mktemp("series")
    for s in series_spectra(np.random.default_rng(12), d)[::3]:
        write_csv(folder / s.source, s.frequency, s.z)
    return folder, d


def test_missing_temperature_names_the_file(tmp_path):
    f = frequencies(1e6, 1, 5)
    z = Circuit("R0-CPE1").impedance(f, [100, 1e-6, 0.9])
    write_csv(tmp_path / "a_25C.csv", f, z)
    write_csv(tmp_path / "nameless.csv", f, z)
    with pytest.raises(SeriesError, match="nameless.csv: no temperature"):
        fit_series(tmp_path, circuit="blocking-spike")
    with pytest.raises(SeriesError, match="a_25C.csv: the file records no temperature"):
        fit_series([tmp_path / "a_25C.csv"], temperatures="metadata")


def test_kelvin_below_150_suggests_celsius(tmp_path):
    f = frequencies(1e6, 1, 5)
    z = Circuit("R0-CPE1").impedance(f, [100, 1e-6, 0.9])
    p = write_csv(tmp_path / "a_25K.csv", f, z)
    with pytest.raises(SeriesError, match=r"below 150 K; if it is in °C, give it as 25C"):
        fit_series([p], circuit="blocking-spike")
    with pytest.raises(SeriesError, match="below 150 K"):
        fit_series([p], circuit="blocking-spike", temperatures=[80.0])
    assert issubclass(SeriesError, EisfitError)


def test_temperatures_from_table_metadata_and_list(tmp_path, small_series_dir):
    folder, d = small_series_dir
    files = sorted(folder.iterdir())
    names = [p.name for p in files]
    kelvin = [temperature_from_name(n) for n in names]
    # by file name, in °C, with a comment line
    table = tmp_path / "t.csv"
    table.write_text(
        "# temperatures\nfile,temperature_C\n"
        + "".join(f"{n},{k - 273.15:.2f}\n" for n, k in zip(names, kelvin, strict=True))
    )
    assert read_temperature_table(table)[names[0]] == pytest.approx(kelvin[0])
    s1 = fit_series(files, geometry=eisfit.Geometry(**GEOMETRY), temperatures=table)
    # by path, in K
    table_k = tmp_path / "tk.csv"
    table_k.write_text(
        "file,temperature_K\n" + "".join(f"{p},{k}\n" for p, k in zip(files, kelvin, strict=True))
    )
    s2 = fit_series(files, temperatures=table_k)
    np.testing.assert_allclose(s1.temperatures_K, sorted(kelvin), atol=0.006)
    np.testing.assert_allclose(s2.temperatures_K, sorted(kelvin))
    # metadata and list
    spectra = [Spectrum(*_arrays(p), temperature=k) for p, k in zip(files, kelvin, strict=True)]
    s3 = fit_series(spectra, temperatures="metadata")
    s4 = fit_series(files, temperatures=kelvin)
    np.testing.assert_allclose(s3.temperatures_K, sorted(kelvin))
    np.testing.assert_allclose(s4.temperatures_K, sorted(kelvin))
    # a file missing from the table
    short = tmp_path / "short.csv"
    short.write_text(f"file,temperature_C\n{names[0]},25\n")
    with pytest.raises(SeriesError, match=f"{names[1]}: not listed in the temperature table"):
        fit_series(files, temperatures=short)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,T\na,1\n")
    with pytest.raises(SeriesError, match="'file' column"):
        fit_series(files, temperatures=bad)
    with pytest.raises(SeriesError, match="2 temperatures given for 4 inputs"):
        fit_series(files, temperatures=[300.0, 310.0])


def _arrays(p: Path):
    a = np.loadtxt(p, delimiter=",", skiprows=1)
    return a[:, 0], a[:, 1] - 1j * a[:, 2]


def test_duplicate_temperatures_warn(small_series_dir):
    folder, _ = small_series_dir
    files = sorted(folder.iterdir())[:2]
    s = fit_series(files, temperatures=[300.0, 300.0])
    assert any("same temperature" in w for w in s.warnings)
    d = s.to_dict()
    assert all(any("same temperature" in w for w in x["warnings"]) for x in d["spectra"])


# --------------------------------------------------------------------------- published checks
@pytest.mark.parametrize(
    ("g_mS", "ea_lnsT", "ea_lns"),
    [((16.62, 272.48), 0.418, 0.389), ((291.55, 1587.30), 0.265, None)],
)
def test_published_end_points(tmp_path, g_mS, ea_lnsT, ea_lns):
    """Published conductances at 30 and 100 °C through files, fits and Series."""
    rng = np.random.default_rng(3)
    files = spike_files(tmp_path, {30: g_mS[0] / 1e3, 100: g_mS[1] / 1e3}, rng)
    s = fit_series(files, circuit="blocking-spike")
    assert len(s) == 2 and not s.failures
    r = [x.resistances["total"] for x in s.results]
    np.testing.assert_allclose([1e3 / x for x in r], g_mS, rtol=5e-3)
    a = s.arrhenius("total")
    assert a.quantity == "conductance" and a.n == 2
    assert a.Ea_eV == pytest.approx(ea_lnsT, abs=0.0015)
    if ea_lns is not None:
        assert s.arrhenius("total", form="ln(sigma)").Ea_eV == pytest.approx(ea_lns, abs=0.0015)
    # geometry changes the prefactor, not Ea
    sg = fit_series(files, circuit="blocking-spike", geometry=eisfit.Geometry(**GEOMETRY))
    assert sg.arrhenius("total").quantity == "conductivity"
    assert sg.arrhenius("total").Ea_eV == pytest.approx(a.Ea_eV, abs=1e-9)


# --------------------------------------------------------------------------- synthetic series
def _rates(apex_lo: float, apex_hi: float, n_series: int = 10):
    g = eisfit.Geometry(**GEOMETRY)
    err_b, err_gb, n_out = [], [], []
    for seed in range(n_series):
        rng = np.random.default_rng(seed)
        d = draw_series(rng, 10 ** rng.uniform(np.log10(apex_lo), np.log10(apex_hi)))
        s = fit_series(series_spectra(rng, d), geometry=g, temperatures=list(d["T"]))
        assert not s.failures
        err_b.append(s.arrhenius("bulk").Ea_eV - d["ea_b"])
        err_gb.append(s.arrhenius("grain_boundary").Ea_eV - d["ea_gb"])
        n_out.append(int((1 / (2 * np.pi * d["r_b"] * d["c_b"]) > 7e6).sum()))
    return np.abs(err_b), np.abs(err_gb), n_out


def test_synthetic_series_bulk_inside_window():
    eb, eg, n_out = _rates(1e5, 2e6)
    assert max(n_out) == 0
    print(
        f"\nbulk arc inside 7 MHz-0.1 Hz, 10 series x 10 T, 0.5 % noise: "
        f"|dEa_bulk| <= 0.01 eV in {np.mean(eb <= 0.01):.0%} (max {eb.max():.4f} eV), "
        f"|dEa_gb| <= 0.02 eV in {np.mean(eg <= 0.02):.0%} (max {eg.max():.4f} eV)"
    )
    assert np.all(eb <= 0.01)
    assert np.all(eg <= 0.02)


def test_synthetic_series_bulk_leaving_window():
    """The bulk apex passes 7 MHz as T rises (4-8 of 10 temperatures above the window)."""
    eb, eg, n_out = _rates(2e7, 2e8)
    print(
        f"\nbulk arc leaving the window ({min(n_out)}-{max(n_out)} of 10 T above 7 MHz): "
        f"|dEa_bulk| <= 0.01 eV in {np.mean(eb <= 0.01):.0%} (max {eb.max():.4f} eV), "
        f"|dEa_gb| <= 0.02 eV in {np.mean(eg <= 0.02):.0%} (max {eg.max():.4f} eV)"
    )
    assert min(n_out) >= 3
    assert np.all(eb <= 0.01)
    assert np.all(eg <= 0.02)


def test_latp_example_data_matches_truth():
    truth = json.loads((DATA / "truth.json").read_text())
    geo = eisfit.Geometry(**truth["geometry"])
    s = fit_series(DATA / "latp_pellet", geometry=geo)
    assert len(s) == 8 and not s.failures
    assert s.arrhenius("bulk").Ea_eV == pytest.approx(truth["Ea_eV"]["bulk"], abs=0.01)
    assert s.arrhenius("grain_boundary").Ea_eV == pytest.approx(
        truth["Ea_eV"]["grain_boundary"], abs=0.02
    )
    for lab, r in zip(s.labels, s.results, strict=True):
        t = truth["latp_pellet"][lab]
        assert r.resistances["grain_boundary"] == pytest.approx(t["grain_boundary_ohm"], rel=0.02)


def test_interface_role_uses_asr(tmp_path):
    """Li symmetric cells: interface Ea from R_int·A/2 with quantity 'resistance'."""
    rng = np.random.default_rng(5)
    f = frequencies(7e6, 0.1, 10)
    t = np.array([0.0, 20, 40, 60]) + 273.15
    r_int = 300 * np.exp(0.5 / K_B * (1 / t - 1 / t[-1])) * t / t[-1]
    r_b = 50 * np.exp(0.35 / K_B * (1 / t - 1 / t[-1])) * t / t[-1]
    spectra = []
    for i, tk in enumerate(t):
        p = [2.0, r_b[i], arc_q(r_b[i], 5e-12, 0.95), 0.95, r_int[i], arc_q(r_int[i], 1e-6, 0.85),
             0.85]
        z = add_noise(Circuit("R0-p(R1,CPE1)-p(R2,CPE2)").impedance(f, p), 0.005, rng)
        spectra.append(Spectrum(f, z, {"source": f"LiLi_{tk - 273.15:.0f}C.csv"}))
    geo = eisfit.Geometry(**GEOMETRY)
    s = fit_series(spectra, circuit="li-symmetric", geometry=geo)
    a = s.arrhenius("interface")
    assert a.quantity == "resistance"
    assert a.Ea_eV == pytest.approx(0.5, abs=0.02)
    asr0 = s.to_frame()["ASR_interface_ohm_cm2"].iloc[0]
    assert asr0 == pytest.approx(r_int[0] * geo.area_m2 * 1e4 / 2, rel=0.02)


# --------------------------------------------------------------------------- failures, output
def test_corrupt_file_goes_to_failures(tmp_path, small_series_dir):
    folder, _ = small_series_dir
    files = sorted(folder.iterdir())
    bad = tmp_path / "broken_20C.csv"
    bad.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e6,12,abc\n1e5,\n")
    s = fit_series([*files, bad])
    assert len(s) == len(files)
    assert [f["source"] for f in s.failures] == ["broken_20C.csv"]
    assert "\n" not in s.failures[0]["error"] and s.failures[0]["error"]
    assert "broken_20C.csv" in s.report()


def test_missing_role_is_skipped_and_listed(small_series_dir):
    folder, _ = small_series_dir
    files = sorted(folder.iterdir())
    full = [eisfit.fit(eisfit.read(p), "blocking") for p in files[:3]]
    single = eisfit.fit(eisfit.read(files[3]), "R0-p(R1,CPE1)-CPE2")
    temps = [temperature_from_name(p.name) for p in files]
    s = Series([*full, single], temps, [p.name for p in files])
    a = s.arrhenius("grain_boundary")
    assert a.n == 3
    assert any(files[3].name in w and "skipped" in w for w in a.warnings)
    assert s.missing("grain_boundary") == [files[3].name]
    with pytest.raises(ArrheniusError, match="role 'interface'"):
        s.arrhenius("interface")


def test_outputs(tmp_path, small_series_dir):
    folder, _ = small_series_dir
    s = fit_series(folder, geometry=eisfit.Geometry(**GEOMETRY))
    d = s.to_dict()
    assert set(d) == {"spectra", "arrhenius", "failures"}
    assert set(d["arrhenius"]) == {"bulk", "grain_boundary", "total"}
    for key in ("Ea_eV", "Ea_stderr_eV", "Ea_kJ_per_mol", "ln_prefactor", "r2", "form",
                "T_min_K", "T_max_K", "n"):
        assert key in d["arrhenius"]["bulk"]
    for x in d["spectra"]:
        for key in ("source", "spectrum", "circuit", "circuit_name", "n_points", "weighting",
                    "chi_square", "temperature_K", "parameters", "resistances_ohm",
                    "resistance_stderr_ohm", "capacitances_F", "conductivity_S_per_cm",
                    "warnings"):
            assert key in x
    json.dumps(d, allow_nan=False)
    frame = s.to_frame()
    for col in ("file", "T_K", "T_C", "R_bulk_ohm", "R_bulk_stderr_ohm", "C_bulk_F",
                "sigma_bulk_S_per_cm", "sigma_bulk_stderr_S_per_cm", "chi_square", "warnings"):
        assert col in frame.columns
    assert list(frame["T_K"]) == sorted(frame["T_K"])
    out = s.to_csv(tmp_path / "r.csv")
    with pytest.raises(OutputExistsError):
        s.to_csv(out)
    s.to_csv(out, force=True)
    assert "[[Arrhenius]]" in s.report()
    s.labels[0] = "<b>x</b>"
    h = s._repr_html_()
    assert "<b>x</b>" not in h and "&lt;b&gt;x&lt;/b&gt;" in h
    assert math.isfinite(s.arrhenius("bulk").Ea_stderr_eV)


@pytest.mark.parametrize("joint", [False, True])
def test_streamed_json_is_the_whole_objects_text(tmp_path, small_series_dir, joint):
    # the batch's JSON is written one spectrum at a time; it must be the same text
    folder, _ = small_series_dir
    bad = tmp_path / "broken_20C.csv"
    bad.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e6,12,abc\n")
    s = fit_series([*sorted(folder.iterdir()), bad], joint=joint)
    assert s.failures and (s.joint is not None) == joint
    expected = json.dumps(s.to_dict(), indent=2, allow_nan=False)
    assert "".join(s.json_chunks()) == expected
    assert len(list(s.json_chunks())) == len(s) + 2  # one piece a spectrum
    path = s.to_json(tmp_path / "series.json")
    assert path.read_text() == expected + "\n"
    empty = Series([], [], [], failures=s.failures)
    assert "".join(empty.json_chunks()) == json.dumps(empty.to_dict(), indent=2)


# --------------------------------------------------------------------------- streamed series
MULTI = Path(__file__).resolve().parent / "data" / "io" / "multitrace_two_channels.csv"


def _same_series(a: Series, b: Series) -> None:
    """Every output of two series is the same text and the same numbers."""
    assert "".join(a.json_chunks(allow_nan=True)) == "".join(b.json_chunks(allow_nan=True))
    assert a.report() == b.report()
    assert a.labels == b.labels and a.failures == b.failures and a.warnings == b.warnings
    np.testing.assert_array_equal(a.temperatures_K, b.temperatures_K)
    assert a.roles == b.roles
    arr_a, arr_b = a.arrhenius_all(), b.arrhenius_all()
    assert list(arr_a) == list(arr_b)
    for role in arr_a:
        assert json.dumps(arr_a[role].to_dict()) == json.dumps(arr_b[role].to_dict())
        assert arr_a[role].warnings == arr_b[role].warnings
        assert a.missing(role) == b.missing(role)
    fa, fb = a.to_frame(), b.to_frame()
    assert fa.to_csv() == fb.to_csv()


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory, small_series_dir):
    """The small series, a corrupt file, a file whose fit fails (3 points), a file holding two
    spectra, and a second file at an existing temperature."""
    folder, _ = small_series_dir
    d = tmp_path_factory.mktemp("mixed")
    files = sorted(folder.iterdir())
    for p in files:
        shutil.copy(p, d / p.name)
    shutil.copy(files[1], d / f"copy_{files[1].name}")
    (d / "broken_20C.csv").write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e6,12,abc\n")
    (d / "tiny_21C.csv").write_text(
        "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e5,100,5\n1e3,150,30\n10,400,20\n"
    )
    shutil.copy(MULTI, d / "multi_35C.csv")
    return d


@pytest.mark.parametrize(("workers", "joint"), [(1, False), (2, False), (1, True)])
def test_streamed_series_equals_in_memory(mixed_dir, workers, joint):
    geometry = eisfit.Geometry(**GEOMETRY)
    kw = dict(geometry=geometry, workers=workers, joint=joint, kk=True)
    mem = fit_series(mixed_dir, **kw)
    streamed = fit_series(mixed_dir, stream=True, **kw)
    assert isinstance(mem.results, list)
    assert isinstance(streamed.results, ResultView) and streamed.results.store.sealed
    _same_series(mem, streamed)
    # the corrupt file, then the fit that failed; the two-spectrum file's labels
    assert [f["source"] for f in streamed.failures] == ["broken_20C.csv", "tiny_21C.csv"]
    assert {"multi_35C.csv[0]", "multi_35C.csv[1]"} <= set(streamed.labels)
    assert any("same temperature" in w for w in streamed.warnings)
    if workers == 1:  # the neighbour walk replaced fits in the store as in the list
        notes = [lab for lab, r in zip(mem.labels, mem.results, strict=True)
                 if any("refitted from its neighbours" in w for w in r.warnings)]
        notes_s = [lab for lab, r in zip(streamed.labels, streamed.results, strict=True)
                   if any("refitted from its neighbours" in w for w in r.warnings)]
        assert notes == notes_s
    with tempfile.TemporaryDirectory() as tmp:
        a = mem.to_json(Path(tmp) / "a.json", allow_nan=True).read_bytes()
        b = streamed.to_json(Path(tmp) / "b.json", allow_nan=True).read_bytes()
        assert a == b
        assert (mem.to_csv(Path(tmp) / "a.csv").read_bytes()
                == streamed.to_csv(Path(tmp) / "b.csv").read_bytes())


def test_streamed_series_from_spectra_lists_and_metadata(small_series_dir):
    folder, _ = small_series_dir
    files = sorted(folder.iterdir())
    kelvin = [temperature_from_name(p.name) for p in files]
    spectra = [Spectrum(*_arrays(p), temperature=k) for p, k in zip(files, kelvin, strict=True)]
    for given, temps in ((spectra, "metadata"), (files, kelvin), (files[::-1], kelvin[::-1]),
                         (files, "metadata")):
        try:
            mem = fit_series(given, temperatures=temps)
        except SeriesError as exc:
            with pytest.raises(SeriesError, match=re.escape(str(exc))):
                fit_series(given, temperatures=temps, stream=True)
            continue
        _same_series(mem, fit_series(given, temperatures=temps, stream=True))


def test_streamed_series_arrhenius_follows_a_new_geometry(small_series_dir):
    folder, _ = small_series_dir
    mem, streamed = fit_series(folder), fit_series(folder, stream=True)
    assert streamed.arrhenius("bulk").quantity == "conductance"
    geometry = eisfit.Geometry(**GEOMETRY)
    mem.geometry = streamed.geometry = geometry
    assert streamed.arrhenius("bulk").quantity == "conductivity"
    _same_series(mem, streamed)


def _no_fitting(*args, **kwargs):
    raise AssertionError("fitting started before the temperatures were checked")


@pytest.mark.parametrize("stream", [False, True])
def test_temperature_errors_come_before_any_fitting(tmp_path, monkeypatch, stream):
    monkeypatch.setattr("eisfit.series.temperature.fit_many", _no_fitting)
    f = frequencies(1e6, 1, 5)
    z = Circuit("R0-CPE1").impedance(f, [100, 1e-6, 0.9])
    good = write_csv(tmp_path / "a_25C.csv", f, z)
    nameless = write_csv(tmp_path / "nameless.csv", f, z)
    multi = tmp_path / "multi.csv"
    shutil.copy(MULTI, multi)
    twice = write_csv(tmp_path / "b_25C_30C.csv", f, z)
    cold = write_csv(tmp_path / "c_25K.csv", f, z)
    unreadable = tmp_path / "junk.csv"
    unreadable.write_text("not data\n")
    cases = [
        ([good, nameless], "filename", "nameless.csv: no temperature in the file name"),
        ([good, multi], "filename", r"multi.csv\[0\]: no temperature in the file name"),
        ([good, twice], "filename", "b_25C_30C.csv: the name holds several temperatures"),
        ([good, cold], "filename", r"c_25K.csv: temperature 25 K \(from the file name\)"),
        ([good, nameless], [300.0, 80.0], r"nameless.csv: temperature 80 K \(from the list\)"),
        ([good, nameless], "metadata", "a_25C.csv: the file records no temperature"),
        ([good, {"x": 1}], "filename", "item 1: expected a file path or a Spectrum, got dict"),
        ([good, nameless], [300.0], "1 temperatures given for 2 inputs"),
    ]
    for given, temps, message in cases:
        with pytest.raises(SeriesError, match=message):
            fit_series(given, circuit="blocking-spike", temperatures=temps, stream=stream)
    table = tmp_path / "t.csv"
    table.write_text("file,temperature_C\na_25C.csv,25\n")
    with pytest.raises(SeriesError, match="nameless.csv: not listed in the temperature table"):
        fit_series([good, nameless], circuit="blocking-spike", temperatures=table, stream=stream)
    # a file that does not read is a failure, not an error, whatever its name
    monkeypatch.undo()
    s = fit_series([good, unreadable], circuit="blocking-spike", stream=stream)
    assert [f["source"] for f in s.failures] == ["junk.csv"] and len(s) == 1


def test_streamed_json_reads_each_result_once(small_series_dir, monkeypatch):
    # the batch JSON's pass over the results also collects what the Arrhenius summary needs
    folder, _ = small_series_dir
    s = fit_series(folder, geometry=eisfit.Geometry(**GEOMETRY), stream=True)
    store = s.results.store
    reads = []
    read = store._read
    monkeypatch.setattr(store, "_read", lambda i: reads.append(i) or read(i))
    text = "".join(s.json_chunks())
    assert sorted(reads) == list(range(len(s)))
    assert "".join(s.json_chunks()).endswith(text[-200:])  # the summary, now from the cache
    s.arrhenius_all()
    s.geometry = None  # the cache follows the geometry
    assert s.arrhenius("bulk").quantity == "conductance"
    assert len(reads) == 3 * len(s)
