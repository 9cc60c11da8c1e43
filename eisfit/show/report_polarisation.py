"""The HTML page of a DC polarisation analysis (``eisfit polarisation ... --report FILE.html``).

>>> from eisfit import read_polarisation, hebb_wagner             # doctest: +SKIP
>>> from eisfit.show.report_polarisation import write_polarisation_report  # doctest: +SKIP
>>> p = read_polarisation("ca_0.5V.mpt")                                # doctest: +SKIP
>>> write_polarisation_report("ca.html", p, hebb_wagner(p, geometry=g))  # doctest: +SKIP

One self-contained page in the style of :mod:`eisfit.show.report`: the record (file, format,
technique, duration), the steady state of each voltage step, σ_e, R_e and G_e ± standard errors,
t_ion, t_e and σ_ion/σ_e when an ionic conductivity was given, the Bruce–Vincent t+ when asked
for, the warnings, the current–time plot and the assumptions of the method.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from eisfit.io.polarisation import Polarisation
from eisfit.show.report import _e, _kv, _pm_cell, _table, _warn_list, figure_img, html_page

__all__ = ["render_polarisation_report", "write_polarisation_report", "ANALYSES_SECTION"]

#: Where the method and its assumptions are written out in full.
ANALYSES_SECTION = ("docs/analyses.md#electronic-conductivity-and-transference-number-from-dc-"
                    "polarisation")

_HEBB_WAGNER_ASSUMPTIONS = (
    "Steady-state Hebb–Wagner (DC polarisation) estimate: σ_e = I_ss·L/(ΔV·A), G_e = I_ss/ΔV, "
    "R_e = 1/G_e (over a staircase of steps, G_e is the slope of the weighted I_ss–V line). "
    "It assumes electrodes that block the ion completely and pass electrons freely, alike on "
    "both sides (ΔV is the voltage across the cell); a small bias in the linear regime, well "
    "inside the stability window; a steady state actually reached; and that the whole steady "
    "current is electronic (no leakage, no short through pores). σ_ion comes from the total "
    "(bulk + grain-boundary) resistance of the impedance fit; t_ion = σ_ion/(σ_ion + σ_e)."
)
_BRUCE_VINCENT_ASSUMPTIONS = (
    "Bruce–Vincent: t+ = I_ss (ΔV − I0 R0) / (I0 (ΔV − I_ss Rs)), for a Li|electrolyte|Li cell "
    "held at a small ΔV; R0 and Rs are the whole cell's interfacial resistances before and "
    "after the polarisation (both interfaces in series), I0 the current right after the step."
)


def _pm(x: Any, unit: str) -> str:
    """A ufloat or float as ``value ± error unit`` (HTML)."""
    if x is None:
        return "–"
    return _pm_cell(float(getattr(x, "nominal_value", x)), float(getattr(x, "std_dev", 0.0)),
                    unit)


def _record_rows(record: Polarisation) -> list[tuple[str, str]]:
    """The record: file, format, technique, duration and points, voltage range."""
    t = record.time_s
    meta = record.meta
    rows = [("file", _e(record.source)),
            ("format", _e(meta.get("format") or "not recorded")),
            ("technique", _e(meta.get("technique") or "not named in the file")),
            ("duration", _e(f"{t[-1] - t[0]:.6g} s ({(t[-1] - t[0]) / 3600:.3g} h), "
                            f"{t.size} points, from t = {t[0]:.6g} s"))]
    if meta.get("window_s"):
        lo, hi = meta["window_s"]
        rows.append(("analysed window", _e(f"{'start' if lo is None else f'{lo:g} s'} to "
                                           f"{'end' if hi is None else f'{hi:g} s'}")))
    if record.voltage_V is not None:
        v = record.voltage_V
        rows.append(("recorded voltage", _e(f"{v.min():.4g} V to {v.max():.4g} V")))
    return rows


def _steps_table(steps: Sequence[Any], voltages: Sequence[float]) -> str:
    """One row per voltage step: ΔV, span, I0, I_ss ± error, drift, steady or not, method."""
    head = ["step", "ΔV / V", "from / s", "to / s", "I0 / A", "I_ss / A", "drift over tail",
            "steady", "how I_ss was taken"]
    rows = []
    for k, (s, v) in enumerate(zip(steps, voltages, strict=True)):
        rows.append([str(k + 1), _e(f"{v:.4g}"), _e(f"{s.start_s:.6g}"), _e(f"{s.end_s:.6g}"),
                     _e(f"{s.initial_A:.4g}"), _pm_cell(s.current_A, s.error_A),
                     _e(f"{s.drift:+.2%}"),
                     '<span class="ok">yes</span>' if s.reached else '<span class="bad">no</span>',
                     _e(s.method)])
    return _table(head, rows, left=[0, 8], transpose=False)


def _hebb_wagner_rows(result: Any) -> list[tuple[str, str]]:
    """σ_e, R_e, G_e ± errors and, with an ionic conductivity, t_ion, t_e, σ_ion/σ_e."""
    rows = [("G_e", _pm(result.conductance_e, "S")),
            ("R_e", _pm(result.resistance_e, "Ω")),
            ("σ_e", _pm(result.conductivity_e, "S/cm") if result.conductivity_e is not None
             else "not computed (give the thickness and the diameter or area)"),
            ("how G_e was taken", _e(result.method))]
    if result.geometry is not None:
        rows.append(("geometry", _e(str(result.geometry))))
    if result.intercept_A is not None:
        rows.append(("I–V intercept", _pm(result.intercept_A, "A")))
    if result.ionic is not None:
        unit = "S" if "conductance" in (result.ionic_source or "") else "S/cm"
        rows += [("σ_ion" if unit == "S/cm" else "G_ion", _pm(result.ionic, unit)),
                 ("ionic from", _e(result.ionic_source)),
                 ("t_ion", _pm(result.t_ion, "")),
                 ("t_e", _pm(result.t_e, "")),
                 ("σ_ion/σ_e", _pm(result.ratio, ""))]
    return rows


def _bruce_vincent_rows(bv: Any) -> list[tuple[str, str]]:
    """t+ with the numbers it is made from."""
    how = ("the first point of the record" if bv.initial == "first"
           else "the exponential decay extrapolated to the start of the record")
    return [("t+", _pm(bv.t_plus, "")),
            ("ΔV", _e(f"{bv.voltage_V:.6g} V")),
            ("I0", _e(f"{bv.initial_A:.6g} A ({how})")),
            ("I_ss", _pm_cell(bv.steady.current_A, bv.steady.error_A, "A")),
            ("R0 (before)", _pm(bv.r0, "Ω")),
            ("Rs (after)", _pm(bv.rs, "Ω"))]


def _figure(record: Polarisation, steps: Sequence[Any], dpi: int) -> str:
    """The current against time with each step's I_ss and tail fit, as an embedded PNG."""
    import matplotlib.pyplot as plt

    from eisfit.show.plot_polarisation import plot_polarisation

    ax = plot_polarisation(record, SimpleNamespace(steps=tuple(steps)))
    try:
        img = figure_img(ax.figure, "Current against time", dpi=2 * dpi, width=560)
    finally:
        plt.close(ax.figure)
    return (f"<figure>{img}<figcaption>Current against time: the record (points), each step's "
            "steady current I_ss over the tail it was averaged on (red) and the exponential "
            "fitted to the last half of the step (dashed).</figcaption></figure>")


