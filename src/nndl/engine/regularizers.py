"""Regularizers: each keeps its cost term and its gradient side by side, as a cost does.

Contract: ``cost(weights, lmbda, n)`` is the term added to the cost of a set of n examples
(weights only, never biases: the book's choice); ``gradient(w, lmbda, n)`` is its derivative
with respect to one weight matrix; ``step_(w, eta, lmbda, n)`` applies plain gradient
descent's share of it in place, before the data's gradient is added; ``decay(eta, lmbda, n)``
is the factor that step multiplies every weight by when the step is linear in w (L2), or
None when it is not (L1) - the windowed engine (``nndl.engine.windowed``) folds a linear decay
into its products and so takes L2 exactly, while L1 goes one mini-batch at a time.

n is the size of the whole training set (``nndl.engine.training``), as in network2.
"""

from __future__ import annotations

import numpy as np

from ..registry import lookup


class L2:
    """C = C0 + (lmbda / 2n) sum w^2: weight decay, w <- (1 - eta*lmbda/n) w - eta dC0/dw."""

    name = "l2"

    @staticmethod
    def cost(weights, lmbda: float, n: int) -> float:
        return 0.5 * (lmbda / n) * sum(float(np.vdot(w, w)) for w in weights)

    @staticmethod
    def gradient(w, lmbda: float, n: int):
        return (lmbda / n) * w

    @staticmethod
    def decay(eta: float, lmbda: float, n: int) -> float:
        return 1.0 - eta * lmbda / n

    @staticmethod
    def step_(w, eta: float, lmbda: float, n: int) -> None:
        d = 1.0 - eta * lmbda / n
        if d != 1.0:
            w *= d


class L1:
    """C = C0 + (lmbda / n) sum |w|: w <- w - (eta*lmbda/n) sgn(w) - eta dC0/dw.

    Each step shrinks every weight by the same amount towards 0, whatever its size, where
    L2 shrinks it in proportion: so L1 keeps a few large weights and drives the rest to 0
    (the book's chapter 3). sgn(0) = 0, so a weight at exactly 0 stays there.
    """

    name = "l1"

    @staticmethod
    def cost(weights, lmbda: float, n: int) -> float:
        return (lmbda / n) * sum(float(np.abs(w).sum()) for w in weights)

    @staticmethod
    def gradient(w, lmbda: float, n: int):
        return (lmbda / n) * np.sign(w)

    @staticmethod
    def decay(eta: float, lmbda: float, n: int) -> None:
        return None

    @staticmethod
    def step_(w, eta: float, lmbda: float, n: int) -> None:
        if lmbda:
            w -= (eta * lmbda / n) * np.sign(w)


REGULARIZERS = {L2.name: L2, L1.name: L1}


def get_regularizer(name):
    """The regularizer registered as ``name`` ('l2' or 'l1')."""
    return lookup(REGULARIZERS, name, "regularization")
