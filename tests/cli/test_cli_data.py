"""nndl data info / fetch, and the named-dataset path of train and evaluate; never the network.

A tiny data set ("tiny", cut from the committed sample; see conftest) is registered for the
test, served by a local folder standing in for the mirrors.
"""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from nndl.cli import main
from nndl.cli.common import FileBars
from nndl.data import FILENAMES, registry

pytestmark = pytest.mark.usefixtures("offline_data")


@pytest.fixture
def tiny(monkeypatch, tiny_mnist, tiny_source_dir):
    """Register 'tiny', whose only source is a folder holding its four files."""
    spec = dataclasses.replace(tiny_mnist.spec, system_dir=str(tiny_source_dir))
    monkeypatch.setitem(registry.DATASETS, "tiny", spec)
    return spec


def root():
    return os.environ["NNDL_DATA_DIR"]


def test_info_on_an_empty_cache(capsys):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"data root: {root()} ($NNDL_DATA_DIR)" in out
    assert f"MNIST (mnist) in {os.path.join(root(), 'mnist')}: not fetched yet; run: nndl data fetch mnist" in out
    assert "Fashion-MNIST (fashion)" in out
    assert out.count("missing") == 8


def test_info_flags_files_that_fail_verification(tiny_mnist, capsys, tmp_path):
    tiny_mnist.write(tmp_path / "nndl-data" / "mnist")  # right names, wrong content for MNIST
    assert main(["data", "info", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "incomplete: 0 of 4 files verified" in out and out.count("FAILS VERIFICATION") == 4
    assert "Fashion" not in out


def test_fetch_then_info(tiny, capsys):
    assert main(["data", "fetch", "tiny"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"Tiny-MNIST: the 4 files fetched from {tiny.system_dir}, verified (SHA-256), in "
        f"{os.path.join(root(), 'tiny')}\n"
    )

    assert main(["data", "fetch", "tiny", "--quiet"]) == 0
    assert capsys.readouterr().out == (
        f"Tiny-MNIST: the 4 files are already in {os.path.join(root(), 'tiny')}, verified (SHA-256)\n"
    )

    assert main(["data", "info", "tiny", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["root"] == root()
    (ds,) = d["datasets"]
    assert ds["dataset"] == "tiny" and ds["complete"] is True
    assert [f["file"] for f in ds["files"]] == list(FILENAMES)
    assert all(f["verified"] for f in ds["files"])

    assert main(["data", "info", "tiny"]) == 0
    assert "complete: all 4 files verified" in capsys.readouterr().out


def test_a_fetch_that_worked_after_a_source_failed_says_one_line(tiny, monkeypatch, capsys):
    """The mirror cannot be reached (a closed port on this machine), the folder serves: one line on
    where the files came from, nothing about the mirror; train and explore say the same line."""
    monkeypatch.setenv("NNDL_TINY_MIRRORS", "https://127.0.0.1:9/mnist/")
    assert main(["data", "fetch", "tiny", "--quiet"]) == 0
    got = capsys.readouterr()
    assert got.out.splitlines() == [
        f"Tiny-MNIST: the 4 files fetched from {tiny.system_dir}, verified (SHA-256), in {os.path.join(root(), 'tiny')}"
    ]
    assert got.err == ""


def test_a_named_data_set_fetched_by_train_is_one_line_on_stderr(tiny, monkeypatch, capsys):
    monkeypatch.setenv("NNDL_TINY_MIRRORS", "https://127.0.0.1:9/mnist/")
    assert main(["train", "--dataset", "tiny", "--sizes", "784,10,10", "--epochs", "1", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"nndl: Tiny-MNIST: the 4 files fetched from {tiny.system_dir}, verified (SHA-256), "
        f"in {os.path.join(root(), 'tiny')}"
    ]


def test_when_every_source_fails_each_is_listed_within_100_columns(tiny_mnist, monkeypatch, capsys, tmp_path):
    far = tmp_path / ("a-folder-with-a-long-name" * 8) / "absent"  # a long path: its line wraps
    spec = dataclasses.replace(tiny_mnist.spec, system_dir=str(far), system_package="dataset-tiny")
    monkeypatch.setitem(registry.DATASETS, "tiny", spec)
    monkeypatch.setenv("NNDL_TINY_MIRRORS", "https://127.0.0.1:9/mnist/ https://127.0.0.1:9/again/")
    assert main(["data", "fetch", "tiny", "--quiet"]) == 1
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.startswith("nndl: error: cannot get Tiny-MNIST file") and "every source failed (3 tried" in first
    tried = rest[1 : rest.index("the four files:")]
    assert rest[0] == "tried:" and sum(line.startswith("  - ") for line in tried) == 3
    assert all(len(line) <= 100 for line in rest)
    assert all(line.startswith(("  - ", "      ")) for line in tried)  # continued lines indented
    assert "apt-get install dataset-tiny" in " ".join(line.strip() for line in tried)


def test_fetch_into_data_dir(tiny, capsys, tmp_path):
    assert main(["data", "fetch", "tiny", "--data-dir", str(tmp_path / "elsewhere")]) == 0
    assert sorted(
        p.name for p in (tmp_path / "elsewhere" / "tiny").iterdir() if p.name in FILENAMES or p.name.endswith(".gz")
    ) == sorted(f + ".gz" for f in FILENAMES)


def test_fetch_with_no_source_is_an_error(monkeypatch, tiny_mnist, capsys):
    monkeypatch.setitem(registry.DATASETS, "tiny", tiny_mnist.spec)  # no mirrors, no folder
    assert main(["data", "fetch", "tiny"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nndl: error: cannot get Tiny-MNIST file") and "Traceback" not in err


def test_unknown_dataset_is_a_usage_error(capsys):
    assert main(["data", "fetch", "cifar"]) == 2
    assert "unknown dataset 'cifar'" in capsys.readouterr().err
    assert main(["data", "info", "cifar"]) == 2


def test_train_and_evaluate_on_a_named_dataset(tiny, capsys, tmp_path):
    model = tmp_path / "m.json"
    assert main(["train", "--dataset", "tiny", "--sizes", "784,10,10", "--epochs", "1", "--save", str(model)]) == 0
    out = capsys.readouterr().out
    assert "Tiny-MNIST: 100 training, 20 validation, 30 test images" in out
    assert "test accuracy: " in out and "/ 30 (" in out
    assert main(["evaluate", str(model), "--dataset", "tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 30


def test_file_bars_one_bar_per_file(capsys):
    import io

    sink = io.StringIO()
    bars = FileBars(True, file=sink)
    for name in ("a-idx3-ubyte", "b-idx1-ubyte"):
        for done in (0, 50, 100):
            bars(name, done, 100)
    bars("b-idx1-ubyte", 0, None)  # the next source starts the same file again
    bars.close()
    text = sink.getvalue()
    assert "a-idx3-ubyte" in text and "b-idx1-ubyte" in text and "100/100" in text
    FileBars(False)("x", 1, 2)  # disabled: draws nothing
    assert capsys.readouterr().err == ""


def test_evaluate_names_the_classes_of_a_named_dataset(monkeypatch, tiny, capsys, tmp_path):
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    monkeypatch.setitem(registry.DATASETS, "tiny", dataclasses.replace(tiny, labels=names))
    model = tmp_path / "m.json"
    assert (
        main(["train", "--dataset", "tiny", "--sizes", "784,10,10", "--epochs", "1", "--save", str(model), "--quiet"])
        == 0
    )
    capsys.readouterr()
    assert main(["evaluate", str(model), "--dataset", "tiny"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{model} on the test split of Tiny-MNIST (30 images)"
    head = next(i for i, ln in enumerate(lines) if ln.startswith("class"))
    table = lines[head : head + 11]
    assert [ln.split(None, 1)[1].startswith(name) for ln, name in zip(table[1:], names)] == [True] * 10
    assert len({len(ln) for ln in table}) == 1  # aligned
    assert main(["evaluate", str(model), "--dataset", "tiny", "--json"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)["per_class"]] == list(names)
