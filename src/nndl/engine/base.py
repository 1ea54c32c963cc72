"""The base of every layer: ``Param`` (one trainable array and its gradient) and ``Layer``.

Apart from ``nndl.engine.layers`` (which holds ``Dense`` and the ``LAYERS`` registry) so the
image layers (``nndl.engine.conv``, ``nndl.engine.pool``) can derive from ``Layer`` and the
registry can import them, with no circle of imports. The contract is stated in ``nndl.engine``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Param(NamedTuple):
    """One trainable array: ``value`` (changed in place by the update rule), ``grad`` (same
    shape and dtype, filled by ``backward``), ``decays`` (True for weights: the regularizer
    acts on them; False for biases)."""

    name: str
    value: np.ndarray
    grad: np.ndarray
    decays: bool


class Layer:
    """The base of every layer: see the contract in ``nndl.engine``.

    ``bottom`` is set by the network on the first layer of its stack: no one needs that
    layer's dC/dx, so its ``backward`` may skip computing it and return None.
    """

    kind = "layer"
    activation: Any = None  # the activation object, for layers that end in one
    bottom = False

    def __init__(self, in_shape: tuple, out_shape: tuple, params: list):
        self.in_shape, self.out_shape, self.params = tuple(in_shape), tuple(out_shape), params

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, wrt_z: bool = False) -> np.ndarray | None:
        raise NotImplementedError

    def spec(self) -> dict:
        raise NotImplementedError

    def init_biases(self, rng: np.random.Generator) -> None:
        """Draw the biases (standard normals); a layer without parameters draws nothing."""

    def init_weights(self, rng: np.random.Generator, initializer) -> None:
        """Draw the weights: standard normals scaled by ``initializer.scale_`` for the fan-in."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_shape} -> {self.out_shape})"
