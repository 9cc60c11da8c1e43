"""The least-squares engine: well-scaled parameters, analytic Jacobian, bounds.

Positive parameters (resistances, capacitances, CPE Q, time constants) span 1e-12 to 1e9, so
the solver works on their natural logarithm; exponents stay linear. The Jacobian is the circuit's
analytic dZ/dp times dp/du, weighted and stacked as real and imaginary rows, so no finite
difference step ever meets a parameter of 1e-11.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from .circuit import Circuit


@dataclass
class Problem:
    """A fit problem in the solver's internal coordinates.

    Attributes
    ----------
    circuit
        The circuit.
    frequency
        Frequencies (Hz).
    z
        Measured impedance (Ohm).
    w_re, w_im
        Weights of the real and imaginary residuals.
    lower, upper
        Bounds of every parameter (natural units).
    vary
        Which parameters are free.
    fixed
        Values of every parameter (only the fixed ones are read).
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

    def __post_init__(self) -> None:
        kinds = self.circuit.parameter_kinds
        self.log = np.array([k == "positive" for k in kinds])
        self.free = np.flatnonzero(self.vary)
        self._key: bytes | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self.n_eval = 0

    # ------------------------------------------------------------------ transforms
    def to_internal(self, p: np.ndarray) -> np.ndarray:
        """Free parameters in solver coordinates (log for positive ones)."""
        p = np.asarray(p, float)[self.free]
        return np.where(self.log[self.free], np.log(np.maximum(p, 1e-300)), p)

    def to_params(self, u: np.ndarray) -> np.ndarray:
        """All parameters (natural units) from free solver coordinates."""
        p = self.fixed.copy()
        lg = self.log[self.free]
        p[self.free] = np.where(lg, np.exp(np.clip(u, -700, 700)), u)
        return p

    def internal_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = self.lower[self.free].astype(float)
        hi = self.upper[self.free].astype(float)
        lg = self.log[self.free]
        with np.errstate(divide="ignore"):
            lo = np.where(lg, np.log(np.maximum(lo, 1e-300)), lo)
            hi = np.where(lg, np.log(np.maximum(hi, 1e-300)), hi)
        return lo, hi

    # ------------------------------------------------------------------ residuals
    def _evaluate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = u.tobytes()
        if key != self._key:
            p = self.to_params(u)
            with np.errstate(all="ignore"):
                zm, jac = self.circuit.impedance_and_jacobian(self.frequency, p)
            self._key, self._cache = key, (zm, jac)
            self.n_eval += 1
        return self._cache  # type: ignore[return-value]

    def residual(self, u: np.ndarray) -> np.ndarray:
        """Weighted residual [w_re·(Z'm − Z'), w_im·(Z''m − Z'')]."""
        zm, _ = self._evaluate(u)
        d = zm - self.z
        r = np.concatenate([self.w_re * d.real, self.w_im * d.imag])
        return np.where(np.isfinite(r), r, 1e10)

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """d residual / d u, shape (2N, n_free)."""
        _, jac = self._evaluate(u)
        p = self.to_params(u)
        jf = jac[self.free]
        scale = np.where(self.log[self.free], p[self.free], 1.0)
        jf = jf * scale[:, None]
        out = np.concatenate([jf.real * self.w_re, jf.imag * self.w_im], axis=1).T
        return np.where(np.isfinite(out), out, 0.0)


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
    lo, hi = problem.internal_bounds()
    u0 = np.clip(problem.to_internal(p0), lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
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


def covariance(sol: Solution, n_params_free: int) -> np.ndarray | None:
    """Covariance of the free internal parameters, scaled by the reduced χ²."""
    r = sol.residual
    dof = r.size - n_params_free
    if dof <= 0 or n_params_free == 0:
        return None
    j = sol.jac
    jtj = j.T @ j
    try:
        inv = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(jtj)
    if not np.all(np.isfinite(inv)):
        return None
    return inv * float(r @ r) / dof
