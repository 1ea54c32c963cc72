"""nndl sweep against hostile input and hostile circumstances: a sweep too large to enumerate, an
edited sweep.sqlite, a locked or empty one, two sweeps into one folder, a killed or terminated
sweep, bad flags. Each ends in one line, in bounded time, and destroys nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from nndl.cli import main
from nndl.errors import ConfigError
from nndl.limits import MAX_SWEEP_TRIALS
from nndl.sweep import Range, SweepSpec, SweepStore
from nndl.sweep import spec as spec_module

SAMPLE = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SMALL = [
    "--eta",
    "0.5,1",
    "--lmbda",
    "0,5",
    "--sizes",
    "784,30,10",
    "--epochs",
    "1",
    "--train-size",
    "300",
    "--validation-size",
    "100",
    "--dataset",
    SAMPLE,
    "-q",
    "--workers",
    "1",
]
SLOW = ["--eta", "0.1,0.2,0.3,0.4", "--sizes", "784,30,10", "--epochs", "3000", "--dataset", SAMPLE, "-q"]


def one_line_error(err: str, start: str = "nndl: error: ") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start) and "Traceback" not in err, err
    return lines[0]


# -- a sweep's size is bounded before anything is enumerated ------------------------------------


@pytest.fixture
def no_enumeration(monkeypatch):
    """Making the trials or the combinations at all fails the test: the bound comes first."""

    def refuse(*a, **k):
        raise AssertionError("the sweep's trials were enumerated before its size was checked")

    monkeypatch.setattr(spec_module.SweepSpec, "combinations", refuse)
    monkeypatch.setattr(spec_module.SweepSpec, "_make_trials", refuse)


@pytest.mark.parametrize(
    "argv, size",
    [
        (
            [
                "--eta",
                ",".join(f"0.{i:02d}1" for i in range(1, 100)),
                "--lmbda",
                ",".join(map(str, range(100))),
                "--epochs",
                ",".join(map(str, range(1, 101))),
                "--mini-batch-size",
                ",".join(map(str, range(1, 101))),
                "--seeds",
                ",".join(map(str, range(1000))),
            ],
            "99,000,000,000",
        ),
        (["--random", "1000000000", "--eta", "0.01:10"], "1,000,000,000"),
        (["--random", "5001", "--eta", "0.01:10", "--seeds", "0,1"], "10,002"),
    ],
)
def test_a_sweep_beyond_the_bound_is_refused_in_one_line_before_enumerating(
    argv, size, no_enumeration, tmp_path, capsys
):
    out = tmp_path / "big"
    code = main(["sweep", *argv, "--dataset", SAMPLE, "--out", str(out), "--workers", "1", "-q"])
    line = one_line_error(capsys.readouterr().err, "nndl sweep: error: ")
    assert code == 2 and not out.exists()
    assert f"this sweep has {size} trials" in line and f"more than the {MAX_SWEEP_TRIALS:,}" in line


def test_the_bound_is_on_trials_and_inclusive():
    at = SweepSpec(values={"eta": tuple(0.01 * (i + 1) for i in range(100)), "epochs": tuple(range(1, 101))})
    assert len(at.trials()) == MAX_SWEEP_TRIALS
    with pytest.raises(ConfigError, match=r"10,100 trials \(101 epochs x 100 eta\)"):
        SweepSpec(values={"eta": at.values["eta"], "epochs": tuple(range(1, 102))})
    with pytest.raises(ConfigError, match=r"--epochs: bad range .*integer"):  # NumPy draws int64 at most
        SweepSpec(ranges={"epochs": Range(1.0, 1e30)}, random=3)


# -- a real small sweep, then edited by hand -----------------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("made") / "sweep"
    assert main(["sweep", *SMALL, "--out", str(folder)]) == 0
    return folder


def _edited(made: Path, tmp_path: Path, *sql: str) -> Path:
    folder = tmp_path / "edited"
    shutil.copytree(made, folder)
    con = sqlite3.connect(folder / "sweep.sqlite")
    con.execute("PRAGMA ignore_check_constraints = 1")
    for statement in sql:
        con.execute(statement)
    con.commit()
    con.close()
    return folder


def _spec_edit(made, change) -> str:
    with sqlite3.connect(made / "sweep.sqlite") as con:
        meta = json.loads(con.execute("SELECT value FROM meta WHERE key = 'sweep'").fetchone()[0])
    con.close()
    change(meta)
    return "UPDATE meta SET value = '" + json.dumps(meta).replace("'", "''") + "' WHERE key = 'sweep'"


def _set(key, value):
    def change(meta):
        meta["spec"][key] = value

    return change


EDITS = {
    "spec not JSON": lambda m: ["UPDATE meta SET value = '{\"spec\": [' WHERE key = 'sweep'"],
    "spec nested too deeply": lambda m: ["UPDATE meta SET value = '" + "[" * 100_000 + "' WHERE key = 'sweep'"],
    "spec a number": lambda m: ["UPDATE meta SET value = '3' WHERE key = 'sweep'"],
    "spec a blob": lambda m: ["UPDATE meta SET value = x'00ff00' WHERE key = 'sweep'"],
    "unknown spec key": lambda m: [_spec_edit(m, _set("bogus", 1))],
    "spec values a string": lambda m: [_spec_edit(m, _set("values", {"eta": "fast"}))],
    "spec seeds of strings": lambda m: [_spec_edit(m, _set("seeds", ["a"]))],
    "spec range with other keys": lambda m: [_spec_edit(m, _set("ranges", {"eta": {"lo": 1, "hi": 2, "x": 3}}))],
    "spec with a 10^12 grid": lambda m: [
        _spec_edit(
            m,
            _set(
                "values",
                {
                    "eta": [0.001 * i for i in range(1, 1001)],
                    "lmbda": list(range(1000)),
                    "epochs": list(range(1, 1001)),
                },
            ),
        )
    ],
    "spec with a 60-digit integer": lambda m: [_spec_edit(m, _set("random_seed", 10**60))],
    "spec with NaN": lambda m: ["UPDATE meta SET value = replace(value, '0.5', 'NaN') WHERE key = 'sweep'"],
    "spec of 50 MB": lambda m: ["UPDATE meta SET value = zeroblob(50000000) WHERE key = 'sweep'"],
    "no sweep record": lambda m: ["DELETE FROM meta WHERE key = 'sweep'"],
    "command not a list": lambda m: ["UPDATE meta SET value = '{\"a\": 1}' WHERE key = 'command'"],
    "trials table with another column": lambda m: ["ALTER TABLE trials ADD COLUMN extra TEXT"],
    "trials table missing a column": lambda m: ["ALTER TABLE trials DROP COLUMN error"],
    "NULL accuracy": lambda m: ["UPDATE trials SET validation_accuracy = NULL"],
    "NULL history": lambda m: ["UPDATE trials SET history = NULL"],
    "string accuracy": lambda m: ["UPDATE trials SET validation_accuracy = 'high'"],
    "a blob in a diverged trial's n_train": lambda m: [
        "UPDATE trials SET status = 'diverged', error = 'diverged', n_train = x'' WHERE idx = 0"
    ],
    "a string for a diverged trial's seconds": lambda m: [
        "UPDATE trials SET status = 'diverged', error = 'diverged', seconds = 'long' WHERE idx = 0"
    ],
    "string accuracy of a diverged trial": lambda m: [
        "UPDATE trials SET status = 'diverged', error = 'diverged', validation_accuracy = ':' WHERE idx = 0"
    ],
    "accuracy above 1": lambda m: ["UPDATE trials SET validation_accuracy = 97.5"],
    "string seconds": lambda m: ["UPDATE trials SET seconds = 'slow'"],
    "string idx": lambda m: ["UPDATE trials SET idx = 'first'"],
    "string n_train": lambda m: ["UPDATE trials SET n_train = 'many'"],
    "config {}": lambda m: ["UPDATE trials SET config = '{}'"],
    "config a list": lambda m: ["UPDATE trials SET config = '[1, 2]'"],
    "config with a bad eta": lambda m: ["UPDATE trials SET config = replace(config, '\"eta\": 0.5', '\"eta\": -1')"],
    "config an unknown key": lambda m: ["UPDATE trials SET config = replace(config, '{', '{\"bogus\": 1, ')"],
    "params null": lambda m: ["UPDATE trials SET params = 'null'"],
    "params not the config's": lambda m: ["UPDATE trials SET params = replace(params, '\"eta\": 0.5', '\"eta\": 7')"],
    "params missing a swept field": lambda m: ["UPDATE trials SET params = '{\"seed\": 0}'"],
    "history a list": lambda m: ["UPDATE trials SET history = '[1, 2]'"],
    "history with strings": lambda m: ["UPDATE trials SET history = '{\"training_cost\": [\"a\"]}'"],
    "history invalid UTF-8": lambda m: ["UPDATE trials SET history = CAST(x'ff7b7d' AS TEXT)"],
    "unknown status": lambda m: ["UPDATE trials SET status = 'great'"],
    "seed not the config's": lambda m: ["UPDATE trials SET seed = 9"],
    "host a blob": lambda m: ["UPDATE trials SET host = x'00ff'"],
    "duplicate keys": lambda m: [
        "CREATE TABLE t2 AS SELECT * FROM trials",
        "DROP TABLE trials",
        "ALTER TABLE t2 RENAME TO trials",
        "INSERT INTO trials SELECT * FROM trials",
    ],
    "schema version 0": lambda m: ["PRAGMA user_version = 0"],
    "no trials table": lambda m: ["DROP TABLE trials"],
}


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("action", ["show", "show --json", "plot", "resume"])
def test_an_edited_database_is_one_line_for_show_plot_and_resume(made, tmp_path, edit, action, capsys):
    folder = _edited(made, tmp_path, *EDITS[edit](made))
    before = hashlib.sha256((folder / "sweep.sqlite").read_bytes()).hexdigest()
    words = action.split()
    extra = ["--workers", "1", "-q"] if words[0] == "resume" else []
    code = main(["sweep", words[0], str(folder), *words[1:], *extra])
    line = one_line_error(capsys.readouterr().err)
    assert code == 1 and "sweep.sqlite" in line, line
    if words[0] != "resume":
        assert hashlib.sha256((folder / "sweep.sqlite").read_bytes()).hexdigest() == before


def test_the_unedited_database_reads_and_a_reader_writes_nothing(made, capsys):
    before = (made / "sweep.sqlite").read_bytes()
    assert main(["sweep", "show", str(made)]) == 0 and main(["sweep", "show", str(made), "--json"]) == 0
    assert main(["sweep", "plot", str(made)]) == 0
    assert (made / "sweep.sqlite").read_bytes() == before
    assert not [p for p in made.iterdir() if p.name.startswith("sweep.sqlite-")]  # no journal left either


def test_a_too_large_database_is_refused_before_its_rows_are_read(made, tmp_path, capsys):
    fill = "UPDATE trials SET error = zeroblob(20000000)"  # 4 trials x 20 MB: past the 64 MiB bound
    folder = _edited(made, tmp_path, fill)
    assert main(["sweep", "show", str(folder)]) == 1
    assert "MiB of text, more than the 64 MiB" in one_line_error(capsys.readouterr().err)


# -- locks, empty files, two sweeps, signals ------------------------------------------------------


def test_show_on_a_locked_database_says_locked_within_seconds(made, capsys):
    con = sqlite3.connect(made / "sweep.sqlite", isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    try:
        code = main(["sweep", "show", str(made)])
    finally:
        con.execute("ROLLBACK")
        con.close()
    line = one_line_error(capsys.readouterr().err)
    assert code == 1 and "locked by another process" in line and "not a sweep database" not in line


@pytest.mark.parametrize("action", ["show", "plot", "resume", "run"])
def test_an_empty_file_is_refused_and_stays_empty(tmp_path, action, capsys):
    (tmp_path / "sweep.sqlite").write_bytes(b"")
    argv = ["sweep", *SMALL, "--out", str(tmp_path)] if action == "run" else ["sweep", action, str(tmp_path)]
    assert main(argv) == 1
    assert "an empty file (0 bytes)" in one_line_error(capsys.readouterr().err)
    assert (tmp_path / "sweep.sqlite").read_bytes() == b""


def _ctrl_c_works():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(folder, *extra) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "nndl", "sweep", *SLOW, "--out", str(folder), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_works)


def _wait_running(folder, proc, n=1, limit=90.0):
    """Until ``n`` trials are 'running' (the pool's workers have started), read as a reader would."""
    db = Path(folder) / "sweep.sqlite"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if db.is_file():
            try:
                with SweepStore(folder) as store:
                    if store.counts().get("running", 0) >= n:
                        return
            except Exception:  # noqa: BLE001 - not created yet
                pass
        time.sleep(0.05)
    raise AssertionError(f"the sweep ended or stalled before {n} trials ran: {proc.poll()}")


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)


