"""Hyperparameters in one typed dataclass, and the checks every public entry point uses.

A ``TrainConfig`` is what the command line's flags map onto, what a saved model and an
exploration's results.json record, and what ``nndl.training.train`` reads. Its defaults
are the seed's section 5.1 configuration.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import ACTIVATIONS
from .costs import get_cost
from .errors import ConfigError
from .initializers import INITIALIZERS
from .registry import lookup

DTYPES = {"float64": np.float64, "float32": np.float32}


def get_dtype(dtype) -> type:
    """Resolve 'float64' / 'float32' (or the NumPy type) to the NumPy scalar type."""
    if dtype in (np.float64, np.float32):
        return dtype
    if isinstance(dtype, np.dtype) and dtype.type in (np.float64, np.float32):
        return dtype.type
    return lookup(DTYPES, dtype, "dtype")


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, else ``ConfigError`` naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_float(name: str, value: Any, minimum: float, *, strict: bool) -> float:
    """``value`` as a finite float > (strict) or >= ``minimum``, else ``ConfigError``."""
    ok_type = isinstance(value, numbers.Real) and not isinstance(value, bool)
    v = float(value) if ok_type else math.nan
    if not ok_type or not math.isfinite(v) or (v <= minimum if strict else v < minimum):
        rel = ">" if strict else ">="
        raise ConfigError(f"{name} must be a finite number {rel} {minimum:g}, got {value!r}")
    return v


def check_sizes(sizes: Any) -> tuple[int, ...]:
    """Layer sizes as a tuple of >= 2 positive ints, e.g. (784, 100, 10)."""
    try:
        seq = list(sizes)
    except TypeError:
        seq = None
    if (seq is None or len(seq) < 2
            or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in seq)):
        raise ConfigError(f"sizes must be a list of at least 2 positive integers "
                          f"(e.g. [784, 100, 10]), got {sizes!r}")
    return tuple(int(s) for s in seq)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; the defaults are the seed's section 5.1."""

    sizes: tuple[int, ...] = (784, 100, 10)  # the larger hidden layer: ~97.5-98 % on MNIST
    cost: str = "cross-entropy"              # output error (a - y): no learning slowdown
    init: str = "default"                    # weights N(0, 1/n_in): neurons start unsaturated
    activation: str = "sigmoid"              # the book's neuron throughout chapters 1-3
    epochs: int = 30                         # the book's run length for this configuration
    mini_batch_size: int = 10                # the book's choice; rows of one matrix product
    eta: float = 0.5                         # learning rate suited to cross-entropy here
    lmbda: float = 5.0                       # L2 strength; decay factor is 1 - eta*lmbda/n
    dtype: str = "float64"                   # float64 is exact; float32 is about twice as fast
    seed: int = 0                            # initial weights
    order_seed: int | None = None            # mini-batch order; None: derived from ``seed``

    def __post_init__(self):
        check_sizes(self.sizes)
        object.__setattr__(self, "sizes", check_sizes(self.sizes))
        get_cost(self.cost)
        lookup(INITIALIZERS, self.init, "initializer")
        lookup(ACTIVATIONS, self.activation, "activation")
        check_int("epochs", self.epochs, 0)
        check_int("mini_batch_size", self.mini_batch_size, 1)
        check_float("eta", self.eta, 0.0, strict=True)
        check_float("lmbda", self.lmbda, 0.0, strict=False)
        get_dtype(self.dtype)
        check_int("seed", self.seed, 0)
        if self.order_seed is not None:
            check_int("order_seed", self.order_seed, 0)

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


def rng_streams(seed: int, order_seed: int | None = None):
    """Two independent generators: (initial weights, mini-batch order).

    Both come from ``numpy.random.SeedSequence`` with distinct spawn keys, so fixing
    ``seed`` fixes both, and ``order_seed`` varies the order alone.
    """
    init = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    order_entropy = seed if order_seed is None else order_seed
    order = np.random.default_rng(np.random.SeedSequence(order_entropy, spawn_key=(1,)))
    return init, order


def as_rng(rng_or_seed, what: str = "rng") -> np.random.Generator:
    """Accept a ``numpy.random.Generator``, an int seed, or None (fresh OS entropy)."""
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if rng_or_seed is None:
        return np.random.default_rng()
    return np.random.default_rng(check_int(what, rng_or_seed, 0))
