"""One circuit fitted to one spectrum: the options checked, starting values (automatic, given or
from a saved fit), constraints, the solve, the hidden-arc treatment and the fallbacks, and the
FitResult with its warnings.

:func:`eisfit.fit` calls :func:`fit_circuit` for any circuit but ``"auto"``, which it fits by
model choice (:mod:`eisfit.fitting.comparison`), itself fitting each candidate here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from eisfit.findings import Finding
from eisfit.fitting import guess
from eisfit.fitting.engine import (
    Problem,
    Solution,
)
from eisfit.fitting.result import FitResult, arc_tau, build_result
from eisfit.fitting.search import Search
from eisfit.fitting.solve import FAR_ABOVE, _check_starts, _run, prepare
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit, resolve

if TYPE_CHECKING:  # lmfit takes most of a second to import: only when it is used
    import lmfit


def fit_circuit(
    spectrum: Spectrum,
    circuit: str | Circuit | NamedCircuit,
    weighting: str = "modulus",
    params: lmfit.Parameters | None = None,
    fixed: Mapping[str, float] | None = None,
    external_resistance: float = 0.0,
    drop_inductive: bool = True,
    kk: bool = False,
    starts: Sequence[np.ndarray] | None = None,
    start_from: FitResult | None = None,
    constraints: Any = None,
) -> FitResult:
    """:func:`eisfit.fit` of a named circuit, circuit string or Circuit (not ``"auto"``); the
    arguments are :func:`eisfit.fit`'s."""
    circ, named = resolve(circuit)
    spec, notes = prepare(spectrum, circ, drop_inductive=drop_inductive, kk=kk)
    extra = _check_starts(starts, circ) + saved_starts(start_from, circ, named, spec)
    if constraints is not None or params is not None:
        from eisfit.fitting import constraints as cons

        parsed, params = cons.parse(circ, constraints, params)
        if parsed is not None:
            return cons.fit_constrained(
                spec, circ, named, weighting, parsed, params, fixed, extra,
                external_resistance, notes, spectrum,
            )
    problem, sol, search = _run(spec, circ, named, weighting, params, fixed, starts=extra)
    solved = FitDraft(
        spec, circ, named, weighting, problem, sol, external_resistance, notes, spectrum, search
    )
    return finish(solved, hidden=params is None)


def saved_starts(
    start_from: FitResult | None, circuit: Circuit, named: NamedCircuit | None, spectrum: Spectrum
) -> list[np.ndarray]:
    """The starting vectors a previous fit gives a fit of ``circuit`` to ``spectrum`` (none
    without one); :func:`fit` and :func:`eisfit.fit_stack` share it."""
    if start_from is None:
        return []
    from eisfit.fitting.saved import start_vectors

    return start_vectors(start_from, circuit, named, spectrum)


@dataclass
class FitDraft:
    """A solved fit of one circuit to one spectrum, before it becomes a FitResult.

    Attributes
    ----------
    spectrum
        The spectrum as fitted (inductive points dropped).
    circuit, named
        The circuit and its named definition (None for a circuit string).
    weighting
        The weighting used.
    problem, solution
        The solver's problem and solution.
    external_resistance
        Ohm, subtracted from a high-frequency intercept.
    notes
        Warnings gathered before the fit (Kramers–Kronig, dropped points).
    original
        The spectrum as given.
    search
        What the search beyond the automatic starts did (None for a fit from the user's
        starting values).
    """

    spectrum: Spectrum
    circuit: Circuit
    named: NamedCircuit | None
    weighting: str
    problem: Problem
    solution: Solution
    external_resistance: float
    notes: list[str]
    original: Spectrum
    search: Search | None = None

    def result(
        self, named: NamedCircuit | None = None, notes: list[str] | None = None
    ) -> FitResult:
        """The FitResult, optionally reported under another named variant or more notes."""
        return build_result(
            self.spectrum,
            self.circuit,
            self.named if named is None else named,
            self.weighting,
            self.problem,
            self.solution,
            self.external_resistance,
            [*(self.notes if notes is None else notes), *self._search_notes()],
            original=self.original,
            search=self.search,
        )

    def _search_notes(self) -> list[str]:
        return [] if self.search is None else self.search.warnings()


