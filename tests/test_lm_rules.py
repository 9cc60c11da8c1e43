"""Levenberg–Marquardt and the fit's schedule are written once (eisfit/kernels/lm_rules.py).

Both engines' iterates are checked step by step against Levenberg–Marquardt written here from
its definition (the damping, active set, acceptance and stopping rules as the fit documents
them), the rules module is checked to work without numba, and the drivers to hold no copy of
a rule's constant.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eisfit.fitting import solve as fitting
from eisfit.fitting.engine import Problem, lm_batch, start_coordinates
from eisfit.kernels import compiled, lm_rules
from eisfit.model.circuit import Circuit

ROOT = Path(__file__).resolve().parents[1]
CIRCUIT = "R0-p(R1,CPE1)-CPE2"
TRUTH = np.array([20.0, 1500.0, 2e-9, 0.85, 3e-6, 0.75])
ENGINES = ["numpy"] + (["compiled"] if compiled.available() else [])


def _problem() -> Problem:
    """A blocking-cell fit problem with a known answer (1 % noise, fixed seed)."""
    circ = Circuit(CIRCUIT)
    f = np.logspace(6, -1, 50)
    rng = np.random.default_rng(7)
    z = circ.impedance(f, TRUTH)
    z = z * (1 + 0.01 * rng.standard_normal(f.size))
    lower = np.array([1e-3, 1e-1, 1e-13, 0.5, 1e-9, 0.5])
    upper = np.array([1e4, 1e6, 1e-6, 1.0, 1e-3, 1.0])
    w = 1 / np.abs(z)
    return Problem(circ, f, z, w, w, lower, upper, np.ones(6, bool), TRUTH.copy())


#: Starts: near the answer, far from it (where parameters come to be held at a bound: the
#: active set), and one with both exponents at their upper bound.
STARTS = np.array([
    [25.0, 1000.0, 5e-9, 0.8, 1e-6, 0.8],
    [1.0, 1e5, 1e-11, 0.6, 1e-4, 0.6],
    [20.0, 1500.0, 2e-9, 1.0, 3e-6, 1.0],
])


def _textbook_lm(problem, u, lo, hi, n_iter, tol=0.0, xtol=None, lam=1e-3, up=4.0):
    """Levenberg–Marquardt from one start ``u`` for at most ``n_iter`` iterations, written from
    the definition: damping D = √(max(dᵢ, f)·max(d_max, f)), f = 1e-12·d_max + 1e-300, from
    λ = ``lam`` (1e-3); parameters within 1e-9 of the span of a bound with the gradient
    outward held; the step clipped to the bounds; accepted if the cost falls
    (λ ← max(λ/3, 1e-12)), else λ ← ``up``·λ (4); stop on a gain below tol with λ < 1e-2
    (and the step below xtol), on λ > 1e10 after a rejection, or on a step below 1e-10.
    Returns (u, cost, what happened)."""
    def evaluate(x):
        r, j = problem.residual_jac_batch(x[None, :])
        return r[0], j[0]

    r, j = evaluate(u)
    cost = 0.5 * r @ r
    seen = {"held": 0, "rejected": 0, "accepted": 0}
    for _ in range(n_iter):
        a, g = j.T @ j, j.T @ r
        d = np.diag(a)
        floor = 1e-12 * d.max() + 1e-300
        a = a + lam * np.diag(np.sqrt(np.maximum(d, floor) * max(d.max(), floor)))
        eps = 1e-9 * (hi - lo)
        held = ((u <= lo + eps) & (g > 0)) | ((u >= hi - eps) & (g < 0))
        a[held, :], a[:, held], g[held] = 0.0, 0.0, 0.0
        a[held, held] = 1.0
        seen["held"] += int(held.sum())
        step = np.linalg.solve(a, -g)
        u_new = np.clip(u + step, lo, hi)
        r_new, j_new = evaluate(u_new)
        c_new = 0.5 * r_new @ r_new
        small = np.abs(step).max() < 1e-10
        if c_new < cost:
            gain = (cost - c_new) / cost
            u, r, j, cost = u_new, r_new, j_new, c_new
            lam = max(lam / 3, 1e-12)
            seen["accepted"] += 1
            near = gain < tol and lam < 1e-2 and (xtol is None or np.abs(step).max() < xtol)
            if near or small:
                break
        else:
            lam *= up
            seen["rejected"] += 1
            if lam > 1e10 or small:
                break
    return u, cost, seen


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_take_the_textbook_steps(engine):
    # iteration by iteration, every start's iterate is the textbook one (to rounding: the
    # engines solve the same damped system by LU; the compiled one sums in another order, and
    # eight steps from a far start amplify that to about 1e-9)
    rtol = 1e-9 if engine == "numpy" else 1e-7
    problem = _problem()
    u0, lo, hi = start_coordinates(problem, STARTS)
    seen = {"held": 0, "rejected": 0, "accepted": 0}
    with compiled.use(engine == "compiled"):
        for n_iter in range(1, 9):
            params, cost, _ = lm_batch(problem, STARTS, max_iter=n_iter, tol=0.0)
            for k in range(len(STARTS)):
                u_ref, c_ref, s = _textbook_lm(problem, u0[k], lo, hi, n_iter)
                got = problem.internal_batch(params[k : k + 1])[0]
                np.testing.assert_allclose(got, u_ref, rtol=rtol, atol=rtol)
                assert cost[k] == pytest.approx(c_ref, rel=rtol)
                if n_iter == 8:
                    seen = {key: seen[key] + s[key] for key in seen}
    # the path went through every rule: steps accepted, rejected and held at a bound
    assert all(seen.values()), seen


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_stop_where_the_textbook_stops(engine):
    # the convergence stage's stopping rule (gain, λ and step tests) against the textbook's,
    # ending at the known answer (1 % noise: the arc and the CPEs within 5 %, the series
    # resistance, small beside the arc, within 10 %)
    problem = _problem()
    u0, lo, hi = start_coordinates(problem, STARTS[:1])
    with compiled.use(engine == "compiled"):
        params, cost, n_eval = lm_batch(
            problem, STARTS[:1], max_iter=300, tol=fitting.FINISH_TOL, xtol=fitting.FINISH_XTOL
        )
    u_ref, c_ref, seen = _textbook_lm(
        problem, u0[0], lo, hi, 300, fitting.FINISH_TOL, fitting.FINISH_XTOL
    )
    textbook_evaluations = 1 + seen["accepted"] + seen["rejected"]
    if engine == "numpy":
        assert n_eval == textbook_evaluations < 300
        np.testing.assert_allclose(problem.internal_batch(params)[0], u_ref, rtol=1e-8,
                                   atol=1e-8)
    else:
        # the compiled sums are reassociated (fastmath), so near the stop an accepted step's
        # gain can fall on the other side of the tolerance: a few steps more or fewer along
        # the flat valley, ending at the same point within the step tolerance
        assert abs(n_eval - textbook_evaluations) <= 6 and n_eval < 300
        np.testing.assert_allclose(problem.internal_batch(params)[0], u_ref,
                                   atol=fitting.FINISH_XTOL)
    assert cost[0] == pytest.approx(c_ref, rel=1e-9)
    np.testing.assert_allclose(params[0, 1:], TRUTH[1:], rtol=0.05)
    assert params[0, 0] == pytest.approx(TRUTH[0], rel=0.1)


def test_numpy_engine_reads_its_rules_from_lm_rules(monkeypatch):
    # another damping schedule in lm_rules is the numpy engine's: it follows the textbook
    # steps with λ starting at 1 and raised 10-fold on a rejection
    problem = _problem()
    u0, lo, hi = start_coordinates(problem, STARTS[1:2])
    monkeypatch.setattr(lm_rules, "LAM_START", 1.0)
    monkeypatch.setattr(lm_rules, "LAM_UP", 10.0)
    with compiled.use(False):
        params, _, _ = lm_batch(problem, STARTS[1:2], max_iter=10, tol=0.0)
    u_ref, _, seen = _textbook_lm(problem, u0[0], lo, hi, 10, lam=1.0, up=10.0)
    u_default, _, _ = _textbook_lm(problem, u0[0], lo, hi, 10)
    assert seen["rejected"] and not np.allclose(u_ref, u_default, rtol=1e-3)
    np.testing.assert_allclose(problem.internal_batch(params)[0], u_ref, rtol=1e-9, atol=1e-9)


#: The literals of the rules (damping, bounds, acceptance, stopping), none of which the drivers
#: may write themselves.
RULE_LITERALS = ["1e-3", "1e-12", "1e-300", "1e-9", "1e-2", "1e10", "1e-10", "3.0", "4.0"]


def _function_body(path: Path, name: str) -> str:
    """The code of the function ``name`` after its signature and docstring."""
    text = path.read_text()
    start = text.index(f"def {name}(")
    end = text.find("\n\n\n", start)
    doc = text.index('"""', start)
    return text[text.index('"""', doc + 3) + 3 : end]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("eisfit/fitting/engine.py", "lm_batch"),
        ("eisfit/fitting/engine.py", "start_coordinates"),
        ("eisfit/kernels/lm_loop.py", "iterate"),
        ("eisfit/kernels/lm_loop.py", "schedule"),
        ("eisfit/kernels/lm_loop.py", "trial_points"),
        ("eisfit/kernels/lm_loop.py", "take_steps"),
        ("eisfit/kernels/_kernels.py", "_take_steps"),
        ("eisfit/kernels/_kernels.py", "_trial_points"),
    ],
)
def test_drivers_hold_no_rule_of_their_own(path, name):
    # a rule's number written in a driver would be a second definition
    code = "\n".join(line.split("#")[0] for line in _function_body(ROOT / path, name).splitlines())
    found = [lit for lit in RULE_LITERALS if re.search(rf"(?<![\w.]){re.escape(lit)}(?!\d)", code)]
    assert not found, f"{path}:{name} writes {found}; they belong in eisfit/kernels/lm_rules.py"


