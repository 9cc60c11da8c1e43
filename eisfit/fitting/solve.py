"""The solve of one circuit on one spectrum, or on a stack of spectra of one circuit.

The problem (:func:`make_problem`: bounds, the user's parameters, weights), the multistart
schedule (:func:`stages`, run by :func:`multistart` with either engine), the finish of a
convergence still creeping at its iteration limit (:func:`converge_creeping`), arcs put in
time-constant order, the search beyond the first minimum (:func:`best_minimum`) and the
spectrum a fit sees (:func:`prepare`: lin-KK, inductive points).
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from eisfit.exceptions import ArgumentError, FitError
from eisfit.findings import Finding
from eisfit.fitting import guess
from eisfit.fitting.engine import (
    Problem,
    Solution,
    lm_batch,
    solutions_at,
    solve,
    start_coordinates,
)
from eisfit.fitting.result import arc_tau
from eisfit.fitting.search import Search, search_further
from eisfit.fitting.weighting import ADMITTANCE, SIGMA, check_weighting, spectrum_weights
from eisfit.io.spectrum import Spectrum
from eisfit.kernels import compiled, lm_loop, lm_rules
from eisfit.model.circuit import Circuit
from eisfit.model.named import NamedCircuit

if TYPE_CHECKING:  # lmfit takes most of a second to import: only when it is used
    import lmfit

#: Levenberg–Marquardt iterations given to every starting vector before the best are polished.
SCOUT_ITER = 12


#: How many of the best scouted starts are polished.
POLISH = 2


#: Levenberg–Marquardt iterations for the polished starts, before the trust-region finish.
POLISH_ITER = 10


#: Relative cost decrease below which a polished start stops early.
POLISH_TOL = 1e-9


#: Function evaluations for the trust-region finish.
FINISH_NFEV = 200


#: Levenberg–Marquardt iterations at most for the last convergence, where it is compiled or
#: stacked (in place of the trust-region finish).
FINISH_ITER = 300


#: Compiled Levenberg–Marquardt iterations more for a convergence still moving after
#: FINISH_ITER (a parameter creeping along a flat valley), before the trust-region solve
#: takes over: a few hundred more usually settle it in a millisecond or two.
CREEP_ITER = 5000


#: Levenberg–Marquardt iterations more, at most, for a convergence still moving after those,
#: from the parameters that the cost pushes onto a bound moved there (:func:`onto_bounds`):
#: such a convergence is mostly a series resistance crawling towards zero (each of the 9 in
#: 2,000 synthetic blocking cells), which the trust-region solve would otherwise take there.
AFTER_MOVE_ITER = 1000


#: What a Solution of the Levenberg–Marquardt convergence says of itself.
LM_CONVERGED = "converged (compiled Levenberg-Marquardt)"


#: The creeping convergence looks at what still moves after this many iterations ...
CRAWL_CHECK_AT = 1000
#: ... over the last this many ...
CRAWL_WATCH = 100
#: ... where a parameter counts as moving when it changed by more than this (solver units,
#: log units for positive parameters): a resistance crawling towards zero moves by about a
#: tenth of a decade in that time, a settled parameter by less than 1e-6.
CRAWL_STILL = 1e-4


#: An arc whose apex lies more than this factor above the highest measured frequency leaves no
#: visible curve in the window: a circuit none of whose arcs lies nearer is no better than its
#: fallback without arcs.
FAR_ABOVE = 10.0


#: Relative cost decrease below which that convergence stops...
FINISH_TOL = 1e-10


#: ... and the step below this in every solver coordinate (log units for positive parameters).
FINISH_XTOL = 1e-6


def stages(polish: int = POLISH) -> np.ndarray:
    """The schedule of a fit, the one both engines run: scout, polish, convergence.

    Row by row, a stage's Levenberg–Marquardt iterations, its tol and xtol (as
    :func:`eisfit.fitting.engine.lm_batch`'s; :data:`eisfit.kernels.lm_rules.NO_XTOL`: none),
    and how many of each spectrum's best candidates go on to the next stage
    (:func:`eisfit.kernels.lm_rules.best_of_each`): every start is scouted, the ``polish`` best
    of each spectrum polished, and the best of those converged. Both engines run the table
    with :func:`eisfit.kernels.lm_loop.schedule` (:func:`multistart`), the compiled one in one
    call.

    Returns
    -------
    (3, 4) ndarray
        Columns: iterations, tol, xtol, kept after the stage.
    """
    return np.array([
        (SCOUT_ITER, 0.0, lm_rules.NO_XTOL, polish),
        (POLISH_ITER, POLISH_TOL, lm_rules.NO_XTOL, 1),
        (FINISH_ITER, FINISH_TOL, FINISH_XTOL, 1),
    ])


def _bounds(circuit: Circuit, named: NamedCircuit | None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of every parameter (fresh copies the caller may change): the
    circuit's :func:`_default_bounds`, then the named circuit's bounds."""
    lo, hi = (a.copy() for a in circuit.derived("fitting.bounds", lambda: _default_bounds(circuit)))
    if named is not None and named.bounds:
        names = circuit.parameter_names
        for pname, (a, c) in named.bounds.items():
            if pname in names:
                i = names.index(pname)
                lo[i], hi[i] = a, c
    return lo, hi


