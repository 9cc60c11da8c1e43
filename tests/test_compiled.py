"""The compiled engine (numba, the ``fast`` extra) against independent references.

Element impedances against impedance.py, derivatives against central differences, the
Levenberg–Marquardt steps against the numpy engine from the same starts, the compiled NNLS
against scipy's, and whole fits against the truth of synthetic spectra, with either engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

import eisfit
from eisfit.fitting import guess
from eisfit.fitting import solve as fitting
from eisfit.fitting.engine import lm_batch
from eisfit.fitting.stack import fit_stack
from eisfit.kernels import compiled
from eisfit.model import elements
from eisfit.model.circuit import Circuit
from eisfit.model.named import resolve
from eisfit.model.synthetic import blocking_cell, full_cell

pytest.importorskip("numba", reason="the compiled engine needs the 'fast' extra (numba)")
from test_circuit import (  # noqa: E402
    ELEMENT_PARAMS,
    FREQ,
    NESTED,
    NOT_IN_IMPEDANCE_PY,
    assert_derivatives,
)

from eisfit.kernels import _kernels  # noqa: E402

#: Built-in elements with no compiled form (a circuit holding one is fitted with numpy): none,
#: every element is written once for both engines (eisfit/model/elements.py).
NUMPY_ONLY: set[str] = set()
# one circuit per element, and nested ones, with realistic values: test_circuit's
CIRCUITS = [
    (f"{name}1", p) for name, p in ELEMENT_PARAMS.items() if name not in NUMPY_ONLY
] + NESTED
CIRCUITS.append(("p(CPE1,R1)-Zarc1", [1e-9, 0.9, 10.0, 100.0, 1e-3, 0.7]))


def _compiled_z_jac(circuit: Circuit, params) -> tuple[np.ndarray, np.ndarray]:
    ops, depth = compiled.program(circuit)
    w = 2 * np.pi * FREQ
    zs = np.empty((depth, w.size), complex)
    jac = np.empty((circuit.n_params, w.size), complex)
    spans = np.empty((depth, 2), np.int64)
    _kernels._impedance(ops, np.asarray(params, float), w, np.log(w), zs, jac, spans)
    return zs[0].copy(), jac


def test_every_registered_element_compiles():
    compiles = set(elements.ELEMENTS) - NUMPY_ONLY
    assert set(compiled.ELEMENT_CODES) == compiles
    assert {c[:-1] for c, _ in CIRCUITS[: len(compiles)]} == compiles
    assert all(compiled.program(Circuit(f"R0-{name}1")) is None for name in NUMPY_ONLY)


@pytest.mark.parametrize(
    ("text", "params"),
    [c for c in CIRCUITS if "_" not in c[0] and c[0][:-1] not in NOT_IN_IMPEDANCE_PY],
)
def test_compiled_impedance_matches_impedance_py(text, params):
    from impedance.models.circuits import CustomCircuit

    ours, _ = _compiled_z_jac(Circuit(text), params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = CustomCircuit(text, initial_guess=list(params)).predict(FREQ)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=0)


@pytest.mark.parametrize(("text", "params"), CIRCUITS)
def test_compiled_derivatives_match_central_differences(text, params):
    c = Circuit(text)
    p = np.asarray(params, float)
    z, jac = _compiled_z_jac(c, p)
    assert_derivatives(c, p, z, jac)


def test_large_arguments_stay_finite():
    # tanh of a large complex argument overflows in a naive evaluation (Wo, Ws at 10 MHz, τ 1e3 s)
    for text in ("Wo1", "Ws1", "Gs1"):
        c = Circuit(text)
        p = [10.0, 1e3] + ([50.0] if text == "Gs1" else [])
        z, jac = _compiled_z_jac(c, p)
        assert np.all(np.isfinite(z)) and np.all(np.isfinite(jac))
        np.testing.assert_allclose(z, c.impedance(FREQ, p), rtol=1e-12)


def _problem(kind: str, seed: int):
    gen = blocking_cell if kind == "blocking" else full_cell
    return _problem_of(gen(np.random.default_rng(seed)).spectrum, kind)


def _problem_of(s, kind: str):
    """The fit problem of spectrum ``s`` with the named circuit ``kind``, and its automatic
    starting vectors within the bounds."""
    circ, named = resolve(kind)
    problem, _, _ = fitting.make_problem(s, circ, named, "modulus")
    starts = np.clip(
        np.array(guess.candidates(circ, s.frequency, s.z)), problem.lower, problem.upper
    )
    return problem, starts


@pytest.mark.parametrize("kind", ["blocking", "full-cell"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_steps_are_the_numpy_steps(kind, seed):
    problem, starts = _problem(kind, seed)
    assert compiled.enabled() and compiled.program(problem.circuit) is not None
    for max_iter, tol, xtol in ((12, 0.0, None), (40, 1e-10, 1e-6)):
        p_c, cost_c, n_c = lm_batch(problem, starts, max_iter, tol, xtol=xtol)
        with compiled.use(False):
            p_n, cost_n, n_n = lm_batch(problem, starts, max_iter, tol, xtol=xtol)
        assert n_c == n_n
        np.testing.assert_allclose(cost_c, cost_n, rtol=1e-8)
        # the same model curves (a parameter in a flat direction, such as a series resistance
        # of a few mOhm under kOhm arcs, may sit anywhere along it)
        f = problem.frequency
        np.testing.assert_allclose(
            problem.circuit.impedance_batch(f, p_c),
            problem.circuit.impedance_batch(f, p_n),
            rtol=1e-6,
        )


def test_parameters_at_a_bound_and_fixed_ones_follow_the_numpy_engine():
    problem, starts = _problem("blocking", 4)
    problem.upper[1] = starts[0][1] * 0.5  # the bulk resistance held below its start
    problem.vary[6] = False  # one exponent fixed
    problem.fixed[6] = 0.9
    problem.__post_init__()
    starts = np.clip(starts, problem.lower, problem.upper)
    assert compiled.enabled()
    p_c, cost_c, _ = lm_batch(problem, starts, 20, 0.0)
    with compiled.use(False):
        p_n, cost_n, _ = lm_batch(problem, starts, 20, 0.0)
    np.testing.assert_allclose(cost_c, cost_n, rtol=1e-8)
    assert np.all(p_c[:, 1] <= problem.upper[1] * (1 + 1e-12))
    assert np.all(p_c[:, 6] == 0.9)


def test_unknown_elements_fall_back_to_numpy(monkeypatch):
    problem, starts = _problem("blocking", 5)
    compiled.forget_programs()
    monkeypatch.delitem(compiled.ELEMENT_CODES, "CPE")
    try:
        assert compiled.program(problem.circuit) is None
        lo, hi = problem.internal_bounds()
        u = problem.internal_batch(starts)
        assert compiled.lm(problem, u, lo, hi, np.arange(len(u)), 5, 0.0, None) is None
        p, cost, _ = lm_batch(problem, starts, 5, 0.0)  # the numpy engine answers
        assert np.all(np.isfinite(cost))
    finally:
        compiled.forget_programs()


def test_compiled_nnls_equals_scipy_on_drt_systems(monkeypatch):
    captured: list[tuple[np.ndarray, np.ndarray]] = []
    solve = compiled.nnls

    def keep(a, b):
        captured.append((a.copy(), b.copy()))
        return solve(a, b)

    monkeypatch.setattr(compiled, "nnls", keep)
    rng = np.random.default_rng(0)
    for k in range(6):
        s = (blocking_cell if k % 2 else full_cell)(rng).spectrum
        eisfit.drt(s, lam=0.03)
        eisfit.drt(s)  # λ by cross-validation
    # the seed's DRT: its CPE columns ±d/dn are collinear, so the normal equations are
    # singular, and rounding once made the active set cycle between two passive sets
    rng = np.random.default_rng(4)
    for _ in range(40):
        s = blocking_cell(rng, hidden_bulk=bool(rng.random() < 0.3)).spectrum
        eisfit.drt(s, lam=guess.SEED_LAMBDA, per_decade=guess.SEED_PER_DECADE)
    assert len(captured) >= 52
    for a, b in captured:
        ref = scipy_nnls(a, b, maxiter=50 * a.shape[1])[0]
        ours = solve(a, b)
        assert np.all(ours >= 0)
        # the same least squares (a solution need not be unique with collinear columns; the
        # seed's systems have condition numbers near 1e17, so rounding decides the last 1e-8)
        cost, cost_ref = np.sum((a @ ours - b) ** 2), np.sum((a @ ref - b) ** 2)
        assert cost == pytest.approx(cost_ref, rel=1e-7)
        # and the optimality conditions: no zero variable has a descent direction
        gradient = a.T @ (b - a @ ours)
        assert np.all(gradient[ours == 0] <= 1e-9 * np.abs(a.T @ b).max())


def test_compiled_seed_is_the_numpy_seed():
    # the DRT that seeds blocking cells: one compiled call against eisfit.analysis.drt.drt
    rng = np.random.default_rng(4)
    spectra = [blocking_cell(rng, hidden_bulk=k % 3 == 0).spectrum for k in range(90)]
    spectra += [full_cell(rng).spectrum for _ in range(30)]
    same = 0
    for s in spectra:
        fast = guess.decompose_drt(s.frequency, s.z)
        with compiled.use(False):
            ref = guess.decompose_drt(s.frequency, s.z)
        np.testing.assert_allclose(fast.tau, ref.tau, rtol=1e-12)
        assert (fast.tail_n is None) == (ref.tail_n is None)
        if len(fast.peaks) != len(ref.peaks):
            continue
        values = [(p.resistance, q.resistance) for p, q in zip(fast.peaks, ref.peaks, strict=True)]
        values += [(p.tau, q.tau) for p, q in zip(fast.peaks, ref.peaks, strict=True)]
        values += [(fast.r_inf + ref.z_max, ref.r_inf + ref.z_max)]
        if ref.tail_n is not None:
            values += [(fast.tail_n, ref.tail_n), (fast.tail_q, ref.tail_q)]
        same += all(abs(a / b - 1) < 1e-6 for a, b in values)
    # the rest are rounding in nearly singular systems (the normal equations against QR)
    print(f"\ncompiled seed equals the numpy seed in {same}/{len(spectra)}")
    assert same >= 0.97 * len(spectra)


def test_nnls_with_an_active_constraint():
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([2.0, -1.0, 1.0])
    x = compiled.nnls(a, b)
    np.testing.assert_allclose(x, scipy_nnls(a, b)[0], atol=1e-12)
    assert x[1] == 0.0


@pytest.mark.parametrize("kind", ["blocking", "full-cell"])
def test_fits_with_either_engine_agree(kind):
    gen = blocking_cell if kind == "blocking" else full_cell
    rng = np.random.default_rng(17)
    truths = [gen(rng) for _ in range(12)]
    agree = 0
    for t in truths:
        fast = eisfit.fit(t.spectrum, kind)
        with compiled.use(False):
            slow = eisfit.fit(t.spectrum, kind)
        # every resistance the same to 0.1 % of the cell's total (a series resistance of
        # mOhm under kOhm arcs is not determined, and either engine may leave it anywhere)
        total = slow.resistances["total"]
        same = all(
            abs(fast.resistances[k] - slow.resistances[k]) < 1e-3 * total
            for k in slow.resistances
        )
        agree += same and fast.chisqr <= slow.chisqr * (1 + 1e-4)
    assert agree == len(truths)


@pytest.mark.parametrize("kind", ["blocking", "full-cell"])
def test_compiled_multistart_is_the_staged_solve(kind):
    # one compiled call against the scout, polish and convergence run as separate
    # lm_batch calls; its residuals and Jacobian against the numpy engine's at its answer
    gen = blocking_cell if kind == "blocking" else full_cell
    rng = np.random.default_rng(31)
    for _ in range(6):
        problem, p0 = _problem_of(gen(rng).spectrum, kind)
        done = fitting.multistart(problem, p0)
        params, cost, _ = lm_batch(problem, p0, max_iter=fitting.SCOUT_ITER, tol=0.0)
        order = np.argsort(cost, kind="stable")[: fitting.POLISH]
        params, cost, _ = lm_batch(
            problem, params[order], max_iter=fitting.POLISH_ITER, tol=fitting.POLISH_TOL
        )
        params, cost, _ = lm_batch(
            problem, params[[np.argmin(cost)]], max_iter=fitting.FINISH_ITER,
            tol=fitting.FINISH_TOL, xtol=fitting.FINISH_XTOL,
        )
        assert done.cost[0] == pytest.approx(cost[0], rel=1e-8)
        np.testing.assert_allclose(problem.params_batch(done.u)[0], params[0], rtol=1e-5)
        r, j = problem.residual_jac_batch(done.u)
        np.testing.assert_allclose(done.residual[0], r[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(done.jac_t[0].T, j[0], rtol=1e-9, atol=1e-9 * np.abs(j).max())
        assert done.cost[0] == pytest.approx(0.5 * r[0] @ r[0], rel=1e-12)


def test_compiled_single_fit_is_the_stacked_fit():
    rng = np.random.default_rng(23)
    spectra = [blocking_cell(rng).spectrum for _ in range(4)]
    stacked = fit_stack(spectra, "blocking")
    for s, r in zip(spectra, stacked, strict=True):
        single = eisfit.fit(s, "blocking")
        for role, value in single.resistances.items():
            assert r.resistances[role] == pytest.approx(value, rel=1e-9)


def _creeping_spectra() -> list:
    """Blocking-cell spectra whose compiled convergence is still creeping at its limit."""
    spectra = []
    for seed, index in [(1, 11), (2, 7), (5, 0), (21, 4)]:
        rng = np.random.default_rng(seed)
        spectra.append([blocking_cell(rng) for _ in range(index + 1)][index].spectrum)
    return spectra


def test_stacked_fits_at_the_iteration_limit_end_as_single_fits(monkeypatch):
    # the stack hands them on one by one, as eisfit.fit does, and ends where it ends
    spectra = _creeping_spectra()
    calls = []
    creep = fitting.converge_creeping

    def counted(*args, **kwargs):
        calls.append(1)
        return creep(*args, **kwargs)

    monkeypatch.setattr(fitting, "converge_creeping", counted)
    stacked = fit_stack(spectra, "blocking")
    assert calls  # the path is taken
    for s, r in zip(spectra, stacked, strict=True):
        single = eisfit.fit(s, "blocking")
        assert r.success == single.success
        assert r.chisqr == pytest.approx(single.chisqr, rel=1e-9)
        for role, value in single.resistances.items():
            assert r.resistances[role] == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_creeping_convergence_ends_as_low_as_the_trust_region_solve():
    # scipy's trust-region solve from the same point is the reference
    from eisfit.fitting.engine import solve

    compared = 0
    for s in _creeping_spectra():
        problem, p0 = _problem_of(s, "blocking")
        done = fitting.multistart(problem, p0)
        if done.n_finish[0] <= fitting.FINISH_ITER:
            continue
        compared += 1
        at = problem.params_batch(done.u)[0]
        ours = fitting.converge_creeping(problem, at, 0, fitting.FINISH_NFEV)
        reference = solve(problem, at, max_nfev=2000)
        assert ours.success
        assert ours.cost <= reference.cost * (1 + 1e-6)
    assert compared >= 2


def test_switch_by_context_and_environment():
    assert compiled.available()
    before = os.environ.get("EISFIT_COMPILED")
    with compiled.use(False):
        assert not compiled.enabled()
        # no process-wide state: worker processes are told the engine with each stack
        # (tests/test_engine_choice.py)
        assert os.environ.get("EISFIT_COMPILED") == before
    assert compiled.enabled()
    assert os.environ.get("EISFIT_COMPILED") == before
    with compiled.use_for(compiled.WORTHWHILE_FITS - 1):
        assert not compiled.enabled()
    with compiled.use_for(compiled.WORTHWHILE_FITS):
        assert compiled.enabled()
    code = "from eisfit.kernels import compiled; print(compiled.enabled())"
    env = dict(os.environ, EISFIT_COMPILED="0")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_kernels_that_cannot_load_give_one_warning_and_numpy_fits(monkeypatch):
    # e.g. numba finding no writable folder for its cache
    import eisfit as package

    monkeypatch.setattr(compiled, "_NUMBA", True)  # restored after the test
    monkeypatch.delattr(package, "_kernels", raising=False)
    monkeypatch.delattr(package, "_drt_kernels", raising=False)
    monkeypatch.setitem(sys.modules, "eisfit.kernels._kernels", None)
    monkeypatch.setitem(sys.modules, "eisfit.kernels._drt_kernels", None)
    truth = blocking_cell(np.random.default_rng(29))
    with pytest.warns(RuntimeWarning, match="compiled engine could not be loaded"):
        result = eisfit.fit(truth.spectrum, "blocking")
    assert not compiled.enabled()
    with compiled.use(False):
        reference = eisfit.fit(truth.spectrum, "blocking")
    assert result.resistances == reference.resistances


def test_engines_agree_on_real_instrument_files():
    # the corpus's spectra (several instruments and cells), fitted with the blocking circuit
    from test_io_corpus import need_corpus

    corpus = need_corpus()
    compared = same = 0
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix != ".md"):
        try:
            spectrum = eisfit.read_all(path)[0]
        except eisfit.EisfitError:
            continue  # files with no spectrum in them; tests/test_io_corpus.py covers them
        try:
            fast = eisfit.fit(spectrum, "blocking")
        except eisfit.EisfitError:
            with compiled.use(False), pytest.raises(eisfit.EisfitError):
                eisfit.fit(spectrum, "blocking")  # the same spectra fail with either engine
            continue
        with compiled.use(False):
            slow = eisfit.fit(spectrum, "blocking")
        compared += 1
        same += abs(fast.chisqr / slow.chisqr - 1) < 0.01
    print(f"\ncorpus, blocking circuit: chi2 of the engines within 1 % in {same}/{compared}")
    assert compared >= 50
    assert same >= 0.95 * compared
