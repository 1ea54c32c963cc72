"""nndl sweep --dask on a real Dask cluster started here on loopback: a scheduler and two worker
processes. Its rows equal the local run's, whether the workers load the data from their own
cache or receive it scattered once."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client, LocalCluster  # the test extra installs it: this test must run in CI
from test_sweep_run import _wait_for_rows, comparable

from nndl.cli import main
from nndl.sweep import SweepStore

SAMPLE = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
GRID = [
    "--eta",
    "0.5,3",
    "--lmbda",
    "0,5",
    "--sizes",
    "784,30,10",
    "--epochs",
    "2",
    "--seeds",
    "0,1",
    "--dataset",
    SAMPLE,
    "-q",
    "--test",
]


@pytest.fixture(scope="module")
def cluster():
    env = dict(os.environ)  # LocalCluster sets OPENBLAS_NUM_THREADS & co. here too; give them back after
    try:
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as c:
            yield c
    finally:
        os.environ.clear()
        os.environ.update(env)


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local") / "grid"
    assert main(["sweep", *GRID, "--workers", "2", "--out", str(folder)]) == 0
    with SweepStore(folder) as store:
        return store.rows()


@pytest.mark.parametrize("scatter", [False, True], ids=["own-cache", "scattered"])
def test_a_sweep_on_a_dask_cluster_gives_the_local_rows(cluster, local_rows, tmp_path, scatter, capsys):
    folder = tmp_path / "dask"
    argv = ["sweep", *GRID, "--dask", cluster.scheduler_address, "--out", str(folder)]
    assert main(argv + (["--scatter"] if scatter else [])) == 0, capsys.readouterr().err
    with SweepStore(folder) as store:
        rows = store.rows()
    with Client(cluster.scheduler_address) as client:
        worker_pids = set(client.run(os.getpid).values())
    assert {r["pid"] for r in rows} <= worker_pids and len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert all(r["test_accuracy"] is not None for r in rows)
    assert comparable(rows) == comparable(local_rows)
    assert "Dask cluster at" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_one_clear_line(tmp_path, capsys):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(
            [
                "sweep",
                "--eta",
                "0.5",
                "--epochs",
                "1",
                "--sizes",
                "784,30,10",
                "--dataset",
                SAMPLE,
                "--out",
                str(tmp_path / "x"),
                "--dask",
                "tcp://127.0.0.1:9",
                "-q",
            ]
        )
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err and "Traceback" not in err


def test_scatter_without_dask_is_refused(tmp_path, capsys):
    code = main(
        [
            "sweep",
            "--eta",
            "0.5",
            "--epochs",
            "1",
            "--sizes",
            "784,30,10",
            "--dataset",
            SAMPLE,
            "--out",
            str(tmp_path / "x"),
            "--scatter",
            "-q",
        ]
    )
    assert code == 1 and "--scatter" in capsys.readouterr().err


def test_an_address_that_answers_but_is_no_scheduler_is_one_line(tmp_path, capsys):
    """Something listens (here: a server that answers like a web server) but speaks no Dask."""
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer():
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
                conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        code = main(
            [
                "sweep",
                "--eta",
                "0.5,1",
                "--epochs",
                "1",
                "--sizes",
                "784,30,10",
                "--dataset",
                SAMPLE,
                "--out",
                str(tmp_path / "x"),
                "--dask",
                f"tcp://127.0.0.1:{port}",
                "-q",
            ]
        )
    finally:
        server.close()
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert f"Dask scheduler at tcp://127.0.0.1:{port}" in err and "Traceback" not in err


def _dask(*args) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "dask"
    return subprocess.Popen([str(exe), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def long_sweep(address: str, folder) -> list[str]:
    """``nndl sweep`` of six long trials on the cluster at ``address``: still running when a test breaks it."""
    return ["sweep", "--eta", "0.1,0.2,0.3,0.4,0.5,0.6", "--sizes", "784,30,10", "--epochs", "60",
            "--dataset", SAMPLE, "-q", "--dask", address, "--out", str(folder)]  # fmt: skip


def end(*processes) -> None:
    """Kill what still runs of ``processes`` (None for one never started) and reap it."""
    for p in processes:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(timeout=30)


def test_a_scheduler_that_dies_mid_sweep_ends_it_in_one_line_saying_what_finished(tmp_path):
    with socket.socket() as s:  # a free port on loopback for the scheduler
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    worker = proc = None
    folder = tmp_path / "dies"
    try:
        worker = _dask("worker", address, "--nthreads", "1", "--no-dashboard")
        with Client(address, timeout=60) as client:  # the scheduler listens and has its worker
            client.wait_for_workers(1, timeout=60)
        proc = subprocess.Popen(
            [sys.executable, "-m", "nndl", *long_sweep(address, folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_rows(folder, 1, proc, limit=120)
        scheduler.kill()  # SIGKILL: no goodbye to the client
        out, err = proc.communicate(timeout=120)
    finally:
        end(proc, scheduler, worker)
    lines = err.strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert lines[-1].startswith("nndl: error: the sweep stopped: the Dask scheduler at") and len(lines) == 2, err
    assert f"resume with: nndl sweep resume {folder}" in lines[-1] and " of 6 trials finished" in lines[-1]


def test_a_cluster_left_without_workers_ends_the_sweep_in_one_line(tmp_path, monkeypatch, capsys):
    import threading

    import nndl.sweep.dask as dask_runner

    monkeypatch.setattr(dask_runner, "NO_WORKER_WAIT", 2.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    worker = None
    folder = tmp_path / "orphaned"
    try:
        worker = _dask("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard")
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)

        def kill_the_worker_after_a_trial():
            with contextlib.suppress(AssertionError):
                _wait_for_rows(folder, 1, worker, limit=120)
            worker.kill()

        threading.Thread(target=kill_the_worker_after_a_trial, daemon=True).start()
        code = main(long_sweep(address, folder))
    finally:
        end(scheduler, worker)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("nndl: error: the sweep stopped: the Dask cluster at") and "no workers for 2 s" in line
    assert f"resume with: nndl sweep resume {folder}" in line
