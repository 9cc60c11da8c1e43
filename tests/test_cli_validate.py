"""``eisfit validate``, the Kramers-Kronig warning of ``eisfit fit`` and ``--circuit auto``, run
in-process.

Truth: synthetic spectra written as CSV files (a steady two-arc blocking cell, and the same cell
whose bulk resistance rises by 50 % in time during the sweep), and a real multi-spectrum EC-Lab
file from the shared corpus whose spectrum count is stated in the corpus INDEX.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.cli.main import main
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, blocking_cell

F = np.logspace(6, -1, 71)


def write_csv(path: Path, s: eisfit.Spectrum) -> Path:
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    rows += [f"{f:.8e},{z.real:.8e},{-z.imag:.8e}" for f, z in zip(s.frequency, s.z, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def two_arcs(drift: float, seed: int = 3) -> eisfit.Spectrum:
    """Two arcs; R1 rises linearly in time by ``drift`` over a high-to-low frequency sweep in
    which each point takes two periods (at least 0.5 s)."""
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")
    p = np.array([10, 1e3, arc_q(1e3, 1e-10, 0.9), 0.9, 2e3, arc_q(2e3, 1e-7, 0.85), 0.85])
    dt = np.maximum(2 / F, 0.5)
    t = np.cumsum(dt) - dt / 2
    frac = (t - t[0]) / (t[-1] - t[0])
    z = np.empty(F.size, complex)
    for i in range(F.size):
        q = p.copy()
        q[1] *= 1 + drift * frac[i]
        z[i] = c.impedance(F[i : i + 1], q)[0]
    return eisfit.Spectrum(F, add_noise(z, 0.005, np.random.default_rng(seed)))


@pytest.fixture
def steady(tmp_path):
    return write_csv(tmp_path / "steady.csv", two_arcs(0.0))


@pytest.fixture
def drifting(tmp_path):
    return write_csv(tmp_path / "drifting.csv", two_arcs(0.5))


@pytest.fixture
def pellet(tmp_path):
    return write_csv(tmp_path / "pellet.csv", blocking_cell(np.random.default_rng(21)).spectrum)


# --------------------------------------------------------------------------- validate
def test_validate_passes_a_steady_spectrum(steady, capsys):
    assert main(["validate", str(steady)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "lin-KK passed" in out and "threshold 2.50 %" in out
    assert out.splitlines()[1].startswith("    Z-HIT passed")


def test_validate_fails_a_drifting_spectrum_with_exit_1(drifting, capsys):
    assert main(["validate", str(drifting)]) == 1
    assert "lin-KK FAILED" in capsys.readouterr().out


def test_validate_several_files_exit_1_when_one_fails(steady, drifting, capsys):
    assert main(["validate", str(steady), str(drifting)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and "passed" in lines[0] and "lin-KK FAILED" in lines[2]


def test_validate_json(steady, drifting, capsys):
    assert main(["validate", str(drifting), "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] is False and d["source"].endswith("drifting.csv")
    assert d["threshold"] == pytest.approx(0.025)
    assert len(d["residuals_real"]) == F.size and "FAILED" in d["summary"]
    assert main(["validate", str(steady), str(drifting), "--json"]) == 1
    both = json.loads(capsys.readouterr().out)
    assert [x["passed"] for x in both] == [True, False]


def test_validate_threshold_option(steady, capsys):
    # a threshold below the 0.5 % noise fails every spectrum; a wrong value is a usage error
    assert main(["validate", str(steady), "--threshold", "0.1"]) == 1
    assert "threshold 0.10 %" in capsys.readouterr().out
    assert main(["validate", str(steady), "--threshold", "150"]) == 2
    assert "--threshold" in capsys.readouterr().err


def test_validate_bad_input_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and err.count("\n") == 1
    short = tmp_path / "short.csv"
    short.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1000,10,1\n100,11,2\n10,12,3\n")
    assert main(["validate", str(short)]) == 2
    assert "could not be checked" in capsys.readouterr().out


def _corpus() -> Path | None:
    env = os.environ.get("EISFIT_CORPUS")
    p = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "eis-corpus"
    return p if p.is_dir() else None


def test_validate_checks_every_spectrum_of_a_real_file(capsys):
    corpus = _corpus()
    if corpus is None:
        pytest.skip("EIS corpus not found: set EISFIT_CORPUS to the shared eis-corpus folder")
    path = corpus / "dgbowl__yadg" / "tests__test_x_eclab__mb.issue_223.mpt"
    code = main(["validate", str(path)])
    lines = [x for x in capsys.readouterr().out.splitlines() if "Z-HIT" not in x]
    assert len(lines) == 4  # INDEX.md: 76 EIS points in 4 spectra
    assert all("[spectrum" in line and "lin-KK" in line for line in lines)
    verdicts = [eisfit.kramers_kronig(s).passed for s in eisfit.read_all(path)]
    assert code == (0 if all(verdicts) else 1)
    assert sum("passed" in line for line in lines) == sum(verdicts)


# --------------------------------------------------------------------------- fit + KK
def test_fit_warns_on_a_drifting_spectrum_but_still_fits(drifting, capsys):
    assert main(["fit", str(drifting), "--circuit", "R0-p(R1,CPE1)-p(R2,CPE2)", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert any("fails the Kramers-Kronig check" in w for w in d["warnings"])
    assert d["resistances_ohm"] == {}  # a circuit string: no roles, but a fit all the same
    assert main(["fit", str(drifting), "--circuit", "R0-p(R1,CPE1)-p(R2,CPE2)", "--no-kk",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert not any("Kramers-Kronig" in w for w in d["warnings"])


def test_fit_of_a_steady_spectrum_has_no_kk_warning(steady, capsys):
    assert main(["fit", str(steady), "--circuit", "R0-p(R1,CPE1)-p(R2,CPE2)"]) == 0
    assert "Kramers-Kronig" not in capsys.readouterr().out


# --------------------------------------------------------------------------- --circuit auto
def test_circuit_auto_says_what_it_chose_and_why(pellet, capsys):
    assert main(["fit", str(pellet), "--circuit", "auto", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    choice = d["model_choice"]
    assert choice["cell"] == "blocking" and choice["chosen"] == "blocking"
    assert d["circuit_name"] == "blocking"
    assert {c["circuit"] for c in choice["candidates"]} == {
        "blocking-spike", "blocking-single", "blocking"
    }
    assert "lowest BIC" in choice["reason"]
    assert main(["fit", str(pellet), "--circuit", "auto"]) == 0
    out = capsys.readouterr().out
    assert "[[Model comparison]]" in out and "[[Why]]" in out and "* 1    blocking " in out


def test_circuit_auto_with_another_cell_type(tmp_path, capsys):
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")
    f = np.logspace(6.8, -1, 60)
    z = c.impedance(f, [2.0, 150.0, 1e-10, 0.95, 400.0, 2e-6, 0.85])
    path = write_csv(tmp_path / "li.csv", eisfit.Spectrum(f, z))
    assert main(["fit", str(path), "--circuit", "auto", "--cell", "li-symmetric", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model_choice"]["chosen"] == "li-symmetric"
    assert d["resistances_ohm"]["interface"] == pytest.approx(400.0, rel=1e-3)


def test_cell_without_auto_and_unknown_cell_are_usage_errors(pellet, capsys):
    assert main(["fit", str(pellet), "--cell", "blocking"]) == 2
    assert "--cell applies only with --circuit auto" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["fit", str(pellet), "--circuit", "auto", "--cell", "bogus"])
    assert info.value.code == 2


def test_fit_with_geometry_judges_capacitance_per_cell_constant(tmp_path, capsys):
    # 50 nF: a bulk's in the reference pellet (1 mm, 10 mm) and in a 1 um film on 1 cm2, not
    # in a 5 mm cell on 0.2 cm2 (1.25e-7 F/cm per cell constant; 2.5e-7 F/cm2: an electrode's)
    c = Circuit("R0-p(R1,CPE1)-CPE2")
    z = c.impedance(F, [5, 1e3, arc_q(1e3, 5e-8, 0.95), 0.95, 1e-5, 0.9])
    path = write_csv(tmp_path / "film.csv", eisfit.Spectrum(F, z))
    args = ["fit", str(path), "--circuit", "blocking-single", "--json"]
    assert main(args) == 0
    bare = json.loads(capsys.readouterr().out)
    assert not any("capacitance" in w for w in bare["warnings"])
    assert main([*args, "--thickness", "1um", "--area", "1cm2"]) == 0
    film = json.loads(capsys.readouterr().out)
    assert not any("capacitance" in w for w in film["warnings"])
    assert main([*args, "--thickness", "5mm", "--area", "0.2cm2"]) == 0
    thick = json.loads(capsys.readouterr().out)
    assert any("bulk capacitance" in w and "may be the electrode" in w
               for w in thick["warnings"])
