"""The Level 3 exploration's promises: what each figure draws, and an interrupted run.

* Each of the five figures plots the data of the runs it is about, and no other run's: the
  curves handed to matplotlib (the lines' data, the histogram's counts) are compared with
  the results they are drawn from - not the PNG's size. The results come from a short real
  exploration on the committed sample, so every run's curve differs from the others';
* an exploration stopped by Ctrl-C keeps results.json with the runs that finished and exits
  with 130 (a real SIGINT to a real ``nndl explore level3`` process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nndl.data import load_npz
from nndl.explore import figures, runs

SAMPLE = Path(__file__).parents[1] / "data" / "mnist_sample.npz"


@pytest.fixture(scope="module")
def results():
    """A whole exploration in miniature: every section, 3 epochs, small subsets of the sample."""
    options = runs.Options.make(
        quick=True, seed=1, dataset=str(SAMPLE), n_train=400, n_validation=150, n_test=150, overfit_epochs=4
    )
    return json.loads(json.dumps(runs.run_level3(options, load_npz(SAMPLE))))  # as results.json holds it


def series_drawn(fig, axes=None) -> list[tuple]:
    """Every curve of every axis of ``fig`` (or of ``axes``): its y values, rounded (lines and
    step histograms)."""
    out = []
    for ax in fig.axes if axes is None else axes:
        for line in ax.lines:
            out.append(tuple(np.round(np.asarray(line.get_ydata(), float), 9)))
        for patch in ax.patches:  # ax.stairs -> StepPatch
            if hasattr(patch, "get_data"):
                out.append(tuple(np.round(np.asarray(patch.get_data().values, float), 9)))
    return out


def pct(results, run, key):
    n = run["n_train"] if key.startswith("training_accuracy") else results["sizes"][run["evaluation_data"]]
    return tuple(np.round(100.0 * np.asarray(run["history"][key], float) / n, 9))


def raw(values):
    return tuple(np.round(np.asarray(values, float), 9))


def every_run_series(results):
    """Each run's accuracy curves, by (run, key)."""
    return {
        (name, key): pct(results, run, key)
        for name, run in results["runs"].items()
        for key in ("evaluation_accuracy", "training_accuracy")
        if run["history"].get(key)
    }


def assert_draws(fig, results, expected: dict, others_allowed=()):
    drawn = series_drawn(fig)
    for what, series in expected.items():
        assert series in drawn, f"{what} is not drawn"
    wanted = set(expected.values())
    for (name, key), series in every_run_series(results).items():
        if series not in wanted and (name, key) not in others_allowed:
            assert series not in drawn, f"{name}'s {key} is drawn, but this figure is not about it"


def test_the_runs_differ_so_a_wrong_run_would_show(results):
    series = list(every_run_series(results).values())
    assert len(series) == len(set(series)) >= 8


def test_figure_1_draws_the_one_neuron_demo_and_the_gradient_curve(results):
    demo, curve = results["slowdown"], results["gradient_curve"]
    fig = figures.fig_cross_entropy_advantage(results)
    drawn = series_drawn(fig)
    for cost in ("quadratic", "cross-entropy"):
        assert raw(demo["runs"][cost]["output"]) in drawn and raw(demo["runs"][cost]["cost"]) in drawn
        assert raw(curve[cost]) in drawn


def test_figure_2_draws_the_quadratic_baseline_against_cross_entropy(results):
    runs_ = results["runs"]
    assert_draws(
        figures.fig_cost_comparison(results),
        results,
        {
            "baseline validation accuracy": pct(results, runs_["baseline"], "evaluation_accuracy"),
            "cross-entropy validation accuracy": pct(results, runs_["cross-entropy"], "evaluation_accuracy"),
        },
    )


def test_figure_3_draws_training_and_test_accuracy_of_both_overfitting_runs(results):
    fig = figures.fig_regularization_effect(results)
    expected = {
        f"{name} {key}": pct(results, results["runs"][name], key)
        for name in ("overfit-lambda-0", "overfit-lambda-0.1")
        for key in ("training_accuracy", "evaluation_accuracy")
    }
    assert_draws(fig, results, expected)
    # each panel holds one lambda: the lambda-0 run's curves are not beside the lambda-0.1 run's
    per_axis = [set(series_drawn(fig, [ax])) for ax in fig.axes]
    assert any(
        expected["overfit-lambda-0 training_accuracy"] in s
        and expected["overfit-lambda-0.1 training_accuracy"] not in s
        for s in per_axis
    )


def test_figure_4_draws_both_z_histograms_and_the_initializations_learning(results):
    zd = results["z_distribution"]
    fig = figures.fig_initialization_comparison(results)
    drawn = series_drawn(fig)
    assert raw(zd["large"]["counts"]) in drawn and raw(zd["default"]["counts"]) in drawn
    assert_draws(
        fig,
        results,
        {
            "regularized (N(0, 1) init)": pct(results, results["runs"]["regularized"], "evaluation_accuracy"),
            "better-init (N(0, 1/n_in) init)": pct(results, results["runs"]["better-init"], "evaluation_accuracy"),
        },
    )


def test_figure_5_draws_the_full_runs_accuracies_and_costs(results):
    full = results["runs"]["full"]
    fig = figures.fig_full_training(results)
    assert_draws(
        fig,
        results,
        {
            "validation accuracy": pct(results, full, "evaluation_accuracy"),
            "training accuracy": pct(results, full, "training_accuracy"),
        },
    )
    drawn = series_drawn(fig)
    assert raw(full["history"]["training_cost"]) in drawn and raw(full["history"]["evaluation_cost"]) in drawn


def test_the_five_figures_are_the_five_functions_tested_here():
    assert list(figures.DRAW.values()) == [
        figures.fig_cross_entropy_advantage,
        figures.fig_cost_comparison,
        figures.fig_regularization_effect,
        figures.fig_initialization_comparison,
        figures.fig_full_training,
    ]


# --- Ctrl-C during an exploration -----------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child process is POSIX")
def test_an_interrupted_exploration_keeps_results_json_and_exits_130(tmp_path):
    """The full (not --quick) exploration on the sample: its 400-epoch overfitting runs are far
    from done when the first run's results are saved, which is when Ctrl-C comes."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nndl.cli",
            "explore",
            "level3",
            "--quiet",
            "--pictures",
            str(tmp_path),
            "--dataset",
            str(SAMPLE),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    watchdog = threading.Timer(300, proc.kill)  # never hang the suite
    watchdog.start()
    try:
        saved = None
        while proc.poll() is None and saved is None:
            found = list(tmp_path.glob("level3/*/results.json"))
            if found and json.loads(found[0].read_text() or "{}").get("runs"):
                saved = found[0]
            else:
                time.sleep(0.05)
        assert saved is not None and proc.poll() is None, "the exploration ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        watchdog.cancel()
    assert proc.returncode == 130, out + err
    assert "Interrupted; results.json" in err and "the runs that finished" in err and "Traceback" not in err
    kept = json.loads(saved.read_text())
    assert kept["complete"] is False and kept["runs"]
    for name, run in kept["runs"].items():
        assert len(run["history"]["evaluation_accuracy"]) == run["config"]["epochs"], name  # finished runs only
    assert not [
        p for p in saved.parent.rglob("*") if p.name.startswith(".") or p.suffix == ".part"
    ]  # nothing half-written
