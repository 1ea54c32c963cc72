"""Files are safe: model files and the data cache (README "The book's code, as written",
"Where the data comes from"; the brief's "files that are safe").

* network2's ``save`` works for a cost given as an instance (the original fails on it);
* a model file is data: what it holds goes through the registries; a file that names an
  activation or a dtype outside them is refused naming the file and the choices;
* a saved model keeps its config and history, so training continues from it exactly;
* the data cache: a file that fails its checksum is deleted before the next source is tried.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import network2
import nndl
from nndl.errors import ModelFileError


@pytest.mark.parametrize("cost", [network2.CrossEntropyCost(), network2.QuadraticCost(), "quadratic"])
def test_network2_save_works_for_a_cost_given_as_an_instance_or_a_name(tmp_path, cost):
    net = network2.Network([4, 3, 2], cost=cost, seed=0)
    net.save(str(tmp_path / "m.json"))
    back = network2.load(str(tmp_path / "m.json"))
    assert back.cost is nndl.get_cost(cost)
    assert json.loads((tmp_path / "m.json").read_text())["cost"] == nndl.get_cost(cost).__name__


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("activation", "os.system", r"activation 'os.system' is not one of \['relu', 'sigmoid', 'tanh'\]"),
        ("activation", 3, r"activation 3 is not one of"),
        ("dtype", "object", r"dtype 'object' is not one of \['float32', 'float64'\]"),
        ("output_activation", "softmax", r"output_activation 'softmax' does not match the cost CrossEntropyCost"),
    ],
)
def test_names_in_a_model_file_are_looked_up_in_the_registries_only(tmp_path, key, value, match):
    net = nndl.Network([4, 3, 2], rng=1)
    nndl.save(net, tmp_path / "m.json")
    d = json.loads((tmp_path / "m.json").read_text())
    d[key] = value
    (tmp_path / "m.json").write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match=rf"^{tmp_path / 'm.json'}: not a valid model file: {match}"):
        nndl.load(tmp_path / "m.json")


@pytest.mark.parametrize("activation, cost", [("tanh", "log-likelihood"), ("relu", "cross-entropy")])
def test_a_model_file_keeps_the_hidden_and_output_activations(tmp_path, activation, cost):
    net = nndl.Network([4, 3, 2], cost, activation=activation, rng=2)
    nndl.save(net, tmp_path / "m.json")
    d = json.loads((tmp_path / "m.json").read_text())
    assert d["activation"] == activation and d["output_activation"] == nndl.get_cost(cost).output.name
    back = nndl.load(tmp_path / "m.json")
    assert back.activation is net.activation and back.output is net.output
    x = np.linspace(-1, 1, 4)
    np.testing.assert_array_equal(back.feedforward(x), net.feedforward(x))


def test_a_saved_run_continues_exactly(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((30, 4)), rng.integers(0, 2, 30)
    config = nndl.TrainConfig(
        sizes=(4, 3, 2), epochs=3, mini_batch_size=4, eta=0.5, lmbda=0.5, momentum=0.3, dropout=0.2, seed=4
    )
    whole, _ = nndl.train(config, data)
    calls = []
    part, h = nndl.train(config, data, should_stop=lambda: calls.append(1) or len(calls) == 5)
    nndl.save(part, tmp_path / "m.json", config=config, history=h)
    net, saved_config, saved_history = nndl.serialization.load_with_metadata(tmp_path / "m.json")
    history = nndl.History.from_dict(saved_history)
    rest = nndl.TrainConfig.from_dict(saved_config).replace(epochs=config.epochs - history.epochs)
    resumed, h2 = nndl.train(rest, data, net=net, history=history)
    assert h2.epochs == 3
    for a, b in zip(resumed.weights + resumed.biases, whole.weights + whole.biases):
        np.testing.assert_array_equal(a, b)


# --- the data store -----------------------------------------------------------------------------


class Counting:
    """A source that serves the tiny data set gzipped and counts fetches and closes."""

    def __init__(self, tiny, name="local copy", raw=False):
        import gzip

        self.files = {n: b if raw else gzip.compress(b, mtime=0) for n, b in tiny.raw.items()}
        self.name, self.fetched, self.closed = name, [], 0

    def fetch(self, filename, dest, progress=None, max_bytes=None):
        self.fetched.append(filename)
        dest.write_bytes(self.files[filename])
        if progress:
            progress(filename, len(self.files[filename]), len(self.files[filename]))

    def close(self):
        self.closed += 1


@pytest.mark.usefixtures("offline_data")
def test_fetched_files_are_public_data_and_the_callers_sources_stay_open(tiny_mnist, tmp_path):
    from nndl.data import FILENAMES, fetch

    source = Counting(tiny_mnist)
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[source])
    assert source.fetched == list(FILENAMES) and source.closed == 0  # the caller closes its own
    for f in report.files:
        assert f.path.name == f.filename + ".gz" and f.source == "local copy"
        assert f.path.stat().st_mode & 0o777 == 0o644  # readable by every user, like the data


@pytest.mark.usefixtures("offline_data")
def test_fetch_closes_the_default_sources_it_made(tiny_mnist, tmp_path, monkeypatch):
    from nndl.data import fetch, store

    made = []

    def default_sources(spec):
        made.append(Counting(tiny_mnist))
        return made[-1:]

    monkeypatch.setattr(store, "default_sources", default_sources)
    fetch(tiny_mnist.spec, data_dir=tmp_path)
    assert len(made) == 1 and made[0].closed == 1


@pytest.mark.usefixtures("offline_data")
def test_with_no_source_the_error_says_so_and_marks_the_files_already_there(tiny_mnist, tmp_path):
    from nndl.data import FILENAMES, fetch
    from nndl.errors import FetchError

    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / FILENAMES[0]).write_bytes(tiny_mnist.raw[FILENAMES[0]])
    with pytest.raises(FetchError) as e:
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    import os

    message = str(e.value)
    assert message.startswith(
        f"cannot get Tiny-MNIST file {FILENAMES[1]}: there are no sources to try; to install "
        f"Tiny-MNIST by hand, put its four files (raw or .gz) in {folder}{os.sep} or set "
        f"NNDL_DATA_DIR to a folder whose tiny{os.sep} holds them\n"
    ), message
    assert "\ntried:" not in message
    assert f"\n    {FILENAMES[0]}  (or {FILENAMES[0]}.gz)  [already there]\n" in message
    assert f"\n    {FILENAMES[1]}  (or {FILENAMES[1]}.gz)\n" in message


@pytest.mark.usefixtures("offline_data")
def test_a_bad_copy_that_cannot_be_deleted_is_reported(tiny_mnist, tmp_path, monkeypatch):
    from pathlib import Path

    from nndl.data import FILENAMES, fetch

    folder = tiny_mnist.write(tmp_path / "tiny")
    (folder / FILENAMES[1]).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self.name == FILENAMES[1]:
            raise PermissionError(13, "Permission denied")
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    source = Counting(tiny_mnist, raw=True)  # its copy replaces the bad one
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[source])
    note = report.files[1].notes[0]
    assert (
        note.startswith(f"{folder / FILENAMES[1]}: checksum mismatch")
        and "could not be deleted (Permission denied)" in note
    )
    assert source.fetched == [FILENAMES[1]]


# --- model files: every field checked, every message exact ----------------------------------------


def model_dict(**changes):
    d = {
        "sizes": [2, 3, 1],
        "weights": [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], [[0.7, 0.8, 0.9]]],
        "biases": [[[0.1], [0.2], [0.3]], [[0.4]]],
        "cost": "CrossEntropyCost",
    }
    d.update(changes)
    return d


@pytest.mark.parametrize(
    "weights0, found",
    [
        ([["a", "b"], ["c", "d"], ["e", "f"]], "text"),
        ([[b"a", b"b"], [b"c", b"d"], [b"e", b"f"]], "text"),
        ([[True, False], [True, False], [True, False]], "true/false"),
        ([[None, 0.2], [0.3, 0.4], [0.5, 0.6]], "nested or mixed"),
        ([[1j, 0.2], [0.3, 0.4], [0.5, 0.6]], "non-numeric"),
    ],
)
def test_a_model_file_of_other_values_than_numbers_says_what_it_found(weights0, found):
    d = model_dict(weights=[weights0, [[0.7, 0.8, 0.9]]])
    with pytest.raises(
        ModelFileError,
        match=rf"^m.json: not a valid model file: weights\[0\] must hold numbers only, "
        rf"found {found} values$",
    ):
        nndl.serialization.from_dict(d, "m.json")


def test_the_default_name_in_messages_and_flat_biases():
    with pytest.raises(ModelFileError, match=r"^<model>: not a valid model file: missing key"):
        nndl.serialization.from_dict({})
    net = nndl.serialization.from_dict(
        model_dict(biases=[[0.1, 0.2, 0.3], [0.4]])
    )  # flat bias lists, as some write them
    assert [b.ravel().tolist() for b in net.biases] == [[0.1, 0.2, 0.3], [0.4]]
    assert nndl.serialization.from_dict(model_dict(sizes=[2, 1], weights=[[[0.5, 0.6]]], biases=[[[0.1]]])).sizes == [
        2,
        1,
    ]


def test_a_float32_file_holds_float32s_largest_value_and_refuses_beyond_it_in_every_array():
    top = float(np.finfo(np.float32).max)
    net = nndl.serialization.from_dict(model_dict(dtype="float32", biases=[[[top], [0.2], [0.3]], [[0.4]]]))
    assert net.biases[0][0, 0] == np.float32(top)
    with pytest.raises(ModelFileError, match=r"biases\[0\] holds values beyond float32's range"):
        nndl.serialization.from_dict(model_dict(dtype="float32", biases=[[[1e300], [0.2], [0.3]], [[0.4]]]))


def test_a_model_file_that_cannot_be_read_says_why(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError, match=r"file/m.json: cannot read model file: Not a directory$"):
        nndl.load(tmp_path / "file" / "m.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe")
    with pytest.raises(
        ModelFileError,
        match=r"bin.json: not a valid model file: it is not UTF-8 text \(a JSON model "
        r"file was expected\)$",
    ):
        nndl.load(tmp_path / "bin.json")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match=r"deep.json: not a valid model file: JSON nested too deeply$"):
        nndl.load(tmp_path / "deep.json")


def test_a_model_file_records_its_format_data_set_config_and_history(tmp_path):
    from nndl.serialization import load_with_metadata, saved_dataset

    net = nndl.Network([2, 3, 1], rng=0)
    nndl.save(net, tmp_path / "m.json", config={"eta": 0.5}, history={"epoch_seconds": [1.0]}, dataset="fashion")
    d = json.loads((tmp_path / "m.json").read_text())
    assert (d["format"], d["format_version"], d["dataset"]) == ("nndl-network", 1, "fashion")
    assert saved_dataset(d) == "fashion" and saved_dataset({"dataset": 3}) is None and saved_dataset([1]) is None
    back, config, history = load_with_metadata(tmp_path / "m.json", cls=network2.Network)
    assert type(back) is network2.Network and config == {"eta": 0.5} and history == {"epoch_seconds": [1.0]}
    nndl.save(net, tmp_path / "plain.json")
    assert "dataset" not in json.loads((tmp_path / "plain.json").read_text())
    d.update(config="text", history=[1])
    (tmp_path / "odd.json").write_text(json.dumps(d))
    assert load_with_metadata(tmp_path / "odd.json")[1:] == (None, None)
    d["sizes"] = [2, 2, 1]
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match=rf"^{tmp_path / 'bad.json'}: not a valid model file"):
        load_with_metadata(tmp_path / "bad.json")


class Inspecting(Counting):
    """Also records where each download is written while it arrives."""

    def fetch(self, filename, dest, progress=None, max_bytes=None):
        self.dests = getattr(self, "dests", []) + [dest]
        super().fetch(filename, dest, progress)


@pytest.mark.usefixtures("offline_data")
def test_a_download_arrives_under_a_temporary_name_in_the_data_sets_folder(tiny_mnist, tmp_path):
    """Beside its final name (so the rename is atomic), hidden and named .<file>.*.part (so a
    killed fetch's leftovers are recognised and cleaned up later)."""
    from nndl.data import FILENAMES, fetch

    source = Inspecting(tiny_mnist)
    fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[source])
    for dest, name in zip(source.dests, FILENAMES):
        assert dest.parent == tmp_path / "tiny"
        assert dest.name.startswith(f".{name}.") and dest.name.endswith(".part") and not dest.exists()


