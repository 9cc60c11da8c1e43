"""Plots with matplotlib: Nyquist (equal axes, −Z'' up), Bode and residuals.

Every function takes ``ax=None`` (a new figure when None) and returns the Axes; none calls
``plt.show()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _axes(ax: Any = None, figsize: tuple[float, float] = (4.0, 3.4)) -> Any:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _scale(values: np.ndarray) -> tuple[float, str]:
    m = float(np.nanmax(np.abs(values))) if values.size else 1.0
    for factor, unit in ((1e6, "MΩ"), (1e3, "kΩ")):
        if m >= factor:
            return factor, unit
    return 1.0, "Ω"


def nyquist(data: Any, fit: Any = None, ax: Any = None, label_arcs: bool = True) -> Any:
    """Nyquist plot: data as markers, the fit as a line, arcs' apexes labelled by role.

    Parameters
    ----------
    data
        A :class:`~eisfit.spectrum.Spectrum` or a :class:`~eisfit.result.FitResult`.
    fit
        A FitResult whose curve to draw (taken from ``data`` when that is a FitResult).
    ax
        Matplotlib Axes to draw on.
    label_arcs
        Mark and name each arc's apex.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .result import FitResult

    if isinstance(data, FitResult):
        fit, spectrum = data, data.original or data.spectrum
    else:
        spectrum = data
    ax = _axes(ax)
    z = spectrum.z
    factor, unit = _scale(np.concatenate([z.real, z.imag]))
    ax.plot(z.real / factor, -z.imag / factor, "o", ms=3.5, mfc="none", label="data")
    if fit is not None:
        lo, hi = spectrum.frequency_range
        f = np.logspace(np.log10(hi), np.log10(lo), 400)
        zf = fit.impedance(f)
        ax.plot(zf.real / factor, -zf.imag / factor, "-", lw=1.4, label="fit")
        if label_arcs:
            for arc in fit.arcs:
                fa = fit.apex_hz[arc.role]
                if lo <= fa <= hi:
                    za = fit.impedance([fa])[0]
                    ax.plot(za.real / factor, -za.imag / factor, "k+", ms=8)
                    ax.annotate(
                        f"{arc.role}\n{fa:.3g} Hz",
                        (za.real / factor, -za.imag / factor),
                        textcoords="offset points",
                        xytext=(0, 8),
                        ha="center",
                        fontsize=7,
                    )
    ax.set_xlabel(f"Z' / {unit}")
    ax.set_ylabel(f"−Z'' / {unit}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8, frameon=False)
    if spectrum.source:
        ax.set_title(str(spectrum.source).rsplit("/", 1)[-1], fontsize=8)
    return ax


def bode(data: Any, fit: Any = None, ax: Any = None) -> Any:
    """Bode plot: |Z| (left axis, log) and phase (right axis) against frequency."""
    from .result import FitResult

    if isinstance(data, FitResult):
        fit, spectrum = data, data.original or data.spectrum
    else:
        spectrum = data
    ax = _axes(ax)
    f, z = spectrum.frequency, spectrum.z
    ax.loglog(f, np.abs(z), "o", ms=3, mfc="none", label="|Z|")
    ax2 = ax.twinx()
    ax2.semilogx(f, -np.degrees(np.angle(z)), "s", ms=3, mfc="none", color="C1", label="phase")
    if fit is not None:
        ff = np.logspace(np.log10(f.max()), np.log10(f.min()), 300)
        zf = fit.impedance(ff)
        ax.loglog(ff, np.abs(zf), "-", color="C0")
        ax2.semilogx(ff, -np.degrees(np.angle(zf)), "-", color="C1")
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("|Z| / Ω")
    ax2.set_ylabel("−phase / °")
    return ax


def residuals(fit: Any, ax: Any = None, noise: float | None = None) -> Any:
    """Relative residuals (real and imaginary, % of |Z|) against frequency, with a ±noise band."""
    ax = _axes(ax, figsize=(4.0, 2.2))
    f = fit.spectrum.frequency
    r = fit.residuals() * 100
    ax.semilogx(f, r.real, "o-", ms=3, lw=0.8, label="Z'")
    ax.semilogx(f, r.imag, "s-", ms=3, lw=0.8, label="Z''")
    band = noise * 100 if noise is not None else float(np.sqrt(fit.chi_square)) * 100
    ax.axhspan(-band, band, color="0.85", zorder=0)
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("residual / %")
    ax.legend(fontsize=8, frameon=False)
    return ax


def fit_figure(fit: Any) -> Any:
    """A two-panel figure: Nyquist with the fit above, relative residuals below."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 5.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 1.2])
    nyquist(fit, ax=top)
    residuals(fit, ax=bottom)
    return fig
