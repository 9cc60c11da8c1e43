"""Running many independent fits: in this process, in a pool of worker processes, or on Dask.

:func:`fit_many` yields one outcome per spectrum, in input order, whatever the number of
workers: a :class:`~eisfit.fitting.result.FitResult`, or a :class:`Failure` with a one-line reason.
The
fits are independent, so ``workers=N`` (or a Dask cluster) gives results identical to
``workers=1``. Spectra go to the workers in stacks of ``stack`` (default
:data:`STACK`), each fitted at once by :func:`eisfit.fitting.stack.fit_stack`; the stacks are cut
from
the input in order whatever the number of workers, so results do not depend on it. Results are
streamed: at most ``2 * workers`` stacks (twice the cluster's threads on Dask) are in flight, so
a long batch never holds more than the caller keeps.

A worker process that dies (the out-of-memory killer, ``kill -9``) does not lose the batch:
the stacks it had already finished are kept, the stacks that were in flight in the broken pool
are fitted again once, each in a fresh process of its own, and a stack whose fresh process dies
too yields a :class:`Failure` per spectrum (``"lost: ..."``); the fits then go on in a fresh
pool. One line says what happened (:class:`WorkerDiedWarning`, or the caller's ``notes``).
Workers end with the process that started them, killed or not: each sets the Linux
parent-death signal when that is safe and, everywhere, watches its parent from a thread
(:func:`_worker_init`).

:func:`read_and_fit` does the same with inputs the workers read themselves (files, for
:func:`eisfit.fit_series` with ``stream=True``), so that reading costs the process that sends
them nothing. The options go to the workers as one :class:`~eisfit.fitting.spec.FitSpec`.

The Dask backend (``client=``) needs the optional extra ``eisfit[dask]``
(``dask[distributed]``); it is imported only when used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from eisfit.exceptions import ArgumentError, EisfitError
from eisfit.fitting.failures import Failure, label_of, one_line
from eisfit.fitting.result import FitResult
from eisfit.fitting.spec import FitSpec
from eisfit.io.spectrum import Spectrum

__all__ = [
    "Failure", "fit_many", "read_and_fit", "Read", "default_workers", "dask_client", "STACK",
    "LOST", "WorkerDiedWarning",
]

#: What to install for the Dask backend.
DASK_EXTRA = "pip install 'eisfit[dask]'"
#: Spectra fitted together in one stack (see :func:`eisfit.fitting.stack.fit_stack`).
STACK = 64
#: How the error of a spectrum lost with its worker process begins (see :func:`fit_many`).
LOST = "lost: its worker process died"
#: Seconds between a worker's checks that the process that started it is still there.
WATCH_INTERVAL = 0.25
#: The environment variable that chooses the worker processes' start method
#: (:func:`start_method`).
START_METHOD_ENV = "EISFIT_START_METHOD"


class WorkerDiedWarning(RuntimeWarning):
    """A worker process of :func:`fit_many` died (killed, or out of memory) during a batch."""


def default_workers() -> int:
    """The number of CPU cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _keywords(spec: FitSpec, start_from: FitResult | None) -> dict[str, Any]:
    """The keyword arguments :func:`eisfit.fit` and :func:`~eisfit.fitting.stack.fit_stack`
    take for ``spec`` (and a previous fit to start from, when there is one)."""
    kwargs = spec.keywords()
    if start_from is not None:  # only when given: fit_stack and fit take it alike
        kwargs["start_from"] = start_from
    return kwargs


def _fit_one(spectrum: Spectrum, kwargs: dict[str, Any]) -> FitResult | Failure:
    from eisfit.fitting.single import fit

    try:
        return fit(spectrum, **kwargs)
    except Exception as exc:  # one bad spectrum must not stop a batch
        return Failure(label_of(spectrum), one_line(exc))


def _engine(compiled_on: bool | None) -> contextlib.AbstractContextManager[None]:
    """The engine a worker fits a stack with: the sending process's (``compiled_on``), or
    this process's own (None)."""
    from eisfit.kernels import compiled

    return contextlib.nullcontext() if compiled_on is None else compiled.use(compiled_on)


