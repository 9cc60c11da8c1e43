"""Plots for papers, with matplotlib: Nyquist, Bode, residuals, Arrhenius, DRT and lin-KK.

Every plotting function takes ``ax=None`` (a new single-column figure when None) and returns
the Axes it drew on; none calls ``plt.show()`` or touches pyplot's global state, so they work
in scripts, notebooks and worker processes alike. Axes carry quantities with units
(``Z' / kΩ``, ``f / Hz``, ``1000 / T / K⁻¹``) and text is sized for a figure printed
3.5 in (one journal column) wide.

>>> import eisfit
>>> from eisfit.show import plot
>>> s = eisfit.read("data/latp_pellet/LATP_0C.csv")          # doctest: +SKIP
>>> r = eisfit.fit(s, "blocking")                              # doctest: +SKIP
>>> ax = plot.nyquist(r, decades=True)                         # doctest: +SKIP
>>> ax.figure.savefig("nyquist.png", dpi=300)                  # doctest: +SKIP

``fit_figure`` (Nyquist over residuals) and ``spectrum_figure`` (Nyquist, Bode, residuals
and DRT) return whole Figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from eisfit.units import ZERO_CELSIUS_K

__all__ = [
    "SINGLE_COLUMN_IN",
    "nyquist",
    "bode",
    "residuals",
    "arrhenius",
    "drt",
    "kk_residuals",
    "fit_figure",
    "spectrum_figure",
    "arrhenius_figure",
    "pretty_role",
]

#: Width of one journal column in inches (85 mm); default figures are this wide.
SINGLE_COLUMN_IN = 3.5
#: Resolution of the PNGs that ``eisfit batch`` and ``eisfit demo`` write (700 px a column).
PNG_DPI = 200
#: Font sizes (pt): axis labels, tick labels and legends, annotations.
LABEL_PT, TICK_PT, NOTE_PT = 8.0, 7.0, 6.5
#: Arrhenius plot forms: the regression form of :func:`eisfit.arrhenius` each one shows.
PLOT_FORMS = {
    "ln(sigma*T)": ("ln(sigma*T)", "ln"),
    "ln(sigma)": ("ln(sigma)", "ln"),
    "log(sigma*T)": ("ln(sigma*T)", "log10"),
    "log(sigma)": ("ln(sigma)", "log10"),
}


# --------------------------------------------------------------------------- helpers
def _axes(ax: Any = None, figsize: tuple[float, float] = (SINGLE_COLUMN_IN, 3.0)) -> Any:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _style(ax: Any) -> None:
    """Tick and label sizes for a single-column figure (applied to Axes we draw on)."""
    ax.tick_params(labelsize=TICK_PT, direction="in", top=False, right=False, length=3)
    ax.tick_params(which="minor", direction="in", length=1.6)
    if ax.get_xscale() == "log":
        lo, hi = sorted(ax.get_xlim())
        if lo > 0 and hi / lo > 1e4:  # minor ticks at 2 and 5: fewer ticks to lay out
            from matplotlib.ticker import LogLocator

            ax.xaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0), numticks=40))
    ax.xaxis.label.set_size(LABEL_PT)
    ax.yaxis.label.set_size(LABEL_PT)


def _legend(ax: Any, **kw: Any) -> Any:
    kw.setdefault("fontsize", TICK_PT)
    kw.setdefault("frameon", False)
    kw.setdefault("handlelength", 1.6)
    return ax.legend(**kw)


def _scale(values: np.ndarray) -> tuple[float, str]:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    m = float(np.max(np.abs(v))) if v.size else 1.0
    for factor, unit in ((1e6, "MΩ"), (1e3, "kΩ")):
        if m >= factor:
            return factor, unit
    return 1.0, "Ω"


def pretty_role(role: str) -> str:
    """``grain_boundary`` -> ``grain boundary`` (labels on plots and in reports)."""
    return str(role).replace("_", " ")


def hz_label(f: float) -> str:
    """A frequency for a label: ``1 Hz``, ``10 kHz``, ``143 kHz``, ``2 MHz``, ``0.1 Hz``."""
    for factor, unit in ((1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz")):
        if f >= factor:
            return f"{f / factor:.3g} {unit}"
    if f >= 1e-3:
        return f"{f:.3g} Hz"
    return f"{f * 1e3:.3g} mHz"


def _split(data: Any, fit: Any) -> tuple[Any, Any]:
    """(spectrum, fit) from a Spectrum or FitResult and an optional FitResult."""
    from eisfit.fitting.result import FitResult

    if isinstance(data, FitResult):
        return data.original or data.spectrum, data if fit is None else fit
    return data, fit


def _title(spectrum: Any) -> str:
    parts = []
    if spectrum.source:
        parts.append(str(spectrum.source).replace("\\", "/").rsplit("/", 1)[-1])
    from eisfit.labels import spectrum_label

    which = spectrum_label(getattr(spectrum, "meta", {}) or {})  # one of several in the file
    if which is not None:  # a long title wraps between the parts, not inside one
        parts.extend(p.replace(" ", "\u00a0") for p in which.split(", "))
    t = spectrum.temperature
    if t is not None:
        parts.append(f"{t - ZERO_CELSIUS_K:.4g} °C")
    return ", ".join(parts)


def _spike_view(spectrum: Any) -> tuple[float, float] | None:
    """(largest Z' to show in Ohm, frequency where the spike starts in Hz) when a blocking
    spike or a tail dwarfs the arcs, else None."""
    from eisfit.analysis.drt import spike_start

    f, z = spectrum.frequency, spectrum.z
    try:
        fs = spike_start(f, z)
    except Exception:  # a plot must not fail on odd data
        return None
    if fs is None:
        return None
    arcs = f >= fs
    if arcs.sum() < 3:
        return None
    x_arcs = float(np.max(z.real[arcs]))
    y_arcs = float(np.max(-z.imag[arcs]))
    extent = max(x_arcs, y_arcs, 1e-12)
    full = max(float(np.max(z.real)), float(np.max(-z.imag)))
    if full < 2.5 * extent:
        return None
    return 1.25 * x_arcs, float(fs)


def _equal_limits(
    ax: Any, x: np.ndarray, y: np.ndarray, min_ratio: float = 0.42, max_ratio: float = 0.95
) -> None:
    """Limits from 0 (or below) to the data with equal scales; aspect kept between bounds.

    The y span is at least ``min_ratio`` and at most ``max_ratio`` of the x span: the smaller
    span is extended (to the right, or upwards) rather than squeezing the plot into a strip.
    """
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    x0 = min(0.0, float(x.min()) if x.size else 0.0)  # Nyquist plots start at the origin
    x1 = float(x.max()) if x.size else 1.0
    y0 = min(0.0, float(y.min()) if y.size else 0.0)
    y1 = float(y.max()) if y.size else 1.0
    pad = 0.05 * max(x1 - x0, y1 - y0, 1e-12)
    x1 += pad
    y1 += 2.5 * pad  # room for the apex labels above the arcs
    if x0 < 0:
        x0 -= pad
    if y0 < 0:
        y0 -= pad
    dx, dy = x1 - x0, y1 - y0
    if dy < min_ratio * dx:
        y1 = y0 + min_ratio * dx
    elif dy > max_ratio * dx:
        x1 = x0 + dy / max_ratio
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")


# --------------------------------------------------------------------------- Nyquist
def nyquist(
    data: Any,
    fit: Any = None,
    ax: Any = None,
    label_arcs: bool = True,
    *,
    decades: bool = False,
    zoom: Any = "auto",
    title: str | None = None,
    label: str = "data",
) -> Any:
    """Nyquist plot: −Z'' up, equal scales, data as markers, the fit as a line.

    Parameters
    ----------
    data
        A :class:`~eisfit.io.spectrum.Spectrum` or a :class:`~eisfit.fitting.result.FitResult` (its
        spectrum and curve).
    fit
        A FitResult whose curve to draw (taken from ``data`` when that is a FitResult).
    ax
        Matplotlib Axes to draw on; a new single-column figure when None.
    label_arcs
        Mark each fitted arc's apex (+) with its role and apex frequency, and a resistance
        taken from the high-frequency intercept (bulk above the window) with a tick on the
        real axis.
    decades
        Mark the points at 1 Hz, 10 Hz, 100 Hz... (on the fit when there is one, else the
        nearest data point within a tenth of a decade) with a dot and their frequency.
    zoom
        ``"auto"`` (default): when a blocking-electrode spike runs far above the arcs, show the
        arcs (Z' up to 1.25 times their extent) and say where the spike goes; ``"all"``: every
        point; a number: the largest Z' shown, in Ohm.
    title
        Title; default the file name and temperature (None), ``""`` for none.
    label
        Legend label of the data.

    Returns
    -------
    matplotlib.axes.Axes
    """
    spectrum, fit = _split(data, fit)
    ax = _axes(ax)
    z = spectrum.z
    f = spectrum.frequency
    lo, hi = spectrum.frequency_range
    zf = ff = None
    if fit is not None:
        ff = np.logspace(np.log10(hi), np.log10(lo), 500)
        zf = fit.impedance(ff)

    f_spike = 0.0  # the arcs lie above it when the view leaves the spike out
    if zoom == "all" or zoom is None:
        xmax = None
    elif zoom == "auto":
        view = _spike_view(spectrum)
        xmax, f_spike = view if view is not None else (None, 0.0)
    else:
        xmax = float(zoom)
        if not xmax > 0:
            raise ValueError(f"zoom must be 'auto', 'all' or a positive Z' in Ohm, got {zoom!r}")

    if xmax is None:
        visible = np.ones(z.size, bool)
    else:
        # the points that set the view: Z' up to xmax and −Z'' up to the same span
        visible = (z.real <= xmax) & (-z.imag <= xmax)
        if visible.sum() < 3:
            visible = np.ones(z.size, bool)
            xmax = None
    vx, vy = z.real[visible], -z.imag[visible]
    if zf is not None and xmax is None:
        vx = np.concatenate([vx, zf.real])
        vy = np.concatenate([vy, -zf.imag])
    elif zoom == "auto" and xmax is not None:
        # the spike leaves through the top: the view is set by the arcs below it
        arcs = f >= f_spike
        vx = np.append(z.real[arcs], xmax)
        vy = -z.imag[arcs]
    elif xmax is not None:
        # Z' up to xmax, and −Z'' no higher than an equal-scale box allows
        vx = np.append(vx[vx <= xmax], xmax / 1.05)
        vy = np.minimum(vy, 0.8 * xmax)
    factor, unit = _scale(np.concatenate([vx, vy]))

    ax.plot(z.real / factor, -z.imag / factor, "o", ms=3.2, mfc="none", mew=0.8, color="C0",
            label=label)
    if zf is not None:
        ax.plot(zf.real / factor, -zf.imag / factor, "-", lw=1.2, color="C1", label="fit")
    ax.set_xlabel(f"Z' / {unit}")
    ax.set_ylabel(f"−Z'' / {unit}")
    _equal_limits(ax, vx / factor, vy / factor)

    from eisfit.show.plot_labels import placer

    labels = placer(ax)  # labels are placed clear of markers and each other when drawn
    if label_arcs and fit is not None:
        _arc_marks(ax, fit, lo, hi, factor)
    if decades:
        _decade_marks(ax, spectrum, fit, factor)
    if xmax is not None:
        hidden = -z.imag > ax.get_ylim()[1] * factor
        if hidden.any():
            top = float(np.max(-z.imag[hidden]))
            tf, tu = _scale(np.array([top]))
            note = ax.annotate(
                f"spike continues to\n−Z'' = {top / tf:.3g} {tu} at {hz_label(lo)}",
                xy=(0.98, 0.97), xycoords="axes fraction", textcoords="axes fraction",
                ha="right", va="top",
                fontsize=NOTE_PT, color="0.35", zorder=6,
                bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            )
            labels.add_corner(note)
    _style(ax)
    labels.set_legend(_legend(ax, loc="upper left"))
    text = _title(spectrum) if title is None else title
    if text:
        ax.set_title(wrap_title(text, ax), fontsize=LABEL_PT)
    return ax


def _fraction(ax: Any, x: float, y: float) -> tuple[float, float]:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)


def wrap_title(text: str, ax: Any, fontsize: float = LABEL_PT) -> str:
    """``text`` broken into lines no wider than ``ax`` (file names break after ``_``, ``-``,
    ``.`` or a space), so that a long title wraps instead of running off the figure.

    Parameters
    ----------
    text
        The title.
    ax
        The Axes it stands over (its width in inches sets the line length).
    fontsize
        Font size in points.

    Returns
    -------
    str
        The title with newlines; at most three lines, the middle of a longer one elided.
    """
    import re

    fig = ax.figure
    width_in = ax.get_position().width * fig.get_figwidth()
    per_line = max(12, int(width_in * 72.0 / (0.6 * fontsize)))  # DejaVu Sans ~0.6 em a glyph
    lines: list[str] = []
    for para in str(text).split("\n"):
        chunks = [c for c in re.split(r"(?<=[_. ,/])|(?<=-)(?![\d.])", para) if c]
        line = ""
        for chunk in chunks:
            while len(chunk) > per_line:  # a word longer than a line: cut it
                if line:
                    lines.append(line.rstrip())
                    line = ""
                lines.append(chunk[:per_line])
                chunk = chunk[per_line:]
            if line and len(line) + len(chunk.rstrip()) > per_line:
                lines.append(line.rstrip())
                line = ""
            line += chunk
        lines.append(line.rstrip())
    if len(lines) > 3:
        lines = [lines[0], "…", lines[-1]]
    return "\n".join(lines)


def _decade_marks(ax: Any, spectrum: Any, fit: Any, factor: float) -> None:
    from eisfit.show.plot_labels import placer

    lo, hi = spectrum.frequency_range
    f = spectrum.frequency
    xs, ys, names = [], [], []
    for k in range(math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9) + 1):
        fk = 10.0**k
        if fit is not None:
            zk = complex(fit.impedance([fk])[0])
        else:
            i = int(np.argmin(np.abs(np.log10(f) - k)))
            if abs(math.log10(f[i]) - k) > 0.1:
                continue
            zk = complex(spectrum.z[i])
        x, y = zk.real / factor, -zk.imag / factor
        fx, fy = _fraction(ax, x, y)
        if not (0 <= fx <= 1 and 0 <= fy <= 1):
            continue
        xs.append(x)
        ys.append(y)
        names.append(hz_label(fk))
    if not xs:
        return
    ax.plot(xs, ys, "o", ms=2.6, color="0.15", zorder=4)
    labels = placer(ax)
    for x, y, name in zip(xs, ys, names, strict=True):
        ann = ax.annotate(name, (x, y), textcoords="offset points", xytext=(0, 0),
                          fontsize=NOTE_PT - 0.5, color="0.25")
        labels.add(ann, (x, y), prefer="right", optional=True, max_radius_pt=22.0)


def _arc_marks(ax: Any, fit: Any, lo: float, hi: float, factor: float) -> None:
    from eisfit.show.plot_labels import placer

    labels = placer(ax)
    for arc in fit.arcs:
        fa = fit.apex_hz[arc.role]
        if not lo <= fa <= hi:
            continue
        za = complex(fit.impedance([fa])[0])
        x, y = za.real / factor, -za.imag / factor
        fx, fy = _fraction(ax, x, y)
        if not (0 <= fx <= 1 and 0 <= fy <= 1):
            continue
        ax.plot(x, y, "+", color="k", ms=7, mew=1.0, zorder=5)
        ann = ax.annotate(f"{pretty_role(arc.role)}\n{hz_label(fa)}", (x, y), xycoords="data",
                          textcoords="offset points", xytext=(0, 0), fontsize=NOTE_PT)
        labels.add(ann, (x, y), prefer="up")
    role = _intercept_role(fit)
    if role is not None:
        x = (fit.resistances[role] + fit.resistances.get("series", 0.0)
             + (0.0 if "series" in fit.resistances else fit.external_resistance)) / factor
        fx, fy = _fraction(ax, x, 0.0)
        if 0 <= fx <= 1:
            ax.plot(x, 0, "|", color="k", ms=9, mew=1.2, zorder=5)
            ann = ax.annotate(f"{pretty_role(role)}\n(intercept)", (x, 0),
                              textcoords="offset points", xytext=(0, 0), fontsize=NOTE_PT)
            labels.add(ann, (x, 0.0), prefer="up")


def _intercept_role(fit: Any) -> str | None:
    """The role whose resistance the fit took from the high-frequency intercept, or None."""
    named = getattr(fit, "named", None)
    if named is None:
        return None
    arcs = {a.role for a in fit.arcs}
    role = named.hidden_role
    if role and role in fit.resistances and role not in arcs:
        return role
    if "intercept" in named.roles.values() and "total" in fit.resistances and not arcs:
        return "total"
    return None


def _log_labels(axis: Any, lo: float, hi: float) -> None:
    """Plain numbers (30, 100, 300) on a log axis spanning under 2.5 decades."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if hi / lo >= 10**2.5 or hi >= 1e4:
        if hi / lo >= 10:
            axis.set_minor_formatter(NullFormatter())
        return
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _pm(value: float, err: float, unit: str = "eV") -> str:
    """``0.2997 ± 0.0005 eV``: :func:`eisfit.format.value_error`, the rule of every report."""
    from eisfit.format import value_error

    return value_error(value, err, unit)


# --------------------------------------------------------------------------- Bode
def bode(data: Any, fit: Any = None, ax: Any = None, *, phase: bool = True) -> Any:
    """Bode plot: |Z| (left axis, log) and −phase (right axis) against frequency.

    Parameters
    ----------
    data
        A Spectrum or a FitResult.
    fit
        A FitResult whose curve to draw (taken from ``data`` when that is a FitResult).
    ax
        Axes for |Z|; the phase goes on a twin axis sharing its frequency axis.
    phase
        Draw the phase (right axis).

    Returns
    -------
    matplotlib.axes.Axes
        The |Z| axes (the phase axes is ``ax.figure.axes`` after it).
    """
    spectrum, fit = _split(data, fit)
    ax = _axes(ax, figsize=(SINGLE_COLUMN_IN, 2.6))
    f, z = spectrum.frequency, spectrum.z
    c_mod, c_ph = "C0", "C3"
    h1 = ax.loglog(f, np.abs(z), "o", ms=3, mfc="none", mew=0.8, color=c_mod, label="|Z|")
    handles = list(h1)
    ff = zf = None
    if fit is not None:
        ff = np.logspace(np.log10(f.max()), np.log10(f.min()), 400)
        zf = fit.impedance(ff)
        handles += ax.loglog(ff, np.abs(zf), "-", lw=1.1, color=c_mod, label="fit")
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("|Z| / Ω", color=c_mod)
    mod = np.abs(z) if zf is None else np.concatenate([np.abs(z), np.abs(zf)])
    _log_labels(ax.yaxis, float(mod.min()), float(mod.max()))
    _style(ax)
    if phase:
        ax2 = ax.twinx()
        handles += ax2.semilogx(f, -np.degrees(np.angle(z)), "s", ms=2.6, mfc="none", mew=0.8,
                                color=c_ph, label="−phase")
        if zf is not None:
            ax2.semilogx(ff, -np.degrees(np.angle(zf)), "-", lw=1.1, color=c_ph)
        ax2.set_ylabel("−phase / °", color=c_ph)
        ax2.set_ylim(min(0.0, float(np.min(-np.degrees(np.angle(z))))) - 2, 95)
        ax2.tick_params(labelsize=TICK_PT, direction="in", length=3)
        ax2.yaxis.label.set_size(LABEL_PT)
    _legend(ax, handles=handles, loc="upper right")
    return ax


# --------------------------------------------------------------------------- residuals
def residuals(fit: Any, ax: Any = None, noise: float | None = None) -> Any:
    """Relative residuals (real and imaginary, % of |Z|) against frequency, with a ±noise band.

    Parameters
    ----------
    fit
        A FitResult.
    ax
        Axes to draw on.
    noise
        Noise level as a fraction of |Z| for the grey band; default the fit's own scatter,
        √(reduced χ²).
    """
    ax = _axes(ax, figsize=(SINGLE_COLUMN_IN, 1.8))
    f = fit.spectrum.frequency
    r = fit.residuals() * 100
    ax.semilogx(f, r.real, "o-", ms=2.6, lw=0.6, mfc="none", mew=0.7, label="Z'")
    ax.semilogx(f, r.imag, "s-", ms=2.6, lw=0.6, mfc="none", mew=0.7, label="Z''")
    band = noise * 100 if noise is not None else float(np.sqrt(fit.chi_square)) * 100
    if math.isfinite(band):
        ax.axhspan(-band, band, color="0.88", zorder=0, lw=0,
                   label=f"±{band:.2g} %" + (" noise" if noise is not None else " (√χ²)"))
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("(Z − Z$_{fit}$)/|Z| / %")
    _style(ax)
    _legend(ax, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.02), borderaxespad=0.1)
    lim = float(np.nanmax(np.abs(np.concatenate([r.real, r.imag])))) if r.size else 1.0
    if math.isfinite(band):
        lim = max(lim, band)
    lim = lim if lim > 0 else 1.0
    ax.set_ylim(-1.35 * lim, 1.75 * lim)
    return ax


def kk_residuals(kk_result: Any, ax: Any = None, *, trend: bool = True) -> Any:
    """Lin-KK residuals (real and imaginary, % of |Z|) against frequency.

    Parameters
    ----------
    kk_result
        A :class:`~eisfit.analysis.kk.KKResult` from :func:`eisfit.kramers_kronig`.
    ax
        Axes to draw on.
    trend
        Draw the running means (the systematic part the drift test looks at).

    Returns
    -------
    matplotlib.axes.Axes
        Dashed lines at ± the pass threshold; the verdict, M and μ in the corner.
    """
    ax = _axes(ax, figsize=(SINGLE_COLUMN_IN, 1.9))
    k = kk_result
    f = np.asarray(k.frequency, float)
    order = np.argsort(f)
    rr = np.asarray(k.residuals_real, float)[order] * 100
    ri = np.asarray(k.residuals_imag, float)[order] * 100
    fs = f[order]
    ax.semilogx(fs, rr, "o", ms=2.6, mfc="none", mew=0.7, label="Z'")
    ax.semilogx(fs, ri, "s", ms=2.6, mfc="none", mew=0.7, label="Z''")
    thr = 100 * float(k.threshold)
    ax.axhline(thr, color="0.4", lw=0.7, ls="--")
    ax.axhline(-thr, color="0.4", lw=0.7, ls="--", label=f"±{thr:.2g} % threshold")
    ax.axhline(0, color="0.3", lw=0.5)
    if trend:
        w = max(1, min(int(k.trend_window), fs.size))
        if fs.size >= w > 1:
            fm = np.exp(np.convolve(np.log(fs), np.ones(w) / w, mode="valid"))
            ax.semilogx(fm, 100 * np.asarray(k.trend_real), "-", lw=1.0, color="C0")
            ax.semilogx(fm, 100 * np.asarray(k.trend_imag), "-", lw=1.0, color="C1")
    verdict = "passed" if k.passed else "FAILED"
    ax.text(0.01, 0.03, f"lin-KK {verdict}, M = {k.n_elements}, μ = {k.mu:.2f}",
            transform=ax.transAxes, fontsize=NOTE_PT, color="0.2" if k.passed else "C3")
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("KK residual / %")
    lim = max(float(np.max(np.abs(np.concatenate([rr, ri])))), thr)
    ax.set_ylim(-1.4 * lim, 1.8 * lim)
    _style(ax)
    _legend(ax, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.02), borderaxespad=0.1)
    return ax


