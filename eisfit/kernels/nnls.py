"""Non-negative least squares in numpy: :func:`nnls` solves ``min |A x - b|₂`` with ``x ≥ 0``.

The active-set method of Lawson and Hanson ("Solving Least Squares Problems", SIAM 1995,
ch. 23), the algorithm of :func:`scipy.optimize.nnls`, written with numpy alone so that the
DRT that seeds a fit and :func:`eisfit.analysis.drt.drt` do not import scipy's optimiser
(a large part of the ``eisfit`` command's start-up). The compiled engine has its own solver
(:func:`eisfit.kernels.compiled.nnls`). :func:`unique_nnls`, for systems of full column rank
(a penalised DRT), solves by block principal pivoting, which changes many variables' sets at
once and so needs a handful of least-squares solves where the active-set loop needs one per
variable (about a third of its time on the DRTs of a fit); the active-set loop answers where
it does not settle.

The rows are first reduced to the triangular factor of a QR decomposition of ``[A b]`` (one
row per column: ``|A x - b|²`` equals ``|R x - c|²`` plus a constant for every ``x``), so each
step of the active-set loop works on a square system however many points the spectrum has.
Every least-squares sub-problem is solved by an orthogonal factorisation of its columns, never
by the normal equations, so the solution is as accurate as scipy's (the tests compare the two
on random and ill-conditioned DRT systems).
"""

from __future__ import annotations

import math

import numpy as np

from eisfit.blas import single_threaded_blas
from eisfit.exceptions import FitError

__all__ = ["nnls", "unique_nnls"]

#: Relative size (of ``max|A| · |b|``, per row or column) below which a gradient component
#: counts as zero: a variable whose gradient is that small would move the solution only by
#: rounding.
GRADIENT_TOL = 10 * np.finfo(float).eps


def nnls(a: np.ndarray, b: np.ndarray, maxiter: int | None = None) -> tuple[np.ndarray, float]:
    """Non-negative least squares: ``x ≥ 0`` minimising ``|a x - b|₂``.

    Parameters
    ----------
    a
        (M, N) matrix (any units; the columns need not be scaled).
    b
        (M,) right-hand side, in the units of ``a x``.
    maxiter
        Most steps of the active-set loop (a variable entering or leaving the set of
        positive variables counts one); default ``3 N``, as :func:`scipy.optimize.nnls`.

    Returns
    -------
    x : ndarray
        (N,) solution, every entry ≥ 0, in the units of ``b`` over those of ``a``.
    rnorm : float
        ``|a x - b|₂``, in the units of ``b``.

    Raises
    ------
    ValueError
        ``a`` not two-dimensional, ``b`` not matching its rows, or either not finite.
    eisfit.exceptions.FitError
        The loop took more than ``maxiter`` steps.

    Examples
    --------
    >>> import numpy as np
    >>> x, rnorm = nnls(np.array([[1.0, 0], [1, 0], [0, 1]]), np.array([2.0, 1, 1]))
    >>> x.round(12).tolist(), round(rnorm, 12)
    ([1.5, 1.0], 0.707106781187)
    """
    a, b = _checked(a, b)
    with single_threaded_blas():  # the products here are small: threads only cost time
        return _active_set(a, b, maxiter)


