"""Cost functions: each keeps its value ``fn`` and its output error ``delta`` side by side.

Contract (the book's ``network2`` interface):

* ``fn(a, y)`` -> float: the cost summed over every example given. ``a`` and ``y`` are
  outputs and targets of the same shape: one column (n_out, 1) as in the book, or a batch
  (n, n_out) with one example per row.
* ``delta(z, a, y)`` -> array shaped like ``a``: the error dC/dz at the output layer, for
  weighted input ``z`` and activation ``a = output.fn(z)``;
* ``output``: the output layer's activation the cost is made for (``nndl.engine.activations.OUTPUTS``):
  the sigmoid for the quadratic and cross-entropy costs, softmax for the log-likelihood.

Adding a cost is one small class plus one line in ``COSTS``.
"""

from __future__ import annotations

import numpy as np

from ..registry import lookup
from .activations import Sigmoid, Softmax


def _safe_log(x):
    """ln(x) with x clamped below at the smallest positive normal float of its dtype.

    A sigmoid output that rounds to exactly 0.0 or 1.0 would otherwise give ln(0) = -inf,
    and 0 * -inf = nan. Clamping bounds each term at about 708 (float64) or 87 (float32):
    finite, and the right order of magnitude for a saturated wrong answer.
    """
    x = np.asarray(x)
    tiny = np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).tiny
    return np.log(np.maximum(x, tiny))


class QuadraticCost:
    """C = 1/2 ||a - y||^2. Its gradient carries sigma'(z): the learning slowdown."""

    name = "quadratic"
    output = Sigmoid

    @staticmethod
    def fn(a, y):
        """Half the squared Euclidean distance between outputs and targets, summed."""
        d = np.asarray(a) - y
        return 0.5 * float(np.vdot(d, d))

    @staticmethod
    def delta(z, a, y):
        """(a - y) * sigma'(z); sigma'(z) is computed as a(1 - a), the same number."""
        return (a - y) * Sigmoid.prime_from_output(a)


class CrossEntropyCost:
    """C = -sum[y ln a + (1 - y) ln(1 - a)]. Its output error is (a - y): no sigma'(z)."""

    name = "cross-entropy"
    output = Sigmoid

    @staticmethod
    def fn(a, y):
        """Cross-entropy summed over all outputs; finite even when a is exactly 0 or 1.

        Unlike the book's ``np.nan_to_num`` version (which turns ln(0) into 1.8e308),
        saturated terms are clamped (see ``_safe_log``) and terms with zero weight stay 0.
        """
        a = np.asarray(a)
        return float(-np.sum(y * _safe_log(a) + (1.0 - y) * _safe_log(1.0 - a)))

    @staticmethod
    def delta(z, a, y):
        """a - y: the sigma'(z) factor cancels, so a wrong, saturated neuron still learns fast."""
        return a - y


class LogLikelihoodCost:
    """C = -ln a_y, with a softmax output layer: the book's chapter 3 alternative to a sigmoid
    output with cross-entropy. Its output error is again (a - y), so there is no slowdown, and
    the outputs are a probability distribution over the classes.

    For a target vector y (one-hot, or any distribution), C = -sum_j y_j ln a_j.
    """

    name = "log-likelihood"
    output = Softmax

    @staticmethod
    def fn(a, y):
        """-sum y ln a over every example given; a = 0 is clamped as in ``_safe_log``."""
        return float(-np.sum(y * _safe_log(np.asarray(a))))

    @staticmethod
    def delta(z, a, y):
        """a - y: the softmax's Jacobian and the log's derivative cancel to it exactly
        (the target must sum to 1, as a one-hot target does)."""
        return a - y


COSTS = {
    QuadraticCost.name: QuadraticCost,
    CrossEntropyCost.name: CrossEntropyCost,
    LogLikelihoodCost.name: LogLikelihoodCost,
}

# Model files store the class name, as network2 does ("CrossEntropyCost").
_BY_CLASS_NAME = {cls.__name__: cls for cls in COSTS.values()}


def get_cost(cost):
    """Resolve a cost given as a registered name, a class name, a cost class or an instance.

    Returns the cost class. Raises ``ConfigError`` listing the valid names otherwise.
    """
    if isinstance(cost, type) and cost in _BY_CLASS_NAME.values():
        return cost
    if type(cost) in _BY_CLASS_NAME.values():  # an instance, as network2 users sometimes pass
        return type(cost)
    if isinstance(cost, str) and cost in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[cost]
    return lookup(COSTS, cost, "cost")
