"""How many threads BLAS may use while the command line trains: one, unless the user says.

The engine's matrix products are small (a mini-batch of 10 rows against a 784 x 100 weight
matrix). A second BLAS thread saves little on them, and on a busy two-core machine it waits
for a core: we measured one float32 epoch at 64 s with two threads against 1.2 s with one,
and no consistent gain from two on a quiet machine (benchmarks/README.md). So the command
line runs with one BLAS thread unless ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` or
``OMP_NUM_THREADS`` is set. The limit is scoped (``threadpoolctl``) and applies only inside
the ``with`` block, so importing nndl as a library changes nothing in the caller's process.
A sweep's trials run under ``blas_limit`` instead: the same count wherever they run.
"""

from __future__ import annotations

import contextlib
import os

from threadpoolctl import threadpool_limits

_USER_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def blas_threads():
    """A context manager: BLAS limited to one thread, or left alone if the user chose a count."""
    if any(os.environ.get(v) for v in _USER_VARS):
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def blas_limit():
    """Limit BLAS, in this process, to one thread - or to the count the user set in
    OPENBLAS_NUM_THREADS (MKL_NUM_THREADS, OMP_NUM_THREADS) - and return the limit (a
    context manager; it is already in force).

    Unlike ``blas_threads``, which leaves BLAS alone when such a variable is set,
    this applies the count explicitly: a variable set after NumPy loaded BLAS (Dask sets
    them in the process that starts a cluster) does not change the threads BLAS already
    has, and a trial must run on the same count wherever it runs to give the same result.
    """
    n = 1
    for var in _USER_VARS:
        try:
            n = max(1, int(os.environ.get(var, "")))
            break
        except ValueError:
            continue
    return threadpool_limits(limits=n, user_api="blas")
