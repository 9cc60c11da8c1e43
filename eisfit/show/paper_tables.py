"""Tables of a fit for papers: Markdown and LaTeX (``booktabs`` and ``siunitx``).

:func:`to_markdown` and :func:`to_latex` (also :meth:`eisfit.FitResult.to_markdown` and
:meth:`eisfit.FitResult.to_latex`) write the same three parts:

* the circuit, its name, the reduced χ², the number of points and the weighting;
* the parameter table: each parameter's value ± standard error, rounded as every eisfit report
  rounds (:func:`eisfit.format.value_error`: the error's digits by the PDG rule, the value to
  the same place), its unit from the element registry; a parameter the data do not determine
  (error above its value) is marked ``†``, a fixed one ``(fixed)``;
* the derived quantities by role: resistances with errors propagated from the covariance,
  effective capacitances and apex frequencies of the arcs, and with a geometry the
  conductivities (a thickness and area) or the area-specific resistances (an area alone).

LaTeX cells are ``\\num{value \\pm error e-5}`` and units ``\\si{\\ohm}`` in the column heads,
so siunitx typesets them (as ``1.81(11)`` by default; ``\\sisetup{separate-uncertainty=true}``
writes ``1.81 ± 0.11``); text is escaped. The preamble needs ``\\usepackage{booktabs}`` and
``\\usepackage{siunitx}`` (``document=True`` writes a whole document that compiles on its own,
with separate uncertainties).
"""

from __future__ import annotations

import math
import re
from typing import Any

import uncertainties

from eisfit.format import NOT_DETERMINED, determined, unit_text, value_error

__all__ = ["to_markdown", "to_latex", "latex_escape", "siunitx_number", "siunitx_unit"]

#: Marks a value the data do not determine (standard error above the value).
UNDETERMINED_MARK = "†"

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    # characters eisfit's own text uses, which pdflatex does not take as they are
    "²": r"\textsuperscript{2}", "³": r"\textsuperscript{3}", "µ": r"\textmu{}",
    "μ": r"\textmu{}", "Ω": r"\ensuremath{\Omega}", "±": r"\ensuremath{\pm}",
    "×": r"\ensuremath{\times}", "°": r"\textdegree{}", "σ": r"\ensuremath{\sigma}",
}
#: eisfit's unit strings -> siunitx (a trailing ``$^{...}$`` where siunitx has no unit).
_SIUNITX = {
    "Ohm": r"\si{\ohm}",
    "F": r"\si{\farad}",
    "H": r"\si{\henry}",
    "s": r"\si{\second}",
    "Hz": r"\si{\hertz}",
    "S s^n": r"\si{\siemens\second}$^{n}$",
    "Ohm s^-1/2": r"\si{\ohm\second}$^{-1/2}$",
    "H s": r"\si{\henry\second}",
    "S/cm": r"\si{\siemens\per\centi\metre}",
    "Ohm cm2": r"\si{\ohm\centi\metre\squared}",
}
_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_POWER = re.compile(r"^\((?P<v>[^±]+) ± (?P<e>[^)]+)\)×10(?P<p>[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)$")
_PLAIN_POWER = re.compile(r"^(?P<v>[^×]+)×10(?P<p>[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)$")


