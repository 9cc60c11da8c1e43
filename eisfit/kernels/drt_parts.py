"""The parts of the DRT written once, in the Python that numba compiles: the τ grid size, the
prominent maxima of γ, the bounds of each peak, and the settings of the spike's tail.

:func:`eisfit.drt` (:mod:`eisfit.analysis.drt`) calls them as numpy code; the compiled DRT
seed (:mod:`eisfit.kernels._drt_kernels`) compiles these same functions. No numba here.
"""

from __future__ import annotations

import numpy as np

#: Degrees: a Nyquist segment steeper than this belongs to a blocking-electrode spike.
SPIKE_ANGLE = 60.0


#: CPE exponents :func:`eisfit.analysis.drt.tail_exponent` tries first (0.30, 0.31 ... 1.00);
#: it then refines
#: around the best of them on a grid 20 times finer.
TAIL_N_GRID = np.linspace(0.3, 1.0, 71)
#: Points of the finer grid, spanning the two coarse steps around the best exponent.
TAIL_N_FINE = 41


def grid_size(lo: float, hi: float, per_decade: int) -> int:
    """Points of a τ grid from 10^lo to 10^hi s: ``per_decade`` a decade, at least
    3 × ``per_decade`` and at most 15 × ``per_decade``. Compiled by numba for the DRT seed
    (whose ``round`` also sends halves to the even neighbour), as :func:`prominent_maxima`."""
    return int(min(max(round(per_decade * (hi - lo)) + 1, 3 * per_decade), 15 * per_decade))


# grid_size, prominent_maxima and peak_bounds are compiled into the DRT seed of
# eisfit/kernels/_drt_kernels.py; a change here has that module compiled again
# (eisfit.kernels.compiled.follow_sources).
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
