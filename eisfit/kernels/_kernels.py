"""The compiled circuit evaluation and the compiled kernels of Levenberg–Marquardt behind
:mod:`eisfit.kernels.compiled` (numba, the optional ``fast`` extra); the DRT's are in
:mod:`eisfit.kernels._drt_kernels`.

The loop and the schedule are not written here: :data:`iterate` and :data:`schedule` are the
code of :mod:`eisfit.kernels.lm_loop`, the numpy engine's, compiled with this module's kernels
in place of numpy's (:func:`bind`): the evaluation of the candidates, their normal equations,
their trial points, the verdict on their steps and the move of the accepted ones, candidate by
candidate, by the rules of
:mod:`eisfit.kernels.lm_rules` compiled (:data:`_RULES`).

Imported only on the first compiled call, so ``import eisfit`` does not pay for numba. Every
function is compiled once per Python environment and cached on disk (``cache=True``); the
arrays they take are C-contiguous float64 (int64 and bool for indices and masks), so one
compiled version serves every circuit and every call.

No element is written here: the interpreter calls the element dispatch it is given (a compiled
function of :data:`eisfit.kernels._dispatch.SIGNATURE`, generated from the element registry by
:mod:`eisfit.kernels._dispatch`) through a function pointer, once per element and evaluation, so
these functions are compiled once whatever elements are registered.
"""

from __future__ import annotations

import types

import numba
import numpy as np

from eisfit.kernels import lm_loop, lm_rules

__all__ = ["iterate", "run_iterate", "run_schedule", "schedule"]


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



def _rules_module() -> types.ModuleType:
    """:mod:`eisfit.kernels.lm_rules` with each function compiled (its numbers as they are;
    a rule that calls another calls the compiled one): the rules of Levenberg–Marquardt and the
    schedule's choice of the best candidates, compiled from the Python the numpy engine runs
    (a change there has this module compiled again:
    :func:`eisfit.kernels.compiled.follow_sources`)."""
    module = types.ModuleType(f"{lm_rules.__name__}[compiled]")
    scope = dict(vars(lm_rules))  # the rules' globals, each rule replaced by its compiled self
    for name, value in vars(lm_rules).items():
        if name.startswith("_"):
            continue
        if isinstance(value, types.FunctionType) and value.__module__ == lm_rules.__name__:
            value = _compiled_copy(value, scope)
            scope[name] = value
        setattr(module, name, value)
    return module


def _compiled_copy(fn, scope):
    """``fn`` compiled with the globals ``scope`` in place of its own (numba reads them when
    it first compiles ``fn``)."""
    copy = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__)
    copy.__qualname__ = fn.__qualname__
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return _jit(copy)


_RULES = _rules_module()
_damping = _RULES.damping
_held_at_bound = _RULES.held_at_bound
_best_of_each = _RULES.best_of_each
_within = _RULES.within
_step_outcome = _RULES.step_outcome


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
def _evaluate_into(model, u, rows, idx, r, jt, cost):  # pragma: no cover - compiled
    """The compiled engine's :func:`eisfit.kernels.lm_loop.evaluate_into`: residuals, their
    Jacobian transposed and half the sum of squares of the first k rows of ``u`` (K, F), the
    candidates ``idx`` (k,) of the spectra ``rows[idx]``, one at a time, into the first k rows
    of ``r`` (K, 2N), ``jt`` (K, F, 2N) and ``cost`` (K,).

    ``model``: (program, spectra, parameters, work): the circuit program and its element
    dispatch; ω, ln ω, Z', Z'' and the weights of Z' and Z'' (one row per spectrum); the
    parameter values, free indices and which are fitted in log; the buffers to evaluate in.
    """
    program, spectra, parameters, work = model
    omega, log_omega, z_re, z_im, w_re, w_im = spectra
    fixed, free, log_free = parameters
    for c in range(idx.size):
        row = rows[idx[c]]
        data = (omega[row], log_omega[row], z_re[row], z_im[row], w_re[row], w_im[row])
        cost[c] = _residual_jacobian(program, data, work, free, log_free, u[c], r[c], jt[c])


