"""nndl predict --show (the 28x28 input as text) and --save-input DIR (as a PNG)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nndl.cli import main
from nndl.cli.models import RAMP, terminal_art
from nndl.imageprep import load_digit

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("model") / "model.json"
    assert (
        main(["train", "--dataset", NPZ, "--sizes", "784,30,10", "--epochs", "2", "--save", str(path), "--quiet"]) == 0
    )
    return str(path)


@pytest.fixture
def one(tmp_path) -> Path:
    """A drawn "1" with a dust speck in the corner: dark ink on white, 300 x 400."""
    im = Image.new("L", (300, 400), 255)
    ImageDraw.Draw(im).line([(150, 60), (150, 340)], fill=0, width=24)
    ImageDraw.Draw(im).ellipse([8, 8, 16, 16], fill=0)
    path = tmp_path / "one.png"
    im.save(path)
    return path


def art_rows(text: str) -> list[str]:
    return [line[1:-1] for line in text.splitlines() if line.startswith("|")]


def test_terminal_art_is_the_input_two_characters_a_pixel():
    x = np.zeros(784)
    x[14 * 28 + 3] = 1.0  # row 14, column 3: full ink
    x[0] = 0.6  # 5.4 of 9 levels: RAMP[5]
    rows = art_rows(terminal_art(x))
    assert len(rows) == 28 and all(len(r) == 56 for r in rows)
    assert rows[14][6:8] == RAMP[-1] * 2 and rows[0][:2] == RAMP[5] * 2
    assert set("".join(rows)) == {" ", RAMP[-1], RAMP[5]}


def test_show_prints_the_input_under_the_answer(capsys, model, one):
    assert main(["predict", model, str(one), "--show"]) == 0
    out = capsys.readouterr().out
    first, *rest = out.splitlines()
    assert first.startswith(f"{one}: digit ")
    rows = art_rows("\n".join(rest))
    x = load_digit(one).reshape(28, 28)
    assert len(rows) == 28
    for r, line in enumerate(rows):  # each pixel's level, as drawn
        for c in range(28):
            assert line[2 * c] == RAMP[int(np.rint(x[r, c] * 9))]
    inked = [c for c in range(28) if rows[14][2 * c] != " "]
    assert inked and max(inked) - min(inked) < 5  # a thin upright stroke, not a speck's box


def test_show_with_json_adds_the_input(capsys, model, one):
    assert main(["predict", model, str(one), "--show", "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert np.allclose(d["input"], load_digit(one), atol=1e-4)


def test_save_input_writes_the_28x28_png(capsys, model, one, tmp_path):
    folder = tmp_path / "inputs"
    other = tmp_path / "b" / "one.png"  # same name from another folder
    other.parent.mkdir()
    other.write_bytes(one.read_bytes())
    assert main(["predict", model, str(one), str(other), "--save-input", str(folder)]) == 0
    err = capsys.readouterr().err
    first, second = folder / "one-input.png", folder / "one-input-2.png"
    assert f"saved to {first}" in err and f"saved to {second}" in err
    with Image.open(first) as im:
        assert im.size == (28, 28) and im.mode == "L"
        pixels = np.asarray(im, dtype=np.float64) / 255
    assert np.abs(pixels.ravel() - load_digit(one)).max() <= 0.5 / 255 + 1e-12
    assert sorted(p.name for p in folder.iterdir()) == ["one-input-2.png", "one-input.png"]  # no temp files
    # fed back to predict, the saved input is read as the same digit input (white on black)
    assert np.abs(load_digit(first) - pixels.ravel()).max() < 0.2


def test_save_input_refuses_a_file_as_folder(capsys, model, one, tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["predict", model, str(one), "--save-input", str(target)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_no_warning_reaches_stderr(model, tmp_path):
    """A JPEG with corrupt EXIF makes Pillow warn; nndl predict prints only its answer."""
    im = Image.new("RGB", (120, 100), "white")
    ImageDraw.Draw(im).rectangle([50, 10, 62, 90], fill="black")
    path = tmp_path / "exif.jpg"
    im.save(path, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00\x00\x01\x00\x01\x00\x00")
    done = subprocess.run(
        [sys.executable, "-W", "default", "-m", "nndl", "predict", model, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.startswith(f"{path}: digit ")
