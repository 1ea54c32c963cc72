"""Shared by the BLAS-thread promise tests (test_promise_cli.py, test_promise_evaluation.py)."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

USER_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def blas_threads_now() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


@pytest.fixture
def two_blas_threads(monkeypatch):
    """BLAS set to 2 threads outside training, no user variable set (restored after)."""
    for var in USER_VARS:
        monkeypatch.delenv(var, raising=False)
    if not blas_threads_now():
        pytest.skip("no BLAS library that threadpoolctl can see (threadpool_info lists none)")
    with threadpool_limits(limits=2, user_api="blas"):
        if blas_threads_now() != {2}:
            pytest.skip(
                f"BLAS cannot run 2 threads on this machine (it reports {blas_threads_now()}), so one "
                f"thread and the caller's setting cannot be told apart"
            )
        yield
