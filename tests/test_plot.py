"""eisfit.show.plot: every function returns its Axes, draws what it says, and leaves pyplot alone.

Inputs are synthetic: the example series in data/ (made from known parameters) and spectra
from eisfit.model.synthetic.
"""

from __future__ import annotations

import io
import math
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import eisfit
from eisfit.analysis.activation import arrhenius as arrhenius_fit
from eisfit.model.synthetic import blocking_cell
from eisfit.show import plot


@pytest.fixture(scope="module")
def cold(series):
    return series.results[0]  # -40 °C: bulk and grain-boundary arcs inside the window


@pytest.fixture(scope="module")
def full_drt(full):
    return eisfit.drt(full.original or full.spectrum)


@pytest.fixture(scope="module")
def full_kk(full):
    return eisfit.kramers_kronig(full.original or full.spectrum)


@pytest.fixture(autouse=True)
def no_pyplot(monkeypatch):
    """Nothing here may open a pyplot window or figure."""
    import matplotlib.pyplot as plt

    def refuse(*a, **k):  # pragma: no cover - only runs on a regression
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", refuse)
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "a pyplot figure was created"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return buf.getvalue()


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


# --------------------------------------------------------------------------- Nyquist
def test_nyquist_of_a_fit_has_data_fit_units_and_equal_scales(cold):
    ax = plot.nyquist(cold)
    assert isinstance(ax, Axes)
    labels = [ln.get_label() for ln in ax.lines]
    assert "data" in labels and "fit" in labels
    assert ax.get_xlabel() == "Z' / kΩ" and ax.get_ylabel() == "−Z'' / kΩ"
    assert ax.get_aspect() == 1.0
    x0, _ = ax.get_xlim()
    y0, _ = ax.get_ylim()
    assert x0 <= 0 and y0 <= 0  # the origin is on the plot
    data = next(ln for ln in ax.lines if ln.get_label() == "data")
    z = cold.original or cold.spectrum
    assert np.allclose(data.get_ydata(), -z.z.imag / 1e3)  # −Z'' up, in kΩ
    _png(ax.figure)


def test_nyquist_labels_arc_apexes_by_role(cold):
    texts = " ".join(_texts(plot.nyquist(cold)))
    assert "grain boundary" in texts and "bulk" in texts
    assert "kHz" in texts or "MHz" in texts


def test_nyquist_decade_markers(cold):
    ax = plot.nyquist(cold, decades=True, label_arcs=False)
    texts = _texts(ax)
    decades = [t for t in texts if t.endswith("Hz") and "spike" not in t]
    assert decades
    for t in decades:
        number, unit = t.split()
        assert number in ("0.1", "1", "10", "100") and unit in ("Hz", "kHz", "MHz")
    plain = _texts(plot.nyquist(cold, label_arcs=False))
    assert not [t for t in plain if t.endswith("Hz") and "spike" not in t]


def test_nyquist_zooms_on_arcs_when_a_spike_dwarfs_them(cold):
    z = (cold.original or cold.spectrum).z
    auto = plot.nyquist(cold)
    everything = plot.nyquist(cold, zoom="all")
    top_auto = auto.get_ylim()[1] * 1e3
    assert top_auto < 0.2 * float(np.max(-z.imag))  # the spike is cut
    assert everything.get_ylim()[1] * 1e3 >= float(np.max(-z.imag))
    assert any("spike continues" in t for t in _texts(auto))
    fixed = plot.nyquist(cold, zoom=20e3)
    assert fixed.get_xlim()[1] == pytest.approx(20.0, rel=0.2)
    with pytest.raises(ValueError, match="zoom"):
        plot.nyquist(cold, zoom=-1)


def test_nyquist_marks_a_resistance_taken_from_the_intercept(series):
    warm = series.results[-1]  # 30 °C: bulk above the window, reported from the intercept
    assert "bulk" not in {a.role for a in warm.arcs}
    assert any("(intercept)" in t for t in _texts(plot.nyquist(warm)))


