"""The training loop: epochs, shuffling, windows of mini-batches, monitoring. It returns a history.

``fit(net, config, training, evaluation)`` reads everything it does from one ``TrainConfig``
(whose architecture must be ``net``'s); ``train`` builds the network from the config first,
and ``sgd`` (network2's signature) builds a config from its arguments. ``fit`` reads top to
bottom - a window of steps, then measure, then decide - and asks small objects for the rest:

* the update rule (``nndl.engine.rules``: gradient descent with its regularizer, momentum and
  dropout) takes the steps of each window of mini-batches the loop gathers;
* the augmenter (``nndl.augment``) gathers those rows, expanded, rotated and distorted if asked;
* the schedule and early stopping (``nndl.engine.schedules``) hear each epoch's validation
  accuracy and answer with a learning rate or a reason to stop;
* ``RunState`` (``nndl.engine.runstate``) holds all that must survive a stop (``state_dict()``
  / ``load_state_dict()``); the ``History`` it returns and the ``EpochReport`` it sends after
  each epoch are in ``nndl.engine.history``.

Arguments of ``fit``: ``training_data`` and ``evaluation_data`` take any format of
``nndl.examples``; the evaluation data is the validation split, the only data that the
schedule and early stopping decide on. ``monitor`` says what to measure after each epoch.
``streams`` (default: ``training_streams`` of the config's seeds) draw the order, dropout
masks and rotations; the caller's data is never reordered. The last mini-batch of an epoch
is shorter when m does not divide n, as in network2.

It never prints: ``on_batch(done, total)`` is called about a hundred times an epoch (at most
once per window of mini-batches), the last time with done == total, and ``on_epoch(report)``
after each epoch, so the command line can draw progress. ``should_stop()`` is asked between
windows, where the parameters are consistent: True ends the run there, with
``history.stopped == "interrupted"`` and a ``history.state`` from which a later ``fit`` with
the same config, data and history continues, to the same result as a run never stopped
(mid-epoch included). BLAS runs on one thread inside the loop unless the user set a thread
count (``nndl.blas``), restored afterwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from ..augment import Augmenter, get_expansion
from ..blas import blas_threads
from ..checks import check_int
from ..config import Streams, TrainConfig, as_rng, training_streams
from ..errors import ConfigError, DivergenceError, quote
from ..examples import Examples
from .costs import get_cost
from .dropout import Dropout, dropping_layers
from .history import EpochReport, History, Monitor
from .network import Network
from .rules import GradientDescent
from .runstate import RunState
from .schedules import EarlyStopping, make_schedule

PROBE_ROWS = 1000  # images the saturation monitor and the divergence check look at


def _check_finite(net: Network, epoch: int, eta: float) -> None:
    if not all(np.isfinite(p.value).all() for p in net.params):
        raise DivergenceError(
            f"training diverged in epoch {epoch}: the weights became nan or infinite "
            f"(eta={eta:g}); try a smaller learning rate eta"
        )


def check_architecture(net: Network, config: TrainConfig) -> None:
    """Refuse a config that describes another network than ``net`` (its sizes, cost, hidden
    activation, dtype or layers): training would go on, and the saved file would record the
    config's architecture for the network's weights. The ``ConfigError`` names the field."""
    given = {
        "sizes": list(config.sizes),
        "cost": get_cost(config.cost).name,
        "activation": config.activation,
        "dtype": np.dtype(config.dtype).name,
        "layers": config.layer_specs(),
    }
    held = {
        "sizes": list(net.sizes),
        "cost": net.cost.name,
        "activation": net.activation.name,
        "dtype": np.dtype(net.dtype).name,
        "layers": net.specs(),
    }
    if config.layers:  # a described stack: its layers say what sizes and activation would
        given["sizes"], held["sizes"] = [config.sizes[0], config.sizes[-1]], [net.sizes[0], net.sizes[-1]]
        del given["activation"], held["activation"]
    for name in given:
        if given[name] != held[name]:
            detail = (
                f"the config says {quote(given[name])}, but the network given has {quote(held[name])}; "
                f"train with a config of this network's architecture (its {name} is fixed once it exists)"
            )
            raise ConfigError(f"{name}: {detail}", field=name, detail=detail)


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
                f"quadratic cost)"
            )


class _Run:
    """What one call of ``fit`` works with: the checked data, the rule and its workspace, the
    gathering of windows, the measurements after each epoch, and the ``RunState``."""

    def __init__(
        self,
        net: Network,
        config: TrainConfig,
        training_data,
        evaluation_data,
        monitor: Monitor,
        streams: Streams | None,
        history: History | None,
    ):
        self.net, self.config, self.monitor, self.m = net, config, monitor, config.mini_batch_size
        self.train = net.examples(training_data, "training_data")
        self.watch = config.watches_validation
        self.wants_eval = monitor.evaluation_cost or monitor.evaluation_accuracy or self.watch
        if self.wants_eval and evaluation_data is None:
            needs = (
                "the learning-rate schedule and early stopping decide on validation accuracy"
                if self.watch
                else "evaluation monitoring"
            )
            raise ConfigError(f"{needs}: evaluation_data is needed, and it is None", field="evaluation_data")
        self.evaluation = (
            _in_dtype(net.examples(evaluation_data, "evaluation_data"), net.dtype)
            if evaluation_data is not None
            else None
        )
        streams = streams or training_streams(config.seed, config.order_seed)
        self.augmenter = Augmenter(
            config.expand, config.rotate, len(self.train), net.sizes[0], streams.augment, config.elastic
        )
        self.n = self.augmenter.n  # rows an epoch visits
        self.rule = GradientDescent(
            config.eta, config.lmbda, self.n, regularization=config.regularization, momentum=config.momentum
        )
        self.rule.check_decay()
        schedule = make_schedule(config.schedule, config.eta, config.schedule_patience, config.schedule_divisor)
        stopper = EarlyStopping(config.early_stopping) if config.early_stopping is not None else None
        self.history = history = history if history is not None else History()
        history.n_training = len(self.train)
        history.n_evaluation = len(self.evaluation) if self.evaluation is not None else 0
        probe_source = self.evaluation if self.evaluation is not None else self.train
        self.sat_probe = _probe(probe_source, net.dtype) if monitor.saturation else None
        self.stalled = _Stalled(net, _probe(self.train, net.dtype))
        self.ws = self.rule.workspace(net, self.m)  # a window of consecutive mini-batches, filled in order
        self.state = RunState(net, self.rule, schedule, stopper, streams, self.n, self.ws.rows, history.epochs)
        if history.state is not None:  # continue where it stopped
            self.state.load_state_dict(history.state)
            history.state = None
        elif monitor.saturation and not history.saturation:
            history.saturation.append(net.saturation(self.sat_probe.X))  # before the first step
        if config.dropout:
            where = dropping_layers(config.dropout_on, [layer.kind for layer in net.layers])
            self.rule.dropout = Dropout(config.dropout, streams.dropout, net.sizes, self.ws.rows, net.dtype, where)
        # float32 inputs of a float64 network are gathered in float32 and widened (exact)
        X = self.train.X
        self.stage = None if X.dtype == self.ws.X.dtype else np.empty((self.ws.rows, X.shape[1]), X.dtype)
        self.n_batches = math.ceil(self.n / self.m)
        self.tick = max(1, self.n_batches // 100)
        self.last = history.epochs + config.epochs  # a stopped epoch is the first of the epochs left
        history.stopped = None

    def begin_epoch(self) -> np.ndarray:
        """Start the epoch in progress: a workspace for the current eta, the clock, its order (n,)."""
        if not self.rule.fits(self.ws):  # eta changed: new decay tables
            self.ws = self.rule.workspace(self.net, self.m)
        self.start = time.perf_counter()
        self.next_tick = self.tick
        return self.state.permutation()

    def gather(self, idx: np.ndarray) -> int:
        """Fill the workspace with the rows ``idx`` of the epoch's order (whole mini-batches)."""
        ws, train, rows = self.ws, self.train, len(idx)
        images = self.augmenter.images(idx)  # (rows,) the images they show
        if self.augmenter.identity and self.stage is None:
            np.take(train.X, idx, axis=0, out=ws.X[:rows], mode="clip")  # (rows, n_in)
        elif self.augmenter.identity:
            ws.X[:rows] = np.take(train.X, idx, axis=0, out=self.stage[:rows], mode="clip")
        else:
            self.augmenter.gather(train.X, idx, ws.X[:rows], self.stage)
        np.take(train.targets, images, axis=0, out=ws.T[:rows], mode="clip")  # (rows, n_out)
        return rows

    def progress(self, on_batch) -> None:
        """Tell ``on_batch`` about a hundred times an epoch (and at its end) how far it is."""
        done = -(-self.state.position // self.m)  # mini-batches done
        if on_batch is not None and (done >= self.next_tick or done == self.n_batches):
            on_batch(done, self.n_batches)
            self.next_tick = (done // self.tick + 1) * self.tick

    def end_epoch(self) -> tuple[EpochReport, str | None]:
        """After an epoch's steps: check, measure, record, and ask the schedule and early
        stopping; the report for ``on_epoch`` and the reason to stop (None: go on)."""
        state, history, net, rule = self.state, self.history, self.net, self.rule
        state.epoch, state.position = state.epoch + 1, 0
        epoch = state.epoch
        _check_finite(net, epoch, rule.eta)
        history.epoch_seconds.append(time.perf_counter() - self.start)
        history.eta.append(rule.eta)
        tc, ta, ec, ea, tc0, ec0 = self.measure(epoch)
        self.stalled.check(epoch, rule.eta)
        sat = net.saturation(self.sat_probe.X) if self.sat_probe is not None else None
        if sat is not None:
            history.saturation.append(sat)
        reason = state.schedule.epoch_ends(epoch, ea)
        if state.stopper is not None:
            improved, why = state.stopper.epoch_ends(epoch, ea)
            if improved:
                state.keep_best()
            reason = reason or why
        history.best_epoch = state.schedule.watch.best_epoch or None
        rule.set_eta(state.schedule.eta)
        return EpochReport(
            epoch,
            self.last,
            history.epoch_seconds[-1],
            tc,
            ta,
            ec,
            ea,
            len(self.train),
            history.n_evaluation,
            history.eta[-1],
            sat,
            history.best_epoch,
            tc0,
            ec0,
        ), reason

    def measure(self, epoch: int) -> tuple:
        """The monitored costs and accuracies after ``epoch``, recorded in the history; a
        non-finite cost is a ``DivergenceError``. (tc, ta, ec, ea, tc0, ec0), None where not asked."""
        net, monitor, history, reg, lm = self.net, self.monitor, self.history, self.rule.regularizer, self.config.lmbda
        tc = ta = ec = ea = None
        if monitor.training_cost or monitor.training_accuracy:  # one forward pass for both
            tc, ta = net.evaluate(
                self.train, lm, cost=monitor.training_cost, accuracy=monitor.training_accuracy, regularizer=reg
            )
        if self.wants_eval:
            ec, ea = net.evaluate(
                self.evaluation,
                lm,
                cost=monitor.evaluation_cost,
                accuracy=monitor.evaluation_accuracy or self.watch,
                regularizer=reg,
            )
        tc0 = None if tc is None else tc - reg.cost(net.decaying(), lm, len(self.train))
        ec0 = None if ec is None else ec - reg.cost(net.decaying(), lm, len(self.evaluation))
        for value, series in (
            (tc, history.training_cost),
            (ta, history.training_accuracy),
            (ec, history.evaluation_cost),
            (ea, history.evaluation_accuracy),
            (tc0, history.training_cost_without_regularization),
            (ec0, history.evaluation_cost_without_regularization),
        ):
            if value is not None:
                if not math.isfinite(value):
                    raise DivergenceError(
                        f"training diverged in epoch {epoch}: the cost is {value}; "
                        f"try a smaller learning rate eta (was {self.rule.eta:g})"
                    )
                series.append(value)
        return tc, ta, ec, ea, tc0, ec0

    def finish(self, interrupted: bool) -> History:
        """The history, with the state a later ``fit`` continues from; after a whole run with early
        stopping the network holds the best epoch's weights (not after an interruption)."""
        state, history = self.state, self.history
        if interrupted:
            history.stopped = "interrupted"
        elif state.stopper is not None and state.best is not None:
            for p, best in zip(self.net.params, state.best):
                p.value[...] = best  # the best epoch's weights
        history.state = state.state_dict()
        return history


def fit(
    net: Network,
    config: TrainConfig,
    training_data,
    evaluation_data=None,
    *,
    monitor: Monitor = Monitor(),  # noqa: B008 - frozen, never changed
    streams: Streams | None = None,
    history: History | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> History:
    """Train ``net`` in place as ``config`` says (``config.epochs`` more epochs at most); return
    the ``History`` (the given one, extended). The module docstring says what each argument does;
    a config of another architecture than ``net``'s, or bad data, is a ``ConfigError`` before
    any step, and a diverging run a ``DivergenceError``."""
    check_architecture(net, config)
    run = _Run(net, config, training_data, evaluation_data, monitor, streams, history)
    state, stop = run.state, False
    with blas_threads():
        while state.epoch < run.last and not stop:
            order = run.begin_epoch()  # (n,)
            with np.errstate(over="ignore", invalid="ignore"):
                while state.position < run.n and not stop:  # a window of whole mini-batches
                    rows = run.gather(order[state.position : state.position + run.ws.rows])
                    run.rule.step(net, run.ws, rows)
                    state.position += rows
                    run.progress(on_batch)
                    stop = should_stop is not None and bool(should_stop())
            if state.position < run.n:
                break  # stopped mid-epoch
            report, reason = run.end_epoch()
            if on_epoch is not None:
                on_epoch(report)
            if reason is not None:
                run.history.stopped = reason
                break
    return run.finish(interrupted=stop and run.history.stopped is None and state.epoch < run.last)


def sgd(
    net: Network,
    training_data,
    epochs: int,
    mini_batch_size: int,
    eta: float,
    lmbda: float = 0.0,
    evaluation_data=None,
    *,
    monitor_evaluation_cost: bool = False,
    monitor_evaluation_accuracy: bool = False,
    monitor_training_cost: bool = False,
    monitor_training_accuracy: bool = False,
    rng=None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> History:
    """network2's ``SGD``: train ``net`` in place by mini-batch SGD with L2 decay; return the History.

    Builds the ``TrainConfig`` these arguments describe and runs ``fit``. The mini-batch
    order comes from ``rng`` (a Generator, a seed, or None for fresh entropy).
    """
    epochs = check_int("epochs", epochs, 0)
    config = TrainConfig(
        sizes=tuple(net.sizes),
        cost=net.cost.name,
        activation=net.activation.name,
        epochs=epochs,
        mini_batch_size=mini_batch_size,
        eta=eta,
        lmbda=lmbda,
        dtype=np.dtype(net.dtype).name,
    )
    if (monitor_evaluation_cost or monitor_evaluation_accuracy) and evaluation_data is None:
        given = [
            n
            for n, v in (
                ("monitor_evaluation_cost", monitor_evaluation_cost),
                ("monitor_evaluation_accuracy", monitor_evaluation_accuracy),
            )
            if v
        ]
        raise ConfigError(
            f"{' and '.join(given)}=True {'need' if len(given) > 1 else 'needs'} evaluation_data, which is None"
        )
    monitor = Monitor(
        monitor_evaluation_cost, monitor_evaluation_accuracy, monitor_training_cost, monitor_training_accuracy
    )
    return fit(
        net,
        config,
        training_data,
        evaluation_data,
        monitor=monitor,
        streams=Streams(None, as_rng(rng), None, None),
        on_epoch=on_epoch,
        on_batch=on_batch,
    )


def train(
    config: TrainConfig,
    training_data,
    evaluation_data=None,
    *,
    net: Network | None = None,
    monitor_evaluation_cost=False,
    monitor_evaluation_accuracy=None,
    monitor_training_cost=False,
    monitor_training_accuracy=False,
    monitor_saturation=False,
    monitor: Monitor | None = None,
    history: History | None = None,
    on_epoch=None,
    on_batch=None,
    should_stop=None,
) -> tuple[Network, History]:
    """Build (or continue) a network as ``config`` says and train it; return (net, history).

    Initial weights, mini-batch order, dropout and rotations come from independent streams
    of ``config.seed`` (``training_streams``; the order from ``config.order_seed`` if set),
    so two configs that differ only in cost, lmbda or eta share the weights and the order.
    ``monitor_evaluation_accuracy`` defaults to True when evaluation data is given; a
    ``monitor`` given replaces the ``monitor_*`` flags. A ``history`` of epochs run without a
    saved state (a file of network2's, or one saved without it) continues the order stream as
    if those epochs had been run here.
    """
    streams = training_streams(config.seed, config.order_seed)
    if net is None:
        net = network_for(config, streams.init)
    if history is not None and history.epochs and history.state is None:
        training_data = net.examples(training_data, "training_data")
        rows = len(training_data) * get_expansion(config.expand).factor
        for _ in range(history.epochs):
            streams.order.permutation(rows)  # (rows,) the epochs run before
    if monitor is None:
        if monitor_evaluation_accuracy is None:
            monitor_evaluation_accuracy = evaluation_data is not None
        monitor = Monitor(
            monitor_evaluation_cost,
            monitor_evaluation_accuracy,
            monitor_training_cost,
            monitor_training_accuracy,
            monitor_saturation,
        )
    history = fit(
        net,
        config,
        training_data,
        evaluation_data,
        monitor=monitor,
        streams=streams,
        history=history,
        on_epoch=on_epoch,
        on_batch=on_batch,
        should_stop=should_stop,
    )
    return net, history


def network_for(config: TrainConfig, rng=None) -> Network:
    """The network ``config`` describes, its initial weights drawn from ``rng`` (``train`` gives
    the config's own initial-weights stream): the stack of ``config.layers`` (a conv net), else
    network2's dense network of ``config.sizes``."""
    if config.layers:
        return Network.stack(
            config.in_shape(), config.layer_specs(), config.cost, init=config.init, dtype=config.dtype, rng=rng
        )
    return Network(
        config.sizes, config.cost, init=config.init, activation=config.activation, dtype=config.dtype, rng=rng
    )
