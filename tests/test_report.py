"""eisfit.show.report: one self-contained HTML file, every user string escaped, and it renders in
headless Chromium without console errors.

The Chromium tests skip when no Chromium is installed, unless the environment variable CI is
set (CI installs Debian's ``chromium`` in .ci/run), where they fail instead.
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.model.synthetic import blocking_cell
from eisfit.output import OutputExistsError
from eisfit.series.temperature import fit_series
from eisfit.show.report import fmt_pm, render_report, write_report

GEOMETRY = eisfit.Geometry(thickness="1 mm", diameter="10 mm")
IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
#: Chromium writes every console message (errors, CSP violations, uncaught exceptions) to
#: stderr as ``...:INFO:CONSOLE:12] "message", source: ...`` (older: ``CONSOLE(12)``).
CONSOLE = re.compile(r"CONSOLE[(:]\d+")


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def report(series, full, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report([series, full], path, geometry=eisfit.Geometry(thickness="1 mm", area="1 cm2"),
                 headings=["LATP-like pellet", "full cell"], notes=["synthetic examples"])
    return path


HOSTILE = "<img src=x onerror=alert(1)>&\"'"


@pytest.fixture(scope="module")
def hostile_series():
    """Three synthetic spectra whose file names and metadata hold HTML."""
    rng = np.random.default_rng(11)
    spectra = []
    for i in range(3):
        s = blocking_cell(rng).spectrum
        spectra.append(s.with_meta(source=f"{HOSTILE}{i}_pellet.csv",
                                   instrument="<b>Potentiostat</b> & co"))
    return fit_series(spectra, temperatures=[298.15, 318.15, 338.15], geometry=GEOMETRY)


def _text(page: str) -> str:
    """The page's text as a reader sees it: entities decoded, no-break spaces as spaces,
    line-break hints (``<wbr>``) gone."""
    return html.unescape(page.replace("<wbr>", "")).replace("\xa0", " ")


# --------------------------------------------------------------------------- content
def test_report_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|file:|//)""", page)
    images = IMG.findall(page)
    assert len(images) == 1 + 8 + 1  # Arrhenius, 8 pellet spectra, the full cell
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_methods_summary(report, series):
    page = report.read_text(encoding="utf-8")
    for text in ("files", "instrument", "frequency range", "0.1 Hz to 7 MHz", "circuit",
                 "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", "named circuit <code>blocking</code>",
                 "weighting", "modulus", "geometry", "1 mm thick, 10 mm diameter",
                 "external resistance", "1.5 Ω", "temperatures", "-40 to 30 °C",
                 "Arrhenius form", "ln(σT) against 1/T", "weighted by the fits' standard errors",
                 "LATP_-40C.csv", "full-cell"):
        assert html.escape(text, quote=False) in page or text in page, text


def test_report_results_with_uncertainties(report, series):
    page = _text(report.read_text(encoding="utf-8"))
    for role, a in series.arrhenius_all().items():
        assert fmt_pm(a.Ea_eV, a.Ea_stderr_eV) in page, role
    r = series.results[0]
    for role, v in r.resistances.items():
        assert fmt_pm(v, r.resistance_stderr.get(role)) in page, role
    sig = r.conductivity(GEOMETRY)["bulk"]
    assert fmt_pm(sig.nominal_value, sig.std_dev) in page
    assert "σ bulk / (S cm⁻¹)" in page and "ASR anode interface / (Ω cm²)" in page


def test_report_lists_every_warning(report, series, full):
    page = report.read_text(encoding="utf-8")
    warnings = [w for r in series.results for w in r.warnings]
    warnings += [w for a in series.arrhenius_all().values() for w in a.warnings]
    warnings += list(full.warnings)
    assert warnings
    for w in warnings:
        assert html.escape(w) in page, w
    n = int(re.search(r"Warnings \((\d+)\)", page).group(1))
    assert n >= sum(len(r.warnings) for r in series.results)


def test_every_user_string_is_escaped(hostile_series, tmp_path):
    path = write_report(hostile_series, tmp_path / "r.html", drt=False, kk=False,
                        title="<i>my</i> cell", notes=["<script>alert(2)</script>"])
    page = path.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<script>" not in page and "<b>Potentiostat" not in page
    assert "<i>my</i>" not in page
    assert html.escape("<img src=x onerror=alert(1)>") in page
    assert html.escape("<b>Potentiostat</b> & co") in page
    assert "&lt;i&gt;my&lt;/i&gt; cell" in page
    # alt text of the plots carries the label too, escaped inside the attribute
    assert 'alt="Fit of &lt;img' in page


