"""Lin-KK's choice of the number of elements M: the normal-equation walk (numpy and compiled)
against the QR solves it replaced.

The ``"stable"`` rule walks from the largest M down until μ reaches the cut-off. Each μ was a
QR solve (LAPACK ``gelsy``); it is now a Cholesky solve of the scaled normal equations, in numpy
one M at a time and compiled in one call. The truth here is the QR walk itself, run in the
test: on valid, drifted, blocking and sparse-wide spectra every engine must choose the same M,
and where the normal equations break down (a chain denser than the points resolve) the walk
must go on with QR and still agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.analysis import kk
from eisfit.kernels import compiled
from tests.test_validate_kk import synthetic

C = 0.85


def _qr_walk(s: eisfit.Spectrum) -> int:
    """The number of elements by the ``"stable"`` rule with QR solves (the reference)."""
    f, z = np.asarray(s.frequency), np.asarray(s.z)
    cap = kk._has_capacitive_tail(f, z)
    m_max = kk.default_max_elements(f)
    mus = (
        kk._mu(kk._solve(f, z, m, "complex", cap, True)[1])
        for m in range(m_max, 0, -1)
    )
    m_bad = next((m_max - i for i, mu in enumerate(mus) if mu >= C), 0)
    return 1 if m_bad == 0 else min(m_bad + 1, m_max)


def _population() -> list[eisfit.Spectrum]:
    rng = np.random.default_rng(11)
    spectra = [synthetic(rng, drift) for drift in (0.0, 0.0, 0.0, 0.1, 0.3, 0.0, 0.2)]
    # a blocking cell (capacitive tail: a series C column)
    f = np.logspace(7, -1, 81)
    z = eisfit.Circuit("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3").impedance(
        f, [20, 300, 1e-11, 0.95, 2e3, 1e-9, 0.85, 3e-6, 0.8]
    )
    spectra.append(eisfit.Spectrum(f, z * (1 + 0.004 * rng.standard_normal(f.size))))
    # few points over many decades: M up to 1.5x the points
    f = np.logspace(9, -5, 14)
    z = eisfit.Circuit("R0-p(R1,C1)-p(R2,C2)").impedance(f, [5, 1e3, 1e-9, 1e4, 1e-5])
    spectra.append(eisfit.Spectrum(f, z))
    # 50 points over a decade and a half: 50 elements, a chain too dense for the normal
    # equations to factor at its densest
    f = np.logspace(4, 2.5, 50)
    z = eisfit.Circuit("R0-p(R1,CPE1)").impedance(f, [5, 1e3, 1e-7, 0.9])
    spectra.append(eisfit.Spectrum(f, z * (1 + 0.002 * rng.standard_normal(f.size))))
    return spectra


POPULATION = _population()


@pytest.mark.parametrize("index", range(len(POPULATION)))
def test_every_engine_chooses_the_qr_walks_m(index: int) -> None:
    s = POPULATION[index]
    expected = _qr_walk(s)
    chosen = {}
    for on in (False, True):
        with compiled.use(on):
            chosen[on] = kk.kramers_kronig(s).n_elements
    assert chosen[False] == expected
    if compiled.available():
        assert chosen[True] == expected


def test_normal_equations_match_qr_mu() -> None:
    s = POPULATION[0]
    f, z = np.asarray(s.frequency), np.asarray(s.z)
    for m in (1, 5, 20, 40):
        qr = kk._mu(kk._solve(f, z, m, "complex", False, True)[1])
        assert kk.mu_normal(f, z, m, False, True) == pytest.approx(qr, abs=1e-6)


def test_breakdown_is_reported_not_guessed() -> None:
    # the densest chain of the dense, narrow spectrum cannot be factored: NaN, never a number
    s = POPULATION[-1]
    f, z = np.asarray(s.frequency), np.asarray(s.z)
    m_max = kk.default_max_elements(f)
    assert np.isnan(kk.mu_normal(f, z, m_max, False, True))


def test_engines_give_identical_results() -> None:
    for s in POPULATION:
        with compiled.use(False):
            a = kk.kramers_kronig(s)
        with compiled.use(True):
            b = kk.kramers_kronig(s)
        assert a.n_elements == b.n_elements
        np.testing.assert_array_equal(a.z_fit, b.z_fit)
        assert a.passed == b.passed
