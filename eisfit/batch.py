"""Running many independent fits: in this process, in a pool of worker processes, or on Dask.

:func:`fit_many` yields one outcome per spectrum, in input order, whatever the number of
workers: a :class:`~eisfit.result.FitResult`, or a :class:`Failure` with a one-line reason. The
fits are independent, so ``workers=N`` (or a Dask cluster) gives results identical to
``workers=1``. Spectra go to the workers in stacks of ``stack`` (default
:data:`STACK`), each fitted at once by :func:`eisfit.stack.fit_stack`; the stacks are cut from
the input in order whatever the number of workers, so results do not depend on it. Results are
streamed: at most ``2 * workers`` stacks (twice the cluster's threads on Dask) are in flight, so
a long batch never holds more than the caller keeps.

The Dask backend (``client=``) needs the optional extra ``eisfit[dask]``
(``dask[distributed]``); it is imported only when used.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from .exceptions import EisfitError
from .result import FitResult
from .spectrum import Spectrum

__all__ = ["Failure", "fit_many", "default_workers", "dask_client", "STACK"]

#: What to install for the Dask backend.
DASK_EXTRA = "pip install 'eisfit[dask]'"
#: Spectra fitted together in one stack (see :func:`eisfit.stack.fit_stack`).
STACK = 64


@dataclass(frozen=True)
class Failure:
    """A spectrum that could not be read or fitted.

    Attributes
    ----------
    source
        The file (or label) of the spectrum.
    error
        One-line reason.
    """

    source: str
    error: str

    def to_dict(self) -> dict[str, str]:
        """``{"source": ..., "error": ...}`` as in the batch JSON's ``failures``."""
        return {"source": self.source, "error": self.error}


def one_line(exc: BaseException) -> str:
    """A one-line reason for an exception (its message; the type for unexpected errors)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, EisfitError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def label_of(spectrum: Any) -> str:
    """What a batch calls a spectrum in its outcomes: its label, else its file, else
    ``"spectrum"``."""
    if not isinstance(spectrum, Spectrum):
        return "spectrum"
    return str(spectrum.meta.get("label") or spectrum.source or "spectrum")


def default_workers() -> int:
    """The number of CPU cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _fit_one(spectrum: Spectrum, kwargs: dict[str, Any]) -> FitResult | Failure:
    from .fitting import fit

    try:
        return fit(spectrum, **kwargs)
    except Exception as exc:  # one bad spectrum must not stop a batch
        return Failure(label_of(spectrum), one_line(exc))


def _fit_chunk(spectra: list[Spectrum], kwargs: dict[str, Any]) -> list[FitResult | Failure]:
    """Fit a stack of spectra: at once when there are several, else one by one.

    BLAS runs one thread: the workers are the parallelism, and the matrices are small.
    """
    from .guess import single_threaded_blas
    from .stack import fit_stack

    with single_threaded_blas():
        if len(spectra) == 1 or kwargs["circuit"] == "auto":
            return [_fit_one(s, kwargs) for s in spectra]
        try:
            return fit_stack(spectra, **kwargs)
        except Exception as exc:  # a mistake common to the stack: each spectrum reports it
            return [Failure(label_of(s), one_line(exc)) for s in spectra]


