"""network3.py, the book's chapter 6 convolutional networks, on Python 3 and NumPy instead of Theano.

``import network3`` gives the names of Michael Nielsen's chapter 6 module: ``Network``,
``ConvPoolLayer``, ``FullyConnectedLayer``, ``SoftmaxLayer``, the neurons ``sigmoid``,
``tanh``, ``ReLU`` and ``linear``, ``load_data_shared`` and ``size``, so the book's snippets
run as written::

    training_data, validation_data, test_data = network3.load_data_shared()
    mini_batch_size = 10
    net = Network([
        ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28), filter_shape=(20, 1, 5, 5),
                      poolsize=(2, 2)),
        FullyConnectedLayer(n_in=20*12*12, n_out=100),
        SoftmaxLayer(n_in=100, n_out=10)], mini_batch_size)
    net.SGD(training_data, 60, mini_batch_size, 0.1, validation_data, test_data)

and print the book's lines ("Training mini-batch number 0", "Epoch 0: validation accuracy
97.74%", "This is the best validation accuracy to date.", "The corresponding test accuracy is
97.61%", ..., "Finished training network."). Underneath are nndl's layers
(``nndl.engine.conv``, ``nndl.engine.pool``, ``nndl.engine.layers.Dense``): images in
(batch, height, width, channels), a convolution as one matrix product.

What network3 does, kept here on purpose (its quirks, so its numbers mean the same):

* initial weights: a conv layer's N(0, 1/n_out) with n_out = maps * filter area / pool area,
  a fully connected layer's N(0, 1/n_out) (n_out its own neurons, not its inputs), biases
  N(0, 1); the softmax layer starts at zero;
* the cost is the mini-batch's *mean* log-likelihood plus 0.5 * lmbda * sum(w^2) /
  num_training_batches over the weights of every layer (conv, fully connected and softmax;
  never the biases), so a step is w <- w - eta * (mean gradient + lmbda * w /
  num_training_batches);
* a conv-pool layer max-pools the convolution first and adds its bias after, then applies
  its neuron: y = activation(pool(conv(x, w)) + b);
* the training data is used in the order given, every epoch (no shuffling); the mini-batches
  are the first ``len // mini_batch_size`` whole ones, and so are the validation and test
  mini-batches whose accuracies are averaged;
* dropout (``p_dropout``) drops a fully connected or softmax layer's *inputs* during training,
  unscaled, and multiplies the weighted input by 1 - p_dropout at test time;
* the test accuracy is measured only when validation accuracy reaches a new best (or equals it).

What differs from the book's Theano code:

* ``seed=`` (``Network`` and ``load_data_shared``) repeats a run exactly; without it each run
  draws fresh entropy, like the book's global ``np.random``. The weights are drawn when the
  ``Network`` is built, layer after layer (w, then b), so a layer's ``w`` and ``b`` exist from then.
* arrays are float32 by default (the book's GPU setting, ``floatX = 'float32'``); pass
  ``dtype="float64"`` to ``Network`` for float64.
* Theano's ``conv2d`` flips the filter (a true convolution); nndl's layers do not. A conv-pool
  layer's ``w`` (maps, input maps, height, width) is shown flipped, so it reads as the book's:
  ``w[f, c, i, j]`` multiplies the input pixel (k-1-i, k-1-j) of the patch, as in Theano.
* a fully connected layer after a conv-pool layer reads its input in (height, width, map)
  order rather than Theano's (map, height, width): only the order of the rows of its ``w``
  differs.
* ``load_data_shared`` reads MNIST through ``nndl.data`` (fetched and verified, no pickle):
  the default ``"../data/mnist.pkl.gz"`` means the book's MNIST split; a name ending in
  ``mnist_expanded.pkl.gz`` means the book's ``expand_mnist.py`` data (each training image
  and its four one-pixel shifts, 250,000 images, shuffled once); an ``.npz`` file (such as
  ``tests/data/mnist_sample.npz``) is read as ``nndl train --dataset`` reads it.
* ``SGD`` needs the mini-batch size the network was built for (Theano's graph was built for
  one size); a mismatch, or layers whose sizes do not fit together, is a clear error.
* The book prints "Trying to run under a GPU..." when it is imported; this module prints
  nothing until ``SGD`` runs.
"""

from __future__ import annotations

import math
import sys
from pathlib import PurePath

import numpy as np

