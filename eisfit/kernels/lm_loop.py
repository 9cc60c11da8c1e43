"""eisfit's Levenberg–Marquardt loop and its multistart schedule, written once for both engines.

:func:`iterate` runs Levenberg–Marquardt from every row of a batch of starting vectors, all
candidates advancing together, each stopping by its own rules (:mod:`eisfit.kernels.lm_rules`);
:func:`schedule` runs a fit's stage table (:func:`eisfit.fitting.solve.stages`: scout, polish,
convergence) with it. A single spectrum is a stack of one.

The loop leaves the work on each candidate's numbers to the engine: evaluating the residuals
and their Jacobian (:func:`evaluate`, :func:`evaluate_into`), forming the normal equations
(:func:`normal_equations`), solving the damped systems for the trial points
(:func:`trial_points`), keeping the verdict on each step (:func:`take_steps`, by
:func:`eisfit.kernels.lm_rules.step_outcome`) and moving accepted points into the state
(:func:`keep_moved`). The functions of this module are those of the numpy
engine, which runs this code as it is, vectorised over the candidates. The compiled engine
(:mod:`eisfit.kernels._kernels`, numba, the optional ``fast`` extra) compiles this same code
with its own, which run candidate by candidate, and the rules compiled
(:func:`eisfit.kernels._kernels.bind`). Both engines therefore take the same steps, accept and
stop by the same tests, and count evaluations alike.

The loop is written in the part of numpy that numba compiles too: whole-array arithmetic,
``np.where``, ``np.flatnonzero`` and indexing by one integer array. No numba here: this module
imports and works without it.
"""

from __future__ import annotations

import numpy as np

from eisfit.kernels import lm_rules

__all__ = [
    "evaluate", "evaluate_into", "iterate", "keep_moved", "normal_equations", "schedule",
    "take_steps", "trial_points",
]


def evaluate(model, u, rows):
    """The numpy engine's evaluation of candidates ``u`` (k, F; solver coordinates) of the
    spectra ``rows`` (k,) of ``model`` (a :class:`eisfit.fitting.engine.Problem`).

    Returns
    -------
    r : (k, 2N) ndarray
        Weighted residuals.
    jt : (k, F, 2N) ndarray
        Their Jacobian d r / d u, transposed.
    cost : (k,) ndarray
        Half the sum of squares of ``r``.
    """
    r, j = model.residual_jac_batch(u, rows)
    return r, np.swapaxes(j, 1, 2), 0.5 * np.einsum("km,km->k", r, r)


def evaluate_into(model, u, rows, idx, r, jt, cost):
    """:func:`evaluate` of the first k rows of ``u`` (K, F), the trial points of the
    candidates ``idx`` (k,) of the spectra ``rows[idx]``, written into the first k rows of
    ``r`` (K, 2N), ``jt`` (K, F, 2N) and ``cost`` (K,): buffers the loop keeps."""
    k = idx.size
    model.residual_jac_batch(u[:k], rows[idx], out=(r[:k], jt[:k]))
    np.einsum("km,km->k", r[:k], r[:k], out=cost[:k])
    cost[:k] *= 0.5


def normal_equations(jt, r, jtj, g, idx):
    """The numpy engine's normal equations of the candidates ``idx``: JᵀJ into the rows
    ``idx`` of ``jtj`` (K, F, F) and the gradient Jᵀr into those of ``g`` (K, F), from the
    transposed Jacobians ``jt`` (K, F, 2N) and residuals ``r`` (K, 2N)."""
    if idx.size != r.shape[0]:
        jt, r = jt[idx], r[idx]
    jtj[idx] = jt @ np.swapaxes(jt, 1, 2)
    g[idx] = (jt @ r[:, :, None])[:, :, 0]


