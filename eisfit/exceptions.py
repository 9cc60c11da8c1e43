"""Errors raised by eisfit.

Every error a user can cause derives from :class:`EisfitError`, so the command line can turn it
into a one-line message and a non-zero exit code instead of a traceback.
"""

from __future__ import annotations


class EisfitError(Exception):
    """Base class of every error eisfit raises for bad input or a failed analysis."""


class SpectrumError(EisfitError, ValueError):
    """A spectrum's arrays are unusable (NaN, non-positive frequency, mismatched lengths...)."""


class ReaderError(EisfitError):
    """A file could not be read as impedance data.

    Parameters
    ----------
    path
        The file being read.
    message
        What was expected and what was found.
    line
        1-based line number (text files) where the problem is, if known.
    offset
        Byte offset (binary files) where the problem is, if known.
    """

    def __init__(
        self, path: object, message: str, line: int | None = None, offset: int | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.offset = offset
        self.reason = message
        where = self.path
        if line is not None:
            where += f", line {line}"
        elif offset is not None:
            where += f", byte {offset}"
        super().__init__(f"{where}: {message}")


class UnsupportedFormatError(ReaderError):
    """The file's format is not one eisfit can read."""


class CircuitSyntaxError(EisfitError, ValueError):
    """A circuit string does not parse.

    Parameters
    ----------
    circuit
        The circuit string.
    position
        0-based character position of the problem.
    message
        What was expected there.
    """

    def __init__(self, circuit: str, position: int, message: str) -> None:
        self.circuit = circuit
        self.position = position
        self.reason = message
        #: The circuit with a caret under the mistake (two lines), for displays that have room.
        self.pointer = f"{circuit}\n{' ' * position}^"
        super().__init__(f"circuit {circuit!r}, character {position + 1}: {message}")


class FitError(EisfitError, RuntimeError):
    """A fit could not be set up or did not produce a usable result."""


class GeometryError(EisfitError, ValueError):
    """A length, area or temperature is missing its unit or is not physical."""
