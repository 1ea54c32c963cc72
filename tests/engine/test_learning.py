"""Training on real digits: it learns, float32 matches float64, divergence stops with advice.

Data: the committed MNIST sample (2,000 training and 500 test digits). The book's section
5.1 uses lmbda = 5.0 for n = 50,000; the decay depends on lmbda / n, so with n = 2,000 the
same strength is lmbda = 5.0 * 2000 / 50000 = 0.2.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl import DivergenceError

LMBDA = 0.2  # the book's 5.0, scaled from n = 50,000 to n = 2,000


@pytest.fixture(scope="module")
def cross_entropy_run(mnist_arrays):
    """[784, 30, 10], cross-entropy, default init, eta 0.5, 5 epochs, seed 0 (about a second)."""
    config = nndl.TrainConfig(sizes=(784, 30, 10), epochs=5, eta=0.5, lmbda=LMBDA, seed=0)
    return nndl.train(config, (mnist_arrays.train_X, mnist_arrays.train_y), (mnist_arrays.test_X, mnist_arrays.test_y))


def test_cross_entropy_network_learns_the_digits(cross_entropy_run):
    net, history = cross_entropy_run
    # measured: [415, 440, 429, 431, 447] of 500 (seed 0); seeds 0-4 all end at 440-447
    assert history.evaluation_accuracy[-1] >= 425  # 85 %
    assert history.n_training == 2000 and history.n_evaluation == 500
    assert history.epochs == 5 and len(history.epoch_seconds) == 5


def test_quadratic_cost_with_large_init_learns_slower(mnist_arrays, cross_entropy_run):
    """Chapter 3's point, with paired seeds: same initial draws (scaled) and the same order."""
    config = nndl.TrainConfig(
        sizes=(784, 30, 10), epochs=5, eta=0.5, lmbda=LMBDA, seed=0, cost="quadratic", init="large"
    )
    _, slow = nndl.train(
        config, (mnist_arrays.train_X, mnist_arrays.train_y), (mnist_arrays.test_X, mnist_arrays.test_y)
    )
    _, fast = cross_entropy_run
    # measured: quadratic [112, 146, 188, 236, 258] vs cross-entropy [415, 440, 429, 431, 447]
    assert all(q + 100 < c for q, c in zip(slow.evaluation_accuracy, fast.evaluation_accuracy))
    assert slow.evaluation_accuracy[-1] > slow.evaluation_accuracy[0]  # it does learn, slowly


def test_float32_trains_stays_float32_and_matches_float64(mnist_arrays, cross_entropy_run):
    config = nndl.TrainConfig(sizes=(784, 30, 10), epochs=5, eta=0.5, lmbda=LMBDA, seed=0, dtype="float32")
    net32, history32 = nndl.train(
        config,
        (mnist_arrays.train_X, mnist_arrays.train_y),
        (mnist_arrays.test_X, mnist_arrays.test_y),
        monitor_training_cost=True,
        monitor_evaluation_cost=True,
    )
    net64, history64 = cross_entropy_run
    assert net32.dtype == np.float32
    assert all(a.dtype == np.float32 for a in net32.weights + net32.biases)
    assert net32.feedforward(mnist_arrays.test_X[:3]).dtype == np.float32
    # the same draws and order in another precision: the same digits right, or nearly
    assert abs(history32.evaluation_accuracy[-1] - history64.evaluation_accuracy[-1]) <= 5  # 1 % of 500
    for w32, w64 in zip(net32.weights, net64.weights):
        assert np.max(np.abs(w32 - w64)) < 1e-3 * np.max(np.abs(w64))  # measured ~5e-6
    assert all(np.isfinite(history32.training_cost)) and all(np.isfinite(history32.evaluation_cost))


def test_float32_network2_step(mnist_arrays):
    import network2

    net = network2.Network([784, 10, 10], seed=1, dtype="float32")
    pairs = [(x.reshape(784, 1), int(y)) for x, y in zip(mnist_arrays.train_X[:10], mnist_arrays.train_y[:10])]
    net.update_mini_batch(pairs, 0.5, 5.0, 1000)
    net.SGD(pairs, 1, 3, 0.5, lmbda=5.0, seed=2)
    assert all(a.dtype == np.float32 for a in net.weights + net.biases)


