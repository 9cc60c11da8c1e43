"""Is the model justified? Model comparison, automatic circuit choice and fit-side checks.

* :func:`compare` fits several circuits to one spectrum and ranks them by the Bayesian
  information criterion (BIC), showing AIC and the reduced χ² beside it, and says whether each
  extra arc is justified: by ΔBIC and by Boukamp's rule of thumb (χ² must fall by an order of
  magnitude).
* :func:`auto_circuit` runs that comparison over the named circuits of one cell type
  (``eisfit fit --circuit auto --cell blocking``).
* :func:`fit_auto` returns that choice as a FitResult whose first warning line says what was
  chosen and why (the ``fit(spectrum, "auto")`` path).
* :func:`kk_warning` turns a failed Kramers–Kronig check into a warning line for a fit.
* :func:`capacitance_warnings` and :func:`with_geometry` check each arc's effective capacitance
  against the range expected for its role (:mod:`eisfit.model.capacitance`), in the cell when the
  geometry is known.

How the choice is made
----------------------
BIC = N ln(χ²_w / N) + p ln N (N = 2 × points, p = free parameters) rewards a better fit and
charges ln N ≈ 5 per parameter, so an arc (three parameters) must lower N ln χ²_w by about 15.
Candidates within :data:`BIC_MARGIN` of the lowest BIC count as equally supported; among them
the one with the fewest free parameters is chosen, then the one whose arcs' capacitances lie in
the ranges expected for their roles, then the simpler named circuit. Two candidates can end up
as the same model: ``fit(..., "blocking")`` on a one-arc spectrum drops the bulk arc (it is not
in the window) and fits ``R0-p(R2,CPE2)-CPE3``, which is ``blocking-single`` with the arc
called grain boundary. Their BIC is then equal and the capacitance decides what the arc is.

Boukamp's rule is reported, not used to choose: with 0.5 % noise over 60-80 points a χ² that
falls only 3× is already decisive (ΔBIC of −100 and more), and the rule would reject the bulk
arc of a pellet whose bulk arc lies partly above the window.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eisfit.analysis.kk import kk_warning
from eisfit.exceptions import EisfitError, FitError
from eisfit.findings import Finding
from eisfit.fitting.checks import capacitance_warnings, with_geometry, with_warnings
from eisfit.output import json_float as _json

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from eisfit.fitting.result import FitResult
    from eisfit.io.spectrum import Spectrum
    from eisfit.model.circuit import Circuit
    from eisfit.model.named import NamedCircuit

__all__ = [
    "BIC_MARGIN",
    "BOUKAMP_FACTOR",
    "CELLS",
    "Candidate",
    "Comparison",
    "auto_circuit",
    "cell_family",
    "compare",
    "fit_auto",
]

#: Candidates whose BIC is within this of the lowest are equally supported (Kass & Raftery:
#: a difference below 2 is "not worth more than a bare mention").
BIC_MARGIN = 2.0
#: Boukamp's rule of thumb: an extra element is justified when χ² falls by this factor.
BOUKAMP_FACTOR = 10.0
#: The cell types of ``--cell``.
CELLS = ("blocking", "li-symmetric", "full-cell")


# --------------------------------------------------------------------------- candidates
@dataclass(frozen=True, eq=False)
class Candidate:
    """One circuit of a comparison.

    Attributes
    ----------
    label
        The name or circuit string it was given as.
    result
        Its :class:`~eisfit.fitting.result.FitResult`, or None when the fit failed.
    error
        The one-line reason the fit failed, else None.
    capacitance_conflicts
        Arcs whose effective capacitance lies outside the range expected for their role.
    full_parameters
        Parameters of the circuit as named (before any arc above the window was dropped).
    """

    label: str
    result: FitResult | None
    error: str | None = None
    capacitance_conflicts: int = 0
    full_parameters: int = 0

    @property
    def ok(self) -> bool:
        """True when the fit produced a result."""
        return self.result is not None

    @property
    def fitted_circuit(self) -> str:
        """The circuit actually fitted (the reduced one when an arc was dropped)."""
        return str(self.result.circuit) if self.result is not None else ""

    @property
    def structure(self) -> str:
        """The fitted circuit with element numbers removed (``R-p(R,CPE)-CPE``)."""
        return re.sub(r"(?<=[A-Za-z])\d+", "", self.fitted_circuit)

    @property
    def reduced(self) -> bool:
        """True when the fit dropped an arc lying above the window, or counted it into the
        high-frequency intercept."""
        r = self.result
        if r is None or r.named is None:
            return False
        # both hidden-arc treatments of fitting.py keep the role and clear the fallback circuit
        return r.named.hidden_role is not None and r.named.hidden_circuit is None

    @property
    def treatment(self) -> str:
        """How an arc above the window was handled: ``""``, ``"<role> arc dropped"`` (the
        reduced circuit was fitted) or ``"<role> arc above the window"`` (kept, its
        resistance counted into the high-frequency intercept)."""
        if not self.reduced:
            return ""
        r = self.result
        role = r.named.hidden_role
        if str(r.circuit) != _circuit_of(self.label, r):
            return f"{role} arc dropped"
        return f"{role} arc above the window"

    @property
    def n_free(self) -> int:
        """Free parameters of the fitted circuit."""
        return self.result.n_free if self.result is not None else 0

    def _stat(self, name: str) -> float:
        return float(getattr(self.result, name)) if self.result is not None else math.nan

    @property
    def chi_square(self) -> float:
        """Reduced χ² (weighted)."""
        return self._stat("chi_square")

    @property
    def aic(self) -> float:
        """Akaike information criterion."""
        return self._stat("aic")

    @property
    def bic(self) -> float:
        """Bayesian information criterion."""
        return self._stat("bic")


def _circuit_of(label: str, result: FitResult) -> str:
    from eisfit.model.named import named_circuits

    nc = named_circuits().get(label)
    return nc.circuit if nc is not None else str(result.circuit)


def _label(circuit: Any) -> str:
    name = getattr(circuit, "name", None)
    if isinstance(name, str):
        return name
    return str(circuit)


def _full_parameters(circuit: Any) -> int:
    from eisfit.model.named import resolve

    try:
        circ, _ = resolve(circuit)
    except EisfitError:
        return 0
    return circ.n_params


def _conflicts(result: FitResult, geometry: Any = None) -> int:
    return len(capacitance_warnings(result, geometry))


def _order_key(c: Candidate) -> tuple[int, int, int]:
    """Simplicity order: fewest free parameters, fewest capacitance conflicts, simplest name."""
    return (c.n_free, c.capacitance_conflicts, c.full_parameters)


# --------------------------------------------------------------------------- comparison
@dataclass(frozen=True, eq=False)
class Comparison:
    """The outcome of :func:`compare`: candidates ranked by BIC, the choice and why.

    Attributes
    ----------
    candidates
        Every candidate, ranked by BIC (failed fits last).
    chosen
        Index into ``candidates`` of the chosen one.
    reasons
        Sentences: why the choice, and for each more complex candidate whether its extra
        parameters are justified (ΔBIC and Boukamp's χ² rule).
    cell
        The cell type when made by :func:`auto_circuit`, else None.
    margin
        The BIC margin used (see :data:`BIC_MARGIN`).
    """

    candidates: tuple[Candidate, ...]
    chosen: int
    reasons: tuple[str, ...]
    cell: str | None = None
    margin: float = BIC_MARGIN
    geometry: Any = field(default=None, repr=False)

    @property
    def best_candidate(self) -> Candidate:
        """The chosen :class:`Candidate`."""
        return self.candidates[self.chosen]

    @property
    def best(self) -> FitResult:
        """The chosen fit."""
        r = self.best_candidate.result
        if r is None:  # pragma: no cover - a failed candidate is never chosen
            raise FitError("no candidate circuit could be fitted")
        return r

    @property
    def best_name(self) -> str:
        """The chosen circuit's name (or string)."""
        return self.best_candidate.label

    @property
    def choice(self) -> str:
        """One sentence: what was chosen and why."""
        return self.reasons[0]

    def _min_bic(self) -> float:
        return min(c.bic for c in self.candidates if c.ok)

    def _min_aic(self) -> float:
        return min(c.aic for c in self.candidates if c.ok)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per candidate, ranked (JSON-safe)."""
        b0, a0 = self._min_bic(), self._min_aic()
        out = []
        for i, c in enumerate(self.candidates):
            row: dict[str, Any] = {
                "rank": i + 1,
                "circuit": c.label,
                "fitted": c.fitted_circuit or None,
                "reduced": c.reduced,
                "treatment": c.treatment or None,
                "n_free": c.n_free if c.ok else None,
                "chi_square": _json(c.chi_square),
                "aic": _json(c.aic),
                "bic": _json(c.bic),
                "delta_aic": _json(c.aic - a0),
                "delta_bic": _json(c.bic - b0),
                "capacitance_conflicts": c.capacitance_conflicts if c.ok else None,
                "chosen": i == self.chosen,
                "error": c.error,
            }
            out.append(row)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The ranking as a pandas DataFrame indexed by circuit."""
        import pandas as pd

        return pd.DataFrame(self.rows()).set_index("circuit")

    def table(self) -> str:
        """The ranking as a fixed-width text table (the chosen row marked ``*``)."""
        head = (
            f"  {'rank':<4} {'circuit':<18} {'fitted':<40} {'p':>2} {'chi2':>9} "
            f"{'AIC':>9} {'BIC':>9} {'dBIC':>7}"
        )
        lines = [head]
        for row in self.rows():
            mark = "*" if row["chosen"] else " "
            if row["error"]:
                lines.append(f"{mark} {row['rank']:<4} {row['circuit']:<18} failed: {row['error']}")
                continue
            fitted = row["fitted"] + (f" ({row['treatment']})" if row["treatment"] else "")
            lines.append(
                f"{mark} {row['rank']:<4} {row['circuit']:<18} {fitted:<40} {row['n_free']:>2} "
                f"{row['chi_square']:>9.3g} {row['aic']:>9.1f} {row['bic']:>9.1f} "
                f"{row['delta_bic']:>+7.1f}"
            )
        return "\n".join(lines)

    def report(self) -> str:
        """A plain-text report: the ranking table and the reasons."""
        src = self.best.spectrum.source or "-"
        lines = ["[[Model comparison]]", f"    source       = {src}"]
        if self.cell:
            lines.append(f"    cell         = {self.cell}")
        lines.append(f"    chosen       = {self.best_name}")
        lines.append("[[Ranking]] (by BIC; chi2 reduced; p free parameters)")
        lines.extend("  " + t for t in self.table().splitlines())
        lines.append("[[Why]]")
        lines.extend(f"    - {r}" for r in self.reasons)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: the choice, the reasons and the ranked candidates."""
        return {
            "cell": self.cell,
            "chosen": self.best_name,
            "chosen_circuit": str(self.best.circuit),
            "reason": self.choice,
            "reasons": list(self.reasons),
            "criterion": "BIC",
            "bic_margin": self.margin,
            "boukamp_factor": BOUKAMP_FACTOR,
            "candidates": self.rows(),
        }

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        names = ", ".join(c.label for c in self.candidates)
        return f"<Comparison of {names}: chosen {self.best_name}>"

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{h}</th>"
            for h in ("rank", "circuit", "fitted", "p", "χ²", "AIC", "BIC", "ΔBIC")
        )
        body = []
        for row in self.rows():
            style = ' style="font-weight:bold"' if row["chosen"] else ""
            if row["error"]:
                cells = [str(row["rank"]), row["circuit"], "failed: " + row["error"]]
                cells += [""] * 5
            else:
                cells = [
                    str(row["rank"]),
                    row["circuit"],
                    row["fitted"] + (f" ({row['treatment']})" if row["treatment"] else ""),
                    str(row["n_free"]),
                    f"{row['chi_square']:.3g}",
                    f"{row['aic']:.1f}",
                    f"{row['bic']:.1f}",
                    f"{row['delta_bic']:+.1f}",
                ]
            body.append(
                f"<tr{style}>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>"
            )
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.reasons)
        return (
            f"<div><strong>Comparison</strong>: chosen {html.escape(self.best_name)}"
            f"<table><tr>{head}</tr>{''.join(body)}</table><ul>{reasons}</ul>"
            f"<details><summary>text</summary><pre>{html.escape(self.report())}</pre>"
            "</details></div>"
        )


def _justification(simple: Candidate, complex_: Candidate) -> str:
    """Is ``complex_`` (more free parameters) justified over ``simple``? One sentence."""
    d_bic = complex_.bic - simple.bic
    ratio = simple.chi_square / complex_.chi_square if complex_.chi_square > 0 else math.inf
    extra = complex_.n_free - simple.n_free
    boukamp = ratio >= BOUKAMP_FACTOR
    by_bic = d_bic < -BIC_MARGIN
    verdict = "justified" if by_bic else "not justified"
    fell = f"chi2 fell {ratio:.3g}x" if ratio >= 1 else f"chi2 did not fall ({ratio:.3g}x)"
    text = (
        f"{complex_.label} ({extra} more free parameters than {simple.label}) is {verdict}: "
        f"ΔBIC = {d_bic:+.1f}, {fell}"
    )
    if boukamp == by_bic:
        text += f" ({'meets' if boukamp else 'fails'} Boukamp's {BOUKAMP_FACTOR:g}x rule)"
    elif by_bic:
        text += (
            f" (less than Boukamp's {BOUKAMP_FACTOR:g}x rule of thumb, but over "
            f"{2 * simple.result.n_points} residuals the BIC difference is decisive)"
        )
    else:
        text += f" (Boukamp's {BOUKAMP_FACTOR:g}x rule is met, but BIC charges the extra terms)"
    return text


def _same_model_note(a: Candidate, b: Candidate) -> str:
    return (
        f"{a.label} and {b.label} fit the same model ({a.fitted_circuit} and "
        f"{b.fitted_circuit}); they differ only in what the arcs are called, and the arcs' "
        "capacitances decide"
    )


def _choose(cands: list[Candidate], margin: float) -> tuple[Candidate, list[str]]:
    ok = [c for c in cands if c.ok]
    b0 = min(c.bic for c in ok)
    supported = [c for c in ok if c.bic <= b0 + margin]
    best = min(supported, key=_order_key)
    lowest = min(ok, key=lambda c: c.bic)
    reasons = []
    why = f"{best.label} chosen"
    if best is lowest or best.bic == lowest.bic:
        why += " (lowest BIC"
    else:
        why += (
            f" (BIC within {margin:g} of the lowest, {lowest.label}'s, with "
            f"{'fewer parameters' if best.n_free < lowest.n_free else 'plausible capacitances'}"
        )
    if best.reduced:
        why += f"; {best.treatment}: {best.fitted_circuit}"
    why += ")"
    twins = [c for c in supported if c is not best and c.structure == best.structure]
    if twins and best.capacitance_conflicts < twins[0].capacitance_conflicts:
        why += f": its arcs' capacitances fit their roles, {twins[0].label}'s do not"
    reasons.append(why)
    for c in sorted(ok, key=_order_key):
        if c is best:
            continue
        if c.structure == best.structure:
            reasons.append(_same_model_note(best, c))
        elif c.n_free > best.n_free:
            reasons.append(_justification(best, c))
        elif c.n_free < best.n_free:
            reasons.append(_justification(c, best))
    for c in cands:
        if not c.ok:
            reasons.append(f"{c.label} could not be fitted: {c.error}")
    return best, reasons


def compare(
    spectrum: Spectrum,
    circuits: Sequence[str | Circuit | NamedCircuit],
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    geometry: Any = None,
    margin: float = BIC_MARGIN,
) -> Comparison:
    """Fit several circuits to one spectrum, rank them by BIC and say which is justified.

    Parameters
    ----------
    spectrum
        The measured spectrum.
    circuits
        Two or more named circuits (``"blocking-single"``) or circuit strings.
    weighting
        ``"modulus"`` (default), ``"proportional"`` or ``"unit"``, as for :func:`eisfit.fit`.
    external_resistance
        Cables and cell hardware in Ohm, as for :func:`eisfit.fit`.
    geometry
        Optional :class:`eisfit.Geometry`: capacitances are then judged per cell constant.
    margin
        BIC difference below which two candidates are equally supported (default
        :data:`BIC_MARGIN`); the simpler of them is chosen.

    Returns
    -------
    Comparison
        ``best`` (the chosen FitResult), ``table()``, ``report()``, ``to_dict()``,
        ``to_frame()``.

    Raises
    ------
    EisfitError
        If fewer than one circuit is given, or no circuit can be fitted.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> from eisfit.fitting.comparison import compare
    >>> from eisfit.model.synthetic import blocking_cell
    >>> s = blocking_cell(np.random.default_rng(1)).spectrum
    >>> compare(s, ["blocking-single", "blocking"]).best_name
    'blocking'
    """
    from eisfit.fitting.circuit_fit import fit_circuit
    from eisfit.fitting.spec import FitSpec

    if isinstance(circuits, str) or not isinstance(circuits, Sequence) or not circuits:
        raise EisfitError(
            "compare needs a list of circuits, e.g. ['blocking-single', 'blocking']"
        )
    if not margin >= 0:
        raise EisfitError(f"margin must be >= 0 (a BIC difference), got {margin}")
    # one spectrum: its Kramers-Kronig check is not the candidates' job
    kwargs: dict[str, Any] = {
        "weighting": weighting, "external_resistance": external_resistance, "kk": False
    }
    cands: list[Candidate] = []
    for circuit in circuits:
        label = _label(circuit)
        try:
            r = FitSpec(circuit, **kwargs).record(fit_circuit(spectrum, circuit, **kwargs))
        except EisfitError as exc:  # this candidate cannot be fitted; the others may be
            cands.append(Candidate(label, None, error=str(exc)))
            continue
        cands.append(
            Candidate(
                label,
                r,
                capacitance_conflicts=_conflicts(r, geometry),
                full_parameters=_full_parameters(circuit),
            )
        )
    if not any(c.ok for c in cands):
        raise FitError(
            "no candidate circuit could be fitted: "
            + "; ".join(f"{c.label}: {c.error}" for c in cands)
        )
    best, reasons = _choose(cands, margin)
    ranked = sorted(cands, key=lambda c: (not c.ok, c.bic if c.ok else 0.0, _order_key(c)))
    return Comparison(
        tuple(ranked), ranked.index(best), tuple(reasons), margin=margin, geometry=geometry
    )


def cell_family(cell: str) -> list[str]:
    """The named circuits ``--circuit auto`` chooses among for a cell type, simplest first.

    Named circuits are grouped by their ``cell`` key; a circuit whose string repeats a
    family member's under another name (``thin-film`` is ``blocking-single``'s circuit with
    thin-film capacitances) is left out, as is any whose name does not start with the cell
    type when another with the same circuit does.

    Parameters
    ----------
    cell
        ``"blocking"``, ``"li-symmetric"`` or ``"full-cell"``.

    Returns
    -------
    list of str

    Raises
    ------
    EisfitError
        For an unknown cell type.

    Examples
    --------
    >>> cell_family("blocking")
    ['blocking-spike', 'blocking-single', 'blocking']
    """
    from eisfit.model.named import named_circuits

    if cell not in CELLS:
        raise EisfitError(f"--cell must be one of {', '.join(CELLS)}, got {cell!r}")
    members = [nc for nc in named_circuits().values() if nc.cell == cell]
    by_circuit: dict[str, Any] = {}
    for nc in members:
        kept = by_circuit.get(nc.circuit)
        if kept is None or (nc.name.startswith(cell) and not kept.name.startswith(cell)):
            by_circuit[nc.circuit] = nc
    chosen = sorted(by_circuit.values(), key=lambda nc: (nc.parsed.n_params, nc.name))
    return [nc.name for nc in chosen]


def auto_circuit(
    spectrum: Spectrum,
    cell: str = "blocking",
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    geometry: Any = None,
) -> Comparison:
    """Choose the named circuit of a cell type that the spectrum justifies.

    Fits every circuit of :func:`cell_family` and chooses by :func:`compare`'s rule. The
    chosen fit is ``.best``; ``.choice`` says what was chosen and why, ``.to_dict()`` is the
    command line's ``model_choice`` object.

    Parameters
    ----------
    spectrum
        The measured spectrum.
    cell
        ``"blocking"`` (default; blocking-spike, blocking-single, blocking), ``"li-symmetric"``
        or ``"full-cell"``.
    weighting, external_resistance, geometry
        As for :func:`compare`.

    Returns
    -------
    Comparison

    Raises
    ------
    EisfitError
        For an unknown cell type, or when no circuit of the family can be fitted.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> from eisfit.model.synthetic import blocking_cell
    >>> s = blocking_cell(np.random.default_rng(1)).spectrum
    >>> auto_circuit(s, "blocking").best.circuit_name
    'blocking'
    """
    family = cell_family(cell)
    comp = compare(
        spectrum,
        family,
        weighting=weighting,
        external_resistance=external_resistance,
        geometry=geometry,
    )
    reasons = list(comp.reasons)
    if len(family) == 1:
        reasons.append(
            f"{family[0]} is the only named circuit for {cell} cells; its fit drops an arc "
            "that lies above the measured window by itself"
        )
    return dataclasses.replace(comp, cell=cell, reasons=tuple(reasons))


def fit_auto(
    spectrum: Spectrum,
    cell: str = "blocking",
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    geometry: Any = None,
    kk: bool = True,
) -> FitResult:
    """Fit the named circuit of ``cell`` that the spectrum justifies (``fit(s, "auto")``).

    Parameters
    ----------
    spectrum
        The measured spectrum.
    cell
        ``"blocking"`` (default), ``"li-symmetric"`` or ``"full-cell"``.
    weighting, external_resistance, geometry
        As for :func:`compare`.
    kk
        Run the Kramers-Kronig check and add :func:`kk_warning`'s line when it fails.

    Returns
    -------
    FitResult
        The chosen fit; its warnings start with a ``model choice: ...`` line saying what was
        chosen among which circuits and why. For the full ranking use :func:`auto_circuit`.

    Examples
    --------
    >>> import numpy as np
    >>> from eisfit.model.synthetic import blocking_cell
    >>> r = fit_auto(blocking_cell(np.random.default_rng(1)).spectrum)
    >>> r.circuit_name, r.warnings[0].startswith("model choice: blocking chosen")
    ('blocking', True)
    """
    comp = auto_circuit(
        spectrum,
        cell,
        weighting=weighting,
        external_resistance=external_resistance,
        geometry=geometry,
    )
    names = ", ".join(c.label for c in comp.candidates)
    line = Finding(f"model choice: {comp.choice}; among {names} by BIC", "model_choice",
                   severity="note")
    result = comp.best
    result = dataclasses.replace(result, warnings=(line, *result.warnings))
    if kk:
        result = with_warnings(result, [kk_warning(spectrum)])
    return with_geometry(result, geometry)


# --------------------------------------------------------------------------- fit-side checks
