"""What a streamed series keeps of each fit, made where it was fitted (eisfit.series.digest):
the batch JSON text and the checks' numbers are those the fit itself gives."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

import eisfit
from eisfit.fitting.batch import read_and_fit
from eisfit.model.synthetic import blocking_cell
from eisfit.series.checks import Facts, fact_numbers
from eisfit.series.digest import digest_fit, from_intercept, spectrum_text
from eisfit.series.json_text import item_texts, object_text
from eisfit.series.temperature import fit_series

GEOMETRY = {"thickness": "1 mm", "diameter": "10 mm"}


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(11)
    return [eisfit.fit(blocking_cell(rng).spectrum, "blocking", kk=True) for _ in range(3)]


def _dumps(obj, level: int) -> str:
    """The standard library's indented JSON of ``obj`` nested ``level`` deep."""
    return json.dumps(obj, indent=2, allow_nan=True).replace("\n", "\n" + "  " * level)


def _expected(result, geometry, temperature_K: float) -> str:
    """The standard library's text of a fit's object in the batch JSON."""
    d = result.to_dict(geometry)
    d["temperature_K"] = temperature_K
    d["from_intercept"] = from_intercept(result)
    d["warnings"] = list(result.warnings)
    return _dumps(d, 2)


def _write_csv(path, spectrum):
    rows = [f"{f:.9E},{z.real:.9E},{-z.imag:.9E}"
            for f, z in zip(spectrum.frequency, spectrum.z, strict=True)]
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + "\n".join(rows) + "\n")
    return path


class _Word(str):
    """A str subclass (as a finding is)."""


@pytest.mark.parametrize("level", [0, 2, 3])
def test_item_texts_make_the_standard_librarys_text(level):
    obj = {"a": 1.5, "nan": math.nan, "inf": -math.inf, "n": 3, "yes": True, "none": None,
           "s": "Ω ohm \"q\"", "word": _Word("kk_fails"), "empty": [], "nothing": {},
           "nested": {"x": [1.0, {"y": [None, "z"]}], "1": 2}, "t": (1, 2.5)}
    items = item_texts(obj, True, level)
    assert list(items) == list(obj)
    assert object_text(items.values(), level) == _dumps(obj, level)


def test_spectrum_text_is_the_fits_object_at_the_series_temperature(fits):
    geometry = eisfit.Geometry(**GEOMETRY)
    for r in fits:
        for geo in (None, geometry):
            digest = pickle.loads(pickle.dumps(digest_fit(r, geo)))  # as a worker sends it
            assert spectrum_text(pickle.loads(digest.items), 298.15) == _expected(r, geo, 298.15)


def test_fact_numbers_are_the_fits_numbers(fits):
    by_result, by_numbers = Facts([300.0] * len(fits)), Facts([300.0] * len(fits))
    for i, r in enumerate(fits):
        by_result.set(i, r)
        numbers = fact_numbers(r)
        by_numbers.set_numbers(i, numbers)
        resistances, stderrs, capacitances, kk, _ = numbers
        assert resistances == {k: float(v) for k, v in r.resistances.items() if v > 0}
        assert set(stderrs) == set(resistances)
        assert capacitances == {k: float(v) for k, v in r.capacitances.items()}
        assert kk == any(getattr(w, "code", None) == "kk_fails" for w in r.warnings)
    for table in ("r", "se", "c"):
        a, b = getattr(by_result, table), getattr(by_numbers, table)
        assert list(a) == list(b)
        for role in a:
            np.testing.assert_array_equal(a[role], b[role])
    np.testing.assert_array_equal(by_result.kk, by_numbers.kk)


def _read(path):
    return path, [eisfit.read(path)]


def _broken_digest(result):
    raise ValueError("no digest")


def test_read_and_fit_sends_each_result_with_its_digest(tmp_path, fits):
    paths = []
    for k, r in enumerate(fits):
        paths.append(_write_csv(tmp_path / f"cell{k}_{300 + k}K.csv", r.spectrum))
    spec = eisfit.FitSpec("blocking")
    for read in read_and_fit(paths, _read, spec, pickled=True, digest=digest_fit):
        (blob, digest), = read.outcomes
        result = pickle.loads(blob)
        assert digest.chi_square == result.chi_square
        assert spectrum_text(pickle.loads(digest.items), 300.0) == _expected(result, None, 300.0)
    for read in read_and_fit(paths[:1], _read, spec, digest=_broken_digest):
        (result, digest), = read.outcomes
        assert digest is None and result.chi_square > 0  # the caller reads the result instead


def test_streamed_series_writes_from_digests_what_its_results_give(tmp_path):
    rng = np.random.default_rng(5)
    for k, t in enumerate((250.0, 270.0, 290.0, 290.0, 310.0)):  # two at 290 K
        _write_csv(tmp_path / f"cell{k}_{t:.1f}K.csv", blocking_cell(rng).spectrum)
    series = fit_series(tmp_path, geometry=eisfit.Geometry(**GEOMETRY), kk=True, stream=True)
    assert series._usable_digests() is not None
    text = "".join(series.json_chunks(allow_nan=True))
    assert text == json.dumps(series.to_dict(), indent=2, allow_nan=True)  # read from results
    assert "same temperature" in text
    series.geometry = None  # the digests no longer hold: the results are read
    assert series._usable_digests() is None
    text = "".join(series.json_chunks(allow_nan=True))
    assert text == json.dumps(series.to_dict(), indent=2, allow_nan=True)
    assert "conductivity_S_per_cm" not in text
