"""A convergence creeping towards a bound (eisfit.fitting.solve.onto_bounds): the parameters the
cost pushes onto a bound are moved there, so thousands of Levenberg–Marquardt steps and the
trust-region solve after them are not needed; where the minimum is not at the bound, the
convergence goes on as it would have. The reference is the same fit with the move turned off."""

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
    """The convergence as it was before the move: the whole creeping budget at once."""
    monkeypatch.setattr(solve, "onto_bounds", lambda problem, params: (params, 0))
    monkeypatch.setattr(solve, "CREEP_PROBE_AFTER", solve.CREEP_ITER)


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


# spectra of seed 7 whose convergence crawled the series resistance towards zero for the
# whole creeping budget (5000 iterations) and then ran the trust-region solve, before the move
@pytest.mark.parametrize("index", [48, 770, 956])
def test_a_resistance_on_its_way_to_zero_is_moved_there(monkeypatch, index):
    s = _spectrum(7, index)
    calls = _creeping_calls(monkeypatch)
    moved = eisfit.fit(s, "blocking")
    assert calls and "Levenberg-Marquardt" in calls[-1].message  # no trust-region solve
    fast = calls[-1].nfev
    _without_move(monkeypatch)
    calls.clear()
    crawled = eisfit.fit(s, "blocking")
    assert calls and calls[-1].nfev > solve.CREEP_ITER  # it crawled the whole budget
    assert "Levenberg-Marquardt" not in calls[-1].message  # and the trust region went on
    assert fast < solve.CREEP_ITER / 2
    assert moved.chisqr <= crawled.chisqr * (1 + 1e-9)
    assert moved.params["R0"].value == pytest.approx(crawled.params["R0"].value, abs=1e-9)
    for role, value in crawled.resistances.items():
        assert moved.resistances[role] == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_a_minimum_inside_the_bounds_is_kept(monkeypatch):
    # seed 7, spectrum 130: the series resistance creeps down, and moving it to zero lowers
    # the cost at first, but the convergence then ends at R0 = 0 with the cost falling as R0
    # leaves it; the minimum lies at R0 ~ 21 Ohm (poorly determined), as without the move
    s = _spectrum(7, 130)
    moved = eisfit.fit(s, "blocking")
    _without_move(monkeypatch)
    crawled = eisfit.fit(s, "blocking")
    assert crawled.params["R0"].value > 1.0
    assert moved.chisqr == pytest.approx(crawled.chisqr, rel=1e-9)
    assert moved.params["R0"].value == pytest.approx(crawled.params["R0"].value, rel=1e-4)


def test_no_fit_of_a_population_ends_higher(monkeypatch):
    # 300 blocking cells fitted as a stack, with and without the move: no χ² is higher with it
    rng = np.random.default_rng(11)
    spectra = [blocking_cell(rng).spectrum for _ in range(300)]
    calls = _creeping_calls(monkeypatch)
    moved = eisfit.fit_stack(spectra, "blocking")
    assert len(calls) >= 5
    _without_move(monkeypatch)
    crawled = eisfit.fit_stack(spectra, "blocking")
    for a, b in zip(moved, crawled, strict=True):
        assert a.chisqr <= b.chisqr * (1 + 1e-9)
