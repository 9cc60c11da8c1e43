"""The plot of DRT tracks: each process's time constant against 1000/T.

Axes in, Axes out, like :mod:`eisfit.show.plot`; nothing touches pyplot's global state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eisfit.show.plot import LABEL_PT, NOTE_PT, SINGLE_COLUMN_IN, _axes, _style, pretty_role

__all__ = ["drt_tracks", "drt_tracks_figure"]


def _label(k: int, track: Any) -> str:
    from eisfit.format import value_error

    text = f"track {k}"
    if track.role:
        text += f" ({pretty_role(track.role)})"
    a = track.ea_tau
    if a is not None and math.isfinite(a.Ea_eV):
        text += f": Ea(τ) = {value_error(a.Ea_eV, a.Ea_stderr_eV, 'eV')}"
    if track.slope_change is not None and track.slope_change.significant:
        text += f", break {track.slope_change.break_K:.0f} K"
    return text


def drt_tracks(result: Any, ax: Any = None) -> Any:
    """τ of every DRT peak (grey) and of each track (coloured, with its Arrhenius line).

    Parameters
    ----------
    result
        A :class:`~eisfit.analysis.drt_tracks.DrtTracks` (:func:`eisfit.drt_arrhenius`).
    ax
        Axes to draw on; default a new single-column Figure.

    Returns
    -------
    matplotlib.axes.Axes
        τ (s, log scale) against 1000/T (1/K); the legend names each track of at least three
        temperatures, its matched role and its Ea from τ (``ln(T/τ)`` against 1/T).
    """
    ax = _axes(ax, (SINGLE_COLUMN_IN, 3.2))
    xs = [1000.0 / t for t, ps in zip(result.temperatures_K, result.peaks, strict=True)
          for _ in ps]
    taus = [p.tau for ps in result.peaks for p in ps]
    if taus:
        ax.scatter(xs, taus, s=10, color="0.75", zorder=1, label="DRT peaks")
    for k, track in enumerate(result.analysed, 1):
        x = 1000.0 / np.asarray(track.temperature_K)
        lines = ax.plot(x, track.tau_s, "o", ms=4, zorder=3, label=_label(k, track))
        a = track.ea_tau
        if a is not None and math.isfinite(a.Ea_eV):
            # ln(T/τ) = ln A − Ea/(k T): τ = T exp(−ln A) exp(Ea/(k T)) on the regression line
            xx = np.linspace(x.min(), x.max(), 50)
            t = 1000.0 / xx
            ax.plot(xx, t * np.exp(-a.ln_prefactor + a.Ea_eV / (8.617333262e-5 * t)), "-",
                    lw=1, color=lines[0].get_color(), zorder=2)
    ax.set_yscale("log")
    ax.set_xlabel("1000/T (1/K)", fontsize=LABEL_PT)
    ax.set_ylabel("τ (s)", fontsize=LABEL_PT)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=NOTE_PT, frameon=False)
    _style(ax)
    return ax


def drt_tracks_figure(result: Any) -> Any:
    """:func:`drt_tracks` in a new single-column Figure, returned (for ``savefig``)."""
    return drt_tracks(result).figure
