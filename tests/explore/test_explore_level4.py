"""nndl explore level4 --quick on the committed sample: every row of the book's ladder beside its
number, results.json, results.md, every training's model (conv nets, format_version 2), the five
figures, the ensemble's vote, and a run stopped mid-way that the same command continues to the
weights of the unbroken run."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.cli import main as nndl_main
from nndl.cli.explore.level4 import main as level4_main
from nndl.explore import level4
from nndl.serialization import load_with_metadata

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
PRINTED: list[str] = []  # what the quick run printed


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    pictures = tmp_path_factory.mktemp("pictures")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert (
            nndl_main(
                [
                    "explore",
                    "level4",
                    "--quick",
                    "--dataset",
                    NPZ,
                    "--pictures",
                    str(pictures),
                    "--quiet",
                    "--workers",
                    "1",
                ]
            )
            == 0
        )
    (folder,) = (pictures / "level4").iterdir()
    PRINTED.append(out.getvalue())
    return folder, json.loads((folder / "results.json").read_text())


FIGURES = ["1_filters.png", "2_feature_maps.png", "3_accuracy.png", "4_ladder.png", "5_ensemble_errors.png"]
BOOK = ["97.80%", "98.78%", "99.06%", "99.23%", "99.37%", "99.43%", "99.60%", "99.67%"]


def test_the_last_lines_say_what_was_saved_in_plain_words(finished):
    (printed,) = PRINTED
    assert re.search(r"Saved 5 figures, results\.json, results\.md and the \d+ trained models \(models/\) in", printed)


def test_quick_run_writes_every_row_results_models_and_figures(finished):
    folder, results = finished
    assert results["complete"] and results["exploration"] == "level4"
    trainings = [key for key, _, _, _ in level4.LADDER if key != "ensemble"] + [f"ensemble-{k}" for k in range(2, 6)]
    assert list(results["runs"]) == trainings
    assert [r["key"] for r in level4.ladder_rows(results)] == [key for key, _, _, _ in level4.LADDER]
    md = (folder / "results.md").read_text()
    assert md.startswith("# Level 4: convolutional networks") and all(f"| {b} |" in md for b in BOOK)
    assert "majority vote" in md and "p is 0.2 here" in md
    for name in FIGURES:
        assert (folder / name).stat().st_size > 5_000, name
    page = (folder / "report.html").read_text()  # the page runs every row's network, conv nets too
    assert page.count('"stack":[') == 6 and "Level 4: convolutional networks (chapter 6)" in page
    assert np.array(results["filters"]).shape == (20, 5, 5)
    assert np.array(results["feature_maps"]["conv1"]).shape == (20, 24, 24)
    assert np.array(results["feature_maps"]["conv2"]).shape == (40, 8, 8)
    for key, record in results["runs"].items():
        net = nndl.load(folder / record["model"])
        assert [layer.spec() for layer in net.layers] == nndl.TrainConfig.from_dict(record["config"]).layer_specs()
        assert (folder / "checkpoints" / f"{key}.json").exists()
    assert results["runs"]["relu"]["config"]["layers"] == "conv:20x5x5,pool:2,conv:40x5x5,pool:2,dense:100"
    assert results["runs"]["dropout"]["config"]["layers"].endswith("dense:1000,dense:1000")
    assert [results["runs"][f"ensemble-{k}"]["config"]["seed"] for k in range(2, 6)] == [1, 2, 3, 4]


def test_the_ensemble_is_the_majority_vote_of_the_five_saved_networks(finished):
    folder, results = finished
    from nndl.data import load_dataset

    test = load_dataset(NPZ).test.head(results["sizes"]["test"])
    keys = ["dropout"] + [f"ensemble-{k}" for k in range(2, 6)]
    answers = np.stack([nndl.load(folder / results["runs"][k]["model"]).predict(test.images) for k in keys])
    votes = np.stack([(answers == d).sum(axis=0) for d in range(10)], axis=1)  # (n, 10)
    vote = votes.argmax(axis=1)
    e = results["ensemble"]
    assert e["nets"] == keys and e["vote_accuracy"] == np.mean(vote == test.labels)
    assert e["n_wrong"] == int(np.sum(vote != test.labels))
    assert [w["index"] for w in e["wrong"]] == np.flatnonzero(vote != test.labels)[:60].tolist()
    assert all(w["answer"] != w["label"] for w in e["wrong"])


def test_the_rows_learn_the_sample(finished):
    _, results = finished
    rows = {r["key"]: r for r in level4.ladder_rows(results)}
    assert rows["relu"]["test"] > 50 and rows["expanded"]["test"] > 50  # from 10 % by chance


def test_a_stopped_run_continues_with_the_same_command_to_the_unbroken_weights(finished, tmp_path, monkeypatch):
    import nndl.sweep.trial as trial_module

    unbroken_folder, unbroken = finished
    real = trial_module.train

    def stopped_in_the_relu_rows_second_epoch(config, *args, **kwargs):
        if config.activation == "relu" and kwargs.get("history") is not None and config.expand == "none":
            raise KeyboardInterrupt  # Ctrl-C, once the relu row's first epoch is saved
        return real(config, *args, **kwargs)

    argv = ["explore", "level4", "--quick", "--dataset", NPZ, "--pictures", str(tmp_path), "--quiet", "--workers", "1"]
    monkeypatch.setattr(trial_module, "train", stopped_in_the_relu_rows_second_epoch)
    assert nndl_main(argv) == 130
    monkeypatch.setattr(trial_module, "train", real)
    (folder,) = (tmp_path / "level4").iterdir()
    stopped = json.loads((folder / "results.json").read_text())
    assert not stopped["complete"] and list(stopped["runs"]) == ["shallow", "conv", "conv2"]
    assert len(load_with_metadata(folder / "checkpoints" / "relu.json")[2]["epoch_seconds"]) == 1
    calls = []

    def recorded(config, *args, **kwargs):
        history = kwargs.get("history")
        calls.append((config.activation, config.expand, history.epochs if history is not None else 0))
        return real(config, *args, **kwargs)

    monkeypatch.setattr(trial_module, "train", recorded)
    assert nndl_main(argv) == 0
    assert calls[0] == ("relu", "none", 1)  # the finished rows are read back, not retrained
    assert all(activation == "relu" for activation, _, _ in calls)
    assert [f.name for f in (tmp_path / "level4").iterdir()] == [folder.name]  # the same folder, continued
    results = json.loads((folder / "results.json").read_text())
    assert results["complete"] and results["created"] == stopped["created"]
    for key, record in unbroken["runs"].items():
        a, b = nndl.load(unbroken_folder / record["model"]), nndl.load(folder / results["runs"][key]["model"])
        assert all(np.array_equal(p.value, q.value) for p, q in zip(a.params, b.params)), key
        assert results["runs"][key]["history"]["evaluation_accuracy"] == record["history"]["evaluation_accuracy"]
    assert results["ensemble"]["vote_accuracy"] == unbroken["ensemble"]["vote_accuracy"]


def test_replot_redraws_from_results_json(finished, capsys):
    folder, _ = finished
    for name in FIGURES:
        (folder / name).unlink()
    assert level4_main(["--replot", str(folder)]) == 0
    assert (
        all((folder / name).exists() for name in FIGURES) and "Level 4: chapter 6's ladder" in capsys.readouterr().out
    )


def test_tensorboard_is_refused_in_one_line_before_anything_runs(tmp_path, capsys):
    """Level 4's trainings continue from checkpoints, which TensorBoard's per-run histograms do not
    follow: the flag is not offered, and giving it is a usage error, not a traceback mid-run."""
    argv = ["explore", "level4", "--quick", "--dataset", NPZ, "--pictures", str(tmp_path), "--tensorboard", "tb"]
    assert nndl_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--tensorboard" in err[0] and not (tmp_path / "level4").exists()
