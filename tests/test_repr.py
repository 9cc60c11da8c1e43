"""Jupyter display: Spectrum, FitResult, Series and ArrheniusResult render as HTML with every
user string escaped and a ``<pre>`` plain-text fallback; ``to_frame()`` where a table exists."""

from __future__ import annotations

import dataclasses
import html
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import eisfit
from eisfit.analysis.activation import arrhenius
from eisfit.io.spectrum import Spectrum
from eisfit.model.synthetic import blocking_cell
from eisfit.series.temperature import fit_series

HOSTILE = "<img src=x onerror=alert(1)><script>&\"'"
VOID = {"img", "br", "hr", "meta", "input", "link", "col", "area", "base", "wbr", "source"}


class _Checker(HTMLParser):
    """Collects tags and checks that every opened element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []
        self.pre_text: list[str] = []
        self._in_pre = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.errors.append(f"<{tag}> has an event handler {name}")
        if tag == "pre":
            self._in_pre += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre -= 1
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self._in_pre:
            self.pre_text.append(data)


def _check(page: str) -> _Checker:
    c = _Checker()
    c.feed(page)
    c.close()
    assert not c.errors, c.errors
    assert not c.stack, f"unclosed: {c.stack}"
    assert "script" not in c.tags, "a user string became a <script> element"
    assert "pre" in c.tags, "no <pre> text fallback"
    return c


@pytest.fixture(scope="module")
def spectrum():
    s = blocking_cell(np.random.default_rng(4)).spectrum
    return s.with_meta(source=f"/data/{HOSTILE}_25C.csv", instrument=HOSTILE,
                       temperature=298.15)


@pytest.fixture(scope="module")
def fitted(spectrum):
    return eisfit.fit(spectrum, "blocking")


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(8)
    items = [blocking_cell(rng).spectrum.with_meta(source=f"{HOSTILE}{i}.csv") for i in range(3)]
    return fit_series(items, temperatures=[300.0, 320.0, 340.0],
                      geometry=eisfit.Geometry(thickness="1 mm", diameter="10 mm"))


def test_spectrum_repr_html(spectrum):
    page = spectrum._repr_html_()
    c = _check(page)
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert c.tags.count("img") == 1 and 'src="data:image/png;base64,' in page  # small Nyquist
    assert "79" in page or str(len(spectrum)) in page
    assert repr(spectrum) in "".join(c.pre_text)
    assert "25 °C" in page


def test_spectrum_repr_html_never_raises(monkeypatch, spectrum):
    import eisfit.show.report

    def boom(*a, **k):
        raise RuntimeError("no")

    monkeypatch.setattr(eisfit.show.report, "spectrum_html", boom)
    page = spectrum._repr_html_()
    assert page.startswith("<pre>") and html.escape(repr(spectrum)) in page


def test_spectrum_to_frame(spectrum):
    df = spectrum.to_frame()
    assert list(df.columns) == ["frequency_Hz", "z_real_ohm", "z_imag_ohm", "z_abs_ohm",
                                "phase_deg"]
    assert len(df) == len(spectrum)
    assert np.allclose(df["z_real_ohm"] + 1j * df["z_imag_ohm"], spectrum.z)
    assert np.allclose(df["phase_deg"], np.degrees(np.angle(spectrum.z)))


def test_spectrum_repr_html_without_metadata():
    s = Spectrum(np.logspace(5, 0, 20), np.full(20, 100 - 5j))
    page = s._repr_html_()
    _check(page)
    assert "Spectrum" in page


def test_fit_result_repr_html(fitted):
    page = fitted._repr_html_()
    c = _check(page)
    assert HOSTILE not in page
    assert "±" in page  # parameters with their errors
    for name in fitted.params:
        assert f"<td>{name}</td>" in page
    assert fitted.report() in "".join(c.pre_text)


def test_series_repr_html(series):
    page = series._repr_html_()
    c = _check(page)
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert series.report() in "".join(c.pre_text)
    df = series.to_frame()
    assert len(df) == len(series)


def test_arrhenius_result_repr_html():
    a = arrhenius([300.0, 330.0, 360.0, 390.0], [1e-4, 4e-4, 1.2e-3, 3e-3])
    a = dataclasses.replace(a, warnings=(HOSTILE,))
    page = a._repr_html_()
    c = _check(page)
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert a.report() in "".join(c.pre_text)
    assert len(a.to_frame()) == 1


def test_ipython_display_formatter_picks_html(spectrum, fitted, series):
    formatters = pytest.importorskip("IPython.core.formatters", reason="IPython not installed")
    fmt = formatters.DisplayFormatter()
    a = arrhenius([300.0, 330.0, 360.0], [1e-4, 4e-4, 1.2e-3])
    for obj in (spectrum, fitted, series, a):
        data, _meta = fmt.format(obj)
        assert "text/html" in data and "text/plain" in data, type(obj).__name__


def test_repr_of_bundled_example():
    data = Path(__file__).resolve().parents[1] / "data" / "latp_pellet" / "LATP_0C.csv"
    page = eisfit.read(data)._repr_html_()
    _check(page)
    assert "LATP_0C.csv" in page and "0.1 Hz to 7 MHz" in page