def _fit_chunk(
    spectra: list[Spectrum], spec: FitSpec, start_from: FitResult | None = None,
    compiled_on: bool | None = None,
) -> list[FitResult | Failure]:
    """Fit a stack of spectra with ``spec``: at once when there are several, else one by one.

    BLAS runs one thread: the workers are the parallelism, and the matrices are small.
    ``compiled_on``: in a worker process, the engine the process that sent the stack would
    have run (:meth:`FitSpec.compiled_here`); None: this process's own.
    """
    from eisfit.blas import single_threaded_blas
    from eisfit.fitting.stack import fit_stack

    kwargs = _keywords(spec, start_from)
    with single_threaded_blas(), _engine(compiled_on):
        if len(spectra) == 1 or kwargs["circuit"] == "auto" or "constraints" in kwargs:
            return [_fit_one(s, kwargs) for s in spectra]
        try:
            return fit_stack(spectra, **kwargs)
        except Exception as exc:  # a mistake common to the stack: each spectrum reports it
            return [Failure(label_of(s), one_line(exc)) for s in spectra]


def _spectrum_failures(chunk: list[Spectrum], reason: str) -> list[FitResult | Failure]:
    """The outcomes of a stack of spectra that failed as a whole: each spectrum reports it."""
    return [Failure(label_of(s), reason) for s in chunk]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


# --------------------------------------------------------------------------- inputs read in workers
@dataclasses.dataclass
class Read:
    """What became of one input of :func:`read_and_fit`.

    Attributes
    ----------
    job : object
        The input, as given.
    info : object
        What the reader returned about it besides its spectra (None when it was lost).
    outcomes : list of FitResult or Failure
        One per spectrum the reader gave, in its order (a result as its pickle, bytes, when
        asked for).
    error : str or None
        Why the input was neither read nor fitted (its worker process died, or its stack could
        not be sent or returned), else None.
    """

    job: Any
    info: Any = None
    outcomes: list[Any] = dataclasses.field(default_factory=list)
    error: str | None = None


def _read_chunk(
    jobs: list[Any], read: Callable[[Any], tuple[Any, list[Spectrum]]], spec: FitSpec,
    start_from: FitResult | None = None, pickled: bool = False,
    digest: Callable[[FitResult], Any] | None = None, compiled_on: bool | None = None,
) -> list[Read]:
    """Read a stack of inputs with ``read`` and fit all their spectra as one stack (each
    result as its pickle when ``pickled``, with its ``digest`` when one is given;
    ``compiled_on`` as for :func:`_fit_chunk`)."""

    infos: list[Any] = []
    spectra: list[Spectrum] = []
    counts: list[int] = []
    with _engine(compiled_on):
        for job in jobs:
            info, got = read(job)
            infos.append(info)
            spectra.extend(got)
            counts.append(len(got))
        outcomes: list[Any] = _fit_chunk(spectra, spec, start_from) if spectra else []
    if pickled or digest is not None:
        outcomes = [o if isinstance(o, Failure) else _packed(o, pickled, digest)
                    for o in outcomes]
    out = []
    start = 0
    for job, info, n in zip(jobs, infos, counts, strict=True):
        out.append(Read(job, info, outcomes[start:start + n]))
        start += n
    return out


def _packed(result: FitResult, pickled: bool,
            digest: Callable[[FitResult], Any] | None) -> Any:
    """A result as :func:`read_and_fit` gives it: as its pickle when ``pickled`` (what
    :meth:`eisfit.store.ResultStore.append_pickled` keeps as it is), and with its ``digest``
    when one is given (a tuple; the digest None when making it failed)."""
    out: Any = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL) if pickled else result
    if digest is None:
        return out
    try:
        made = digest(result)
    except Exception:  # the caller reads the result itself instead
        made = None
    return out, made


def _read_failures(chunk: list[Any], reason: str) -> list[Read]:
    """The outcomes of a stack of inputs that failed as a whole: each input reports it."""
    return [Read(job, error=reason) for job in chunk]


