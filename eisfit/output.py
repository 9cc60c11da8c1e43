"""Writing output files atomically and never over an existing file without ``force``."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .exceptions import EisfitError


def json_float(x: float | None) -> float | None:
    """A float JSON can hold: NaN and infinities (and None) become None (``null``)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class OutputExistsError(EisfitError):
    """The output file exists and overwriting was not asked for."""


def check_writable(path: str | Path, force: bool) -> Path:
    """Return ``path`` as a Path, or raise when it exists and ``force`` is False."""
    p = Path(path)
    if p.exists() and not force:
        raise OutputExistsError(f"{p}: already exists; pass --force to overwrite it")
    if p.parent and not p.parent.exists():
        raise EisfitError(f"{p}: the folder {p.parent} does not exist")
    return p


def write_atomic(path: str | Path, writer: Callable[[Path], None], force: bool = False) -> Path:
    """Write a file through ``writer(temp_path)``, then move it into place in one step.

    A reader never sees a half-written file, and an interrupted run leaves the old file intact.
    """
    p = check_writable(path, force)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=p.parent or ".")
    os.close(fd)
    try:
        writer(Path(tmp))
        # mkstemp makes the file private (0600); give it the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def write_text(path: str | Path, text: str, force: bool = False) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    return write_atomic(path, lambda t: t.write_text(text, encoding="utf-8"), force)
