"""One self-contained HTML report of fits and temperature series, for a reviewer or a lab book.

>>> import eisfit
>>> from eisfit.show.report import write_report
>>> series = eisfit.fit_series("data/latp_pellet", geometry=eisfit.Geometry(
...     thickness="1 mm", diameter="10 mm"))                          # doctest: +SKIP
>>> write_report(series, "report.html")                               # doctest: +SKIP

The file holds everything: the methods a reviewer asks for (files and instrument, frequency
range, circuit, weighting, geometry, external resistance, temperatures, Arrhenius form), the
results with their standard errors, every plot as an embedded PNG (``data:`` URI), and every
warning. It loads nothing from anywhere (a Content-Security-Policy forbids it), runs no
script, and every string that came from a file or a user is HTML-escaped.

The helpers :func:`figure_img` and :func:`spectrum_html` are what the notebook displays
(``_repr_html_``) build on.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import uncertainties

from eisfit.format import NOT_DETERMINED, determined, needs_power_of_ten, unit_text, value_error
from eisfit.show.plot import hz_label as _hz
from eisfit.show.plot import pretty_role as _role
from eisfit.units import ZERO_CELSIUS_K

__all__ = ["write_report", "render_report", "figure_png", "figure_img", "spectrum_html",
           "fmt_pm", "html_page"]

_FORM_TEXT = {
    "ln(sigma*T)": "ln(σT) against 1/T (σT = A·exp(−Ea/k<sub>B</sub>T))",
    "ln(sigma)": "ln σ against 1/T (σ = A·exp(−Ea/k<sub>B</sub>T))",
}
_WEIGHTING_TEXT = {
    "modulus": "modulus (each point divided by |Z|)",
    "proportional": "proportional (real and imaginary parts divided by |Z'| and |Z''|)",
    "unit": "unit (no weighting)",
    "boukamp": "Boukamp's modulus weighting (each point divided by |Z|)",
    "sigma": "1/σ of each point (χ² a true χ²; errors not rescaled by it)",
    "admittance": "admittance (residual in Y = 1/Z, each point divided by |Y|)",
    "admittance-unit": "admittance, unweighted (residual in Y = 1/Z)",
}

_CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --warn: #8a4b00; --bad: #b3261e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; max-width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right;
         vertical-align: top; }
table.kv th { white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; }
td.l, th.l { text-align: left; }
table.t th.q { background: none; font-weight: 600; }
table.kv th { text-align: left; width: 190px; background: none; }
p.tnote { color: var(--muted); font-size: 12.5px; margin: -8px 0 14px; }
table.kv td { text-align: left; }
.scroll { overflow-x: auto; }
figure { margin: 8px 0 18px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; max-width: 760px; }
.spectra figure { margin-bottom: 28px; }
ul.warn li { color: var(--warn); margin: 2px 0; }
ul.fail li { color: var(--bad); }
.ok { color: #1e6b2e; } .bad { color: var(--bad); font-weight: 600; }
.note { background: #f7f7f9; border-left: 4px solid var(--line); padding: 8px 12px;
        color: var(--muted); }
code { font-size: 12.5px; }
@media print { figure { break-inside: avoid; } }
@media (max-width: 900px) {
  main { padding: 16px 14px 40px; }
  table { font-size: 12px; }
  th, td { padding: 3px 6px; }
}
"""


# --------------------------------------------------------------------------- small helpers
def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _nom(x: Any) -> float:
    return float(uncertainties.nominal_value(x))


def _sd(x: Any) -> float:
    return float(uncertainties.std_dev(x))


def _num(text: str) -> str:
    """A number cell's HTML: escaped, with line breaks allowed only after ``±`` and before a
    parenthesis, so a narrow column wraps ``(1.7954 ±`` / ``0.0026)×10⁻⁶`` and no unit or
    number is split."""
    return _e(text).replace(" ", "&nbsp;").replace("±&nbsp;", "± ").replace("&nbsp;(", " (")


def _head(text: str) -> str:
    """A header cell's HTML: the quantity may wrap between words, ``/ unit`` stays whole."""
    name, sep, unit = text.partition(" / ")
    if not sep:
        return _e(text)
    return _e(name) + "&nbsp;/&nbsp;" + _e(unit).replace(" ", "&nbsp;")


def _pm_cell(value: float, err: float | None, unit: str = "", sci: bool | None = None) -> str:
    """A value ± error cell: ``not determined`` for a value that is not finite, and for one
    whose standard error is larger than itself (the fitted value ± error in parentheses);
    ``sci``: with a power of ten or not (None: by the value's size)."""
    text = value_error(value, err, unit, scientific=sci)
    if text != NOT_DETERMINED and not determined(value, err):
        return f"{NOT_DETERMINED}<br>{_num(f'({text})')}"  # the fit's value on a line below
    return _num(text)


def _pm_column(pairs: Sequence[tuple[float, float | None] | None]) -> list[str]:
    """The cells of a column of (value, error) pairs (None: ``–``), written alike: all with a
    power of ten when one of them needs it."""
    sci = any(p is not None and needs_power_of_ten(*p) for p in pairs) or None
    return ["–" if p is None else _pm_cell(p[0], p[1], sci=sci) for p in pairs]


def _label(text: str) -> str:
    """A spectrum's or file's name in a table: escaped, with a line break allowed after ``_``
    and ``-``, before ``.`` and at spaces, so that a long name wraps instead of widening the
    table."""
    out = _e(text).replace("_", "_<wbr>").replace("-", "-<wbr>")
    return out.replace(".", "<wbr>.")


def _t_cell(t_k: float | None) -> str:
    """A temperature in °C to 0.01 °C, trailing zeros dropped (``-40``, ``25.15``)."""
    if t_k is None or not math.isfinite(t_k):
        return "–"
    text = f"{t_k - ZERO_CELSIUS_K:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text




