"""Neighbour refits of a temperature series: a fit warm-started from its neighbours in temperature.

After the independent fits of :func:`eisfit.series.temperature.fit_series`, the series is walked in
temperature order and each spectrum is refitted with one more start, its two preceding
neighbours' parameters carried to its temperature (:func:`_predict`: resistances on their
Arrhenius line, effective capacitances and exponents interpolated, so each arc's time constant
moves with its resistance). The automatic starts still compete, and the refit is kept only when
its χ² is lower (:func:`refit_from_neighbours`). Series of more than :data:`WALK_MAX_SPECTRA`
spectra refit only their poor fits (χ² over twice the series median, or no convergence).

A spectrum that breaks a physics check of the series (:mod:`eisfit.series.checks`: a resistance
that rises with T, a bulk capacitance that moves, swapped arcs, a Kramers–Kronig failure) is
always refitted, with further starts from the nearest neighbours that obey the checks (one
either side, two below, two above). Its refit is kept when it no longer breaks the check, breaks
nothing new and its χ² is at most :data:`CHI2_TOLERANCE` higher (two arcs swapped fit equally
well), when its χ² is lower without breaking anything new, or when its χ² is under
:data:`CLEARLY_LOWER` times the old one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from eisfit.exceptions import EisfitError
from eisfit.findings import Finding
from eisfit.fitting.result import FitResult, arc_tau
from eisfit.fitting.spec import FitSpec
from eisfit.series.checks import WINDOW, FactNumbers, Facts, violations

__all__ = ["refit_from_neighbours", "WALK_MAX_SPECTRA"]


def _not_converged(result: FitResult) -> bool:
    return not result.success


def _suspicious(result: FitResult, median_chi2: float) -> bool:
    # an undetermined parameter is common and honest (a series resistance of an Ohm under a
    # kOhm arc); only a fit that ends far above its neighbours' misfit, or did not converge,
    # may have missed the optimum
    return result.chi_square > 2.0 * median_chi2 or _not_converged(result)


def _predict(
    circuit: Any, target_t: float, near: list[tuple[float, FitResult]]
) -> np.ndarray | None:
    """Parameters of ``circuit`` carried to ``target_t`` (K) from fits at two other temperatures.

    Positive parameters move log-linearly in 1/T (an Arrhenius line through the two), exponents
    linearly; an R‖CPE arc's Q is rebuilt from its interpolated resistance, effective
    capacitance and exponent, so its time constant follows the resistance.
    """
    from eisfit.fitting import guess

    (t1, r1), (t2, r2) = near
    names = circuit.parameter_names
    if [*r1.values] != names or [*r2.values] != names:
        return None
    x1, x2, x = 1.0 / t1, 1.0 / t2, 1.0 / target_t
    if x1 == x2:
        return None
    w = (x - x1) / (x2 - x1)
    v1 = np.array([r1.values[n] for n in names])
    v2 = np.array([r2.values[n] for n in names])
    kinds = np.array(circuit.parameter_kinds)

    def log_lerp(a: Any, b: Any) -> Any:  # linear in log and 1/T
        return np.exp(np.log(a) + w * (np.log(b) - np.log(a)))

    with np.errstate(divide="ignore", invalid="ignore"):
        logged = log_lerp(v1, v2)
    p = np.where(kinds == "positive", logged, v1 + w * (v2 - v1))
    for arc in guess.structure(circuit).arcs:
        if arc.kind != "rq":
            continue
        i_r, i_q, i_n = arc.indices
        (ra, tau_a), (rb, tau_b) = arc_tau(v1, arc.indices), arc_tau(v2, arc.indices)
        c = float(log_lerp(tau_a / ra, tau_b / rb))  # effective capacitances
        n = float(np.clip(p[i_n], 0.3, 1.0))
        p[i_n] = n
        p[i_q] = (p[i_r] * c) ** n / p[i_r]
    return p if np.all(np.isfinite(p)) and np.all(p > 0) else None


#: Series up to this many spectra are walked in full; longer batches refit only poor fits.
WALK_MAX_SPECTRA = 50
#: A refit that stops breaking a physics check is kept when its χ² is at most this fraction
#: above the fit it replaces.
CHI2_TOLERANCE = 0.05
#: A batch of more than :data:`WALK_MAX_SPECTRA` spectra of which more than this fraction break
#: the physics checks is not one cell's temperature series: its spectra are not refitted from
#: their neighbours for the checks' sake.
UNRELATED_FRACTION = 0.25
#: A refit this far below the χ² of the fit it replaces is kept whatever the checks say.
CLEARLY_LOWER = 0.5


def refit_from_neighbours(
    results: Sequence[FitResult],
    temperatures_K: Sequence[float],
    circuit: Any,
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    kk: bool = False,
    walk: bool | None = None,
    drop_inductive: bool = True,
    geometry: Any = None,
    engine: str = "auto",
) -> list[FitResult]:
    """Warm-start fits of a series from their neighbours (see
    :func:`~eisfit.series.temperature.fit_series`).

    The series is walked in temperature order. Each spectrum is refitted with one more start:
    the parameters of the two fits just before it in temperature (already final) carried to its
    temperature, resistances on their Arrhenius line and effective capacitances interpolated,
    so every arc's time constant moves with its resistance. The first two spectra take theirs
    from the two after them. The automatic starts still compete, and the refit replaces the
    independent fit only when its χ² is lower, with a warning saying so. A fit that breaks a
    physics check of the series is also refitted from the neighbours that obey them, and that
    refit is kept when it stops breaking the check at a χ² at most :data:`CHI2_TOLERANCE`
    higher (see the module's notes).

    Parameters
    ----------
    walk
        Refit every spectrum (True) or only those whose fit looks poor (χ² over twice the
        series median, or no convergence). Default: every spectrum for series of up to
        :data:`WALK_MAX_SPECTRA`, poor fits only for longer batches.
    weighting, external_resistance, kk, drop_inductive, geometry, engine
        The options the fits were made with, as for :func:`eisfit.fit`.

    Returns
    -------
    list of FitResult
        In the order given.
    """
    out = list(results)
    spec = FitSpec(circuit, weighting, external_resistance, drop_inductive, kk, geometry,
                   engine=engine)
    refits = _neighbour_refits(out, temperatures_K, spec, walk=walk)
    for i, r in refits.items():
        out[i] = r
    return out


def _judged(
    facts: Facts, order: list[int], k: int, refit: FitResult
) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The violations of the fit at rank ``k`` of ``order`` (temperature order) before and with
    ``refit`` in its place, judged on the :data:`~eisfit.series.checks.WINDOW` fits either side
    (a copy of that window only, so a long series costs the same per refit)."""
    window = np.asarray(order[max(0, k - WINDOW) : k + WINDOW + 1])
    here = int(np.flatnonzero(window == order[k])[0])
    local = facts.subset(window)
    old = {v.key: v for v in violations(local, here)}
    local.set(here, refit)
    new = {v.key: v for v in violations(local, here)}
    return old, new


def _neighbour_refits(
    results: Sequence[FitResult],
    temperatures_K: Sequence[float],
    spec: FitSpec,
    *,
    walk: bool | None,
    poor: bool = True,
    physics: bool = True,
    first_pass: Sequence[tuple[float, bool, FactNumbers]] | None = None,
) -> dict[int, FitResult]:
    """The fits :func:`refit_from_neighbours` replaces, by position in ``results``, each
    refitted with ``spec`` (the spec the series was fitted with).

    Reads each result only when it is refitted or a neighbour of one (after one pass for the
    χ² median and the physics checks), so ``results`` may be a
    :class:`~eisfit.store.ResultStore`. ``poor=False`` leaves poor fits alone (only the walk,
    when asked, and the physics violations are refitted); ``physics=False`` skips the checks.
    ``first_pass``: what the first pass reads of each result, (χ², not converged,
    :func:`~eisfit.series.checks.fact_numbers`), given instead (the results then not read).
    """
    from eisfit.model.named import resolve

    n = len(results)
    if n < 3:
        return {}
    if walk is None:
        walk = n <= WALK_MAX_SPECTRA
    temps = [float(t) for t in temperatures_K]
    facts, is_poor, bad = _first_pass(results, temps, poor, physics, first_pass)
    order = sorted(range(n), key=lambda i: temps[i])
    full, _ = resolve(spec.circuit)
    refits: dict[int, FitResult] = {}

    def current(j: int) -> FitResult:
        return refits[j] if j in refits else results[j]

    for k, i in enumerate(order):
        if not (walk or is_poor[i] or i in bad):
            continue
        near = [[(temps[j], current(j)) for j in pair] for pair in _pairs(order, k, temps, bad)]
        starts = [p for p in (_predict(full, temps[i], q) for q in near) if p is not None]
        if not starts:
            continue
        r = results[i]
        refit = _refit(r, spec, starts)
        if refit is None:
            continue
        old, new = _judged(facts, order, k, refit) if physics else ({}, {})
        kept = _kept(r, refit, old, new, temps[i])
        if kept is not None:
            refits[i] = kept
            facts.set(i, refit)
            if not new:
                bad.discard(i)
    return refits


def _first_pass(
    results: Sequence[FitResult], temps: list[float], poor: bool, physics: bool,
    given: Sequence[tuple[float, bool, FactNumbers]] | None = None,
) -> tuple[Facts, np.ndarray, set[int]]:
    """One read of every result (none when ``given``: what that read would give, as the
    ``first_pass`` of :func:`_neighbour_refits`): the facts the physics checks need, which fits
    look poor (χ² over twice the series median, or no convergence; none when not ``poor``) and
    which break a check (none when not ``physics``, or when most of a long batch breaks
    them)."""
    n = len(results)
    chi2 = np.empty(n)
    not_converged = np.zeros(n, bool)
    facts = Facts(temps)
    if given is not None:
        for i, (c2, unconverged, numbers) in enumerate(given):
            chi2[i], not_converged[i] = c2, unconverged
            facts.set_numbers(i, numbers)
    else:
        for i, r in enumerate(results):
            chi2[i] = r.chi_square
            not_converged[i] = _not_converged(r)
            facts.set(i, r)
    # what _suspicious(results[i], median) says, from the numbers of this pass
    is_poor = (chi2 > 2.0 * float(np.median(chi2))) | not_converged
    if not poor:
        is_poor[:] = False
    # spectra that break a physics check of the series (see eisfit.series.checks)
    bad = {v.index for v in violations(facts)} if physics else set()
    if n > WALK_MAX_SPECTRA and len(bad) > UNRELATED_FRACTION * n:
        # most of a long batch breaks the checks: its spectra are not one cell's temperature
        # series (unrelated cells named by temperature), and their neighbours are no better
        # starting points; the checks still leave the points out of the Arrhenius fits
        bad = set()
    return facts, is_poor, bad


def _pairs(order: list[int], k: int, temps: list[float], bad: set[int]) -> list[tuple[int, ...]]:
    """The pairs of neighbours whose parameters, carried to the temperature of the spectrum at
    rank ``k`` of ``order``, start its refit: the two just below it (the two just above for the
    first two); for a spectrum that breaks a check, also neighbours that obey the checks:
    either side, then the two below, the two above."""
    i = order[k]
    before = [j for j in reversed(order[:k]) if abs(temps[j] - temps[i]) > 1e-6]
    after = [j for j in order[k + 1 :] if abs(temps[j] - temps[i]) > 1e-6]
    pairs = [(before if len(before) >= 2 else after)[:2]]
    if i in bad:
        b = [j for j in before if j not in bad]
        a = [j for j in after if j not in bad]
        pairs += [b[:1] + a[:1], b[:2], a[:2]]
    return list(dict.fromkeys(tuple(q) for q in pairs if len(q) == 2))


def _refit(result: FitResult, spec: FitSpec, starts: list[np.ndarray]) -> FitResult | None:
    """``result``'s spectrum fitted again with ``spec`` and the extra ``starts``; None when it
    cannot be."""
    from eisfit.fitting.single import fit

    try:
        return fit(result.original or result.spectrum, **spec.keywords(), starts=starts)
    except EisfitError:
        return None


def _kept(
    r: FitResult, refit: FitResult, old: dict[Any, Any], new: dict[Any, Any], t: float
) -> FitResult | None:
    """``refit``, with a note saying why, when it replaces ``r`` (the fit at ``t`` K): its χ² is
    lower and it breaks no new check, or it mends a check at a χ² at most
    :data:`CHI2_TOLERANCE` higher, or its χ² is :data:`CLEARLY_LOWER`; None otherwise.
    ``old`` and ``new``: the checks ``r`` and ``refit`` break."""
    lower = refit.chi_square < 0.99 * r.chi_square
    fixed = [v for key, v in old.items() if key not in new]
    keep = (
        (lower and new.keys() <= old.keys())
        or (bool(fixed) and new.keys() <= old.keys()
            and refit.chi_square <= (1.0 + CHI2_TOLERANCE) * r.chi_square)
        or refit.chi_square < CLEARLY_LOWER * r.chi_square
    )
    if not keep:
        return None
    note = (
        f"refitted from its neighbours' parameters carried to {t:.2f} K: "
        f"χ² {r.chi_square:.3g} → {refit.chi_square:.3g}"
    )
    if fixed:
        note += "; it no longer breaks: " + "; ".join(v.reason for v in fixed)
    note = Finding(note, "refitted", severity="note", numbers={
        "temperature_K": t, "chi_square_before": r.chi_square,
        "chi_square_after": refit.chi_square})
    return dataclasses.replace(refit, warnings=(*refit.warnings, note))
