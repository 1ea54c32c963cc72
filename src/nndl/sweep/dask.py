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

from nndl.errors import NndlError

from .events import set_sink
from .runner import Runner

try:
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client, WorkerPlugin
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise NndlError("--dask needs Dask's distributed scheduler, an optional extra of nndl: "
                    "pip install 'nndl[dask]'") from e

TOPIC = "nndl-progress"


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
        if timeout is None:  # Dask's own setting (30 s unless DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT says)
            timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"))
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise NndlError(f"cannot reach the Dask scheduler at {address}: {e}; start one with "
                            f"'dask scheduler' and workers with 'dask worker ADDRESS --nthreads 1'") from None
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            self.client.close()
            raise NndlError(f"the Dask scheduler at {address} has no workers; start some with "
                            f"'dask worker {address} --nthreads 1'") from None
        register = getattr(self.client, "register_plugin", None) or self.client.register_worker_plugin
        register(SweepWorkerSetup(), name=SweepWorkerSetup.name)
        self._arrived: collections.deque = collections.deque()
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
        while self._arrived:
            event = self._arrived.popleft()
            if self._listener is not None and isinstance(event, dict):
                self._listener(event)

    def describe(self) -> str:
        return (f"Dask cluster at {self.address} ({self.workers} worker thread"
                f"{'s' if self.workers != 1 else ''}{', data scattered' if self.scatter else ''})")

    def close(self, cancel: bool = False) -> None:
        try:
            if cancel:
                self.executor.shutdown(wait=False)
                self.client.cancel(list(self.executor._futures), force=True)  # noqa: SLF001
            else:
                self.executor.shutdown(wait=True)
            if self._scattered is not None:
                self.client.cancel(self._scattered)
        finally:
            self.client.close()
