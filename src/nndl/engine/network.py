"""A fully connected feedforward network: parameters, forward pass and backpropagation.

Layout (network2's, so the book's code can read and assign them):
``weights[l]`` is (n_out, n_in) and ``biases[l]`` is (n_out, 1) for layer l = 0..L-2.
Batches are matrices with one example per row: X (m, n_in) -> outputs (m, n_out), so a
mini-batch is one matrix product per layer and no Python loop runs over examples.

Storage: layer l's parameters live in one array ``_params[l]`` of shape (n_in + 1, n_out),
the weight matrix transposed with the biases as its last row. One row per input is what
the sparse first layer of ``nndl.engine.windowed`` gathers and scatters (whole contiguous rows),
and the products ``X @ P[:-1]`` and ``X.T @ d`` need no transposed copies. ``weights`` and
``biases`` are transposed views of it, so assigning into them (or to them) changes the
network.

The update rule is not here: ``nndl.engine.training`` owns the loop and ``nndl.engine.rules`` the step;
``nndl.engine.windowed`` is plain gradient descent fused with backprop, several mini-batches at
a time, for speed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .activations import ACTIVATIONS, saturated_share
from ..checks import check_dtype, check_float, check_sizes
from ..config import as_rng
from .costs import get_cost
from ..errors import ConfigError
from ..examples import Examples, as_examples
from .initializers import get_initializer
from ..registry import lookup

class Workspace:
    """Preallocated buffers for one mini-batch size, reused every step (no allocation).

    ``a[l]`` holds activations (m, sizes[l]) (``a[0]`` is the input batch), ``z[l]`` the
    weighted inputs (m, sizes[l+1]), ``t`` the targets (m, n_out). ``g[l]`` (n_in + 1, n_out)
    holds a scaled gradient in the parameters' layout (``Network._params``); ``gw[l]``
    (n_out, n_in) and ``gb[l]`` (n_out,) are its views in network2's shapes. Training
    itself runs several mini-batches at a time in ``nndl.engine.windowed.WindowWorkspace``.
    """

    def __init__(self, sizes: Sequence[int], m: int, dtype):
        self.m = m
        self.a = [np.empty((m, n), dtype) for n in sizes]                # (m, n_l)
        self.z = [np.empty((m, n), dtype) for n in sizes[1:]]            # (m, n_{l+1})
        self.t = np.empty((m, sizes[-1]), dtype)                         # (m, n_out)
        self.g = [np.empty((i + 1, o), dtype) for i, o in zip(sizes[:-1], sizes[1:])]  # (n_in+1, n_out)
        self.gw = [g[:-1].T for g in self.g]                             # (n_out, n_in) views
        self.gb = [g[-1] for g in self.g]                                # (n_out,) views


class Network:
    """A feedforward network with a registered cost, initializer, hidden activation and dtype.

    Hidden layers use ``activation`` (sigmoid, tanh or relu); the output layer uses the
    activation its cost is made for (``cost.output``: sigmoid, or softmax for the
    log-likelihood cost). ``rng`` (a ``numpy.random.Generator`` or an int seed) makes the
    initial weights repeatable; None draws fresh entropy, as the book's global ``np.random`` does.
    """

    def __init__(self, sizes, cost="cross-entropy", *, init="default", activation="sigmoid",
                 dtype="float64", rng=None):
        self.sizes = list(check_sizes(sizes))
        self.num_layers = len(self.sizes)
        self.cost = get_cost(cost)
        self.activation = lookup(ACTIVATIONS, activation, "activation")
        self.output = self.cost.output                                  # fixed by the cost
        self.dtype = check_dtype(dtype)
        self.init = init
        self._params: list[np.ndarray] = []                             # (n_in+1, n_out) each
        self.initialize(init, rng)

    # -- parameters -------------------------------------------------------------------
    def initialize(self, init="default", rng=None):
        """(Re)draw all weights and biases with the registered initializer ``init``."""
        weights, biases = get_initializer(init)(self.sizes, as_rng(rng), self.dtype)
        self.init = init
        self._params = [np.empty((i + 1, o), self.dtype) for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        self.weights, self.biases = weights, biases

    def default_weight_initializer(self, rng=None):
        """Weights N(0, 1/n_in), biases N(0, 1): keeps hidden neurons out of saturation."""
        self.initialize("default", rng)

    def large_weight_initializer(self, rng=None):
        """Weights and biases N(0, 1): the old scheme, kept for comparison."""
        self.initialize("large", rng)

    @property
    def _weights(self) -> list[np.ndarray]:
        return [p[:-1].T for p in self._params]                          # (n_out, n_in) views

    @property
    def _biases(self) -> list[np.ndarray]:
        return [p[-1:].T for p in self._params]                          # (n_out, 1) views

    @property
    def weights(self) -> list[np.ndarray]:
        """Weight matrices, (n_out, n_in) each: views of the network's own storage."""
        return self._weights

    @weights.setter
    def weights(self, value):
        shapes = [(o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        for p, w in zip(self._params, self._checked_params(value, shapes, "weights")):
            p[:-1] = w.T

    @property
    def biases(self) -> list[np.ndarray]:
        """Bias columns, (n_out, 1) each: views of the network's own storage."""
        return self._biases

    @biases.setter
    def biases(self, value):
        for p, b in zip(self._params, self._checked_params(value, [(o, 1) for o in self.sizes[1:]], "biases")):
            p[-1] = b[:, 0]

    def _checked_params(self, value, shapes, name):
        arrays = list(value)
        if len(arrays) != len(shapes):
            raise ConfigError(f"{name}: expected {len(shapes)} arrays for sizes {self.sizes}, got {len(arrays)}")
        out = []
        for l, (arr, shape) in enumerate(zip(arrays, shapes)):
            arr = np.array(arr, dtype=self.dtype, copy=True, order="C")
            if name == "biases" and arr.shape == (shape[0],):
                arr = arr.reshape(shape)
            if arr.shape != shape:
                raise ConfigError(f"{name}[{l}] must have shape {shape}, got {arr.shape}")
            if not np.isfinite(arr).all():
                raise ConfigError(f"{name}[{l}] contains nan or infinite values")
            out.append(arr)
        return out

    def n_params(self) -> int:
        """Number of trainable numbers (weights and biases)."""
        return sum(w.size + b.size for w, b in zip(self._weights, self._biases))

    # -- forward ----------------------------------------------------------------------
    def feedforward(self, a):
        """The network's output for input ``a``.

        ``a`` may be one column (n_in, 1) as in the book -> (n_out, 1); a flat vector
        (n_in,) -> (n_out,); or a batch (m, n_in), one example per row -> (m, n_out).
        """
        a = np.asarray(a, dtype=self.dtype)
        n_in = self.sizes[0]
        column = a.ndim == 2 and a.shape == (n_in, 1) and n_in != 1
        flat = a.ndim == 1
        X = a.reshape(1, -1) if (column or flat) else a
        if X.ndim != 2 or X.shape[1] != n_in:
            raise ConfigError(f"input must have {n_in} values per example (a column ({n_in}, 1) "
                              f"or rows (m, {n_in})), got shape {a.shape}")
        out = self.forward(X)
        return out.reshape(-1, 1) if column else (out.reshape(-1) if flat else out)

    def activations_of(self, l: int):
        """The activation of layer l's neurons (l = 0 .. L-2 counts weight layers): the hidden
        activation, or the cost's output activation for the last layer."""
        return self.output if l == len(self._params) - 1 else self.activation

    def forward(self, X):
        """Batch forward pass: X (m, n_in) -> outputs (m, n_out). No checks (hot path)."""
        return self.forward_layers(X)[-1]

    def forward_layers(self, X) -> list:
        """Every layer's activations for X (m, n_in): [X, a_1 (m, n_1), ..., outputs (m, n_out)].

        The same arithmetic as ``forward`` (which returns only the last); the report page's
        JavaScript forward pass mirrors this function line by line.
        """
        out = [X]
        with np.errstate(over="ignore"):
            for l, (w, b) in enumerate(zip(self._weights, self._biases)):
                z = out[-1] @ w.T + b.T                                  # (m, n_{l+1})
                out.append(self.activations_of(l).fn_(z))                # (m, n_{l+1})
        return out

    def saturation(self, X) -> list[float]:
        """Per hidden layer, the share of (example, neuron) pairs of X (m, n_in) that are
        saturated: derivative below 4 % of its largest value (``nndl.engine.activations.SATURATED``;
        for the sigmoid, sigma'(z) < 0.01). Where learning has stalled in the hidden layers."""
        layers = self.forward_layers(X)
        return [saturated_share(self.activation, a) for a in layers[1:-1]]

    def chunk_rows(self, budget_bytes: int = 256 * 2**20) -> int:
        """Rows a forward pass takes at a time: 10,000, or fewer when the layers are so wide that
        10,000 rows of every layer's activations would need more than ``budget_bytes``."""
        per_row = 8 * sum(self.sizes) * 2                                # activations and z, float64
        return max(1, min(10000, budget_bytes // per_row))

    def predict(self, X, chunk: int | None = None):
        """Predicted class of each row of X (m, n_in) -> (m,) int64."""
        chunk = chunk or self.chunk_rows()
        return np.concatenate([self.forward(X[i:i + chunk]).argmax(axis=1)
                               for i in range(0, len(X), chunk)]) if len(X) else np.empty(0, np.int64)

    # -- evaluation -------------------------------------------------------------------
    def examples(self, data, name="data") -> Examples:
        """``data`` in any accepted format (see ``nndl.examples``) as checked arrays."""
        return as_examples(data, self.sizes[0], self.sizes[-1], self.dtype, name)

    def evaluate(self, data, lmbda: float = 0.0, *, cost: bool = True, accuracy: bool = True,
                 chunk: int | None = None, regularizer=None) -> tuple[float | None, int | None]:
        """(total cost, number correct) of ``data`` from one forward pass; None where not asked.

        The cost is network2's ``total_cost``: the mean cost plus the regularizer's term for
        a set of n = len(data) examples - (lmbda / 2n) sum ||w||^2 for L2 (the default), as
        network2 computes it. Rows go through in chunks of ``chunk`` (default ``chunk_rows()``)
        to bound memory.
        """
        from .regularizers import L2

        lmbda = check_float("lmbda", lmbda, 0.0, strict=False)
        chunk = chunk or self.chunk_rows()
        ex = self.examples(data)
        n, total, correct = len(ex), 0.0, 0
        for i in range(0, n, chunk):
            out = self.forward(ex.X[i:i + chunk])                        # (chunk, n_out)
            if cost:
                total += self.cost.fn(out, ex.targets[i:i + chunk])
            if accuracy:
                correct += int(np.count_nonzero(out.argmax(axis=1) == ex.labels[i:i + chunk]))
        penalty = (regularizer or L2).cost(self._weights, lmbda, n) if cost else 0.0
        return (total / n + penalty if cost else None), (correct if accuracy else None)

    def accuracy(self, data) -> int:
        """Number of examples whose most active output is the right label."""
        return self.evaluate(data, cost=False)[1]

    def total_cost(self, data, lmbda: float = 0.0) -> float:
        """Mean cost over ``data`` plus the L2 term (lmbda / 2n) * sum ||w||^2, n = len(data)."""
        return self.evaluate(data, lmbda, accuracy=False)[0]

    # -- backpropagation --------------------------------------------------------------
    def gradients_into(self, ws: Workspace, scale: float, masks=None) -> None:
        """Backpropagate the batch held in ``ws`` (``a[0]`` inputs, ``t`` targets).

        Leaves ``scale`` times the gradient of the cost summed over the batch in
        ``ws.gw`` (n_out, n_in) and ``ws.gb`` (n_out,). Folding ``scale`` (e.g. -eta/m)
        into the small output error, before it fans out, saves a pass over every weight.
        ``masks`` (``nndl.engine.dropout``): per layer of neurons a (m, n_l) array of 0 and
        1/(1-p), or None; a hidden layer's output is multiplied by its mask, so a dropped
        neuron passes nothing forward and no error back.
        """
        P, L = self._params, len(self._params)
        raw = list(ws.a)                                                 # unmasked activations
        for l in range(L):
            np.matmul(ws.a[l], P[l][:-1], out=ws.z[l])                   # (m, n_out)
            ws.z[l] += P[l][-1]
            self.activations_of(l).fn_(ws.z[l], out=ws.a[l + 1])
            if masks is not None and masks[l + 1] is not None:
                raw[l + 1] = ws.a[l + 1].copy()
                ws.a[l + 1] *= masks[l + 1]                              # (m, n_{l+1}) dropped: 0
        d = self.cost.delta(ws.z[-1], ws.a[-1], ws.t)                    # (m, n_out)
        d *= scale
        for l in range(L - 1, -1, -1):
            np.matmul(ws.a[l].T, d, out=ws.g[l][:-1])                    # (n_in, n_out)
            np.sum(d, axis=0, out=ws.g[l][-1])                           # (n_out,)
            if l:
                d = d @ P[l][:-1].T                                      # (m, n_in)
                if masks is not None and masks[l] is not None:
                    d *= masks[l]
                d *= self.activation.prime_from_output(raw[l])

    def backprop(self, x, y):
        """network2's per-example gradient: (nabla_b, nabla_w) for one column x and target y.

        ``y`` may be a one-hot column or an int label. Shapes are the parameters' shapes.
        """
        ex = self.examples([(x, y)], "backprop input")
        ws = Workspace(self.sizes, 1, self.dtype)
        ws.a[0][...] = ex.X
        ws.t[...] = ex.targets
        self.gradients_into(ws, 1.0)
        return [gb.reshape(-1, 1).copy() for gb in ws.gb], [gw.copy() for gw in ws.gw]
