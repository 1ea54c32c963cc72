"""Model files go both ways with the book's network2.py, and are written atomically."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import network2
import nndl
from nndl import fileio, serialization


def random_net(sizes=(6, 5, 4), cost="cross-entropy", dtype="float64", seed=0):
    return nndl.Network(list(sizes), cost, dtype=dtype, rng=seed)


def assert_same_network(a, b):
    assert a.sizes == b.sizes and a.cost is b.cost and a.dtype == b.dtype
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)  # exactly: JSON keeps every bit of a float


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_exact(tmp_path, cost, dtype):
    net = random_net(cost=cost, dtype=dtype)
    nndl.save(net, tmp_path / "net.json")
    assert_same_network(nndl.load(tmp_path / "net.json"), net)
    back = network2.load(str(tmp_path / "net.json"))
    assert isinstance(back, network2.Network)
    assert_same_network(back, net)


def test_network2_save_and_load(tmp_path):
    net = network2.Network([6, 5, 4], cost=network2.QuadraticCost, seed=1)
    net.save(str(tmp_path / "net.json"))
    back = network2.load(str(tmp_path / "net.json"))
    assert_same_network(back, net)
    x = np.linspace(0, 1, 6).reshape(6, 1)
    np.testing.assert_array_equal(back.feedforward(x), net.feedforward(x))


def test_save_keeps_the_config_and_history(tmp_path):
    config = nndl.TrainConfig(sizes=(6, 5, 4), epochs=1, mini_batch_size=2, seed=2)
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((8, 6)), rng.integers(0, 4, 8))
    net, history = nndl.train(config, data, data)
    nndl.save(net, tmp_path / "net.json", config=config, history=history)
    back, saved_config, saved_history = serialization.load_with_metadata(tmp_path / "net.json")
    assert_same_network(back, net)
    assert nndl.TrainConfig.from_dict(saved_config) == config
    assert nndl.History.from_dict(saved_history) == history


def test_a_file_in_the_original_network2_format_loads(tmp_path):
    """What the book's Network.save writes: four keys, plain nested lists, biases as columns."""
    rng = np.random.default_rng(4)
    sizes = [5, 3, 2]
    weights = [rng.standard_normal((3, 5)), rng.standard_normal((2, 3))]
    biases = [rng.standard_normal((3, 1)), rng.standard_normal((2, 1))]
    data = {
        "sizes": sizes,
        "weights": [w.tolist() for w in weights],
        "biases": [b.tolist() for b in biases],
        "cost": str(network2.QuadraticCost.__name__),
    }
    with open(tmp_path / "book.json", "w") as f:
        json.dump(data, f)
    for load in (nndl.load, network2.load):
        net = load(str(tmp_path / "book.json"))
        assert net.sizes == sizes and net.cost is nndl.QuadraticCost and net.dtype == np.float64
        for got, want in zip(net.weights + net.biases, weights + biases):
            np.testing.assert_array_equal(got, want)


def book_load(filename):
    """network2.load's own logic (json.load, np.array on each list), a dict in place of getattr."""
    f = open(filename)
    data = json.load(f)
    f.close()
    cost = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross-entropy"}[data["cost"]]
    return data["sizes"], cost, [np.array(w) for w in data["weights"]], [np.array(b) for b in data["biases"]]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_our_file_loads_with_the_book_loader(tmp_path, dtype):
    """The extra keys we write (format, dtype, config, history...) do not get in its way."""
    net = random_net(cost="quadratic", dtype=dtype, seed=5)
    nndl.save(net, tmp_path / "net.json", config=nndl.TrainConfig(sizes=(6, 5, 4)))
    sizes, cost, weights, biases = book_load(tmp_path / "net.json")
    assert sizes == [6, 5, 4] and cost == "quadratic"
    assert [b.shape for b in biases] == [(5, 1), (4, 1)]
    for got, want in zip(weights + biases, net.weights + net.biases):
        np.testing.assert_array_equal(got, want.astype(np.float64))


def test_save_creates_the_folder_and_replaces_an_old_file(tmp_path):
    target = tmp_path / "new" / "folder" / "net.json"
    nndl.save(random_net(seed=6), target)
    nndl.save(random_net(seed=7), target)
    assert_same_network(nndl.load(target), random_net(seed=7))
    assert os.listdir(target.parent) == ["net.json"]


# --- atomic writes -------------------------------------------------------------------------


@pytest.fixture
def old_file(tmp_path):
    path = tmp_path / "net.json"
    nndl.save(random_net(seed=8), path)
    return path, path.read_bytes()


def assert_untouched(path, old_bytes):
    assert path.read_bytes() == old_bytes
    assert os.listdir(path.parent) == [path.name]  # no temporary file left beside it
    assert_same_network(nndl.load(path), random_net(seed=8))


def test_a_failing_serializer_leaves_the_old_file(old_file, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("serializer failed")

    monkeypatch.setattr(json, "dumps", boom)
    with pytest.raises(RuntimeError, match="serializer failed"):
        nndl.save(random_net(seed=9), old_file[0])
    assert_untouched(*old_file)


def test_a_write_failing_midway_leaves_the_old_file(old_file, monkeypatch):
    real_open = open

    class HalfWriter:
        """A file whose write stores the first half of the data, then reports a full disk."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(fileio, "open", lambda *a, **k: HalfWriter(real_open(*a, **k)), raising=False)
    with pytest.raises(OSError, match="No space left"):
        nndl.save(random_net(seed=9), old_file[0])
    assert_untouched(*old_file)


def test_a_failing_rename_leaves_the_old_file(old_file, monkeypatch):
    def fail(*args):
        raise OSError("rename failed")

    monkeypatch.setattr(fileio.os, "replace", fail)
    with pytest.raises(OSError, match="rename failed"):
        network2.load(str(old_file[0])).save(str(old_file[0]))
    monkeypatch.undo()
    assert_untouched(*old_file)
