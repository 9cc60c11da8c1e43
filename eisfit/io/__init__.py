"""Reading impedance spectra from instrument files.

>>> import eisfit
>>> s = eisfit.read("pellet_25C.mpt")            # doctest: +SKIP
>>> spectra = eisfit.read_all("loops.mpr")       # doctest: +SKIP

The format is recognised from the file's content first and its extension second; ``format=``
forces one (see :func:`formats`). Every reader returns spectra in eisfit's conventions: Hz,
Ohm, Im(Z) < 0 for capacitive behaviour, points ordered from high to low frequency, and
metadata (``source``, ``format``, ``temperature`` in K, ``technique``, ``cycle``,
``start_time``, ``instrument``, ``area_cm2``, ``spectrum_index``, ``n_spectra``, ``time_s``
(seconds from the start of the experiment to the first point, for each of several spectra
of a file with a time column), ``assumptions``...).
Problems raise :class:`~eisfit.exceptions.ReaderError` naming the file and the line or byte.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

from eisfit.exceptions import (
    ArgumentError,
    EisfitError,
    ReaderError,
    SpectrumError,
    UnsupportedFormatError,
)
from eisfit.io._text import check_regular, os_error
from eisfit.io.registry import (
    BUILTIN_LOADER,
    HEAD_BYTES,
    ReaderInfo,
    detect,
    get_reader,
    readers,
    register,
)
from eisfit.io.spectrum import Spectrum


def _load_builtin_readers() -> None:
    """Import every built-in reader module, so that each registers itself."""
    from eisfit.io import _builtin  # noqa: F401


BUILTIN_LOADER.append(_load_builtin_readers)

__all__ = [
    "MAX_POINTS",
    "over_cap",
    "read",
    "read_all",
    "formats",
    "register",
    "readers",
    "detect_format",
    "ReaderError",
    "UnsupportedFormatError",
]


#: Most points a spectrum read from a file may have. Instruments write tens to a few thousand
#: points a spectrum; beyond this, a fit's and the DRT's memory and time grow with no gain.
#: Raise it (``eisfit.io.MAX_POINTS = 10**6``) to read such a file anyway, then thin it.
MAX_POINTS = 100_000


def over_cap(n: int) -> str | None:
    """Why a spectrum of ``n`` points is refused (more than :data:`MAX_POINTS`, read at call
    time), saying how to thin it; None when it is within the cap."""
    cap = MAX_POINTS
    if n <= cap:
        return None
    k = -(-n // cap)
    return (
        f"{n} points, more than the cap of {cap} (eisfit.io.MAX_POINTS); decimate it, e.g. keep "
        f"every {k}th data row of the file, or raise eisfit.io.MAX_POINTS and thin the spectrum "
        f"with s.mask(np.arange(len(s)) % {k} == 0)"
    )


def _check_points(p: Path, spectra: list[Spectrum]) -> None:
    """Refuse a spectrum with more than :data:`MAX_POINTS` points, saying how to thin it."""
    for i, s in enumerate(spectra):
        why = over_cap(len(s))
        if why:
            raise ReaderError(p, f"spectrum {i} has {why}")


def formats() -> dict[str, str]:
    """Registered format names with a one-line description each."""
    return {name: info.description for name, info in sorted(readers().items())}


def _path_and_format(path: object, format: object) -> Path:
    """``path`` as a Path, after checking the types of a reading call's arguments.

    Raises
    ------
    ArgumentError
        ``path`` is not a string or path, or ``format`` is neither None nor a string.
    """
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise ArgumentError(f"path must be a string or a pathlib.Path, got {type(path).__name__}")
    if format is not None and not isinstance(format, str):
        raise ArgumentError(
            f"format must be a format name such as 'biologic-mpt' (see eisfit.io.formats()) "
            f"or None, got {type(format).__name__}"
        )
    return Path(path)


def _head(path: Path) -> bytes:
    """The first bytes of ``path``, which :func:`~eisfit.io._text.check_regular` has passed."""
    try:
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except OSError as exc:
        raise os_error(path, exc) from None


def detect_format(path: str | Path) -> str:
    """Name of the format eisfit would use to read ``path``.

    Raises
    ------
    UnsupportedFormatError
        If no reader recognises the file.
    """
    p = _path_and_format(path, None)
    check_regular(p)
    info, _ = detect(_head(p), p)
    return info.name


def _choose(p: Path, format: str | None) -> ReaderInfo:
    if format is not None:
        return get_reader(format, p)
    head = _head(p)
    if not head:
        raise ReaderError(p, "file is empty (0 bytes), expected impedance data", offset=0)
    info, _ = detect(head, p)
    return info


def read_all(path: str | Path, format: str | None = None) -> list[Spectrum]:
    """Read every spectrum in a file.

    Parameters
    ----------
    path
        The file.
    format
        A format name from :func:`formats` (or a known extension such as ``"mpt"``) to skip
        detection.

    Returns
    -------
    list of Spectrum
        In file order; ``meta["spectrum_index"]`` is the position in this list.

    Raises
    ------
    ReaderError
        If the file cannot be read as impedance data (the message names the file and the
        line or byte offset), is not a regular file (a pipe or device), or holds a spectrum of
        more than :data:`MAX_POINTS` points.
    UnsupportedFormatError
        If the format is not recognised or not supported.

    Examples
    --------
    >>> spectra = read_all("loops.mpt")           # doctest: +SKIP
    >>> [len(s) for s in spectra]                 # doctest: +SKIP
    [21, 21, 21, 21]
    """
    p = _path_and_format(path, format)
    check_regular(p)  # before any reader opens it: a pipe would block, a device never end
    info = _choose(p, format)
    try:
        spectra = info.read(p)
    except ReaderError as exc:
        if "\n" in str(exc) or "\r" in str(exc):
            # messages quoting other libraries stay on one line
            reason = " ".join(exc.reason.split())
            raise type(exc)(p, reason, line=exc.line, offset=exc.offset) from None
        raise
    except SpectrumError as exc:
        # the reader's spectrum already names the file: name it once
        raise ReaderError(p, str(exc).removeprefix(f"{p}: ")) from None
    except EisfitError as exc:
        raise ReaderError(p, str(exc)) from None
    except MemoryError:
        raise ReaderError(p, "not enough memory to read the file") from None
    except RecursionError:
        raise ReaderError(p, f"{info.name}: structure nested too deeply") from None
    except Exception as exc:  # any other failure inside a reader is still a reader error
        raise ReaderError(
            p, f"{info.name} reader failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not spectra:
        raise ReaderError(p, f"no impedance spectrum found ({info.name} format)")
    _check_points(p, spectra)
    out = []
    for i, s in enumerate(spectra):
        m = dict(s.meta)
        m.setdefault("source", str(p))
        m.setdefault("format", info.name)
        m["spectrum_index"] = i
        m["n_spectra"] = len(spectra)
        out.append(Spectrum(s.frequency, s.z, m, min_points=1))
    return out


def read(
    path: str | Path, format: str | None = None, *, spectrum: int | None = None
) -> Spectrum:
    """Read one spectrum.

    Parameters
    ----------
    path
        The file.
    format
        Format name to skip detection (see :func:`formats`).
    spectrum
        Which spectrum (0-based; negative counts from the end) when the file holds several.

    Returns
    -------
    Spectrum
        Frequencies in Hz (high to low), Z in Ohm with Im(Z) < 0 capacitive.

    Raises
    ------
    ReaderError
        If the file cannot be read, or holds several spectra and ``spectrum`` is not given, or
        ``spectrum`` is out of range.
    ArgumentError
        ``path`` or ``format`` of the wrong type (a :class:`TypeError` too).

    Examples
    --------
    >>> s = read("pellet_25C.mpt")                # doctest: +SKIP
    >>> s.meta["format"]                          # doctest: +SKIP
    'biologic-mpt'
    """
    p = _path_and_format(path, format)
    spectra = read_all(p, format)
    n = len(spectra)
    if spectrum is None:
        if n > 1:
            raise ReaderError(
                p,
                f"holds {n} spectra; use read_all(path) for all of them or "
                f"read(path, spectrum=i) with i in 0..{n - 1}",
            )
        return spectra[0]
    if isinstance(spectrum, bool) or not isinstance(spectrum, numbers.Integral):
        number = isinstance(spectrum, numbers.Real) and not isinstance(spectrum, bool)
        got = f"{spectrum:g} ({type(spectrum).__name__})" if number else repr(spectrum)
        raise ReaderError(p, f"spectrum must be an integer index, got {got}")
    spectrum = int(spectrum)
    if not -n <= spectrum < n:
        raise ReaderError(
            p, f"spectrum={spectrum} is out of range: the file holds {n} spectra (0..{n - 1})"
        )
    return spectra[spectrum]
