"""The distribution of relaxation times (:func:`drt`, exported as ``eisfit.drt``), whose peaks
give the number of arcs, their resistances and apex frequencies, to seed fits; the lin-KK test
is :mod:`eisfit.analysis.kk`.

DRT
---
The model is ``Z(ω) ≈ R_inf [+ jωL] [+ tail] + Σ_k γ_k Δlnτ / (1 + jωτ_k)`` on a log-spaced τ
grid reaching a decade beyond the measured range on both sides; γ(τ) (Ohm per unit of ln τ) is
non-negative and its integral over a peak is that process's resistance. The regularisation
parameter λ is chosen by generalised cross-validation (GCV, in the modified form with the
degrees of freedom weighted by ρ = 2, see :data:`GCV_RHO`) of the linear, unconstrained
Tikhonov problem; the non-negative solution is then computed at that λ with
:func:`eisfit.kernels.nnls.nnls` (Lawson-Hanson, as :func:`scipy.optimize.nnls`) on the stacked
real/imaginary system. A spectrum of 60-90 points
takes a few milliseconds (``bench/bench_drt.py``).

Blocking-electrode spikes
-------------------------
A spike has no DC intercept, so a sum of Voigt elements can only imitate it with a huge γ at
the longest τ, which swamps the arcs, and the spike's noise (0.5 % of a MOhm) is larger than
the arcs themselves. With ``tail="auto"`` (default) a spike is recognised at the low-frequency
end (:func:`spike_start`: -Z'' rising as f falls along a Nyquist line steeper than 60°). It is
then modelled by one unregularised, non-negative CPE term ``(jω)^-n / Q`` whose exponent is
estimated from the spike (:func:`tail_exponent`) and refined inside the linear solve (columns
±d/dn, re-linearised up to twice); the τ grid stops a decade beyond the frequency where the
spike begins, and the arcs are read from γ alone. ``tail="capacitance"`` uses n = 1;
``tail="crop"`` drops the spike's points and fits only the arcs above it (cruder: the last
arc loses its low-frequency side and the spike's remainder is left to γ); ``tail="none"``
leaves the whole spike to γ.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eisfit.exceptions import SpectrumError
from eisfit.io.spectrum import Spectrum
from eisfit.kernels import drt_parts
from eisfit.kernels.drt_parts import (
    SPIKE_ANGLE,
    TAIL_N_FINE,
    TAIL_N_GRID,
    grid_size,
)
from eisfit.kernels.nnls import unique_nnls

__all__ = [
    "DRTPeak",
    "DRTResult",
    "drt",
    "spike_start",
    "tail_exponent",
]

_TAILS = ("auto", "none", "capacitance", "cpe", "crop")
#: CPE exponents of the columns that model a blocking-electrode spike (``tail="cpe"``).
TAIL_EXPONENTS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: Weight of the degrees of freedom in the modified GCV (Cummins, Filloon & Nychka, JASA 2001):
#: ρ = 1 is plain GCV, which sometimes under-regularises and splits an arc into several peaks.
GCV_RHO = 2.0
#: λ values GCV searches (dimensionless; see :func:`drt`).
LAMBDA_GRID = np.logspace(-6, 1, 71)
#: Above this many points the DRT's least-squares rows are reduced, a block of points at a
#: time, to the triangular factor of a QR decomposition (one row per column): the same
#: solution, in memory that does not grow with the points beyond one block.
REDUCE_ABOVE = 4096
#: Points in one block of that reduction.
BLOCK_POINTS = 8192


def _ro(a: Any) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class DRTPeak:
    """One process found in the DRT.

    Attributes
    ----------
    resistance : float
        Area under γ between ``tau_bounds`` (Ohm).
    tau : float
        τ at the apex of γ (s), refined by a parabola through the top three grid points.
    frequency : float
        Apex frequency ``1/(2πτ)`` (Hz) of the equivalent arc.
    tau_bounds : tuple of float
        (lower, upper) τ (s) of the region integrated: the minimum of γ between neighbouring
        peaks, or where γ falls below 1 % of the apex on the outer sides.
    frequency_bounds : tuple of float
        The same region as (lowest, highest) frequency (Hz).
    height : float
        γ at the apex (Ohm per unit of ln τ).
    capacitance : float
        ``τ/R`` (F), the capacitance of an ideal RC with this τ and R.
    extrapolated : bool
        True when the apex lies outside the measured τ range (``1/ω_max .. 1/ω_min``): the
        arc is only partly inside the window.
    """

    resistance: float
    tau: float
    frequency: float
    tau_bounds: tuple[float, float]
    frequency_bounds: tuple[float, float]
    height: float
    capacitance: float
    extrapolated: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary with units in the keys."""
        return {
            "resistance_ohm": self.resistance,
            "tau_s": self.tau,
            "frequency_Hz": self.frequency,
            "tau_bounds_s": list(self.tau_bounds),
            "frequency_bounds_Hz": list(self.frequency_bounds),
            "height_ohm": self.height,
            "capacitance_F": self.capacitance,
            "extrapolated": self.extrapolated,
        }


