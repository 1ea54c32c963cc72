"""Seeds fix a run: the initial weights and the mini-batch order, each on its own stream.

``TrainConfig.seed`` feeds both streams; ``order_seed`` replaces the order stream alone,
so runs that differ in cost, lmbda or eta start from the same weights and see the same
mini-batches. What ``train`` hands the loop is recorded by a wrapper around the real
``nndl.engine.training.fit`` (the start weights, and the orders its order stream draws, read from a
copy of the stream); that the loop really trains in those orders is checked against the
per-example reference here and in test_engine_exactness.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl.engine import training


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 6)), rng.integers(0, 4, 40)  # (40, 6), (40,)


def config(**changes):
    return nndl.TrainConfig(sizes=(6, 5, 4), epochs=3, mini_batch_size=7, eta=0.5, lmbda=0.5, seed=11).replace(
        **changes
    )


def params(net):
    return [a.copy() for a in net.weights + net.biases]


def assert_all_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_the_same_seed_gives_identical_weights_and_history(data):
    runs = [
        nndl.train(
            config(),
            data,
            data,
            monitor_training_cost=True,
            monitor_evaluation_cost=True,
            monitor_training_accuracy=True,
        )
        for _ in range(2)
    ]
    (net_a, hist_a), (net_b, hist_b) = runs
    assert_all_equal(params(net_a), params(net_b))
    assert hist_a.as_tuple() == hist_b.as_tuple()
    assert all(len(series) == 3 for series in hist_a.as_tuple())


def test_another_seed_gives_other_weights(data):
    net_a, _ = nndl.train(config(), data)
    net_b, _ = nndl.train(config(seed=12), data)
    assert not np.array_equal(net_a.weights[0], net_b.weights[0])


def test_network_rng_and_seed_agree():
    a = nndl.Network([6, 5, 4], rng=3)
    b = nndl.Network([6, 5, 4], rng=np.random.default_rng(3))
    assert_all_equal(params(a), params(b))
    c = nndl.Network([6, 5, 4])  # no seed: fresh entropy, as the book's global np.random
    assert not np.array_equal(a.weights[0], c.weights[0])


class Recorder:
    """Wraps nndl.engine.training.fit: keeps the start weights and the orders its stream will draw,
    then runs the real loop."""

    def __init__(self, fit):
        self.fit = fit
        self.calls = []

    def __call__(self, net, config, training_data, *args, streams, **kwargs):
        n = len(training_data[0])  # the fixture's data are (X, y) arrays
        twin = np.random.default_rng()
        twin.bit_generator.state = streams.order.bit_generator.state
        self.calls.append({"start": params(net), "orders": [twin.permutation(n) for _ in range(config.epochs)]})
        return self.fit(net, config, training_data, *args, streams=streams, **kwargs)


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder(training.fit)
    monkeypatch.setattr(training, "fit", rec)
    return rec


@pytest.mark.parametrize(
    "other",
    [
        dict(cost="quadratic"),
        dict(lmbda=0.0),
        dict(lmbda=5.0),
        dict(eta=3.0),
        dict(cost="quadratic", lmbda=2.0),
        dict(dtype="float32"),
    ],
)
def test_configs_differing_in_cost_lmbda_or_eta_share_weights_and_order(data, recorder, other):
    nndl.train(config(), data)
    nndl.train(config(**other), data)
    first, second = recorder.calls
    for a, b in zip(first["start"], second["start"]):
        if "dtype" in other:  # the same draws, rounded to float32 (scaled in float32: within an ulp or so)
            assert b.dtype == np.float32
            np.testing.assert_allclose(b, a, rtol=3e-7)
        else:
            np.testing.assert_array_equal(a, b)
    assert_all_equal(first["orders"], second["orders"])


def test_large_init_uses_the_same_draws(data, recorder):
    nndl.train(config(), data)
    nndl.train(config(init="large"), data)
    first, second = recorder.calls
    np.testing.assert_allclose(second["start"][0], first["start"][0] * np.sqrt(6), rtol=1e-15)  # weights
    np.testing.assert_array_equal(second["start"][2], first["start"][2])  # biases
    assert_all_equal(first["orders"], second["orders"])


def test_order_seed_changes_the_order_only(data, recorder):
    nndl.train(config(), data)
    nndl.train(config(order_seed=99), data)
    nndl.train(config(order_seed=99), data)
    nndl.train(config(seed=12, order_seed=99), data)
    base, reordered, again, reseeded = recorder.calls
    assert_all_equal(base["start"], reordered["start"])  # same weights
    assert not all(np.array_equal(a, b) for a, b in zip(base["orders"], reordered["orders"]))
    assert_all_equal(reordered["orders"], again["orders"])  # repeatable
    assert_all_equal(reordered["orders"], reseeded["orders"])  # the order does not follow seed
    assert not np.array_equal(reseeded["start"][0], base["start"][0])  # but the weights do


def test_every_epoch_draws_a_new_order(data, recorder):
    nndl.train(config(epochs=3), data)
    orders = recorder.calls[0]["orders"]
    assert all(sorted(o) == list(range(40)) for o in orders)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])


def test_the_engine_trains_each_epoch_in_its_own_new_order(data):
    """The real loop against the per-example reference: two epochs in the stream's two orders
    match it, and the same order twice does not."""
    from test_exactness import REF_COSTS, ref_sgd

    X, y = data
    pairs = [(x.reshape(-1, 1), np.eye(4)[t].reshape(-1, 1)) for x, t in zip(X, y)]
    cfg = config(epochs=2, lmbda=0.0)
    streams = nndl.training_streams(cfg.seed)
    twin = nndl.training_streams(cfg.seed).order
    orders = [twin.permutation(40), twin.permutation(40)]
    net, _ = nndl.train(cfg, data)
    start = nndl.Network([6, 5, 4], rng=streams.init)
    w_new, _ = ref_sgd(start.weights, start.biases, REF_COSTS["cross-entropy"], pairs, 7, 0.5, 0.0, orders)
    w_same, _ = ref_sgd(
        start.weights, start.biases, REF_COSTS["cross-entropy"], pairs, 7, 0.5, 0.0, [orders[0], orders[0]]
    )
    np.testing.assert_allclose(net.weights[0], w_new[0], rtol=0, atol=1e-12)
    assert np.abs(net.weights[0] - w_same[0]).max() > 1e-3


def test_order_seed_changes_the_trained_weights_but_not_the_start(data):
    net_a, _ = nndl.train(config(epochs=0), data)
    net_b, _ = nndl.train(config(epochs=0, order_seed=5), data)
    assert_all_equal(params(net_a), params(net_b))
    net_a, _ = nndl.train(config(), data)
    net_b, _ = nndl.train(config(order_seed=5), data)
    assert not np.array_equal(net_a.weights[0], net_b.weights[0])


def test_train_continues_a_given_network(data):
    net, _ = nndl.train(config(epochs=1), data)
    start = params(net)
    same, _ = nndl.train(config(epochs=1, seed=999), data, net=net)  # the seed draws no new weights
    assert same is net
    assert not np.array_equal(start[0], net.weights[0])