def test_nyquist_of_a_bare_spectrum_and_onto_given_axes():
    s = blocking_cell(np.random.default_rng(3)).spectrum
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.nyquist(s, ax=ax, decades=True, title="") is ax
    assert [ln.get_label() for ln in ax.lines][0] == "data"
    assert ax.get_title() == ""


def test_nyquist_of_a_spectrum_without_a_spike_or_fit(full):
    cell = full.original or full.spectrum  # arcs and a diffusion tail: nothing to cut
    ax = plot.nyquist(cell, decades=True)
    assert [ln.get_label() for ln in ax.lines][0] == "data"
    assert ax.get_xlim()[1] >= float(cell.z.real.max())
    assert not any("spike" in t for t in _texts(ax))


# --------------------------------------------------------------------------- Bode, residuals
def test_bode_has_modulus_and_phase_with_units(full):
    ax = plot.bode(full)
    fig = ax.figure
    assert len(fig.axes) == 2  # |Z| and its twin for the phase
    assert ax.get_xlabel() == "f / Hz" and ax.get_ylabel() == "|Z| / Ω"
    assert fig.axes[1].get_ylabel() == "−phase / °"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(plot.bode(full, phase=False).figure.axes) == 1
    _png(fig)


def test_residuals_in_percent_with_noise_band(full):
    ax = plot.residuals(full, noise=0.005)
    assert ax.get_ylabel().endswith("/ %")
    r = full.residuals() * 100
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert np.allclose(lines["Z'"].get_ydata(), r.real)
    assert np.allclose(lines["Z''"].get_ydata(), r.imag)
    assert any("±0.5 %" in t.get_text() for t in ax.get_legend().get_texts())