@pytest.mark.usefixtures("offline_data")
def test_a_download_that_fails_its_checksum_is_reported_with_both_sums(tiny_mnist, tmp_path):
    import gzip
    import hashlib

    from nndl.data import FILENAMES, fetch

    bad = Counting(tiny_mnist, name="bad mirror")
    wrong = tiny_mnist.raw[FILENAMES[0]][:-1] + b"\x07"
    bad.files[FILENAMES[0]] = gzip.compress(wrong, mtime=0)
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[bad, Counting(tiny_mnist)])
    actual, expected = hashlib.sha256(wrong).hexdigest(), tiny_mnist.spec.sha256[FILENAMES[0]]
    assert report.files[0].notes == (
        f"bad mirror: checksum mismatch (sha256 {actual[:12]}..., expected {expected[:12]}...); discarded",
    )
    assert report.dataset == "tiny" and report.files[0].source == "local copy"


@pytest.mark.usefixtures("offline_data")
def test_info_reports_each_file_and_each_array_cache_entry(tiny_mnist, tmp_path):
    from nndl.data import FILENAMES, info, load_mnist

    load_mnist(tiny_mnist.spec, data_dir=tmp_path, sources=[Counting(tiny_mnist)])
    folder = tmp_path / "tiny"
    npy = folder / (FILENAMES[3] + ".npy")
    np.save(npy, np.zeros(30, np.uint8))  # a valid .npy, the wrong labels
    (folder / (FILENAMES[2] + ".npy")).unlink()
    report = info(tiny_mnist.spec, data_dir=tmp_path)
    assert (report.dataset, report.title, report.directory) == ("tiny", "Tiny-MNIST", folder)
    assert [(f.filename, f.path, f.present, f.verified) for f in report.files] == [
        (n, folder / (n + ".gz"), True, True) for n in FILENAMES
    ]
    assert report.complete
    cache = {a.filename: a for a in report.array_cache}
    ok = cache[FILENAMES[0] + ".npy"]
    assert (ok.path, ok.present, ok.size, ok.verified, ok.problem) == (
        folder / (FILENAMES[0] + ".npy"),
        True,
        (folder / (FILENAMES[0] + ".npy")).stat().st_size,
        True,
        None,
    )
    gone = cache[FILENAMES[2] + ".npy"]
    assert (gone.path, gone.present, gone.size, gone.verified) == (folder / (FILENAMES[2] + ".npy"), False, None, None)
    damaged = cache[FILENAMES[3] + ".npy"]
    assert damaged.present and damaged.verified is False and damaged.problem.startswith("checksum mismatch")


