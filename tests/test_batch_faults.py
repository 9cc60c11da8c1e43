"""What a batch does when its processes are killed: the main process (its workers must end with
it, not wait for ever under PID 1), or a worker (the out-of-memory killer in practice: the
finished results are kept, the stacks in flight fitted again once in fresh processes, a
spectrum whose fresh process dies too is a failure, and the command says so on one line).

The command-line tests run ``eisfit batch`` on 104 copies of the bundled LATP pellet series in
a session of its own, find its workers in ``/proc`` (the processes whose parent it is), kill
them or it with SIGKILL and always kill what is left of the session at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from eisfit.fitting.batch import LOST, Failure, WorkerDiedWarning, fit_many
from eisfit.fitting.result import FitResult
from eisfit.io.spectrum import Spectrum
from eisfit.model.synthetic import blocking_cell

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

DATA = Path(__file__).resolve().parents[1] / "data" / "latp_pellet"
COPIES = 13  # of each of the 8 files: 104 spectra (the compiled engine), seconds on two workers
CLI = [sys.executable, "-c", "import sys; from eisfit.cli.main import main; sys.exit(main())"]


class DiesOnArrival:
    """Unpickled in a worker, it ends that process at once: a spectrum whose fit kills its
    worker every time (as the out-of-memory killer would)."""

    def __reduce__(self) -> tuple:
        return (os._exit, (3,))


# --------------------------------------------------------------------------- /proc helpers
def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """State, parent, process group and start time of a process; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = text[text.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2]), int(rest[19])


def _processes() -> dict[int, tuple[str, int, int, int]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            out[int(entry)] = st
    return out


def _children(pid: int) -> dict[int, int]:
    """The live children of ``pid``: their start times, by process id."""
    return {p: st[3] for p, st in _processes().items() if st[1] == pid and st[0] != "Z"}


def _alive(pid: int, start: int) -> bool:
    """Whether the process ``pid`` started at ``start`` still runs (a zombie is dead)."""
    st = _stat(pid)
    return st is not None and st[3] == start and st[0] != "Z"


def _session(pgid: int) -> list[int]:
    """The live processes of a process group."""
    return [p for p, st in _processes().items() if st[2] == pgid and st[0] != "Z"]


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError):
        pass


def _wait_for_workers(proc: subprocess.Popen, n: int, timeout: float = 60.0) -> dict[int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if len(kids) >= n:
            return kids
        assert proc.poll() is None, "the batch ended before its workers were seen"
        time.sleep(0.02)
    raise AssertionError(f"no {n} workers after {timeout} s")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("copies")
    for k in range(COPIES):
        for f in sorted(DATA.glob("*.csv")):
            shutil.copy(f, out / f"r{k:02d}_{f.name}")
    return out


def _batch(folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "batch", str(folder), "--workers", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _all_sources(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _names(entries: list[dict]) -> list[str]:
    return [Path(e["source"]).name for e in entries]


# --------------------------------------------------------------------------- the library
def _cells(n: int) -> list[Spectrum]:
    import numpy as np

    rng = np.random.default_rng(3)
    out = []
    for k in range(n):
        c = blocking_cell(rng, noise=0.002)
        out.append(c.spectrum.with_meta(label=f"cell{k}"))
    return out


def test_fit_many_dead_worker_yields_failures_not_broken_pool() -> None:
    spectra = _cells(6)
    items = [*spectra[:4], DiesOnArrival(), *spectra[4:]]
    with pytest.warns(WorkerDiedWarning) as caught:
        out = list(fit_many(items, "blocking", workers=2, stack=1))
    assert len(out) == len(items)
    dead = out[4]
    assert isinstance(dead, Failure) and dead.error.startswith(LOST)
    assert "exit status 3" in dead.error
    fitted = [o for k, o in enumerate(out) if k != 4]
    assert all(isinstance(o, FitResult) for o in fitted)
    # the same numbers as in this process: a spectrum refitted in a fresh worker, or kept from
    # the broken pool, is the fit it would have been
    alone = list(fit_many(spectra, "blocking", workers=1, stack=1))
    for a, b in zip(fitted, alone, strict=True):
        assert a.spectrum.meta["label"] == b.spectrum.meta["label"]
        assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    (line,) = [str(w.message) for w in caught if w.category is WorkerDiedWarning]
    assert "1 spectra were lost" in line and "\n" not in line
    # the first two were yielded before the deadly one was even sent: not fitted again
    refitted = int(line.rsplit(", ", 1)[1].split()[0]) if "others fitted again" in line else 0
    assert refitted <= 3


def test_fit_many_notes_instead_of_warning() -> None:
    notes: list[str] = []
    out = list(fit_many([DiesOnArrival(), DiesOnArrival()], "blocking", workers=2, stack=1,
                        notes=notes))
    assert all(isinstance(o, Failure) and o.error.startswith(LOST) for o in out)
    assert len(notes) == 1 and "2 spectra were lost" in notes[0]


# --------------------------------------------------------------------------- the command
def test_killed_batch_leaves_no_workers(folder: Path) -> None:
    proc = _batch(folder)
    try:
        workers = _wait_for_workers(proc, 2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p, s) for p, s in workers.items()):
            time.sleep(0.05)
        left = [p for p, s in workers.items() if _alive(p, s)]
        assert not left, f"workers {left} outlived their killed parent"
    finally:
        _kill_session(proc)


def _no_process_left(proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _session(proc.pid):
        time.sleep(0.05)
    assert not _session(proc.pid), "processes of the batch outlived it"


def test_killed_worker_is_refitted(folder: Path) -> None:
    proc = _batch(folder)
    try:
        workers = _wait_for_workers(proc, 2)
        time.sleep(0.3)  # mid-batch: both are fitting
        os.kill(min(workers), signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("eisfit: a worker process died (killed by SIGKILL")
        assert "fitted again in fresh processes" in lines[0]
        assert proc.returncode == 0  # every spectrum fitted after all
        doc = json.loads(out)
        assert doc["failures"] == []
        assert sorted(_names(doc["spectra"])) == _all_sources(folder)
        # the copies of one file agree, whichever process fitted them
        by_file: dict[str, set[str]] = {}
        for s in doc["spectra"]:
            key = json.dumps(s["resistances_ohm"], sort_keys=True)
            by_file.setdefault(Path(s["source"]).name.split("_", 1)[1], set()).add(key)
        assert all(len(v) == 1 for v in by_file.values())
        _no_process_left(proc)
    finally:
        _kill_session(proc)


def test_worker_killed_again_loses_its_spectra_on_one_line(folder: Path) -> None:
    proc = _batch(folder)
    stop = threading.Event()

    def kill_every_worker() -> None:  # its first workers, and the fresh ones after them
        while not stop.is_set() and proc.poll() is None:
            for pid in _children(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)

    killer = threading.Thread(target=kill_every_worker, daemon=True)
    try:
        _wait_for_workers(proc, 1)
        killer.start()
        out, err = proc.communicate(timeout=120)
        stop.set()
        killer.join(5)
        assert proc.returncode == 1
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert "Traceback" not in err
        assert "worker processes died (killed by SIGKILL" in lines[0]
        assert "listed under failures" in lines[0]
        doc = json.loads(out)  # one complete document
        lost = doc["failures"]
        assert lost and all(f["error"].startswith(LOST) for f in lost)
        sources = _names(doc["spectra"]) + _names(lost)
        assert sorted(sources) == _all_sources(folder)  # each spectrum once, fitted or lost
        _no_process_left(proc)
    finally:
        stop.set()
        _kill_session(proc)
