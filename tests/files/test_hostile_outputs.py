"""Every output (--save, -o, --save-input, the explorations' figures) replaces a regular file or
nothing: a symbolic link is written through to its file, a FIFO, device or folder is refused,
and an output that is one of the command's own inputs is refused before any work."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

import nndl
from nndl import fileio
from nndl.cli import main
from nndl.errors import OutputError

NPZ = Path(__file__).parents[1] / "data" / "mnist_sample.npz"


def test_a_symbolic_link_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    fileio.atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert real.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]  # no temporary file left


def special_files(tmp_path) -> dict:
    """A FIFO, a socket, a folder, a link to a folder and (as root) a character device of our own."""
    made = {}
    os.mkfifo(tmp_path / "fifo")
    made["fifo"] = tmp_path / "fifo"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    sock.close()
    made["socket"] = tmp_path / "sock"
    (tmp_path / "dir").mkdir()
    made["folder"] = tmp_path / "dir"
    (tmp_path / "dirlink").symlink_to("dir")
    made["link to a folder"] = tmp_path / "dirlink"
    try:
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
        made["character device"] = tmp_path / "null"
    except (PermissionError, OSError):
        pass
    return made


def test_nothing_but_a_regular_file_is_ever_replaced(tmp_path):
    for what, path in special_files(tmp_path).items():
        mode = path.lstat().st_mode
        with pytest.raises(OutputError) as e:
            fileio.atomic_write_bytes(path, b"x")
        assert e.value.filename == str(path), what
        assert path.lstat().st_mode == mode, f"the {what} was replaced"
        with pytest.raises(OSError):
            fileio.check_writable(path)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_loop_of_links_is_refused(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OutputError, match="loop"):
        fileio.atomic_write_text(tmp_path / "a", "x")
    assert (tmp_path / "a").is_symlink()


def test_an_output_that_is_an_input_is_refused_by_inode(tmp_path):
    data = tmp_path / "data.bin"
    data.write_text("precious")
    os.link(data, tmp_path / "hard.bin")
    (tmp_path / "soft.bin").symlink_to("data.bin")
    for out in ("data.bin", "hard.bin", "soft.bin"):
        with pytest.raises(OutputError, match="also an input"):
            fileio.check_output(tmp_path / out, [data])
    assert fileio.check_output(tmp_path / "new.bin", [data]) == tmp_path / "new.bin"
    assert data.read_text() == "precious"


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "m.json"
    nndl.save(nndl.Network([784, 5, 10], rng=0), path, dataset=str(NPZ))
    return path


def test_report_never_writes_over_its_model_file(model, capsys):
    before = model.read_bytes()
    assert main(["report", str(model), "-o", str(model), "--dataset", str(NPZ)]) == 2
    err = capsys.readouterr().err.strip()
    assert "also an input" in err and len(err.splitlines()) == 1
    link = model.with_name("page.html")
    link.symlink_to(model.name)  # through a link: the same file
    assert main(["report", str(model), "-o", str(link), "--dataset", str(NPZ)]) == 2
    assert model.read_bytes() == before


def test_report_of_a_folder_never_writes_over_its_results_or_models(model, tmp_path, capsys):
    folder = tmp_path / "run"
    (folder / "models").mkdir(parents=True)
    shutil.copy(model, folder / "models" / "full.json")
    results = {"level": 3, "complete": True, "options": {"dataset": str(NPZ)}, "runs": {"full": {}}}
    (folder / "results.json").write_text(json.dumps(results))
    for out in ("results.json", "models/full.json"):
        before = (folder / out).read_bytes()
        assert main(["report", str(folder), "-o", str(folder / out)]) == 2
        assert "also an input" in capsys.readouterr().err
        assert (folder / out).read_bytes() == before


def test_report_refuses_a_fifo_or_device_as_its_page(model, tmp_path, capsys):
    for what, path in special_files(tmp_path).items():
        if what in ("folder", "link to a folder"):
            continue
        mode = path.lstat().st_mode
        assert main(["report", str(model), "-o", str(path), "--dataset", str(NPZ)]) == 2, what
        assert "not a file" in capsys.readouterr().err
        assert path.lstat().st_mode == mode


def test_train_never_saves_over_its_data_set(tmp_path, capsys):
    data = tmp_path / "s.npz"
    shutil.copy(NPZ, data)
    before = data.read_bytes()
    code = main(["train", "--dataset", str(data), "--save", str(data), "--epochs", "1", "--sizes", "784,5,10", "-q"])
    assert code == 2
    err = capsys.readouterr()
    assert "argument --save" in err.err and "also an input" in err.err and err.out == ""  # before training
    assert data.read_bytes() == before
    os.mkfifo(tmp_path / "fifo")
    assert main(["train", "--dataset", str(data), "--save", str(tmp_path / "fifo"), "--epochs", "1", "-q"]) != 0
    assert "FIFO" in capsys.readouterr().err and stat.S_ISFIFO((tmp_path / "fifo").lstat().st_mode)


@pytest.fixture
def digit(tmp_path) -> Path:
    from PIL import Image, ImageDraw

    im = Image.new("L", (60, 60), 255)
    ImageDraw.Draw(im).rectangle([26, 8, 32, 52], fill=0)
    path = tmp_path / "one.png"
    im.save(path)
    return path


def test_save_input_makes_only_the_last_folder_and_says_so(model, digit, tmp_path, capsys):
    far = tmp_path / "no" / "such" / "place"
    assert main(["predict", str(model), str(digit), "--save-input", str(far)]) == 2
    assert "make " in capsys.readouterr().err and not (tmp_path / "no").exists()
    near = tmp_path / "inputs"
    assert main(["predict", str(model), str(digit), "--save-input", str(near)]) == 0
    assert "made the folder" in capsys.readouterr().err and (near / "one-input.png").is_file()


def test_save_input_never_writes_over_an_input(model, digit, tmp_path, capsys):
    victim = tmp_path / "one-input.png"  # an input image that is also where one.png's input goes
    shutil.copy(digit, victim)
    before = victim.read_bytes()
    assert main(["predict", str(model), str(digit), str(victim), "--save-input", str(tmp_path)]) == 2
    assert "also an input" in capsys.readouterr().err and victim.read_bytes() == before


def test_replot_never_writes_a_figure_through_a_link_onto_results_json(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(Path(__file__).parents[2] / "docs" / "level3" / "results.json", folder / "results.json")
    before = (folder / "results.json").read_bytes()
    (folder / "1_cross_entropy_advantage.png").symlink_to("results.json")
    assert main(["explore", "level3", "--replot", str(folder)]) == 1
    assert "also an input" in capsys.readouterr().err
    assert (folder / "results.json").read_bytes() == before
