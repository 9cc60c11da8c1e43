"""The registry of file readers.

Each format is a class decorated with :func:`register`; it declares a name, the file
extensions it usually has, ``sniff(head, path) -> score`` and ``read(path) -> list[Spectrum]``.
:func:`detect` asks every reader to score the first bytes of a file: the content decides first
(a score of 0.8 or more means the reader recognised its own format), the extension second
(readers give at most 0.3 for an extension alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eisfit.exceptions import UnsupportedFormatError
from eisfit.io.normalise import looks_binary
from eisfit.io.spectrum import Spectrum

__all__ = ["Reader", "ReaderInfo", "register", "readers", "get_reader", "detect", "HEAD_BYTES"]

#: Bytes of a file handed to the sniffers.
HEAD_BYTES = 65536


class Reader(Protocol):
    """What a registered reader provides."""

    name: str
    extensions: tuple[str, ...]
    description: str

    @staticmethod
    def sniff(head: bytes, path: Path) -> float:  # pragma: no cover - protocol
        """Score 0..1 that the file is in this format (0.8+ from content)."""

    @staticmethod
    def read(path: Path) -> list[Spectrum]:  # pragma: no cover - protocol
        """Every spectrum in the file."""


@dataclass(frozen=True)
class ReaderInfo:
    """A registered reader.

    Attributes
    ----------
    name
        Format name, used by ``read(path, format=name)``.
    extensions
        Usual file extensions, lower case with the dot.
    description
        One line for listings.
    sniff
        ``sniff(head_bytes, path) -> score`` in 0..1.
    read
        ``read(path) -> list[Spectrum]``.
    """

    name: str
    extensions: tuple[str, ...]
    description: str
    sniff: Callable[[bytes, Path], float]
    read: Callable[[Path], list[Spectrum]]


_REGISTRY: dict[str, ReaderInfo] = {}


def register(name: str, extensions: tuple[str, ...] = (), description: str = "") -> Callable:
    """Class decorator that registers a reader under ``name``.

    Parameters
    ----------
    name
        Unique format name (lower case, e.g. ``"biologic-mpt"``).
    extensions
        Usual extensions, e.g. ``(".mpt",)``.
    description
        One line describing the format.

    Raises
    ------
    ValueError
        If the name is already registered, or the class lacks ``sniff`` or ``read``.
    """
    key = name.lower()

    def deco(cls: type) -> type:
        if key in _REGISTRY:
            raise ValueError(f"a reader named {key!r} is already registered")
        sniff = getattr(cls, "sniff", None)
        read = getattr(cls, "read", None)
        if not callable(sniff) or not callable(read):
            raise ValueError(f"reader {key!r} must define sniff(head, path) and read(path)")
        cls.name = key
        cls.extensions = tuple(e.lower() for e in extensions)
        cls.description = description or (cls.__doc__ or "").strip().splitlines()[0]
        _REGISTRY[key] = ReaderInfo(key, cls.extensions, cls.description, sniff, read)
        return cls

    return deco


#: What loads the built-in readers, set by :mod:`eisfit.io` (the readers import this module to
#: register themselves, so it cannot import them): called before the registry is first read.
BUILTIN_LOADER: list[Callable[[], object]] = []


def _load_builtin() -> None:
    while BUILTIN_LOADER:
        BUILTIN_LOADER.pop()()


def readers() -> dict[str, ReaderInfo]:
    """All registered readers by name."""
    _load_builtin()
    return dict(_REGISTRY)


def get_reader(name: str, path: str | Path = "") -> ReaderInfo:
    """The reader called ``name`` (or the only one whose extension is ``name``).

    Raises
    ------
    UnsupportedFormatError
        If no reader has that name.
    """
    regs = readers()
    key = name.lower().strip()
    if key in regs:
        return regs[key]
    ext = key if key.startswith(".") else "." + key
    matches = [r for r in regs.values() if ext in r.extensions]
    if len(matches) == 1:
        return matches[0]
    raise UnsupportedFormatError(
        path,
        f"format {name!r} is not known; expected one of {', '.join(sorted(regs))}",
    )


def detect(head: bytes, path: Path) -> tuple[ReaderInfo, float]:
    """The reader with the highest sniff score for these bytes.

    Raises
    ------
    UnsupportedFormatError
        If no reader gives a positive score.
    """
    best: tuple[float, str] | None = None
    for name, info in readers().items():
        try:
            score = float(info.sniff(head, path))
        except Exception:  # a sniffer must never stop detection
            score = 0.0
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    if best is None:
        expected = (
            "expected an impedance file (EC-Lab .mpt/.mpr, Gamry .DTA, ZPlot .z, Zahner .ism, "
            "CHI/Autolab/PalmSens/Ivium/Novocontrol/RelaxIS/PAR/Zahner text exports or a "
            "CSV/TXT table with frequency and impedance columns); pass format= to force one"
        )
        off = looks_binary(head)
        if off is not None:
            raise UnsupportedFormatError(
                path,
                f"format not recognised: binary content (byte 0x{head[off]:02x}); {expected}",
                offset=off,
            )
        raise UnsupportedFormatError(path, f"format not recognised: {expected}", line=1)
    return _REGISTRY[best[1]], best[0]