def render_polarisation_report(
    record: Polarisation,
    result: Any = None,
    *,
    bruce: Any = None,
    warnings: Sequence[str] = (),
    title: str | None = None,
    dpi: int = 100,
) -> str:
    """The page as an HTML string (see :func:`write_polarisation_report` for the
    parameters)."""
    if result is None and bruce is None:
        raise ValueError("a polarisation report needs a HebbWagner or a BruceVincent result")
    steps = result.steps if result is not None else (bruce.steady,)
    voltages = result.voltages_V if result is not None else (bruce.voltage_V,)
    parts = ["<h2>Record</h2>", _kv(_record_rows(record)),
             "<h2>Steady state</h2>", _steps_table(steps, voltages)]
    if result is not None:
        parts += ["<h2>Electronic conductivity</h2>", _kv(_hebb_wagner_rows(result))]
    if bruce is not None:
        parts += ["<h2>Transference number (Bruce–Vincent)</h2>", _kv(_bruce_vincent_rows(bruce))]
    parts.append(f"<h2>Warnings ({len(warnings)})</h2>" + _warn_list([("", w) for w in warnings]))
    parts += ["<h2>Current against time</h2>", _figure(record, steps, dpi)]
    method = [t for t, r in ((_HEBB_WAGNER_ASSUMPTIONS, result), (_BRUCE_VINCENT_ASSUMPTIONS,
                                                                   bruce)) if r is not None]
    parts.append("<h2>Method and assumptions</h2>"
                 + "".join(f"<p>{_e(t)}</p>" for t in method)
                 + f'<p>The method in full: <a href="{_e(ANALYSES_SECTION)}">{_e(ANALYSES_SECTION)}'
                 "</a> (“Electronic conductivity and transference number from DC "
                 "polarisation”).</p>")
    return html_page(title or f"DC polarisation: {record.source}", "".join(parts))


def write_polarisation_report(
    path: str | Path,
    record: Polarisation,
    result: Any = None,
    *,
    bruce: Any = None,
    warnings: Sequence[str] = (),
    title: str | None = None,
    dpi: int = 100,
    force: bool = False,
) -> Path:
    """Write the self-contained HTML page of a DC polarisation analysis.

    Parameters
    ----------
    path
        The HTML file (written atomically).
    record
        The chronoamperometry record (:func:`~eisfit.io.polarisation.read_polarisation`).
    result
        Its :class:`~eisfit.analysis.polarisation.HebbWagner` result (σ_e in S/cm, R_e in Ohm, G_e
        in S),
        or None.
    bruce
        Its :class:`~eisfit.analysis.polarisation.BruceVincent` result, or None (at least one of
        ``result`` and ``bruce`` is needed).
    warnings
        One-line warnings of the analysis (shown escaped).
    title
        The page's title (default ``"DC polarisation: <file>"``).
    dpi
        Resolution of the embedded plot.
    force
        Overwrite an existing file; without it an existing file raises
        :class:`~eisfit.output.OutputExistsError`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from eisfit.output import write_text

    page = render_polarisation_report(record, result, bruce=bruce, warnings=warnings,
                                      title=title, dpi=dpi)
    return write_text(path, page, force=force)
