"""Update rules: how a step changes the parameters, given the scaled gradient sums.

Contract: a rule has ``gradient_scale(m)`` - the factor the backward pass folds into the
gradient of a mini-batch of m examples - and ``apply(weights, biases, gw, gb)``, which
updates the parameters in place (one mini-batch: network2's ``update_mini_batch``). For
training it has ``workspace(net, m)``, the buffers for a window of consecutive mini-batches
that the loop fills, and ``step(net, ws, rows)``, which takes the steps of the first
``rows`` rows of that window, mini-batch after mini-batch. A rule with nothing faster
writes ``step`` as gradients_into + apply for each mini-batch of the window. The training
loop (``nndl.training``) knows nothing else about the rule, so momentum or a learning-rate
schedule is one more class here.
"""

from __future__ import annotations

from .config import check_float, check_int
from .windowed import WindowWorkspace, descend_window


class GradientDescent:
    """Stochastic gradient descent with L2 weight decay (network2's update).

    w <- (1 - eta*lmbda/n) w - (eta/m) sum_x dC_x/dw,   b <- b - (eta/m) sum_x dC_x/db,
    with n the size of the whole training set and m the mini-batch's. The decay touches
    weights only. The backward pass already multiplies by -eta/m, so a step is one
    scaling (only when lmbda > 0) and one addition per weight matrix, all in place.
    """

    def __init__(self, eta: float, lmbda: float = 0.0, n: int = 1):
        self.eta = check_float("eta", eta, 0.0, strict=True)
        self.lmbda = check_float("lmbda", lmbda, 0.0, strict=False)
        self.n = check_int("n", n, 1)
        self.decay = 1.0 - self.eta * self.lmbda / self.n

    def gradient_scale(self, m: int) -> float:
        return -self.eta / m

    def apply(self, weights, biases, gw, gb) -> None:
        decay = self.decay
        for w, b, g, h in zip(weights, biases, gw, gb):
            if decay != 1.0:
                w *= decay
            w += g                                                       # (n_out, n_in)
            b[:, 0] += h                                                 # (n_out, 1)

    def workspace(self, net, m: int) -> WindowWorkspace:
        return WindowWorkspace(net.sizes, m, net.dtype, self.decay, n=self.n)

    def step(self, net, ws: WindowWorkspace, rows: int) -> None:
        """The steps for the first ``rows`` rows of ``ws``, in order (``nndl.windowed``): the
        same arithmetic as ``apply`` after each mini-batch, reassociated."""
        descend_window(net, ws, rows, self.eta)
