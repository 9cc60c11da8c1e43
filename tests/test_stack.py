"""Fitting many spectra at once (``fit_stack``) against single fits and the known truth.

The stacked fit takes the same starting values and the same steps as :func:`eisfit.fit`, with a
Levenberg–Marquardt finish in place of the trust-region one: it must reach the same minimum
(χ² no worse), recover the synthetic truth as often, and give each spectrum a result that does
not depend on the other spectra in the stack.
"""

from __future__ import annotations

import numpy as np
import pytest

import eisfit
from eisfit.exceptions import EisfitError
from eisfit.fitting.batch import Failure
from eisfit.fitting.stack import fit_stack
from eisfit.io.spectrum import Spectrum
from eisfit.model.synthetic import blocking_cell, full_cell

BLOCKING = ("bulk", "grain_boundary")


def _within(result, truth, roles, tol=0.02) -> bool:
    return all(
        abs(result.resistances.get(k, np.nan) / truth.resistances[k] - 1) < tol for k in roles
    )


@pytest.fixture(scope="module")
def blocking_population():
    rng = np.random.default_rng(404)
    truths = [blocking_cell(rng) for _ in range(30)]
    single = [eisfit.fit(t.spectrum, "blocking") for t in truths]
    stacked = fit_stack([t.spectrum for t in truths], "blocking")
    return truths, single, stacked


def test_stack_reaches_the_single_fit_minimum(blocking_population):
    truths, single, stacked = blocking_population
    assert all(not isinstance(r, Failure) for r in stacked)
    ratio = np.array([b.chisqr / a.chisqr for a, b in zip(single, stacked, strict=True)])
    same = np.array([
        all(
            abs(b.resistances[k] / a.resistances[k] - 1) < 1e-3
            for k in BLOCKING
            if a.resistances.get(k)
        )
        for a, b in zip(single, stacked, strict=True)
    ])
    print(f"\nstack vs single: same resistances (0.1 %) {same.sum()}/{same.size}, "
          f"chi2 ratio max {ratio.max():.6f}")
    # the same minimum: never a worse χ² beyond rounding, and the same answer almost always
    assert ratio.max() < 1 + 1e-4
    assert same.mean() >= 0.9


@pytest.mark.population
def test_stack_recovers_the_truth_as_often_as_single_fits(blocking_population):
    truths, single, stacked = blocking_population
    ok_single = sum(_within(r, t, BLOCKING) for r, t in zip(single, truths, strict=True))
    ok_stack = sum(_within(r, t, BLOCKING) for r, t in zip(stacked, truths, strict=True))
    print(f"\nwithin 2 %: single {ok_single}/30, stacked {ok_stack}/30")
    assert ok_stack >= ok_single
    assert ok_stack >= 18  # not a vacuous comparison: most of the population is recovered


def test_result_does_not_depend_on_the_rest_of_the_stack():
    rng = np.random.default_rng(5)
    spectra = [blocking_cell(rng).spectrum for _ in range(5)]
    together = fit_stack(spectra, "blocking")
    alone = fit_stack([spectra[2]], "blocking")[0]
    reordered = fit_stack(spectra[::-1], "blocking")[::-1]
    for other in (alone, reordered[2]):
        assert together[2].values == other.values
        assert together[2].warnings == other.warnings
    assert [r.values for r in together] == [r.values for r in reordered]


def test_full_cells_stacked_like_single_fits():
    rng = np.random.default_rng(77)
    truths = [full_cell(rng) for _ in range(8)]
    single = [eisfit.fit(t.spectrum, "full-cell") for t in truths]
    stacked = fit_stack([t.spectrum for t in truths], "full-cell")
    for a, b, t in zip(single, stacked, truths, strict=True):
        assert b.chisqr <= a.chisqr * (1 + 1e-4)
        assert abs(b.resistances["electrolyte"] / t.resistances["electrolyte"] - 1) < 0.05
        got = b.resistances["anode_interface"] + b.resistances["cathode_interface"]
        want = t.resistances["anode_interface"] + t.resistances["cathode_interface"]
        assert abs(got / want - 1) < 0.02


def test_hidden_bulk_in_a_stack_comes_from_the_intercept():
    rng = np.random.default_rng(11)
    truths = [blocking_cell(rng, hidden_bulk=True) for _ in range(12)]
    stacked = fit_stack([t.spectrum for t in truths], "blocking")
    good = warned = 0
    for r, t in zip(stacked, truths, strict=True):
        # the intercept is series + bulk: compare the sum, as the external resistance is 0 here
        got = r.resistances["bulk"] + r.resistances.get("series", 0.0)
        good += abs(got / (t.resistances["bulk"] + t.resistances["series"]) - 1) < 0.03
        warned += any("above the highest measured frequency" in w for w in r.warnings)
    assert good >= 11
    assert warned >= 11


def test_mixed_lengths_and_a_bad_spectrum_keep_their_places():
    rng = np.random.default_rng(9)
    a = blocking_cell(rng).spectrum
    b = blocking_cell(rng, f_max=1e6).spectrum
    f = a.frequency
    inductive = Spectrum(f, 1e-6j * 2 * np.pi * f + 1.0, {"source": "inductive.csv"})
    out = fit_stack([a, inductive, b], "blocking")
    assert len(a) != len(b)
    assert isinstance(out[1], Failure)
    assert out[1].source == "inductive.csv"
    assert "inductive" in out[1].error
    for spectrum, result in ((a, out[0]), (b, out[2])):
        assert result.spectrum is spectrum or len(result.spectrum) == len(spectrum)
        single = eisfit.fit(spectrum, "blocking")
        assert result.chisqr <= single.chisqr * (1 + 1e-4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"circuit": "auto"}, "one circuit"),
        ({"circuit": "nonsense-cell"}, "nonsense-cell"),
        ({"weighting": "cubic"}, "cubic"),
        ({"external_resistance": -1.0}, "external_resistance"),
    ],
)
def test_mistakes_common_to_the_stack_raise_clear_errors(kwargs, message):
    s = blocking_cell(np.random.default_rng(1)).spectrum
    with pytest.raises(EisfitError, match=message):
        fit_stack([s], **kwargs)
