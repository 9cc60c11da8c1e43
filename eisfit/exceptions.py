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
        shown, at = _excerpt(circuit, position)
        #: The circuit (an excerpt around the mistake when it is long) with a caret under the
        #: mistake (two lines), for displays that have room.
        self.pointer = f"{shown}\n{' ' * at}^"
        super().__init__(f"circuit {shown!r}, character {position + 1}: {message}")


#: Circuit strings longer than this are shown as an excerpt around the mistake in messages.
EXCERPT_CHARS = 100


def _excerpt(text: str, position: int) -> tuple[str, int]:
    """``text``, or for a long one the :data:`EXCERPT_CHARS` around ``position`` marked with
    ``...``; and where ``position`` falls in what is returned."""
    if len(text) <= EXCERPT_CHARS:
        return text, position
    half = EXCERPT_CHARS // 2
    start = max(0, min(position - half, len(text) - EXCERPT_CHARS))
    end = start + EXCERPT_CHARS
    head = "..." if start > 0 else ""
    tail = "..." if end < len(text) else ""
    return f"{head}{text[start:end]}{tail}", position - start + len(head)


class FitError(EisfitError, RuntimeError):
    """A fit could not be set up or did not produce a usable result."""


class GeometryError(EisfitError, ValueError):
    """A length, area or temperature is missing its unit or is not physical."""


class ArgumentError(EisfitError, TypeError):
    """A library call got an argument of the wrong type (``read(format=123)``,
    ``fit(params={"R0": 1})``...); a :class:`TypeError` too."""
