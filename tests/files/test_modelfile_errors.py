"""Loading refuses every malformed model file with a ModelFileError that says what is wrong.

ModelFileError is a ValueError, so code written against the book's network2 that catches
ValueError keeps working. A name read from a file is data: it is looked up in the cost
registry and nowhere else - never with getattr, import or eval.
"""

from __future__ import annotations

import json
import os

import pytest

import network2
import nndl
from nndl import ModelFileError


def good() -> dict:
    """A valid [2, 3, 1] model, as network2 would write it."""
    return {
        "sizes": [2, 3, 1],
        "weights": [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [[0.7, 0.8, 0.9]]],
        "biases": [[[0.1], [0.2], [0.3]], [[0.4]]],
        "cost": "CrossEntropyCost",
    }


def changed(**changes) -> dict:
    d = good()
    for key, value in changes.items():
        if value is KeyError:
            del d[key]
        else:
            d[key] = value
    return d


def write(tmp_path, content) -> str:
    path = tmp_path / "model.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))
    return str(path)


def test_the_base_file_is_valid(tmp_path):
    net = nndl.load(write(tmp_path, good()))
    assert net.sizes == [2, 3, 1] and net.weights[1].tolist() == [[0.7, 0.8, 0.9]]


BAD_FILES = [
    # (id, content, what the message must say)
    ("not-json", "{'sizes': [2, 1]}", r"invalid JSON at line 1 column 2"),
    ("truncated", json.dumps(good())[:-20], r"invalid JSON"),
    ("empty", "", r"invalid JSON"),
    ("top-level-list", [1, 2], r"top level must be a JSON object, got list"),
    ("top-level-number", "3", r"top level must be a JSON object, got int"),
    ("missing-weights", changed(weights=KeyError), r"missing key\(s\) \['weights'\]"),
    ("missing-two", changed(sizes=KeyError, cost=KeyError), r"missing key\(s\) \['sizes', 'cost'\]"),
    ("sizes-string", changed(sizes="2,3,1"), r"sizes must be a list of at least 2 positive integers, got '2,3,1'"),
    ("sizes-object", changed(sizes={"a": 2}), r"sizes must be a list"),
    ("sizes-short", changed(sizes=[2]), r"sizes must be a list of at least 2 .*got \[2\]"),
    ("sizes-negative", changed(sizes=[2, -3, 1]), r"sizes must be .*positive integers, got \[2, -3, 1\]"),
    ("sizes-zero", changed(sizes=[2, 0, 1]), r"sizes must be .*positive integers"),
    ("sizes-bool", changed(sizes=[2, True, 1]), r"sizes must be .*positive integers, got \[2, True, 1\]"),
    ("sizes-float", changed(sizes=[2, 3.0, 1]), r"sizes must be .*positive integers"),
    ("weights-not-list", changed(weights={"0": 1}), r"weights must be a list of 2 arrays for sizes \[2, 3, 1\]"),
    ("weights-count", changed(weights=good()["weights"][:1]), r"weights must be a list of 2 arrays"),
    ("biases-count", changed(biases=good()["biases"] * 2), r"biases must be a list of 2 arrays"),
    (
        "weights-transposed",
        changed(weights=[[[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [[0.7, 0.8, 0.9]]]),
        r"weights\[0\] has shape \(2, 3\), but sizes says \(3, 2\)",
    ),
    (
        "weights-wrong-layer",
        changed(weights=[good()["weights"][0], [[0.7, 0.8]]]),
        r"weights\[1\] has shape \(1, 2\), but sizes says \(1, 3\)",
    ),
    (
        "biases-shape",
        changed(biases=[[[0.1], [0.2]], [[0.4]]]),
        r"biases\[0\] has shape \(2, 1\), but sizes says \(3, 1\)",
    ),
    (
        "ragged",
        changed(weights=[[[0.1, 0.2], [0.3], [0.5, 0.6]], [[0.7, 0.8, 0.9]]]),
        r"weights\[0\] is not a rectangular array of numbers",
    ),
    (
        "strings",
        changed(weights=[[["0.1", "0.2"], [0.3, 0.4], [0.5, 0.6]], [[0.7, 0.8, 0.9]]]),
        r"weights\[0\] must hold numbers only",
    ),
    ("null", changed(biases=[[[0.1], [None], [0.3]], [[0.4]]]), r"biases\[0\] must hold numbers only"),
    ("booleans", changed(biases=[[[True], [False], [True]], [[0.4]]]), r"biases\[0\] must hold numbers only"),
    (
        "huge-int",
        changed(biases=[[[10**400], [0], [0]], [[0.4]]]),
        r"it holds an integer of 401 digits \(a model file's integers have at most 40\)",
    ),
    ("NaN", json.dumps(good()).replace("0.5", "NaN"), r"weights\[0\] contains nan or infinite values"),
    ("Infinity", json.dumps(good()).replace("0.8", "-Infinity"), r"weights\[1\] contains nan or infinite"),
    ("overflow", json.dumps(good()).replace("0.4]]]", "1e999]]]"), r"biases\[1\] contains nan or infinite"),
    (
        "float32-overflow",
        changed(dtype="float32", weights=[[[1e300, 0.2], [0.3, 0.4], [0.5, 0.6]], [[0.7, 0.8, 0.9]]]),
        r"weights\[0\] holds values beyond float32's range",
    ),
    ("unknown-cost", changed(cost="SoftmaxCost"), r"cost: unknown cost 'SoftmaxCost'; valid costs are"),
    ("cost-not-string", changed(cost=["CrossEntropyCost"]), r"cost: unknown cost \['CrossEntropyCost'\]"),
    ("cost-null", changed(cost=None), r"cost: unknown cost None"),
    ("unknown-dtype", changed(dtype="float16"), r"dtype 'float16' is not one of \['float32', 'float64'\]"),
    ("dtype-list", changed(dtype=["float64"]), r"dtype \['float64'\] is not one of"),
    (
        "unknown-activation",
        changed(activation="softmax"),
        r"activation 'softmax' is not one of \['relu', 'sigmoid', 'tanh'\]",
    ),
    ("activation-object", changed(activation={"name": "sigmoid"}), r"activation \{'name': 'sigmoid'\} is not one of"),
    ("deeply-nested", "[" * 100_000 + "]" * 100_000, r"JSON nested too deeply"),
    (
        "deeply-nested-weights",
        changed(weights=[json.loads("[" * 70 + "1" + "]" * 70), [[0.7, 0.8, 0.9]]]),
        r"weights\[0\] is not a rectangular array of numbers",
    ),
    ("not-utf8", b"\xff\xfe{\x00}\x00", r"not UTF-8 text"),
    ("binary", bytes(range(256)), r"not UTF-8 text"),
]


@pytest.mark.parametrize("content, match", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_malformed_file_is_refused_saying_why(tmp_path, content, match):
    path = write(tmp_path, content)
    for load in (nndl.load, network2.load):
        with pytest.raises(ModelFileError, match=match) as info:
            load(path)
        assert isinstance(info.value, ValueError)
        assert str(info.value).startswith(path + ": ")  # names the file
        assert len(str(info.value)) < 500  # and does not echo a whole file back


DANGEROUS_NAMES = [
    "__import__('os').system('x')",
    "Network",
    "load",
    "sigmoid",
    "vectorized_result",
    "np",
    "nndl",
    "serialization",  # network2's names
    "__class__",
    "__builtins__",
    "__dict__",
    "mro",
    "get_cost",
    "Workspace",
    "json",
    "os",
]


@pytest.mark.parametrize("name", DANGEROUS_NAMES)
def test_a_cost_name_is_never_looked_up_outside_the_registry(tmp_path, monkeypatch, name):
    def forbidden(*args):
        raise AssertionError("a name from a model file reached os.system")

    monkeypatch.setattr(os, "system", forbidden)
    path = write(tmp_path, changed(cost=name))
    for load in (nndl.load, network2.load):
        with pytest.raises(ModelFileError, match=r"cost: unknown cost .*valid costs are: 'quadratic', 'cross-entropy'"):
            load(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match=r"model\.json: no such model file"):
        nndl.load(tmp_path / "model.json")


def test_a_directory(tmp_path):
    with pytest.raises(ModelFileError, match=r"is a directory, not a model file"):
        network2.load(str(tmp_path))


def test_errors_name_the_file_given(tmp_path):
    path = write(tmp_path, [1])
    with pytest.raises(ModelFileError, match=r"model\.json: not a valid model file: the top level"):
        nndl.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or os.name != "posix", reason="FIFOs and SIGALRM are POSIX's")
def test_a_fifo_is_refused_at_once_not_read(tmp_path):
    """Opening a FIFO for reading would wait for a writer forever: it is refused by its type first."""
    import signal

    def waited(*args):
        raise AssertionError("loading a FIFO waited for a writer")

    path = tmp_path / "model.json"
    os.mkfifo(path)
    before = signal.signal(signal.SIGALRM, waited)  # fail, never hang, if the FIFO is opened
    signal.alarm(10)
    try:
        with pytest.raises(ModelFileError) as e:
            nndl.load(path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert str(e.value) == f"{path}: not a regular file (a FIFO or a device?), so not a model file"
