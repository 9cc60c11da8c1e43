"""``eisfit.fitting.batch.fit_many``: order, streaming, failures and the Dask client checks.

Spectra come from :func:`eisfit.model.synthetic.blocking_cell` with known resistances; the checks
are
that every outcome belongs to its input, that the bulk and grain-boundary resistances come back
near the truth, that processes give the same numbers as one process, and that the input is
consumed lazily (at most ``2 * workers`` spectra ahead of the results).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from eisfit.exceptions import EisfitError
from eisfit.fitting.batch import Failure, dask_client, fit_many
from eisfit.io.spectrum import Spectrum
from eisfit.model.synthetic import blocking_cell


def _cells(n: int, seed: int = 7) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        c = blocking_cell(rng, noise=0.002)
        m = dict(c.spectrum.meta)
        m["label"] = f"cell{k}"
        out.append((Spectrum(c.spectrum.frequency, c.spectrum.z, m), c.resistances))
    return out


CELLS = _cells(6)
SPECTRA = [s for s, _ in CELLS]


def _json(outcomes: list) -> str:
    return json.dumps([o.to_dict() for o in outcomes], sort_keys=True)


class Counting:
    """An iterable that records how many spectra were taken from it."""

    def __init__(self, spectra: list[Spectrum]) -> None:
        self.spectra = spectra
        self.taken = 0

    def __iter__(self) -> Iterator[Spectrum]:
        for s in self.spectra:
            self.taken += 1
            yield s


def test_one_process_order_and_truth() -> None:
    out = list(fit_many(SPECTRA, "blocking"))
    assert [o.spectrum.meta["label"] for o in out] == [f"cell{k}" for k in range(len(CELLS))]
    ok = 0
    for o, (_, truth) in zip(out, CELLS, strict=True):
        got = o.resistances
        ok += all(abs(got[k] / truth[k] - 1) < 0.05 for k in ("bulk", "grain_boundary"))
    assert ok >= len(CELLS) - 1  # at 1 % noise most blocking cells come back


def test_two_processes_identical_to_one() -> None:
    one = list(fit_many(SPECTRA, "blocking", workers=1))
    two = list(fit_many(SPECTRA, "blocking", workers=2))
    assert _json(one) == _json(two)


@pytest.mark.parametrize(("workers", "stack"), [(1, 1), (2, 1), (1, 4), (2, 4)])
def test_input_is_consumed_lazily(workers: int, stack: int) -> None:
    many = SPECTRA * 3
    src = Counting(many)
    it = fit_many(src, "R0-p(R1,CPE1)", workers=workers, stack=stack)
    first = next(it)
    assert not isinstance(first, Failure)
    # at most two stacks per worker are in flight
    assert src.taken <= 2 * workers * stack
    rest = list(it)
    assert src.taken == len(many) == len(rest) + 1


def test_failures_are_one_line_and_keep_the_label() -> None:
    out = list(fit_many(SPECTRA[:2], "R0-p(R1,CPE1"))
    assert [o.source for o in out] == ["cell0", "cell1"]
    assert all(isinstance(o, Failure) and "\n" not in o.error for o in out)
    assert out[0].to_dict() == {"source": "cell0", "error": out[0].error}


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_bad_workers(workers: object) -> None:
    with pytest.raises(EisfitError, match="workers must be a positive integer"):
        list(fit_many(SPECTRA, workers=workers))


def test_client_must_be_a_client_or_address() -> None:
    with pytest.raises(EisfitError, match="client must be a dask.distributed.Client"):
        list(fit_many(SPECTRA, client=42))


def test_dask_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(EisfitError, match=r"pip install 'eisfit\[dask\]'"):
        dask_client("tcp://127.0.0.1:8786")
    with pytest.raises(EisfitError, match=r"eisfit\[dask\]"):
        list(fit_many(SPECTRA, client="tcp://127.0.0.1:8786"))
