"""nndl train on the committed MNIST sample: flags, output, saving, --resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.blas import blas_threads
from nndl.cli import main
from nndl.cli import train as cli_train
from nndl.config import TrainConfig
from nndl.data import load_npz
from nndl.engine.training import EpochReport
from nndl.serialization import load_with_metadata

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SMALL = ["--dataset", NPZ, "--sizes", "784,20,10"]


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch, tmp_path):
    """Each test in its own folder (Ctrl-C's default file lands in the cwd)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


def test_train_prints_epochs_and_test_accuracy_and_saves(capsys, tmp_path, sample):
    path = tmp_path / "m.json"
    code = main(
        [
            "train",
            *SMALL,
            "--epochs",
            "2",
            "--save",
            str(path),
            "--monitor",
            "evaluation-accuracy,evaluation-cost,training-accuracy,training-cost",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "1,667 training, 333 validation, 500 test images" in out
    lines = [ln for ln in out.splitlines() if ln.startswith("epoch ")]
    assert [ln.split()[1] for ln in lines] == ["1/2", "2/2"]
    for what in ("evaluation accuracy", "evaluation cost", "training accuracy", "training cost"):
        assert what in lines[0]
    net, config, history = load_with_metadata(path)
    assert net.sizes == [784, 20, 10]
    assert config == TrainConfig(sizes=(784, 20, 10), epochs=2).to_dict()
    assert len(history["epoch_seconds"]) == 2
    for key in ("evaluation_accuracy", "evaluation_cost", "training_accuracy", "training_cost"):
        assert len(history[key]) == 2
    assert (history["n_training"], history["n_evaluation"]) == (1667, 333)
    correct = net.accuracy(sample.test)
    assert f"test accuracy: {correct:,} / 500 (" in out
    assert f"saved the model to {path}" in err
    assert f"evaluation accuracy {history['evaluation_accuracy'][1]:,} / 333" in lines[1]


def test_flags_map_onto_train_config(tmp_path):
    path = tmp_path / "m.json"
    assert (
        main(
            [
                "train",
                *SMALL,
                "--epochs",
                "1",
                "--eta",
                "0.25",
                "--lmbda",
                "0",
                "--mini-batch-size",
                "7",
                "--seed",
                "3",
                "--order-seed",
                "4",
                "--dtype",
                "float32",
                "--cost",
                "quadratic",
                "--init",
                "large",
                "--save",
                str(path),
                "--quiet",
            ]
        )
        == 0
    )
    _, config, _ = load_with_metadata(path)
    assert TrainConfig.from_dict(config) == TrainConfig(
        sizes=(784, 20, 10),
        epochs=1,
        eta=0.25,
        lmbda=0.0,
        mini_batch_size=7,
        seed=3,
        order_seed=4,
        dtype="float32",
        cost="quadratic",
        init="large",
    )


def test_the_techniques_of_chapter_3_are_flags_too(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert (
        main(
            [
                "train",
                *SMALL,
                "--epochs",
                "2",
                "--cost",
                "log-likelihood",
                "--activation",
                "relu",
                "--init",
                "he",
                "--regularization",
                "l1",
                "--momentum",
                "0.5",
                "--dropout",
                "0.25",
                "--schedule",
                "halve",
                "--schedule-patience",
                "3",
                "--schedule-divisor",
                "64",
                "--early-stopping",
                "4",
                "--expand",
                "shifts",
                "--rotate",
                "5",
                "--elastic",
                "30",
                "--eta",
                "0.05",
                "--save",
                str(path),
            ]
        )
        == 0
    )
    header = capsys.readouterr().out.splitlines()[1]
    for words in (
        "relu hidden neurons",
        "log-likelihood cost",
        "L1 regularization",
        "momentum 0.5",
        "dropout 0.25",
        "eta schedule (halve, patience 3)",
        "early stopping (4 epochs)",
        "expanded data (shifts)",
        "rotations up to 5 degrees",
        "elastic distortions (alpha 30)",
    ):
        assert words in header, words
    net, config, _ = load_with_metadata(path)
    assert TrainConfig.from_dict(config) == TrainConfig(
        sizes=(784, 20, 10),
        epochs=2,
        cost="log-likelihood",
        activation="relu",
        init="he",
        regularization="l1",
        momentum=0.5,
        dropout=0.25,
        schedule="halve",
        schedule_patience=3,
        schedule_divisor=64.0,
        early_stopping=4,
        expand="shifts",
        rotate=5.0,
        elastic=30.0,
        eta=0.05,
    )
    assert net.output.name == "softmax" and net.activation.name == "relu"


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--momentum", "1", "argument --momentum: must be a finite number >= 0 and < 1, got 1.0"),
        ("--dropout", "-0.1", "argument --dropout: must be a finite number >= 0 and < 1, got -0.1"),
        ("--early-stopping", "0", "argument --early-stopping: must be an integer >= 1, got 0"),
        ("--rotate", "200", "argument --rotate: must be a finite number >= 0 and <= 180, got 200.0"),
        ("--elastic", "101", "argument --elastic: must be a finite number >= 0 and <= 100, got 101.0"),
        ("--elastic", "nan", "argument --elastic: must be a finite number >= 0 and <= 100, got nan"),
    ],
)
def test_bad_technique_values_are_usage_errors_naming_the_flag(capsys, flag, value, message):
    assert main(["train", *SMALL, "--epochs", "1", flag, value]) == 2
    assert message in capsys.readouterr().err


def test_a_model_file_from_before_the_techniques_loads_and_resumes(tmp_path, capsys):
    """Model files of nndl 0.1 have a config without the new fields: they take the defaults."""
    path = tmp_path / "old.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    d = json.loads(path.read_text())
    for key in (
        "regularization",
        "momentum",
        "dropout",
        "schedule",
        "schedule_patience",
        "schedule_divisor",
        "early_stopping",
        "expand",
        "rotate",
        "elastic",
    ):
        del d["config"][key]
    for key in ("eta", "saturation", "best_epoch", "stopped", "state"):
        del d["history"][key]
    del d["output_activation"]
    path.write_text(json.dumps(d))
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--epochs", "1", "--quiet"]) == 0
    _, config, history = load_with_metadata(path)
    assert TrainConfig.from_dict(config).regularization == "l2" and len(history["epoch_seconds"]) == 2


def test_same_weights_as_the_library(tmp_path, sample):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "2", "--lmbda", "1", "--save", str(path), "--quiet"]) == 0
    # The command line trains with blas_threads(); with another BLAS thread count the
    # window's products may round differently in the last bit.
    with blas_threads():
        net, _ = nndl.train(TrainConfig(sizes=(784, 20, 10), epochs=2, lmbda=1.0), sample.training, sample.validation)
    saved = nndl.load(path)
    for a, b in zip(saved.weights + saved.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)


