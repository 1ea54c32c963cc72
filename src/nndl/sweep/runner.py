"""Where trials run: one small interface over a ``concurrent.futures.Executor``.

A :class:`Runner` is an executor plus the two things a training sweep needs besides
``submit``: how the data reaches the workers (:meth:`Runner.share`) and how progress comes
back (:meth:`Runner.listen`, :meth:`Runner.pump`). Code that defines trials submits plain
functions (``executor.submit(run_trial, trial, data)``) and never learns which runner it
has:

* :class:`InlineRunner` - this process, one trial at a time (``--workers 1``): the serial
  reference, and what a debugger wants;
* :class:`LocalRunner` - a pool of worker processes on this machine, one per core by
  default, each with one BLAS thread (``threadpoolctl``), loading the data from its own
  verified cache once;
* :class:`nndl.sweep.dask.DaskRunner` - the workers of a Dask distributed cluster, through
  ``Client.get_executor()`` (the optional extra ``nndl[dask]``).

One BLAS thread per worker is the rule everywhere: the engine's products are small, so
threads gain little and fight over cores (``nndl.blas``); it also makes a trial's
arithmetic, and so its result, the same bit for bit wherever it runs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import queue
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from nndl.blas import blas_limit
from nndl.errors import ConfigError, NndlError, quote

from .events import set_sink


class SweepStopped(NndlError):
    """The runner lost trials in flight (a worker process or the Dask cluster died): the sweep stops,
    and the trials that finished are in the store. ``reason`` says what happened, in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class InlineExecutor(Executor):
    """Runs each call at ``submit``, in this process, and returns a finished future.

    An exception from the call is kept in the future, as a pool would; ``KeyboardInterrupt``
    and other ``BaseException``s are not, so Ctrl-C stops at once.
    """

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(e)
        return future


class Runner:
    """An executor, how data reaches it, and how trials' progress comes back.

    ``executor``: a ``concurrent.futures.Executor``; ``workers``: trials that run at once
    (keep about that many in flight); ``kind``: 'inline', 'local' or 'dask'. Use it as a
    context manager, or call :meth:`close` (``cancel=True`` after Ctrl-C: stop the trials in
    flight instead of waiting for them).
    """

    kind = "runner"
    executor: Executor
    workers: int

    def __init__(self):
        self._listener: Callable[[dict], None] | None = None

    def share(self, source, splits=None):
        """What to pass to trials as their data: ``source`` (a ``DataSource``, which each worker
        loads once) or, where this runner can hand over loaded arrays cheaply, ``splits``."""
        return source

    def listen(self, callback: Callable[[dict], None] | None) -> None:
        """Call ``callback(event)`` for each progress event of a trial (from :meth:`pump`)."""
        self._listener = callback

    def pump(self) -> None:
        """Deliver the progress events that arrived since the last call (in this thread)."""

    def describe(self) -> str:
        return self.kind

    def lost(self, error: BaseException) -> str | None:
        """Why ``error`` means this runner lost trials in flight (a worker or the cluster died), in
        words; None when it is the trial's own error. The sweep then stops, saying what finished."""
        if isinstance(error, SweepStopped):  # raised by the runner itself (pump)
            return error.reason
        if isinstance(error, concurrent.futures.CancelledError):
            return f"a trial was cancelled on {self.describe()}"
        return None

    def run(self, fn, items: Iterable, *args, on_submit=None) -> Iterator[tuple[object, Future]]:
        """Run ``fn(item, *args)`` for every item; yield ``(item, future)`` as each finishes.

        Items are submitted in order, about two per worker in flight (so a sweep can be
        stopped without a long queue to cancel, and results are recorded as they come);
        ``on_submit(item)`` is called as each is handed over. ``future.result()`` returns the
        value or raises the call's exception. Progress events are pumped while waiting.
        """
        pending = list(items)[::-1]
        window = 1 if self.workers == 1 else 2 * self.workers
        inflight: dict[Future, object] = {}
        while pending or inflight:
            while pending and len(inflight) < window:
                item = pending.pop()
                if on_submit is not None:
                    on_submit(item)
                inflight[self.executor.submit(fn, item, *args)] = item
                self.pump()
            done, _ = wait(list(inflight), timeout=0.2, return_when=FIRST_COMPLETED)
            self.pump()
            for future in [f for f in inflight if f in done]:  # in submission order
                yield inflight.pop(future), future

    def close(self, cancel: bool = False) -> None:
        self.executor.shutdown(wait=not cancel, cancel_futures=cancel)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(cancel=exc_type is not None)


class InlineRunner(Runner):
    """Trials run one after another in this process; progress is delivered as it happens.

    While it is open, BLAS runs on one thread here too (as in every worker), so a trial
    gives the same result inline as in a pool.
    """

    kind = "inline"

    def __init__(self):
        super().__init__()
        self.executor = InlineExecutor()
        self.workers = 1
        self._limit = blas_limit()
        self._old_sink = set_sink(self._deliver)

    def _deliver(self, event: dict) -> None:
        if self._listener is not None:
            self._listener(event)

    def share(self, source, splits=None):
        return splits if splits is not None else source

    def describe(self) -> str:
        return "1 process (this one)"

    def close(self, cancel: bool = False) -> None:
        set_sink(self._old_sink)
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None


_HELD = []  # a worker process's BLAS limit, held for the worker's life
PARENT_POLL = 0.5  # seconds between checks that the sweep's process lives, where pidfd_open is missing
WORKER_START = 60.0  # seconds to wait for the pool's workers to start, at most


