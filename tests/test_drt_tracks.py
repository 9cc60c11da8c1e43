"""DRT tracks: circuit-free activation energies against synthetic series of known Ea, a known
slope change, a wrong circuit, the batch command line, and a real LCR-meter LATP series."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import eisfit
from eisfit.analysis.activation import K_B_EV
from eisfit.analysis.drt_tracks import DrtTracks, drt_arrhenius, slope_change, track_peaks
from eisfit.cli.main import main
from eisfit.model.synthetic import add_noise, arc_q, frequencies

EA_BULK, EA_GB = 0.30, 0.45
C_BULK, C_GB = 5e-12, 1e-9  # F, the same at every temperature: τ = RC is activated as R is
TEMPS_C = (25, 35, 45, 55, 65, 75, 85)


def _ea_factor(ea: float | tuple[float, float, float], t: float, t0: float) -> float:
    """R(T)/R(T0) of σT = A exp(−Ea/kT); ``(Ea below, Ea above, T_c)`` breaks at T_c = T0."""
    if not isinstance(ea, tuple):
        return (t / t0) * math.exp(ea / K_B_EV * (1 / t - 1 / t0))
    below, above, _ = ea
    e = below if t < t0 else above
    return (t / t0) * math.exp(e / K_B_EV * (1 / t - 1 / t0))


def blocking_series(
    temps_c=TEMPS_C, ea_bulk=EA_BULK, ea_gb=EA_GB, r_bulk=1e5, r_gb=3e5, c_gb=C_GB,
    t0=298.15, seed=1,
) -> list[eisfit.Spectrum]:
    """A blocking cell at each temperature: 10 Ω, bulk arc (n 0.95), grain-boundary arc
    (n 0.85), electrode CPE; resistances r_bulk, r_gb at t0; 1 % noise; 10 MHz-0.1 Hz."""
    rng = np.random.default_rng(seed)
    f = frequencies(1e7, 0.1, 10)
    circuit = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    out = []
    for tc in temps_c:
        t = tc + 273.15
        rb, rgb = r_bulk * _ea_factor(ea_bulk, t, t0), r_gb * _ea_factor(ea_gb, t, t0)
        p = [10, rb, arc_q(rb, C_BULK, 0.95), 0.95, rgb, arc_q(rgb, c_gb, 0.85), 0.85, 1e-6, 0.85]
        z = add_noise(circuit.impedance(f, p), 0.01, rng)
        out.append(eisfit.Spectrum(f, z, {"source": f"cell_{tc:g}C", "temperature": t}))
    return out


@pytest.fixture(scope="module")
def two_arcs():
    """The 0.30/0.45 eV series fitted with the blocking circuit, and its DRT tracks."""
    series = eisfit.fit_series(blocking_series(), circuit="blocking", neighbours=False)
    return series, series.drt_arrhenius()


def test_two_tracks_give_both_activation_energies(two_arcs):
    series, res = two_arcs
    tracks = res.analysed
    assert len(tracks) == 2
    bulk, gb = tracks  # ordered by τ: the bulk relaxes faster
    for track, truth in ((bulk, EA_BULK), (gb, EA_GB)):
        assert track.n == len(TEMPS_C)
        assert track.ea_resistance.Ea_eV == pytest.approx(truth, abs=0.03)
        assert track.ea_tau.Ea_eV == pytest.approx(truth, abs=0.03)
        assert track.ea_resistance.Ea_stderr_eV > 0
        assert track.slope_change is not None and not track.slope_change.significant
    # τ against the truth RC at 25 °C, R against the truth
    assert bulk.tau_s[0] == pytest.approx(1e5 * C_BULK, rel=0.1)
    assert gb.resistance_ohm[0] == pytest.approx(3e5, rel=0.05)


def test_tracks_match_the_circuit_roles_and_agree(two_arcs):
    series, res = two_arcs
    bulk, gb = res.analysed
    assert (bulk.role, gb.role) == ("bulk", "grain_boundary")
    for track, truth in ((bulk, EA_BULK), (gb, EA_GB)):
        assert track.circuit_ea.Ea_eV == pytest.approx(truth, abs=0.02)
        assert track.agreement == "agree"
    text = res.report()
    assert "grain boundary" in text and "DISAGREE" not in text


def test_track_peaks_from_spectra_alone_and_sorted():
    spectra = blocking_series()[::-2]  # any order: tracks follow ascending temperature
    tracks = track_peaks(spectra)
    long = [t for t in tracks if t.n >= 3]
    assert len(long) == 2
    assert all(np.all(np.diff(t.temperature_K) > 0) for t in long)
    assert all(np.all(np.diff(t.tau_s) < 0) for t in long)  # τ falls as T rises


def test_slope_change_found_near_the_transition():
    t_c = 323.15
    spectra = blocking_series(temps_c=(-20, 0, 20, 40, 60, 80, 100, 120),
                              ea_bulk=(0.5, 0.3, t_c), t0=t_c, seed=3)
    res = drt_arrhenius(spectra)
    assert isinstance(res, DrtTracks) and not res.compared
    bulk, gb = res.analysed
    change = bulk.slope_change
    assert change.significant
    assert change.break_K == pytest.approx(t_c, abs=15)
    assert change.Ea_below_eV == pytest.approx(0.5, abs=0.04)
    assert change.Ea_above_eV == pytest.approx(0.3, abs=0.04)
    assert not gb.slope_change.significant  # the grain boundary keeps one Ea
    assert "slope change at" in res.report()


def test_slope_change_function_on_exact_lines():
    t = np.linspace(250, 400, 9)
    one = np.exp(0.4 / (K_B_EV * t)) * t
    assert not slope_change(t, one).significant
    t_c = 320.0
    ea = np.where(t < t_c, 0.6, 0.3)
    # continuous at T_c: ln(T/R) = −Ea/k (1/T − 1/T_c)
    r = t * np.exp(ea / K_B_EV * (1 / t - 1 / t_c))
    r *= 1 + 0.002 * np.random.default_rng(0).standard_normal(t.size)
    change = slope_change(t, r)
    assert change.significant and change.break_K == pytest.approx(t_c, abs=10)
    assert slope_change(t[:5], r[:5]) is None  # too few temperatures


def test_wrong_circuit_is_flagged():
    # arcs 1.3 decades apart: a one-arc circuit takes both, with a mixed Ea
    spectra = blocking_series(ea_bulk=0.30, ea_gb=0.55, r_bulk=1e5, r_gb=1e5, c_gb=1e-10,
                              t0=328.15)
    series = eisfit.fit_series(spectra, circuit="blocking-single", neighbours=False)
    res = series.drt_arrhenius()
    flagged = [t for t in res.analysed if t.agreement == "disagree"]
    assert len(flagged) == 1
    track = flagged[0]
    assert track.role == "bulk"
    assert abs(track.circuit_ea.Ea_eV - track.ea_resistance.Ea_eV) > 0.05
    assert "DISAGREE" in res.report()


def test_batch_drt_tracks_json_and_outputs(tmp_path, capsys):
    folder = tmp_path / "cell"
    folder.mkdir()
    temps = TEMPS_C[::2]  # four temperatures keep the command quick
    for s in blocking_series(temps_c=temps):
        name = folder / f"{s.meta['source']}.csv"
        np.savetxt(name, np.column_stack([s.frequency, s.z.real, s.z.imag]), delimiter=",",
                   header="freq/Hz,Re(Z)/Ohm,Im(Z)/Ohm", comments="")
    out = tmp_path / "out"
    code = main(["batch", str(folder), "--drt-tracks", "--json", "--workers", "1", "--no-kk",
                 "--out", str(out)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    tracks = [t for t in doc["drt_tracks"]["tracks"] if t["Ea_resistance"] is not None]
    assert [t["role"] for t in tracks] == ["bulk", "grain_boundary"]
    for t, truth in zip(tracks, (EA_BULK, EA_GB), strict=True):
        assert t["Ea_resistance"]["Ea_eV"] == pytest.approx(truth, abs=0.03)
        assert t["Ea_tau"]["Ea_eV"] == pytest.approx(truth, abs=0.03)
        assert t["agreement"] == "agree"
    assert len(doc["drt_tracks"]["spectra"]) == len(temps)
    assert (out / "drt_tracks.png").stat().st_size > 1000
    assert "Activation energies from the DRT" in (out / "report.html").read_text("utf-8")


LATP = "m0l0t0ph__thesis/Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__"
#: Files of the series that read cleanly (the others' phase wraps around ±180°).
LATP_CLEAN = ("17.07.2015__LRC_0_  29°C.txt", "17.07.2015__LRC_0_  -1°C.txt",
              "17.07.2015__LRC_0_  -17°C.txt", "17.07.2015__LRC_0_  -27°C.txt",
              "17.07.2015__LRC_0_  -50°C.txt")


def test_real_latp_series(corpus_dir):
    files = [corpus_dir / (LATP + name) for name in LATP_CLEAN]
    series = eisfit.fit_series(files, circuit="blocking-single", neighbours=False)
    res = series.drt_arrhenius()
    # the record: the DRT Ea beside the circuit's (here the bulk is the high-frequency
    # intercept of the fits, with no arc to match by time constant)
    print(res.report())
    for role, a in series.arrhenius_all().items():
        print(f"circuit {role}: Ea = {a.Ea_eV:.3f} eV ({a.reason or 'determined'})")
    positive = [t for t in res.analysed if t.ea_resistance.Ea_eV > 0]
    assert positive, res.report()
    best = max(positive, key=lambda t: t.n)
    assert best.n >= 4
    assert 0.005 < best.ea_resistance.Ea_eV < 0.5  # a weakly activated resistance
