"""Physics checks of a temperature series: what every fit of a series must obey together.

One fit can land in a local minimum that looks fine on its own (a low χ², arcs in their
expected ranges) and still be impossible next to its neighbours in temperature. The checks
here look at the whole series, role by role:

* :func:`resistance_falls`: a thermally activated resistance (bulk, grain boundary, interface,
  electrolyte, total...) falls as T rises. A point that is out of line with its neighbours in
  the wrong direction by more than :data:`RISE_SIGMAS` standard errors *and* more than
  :data:`RISE_FRACTION` of the resistance breaks it (the points outside the longest run that
  falls with T, within that noise).
* :func:`bulk_capacitance_steady`: the bulk capacitance is geometric (ε₀ε_r A/L) and barely
  moves with T: within a factor :data:`BULK_C_FACTOR` of the series median.
* :func:`capacitance_stays`: an arc keeps its role from one temperature to the next: its
  effective capacitance does not jump more than :data:`JUMP_DECADES` decades from the series
  median (a "grain_boundary" C of 1e-4 F among 1e-9 F ones is the electrode spike, or the
  bulk, fitted in its place).
* :func:`kk_failed`: a spectrum that fails the lin-KK check is suspicious (it is refitted from
  its neighbours, and noted where it is used), though no refit can make it consistent.
* :func:`kk_far`: a spectrum whose lin-KK residual is over :data:`KK_FAR_FACTOR` times the
  threshold (phases beyond ±90°, a lost contact, an open circuit) is not a measurement of the
  cell: it is left out of every role's Arrhenius fit.

Each check returns ``{position: reason}``; :func:`violations` runs them all on the numbers a
series keeps of each fit (:class:`Facts`). :mod:`eisfit.series.neighbours` refits the spectra that
break them; :meth:`eisfit.series.temperature.Series.arrhenius` leaves out of a role's regression the
points that still do (unless ``keep_all``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eisfit.findings import by_code

__all__ = [
    "Violation",
    "Facts",
    "FactNumbers",
    "fact_numbers",
    "violations",
    "resistance_falls",
    "bulk_capacitance_steady",
    "capacitance_stays",
    "kk_failed",
    "kk_excess",
    "kk_far",
    "KK_FAR_FACTOR",
    "RISE_SIGMAS",
    "RISE_FRACTION",
    "BULK_C_FACTOR",
    "JUMP_DECADES",
]

#: A rise of a thermally activated resistance counts when over this many standard errors...
RISE_SIGMAS = 3.0
#: ...and over this fraction of the resistance.
RISE_FRACTION = 0.05
#: The bulk effective capacitance stays within this factor of the series median.
BULK_C_FACTOR = 3.0
#: Any other arc's effective capacitance stays within this many decades of the series median.
JUMP_DECADES = 1.5
#: Fewest capacitances of a role for the capacitance checks (the median needs a majority).
MIN_CAPACITANCES = 3
#: Roles whose resistance is not thermally activated (cables and cell hardware).
NOT_ACTIVATED = ("series",)
#: The start of the Kramers-Kronig warning of :func:`eisfit.analysis.kk.kk_warning`, which
#: begins a violation's reason.
KK_FAILS = "the spectrum fails the Kramers-Kronig check"
#: A lin-KK residual over this many times its threshold: the spectrum is not of the cell.
KK_FAR_FACTOR = 10.0
#: The check name of :func:`kk_far` (role ``"*"``: the spectrum leaves every role's fit).
KK_FAR = "kk_far"
#: Positions either side of a refitted spectrum that :func:`violations` looks at for it.
WINDOW = 12


@dataclass(frozen=True)
class Violation:
    """One broken rule of one fit in a series.

    Attributes
    ----------
    index : int
        Position of the fit in the series (the order the :class:`Facts` were given in).
    role : str
        The role whose value breaks the rule (``"*"``: the spectrum as a whole).
    check : str
        ``"falls_with_T"``, ``"bulk_capacitance"``, ``"capacitance_jump"``, ``"kk"`` or
        ``"kk_far"``.
    reason : str
        One line saying what is wrong, with the numbers.
    """

    index: int
    role: str
    check: str
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        """(role, check): what a refit must stop breaking."""
        return self.role, self.check


def kk_failed(warnings: Sequence[str]) -> bool:
    """True when a fit's warnings hold the Kramers–Kronig failure of
    :func:`eisfit.analysis.kk.kk_warning` (code ``kk_fails``; a check that could not run,
    ``kk_not_run``, is not a failure)."""
    return bool(by_code(warnings, "kk_fails"))


def kk_excess(warnings: Sequence[str]) -> float:
    """The largest lin-KK residual over its threshold, from the numbers of the Kramers–Kronig
    finding of :func:`eisfit.analysis.kk.kk_warning` among a fit's ``warnings``; NaN without
    one."""
    return _excess(by_code(warnings, "kk_fails"))


def _excess(fails: Sequence[Any]) -> float:
    """:func:`kk_excess` from the ``kk_fails`` findings of a fit."""
    for f in fails:
        res = f.numbers.get("max_residual", math.nan)
        thr = f.numbers.get("threshold", math.nan)
        if math.isfinite(res) and math.isfinite(thr):
            return res / thr if thr > 0 else math.inf
    return math.nan


def kk_far(excess: Any, factor: float = KK_FAR_FACTOR) -> dict[int, str]:
    """Spectra whose lin-KK residual is far above the threshold: not measurements of the cell.

    Parameters
    ----------
    excess
        Per spectrum, the largest lin-KK residual over its threshold (dimensionless;
        :func:`kk_excess`; NaN for a spectrum that passed).
    factor
        Ratio above which a spectrum is left out (default :data:`KK_FAR_FACTOR`).

    Returns
    -------
    dict
        Position -> reason.
    """
    e = np.asarray(excess, float)
    return {
        int(i): (f"its lin-KK residual is {e[i]:.3g}x the threshold (over {factor:g}x): the "
                 "spectrum is not a measurement of the cell (phases beyond ±90°, a lost contact "
                 "or an open circuit); left out of every role")
        for i in np.flatnonzero(np.isfinite(e) & (e > factor))
    }


def _fmt_r(r: float, se: float) -> str:
    return f"{r:.4g} ± {se:.2g} Ohm" if math.isfinite(se) else f"{r:.4g} Ohm"


def _rises(
    t_cold: np.ndarray, r_cold: np.ndarray, s2_cold: np.ndarray,
    t_hot: np.ndarray, r_hot: np.ndarray, s2_hot: np.ndarray,
) -> np.ndarray:
    """Whether the hotter point sits significantly above the colder one (element-wise, with
    broadcasting; ``s2``: squared standard errors): the conflict of :func:`resistance_falls`."""
    diff = r_hot - r_cold
    with np.errstate(invalid="ignore"):
        sigma = np.sqrt(s2_cold + s2_hot)
        return (
            (diff > RISE_SIGMAS * sigma)
            & (diff > RISE_FRACTION * np.abs(r_cold))
            & (t_hot > t_cold)
        )


def _rise(t_cold: float, r_cold: float, s2_cold: float,
          t_hot: float, r_hot: float, s2_hot: float) -> bool:
    """:func:`_rises` for one pair, in Python floats (the same IEEE operations)."""
    diff = r_hot - r_cold
    return (
        diff > RISE_SIGMAS * math.sqrt(s2_cold + s2_hot)
        and diff > RISE_FRACTION * abs(r_cold)
        and t_hot > t_cold
    )


def _candidates(tt: np.ndarray, rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which points (in temperature order) may sit too far above a colder point (first) and
    which may have a hotter point too far above them (second).

    A conflict needs ``r_hot - r_cold > RISE_FRACTION * r_cold``, which for positive
    resistances holds for some colder point only if it holds for the lowest of them (and for
    some hotter point only if for the highest), in floating point too: so each point is
    compared with one value, and only the candidates are compared point by point. With a
    resistance that is not positive every point is a candidate.
    """
    m = tt.size
    if not np.all(rr > 0):
        return np.ones(m, bool), np.ones(m, bool)
    lo = np.searchsorted(tt, tt, side="left")  # points before lo[k] are colder than k
    hi = np.searchsorted(tt, tt, side="right")  # points from hi[k] on are hotter than k
    low = np.concatenate([[np.inf], np.minimum.accumulate(rr)])[lo]
    high = np.concatenate([np.maximum.accumulate(rr[::-1])[::-1], [-np.inf]])[hi]
    with np.errstate(invalid="ignore"):
        hot = (rr - low) > RISE_FRACTION * np.abs(low)
        cold = (high - rr) > RISE_FRACTION * np.abs(rr)
    return hot, cold