def _end_with(pid: int) -> None:
    """End this process as soon as process ``pid`` ends, however it ends (``kill -9`` included).

    A pool's workers are children of the forkserver, not of the sweep's process, and the
    forkserver lives as long as any worker does: without this, a killed sweep leaves them
    training to the end of their trials. A daemon thread waits on a pidfd of ``pid`` (Linux
    5.3+: readable when it exits), else checks every ``PARENT_POLL`` seconds.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:  # gone already
        os._exit(1)
    except (AttributeError, OSError):  # not Linux, or an old kernel: poll
        fd = None

    def watch():
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                time.sleep(PARENT_POLL)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
        os._exit(1)

    threading.Thread(target=watch, name="nndl-end-with-sweep", daemon=True).start()


@contextlib.contextmanager
def _signals_deferred():
    """Hold Ctrl-C and SIGTERM for a moment (in the main thread); deliver them, with the handlers
    that were in force, once the block is done."""
    got: list[int] = []
    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(got):
            signal.raise_signal(sig)


def _init_local_worker(events, parent: int) -> None:
    """Start of each pool process: end when the sweep's process ends, Ctrl-C is the main process's
    to handle, one BLAS thread (or the user's OPENBLAS_NUM_THREADS & co.), progress onto the
    shared queue."""
    _end_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _HELD.append(blas_limit())
    set_sink(events.put)
    events.put({"kind": "ready", "pid": os.getpid()})


def _start_method() -> str:
    # forkserver: a clean single-threaded parent for the workers (fork from a process that
    # runs threads - progress bars, the pool's own - can deadlock); spawn where it is missing.
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class LocalRunner(Runner):
    """A pool of ``workers`` processes on this machine (default: one per core)."""

    kind = "local"

    def __init__(self, workers: int | None = None):
        super().__init__()
        n = check_workers(cpu_count() if workers is None else workers)
        self.workers = n
        ctx = multiprocessing.get_context(_start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["nndl.sweep.trial"])  # numpy and the engine, imported once
        self._events = ctx.Queue()
        self.executor = ProcessPoolExecutor(
            n, mp_context=ctx, initializer=_init_local_worker, initargs=(self._events, os.getpid())
        )
        try:
            self._start_workers(n)
        except BaseException:  # Ctrl-C or SIGTERM while the workers start: none is left behind
            self.close(cancel=True)
            raise

    def _start_workers(self, n: int) -> None:
        """Start every worker now and wait (at most ``WORKER_START`` seconds) until each has run its
        initializer - and so watches this process: a sweep stopped a moment after it started then
        leaves no worker half-started (one that, its parent gone, would print a traceback)."""
        with _signals_deferred():  # a process the pool has started but not yet recorded is never lost
            for _ in range(n):  # the pool starts a process per task while none is idle
                self.executor.submit(os.getpid)
        ready, deadline = 0, time.monotonic() + WORKER_START
        while ready < n and time.monotonic() < deadline:
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            ready += event.get("kind") == "ready"

    def pump(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except (queue.Empty, OSError, ValueError, EOFError):
                return
            if self._listener is not None:
                self._listener(event)

    def describe(self) -> str:
        return f"{self.workers} local process{'es' if self.workers > 1 else ''}, one BLAS thread each"

    def lost(self, error: BaseException) -> str | None:
        if isinstance(error, BrokenProcessPool):
            return "a worker process of the local pool died (killed, or out of memory)"
        return super().lost(error)

    def close(self, cancel: bool = False) -> None:
        pool = self.executor
        if cancel:  # stop the trials in flight now: they re-run on resume
            terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
            if terminate is not None:
                terminate()
            else:  # before shutdown, which forgets the processes
                procs = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for p in procs:
                    with contextlib.suppress(OSError, AttributeError):
                        p.terminate()
                for p in procs:
                    p.join(timeout=10)
        pool.shutdown(wait=True)
        self._events.close()
        self._events.join_thread()


MAX_WORKERS = 64  # local processes: each loads its own copy of the data (MNIST: about 190 MB), so 64 need ~12 GB


def check_workers(n) -> int:
    """``--workers``: an integer from 1 to ``MAX_WORKERS`` (``ConfigError`` otherwise), checked before any
    process starts - 100,000 would fork 100,000 processes, each loading the data set."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_WORKERS:
        raise ConfigError(
            f"--workers must be an integer from 1 to {MAX_WORKERS} (each is a process with its own copy "
            f"of the data set; this machine has {cpu_count()} cores), got {quote(n, 40)}"
        )
    return n


DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")  # the address schemes of distributed


def check_dask_address(address) -> str:
    """A scheduler address as ``--dask`` takes it: ``[SCHEME://]HOST:PORT`` with a scheme Dask
    knows (tcp when none is given); ``ConfigError`` otherwise - an empty one is not "local"."""
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(
            f"--dask: {address!r} is not a scheduler address; give one such as tcp://10.0.0.5:8786 "
            f"(leave --dask out to run on this machine)"
        )
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if len(text) > 1000 or not text.isprintable() or any(c.isspace() for c in text):
        raise ConfigError(
            f"--dask: {quote(address, 60)} is not a scheduler address; give one such as tcp://10.0.0.5:8786"
        )
    if scheme.lower() not in DASK_SCHEMES:
        raise ConfigError(
            f"--dask: unknown address scheme {quote(scheme, 40)} in {quote(address, 60)}; Dask's are "
            f"{', '.join(s + '://' for s in DASK_SCHEMES)} (e.g. tcp://10.0.0.5:8786)"
        )
    if scheme.lower() != "inproc" and not rest:
        raise ConfigError(f"--dask: {quote(address, 60)} names no host; give one such as tcp://10.0.0.5:8786")
    return text
