"""The update rule: how a step changes the parameters, given the scaled gradient sums.

One rule, gradient descent, with its options composed from small pieces: a regularizer
(``nndl.engine.regularizers``: L2 or L1), momentum (mu), and dropout masks (``nndl.engine.dropout``).

Contract: ``gradient_scale(m)`` is the factor the backward pass folds into the gradient of a
mini-batch of m examples (-eta/m); ``apply(params)`` updates the parameters (``Param``s, their
``grad`` filled by the backward pass) in place for one mini-batch (network2's
``update_mini_batch``): it never asks which layer a parameter belongs to. For training, ``workspace(net,
m)`` gives the buffers for a window of consecutive mini-batches that the loop fills, and
``step(net, ws, rows)`` takes the steps of the first ``rows`` rows of that window, mini-batch
after mini-batch. ``set_eta`` changes the learning rate between epochs (a schedule); the loop
then asks for a new workspace. The training loop (``nndl.engine.training``) knows nothing else.

Two engines take the steps, with the same arithmetic:

* the windowed engine (``nndl.engine.windowed``), when a step is linear in the weights - plain SGD
  with L2 decay or none (``linear_steps``) - and the network is network2's dense stack: ten
  mini-batches share the first layer's products;
* one mini-batch at a time (``PlainWorkspace``) for L1, momentum and any other stack of layers:
  the network's forward and backward pass per mini-batch, then ``apply``.

``GradientDescent.workspace`` is the one place that chooses between them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import check_float, check_int
from ..errors import ConfigError
from .dropout import Dropout
from .regularizers import get_regularizer
from .windowed import WINDOW_ROWS, WindowWorkspace, descend_window


def linear_steps(regularization: str, lmbda: float, momentum: float) -> bool:
    """True when a step changes the weights linearly - plain SGD (no momentum) with a linear
    decay (L2) or none - which is what the windowed engine takes exactly."""
    return momentum == 0.0 and (lmbda == 0.0 or get_regularizer(regularization).decay(1.0, 1.0, 1) is not None)


class PlainWorkspace:
    """A window of mini-batches (``X`` (rows, n_in), ``T`` (rows, n_out), filled by the loop, as
    for the windowed engine), stepped through one mini-batch at a time."""

    def __init__(self, sizes: Sequence[int], m: int, dtype, n: int | None = None):
        k = max(1, WINDOW_ROWS // m)
        self.m, self.sizes, self.dtype = m, list(sizes), dtype
        self.rows = k * m if n is None else min(k * m, n)
        self.X = np.empty((self.rows, sizes[0]), dtype)  # (rows, n_in)
        self.T = np.empty((self.rows, sizes[-1]), dtype)  # (rows, n_out)


class GradientDescent:
    """Stochastic gradient descent with a regularizer, optionally with momentum and dropout.

    Plain (mu = 0), network2's update with L2:
        w <- (1 - eta*lmbda/n) w - (eta/m) sum_x dC_x/dw,   b <- b - (eta/m) sum_x dC_x/db;
    with L1 the decay is w <- w - (eta*lmbda/n) sgn(w). With momentum (the book's chapter 3):
        v <- mu v - eta grad C,   w <- w + v
    for weights and biases alike, grad C including the regularizer's term (weights only).
    mu = 0 is plain SGD exactly. n is the size of the whole training set, m the mini-batch's.
    """

    def __init__(
        self,
        eta: float,
        lmbda: float = 0.0,
        n: int = 1,
        *,
        regularization: str = "l2",
        momentum: float = 0.0,
        dropout: Dropout | None = None,
    ):
        self.lmbda = check_float("lmbda", lmbda, 0.0, strict=False)
        self.n = check_int("n", n, 1)
        self.regularizer = get_regularizer(regularization)
        self.momentum = check_float("momentum", momentum, 0.0, strict=False, maximum=1.0, strict_max=True)
        self.dropout = dropout
        self.velocity: list | None = None  # (weights, biases) velocities, made at the first step
        self.set_eta(eta)

    def set_eta(self, eta: float) -> None:
        """A new learning rate (and with it the decay factor) from the next step on."""
        self.eta = check_float("eta", eta, 0.0, strict=True)
        lin = self.regularizer.decay(self.eta, self.lmbda, self.n)
        self.decay = 1.0 if self.lmbda == 0.0 else lin  # None: not a linear decay (L1)

    @property
    def windowed(self) -> bool:
        """True when the windowed engine takes these steps exactly (linear decay, no momentum)."""
        return linear_steps(self.regularizer.name, self.lmbda, self.momentum)

    def check_decay(self) -> None:
        """Refuse a decay factor 1 - eta*lmbda/n <= 0 before training: every step would flip the
        weights' sign (or zero them), which cannot train. Names the hyperparameter at fault."""
        if self.decay is None or self.decay > 0.0:
            return
        # the one further from the book's values (eta 0.5, lambda 5) in ratio is at fault
        blame_eta = self.eta / 0.5 >= max(self.lmbda, 1e-300) / 5.0
        limit = f"eta * lmbda must stay below n = {self.n:,} (here {self.eta:g} x {self.lmbda:g})"
        fix = (
            f"use a smaller eta (below {self.n / self.lmbda:.4g} with lmbda {self.lmbda:g})"
            if blame_eta
            else f"use a smaller lmbda (below {self.n / self.eta:.4g} with eta {self.eta:g}; the book uses 5.0)"
        )
        raise ConfigError(
            f"{'eta' if blame_eta else 'lmbda'} is too large: the L2 weight-decay factor "
            f"1 - eta*lmbda/n is {self.decay:.4g} <= 0, so every step would flip the weights' "
            f"sign; {limit}; {fix}",
            field="eta" if blame_eta else "lmbda",
        )

    def gradient_scale(self, m: int) -> float:
        return -self.eta / m

    def apply(self, params) -> None:
        """One mini-batch's update, in place, of every ``Param`` from its ``grad`` =
        -(eta/m) sum_x dC_x/dparam (the backward pass's scaled gradient); the regularizer acts
        on the parameters that decay (weights)."""
        reg, eta, lmbda, n, mu = self.regularizer, self.eta, self.lmbda, self.n, self.momentum
        if mu == 0.0:
            for p in params:
                value = p.value
                if p.decays:
                    reg.step_(value, eta, lmbda, n)
                value += p.grad
            return
        if self.velocity is None:
            self.velocity = [np.zeros_like(p.value) for p in params]
        for p, v in zip(params, self.velocity):
            v *= mu
            v += p.grad  # - eta grad C0
            value = p.value
            if lmbda and p.decays:
                v -= eta * reg.gradient(value, lmbda, n)  # - eta grad of the penalty
            value += v

    def workspace(self, net, m: int):
        """The buffers for a window of mini-batches of ``m``: the one place that chooses the
        windowed engine (network2's dense stack, linear steps) or one mini-batch at a time."""
        if self.windowed and net.dense:
            return WindowWorkspace(net.sizes, m, net.dtype, self.decay, n=self.n)
        return PlainWorkspace(net.sizes, m, net.dtype, n=self.n)

    def fits(self, ws) -> bool:
        """Whether ``ws`` takes this rule's steps as it is (a windowed workspace holds the decay
        tables of one learning rate; ask for a new one after ``set_eta``)."""
        return not isinstance(ws, WindowWorkspace) or ws.decay == self.decay

    def step(self, net, ws, rows: int) -> None:
        """The steps for the first ``rows`` rows of ``ws``, in order, each one ``apply`` after
        a mini-batch's backward pass; the windowed engine reassociates the same arithmetic."""
        masks = self.dropout.draw(rows) if self.dropout is not None else None
        if isinstance(ws, WindowWorkspace):
            if ws.decay != self.decay:
                raise ConfigError("the workspace was made for another learning rate; ask for a new one")
            descend_window(net, ws, rows, self.eta, masks)
            return
        m = ws.m
        for lo in range(0, rows, m):
            hi = min(lo + m, rows)
            part = None if masks is None else [k if k is None else k[lo:hi] for k in masks]
            net.gradients(ws.X[lo:hi], ws.T[lo:hi], self.gradient_scale(hi - lo), part)  # (mm, n_in)
            self.apply(net.params)