@pytest.mark.usefixtures("offline_data")
def test_mnist_is_the_default_data_set(tmp_path, monkeypatch):
    from nndl.data import data_dir, default_root, fetch, info
    from nndl.errors import FetchError

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert data_dir() == default_root() / "mnist"
    assert info().dataset == "mnist" and info().title == "MNIST"
    with pytest.raises(FetchError, match="^cannot get MNIST file train-images-idx3-ubyte"):
        fetch()


def test_the_windows_cache_folder_without_localappdata():
    from pathlib import Path

    from nndl.data import default_root

    for env in ({}, {"LOCALAPPDATA": ""}):
        assert default_root(env, "win32") == Path.home() / "AppData" / "Local" / "nndl"


@pytest.mark.usefixtures("offline_data")
def test_leftovers_older_than_an_hour_are_removed_and_one_that_resists_does_not_stop_a_fetch(
    tiny_mnist, tmp_path, monkeypatch
):
    import os
    import time
    from pathlib import Path

    from nndl.data import fetch

    folder = tiny_mnist.write(tmp_path / "tiny")
    old, stuck = folder / ".a.1.part", folder / ".b.2.part"
    for part in (old, stuck):
        part.write_bytes(b"half")
        t = time.time() - 3600.5  # just over an hour
        os.utime(part, (t, t))
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self.name == stuck.name:
            raise PermissionError(13, "Permission denied")
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    assert set(report.sources.values()) == {"cache"}
    assert not old.exists() and stuck.exists()


