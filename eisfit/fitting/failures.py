"""What a batch records for a spectrum it could not read or fit, and how it names spectra."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eisfit.exceptions import EisfitError
from eisfit.io.spectrum import Spectrum


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
