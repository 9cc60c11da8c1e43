"""Spectrum validation: every rejection names what was found."""

from __future__ import annotations

import numpy as np
import pytest

from eisfit.exceptions import SpectrumError
from eisfit.io.spectrum import Spectrum

F = np.logspace(5, 0, 11)
Z = 100 - 10j * np.ones(11)


def test_valid_spectrum_is_read_only_and_typed():
    s = Spectrum(F, Z, {"source": "x.mpt"}, temperature=298.15)
    assert s.frequency.dtype == np.float64 and s.z.dtype == np.complex128
    assert s.temperature == 298.15 and s.source == "x.mpt"
    with pytest.raises(ValueError):
        s.frequency[0] = 1.0
    assert "11 points" in repr(s)


@pytest.mark.parametrize(
    ("f", "z", "match"),
    [
        (F[:5], Z, "same length, got 5 and 11"),
        (F[:2], Z[:2], "at least 3 points, got 2"),
        (np.r_[F[:-1], np.nan], Z, r"frequency\[10\] is nan"),
        (np.r_[F[:-1], -1.0], Z, r"frequency\[10\] is -1.0 Hz: expected > 0"),
        (np.r_[F[:-1], 0.0], Z, r"frequency\[10\] is 0.0 Hz"),
        (F, np.r_[Z[:-1], np.inf], r"z\[10\] is"),
        (["a"] * 11, Z, "frequency must be numeric"),
    ],
)
def test_bad_arrays_are_rejected_with_what_was_found(f, z, match):
    with pytest.raises(SpectrumError, match=match):
        Spectrum(f, z, {"source": "cell.txt"})


def test_error_names_the_source():
    with pytest.raises(SpectrumError, match="^cell.txt: "):
        Spectrum(F[:2], Z[:2], {"source": "cell.txt"})


def test_bad_temperature():
    with pytest.raises(SpectrumError, match="temperature must be > 0 K"):
        Spectrum(F, Z, temperature=-5)


def test_crop_sort_and_inductive_points():
    z = Z.copy()
    z[:2] = 100 + 5j  # inductive at the two highest frequencies
    s = Spectrum(F[::-1], z[::-1])
    assert s.sorted().frequency[0] == F.max()
    trimmed = s.without_inductive()
    assert len(trimmed) == 9 and np.all(trimmed.z.imag < 0)
    assert len(s.crop(fmin=10, fmax=1e4)) == 7  # 10, 31.6, ... 1e4 Hz: half-decade steps


def test_spectrum_pickles_with_its_metadata():
    import pickle

    s = Spectrum(F, Z, {"source": "x.mpt", "cycle": 2}, temperature=300.0)
    t = pickle.loads(pickle.dumps(s))
    assert np.array_equal(t.frequency, s.frequency) and np.array_equal(t.z, s.z)
    assert dict(t.meta) == dict(s.meta)