# --------------------------------------------------------------------------- Arrhenius
def _legend(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_arrhenius_of_a_series_lines_points_legend_and_celsius_axis(series):
    ax = plot.arrhenius(series)
    fits = series.arrhenius_all()
    legend = _legend(ax)
    assert len(legend) == len(fits)
    for role, a in fits.items():
        entry = next(t for t in legend if t.startswith(plot.pretty_role(role) + ":"))
        value, err = entry.split("Ea = ")[1].removesuffix(" eV").split(" ± ")
        assert float(value) == pytest.approx(a.Ea_eV, abs=1e-3)
        assert float(err) == pytest.approx(a.Ea_stderr_eV, rel=0.5, abs=1e-5)
    assert ax.get_xlabel() == "1000 / T / K$^{-1}$"
    assert "σT" in ax.get_ylabel() and "S cm" in ax.get_ylabel()
    tops = [c for c in ax.child_axes if c.get_xlabel() == "T / °C"]
    assert len(tops) == 1
    # the fitted line is the regression: y = ln A + slope/T, plotted against 1000/T
    a = fits["bulk"]
    line = next(ln for ln in ax.lines if ln.get_label().startswith("bulk:"))
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert np.allclose(y, a.ln_prefactor + a.slope_K * x / 1000)
    _png(ax.figure)


def test_arrhenius_celsius_axis_conversion():
    assert float(plot._inv_to_celsius(1000 / 273.15)) == pytest.approx(0.0)
    assert float(plot._celsius_to_inv(26.85)) == pytest.approx(1000 / 300.0)


def test_arrhenius_log_sigma_form_and_role_choice(series):
    ax = plot.arrhenius(series, roles=["bulk"], form="log(sigma)")
    assert len(_legend(ax)) == 1
    assert ax.get_ylabel().startswith("log$_{10}$(σ")
    a = series.arrhenius("bulk", "ln(sigma)")
    line = ax.lines[0]
    x = np.asarray(line.get_xdata())
    assert np.allclose(line.get_ydata(), (a.ln_prefactor + a.slope_K * x / 1000) / math.log(10))
    assert f"{a.Ea_eV:.3f}" in _legend(ax)[0]


def test_arrhenius_from_results_given_directly():
    t = np.array([300.0, 320.0, 340.0, 360.0])
    k = 8.617333262e-5
    one = arrhenius_fit(t, 1e3 / t * np.exp(-0.35 / (k * t)))
    two = arrhenius_fit(t, 1e2 / t * np.exp(-0.50 / (k * t)))
    # noise-free points: an error of 1e-15 eV is rounding, not a measurement's: Ea alone
    assert _legend(plot.arrhenius(one))[0] == "Ea = 0.35 eV"
    assert len(_legend(plot.arrhenius({"bulk": one, "grain_boundary": two}))) == 2
    assert len(_legend(plot.arrhenius([one, two]))) == 2
    with pytest.raises(ValueError, match="fitted as ln\\(sigma\\*T\\)"):
        plot.arrhenius(one, form="ln(sigma)")
    with pytest.raises(ValueError, match="form must be one of"):
        plot.arrhenius(one, form="sigma")
    with pytest.raises(KeyError, match="no Arrhenius result for total"):
        plot.arrhenius({"bulk": one}, roles="total")
    with pytest.raises(TypeError, match="plot.arrhenius takes"):
        plot.arrhenius(3.0)


def test_arrhenius_draws_a_joint_fit_dashed(series):
    a = series.arrhenius("bulk")
    proc = SimpleNamespace(ln_prefactor=a.ln_prefactor, slope_K=a.slope_K, Ea_eV=a.Ea_eV,
                           Ea_stderr_eV=0.002)
    fake = SimpleNamespace(results=series.results, arrhenius_all=series.arrhenius_all,
                           arrhenius=series.arrhenius,
                           joint=SimpleNamespace(form="ln(sigma*T)", processes={"bulk": proc}))
    ax = plot.arrhenius(fake)
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and "bulk (joint): Ea = " in dashed[0].get_label()
    assert not [ln for ln in plot.arrhenius(fake, joint=False).lines
                if ln.get_linestyle() == "--"]


# --------------------------------------------------------------------------- DRT, lin-KK
def test_drt_plot_marks_peaks(full_drt):
    ax = plot.drt(full_drt)
    assert ax.get_xlabel() == "τ / s" and ax.get_ylabel() == "γ / Ω"
    assert ax.get_xscale() == "log"
    assert len(ax.texts) == len(full_drt.peaks) >= 3
    assert any(c.get_xlabel().startswith("f = 1/(2πτ)") for c in ax.child_axes)
    _png(ax.figure)


def test_kk_residuals_plot_shows_threshold_and_verdict(full_kk):
    ax = plot.kk_residuals(full_kk)
    thr = 100 * full_kk.threshold
    hlines = [ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == "--"]
    assert sorted(hlines) == pytest.approx([-thr, thr])
    verdict = "passed" if full_kk.passed else "FAILED"
    assert any(f"lin-KK {verdict}" in t for t in _texts(ax))


# --------------------------------------------------------------------------- figures
def test_figures_render_and_keep_single_column_width(cold, full, full_drt, full_kk):
    fig = plot.fit_figure(cold)
    assert fig.get_size_inches()[0] == pytest.approx(plot.SINGLE_COLUMN_IN)
    assert len(_png(fig)) > 5000
    page = plot.spectrum_figure(full, full_drt, full_kk)
    assert len([a for a in page.axes if a.get_label() != "<colorbar>"]) >= 5
    _png(page)
    assert isinstance(plot.arrhenius_figure({"x": arrhenius_fit(
        [300.0, 350.0, 400.0], [1e-4, 1e-3, 5e-3])}), Figure)


def test_every_axes_label_names_a_unit(cold, full, series, full_drt, full_kk):
    axes = [plot.nyquist(cold), plot.bode(full), plot.residuals(cold), plot.arrhenius(series),
            plot.drt(full_drt), plot.kk_residuals(full_kk)]
    for ax in axes:
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert " / " in label, label


def test_backend_untouched():
    before = matplotlib.get_backend()
    plot.nyquist(blocking_cell(np.random.default_rng(1)).spectrum)
    assert matplotlib.get_backend() == before
