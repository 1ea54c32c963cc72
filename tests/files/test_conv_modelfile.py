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


def refusal(tmp_path, d) -> str:
    """The one-line refusal of the file ``d``, after the file's name (which it must start with)."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ModelFileError) as e:
        serialization.load(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message[len(f"{path}: ") :]


VALID = "'quadratic', 'cross-entropy', 'log-likelihood'"
NAMES = "['linear', 'relu', 'sigmoid', 'softmax', 'tanh']"
IN_SHAPE = "in_shape must be [n] or [height, width, channels] of positive integers, got "


def last_bias_huge(d):
    d["params"][-1][1][0] = 1e300  # the output layer's first bias: beyond float32, within float64


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda d: d.pop("params"), "missing key(s) ['params']"),
        (lambda d: d.__setitem__("format", "keras"), "format 'keras' is not 'nndl-network'"),
        (
            lambda d: d.__setitem__("format_version", 3),
            "written by a newer nndl (format_version 3; this nndl reads format_version 2 and older); "
            "upgrade nndl to read it",
        ),
        (lambda d: d.__setitem__("in_shape", "I" * 100), IN_SHAPE + f"'{'I' * 40}'... (100 characters in all)"),
        (lambda d: d.__setitem__("in_shape", [28, 28, 0]), IN_SHAPE + "[28, 28, 0]"),
        (lambda d: d.__setitem__("in_shape", [100_001]), IN_SHAPE + "[100001]"),
        (lambda d: d.__setitem__("in_shape", [True, 28, 1]), IN_SHAPE + "[True, 28, 1]"),
        (lambda d: d.__setitem__("in_shape", ["28", 28, 1]), IN_SHAPE + "['28', 28, 1]"),
        (lambda d: d.__setitem__("in_shape", [28.0, 28, 1]), IN_SHAPE + "[28.0, 28, 1]"),
        (
            lambda d: d["layers"][2].__setitem__("activation", "x" * 100),
            f"layer 3: activation '{'x' * 40}'... (100 characters in all) is not one of {NAMES}",
        ),
        (lambda d: d["layers"][0].__setitem__("activation", 7), f"layer 1: activation 7 is not one of {NAMES}"),
        (lambda d: d.__setitem__("layers", 5), "layers: a stack is a list of 1 to 33 layers"),
        (
            lambda d: d["layers"].__setitem__(0, 5),
            "layers: layer 1 is of unknown kind None; kinds are 'conv', 'pool', 'dense'",
        ),
        (lambda d: d.__setitem__("cost", "HingeCost"), f"unknown cost 'HingeCost'; valid costs are: {VALID}"),
        (lambda d: d.__setitem__("cost", "C" * 100), f"unknown cost '{'C' * 100}'; valid costs are: {VALID}"),
        (lambda d: d.__setitem__("cost", "C" * 101), f"cost: unknown cost '{'C' * 40}'... (101 characters in all)"),
        (lambda d: d.__setitem__("dtype", "float16"), "dtype 'float16' is not one of ['float32', 'float64']"),
        (lambda d: d.__setitem__("dtype", ["float32"]), "dtype ['float32'] is not one of ['float32', 'float64']"),
        (
            lambda d: d.__setitem__("dtype", "D" * 100),
            f"dtype '{'D' * 40}'... (100 characters in all) is not one of ['float32', 'float64']",
        ),
        (
            lambda d: d["layers"][-1].__setitem__("activation", "sigmoid"),
            "the last layer must be a dense layer with the cost's output activation (softmax)",
        ),
        (  # softmax is a name layers may carry (the output's), but not a conv layer's activation
            lambda d: d["layers"][0].__setitem__("activation", "softmax"),
            "unknown activation 'softmax'; valid activations are: 'sigmoid', 'tanh', 'relu'",
        ),
        (lambda d: d["params"].pop(), "params must be a list of 4 lists, one per layer"),
        (lambda d: d["params"].__setitem__(0, d["params"][0][:1]), "params of layer 1 must be a list of 2 arrays"),
        (lambda d: d["params"].__setitem__(2, "w"), "params of layer 3 must be a list of 2 arrays"),
        (lambda d: d["params"][0].__setitem__(0, [[1.0]]), "layer 1's w has shape (1, 1), but sizes says (5, 5, 1, 3)"),
        (last_bias_huge, "layer 4's biases holds values beyond float32's range (largest magnitude 3.40282e+38)"),
        (
            lambda d: d.__setitem__("sizes", ["S" * 100, 2]),
            f"sizes ['{'S' * 27}...{'S' * 28}', 2] do not match its layers ([784, 1728, 432, 12, 10])",
        ),
    ],
)
def test_every_refusal_of_a_conv_file_names_the_file_and_says_exactly_what_is_wrong(tmp_path, conv_net, change, says):
    message = refusal(tmp_path, hostile(conv_net, change))
    assert message.removeprefix("not a valid model file: ") == says


def test_a_conv_file_whose_last_but_one_layer_is_a_pool_loads(tmp_path):
    specs = [{"kind": "conv", "maps": 2, "kernel": 3}, {"kind": "pool", "size": 2}, {"kind": "dense", "n": 3}]
    net = Network.stack((6, 6, 1), specs, "log-likelihood", rng=0)
    back = serialization.load(serialization.save(net, tmp_path / "pool-last-but-one.json"))
    assert back.specs() == net.specs()


def test_a_conv_file_may_leave_out_sizes_dtype_and_the_output_layer_s_activation(tmp_path, conv_net):
    """float64 by default, sizes from the layers, the output activation from the cost (as written by hand)."""
    d = serialization.to_dict(conv_net)
    del d["sizes"], d["dtype"], d["layers"][-1]["activation"]
    path = tmp_path / "short.json"
    path.write_text(json.dumps(d))
    back = serialization.load(path)
    assert back.dtype == np.float64 and back.sizes == conv_net.sizes and back.specs() == conv_net.specs()


def test_an_image_of_a_conv_file_may_be_100_000_pixels_high(tmp_path):
    net = Network.stack((100_000, 1, 1), [{"kind": "pool", "size": 1}, {"kind": "dense", "n": 1}], rng=0)
    back = serialization.load(serialization.save(net, tmp_path / "tall.json"))
    assert back.in_shape == (100_000, 1, 1) and np.array_equal(back.params[0].value, net.params[0].value)


def test_a_conv_file_records_what_network2_s_files_record(conv_net):
    d = serialization.to_dict(conv_net)
    assert (d["sizes"], d["format"], d["activation"], d["output_activation"], d["cost"]) == (
        [784, 1728, 432, 12, 10],
        "nndl-network",
        "relu",
        "softmax",
        "LogLikelihoodCost",
    )


class Trained(Network):
    """A subclass, as a caller's own network class would be."""


class DenseOnly:
    """A class that builds dense networks only (no ``stack``), as network2-style code may pass."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("a conv file is never built by a class without stack")


def test_a_conv_file_is_built_by_the_class_asked_for_or_by_nndl_s_network_if_it_cannot_stack(tmp_path, conv_net):
    path = serialization.save(conv_net, tmp_path / "conv.json")
    assert type(serialization.load(path, cls=Trained)) is Trained
    assert type(serialization.load_with_metadata(path, cls=Trained)[0]) is Trained
    assert type(serialization.load(path, cls=DenseOnly)) is Network
