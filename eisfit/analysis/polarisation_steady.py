"""The steady-state current of a chronoamperometry step, and the voltage steps of a record.

A step's steady current is the mean of the last part of the step (by default its last 10 %),
with a drift check on that part, or the asymptote of ``I(t) = I_ss + A exp(-t/τ)`` fitted to the
last half of the step. The exponential tail fit is made in both cases (it is drawn in plots).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from eisfit.exceptions import EisfitError

__all__ = ["SteadyState", "SteadyStateWarning", "PolarisationError", "steady_state",
           "voltage_steps", "exp_fit", "rest_start"]

#: Relative change of the current over the tail above which steady state is not reached.
DRIFT_LIMIT = 0.03
#: Fewest points of a step analysed on its own.
MIN_STEP_POINTS = 10


class PolarisationError(EisfitError):
    """A polarisation record or its analysis options cannot be used."""


class SteadyStateWarning(RuntimeWarning):
    """The current of a step was still changing at its end: steady state not reached."""


@dataclass(frozen=True)
class SteadyState:
    """The steady-state current of one voltage step.

    Attributes
    ----------
    current_A, error_A
        I_ss in A and its standard error.
    method
        How I_ss was obtained, in words.
    start_s, end_s
        Time span of the step in s.
    tail_start_s
        Start of the tail averaged (s).
    drift
        Relative change of the current's magnitude over the tail, from a straight line
        through it (negative: still falling).
    reached
        Whether ``|drift|`` is within the drift limit.
    voltage_V
        The median voltage over the tail (V), or None when the record has none.
    initial_A
        The first current of the step (A).
    tail_fit
        ``{"I_ss", "I_ss_err", "A", "tau_s", "t0_s"}`` of ``I_ss + A exp(-(t - t0)/τ)`` fitted
        to the last half of the step, or None when it did not converge.
    """

    current_A: float
    error_A: float
    method: str
    start_s: float
    end_s: float
    tail_start_s: float
    drift: float
    reached: bool
    voltage_V: float | None
    initial_A: float
    tail_fit: dict[str, float] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        from eisfit.output import json_float

        d = {k: getattr(self, k) for k in ("method", "reached")}
        for k in ("current_A", "error_A", "start_s", "end_s", "tail_start_s", "drift",
                  "voltage_V", "initial_A"):
            d[k] = json_float(getattr(self, k))
        d["tail_fit"] = (None if self.tail_fit is None
                         else {k: json_float(v) for k, v in self.tail_fit.items()})
        return d


def voltage_steps(voltage_V: np.ndarray | None, n: int, jump_V: float | None = None
                  ) -> list[slice]:
    """The voltage steps of a record: runs between jumps of the voltage.

    Parameters
    ----------
    voltage_V
        The voltage at each point (V), or None (one step).
    n
        Number of points.
    jump_V
        A change between two points larger than this starts a new step; default the larger of
        5 mV and 10× the median point-to-point change.

    Returns
    -------
    list of slice
        The steps with at least :data:`MIN_STEP_POINTS` points (all points when none has).
    """
    if voltage_V is None or n < 2 * MIN_STEP_POINTS:
        return [slice(0, n)]
    dv = np.abs(np.diff(voltage_V))
    jump = jump_V if jump_V is not None else max(5e-3, 10 * float(np.median(dv)))
    edges = [0] + [int(k) + 1 for k in np.flatnonzero(dv > jump)] + [n]
    steps = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)
             if b - a >= MIN_STEP_POINTS]
    return steps or [slice(0, n)]


def rest_start(current_A: np.ndarray, drop: float = 0.01, most: float = 0.25) -> int:
    """Where an open-circuit rest at the end of a step begins (the step's length if none).

    A rest is a trailing run of points whose currents all lie below ``drop`` times the current
    of the point before the run (the instrument switched to open circuit), at most ``most`` of
    the step long; a decay that falls 100× from one point to the next is not a polarisation.
    """
    a = np.abs(np.asarray(current_A, dtype=float))
    n = a.size
    tail_max = np.maximum.accumulate(a[::-1])[::-1]  # largest |I| from each point to the end
    for k in range(max(1, int(n * (1 - most))), n):
        if tail_max[k] < drop * a[k - 1]:
            return k
    return n


def _line(t: np.ndarray, i: np.ndarray) -> tuple[float, float, float]:
    """Slope, its standard error and the lag-1 autocorrelation of the residuals."""
    tc = t - t.mean()
    sxx = float(tc @ tc)
    slope = float(tc @ (i - i.mean())) / sxx
    res = i - i.mean() - slope * tc
    dof = max(t.size - 2, 1)
    s2 = float(res @ res) / dof
    rho = float(res[1:] @ res[:-1]) / float(res @ res) if float(res @ res) > 0 else 0.0
    return slope, math.sqrt(s2 / sxx), min(max(rho, 0.0), 0.9)


def exp_fit(t: np.ndarray, i: np.ndarray, part: float = 0.5) -> dict[str, float] | None:
    """``I_ss + A exp(-(t - t0)/τ)`` fitted to the last ``part`` of a step (t0 its first
    point); None if it does not converge."""
    from scipy.optimize import curve_fit

    half = t >= t[0] + (1 - part) * (t[-1] - t[0])
    tt, ii = t[half], i[half]
    if tt.size < 6:
        return None
    t0 = float(tt[0])
    span = float(tt[-1] - t0)
    i_end = float(np.mean(ii[-max(3, ii.size // 10):]))
    scale = max(float(np.max(np.abs(ii))), 1e-300)

    def model(x: np.ndarray, iss: float, a: float, log_tau: float) -> np.ndarray:
        return (iss + a * np.exp(-(x - t0) / (span * np.exp(log_tau)))) / scale

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, cov = curve_fit(model, tt, ii / scale, p0=[i_end, float(ii[0]) - i_end,
                                                          math.log(0.2)], maxfev=2000)
    except (RuntimeError, ValueError, TypeError):
        return None
    errs = np.sqrt(np.diag(cov)) if np.all(np.isfinite(cov)) else None
    tau = span * math.exp(p[2])
    if errs is None or not math.isfinite(tau) or tau > 100 * span:
        return None
    return {"I_ss": float(p[0]), "I_ss_err": float(errs[0]), "A": float(p[1]),
            "tau_s": tau, "t0_s": t0}


def steady_state(
    time_s: np.ndarray,
    current_A: np.ndarray,
    voltage_V: np.ndarray | None = None,
    *,
    tail: float = 0.1,
    method: str = "mean",
    drift_limit: float = DRIFT_LIMIT,
    label: str = "the record",
) -> SteadyState:
    """The steady-state current of one voltage step.

    Parameters
    ----------
    time_s, current_A, voltage_V
        The step's points (s, A, V; voltage may be None).
    tail
        Fraction of the step's duration at its end that is averaged and checked for drift
        (default 0.1: the last 10 %).
    method
        ``"mean"``: I_ss is the mean of the tail; its error the standard error of that mean
        (for correlated noise, from the effective number of independent points), plus half the
        change over the tail when that change is significant (beyond 2 standard errors).
        ``"fit"``: I_ss is the asymptote of ``I_ss + A exp(-t/τ)`` fitted to the last half of
        the step, with its standard error from the fit.
    drift_limit
        Relative change of the current over the tail above which a
        :class:`SteadyStateWarning` is issued (default 0.03).
    label
        How the step is named in the warning.

    Returns
    -------
    SteadyState
    """
    if not 0 < tail <= 0.5:
        raise PolarisationError(f"tail must be a fraction in (0, 0.5], got {tail}")
    if method not in ("mean", "fit"):
        raise PolarisationError(f"method must be 'mean' or 'fit', got {method!r}")
    t, i = np.asarray(time_s, dtype=float), np.asarray(current_A, dtype=float)
    in_tail = t >= t[-1] - tail * (t[-1] - t[0])
    if int(in_tail.sum()) < 3:
        raise PolarisationError(
            f"{label}: only {int(in_tail.sum())} point(s) in the last {tail:.0%}; "
            "at least 3 are needed for a steady current (a longer tail or a denser record)")
    tt, ii = t[in_tail], i[in_tail]
    mean = float(np.mean(ii))
    slope, slope_err, rho = _line(tt, ii)
    n_eff = ii.size * (1 - rho) / (1 + rho)
    sem = float(np.std(ii, ddof=1)) / math.sqrt(max(n_eff, 1.0))
    change = slope * float(tt[-1] - tt[0])
    systematic = abs(change) / 2 if abs(slope) > 2 * slope_err else 0.0
    drift = change / mean if mean != 0 else math.inf  # of the current's magnitude
    fit = exp_fit(t, i)
    share = f"{tail:.0%}".replace(".0%", "%")
    if method == "fit":
        if fit is None:
            raise PolarisationError(
                f"{label}: the exponential tail fit I_ss + A exp(-t/tau) did not converge; "
                "use the mean of the tail (method 'mean')")
        current, error = fit["I_ss"], fit["I_ss_err"]
        how = "asymptote of I_ss + A exp(-t/tau) fitted to the last half of the step"
    else:
        current, error = mean, math.hypot(sem, systematic)
        how = f"mean of the last {share} of the step (t >= {tt[0]:.6g} s)"
    reached = abs(drift) <= drift_limit
    if not reached:
        _warn_drift(label, drift, share)
    v = None if voltage_V is None else float(np.median(np.asarray(voltage_V)[in_tail]))
    return SteadyState(current, error, how, float(t[0]), float(t[-1]), float(tt[0]), drift,
                       reached, v, float(i[0]), fit)


def _warn_drift(label: str, drift: float, share: str) -> None:
    way = "falls" if drift < 0 else "rises"
    hint = (" (a still-decaying current: I_ss and sigma_e are upper bounds; polarise longer)"
            if drift < 0 else "")
    warnings.warn(
        f"{label}: steady state not reached: the current still {way} by {abs(drift):.1%} over "
        f"the last {share} of the step{hint}",
        SteadyStateWarning,
        stacklevel=3,
    )
