"""The command line under a hostile tester: one line for every mistake, bounded work, nothing lost
or left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import needs_mount, nndl_argv, on_small_disk

import nndl
from nndl.cli import main
from nndl.cli import train as cli_train
from nndl.limits import MAX_EPOCHS
from nndl.serialization import load_with_metadata

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SMALL = ["--dataset", NPZ, "--sizes", "784,20,10"]


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)


def one_line(err: str, start: str) -> str:
    assert err.startswith(start), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# --- item 10: one line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, start, says",
    [
        (["train", "--eta", "x"], "nndl train: error: argument --eta: invalid float value: 'x'", "nndl train --help"),
        (["train", "--bogus"], "nndl train: error: unrecognized arguments: --bogus", "nndl train --help"),
        (["data", "fetch", "--bogus"], "nndl data fetch: error: unrecognized arguments", "nndl data fetch --help"),
        (["evaluate"], "nndl evaluate: error: the following arguments are required: MODEL", "nndl evaluate --help"),
        (["fly"], "nndl: error: argument COMMAND: invalid choice: 'fly'", "nndl --help"),
        (
            ["explore", "level3", "--seed", "x"],
            "nndl explore level3: error: argument --seed: expected an integer",
            "nndl explore level3 --help",
        ),
        (
            ["train", "--dataset", "cifar"],
            "nndl train: error: argument --dataset: unknown data set 'cifar'",
            "nndl train --help",
        ),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, start, says):
    assert main(argv) == 2
    err = one_line(capsys.readouterr().err, start)
    assert f"(see {says})" in err


def test_an_error_message_never_echoes_a_huge_input(tmp_path, capsys):
    model = tmp_path / "m.json"
    net = nndl.Network([784, 10], rng=0)
    d = nndl.serialization.to_dict(net)
    d["cost"] = "X" * 5_000_000
    model.write_text(json.dumps(d))
    assert main(["evaluate", str(model), "--dataset", NPZ]) == 1
    err = one_line(capsys.readouterr().err, f"nndl: error: {model}: not a valid model file: cost: unknown cost 'XXX")
    assert len(err) < 400 and "5,000,000 characters in all" in err


# --- item 4: sizes that cannot fit ------------------------------------------------------------------


def test_sizes_that_cannot_fit_are_refused_with_the_estimate(capsys):
    tracemalloc.start()
    try:
        assert main(["train", "--dataset", NPZ, "--sizes", "784,10000000,10", "--epochs", "1"]) == 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = one_line(
        capsys.readouterr().err, "nndl: error: training --sizes 784,10000000,10 with mini-batch 10 needs about "
    )
    assert " GiB available now (" in err and " GiB in all); use fewer or smaller hidden layers" in err
    assert peak < 200_000_000  # the data set (tens of MB), never the network's 63 GB


def test_absurd_layer_sizes_do_not_overflow(capsys):
    assert main(["train", "--dataset", NPZ, "--sizes", f"784,{10**30},10", "--epochs", "1"]) == 1
    one_line(capsys.readouterr().err, "nndl: error: training --sizes 784,1000000000000000000000000000000,10")


@pytest.mark.parametrize("m", ["2000", str(10**30)])
def test_a_mini_batch_larger_than_the_set_warns_and_trains_one_step_an_epoch(tmp_path, capsys, m):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["train", *SMALL, "--epochs", "1", "--mini-batch-size", m, "--save", str(a), "-q"]) == 0
    err = capsys.readouterr().err
    assert f"nndl: warning: --mini-batch-size {int(m):,} is larger than the 1,667 training images" in err
    assert main(["train", *SMALL, "--epochs", "1", "--mini-batch-size", "1667", "--save", str(b), "-q"]) == 0
    for x, y in zip(nndl.load(a).weights, nndl.load(b).weights):
        np.testing.assert_array_equal(x, y)
    assert load_with_metadata(a)[1]["mini_batch_size"] == int(m)  # the config keeps what was asked


def test_absurd_epochs_are_refused(capsys):
    assert main(["train", *SMALL, "--epochs", str(MAX_EPOCHS + 1)]) == 2
    one_line(
        capsys.readouterr().err,
        f"nndl train: error: argument --epochs: {MAX_EPOCHS + 1:,} is more than the {MAX_EPOCHS:,} epochs",
    )


# --- item 7: saving, signals, temporary files ---------------------------------------------------------


def test_empty_save_path_is_a_usage_error(capsys):
    assert main(["train", *SMALL, "--epochs", "1", "--save", ""]) == 2
    one_line(capsys.readouterr().err, "nndl train: error: argument --save: an empty path ''")


@pytest.mark.parametrize("make", ["folder", "under-a-file", "dangling-link"])
def test_a_save_path_that_cannot_be_written_fails_before_training(tmp_path, capsys, make, monkeypatch):
    trained = []
    monkeypatch.setattr(cli_train, "train", lambda *a, **k: trained.append(1))
    if make == "folder":
        target, match = tmp_path, "is a folder; give the path of a file"
    elif make == "under-a-file":
        (tmp_path / "f").write_text("x")
        target, match = tmp_path / "f" / "m.json", "is not a folder, so nothing can be saved inside it"
    else:
        (tmp_path / "link").symlink_to(tmp_path / "nowhere")
        target, match = tmp_path / "link" / "m.json", "is a symbolic link to"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(target)]) == 1
    err = one_line(capsys.readouterr().err, "nndl: error: ")
    assert match in err and not trained


@needs_mount
def test_a_read_only_save_folder_fails_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    proc = on_small_disk(ro, nndl_argv("train", *SMALL, "--epochs", "1", "--save", str(ro / "m.json")), read_only=True)
    assert proc.returncode == 1
    assert proc.stderr == (f"nndl: error: {ro}/m.json: cannot be written: Read-only file system (in {ro})\n")
    assert "epoch" not in proc.stdout


@needs_mount
def test_a_full_disk_names_the_path_and_leaves_nothing(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (
        " ".join(nndl_argv("train", *SMALL, "--epochs", "1", "-q", "--save", str(disk / "m.json")))
        + f"; echo rc=$?; ls -A {disk}"
    )
    proc = on_small_disk(disk, ["sh", "-c", script], size="64k")
    assert f"nndl: error: {disk}/m.json: not saved: No space left on device\n" in proc.stderr
    assert proc.stdout.splitlines()[-1] == "rc=1"  # and `ls -A` printed nothing: no temporary file


def interrupted_after_one_epoch(monkeypatch):
    """A real SIGINT to this process once epoch 1 is reported: training stops at the next window."""
    on_epoch = cli_train.Reporter.on_epoch

    def interrupting(self, report):
        on_epoch(self, report)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli_train.Reporter, "on_epoch", interrupting)


def test_a_second_interrupted_run_does_not_overwrite_the_first(monkeypatch, tmp_path, capsys):
    interrupted_after_one_epoch(monkeypatch)
    assert main(["train", *SMALL, "--epochs", "5", "--seed", "1"]) == 130
    first = (tmp_path / "nndl-interrupted.json").read_bytes()
    assert main(["train", *SMALL, "--epochs", "5", "--seed", "2"]) == 130
    err = capsys.readouterr().err
    assert (tmp_path / "nndl-interrupted.json").read_bytes() == first
    assert "(1 complete epoch, and where the run was) to nndl-interrupted-2.json" in err
    assert "nndl train --resume nndl-interrupted-2.json" in err
    assert load_with_metadata(tmp_path / "nndl-interrupted-2.json")[1]["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nndl-interrupted-2.json", "nndl-interrupted.json"]


def test_stale_temp_files_of_a_killed_save_are_removed_by_the_next_save(tmp_path):
    """A child creates our temporary file for m.json and is killed with SIGKILL; the next save removes it."""
    code = (
        "import os, signal; from nndl.fileio import new_temp; "
        f"p = new_temp({str(tmp_path)!r}, 'm.json'); open(p, 'w').write('half'); print(p, flush=True); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = Path(proc.stdout.strip())
    assert left.exists() and left.name.startswith(".m.json.nndl-")
    assert main(["train", *SMALL, "--epochs", "1", "-q", "--save", str(tmp_path / "m.json")]) == 0
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def run_child(argv, tmp_path, *, until="epoch 1/", sig=signal.SIGINT):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        nndl_argv(*argv),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            if line.startswith(until):
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
    return proc.returncode, out, err


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_saves_says_how_to_resume_and_exits_143(tmp_path):
    code, out, err = run_child(["train", *SMALL, "--epochs", "1000"], tmp_path, sig=signal.SIGTERM)
    assert code == 143, err
    assert "nndl: terminated (SIGTERM) in epoch" in err and "saved the model" in err and "Traceback" not in err
    assert "nndl train --resume nndl-interrupted.json" in err
    net, config, history = load_with_metadata(tmp_path / "nndl-interrupted.json")
    assert config["epochs"] == 1000 and len(history["epoch_seconds"]) >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nndl-interrupted.json"]


def test_ctrl_c_while_the_libraries_load_prints_no_traceback():
    """A Ctrl-C that lands in `import numpy` (made certain here) ends in one line and 130."""
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'numpy':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "import _nndl_entry\n"
        "_nndl_entry.entry()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130 and proc.stderr == "\nnndl: interrupted\n", proc.stderr


def test_the_script_entry_loads_nothing_heavy():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, _nndl_entry; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('numpy', 'nndl', 'matplotlib')))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == "[]"


def test_the_installed_script_is_the_quiet_entry():
    script = Path(sys.executable).parent / "nndl"
    if not script.exists():
        pytest.skip("no nndl script beside this python")
    assert "from _nndl_entry import entry" in script.read_text()


# --- item 5 (resume): a long history is refused at once ----------------------------------------------


def test_a_history_of_a_million_epochs_is_refused_at_once(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "-q"]) == 0
    d = json.loads(path.read_text())
    d["history"]["epoch_seconds"] = [0.1] * 1_000_000
    d["config"]["epochs"] = 1_000_001
    path.write_text(json.dumps(d))
    capsys.readouterr()
    start = time.perf_counter()
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--epochs", "1"]) == 1
    one_line(
        capsys.readouterr().err,
        f"nndl: error: {path}: not a valid model file: history epoch_seconds has "
        f"1,000,000 epochs, more than the 100,000",
    )
    assert time.perf_counter() - start < 30  # not the minutes of replaying a million orders


# --- item 6: explore ----------------------------------------------------------------------------------


def test_explore_negative_seed_is_one_line(capsys):
    assert main(["explore", "level3", "--seed", "-1", "--quick", "--dataset", NPZ]) == 2
    one_line(capsys.readouterr().err, "nndl explore level3: error: argument --seed: expected an integer >= 0, got -1")


def test_explore_pictures_under_a_dangling_symlink_stops(tmp_path, capsys):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "level3").symlink_to(tmp_path / "gone")
    from nndl.cli.explore.level3 import new_folder

    with pytest.raises(NotADirectoryError, match="is a symbolic link to .*, which does not exist"):
        new_folder(str(tmp_path / "pics"))


@pytest.mark.parametrize(
    "results",
    [
        [1, 2],
        {"complete": True},
        {"complete": True, "runs": []},
        {"complete": True, "options": [], "runs": {}},
        {"complete": True, "options": {}, "slowdown": {"runs": {"quadratic": {"output": "x"}}}},
    ],
)
def test_replot_of_a_wrong_shaped_results_file_is_one_line(tmp_path, capsys, results):
    (tmp_path / "results.json").write_text(json.dumps(results))
    assert main(["explore", "level3", "--replot", str(tmp_path)]) == 1
    err = one_line(capsys.readouterr().err, f"nndl explore level3: error: {tmp_path / 'results.json'}: not the ")
    assert "structure" in err or "results of a Level 3" in err
