"""A training run as TensorBoard sees it: scalars per epoch, histograms of weights and z per layer.

``TensorBoardWriter(folder, net, probe)`` is an ``on_epoch`` consumer for ``nndl.train`` and
``nndl.fit``: after each epoch it writes the monitored accuracies (as fractions of the set)
and costs, the learning rate and the share of saturated hidden neurons as scalars, and for
each layer a histogram of its weights, its biases and its weighted inputs z on the probe
images (the first 1,000 validation images, the ones the saturation monitor watches). Step 0
is the network before training: with N(0, 1) weights the histogram of z of the first hidden
layer is wide and flat, with N(0, 1/n_in) it is narrow - the saturation story of section 4
of "Level 3: Improved Neural Network Techniques", visible as training goes on.

Tags: ``accuracy/<set>``, ``cost/<set>``, ``cost/<set>_without_regularization`` (``<set>`` is
``training`` or the evaluation set's name, ``validation`` by default), ``eta``,
``saturation/<layer>``, ``weights/<layer>``, ``biases/<layer>``, ``z/<layer>``; layers are named
``hidden1``, ``hidden2``, ... and ``output``. The step is the epoch (counted from 1, as
``History``); an accuracy is ``History``'s count divided by the set's size.

The event files are written by tensorboardX (an optional dependency: ``pip install
'nndl[tensorboard]'``; no TensorFlow). Without it, ``TensorBoardWriter`` raises
``MissingDependencyError`` with one line saying what to install. The library never prints.
"""

from __future__ import annotations

import errno
import os
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from .errors import ConfigError, NndlError

PROBE_ROWS = 1000  # images whose z is histogrammed: the ones the saturation monitor watches

INSTALL = "pip install 'nndl[tensorboard]' (or: pip install tensorboardX)"

__all__ = [
    "MissingDependencyError",
    "TensorBoardWriter",
    "check_logdir",
    "initial_network",
    "label_name",
    "layer_names",
    "require",
    "run_folder",
    "run_name",
    "weighted_inputs",
]


class MissingDependencyError(NndlError, ImportError):
    """An optional package that a feature needs is not installed; the message says what to install."""


