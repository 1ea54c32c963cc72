"""The fused training step (Network.descend) against network2's per-example algorithm.

``nndl.sgd`` takes its steps through ``GradientDescent.step``, which defers the weight
decay into a scalar and, for inputs with many zeros (MNIST), multiplies only the nonzero
columns of the first layer. Dense random inputs (the other exactness tests) never take
that path; these tests give it sparse inputs, extreme decay factors and float32.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl.network import Workspace

RTOL = 1e-9


def ref_step(weights, biases, quadratic, X, Y, eta, lmbda, n):
    """network2's update_mini_batch, one (n_in, 1) column at a time."""
    nw = [np.zeros(w.shape) for w in weights]
    nb = [np.zeros(b.shape) for b in biases]
    for x, y in zip(X, Y):
        acts, zs = [x.reshape(-1, 1)], []
        for w, b in zip(weights, biases):
            zs.append(w @ acts[-1] + b)
            acts.append(1.0 / (1.0 + np.exp(-zs[-1])))
        delta = acts[-1] - y.reshape(-1, 1)
        if quadratic:
            delta = delta * acts[-1] * (1 - acts[-1])
        for l in range(len(weights) - 1, -1, -1):
            nb[l] += delta
            nw[l] += delta @ acts[l].T
            if l:
                delta = (weights[l].T @ delta) * acts[l] * (1 - acts[l])
    m = len(X)
    return ([(1 - eta * lmbda / n) * w - (eta / m) * g for w, g in zip(weights, nw)],
            [b - (eta / m) * g for b, g in zip(biases, nb)])


def sparse_data(n, n_in, n_out, seed, support=2):
    """Inputs with ``support`` nonzero columns each: a batch of 5 uses about half of them."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, n_in))
    for row in X:
        row[rng.choice(n_in, support, replace=False)] = rng.uniform(0.1, 1.0, support)
    return X, np.eye(n_out)[rng.integers(0, n_out, n)]


def rel_err(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def assert_same(net, weights, biases, rtol=RTOL):
    for l in range(len(weights)):
        assert rel_err(net.weights[l], weights[l]) <= rtol
        assert rel_err(net.biases[l], biases[l]) <= rtol


@pytest.mark.parametrize("cost", ["cross-entropy", "quadratic"])
@pytest.mark.parametrize("lmbda", [0.0, 3.0])
@pytest.mark.parametrize("sizes", [[20, 8, 3], [20, 3], [20, 8, 6, 3]])
def test_sgd_on_sparse_inputs_equals_the_per_example_reference(cost, lmbda, sizes):
    n, m, eta = 23, 5, 0.5                                               # 23 = 4 x 5 + 3
    X, Y = sparse_data(n, sizes[0], sizes[-1], seed=1)
    ws = Workspace(sizes, m, np.float64)
    widest = max(np.count_nonzero(X[order[k:k + m]].any(axis=0))
                 for order in [np.random.default_rng(2).permutation(n)] for k in range(0, n, m))
    assert widest + 1 <= ws.sparse_limit                                 # the sparse path runs
    net = nndl.Network(sizes, cost, rng=3)
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    twin = np.random.default_rng(2)
    for _ in range(2):
        order = twin.permutation(n)
        for k in range(0, n, m):
            idx = order[k:k + m]
            w, b = ref_step(w, b, cost == "quadratic", X[idx], Y[idx], eta, lmbda, n)
    nndl.sgd(net, (X, Y), 2, m, eta, lmbda, rng=np.random.default_rng(2))
    assert_same(net, w, b)


@pytest.mark.parametrize("eta, lmbda, n", [(2.0, 2.0, 4), (3.0, 2.0, 4), (0.999, 400.0, 400)])
def test_decay_factors_at_zero_below_zero_and_near_zero(eta, lmbda, n):
    """1 - eta*lmbda/n = 0, -0.5 (the plain path) and 0.001: with 400 steps the loop folds s
    in every 4 steps, so descend must itself fold it in once it falls below 2**-20."""
    sizes = [12, 6, 3]
    X, Y = sparse_data(n, sizes[0], sizes[-1], seed=4)
    net = nndl.Network(sizes, rng=5)
    w, b = [x.copy() for x in net.weights], [x.copy() for x in net.biases]
    nndl.sgd(net, (X, Y), 1, 1, eta, lmbda, rng=np.random.default_rng(6))
    for k in np.random.default_rng(6).permutation(n):
        w, b = ref_step(w, b, False, X[k:k + 1], Y[k:k + 1], eta, lmbda, n)
    assert_same(net, w, b)


def test_float32_with_extreme_decay_stays_finite_and_close():
    sizes, n = [12, 6, 3], 400
    X, Y = sparse_data(n, sizes[0], sizes[-1], seed=7)
    net32 = nndl.Network(sizes, rng=8, dtype="float32")
    net64 = nndl.Network(sizes, rng=8)
    for net in (net32, net64):
        nndl.sgd(net, (X, Y), 2, 1, 0.999, 400.0, rng=9)                 # decay factor 0.001 a step
    for a, b in zip(net32.weights + net32.biases, net64.weights + net64.biases):
        assert a.dtype == np.float32 and np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_weights_and_biases_are_views_that_can_be_assigned():
    net = nndl.Network([4, 3, 2], rng=10)
    x = np.arange(4.0).reshape(1, 4)
    before = net.feedforward(x)
    assert net.weights[0].shape == (3, 4) and net.biases[0].shape == (3, 1)
    net.weights[0][1, 2] += 1.0                                          # in place: the network changes
    assert not np.array_equal(net.feedforward(x), before)
    net.weights = [np.zeros((3, 4)), np.zeros((2, 3))]
    net.biases = [np.zeros((3, 1)), np.ones((2, 1))]
    np.testing.assert_array_equal(net.feedforward(x), np.full((1, 2), 1 / (1 + np.exp(-1.0))))
