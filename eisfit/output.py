"""Writing output files atomically and never over an existing file without ``force``.

Two levels:

- :func:`write_atomic` (and :func:`write_text`) writes one file: into a temporary file beside
  it (named ``NAME.XXXXXXXX.partial``, removed when the writer fails), then moved into place in
  one step. Without ``force`` the move is a hard link, which fails when the file exists at that
  moment, so a file that appeared while the output was being made is never overwritten.
- :class:`OutputFolder` writes the many files of one run into a folder (``eisfit batch --out``):
  the folder is locked for the whole run (a second run into it is refused at once), every file
  is written into a staging folder ``eisfit-incomplete.XXXXXXXX`` inside it and moved into place
  only when all are written. A run that fails or is interrupted while writing leaves the folder
  as it was; a run killed outright leaves the staging folder, whose name says so.

Every operating-system error becomes an :class:`OutputError`: one line naming the path.
"""

from __future__ import annotations

import errno
import fnmatch
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from eisfit.exceptions import EisfitError

#: Prefix of the staging folder of an :class:`OutputFolder` (inside the output folder).
STAGING_PREFIX = "eisfit-incomplete."
#: Suffix of the temporary file :func:`write_atomic` writes before moving it into place.
PARTIAL_SUFFIX = ".partial"


def json_float(x: float | None) -> float | None:
    """A float JSON can hold: NaN and infinities (and None) become None (``null``)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class OutputExistsError(EisfitError):
    """The output file exists and overwriting was not asked for."""


class OutputError(EisfitError, OSError):
    """An output could not be written (a missing or unwritable folder, a full disk...).

    Also an :class:`OSError`, so code that caught the operating system's error still does.
    """


class OutputBusyError(OutputError):
    """Another run holds the lock of the output folder."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _exists(p: Path) -> OutputExistsError:
    return OutputExistsError(f"{p}: already exists; pass --force to overwrite it")


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold files, or None when it is an existing folder."""
    if folder.is_dir():
        return None
    for above in (folder, *folder.parents):
        if above.is_dir():
            break
        if os.path.lexists(above):
            return f"{above} is a file, not a folder"
    return f"the folder {folder} does not exist"


def _probe(folder: Path, shown: Path) -> None:
    """Create and remove a file in ``folder``: raise :class:`OutputError` when it cannot."""
    try:
        fd, tmp = tempfile.mkstemp(prefix="eisfit-probe.", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"{shown}: cannot write in {folder}: {_reason(exc)}") from None


def check_writable(
    path: str | Path, force: bool, probe: bool = False, what: str = "output file"
) -> Path:
    """Check that ``path`` can be written as a new file; return it as a Path.

    Parameters
    ----------
    path
        The file to write.
    force
        Whether an existing file may be replaced.
    probe
        Also create and remove a file in its folder, to find an unwritable folder before any
        work is done.
    what
        What ``path`` is, for the message about an empty name (e.g. ``"--plot"``).

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    OutputError
        The name is empty, ``path`` is a folder, its folder does not exist or is a file, or
        (with ``probe``) cannot be written.
    """
    if str(path).strip() == "":
        raise OutputError(f"{what}: an empty file name; give a file name")
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name")
    if os.path.lexists(p) and not force:
        raise _exists(p)
    parent = p.parent
    problem = _folder_problem(parent)
    if problem is not None:
        raise OutputError(f"{p}: {problem}")
    if probe:
        _probe(parent, p)
    return p


def _chmod_plain(path: str | Path) -> None:
    """Give a file made by mkstemp (0600) the permissions a plain ``open()`` would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _move_into_place(src: str | Path, dst: Path, force: bool) -> None:
    """Move ``src`` to ``dst`` in one step; without ``force`` only when ``dst`` does not exist.

    Without ``force`` the file is hard-linked to its new name (which fails at that very moment
    when the name exists) and the old name removed. Where hard links are not supported the new
    name is claimed with ``O_EXCL`` and then replaced.
    """
    if force:
        os.replace(src, dst)
        return
    try:
        os.link(src, dst)
    except FileExistsError:
        raise _exists(dst) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV,
                             errno.EMLINK):
            raise
        try:  # no hard links here: claim the name, then replace the claim
            os.close(os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise _exists(dst) from None
        os.replace(src, dst)
        return
    os.unlink(src)


def write_atomic(path: str | Path, writer: Callable[[Path], None], force: bool = False) -> Path:
    """Write a file through ``writer(temp_path)``, then move it into place in one step.

    A reader never sees a half-written file, an interrupted run leaves the old file intact, and
    without ``force`` a file that exists when the new one is moved into place (even one made
    while ``writer`` ran) is left alone.

    Parameters
    ----------
    path
        The file to write.
    writer
        Writes the content to the temporary path it is given (same folder, same file system).
    force
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    OutputError
        The file could not be written (its folder is missing or unwritable, the disk is full).
    """
    p = check_writable(path, force)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{p.name}.", suffix=PARTIAL_SUFFIX,
                                   dir=p.parent or ".")
    except OSError as exc:
        raise OutputError(f"{p}: cannot write: {_reason(exc)}") from None
    os.close(fd)
    try:
        writer(Path(tmp))
        _chmod_plain(tmp)
        _move_into_place(tmp, p, force)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, EisfitError):
            raise OutputError(f"{p}: cannot write: {_reason(exc)}") from None
        raise
    return p


