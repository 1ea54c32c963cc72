"""Activation functions, each with its value and derivative side by side.

Contract (every class in ``ACTIVATIONS`` and ``OUTPUTS`` keeps it):

* ``fn(z)`` and ``prime(z)`` work elementwise on arrays of any shape and return arrays of
  the same shape and dtype (softmax works along the last axis, one example per row);
* ``fn_(z, out=None)`` computes ``fn(z)`` into ``out`` (default: in place, overwriting ``z``)
  for the training loop's hot path;
* ``prime_from_output(a)`` gives the derivative from the activation value, which the
  backward pass has at hand, and ``times_prime_(d, a, scratch)`` multiplies d by it in place;
* ``prime_max`` is the derivative's largest value: a neuron is called *saturated* when its
  derivative is below ``SATURATED`` (4 %) of it, the same notion for every neuron (for the
  sigmoid: sigma'(z) < 0.01, i.e. sigma(z) < 0.01 or > 0.99, |z| > 4.6).

Hidden neurons (``ACTIVATIONS``): the book's sigmoid, and the two chapter 3 mentions as
alternatives, tanh and rectified linear units. Each needs its own initial weights to start
unsaturated (see ``nndl.engine.initializers``): sigmoid and tanh take N(0, 1/n_in) ('default'),
ReLU takes N(0, 2/n_in) ('he'), because it zeroes about half of its inputs.

Output layers (``OUTPUTS``): the output activation is fixed by the cost (``nndl.engine.costs``):
sigmoid for the quadratic and cross-entropy costs, softmax for the log-likelihood cost.
"""

from __future__ import annotations

import numpy as np

SATURATED = 0.04  # a derivative below this share of its largest value counts as saturated


class Sigmoid:
    """The logistic function sigma(z) = 1 / (1 + exp(-z))."""

    name = "sigmoid"
    prime_max = 0.25  # at z = 0

    @staticmethod
    def fn(z):
        """sigma(z), elementwise; exp overflow for very negative z correctly gives 0."""
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-z))

    @staticmethod
    def fn_(z, out=None):
        """sigma(z) written into ``out`` (default: ``z`` itself) with no temporaries; returns it.

        Hot path: four ufunc calls. The caller silences the harmless exp overflow.
        """
        out = z if out is None else out
        np.negative(z, out=out)
        np.exp(out, out=out)
        out += 1.0
        np.reciprocal(out, out=out)
        return out

    @staticmethod
    def prime(z):
        """sigma'(z) = sigma(z)(1 - sigma(z))."""
        s = Sigmoid.fn(z)
        return s * (1.0 - s)

    @staticmethod
    def prime_from_output(a):
        """sigma'(z) written in terms of a = sigma(z): a(1 - a)."""
        return a * (1.0 - a)

    @staticmethod
    def times_prime_(d, a, scratch):
        """d *= sigma'(z) in place, from a = sigma(z), as d*a - (d*a)*a: three ufunc calls, no
        temporaries (the backward pass's hot path). ``scratch`` is a buffer shaped like d."""
        np.multiply(d, a, out=scratch)
        np.multiply(scratch, a, out=d)
        np.subtract(scratch, d, out=d)
        return d


class Tanh:
    """tanh(z) = 2 sigma(2z) - 1: a sigmoid rescaled to (-1, 1), centred on 0."""

    name = "tanh"
    prime_max = 1.0  # at z = 0

    @staticmethod
    def fn(z):
        return np.tanh(z)

    @staticmethod
    def fn_(z, out=None):
        return np.tanh(z, out=z if out is None else out)

    @staticmethod
    def prime(z):
        """tanh'(z) = 1 - tanh(z)^2."""
        t = np.tanh(z)
        return 1.0 - t * t

    @staticmethod
    def prime_from_output(a):
        return 1.0 - a * a

    @staticmethod
    def times_prime_(d, a, scratch):
        """d *= 1 - a^2 in place, as d - (d*a)*a."""
        np.multiply(d, a, out=scratch)
        scratch *= a
        d -= scratch
        return d


class ReLU:
    """The rectified linear unit max(0, z). Its derivative is 1 for z > 0 and 0 otherwise
    (0 at z = 0 itself, by convention): it never saturates for z > 0 and is silent below."""

    name = "relu"
    prime_max = 1.0

    @staticmethod
    def fn(z):
        return np.maximum(z, 0.0)

    @staticmethod
    def fn_(z, out=None):
        return np.maximum(z, 0.0, out=z if out is None else out)

    @staticmethod
    def prime(z):
        return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))

    @staticmethod
    def prime_from_output(a):
        return (np.asarray(a) > 0).astype(np.result_type(a, np.float32))

    @staticmethod
    def times_prime_(d, a, scratch):
        """d *= [a > 0] in place: sign(a) is 1 where the unit is active and 0 where it is not."""
        np.sign(a, out=scratch)
        d *= scratch
        return d


class Softmax:
    """softmax(z)_j = exp(z_j) / sum_k exp(z_k), along the last axis (one example per row).

    An output layer only (with the log-likelihood cost): its outputs are positive and sum
    to 1, a probability distribution over the classes. The largest z is subtracted first,
    which changes nothing mathematically and keeps exp from overflowing.
    """

    name = "softmax"
    prime_max = 0.25  # of the diagonal a_j (1 - a_j)

    @staticmethod
    def fn(z):
        z = np.asarray(z)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    @staticmethod
    def fn_(z, out=None):
        out = z if out is None else out
        np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    @staticmethod
    def prime(z):
        """The diagonal of the Jacobian, a_j (1 - a_j); the log-likelihood cost never needs
        more, because its output error is a - y directly."""
        s = Softmax.fn(z)
        return s * (1.0 - s)

    @staticmethod
    def prime_from_output(a):
        return a * (1.0 - a)


class Linear:
    """The identity, y = z: network3's ``linear`` neurons (a layer with no nonlinearity)."""

    name = "linear"
    prime_max = 1.0

    @staticmethod
    def fn(z):
        return np.array(z, copy=True)

    @staticmethod
    def fn_(z, out=None):
        if out is not None and out is not z:
            np.copyto(out, z)
        return z if out is None else out

    @staticmethod
    def prime(z):
        return np.ones_like(np.asarray(z, dtype=np.result_type(z, np.float32)))

    @staticmethod
    def prime_from_output(a):
        return np.ones_like(np.asarray(a, dtype=np.result_type(a, np.float32)))

    @staticmethod
    def times_prime_(d, a, scratch):
        """d *= 1: nothing to do."""
        return d


ACTIVATIONS = {Sigmoid.name: Sigmoid, Tanh.name: Tanh, ReLU.name: ReLU}
# The neurons a layer of the layer stack may use: the hidden ones, and network3's linear neurons
# (not offered for network2-style dense networks, whose flags and files list ACTIVATIONS).
LAYER_ACTIVATIONS = {**ACTIVATIONS, Linear.name: Linear}
OUTPUTS = {Sigmoid.name: Sigmoid, Softmax.name: Softmax}


def saturated_share(activation, a) -> float:
    """Share of the entries of ``a`` (activations of ``activation``) that are saturated."""
    return float(np.mean(activation.prime_from_output(a) < SATURATED * activation.prime_max))


def sigmoid(z):
    """The sigmoid function (network2's module-level ``sigmoid``)."""
    return Sigmoid.fn(z)


def sigmoid_prime(z):
    """Derivative of the sigmoid function (network2's ``sigmoid_prime``)."""
    return Sigmoid.prime(z)
