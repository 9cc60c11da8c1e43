"""The compiled DRT (numba, the optional ``fast`` extra): NNLS and the DRT that seeds fits.

:func:`fnnls` solves non-negative least squares from the normal equations (for
:func:`eisfit.kernels.compiled.nnls`). :func:`drt_seed` computes, in one compiled call, what
:func:`eisfit.analysis.drt.drt` computes at a given λ with ``tail="auto"``, first-difference
smoothing and no inductance: the spike's start and CPE exponent, the regularised non-negative
solution on the τ grid (with the CPE exponent re-linearised up to twice) and the peaks. The
numpy version spends almost all of its time in per-call overhead on arrays of a few dozen
points; here the grid's part of the normal equations is formed once, and only the four spike
columns change between solves.

Imported only through :mod:`eisfit.kernels.compiled`. The arrays are C-contiguous float64.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from eisfit.kernels import drt_parts
from eisfit.kernels._kernels import _jit, _jit_sums

__all__ = ["drt_seed", "fnnls"]

_HALF_PI = 0.5 * np.pi


def _jit_inside(fn):
    """Let compiled code call the plain function ``fn`` of :mod:`eisfit.kernels.drt_parts`
    (numba compiles it into each caller, with numpy's error model); returns ``fn``."""
    return register_jitable(error_model="numpy")(fn)


# the DRT's parts written once (eisfit/kernels/drt_parts.py), compiled from the Python the numpy
# DRT runs, so both engines find the same spike, exponent, grid and peaks; the functions those
# parts call are compiled into them (a change there has this module compiled again:
# compiled.follow_sources)
_jit_inside(drt_parts.tail_costs)
_jit_inside(drt_parts.prominent_maxima)
_jit_inside(drt_parts.peak_bounds)
_spike_start = _jit(drt_parts.spike_start)
_tail_exponent = _jit(drt_parts.tail_exponent)
_grid_size = _jit(drt_parts.grid_size)
_peaks = _jit(drt_parts.peaks)


@_jit
def _spike_columns(omega, log_omega, mod, n_exp, u):  # pragma: no cover - compiled
    """The unpenalised columns for a CPE spike of exponent ``n_exp``, as the rows of ``u``
    (4, 2N): R_inf, the CPE (jω)^-n and ∓ its derivative d/dn, weighted by 1/|Z|, each scaled
    to unit norm; returns the scales."""
    m = omega.size
    c = np.cos(_HALF_PI * n_exp)
    s = np.sin(_HALF_PI * n_exp)
    for i in range(m):
        mag = np.exp(-n_exp * log_omega[i])
        cpe_re, cpe_im = mag * c, -mag * s
        # d(jω)^-n / dn = -(jω)^-n (ln ω + jπ/2)
        d_re = -(cpe_re * log_omega[i] - cpe_im * _HALF_PI)
        d_im = -(cpe_re * _HALF_PI + cpe_im * log_omega[i])
        u[0, i], u[0, m + i] = 1.0 / mod[i], 0.0
        u[1, i], u[1, m + i] = cpe_re / mod[i], cpe_im / mod[i]
        u[2, i], u[2, m + i] = -d_re / mod[i], -d_im / mod[i]
        u[3, i], u[3, m + i] = d_re / mod[i], d_im / mod[i]
    return _unit_rows(u)


@_jit_sums
def _unit_rows(u):  # pragma: no cover - compiled
    """Scale every row of ``u`` to unit norm; returns the norms."""
    scale = np.empty(u.shape[0])
    for j in range(u.shape[0]):
        v = 0.0
        for i in range(u.shape[1]):
            v += u[j, i] * u[j, i]
        scale[j] = np.sqrt(v)
        for i in range(u.shape[1]):
            u[j, i] /= scale[j]
    return scale


@_jit_sums
def _solve(u, kern, b, ata_kk, atb_k, x0):  # pragma: no cover - compiled
    """The non-negative solution for unpenalised columns (the rows of ``u``) beside the
    grid's columns (the rows of ``kern``), whose part of the normal equations (``ata_kk`` with
    the penalty, ``atb_k``) is formed once; started from ``x0``."""
    nu = u.shape[0]
    nt = kern.shape[0]
    rows = b.size
    ata = np.empty((nu + nt, nu + nt))
    atb = np.empty(nu + nt)
    for j in range(nu):
        for k in range(j + 1):
            v = 0.0
            for i in range(rows):
                v += u[j, i] * u[k, i]
            ata[j, k] = v
            ata[k, j] = v
        for k in range(nt):
            v = 0.0
            for i in range(rows):
                v += u[j, i] * kern[k, i]
            ata[j, nu + k] = v
            ata[nu + k, j] = v
        v = 0.0
        for i in range(rows):
            v += u[j, i] * b[i]
        atb[j] = v
    ata[nu:, nu:] = ata_kk
    atb[nu:] = atb_k
    return fnnls(ata, atb, x0)


@_jit
def _append(ata, idx, m, low, j):  # pragma: no cover - compiled
    """Add column j to the Cholesky factor ``low`` of (aᵀa)[idx[:m], idx[:m]]; False if the
    result would not be positive definite."""
    v_sum = 0.0
    for i in range(m):
        v = ata[idx[i], j]
        for k in range(i):
            v -= low[i, k] * low[m, k]
        low[m, i] = v / low[i, i]
        v_sum += low[m, i] * low[m, i]
    d = ata[j, j] - v_sum
    if not d > 0.0:
        return False
    low[m, m] = np.sqrt(d)
    idx[m] = j
    return True


@_jit
def _forward(atb, idx, low, y, first, m):  # pragma: no cover - compiled
    """y[first:m] of L y = (aᵀb)[P] (the entries before ``first`` are already solved)."""
    for i in range(first, m):
        v = atb[idx[i]]
        for k in range(i):
            v -= low[i, k] * y[k]
        y[i] = v / low[i, i]


@_jit
def _backward(idx, m, low, y, s, t):  # pragma: no cover - compiled
    """s[P] from Lᵀ s = y (row by row of L), s = 0 elsewhere; ``t`` is scratch."""
    for i in range(m):
        s[idx[i]] = 0.0
        t[i] = y[i]
    for i in range(m - 1, -1, -1):
        v = t[i] / low[i, i]
        s[idx[i]] = v
        for k in range(i):
            t[k] -= low[i, k] * v


@_jit_sums
def fnnls(ata, atb, x0):  # pragma: no cover - compiled
    """NNLS from aᵀa and aᵀb by the active-set method of Bro and de Jong, started from the
    feasible ``x0`` (≥ 0; zeros for a cold start): a solve of a slightly changed problem
    starts from the passive set of the last one."""
    n = atb.size
    x = np.zeros(n)
    s = np.zeros(n)
    y = np.zeros(n)
    t = np.zeros(n)
    idx = np.zeros(n, np.int64)
    low = np.zeros((n, n))
    passive = np.zeros(n, np.bool_)
    scale = 0.0
    for i in range(n):
        col = 0.0
        for j in range(n):
            col += abs(ata[j, i])
        scale = max(scale, col)
    tol = 10.0 * 2.220446049250313e-16 * scale * n
    m = 0
    for j in range(n):
        if x0[j] > 0.0 and _append(ata, idx, m, low, j):
            passive[j] = True
            x[j] = x0[j]
            m += 1
    if m:
        _forward(atb, idx, low, y, 0, m)
        _backward(idx, m, low, y, s, t)
        m = _settle(ata, atb, idx, low, y, s, t, x, passive, m)
    w = np.zeros(n)
    _gradient(ata, atb, idx, m, x, passive, w)
    # a column that is numerically a combination of the passive ones cannot enter (its
    # Cholesky pivot is not positive, or the grown least squares gives it no positive value):
    # it waits until the passive set changes
    blocked = np.zeros(n, np.bool_)
    for _ in range(3 * n):
        j_max = -1
        w_max = tol
        for j in range(n):
            if not passive[j] and not blocked[j] and w[j] > w_max:
                w_max, j_max = w[j], j
        if j_max < 0:
            break
        if not _append(ata, idx, m, low, j_max):
            blocked[j_max] = True
            continue
        m += 1
        _forward(atb, idx, low, y, m - 1, m)
        _backward(idx, m, low, y, s, t)
        if not s[j_max] > 0.0:
            # rounding: the least squares on the grown set does not move along j_max, so it
            # would leave at once and enter again (Lawson and Hanson's guard against cycling)
            m -= 1
            blocked[j_max] = True
            continue
        blocked[:] = False
        passive[j_max] = True
        m = _settle(ata, atb, idx, low, y, s, t, x, passive, m)
        _gradient(ata, atb, idx, m, x, passive, w)
    return x


@_jit
def _settle(ata, atb, idx, low, y, s, t, x, passive, m):  # pragma: no cover - compiled
    """Move from the feasible ``x`` towards the passive set's least squares ``s``, dropping
    the variables that reach zero, until ``s`` is positive; then x = s. Returns the size of
    the passive set."""
    n = atb.size
    for _inner in range(3 * n):
        s_min = np.inf
        for i in range(m):
            s_min = min(s_min, s[idx[i]])
        if s_min > 0.0:
            break
        # step from x towards s until the first variable reaches zero
        alpha = np.inf
        stop = -1
        for i in range(m):
            j = idx[i]
            if s[j] <= 0.0:
                a = x[j] / (x[j] - s[j])
                if a < alpha:
                    alpha, stop = a, j
        for i in range(m):
            j = idx[i]
            x[j] += alpha * (s[j] - x[j])
        x[stop] = 0.0  # exactly, whatever the rounding of the step
        # drop the variables at zero (a tolerance here would drop small but positive
        # variables and cycle); the factor's rows before the first dropped one stay valid
        kept = 0
        first = m
        for i in range(m):
            j = idx[i]
            if x[j] <= 0.0:
                passive[j] = False
                x[j] = 0.0
                s[j] = 0.0
                if first == m:
                    first = i
            else:
                idx[kept] = j
                kept += 1
        m = first
        for i in range(first, kept):
            _append(ata, idx, m, low, idx[i])
            m += 1
        _forward(atb, idx, low, y, first, m)
        _backward(idx, m, low, y, s, t)
    for i in range(m):
        x[idx[i]] = s[idx[i]]
    return m


@_jit_sums
def _gradient(ata, atb, idx, m, x, passive, w):  # pragma: no cover - compiled
    """w = aᵀb − aᵀa x (only the entries off the passive set are read), a row of the
    symmetric aᵀa at a time so the sums run over contiguous memory."""
    w[:] = atb
    for i in range(m):
        row = ata[idx[i]]
        xi = x[idx[i]]
        for j in range(atb.size):
            w[j] -= row[j] * xi


@_jit_sums
def drt_seed(
    f,
    z_re,
    z_im,
    lam,
    per_decade,
    extend,
    prominence,
    min_fraction,
    coarse,
    n_fine,
    angle,
):  # pragma: no cover - compiled
    """The regularised DRT of a spectrum at λ = ``lam`` (``f`` ascending, Hz; Z in Ohm).

    Returns ``(r_inf, tau, gamma, tail_n, tail_coefficient, peak_resistances, peak_taus)``;
    ``tail_n`` and ``tail_coefficient`` (1/Q) are NaN without a spike.
    """
    m = f.size
    omega = 2 * np.pi * f
    log_omega = np.log(omega)
    mod = np.sqrt(z_re**2 + z_im**2)
    start = _spike_start(f, z_re, z_im, angle)
    spike = start == start
    lo = np.log10(1 / omega[-1]) - extend
    hi = np.log10(1 / omega[0]) + (0.0 if spike else extend)
    if spike:
        # a decade past the start of the spike keeps the low-frequency side of the last arc
        hi = min(hi, np.log10(1 / (2 * np.pi * start)) + 1)
    n_tau = _grid_size(lo, hi, per_decade)
    tau = 10.0 ** np.linspace(lo, hi, n_tau)
    dln = np.log(tau[1] / tau[0])
    r_ref = 0.0
    for i in range(m):
        if not spike or f[i] >= start:
            r_ref = max(r_ref, mod[i])
    # the grid's columns dlnτ / (1 + jωτ), weighted by R_ref / |Z|, and the data
    kern = np.empty((n_tau, 2 * m))  # a row per column of the least squares
    b = np.empty(2 * m)
    for i in range(m):
        b[i] = z_re[i] / mod[i]
        b[m + i] = z_im[i] / mod[i]
        for k in range(n_tau):
            wt = omega[i] * tau[k]
            v = dln * r_ref / mod[i] / (1.0 + wt * wt)
            kern[k, i] = v
            kern[k, m + i] = -wt * v
    ata_kk = np.empty((n_tau, n_tau))
    atb_k = np.empty(n_tau)
    for j in range(n_tau):
        for k in range(j + 1):
            v = 0.0
            for i in range(2 * m):
                v += kern[j, i] * kern[k, i]
            ata_kk[j, k] = v
            ata_kk[k, j] = v
        v = 0.0
        for i in range(2 * m):
            v += kern[j, i] * b[i]
        atb_k[j] = v
    # the penalty λ (DᵀD + 1e-6 I), D the first difference of neighbouring γ
    for j in range(n_tau):
        ata_kk[j, j] += lam * ((1.0 if j == 0 or j == n_tau - 1 else 2.0) + 1e-6)
        if j > 0:
            ata_kk[j, j - 1] -= lam
            ata_kk[j - 1, j] -= lam
    tail_n = np.nan
    if spike:
        tail_n = _tail_exponent(f, z_re, z_im, start, coarse, n_fine)
        u = np.empty((4, 2 * m))
    else:
        u = np.empty((1, 2 * m))
        for i in range(m):
            u[0, i] = 1.0 / mod[i]
            u[0, m + i] = 0.0
    x = np.zeros(u.shape[0] + n_tau)
    for attempt in range(3):
        if spike:
            scale = _spike_columns(omega, log_omega, mod, tail_n, u)
        else:
            scale = _unit_rows(u)
        # each re-linearised solve starts from the last solution
        x = _solve(u, kern, b, ata_kk, atb_k, x)
        xu = x[: u.shape[0]] / scale
        if not spike or attempt == 2:
            break
        # the columns ±dZ/dn linearise the CPE about n: move n by their share and solve again
        step = (xu[3] - xu[2]) / xu[1] if xu[1] > 0 else 0.0
        if not np.isfinite(step) or abs(step) < 1e-3:
            break
        tail_n = min(max(tail_n + step, 0.3), 1.0)
    gamma = x[u.shape[0] :] * r_ref
    _, _, areas, taus = _peaks(tau, gamma, dln, prominence, min_fraction)
    tail_c = xu[1] if spike else np.nan
    return xu[0], tau, gamma, tail_n, tail_c, areas, taus
# compiled from (sha256): 6ab9ee56c05e3f5ff604a88b9835cfae5938db209f421f855c7a51722f3aac58
