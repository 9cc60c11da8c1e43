"""Activation energies from the DRT, without a circuit: each process followed through a series.

The distribution of relaxation times (:func:`eisfit.drt`) of every spectrum of a temperature
series gives its peaks: a time constant τ (s) and a resistance R (Ω, the area under the peak).
A thermally activated process moves along an Arrhenius line, so its peaks are linked from one
temperature to the next into a *track* (:func:`track_peaks`), and each track gives two
activation energies (:func:`drt_arrhenius`), neither of which depends on a circuit:

* from the resistance, ``ln(T/R)`` against 1/T (the ln(σT) form eisfit regresses resistances
  in: R ∝ 1/σ at fixed geometry), and
* from the relaxation frequency ``1/τ``, ``ln(T/τ)`` against 1/T: with a temperature-independent
  capacitance τ = RC, so 1/τ ∝ σ and the same form gives the same Ea.

Matching rule
-------------
Temperatures are walked in ascending order. Each open track predicts where its next peak lies:
ln τ and ln R on the straight line in 1/T through its last (up to three) points; a track with
one point takes the median τ slope of the tracks that have two or more (0 when none has) and,
for the resistance, constant capacitance (its point's R/τ at the peak's own τ). A peak may join
a track when its τ is within ``max_jump_decades`` (1 decade) of the prediction and its R within
a factor ``max_area_ratio`` (3) of it; among those, peaks and tracks are paired to minimise
the sum of both distances, each scaled by its limit (:func:`scipy.optimize.linear_sum_assignment`).
A peak left unpaired starts a track; a track left without a peak for more than ``max_gap`` (1)
temperature ends. Peaks at the edge of the DRT's τ grid (a process that has moved out of the
measured window; its τ is only the end of the grid) are not tracked.

The circuit beside it
---------------------
With fits (a :class:`~eisfit.series.temperature.Series`), each track is matched to the fitted role
whose
time constant (1/(2π f_apex) of the fits) lies nearest, by the median distance in decades over
the track's spectra, within ``match_decades`` (1 decade), each role to one track. The circuit's
Ea of that role is regressed over the same spectra in the same form (ln(T/R), weighted by the
fits' standard errors) and the two are said to disagree when they differ by more than three
combined standard errors *and* more than 0.05 eV: a sign that the circuit does not describe the
processes the DRT sees (a missing arc, two processes fitted as one).

Slope change
------------
Along a track of six or more temperatures, ``ln(T/R)`` is fitted by one line and by two lines
meeting at a break (continuous, the break temperature searched between the third and the
third-last point). A change is reported when the F-test of the two extra parameters gives
p < 0.01, the BIC of the two lines is lower, and the two Ea differ by at least 0.05 eV: a phase
transition (e.g. tetragonal/cubic LLZO, β/γ-Li₃PS₄) or a change of mechanism.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats

from eisfit.analysis.activation import K_B_EV, ArrheniusError, ArrheniusResult, arrhenius
from eisfit.analysis.drt import DRTPeak, drt
from eisfit.exceptions import EisfitError, SpectrumError
from eisfit.io.spectrum import Spectrum

__all__ = [
    "DrtTrack",
    "DrtTracks",
    "SlopeChange",
    "TrackError",
    "drt_arrhenius",
    "drt_peaks",
    "slope_change",
    "track_peaks",
]

#: Regression form of both activation energies: ln(T/R) and ln(T/τ) against 1/T.
FORM = "ln(sigma*T)"
#: A peak joins a track when its τ lies within this many decades of the track's prediction.
MAX_JUMP_DECADES = 1.0
#: ... and its resistance within this factor of the track's prediction.
MAX_AREA_RATIO = 3.0
#: A track missing at more than this many consecutive temperatures ends.
MAX_GAP = 1
#: Fewest temperatures for a track's Arrhenius fits.
MIN_TRACK_POINTS = 3
#: A track is matched to a fitted role whose time constant lies within this many decades.
MATCH_DECADES = 1.0
#: DRT and circuit Ea disagree beyond this many combined standard errors ...
DISAGREE_SIGMA = 3.0
#: ... and beyond this difference (eV).
DISAGREE_EV = 0.05
#: Significance level of the slope-change F-test.
SLOPE_CHANGE_P = 0.01
#: Smallest change of Ea (eV) reported as a slope change.
SLOPE_CHANGE_MIN_EV = 0.05
#: Fewest temperatures for the slope-change test (three on each side of the break).
SLOPE_CHANGE_MIN_POINTS = 6


class TrackError(EisfitError, ValueError):
    """The inputs of a DRT track analysis are unusable (named in the message)."""


@dataclass(frozen=True)
class SlopeChange:
    """The two-line test along a track (:func:`slope_change`).

    Attributes
    ----------
    significant : bool
        True when two lines describe ``ln(T/R)`` against 1/T better than one (F-test
        p < :data:`SLOPE_CHANGE_P`, lower BIC, Ea differing by :data:`SLOPE_CHANGE_MIN_EV`).
    break_K : float
        Temperature of the break (K) of the best two-line fit.
    Ea_below_eV, Ea_below_stderr_eV : float
        Ea (eV) and its standard error below the break (low temperatures).
    Ea_above_eV, Ea_above_stderr_eV : float
        The same above the break.
    p_value : float
        p of the F-test (two extra parameters).
    delta_bic : float
        BIC of two lines minus BIC of one (negative favours the break).
    """

    significant: bool
    break_K: float
    Ea_below_eV: float
    Ea_below_stderr_eV: float
    Ea_above_eV: float
    Ea_above_stderr_eV: float
    p_value: float
    delta_bic: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary with units in the keys."""
        return {k: _json(v) for k, v in self.__dict__.items()}

    def text(self) -> str:
        """One cell: ``at 322 K: 0.50 ± 0.01 -> 0.30 ± 0.01 eV``, or ``none``."""
        from eisfit.format import value_error

        if not self.significant:
            return "none"
        return (f"at {self.break_K:.0f} K: "
                f"{value_error(self.Ea_below_eV, self.Ea_below_stderr_eV)} -> "
                f"{value_error(self.Ea_above_eV, self.Ea_above_stderr_eV, 'eV')}")