# --------------------------------------------------------------------------- DRT
def drt(drt_result: Any, ax: Any = None, *, peaks: bool = True) -> Any:
    """Distribution of relaxation times: γ (Ω) against τ (s), with the frequency on top.

    Parameters
    ----------
    drt_result
        A :class:`~eisfit.analysis.drt.DRTResult` from :func:`eisfit.drt`.
    ax
        Axes to draw on.
    peaks
        Mark each peak with its resistance and apex frequency.

    Returns
    -------
    matplotlib.axes.Axes
        τ outside the measured range (1/(2π f_max) to 1/(2π f_min)) is shaded grey.
    """
    d = drt_result
    ax = _axes(ax, figsize=(SINGLE_COLUMN_IN, 2.3))
    tau = np.asarray(d.tau, float)
    gamma = np.asarray(d.gamma, float)
    factor, unit = _scale(gamma)
    ax.semilogx(tau, gamma / factor, "-", lw=1.2, color="C2", label="γ(τ)")
    ax.fill_between(tau, 0, gamma / factor, color="C2", alpha=0.15, lw=0)
    f = np.asarray(d.frequency, float)
    if f.size:
        t_lo, t_hi = 1 / (2 * np.pi * f.max()), 1 / (2 * np.pi * f.min())
        if tau.min() < t_lo:
            ax.axvspan(tau.min(), t_lo, color="0.92", lw=0, zorder=0)
        if tau.max() > t_hi:
            ax.axvspan(t_hi, tau.max(), color="0.92", lw=0, zorder=0)
    if peaks:
        r_unit_factor, r_unit = _scale(np.array([p.resistance for p in d.peaks] or [1.0]))
        last_tau, lift = None, 0
        span = math.log10(tau.max() / tau.min()) if tau.size else 1.0
        for p in d.peaks:
            where = math.log10(p.tau / tau.min()) / span if span > 0 else 0.5
            ha = "left" if where < 0.08 else "right" if where > 0.92 else "center"
            # neighbours less than a decade apart: alternate the label heights
            close = last_tau is not None and abs(math.log10(p.tau / last_tau)) < 1.2
            lift = (lift + 1) % 2 if close else 0
            last_tau = p.tau
            ax.annotate(
                f"{p.resistance / r_unit_factor:.3g} {r_unit}\n{hz_label(p.frequency)}",
                (p.tau, p.height / factor), textcoords="offset points",
                xytext=(0, 3 + 17 * lift), ha=ha, va="bottom", fontsize=NOTE_PT,
                annotation_clip=True,
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"} if lift else None,
            )
    ax.set_xlim(tau.min(), tau.max())
    top = float(gamma.max() / factor) if gamma.size and gamma.max() > 0 else 1.0
    ax.set_ylim(0, 1.6 * top)
    ax.set_xlabel("τ / s")
    ax.set_ylabel(f"γ / {unit}")
    sec = ax.secondary_xaxis("top", functions=(_tau_to_f, _tau_to_f))
    sec.set_xlabel("f = 1/(2πτ) / Hz", fontsize=LABEL_PT)
    sec.tick_params(labelsize=TICK_PT, direction="in", length=3)
    _style(ax)
    return ax