def _default_bounds(circuit: Circuit) -> tuple[np.ndarray, np.ndarray]:
    """Element defaults of ``circuit`` (exponents at least 0.3), read-only."""
    b = circuit.default_bounds
    lo = np.array([x[0] for x in b], float)
    hi = np.array([x[1] for x in b], float)
    kinds = circuit.parameter_kinds
    for i, k in enumerate(kinds):
        if k == "exponent":
            lo[i] = max(lo[i], 0.3)
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi


def _apply_user(
    circuit: Circuit,
    params: lmfit.Parameters | None,
    fixed: Mapping[str, float] | None,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Apply user Parameters and fixed values; return (start or None, vary mask, values)."""
    names = circuit.parameter_names
    vary = np.ones(len(names), bool)
    values = np.full(len(names), np.nan)
    start = None
    if params is not None:
        unknown = [k for k in params if k not in names]
        if unknown:
            raise FitError(
                f"parameters {', '.join(unknown)} are not in circuit {circuit.text!r}; "
                f"its parameters are {', '.join(names)}"
            )
        for k, par in params.items():
            i = names.index(k)
            if par.expr:
                raise FitError(
                    f"parameter {k}: expressions (expr={par.expr!r}) are not supported; "
                    "fix the parameter or give it bounds instead"
                )
            if np.isfinite(par.min):
                lo[i] = par.min
            if np.isfinite(par.max):
                hi[i] = par.max
            if par.value is not None and np.isfinite(par.value):
                values[i] = par.value
            vary[i] = bool(par.vary)
        if np.all(np.isfinite(values)):
            start = values.copy()
    for k, v in (fixed or {}).items():
        if k not in names:
            raise FitError(
                f"fixed parameter {k!r} is not in circuit {circuit.text!r}; "
                f"its parameters are {', '.join(names)}"
            )
        i = names.index(k)
        values[i] = float(v)
        vary[i] = False
    kinds = circuit.parameter_kinds
    for i in range(len(names)):
        if kinds[i] == "positive" and lo[i] <= 0:
            lo[i] = 1e-15
        if not vary[i] and not np.isfinite(values[i]):
            raise FitError(f"parameter {names[i]} is fixed but has no value")
        if lo[i] >= hi[i]:
            raise FitError(f"parameter {names[i]}: lower bound {lo[i]} is not below upper {hi[i]}")
    return start, vary, values


def _multistart(problem: Problem, starts: list[np.ndarray], polish: int = POLISH) -> Solution:
    """Scout every start with a few batched Levenberg–Marquardt steps, then converge the best
    (``polish``: how many of the best scouted starts are polished)."""
    p0 = np.array(starts, float)
    p0[:, ~problem.vary] = problem.fixed[~problem.vary]
    p0 = np.clip(p0, problem.lower, problem.upper)
    return converged(problem, multistart(problem, p0, polish=polish), 0)


@dataclasses.dataclass
class Converged:
    """What the schedule (:func:`multistart`) ends with for each of ``S`` spectra.

    Attributes
    ----------
    u : (S, F) ndarray
        Solver coordinates of the converged parameters.
    cost : (S,) ndarray
        Half the weighted sum of squares.
    residual : (S, 2N) ndarray
        Weighted residuals there.
    jac_t : (S, F, 2N) ndarray
        Their Jacobian d r / d u, transposed.
    n_finish : (S,) ndarray
        Evaluations of the last convergence (above its iteration limit: still moving).
    n_before : int
        Evaluations of the scout and the polish.
    """

    u: np.ndarray
    cost: np.ndarray
    residual: np.ndarray
    jac_t: np.ndarray
    n_finish: np.ndarray
    n_before: int


def multistart(
    problem: Problem,
    p0: np.ndarray,
    rows: np.ndarray | None = None,
    n_spectra: int = 1,
    polish: int = POLISH,
) -> Converged:
    """The scout, polish and convergence of :func:`fit` from the starts ``p0`` (K, n_params;
    natural units, within the bounds): the stage table :func:`stages` run by
    :func:`eisfit.kernels.lm_loop.schedule`, with the engine's kernels.

    One spectrum is a stack of one: ``rows`` (K,) names each start's spectrum in a stacked
    ``problem`` of ``n_spectra`` (None for a single problem). The compiled engine runs the
    schedule in one call where it can (:func:`eisfit.kernels.compiled.multistart`); the numpy
    engine runs the same code vectorised over the candidates.
    """
    u0, lo, hi = start_coordinates(problem, p0)
    which = np.zeros(len(u0), np.int64) if rows is None else np.asarray(rows, np.int64)
    table = _stage_columns(stages(polish))
    done = None
    if compiled.enabled():
        done = compiled.multistart(problem, u0, lo, hi, which, n_spectra, *table)
    if done is None:
        done = lm_loop.schedule(problem, u0, which, n_spectra, lo, hi, *table)
    u, cost, r, jt, n_finish, n_stages = done
    return Converged(u, cost, r, jt, n_finish, int(n_stages.sum()))


def _stage_columns(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns of a stage table (:func:`stages`) as
    :func:`eisfit.kernels.lm_loop.schedule` takes them: iterations and how many are kept
    (int64), tol and xtol (S, 2), each C-contiguous."""
    return (
        np.ascontiguousarray(table[:, 0], dtype=np.int64),
        np.ascontiguousarray(table[:, 3], dtype=np.int64),
        np.ascontiguousarray(table[:, 1:3], dtype=np.float64),
    )


def converged(problem: Problem, done: Converged, k: int) -> Solution:
    """The Solution of spectrum ``k`` of a :func:`multistart` (``problem``: that spectrum's);
    a convergence still moving at its iteration limit goes on as :func:`converge_creeping`."""
    params = problem.params_batch(done.u[k : k + 1])[0]
    n = int(done.n_before) + int(done.n_finish[k])
    if done.n_finish[k] > FINISH_ITER:
        return converge_creeping(problem, params, n, FINISH_NFEV)
    return Solution(
        params, done.u[k], float(done.cost[k]), done.residual[k], done.jac_t[k].T, n, True,
        LM_CONVERGED,
    )


def _converge(problem: Problem, p0: np.ndarray, max_nfev: int) -> Solution:
    """A convergence from ``p0``: Levenberg–Marquardt to a tight tolerance, the last stage of
    :func:`stages`, so that it ends where a fit's schedule would. One still moving after
    :data:`FINISH_ITER` iterations (a parameter creeping along a flat valley, about 2 % of
    fits) goes on as :func:`converge_creeping`; with no free parameter, the trust-region solve
    (``max_nfev`` evaluations) reports the fixed point.
    """
    if problem.free.size:
        params, _, n = lm_batch(
            problem, p0[None, :], max_iter=FINISH_ITER, tol=FINISH_TOL, xtol=FINISH_XTOL
        )
        if n <= FINISH_ITER:  # stopped by its tolerances, not by the iteration limit
            return solutions_at(problem, params, None, n, LM_CONVERGED)[0]
        return converge_creeping(problem, params[0], n, max_nfev)
    return solve(problem, p0, max_nfev=max_nfev)


def converge_creeping(problem: Problem, params: np.ndarray, n_eval: int, max_nfev: int) -> Solution:
    """Go on from ``params``, where a compiled convergence was still moving at its iteration
    limit: up to :data:`CREEP_ITER` more compiled Levenberg–Marquardt iterations, then the
    trust-region solve (``max_nfev`` evaluations), whose verdict on convergence the result
    reports. ``n_eval``: the evaluations made so far.

    Twice on the way, the parameters that the cost pushes onto a bound are moved there
    (:func:`onto_bounds`) and the convergence settled from that point, kept where it ends with
    them held there: after :data:`CRAWL_CHECK_AT` iterations when nothing else moved over the
    last :data:`CRAWL_WATCH` (a parameter alone crawling towards its bound), and after the
    whole budget in place of the trust-region solve.
    """
    msg = LM_CONVERGED
    before, n = _iterate(problem, params, CRAWL_CHECK_AT - CRAWL_WATCH)
    if n <= CRAWL_CHECK_AT - CRAWL_WATCH:
        return solutions_at(problem, before[None, :], None, n_eval + n, msg)[0]
    at, m = _iterate(problem, before, CRAWL_WATCH)
    n_eval += n + m
    if m <= CRAWL_WATCH:
        return solutions_at(problem, at[None, :], None, n_eval, msg)[0]
    moving = np.abs(problem.to_internal(at) - problem.to_internal(before)) > CRAWL_STILL
    sol, n_eval = _settled_on_bounds(problem, at, n_eval, alone=moving)
    if sol is not None:
        return sol
    rest = CREEP_ITER - CRAWL_CHECK_AT
    at, m = _iterate(problem, at, rest)
    n_eval += m
    if m <= rest:
        return solutions_at(problem, at[None, :], None, n_eval, msg)[0]
    sol, n_eval = _settled_on_bounds(problem, at, n_eval)
    return sol if sol is not None else _trust_region(problem, at, n_eval, max_nfev)


def _iterate(problem: Problem, params: np.ndarray, max_iter: int) -> tuple[np.ndarray, int]:
    """Up to ``max_iter`` compiled Levenberg–Marquardt iterations of the last convergence from
    ``params``: where they end, and the count (above ``max_iter`` when still moving)."""
    p, _, n = lm_batch(
        problem, params[None, :], max_iter=max_iter, tol=FINISH_TOL, xtol=FINISH_XTOL
    )
    return p[0], n


def _settled_on_bounds(
    problem: Problem, at: np.ndarray, n_eval: int, alone: np.ndarray | None = None
) -> tuple[Solution | None, int]:
    """The convergence settled from ``at`` with the parameters that the cost pushes onto a
    bound moved there (:func:`onto_bounds`; up to :data:`AFTER_MOVE_ITER` iterations), and the
    evaluations counted so far; None where nothing moved, the convergence did not settle, or
    it ended with the cost falling as a moved parameter leaves its bound. ``alone``: the
    free parameters still moving (a mask); given, the move is made only when every one of
    them is one moved."""
    moved, probes = onto_bounds(problem, at)
    n_eval += probes
    if moved is at:
        return None, n_eval
    changed = moved != at
    if alone is not None and np.any(alone & ~changed[problem.free]):
        return None, n_eval
    q, m = _iterate(problem, moved, AFTER_MOVE_ITER)
    n_eval += m
    if m > AFTER_MOVE_ITER:
        return None, n_eval
    sol = solutions_at(problem, q[None, :], None, n_eval, LM_CONVERGED)[0]
    return (sol if _still_held(problem, sol, changed) else None), n_eval


def _trust_region(problem: Problem, params: np.ndarray, n_eval: int, max_nfev: int) -> Solution:
    """The trust-region solve from ``params`` (``max_nfev`` evaluations), counting ``n_eval``
    evaluations made before."""
    sol = solve(problem, params, max_nfev=max_nfev)
    sol.nfev += n_eval
    return sol


def _still_held(problem: Problem, sol: Solution, moved: np.ndarray) -> bool:
    """True when the gradient at the converged ``sol`` still holds every parameter that
    :func:`onto_bounds` moved (``moved``: a mask over all parameters) at its bound: else the
    cost would fall as it leaves the bound, which in log coordinates it cannot do."""
    lo, hi = problem.internal_bounds()
    which = moved[problem.free]
    g = sol.jac.T @ sol.residual
    return bool(np.all(lm_rules.held_at_bound(sol.u, lo, hi, g)[which]))


def onto_bounds(problem: Problem, params: np.ndarray) -> tuple[np.ndarray, int]:
    """``params`` with the free parameters that the cost pushes towards a bound moved onto it,
    one at a time and each only where that does not raise the cost; and the evaluations made.

    A convergence creeping along a flat valley is often a parameter on its way to a bound
    (a series resistance far below the bulk's on its way to zero, a CPE exponent to 1):
    the cost falls with it by less than the noise, so Levenberg–Marquardt takes hundreds or
    thousands of small steps to get there. Each such parameter is tried at its bound (all at
    once, one evaluation each); of those that lower the cost and whose gradient there holds
    them at the bound (the cost rises as they leave it: no minimum lies between), the one
    that lowers it most is kept, and the rest are tried again from there, until none
    qualifies. A descent step like any other: the convergence goes on from the point it
    reaches, and a parameter held at its bound by the gradient stays out of its steps.
    """
    lo, hi = problem.internal_bounds()
    u = problem.to_internal(params)
    r, jac = problem.residual_jac_batch(u[None, :])
    cost = 0.5 * float(r[0] @ r[0])
    g = jac[0].T @ r[0]  # descent lowers u where g > 0
    eps = lm_rules.AT_BOUND * (hi - lo)
    target = np.where(g > 0, lo, hi)
    trial = np.flatnonzero(np.isfinite(target) & (np.abs(u - target) > eps) & (g != 0))
    n_eval, moved = 1, False
    while trial.size:
        rows = np.repeat(u[None, :], trial.size, axis=0)
        rows[np.arange(trial.size), trial] = target[trial]
        r_try, j_try = problem.residual_jac_batch(rows)
        n_eval += trial.size
        costs = 0.5 * np.einsum("ij,ij->i", r_try, r_try)
        # the gradient there must hold the parameter at its bound too: else the cost falls
        # again on the way back, past a minimum the move jumped over
        g_try = np.einsum("ij,ij->i", j_try[np.arange(trial.size), :, trial], r_try)
        held = lm_rules.held_at_bound(target[trial], lo[trial], hi[trial], g_try)
        costs[~held] = np.inf
        best = int(np.argmin(costs))
        if not costs[best] <= cost:
            break
        u, cost, moved = rows[best], float(costs[best]), True
        trial = np.delete(trial, best)
    return (problem.to_params(u) if moved else params), n_eval


def order_arcs(circuit: Circuit, params: np.ndarray, vary: np.ndarray) -> np.ndarray:
    """Sort same-kind arcs by time constant, fastest first, so roles follow frequency
    (``params`` itself when they are in order already)."""
    arcs = [list(a.indices) for a in guess.structure(circuit).arcs if a.kind == "rq"]
    if len(arcs) < 2:
        return params
    p, free = params.tolist(), vary.tolist()
    if not all(free[i] for a in arcs for i in a):
        return params
    taus = [(p[r] * p[q]) ** (1 / p[n]) for r, q, n in arcs]
    order = sorted(range(len(arcs)), key=taus.__getitem__)
    if order == list(range(len(arcs))):
        return params
    out = params.copy()
    for slot, src in zip(arcs, order, strict=True):
        out[slot] = params[arcs[src]]
    return out


def make_problem(
    spectrum: Spectrum,
    circuit: Circuit,
    named: NamedCircuit | None,
    weighting: str,
    params: lmfit.Parameters | None = None,
    fixed: Mapping[str, float] | None = None,
) -> tuple[Problem, np.ndarray | None, np.ndarray]:
    """The fit problem of one spectrum: bounds, user values, weights.

    Returns
    -------
    problem : Problem
    user_start : ndarray or None
        The user's starting vector, when ``params`` gives every value.
    values : ndarray
        The values the user gave (NaN where none), impedance.py order.
    """
    lo, hi = _bounds(circuit, named)
    user_start, vary, values = _apply_user(circuit, params, fixed, lo, hi)
    n_free = int(vary.sum())
    if 2 * len(spectrum) <= n_free:
        raise FitError(
            f"{spectrum.source or 'spectrum'}: {len(spectrum)} points cannot fit "
            f"{n_free} free parameters of {circuit.text!r}"
        )
    w_re, w_im = spectrum_weights(weighting, spectrum)
    problem = Problem(
        circuit,
        spectrum.frequency,
        spectrum.z,
        w_re,
        w_im,
        lo,
        hi,
        vary,
        np.where(np.isfinite(values), values, 0.0),
        admittance=weighting in ADMITTANCE,
        absolute_sigma=weighting == SIGMA,
    )
    return problem, user_start, values


def _run(
    spectrum: Spectrum,
    circuit: Circuit,
    named: NamedCircuit | None,
    weighting: str,
    params: lmfit.Parameters | None,
    fixed: Mapping[str, float] | None,
    starts: list[np.ndarray] | None = None,
) -> tuple[Problem, Solution, Search | None]:
    problem, user_start, values = make_problem(spectrum, circuit, named, weighting, params, fixed)
    if user_start is not None:
        return problem, in_arc_order(problem, named, _multistart(problem, [user_start])), None
    start_list = list(starts or []) + guess.candidates(circuit, spectrum.frequency, spectrum.z)
    # a user may give some values only: keep them in every start
    given = np.isfinite(values)
    for p in start_list:
        p[given] = values[given]
    first = in_arc_order(problem, named, _multistart(problem, start_list))
    sol, search = best_minimum(problem, named, first)
    return problem, sol, search


def best_minimum(
    problem: Problem, named: NamedCircuit | None, solution: Solution
) -> tuple[Solution, Search]:
    """``solution``, or a lower minimum when it ends well above the data's floor
    (:func:`eisfit.fitting.search.search_further`, with this module's multistart), its arcs in
    time-constant order; and the record of the search. :func:`fit` and
    :func:`eisfit.fit_stack` end every fit with it."""
    best, search = search_further(problem, solution, _multistart)
    if best is solution:
        return best, search
    best = in_arc_order(problem, named, best)
    if named is not None:
        reason = electrode_arc(problem.circuit, named, best.params)
        if reason and not electrode_arc(problem.circuit, named, solution.params):
            # the lower minimum gives an arc an electrode's capacitance: the fit that fits
            # its roles stays, and the result says what it leaves out
            search = dataclasses.replace(
                search,
                final=search.first,
                better_unphysical=search.final,
                unphysical_reason=reason,
            )
            best = solution
    return best, search


def electrode_arc(circuit: Circuit, named: NamedCircuit, params: np.ndarray) -> str | None:
    """Which arc of ``params`` (roles in time-constant order) has an electrode's effective
    capacitance, as a phrase; None when no arc has."""
    for arc in guess.structure(circuit).arcs:
        if arc.kind != "rq":
            continue
        r, tau = arc_tau(params, arc.indices)
        role, c = named.roles.get(arc.names[0], ""), tau / r
        if named.electrode_like(role, c):
            return f"the {role} arc's effective capacitance is {c:.2g} F, an electrode's"
    return None


def in_arc_order(problem: Problem, named: NamedCircuit | None, sol: Solution) -> Solution:
    """``sol``, or, when the arcs of a named circuit came out of time-constant order, the
    convergence from them put in order (:func:`order_arcs`), so roles follow frequency."""
    if named is None:
        return sol
    ordered = order_arcs(problem.circuit, sol.params, problem.vary)
    if np.array_equal(ordered, sol.params):
        return sol
    return _converge(problem, ordered, 50)


def check_external(external_resistance: float) -> None:
    """Refuse an external resistance (Ohm) that is not a number, or is negative or not finite.

    Raises
    ------
    ArgumentError
        Not a real number.
    FitError
        Negative or not finite.
    """
    if isinstance(external_resistance, bool) or not isinstance(external_resistance, numbers.Real):
        hint = (
            " (parse a string such as '2 kOhm' with eisfit.units.parse_resistance)"
            if isinstance(external_resistance, str)
            else ""
        )
        raise ArgumentError(
            "external_resistance must be a number in Ohm, got "
            f"{type(external_resistance).__name__}{hint}"
        )
    if external_resistance < 0 or not np.isfinite(external_resistance):
        raise FitError(f"external_resistance must be >= 0 Ohm, got {external_resistance:g}")


def check_arguments(circuit: object, weighting: object, external_resistance: object) -> None:
    """Check the types of the arguments :func:`fit`, ``fit_stack`` and ``fit_series`` share.

    Raises
    ------
    ArgumentError
        ``circuit`` is not a name, a circuit string, a Circuit or a NamedCircuit, or
        ``weighting`` is not a string, or ``external_resistance`` is not a number (Ohm).
    FitError
        ``external_resistance`` is negative or not finite.
    """
    if not isinstance(circuit, str | Circuit | NamedCircuit):
        raise ArgumentError(
            "circuit must be a name, a circuit string, a Circuit or a NamedCircuit, got "
            f"{type(circuit).__name__}"
        )
    if not isinstance(weighting, str):
        raise ArgumentError(
            "weighting must be a name such as 'modulus', 'sigma' or 'admittance', got "
            f"{type(weighting).__name__}"
        )
    check_weighting(weighting)  # an unknown name, before any spectrum is read
    check_external(external_resistance)  # type: ignore[arg-type]


def _check_user_values(params: object, fixed: object) -> None:
    """Refuse ``params`` that are not lmfit Parameters and ``fixed`` that is not a mapping of
    parameter names to numbers."""
    if params is not None:
        import lmfit

        if not isinstance(params, lmfit.Parameters):
            raise ArgumentError(
                f"params must be lmfit.Parameters, got {type(params).__name__}; to hold values "
                "fixed give fixed={'R0': 1.83} instead"
            )
    if fixed is None:
        return
    if not isinstance(fixed, Mapping):
        raise ArgumentError(
            f"fixed must map parameter names to values, e.g. {{'R0': 1.83}}; got "
            f"{type(fixed).__name__}"
        )
    for k, v in fixed.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ArgumentError(f"fixed[{k!r}] must be a number, got {type(v).__name__}")


def _check_starts(starts: Sequence[np.ndarray] | None, circuit: Circuit) -> list[np.ndarray]:
    """The user's extra starting vectors as float arrays, each of the circuit's length."""
    if starts is None:
        return []
    if isinstance(starts, str | bytes | Mapping) or not isinstance(starts, Sequence | np.ndarray):
        raise ArgumentError(
            f"starts must be a list of starting vectors, got {type(starts).__name__}"
        )
    out = []
    for k, x in enumerate(starts):
        try:
            v = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ArgumentError(
                f"starts[{k}] must be a vector of numbers, got {type(x).__name__}"
            ) from None
        if v.ndim == 0:
            raise ArgumentError(
                "starts must be a list of starting vectors; for one vector give starts=[x]"
            )
        if v.ndim != 1 or v.size != circuit.n_params:
            got = f"{v.size} values" if v.ndim == 1 else f"an array of shape {v.shape}"
            raise FitError(
                f"starts[{k}] has {got}; circuit {circuit.text!r} takes {circuit.n_params} "
                f"({', '.join(circuit.parameter_names)})"
            )
        out.append(v)
    return out


def prepare(
    spectrum: Spectrum, circuit: Circuit, *, drop_inductive: bool = True, kk: bool = False
) -> tuple[Spectrum, list[str]]:
    """The spectrum a fit of ``circuit`` sees, and the notes for its result.

    Runs the Kramers–Kronig check when ``kk``, and drops the high-frequency inductive points
    when ``drop_inductive`` and the circuit has no inductor.

    Raises
    ------
    FitError
        When every point is inductive and the circuit has no inductor.
    """
    from eisfit.io import over_cap

    why = over_cap(len(spectrum))
    if why:
        raise FitError(f"{spectrum.source or 'spectrum'}: the spectrum has {why}")
    notes: list[str] = numpy_only_notes(circuit)
    if kk:
        from eisfit.analysis.kk import kk_warning

        warning = kk_warning(spectrum)
        if warning:
            notes.append(warning)
    has_inductor = any(e.element.name in ("L", "La") for e in circuit.elements)
    inductive = spectrum.z.imag > 0
    if not drop_inductive or has_inductor or not inductive.any():
        return spectrum, notes
    if np.all(inductive):
        raise FitError(
            f"{spectrum.source or 'spectrum'}: all {len(spectrum)} points have Im(Z) > 0 "
            f"(inductive), which {circuit.text!r} cannot fit: check the sign convention of the "
            "file, or add an inductor (e.g. 'L0-' in front)"
        )
    trimmed = spectrum.without_inductive()
    dropped = len(spectrum) - len(trimmed)
    if not dropped:
        return spectrum, notes
    f_cut = float(np.sort(spectrum.frequency)[::-1][dropped - 1])
    notes.append(Finding(
        f"dropped {dropped} inductive point(s) at and above {f_cut:.3g} Hz "
        "(Im(Z) > 0; add an L element to fit them)",
        "inductive_dropped", severity="note", numbers={"dropped": dropped, "from_Hz": f_cut},
    ))
    return trimmed, notes


def numpy_only_notes(circuit: Circuit) -> list[str]:
    """With the compiled engine on, a note naming the first element of ``circuit`` with no
    compiled form (a user element defined without ``compiled=True``): the fit runs with the
    numpy engine."""
    if not compiled.enabled() or compiled.program(circuit) is not None:
        return []
    name = next(e for e in circuit.elements if e.element.name not in compiled.ELEMENT_CODES)
    return [Finding(
        f"element {name.name} ({name.element.name}) has no compiled form: fitted with the "
        "numpy engine",
        "numpy_only", severity="note",
    )]
