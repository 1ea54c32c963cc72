"""The convolutional layer of chapter 6: local receptive fields, shared weights, several feature maps.

A ``Conv`` layer slides ``maps`` filters of ``kernel`` x ``kernel`` weights over every input
map at once ("valid" positions only, stride 1): an input (height, width, channels) gives an
output (height - kernel + 1, width - kernel + 1, maps). Every output neuron of map f looks at
one kernel x kernel x channels patch of the input and computes

    z[i, j, f] = b[f] + sum_{di, dj, c} x[i + di, j + dj, c] * w[di, dj, c, f]

(a cross-correlation, as PyTorch's and most libraries' "convolution"; the book's Theano flips
the filter, which only mirrors what a learned filter looks like). Then y = activation(z).

How it is computed (im2col): ``sliding_window_view`` sees the input as one kernel x kernel x
channels patch per output position without copying; one copy lays those patches out as the
rows of a matrix ``cols`` (batch * out_h * out_w, kernel * kernel * channels), and the whole
layer is one matrix product ``cols @ W`` with W (kernel * kernel * channels, maps). With one
input channel (the first layer of an MNIST network) the patches are laid out column by column
instead, ``cols`` (kernel * kernel, batch * out_h * out_w), because that copy moves rows of
out_w neighbouring pixels at once, not runs of kernel (measured 3.7x faster); the product is
then ``cols^T @ W``, which BLAS takes without a copy. Backward is two more products,
dW = cols^T dz and dcols = dz W^T, the bias's gradient a product with a vector of ones (9x
faster than ``sum(axis=0)`` down 5,760 rows, measured), and ``col2im``, which adds every
patch's share back into the input position it came from, in two passes of shifted slices:
first the kernel's rows (k adds of whole kernel rows, runs of kernel * channels numbers),
then its columns (k adds): 10 adds for a 5 x 5 kernel instead of 25 adds of runs of
``channels`` numbers (measured 1.8x faster in float32).

The layer keeps the layer contract of ``nndl.engine``: batches are (batch, height, width,
channels); ``forward(x, train=True)`` keeps ``cols`` and the output for ``backward``;
``backward(dy)`` (or ``backward(dz, wrt_z=True)``) fills ``w.grad`` and ``b.grad`` with the
gradient summed over the batch and returns dC/dx. The buffers of training steps are made once
per batch size and reused (allocating a few MB each step costs page faults, measured): the
arrays that ``forward(..., train=True)`` and ``backward`` return are valid until the next call.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..checks import check_int
from ..errors import ConfigError
from ..registry import lookup
from .activations import LAYER_ACTIVATIONS
from .base import Layer, Param

MAX_MAPS = 4096  # feature maps a conv layer may have: bounds what a layer spec can ask for
MAX_KERNEL = 64  # a kernel's side


def image_shape(in_shape, what: str) -> tuple[int, int, int]:
    """``in_shape`` as (height, width, channels), else a ``ConfigError`` naming ``what``."""
    shape = tuple(in_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s >= 1 for s in shape):
        raise ConfigError(f"{what} needs images (height, width, channels) below it, got the shape {shape}")
    return shape


class Conv(Layer):
    """``maps`` filters of ``kernel`` x ``kernel`` over an input of per-example shape ``in_shape``
    (height, width, channels); output (height - kernel + 1, width - kernel + 1, maps).

    ``w``: (kernel, kernel, channels, maps), ``b``: (maps,). ``activation``: a registered name
    ('sigmoid', 'tanh', 'relu', or 'linear'). The parameters start at 0; the network draws
    them (``init_biases``, ``init_weights``): biases N(0, 1), weights scaled for the fan-in
    kernel * kernel * channels by the registered initializer ('default': N(0, 1/fan_in);
    'he': N(0, 2/fan_in), for ReLU).
    """

    kind = "conv"

    def __init__(self, in_shape, maps: int, kernel: int, activation="sigmoid", dtype=np.float64):
        H, W, C = image_shape(in_shape, "a conv layer")
        maps = check_int("a conv layer's maps", maps, 1, MAX_MAPS)
        kernel = check_int("a conv layer's kernel", kernel, 1, MAX_KERNEL)
        if kernel > min(H, W):
            raise ConfigError(f"a {kernel}x{kernel} kernel does not fit in {H}x{W} images")
        self.maps, self.kernel = maps, kernel
        self.activation = lookup(LAYER_ACTIVATIONS, activation, "activation")
        self.dtype = dtype = np.dtype(dtype).type
        w = np.zeros((kernel, kernel, C, maps), dtype)  # (k, k, C, maps)
        b = np.zeros(maps, dtype)  # (maps,)
        self.w = Param("w", w, np.zeros_like(w), True)
        self.b = Param("b", b, np.zeros_like(b), False)
        super().__init__((H, W, C), (H - kernel + 1, W - kernel + 1, maps), [self.w, self.b])
        self._k_major = C == 1  # one input map: patches laid out column by column (see above)
        self._buf: dict = {}

    def init_biases(self, rng):
        self.b.value[...] = rng.standard_normal(self.maps)  # (maps,)

    def init_weights(self, rng, initializer):
        k, C, F = self.kernel, self.in_shape[2], self.maps
        w = rng.standard_normal((F, k * k * C)).astype(self.dtype, copy=False)  # (maps, fan_in)
        initializer.scale_(w)
        self.w.value[...] = w.T.reshape(k, k, C, F)  # (k, k, C, maps)

    @classmethod
    def from_spec(cls, spec: dict, in_shape: tuple, dtype) -> Conv:
        return cls(tuple(in_shape), spec.get("maps"), spec.get("kernel"), spec.get("activation", "sigmoid"), dtype)

    def spec(self) -> dict:
        return {"kind": self.kind, "maps": self.maps, "kernel": self.kernel, "activation": self.activation.name}

    def _buffers(self, m: int) -> dict:
        """The training buffers for batches of ``m`` (made once per m)."""
        if m not in self._buf:
            (H, W, C), (Ho, Wo, F), k, t = self.in_shape, self.out_shape, self.kernel, self.dtype
            shape = (k, k, C, m, Ho, Wo) if self._k_major else (m, Ho, Wo, k, k, C)
            self._buf[m] = {
                "cols": np.empty(shape, t),  # (batch, out_h, out_w, k, k, C) or (k, k, 1, batch, out_h, out_w)
                "ones": np.ones(m * Ho * Wo, t),  # (batch*out_h*out_w,)
                "rows": np.empty((m, H, Wo, k, C), t),  # (batch, height, out_w, k, channels): col2im's first pass
                "y": np.empty((m, Ho, Wo, F), t),  # (batch, out_h, out_w, maps)
                "dz": np.empty((m, Ho, Wo, F), t),  # (batch, out_h, out_w, maps)
                "tmp": np.empty((m, Ho, Wo, F), t),  # (batch, out_h, out_w, maps)
                "dcols": np.empty((m, Ho, Wo, k, k, C), t),  # (batch, out_h, out_w, k, k, channels)
                "dx": np.empty((m, H, W, C), t),  # (batch, height, width, channels)
            }
        return self._buf[m]

    def forward(self, x, train: bool = False):
        """x (batch, height, width, channels) -> y (batch, out_h, out_w, maps)."""
        m, k = len(x), self.kernel
        (Ho, Wo, F), C = self.out_shape, self.in_shape[2]
        P, K = m * Ho * Wo, k * k * C
        win = sliding_window_view(x, (k, k), axis=(1, 2))  # (batch, out_h, out_w, C, k, k) view
        if train:
            buf = self._buffers(m)
            cols, y = buf["cols"], buf["y"]
            self._x_cols, self._y = cols, y
        else:
            cols = np.empty((k, k, C, m, Ho, Wo) if self._k_major else (m, Ho, Wo, k, k, C), self.dtype)
            y = np.empty((m, Ho, Wo, F), self.dtype)
        z = y.reshape(P, F)  # (batch*out_h*out_w, maps) view
        Wm = self.w.value.reshape(K, F)  # (k*k*C, maps)
        if self._k_major:
            np.copyto(cols, win.transpose(4, 5, 3, 0, 1, 2))  # (k, k, 1, batch, out_h, out_w)
            np.matmul(cols.reshape(K, P).T, Wm, out=z)
        else:
            np.copyto(cols, win.transpose(0, 1, 2, 4, 5, 3))  # (batch, out_h, out_w, k, k, C)
            np.matmul(cols.reshape(P, K), Wm, out=z)
        z += self.b.value
        with np.errstate(over="ignore"):
            self.activation.fn_(y)  # (batch, out_h, out_w, maps)
        return y

    def backward(self, dy, wrt_z: bool = False):
        """dy = dC/dy (batch, out_h, out_w, maps) (or dC/dz with ``wrt_z``) -> dC/dx
        (batch, height, width, channels); fills ``w.grad`` and ``b.grad`` (summed over the batch).
        Returns None for the network's first layer (``bottom``: nothing below needs it)."""
        m, k = len(dy), self.kernel
        (_, _, C), (Ho, Wo, F) = self.in_shape, self.out_shape
        buf = self._buffers(m)
        dz = buf["dz"]
        np.copyto(dz, dy)
        if not wrt_z:
            self.activation.times_prime_(dz, self._y, buf["tmp"])  # (batch, out_h, out_w, maps)
        P, K = m * Ho * Wo, k * k * C
        dz2 = dz.reshape(P, F)  # (batch*out_h*out_w, maps)
        colsT = self._x_cols.reshape(K, P) if self._k_major else self._x_cols.reshape(P, K).T  # (k*k*C, P)
        np.matmul(colsT, dz2, out=self.w.grad.reshape(K, F))  # (k*k*C, maps)
        np.matmul(buf["ones"], dz2, out=self.b.grad)  # (maps,)
        if self.bottom:
            return None
        dcols, rows, dx = buf["dcols"], buf["rows"], buf["dx"]
        np.matmul(dz2, self.w.value.reshape(K, F).T, out=dcols.reshape(P, K))  # (P, k*k*C)
        rows.fill(0)  # col2im, pass 1: the kernel's rows
        for i in range(k):
            rows[:, i : i + Ho] += dcols[:, :, :, i]  # (batch, out_h, out_w, k, C)
        dx.fill(0)  # pass 2: the kernel's columns
        for j in range(k):
            dx[:, :, j : j + Wo, :] += rows[:, :, :, j, :]  # (batch, height, out_w, C)
        return dx
