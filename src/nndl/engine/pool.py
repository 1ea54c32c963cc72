"""Max-pooling of chapter 6: each map shrinks by ``size`` in height and width, keeping the largest value.

A ``Pool`` layer of size p splits every map of its input (height, width, channels) into
non-overlapping p x p windows and keeps the largest value of each: output
(height // p, width // p, channels). Rows and columns left over when p does not divide the
height or width are dropped (Theano's ``ignore_border=True``, which the book's network3 uses).

Which input wins a tie: the first of the window in row-major order (top row first, left to
right). Only the winner passes the error back; the reference in the tests does the same.

How it is computed: window position (i, j) of every window at once is the strided slice
``x[:, i::p, j::p, :]`` (a view), so the maximum is p*p - 1 elementwise ``maximum`` calls
on arrays a quarter of the input's size (for p = 2), with no copy and no argmax. With
``train=True`` the winners are kept as p*p boolean masks, found by comparing each slice with
the maximum and clearing what an earlier position already won; backward writes
dy * mask into each strided slice of dx. There are no parameters.
"""

from __future__ import annotations

import numpy as np

from ..checks import check_int
from ..errors import ConfigError
from .base import Layer
from .conv import image_shape


class Pool(Layer):
    """Max-pooling of non-overlapping ``size`` x ``size`` windows over ``in_shape`` (height,
    width, channels) -> (height // size, width // size, channels)."""

    kind = "pool"

    def __init__(self, in_shape, size: int = 2, dtype=np.float64):
        H, W, C = image_shape(in_shape, "a pool layer")
        self.size = p = check_int("a pool layer's size", size, 1, min(H, W))
        super().__init__((H, W, C), (H // p, W // p, C), [])
        self.dtype = np.dtype(dtype).type
        self._buf: dict = {}

    @classmethod
    def from_spec(cls, spec: dict, in_shape: tuple, dtype) -> Pool:
        return cls(tuple(in_shape), spec.get("size", 2), dtype)

    def spec(self) -> dict:
        return {"kind": self.kind, "size": self.size}

    def _slices(self, a):
        """The p*p strided views a[:, i::p, j::p, :] (cropped to whole windows), row-major (i, j)."""
        p, (Ho, Wo, _) = self.size, self.out_shape
        return [a[:, i : Ho * p : p, j : Wo * p : p, :] for i in range(p) for j in range(p)]

    def _buffers(self, m: int) -> dict:
        if m not in self._buf:
            Ho, Wo, C = self.out_shape
            self._buf[m] = {
                "y": np.empty((m, Ho, Wo, C), self.dtype),  # (batch, out_h, out_w, C)
                "won": np.empty((self.size**2, m, Ho, Wo, C), bool),  # (p*p, batch, out_h, out_w, C)
                "taken": np.empty((m, Ho, Wo, C), bool),  # (batch, out_h, out_w, C)
                "dx": np.zeros((m,) + self.in_shape, self.dtype),  # (batch, height, width, C)
            }
        return self._buf[m]

    def forward(self, x, train: bool = False):
        """x (batch, height, width, channels) -> y (batch, height // p, width // p, channels)."""
        m = len(x)
        parts = self._slices(x)  # p*p views (batch, out_h, out_w, C)
        if train:
            buf = self._buffers(m)
            y = buf["y"]
        else:
            y = np.empty((m,) + self.out_shape, x.dtype)
        if len(parts) == 1:
            np.copyto(y, parts[0])
        else:
            np.maximum(parts[0], parts[1], out=y)
            for part in parts[2:]:
                np.maximum(y, part, out=y)  # (batch, out_h, out_w, C)
        if train:
            won, taken = buf["won"], buf["taken"]
            np.equal(parts[0], y, out=taken)
            np.copyto(won[0], taken)
            for k, part in enumerate(parts[1:], 1):
                np.equal(part, y, out=won[k])
                np.greater(won[k], taken, out=won[k])  # a winner nobody before it took
                taken |= won[k]
        return y

    def backward(self, dy, wrt_z: bool = False):
        """dy = dC/dy (batch, out_h, out_w, channels) -> dC/dx (batch, height, width, channels):
        each window's error goes to its winner, the other inputs get 0."""
        if wrt_z:
            raise ConfigError("a pool layer has no weighted input: it cannot be the last layer")
        m = len(dy)
        buf = self._buffers(m)
        if self.bottom:
            return None
        dx, won = buf["dx"], buf["won"]
        for k, part in enumerate(self._slices(dx)):
            np.multiply(dy, won[k], out=part)  # (batch, out_h, out_w, C)
        return dx
