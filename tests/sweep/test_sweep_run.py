"""nndl sweep on the committed sample: a local pool, the same rows as inline, one row per trial in
SQLite, resume after a kill or Ctrl-C, show/plot, and the store's refusals."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nndl import TrainConfig
from nndl.cli import main
from nndl.sweep import DataSource, InlineRunner, SweepSpec, SweepStore, figures, open_sweep, run_sweep
from nndl.sweep.store import SweepFileError
from nndl.sweep.trial import Trial, run_trial

SAMPLE = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


def _ctrl_c_works():
    """In the child: Ctrl-C (SIGINT) as a terminal delivers it. A shell's background job - CI may
    run the suite as one - starts with SIGINT ignored, and Python keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


PNG = b"\x89PNG\r\n\x1a\n"
# eta 3.0 on the sample is chaotic enough that one BLAS thread more or less changes the digits
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
]


def comparable(rows):
    """What must be equal wherever a trial ran: all but times, host and process."""
    out = []
    for r in rows:
        h = {k: v for k, v in r["history"].items() if k != "epoch_seconds"}
        out.append((r["key"], r["params"], r["config"], h, r["validation_accuracy"], r["test_accuracy"], r["status"]))
    return out


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    """The grid on a local pool of 2 processes (the default runner), through the command line."""
    folder = tmp_path_factory.mktemp("sweeps") / "grid"
    assert main(["sweep", *GRID, "--workers", "2", "--out", str(folder)]) == 0
    return folder


def test_a_local_sweep_records_one_row_per_trial_with_everything_promised(pooled):
    with SweepStore(pooled) as store:
        rows = store.rows()
        assert store.counts() == {"done": 8}
    assert len(rows) == 8 and len({r["pid"] for r in rows}) >= 1
    for r in rows:
        assert set(r["params"]) == {"eta", "lmbda", "seed"} and r["seed"] == r["params"]["seed"]
        assert r["config"]["eta"] == r["params"]["eta"] and r["config"]["sizes"] == [784, 30, 10]
        assert len(r["history"]["evaluation_accuracy"]) == 2 and len(r["history"]["training_cost"]) == 2
        assert r["validation_accuracy"] == r["history"]["evaluation_accuracy"][-1] / r["n_evaluation"]
        assert r["test_accuracy"] is None  # only when asked (--test)
        assert r["seconds"] > 0 and r["host"] and r["started"] <= r["finished"]
        assert r["n_train"] == 1667 and r["n_evaluation"] == 333


def test_the_pool_gives_the_rows_of_the_inline_run_bit_for_bit(pooled, tmp_path):
    inline = tmp_path / "inline"
    assert main(["sweep", *GRID, "--workers", "1", "--out", str(inline)]) == 0
    with SweepStore(pooled) as a, SweepStore(inline) as b:
        ra, rb = a.rows(), b.rows()
    assert os.getpid() not in {r["pid"] for r in ra} and {r["pid"] for r in rb} == {os.getpid()}
    assert comparable(ra) == comparable(rb)


