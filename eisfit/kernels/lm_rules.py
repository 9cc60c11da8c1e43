"""The rules of eisfit's Levenberg–Marquardt and of its multistart schedule, written once.

Both engines iterate with these, in the one loop of :mod:`eisfit.kernels.lm_loop`: the numpy
engine calls them on arrays holding every active candidate at once, and the compiled engine
(:mod:`eisfit.kernels._kernels`, numba, the optional ``fast`` extra) compiles these same
functions and calls them on one candidate's numbers. Every function is made of element-wise
operations (``np.maximum``, ``np.sqrt``, comparisons, ``&``, ``|``) that numpy broadcasts over a
batch and numba compiles for scalars, so the two engines take the same steps by construction.
No numba here: this module imports and works without it.

The iteration, in solver coordinates u (log units for positive parameters), from the damping
:data:`LAM_START`:

1. the normal equations JᵀJ and the gradient g = Jᵀr at u;
2. the damped matrix JᵀJ + λ·D, D diagonal (:func:`damping`), between Levenberg's uniform and
   Marquardt's diagonal damping: parameters in log space share one scale, but a nearly flat
   direction still needs some damping;
3. parameters held at a bound by the gradient (:func:`held_at_bound`) stay out of the step
   (their row and column of the matrix an identity's, their gradient zero), so a clipped step
   never stalls the others;
4. the step solves (JᵀJ + λD) δ = −g and is clipped to the bounds (:func:`within`);
5. a step that lowers the cost is accepted (:func:`damping_accepted`), one that does not is
   rejected (:func:`damping_rejected`); :func:`step_outcome` gives this verdict and the next;
6. a candidate stops when an accepted step gained little near Gauss–Newton
   (:func:`converged_on_gain`), when a rejected step leaves the damping above
   :data:`LAM_GIVE_UP` (:func:`given_up`), or when its step no longer moves it (:func:`still`).

The schedule of a fit (:mod:`eisfit.fitting.solve`, its stage table) keeps the best candidates
of each spectrum between stages by :func:`best_of_each`, which both engines run as well.

A change here has :mod:`eisfit.kernels._kernels` compiled again on its next load
(:func:`eisfit.kernels.compiled.follow_sources`: numba's disk cache alone would not notice).
"""

from __future__ import annotations

import numpy as np

#: The damping λ (dimensionless) every candidate starts with.
LAM_START = 1e-3
#: λ is divided by this after an accepted step ...
LAM_DOWN = 3.0
#: ... but not below this.
LAM_MIN = 1e-12
#: λ is multiplied by this after a rejected step.
LAM_UP = 4.0
#: A rejected step leaving λ above this stops the candidate: no step lowers its cost.
LAM_GIVE_UP = 1e10
#: A small gain stops a candidate only with λ below this (the step close to Gauss–Newton).
LAM_NEAR_GAUSS_NEWTON = 1e-2
#: Diagonal entries of JᵀJ are raised to this fraction of the largest (plus :data:`TINY`).
DIAGONAL_FLOOR = 1e-12
#: Guards divisions and the diagonal floor against zero.
TINY = 1e-300
#: A parameter within this fraction of its bounds' span of a bound is at that bound; starts
#: are moved this far inside.
AT_BOUND = 1e-9
#: A step whose largest coordinate (solver units) is below this has converged.
STILL_STEP = 1e-10
#: The ``xtol`` that means "no step test" (:func:`converged_on_gain`).
NO_XTOL = -1.0


def damping(d, d_max):
    """The damping diagonal D of one or more candidates: √(max(d, f)·max(d_max, f)) with the
    floor f = :data:`DIAGONAL_FLOOR`·d_max + :data:`TINY`.

    Parameters
    ----------
    d
        Diagonal entries of JᵀJ (residual units² per solver unit²): a number, or (K, F).
    d_max
        The largest diagonal entry of each candidate's JᵀJ: a number, or (K, 1).

    Returns
    -------
    D, shaped as ``d``; the damped matrix is JᵀJ + λ·diag(D).
    """
    floor = DIAGONAL_FLOOR * d_max + TINY
    return np.sqrt(np.maximum(d, floor) * np.maximum(d_max, floor))


def held_at_bound(u, lo, hi, g):
    """True where a parameter lies within :data:`AT_BOUND` of its bounds' span of a bound and
    the gradient ``g`` pushes it outward (the active set): it is frozen out of the step.

    ``u``, ``lo``, ``hi`` in solver coordinates; numbers, or arrays that broadcast together.
    """
    eps = AT_BOUND * (hi - lo)
    return ((u <= lo + eps) & (g > 0)) | ((u >= hi - eps) & (g < 0))


