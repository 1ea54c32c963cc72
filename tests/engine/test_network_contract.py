"""Engine promises held with the engine itself (no stand-in for the loop).

* Runs that differ only in cost, lambda or eta share the initial weights and the mini-batch
  order (README "The book's code, as written"): each such run equals the per-example reference
  started from the seed's weights and trained in the seed's orders, at the README's 1e-13;
* the caller's data is never reordered nor changed, whatever format it comes in;
* ``History`` says what happened: epochs counted from 1, the learning rate of each epoch,
  the sizes of both sets, and why training ended.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_exactness import REF_COSTS, assert_params_equal, make_data, ref_sgd

import nndl
from nndl.config import rng_streams
from nndl.engine.initializers import default_init

SIZES = [6, 5, 4]


@pytest.mark.parametrize(
    "change",
    [dict(), dict(cost="quadratic"), dict(lmbda=0.0), dict(eta=3.0), dict(cost="quadratic", eta=3.0, lmbda=0.0)],
)
def test_runs_differing_in_cost_lambda_or_eta_start_alike_and_see_the_same_order(change):
    data = make_data(23, SIZES, seed=1)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=4, eta=0.5, lmbda=1.0, seed=7).replace(
        **change
    )
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
    assert (h.n_training, h.n_evaluation) == (40, 13) and {(r.n_training, r.n_evaluation) for r in reports} == {
        (40, 13)
    }
    assert h.stopped is None and (h.state["epoch"], h.state["position"]) == (3, 0)  # continues with epoch 4
    assert h.best_epoch == int(np.argmax(h.evaluation_accuracy)) + 1
    assert h.evaluation_accuracy[-1] == net.accuracy(val)
    assert h.as_tuple() == ([], h.evaluation_accuracy, [], [])


def test_the_default_config_is_section_5_1():
    """README: ``TrainConfig()`` is section 5.1's - [784, 100, 10], cross-entropy, eta 0.5,
    lambda 5, 30 epochs - with network2's mini-batch of 10, N(0, 1/n_in) weights, sigmoid
    neurons, and every technique beyond Level 3 off."""
    c = nndl.TrainConfig()
    assert (c.sizes, c.cost, c.eta, c.lmbda, c.epochs, c.mini_batch_size, c.init, c.activation) == (
        (784, 100, 10),
        "cross-entropy",
        0.5,
        5.0,
        30,
        10,
        "default",
        "sigmoid",
    )
    assert (c.regularization, c.momentum, c.dropout, c.schedule, c.early_stopping, c.expand, c.rotate) == (
        "l2",
        0.0,
        0.0,
        "constant",
        None,
        "none",
        0.0,
    )
    assert c.dtype == "float64" and c.techniques() == [] and c.fast_path and not c.watches_validation


@pytest.mark.parametrize("module", ["nndl", "nndl.data", "network2"])
def test_every_public_name_is_there(module):
    import importlib

    mod = importlib.import_module(module)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing and len(set(mod.__all__)) == len(mod.__all__)


# --- the network's own small promises --------------------------------------------------------


def test_a_one_input_network_reads_a_column_of_rows_as_a_batch():
    net = nndl.Network([1, 3, 2], rng=0)
    assert net.feedforward(np.ones((5, 1))).shape == (5, 2)
    assert net.feedforward(np.ones((1, 1))).shape == (1, 2)
    assert net.feedforward(np.ones(1)).shape == (2,)
    wide = nndl.Network([3, 2], rng=0)
    assert wide.feedforward(np.ones((3, 1))).shape == (2, 1)  # the book's column


def test_parameters_can_be_assigned_in_the_books_shapes_or_flat_biases():
    net = nndl.Network([4, 3, 2], rng=1)
    net.biases = [np.arange(3.0), np.arange(2.0)]  # flat (n_out,) is accepted too
    assert [b.shape for b in net.biases] == [(3, 1), (2, 1)] and net.biases[1][1, 0] == 1.0
    with pytest.raises(nndl.ConfigError, match=r"^biases: expected 2 arrays for sizes \[4, 3, 2\], got 1$"):
        net.biases = [np.zeros(3)]
    with pytest.raises(nndl.ConfigError, match=r"^weights\[1\] must have shape \(2, 3\), got \(3, 2\)$"):
        net.weights = [np.zeros((3, 4)), np.zeros((3, 2))]
    with pytest.raises(nndl.ConfigError, match=r"^biases\[0\] contains nan or infinite values$"):
        net.biases = [np.full(3, np.inf), np.zeros(2)]


def test_the_network_remembers_its_initializer_and_redraws_repeatably():
    net = nndl.Network([4, 3, 2], init="he", rng=2)
    assert net.init == "he"
    net.large_weight_initializer(rng=3)
    assert net.init == "large"
    first = [w.copy() for w in net.weights]
    net.default_weight_initializer(rng=3)
    assert net.init == "default"
    np.testing.assert_allclose(net.weights[0] * 2, first[0], rtol=1e-15)  # same draws, scaled by sqrt(n_in)
    net.large_weight_initializer(rng=3)
    np.testing.assert_array_equal(net.weights[0], first[0])


# --- what the training loop reports -----------------------------------------------------------


def test_each_epoch_report_carries_eta_saturation_and_the_best_epoch():
    rng = np.random.default_rng(4)
    train = rng.standard_normal((60, 6)), rng.integers(0, 4, 60)
    val = rng.standard_normal((20, 6)), rng.integers(0, 4, 20)
    config = nndl.TrainConfig(
        sizes=tuple(SIZES),
        epochs=4,
        mini_batch_size=5,
        eta=0.5,
        lmbda=0.0,
        schedule="halve",
        schedule_patience=1,
        schedule_divisor=1e6,
    )
    reports = []
    net, h = nndl.train(config, train, val, monitor_saturation=True, on_epoch=reports.append)
    assert [r.eta for r in reports] == h.eta and h.eta[0] == 0.5
    assert [r.saturation for r in reports] == h.saturation[1:] and len(h.saturation) == 5
    assert reports[-1].best_epoch == h.best_epoch == int(np.argmax(h.evaluation_accuracy)) + 1
    assert all(r.evaluation_accuracy == a for r, a in zip(reports, h.evaluation_accuracy))


def test_without_evaluation_data_there_is_no_best_epoch_and_saturation_watches_the_training_set():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=5, lmbda=0.0)
    net, h = nndl.train(config, (X, y), monitor_saturation=True)
    assert h.best_epoch is None and h.evaluation_accuracy == [] and h.n_evaluation == 0
    assert h.saturation[-1] == net.saturation(X)
    net, h = nndl.train(config, (X, y), (X[:10], y[:10]))  # evaluation accuracy by default
    assert len(h.evaluation_accuracy) == 2


def test_history_round_trips_through_plain_values_with_or_without_its_state():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    _, h = nndl.train(nndl.TrainConfig(sizes=tuple(SIZES), epochs=1, mini_batch_size=5, lmbda=0.0), (X, y), (X, y))
    d = h.to_dict()
    assert nndl.History.from_dict(d) == h and "state" in d
    assert "state" not in h.to_dict(state=False)
    assert nndl.History.from_dict({**d, "unknown": 1}) == h


@pytest.mark.parametrize(
    "spoil, what",
    [
        (lambda s: s.update(position=7), "position 7 is not the start of a window"),
        (lambda s: s.update(position=10_000), "position 10000 is not the start of a window"),
        (lambda s: s.update(position=-100), "position -100 is not the start of a window"),
        (
            lambda s: s.update(position=50),
            "position 50 is not the start of a window in 230 rows",
        ),  # a mini-batch's, not a window's
        (lambda s: s.pop("order"), "KeyError"),
        (lambda s: s.update(schedule={"eta": "fast"}), "ValueError"),
    ],
)
def test_a_saved_state_that_does_not_fit_the_run_is_refused(spoil, what):
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((230, 6)), rng.integers(0, 4, 230)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=10, lmbda=0.0)
    calls = []
    net, h = nndl.train(config, (X, y), should_stop=lambda: calls.append(1) or len(calls) == 1)
    assert h.state["position"] == 100
    spoil(h.state)
    with pytest.raises(nndl.ConfigError, match=r"^the saved training state is not valid \(.*" + what):
        nndl.train(config, (X, y), net=net, history=h)


@pytest.mark.parametrize("velocity", [[[1.0], [2.0]], "x", [[]], [[[0.0]] * 2, [[0.0]] * 2], "three", "biases"])
def test_a_saved_velocity_that_does_not_fit_the_network_is_refused(velocity):
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((230, 6)), rng.integers(0, 4, 230)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=10, lmbda=0.0, momentum=0.5)
    calls = []
    net, h = nndl.train(config, (X, y), should_stop=lambda: calls.append(1) or len(calls) == 1)
    weights, biases = h.state["velocity"]
    if velocity == "three":
        velocity = [weights, biases, biases]
    elif velocity == "biases":
        velocity = [weights, weights]  # right weights, wrong biases
    h.state["velocity"] = velocity
    with pytest.raises(nndl.ConfigError, match=r"^the saved training state is not valid: velocity does not match"):
        nndl.train(config, (X, y), net=net, history=h)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_dense_layer_holds_its_parameters_and_gradients_in_the_networks_dtype_and_layout(dtype):
    """A dense layer's ``Param``s: network2's shapes, views of the network's own weights and biases,
    and gradients of the same shapes that ``Network.gradients`` fills."""
    net = nndl.Network([5, 4, 3], dtype=dtype, rng=1)
    assert [layer.in_shape for layer in net.layers] == [(5,), (4,)]
    assert [layer.out_shape for layer in net.layers] == [(4,), (3,)]
    assert [(p.name, p.value.shape, p.decays) for p in net.params] == [
        ("weights", (4, 5), True),
        ("biases", (4,), False),
        ("weights", (3, 4), True),
        ("biases", (3,), False),
    ]
    assert {x.dtype for p in net.params for x in (p.value, p.grad)} == {np.dtype(dtype)}
    net.params[0].value[1, 2] = 7.0
    net.params[3].value[2] = -7.0
    assert net.weights[0][1, 2] == 7.0 and net.biases[1][2, 0] == -7.0  # views, in network2's layout
    X, T = np.ones((7, 5), dtype), np.eye(3, dtype=dtype)[[0, 1, 2, 0, 1, 2, 0]]
    net.gradients(X, T, 1.0)
    nb, nw = net.backprop(X[:1].T, T[:1].T)
    assert [p.grad.shape for p in net.params] == [(4, 5), (4,), (3, 4), (3,)]
    assert [w.shape for w in nw] == [(4, 5), (3, 4)] and [b.shape for b in nb] == [(4, 1), (3, 1)]


def test_backprop_of_a_float32_network_is_float32_and_names_its_input():
    net = nndl.Network([5, 4, 3], dtype="float32", rng=9)
    nb, nw = net.backprop(np.ones((5, 1)), 2)
    assert {g.dtype for g in nb + nw} == {np.dtype(np.float32)}
    assert [b.shape for b in nb] == [(4, 1), (3, 1)]
    with pytest.raises(nndl.ConfigError, match=r"^backprop input: each input must have 5 values"):
        net.backprop(np.ones((6, 1)), 2)


def test_predictions_are_int64_even_for_no_rows():
    net = nndl.Network([5, 4, 3], rng=10)
    assert net.predict(np.ones((4, 5))).dtype == np.int64
    assert net.predict(np.ones((0, 5))).dtype == np.int64


@pytest.mark.parametrize(
    "change",
    [
        dict(expand="shifts", rotate=10.0),
        dict(early_stopping=1, eta=3.0),
        dict(dropout=0.3, regularization="l1", rotate=5.0),
    ],
)
@pytest.mark.parametrize("stop_after", [1, 3])
def test_a_stopped_run_with_expanded_data_or_early_stopping_continues_to_the_same_weights(change, stop_after):
    """The rotations' stream and early stopping's best weights are part of the saved state too."""
    import json

    rng = np.random.default_rng(11)
    X, y = rng.uniform(0, 1, (48, 16)), rng.integers(0, 4, 48)  # 4 x 4 images
    val = rng.uniform(0, 1, (20, 16)), rng.integers(0, 4, 20)
    config = nndl.TrainConfig(sizes=(16, 6, 4), epochs=4, mini_batch_size=10, eta=0.5, lmbda=1.0, seed=12).replace(
        **change
    )
    whole, h_whole = nndl.train(config, (X, y), val)
    calls = []
    part, h = nndl.train(config, (X, y), val, should_stop=lambda: calls.append(1) or len(calls) == stop_after)
    if h.stopped != "interrupted":  # early stopping ended it first
        assert h.stopped == h_whole.stopped
        return
    saved = nndl.History.from_dict(json.loads(json.dumps(h.to_dict())))
    resumed, h2 = nndl.train(config.replace(epochs=config.epochs - h.epochs), (X, y), val, net=part, history=saved)
    assert h2.evaluation_accuracy == h_whole.evaluation_accuracy and h2.stopped == h_whole.stopped
    for a, b in zip(resumed.weights + resumed.biases, whole.weights + whole.biases):
        np.testing.assert_array_equal(a, b)


def test_initialize_redraws_with_the_default_initializer_unless_told():
    net = nndl.Network([784, 30, 10], init="large", rng=13)
    net.initialize(rng=14)
    assert net.init == "default" and net.weights[0].std() == pytest.approx(1 / 28, rel=0.05)


def test_weights_must_have_their_shape_even_where_a_flat_vector_would_fit():
    net = nndl.Network([1, 3], rng=15)
    with pytest.raises(nndl.ConfigError, match=r"^weights\[0\] must have shape \(3, 1\), got \(3,\)$"):
        net.weights = [np.zeros(3)]


def test_a_float32_network_keeps_its_data_in_float32_and_evaluates_without_lambda_by_default():
    net = nndl.Network([5, 4, 3], dtype="float32", rng=16)
    rng = np.random.default_rng(17)
    X, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    ex = net.examples((X, y))
    assert ex.X.dtype == ex.targets.dtype == np.float32
    net64 = nndl.Network([5, 4, 3], rng=16)
    assert net64.evaluate((X, y))[0] == net64.total_cost((X, y), 0.0) < net64.total_cost((X, y), 1.0)


# --- the loop's messages, word for word ---------------------------------------------------------


@pytest.fixture
def loud_data():
    rng = np.random.default_rng(3)
    return rng.standard_normal((20, 6)) * 10, np.arange(20) % 4


def test_a_stalled_run_is_stopped_with_the_whole_advice(loud_data):
    net = nndl.Network([6, 5, 4], init="large", rng=4)
    with pytest.raises(nndl.DivergenceError) as e:
        nndl.sgd(net, loud_data, 100, 5, 1e6, 0.0, rng=5)
    assert re.fullmatch(
        r"training diverged in epoch 1: 100% of the neurons are saturated and [0-9]+\.[0-9]% of 20 training images "
        r"are right, near chance \(25%\) \(eta=1e\+06\): the steps were so large that the weights jumped to where the "
        r"neurons no longer learn; try a smaller learning rate eta \(the book uses 0\.5 with cross-entropy, 3\.0 with "
        r"the quadratic cost\)",
        str(e.value),
    ), str(e.value)


@pytest.mark.parametrize("rows, outputs, stalls", [(10, 2, True), (9, 2, False), (10, 1, False)])
def test_chance_level_needs_two_classes_and_ten_images(rows, outputs, stalls):
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((rows, 6)) * 10, np.arange(rows) % 2
    Y = y.reshape(-1, 1).astype(float) if outputs == 1 else y
    net = nndl.Network([6, 5, outputs], init="large", rng=7)
    if stalls:
        with pytest.raises(nndl.DivergenceError, match="neurons are saturated"):
            nndl.sgd(net, (X, Y), 20, 5, 1e6, 0.0, rng=8)
    else:
        nndl.sgd(net, (X, Y), 20, 5, 1e6, 0.0, rng=8)


def test_nan_weights_and_an_infinite_cost_are_stopped_with_the_whole_advice(loud_data):
    net = nndl.Network([6, 5, 4], init="large", rng=4)
    with pytest.raises(
        nndl.DivergenceError,
        match=r"^training diverged in epoch 1: the weights became nan or infinite "
        r"\(eta=1e\+300\); try a smaller learning rate eta$",
    ):
        nndl.sgd(net, loud_data, 3, 5, 1e300, rng=5)
    X, y = loud_data
    targets = np.zeros((20, 4))
    targets[np.arange(20), y] = 1e200
    net = nndl.Network([6, 5, 4], "quadratic", rng=4)
    with pytest.raises(
        nndl.DivergenceError,
        match=r"^training diverged in epoch 1: the cost is inf; try a smaller "
        r"learning rate eta \(was 0\.5\)$",
    ):
        nndl.sgd(net, loud_data, 3, 5, 0.5, 0.0, (X, targets), rng=5, monitor_evaluation_cost=True)


def test_what_needs_evaluation_data_says_so_word_for_word(loud_data):
    config = nndl.TrainConfig(sizes=(6, 5, 4), epochs=1, mini_batch_size=5)
    for change in (dict(schedule="halve"), dict(early_stopping=2)):
        with pytest.raises(
            nndl.ConfigError,
            match=r"^the learning-rate schedule and early stopping decide on validation "
            r"accuracy: evaluation_data is needed, and it is None$",
        ) as e:
            nndl.train(config.replace(**change), loud_data)
        assert e.value.field == "evaluation_data"
    with pytest.raises(nndl.ConfigError, match=r"^evaluation monitoring: evaluation_data is needed, and it is None$"):
        nndl.train(config, loud_data, monitor_evaluation_cost=True)
    with pytest.raises(nndl.ConfigError, match=r"^evaluation monitoring: evaluation_data is needed, and it is None$"):
        nndl.fit(nndl.Network([6, 5, 4], rng=0), config, loud_data, monitor=nndl.Monitor(evaluation_accuracy=True))
    with pytest.raises(nndl.ConfigError, match=r"^epochs must be an integer >= 0, got -1$"):
        nndl.sgd(nndl.Network([6, 5, 4], rng=0), loud_data, -1, 5, 0.5)


def test_the_schedule_watches_validation_accuracy_even_when_it_is_not_asked_for():
    rng = np.random.default_rng(9)
    train = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    val = rng.standard_normal((20, 6)), rng.integers(0, 4, 20)
    config = nndl.TrainConfig(
        sizes=tuple(SIZES), epochs=3, mini_batch_size=5, lmbda=0.0, schedule="halve", schedule_patience=1
    )
    reports = []
    net, h = nndl.train(config, train, val, monitor_evaluation_accuracy=False, on_epoch=reports.append)
    assert len(h.evaluation_accuracy) == 3 and [r.seconds for r in reports] == h.epoch_seconds


def test_a_continued_history_gets_no_second_before_training_saturation():
    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=5, lmbda=0.0)
    net, h = nndl.train(config, (X, y), (X, y), monitor_saturation=True)
    assert len(h.saturation) == 3
    h.state = None  # a history saved without its state
    net, h = nndl.train(config, (X, y), (X, y), net=net, history=h, monitor_saturation=True)
    assert len(h.saturation) == 5 and h.epochs == 4


def test_a_window_of_one_mini_batch_has_no_tables_of_earlier_steps():
    from nndl.engine.windowed import WindowWorkspace

    one = WindowWorkspace([784, 30, 10], 100, np.float64, 0.999)  # 100 // 100 = one step a window
    assert one.rows == 100 and one.G is None and one.D is None and one.earlier is None
    two = WindowWorkspace([784, 30, 10], 50, np.float64, 0.999)
    assert two.rows == 100 and two.G.shape == (100 * 100,) and two.D.shape == (100, 100)


def test_the_book_positions_a_state_at_the_end_of_an_epoch_as_0_never_n():
    rng = np.random.default_rng(18)
    X, y = rng.standard_normal((200, 6)), rng.integers(0, 4, 200)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=10, lmbda=0.0)
    calls = []
    net, h = nndl.train(config, (X, y), should_stop=lambda: calls.append(1) or len(calls) == 1)
    h.state["position"] = 200
    with pytest.raises(nndl.ConfigError, match="position 200 is not the start of a window in 200 rows"):
        nndl.train(config, (X, y), net=net, history=h)


def test_a_run_that_stopped_early_can_continue_without_early_stopping():
    rng = np.random.default_rng(19)
    X, y = rng.standard_normal((60, 6)), rng.integers(0, 4, 60)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=3, mini_batch_size=10, lmbda=0.0, early_stopping=5)
    calls = []
    net, h = nndl.train(config, (X, y), (X, y), should_stop=lambda: calls.append(1) or len(calls) == 2)
    assert h.state["stopper"] is not None and h.epochs == 2  # stopped as epoch 2 ended
    net, h = nndl.train(config.replace(early_stopping=None, epochs=1), (X, y), (X, y), net=net, history=h)
    assert h.epochs == 3


def test_the_dict_of_a_history_is_a_copy():
    h = nndl.History(eta=[0.5], evaluation_accuracy=[3])
    d = h.to_dict()
    d["eta"].append(0.25)
    d["evaluation_accuracy"].append(4)
    assert h.eta == [0.5] and h.evaluation_accuracy == [3]


def test_the_stall_message_gives_the_share_right_and_chance_for_this_network():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((30, 6)) * 10, np.arange(30) % 3
    net = nndl.Network([6, 5, 3], init="large", rng=4)
    with pytest.raises(nndl.DivergenceError) as e:
        nndl.sgd(net, (X, y), 100, 5, 1e6, 0.0, rng=5)
    right = 100 * net.accuracy((X, y)) / 30
    assert f"% of the neurons are saturated and {right:.1f}% of 30 training images are right, near chance (33%)" in str(
        e.value
    )


def test_fit_draws_from_the_configs_seeds_when_given_no_streams():
    rng = np.random.default_rng(20)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    config = nndl.TrainConfig(
        sizes=(6, 5, 5, 4), epochs=2, mini_batch_size=5, lmbda=0.0, seed=21, order_seed=22, dropout=0.3
    )  # the dropout stream comes from seed
    sizes = [6, 5, 5, 4]
    a, b = nndl.Network(sizes, rng=0), nndl.Network(sizes, rng=0)
    nndl.fit(a, config, (X, y))
    nndl.fit(b, config, (X, y), streams=nndl.training_streams(21, 22))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    c = nndl.Network(sizes, rng=0)
    nndl.fit(c, config.replace(order_seed=None), (X, y))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_nothing_is_monitored_unless_asked():
    rng = np.random.default_rng(23)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    h = nndl.sgd(nndl.Network(SIZES, rng=0), (X, y), 2, 5, 0.5)
    assert h.as_tuple() == ([], [], [], []) and h.saturation == []
    batches = []
    _, h = nndl.train(
        nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=5, lmbda=0.0),
        (X, y),
        on_batch=lambda done, total: batches.append((done, total)),
    )
    assert h.as_tuple() == ([], [], [], []) and h.saturation == []
    assert batches == [(8, 8), (8, 8)]  # 40 rows: one window an epoch


def test_progress_comes_about_a_hundred_times_an_epoch_with_one_mini_batch_a_window():
    """m = 60: every window is one mini-batch, so progress could come 200 times; it comes ~100."""
    rng = np.random.default_rng(24)
    X, y = rng.standard_normal((12_000, 6)), rng.integers(0, 4, 12_000)
    calls = []
    nndl.sgd(nndl.Network(SIZES, rng=0), (X, y), 1, 60, 0.1, on_batch=lambda d, t: calls.append(d))
    assert calls[-1] == 200 and 95 <= len(calls) <= 105


def test_a_saved_best_that_does_not_fit_the_network_is_refused():
    rng = np.random.default_rng(25)
    X, y = rng.standard_normal((230, 6)), rng.integers(0, 4, 230)
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=3, mini_batch_size=10, lmbda=0.0, early_stopping=2)
    calls = []
    net, h = nndl.train(config, (X, y), (X, y), should_stop=lambda: calls.append(1) or len(calls) == 4)
    assert h.state["best"] is not None
    h.state["best"] = h.state["best"][:1]
    with pytest.raises(
        nndl.ConfigError, match=r"^the saved training state is not valid: best does not match the network$"
    ):
        nndl.train(config, (X, y), (X, y), net=net, history=h)


def test_each_training_monitor_records_only_its_own_figure():
    rng = np.random.default_rng(26)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    for flag, key in (("monitor_training_accuracy", "training_accuracy"), ("monitor_training_cost", "training_cost")):
        h = nndl.sgd(nndl.Network(SIZES, rng=0), (X, y), 2, 5, 0.5, **{flag: True})
        recorded = {
            k for k in ("training_accuracy", "training_cost", "evaluation_accuracy", "evaluation_cost") if getattr(h, k)
        }
        assert recorded == {key}


def test_epoch_seconds_are_the_durations_of_the_epochs():
    import time

    rng = np.random.default_rng(27)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)
    start = time.perf_counter()
    h = nndl.sgd(nndl.Network(SIZES, rng=0), (X, y), 3, 5, 0.5)
    elapsed = time.perf_counter() - start
    assert len(h.epoch_seconds) == 3 and all(0 <= s for s in h.epoch_seconds) and sum(h.epoch_seconds) <= elapsed


def test_a_stop_asked_after_the_last_window_of_the_last_epoch_is_a_finished_run():
    rng = np.random.default_rng(28)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 4, 40)  # one window an epoch
    config = nndl.TrainConfig(sizes=tuple(SIZES), epochs=2, mini_batch_size=5, lmbda=0.0)
    calls = []
    net, h = nndl.train(config, (X, y), should_stop=lambda: calls.append(1) or len(calls) == 2)
    assert h.epochs == 2 and h.stopped is None
    whole, _ = nndl.train(config, (X, y))
    np.testing.assert_array_equal(net.weights[0], whole.weights[0])


@pytest.mark.parametrize("n, m, calls", [(1020, 60, 17), (9000, 60, 150)])
def test_progress_comes_every_window_when_an_epoch_has_fewer_than_200_of_them(n, m, calls):
    rng = np.random.default_rng(29)
    X, y = rng.standard_normal((n, 6)), rng.integers(0, 4, n)
    seen = []
    nndl.sgd(nndl.Network(SIZES, rng=0), (X, y), 1, m, 0.1, on_batch=lambda d, t: seen.append(d))
    assert seen == list(range(1, calls + 1))


@pytest.mark.parametrize("change", [dict(), dict(early_stopping=5, eta=3.0), dict(momentum=0.5, dropout=0.2)])
def test_two_epochs_then_one_more_are_three_epochs(change):
    """A finished run's state continues it: --epochs 2 then --resume --epochs 1 is --epochs 3."""
    rng = np.random.default_rng(30)
    X, y = rng.standard_normal((230, 6)), rng.integers(0, 4, 230)
    val = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    config = nndl.TrainConfig(sizes=(6, 5, 5, 4), epochs=3, mini_batch_size=10, eta=0.5, lmbda=0.5).replace(**change)
    whole, h_whole = nndl.train(config, (X, y), val)
    net, h = nndl.train(config.replace(epochs=2), (X, y), val)
    net, h = nndl.train(config.replace(epochs=1), (X, y), val, net=net, history=h)
    assert h.evaluation_accuracy == h_whole.evaluation_accuracy and h.best_epoch == h_whole.best_epoch
    for a, b in zip(net.weights + net.biases, whole.weights + whole.biases):
        np.testing.assert_array_equal(a, b)


