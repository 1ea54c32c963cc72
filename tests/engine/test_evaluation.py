"""feedforward, accuracy and total_cost: every input format, and network2's meaning.

network2's accuracy is a count of correct examples; its total_cost is the mean cost over
the data plus (lmbda / 2n) * sum ||w||^2 with n = len(data) - the data given, not the
training set.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import network2
import nndl


@pytest.fixture(scope="module")
def net():
    return nndl.Network([784, 30, 10], rng=0)


@pytest.fixture(scope="module")
def digits(mnist_arrays):
    return mnist_arrays.test_X[:60], mnist_arrays.test_y[:60]  # (60, 784), (60,)


def formats(X, y):
    """The same examples in every format the engine reads."""
    one_hot = np.eye(10)[y]  # (n, 10)
    return {
        "arrays, labels": (X, y),
        "arrays, one-hot": (X, one_hot),
        "book, int labels": [(x.reshape(784, 1), int(t)) for x, t in zip(X, y)],
        "book, one-hot columns": [(x.reshape(784, 1), network2.vectorized_result(t)) for x, t in zip(X, y)],
        "zip": zip([x.reshape(784, 1) for x in X], [int(t) for t in y]),
        "images and labels": SimpleNamespace(images=X, labels=y),
        "uint8 images": (np.round(X * 255).astype(np.uint8) / 255.0, y.astype(np.uint8)),
    }


def test_feedforward_takes_a_column_a_flat_vector_or_a_batch(net, digits):
    X, _ = digits
    batch = net.feedforward(X[:5])
    assert batch.shape == (5, 10)
    column = net.feedforward(X[0].reshape(784, 1))
    assert column.shape == (10, 1)
    flat = net.feedforward(X[0])
    assert flat.shape == (10,)
    np.testing.assert_allclose(column.ravel(), batch[0], rtol=1e-14)
    np.testing.assert_allclose(flat, batch[0], rtol=1e-14)
    assert ((batch > 0) & (batch < 1)).all()


def test_feedforward_equals_the_book_formula(net, digits):
    X, _ = digits
    a = X[7].reshape(784, 1)
    for w, b in zip(net.weights, net.biases):
        a = 1.0 / (1.0 + np.exp(-(np.dot(w, a) + b)))  # network2.feedforward, one column
    np.testing.assert_allclose(net.feedforward(X[7].reshape(784, 1)), a, rtol=1e-13)


def test_feedforward_does_not_change_its_input(net, digits):
    X = digits[0][:4].copy()
    keep = X.copy()
    net.feedforward(X)
    np.testing.assert_array_equal(X, keep)


def test_accuracy_is_a_count_and_agrees_across_formats(net, digits):
    X, y = digits
    expected = int(sum(np.argmax(net.feedforward(x.reshape(784, 1))) == t for x, t in zip(X, y)))
    counts = {name: net.accuracy(data) for name, data in formats(X, y).items()}
    assert set(counts.values()) == {expected}, counts
    assert type(counts["zip"]) is int


def test_accuracy_of_a_trained_network_counts_right_answers(mnist_arrays):
    trained, _ = nndl.train(
        nndl.TrainConfig(sizes=(784, 30, 10), epochs=1, lmbda=0.2, seed=1), (mnist_arrays.train_X, mnist_arrays.train_y)
    )
    X, y = mnist_arrays.test_X, mnist_arrays.test_y
    right = trained.accuracy((X, y))
    assert right == int(np.count_nonzero(trained.feedforward(X).argmax(axis=1) == y))
    assert 300 < right <= 500


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("lmbda", [0.0, 3.0])
def test_total_cost_is_the_mean_cost_plus_the_l2_term_over_len_data(digits, cost, lmbda):
    X, y = digits
    net = nndl.Network([784, 30, 10], cost, rng=2)
    book_cost = nndl.get_cost(cost)
    n = len(X)
    mean = (
        sum(book_cost.fn(net.feedforward(x.reshape(784, 1)), network2.vectorized_result(t)) for x, t in zip(X, y)) / n
    )
    l2 = 0.5 * (lmbda / n) * sum(np.linalg.norm(w) ** 2 for w in net.weights)  # n = len(data)
    for name, data in formats(X, y).items():
        assert net.total_cost(data, lmbda) == pytest.approx(mean + l2, rel=1e-12), name
    if lmbda:
        assert net.total_cost((X, y), lmbda) - net.total_cost((X, y), 0.0) == pytest.approx(l2, rel=1e-12)
        # the same data, twice as much of it: the L2 term halves
        twice = (np.vstack([X, X]), np.concatenate([y, y]))
        assert net.total_cost(twice, lmbda) == pytest.approx(mean + l2 / 2, rel=1e-12)


def test_network2_methods_take_the_convert_flags(digits):
    X, y = digits
    net = network2.Network([784, 30, 10], seed=3)
    pairs = [(x.reshape(784, 1), int(t)) for x, t in zip(X, y)]
    assert net.accuracy(pairs) == net.accuracy(pairs, convert=True) == net.accuracy((X, y))
    assert net.total_cost(pairs, 5.0) == net.total_cost(pairs, 5.0, convert=True) == net.total_cost((X, y), 5.0)


def test_total_cost_refuses_a_negative_lmbda(net, digits):
    with pytest.raises(nndl.ConfigError, match=r"lmbda must be a finite number >= 0, got -1"):
        net.total_cost(digits, -1)


def test_backprop_takes_an_int_label_or_a_one_hot_column(net, digits):
    X, y = digits
    x = X[0].reshape(784, 1)
    nb_int, nw_int = net.backprop(x, int(y[0]))
    nb_col, nw_col = net.backprop(x, network2.vectorized_result(y[0]))
    for a, b in zip(nb_int + nw_int, nb_col + nw_col):
        np.testing.assert_array_equal(a, b)
    assert [b.shape for b in nb_int] == [(30, 1), (10, 1)] and [w.shape for w in nw_int] == [(30, 784), (10, 30)]


def test_n_params():
    assert nndl.Network([784, 30, 10], rng=0).n_params() == 784 * 30 + 30 + 30 * 10 + 10
