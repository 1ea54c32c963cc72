"""nndl train --layers: a conv net typed in one line trains, saves (format_version 2), evaluates,
predicts, makes its report page and resumes; a bad description is a usage error naming the flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nndl.cli import main

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
CONV = [
    "--dataset",
    NPZ,
    "--layers",
    "conv:4x5x5:relu,pool:2,dense:20:relu",
    "--cost",
    "log-likelihood",
    "--init",
    "he",
    "--eta",
    "0.1",
    "--lmbda",
    "0",
    "--dtype",
    "float32",
]


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)


def test_a_conv_net_trains_saves_evaluates_and_resumes(tmp_path, capsys):
    path = tmp_path / "conv.json"
    assert main(["train", *CONV, "--epochs", "1", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "network conv:4x5x5:relu,pool:2,dense:20:relu -> 10, log-likelihood cost" in out and "test accuracy:" in out
    d = json.loads(path.read_text())
    assert d["format_version"] == 2 and [s["kind"] for s in d["layers"]] == ["conv", "pool", "dense", "dense"]
    assert d["config"]["layers"] == "conv:4x5x5:relu,pool:2,dense:20:relu"
    assert main(["evaluate", str(path), "--dataset", NPZ]) == 0
    assert "accuracy:" in capsys.readouterr().out
    import numpy as np
    from PIL import Image

    with np.load(NPZ) as d:
        Image.fromarray(255 - d["test_images"][0]).save(tmp_path / "digit.png")  # dark ink on white
    assert main(["predict", str(path), str(tmp_path / "digit.png")]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'digit.png'}: digit ")
    assert main(["report", str(path), "--dataset", NPZ]) == 0  # the page runs the conv net
    assert capsys.readouterr().out.strip() == str(tmp_path / "conv.report.html")
    assert '"kind":"conv"' in (tmp_path / "conv.report.html").read_text()
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--epochs", "1", "--quiet"]) == 0
    assert json.loads(path.read_text())["history"]["epoch_seconds"].__len__() == 2
    assert main(["train", "--dataset", NPZ, "--resume", str(path), "--epochs", "1", "--layers", "dense:30"]) == 2
    assert "argument --layers" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text,message",
    [
        ("conv:20x5x4", "argument --layers: item 1, 'conv:20x5x4': filters must be square"),
        ("conv:20x5,pool:99", "argument --layers: layer 2: a 99x99 pool does not fit in 24x24 images"),
        ("lstm:20", "argument --layers: item 1, 'lstm:20', is not one of its forms"),
    ],
)
def test_a_bad_description_is_a_usage_error_naming_the_flag(capsys, text, message):
    assert main(["train", *CONV, "--epochs", "1", "--layers", text]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_conv_net_too_large_for_the_memory_is_refused_before_it_is_built(capsys):
    big = ["--layers", "conv:4096x1,conv:4096x1", "--mini-batch-size", "1600", "--epochs", "1"]
    assert main(["train", "--dataset", NPZ, *big]) == 1
    err = capsys.readouterr().err
    assert "training --layers conv:4096x1,conv:4096x1 with mini-batch 1,600 needs about" in err
    assert err.count("\n") == 1


def test_evaluate_and_predict_answer_as_the_conv_net_does(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    import nndl

    path = tmp_path / "conv.json"
    assert main(["train", *CONV, "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    capsys.readouterr()
    net = nndl.load(path)
    assert [layer.kind for layer in net.layers] == ["conv", "pool", "dense", "dense"]
    with np.load(NPZ) as d:
        images, labels = d["test_images"], d["test_labels"]
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)  # (n, 784), as the loader
    predicted = net.predict(X)  # (n,)
    assert main(["evaluate", str(path), "--dataset", NPZ, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["correct"] == int((predicted == labels).sum()) and shown["n"] == len(labels)
    Image.fromarray(255 - images[1]).save(tmp_path / "digit.png")  # dark ink on white
    assert main(["predict", str(path), str(tmp_path / "digit.png"), "--json"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    out = net.forward(nndl.imageprep.load_digit(tmp_path / "digit.png").reshape(1, 784))[0]  # (10,)
    assert answer["digit"] == int(out.argmax()) and answer["scores"] == pytest.approx(list(out / out.sum()), abs=1e-6)
