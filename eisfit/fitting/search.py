"""A search beyond the first minimum, for fits that end well above the data's own floor.

The automatic starts of :mod:`eisfit.fitting.guess` find the best minimum of most spectra. Where
they do
not, the fit stops in a local minimum: a small arc on the flank of a large depressed one absorbed
into it, two arcs swapped, an arc parked far outside the window. Such a fit ends well above the
floor of the data (:func:`eisfit.analysis.floor.floor_chi_square`, the misfit of a Voigt chain that
describes any valid spectrum), and its reduced χ² says so. Then :func:`search_further` tries more:

* every grouping of the relaxation-time peaks into the circuit's arcs (:func:`eisfit.fitting.guess.
  candidates` with no cap on their number);
* the dominant arc of the fit split on its high- and low-frequency flanks, the smallest arc moved
  there (a shoulder taken for one arc);
* the fit's arcs redrawn at random, log-uniformly across and beyond the window, and the whole fit
  perturbed in log space (a global step);

and keeps the lowest. The random draws are seeded, so a spectrum always gets the same answer. A
fit already at the floor does not search (its cost does not grow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eisfit.analysis.floor import floor_chi_square
from eisfit.findings import Finding
from eisfit.fitting import guess
from eisfit.fitting.engine import Problem, Solution
from eisfit.fitting.result import arc_tau
from eisfit.fitting.weighting import impedance_weights

__all__ = ["SEARCH_FACTOR", "WARN_FACTOR", "Search", "search_further", "reduced_chi_square"]

#: A fit whose reduced χ² is above this multiple of the floor searches further. The true
#: parameters of synthetic spectra reach 0.94–1.22 times the floor; local minima 2–60 times.
SEARCH_FACTOR = 1.5
#: A fit that ends above this multiple of the floor after the search gets a warning that the
#: circuit does not describe the data.
WARN_FACTOR = 3.0
#: Seeded random starts of each round of the search (arcs redrawn, and the fit perturbed).
RANDOM_STARTS = 48
#: Rounds of the search at most (a round that gains under 1 % ends it).
ROUNDS = 2
#: Starts polished in a search (of the scouted ones), more than a first fit's.
SEARCH_POLISH = 6


@dataclass(frozen=True)
class Search:
    """What the search did for one fit.

    Attributes
    ----------
    floor
        Reduced χ² of the data's floor (NaN when the spectrum is too short for one).
    first
        Reduced χ² of the first fit.
    final
        Reduced χ² of the fit returned.
    rounds
        Rounds of search made (0: the first fit was at the floor).
    better_unphysical
        Reduced χ² of a lower minimum the search found but did not keep, because an arc there
        does not fit its role (NaN when there was none).
    unphysical_reason
        Why that minimum was not kept.
    """

    floor: float
    first: float
    final: float
    rounds: int
    better_unphysical: float = float("nan")
    unphysical_reason: str = ""

    @property
    def ratio(self) -> float:
        """Reduced χ² of the fit returned over the floor."""
        return self.final / self.floor if self.floor > 0 else float("nan")

    def warnings(self) -> list[Finding]:
        """The warning lines: the fit stays well above the floor (code ``not_described``); a
        lower minimum was found whose arcs do not fit their roles (``lower_unphysical``)."""
        out = [w for w in (self.warning(),) if w]
        if np.isfinite(self.better_unphysical):
            ratio = self.final / self.better_unphysical
            out.append(Finding(
                f"a fit of this circuit with a {ratio:.3g}x lower "
                f"reduced chi-square exists, but there {self.unphysical_reason}: it is not "
                "reported, and the circuit leaves part of the spectrum undescribed",
                "lower_unphysical", numbers={"ratio": ratio},
            ))
        return out

    def warning(self) -> Finding | None:
        """The warning line when the fit stays well above the floor, else None."""
        if not np.isfinite(self.ratio) or self.ratio <= WARN_FACTOR:
            return None
        return Finding(
            f"the circuit does not describe the data: its reduced chi-square is "
            f"{self.ratio:.3g}x the floor of the spectrum (the misfit of a free Voigt chain, as "
            "in lin-KK), after a search beyond the automatic starts; try another circuit "
            "(--circuit auto) or check the spectrum",
            "not_described", numbers={"ratio": self.ratio, "floor": self.floor},
        )


def reduced_chi_square(problem: Problem, solution: Solution) -> float:
    """Weighted sum of squares over its degrees of freedom (2N − free parameters)."""
    dof = 2 * np.shape(problem.z)[-1] - problem.free.size
    return 2.0 * solution.cost / dof if dof > 0 else float("nan")


def problem_floor(problem: Problem) -> float:
    """:func:`~eisfit.analysis.floor.floor_chi_square` of a single-spectrum problem."""
    # an admittance residual's floor from the Z weights equivalent to it (|ΔY| ≈ |ΔZ|/|Z|²)
    w = (problem.w_re, problem.w_im)
    if problem.admittance:
        w = impedance_weights("admittance", problem.z, *w)
    return floor_chi_square(problem.frequency, problem.z, *w)


def search_further(
    problem: Problem,
    solution: Solution,
    solve_starts,
    floor: float | None = None,
) -> tuple[Solution, Search]:
    """The lowest minimum found from ``solution`` when it ends well above the data's floor.

    Parameters
    ----------
    problem
        The fit problem of one spectrum.
    solution
        The fit from the automatic starts.
    solve_starts
        ``solve_starts(problem, starts, polish)``: the fit's own multistart from a list of
        starting vectors (natural units), returning a Solution.
    floor
        The floor's reduced χ², when already known.

    Returns
    -------
    solution, search
        The best solution found (``solution`` itself when nothing lower was found) and the
        record of the search.
    """
    first = reduced_chi_square(problem, solution)
    if floor is None:
        floor = problem_floor(problem)
    best, rounds = solution, 0
    if np.isfinite(floor) and floor > 0 and problem.free.size:
        rng = np.random.default_rng(20261202)
        while rounds < ROUNDS and reduced_chi_square(problem, best) > SEARCH_FACTOR * floor:
            rounds += 1
            starts = _starts(problem, best.params, rng, first_round=rounds == 1)
            trial = solve_starts(problem, starts, SEARCH_POLISH)
            gain = best.cost - trial.cost
            if gain > 0:
                best = trial
            if gain < 0.01 * best.cost:
                break
    return best, Search(floor, first, reduced_chi_square(problem, best), rounds)


def _arcs(problem: Problem) -> list[tuple[int, int, int]]:
    """(R, Q, n) parameter indices of the circuit's free R‖CPE arcs."""
    arcs = [a.indices for a in guess.structure(problem.circuit).arcs if a.kind == "rq"]
    return [a for a in arcs if all(problem.vary[i] for i in a)]  # type: ignore[misc]