def _tau_to_f(x: Any) -> Any:
    x = np.asarray(x, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, 1.0 / (2 * np.pi * np.where(x > 0, x, 1.0)), np.inf)


# --------------------------------------------------------------------------- Arrhenius
def _arrhenius_inputs(
    source: Any, roles: Any, fit_form: str | None
) -> tuple[dict[str, Any], str | None, Any]:
    """(role -> ArrheniusResult, regression form, joint result or None)."""
    from eisfit.analysis.activation import ArrheniusResult

    if isinstance(source, ArrheniusResult):
        fits: dict[str, Any] = {"": source}
        joint = None
    elif isinstance(source, Mapping):
        fits = dict(source)
        joint = None
    elif hasattr(source, "arrhenius_all"):
        form = fit_form or "ln(sigma*T)"
        if roles is None:
            fits = source.arrhenius_all(form)
        else:
            fits = {}
            for role in [roles] if isinstance(roles, str) else list(roles):
                fits[role] = source.arrhenius(role, form)
        joint = getattr(source, "joint", None)
        if joint is not None and getattr(joint, "form", None) != form:
            joint = None
        return fits, form, joint
    else:
        try:
            items = list(source)
        except TypeError:
            raise TypeError(
                "plot.arrhenius takes a Series, an ArrheniusResult, a dict of them by role, or "
                f"a list of them; got {type(source).__name__}"
            ) from None
        fits = {f"fit {i + 1}": a for i, a in enumerate(items)}
        joint = None
    if roles is not None:
        wanted = [roles] if isinstance(roles, str) else list(roles)
        missing = [r for r in wanted if r not in fits]
        if missing:
            raise KeyError(f"no Arrhenius result for {', '.join(missing)}; have {list(fits)}")
        fits = {r: fits[r] for r in wanted}
    forms = {a.form for a in fits.values()}
    if len(forms) > 1:
        raise ValueError(f"the Arrhenius results have different forms ({sorted(forms)})")
    form = forms.pop() if forms else fit_form
    if fit_form is not None and form is not None and form != fit_form:
        raise ValueError(
            f"the Arrhenius results were fitted as {form}; they cannot be drawn as {fit_form} "
            f"(refit with form={fit_form!r})"
        )
    return fits, form, joint


