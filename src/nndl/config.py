"""Hyperparameters in one typed dataclass: what the command line's flags map onto, what a saved
model and an exploration's results.json record, and what the training loop reads.

Its defaults are the Level 3 document's section 5.1 configuration (the book's chapter 3
network: [784, 100, 10], cross-entropy, eta 0.5, lambda 5.0, 30 epochs). The techniques of
the rest of chapter 3 are fields too, each off by default, each a name looked up in its
module's table: the log-likelihood cost with a softmax output layer (``nndl.engine.costs``), L1
regularization (``nndl.engine.regularizers``), tanh and ReLU neurons (``nndl.engine.activations``),
momentum and dropout (numbers), the learning-rate schedule and early stopping
(``nndl.engine.schedules``), and artificially expanded training data (``nndl.augment``).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .augment import EXPANSIONS
from .checks import DTYPES, check_dtype, check_float, check_int, check_sizes
from .engine.activations import ACTIVATIONS
from .engine.costs import COSTS, get_cost
from .engine.describe import EXAMPLE, check_stack, input_shape, parse_layers
from .engine.dropout import PLACES
from .engine.initializers import INITIALIZERS
from .engine.regularizers import REGULARIZERS
from .engine.rules import linear_steps
from .engine.schedules import SCHEDULES
from .errors import ConfigError, quote
from .registry import lookup

__all__ = [
    "DTYPES",
    "FieldDoc",
    "TrainConfig",
    "Streams",
    "rng_streams",
    "training_streams",
    "as_rng",
    "get_dtype",
    "check_int",
    "check_float",
    "check_sizes",
    "check_sizes_fit",
    "flag_of",
    "sizes_from_text",
]

get_dtype = check_dtype


class FieldDoc(NamedTuple):
    """How a ``TrainConfig`` field reads on the command line, described once: the flags of
    ``nndl train`` and ``nndl sweep`` are made from it (``nndl.cli.common.add_config_flags``).

    ``help`` says what the field does (the generated help adds the default); ``metavar`` names
    its value (None: the choices are shown); ``type`` reads one value from text (raising
    ``ValueError`` or ``argparse.ArgumentTypeError``); ``choices`` is the table of the names it
    takes (None: any value of its type); ``beyond`` puts it among the techniques beyond Level 3;
    ``shown_default`` replaces the generated "(default X)" where the value alone would not say it.
    """

    help: str
    metavar: str | None = None
    type: Callable[[str], Any] = str
    choices: Mapping | None = None
    beyond: bool = False
    shown_default: str | None = None


def sizes_from_text(text: str) -> tuple[int, ...]:
    """'784,100,10' -> (784, 100, 10); an ``argparse.ArgumentTypeError`` says what was expected."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected at least 2 positive integers separated by commas, such as 784,100,10; got {quote(text)}"
        )
    return sizes


