"""nndl explore level4 --quick on the committed sample: every row of the book's ladder beside its
number, results.json, results.md, every training's model (conv nets, format_version 2), the five
figures, the ensemble's vote, and a run stopped mid-way that the same command continues to the
weights of the unbroken run."""

from __future__ import annotations

import contextlib
import copy
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
    assert list(results["runs"]) == trainings + ["beyond", "beyond-2"]
    rows = [key for key, _, _, _ in level4.LADDER] + ["beyond", "beyond_ensemble"]
    assert [r["key"] for r in level4.ladder_rows(results)] == rows
    md = (folder / "results.md").read_text()
    assert md.startswith("# Level 4: convolutional networks") and all(f"| {b} |" in md for b in BOOK)
    assert "majority vote" in md and "the fully connected layers' inputs) with p 0.2" in md
    for name in FIGURES:
        assert (folder / name).stat().st_size > 5_000, name
    page = (folder / "report.html").read_text()  # the page runs every row's network, conv nets too
    assert page.count('"stack":[') == 7 and "Level 4: convolutional networks (chapter 6)" in page
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
    dropping = {k: (r["config"]["dropout"], r["config"]["dropout_on"]) for k, r in results["runs"].items()}
    assert {k for k, v in dropping.items() if v[0]} == {"dropout"} | {f"ensemble-{k}" for k in range(2, 6)}
    assert all(v == (0.2, "dense") for v in dropping.values() if v[0])  # network3's place
    schedules = {
        (r["config"]["schedule"], r["config"]["schedule_patience"], r["config"]["schedule_divisor"])
        for r in results["runs"].values()
        if r["config"]["dropout"]
    }
    assert schedules == {("halve", 2, 8.0)}  # chapter 3's schedule in place of the book's 40 epochs


def test_results_md_says_the_dropout_nets_eta_schedule_only_when_they_had_one(finished):
    folder, results = finished
    line = (
        "- + dropout, two fully connected layers of 1,000 and the ensemble's nets: eta 0.03 halved after 2 "
        "expanded epochs without a better validation accuracy, stopping once it has fallen to eta/8 (cap: 1 "
        "epoch), where the book keeps eta 0.03 for 40 epochs"
    )
    assert line in (folder / "results.md").read_text()
    constant = copy.deepcopy(results)
    constant["runs"]["dropout"]["config"]["schedule"] = "constant"  # as the runs before the schedule
    assert "halved after" not in level4.markdown(constant).split("Where nndl differs")[1]
    unsaid = copy.deepcopy(results)
    del unsaid["runs"]["dropout"]["config"]["schedule_divisor"]  # a file that does not say: no line, no KeyError
    assert "eta/8" not in level4.markdown(unsaid)


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


def test_the_row_beyond_the_book_is_its_seeds_and_their_vote(finished):
    """The relu row's net with rotations and the eta schedule, one run a seed; its ladder row is the
    mean of their test accuracies, its vote row the majority vote of their saved networks."""
    folder, results = finished
    from nndl.data import load_dataset

    keys = ["beyond", "beyond-2"]
    configs = [results["runs"][k]["config"] for k in keys]
    assert [c["seed"] for c in configs] == [0, 1]
    relu = results["runs"]["relu"]["config"]
    for c in configs:
        assert c["layers"] == relu["layers"] and c["eta"] == relu["eta"] and c["dropout"] == 0.0
        assert (
            c["expand"],
            c["rotate"],
            c["elastic"],
            c["schedule"],
            c["schedule_patience"],
            c["schedule_divisor"],
        ) == ("shifts", 8.0, 0.0, "halve", 2, 16.0)
    single, vote = level4.ladder_rows(results)[-2:]
    tests = [100 * results["runs"][k]["final"]["test_accuracy"] for k in keys]
    assert single["beyond"] and single["seeds"] == 2 and single["book"] == 99.60
    assert single["test"] == pytest.approx(np.mean(tests)) and (single["test_min"], single["test_max"]) == (
        min(tests),
        max(tests),
    )
    test = load_dataset(NPZ).test.head(results["sizes"]["test"])
    answers = np.stack([nndl.load(folder / results["runs"][k]["model"]).predict(test.images) for k in keys])
    votes = np.stack([(answers == d).sum(axis=0) for d in range(10)], axis=1)  # (n, 10)
    e = results["beyond_ensemble"]
    assert e["nets"] == keys and e["vote_accuracy"] == np.mean(votes.argmax(axis=1) == test.labels)
    assert vote["beyond"] and vote["book"] == 99.67 and vote["test"] == 100 * e["vote_accuracy"]


