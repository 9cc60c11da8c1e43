"""DC polarisation: chronoamperometry readers, steady-state Hebb–Wagner σ_e, transference
numbers and the ``eisfit polarisation`` command, against synthetic records of known σ_e and a
real DC record of the corpus."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.analysis.polarisation import bruce_vincent, hebb_wagner
from eisfit.analysis.polarisation_steady import PolarisationError, SteadyStateWarning
from eisfit.cli.main import main
from eisfit.exceptions import ReaderError
from eisfit.io.polarisation import Polarisation, read_polarisation
from eisfit.model import synthetic

GEOMETRY = eisfit.Geometry(thickness="1 mm", diameter="10 mm")
#: The electronic conductivity the synthetic records are made from (S/cm).
SIGMA_E = 2.0e-9
DV = 0.5  # V


def _current(t: np.ndarray, dv: float, rng: np.random.Generator, *, tau: float = 300.0,
             noise: float = 0.003) -> np.ndarray:
    """I(t) = I_ss + I_1 exp(-t/τ) + noise, I_ss = σ_e ΔV A/L, I_1 = 20 I_ss."""
    i_ss = SIGMA_E * dv / GEOMETRY.cell_constant_per_cm
    return i_ss + 20 * i_ss * np.exp(-t / tau) + noise * i_ss * rng.standard_normal(t.size)


def _record(seed: int = 1, duration: float = 3600.0, dt: float = 2.0, tau: float = 300.0):
    rng = np.random.default_rng(seed)
    t = np.arange(dt, duration + dt / 2, dt)
    return t, _current(t, DV, rng, tau=tau)


def write_mpt(path: Path, t, current_A, volts) -> Path:
    """An EC-Lab CA export: cp1252 header (µ, ², °), German decimal commas."""
    names = ("mode\tox/red\terror\tcontrol changes\tNs changes\tcounter inc.\ttime/s\t"
             "control/V\tEwe/V\t<I>/mA\tdQ/C\t(Q-Qo)/mA.h\tI Range\tNs")
    header = [
        "EC-Lab ASCII FILE", "Nb header lines : {n}", "",
        "Chronoamperometry / Chronocoulometry", "",
        "Run on channel : 3 (SN 1234)", "User : ", "Electrode connection : standard",
        "Acquisition started on : 03/14/2024 10:00:00.000",
        "Device : VMP3 (SN 1083)", "EC-Lab for windows v11.36 (software)",
        "Electrode material : Au", "Electrolyte : LLZO pellet 25 °C",
        "Electrode surface area : 0,785 cm²", "Comments : µ-polarisation",
        "Ei (V)              0,500", "ti (h:m:s)          1:00:00,0000",
        "Imax                10,000 µA", names,
    ]
    header[1] = header[1].format(n=len(header))
    rows = []
    for k, (tk, ik, vk) in enumerate(zip(t, current_A, volts, strict=True)):
        row = (f"2\t1\t0\t0\t0\t0\t{tk:.6E}\t{vk:.6E}\t{vk + 1e-5:.6E}\t{ik * 1e3:.8E}\t"
               f"0,000000E+000\t0,000000E+000\t41\t{k // 10**9}")
        rows.append(row.replace(".", ","))
    path.write_bytes(("\r\n".join(header + rows) + "\r\n").encode("cp1252"))
    return path


def write_dta(path: Path, t, current_A, volts) -> Path:
    """A Gamry Framework CHRONOA file with its CURVE table."""
    lines = [
        "EXPLAIN", "TAG\tCHRONOA", "TITLE\tLABEL\tChronoamperometry Scan\tTest &Identifier",
        "DATE\tLABEL\t3/14/2024\tDate", "TIME\tLABEL\t10:00:00\tTime",
        "PSTAT\tPSTAT\tREF600-12345\tPotentiostat", "VSTEP1\tQUANT\t5.00000E-001\tStep 1 V (V)",
        "AREA\tQUANT\t7.85000E-001\tSample &Area (cm^2)", "CURVE\tTABLE",
        "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver",
        "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits",
    ]
    for k, (tk, ik, vk) in enumerate(zip(t, current_A, volts, strict=True)):
        lines.append(f"\t{k}\t{tk:.6E}\t{vk:.6E}\t{ik:.6E}\t0.0\t{vk:.4f}\t0.0\t6\t..........")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    return path


def write_csv(path: Path, t, current_A, volts) -> Path:
    """A spreadsheet export: time in min, current in µA, voltage in mV."""
    rows = ["Time (min),Current (uA),Voltage (mV)"]
    rows += [f"{tk / 60:.8g},{ik * 1e6:.8g},{vk * 1e3:.6g}"
             for tk, ik, vk in zip(t, current_A, volts, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


WRITERS = {"mpt": (write_mpt, "ca.mpt"), "dta": (write_dta, "ca.DTA"),
           "csv": (write_csv, "ca.csv")}


def _within(value, truth: float, n_sigma: float = 3.0) -> bool:
    return abs(value.nominal_value - truth) <= n_sigma * value.std_dev


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_sigma_e_from_each_format(tmp_path, kind):
    """σ_e of a synthetic record written in each format: within 1 % of the truth, and its
    standard error consistent with the deviation (within 3 σ); units of each file read."""
    t, i = _record(seed=2)
    write, name = WRITERS[kind]
    p = read_polarisation(write(tmp_path / name, t, i, np.full(t.size, DV)))
    assert p.time_s[-1] == pytest.approx(t[-1], rel=1e-6)  # s, from min in the CSV
    assert p.current_A[0] == pytest.approx(i[0], rel=1e-5)
    assert np.median(p.voltage_V) == pytest.approx(DV, abs=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SteadyStateWarning)
        r = hebb_wagner(p, geometry=GEOMETRY)
    s = r.conductivity_e
    assert abs(s.nominal_value / SIGMA_E - 1) < 0.01
    assert _within(s, SIGMA_E)
    assert 0 < s.std_dev / SIGMA_E < 0.01
    assert r.resistance_e.nominal_value == pytest.approx(
        DV / (SIGMA_E * DV / GEOMETRY.cell_constant_per_cm), rel=0.01)
    assert p.meta["format"] == {"mpt": "biologic-mpt", "dta": "gamry-dta", "csv": "text"}[kind]


def test_mpt_header_read(tmp_path):
    """The EC-Lab reader reuses the PEIS header parsing: technique, start time, area."""
    t, i = _record(seed=3, duration=600)
    p = read_polarisation(write_mpt(tmp_path / "ca.mpt", t, i, np.full(t.size, DV)))
    assert p.meta["technique"] == "Chronoamperometry / Chronocoulometry"
    assert p.meta["area_cm2"] == pytest.approx(0.785)
    assert p.meta["start_time"].startswith("2024-03-14")
    assert "decimal comma" in p.meta["notes"]
    p2 = read_polarisation(write_dta(tmp_path / "ca.DTA", t, i, np.full(t.size, DV)))
    assert p2.meta["technique"] == "CHRONOA"


def test_exponential_tail_fit(tmp_path):
    """The asymptote of I_ss + A exp(-t/τ) fitted to the tail: σ_e within 1 %, τ recovered."""
    t, i = _record(seed=4, duration=1500, tau=300)  # only 5 τ: the tail's mean is 17 % high
    p = Polarisation(t, i, np.full(t.size, DV), {"source": "synthetic"})
    with pytest.warns(SteadyStateWarning):
        mean = hebb_wagner(p, geometry=GEOMETRY)
    assert mean.conductivity_e.nominal_value > 1.1 * SIGMA_E
    with pytest.warns(SteadyStateWarning):
        r = hebb_wagner(p, geometry=GEOMETRY, method="fit")
    assert abs(r.conductivity_e.nominal_value / SIGMA_E - 1) < 0.01
    assert _within(r.conductivity_e, SIGMA_E)
    assert r.steps[0].tail_fit["tau_s"] == pytest.approx(300, rel=0.1)


def test_staircase_iv_slope():
    """Four voltage steps in one record: I_ss of each, and σ_e from the slope of the I–V
    line (an offset current of 3 % of the largest I_ss is absorbed by the intercept)."""
    rng = np.random.default_rng(5)
    ts, cs, vs = [], [], []
    offset = 0.03 * SIGMA_E * 0.4 / GEOMETRY.cell_constant_per_cm
    for k, v in enumerate((0.1, 0.2, 0.3, 0.4)):
        t = np.arange(2.0, 3601.0, 4.0)
        ts.append(t + 3600 * k)
        cs.append(_current(t, v, rng) + offset)
        vs.append(np.full(t.size, v) + 2e-5 * rng.standard_normal(t.size))
    p = Polarisation(np.concatenate(ts), np.concatenate(cs), np.concatenate(vs),
                     {"source": "staircase"})
    r = hebb_wagner(p, geometry=GEOMETRY)
    assert len(r.steps) == 4
    assert [round(v, 3) for v in r.voltages_V] == [0.1, 0.2, 0.3, 0.4]
    assert "slope" in r.method
    assert abs(r.conductivity_e.nominal_value / SIGMA_E - 1) < 0.01
    assert _within(r.conductivity_e, SIGMA_E)
    assert r.intercept_A.nominal_value == pytest.approx(offset, rel=0.2)
    with pytest.raises(PolarisationError, match="4 voltage steps"):
        hebb_wagner(p, voltage=0.3)


def test_not_steady_warns():
    """A record stopped at 2 τ: the current still falls by more than 3 % over its last 10 %:
    SteadyStateWarning, and the result says the step did not reach steady state."""
    t, i = _record(seed=6, duration=600, tau=300)
    p = Polarisation(t, i, np.full(t.size, DV), {"source": "short.mpt"})
    with pytest.warns(SteadyStateWarning, match=r"short\.mpt: steady state not reached"):
        r = hebb_wagner(p, geometry=GEOMETRY)
    assert not r.steps[0].reached and r.steps[0].drift < -0.03
    assert r.to_dict()["steady_reached"] is False


def test_transference_from_given_ionic_conductivity():
    """t_ion = σ_ion/(σ_ion + σ_e) with σ_ion given with an error; t_e = 1 − t_ion; the
    ratio σ_ion/σ_e; errors propagate from both."""
    t, i = _record(seed=7)
    p = Polarisation(t, i, np.full(t.size, DV), {"source": "synthetic"})
    sigma_ion = 1.0e-7  # 50 x sigma_e: t_ion = 50/51
    r = hebb_wagner(p, geometry=GEOMETRY, ionic_conductivity=(sigma_ion, 2e-9))
    assert r.t_ion.nominal_value == pytest.approx(50 / 51, abs=5e-4)
    assert (r.t_ion + r.t_e).nominal_value == pytest.approx(1.0)
    assert r.ratio.nominal_value == pytest.approx(50, rel=0.012)
    assert r.ratio.std_dev == pytest.approx(50 * 0.02, rel=0.1)  # the 2 % of σ_ion dominates
    with pytest.raises(PolarisationError, match="geometry"):
        hebb_wagner(p, ionic_conductivity=1e-4)


def test_voltage_from_user_and_none_in_record():
    """A record without a voltage column needs the voltage; the user's wins."""
    t, i = _record(seed=8)
    p = Polarisation(t, i, None, {"source": "novolts.csv"})
    with pytest.raises(PolarisationError, match="novolts.csv: the record has no voltage"):
        hebb_wagner(p)
    r = hebb_wagner(p, voltage=DV, geometry=GEOMETRY)
    assert abs(r.conductivity_e.nominal_value / SIGMA_E - 1) < 0.01


