"""Output safety of ``eisfit fit --plot`` and ``eisfit batch --out``.

Two runs into one folder never mix, an interrupted or killed run never leaves a half-replaced
folder or hidden temporary files, ``--force`` leaves only the new run's outputs, no file is
overwritten without ``--force`` (checked at the moment of writing), and every output error is
one line and exit 2, before any fitting.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import eisfit.fitting.single
import eisfit.series.temperature
import eisfit.show.report
from eisfit.cli import batch as cli_batch
from eisfit.cli import main as cli
from eisfit.model.synthetic import blocking_cell
from eisfit.output import (
    OutputBusyError,
    OutputExistsError,
    OutputFolder,
    write_atomic,
    write_text,
)


def _write_spectrum(path: Path, seed: int) -> None:
    s = blocking_cell(np.random.default_rng(seed)).spectrum
    rows = [f"{f:.10e},{z.real:.10e},{z.imag:.10e}" for f, z in zip(s.frequency, s.z, strict=True)]
    path.write_text("frequency_Hz,Re_Ohm,Im_Ohm\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _inputs(folder: Path, temperatures: tuple[int, ...]) -> Path:
    folder.mkdir()
    for t in temperatures:
        _write_spectrum(folder / f"cell_{t}C.csv", seed=t)
    return folder


@pytest.fixture()
def run_a(tmp_path) -> Path:
    """Three spectra, 20/40/60 °C."""
    return _inputs(tmp_path / "a", (20, 40, 60))


@pytest.fixture()
def run_b(tmp_path) -> Path:
    """Two other spectra, 30/50 °C."""
    return _inputs(tmp_path / "b", (30, 50))


def _batch(inputs: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(inputs), "--workers", "1", "--no-kk", "--out", str(out), *extra]


def _stems(inputs: Path) -> set[str]:
    return {p.stem for p in inputs.glob("*.csv")}


def _assert_outputs_of(out: Path, inputs: Path) -> None:
    """``out`` holds the outputs of one run over ``inputs``, and nothing else."""
    stems = _stems(inputs)
    names = {p.name for p in out.iterdir()}
    assert names == {"results.csv", "results.json", "arrhenius.png", "report.html",
                     *(f"nyquist_{s}.png" for s in stems)}
    csv_files = {Path(f).stem for f in pd.read_csv(out / "results.csv")["file"]}
    json_files = {Path(s["source"]).stem
                  for s in json.loads((out / "results.json").read_text())["spectra"]}
    assert csv_files == json_files == stems
    html = (out / "report.html").read_text(encoding="utf-8")
    assert all(s in html for s in stems)


def _one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eisfit: error: "), err
    return lines[0]


@pytest.fixture()
def no_fit(monkeypatch):
    """Record every fit that starts (single fits and series)."""
    calls: list[str] = []
    real_fit, real_series = eisfit.fitting.single.fit, eisfit.series.temperature.fit_series

    def fit(*a, **k):
        calls.append("fit")
        return real_fit(*a, **k)

    def fit_series(*a, **k):
        calls.append("fit_series")
        return real_series(*a, **k)

    monkeypatch.setattr(eisfit.fitting.single, "fit", fit)
    monkeypatch.setattr(eisfit.series.temperature, "fit_series", fit_series)
    return calls


# ---------------------------------------------------------------- two runs into one folder
def test_a_second_run_into_a_busy_out_is_refused_and_outputs_do_not_mix(
    run_a, run_b, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    reached, release = threading.Event(), threading.Event()
    result: dict[str, object] = {}
    real_link, real_replace = os.link, os.replace

    def delayed(real):
        def move(src, dst, *a, **k):
            # run A stops just before its first output takes its final name
            if (threading.current_thread().name == "run-a" and Path(dst).name == "results.csv"
                    and not reached.is_set()):
                reached.set()
                release.wait(60)
            return real(src, dst, *a, **k)
        return move

    monkeypatch.setattr(os, "link", delayed(real_link))
    monkeypatch.setattr(os, "replace", delayed(real_replace))

    def target() -> None:
        try:
            result["rc"] = cli.main(_batch(run_a, out))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            result["rc"] = exc

    a = threading.Thread(target=target, name="run-a")
    a.start()
    try:
        assert reached.wait(60), "run A never reached its final rename"
        capsys.readouterr()
        fits: list[str] = []
        real_series = eisfit.series.temperature.fit_series
        monkeypatch.setattr(eisfit.series.temperature, "fit_series",
                            lambda *x, **k: fits.append("B") or real_series(*x, **k))
        rc_b = cli.main(_batch(run_b, out))
        err = capsys.readouterr().err
    finally:
        release.set()
        a.join(60)
    assert not a.is_alive()
    assert rc_b == 2 and not fits  # refused before fitting
    assert "another eisfit run" in _one_line_error(err)
    assert result["rc"] == 0
    _assert_outputs_of(out, run_a)


def test_the_lock_is_released_when_a_run_ends(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out, ["*.txt"]) as first:
        with pytest.raises(OutputBusyError, match="another eisfit run"):
            OutputFolder(out, ["*.txt"])
        first.write("a.txt", lambda p: p.write_text("a"))
        first.commit()
    with OutputFolder(out, ["*.txt"], force=True) as second:  # free again
        second.write("a.txt", lambda p: p.write_text("b"))
        second.commit()
    assert (out / "a.txt").read_text() == "b"
    assert [p.name for p in out.iterdir()] == ["a.txt"]


# ---------------------------------------------------------------- interrupted and killed runs
def test_an_interrupted_write_leaves_the_folder_as_it_was(run_a, run_b, tmp_path, monkeypatch,
                                                           capsys):
    out = tmp_path / "out"
    assert cli.main(_batch(run_a, out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(eisfit.show.report, "render_report", interrupted)  # the last file written
    assert cli.main(_batch(run_b, out, "--force")) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing else, no temps

    fresh = tmp_path / "fresh"
    assert cli.main(_batch(run_b, fresh)) == 130
    assert list(fresh.iterdir()) == []


def test_a_killed_run_leaves_a_folder_that_says_so(run_a, tmp_path):
    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        import os, sys
        import eisfit.show.report
        from eisfit.cli.main import main
        def killed(*a, **k):
            os._exit(9)  # as SIGKILL: no cleanup runs
        eisfit.show.report.render_report = killed
        sys.exit(main({_batch(run_a, out)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 9
    names = [p.name for p in out.iterdir()]
    assert not [n for n in names if n.startswith(".")]
    assert len(names) == 1 and names[0].startswith("eisfit-incomplete.")
    assert (out / names[0]).is_dir()
    # the next run (it holds the lock, so that folder is dead) writes and removes it
    assert cli.main(_batch(run_a, out)) == 0
    _assert_outputs_of(out, run_a)


def test_write_atomic_cleans_up_after_a_failing_writer(tmp_path):
    def broken(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "fit.png", broken)
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_temporary_file_is_visible_and_says_partial(tmp_path):
    seen: list[str] = []
    write_atomic(tmp_path / "fit.png", lambda p: seen.append(p.name) or p.write_bytes(b"x"))
    assert not seen[0].startswith(".") and seen[0].startswith("fit.png.")
    assert seen[0].endswith(".partial")


# ---------------------------------------------------------------- no overwrite, --force
def test_no_overwrite_is_checked_at_the_moment_of_writing(tmp_path):
    target = tmp_path / "results.csv"

    def writer(path: Path) -> None:
        path.write_text("mine")
        target.write_text("someone else's")  # appears while the output is being made

    with pytest.raises(OutputExistsError, match="--force"):
        write_atomic(target, writer)
    assert target.read_text() == "someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]
    write_text(target, "mine", force=True)
    assert target.read_text() == "mine"


def test_force_with_fewer_inputs_leaves_no_stale_outputs(run_a, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert cli.main(_batch(run_a, out)) == 0
    (run_a / "cell_60C.csv").unlink()
    assert cli.main(_batch(run_a, out, "--force")) == 0
    _assert_outputs_of(out, run_a)  # nyquist_cell_60C.png is gone
    # a run whose report is not written (too many spectra) removes the earlier report
    monkeypatch.setattr(cli_batch, "REPORT_MAX_SPECTRA", 1)
    assert cli.main(_batch(run_a, out, "--force")) == 0
    assert not (out / "report.html").exists()


def test_without_force_an_earlier_runs_plots_are_refused(run_a, tmp_path, capsys, no_fit):
    out = tmp_path / "out"
    out.mkdir()
    (out / "nyquist_old_cell.png").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    assert cli.main(_batch(run_a, out)) == 2
    assert "nyquist_old_cell.png" in _one_line_error(capsys.readouterr().err)
    assert not no_fit
    assert cli.main(_batch(run_a, out, "--force")) == 0
    assert (out / "notes.txt").read_text() == "mine"  # not an output: kept
    assert not (out / "nyquist_old_cell.png").exists()


# ---------------------------------------------------------------- output errors
@pytest.fixture()
def pellet(tmp_path) -> Path:
    p = tmp_path / "pellet.csv"
    _write_spectrum(p, seed=3)
    return p


@pytest.mark.parametrize("plot, force, expected", [
    ("afile/fit.png", False, "afile is a file, not a folder"),
    ("afile/deeper/fit.png", False, "afile is a file, not a folder"),
    ("adir", False, "is a folder"),
    ("adir", True, "is a folder"),
    ("fit.xyz", False, "cannot write a '.xyz' plot"),
    ("", False, "an empty file name"),
    ("missing/fit.png", False, "does not exist"),
])
def test_plot_errors_are_one_line_before_fitting(pellet, tmp_path, monkeypatch, capsys, no_fit,
                                                 plot, force, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a regular file")
    (tmp_path / "adir").mkdir()
    argv = ["fit", str(pellet), "--plot", plot, *(["--force"] if force else [])]
    assert cli.main(argv) == 2
    assert expected in _one_line_error(capsys.readouterr().err)
    assert not no_fit
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile", "pellet.csv"]


@pytest.mark.parametrize("out, expected", [
    ("afile/out", "afile is a file, not a folder"),
    ("afile", "exists and is not a folder"),
    ("", "an empty folder name"),
])
def test_out_errors_are_one_line_before_fitting(run_a, tmp_path, monkeypatch, capsys, no_fit,
                                                out, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a regular file")
    assert cli.main(["batch", str(run_a), "--workers", "1", "--out", out]) == 2
    assert expected in _one_line_error(capsys.readouterr().err)
    assert not no_fit


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_a_read_only_out_is_one_line_before_fitting(run_a, tmp_path, capsys, no_fit):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert cli.main(_batch(run_a, out)) == 2
    finally:
        out.chmod(0o755)
    assert "cannot write" in _one_line_error(capsys.readouterr().err)
    assert not no_fit


def _disk_full(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_an_os_error_while_writing_is_one_line(run_a, pellet, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Figure, "savefig", _disk_full)
    out = tmp_path / "out"
    assert cli.main(_batch(run_a, out)) == 2
    assert "No space left on device" in _one_line_error(capsys.readouterr().err)
    assert list(out.iterdir()) == []  # nothing half-written
    plot = tmp_path / "fit.png"
    assert cli.main(["fit", str(pellet), "--plot", str(plot)]) == 2
    assert "No space left on device" in _one_line_error(capsys.readouterr().err)
    assert not plot.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "out", "pellet.csv"]


def test_plot_suffix_sets_the_format(pellet, tmp_path):
    start = time.perf_counter()
    assert cli.main(["fit", str(pellet), "--plot", str(tmp_path / "fit.SVG")]) == 0
    assert (tmp_path / "fit.SVG").read_text().lstrip().startswith("<?xml")
    assert time.perf_counter() - start < 20


def test_demo_out_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("a regular file")
    assert cli.main(["demo", "--out", str(tmp_path / "afile" / "demo")]) == 2
    assert "cannot create the folder" in _one_line_error(capsys.readouterr().err)
