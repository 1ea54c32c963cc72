"""The batched engine equals the book's per-example algorithm, to 1e-13 relative (the README's figure).

The reference below is network2.py's ``backprop`` and ``update_mini_batch``, transcribed
line by line (one (x, y) column pair at a time, the cost's ``delta(z, a, y)`` computed with
``sigmoid_prime(z)``), and its ``SGD`` loop over consecutive slices of a shuffled list. It
uses nothing from nndl, so an error in the engine cannot hide in the reference too.
"""

from __future__ import annotations

import numpy as np
import pytest

import network2
import nndl
from nndl.config import rng_streams
from nndl.engine.initializers import default_init

RTOL = 1e-13  # the README's figure (measured here: 1.3e-14 at worst; docs/testing.md)


# --- the reference: network2.py, one example at a time -------------------------------------


def ref_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def ref_sigmoid_prime(z):
    return ref_sigmoid(z) * (1 - ref_sigmoid(z))


class RefQuadraticCost:
    @staticmethod
    def delta(z, a, y):
        return (a - y) * ref_sigmoid_prime(z)


class RefCrossEntropyCost:
    @staticmethod
    def delta(z, a, y):
        return a - y


REF_COSTS = {"quadratic": RefQuadraticCost, "cross-entropy": RefCrossEntropyCost}


def ref_backprop(weights, biases, cost, x, y):
    """network2.Network.backprop for one column x (n_in, 1) and one column y (n_out, 1)."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = ref_sigmoid(z)
        activations.append(activation)
    delta = cost.delta(zs[-1], activations[-1], y)
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for l in range(2, len(weights) + 1):
        z = zs[-l]
        sp = ref_sigmoid_prime(z)
        delta = np.dot(weights[-l + 1].transpose(), delta) * sp
        nabla_b[-l] = delta
        nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
    return nabla_b, nabla_w


def ref_update_mini_batch(weights, biases, cost, mini_batch, eta, lmbda, n):
    """network2.Network.update_mini_batch; returns the new (weights, biases)."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for x, y in mini_batch:
        delta_nabla_b, delta_nabla_w = ref_backprop(weights, biases, cost, x, y)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(biases, nabla_b)]
    return weights, biases


def ref_sgd(weights, biases, cost, training_data, mini_batch_size, eta, lmbda, orders):
    """network2.Network.SGD's loop, with epoch e's shuffle given as the permutation orders[e]."""
    n = len(training_data)
    for order in orders:
        shuffled = [training_data[i] for i in order]
        mini_batches = [shuffled[k : k + mini_batch_size] for k in range(0, n, mini_batch_size)]
        for mini_batch in mini_batches:
            weights, biases = ref_update_mini_batch(weights, biases, cost, mini_batch, eta, lmbda, n)
    return weights, biases


# --- helpers -------------------------------------------------------------------------------


def rel_err(actual, expected) -> float:
    """Largest absolute difference over the largest absolute expected value (a matrix norm)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


def assert_params_equal(net, weights, biases, start=None, rtol=RTOL):
    """The net's parameters equal (weights, biases); with ``start``, so do the steps taken."""
    for l, (w, b) in enumerate(zip(weights, biases)):
        assert rel_err(net.weights[l], w) <= rtol, f"weights[{l}]"
        assert rel_err(net.biases[l], b) <= rtol, f"biases[{l}]"
    if start is not None:  # stricter: compare what changed, not what stayed
        w0, b0 = start
        for l in range(len(weights)):
            assert rel_err(net.weights[l] - w0[l], weights[l] - w0[l]) <= rtol, f"step of weights[{l}]"
            assert rel_err(net.biases[l] - b0[l], biases[l] - b0[l]) <= rtol, f"step of biases[{l}]"


def make_data(n, sizes, seed, targets="one-hot"):
    """n examples in network2's format: x columns (n_in, 1), y columns (n_out, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))  # (n, n_in)
    if targets == "one-hot":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]  # (n, n_out)
    else:  # any vector in [0, 1]: cross-entropy and the quadratic cost both allow it
        Y = rng.uniform(0.0, 1.0, (n, sizes[-1]))
    return [(x.reshape(-1, 1), y.reshape(-1, 1)) for x, y in zip(X, Y)]


def copy_params(net):
    return [w.copy() for w in net.weights], [b.copy() for b in net.biases]


SIZES = [6, 5, 4]


# --- one mini-batch ------------------------------------------------------------------------


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("lmbda", [0.0, 3.0])
@pytest.mark.parametrize("m", [1, 3, 7])
def test_network2_update_mini_batch_equals_reference(cost, lmbda, m):
    net = network2.Network(SIZES, cost=nndl.get_cost(cost), seed=1)
    start = copy_params(net)
    mini_batch = make_data(m, SIZES, seed=2)
    eta, n = 0.7, 10  # n is the whole training set's size: it sets the decay alone
    expected = ref_update_mini_batch(*start, REF_COSTS[cost], mini_batch, eta, lmbda, n)
    net.update_mini_batch(mini_batch, eta, lmbda, n)
    assert_params_equal(net, *expected, start=start)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_update_mini_batch_with_targets_that_are_not_one_hot(cost):
    net = network2.Network([3, 4, 4, 2], cost=nndl.get_cost(cost), seed=3)  # two hidden layers
    start = copy_params(net)
    mini_batch = make_data(5, [3, 4, 4, 2], seed=4, targets="uniform")
    expected = ref_update_mini_batch(*start, REF_COSTS[cost], mini_batch, 2.0, 1.5, 8)
    net.update_mini_batch(mini_batch, 2.0, 1.5, 8)
    assert_params_equal(net, *expected, start=start)


def test_update_mini_batch_accepts_int_labels_like_one_hot_columns():
    """network2's validation format (x, int) gives the same step as (x, one-hot column)."""
    one_hot = make_data(4, SIZES, seed=5)
    as_ints = [(x, int(np.argmax(y))) for x, y in one_hot]
    a, b = network2.Network(SIZES, seed=6), network2.Network(SIZES, seed=6)
    a.update_mini_batch(one_hot, 0.5, 1.0, 10)
    b.update_mini_batch(as_ints, 0.5, 1.0, 10)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("lmbda", [0.0, 3.0])