def fmt_pm(value: float, err: float | None = None, digits: int = 4) -> str:
    """``400.1 ± 2.3`` or ``(1.322 ± 0.009)×10⁻⁵``: :func:`eisfit.format.value_error` without a
    unit (the error's digits by the PDG rule, the value to the same place; ``not determined``
    for a value that is not finite). Plain text (no markup)."""
    return value_error(value, err, digits=digits)


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib Figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def figure_img(fig: Any, alt: str, dpi: int = 110, width: int | None = None) -> str:
    """An ``<img>`` tag holding ``fig`` as a base64 PNG ``data:`` URI (``alt`` escaped)."""
    return _png_img(figure_png(fig, dpi), alt, width)


def _png_img(png: bytes, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(png).decode("ascii")
    w = f' width="{int(width)}"' if width else ""
    return f'<img alt="{_e(alt)}"{w} src="data:image/png;base64,{data}">'


def _kv(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table; keys are escaped here, values must already be HTML."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], left: int | Sequence[int] = 1,
    transpose: bool | None = None,
) -> str:
    """A table; header cells are escaped, body cells must already be HTML.

    ``left``: the number of leading columns aligned left (numbers align right), or the
    indices of the columns aligned left.

    ``transpose``: one column per row, one row per header (the header of the first column
    heads the names); None: transposed when there are at most three rows and six or more
    columns, so a single fit's many quantities read down the page instead of across it.
    """
    if transpose is None:
        transpose = len(rows) <= 3 and len(head) >= 6
    if transpose and rows:
        top = f'<th class="l">{_head(head[0])}</th>' + "".join(f"<th>{r[0]}</th>" for r in rows)
        body = "".join(
            f'<tr><th class="l q">{_head(h)}</th>' + "".join(f"<td>{r[i]}</td>" for r in rows)
            + "</tr>"
            for i, h in enumerate(head) if i > 0
        )
        return f'<div class="scroll"><table class="t"><tr>{top}</tr>{body}</table></div>'
    lefts = set(range(left)) if isinstance(left, int) else set(left)
    th = "".join(
        f'<th class="l">{_head(h)}</th>' if i in lefts else f"<th>{_head(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>" + "".join(
            f'<td class="l">{c}</td>' if i in lefts else f"<td>{c}</td>" for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><tr>{th}</tr>{body}</table></div>'


def _name(source: Any) -> str:
    return str(source).replace("\\", "/").rsplit("/", 1)[-1] if source else "-"


def _celsius(t_k: float | None) -> str:
    return "–" if t_k is None else f"{t_k - ZERO_CELSIUS_K:.4g} °C ({t_k:.2f} K)"


def _warn_list(items: Sequence[tuple[str, str]], css: str = "warn") -> str:
    if not items:
        return '<p class="ok">None.</p>'
    lis = "".join(
        f"<li><strong>{_e(where)}</strong>: {_e(w)}</li>" if where else f"<li>{_e(w)}</li>"
        for where, w in items
    )
    return f'<ul class="{css}">{lis}</ul>'


# --------------------------------------------------------------------------- spectrum (repr)
def spectrum_html(spectrum: Any, plot: bool = True) -> str:
    """HTML summary of a Spectrum for Jupyter: metadata table, small Nyquist, text fallback."""
    lo, hi = spectrum.frequency_range
    z = spectrum.z
    rows = [
        ("source", _e(spectrum.source or "-")),
        ("points", f"{len(spectrum)}"),
        ("frequency", f"{_e(_hz(lo))} to {_e(_hz(hi))}"),
        ("Z' range", f"{z.real.min():.4g} to {z.real.max():.4g} Ω"),
        ("|Z| range", f"{np.abs(z).min():.4g} to {np.abs(z).max():.4g} Ω"),
    ]
    if spectrum.temperature is not None:
        rows.append(("temperature", _e(_celsius(spectrum.temperature))))
    skip = {"source", "temperature"}
    for k, v in spectrum.meta.items():
        if k in skip or v is None:
            continue
        text = str(v)
        rows.append((str(k), _e(text if len(text) <= 120 else text[:117] + "...")))
    img = ""
    if plot:
        try:
            from eisfit.show.plot import nyquist

            ax = nyquist(spectrum, ax=None, decades=True, title="")
            ax.figure.set_size_inches(3.2, 2.7)
            img = figure_img(ax.figure, f"Nyquist plot of {_name(spectrum.source)}", dpi=80)
        except Exception:  # a display hook must never raise
            img = ""
    return (
        '<div class="eisfit-spectrum"><strong>Spectrum</strong> '
        f"{_e(_name(spectrum.source))}"
        '<div style="display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap">'
        f"{_kv(rows)}{img}</div>"
        f"<details><summary>text</summary><pre>{_e(repr(spectrum))}</pre></details></div>"
    )


# --------------------------------------------------------------------------- sections
def _circuits_used(results: Sequence[Any]) -> str:
    counts: dict[tuple[str, str | None], int] = {}
    for r in results:
        key = (str(r.circuit), r.circuit_name)
        counts[key] = counts.get(key, 0) + 1
    parts = []
    for (c, name), n in counts.items():
        label = f"<code>{_e(c)}</code>" + (f" (named circuit <code>{_e(name)}</code>)"
                                           if name else "")
        if len(counts) > 1 or len(results) > 1:
            label += f", {n} spectr{'um' if n == 1 else 'a'}"
        parts.append(label)
    return "<br>".join(parts)


def _roles_text(results: Sequence[Any]) -> str:
    roles: dict[str, str] = {}
    for r in results:
        if r.named is not None:
            for el, role in r.named.roles.items():
                roles.setdefault(el, role)
    if not roles:
        return "–"
    return ", ".join(f"{_e(k)} = {_e(_role(v))}" for k, v in roles.items())


def _geometry_text(geometry: Any) -> str:
    if geometry is None:
        return "none given: conductance 1/R (S) instead of conductivity"
    text = _e(str(geometry))
    try:
        text += f"; cell constant L/A = {geometry.cell_constant_per_cm:.4g} cm⁻¹"
    except Exception:
        pass
    return text


def _instruments(spectra: Sequence[Any]) -> str:
    seen: dict[str, None] = {}
    for s in spectra:
        parts = [str(s.meta[k]) for k in ("instrument", "software") if s.meta.get(k)]
        fmt = s.meta.get("format")
        if fmt:
            parts.append(f"format {fmt}")
        seen.setdefault(", ".join(parts) or "not recorded in the files", None)
    return "<br>".join(_e(x) for x in seen)


def _files(spectra: Sequence[Any], labels: Sequence[str] | None = None) -> str:
    names = list(labels) if labels else [_name(s.source) for s in spectra]
    if len(names) > 12:
        return _e(", ".join(names[:12])) + f" … ({len(names)} in all)"
    return _e(", ".join(names))


def _freq_text(spectra: Sequence[Any]) -> str:
    los = [s.frequency_range[0] for s in spectra]
    his = [s.frequency_range[1] for s in spectra]
    pts = [len(s) for s in spectra]
    text = f"{_hz(min(los))} to {_hz(max(his))}"
    if len(spectra) > 1 and (min(los) != max(los) or min(his) != max(his)):
        text += f" (lowest per spectrum {_hz(max(los))}–{_hz(min(los))})"
    text += ", " + (f"{pts[0]} points" if len(set(pts)) == 1 else f"{min(pts)}–{max(pts)} points")
    return _e(text)


def _external_text(results: Sequence[Any]) -> str:
    vals = sorted({float(r.external_resistance) for r in results})
    if vals == [0.0]:
        return "0 Ω (none subtracted)"
    shown = _e(", ".join(f"{v:g} Ω" for v in vals))
    return shown + " (subtracted from the high-frequency intercept)"


def _fixture_rows(results: Sequence[Any]) -> list[tuple[str, str]]:
    """The methods row ``fixture correction`` when spectra were corrected for their fixture
    (:func:`eisfit.correct_fixture`): the method, the open/short files, R_lead and L_lead ±
    standard errors of the lead model, and how many spectra; no row when none was."""
    records = [r.spectrum.meta.get("fixture_correction") for r in results]
    done = [x for x in records if x is not None]
    if not done:
        return []
    texts: dict[str, None] = {}
    for record in done:
        files = ", ".join(f"{k} {_name(record[k])}" for k in ("open", "short") if record.get(k))
        text = f"{record.get('method', '?')} compensation ({files})"
        if "lead_resistance_ohm" in record:
            text += ("; lead model R_lead = " + value_error(
                record["lead_resistance_ohm"], record.get("lead_resistance_stderr_ohm"), "Ω")
                + ", L_lead = " + value_error(record["lead_inductance_H"],
                                              record.get("lead_inductance_stderr_H"), "H"))
        texts.setdefault(text, None)
    html_text = "<br>".join(_e(t) for t in texts)
    if len(results) > 1:
        html_text += _e(f" ({len(done)} of {len(results)} spectra corrected before fitting)")
    else:
        html_text += " (the spectrum corrected before fitting)"
    return [("fixture correction", html_text)]


@dataclass(frozen=True)
class SpectrumPanel:
    """One fitted spectrum as the report shows it.

    Attributes
    ----------
    drt, kk
        Its DRT and lin-KK check (None where not asked for or failed).
    notes
        ``(label, text)`` notes on those checks (a failed lin-KK test, a check not run).
    png
        Its :func:`eisfit.show.plot.spectrum_figure` as PNG bytes.
    zhit
        Its Z-HIT check (:func:`eisfit.zhit`; made with the lin-KK check, None without it).
    """

    drt: Any
    kk: Any
    notes: tuple[tuple[str, str], ...]
    png: bytes
    zhit: Any = None


def spectrum_panel(
    result: Any, label: str, drt: bool = True, kk: bool = True, dpi: int = 110
) -> SpectrumPanel:
    """The DRT, lin-KK check and figure of one fit, made once for the report and for whoever
    writes the same figure to a file.

    A module-level function of picklable arguments, so a process pool can make the panels of
    many spectra at once (``render_report(..., mapper=pool.map)``).

    Parameters
    ----------
    result
        A FitResult.
    label
        Its name in notes.
    drt, kk
        Compute the DRT and the lin-KK check (each a panel of the figure).
    dpi
        Resolution of the PNG (dots per inch; the figure is 7 in wide).
    """
    from eisfit.analysis.drt import drt as run_drt
    from eisfit.analysis.kk import kramers_kronig
    from eisfit.show.plot import spectrum_figure

    s = result.original or result.spectrum
    d = k = None
    notes: list[tuple[str, str]] = []
    if drt:
        try:
            d = run_drt(s)
        except Exception as exc:  # the report goes on without that panel
            notes.append((label, f"DRT not computed: {_one_line(exc)}"))
    if kk:
        try:
            k = kramers_kronig(s)
        except Exception as exc:
            notes.append((label, f"lin-KK test not run: {_one_line(exc)}"))
        else:
            if not k.passed:
                notes.append((label, k.summary()))
    z = _zhit_check(s, label, notes) if kk else None
    return SpectrumPanel(d, k, tuple(notes), figure_png(spectrum_figure(result, d, k), dpi), z)


def _zhit_check(spectrum: Any, label: str, notes: list[tuple[str, str]]) -> Any:
    """The Z-HIT check of a spectrum, or None with a note; a failed one adds its summary."""
    from eisfit.analysis.zhit_check import zhit

    try:
        z = zhit(spectrum)
    except Exception as exc:  # the report goes on without it
        notes.append((label, f"Z-HIT check not run: {_one_line(exc)}"))
        return None
    if not z.passed:
        notes.append((label, z.summary()))
    return z


def _spectrum_checks(
    results: Sequence[Any], labels: Sequence[str], drt: bool, kk: bool, dpi: int,
    mapper: Callable[..., Iterable[SpectrumPanel]],
) -> tuple[list[Any], list[Any], list[tuple[str, str]], list[bytes], list[Any]]:
    """DRT and lin-KK of each fitted spectrum (None where skipped or failed), notes, each
    spectrum's figure as PNG and its Z-HIT check (one :func:`spectrum_panel` each, made by
    ``mapper``)."""
    panels = list(mapper(partial(spectrum_panel, drt=drt, kk=kk, dpi=dpi + 10),
                         results, labels))
    return ([p.drt for p in panels], [p.kk for p in panels],
            [n for p in panels for n in p.notes], [p.png for p in panels],
            [p.zhit for p in panels])


def _circuit_figures(results: Sequence[Any], values: bool) -> str:
    """Each distinct circuit of the fits drawn as inline SVG (:func:`eisfit.draw_circuit`,
    with the fitted values for a single fit); nothing where schemdraw is not installed."""
    from eisfit.show.diagram import DiagramError, draw_circuit

    out, seen = [], set()
    for r in results:
        key = str(r.circuit)
        if key in seen:
            continue
        seen.add(key)
        try:
            svg = (r.diagram() if values else draw_circuit(r.circuit)).svg
        except DiagramError:
            return ""
        cap = (f"Circuit {key}" + (f" ({r.circuit_name})" if r.circuit_name else "")
               + (", with the fitted values." if values else "."))
        out.append(f'<figure class="circuit scroll">{svg}<figcaption>{_e(cap)}</figcaption>'
                   "</figure>")
    return "".join(out)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _spectrum_figures(
    results: Sequence[Any], labels: Sequence[str], drts: Sequence[Any], kks: Sequence[Any],
    pngs: Sequence[bytes], zhits: Sequence[Any] | None = None,
) -> str:
    cards = []
    zhits = [None] * len(pngs) if zhits is None else zhits
    for lab, r, d, k, png, zh in zip(labels, results, drts, kks, pngs, zhits, strict=True):
        t = r.spectrum.temperature
        what = ["Nyquist plot with the fit (line), arc apexes (+) and frequency decades (●)",
                "Bode plot", "relative residuals with the ±√χ² band"]
        if d is not None:
            what.append(f"DRT ({len(d.peaks)} peak{'s' if len(d.peaks) != 1 else ''})")
        if k is not None:
            what.append("lin-KK residuals (" + ("passed" if k.passed else "FAILED") + ")")
        if zh is not None:  # |Z| against its reconstruction from the phase (eisfit.zhit)
            what.append(f"Z-HIT {'passed' if zh.passed else 'FAILED'} (rms residual of |Z| "
                        f"{100 * zh.rms_residual:.2g} %, largest {100 * zh.max_residual:.2g} %)")
        cap = f"{lab}" + (f", {t - ZERO_CELSIUS_K:.4g} °C" if t is not None else "") + ": " + \
            ", ".join(what) + "."
        cards.append(
            f"<figure>{_png_img(png, f'Fit of {lab}')}"
            f"<figcaption>{_e(cap)}</figcaption></figure>"
        )
    return f'<div class="spectra">{"".join(cards)}</div>'


def _params_tables(results: Sequence[Any], labels: Sequence[str]) -> str:
    out = []
    for lab, r in zip(labels, results, strict=True):
        units = dict(zip(r.circuit.parameter_names, r.circuit.parameter_units, strict=True))
        rows = []
        for k, p in r.records.items():
            flags = ", ".join(r.flags.get(k, []))
            if not p.vary:
                flags = ", ".join(x for x in ("fixed", flags) if x)
            rows.append([_e(k), _pm_cell(p.value, p.stderr), _e(unit_text(units[k])),
                         _e(flags.replace("_", " "))])
        out.append(
            f"<h3>{_e(lab)}</h3><p>χ² (reduced) = {_e(value_error(r.chi_square, digits=3))}, "
            f"AIC = {r.aic:.1f}, "
            f"BIC = {r.bic:.1f}, {r.n_points} points, {r.nfev} evaluations"
            + ("" if r.success else ', <span class="bad">solver did not converge</span>')
            + "</p>"
            + _table(["parameter", "value ± standard error", "unit", "flags"], rows,
                     left=(0, 2, 3))
        )
    return "".join(out)


def _results_tables(
    results: Sequence[Any], labels: Sequence[str], temps: Sequence[float | None],
    geometry: Any, kks: Sequence[Any],
) -> str:
    roles: list[str] = []
    arc_roles: list[str] = []
    for r in results:
        for k in r.resistances:
            if k not in roles:
                roles.append(k)
        for a in r.arcs:
            if a.role not in arc_roles:
                arc_roles.append(a.role)
    names = [_label(lab) for lab in labels]
    t_cells = [_t_cell(t) for t in temps]

    def table(head: list[str], columns: list[list[str]]) -> str:
        rows = [list(r) for r in zip(names, t_cells, *columns, strict=True)]
        return _table(["spectrum", "T / °C", *head], rows, left=1)

    head = [f"R {_role(k)} / Ω" for k in roles] + ["χ²", "lin-KK"]
    columns = []
    for role in roles:
        pairs = [_resistance_pair(r, role) for r in results]
        columns.append(_pm_column([p for p, _ in pairs]))
        for i, (_, note) in enumerate(pairs):
            if note:
                columns[-1][i] = _num(f"{value_error(results[i].resistances[role])} ({note})")
    columns.append([_num(value_error(r.chi_square, digits=2)) for r in results])
    kk_cells = []
    for k in kks:
        if k is None:
            kk_cells.append("–")
        else:
            cls = "ok" if k.passed else "bad"
            kk_cells.append(f'<span class="{cls}">{"passed" if k.passed else "failed"}</span> '
                            f"({100 * k.max_residual:.2g}&nbsp;%)")
    columns.append(kk_cells)
    out = "<h3>Resistances</h3>" + table(head, columns)
    external = any(_resistance_pair(r, role)[1] == "external" for r in results for role in roles)
    notes = ["value ± standard error"]
    if external:
        notes.append("external: the external resistance given for the cables and cell, "
                     "not fitted")
    notes.append("not determined: no finite value, or a standard error larger than the value")
    out += f'<p class="tnote">{_e("; ".join(notes))}.</p>'

    # conductivity (or ASR for interfaces), then capacitance: two tables that fit the page
    if geometry is not None:
        sig_roles = [k for k in roles if k in ("bulk", "grain_boundary", "electrolyte", "total")]
        asr_roles = [k for k in roles if k.endswith("interface")]
        sigs = [r.conductivity(geometry) for r in results]
        asrs = [r.asr(geometry) for r in results]
        head = [f"σ {_role(k)} / (S cm⁻¹)" for k in sig_roles]
        head += [f"ASR {_role(k)} / (Ω cm²)" for k in asr_roles]
        columns = [
            _pm_column([(_nom(d[k]), _sd(d[k])) if k in d else None for d in dicts])
            for dicts, keys in ((sigs, sig_roles), (asrs, asr_roles)) for k in keys
        ]
        if columns:
            title = "Conductivity" if not asr_roles else (
                "Area-specific resistance" if not sig_roles else "Conductivity and ASR")
            out += f"<h3>{title}</h3>" + table(head, columns)
    if arc_roles:
        arcs = [{a.role: a for a in r.arcs} for r in results]
        head = [f"C {_role(k)} / F" for k in arc_roles]
        head += [f"apex {_role(k)} / Hz" for k in arc_roles]
        columns = [
            _pm_column([(_nom(getattr(a[k], what)), _sd(getattr(a[k], what))) if k in a else None
                        for a in arcs])
            for what in ("capacitance", "apex_hz") for k in arc_roles
        ]
        out += "<h3>Effective capacitance and apex frequency</h3>" + table(head, columns)
    return out


def _resistance_pair(r: Any, role: str) -> tuple[tuple[float, float | None] | None, str]:
    """A fit's resistance (Ohm) of ``role`` as (value, standard error) for :func:`_pm_column`
    (None where the fit has no such role), and a note: ``external`` for the series
    resistance that is the external resistance given (no error: not fitted), ``fixed`` for
    another without an error, else ``""``."""
    if role not in r.resistances:
        return None, ""
    v = r.resistances[role]
    err = r.resistance_stderr.get(role)
    if err == 0.0 and math.isfinite(v):
        given = role == "series" and v == float(r.external_resistance)
        return (v, err), "external" if given else "fixed"
    return (v, err), ""


def _brick_layer_section(series: Any, results: Sequence[Any], labels: Sequence[str],
                         temps: Sequence[float | None]) -> str:
    """The brick-layer table of a batch run with a grain size (``series.grain_size_m``):
    specific and apparent grain-boundary conductivity, boundary thickness, bulk permittivity
    per spectrum; skipped spectra and the analysis' warnings below it; "" without a grain
    size."""
    grain = getattr(series, "grain_size_m", None)
    if grain is None or series.geometry is None:
        return ""
    from eisfit.analysis.microstructure import BrickLayerError, brick_layer

    # (quantity, unit suffix of its keys, scale to the column's unit, column heading)
    cols = (("specific_grain_boundary_conductivity", "_S_per_cm", 1.0, "σ gb specific / (S cm⁻¹)"),
            ("apparent_grain_boundary_conductivity", "_S_per_cm", 1.0, "σ gb apparent / (S cm⁻¹)"),
            ("grain_boundary_thickness", "_m", 1e9, "δ gb / nm"),
            ("bulk_relative_permittivity", "", 1.0, "ε_r bulk"),
            ("capacitance_ratio", "", 1.0, "C bulk / C gb"))
    rows, notes = [], []
    for r, lab, t in zip(results, labels, temps, strict=True):
        try:
            d = brick_layer(r, series.geometry, grain).to_dict()
        except BrickLayerError as exc:
            notes.append((lab, f"skipped: {exc}"))
            continue
        notes.extend((lab, w) for w in d["warnings"])
        cells = []
        for q, unit, scale, _ in cols:
            value, err = d[q + unit], d[q + "_stderr" + unit]
            cells.append("–" if value is None else _pm_cell(value * scale, err and err * scale))
        rows.append([_label(lab), _t_cell(t), *cells])
    out = f"<h3>Brick layer (grain size {_e(value_error(grain * 1e6, None, 'µm'))})</h3>"
    if rows:
        out += _table(["spectrum", "T / °C", *(c[3] for c in cols)], rows, left=1)
    return out + _warn_list(notes)


def _drt_tracks_section(tracks: Any, dpi: int) -> str:
    """The DRT tracks (:func:`eisfit.drt_arrhenius`) kept on a series: plot, table and notes;
    empty when none were made."""
    if tracks is None:
        return ""
    from eisfit.show.plot_drt_tracks import drt_tracks_figure

    heads, rows = tracks.rows()
    notes = [line.strip()[2:] for line in tracks.report().splitlines()
             if line.strip().startswith("- ")]
    fig = drt_tracks_figure(tracks)
    return (
        "<h2>Activation energies from the DRT</h2>"
        f"<figure>{figure_img(fig, 'DRT tracks', dpi=2 * dpi, width=560)}<figcaption>"
        + _e("Time constant of each DRT peak against 1000/T (grey: every peak; coloured: the "
             "tracks, each process followed through the temperatures, with the Arrhenius line "
             "of ln(T/tau)). Ea from ln(T/R) and ln(T/tau) against 1/T, without a circuit; "
             "the circuit's Ea of the matched role over the same spectra beside it.")
        + "</figcaption></figure>"
        + (_table(heads, [[_e(c) for c in r] for r in rows], left=[0, 5], transpose=False)
           if rows else "<p>No DRT peak was followed over three temperatures.</p>")
        + (_warn_list([("", n) for n in notes]) if notes else "")
    )


def _arrhenius_table(fits: dict[str, Any], joint: Any) -> str:
    rows = []
    for role, a in fits.items():
        if not getattr(a, "determined", True):
            rows.append([_e(_role(role)), _e(f"not determined: {a.reason}"), "–", "–", "–",
                         f"{a.r2:.5f}" if math.isfinite(a.r2) else "–", f"{a.n}",
                         _e(_t_range(a)), _e(a.quantity), "–"])
            continue
        lo, hi = a.Ea_ci95_eV
        ea = value_error(a.Ea_eV, a.Ea_stderr_eV)
        places = _places(ea)
        ci = f"{lo:.{places}f} to {hi:.{places}f}" if math.isfinite(lo) else "–"
        curv = "–" if not math.isfinite(a.curvature_p) else (
            ("yes" if a.curvature else "no") + f" (p = {value_error(a.curvature_p, digits=2)})")
        rows.append([
            _e(_role(role)),
            _num(ea),
            _num(value_error(a.Ea_kJ_per_mol, a.Ea_stderr_kJ_per_mol)),
            _e(ci),
            _num(value_error(a.ln_prefactor, a.ln_prefactor_stderr)),
            f"{a.r2:.5f}",
            f"{a.n}",
            _e(_t_range(a)),
            _e(a.quantity),
            _e(curv),
        ])
    out = _table(
        ["role", "Ea / eV", "Ea / (kJ mol⁻¹)", "95 % CI of Ea / eV", "ln A", "r²", "n",
         "T / °C", "quantity", "curvature"],
        rows, transpose=True,
    )
    left_out = [
        [_e(_role(role)), _e(e["source"]), _e(f"{e['temperature_K']:.2f}"), _e(e["reason"])]
        for role, a in fits.items()
        for e in (getattr(a, "excluded", None) or ())
    ]
    if left_out:
        out += "<h3>Points left out of the Arrhenius fits (physics checks)</h3>" + _table(
            ["role", "file", "T / K", "reason"], left_out
        )
    if joint is not None and getattr(joint, "processes", None):
        jrows = []
        for role, p in joint.processes.items():
            ind = fits.get(role)
            ok = getattr(p, "determined", True)
            ind_ok = ind is not None and getattr(ind, "determined", True)
            diff = f"{p.Ea_eV - ind.Ea_eV:+.4f}" if ind_ok and ok else "–"
            jrows.append([
                _e(_role(role)),
                _num(value_error(p.Ea_eV, p.Ea_stderr_eV)) if ok
                else _e(f"not determined: {p.reason}"),
                (_num(value_error(ind.Ea_eV, ind.Ea_stderr_eV)) if ind_ok else "not determined")
                if ind is not None else "–",
                diff,
            ])
        out += "<h3>Joint fit of the series</h3>" + _table(
            ["role", "Ea joint / eV", "Ea independent / eV", "joint − independent / eV"], jrows
        )
    return out


def _places(text: str) -> int:
    """Decimal places of the first number of a plainly written ``value ± error`` (4 when it
    carries a power of ten)."""
    if "×10" in text:
        return 4
    first = text.split(" ", 1)[0]
    return len(first.partition(".")[2])


def _t_range(a: Any) -> str:
    if not math.isfinite(a.T_min_K):
        return "–"
    return f"{a.T_min_K - ZERO_CELSIUS_K:.4g} to {a.T_max_K - ZERO_CELSIUS_K:.4g}"


def _arrhenius_method(fits: dict[str, Any], form: str) -> str:
    text = _FORM_TEXT.get(form, _e(form))
    if not fits:
        return text + "; not computed (fewer than two temperatures for every role)"
    quantities = sorted({a.quantity for a in fits.values()})
    what = {
        "conductivity": "conductivity σ = L/(R·A)",
        "conductance": "conductance 1/R",
        "resistance": "area-specific resistance (interfaces, per interface)",
    }
    text += "; from " + " and ".join(what.get(q, q) for q in quantities)
    if any(a.weighted for a in fits.values()):
        text += ("; least squares weighted by the fits' standard errors (1/se² of the log), "
                 "covariance scaled by the reduced χ²")
    else:
        text += "; unweighted least squares"
    text += "; Ea = −slope·k<sub>B</sub>, standard error and 95 % interval (Student t, n − 2)"
    return text


# --------------------------------------------------------------------------- main entry
def _series_section(series: Any, form: str, drt: bool, kk: bool, dpi: int, index: int,
                    mapper: Callable[..., Iterable[SpectrumPanel]] = map) -> str:
    from eisfit.show.plot import _draw_arrhenius

    results = list(series.results)
    labels = list(series.labels)
    temps = [float(t) for t in series.temperatures_K]
    spectra = [r.original or r.spectrum for r in results]
    fits = series.arrhenius_all(form) if results else {}
    joint = getattr(series, "joint", None)
    if joint is not None and getattr(joint, "form", form) != form:
        joint = None
    drts, kks, check_notes, pngs, zhits = _spectrum_checks(results, labels, drt, kk, dpi,
                                                            mapper)

    t_text = "–"
    if temps:
        t_text = (f"{min(temps) - ZERO_CELSIUS_K:.4g} to {max(temps) - ZERO_CELSIUS_K:.4g} °C "
                  f"({min(temps):.2f}–{max(temps):.2f} K), {len(temps)} temperatures")
    weightings = ", ".join(sorted({_WEIGHTING_TEXT.get(r.weighting, r.weighting)
                                   for r in results})) or "–"
    methods = _kv([
        ("files", _files(spectra, labels)),
        ("instrument", _instruments(spectra) if spectra else "–"),
        ("frequency range", _freq_text(spectra) if spectra else "–"),
        ("circuit", _circuits_used(results) if results else "–"),
        ("roles", _roles_text(results)),
        ("weighting", _e(weightings)),
        ("geometry", _geometry_text(series.geometry)),
        ("external resistance", _external_text(results) if results else "–"),
        *_fixture_rows(results),  # open/short correction, when the spectra had one
        ("temperatures", _e(t_text)),
        ("Arrhenius form", _arrhenius_method(fits, form)),
        ("fitted", _e(f"{len(results)} spectra, {len(series.failures)} failed")),
    ])

    warnings: list[tuple[str, str]] = [("series", w) for w in series.warnings]
    for lab, ws in zip(labels, series._all_spectrum_warnings(), strict=True):
        warnings.extend((lab, w) for w in ws)
    for role, a in fits.items():
        warnings.extend((f"Arrhenius {_role(role)}", w) for w in a.warnings)
    if joint is not None:
        warnings.extend(("joint fit", w) for w in getattr(joint, "warnings", ()))
        for role, proc in getattr(joint, "processes", {}).items():
            warnings.extend((f"joint fit, {_role(role)}", w)
                            for w in getattr(proc, "warnings", ()))
    if getattr(series, "joint_error", None):
        warnings.append(("joint fit", f"failed: {series.joint_error}"))
    warnings.extend(check_notes)
    failures = [(f["source"], f["error"]) for f in series.failures]

    parts = [f'<section id="s{index}">']
    parts.append("<h2>Methods</h2>" + methods)
    parts.append(_circuit_figures(results, values=False))
    parts.append("<h2>Activation energies</h2>")
    if fits:
        fig = _draw_arrhenius(fits, form, "ln", joint, None).figure  # the fits above, not refitted
        parts.append(
            f"<figure>{figure_img(fig, 'Arrhenius plot', dpi=2 * dpi, width=560)}<figcaption>"
            + _e(f"Arrhenius plot, {form} against 1000/T (°C on the top axis): points from "
                 "each fit with error bars from its standard error, lines from the weighted "
                 "regression; the legend gives Ea ± standard error.")
            + (" Dashed: the joint fit." if joint is not None else "")
            + "</figcaption></figure>"
        )
        parts.append(_arrhenius_table(fits, joint))
    else:
        parts.append("<p>No Arrhenius fit: fewer than two temperatures for every role.</p>")
    parts.append(_drt_tracks_section(getattr(series, "drt_tracks", None), dpi))
    parts.append("<h2>Results</h2>")
    parts.append(_results_tables(results, labels, temps, series.geometry, kks))
    parts.append(_brick_layer_section(series, results, labels, temps))
    parts.append(f"<h2>Warnings ({len(warnings)})</h2>" + _warn_list(warnings))
    if failures:
        parts.append(f"<h2>Failures ({len(failures)})</h2>" + _warn_list(failures, "warn fail"))
    parts.append("<h2>Spectra</h2>")
    parts.append(_spectrum_figures(results, labels, drts, kks, pngs, zhits))
    parts.append("<h2>Parameters</h2>" + _params_tables(results, labels))
    parts.append("</section>")
    return "".join(parts)


def variable_section(series: Any, dpi: int, index: int, heading: str = "") -> str:
    """The section of a series against a variable other than temperature
    (:class:`~eisfit.series.variable.VariableSeries`): methods, its plot, the analysis
    (thickness regression or growth laws), the table of each role against the variable,
    failures and warnings."""
    from eisfit.show.plot_variable import variable_figure

    head = f"{series.variable} / {series.unit}" if series.unit else series.variable
    results = list(series.results)
    methods = _kv([
        ("files", _e(f"{len(results)} spectra, {len(series.failures)} failed")),
        ("circuit", _circuits_used(results) if results else "–"),
        ("geometry", _geometry_text(series.geometry)),
        ("variable", _e(f"{head}, values from {series.source}")),
    ])
    parts = [f'<section id="s{index}">', f"<h2>{_e(heading or 'Series against ' + head)}</h2>",
             "<h3>Methods</h3>" + methods]
    if results:
        fig = variable_figure(series)
        parts.append(f"<figure>{figure_img(fig, head + ' plot', dpi=2 * dpi, width=560)}"
                     "</figure>")
    for role, a in series.analysis().items():
        text = a if isinstance(a, str) else a.text()
        parts.append(f"<h3>{_e(_role(role))}</h3><pre>{_e(text)}</pre>")
    frame = series.table()
    cols = [c for c in frame.columns if c != "warnings"]
    rows = [[_e(f"{v:.4g}" if isinstance(v, float) else str(v)) for v in r]
            for r in frame[cols].itertuples(index=False)]
    parts.append("<h3>Results</h3>" + _table(cols, rows, left=1))
    warnings = [("series", w) for w in series.warnings] + [
        (lab, w) for lab, r in zip(series.labels, results, strict=True) for w in r.warnings]
    parts.append(f"<h3>Warnings ({len(warnings)})</h3>" + _warn_list(warnings))
    if series.failures:
        parts.append(_warn_list([(f["source"], f["error"]) for f in series.failures],
                                "warn fail"))
    parts.append("</section>")
    return "".join(parts)


def _fit_section(
    result: Any, geometry: Any, drt: bool, kk: bool, dpi: int, index: int, heading: str,
    mapper: Callable[..., Iterable[SpectrumPanel]] = map,
) -> str:
    lab = result.spectrum.meta.get("label") or _name(result.spectrum.source)
    spectrum = result.original or result.spectrum
    drts, kks, check_notes, pngs, zhits = _spectrum_checks([result], [lab], drt, kk, dpi,
                                                            mapper)
    t = result.spectrum.temperature
    methods = _kv([
        ("file", _files([spectrum], [lab])),
        ("instrument", _instruments([spectrum])),
        ("frequency range", _freq_text([spectrum])),
        ("circuit", _circuits_used([result])),
        ("roles", _roles_text([result])),
        ("weighting", _e(_WEIGHTING_TEXT.get(result.weighting, result.weighting))),
        ("geometry", _geometry_text(geometry)),
        ("external resistance", _external_text([result])),
        *_fixture_rows([result]),  # open/short correction, when the spectrum had one
        ("temperature", _e(_celsius(t))),
        ("Arrhenius form", "not applicable (one temperature)"),
    ])
    warnings = [(lab, w) for w in result.warnings] + check_notes
    parts = [f'<section id="s{index}">']
    if heading:
        parts.append(f"<h2>{_e(heading)}</h2>")
    parts.append("<h3>Methods</h3>" + methods)
    parts.append(_circuit_figures([result], values=True))
    parts.append(_results_tables([result], [lab], [t], geometry, kks))
    parts.append(f"<h3>Warnings ({len(warnings)})</h3>" + _warn_list(warnings))
    parts.append(_spectrum_figures([result], [lab], drts, kks, pngs, zhits))
    parts.append("<h3>Parameters</h3>" + _params_tables([result], [lab]))
    parts.append("</section>")
    return "".join(parts)


def render_report(
    series_or_result: Any,
    *,
    title: str | None = None,
    geometry: Any = None,
    form: str = "ln(sigma*T)",
    drt: bool = True,
    kk: bool = True,
    notes: Sequence[str] = (),
    dpi: int = 100,
    headings: Sequence[str] | None = None,
    mapper: Callable[..., Iterable[SpectrumPanel]] = map,
) -> str:
    """The report as an HTML string (see :func:`write_report` for the parameters)."""
    from eisfit.fitting.result import FitResult

    def reportable(x: Any) -> bool:
        return isinstance(x, FitResult) or hasattr(x, "arrhenius_all") or hasattr(
            x, "growth_law")  # a series against another variable

    items = [series_or_result] if reportable(series_or_result) else list(series_or_result)
    if not items:
        raise ValueError("write_report needs a Series or a FitResult")
    for it in items:
        if not reportable(it):
            raise TypeError(
                f"write_report takes Series and FitResult objects, got {type(it).__name__}"
            )
    if form not in _FORM_TEXT:
        raise ValueError(f"form must be one of {list(_FORM_TEXT)}, got {form!r}")
    title = title or "eisfit report"
    sections = []
    for i, it in enumerate(items):
        head = headings[i] if headings and i < len(headings) else ""
        if isinstance(it, FitResult):
            sections.append(_fit_section(it, geometry, drt, kk, dpi, i,
                                         head or ("Single spectrum" if len(items) > 1 else ""),
                                         mapper))
        elif hasattr(it, "growth_law"):
            sections.append(variable_section(it, dpi, i, head))
        else:
            body = _series_section(it, form, drt, kk, dpi, i, mapper)
            if head or len(items) > 1:
                body = f"<h2>{_e(head or 'Temperature series')}</h2>" + body
            sections.append(body)
    note_html = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
    return html_page(title, note_html + "".join(sections))


def html_page(title: str, body: str) -> str:
    """A whole self-contained HTML page: the report's style, ``title`` (escaped) as its title
    and heading, the line saying which eisfit made it and when, then ``body`` (HTML, which
    must already be escaped). Loads nothing (a Content-Security-Policy forbids it)."""
    from eisfit._version import __version__

    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="sub">Made by eisfit {_e(__version__)} on {_e(now)}. Self-contained: the '
        "plots are embedded in this file.</p>"
        f"{body}</main></body></html>\n"
    )


def write_report(
    series_or_result: Any,
    path: str | Path,
    force: bool = False,
    *,
    title: str | None = None,
    geometry: Any = None,
    form: str = "ln(sigma*T)",
    drt: bool = True,
    kk: bool = True,
    notes: Sequence[str] = (),
    dpi: int = 100,
    headings: Sequence[str] | None = None,
    mapper: Callable[..., Iterable[SpectrumPanel]] = map,
) -> Path:
    """Write one self-contained HTML report.

    Parameters
    ----------
    series_or_result
        A :class:`~eisfit.series.temperature.Series`, a :class:`~eisfit.fitting.result.FitResult`,
        or a list of
        them (one section each).
    path
        The HTML file to write (atomically).
    force
        Overwrite an existing file; without it an existing file raises
        :class:`~eisfit.output.OutputExistsError`.
    title
        The page's title (default ``"eisfit report"``).
    geometry
        :class:`~eisfit.Geometry` for the conductivity or ASR of single fits (a Series carries
        its own).
    form
        Arrhenius form of a series: ``"ln(sigma*T)"`` (default) or ``"ln(sigma)"``.
    drt, kk
        Compute and show each spectrum's DRT and lin-KK test (a failed lin-KK test is listed
        with the warnings).
    notes
        Paragraphs of plain text shown under the title (escaped).
    dpi
        Resolution of the embedded plots.
    headings
        A heading per item when several are given.
    mapper
        How each spectrum's :class:`SpectrumPanel` (DRT, lin-KK check and figure) is made:
        ``mapper(fn, results, labels)`` as the builtin ``map`` (the default, one after
        another); ``ProcessPoolExecutor.map`` makes them in parallel, and a wrapper can keep
        the panels (their PNGs) to write as files without drawing them again.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from eisfit.output import write_text

    page = render_report(series_or_result, title=title, geometry=geometry, form=form,
                         drt=drt, kk=kk, notes=notes, dpi=dpi, headings=headings,
                         mapper=mapper)
    return write_text(path, page, force=force)
