"""A Circuit is an immutable value that keeps what is derived from it: attributes fixed after
parsing, equality and hash by its string, derived facts computed once per object and shared by
the Circuits unpickled from worker processes, no cache keyed by circuit text in the layers
above, and a user element redefined taking effect for the circuits parsed afterwards."""

from __future__ import annotations

import functools
import pickle

import numpy as np
import pytest

import eisfit
from eisfit.fitting import engine, guess, solve
from eisfit.fitting.user_elements import user_elements
from eisfit.kernels import compiled
from eisfit.model import elements
from eisfit.model.circuit import Circuit, Structure

TEXT = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


@pytest.fixture
def user_element():
    """Removes every user element a test defined, so other tests see the built-ins alone."""
    yield
    for name in list(user_elements()):
        eisfit.remove_element(name)


def _resistor(p: np.ndarray, omega: np.ndarray) -> np.ndarray:
    return p[0] + 0.0 * omega


def _series_rc(p: np.ndarray, omega: np.ndarray) -> np.ndarray:
    return p[0] + 1.0 / (1j * omega * p[1])


# --------------------------------------------------------------------------- a value
@pytest.mark.parametrize("name", ["text", "tree", "elements", "n_params", "_derived", "new"])
def test_attributes_cannot_be_set_or_deleted(name: str) -> None:
    c = Circuit(TEXT)
    with pytest.raises(AttributeError, match="cannot be changed"):
        setattr(c, name, None)
    with pytest.raises(AttributeError, match="cannot be changed"):
        delattr(c, name)
    assert c.text == TEXT and c.n_params == 9


def test_equal_and_hashed_by_its_string() -> None:
    a, b = Circuit(TEXT), Circuit(" R0 - p(R1, CPE1) - p(R2,CPE2) - CPE3 ")
    assert a is not b
    assert a == b and hash(a) == hash(b)
    assert {a: 1}[b] == 1 and len({a, b}) == 1
    assert a != Circuit("R0-p(R1,CPE1)-p(R2,C2)-CPE3")
    assert a != TEXT


# --------------------------------------------------------------------------- derived facts
def test_derived_is_computed_once_per_object() -> None:
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    a, b = Circuit(TEXT), Circuit(TEXT)
    first = a.derived("test.fact", compute)
    assert a.derived("test.fact", compute) is first
    assert calls == [1]
    assert b.derived("test.fact", compute) == [2]  # another object, its own facts
    assert a.derived("test.other", compute) == [3]  # another key


def test_facts_of_a_circuit_are_its_own() -> None:
    c = Circuit(TEXT)
    assert isinstance(c.structure, Structure)
    assert c.structure is c.structure and guess.structure(c) is c.structure
    assert [a.kind for a in c.structure.arcs] == ["rq", "rq"]
    assert c.structure.series_r == (0,) and [e.name for e in c.structure.tails] == ["CPE3"]
    assert c.log_scaled is c.log_scaled and not c.log_scaled.flags.writeable
    assert c.log_scaled.tolist() == [k == "positive" for k in c.parameter_kinds]
    program = compiled.program(c)
    assert program is not None and compiled.program(c) is program


def test_bounds_computed_once_per_circuit_and_copied(monkeypatch) -> None:
    calls: list[str] = []
    original = solve._default_bounds

    def counted(circuit: Circuit) -> tuple[np.ndarray, np.ndarray]:
        calls.append(circuit.text)
        return original(circuit)

    monkeypatch.setattr(solve, "_default_bounds", counted)
    c = Circuit(TEXT)
    lo, hi = solve._bounds(c, None)
    lo[0] = -1.0  # the caller's copy
    lo2, hi2 = solve._bounds(c, None)
    assert calls == [TEXT]
    assert lo2[0] > 0 and np.array_equal(hi, hi2)
    blocking = eisfit.named_circuits()["blocking"]
    lo3, hi3 = solve._bounds(blocking.parsed, blocking)
    for name, (low, high) in blocking.bounds.items():
        i = blocking.parsed.parameter_names.index(name)
        assert (lo3[i], hi3[i]) == (low, high)


def test_a_program_is_made_again_when_the_element_codes_change() -> None:
    c = Circuit(TEXT)
    before = compiled.program(c)
    compiled.forget_programs()
    after = compiled.program(c)
    assert after is not before
    assert np.array_equal(after[0], before[0]) and after[1] == before[1]


# --------------------------------------------------------------------------- pickling
def test_unpickled_circuits_share_one_object_and_its_facts() -> None:
    c = Circuit(TEXT)
    blob = pickle.dumps(c)
    a, b = pickle.loads(blob), pickle.loads(pickle.dumps([c, c]))[1]
    assert a is b and a == c
    assert a.structure is b.structure
    assert compiled.program(a) is compiled.program(b)
    assert len(blob) < 200  # its text, not its tree


def test_no_cache_keyed_by_circuit_text_above_the_model() -> None:
    for module in (engine, guess, solve, compiled):
        caches = [
            name
            for name, value in vars(module).items()
            if isinstance(value, functools._lru_cache_wrapper)
        ]
        assert caches == [], module.__name__
    for callback in elements._ON_CHANGE:
        owner = getattr(callback, "__self__", callback)
        assert getattr(owner, "__module__", "") in ("eisfit.model.circuit",
                                                    "eisfit.kernels.compiled")


# --------------------------------------------------------------------------- user elements
@pytest.mark.usefixtures("user_element")
def test_a_user_element_redefined_takes_effect_for_circuits_parsed_afterwards() -> None:
    eisfit.define_element("Xv", _resistor, parameters=["R"], units=["Ohm"])
    old = Circuit("R0-Xv1")
    old_blob = pickle.dumps(old)
    assert pickle.loads(old_blob).n_params == 2
    assert old.log_scaled.tolist() == [True, True]

    eisfit.define_element(
        "Xv", _series_rc, parameters=["R", "C"], units=["Ohm", "F"], replace=True
    )
    new = Circuit("R0-Xv1")
    assert new.parameter_names == ["R0", "Xv1_0", "Xv1_1"]
    assert new.log_scaled.tolist() == [True, True, True]
    assert len(solve._bounds(new, None)[0]) == 3
    assert pickle.loads(old_blob).n_params == 3  # the intern table was emptied
    z = new.impedance([1.0], [1.0, 2.0, 1.0])
    assert z[0] == pytest.approx(3.0 + 1.0 / (2j * np.pi))
    # the Circuit parsed before keeps its own element and facts, consistently
    assert old.n_params == 2 and old.log_scaled.size == 2