def test_native_batched_step_equals_reference(cost, lmbda):
    """nndl.sgd with one mini-batch holding the whole (shuffled) set is one native step."""
    data = make_data(9, SIZES, seed=7)
    net = nndl.Network(SIZES, cost, rng=8)
    start = copy_params(net)
    X = np.stack([x.ravel() for x, _ in data])  # (9, n_in)
    Y = np.stack([y.ravel() for _, y in data])  # (9, n_out)
    order = np.random.default_rng(9).permutation(9)
    expected = ref_update_mini_batch(*start, REF_COSTS[cost], [data[i] for i in order], 0.4, lmbda, 9)
    nndl.sgd(net, (X, Y), 1, 9, 0.4, lmbda, rng=np.random.default_rng(9))
    assert_params_equal(net, *expected, start=start)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_backprop_equals_reference(cost):
    net = nndl.Network(SIZES, cost, rng=10)
    ((x, y),) = make_data(1, SIZES, seed=11)
    nb, nw = net.backprop(x, y)
    rb, rw = ref_backprop(net.weights, net.biases, REF_COSTS[cost], x, y)
    for l in range(len(SIZES) - 1):
        assert nb[l].shape == net.biases[l].shape and nw[l].shape == net.weights[l].shape
        assert rel_err(nb[l], rb[l]) <= RTOL
        assert rel_err(nw[l], rw[l]) <= RTOL


# --- whole epochs --------------------------------------------------------------------------


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("lmbda", [0.0, 2.0])
@pytest.mark.parametrize("m", [5, 23, 30])  # 23 = 4 x 5 + 3: a shorter last batch; 30 > n
def test_sgd_epochs_equal_reference_in_the_same_shuffled_order(cost, lmbda, m):
    """The native loop draws rng.permutation(n) each epoch and takes consecutive slices."""
    data = make_data(23, SIZES, seed=12)
    net = nndl.Network(SIZES, cost, rng=13)
    start = copy_params(net)
    twin = np.random.default_rng(14)
    orders = [twin.permutation(23) for _ in range(2)]
    expected = ref_sgd(*start, REF_COSTS[cost], data, m, 0.5, lmbda, orders)
    nndl.sgd(net, data, 2, m, 0.5, lmbda, rng=np.random.default_rng(14))
    assert_params_equal(net, *expected, start=start)


@pytest.mark.parametrize("cost", [network2.QuadraticCost, network2.CrossEntropyCost])
def test_network2_SGD_equals_reference(cost, capsys):
    data = make_data(17, SIZES, seed=15)
    net = network2.Network(SIZES, cost=cost, seed=16)
    start = copy_params(net)
    twin = np.random.default_rng(17)
    orders = [twin.permutation(17) for _ in range(3)]
    expected = ref_sgd(*start, REF_COSTS[cost.name], data, 4, 0.3, 1.0, orders)
    net.SGD(data, 3, 4, 0.3, lmbda=1.0, seed=17)
    assert_params_equal(net, *expected, start=start)
    assert capsys.readouterr().out.count("training complete") == 3


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_train_uses_the_seeds_streams_for_weights_and_order(cost):
    """nndl.train: weights from rng_streams(seed)[0], order from rng_streams(seed)[1].

    Run for both costs with the same config otherwise, this also shows that two configs
    differing in cost share the initial weights and the mini-batch order.
    """
    data = make_data(21, SIZES, seed=18)
    config = nndl.TrainConfig(sizes=tuple(SIZES), cost=cost, epochs=2, mini_batch_size=4, eta=0.5, lmbda=1.0, seed=19)
    init_rng, order_rng = rng_streams(19)
    start = default_init(SIZES, init_rng)
    orders = [order_rng.permutation(21) for _ in range(2)]
    expected = ref_sgd(*start, REF_COSTS[cost], data, 4, 0.5, 1.0, orders)
    net, _ = nndl.train(config, data)
    assert_params_equal(net, *expected, start=start)


def test_order_seed_changes_the_order_only():
    data = make_data(21, SIZES, seed=20)
    config = nndl.TrainConfig(
        sizes=tuple(SIZES), epochs=1, mini_batch_size=4, eta=0.5, lmbda=0.0, seed=21, order_seed=99
    )
    init_rng, order_rng = rng_streams(21, 99)
    assert np.array_equal(rng_streams(5, 99)[1].permutation(21), rng_streams(21, 99)[1].permutation(21))
    start = default_init(SIZES, init_rng)
    expected = ref_sgd(*start, RefCrossEntropyCost, data, 4, 0.5, 0.0, [order_rng.permutation(21)])
    net, _ = nndl.train(config, data)
    assert_params_equal(net, *expected, start=start)
