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
import math
import signal
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nndl.augment import EXPANSIONS
from nndl.config import TrainConfig, check_sizes_fit, flag_of
from nndl.data import DATASETS
from nndl.engine.costs import get_cost
from nndl.engine.describe import check_stack, step_values
from nndl.engine.history import MONITORS, EpochReport, History, Monitor, monitor_name
from nndl.engine.network import Network
from nndl.engine.training import train
from nndl.errors import ConfigError, ModelFileError, OutputError
from nndl.fileio import check_output
from nndl.limits import MAX_EPOCHS
from nndl.memory import Estimate, require, training_estimate
from nndl.serialization import load_with_metadata, save

from .common import (
    DATASET_HELP,
    UsageError,
    add_config_flags,
    bars_wanted,
    count,
    describe,
    describe_data,
    load_data,
    say,
    sigint_held,
)

INTERRUPTED = "nndl-interrupted.json"  # where Ctrl-C saves when neither --save nor --resume is given
ARCHITECTURE = ("sizes", "cost", "init", "activation", "dtype", "layers")  # fixed once a model exists


def monitor_arg(text: str) -> tuple[str, ...]:
    """'evaluation_accuracy,training_cost' -> the names (hyphens or underscores); 'none' -> ()."""
    names = tuple(monitor_name(s) for s in text.split(",") if s.strip())
    if names in ((), ("none",)):
        return ()
    bad = [n for n in names if n not in MONITORS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(map(repr, bad))}; choose from {', '.join(MONITORS)} (comma-separated), or none"
        )
    return names


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``train``: one flag per TrainConfig field, defaults None (meaning: not given)."""
    p = subparsers.add_parser(
        "train",
        help="train a network (network2's SGD) and report test accuracy",
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
        f"nndl train --resume PATH",
    )
    hp = p.add_argument_group(
        "hyperparameters",
        "defaults: nndl.TrainConfig, the book's chapter 3 network as section 5.1 of\n"
        "the Level 3 document runs it; with --resume: the model's saved config",
    )
    bt = p.add_argument_group("beyond Level 3: the rest of the book's chapter 3 (all off by default)")
    add_config_flags(lambda name, doc: bt if doc.beyond else hp)
    g = p.add_argument_group("data and output")
    g.add_argument("--dataset", default="mnist", metavar="NAME|PATH.npz", help=DATASET_HELP + " (default mnist)")
    g.add_argument(
        "--data-dir", metavar="DIR", help="data root for mnist/fashion (default: $NNDL_DATA_DIR or ~/.cache/nndl)"
    )
    g.add_argument(
        "--monitor",
        type=monitor_arg,
        default=("evaluation_accuracy",),
        metavar="WHAT,...",
        help=f"what to report each epoch, comma-separated from {', '.join(MONITORS)}, "
        f"or none (default evaluation_accuracy; evaluation = the validation split)",
    )
    g.add_argument(
        "--save",
        metavar="PATH",
        help="write the model, its config and history here (JSON, atomically) at the end "
        "(default with --resume: back to the resumed file; else not saved)",
    )
    g.add_argument(
        "--resume",
        metavar="PATH",
        help="continue training a saved model; its config supplies the defaults (--epochs: "
        "what is left of the saved run's epochs), and flags that change its architecture "
        "(sizes, cost, init, activation, dtype) are an error",
    )
    g.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also write the run's per-epoch accuracies, costs and histograms of each layer's "
        "weights and z for TensorBoard, in DIR/<time>_<config>; view with: tensorboard "
        "--logdir DIR (needs pip install 'nndl[tensorboard]')",
    )
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars and no per-epoch lines (bars are also off when stderr is not a terminal)",
    )
    p.set_defaults(run=run)
    return p


def _make_config(base: TrainConfig, changes: dict) -> TrainConfig:
    """``base`` with ``changes``; a rejected value becomes a usage error naming its flag."""
    try:
        return base.replace(**changes)
    except ConfigError as e:
        raise _usage(e) from None


def _usage(e: ConfigError, where: str | None = None) -> UsageError:
    """A ``ConfigError`` as the command line says it: its field's flag (or ``where``), then the detail."""
    if where is None and e.field is None:
        return UsageError(str(e))
    return UsageError(f"{where or 'argument ' + flag_of(e.field)}: {e.detail}")


