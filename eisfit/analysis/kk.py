"""Kramers–Kronig consistency by the linear lin-KK test (Schönleber et al. 2014).

A spectrum that a linear, causal, stable, time-invariant system produced can be reproduced by
a chain of Voigt elements ``R_k/(1+jωτ_k)`` with fixed, log-spaced time constants; a spectrum
from a drifting cell or with instrument artefacts cannot. The fit is linear in the resistances,
so it is a single least-squares solve per number of elements ``M``, and ``M`` is chosen by the
μ criterion of the paper.

Reference: M. Schönleber, D. Klotz, E. Ivers-Tiffée, "A Method for Improving the Robustness of
linear Kramers-Kronig Validity Tests", Electrochim. Acta 131 (2014) 20–27,
doi:10.1016/j.electacta.2014.01.034.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eisfit.exceptions import EisfitError, SpectrumError
from eisfit.findings import Finding
from eisfit.io.spectrum import Spectrum

#: Default pass threshold on the largest |relative residual| (fraction of |Z|). Chosen from
#: synthetic two-arc spectra with Gaussian noise of 0.5 % of |Z| on each of Z' and Z'' (a good
#: potentiostat on a solid electrolyte): the largest of ~140 residuals of a valid spectrum is
#: typically 1.1-1.9 % and stays below 2.5 % in 99 % of them. Scale it with the noise of your
#: data (about 5x the per-point noise; e.g. 0.5 % at 0.1 % noise).
DEFAULT_THRESHOLD = 0.025

#: Default threshold on the largest |running mean| of the residuals over
#: :data:`DEFAULT_TREND_WINDOW` neighbouring frequencies (fraction of |Z|). Noise averages out
#: in a running mean, a drift does not: a resistance drifting during the sweep leaves smooth
#: residuals of 1-2 % that hide below the point-wise threshold in 0.5 % noise. Valid spectra
#: with 0.5 % noise stay below 1 % in ~97 % of cases (``tests/test_validate_kk.py``).
DEFAULT_TREND_THRESHOLD = 0.01

#: Points in the running mean of the trend criterion (half a decade at 10 points/decade).
DEFAULT_TREND_WINDOW = 5

#: Voigt elements a decade the default largest M allows at least (as the floor's chain,
#: :mod:`eisfit.analysis.floor`): on exact two-arc spectra with a CPE tail and 1.2-1.5 points a
#: decade,
#: 3 a decade leave at most ~2.4 % of |Z| (2 a decade: ~3 %, so valid spectra failed).
MIN_PER_DECADE = 3

_FIT_TYPES = ("complex", "real", "imag")


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class KKResult:
    """Outcome of a lin-KK test. Immutable; arrays are read-only.

    Attributes
    ----------
    frequency : ndarray
        Frequencies in Hz, in the spectrum's order.
    z : ndarray
        Measured impedance in Ohm.
    z_fit : ndarray
        Impedance of the fitted Voigt chain in Ohm.
    residuals_real, residuals_imag : ndarray
        ``Re(Z - Z_fit)/|Z|`` and ``Im(Z - Z_fit)/|Z|`` per point (fractions, not %).
    n_elements : int
        Number of Voigt elements ``M`` used.
    mu : float
        The μ over/under-fitting measure at ``M`` (``1 - Σ|R_k<0| / Σ|R_k≥0|``).
    c : float or None
        The μ cut-off used to choose ``M`` (None when ``M`` was fixed).
    tau : ndarray
        Time constants τ_k of the Voigt elements in s.
    resistances : ndarray
        Fitted R_k in Ohm (can be negative: the fit is unconstrained).
    series_resistance : float
        Series resistance in Ohm.
    inductance : float
        Series inductance in H (0 when not fitted).
    capacitance : float
        Series capacitance in F (``inf`` when not fitted or negligible).
    fit_type : str
        ``"complex"``, ``"real"`` or ``"imag"``: which parts of Z were fitted.
    threshold : float
        Pass threshold on ``max_residual`` (fraction of |Z|).
    trend_threshold : float or None
        Pass threshold on ``max_trend`` (fraction of |Z|); None when not applied.
    trend_window : int
        Points in the running mean behind ``max_trend``.
    passed : bool
        True when ``max_residual < threshold`` and (if applied) ``max_trend < trend_threshold``.
    """

    frequency: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    residuals_real: np.ndarray
    residuals_imag: np.ndarray
    n_elements: int
    mu: float
    c: float | None
    tau: np.ndarray
    resistances: np.ndarray
    series_resistance: float
    inductance: float
    capacitance: float
    fit_type: str
    threshold: float
    trend_threshold: float | None = DEFAULT_TREND_THRESHOLD
    trend_window: int = DEFAULT_TREND_WINDOW
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        for name in ("frequency", "z", "z_fit", "residuals_real", "residuals_imag", "tau",
                     "resistances"):
            object.__setattr__(self, name, _ro(getattr(self, name)))
        ok = self.max_residual < self.threshold
        if self.trend_threshold is not None:
            ok = ok and self.max_trend < self.trend_threshold
        object.__setattr__(self, "passed", bool(ok))

    @property
    def M(self) -> int:  # noqa: N802 - the paper's symbol
        """Number of Voigt elements (alias of :attr:`n_elements`)."""
        return self.n_elements

    @property
    def max_residual(self) -> float:
        """Largest |residual| over real and imaginary parts (fraction of |Z|)."""
        return float(max(np.abs(self.residuals_real).max(), np.abs(self.residuals_imag).max()))

    @property
    def trend_real(self) -> np.ndarray:
        """Running mean of ``residuals_real`` over ``trend_window`` points, low to high f."""
        return self._running_mean(self.residuals_real)

    @property
    def trend_imag(self) -> np.ndarray:
        """Running mean of ``residuals_imag`` over ``trend_window`` points, low to high f."""
        return self._running_mean(self.residuals_imag)

    def _running_mean(self, r: np.ndarray) -> np.ndarray:
        w = max(1, min(self.trend_window, r.size))
        return np.convolve(r[np.argsort(self.frequency)], np.ones(w) / w, mode="valid")

    @property
    def max_trend(self) -> float:
        """Largest |running mean| of the residuals (fraction of |Z|): systematic misfit."""
        return float(max(np.abs(self.trend_real).max(), np.abs(self.trend_imag).max()))

    @property
    def rms_residual(self) -> float:
        """Root-mean-square residual over real and imaginary parts (fraction of |Z|)."""
        r = np.concatenate([self.residuals_real, self.residuals_imag])
        return float(np.sqrt(np.mean(r**2)))

    def summary(self) -> str:
        """One line: verdict, thresholds, largest, trend and rms residual, M and μ."""
        verdict = "passed" if self.passed else "FAILED"
        trend = f"max {self.trend_window}-point trend {100 * self.max_trend:.2f} %"
        if self.trend_threshold is not None:
            trend += f" (threshold {100 * self.trend_threshold:.2f} %)"
        return (
            f"lin-KK {verdict}: max |residual| {100 * self.max_residual:.2f} % of |Z| "
            f"(threshold {100 * self.threshold:.2f} %), {trend}, "
            f"rms {100 * self.rms_residual:.2f} %, M = {self.n_elements}, mu = {self.mu:.3f}"
            + (f" (c = {self.c})" if self.c is not None else " (M fixed)")
        )

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (plain Python types; arrays as lists)."""
        cap = self.capacitance
        return {
            "passed": self.passed,
            "threshold": self.threshold,
            "max_residual": self.max_residual,
            "trend_threshold": self.trend_threshold,
            "trend_window": self.trend_window,
            "max_trend": self.max_trend,
            "rms_residual": self.rms_residual,
            "n_elements": self.n_elements,
            "mu": self.mu,
            "c": self.c,
            "fit_type": self.fit_type,
            "series_resistance_ohm": self.series_resistance,
            "inductance_H": self.inductance,
            "capacitance_F": None if not np.isfinite(cap) else cap,
            "frequency_Hz": self.frequency.tolist(),
            "residuals_real": self.residuals_real.tolist(),
            "residuals_imag": self.residuals_imag.tolist(),
            "tau_s": self.tau.tolist(),
            "resistances_ohm": self.resistances.tolist(),
        }