def test_single_fit_report_and_overwrite_protection(full, tmp_path):
    path = tmp_path / "cell.html"
    write_report(full, path, drt=False, kk=False)
    page = path.read_text(encoding="utf-8")
    assert "Li_SSE_LFP_25C.csv" in page and "not applicable (one temperature)" in page
    assert len(IMG.findall(page)) == 1
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="already exists"):
        write_report(full, path)
    assert path.read_bytes() == before
    write_report(full, path, force=True, title="again", drt=False, kk=False)
    assert "<title>again</title>" in path.read_text(encoding="utf-8")


def test_bad_inputs(full):
    with pytest.raises(TypeError, match="Series and FitResult"):
        render_report([full, "nope"])
    with pytest.raises(ValueError, match="form must be one of"):
        render_report(full, form="sigma")
    with pytest.raises(ValueError, match="needs a Series or a FitResult"):
        render_report([])


@pytest.mark.parametrize(
    ("value", "err", "text"),
    [
        (400.13, 2.31, "400.1 ± 2.3"),
        (1.3216e-5, 9e-8, "(1.322 ± 0.009)×10⁻⁵"),
        (0.2997, 0.00052, "0.2997 ± 0.0005"),
        (5e-12, 1e-13, "(5.00 ± 0.10)×10⁻¹²"),
        (1e-15, 5.6e-12, "(0 ± 6)×10⁻¹²"),
        (1.5, None, "1.5"),
        (float("nan"), 1.0, "not determined"),
    ],
)
def test_fmt_pm(value, err, text):
    assert fmt_pm(value, err) == text


# --------------------------------------------------------------------------- Chromium
def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        reason = ("headless Chromium is not installed (Debian: apt-get install chromium); "
                  "the report render check needs it")
        if os.environ.get("CI"):
            pytest.fail(reason + " and CI is set: .ci/run must install it")
        pytest.skip(reason)
    return found