def inside(u, lo, hi):
    """``u`` moved :data:`AT_BOUND` of the span inside the bounds ``lo``, ``hi`` (a start)."""
    eps = AT_BOUND * (hi - lo)
    return np.minimum(np.maximum(u, lo + eps), hi - eps)


def within(u, lo, hi):
    """``u`` (a stepped vector, solver coordinates) clipped to the bounds ``lo``, ``hi``."""
    return np.minimum(np.maximum(u, lo), hi)


def damping_accepted(lam):
    """λ after an accepted step: divided by :data:`LAM_DOWN`, at least :data:`LAM_MIN`."""
    return np.maximum(lam / LAM_DOWN, LAM_MIN)


def damping_rejected(lam):
    """λ after a rejected step: times :data:`LAM_UP`."""
    return lam * LAM_UP


def gain(cost, cost_new):
    """The relative cost decrease of a step (positive when the step lowers the cost)."""
    return (cost - cost_new) / np.maximum(cost, TINY)


def converged_on_gain(gain, lam, tol, step_max, xtol):
    """True where an accepted step has converged: its relative ``gain`` below ``tol`` with
    the damping ``lam`` (after the step) below :data:`LAM_NEAR_GAUSS_NEWTON`, and, unless
    ``xtol`` is :data:`NO_XTOL` (negative), its largest coordinate ``step_max`` below ``xtol``
    (solver units), so a candidate still moving along a flat valley goes on."""
    return (gain < tol) & (lam < LAM_NEAR_GAUSS_NEWTON) & ((xtol < 0) | (step_max < xtol))


def given_up(lam):
    """True where a rejected step left the damping above :data:`LAM_GIVE_UP`."""
    return lam > LAM_GIVE_UP


def still(step_max):
    """True where a step's largest coordinate is below :data:`STILL_STEP`: converged too."""
    return step_max < STILL_STEP


def step_outcome(cost, cost_new, lam, step_max, solved, tol, xtol):
    """The verdict on a step, every rule of steps 5 and 6 above in one place.

    Parameters
    ----------
    cost, cost_new
        Half the weighted sum of squares before and after the step (``cost_new`` infinite
        where the damped system was singular).
    lam
        The damping the step was taken with.
    step_max
        The step's largest coordinate (solver units).
    solved
        False where the damped system was singular (no step).
    tol, xtol
        As :func:`converged_on_gain`.

    Returns
    -------
    better
        The step lowers the cost: it is accepted.
    lam_next
        The damping after it (:func:`damping_accepted` or :func:`damping_rejected`).
    done
        The candidate stops: an accepted step that converged (:func:`converged_on_gain`), a
        rejected one that gives up (:func:`given_up`), or a step that no longer moves it
        (:func:`still`; a singular system is no convergence).

    Numbers, or arrays of one shape: element-wise, for numpy's batch and numba's scalars.
    """
    better = cost_new < cost
    rejected = np.logical_not(better)
    # one of the two terms is zero: the damping is either rule's exactly
    lam_next = better * damping_accepted(lam) + rejected * damping_rejected(lam)
    converged = converged_on_gain(gain(cost, cost_new), lam_next, tol, step_max, xtol)
    done = (better & converged) | (rejected & given_up(lam_next)) | (still(step_max) & solved)
    return better, lam_next, done


def best_of_each(rows, cost, n_rows, keep):
    """Indices of the ``keep`` lowest costs of each of the ``n_rows`` spectra, spectrum by
    spectrum, each spectrum's from the lowest; ties go to the earlier candidate.

    Parameters
    ----------
    rows
        (K,) int64: the spectrum of each candidate, 0 … ``n_rows`` − 1.
    cost
        (K,) the candidates' costs.
    n_rows
        Number of spectra.
    keep
        How many to keep of each spectrum (all of a spectrum that has fewer).

    Returns
    -------
    (k,) int64 ndarray
    """
    order = np.argsort(cost, kind="mergesort")
    order = order[np.argsort(rows[order], kind="mergesort")]  # by spectrum, then by cost
    sorted_rows = rows[order]
    first = np.searchsorted(sorted_rows, np.arange(n_rows))
    rank = np.arange(order.size) - first[sorted_rows]
    return order[rank < keep]
