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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import check_float


class Dropout:
    """Masks for the hidden layers of a network of ``sizes``, for windows of up to ``rows`` rows.

    ``draw(rows)`` returns one mask per layer of neurons, ``[None, (rows, n_1), ...,
    (rows, n_{L-1}), None]``: None for the input and output layers, which never drop.
    """

    def __init__(self, p: float, rng: np.random.Generator, sizes: Sequence[int], rows: int, dtype):
        self.p = check_float("dropout", p, 0.0, strict=False, maximum=1.0, strict_max=True)
        self.rng = rng
        self.scale = 1.0 / (1.0 - self.p)
        hidden = list(sizes[1:-1])
        self._u = [np.empty((rows, n)) for n in hidden]  # (rows, n_l) float64
        self._keep = [np.empty((rows, n), bool) for n in hidden]  # (rows, n_l)
        self._mask = [np.empty((rows, n), dtype) for n in hidden]  # (rows, n_l)

    def draw(self, rows: int) -> list:
        """Fresh masks for the next ``rows`` rows (one window of mini-batches)."""
        out = [None]
        for u, keep, mask in zip(self._u, self._keep, self._mask):
            self.rng.random(out=u[:rows])
            np.greater_equal(u[:rows], self.p, out=keep[:rows])
            np.multiply(keep[:rows], self.scale, out=mask[:rows])
            out.append(mask[:rows])
        return out + [None]