def test_pool_workers_and_the_forkserver_end_when_the_sweep_is_killed(tmp_path):
    proc = _start(tmp_path / "killed", "--workers", "2")
    children = []
    try:
        _wait_running(tmp_path / "killed", proc, n=2)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # the forkserver and two workers (and the resource tracker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30  # a trial runs far longer: only ending with the sweep gets here
        alive = children
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            time.sleep(0.1)
        assert not alive, [p.cmdline()[:3] for p in alive]
    finally:
        _stop(proc)
        for p in children:  # this test's own processes, if it failed: never left running
            with contextlib.suppress(psutil.Error):
                p.kill()


def test_a_second_sweep_into_a_busy_folder_is_refused_and_runs_nothing(tmp_path, capsys):
    folder = tmp_path / "busy"
    proc = _start(folder, "--workers", "1")
    try:
        _wait_running(folder, proc)
        code = main(["sweep", *SLOW, "--out", str(folder), "--workers", "1"])
        line = one_line_error(capsys.readouterr().err)
        assert code == 1 and "another nndl sweep is running in this folder" in line
        with SweepStore(folder) as store:
            assert store.counts() == {"running": 1, "pending": 3}
    finally:
        _stop(proc)
    with SweepStore(folder, create=True):  # the lock went with the killed process
        pass


