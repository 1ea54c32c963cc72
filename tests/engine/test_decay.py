"""L2 weight decay: one step worked out by hand, the decay term alone, and its effect.

network2's rule: w <- (1 - eta*lmbda/n) w - (eta/m) sum dC/dw and b <- b - (eta/m) sum dC/db,
n the size of the training set, m the mini-batch's. Weights decay; biases do not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import network2
import nndl


def sigma(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def test_one_step_of_a_2_2_1_network_by_hand():
    """Cross-entropy, one example, eta = 0.5, lmbda = 2, n = 4: decay factor 1 - 0.5*2/4 = 0.75."""
    net = network2.Network([2, 2, 1], cost=network2.CrossEntropyCost, seed=0)
    net.weights = [np.array([[0.1, -0.2], [0.3, 0.4]]), np.array([[0.5, -0.5]])]
    net.biases = [np.array([[0.0], [0.1]]), np.array([[0.2]])]
    x1, x2, y = 1.0, 2.0, 1.0

    # forward, neuron by neuron
    h1 = sigma(0.1 * x1 - 0.2 * x2 + 0.0)  # z = -0.3
    h2 = sigma(0.3 * x1 + 0.4 * x2 + 0.1)  # z = 1.2
    out = sigma(0.5 * h1 - 0.5 * h2 + 0.2)
    # backward: cross-entropy's output error is (a - y); hidden errors carry sigma' = h(1 - h)
    d_out = out - y
    d_h1 = 0.5 * d_out * h1 * (1 - h1)
    d_h2 = -0.5 * d_out * h2 * (1 - h2)
    # the step: weights decay by 0.75 and move by eta/m = 0.5 times the gradient
    expected_w1 = [
        [0.75 * 0.1 - 0.5 * d_h1 * x1, 0.75 * -0.2 - 0.5 * d_h1 * x2],
        [0.75 * 0.3 - 0.5 * d_h2 * x1, 0.75 * 0.4 - 0.5 * d_h2 * x2],
    ]
    expected_b1 = [[0.0 - 0.5 * d_h1], [0.1 - 0.5 * d_h2]]
    expected_w2 = [[0.75 * 0.5 - 0.5 * d_out * h1, 0.75 * -0.5 - 0.5 * d_out * h2]]
    expected_b2 = [[0.2 - 0.5 * d_out]]

    net.update_mini_batch([(np.array([[x1], [x2]]), np.array([[y]]))], eta=0.5, lmbda=2.0, n=4)
    np.testing.assert_allclose(net.weights[0], expected_w1, rtol=1e-13)
    np.testing.assert_allclose(net.biases[0], expected_b1, rtol=1e-13)
    np.testing.assert_allclose(net.weights[1], expected_w2, rtol=1e-13)
    np.testing.assert_allclose(net.biases[1], expected_b2, rtol=1e-13)
    # a number to recognise: the output weight to h1 after the step
    assert net.weights[1][0, 0] == pytest.approx(0.375 - 0.5 * (out - 1) * h1, rel=1e-14)
    assert 0.375 < net.weights[1][0, 0] < 0.375 + 0.5  # the output was too low: it grows


@pytest.mark.parametrize("cost", [network2.QuadraticCost, network2.CrossEntropyCost])
def test_the_decay_term_alone_is_minus_eta_lmbda_over_n_times_w(cost):
    """The same step with and without lmbda differs by exactly -(eta*lmbda/n) w, biases not at all."""
    rng = np.random.default_rng(1)
    batch = [(rng.standard_normal((6, 1)), int(rng.integers(4))) for _ in range(3)]
    plain, decayed = network2.Network([6, 5, 4], cost=cost, seed=2), network2.Network([6, 5, 4], cost=cost, seed=2)
    w0 = [w.copy() for w in plain.weights]
    eta, lmbda, n = 0.5, 3.0, 50
    plain.update_mini_batch(batch, eta, 0.0, n)
    decayed.update_mini_batch(batch, eta, lmbda, n)
    for w_plain, w_decayed, w_start in zip(plain.weights, decayed.weights, w0):
        np.testing.assert_allclose(w_decayed - w_plain, -(eta * lmbda / n) * w_start, rtol=1e-10, atol=1e-15)
    for b_plain, b_decayed in zip(plain.biases, decayed.biases):
        np.testing.assert_array_equal(b_decayed, b_plain)


def test_decay_uses_the_training_set_size_not_the_mini_batch_size():
    rng = np.random.default_rng(3)
    batch = [(rng.standard_normal((6, 1)), 1)]
    a, b = network2.Network([6, 5, 4], seed=4), network2.Network([6, 5, 4], seed=4)
    a.update_mini_batch(batch, 0.5, 2.0, 10)
    b.update_mini_batch(batch, 0.5, 2.0 * 7, 70)  # the same lmbda/n: the same step
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_allclose(wa, wb, rtol=1e-15)


def test_larger_lmbda_gives_smaller_weights_after_training(mnist_arrays):
    data = (mnist_arrays.train_X[:500], mnist_arrays.train_y[:500])
    norms = []
    for lmbda in [0.0, 0.5, 2.0, 8.0]:
        config = nndl.TrainConfig(sizes=(784, 20, 10), epochs=2, eta=0.5, lmbda=lmbda, seed=5)
        net, _ = nndl.train(config, data)
        norms.append(math.sqrt(sum(float(np.sum(w * w)) for w in net.weights)))
    assert norms == sorted(norms, reverse=True) and len(set(norms)) == 4, norms
