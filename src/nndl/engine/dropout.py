"""Dropout masks for the hidden layers, drawn a window at a time from the run's own stream.

Chapter 3 of the book: during training, each hidden neuron is left out with probability p,
independently for every example and every step, so no neuron can rely on particular others
being there. This is *inverted* dropout: a neuron that is kept has its output multiplied by
1 / (1 - p) during training, so the expected input of the next layer is what it would be
without dropout, and the trained network is used as it is at test time. (The book instead
trains unscaled and halves the outgoing weights at test time, for p = 0.5; the two give the
same expected activations. Nothing needs changing in a saved model here.)

A mask entry is 0 (dropped) or 1 / (1 - p) (kept). The uniforms are drawn in float64 whatever
the network's dtype, so float32 and float64 runs of one seed drop the same neurons.

Where neurons drop (``PLACES``, ``TrainConfig.dropout_on``): 'hidden', every hidden layer's
neurons (chapter 3's dropout; a conv net's feature maps too), or 'dense', only the neurons a
fully connected layer takes in: network3's ``p_dropout`` (chapter 6), which drops the inputs of
its ``FullyConnectedLayer`` and ``SoftmaxLayer`` and leaves the conv-pool layers whole. On a
network of dense layers alone the two are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import check_float
from ..registry import lookup

# where neurons drop: the name, and whether the layer of neurons below a layer of ``kind`` drops
PLACES = {
    "hidden": lambda kind: True,  # chapter 3: every hidden layer's neurons
    "dense": lambda kind: kind == "dense",  # network3: the inputs of the fully connected layers
}


def dropping_layers(place: str, kinds: Sequence[str]) -> list[bool]:
    """For a stack of layers of ``kinds`` (the bottom first), whether each hidden layer of
    neurons (the output of layer j and input of layer j + 1) drops at ``place``: one bool for
    every layer but the last."""
    drops = lookup(PLACES, place, "dropout place", "dropout_on")
    return [drops(kind) for kind in kinds[1:]]


class Dropout:
    """Masks for the hidden layers of a network of ``sizes``, for windows of up to ``rows`` rows.

    ``draw(rows)`` returns one mask per layer of neurons, ``[None, (rows, n_1), ...,
    (rows, n_{L-1}), None]``: None for the input and output layers, which never drop, and for
    a hidden layer that ``where`` (one bool per hidden layer; default all) leaves whole.
    """

    def __init__(self, p: float, rng: np.random.Generator, sizes: Sequence[int], rows: int, dtype, where=None):
        self.p = check_float("dropout", p, 0.0, strict=False, maximum=1.0, strict_max=True)
        self.rng = rng
        self.scale = 1.0 / (1.0 - self.p)
        hidden = list(sizes[1:-1])
        where = [True] * len(hidden) if where is None else [bool(w) for w in where]
        if len(where) != len(hidden):
            raise ValueError(f"where: {len(where)} flags for {len(hidden)} hidden layers")
        # per hidden layer: uniforms (rows, n_l) float64, kept (rows, n_l) bool, mask (rows, n_l); None: never drops
        self._buffers = [
            (np.empty((rows, n)), np.empty((rows, n), bool), np.empty((rows, n), dtype)) if w else None
            for n, w in zip(hidden, where)
        ]

    def draw(self, rows: int) -> list:
        """Fresh masks for the next ``rows`` rows (one window of mini-batches), drawn layer by
        layer from the bottom."""
        out = [None]
        for buffers in self._buffers:
            if buffers is None:
                out.append(None)
                continue
            u, keep, mask = buffers
            self.rng.random(out=u[:rows])
            np.greater_equal(u[:rows], self.p, out=keep[:rows])
            np.multiply(keep[:rows], self.scale, out=mask[:rows])
            out.append(mask[:rows])
        return out + [None]
