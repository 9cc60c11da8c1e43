"""The compiled circuit evaluation and Levenberg–Marquardt behind :mod:`eisfit.kernels.compiled`
(numba, the optional ``fast`` extra); the DRT's are in :mod:`eisfit.kernels._drt_kernels`.

Imported only on the first compiled call, so ``import eisfit`` does not pay for numba. Every
function is compiled once per Python environment and cached on disk (``cache=True``); the
arrays they take are C-contiguous float64 (int64 and bool for indices and masks), so one
compiled version serves every circuit and every call.

No element is written here: the interpreter calls the element dispatch it is given (a compiled
function of :data:`eisfit.kernels._dispatch.SIGNATURE`, generated from the element registry by
:mod:`eisfit.kernels._dispatch`) through a function pointer, once per element and evaluation, so
these
functions are compiled once whatever elements are registered.
"""

from __future__ import annotations

import numba
import numpy as np

from eisfit.kernels import lm_rules

__all__ = ["lm", "multistart"]


def _jit(fn):
    # numpy's error model: a division by zero gives inf or NaN (caught as a non-finite
    # residual), never an exception, and costs no test
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


def _jit_sums(fn):
    # as _jit, and sums may be reassociated (vectorised): the normal equations' dot products
    return numba.njit(
        cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"}
    )(fn)


_HALF_PI = 0.5 * np.pi

# the rules of Levenberg–Marquardt and the schedule's choice of the best candidates, compiled
# from the Python the numpy engine runs (eisfit/kernels/lm_rules.py; a change there has this
# module compiled again: compiled.follow_sources)
_damping = _jit(lm_rules.damping)
_held_at_bound = _jit(lm_rules.held_at_bound)
_within = _jit(lm_rules.within)
_damping_accepted = _jit(lm_rules.damping_accepted)
_damping_rejected = _jit(lm_rules.damping_rejected)
_gain = _jit(lm_rules.gain)
_converged_on_gain = _jit(lm_rules.converged_on_gain)
_given_up = _jit(lm_rules.given_up)
_still = _jit(lm_rules.still)
_best_of_each = _jit(lm_rules.best_of_each)
_LAM_START = lm_rules.LAM_START


@_jit_sums
def _evaluate(ops, p, omega, log_omega, zs, gz, span, element_values):  # pragma: no cover
    """Run the circuit program at every frequency: Z in ``zs[0]``, dZ/dp in ``gz`` (P, N).
    ``element_values``: the element dispatch of :mod:`eisfit.kernels._dispatch`, called for each
    element of the program.

    A subtree's parameters are one contiguous range (parameters are numbered in the order
    the circuit is written), kept in ``span``, so a parallel combination scales the rows of
    each branch in place and a series one has nothing to add to them.
    """
    n = omega.size
    sp = 0
    for k in range(ops.shape[0]):
        op, a, b = ops[k, 0], ops[k, 1], ops[k, 2]
        if op == 0:  # an element: code a, parameters from b
            n_par = element_values(a, p, b, omega, zs, sp, gz)
            span[sp, 0] = b
            span[sp, 1] = b + n_par
            sp += 1
        elif op == 1:  # p(R, CPE) = R / (1 + R Q (jω)^n), R at a, CPE at b
            r, q, n_exp = p[a], p[b], p[b + 1]
            c, s = np.cos(_HALF_PI * n_exp), np.sin(_HALF_PI * n_exp)
            rq = r * q
            inv_r2 = 1.0 / (r * r)
            for i in range(n):
                e = np.exp(n_exp * log_omega[i])
                jwn = e * c + 1j * (e * s)
                # r / (1 + rq jwn), the division written out in real arithmetic
                d_re = 1.0 + rq * jwn.real
                d_im = rq * jwn.imag
                m = r / (d_re * d_re + d_im * d_im)
                z = d_re * m - 1j * (d_im * m)
                z2 = z * z
                gz[a, i] = z2 * inv_r2
                dq = -z2 * jwn
                gz[b, i] = dq
                gz[b + 1, i] = dq * q * (log_omega[i] + 1j * _HALF_PI)
                zs[sp, i] = z
            span[sp, 0] = min(a, b)
            span[sp, 1] = max(a + 1, b + 2)
            sp += 1
        elif op == 2:  # series: Z adds
            base = sp - a
            for c in range(base + 1, sp):
                for i in range(n):
                    zs[base, i] += zs[c, i]
            span[base, 1] = span[sp - 1, 1]
            sp = base + 1
        else:  # parallel: 1/Z adds; dZ = (Z/Zc)² dZc
            base = sp - a
            for i in range(n):
                y = 0j
                for c in range(base, sp):
                    y += 1.0 / zs[c, i]
                z = 1.0 / y
                for c in range(base, sp):
                    f = z / zs[c, i]
                    f = f * f
                    for m in range(span[c, 0], span[c, 1]):
                        gz[m, i] *= f
                zs[base, i] = z
            span[base, 1] = span[sp - 1, 1]
            sp = base + 1


