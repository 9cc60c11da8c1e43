"""Inputs read where they are fitted (:func:`eisfit.fitting.batch.read_and_fit`), the FitSpec
sent whole to the workers, and the streamed series that reads its files in the workers."""

from __future__ import annotations

import json
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from eisfit.exceptions import ArgumentError
from eisfit.fitting.batch import LOST, Failure, Read, fit_many, read_and_fit
from eisfit.fitting.result import FitResult
from eisfit.fitting.spec import FitSpec
from eisfit.model.synthetic import blocking_cell
from eisfit.series.temperature import _json_text, fit_series
from eisfit.store import ResultStore

SPECTRA = [
    blocking_cell(np.random.default_rng(k), noise=0.002).spectrum.with_meta(label=f"cell{k}")
    for k in range(5)
]


class DiesOnArrival:
    """Unpickled in a worker, it ends that process at once."""

    def __reduce__(self) -> tuple:
        return (os._exit, (3,))


def read_cells(job: int) -> tuple[str, list]:
    """A reader: job k gives k % 3 of the cells (none for k = 0, 3), and says so."""
    got = [SPECTRA[(job + i) % len(SPECTRA)] for i in range(job % 3)]
    return f"job {job}: {len(got)}", got


def _key(out: FitResult | Failure) -> str:
    return out.error if isinstance(out, Failure) else json.dumps(out.resistances)


@pytest.mark.parametrize("workers", [1, 2])
def test_read_and_fit_keeps_order_and_splits_each_stack(workers):
    spec = FitSpec("blocking")
    reads = list(read_and_fit(range(7), read_cells, spec, workers=workers, stack=3))
    assert [r.job for r in reads] == list(range(7))
    assert [r.info for r in reads] == [read_cells(k)[0] for k in range(7)]
    assert [len(r.outcomes) for r in reads] == [k % 3 for k in range(7)]
    alone = {s.meta["label"]: _key(r) for s, r in zip(SPECTRA, fit_many(SPECTRA), strict=True)}
    for r in reads:
        assert r.error is None
        labels = [s.meta["label"] for s in read_cells(r.job)[1]]
        assert [_key(o) for o in r.outcomes] == [alone[lab] for lab in labels]
        assert all(o.spec == spec for o in r.outcomes)


def test_read_and_fit_pickled_results_go_to_a_store_as_they_are():
    reads = list(read_and_fit([1, 2], read_cells, FitSpec("blocking"), pickled=True))
    blobs = [o for r in reads for o in r.outcomes]
    assert all(isinstance(b, bytes) for b in blobs)
    store = ResultStore()
    for b in blobs:
        store.append_pickled(b)
    assert [_key(r) for r in store] == [_key(pickle.loads(b)) for b in blobs]
    with pytest.raises(TypeError):
        store.append_pickled("not bytes")  # type: ignore[arg-type]


def test_read_and_fit_lost_inputs_carry_the_reason():
    notes: list[str] = []
    jobs = [1, DiesOnArrival(), 2]
    reads = list(read_and_fit(jobs, read_cells, FitSpec("blocking"), workers=2, stack=1,
                              notes=notes))
    assert [r.error is None for r in reads] == [True, False, True]
    assert reads[1].error.startswith(LOST) and reads[1].outcomes == []
    assert len(reads[0].outcomes) == 1 and len(reads[2].outcomes) == 2
    assert len(notes) == 1 and "listed under failures" in notes[0]
    assert isinstance(reads[0], Read)


def test_fit_many_takes_a_spec_whole():
    spec = FitSpec("blocking", external_resistance=1.5, kk=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = list(fit_many(SPECTRA[:3], spec=spec, workers=2, stack=2))
        keywords = list(fit_many(SPECTRA[:3], "blocking", external_resistance=1.5, kk=True))
    assert [_key(r) for r in given] == [_key(r) for r in keywords]
    assert all(r.spec == spec for r in given)
    with pytest.raises(ArgumentError, match="not both"):
        list(fit_many(SPECTRA[:1], spec=spec, kk=True))
    with pytest.raises(ArgumentError, match="FitSpec"):
        list(fit_many(SPECTRA[:1], spec={"circuit": "blocking"}))


def _write(path: Path, spectrum) -> Path:
    rows = "\n".join(f"{f:.9e},{z.real:.9e},{-z.imag:.9e}"
                     for f, z in zip(spectrum.frequency, spectrum.z, strict=True))
    path.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n" + rows + "\n")
    return path


def test_streamed_series_of_files_read_in_workers_lists_failures_in_order(tmp_path):
    files = [_write(tmp_path / f"cell{k}_{20 + 10 * k}C.csv", s) for k, s in enumerate(SPECTRA)]
    bad = tmp_path / "broken_25C.csv"
    bad.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1e6,12,abc\n")
    items = [files[0], bad, *files[1:]]
    mem = fit_series(items, workers=1, neighbours=False)
    for workers in (1, 2):
        streamed = fit_series(items, workers=workers, neighbours=False, stream=True)
        assert streamed.labels == mem.labels and streamed.failures == mem.failures
        assert [f["source"] for f in streamed.failures] == ["broken_25C.csv"]
        assert "".join(streamed.json_chunks()) == "".join(mem.json_chunks())


@pytest.mark.parametrize("obj", [
    {}, [], {"a": [], "b": {}}, [1, [2.5, []], {"k": None, "t": True, "f": False}],
    {3: 2, 2.5: True, None: 'é\n"', True: [1.5e300, -0.0, 1e-7], False: 1},
    {"nan": float("nan"), "inf": [float("inf"), -float("inf")]}, (1, (2,)), "s", 10**30,
    {"n": np.float64(1.25)},
])
@pytest.mark.parametrize("level", [0, 2])
def test_json_text_is_json_dumps_text(obj, level):
    expected = json.dumps(obj, indent=2, allow_nan=True).replace("\n", "\n" + "  " * level)
    assert _json_text(obj, True, level) == expected


def test_json_text_refuses_what_json_dumps_refuses():
    with pytest.raises(ValueError, match="not JSON compliant"):
        _json_text([float("nan")], False)
    with pytest.raises(TypeError, match="not JSON serializable"):
        _json_text({"i": np.int64(3)}, True)
