"""Activation functions, each with its value and derivative side by side.

Contract: ``fn(z)`` and ``prime(z)`` work elementwise on arrays of any shape and
return arrays of the same shape and dtype; ``fn_(z, out=None)`` computes ``fn(z)`` into
``out`` (default: in place, overwriting ``z``) for the training loop's hot path;
``prime_from_output(a)`` gives the derivative from the activation value, which the
backward pass has at hand, and ``times_prime_(d, a, scratch)`` multiplies d by it in place.
Level 3 uses the sigmoid only; the table is where later activations go.
"""

from __future__ import annotations

import numpy as np


class Sigmoid:
    """The logistic function sigma(z) = 1 / (1 + exp(-z))."""

    name = "sigmoid"

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


ACTIVATIONS = {Sigmoid.name: Sigmoid}


def sigmoid(z):
    """The sigmoid function (network2's module-level ``sigmoid``)."""
    return Sigmoid.fn(z)


def sigmoid_prime(z):
    """Derivative of the sigmoid function (network2's ``sigmoid_prime``)."""
    return Sigmoid.prime(z)