def test_the_sweep_writes_its_figures(pooled):
    for name in (figures.ETA_FIGURE, figures.ACCURACY_FIGURE, figures.HEATMAP_FIGURE):
        data = (pooled / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 15_000


def test_show_sorts_by_validation_accuracy_and_json_has_every_trial(pooled, capsys):
    assert main(["sweep", "show", str(pooled)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"sweep in {pooled}: 8 of 8 trials finished")
    assert out[1].split() == ["rank", "eta", "lmbda", "seed", "validation", "epochs", "seconds", "host"]
    shown = [float(line.split()[4].rstrip("%")) for line in out[2:10]]
    assert shown == sorted(shown, reverse=True) and len(shown) == 8
    assert main(["sweep", "show", str(pooled), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    accs = [r["validation_accuracy"] for r in data["rows"]]
    assert data["finished"] == data["trials"] == 8 and accs == sorted(accs, reverse=True)
    assert [round(100 * a, 2) for a in accs] == shown
    assert data["rows"][0]["history"]["training_cost"] and data["rows"][0]["config"]["lmbda"] in (0, 5)


def test_plot_redraws_from_the_database_alone(pooled, capsys):
    (pooled / figures.HEATMAP_FIGURE).unlink()
    assert main(["sweep", "plot", str(pooled)]) == 0
    assert (pooled / figures.HEATMAP_FIGURE).read_bytes().startswith(PNG)
    assert "Drew 3 figures" in capsys.readouterr().out


def test_running_the_same_command_again_runs_nothing(pooled, capsys):
    with SweepStore(pooled) as store:
        before = store.rows()
    assert main(["sweep", *GRID, "--workers", "2", "--out", str(pooled)]) == 0
    with SweepStore(pooled) as store:
        assert store.rows() == before
    assert "8 trials (8 finished before)" in capsys.readouterr().err


def test_the_default_folder_depends_only_on_the_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = [
        "sweep",
        "--eta",
        "0.5,1",
        "--sizes",
        "784,30,10",
        "--epochs",
        "1",
        "--dataset",
        SAMPLE,
        "-q",
        "--workers",
        "1",
    ]
    assert main(argv) == 0
    (folder,) = (tmp_path / "sweeps").iterdir()
    assert folder.name.startswith("eta-")
    assert main(argv) == 0
    assert [p.name for p in (tmp_path / "sweeps").iterdir()] == [folder.name]
    assert "2 trials (2 finished before)" in capsys.readouterr().err


def test_a_folder_holding_another_sweep_is_refused(pooled, capsys):
    argv = [
        "sweep",
        "--eta",
        "0.1,0.2",
        "--epochs",
        "1",
        "--sizes",
        "784,30,10",
        "--dataset",
        SAMPLE,
        "-q",
        "--out",
        str(pooled),
        "--workers",
        "1",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "holds another sweep" in err and "eta 0.5,3" in err and "another --out" in err


def test_seeds_pair_trials_same_initial_weights_across_the_grid():
    source = DataSource.make(SAMPLE)
    nets = {}
    for eta in (0.1, 3.0):
        for seed in (0, 1):
            cfg = TrainConfig(sizes=(784, 30, 10), epochs=0, eta=eta, seed=seed)
            nets[eta, seed] = run_trial(Trial("t", cfg, keep_model=True), source)["net"]
    for seed in (0, 1):
        assert all(np.array_equal(a, b) for a, b in zip(nets[0.1, seed].weights, nets[3.0, seed].weights))
    assert not np.array_equal(nets[0.1, 0].weights[0], nets[0.1, 1].weights[0])


# -- resume ------------------------------------------------------------------------------------

SLOW = ["--eta", "0.1,0.2,0.3,0.4,0.5,0.6", "--sizes", "784,30,10", "--epochs", "10", "--dataset", SAMPLE, "-q"]


def _sweep_process(folder, *extra):
    cmd = [sys.executable, "-m", "nndl", "sweep", *SLOW, "--out", str(folder), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_works)


def _wait_for_rows(folder, n, proc, limit=60.0):
    db = Path(folder) / "sweep.sqlite"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if db.is_file():
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    if con.execute("SELECT COUNT(*) FROM trials WHERE status = 'done'").fetchone()[0] >= n:
                        return
            except sqlite3.OperationalError:  # created but no table yet
                pass
        time.sleep(0.02)
    raise AssertionError(f"the sweep finished or stalled before {n} rows were written")


def test_a_killed_sweep_resumes_running_only_the_unfinished_trials(tmp_path):
    folder = tmp_path / "killed"
    proc = _sweep_process(folder, "--workers", "1")
    _wait_for_rows(folder, 1, proc)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up: the database must still be sound
    proc.wait(timeout=30)
    with SweepStore(folder) as store:
        kept = store.rows()
        counts = store.counts()
    assert 1 <= len(kept) < 6 and counts.get("pending", 0) + counts.get("running", 0) == 6 - len(kept)
    assert main(["sweep", *SLOW, "--out", str(folder), "--workers", "2"]) == 0
    with SweepStore(folder) as store:
        rows = store.rows()
    assert len(rows) == 6
    by_key = {r["key"]: r for r in rows}
    for r in kept:  # finished trials were not run again
        assert by_key[r["key"]] == r
    fresh = tmp_path / "fresh"
    assert main(["sweep", *SLOW, "--out", str(fresh), "--workers", "2"]) == 0
    with SweepStore(fresh) as store:
        assert comparable(store.rows()) == comparable(rows)


def test_ctrl_c_stops_the_pool_and_says_how_to_resume(tmp_path, capsys):
    folder = tmp_path / "interrupted"
    proc = _sweep_process(folder, "--workers", "2")
    _wait_for_rows(folder, 1, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted;" in err and f"nndl sweep resume {folder}" in err and "Traceback" not in err
    with SweepStore(folder) as store:
        n = len(store.rows())
    assert 1 <= n < 6
    assert main(["sweep", "show", str(folder)]) == 0
    assert f"{6 - n} trials not finished: nndl sweep resume {folder}" in capsys.readouterr().out
    assert main(["sweep", "resume", str(folder), "--workers", "1", "-q"]) == 0
    with SweepStore(folder) as store:
        assert store.counts() == {"done": 6}


def test_run_sweep_resumes_after_an_interruption_in_the_library(tmp_path):
    spec = SweepSpec(values={"eta": (0.1, 0.5, 1.0), "sizes": ((784, 30, 10),), "epochs": (1,)})
    source = DataSource.make(SAMPLE)
    heard = []

    def stop_after_two(outcome):
        heard.append(outcome.trial.key)
        if len(heard) == 2:
            raise KeyboardInterrupt

    with InlineRunner() as runner, open_sweep(tmp_path, spec, source.dataset) as store:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(spec, store, runner, source, on_result=stop_after_two)
        assert store.counts() == {"done": 2, "pending": 1}
        again = []
        assert run_sweep(spec, store, runner, source, on_result=lambda o: again.append(o.trial.key)) == {"done": 3}
    assert again == [spec.trials()[2].key]


def test_a_diverging_trial_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    folder = tmp_path / "diverge"
    argv = [
        "sweep",
        "--eta",
        "0.5,1e6",
        "--lmbda",
        "0",  # every neuron saturates, the cost is no number
        "--sizes",
        "784,30,10",
        "--epochs",
        "1",
        "--dataset",
        SAMPLE,
        "--out",
        str(folder),
        "--workers",
        "1",
    ]
    assert main(argv) == 0
    with SweepStore(folder) as store:
        statuses = {r["params"]["eta"]: (r["status"], r["error"]) for r in store.rows()}
    assert statuses[0.5] == ("done", None)
    assert statuses[1e6][0] == "diverged" and "diverged" in statuses[1e6][1]


def test_a_value_the_engine_refuses_on_seeing_the_data_names_the_trial(tmp_path, capsys):
    # weight decay 1 - eta*lmbda/n is negative for n = 1,667 training images
    argv = [
        "sweep",
        "--eta",
        "0.5,1e6",
        "--lmbda",
        "5",
        "--sizes",
        "784,30,10",
        "--epochs",
        "1",
        "--dataset",
        SAMPLE,
        "--out",
        str(tmp_path / "refused"),
        "--workers",
        "1",
        "-q",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "the trial with eta 1e+06, seed 0: " in err and "Traceback" not in err


# -- the store -------------------------------------------------------------------------------


def test_the_store_refuses_files_that_are_not_its_own(tmp_path):
    with pytest.raises(SweepFileError, match="no sweep.sqlite here"):
        SweepStore(tmp_path)
    (tmp_path / "sweep.sqlite").write_bytes(b"not a database at all, just text" * 10)
    with pytest.raises(SweepFileError, match="not a sweep database"):
        SweepStore(tmp_path)
    other = tmp_path / "v9"
    other.mkdir()
    with SweepStore(other, create=True) as store:
        store.db.execute("PRAGMA user_version = 9")
    with pytest.raises(SweepFileError, match="schema version 9, but this nndl reads version 1"):
        SweepStore(other)


def test_the_store_has_a_schema_version_and_one_row_per_trial(tmp_path):
    spec = SweepSpec(values={"eta": (0.1, 0.5), "epochs": (1,)})
    with open_sweep(tmp_path, spec, "mnist") as store:
        store.add_trials(spec.trials())
        store.add_trials(spec.trials())  # again: nothing doubles
        assert store.counts() == {"pending": 2}
    con = sqlite3.connect(tmp_path / "sweep.sqlite")
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert json.loads(con.execute("SELECT value FROM meta WHERE key = 'sweep'").fetchone()[0])["spec"]["values"] == {
        "eta": [0.1, 0.5],
        "epochs": [1],
    }
    con.close()


@pytest.mark.parametrize("env", [None, "1"])
def test_inline_trials_run_on_one_blas_thread_even_if_the_variable_came_late(env, monkeypatch):
    """Dask sets OPENBLAS_NUM_THREADS=1 in the process that starts a cluster, after NumPy loaded
    BLAS with a thread per core: the runner must still make it one, or results drift."""
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):  # as a fresh process on two cores has it
        for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
            monkeypatch.delenv(var, raising=False)
        if env:
            monkeypatch.setenv("OPENBLAS_NUM_THREADS", env)
        with InlineRunner():
            assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}
