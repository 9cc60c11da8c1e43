"""ResultStore: fit results pickled to a temporary file, read back on demand."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Sequence

import numpy as np
import pytest

import eisfit
from eisfit.model.synthetic import blocking_cell
from eisfit.store import ResultStore, ResultView


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(3)
    return [eisfit.fit(blocking_cell(rng).spectrum, "blocking") for _ in range(4)]


def _text(result) -> str:
    return json.dumps(result.to_dict(eisfit.Geometry(thickness="1 mm", diameter="10 mm")),
                      allow_nan=True, sort_keys=True)


def test_fit_results_round_trip(fits):
    store = ResultStore(fits)
    assert len(store) == len(fits)
    assert [_text(r) for r in store] == [_text(r) for r in fits]
    assert _text(store[-1]) == _text(fits[-1])
    back = store[2]
    assert back is not fits[2] and back.values == fits[2].values
    np.testing.assert_array_equal(back.residuals(), fits[2].residuals())
    assert back.circuit is store[1].circuit  # unpickled results share their circuit


@pytest.mark.parametrize("n", [0, 1, 7])
def test_indexing_slicing_and_iteration_match_a_list(n):
    items = [{"k": i, "a": list(range(i))} for i in range(n)]
    store = ResultStore()
    store.extend(items)
    assert isinstance(store, Sequence)
    assert len(store) == n and list(store) == items
    for i in range(-n, n):
        assert store[i] == items[i]
    for bad in (n, -n - 1):
        with pytest.raises(IndexError):
            store[bad]
    for sl in (slice(None), slice(1, None), slice(None, None, -1), slice(-3, None, 2),
               slice(5, 1, -2), slice(2, 2)):
        view = store[sl]
        assert isinstance(view, ResultView)
        assert list(view) == items[sl] and len(view) == len(items[sl])
        assert list(view[::-1]) == items[sl][::-1]
    if n:
        assert items[n - 1] in store and store.index(items[n - 1]) == n - 1
        assert list(reversed(store)) == items[::-1]


def test_views_reorder_without_reading(fits):
    store = ResultStore(range(10))
    order = [3, 1, -1, 0]
    view = store.view(order)
    assert list(view) == [3, 1, 9, 0] and view[-2] == 9 and view.indices == (3, 1, 9, 0)
    assert list(view.view([2, 0])) == [9, 3] and list(view[1:3]) == [1, 9]
    assert list(view.view([-1])) == [0]
    with pytest.raises(IndexError):
        store.view([10])
    with pytest.raises(IndexError):
        view.view([4])
    with pytest.raises(IndexError):
        view[-5]
    sorted_fits = ResultStore(fits).view(np.argsort([r.chi_square for r in fits]))
    assert [r.chi_square for r in sorted_fits] == sorted(r.chi_square for r in fits)


def test_replace_seal_and_close():
    store = ResultStore(["a", "b", "c"])
    view = store.view([2, 1])
    store.replace(-1, "C")
    assert list(store) == ["a", "b", "C"] and list(view) == ["C", "b"]
    assert store.seal() is store and store.sealed
    with pytest.raises(TypeError, match="sealed"):
        store.append("d")
    with pytest.raises(TypeError, match="sealed"):
        store.replace(0, "A")
    with pytest.raises(IndexError):
        ResultStore().replace(0, "x")
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(ValueError, match="closed"):
        store[0]
    with pytest.raises(ValueError, match="closed"):
        pickle.dumps(store)
    with ResultStore(["x"]) as s:
        assert s[0] == "x"
    with pytest.raises(ValueError, match="closed"):
        list(s)


def test_items_read_are_copies():
    store = ResultStore([{"R": 1.0}])
    store[0]["R"] = 2.0
    assert store[0] == {"R": 1.0}


def test_pickle_and_copies_own_their_file(fits):
    store = ResultStore(fits[:2])
    store.replace(0, fits[3])
    for clone in (pickle.loads(pickle.dumps(store)), copy.copy(store), copy.deepcopy(store)):
        assert clone is not store and clone.sealed == store.sealed
        assert [_text(r) for r in clone] == [_text(fits[3]), _text(fits[1])]
        assert clone.nbytes < store.nbytes  # only the items in use are copied
    sealed = copy.deepcopy(store.seal())
    store.close()
    assert sealed.sealed and len(sealed) == 2 and _text(sealed[1]) == _text(fits[1])
    view = pickle.loads(pickle.dumps(sealed.view([1, 0])))
    assert isinstance(view, ResultView) and view.store is not sealed
    assert [_text(r) for r in view] == [_text(fits[1]), _text(fits[3])]
    assert copy.copy(view).store is view.store


def test_unpicklable_item_is_refused():
    store = ResultStore()
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        store.append(lambda x: x)
    assert len(store) == 0
    store.append(1)
    assert list(store) == [1]