@pytest.mark.usefixtures("offline_data")
def test_a_cached_copy_reports_the_bad_copy_deleted_on_the_way(tiny_mnist, tmp_path):
    from nndl.data import FILENAMES, fetch

    folder = tiny_mnist.write(tmp_path / "tiny")
    name = FILENAMES[2]
    (folder / (name + ".gz")).write_bytes(tiny_mnist.gz(name))  # a good .gz beside ...
    (folder / name).write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 12)  # ... a bad raw copy
    report = fetch(tiny_mnist.spec, data_dir=tmp_path, sources=[])
    f = report.files[2]
    assert (f.source, f.path) == ("cache", folder / (name + ".gz"))
    assert (
        len(f.notes) == 1
        and f.notes[0].startswith(f"{folder / name}: checksum mismatch")
        and f.notes[0].endswith("; deleted")
    )
    assert report.files[0].notes == ()


@pytest.mark.usefixtures("offline_data")
def test_the_error_lists_every_source_tried_one_per_line(tiny_mnist, tmp_path):
    from nndl.data import FILENAMES, DirectorySource, fetch, load_mnist
    from nndl.errors import FetchError

    sources = [DirectorySource(tmp_path / "one"), DirectorySource(tmp_path / "two")]
    with pytest.raises(FetchError) as e:
        fetch(tiny_mnist.spec, data_dir=tmp_path, sources=sources)
    name = FILENAMES[0]
    message = str(e.value)
    assert message.startswith(f"cannot get Tiny-MNIST file {name}: every source failed (2 tried, listed below); "), (
        message
    )
    one, two = tmp_path / "one", tmp_path / "two"
    assert re.search(
        rf"\ntried:\n  - {re.escape(str(one))}: [^\n]+\n  - {re.escape(str(two))}: [^\n]+\nthe four files:", message
    )
    with pytest.raises(
        FetchError,
        match=rf"^cannot get Tiny-MNIST file {name} \(downloading is off: download=False\): "
        rf"it is not in the data folder; ",
    ):
        load_mnist(tiny_mnist.spec, data_dir=tmp_path, download=False, sources=sources)