def _impedance(ops, p, omega, log_omega, zs, gz, span):
    """:func:`_evaluate` with the element dispatch of the program's elements (for checks run
    from Python; the fits pass the dispatch in the problem)."""
    from eisfit.kernels import _dispatch

    dispatch = _dispatch.element_values(_dispatch.program_codes(ops))
    _evaluate(ops, p, omega, log_omega, zs, gz, span, dispatch)


@_jit_sums
def _residual_jacobian(program, data, work, free, log_free, u, r, jt):  # pragma: no cover
    """Weighted residuals r (2N,) and their Jacobian, transposed, jt (F, 2N), at u; returns
    half the sum of squares. ``program``: (circuit program, element dispatch); ``data``: (ω,
    ln ω, Z', Z'', w_re, w_im) of the spectrum; ``work``: (parameters, stack of Z, dZ/dp,
    parameter spans) to write into."""
    ops, element_values = program
    omega, log_omega, z_re, z_im, w_re, w_im = data
    p, zs, gz, span = work
    n_free = free.size
    for k in range(n_free):
        if log_free[k]:
            p[free[k]] = np.exp(min(max(u[k], -700.0), 700.0))
        else:
            p[free[k]] = u[k]
    _evaluate(ops, p, omega, log_omega, zs, gz, span, element_values)
    n = omega.size
    c = 0.0
    for i in range(n):
        ri = w_re[i] * (zs[0, i].real - z_re[i])
        ii = w_im[i] * (zs[0, i].imag - z_im[i])
        ri = ri if np.isfinite(ri) else 1e10
        ii = ii if np.isfinite(ii) else 1e10
        r[i] = ri
        r[n + i] = ii
        c += ri * ri + ii * ii
    for k in range(n_free):
        m = free[k]
        scale = p[m] if log_free[k] else 1.0
        for i in range(n):
            a = w_re[i] * gz[m, i].real * scale
            b = w_im[i] * gz[m, i].imag * scale
            jt[k, i] = a if np.isfinite(a) else 0.0
            jt[k, n + i] = b if np.isfinite(b) else 0.0
    return 0.5 * c


@_jit
def _solve(a, g, step):  # pragma: no cover - compiled
    """step = −a⁻¹ g by LU with partial pivoting; False when a is singular."""
    n = g.size
    m = a.copy()
    x = -g.copy()
    for col in range(n):
        piv = col
        big = abs(m[col, col])
        for row in range(col + 1, n):
            if abs(m[row, col]) > big:
                big, piv = abs(m[row, col]), row
        if not big > 0.0:
            return False
        if piv != col:
            for k in range(n):
                m[col, k], m[piv, k] = m[piv, k], m[col, k]
            x[col], x[piv] = x[piv], x[col]
        for row in range(col + 1, n):
            f = m[row, col] / m[col, col]
            if f != 0.0:
                for k in range(col, n):
                    m[row, k] -= f * m[col, k]
                x[row] -= f * x[col]
    for col in range(n - 1, -1, -1):
        s = x[col]
        for k in range(col + 1, n):
            s -= m[col, k] * step[k]
        step[col] = s / m[col, col]
    return True


