"""The parts of the DRT written once, in the Python that numba compiles: the start of a
blocking-electrode spike, the CPE exponent of its tail, the τ grid size, the prominent maxima of
γ, the bounds of each peak, and the peaks' resistances and time constants.

:func:`eisfit.drt` (:mod:`eisfit.analysis.drt`) calls them as numpy code; the compiled DRT
seed (:mod:`eisfit.kernels._drt_kernels`) compiles these same functions (and has numba compile
the calls between them), so both engines find the same spike, exponent and peaks by
construction. Every function is made of numpy array operations and loops that numba compiles;
no numba here: this module imports and works without it. A change here has
:mod:`eisfit.kernels._drt_kernels` compiled again on its next load
(:func:`eisfit.kernels.compiled.follow_sources`).
"""

from __future__ import annotations

import numpy as np

#: Degrees: a Nyquist segment steeper than this belongs to a blocking-electrode spike.
SPIKE_ANGLE = 60.0


#: CPE exponents :func:`tail_exponent` tries first (0.30, 0.31 ... 1.00); it then refines
#: around the best of them on a grid 20 times finer.
TAIL_N_GRID = np.linspace(0.3, 1.0, 71)
#: Points of the finer grid, spanning the two coarse steps around the best exponent.
TAIL_N_FINE = 41


def spike_start(f: np.ndarray, z_re: np.ndarray, z_im: np.ndarray, angle: float) -> float:
    """Highest frequency of a blocking-electrode spike (Hz); NaN when there is none.

    Walking up from the lowest frequency, the spike is the run of points where -Z'' keeps
    falling and each Nyquist segment is steeper than ``angle`` degrees (a CPE with
    n > angle/90). At least the two lowest segments must qualify, and -Z'' at the lowest
    frequency must be positive.

    Parameters
    ----------
    f
        (M,) frequencies (Hz), ascending.
    z_re, z_im
        (M,) real and imaginary parts of the impedance (Ohm).
    angle
        Smallest slope of a spike's Nyquist segment (degrees, 0..90).

    Returns
    -------
    float
        The frequency (Hz) of the first point above the spike's run, NaN without a spike
        (fewer than 4 points, or the two lowest segments not steep).
    """
    n = f.size
    if n < 4 or not -z_im[0] > 0:
        return np.nan
    d_im = z_im[1:] - z_im[:-1]  # > 0 while -Z'' falls with rising f
    d_re = np.abs(z_re[:-1] - z_re[1:])
    steep = (d_im > 0) & (np.degrees(np.arctan2(d_im, d_re)) > angle)
    if not (steep[0] and steep[1]):
        return np.nan
    i = 0
    while i < n - 1 and steep[i]:
        i += 1
    return f[i]


def tail_costs(
    n: np.ndarray, log_w: np.ndarray, z_re: np.ndarray, z_im: np.ndarray
) -> np.ndarray:
    """Weighted squared residual of the best ``R + (jω)^-n / Q`` for each exponent in ``n``.

    R and 1/Q (real, unconstrained) solve the 2 × 2 normal equations of each exponent; every
    point is weighted by 1/|Z|. A singular system (the CPE column parallel to R's, e.g.
    n = 0) gives the cost of R alone.

    Parameters
    ----------
    n
        (K,) CPE exponents (dimensionless).
    log_w
        (M,) ln ω of the points (ω in rad/s).
    z_re, z_im
        (M,) real and imaginary parts of the impedance of the points (Ohm).

    Returns
    -------
    ndarray
        (K,) residual sums of squares (dimensionless: residuals in fractions of |Z|).
    """
    wt = 1.0 / np.sqrt(z_re * z_re + z_im * z_im)
    b_re = z_re * wt
    b_im = z_im * wt
    bb = np.sum(b_re * b_re + b_im * b_im)
    uu = np.sum(wt * wt)
    ub = np.sum(wt * b_re)
    # columns u = [wt; 0] (R) and v = (jω)^-n wt (1/Q): the 2 × 2 normal equations per n, from
    # four sums over |v| = ω^-n wt (v = |v| (cos, -sin)(nπ/2))
    # (a row per point, a column per exponent: numba sums along the first axis fastest)
    mag = np.exp(-np.outer(log_w, n)) * wt[:, None]
    c = np.cos(0.5 * np.pi * n)
    s = np.sin(0.5 * np.pi * n)
    uv = c * np.sum(mag * wt[:, None], axis=0)
    vv = np.sum(mag * mag, axis=0)
    vb = c * np.sum(mag * b_re[:, None], axis=0) - s * np.sum(mag * b_im[:, None], axis=0)
    det = uu * vv - uv * uv
    singular = det <= 1e-12 * uu * vv
    det = np.where(singular, 1.0, det)
    x0 = (vv * ub - uv * vb) / det
    x1 = (uu * vb - uv * ub) / det
    return np.where(singular, bb - ub * ub / uu, bb - (x0 * ub + x1 * vb))


