"""A convergence creeping towards a bound (eisfit.fitting.solve.converge_creeping): where a
parameter alone crawls towards its bound, or the crawl used its whole budget, the parameters the
cost pushes onto a bound are moved there (onto_bounds) and the compiled Levenberg–Marquardt
settles it, where thousands of iterations and the trust-region solve (scipy's, imported for it)
took it there before; every other fit is as it was. The reference is the same fit with the move
turned off."""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
import eisfit.fitting.solve as solve
from eisfit.model.synthetic import blocking_cell


def _spectrum(seed: int, index: int) -> eisfit.Spectrum:
    rng = np.random.default_rng(seed)
    return [blocking_cell(rng) for _ in range(index + 1)][index].spectrum


def _without_move(monkeypatch) -> None:
    """The convergence as it was before the move: the trust-region solve after the crawl."""
    monkeypatch.setattr(solve, "onto_bounds", lambda problem, params: (params, 0))


def _creeping_calls(monkeypatch) -> list:
    """Record each creeping convergence's Solution."""
    calls: list = []
    creep = solve.converge_creeping

    def counted(*args, **kwargs):
        sol = creep(*args, **kwargs)
        calls.append(sol)
        return sol

    monkeypatch.setattr(solve, "converge_creeping", counted)
    return calls


# spectra of seed 7 whose convergence crawls the series resistance alone towards zero: without
# the move, for thousands of iterations (the whole budget and the trust-region solve after it
# for 48 and 956)
@pytest.mark.parametrize("index", [48, 481, 956])
def test_a_resistance_crawling_alone_to_zero_is_moved_there(monkeypatch, index):
    s = _spectrum(7, index)
    calls = _creeping_calls(monkeypatch)
    moved = eisfit.fit(s, "blocking")
    assert calls and "Levenberg-Marquardt" in calls[-1].message  # no trust-region solve
    fast = calls[-1].nfev
    assert fast < solve.CRAWL_CHECK_AT + solve.AFTER_MOVE_ITER
    _without_move(monkeypatch)
    calls.clear()
    crawled = eisfit.fit(s, "blocking")
    assert calls and calls[-1].nfev > fast  # it crawled on
    assert moved.chisqr <= crawled.chisqr * (1 + 1e-9)
    assert moved.params["R0"].value == pytest.approx(crawled.params["R0"].value, abs=1e-6)
    for role, value in crawled.resistances.items():
        assert moved.resistances[role] == pytest.approx(value, rel=1e-6, abs=1e-6)


def test_a_crawl_that_moves_more_than_the_resistance_is_left_alone(monkeypatch):
    # seed 7, spectrum 130: the series resistance creeps down with the arcs' parameters still
    # moving; moved to zero it would end at R0 = 0, while the convergence left alone turns
    # back to R0 ~ 21 Ohm at a lower χ²; nothing is moved and the fit is as without the move
    s = _spectrum(7, 130)
    moves: list = []
    settle = solve._settled_on_bounds

    def recorded(problem, at, n_eval, alone=None):
        out = settle(problem, at, n_eval, alone)
        moves.append((alone, out[0]))
        return out

    monkeypatch.setattr(solve, "_settled_on_bounds", recorded)
    kept = eisfit.fit(s, "blocking")
    assert moves and moves[0][0] is not None and moves[0][0].sum() > 1 and moves[0][1] is None
    _without_move(monkeypatch)
    crawled = eisfit.fit(s, "blocking")
    assert crawled.params["R0"].value > 1.0
    assert kept.chisqr == pytest.approx(crawled.chisqr, rel=1e-12)


def test_a_resistance_the_data_determine_is_not_moved():
    # a clear series resistance (200 Ohm before a 1 kOhm arc, 0.5 % noise): at the fit's
    # minimum no parameter is pushed onto a bound, and nothing is moved
    f = np.logspace(6, -1, 71)
    circuit = eisfit.Circuit("R0-p(R1,CPE1)-CPE2")
    z = circuit.impedance(f, [200.0, 1e3, 1e-9, 0.9, 1e-6, 0.85])
    rng = np.random.default_rng(3)
    spectrum = eisfit.Spectrum(
        f, z * (1 + 0.005 * (rng.normal(size=f.size) + 1j * rng.normal(size=f.size)))
    )
    fitted = eisfit.fit(spectrum, circuit.text)
    assert fitted.params["R0"].value == pytest.approx(200.0, rel=0.1)
    problem = solve.make_problem(spectrum, circuit, None, "modulus")[0]
    at = np.array([p.value for p in fitted.params.values()])
    assert solve.onto_bounds(problem, at)[0] is at
    # and from a point where R0 is far below its best value, moving it to zero raises the cost
    low = at.copy()
    low[0] = 1e-3
    assert solve.onto_bounds(problem, low)[0] is low


def test_only_the_crawls_change(monkeypatch):
    # 200 blocking cells and the three crawls above fitted as a stack, with and without the
    # move: the fits whose convergence settles within the creeping budget are the same, the
    # others end no higher
    rng = np.random.default_rng(7)
    cells = [blocking_cell(rng).spectrum for _ in range(957)]
    spectra = cells[:200] + [cells[48], cells[770], cells[956]]
    moves: list = []
    move = solve.onto_bounds

    def recorded(problem, params):
        out = move(problem, params)
        moves.append(out[0] is not params)
        return out

    monkeypatch.setattr(solve, "onto_bounds", recorded)
    moved = eisfit.fit_stack(spectra, "blocking")
    assert any(moves)
    _without_move(monkeypatch)
    crawled = eisfit.fit_stack(spectra, "blocking")
    same = sum(a.chisqr == pytest.approx(b.chisqr, rel=1e-12) for a, b in zip(moved, crawled,
                                                                           strict=True))
    assert same >= len(spectra) - len(moves)
    for a, b in zip(moved, crawled, strict=True):
        assert a.chisqr <= b.chisqr * (1 + 1e-9)
