"""The plot of a series against a variable: R(L) with its line for thickness, R(t) with the
growth laws for time, each role's resistance (and conductivity) against any other variable.

A Figure is returned (no pyplot state), as :mod:`eisfit.show.plot` does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eisfit.show.plot import SINGLE_COLUMN_IN, _legend, _style, pretty_role

__all__ = ["variable_figure"]

_LAW_STYLE = {"linear": ":", "parabolic": "-", "logarithmic": "--"}


def _axis_label(series: Any) -> str:
    return f"{series.variable} / {series.unit}" if series.unit else series.variable


def _points(ax: Any, series: Any, role: str, **kw: Any) -> Any:
    x, r, se = series.resistances(role)
    err = np.where(np.isfinite(se), se, 0.0) if se.size else None
    return ax.errorbar(x, r, yerr=err, fmt="o", ms=3.5, capsize=2, label=pretty_role(role), **kw)


def _thickness(ax: Any, series: Any, analysis: dict[str, Any]) -> None:
    for role, fit in analysis.items():
        if isinstance(fit, str):
            continue
        bars = _points(ax, series, role)
        top = max(fit.thickness_mm) * 1.05
        x = np.linspace(0.0, top, 50)
        color = bars[0].get_color()
        ax.plot(x, fit.intercept_ohm + fit.slope_ohm_per_mm * x, "-", color=color, lw=1)
        ax.plot([0.0], [fit.intercept_ohm], "s", color=color, ms=4, mfc="none")
        if role == "total" and math.isfinite(fit.resistivity_ohm_cm):
            note = f"ρ = {fit.resistivity_ohm_cm:.3g} Ω cm\n2R_int = {fit.intercept_ohm:.3g} Ω"
            ax.annotate(note, (0.03, 0.97), xycoords="axes fraction", va="top", fontsize=6.5)
    ax.set_xlim(left=0.0)
    ax.set_ylabel("R / Ω")


def _growth(ax: Any, series: Any, analysis: dict[str, Any]) -> None:
    for role, law in analysis.items():
        if isinstance(law, str):
            continue
        bars = _points(ax, series, role)
        color = bars[0].get_color()
        t = np.linspace(0.0, max(law.time_h) * 1.02, 200)
        for name, fit in law.fits.items():
            chosen = name == law.chosen
            label = f"{name} (chosen)" if chosen else f"{name}, Δ{law.criterion} {fit.delta:.1f}"
            ax.plot(t, fit.predict(t), _LAW_STYLE[name], color=color, lw=1.2 if chosen else 0.8,
                    alpha=1.0 if chosen else 0.6, label=f"{pretty_role(role)}: {label}")
    ax.set_ylabel("R / Ω")


def _against(fig: Any, series: Any) -> Any:
    roles = [r for r in series.roles if r != "series"] or series.roles
    frame = series.table() if len(series) else None
    sigma_cols = [f"sigma_{r}_S_per_cm" for r in roles
                  if frame is not None and f"sigma_{r}_S_per_cm" in frame]
    axes = fig.subplots(2 if sigma_cols else 1, 1, sharex=True, squeeze=False)[:, 0]
    for role in roles:
        _points(axes[0], series, role)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("R / Ω")
    _legend(axes[0])
    if sigma_cols:
        x = frame[series.column].to_numpy(float)
        for col in sigma_cols:
            role = col[len("sigma_"):-len("_S_per_cm")]
            axes[1].errorbar(x, frame[col], yerr=frame[col.replace("_S", "_stderr_S", 1)],
                             fmt="o-", ms=3.5, capsize=2, lw=0.8, label=pretty_role(role))
        axes[1].set_yscale("log")
        axes[1].set_ylabel("σ / S cm⁻¹")
        _legend(axes[1])
    axes[-1].set_xlabel(_axis_label(series))
    for ax in axes:
        _style(ax)
    return fig


def variable_figure(series: Any, roles: list[str] | None = None) -> Any:
    """The plot of a :class:`~eisfit.series.variable.VariableSeries`.

    Parameters
    ----------
    series
        The fitted series.
    roles
        Roles drawn for thickness and time (default: those analysed, ``series`` left out).

    Returns
    -------
    matplotlib.figure.Figure
        Thickness: R (Ohm) against L (mm), the weighted line of each role extended to L = 0
        and its intercept (2·R_interface) marked; time: R against t (h) with each growth law,
        the chosen one solid; other variables: R (log) and, with a geometry, σ (S/cm) of each
        role against the variable.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SINGLE_COLUMN_IN * 1.3, 3.4), layout="constrained")
    if series.variable not in ("thickness", "time"):
        return _against(fig, series)
    ax = fig.add_subplot()
    analysis = series.analysis()
    if roles is not None:
        analysis = {k: v for k, v in analysis.items() if k in roles}
    (_thickness if series.variable == "thickness" else _growth)(ax, series, analysis)
    ax.set_xlabel(_axis_label(series))
    _style(ax)
    if ax.get_legend_handles_labels()[0]:
        _legend(ax, fontsize=5.5)
    return fig