def _chunks(spectra: Iterable[Spectrum], size: int) -> Iterator[list[Spectrum]]:
    it = iter(spectra)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def fit_many(
    spectra: Iterable[Spectrum],
    circuit: Any = "blocking",
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    workers: int = 1,
    client: Any = None,
    kk: bool = False,
    stack: int = STACK,
) -> Iterator[FitResult | Failure]:
    """Fit every spectrum independently; yield the outcomes in input order.

    Parameters
    ----------
    spectra
        The spectra (any iterable; consumed lazily).
    circuit
        Named circuit or circuit string, as for :func:`eisfit.fit`.
    weighting
        ``"modulus"``, ``"proportional"`` or ``"unit"``.
    external_resistance
        Cables and cell hardware in Ohm, subtracted from a high-frequency intercept.
    workers
        Number of processes; 1 (default) fits in this process. Ignored when ``client`` is
        given.
    kk
        Run the Kramers–Kronig check on each spectrum and warn on those that fail it.
    client
        A ``dask.distributed.Client`` (or a scheduler address such as
        ``"tcp://10.0.0.5:8786"``, for which a client is opened and closed here): the fits run
        on that cluster's workers, which need eisfit installed. Needs ``eisfit[dask]``.
    stack
        Spectra fitted together by :func:`eisfit.stack.fit_stack` (one vectorised solve for
        all their starting values); 1 fits each spectrum with :func:`eisfit.fit`. The results
        of the two differ only where a spectrum's minimum is not unique to the last digits.

    Yields
    ------
    FitResult or Failure
        One per spectrum, in the order given. A failure carries ``meta["label"]`` (or the
        source) and a one-line reason.

    Raises
    ------
    EisfitError
        If ``workers`` is not a positive integer, ``client`` is not a Dask client or address,
        Dask is not installed, or the scheduler cannot be reached.

    Examples
    --------
    >>> from dask.distributed import Client                 # doctest: +SKIP
    >>> with Client("tcp://scheduler:8786") as c:           # doctest: +SKIP
    ...     results = list(fit_many(spectra, "blocking", client=c))
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise EisfitError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(stack, bool) or not isinstance(stack, int) or stack < 1:
        raise EisfitError(f"stack must be a positive integer, got {stack!r}")
    kwargs = {
        "circuit": circuit,
        "weighting": weighting,
        "external_resistance": float(external_resistance),
        "kk": bool(kk),
    }
    chunks = _chunks(spectra, stack)
    if client is not None:
        yield from _fit_dask(chunks, kwargs, client)
        return
    if workers == 1:
        for chunk in chunks:
            yield from _fit_chunk(chunk, kwargs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[list[FitResult | Failure]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_fit_chunk, chunk, kwargs))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def dask_client(address: str, timeout: float = 10.0) -> Any:
    """Connect to a Dask scheduler.

    Parameters
    ----------
    address
        The scheduler address, e.g. ``"tcp://10.0.0.5:8786"`` (what ``dask scheduler`` or a
        dask-jobqueue cluster's ``scheduler_address`` prints).

    Returns
    -------
    distributed.Client
        A connected client; close it when done.

    Raises
    ------
    EisfitError
        If dask.distributed is not installed (the message names the extra) or the scheduler
        cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError:
        raise EisfitError(
            f"running on a Dask cluster needs dask.distributed: {DASK_EXTRA}"
        ) from None
    try:
        return Client(address, timeout=f"{float(timeout)}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise EisfitError(
            f"cannot reach the Dask scheduler at {address!r}: {one_line(exc)}"
        ) from None


def _cluster_threads(client: Any) -> int:
    try:
        n = sum(int(v) for v in client.nthreads().values())
    except Exception:  # an unusual client: keep a small window
        n = 0
    return max(1, n)


def _fit_dask(
    chunks: Iterable[list[Spectrum]], kwargs: dict[str, Any], client: Any
) -> Iterator[FitResult | Failure]:
    own = isinstance(client, str)
    if own:
        client = dask_client(client)
    elif not callable(getattr(client, "submit", None)):
        raise EisfitError(
            f"client must be a dask.distributed.Client or a scheduler address, got "
            f"{type(client).__name__}"
        )
    try:
        window = 2 * _cluster_threads(client)
        pending: deque[Any] = deque()
        for chunk in chunks:
            # pure=False: two equal stacks are still two tasks (results stay one per input)
            labels = [label_of(s) for s in chunk]
            pending.append((client.submit(_fit_chunk, chunk, kwargs, pure=False), labels))
            if len(pending) >= window:
                yield from _result(*pending.popleft())
        while pending:
            yield from _result(*pending.popleft())
    finally:
        if own:
            client.close()


def _result(future: Any, labels: list[str]) -> list[FitResult | Failure]:
    try:
        out = future.result()
    except Exception as exc:  # a lost worker or a task the cluster could not run
        reason = f"Dask task failed: {one_line(exc)}"
        out = [Failure(label, reason) for label in labels]
    future.release()
    return out