def arrhenius(
    series_or_results: Any,
    roles: Any = None,
    form: str | None = None,
    ax: Any = None,
    *,
    celsius: bool = True,
    joint: bool = True,
) -> Any:
    """Arrhenius plot: ln(σT) (or ln σ, log σ) against 1000/T, with °C on the top axis.

    Parameters
    ----------
    series_or_results
        A :class:`~eisfit.series.temperature.Series` (every thermally activated role, fitted here),
        an
        :class:`~eisfit.analysis.activation.ArrheniusResult`, a dict role -> ArrheniusResult, or a
        list.
    roles
        A role or a list of roles to draw (default: all).
    form
        ``"ln(sigma*T)"`` (the default for a Series), ``"ln(sigma)"``, ``"log(sigma*T)"`` or
        ``"log(sigma)"`` (log₁₀, from the ln-form regression; Ea is the same). For results
        given directly the default is the form they were fitted in, and a different one is an
        error.
    ax
        Axes to draw on.
    celsius
        Add a secondary x axis on top in °C.
    joint
        With a Series that holds a joint fit (:meth:`~eisfit.series.temperature.Series.fit_joint`)
        of the
        same form, draw its lines dashed in each role's colour.

    Returns
    -------
    matplotlib.axes.Axes
        One set of points (with error bars where the values have standard errors) and its
        fitted line per role; the legend gives Ea ± standard error in eV. Conductivity is in
        S/cm (conductance in S without geometry); interface roles (``quantity="resistance"``)
        show ln(T/ASR) or ln(1/ASR) so that every line falls with 1000/T.
    """
    if form is not None and form not in PLOT_FORMS:
        raise ValueError(f"form must be one of {list(PLOT_FORMS)}, got {form!r}")
    fit_form, base = PLOT_FORMS[form] if form is not None else (None, "ln")
    fits, fit_form, joint_result = _arrhenius_inputs(series_or_results, roles, fit_form)
    return _draw_arrhenius(fits, fit_form, base, joint_result if joint else None, ax,
                           celsius=celsius)


