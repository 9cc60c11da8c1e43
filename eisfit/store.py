"""Fit results kept on disk: a sequence that holds thousands of results in little memory.

A :class:`ResultStore` pickles each :class:`~eisfit.fitting.result.FitResult` (or any picklable
object)
into an anonymous temporary file as it is appended, and keeps only each item's byte offset and
length in memory (16 bytes per result). Reading an item unpickles it from the file; iterating
reads one item at a time, so a batch of 10,000 fits (about 15 KB each in memory) costs a few
hundred KB of RAM instead of about 150 MB. The file is removed by the operating system when
the store is closed or garbage-collected, or when the process ends.

:func:`eisfit.fit_series` fills one when asked to stream (``stream=True``, what ``eisfit batch``
does); :class:`~eisfit.series.temperature.Series` then holds a :class:`ResultView` of it in
temperature
order.

>>> from eisfit.store import ResultStore
>>> store = ResultStore()
>>> for x in ({"R": 1.0}, {"R": 2.0}, {"R": 3.0}):
...     store.append(x)
>>> len(store), store[-1]
(3, {'R': 3.0})
>>> [d["R"] for d in store.view([2, 0, 1])]
[3.0, 1.0, 2.0]

Each item read is a new object: change one and the store keeps the original. Pickling or
copying a store copies its file (the copy owns its own); a view pickles or copies as a view of
such a copy.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

__all__ = ["ResultStore", "ResultView"]


def _position(index: int, n: int) -> int:
    """``index`` (negative counts from the end) as a position in ``range(n)``.

    Raises
    ------
    IndexError
        ``index`` out of range.
    """
    i = int(index)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"index {index} out of range for {n} results")
    return i


class _StoredItems(Sequence[Any]):
    """Reading shared by :class:`ResultStore` and :class:`ResultView`: the items of a store at
    some of its positions (:meth:`_store_and_positions`), read only when asked for."""

    def _store_and_positions(self) -> tuple[ResultStore, Sequence[int]]:
        """The store read from, and the position in it of each item, in order."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._store_and_positions()[1])

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> ResultView: ...

    def __getitem__(self, index: int | slice) -> Any:
        store, positions = self._store_and_positions()
        if isinstance(index, slice):
            return ResultView(store, positions[index])
        return store._read(positions[_position(index, len(positions))])

    def __iter__(self) -> Iterator[Any]:
        store, positions = self._store_and_positions()
        for i in positions:
            yield store._read(i)

    def view(self, indices: Iterable[int]) -> ResultView:
        """The items at ``indices`` (in that order, negative counting from the end), without
        reading them: e.g. the results sorted by temperature.

        Raises
        ------
        IndexError
            An index out of range.
        """
        store, positions = self._store_and_positions()
        n = len(positions)
        return ResultView(store, (positions[_position(k, n)] for k in indices))