def test_bruce_vincent_delegates():
    """t+ from a record: I0 the first point (or the decay extrapolated to the start), I_ss
    the tail, as transference_number computes from the same numbers."""
    rng = np.random.default_rng(9)
    t = np.arange(0.0, 7200.0, 5.0)
    i0, i_ss = 1.0e-4, 0.6e-4
    i = i_ss + (i0 - i_ss) * np.exp(-t / 600) + 2e-8 * rng.standard_normal(t.size)
    p = Polarisation(t, i, np.full(t.size, 0.01), {"source": "li-li"})
    bv = bruce_vincent(p, 0.01, 20.0, 25.0)
    truth = i_ss * (0.01 - i0 * 20) / (i0 * (0.01 - i_ss * 25))
    assert bv.t_plus.nominal_value == pytest.approx(truth, rel=0.002)
    assert bv.initial == "first" and bv.initial_A == i[0]
    ext = bruce_vincent(p, None, 20.0, 25.0, initial="extrapolated")
    assert ext.initial_A == pytest.approx(i0, rel=0.002)
    assert ext.voltage_V == pytest.approx(0.01)


# ----------------------------------------------------------------------------- command line


def test_cli_json(tmp_path, capsys):
    """``eisfit polarisation CA.mpt --thickness --diameter --json``: σ_e within 1 %."""
    t, i = _record(seed=10)
    f = write_mpt(tmp_path / "ca.mpt", t, i, np.full(t.size, DV))
    code = main(["polarisation", str(f), "--thickness", "1mm", "--diameter", "10mm", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert abs(d["conductivity_e_S_cm"]["value"] / SIGMA_E - 1) < 0.01
    assert d["voltages_V"] == [pytest.approx(DV, abs=1e-4)]
    assert d["warnings"] == [] and d["steady_reached"] is True


def _spectrum_csv(path: Path, spectrum) -> Path:
    z = spectrum.z
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    rows += [f"{f:.10g},{a:.10g},{-b:.10g}" for f, a, b in zip(spectrum.frequency, z.real, z.imag,
                                                                strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_impedance_transference(tmp_path, capsys):
    """With ``--impedance`` on a synthetic blocking spectrum: σ_ion from the fitted total
    (bulk + grain boundary) resistance, and t_ion close to the value the two were made with."""
    syn = synthetic.blocking_cell(np.random.default_rng(3), noise=0.002)
    r_ion = syn.resistances["total"]
    t_ion_true = 0.98
    r_e = r_ion * t_ion_true / (1 - t_ion_true)  # t_ion = R_e/(R_e + R_ion)
    rng = np.random.default_rng(11)
    t = np.arange(2.0, 3601.0, 2.0)
    i = DV / r_e * (1 + 20 * np.exp(-t / 300) + 0.003 * rng.standard_normal(t.size))
    ca = write_csv(tmp_path / "ca.csv", t, i, np.full(t.size, DV))
    eis = _spectrum_csv(tmp_path / "eis.csv", syn.spectrum)
    plot = tmp_path / "ca.png"
    code = main(["polarisation", str(ca), "--thickness", "1mm", "--diameter", "10mm",
                 "--impedance", str(eis), "--circuit", "blocking", "--json",
                 "--plot", str(plot), "--log", "current"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["t_ion"]["value"] == pytest.approx(t_ion_true, abs=0.002)
    sigma_ion = GEOMETRY.conductivity(r_ion)
    assert d["ionic"]["value"]["value"] == pytest.approx(sigma_ion, rel=0.01)
    assert d["ratio_ion_e"]["value"] == pytest.approx(t_ion_true / (1 - t_ion_true), rel=0.05)
    assert plot.stat().st_size > 1000
    # the text report, without a geometry: compared by resistance
    assert main(["polarisation", str(ca), "--impedance", str(eis)]) == 0
    out = capsys.readouterr().out
    assert "t_ion" in out and "compared by conductance" in out


@pytest.mark.parametrize("content, expected", [
    ("hello\nworld\n", "no table of numbers found: expected a chronoamperometry record"),
    ("a,b\n1,2\n3,4\n5,6\n", "no time or current column with a unit"),
    ("EC-Lab ASCII FILE\nsomething\n", "expected 'Nb header lines : N'"),
    ("", "file is empty (0 bytes), expected a chronoamperometry record"),
])
def test_bad_file_one_line_error(tmp_path, capsys, content, expected):
    """A file that is not a DC record: exit 2 and one line naming the file and what was
    expected."""
    f = tmp_path / "bad.txt"
    f.write_text(content)
    assert main(["polarisation", str(f), "--voltage", "0.5V"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(f) in err and expected in err
    with pytest.raises(ReaderError, match="bad.txt"):
        read_polarisation(f)


def test_cli_voltage_needs_unit(tmp_path, capsys):
    t, i = _record(seed=12, duration=600)
    f = write_csv(tmp_path / "ca.csv", t, i, np.full(t.size, DV))
    assert main(["polarisation", str(f), "--voltage", "0.5"]) == 2
    assert "expected a voltage with its unit" in capsys.readouterr().err


# ----------------------------------------------------------------------------- corpus

PARSTAT = "ECSHackWeek__impedance.py/data__exampleDataParstat.txt"


def test_corpus_parstat_dc_record(corpus_dir):
    """The Parstat export of a whole sequence: 812 rows, 31 of them impedance (frequency > 0).
    Its DC rows are a Li-ion cell's galvanostatic discharge at -0.15 A, charge at +0.15 A up
    to 3.50 V, a constant-voltage hold at 3.50 V (about 4300-7610 s, the current decaying from
    0.15 A to a few mA: a chronoamperometry step) and a 20 s rest. Not an ion-blocking cell:
    the test checks the reading (s, A, V) and the steady-state analysis of the hold, no σ_e."""
    p = read_polarisation(corpus_dir / PARSTAT)
    assert p.time_s.size == 812 - 31
    assert p.time_s[0] == 10.0 and p.time_s[-1] == 7630.0  # the file's own times, in s
    assert p.current_A[0] == pytest.approx(-0.149962306022644)  # A, as written
    assert p.voltage_V[0] == pytest.approx(3.49322700500488)
    assert "31 impedance rows" in " ".join(p.meta["notes"])
    # the whole sequence is refused: its first segment is galvanostatic
    with pytest.raises(PolarisationError, match="not held constant between 10 s and"):
        hebb_wagner(p)
    hold = p.between(4300, None)  # the hold, and the rest after it
    assert np.ptp(hold.voltage_V) < 0.003
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = hebb_wagner(hold)
    s = r.steps[0]
    assert "the last 20 points, an open-circuit rest" in s.method
    assert s.end_s == 7610.0
    assert len(r.steps) == 1 and r.voltages_V[0] == pytest.approx(3.501, abs=0.001)
    assert math.isfinite(s.current_A) and 1e-3 < s.current_A < 1e-2
    assert 0 < s.error_A < 0.2 * s.current_A
    assert s.initial_A == pytest.approx(0.167588204, rel=1e-6)  # the hold's first point, 4300 s
    # the current is still decaying at the end of the hold: said
    assert not s.reached and s.drift < -0.03
    assert [w.category for w in caught] == [SteadyStateWarning]


def test_corpus_modulo_bat_dc_rows(corpus_dir):
    """The Modulo Bat sequence of a Li|LLZO|Li tape (rest, PEIS, rest, CC at ±2.800 µA as its
    header sets, rest, PEIS, looped): its 1028 rows with freq/Hz = 0 are the DC record, read
    from 'I/mA' into A. It is galvanostatic, not a chronoamperometry: Hebb–Wagner refuses it."""
    p = read_polarisation(corpus_dir / "dgbowl__yadg/tests__test_x_eclab__mb.mpt")
    assert p.time_s.size == 1588 - 560 and p.meta["technique"] == "Modulo Bat"
    assert p.meta["columns"] == {"time": "time/s", "current": "I/mA", "voltage": "Ewe/V"}
    flowing = np.abs(p.current_A) > 1e-7
    assert np.median(np.abs(p.current_A[flowing])) == pytest.approx(2.8e-6, rel=1e-3)
    assert set(np.unique(p.current_A[~flowing])) == {0.0}  # the rests
    with pytest.raises(PolarisationError, match="not held constant"):
        hebb_wagner(p)
