"""The book's initializers have the book's effect: what each one draws, measured on the weights.

network2.py's ``default_weight_initializer`` draws weights N(0, 1/n_in) and biases N(0, 1);
``large_weight_initializer`` draws both N(0, 1) (chapter 1's scheme); ``Network(...)`` starts
with the default one. The same holds for ``nndl.Network`` and ``TrainConfig``'s inits, and 'he'
draws N(0, 2/n_in). With 78,400 weights in a 784 x 100 layer, the sample standard deviation is
within 1 % of the true one (its own error is about 0.25 %), so 1/28 and 1 are far apart.
"""

from __future__ import annotations

import numpy as np
import pytest

import network2
import nndl

SIZES = [784, 100, 10]


def assert_drawn_from(net, weight_std, bias_std=1.0):
    for l, (w, _b) in enumerate(zip(net.weights, net.biases)):
        n_in = w.shape[1]
        assert abs(w.mean()) < 4 * weight_std(n_in) / np.sqrt(w.size), f"weights[{l}] mean {w.mean()}"
        assert w.std() == pytest.approx(weight_std(n_in), rel=0.02 if w.size > 10_000 else 0.1), f"weights[{l}]"
    b = np.concatenate([b.ravel() for b in net.biases])  # 110 biases
    assert b.std() == pytest.approx(bias_std, rel=0.25)


def test_network2_starts_with_the_default_weight_initializer():
    assert_drawn_from(network2.Network(SIZES, seed=0), lambda n_in: 1 / np.sqrt(n_in))


def test_network2_large_and_default_weight_initializers_draw_the_books_distributions():
    net = network2.Network(SIZES, seed=1)
    net.large_weight_initializer()
    assert_drawn_from(net, lambda n_in: 1.0)
    net.default_weight_initializer()
    assert_drawn_from(net, lambda n_in: 1 / np.sqrt(n_in))


def test_the_initializers_draw_fresh_weights_each_call():
    net = network2.Network(SIZES, seed=2)
    first = net.weights[0].copy()
    net.default_weight_initializer()
    assert not np.array_equal(first, net.weights[0])


@pytest.mark.parametrize(
    "init, weight_std",
    [
        ("default", lambda n_in: 1 / np.sqrt(n_in)),
        ("large", lambda n_in: 1.0),
        ("he", lambda n_in: np.sqrt(2 / n_in)),
    ],
)
def test_nndl_initializers_by_name(init, weight_std):
    assert_drawn_from(nndl.Network(SIZES, init=init, rng=3), weight_std)


def test_the_default_config_trains_from_n_0_1_over_n_in():
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=0)
    assert config.init == "default"
    net, _ = nndl.train(config, (np.zeros((10, 784)), np.zeros(10, np.int64)))
    assert_drawn_from(net, lambda n_in: 1 / np.sqrt(n_in))


def test_default_init_keeps_hidden_neurons_out_of_saturation(mnist_arrays):
    """Its purpose (the book's chapter 3): z = w.x + b starts with a standard deviation near 1 on
    real digits, where N(0, 1) weights saturate most neurons."""
    X = mnist_arrays.train_X[:500]
    z = {init: X @ nndl.Network(SIZES, init=init, rng=4).weights[0].T for init in ("default", "large")}
    assert z["default"].std() < 1.5 < 5 < z["large"].std()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("init", sorted(nndl.INITIALIZERS))
def test_a_networks_layers_draw_what_its_initializer_draws_bit_for_bit(init, dtype):
    """Each layer draws its biases, then its weights, scaled in the network's dtype: the same
    numbers as the registered initializer gives for the whole network from the same seed."""
    net = nndl.Network([12, 7, 5, 3], init=init, dtype=dtype, rng=np.random.default_rng(8))
    weights, biases = nndl.INITIALIZERS[init]([12, 7, 5, 3], np.random.default_rng(8), np.dtype(dtype).type)
    for got, want in zip(net.weights + net.biases, weights + biases):
        assert got.dtype == want.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want)
