"""The current of a polarisation record against time, with I_ss and the tail fit marked."""

from __future__ import annotations

from typing import Any

import numpy as np

from eisfit.io.polarisation import Polarisation

__all__ = ["plot_polarisation"]

_CURRENT_SCALES = ((1.0, "A"), (1e-3, "mA"), (1e-6, "µA"), (1e-9, "nA"), (1e-12, "pA"))


def _current_scale(current_A: np.ndarray) -> tuple[float, str]:
    m = float(np.max(np.abs(current_A))) if current_A.size else 1.0
    for factor, unit in _CURRENT_SCALES:
        if m >= factor:
            return factor, unit
    return _CURRENT_SCALES[-1]


def plot_polarisation(
    polarisation: Polarisation, result: Any = None, *, ax: Any = None, log: str | None = None
) -> Any:
    """Draw I(t), and with a :func:`hebb_wagner` result each step's I_ss and tail fit.

    Parameters
    ----------
    polarisation
        The record.
    result
        A :class:`~eisfit.analysis.polarisation.HebbWagner` result of that record, or None.
    ax
        Matplotlib Axes to draw on (a new single-column figure when None).
    log
        ``"current"``, ``"time"`` or ``"both"`` for logarithmic axes (the absolute current
        on a log axis); None for linear axes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from eisfit.show.plot import _axes, _legend, _style

    ax = _axes(ax)
    t, i = polarisation.time_s, polarisation.current_A
    factor, unit = _current_scale(i)
    y = np.abs(i) if log in ("current", "both") else i
    ax.plot(t, y / factor, ".", ms=2.0, color="0.35", label="record")
    if result is not None:
        for k, s in enumerate(result.steps):
            first = k == 0
            ax.plot([s.tail_start_s, s.end_s], [abs(s.current_A) / factor] * 2
                    if log in ("current", "both") else [s.current_A / factor] * 2,
                    "-", color="C3", lw=1.6, label="I$_{ss}$" if first else None)
            f = s.tail_fit
            if f is not None:
                tt = np.linspace(f["t0_s"], s.end_s, 200)
                yy = f["I_ss"] + f["A"] * np.exp(-(tt - f["t0_s"]) / f["tau_s"])
                yy = np.abs(yy) if log in ("current", "both") else yy
                ax.plot(tt, yy / factor, "--", color="C0", lw=1.0,
                        label="tail fit" if first else None)
    if log in ("time", "both"):
        ax.set_xscale("symlog", linthresh=max(float(t[1] - t[0]), 1e-9))
    if log in ("current", "both"):
        ax.set_yscale("log")
    ax.set_xlabel("t / s")
    ax.set_ylabel(f"{'|I|' if log in ('current', 'both') else 'I'} / {unit}")
    _style(ax)
    _legend(ax)
    return ax
