"""Model files read with bounds: integers, quoted echoes, format_version, histories, memory.
Every refusal is a ModelFileError naming the file, in one short line."""

from __future__ import annotations

import json

import pytest

import nndl
from nndl import ModelFileError
from nndl.serialization import FORMAT_VERSION, load_with_metadata, to_dict


def model(**changes) -> dict:
    d = to_dict(nndl.Network([4, 3, 2], rng=0))
    d.update(changes)
    return d


def refused(tmp_path, content, match):
    path = tmp_path / "m.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ModelFileError, match=match) as e:
        load_with_metadata(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and len(message) < 500, message
    return message


def test_an_integer_too_long_to_parse(tmp_path):
    text = json.dumps(model()).replace('"sizes": [4,', '"sizes": [' + "9" * 5000 + ",")
    refused(tmp_path, text, r"holds an integer of 5,000 digits \(a model file's integers have at most 40\)")


def test_an_integer_beyond_python_s_own_limit_in_weights(tmp_path):
    text = json.dumps(model()).replace("[[", "[[" + "1" * 10_000 + ".5, ", 1)
    refused(tmp_path, text, r"not a valid model file")  # a float of 10,000 digits: parsed, then refused


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("cost", "C" * 10_000_000, r"cost: unknown cost 'CCC.*\(10,000,000 characters in all\)"),
        ("dtype", "f" * 1_000_000, r"dtype 'fff.*characters in all\) is not one of"),
        ("activation", ["sigmoid"] * 100_000, r"activation \['sigmoid', .*\.\.\.\] is not one of"),
        ("sizes", list(range(1, 1_000_000)), r"weights must be a list of 999998 arrays for sizes \[1, 2, 3"),
    ],
)
def test_echoed_values_are_quoted_short(tmp_path, key, value, match):
    refused(tmp_path, model(**{key: value}), match)


def test_a_future_format_version_is_refused_clearly(tmp_path):
    refused(
        tmp_path,
        model(format_version=FORMAT_VERSION + 1),
        rf"written by a newer nndl \(format_version {FORMAT_VERSION + 1}; this nndl reads format_version "
        rf"{FORMAT_VERSION} and older\); upgrade nndl to read it",
    )


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"format_version": "1"}, r"format_version '1' is not a positive integer"),
        ({"format_version": 0}, r"format_version 0 is not a positive integer"),
        ({"format_version": True}, r"format_version True"),
        ({"format": "keras"}, r"format 'keras' is not 'nndl-network'"),
    ],
)
def test_bad_format_fields(tmp_path, changes, match):
    refused(tmp_path, model(**changes), match)


def test_network2_files_without_format_are_read(tmp_path):
    d = model()
    for key in ("format", "format_version", "dtype", "activation"):
        d.pop(key)
    path = tmp_path / "book.json"
    path.write_text(json.dumps(d))
    assert nndl.load(path).sizes == [4, 3, 2]


@pytest.mark.parametrize(
    "history, match",
    [
        ({"epoch_seconds": [0.1] * 100_001}, r"history epoch_seconds has 100,001 epochs"),
        ({"evaluation_accuracy": [1, "x"]}, r"history evaluation_accuracy must hold finite numbers only, found 'x'"),
        ({"evaluation_cost": [1.0, None]}, r"found None"),
        ({"training_accuracy": [True]}, r"found True"),
        ({"evaluation_cost": "abc"}, r"must be a list of numbers, got 'abc'"),
        ({"n_training": -1}, r"history n_training must be an integer >= 0, got -1"),
        ({"eta": [0.5, float("nan")]}, r"history eta must hold finite numbers only, found nan"),
        ({"saturation": [[0.1]] * 100_001}, r"history saturation has 100,001 epochs"),
    ],
)
def test_bad_histories(tmp_path, history, match):
    refused(tmp_path, model(history=history), match)


def test_a_file_larger_than_memory_allows_is_refused_before_reading(tmp_path, monkeypatch):
    from nndl import memory

    monkeypatch.setattr(memory, "available", lambda: 1000)
    refused(tmp_path, model(), r"this model file of .* needs about .* more than the 1000 B available now")