def test_results_md_and_the_printed_ladder_show_the_rows_beyond_the_book(finished):
    folder, results = finished
    md = (folder / "results.md").read_text()
    single, vote = level4.ladder_rows(results)[-2:]
    table = md[md.index("| Row |") : md.index("\n\n", md.index("| Row |"))].splitlines()
    assert table[-3].startswith("| ***Beyond the book*** (not the book's rows")
    assert table[-2].startswith(f"| {single['what']} | **{single['test']:.2f}%** ({single['test_min']:.2f}-")
    assert "mean of 2 seeds" in table[-2] and "| 99.60% (its best single net) |" in table[-2]
    assert table[-1].startswith(f"| {vote['what']} | **{vote['test']:.2f}%** | 99.67% (its ensemble of five) |")
    assert "1 with dropout, 2 beyond the book)" in md  # the caps, the beyond one too
    assert "rotations of up to 8 degrees" in md and "elastic" not in md and "eta/16" in md
    assert "no dropout and only 100 neurons" in md
    assert "keeping its best validation epoch's weights" in md and "schedule ends and keep their best epoch" in md
    printed = level4.text(results).splitlines()
    assert printed[-3] == "beyond the book (beside the book's best it compares with):"
    assert printed[-2].startswith(f"{single['test']:6.2f}% (99.60%)  the ReLU row's net")
    assert printed[-1].startswith(f"{vote['test']:6.2f}% (99.67%)  the majority vote of those 2 nets")
    page = (folder / "report.html").read_text()  # the report page's ladder shows both rows, shaded
    assert page.count("<tr class='beyond'>") == 2 and "99.60% (its best single net)" in page


def test_a_full_runs_results_md_says_whether_the_beyond_rows_pass_the_book(finished):
    _, quick = finished
    results = copy.deepcopy(quick)
    results["options"]["quick"] = False
    results["runs"]["beyond"]["final"]["test_accuracy"] = 0.9965
    results["runs"]["beyond-2"]["final"]["test_accuracy"] = 0.9959
    results["beyond_ensemble"]["vote_accuracy"] = 0.9966
    md = level4.markdown(results)
    assert "is above the book's best single net (99.62% against 99.60%)" in md
    assert "the vote of 2 of them below the book's ensemble of five (99.66% against 99.67%)" in md
    assert "quick run" not in md


def test_figures_set_the_rows_beyond_the_book_apart(finished, tmp_path, monkeypatch):
    from nndl.explore import level4_figures

    _, results = finished
    drawn = {}

    def keep(fig, folder, name, title):
        drawn[name] = (fig, title)
        return folder / name

    monkeypatch.setattr(level4_figures, "_save", keep)
    rows = level4.ladder_rows(results)
    level4_figures.draw_ladder(results, tmp_path, rows)
    level4_figures.draw_accuracy(results, tmp_path, level4.LADDER, level4.beyond_runs(results))
    fig, title = drawn["4_ladder.png"]
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-2:] == ["beyond: 1 net (mean of 2)", "beyond: vote of 2"]
    from matplotlib.colors import to_hex

    bars = {round(p.get_width(), 6): to_hex(p.get_facecolor()) for p in ax.patches}
    assert bars[round(rows[-1]["test"], 6)] == level4_figures.BEYOND_COLOUR
    assert bars[round(rows[-2]["test"], 6)] == level4_figures.BEYOND_COLOUR
    assert "beyond the book" in title and "Below the dashed line" in title
    fig, title = drawn["3_accuracy.png"]
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("beyond the book (seed 0)")]
    assert list(line.get_ydata()) == pytest.approx(
        [100 * a / results["sizes"]["validation"] for a in results["runs"]["beyond"]["history"]["evaluation_accuracy"]]
    )
    assert "dashed orange line, beyond the book" in title


