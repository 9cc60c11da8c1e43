"""The least-squares engine: well-scaled parameters, analytic Jacobian, bounds.

Positive parameters (resistances, capacitances, CPE Q, time constants) span 1e-12 to 1e9, so
the solver works on their natural logarithm; exponents stay linear. The Jacobian is the circuit's
analytic dZ/dp times dp/du, weighted and stacked as real and imaginary rows, so no finite
difference step ever meets a parameter of 1e-11.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eisfit.kernels import lm_loop, lm_rules
from eisfit.model.circuit import Circuit


@dataclass
class Problem:
    """A fit problem in the solver's internal coordinates.

    Attributes
    ----------
    circuit
        The circuit.
    frequency
        Frequencies (Hz), shape (N,); or (B, N) for a stack of B spectra fitted at once, each
        candidate row then naming its spectrum through ``rows``.
    z
        Measured impedance (Ohm), shape as ``frequency``.
    w_re, w_im
        Weights of the real and imaginary residuals, shape as ``frequency``.
    lower, upper
        Bounds of every parameter (natural units).
    vary
        Which parameters are free.
    fixed
        Values of every parameter (only the fixed ones are read).
    admittance
        True when the residual is Y_model − Y_data (Y = 1/Z; its Jacobian −(dZ/dp)/Z²) in
        place of Z_model − Z_data; ``w_re``, ``w_im`` then weight it. Only the numpy engine
        forms it (the compiled one hands such problems back).
    absolute_sigma
        True when the weights are 1/σ of each point: the covariance is (JᵀJ)⁻¹, not scaled by
        the reduced χ².
    """

    circuit: Circuit
    frequency: np.ndarray
    z: np.ndarray
    w_re: np.ndarray
    w_im: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    vary: np.ndarray
    fixed: np.ndarray
    admittance: bool = False
    absolute_sigma: bool = False

    def __post_init__(self) -> None:
        self.log = self.circuit.log_scaled
        self.free = np.flatnonzero(self.vary)
        self._key: bytes | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ transforms
    def to_internal(self, p: np.ndarray) -> np.ndarray:
        """Free parameters in solver coordinates (log for positive ones)."""
        return self.internal_batch(np.asarray(p, float)[None, :])[0]

    def internal_batch(self, p: np.ndarray) -> np.ndarray:
        """Free solver coordinates (K, n_free) of K parameter rows (K, n_params)."""
        pf = np.asarray(p, float)[:, self.free]
        return np.where(self.log[self.free], np.log(np.maximum(pf, 1e-300)), pf)

    def to_params(self, u: np.ndarray) -> np.ndarray:
        """All parameters (natural units) from free solver coordinates."""
        return self.params_batch(np.asarray(u, float)[None, :])[0]

    def params_batch(self, u: np.ndarray) -> np.ndarray:
        """All parameters (K, n_params) from K rows of free solver coordinates (K, n_free)."""
        p = np.tile(self.fixed, (u.shape[0], 1))
        lg = self.log[self.free]
        p[:, self.free] = np.where(lg, np.exp(np.clip(u, -700, 700)), u)
        return p

    def internal_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the free parameters in solver coordinates (computed once:
        a problem's bounds do not change; not to be written to)."""
        if self._bounds is None:
            lo, hi = self.internal_batch(np.stack([self.lower, self.upper]))
            self._bounds = (lo, hi)
        return self._bounds

    # ------------------------------------------------------------------ residuals
    @property
    def stacked(self) -> bool:
        """True when the problem holds a stack of spectra, shape (B, N)."""
        return np.ndim(self.z) == 2

    def _data(
        self, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if rows is None or not self.stacked:
            return self.frequency, self.z, self.w_re, self.w_im
        return self.frequency[rows], self.z[rows], self.w_re[rows], self.w_im[rows]

    def residual_jac_batch(
        self,
        u: np.ndarray,
        rows: np.ndarray | None = None,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Residuals (K, 2N) and their Jacobians d r / d u (K, 2N, n_free) for K rows of u;
        with ``out``, written into its arrays: residuals (K, 2N) and the Jacobians transposed
        (K, n_free, 2N), C-contiguous."""
        f, z, w_re, w_im = self._data(rows)
        p = self.params_batch(u)
        with np.errstate(all="ignore"):
            zm, jac = self.circuit.impedance_and_jacobian_batch(f, p)
        free = self.free
        jf = jac if free.size == jac.shape[0] else jac[free]  # (F, K, N)
        if self.admittance:
            with np.errstate(all="ignore"):
                d = 1.0 / zm - 1.0 / z
                jf = -jf / (zm * zm)  # dY/dp = −(dZ/dp)/Z²
        else:
            d = zm - z
        n = zm.shape[-1]
        r, jt = out if out is not None else (None, None)
        r = np.concatenate([w_re * d.real, w_im * d.imag], axis=1, out=r)
        # d/du = p d/dp for parameters fitted as u = ln p: folded into the weights
        scale = np.where(self.log[free][:, None], p[:, free].T, 1.0)[:, :, None]  # (F, K, 1)
        if jt is None:
            jt = np.empty((p.shape[0], free.size, 2 * n))  # (K, F, 2N), the solver's layout
        np.multiply(jf.real, scale * w_re, out=np.swapaxes(jt[:, :, :n], 0, 1))
        np.multiply(jf.imag, scale * w_im, out=np.swapaxes(jt[:, :, n:], 0, 1))
        # one sum finds a NaN or inf anywhere (an overflow of the sum only costs the check)
        if not np.isfinite(jt.sum()):
            np.copyto(jt, 0.0, where=~np.isfinite(jt))
        if not np.isfinite(r.sum()):
            np.copyto(r, 1e10, where=~np.isfinite(r))
        return r, np.swapaxes(jt, 1, 2)  # (K, 2N, F), a view

    def _evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the trust-region solver asks for the residual and then the Jacobian at one point
        key = u.tobytes()
        if key != self._key:
            r, j = self.residual_jac_batch(np.asarray(u, float)[None, :])
            self._key, self._cache = key, (r[0], j[0])
        return self._cache  # type: ignore[return-value]

    def residual(self, u: np.ndarray) -> np.ndarray:
        """Weighted residual at one point u, shape (2N,)."""
        return self._evaluate(u)[0]

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """d residual / d u at one point, shape (2N, n_free)."""
        return self._evaluate(u)[1]


@dataclass
class Solution:
    """What the solver returns."""

    params: np.ndarray
    u: np.ndarray
    cost: float
    residual: np.ndarray
    jac: np.ndarray
    nfev: int
    success: bool
    message: str


def solve(problem: Problem, p0: np.ndarray, max_nfev: int = 200, tol: float = 1e-10) -> Solution:
    """Minimise the weighted residual from ``p0`` (natural units) within the bounds."""
    from scipy.optimize import least_squares  # only here: a single fit never needs it

    lo, hi = problem.internal_bounds()
    u0 = lm_rules.inside(problem.to_internal(p0), lo, hi)
    if problem.free.size == 0:
        r = problem.residual(u0)
        return Solution(
            problem.fixed.copy(),
            u0,
            0.5 * float(r @ r),
            r,
            np.zeros((r.size, 0)),
            1,
            True,
            "no free parameters",
        )
    res = least_squares(
        problem.residual,
        u0,
        jac=problem.jacobian,
        bounds=(lo, hi),
        method="trf",
        x_scale=1.0,
        ftol=tol,
        xtol=tol,
        gtol=tol,
        max_nfev=max_nfev,
    )
    return Solution(
        problem.to_params(res.x),
        res.x,
        float(res.cost),
        res.fun,
        res.jac,
        int(res.nfev),
        bool(res.status > 0),
        str(res.message),
    )


def solutions_at(
    problem: Problem,
    params: np.ndarray,
    rows: np.ndarray | None,
    nfev: int,
    message: str,
) -> list[Solution]:
    """The converged :class:`Solution` of each row of ``params`` (K, n_params), with the
    residuals and Jacobian evaluated there (``rows``: each row's spectrum in a stack)."""
    u = problem.internal_batch(params)
    r, j = problem.residual_jac_batch(u, rows)
    return [
        Solution(params[k], u[k], 0.5 * float(r[k] @ r[k]), r[k], j[k], nfev, True, message)
        for k in range(len(params))
    ]


def covariance(
    sol: Solution, n_params_free: int, absolute_sigma: bool = False
) -> np.ndarray | None:
    """Covariance of the free internal parameters, scaled by the reduced χ² (not scaled when
    ``absolute_sigma``: the weights were 1/σ of each point)."""
    return scaled_covariance(sol.residual, sol.jac, n_params_free, absolute_sigma)


def scaled_covariance(
    r: np.ndarray, j: np.ndarray, n_free: int, absolute_sigma: bool = False
) -> np.ndarray | None:
    """(JᵀJ)⁻¹ · χ²/dof for residuals ``r`` (M,) and their Jacobian ``j`` (M, n_free); (JᵀJ)⁻¹
    alone when ``absolute_sigma`` (residuals weighted by 1/σ).

    None when there are no degrees of freedom or the inverse is not finite.
    """
    dof = r.size - n_free
    if dof <= 0 or n_free == 0:
        return None
    jtj = j.T @ j
    try:
        inv = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(jtj)
    cov = inv if absolute_sigma else inv * float(r @ r) / dof
    return cov if np.all(np.isfinite(cov)) else None


# --------------------------------------------------------------------------- batched LM
def start_coordinates(
    problem: Problem, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starting vectors (K, n_params; natural units) in solver coordinates, just inside the
    bounds (:func:`eisfit.kernels.lm_rules.inside`), and those bounds: ``(u (K, n_free), lower,
    upper)``."""
    lo, hi = problem.internal_bounds()
    return lm_rules.inside(problem.internal_batch(starts), lo, hi), lo, hi


def lm_batch(
    problem: Problem,
    starts: np.ndarray,
    max_iter: int = 100,
    tol: float = 1e-10,
    rows: np.ndarray | None = None,
    xtol: float | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Levenberg–Marquardt from K starting vectors at once, projected onto the bounds.

    Every candidate advances in the same vectorised steps, so scouting eight starting points
    costs little more than one: the loop of :func:`eisfit.kernels.lm_loop.iterate`, by the rules
    of :mod:`eisfit.kernels.lm_rules`. Where numba is installed, the compiled engine runs the
    same loop compiled (:func:`eisfit.kernels.compiled.lm`).

    Parameters
    ----------
    problem
        The fit problem.
    starts
        (K, n_params) starting parameters in natural units.
    max_iter
        Iterations at most.
    tol
        Stop a candidate when an accepted step lowers its cost by less than ``tol`` (relative).
    rows
        For a stacked problem, the spectrum (row of ``problem.z``) of each starting vector.
        Every candidate's steps depend on its own data only, so a spectrum's result does not
        depend on what else is in the stack.
    xtol
        With ``xtol``, a small gain stops a candidate only when its step was also below
        ``xtol`` in every solver coordinate (log units for positive parameters), so a
        candidate still moving along a flat valley goes on.

    Returns
    -------
    params : (K, n_params) ndarray
    cost : (K,) ndarray
        Half the weighted sum of squares.
    n_eval : int
        Evaluations made: the most any candidate made (the batched evaluations).
    """
    from eisfit.kernels import compiled

    u, lo, hi = start_coordinates(problem, starts)
    if rows is None:
        rows = np.arange(u.shape[0])
    x_tol = lm_rules.NO_XTOL if xtol is None else xtol
    if compiled.enabled():
        done = compiled.lm(problem, u, lo, hi, rows, max_iter, tol, x_tol)
        if done is not None:
            return done
    u, cost, _, _, n_eval = lm_loop.iterate(problem, u, rows, lo, hi, max_iter, tol, x_tol)
    return problem.params_batch(u), cost, int(n_eval.max())