def _render(page: Path, tmp: Path) -> tuple[Path, str]:
    """Screenshot ``page`` with headless Chromium; returns (png, stderr)."""
    shot = tmp / "shot.png"
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", f"--screenshot={shot}",
        "--window-size=1200,2000", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    assert shot.exists(), f"no screenshot; chromium exited {proc.returncode}:\n{proc.stderr}"
    return shot, proc.stderr


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def _pixels(png: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def test_chromium_console_check_catches_errors(tmp_path):
    """The check below is only worth something if it sees console errors: a page with a
    script error and a blocked image must produce them."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv="
        "'Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "script-src 'unsafe-inline'\"></head><body><h1>x</h1><img src='file:///nope.png'>"
        "<script>console.error('deliberate'); undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    _, stderr = _render(bad, tmp_path)
    lines = " ".join(_console(stderr))
    assert "deliberate" in lines and "undefinedFunction" in lines
    assert "Content Security Policy" in lines


def test_report_renders_in_headless_chromium(report, tmp_path):
    shot, stderr = _render(report, tmp_path)
    assert _console(stderr) == [], "console messages:\n" + "\n".join(_console(stderr))
    px = _pixels(shot)
    assert px.shape[0] >= 1500 and px.shape[1] >= 1000
    ink = (px < 235).any(axis=2).mean()
    assert ink > 0.03, f"the screenshot is almost blank ({ink:.1%} ink)"
    # the embedded plots were decoded and drawn: matplotlib's blue (C0) and orange (C1)
    blue = ((px[..., 2] > 140) & (px[..., 0] < 90) & (px[..., 1] > 90) & (px[..., 1] < 160))
    orange = ((px[..., 0] > 220) & (px[..., 1] > 100) & (px[..., 1] < 160) & (px[..., 2] < 60))
    assert blue.sum() > 200 and orange.sum() > 200


# --------------------------------------------------------------------------- layout
#: Measures, after layout, every table against the page's content box and the window, and
#: each table's scroll box; the result goes into an attribute that ``--dump-dom`` shows.
LAYOUT_JS = """<script>
(function () {
  var W = document.documentElement.clientWidth, out = [];
  var main = document.querySelector('main'), cs = getComputedStyle(main);
  var limit = Math.min(W, main.getBoundingClientRect().right - parseFloat(cs.paddingRight));
  var tables = document.querySelectorAll('table');
  tables.forEach(function (t, i) {
    var r = t.getBoundingClientRect(), box = t.parentElement;
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (r.right > limit + 1 || scrolls) {
      out.push({table: i, right: Math.round(r.right), width: Math.round(r.width),
                scrolls: scrolls, head: t.rows[0].textContent.replace(/\\s+/g, ' ').slice(0, 80)});
    }
  });
  var heads = [];
  document.querySelectorAll('th').forEach(function (h) {
    if (/\\bT\\s*\\/\\s*°C\\b/.test(h.textContent)) {
      var range = document.createRange();
      range.selectNodeContents(h);
      heads.push(Math.round(range.getBoundingClientRect().height /
                            parseFloat(getComputedStyle(h).lineHeight)));
    }
  });
  document.body.setAttribute('data-layout', JSON.stringify({
    viewport: W, page: document.documentElement.scrollWidth, limit: Math.round(limit),
    tables: tables.length, overflow: out, t_lines: heads}));
})();
</script>"""


def _layout(page: Path, tmp: Path, width: int) -> dict:
    """Lay ``page`` out in headless Chromium at ``width`` px and measure its tables.

    The page forbids scripts (its Content-Security-Policy); a copy allows one inline script,
    the measurement, and is otherwise the page itself."""
    import json

    text = page.read_text(encoding="utf-8")
    csp = "style-src 'unsafe-inline'"
    assert csp in text
    probe = tmp / f"layout_{width}_{page.name}"
    probe.write_text(
        text.replace(csp, csp + "; script-src 'unsafe-inline'", 1)
        .replace("</body>", LAYOUT_JS + "</body>", 1),
        encoding="utf-8",
    )
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--hide-scrollbars",
        f"--window-size={width},1500", "--dump-dom", probe.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    found = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert found, f"no layout measured; chromium exited {proc.returncode}:\n{proc.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def _assert_fits(layout: dict, width: int, what: str) -> None:
    assert layout["viewport"] == width, layout
    assert layout["tables"] >= 4, layout
    assert layout["overflow"] == [], (
        f"{what} at {width} px: tables wider than the page ({layout['limit']} px):\n"
        + "\n".join(str(o) for o in layout["overflow"])
    )
    assert layout["page"] <= width, f"{what} at {width} px scrolls sideways: {layout}"


@pytest.fixture(scope="module")
def batch_report(tmp_path_factory):
    """The report of ``eisfit batch`` on the bundled LATP series, as the README runs it."""
    from eisfit.cli.main import main

    _chromium()  # skip before fitting when there is no browser
    out = tmp_path_factory.mktemp("batch") / "out"
    data = Path(__file__).resolve().parents[1] / "data" / "latp_pellet"
    assert main(["batch", str(data), "--thickness", "1mm", "--diameter", "10mm",
                 "--external-resistance", "1.5", "--out", str(out)]) == 0
    return out / "report.html"


@pytest.fixture(scope="module")
def single_report(full, tmp_path_factory):
    _chromium()
    path = tmp_path_factory.mktemp("single") / "cell.html"
    return write_report(full, path, geometry=eisfit.Geometry(thickness="1 mm", area="1 cm2"),
                        drt=False, kk=False)


def test_layout_check_catches_a_wide_table(tmp_path):
    """The check below is only worth something if it sees overflow: a table of one long
    unbreakable cell, in the report's own page frame, must be reported at 800 px."""
    page = render_report(eisfit.fit(blocking_cell(np.random.default_rng(3)).spectrum),
                         drt=False, kk=False)
    wide = "<table><tr><td style='white-space:nowrap'>" + "x" * 400 + "</td></tr></table>"
    bad = tmp_path / "wide.html"
    bad.write_text(page.replace("</main>", wide + "</main>", 1), encoding="utf-8")
    layout = _layout(bad, tmp_path, 800)
    assert len(layout["overflow"]) == 1 and layout["overflow"][0]["width"] > 2000


@pytest.mark.parametrize("width", [1280, 800])
def test_batch_report_tables_fit_the_page(batch_report, tmp_path, width):
    layout = _layout(batch_report, tmp_path, width)
    _assert_fits(layout, width, "batch report")
    # "T / °C" heads its column on one line
    assert layout["t_lines"] and max(layout["t_lines"]) == 1, layout["t_lines"]


@pytest.mark.parametrize("width", [1280, 800])
def test_single_fit_report_tables_fit_the_page(single_report, tmp_path, width):
    _assert_fits(_layout(single_report, tmp_path, width), width, "single-fit report")


def test_batch_report_numbers(batch_report):
    """One rule for value ± error, units typeset, the series resistance that is the external
    resistance marked as given, undetermined values said so."""
    page = _text(batch_report.read_text(encoding="utf-8"))
    assert "S s^n" not in page and "S·sⁿ" in page and ">Ohm<" not in page
    assert "1.5 (external)" in page
    assert "not determined<br>(0 ± 60)" in page  # R series of LATP_-40C: 2e-6 ± 56 Ohm
    assert not re.search(r"\d ± 0\.0+(?!\d)", page)  # no "0.416 ± 0.000"
    tables = IMG.sub("", page).split("<h2>Warnings")[0]
    assert not re.search(r"\de[-+]\d", tables)  # no 1.8e-09 in the tables
    # a column reads alike: every apex frequency of the grain boundary with a power of ten
    gb = re.findall(r"\(\d\.\d+ ± \d\.\d+\)×10[⁰¹²³⁴⁵⁶⁷⁸⁹]+", page)
    assert len(gb) >= 8


# --------------------------------------------------------------------------- eisfit demo
def test_demo_writes_report_and_plots_and_protects_existing_files(tmp_path, capsys):
    from eisfit.cli.main import main

    out = tmp_path / "demo"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "summary.json").write_text("stale")
    assert main(["demo", "--out", str(out)]) == 2  # refuses before fitting anything
    err = capsys.readouterr().err
    assert "already holds summary.json" in err and "--force" in err
    assert (out / "summary.json").read_text() == "stale"

    assert main(["demo", "--out", str(out), "--force"]) == 0
    text = capsys.readouterr().out
    assert "Ea(bulk)" in text and "report.html" in text
    assert (out / "notes.txt").read_text() == "mine"  # nothing else in the folder touched
    summary = __import__("json").loads((out / "summary.json").read_text())
    assert {"spectra", "arrhenius", "failures", "full_cell"} <= set(summary)
    assert summary["arrhenius"]["bulk"]["Ea_eV"] == pytest.approx(0.30, abs=0.01)
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "results.csv", "results_sulfide.csv", "arrhenius.png",
            "arrhenius_sulfide.png", "full_cell.png"} <= names
    assert len([n for n in names if n.startswith("fit_LATP_")]) == 8
    # the sulfide pellet: blocking falls back to blocking-spike, the intercept less 1.83 Ohm
    data = Path(__file__).resolve().parents[1] / "data"
    truth = __import__("json").loads((data / "truth.json").read_text())["sulfide_pellet"]
    for spec in summary["sulfide_pellet"]["spectra"]:
        name = spec["source"].replace("\\", "/").rsplit("/", 1)[-1]
        assert spec["circuit_name"] == "blocking-spike"
        made = truth["spectra"][name]["electrolyte_ohm"]
        assert spec["resistances_ohm"]["total"] == pytest.approx(made, rel=0.002)
    assert summary["sulfide_pellet"]["arrhenius"]["total"]["Ea_eV"] == pytest.approx(
        truth["Ea_eV"], abs=0.002)
    page = (out / "report.html").read_text(encoding="utf-8")
    # 8 + 1 spectra and an Arrhenius plot, each spectrum's PNG also written as a file
    assert "not measurements" in page and len(IMG.findall(page)) == 10
    embedded = set(IMG.findall(page))
    drawn_once = [n for n in names if n.startswith("fit_") or n == "full_cell.png"]
    assert len(drawn_once) == 9
    assert all(base64.b64encode((out / n).read_bytes()).decode() in embedded for n in drawn_once)

    before = (out / "report.html").read_bytes()
    assert main(["demo", "--out", str(out)]) == 2
    assert (out / "report.html").read_bytes() == before