# --------------------------------------------------------------------------- process pool
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _worker_init(
    parent: int | None, deathsig: bool, element_files: tuple[str, ...] = ()
) -> None:
    """Make a worker process end with the process that started it.

    A worker blocks on its task pipe, and holds its own copy of that pipe's other end, so it
    never sees the pipe close: without this, killing the main process leaves every worker
    waiting for ever under PID 1. Two mechanisms:

    - ``deathsig``: the Linux parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), which
      the kernel sends even when the worker is deep in compiled code. It fires when the
      *thread* that forked the worker ends, not the process, so :func:`_new_pool` asks for it
      only when the workers are forked (all at once, on the first submit) from the main thread,
      which lives as long as the process.
    - always, a daemon thread that checks every :data:`WATCH_INTERVAL` s that the worker's
      parent is still the one it started with (an orphan is adopted by another process), and
      ends the worker at once when not. It needs the GIL, which the compiled kernels release.

    Parameters
    ----------
    parent
        The process id the worker's parent must have (None: whatever it has now, as with the
        ``forkserver`` start method, whose server is the parent). A worker whose parent is
        already another process ends at once.
    deathsig
        Ask the kernel for SIGKILL when the forking thread ends (Linux only).
    element_files
        Files of user elements (:func:`eisfit.fitting.user_elements.load_elements`) the parent had
        loaded: a worker started by spawn or forkserver has none of them until it runs them
        (a forked one inherits them, and the files are not run again).
    """
    if deathsig:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - not glibc/musl Linux
            pass
    ppid = os.getppid()  # after prctl: a parent that died in between is seen here
    if parent is not None and ppid != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == ppid:
            time.sleep(WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="eisfit-watch-parent", daemon=True).start()
    _load_element_files(element_files)


def _load_element_files(element_files: tuple[str, ...]) -> None:
    """Run the parent's files of user elements in this process (unchanged ones run once)."""
    if element_files:
        from eisfit.fitting.user_elements import load_elements

        for path in element_files:
            load_elements(path)


def start_method() -> str | None:
    """The start method of the worker processes: ``$EISFIT_START_METHOD`` (``fork``,
    ``spawn`` or ``forkserver``) when set, else None (multiprocessing's default).

    Raises
    ------
    EisfitError
        ``EISFIT_START_METHOD`` names a method this platform does not have.
    """
    method = os.environ.get(START_METHOD_ENV) or None
    if method is not None and method not in multiprocessing.get_all_start_methods():
        raise EisfitError(f"{START_METHOD_ENV}={method}: expected one of "
                          f"{', '.join(multiprocessing.get_all_start_methods())}")
    return method


def _new_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with this process (see :func:`_worker_init`)."""
    from eisfit.fitting.user_elements import loaded_element_files

    ctx = multiprocessing.get_context(start_method())
    method = ctx.get_start_method()
    parent = None if method == "forkserver" else os.getpid()
    deathsig = (
        sys.platform.startswith("linux")
        and method == "fork"
        and threading.current_thread() is threading.main_thread()
    )
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_worker_init,
        initargs=(parent, deathsig, loaded_element_files()),
    )


#: What the workers do with a stack (``work(chunk)``, a picklable function of its items) and
#: the outcomes of a stack that failed as a whole (``fail(chunk, reason)``, in this process).
Work = Callable[[list[Any]], list[Any]]
Fail = Callable[[list[Any], str], list[Any]]


def _submit(pool: ProcessPoolExecutor, chunk: list[Any], work: Work) -> Future[list[Any]] | None:
    """Submit a stack; None when the pool is broken."""
    try:
        return pool.submit(work, chunk)
    except BrokenProcessPool:
        return None


def _outcome(future: Future[list[Any]] | None, chunk: list[Any],
             fail: Fail) -> list[Any] | None:
    """A stack's outcomes; None when it was lost with a worker process."""
    if future is None:
        return None
    try:
        return future.result()
    except BrokenProcessPool:
        return None
    except Exception as exc:  # a stack that could not be sent or returned: each reports it
        return fail(chunk, one_line(exc))


def _processes(pool: ProcessPoolExecutor) -> dict[int, Any]:
    """The pool's own dict of its worker processes (filled as they start, kept after they are
    joined), for their exit codes; empty where the executor keeps no such dict."""
    procs = getattr(pool, "_processes", None)
    return procs if isinstance(procs, dict) else {}