def trial_points(jtj, g, idx, lam, u, lo, hi, u_new, step_max, solved):
    """The numpy engine's steps of the candidates ``idx`` (k,): (JᵀJ + λD) δ = −g, the
    parameters held at a bound (:func:`eisfit.kernels.lm_rules.held_at_bound`) out of the step,
    the stepped point clipped to the bounds (:func:`eisfit.kernels.lm_rules.within`).

    Parameters
    ----------
    jtj, g, lam, u
        (K, F, F), (K, F), (K,), (K, F): the normal equations, damping and solver coordinates
        of all K candidates.
    idx
        (k,) the candidates to step.
    lo, hi
        (F,) bounds in solver coordinates.
    u_new, step_max, solved
        (K, F), (K,), (K,) buffers, whose first k rows receive the trial points, the largest
        coordinate of each step (absolute) and False where the damped system is singular
        (the step then zero).
    """
    k = idx.size
    if k != g.shape[0]:
        jtj, g, lam, u = jtj[idx], g[idx], lam[idx], u[idx]
    n_free = g.shape[1]
    eye = np.eye(n_free)
    diag = np.einsum("kff->kf", jtj)
    damp = lm_rules.damping(diag, diag.max(axis=1, keepdims=True, initial=0.0))
    a = jtj + (lam[:, None] * damp)[:, :, None] * eye
    frozen = lm_rules.held_at_bound(u, lo, hi, g)
    if frozen.any():
        fr = frozen[:, :, None] | frozen[:, None, :]
        a = np.where(fr, 0.0, a) + frozen[:, :, None] * eye
        g = np.where(frozen, 0.0, g)
    solved[:k] = True
    try:
        step = -np.linalg.solve(a, g[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # one at a time, the singular ones no step
        step = np.zeros_like(g)
        for i in range(k):
            try:
                step[i] = -np.linalg.solve(a[i], g[i])
            except np.linalg.LinAlgError:
                solved[i] = False
    u_new[:k] = lm_rules.within(u + step, lo, hi)
    step_max[:k] = np.abs(step).max(axis=1, initial=0.0)  # no free parameter: no step


def take_steps(idx, cost_new, step_max, solved, cost, lam, fresh, active, n_eval, tol, xtol):
    """The numpy engine's verdict on the steps of the candidates ``idx`` (k,)
    (:func:`eisfit.kernels.lm_rules.step_outcome`), kept in their state: each accepted step's
    cost and a flag that its normal equations need forming (``cost``, ``fresh``), the damping
    (``lam``), which candidates go on (``active``) and their evaluations (``n_eval``), all
    (K,). ``cost_new``, ``step_max``, ``solved``: the first k rows are the steps'.

    Returns
    -------
    (k',) int64 ndarray
        The steps accepted, as positions in ``idx``: the loop moves those candidates.
    """
    k = idx.size
    ok = solved[:k]
    c_step = np.where(ok, cost_new[:k], np.inf)
    better, lam_next, done = lm_rules.step_outcome(
        cost[idx], c_step, lam[idx], step_max[:k], ok, tol, xtol
    )
    took = np.flatnonzero(better)
    moved = idx[took]
    cost[moved] = c_step[took]
    fresh[moved] = True
    lam[idx] = lam_next
    active[idx[done]] = False
    n_eval[idx] += ok
    return took


def keep_moved(idx, took, u, u_new, r, r_new, jt, jt_new):
    """The numpy engine's move of the accepted trial points (rows ``took`` of ``u_new``,
    ``r_new``, ``jt_new``) into the state of their candidates (rows ``idx[took]`` of ``u``,
    ``r``, ``jt``)."""
    moved = idx[took]
    u[moved] = u_new[took]
    r[moved] = r_new[took]
    jt[moved] = jt_new[took]


def iterate(model, u, rows, lo, hi, max_iter, tol, xtol):
    """Levenberg–Marquardt from every row of ``u``, by the rules of
    :mod:`eisfit.kernels.lm_rules`.

    Every active candidate takes one step per iteration; each stops on its own tests, so its
    steps depend on its own data only, and a spectrum's result does not depend on what else is
    in the batch.

    Parameters
    ----------
    model
        What the engine's :func:`evaluate` reads: the problem.
    u
        (K, F) starting vectors in solver coordinates, inside the bounds.
    rows
        (K,) int64: each candidate's spectrum.
    lo, hi
        (F,) bounds in solver coordinates.
    max_iter
        Iterations at most.
    tol, xtol
        The stopping tolerances of :func:`eisfit.kernels.lm_rules.converged_on_gain` (``xtol``
        :data:`eisfit.kernels.lm_rules.NO_XTOL`: no step test).

    Returns
    -------
    u : (K, F) ndarray
        Where each candidate stopped.
    cost : (K,) ndarray
        Half the weighted sum of squares there.
    r : (K, 2N) ndarray
        Weighted residuals there.
    jt : (K, F, 2N) ndarray
        Their Jacobian, transposed.
    n_eval : (K,) int64 ndarray
        Each candidate's evaluations, the first counted (a singular system is no evaluation).
    """
    k_count, n_free = u.shape
    r, jt, cost = evaluate(model, u, rows)
    jtj = np.empty((k_count, n_free, n_free))
    g = np.empty((k_count, n_free))
    normal_equations(jt, r, jtj, g, np.arange(k_count))
    lam = np.full(k_count, lm_rules.LAM_START)
    active = np.ones(k_count, np.bool_)
    fresh = np.zeros(k_count, np.bool_)  # the normal equations need forming again
    n_eval = np.ones(k_count, np.int64)
    # the trial points and their residuals, Jacobians and costs: buffers of every candidate,
    # of which each iteration fills the first rows
    u_new, r_new, jt_new = np.empty_like(u), np.empty_like(r), np.empty_like(jt)
    c_new, step_max = np.empty(k_count), np.empty(k_count)
    solved = np.empty(k_count, np.bool_)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        again = idx[fresh[idx]]
        if again.size:
            normal_equations(jt, r, jtj, g, again)
            fresh[again] = False
        trial_points(jtj, g, idx, lam, u, lo, hi, u_new, step_max, solved)
        evaluate_into(model, u_new, rows, idx, r_new, jt_new, c_new)
        took = take_steps(idx, c_new, step_max, solved, cost, lam, fresh, active, n_eval, tol, xtol)
        if took.size == k_count:  # every candidate moved (the scout): swap, no copies
            u, u_new = u_new, u
            r, r_new = r_new, r
            jt, jt_new = jt_new, jt
        elif took.size:
            keep_moved(idx, took, u, u_new, r, r_new, jt, jt_new)
    return u, cost, r, jt, n_eval


def schedule(model, u, rows, n_rows, lo, hi, iterations, keep, tolerances):
    """A fit's stage table run on the starting vectors ``u`` (K, F) of ``n_rows`` spectra
    (``rows`` (K,): each one's spectrum, every spectrum having at least one).

    Stage by stage, :func:`iterate` from the candidates the stage before kept: the ``keep[s]``
    best of each spectrum (:func:`eisfit.kernels.lm_rules.best_of_each`); the stage before the
    last keeps one of each.

    Parameters
    ----------
    iterations, keep
        (S,) int64: each stage's iterations and how many of each spectrum's best go on.
    tolerances
        (S, 2): each stage's tol and xtol (:data:`eisfit.kernels.lm_rules.NO_XTOL`: none).

    Returns
    -------
    u, cost, r, jt, n_eval
        As :func:`iterate` returns them for the last stage, a row per spectrum.
    n_stages : (S - 1,) int64 ndarray
        Evaluations of each stage before the last (the most any candidate made).
    """
    n_stages = np.zeros(iterations.size - 1, np.int64)
    for s in range(iterations.size - 1):
        u, cost, _, _, n_eval = iterate(
            model, u, rows, lo, hi, iterations[s], tolerances[s, 0], tolerances[s, 1]
        )
        n_stages[s] = n_eval.max()
        pick = lm_rules.best_of_each(rows, cost, n_rows, keep[s])
        u = u[pick]
        rows = rows[pick]
    last = iterations.size - 1
    u, cost, r, jt, n_eval = iterate(
        model, u, rows, lo, hi, iterations[last], tolerances[last, 0], tolerances[last, 1]
    )
    return u, cost, r, jt, n_eval, n_stages
# compiled from (sha256): 0e07dc1d0c33bdc88457d182efbc84a217c857e947ef09029c46c56f2ef8c548