def test_the_accuracy_figure_marks_where_the_dropout_rows_eta_was_first_halved(finished, tmp_path, monkeypatch):
    from nndl.explore import level4_figures

    _, results = finished
    drawn = {}
    monkeypatch.setattr(level4_figures, "_save", lambda fig, folder, name, title: drawn.update({name: (fig, title)}))

    def dotted(fig):
        return [ln.get_xdata()[0] for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]

    level4_figures.draw_accuracy(results, tmp_path, level4.LADDER)  # the quick run: 1 epoch, eta never fell
    fig, title = drawn["3_accuracy.png"]
    assert dotted(fig) == [] and "halved after epoch" not in title
    halving = copy.deepcopy(results)
    n_val = results["sizes"]["validation"]
    history = halving["runs"]["dropout"]["history"]
    history["evaluation_accuracy"] = [n_val // 2, n_val // 4, n_val * 3 // 4, n_val]
    history["eta"] = [0.03, 0.03, 0.015, 0.0075]
    level4_figures.draw_accuracy(halving, tmp_path, level4.LADDER)
    fig, title = drawn["3_accuracy.png"]
    assert dotted(fig) == [2.5]  # between epoch 2, the last at eta 0.03, and epoch 3
    after = 100 * (n_val * 3 // 4) / n_val
    assert (
        f"eta is halved after epoch 2 (chapter 3's schedule), and its validation accuracy goes from 50.00% at "
        f"best to {after:.2f}% the epoch after" in title
    )
    history["eta"] = history["eta"][:2]  # a history whose eta series is shorter: no halving it can show
    level4_figures.draw_accuracy(halving, tmp_path, level4.LADDER)
    assert dotted(drawn["3_accuracy.png"][0]) == []


def test_a_results_json_from_before_the_rows_beyond_the_book_still_replots(finished, tmp_path, capsys):
    """A folder written before the row beyond the book (no beyond runs, options or beyond_ensemble):
    its ladder, results.md, figures and report page are the book's rows alone."""
    from nndl.report.collect import from_folder

    _, results = finished
    old = copy.deepcopy(results)
    for key in ("beyond", "beyond-2"):
        del old["runs"][key]
    del old["beyond_ensemble"]
    old["options"] = {k: v for k, v in old["options"].items() if not k.startswith("beyond")}
    (tmp_path / "results.json").write_text(json.dumps(old))
    assert level4_main(["--replot", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "beyond" not in out and "Level 4: chapter 6's ladder" in out
    assert all((tmp_path / name).exists() for name in FIGURES)
    md = (tmp_path / "results.md").read_text()
    assert "eyond the book" not in md and "(caps: 2 epochs, 1 on expanded data, 1 with dropout)" in md
    assert [r["key"] for r in level4.ladder_rows(old)] == [key for key, _, _, _ in level4.LADDER]
    report = from_folder(tmp_path)
    assert [r["step"] for r in report.ladder] == [what for _, what, _, _ in level4.LADDER]


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


def test_the_full_runs_early_stopping_is_ten_epochs_on_50000_images_and_five_on_the_expanded_set():
    """The book's "no-improvement-in-ten" on the 50,000 images (5 stopped the ReLU row at epoch 15,
    before its best epoch, 24); an epoch of the expanded set is five passes over the images, so
    5 there; the rows beyond the book end by their eta schedule and keep their best epoch."""
    rows = level4.configs(level4.Options.make())
    stops = {k: c.early_stopping for k, c in rows.items()}
    assert {k: stops[k] for k in ("shallow", "conv", "conv2", "relu")} == dict.fromkeys(
        ("shallow", "conv", "conv2", "relu"), 10
    )
    assert {k for k, v in stops.items() if v == 5} == {"expanded", "fc2", "dropout"} | {
        f"ensemble-{k}" for k in range(2, 6)
    }
    cap = level4.Options().beyond_epochs  # early stopping that never stops: it keeps the best epoch
    assert all(
        stops[k] == cap == rows[k].epochs and rows[k].schedule == "halve" for k in level4.beyond_keys(level4.Options())
    )
