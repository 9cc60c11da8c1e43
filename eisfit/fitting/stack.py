"""Fitting many spectra of one circuit at once.

:func:`fit_stack` gives each spectrum the starting vectors :func:`eisfit.fit` would, then runs
the starts of every spectrum as one stack through the batched Levenberg–Marquardt of
:func:`eisfit.fitting.engine.lm_batch`: the residuals of all candidates are stacked and the
Jacobian is
block-diagonal, so each candidate's step is its own small solve, but every circuit evaluation,
every residual and every solve is one vectorised call for the whole stack. The steps match
:func:`eisfit.fit` (scout every start, polish the best, converge the best, order the arcs, treat
an arc above the window), except that the last convergence is Levenberg–Marquardt run to a
tight tolerance instead of a trust-region solve per spectrum.

A spectrum's result does not depend on the other spectra in the stack: every candidate's steps
use its own data only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eisfit.blas import single_threaded_blas
from eisfit.exceptions import ArgumentError, FitError
from eisfit.fitting import guess
from eisfit.fitting.circuit_fit import (
    FitDraft,
    hidden_choice,
    hidden_needed,
    reduced_start,
    saved_starts,
    with_fallbacks,
)
from eisfit.fitting.engine import Problem, Solution
from eisfit.fitting.failures import Failure, label_of, one_line
from eisfit.fitting.result import FitResult
from eisfit.fitting.search import Search
from eisfit.fitting.solve import (
    FINISH_ITER,
    FINISH_TOL,
    FINISH_XTOL,
    best_minimum,
    converged,
    in_arc_order,
    make_problem,
    multistart,
    prepare,
)
from eisfit.fitting.spec import FitSpec
from eisfit.fitting.weighting import check_weighting
from eisfit.io.spectrum import Spectrum
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit, resolve

__all__ = ["fit_stack", "FINISH_ITER", "FINISH_TOL", "FINISH_XTOL"]


@dataclass
class _Item:
    index: int
    original: Spectrum
    spectrum: Spectrum
    notes: list[str]
    problem: Problem
    starts: list[np.ndarray]


def fit_stack(
    spectra: Iterable[Spectrum],
    circuit: str | Circuit | NamedCircuit = "blocking",
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    drop_inductive: bool = True,
    kk: bool = False,
    start_from: FitResult | None = None,
    geometry: Any = None,
    engine: str = "auto",
) -> list[FitResult | Failure]:
    """Fit one circuit to many spectra at once, with no starting values needed.

    Parameters
    ----------
    spectra
        The spectra. Spectra with the same number of points (after dropping inductive points)
        are stacked together; their frequencies may differ.
    circuit
        A named circuit or circuit string, as for :func:`eisfit.fit` (not ``"auto"``).
    weighting
        ``"modulus"`` (default), ``"proportional"`` or ``"unit"``.
    external_resistance
        Cables and cell hardware (Ohm), subtracted from a high-frequency intercept.
    drop_inductive
        Drop high-frequency points with Im(Z) > 0 when the circuit has no inductor.
    kk
        Run the Kramers–Kronig check on each spectrum and warn on those that fail it.
    start_from
        A previous fit whose values are one more start for every spectrum, as for
        :func:`eisfit.fit`.
    geometry
        The cells' :class:`~eisfit.Geometry`, as for :func:`eisfit.fit`.
    engine
        ``"auto"``, ``"compiled"`` or ``"numpy"``, as for :func:`eisfit.fit`.

    Returns
    -------
    list of FitResult or Failure
        One per spectrum, in the order given; a spectrum that cannot be fitted gives a
        :class:`~eisfit.fitting.batch.Failure` with a one-line reason.

    Raises
    ------
    EisfitError
        For a mistake common to the whole stack: an unknown circuit, a bad weighting or
        external resistance.

    Examples
    --------
    >>> import numpy as np
    >>> from eisfit.model.synthetic import blocking_cell
    >>> rng = np.random.default_rng(3)
    >>> truths = [blocking_cell(rng) for _ in range(4)]
    >>> results = fit_stack([t.spectrum for t in truths], "blocking")
    >>> [bool(abs(r.resistances["bulk"] / t.resistances["bulk"] - 1) < 0.05)
    ...  for r, t in zip(results, truths)]
    [True, True, True, True]
    """
    options = FitSpec(circuit, weighting, external_resistance, drop_inductive, kk, geometry,
                      engine=engine)
    circ, named = _check_stack(spectra, circuit, weighting, start_from)
    spectra = list(spectra)
    out: list[FitResult | Failure | None] = [None] * len(spectra)
    with options.engine_context():
        items = _prepared(spectra, circ, named, out, options, start_from)
        sols = _solve_all(items, circ, named)
        _finish(items, sols, circ, named, out, weighting, external_resistance)
        return [options.record(r) for r in out]


def _check_stack(
    spectra: Any, circuit: Any, weighting: str, start_from: FitResult | None
) -> tuple[Circuit, NamedCircuit | None]:
    """The circuit parsed, after the checks of what fails for the whole stack."""
    if isinstance(circuit, str) and circuit == "auto":
        raise FitError("fit_stack fits one circuit: use eisfit.fit for circuit='auto'")
    circ, named = resolve(circuit)
    check_weighting(weighting)  # a bad weighting fails for the whole stack
    if start_from is not None:  # a previous fit of other parameters fails for the whole stack
        from eisfit.fitting.saved import check_start

        check_start(start_from, circ, named)
    if isinstance(spectra, Spectrum | str | bytes) or not isinstance(spectra, Iterable):
        raise ArgumentError(
            f"fit_stack takes a list of spectra, got {type(spectra).__name__} "
            "(eisfit.fit fits one spectrum)"
        )
    return circ, named


def _prepared(
    spectra: list[Any],
    circ: Circuit,
    named: NamedCircuit | None,
    out: list[FitResult | Failure | None],
    options: FitSpec,
    start_from: FitResult | None,
) -> list[_Item]:
    """Each spectrum prepared with its problem and starts; one that cannot be is a Failure in
    ``out``."""
    items: list[_Item] = []
    for i, s in enumerate(spectra):
        try:
            if not isinstance(s, Spectrum):
                raise ArgumentError(f"fit needs a Spectrum, got {type(s).__name__}")
            spec, notes = prepare(s, circ, drop_inductive=options.drop_inductive, kk=options.kk)
            problem, _, _ = make_problem(spec, circ, named, options.weighting)
            starts = saved_starts(start_from, circ, named, spec)
            starts += guess.candidates(circ, spec.frequency, spec.z)
        except Exception as exc:  # one bad spectrum must not stop the others
            out[i] = Failure(label_of(s), one_line(exc))
            continue
        items.append(_Item(i, s, spec, notes, problem, starts))
    return items


def _finish(
    items: list[_Item],
    sols: list[tuple[Solution, Search]],
    circ: Circuit,
    named: NamedCircuit | None,
    out: list[FitResult | Failure | None],
    weighting: str,
    external_resistance: float,
) -> None:
    """Each spectrum's result into ``out``; an arc above the window: refit without it, all such
    spectra in one stack again."""
    pending: list[tuple[_Item, FitDraft, FitResult, tuple[bool, bool]]] = []
    reduced: list[_Item] = []
    hidden = named.hidden_variant() if named is not None and named.hidden_role else None
    for it, (sol, search) in zip(items, sols, strict=True):
        full = FitDraft(
            it.spectrum,
            circ,
            named,
            weighting,
            it.problem,
            sol,
            external_resistance,
            it.notes,
            it.original,
            search,
        )
        try:
            result = full.result()
            need = None if hidden is None else hidden_needed(result, full.named)  # type: ignore[arg-type]
            if need is None:
                out[it.index] = with_fallbacks(result, full)
                continue
            assert hidden is not None
            spec = it.spectrum
            p2, _, _ = make_problem(spec, hidden.parsed, hidden, weighting)
            starts = [reduced_start(circ, hidden.parsed, sol.params)]
            starts += guess.candidates(hidden.parsed, spec.frequency, spec.z)
        except Exception as exc:  # one bad spectrum must not stop the others
            out[it.index] = Failure(label_of(it.original), one_line(exc))
            continue
        pending.append((it, full, result, need))
        reduced.append(_Item(it.index, it.original, spec, it.notes, p2, starts))
    if hidden is not None and reduced:
        _finish_reduced(pending, reduced, hidden, out)


def _finish_reduced(
    pending: list[tuple[_Item, FitDraft, FitResult, tuple[bool, bool]]],
    reduced: list[_Item],
    hidden: NamedCircuit,
    out: list[FitResult | Failure | None],
) -> None:
    """The spectra refitted without the arc above the window, stacked: each one's choice
    between its full and its reduced fit into ``out``."""
    for (it, full, result, need), red, (s2, search2) in zip(
        pending, reduced, _solve_all(reduced, hidden.parsed, hidden), strict=True
    ):
        part = dataclasses.replace(
            full,
            circuit=hidden.parsed,
            named=hidden,
            problem=red.problem,
            solution=s2,
            search=search2,
        )
        try:
            out[it.index] = with_fallbacks(hidden_choice(result, need, full, part), full)
        except Exception as exc:  # one bad spectrum must not stop the others
            out[it.index] = Failure(label_of(it.original), one_line(exc))


def _solve_all(
    items: Sequence[_Item], circ: Circuit, named: NamedCircuit | None
) -> list[tuple[Solution, Search]]:
    """Solutions for every item (with the record of their search beyond the first minimum),
    stacking those with the same number of points."""
    groups: dict[int, list[int]] = {}
    for k, it in enumerate(items):
        groups.setdefault(len(it.spectrum), []).append(k)
    sols: list[tuple[Solution, Search] | None] = [None] * len(items)
    for ks in groups.values():
        for k, sol in zip(ks, _solve_group([items[k] for k in ks], circ, named), strict=True):
            sols[k] = sol
    return sols  # type: ignore[return-value]


def _stacked_problem(items: Sequence[_Item]) -> Problem:
    first = items[0].problem
    return Problem(
        first.circuit,
        np.stack([it.problem.frequency for it in items]),
        np.stack([it.problem.z for it in items]),
        np.stack([it.problem.w_re for it in items]),
        np.stack([it.problem.w_im for it in items]),
        first.lower,
        first.upper,
        first.vary,
        first.fixed,
        admittance=first.admittance,
        absolute_sigma=first.absolute_sigma,
    )


def _solve_group(
    items: Sequence[_Item], circ: Circuit, named: NamedCircuit | None
) -> list[tuple[Solution, Search]]:
    """The steps of :func:`eisfit.fit`'s solve for a stack of spectra of equal length: the
    scout, polish and convergence of every spectrum at once, then each spectrum's arcs put in
    time-constant order as :func:`eisfit.fit` does."""
    stack = _stacked_problem(items)
    n = len(items)
    p0 = np.concatenate([np.array(it.starts, float) for it in items])
    p0 = np.clip(p0, stack.lower, stack.upper)
    rows = np.repeat(np.arange(n), [len(it.starts) for it in items])
    with single_threaded_blas():
        done = multistart(stack, p0, rows, n)
        sols = [converged(it.problem, done, k) for k, it in enumerate(items)]
        return [
            best_minimum(it.problem, named, in_arc_order(it.problem, named, sol))
            for it, sol in zip(items, sols, strict=True)
        ]
