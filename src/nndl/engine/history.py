"""What a training run records and reports: ``History`` (per-epoch series, kept and saved),
``EpochReport`` (what ``on_epoch`` receives after each epoch) and ``Monitor`` (what to measure;
its field names are the one vocabulary of monitors, ``MONITORS``, as the series are named).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import ConfigError, quote


@dataclass
class History:
    """Per-epoch metrics. Accuracies are counts of correct examples (network2's meaning);
    costs include the regularization term. A list stays empty when that quantity was not
    monitored. Epochs count from 1: entry k-1 of a per-epoch list is after epoch k.

    ``*_cost`` is network2's ``total_cost``: the data's cost plus the regularization term for
    a set of n examples, (lmbda / 2n) sum w^2 for L2 with n the size of *that* set. For the
    validation set (n = 10,000 against 50,000) the term is five times larger, and it grows
    as the weights do, so the validation cost can rise while accuracy rises too; it is not
    overfitting. ``*_cost_without_regularization`` is the data's cost alone, alongside.

    ``eta``: the learning rate each epoch trained with; ``saturation``: per hidden layer, the
    share of saturated (image, neuron) pairs on the first 1,000 evaluation images, entry k
    after k epochs (entry 0 before training); ``best_epoch``: the epoch of the best validation
    accuracy; ``stopped``: why training ended before its last epoch (None when it did not);
    ``state``: what ``fit`` needs to continue the run exactly from where it stopped - the
    streams, the position in the epoch, the schedule, momentum's velocity (plain JSON values).
    """

    evaluation_cost: list = field(default_factory=list)
    evaluation_accuracy: list = field(default_factory=list)
    training_cost: list = field(default_factory=list)
    training_accuracy: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    evaluation_cost_without_regularization: list = field(default_factory=list)
    training_cost_without_regularization: list = field(default_factory=list)
    eta: list = field(default_factory=list)
    saturation: list = field(default_factory=list)
    n_training: int = 0
    n_evaluation: int = 0
    best_epoch: int | None = None
    stopped: str | None = None
    state: dict | None = None

    @property
    def epochs(self) -> int:
        """Epochs completed."""
        return len(self.epoch_seconds)

    def as_tuple(self):
        """network2's return value: (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)."""
        return (self.evaluation_cost, self.evaluation_accuracy, self.training_cost, self.training_accuracy)

    def to_dict(self, state: bool = True) -> dict:
        """Plain JSON-ready values; ``state=False`` leaves out the continuation state."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items() if state or k != "state"}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class EpochReport:
    """What ``on_epoch`` receives after each epoch (1-based ``epoch``); None where not monitored."""

    epoch: int
    epochs: int
    seconds: float
    training_cost: float | None
    training_accuracy: int | None
    evaluation_cost: float | None
    evaluation_accuracy: int | None
    n_training: int
    n_evaluation: int
    eta: float | None = None
    saturation: list | None = None
    best_epoch: int | None = None
    training_cost_without_regularization: float | None = None
    evaluation_cost_without_regularization: float | None = None


@dataclass(frozen=True)
class Monitor:
    """What to measure after each epoch (network2's four flags, and saturation). Its field names
    are the one vocabulary of monitors (``MONITORS``), as the ``History`` series are named."""

    evaluation_cost: bool = False
    evaluation_accuracy: bool = False
    training_cost: bool = False
    training_accuracy: bool = False
    saturation: bool = False

    @classmethod
    def named(cls, names) -> Monitor:
        """The monitor of ``names`` ('evaluation_accuracy', ...; 'evaluation-accuracy' is the same
        name); an unknown one is a ``ConfigError`` (field "monitor") listing the names."""
        names = [monitor_name(n) for n in names]
        bad = [n for n in names if n not in MONITORS]
        if bad:
            raise ConfigError(
                f"unknown monitor {', '.join(map(quote, bad))}; choose from {', '.join(MONITORS)}", field="monitor"
            )
        return cls(**{n: True for n in names})


MONITORS = tuple(f.name for f in dataclasses.fields(Monitor))  # evaluation_cost, ..., saturation


def monitor_name(name: str) -> str:
    """A monitor's name as ``MONITORS`` spell it: 'evaluation-accuracy' -> 'evaluation_accuracy'."""
    return name.strip().replace("-", "_")
