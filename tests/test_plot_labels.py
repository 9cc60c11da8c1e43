"""Labels of the plots stay readable: no label on another, none on a data marker; the
Arrhenius view is set by the points the regression used; spectra far from lin-KK are left out
of a series' Arrhenius fits with their reason (the LCR series of the corpus)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import eisfit
from eisfit.analysis.kk import kk_warning
from eisfit.series import checks as series_checks
from eisfit.show.plot import PNG_DPI, arrhenius_figure, fit_figure, wrap_title
from eisfit.show.plot_labels import marker_points, text_boxes

DATA = Path(__file__).resolve().parents[1] / "data"
LCR_FOLDER = "m0l0t0ph__thesis"


def _draw(fig):
    FigureCanvasAgg(fig)
    fig.set_dpi(PNG_DPI)
    fig.canvas.draw()
    return fig


def assert_labels_clear(fig) -> None:
    """No two text labels' extents overlap, and no marker centre lies under a label."""
    _draw(fig)
    boxes = text_boxes(fig)
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"{ta.get_text()!r} overlaps {tb.get_text()!r}"
    for ax in fig.axes:
        pts = marker_points(ax)
        for t, box in boxes:
            if t.axes is not ax and t.figure is not ax.figure:
                continue
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1)
                      & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
            assert not inside.any(), f"{t.get_text()!r} sits on {int(inside.sum())} marker(s)"


@pytest.fixture(scope="module")
def lcr_series(corpus_dir):
    files = sorted((corpus_dir / LCR_FOLDER).glob("*LRC*"))
    assert len(files) == 11
    return eisfit.fit_series(files, circuit="blocking", kk=True)  # as eisfit batch fits them


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "latp_pellet").glob("*.csv")))
def test_nyquist_labels_latp(name):
    r = eisfit.fit(eisfit.read(DATA / "latp_pellet" / name), "blocking", external_resistance=1.5)
    fig = fit_figure(r)
    assert_labels_clear(fig)
    ax = fig.axes[0]
    shown = [t.get_text() for t in ax.texts if t.get_visible()]
    assert any("grain boundary" in t for t in shown)  # the apex labels are kept


def test_nyquist_labels_full_cell():
    r = eisfit.fit(eisfit.read(DATA / "full_cell" / "Li_SSE_LFP_25C.csv"), "full-cell")
    fig = fit_figure(r)
    assert_labels_clear(fig)
    shown = " ".join(t.get_text() for t in fig.axes[0].texts if t.get_visible())
    for role in ("electrolyte", "anode interface", "cathode interface"):
        assert role in shown


@pytest.mark.parametrize("celsius", ["-27°C", "-41°C"])
def test_nyquist_labels_lcr(lcr_series, celsius):
    (r,) = [r for lab, r in zip(lcr_series.labels, lcr_series.results, strict=True)
            if lab.endswith(f" {celsius}.txt")]
    fig = fit_figure(r)
    assert_labels_clear(fig)
    # the long file name wraps instead of running off the figure
    title = fig.axes[0].title
    assert "\n" in title.get_text()
    assert title.get_window_extent().x1 <= fig.bbox.x1 + 1
    assert title.get_window_extent().x0 >= fig.bbox.x0 - 1


def test_arrhenius_lcr_view_and_labels(lcr_series):
    fig = arrhenius_figure(lcr_series)
    assert_labels_clear(fig)
    ax = fig.axes[0]
    assert not ax.yaxis.get_offset_text().get_text()  # no ×1e15 offset over the °C axis
    y0, y1 = ax.get_ylim()
    far = 0
    for role, a in lcr_series.arrhenius_all().items():
        t = np.asarray(a.temperature_K, float)
        y_used = np.log(np.asarray(a.values, float) * t)
        lo, hi = y_used.min(), y_used.max()
        assert y0 <= lo and hi <= y1, role  # every used point in view
        span = max(hi - lo, 0.1)
        for e in a.excluded:
            ye = math.log(e["value"] * e["temperature_K"])
            if ye > hi + 3 * span or ye < lo - 3 * span:
                far += 1
                assert not y0 <= ye <= y1, (role, e["source"])
    assert far >= 2  # the series does hold points far off (σ ~ 1e15 S from R ~ 1e-15 Ohm)
    # excluded points are drawn hollow and labelled by temperature
    shown = " ".join(t.get_text() for t in ax.texts if t.get_visible())
    for c in ("50", "100", "150", "-41"):
        assert c in shown


def test_lcr_json_lists_excluded_with_reasons(lcr_series, tmp_path):
    out = tmp_path / "results.json"
    lcr_series.to_json(out, allow_nan=True)
    arr = json.loads(out.read_text())["arrhenius"]
    bulk = arr["bulk"]
    gone = {round(e["temperature_K"] - 273.15): e["reason"] for e in bulk["excluded"]}
    for c in (50, 100, 150, -41):  # lin-KK residuals of 100 % and more (phases beyond ±90°)
        assert c in gone and "lin-KK residual" in gone[c]
    used = {round(u["temperature_K"] - 273.15) for u in bulk["used"]}
    assert used.isdisjoint(gone) and used
    assert bulk["Ea_eV"] is None or 0 < bulk["Ea_eV"] < 2


def test_kk_far_check():
    f = np.logspace(6, 0, 61)
    z = eisfit.Circuit("R0-p(R1,CPE1)").impedance(f, [10, 1e3, 1e-9, 0.9])
    good = eisfit.Spectrum(f, z)
    assert kk_warning(good) is None
    assert math.isnan(series_checks.kk_excess([]))
    # phases beyond ±90°: every other point's sign flipped (an LCR meter's wrapped phase)
    flip = np.where(np.arange(f.size) % 3 == 0, -1.0, 1.0)
    bad = eisfit.Spectrum(f, z.real * flip - 1j * z.imag)
    w = kk_warning(bad)
    assert w is not None and series_checks.kk_failed([w])
    excess = series_checks.kk_excess(["something else", w])
    assert excess > series_checks.KK_FAR_FACTOR
    # a mild failure stays (refitted, noted), a gross one is left out with its reason
    found = series_checks.kk_far([math.nan, 2.0, excess])
    assert list(found) == [2] and "not a measurement of the cell" in found[2]
    facts = series_checks.Facts([250.0, 260.0, 270.0])
    facts.kk_excess[:] = [math.nan, 2.0, excess]
    v = [x for x in series_checks.violations(facts) if x.check == "kk_far"]
    assert [(x.index, x.role) for x in v] == [(2, "*")]


def test_wrap_title_breaks_file_names():
    from matplotlib.figure import Figure

    ax = Figure(figsize=(3.5, 3)).add_subplot()
    name = "Experimentelles__Impedanzmessungen__LATP_LMNO__1stTry__17.07.2015__LRC_0_  -41°C.txt"
    text = wrap_title(f"{name}, -41 °C", ax)
    lines = text.split("\n")
    assert 1 < len(lines) <= 3
    assert text.replace("\n", "") == f"{name}, -41 °C".replace("  ", " ") or "…" not in text
    assert all(len(line) <= 60 for line in lines)
    assert wrap_title("LATP_-40C.csv, -40 °C", ax) == "LATP_-40C.csv, -40 °C"
