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

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .engine.activations import ACTIVATIONS
from .augment import EXPANSIONS
from .checks import DTYPES, check_dtype, check_float, check_int, check_sizes, shown
from .engine.costs import get_cost
from .engine.describe import check_stack, input_shape, parse_layers
from .errors import ConfigError
from .engine.initializers import INITIALIZERS
from .registry import lookup
from .engine.regularizers import REGULARIZERS
from .engine.schedules import SCHEDULES

__all__ = ["DTYPES", "TrainConfig", "Streams", "rng_streams", "training_streams", "as_rng", "get_dtype",
           "check_int", "check_float", "check_sizes"]

get_dtype = check_dtype


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; the defaults are the Level 3 document's section 5.1.

    A field's comment says why its default is what it is. Techniques beyond Level 3 are off
    by default, so ``TrainConfig()`` is exactly network2's run of the book's chapter 3.
    """

    sizes: tuple[int, ...] = (784, 100, 10)  # the larger hidden layer: ~97.5-98 % on MNIST
    cost: str = "cross-entropy"              # output error (a - y): no learning slowdown
    init: str = "default"                    # weights N(0, 1/n_in): neurons start unsaturated
    activation: str = "sigmoid"              # hidden neurons: the book's neuron in chapters 1-3
    epochs: int = 30                         # the book's run length (an upper bound with a schedule)
    mini_batch_size: int = 10                # the book's choice; rows of one matrix product
    eta: float = 0.5                         # learning rate suited to cross-entropy here
    lmbda: float = 5.0                       # regularization strength (the book's lambda)
    regularization: str = "l2"               # the book's weight decay: factor 1 - eta*lmbda/n
    momentum: float = 0.0                    # mu of momentum SGD; 0 is plain SGD exactly
    dropout: float = 0.0                     # share of hidden neurons dropped per example and step
    schedule: str = "constant"               # 'halve': the book's eta schedule on validation accuracy
    schedule_patience: int = 10              # epochs without improvement before eta is halved
    schedule_divisor: float = 128.0          # stop once eta has fallen to eta / this (the book's 1/128)
    early_stopping: int | None = None        # stop after this many epochs without improvement
    expand: str = "none"                     # 'shifts': each image and its 4 one-pixel shifts
    rotate: float = 0.0                      # largest random rotation in degrees (0: none)
    dtype: str = "float64"                   # float64 is exact; float32 is about twice as fast
    seed: int = 0                            # initial weights, dropout and rotations
    order_seed: int | None = None            # mini-batch order; None: derived from ``seed``
    layers: str = ""                         # hidden layers as 'conv:20x5x5,pool:2,dense:100:relu'; '': sizes

    def __post_init__(self):
        object.__setattr__(self, "sizes", check_sizes(self.sizes))
        get_cost(self.cost)
        lookup(INITIALIZERS, self.init, "initializer")
        lookup(ACTIVATIONS, self.activation, "activation")
        check_int("epochs", self.epochs, 0)
        check_int("mini_batch_size", self.mini_batch_size, 1)
        check_float("eta", self.eta, 0.0, strict=True)
        check_float("lmbda", self.lmbda, 0.0, strict=False)
        lookup(REGULARIZERS, self.regularization, "regularization")
        check_float("momentum", self.momentum, 0.0, strict=False, maximum=1.0, strict_max=True)
        check_float("dropout", self.dropout, 0.0, strict=False, maximum=1.0, strict_max=True)
        if self.dropout and len(self.sizes) < 3:
            raise ConfigError(f"dropout acts on hidden neurons, and sizes {list(self.sizes)} has no hidden "
                              f"layer; give at least three sizes, such as [784, 100, 10]")
        lookup(SCHEDULES, self.schedule, "schedule")
        check_int("schedule_patience", self.schedule_patience, 1)
        check_float("schedule_divisor", self.schedule_divisor, 1.0, strict=False)
        if self.early_stopping is not None:
            check_int("early_stopping", self.early_stopping, 1)
        lookup(EXPANSIONS, self.expand, "expand")
        check_float("rotate", self.rotate, 0.0, strict=False, maximum=180.0)
        check_dtype(self.dtype)
        check_int("seed", self.seed, 0)
        if self.order_seed is not None:
            check_int("order_seed", self.order_seed, 0)
        if self.layers:
            check_stack(self.in_shape(), self.layer_specs())

    @property
    def watches_validation(self) -> bool:
        """True when training itself decides on validation accuracy (a schedule, early stopping)."""
        return self.schedule != "constant" or self.early_stopping is not None

    @property
    def fast_path(self) -> bool:
        """True when the windowed engine takes this run exactly (``nndl.engine.rules``): plain SGD
        with L2 or no regularization. L1 and momentum take one mini-batch at a time."""
        return self.momentum == 0.0 and (self.regularization == "l2" or self.lmbda == 0.0)

    def layer_specs(self) -> list[dict]:
        """The network's stack as layer specs (``nndl.engine.layers``): the hidden layers of
        ``layers`` (``nndl.engine.describe``; those without an activation take ``activation``),
        or dense layers of ``sizes`` with ``activation``; the last, of ``sizes[-1]`` neurons,
        with the cost's output activation. With ``layers``, only the first and last of
        ``sizes`` count: the inputs and the classes."""
        if self.layers:
            hidden = [s if s["kind"] == "pool" or "activation" in s else {**s, "activation": self.activation}
                      for s in parse_layers(self.layers)]
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
            out.append(f"dropout {self.dropout:g}")
        if self.schedule != "constant":
            out.append(f"eta schedule ({self.schedule}, patience {self.schedule_patience})")
        if self.early_stopping is not None:
            out.append(f"early stopping ({self.early_stopping} epochs)")
        if self.expand != "none":
            out.append(f"expanded data ({self.expand})")
        if self.rotate:
            out.append(f"rotations up to {self.rotate:g} degrees")
        return out

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        d = dataclasses.asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of ``to_dict``; unknown keys are an error that names them."""
        if not isinstance(d, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"unknown config keys {extra}; known keys are {sorted(known)}")
        return cls(**d)


class Streams(NamedTuple):
    """A run's independent random streams, all fixed by its seeds (``training_streams``)."""

    init: np.random.Generator     # initial weights and biases
    order: np.random.Generator    # the mini-batch order of each epoch
    dropout: np.random.Generator  # which hidden neurons each example drops
    augment: np.random.Generator  # the random rotations of expanded data


def training_streams(seed: int, order_seed: int | None = None) -> Streams:
    """The four generators of a run, from ``numpy.random.SeedSequence`` with distinct spawn keys.

    Fixing ``seed`` fixes them all; ``order_seed`` varies the order alone. A technique that
    draws (dropout, rotations) has its own stream, so switching it on changes neither the
    initial weights nor the mini-batch order of a paired run.
    """
    def stream(entropy, key):
        return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(key,)))

    return Streams(stream(seed, 0), stream(seed if order_seed is None else order_seed, 1),
                   stream(seed, 2), stream(seed, 3))


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