def test_resume_continues_the_same_run(tmp_path, capsys):
    two, three = tmp_path / "two.json", tmp_path / "three.json"
    assert main(["train", *SMALL, "--epochs", "2", "--save", str(two), "--quiet"]) == 0
    assert main(["train", *SMALL, "--epochs", "3", "--save", str(three), "--quiet"]) == 0
    capsys.readouterr()
    resumed = tmp_path / "resumed.json"
    assert main(["train", "--dataset", NPZ, "--resume", str(two), "--epochs", "1", "--save", str(resumed)]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "epoch 3/3" in out
    a, config, history = load_with_metadata(resumed)
    b, config3, history3 = load_with_metadata(three)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)  # epochs 1-2, then 3: exactly as 1-3 in one go
    assert config == config3
    assert history["evaluation_accuracy"] == history3["evaluation_accuracy"]


def test_resume_defaults_to_the_rest_of_the_run_and_writes_back(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    d = json.loads(path.read_text())
    d["config"]["epochs"] = 3  # as if Ctrl-C had stopped a 3-epoch run after epoch 1
    path.write_text(json.dumps(d))
    capsys.readouterr()
    assert main(["train", "--dataset", NPZ, "--resume", str(path)]) == 0
    out = capsys.readouterr().out
    assert "epoch 2/3" in out and "epoch 3/3" in out
    _, config, history = load_with_metadata(path)  # no --save: back to the resumed file
    assert config["epochs"] == 3 and len(history["epoch_seconds"]) == 3


def test_resume_of_a_finished_run_asks_for_epochs(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    assert main(["train", "--dataset", NPZ, "--resume", str(path)]) == 2
    assert "give --epochs N" in capsys.readouterr().err


def test_resume_of_a_network2_file_without_config(tmp_path, capsys):
    path = tmp_path / "book.json"
    net = nndl.Network([784, 20, 10], rng=0)
    d = {
        "sizes": net.sizes,
        "weights": [w.tolist() for w in net.weights],
        "biases": [b.tolist() for b in net.biases],
        "cost": "CrossEntropyCost",
    }
    path.write_text(json.dumps(d))
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--epochs", "1"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    assert "records no training config (as network2.py saves it)" in header
    assert "seed" not in header and "init" not in header  # nothing the file does not record
    _, config, history = load_with_metadata(path)
    assert config["sizes"] == [784, 20, 10] and len(history["epoch_seconds"]) == 1


@pytest.mark.parametrize(
    "flag, value", [("--sizes", "784,30,10"), ("--cost", "quadratic"), ("--dtype", "float32"), ("--init", "large")]
)
def test_resume_refuses_a_different_architecture(tmp_path, capsys, flag, value):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    before = path.read_bytes()
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--epochs", "1", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: {value} conflicts with {path}" in err and "Traceback" not in err
    assert path.read_bytes() == before


def test_resume_accepts_flags_that_agree(tmp_path):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    assert (
        main(
            [
                "train",
                *SMALL,
                "--resume",
                str(path),
                "--epochs",
                "1",
                "--cost",
                "cross-entropy",
                "--eta",
                "0.1",
                "--quiet",
            ]
        )
        == 0
    )
    _, config, _ = load_with_metadata(path)
    assert config["eta"] == 0.1 and config["epochs"] == 2


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--sizes", "784,abc", "'784,abc'"),
        ("--sizes", "784", "at least 2 positive integers"),
        ("--sizes", "784,0,10", "at least 2 positive integers"),
        ("--sizes", "100,10", "first layer must have 784"),
        ("--sizes", "784,10,5", "last layer must have 10"),
        ("--eta", "-1", "argument --eta: must be a finite number > 0, got -1.0"),
        ("--eta", "x", "invalid float value: 'x'"),
        ("--lmbda", "-0.5", "argument --lmbda: must be a finite number >= 0"),
        ("--epochs", "x", "invalid int value: 'x'"),
        ("--epochs", "-1", "argument --epochs: must be an integer >= 0, got -1"),
        ("--mini-batch-size", "0", "argument --mini-batch-size: must be an integer >= 1, got 0"),
        ("--seed", "-3", "argument --seed: must be an integer >= 0, got -3"),
        ("--cost", "hinge", "invalid choice: 'hinge'"),
        ("--init", "zeros", "invalid choice: 'zeros'"),
        ("--dtype", "float16", "invalid choice: 'float16'"),
        ("--monitor", "accuracy", "unknown 'accuracy'"),
        ("--dataset", "cifar", "unknown data set 'cifar'"),
    ],
)
def test_bad_flags_are_usage_errors(capsys, flag, value, message):
    argv = ["train", "--dataset", NPZ, "--epochs", "1", flag, value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.startswith("nndl train: error: ") and "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.rstrip().endswith("(see nndl train --help)")


def test_bad_files(tmp_path, capsys):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"sizes": [784, 10], "weights": [')
    no_arrays = tmp_path / "empty.npz"
    np.savez(no_arrays, x=np.zeros(3))
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    cases = [
        (["--resume", str(tmp_path / "missing.json")], "no such model file"),
        (["--resume", str(bad_json)], "invalid JSON"),
        (["--resume", str(tmp_path)], "is a directory"),
        (["--dataset", str(tmp_path / "missing.npz")], "no such data file"),
        (["--dataset", str(no_arrays)], "missing arrays"),
        (["--dataset", str(not_npz)], "not an .npz file (it is not a zip archive)"),
    ]
    for extra, message in cases:
        argv = ["train", "--dataset", NPZ, "--epochs", "1", "--quiet", *extra]
        assert main(argv) == 1, extra
        err = capsys.readouterr().err
        assert err.startswith("nndl: error: ") and message in err and "Traceback" not in err, err


def test_divergence_is_an_error_not_a_traceback(capsys):
    assert main(["train", *SMALL, "--epochs", "1", "--eta", "1e300", "--lmbda", "0", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nndl: error: training diverged") and "smaller learning rate" in err


def test_quiet_and_monitor_none(capsys):
    assert main(["train", *SMALL, "--epochs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test accuracy: ") and "epoch" not in out
    assert main(["train", *SMALL, "--epochs", "1", "--monitor", "none"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1  " in out and "accuracy" not in out.split("epoch 1/1")[1].splitlines()[0]


def test_reporter_draws_a_bar_per_epoch_and_a_line_after(capsys):
    r = cli_train.Reporter(2, bars=True, lines=True, eta0=0.5)
    for done in (10, 20, 30):
        r.on_batch(done, 30)
    r.on_epoch(EpochReport(1, 2, 0.5, None, None, 1.25, 90, 100, 120, eta=0.5))
    r.on_epoch(EpochReport(2, 2, 0.5, None, None, None, 91, 100, 120, eta=0.25, saturation=[0.125]))
    out, err = capsys.readouterr()
    assert "epoch 1/2:" in err and "/30 " in err  # the bar, on stderr
    assert out.splitlines() == [
        "epoch 1/2  evaluation accuracy 90 / 120 (75.00%)  evaluation cost 1.2500  0.5s",
        "epoch 2/2  evaluation accuracy 91 / 120 (75.83%)  saturated 12%  eta 0.25  0.5s",
    ]


@pytest.mark.skipif(os.name == "nt", reason="SIGINT is POSIX")
def test_ctrl_c_mid_epoch_saves_and_resume_ends_as_an_uninterrupted_run(monkeypatch, tmp_path, capsys):
    """SIGINT in the middle of epoch 2 (the real signal, to this process): the loop stops at the
    next window, the file keeps where the run was, and --resume finishes with the very weights
    of a run never interrupted (with dropout and momentum, whose streams and velocity must
    carry over too)."""
    extra = ["--dropout", "0.2", "--momentum", "0.5", "--eta", "0.1"]
    whole = tmp_path / "whole.json"
    assert main(["train", *SMALL, *extra, "--epochs", "3", "--save", str(whole), "--quiet"]) == 0
    calls = []
    on_batch = cli_train.Reporter.on_batch

    def interrupting(self, done, total):
        calls.append(done)
        if len(calls) == 25:  # 17 windows an epoch: this is in epoch 2
            os.kill(os.getpid(), signal.SIGINT)
        on_batch(self, done, total)

    monkeypatch.setattr(cli_train.Reporter, "on_batch", interrupting)
    path = tmp_path / "run" / "m.json"
    capsys.readouterr()
    assert main(["train", *SMALL, *extra, "--epochs", "3", "--save", str(path)]) == 130
    err = capsys.readouterr().err
    assert (
        f"interrupted in epoch 2 after 80 of 167 mini-batches; saved the model (1 complete epoch, and "
        f"where the run was) to {path}" in err
    )
    assert f"continue with: nndl train --resume {path}" in err
    net, config, history = load_with_metadata(path)
    assert config["epochs"] == 3 and len(history["epoch_seconds"]) == 1 and history["state"]["position"] == 800
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]  # no temporary file left
    monkeypatch.setattr(cli_train.Reporter, "on_batch", on_batch)
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--quiet"]) == 0
    resumed, whole_net = nndl.load(path), nndl.load(whole)
    for a, b in zip(resumed.weights + resumed.biases, whole_net.weights + whole_net.biases):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_during_training_saves_and_exits_130(tmp_path, sample):
    """The real thing: a child process training for 1000 epochs gets SIGINT after epoch 1."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nndl.cli", "train", *SMALL, "--epochs", "1000"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job inherits SIGINT ignored; the user's terminal would not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        seen = []
        for line in proc.stdout:  # wait until it has trained (and reported) a whole epoch
            seen.append(line)
            if line.startswith("epoch 1/1000"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
    assert proc.returncode == 130, "".join(seen) + out + err
    saved = tmp_path / "nndl-interrupted.json"
    assert "saved the model" in err and "nndl-interrupted.json" in err and "Traceback" not in err
    assert "nndl train --resume nndl-interrupted.json" in err
    net = nndl.load(saved)
    predicted = net.predict(sample.test.images.astype(np.float64))
    assert predicted.shape == (500,) and (predicted == sample.test.labels).mean() > 0.5
    _, config, history = load_with_metadata(saved)
    assert config["epochs"] == 1000 and len(history["epoch_seconds"]) >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nndl-interrupted.json"]


def test_resume_of_a_file_with_a_broken_history(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    for history in ({"evaluation_accuracy": 5}, {"epoch_seconds": "x"}, "text"):
        d = json.loads(path.read_text())
        d["history"] = history
        broken = tmp_path / "broken.json"
        broken.write_text(json.dumps(d))
        code = main(["train", "--dataset", NPZ, "--resume", str(broken), "--epochs", "1", "--quiet"])
        err = capsys.readouterr().err
        if history == "text":  # not an object: ignored, as load_with_metadata does
            assert code == 0
        else:
            assert code == 1 and "not a valid model file: history" in err and "Traceback" not in err, err
