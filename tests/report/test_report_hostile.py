"""The report page and its readers against hostile files: every embedded JSON escaped, chart ticks
bounded for any values, absurd networks refused in bounded memory, results.json and model files
of the wrong shape one line each, data sets found again by path and SHA-256 (or refused)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nndl
from nndl.cli import main
from nndl.data import load_npz
from nndl.errors import ModelFileError, ResultsFileError
from nndl.limits import MAX_EPOCHS
from nndl.report import build_report, modelfile
from nndl.report.page import html

NPZ = Path(__file__).parents[1] / "data" / "mnist_sample.npz"
HOSTILE = "<!--<script></script>&\u2028"


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


def model_dict(sizes=(784, 5, 10), **extra) -> dict:
    d = nndl.serialization.to_dict(nndl.Network(list(sizes), rng=0))
    d.update(extra)
    return d


def write(path: Path, value) -> Path:
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def one_line_error(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code in (1, 2), (code, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# --- the page's JSON ----------------------------------------------------------------------------------


def data_block(page: str) -> str:
    return re.search(r'<script type="application/json" id="nndl-data">(.*?)</script>', page, re.S).group(1)


def test_no_string_can_leave_the_json_block(tmp_path, sample):
    path = write(tmp_path / f"m{HOSTILE[:12]}.json", model_dict(config={"cost": HOSTILE, "eta": 0.5}))
    report = build_report(path, sample.test, dataset=HOSTILE)
    report.networks[0]["label"] = HOSTILE  # every string the page's data carries
    page = html(report)
    block = data_block(page)
    assert not set(block) & set("<>&\u2028\u2029")
    data = json.loads(block)
    assert data["networks"][0]["label"] == HOSTILE and data["networks"][0]["name"] == path.stem
    assert page.count("<script") == 4  # the data block and the three scripts, no more


# --- bounded charts -----------------------------------------------------------------------------------

HARD = [
    (2.0**53, 2.0**53 + 2),
    (2.0**53, 2.0**53),
    (-1e308, 1e308),
    (0.0, float("inf")),
    (float("nan"), 1.0),
    (1e-320, 2e-320),
    (5.0, 5.0),
    (1e300, 1e300 * (1 + 1e-15)),
    (3.0, -3.0),
]


def test_ticks_and_charts_of_hostile_values_are_bounded():
    """In a child process with a time limit: a tick loop that never ends fails here instead of hanging."""
    code = (
        "import math\n"
        "from nndl.report.charts import MAX_TICKS, line_chart, nice_ticks\n"
        f"for lo, hi in {HARD!r}:\n".replace("inf", "math.inf").replace("nan", "math.nan")
        + "    ticks = nice_ticks(lo, hi)\n"
        "    assert 1 <= len(ticks) <= MAX_TICKS and all(map(math.isfinite, ticks)), (lo, hi, ticks)\n"
        "for vals in ([2**53, 2**53 + 2], [2.0**53, 2.0**53 + 1], [1e308, -1e308], [math.nan, math.inf],\n"
        "             [5.0, 5.0], [1e-320], [0.1] * 100000):\n"
        "    svg = line_chart([('a', vals, '#000', False)], title='t', ylabel='y')\n"
        "    assert 'nan' not in svg and 'inf' not in svg and len(svg) < 40000, (vals[:2], len(svg))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# --- absurd networks and histories --------------------------------------------------------------------


def test_a_model_with_10000_outputs_is_refused_before_any_work(tmp_path, capsys):
    path = write(tmp_path / "wide.json", model_dict((784, 1, 10000)))
    for argv in (["report", str(path), "--dataset", str(NPZ)], ["evaluate", str(path), "--dataset", str(NPZ)]):
        err = one_line_error(argv, capsys)
        assert "10,000 neurons" in err and "10 classes" in err
    assert not (tmp_path / "wide.report.html").exists()


def test_a_page_holds_a_bounded_number_of_weights(tmp_path, monkeypatch, sample):
    path = write(tmp_path / "m.json", model_dict((784, 30, 10)))
    monkeypatch.setattr(modelfile, "MAX_PAGE_WEIGHTS", 20_000)
    with pytest.raises(ModelFileError, match="a report page holds"):
        build_report(path, sample.test)


def test_report_applies_the_model_files_history_bounds(tmp_path, capsys):
    long = write(tmp_path / "long.json", model_dict(history={"evaluation_accuracy": [1] * (MAX_EPOCHS + 1)}))
    assert f"more than the {MAX_EPOCHS:,}" in one_line_error(["report", str(long), "--dataset", str(NPZ)], capsys)


def test_a_weight_beyond_float32_is_refused_not_shown_as_inf(tmp_path, capsys, sample):
    d = model_dict()
    d["weights"][0][0][0] = 1e39  # finite in float64, inf in the page's float32
    path = write(tmp_path / "big.json", d)
    assert "float32" in one_line_error(["report", str(path), "--dataset", str(NPZ)], capsys)
    assert main(["evaluate", str(path), "--dataset", str(NPZ)]) == 0  # the engine (float64) still reads it
    capsys.readouterr()


# --- results.json and model files of the wrong shape --------------------------------------------------


def folder_with(tmp_path, results: dict | str, model: dict | None = None) -> Path:
    folder = tmp_path / "run"
    (folder / "models").mkdir(parents=True)
    write(folder / "results.json", results)
    if model is not None:
        write(folder / "models" / "full.json", model)
    return folder


def good_run() -> dict:
    return {
        "config": {"sizes": [784, 5, 10], "eta": 0.5, "lmbda": 5.0, "cost": "cross-entropy"},
        "final": {"test_accuracy": 0.9, "validation_accuracy": 0.9},
        "n_train": 100,
        "seconds": 1.0,
        "evaluation_data": "validation",
        "history": {"evaluation_accuracy": [50, 60], "n_evaluation": 100},
    }


def good_results() -> dict:
    return {
        "level": 3,
        "complete": True,
        "options": {"dataset": str(NPZ)},
        "sizes": {"test": 500},
        "ladder": [{"step": "+ larger hidden layer", "run": "full", "expected": "~97.5-98%"}],
        "runs": {"full": good_run()},
    }


def edited(path: str, value):
    """good_results() with the part at ``path`` (keys joined by '/') set to ``value`` (or removed: ...)."""
    d = good_results()
    *parents, last = path.split("/")
    node = d
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return d


BAD_RESULTS = {
    "top is a list": [],
    "runs is a list": edited("runs", []),
    "runs missing": edited("runs", ...),
    "run is a string": edited("runs/full", "x"),
    "options is a list": edited("options", [1]),
    "dataset is a number": edited("options/dataset", 3),
    "dataset holds NUL": edited("options/dataset", "a\x00b.npz"),
    "dataset hash is not hex": edited("options/dataset_sha256", "xyz"),
    "sizes.test is text": edited("sizes/test", "500"),
    "seconds is text": edited("runs/full/seconds", "1 s"),
    "eta is text": edited("runs/full/config/eta", "fast"),
    "lmbda is a list": edited("runs/full/config/lmbda", [1]),
    "config is a list": edited("runs/full/config", [1, 2]),
    "sizes holds text": edited("runs/full/config/sizes", ["784", 10]),
    "final accuracy is text": edited("runs/full/final/test_accuracy", "90%"),
    "final accuracy missing": edited("runs/full/final/test_accuracy", ...),
    "history is a list": edited("runs/full/history", []),
    "history series is text": edited("runs/full/history/evaluation_accuracy", "abc"),
    "history holds null": edited("runs/full/history/evaluation_accuracy", [1, None]),
    "n_evaluation is text": edited("runs/full/history/n_evaluation", "100"),
    "saturation is a number": edited("runs/full/history/saturation", 3),
    "ladder is an object": edited("ladder", {"a": 1}),
    "ladder row is text": edited("ladder/0", "step"),
    "ladder run is a number": edited("ladder/0/run", 5),
    "n_train is negative": edited("runs/full/n_train", -1),
    "evaluation_data unknown": edited("runs/full/evaluation_data", "exam"),
    "deep nesting": "[" * 200_000,
    "deep nesting in a run": json.dumps(good_results())[:-2] + ', "x": ' + "[" * 200_000,
    "huge integer": json.dumps(good_results()).replace('"n_train": 100', '"n_train": ' + "9" * 5000),
    "not JSON": "{results",
    "not UTF-8": b"\xff\xfe{}".decode("latin1"),
    "beyond with a Level 3 ladder": {**good_results(), "exploration": "beyond"},
    "beyond without its ladder runs": {"exploration": "beyond", "complete": True, "runs": {"full": good_run()}},
    "unknown exploration": {**good_results(), "exploration": "level9"},
    "run name is a path": {**good_results(), "ladder": [], "runs": {"../../x/m": good_run()}},
    "run name is dot-dot": {**good_results(), "ladder": [], "runs": {"..": good_run()}},
}


@pytest.mark.parametrize("results", BAD_RESULTS.values(), ids=BAD_RESULTS.keys())
def test_a_results_file_of_the_wrong_shape_is_one_line(tmp_path, capsys, results):
    folder = folder_with(tmp_path, results, model_dict())
    err = one_line_error(["report", str(folder), "--dataset", str(NPZ)], capsys)
    assert "results.json" in err
    with pytest.raises(ResultsFileError):
        build_report(folder)
    assert not (folder / "report.html").exists()


def test_the_good_results_file_makes_a_page(tmp_path, capsys):
    folder = folder_with(tmp_path, good_results(), model_dict())
    assert main(["report", str(folder), "--dataset", str(NPZ)]) == 0
    capsys.readouterr()
    assert (folder / "report.html").is_file()


def test_a_run_name_never_reaches_outside_the_folder(tmp_path, capsys):
    outside = tmp_path / "x"
    outside.mkdir()
    write(outside / "m.json", model_dict())
    results = {**good_results(), "ladder": [], "runs": {"../../x/m": good_run()}}
    folder = folder_with(tmp_path, results)
    assert "never paths" in one_line_error(["report", str(folder), "--dataset", str(NPZ)], capsys)


BAD_MODELS = {
    "dataset holds NUL": model_dict(dataset="a\x00b.npz"),
    "dataset is 5,000 characters": model_dict(dataset="x" * 5000),
    "dataset hash is a number": model_dict(dataset_sha256=5),
    "config is a list": model_dict(config=[1]),
    "config eta is text": model_dict(config={"eta": "x", "lmbda": 1.0}),
    "config lmbda is null": model_dict(config={"eta": 0.5, "lmbda": None}),
    "config sizes is text": model_dict(config={"sizes": "784,30,10"}),
    "history is a list": model_dict(history=[1, 2]),
    "history series is text": model_dict(history={"evaluation_accuracy": "abc"}),
    "history count is text": model_dict(history={"n_evaluation": "10"}),
    "saturation holds text": model_dict(history={"saturation": [["a"]]}),
    "sizes is text": {**model_dict(), "sizes": "784"},
    "weights missing": {k: v for k, v in model_dict().items() if k != "weights"},
    "deep nesting": "[" * 200_000,
    "deep nesting in weights": json.dumps(model_dict())[:-1] + ', "x": ' + "[" * 200_000 + "}",
}


@pytest.mark.parametrize("model", BAD_MODELS.values(), ids=BAD_MODELS.keys())
def test_a_model_file_of_the_wrong_shape_is_one_line(tmp_path, capsys, model):
    path = write(tmp_path / "m.json", model)
    one_line_error(["report", str(path), "--dataset", str(NPZ)], capsys)
    with pytest.raises(ModelFileError):
        build_report(path)
    folder = folder_with(tmp_path, good_results(), model)  # the same file inside a folder
    one_line_error(["report", str(folder), "--dataset", str(NPZ)], capsys)


def test_a_figure_that_is_not_a_png_is_one_line(tmp_path, capsys):
    folder = folder_with(tmp_path, good_results(), model_dict())
    (folder / "1_cross_entropy_advantage.png").write_bytes(b"GIF89a not a png")
    assert "not a figure" in one_line_error(["report", str(folder), "--dataset", str(NPZ)], capsys)


# --- the data set, found again or refused -------------------------------------------------------------


def test_a_data_set_file_is_recorded_by_absolute_path_and_hash(tmp_path, capsys, monkeypatch, sample):
    data = tmp_path / "data" / "set.npz"
    data.parent.mkdir()
    shutil.copy(NPZ, data)
    monkeypatch.chdir(data.parent)
    net, _ = nndl.train(nndl.TrainConfig(sizes=(784, 10, 10), epochs=1, seed=1), sample.training)
    nndl.save(net, tmp_path / "m.json", dataset="set.npz")  # the path as typed: relative
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["dataset"] == str(data) and len(saved["dataset_sha256"]) == 64
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "set.npz").write_bytes(b"another file of the same name")
    monkeypatch.chdir(other)
    assert main(["evaluate", str(tmp_path / "m.json"), "--json"]) == 0  # found by its absolute path
    assert json.loads(capsys.readouterr().out)["n"] == len(sample.test)
    raw = bytearray(data.read_bytes())
    raw[-30] ^= 0xFF  # the recorded file changed
    data.write_bytes(bytes(raw))
    for command in ("evaluate", "report"):
        err = one_line_error([command, str(tmp_path / "m.json")], capsys)
        assert "now holds other data" in err and str(data) in err


def test_a_model_file_without_a_hash_still_loads(tmp_path, capsys, monkeypatch):
    shutil.copy(NPZ, tmp_path / "set.npz")
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "old.json", model_dict(dataset="set.npz"))  # as older nndl wrote it
    assert main(["evaluate", "old.json"]) == 0
    capsys.readouterr()


def test_a_fifo_as_a_model_or_results_file_is_one_line_and_never_blocks(tmp_path):
    os.mkfifo(tmp_path / "m.json")
    folder = tmp_path / "run"
    folder.mkdir()
    os.mkfifo(folder / "results.json")
    for argv in (["evaluate", str(tmp_path / "m.json")], ["report", str(tmp_path / "m.json")]):
        done = subprocess.run([sys.executable, "-m", "nndl", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    done = subprocess.run(
        [sys.executable, "-m", "nndl", "report", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode in (1, 2) and len(done.stderr.strip().splitlines()) == 1, done.stderr
    model = write(tmp_path / "zero.json", model_dict(dataset="/dev/zero", dataset_sha256="0" * 64))
    os.mkfifo(tmp_path / "set.npz")  # a recorded data set, or --dataset, that never ends
    for argv in (["evaluate", str(model)], ["evaluate", str(model), "--dataset", str(tmp_path / "set.npz")]):
        done = subprocess.run([sys.executable, "-m", "nndl", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr


# -- a Level 4 results.json: its ladder rows and its ensemble record, checked whole ---------------------


def _level4_results() -> dict:
    run = {
        "config": {"layers": "conv:20x5x5,pool:2", "eta": 0.1, "lmbda": 0.0},
        "history": {"epoch_seconds": [1.0, 1.0], "evaluation_accuracy": [50, 60]},
        "seconds": 2.0,
        "final": {"test_accuracy": 0.9, "validation_accuracy": 0.91},
    }
    return {
        "exploration": "level4",
        "complete": True,
        "created": "2026-12-05",
        "options": {"quick": True},
        "sizes": {"training": 100, "validation": 50, "test": 50},
        "runs": {"conv": run, "shallow": run},
        "ensemble": {"nets": ["conv", "shallow"], "vote_accuracy": 0.92, "mean_accuracy": 0.91},
    }


def _level4_beyond_results() -> dict:
    """A Level 4 file with the row beyond the book: two seeds of it and their vote."""
    results = _level4_results()
    for k, name in enumerate(("beyond", "beyond-2")):
        run = json.loads(json.dumps(results["runs"]["conv"]))
        run["config"].update(rotate=8.0, schedule_patience=1, schedule_divisor=8.0, epochs=12, seed=k)
        results["runs"][name] = run
    results["beyond_ensemble"] = {"nets": ["beyond", "beyond-2"], "vote_accuracy": 0.93, "mean_accuracy": 0.92}
    return results


def test_a_level4_results_file_is_read():
    from nndl.report.resultsfile import check_results

    assert check_results(_level4_results(), "r.json")["exploration"] == "level4"


@pytest.mark.parametrize(
    "edit, part",
    [
        (lambda r: r["ensemble"].update(nets="conv"), "ensemble.nets"),
        (lambda r: r["ensemble"].update(nets=["conv", "../../x"]), "ensemble.nets"),
        (lambda r: r["ensemble"].update(vote_accuracy=7), "ensemble.vote_accuracy"),
        (lambda r: r.update(ensemble=[1]), "ensemble"),
        (lambda r: r["runs"]["conv"]["history"].update(evaluation_accuracy=None), "evaluation_accuracy"),
        (lambda r: r["runs"]["conv"]["final"].pop("test_accuracy"), "test_accuracy"),
        (lambda r: r.update(ladder=[]), "exploration"),
        (lambda r: r.update(runs={"other": r["runs"]["conv"]}), "runs"),
    ],
)
def test_a_level4_results_file_with_a_wrong_part_is_one_error_naming_it(edit, part):
    from nndl.report.resultsfile import check_results

    results = _level4_results()
    edit(results)
    with pytest.raises(ResultsFileError, match=re.escape(part)):
        check_results(results, "r.json")


def test_a_level4_results_file_with_the_row_beyond_the_book_is_read_and_its_ladder_shown():
    from nndl.report.collect import Report, add_level4_ladder
    from nndl.report.resultsfile import check_results

    results = check_results(_level4_beyond_results(), "r.json")
    report, steps = Report(kind="exploration", title="t", source="s"), {}
    add_level4_ladder(report, results, steps)
    single, vote = report.ladder[-2:]
    assert single["beyond"] and vote["beyond"] and not any(r["beyond"] for r in report.ladder[:-2])
    assert single["run"] == "beyond" and single["test"] == "90.00% (90.00-90.00, mean of 2 seeds)"
    assert single["expected"] == "99.60% (its best single net)" and single["validation"] == "91.00% (mean)"
    assert vote["run"] is None and vote["test"] == "93.00% (majority vote)"
    assert vote["expected"] == "99.67% (its ensemble of five)"
    assert "beyond" in steps and "beyond-2" not in steps  # the menu holds the first seed's network
    assert "The last rows (shaded) are beyond the book" in html(report)
    assert "rotations and elastic distortions on top" not in html(report)


def test_a_runs_settings_say_where_dropout_drops_only_when_it_is_network3s_place():
    from nndl.report.page import config_list

    label = "dropout on (dense: only the inputs of fully connected layers)"
    assert label in config_list({"dropout": 0.5, "dropout_on": "dense"}, {})
    for config in ({"dropout": 0.5, "dropout_on": "hidden"}, {"dropout": 0.0, "dropout_on": "dense"}, {"dropout": 0.5}):
        assert "dropout on" not in config_list(config, {})
    assert "&lt;b&gt;" in config_list({"dropout": 0.5, "dropout_on": "<b>"}, {})  # a hand-edited file: escaped


def test_the_row_beyond_the_book_says_when_its_digits_were_distorted_elastically():
    from nndl.report.collect import Report, add_level4_ladder
    from nndl.report.page import config_list
    from nndl.report.resultsfile import check_results

    raw = _level4_beyond_results()
    for name in ("beyond", "beyond-2"):
        raw["runs"][name]["config"]["elastic"] = 34.0
    results = check_results(raw, "r.json")
    report, steps = Report(kind="exploration", title="t", source="s"), {}
    add_level4_ladder(report, results, steps)
    assert "random rotations and elastic distortions on top of the shifts" in html(report)
    shown = config_list(results["runs"]["beyond"]["config"], results["runs"]["beyond"])
    assert "elastic distortions (alpha)" in shown and "34" in shown
    assert "elastic" not in config_list(results["runs"]["conv"]["config"], results["runs"]["conv"])
    from nndl.explore.level4 import beyond_rows

    assert beyond_rows(results)[0]["what"].startswith("beyond the book: the ReLU row's net + rotations, elastic ")
    assert "elastic" not in beyond_rows(_level4_beyond_results())[0]["what"]


@pytest.mark.parametrize(
    "edit, part",
    [
        (
            lambda r: r["beyond_ensemble"].update(nets=["beyond", "beyond-3"]),
            "beyond_ensemble.nets: names runs that are not in",
        ),
        (
            lambda r: r["beyond_ensemble"].update(nets=["beyond", "conv"]),
            "beyond_ensemble.nets: names runs that are not beyond",
        ),
        (lambda r: r["beyond_ensemble"].update(nets="beyond"), "beyond_ensemble.nets"),
        (lambda r: r["beyond_ensemble"].update(mean_accuracy=float("nan")), "beyond_ensemble.mean_accuracy"),
        (lambda r: r["beyond_ensemble"].pop("vote_accuracy"), "beyond_ensemble.vote_accuracy"),
        (lambda r: r.update(beyond_ensemble="all"), "beyond_ensemble"),
        (lambda r: r["runs"]["beyond-2"]["final"].pop("validation_accuracy"), "runs['beyond-2'].final"),
        (lambda r: r["runs"]["beyond-2"]["config"].pop("rotate"), "runs['beyond-2'].config: has no rotate"),
        (lambda r: r["runs"]["beyond"]["config"].update(schedule_divisor=None), "has no schedule_divisor"),
        (lambda r: r["runs"]["beyond"]["config"].update(elastic="strong"), "runs['beyond'].config.elastic"),
        (lambda r: r["runs"]["beyond"]["history"].pop("epoch_seconds"), "runs['beyond'].history"),
        (lambda r: r["runs"]["beyond"]["history"].update(evaluation_accuracy={}), "evaluation_accuracy must be a list"),
        (lambda r: r["runs"]["beyond"].update(seconds="long"), "runs['beyond'].seconds"),
        (lambda r: r["runs"]["beyond"]["config"].update(layers=[5]), "runs['beyond'].config.layers"),
    ],
)
def test_a_level4_results_file_with_a_wrong_part_beyond_the_book_is_one_error_naming_it(edit, part):
    from nndl.report.resultsfile import check_results

    results = _level4_beyond_results()
    edit(results)
    with pytest.raises(ResultsFileError, match=re.escape(part)) as caught:
        check_results(results, "r.json")
    assert len(str(caught.value).splitlines()) == 1


def test_an_ensembles_nets_carry_the_epochs_and_time_its_row_adds_up():
    from nndl.report.resultsfile import check_results

    results = _level4_results()
    results["runs"]["ensemble-2"] = {"final": {"test_accuracy": 0.9, "validation_accuracy": 0.9}}
    results["ensemble"]["nets"].append("ensemble-2")
    with pytest.raises(ResultsFileError, match=re.escape("runs['ensemble-2'] (in ensemble).seconds")):
        check_results(results, "r.json")
