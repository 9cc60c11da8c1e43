"""FitResult's uncertainties: eager standard errors against the ``uncertainties`` package, and
results that travel between processes light and whole.

The resistances' standard errors are propagated by hand from the covariance (each role is a sum
of parameters); the ufloats of :attr:`FitResult.uvars` are built by ``uncertainties`` from the
same covariance when first asked for. The two routes must agree.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import uncertainties

import eisfit
from eisfit.fitting.result import CORRELATION_LIMIT, _correlation_warnings
from eisfit.model.circuit import Circuit
from eisfit.model.named import named_circuits
from eisfit.model.synthetic import blocking_cell, full_cell


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(31)
    out = [eisfit.fit(blocking_cell(rng).spectrum, "blocking") for _ in range(3)]
    out.append(eisfit.fit(full_cell(rng).spectrum, "full-cell"))
    hidden = eisfit.fit(
        blocking_cell(rng, hidden_bulk=True).spectrum, "blocking", external_resistance=0.5
    )
    assert any("above the highest measured frequency" in w for w in hidden.warnings)
    out.append(hidden)
    return out


def test_resistance_errors_match_the_uncertainties_package(results):
    for r in results:
        assert set(r.resistance_uvars) == set(r.resistances)
        for role, u in r.resistance_uvars.items():
            assert uncertainties.nominal_value(u) == pytest.approx(r.resistances[role], rel=1e-12)
            assert uncertainties.std_dev(u) == pytest.approx(
                r.resistance_stderr[role], rel=1e-6, abs=1e-12
            )


def test_arc_quantities_match_their_ufloats(results):
    for r in results:
        assert {a.role for a in r.arcs} == set(r.capacitances)
        for a in r.arcs:
            assert uncertainties.nominal_value(a.capacitance) == pytest.approx(
                r.capacitances[a.role], rel=1e-12
            )
            assert uncertainties.nominal_value(a.apex_hz) == pytest.approx(
                r.apex_hz[a.role], rel=1e-12
            )
            # the analytic apex of an R||CPE arc: 1 / (2 pi (R Q)^(1/n))
            rn, qn = a.name.split("‖")
            v = r.values
            if qn.startswith("CPE"):
                tau = (v[rn] * v[f"{qn}_0"]) ** (1 / v[f"{qn}_1"])
                assert r.apex_hz[a.role] == pytest.approx(1 / (2 * np.pi * tau), rel=1e-12)


def test_derived_quantities_stay_correlated(results):
    r = results[0]
    u = r.resistance_uvars
    # total is bulk + grain boundary: their difference carries no uncertainty
    assert uncertainties.std_dev(u["total"] - u["bulk"] - u["grain_boundary"]) < 1e-9 * abs(
        r.resistances["total"]
    )
    # the same objects on every access, so a user's arithmetic keeps the correlations
    assert r.uvars is r.uvars
    assert r.resistance_uvars["bulk"] is r.resistance_uvars["bulk"]


def test_pickled_results_carry_numbers_not_ufloats(results):
    for r in results:
        _ = r.uvars, r.arcs, r.resistance_uvars  # build the caches
        state = r.__getstate__()
        assert not {"_uvars", "_arcs", "_resistance_uvars", "_params"} & set(state)
        back = pickle.loads(pickle.dumps(r))
        assert back.resistances == r.resistances
        assert back.resistance_stderr == r.resistance_stderr
        assert back.warnings == r.warnings
        for name, u in r.uvars.items():
            assert uncertainties.std_dev(back.uvars[name]) == pytest.approx(
                uncertainties.std_dev(u), rel=1e-9, nan_ok=True
            )


def test_unpickled_results_share_their_circuits(results):
    blobs = [pickle.dumps(r) for r in results[:3]]
    a, b, c = (pickle.loads(x) for x in blobs)
    assert a.circuit is b.circuit is c.circuit
    assert a.named is named_circuits()["blocking"]
    hidden = pickle.loads(pickle.dumps(results[-1]))
    assert hidden.named is not None
    variants = (
        named_circuits()["blocking"].hidden_variant(),
        named_circuits()["blocking"].intercept_variant(),
    )
    # the process's own variant object, not a copy
    assert any(hidden.named is v for v in variants)


def test_correlation_warnings_follow_the_records(results):
    # each pair of free parameters correlated beyond the limit is reported once, in parameter
    # order, except the Q and n of one CPE (correlated by the parametrisation) and the two parts
    # of an intercept, which its note names (only their sum is determined)
    assert any(" are correlated (" in w for r in results for w in r.warnings)
    for r in results:
        cpe = {tuple(sorted(e.param_names)) for e in r.circuit.elements if e.element.name == "CPE"}
        for w in r.warnings:
            if "its parts, are determined only as their sum" in w:
                parts = w.rsplit("; ", 1)[1].split(", its parts")[0]
                cpe.add(tuple(sorted(parts.split(" and "))))
        expected, seen = [], set()
        for name, record in r.records.items():
            for other, c in (record.correl or {}).items():
                key = tuple(sorted((name, other)))
                if key in seen or not np.isfinite(c):
                    continue
                seen.add(key)
                if key not in cpe and abs(c) > CORRELATION_LIMIT:
                    expected.append(f"{key[0]} and {key[1]} are correlated ({c:+.3f})")
        got = [w.split(":")[0] for w in r.warnings if " are correlated (" in w]
        assert got == expected


def test_a_pair_is_judged_at_its_first_finite_correlation():
    circuit = Circuit("R0-p(R1,CPE1)")
    corr = np.array(
        [
            [1.0, np.nan, 0.5, 0.1],
            [-0.99, 1.0, 0.2, 0.3],
            [0.5, 0.2, 1.0, 0.999],
            [0.1, 0.3, 0.999, 1.0],
        ]
    )
    # R0-R1 is NaN above the diagonal, so its entry below decides; CPE1's Q and n are left out
    assert _correlation_warnings(corr, [0, 1, 2, 3], circuit) == [
        "R0 and R1 are correlated (-0.990): the data do not determine them separately"
    ]


def test_single_parameter_roles_carry_that_parameter_error(results):
    for r in results:
        names = list(r.records)
        for role, (idx, _) in r.role_terms.items():
            free = [i for i in idx if r.records[names[i]].vary]
            if len(free) == 1:
                assert r.resistance_stderr[role] == r.stderr[names[free[0]]]
