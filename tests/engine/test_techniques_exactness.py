"""Each technique of chapter 3 equals a straightforward per-example reference, to 1e-13 relative (the README's figure).

``nndl.train`` (the real loop, both engines: the windowed one for plain SGD with L2, one
mini-batch at a time for L1 and momentum) against ``reference_techniques.Reference``: the
book's update_mini_batch, one example at a time, given the same initial weights, the same
mini-batch orders (drawn from the run's order stream) and, for dropout, the same masks (drawn
as the engine documents them, from the run's dropout stream, a window at a time).

n = 130 with mini-batches of 25 gives windows of 100 and 30 rows (4 + 2 mini-batches, the
last of 5 rows), so a window boundary and a short last mini-batch are both crossed.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_techniques import (
    Reference,
    dropout_masks,
    elastic_rows,
    expand_like_expand_mnist,
    rotate_rows_bilinear,
)

import nndl
from nndl.engine.training import History

RTOL = 1e-13  # the README's figure (measured here: 1.3e-14 at worst; docs/testing.md)
N, M, EPOCHS = 130, 25, 2
SIZES = (8, 6, 5, 4)  # two hidden layers: dropout and the hidden activation act twice


def rel_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def data(n=N, n_in=SIZES[0], n_out=SIZES[-1], seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, n_in)) * (rng.random((n, n_in)) < 0.6)  # some zeros, as MNIST
    return X, rng.integers(0, n_out, n)


def columns(X, y, n_out):
    return [(x.reshape(-1, 1), np.eye(n_out)[t].reshape(-1, 1)) for x, t in zip(X, y)]


def reference_run(config, X, y, images_of=None, rows_of=None):
    """The reference trained as ``config`` says, in the stream's orders and masks.

    ``images_of(v)``/``rows_of(idx, rng)``: how virtual rows map to inputs (expanded data)."""
    streams = nndl.training_streams(config.seed, config.order_seed)
    start = nndl.Network(config.sizes, config.cost, init=config.init, activation=config.activation, rng=streams.init)
    ref = Reference(start.weights, start.biases, config.activation, config.cost, config.regularization, config.momentum)
    n_virtual = len(X) if images_of is None else images_of
    n_out = config.sizes[-1]
    window = min(max(1, 100 // config.mini_batch_size) * config.mini_batch_size, n_virtual)
    for _ in range(config.epochs):
        order = streams.order.permutation(n_virtual)
        for lo in range(0, n_virtual, window):
            idx = order[lo : lo + window]
            if rows_of is None:
                pairs = columns(X[idx], y[idx], n_out)
            else:
                inputs, labels = rows_of(idx, streams.augment)
                pairs = columns(inputs, labels, n_out)
            masks = (
                dropout_masks(streams.dropout, config.dropout, config.sizes[1:-1], len(idx)) if config.dropout else None
            )
            for k in range(0, len(idx), config.mini_batch_size):
                part = slice(k, k + config.mini_batch_size)
                ref.update_mini_batch(
                    pairs[part], config.eta, config.lmbda, n_virtual, None if masks is None else masks[part]
                )
    return ref


def assert_like_reference(net, ref, rtol=RTOL):
    for l in range(len(ref.weights)):
        assert rel_err(net.weights[l], ref.weights[l]) <= rtol, f"weights[{l}]"
        assert rel_err(net.biases[l], ref.biases[l]) <= rtol, f"biases[{l}]"


BASE = nndl.TrainConfig(sizes=SIZES, epochs=EPOCHS, mini_batch_size=M, eta=0.8, lmbda=3.0, seed=3)

TECHNIQUES = {
    "network2 (windowed engine)": {},
    "softmax + log-likelihood": dict(cost="log-likelihood"),
    "quadratic cost": dict(cost="quadratic"),
    "L1 regularization": dict(regularization="l1", lmbda=8.0),
    "momentum 0.9 with L2": dict(momentum=0.9, eta=0.1),
    "momentum 0.5 with L1": dict(momentum=0.5, regularization="l1", eta=0.2),
    "dropout 0.5 (windowed)": dict(dropout=0.5),
    "dropout 0.3 with momentum (one mini-batch at a time)": dict(dropout=0.3, momentum=0.6, eta=0.2),
    "tanh neurons": dict(activation="tanh", eta=0.2),
    "ReLU neurons, He init": dict(activation="relu", init="he", eta=0.1),
    "ReLU + softmax + dropout + L1 + momentum": dict(
        activation="relu", init="he", cost="log-likelihood", dropout=0.2, regularization="l1", momentum=0.7, eta=0.05
    ),
    "float32 data, mini-batch 1": dict(mini_batch_size=1, eta=0.1),
}


@pytest.mark.parametrize("name", list(TECHNIQUES))
def test_each_technique_equals_the_per_example_reference(name):
    config = BASE.replace(**TECHNIQUES[name])
    X, y = data()
    if name.startswith("float32"):
        X = X.astype(np.float32)
    net, history = nndl.train(config, (X, y))
    ref = reference_run(config, X.astype(np.float64), y)
    assert history.epochs == EPOCHS
    assert_like_reference(net, ref)


def test_momentum_zero_is_plain_sgd_bit_for_bit():
    X, y = data()
    a, _ = nndl.train(BASE, (X, y))
    b, _ = nndl.train(BASE.replace(momentum=0.0), (X, y))
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(p, q)


def test_momentum_changes_the_result_and_dropout_too():
    X, y = data()
    plain, _ = nndl.train(BASE, (X, y))
    for change in (dict(momentum=0.5), dict(dropout=0.5), dict(regularization="l1")):
        other, _ = nndl.train(BASE.replace(**change), (X, y))
        assert rel_err(other.weights[0], plain.weights[0]) > 1e-3, change


def test_dropout_has_its_own_stream_and_repeats_exactly():
    """The same seed drops the same neurons; the initial weights and the order are those of
    the run without dropout (its stream is separate), and another seed drops others."""
    X, y = data()
    cfg = BASE.replace(dropout=0.5, epochs=0)
    a, _ = nndl.train(cfg, (X, y))
    b, _ = nndl.train(BASE.replace(epochs=0), (X, y))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])  # same start
    one, _ = nndl.train(cfg.replace(epochs=1), (X, y))
    two, _ = nndl.train(cfg.replace(epochs=1), (X, y))
    np.testing.assert_array_equal(one.weights[0], two.weights[0])
    three, _ = nndl.train(cfg.replace(epochs=1, seed=4), (X, y))
    assert not np.array_equal(one.weights[1], three.weights[1])


def test_inverted_dropout_leaves_the_trained_network_unscaled():
    """A kept neuron's output is scaled by 1/(1-p) during training only: the expected input of
    the next layer is unchanged, so the network is used as it is at test time."""
    from nndl.engine.dropout import Dropout

    drop = Dropout(0.25, np.random.default_rng(0), [3, 400, 2], 1000, np.float64)
    mask = drop.draw(1000)[1]
    assert set(np.unique(mask)) == {0.0, 1 / 0.75}
    assert abs(np.mean(mask == 0) - 0.25) < 0.01 and abs(mask.mean() - 1.0) < 0.01


# --- expanded data: expand_mnist.py's shifts, gathered a window at a time -------------------


def test_the_shifts_are_expand_mnist_rows(mnist_arrays):
    from nndl.augment import ShiftExpansion

    images = mnist_arrays.train_X[:7]
    expanded = expand_like_expand_mnist(images)  # (35, 784)
    idx = np.random.default_rng(0).permutation(35)
    out = np.empty((35, 784))
    ShiftExpansion.gather(images, idx, out)
    np.testing.assert_array_equal(out, expanded[idx])


def test_training_on_shifts_equals_the_reference_on_the_expanded_set(mnist_arrays):
    images, labels = mnist_arrays.train_X[:26], mnist_arrays.train_y[:26]  # 130 virtual rows
    config = nndl.TrainConfig(
        sizes=(784, 7, 10), epochs=2, mini_batch_size=M, eta=0.5, lmbda=2.0, seed=5, expand="shifts"
    )
    expanded = expand_like_expand_mnist(images)
    net, _ = nndl.train(config, (images, labels))
    ref = reference_run(config, expanded, np.repeat(labels, 5))
    assert_like_reference(net, ref)


def test_rotations_equal_a_pixel_by_pixel_rotation(mnist_arrays):
    from nndl.augment import rotate_rows

    images = mnist_arrays.train_X[:3].copy()
    angles = np.array([-13.0, 0.0, 47.5])
    want = rotate_rows_bilinear(images, angles)
    rotate_rows(images, angles)
    np.testing.assert_allclose(images, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(images[1], mnist_arrays.train_X[1], atol=1e-15)  # 0 degrees: unchanged


def test_training_with_shifts_and_rotations_equals_the_reference(mnist_arrays):
    images, labels = mnist_arrays.train_X[:26], mnist_arrays.train_y[:26]
    config = nndl.TrainConfig(
        sizes=(784, 7, 10), epochs=2, mini_batch_size=M, eta=0.5, lmbda=2.0, seed=6, expand="shifts", rotate=15.0
    )
    expanded = expand_like_expand_mnist(images)

    def rows_of(idx, rng):
        angles = rng.uniform(-15.0, 15.0, len(idx))
        turned = rotate_rows_bilinear(expanded[idx], angles)
        return turned, labels[idx // 5]

    net, _ = nndl.train(config, (images, labels))
    ref = reference_run(config, None, None, images_of=130, rows_of=rows_of)
    assert_like_reference(net, ref)


def test_training_with_shifts_rotations_and_elastic_distortions_equals_the_reference(mnist_arrays):
    """Each window's rows: shifted, then turned and distorted in one bilinear read, the angles
    drawn before the fields from the run's augment stream (``elastic_rows``, image by image)."""
    images, labels = mnist_arrays.train_X[:12], mnist_arrays.train_y[:12]
    config = nndl.TrainConfig(
        sizes=(784, 7, 10),
        epochs=2,
        mini_batch_size=M,
        eta=0.5,
        lmbda=2.0,
        seed=7,
        expand="shifts",
        rotate=10.0,
        elastic=34.0,
    )
    expanded = expand_like_expand_mnist(images)

    def rows_of(idx, rng):
        angles = rng.uniform(-10.0, 10.0, len(idx))
        return elastic_rows(expanded[idx], angles, 34.0, rng), labels[idx // 5]

    net, _ = nndl.train(config, (images, labels))
    ref = reference_run(config, None, None, images_of=60, rows_of=rows_of)
    assert_like_reference(net, ref)


def test_expanded_data_needs_square_images():
    with pytest.raises(nndl.ConfigError, match=r"expand='shifts' needs square images .* the network has 8 inputs"):
        nndl.train(BASE.replace(expand="shifts"), data())


# --- the schedule and early stopping ----------------------------------------------------------


def test_the_halving_schedule_decides_on_validation_accuracy_exactly_as_the_book_says():
    from nndl.engine.schedules import HalvingSchedule

    s = HalvingSchedule(1.0, patience=2, divisor=4)
    accuracies = [50, 60, 60, 59, 61, 61, 61, 70, 70, 70]
    events = []
    for e, a in enumerate(accuracies, 1):
        events.append(s.epoch_ends(e, a))
        if events[-1] is not None:
            break
    # best 60 at epoch 2; epochs 3, 4 without improvement: halve after 4; 61 at 5 is new; 6, 7: halve
    # after 7 -> eta 0.25 = 1/4: stop
    assert s.halvings == [4, 7] and s.eta == 0.25
    assert len(events) == 7 and events[:6] == [None] * 6
    assert events[6] == "eta fell to 0.25 = eta0/4 after 2 halvings (epochs 4, 7)"


def test_the_schedule_in_training_halves_eta_and_stops(mnist_arrays):
    train = (mnist_arrays.train_X[:300], mnist_arrays.train_y[:300])
    val = (mnist_arrays.test_X[:100], mnist_arrays.test_y[:100])
    config = nndl.TrainConfig(
        sizes=(784, 10, 10),
        epochs=60,
        eta=0.5,
        lmbda=0.1,
        seed=1,
        schedule="halve",
        schedule_patience=2,
        schedule_divisor=8,
    )
    net, h = nndl.train(config, train, val)
    assert h.stopped.startswith("eta fell to 0.0625 = eta0/8 after 3 halvings")
    assert h.epochs < 60 and len(h.eta) == h.epochs == len(h.evaluation_accuracy)
    assert sorted(set(h.eta), reverse=True) == [0.5, 0.25, 0.125]
    # replay the rule on the recorded accuracies: each halving follows 2 epochs without a new best
    best, since, eta = -1, 0, 0.5
    for e, acc in enumerate(h.evaluation_accuracy, 1):
        assert h.eta[e - 1] == eta
        if acc > best:
            best, since = acc, 0
        else:
            since += 1
            if since == 2:
                eta, since = eta / 2, 0
    assert eta == 0.0625


def test_early_stopping_restores_the_best_epochs_weights_and_says_which(mnist_arrays):
    train = (mnist_arrays.train_X[:200], mnist_arrays.train_y[:200])
    val = (mnist_arrays.test_X[:100], mnist_arrays.test_y[:100])
    config = nndl.TrainConfig(sizes=(784, 10, 10), epochs=80, eta=2.0, lmbda=0.0, seed=2, early_stopping=3)
    net, h = nndl.train(config, train, val)
    acc = h.evaluation_accuracy
    best = int(np.argmax(acc)) + 1  # the first epoch of the best
    assert h.best_epoch == best and h.epochs == best + 3
    assert h.stopped == f"no improvement in 3 epochs; the best validation accuracy came from epoch {best}"
    assert net.accuracy(val) == max(acc) and acc[-1] < max(acc) or acc[-1] == max(acc)
    again, _ = nndl.train(config.replace(epochs=best, early_stopping=None), train, val)
    np.testing.assert_array_equal(net.weights[0], again.weights[0])  # exactly the best epoch's weights


def test_a_schedule_that_ends_the_run_leaves_the_best_epochs_weights_when_early_stopping_watches(mnist_arrays):
    """Level 4's rows beyond the book: the eta schedule ends the run, early stopping (patience at
    the cap, so it never stops a run itself) hands back the best validation epoch's weights."""
    train = (mnist_arrays.train_X[:300], mnist_arrays.train_y[:300])
    val = (mnist_arrays.test_X[:100], mnist_arrays.test_y[:100])
    config = nndl.TrainConfig(
        sizes=(784, 10, 10), epochs=60, eta=0.5, lmbda=0.1, seed=1, schedule="halve", schedule_patience=2
    )
    config = config.replace(schedule_divisor=8, early_stopping=60)
    net, h = nndl.train(config, train, val)
    acc = h.evaluation_accuracy
    best = int(np.argmax(acc)) + 1  # the first epoch of the best
    assert h.stopped.startswith("eta fell to 0.0625") and h.best_epoch == best < h.epochs
    assert acc[-1] < max(acc) and net.accuracy(val) == max(acc)
    again, _ = nndl.train(config.replace(epochs=best, early_stopping=None), train, val)
    np.testing.assert_array_equal(net.weights[0], again.weights[0])  # the best epoch's, not the last


def test_the_schedule_and_early_stopping_need_validation_data():
    for change in (dict(schedule="halve"), dict(early_stopping=5)):
        with pytest.raises(nndl.ConfigError, match="decide on validation accuracy: evaluation_data is needed"):
            nndl.train(BASE.replace(**change), data())


# --- an interrupted run continues exactly ---------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{}, dict(dropout=0.4, momentum=0.5, eta=0.2), dict(regularization="l1", schedule="halve", schedule_patience=1)],
)
@pytest.mark.parametrize("stop_after", [1, 2, 3, 4])  # 2 windows an epoch: mid-epoch and at its end
def test_a_run_stopped_between_windows_continues_to_the_same_weights(change, stop_after):
    X, y = data(seed=7)
    val = data(n=40, seed=8)
    config = BASE.replace(epochs=3, **change)
    whole, h_whole = nndl.train(config, (X, y), val)

    calls = []

    def stop():
        calls.append(1)
        return len(calls) == stop_after  # after that many windows

    part, h = nndl.train(config, (X, y), val, should_stop=stop)
    assert h.stopped == "interrupted" and h.state is not None
    done = h.epochs
    rest = config.replace(epochs=config.epochs - done)
    state_json = __import__("json").loads(__import__("json").dumps(h.to_dict()))  # as a model file keeps it
    resumed, h2 = nndl.train(rest, (X, y), val, net=part, history=History.from_dict(state_json))
    assert h2.epochs == 3 and h2.stopped is None
    for a, b in zip(resumed.weights + resumed.biases, whole.weights + whole.biases):
        np.testing.assert_array_equal(a, b)
    assert h2.evaluation_accuracy == h_whole.evaluation_accuracy and h2.eta == h_whole.eta