def write_text(path: str | Path, text: str, force: bool = False) -> Path:
    """Write ``text`` (UTF-8) atomically."""
    return write_atomic(path, lambda t: t.write_text(text, encoding="utf-8"), force)


class OutputFolder:
    """The folder one run writes its outputs into, written as a whole or not at all.

    Opening it (before any work) creates the folder, locks it, checks that it can be written
    and, without ``force``, that it holds none of the run's outputs. :meth:`file` gives the path
    to write each output to, in a staging folder ``eisfit-incomplete.XXXXXXXX`` inside it;
    :meth:`commit` moves them all into place. Closing it without a commit (an error, an
    interruption) removes the staging folder and leaves the folder as it was.

    Parameters
    ----------
    path
        The output folder (created with its parents when missing).
    patterns
        Names of the run's outputs, as shell patterns (``"nyquist_*.png"``). Without ``force``
        a folder holding any of them is refused; with ``force`` those the new run does not
        write (an earlier run's plots of other spectra) are removed on commit.
    force
        Replace the outputs of an earlier run.
    what
        What ``path`` is, for messages (``"--out"``).

    Raises
    ------
    OutputBusyError
        Another run holds the folder's lock (on systems with ``fcntl``; the lock is an advisory
        ``flock`` on the folder itself, released when the run ends, however it ends).
    OutputExistsError
        Without ``force``, the folder holds one of ``patterns``.
    OutputError
        The folder cannot be created or written.
    """

    def __init__(
        self,
        path: str | Path,
        patterns: Sequence[str],
        force: bool = False,
        what: str = "output folder",
    ) -> None:
        if str(path).strip() == "":
            raise OutputError(f"{what}: an empty folder name; give a folder")
        self.path = Path(path)
        self.patterns = tuple(patterns)
        self.force = force
        self._lock_fd: int | None = None
        self._staging: Path | None = None
        self._written: list[str] = []
        p = self.path
        if os.path.lexists(p) and not p.is_dir():
            raise OutputError(f"{p}: exists and is not a folder")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = _folder_problem(p.parent) or _reason(exc)
            raise OutputError(f"{p}: cannot create the folder: {problem}") from None
        self._lock()
        try:
            _probe(p, p)
            if not force:
                clash = self.existing()
                if clash:
                    shown = ", ".join(clash[:4]) + (" ..." if len(clash) > 4 else "")
                    raise OutputExistsError(
                        f"{p}: already holds {shown}; pass --force to replace them, or give "
                        "another folder"
                    )
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ lock
    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): no lock
            return
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot open the folder: {_reason(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputBusyError(
                f"{self.path}: another eisfit run is writing into this folder; wait for it to "
                "finish or give another folder"
            ) from None
        except OSError:  # pragma: no cover - a file system without locks: go on without
            os.close(fd)
            return
        self._lock_fd = fd

    def close(self) -> None:
        """Remove the staging folder (when not committed) and release the lock."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def existing(self) -> list[str]:
        """The names in the folder that match the run's output patterns, sorted."""
        try:
            names = sorted(os.listdir(self.path))
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot list the folder: {_reason(exc)}") from None
        return [n for n in names
                if any(fnmatch.fnmatchcase(n, pat) for pat in self.patterns)
                and not (self.path / n).is_dir()]

    def file(self, name: str) -> Path:
        """The path to write output ``name`` to (in the staging folder).

        The file is moved to ``folder / name`` by :meth:`commit`.
        """
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"an output name without folders, got {name!r}")
        if self._staging is None:
            try:
                self._staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path))
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot write: {_reason(exc)}") from None
        if name not in self._written:
            self._written.append(name)
        return self._staging / name

    def write(self, name: str, writer: Callable[[Path], None]) -> None:
        """Write output ``name`` through ``writer(path)``; an OS error becomes one line."""
        target = self.file(name)
        try:
            writer(target)
        except OSError as exc:
            if isinstance(exc, EisfitError):
                raise
            raise OutputError(f"{self.path / name}: cannot write: {_reason(exc)}") from None

    def commit(self) -> list[Path]:
        """Move every output written into place; return their final paths.

        Without ``force`` each is hard-linked to its name, which fails when the name exists at
        that moment: then the outputs already moved are taken back and
        :class:`OutputExistsError` is raised. With ``force`` each replaces its name, and the
        folder's other outputs matching the patterns (an earlier run's) are removed. Stale
        staging folders of killed runs are removed too.
        """
        staging = self._staging
        written = [n for n in self._written if staging is not None and (staging / n).exists()]
        done: list[Path] = []
        try:
            for name in written:
                assert staging is not None
                src = staging / name
                _chmod_plain(src)
                _move_into_place(src, self.path / name, self.force)
                done.append(self.path / name)
            if self.force:
                keep = set(written)
                for name in self.existing():
                    if name not in keep:
                        (self.path / name).unlink(missing_ok=True)
        except OutputExistsError:
            if not self.force:
                for p in done:
                    p.unlink(missing_ok=True)
            raise
        except OSError as exc:
            if isinstance(exc, EisfitError):
                raise
            raise OutputError(f"{self.path}: cannot write: {_reason(exc)}") from None
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
            self._staging = None
        # the lock is held: a staging folder left here is from a run that was killed
        for stale in self.path.glob(STAGING_PREFIX + "*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        self._written = []
        return done


#: First characters of a text cell that a spreadsheet reads as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: Any) -> Any:
    """A text cell that would start a spreadsheet formula, with a ``'`` in front (OWASP's rule
    against CSV injection); anything else as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
