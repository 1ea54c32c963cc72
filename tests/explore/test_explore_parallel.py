"""The Level 3 exploration through the sweep runner: a pool gives the serial numbers bit for bit,
each run's model is saved to models/<run>.json, and Ctrl-C keeps the runs that finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nndl.cli.explore.level3 import main
from nndl.data import load_dataset
from nndl.explore import runs
from nndl.serialization import load_with_metadata
from nndl.sweep import DataSource, InlineRunner, LocalRunner

SAMPLE = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


def _ctrl_c_works():
    """In the child: Ctrl-C (SIGINT) as a terminal delivers it. A shell's background job - CI may
    run the suite as one - starts with SIGINT ignored, and Python keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _same_numbers(results: dict) -> dict:
    """Everything but times and hosts."""
    out = {}
    for name, run in results["runs"].items():
        run = {k: v for k, v in run.items() if k not in ("seconds", "host")}
        run["history"] = {k: v for k, v in run["history"].items() if k != "epoch_seconds"}
        out[name] = run
    return out


def test_a_pool_gives_the_serial_numbers_bit_for_bit():
    options = runs.Options.make(quick=True, seed=1, dataset=SAMPLE)
    splits = load_dataset(SAMPLE)
    with InlineRunner() as serial:
        a = runs.run_level3(options, splits, runner=serial)
    with LocalRunner(2) as pool:
        b = runs.run_level3(options, splits, runner=pool, source=DataSource.make(SAMPLE))
    assert a["complete"] and b["complete"]
    assert list(a["runs"]) == list(b["runs"]) == [name for _, name, _, _ in runs.plan(options)]
    assert _same_numbers(a) == _same_numbers(b)
    assert a["runs"]["baseline"]["history"]["evaluation_accuracy"]  # the comparison compared something


def test_the_longest_runs_start_first_in_a_pool():
    options = runs.Options.make()
    sizes = {"training": 50_000, "validation": 10_000, "test": 10_000}
    cost = {name: runs.work(config, feed, sizes) for _, name, config, feed in runs.plan(options)}
    assert max(cost, key=cost.get) == "full"
    assert cost["overfit-lambda-0"] > cost["baseline"]  # 400 epochs watching 10,000 test images


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    pictures = tmp_path_factory.mktemp("pictures")
    assert main(["--quick", "--quiet", "--pictures", str(pictures), "--dataset", SAMPLE, "--workers", "2"]) == 0
    (folder,) = (pictures / "level3").iterdir()
    return folder


def test_every_run_saves_its_model_with_config_history_and_dataset(explored):
    results = json.loads((explored / "results.json").read_text())
    names = {name for _, name, _, _ in runs.plan(runs.Options.make(quick=True))}
    assert {p.stem for p in (explored / "models").iterdir()} == names
    for name, run in results["runs"].items():
        assert run["model"] == f"models/{name}.json"
        net, config, history = load_with_metadata(explored / run["model"])
        assert config == run["config"] and history["evaluation_accuracy"] == run["history"]["evaluation_accuracy"]
        assert net.sizes == run["config"]["sizes"]
        assert json.loads((explored / run["model"]).read_text())["dataset"] == SAMPLE
        test = load_dataset(SAMPLE).test
        assert net.accuracy(test) / len(test) == run["final"]["test_accuracy"]  # the very network measured


def test_the_data_set_file_is_recorded_by_absolute_path_and_sha256(explored):
    from nndl.data.provenance import file_sha256

    options = json.loads((explored / "results.json").read_text())["options"]
    assert options["dataset"] == os.path.abspath(SAMPLE) and options["dataset_sha256"] == file_sha256(SAMPLE)
    for model in (explored / "models").iterdir():
        saved = json.loads(model.read_text())
        assert (saved["dataset"], saved["dataset_sha256"]) == (options["dataset"], options["dataset_sha256"])


def test_ctrl_c_keeps_the_runs_that_finished_and_exits_130(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "nndl",
        "explore",
        "level3",
        "--quick",
        "--quiet",
        "--pictures",
        str(tmp_path),
        "--dataset",
        SAMPLE,
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_works)
    deadline = time.monotonic() + 60
    results = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(tmp_path.glob("level3/*/results.json"))
        if found:
            try:
                results = json.loads(found[0].read_text())
            except json.JSONDecodeError:
                results = None
            if results and results["runs"]:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the exploration ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "keep the runs that finished" in err and "Traceback" not in err
    (folder,) = tmp_path.glob("level3/*")
    kept = json.loads((folder / "results.json").read_text())
    assert not kept["complete"] and 1 <= len(kept["runs"]) < 7
    assert set(kept["runs"]) <= {p.stem for p in (folder / "models").iterdir()}  # saved before recorded
