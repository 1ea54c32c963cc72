"""network2.py, the book's improved network, on Python 3 - exact, fast and safe.

``import network2`` gives the names of Michael Nielsen's chapter 3 module: ``Network``,
``QuadraticCost``, ``CrossEntropyCost``, ``load``, ``sigmoid``, ``sigmoid_prime`` and
``vectorized_result``, with the same signatures and results. Underneath is ``nndl``: a
mini-batch is one matrix product per layer instead of a Python loop over examples.

Where the original misbehaves, this module does the right thing instead:

* ``save`` works for a cost given as an instance or a name, not only as a class;
* evaluation accuracy is computed once per epoch (the original computes it twice);
* a monitor flag without ``evaluation_data`` raises a clear ``ValueError`` before
  training starts (the original crashes after the first epoch);
* ``load`` checks the file and never looks a name up with ``getattr``;
* the caller's ``training_data`` is never shuffled in place;
* ``training_data`` may be a list or any iterable (``zip`` objects included), or
  ``(X, y)`` arrays; the ``convert`` flags are accepted but not needed, because the
  label format (int or one-hot) is read from the data itself.

Randomness: pass ``seed=`` (or ``rng=``, a ``numpy.random.Generator``) to ``Network``
and ``SGD`` to repeat a run exactly; without them each run draws fresh entropy, like
the book's global ``np.random``.
"""

from __future__ import annotations

import nndl  # first: where NumPy is missing, nndl says in one sentence what to run

# isort: split

import numpy as np

from nndl import serialization
from nndl.config import as_rng
from nndl.engine.activations import sigmoid, sigmoid_prime
from nndl.engine.costs import CrossEntropyCost, QuadraticCost
from nndl.engine.rules import GradientDescent

__all__ = ["Network", "QuadraticCost", "CrossEntropyCost", "load", "sigmoid", "sigmoid_prime", "vectorized_result"]


class Network(nndl.Network):
    """network2's ``Network(sizes, cost=CrossEntropyCost)``; weights start N(0, 1/n_in)."""

    def __init__(self, sizes, cost=CrossEntropyCost, *, seed=None, rng=None, dtype="float64", activation="sigmoid"):
        super().__init__(
            sizes, cost, init="default", activation=activation, dtype=dtype, rng=rng if rng is not None else seed
        )

    def SGD(
        self,
        training_data,
        epochs,
        mini_batch_size,
        eta,
        lmbda=0.0,
        evaluation_data=None,
        monitor_evaluation_cost=False,
        monitor_evaluation_accuracy=False,
        monitor_training_cost=False,
        monitor_training_accuracy=False,
        *,
        seed=None,
        rng=None,
    ):
        """Train with mini-batch SGD and L2 weight decay; print network2's lines per epoch.

        Returns network2's tuple ``(evaluation_cost, evaluation_accuracy, training_cost,
        training_accuracy)``: per-epoch lists; accuracies are counts of correct examples.
        """

        def report(r):
            print(f"Epoch {r.epoch - 1} training complete")  # the book's line: it counts epochs from 0
            if r.training_cost is not None:
                print(f"Cost on training data: {r.training_cost}")
            if r.training_accuracy is not None:
                print(f"Accuracy on training data: {r.training_accuracy} / {r.n_training}")
            if r.evaluation_cost is not None:
                print(f"Cost on evaluation data: {r.evaluation_cost}")
                if lmbda:  # why it can rise while accuracy rises: the L2 term, over this set's n
                    print(
                        f"  (without the L2 term (lmbda/2n) sum w^2, which network2 computes with n = "
                        f"{r.n_evaluation:,}, this set's size, and which grows with the weights: "
                        f"{r.evaluation_cost_without_regularization})"
                    )
            if r.evaluation_accuracy is not None:
                print(f"Accuracy on evaluation data: {r.evaluation_accuracy} / {r.n_evaluation}")
            print()

        history = nndl.sgd(
            self,
            training_data,
            epochs,
            mini_batch_size,
            eta,
            lmbda,
            evaluation_data,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy,
            rng=as_rng(rng if rng is not None else seed),
            on_epoch=report,
        )
        return history.as_tuple()

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """One gradient step on ``mini_batch`` (a list of (x, y) pairs, or (X, y) arrays).

        ``n`` is the size of the whole training set (it sets the weight decay)."""
        ex = self.examples(mini_batch, "mini_batch")
        rule = GradientDescent(eta, lmbda, n)
        with np.errstate(over="ignore"):
            self.gradients(ex.X, ex.targets, rule.gradient_scale(len(ex)))
        rule.apply(self.params)

    def accuracy(self, data, convert=False):
        """Number of inputs in ``data`` for which the network outputs the right label."""
        return super().accuracy(data)

    def total_cost(self, data, lmbda, convert=False):
        """Mean cost over ``data`` plus the L2 term (lmbda / 2 len(data)) * sum ||w||^2."""
        return super().total_cost(data, lmbda)

    def save(self, filename):
        """Save as network2's JSON (plus extra keys its loader ignores), atomically."""
        serialization.save(self, filename)


def load(filename):
    """Load a network saved by ``Network.save`` (ours or the book's). Raises ValueError."""
    return serialization.load(filename, cls=Network)


def vectorized_result(j):
    """A 10-dimensional one-hot column (10, 1) with 1.0 in position ``j``."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e
