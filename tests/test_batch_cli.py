"""``eisfit batch``: outputs, exit codes, workers, overwrite protection."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from eisfit.cli.batch import add_batch_parser
from eisfit.exceptions import EisfitError
from eisfit.fitting.batch import Failure, fit_many
from eisfit.model.circuit import Circuit
from eisfit.model.synthetic import add_noise, arc_q, frequencies
from eisfit.series.temperature import fit_series
from eisfit.show.plot import arrhenius_figure

DATA = Path(__file__).resolve().parents[1] / "data"
K_B = 8.617333262e-5


def run(argv: list[str]) -> int:
    """Run the command line: through eisfit.cli.main when batch is wired there, else directly."""
    from eisfit.cli import main as cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    if "batch" in sub.choices:
        return cli.main(argv)
    parser = cli._Parser(prog="eisfit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=cli._Parser)
    add_batch_parser(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except EisfitError as exc:
        print(f"eisfit: error: {exc}")
        return 2


def _write(path: Path, f, z) -> None:
    rows = "\n".join(f"{a:.9e},{b.real:.9e},{-b.imag:.9e}" for a, b in zip(f, z, strict=True))
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + rows + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Five blocking-cell spectra, 0-80 °C, bulk Ea 0.35 eV, gb Ea 0.5 eV, and a corrupt file."""
    d = tmp_path_factory.mktemp("batch")
    rng = np.random.default_rng(7)
    f = frequencies(7e6, 0.1, 10)
    circ = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    for t_c in (0, 20, 40, 60, 80):
        t = t_c + 273.15
        rb = 2e4 * np.exp(0.35 / K_B * (1 / t - 1 / 273.15)) * t / 273.15
        rgb = 6e4 * np.exp(0.5 / K_B * (1 / t - 1 / 273.15)) * t / 273.15
        p = [1.5, rb, arc_q(rb, 4e-12, 0.95), 0.95, rgb, arc_q(rgb, 1e-9, 0.88), 0.88, 1e-6, 0.85]
        _write(d / f"cell_{t_c}C.csv", f, add_noise(circ.impedance(f, p), 0.005, rng))
    return d


@pytest.fixture()
def with_corrupt(folder, tmp_path) -> Path:
    d = tmp_path / "in"
    shutil.copytree(folder, d)
    (d / "cell_50C.csv").write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e6,10,x\n")
    return d


