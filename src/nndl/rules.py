"""Update rules: how a step changes the parameters, given the scaled gradient sums.

Contract: a rule has ``gradient_scale(m)`` - the factor the backward pass folds into the
gradient of a mini-batch of m examples - and ``apply(weights, biases, gw, gb)``, which
updates the parameters in place; and ``step(net, ws, s) -> s``, the training loop's one
call per mini-batch, which may defer a scalar factor ``s`` of the weights (the loop calls
``net.rescale(s)`` before anything reads them). A rule with nothing faster writes
``step`` as gradients_into + apply and returns s unchanged. The training loop
(``nndl.training``) knows nothing else about the rule, so momentum or a learning-rate
schedule is one more class here.
"""

from __future__ import annotations

from .config import check_float, check_int


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

    def step(self, net, ws, s: float = 1.0) -> float:
        """The step for the batch in ``ws``, backprop fused in (``Network.descend``); returns s.

        The decay is deferred into the scalar s (the weights are s times what ``net``
        stores) while decay > 0; a decay factor <= 0 (eta*lmbda >= n) takes the plain path.
        """
        if self.decay > 0.0:
            return net.descend(ws, self.eta, self.decay, s)
        net.gradients_into(ws, self.gradient_scale(ws.m))
        self.apply(net.weights, net.biases, ws.gw, ws.gb)
        return s