@dataclass(frozen=True, eq=False)
class DRTResult:
    """A distribution of relaxation times. Immutable; arrays are read-only.

    Attributes
    ----------
    tau : ndarray
        Relaxation times (s), ascending, log-spaced.
    gamma : ndarray
        γ(τ) (Ohm per unit of ln τ): ``Σ gamma * dlntau`` is a resistance in Ohm.
    dlntau : float
        Spacing of the grid in ln τ.
    r_inf : float
        High-frequency (series) resistance (Ohm).
    inductance : float
        Series inductance (H); 0 when not fitted.
    tail : str
        How the low-frequency end was treated: ``"none"``, ``"capacitance"``, ``"cpe"`` or
        ``"crop"``.
    tail_coefficients : ndarray
        Non-negative coefficients ``1/Q_j`` (Ohm s^-n_j) of the tail columns ``(jω)^-n_j``
        (empty unless ``tail`` is ``"capacitance"`` or ``"cpe"``).
    tail_exponents : ndarray
        The exponents ``n_j`` of those columns.
    lam : float
        Regularisation parameter used (dimensionless).
    lam_method : str
        ``"gcv"`` or ``"user"``.
    frequency : ndarray
        Frequencies fitted (Hz); fewer than the spectrum's with ``tail="crop"`` or a crop.
    z, z_fit : ndarray
        Measured and reconstructed impedance at ``frequency`` (Ohm).
    peaks : tuple of DRTPeak
        Processes, ordered by τ (fastest first, i.e. highest frequency first).
    """

    tau: np.ndarray
    gamma: np.ndarray
    dlntau: float
    r_inf: float
    inductance: float
    tail: str
    tail_coefficients: np.ndarray
    tail_exponents: np.ndarray
    lam: float
    lam_method: str
    frequency: np.ndarray
    z: np.ndarray
    z_fit: np.ndarray
    peaks: tuple[DRTPeak, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("tau", "gamma", "tail_coefficients", "tail_exponents", "frequency", "z",
                     "z_fit"):
            object.__setattr__(self, name, _ro(getattr(self, name)))

    @property
    def polarization_resistance(self) -> float:
        """Total area under γ (Ohm): every relaxation, excluding R_inf and the tail."""
        return float(self.gamma.sum() * self.dlntau)

    @property
    def residuals(self) -> np.ndarray:
        """``(Z - Z_fit)/|Z|`` per fitted point (complex, fractions of |Z|)."""
        return (self.z - self.z_fit) / np.abs(self.z)

    @property
    def tail_impedance(self) -> np.ndarray:
        """Impedance of the tail term at ``frequency`` (Ohm, complex)."""
        jw = 2j * np.pi * self.frequency
        z = np.zeros(self.frequency.size, complex)
        for c, n in zip(self.tail_coefficients, self.tail_exponents, strict=True):
            z += c * jw ** (-n)
        return z

    def summary(self) -> str:
        """A few lines: λ, R_inf, the tail and each peak's R, f and τ."""
        lines = [
            f"DRT: {len(self.peaks)} peak(s), lambda = {self.lam:.3g} ({self.lam_method}), "
            f"R_inf = {self.r_inf:.4g} Ohm, tail = {self.tail}, "
            f"polarization R = {self.polarization_resistance:.4g} Ohm"
        ]
        for i, p in enumerate(self.peaks, 1):
            lines.append(
                f"  peak {i}: R = {p.resistance:.4g} Ohm, f = {p.frequency:.4g} Hz, "
                f"tau = {p.tau:.3g} s, C = {p.capacitance:.3g} F"
                + (" (outside the measured range)" if p.extrapolated else "")
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (plain Python types; arrays as lists)."""
        return {
            "r_inf_ohm": self.r_inf,
            "inductance_H": self.inductance,
            "tail": self.tail,
            "tail_coefficients": self.tail_coefficients.tolist(),
            "tail_exponents": self.tail_exponents.tolist(),
            "lambda": self.lam,
            "lambda_method": self.lam_method,
            "polarization_resistance_ohm": self.polarization_resistance,
            "peaks": [p.to_dict() for p in self.peaks],
            "tau_s": self.tau.tolist(),
            "gamma_ohm": self.gamma.tolist(),
            "frequency_Hz": self.frequency.tolist(),
        }


# --------------------------------------------------------------------------- helpers
def _difference(k: int, order: int) -> np.ndarray:
    d = np.eye(k)
    for _ in range(order):
        d = np.diff(d, axis=0)
    return d


def spike_start(
    frequency: np.ndarray, z: np.ndarray, angle: float = SPIKE_ANGLE
) -> float | None:
    """Highest frequency (Hz) of a blocking-electrode spike, or None if there is none.

    Walking up from the lowest frequency, the spike is the run of points where -Z'' keeps
    falling and each Nyquist segment is steeper than ``angle`` degrees (a CPE with
    n > angle/90). At least the two lowest segments must qualify. The rule is
    :func:`eisfit.kernels.drt_parts.spike_start`, which the compiled DRT seed runs as well.
    """
    order = np.argsort(frequency)
    f = np.asarray(frequency, float)[order]
    zz = np.asarray(z, complex)[order]
    start = drt_parts.spike_start(f, zz.real, zz.imag, float(angle))
    return None if np.isnan(start) else float(start)


def tail_exponent(frequency: np.ndarray, z: np.ndarray, below: float | None = None) -> float:
    """CPE exponent n of a low-frequency spike (dimensionless, 0.3..1).

    Fits ``Z ≈ R + (jω)^-n / Q`` (R, 1/Q real) with modulus weighting to the points at or
    below ``below`` Hz (default: the spike region found by :func:`spike_start`; at least the
    three lowest frequencies). R and 1/Q are linear and solved for each n; n is the best of
    :data:`TAIL_N_GRID` (steps of 0.01), refined on a grid of steps of 0.0005 around it
    (:func:`eisfit.kernels.drt_parts.tail_exponent`, which the compiled DRT seed runs as well).
    """
    f = np.asarray(frequency, float)
    z = np.asarray(z, complex)
    if below is None:
        below = spike_start(f, z)
    return float(drt_parts.tail_exponent(
        f, z.real, z.imag, np.nan if below is None else float(below), TAIL_N_GRID, TAIL_N_FINE
    ))


def tail_costs(n: np.ndarray, log_w: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Weighted squared residual of the best ``R + (jω)^-n / Q`` for each exponent in ``n``.

    Parameters
    ----------
    n
        (K,) CPE exponents.
    log_w
        (M,) ln ω of the points (ω in rad/s).
    z
        (M,) impedance of the points (Ohm), each weighted by 1/|Z|.

    Returns
    -------
    ndarray
        (K,) residual sums of squares (dimensionless); see
        :func:`eisfit.kernels.drt_parts.tail_costs`.
    """
    z = np.asarray(z, complex)
    return drt_parts.tail_costs(np.asarray(n, float), np.asarray(log_w, float), z.real, z.imag)


@functools.lru_cache(maxsize=32)
def _penalty_factor(n_tau: int, order: int) -> np.ndarray:
    """Upper-triangular G with G'G = D'D + 1e-6 I, D the ``order``-th difference matrix."""
    d = _difference(n_tau, order)
    g = np.linalg.cholesky(d.T @ d + 1e-6 * np.eye(n_tau)).T
    g.setflags(write=False)
    return g


def _solve(
    f: np.ndarray,
    z: np.ndarray,
    tau: np.ndarray,
    g: np.ndarray,
    lam: float | None,
    inductance: bool,
    n_cpe: float | None,
    dn_columns: bool,
    r_ref: float,
) -> dict[str, Any]:
    """One regularised NNLS solve (λ by GCV when ``lam`` is None)."""
    w = 2 * np.pi * f
    jw = 1j * w
    dln = float(np.log(tau[1] / tau[0]))
    mod = np.abs(z)
    # unpenalised columns: R_inf, [L], [CPE tail, ±dCPE/dn]; each scaled to unit norm
    ucols = [np.ones_like(w) + 0j]
    if inductance:
        ucols.append(jw)
    if n_cpe is not None:
        cpe = jw ** (-n_cpe)
        ucols.append(cpe)
        if dn_columns:
            dcol = -cpe * np.log(jw)  # d(jω)^-n/dn
            ucols.extend([-dcol, dcol])
    uc = np.stack(ucols, axis=1)
    au_c = uc / mod[:, None]
    au = np.vstack([au_c.real, au_c.imag])
    uscale = np.linalg.norm(au, axis=0)
    au = au / uscale
    b = np.concatenate([z.real / mod, z.imag / mod])
    n_rows = b.size
    kern = None
    if f.size > REDUCE_ABOVE:
        au, ag, b = _reduce_rows(au, b, jw, tau, dln * r_ref / mod)
    else:
        kern = dln / (1 + np.outer(jw, tau))
        ag_c = kern * (r_ref / mod[:, None])
        ag = np.vstack([ag_c.real, ag_c.imag])
    lam_used = _gcv_lambda(au, ag, g, b, LAMBDA_GRID, n_rows) if lam is None else float(lam)
    nu, nt = au.shape[1], tau.size
    a = np.zeros((b.size + nt, nu + nt))
    a[: b.size, :nu] = au
    a[: b.size, nu:] = ag
    a[b.size :, nu:] = np.sqrt(lam_used) * g
    rhs = np.concatenate([b, np.zeros(nt)])
    x = unique_nnls(a, rhs)  # the penalty gives full rank
    xu = x[:nu] / uscale
    gamma = x[nu:] * r_ref
    k = 1 + int(inductance)
    out: dict[str, Any] = {
        "gamma": gamma,
        "lam": lam_used,
        "r_inf": float(xu[0]),
        "inductance": float(xu[1]) if inductance else 0.0,
        "z_fit": uc @ xu + _kernel_times(jw, tau, dln, gamma, kern),
    }
    if n_cpe is not None:
        out["tail"] = float(xu[k])
        if dn_columns:
            # coefficient of dZ/dn is (1/Q)·Δn: return it with the 1/Q to divide by
            out["extra"] = xu[k + 1 : k + 3]
            out["extra_scale"] = xu[k] if xu[k] > 0 else np.inf
    return out


def _reduce_rows(
    au: np.ndarray, b: np.ndarray, jw: np.ndarray, tau: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows ``[au, ag, b]`` of the DRT's least squares reduced to R of their QR.

    ``ag`` (the weighted kernel ``scale_i / (1 + jω_i τ_k)``, real rows then imaginary rows)
    is built :data:`BLOCK_POINTS` points at a time and folded into R, so memory is
    O(block × columns) rather than O(points × columns). Since ``RᵀR`` equals the Gram matrix
    of the rows, every least-squares solution, residual and GCV quantity is unchanged (GCV is
    then given the original row count).

    Returns
    -------
    au, ag, b
        The reduced rows (as many as the columns of ``[au, ag, b]``).
    """
    from eisfit.blas import single_threaded_blas

    n, nu, nt = jw.size, au.shape[1], tau.size
    r = np.zeros((0, nu + nt + 1))
    with single_threaded_blas():  # threaded BLAS is slower on blocks this narrow
        for s in range(0, n, BLOCK_POINTS):
            e = min(n, s + BLOCK_POINTS)
            kc = (1 / (1 + np.outer(jw[s:e], tau))) * scale[s:e, None]
            blk = np.empty((r.shape[0] + 2 * (e - s), nu + nt + 1), order="F")
            c = r.shape[0]
            blk[:c] = r
            blk[c : c + e - s, :nu], blk[c + e - s :, :nu] = au[s:e], au[n + s : n + e]
            blk[c : c + e - s, nu:-1], blk[c + e - s :, nu:-1] = kc.real, kc.imag
            blk[c : c + e - s, -1], blk[c + e - s :, -1] = b[s:e], b[n + s : n + e]
            r = np.linalg.qr(blk, mode="r")[: nu + nt + 1]
    return r[:, :nu], r[:, nu:-1], r[:, -1]


def _kernel_times(
    jw: np.ndarray, tau: np.ndarray, dln: float, gamma: np.ndarray, kern: np.ndarray | None
) -> np.ndarray:
    """``Σ_k γ_k Δlnτ / (1 + jωτ_k)`` at every ω (``kern`` when built, else in blocks)."""
    if kern is not None:
        return kern @ gamma
    out = np.empty(jw.size, complex)
    for s in range(0, jw.size, BLOCK_POINTS):
        e = min(jw.size, s + BLOCK_POINTS)
        out[s:e] = (dln / (1 + np.outer(jw[s:e], tau))) @ gamma
    return out


def _gcv_lambda(
    au: np.ndarray,
    ag: np.ndarray,
    g: np.ndarray,
    b: np.ndarray,
    grid: np.ndarray,
    n_rows: int | None = None,
) -> float:
    """λ minimising GCV of ``min |[au ag] x - b|² + λ|g x_g|²`` (no constraints).

    ``n_rows``: the number of rows of the original problem when ``au``, ``ag`` and ``b`` are
    its reduced rows (see :func:`_reduce_rows`).
    """
    m = b.size if n_rows is None else n_rows
    if au.shape[1]:
        # an orthonormal basis of the unpenalised columns' span (±dZ/dn are dependent)
        q, sv, _ = np.linalg.svd(au, full_matrices=False)
        rank = int(np.sum(sv > 1e-10 * sv[0]))
        q = q[:, :rank]
        pb = b - q @ (q.T @ b)
        pag = ag - q @ (q.T @ ag)
    else:
        rank = 0
        pb, pag = b, ag
    bmat = np.linalg.solve(g.T, pag.T).T  # pag @ inv(g)
    u, s, _ = np.linalg.svd(bmat, full_matrices=False)
    beta = u.T @ pb
    perp = max(float(pb @ pb - beta @ beta), 0.0)
    s2 = s[:, None] ** 2
    filt = s2 / (s2 + grid[None, :])
    rss = np.sum(((1 - filt) * beta[:, None]) ** 2, axis=0) + perp
    dof = m - GCV_RHO * (rank + filt.sum(axis=0))
    gcv = m * rss / np.maximum(dof, 1e-12) ** 2
    return float(grid[int(np.argmin(gcv))])


# --------------------------------------------------------------------------- drt
def drt(
    spectrum: Spectrum,
    lam: float | None = None,
    n_tau: int | None = None,
    *,
    tail: str = "auto",
    inductance: bool = False,
    order: int = 1,
    extend_decades: float = 1.0,
    fmin: float | None = None,
    fmax: float | None = None,
    peak_prominence: float = 0.1,
    min_peak_fraction: float = 0.05,
    per_decade: int = 10,
) -> DRTResult:
    """Distribution of relaxation times by Tikhonov-regularised non-negative least squares.

    Solves, with every point weighted by 1/|Z| (real and imaginary parts stacked)::

        min |W (Z - R_inf - jωL - tail - Σ γ_k Δlnτ/(1+jωτ_k))|² + λ |D^order (γ/R_ref)|²
        subject to R_inf, L, tail coefficients, γ_k ≥ 0

    where ``D`` is the finite difference between neighbouring grid points, ``R_ref`` the
    largest |Z|, and λ (dimensionless) is chosen by generalised cross-validation of the
    unconstrained problem unless given.

    Parameters
    ----------
    spectrum
        The spectrum.
    lam
        Regularisation parameter (dimensionless). ``None``: GCV over 1e-6..10 (:data:`LAMBDA_GRID`).
    n_tau
        Number of τ grid points; default ``per_decade`` per decade of the grid (at least
        3 × ``per_decade``, at most 15 × ``per_decade``).
    tail
        Low-frequency treatment: ``"auto"`` (``"cpe"`` when :func:`spike_start` finds a
        blocking-electrode spike, else ``"none"``), ``"none"``, ``"capacitance"`` (one series
        C), ``"cpe"`` (CPE columns with n = 0.5..1, see :data:`TAIL_EXPONENTS`), ``"crop"``
        (fit only above the start of the spike).
    inductance
        Fit a non-negative series inductance (H) for cable artefacts.
    order
        Order of the difference penalised (0: γ itself, 1: slope (default), 2: curvature).
    extend_decades
        How far the τ grid reaches beyond ``1/ω_max`` and ``1/ω_min`` (decades).
    fmin, fmax
        Fit only frequencies in ``[fmin, fmax]`` (Hz).
    peak_prominence
        A peak must stand out from its surroundings by this fraction of the highest γ.
    min_peak_fraction
        A peak must hold this fraction of the polarization resistance.
    per_decade
        τ grid points per decade when ``n_tau`` is not given.

    Returns
    -------
    DRTResult

    Raises
    ------
    SpectrumError
        Arguments out of range, or too few points left to fit.

    Examples
    --------
    >>> import numpy as np, eisfit
    >>> f = np.logspace(6, -1, 71)
    >>> c = eisfit.Circuit("R0-p(R1,C1)-p(R2,C2)")
    >>> z = c.impedance(f, [10, 1000, 1e-9, 2000, 1e-6])
    >>> r = drt(eisfit.Spectrum(f, z))
    >>> [round(p.resistance, -2) for p in r.peaks]
    [1000.0, 2000.0]
    """
    if not isinstance(spectrum, Spectrum):
        raise SpectrumError(f"drt needs a Spectrum, got {type(spectrum).__name__}")
    if tail not in _TAILS:
        raise SpectrumError(f"tail must be one of {_TAILS}, got {tail!r}")
    if order not in (0, 1, 2):
        raise SpectrumError(f"order must be 0, 1 or 2, got {order!r}")
    if lam is not None and not (np.isfinite(lam) and lam > 0):
        raise SpectrumError(f"lam must be a positive number or None, got {lam!r}")
    if not (isinstance(per_decade, (int, np.integer)) and per_decade >= 1):
        raise SpectrumError(f"per_decade must be a positive integer, got {per_decade!r}")
    if not extend_decades >= 0:
        raise SpectrumError(f"extend_decades must be >= 0, got {extend_decades}")
    f = np.asarray(spectrum.frequency, float)
    z = np.asarray(spectrum.z, complex)
    keep = np.ones(f.size, bool)
    if fmin is not None:
        keep &= f >= fmin
    if fmax is not None:
        keep &= f <= fmax
    mode = tail
    start = None if tail == "none" else spike_start(f[keep], z[keep])
    if tail == "auto":
        mode = "none" if start is None else "cpe"
    elif tail == "crop" and start is not None:
        keep &= f >= start
    f, z = f[keep], z[keep]
    if f.size < 5:
        raise SpectrumError(f"DRT needs at least 5 points in the fitted range, got {f.size}")
    if np.any(np.abs(z) == 0):
        raise SpectrumError("DRT needs |Z| > 0 at every point (modulus weighting)")

    w = 2 * np.pi * f
    lo = np.log10(1 / w.max()) - extend_decades
    hi = np.log10(1 / w.min()) + extend_decades
    if mode in ("capacitance", "cpe"):
        # Where the spike dominates, a Voigt element is, inside the window, only a capacitor
        # (or fits the spike's noise, which is larger than the arcs): the grid stops a decade
        # after the start of the spike, or at 1/ω_min.
        hi = np.log10(1 / w.min())
        if start is not None:
            # a decade past the start keeps the low-frequency side of the last arc
            hi = min(hi, np.log10(1 / (2 * np.pi * start)) + 1)
    if n_tau is None:
        n_tau = grid_size(lo, hi, per_decade)
    elif int(n_tau) < order + 3:
        raise SpectrumError(f"n_tau must be at least {order + 3}, got {n_tau}")
    n_tau = int(n_tau)
    tau = np.logspace(lo, hi, n_tau)
    dln = float(np.log(tau[1] / tau[0]))

    g = _penalty_factor(n_tau, order)
    n_cpe = None
    if mode == "capacitance":
        n_cpe = 1.0
    elif mode == "cpe":
        n_cpe = tail_exponent(f, z)
    # λ is relative to the largest |Z| of the arcs (the spike's |Z| would make it meaningless)
    r_ref = float(np.abs(z[f >= start]).max()) if start is not None else float(np.abs(z).max())
    sol = _solve(f, z, tau, g, lam, inductance, n_cpe, mode == "cpe", r_ref)
    if mode == "cpe":
        # the columns ±dZ/dn linearise the CPE about n; move n by their share and solve again
        for _ in range(2):
            step = (sol["extra"][1] - sol["extra"][0]) / sol["extra_scale"]
            if not np.isfinite(step) or abs(step) < 1e-3:
                break
            n_cpe = float(np.clip(n_cpe + step, 0.3, 1.0))
            sol = _solve(f, z, tau, g, lam, inductance, n_cpe, True, r_ref)
    gamma = sol["gamma"]
    lam_used = sol["lam"]
    method = "user" if lam is not None else "gcv"
    r_inf = sol["r_inf"]
    ind = sol["inductance"]
    tail_c = np.array([sol["tail"]]) if n_cpe is not None else np.zeros(0)
    exps = (n_cpe,) if n_cpe is not None else ()
    z_fit = sol["z_fit"]

    peaks = _peaks(tau, gamma, dln, w, peak_prominence, min_peak_fraction)
    return DRTResult(
        tau=tau,
        gamma=gamma,
        dlntau=dln,
        r_inf=r_inf,
        inductance=ind,
        tail=mode,
        tail_coefficients=tail_c,
        tail_exponents=np.array(exps, float),
        lam=lam_used,
        lam_method=method,
        frequency=f,
        z=z,
        z_fit=z_fit,
        peaks=peaks,
    )


def _peaks(
    tau: np.ndarray,
    gamma: np.ndarray,
    dln: float,
    w: np.ndarray,
    prominence: float,
    min_fraction: float,
) -> tuple[DRTPeak, ...]:
    """The peaks of :func:`eisfit.kernels.drt_parts.peaks` (which the compiled DRT seed runs as
    well) as :class:`DRTPeak`; ``w`` (rad/s) the measured range."""
    idx, bounds, areas, taus = drt_parts.peaks(tau, gamma, dln, prominence, min_fraction)
    t_meas = (1 / w.max(), 1 / w.min())
    out = []
    for i, (lo, hi), area, t in zip(
        idx.tolist(), bounds.tolist(), areas.tolist(), taus.tolist(), strict=True
    ):
        tb = (float(tau[lo]), float(tau[hi]))
        out.append(DRTPeak(
            resistance=area,
            tau=t,
            frequency=1 / (2 * np.pi * t),
            tau_bounds=tb,
            frequency_bounds=(1 / (2 * np.pi * tb[1]), 1 / (2 * np.pi * tb[0])),
            height=float(gamma[i]),
            capacitance=t / area if area > 0 else float("nan"),
            extrapolated=not (t_meas[0] <= t <= t_meas[1]),
        ))
    return tuple(out)
