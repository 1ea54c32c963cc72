"""Engine promises held with the engine itself (no stand-in for the loop).

* Runs that differ only in cost, lambda or eta share the initial weights and the mini-batch
  order (README "The book's code, as written"): each such run equals the per-example reference
  started from the seed's weights and trained in the seed's orders, at the README's 1e-13;
* the caller's data is never reordered nor changed, whatever format it comes in;
* ``History`` says what happened: epochs counted from 1, the learning rate of each epoch,
  the sizes of both sets, and why training ended.
"""

from __future__ import annotations

import numpy as np
import pytest

import nndl
from nndl.config import rng_streams
from nndl.initializers import default_init
from test_engine_exactness import REF_COSTS, assert_params_equal, make_data, ref_sgd

SIZES = [6, 5, 4]


@pytest.mark.parametrize("change", [dict(), dict(cost="quadratic"), dict(lmbda=0.0), dict(eta=3.0),
                                    dict(cost="quadratic", eta=3.0, lmbda=0.0)])
def test_runs_differing_in_cost_lambda_or_eta_start_alike_and_see_the_same_order(change):
    data = make_data(23, SIZES, seed=1)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=4, eta=0.5, lmbda=1.0,
                              seed=7).replace(**change)
    init_rng, order_rng = rng_streams(7)
    start = default_init(SIZES, init_rng)
    orders = [order_rng.permutation(23) for _ in range(2)]
    expected = ref_sgd(*start, REF_COSTS[config.cost], data, 4, config.eta, config.lmbda, orders)
    net, _ = nndl.train(config, data)
    assert_params_equal(net, *expected, start=start)


@pytest.mark.parametrize("fmt", ["arrays", "pairs"])
def test_the_callers_data_is_neither_reordered_nor_changed(fmt):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    data = (X, y) if fmt == "arrays" else [(x.reshape(-1, 1), int(t)) for x, t in zip(X, y)]
    keep = (X.copy(), y.copy()) if fmt == "arrays" else [(x.copy(), t) for x, t in data]
    nndl.train(nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=4, lmbda=0.0), data, data)
    if fmt == "arrays":
        np.testing.assert_array_equal(X, keep[0])
        np.testing.assert_array_equal(y, keep[1])
    else:
        assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(data, keep))


def test_history_records_each_epoch_the_sizes_and_the_end():
    rng = np.random.default_rng(3)
    train = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    val = rng.standard_normal((13, 6)), rng.integers(0, 4, 13)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=3, mini_batch_size=5, eta=0.5, lmbda=0.0)
    reports = []
    net, h = nndl.train(config, train, val, on_epoch=reports.append)
    assert [r.epoch for r in reports] == [1, 2, 3] and {r.epochs for r in reports} == {3}
    assert h.epochs == 3 and len(h.epoch_seconds) == 3 and all(s >= 0 for s in h.epoch_seconds)
    assert h.eta == [0.5, 0.5, 0.5]
    assert (h.n_training, h.n_evaluation) == (40, 13) and {(r.n_training, r.n_evaluation) for r in reports} == {(40, 13)}
    assert h.stopped is None and (h.state["epoch"], h.state["position"]) == (3, 0)   # continues with epoch 4
    assert h.best_epoch == int(np.argmax(h.evaluation_accuracy)) + 1
    assert h.evaluation_accuracy[-1] == net.accuracy(val)
    assert h.as_tuple() == ([], h.evaluation_accuracy, [], [])


def test_the_default_config_is_the_guides_section_5_1():
    """README: ``TrainConfig()`` is the guide's 5.1 - [784, 100, 10], cross-entropy, eta 0.5,
    lambda 5, 30 epochs - with network2's mini-batch of 10, N(0, 1/n_in) weights, sigmoid
    neurons, and every technique beyond Level 3 off."""
    c = nndl.TrainConfig()
    assert (c.sizes, c.cost, c.eta, c.lmbda, c.epochs, c.mini_batch_size, c.init, c.activation) == \
        ((784, 100, 10), "cross-entropy", 0.5, 5.0, 30, 10, "default", "sigmoid")
    assert (c.regularization, c.momentum, c.dropout, c.schedule, c.early_stopping, c.expand, c.rotate) == \
        ("l2", 0.0, 0.0, "constant", None, "none", 0.0)
    assert c.dtype == "float64" and c.techniques() == [] and c.fast_path and not c.watches_validation


@pytest.mark.parametrize("module", ["nndl", "nndl.data", "network2"])
def test_every_public_name_is_there(module):
    import importlib

    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing and len(set(mod.__all__)) == len(mod.__all__)