def unique_nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`nnls` of a system whose solution is unique (full column rank: a penalised DRT),
    solved by the compiled engine where it runs (the same solution to rounding, several times
    faster, :func:`eisfit.kernels.compiled.nnls`), else by block principal pivoting, and by
    the active-set loop of :func:`nnls` where that does not settle (columns numerically
    dependent, or a cycle in rounding).

    Parameters
    ----------
    a
        (M, N) matrix of full column rank.
    b
        (M,) right-hand side, in the units of ``a x``.

    Returns
    -------
    ndarray
        (N,) solution, every entry ≥ 0.
    """
    from eisfit.kernels import compiled

    x = compiled.nnls(a, b) if compiled.enabled() else None
    if x is not None:
        return x
    a, b = _checked(a, b)
    with single_threaded_blas():
        x = _block_pivoting(a, b, _gradient_tol(a, b))
        return _active_set(a, b, 50 * a.shape[1])[0] if x is None else x


def _active_set(a: np.ndarray, b: np.ndarray, maxiter: int | None) -> tuple[np.ndarray, float]:
    """The Lawson-Hanson loop of :func:`nnls` on checked input."""
    n = a.shape[1]
    r, c = _reduced(a, b)
    tol = _gradient_tol(a, b)
    x = np.zeros(n)
    fac = _Factor(r, c)
    blocked = np.zeros(n, dtype=bool)  # columns whose entry the last try showed useless
    steps = 0
    limit = 3 * n if not maxiter else int(maxiter)
    while n:
        grad = r.T @ (c - r @ x)
        grad[fac.order] = -np.inf
        grad[blocked] = -np.inf
        j = int(np.argmax(grad))
        if not grad[j] > tol:
            break
        steps += 1
        if steps > limit:
            raise FitError(f"non-negative least squares did not converge in {limit} steps")
        s = fac.solution() if fac.append(j) else None
        if s is None or not s[j] > 0.0:
            # column j is numerically a combination of the passive ones, or rounding leaves
            # the least squares on the grown set still at x_j <= 0, so it would leave at once
            # and enter again (Lawson and Hanson's guards against cycling): it waits until the
            # passive set changes
            if fac.order and fac.order[-1] == j:
                fac.keep([i for i in fac.order if i != j])
            blocked[j] = True
            continue
        blocked[:] = False
        x, steps = _settle(fac, x, s, steps, limit)
    return x, float(np.linalg.norm(a @ x - b))


def _gradient_tol(a: np.ndarray, b: np.ndarray) -> float:
    """The size of a gradient component that counts as zero (see :data:`GRADIENT_TOL`)."""
    scale = float(np.abs(a).max(initial=0.0)) * float(np.linalg.norm(b))
    return GRADIENT_TOL * max(a.shape) * scale


def _block_pivoting(a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray | None:
    """The unique solution of ``min |a x - b|``, ``x ≥ 0`` by block principal pivoting; None
    when it does not settle (columns numerically dependent, or cycling in rounding).

    The method of Júdice and Pires (Comput. Oper. Res. 21, 1994), as Kim and Park use it for
    non-negative matrix factorisation (SIAM J. Sci. Comput. 33, 2011): every variable whose
    sign condition fails (a negative passive variable, a zero one whose gradient would lower
    the residual) changes set at once, so a system of a hundred columns settles in a handful
    of least-squares solves where the Lawson-Hanson loop takes one step per variable. Where
    the count of such variables stops falling, three more exchanges of all of them are tried,
    then one variable at a time (the last), which ends in finitely many steps when the
    columns are independent.

    The sets are searched with the normal equations (a solve of a few dozen unknowns, cheap
    but with the condition number squared); the set they settle on is solved again by a QR
    factorisation of its columns, as accurate as the active-set loop, and the search goes on
    with QR solves unless that solution meets the conditions too. The answer is therefore
    always a QR solution that meets them.
    """
    n = a.shape[1]
    gram, rc = a.T @ a, a.T @ b
    passive = np.zeros(n, dtype=bool)
    x = np.zeros(n)
    dual = -rc  # the gradient of |a x - b|² / 2 at x
    quick = True
    fewest, backup = n + 1, 3
    for _ in range(5 * n + 10):
        wrong = np.flatnonzero((passive & (x < 0.0)) | (~passive & (dual < -tol)))
        if not wrong.size and not quick:
            x[x < 0.0] = 0.0
            return x
        if not wrong.size:  # the normal equations' set: check it with the accurate solution
            quick = False
        elif wrong.size < fewest:
            fewest, backup = wrong.size, 3
        elif backup:
            backup -= 1
        else:
            wrong = wrong[-1:]
        passive[wrong] = ~passive[wrong]
        solved = _normal_solution(gram, rc, passive) if quick else None
        if solved is None:
            quick = False
            solved = _qr_solution(a, b, passive)
            if solved is None:
                return None
        x, dual = solved
    return None


def _normal_solution(
    gram: np.ndarray, rc: np.ndarray, passive: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The least squares on the ``passive`` columns from the normal equations (``gram`` = aᵀa,
    ``rc`` = aᵀb) and its gradient; None when they are singular."""
    x = np.zeros(rc.size)
    if passive.any():
        try:
            x[passive] = np.linalg.solve(gram[np.ix_(passive, passive)], rc[passive])
        except np.linalg.LinAlgError:
            return None
    dual = gram @ x - rc
    dual[passive] = 0.0
    return x, dual


