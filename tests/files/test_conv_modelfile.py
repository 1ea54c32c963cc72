"""Model files of conv nets (format_version 2: in_shape, layers, params): they round-trip exactly,
dense files stay network2's format_version 1, and hostile stacks are refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nndl import serialization
from nndl.engine.network import Network
from nndl.errors import ModelFileError

SPECS = [
    {"kind": "conv", "maps": 3, "kernel": 5, "activation": "relu"},
    {"kind": "pool", "size": 2},
    {"kind": "dense", "n": 12, "activation": "tanh"},
    {"kind": "dense", "n": 10},
]


@pytest.fixture
def conv_net():
    return Network.stack((28, 28, 1), SPECS, "log-likelihood", init="he", dtype="float32", rng=4)


def test_a_conv_net_round_trips_exactly(tmp_path, conv_net):
    path = serialization.save(conv_net, tmp_path / "conv.json")
    d = json.loads(path.read_text())
    assert d["format_version"] == 2 and d["in_shape"] == [28, 28, 1] and "weights" not in d
    back = serialization.load(path)
    assert back.specs() == conv_net.specs() and back.dtype == np.float32
    for p, q in zip(conv_net.params, back.params):
        assert np.array_equal(p.value, q.value)
    X = np.random.default_rng(0).random((7, 784)).astype(np.float32)
    assert np.array_equal(back.forward(X), conv_net.forward(X))


def test_dense_networks_are_still_written_as_format_version_1(tmp_path):
    net = Network([784, 30, 10], rng=0)
    d = json.loads(serialization.save(net, tmp_path / "dense.json").read_text())
    assert d["format_version"] == 1 and "layers" not in d and len(d["weights"]) == 2
    assert np.array_equal(serialization.load(tmp_path / "dense.json").weights[0], net.weights[0])


def hostile(conv_net, change):
    d = serialization.to_dict(conv_net)
    change(d)
    return d


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda d: d["layers"].__setitem__(0, {"kind": "conv", "maps": 10**6, "kernel": 1}), "too large at layer 1"),
        (lambda d: d["layers"].insert(2, {"kind": "dense", "n": 10**9}), "too large at layer 3"),
        (lambda d: d["layers"].__setitem__(0, {"kind": "exec", "code": "rm -rf"}), "unknown kind 'exec'"),
        (lambda d: d["layers"][0].__setitem__("activation", "x" * 10**6), "activation 'xxxxx"),
        (lambda d: d["layers"].__setitem__(slice(None), [{"kind": "pool", "size": 1}] * 100), "1 to 33 layers"),
        (lambda d: d.__setitem__("in_shape", [28, 28]), "in_shape must be"),
        (lambda d: d["params"][0].__setitem__(0, [[1.0]]), "layer 1's w has shape"),
        (lambda d: d["params"].pop(), "params must be a list of 4"),
        (lambda d: d["layers"][-1].__setitem__("activation", "sigmoid"), "with the cost's output activation"),
        (lambda d: d.__setitem__("format_version", 3), "newer nndl"),
        (lambda d: d.pop("params"), "missing key"),
        (lambda d: d.__setitem__("sizes", [1, 2]), "do not match its layers"),
    ],
)
def test_hostile_conv_files_are_refused_in_one_line(tmp_path, conv_net, change, match):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(hostile(conv_net, change)))
    with pytest.raises(ModelFileError, match=match) as e:
        serialization.load(path)
    assert "\n" not in str(e.value) and len(str(e.value)) < 400