def _best_by_brute_force(rows, cost, n_rows, keep):
    out = []
    for s in range(n_rows):
        mine = [k for k in range(rows.size) if rows[k] == s]
        out += sorted(mine, key=lambda k: (cost[k], k))[:keep]
    return np.array(out, np.int64)


def test_best_of_each_keeps_the_lowest_of_every_spectrum():
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 5, 60)
    rows[:5] = np.arange(5)  # every spectrum has a candidate
    cost = rng.integers(0, 8, 60).astype(float)  # many ties: the earlier candidate first
    kernels = []
    if compiled.available():
        from eisfit.kernels import _kernels

        kernels.append(_kernels._best_of_each)
    for keep in (1, 2, 3, 100):
        want = _best_by_brute_force(rows, cost, 5, keep)
        np.testing.assert_array_equal(lm_rules.best_of_each(rows, cost, 5, keep), want)
        for fn in kernels:
            np.testing.assert_array_equal(fn(rows, cost, 5, keep), want)


@pytest.mark.parametrize("engine", ENGINES)
def test_both_schedules_run_the_stage_table(monkeypatch, engine):
    # the schedule takes its iterations from fitting.stages: with a scout of one iteration and
    # no polish or convergence, the best start is the textbook's best after one iteration
    problem = _problem()
    u0, lo, hi = start_coordinates(problem, STARTS)
    table = fitting.stages(polish=1)
    table[0, 0], table[1, 0], table[2, 0] = 1, 0, 0  # scout one iteration, nothing more
    monkeypatch.setattr(fitting, "stages", lambda polish=fitting.POLISH: table)
    with compiled.use(engine == "compiled"):
        done = fitting.multistart(problem, STARTS, polish=1)
    ref = [_textbook_lm(problem, u, lo, hi, 1) for u in u0]
    best = min(range(len(ref)), key=lambda k: ref[k][1])
    np.testing.assert_allclose(done.u[0], ref[best][0], rtol=1e-9)
    assert done.cost[0] == pytest.approx(ref[best][1], rel=1e-9)
    assert done.n_before == 2 + 1  # the scout's evaluations, then the polish's first
    assert done.n_finish[0] == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_fit_with_every_parameter_fixed_stays_where_it_is(engine):
    # no free parameter: the schedule takes no step, and the cost is that of the given values
    base = _problem()
    problem = Problem(
        base.circuit, base.frequency, base.z, base.w_re, base.w_im, base.lower, base.upper,
        np.zeros(6, bool), TRUTH.copy(),
    )
    with compiled.use(engine == "compiled"):
        done = fitting.multistart(problem, STARTS)
        sol = fitting.converged(problem, done, 0)
    r = base.residual_jac_batch(base.internal_batch(TRUTH[None, :]))[0][0]
    assert sol.cost == pytest.approx(0.5 * r @ r, rel=1e-12)
    np.testing.assert_array_equal(sol.params, TRUTH)


