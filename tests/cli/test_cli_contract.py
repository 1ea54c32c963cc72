"""Command-line promises: Ctrl-C during a save, class names in predict, one BLAS thread.

* Ctrl-C while a model file is written does not cut the write short: the signal is held off
  for the write, so the file is complete (README: "Ctrl-C saves the model trained so far
  (atomically)"), and acted on after it. The signal is sent at the very moment the finished
  temporary file is put in place, the last step of every atomic write;
* ``nndl predict`` names the class of a model trained on a data set with class names
  (Fashion-MNIST's "Trouser", ...) and says "digit 7" for MNIST;
* the command line runs BLAS on one thread unless the user set a thread count (README "Speed").
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nndl
from nndl.cli import main
from nndl.cli import train as cli_train
from nndl.data import FASHION, registry

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SMALL = ["--dataset", NPZ, "--sizes", "784,12,10", "--quiet"]
posix = pytest.mark.skipif(os.name == "nt", reason="sending SIGINT to this process is POSIX")


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # Ctrl-C's default file lands here


@pytest.fixture
def ctrl_c_at_rename(monkeypatch):
    """SIGINT to this process just before a file named ``name`` is put in place (renamed or
    linked: the last step of every atomic write)."""
    sent = []

    def arm(name):
        for fn in ("replace", "rename", "link"):
            real = getattr(os, fn)

            def put(src, dst, *args, _real=real, **kwargs):
                if Path(dst).name == name and not sent:
                    sent.append(dst)
                    os.kill(os.getpid(), signal.SIGINT)  # a Ctrl-C, delivered now
                return _real(src, dst, *args, **kwargs)

            monkeypatch.setattr(os, fn, put)
        return sent

    return arm


@posix
def test_ctrl_c_during_the_final_save_is_held_off_and_the_file_is_complete(tmp_path, ctrl_c_at_rename, capsys):
    """The write is finished first; the Ctrl-C is then acted on (exit 130), not lost."""
    before = signal.getsignal(signal.SIGINT)  # Python's default_int_handler; SIG_IGN under `nohup ... &`
    sent = ctrl_c_at_rename("m.json")
    code = main(["train", *SMALL, "--epochs", "1", "--save", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert sent, "the model file was not written through a rename"
    assert code == 130, err
    net = nndl.load(tmp_path / "m.json")  # complete: it loads
    assert net.sizes == [784, 12, 10]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]  # no temporary file left
    assert signal.getsignal(signal.SIGINT) is before  # and Ctrl-C works as before


@posix
def test_a_second_ctrl_c_during_the_interrupted_runs_save_is_held_off_too(
    tmp_path, ctrl_c_at_rename, monkeypatch, capsys
):
    calls = []
    on_batch = cli_train.Reporter.on_batch

    def interrupting(self, done, total):
        calls.append(done)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: stop training
        on_batch(self, done, total)

    monkeypatch.setattr(cli_train.Reporter, "on_batch", interrupting)
    sent = ctrl_c_at_rename("nndl-interrupted.json")  # the second: during its save
    code = main(["train", *SMALL, "--epochs", "5"])
    err = capsys.readouterr().err
    assert sent and code == 130, err
    assert "saved the model" in err and "nndl train --resume nndl-interrupted.json" in err
    _, config, history = nndl.serialization.load_with_metadata(tmp_path / "nndl-interrupted.json")
    assert history["stopped"] == "interrupted" and history["state"]["position"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nndl-interrupted.json"]


# --- class names in predict ----------------------------------------------------------------


@pytest.fixture
def digit_png(tmp_path):
    raw = np.load(NPZ)
    path = tmp_path / "digit.png"
    Image.fromarray(255 - raw["test_images"][0]).resize((56, 56)).save(path)
    return str(path)


@pytest.mark.usefixtures("offline_data")
def test_predict_names_the_class_of_a_data_set_with_class_names(
    tiny_mnist, tiny_source_dir, monkeypatch, tmp_path, digit_png, capsys
):
    spec = dataclasses.replace(tiny_mnist.spec, system_dir=str(tiny_source_dir), labels=FASHION.labels)
    monkeypatch.setitem(registry.DATASETS, "tiny", spec)
    model = tmp_path / "m.json"
    assert (
        main(["train", "--dataset", "tiny", "--sizes", "784,10,10", "--epochs", "1", "--save", str(model), "--quiet"])
        == 0
    )
    capsys.readouterr()
    assert main(["predict", str(model), digit_png]) == 0
    line = capsys.readouterr().out.strip()
    found = re.fullmatch(
        rf"{re.escape(digit_png)}: (.+) \(class (\d)\) \(confidence \d+\.\d%\)"
        rf"(, then .+ \(class \d, \d+\.\d%\))?",
        line,
    )  # a near tie: the runner-up
    assert found, line
    assert found.group(1) == FASHION.labels[int(found.group(2))]
    net = nndl.load(model)
    assert int(found.group(2)) == int(net.feedforward(nndl.imageprep.load_digit(digit_png)).argmax())


def test_predict_says_digit_for_an_mnist_model(tmp_path, digit_png, capsys):
    model = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), digit_png]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(rf"{re.escape(digit_png)}: digit \d \(confidence \d+\.\d%\)(, then \d \(\d+\.\d%\))?", line), (
        line
    )


# --- the command line runs BLAS on one thread ----------------------------------------------

from blas_helpers import USER_VARS, blas_threads_now, two_blas_threads  # noqa: E402,F401


def threads_seen_by_the_cli(monkeypatch, argv):
    seen = []
    on_epoch = cli_train.Reporter.on_epoch

    def recording(self, report):
        seen.append(blas_threads_now())
        on_epoch(self, report)

    monkeypatch.setattr(cli_train.Reporter, "on_epoch", recording)
    assert main(argv) == 0
    return seen


def test_nndl_train_runs_blas_on_one_thread(two_blas_threads, monkeypatch, capsys):
    seen = threads_seen_by_the_cli(monkeypatch, ["train", *SMALL, "--epochs", "2"])
    assert seen == [{1}, {1}]
    assert blas_threads_now() == {2}


@pytest.mark.parametrize("var", USER_VARS)
def test_nndl_train_leaves_a_thread_count_the_user_set(two_blas_threads, monkeypatch, var, capsys):
    monkeypatch.setenv(var, "2")
    assert threads_seen_by_the_cli(monkeypatch, ["train", *SMALL, "--epochs", "2"]) == [{2}, {2}]


def test_nndl_evaluate_runs_blas_on_one_thread_too(two_blas_threads, monkeypatch, tmp_path, capsys):
    model = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(model)]) == 0
    seen = []
    predict = nndl.Network.predict

    def recording(self, X, *args, **kwargs):
        seen.append(blas_threads_now())
        return predict(self, X, *args, **kwargs)

    monkeypatch.setattr(nndl.Network, "predict", recording)
    assert main(["evaluate", str(model), "--dataset", NPZ]) == 0
    assert seen == [{1}]
    assert blas_threads_now() == {2}
