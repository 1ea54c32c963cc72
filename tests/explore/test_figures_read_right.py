"""The figures say only what their own run shows, and nothing on them hides a curve.

The captions are computed from the run they describe: a quick run's figures give its patience,
its divisor, its number of images, and never the full run's facts. Legends sit beside the axes,
log axes read as plain numbers, the ladder's labels stay outside the plot, a sweep's panels come
in the order of their values.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from nndl.cli import main
from nndl.explore import beyond_figures, figures
from nndl.sweep import figures as sweep_figures
from nndl.sweep.spec import SweepSpec

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def quick_beyond(tmp_path_factory):
    pictures = tmp_path_factory.mktemp("pictures")
    assert main(["explore", "beyond", "--quick", "--dataset", NPZ, "--pictures", str(pictures), "--quiet"]) == 0
    (folder,) = (pictures / "beyond").iterdir()
    return folder, json.loads((folder / "results.json").read_text())


@pytest.fixture(scope="module")
def quick_level3(tmp_path_factory):
    pictures = tmp_path_factory.mktemp("pictures")
    assert (
        main(
            ["explore", "level3", "--quick", "--dataset", NPZ, "--pictures", str(pictures), "--quiet", "--workers", "1"]
        )
        == 0
    )
    (folder,) = (pictures / "level3").iterdir()
    return folder, json.loads((folder / "results.json").read_text())


def html_text(folder: Path) -> str:
    from html import unescape

    return unescape((folder / "report.html").read_text())


def test_a_quick_beyond_runs_captions_give_its_own_facts(quick_beyond):
    folder, results = quick_beyond
    said = beyond_figures.captions(results)
    schedule = results["runs"][f"schedule-seed{results['options']['seed']}"]["config"]
    patience, divisor = schedule["schedule_patience"], schedule["schedule_divisor"]
    assert (patience, divisor) != (10, 128)  # the quick run's own
    two = said["2_learning_rate_schedule.png"]
    assert f"has gone {patience} epoch" in two and f"stops at eta/{divisor:g}." in two
    assert "10 epochs" not in two and "eta/128" not in two
    n = results["runs"]["overfit-none"]["n_train"]
    three = said["3_dropout_vs_l2.png"]
    assert f"On the first {n:,} training images" in three and "1,000" not in three
    assert "50,000" not in said["6_expanded_data.png"]
    sig = np.array(results["runs"][f"level3-seed{results['options']['seed']}"]["history"]["evaluation_accuracy"])
    soft = np.array(results["runs"]["softmax"]["history"]["evaluation_accuracy"])
    apart = 100 * np.abs(sig - soft).max() / results["sizes"]["validation"]
    one = said["1_softmax_vs_sigmoid.png"]
    assert ("half a point" not in one) and (f"up to {apart:.1f} point" in one if apart > 0.5 else "stay within" in one)
    page = html_text(folder)
    assert all(caption in page for caption in said.values())  # the page says what the figures say


def test_the_full_beyond_runs_captions_give_the_books_schedule():
    results = json.loads((DOCS / "beyond" / "results.json").read_text())
    said = beyond_figures.captions(results)
    assert "has gone 10 epochs without a new best" in said["2_learning_rate_schedule.png"]
    assert "stops at eta/128" in said["2_learning_rate_schedule.png"]
    assert "On the first 1,000 training images" in said["3_dropout_vs_l2.png"]
    assert "the 50,000 original images" in said["6_expanded_data.png"]


def test_a_changed_run_changes_its_caption():
    results = json.loads((DOCS / "beyond" / "results.json").read_text())
    changed = copy.deepcopy(results)
    for run in changed["runs"].values():
        if run.get("group") == "overfit":
            run["history"]["evaluation_accuracy"] = results["runs"]["overfit-none"]["history"]["evaluation_accuracy"]
            run["history"]["training_accuracy"] = results["runs"]["overfit-none"]["history"]["training_accuracy"]
    three = beyond_figures.captions(changed)["3_dropout_vs_l2.png"]
    assert "L2 (lambda" in three and "leaves the gap where it was and validation accuracy too" in three


def test_a_quick_level3_runs_captions_give_its_own_numbers(quick_level3):
    folder, results = quick_level3
    said = figures.captions(results)
    epochs = len(results["runs"]["cross-entropy"]["history"]["evaluation_accuracy"])
    assert epochs < 30 and f"after {epochs} epochs the two end" in said["2_cost_comparison.png"]
    assert "by epoch 30" not in said["2_cost_comparison.png"]
    n = results["runs"]["overfit-lambda-0"]["n_train"]
    assert said["3_regularization_effect.png"].startswith(f"Trained on {n:,} images only")
    assert "5/50,000" not in said["3_regularization_effect.png"]  # the quick run's others see fewer
    assert f"after {epochs} epochs with lambda 5" in said["4_initialization_comparison.png"]
    page = html_text(folder)
    assert all(caption in page for caption in said.values())


def test_the_full_level3_runs_captions():
    results = json.loads((DOCS / "level3" / "results.json").read_text())
    said = figures.captions(results)
    assert "0.1/1,000 is the same strength as 5/50,000" in said["3_regularization_effect.png"]
    assert "after 30 epochs" in said["2_cost_comparison.png"]


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def legends_clear_of_axes(fig) -> list:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    hits = []
    legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
    for legend in legends + [leg for sub in fig.subfigs for leg in sub.legends]:
        box = legend.get_window_extent(renderer)
        hits += [ax.get_title() for ax in fig.axes if overlaps(box, ax.get_window_extent(renderer))]
    return hits


@pytest.mark.parametrize("draw", [beyond_figures.fig_softmax, beyond_figures.fig_expanded, beyond_figures.fig_momentum])
def test_legends_never_cover_a_curve(quick_beyond, draw):
    fig = draw(quick_beyond[1])
    legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
    legends += [leg for sub in fig.subfigs for leg in sub.legends]
    assert legends and legends_clear_of_axes(fig) == []


def tick_texts(axis) -> list[str]:
    FigureCanvasAgg(axis.figure).draw()
    return [t.get_text() for t in axis.get_ticklabels(which="both") if t.get_text()]


def test_log_axes_read_as_plain_numbers(quick_beyond):
    results = quick_beyond[1]
    eta = tick_texts(beyond_figures.fig_schedule(results).axes[1].yaxis)  # 0.5, 0.25: not 2^-1
    cost = tick_texts(beyond_figures.fig_momentum(results).axes[0].yaxis)  # 2, 3: not 3 x 10^0
    for labels in (eta, cost):
        assert labels and all(re.fullmatch(r"\d+(\.\d+)?", t) for t in labels), labels
    assert "0.5" in eta


def test_the_ladders_labels_stay_outside_the_plot(quick_beyond):
    fig = beyond_figures.fig_ladder(quick_beyond[1])
    ax = fig.axes[0]
    assert len(ax.texts) == 0  # nothing written over bars, whiskers or 98 %
    names = [t.get_text() for t in ax.get_yticklabels()]
    numbers = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert len(names) == len(numbers) == 5 and all(re.fullmatch(r"\d+\.\d\d%  \(\d+ s\)", n) for n in numbers)


def sweep_rows() -> tuple[list, SweepSpec]:
    """A 2 x 3 grid whose best lambda is 5, then 0, then 1."""
    spec = SweepSpec(values={"eta": (0.1, 1.0), "lmbda": (5.0, 0.0, 1.0)})
    score = {5.0: 0.9, 0.0: 0.8, 1.0: 0.7}
    rows = []
    for eta in (0.1, 1.0):
        for lmbda in (5.0, 0.0, 1.0):
            rows.append(
                {
                    "status": "done",
                    "params": {"eta": eta, "lmbda": lmbda, "seed": 0},
                    "history": {"training_cost": [1.0, 0.8, 0.7]},
                    "validation_accuracy": score[lmbda] + eta / 100,
                    "config": {
                        "sizes": [784, 30, 10],
                        "cost": "cross-entropy",
                        "epochs": 3,
                        "mini_batch_size": 10,
                        "lmbda": lmbda,
                    },
                    "n_train": 1000,
                    "n_evaluation": 100,
                }
            )
    return rows, spec


def test_a_sweeps_panels_come_in_the_order_of_their_values():
    rows, spec = sweep_rows()
    fig = sweep_figures.fig_eta(rows, spec)
    assert [ax.get_title() for ax in fig.axes] == ["lmbda 0", "lmbda 1", "lmbda 5"]
    acc = sweep_figures.fig_accuracy(rows, spec)
    eta_panel = acc.axes[0]
    assert [t.get_text() for t in eta_panel.get_legend().get_texts()] == ["lmbda 0", "lmbda 1", "lmbda 5"]
    assert legends_clear_of_axes(acc) == [] and legends_clear_of_axes(fig) == []
