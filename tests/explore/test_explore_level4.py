"""nndl explore level4 --quick on the committed sample: the ladder beside the book's numbers,
results.json, results.md, every row's model (conv nets, format_version 2), the filters figure."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

import nndl
from nndl.cli import main as nndl_main
from nndl.cli.explore.level4 import main as level4_main
from nndl.explore import level4

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
PRINTED: list[str] = []  # what the quick run printed


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    pictures = tmp_path_factory.mktemp("pictures")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert nndl_main(["explore", "level4", "--quick", "--dataset", NPZ, "--pictures", str(pictures), "--quiet",
                          "--workers", "1"]) == 0
    (folder,) = (pictures / "level4").iterdir()
    PRINTED.append(out.getvalue())
    return folder, json.loads((folder / "results.json").read_text())


def test_the_last_lines_say_what_was_saved_in_plain_words(finished):
    (printed,) = PRINTED
    assert "Saved 1 figure, results.json, results.md and the 6 trained models (models/) in" in printed


def test_quick_run_writes_the_ladder_results_models_and_filters(finished):
    folder, results = finished
    assert results["complete"] and results["exploration"] == "level4"
    assert list(results["runs"]) == [key for key, _, _ in level4.LADDER]
    md = (folder / "results.md").read_text()
    assert md.startswith("# Level 4: convolutional networks") and "| 99.23% |" in md and "not run yet" in md
    assert (folder / "1_filters.png").stat().st_size > 5_000
    page = (folder / "report.html").read_text()                  # the page runs every row's network, conv nets too
    assert page.count('"stack":[') == 5 and "Level 4: convolutional networks (chapter 6)" in page
    assert np.array(results["filters"]).shape == (20, 5, 5)
    for key, record in results["runs"].items():
        net = nndl.load(folder / record["model"])
        assert [layer.spec() for layer in net.layers] == nndl.TrainConfig.from_dict(record["config"]).layer_specs()
    assert results["runs"]["relu"]["config"]["layers"] == "conv:20x5x5,pool:2,conv:40x5x5,pool:2,dense:100"


def test_the_rows_learn_the_sample(finished):
    _, results = finished
    rows = {r["key"]: r for r in level4.ladder_rows(results)}
    assert rows["relu"]["test"] > 50 and rows["expanded"]["test"] > 50          # from 10 % by chance


def test_replot_redraws_from_results_json(finished, capsys):
    folder, _ = finished
    (folder / "1_filters.png").unlink()
    assert level4_main(["--replot", str(folder)]) == 0
    assert (folder / "1_filters.png").exists() and "Level 4: chapter 6's ladder" in capsys.readouterr().out
