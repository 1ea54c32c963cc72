"""The Dask runner: trials on the workers of a Dask distributed cluster (``--dask ADDRESS``).

Needs the optional extra (``pip install 'nndl[dask]'``); nothing else in nndl imports
Dask. Start a cluster with ``dask scheduler`` and ``dask worker ADDRESS --nthreads 1``
(one trial per worker process is the sensible unit: a trial is single-threaded NumPy).
On connecting, the runner installs a worker plugin that gives every worker - present and
future - one BLAS thread and a progress channel (Dask's event log, which the client
subscribes to). Workers then load the data from their own verified cache
(``nndl.data``), or, with ``scatter=True``, receive the arrays this process loaded, sent
once to each worker.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import logging
import socket
import sys
import time

from nndl.errors import NndlError, quote

from .events import set_sink
from .runner import Runner, SweepStopped

try:
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client, KilledWorker, WorkerPlugin
    from distributed.comm.addressing import get_address_host_port
    from distributed.comm.core import CommClosedError
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise NndlError(
        "--dask needs Dask's distributed scheduler, an optional extra of nndl: pip install 'nndl[dask]'"
    ) from e

TOPIC = "nndl-progress"
CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler, at most (Dask's own default is 30, retried)
CLOSE_TIMEOUT = 5.0  # seconds to wait for a cluster that stopped answering while closing
NO_WORKER_WAIT = 60.0  # seconds a sweep waits for a worker once the cluster has none (all died)


def _reach(address: str, timeout: float) -> None:
    """A plain TCP connection to a tcp:// or tls:// scheduler's port first: where nothing listens
    the answer comes at once (or after ``timeout``), in one line, without a Dask client's retries."""
    try:
        host, port = get_address_host_port(address)
    except (ValueError, TypeError) as e:  # e.g. no port, a bad IPv6 literal
        raise NndlError(
            f"--dask: {quote(address, 60)} is not a scheduler address Dask understands "
            f"({quote(str(e), 80)[1:-1]}); give one such as tcp://10.0.0.5:8786"
        ) from None
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except (OSError, ValueError, OverflowError) as e:
        why = (
            f"no answer within {timeout:g} s"
            if isinstance(e, TimeoutError)
            else (getattr(e, "strerror", None) or quote(str(e), 80)[1:-1])
        )
        raise NndlError(
            f"cannot reach the Dask scheduler at {address}: {why}; start one "
            f"with 'dask scheduler' and workers with 'dask worker ADDRESS --nthreads 1'"
        ) from None


def _connect(address: str, timeout: float) -> Client:
    """A client of the scheduler at ``address``, or one line saying why not (bounded by ``timeout``).

    Something that accepts the connection but is no Dask scheduler makes the client fail with
    anything from ``OSError`` to ``MemoryError`` (a garbage frame length); all of them end here.
    A client that failed half-way complains while it is collected: that noise is dropped.
    """
    if address.partition("://")[0].lower() in ("tcp", "tls") or "://" not in address:
        _reach(address, timeout)
    problem = None
    hook, sys.unraisablehook = sys.unraisablehook, lambda unraisable: None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as e:  # noqa: BLE001 - anything a client raises means: no scheduler to use
        problem = f"{type(e).__name__}: {quote(str(e), 120)[1:-1]}" if str(e) else type(e).__name__
    finally:
        if problem is not None:
            import gc

            gc.collect()  # the half-made client goes now, while its complaints are dropped
        sys.unraisablehook = hook
    raise NndlError(
        f"cannot use a Dask scheduler at {address}: {problem}; start one with 'dask scheduler' "
        f"and workers with 'dask worker ADDRESS --nthreads 1'"
    )


def _quiet_dask_logs() -> dict:
    """Dask's client logs a cluster that died as tracebacks on stderr; the sweep says it in one line.
    Returns the levels to restore (``distributed`` and each of its loggers that has its own)."""
    names = ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    return levels


def _restore_logs(levels: dict) -> None:
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


class SweepWorkerSetup(WorkerPlugin):
    """On every worker: one BLAS thread (or the worker's OPENBLAS_NUM_THREADS) and progress into Dask's event log."""

    name = "nndl-sweep"

    def setup(self, worker):
        from nndl.blas import blas_limit

        self._limit = blas_limit()
        set_sink(lambda event: worker.log_event(TOPIC, event))

    def teardown(self, worker):
        set_sink(None)


