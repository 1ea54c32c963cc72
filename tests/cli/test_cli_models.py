"""nndl evaluate and nndl predict with a small model trained on the committed MNIST sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import nndl
from nndl.cli import main
from nndl.data import load_npz
from nndl.imageprep import load_digit

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    """784-30-10 trained 5 epochs on 1,667 digits: about 90 % on the sample's test digits."""
    path = tmp_path_factory.mktemp("model") / "model.json"
    assert (
        main(
            [
                "train",
                "--dataset",
                NPZ,
                "--sizes",
                "784,30,10",
                "--epochs",
                "5",
                "--lmbda",
                "0.5",
                "--save",
                str(path),
                "--quiet",
            ]
        )
        == 0
    )
    return str(path)


@pytest.fixture(scope="module")
def digits(tmp_path_factory, sample, model) -> list[tuple[str, int]]:
    """PNGs of test digits the model gets right on the raw array: black ink on white, 4x larger."""
    folder = tmp_path_factory.mktemp("digits")
    raw = np.load(NPZ)
    net = nndl.load(model)
    right = np.flatnonzero(net.predict(sample.test.images.astype(np.float64)) == sample.test.labels)
    out = []
    for i in right[:4]:
        path = folder / f"test{i}.png"
        Image.fromarray(255 - raw["test_images"][i]).resize((112, 112), Image.BILINEAR).save(path)
        out.append((str(path), int(raw["test_labels"][i])))
    return out


def test_evaluate_prints_accuracy_per_class_and_confusion_matrix(capsys, model, sample):
    assert main(["evaluate", model, "--dataset", NPZ]) == 0
    out = capsys.readouterr().out
    correct = nndl.load(model).accuracy(sample.test)
    assert f"accuracy: {correct:,} / 500 ({100 * correct / 500:.2f}%)" in out
    lines = out.splitlines()
    top = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    assert lines[top + 1].split() == ["true", *map(str, range(10))]
    rows = [list(map(int, ln.split())) for ln in lines[top + 2 : top + 12]]
    assert [r[0] for r in rows] == list(range(10))
    matrix = np.array([r[1:] for r in rows])
    assert matrix.sum() == 500 and np.trace(matrix) == correct
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(sample.test.labels, minlength=10))
    widths = {len(ln) for ln in lines[top + 1 : top + 12]}
    assert len(widths) == 1  # an aligned table
    header = lines.index(next(ln for ln in lines if ln.startswith("class")))
    per_class = lines[header + 1 : header + 11]
    assert [ln.split()[0] for ln in per_class] == list(map(str, range(10)))


def test_evaluate_json(capsys, model, sample):
    assert main(["evaluate", model, "--dataset", NPZ, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    cm = np.array(d["confusion_matrix"])
    assert d["split"] == "test" and d["n"] == 500 and cm.shape == (10, 10)
    assert d["correct"] == np.trace(cm) == nndl.load(model).accuracy(sample.test)
    assert d["accuracy"] == pytest.approx(d["correct"] / 500)
    assert [c["class"] for c in d["per_class"]] == list(range(10))
    assert all(c["accuracy"] == pytest.approx(c["correct"] / c["n"]) for c in d["per_class"])


def test_evaluate_other_split(capsys, model):
    assert main(["evaluate", model, "--dataset", NPZ, "--split", "validation", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 333


def test_evaluate_bad_files(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    wrong_shape = tmp_path / "small.json"
    nndl.save(nndl.Network([100, 10], rng=0), wrong_shape)
    cases = [
        (tmp_path / "missing.json", 1, "no such model file"),
        (corrupt, 1, "invalid JSON"),
        (wrong_shape, 2, "takes 100 inputs"),
    ]
    for path, code, message in cases:
        assert main(["evaluate", str(path), "--dataset", NPZ]) == code
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


def test_predict_rendered_digits(capsys, model, digits):
    paths = [p for p, _ in digits]
    assert main(["predict", model, *paths]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(digits)
    net = nndl.load(model)
    for line, (path, label) in zip(lines, digits):
        out = net.feedforward(load_digit(path))
        assert line == f"{path}: digit {label} (confidence {100 * out.max() / out.sum():.1f}%)"


def test_predict_json(capsys, model, digits):
    path, label = digits[0]
    assert main(["predict", model, path, "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert set(d) == {"image", "digit", "scores"}
    assert d["image"] == path and d["digit"] == label
    assert len(d["scores"]) == 10 and sum(d["scores"]) == pytest.approx(1.0)
    assert int(np.argmax(d["scores"])) == label


def test_predict_a_drawn_digit(capsys, model, tmp_path):
    path = tmp_path / "drawn.png"
    im = Image.new("RGB", (300, 400), "white")
    ImageDraw.Draw(im).line([(150, 40), (150, 360)], fill="navy", width=30)  # a "1"
    im.save(path)
    assert main(["predict", model, str(path), "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert d["digit"] == 1


def test_predict_reports_bad_images_and_goes_on(capsys, model, digits, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    good, label = digits[0]
    code = main(["predict", model, str(text), good, str(tmp_path / "missing.png"), str(blank), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert [d["image"] for d in json.loads(out)] == [good]
    errors = err.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("nndl: error: ") for e in errors)
    assert str(text) in errors[0] and "missing.png" in errors[1] and "blank" in errors[2]
    assert "Traceback" not in err


def test_predict_missing_model(capsys, digits, tmp_path):
    assert main(["predict", str(tmp_path / "nope.json"), digits[0][0]]) == 1
    assert "no such model file" in capsys.readouterr().err


def test_model_file_records_its_data_set_and_evaluate_defaults_to_it(tmp_path, capsys):
    """`nndl train --save` writes "dataset"; `nndl evaluate` without --dataset uses it."""
    import json as _json

    from nndl.cli import main as cli_main

    sample = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
    model = tmp_path / "m.json"
    assert (
        cli_main(["train", "--sizes", "784,20,10", "--epochs", "1", "--dataset", sample, "--save", str(model), "-q"])
        == 0
    )
    assert _json.loads(model.read_text())["dataset"] == sample
    capsys.readouterr()
    assert cli_main(["evaluate", str(model), "--json"]) == 0  # no --dataset: the sample, offline
    report = _json.loads(capsys.readouterr().out)
    assert report["n"] == 500
