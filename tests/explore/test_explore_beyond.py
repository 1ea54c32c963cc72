"""nndl explore beyond --quick on the committed sample: figures, results, models, the ladder, --replot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.cli import main as nndl_main
from nndl.cli.explore.beyond import main
from nndl.explore import beyond, beyond_figures
from nndl.explore.beyond_ladder import markdown, verdicts

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    pictures = tmp_path_factory.mktemp("pictures")
    assert main(["--quick", "--dataset", NPZ, "--pictures", str(pictures), "--quiet"]) == 0
    (folder,) = (pictures / "beyond").iterdir()
    return folder, json.loads((folder / "results.json").read_text())


def test_quick_run_writes_seven_figures_results_and_models(finished):
    folder, results = finished
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(beyond_figures.FILES)
    assert (folder / "report.html").stat().st_size > 100_000  # the page beside the figures
    assert results["complete"] and (folder / "results.md").read_text().startswith("# Beyond Level 3")
    runs = beyond.plan(beyond.Options.make(quick=True))
    assert sorted(results["runs"]) == sorted(r.name for r in runs)
    for _name, record in results["runs"].items():
        net = nndl.load(folder / record["model"])  # every run's model is kept
        assert net.sizes == record["config"]["sizes"]
        assert "state" not in record["history"]  # results.json holds no weights


def test_each_ladder_row_has_three_seeds_and_adds_to_the_row_above(finished):
    _, results = finished
    rows = beyond.ladder_stats(results)
    assert [r["key"] for r in rows] == [k for k, _ in beyond.LADDER]
    for r in rows:
        assert r["seeds"] == [0, 1, 2] or sorted(r["seeds"]) == [0, 1, 2]
        tests = [
            100 * rec["final"]["test_accuracy"]
            for rec in results["runs"].values()
            if rec["group"] == f"ladder:{r['key']}"
        ]
        assert r["test_mean"] == pytest.approx(np.mean(tests)) and r["test_min"] == min(tests)
    configs = {r["key"]: r["config"] for r in rows}
    assert configs["schedule"]["schedule"] == "halve" and configs["level3"]["schedule"] == "constant"
    assert configs["expanded"]["expand"] == "shifts" and configs["dropout"]["dropout"] > 0
    assert configs["wide"]["sizes"][1] > configs["dropout"]["sizes"][1]


def test_figure_runs_are_paired_with_the_first_seed(finished):
    _, results = finished
    runs = results["runs"]
    base = runs["level3-seed0"]["config"]
    for name in ("softmax", "neurons-tanh", "neurons-relu", "shifts-constant"):
        assert runs[name]["config"]["seed"] == base["seed"] and runs[name]["config"]["sizes"] == base["sizes"]
    assert runs["softmax"]["config"]["cost"] == "log-likelihood"
    assert (
        len(runs["neurons-relu"]["history"]["saturation"]) == len(runs["neurons-relu"]["history"]["epoch_seconds"]) + 1
    )


def test_verdicts_name_what_passes_98_and_what_does_not_pay():
    rows = [
        {"step": "Level 3: x", "test_mean": 97.8, "test_min": 97.7, "test_max": 97.9},
        {"step": "+ schedule", "test_mean": 98.1, "test_min": 98.0, "test_max": 98.2},
        {"step": "+ dropout", "test_mean": 98.0, "test_min": 97.9, "test_max": 98.1},
    ]
    text = verdicts(rows)
    assert text[0] == "What carries the book's network past 98 %: **schedule** (98.10% mean test accuracy)."
    assert text[1] == "Does not pay here: dropout (-0.10 points against the row above)."


def test_replot_redraws_from_results_json_alone(finished, tmp_path, capsys):
    folder, results = finished
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "results.json").write_text(json.dumps(results))
    assert main(["--replot", str(copy)]) == 0
    assert sorted(p.name for p in copy.glob("*.png")) == sorted(beyond_figures.FILES)
    assert "the ladder past 98 %" in capsys.readouterr().out
    assert (copy / "results.md").read_text() == markdown(results)


def test_nndl_explore_beyond_is_the_same_command(tmp_path, capsys):
    assert nndl_main(["explore", "beyond", "--help"]) == 0
    assert "ladder past 98 %" in capsys.readouterr().out
    broken = tmp_path / "x"
    broken.mkdir()
    (broken / "results.json").write_text('{"exploration": "level3", "complete": true}')
    assert nndl_main(["explore", "beyond", "--replot", str(broken)]) == 1
    assert "not the results of a beyond-Level-3 exploration run to its end" in capsys.readouterr().err


def test_the_ladder_of_the_full_run_fits_80_columns_and_names_every_row_whole():
    """The ladder past 98 % at the end of `make beyond` fits 80 columns and cuts no row's label;
    docs/beyond/results.json is the full MNIST run the README quotes."""
    from nndl.explore.beyond_ladder import text

    results = json.loads((Path(__file__).parents[2] / "docs" / "beyond" / "results.json").read_text())
    out = text(results)
    assert max(len(line) for line in out.splitlines()) <= 80
    for row in beyond.ladder_stats(results):
        assert any(line.endswith(row["short"]) for line in out.splitlines()), row["short"]
    assert "98.95% (98.91-98.98)" in out and "Does not pay here: dropout 0.2" in out