# --- divergence ----------------------------------------------------------------------------


@pytest.fixture
def tiny_data():
    rng = np.random.default_rng(3)
    return rng.standard_normal((20, 6)) * 10, np.arange(20) % 4  # (20, 6), (20,)


def test_a_huge_eta_diverges_with_advice_although_nothing_becomes_nan(tiny_data):
    """eta = 1e6, lmbda = 0: the first steps throw every neuron deep into saturation, where it
    no longer learns; the weights stay finite and the network sits at chance level."""
    net = nndl.Network([6, 5, 4], init="large", rng=4)
    with pytest.raises(
        DivergenceError,
        match=r"training diverged in epoch 1: 100% of the neurons are saturated "
        r"and .* near chance \(25%\) \(eta=1e\+06\).*try a smaller learning rate eta",
    ):
        nndl.sgd(net, tiny_data, 100, 5, 1e6, 0.0, rng=5)


def test_a_sensible_eta_is_not_taken_for_divergence(tiny_data):
    net = nndl.Network([6, 5, 4], init="large", rng=4)
    history = nndl.sgd(net, tiny_data, 30, 5, 0.5, 0.0, rng=5, monitor_training_accuracy=True)
    assert history.training_accuracy[-1] > 10  # well above chance (5 of 20): it learns


@pytest.mark.parametrize(
    "eta, lmbda, blamed", [(1e6, 1.0, "eta"), (0.5, 1e3, "lmbda"), (40.0, 0.5, "eta"), (0.5, 40.0, "lmbda")]
)
def test_a_decay_factor_at_or_below_zero_is_refused_before_training_naming_the_culprit(tiny_data, eta, lmbda, blamed):
    """1 - eta*lmbda/n <= 0 flips the weights' sign every step: refused before any step, and
    the message names the hyperparameter further from the book's (eta 0.5, lambda 5)."""
    net = nndl.Network([6, 5, 4], rng=4)
    start = [w.copy() for w in net.weights]
    with pytest.raises(
        nndl.ConfigError,
        match=rf"^{blamed} is too large: the L2 weight-decay factor 1 - eta\*lmbda/n "
        r"is -?[0-9.e+]+ <= 0.*must stay below n = 20.*use a smaller " + blamed,
    ):
        nndl.sgd(net, tiny_data, 1, 5, eta, lmbda, rng=5)
    assert all(np.array_equal(a, b) for a, b in zip(start, net.weights))  # no step was taken


def test_divergence_seen_in_a_monitored_cost(tiny_data):
    """A monitored cost that is not finite ends training: here the quadratic cost of targets
    so large that their squares overflow."""
    X, y = tiny_data
    targets = np.zeros((20, 4))
    targets[np.arange(20), y] = 1e200
    net = nndl.Network([6, 5, 4], "quadratic", rng=4)
    with pytest.raises(
        DivergenceError, match=r"diverged in epoch 1: the cost is inf; try a smaller learning rate eta \(was 0\.5\)"
    ):
        nndl.sgd(net, tiny_data, 3, 5, 0.5, 0.0, (X, targets), rng=5, monitor_evaluation_cost=True)


def test_an_absurd_eta_diverges_in_the_first_epoch(tiny_data):
    net = nndl.Network([6, 5, 4], init="large", rng=4)
    with pytest.raises(
        DivergenceError, match=r"diverged in epoch 1: the weights became nan or infinite \(eta=1e\+300\); try a smaller"
    ):
        nndl.sgd(net, tiny_data, 3, 5, 1e300, rng=5)


def test_network2_SGD_raises_divergence_too(tiny_data, capsys):
    import network2

    X, y = tiny_data
    net = network2.Network([6, 5, 4], seed=6)
    net.large_weight_initializer(rng=7)
    with pytest.raises(DivergenceError, match=r"smaller learning rate eta"):
        net.SGD([(x.reshape(6, 1), int(t)) for x, t in zip(X, y)], 100, 5, 1e6, lmbda=0.0, seed=8)