def finish(solved: FitDraft, *, hidden: bool = True) -> FitResult:
    """The FitResult of a solution, with the hidden-arc treatment of a named circuit and, where
    its arcs do not fit their roles, the named circuit's fallbacks (:func:`with_fallbacks`)."""
    result = solved.result()
    named = solved.named
    if hidden and named is not None and named.hidden_role:
        result = _hidden_treatment(result, solved)
    return with_fallbacks(result, solved) if hidden else result


def unfit_reason(result: FitResult, named: NamedCircuit) -> str | None:
    """Why the arcs of ``result`` do not fit the roles of ``named``, or None when they do.

    An arc with the effective capacitance of an electrode is never reported under another role
    (a "grain boundary" of 0.4 mF is the electrode's spike bending), and a circuit whose arcs
    all relax above the highest measured frequency, more than :data:`FAR_ABOVE` times above it
    or with a resistance the data do not determine, has none that the data show (a determined
    arc whose apex lies less far above bends the top of the window, and its fit stays).
    """
    for role, c in result.capacitances.items():
        if named.electrode_like(role, c):
            lo, hi = named.capacitance_F["electrode"]
            f_apex = result.apex_hz.get(role, float("nan"))
            return (
                f"the {role} arc's effective capacitance {c:.2g} F (apex {f_apex:.3g} Hz) is in "
                f"the electrode range ({lo:g}-{hi:g} F)"
            )
    f_hi = float(result.spectrum.frequency.max())
    apexes = _apexes(result)
    seen = [f <= f_hi or (f <= FAR_ABOVE * f_hi and sharp) for f, sharp in apexes]
    if not guess.structure(named.parsed).arcs or any(seen):
        return None
    # the apex of an arc the data do not determine is not quoted: it is wherever the solver
    # stopped along a flat valley
    return (
        f"no arc relaxes inside or near the measured window (highest frequency {f_hi:.3g} Hz"
        + ("; the fit's arcs lie above it" if apexes else "")
        + "): the high-frequency intercept is the electrolyte's resistance"
    )


def _apexes(result: FitResult) -> list[tuple[float, bool]]:
    """Apex frequency (Hz) of every R‖CPE arc of the fitted circuit, whatever its role (an arc
    counted into the intercept included), and whether the data determine its resistance to
    30 %."""
    records = list(result.records.values())
    values = [rec.value for rec in records]
    out = []
    for arc in guess.structure(result.circuit).arcs:
        if arc.kind == "rq":
            r, tau = arc_tau(values, arc.indices)
            err = records[arc.indices[0]].stderr
            sharp = err is not None and bool(np.isfinite(err)) and err < 0.3 * r
            out.append((1.0 / (2 * np.pi * tau), sharp))
    return out


def with_fallbacks(result: FitResult, solved: FitDraft) -> FitResult:
    """``result``, or, when its arcs do not fit their roles (:func:`unfit_reason`), the fit of
    the first of the named circuit's fallbacks (``blocking`` → ``blocking-single`` →
    ``blocking-spike``) to the same spectrum, which says which model was used and why."""
    named = solved.named
    if named is None or not named.fallbacks:
        return result
    reason = unfit_reason(result, named)
    if reason is None:
        return result
    from eisfit.model.named import named_circuits

    fallback = named_circuits()[named.fallbacks[0]]
    problem, sol, search = _run(
        solved.spectrum, fallback.parsed, fallback, solved.weighting, None, None
    )
    note = Finding(
        f"model: {fallback.name} fitted in place of {named.name}, since {reason}", "fallback",
        severity="note",
    )
    return finish(
        dataclasses.replace(
            solved,
            circuit=fallback.parsed,
            named=fallback,
            problem=problem,
            solution=sol,
            search=search,
            notes=[*solved.notes, note],
        )
    )


def _unresolved(result: FitResult) -> bool:
    """True when some arc is not determined: apex outside the window or R error over 30 %."""
    f_lo, f_hi = result.spectrum.frequency_range
    for role, f in result.apex_hz.items():
        r, e = result.resistances.get(role), result.resistance_stderr.get(role)
        if not f_lo <= f <= f_hi:
            return True
        if r and (e is None or not np.isfinite(e) or e > 0.3 * abs(r)):
            return True
    return False