# --------------------------------------------------------------------------- helpers
def latex_escape(text: Any) -> str:
    """``text`` with LaTeX's special characters escaped (``_`` -> ``\\_``, ``%`` -> ``\\%``) and
    the Unicode eisfit writes (``cm²``, ``µm``, ``Ω``, ``±``) as LaTeX commands."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def siunitx_number(text: str) -> str:
    """A number as :func:`eisfit.format.value_error` writes it, as a siunitx ``\\num``.

    ``(1.81 ± 0.11)×10⁻¹¹`` -> ``\\num{1.81 \\pm 0.11 e-11}``, ``50100 ± 400`` ->
    ``\\num{50100 \\pm 400}``, ``1.5×10⁻⁵`` -> ``\\num{1.5e-5}``; ``not determined`` -> ``--``.
    """
    text = text.strip()
    if text == NOT_DETERMINED:
        return "--"
    m = _POWER.match(text)
    if m:
        p = m["p"].translate(_SUPERSCRIPT)
        return rf"\num{{{m['v']} \pm {m['e']} e{p}}}"
    m = _PLAIN_POWER.match(text)
    if m:
        return rf"\num{{{m['v']}e{m['p'].translate(_SUPERSCRIPT)}}}"
    return r"\num{" + text.replace(" ± ", r" \pm ") + "}"


def siunitx_unit(unit: str) -> str:
    """An eisfit unit string as siunitx writes it (``Ohm`` -> ``\\si{\\ohm}``); a unit it
    does not know is escaped text, a dimensionless one empty."""
    if not unit:
        return ""
    return _SIUNITX.get(unit, latex_escape(unit_text(unit)))


def _pretty(role: str) -> str:
    return str(role).replace("_", " ")


def _records(result: Any) -> list[tuple[str, str, str, str, bool]]:
    """(name, role, value ± error text, unit, determined) of each parameter."""
    units = dict(zip(result.circuit.parameter_names, result.circuit.parameter_units,
                     strict=True))
    roles = result.named.roles if result.named is not None else {}
    rows = []
    for name, p in result.records.items():
        element = name.split("_")[0]
        err = p.stderr if p.vary else None
        text = value_error(p.value, err)
        if not p.vary:
            text += " (fixed)"
        known = not p.vary or determined(p.value, p.stderr)
        rows.append((name, _pretty(roles.get(element, "")), text, units[name], known))
    return rows


def _ufloat_text(x: Any, unit: str = "") -> str:
    if x is None:
        return "–"
    v, e = float(uncertainties.nominal_value(x)), float(uncertainties.std_dev(x))
    if not math.isfinite(v):
        return NOT_DETERMINED
    return value_error(v, e if e > 0 else None, unit)


def _derived(result: Any, geometry: Any) -> tuple[list[str], list[tuple[str, ...]], list[str]]:
    """The quantities' names, the rows by role (role, then a text per quantity; an
    undetermined resistance marked), and the quantities' units: resistances, C_eff, apex
    frequency, and σ or ASR with a geometry."""
    arcs = {a.role: a for a in result.arcs}
    extra: dict[str, Any] = {}
    head = [("R", "Ohm"), ("C_eff", "F"), ("f_apex", "Hz")]
    mark = f" {UNDETERMINED_MARK}"
    if geometry is not None:
        if getattr(geometry, "has_thickness", True):
            extra, column = result.conductivity(geometry), ("σ", "S/cm")
        else:
            extra, column = result.asr(geometry), ("ASR", "Ohm cm2")
        head.append(column)
    roles = list(result.resistances) + [r for r in arcs if r not in result.resistances]
    rows = []
    for role in roles:
        r = result.resistances.get(role)
        err = result.resistance_stderr.get(role)
        r_text = "–" if r is None else value_error(r, err if err else None)
        if r is not None and r_text != NOT_DETERMINED and not determined(r, err):
            r_text += mark
        arc = arcs.get(role)
        cells = [r_text,
                 _ufloat_text(arc.capacitance if arc else None),
                 _ufloat_text(arc.apex_hz if arc else None)]
        if geometry is not None:
            cells.append(_ufloat_text(extra.get(role)))
        rows.append((_pretty(role), *cells))
    return [q for q, _ in head], rows, [u for _, u in head]


def _summary_parts(result: Any) -> tuple[str, str, str]:
    """The circuit string, its name (or ''), and 'N points, X weighting'."""
    name = result.circuit_name or ""
    return str(result.circuit), name, f"{result.n_points} points, {result.weighting} weighting"


# --------------------------------------------------------------------------- Markdown
def _md_unit(unit: str) -> str:
    u = unit_text(unit)
    return f"({u})" if "/" in u else u


def _md_cell(text: str) -> str:
    return str(text).replace("|", r"\|")


def _md_table(head: list[str], rows: list[list[str]], align: str) -> str:
    """A Markdown table; ``align`` holds ``l`` or ``r`` for each column."""
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |",
             "|" + "|".join(":--" if a == "l" else "--:" for a in align) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(result: Any, geometry: Any = None) -> str:
    """The fit as Markdown: circuit and χ², a parameter table, a table of derived quantities.

    Parameters
    ----------
    result
        An :class:`eisfit.FitResult`.
    geometry
        An :class:`eisfit.Geometry`: adds the conductivity (S/cm) of each role, or with an
        area alone the area-specific resistance (Ω cm²).

    Returns
    -------
    str
        GitHub-flavoured Markdown; values ± standard errors in Unicode (``(1.81 ± 0.11)×10⁻¹¹``).
    """
    circuit, name, points = _summary_parts(result)
    out = [f"**Circuit:** `{circuit}`" + (f" ({name})" if name else "") + "  ",
           f"**Reduced χ²:** {value_error(result.chi_square, digits=3)} ({points})", ""]
    rows, undetermined = [], False
    for pname, role, text, unit, known in _records(result):
        undetermined |= not known
        rows.append([f"`{pname}`", role or "–",
                     text + ("" if known else f" {UNDETERMINED_MARK}"), unit_text(unit) or "–"])
    out.append(_md_table(["Parameter", "Role", "Value ± standard error", "Unit"], rows,
                         "llrl"))
    if undetermined:
        out += ["", f"{UNDETERMINED_MARK} not determined by the data (standard error above "
                "the value)."]
    head, drows, units = _derived(result, geometry)
    names = ["Role"] + [f"{h} / {_md_unit(u)}" for h, u in zip(head, units, strict=True)]
    out += ["", _md_table(names, [list(r) for r in drows], "l" + "r" * len(head))]
    if geometry is not None:
        out += ["", f"Geometry: {geometry}."]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- LaTeX
_QUANTITY_TEX = {"R": "$R$", "C_eff": r"$C_\mathrm{eff}$", "f_apex": r"$f_\mathrm{apex}$",
                 "σ": r"$\sigma$", "ASR": "ASR"}


def _tex_value(text: str) -> str:
    """A value cell: ``\\num{...}``, keeping a ``(fixed)`` note or ``†`` after it."""
    if text in ("–", "-"):
        return "--"
    if text.endswith(f" {UNDETERMINED_MARK}"):
        return _tex_value(text.removesuffix(f" {UNDETERMINED_MARK}")) + r"$^\dagger$"
    if text.endswith(" (fixed)"):
        return siunitx_number(text.removesuffix(" (fixed)")) + " (fixed)"
    return siunitx_number(text)


def _tex_table(spec: str, head: list[str], rows: list[list[str]], caption: str,
               label: str | None) -> str:
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small", rf"\caption{{{caption}}}"]
    if label:
        lines.append(rf"\label{{{latex_escape(label)}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(head) + r" \\",
              r"\midrule"]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


def to_latex(
    result: Any, geometry: Any = None, *, label: str | None = None, document: bool = False
) -> str:
    """The fit as LaTeX tables (``booktabs``, numbers and units by ``siunitx``).

    Parameters
    ----------
    result
        An :class:`eisfit.FitResult`.
    geometry
        An :class:`eisfit.Geometry`: adds the conductivity (S/cm) of each role, or with an
        area alone the area-specific resistance (Ω cm²).
    label
        Prefix of the tables' ``\\label``s (``label:parameters``, ``label:derived``).
    document
        Write a whole ``article`` document (with ``booktabs`` and ``siunitx``) instead of the
        two ``table`` environments.

    Returns
    -------
    str
        The LaTeX source; every text cell escaped.
    """
    circuit, name, points = _summary_parts(result)
    chi = siunitx_number(value_error(result.chi_square, digits=3))
    what = rf"\texttt{{{latex_escape(circuit)}}}" + (f" ({latex_escape(name)})" if name else "")
    caption = (f"Fit parameters of {what}; reduced $\\chi^2$ = {chi} "
               f"({latex_escape(points)}). Values $\\pm$ standard errors.")
    rows, undetermined = [], False
    for pname, role, text, unit, known in _records(result):
        undetermined |= not known
        mark = "" if known else r"$^\dagger$"
        rows.append([rf"\texttt{{{latex_escape(pname)}}}", latex_escape(role) or "--",
                     _tex_value(text) + mark, siunitx_unit(unit)])
    if undetermined:
        caption += r" $^\dagger$Not determined by the data (standard error above the value)."
    parts = [_tex_table("llrl", ["Parameter", "Role", "Value", "Unit"], rows, caption,
                        f"{label}:parameters" if label else None)]
    head, drows, units = _derived(result, geometry)
    tex_head = ["Role"] + [f"{_QUANTITY_TEX[h]} / {siunitx_unit(u)}"
                           for h, u in zip(head, units, strict=True)]
    tex_rows = [[latex_escape(r[0])] + [_tex_value(c) for c in r[1:]] for r in drows]
    dcap = f"Quantities derived from the fit of {what}, by role."
    if any(c.endswith(UNDETERMINED_MARK) for r in drows for c in r):
        dcap += r" $^\dagger$Not determined by the data."
    if geometry is not None:
        dcap += f" Geometry: {latex_escape(geometry)}."
    parts.append(_tex_table("l" + "r" * (len(tex_head) - 1), tex_head, tex_rows, dcap,
                            f"{label}:derived" if label else None))
    body = "\n\n".join(parts) + "\n"
    if not document:
        return body
    return ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
            "\\usepackage[margin=2cm]{geometry}\n\\usepackage{booktabs}\n"
            "\\usepackage{siunitx}\n\\sisetup{separate-uncertainty=true}\n"
            "\\begin{document}\n\n" + body + "\n\\end{document}\n")