# --- model files: every echo bounded at 40 characters, every bound exact (the limits table of README) ---

from nndl.serialization import load_with_metadata, to_dict  # noqa: E402


def _model(**changes) -> dict:
    d = to_dict(nndl.Network([4, 3, 2], rng=0))
    d.update(changes)
    return d


def _refusal(tmp_path, content) -> str:
    path = tmp_path / "m.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ModelFileError) as e:
        load_with_metadata(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message[len(f"{path}: ") :].removeprefix("not a valid model file: ")


def _echo(ch: str, n: int = 100) -> str:
    return f"'{ch * 40}'... ({n} characters in all)"


@pytest.mark.parametrize(
    "changes, says",
    [
        ({"format": "F" * 100}, "format {} is not 'nndl-network'"),
        ({"format_version": "V" * 100}, "format_version {} is not a positive integer"),
        (
            {"history": {"evaluation_accuracy": "S" * 100}},
            "history evaluation_accuracy must be a list of numbers, got {}",
        ),
        (
            {"history": {"evaluation_accuracy": ["N" * 100]}},
            "history evaluation_accuracy must hold finite numbers only, found {}",
        ),
        ({"history": {"n_training": "T" * 100}}, "history n_training must be an integer >= 0, got {}"),
        ({"history": {"n_evaluation": "E" * 100}}, "history n_evaluation must be an integer >= 0, got {}"),
        ({"dtype": "D" * 100}, "dtype {} is not one of ['float32', 'float64']"),
        ({"activation": "A" * 100}, "activation {} is not one of ['relu', 'sigmoid', 'tanh']"),
        ({"cost": "C" * 101}, "cost: unknown cost {}; valid costs are: "),
    ],
)
def test_a_value_a_model_file_gives_is_echoed_in_at_most_40_characters(tmp_path, changes, says):
    text = json.dumps(changes)
    ch = text.split('"')[-2][0]  # the repeated character
    n = 101 if "C" * 101 in text else 100
    assert says.format(_echo(ch, n)) in _refusal(tmp_path, _model(**changes))


def test_output_activation_is_echoed_in_at_most_40_characters(tmp_path):
    assert f"output_activation {_echo('O')} does not" in _refusal(tmp_path, _model(output_activation="O" * 100))


def test_a_cost_name_of_100_characters_is_looked_up_and_one_of_101_is_cut_first(tmp_path):
    assert f"'{'C' * 100}'" in _refusal(tmp_path, _model(cost="C" * 100))  # whole, from the registry
    assert f"cost: unknown cost {_echo('C', 101)}; " in _refusal(tmp_path, _model(cost="C" * 101))


def test_a_cost_that_is_not_a_name_is_echoed_in_at_most_300_characters(tmp_path):
    name = list(range(1000))
    with pytest.raises(nndl.ConfigError) as e:
        nndl.get_cost(name)
    full = str(e.value)
    assert len(full) > 300
    # quote(): the first 300 characters' repr and the full length; the outer quote marks dropped
    assert _refusal(tmp_path, _model(cost=name)) == f"cost: {repr(full[:300])[1:]}... ({len(full):,} characters in all"


def test_the_bounds_of_a_model_file_are_inclusive(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            _model(
                history={"n_training": 10**39, "evaluation_accuracy": [1] * 100_000, "saturation": [[0.5]] * 100_000}
            )
        )
    )
    _, _, history = load_with_metadata(path)  # 40 digits, 100,000 epochs: taken
    assert len(history["evaluation_accuracy"]) == 100_000 and history["n_training"] == 10**39
    assert len(history["saturation"]) == 100_000
    assert "41 digits" in _refusal(tmp_path, _model(history={"n_training": 10**40}))
    assert "has 100,001 epochs" in _refusal(tmp_path, _model(history={"evaluation_accuracy": [1] * 100_001}))
    assert (
        _refusal(tmp_path, _model(history={"n_evaluation": -1}))
        == "history n_evaluation must be an integer >= 0, got -1"
    )