def tail_exponent(
    f: np.ndarray,
    z_re: np.ndarray,
    z_im: np.ndarray,
    below: float,
    coarse: np.ndarray,
    n_fine: int,
) -> float:
    """CPE exponent n (dimensionless) of a low-frequency spike: the best of ``coarse`` by
    :func:`tail_costs`, refined on ``n_fine`` points spanning the coarse steps on each side.

    A grid finds the best exponent over the whole range, not a local minimum, and costs two
    vectorised evaluations.

    Parameters
    ----------
    f
        (M,) frequencies (Hz), in any order.
    z_re, z_im
        (M,) real and imaginary parts of the impedance (Ohm).
    below
        The points at or below this frequency (Hz) are the spike's; NaN, or fewer than three
        such points: the three lowest frequencies.
    coarse
        (K,) exponents tried first, ascending (:data:`TAIL_N_GRID`).
    n_fine
        Points of the finer grid (:data:`TAIL_N_FINE`).

    Returns
    -------
    float
        The exponent of lowest cost (the first of equal ones).
    """
    sel = f <= below  # all False when below is NaN
    if np.sum(sel) < 3:
        sel = np.zeros(f.size, np.bool_)
        sel[np.argsort(f)[:3]] = True
    log_w = np.log(2 * np.pi * f[sel])
    zr = z_re[sel]
    zi = z_im[sel]
    i = np.argmin(tail_costs(coarse, log_w, zr, zi))
    fine = np.linspace(coarse[max(i - 1, 0)], coarse[min(i + 1, coarse.size - 1)], n_fine)
    return fine[np.argmin(tail_costs(fine, log_w, zr, zi))]


def grid_size(lo: float, hi: float, per_decade: int) -> int:
    """Points of a τ grid from 10^lo to 10^hi s: ``per_decade`` a decade, at least
    3 × ``per_decade`` and at most 15 × ``per_decade``. Compiled by numba for the DRT seed
    (whose ``round`` also sends halves to the even neighbour), as :func:`prominent_maxima`."""
    return int(min(max(round(per_decade * (hi - lo)) + 1, 3 * per_decade), 15 * per_decade))


def prominent_maxima(x: np.ndarray, prominence: float) -> np.ndarray:
    """Indices of the local maxima of ``x`` standing out by at least ``prominence``.

    What ``scipy.signal.find_peaks(x, prominence=prominence)`` returns (a flat top counts once,
    at its middle; the ends of ``x`` are never peaks), written out because importing
    scipy.signal takes longer than a whole fit (about 0.7 s of a 1.4 s ``eisfit fit``).
    The prominence of a peak is its height above the higher of the lowest points on each
    side before a higher point or the end of ``x``. Written in the part of Python that numba
    compiles: the compiled DRT seed (:mod:`eisfit.kernels._drt_kernels`) runs this same function.
    """
    n = x.size
    out = np.empty(n, np.int64)
    count = 0
    i = 1
    while i < n - 1:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < n - 1 and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peak = (i + ahead - 1) // 2
                left = x[peak]
                j = peak
                while j > 0 and x[j - 1] <= x[peak]:
                    j -= 1
                    left = min(left, x[j])
                right = x[peak]
                j = peak
                while j < n - 1 and x[j + 1] <= x[peak]:
                    j += 1
                    right = min(right, x[j])
                if x[peak] - max(left, right) >= prominence:
                    out[count] = peak
                    count += 1
                i = ahead
        i += 1
    return out[:count]


