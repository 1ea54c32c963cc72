"""One typed path from flag to engine: TrainConfig's fields, described once, are the flags of
``nndl train`` and ``nndl sweep``; a refused value names its flag from ``ConfigError.field``;
one monitor vocabulary."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

import nndl
from nndl.cli import main, make_parser
from nndl.config import FieldDoc, TrainConfig, flag_of
from nndl.engine.history import MONITORS, Monitor

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")


def subcommand(name: str) -> argparse.ArgumentParser:
    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def options(p: argparse.ArgumentParser) -> dict:
    return {o: a for a in p._actions for o in a.option_strings}


def test_every_field_is_described_once_and_is_a_flag_of_train_and_of_sweep():
    docs = TrainConfig.field_docs()
    assert list(docs) == [f.name for f in dataclasses.fields(TrainConfig)]
    assert all(isinstance(d, FieldDoc) and d.help for d in docs.values())
    train, sweep = options(subcommand("train")), options(subcommand("sweep"))
    for name, doc in docs.items():
        flag = flag_of(name)
        assert train[flag].help.startswith(doc.help), name
        assert train[flag].metavar == doc.metavar and train[flag].type is doc.type, name
        assert train[flag].choices == (list(doc.choices) if doc.choices is not None else None), name
        if name not in ("seed", "layers"):  # a sweep's seeds are --seeds; layers: see NOT_SWEPT
            assert sweep[flag].help.startswith(doc.help) and sweep[flag].dest == f"field_{name}", name


def test_no_help_says_default_default():
    for name in ("train", "sweep"):
        text = subcommand(name).format_help()
        assert "default default" not in " ".join(text.split())


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(sizes=(784,)), "sizes"),
        (dict(cost="hinge"), "cost"),
        (dict(init="zero"), "init"),
        (dict(activation="gelu"), "activation"),
        (dict(epochs=-1), "epochs"),
        (dict(mini_batch_size=0), "mini_batch_size"),
        (dict(eta=0.0), "eta"),
        (dict(lmbda=-1.0), "lmbda"),
        (dict(regularization="l3"), "regularization"),
        (dict(momentum=1.0), "momentum"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=0.5, sizes=(4, 2)), "dropout"),
        (dict(schedule="cosine"), "schedule"),
        (dict(schedule_patience=0), "schedule_patience"),
        (dict(schedule_divisor=0.5), "schedule_divisor"),
        (dict(early_stopping=0), "early_stopping"),
        (dict(expand="flips"), "expand"),
        (dict(rotate=181.0), "rotate"),
        (dict(elastic=-1.0), "elastic"),
        (dict(elastic="34"), "elastic"),
        (dict(dtype="float16"), "dtype"),
        (dict(seed=-1), "seed"),
        (dict(order_seed=-1), "order_seed"),
    ],
)
def test_a_refused_config_value_carries_its_field(changes, field):
    with pytest.raises(nndl.ConfigError) as caught:
        TrainConfig(**changes)
    assert caught.value.field == field


def test_the_flag_named_in_an_error_comes_from_the_field_not_from_the_message(capsys, monkeypatch):
    """A ConfigError whose message starts with another field's name still names its own flag."""

    def refuse(self, **changes):
        raise nndl.ConfigError("eta looks fine but the momentum is wrong", field="momentum", detail="is wrong")

    monkeypatch.setattr(TrainConfig, "replace", refuse)
    assert main(["train", "--dataset", NPZ, "--momentum", "0.5", "--epochs", "1"]) == 2
    assert "argument --momentum: is wrong" in capsys.readouterr().err


def test_one_monitor_vocabulary_both_spellings_accepted_one_shown(capsys):
    assert MONITORS == ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy", "saturation")
    assert Monitor.named(["evaluation-accuracy", "training_cost"]) == Monitor(
        evaluation_accuracy=True, training_cost=True
    )
    with pytest.raises(nndl.ConfigError, match=r"unknown monitor 'accuracy'; choose from evaluation_cost") as caught:
        Monitor.named(["accuracy"])
    assert caught.value.field == "monitor"
    for name in ("train", "sweep"):
        text = " ".join(subcommand(name).format_help().split())
        assert "evaluation_accuracy" in text and "evaluation-accuracy" not in text, name
    for spelling in ("evaluation-accuracy,training-cost", "evaluation_accuracy,training_cost"):
        assert (
            main(["train", "--dataset", NPZ, "--sizes", "784,10,10", "--epochs", "1", "-q", "--monitor", spelling]) == 0
        )