def test_what_json_raises_beyond_a_decode_error_is_one_line_naming_the_file(tmp_path, monkeypatch):
    import nndl.serialization as ser

    path = tmp_path / "m.json"
    path.write_text(json.dumps(_model()))
    for raised, says in [
        (ValueError("bad"), "cannot be parsed as JSON (bad)"),
        (ValueError("x" * 200), f"cannot be parsed as JSON ({'x' * 100}'... (200 characters in all)"),
    ]:
        monkeypatch.setattr(ser.json, "loads", lambda *a, raised=raised, **k: (_ for _ in ()).throw(raised))
        assert _refusal(tmp_path, json.dumps(_model())) == says


def test_a_model_file_too_large_for_memory_says_what_reading_it_needs(tmp_path, monkeypatch):
    from nndl import memory

    monkeypatch.setattr(memory, "available", lambda: 1000)
    assert re.search(
        r"this model file of [\d.]+ B needs about [\d.]+ KiB \(at the peak, reading it [\d.]+ KiB\), "
        r"more than the 1000 B available now",
        _refusal(tmp_path, _model()),
    )


def test_an_exclusive_save_never_overwrites_and_writes_the_same_model(tmp_path):
    net = nndl.Network([4, 3, 2], rng=0)
    first = nndl.save(net, tmp_path / "m.json", exclusive=True)
    second = nndl.save(net, tmp_path / "m.json", exclusive=True)
    assert (first.name, second.name) == ("m.json", "m-2.json")
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(second.read_text("utf-8"))["sizes"] == [4, 3, 2]


def test_an_unknown_cost_in_a_model_file_lists_every_valid_cost_whatever_its_length(tmp_path):
    """Names of up to 100 characters go to the registry, longer ones are refused before it; both
    messages list the same costs."""
    valid = "valid costs are: 'quadratic', 'cross-entropy', 'log-likelihood'"
    assert _refusal(tmp_path, _model(cost="HingeCost")) == f"cost: unknown cost 'HingeCost'; {valid}"
    assert _refusal(tmp_path, _model(cost="C" * 101)) == f"cost: unknown cost {_echo('C', 101)}; {valid}"