def _draw_arrhenius(
    fits: Mapping[str, Any], fit_form: str | None, base: str, joint_result: Any, ax: Any,
    *, celsius: bool = True,
) -> Any:
    """Draw :func:`arrhenius` from resolved inputs: role -> ArrheniusResult, the regression
    form, ``"ln"`` or ``"log10"``, and a joint result whose lines to add dashed (or None)."""
    scale = 1.0 / math.log(10) if base == "log10" else 1.0
    own = ax is None  # a figure of our own: the legend goes below the plot, clear of the data
    ax = _axes(ax, figsize=(SINGLE_COLUMN_IN, 3.6)) if own else ax
    quantities = set()
    t_all: list[float] = []
    y_used: list[float] = []  # the view is set by the points the regressions used
    left_out: list[tuple[float, float, str, str]] = []  # x, y, colour, label
    for i, (role, a) in enumerate(fits.items()):
        color = f"C{i % 10}"
        t = np.asarray(a.temperature_K, float)
        v = np.asarray(a.values, float)
        if t.size == 0:  # every point left out by the physics checks of the series
            continue
        sign = -1.0 if a.quantity == "resistance" else 1.0
        y = sign * np.log(v)
        if fit_form == "ln(sigma*T)":
            y = y + np.log(t)
        x = 1000.0 / t
        tt = np.linspace(t.min(), t.max(), 60)
        yy = a.ln_prefactor + a.slope_K / tt
        name = pretty_role(role) if role else ""
        if a.quantity == "resistance":
            name = f"{name} (1/ASR)" if name else "1/R"
        ea = (f"Ea = {_pm(a.Ea_eV, a.Ea_stderr_eV)}" if getattr(a, "reason", None) is None
              else "Ea not determined")
        lab = f"{name + ': ' if name else ''}{ea}"
        ax.plot(1000.0 / tt, yy * scale, "-", lw=1.1, color=color, label=lab)
        se = getattr(a, "stderr", None)
        yerr = None if se is None else scale * np.asarray(se, float) / v
        ax.errorbar(x, y * scale, yerr=yerr, fmt="o", ms=3.6, mfc=color, mew=1.0,
                    color=color, elinewidth=0.8, capsize=0, zorder=3)
        quantities.add(a.quantity)
        t_all.extend(t.tolist())
        y_used.extend((y * scale).tolist() + (yy * scale).tolist())
        for e in getattr(a, "excluded", None) or ():
            te, ve = float(e.get("temperature_K", math.nan)), float(e.get("value", math.nan))
            if not (te > 0 and ve > 0 and math.isfinite(ve)):
                continue
            ye = sign * math.log(ve) + (math.log(te) if fit_form == "ln(sigma*T)" else 0.0)
            left_out.append((1000.0 / te, ye * scale, color, f"{te - ZERO_CELSIUS_K:.0f} °C"))
        jp = joint_result.processes.get(role) if joint_result is not None else None
        if jp is not None:
            yj = jp.ln_prefactor + jp.slope_K / tt
            ax.plot(1000.0 / tt, yj * scale, "--", lw=1.0, color=color,
                    label=f"{name} (joint): Ea = {_pm(jp.Ea_eV, jp.Ea_stderr_eV)}"
                    if getattr(jp, "reason", None) is None else f"{name} (joint): not determined")
    ax.set_xlabel("1000 / T / K$^{-1}$")
    ax.set_ylabel(_arrhenius_ylabel(fit_form or "ln(sigma*T)", base, quantities))
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)  # no offset text over °C
    _style(ax)
    if fits:
        from eisfit.show.plot_labels import placer

        _arrhenius_view(ax, t_all, y_used, left_out)
        # lines fall to the right, so the lower left is free (upper right when they rise)
        rising = all(a.Ea_eV < 0 for a in fits.values())
        if own:  # below the x label (a fixed distance in inches), in the layout
            from matplotlib.transforms import ScaledTranslation

            below = (1.3 * (TICK_PT + LABEL_PT) + 9.0) / 72.0
            _legend(ax, loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=0.0,
                    bbox_transform=ax.transAxes
                    + ScaledTranslation(0.0, -below, ax.figure.dpi_scale_trans))
        else:
            placer(ax).set_legend(_legend(ax, loc="upper right" if rising else "lower left"))
        if celsius:
            top = ax.secondary_xaxis("top", functions=(_inv_to_celsius, _celsius_to_inv))
            top.set_xlabel("T / °C", fontsize=LABEL_PT)
            top.tick_params(labelsize=TICK_PT, direction="in", length=3)
    else:
        ax.text(0.5, 0.5, "fewer than two temperatures", ha="center", transform=ax.transAxes,
                fontsize=LABEL_PT)
    return ax


