"""The compiled choice of the lin-KK number of elements (numba, the optional ``fast`` extra).

:func:`walk_down` runs the walk of :func:`eisfit.analysis.kk.kramers_kronig`'s ``"stable"`` rule
for a
complex fit: from the largest number of Voigt elements M down, each M's weighted least squares
is solved from its normal equations (columns scaled to unit norm, Cholesky), until μ reaches
the cut-off. The numpy engine runs the same steps one M at a time
(:func:`eisfit.analysis.kk.mu_normal`). Imported only through :mod:`eisfit.analysis.kk`.
"""

from __future__ import annotations

import numpy as np

from eisfit.kernels._kernels import _jit

__all__ = ["walk_down"]


@_jit
def _mu(f, w, inv, z_re, z_im, m, cap, ind):  # pragma: no cover - compiled
    """μ of the complex lin-KK fit with ``m`` elements; NaN when Cholesky breaks down."""
    n = f.size
    n_col = 1 + m + ind + cap
    a = np.zeros((2 * n, n_col))
    b = np.empty(2 * n)
    tau = np.empty(m)
    lo = np.log10(1.0 / w.max())
    hi = np.log10(1.0 / w.min())
    if m == 1:
        tau[0] = 10.0**hi
    else:
        for k in range(m):
            tau[k] = 10.0 ** (lo + k * (hi - lo) / (m - 1))
    for i in range(n):
        b[i] = z_re[i] * inv[i]
        b[n + i] = z_im[i] * inv[i]
        a[i, 0] = inv[i]
        for k in range(m):
            x = w[i] * tau[k]
            d = 1.0 / (1.0 + x * x)
            a[i, 1 + k] = d * inv[i]
            a[n + i, 1 + k] = -x * d * inv[i]
        j = 1 + m
        if ind:
            a[n + i, j] = w[i] * inv[i]
            j += 1
        if cap:
            a[n + i, j] = -inv[i] / w[i]
    g = a.T @ a
    r = a.T @ b
    s = np.sqrt(np.diag(g).copy())
    for p in range(n_col):
        if s[p] == 0.0:
            s[p] = 1.0
    for p in range(n_col):
        r[p] /= s[p]
        for q in range(n_col):
            g[p, q] /= s[p] * s[q]
    # Cholesky g = L Lᵀ in place (lower triangle)
    for p in range(n_col):
        acc = g[p, p]
        for q in range(p):
            acc -= g[p, q] * g[p, q]
        if not acc > 1e-13:
            return np.nan
        g[p, p] = np.sqrt(acc)
        for i in range(p + 1, n_col):
            acc = g[i, p]
            for q in range(p):
                acc -= g[i, q] * g[p, q]
            g[i, p] = acc / g[p, p]
    y = np.empty(n_col)
    for p in range(n_col):
        acc = r[p]
        for q in range(p):
            acc -= g[p, q] * y[q]
        y[p] = acc / g[p, p]
    for p in range(n_col - 1, -1, -1):
        acc = y[p]
        for q in range(p + 1, n_col):
            acc -= g[q, p] * y[q]
        y[p] = acc / g[p, p]
    pos = 0.0
    neg = 0.0
    for k in range(m):
        v = y[1 + k] / s[1 + k]
        if v >= 0:
            pos += v
        else:
            neg -= v
    if pos == 0.0:
        return -np.inf
    return 1.0 - neg / pos


@_jit
def walk_down(f, z_re, z_im, c, m_max, cap, ind):  # pragma: no cover - compiled
    """The walk of the ``"stable"`` rule from ``m_max`` down.

    Returns ``(m_bad, m_stuck)``: ``m_bad`` the largest M with μ ≥ ``c`` (0 when none), or
    ``m_stuck`` > 0, the M whose normal equations broke down, from which the caller goes on
    with its own solves.
    """
    w = 2.0 * np.pi * f
    inv = 1.0 / np.sqrt(z_re * z_re + z_im * z_im)
    for m in range(m_max, 0, -1):
        mu = _mu(f, w, inv, z_re, z_im, m, cap, ind)
        if np.isnan(mu):
            return -1, m
        if mu >= c:
            return m, 0
    return 0, 0