def tau_grid(frequency: np.ndarray, m: int) -> np.ndarray:
    """Time constants of the lin-KK Voigt elements (s).

    ``τ_1 = 1/ω_max`` to ``τ_M = 1/ω_min``, log-spaced, as in Schönleber et al. (2014) and
    impedance.py. A single element sits at ``1/ω_min`` (as impedance.py places it).
    """
    t_min = 1 / (2 * np.pi * np.max(frequency))
    t_max = 1 / (2 * np.pi * np.min(frequency))
    if m == 1:
        return np.array([t_max])
    return np.logspace(np.log10(t_min), np.log10(t_max), m)


def default_max_elements(frequency: np.ndarray) -> int:
    """The largest number of Voigt elements M that lin-KK tries by default.

    The number of points, at most 50 (impedance.py's rule), but at least
    :data:`MIN_PER_DECADE` elements a decade of the measured range, so a spectrum with few
    points a decade (12 over 8 decades) or a very wide range (1 µHz-1 GHz) still gets a chain
    fine enough to follow it; that floor is bounded by 1.5 times the number of points, which
    keeps the least-squares problem over-determined (2 rows a point).

    Parameters
    ----------
    frequency
        Frequencies of the spectrum (Hz).

    Returns
    -------
    int
        The default ``max_elements``.
    """
    f = np.asarray(frequency, float)
    n = f.size
    decades = float(np.log10(f.max() / f.min())) if n > 1 else 0.0
    by_range = min(int(np.ceil(MIN_PER_DECADE * decades)), (3 * n) // 2)
    return max(min(n, 50), by_range)


def _mu(r: np.ndarray) -> float:
    pos = np.abs(r[r >= 0]).sum()
    neg = np.abs(r[r < 0]).sum()
    if pos == 0:
        return -np.inf
    return float(1 - neg / pos)


def _has_capacitive_tail(f: np.ndarray, z: np.ndarray) -> bool:
    """True when -Z'' grows towards the lowest frequencies (a blocking-electrode spike).

    Looks at the lowest four points, or fewer where the points are sparse: only those within
    a decade of the lowest frequency (at least two), so a spectrum with few points a decade
    is judged on its tail and not on the arc above it.
    """
    order = np.argsort(f)
    mim = -z.imag[order]
    lf = np.log10(f[order])
    k = min(3, mim.size - 1, max(1, int(np.count_nonzero(lf[1:4] <= lf[0] + 1.0))))
    if k < 1:
        return False
    # the lowest-frequency points rise monotonically and are capacitive
    return bool(mim[0] > 0 and np.all(np.diff(mim[: k + 1]) < 0))


def voigt_design(
    w: np.ndarray,
    tau: np.ndarray,
    wt_re: np.ndarray,
    wt_im: np.ndarray,
    *,
    inductance: bool,
    capacitance: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weighted design matrix of a Voigt chain ``R_0 + Σ R_k/(1+jωτ_k) [+ jωL] [+ 1/(jωC)]``.

    Parameters
    ----------
    w
        Angular frequencies ω (rad/s), shape (N,).
    tau
        Time constants τ_k of the Voigt elements (s), shape (M,).
    wt_re, wt_im
        Weights of the real and imaginary rows (1/Ohm), shape (N,).
    inductance, capacitance
        Add a column for a series inductance L (H) and for the inverse of a series capacitance
        1/C (1/F).

    Returns
    -------
    a : ndarray
        (2N, 1 + M [+1] [+1]): columns R_0, R_1..R_M, [L], [1/C]; the real rows, then the
        imaginary rows, each weighted.
    x_wt, d : ndarray
        ωτ (N, M) and 1/(1 + (ωτ)²), for evaluating the chain afterwards.
    """
    n = w.size
    # Voigt element with R = 1: 1/(1 + jx) = (1 - jx)/(1 + x²), x = ωτ; real arithmetic only
    x_wt = np.multiply.outer(w, tau)
    d = 1 / (1 + x_wt * x_wt)
    n_vk = tau.size + 1  # R0 and the Voigt elements
    a = np.zeros((2 * n, n_vk + int(inductance) + int(capacitance)))
    a_re, a_im = a[:n], a[n:]
    a_re[:, 0] = wt_re
    a_re[:, 1:n_vk] = d * wt_re[:, None]
    a_im[:, 1:n_vk] = -(x_wt * d) * wt_im[:, None]
    j = n_vk
    if inductance:
        a_im[:, j] = w * wt_im
        j += 1
    if capacitance:
        a_im[:, j] = -wt_im / w
    return a, x_wt, d


def scaled_lstsq(a: np.ndarray, b: np.ndarray, quick: bool = False) -> np.ndarray:
    """Least-squares solution of ``a x ≈ b`` with the columns of ``a`` scaled to unit norm.

    The columns of a lin-KK design matrix differ by many orders of magnitude (ωL at 1 GHz
    against 1/(ωC) at 1 µHz, in units of |Z|): unscaled, the SVD's cut-off (``rcond``) drops
    the small ones and a valid spectrum over more than ~7 decades fails. Scaled, the condition
    number stays near that of the Voigt chain itself. ``quick``: the triangular factor of a QR
    decomposition of ``[a b]`` and back substitution instead of the SVD's minimum-norm
    solution (the same solution where the scaled columns are independent: μ agrees with the
    SVD's to ~1e-8 on the bundled and corpus spectra, up to 80 elements); the SVD where the
    factor is singular.
    """
    norm = np.sqrt(np.einsum("ij,ij->j", a, a))
    norm[norm == 0] = 1.0
    a_s = a / norm
    x = _triangular_lstsq(a_s, b) if quick else None
    if x is None:
        x = np.linalg.lstsq(a_s, b, rcond=None)[0]
    return x / norm


def _triangular_lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Least squares of ``a x ≈ b`` (more rows than columns) from the QR factor of ``[a b]``:
    ``R x = Qᵀb``. None when R is singular or the solution is not finite."""
    n = a.shape[1]
    if a.shape[0] <= n:
        return None
    r = np.linalg.qr(np.column_stack([a, b]), mode="r")
    try:
        x = np.linalg.solve(r[:n, :n], r[:n, n])
    except np.linalg.LinAlgError:
        return None
    return x if np.all(np.isfinite(x)) else None


def _solve(
    f: np.ndarray,
    z: np.ndarray,
    m: int,
    fit_type: str,
    capacitance: bool,
    inductance: bool,
    with_fit: bool = True,
) -> tuple[np.ndarray, np.ndarray, float, float, float, np.ndarray | None]:
    """One lin-KK solve. Returns (tau, R_k, R_series, L, 1/C, Z_fit).

    The complex fit is solved by back substitution on the triangular factor of a QR
    decomposition, not by the SVD's minimum-norm solution (:func:`scaled_lstsq` with
    ``quick``): twice as fast and the same solution where the scaled columns are independent
    (the SVD where they are not; residuals within 1e-12 of |Z| of the SVD's on the bundled,
    corpus and 300 synthetic spectra, the same verdicts and M).
    ``with_fit``: compute Z_fit (None otherwise: only the R_k are used, while M is chosen).
    """
    w = 2 * np.pi * f
    tau = tau_grid(f, m)
    inv = 1 / np.abs(z)
    n = f.size
    a, x_wt, d = voigt_design(w, tau, inv, inv, inductance=inductance, capacitance=capacitance)
    n_vk = m + 1  # R0 and the Voigt elements
    n_col = a.shape[1]
    a_re, a_im = a[:n], a[n:]
    b = np.empty(2 * n)
    b_re, b_im = b[:n], b[n:]
    np.multiply(z.real, inv, out=b_re)
    np.multiply(z.imag, inv, out=b_im)
    if fit_type == "complex":
        x = scaled_lstsq(a, b, quick=True)
    elif fit_type == "real":
        # real part: R0 and R_k only (L and C are purely imaginary); then L, C from the rest
        x = np.zeros(n_col)
        x[:n_vk] = scaled_lstsq(a_re[:, :n_vk], b_re)
        if n_col > n_vk:
            rest = b_im - a_im[:, :n_vk] @ x[:n_vk]
            x[n_vk:] = scaled_lstsq(a_im[:, n_vk:], rest)
    else:  # imag: R_k, L, C from Z''; R0 from Z' with 1/|Z|² weights (Boukamp 1995, Eq. 7)
        x = np.zeros(n_col)
        x[1:] = scaled_lstsq(a_im[:, 1:], b_im)
        zre = d @ x[1:n_vk]
        wts = inv * inv
        x[0] = np.sum(wts * (z.real - zre)) / np.sum(wts)
    r0, rk = float(x[0]), x[1:n_vk]
    extra = list(x[n_vk:])
    ind = float(extra.pop(0)) if inductance else 0.0
    elast = float(extra.pop(0)) if capacitance else 0.0
    if not with_fit:
        return tau, rk, r0, ind, elast, None
    z_fit = r0 + (d @ rk - 1j * ((x_wt * d) @ rk)) + 1j * w * ind - 1j * elast / w
    return tau, rk, r0, ind, elast, z_fit


def kramers_kronig(
    spectrum: Spectrum,
    c: float = 0.85,
    max_elements: int | None = None,
    threshold: float | None = None,
    *,
    fit_type: str = "complex",
    capacitance: bool | None = None,
    inductance: bool = True,
    m_rule: str = "stable",
    trend_threshold: float | None = DEFAULT_TREND_THRESHOLD,
    trend_window: int = DEFAULT_TREND_WINDOW,
) -> KKResult:
    """Lin-KK test of a spectrum (Schönleber et al., Electrochim. Acta 131 (2014) 20).

    Fits ``Z ≈ R_0 + Σ_k R_k/(1+jωτ_k) + jωL [+ 1/(jωC)]`` with ``τ_k`` fixed and log-spaced
    from ``1/ω_max`` to ``1/ω_min``, by linear least squares with modulus weighting (each point
    divided by |Z|). ``M`` is chosen by the paper's criterion against over-fitting,
    ``μ = 1 − Σ|R_k<0|/Σ|R_k≥0| < c`` (see ``m_rule`` for how an early dip is handled).

    Parameters
    ----------
    spectrum
        The spectrum to test.
    c
        μ cut-off in (0, 1); 0.85 as in the paper. ``None`` uses exactly ``max_elements``.
    max_elements
        Largest M tried (default :func:`default_max_elements`: the number of points, at most
        50 as in impedance.py, raised to :data:`MIN_PER_DECADE` elements a decade of the range
        where the points are too few or the range too wide for that).
    threshold
        Pass threshold on the largest |relative residual| (fraction of |Z|, e.g. 0.025 =
        2.5 %). Default :data:`DEFAULT_THRESHOLD` (2.5 %); see there for how it was chosen.
    fit_type
        ``"complex"`` (both parts, Eq. 14 of the paper; default), ``"real"`` or ``"imag"``.
    capacitance
        Add a series capacitance (needed for blocking electrodes, whose low-frequency spike
        has no DC intercept). ``None`` (default) adds it when -Z'' rises towards the lowest
        frequencies.
    inductance
        Add a series inductance (cables; default True, as impedance.py).
    m_rule
        How μ picks M. ``"stable"`` (default): the smallest M from which μ stays below ``c``
        for every larger M tried (up to ``max_elements``). ``"first"``: the first M with
        μ < c, as the paper's loop and impedance.py's ``linKK``; it can stop while the fit is
        still under-resolved (an early dip of μ from negative R_k of a too-coarse grid).
    trend_threshold
        Second pass criterion: the largest |running mean| of the residuals over
        ``trend_window`` neighbouring frequencies must stay below it (fraction of |Z|; default
        :data:`DEFAULT_TREND_THRESHOLD`, 1 %). It catches the smooth misfit a drifting cell
        leaves, which noise hides from the point-wise threshold. ``None`` disables it.
    trend_window
        Points in that running mean (default 5).

    Notes
    -----
    ``passed`` is ``max|residual| < threshold`` and ``max|trend| < trend_threshold``. On
    synthetic two-arc spectra with 0.5 % noise, ~97 % of valid spectra pass, and a bulk
    resistance rising linearly in time by 30 % over the sweep fails in ~100 % of cases (20 %:
    ~88 %, 10 %: ~37 %): lin-KK cannot see a drift much smaller than the noise times the
    square root of the points it spans. The rates are measured in ``tests/test_validate_kk.py``.

    Returns
    -------
    KKResult

    Raises
    ------
    SpectrumError
        If the arguments are out of range or the spectrum has too few points.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> f = np.logspace(6, 0, 61)
    >>> z = eisfit.Circuit("R0-p(R1,CPE1)").impedance(f, [10, 1e3, 1e-9, 0.9])
    >>> r = kramers_kronig(eisfit.Spectrum(f, z))
    >>> r.passed, r.max_residual < 1e-3
    (True, True)
    """
    if not isinstance(spectrum, Spectrum):
        raise SpectrumError(f"kramers_kronig needs a Spectrum, got {type(spectrum).__name__}")
    if fit_type not in _FIT_TYPES:
        raise SpectrumError(f"fit_type must be one of {_FIT_TYPES}, got {fit_type!r}")
    if m_rule not in ("stable", "first"):
        raise SpectrumError(f"m_rule must be 'stable' or 'first', got {m_rule!r}")
    if c is not None and not 0 < c < 1:
        raise SpectrumError(f"c must be between 0 and 1, got {c}")
    thr = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not thr > 0:
        raise SpectrumError(f"threshold must be > 0 (a fraction of |Z|), got {threshold}")
    if trend_threshold is not None and not trend_threshold > 0:
        raise SpectrumError(f"trend_threshold must be > 0 or None, got {trend_threshold}")
    if int(trend_window) < 1:
        raise SpectrumError(f"trend_window must be at least 1, got {trend_window}")
    f = np.asarray(spectrum.frequency, float)
    z = np.asarray(spectrum.z, complex)
    n = f.size
    if n < 4:
        raise SpectrumError(f"lin-KK needs at least 4 points, got {n}")
    from eisfit import io as _io

    why = _io.over_cap(n)
    if why:
        # its design matrix is 2N x M and each of the M tried is a solve: refuse, say how to thin
        raise SpectrumError(f"lin-KK: the spectrum has {why}")
    if np.any(np.abs(z) == 0):
        raise SpectrumError("lin-KK needs |Z| > 0 at every point (modulus weighting)")
    cap = _has_capacitive_tail(f, z) if capacitance is None else bool(capacitance)
    m_max = default_max_elements(f) if max_elements is None else int(max_elements)
    if m_max < 1:
        raise SpectrumError(f"max_elements must be at least 1, got {max_elements}")

    from eisfit.blas import single_threaded_blas

    with single_threaded_blas():  # threaded BLAS is far slower on matrices this small
        m = _choose(f, z, c, m_max, m_rule, fit_type, cap, inductance)
        sol = _solve(f, z, m, fit_type, cap, inductance)
    mu = _mu(sol[1])
    tau, rk, r0, ind, elast, z_fit = sol
    rel = (z - z_fit) / np.abs(z)
    return KKResult(
        frequency=f,
        z=z,
        z_fit=z_fit,
        residuals_real=rel.real,
        residuals_imag=rel.imag,
        n_elements=m,
        mu=float(mu),
        c=c,
        tau=tau,
        resistances=rk,
        series_resistance=r0,
        inductance=ind,
        capacitance=(1 / elast) if elast > 0 else float("inf"),
        fit_type=fit_type,
        threshold=thr,
        trend_threshold=None if trend_threshold is None else float(trend_threshold),
        trend_window=int(trend_window),
    )


def _choose(
    f: np.ndarray,
    z: np.ndarray,
    c: float | None,
    m_max: int,
    m_rule: str,
    fit_type: str,
    cap: bool,
    inductance: bool,
) -> int:
    """The number of elements M by ``m_rule`` (μ from the normal equations, or QR)."""

    def mu_of(m: int) -> float:
        if fit_type == "complex":
            mu = mu_normal(f, z, m, cap, inductance)
            if not np.isnan(mu):
                return mu
        return _mu(_solve(f, z, m, fit_type, cap, inductance, with_fit=False)[1])

    if c is None:
        return m_max
    if m_rule == "first":
        # the paper's and impedance.py's loop: stop at the first M with mu < c
        return next((m for m in range(1, m_max + 1) if mu_of(m) < c), m_max)
    # "stable": the smallest M from which mu stays below c. At small M the fixed grid cannot
    # resolve a sharp arc lying between two tau_k, the fit turns some R_k negative and mu
    # dips below c although the fit is still poor (residuals of 10-30 %); on synthetic
    # two-arc spectra this stopped the "first" rule early in ~30 % of valid spectra.
    # Walk down from m_max: the answer is one above the largest M with mu >= c, so the
    # walk stops there instead of solving every M.
    start = m_max
    walked = _walk_compiled(f, z, c, m_max, cap, inductance) if fit_type == "complex" else None
    if walked is not None:
        m_bad, stuck = walked
        if stuck == 0:
            return 1 if m_bad == 0 else min(m_bad + 1, m_max)
        start = stuck  # its normal equations broke down there: go on with the QR solves
    m_bad = next((m for m in range(start, 0, -1) if mu_of(m) >= c), 0)
    return 1 if m_bad == 0 else min(m_bad + 1, m_max)


def mu_normal(f: np.ndarray, z: np.ndarray, m: int, cap: bool, inductance: bool) -> float:
    """μ of the complex lin-KK fit with ``m`` elements, solved from its normal equations.

    The columns are scaled to unit norm and the equations solved directly (their Cholesky
    factor checks that they are safely positive definite): a quarter of the work of the QR
    solve, and μ equal to it to ~1e-7 on the bundled spectra (μ only counts the signs and sizes
    of the R_k; the chosen M is solved again by QR). NaN when the factorisation breaks down (a
    chain too dense for the points), where the caller falls back to QR.
    :mod:`eisfit.kernels._kk_kernels` runs the same steps compiled.
    """
    w = 2 * np.pi * f
    inv = 1 / np.abs(z)
    a = voigt_design(w, tau_grid(f, m), inv, inv, inductance=inductance, capacitance=cap)[0]
    b = np.concatenate([z.real * inv, z.imag * inv])
    g = a.T @ a
    scale = np.sqrt(np.diag(g))
    scale[scale == 0] = 1.0
    g /= np.multiply.outer(scale, scale)
    try:
        lower = np.linalg.cholesky(g)
    except np.linalg.LinAlgError:
        return math.nan
    if not np.min(np.diag(lower)) ** 2 > 1e-13:
        return math.nan
    # numpy has no triangular solve: one LU solve of the (positive definite) equations costs
    # half of two with the factor, and gives the same y to rounding
    y = np.linalg.solve(g, (a.T @ b) / scale)
    return _mu(y[1 : m + 1] / scale[1 : m + 1])


def _walk_compiled(
    f: np.ndarray, z: np.ndarray, c: float, m_max: int, cap: bool, inductance: bool
) -> tuple[int, int] | None:
    """The ``"stable"`` walk run compiled (:func:`eisfit.kernels._kk_kernels.walk_down`); None when
    the compiled engine is off or not installed."""
    from eisfit.kernels import compiled

    if not compiled.enabled():
        return None
    kernels = compiled._kernels("_kk_kernels")
    if kernels is None:
        return None
    out = kernels.walk_down(
        np.ascontiguousarray(f, dtype=float), np.ascontiguousarray(z.real, dtype=float),
        np.ascontiguousarray(z.imag, dtype=float), float(c), int(m_max), int(cap),
        int(inductance),
    )
    return int(out[0]), int(out[1])


def kk_warning(spectrum: Spectrum, **kwargs: Any) -> Finding | None:
    """A warning line when the spectrum fails the lin-KK check, else None.

    Parameters
    ----------
    spectrum
        The spectrum (as read: inductive points are part of the check).
    **kwargs
        Passed to :func:`eisfit.analysis.drt.kramers_kronig` (``threshold``...).

    Returns
    -------
    Finding or None
        ``"the spectrum fails the Kramers-Kronig check (...)..."`` (code ``kk_fails``, its
        numbers the check's ``max_residual``, ``threshold``, ``max_trend``, ``trend_threshold``
        and ``worst_Hz``), or None when it passes. A spectrum the check cannot handle (too few
        points) gets a line saying so (code ``kk_not_run``).

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> f = np.logspace(6, 0, 61)
    >>> z = eisfit.Circuit("R0-p(R1,CPE1)").impedance(f, [10, 1e3, 1e-9, 0.9])
    >>> kk_warning(eisfit.Spectrum(f, z)) is None
    True
    """
    try:
        kk = kramers_kronig(spectrum, **kwargs)
    except EisfitError as exc:
        return Finding(
            f"the Kramers-Kronig check could not be run: {exc}", "kk_not_run", severity="note"
        )
    if kk.passed:
        return None
    parts = [
        f"max |residual| {100 * kk.max_residual:.2g} % of |Z| "
        f"(threshold {100 * kk.threshold:.2g} %)"
    ]
    if kk.trend_threshold is not None:
        parts.append(
            f"max {kk.trend_window}-point trend {100 * kk.max_trend:.2g} % "
            f"(threshold {100 * kk.trend_threshold:.2g} %)"
        )
    worst = int(np.argmax(np.maximum(np.abs(kk.residuals_real), np.abs(kk.residuals_imag))))
    parts.append(f"largest at {kk.frequency[worst]:.3g} Hz")
    trend = kk.trend_threshold is not None and kk.max_trend >= kk.trend_threshold
    if trend:
        cause = (
            "a smooth misfit over many points: the cell may have drifted during the sweep, or "
            "the data hold artefacts"
        )
    else:
        cause = (
            "isolated points, not a trend: the data hold artefacts (a current-range switch, "
            "noise or interference), not a drift"
        )
    numbers = {"max_residual": kk.max_residual, "threshold": kk.threshold,
               "max_trend": kk.max_trend, "worst_Hz": float(kk.frequency[worst])}
    if kk.trend_threshold is not None:
        numbers["trend_threshold"] = kk.trend_threshold
    return Finding(
        f"the spectrum fails the Kramers-Kronig check (lin-KK: {', '.join(parts)}): {cause}; "
        "treat the fit with care",
        "kk_fails",
        numbers=numbers,
    )