@dataclass(frozen=True)
class DrtTrack:
    """One process followed through a temperature series by its DRT peaks.

    Attributes
    ----------
    index : tuple of int
        Index of each point's spectrum in the series (ascending temperature).
    temperature_K, tau_s, resistance_ohm, frequency_Hz : numpy.ndarray
        Temperature (K), peak time constant τ (s), peak area R (Ω) and apex frequency
        ``1/(2πτ)`` (Hz) at each point.
    outside : numpy.ndarray of bool
        True where the apex lies outside the measured τ range (the arc only partly seen).
    ea_resistance, ea_tau : ArrheniusResult or None
        Arrhenius fits of ``ln(T/R)`` and ``ln(T/τ)`` against 1/T (None below
        :data:`MIN_TRACK_POINTS` temperatures, or when the regression is impossible).
    slope_change : SlopeChange or None
        The two-line test of ``ln(T/R)`` (None below :data:`SLOPE_CHANGE_MIN_POINTS`).
    role : str or None
        The fitted role matched by time constant, or None.
    role_distance_decades : float
        Median distance (decades) between the track's τ and the role's; NaN when unmatched.
    circuit_ea : ArrheniusResult or None
        Ea of that role from the fits over the track's spectra, same form.
    agreement : str or None
        ``"agree"``, ``"disagree"`` (beyond 3 combined standard errors and 0.05 eV), or None
        when not compared.
    notes : tuple of str
        Why something is missing.
    """

    index: tuple[int, ...]
    temperature_K: np.ndarray
    tau_s: np.ndarray
    resistance_ohm: np.ndarray
    frequency_Hz: np.ndarray
    outside: np.ndarray
    ea_resistance: ArrheniusResult | None = None
    ea_tau: ArrheniusResult | None = None
    slope_change: SlopeChange | None = None
    role: str | None = None
    role_distance_decades: float = math.nan
    circuit_ea: ArrheniusResult | None = None
    agreement: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        """Number of temperatures in the track."""
        return len(self.index)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary with units in the keys (NaN as None)."""
        return {
            "n": self.n,
            "temperature_K": [float(t) for t in self.temperature_K],
            "tau_s": [float(t) for t in self.tau_s],
            "resistance_ohm": [float(r) for r in self.resistance_ohm],
            "frequency_Hz": [float(f) for f in self.frequency_Hz],
            "outside_window": [bool(o) for o in self.outside],
            "Ea_resistance": _ea_dict(self.ea_resistance),
            "Ea_tau": _ea_dict(self.ea_tau),
            "slope_change": None if self.slope_change is None else self.slope_change.to_dict(),
            "role": self.role,
            "role_distance_decades": _json(self.role_distance_decades),
            "circuit_Ea": _ea_dict(self.circuit_ea),
            "agreement": self.agreement,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DrtTracks:
    """The DRT tracks of a temperature series and their activation energies.

    Attributes
    ----------
    tracks : tuple of DrtTrack
        Every track, ordered by its median τ (fastest first).
    temperatures_K : numpy.ndarray
        Temperature of each spectrum (K), ascending.
    labels : tuple of str
        Name of each spectrum.
    peaks : tuple of tuple of DRTPeak
        The DRT peaks of each spectrum (every one, tracked or not).
    compared : bool
        True when fits were given and tracks were matched to their roles.
    warnings : tuple of str
        Spectra whose DRT could not be made (they hold no peaks), one line each.
    """

    tracks: tuple[DrtTrack, ...]
    temperatures_K: np.ndarray
    labels: tuple[str, ...]
    peaks: tuple[tuple[DRTPeak, ...], ...]
    compared: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def analysed(self) -> list[DrtTrack]:
        """The tracks with an activation energy (at least :data:`MIN_TRACK_POINTS` points)."""
        return [t for t in self.tracks if t.ea_resistance is not None]

    def to_dict(self) -> dict[str, Any]:
        """The ``drt_tracks`` object of the batch JSON."""
        return {
            "form": "ln(T/R) and ln(T/tau) against 1/T",
            "matching": {"max_jump_decades": MAX_JUMP_DECADES,
                         "max_area_ratio": MAX_AREA_RATIO, "max_gap": MAX_GAP,
                         "match_decades": MATCH_DECADES},
            "tracks": [t.to_dict() for t in self.tracks],
            "warnings": list(self.warnings),
            "spectra": [
                {"source": lab, "temperature_K": float(t), "peaks": [p.to_dict() for p in ps]}
                for lab, t, ps in zip(self.labels, self.temperatures_K, self.peaks, strict=True)
            ],
        }

    def rows(self) -> tuple[list[str], list[list[str]]]:
        """Headers and one row per analysed track (text cells): what the report tables show."""
        from eisfit.format import value_error

        heads = ["track", "T/K", "tau/s", "Ea(R)/eV", "Ea(tau)/eV", "role", "circuit Ea/eV",
                 "vs DRT", "break"]
        rows = []
        for k, t in enumerate(self.analysed, 1):
            circ, change = t.circuit_ea, t.slope_change
            rows.append([
                f"{k} (n={t.n})",
                f"{t.temperature_K.min():.0f}-{t.temperature_K.max():.0f}",
                f"{t.tau_s.min():.1g}-{t.tau_s.max():.1g}",
                _ea_text(t.ea_resistance, value_error),
                _ea_text(t.ea_tau, value_error),
                (t.role or "-").replace("_", " "),
                "-" if circ is None else _ea_text(circ, value_error),
                {"disagree": "DISAGREE", None: "-"}.get(t.agreement, t.agreement or "-"),
                "-" if change is None else
                f"{change.break_K:.0f} K" if change.significant else "none",
            ])
        return heads, rows

    def report(self, width: int | None = None) -> str:
        """The ``[[DRT tracks]]`` section of the batch report (plain text)."""
        from eisfit.terminal import table_lines, wrap_lines

        lines = ["[[DRT tracks]] (Ea from ln(T/R) and ln(T/tau) against 1/T, no circuit; "
                 "circuit Ea over the same spectra)"]
        heads, rows = self.rows()
        if not rows:
            lines.append(f"    none: no DRT peak followed over {MIN_TRACK_POINTS} temperatures")
        else:
            lines.extend(table_lines(heads, rows, width))
        for k, t in enumerate(self.analysed, 1):
            if t.slope_change is not None and t.slope_change.significant:
                lines.append(f"    - track {k}: slope change {t.slope_change.text()} "
                             f"(F-test p = {t.slope_change.p_value:.2g})")
            if t.agreement == "disagree":
                lines.append(f"    - track {k}: the circuit's {t.role} Ea differs from the DRT's "
                             "beyond 3 standard errors and 0.05 eV: check the circuit")
            lines.extend(f"    - track {k}: {n}" for n in t.notes)
        lines.extend(f"    - {w}" for w in self.warnings)
        return "\n".join(lines if width is None else wrap_lines(lines, width))


def _json(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _ea_dict(a: ArrheniusResult | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"Ea_eV": _json(a.Ea_eV), "Ea_stderr_eV": _json(a.Ea_stderr_eV), "n": a.n,
            "T_min_K": a.T_min_K, "T_max_K": a.T_max_K, "r2": _json(a.r2)}


def _ea_text(a: ArrheniusResult | None, value_error: Any) -> str:
    if a is None or not math.isfinite(a.Ea_eV):
        return "not determined"
    return value_error(a.Ea_eV, a.Ea_stderr_eV)


# --------------------------------------------------------------------------- peaks
def drt_peaks(spectrum: Spectrum, **drt_options: Any) -> tuple[DRTPeak, ...]:
    """The DRT peaks of one spectrum that can be tracked.

    Parameters
    ----------
    spectrum
        The spectrum.
    **drt_options
        Passed to :func:`eisfit.drt` (``lam``, ``tail``, ``peak_prominence``...).

    Returns
    -------
    tuple of DRTPeak
        Each peak's τ (s), resistance (area under the peak, Ω) and apex frequency (Hz),
        fastest first. Peaks whose apex lies at the edge of the DRT's τ grid (within 1.5 grid
        steps: the process has moved out of the window and its τ is the end of the grid) are
        left out; peaks just outside the measured range keep ``extrapolated=True``.
    """
    if not isinstance(spectrum, Spectrum):
        raise TrackError(f"drt_peaks needs a Spectrum, got {type(spectrum).__name__}")
    result = drt(spectrum, **drt_options)
    lo, hi = np.log(result.tau[0]), np.log(result.tau[-1])
    edge = 1.5 * result.dlntau
    return tuple(p for p in result.peaks
                 if np.log(p.tau) - lo > edge and hi - np.log(p.tau) > edge and p.resistance > 0)


# --------------------------------------------------------------------------- inputs
def _inputs(
    spectra_or_series: Any, temperatures_K: Sequence[float] | None
) -> tuple[list[Spectrum], np.ndarray, list[str], list[Any] | None]:
    """Spectra, temperatures (K), labels and fits (or None), in ascending temperature."""
    results = None
    if hasattr(spectra_or_series, "results") and hasattr(spectra_or_series, "temperatures_K"):
        results = list(spectra_or_series.results)
        spectra = [r.spectrum for r in results]
        temps = [float(t) for t in spectra_or_series.temperatures_K]
        labels = list(spectra_or_series.labels)
    else:
        items = list(spectra_or_series)
        if items and all(hasattr(r, "spectrum") and hasattr(r, "apex_hz") for r in items):
            results = items
            items = [r.spectrum for r in items]
        if not all(isinstance(s, Spectrum) for s in items):
            raise TrackError("spectra_or_series: expected a Series, Spectrum objects or fits")
        spectra = items
        if temperatures_K is None:
            temps = [s.temperature for s in spectra]
            if any(t is None for t in temps):
                raise TrackError("temperatures_K: needed (a spectrum has no temperature in its "
                                 "metadata)")
        else:
            temps = [float(t) for t in temperatures_K]
        labels = [str(s.source or f"spectrum {i}") for i, s in enumerate(spectra)]
    if len(temps) != len(spectra):
        raise TrackError(f"temperatures_K: {len(temps)} temperatures for {len(spectra)} spectra")
    t = np.array(temps, float)
    if not np.all(np.isfinite(t)) or np.any(t < 150):
        raise TrackError("temperatures_K: temperatures must be finite and in K (>= 150 K)")
    order = sorted(range(len(t)), key=lambda i: t[i])
    fits = None if results is None else [results[i] for i in order]
    return [spectra[i] for i in order], t[order], [labels[i] for i in order], fits


# --------------------------------------------------------------------------- linking
@dataclass
class _Open:
    """A track being built: its points (spectrum index, 1/T, ln τ, ln R, peak)."""

    points: list[tuple[int, float, float, float, DRTPeak]]
    misses: int = 0

    def slope(self) -> float | None:
        if len(self.points) < 2:
            return None
        x, lt = zip(*[(p[1], p[2]) for p in self.points[-3:]], strict=True)
        return float(np.polyfit(x, lt, 1)[0]) if len(set(x)) > 1 else None

    def distances(self, x: float, hint: float, peak: DRTPeak) -> tuple[float, float]:
        """|ln τ − predicted ln τ| and |ln R − predicted ln R| of ``peak`` at 1/T = x."""
        lt_p, lr_p = math.log(peak.tau), math.log(peak.resistance)
        last = self.points[-3:]
        xs = np.array([p[1] for p in last])
        if len(last) >= 2 and np.ptp(xs) > 0:
            lt = np.polyval(np.polyfit(xs, [p[2] for p in last], 1), x)
            lr = np.polyval(np.polyfit(xs, [p[3] for p in last], 1), x)
            return abs(lt_p - float(lt)), abs(lr_p - float(lr))
        _, x0, lt0, lr0, _ = self.points[-1]
        # one point: τ from the other tracks' slope, R at constant capacitance (R ∝ τ)
        return abs(lt_p - (lt0 + hint * (x - x0))), abs(lr_p - (lr0 + lt_p - lt0))


def _link(
    peaks: Sequence[Sequence[DRTPeak]], temps: np.ndarray, max_jump_decades: float,
    max_area_ratio: float, max_gap: int,
) -> list[list[tuple[int, float, float, float, DRTPeak]]]:
    """The matching rule of the module docstring: lists of points, one per track."""
    from scipy.optimize import linear_sum_assignment

    open_: list[_Open] = []
    done: list[_Open] = []
    jump, area = max_jump_decades * math.log(10), math.log(max_area_ratio)
    for k, (t, ps) in enumerate(zip(temps, peaks, strict=True)):
        x = 1.0 / float(t)
        slopes = [s for s in (o.slope() for o in open_ + done) if s is not None]
        hint = float(np.median(slopes)) if slopes else 0.0
        cost = np.full((len(open_), len(ps)), np.inf)
        for i, o in enumerate(open_):
            for j, p in enumerate(ps):
                dt, dr = o.distances(x, hint, p)
                if dt <= jump and dr <= area:
                    cost[i, j] = dt / jump + dr / area
        pairs = []
        if cost.size and np.isfinite(cost).any():
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e6))
            pairs = [(i, j) for i, j in zip(rows, cols, strict=True) if np.isfinite(cost[i, j])]
        taken_t = {i for i, _ in pairs}
        taken_p = {j for _, j in pairs}
        for i, j in pairs:
            p = ps[j]
            open_[i].points.append((k, x, math.log(p.tau), math.log(p.resistance), p))
            open_[i].misses = 0
        still = []
        for i, o in enumerate(open_):
            if i not in taken_t:
                o.misses += 1
            (done if o.misses > max_gap else still).append(o)
        open_ = still + [
            _Open([(k, x, math.log(p.tau), math.log(p.resistance), p)])
            for j, p in enumerate(ps) if j not in taken_p
        ]
    return [o.points for o in done + open_]


def _track(points: list[tuple[int, float, float, float, DRTPeak]], temps: np.ndarray) -> DrtTrack:
    idx = tuple(p[0] for p in points)
    peaks = [p[4] for p in points]

    def ro(values: Any, dtype: Any = float) -> np.ndarray:
        a = np.array(values, dtype)
        a.setflags(write=False)
        return a

    return DrtTrack(
        index=idx,
        temperature_K=ro([temps[i] for i in idx]),
        tau_s=ro([p.tau for p in peaks]),
        resistance_ohm=ro([p.resistance for p in peaks]),
        frequency_Hz=ro([p.frequency for p in peaks]),
        outside=ro([p.extrapolated for p in peaks], bool),
    )


def _tracks_from_peaks(
    peaks: Sequence[Sequence[DRTPeak]], temps: np.ndarray, max_jump_decades: float,
    max_area_ratio: float, max_gap: int,
) -> tuple[DrtTrack, ...]:
    if not (max_jump_decades > 0 and max_area_ratio > 1 and max_gap >= 0):
        raise TrackError("max_jump_decades must be > 0, max_area_ratio > 1 and max_gap >= 0")
    linked = _link(peaks, temps, max_jump_decades, max_area_ratio, int(max_gap))
    tracks = [_track(p, temps) for p in linked]
    return tuple(sorted(tracks, key=lambda t: float(np.median(np.log(t.tau_s)))))


def track_peaks(
    spectra_or_series: Any,
    temperatures_K: Sequence[float] | None = None,
    *,
    max_jump_decades: float = MAX_JUMP_DECADES,
    max_area_ratio: float = MAX_AREA_RATIO,
    max_gap: int = MAX_GAP,
    **drt_options: Any,
) -> tuple[DrtTrack, ...]:
    """Link the DRT peaks of a temperature series into tracks, one per process.

    Parameters
    ----------
    spectra_or_series
        A :class:`~eisfit.series.temperature.Series`, or Spectrum objects (or fits) of one cell.
    temperatures_K
        Temperature of each spectrum (K); default: a Series' own, or each spectrum's
        ``meta["temperature"]``.
    max_jump_decades
        Largest distance (decades) between a peak's τ and the track's prediction.
    max_area_ratio
        Largest factor between a peak's resistance and the track's prediction.
    max_gap
        Consecutive temperatures a track may miss before it ends.
    **drt_options
        Passed to :func:`eisfit.drt`.

    Returns
    -------
    tuple of DrtTrack
        Every track (also single points), ordered by median τ, without activation energies
        (:func:`drt_arrhenius` adds them). The matching rule is in the module docstring.

    Raises
    ------
    TrackError
        No spectra, a temperature missing or not in K, or a limit out of range.
    """
    spectra, temps, _, _ = _inputs(spectra_or_series, temperatures_K)
    peaks = [drt_peaks(s, **drt_options) for s in spectra]
    return _tracks_from_peaks(peaks, temps, max_jump_decades, max_area_ratio, max_gap)


# --------------------------------------------------------------------------- slope change
def _hinge(x: np.ndarray, y: np.ndarray, xb: float) -> tuple[np.ndarray, np.ndarray, float]:
    a = np.column_stack([np.ones_like(x), np.minimum(x - xb, 0), np.maximum(x - xb, 0)])
    beta, *_ = np.linalg.lstsq(a, y, rcond=None)
    rss = float(np.sum((y - a @ beta) ** 2))
    return beta, np.linalg.pinv(a.T @ a), rss


def slope_change(temperature_K: Sequence[float], resistance: Sequence[float]) -> SlopeChange | None:
    """Two Arrhenius lines with a break against one, for ``ln(T/R)`` against 1/T.

    Parameters
    ----------
    temperature_K
        Temperatures (K).
    resistance
        Resistances (Ω, or any quantity ∝ 1/σ), one per temperature.

    Returns
    -------
    SlopeChange or None
        The best continuous two-line fit (break searched on 1/T between the third and the
        third-last point), compared with one line by an F-test on the two extra parameters
        and by BIC; None with fewer than :data:`SLOPE_CHANGE_MIN_POINTS` distinct temperatures.
    """
    t = np.asarray(temperature_K, float)
    x, y = 1.0 / t, np.log(t / np.asarray(resistance, float))
    n = x.size
    if np.unique(x).size < SLOPE_CHANGE_MIN_POINTS:
        return None
    xs = np.sort(x)
    line = np.polyfit(x, y, 1)
    rss1 = float(np.sum((y - np.polyval(line, x)) ** 2))
    best = min((_hinge(x, y, xb) + (xb,) for xb in np.linspace(xs[2], xs[-3], 61)),
               key=lambda h: h[2])
    beta, cov_u, rss2, xb = best
    dof = n - 4
    tiny = 1e-12 * max(1.0, float(np.sum(y**2)))
    if rss1 <= tiny or dof < 1:
        f_stat, p = 0.0, 1.0
    else:
        f_stat = ((rss1 - rss2) / 2) / max(rss2 / dof, 1e-300)
        p = float(stats.f.sf(f_stat, 2, dof))
    dbic = (n * math.log(max(rss2, 1e-300) / n) + 4 * math.log(n)) - (
        n * math.log(max(rss1, 1e-300) / n) + 2 * math.log(n))
    se = np.sqrt(np.clip(np.diag(cov_u) * rss2 / max(dof, 1), 0, None))
    above, below = -beta[1] * K_B_EV, -beta[2] * K_B_EV  # x < xb: above the break in T
    significant = bool(p < SLOPE_CHANGE_P and dbic < 0
                       and abs(above - below) >= SLOPE_CHANGE_MIN_EV)
    return SlopeChange(
        significant=significant, break_K=float(1.0 / xb),
        Ea_below_eV=float(below), Ea_below_stderr_eV=float(se[2] * K_B_EV),
        Ea_above_eV=float(above), Ea_above_stderr_eV=float(se[1] * K_B_EV),
        p_value=p, delta_bic=float(dbic),
    )


# --------------------------------------------------------------------------- analysis
def _activation(track: DrtTrack) -> DrtTrack:
    """The track with its two Arrhenius fits and its slope-change test."""
    if track.n < MIN_TRACK_POINTS:
        return track
    notes = list(track.notes)
    fits = {}
    for name, values in (("resistance", track.resistance_ohm), ("tau", track.tau_s)):
        try:
            fits[name] = arrhenius(track.temperature_K, values, form=FORM, quantity="resistance",
                                   min_points=MIN_TRACK_POINTS)
        except ArrheniusError as exc:
            fits[name] = None
            notes.append(f"no Ea from {name}: {exc}")
    if track.outside.any():
        notes.append(f"{int(track.outside.sum())} of {track.n} apexes lie outside the measured "
                     "range (the arc is only partly seen there)")
    return replace(track, ea_resistance=fits["resistance"], ea_tau=fits["tau"],
                   slope_change=slope_change(track.temperature_K, track.resistance_ohm),
                   notes=tuple(notes))


def _role_distances(track: DrtTrack, fits: Sequence[Any]) -> dict[str, float]:
    """Role -> median |log10 τ_track − log10 τ_role| over the track's spectra that have it."""
    out: dict[str, list[float]] = {}
    for i, tau in zip(track.index, track.tau_s, strict=True):
        r = fits[i]
        for role, f_apex in r.apex_hz.items():
            if role in r.resistances and f_apex > 0 and math.isfinite(f_apex):
                tau_role = 1.0 / (2 * math.pi * f_apex)
                out.setdefault(role, []).append(abs(math.log10(tau / tau_role)))
    half = track.n / 2
    return {role: float(np.median(d)) for role, d in out.items() if len(d) >= half}


