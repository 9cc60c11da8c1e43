"""Compiled circuit evaluation, Levenberg–Marquardt and NNLS, used when numba is installed.

The numpy engine (:mod:`eisfit.engine`) spends most of a single fit in numpy's per-call
overhead: a few dozen array operations per iteration on arrays of 60–90 points. With the
optional ``fast`` extra (numba), the same steps run compiled:

* the circuit becomes a short program in postfix order (elements, fused ``p(R,CPE)`` arcs,
  series and parallel combinations), run op by op over all frequencies by one compiled
  interpreter that carries Z and dZ/dp, so one compiled function serves every circuit;
* :func:`lm` runs the Levenberg–Marquardt iterations of
  :func:`eisfit.engine.lm_batch`, candidate by candidate, with the same damping, bounds,
  active set and stopping rules;
* :func:`nnls` solves the regularised DRT by an active-set method on the normal equations;
* :func:`drt_seed` computes the whole DRT that seeds the starting values of blocking cells
  (spike, tail exponent, solves, peaks) in one call.

The numba code is in :mod:`eisfit._kernels` and :mod:`eisfit._drt_kernels`, imported on the
first compiled call.

Every candidate's steps use its own data only, as in the numpy engine, so a spectrum's result
does not depend on what else is in a stack. The compiled functions are cached on disk by numba
after the first call in a Python environment (about 22 s, once).

Set the environment variable ``EISFIT_COMPILED=0`` (or call :func:`use` with ``False``) to run
the numpy engine even when numba is installed.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .circuit import Circuit
    from .engine import Problem

#: numba (the optional ``fast`` extra) is installed; it is imported on the first compiled call.
_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = [
    "available",
    "enabled",
    "use",
    "use_for",
    "program",
    "lm",
    "multistart",
    "nnls",
    "drt_seed",
]

# opcodes of a circuit program; each row of a program is (opcode, a, b)
_ELEMENT, _ARC, _SERIES, _PARALLEL = 0, 1, 2, 3
#: Element symbols the interpreter evaluates, and their codes.
ELEMENT_CODES = {
    "R": 0,
    "C": 1,
    "L": 2,
    "CPE": 3,
    "W": 4,
    "Wo": 5,
    "Ws": 6,
    "G": 7,
    "Gs": 8,
    "K": 9,
    "Zarc": 10,
    "La": 11,
}

_SWITCH = {"on": os.environ.get("EISFIT_COMPILED", "1") != "0"}


def available() -> bool:
    """True when numba is installed."""
    return _NUMBA


def _kernels(name: str = "_kernels") -> ModuleType | None:
    """The compiled kernels (the module ``name``), imported on first use; None (and the numpy
    engine from then on, with one warning) when numba cannot load them, e.g. with no writable
    cache folder."""
    global _NUMBA
    try:
        kernels = importlib.import_module(f"{__package__}.{name}")
    except Exception as exc:  # numba's errors are not one class; any means "use numpy"
        _NUMBA = False
        warnings.warn(
            f"eisfit: the compiled engine could not be loaded ({type(exc).__name__}: {exc}); "
            "fitting with numpy (set NUMBA_CACHE_DIR to a writable folder, or "
            "EISFIT_COMPILED=0 to silence this)",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return kernels


def enabled() -> bool:
    """True when fits run compiled: numba is installed and not switched off."""
    return _NUMBA and _SWITCH["on"]


@contextlib.contextmanager
def use(on: bool) -> Iterator[None]:
    """A context in which fits run compiled (``on``, where numba is installed) or with numpy.

    Worker processes started inside the context follow it (through ``EISFIT_COMPILED``).

    Examples
    --------
    >>> from eisfit import compiled
    >>> with compiled.use(False):
    ...     compiled.enabled()
    False
    """
    before, env = _SWITCH["on"], os.environ.get("EISFIT_COMPILED")
    _SWITCH["on"] = bool(on)
    os.environ["EISFIT_COMPILED"] = "1" if on else "0"
    try:
        yield
    finally:
        _SWITCH["on"] = before
        if env is None:
            os.environ.pop("EISFIT_COMPILED", None)
        else:
            os.environ["EISFIT_COMPILED"] = env


#: Fits from which the compiled engine pays for loading its kernels (about 0.6 s in each
#: process, about 22 s once per environment to compile them), at about 10 ms saved a fit.
WORTHWHILE_FITS = 100


def use_for(n_fits: int) -> contextlib.AbstractContextManager[None]:
    """A context for a job of ``n_fits`` fits: compiled when enabled and the job is large
    enough (:data:`WORTHWHILE_FITS`), numpy otherwise. The command line uses it."""
    return use(enabled() and n_fits >= WORTHWHILE_FITS)


@functools.lru_cache(maxsize=256)
def _program_of(text: str) -> tuple[np.ndarray, int] | None:
    from .circuit import Circuit, ElementNode, Series

    ops: list[tuple[int, int, int]] = []
    depth = [0, 0]  # current, deepest

    def push() -> None:
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])

    def emit(node) -> bool:
        if isinstance(node, ElementNode):
            code = ELEMENT_CODES.get(node.element.name)
            if code is None:
                return False
            ops.append((_ELEMENT, code, node.start))
            push()
            return True
        if not isinstance(node, Series):
            pair = node.rq_arc
            if pair is not None:
                ops.append((_ARC, pair[0].start, pair[1].start))
                push()
                return True
        for child in node.children:
            if not emit(child):
                return False
        ops.append((_SERIES if isinstance(node, Series) else _PARALLEL, len(node.children), 0))
        depth[0] -= len(node.children) - 1
        return True

    if not emit(Circuit(text).tree):
        return None
    return np.array(ops, dtype=np.int64).reshape(-1, 3), depth[1]


def program(circuit: Circuit) -> tuple[np.ndarray, int] | None:
    """The circuit as a postfix program ``(ops (n, 3) int64, stack depth)``.

    None when the circuit holds an element the interpreter does not know.
    """
    return _program_of(circuit.text)


def _floats(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _arguments(
    problem: Problem, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray | None, k_count: int
) -> tuple[tuple, np.ndarray] | None:
    """The kernels' description of ``problem`` (program, data, parameters and bounds, as
    :func:`eisfit._kernels.lm` documents) and each candidate's spectrum, every array
    C-contiguous and of one dtype so that one compiled version serves every call; None when
    the circuit cannot be compiled, or the residual is in admittance (the numpy engine
    forms it)."""
    prog = program(problem.circuit)
    if prog is None or problem.admittance:
        return None
    ops, depth = prog
    if problem.stacked:
        data = (problem.frequency, problem.z, problem.w_re, problem.w_im)
        rows = np.arange(k_count) if rows is None else rows
    else:
        rows = np.zeros(k_count, np.int64)
        data = tuple(
            np.asarray(a)[None, :]
            for a in (problem.frequency, problem.z, problem.w_re, problem.w_im)
        )
    freq, z, w_re, w_im = data
    omega = 2 * np.pi * _floats(freq)
    return (
        ops,
        depth,
        problem.circuit.n_params,
        omega,
        np.log(omega),
        _floats(np.real(z)),
        _floats(np.imag(z)),
        _floats(w_re),
        _floats(w_im),
        _floats(problem.fixed),
        np.ascontiguousarray(problem.free, dtype=np.int64),
        np.ascontiguousarray(problem.log[problem.free], dtype=np.bool_),
        _floats(lo),
        _floats(hi),
    ), np.ascontiguousarray(rows, dtype=np.int64)


def lm(
    problem: Problem,
    u: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rows: np.ndarray,
    max_iter: int,
    tol: float,
    xtol: float | None,
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The iterations of :func:`eisfit.engine.lm_batch`, compiled; None when the circuit
    cannot be compiled.

    ``u`` (K, n_free) are the starting vectors in solver coordinates, inside the bounds
    ``lo``, ``hi``; ``rows`` (K,) the spectrum of each in a stacked problem. Returns what
    :func:`eisfit.engine.lm_batch` returns.
    """
    u = _floats(u).copy()
    k_count = u.shape[0]
    args = _arguments(problem, lo, hi, rows, k_count)
    kernels = _kernels()
    if args is None or kernels is None:
        return None
    cost = np.empty(k_count)
    n_eval = kernels.lm(
        *args,
        u,
        cost,
        np.empty(k_count, np.int64),
        int(max_iter),
        float(tol),
        -1.0 if xtol is None else float(xtol),
    )
    return problem.params_batch(u), cost, int(n_eval)