def test_sigterm_stops_a_sweep_with_143_and_says_how_to_resume(tmp_path):
    folder = tmp_path / "terminated"
    proc = _start(folder, "--workers", "2")
    try:
        _wait_running(folder, proc, n=2)  # both handed to the pool: its workers have been started
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM);" in err and f"nndl sweep resume {folder}" in err and "Traceback" not in err


# -- flags --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, start, match",
    [
        (["sweep", "--bogus"], "nndl sweep: error: ", "unknown field 'bogus'"),
        (["sweep", "show", "x", "--bogus"], "nndl sweep show: error: ", "unrecognized arguments: --bogus"),
        (["sweep", "resume"], "nndl sweep resume: error: ", "required: FOLDER"),
        (["sweep", "--eta", "0.5,1", "--dask", ""], "nndl sweep: error: ", "argument --dask: '' is not a scheduler"),
        (["sweep", "--eta", "0.5,1", "--dask", "   "], "nndl sweep: error: ", "is not a scheduler address"),
        (
            ["sweep", "--eta", "0.5,1", "--dask", "http://127.0.0.1:80"],
            "nndl sweep: error: ",
            "unknown address scheme 'http'",
        ),
        (["sweep", "resume", "x", "--dask", ""], "nndl sweep resume: error: ", "argument --dask: ''"),
        (
            ["sweep", "--eta", "0.5,1", "--workers", "100000"],
            "nndl sweep: error: ",
            "argument --workers must be an integer from 1 to 64",
        ),
        (["sweep", "resume", "x", "--workers", "0"], "nndl sweep resume: error: ", "argument --workers must be"),
    ],
)
def test_bad_flags_are_one_line(argv, start, match, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert match in one_line_error(capsys.readouterr().err, start)
    assert list(tmp_path.iterdir()) == []  # nothing made, nothing run locally instead


def test_a_pool_worker_that_dies_ends_the_sweep_in_one_line_saying_what_finished(tmp_path):
    folder = tmp_path / "worker-died"
    proc = _start(folder, "--workers", "2")
    try:
        _wait_running(folder, proc, n=2)
        workers = [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "forkserver" in " ".join(p.cmdline()) and p.ppid() != proc.pid
        ]
        assert workers, "no pool worker found"
        workers[0].kill()  # as the kernel's OOM killer would
        out, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    lines = err.strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert lines[-1].startswith("nndl: error: the sweep stopped: a worker process of the local pool died"), err
    assert f"resume with: nndl sweep resume {folder}" in lines[-1] and "of 4 trials finished" in lines[-1]


# -- the sweep's folder follows the output rule of every command (nndl.fileio.output_folder) ------------


def test_out_under_a_missing_folder_is_refused_and_makes_nothing(tmp_path, capsys):
    out = tmp_path / "typo" / "deeper" / "sweep"
    assert main(["sweep", *SMALL, "--out", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err, "nndl sweep: error: ")
    assert "--out" in line and "make" in line and str(out.parent) in line
    assert not (tmp_path / "typo").exists()


def test_out_onto_a_file_is_refused_and_the_file_kept(tmp_path, capsys):
    out = tmp_path / "results.txt"
    out.write_text("keep me")
    assert main(["sweep", *SMALL, "--out", str(out)]) == 2
    assert "not a folder" in one_line_error(capsys.readouterr().err, "nndl sweep: error: ")
    assert out.read_text() == "keep me"


def test_out_whose_parent_exists_is_made(tmp_path):
    out = tmp_path / "new"
    assert main(["sweep", *SMALL, "--out", str(out)]) == 0
    assert (out / "sweep.sqlite").is_file()
