"""The Level 3 exploration: --quick makes every promised file; --replot redraws from JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nndl.cli.explore.level3 import main
from nndl.explore import figures, ladder, runs

SAMPLE = Path(__file__).parents[1] / "data" / "mnist_sample.npz"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPECTED = set(figures.FILES) | {
    "results.json",
    "results.md",
    "report.html",
    "models",
}  # report.html: nndl.report; models/: one file per run


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One --quick exploration on the committed sample, shared by the tests below."""
    pictures = tmp_path_factory.mktemp("pictures")
    code = main(["--quick", "--quiet", "--seed", "3", "--pictures", str(pictures), "--dataset", str(SAMPLE)])
    assert code == 0
    (folder,) = (pictures / "level3").iterdir()
    return folder


def test_quick_makes_the_five_figures_and_both_results_files(quick_run):
    assert quick_run.name[:8].isdigit() and quick_run.name[8] == "_" and quick_run.name[9:15].isdigit()
    assert {p.name for p in quick_run.iterdir()} == EXPECTED
    for name in figures.FILES:
        data = (quick_run / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 20_000


def test_results_json_records_every_run_with_config_seed_and_history(quick_run):
    results = json.loads((quick_run / "results.json").read_text())
    assert results["complete"] is True and results["options"]["quick"] is True
    assert set(results["runs"]) == {name for _, name, _, _ in runs.plan(runs.Options.make(quick=True))}
    for _name, run in results["runs"].items():
        assert run["config"]["seed"] == 3
        n_epochs = run["config"]["epochs"]
        assert len(run["history"]["evaluation_accuracy"]) == n_epochs
        assert 0.0 <= run["final"]["test_accuracy"] <= 1.0 and run["seconds"] > 0
    # only the overfitting demo watches the test set
    assert {n for n, r in results["runs"].items() if r["evaluation_data"] == "test"} == {
        "overfit-lambda-0",
        "overfit-lambda-0.1",
    }
    assert results["runs"]["overfit-lambda-0"]["n_train"] == 1000


def test_results_md_has_the_ladder_with_measured_numbers(quick_run):
    md = (quick_run / "results.md").read_text()
    results = json.loads((quick_run / "results.json").read_text())
    assert "quick run" in md
    for row in ladder.rows(results):
        assert f"{row['test']:.2f}%" in md and row["expected"] in md
    assert len(ladder.rows(results)) == 5


def test_replot_redraws_from_results_json_alone(quick_run, capsys):
    for name in figures.FILES:
        (quick_run / name).unlink()
    assert main(["--replot", str(quick_run)]) == 0
    assert {p.name for p in quick_run.iterdir()} == EXPECTED
    assert "Redrew 5 figures" in capsys.readouterr().out


def test_replot_refuses_a_folder_without_results(tmp_path, capsys):
    assert main(["--replot", str(tmp_path)]) == 1
    assert "no results.json" in capsys.readouterr().err


def test_replot_refuses_an_unfinished_exploration(tmp_path, capsys):
    (tmp_path / "results.json").write_text(json.dumps({"complete": False}))
    assert main(["--replot", str(tmp_path)]) == 1
    assert "did not finish" in capsys.readouterr().err


def test_unknown_dataset_is_one_clear_line(tmp_path, capsys):
    assert main(["--quick", "--quiet", "--pictures", str(tmp_path), "--dataset", "digits"]) == 1
    err = capsys.readouterr().err
    assert "digits" in err and "mnist" in err and "Traceback" not in err


def test_slowdown_demo_quadratic_learns_slower_from_a_saturated_start():
    demo = runs.slowdown_demo(epochs=300)
    quad, ce = demo["runs"]["quadratic"], demo["runs"]["cross-entropy"]
    assert quad["output"][0] == pytest.approx(ce["output"][0]) == pytest.approx(1 / (1 + np.exp(-4)))
    # after 50 epochs cross-entropy has nearly reached the target 0; quadratic has barely moved
    assert ce["output"][50] < 0.15 < 0.9 < quad["output"][50]
    assert len(quad["output"]) == 301


def test_gradient_curve_is_larger_for_cross_entropy_when_wrong():
    curve = runs.gradient_curve()
    a = np.asarray(curve["a"])
    wrong = a < 0.1
    assert np.all(np.asarray(curve["cross-entropy"])[wrong] > 5 * np.asarray(curve["quadratic"])[wrong])


def test_z_distribution_std_shrinks_about_sqrt_n_times_with_default_init():
    images = np.load(SAMPLE)["train_images"][:200].reshape(200, -1) / 255.0
    zd = runs.z_distribution(images, seed=0)
    assert zd["default"]["std"] < 2.0 < 5.0 < zd["large"]["std"]
    assert zd["large"]["saturated_fraction"] > 0.3 > 0.05 > zd["default"]["saturated_fraction"]


def test_seed_script_runs_from_src_as_the_seed_says(tmp_path):
    """`python level3/1_improved_network.py --help` from src/ (section 7 of the Level 3 document)."""
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run(
        [sys.executable, "level3/1_improved_network.py", "--help"],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert out.returncode == 0 and "--quick" in out.stdout and "--replot" in out.stdout


def test_the_ladder_of_the_full_run_fits_80_columns_and_says_every_note_whole():
    """README: the ladder at the end of `make run` fits 80 columns, each step saying in
    full what it shows (the note is wrapped, never cut). docs/level3/results.json is the full
    MNIST run the README quotes."""
    results = json.loads((Path(__file__).parents[2] / "docs" / "level3" / "results.json").read_text())
    text = ladder.text(results)
    assert max(len(line) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    for note in ladder.notes(results):
        assert note and " ".join(note.split()) in flat