def _resumed(path: str, overrides: dict) -> tuple:
    """The saved network, its config (the defaults of this run), its history, and whether the
    file recorded a config at all (the book's network2.py saves none)."""
    net, saved, history = load_with_metadata(path)
    try:
        base = (
            TrainConfig.from_dict(saved)
            if saved is not None
            else TrainConfig(
                sizes=tuple(net.sizes),
                cost=net.cost.name,
                activation=net.activation.name,
                dtype=np.dtype(net.dtype).name,
            )
        )  # a file written by the book's network2: no config
        past = History.from_dict(history) if history is not None else History()
    except (ConfigError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: its saved config or history is not valid: {e}") from None
    if not all(isinstance(v, list) for v in past.as_tuple() + (past.epoch_seconds, past.eta, past.saturation)):
        raise ModelFileError(f"{path}: its saved history is not valid: every series must be a list")
    if past.state is not None and not isinstance(past.state, dict):
        raise ModelFileError(f"{path}: its saved history is not valid: state must be an object")
    if (base.layer_specs() != net.specs() if base.layers else tuple(base.sizes) != tuple(net.sizes)) or get_cost(
        base.cost
    ) is not net.cost:
        raise ModelFileError(
            f"{path}: its saved config (sizes {list(base.sizes)}, cost {base.cost}) does "
            f"not match its network (sizes {net.sizes}, cost {net.cost.name})"
        )
    show = {"sizes": lambda v: ",".join(map(str, v)), "cost": lambda v: get_cost(v).name}
    for field in ARCHITECTURE:
        if field not in overrides:
            continue
        given = show.get(field, str)(overrides[field])
        kept = show.get(field, str)(getattr(base, field))
        if given != kept:
            raise UsageError(
                f"argument --{field}: {given} conflicts with {path}, which has {field} {kept}; "
                f"a resumed model keeps its {field}: leave out --{field}, or drop --resume "
                f"to train a new model"
            )
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
            self.bar = tqdm(
                total=total,
                desc=f"epoch {self.epoch + 1}/{self.last}",
                unit="batch",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
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
    """Parse -> config -> data -> train -> save -> print: ``nndl train`` from top to bottom.

    Returns 0; 130 after Ctrl-C and 143 after SIGTERM (the model trained so far is saved first).
    """
    given = {
        name: value for name, value in vars(args).items() if name in TrainConfig.field_docs() and value is not None
    }
    net, history, config, recorded = _config(args, given)
    _check_untrained_save(config, args)
    save_to = _save_target(args)
    if args.tensorboard is not None:
        check_tensorboard(args.tensorboard)
    done, whole = history.epochs, config.replace(epochs=history.epochs + config.epochs)  # whole: for a resume
    data = load_data(args.dataset, args.data_dir, bars=bars_wanted(args.quiet))
    fit_config = _fits(config, data, args)  # the same run, with a mini-batch of at most n
    if not args.quiet:
        print(f"data: {describe_data(data)}")
        print(_summary(config, args, done, recorded), flush=True)
    net, history, stop = _train(args, fit_config, data, net, history)
    if history.stopped == "interrupted":
        return _interrupted(args, net, history, stop, save_to, whole, fit_config, data)
    if history.stopped:
        say(f"nndl: training stopped after epoch {history.epochs}: {history.stopped}")
    if save_to:
        with sigint_held(defer=True):
            save(net, save_to, config=whole, history=history, dataset=args.dataset)
        say(f"saved the model to {save_to}")
    print(f"test accuracy: {count(net.accuracy(data.test), len(data.test))}", flush=True)
    return 0


def _config(args, given: dict) -> tuple:
    """(the resumed network or None, its history, the config of this run, whether the model
    file recorded a config): the flags given over ``TrainConfig()`` or over the --resume file's."""
    if not args.resume:
        config = _make_config(TrainConfig(), given)
        _check_epochs(config, 0)
        return None, History(), config, True
    net, base, history, recorded = _resumed(args.resume, given)
    done = history.epochs
    if "epochs" not in given and base.epochs - done <= 0:
        raise UsageError(
            f"{args.resume} has already trained all {base.epochs} epochs of its run; give --epochs N to train N more"
        )
    config = _make_config(base, {**given, "epochs": given.get("epochs", base.epochs - done)})
    _check_epochs(config, done)
    return net, history, config, recorded


def _fits(config: TrainConfig, data, args) -> TrainConfig:
    """The layer sizes fit the data (a resumed model's or the flags'), and the run fits in memory."""
    try:
        check_sizes_fit(config.sizes, data)
    except ConfigError as e:
        raise _usage(e, args.resume if args.resume and args.sizes is None else None) from None
    return _check_fits_memory(config, data)


def _summary(c: TrainConfig, args, done: int, recorded: bool) -> str:
    """The line that says what is trained: the network, its hyperparameters, the epochs."""
    extra = "; ".join(c.techniques())
    # a file saved by the book's network2.py records no config: say so, and claim no seed or init
    origin = (f"{c.init} init, " if recorded else "") + f"{c.dtype}; "
    shape = (
        f"{c.layers} -> {c.sizes[-1]}" if c.layers else f"{'-'.join(map(str, c.sizes))}: {c.activation} hidden neurons"
    )
    return (
        f"network {shape}, {c.cost} cost, {origin}"
        f"eta {c.eta:g}, lmbda {c.lmbda:g}, mini-batch {c.mini_batch_size}"
        + (f", seed {c.seed}; " if recorded else "; ")
        + (
            ""
            if recorded
            else f"{args.resume} records no training config (as network2.py saves it): its weights, then the defaults; "
        )
        + (f"{extra}; " if extra else "")
        + (f"resuming {args.resume} after epoch {done}; " if args.resume else "")
        + (
            f"epochs {done + 1}-{done + c.epochs}"
            if c.epochs > 1
            else f"epoch {done + 1}"
            if c.epochs == 1
            else "0 epochs"
        )
    )


def _train(args, config: TrainConfig, data, net, history: History):
    """``nndl.train`` with a bar per epoch, a line after it, and Ctrl-C / SIGTERM asking it to stop."""
    wants = set(args.monitor) | ({"evaluation_accuracy"} if config.watches_validation else set())
    evaluation = data.validation if wants & {"evaluation_accuracy", "evaluation_cost", "saturation"} else None
    reporter = Reporter(
        history.epochs + config.epochs,
        bars=bars_wanted(args.quiet),
        lines=not args.quiet,
        eta0=history.eta[0] if history.eta else config.eta,
    )
    stop = StopRequest()
    board = None
    if args.tensorboard is not None:  # step 0 is the initial network: built here as train would build it
        from nndl.tensorboard import initial_network

        net = net if net is not None else initial_network(config)
        board = _tensorboard(args, config, net, data, history.epochs)
    on_epoch = reporter.on_epoch if board is None else (lambda r: (board.on_epoch(r), reporter.on_epoch(r)))
    try:
        with stop.installed():
            net, history = train(
                config,
                data.training,
                evaluation,
                net=net,
                history=history,
                monitor=Monitor.named(wants),
                on_epoch=on_epoch,
                on_batch=reporter.on_batch,
                should_stop=stop,
            )
    finally:
        reporter.close()
        if board is not None:
            board.close()
    return net, history, stop


def _interrupted(args, net, history: History, stop, save_to, whole: TrainConfig, config: TrainConfig, data) -> int:
    """After Ctrl-C or SIGTERM: save the model and where the run was, say how to continue."""
    k, state, m = history.epochs, history.state, config.mini_batch_size
    n_rows = len(data.training) * EXPANSIONS[config.expand].factor
    part = (
        f"after {math.ceil(state['position'] / m):,} of {math.ceil(n_rows / m):,} mini-batches"
        if state["position"]
        else "at its start"
    )
    word = "terminated (SIGTERM)" if stop.signal == signal.SIGTERM else "interrupted"
    path = _save_after_interrupt(
        net, save_to, f"nndl: {word} in epoch {k + 1} {part}", config=whole, history=history, dataset=args.dataset
    )
    if path is not None:
        say(
            f"nndl: {word} in epoch {k + 1} {part}; saved the model ({k} complete epoch"
            f"{'' if k == 1 else 's'}, and where the run was) to {path}"
        )
        say(f"nndl: continue with: nndl train --resume {path}  (it carries on exactly where it stopped)")
    return 143 if stop.signal == signal.SIGTERM else 130


# --- saving and sizes, apart from the training flags ------------------------------------


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


def _check_untrained_save(config: TrainConfig, args) -> None:
    """0 epochs with --save would write a network nothing trained: refused, or (resuming) a warning."""
    if config.epochs == 0 and args.save:
        if not args.resume:
            raise UsageError(
                f"argument --epochs: 0 epochs would save an untrained network to {args.save}; "
                f"give --epochs 1 or more, or leave out --save"
            )
        say(f"nndl: warning: --epochs 0: nothing is trained; {args.save} gets {args.resume}'s network unchanged")


def _check_epochs(config: TrainConfig, done: int) -> None:
    if done + config.epochs > MAX_EPOCHS:
        what = f"{done:,} done and {config.epochs:,} more" if done else f"{config.epochs:,}"
        raise UsageError(
            f"argument --epochs: {what} is more than the {MAX_EPOCHS:,} epochs a run may have in "
            f"all (the book trains 30; its 30 epochs of MNIST take about half a minute here)"
        )


def _check_fits_memory(config: TrainConfig, data) -> TrainConfig:
    """Refuse a run whose estimated memory exceeds what is available; warn for a mini-batch larger
    than the training set. Returns the config to train with: the mini-batch capped at n, the
    same steps (one per epoch over all n images when m >= n) without buffers sized for m."""
    n, m = len(data.training), config.mini_batch_size
    if m > n:
        say(
            f"nndl: warning: --mini-batch-size {m:,} is larger than the {n:,} training images: each epoch is "
            f"one gradient step on all of them (as with --mini-batch-size {n:,})"
        )
    itemsize = np.dtype(config.dtype).itemsize
    if config.layers:  # a conv net: its parameters and step buffers, by arithmetic
        specs = config.layer_specs()
        params = check_stack(config.in_shape(), specs)
        estimate = Estimate(
            {
                "weights, gradients and their copies": 4 * params * itemsize,
                "a mini-batch's buffers": min(m, n) * step_values(config.in_shape(), specs) * itemsize,
                "the images": data.training.images.nbytes,
            }
        )
        require(
            estimate,
            f"training --layers {config.layers[:60]} with mini-batch {min(m, n):,}",
            hint="; use fewer maps, smaller layers or a smaller --mini-batch-size",
        )
        return config if m <= n else config.replace(mini_batch_size=n)
    estimate = training_estimate(
        config.sizes, min(m, n), n, max(len(data.validation), len(data.test)), itemsize=itemsize
    )
    layers = ",".join(map(str, config.sizes))
    require(
        estimate,
        f"training --sizes {layers if len(layers) <= 60 else layers[:60] + '...'} with mini-batch {min(m, n):,}",
        hint="; use fewer or smaller hidden layers",
    )
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


# --- --tensorboard: the run's event files, through nndl.tensorboard ---------------------------------


def check_tensorboard(logdir: str) -> None:
    """Before any data is loaded: tensorboardX is installed and DIR can be a folder."""
    from nndl.tensorboard import require

    if not logdir.strip():
        raise UsageError(f"argument --tensorboard: an empty path {logdir!r}; give a folder, such as runs")
    if Path(logdir).exists() and not Path(logdir).is_dir():
        raise UsageError(
            f"argument --tensorboard: {logdir} is a file; give a folder (each run gets a folder of its own inside it)"
        )
    require()


def _tensorboard(args, config: TrainConfig, net: Network, data, done: int):
    """The writer of this run's event files, in a new folder of --tensorboard; says where."""
    from nndl.tensorboard import TensorBoardWriter, run_folder, run_name

    folder = run_folder(args.tensorboard, run_name(config))
    board = TensorBoardWriter(folder, net, data.validation.images, start=done)
    if not args.quiet:
        print(f"tensorboard: writing to {folder} (view with: tensorboard --logdir {args.tensorboard})", flush=True)
    return board