def _how_died(processes: dict[int, Any]) -> str:
    """How a broken pool's worker died, from the exit codes of its (joined) processes: the
    pool itself terminates the survivors (SIGTERM), so another code is the cause."""
    codes = [p.exitcode for p in list(processes.values()) if p.exitcode not in (None, 0)]
    codes.sort(key=lambda c: c == -signal.SIGTERM)
    if not codes:
        return "cause unknown"
    code = codes[0]
    if code > 0:
        return f"exit status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name}" + (
        ", as by the out-of-memory killer" if -code == signal.SIGKILL else "")


class _Deaths:
    """What the pool lost in a batch, told in one line at the end."""

    def __init__(self) -> None:
        self.died = 0
        self.how: list[str] = []
        self.refitted = 0
        self.lost = 0

    def broke(self, processes: dict[int, Any]) -> str:
        how = _how_died(processes)
        self.died += 1
        if how not in self.how:
            self.how.append(how)
        return how

    def line(self) -> str:
        who = "a worker process" if self.died == 1 else f"{self.died} worker processes"
        text = f"{who} died ({'; '.join(self.how)})"
        if not self.lost:
            return (f"{text}; the {self.refitted} spectra in flight were fitted again in fresh "
                    "processes (the results are complete)")
        again = f", {self.refitted} others fitted again" if self.refitted else ""
        return (f"{text}; {self.lost} spectra were lost because their fresh process died too "
                f"(listed under failures){again}")


def _retry(lost: list[list[Any]], work: Work, fail: Fail, workers: int,
           deaths: _Deaths) -> list[list[Any]]:
    """Fit each lost stack once more in a fresh process of its own (``workers`` at a time), so
    that a stack that kills its process again takes no other stack with it."""
    out: list[list[Any]] = []
    for start in range(0, len(lost), workers):
        group = lost[start:start + workers]
        pools = [_new_pool(1) for _ in group]
        try:
            futures = [_submit(p, c, work) for p, c in zip(pools, group, strict=True)]
            results = [_outcome(f, chunk, fail) for f, chunk in zip(futures, group, strict=True)]
        finally:
            processes = [_processes(pool) for pool in pools]
            for pool in pools:
                pool.shutdown(wait=True)
        for chunk, result, procs in zip(group, results, processes, strict=True):
            if result is None:
                reason = f"{LOST} and so did a fresh one ({deaths.broke(procs)})"
                result = fail(chunk, reason)
                deaths.lost += len(chunk)
            else:
                deaths.refitted += len(chunk)
            out.append(result)
    return out