def _run_lengths(
    tt: np.ndarray, rr: np.ndarray, s2: np.ndarray, candidate: np.ndarray, hotter: bool
) -> tuple[np.ndarray, list[int]]:
    """The longest run of consistent points ending at each point (``hotter``: starting at it,
    the points walked from the hottest), points in temperature order.

    A point that is no ``candidate`` conflicts with none of the points walked before it. A
    candidate is compared with the points walked by the length of their runs, longest first
    (a few lengths, then all the rest at once): the first it does not conflict with gives its
    run. Returns the lengths and the candidates given the longest run at once, whose
    conflicts with the other points were not looked at.
    """
    m = tt.size
    run = np.ones(m, int)
    walk = range(m - 2, -1, -1) if hotter else range(1, m)
    by_length: list[list[int]] = [[], [m - 1 if hotter else 0]]  # the points walked, by run
    unsure: list[int] = []

    points = list(zip(tt.tolist(), rr.tolist(), s2.tolist(), strict=True))  # Python floats

    def first_consistent(k: int) -> int:
        """The run of the longest-run point walked that ``k`` does not conflict with, looked
        for one point at a time (at most 16), longest first; -1 when not found so."""
        budget = 16
        tk, rk, sk = points[k]
        for level in range(len(by_length) - 1, 0, -1):
            for j in by_length[level]:
                tj, rj, sj = points[j]
                # not _rise(k, j) (k the colder when hotter) or _rise(j, k), written out
                if hotter:
                    diff = rj - rk
                    if not (diff > RISE_SIGMAS * math.sqrt(sk + sj)
                            and diff > RISE_FRACTION * abs(rk) and tj > tk):
                        return level
                else:
                    diff = rk - rj
                    if not (diff > RISE_SIGMAS * math.sqrt(sj + sk)
                            and diff > RISE_FRACTION * abs(rj) and tk > tj):
                        return level
                budget -= 1
                if budget == 0:
                    return -1
        return 0

    fraction = RISE_FRACTION * np.abs(rr)  # as _rises has it, for the points walked
    same_lo = np.searchsorted(tt, tt, side="left").tolist()
    same_hi = np.searchsorted(tt, tt, side="right").tolist()

    def longest_consistent(k: int) -> int:
        """The longest run of the points walked that ``k`` does not conflict with (0: none):
        :func:`_rises` of them all, the points at ``k``'s own temperature (never in conflict)
        apart."""
        if hotter:  # the points walked are k + 1..m - 1; hotter than k from same_hi[k]
            same, other = run[k + 1 : same_hi[k]], slice(same_hi[k], m)
            diff = rr[other] - rr[k]
            with np.errstate(invalid="ignore"):
                rise = ((diff > RISE_SIGMAS * np.sqrt(s2[k] + s2[other]))
                        & (diff > RISE_FRACTION * abs(rr[k])))
        else:  # the points walked are 0..k - 1; colder than k up to same_lo[k]
            same, other = run[same_lo[k] : k], slice(0, same_lo[k])
            diff = rr[k] - rr[other]
            with np.errstate(invalid="ignore"):
                rise = (diff > RISE_SIGMAS * np.sqrt(s2[other] + s2[k])) & (diff > fraction[other])
        kept = run[other][~rise]
        best = int(kept.max()) if kept.size else 0
        return max(best, int(same.max())) if same.size else best

    for k in walk:
        longest = len(by_length) - 1
        length = longest + 1
        if candidate[k]:
            length = first_consistent(k) + 1
            if length == 0:  # in conflict with the longest runs: look at all the points
                length = 1 + longest_consistent(k)
            elif length == longest + 1:
                unsure.append(k)
        run[k] = length
        if length == len(by_length):
            by_length.append([])
        by_length[length].append(k)
    return run, unsure