@_jit
def _evaluate_batch(model, u, rows):  # pragma: no cover - compiled
    """The compiled engine's :func:`eisfit.kernels.lm_loop.evaluate`: :func:`_evaluate_into`
    new arrays (k, 2N), (k, F, 2N), (k,)."""
    n = model[1][0].shape[1]
    k_count, n_free = u.shape
    r = np.empty((k_count, 2 * n))
    jt = np.empty((k_count, n_free, 2 * n))
    cost = np.empty(k_count)
    _evaluate_into(model, u, rows, np.arange(k_count), r, jt, cost)
    return r, jt, cost


@_jit_sums
def _normal_equations(jt, r, jtj, g, idx):  # pragma: no cover - compiled
    """The compiled engine's :func:`eisfit.kernels.lm_loop.normal_equations`: JᵀJ and Jᵀr of
    the candidates ``idx`` into their rows of ``jtj`` (K, F, F) and ``g`` (K, F), one at a
    time."""
    n_free, m_rows = jt.shape[1], jt.shape[2]
    for c in range(idx.size):
        j = idx[c]
        jc, rc = jt[j], r[j]
        for i in range(n_free):
            s = 0.0
            for m in range(m_rows):
                s += jc[i, m] * rc[m]
            g[j, i] = s
            for k in range(i + 1):
                s = 0.0
                for m in range(m_rows):
                    s += jc[i, m] * jc[k, m]
                jtj[j, i, k] = s
                jtj[j, k, i] = s


@_jit
def _trial_points(jtj, g, idx, lam, u, lo, hi, u_new, step_max, solved):  # pragma: no cover
    """The compiled engine's :func:`eisfit.kernels.lm_loop.trial_points`: the damped system of
    each candidate ``idx`` formed and solved (LU) one at a time, by the same rules."""
    n_free = g.shape[1]
    a = np.empty((n_free, n_free))
    gc = np.empty(n_free)
    step = np.empty(n_free)
    for c in range(idx.size):
        j = idx[c]
        d_max = 0.0
        for i in range(n_free):
            d_max = max(d_max, jtj[j, i, i])
        for i in range(n_free):
            gc[i] = g[j, i]
            for k in range(n_free):
                a[i, k] = jtj[j, i, k]
            a[i, i] += lam[j] * _damping(jtj[j, i, i], d_max)
        # parameters held at a bound by the gradient stay out of the step
        for i in range(n_free):
            if _held_at_bound(u[j, i], lo[i], hi[i], gc[i]):
                for k in range(n_free):
                    a[i, k] = 0.0
                    a[k, i] = 0.0
                a[i, i] = 1.0
                gc[i] = 0.0
        solved[c] = _solve(a, gc, step)
        if not solved[c]:
            step[:] = 0.0
        step_max[c] = 0.0
        for k in range(n_free):
            u_new[c, k] = _within(u[j, k] + step[k], lo[k], hi[k])
            step_max[c] = max(step_max[c], abs(step[k]))


@_jit
def _take_steps(
    idx, cost_new, step_max, solved, cost, lam, fresh, active, n_eval, tol, xtol
):  # pragma: no cover - compiled
    """The compiled engine's :func:`eisfit.kernels.lm_loop.take_steps`, one candidate at a
    time, by :func:`eisfit.kernels.lm_rules.step_outcome` compiled."""
    took = np.empty(idx.size, np.int64)
    n_took = 0
    for c in range(idx.size):
        j = idx[c]
        c_step = cost_new[c] if solved[c] else np.inf
        better, lam_next, done = _step_outcome(
            cost[j], c_step, lam[j], step_max[c], solved[c], tol, xtol
        )
        if better:
            cost[j] = c_step
            fresh[j] = True
            took[n_took] = c
            n_took += 1
        lam[j] = lam_next
        if done:
            active[j] = False
        if solved[c]:
            n_eval[j] += 1
    return took[:n_took]


@_jit
def _keep_moved(idx, took, u, u_new, r, r_new, jt, jt_new):  # pragma: no cover - compiled
    """The compiled engine's :func:`eisfit.kernels.lm_loop.keep_moved`: row by row, with no
    array made on the way (a stack's Jacobians are megabytes)."""
    for c in range(took.size):
        src = took[c]
        dst = idx[src]
        u[dst] = u_new[src]
        r[dst] = r_new[src]
        jt[dst] = jt_new[src]


