"""Finite-difference checks of the chapter 3 techniques, on the real engine.

Each test compares what nndl computes with central differences of the cost the technique
defines (helpers and tolerances of ``test_engine_gradients``: h = 1e-5, 1e-6 relative to the
largest entry):

* tanh and ReLU hidden neurons: backpropagation through them;
* dropout: the gradient of the cost of the *masked* network, for a fixed mask;
* L1: one step of the engine is -eta times the gradient of (1/m) sum_x C_x + (lmbda/n) sum |w|;
* momentum: two steps of the engine follow v <- mu v - eta grad C, w <- w + v, with grad C
  (including the L2 term) taken by central differences at each step's weights.

The softmax output layer with the log-likelihood cost is checked with the other costs in
``test_engine_gradients`` (backprop and each cost's delta).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_gradients import H, assert_backprop_matches_differences, assert_gradient_close, central_difference

import nndl
from nndl.engine.rules import GradientDescent

SIZES = [6, 5, 5, 4]  # two hidden layers: the hidden neurons and dropout act twice


def batch(m: int, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (m, SIZES[0]))  # (m, n_in)
    T = np.eye(SIZES[-1])[rng.integers(SIZES[-1], size=m)]  # (m, n_out) one-hot
    return X, T


@pytest.mark.parametrize("activation, init", [("tanh", "default"), ("relu", "he")])
@pytest.mark.parametrize("cost", ["cross-entropy", "log-likelihood", "quadratic"])
def test_backprop_through_tanh_and_relu_hidden_neurons(activation, init, cost):
    net = nndl.Network(SIZES, cost, init=init, activation=activation, rng=7)
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, (SIZES[0], 1))  # (n_in, 1)
    y = np.eye(SIZES[-1])[[2]].T  # (n_out, 1)
    z = [x.T]
    for w, b in zip(net.weights[:-1], net.biases[:-1]):
        zl = z[-1] @ w.T + b.T
        assert np.abs(zl).min() > 100 * H, "no hidden neuron may sit on ReLU's kink"
        z.append(np.maximum(zl, 0) if activation == "relu" else np.tanh(zl))
    assert_backprop_matches_differences(net, x, y, y)


def masked_cost(net, X, T, masks) -> float:
    """The summed cost of X (m, n_in) through the network with each hidden layer's output
    multiplied by its mask (m, n_l): what a dropout step differentiates."""
    a = X
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        a = net.activations_of(l).fn(a @ w.T + b.T)  # (m, n_{l+1})
        if masks[l + 1] is not None:
            a = a * masks[l + 1]
    return float(net.cost.fn(a, T))


@pytest.mark.parametrize("activation, init", [("sigmoid", "default"), ("tanh", "default"), ("relu", "he")])
def test_the_dropout_gradient_is_that_of_the_masked_network(activation, init):
    p, m = 0.4, 5
    net = nndl.Network(SIZES, "cross-entropy", init=init, activation=activation, rng=3)
    X, T = batch(m, seed=4)
    rng = np.random.default_rng(5)
    masks = [None] + [(rng.random((m, n)) >= p) / (1 - p) for n in SIZES[1:-1]] + [None]
    assert all((k == 0).any() and (k > 0).any() for k in masks[1:-1]), "the mask must drop and keep"

    net.gradients(X, T, 1.0, masks)
    gw = [layer.params[0].grad.copy() for layer in net.layers]  # (n_out, n_in) each
    gb = [layer.params[1].grad.copy() for layer in net.layers]  # (n_out,) each

    for l in range(len(SIZES) - 1):
        assert_gradient_close(gw[l], central_difference(lambda: masked_cost(net, X, T, masks), net.weights[l]))
        assert_gradient_close(gb[l], central_difference(lambda: masked_cost(net, X, T, masks), net.biases[l])[:, 0])


def objective(net, X, T, lmbda, n, regularizer) -> float:
    """What one mini-batch step descends: (1/m) sum_x C_x + the regularizer's term for n."""
    return float(net.cost.fn(net.forward(X), T)) / len(X) + regularizer.cost(net.weights, lmbda, n)


def one_step(net, rule, X, T):
    ws = rule.workspace(net, len(X))
    ws.X[: len(X)] = X
    ws.T[: len(X)] = T
    rule.step(net, ws, len(X))


def numeric_gradient(net, X, T, lmbda, n, regularizer):
    f = lambda: objective(net, X, T, lmbda, n, regularizer)  # noqa: E731
    return ([central_difference(f, w) for w in net.weights], [central_difference(f, b) for b in net.biases])


def test_an_l1_step_descends_the_gradient_of_the_l1_cost():
    eta, lmbda, n, m = 0.3, 2.0, 40, 10
    net = nndl.Network(SIZES, "cross-entropy", rng=11)
    assert min(np.abs(w).min() for w in net.weights) > 10 * H, "|w| must be smooth around each weight"
    X, T = batch(m, seed=12)
    rule = GradientDescent(eta, lmbda, n, regularization="l1")
    gw, gb = numeric_gradient(net, X, T, lmbda, n, rule.regularizer)
    before = [w.copy() for w in net.weights], [b.copy() for b in net.biases]

    one_step(net, rule, X, T)

    for l in range(len(SIZES) - 1):
        assert_gradient_close((before[0][l] - net.weights[l]) / eta, gw[l])
        assert_gradient_close((before[1][l] - net.biases[l]) / eta, gb[l])


@pytest.mark.parametrize("mu", [0.5, 0.9])
def test_momentum_steps_follow_the_velocity_of_the_gradient(mu):
    eta, lmbda, n, m = 0.2, 1.0, 40, 10
    net = nndl.Network(SIZES, "cross-entropy", rng=13)
    X, T = batch(m, seed=14)
    rule = GradientDescent(eta, lmbda, n, regularization="l2", momentum=mu)
    params = lambda: [w.copy() for w in net.weights] + [b.copy() for b in net.biases]  # noqa: E731

    w0 = params()
    g0 = sum(numeric_gradient(net, X, T, lmbda, n, rule.regularizer), [])
    one_step(net, rule, X, T)
    w1 = params()
    for p0, p1, g in zip(w0, w1, g0):  # v = -eta g0
        assert_gradient_close((p0 - p1) / eta, g)

    g1 = sum(numeric_gradient(net, X, T, lmbda, n, rule.regularizer), [])
    one_step(net, rule, X, T)
    for p0, p1, p2, g in zip(w0, w1, params(), g1):  # v = mu (w1 - w0) - eta g1
        assert_gradient_close((mu * (p1 - p0) - (p2 - p1)) / eta, g)
