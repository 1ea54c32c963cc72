"""Layers: the pieces a network stacks. The contract they keep is stated once, in ``nndl.engine``.

``Param`` names one trainable array and the gradient ``backward`` fills for it; ``Layer``
is the base every layer derives from (both in ``nndl.engine.base``, imported here); ``Dense``
is network2's fully connected layer, ``Conv`` and ``Pool`` chapter 6's (``nndl.engine.conv``,
``nndl.engine.pool``). A layer
is built from its spec and the shape of the layer below it by ``build_layer`` (``LAYERS``:
kind -> constructor), which is how a model file's stack is read back.

Initial values: the network draws every layer's biases first, then every layer's weights, from
one ``numpy.random.Generator`` (``init_biases``, then ``init_weights`` with the registered
initializer): network2's order, so a dense network of one seed has the book's weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ConfigError, quote
from ..registry import lookup
from .activations import LAYER_ACTIVATIONS, OUTPUTS
from .base import Layer, Param
from .conv import Conv
from .pool import Pool


def activation_named(name_or_class, what: str = "activation"):
    """A layer's activation (``LAYER_ACTIVATIONS``: the hidden ones and network3's linear) or an
    output one (``OUTPUTS``: softmax), by name or class."""
    if isinstance(name_or_class, str):
        return lookup({**LAYER_ACTIVATIONS, **OUTPUTS}, name_or_class, what)
    return name_or_class


class Dense(Layer):
    """A fully connected layer: y = act(x W^T + b), network2's layer.

    Storage: one array ``P`` (n_in + 1, n_out), the weight matrix transposed with the biases
    as its last row (the windowed engine gathers whole input rows of it), and ``G`` like it for
    the gradient. ``params`` are views in network2's layout: ``weights`` (n_out, n_in) and
    ``biases`` (n_out,). An input of several axes (an image) is flattened: n_in = their product.
    """

    kind = "dense"

    def __init__(self, in_shape, n: int, activation="sigmoid", dtype=np.float64):
        in_shape = tuple(in_shape)  # (n_in,), or an image's (height, width, channels)
        n_in = math.prod(in_shape)
        self.activation = activation_named(activation)
        self.P = np.zeros((n_in + 1, n), dtype)  # (n_in+1, n_out)
        self.G = np.zeros((n_in + 1, n), dtype)  # (n_in+1, n_out)
        super().__init__(
            in_shape,
            (n,),
            [Param("weights", self.P[:-1].T, self.G[:-1].T, True), Param("biases", self.P[-1], self.G[-1], False)],
        )
        self.x = self.z = self.a = None  # kept by forward(train=True)

    @property
    def W(self) -> np.ndarray:
        """The weights transposed, (n_in, n_out): a view of ``P``."""
        return self.P[:-1]

    def forward(self, x, train=False):
        x = x.reshape(len(x), len(self.P) - 1)  # (m, n_in)
        z = x @ self.P[:-1]  # (m, n_out)
        z += self.P[-1]
        if not train:
            return self.activation.fn_(z)  # (m, n_out)
        self.x, self.z, self.a = x, z, self.activation.fn_(z, out=np.empty_like(z))
        return self.a

    def backward(self, dy, wrt_z=False):
        dz = dy if wrt_z else dy * self.activation.prime_from_output(self.a)  # (m, n_out)
        np.matmul(self.x.T, dz, out=self.G[:-1])  # (n_in, n_out)
        np.sum(dz, axis=0, out=self.G[-1])  # (n_out,)
        if self.bottom:
            return None
        return (dz @ self.P[:-1].T).reshape(len(dz), *self.in_shape)  # (m, *in_shape)

    def init_biases(self, rng):
        n = self.out_shape[0]
        self.P[-1] = rng.standard_normal((n, 1)).astype(self.P.dtype, copy=False)[:, 0]  # (n_out,)

    def init_weights(self, rng, initializer):
        w = rng.standard_normal((self.out_shape[0], len(self.P) - 1)).astype(self.P.dtype, copy=False)
        initializer.scale_(w)  # (n_out, n_in)
        self.P[:-1] = w.T

    def spec(self):
        return {"kind": self.kind, "n": self.out_shape[0], "activation": self.activation.name}

    @classmethod
    def from_spec(cls, spec: dict, in_shape: tuple, dtype) -> Dense:
        n = spec.get("n")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"a dense layer's n must be a positive integer, got {quote(n, 40)}")
        return cls(tuple(in_shape), n, spec.get("activation", "sigmoid"), dtype)


LAYERS: dict[str, Callable[[dict, tuple, Any], Layer]] = {
    "dense": Dense.from_spec,
    "conv": Conv.from_spec,
    "pool": Pool.from_spec,
}


def build_layer(spec: Any, in_shape: tuple, dtype) -> Layer:
    """The layer ``spec`` describes (``{"kind": ..., ...}``), on ``in_shape``: looked up in ``LAYERS``."""
    if not isinstance(spec, dict):
        raise ConfigError(f"a layer spec must be an object with a 'kind', got {type(spec).__name__}")
    return lookup(LAYERS, spec.get("kind"), "layer kind")(spec, tuple(in_shape), dtype)
