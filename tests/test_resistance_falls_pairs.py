"""The 'resistance falls with T' check against the definition, every pair compared.

:func:`eisfit.series.checks.resistance_falls` compares points one at a time and only those that
can conflict; here the same rule is written directly from its docstring as a matrix of every
pair (conflicts, longest consistent runs before and after each point, the nearest conflicting
point named in the reason) and both must flag the same points for the same reasons.
"""

from __future__ import annotations

import numpy as np
import pytest

from eisfit.series.checks import RISE_FRACTION, RISE_SIGMAS, resistance_falls


def _by_every_pair(t, r, se, role="bulk"):
    """The rule on the matrix of all pairs (memory quadratic in the points)."""
    t, r, se = (np.asarray(x, float) for x in (t, r, se))
    have = np.flatnonzero(np.isfinite(r) & np.isfinite(t))
    if have.size < 2:
        return {}
    order = have[np.argsort(t[have], kind="stable")]
    tt, rr = t[order], r[order]
    ss = np.where(np.isfinite(se[order]), np.abs(se[order]), np.inf)
    m = order.size
    diff = rr[None, :] - rr[:, None]
    with np.errstate(invalid="ignore"):
        sigma = np.sqrt(ss[:, None] ** 2 + ss[None, :] ** 2)
        conflict = ((diff > RISE_SIGMAS * sigma) & (diff > RISE_FRACTION * np.abs(rr[:, None]))
                    & (tt[None, :] > tt[:, None]))
    if not conflict.any():
        return {}
    ok = ~(conflict | conflict.T)
    fwd, bwd = np.ones(m, int), np.ones(m, int)
    for k in range(1, m):
        if ok[:k, k].any():
            fwd[k] = 1 + fwd[:k][ok[:k, k]].max()
    for k in range(m - 2, -1, -1):
        if ok[k, k + 1:].any():
            bwd[k] = 1 + bwd[k + 1:][ok[k, k + 1:]].max()
    out = {}
    for k in np.flatnonzero(fwd + bwd - 1 < fwd.max()):
        others = np.flatnonzero(conflict[:, k] | conflict[k, :])
        j = others[np.argmin(np.abs(tt[others] - tt[k]))]
        out[int(order[k])] = (float(tt[k]), float(tt[j]))
    return out


def _series(rng, m):
    """Arrhenius-like resistances with noise from slight to wild, ties, gaps and bad errors."""
    t = rng.uniform(250, 350, m)
    if rng.random() < 0.4:
        t = np.round(t, 0)  # several spectra at one temperature
    r = 10 * np.exp(0.4 / 8.617e-5 * (1 / t - 1 / 300))
    r = r * (1 + rng.choice([0.02, 0.3, 2.0]) * rng.standard_normal(m))  # 2.0: some negative
    se = np.abs(r) * rng.uniform(0.001, 0.2, m)
    if m and rng.random() < 0.3:
        r[rng.integers(m)] = np.nan
    if m and rng.random() < 0.3:
        se[rng.integers(m)] = rng.choice([np.nan, np.inf])
    return t, r, se


@pytest.mark.parametrize("seed", range(6))
def test_the_same_points_are_flagged_as_by_every_pair(seed):
    rng = np.random.default_rng(seed)
    flagged = 0
    for _ in range(60):
        t, r, se = _series(rng, int(rng.integers(0, 60)))
        got = resistance_falls(t, r, se, "bulk")
        want = _by_every_pair(t, r, se)
        assert set(got) == set(want)
        for i, (tk, tj) in want.items():  # the reason names the same two temperatures
            assert f"at {tk:.2f} K is" in got[i] and f"that at {tj:.2f} K" in got[i]
        flagged += bool(want)
    assert flagged > 10  # the comparison is not only of empty answers


def test_a_long_series_with_many_conflicts():
    # 3,000 points, resistances unrelated to temperature: most points conflict
    rng = np.random.default_rng(7)
    t = np.linspace(250, 350, 3000)
    r = rng.uniform(1, 100, t.size)
    se = 0.01 * r
    got = resistance_falls(t, r, se)
    assert set(got) == set(_by_every_pair(t, r, se))
    assert len(got) > 1000
    assert resistance_falls(t, r, se) == got  # asked again: the same answer, a new dict
    assert resistance_falls(t, r, se) is not got