def _circuit_ea(track: DrtTrack, role: str, fits: Sequence[Any]) -> ArrheniusResult | None:
    """The circuit's Ea of ``role`` over the track's spectra, in the track's form."""
    temps, values, errs = [], [], []
    for i, t in zip(track.index, track.temperature_K, strict=True):
        r = fits[i]
        v = r.resistances.get(role)
        if v is not None and v > 0 and math.isfinite(v):
            temps.append(float(t))
            values.append(float(v))
            errs.append(float(r.resistance_stderr.get(role, math.nan)))
    e = np.array(errs)
    weights = e if e.size and np.all(np.isfinite(e)) and np.all(e > 0) else None
    try:
        return arrhenius(temps, values, weights, form=FORM, quantity="resistance",
                         min_points=MIN_TRACK_POINTS)
    except ArrheniusError:
        return None


def _agreement(drt_ea: ArrheniusResult | None, circuit: ArrheniusResult | None) -> str | None:
    if drt_ea is None or circuit is None:
        return None
    a, b = drt_ea.Ea_eV, circuit.Ea_eV
    sa, sb = drt_ea.Ea_stderr_eV, circuit.Ea_stderr_eV
    if not all(math.isfinite(v) for v in (a, b, sa, sb)):
        return None
    diff = abs(a - b)
    far = diff > DISAGREE_SIGMA * math.hypot(sa, sb) and diff > DISAGREE_EV
    return "disagree" if far else "agree"