class ResultStore(_StoredItems):
    """An append-only sequence of picklable objects kept in an anonymous temporary file.

    Only the byte offset and length of each item stay in memory (16 bytes per item). Items
    are appended until :meth:`seal`; afterwards the store is read-only. :meth:`replace` swaps
    one item before sealing by appending the new one to the file and pointing the index at it.

    Supports ``len``, indexing with an int (negative counts from the end) or a slice (a
    :class:`ResultView`, nothing is read), and iteration (one item in memory at a time).
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._file: Any = tempfile.TemporaryFile(prefix="eisfit-results-")
        self._end = 0  # file size in bytes
        self._offsets = array("q")  # byte offset of each item
        self._sizes = array("q")  # byte length of each item
        self._sealed = False
        self._lock = threading.Lock()
        for item in items:
            self.append(item)

    # ------------------------------------------------------------------ filling
    def _write(self, obj: Any, pickled: bool = False) -> tuple[int, int]:
        """Pickle ``obj`` (already a pickle when ``pickled``) to the end of the file; its
        (offset, length) in bytes."""
        if self._sealed:
            raise TypeError("this ResultStore is sealed (read-only)")
        if self._file is None:
            raise ValueError("this ResultStore is closed")
        blob = obj if pickled else pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            start = self._end
            self._file.seek(start)
            self._file.write(blob)
            self._end = start + len(blob)
        return start, len(blob)

    def _append(self, obj: Any, pickled: bool = False) -> None:
        start, size = self._write(obj, pickled)
        self._offsets.append(start)
        self._sizes.append(size)

    def append(self, obj: Any) -> None:
        """Pickle ``obj`` to the end of the file.

        Raises
        ------
        TypeError
            After :meth:`seal`, or when ``obj`` cannot be pickled.
        ValueError
            After :meth:`close`.
        """
        self._append(obj)

    def append_pickled(self, blob: bytes) -> None:
        """Append an item given as its pickle (``pickle.dumps(obj,
        protocol=pickle.HIGHEST_PROTOCOL)``, made elsewhere: a worker process), without
        unpickling it here.

        Raises
        ------
        TypeError
            After :meth:`seal`, or when ``blob`` is not bytes.
        ValueError
            After :meth:`close`.
        """
        if not isinstance(blob, bytes):
            raise TypeError(f"append_pickled takes bytes, got {type(blob).__name__}")
        self._append(blob, pickled=True)

    def extend(self, objs: Iterable[Any]) -> None:
        """:meth:`append` every object of ``objs``, one at a time."""
        for obj in objs:
            self.append(obj)

    def replace(self, index: int, obj: Any) -> None:
        """Make item ``index`` (negative counts from the end) ``obj`` (before :meth:`seal`).

        The new pickle goes to the end of the file; the old bytes stay there unused.
        """
        i = _position(index, len(self._offsets))
        start, size = self._write(obj)
        self._offsets[i] = start
        self._sizes[i] = size

    def seal(self) -> ResultStore:
        """Refuse further :meth:`append` and :meth:`replace`; returns the store itself."""
        self._sealed = True
        if self._file is not None:
            with self._lock:
                self._file.flush()
        return self

    @property
    def sealed(self) -> bool:
        """True once :meth:`seal` was called."""
        return self._sealed

    @property
    def nbytes(self) -> int:
        """Size of the temporary file in bytes (replaced items included)."""
        return self._end

    # ------------------------------------------------------------------ reading
    def _store_and_positions(self) -> tuple[ResultStore, Sequence[int]]:
        return self, range(len(self._offsets))

    def __len__(self) -> int:
        return len(self._offsets)

    def _blob(self, i: int) -> bytes:
        """The pickle of item ``i`` (0 <= i < len)."""
        if self._file is None:
            raise ValueError("this ResultStore is closed")
        with self._lock:
            self._file.seek(self._offsets[i])
            return self._file.read(self._sizes[i])

    def _read(self, i: int) -> Any:
        return pickle.loads(self._blob(i))

    def __repr__(self) -> str:
        state = "closed" if self._file is None else ("sealed" if self._sealed else "open")
        return f"<ResultStore {len(self)} items, {self._end} bytes on disk, {state}>"

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close and so delete the temporary file; reading afterwards raises ValueError."""
        f, self._file = self._file, None
        if f is not None:
            f.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # ------------------------------------------------------------------ copies
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle (and ``copy``) as the items' bytes: the copy owns a new temporary file."""
        if self._file is None:
            raise ValueError("a closed ResultStore cannot be pickled or copied")
        return _restore_store, ([self._blob(i) for i in range(len(self))], self._sealed)


def _restore_store(blobs: list[bytes], sealed: bool) -> ResultStore:
    store = ResultStore()
    for blob in blobs:
        store._append(blob, pickled=True)
    return store.seal() if sealed else store


class ResultView(_StoredItems):
    """Some items of a :class:`ResultStore` in a given order, read only when asked for.

    Made by :meth:`ResultStore.view` or by slicing; slicing a view gives a view. The view keeps
    its store open; it sees the store's items as they are when read (a later
    :meth:`ResultStore.replace` shows through).
    """

    def __init__(self, store: ResultStore, indices: Iterable[int]) -> None:
        n = len(store)
        self._store = store
        self._indices = array("q", (_position(k, n) for k in indices))

    @property
    def store(self) -> ResultStore:
        """The store the items are read from."""
        return self._store

    @property
    def indices(self) -> tuple[int, ...]:
        """Position in :attr:`store` of each item of the view."""
        return tuple(self._indices)

    def _store_and_positions(self) -> tuple[ResultStore, Sequence[int]]:
        return self._store, self._indices

    def __repr__(self) -> str:
        return f"<ResultView {len(self)} of {len(self._store)} items>"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return ResultView, (self._store, list(self._indices))