SATURATION = "history saturation must hold lists of at most 100 finite numbers (one per hidden layer), found "


@pytest.mark.parametrize(
    "history, says",
    [
        ({"saturation": "S" * 100}, f"history saturation must be a list (one entry per epoch), got '{'S' * 40}'... "),
        ({"saturation": [5]}, SATURATION + "5"),
        ({"saturation": [[0.5], "ab"]}, SATURATION + "'ab'"),
        ({"saturation": [["x"]]}, SATURATION + "['x']"),
        ({"saturation": [[0.5, float("nan")]]}, SATURATION + "[0.5, nan]"),
        ({"saturation": [[float("inf")]]}, SATURATION + "[inf]"),
        ({"saturation": [[True]]}, SATURATION + "[True]"),
        ({"saturation": [[0.5] * 101]}, SATURATION + "[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, ...]"),
        ({"saturation": [["E" * 100]]}, SATURATION + f"['{'E' * 17}...{'E' * 18}']"),
    ],
)
def test_a_saved_saturation_history_is_checked_entry_by_entry(tmp_path, history, says):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model(history=history)))
    with pytest.raises(ModelFileError) as e:
        load_with_metadata(path)
    assert str(e.value).startswith(f"{path}: not a valid model file: {says}"), str(e.value)


def test_a_saturation_history_may_skip_epochs_and_hold_one_value_per_hidden_layer_up_to_100(tmp_path):
    saturation = [None, [0.5], [0.25] * 100, []]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model(history={"saturation": saturation, "eta": [0.5] * 4})))
    assert load_with_metadata(path)[2]["saturation"] == saturation


def test_a_history_that_is_not_an_object_is_refused_naming_where_it_came_from():
    from nndl.errors import ResultsFileError
    from nndl.serialization import check_history

    with pytest.raises(ModelFileError) as e:
        check_history("H" * 100, "m.json")
    assert (
        str(e.value)
        == f"m.json: not a valid model file: history must be an object, got '{'H' * 40}'... (100 characters in all)"
    )
    with pytest.raises(ResultsFileError) as e:
        check_history({"saturation": [["x"]]}, "r.json: run 2", "results file", ResultsFileError)
    assert str(e.value) == "r.json: run 2: not a valid results file: " + SATURATION + "['x']"


@pytest.mark.parametrize(
    "content, says",
    [
        (b'{"n": ' + b"9" * 41 + b"}", "it holds an integer of 41 digits (a results file's integers have at most 40)"),
        (b"\xff\xfe", "it is not UTF-8 text (a JSON results file was expected)"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b'{"n": 1,}', "invalid JSON at line 1 column 9: Expecting property name enclosed in double quotes"),
    ],
)
def test_read_json_refuses_with_the_error_and_the_kind_of_file_it_is_given(tmp_path, content, says):
    """The results page reads its JSON through the model files' reader: its refusals name a results file."""
    from nndl.errors import ResultsFileError
    from nndl.serialization import read_json

    path = tmp_path / "results.json"
    path.write_bytes(content)
    with pytest.raises(ResultsFileError) as e:
        read_json(path, "results file", ResultsFileError)
    assert not isinstance(e.value, ModelFileError)
    assert str(e.value) == f"{path}: not a valid results file: {says}"


def test_read_json_turns_what_json_raises_beyond_a_decode_error_into_the_error_it_is_given(tmp_path, monkeypatch):
    import nndl.serialization as ser
    from nndl.errors import ResultsFileError

    path = tmp_path / "results.json"
    path.write_text("{}")
    monkeypatch.setattr(ser.json, "loads", lambda *a, **k: (_ for _ in ()).throw(ValueError("bad")))
    with pytest.raises(ResultsFileError) as e:
        ser.read_json(path, "results file", ResultsFileError)
    assert not isinstance(e.value, ModelFileError)
    assert str(e.value) == f"{path}: not a valid results file: cannot be parsed as JSON (bad)"