def _field(value, *args, **kwargs):
    """A dataclass field whose default is ``value``, with its ``FieldDoc`` (in its metadata, as "doc")."""
    return dataclasses.field(default=value, metadata={"doc": FieldDoc(*args, **kwargs)})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; the defaults are the Level 3 document's section 5.1.

    A field's comment says why its default is what it is; its ``FieldDoc`` (``field_docs()``)
    what its flag does. Techniques beyond Level 3 are off by default, so ``TrainConfig()`` is
    exactly network2's run of the book's chapter 3.
    """

    # the larger hidden layer: ~97.5-98 % on MNIST
    sizes: tuple[int, ...] = _field((784, 100, 10), "layer sizes, input first", "N,N,...", sizes_from_text)
    # output error (a - y): no learning slowdown
    cost: str = _field(
        "cross-entropy", "cost function; log-likelihood comes with a softmax output layer", choices=COSTS
    )
    # weights N(0, 1/n_in): neurons start unsaturated
    init: str = _field(
        "default",
        "initial weights: 'default' N(0, 1/n_in), 'large' N(0, 1), 'he' N(0, 2/n_in) for relu",
        choices=INITIALIZERS,
        shown_default="N(0, 1/n_in), the book's",
    )
    # hidden neurons: the book's neuron in chapters 1-3
    activation: str = _field(
        "sigmoid", "hidden neurons; tanh takes --init default, relu --init he (N(0, 2/n_in))", choices=ACTIVATIONS
    )
    # the book's run length (an upper bound with a schedule)
    epochs: int = _field(30, "epochs to train", "N", int)
    # the book's choice; rows of one matrix product
    mini_batch_size: int = _field(10, "examples per gradient step", "N", int)
    # learning rate suited to cross-entropy here
    eta: float = _field(0.5, "learning rate > 0", "X", float)
    # regularization strength (the book's lambda)
    lmbda: float = _field(5.0, "regularization strength >= 0", "X", float)
    # the book's weight decay: factor 1 - eta*lmbda/n
    regularization: str = _field(
        "l2", "l2: w <- (1 - eta*lmbda/n) w; l1: w <- w - (eta*lmbda/n) sgn(w)", choices=REGULARIZERS, beyond=True
    )
    # mu of momentum SGD; 0 is plain SGD exactly
    momentum: float = _field(
        0.0,
        "momentum mu in [0, 1): v <- mu v - eta grad C, w <- w + v",
        "MU",
        float,
        beyond=True,
        shown_default="0: plain SGD",
    )
    # share of hidden neurons dropped per example and step
    dropout: float = _field(
        0.0,
        "drop each hidden neuron with probability P in [0, 1) per example and step "
        "(inverted dropout: the trained network is used unscaled)",
        "P",
        float,
        beyond=True,
    )
    # chapter 3 drops every hidden neuron; network3 (chapter 6) only a fully connected layer's inputs
    dropout_on: str = _field(
        "hidden",
        "which neurons --dropout drops: 'hidden', every hidden layer's (chapter 3; a conv net's "
        "feature maps too); 'dense', only those a fully connected layer takes in (network3's "
        "p_dropout, chapter 6)",
        choices=PLACES,
        beyond=True,
    )
    # 'halve': the book's eta schedule on validation accuracy
    schedule: str = _field(
        "constant",
        "halve: halve eta after --schedule-patience epochs without a better "
        "validation accuracy, stop at eta/--schedule-divisor (the book's schedule)",
        choices=SCHEDULES,
        beyond=True,
    )
    # epochs without improvement before eta is halved
    schedule_patience: int = _field(10, "epochs without improvement before halving", "N", int, beyond=True)
    # stop once eta has fallen to eta / this (the book's 1/128)
    schedule_divisor: float = _field(128.0, "stop once eta has fallen to eta/X", "X", float, beyond=True)
    # stop after this many epochs without improvement
    early_stopping: int | None = _field(
        None,
        "stop after N epochs without a better validation accuracy and keep the best epoch's weights",
        "N",
        int,
        beyond=True,
        shown_default="off",
    )
    # 'shifts': each image and its 4 one-pixel shifts
    expand: str = _field(
        "none",
        "shifts: train on each image and its four one-pixel shifts, as the book's "
        "expand_mnist.py (5x the data, made as it is used)",
        choices=EXPANSIONS,
        beyond=True,
    )
    # largest random rotation in degrees (0: none)
    rotate: float = _field(
        0.0, "also turn each training image by a random angle up to DEG degrees", "DEG", float, beyond=True
    )
    # alpha of Simard et al.'s elastic distortions, 34 in their paper (0: none)
    elastic: float = _field(
        0.0,
        "also distort each training image elastically (Simard, Steinkraus and Platt 2003): a random "
        "field smoothed over 4 pixels moves its pixels, scaled by ALPHA (34 in their paper)",
        "ALPHA",
        float,
        beyond=True,
    )
    # float64 is exact; float32 is about twice as fast
    dtype: str = _field("float64", "float64 is exact; float32 about twice as fast", choices=DTYPES)
    # initial weights, dropout, rotations and elastic distortions
    seed: int = _field(0, "seed of the initial weights and of the mini-batch order", "N", int)
    # mini-batch order; None: derived from ``seed``
    order_seed: int | None = _field(
        None, "seed of the mini-batch order alone", "N", int, shown_default="derived from --seed"
    )
    # '': network2's dense layers of sizes; a description: chapter 6's conv nets
    layers: str = _field(
        "",
        f"hidden layers in one line, for chapter 6's conv nets, e.g. {EXAMPLE} (conv:MAPSxKxK"
        f"[:ACT], pool:P, dense:N[:ACT]; the output layer of --sizes' last size is added)",
        "DESCRIPTION",
        str,
        shown_default="dense layers of --sizes",
    )

    def __post_init__(self):
        object.__setattr__(self, "sizes", check_sizes(self.sizes))
        try:
            get_cost(self.cost)
        except ConfigError as e:
            raise ConfigError(str(e), field="cost") from None
        lookup(INITIALIZERS, self.init, "initializer", "init")
        lookup(ACTIVATIONS, self.activation, "activation", "activation")
        check_int("epochs", self.epochs, 0)
        check_int("mini_batch_size", self.mini_batch_size, 1)
        check_float("eta", self.eta, 0.0, strict=True)
        check_float("lmbda", self.lmbda, 0.0, strict=False)
        lookup(REGULARIZERS, self.regularization, "regularization", "regularization")
        check_float("momentum", self.momentum, 0.0, strict=False, maximum=1.0, strict_max=True)
        check_float("dropout", self.dropout, 0.0, strict=False, maximum=1.0, strict_max=True)
        if self.dropout and len(self.sizes) < 3 and not self.layers:  # layers: its hidden layers
            raise ConfigError(
                f"dropout acts on hidden neurons, and sizes {list(self.sizes)} has no hidden "
                f"layer; give at least three sizes, such as [784, 100, 10]",
                field="dropout",
            )
        lookup(PLACES, self.dropout_on, "dropout place", "dropout_on")
        lookup(SCHEDULES, self.schedule, "schedule", "schedule")
        check_int("schedule_patience", self.schedule_patience, 1)
        check_float("schedule_divisor", self.schedule_divisor, 1.0, strict=False)
        if self.early_stopping is not None:
            check_int("early_stopping", self.early_stopping, 1)
        lookup(EXPANSIONS, self.expand, "expand", "expand")
        check_float("rotate", self.rotate, 0.0, strict=False, maximum=180.0)
        check_float("elastic", self.elastic, 0.0, strict=False, maximum=100.0)
        check_dtype(self.dtype)
        check_int("seed", self.seed, 0)
        if self.order_seed is not None:
            check_int("order_seed", self.order_seed, 0)
        if self.layers:
            check_stack(self.in_shape(), self.layer_specs())

    @classmethod
    def field_docs(cls) -> dict[str, FieldDoc]:
        """Every field's ``FieldDoc``, in the fields' order: what the command line's flags are made of."""
        return {f.name: f.metadata["doc"] for f in dataclasses.fields(cls)}

    @property
    def watches_validation(self) -> bool:
        """True when training itself decides on validation accuracy (a schedule, early stopping)."""
        return self.schedule != "constant" or self.early_stopping is not None

    @property
    def fast_path(self) -> bool:
        """True when the windowed engine takes this run exactly (``nndl.engine.rules``): plain SGD
        with L2 or no regularization. L1 and momentum take one mini-batch at a time."""
        return linear_steps(self.regularization, self.lmbda, self.momentum)

    def layer_specs(self) -> list[dict]:
        """The network's stack as layer specs (``nndl.engine.layers``): the hidden layers of
        ``layers`` (``nndl.engine.describe``; those without an activation take ``activation``),
        or dense layers of ``sizes`` with ``activation``; the last, of ``sizes[-1]`` neurons,
        with the cost's output activation. With ``layers``, only the first and last of
        ``sizes`` count: the inputs and the classes."""
        if self.layers:
            hidden = [
                s if s["kind"] == "pool" or "activation" in s else {**s, "activation": self.activation}
                for s in parse_layers(self.layers)
            ]
        else:
            hidden = [{"kind": "dense", "n": n, "activation": self.activation} for n in self.sizes[1:-1]]
        return hidden + [{"kind": "dense", "n": self.sizes[-1], "activation": get_cost(self.cost).output.name}]

    def in_shape(self) -> tuple:
        """One example as the first layer takes it: (28, 28, 1) images for a stack that starts
        with a conv or pool layer (from 784 inputs), else (sizes[0],)."""
        return input_shape(self.sizes[0], parse_layers(self.layers) if self.layers else [])

    def techniques(self) -> list[str]:
        """The beyond-Level-3 techniques this config switches on, in words ('dropout 0.5', ...)."""
        out = []
        if self.cost == "log-likelihood":
            out.append("softmax + log-likelihood")
        if self.activation != "sigmoid":
            out.append(f"{self.activation} neurons")
        if self.regularization != "l2" and self.lmbda:
            out.append(f"{self.regularization.upper()} regularization")
        if self.momentum:
            out.append(f"momentum {self.momentum:g}")
        if self.dropout:
            out.append(
                f"dropout {self.dropout:g}" + (" (fully connected inputs)" if self.dropout_on == "dense" else "")
            )
        if self.schedule != "constant":
            out.append(f"eta schedule ({self.schedule}, patience {self.schedule_patience})")
        if self.early_stopping is not None:
            out.append(f"early stopping ({self.early_stopping} epochs)")
        if self.expand != "none":
            out.append(f"expanded data ({self.expand})")
        if self.rotate:
            out.append(f"rotations up to {self.rotate:g} degrees")
        if self.elastic:
            out.append(f"elastic distortions (alpha {self.elastic:g})")
        return out

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        d = dataclasses.asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Inverse of ``to_dict``; unknown keys are an error that names them."""
        if not isinstance(d, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"unknown config keys {extra}; known keys are {sorted(known)}")
        return cls(**d)


def check_sizes_fit(sizes, splits) -> None:
    """Layer ``sizes`` that fit a data set's ``splits``: one input per pixel of its images and an
    output neuron per class; else ``ConfigError`` (field "sizes"), its ``detail`` saying which."""
    pixels = splits.training.images.shape[1]
    classes = int(max(splits.training.labels.max(), splits.test.labels.max())) + 1
    if sizes[0] != pixels:
        detail = f"the first layer must have {pixels} neurons, one per pixel of the images, got {sizes[0]}"
    elif sizes[-1] < classes:
        detail = f"the last layer must have {classes} neurons, one per class, got {sizes[-1]}"
    else:
        return
    raise ConfigError(f"sizes {','.join(map(str, sizes))}: {detail}", field="sizes", detail=detail)


def flag_of(name: str) -> str:
    """The command-line flag of a field: mini_batch_size -> --mini-batch-size."""
    return "--" + name.replace("_", "-")


class Streams(NamedTuple):
    """A run's independent random streams, all fixed by its seeds (``training_streams``)."""

    init: np.random.Generator  # initial weights and biases
    order: np.random.Generator  # the mini-batch order of each epoch
    dropout: np.random.Generator  # which hidden neurons each example drops
    augment: np.random.Generator  # the random rotations and elastic fields of training images


def training_streams(seed: int, order_seed: int | None = None) -> Streams:
    """The four generators of a run, from ``numpy.random.SeedSequence`` with distinct spawn keys.

    Fixing ``seed`` fixes them all; ``order_seed`` varies the order alone. A technique that
    draws (dropout, rotations) has its own stream, so switching it on changes neither the
    initial weights nor the mini-batch order of a paired run.
    """

    def stream(entropy, key):
        return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(key,)))

    return Streams(
        stream(seed, 0), stream(seed if order_seed is None else order_seed, 1), stream(seed, 2), stream(seed, 3)
    )


def rng_streams(seed: int, order_seed: int | None = None):
    """(initial weights, mini-batch order): the first two of ``training_streams``."""
    streams = training_streams(seed, order_seed)
    return streams.init, streams.order


def as_rng(rng_or_seed, what: str = "rng") -> np.random.Generator:
    """Accept a ``numpy.random.Generator``, an int seed, or None (fresh OS entropy)."""
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if rng_or_seed is None:
        return np.random.default_rng()
    return np.random.default_rng(check_int(what, rng_or_seed, 0))