def _arrhenius_view(
    ax: Any, t_used: list[float], y_used: list[float],
    left_out: list[tuple[float, float, str, str]],
) -> None:
    """Limits from the points the regressions used; left-out points drawn hollow and labelled
    with their temperature, inside the view when near it, else as a triangle at the edge
    pointing to where they are (``off scale``)."""
    from eisfit.show.plot_labels import placer

    ys = np.asarray([v for v in y_used if math.isfinite(v)], float)
    xs = np.asarray([1000.0 / t for t in t_used if t > 0], float)
    if xs.size == 0 or ys.size == 0:
        xs = np.asarray([p[0] for p in left_out] or [1.0])
        ys = np.asarray([p[1] for p in left_out if math.isfinite(p[1])] or [0.0])
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = float(ys.min()), float(ys.max())
    dx = max(x1 - x0, 0.05 * max(abs(x0), 1e-3))
    dy = max(y1 - y0, 0.05 * max(abs(y0), 1.0))
    near = [p for p in left_out if math.isfinite(p[1])
            and x0 - 0.5 * dx <= p[0] <= x1 + 0.5 * dx and y0 - 0.5 * dy <= p[1] <= y1 + 0.5 * dy]
    for px, py, *_ in near:  # a near point widens the view; a far one would flatten it
        x0, x1, y0, y1 = min(x0, px), max(x1, px), min(y0, py), max(y1, py)
    dx, dy = max(x1 - x0, dx), max(y1 - y0, dy)
    lim_x = (x0 - 0.08 * dx, x1 + 0.08 * dx)
    lim_y = (y0 - 0.12 * dy, y1 + 0.12 * dy)
    ax.set_xlim(*lim_x)
    ax.set_ylim(*lim_y)
    if not left_out:
        return
    ax.plot([], [], "o", ms=3.6, mfc="none", mew=1.0, color="0.35",
            label="left out (△▽ off scale)")
    labels = placer(ax)
    # markers at one place (off-scale points clipped to the same edge) share one label; a
    # temperature already labelled elsewhere (on a point in view first) is not labelled again
    def _in_view(q: tuple[float, float, str, str]) -> bool:
        return lim_x[0] <= q[0] <= lim_x[1] and lim_y[0] <= q[1] <= lim_y[1]

    pad_x, pad_y = 0.02 * (lim_x[1] - lim_x[0]), 0.03 * (lim_y[1] - lim_y[0])
    groups: dict[tuple[str, float, float], list[str]] = {}
    for q in sorted(left_out, key=lambda q: not _in_view(q)):
        px, py, color, text = q
        if _in_view(q):
            marker = "o"
        else:
            marker = "^" if py > lim_y[1] else "v" if py < lim_y[0] else (
                ">" if px > lim_x[1] else "<")
            px = min(max(px, lim_x[0] + pad_x), lim_x[1] - pad_x)
            py = min(max(py, lim_y[0] + pad_y), lim_y[1] - pad_y) if math.isfinite(py) else (
                lim_y[1] - pad_y)
        ax.plot([px], [py], marker, ms=4.2, mfc="none", mew=1.0, color=color, zorder=3,
                clip_on=False)
        key = (marker, round(px / pad_x), round(py / pad_y))
        groups.setdefault(key, []).append(text)
    done: set[str] = set()
    for (_marker, gx, gy), texts in groups.items():
        new = [t for t in dict.fromkeys(texts) if t not in done]
        if not new:
            continue
        done.update(new)
        px, py = gx * pad_x, gy * pad_y
        name = ", ".join(t.replace(" °C", "") for t in new[:-1]) + (", " if new[:-1] else "")
        ann = ax.annotate(name + new[-1], (px, py), textcoords="offset points", xytext=(0, 0),
                          fontsize=NOTE_PT - 0.5, color="0.3")
        labels.add(ann, (px, py), prefer="right")