def _set(p: np.ndarray, arc: tuple[int, int, int], r: float, tau: float, n: float) -> None:
    p[arc[0]] = r
    p[arc[1]] = tau**n / r
    p[arc[2]] = n


def _starts(
    problem: Problem, best: np.ndarray, rng: np.random.Generator, first_round: bool
) -> list[np.ndarray]:
    """Starting vectors of one round of the search."""
    f, z = problem.frequency, problem.z
    starts: list[np.ndarray] = []
    if first_round:
        starts += guess.candidates(problem.circuit, f, z, max_candidates=64)
    arcs = _arcs(problem)
    tau_hi = 1 / (2 * np.pi * float(np.max(f)))
    tau_lo = 1 / (2 * np.pi * float(np.min(f)))
    z_max = float(np.max(np.abs(z)))
    if arcs:
        rtn = [(*arc_tau(best, arc), best[arc[2]]) for arc in arcs]
        dom = int(np.argmax([x[0] for x in rtn]))
        r_d, t_d, n_d = rtn[dom]
        small = [k for k in range(len(arcs)) if k != dom]
        for k in small:
            for frac in (0.05, 0.15, 0.35):
                for s in (10.0, 30.0, 100.0, 1 / 30.0):
                    p = best.copy()
                    _set(p, arcs[k], frac * r_d, t_d / s, 0.9)
                    _set(p, arcs[dom], (1 - frac) * r_d, t_d, min(n_d + 0.05, 1.0))
                    starts.append(p)
        for _ in range(RANDOM_STARTS // 2):
            p = best.copy()
            for arc in arcs:
                if rng.random() < 0.6:
                    r = z_max * 10 ** rng.uniform(-3, 0.3)
                    tau = 10 ** rng.uniform(np.log10(tau_hi) - 2, np.log10(tau_lo) + 1)
                    _set(p, arc, r, tau, rng.uniform(0.6, 1.0))
            starts.append(p)
    log = problem.log
    for _ in range(RANDOM_STARTS // 2 if arcs else RANDOM_STARTS):
        p = best.copy()
        step = rng.normal(0.0, 1.0, p.size)
        p = np.where(log, p * np.exp(step), p + 0.1 * step)
        starts.append(p)
    lo, hi = problem.lower, problem.upper
    return [np.clip(np.where(problem.vary, p, problem.fixed), lo, hi) for p in starts]