from nndl.augment import SHIFTS, shift_images
from nndl.blas import blas_threads
from nndl.checks import check_float, check_int
from nndl.config import as_rng
from nndl.data import load_dataset
from nndl.engine.activations import LAYER_ACTIVATIONS, Sigmoid
from nndl.engine.base import Layer, Param
from nndl.engine.conv import Conv
from nndl.engine.layers import Dense
from nndl.engine.pool import Pool
from nndl.errors import ConfigError

__all__ = [
    "Network",
    "ConvPoolLayer",
    "FullyConnectedLayer",
    "SoftmaxLayer",
    "sigmoid",
    "tanh",
    "ReLU",
    "linear",
    "load_data_shared",
    "size",
]


# -- the book's neurons: functions of z, and the registered activation each one is ---------------


def linear(z):
    return z


def ReLU(z):
    return np.maximum(0.0, z)


def sigmoid(z):
    return Sigmoid.fn(z)


def tanh(z):
    return np.tanh(z)


NEURONS = {linear: "linear", ReLU: "relu", sigmoid: "sigmoid", tanh: "tanh"}


def _neuron(fn, where: str):
    if fn in NEURONS:
        return LAYER_ACTIVATIONS[NEURONS[fn]]
    raise ConfigError(f"{where}: activation_fn must be one of network3's sigmoid, tanh, ReLU or linear, got {fn!r}")


# -- the data ------------------------------------------------------------------------------------


def load_data_shared(filename="../data/mnist.pkl.gz", *, expand=None, seed=0):
    """The book's MNIST split as ``[(X, y), (X, y), (X, y)]``: training (50,000 images),
    validation and test (10,000 each); X (n, 784) float32 in [0, 1], y (n,) int64.

    ``filename`` names the data as the book does: ``mnist.pkl.gz`` (any folder) is MNIST,
    ``mnist_expanded.pkl.gz`` the expanded training set of ``expand_mnist.py`` (each image,
    then it moved one pixel down, up, right and left; the 250,000 shuffled once with ``seed``,
    as the book's script shuffled them once), and a path to an ``.npz`` a small data set
    (``expand=True`` expands its training set the same way).
    """
    name = PurePath(str(filename)).name
    if name.endswith(".npz"):
        splits = load_dataset(str(filename))
    elif name in ("mnist.pkl.gz", "mnist_expanded.pkl.gz"):
        splits = load_dataset("mnist")
    else:
        raise ConfigError(
            f"load_data_shared: unknown data {str(filename)[:80]!r}; use the book's "
            f"'../data/mnist.pkl.gz' or '../data/mnist_expanded.pkl.gz', or an .npz file"
        )
    training, validation, test = [(s.images, s.labels) for s in splits]
    if name == "mnist_expanded.pkl.gz" if expand is None else expand:
        training = expanded(*training, seed=seed)
    return [training, validation, test]


def expanded(X, y, *, seed=0):
    """expand_mnist.py's training set: each image (n, 784) followed by it moved one pixel down,
    up, right and left (zeros shifted in), 5n images shuffled once by ``seed``."""
    n, side = len(X), math.isqrt(X.shape[1])
    out = np.empty((n, len(SHIFTS), side, side), X.dtype)  # (n, 5, side, side)
    src = X.reshape(n, side, side)
    for k, (dy, dx) in enumerate(SHIFTS):
        shift_images(src, dy, dx, out[:, k])
    order = as_rng(seed).permutation(n * len(SHIFTS))
    return out.reshape(n * len(SHIFTS), side * side)[order], np.repeat(y, len(SHIFTS))[order]


def size(data):
    """The number of examples of ``data`` = (X, y)."""
    return len(data[0])


# -- the book's layers, on nndl's ------------------------------------------------------------------


class _ConvPool(Layer):
    """network3's conv-pool layer on the layer contract: y = act(pool(conv(x, w)) + b),
    the bias added after pooling. x (batch, height, width, maps in) -> (batch, h', w', maps)."""

    kind = "convpool"

    def __init__(self, in_shape, maps, kernel, pool, activation, dtype):
        self.conv = Conv(in_shape, maps, kernel, "linear", dtype)  # its own bias stays 0
        self.pool = Pool(self.conv.out_shape, pool, dtype)
        self.activation = activation
        b = np.zeros(maps, dtype)  # (maps,)
        self.b = Param("b", b, np.zeros_like(b), False)
        super().__init__(in_shape, self.pool.out_shape, [self.conv.w, self.b])

    def forward(self, x, train=False):
        y = self.pool.forward(self.conv.forward(x, train), train).copy()  # (batch, h', w', maps)
        y += self.b.value
        with np.errstate(over="ignore"):
            self.activation.fn_(y)
        if train:
            self._y = y
        return y

    def backward(self, dy, wrt_z=False):
        dq = dy if wrt_z else dy * self.activation.prime_from_output(self._y)  # (batch, h', w', maps)
        np.sum(dq, axis=(0, 1, 2), out=self.b.grad)
        self.conv.bottom = self.bottom
        return self.conv.backward(self.pool.backward(dq), wrt_z=True)


