"""The training loop: epochs, shuffling, mini-batches, monitoring. It returns a history.

The loop is apart from the update rule (``nndl.rules``): it draws the order, gathers each
mini-batch into a preallocated workspace, asks the network for the scaled gradient and
hands it to the rule. It never prints; ``on_epoch`` and ``on_batch`` callbacks let the
command line draw progress.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .config import TrainConfig, as_rng, check_int, rng_streams
from .errors import ConfigError, DivergenceError
from .network import Network
from .rules import GradientDescent


@dataclass
class History:
    """Per-epoch metrics. Accuracies are counts of correct examples (network2's meaning);
    costs include the L2 term. A list stays empty when that quantity was not monitored."""

    evaluation_cost: list = field(default_factory=list)
    evaluation_accuracy: list = field(default_factory=list)
    training_cost: list = field(default_factory=list)
    training_accuracy: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)
    n_training: int = 0
    n_evaluation: int = 0

    @property
    def epochs(self) -> int:
        return len(self.epoch_seconds)

    def as_tuple(self):
        """network2's return value: (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)."""
        return (self.evaluation_cost, self.evaluation_accuracy, self.training_cost, self.training_accuracy)

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class EpochReport:
    """What ``on_epoch`` receives after each epoch (1-based ``epoch``); None where not monitored."""

    epoch: int
    epochs: int
    seconds: float
    training_cost: Optional[float]
    training_accuracy: Optional[int]
    evaluation_cost: Optional[float]
    evaluation_accuracy: Optional[int]
    n_training: int
    n_evaluation: int


def _check_finite(net: Network, epoch: int, eta: float) -> None:
    if not all(np.isfinite(w).all() and np.isfinite(b).all() for w, b in zip(net.weights, net.biases)):
        raise DivergenceError(f"training diverged in epoch {epoch}: the weights became nan or infinite "
                              f"(eta={eta:g}); try a smaller learning rate eta")


def sgd(net: Network, training_data, epochs: int, mini_batch_size: int, eta: float, lmbda: float = 0.0,
        evaluation_data=None, *, monitor_evaluation_cost: bool = False,
        monitor_evaluation_accuracy: bool = False, monitor_training_cost: bool = False,
        monitor_training_accuracy: bool = False, rng=None,
        on_epoch: Callable[[EpochReport], None] | None = None,
        on_batch: Callable[[int, int], None] | None = None) -> History:
    """Train ``net`` in place by mini-batch stochastic gradient descent; return its ``History``.

    ``training_data`` and ``evaluation_data`` take any format of ``nndl.examples``. The
    order of the mini-batches comes from ``rng`` (Generator, seed, or None for fresh
    entropy); the caller's data is never reordered. The last mini-batch of an epoch is
    shorter when m does not divide n, as in network2. ``on_batch(done, total)`` is called
    about a hundred times an epoch (at most once per window of mini-batches, see
    ``nndl.windowed``), the last time with done == total; ``on_epoch(report)`` after each epoch.
    Raises ``ConfigError`` for bad arguments and ``DivergenceError`` if the weights or a
    monitored cost stop being finite.
    """
    epochs = check_int("epochs", epochs, 0)
    m = check_int("mini_batch_size", mini_batch_size, 1)
    train = net.examples(training_data, "training_data")
    rule = GradientDescent(eta, lmbda, len(train))
    wants_eval = monitor_evaluation_cost or monitor_evaluation_accuracy
    if wants_eval and evaluation_data is None:
        raise ConfigError("monitor_evaluation_cost/monitor_evaluation_accuracy need evaluation_data, "
                          "which is None")
    evaluation = net.examples(evaluation_data, "evaluation_data") if evaluation_data is not None else None
    order_rng = as_rng(rng)
    n = len(train)
    history = History(n_training=n, n_evaluation=len(evaluation) if evaluation is not None else 0)
    ws = rule.workspace(net, m)     # a window of consecutive mini-batches, filled in order
    # float32 inputs of a float64 network are widened a window at a time (exact)
    stage = None if train.X.dtype == ws.X.dtype else np.empty((ws.rows, train.X.shape[1]), train.X.dtype)
    n_batches = math.ceil(n / m)
    tick = max(1, n_batches // 100)

    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = order_rng.permutation(n)                                 # (n,)
        next_tick = tick
        with np.errstate(over="ignore", invalid="ignore"):
            for lo in range(0, n, ws.rows):
                idx = order[lo:lo + ws.rows]                             # whole mini-batches, in order
                rows = len(idx)
                # mode="clip" (idx is in range): "raise" would copy through a buffer
                if stage is None:
                    np.take(train.X, idx, axis=0, out=ws.X[:rows], mode="clip")    # (rows, n_in)
                else:
                    ws.X[:rows] = np.take(train.X, idx, axis=0, out=stage[:rows], mode="clip")
                np.take(train.targets, idx, axis=0, out=ws.T[:rows], mode="clip")  # (rows, n_out)
                rule.step(net, ws, rows)
                done = -(-(lo + rows) // m)                              # mini-batches done
                if on_batch is not None and (done >= next_tick or done == n_batches):
                    on_batch(done, n_batches)
                    next_tick = (done // tick + 1) * tick
        _check_finite(net, epoch, rule.eta)
        history.epoch_seconds.append(time.perf_counter() - start)
        tc = ta = ec = ea = None
        if monitor_training_cost or monitor_training_accuracy:   # one forward pass for both
            tc, ta = net.evaluate(train, lmbda, cost=monitor_training_cost, accuracy=monitor_training_accuracy)
        if wants_eval:
            ec, ea = net.evaluate(evaluation, lmbda, cost=monitor_evaluation_cost,
                                  accuracy=monitor_evaluation_accuracy)
        for value, series in ((tc, history.training_cost), (ta, history.training_accuracy),
                              (ec, history.evaluation_cost), (ea, history.evaluation_accuracy)):
            if value is not None:
                if not math.isfinite(value):
                    raise DivergenceError(f"training diverged in epoch {epoch}: the cost is {value}; "
                                          f"try a smaller learning rate eta (was {rule.eta:g})")
                series.append(value)
        if on_epoch is not None:
            on_epoch(EpochReport(epoch, epochs, history.epoch_seconds[-1], tc, ta, ec, ea,
                                 n, history.n_evaluation))
    return history


def train(config: TrainConfig, training_data, evaluation_data=None, *, net: Network | None = None,
          monitor_evaluation_cost=False, monitor_evaluation_accuracy=None,
          monitor_training_cost=False, monitor_training_accuracy=False,
          on_epoch=None, on_batch=None) -> tuple[Network, History]:
    """Build (or continue) a network as ``config`` says and train it; return (net, history).

    Initial weights come from ``config.seed`` and the mini-batch order from
    ``config.order_seed`` (or the seed), through independent streams, so two configs
    that differ only in cost, lmbda or eta share both. ``monitor_evaluation_accuracy``
    defaults to True when evaluation data is given.
    """
    init_rng, order_rng = rng_streams(config.seed, config.order_seed)
    if net is None:
        net = Network(config.sizes, config.cost, init=config.init, activation=config.activation,
                      dtype=config.dtype, rng=init_rng)
    if monitor_evaluation_accuracy is None:
        monitor_evaluation_accuracy = evaluation_data is not None
    history = sgd(net, training_data, config.epochs, config.mini_batch_size, config.eta, config.lmbda,
                  evaluation_data, monitor_evaluation_cost=monitor_evaluation_cost,
                  monitor_evaluation_accuracy=monitor_evaluation_accuracy,
                  monitor_training_cost=monitor_training_cost,
                  monitor_training_accuracy=monitor_training_accuracy,
                  rng=order_rng, on_epoch=on_epoch, on_batch=on_batch)
    return net, history
