"""A trial: one training run, as a plain function of a description and the data.

:func:`run_trial` takes a :class:`Trial` (a ``TrainConfig`` - which carries the seed - plus
which part of the data it sees and what it measures) and the data, and returns a dict of
plain values. It never prints and never learns where it runs, so any
``concurrent.futures.Executor`` can run it: the inline one, a local process pool, or a
Dask cluster's (:mod:`nndl.sweep.runner`). Its only side channel is progress, through
:func:`nndl.sweep.events.emit`.

The data argument is either the loaded ``Splits`` (inline, or scattered by Dask) or a
:class:`DataSource`, which a worker resolves once through :mod:`nndl.data` - the verified
cache - and keeps for the trials that follow in the same process.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nndl.config import TrainConfig
from nndl.data import DATASETS, Split, Splits, load_dataset
from nndl.engine.history import MONITORS as ENGINE_MONITORS
from nndl.engine.history import History
from nndl.engine.training import train
from nndl.errors import ConfigError, ModelFileError
from nndl.serialization import load_with_metadata, save

from .events import emit

SPLITS = ("training", "validation", "test")
# the per-epoch series a trial can record: the engine's monitors (one vocabulary), but saturation
MONITORS = tuple(m for m in ENGINE_MONITORS if m != "saturation")


@dataclass(frozen=True)
class DataSource:
    """Where a worker finds the data: a registered name ('mnist', 'fashion') or an .npz path.

    A path is made absolute here, in the process that builds the sweep, because a worker
    may start in another folder.
    """

    dataset: str
    data_dir: str | None = None  # root of the verified cache for registered names; None: the default

    @classmethod
    def make(cls, dataset, data_dir=None) -> DataSource:
        dataset = str(dataset)
        if dataset not in DATASETS:
            dataset = str(Path(dataset).resolve())
        return cls(dataset, None if data_dir is None else str(Path(data_dir).resolve()))

    def load(self) -> Splits:
        """Load (and verify) the data set this names; see ``nndl.data.load_dataset``."""
        if self.dataset in DATASETS:
            return load_dataset(self.dataset, data_dir=self.data_dir)
        return load_dataset(self.dataset)


_LOADED: dict[DataSource, Splits] = {}  # per process: the data set the last trials used


def resolve(data) -> Splits:
    """``data`` as ``Splits``: loaded ones pass through, a ``DataSource`` is loaded once per process."""
    if isinstance(data, Splits):
        return data
    if not isinstance(data, DataSource):
        raise ConfigError(f"a trial's data must be Splits or a DataSource, got {type(data).__name__}")
    if data not in _LOADED:
        _LOADED.clear()  # one data set at a time: MNIST's arrays are ~190 MB
        _LOADED[data] = data.load()
    return _LOADED[data]


@dataclass(frozen=True)
class Trial:
    """One training run: a config (its ``seed`` fixes initial weights and batch order), the
    part of the data it sees, and what it measures.

    ``n_train``/``n_validation``/``n_test`` keep the first n images of a split (None: all),
    the book's broad strategy of working on a subset first. ``evaluation`` is the split
    watched after every epoch (the validation set, except in the book's overfitting demo);
    ``monitor`` names the per-epoch series recorded (``nndl.engine.training.train``'s monitor_*
    flags); ``finals`` the splits whose accuracy is measured once at the end (the test set
    only when asked). ``keep_model`` returns the trained network too. ``checkpoint``: a
    model file (with the loop's continuation state) saved atomically after every epoch, from
    which the same trial run again continues to the weights of a run never stopped
    (:func:`train_checkpointed`).
    """

    key: str
    config: TrainConfig
    n_train: int | None = None
    n_validation: int | None = None
    n_test: int | None = None
    evaluation: str = "validation"
    monitor: tuple[str, ...] = ("evaluation_accuracy",)
    finals: tuple[str, ...] = ("validation",)
    keep_model: bool = False
    checkpoint: str | None = None  # a model file rewritten after every epoch; a rerun continues from it
    label: dict = field(default_factory=dict, compare=False)  # e.g. the swept values, for people
    tensorboard: str | None = field(default=None, compare=False)  # a folder: event files in <it>/<label or key>

    def __post_init__(self):
        if self.evaluation not in SPLITS:
            raise ConfigError(f"evaluation must be one of {SPLITS}, got {self.evaluation!r}")
        bad = [f for f in self.finals if f not in SPLITS]
        if bad:
            raise ConfigError(f"finals must name splits from {SPLITS}, got {bad}")


def parts(trial: Trial, splits: Splits) -> dict[str, Split]:
    """The three splits as this trial sees them (subsets applied)."""
    return {
        "training": splits.training.head(trial.n_train),
        "validation": splits.validation.head(trial.n_validation),
        "test": splits.test.head(trial.n_test),
    }


def run_trial(trial: Trial, data) -> dict:
    """Train ``trial.config`` on ``data`` (``Splits`` or ``DataSource``); return the result.

    The result holds plain values only: ``key``, ``config`` (dict), ``n_train``,
    ``n_evaluation``, ``evaluation_data``, ``history`` (``History.to_dict()``, accuracies as
    counts), ``final`` (accuracy as a fraction for each split in ``finals``), ``seconds``,
    ``host``, ``pid``, ``started``, ``finished`` - and ``net`` when ``keep_model``.
    Raises whatever training raises (``DivergenceError`` when eta is too large).
    """
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    split = parts(trial, resolve(data))
    training, evaluation = split["training"], split[trial.evaluation]
    key, epochs = trial.key, trial.config.epochs
    emit({"trial": key, "kind": "start", "epochs": epochs, "n_train": len(training)})
    last = [0.0]

    def on_batch(done, total):
        now = time.perf_counter()
        if now - last[0] > 0.25 or done == total:  # a few events a second, whatever the epoch's length
            last[0] = now
            emit({"trial": key, "kind": "batch", "done": done, "total": total})

    board = _tensorboard(trial, evaluation) if trial.tensorboard is not None else None

    def on_epoch(r):
        if board is not None:
            board.on_epoch(r)
        emit(
            {
                "trial": key,
                "kind": "epoch",
                "epoch": r.epoch,
                "epochs": r.epochs,
                "evaluation_accuracy": r.evaluation_accuracy,
                "n_evaluation": r.n_evaluation,
                "training_cost": r.training_cost,
            }
        )

    monitor = {f"monitor_{m}": True for m in trial.monitor}
    monitor.setdefault("monitor_evaluation_accuracy", False)
    try:
        if trial.checkpoint is not None:
            net, history = train_checkpointed(
                trial.config, trial.checkpoint, training, evaluation, on_epoch=on_epoch, on_batch=on_batch, **monitor
            )
        else:
            net, history = train(
                trial.config,
                training,
                evaluation,
                net=None if board is None else board.net,
                on_epoch=on_epoch,
                on_batch=on_batch,
                **monitor,
            )
    finally:
        if board is not None:
            board.close()
    final = {f"{s}_accuracy": net.accuracy(split[s]) / len(split[s]) for s in trial.finals}
    result = {
        "key": key,
        "config": trial.config.to_dict(),
        "n_train": len(training),
        "n_evaluation": len(evaluation),
        "evaluation_data": trial.evaluation,
        "history": history.to_dict(state=False),  # the loop's continuation state stays out of results
        "final": final,
        "seconds": time.perf_counter() - t0,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": started,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if trial.keep_model:
        result["net"] = net
    return result


def _tensorboard(trial: Trial, evaluation: Split):
    """The trial's event files (``nndl.tensorboard``): a folder of ``trial.tensorboard`` named by its
    label (the swept values) or its key, z measured on the evaluation images."""
    from nndl.tensorboard import TensorBoardWriter, initial_network, label_name, run_folder

    folder = run_folder(trial.tensorboard, label_name(trial.label) or trial.key)
    return TensorBoardWriter(folder, initial_network(trial.config), evaluation.images, evaluation=trial.evaluation)


def same_config(saved, config: TrainConfig) -> bool:
    """True when a checkpoint's saved config dict is ``config``: read through ``TrainConfig``,
    so a file saved before a field existed matches that field's default (the field off)."""
    try:
        return TrainConfig.from_dict(saved) == config
    except (ConfigError, TypeError):
        return False


def train_checkpointed(
    config: TrainConfig, checkpoint, training, evaluation, *, on_epoch=None, on_batch=None, should_stop=None, **monitor
):
    """``train`` one epoch at a time, saving the network, ``config`` and the history (with the
    loop's state) to ``checkpoint`` atomically after each epoch; return (net, history).

    Run again after a stop (Ctrl-C, a killed process, a machine that slept), it loads the file
    and trains only the epochs left, to the same weights, bit for bit, as a run never stopped
    (the loop stops at an epoch's end, where ``fit`` keeps its whole state). A finished run's
    file is returned as it is. A file of another config is a ``ModelFileError`` naming it.
    ``should_stop`` is asked between windows, as ``fit`` asks it (a stop mid-epoch keeps the
    last epoch's file).
    """
    path = Path(checkpoint)
    net, history = None, None
    if path.exists():
        net, saved, past = load_with_metadata(path)
        if not same_config(saved, config) or past is None:
            raise ModelFileError(
                f"{path}: a checkpoint of another training run (its config differs from this "
                f"one's); move it away to start this run afresh"
            )
        history = History.from_dict(past)
        if history.stopped != "interrupted":
            return net, history  # trained to its end already
    at_end = [False]

    def batch(done, total):
        at_end[0] = done == total
        if on_batch is not None:
            on_batch(done, total)

    def stop():
        return at_end[0] or (should_stop is not None and bool(should_stop()))

    while True:
        left = config.epochs - (history.epochs if history is not None else 0)
        at_end[0] = False
        net, history = train(
            config.replace(epochs=left),
            training,
            evaluation,
            net=net,
            history=history,
            on_epoch=on_epoch,
            on_batch=batch,
            should_stop=stop,
            **monitor,
        )
        if history.stopped == "interrupted" and not at_end[0]:
            return net, history  # stopped mid-epoch: keep the last file
        save(net, path, config=config, history=history)
        if history.stopped != "interrupted":
            return net, history