def test_one_loop_serves_both_engines():
    # the compiled engine's loop and schedule are lm_loop's own code, compiled with its kernels
    if not compiled.available():
        pytest.skip("numba is not installed")
    from eisfit.kernels import _kernels, lm_loop

    assert _kernels.iterate.py_func.__code__ is lm_loop.iterate.__code__
    assert _kernels.schedule.py_func.__code__ is lm_loop.schedule.__code__
    assert _kernels._RULES.step_outcome.py_func.__code__ is lm_rules.step_outcome.__code__


NO_NUMBA = """
import sys
sys.modules["numba"] = None  # as if the 'fast' extra were not installed
import numpy as np
from eisfit.kernels import compiled, lm_rules
assert not compiled.available()
d = lm_rules.damping(np.array([[4.0, 0.0]]), np.array([[4.0]]))
assert np.allclose(d, [[4.0, np.sqrt(4.0 * (4e-12 + 1e-300))]])
assert lm_rules.held_at_bound(np.array([1.0, 0.5]), 0.0, 1.0, np.array([-1.0, -1.0])).tolist() \\
    == [True, False]
assert lm_rules.best_of_each(np.array([1, 0, 1, 0]), np.array([3.0, 1.0, 2.0, 0.5]), 2, 1) \\
    .tolist() == [3, 2]
sys.path.insert(0, "tests")
from test_lm_rules import STARTS, TRUTH, _problem
from eisfit.fitting.engine import lm_batch
params, _, _ = lm_batch(_problem(), STARTS[:1], max_iter=300, tol=1e-10, xtol=1e-6)
assert np.allclose(params[0, 1:], TRUTH[1:], rtol=0.05), params
assert "numba" not in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}
print("ok")
"""


def test_rules_work_without_numba():
    out = subprocess.run(
        [sys.executable, "-c", NO_NUMBA], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_rules_module_imports_no_numba():
    spec = importlib.util.find_spec("eisfit.kernels.lm_rules")
    text = Path(spec.origin).read_text()
    assert not re.search(r"^\s*(import|from)\s+numba", text, flags=re.M)