@_jit_sums
def lm(
    problem, rows, u_all, cost_out, n_out, max_iter, tol, xtol, element_values
):  # pragma: no cover - compiled
    """Levenberg–Marquardt for each row of ``u_all`` (updated in place), with its cost in
    ``cost_out`` and its evaluations, the first counted, in ``n_out``; returns the most
    evaluations any candidate made.

    The rules of each step are those of :mod:`eisfit.kernels.lm_rules`, compiled from the
    Python the numpy engine (:func:`eisfit.fitting.engine.lm_batch`) runs on its batch; the
    loops (over the candidates, then the iterations, the normal equations and the step's LU
    solve) are this function's.

    ``problem``: (circuit program, stack depth, number of parameters, ω, ln ω, Z', Z'', weights
    of Z' and Z'' (one row per spectrum), parameter values, free indices, which are fitted in
    log, lower and upper bounds in solver coordinates); ``rows``: each candidate's spectrum;
    ``element_values``: the element dispatch of :mod:`eisfit.kernels._dispatch`.
    """
    ops, depth, n_params, omega, log_omega, z_re, z_im, w_re, w_im = problem[:9]
    fixed, free, log_free, lo, hi = problem[9:]
    program = (ops, element_values)
    k_count, n_free = u_all.shape
    n = omega.shape[1]
    zs = np.empty((depth, n), np.complex128)
    gz = np.empty((n_params, n), np.complex128)
    spans = np.empty((depth, 2), np.int64)
    work = (fixed.copy(), zs, gz, spans)
    r = np.empty(2 * n)
    jt = np.empty((n_free, 2 * n))
    r_new = np.empty(2 * n)
    jt_new = np.empty((n_free, 2 * n))
    jtj = np.empty((n_free, n_free))
    a = np.empty((n_free, n_free))
    g = np.empty(n_free)
    grad = np.empty(n_free)
    step = np.empty(n_free)
    u_new = np.empty(n_free)
    most = 1
    for c in range(k_count):
        row = rows[c]
        data = (omega[row], log_omega[row], z_re[row], z_im[row], w_re[row], w_im[row])
        u = u_all[c]  # inside the bounds already
        cost = _residual_jacobian(program, data, work, free, log_free, u, r, jt)
        lam = _LAM_START
        n_eval = 1
        fresh = True  # the normal equations need forming (after the first or an accepted step)
        for _ in range(max_iter):
            if fresh:
                for i in range(n_free):
                    s = 0.0
                    for m in range(2 * n):
                        s += jt[i, m] * r[m]
                    grad[i] = s
                    for k in range(i + 1):
                        s = 0.0
                        for m in range(2 * n):
                            s += jt[i, m] * jt[k, m]
                        jtj[i, k] = s
                        jtj[k, i] = s
                fresh = False
            g[:] = grad  # the active set below zeroes entries of g
            d_max = 0.0
            for i in range(n_free):
                d_max = max(d_max, jtj[i, i])
            for i in range(n_free):
                for k in range(n_free):
                    a[i, k] = jtj[i, k]
                a[i, i] += lam * _damping(jtj[i, i], d_max)
            # parameters held at a bound by the gradient stay out of the step
            for i in range(n_free):
                if _held_at_bound(u[i], lo[i], hi[i], g[i]):
                    for k in range(n_free):
                        a[i, k] = 0.0
                        a[k, i] = 0.0
                    a[i, i] = 1.0
                    g[i] = 0.0
            step_max = 0.0
            if _solve(a, g, step):
                for k in range(n_free):
                    u_new[k] = _within(u[k] + step[k], lo[k], hi[k])
                    step_max = max(step_max, abs(step[k]))
                c_new = _residual_jacobian(
                    program, data, work, free, log_free, u_new, r_new, jt_new
                )
                n_eval += 1
            else:  # a singular system: a rejected step
                c_new = np.inf
            better = c_new < cost
            gain = _gain(cost, c_new)
            done = False
            if better:
                u[:] = u_new
                cost = c_new
                r, r_new = r_new, r  # the new residuals and Jacobian: swap, not copy
                jt, jt_new = jt_new, jt
                fresh = True
                lam = _damping_accepted(lam)
                done = _converged_on_gain(gain, lam, tol, step_max, xtol)
            else:
                lam = _damping_rejected(lam)
                done = _given_up(lam)
            if _still(step_max) and c_new < np.inf:
                done = True  # a singular system (no step) is no convergence
            if done:
                break
        cost_out[c] = cost
        n_out[c] = n_eval
        most = max(most, n_eval)
    return most


@_jit_sums
def multistart(
    problem, rows, u_all, n_rows, iterations, keep, tolerances, u_out, cost_out, r_out, jt_out,
    n_out, element_values,
):  # pragma: no cover - compiled
    """The solve of :func:`eisfit.fit` for ``n_rows`` spectra, stage by stage of the schedule
    :func:`eisfit.fitting.solve.stages` defines: Levenberg–Marquardt (:func:`lm`) from every
    candidate (row of ``u_all``, spectrum ``rows``), then from the ``keep[0]`` best of each
    spectrum (:func:`eisfit.kernels.lm_rules.best_of_each`, the rule the numpy engine's
    schedule runs), and so on; the stage before the last keeps one of each spectrum.

    ``iterations`` (S,), ``keep`` (S,): each stage's iterations and how many of each
    spectrum's best go on; ``tolerances`` (S, 2): each stage's tol and xtol (negative: none).
    Writes each spectrum's solver coordinates, cost, weighted residuals (2N,), Jacobian
    transposed (F, 2N) and evaluations of the last stage; returns the evaluations before it.
    ``element_values``: the element dispatch of :mod:`eisfit.kernels._dispatch`.
    """
    last = iterations.size - 1
    u_stage = u_all
    rows_stage = rows
    n_before = 0
    for s in range(last):
        cost = np.empty(rows_stage.size)
        n_eval = np.empty(rows_stage.size, np.int64)
        n_before += lm(
            problem, rows_stage, u_stage, cost, n_eval, iterations[s], tolerances[s, 0],
            tolerances[s, 1], element_values,
        )
        pick = _best_of_each(rows_stage, cost, n_rows, keep[s])
        u_stage = u_stage[pick]
        rows_stage = rows_stage[pick]
    u_out[:, :] = u_stage
    lm(
        problem, rows_stage, u_out, cost_out, n_out, iterations[last], tolerances[last, 0],
        tolerances[last, 1], element_values,
    )
    ops, depth, n_params, omega, log_omega, z_re, z_im, w_re, w_im = problem[:9]
    fixed, free, log_free = problem[9], problem[10], problem[11]
    program = (ops, element_values)
    n = omega.shape[1]
    work = (fixed.copy(), np.empty((depth, n), np.complex128),
            np.empty((n_params, n), np.complex128), np.empty((depth, 2), np.int64))
    for s in range(n_rows):
        data = (omega[s], log_omega[s], z_re[s], z_im[s], w_re[s], w_im[s])
        _residual_jacobian(program, data, work, free, log_free, u_out[s], r_out[s], jt_out[s])
    return n_before
# compiled from (sha256): 108dff092a6fbef6b76337966543d2df01508b2ed9182fddf8874cab524a8bc3