def _longest_runs(
    tt: np.ndarray, rr: np.ndarray, s2: np.ndarray, hot: np.ndarray, cold: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The longest run of consistent points ending at each point, the longest starting at
    each, and whether any two points conflict (points in temperature order; ``hot``, ``cold``
    from :func:`_candidates`). A point conflicts only with points of another temperature, so
    its conflicts with colder points are those where it is the hotter one."""
    fwd, unsure = _run_lengths(tt, rr, s2, hot, hotter=False)
    conflict = bool((fwd[1:] <= np.maximum.accumulate(fwd)[:-1]).any()) or any(
        _rises(tt[:k], rr[:k], s2[:k], tt[k], rr[k], s2[k]).any() for k in unsure)
    if not conflict:
        return fwd, np.ones(tt.size, int), False
    return fwd, _run_lengths(tt, rr, s2, cold, hotter=True)[0], True


def _nearest_conflict(k: int, tt: np.ndarray, rr: np.ndarray, s2: np.ndarray) -> int | None:
    """The point in conflict with point ``k`` nearest to it in temperature (the first in
    temperature order of those as near), None when there is none. Looked for in a window
    around ``k`` widened until no point outside it can be as near (points in temperature
    order)."""
    m = tt.size
    w = 16
    while True:
        lo, hi = max(0, k - w), min(m, k + w + 1)
        t, r, s = tt[lo:hi], rr[lo:hi], s2[lo:hi]
        others = np.flatnonzero(_rises(t, r, s, tt[k], rr[k], s2[k])
                                | _rises(tt[k], rr[k], s2[k], t, r, s))
        if lo == 0 and hi == m:
            break
        if others.size:
            gap = np.abs(t[others] - tt[k]).min()
            outside = min(tt[k] - tt[lo - 1] if lo > 0 else np.inf,
                          tt[hi] - tt[k] if hi < m else np.inf)
            if gap < outside:
                break
        w *= 4
    if others.size == 0:
        return None
    return lo + int(others[np.argmin(np.abs(t[others] - tt[k]))])


def _nearest_conflicts(
    ks: np.ndarray, tt: np.ndarray, rr: np.ndarray, s2: np.ndarray
) -> list[int | None]:
    """:func:`_nearest_conflict` of each point of ``ks`` at once: the first window (16 points
    either side) of every point looked at together, the few whose answer it does not settle
    looked for one at a time."""
    m = tt.size
    out: list[int | None] = [None] * ks.size
    if ks.size == 0:
        return out
    w = 16
    offsets = np.arange(-w, w + 1)
    idx = ks[:, None] + offsets
    valid = (idx >= 0) & (idx < m)
    at = np.clip(idx, 0, m - 1)
    t, r, s = tt[at], rr[at], s2[at]
    tk, rk, sk = tt[ks][:, None], rr[ks][:, None], s2[ks][:, None]
    conflict = (_rises(t, r, s, tk, rk, sk) | _rises(tk, rk, sk, t, r, s)) & valid
    dist = np.where(conflict, np.abs(t - tk), np.inf)
    gap = dist.min(axis=1)
    lo, hi = np.maximum(0, ks - w), np.minimum(m, ks + w + 1)
    below = np.where(lo > 0, tk[:, 0] - tt[np.maximum(lo - 1, 0)], np.inf)
    above = np.where(hi < m, tt[np.minimum(hi, m - 1)] - tk[:, 0], np.inf)
    found = conflict.any(axis=1)
    settled = ((lo == 0) & (hi == m)) | (found & (gap < np.minimum(below, above)))
    nearest = ks + offsets[np.argmin(dist, axis=1)]
    for row in np.flatnonzero(settled & found).tolist():
        out[row] = int(nearest[row])
    for row in np.flatnonzero(~settled).tolist():
        out[row] = _nearest_conflict(int(ks[row]), tt, rr, s2)
    return out


def resistance_falls(
    temperatures_K: Any, resistance: Any, stderr: Any, role: str = "resistance"
) -> dict[int, str]:
    """Points at which a thermally activated resistance does not fall as T rises.

    Two points conflict when the hotter one's resistance is above the colder one's by more
    than :data:`RISE_SIGMAS` combined standard errors and more than :data:`RISE_FRACTION` of
    the colder one's. The points outside every longest run of mutually consistent points (in
    temperature order) break the rule: a single point that rises above its colder neighbour
    and stays above its hotter one, or one that dips below its hotter neighbour, is out; of
    two points that only conflict with each other neither is singled out.

    Parameters
    ----------
    temperatures_K
        Temperature of each point in K.
    resistance
        Resistance of each point in Ohm (NaN: no value, not checked).
    stderr
        Standard error of each resistance in Ohm (NaN or inf: unknown, never conflicts).
    role
        Name used in the reasons.

    Returns
    -------
    dict
        Position -> reason, for the points that break the rule.
    """
    t = np.asarray(temperatures_K, float)
    r = np.asarray(resistance, float)
    se = np.asarray(stderr, float)
    # a series checks the same points more than once (before its neighbour refits and again
    # for its Arrhenius summary): the answer for the same input is kept
    key = (role, t.shape, r.shape, se.shape, t.tobytes(), r.tobytes(), se.tobytes())
    if key not in _FALLS_SEEN:
        if len(_FALLS_SEEN) >= 8:
            del _FALLS_SEEN[next(iter(_FALLS_SEEN))]
        _FALLS_SEEN[key] = _resistance_falls(t, r, se, role)
    return dict(_FALLS_SEEN[key])


#: The last answers of :func:`resistance_falls`, by its input.
_FALLS_SEEN: dict[tuple[Any, ...], dict[int, str]] = {}


def _resistance_falls(t: np.ndarray, r: np.ndarray, se: np.ndarray, role: str) -> dict[int, str]:
    """:func:`resistance_falls` on arrays of floats."""
    have = np.flatnonzero(np.isfinite(r) & np.isfinite(t))
    if have.size < 2:
        return {}
    order = have[np.argsort(t[have], kind="stable")]
    tt, rr = t[order], r[order]
    ss = np.where(np.isfinite(se[order]), np.abs(se[order]), np.inf)
    s2 = ss**2
    # the conflicts are found a point at a time, not as a matrix of every pair (gigabytes for
    # a series of 10,000 spectra), and only for the points that may have one
    fwd, bwd, any_conflict = _longest_runs(tt, rr, s2, *_candidates(tt, rr))
    if not any_conflict:
        return {}
    best = int(fwd.max())
    out: dict[int, str] = {}
    outside = np.flatnonzero(fwd + bwd - 1 < best)
    for k, j in zip(outside.tolist(), _nearest_conflicts(outside, tt, rr, s2), strict=True):
        if j is None:  # pragma: no cover - outside every run means a conflict
            continue
        higher = "above" if tt[k] > tt[j] else "below"
        rel = abs(rr[k] - rr[j]) / min(rr[j], rr[k])
        out[int(order[k])] = (
            f"{role} resistance {_fmt_r(rr[k], ss[k])} at {tt[k]:.2f} K is {higher} that at "
            f"{tt[j]:.2f} K ({_fmt_r(rr[j], ss[j])}) by {100 * rel:.0f} % (over "
            f"{RISE_SIGMAS:g} standard errors): a thermally activated resistance falls as T rises"
        )
    return out


def bulk_capacitance_steady(capacitance: Any, role: str = "bulk") -> dict[int, str]:
    """Points whose bulk effective capacitance is off the series median by more than a factor
    :data:`BULK_C_FACTOR` (the geometric capacitance barely moves with T).

    Parameters
    ----------
    capacitance
        Effective capacitance of the bulk arc of each point in F (NaN: no arc, not checked).
    role
        Name used in the reasons.

    Returns
    -------
    dict
        Position -> reason. Empty with fewer than 3 capacitances.
    """
    c = np.asarray(capacitance, float)
    have = np.flatnonzero(np.isfinite(c) & (c > 0))
    if have.size < MIN_CAPACITANCES:
        return {}
    med = float(np.exp(np.median(np.log(c[have]))))
    out = {}
    for i in have:
        ratio = c[i] / med
        if ratio > BULK_C_FACTOR or ratio < 1.0 / BULK_C_FACTOR:
            out[int(i)] = (
                f"{role} capacitance {c[i]:.3g} F is {ratio:.3g} times the series median "
                f"({med:.3g} F): the bulk (geometric) capacitance barely changes with T "
                f"(a factor {BULK_C_FACTOR:g} allowed); another arc is fitted as the {role}"
            )
    return out


def capacitance_stays(
    capacitance: Any, role: str, other_medians: dict[str, float] | None = None
) -> dict[int, str]:
    """Points where an arc's effective capacitance jumps out of its role.

    Parameters
    ----------
    capacitance
        Effective capacitance of the arc of ``role`` at each point in F (NaN: not checked).
    role
        The arc's role.
    other_medians
        Role -> series median capacitance (F) of the other arcs, to name the role a jumping
        capacitance belongs to.

    Returns
    -------
    dict
        Position -> reason for capacitances more than :data:`JUMP_DECADES` decades from the
        series median. Empty with fewer than 3 capacitances.
    """
    c = np.asarray(capacitance, float)
    have = np.flatnonzero(np.isfinite(c) & (c > 0))
    if have.size < MIN_CAPACITANCES:
        return {}
    lmed = float(np.median(np.log10(c[have])))
    out = {}
    for i in have:
        dec = math.log10(c[i]) - lmed
        if abs(dec) <= JUMP_DECADES:
            continue
        like = ""
        near = [
            (abs(math.log10(c[i]) - math.log10(v)), k)
            for k, v in (other_medians or {}).items()
            if k != role and v > 0 and math.isfinite(v)
        ]
        if near:
            d, k = min(near)
            if d < abs(dec):
                like = f", near the series' {k} capacitance ({(other_medians or {})[k]:.3g} F)"
        out[int(i)] = (
            f"{role} capacitance {c[i]:.3g} F is {abs(dec):.1f} decades "
            f"{'above' if dec > 0 else 'below'} the series median ({10 ** lmed:.3g} F){like}: "
            f"the arc fitted as {role} here is another process (roles swapped)"
        )
    return out


#: What :class:`Facts` keeps of one fit (:func:`fact_numbers`): its positive finite resistances
#: (Ohm) and their standard errors (Ohm, NaN when unknown) by role, its effective capacitances
#: (F) by role, whether it fails the lin-KK check, and its residual over the threshold.
FactNumbers = tuple[dict[str, float], dict[str, float], dict[str, float], bool, float]


def fact_numbers(result: Any) -> FactNumbers:
    """The numbers :meth:`Facts.set` keeps of a :class:`~eisfit.fitting.result.FitResult`: a
    few floats, cheap to send from the process that made the fit."""
    resistances: dict[str, float] = {}
    stderrs: dict[str, float] = {}
    for role, value in result.resistances.items():
        v = float(value)
        if v > 0 and math.isfinite(v):
            resistances[role] = v
            se = result.resistance_stderr.get(role, math.nan)
            stderrs[role] = math.nan if se is None else float(se)
    capacitances = {role: float(value) for role, value in result.capacitances.items()}
    fails = by_code(result.warnings, "kk_fails")  # kk_failed and kk_excess, read once
    return resistances, stderrs, capacitances, bool(fails), _excess(fails)


class Facts:
    """The numbers the checks read from each fit of a series: resistances with their standard
    errors and effective capacitances per role, and the Kramers–Kronig verdict.

    A few floats per role and spectrum, so that a streamed series of thousands keeps them in
    memory and reads its results from disk once.

    Parameters
    ----------
    temperatures_K
        Temperature of each fit in K.
    """

    def __init__(self, temperatures_K: Sequence[float]):
        self.t = np.asarray([float(x) for x in temperatures_K], float)
        n = self.t.size
        self.r: dict[str, np.ndarray] = {}
        self.se: dict[str, np.ndarray] = {}
        self.c: dict[str, np.ndarray] = {}
        self.kk = np.zeros(n, bool)
        self.kk_excess = np.full(n, np.nan)

    def __len__(self) -> int:
        return int(self.t.size)

    def _column(self, table: dict[str, np.ndarray], role: str) -> np.ndarray:
        col = table.get(role)
        if col is None:
            col = table[role] = np.full(self.t.size, np.nan)
        return col

    def set(self, i: int, result: Any) -> None:
        """Take the numbers of fit ``i`` from a :class:`~eisfit.fitting.result.FitResult`."""
        self.set_numbers(i, fact_numbers(result))

    def set_numbers(self, i: int, numbers: FactNumbers) -> None:
        """Take the numbers of fit ``i`` as :func:`fact_numbers` gives them (taken where the
        fit was made: a worker process)."""
        for table in (self.r, self.se, self.c):
            for col in table.values():
                col[i] = np.nan
        resistances, stderrs, capacitances, kk, excess = numbers
        for role, v in resistances.items():
            self._column(self.r, role)[i] = v
            self._column(self.se, role)[i] = stderrs[role]
        for role, c in capacitances.items():
            self._column(self.c, role)[i] = c
        self.kk[i] = kk
        self.kk_excess[i] = excess

    def fingerprint(self) -> bytes:
        """A digest of every number and role held: facts with the same fingerprint break the
        same rules."""
        h = hashlib.blake2b(digest_size=16)
        for column in (self.t, self.kk, self.kk_excess):
            h.update(column.tobytes())
        for name, table in (("r", self.r), ("se", self.se), ("c", self.c)):
            for role, column in table.items():
                h.update(f"{name}:{role}:".encode())
                h.update(column.tobytes())
        return h.digest()

    def subset(self, positions: np.ndarray) -> Facts:
        """The facts of some positions only (in that order)."""
        out = Facts.__new__(Facts)
        out.t, out.kk = self.t[positions], self.kk[positions]
        out.kk_excess = self.kk_excess[positions]
        out.r = {k: v[positions] for k, v in self.r.items()}
        out.se = {k: v[positions] for k, v in self.se.items()}
        out.c = {k: v[positions] for k, v in self.c.items()}
        return out


#: The verdict on the last whole series judged, by its facts' fingerprint (one entry).
_LAST_VERDICT: dict[bytes, tuple[Violation, ...]] = {}


def _all(facts: Facts) -> list[Violation]:
    out: list[Violation] = []
    for role, r in facts.r.items():
        if role in NOT_ACTIVATED:
            continue
        for i, why in resistance_falls(facts.t, r, facts.se[role], role).items():
            out.append(Violation(i, role, "falls_with_T", why))
    medians = {}
    for role, c in facts.c.items():
        ok = np.isfinite(c) & (c > 0)
        if ok.any():
            medians[role] = float(np.exp(np.median(np.log(c[ok]))))
    for role, c in facts.c.items():
        if role == "bulk":
            found = bulk_capacitance_steady(c, role)
            check = "bulk_capacitance"
        else:
            found = capacitance_stays(c, role, medians)
            check = "capacitance_jump"
        out.extend(Violation(i, role, check, why) for i, why in found.items())
    out.extend(
        Violation(int(i), "*", "kk", f"{KK_FAILS}: its fit may describe an artefact")
        for i in np.flatnonzero(facts.kk)
    )
    out.extend(Violation(i, "*", KK_FAR, why) for i, why in kk_far(facts.kk_excess).items())
    return out


def violations(facts: Facts, index: int | None = None) -> list[Violation]:
    """Every rule broken in a series, or only those of the fit at position ``index``.

    Parameters
    ----------
    facts
        The numbers of every fit (:class:`Facts`).
    index
        Only the violations of this position, judged against the :data:`WINDOW` fits either
        side of it in temperature (cheap enough to ask after each refit of a long series).

    Returns
    -------
    list of Violation
        In no particular order; ``role="*"`` for a whole spectrum (Kramers–Kronig).
    """
    if index is None:
        # a series is judged before its neighbour refits and again for its Arrhenius fits,
        # the second time from other Facts with the same numbers when nothing was refitted
        key = facts.fingerprint()
        if key not in _LAST_VERDICT:
            _LAST_VERDICT.clear()
            _LAST_VERDICT[key] = tuple(_all(facts))
        return list(_LAST_VERDICT[key])
    order = np.argsort(facts.t, kind="stable")
    k = int(np.flatnonzero(order == index)[0])
    window = order[max(0, k - WINDOW) : k + WINDOW + 1]
    local = _all(facts.subset(window))
    return [
        Violation(int(window[v.index]), v.role, v.check, v.reason)
        for v in local
        if window[v.index] == index
    ]