def _hidden_treatment(result: FitResult, full: FitDraft) -> FitResult:
    """Report the hidden-role arc from the high-frequency intercept when it is not in the window.

    Two models compete when the full fit shows an arc it cannot place: the full circuit with the
    hidden-role arc counted into the intercept (right when that arc is partly visible at the top
    of the window) and the reduced circuit without it (right when it is wholly above). BIC
    decides between them and against the full fit when no arc sits above the window.
    """
    assert full.named is not None
    need = hidden_needed(result, full.named)
    if need is None:
        return result
    return hidden_choice(result, need, full, _reduced_fit(full))


def _reduced_fit(full: FitDraft) -> FitDraft:
    """The fit of the named circuit's hidden variant (no hidden-role arc) to the same spectrum,
    started from the full fit as well as from its own starting values."""
    assert full.named is not None
    hidden = full.named.hidden_variant()
    assert hidden is not None  # named.hidden_role implies a hidden circuit
    start = reduced_start(full.circuit, hidden.parsed, full.solution.params)
    p2, s2, search = _run(
        full.spectrum, hidden.parsed, hidden, full.weighting, None, None, [start]
    )
    return dataclasses.replace(
        full, circuit=hidden.parsed, named=hidden, problem=p2, solution=s2, search=search
    )


def hidden_needed(result: FitResult, named: NamedCircuit) -> tuple[bool, bool] | None:
    """Whether the hidden-role arc needs the reduced model: None, or (above, implausible).

    ``above``: the full fit puts the arc's apex above the highest frequency; ``implausible``:
    the arc given the hidden role has the capacitance of a slower process.
    """
    role = named.hidden_role
    f_hi = float(result.spectrum.frequency.max())
    above = role in result.apex_hz and result.apex_hz[role] > f_hi
    # an arc given the hidden role but with the capacitance of a slower process (a grain
    # boundary taken for the bulk) means the real hidden-role arc is above the window
    c_range = named.capacitance_F.get(role)
    implausible = bool(
        c_range and role in result.capacitances and result.capacitances[role] > c_range[1]
    )
    if not above and not implausible and not _unresolved(result):
        return None
    return above, implausible


def hidden_choice(
    result: FitResult, need: tuple[bool, bool], full: FitDraft, reduced: FitDraft
) -> FitResult:
    """Choose between the full fit (``result``, from ``full``) and the reduced fit."""
    above, implausible = need
    named = full.named
    assert named is not None and named.hidden_role
    role = named.hidden_role
    f_hi = float(full.spectrum.frequency.max())
    reduced_result = reduced.result()
    if not above and reduced_result.bic > result.bic:
        if not (implausible and reduced_result.chisqr < 2 * result.chisqr):
            return result
    f_apex = result.apex_hz.get(role, float("nan"))
    if f_apex > f_hi:
        why = f"the full fit puts its apex at {f_apex:.3g} Hz"
    elif implausible:
        why = (
            f"the arc the full fit gives the {role} role has the capacitance of a slower "
            f"process ({result.capacitances[role]:.2g} F, apex {f_apex:.3g} Hz)"
        )
    else:
        why = "the full fit cannot place it inside the window"
    note = Finding(
        f"the {role} arc relaxes above the highest measured frequency ({f_hi:.3g} Hz; {why}): "
        f"{role} resistance is the high-frequency intercept less the external resistance "
        f"({full.external_resistance:g} Ohm)",
        "hidden_arc", role=role, severity="note",
        numbers={"limit_Hz": f_hi, "apex_Hz": f_apex, "external_ohm": full.external_resistance},
    )
    if above and result.bic <= reduced_result.bic:
        intercept = full.result(named=named.intercept_variant(), notes=[*full.notes, note])
        return intercept  # its parts' findings are folded into the note by checks.grouped
    return reduced.result(notes=[*full.notes, note])


def reduced_start(full: Circuit, reduced: Circuit, p_full: np.ndarray) -> np.ndarray:
    """Start the reduced circuit from the full fit: shared names keep their values, and the
    series resistor takes the removed arc's resistance too."""
    names_full = full.parameter_names
    out = np.empty(reduced.n_params)
    removed = set(names_full) - set(reduced.parameter_names)
    r_removed = sum(
        p_full[names_full.index(n)] for n in removed if n.startswith("R") and "_" not in n
    )
    for i, n in enumerate(reduced.parameter_names):
        out[i] = p_full[names_full.index(n)]
    out[0] += r_removed
    return out