def _arrhenius_ylabel(fit_form: str, base: str, quantities: set[str]) -> str:
    if quantities and quantities <= {"resistance"}:
        sym, unit = "(1/ASR)", "Ω$^{-1}$ cm$^{-2}$"
    elif "conductivity" in quantities:
        sym, unit = "σ", "S cm$^{-1}$"
    else:
        sym, unit = "G", "S"
    fn = "log$_{10}$" if base == "log10" else "ln"
    if fit_form == "ln(sigma*T)":
        return f"{fn}({sym}T / ({unit} K))"
    return f"{fn}({sym} / ({unit}))"


def _inv_to_celsius(x: Any) -> Any:
    x = np.asarray(x, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, 1000.0 / np.where(x > 0, x, 1.0) - ZERO_CELSIUS_K, np.inf)


def _celsius_to_inv(c: Any) -> Any:
    k = np.asarray(c, float) + ZERO_CELSIUS_K
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(k > 0, 1000.0 / np.where(k > 0, k, 1.0), np.inf)


# --------------------------------------------------------------------------- figures
def fit_figure(fit: Any, *, decades: bool = True) -> Any:
    """A two-panel figure, one column wide: Nyquist with the fit above, residuals below.

    The figure's height follows the Nyquist plot's equal-scale box, so no space is wasted.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SINGLE_COLUMN_IN, 4.6), layout="constrained")
    grid = fig.add_gridspec(2, 1)
    top = fig.add_subplot(grid[0])
    bottom = fig.add_subplot(grid[1])
    nyquist(fit, ax=top, decades=decades)
    residuals(fit, ax=bottom)
    top_h = 2.75 * _box_ratio(top) + 0.75
    grid.set_height_ratios([top_h, 1.7])
    fig.set_size_inches(SINGLE_COLUMN_IN, top_h + 1.7)
    return fig


def _box_ratio(ax: Any) -> float:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return abs(y1 - y0) / abs(x1 - x0) if x1 != x0 else 1.0


def spectrum_figure(fit: Any, drt_result: Any = None, kk_result: Any = None) -> Any:
    """One fit on a page two columns wide: Nyquist on top, Bode and residuals below, then the
    DRT and the lin-KK residuals when given.

    Parameters
    ----------
    fit
        A FitResult.
    drt_result
        A DRTResult (None: no DRT panel).
    kk_result
        A KKResult (None: no lin-KK panel).
    """
    from matplotlib.figure import Figure

    extra = drt_result is not None or kk_result is not None
    width = 2 * SINGLE_COLUMN_IN
    fig = Figure(figsize=(width, 6.0), layout="constrained")
    grid = fig.add_gridspec(3 if extra else 2, 2)
    top = fig.add_subplot(grid[0, :])
    nyquist(fit, ax=top, decades=True)
    bode(fit, ax=fig.add_subplot(grid[1, 0]))
    residuals(fit, ax=fig.add_subplot(grid[1, 1]))
    if drt_result is not None:
        drt(drt_result, ax=fig.add_subplot(grid[2, 0]))
    if kk_result is not None:
        kk_residuals(kk_result, ax=fig.add_subplot(grid[2, 1]))
    top_h = min((width - 0.6) * _box_ratio(top) + 0.75, 4.5)
    rows = [top_h, 2.3] + ([2.3] if extra else [])
    grid.set_height_ratios(rows)
    fig.set_size_inches(width, sum(rows))
    return fig


def arrhenius_figure(series_or_results: Any, **kw: Any) -> Any:
    """:func:`arrhenius` in a new single-column Figure, returned (for ``savefig``)."""
    ax = arrhenius(series_or_results, **kw)
    return ax.figure
