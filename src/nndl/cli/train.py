"""``nndl train``: flags onto ``TrainConfig``, a bar per epoch, Ctrl-C saves, ``--resume`` continues.

Every ``TrainConfig`` field has a flag of the same name, and every flag defaults to None
here, so that "given" and "not given" differ: a new run fills the gaps from
``TrainConfig()`` (the Level 3 document's section 5.1), a resumed run from the config stored
in the model file. Ctrl-C (or SIGTERM) asks the loop to stop at the next window of
mini-batches, where the weights are consistent, and the model file keeps where the run was
(``History.state``: the position in the epoch, the random streams, the schedule, momentum's
velocity); ``--resume`` continues from there, so an interrupted and resumed run ends with the
same weights as one never interrupted, and ``--epochs 2`` then ``--resume --epochs 1`` gives
the same weights as ``--epochs 3``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import signal
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nndl.activations import ACTIVATIONS
from nndl.augment import EXPANSIONS
from nndl.config import DTYPES, TrainConfig, training_streams
from nndl.costs import COSTS, get_cost
from nndl.data import DATASETS
from nndl.errors import ConfigError, ModelFileError, OutputError
from nndl.initializers import INITIALIZERS
from nndl.network import Network
from nndl.regularizers import REGULARIZERS
from nndl.schedules import SCHEDULES
from nndl.fileio import check_output
from nndl.limits import MAX_EPOCHS
from nndl.memory import require, training_estimate
from nndl.serialization import load_with_metadata, save
from nndl.training import EpochReport, History, Monitor, fit

from .common import (DATASET_HELP, UsageError, bars_wanted, check_fits, count, describe, describe_data,
                     load_data, say, sigint_held)

INTERRUPTED = "nndl-interrupted.json"  # where Ctrl-C saves when neither --save nor --resume is given
MONITORS = ("evaluation-accuracy", "evaluation-cost", "training-accuracy", "training-cost", "saturation")
FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))  # each has a flag of the same name
ARCHITECTURE = ("sizes", "cost", "init", "activation", "dtype")  # fixed once a model exists


def sizes_arg(text: str) -> tuple[int, ...]:
    """'784,100,10' -> (784, 100, 10); argparse prints the ArgumentTypeError's message."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected at least 2 positive integers separated by commas, "
                                         f"such as 784,100,10; got {text!r}")
    return sizes