def _qr_solution(
    a: np.ndarray, b: np.ndarray, passive: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The least squares on the ``passive`` columns by a QR factorisation of them, and its
    gradient; None when they are numerically dependent (no unique least squares) or more
    than the rows."""
    x = np.zeros(a.shape[1])
    cols = a[:, passive]
    if cols.shape[1] > cols.shape[0]:
        return None
    if cols.shape[1]:
        q, tri = np.linalg.qr(cols)
        diag = np.abs(np.diagonal(tri))
        if not diag.min() > 100 * np.finfo(float).eps * diag.max() * a.shape[1]:
            return None
        x[passive] = np.linalg.solve(tri, q.T @ b)
    dual = a.T @ (a @ x - b)
    dual[passive] = 0.0
    return x, dual


def _checked(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as finite float arrays of matching shapes (ValueError otherwise)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if b.ndim == 2 and b.shape[1] == 1:
        b = b.ravel()
    if a.ndim != 2 or b.ndim != 1 or b.size != a.shape[0]:
        raise ValueError(
            f"nnls needs an (M, N) matrix and an (M,) vector, got shapes {a.shape} and {b.shape}"
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("nnls needs finite values in the matrix and the right-hand side")
    return a, b


def _reduced(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(R, c)`` with ``|R x - c|² = |a x - b|² - const`` and R no taller than it is wide."""
    m, n = a.shape
    if m <= n:
        return a, b
    top = np.linalg.qr(np.column_stack([a, b]), mode="r")
    return top[:n, :n], top[:n, n]


class _Factor:
    """QR factors of the passive columns of ``r`` (in the order they entered), kept up to date
    as columns enter and leave, and the least squares on them.

    ``q`` has orthonormal columns and ``r[:, order] = q @ tri``; ``inv`` is the inverse of the
    upper-triangular ``tri``, ``qc`` is ``qᵀ c``. A column enters by Gram-Schmidt
    orthogonalisation done twice (orthogonal to working precision); when columns leave, the
    factors of the columns before the first of them are kept and the later ones are
    orthogonalised against those and factored again, as a block.
    """

    def __init__(self, r: np.ndarray, c: np.ndarray) -> None:
        self.r, self.c = r, c
        rows, n = r.shape
        size = min(rows, n)
        self.order: list[int] = []
        self._q = np.zeros((rows, size))  # the first len(order) columns are in use
        self._inv = np.zeros((size, size))
        self._qc = np.zeros(size)
        self.n = n

    def append(self, j: int) -> bool:
        """Add column ``j`` last; False (nothing added) when it is numerically dependent on
        the passive columns (Lawson and Hanson's test: its part orthogonal to them is below
        ~50 ε of its part along them) or there are as many passive columns as rows."""
        k = len(self.order)
        if k >= self._q.shape[1]:
            return False
        q = self._q[:, :k]
        v = self.r[:, j]
        h = v @ q
        u = v - q @ h
        h2 = u @ q
        u -= q @ h2
        h += h2
        rho = math.sqrt(float(u @ u))
        unorm = math.sqrt(float(h @ h))
        if not unorm + 0.01 * rho - unorm > 0.0:
            return False
        u /= rho
        self._q[:, k] = u
        self._inv[:k, k] = -(self._inv[:k, :k] @ h) / rho
        self._inv[k, :k] = 0.0
        self._inv[k, k] = 1.0 / rho
        self._qc[k] = u @ self.c
        self.order.append(j)
        return True

    def keep(self, order: list[int]) -> None:
        """Keep only the columns ``order`` (a subsequence of :attr:`order`)."""
        p = 0
        while p < len(order) and order[p] == self.order[p]:
            p += 1
        self.order = self.order[:p]
        rest = order[p:]
        if not rest:
            return
        # the later columns orthogonalised against the kept ones at once (twice, as in
        # append), then factored among themselves: [r_kept r_rest] = [q q2] [[tri h] [0 tri2]]
        t = len(rest)
        q = self._q[:, :p]
        v = self.r[:, rest]
        h = q.T @ v
        u = v - q @ h
        h2 = q.T @ u
        u -= q @ h2
        h += h2
        q2, tri2 = np.linalg.qr(u)
        inv2 = np.linalg.inv(tri2)
        self._q[:, p : p + t] = q2
        self._inv[:p, p : p + t] = -(self._inv[:p, :p] @ h) @ inv2
        self._inv[p : p + t, :p] = 0.0
        self._inv[p : p + t, p : p + t] = inv2
        self._qc[p : p + t] = q2.T @ self.c
        self.order.extend(rest)

    def solution(self) -> np.ndarray:
        """The least squares on the passive columns (zero on the others)."""
        k = len(self.order)
        s = np.zeros(self.n)
        s[self.order] = self._inv[:k, :k] @ self._qc[:k]
        return s


def _settle(
    fac: _Factor, x: np.ndarray, s: np.ndarray, steps: int, limit: int
) -> tuple[np.ndarray, int]:
    """Move from the feasible ``x`` towards the passive set's least squares ``s``, dropping
    the variables that reach zero, until that least squares is positive on the passive set.

    Returns
    -------
    x, steps
        The new feasible point (the passive set's least squares, the passive set left in
        ``fac``) and the count of steps so far.
    """
    while np.any(s[fac.order] <= 0.0):
        steps += 1
        if steps > limit:
            raise FitError(f"non-negative least squares did not converge in {limit} steps")
        idx = np.array(fac.order)
        leaving = idx[s[idx] <= 0.0]
        ratio = x[leaving] / (x[leaving] - s[leaving])
        alpha = float(ratio.min())
        x = x + alpha * (s - x)
        # the variable(s) that set the step reach zero exactly; others that rounding leaves at
        # or below zero leave as well
        x[leaving[ratio <= alpha]] = 0.0
        x[idx[x[idx] <= 0.0]] = 0.0
        fac.keep([i for i in fac.order if x[i] > 0.0])
        s = fac.solution()
    return s, steps