def _fit_pool(chunks: Iterable[list[Any]], work: Work, fail: Fail, workers: int,
              notes: list[str] | None) -> Iterator[Any]:
    """:func:`fit_many` on a process pool: at most ``2 * workers`` stacks in flight, outcomes
    in input order; a pool broken by a dead worker is replaced, its unfinished stacks refitted
    once (:func:`_retry`)."""
    it = iter(chunks)
    more = True
    deaths = _Deaths()
    try:
        while True:
            pending: deque[tuple[Future[Any] | None, list[Any]]] = deque()
            pool = _new_pool(workers)
            processes = _processes(pool)
            with pool:
                while True:
                    while more and len(pending) < 2 * workers:
                        chunk = next(it, None)
                        if chunk is None:
                            more = False
                            break
                        pending.append((_submit(pool, chunk, work), chunk))
                    if not pending:
                        break
                    result = _outcome(*pending[0], fail)
                    if result is None:  # the pool is broken: every future is settled
                        break
                    pending.popleft()
                    yield from result
            if not pending:
                return
            deaths.broke(processes)
            kept = [_outcome(f, c, fail) if f is not None and f.done() else None
                    for f, c in pending]
            lost = [c for (_, c), k in zip(pending, kept, strict=True) if k is None]
            again = iter(_retry(lost, work, fail, workers, deaths))
            for k in kept:
                yield from (k if k is not None else next(again))
    finally:
        if deaths.died:
            line = deaths.line()
            if notes is not None:
                notes.append(line)
            else:
                warnings.warn(line, WorkerDiedWarning, stacklevel=3)


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
    notes: list[str] | None = None,
    start_from: FitResult | None = None,
    constraints: Any = None,
    drop_inductive: bool = True,
    geometry: Any = None,
    engine: str = "auto",
    spec: FitSpec | None = None,
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
        Spectra fitted together by :func:`eisfit.fitting.stack.fit_stack` (one vectorised solve for
        all their starting values); 1 fits each spectrum with :func:`eisfit.fit`. The results
        of the two differ only where a spectrum's minimum is not unique to the last digits.
    notes
        A list that receives, at the end, one line saying how many worker processes died and
        what became of the spectra they held; None (default): that line is issued as a
        :class:`WorkerDiedWarning`. Nothing is added when no worker died.
    start_from
        A previous fit whose values are one more start for every spectrum, as for
        :func:`eisfit.fit` (sent to the workers with the other options).
    constraints
        Expressions between parameters, as for :func:`eisfit.fit`; each spectrum is then
        fitted alone with :func:`eisfit.fit` (not stacked).
    drop_inductive, geometry, engine
        As for :func:`eisfit.fit`. Worker processes (and Dask workers) fit with the engine this
        process would use (``"auto"``: the context's, :func:`eisfit.kernels.compiled.use`).
    spec
        The options as one :class:`~eisfit.fitting.spec.FitSpec` (the option keywords above
        then left at their defaults); None (default): the spec the option keywords make. It is
        sent whole to the workers, and every result records it.

    Yields
    ------
    FitResult or Failure
        One per spectrum, in the order given. A failure carries ``meta["label"]`` (or the
        source) and a one-line reason. When a worker process dies, the stacks already finished
        are kept and those in flight are fitted again, each in a fresh process; a spectrum
        whose fresh process dies too is a failure whose reason begins with :data:`LOST`.

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
    _check_sizes(workers, stack)
    # the options checked once, here, before any spectrum is read or sent to a worker
    options = _spec_of(spec, circuit, weighting, external_resistance, drop_inductive, kk,
                       geometry, constraints, engine)
    chunks = _chunks(spectra, stack)
    if client is not None:
        yield from _fit_dask(chunks, options, start_from, client)
        return
    if workers == 1:
        for chunk in chunks:
            yield from _fit_chunk(chunk, options, start_from)
        return
    work = functools.partial(_fit_chunk, spec=options, start_from=start_from,
                             compiled_on=options.compiled_here())
    yield from _fit_pool(chunks, work, _spectrum_failures, workers, notes)


def _check_sizes(workers: Any, stack: Any) -> None:
    """Refuse a number of workers or a stack size that is not a positive integer."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise EisfitError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(stack, bool) or not isinstance(stack, int) or stack < 1:
        raise EisfitError(f"stack must be a positive integer, got {stack!r}")


def _spec_of(spec: FitSpec | None, circuit: Any, weighting: str, external_resistance: float,
             drop_inductive: bool, kk: bool, geometry: Any, constraints: Any,
             engine: str = "auto") -> FitSpec:
    """The spec of :func:`fit_many`: ``spec`` when given (the option keywords then left at
    their defaults), else the one the option keywords make.

    Raises
    ------
    ArgumentError
        ``spec`` is not a FitSpec, or is given with option keywords too.
    """
    given = FitSpec(circuit, weighting, external_resistance, drop_inductive, kk, geometry,
                    constraints, engine=engine)
    if spec is None:
        return given
    if not isinstance(spec, FitSpec):
        raise ArgumentError(f"spec must be an eisfit.FitSpec, got {type(spec).__name__}")
    if given != FitSpec():
        raise ArgumentError("give the fit options either as a spec or as keywords, not both")
    return spec


def read_and_fit(
    jobs: Iterable[Any],
    read: Callable[[Any], tuple[Any, list[Spectrum]]],
    spec: FitSpec,
    *,
    workers: int = 1,
    stack: int = STACK,
    notes: list[str] | None = None,
    start_from: FitResult | None = None,
    pickled: bool = False,
    digest: Callable[[FitResult], Any] | None = None,
) -> Iterator[Read]:
    """Read inputs and fit their spectra in the worker processes; yield one :class:`Read` per
    input, in input order.

    What :func:`fit_many` does, except that the workers read the spectra too: this process
    sends each input (a file's path, say) and ``read`` and gets the fits back, so reading
    costs it nothing. Inputs go to the workers in stacks of ``stack``, all the spectra of a
    stack fitted at once; a worker process that dies is handled as by :func:`fit_many`, an
    input lost with it (or in a stack that could not be sent) is a :class:`Read` with its
    ``error``.

    Parameters
    ----------
    jobs
        The inputs (any iterable of picklable objects; consumed lazily).
    read
        ``read(job) -> (info, spectra)``: a picklable function (a module-level one, or an
        instance of a module-level class) run where the fits run. It reports what goes wrong
        with an input in ``info`` rather than raising (an exception fails its whole stack).
    spec
        The options every spectrum is fitted with.
    workers, stack, notes, start_from
        As for :func:`fit_many`.
    pickled
        Give each :class:`~eisfit.fitting.result.FitResult` as its pickle (bytes, made in the
        worker), for :meth:`eisfit.store.ResultStore.append_pickled`: this process then
        neither unpickles nor pickles it again.
    digest
        ``digest(result)``: a picklable function (a module-level one, or a
        :func:`functools.partial` of one) run where each result is made, whose answer comes
        with it: each result is then ``(result, digest(result))`` (the result as its pickle
        when ``pickled``; the answer None when ``digest`` raised). What this process needs of
        each result, made in the workers, so that it need not read the result.

    Yields
    ------
    Read
        One per input, in the order given.

    Raises
    ------
    EisfitError
        If ``workers`` or ``stack`` is not a positive integer.
    """
    _check_sizes(workers, stack)
    work = functools.partial(_read_chunk, read=read, spec=spec, start_from=start_from,
                             pickled=pickled, digest=digest,
                             compiled_on=spec.compiled_here())
    chunks = _chunks(jobs, stack)
    if workers == 1:
        for chunk in chunks:
            yield from work(chunk)
        return
    yield from _fit_pool(chunks, work, _read_failures, workers, notes)


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
    chunks: Iterable[list[Spectrum]], spec: FitSpec, start_from: FitResult | None, client: Any
) -> Iterator[FitResult | Failure]:
    own = isinstance(client, str)
    if own:
        client = dask_client(client)
    elif not callable(getattr(client, "submit", None)):
        raise EisfitError(
            f"client must be a dask.distributed.Client or a scheduler address, got "
            f"{type(client).__name__}"
        )
    compiled_on = spec.compiled_here()
    try:
        _register_elements(client)
        window = 2 * _cluster_threads(client)
        pending: deque[Any] = deque()
        for chunk in chunks:
            # pure=False: two equal stacks are still two tasks (results stay one per input)
            labels = [label_of(s) for s in chunk]
            pending.append((client.submit(_fit_chunk, chunk, spec, start_from, compiled_on,
                                          pure=False), labels))
            if len(pending) >= window:
                yield from _result(*pending.popleft())
        while pending:
            yield from _result(*pending.popleft())
    finally:
        if own:
            client.close()


def _register_elements(client: Any) -> None:
    """Register :class:`~eisfit.fitting.dask_elements.ElementsPlugin` with a Dask client when user
    elements were loaded from files in this process (none: nothing to do)."""
    from eisfit.fitting.user_elements import loaded_element_files

    files = loaded_element_files()
    if not files:
        return
    from eisfit.fitting.dask_elements import ElementsPlugin

    register = getattr(client, "register_plugin", None) or getattr(
        client, "register_worker_plugin", None)
    if register is None:
        raise EisfitError("this Dask client cannot register a worker plugin, so its workers "
                          "cannot load the --elements files; update dask.distributed")
    register(ElementsPlugin(files))


def _result(future: Any, labels: list[str]) -> list[FitResult | Failure]:
    try:
        out = future.result()
    except Exception as exc:  # a lost worker or a task the cluster could not run
        reason = f"Dask task failed: {one_line(exc)}"
        out = [Failure(label, reason) for label in labels]
    future.release()
    return out
