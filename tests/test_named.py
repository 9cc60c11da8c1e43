"""Named circuits: every file parses, roles are known, required circuits exist."""

from __future__ import annotations

import pytest

from eisfit.model.named import ROLES, named_circuits, resolve


def test_required_named_circuits_exist():
    names = set(named_circuits())
    assert {"blocking", "blocking-single", "blocking-spike", "li-symmetric", "full-cell",
            "thin-film"} <= names


@pytest.mark.parametrize("name", sorted(named_circuits()))
def test_named_circuit_is_consistent(name):
    nc = named_circuits()[name]
    circuit = nc.parsed
    assert set(nc.roles.values()) <= set(ROLES)
    assert {e.name for e in circuit.elements} >= set(nc.roles)
    for pname, (lo, hi) in nc.bounds.items():
        assert pname in circuit.parameter_names and lo < hi
    if nc.hidden_variant() is not None:
        assert nc.hidden_variant().roles[nc.hidden_variant().parsed.elements[0].name] == "intercept"


def test_blocking_roles_follow_the_contract():
    nc = named_circuits()["blocking"]
    assert nc.roles == {"R0": "series", "R1": "bulk", "CPE1": "bulk", "R2": "grain_boundary",
                        "CPE2": "grain_boundary", "CPE3": "electrode"}
    c, named = resolve("blocking")
    assert str(c) == "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3" and named is nc
    c2, named2 = resolve("R0-p(R1,C1)")
    assert named2 is None and str(c2) == "R0-p(R1,C1)"