def _compare(tracks: list[DrtTrack], fits: Sequence[Any], match_decades: float) -> list[DrtTrack]:
    """Each analysed track matched to its nearest fitted role (one track per role)."""
    candidates = sorted(
        (d, k, role)
        for k, t in enumerate(tracks) if t.ea_resistance is not None
        for role, d in _role_distances(t, fits).items() if d <= match_decades
    )
    used_roles: set[str] = set()
    matched: dict[int, tuple[str, float]] = {}
    for d, k, role in candidates:
        if k not in matched and role not in used_roles:
            matched[k] = (role, d)
            used_roles.add(role)
    out = []
    for k, t in enumerate(tracks):
        if k in matched:
            role, d = matched[k]
            circ = _circuit_ea(t, role, fits)
            t = replace(t, role=role, role_distance_decades=d, circuit_ea=circ,
                        agreement=_agreement(t.ea_resistance, circ))
        out.append(t)
    return out


def drt_arrhenius(
    spectra_or_series: Any,
    temperatures_K: Sequence[float] | None = None,
    *,
    max_jump_decades: float = MAX_JUMP_DECADES,
    max_area_ratio: float = MAX_AREA_RATIO,
    max_gap: int = MAX_GAP,
    match_decades: float = MATCH_DECADES,
    **drt_options: Any,
) -> DrtTracks:
    """Circuit-free activation energies: the DRT peaks tracked through a series.

    Parameters
    ----------
    spectra_or_series
        A :class:`~eisfit.series.temperature.Series` (its fits are compared with the tracks), fits
        (:class:`~eisfit.FitResult`, compared too) or Spectrum objects of one cell.
    temperatures_K
        Temperature of each spectrum (K) when not a Series and not in the spectra's metadata.
    max_jump_decades, max_area_ratio, max_gap
        The matching rule (:func:`track_peaks`).
    match_decades
        Largest median distance (decades) between a track's τ and a fitted role's.
    **drt_options
        Passed to :func:`eisfit.drt`.

    Returns
    -------
    DrtTracks
        Every track; those of at least :data:`MIN_TRACK_POINTS` temperatures with Ea from
        ``ln(T/R)`` and from ``ln(T/τ)`` (± standard errors, unweighted regressions), the
        slope-change test, and with fits the matched role, its Ea over the same spectra and
        whether the two agree.

    Raises
    ------
    TrackError
        As :func:`track_peaks`.

    Examples
    --------
    >>> import eisfit
    >>> series = eisfit.fit_series("data/latp_pellet")           # doctest: +SKIP
    >>> print(eisfit.drt_arrhenius(series).report())              # doctest: +SKIP
    """
    spectra, temps, labels, fits = _inputs(spectra_or_series, temperatures_K)
    if not spectra:
        raise TrackError("spectra_or_series: no spectra")
    peaks, warnings = [], []
    for s, lab in zip(spectra, labels, strict=True):
        try:
            peaks.append(drt_peaks(s, **drt_options))
        except SpectrumError as exc:  # too few points, |Z| = 0: that spectrum has no peaks
            peaks.append(())
            warnings.append(f"{lab}: no DRT: {exc}")
    tracks = [_activation(t) for t in _tracks_from_peaks(
        peaks, temps, max_jump_decades, max_area_ratio, max_gap)]
    if fits is not None:
        tracks = _compare(tracks, fits, match_decades)
    t = np.array(temps, float)
    t.setflags(write=False)
    return DrtTracks(tracks=tuple(tracks), temperatures_K=t, labels=tuple(labels),
                     peaks=tuple(peaks), compared=fits is not None, warnings=tuple(warnings))