def test_an_early_stopping_run_stopped_mid_epoch_continues_to_the_same_end():
    rng = np.random.default_rng(31)
    X, y = rng.standard_normal((230, 6)), rng.integers(0, 4, 230)
    val = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    config = nndl.TrainConfig(sizes=(6, 5, 4), epochs=12, mini_batch_size=10, eta=3.0, lmbda=0.0, early_stopping=2)
    whole, h_whole = nndl.train(config, (X, y), val)
    assert h_whole.stopped.startswith("no improvement in 2 epochs") and h_whole.epochs >= 4
    calls = []
    stop_at = 3 * (h_whole.epochs - 2) + 1  # mid-epoch, after epochs with a watch
    net, h = nndl.train(config, (X, y), val, should_stop=lambda: calls.append(1) or len(calls) == stop_at)
    assert h.stopped == "interrupted" and h.state["position"] == 100 and h.state["stopper"]["watch"]["best_epoch"]
    net, h = nndl.train(config.replace(epochs=config.epochs - h.epochs), (X, y), val, net=net, history=h)
    assert h.stopped == h_whole.stopped and h.evaluation_accuracy == h_whole.evaluation_accuracy
    for a, b in zip(net.weights + net.biases, whole.weights + whole.biases):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_sgd_trains_a_network_of_any_hidden_activation_with_that_activation(activation):
    """network2's SGD describes the network it is given, its hidden activation included."""
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 4, 30)
    net = nndl.Network([6, 5, 4], activation=activation, rng=0)
    before = [p.value.copy() for p in net.params]
    h = nndl.sgd(net, (X, y), 1, 5, 0.5, rng=1)
    assert h.epochs == 1 and net.activation.name == activation
    assert not any(np.array_equal(a, p.value) for a, p in zip(before, net.params))