class ConvPoolLayer:
    """A convolutional layer and max-pooling, as the book combines them.

    ``filter_shape`` (maps, input maps, filter height, filter width); ``image_shape``
    (mini-batch size, input maps, image height, image width); ``poolsize`` (y, x); the
    filters and pools must be square. ``w`` (maps, input maps, height, width) and ``b``
    (maps,) exist once a ``Network`` holds the layer.
    """

    def __init__(self, filter_shape, image_shape, poolsize=(2, 2), activation_fn=sigmoid):
        self.filter_shape = tuple(check_int("filter_shape", v, 1) for v in _four(filter_shape, "filter_shape"))
        self.image_shape = tuple(check_int("image_shape", v, 1) for v in _four(image_shape, "image_shape"))
        self.poolsize = tuple(poolsize)
        self.activation_fn = activation_fn
        F, C, kh, kw = self.filter_shape
        if kh != kw or len(self.poolsize) != 2 or self.poolsize[0] != self.poolsize[1]:
            raise ConfigError(
                f"ConvPoolLayer: filters and pools must be square, got filter_shape "
                f"{self.filter_shape} and poolsize {self.poolsize}"
            )
        if C != self.image_shape[1]:
            raise ConfigError(
                f"ConvPoolLayer: filter_shape {self.filter_shape} takes {C} input maps but "
                f"image_shape {self.image_shape} has {self.image_shape[1]}"
            )
        self._activation = _neuron(activation_fn, "ConvPoolLayer")
        self.w = self.b = None
        self.params = []

    def _build(self, dtype):
        _, C, H, W = self.image_shape
        self.layer = _ConvPool(
            (H, W, C), self.filter_shape[0], self.filter_shape[2], self.poolsize[0], self._activation, dtype
        )
        return self.layer

    def _draw(self, rng):
        F, _, k, _ = self.filter_shape
        n_out = F * k * k / (self.poolsize[0] * self.poolsize[1])
        w = rng.normal(loc=0.0, scale=np.sqrt(1.0 / n_out), size=self.filter_shape)  # (maps, C, k, k)
        self.w = self.layer.conv.w.value[::-1, ::-1].transpose(3, 2, 0, 1)  # the book's view
        self.w[...] = w
        self.b = self.layer.b.value
        self.b[...] = rng.normal(loc=0.0, scale=1.0, size=self.b.shape)
        self.params = [self.w, self.b]


class FullyConnectedLayer:
    """``n_in`` inputs to ``n_out`` neurons; ``p_dropout`` drops inputs during training.
    ``w`` (n_in, n_out) and ``b`` (n_out,) exist once a ``Network`` holds the layer."""

    output_activation = None

    def __init__(self, n_in, n_out, activation_fn=sigmoid, p_dropout=0.0):
        self.n_in, self.n_out = check_int("n_in", n_in, 1), check_int("n_out", n_out, 1)
        self.activation_fn = activation_fn
        self.p_dropout = check_float("p_dropout", p_dropout, 0.0, strict=False, maximum=1.0, strict_max=True)
        self._activation = _neuron(activation_fn, type(self).__name__) if activation_fn is not None else None
        self.w = self.b = None
        self.params = []

    def _build(self, dtype):
        self.layer = Dense((self.n_in,), self.n_out, self.output_activation or self._activation, dtype)
        return self.layer

    def _draw(self, rng):
        self.w, self.b = self.layer.W, self.layer.P[-1]  # (n_in, n_out), (n_out,) views
        self.w[...] = rng.normal(loc=0.0, scale=np.sqrt(1.0 / self.n_out), size=self.w.shape)
        self.b[...] = rng.normal(loc=0.0, scale=1.0, size=self.b.shape)
        self.params = [self.w, self.b]


