"""The training loop: epochs, shuffling, windows of mini-batches, monitoring. It returns a history.

``fit(net, config, training, evaluation)`` reads everything it does from one ``TrainConfig``;
``train`` builds the network from the config first, and ``sgd`` (network2's signature) builds
a config from its arguments. The loop itself is apart from the pieces it calls:

* the update rule (``nndl.engine.rules``: gradient descent with its regularizer, momentum and
  dropout) takes the steps of each window of mini-batches the loop gathers;
* the augmenter (``nndl.augment``) gathers those rows, expanded and rotated if asked;
* the schedule and early stopping (``nndl.engine.schedules``) hear each epoch's validation
  accuracy and answer with a learning rate or a reason to stop.

It never prints: ``on_epoch`` and ``on_batch`` callbacks let the command line draw progress,
and ``should_stop`` (polled between windows, where the parameters are consistent) lets it
end a run early; the returned ``History`` then carries a ``state`` from which ``fit``
continues exactly where it stopped, mid-epoch included. BLAS runs on one thread inside the
loop unless the user set a thread count (``nndl.blas``), restored afterwards.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..augment import Augmenter
from ..blas import blas_threads
from ..checks import check_int
from ..config import Streams, TrainConfig, as_rng, training_streams
from .dropout import Dropout
from ..errors import ConfigError, DivergenceError
from ..examples import Examples
from .network import Network
from .rules import GradientDescent
from .schedules import EarlyStopping, make_schedule

PROBE_ROWS = 1000  # images the saturation monitor and the divergence check look at


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
    best_epoch: Optional[int] = None
    stopped: Optional[str] = None
    state: Optional[dict] = None

    @property
    def epochs(self) -> int:
        """Epochs completed."""
        return len(self.epoch_seconds)

    def as_tuple(self):
        """network2's return value: (evaluation_cost, evaluation_accuracy, training_cost, training_accuracy)."""
        return (self.evaluation_cost, self.evaluation_accuracy, self.training_cost, self.training_accuracy)

    def to_dict(self, state: bool = True) -> dict:
        """Plain JSON-ready values; ``state=False`` leaves out the continuation state."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()
                if state or k != "state"}

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
    eta: Optional[float] = None
    saturation: Optional[list] = None
    best_epoch: Optional[int] = None
    training_cost_without_regularization: Optional[float] = None
    evaluation_cost_without_regularization: Optional[float] = None


@dataclass(frozen=True)
class Monitor:
    """What to measure after each epoch (network2's four flags, and saturation)."""

    evaluation_cost: bool = False
    evaluation_accuracy: bool = False
    training_cost: bool = False
    training_accuracy: bool = False
    saturation: bool = False


def _check_finite(net: Network, epoch: int, eta: float) -> None:
    if not all(np.isfinite(p.value).all() for p in net.params):
        raise DivergenceError(f"training diverged in epoch {epoch}: the weights became nan or infinite "
                              f"(eta={eta:g}); try a smaller learning rate eta")


def _state_of(rng) -> dict | None:
    return None if rng is None else rng.bit_generator.state


def _restore(rng, state) -> None:
    if rng is not None and state is not None:
        rng.bit_generator.state = state


def _arrays(value, shapes, dtype, what):
    """Nested lists -> arrays of the given shapes (None stays None), else ``ConfigError``."""
    if value is None:
        return None
    try:
        out = [np.array(v, dtype) for v in value]
    except (TypeError, ValueError):
        out = None
    if out is not None and len(out) == len(shapes):   # a bias column (n, 1) as earlier versions saved it
        out = [a.reshape(shape) if a.shape == (*shape, 1) else a for a, shape in zip(out, shapes)]
    if out is None or [a.shape for a in out] != list(shapes) or not all(np.isfinite(a).all() for a in out):
        raise ConfigError(f"the saved training state is not valid: {what} does not match the network")
    return out


def _velocity_state(rule: GradientDescent, net: Network):
    """Momentum's velocity as plain lists: [those of the weights, those of the biases]."""
    if rule.velocity is None:
        return None
    pairs = list(zip(net.params, rule.velocity))
    return [[v.tolist() for p, v in pairs if p.decays], [v.tolist() for p, v in pairs if not p.decays]]


def _load_velocity(vel, net: Network) -> list:
    """Inverse of ``_velocity_state``: one array per parameter, in ``net.params``' order."""
    if not isinstance(vel, list) or len(vel) != 2:
        raise ConfigError("the saved training state is not valid: velocity does not match the network")
    parts = [[p for p in net.params if p.decays], [p for p in net.params if not p.decays]]
    arrays = [iter(_arrays(v, [p.value.shape for p in ps], net.dtype, "velocity")) for v, ps in zip(vel, parts)]
    return [next(arrays[0] if p.decays else arrays[1]) for p in net.params]


def _restore_state(state, net, n, m, streams, order_rng, schedule, stopper, rule) -> int:
    """Put the streams, schedule, early stopping and momentum back as ``state`` says; return the
    position in the epoch. A state that does not fit this run is a ``ConfigError``."""
    try:
        position = int(state["position"])
        window = getattr(rule.workspace(net, m), "rows", m)
        if not 0 <= position < n or position % window:
            raise ValueError(f"position {position} is not the start of a window in {n:,} rows")
        _restore(order_rng, state["order"])
        _restore(streams.dropout, state["dropout"])
        _restore(streams.augment, state["augment"])
        schedule.load(state["schedule"])
        rule.set_eta(schedule.eta)
        if stopper is not None and state.get("stopper"):
            stopper.load(state["stopper"])
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise ConfigError(f"the saved training state is not valid ({type(e).__name__}: {str(e)[:80]}); it "
                          f"belongs to another run or the file was changed") from None
    if state.get("velocity") is not None:
        rule.velocity = _load_velocity(state["velocity"], net)
    return position


def _probe(data: Examples, dtype) -> Examples:
    """The first ``PROBE_ROWS`` rows of ``data``, in the network's dtype."""
    k = min(PROBE_ROWS, len(data))
    return Examples(np.asarray(data.X[:k], dtype=dtype), data.labels[:k], data.targets[:k])


def _in_dtype(data: Examples, dtype) -> Examples:
    """``data`` with X in the network's dtype: converted once per run, not once per evaluation."""
    if data.X.dtype == dtype:
        return data
    return Examples(data.X.astype(dtype), data.labels, data.targets)


class _Stalled:
    """Divergence without nan: steps so large that every neuron saturates and the network
    sits at chance level while its weights stay finite (eta = 1e6 does that).

    After each epoch: if 99 % or more of the (image, neuron) pairs of the probe images are
    saturated and accuracy on them is no better than twice chance (nor than before
    training), training cannot recover: raise ``DivergenceError`` naming eta. (Needs two
    classes or more and 10 probe images or more, for "chance level" to mean something.)"""

    def __init__(self, net: Network, probe: Examples):
        self.net, self.probe = net, probe
        # chance level means something with two classes or more and enough images
        self.active = net.sizes[-1] >= 2 and len(probe) >= 10
        self.start = net.accuracy(probe) if self.active else 0

    def check(self, epoch: int, eta: float) -> None:
        if not self.active:
            return
        net, probe = self.net, self.probe
        layers = net.forward_layers(probe.X)
        acts = [(net.activation, a) for a in layers[1:-1]] or [(net.output, layers[-1])]
        saturated = np.mean([np.mean(act.prime_from_output(a) < 0.04 * act.prime_max) for act, a in acts])
        correct = int(np.count_nonzero(layers[-1].argmax(axis=1) == probe.labels))
        chance = len(probe) / net.sizes[-1]
        if saturated >= 0.99 and correct <= max(2 * chance, self.start):
            raise DivergenceError(
                f"training diverged in epoch {epoch}: {100 * saturated:.0f}% of the neurons are saturated and "
                f"{100 * correct / len(probe):.1f}% of {len(probe):,} training images are right, near chance "
                f"({100 / net.sizes[-1]:.0f}%) (eta={eta:g}): the steps were so large that the weights jumped to where the neurons no longer "
                f"learn; try a smaller learning rate eta (the book uses 0.5 with cross-entropy, 3.0 with the "
                f"quadratic cost)")


def _stopped(history: History, epoch: int, position: int, order_state, streams: Streams, schedule, stopper,
             rule: GradientDescent, best_params, reason: str | None = "interrupted", net=None) -> History:
    """Record in ``history`` why training stopped and the state ``fit`` continues from, after
    ``epoch`` epochs and ``position`` rows of the next (plain JSON values: a model file keeps it)."""
    history.stopped = reason
    history.state = {
        "epoch": epoch, "position": position, "order": order_state,
        "dropout": _state_of(streams.dropout), "augment": _state_of(streams.augment),
        "schedule": schedule.to_dict(), "stopper": stopper.to_dict() if stopper is not None else None,
        "velocity": _velocity_state(rule, net),
        "best": None if best_params is None else [p.tolist() for p in best_params],
    }
    return history


def fit(net: Network, config: TrainConfig, training_data, evaluation_data=None, *,
        monitor: Monitor = Monitor(), streams: Streams | None = None, history: History | None = None,
        on_epoch: Callable[[EpochReport], None] | None = None,
        on_batch: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> History:
    """Train ``net`` in place as ``config`` says; return the ``History`` (the given one, extended).

    ``config.epochs`` epochs are trained (an upper bound when a schedule or early stopping
    may end the run sooner). ``training_data`` and ``evaluation_data`` take any format of
    ``nndl.examples``; the evaluation data is the validation split, the only data that the
    schedule and early stopping decide on. ``streams`` (default: ``training_streams`` of the
    config's seeds) draw the order, dropout masks and rotations; the caller's data is never
    reordered. The last mini-batch of an epoch is shorter when m does not divide n, as in
    network2. ``on_batch(done, total)`` is called about a hundred times an epoch (at most
    once per window of mini-batches), the last time with done == total; ``on_epoch(report)``
    after each epoch. ``should_stop()`` is asked between windows: True ends the run there,
    with ``history.stopped == "interrupted"`` and a ``history.state`` that a later ``fit``
    with the same config, data and ``history`` continues from, to the same result as a run
    never stopped. Raises ``ConfigError`` for bad arguments (before any step) and
    ``DivergenceError`` if training diverges.
    """
    m = config.mini_batch_size
    train = net.examples(training_data, "training_data")
    watch = config.watches_validation
    wants_eval = monitor.evaluation_cost or monitor.evaluation_accuracy or watch
    if wants_eval and evaluation_data is None:
        needs = ("the learning-rate schedule and early stopping decide on validation accuracy"
                 if watch else "evaluation monitoring")
        raise ConfigError(f"{needs}: evaluation_data is needed, and it is None")
    evaluation = _in_dtype(net.examples(evaluation_data, "evaluation_data"), net.dtype) \
        if evaluation_data is not None else None
    streams = streams or training_streams(config.seed, config.order_seed)
    order_rng = as_rng(streams.order)
    augmenter = Augmenter(config.expand, config.rotate, len(train), net.sizes[0], streams.augment)
    n = augmenter.n                                                   # rows an epoch visits
    rule = GradientDescent(config.eta, config.lmbda, n, regularization=config.regularization,
                           momentum=config.momentum)
    rule.check_decay()
    schedule = make_schedule(config.schedule, config.eta, config.schedule_patience, config.schedule_divisor)
    stopper = EarlyStopping(config.early_stopping) if config.early_stopping is not None else None
    best_params = None
    history = history if history is not None else History()
    history.n_training, history.n_evaluation = len(train), len(evaluation) if evaluation is not None else 0
    probe_source = evaluation if evaluation is not None else train
    sat_probe = _probe(probe_source, net.dtype) if monitor.saturation else None
    stalled = _Stalled(net, _probe(train, net.dtype))

    state = history.state
    position = 0
    if state is not None:                                             # continue where it stopped
        position = _restore_state(state, net, n, m, streams, order_rng, schedule, stopper, rule)
        best_params = _arrays(state.get("best"), [p.value.shape for p in net.params], net.dtype, "best")
        history.state = None
    elif monitor.saturation and not history.saturation:
        history.saturation.append(net.saturation(sat_probe.X))        # before the first step

    n_batches = math.ceil(n / m)
    tick = max(1, n_batches // 100)
    done_epochs = history.epochs
    last = done_epochs + config.epochs          # a stopped epoch is the first of the epochs left
    history.stopped = None

    with blas_threads():
        ws = rule.workspace(net, m)         # a window of consecutive mini-batches, filled in order
        if config.dropout:
            rule.dropout = Dropout(config.dropout, streams.dropout, net.sizes, ws.rows, net.dtype)
        # float32 inputs of a float64 network are gathered in float32 and widened (exact)
        stage = None if train.X.dtype == ws.X.dtype else np.empty((ws.rows, train.X.shape[1]), train.X.dtype)
        epoch = done_epochs
        while epoch < last:
            epoch += 1
            if getattr(ws, "decay", rule.decay) != rule.decay:         # eta changed: new decay tables
                ws = rule.workspace(net, m)
            start = time.perf_counter()
            order_state = _state_of(order_rng)
            order = order_rng.permutation(n)                          # (n,)
            next_tick = tick
            lo = position
            position = 0
            stop = False
            with np.errstate(over="ignore", invalid="ignore"):
                while lo < n:
                    idx = order[lo:lo + ws.rows]                      # whole mini-batches, in order
                    rows = len(idx)
                    images = augmenter.images(idx)                    # (rows,) the images they show
                    if augmenter.identity:
                        if stage is None:
                            np.take(train.X, idx, axis=0, out=ws.X[:rows], mode="clip")   # (rows, n_in)
                        else:
                            ws.X[:rows] = np.take(train.X, idx, axis=0, out=stage[:rows], mode="clip")
                    else:
                        augmenter.gather(train.X, idx, ws.X[:rows], stage)
                    np.take(train.targets, images, axis=0, out=ws.T[:rows], mode="clip")  # (rows, n_out)
                    rule.step(net, ws, rows)
                    lo += rows
                    done = -(-lo // m)                                # mini-batches done
                    if on_batch is not None and (done >= next_tick or done == n_batches):
                        on_batch(done, n_batches)
                        next_tick = (done // tick + 1) * tick
                    if should_stop is not None and should_stop():
                        stop = True
                        if lo < n:                                    # mid-epoch: keep where it is
                            return _stopped(history, epoch - 1, lo, order_state, streams, schedule,
                                            stopper, rule, best_params, net=net)
                        break
            _check_finite(net, epoch, rule.eta)
            history.epoch_seconds.append(time.perf_counter() - start)
            history.eta.append(rule.eta)
            tc = ta = ec = ea = None
            reg, lm = rule.regularizer, config.lmbda
            if monitor.training_cost or monitor.training_accuracy:   # one forward pass for both
                tc, ta = net.evaluate(train, lm, cost=monitor.training_cost, accuracy=monitor.training_accuracy,
                                      regularizer=reg)
            if wants_eval:
                ec, ea = net.evaluate(evaluation, lm, cost=monitor.evaluation_cost,
                                      accuracy=monitor.evaluation_accuracy or watch, regularizer=reg)
            tc0 = None if tc is None else tc - reg.cost(net.decaying(), lm, len(train))
            ec0 = None if ec is None else ec - reg.cost(net.decaying(), lm, len(evaluation))
            for value, series in ((tc, history.training_cost), (ta, history.training_accuracy),
                                  (ec, history.evaluation_cost), (ea, history.evaluation_accuracy),
                                  (tc0, history.training_cost_without_regularization),
                                  (ec0, history.evaluation_cost_without_regularization)):
                if value is not None:
                    if not math.isfinite(value):
                        raise DivergenceError(f"training diverged in epoch {epoch}: the cost is {value}; "
                                              f"try a smaller learning rate eta (was {rule.eta:g})")
                    series.append(value)
            stalled.check(epoch, rule.eta)
            sat = net.saturation(sat_probe.X) if sat_probe is not None else None
            if sat is not None:
                history.saturation.append(sat)
            reason = schedule.epoch_ends(epoch, ea)
            if stopper is not None:
                improved, why = stopper.epoch_ends(epoch, ea)
                if improved:
                    best_params = [p.value.copy() for p in net.params]
                reason = reason or why
            history.best_epoch = schedule.watch.best_epoch or None
            rule.set_eta(schedule.eta)
            if on_epoch is not None:
                on_epoch(EpochReport(epoch, last, history.epoch_seconds[-1], tc, ta, ec, ea, len(train),
                                     history.n_evaluation, history.eta[-1], sat, history.best_epoch, tc0, ec0))
            if reason is not None:
                history.stopped = reason
                break
            if stop and epoch < last:                                 # stopped as an epoch ended
                return _stopped(history, epoch, 0, _state_of(order_rng), streams, schedule, stopper, rule,
                                best_params, net=net)
    if stopper is not None and best_params is not None:
        for p, best in zip(net.params, best_params):
            p.value[...] = best                                             # the best epoch's weights
    return _stopped(history, epoch, 0, _state_of(order_rng), streams, schedule, stopper, rule, best_params,
                    history.stopped, net=net)


def sgd(net: Network, training_data, epochs: int, mini_batch_size: int, eta: float, lmbda: float = 0.0,
        evaluation_data=None, *, monitor_evaluation_cost: bool = False,
        monitor_evaluation_accuracy: bool = False, monitor_training_cost: bool = False,
        monitor_training_accuracy: bool = False, rng=None,
        on_epoch: Callable[[EpochReport], None] | None = None,
        on_batch: Callable[[int, int], None] | None = None) -> History:
    """network2's ``SGD``: train ``net`` in place by mini-batch SGD with L2 decay; return the History.

    Builds the ``TrainConfig`` these arguments describe and runs ``fit``. The mini-batch
    order comes from ``rng`` (a Generator, a seed, or None for fresh entropy).
    """
    epochs = check_int("epochs", epochs, 0)
    config = TrainConfig(sizes=tuple(net.sizes), cost=net.cost.name, activation=net.activation.name,
                         epochs=epochs, mini_batch_size=mini_batch_size, eta=eta, lmbda=lmbda,
                         dtype=np.dtype(net.dtype).name)
    if (monitor_evaluation_cost or monitor_evaluation_accuracy) and evaluation_data is None:
        given = [n for n, v in (("monitor_evaluation_cost", monitor_evaluation_cost),
                                ("monitor_evaluation_accuracy", monitor_evaluation_accuracy)) if v]
        raise ConfigError(f"{' and '.join(given)}=True {'need' if len(given) > 1 else 'needs'} evaluation_data, "
                          f"which is None")
    monitor = Monitor(monitor_evaluation_cost, monitor_evaluation_accuracy, monitor_training_cost,
                      monitor_training_accuracy)
    return fit(net, config, training_data, evaluation_data, monitor=monitor,
               streams=Streams(None, as_rng(rng), None, None), on_epoch=on_epoch, on_batch=on_batch)


def train(config: TrainConfig, training_data, evaluation_data=None, *, net: Network | None = None,
          monitor_evaluation_cost=False, monitor_evaluation_accuracy=None,
          monitor_training_cost=False, monitor_training_accuracy=False, monitor_saturation=False,
          history: History | None = None, on_epoch=None, on_batch=None,
          should_stop=None) -> tuple[Network, History]:
    """Build (or continue) a network as ``config`` says and train it; return (net, history).

    Initial weights, mini-batch order, dropout and rotations come from independent streams
    of ``config.seed`` (``training_streams``; the order from ``config.order_seed`` if set),
    so two configs that differ only in cost, lmbda or eta share the weights and the order.
    ``monitor_evaluation_accuracy`` defaults to True when evaluation data is given.
    """
    streams = training_streams(config.seed, config.order_seed)
    if net is None:
        net = Network(config.sizes, config.cost, init=config.init, activation=config.activation,
                      dtype=config.dtype, rng=streams.init)
    if monitor_evaluation_accuracy is None:
        monitor_evaluation_accuracy = evaluation_data is not None
    monitor = Monitor(monitor_evaluation_cost, monitor_evaluation_accuracy, monitor_training_cost,
                      monitor_training_accuracy, monitor_saturation)
    history = fit(net, config, training_data, evaluation_data, monitor=monitor, streams=streams,
                  history=history, on_epoch=on_epoch, on_batch=on_batch, should_stop=should_stop)
    return net, history