@dataclass
class Converged:
    """What :func:`multistart` returns for each of ``S`` spectra.

    Attributes
    ----------
    u : (S, F) ndarray
        Solver coordinates of the converged parameters.
    cost : (S,) ndarray
        Half the weighted sum of squares.
    residual : (S, 2N) ndarray
        Weighted residuals there.
    jac_t : (S, F, 2N) ndarray
        Their Jacobian d r / d u, transposed.
    n_finish : (S,) ndarray
        Evaluations of the last convergence (above its iteration limit: still moving).
    n_before : int
        Evaluations of the scout and the polish.
    """

    u: np.ndarray
    cost: np.ndarray
    residual: np.ndarray
    jac_t: np.ndarray
    n_finish: np.ndarray
    n_before: int


def multistart(
    problem: Problem,
    u: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rows: np.ndarray | None,
    n_spectra: int,
    stages: tuple[int, int, int, int],
    tolerances: tuple[float, float, float],
) -> Converged | None:
    """Scout, polish and converge the starting vectors of each spectrum in one compiled call.

    The steps of :func:`eisfit.fitting.fit`'s solve (and of :func:`eisfit.fit_stack`'s, a
    spectrum at a time): Levenberg–Marquardt for ``stages[0]`` iterations from every row of
    ``u`` (K, n_free; solver coordinates inside ``lo``, ``hi``), ``stages[2]`` more from the
    ``stages[1]`` best of each spectrum (stopping at a relative gain below ``tolerances[0]``),
    and up to ``stages[3]`` from the best of those (``tolerances[1:]``: tol and xtol of
    :func:`eisfit.engine.lm_batch`). ``rows`` (K,): each vector's spectrum in a stacked
    problem, every one of the ``n_spectra`` having at least one. None when the circuit
    cannot be compiled.
    """
    u = _floats(u).copy()
    args = _arguments(problem, lo, hi, rows, u.shape[0])
    kernels = _kernels()
    if args is None or kernels is None:
        return None
    n = np.shape(problem.z)[-1]
    n_free = u.shape[1]
    arrays = (
        np.empty((n_spectra, n_free)),
        np.empty(n_spectra),
        np.empty((n_spectra, 2 * n)),
        np.empty((n_spectra, n_free, 2 * n)),
        np.empty(n_spectra, np.int64),
    )
    stage_array = np.array(stages, np.int64)
    n_before = kernels.multistart(
        *args, u, n_spectra, stage_array, np.array(tolerances, float), *arrays
    )
    return Converged(*arrays, int(n_before))


def nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares ``min |a x − b|`` subject to ``x ≥ 0``, compiled.

    The active-set method of Lawson and Hanson in the form of Bro and de Jong, which works
    on ``aᵀa`` and ``aᵀb`` (formed by BLAS): each passive set's least squares is a Cholesky
    solve of a few dozen unknowns. Meant for a well-conditioned ``a`` with full column rank
    (a regularised DRT), where the solution is unique and equals scipy's ``nnls`` to rounding.

    Parameters
    ----------
    a
        (M, K) matrix.
    b
        (M,) right-hand side.

    Returns
    -------
    ndarray
        (K,) solution.
    """
    a = _floats(a)
    ata = a.T @ a
    atb = a.T @ _floats(b)
    kernels = _kernels("_drt_kernels")
    if kernels is None:
        from scipy.optimize import nnls as scipy_nnls

        return scipy_nnls(a, b, maxiter=50 * a.shape[1])[0]
    return kernels.fnnls(ata, atb, np.zeros(atb.size))


#: What :func:`drt_seed` returns: r_inf, τ, γ, tail exponent, tail coefficient, peaks.
Seed = tuple[float, np.ndarray, np.ndarray, float | None, float | None, list[tuple[float, float]]]


def drt_seed(
    frequency: np.ndarray,
    z: np.ndarray,
    lam: float,
    per_decade: int,
    *,
    extend_decades: float = 1.0,
    peak_prominence: float = 0.1,
    min_peak_fraction: float = 0.05,
) -> Seed | None:
    """What :func:`eisfit.validate.drt` finds at ``lam`` with ``tail="auto"``, compiled; None
    when the kernels cannot be loaded.

    Parameters
    ----------
    frequency
        Hz, at least 5 distinct values.
    z
        Ohm, every |Z| > 0.
    lam
        Regularisation parameter (dimensionless).
    per_decade
        τ grid points per decade.
    extend_decades, peak_prominence, min_peak_fraction
        As in :func:`eisfit.validate.drt`.

    Returns
    -------
    r_inf : float
        The high-frequency intercept (Ohm).
    tau, gamma : ndarray
        The τ grid (s) and γ (Ohm).
    tail_n, tail_coefficient : float or None
        The spike's CPE exponent and its coefficient 1/Q (Ohm s^-n); None without a spike.
    peaks : list of (float, float)
        Each peak's resistance (Ohm) and time constant (s), from low to high τ.
    """
    from .validate import SPIKE_ANGLE, TAIL_N_FINE, TAIL_N_GRID

    kernels = _kernels("_drt_kernels")
    if kernels is None:
        return None
    order = np.argsort(frequency, kind="stable")
    f = _floats(np.asarray(frequency, float)[order])
    zz = np.asarray(z, complex)[order]
    r_inf, tau, gamma, tail_n, tail_c, areas, taus = kernels.drt_seed(
        f,
        _floats(zz.real),
        _floats(zz.imag),
        float(lam),
        int(per_decade),
        float(extend_decades),
        float(peak_prominence),
        float(min_peak_fraction),
        TAIL_N_GRID,
        TAIL_N_FINE,
        SPIKE_ANGLE,
    )
    spike = bool(np.isfinite(tail_n))
    return (
        float(r_inf),
        tau,
        gamma,
        float(tail_n) if spike else None,
        float(tail_c) if spike else None,
        [(float(a), float(t)) for a, t in zip(areas, taus, strict=True)],
    )