def monitor_arg(text: str) -> tuple[str, ...]:
    """'evaluation-accuracy,training-cost' -> the names; 'none' -> ()."""
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    if names in ((), ("none",)):
        return ()
    bad = [n for n in names if n not in MONITORS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(map(repr, bad))}; choose from "
                                         f"{', '.join(MONITORS)} (comma-separated), or none")
    return names


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``train``: one flag per TrainConfig field, defaults None (meaning: not given)."""
    d = TrainConfig()
    p = subparsers.add_parser(
        "train", help="train a network (network2's SGD) and report test accuracy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a network by mini-batch SGD with L2 regularization, as network2.py\n"
                    "does (chapter 3 of \"Neural Networks and Deep Learning\"): one line per\n"
                    "epoch, the test accuracy at the end. The rest of chapter 3 (softmax, L1,\n"
                    "dropout, momentum, tanh and ReLU neurons, the eta schedule, early stopping,\n"
                    "expanded data) is under 'beyond Level 3'. Evaluation data (for --monitor)\n"
                    "is the validation split; the test split is used once, at the end.",
        epilog=f"Ctrl-C (or SIGTERM) stops training, saves the model trained so far (weights,\n"
               f"config and history) to --save, else to the --resume file, else to\n"
               f"./{INTERRUPTED} (./nndl-interrupted-2.json... if that exists: never\n"
               f"overwritten), and exits with status 130 (143 for SIGTERM). Continue it with:\n"
               f"nndl train --resume PATH")
    hp = p.add_argument_group("hyperparameters",
                              "defaults: nndl.TrainConfig, the book's chapter 3 network as section 5.1 of\n"
                              "the Level 3 document runs it; with --resume: the model's saved config")
    hp.add_argument("--sizes", type=sizes_arg, metavar="N,N,...",
                    help=f"layer sizes, input first (default {','.join(map(str, d.sizes))})")
    hp.add_argument("--cost", choices=list(COSTS),
                    help=f"cost function; log-likelihood comes with a softmax output layer (default {d.cost})")
    hp.add_argument("--init", choices=list(INITIALIZERS),
                    help=f"initial weights: 'default' N(0, 1/n_in), 'large' N(0, 1), 'he' N(0, 2/n_in) "
                         f"for relu (default {d.init})")
    hp.add_argument("--activation", choices=list(ACTIVATIONS),
                    help=f"hidden neurons (default {d.activation}); tanh takes --init default, relu "
                         f"--init he (N(0, 2/n_in))")
    hp.add_argument("--eta", type=float, metavar="X", help=f"learning rate > 0 (default {d.eta:g})")
    hp.add_argument("--lmbda", type=float, metavar="X",
                    help=f"regularization strength >= 0 (default {d.lmbda:g})")
    hp.add_argument("--epochs", type=int, metavar="N",
                    help=f"epochs to train (default {d.epochs}; with --resume: what is left of the "
                         f"saved run's epochs)")
    hp.add_argument("--mini-batch-size", type=int, metavar="N",
                    help=f"examples per gradient step (default {d.mini_batch_size})")
    hp.add_argument("--seed", type=int, metavar="N",
                    help=f"seed of the initial weights and of the mini-batch order (default {d.seed})")
    hp.add_argument("--order-seed", type=int, metavar="N",
                    help="seed of the mini-batch order alone (default: derived from --seed)")
    hp.add_argument("--dtype", choices=list(DTYPES),
                    help=f"float64 is exact; float32 about twice as fast (default {d.dtype})")
    bt = p.add_argument_group("beyond Level 3: the rest of the book's chapter 3 (all off by default)")
    bt.add_argument("--regularization", choices=list(REGULARIZERS),
                    help=f"l2: w <- (1 - eta*lmbda/n) w; l1: w <- w - (eta*lmbda/n) sgn(w) (default "
                         f"{d.regularization})")
    bt.add_argument("--momentum", type=float, metavar="MU",
                    help="momentum mu in [0, 1): v <- mu v - eta grad C, w <- w + v (default 0: plain SGD)")
    bt.add_argument("--dropout", type=float, metavar="P",
                    help="drop each hidden neuron with probability P in [0, 1) per example and step "
                         "(inverted dropout: the trained network is used unscaled; default 0)")
    bt.add_argument("--schedule", choices=list(SCHEDULES),
                    help="halve: halve eta after --schedule-patience epochs without a better validation "
                         "accuracy, stop at eta/--schedule-divisor (the book's schedule; default constant)")
    bt.add_argument("--schedule-patience", type=int, metavar="N",
                    help=f"epochs without improvement before halving (default {d.schedule_patience})")
    bt.add_argument("--schedule-divisor", type=float, metavar="X",
                    help=f"stop once eta has fallen to eta/X (default {d.schedule_divisor:g})")
    bt.add_argument("--early-stopping", type=int, metavar="N",
                    help="stop after N epochs without a better validation accuracy and keep the best "
                         "epoch's weights (default: off)")
    bt.add_argument("--expand", choices=list(EXPANSIONS),
                    help="shifts: train on each image and its four one-pixel shifts, as the book's "
                         "expand_mnist.py (5x the data, made as it is used; default none)")
    bt.add_argument("--rotate", type=float, metavar="DEG",
                    help="also turn each training image by a random angle up to DEG degrees (default 0)")
    g = p.add_argument_group("data and output")
    g.add_argument("--dataset", default="mnist", metavar="NAME|PATH.npz", help=DATASET_HELP + " (default mnist)")
    g.add_argument("--data-dir", metavar="DIR",
                   help="data root for mnist/fashion (default: $NNDL_DATA_DIR or ~/.cache/nndl)")
    g.add_argument("--monitor", type=monitor_arg, default=("evaluation-accuracy",), metavar="WHAT,...",
                   help=f"what to report each epoch, comma-separated from {', '.join(MONITORS)}, "
                        f"or none (default evaluation-accuracy; evaluation = the validation split)")
    g.add_argument("--save", metavar="PATH",
                   help="write the model, its config and history here (JSON, atomically) at the end "
                        "(default with --resume: back to the resumed file; else not saved)")
    g.add_argument("--resume", metavar="PATH",
                   help="continue training a saved model; its config supplies the defaults, and "
                        "flags that change its architecture (sizes, cost, init, activation, dtype) "
                        "are an error")
    g.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bars and no per-epoch lines (bars are also off when stderr "
                        "is not a terminal)")
    p.set_defaults(run=run)
    return p


def _make_config(base: TrainConfig, changes: dict) -> TrainConfig:
    """``base`` with ``changes``; a rejected value becomes a usage error naming its flag."""
    try:
        return base.replace(**changes)
    except ConfigError as e:
        msg = str(e)
        for field in sorted(FIELDS, key=len, reverse=True):
            if msg.startswith(field + " "):
                msg = f"argument --{field.replace('_', '-')}: {msg[len(field) + 1:]}"
                break
        raise UsageError(msg) from None


def _resumed(path: str, overrides: dict) -> tuple[Network, TrainConfig, History, bool]:
    """The saved network, its config (the defaults of this run), its history, and whether the
    file recorded a config at all (the book's network2.py saves none)."""
    net, saved, history = load_with_metadata(path)
    try:
        base = TrainConfig.from_dict(saved) if saved is not None else TrainConfig(
            sizes=tuple(net.sizes), cost=net.cost.name, activation=net.activation.name,
            dtype=np.dtype(net.dtype).name)  # a file written by the book's network2: no config
        past = History.from_dict(history) if history is not None else History()
    except (ConfigError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: its saved config or history is not valid: {e}") from None
    if not all(isinstance(v, list) for v in past.as_tuple() + (past.epoch_seconds, past.eta, past.saturation)):
        raise ModelFileError(f"{path}: its saved history is not valid: every series must be a list")
    if past.state is not None and not isinstance(past.state, dict):
        raise ModelFileError(f"{path}: its saved history is not valid: state must be an object")
    if tuple(base.sizes) != tuple(net.sizes) or get_cost(base.cost) is not net.cost:
        raise ModelFileError(f"{path}: its saved config (sizes {list(base.sizes)}, cost {base.cost}) does "
                             f"not match its network (sizes {net.sizes}, cost {net.cost.name})")
    show = {"sizes": lambda v: ",".join(map(str, v)), "cost": lambda v: get_cost(v).name}
    for field in ARCHITECTURE:
        if field not in overrides:
            continue
        given = show.get(field, str)(overrides[field])
        kept = show.get(field, str)(getattr(base, field))
        if given != kept:
            raise UsageError(f"argument --{field}: {given} conflicts with {path}, which has {field} {kept}; "
                             f"a resumed model keeps its {field}: leave out --{field}, or drop --resume "
                             f"to train a new model")
    return net, base, past, saved is not None


class Reporter:
    """on_batch / on_epoch for ``fit``: a tqdm bar within each epoch, one line after it."""

    def __init__(self, last: int, *, bars: bool, lines: bool, eta0: float | None = None):
        self.last, self.eta0 = last, eta0
        self.bars, self.lines = bars, lines
        self.bar: tqdm | None = None
        self.epoch = 0  # the epoch in progress is self.epoch + 1

    def on_batch(self, done: int, total: int) -> None:
        if not self.bars:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=f"epoch {self.epoch + 1}/{self.last}", unit="batch",
                            file=sys.stderr, leave=False, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def on_epoch(self, r: EpochReport) -> None:
        self.close()
        self.epoch = r.epoch
        if self.lines:
            parts = [f"epoch {r.epoch}/{self.last}"]
            if r.evaluation_accuracy is not None:
                parts.append(f"evaluation accuracy {count(r.evaluation_accuracy, r.n_evaluation)}")
            if r.evaluation_cost is not None:
                parts.append(f"evaluation cost {r.evaluation_cost:.4f}")
            if r.training_accuracy is not None:
                parts.append(f"training accuracy {count(r.training_accuracy, r.n_training)}")
            if r.training_cost is not None:
                parts.append(f"training cost {r.training_cost:.4f}")
            if r.saturation:
                parts.append("saturated " + "/".join(f"{100 * s:.0f}%" for s in r.saturation))
            if r.eta is not None and r.eta != self.eta0:
                parts.append(f"eta {r.eta:g}")
            parts.append(f"{r.seconds:.1f}s")
            tqdm.write("  ".join(parts), file=sys.stdout)
            sys.stdout.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class StopRequest:
    """While training, Ctrl-C (SIGINT) and SIGTERM ask the loop to stop at the next window of
    mini-batches (``fit``'s ``should_stop``), where the weights are consistent, instead of
    raising in the middle of a step. Outside the ``with`` block the handlers are the old ones."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signal: int | None = None

    def __call__(self) -> bool:
        return self.signal is not None

    @contextlib.contextmanager
    def installed(self):
        def ask(signum, _frame):
            self.signal = signum

        old = {}
        try:
            for sig in self.SIGNALS:
                old[sig] = signal.signal(sig, ask)
        except ValueError:  # not the main thread: Ctrl-C stays a KeyboardInterrupt
            pass
        try:
            yield self
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)


def run(args) -> int:
    """Build (or resume) the network, train it with a reporter, save, print the test accuracy.

    Returns 0; 130 after Ctrl-C and 143 after SIGTERM (the model trained so far is saved first).
    """
    overrides = {f: getattr(args, f) for f in FIELDS if getattr(args, f, None) is not None}
    if args.resume:
        net, base, history, recorded = _resumed(args.resume, overrides)
        done = history.epochs
        if "epochs" not in overrides and base.epochs - done <= 0:
            raise UsageError(f"{args.resume} has already trained all {base.epochs} epochs of its run; "
                             f"give --epochs N to train N more")
        config = _make_config(base, {**overrides, "epochs": overrides.get("epochs", base.epochs - done)})
    else:
        net, history, done, recorded = None, History(), 0, True
        config = _make_config(TrainConfig(), overrides)
    _check_epochs(config, done)
    save_to = _save_target(args)
    saved_config = config.replace(epochs=done + config.epochs)  # the whole schedule, for a later resume

    bars = bars_wanted(args.quiet)
    data = load_data(args.dataset, args.data_dir, bars=bars)
    if config.sizes[0] != data.training.images.shape[1]:
        raise UsageError(f"argument --sizes: the first layer must have {data.training.images.shape[1]} "
                         f"neurons, one per pixel of the images, got {config.sizes[0]}")
    n_classes = int(max(data.training.labels.max(), data.test.labels.max())) + 1
    if config.sizes[-1] < n_classes:
        raise UsageError(f"argument --sizes: the last layer must have {n_classes} neurons, one per "
                         f"class, got {config.sizes[-1]}")
    fit_config = _check_fits_memory(config, data)  # the same run, with a mini-batch of at most n
    streams = training_streams(config.seed, config.order_seed)
    if net is None:
        net = Network(config.sizes, config.cost, init=config.init, activation=config.activation,
                      dtype=config.dtype, rng=streams.init)  # what nndl.train builds from the config
    check_fits(net, data.training.images, "training", args.resume or "the model")
    if done and history.state is None:  # a file without a saved state: continue the order sequence
        n_rows = len(data.training) * EXPANSIONS[config.expand].factor
        for _ in range(done):
            streams.order.permutation(n_rows)

    wants = set(args.monitor)
    if config.watches_validation:
        wants.add("evaluation-accuracy")  # the schedule and early stopping decide on it
    reporter = Reporter(done + config.epochs, bars=bars, lines=not args.quiet,
                        eta0=history.eta[0] if history.eta else config.eta)
    if not args.quiet:
        c = config
        extra = "; ".join(c.techniques())
        # a file saved by the book's network2.py records no config: say so, and claim no seed or init
        origin = (f"{c.init} init, " if recorded else "") + f"{c.dtype}; "
        print(f"data: {describe_data(data)}")
        print(f"network {'-'.join(map(str, net.sizes))}: {c.activation} hidden neurons, {c.cost} cost, {origin}"
              f"eta {c.eta:g}, lmbda {c.lmbda:g}, mini-batch {c.mini_batch_size}"
              + (f", seed {c.seed}; " if recorded else "; ")
              + ("" if recorded else f"{args.resume} records no training config (as network2.py saves it): its "
                                     f"weights, then the defaults; ")
              + (f"{extra}; " if extra else "")
              + (f"resuming {args.resume} after epoch {done}; " if args.resume else "")
              + (f"epochs {done + 1}-{done + c.epochs}" if c.epochs > 1 else
                 f"epoch {done + 1}" if c.epochs == 1 else "0 epochs"),
              flush=True)
    monitor = Monitor(evaluation_cost="evaluation-cost" in wants, evaluation_accuracy="evaluation-accuracy" in wants,
                      training_cost="training-cost" in wants, training_accuracy="training-accuracy" in wants,
                      saturation="saturation" in wants)
    evaluation = data.validation if wants & {"evaluation-accuracy", "evaluation-cost", "saturation"} else None
    stop = StopRequest()
    try:
        with stop.installed():
            fit(net, fit_config, data.training, evaluation, monitor=monitor, streams=streams, history=history,
                on_epoch=reporter.on_epoch, on_batch=reporter.on_batch, should_stop=stop)
    finally:
        reporter.close()

    if history.stopped == "interrupted":
        k, state, m = history.epochs, history.state, fit_config.mini_batch_size
        n_rows = len(data.training) * EXPANSIONS[config.expand].factor
        part = (f"after {math.ceil(state['position'] / m):,} of {math.ceil(n_rows / m):,} mini-batches"
                if state["position"] else "at its start")
        word = "terminated (SIGTERM)" if stop.signal == signal.SIGTERM else "interrupted"
        path = _save_after_interrupt(net, save_to, f"nndl: {word} in epoch {k + 1} {part}",
                                     config=saved_config, history=history, dataset=args.dataset)
        if path is not None:
            say(f"nndl: {word} in epoch {k + 1} {part}; saved the model ({k} complete epoch"
                f"{'' if k == 1 else 's'}, and where the run was) to {path}")
            say(f"nndl: continue with: nndl train --resume {path}  (it carries on exactly where it stopped)")
        return 143 if stop.signal == signal.SIGTERM else 130
    if history.stopped:
        say(f"nndl: training stopped after epoch {history.epochs}: {history.stopped}")
    if save_to:
        with sigint_held(defer=True):
            save(net, save_to, config=saved_config, history=history, dataset=args.dataset)
        say(f"saved the model to {save_to}")
    print(f"test accuracy: {count(net.accuracy(data.test), len(data.test))}", flush=True)
    return 0


# --- saving and sizes (issue 12), apart from the training flags ------------------------------------

def _save_target(args) -> str | None:
    """Where the model goes at the end: --save, else the --resume file; checked now, before training.

    A path that cannot be written (a folder, a missing or read-only parent) is an error now,
    not after an hour of training; ``--save ''`` is a usage error, not "don't save".
    """
    if args.save is not None and not args.save.strip():
        raise UsageError(f"argument --save: an empty path {args.save!r}; give a file name, such as model.json")
    target = args.save or args.resume
    if target:
        try:  # the data set is an input: a model saved onto it would destroy it (the resumed file is read whole first)
            check_output(target, [args.dataset] if args.dataset not in DATASETS else [])
        except OutputError as e:
            raise UsageError(f"argument --save: {describe(e)}") from None
    return target


def _check_epochs(config: TrainConfig, done: int) -> None:
    if done + config.epochs > MAX_EPOCHS:
        what = f"{done:,} done and {config.epochs:,} more" if done else f"{config.epochs:,}"
        raise UsageError(f"argument --epochs: {what} is more than the {MAX_EPOCHS:,} epochs a run may have in "
                         f"all (the book trains 30; its 30 epochs of MNIST take about half a minute here)")


def _check_fits_memory(config: TrainConfig, data) -> TrainConfig:
    """Refuse a run whose estimated memory exceeds what is available; warn for a mini-batch larger
    than the training set. Returns the config to train with: the mini-batch capped at n, the
    same steps (one per epoch over all n images when m >= n) without buffers sized for m."""
    n, m = len(data.training), config.mini_batch_size
    if m > n:
        say(f"nndl: warning: --mini-batch-size {m:,} is larger than the {n:,} training images: each epoch is "
            f"one gradient step on all of them (as with --mini-batch-size {n:,})")
    estimate = training_estimate(config.sizes, min(m, n), n, max(len(data.validation), len(data.test)),
                                 itemsize=np.dtype(config.dtype).itemsize)
    layers = ",".join(map(str, config.sizes))
    require(estimate, f"training --sizes {layers if len(layers) <= 60 else layers[:60] + '...'} with mini-batch "
                      f"{min(m, n):,}", hint="; use fewer or smaller hidden layers")
    return config if m <= n else config.replace(mini_batch_size=n)


def _save_after_interrupt(net, save_to: str | None, what: str, **meta) -> Path | None:
    """Save what was trained after Ctrl-C or SIGTERM; the path written, or None (said why).

    Without --save or --resume the file is ./nndl-interrupted.json, or -2, -3... when taken:
    a second interrupted run never overwrites the first one's model.
    """
    try:
        with sigint_held():
            return save(net, save_to or INTERRUPTED, exclusive=save_to is None, **meta)
    except OSError as e:
        say(f"{what}; the model could NOT be saved: {describe(e)}")
        return None
