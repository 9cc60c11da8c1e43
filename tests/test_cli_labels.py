"""What the command line says about each spectrum: batch tables that tell files apart and fit
the terminal, and which spectrum of a file holding several a fit, its JSON and its plot are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eisfit.cli import main as cli
from eisfit.labels import short_labels, spectrum_keys, spectrum_label
from eisfit.show import plot

LCR_GLOB = "Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__*LRC_0_*"
MB = "dgbowl__yadg/tests__test_x_eclab__mb.mpt"
ZERO_C = 273.15


# --------------------------------------------------------------------------- labels
@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["cell_0C.csv", "cell_20C.csv", "cell_40C.csv"], ["0C", "20C", "40C"]),
        # a sign, a decimal point and a date are never cut in two
        (["LATP_-10C.csv", "LATP_-20C.csv"], ["-10C", "-20C"]),
        (["x_25.5C.csv", "x_25.7C.csv"], ["25.5C", "25.7C"]),
        (["run_17.07.2015_a.txt", "run_20.07.2015_a.txt"], ["17.07.2015", "20.07.2015"]),
        # words every name shares are left out of the middle too
        (["p__17.07__LRC_0_  -5°C.txt", "p__17.07__LRC_0_  9°C.txt", "p__18.07__LRC_0_  9°C.txt"],
         ["17.07 -5°C", "17.07 9°C", "18.07 9°C"]),
        # one name is the start of the other: only the shared end goes
        (["a.csv", "a_2.csv"], ["a", "a_2"]),
        # a spectrum index stays on its label; one file alone keeps its name
        (["f.mpt[0]", "f.mpt[1]", "g.mpt"], ["f[0]", "f[1]", "g"]),
        (["mb.mpt[0]", "mb.mpt[1]"], ["mb.mpt[0]", "mb.mpt[1]"]),
        (["only.csv"], ["only.csv"]),
    ],
)
def test_short_labels_keep_what_differs(names, expected):
    shown, note = short_labels(names)
    assert shown == expected
    assert len(set(shown)) == len(set(names))
    assert (note == "") == (shown == names)


def test_spectrum_label_only_for_one_of_several():
    assert spectrum_label({"spectrum_index": 0, "n_spectra": 1, "cycle": 1}) is None
    assert spectrum_label({}) is None
    meta = {"spectrum_index": 2, "n_spectra": 4, "cycle": 3, "loop": 2, "time_s": 479.76}
    assert spectrum_label(meta) == "spectrum 2 (0-3), cycle 3, loop 2, t = 480 s"
    assert spectrum_keys(meta) == {"n_spectra": 4, "cycle": 3, "loop": 2, "time_s": 479.76}
    assert spectrum_keys({"n_spectra": 1, "cycle": float("nan")}) == {}


# --------------------------------------------------------------------------- batch table
def _lcr_files(corpus_dir: Path) -> list[Path]:
    files = sorted((corpus_dir / "m0l0t0ph__thesis").glob(LCR_GLOB))
    if len(files) < 6:
        pytest.skip("LCR series not in the corpus")
    return files


def _table_rows(out: str, section: str) -> list[str]:
    """The rows of a section's table, each row's wrapped lines joined by a space."""
    lines = out.split(section, 1)[1].splitlines()[1:]
    rule = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"})
    rows: list[str] = []
    for line in lines[rule + 1:]:
        if line.startswith("[["):
            break
        if re.search(r"\s\d{3}\.\d{2}(\s|$)", line):  # T/K starts a row
            rows.append(line)
        elif rows:
            rows[-1] += " " + line
    return rows


def _pm(text: str) -> tuple[float, float]:
    """``569.2 ± 1.6`` or ``(2.237 ± 0.006)×10⁻⁴`` as (value, error)."""
    sup = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    m = re.fullmatch(r"\(?(-?[\d.]+) ± ([\d.]+)\)?(?:×10([⁻⁰-⁹¹²³]+))?", text.strip())
    assert m, text
    scale = 10.0 ** int(m.group(3).translate(sup)) if m.group(3) else 1.0
    return float(m.group(1)) * scale, float(m.group(2)) * scale


@pytest.mark.parametrize("width", [80, 120])
def test_batch_table_tells_files_apart_and_fits_the_terminal(corpus_dir, capsys, monkeypatch,
                                                             width):
    files = _lcr_files(corpus_dir)
    monkeypatch.setenv("COLUMNS", str(width))
    rc = cli.main(["batch", *map(str, files), "--thickness", "1mm", "--diameter", "10mm",
                   "--workers", "2"])
    out = capsys.readouterr().out
    assert rc in (0, 1)
    too_wide = [line for line in out.splitlines() if len(line) > width]
    assert not too_wide, too_wide[:3]
    rows = _table_rows(out, "[[Resistances]]")
    assert len(rows) == len(files)
    assert "Experimentelles" not in "".join(rows)  # the shared start of every name is gone
    # each row names its own temperature, and it is the row's T/K: distinct, right labels
    seen = []
    for row in rows:
        t_c = re.findall(r"(-?\d+)°C", row)
        assert len(t_c) == 1, row
        t_k = float(re.search(r"\s(\d{3}\.\d{2})(\s|$)", row).group(1))
        assert t_k == pytest.approx(float(t_c[0]) + ZERO_C, abs=0.01)
        seen.append(t_c[0])
    assert len(set(seen)) == len(rows)
    assert sum("±" in row for row in rows) >= len(rows) - 2
    # conductivity with a geometry: σ = L / (R A) of the total resistance in the same row
    sigma_rows = _table_rows(out, "[[Conductivity]] (S/cm)")
    assert len(sigma_rows) == len(files)
    assert sum("±" in row for row in sigma_rows) >= len(rows) - 2
    if width < 120:
        return  # narrower, a cell may wrap onto the row's next line: values read at 120
    row = next(r for r in rows if "29°C" in r)
    srow = next(r for r in sigma_rows if "29°C" in r)
    cells = re.findall(r"\(?-?[\d.]+ ± [\d.]+\)?(?:×10[⁻⁰-⁹¹²³]+)?", row)
    r_total, r_err = _pm(cells[-1])  # total is the last resistance column
    s_total, s_err = _pm(re.findall(r"\(?-?[\d.]+ ± [\d.]+\)?(?:×10[⁻⁰-⁹¹²³]+)?", srow)[-1])
    area = 3.141592653589793 * 0.5**2  # cm²
    assert s_total == pytest.approx(0.1 / (r_total * area), rel=0.005)
    assert s_err == pytest.approx(s_total * r_err / r_total, rel=0.2)


# --------------------------------------------------------------------------- several spectra
def _mb_truth(path: Path) -> list[tuple[int, float]]:
    """(z cycle, time/s of its first impedance row) of each spectrum, read from the file."""
    lines = path.read_text(encoding="cp1252").splitlines()
    n_header = int(lines[1].split(":")[1])
    names = lines[n_header - 1].split("\t")
    f, cyc, t = names.index("freq/Hz"), names.index("z cycle"), names.index("time/s")
    first: dict[int, float] = {}
    for line in lines[n_header:]:
        v = line.split("\t")
        if float(v[f]) > 0:
            first.setdefault(int(float(v[cyc])), float(v[t]))
    return sorted(first.items())


@pytest.fixture()
def mb(corpus_dir) -> Path:
    p = corpus_dir / MB
    if not p.is_file():
        pytest.skip("mb.mpt not in the corpus")
    return p


FAST = ["--circuit", "R0-p(R1,CPE1)-CPE2", "--no-kk"]


def test_fit_of_several_spectra_says_which_in_text_and_plot(mb, tmp_path, capsys, monkeypatch):
    truth = _mb_truth(mb)
    assert len(truth) == 8
    titles = []

    def spy(*args, **kwargs):
        fig = real(*args, **kwargs)
        titles.append(" ".join(ax.get_title() for ax in fig.axes))
        return fig

    real = plot.fit_figure
    monkeypatch.setattr(plot, "fit_figure", spy)
    png = tmp_path / "fit.png"
    rc = cli.main(["fit", str(mb), *FAST, "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0 and png.is_file()
    said = re.findall(r"^    spectrum     = (\d+) \(0-7\), cycle (\d+), t = (\d+) s$", out, re.M)
    assert [int(i) for i, _, _ in said] == list(range(8))
    assert [int(c) for _, c, _ in said] == [c for c, _ in truth]
    assert [int(t) for _, _, t in said] == [round(t) for _, t in truth]
    assert out.count("[[Fit]]") == 8
    # the plot is of the first spectrum, and its title and the message say so
    assert f"plot of spectrum 0 (0-7), cycle {truth[0][0]}" in out
    title = re.sub(r"\s+", " ", titles[0].replace("\u00a0", " "))
    assert f"spectrum 0 (0-7), cycle {truth[0][0]}, t = {round(truth[0][1])} s" in title
    assert "mb.mpt" in title


def test_fit_json_of_several_spectra_carries_index_cycle_and_time(mb, capsys):
    truth = _mb_truth(mb)
    rc = cli.main(["fit", str(mb), *FAST, "--json"])
    objs = json.loads(capsys.readouterr().out)
    assert rc == 0 and isinstance(objs, list) and len(objs) == len(truth)
    for i, (d, (cycle, t)) in enumerate(zip(objs, truth, strict=True)):
        assert d["spectrum"] == i and d["n_spectra"] == len(truth)
        assert d["cycle"] == cycle
        assert d["time_s"] == pytest.approx(t, abs=1e-6)
        assert "loop" not in d  # the file has no Loop block


def test_single_spectrum_says_no_index(corpus_dir, capsys):
    p = corpus_dir / "ECSHackWeek__impedance.py" / "data__exampleDataBioLogic.mpt"
    if not p.is_file():
        pytest.skip("file not in the corpus")
    rc = cli.main(["fit", str(p), *FAST, "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["spectrum"] == 0
    assert not {"n_spectra", "loop", "time_s"} & set(d)
    assert d["cycle"] == 1  # the file's 'cycle number' column, kept as the reader records it
    cli.main(["fit", str(p), *FAST])
    assert "spectrum     =" not in capsys.readouterr().out
