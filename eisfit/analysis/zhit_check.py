"""Z-HIT: the impedance modulus reconstructed from the phase, a check of a spectrum's validity.

For a linear, causal, stable and time-invariant cell whose impedance has no zeros in the right
half-plane (every passive electrochemical cell), ln|Z| and the phase φ = arg Z are a Hilbert
pair. With u = ln ω the relation reads

    ln|Z(u0)| = const + (2/π) ∫^{u0} φ du + (1/π) ∫_0^∞ (coth w − 1) [φ(u0−w) − φ(u0+w)] dw.

The first-order Z-HIT of Ehm, Göhr, Kaus, Röseler and Schiller (Acta Chim. Hung. 137 (2000)
145; Schiller, Richter, Göhr, Kaus, Electrochim. Acta 46 (2001) 3619) keeps the leading term
of the last integral's expansion in derivatives of φ:

    ln|Z(u0)| ≈ const + (2/π) ∫_{us}^{u0} φ du + γ dφ/du (u0),   γ = −π/6.

(With φ = arg Z, negative for a capacitance: for Z = 1/(jωC), φ = −π/2 and the integral gives
d ln|Z|/d ln ω = −1.) The first-order form leaves an error of its own of about ±1.5 % of |Z|
around the time constant of an ideal RC element (the expansion in derivatives is asymptotic,
not convergent, for so sharp a phase step); the full kernel, ``method="full"`` (the default),
has none: on a noise-free R-RC spectrum the reconstruction is exact to ~1e-5 a decade inside
the measured range. The kernel decays as 2e^{−2w}, so the phase is needed only about a decade
either side of each point; beyond the measured range it is continued linearly (clipped to
±π/2), which leaves up to ~2 % at the last point of a spectrum cut inside an arc and ~0.2 %
five points (half a decade) in.

The phase is smoothed before it is integrated: a cubic smoothing spline in ln ω whose weight
is chosen by generalised cross-validation (:func:`scipy.interpolate.make_smoothing_spline`),
so noise does not accumulate in the integral as a random walk; ``smoothing=0`` interpolates.
The constant (and with ``slope=True`` a term linear in ln ω, which absorbs a constant phase
offset of the instrument) is fitted by least squares to ln|Z| over a reference window of
trusted frequencies; the residual of each point is ``|Z|/|Z|_ZHIT − 1``. A drifting cell
changes its modulus and phase inconsistently: its residuals grow away from the window,
typically at the slow low-frequency points measured last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline, make_smoothing_spline

from eisfit.exceptions import SpectrumError
from eisfit.io.spectrum import Spectrum

__all__ = ["zhit", "ZHITResult", "DEFAULT_THRESHOLD", "DEFAULT_TREND_THRESHOLD",
           "DEFAULT_TREND_WINDOW", "GAMMA"]

#: The first-order Z-HIT coefficient of dφ/d ln ω (Ehm et al. 2000).
GAMMA = -np.pi / 6

#: Default pass threshold on the largest |residual| (fraction of |Z|), raised at the ends by
#: :data:`EDGE_ALLOWANCE`. Chosen from synthetic spectra (R-RQ-RQ and blocking cells
#: R-RQ-RQ-Q, 71 points 1 MHz-0.1 Hz, Gaussian noise of 0.5 % of |Z| on each of Z' and Z'';
#: the study is in docs/analyses.md, "Z-HIT"): the residuals of a valid spectrum have an rms of
#: ~0.7 % and their largest is typically 2.2-2.4 %, at the ends; with the trend criterion
#: below, 98-100 % of valid spectra pass. Scale it with the noise of your data (about 5x the
#: per-point noise).
DEFAULT_THRESHOLD = 0.025

#: Default threshold on the largest |running mean| of the residuals over
#: :data:`DEFAULT_TREND_WINDOW` neighbouring frequencies (fraction of |Z|): noise averages
#: out, a drift does not. The reconstruction's own noise is smooth (integrated phase noise), so
#: the running mean of a valid spectrum with 0.5 % noise reaches ~1.1 % (median): 1 % failed
#: 12-15 % of valid spectra, 1.25 % 1-5 %, 1.5 % 0-2 %, while R1 drifting by 30 % during the
#: sweep failed all two-arc spectra (and a third of blocking cells, which lin-KK passes).
DEFAULT_TREND_THRESHOLD = 0.015

#: Points in the running mean of the trend criterion (half a decade at 10 points a decade).
DEFAULT_TREND_WINDOW = 5

#: Default reference window, as fractions of the log-frequency range from its lowest end: the
#: upper middle of the spectrum, away from the slow low-frequency points where a drift has
#: built up and from the highest decade (cables, the continuation beyond the range).
DEFAULT_REFERENCE = (0.4, 0.85)

#: Allowance added to both thresholds at the ends of the spectrum, decaying as exp(-2 d) with
#: d the distance to the nearer end in ln ω (10 % of it is left half a decade in, 1 % a decade
#: in). The kernel needs the phase beyond the measured range: the linear continuation of a
#: spectrum cut inside an arc leaves up to ~2.4 % at its last point without noise, and the
#: smoothed phase's end slope carries the noise (0.5 % noise: rms 2.6 % at the highest point of
#: R-RQ-RQ spectra cut inside the first arc, 0.7 % in the interior).
EDGE_ALLOWANCE = 0.05

#: Fewest distinct frequencies Z-HIT is run on.
MIN_POINTS = 8

_METHODS = ("full", "first-order")
_QUAD_NODES = 160
_QUAD_SPAN = 9.0  # w beyond which (coth w - 1) < 3e-8


def _ro(a: Any) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ZHITResult:
    """Outcome of a Z-HIT check. Immutable; arrays are read-only, in the spectrum's order.

    Attributes
    ----------
    frequency : ndarray
        Frequencies in Hz.
    modulus : ndarray
        Measured |Z| in Ohm.
    modulus_fit : ndarray
        |Z| reconstructed from the phase in Ohm.
    phase : ndarray
        Measured phase arg Z in rad (negative for capacitive behaviour).
    phase_smooth : ndarray
        The smoothed phase that was integrated, in rad.
    residuals : ndarray
        ``|Z|/|Z|_ZHIT − 1`` per point (fraction, not %).
    reference : tuple of float
        The reference window (lowest, highest frequency in Hz) the constant was fitted in.
    method : str
        ``"full"`` (the whole Hilbert kernel) or ``"first-order"`` (γ = −π/6).
    smoothing : float or None
        Weight of the smoothing spline's roughness penalty as given (0: interpolated; None:
        chosen by generalised cross-validation).
    slope : bool
        Whether a term linear in ln ω was fitted with the constant.
    threshold : float
        Pass threshold on :attr:`max_residual` (fraction of |Z|).
    trend_threshold : float or None
        Pass threshold on :attr:`max_trend` (fraction of |Z|); None when not applied.
    trend_window : int
        Points in the running mean behind :attr:`max_trend`.
    edge_allowance : float
        Added to both thresholds at the ends, decaying as exp(−2 d) with the distance d to the
        nearer end in ln ω (:data:`EDGE_ALLOWANCE`; see :attr:`allowance`).
    passed : bool
        True when no point is :attr:`deviating`: each |residual| below ``threshold`` and each
        running mean below ``trend_threshold``, plus the point's :attr:`allowance`.
    """

    frequency: np.ndarray
    modulus: np.ndarray
    modulus_fit: np.ndarray
    phase: np.ndarray
    phase_smooth: np.ndarray
    residuals: np.ndarray
    reference: tuple[float, float]
    method: str
    smoothing: float | None
    slope: bool = False
    threshold: float = DEFAULT_THRESHOLD
    trend_threshold: float | None = DEFAULT_TREND_THRESHOLD
    trend_window: int = DEFAULT_TREND_WINDOW
    edge_allowance: float = EDGE_ALLOWANCE
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        for name in ("frequency", "modulus", "modulus_fit", "phase", "phase_smooth",
                     "residuals"):
            object.__setattr__(self, name, _ro(getattr(self, name)))
        object.__setattr__(self, "passed", not bool(self.deviating.any()))

    @property
    def max_residual(self) -> float:
        """Largest |residual| (fraction of |Z|)."""
        return float(np.abs(self.residuals).max())

    @property
    def rms_residual(self) -> float:
        """Root-mean-square residual (fraction of |Z|)."""
        return float(np.sqrt(np.mean(self.residuals**2)))

    @property
    def trend(self) -> np.ndarray:
        """Running mean of the residuals over ``trend_window`` points, centred on each point,
        in the spectrum's order (fraction of |Z|; the ends average the points there are)."""
        order = np.argsort(self.frequency)
        r = self.residuals[order]
        w = max(1, min(self.trend_window, r.size))
        kernel = np.ones(w)
        mean = np.convolve(r, kernel, "same") / np.convolve(np.ones(r.size), kernel, "same")
        out = np.empty_like(mean)
        out[order] = mean
        return out

    @property
    def max_trend(self) -> float:
        """Largest |running mean| of the residuals over whole windows (fraction of |Z|)."""
        r = self.residuals[np.argsort(self.frequency)]
        w = max(1, min(self.trend_window, r.size))
        return float(np.abs(np.convolve(r, np.ones(w) / w, "valid")).max())

    @property
    def allowance(self) -> np.ndarray:
        """What each point's thresholds are raised by: ``edge_allowance · exp(−2 d)``, d the
        distance in ln ω to the nearer end of the spectrum (fraction of |Z|)."""
        u = np.log(self.frequency)
        d = np.minimum(u - u.min(), u.max() - u)
        return self.edge_allowance * np.exp(-2 * d)

    @property
    def deviating(self) -> np.ndarray:
        """True for each point whose |residual| is over the threshold or whose centred running
        mean is over the trend threshold, each plus the point's :attr:`allowance` (a drift
        typically shows at low frequency)."""
        bad = np.abs(self.residuals) >= self.threshold + self.allowance
        if self.trend_threshold is not None:
            bad |= np.abs(self.trend) >= self.trend_threshold + self.allowance
        return bad

    @property
    def deviating_frequencies(self) -> np.ndarray:
        """Frequencies (Hz) of the :attr:`deviating` points, highest first."""
        return np.sort(self.frequency[self.deviating])[::-1]

    def summary(self) -> str:
        """One line: verdict, thresholds, largest, trend and rms residual, deviating points."""
        verdict = "passed" if self.passed else "FAILED"
        edge = (f", up to {100 * self.edge_allowance:+.2f} % at the ends"
                if self.edge_allowance else "")
        trend = f"max {self.trend_window}-point trend {100 * self.max_trend:.2f} %"
        if self.trend_threshold is not None:
            trend += f" (threshold {100 * self.trend_threshold:.2f} %{edge})"
        dev = self.deviating_frequencies
        where = (f", {dev.size} point{'s' if dev.size != 1 else ''} deviate "
                 f"({dev.min():.3g}-{dev.max():.3g} Hz)" if dev.size else "")
        lo, hi = self.reference
        return (
            f"Z-HIT {verdict}: max |residual| {100 * self.max_residual:.2f} % of |Z| "
            f"(threshold {100 * self.threshold:.2f} %{edge}), {trend}, "
            f"rms {100 * self.rms_residual:.2f} %{where}; reference {lo:.3g}-{hi:.3g} Hz"
        )

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (plain Python types; arrays as lists)."""
        return {
            "passed": self.passed,
            "method": self.method,
            "threshold": self.threshold,
            "max_residual": self.max_residual,
            "trend_threshold": self.trend_threshold,
            "trend_window": self.trend_window,
            "edge_allowance": self.edge_allowance,
            "max_trend": self.max_trend,
            "rms_residual": self.rms_residual,
            "reference_Hz": [float(x) for x in self.reference],
            "smoothing": self.smoothing,
            "slope": self.slope,
            "deviating_frequency_Hz": self.deviating_frequencies.tolist(),
            "frequency_Hz": self.frequency.tolist(),
            "modulus_ohm": self.modulus.tolist(),
            "modulus_fit_ohm": self.modulus_fit.tolist(),
            "residuals": self.residuals.tolist(),
        }


# --------------------------------------------------------------------------- the steps
def _phase_spline(
    u: np.ndarray, phi: np.ndarray, smoothing: Any
) -> tuple[Any, float | None]:
    """The phase as a cubic spline in u = ln ω: smoothed (GCV weight, or the given one) or
    interpolated (``smoothing=0``). Returns the spline and the weight given (None: GCV's)."""
    if isinstance(smoothing, str):
        if smoothing != "auto":
            raise SpectrumError(f"Z-HIT smoothing must be 'auto' or a weight >= 0, "
                                f"got {smoothing!r}")
        return make_smoothing_spline(u, phi), None
    lam = float(smoothing)
    if not lam >= 0:
        raise SpectrumError(f"Z-HIT smoothing must be 'auto' or a weight >= 0, got {smoothing}")
    if lam == 0:
        return CubicSpline(u, phi), 0.0
    return make_smoothing_spline(u, phi, lam=lam), lam


def _continued(spline: Any, lo: float, hi: float) -> Any:
    """The phase at any u: the spline inside [lo, hi], continued linearly outside with its end
    slopes, kept on the side of zero it ends on and within ±π/2 (a passive impedance's phase
    never leaves ±π/2, and changes sign only through an inductance)."""
    ends = []
    for end in (lo, hi):
        p = float(spline(end))
        bound = (-np.pi / 2, 0.0) if p <= 0 else (0.0, np.pi / 2)
        ends.append((end, p, float(spline(end, 1)), bound))

    def phase(x: np.ndarray) -> np.ndarray:
        y = spline(np.clip(x, lo, hi))
        for (end, p, d, (a, b)), outside in zip(ends, (x < lo, x > hi), strict=True):
            y = np.where(outside, np.clip(p + (x - end) * d, a, b), y)
        return y

    return phase


def _kernel_term(u: np.ndarray, phase: Any) -> np.ndarray:
    """(1/π) ∫_0^∞ (coth w − 1) [φ(u−w) − φ(u+w)] dw by Gauss–Legendre quadrature (the
    integrand is regular: −2 dφ/du at w = 0)."""
    x, weight = np.polynomial.legendre.leggauss(_QUAD_NODES)
    # nodes clustered towards w = 0, where the kernel is largest: w = span * t^2
    t = (x + 1) / 2
    w = _QUAD_SPAN * t**2
    dw = weight / 2 * 2 * _QUAD_SPAN * t
    k = 1 / np.tanh(w) - 1
    diff = phase(u[:, None] - w[None, :]) - phase(u[:, None] + w[None, :])
    return (diff * (k * dw)[None, :]).sum(axis=1) / np.pi


def reconstruct_log_modulus(
    u: np.ndarray, spline: Any, method: str = "full"
) -> np.ndarray:
    """ln|Z| from the phase, up to a constant, at ``u`` = ln ω (ascending).

    Parameters
    ----------
    u
        ln of the angular frequencies (ω in rad/s), ascending.
    spline
        The phase in rad as a spline of u (scipy's ``CubicSpline`` or ``BSpline``).
    method
        ``"full"`` (the whole kernel) or ``"first-order"`` (γ dφ/d ln ω, γ = −π/6).
    """
    integral = spline.antiderivative()
    base = 2 / np.pi * (integral(u) - integral(u[0]))
    if method == "first-order":
        return base + GAMMA * spline(u, 1)
    return base + _kernel_term(u, _continued(spline, float(u[0]), float(u[-1])))


def _reference_mask(f: np.ndarray, reference: Any) -> tuple[np.ndarray, tuple[float, float]]:
    """Points inside the reference window (Hz), default :data:`DEFAULT_REFERENCE`."""
    if reference is None:
        lf = np.log10(f)
        span = lf.max() - lf.min()
        lo, hi = (10 ** (lf.min() + a * span) for a in DEFAULT_REFERENCE)
    else:
        try:
            lo, hi = sorted(float(x) for x in reference)
        except (TypeError, ValueError):
            raise SpectrumError(
                f"Z-HIT reference must be two frequencies in Hz (low, high), got {reference!r}"
            ) from None
    mask = (f >= lo * (1 - 1e-12)) & (f <= hi * (1 + 1e-12))
    if mask.sum() < 3:
        raise SpectrumError(
            f"Z-HIT reference window {lo:.3g}-{hi:.3g} Hz holds {int(mask.sum())} points; "
            "it needs at least 3"
        )
    return mask, (float(lo), float(hi))


def _fit_constant(
    log_z: np.ndarray, rec: np.ndarray, u: np.ndarray, mask: np.ndarray, slope: bool
) -> np.ndarray:
    """The reconstruction plus the constant (and slope in u) fitted to ln|Z| in ``mask``."""
    columns = [np.ones(u.size)] + ([u - u[mask].mean()] if slope else [])
    design = np.column_stack(columns)
    coef, *_ = np.linalg.lstsq(design[mask], (log_z - rec)[mask], rcond=None)
    return rec + design @ coef


def _unique_points(f: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct frequencies ascending, the mean phase and mean ln|Z| at each (a repeated
    frequency averaged), and the index of each input point in them."""
    uf, inverse = np.unique(f, return_inverse=True)
    if uf.size < MIN_POINTS:
        raise SpectrumError(
            f"Z-HIT needs at least {MIN_POINTS} distinct frequencies, got {uf.size}"
        )
    count = np.bincount(inverse)
    order = np.argsort(f, kind="stable")
    phi = np.empty(f.size)
    phi[order] = np.unwrap(np.angle(z[order]))
    mean_phi = np.bincount(inverse, phi) / count
    mean_log = np.bincount(inverse, np.log(np.abs(z))) / count
    return uf, np.column_stack([mean_phi, mean_log]), inverse


# --------------------------------------------------------------------------- public
def zhit(
    spectrum: Spectrum,
    *,
    reference: tuple[float, float] | None = None,
    method: str = "full",
    smoothing: float | str = "auto",
    slope: bool = False,
    threshold: float | None = None,
    trend_threshold: float | None = DEFAULT_TREND_THRESHOLD,
    trend_window: int = DEFAULT_TREND_WINDOW,
    edge_allowance: float = EDGE_ALLOWANCE,
) -> ZHITResult:
    """Z-HIT check of a spectrum: |Z| reconstructed from the phase and compared with |Z|.

    Parameters
    ----------
    spectrum
        The spectrum (any frequency order; a repeated frequency is averaged).
    reference
        ``(low, high)`` frequencies in Hz of the window where the data are trusted; the
        constant of the reconstruction is fitted to ln|Z| there. Default: the upper middle
        of the range (:data:`DEFAULT_REFERENCE`: 40-85 % of the log-frequency span from its
        lowest end).
    method
        ``"full"`` (default: the whole Hilbert kernel, exact for a minimum-phase impedance)
        or ``"first-order"`` (the published Z-HIT, γ dφ/d ln ω with γ = −π/6; about ±1.5 %
        of its own around a sharp RC time constant).
    smoothing
        ``"auto"`` (default): the phase is smoothed by a cubic smoothing spline in ln ω with
        its weight chosen by generalised cross-validation; a number ≥ 0: that weight (0
        interpolates, for noise-free data).
    slope
        Also fit a term linear in ln ω with the constant (absorbs a constant phase offset of
        the instrument, at the cost of hiding a drift that is linear in ln ω).
    threshold
        Pass threshold on the largest |residual| (fraction of |Z|; default
        :data:`DEFAULT_THRESHOLD`, 2.5 %, for 0.5 % noise; see there how it was chosen).
    trend_threshold
        Pass threshold on the largest running mean of the residuals over ``trend_window``
        points (fraction of |Z|; default :data:`DEFAULT_TREND_THRESHOLD`, 1.5 %); None
        disables it.
    trend_window
        Points in that running mean (default 5).
    edge_allowance
        Raise of both thresholds at the ends of the spectrum, decaying as exp(−2 d) inwards
        (default :data:`EDGE_ALLOWANCE`, 5 %; 0 judges every point alike).

    Returns
    -------
    ZHITResult

    Raises
    ------
    SpectrumError
        Fewer than 8 distinct frequencies, a reference window with fewer than 3 points, or an
        unknown method or smoothing.
    """
    if method not in _METHODS:
        raise SpectrumError(f"Z-HIT method must be one of {', '.join(_METHODS)}; got {method!r}")
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not 0 < threshold < 1:
        raise SpectrumError(f"Z-HIT threshold is a fraction of |Z| in (0, 1), got {threshold}")
    f = np.asarray(spectrum.frequency, float)
    z = np.asarray(spectrum.z, complex)
    uf, columns, inverse = _unique_points(f, z)
    phi, log_z = columns[:, 0], columns[:, 1]
    u = np.log(2 * np.pi * uf)
    spline, lam = _phase_spline(u, phi, smoothing)
    rec = reconstruct_log_modulus(u, spline, method)
    mask, window = _reference_mask(uf, reference)
    fitted = _fit_constant(log_z, rec, u, mask, slope)
    modulus_fit = np.exp(fitted)[inverse]
    modulus = np.abs(z)
    return ZHITResult(
        frequency=f, modulus=modulus, modulus_fit=modulus_fit, phase=np.angle(z),
        phase_smooth=spline(u)[inverse], residuals=modulus / modulus_fit - 1,
        reference=window, method=method, smoothing=lam, slope=bool(slope),
        threshold=threshold, trend_threshold=trend_threshold, trend_window=int(trend_window),
        edge_allowance=float(edge_allowance),
    )
