"""``nndl train``: flags onto ``TrainConfig``, a bar per epoch, Ctrl-C saves, ``--resume`` continues.

Every hyperparameter flag defaults to None here, so that "given" and "not given" differ:
a new run fills the gaps from ``TrainConfig()`` (the seed's section 5.1), a resumed run
from the config stored in the model file. A resumed run draws the mini-batch orders the
uninterrupted run would have drawn next, so ``--epochs 2`` then ``--resume --epochs 1``
gives the same weights as ``--epochs 3``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nndl.activations import ACTIVATIONS
from nndl.config import DTYPES, TrainConfig, rng_streams
from nndl.costs import COSTS, get_cost
from nndl.errors import ConfigError, ModelFileError
from nndl.initializers import INITIALIZERS
from nndl.network import Network
from nndl.fileio import check_writable
from nndl.limits import MAX_EPOCHS
from nndl.memory import require, training_estimate
from nndl.serialization import load_for_resume, save
from nndl.training import EpochReport, History, sgd

from .common import (DATASET_HELP, UsageError, bars_wanted, check_fits, count, describe, describe_data,
                     interrupt_status, interrupt_word, load_data, say, sigint_held)

INTERRUPTED = "nndl-interrupted.json"  # where Ctrl-C saves when neither --save nor --resume is given
MONITORS = ("evaluation-accuracy", "evaluation-cost", "training-accuracy", "training-cost")
FIELDS = ("sizes", "cost", "init", "activation", "eta", "lmbda", "epochs", "mini_batch_size", "seed",
          "order_seed", "dtype")  # the TrainConfig fields that have a flag of the same name
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
        description="Train a sigmoid network by mini-batch SGD with L2 regularization, as network2.py\n"
                    "does: one line per epoch, the test accuracy at the end. Evaluation data (for\n"
                    "--monitor) is the validation split; the test split is used once, at the end.",
        epilog=f"Ctrl-C (or SIGTERM) stops training, saves the model trained so far (weights,\n"
               f"config and history) to --save, else to the --resume file, else to ./{INTERRUPTED}\n"
               f"(./nndl-interrupted-2.json... if that exists: never overwritten), and exits with\n"
               f"status 130 (143 for SIGTERM). Continue it with: nndl train --resume PATH")
    hp = p.add_argument_group("hyperparameters (defaults: nndl.TrainConfig, the seed's section 5.1; "
                              "with --resume: the model's saved config)")
    hp.add_argument("--sizes", type=sizes_arg, metavar="N,N,...",
                    help=f"layer sizes, input first (default {','.join(map(str, d.sizes))})")
    hp.add_argument("--cost", choices=list(COSTS), help=f"cost function (default {d.cost})")
    hp.add_argument("--init", choices=list(INITIALIZERS),
                    help=f"initial weights: 'default' N(0, 1/n_in), 'large' N(0, 1) (default {d.init})")
    hp.add_argument("--activation", choices=list(ACTIVATIONS), help=f"neuron (default {d.activation})")
    hp.add_argument("--eta", type=float, metavar="X", help=f"learning rate > 0 (default {d.eta:g})")
    hp.add_argument("--lmbda", type=float, metavar="X",
                    help=f"L2 regularization strength >= 0 (default {d.lmbda:g})")
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


def _resumed(path: str, overrides: dict) -> tuple[Network, TrainConfig, History, dict | None]:
    """The saved network, its config (the defaults of this run), its history and resume state."""
    net, saved, history, resume = load_for_resume(path)
    try:
        base = TrainConfig.from_dict(saved) if saved is not None else TrainConfig(
            sizes=tuple(net.sizes), cost=net.cost.name, activation=net.activation.name,
            dtype=np.dtype(net.dtype).name)  # a file written by the book's network2: no config
        past = History.from_dict(history) if history is not None else History()
    except (ConfigError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: its saved config or history is not valid: {e}") from None
    if not all(isinstance(v, list) for v in past.as_tuple() + (past.epoch_seconds,)):
        raise ModelFileError(f"{path}: its saved history is not valid: every series must be a list")
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
    return net, base, past, resume


class Reporter:
    """on_batch / on_epoch for ``sgd``: a tqdm bar within each epoch, one line after it.

    Also appends each epoch's numbers to ``history``, so a Ctrl-C can save them too.
    """

    def __init__(self, history: History, last: int, *, bars: bool, lines: bool):
        self.history, self.last = history, last  # the epoch in progress is history.epochs + 1
        self.bars, self.lines = bars, lines
        self.bar: tqdm | None = None

    def on_batch(self, done: int, total: int) -> None:
        if not self.bars:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=f"epoch {self.history.epochs + 1}/{self.last}", unit="batch",
                            file=sys.stderr, leave=False, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def on_epoch(self, r: EpochReport) -> None:
        self.close()
        h = self.history
        for value, series in ((r.evaluation_cost, h.evaluation_cost), (r.evaluation_accuracy, h.evaluation_accuracy),
                              (r.training_cost, h.training_cost), (r.training_accuracy, h.training_accuracy)):
            if value is not None:
                series.append(value)
        h.epoch_seconds.append(r.seconds)
        if self.lines:
            parts = [f"epoch {h.epochs}/{self.last}"]
            if r.evaluation_accuracy is not None:
                parts.append(f"evaluation accuracy {count(r.evaluation_accuracy, r.n_evaluation)}")
            if r.evaluation_cost is not None:
                parts.append(f"evaluation cost {r.evaluation_cost:.4f}")
            if r.training_accuracy is not None:
                parts.append(f"training accuracy {count(r.training_accuracy, r.n_training)}")
            if r.training_cost is not None:
                parts.append(f"training cost {r.training_cost:.4f}")
            parts.append(f"{r.seconds:.1f}s")
            tqdm.write("  ".join(parts), file=sys.stdout)
            sys.stdout.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args) -> int:
    """Build (or resume) the network, train it with a reporter, save, print the test accuracy.

    Returns 0, or 130 after Ctrl-C (143 after SIGTERM); the model trained so far is saved first.
    """
    overrides = {f: getattr(args, f) for f in FIELDS if getattr(args, f) is not None}
    resume = None
    if args.resume:
        net, base, history, resume = _resumed(args.resume, overrides)
        done = history.epochs
        if "epochs" not in overrides and base.epochs - done <= 0:
            raise UsageError(f"{args.resume} has already trained all {base.epochs} epochs of its run; "
                             f"give --epochs N to train N more")
        config = _make_config(base, {**overrides, "epochs": overrides.get("epochs", base.epochs - done)})
        same_order = (config.seed, config.order_seed) == (base.seed, base.order_seed)
    else:
        net, history, done = None, History(), 0
        config = _make_config(TrainConfig(), overrides)
        same_order = False
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
    mini_batch = _check_fits_memory(config, data)
    init_rng, order_rng = rng_streams(config.seed, config.order_seed)
    if net is None:
        net = Network(config.sizes, config.cost, init=config.init, activation=config.activation,
                      dtype=config.dtype, rng=init_rng)  # what nndl.train builds from the config
    check_fits(net, data.training.images, "training", args.resume or "the model")
    _restore_order(order_rng, done, resume if same_order else None, len(data.training))
    point = ResumePoint(order_rng, done)
    history.n_training, history.n_evaluation = len(data.training), len(data.validation)

    wants = set(args.monitor)
    reporter = Reporter(history, done + config.epochs, bars=bars, lines=not args.quiet)
    if not args.quiet:
        c = config
        print(f"data: {describe_data(data)}")
        print(f"network {'-'.join(map(str, net.sizes))}: {c.cost} cost, {c.init} init, {c.dtype}; eta {c.eta:g}, "
              f"lmbda {c.lmbda:g}, mini-batch {c.mini_batch_size}, seed {c.seed}; "
              + (f"resuming {args.resume} after epoch {done}; " if args.resume else "")
              + (f"epochs {done + 1}-{done + c.epochs}" if c.epochs > 1 else
                 f"epoch {done + 1}" if c.epochs == 1 else "0 epochs"),
              flush=True)

    def on_epoch(report):
        point.epoch_done()
        reporter.on_epoch(report)

    meta = {"config": saved_config, "history": history, "dataset": args.dataset}
    try:
        sgd(net, data.training, config.epochs, mini_batch, config.eta, config.lmbda,
            data.validation if wants & {"evaluation-accuracy", "evaluation-cost"} else None,
            monitor_evaluation_accuracy="evaluation-accuracy" in wants,
            monitor_evaluation_cost="evaluation-cost" in wants,
            monitor_training_accuracy="training-accuracy" in wants,
            monitor_training_cost="training-cost" in wants,
            rng=order_rng, on_epoch=on_epoch, on_batch=reporter.on_batch)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (Terminated)
        reporter.close()
        return _save_after_interrupt(net, save_to, stop, resume=point.as_dict(), **meta)
    finally:
        reporter.close()

    if save_to:
        with sigint_held(defer=True):
            save(net, save_to, resume=point.as_dict(), **meta)
        say(f"saved the model to {save_to}")
    print(f"test accuracy: {count(net.accuracy(data.test), len(data.test))}", flush=True)
    return 0


# --- saving, resuming, signals and sizes (issue 12), apart from the training flags ----------------

REPLAY_NOTE = 5 * 10**6  # permutation entries (~7 s): replaying more than this earns a note


def _save_target(args) -> str | None:
    """Where the model goes at the end: --save, else the --resume file; checked now, before training.

    A path that cannot be written (a folder, a missing or read-only parent) is an error now,
    not after an hour of training; ``--save ''`` is a usage error, not "don't save".
    """
    if args.save is not None and not args.save.strip():
        raise UsageError(f"argument --save: an empty path {args.save!r}; give a file name, such as model.json")
    target = args.save or args.resume
    if target:
        check_writable(target)
    return target


def _check_epochs(config: TrainConfig, done: int) -> None:
    if done + config.epochs > MAX_EPOCHS:
        what = f"{done:,} done and {config.epochs:,} more" if done else f"{config.epochs:,}"
        raise UsageError(f"argument --epochs: {what} is more than the {MAX_EPOCHS:,} epochs a run may have in "
                         f"all (the book trains 30; its 30 epochs of MNIST take about half a minute here)")


def _check_fits_memory(config: TrainConfig, data) -> int:
    """Refuse a run whose estimated memory exceeds what is available; warn for a mini-batch larger
    than the training set. Returns the mini-batch size to train with: ``min(m, n)``, the same
    steps (one per epoch over all n images when m >= n) without buffers sized for m."""
    n, m = len(data.training), config.mini_batch_size
    if m > n:
        say(f"nndl: warning: --mini-batch-size {m:,} is larger than the {n:,} training images: each epoch is "
            f"one gradient step on all of them (as with --mini-batch-size {n:,})")
    estimate = training_estimate(config.sizes, min(m, n), n, max(len(data.validation), len(data.test)),
                                 itemsize=np.dtype(config.dtype).itemsize)
    layers = ",".join(map(str, config.sizes))
    require(estimate, f"training --sizes {layers if len(layers) <= 60 else layers[:60] + '...'} with mini-batch "
                      f"{min(m, n):,}", hint="; use fewer or smaller hidden layers")
    return min(m, n)


class ResumePoint:
    """The mini-batch order's state after the last complete epoch, saved with the model.

    ``--resume`` sets the order generator to it and draws the next epoch's order at once,
    where replaying every earlier epoch's permutation took minutes for a long history.
    """

    def __init__(self, order_rng: np.random.Generator, epochs: int):
        self.rng, self.epochs = order_rng, epochs
        self.state = order_rng.bit_generator.state

    def epoch_done(self) -> None:
        self.epochs += 1
        self.state = self.rng.bit_generator.state

    def as_dict(self) -> dict:
        return {"epochs": self.epochs, "order_rng": self.state}


def _restore_order(order_rng: np.random.Generator, done: int, resume: dict | None, n: int) -> None:
    """Continue the saved run's mini-batch orders: from its saved state, else by drawing the
    ``done`` orders its epochs used (files written before the state was saved, or by network2)."""
    if resume is not None and resume["epochs"] == done:
        order_rng.bit_generator.state = resume["order_rng"]
        return
    if done * n > REPLAY_NOTE:
        say(f"nndl: note: replaying the mini-batch orders of {done:,} earlier epochs (this file has no saved "
            f"order; files saved by this nndl resume at once)")
    for _ in range(done):
        order_rng.permutation(n)


def _save_after_interrupt(net, save_to: str | None, stop: BaseException, **meta) -> int:
    """Save what was trained, say where and how to resume; 130 (Ctrl-C) or 143 (SIGTERM).

    Without --save or --resume the file is ./nndl-interrupted.json, or -2, -3... when taken:
    a second interrupted run never overwrites the first one's model.
    """
    word, status = interrupt_word(stop), interrupt_status(stop)
    k = meta["history"].epochs
    try:
        with sigint_held():
            path = save(net, save_to or INTERRUPTED, exclusive=save_to is None, **meta)
    except OSError as e:
        say(f"nndl: {word} in epoch {k + 1}; the model could NOT be saved: {describe(e)}")
        return status
    say(f"nndl: {word} in epoch {k + 1}; saved the model ({k} complete epoch{'' if k == 1 else 's'} "
        f"and part of the next) to {path}")
    say(f"nndl: continue with: nndl train --resume {path}")
    return status