class DaskRunner(Runner):
    """Trials as tasks of an existing Dask cluster at ``address`` (e.g. tcp://10.0.0.5:8786)."""

    kind = "dask"

    def __init__(self, address: str, *, scatter: bool = False, timeout: float | None = None):
        super().__init__()
        self.address = address
        self._levels = _quiet_dask_logs()
        try:
            self._start(address, scatter, timeout)
        except BaseException:
            _restore_logs(self._levels)
            raise

    def _start(self, address: str, scatter: bool, timeout: float | None) -> None:
        if timeout is None:  # Dask's setting (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT), at most CONNECT_TIMEOUT
            timeout = min(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect")), CONNECT_TIMEOUT)
        self.client = _connect(address, timeout)
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            with contextlib.suppress(Exception):
                self.client.close(timeout=CLOSE_TIMEOUT)
            raise NndlError(
                f"the Dask scheduler at {address} has no workers; start some with 'dask worker {address} --nthreads 1'"
            ) from None
        register = getattr(self.client, "register_plugin", None) or self.client.register_worker_plugin
        register(SweepWorkerSetup(), name=SweepWorkerSetup.name)
        self._arrived: collections.deque = collections.deque()
        self._checked, self._no_worker_since = 0.0, None
        self.client.subscribe_topic(TOPIC, lambda ev: self._arrived.append(ev[1]))
        self.workers = max(1, sum(self.client.nthreads().values()))
        self.scatter = scatter
        self._scattered = None
        self.executor = self.client.get_executor(pure=False)

    def share(self, source, splits=None):
        if not self.scatter:
            return source
        if splits is None:
            splits = source.load()
        # once to every worker; tasks that take the future get the worker's local copy
        self._scattered = self.client.scatter(splits, broadcast=True, hash=False)
        return self._scattered

    def pump(self) -> None:
        """Deliver progress; stop the sweep (``SweepStopped``) once the cluster has had no worker for
        ``NO_WORKER_WAIT`` seconds - Dask itself would wait for one forever."""
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked = now
            try:
                workers = len(self.client.scheduler_info().get("workers", {}))
            except Exception:  # noqa: BLE001 - a scheduler that is gone: the futures say so
                workers = 1
            if workers:
                self._no_worker_since = None
            elif self._no_worker_since is None:
                self._no_worker_since = now
            elif now - self._no_worker_since > NO_WORKER_WAIT:
                raise SweepStopped(
                    f"the Dask cluster at {self.address} has had no workers for "
                    f"{NO_WORKER_WAIT:g} s (they died or were stopped)"
                )
        while self._arrived:
            event = self._arrived.popleft()
            if self._listener is not None and isinstance(event, dict):
                self._listener(event)

    def describe(self) -> str:
        return (
            f"Dask cluster at {self.address} ({self.workers} worker thread"
            f"{'s' if self.workers != 1 else ''}{', data scattered' if self.scatter else ''})"
        )

    def lost(self, error: BaseException) -> str | None:
        if isinstance(error, KilledWorker):
            return f"Dask workers died running a trial ({quote(str(error), 120)[1:-1]})"
        if isinstance(
            error, (concurrent.futures.CancelledError, CommClosedError, TimeoutError)
        ) or self.client.status not in ("running", "connecting", "newly-created"):
            return (
                f"the Dask scheduler at {self.address} stopped answering ({type(error).__name__}); "
                f"trials in flight were lost"
            )
        return None

    def close(self, cancel: bool = False) -> None:
        """Stop (``cancel``: at once) and disconnect; a cluster that died is let go within
        ``CLOSE_TIMEOUT`` seconds, not waited on."""
        try:
            if cancel or self.client.status != "running":
                self.executor.shutdown(wait=False)
                with contextlib.suppress(Exception):
                    self.client.cancel(list(self.executor._futures), force=True)  # noqa: SLF001
            else:
                self.executor.shutdown(wait=True)
            if self._scattered is not None:
                with contextlib.suppress(Exception):
                    self.client.cancel(self._scattered)
        finally:
            with contextlib.suppress(Exception):
                self.client.close(timeout=CLOSE_TIMEOUT)
            _restore_logs(self._levels)