# --- saturation, recorded as training goes --------------------------------------------------


def test_saturation_is_recorded_before_training_and_after_each_epoch(mnist_arrays):
    train = (mnist_arrays.train_X[:300], mnist_arrays.train_y[:300])
    val = (mnist_arrays.test_X[:200], mnist_arrays.test_y[:200])
    config = nndl.TrainConfig(sizes=(784, 20, 10), epochs=3, init="large", lmbda=0.0, seed=0)
    net, h = nndl.train(config, train, val, monitor_saturation=True)
    assert len(h.saturation) == 4 and all(len(s) == 1 for s in h.saturation)
    a = nndl.Sigmoid.fn(val[0] @ net.weights[0].T + net.biases[0].T)
    direct = float(np.mean(a * (1 - a) < 0.01))  # sigma'(z) < 0.01
    assert h.saturation[-1][0] == pytest.approx(direct, abs=1e-12)
    start = nndl.Network(config.sizes, init="large", rng=nndl.training_streams(0).init)
    a0 = nndl.Sigmoid.fn(val[0] @ start.weights[0].T + start.biases[0].T)
    assert h.saturation[0][0] == pytest.approx(float(np.mean(a0 * (1 - a0) < 0.01)), abs=1e-12)
    assert h.saturation[0][0] > 0.3  # N(0, 1) weights: much saturated
