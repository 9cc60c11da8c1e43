"""Running many independent fits, in this process or in a pool of worker processes.

:func:`fit_many` yields one outcome per spectrum, in input order, whatever the number of
workers: a :class:`~eisfit.result.FitResult`, or a :class:`Failure` with a one-line reason. The
fits are independent, so ``workers=N`` gives results identical to ``workers=1``. Results are
streamed: at most ``2 * workers`` spectra are in flight, so a long batch never holds more than
the caller keeps.
"""

from __future__ import annotations

import copyreg
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from .exceptions import EisfitError
from .result import FitResult
from .spectrum import Spectrum

__all__ = ["Failure", "fit_many", "default_workers"]


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


# Spectrum keeps its metadata in a read-only mapping proxy, which pickle refuses; worker
# processes need spectra (and fit results, which hold them) to travel, so teach pickle how to
# rebuild one from its arrays and a plain dict.
def _rebuild_spectrum(frequency: Any, z: Any, meta: dict[str, Any]) -> Spectrum:
    return Spectrum(frequency, z, meta, min_points=1)


def _reduce_spectrum(s: Spectrum) -> tuple[Any, tuple[Any, ...]]:
    return _rebuild_spectrum, (s.frequency, s.z, dict(s.meta))


copyreg.pickle(Spectrum, _reduce_spectrum)


def one_line(exc: BaseException) -> str:
    """A one-line reason for an exception (its message; the type for unexpected errors)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, EisfitError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def default_workers() -> int:
    """The number of CPU cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _fit_one(spectrum: Spectrum, kwargs: dict[str, Any]) -> FitResult | Failure:
    from .fitting import fit

    label = spectrum.meta.get("label") or spectrum.source or "spectrum"
    try:
        return fit(spectrum, **kwargs)
    except Exception as exc:  # one bad spectrum must not stop a batch
        return Failure(str(label), one_line(exc))


def fit_many(
    spectra: Iterable[Spectrum],
    circuit: Any = "blocking",
    *,
    weighting: str = "modulus",
    external_resistance: float = 0.0,
    workers: int = 1,
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
        Number of processes; 1 (default) fits in this process.

    Yields
    ------
    FitResult or Failure
        One per spectrum, in the order given. A failure carries ``meta["label"]`` (or the
        source) and a one-line reason.

    Raises
    ------
    EisfitError
        If ``workers`` is not a positive integer.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise EisfitError(f"workers must be a positive integer, got {workers!r}")
    kwargs = {
        "circuit": circuit,
        "weighting": weighting,
        "external_resistance": float(external_resistance),
    }
    if workers == 1:
        for s in spectra:
            yield _fit_one(s, kwargs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[FitResult | Failure]] = deque()
        for s in spectra:
            pending.append(pool.submit(_fit_one, s, kwargs))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
