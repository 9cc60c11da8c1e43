"""The eisfit command, run in-process: exit codes, one-line errors, outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from eisfit.cli.main import main
from eisfit.model.synthetic import blocking_cell


@pytest.fixture
def pellet(tmp_path):
    s = blocking_cell(np.random.default_rng(21)).spectrum
    path = tmp_path / "pellet_25C.csv"
    rows = ["freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm"]
    rows += [f"{f:.8e},{z.real:.8e},{-z.imag:.8e}" for f, z in zip(s.frequency, s.z, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_fit_prints_report_with_conductivity(pellet, capsys):
    code = main(["fit", str(pellet), "--thickness", "1.2mm", "--diameter", "10mm"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[[Resistances]]" in out and "[[Conductivity]]" in out and "S/cm" in out


def test_fit_json_has_the_contract_keys(pellet, capsys):
    code = main(["fit", str(pellet), "--json", "--thickness", "1.2mm", "--area", "0.785cm2"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0
    assert d["circuit_name"] == "blocking" and "bulk" in d["conductivity_S_per_cm"]


def test_plot_is_written_and_never_overwritten_without_force(pellet, tmp_path, capsys):
    png = tmp_path / "fit.png"
    assert main(["fit", str(pellet), "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000
    before = png.read_bytes()
    assert main(["fit", str(pellet), "--plot", str(png)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert png.read_bytes() == before
    assert main(["fit", str(pellet), "--plot", str(png), "--force"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--thickness", "1.2", "--diameter", "10mm"], "thickness '1.2' has no unit"),
        (["--thickness", "1.2mm"], "--diameter or --area is needed"),
        (["--circuit", "R0-p(R1,CPE1"], "character 13"),
        (["--circuit", "R0-Q1"], "unknown element 'Q1'"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(pellet, capsys, args, message):
    code = main(["fit", str(pellet), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_is_a_one_line_error(tmp_path, capsys):
    code = main(["fit", str(tmp_path / "nope.mpt")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.mpt" in err and err.count("\n") == 1


def test_circuits_lists_every_named_circuit(capsys):
    assert main(["circuits"]) == 0
    out = capsys.readouterr().out
    for name in ("blocking", "blocking-single", "blocking-spike", "li-symmetric", "full-cell",
                 "thin-film"):
        assert name in out


def test_bad_option_value_exits_2(pellet, capsys):
    with pytest.raises(SystemExit) as info:
        main(["fit", str(pellet), "--weighting", "bogus"])
    assert info.value.code == 2


def test_demo_runs_on_bundled_data(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    truth = json.loads((__import__("pathlib").Path(__file__).parents[1] / "data" /
                        "truth.json").read_text())
    for role in ("bulk", "grain_boundary"):
        assert summary["arrhenius"][role]["Ea_eV"] == pytest.approx(truth["Ea_eV"][role], abs=0.01)
    assert "Ea(bulk)" in out


def test_written_files_get_ordinary_permissions(tmp_path):
    import os

    from eisfit.output import write_text

    old = os.umask(0o022)
    try:
        path = write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644


def test_a_one_spectrum_fit_loads_only_what_it_needs(tmp_path):
    # a terminal command should start quickly: the compiled kernels (numba), lmfit,
    # scipy.signal, pandas and matplotlib each take a large part of a second to load and a
    # one-spectrum fit without --plot needs none of them
    spectrum = blocking_cell(np.random.default_rng(3)).spectrum
    path = tmp_path / "pellet.csv"
    rows = [f"{f},{z.real},{z.imag}" for f, z in zip(spectrum.frequency, spectrum.z, strict=True)]
    path.write_text("frequency_Hz,Re_Ohm,Im_Ohm\n" + "\n".join(rows) + "\n")
    heavy = ["numba", "lmfit", "scipy.signal", "pandas", "matplotlib"]
    code = (
        "import sys; from eisfit.cli.main import main; "
        f"code = main(['fit', {str(path)!r}, '--json']); "
        f"print(code, [m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"


def test_a_closed_pipe_stops_quietly(pellet):
    # `eisfit fit ... --json | head`: the reader goes away before the output is written
    code = "import sys; from eisfit.cli.main import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "fit", str(pellet), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert err == ""


@pytest.mark.parametrize("path_exists", [True, False])
def test_a_misspelt_circuit_name_is_answered_with_the_name_meant(pellet, capsys, path_exists):
    # checked before the file is read: `eisfit fit x --circuit blockin` names the circuit
    path = str(pellet) if path_exists else str(pellet.parent / "x")
    assert main(["fit", path, "--circuit", "blockin"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("eisfit: error: ")
    assert "did you mean 'blocking'?" in err[0]
    assert "named circuits: blocking, blocking-single, blocking-spike, full-cell" in err[0]


def test_a_circuit_string_typo_gets_no_name_suggestion(pellet, capsys):
    assert main(["fit", str(pellet), "--circuit", "R0-p(R1,CPE1"]) == 2
    err = capsys.readouterr().err
    assert "character 13" in err and "did you mean" not in err and "named circuits" not in err