def bind(fn, **names):
    """``fn`` of :mod:`eisfit.kernels.lm_loop` compiled with ``names`` in place of its globals
    of the same names: the compiled engine's kernels and rules in place of numpy's."""
    scope = dict(fn.__globals__)
    scope.update(names)
    return _compiled_copy(fn, scope)


#: :func:`eisfit.kernels.lm_loop.iterate`, compiled with this module's kernels.
iterate = bind(
    lm_loop.iterate,
    lm_rules=_RULES,
    evaluate=_evaluate_batch,
    evaluate_into=_evaluate_into,
    normal_equations=_normal_equations,
    trial_points=_trial_points,
    take_steps=_take_steps,
    keep_moved=_keep_moved,
)
#: :func:`eisfit.kernels.lm_loop.schedule`, compiled with :data:`iterate`.
schedule = bind(lm_loop.schedule, lm_rules=_RULES, iterate=iterate)


@_jit
def _model(ops, dispatch, spectra, parameters, work):  # pragma: no cover - compiled
    """The ``model`` :func:`_evaluate_into` reads, from the arrays the entry points take one
    by one (numba types an array argument in C, a tuple of arrays in Python: ~0.5 ms a call)."""
    return (ops, dispatch), spectra, parameters, work


@_jit
def run_iterate(
    ops, dispatch, omega, log_omega, z_re, z_im, w_re, w_im, fixed, free, log_free, p, zs, gz,
    span, u, rows, lo, hi, max_iter, tol, xtol,
):  # pragma: no cover - compiled
    """:data:`iterate` of the problem given array by array (as
    :func:`eisfit.kernels.compiled.lm` passes it)."""
    model = _model(
        ops, dispatch, (omega, log_omega, z_re, z_im, w_re, w_im), (fixed, free, log_free),
        (p, zs, gz, span),
    )
    return iterate(model, u, rows, lo, hi, max_iter, tol, xtol)


@_jit
def run_schedule(
    ops, dispatch, omega, log_omega, z_re, z_im, w_re, w_im, fixed, free, log_free, p, zs, gz,
    span, u, rows, n_rows, lo, hi, iterations, keep, tolerances,
):  # pragma: no cover - compiled
    """:data:`schedule` of the problem given array by array (as
    :func:`eisfit.kernels.compiled.multistart` passes it), a spectrum at a time: each
    spectrum's candidates are independent of the others', and one spectrum's arrays stay in
    the processor's cache where a whole stack's would not. Returns what :data:`schedule`
    returns for all the spectra, each stage's evaluations the most of any spectrum's."""
    model = _model(
        ops, dispatch, (omega, log_omega, z_re, z_im, w_re, w_im), (fixed, free, log_free),
        (p, zs, gz, span),
    )
    n_free, m_rows = u.shape[1], 2 * omega.shape[1]
    u_out = np.empty((n_rows, n_free))
    cost_out = np.empty(n_rows)
    r_out = np.empty((n_rows, m_rows))
    jt_out = np.empty((n_rows, n_free, m_rows))
    n_out = np.empty(n_rows, np.int64)
    n_stages = np.zeros(iterations.size - 1, np.int64)
    order = np.argsort(rows, kind="mergesort")
    first = 0
    for spectrum in range(n_rows):
        last = first
        while last < order.size and rows[order[last]] == spectrum:
            last += 1
        mine = order[first:last]
        done = schedule(model, u[mine], rows[mine], n_rows, lo, hi, iterations, keep, tolerances)
        u_out[spectrum] = done[0][0]
        cost_out[spectrum] = done[1][0]
        r_out[spectrum] = done[2][0]
        jt_out[spectrum] = done[3][0]
        n_out[spectrum] = done[4][0]
        n_stages = np.maximum(n_stages, done[5])
        first = last
    return u_out, cost_out, r_out, jt_out, n_out, n_stages


# compiled from (sha256): f49e6ac354736cd0a79c5a0e9239eca903091203e8e3e5385080147ade3e2bd2
