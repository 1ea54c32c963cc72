"""A checkpointed trial survives being stopped: the same trial run again continues from its last
epoch's file to the same weights, bit for bit, as a run never stopped (conv nets, plain and with
dropout and expanded data), and a checkpoint of another config is refused with its name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nndl.config import TrainConfig
from nndl.data import load_dataset
from nndl.engine.training import train
from nndl.errors import ModelFileError
from nndl.serialization import load_with_metadata
from nndl.sweep.trial import Trial, run_trial, train_checkpointed

NPZ = Path(__file__).parents[1] / "data" / "mnist_sample.npz"
CONV = TrainConfig(
    sizes=(784, 100, 10),
    layers="conv:4x5x5,pool:2,dense:20",
    cost="log-likelihood",
    activation="relu",
    init="he",
    eta=0.03,
    lmbda=1.0,
    epochs=3,
    seed=3,
)


@pytest.fixture(scope="module")
def data():
    splits = load_dataset(NPZ)
    return splits.training.head(300), splits.validation.head(100)


def weights(net):
    return [p.value.copy() for p in net.params]


class Killed(Exception):
    """Stands for a process killed mid-epoch."""


@pytest.mark.parametrize(
    "config",
    [CONV, CONV.replace(dropout=0.2, expand="shifts", epochs=2, dtype="float32")],
    ids=["relu-l2", "dropout-expanded-float32"],
)
def test_a_training_killed_mid_epoch_continues_to_the_weights_of_an_unbroken_run(data, tmp_path, config):
    training, validation = data
    whole, whole_history = train(config, training, validation)
    path = tmp_path / "run.json"
    with pytest.raises(Killed):
        _run_until_killed(config, path, training, validation)
    _, _, history = load_with_metadata(path)
    assert len(history["evaluation_accuracy"]) == 1 and history["stopped"] == "interrupted"
    net, resumed_history = train_checkpointed(config, path, training, validation)
    assert len(resumed_history.evaluation_accuracy) == config.epochs
    assert resumed_history.evaluation_accuracy == whole_history.evaluation_accuracy
    for a, b in zip(weights(net), weights(whole)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    again, _ = train_checkpointed(config, path, training, validation)  # finished: returned as saved
    for a, b in zip(weights(again), weights(whole)):
        assert np.array_equal(a, b)


def _run_until_killed(config, path, training, validation):
    epochs = [0]

    def on_epoch(report):
        epochs[0] = report.epoch

    def on_batch(done, total):
        if epochs[0] == 1 and done >= total // 2:
            raise Killed  # mid-way through epoch 2; epoch 1 is on disk

    train_checkpointed(config, path, training, validation, on_epoch=on_epoch, on_batch=on_batch)


def test_a_trial_killed_after_an_epoch_run_again_ends_where_an_unbroken_trial_ends(tmp_path, monkeypatch):
    import nndl.sweep.trial as trial_module

    splits = load_dataset(NPZ)
    kw = {"n_train": 300, "n_validation": 100, "n_test": 100, "finals": ("test",), "keep_model": True}
    unbroken = run_trial(Trial(key="conv", config=CONV, **kw), splits)
    path = tmp_path / "conv.json"
    trial = Trial(key="conv", config=CONV, checkpoint=str(path), **kw)
    real, calls = trial_module.train, [0]

    def dying_train(*args, **kwargs):  # the process dies in the second epoch
        calls[0] += 1
        if calls[0] == 2:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(trial_module, "train", dying_train)
    with pytest.raises(Killed):
        run_trial(trial, splits)
    monkeypatch.setattr(trial_module, "train", real)
    assert len(load_with_metadata(path)[2]["evaluation_accuracy"]) == 1
    resumed = run_trial(trial, splits)
    assert resumed["history"]["evaluation_accuracy"] == unbroken["history"]["evaluation_accuracy"]
    assert resumed["final"] == unbroken["final"]
    for a, b in zip(weights(resumed["net"]), weights(unbroken["net"])):
        assert np.array_equal(a, b)
    other = Trial(key="conv", config=CONV.replace(eta=0.05), checkpoint=str(path), **kw)
    with pytest.raises(ModelFileError, match="conv.json: a checkpoint of another training run"):
        run_trial(other, splits)


def test_a_checkpoint_saved_before_a_field_existed_continues_as_that_field_off(data, tmp_path):
    """A file written before ``elastic`` was a field has no such key: it is the same run as the
    field's default, so it continues; the field switched on, or any value the file does not
    hold, is another run, refused with the file's name."""
    import json

    training, validation = data
    config = CONV.replace(epochs=2)
    whole, _ = train(config, training, validation)
    path = tmp_path / "old.json"
    with pytest.raises(Killed):
        _run_until_killed(config, path, training, validation)
    d = json.loads(path.read_text())
    del d["config"]["elastic"]  # as a checkpoint of an earlier nndl
    path.write_text(json.dumps(d))
    net, history = train_checkpointed(config, path, training, validation)
    assert history.epochs == 2
    for a, b in zip(weights(net), weights(whole)):
        assert np.array_equal(a, b)
    for saved in ({**d["config"], "elastic": 5.0}, {**d["config"], "colour": 1}, "a config", None):
        d["config"] = saved
        d["history"]["stopped"] = "interrupted"
        path.write_text(json.dumps(d))
        with pytest.raises(ModelFileError, match="old.json: a checkpoint of another training run"):
            train_checkpointed(config, path, training, validation)