class SoftmaxLayer(FullyConnectedLayer):
    """The softmax output layer: ``n_in`` inputs to ``n_out`` classes, weights and biases
    starting at zero; with the log-likelihood cost."""

    output_activation = "softmax"

    def __init__(self, n_in, n_out, p_dropout=0.0):
        super().__init__(n_in, n_out, None, p_dropout)

    def _draw(self, rng):
        self.w, self.b = self.layer.W, self.layer.P[-1]
        self.params = [self.w, self.b]


def _four(value, name):
    value = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(value) != 4:
        raise ConfigError(f"ConvPoolLayer: {name} must be 4 numbers, got {value!r}"[:160])
    return value


# -- the network ----------------------------------------------------------------------------------


class Network:
    """``layers`` (the book's layer objects) trained with mini-batches of ``mini_batch_size``."""

    def __init__(self, layers, mini_batch_size, *, seed=None, dtype="float32"):
        self.layers = list(layers)
        self.mini_batch_size = check_int("mini_batch_size", mini_batch_size, 1)
        if not self.layers or not isinstance(self.layers[-1], SoftmaxLayer):
            raise ConfigError(
                "network3's Network needs layers ending in a SoftmaxLayer (its cost is the log-likelihood)"
            )
        self.dtype = np.dtype(dtype).type
        if seed is None:  # fresh entropy, like np.random
            self._init_rng, self._dropout_rng = np.random.default_rng(), np.random.default_rng()
        else:  # two independent streams
            streams = np.random.SeedSequence(check_int("seed", seed, 0)).spawn(2)
            self._init_rng, self._dropout_rng = [np.random.default_rng(s) for s in streams]
        self._stack = []
        shape = None
        for j, layer in enumerate(self.layers):
            if not isinstance(layer, (ConvPoolLayer, FullyConnectedLayer)):
                raise ConfigError(
                    f"layer {j} is a {type(layer).__name__}; network3's layers are ConvPoolLayer, "
                    f"FullyConnectedLayer and SoftmaxLayer"
                )
            if isinstance(layer, ConvPoolLayer):
                _, C, H, W = layer.image_shape
                if shape is not None and math.prod(shape) != C * H * W:
                    raise ConfigError(
                        f"layer {j}: image_shape {layer.image_shape} takes {C * H * W} values but the "
                        f"layer below gives {math.prod(shape)}"
                    )
            elif shape is not None and math.prod(shape) != layer.n_in:
                raise ConfigError(f"layer {j}: n_in={layer.n_in} but the layer below gives {math.prod(shape)} values")
            self._stack.append(layer._build(self.dtype))
            shape = self._stack[-1].out_shape
        self._stack[0].bottom = True
        for layer in self.layers:
            layer._draw(self._init_rng)
        self.params = [p for layer in self.layers for p in layer.params]
        self._decaying = [p.value for layer in self._stack for p in layer.params if p.decays]
        first = self.layers[0]
        self.n_in = math.prod(first.image_shape[1:]) if isinstance(first, ConvPoolLayer) else first.n_in

    # -- forward ----------------------------------------------------------------------------
    def _images(self, X):
        """Rows of n_in pixels -> what the first layer takes: (m, height, width, maps) for a
        conv-pool layer (the book's rows are (maps, height, width)), else (m, n_in)."""
        first = self.layers[0]
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ConfigError(f"the data must be rows of {self.n_in} values, got shape {X.shape}")
        if isinstance(first, ConvPoolLayer):
            _, C, H, W = first.image_shape
            return X.reshape(len(X), C, H, W).transpose(0, 2, 3, 1)  # (m, height, width, maps)
        return X

    def _forward(self, X, masks=None):
        a = self._images(X)
        for j, (layer, book) in enumerate(zip(self._stack, self.layers)):
            p = getattr(book, "p_dropout", 0.0)
            if masks is not None:  # training: drop inputs, unscaled
                if masks[j] is not None:
                    a = a.reshape(len(a), -1) * masks[j]  # (m, n_in)
                a = layer.forward(a, train=True)
            else:  # test: (1 - p) * inputs
                a = layer.forward(a.reshape(len(a), -1) * (1.0 - p) if p else a)
        return a

    def predict(self, X, chunk: int = 500):
        """The digit each row of X (n, n_in) is, (n,) int64: the largest softmax output."""
        return (
            np.concatenate([self._forward(X[i : i + chunk]).argmax(axis=1) for i in range(0, len(X), chunk)])
            if len(X)
            else np.empty(0, np.int64)
        )

    def _accuracy(self, data) -> float:
        """The mean accuracy of the whole mini-batches of ``data`` (the book drops the rest)."""
        X, y = data
        n = size(data) // self.mini_batch_size * self.mini_batch_size
        return float(np.mean(self.predict(X[:n]) == np.asarray(y)[:n])) if n else 0.0

    # -- training ---------------------------------------------------------------------------
    def _step(self, X, y, eta, decay):
        m = len(X)
        masks = []
        for layer in self.layers:
            p = getattr(layer, "p_dropout", 0.0)
            n = layer.n_in if isinstance(layer, FullyConnectedLayer) else 0
            masks.append((self._dropout_rng.random((m, n)) >= p).astype(self.dtype) if p else None)
        a = self._forward(X, masks)  # (m, 10) softmax outputs
        delta = a.copy()
        delta[np.arange(m), y] -= 1.0  # dC/dz of the mean cost, times m
        delta *= -eta / m  # the step, folded in
        for j in range(len(self._stack) - 1, -1, -1):
            layer = self._stack[j]
            delta = layer.backward(delta.reshape(m, *layer.out_shape), wrt_z=(j == len(self._stack) - 1))
            if delta is not None and masks[j] is not None:
                delta = delta.reshape(m, -1) * masks[j]  # (m, n_in)
        for w in self._decaying:
            w *= decay  # the L2 term's share of the step
        for layer in self._stack:
            for p in layer.params:
                np.add(p.value, p.grad, out=p.value)

    def SGD(self, training_data, epochs, mini_batch_size, eta, validation_data, test_data=None, lmbda=0.0, *, out=None):
        """Train with mini-batch SGD, printing the book's lines (to ``out``, default stdout).

        After training, ``best_validation_accuracy``, ``best_iteration``, ``test_accuracy`` and
        ``validation_accuracies`` (one per epoch) hold what was printed."""
        out = out or sys.stdout
        epochs = check_int("epochs", epochs, 0)
        m = check_int("mini_batch_size", mini_batch_size, 1)
        if m != self.mini_batch_size:
            raise ConfigError(
                f"SGD's mini_batch_size ({m}) must be the network's ({self.mini_batch_size}): "
                f"network3 builds its layers for one mini-batch size"
            )
        eta = check_float("eta", eta, 0.0, strict=True)
        lmbda = check_float("lmbda", lmbda, 0.0, strict=False)
        training_x, training_y = training_data
        training_y = np.asarray(training_y)
        num_training_batches = size(training_data) // m
        if num_training_batches == 0:
            raise ConfigError(f"training_data has {size(training_data)} examples: fewer than one mini-batch of {m}")
        decay = 1.0 - eta * lmbda / num_training_batches
        self.validation_accuracies = []
        best_validation_accuracy, best_iteration, test_accuracy = 0.0, None, None
        with np.errstate(over="ignore"), blas_threads():  # one BLAS thread (nndl.blas)
            for epoch in range(epochs):
                for minibatch_index in range(num_training_batches):
                    iteration = num_training_batches * epoch + minibatch_index
                    if iteration % 1000 == 0:
                        print(f"Training mini-batch number {iteration}", file=out)
                    lo = minibatch_index * m
                    self._step(training_x[lo : lo + m], training_y[lo : lo + m], eta, decay)
                validation_accuracy = self._accuracy(validation_data)
                self.validation_accuracies.append(validation_accuracy)
                print(f"Epoch {epoch}: validation accuracy {validation_accuracy:.2%}", file=out)
                if validation_accuracy >= best_validation_accuracy:
                    print("This is the best validation accuracy to date.", file=out)
                    best_validation_accuracy, best_iteration = validation_accuracy, iteration
                    if test_data:
                        test_accuracy = self._accuracy(test_data)
                        print(f"The corresponding test accuracy is {test_accuracy:.2%}", file=out)
        print("Finished training network.", file=out)
        if best_iteration is not None:
            print(
                f"Best validation accuracy of {best_validation_accuracy:.2%} obtained at iteration {best_iteration}",
                file=out,
            )
        if test_accuracy is not None:
            print(f"Corresponding test accuracy of {test_accuracy:.2%}", file=out)
        self.best_validation_accuracy, self.best_iteration, self.test_accuracy = (
            best_validation_accuracy,
            best_iteration,
            test_accuracy,
        )
        if test_data:
            X = test_data[0]
            self.test_mb_predictions = lambda i: self.predict(X[i * m : (i + 1) * m])
