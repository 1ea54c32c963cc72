"""What the command line tells a learner on the way: where to start, a typo's likely meaning,
a near tie between two answers, options that cannot apply, one version everywhere."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nndl
from nndl.cli import main
from nndl.cli.models import answer_text
from nndl.report import write_report

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SMALL = ["--dataset", NPZ, "--sizes", "784,12,10", "--quiet"]
ROOT = Path(__file__).resolve().parents[2]


def test_the_top_level_help_says_where_to_start(capsys):
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Where to start: `nndl explore level3 --quick`" in out and "nndl predict model.json" in out


@pytest.mark.parametrize(
    "argv, meant",
    [
        (["trian"], "train"),
        (["evalute"], "evaluate"),
        (["data", "fecth"], "fetch"),
        (["train", "--cost", "crossentropy"], "cross-entropy"),
    ],
)
def test_a_typo_gets_did_you_mean(capsys, argv, meant):
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"invalid choice: '{argv[-1]}'" in line and f"; did you mean '{meant}'? (see nndl" in line
    assert "choose from" not in line  # the guess in place of the list of every choice


def test_a_mistyped_command_is_one_short_line(capsys):
    assert main(["trian"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "nndl: error: argument COMMAND: invalid choice: 'trian'; did you mean 'train'? (see nndl --help)"
    assert len(line) <= 100


def test_a_word_close_to_no_choice_keeps_the_list(capsys):
    assert main(["train", "--cost", "xyzzy"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "invalid choice: 'xyzzy' (choose from 'quadratic', 'cross-entropy', 'log-likelihood')" in line


def test_a_word_like_no_command_gets_no_guess(capsys):
    assert main(["xyzzy"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_zero_epochs_never_save_an_untrained_network(tmp_path, capsys):
    model = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "0", "--save", str(model)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"nndl train: error: argument --epochs: 0 epochs would save an untrained network to {model}")
    assert not model.exists()
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(model)]) == 0  # resumed, 0 more: a warning
    capsys.readouterr()
    copy = tmp_path / "copy.json"
    assert main(["train", "--resume", str(model), "--epochs", "0", "--save", str(copy), "--dataset", NPZ, "-q"]) == 0
    assert (
        f"nndl: warning: --epochs 0: nothing is trained; {copy} gets {model}'s network unchanged"
        in capsys.readouterr().err
    )


def test_the_answer_names_the_runner_up_when_it_comes_close():
    share = np.array([0.02, 0.03, 0.36, 0.05, 0.33, 0.04, 0.05, 0.04, 0.04, 0.04])
    assert answer_text(share) == "digit 2 (confidence 36.0%), then 4 (33.0%)"
    share = np.array([0.01, 0.01, 0.80, 0.02, 0.10, 0.01, 0.01, 0.02, 0.01, 0.01])
    assert answer_text(share) == "digit 2 (confidence 80.0%)"  # 10% is no near tie
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    share = np.array([0.3, 0, 0.1, 0, 0.1, 0, 0.28, 0, 0.11, 0.11])
    assert answer_text(share, names) == "T-shirt/top (class 0) (confidence 30.0%), then Shirt (class 6, 28.0%)"


def test_predict_shows_a_near_tie(tmp_path, capsys):
    """A network whose outputs are all equal (zero weights): ten-way tie, the runner-up shown."""
    model = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(model)]) == 0
    net = nndl.load(model)
    for w, b in zip(net.weights, net.biases):
        w[...] = 0
        b[...] = 0
    nndl.save(net, model)
    png = tmp_path / "digit.png"
    Image.fromarray(255 - np.load(NPZ)["test_images"][0]).save(png)
    capsys.readouterr()
    assert main(["predict", str(model), str(png)]) == 0
    assert capsys.readouterr().out.strip() == f"{png}: digit 0 (confidence 10.0%), then 1 (10.0%)"


@pytest.mark.parametrize("extra", [["--pictures", "elsewhere"], ["--quick"], ["--seed", "3"], ["--dataset", NPZ]])
@pytest.mark.parametrize("exploration", ["level3", "beyond"])
def test_replot_refuses_what_only_a_training_run_uses(tmp_path, capsys, extra, exploration):
    assert main(["explore", exploration, "--replot", str(tmp_path), *extra]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        line.startswith(f"nndl explore {exploration}: error: argument --replot: redraws the figures in FOLDER itself")
        and f"so {extra[0]} cannot apply" in line
    )
    assert not (tmp_path / "elsewhere").exists()


def test_replot_alone_goes_ahead(tmp_path, capsys):
    assert main(["explore", "level3", "--replot", str(tmp_path)]) == 1  # no results.json: its own error
    assert "no results.json here" in capsys.readouterr().err


def test_one_trial_is_one_trial(tmp_path, capsys):
    folder = tmp_path / "sweep"
    assert (
        main(
            [
                "sweep",
                "--eta",
                "0.5",
                "--epochs",
                "1",
                "--sizes",
                "784,10,10",
                "--dataset",
                NPZ,
                "--workers",
                "1",
                "--out",
                str(folder),
                "-q",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "sweep: 1 trial (0 finished before)" in err and re.search(r"^1 trial done in ", err, re.M), err
    assert "1 trials" not in err


@pytest.mark.parametrize("action", ["show", "plot", "resume"])
def test_sweep_actions_say_what_folder_is(capsys, action):
    assert main(["sweep", action, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "FOLDER a sweep's folder, the one `nndl sweep` named when it ran" in out


def test_one_version_everywhere(tmp_path, capsys):
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nndl.__version__"}
    assert importlib.metadata.version("nndl") == nndl.__version__  # what pip installed
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"nndl {nndl.__version__}\n"
    model = tmp_path / "m.json"
    assert main(["train", *SMALL, "--epochs", "1", "--save", str(model)]) == 0
    assert f"made by nndl {nndl.__version__}</p>" in write_report(model).read_text()
