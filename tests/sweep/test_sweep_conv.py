"""nndl sweep of a conv net: a fixed --layers description (commas and colons, one whole value)
while other fields (eta, lmbda, the seed) are swept, on the committed sample with tiny epochs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nndl
from nndl import TrainConfig
from nndl.cli import main
from nndl.data import load_npz
from nndl.sweep import parse_field

SAMPLE = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
LAYERS = "conv:4x5x5:relu,pool:2,dense:10:relu"


def test_a_layer_description_is_one_whole_value():
    assert parse_field("layers", [LAYERS]) == (LAYERS,)
    assert parse_field("layers", [LAYERS, "conv:2x3x3,pool:2"]) == (LAYERS, "conv:2x3x3,pool:2")  # two nets


def test_a_conv_net_swept_over_eta_lmbda_and_seeds(tmp_path, capsys):
    folder = tmp_path / "sweep"
    assert (
        main(
            [
                "sweep",
                "--dataset",
                SAMPLE,
                "--layers",
                LAYERS,
                "--cost",
                "log-likelihood",
                "--init",
                "he",
                "--eta",
                "0.05,0.2",
                "--lmbda",
                "0,1",
                "--seeds",
                "0,1",
                "--epochs",
                "1",
                "--train-size",
                "200",
                "--validation-size",
                "100",
                "--workers",
                "1",
                "--out",
                str(folder),
                "-q",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["sweep", "show", str(folder), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    rows = shown["rows"]
    assert len(rows) == 8 and all(r["status"] == "done" for r in rows)
    assert {(r["params"]["eta"], r["params"]["lmbda"], r["params"]["seed"]) for r in rows} == {
        (e, l, s) for e in (0.05, 0.2) for l in (0.0, 1.0) for s in (0, 1)
    }
    assert {r["config"]["layers"] for r in rows} == {LAYERS}
    assert len({r["history"]["training_cost"][0] for r in rows}) == 8  # every trial trained its own net
    # a trial is the conv net nndl train makes of its config, on the same first images
    sample = load_npz(SAMPLE)
    row = next(r for r in rows if r["params"] == {"eta": 0.2, "lmbda": 1.0, "seed": 1})
    config = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in row["config"].items()})
    cut = lambda split, n: type(split)(split.images[:n], split.labels[:n])  # noqa: E731
    net, history = nndl.train(
        config,
        cut(sample.training, 200),
        cut(sample.validation, 100),
        monitor_training_cost=True,
        monitor_evaluation_accuracy=True,
    )
    assert [layer.kind for layer in net.layers] == ["conv", "pool", "dense", "dense"]
    assert history.training_cost == pytest.approx(row["history"]["training_cost"], rel=1e-12)
    assert history.evaluation_accuracy == row["history"]["evaluation_accuracy"]


def test_a_bad_layer_description_in_a_sweep_is_one_line_naming_the_flag(tmp_path, capsys):
    assert (
        main(
            [
                "sweep",
                "--dataset",
                SAMPLE,
                "--layers",
                "conv:4x5x5,pool:99",
                "--eta",
                "0.1,0.2",
                "--epochs",
                "1",
                "--out",
                str(tmp_path / "s"),
                "-q",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "--layers" in err and "a 99x99 pool does not fit in 24x24 images" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()
