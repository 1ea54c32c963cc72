"""A network: a stack of layers (``nndl.engine.layers``) and a cost; forward pass and backpropagation.

network2's dense network [784, 100, 10] is the stack [Dense(784 -> 100, sigmoid),
Dense(100 -> 10, the cost's output activation)]: ``Network(sizes, ...)`` builds it, and
``Network.stack(in_shape, specs, ...)`` builds any other stack from layer specs. Batches are
matrices with one example per row: X (m, n_in) -> outputs (m, n_out), so a mini-batch is one
pass through the layers and no Python loop runs over examples (an image network reshapes the
rows to (m, height, width, channels) on the way in).

Layout (network2's, so the book's code can read and assign them): ``weights[l]`` is
(n_out, n_in) and ``biases[l]`` is (n_out, 1) for dense layer l = 0..L-2: views of each
layer's storage ``Dense.P`` (n_in + 1, n_out), so assigning into them (or to them) changes the
network.

The update rule is not here: ``nndl.engine.training`` owns the loop and ``nndl.engine.rules``
the step; ``nndl.engine.windowed`` is plain gradient descent fused with backprop, several
mini-batches at a time, for dense stacks.
"""

from __future__ import annotations

import math

import numpy as np

from ..checks import check_dtype, check_float, check_sizes
from ..config import as_rng
from ..errors import ConfigError
from ..examples import Examples, as_examples
from ..registry import lookup
from .activations import ACTIVATIONS, LAYER_ACTIVATIONS, saturated_share
from .costs import get_cost
from .initializers import get_initializer
from .layers import Dense, Layer, build_layer

EVAL_ROWS = 10_000  # rows a forward pass takes at a time when evaluating (fewer for very wide layers)


