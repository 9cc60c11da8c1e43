"""The checks of a fit that depend on the cell: each arc's effective capacitance judged against its
role's range, in the given geometry or the circuit's reference cell, and extra warning lines.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from eisfit.findings import Finding, as_finding
from eisfit.fitting.result import FitResult


def capacitance_warnings(result: FitResult, geometry: Any = None) -> list[Finding]:
    """Arcs whose effective capacitance is outside the range expected for their role.

    One rule with or without geometry (:mod:`eisfit.model.capacitance`): the named circuit's ranges,
    per unit cell constant for geometric roles (bulk, grain boundary, electrolyte) and per unit
    area for interfacial ones (electrode, interfaces), are turned into farads for the cell: the
    given geometry, else the circuit's reference cell (a pellet 1 mm thick with 10 mm
    electrodes), as in the fit's own warnings. A geometry without a thickness judges the
    interfacial roles per area and the geometric ones in the reference cell.

    Parameters
    ----------
    result
        A fit of a named circuit (circuit strings have no roles: no warnings).
    geometry
        Optional :class:`eisfit.Geometry`.

    Returns
    -------
    list of Finding
        Code ``capacitance_range``, e.g.
        ``"grain_boundary capacitance 7.2e-11 F (4.1e-12 F/cm per cell constant 0.0565
        cm^-1) is outside the range expected for grain_boundary (1e-11-1e-08 F/cm) and in the
        bulk range: the arc may be the bulk"``.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> from eisfit.model.synthetic import blocking_cell
    >>> r = eisfit.fit(blocking_cell(np.random.default_rng(1)).spectrum, "blocking")
    >>> capacitance_warnings(r, eisfit.Geometry(thickness="1 mm", area="1 cm2"))
    []
    """
    from eisfit.model.capacitance import verdicts, warning_text

    return [
        warning_text(result.named, v, geometry)
        for v in verdicts(result.named, result.capacitances, geometry)
    ]


def with_geometry(result: FitResult, geometry: Any) -> FitResult:
    """The same fit with its capacitance warnings judged per cell constant.

    Parameters
    ----------
    result
        A fit.
    geometry
        An :class:`eisfit.Geometry`; None returns ``result`` unchanged.

    Returns
    -------
    FitResult
        A copy whose capacitance warnings (code ``capacitance_range``) are those of
        :func:`capacitance_warnings` with the geometry; every other warning is kept in place.
    """
    if geometry is None:
        return result
    kept = [w for w in result.warnings if as_finding(w).code != "capacitance_range"]
    new = capacitance_warnings(result, geometry)
    return dataclasses.replace(result, warnings=tuple(dict.fromkeys([*kept, *new])))


def with_warnings(result: FitResult, extra: Sequence[str | None]) -> FitResult:
    """The same fit with more warning lines (None entries and repeats are skipped)."""
    lines = [w for w in dict.fromkeys(extra) if w and w not in result.warnings]
    if not lines:
        return result
    return dataclasses.replace(result, warnings=(*result.warnings, *lines))


def _names(items: Sequence[str]) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _fallback_chain(findings: list[Finding]) -> list[Finding]:
    """Consecutive fallbacks (``blocking`` → ``blocking-single`` → ``blocking-spike``) as one
    line: the model fitted in the end and why, then the steps before it."""
    out: list[Finding] = []
    for f in findings:
        if f.code == "fallback" and out and out[-1].code == "fallback":
            before = out[-1].message.removeprefix("model: ")
            out[-1] = f.with_message(f"{f.message}; before that, {before}")
        else:
            out.append(f)
    return out


def _hidden_parts(result: FitResult, role: str | None) -> tuple[set[str], set[str]]:
    """(the parameters summed into ``role``'s resistance, the parameters of the arcs among
    them other than their resistances) of a fit."""
    names = result.circuit.parameter_names
    indices = set(result.role_terms.get(role, ((), 0.0))[0]) if role else set()
    parts = {names[i] for i in indices}
    arc_parameters: set[str] = set()
    for arc in result.circuit.structure.arcs:
        if indices & set(arc.indices):
            arc_parameters |= {names[i] for i in arc.indices} - parts
    return parts, arc_parameters


def _fold_into_hidden(result: FitResult, findings: list[Finding]) -> list[Finding]:
    """Each ``hidden_arc`` note takes in the findings it explains: the correlations between the
    parts of the intercept, and those parts left undetermined (the data determine them only as
    their sum), and the undetermined other parameters of the arc above the window."""
    for note in [f for f in findings if f.code == "hidden_arc"]:
        parts, arc = _hidden_parts(result, note.role)
        summed = parts if len(parts) > 1 else set()

        def explained(f: Finding, summed: set[str] = summed, arc: set[str] = arc) -> bool:
            named = set(f.parameters)
            if not named:
                return False
            if f.code == "correlated":
                return named <= summed
            return f.code == "not_determined" and named <= summed | arc

        folded = {p for f in findings if explained(f) for p in f.parameters}
        if not folded:
            continue
        text = note.message
        if folded & summed:
            text += f"; {_names(sorted(parts))}, its parts, are determined only as their sum"
        if folded & arc:
            verb = "is" if len(folded & arc) == 1 else "are"
            text += f"; the arc's {_names(sorted(folded & arc))} {verb} not determined by the data"
        findings = [note.with_message(text) if f is note else f
                    for f in findings if not explained(f)]
    return findings


def _merge_undetermined(findings: list[Finding]) -> list[Finding]:
    """The undetermined parameters of one role as one line, with the correlations between
    them folded in."""
    groups: dict[str | None, list[Finding]] = {}
    for f in findings:
        if f.code == "not_determined":
            groups.setdefault(f.role, []).append(f)
    out: list[Finding] = []
    for f in findings:
        if f.code == "not_determined":
            group = groups.get(f.role)
            if group is None:  # already merged into the group's first line
                continue
            del groups[f.role]
            out.append(_merged(group, findings))
        else:
            out.append(f)
    inside = [set(f.parameters) for f in out if f.code == "not_determined"]
    return [f for f in out if not (f.code == "correlated" and any(
        set(f.parameters) <= s and len(s) > 1 for s in inside))]


def _merged(group: list[Finding], findings: list[Finding]) -> Finding:
    """One ``not_determined`` finding for the parameters of ``group``, with the correlations
    among them."""
    if len(group) == 1:
        return group[0]
    names = [p for f in group for p in f.parameters]
    pairs = [f for f in findings if f.code == "correlated" and set(f.parameters) <= set(names)]
    text = f"{_names(names)} are not determined by the data (standard error above 100 %)"
    for f in pairs:
        corr = f.numbers.get("correlation", 0.0)
        text += f"; {_names(list(f.parameters))} are correlated ({corr:+.3f})"
    numbers = {f"{key}_{p}": v for f in group for p in f.parameters
               for key, v in f.numbers.items()}
    return Finding(text, "not_determined", role=group[0].role,
                   severity=group[0].severity, numbers=numbers, parameters=names)


def grouped(result: FitResult) -> FitResult:
    """The fit with one warning line per finding: consecutive fallbacks as one line, the
    undetermined parts of an arc above the window folded into its note, and the undetermined
    parameters of one role as one line with the correlations between them.

    Every path (``eisfit.fit``, ``fit_stack``, ``fit_many``, ``fit_series``, ``eisfit fit`` and
    ``eisfit batch``) applies it through :meth:`eisfit.FitSpec.record`.
    """
    findings = _fallback_chain(list(result.findings))
    findings = _fold_into_hidden(result, findings)
    findings = _merge_undetermined(findings)
    if [f.message for f in findings] == [f.message for f in result.findings]:
        return result
    return dataclasses.replace(result, warnings=tuple(findings))