def require():
    """tensorboardX's ``SummaryWriter`` class, or ``MissingDependencyError`` saying what to install."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise MissingDependencyError(
            f"writing TensorBoard event files needs the tensorboardX package, which is not installed: {INSTALL}"
        ) from None
    return SummaryWriter


def check_logdir(logdir) -> None:
    """Before a long run: tensorboardX is installed (else ``MissingDependencyError``) and ``logdir``
    is a folder or can become one (an empty path: ``ConfigError``; a file: ``NotADirectoryError``)."""
    if not str(logdir).strip():
        raise ConfigError(f"the TensorBoard folder {str(logdir)!r} is an empty path; give a folder, such as runs")
    path = Path(logdir)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR,
            "is a file, not a folder for TensorBoard's runs (each run gets a folder of its own inside it)",
            str(path),
        )
    require()


def layer_names(sizes) -> list[str]:
    """One name per weight layer of a network with ``sizes``: hidden1, hidden2, ..., output."""
    return [f"hidden{l + 1}" for l in range(len(sizes) - 2)] + ["output"]


def weighted_inputs(net, X) -> list[np.ndarray]:
    """z = a_(l-1) w_l^T + b_l of every layer for the rows of X (m, n_in): [(m, n_1), ..., (m, n_out)].

    From the network's own forward pass (``forward_layers``), so z is what the neurons see.
    """
    acts = net.forward_layers(np.asarray(X, dtype=net.dtype))  # [X, a_1, ..., a_out]
    return [a @ w.T + b.T for a, w, b in zip(acts[:-1], net.weights, net.biases)]  # (m, n_l) each


_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]+")


def run_folder(logdir, name: str) -> Path:
    """A new folder ``logdir/<name>`` for one run (``-2``, ``-3``... if taken), created now.

    ``name`` is cleaned to letters, digits and ``._=,+-``; TensorBoard lists each folder of
    ``logdir`` as one run. Raises ``OSError`` naming the folder if it cannot be created.
    """
    logdir = Path(logdir)
    base = _UNSAFE.sub("_", name).strip("._") or "run"
    logdir.mkdir(parents=True, exist_ok=True)
    for k in range(1, 10_000):
        folder = logdir / (base if k == 1 else f"{base}-{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{logdir}: 9,999 runs named {base!r} already")


def run_name(config, when: datetime | None = None) -> str:
    """A run's folder name: the time and what defines it, e.g.
    ``20261205-081500_784-100-10_cross-entropy_eta0.5_lmbda5`` (plus any technique switched on)."""
    when = when or datetime.now()
    parts = [
        when.strftime("%Y%m%d-%H%M%S"),
        "-".join(map(str, config.sizes)),
        config.cost,
        f"eta{config.eta:g}",
        f"lmbda{config.lmbda:g}",
    ]
    if config.init != "default":
        parts.append(f"init-{config.init}")
    parts += [t.replace(" ", "") for t in config.techniques()]
    return "_".join(parts)


def initial_network(config):
    """The network ``nndl.train`` builds from ``config`` before its first step (the same draws: the
    ``init`` stream of ``training_streams``), so its histograms can be written at step 0."""
    from .config import training_streams
    from .engine.training import network_for

    return network_for(config, training_streams(config.seed, config.order_seed).init)


def label_name(label: dict) -> str:
    """A run's folder name from what distinguishes it, e.g. {'eta': 0.25, 'seed': 0} -> 'eta=0.25,seed=0'
    (a list of layer sizes reads 784-30-10)."""

    def shown(v):
        if isinstance(v, (list, tuple)):
            return "-".join(map(str, v))
        return f"{v:g}" if isinstance(v, float) else str(v)

    return ",".join(f"{k}={shown(v)}" for k, v in label.items())


class TensorBoardWriter:
    """Writes one training run's event files into ``folder`` (an ``on_epoch`` consumer).

    ``net`` is the network being trained (read, never changed); ``probe`` (m, n_in) the images
    whose z is histogrammed (the first ``PROBE_ROWS`` are used; None: no z histograms);
    ``evaluation`` names the evaluation set in the tags; ``start`` is the step of the network as
    it is now (0 before training; the epochs already done when a run is resumed), whose
    histograms are written at once. Use as a context manager, or call ``close()``.
    """

    def __init__(self, folder, net, probe=None, *, evaluation: str = "validation", start: int = 0):
        SummaryWriter = require()
        self.folder = Path(folder)
        self.net, self.evaluation = net, evaluation
        self.probe = None if probe is None else np.asarray(probe[:PROBE_ROWS], dtype=net.dtype)  # (m, n_in)
        self.layers = layer_names(net.sizes)
        os.makedirs(self.folder, exist_ok=True)
        self.writer = SummaryWriter(logdir=str(self.folder), flush_secs=10)
        self.histograms(start)
        self.writer.flush()

    def histograms(self, step: int) -> None:
        """Per layer: the weights, the biases and (with probe images) z, at ``step``."""
        for name, w, b in zip(self.layers, self.net.weights, self.net.biases):
            self.writer.add_histogram(f"weights/{name}", np.asarray(w, np.float64).ravel(), step)
            self.writer.add_histogram(f"biases/{name}", np.asarray(b, np.float64).ravel(), step)
        if self.probe is not None and len(self.probe):
            for name, z in zip(self.layers, weighted_inputs(self.net, self.probe)):
                self.writer.add_histogram(f"z/{name}", np.asarray(z, np.float64).ravel(), step)

    def scalars(self, r) -> None:
        """What the epoch measured (an ``nndl.EpochReport``), as scalars at step ``r.epoch``."""
        ev, step = self.evaluation, r.epoch
        values = {
            "accuracy/training": None if r.training_accuracy is None else r.training_accuracy / r.n_training,
            f"accuracy/{ev}": None if r.evaluation_accuracy is None else r.evaluation_accuracy / r.n_evaluation,
            "cost/training": r.training_cost,
            f"cost/{ev}": r.evaluation_cost,
            "cost/training_without_regularization": r.training_cost_without_regularization,
            f"cost/{ev}_without_regularization": r.evaluation_cost_without_regularization,
            "eta": r.eta,
        }
        for name, share in zip(self.layers, r.saturation or ()):
            values[f"saturation/{name}"] = share
        for tag, value in values.items():
            if value is not None:
                self.writer.add_scalar(tag, float(value), step)

    def on_epoch(self, r) -> None:
        """``fit``'s ``on_epoch``: the epoch's scalars and the layers' histograms, flushed to disk."""
        self.scalars(r)
        self.histograms(r.epoch)
        self.writer.flush()

    __call__ = on_epoch

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> TensorBoardWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
