"""The Z-HIT residual plot: |Z| against its reconstruction from the phase, point by point.

Same conventions as :mod:`eisfit.show.plot`: Axes in (``ax=None`` makes a single-column figure),
Axes out, no pyplot state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eisfit.show.plot import NOTE_PT, SINGLE_COLUMN_IN, _axes, _legend, _style

__all__ = ["plot_zhit"]


def plot_zhit(zhit_result: Any, ax: Any = None, *, trend: bool = True) -> Any:
    """Z-HIT residuals ``|Z|/|Z|_ZHIT − 1`` (% of |Z|) against frequency.

    Parameters
    ----------
    zhit_result
        A :class:`~eisfit.analysis.zhit_check.ZHITResult` from :func:`eisfit.zhit`.
    ax
        Axes to draw on (a new 3.5 in × 1.9 in figure when None).
    trend
        Draw the running mean of the residuals (the systematic part a drift leaves).

    Returns
    -------
    matplotlib.axes.Axes
        Dashed lines at ± the pass threshold (widening at the ends by the edge allowance),
        the reference window shaded, deviating points filled, the verdict in the corner.
    """
    ax = _axes(ax, figsize=(SINGLE_COLUMN_IN, 1.9))
    r = zhit_result
    f = np.asarray(r.frequency, float)
    order = np.argsort(f)
    fs = f[order]
    res = 100 * np.asarray(r.residuals, float)[order]
    dev = np.asarray(r.deviating)[order]
    ax.axvspan(*r.reference, color="0.92", lw=0, label="reference")
    ax.semilogx(fs, res, "o", ms=2.6, mfc="none", mew=0.7, color="C0", label="|Z|")
    if dev.any():
        ax.semilogx(fs[dev], res[dev], "o", ms=2.6, color="C3", label="deviating")
    limit = 100 * (float(r.threshold) + np.asarray(r.allowance, float)[order])
    ax.semilogx(fs, limit, color="0.4", lw=0.7, ls="--",
                label=f"±{100 * r.threshold:.2g} % threshold")
    ax.semilogx(fs, -limit, color="0.4", lw=0.7, ls="--")
    ax.axhline(0, color="0.3", lw=0.5)
    if trend:
        ax.semilogx(fs, 100 * np.asarray(r.trend, float)[order], "-", lw=1.0, color="C0")
    verdict = "passed" if r.passed else "FAILED"
    ax.text(0.01, 0.03, f"Z-HIT {verdict}, rms {100 * r.rms_residual:.2g} %",
            transform=ax.transAxes, fontsize=NOTE_PT, color="0.2" if r.passed else "C3")
    ax.set_xlabel("f / Hz")
    ax.set_ylabel("Z-HIT residual / %")
    lim = max(float(np.max(np.abs(res))), 100 * float(r.threshold))
    ax.set_ylim(-1.4 * lim, 1.8 * lim)
    _style(ax)
    _legend(ax, ncols=4, loc="upper center", bbox_to_anchor=(0.5, 1.02), borderaxespad=0.1)
    return ax