class Network:
    """A feedforward network with a registered cost, initializer, hidden activation and dtype.

    Hidden layers use ``activation`` (sigmoid, tanh or relu); the output layer uses the
    activation its cost is made for (``cost.output``: sigmoid, or softmax for the
    log-likelihood cost). ``rng`` (a ``numpy.random.Generator`` or an int seed) makes the
    initial weights repeatable; None draws fresh entropy, as the book's global ``np.random`` does.

    ``layers`` is the stack, ``params`` every layer's ``Param`` in order (what the update rule
    changes), ``sizes`` the number of values per example into the first layer and out of each.
    """

    def __init__(self, sizes, cost="cross-entropy", *, init="default", activation="sigmoid", dtype="float64", rng=None):
        sizes = list(check_sizes(sizes))
        self.cost = get_cost(cost)
        self.activation = lookup(ACTIVATIONS, activation, "activation")
        specs = [{"kind": "dense", "n": n, "activation": self.activation.name} for n in sizes[1:-1]]
        specs.append({"kind": "dense", "n": sizes[-1], "activation": self.cost.output.name})
        self._build((sizes[0],), specs, dtype)
        self.initialize(init, rng)

    @classmethod
    def stack(cls, in_shape, specs, cost="cross-entropy", *, init="default", dtype="float64", rng=None):
        """A network of the layers ``specs`` describe (``nndl.engine.layers.LAYERS``) on inputs of
        ``in_shape`` (one example: ``(n,)`` or ``(height, width, channels)``); the last layer's
        activation is the cost's (its spec may leave it out). Hidden dense layers' activation is
        the network's ``activation`` (the first one found; sigmoid if none)."""
        self = cls.__new__(cls)
        self.cost = get_cost(cost)
        specs = [dict(s) if isinstance(s, dict) else s for s in specs]
        if not specs:
            raise ConfigError("a network needs at least one layer")
        if isinstance(specs[-1], dict):
            specs[-1]["activation"] = self.cost.output.name
        hidden = [s.get("activation") for s in specs[:-1] if isinstance(s, dict) and s.get("activation")]
        # the network's hidden neurons (what files and reports name): the first that are not network3's
        # linear ones, which their own layers build (and an unknown name is refused here)
        network3_only = LAYER_ACTIVATIONS.keys() - ACTIVATIONS.keys()
        named = [a for a in hidden if not (isinstance(a, str) and a in network3_only)]
        self.activation = lookup(ACTIVATIONS, named[0] if named else "sigmoid", "activation")
        self._build(tuple(in_shape), specs, dtype)
        self.initialize(init, rng)
        return self

    def _build(self, in_shape: tuple, specs: list, dtype) -> None:
        self.dtype = check_dtype(dtype)
        self.output = self.cost.output  # fixed by the cost
        self.in_shape = tuple(in_shape)
        self.layers: list[Layer] = []
        shape = self.in_shape
        for spec in specs:
            self.layers.append(build_layer(spec, shape, self.dtype))
            shape = self.layers[-1].out_shape
        self.layers[0].bottom = True
        self.params = [p for layer in self.layers for p in layer.params]
        self.sizes = [math.prod(self.in_shape)] + [math.prod(layer.out_shape) for layer in self.layers]
        self.num_layers = len(self.sizes)
        # network2's dense network: what the windowed engine and network2's weights/biases take
        self.dense = (
            all(type(layer) is Dense for layer in self.layers)
            and len(self.in_shape) == 1
            and all(layer.activation is self.activation for layer in self.layers[:-1])
        )

    def specs(self) -> list[dict]:
        """The stack as layer specs (JSON-ready): what a model file records."""
        return [layer.spec() for layer in self.layers]

    # -- parameters -------------------------------------------------------------------
    def initialize(self, init="default", rng=None):
        """(Re)draw all weights and biases with the registered initializer ``init``: every
        layer's biases first, then every layer's weights (network2's order of draws)."""
        initializer, rng = get_initializer(init), as_rng(rng)
        for layer in self.layers:
            layer.init_biases(rng)
        for layer in self.layers:
            layer.init_weights(rng, initializer)
        self.init = init

    def default_weight_initializer(self, rng=None):
        """Weights N(0, 1/n_in), biases N(0, 1): keeps hidden neurons out of saturation."""
        self.initialize("default", rng)

    def large_weight_initializer(self, rng=None):
        """Weights and biases N(0, 1): the old scheme, kept for comparison."""
        self.initialize("large", rng)

    def _dense_layers(self) -> list:
        if not self.dense:
            raise ConfigError(
                "weights and biases in network2's layout exist for dense networks only; use net.layers and their params"
            )
        return self.layers

    @property
    def weights(self) -> list[np.ndarray]:
        """Weight matrices, (n_out, n_in) each: views of the network's own storage."""
        return [layer.P[:-1].T for layer in self._dense_layers()]  # (n_out, n_in) views

    @weights.setter
    def weights(self, value):
        shapes = [(o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        for layer, w in zip(self._dense_layers(), self._checked_params(value, shapes, "weights")):
            layer.P[:-1] = w.T

    @property
    def biases(self) -> list[np.ndarray]:
        """Bias columns, (n_out, 1) each: views of the network's own storage."""
        return [layer.P[-1:].T for layer in self._dense_layers()]  # (n_out, 1) views

    @biases.setter
    def biases(self, value):
        shapes = [(o, 1) for o in self.sizes[1:]]
        for layer, b in zip(self._dense_layers(), self._checked_params(value, shapes, "biases")):
            layer.P[-1] = b[:, 0]

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
        return sum(p.value.size for p in self.params)

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
            raise ConfigError(
                f"input must have {n_in} values per example (a column ({n_in}, 1) "
                f"or rows (m, {n_in})), got shape {a.shape}"
            )
        out = self.forward(X)
        return out.reshape(-1, 1) if column else (out.reshape(-1) if flat else out)

    def activations_of(self, l: int):
        """The activation of layer l's neurons (l = 0 .. L-2 counts the layers): the hidden
        activation, or the cost's output activation for the last layer."""
        return self.layers[l].activation

    def forward(self, X):
        """Batch forward pass: X (m, n_in) -> outputs (m, n_out). No checks (hot path)."""
        return self.forward_layers(X)[-1]

    def forward_layers(self, X) -> list:
        """Every layer's activations for X (m, n_in): [X, a_1 (m, n_1), ..., outputs (m, n_out)],
        each (m, *out_shape) of its layer.

        The same arithmetic as ``forward`` (which returns only the last); the report page's
        JavaScript forward pass mirrors this function (and ``Dense.forward``) line by line.
        """
        out = [X]
        x = X.reshape(len(X), *self.in_shape)  # (m, *in_shape)
        with np.errstate(over="ignore"):
            for layer in self.layers:
                x = layer.forward(x)  # (m, *out_shape)
                out.append(x)
        return out

    def saturation(self, X) -> list[float]:
        """Per hidden layer with neurons, the share of (example, neuron) pairs of X (m, n_in)
        that are saturated: derivative below 4 % of its largest value
        (``nndl.engine.activations.SATURATED``; for the sigmoid, sigma'(z) < 0.01). Where
        learning has stalled in the hidden layers."""
        outputs = self.forward_layers(X)[1:-1]
        return [
            saturated_share(layer.activation, a)
            for layer, a in zip(self.layers, outputs)
            if layer.activation is not None
        ]

    def chunk_rows(self, budget_bytes: int = 256 * 2**20) -> int:
        """Rows a forward pass takes at a time: 10,000, or fewer when the layers are so wide that
        10,000 rows of every layer's activations would need more than ``budget_bytes``."""
        per_row = 8 * sum(self.sizes) * 2  # activations and z, float64
        return max(1, min(EVAL_ROWS, budget_bytes // per_row))

    def predict(self, X, chunk: int | None = None):
        """Predicted class of each row of X (m, n_in) -> (m,) int64."""
        chunk = chunk or self.chunk_rows()
        return (
            np.concatenate([self.forward(X[i : i + chunk]).argmax(axis=1) for i in range(0, len(X), chunk)])
            if len(X)
            else np.empty(0, np.int64)
        )

    # -- evaluation -------------------------------------------------------------------
    def examples(self, data, name="data") -> Examples:
        """``data`` in any accepted format (see ``nndl.examples``) as checked arrays."""
        return as_examples(data, self.sizes[0], self.sizes[-1], self.dtype, name)

    def evaluate(
        self,
        data,
        lmbda: float = 0.0,
        *,
        cost: bool = True,
        accuracy: bool = True,
        chunk: int | None = None,
        regularizer=None,
    ) -> tuple[float | None, int | None]:
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
            out = self.forward(ex.X[i : i + chunk])  # (chunk, n_out)
            if cost:
                total += self.cost.fn(out, ex.targets[i : i + chunk])
            if accuracy:
                correct += int(np.count_nonzero(out.argmax(axis=1) == ex.labels[i : i + chunk]))
        penalty = (regularizer or L2).cost(self.decaying(), lmbda, n) if cost else 0.0
        return (total / n + penalty if cost else None), (correct if accuracy else None)

    def accuracy(self, data) -> int:
        """Number of examples whose most active output is the right label."""
        return self.evaluate(data, cost=False)[1]

    def total_cost(self, data, lmbda: float = 0.0) -> float:
        """Mean cost over ``data`` plus the L2 term (lmbda / 2n) * sum ||w||^2, n = len(data)."""
        return self.evaluate(data, lmbda, accuracy=False)[0]

    def decaying(self) -> list[np.ndarray]:
        """The parameters the regularizer acts on (the weights), in the layers' order."""
        return [p.value for p in self.params if p.decays]

    # -- backpropagation --------------------------------------------------------------
    def gradients(self, X, T, scale: float, masks=None) -> None:
        """Backpropagate the batch X (m, n_in) with targets T (m, n_out) through the stack.

        Leaves ``scale`` times the gradient of the cost summed over the batch in every
        ``param.grad``. Folding ``scale`` (e.g. -eta/m) into the small output error, before it
        fans out, saves a pass over every weight. ``masks`` (``nndl.engine.dropout``): per
        layer of neurons a (m, n_l) array of 0 and 1/(1-p), or None; a hidden layer's output is
        multiplied by its mask, so a dropped neuron passes nothing forward and no error back.
        """
        L = len(self.layers)
        x = X.reshape(len(X), *self.in_shape)  # (m, *in_shape)
        for l, layer in enumerate(self.layers):
            x = layer.forward(x, train=True)  # (m, *out_shape)
            if masks is not None and masks[l + 1] is not None:
                x = x * masks[l + 1].reshape(x.shape)  # dropped: 0
        last = self.layers[-1]
        d = self.cost.delta(last.z, last.a, T)  # (m, n_out)
        d *= scale
        d = last.backward(d, wrt_z=True)  # (m, *in_shape of the last)
        for l in range(L - 2, -1, -1):
            if masks is not None and masks[l + 1] is not None:
                d *= masks[l + 1].reshape(d.shape)
            d = self.layers[l].backward(d)

    def backprop(self, x, y):
        """network2's per-example gradient: (nabla_b, nabla_w) for one column x and target y.

        ``y`` may be a one-hot column or an int label. Shapes are the parameters' shapes.
        """
        ex = self.examples([(x, y)], "backprop input")
        self.gradients(ex.X, ex.targets, 1.0)
        layers = self._dense_layers()
        return ([layer.G[-1].reshape(-1, 1).copy() for layer in layers], [layer.G[:-1].T.copy() for layer in layers])