def peak_bounds(gamma: np.ndarray, idx: np.ndarray, floor: float = 0.01) -> np.ndarray:
    """Index bounds (K, 2) of each peak ``idx`` (K,): minima between neighbours, ``floor`` of
    the apex outside. Compiled by numba for the DRT seed, as :func:`prominent_maxima`."""
    k_count = idx.size
    bounds = np.empty((k_count, 2), np.int64)
    for k in range(k_count):
        i = idx[k]
        if k == 0:
            lo = i
            while lo > 0 and gamma[lo - 1] >= floor * gamma[i]:
                lo -= 1
        else:
            j = idx[k - 1]
            lo = j + np.argmin(gamma[j : i + 1]) + 1
        if k == k_count - 1:
            hi = i
            while hi < gamma.size - 1 and gamma[hi + 1] >= floor * gamma[i]:
                hi += 1
        else:
            j = idx[k + 1]
            hi = i + np.argmin(gamma[i : j + 1])
        bounds[k, 0] = lo
        bounds[k, 1] = hi
    return bounds


def peaks(
    tau: np.ndarray, gamma: np.ndarray, dln: float, prominence: float, min_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The peaks of γ: each one's apex, bounds, resistance and time constant.

    A peak is a maximum of γ standing out by ``prominence`` × the highest γ
    (:func:`prominent_maxima`; γ is padded with zeros so that a maximum at an end of the grid
    counts) and holding at least ``min_fraction`` of the area under γ: the smallest peak below
    that is dropped, the bounds of the others found again (:func:`peak_bounds`), until none is
    left below it (a single peak always stays). The time constant is the apex refined by a
    parabola through the top three grid points in ln τ.

    Parameters
    ----------
    tau
        (T,) relaxation times (s), ascending, log-spaced.
    gamma
        (T,) γ(τ) (Ohm per unit of ln τ), non-negative.
    dln
        Spacing of the grid in ln τ.
    prominence
        Fraction of the highest γ a peak must stand out by.
    min_fraction
        Fraction of the total area under γ a peak must hold.

    Returns
    -------
    idx : ndarray
        (K,) grid index of each apex, ascending (int64); empty when γ is nowhere positive.
    bounds : ndarray
        (K, 2) grid indices of the first and last point of each peak's area (int64).
    resistance : ndarray
        (K,) area under γ between the bounds (Ohm).
    tau_peak : ndarray
        (K,) refined apex τ (s).
    """
    nt = gamma.size
    top = gamma.max() if nt else 0.0
    if not top > 0:
        return np.empty(0, np.int64), np.empty((0, 2), np.int64), np.empty(0), np.empty(0)
    total = gamma.sum() * dln
    padded = np.zeros(nt + 2)
    padded[1:-1] = gamma
    idx = prominent_maxima(padded, prominence * top) - 1
    while True:
        bounds = peak_bounds(gamma, idx, 0.01)
        areas = np.empty(idx.size)
        for k in range(idx.size):
            areas[k] = gamma[bounds[k, 0] : bounds[k, 1] + 1].sum() * dln
        drop = -1  # the smallest peak under the threshold (the first of equals)
        for k in range(idx.size):
            if areas[k] < min_fraction * total and (drop < 0 or areas[k] < areas[drop]):
                drop = k
        if drop < 0 or idx.size == 1:
            break
        keep = np.ones(idx.size, np.bool_)
        keep[drop] = False
        idx = idx[keep]
    taus = np.empty(idx.size)
    for k in range(idx.size):
        i = idx[k]
        lt = np.log(tau[i])
        if 0 < i < nt - 1:
            y0, y1, y2 = gamma[i - 1], gamma[i], gamma[i + 1]
            den = y0 - 2 * y1 + y2
            if den < 0:
                lt += 0.5 * dln * (y0 - y2) / den
        taus[k] = np.exp(lt)
    return idx, bounds, areas, taus