def test_batch_json_keys_and_exit_0(folder, capsys):
    rc = run(["batch", str(folder), "--thickness", "1mm", "--diameter", "10mm", "--json",
              "--workers", "1"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"spectra", "arrhenius", "failures"}
    assert d["failures"] == []
    assert [s["temperature_K"] for s in d["spectra"]] == pytest.approx(
        [273.15, 293.15, 313.15, 333.15, 353.15]
    )
    assert {"Ea_eV", "Ea_stderr_eV", "Ea_kJ_per_mol", "ln_prefactor", "r2", "form", "T_min_K",
            "T_max_K", "n"} <= set(d["arrhenius"]["bulk"])
    assert d["arrhenius"]["bulk"]["Ea_eV"] == pytest.approx(0.35, abs=0.01)
    assert d["arrhenius"]["grain_boundary"]["Ea_eV"] == pytest.approx(0.5, abs=0.02)
    assert "conductivity_S_per_cm" in d["spectra"][0]


def test_corrupt_file_exit_1_and_rest_reported(with_corrupt, tmp_path, capsys):
    out = tmp_path / "out"
    rc = run(["batch", str(with_corrupt), "--json", "--workers", "1", "--out", str(out)])
    assert rc == 1
    d = json.loads(capsys.readouterr().out)
    assert len(d["spectra"]) == 5
    assert [f["source"] for f in d["failures"]] == ["cell_50C.csv"]
    saved = json.loads((out / "results.json").read_text())
    assert saved["failures"] == d["failures"]


def test_workers_2_identical_to_1(folder):
    files = sorted(folder.iterdir())
    one = fit_series(files, workers=1).to_dict()
    two = fit_series(files, workers=2).to_dict()
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_fit_many_keeps_order_and_reports_failures(folder):
    from eisfit.io import read

    spectra = [read(p) for p in sorted(folder.iterdir())]
    good = list(fit_many(spectra, workers=2))
    assert [r.spectrum.source for r in good] == [s.source for s in spectra]
    out = list(fit_many(spectra, "R0-p(R1,CPE1", workers=2))
    assert all(isinstance(o, Failure) for o in out)
    assert len({o.error for o in out}) == 1 and "\n" not in out[0].error
    with pytest.raises(EisfitError, match="workers"):
        list(fit_many(spectra, workers=0))


def test_out_dir_files_and_force(folder, tmp_path, capsys):
    data = tmp_path / "in"
    shutil.copytree(folder, data)
    out = data / "res"  # inside the input folder: never read back as data
    args = ["batch", str(data), "--thickness", "1mm", "--diameter", "10mm", "--out", str(out),
            "--workers", "2"]
    assert run(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert {"results.csv", "results.json", "arrhenius.png", "report.html"} <= set(names)
    html_text = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html_text and "<script" not in html_text.lower()
    assert sum(n.startswith("nyquist_") and n.endswith(".png") for n in names) == 5
    assert not [n for n in names if n.startswith(".")]  # no temporary files left
    before = (out / "results.json").read_bytes()
    capsys.readouterr()
    assert run(args) == 2  # refuses to overwrite
    captured = capsys.readouterr()
    assert "--force" in captured.out + captured.err
    assert (out / "results.json").read_bytes() == before
    assert run([*args, "--force"]) == 0
    assert len(json.loads((out / "results.json").read_text())["spectra"]) == 5


def test_temperature_table_and_usage_errors(folder, tmp_path, capsys):
    table = tmp_path / "temps.csv"
    table.write_text(
        "file,temperature_K\n"
        + "".join(f"{p.name},{300 + 10 * i}\n" for i, p in enumerate(sorted(folder.iterdir())))
    )
    assert run(["batch", str(folder), "--temperatures", str(table), "--json",
                "--workers", "1"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert sorted(s["temperature_K"] for s in d["spectra"]) == [300, 310, 320, 330, 340]
    assert run(["batch", str(tmp_path / "missing")]) == 2
    assert run(["batch", str(folder), "--temperatures", "nonsense.csv"]) == 2
    assert run(["batch", str(folder), "--workers", "0"]) == 2
    assert run(["batch", str(folder), "--thickness", "1"]) == 2
    with pytest.raises(SystemExit) as exc:
        run(["batch", str(folder), "--diameter", "1mm", "--area", "1cm2"])
    assert exc.value.code == 2


def test_arrhenius_figure_has_lines_and_legend():
    s = fit_series(DATA / "latp_pellet")
    fig = arrhenius_figure(s)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    bulk = [lab for lab in labels if lab.startswith("bulk: Ea = ")]
    assert len(bulk) == 1 and " ± " in bulk[0] and bulk[0].endswith(" eV")
    assert float(bulk[0].split("= ")[1].split(" ")[0]) == pytest.approx(0.30, abs=0.01)
    assert "1000 / T" in ax.get_xlabel()


# --------------------------------------------------------------------------- joint fit, progress
def test_batch_joint_json(folder, tmp_path, capsys):
    out = tmp_path / "out"
    rc = run(["batch", str(folder), "--thickness", "1mm", "--diameter", "10mm", "--json",
              "--workers", "1", "--joint", "--out", str(out)])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert {"arrhenius", "arrhenius_joint", "joint_fit"} <= set(d)
    # the folder's truth: bulk 0.35 eV, grain boundary 0.5 eV
    assert d["arrhenius_joint"]["bulk"]["Ea_eV"] == pytest.approx(0.35, abs=0.01)
    assert d["arrhenius_joint"]["grain_boundary"]["Ea_eV"] == pytest.approx(0.5, abs=0.02)
    assert d["arrhenius_joint"]["bulk"]["Ea_stderr_eV"] > 0
    assert len(d["arrhenius_joint"]["bulk"]["resistance_ohm"]) == 5
    assert d["joint_fit"]["success"] is True
    saved = json.loads((out / "results.json").read_text())
    assert saved["arrhenius_joint"] == d["arrhenius_joint"]
    assert "R_bulk_joint_ohm" in (out / "results.csv").read_text().splitlines()[0]


def test_batch_joint_report_and_failure(folder, tmp_path, capsys):
    assert run(["batch", str(folder), "--workers", "1", "--joint"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # lines wrap at the terminal's width
    assert "[[Arrhenius, joint fit]]" in text and "; independent " in text
    two = tmp_path / "two"
    two.mkdir()
    for p in sorted(folder.iterdir())[:2]:
        shutil.copy(p, two / p.name)
    # a joint fit that cannot be made is said, and does not fail the batch
    assert run(["batch", str(two), "--workers", "1", "--joint", "--json"]) == 0
    captured = capsys.readouterr()
    d = json.loads(captured.out)
    assert d["arrhenius_joint"] == {}
    assert "at least 3 spectra" in d["joint_fit"]["error"]
    assert "joint fit not made" in captured.err


def test_arrhenius_figure_shows_joint_lines(folder):
    s = fit_series(sorted(folder.iterdir()), joint=True)
    labels = [t.get_text() for t in arrhenius_figure(s).axes[0].get_legend().get_texts()]
    joint = [lab for lab in labels if lab.startswith("bulk (joint): Ea = ")]
    assert len(joint) == 1
    assert float(joint[0].split("= ")[1].split(" ")[0]) == pytest.approx(0.35, abs=0.01)


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal (what a person watching a batch has)."""

    def isatty(self) -> bool:
        return True


def test_no_progress_bar_when_stderr_is_not_a_terminal(folder, capsys):
    # under pytest stderr is not a terminal: no bar, with or without --json
    assert run(["batch", str(folder), "--workers", "1"]) == 0
    assert "fitting" not in capsys.readouterr().err
    assert run(["batch", str(folder), "--workers", "1", "--json"]) == 0
    assert "fitting" not in capsys.readouterr().err


def test_progress_bar_on_a_terminal_stderr(folder, monkeypatch, capsys):
    # stdout piped (--json into a file) and stderr a terminal: the bar goes to stderr only
    # and counts the folder's 5 spectra
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    assert run(["batch", str(folder), "--workers", "1", "--json"]) == 0
    out = capsys.readouterr().out
    json.loads(out)  # stdout holds the JSON document alone
    text = fake.getvalue()
    assert "fitting" in text and "5/5" in text
    assert "\x1b[" in text  # drawn with terminal control codes (redrawn, then erased)
    assert "fitting" not in out


def test_progress_bar_passes_every_outcome_through():
    from eisfit.series.temperature import _with_progress

    fake = _Terminal()
    assert list(_with_progress(iter("abcd"), 4, stream=fake)) == list("abcd")
    assert "4/4" in fake.getvalue()
    quiet = io.StringIO()  # not a terminal: nothing drawn
    assert list(_with_progress(iter("abcd"), 4, stream=quiet)) == list("abcd")
    assert quiet.getvalue() == ""


def test_batch_runs_the_kk_check_unless_told_not_to(tmp_path, capsys):
    """A drifting spectrum in a batch carries a Kramers-Kronig warning; --no-kk drops it."""
    f = frequencies(1e6, 0.1, 10)
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3")
    # the grain-boundary resistance rises 40 % during the sweep (drift): not KK-consistent
    drift = np.linspace(1.0, 1.4, f.size)
    z = np.array([c.impedance([fi], [1, 2e3, 2e-11, 0.95, 5e3 * d, 2e-9, 0.9, 1e-6, 0.8])[0]
                  for fi, d in zip(f, drift, strict=True)])
    for t_c in (25, 50, 75):
        _write(tmp_path / f"cell_{t_c}C.csv", f, z)
    run(["batch", str(tmp_path), "--json", "--workers", "1"])
    with_kk = json.loads(capsys.readouterr().out)
    run(["batch", str(tmp_path), "--json", "--workers", "1", "--no-kk"])
    without = json.loads(capsys.readouterr().out)
    kk_lines = [w for s in with_kk["spectra"] for w in s["warnings"] if "Kramers" in w]
    assert len(kk_lines) == 3
    assert not [w for s in without["spectra"] for w in s["warnings"] if "Kramers" in w]


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_json_is_the_in_memory_series_text(with_corrupt, workers, capsys):
    # the command streams (spectra read as fitted, results kept on disk): same text as a
    # series fitted in memory
    rc = run(["batch", str(with_corrupt), "--json", "--workers", str(workers),
              "--thickness", "1mm", "--diameter", "10mm"])
    assert rc == 1
    from eisfit.kernels import compiled
    from eisfit.model.geometry import Geometry

    with compiled.use_for(len(list(with_corrupt.iterdir()))):  # the engine the command picks
        series = fit_series(with_corrupt, workers=workers, kk=True,
                            geometry=Geometry(thickness="1mm", diameter="10mm"))
    assert capsys.readouterr().out == "".join(series.json_chunks(allow_nan=True)) + "\n"
